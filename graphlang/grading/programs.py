"""Grading a student's `.cg` program: same output and gradient as the reference at seeded points."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphlang.engines import exact
from graphlang.errors import GraphlangError, located
from graphlang.grading import options as opts
from graphlang.grading.arbiter import only_float64
from graphlang.grading.checker import as_program, close_to, reference_at
from graphlang.grading.compare import short
from graphlang.grading.inputs_check import inputs_item
from graphlang.grading.outputs import debug_line, reordered
from graphlang.grading.points import ALONE_MOST, at_kink, cancels, is_label, sampled, unused_inputs, values_at
from graphlang.grading.report import Item, Report
from graphlang.language.source import decode_source
from graphlang.limits import Limits
from graphlang.numbers import quiet_floats
from graphlang.program import Program, parse

ARBITER_WORK = 150_000  # decimal numbers (weighted: a power is 6) the arbiter makes for one submission


@quiet_floats()  # (a student's 1e308 beside -1e308: numpy warned on stderr, which nbgrader scores 0)
@exact.budget(ARBITER_WORK)  # (the decimal arbiter's work for the whole submission, not per call: bounded)
def grade_program(reference: Program | str, submission: str | bytes, at: Mapping[str, Any], *,
                  n_points: int = opts.CHECK_POINTS, seed: int = 0, rtol: float = 1e-6, atol: float = 1e-9,
                  required: Sequence[str] = (), points: float = 1.0, limits: Limits | None = None,
                  show_expected: bool = True, max_score: float | None = None, same_signs: bool = False,
                  weights: Mapping[str, float] | None = None, fixed: Sequence[str] = ()) -> Report:
    """Same output and gradient (or Jacobian) as the reference at seeded points (see
    `sample_points`); intermediate names may differ. Gradients are not compared where the
    submission sits on a kink (relu, abs, max, min), whose derivative is a convention. When the
    submission's last line is not the reference's output but it defines a node of the output's
    name, that node is graded (and the feedback says so). Every submission has the same items, so
    the same maximum; `max_score` scales the items to add up to it (an assignment's one maximum);
    `show_expected=False` keeps the reference's values out of the messages; `same_signs=True` keeps
    every input's sign at the checked points (an assignment meant for x > 0: ln(x) + ln(z) for
    ln(x z) is then right; by default a submission must be right wherever the reference is defined).
    `weights` (parses, inputs, defines, value, derivatives) multiply the points of each kind of check:
    `{"parses": 0, "inputs": 0}` gives a wrong program that parses nothing. `fixed`: inputs that
    are labels (data): at each point 0 or 1, or a one-hot vector, as given (`label_like`), and no
    derivative by them is graded.

    The options and the reference are checked first (a usage error); then nothing in `submission` raises
    but the reference's own fault (a submission past the limits, a copy of the reference past them too)."""
    n_points, seed, rtol, atol, required, points = opts.program_options(
        n_points, seed, rtol, atol, required, points, limits, show_expected, max_score, same_signs)
    try:
        ref = as_program(reference, Limits())
    except GraphlangError as err:
        raise GraphlangError("usage", f"the reference program has an error: {err}") from None
    reference_at(ref, at)  # a usage error when the reference cannot be evaluated at the point
    opts.of_reference("fixed", opts.names("fixed", fixed), ref.inputs, ref.names)
    opts.of_reference("required", required, ref.inputs, ref.names)
    fixed = [n for n in fixed if is_label(at[n])]  # (PrairieLearn keeps any `fixed` value; a check moves it)
    wrt = [n for n in ref.inputs if n not in fixed]
    weight = opts.check_weights(weights, required, bool(wrt))
    # n points to compare at, and as many spares for points where the submission's float64 fails
    # no inputs: one point is all there is; many: each turned negative alone needs its point, up to
    # ALONE_MOST inputs (unless fewer points than the default are asked for: a quick check)
    n_points = (max(n_points, min(2 * len(ref.inputs) + 1, MOST_POINTS)) if n_points >= opts.CHECK_POINTS
                else n_points) if ref.inputs else 1
    pts = sampled(ref, at, 2 * n_points, seed, same_signs=same_signs, rtol=rtol, labels=fixed)
    report = _grade(ref, pts, n_points, submission, rtol, atol, required, points,
                    limits or Limits.strict(), show_expected, wrt)
    report.show_expected = show_expected
    report = _weighted(report, weight)
    return report.scaled(max_score) if max_score is not None else report


