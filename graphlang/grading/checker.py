"""Grading homework: students' numbers or programs against a reference program.

Pure: no printing, no global state. Every problem in a submission becomes a failed item with a
message; nothing a student submits raises. Quantity names accepted in answers:

- `a` — the value of node `a` (inputs too);
- `g_a`, `dy/da` or `∂y/∂a` — the adjoint of `a` (y the output);
- `dy/dx` for an input `x` — the gradient, the same number as `g_x`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.grading import options as opts
from graphlang.ir.bind import _not_a_number
from graphlang.limits import Limits
from graphlang.numbers import plain, quiet_floats
from graphlang.program import Program, parse
from graphlang.symbolic import adjoint
from graphlang.symbolic.printing import value_of


@dataclass
class Item:
    """One graded quantity."""

    name: str
    max_score: float
    score: float = 0.0
    passed: bool = False
    message: str = ""
    expected: Any = None
    got: Any = None
    ecf: bool = False  # credited by error carried forward

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "score": self.score, "max_score": self.max_score,
                "passed": self.passed, "message": self.message, "ecf": self.ecf,
                "expected": _plain(self.expected), "got": _plain(self.got)}


@dataclass
class Report:
    """The result of grading one submission."""

    items: list[Item] = field(default_factory=list)
    root_cause: str | None = None
    feedback: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return float(min(max(sum(i.score for i in self.items), 0.0), self.max_score))

    @property
    def max_score(self) -> float:
        return float(sum(i.max_score for i in self.items))

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(i.passed for i in self.items)

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "max_score": self.max_score, "passed": self.passed,
                "root_cause": self.root_cause, "feedback": list(self.feedback),
                "items": [i.to_json() for i in self.items]}

    def as_text(self) -> str:
        lines = [f"score {self.score:g} / {self.max_score:g}"]
        for i in self.items:
            mark = "PASS" if i.passed else "FAIL"
            lines.append(f"  {mark} {i.name} ({i.score:g}/{i.max_score:g})" + (f": {i.message}" if i.message else ""))
        lines += self.feedback
        return "\n".join(lines)

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's results.json: score, tests[] (name, score, max_score, status, output)."""
        return {"score": self.score, "max_score": self.max_score, "output": "\n".join(self.feedback),
                "visibility": "visible", "stdout_visibility": "hidden",
                "tests": [{"name": i.name, "score": i.score, "max_score": i.max_score,
                           "status": "passed" if i.passed else "failed", "output": i.message,
                           "visibility": "visible"} for i in self.items]}

    def __rich__(self) -> Any:
        from graphlang.present.tables import checker_report
        return checker_report(self)

    def _repr_html_(self) -> str:
        from graphlang.present.notebook import report_html
        return report_html(self)


def _plain(v: Any) -> Any:
    if v is None:
        return None
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return repr(v)[:100]  # what the student wrote, shown as text
    if not np.all(np.isfinite(a)):
        return None
    return plain(a)


def _as_program(ref: Program | str, limits: Limits) -> Program:
    return ref if isinstance(ref, Program) else parse(ref, limits=limits)


_ADJ = re.compile(r"^(?:g_|d(?P<out>\w+)/d|∂(?P<out2>\w+)/∂)(?P<name>\w+)$")


def canonical(key: str, program: Program, prefix: str) -> str | None:
    """An answer's key as `a` (a value) or `g_a` (an adjoint); None if it names nothing."""
    key = key.strip()
    names = set(program.names)
    if key in names:
        return key
    m = _ADJ.match(key)
    if m:
        out = m.group("out") or m.group("out2")
        if (out is None or out in program.outputs) and m.group("name") in names:
            return prefix + m.group("name")
    return None


def _numbers(got: Any) -> np.ndarray | None:
    """An answer as float64 numbers; None for text ("4"), booleans, or anything else."""
    if _not_a_number(got) is not None:
        return None
    try:
        with np.errstate(over="ignore"):
            return np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # ragged lists; integers past float64's range
        return None


def _well_formed(got: Any, want: Any) -> bool:
    g = _numbers(got)
    return g is not None and g.shape == np.shape(want) and bool(np.all(np.isfinite(g)))


def _close(got: Any, want: Any, rtol: float, atol: float) -> tuple[bool, str]:
    g = _numbers(got)
    if g is None:
        return False, "not a number or a list of numbers"
    w = np.asarray(want, dtype=np.float64)
    if g.shape != w.shape:
        return False, f"shape {list(g.shape)} but expected {list(w.shape)}"
    if not np.all(np.isfinite(g)):
        return False, "not a finite number"
    return bool(np.all(np.isclose(g, w, rtol=rtol, atol=atol))), ""


