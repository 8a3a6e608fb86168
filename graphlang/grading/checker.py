"""Grading homework: students' numbers or programs against a reference program.

Pure: no printing, no global state. Every problem in a submission becomes a failed item with a
message; nothing a student submits raises. Every quantity asked counts (by default the values,
adjoints and gradient of `graphlang check --template`); one left unanswered is a failed item, "no
answer". A reference that cannot be evaluated at the point is a usage error, raised before any
answer is looked at. Quantity names accepted in answers:

- `a` — the value of node `a` (inputs too);
- `g_a`, `dy/da` or `∂y/∂a` — the adjoint of `a` (y the output);
- `dy/dx` for an input `x` — the gradient, the same number as `g_x`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.grading import compare as cmps
from graphlang.grading import options as opts
from graphlang.grading import tangents
from graphlang.grading.answerform import malformed, well_formed
from graphlang.grading.compare import Comparison, compare, largest, roundoff_zeros, short, sign_turned
from graphlang.grading.ecf import carried_forward, rounded_forward, rounds, span, zero_read
from graphlang.grading.quantities import answered, canonical, default_quantities
from graphlang.grading.report import Item, Report
from graphlang.grading.rounding import Spans, typed_half
from graphlang.limits import Limits
from graphlang.numbers import quiet_floats
from graphlang.program import Program, parse
from graphlang.symbolic import adjoint


def as_program(ref: Program | str, limits: Limits) -> Program:
    return ref if isinstance(ref, Program) else parse(ref, limits=limits)


def close_to(got: Any, want: Any, rtol: float, atol: float) -> tuple[bool, str]:
    why = malformed(got, want)
    if why:
        return False, why
    g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return bool(np.all(np.isclose(g, w, rtol=rtol, atol=atol))), ""


def reference_at(reference: Program | str, at: Mapping[str, Any], limits: Limits | None = None
                 ) -> tuple[Program, Any, adjoint.Adjoints]:
    """The reference, its result at `at` and its adjoint expressions; a usage error (exit 2) if it
    cannot be evaluated there: the course's mistake, found before any student is graded."""
    if not isinstance(at, Mapping):
        raise GraphlangError("usage", f"the point must map input names to values, got {type(at).__name__}",
                             hint="e.g. at={'x': 2, 'z': 3}")
    try:
        prog = as_program(reference, limits or Limits())
    except GraphlangError as err:
        raise GraphlangError("usage", f"the reference program has an error: {err}",
                             hint="fix the reference before grading") from None
    try:
        result = prog.evaluate(at)
        _, shapes = prog.bind(at)
        return prog, result, adjoint.build(prog.graph, shapes)
    except GraphlangError as err:
        missing = [n for n in prog.inputs if n not in at]
        hint = (f"give {', '.join(missing)} with --at (or `at` in the assignment)" if missing
                else "choose a point inside the reference's domain")
        raise GraphlangError("usage", f"the reference program cannot be evaluated at the point: {err.message}",
                             hint=hint) from None


def refuse_adjoint_clash(prog: Program, scalar: bool) -> None:
    """A node named g_a beside a node a: an answer key `g_a` would mean either (a vector output has no
    adjoints to mean). Refused for the answers and for their template alike."""
    clash = next((n for n in prog.names if n.startswith("g_") and n[2:] in prog.graph.slot_of), None)
    if clash is not None and scalar:
        raise GraphlangError("usage", f"the reference names a node {clash!r}, which an answer key would also "
                             f"read as the adjoint of {clash[2:]!r}", hint="rename that node in the reference")


