"""A grading report: its items (a quantity or a check each, with points and a message) and its
feedback, as text, JSON, Gradescope's results.json and PrairieLearn's partial scores."""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.ir.bind import not_a_number
from graphlang.numbers import plain


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
    kind: str = ""  # a program check's kind (`grading/options.py` WEIGHTED), weighted by an assignment

    def to_json(self, show_expected: bool = True) -> dict[str, Any]:
        return {"name": self.name, "score": self.score, "max_score": self.max_score,
                "passed": self.passed, "message": self.message, "ecf": self.ecf,
                "expected": _plain(self.expected) if show_expected else None, "got": _plain(self.got)}


@dataclass
class Report:
    """The result of grading one submission."""

    items: list[Item] = field(default_factory=list)
    root_cause: str | None = None
    feedback: list[str] = field(default_factory=list)
    show_expected: bool = True  # False: reference values appear nowhere in the report
    total: float | None = None  # the maximum, when scaled to one (not a sum rounded in its last digit)

    @property
    def score(self) -> float:
        got, top = math.fsum(i.score for i in self.items), self.max_score  # (exact: the same bits on
        # every Python; `sum` of floats is compensated from 3.12 on, and a score's last digit moved)
        if abs(got - top) <= 1e-12 * top:  # every item's points: the maximum itself
            got = top
        return float(min(max(got, 0.0), top))

    @property
    def max_score(self) -> float:
        return float(self.total if self.total is not None else math.fsum(i.max_score for i in self.items))

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(i.passed for i in self.items)

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "max_score": self.max_score, "passed": self.passed,
                "root_cause": self.root_cause, "feedback": list(self.feedback),
                "items": [i.to_json(self.show_expected) for i in self.items]}

    def as_text(self) -> str:
        lines = [f"score {self.score:g} / {self.max_score:g}"]
        for i in self.items:
            mark = "PASS" if i.passed else "FAIL"
            lines.append(f"  {mark} {i.name} ({i.score:g}/{i.max_score:g})" + (f": {i.message}" if i.message else ""))
        lines += self.feedback
        return "\n".join(lines)

    def to_gradescope(self, visibility: str = "visible") -> dict[str, Any]:
        """Gradescope's results.json: score, tests[] (name, score, max_score, status, output,
        visibility), every output plain text; `visibility` is Gradescope's: visible, hidden,
        after_due_date, after_published (the whole result's, and each test's)."""
        if visibility not in VISIBILITY:
            raise GraphlangError("usage", f"visibility must be one of {', '.join(VISIBILITY)}, got {visibility!r}")
        return {"score": self.score, "max_score": self.max_score, "output": "\n".join(self.feedback),
                "visibility": visibility, "stdout_visibility": "hidden",
                "output_format": "text", "test_output_format": "text",  # (a caret under its column: as written)
                "tests": [{"name": i.name, "score": i.score, "max_score": i.max_score,
                           "status": "passed" if i.passed else "failed", "output": i.message,
                           "visibility": visibility} for i in self.items]}

    def refused(self, why: str, each: str | None = None) -> Report:
        """This blank report as a submission not graded (too slow, or the kind of file not asked
        for): every item fails saying why (`each`: shorter), 0 out of the usual maximum, and no
        step is its first wrong one (the gradebook counts those)."""
        for item in self.items:
            item.score, item.passed, item.message = 0.0, False, f"not graded: {each or why}"
        self.feedback, self.root_cause = [why], None
        return self

    def scaled(self, total: float) -> Report:
        """The same report with every item's points scaled so that they add up to `total`."""
        factor = total / self.max_score if self.max_score else 0.0
        for i in self.items:
            i.score, i.max_score = i.score * factor, i.max_score * factor
        if factor:
            self.total = float(total)
        return self

    def __rich__(self) -> Any:
        from graphlang.present.tables import checker_report
        return checker_report(self)

    def _repr_html_(self) -> str:
        from graphlang.present.notebook import report_html
        return report_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # (IPython's plain text: the report, not the fields)
        p.text(self.as_text())


SHOWN = 10_000  # numbers of an answer echoed in a report's `got` (past it: its first five and a count)
VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")


def _as_text(v: Any) -> str:
    """A value as text, at most 100 characters (an int of 5,000 digits has no repr: an attacker's find)."""
    try:
        return reprlib.repr(v)[:100]
    except ValueError:
        return f"<an integer of about {int(v.bit_length() * 0.30103):,} digits>" if isinstance(v, int) else \
            "<a value too large to show>"


def _plain(v: Any) -> Any:
    if v is None:
        return None
    if not_a_number(v) is not None:  # text, complex, or a list too large to read (bounded walk)
        return _as_text(v)  # what the student wrote, shown as text (bounded)
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return _as_text(v)  # what the student wrote, as text
    if not np.all(np.isfinite(a)):
        return None
    if a.size > SHOWN:  # an answer this long is wrong in shape: the report stays small
        head = ", ".join(repr(float(x)) for x in a.ravel()[:5])
        return f"[{head}, ...] ({a.size:,} numbers)"
    return plain(a)