def reference_runs(ref: Program | str, at: Mapping[str, Any], limits: Limits) -> None:
    """A usage error unless a copy of the reference runs under the limits submissions are held to
    (else it scored 0, its run past them: a reviewer's find). Their limits on the text (statements,
    nesting) are not asked of it: a student may write it shorter. Asked once by an assignment and a
    batch; by `grade_program` only of a submission past the limits (not a parse and a run of the
    reference for every submission)."""
    try:
        copy = as_program(ref.source if isinstance(ref, Program) else ref, limits)
    except GraphlangError:
        return
    try:
        copy.evaluate(at)
    except GraphlangError as err:
        if err.kind == "limit":
            raise GraphlangError("usage", "the reference program is past the limits submissions are held to: "
                                 f"{err.message}", hint="make the reference smaller, or raise the limits with --limit "
                                 "(an assignment's programs are held to the strict ones; submit = \"answers\" grades "
                                 "none)") from None


# past ALONE_MOST inputs, not a point per input turned alone (500 inputs made 1,001 points, and a right
# program ran past the time limit): the far points then turn each input's sign at random (`points._candidate`)
MOST_POINTS = 2 * ALONE_MOST + 1
LONG_POINT = 100  # characters of a point's values past which items name it ("at check point 1") instead


def _weighted(report: Report, weight: Mapping[str, float]) -> Report:
    """Each check's points times its kind's weight; a check weighted 0 is left out (it neither
    fails a submission nor is its first disagreement)."""
    for item in report.items:
        w = weight.get(item.kind, 1.0)
        item.score, item.max_score = item.score * w, item.max_score * w
    unweighed = [i.name for i in report.items if weight.get(i.kind, 1.0) == 0]
    if not unweighed:
        return report
    report.items = [i for i in report.items if i.name not in unweighed]
    first = next((i for i in report.items if not i.passed), None)
    if report.root_cause in unweighed and not (first and first.message.startswith("not graded")):
        # (the rest not graded because of it, a syntax error: it stays the reason the table gives)
        old, new = report.root_cause, first.name if first else None
        report.root_cause = new
        passed = f"Every graded check passed ({', '.join(unweighed)}: not graded by this assignment)."
        report.feedback = [line if not line.startswith(f"First disagreement: {old} ") else
                           line.replace(old, new, 1) if new else passed for line in report.feedback]
    return report


def _grade(ref: Program, pts: list[tuple[dict[str, np.ndarray], bool]], n: int, submission: str | bytes,
           rtol: float, atol: float, required: list[str], points: float, limits: Limits,
           show_expected: bool, wrt: list[str]) -> Report:
    report = Report()
    parsed = Item("program parses and checks", points, kind="parses")
    report.items.append(parsed)
    try:
        if isinstance(submission, (bytes, bytearray)):  # a file's bytes, as a batch or the CLI reads them
            submission = decode_source(bytes(submission), limits, "the submission")
        if not isinstance(submission, str):
            raise GraphlangError("value", "the submission is not text")
        stud = parse(submission, limits=limits)
    except GraphlangError as err:
        parsed.message = str(err)
        report.root_cause = parsed.name
        report.items += [Item(n, points, message="not graded: the program does not parse", kind=kind)
                         for n, kind in [("inputs", "inputs"), *_names(ref, required, wrt)]]
        where = located(err, "your program", submission if isinstance(submission, str) else None)
        report.feedback.append(where.text().rstrip())  # "your program:1:14: syntax error: …", its line, a caret
        if isinstance(submission, str) and submission.lstrip().startswith("{"):  # answers in a .cg file
            report.feedback.append(opts.LOOKS_LIKE["program"][0])
        return report
    parsed.passed, parsed.score = True, points
    again, note = reordered(ref, stud)
    if note:  # the reference's outputs named in another order: graded by name, in its order
        report.feedback.append(note)
        return _grade_parsed(report, ref, pts, n, again, rtol, atol, required, points, show_expected, wrt)
    again, note = debug_line(ref, stud, submission, limits)
    if note:  # a debug line after y, or `y = x * z` an intermediate: y graded only where that passes
        by_name = _grade_parsed(copy.deepcopy(report), ref, pts, n, again, rtol, atol, required, points,
                                show_expected, wrt)
        if all(i.passed for i in by_name.items if i.kind != "inputs"):  # (an unread extra input aside)
            by_name.feedback.insert(len(report.feedback), note)
            return by_name
    graded = _grade_parsed(report, ref, pts, n, stud, rtol, atol, required, points, show_expected, wrt)
    defined = all(n in stud.graph.slot_of and n not in stud.graph.input_set
                  for n in ref.outputs)  # (a y to name; `loss`: none)
    if not note and defined and stud.outputs != ref.outputs and \
            not all(i.passed for i in graded.items if i.kind == "value"):
        theirs, wanted = ", ".join(stud.outputs), ", ".join(ref.outputs)  # (`dbg = a * 2` after y)
        how = "" if stud.checked.output_pos else " (its last assigned name)"
        graded.feedback.append(f"Graded {theirs}, your program's output{how}, against the reference's "
                               f"{wanted}: if {wanted} is your answer, end with it or write `output {wanted}`.")
    return graded