@quiet_floats()  # (a student's 1e308 beside -1e308: numpy warned on stderr, which nbgrader scores 0)
def grade_answers(reference: Program | str, answers: Mapping[str, Any], at: Mapping[str, Any], *,
                  points: float | Mapping[str, float] = 1.0, rtol: float = 1e-5, atol: float = 1e-8,
                  tolerances: Mapping[str, tuple[float, float]] | None = None, ecf: bool | float = True,
                  quantities: Sequence[str] | None = None, limits: Limits | None = None,
                  comparison: Comparison | None = None, comparisons: Mapping[str, Comparison] | None = None,
                  show_expected: bool = True) -> Report:
    """Grade numbers for intermediates, adjoints and the gradient at the point `at`.

    Every quantity in `quantities` (default: `default_quantities`) counts; an unanswered one fails.
    Numbers are compared by `comparison` (default relabs with `rtol`, `atol`), per quantity by
    `comparisons` (or `tolerances`: (rtol, atol) pairs). `show_expected=False` keeps the reference's
    values out of the report. The options and the reference are checked first (a usage error);
    after that nothing in `answers` raises."""
    points, rtol, atol, tolerances, quantities = opts.answers_options(
        points, rtol, atol, tolerances, ecf, quantities, limits, comparison, comparisons, show_expected)
    prog, result, adj = reference_at(reference, at, limits)
    report = Report(show_expected=show_expected)
    prefix = adj.prefix
    if not isinstance(answers, Mapping):  # (a student's file of another shape: graded, never raised)
        report.feedback.append(f"the answers are not names with numbers (got {type(answers).__name__}): "
                               "nothing was graded")
        answers = {}
    refuse_adjoint_clash(prog, result.adjoints is not None)
    given, twice, others, unknown = answered(answers, prog, prefix)
    missing = result.extra.get("no_adjoint", [])
    asked = quantities if quantities else default_quantities(prog, result.adjoints is not None, missing)
    wanted = dict.fromkeys(canonical(q, prog, prefix) or q for q in asked)  # (ordered, and O(1) `in`)
    asked_tangents = [q for q in wanted if tangents.tangent_key(q, prog)]  # forward mode's: after the values
    order = prog.names + asked_tangents + [prefix + n for n in
                                           [st.name for st in reversed(prog.graph.statements)] + prog.inputs]
    adjoints = result.adjoints or {}  # none for a vector output: then only values are graded
    reference_values = {**result.values, **{prefix + k: v for k, v in adjoints.items()},
                        **tangents.values(prog, at, asked_tangents)}
    _refuse_unknown([q for q in wanted if q not in reference_values], prog, prefix, missing, result.adjoints is None)
    if isinstance(points, Mapping):
        points = {canonical(k, prog, prefix) or k: v for k, v in points.items()}
    how = {canonical(k, prog, prefix) or k: Comparison("relabs", r, a) for k, (r, a) in (tolerances or {}).items()}
    how.update({canonical(k, prog, prefix) or k: c for k, c in (comparisons or {}).items()})
    default_how = comparison or Comparison("relabs", rtol, atol)
    env: dict[str, Any] = {k: np.asarray(v) for k, v in reference_values.items()}
    student: dict[str, Any] = {}
    # the inputs are given, not answered, and the seed g_y is 1 by definition: neither is carried
    # forward (a student's own x, z would credit every step solved at an easier point)
    fixed = set(prog.inputs) | {prefix + o for o in prog.outputs}
    # only the answers asked for: an unasked wrong value (a made-up `a`) would make a wrong answer
    # that follows from it "consistent", and an unasked right one is the reference's own value
    spans = Spans()  # of the answers right or credited: where the student's own unrounded value lies,
    by_rounding = Spans(spans.typed)  # from any earlier answers (error carried forward) or the right ones only
    for q in order:  # evaluation order: forward values, then adjoints backwards
        if q not in given or q not in wanted or q in fixed or q in twice:
            continue
        if well_formed(given[q], reference_values[q]):  # usable for error carried forward
            student[q] = np.asarray(given[q], dtype=np.float64)
            if (typed := typed_half(given[q], how.get(q, default_how))) is not None:
                spans.typed[q] = typed
    share = opts.ecf_credit(ecf)  # of a carried-forward step's points
    moved = prog.graph.reached_from(range(len(prog.inputs)))  # constants: public, in the program's text
    public = frozenset(fixed | {n for n in prog.names if not moved[prog.graph.slot_of[n]]})
    credited: set[str] = set()  # passed, or credited by error carried forward
    rounded: list[str] = []  # wrong only in their rounding
    right: set[str] = set()  # passed on their own

    def of(n: str) -> Comparison:
        return how.get(n, default_how)

    def keep(q: str, true: Any = None) -> None:  # (its span, worked out when a later step asks)
        spans[q] = partial(span, q, prog, adj, env, student, right, of, spans, true, every=True)
        by_rounding[q] = partial(span, q, prog, adj, env, student, right, of, by_rounding, true, every=False)
    # of the whole computation (values, adjoints): what a roundoff of 0 is small beside
    scale = largest(v for k, v in env.items() if k not in asked_tangents)
    if not show_expected:  # hidden: of what the student has, the inputs and their own right answers
        scale = largest([env[n] for n in prog.inputs] + [  # (a threshold a student can move leaks what it is)
            np.asarray(given[q], dtype=np.float64) for q in wanted if q in given  # their numbers, not ours
            and not malformed(given[q], reference_values[q])
            and compare(np.asarray(given[q], dtype=np.float64), reference_values[q], how.get(q, default_how))[0]])
    for q in [q for q in order if q in wanted]:
        pts = points.get(q, 1.0) if isinstance(points, Mapping) else float(points)
        item = Item(_label(q, prefix, prog), float(pts), expected=reference_values.get(q))
        report.items.append(item)
        if q not in given:
            item.message = "no answer"
            continue
        cmp = how.get(q, default_how)
        ok, verdict = _judged(given[q], reference_values[q], cmp, scale, show_expected)
        if q in twice and not (ok and all(_judged(v, reference_values[q], cmp, scale)[0] for v in others[q])):
            item.got, item.message = given[q], twice[q]  # (two right answers, 1208.38 and 1208.4, are one)
            continue
        item.got = given[q]
        why = malformed(given[q], reference_values[q])
        if ok:
            item.passed, item.score = True, item.max_score
            credited.add(q)
            if q not in student or rounds(q, prog, adj, env, student, right, of, by_rounding, env.get(q)):
                right.add(q)  # (else within the comparison but no rounding: an error to carry, if any)
            if q in student:
                keep(q, env.get(q))
            continue
        item.message = verdict + tangents.local_slip(q, prog, env, given[q], cmp)
        # too few figures: no rounding's credit, the same fault refused elsewhere (a red team's find)
        short_of = cmp.kind in ("sigfig", "decdig") and cmps.too_few_figures(given[q], cmp, as_typed=True)

        def carried(by: set[str], q: str = q, cmp: Comparison = cmp, short_of: bool = short_of) -> bool:
            return carried_forward(q, prog, adj, env, student, given[q], cmp, by, scale, right,
                                   hidden=not show_expected, fixed=public, cmp_of=of, spans=spans, short=short_of)
        if not why and not short_of and q in student and rounded_forward(q, prog, adj, env, student, given[q], cmp,
                                                                         right, of, scale, by_rounding):
            item.passed, item.score = True, item.max_score  # (rounding is no error: whatever `ecf` says)
            credited.add(q)
            if rounds(q, prog, adj, env, student, right, of, by_rounding):
                right.add(q)
            keep(q)
            item.message = "right from your own rounded earlier answers"
            continue
        if share and not why and carried(credited):
            item.passed, item.score, item.ecf = share == 1.0, item.max_score * share, True
            credited.add(q)
            keep(q)
            item.message = "consistent with your earlier answers (error carried forward)" + (
                "" if share == 1.0 else f": {share:g} of its points")
            continue
        if short_of and "expected" not in item.message:  # (why it got no credit from the earlier answers)
            item.message += f" ({cmp.expects()} expected{cmp.why()})"
        zero = zero_read(q, prog, adj, env, student, credited, scale, not show_expected) if share and not why else None
        if zero is not None and carried(credited | {zero}):  # (the 0 alone refused it)
            item.message += (f" (it reads your {zero} = 0, which is wrong: a wrong 0 is never carried forward, "
                             "since every step computed from zeros would agree)")
        if show_expected and not why:  # (as a program's feedback says it: shown when the course shows it)
            item.message += f"; the reference's value is {short(reference_values[q])}"
        if item.message.startswith("close:") and _only_rounded(given[q], reference_values[q]):  # rounded too far
            rounded.append(item.name)  # (3 figures or so: not the step to check first; -10 for -12.36 is)
        elif report.root_cause is None:
            report.root_cause = item.name
    report.root_cause = report.root_cause or (rounded[0] if rounded else None)
    report.feedback.extend(tangents.pass_hints(prog, given, reference_values, wanted, default_how))
    labels = [_label(q, prefix, prog) for q in order if q in wanted and q not in given]  # (still unanswered)
    report.feedback += _ignored(answers, unknown, [q for q in given if q not in wanted], labels, prog, prefix,
                                result.adjoints is None)
    report.feedback.extend(tangents.mode_hint(prog, given, wanted, prefix))
    _closing_feedback(report, rounded, {_label(prefix + x, prefix, prog) for x in prog.inputs})
    return report


