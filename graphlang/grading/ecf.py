"""Error carried forward: a wrong answer is credited when it follows from the student's own
earlier (wrong) answers, recomputed by the reference's statement or adjoint terms. Never from the
inputs or the seed g_y (given, not answered), nor from an uncredited answer of 0 where the correct
value is not 0 (all zeros would otherwise earn every step that maps 0 to 0)."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.grading.compare import Comparison, compare, sign_turned
from graphlang.language.ast import names
from graphlang.numbers import quiet_floats
from graphlang.program import Program
from graphlang.symbolic import adjoint
from graphlang.symbolic.printing import value_of


def carried_forward(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any],
                    student: dict[str, Any], given: Any, cmp: Comparison, credited: set[str],
                    scale: float = 0.0, right: set[str] | None = None, hidden: bool = False,
                    fixed: frozenset[str] = frozenset()) -> bool:
    """Is the answer `given` for `q` what the student's earlier answers `student` imply? Not when
    it rests on an earlier answer that is 0 (or negligible) where the correct value is not, unless
    that answer was itself credited: zeros (or 1e-300s) everywhere made every step that maps 0 to
    0 "consistent", while relu(-1) = 0 after a sign slip is a step honestly carried forward.
    `hidden` (the reference's values hidden): negligible beside `scale` (what the student has), not
    beside the node's own value, which a student bisecting on the threshold would learn."""
    step = _step(q, prog, adj)
    if not step:
        return False
    used = {n for e in step for n in names(e)}
    if right is not None and not any(n in student and n not in right for n in used):
        return False  # no earlier error to carry (p = 1, right for 0.99999999996, made a tiny y agree)
    for n in used:
        if n in student and n not in credited and _negligible(student[n], scale if hidden else env[n]):
            return False
        if hidden and n not in student and n not in fixed:  # filled in with a hidden value, a probe of
            return False  # dy/dx = 3·g_a + g_b/2 with g_a unanswered read g_a back
    mixed = {**env, **student, q: env[q]}  # the student's values, not their answer to q itself
    try:
        with quiet_floats():
            carried = sum(value_of(e, mixed) for e in step)
    except (KeyError, ValueError, TypeError, FloatingPointError):
        return False
    if not np.all(np.isfinite(carried)):  # |answer − inf| ≤ rtol·inf holds for any answer
        return False
    return compare(np.asarray(given, dtype=np.float64), carried, cmp)[0] and not sign_turned(given, carried, scale)


def _negligible(value: Any, correct: Any) -> bool:
    scale = float(np.max(np.abs(correct))) if np.size(correct) else 0.0
    return scale > 0 and bool(np.all(np.abs(value) <= 1e-9 * scale))


def _step(q: str, prog: Program, adj: adjoint.Adjoints) -> list[Any]:
    """The reference's expressions whose sum is `q`: an adjoint's terms, or a node's statement."""
    if q.startswith(adj.prefix) and q[len(adj.prefix):] in prog.names:
        return [t.expr for t in adj.terms.get(q[len(adj.prefix):], [])]
    st = prog.graph.statement(q)
    return [] if st is None or st.expr is None else [st.expr]