def grade_answers(reference: Program | str, answers: Mapping[str, Any], at: Mapping[str, Any], *,
                  points: float | Mapping[str, float] = 1.0, rtol: float = 1e-5, atol: float = 1e-8,
                  tolerances: Mapping[str, tuple[float, float]] | None = None, ecf: bool = True,
                  quantities: Sequence[str] | None = None, limits: Limits | None = None) -> Report:
    """Grade numbers for intermediates, adjoints and the gradient at the point `at`.

    The options are checked first (a usage error); after that nothing in `answers` raises."""
    points, rtol, atol, tolerances, quantities = opts.answers_options(
        points, rtol, atol, tolerances, ecf, quantities, limits)
    report = Report()
    try:
        prog = _as_program(reference, limits or Limits())
        result = prog.evaluate(at)
        arrays, shapes = prog.bind(at)
        adj = adjoint.build(prog.graph, shapes)
    except GraphlangError as err:
        report.items.append(Item("reference", 0.0, message=f"the reference program fails: {err}"))
        return report
    prefix = adj.prefix
    if not isinstance(answers, Mapping):
        answers = {}
    given: dict[str, Any] = {}
    unknown = []
    for key, value in answers.items():
        canon = canonical(str(key), prog, prefix)
        if canon is None:
            unknown.append(str(key))
        else:
            given[canon] = value
    order = prog.names + [prefix + n for n in
                          [st.name for st in reversed(prog.graph.statements)] + prog.inputs]
    wanted = [canonical(q, prog, prefix) or q for q in quantities] if quantities else \
        [q for q in order if q in given]
    if not wanted:
        report.items.append(Item("answers", 1.0, message="no answers for any quantity of the program"))
        return report
    if isinstance(points, Mapping):
        points = {canonical(k, prog, prefix) or k: v for k, v in points.items()}
    tolerances = {canonical(k, prog, prefix) or k: v for k, v in (tolerances or {}).items()}
    adjoints = result.adjoints or {}  # none for a vector output: then only values are graded
    reference_values = {**result.values, **{prefix + k: v for k, v in adjoints.items()}}
    env: dict[str, Any] = {k: np.asarray(v) for k, v in reference_values.items()}
    student: dict[str, Any] = {}
    for q in order:  # evaluation order: forward values, then adjoints backwards
        if q not in given or q not in reference_values:
            continue
        if _well_formed(given[q], reference_values[q]):  # usable for error carried forward
            student[q] = np.asarray(given[q], dtype=np.float64)
    for q in [q for q in order if q in wanted] + [q for q in wanted if q not in order]:
        pts = points.get(q, 1.0) if isinstance(points, Mapping) else float(points)
        item = Item(_label(q, prefix, prog), float(pts), expected=reference_values.get(q))
        report.items.append(item)
        if q not in reference_values:
            item.message = f"{q!r} is not a quantity of this program"
            if result.adjoints is None and q.startswith(prefix) and q[len(prefix):] in prog.names:
                item.message = ("adjoints and gradients are defined for a scalar output; this "
                                "program's output is not one (answer its values)")
            continue
        if q not in given:
            item.message = "no answer"
            continue
        r_tol, a_tol = tolerances.get(q, (rtol, atol))
        item.got = given[q]
        ok, why = _close(given[q], reference_values[q], r_tol, a_tol)
        if ok:
            item.passed, item.score = True, item.max_score
            continue
        item.message = why or "incorrect"
        if ecf and not why:
            carried = _carried(q, prog, adj, env, student)
            if carried is not None and _close(given[q], carried, r_tol, a_tol)[0]:
                item.passed, item.score, item.ecf = True, item.max_score, True
                item.message = "consistent with your earlier answers (error carried forward)"
                continue
        if report.root_cause is None:
            report.root_cause = item.name
    for key in unknown:
        report.feedback.append(f"ignored {key!r}: it names no node or adjoint of the program")
    if report.root_cause:
        report.feedback.append(f"The first wrong step is {report.root_cause}: check it first; later "
                               "steps may only be wrong because of it.")
    if any(i.ecf for i in report.items):
        report.feedback.append("Some answers were credited because they follow correctly from your own "
                               "earlier (wrong) values (error carried forward).")
    return report


def _label(q: str, prefix: str, prog: Program) -> str:
    if q.startswith(prefix) and q[len(prefix):] in prog.names:
        name = q[len(prefix):]
        out = prog.outputs[0]
        return f"d{out}/d{name}" if name in prog.inputs else f"g_{name}"
    return q


def _carried(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any],
             student: dict[str, Any]) -> Any:
    """The quantity recomputed from the student's own earlier values (None if it cannot be)."""
    mixed = {**env, **student}
    mixed.pop(q, None)
    mixed[q] = env[q]
    try:
        if q.startswith(adj.prefix) and q[len(adj.prefix):] in prog.names:
            name = q[len(adj.prefix):]
            terms = adj.terms.get(name, [])
            if not terms:
                return None
            with quiet_floats():
                return sum(value_of(t.expr, mixed) for t in terms)
        st = prog.graph.statement(q)
        if st is None or st.expr is None:
            return None
        return value_of(st.expr, mixed)
    except (KeyError, ValueError, TypeError, FloatingPointError):
        return None