def _refuse_unknown(unknown: list[str], prog: Program, prefix: str, missing: list[str], vector: bool) -> None:
    """A usage error for the first quantity asked that the reference has no value for."""
    for q in unknown:
        if q.startswith(prefix) and q[len(prefix):] in missing:
            raise GraphlangError("usage", f"the assignment asks for {q!r}, an adjoint with no finite value at "
                                 "this point (e.g. the derivative with respect to a constant exponent "
                                 "of a base ≤ 0)", hint="leave it out of `ask`, or grade at another point")
        adjoint = vector and q.startswith(prefix) and q[len(prefix):] in prog.graph.slot_of
        raise GraphlangError("usage", f"the assignment asks for {q!r}, " + (
            "an adjoint, but adjoints and gradients are defined for a scalar output only" if adjoint
            else "which is no node, adjoint or tangent of the reference program (a tangent: `da/dx`, a "
                 "node a that is not the output by an input x)"))


def _ignored(answers: Mapping[str, Any], unknown: list[str], unasked: list[str], labels: list[str],
             prog: Program, prefix: str, vector: bool) -> list[str]:
    """A note per key ignored (naming nothing, or not asked), at most IGNORED_SHOWN, then how many more
    (60,000 unknown keys made a 3.7 MB results.json)."""
    notes = [f"ignored {_key(key)}: it names no node or adjoint of the program" + _near(key, answers.get(key), labels)
             for key in unknown[:IGNORED_SHOWN]]
    for q in unasked[:IGNORED_SHOWN - len(notes)]:
        why = "not asked in this assignment"
        if q in prog.graph.input_set:
            why = "an input: its value is given by the assignment, not answered"
        if vector and q.startswith(prefix):
            why = ("adjoints and gradients are defined for a scalar output; this program's output "
                   "is not one (answer its values)")
        notes.append(f"ignored {_key(_label(q, prefix, prog))}: {why}")
    more = len(unknown) + len(unasked) - len(notes)
    return notes + ([f"... and {more:,} more keys ignored"] if more > 0 else [])