def _grade_parsed(report: Report, ref: Program, pts: list[tuple[dict[str, np.ndarray], bool]], n: int,
                  stud: Program, rtol: float, atol: float, required: list[str], points: float,
                  show_expected: bool, wrt: list[str]) -> Report:
    """The items after "program parses and checks": inputs, required names, value, derivatives,
    compared at `n` of the points `pts` (the given point first, each with whether it is far from
    the given magnitudes). At a far point, where the submission fails in float64 (overflows, or
    ln(0) after a sigmoid saturated) or cancels away its digits (`cancels`) and the reference does
    not, the point is skipped for the next: a right formula that is not numerically stable there
    (1/(1 + exp(-u)) at u = -800). Never at the given magnitudes, where each input (of the first
    ALONE_MOST) is turned negative alone: a skip there would let a junk line that fails only for z < 0
    hide abs(z)."""
    inputs, extra = inputs_item(ref, stud, points, pts[0][0] if pts else {})
    report.items.append(inputs)
    for name in required:
        ok = name in stud.graph.slot_of
        report.items.append(Item(f"defines {name}", points, points if ok else 0.0, ok,
                                 "" if ok else f"the program does not define {name!r}", kind="defines"))
    value = Item("output value", points, kind="value")
    grads = {n: Item(_derivative_label(ref, n), points, kind="derivatives") for n in wrt}
    report.items += [value, *grads.values()]
    unused = unused_inputs(stud, extra) if extra else None
    if unused is not None:  # `input x, w, z` with z read by nothing: the rest graded, z given any value
        inputs.message = (f"unexpected input(s) {', '.join(extra)}, read by nothing: delete the declaration "
                          "(the rest is graded)")
    elif not inputs.passed:
        for it in [value, *grads.values()]:
            it.message = "not graded: the inputs differ from the reference's"
        report.root_cause = inputs.name
        report.feedback.append(f"First disagreement: inputs ({inputs.message}).")
        return report
    first_bad: str | None = inputs.name if unused is not None else None
    smooth = 0  # points where the gradients were compared
    kinks: list[str] = []
    skipped: list[str] = []  # points where the submission's float64 fails but the reference's does not
    compared = 0
    what = ""  # gradient or Jacobian, as the reference has
    named: dict[str, str] = {}  # a long point's label -> its values, said once below the items
    for k, (p, far) in enumerate(pts):
        if compared == n:
            break
        where = ", ".join(f"{name}={short(v)}" for name, v in p.items()) or "the program (no inputs)"
        if len(where) > LONG_POINT:  # (six tensors written out in every failed item: a TA's find)
            named[f"check point {k + 1}"], where = where, f"check point {k + 1}"
        want = ref.evaluate(p)
        try:
            sp = {**p, **unused} if unused else p  # (the submission's point)
            got = stud.evaluate(sp)
            vals = values_at(stud, sp)
            stud_kink = vals is not None and at_kink(stud, sp, vals)
            if far and vals is not None and cancels(stud, sp, rtol, vals) and \
                    only_float64(stud, sp, want.value, got.value, rtol, atol, False, want.gradient, wrt):
                skipped.append(where)
                continue
        except GraphlangError as err:
            if err.kind == "limit" and _runs_past_limits(stud, sp):
                reference_runs(ref, p, stud.limits)  # (the assignment's error if a copy of it fails too)
                return _past_limits(report, err)
            if far and err.kind == "domain" and only_float64(stud, sp, want.value, None, rtol, atol, True,
                                                             want.gradient, wrt):
                skipped.append(where)
                continue
            for it in [value, *grads.values()]:
                it.message = it.message or f"at {where}: {str(err)}"
            first_bad = first_bad or value.name
            break
        compared += 1
        what = what or ("gradient" if want.gradient is not None else "Jacobian")
        shapes_got, shapes_want = _output_shapes(stud, got), _output_shapes(ref, want)
        joined = len(shapes_got) != len(shapes_want) and _size(shapes_got) == _size(shapes_want)
        if joined and compared == 1:  # `y = [y1, y2]` for `output y1, y2`: the same numbers, flattened and joined
            report.feedback.append(f"Your output is {_describe(shapes_got)}, the reference's "
                                   f"{_describe(shapes_want)}: compared element by element (several outputs are "
                                   "flattened and joined, the language's rule).")
        if shapes_got != shapes_want and not joined:
            value.message = (f"the output is {_describe(shapes_got)}; the reference's is "
                             f"{_describe(shapes_want)}")
            for it in grads.values():
                it.message = it.message or "not graded: the output differs in shape from the reference's"
            first_bad = first_bad or value.name
            break
        gv, wv = (np.ravel(got.value), np.ravel(want.value)) if joined else (got.value, want.value)  # (flattened)
        if not close_to(gv, wv, rtol, atol)[0] and not value.message:
            value.message = f"at {where}: {short(got.value)}, " + _expected(want.value, show_expected)
            first_bad = first_bad or value.name
        if stud_kink:  # the submission's derivative is a convention here: compare elsewhere
            kinks.append(where)
            continue
        smooth += 1
        have = got.gradient if got.gradient is not None else got.jacobian or {}
        need = want.gradient if want.gradient is not None else want.jacobian or {}
        for name, it in grads.items():
            if not close_to(have[name], need[name], rtol, atol)[0] and not it.message:
                it.message = f"at {where}: {short(have[name])}, " + _expected(need[name], show_expected)
                first_bad = first_bad or it.name
    if kinks and not smooth and not first_bad:
        for it in grads.values():
            it.message = it.message or (f"not compared: at every point ({kinks[0]}, ...) the submission "
                                        "sits on a kink of relu, abs, max or min")
        first_bad = next(iter(grads.values())).name if grads else None
    if not first_bad and compared < min(n, len(pts)) and compared <= n // 2:  # most points skipped
        value.message = (f"compared at {compared} point(s) only: at the others ({skipped[0]}, ...) your "
                         "program overflows float64 or cancels away its digits where the reference does not")
        first_bad = value.name
    for it in [value, *grads.values()]:
        it.passed = not it.message
        it.score = points if it.passed else 0.0
    report.root_cause = first_bad
    at = (f"at {compared} point{'s' * (compared != 1)}" if compared else "at the first point") if ref.inputs \
        else "at its one point: the program has no inputs"
    if first_bad:
        report.feedback.append(f"First disagreement: {first_bad} (checked {at}).")
    elif ref.inputs:
        both = any(any(np.any(p[n] < 0) for p, _ in pts) and any(np.any(p[n] > 0) for p, _ in pts)
                   for n in ref.inputs)  # (same_signs keeps each input's: the words must not say both)
        signs = "of both signs" if both else "each input keeping its sign"
        report.feedback.append(f"Same value and {what} as the reference {at} "
                               f"({signs} and several magnitudes, inside the reference's domain).")
    else:
        report.feedback.append(f"Same value as the reference ({at}).")
    if skipped:
        report.feedback.append(
            f"Not compared at {len(skipped)} point(s) where your program overflows float64 or loses "
            f"its digits to cancellation and the reference does not ({skipped[0]}): the formula may be "
            "right but unstable there; sigmoid, softplus or logsumexp are the stable forms.")
    said = " ".join([*(it.message for it in [value, *grads.values()]), *report.feedback])  # (a long point, once)
    report.feedback += [f"{label}: {values}" for label, values in named.items() if re.search(rf"{label}\b", said)]
    return report


