"""Error carried forward: a wrong answer is credited when it follows from the student's own
earlier (wrong) answers, recomputed by the reference's statement or adjoint terms. Never from the
inputs or the seed g_y (given, not answered), and never for a zero whose correct value is not zero
(all zeros would otherwise earn every step that maps 0 to 0)."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.grading.compare import Comparison, compare
from graphlang.numbers import quiet_floats
from graphlang.program import Program
from graphlang.symbolic import adjoint
from graphlang.symbolic.printing import value_of


def carried_forward(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any],
                    student: dict[str, Any], given: Any, cmp: Comparison) -> bool:
    """Is the answer `given` for `q` what the student's earlier answers `student` imply?"""
    answer = np.asarray(given, dtype=np.float64)
    if not answer.any() and np.asarray(env[q]).any():
        return False
    carried = _carried(q, prog, adj, env, student)
    return carried is not None and compare(answer, carried, cmp)[0]


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