def _closing_feedback(report: Report, rounded: list[str], unread: set[str]) -> None:
    """What the report says last: answers written as strings, several rounded too far, the first
    wrong step (one of the `unread`, the gradient's, is read by no later step), and error carried forward."""
    strings = [i.name for i in report.items if "(a string" in i.message]
    wrong = [i for i in report.items if not i.passed and i.message != "no answer"]
    if strings:
        report.feedback.append(f"{len(strings)} answer(s) are strings, not numbers ({', '.join(strings[:3])}"
                               f"{', ...' * (len(strings) > 3)}): write numbers without quotes or words.")
    if len(rounded) > 1 and not strings:  # (a student's 4 figures: six "close", and b named the first wrong step)
        report.feedback.append(f"{len(rounded)} answers are right but rounded to fewer figures than asked "
                               f"({', '.join(rounded[:4])}{', ...' * (len(rounded) > 4)}): give more digits.")
    if strings or report.root_cause is None or report.root_cause in rounded:
        pass  # (said above, or nothing wrong but rounding)
    elif len(wrong) - len(rounded) == 1:
        report.feedback.append(f"One step is wrong: {report.root_cause}.")
    elif report.root_cause in unread:  # (the gradient: no step is computed from it, a TA's find)
        report.feedback.append(f"The first wrong step is {report.root_cause}; no later step is computed from "
                               "it: check each wrong one.")
    else:  # (a later step not computed from it is wrong on its own: "may", not "are")
        report.feedback.append(f"The first wrong step is {report.root_cause}: check it first; later steps "
                               "computed from it may be wrong only because of it.")
    if any(i.ecf for i in report.items):
        report.feedback.append("Some answers were credited because they follow correctly from your own "
                               "earlier (wrong) values (error carried forward).")