def _runs_past_limits(stud: Program, at: Mapping[str, Any]) -> bool:
    """Whether the program's own run is past the limits, not only the derivatives grading asks of it
    (a vector output's Jacobian of 20,000 × 20,000, for a scalar reference: a wrong output, graded as one)."""
    try:
        stud.forward(at)
    except GraphlangError as err:
        return err.kind == "limit"
    return False


def _past_limits(report: Report, err: GraphlangError) -> Report:
    """A program past the assignment's limits when run earns nothing, as one past them when parsed or
    past its time or memory does (a TA's hostile submissions earned their parses and inputs checks)."""
    for it in report.items:
        it.passed, it.score = False, 0.0
        it.message = str(err) if it.kind == "parses" else "not graded: the program is past the assignment's limits"
    report.root_cause = report.items[0].name
    report.feedback.append(f"Your program parses, but running it is past the assignment's limits: {err.message}.")
    return report


def _expected(want: Any, show: bool) -> str:
    return f"expected {short(want)}" if show else "not the reference's value"


def _derivative_label(ref: Program, name: str) -> str:
    outs = ref.outputs
    return f"d{outs[0]}/d{name}" if len(outs) == 1 else f"d({', '.join(outs)})/d{name}"


def _output_shapes(prog: Program, result: Any) -> list[tuple[int, ...]]:
    return [tuple(np.shape(result.values[o])) for o in prog.outputs]


def _size(shapes: list[tuple[int, ...]]) -> int:
    return sum(int(np.prod(s)) for s in shapes)


def _describe(shapes: list[tuple[int, ...]]) -> str:
    each = ["a scalar" if s == () else f"shape {list(s)}" for s in shapes]
    return each[0] if len(each) == 1 else f"{len(each)} outputs ({', '.join(each)})"


def _names(ref: Program, required: Sequence[str], wrt: list[str]) -> list[tuple[str, str]]:
    """The checks after "inputs": (name, kind)."""
    return [(f"defines {n}", "defines") for n in required] + [("output value", "value")] + \
        [(_derivative_label(ref, n), "derivatives") for n in wrt]

