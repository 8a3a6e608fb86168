"""Error carried forward: a wrong answer is credited when it follows from the student's own
earlier (wrong) answers, recomputed by the reference's statement or adjoint terms. Never from the
inputs or the seed g_y (given, not answered), nor from an uncredited answer of 0 where the correct
value is not 0 (all zeros would otherwise earn every step that maps 0 to 0)."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.grading.compare import Comparison, compare
from graphlang.language.ast import names
from graphlang.numbers import quiet_floats
from graphlang.program import Program
from graphlang.symbolic import adjoint
from graphlang.symbolic.printing import value_of


def carried_forward(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any],
                    student: dict[str, Any], given: Any, cmp: Comparison, credited: set[str]) -> bool:
    """Is the answer `given` for `q` what the student's earlier answers `student` imply? Not when
    it rests on an earlier answer that is 0 (or negligible) where the correct value is not, unless
    that answer was itself credited: zeros (or 1e-300s) everywhere made every step that maps 0 to
    0 "consistent", while relu(-1) = 0 after a sign slip is a step honestly carried forward."""
    for n in _operands(q, prog, adj):
        if n in student and n not in credited and _negligible(student[n], env[n]):
            return False
    carried = _carried(q, prog, adj, env, student)
    return carried is not None and compare(np.asarray(given, dtype=np.float64), carried, cmp)[0]


def _negligible(value: Any, correct: Any) -> bool:
    scale = float(np.max(np.abs(correct))) if np.size(correct) else 0.0
    return scale > 0 and bool(np.all(np.abs(value) <= 1e-9 * scale))


def _operands(q: str, prog: Program, adj: adjoint.Adjoints) -> set[str]:
    """The names (values and adjoints) the reference's step for `q` reads."""
    if q.startswith(adj.prefix) and q[len(adj.prefix):] in prog.names:
        return {n for t in adj.terms.get(q[len(adj.prefix):], []) for n in names(t.expr)}
    st = prog.graph.statement(q)
    return set() if st is None or st.expr is None else set(names(st.expr))


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