def _only_rounded(got: Any, want: Any) -> bool:
    """Within 0.5 % of the reference: a number only rounded (0.6931 for 0.693147), where a
    comparison's "close" also takes 1 figure (-10 for -12.36: a review's find, a wrong step)."""
    try:
        g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        return g.shape == w.shape and bool(np.all(np.abs(g - w) <= 5e-3 * np.abs(w)))
    except (TypeError, ValueError):
        return False


def _judged(got: Any, want: Any, cmp: Comparison, scale: float, reveal: bool = True) -> tuple[bool, str]:
    """(right, why not) for one answer: well formed, equal under the comparison (a roundoff of 0 and
    a 0 alike), and not of the wrong sign; `reveal` false: no word that depends on hidden values."""
    why = malformed(got, want)
    if why:
        return False, why
    ok, verdict = compare(*roundoff_zeros(got, want, scale), cmp, reveal, written=got)
    if ok and sign_turned(got, want, scale) or reveal and not ok and np.all(np.asarray(want) != 0) and \
            compare(-np.asarray(got, dtype=np.float64), want, cmp)[0]:  # g_u = 0.622 for -0.622
        return False, "incorrect: the sign is wrong" if reveal else "incorrect"
    w = np.asarray(want)
    if reveal and not ok and w.ndim == 2 and w.shape[0] == w.shape[1] and not np.allclose(w, w.T) and \
            compare(np.asarray(got, dtype=np.float64).T, want, cmp)[0]:  # (square: no shape to tell it)
        return False, ("incorrect: it is the transpose of the value (a matrix written transposed; a derivative "
                       "is laid out as the variable it is taken by: the lecture's denominator layout)")
    return ok, verdict


def _near(key: str, value: Any, unanswered: list[str]) -> str:
    """What an ignored key probably meant: a section of answers (`"values": {...}`), or an unanswered
    quantity's name typed another way (`dy/dX`, `dydx` for dy/dx)."""
    if isinstance(value, Mapping):
        return "; write each answer at the top level of the object, not grouped under a name"
    squeeze = {q.replace("/", "").replace("_", "").lower(): q for q in unanswered}
    near = squeeze.get(key.replace("/", "").replace("_", "").lower()) or next(
        iter(difflib.get_close_matches(key, unanswered, n=1, cutoff=0.8)), None)
    return f"; did you mean {near!r}?" if near else ""


IGNORED_SHOWN = 10  # keys an answers file's feedback names as ignored (then how many more)


def _key(key: str) -> str:
    """A key as feedback quotes it: at most 60 characters (a 500,000-character key was echoed whole)."""
    return repr(key) if len(key) <= 60 else repr(key[:60]) + f"… ({len(key):,} characters)"


def _label(q: str, prefix: str, prog: Program) -> str:
    if q.startswith(prefix) and q[len(prefix):] in prog.graph.slot_of:
        name = q[len(prefix):]
        out = prog.outputs[0]
        return f"d{out}/d{name}" if name in prog.graph.input_set else f"g_{name}"
    return q
