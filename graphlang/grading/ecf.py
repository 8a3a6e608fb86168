"""Error carried forward: a wrong answer is credited when it follows from the student's own
earlier (wrong) answers, recomputed by the reference's statement or adjoint terms. Never from the
inputs or the seed g_y (given, not answered), nor from an uncredited answer of 0 where the correct
value is not 0 (all zeros would otherwise earn every step that maps 0 to 0)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from graphlang.grading import tangents
from graphlang.grading.compare import ROUNDOFF, Comparison, compare, sign_turned
from graphlang.language.ast import Expr, names, postorder
from graphlang.numbers import quiet_floats
from graphlang.program import Program
from graphlang.symbolic import adjoint
from graphlang.symbolic.printing import value_of


def carried_forward(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any],
                    student: dict[str, Any], given: Any, cmp: Comparison, credited: set[str],
                    scale: float = 0.0, right: set[str] | None = None, hidden: bool = False,
                    fixed: frozenset[str] = frozenset(), cmp_of: Callable[[str], Comparison] | None = None) -> bool:
    """Is the answer `given` for `q` what the student's earlier answers `student` imply? Not when
    it rests on an earlier answer that is 0 (or negligible) where the correct value is not, unless
    that answer was itself credited: zeros (or 1e-300s) everywhere made every step that maps 0 to
    0 "consistent", while relu(-1) = 0 after a sign slip is a step honestly carried forward.
    `hidden` (the reference's values hidden): negligible beside `scale` (what the student has), not
    beside the node's own value, which a student bisecting on the threshold would learn."""
    locals_ = _reverse_locals(q, prog, adj)
    return any(_carried(q, form, env, student, given, cmp, credited, scale, right, hidden, fixed, cmp_of,
                        _slack_of(q, forward, cmp, locals_ if forward is adj.forward else None))
               for step, forward in _ways(q, prog, adj, env, student)
               for form in _forms(step, forward, student, q, right, _consumers(q, prog, adj)))


def _consumers(q: str, prog: Program, adj: adjoint.Adjoints) -> set[str]:
    """The nodes whose local derivatives a step of `q` takes: g_a's consumers of a; da/dx's a."""
    node = q[len(adj.prefix):] if q.startswith(adj.prefix) else ""
    own = {t.consumer for t in adj.terms.get(node, [])} if node in prog.names else set()
    tangent = tangents.tangent_key(q, prog)
    return own | ({tangent[1:].split("/d", 1)[0]} if tangent else set())


def _forms(step: list[Any], forward: dict[str, Any], student: dict[str, Any], q: str, right: set[str] | None,
           consumers: set[str]) -> list[list[Any]]:
    """The step as the reference writes it, and with a wrong answer for a consumer written as that
    node: ∂d/∂a for d = exp(a) may be the student's own (wrong) d, not exp(a). Only a consumer's own
    value (a wrong y = p(1 − p) is no licence to write g_u = g_p·y: a red team's sign-turned 3.8e-11)."""
    if right is None:  # (which answers are wrong is not known: the reference's form alone)
        return [step]
    wrong = {n: forward[n] for n in student if n in forward and n != q and n not in right and n in consumers}
    mine = [_as_nodes(e, {id(d): n for n, d in wrong.items()}) for e in step]
    # and the other way: b·(1 − b) for b = sigmoid(a) (a rule written with the output) taken from
    # the student's own a, σ(a)(1 − σ(a)), beside a wrong b (a TA's simulated slips: 4 of 20 refused)
    theirs = [_as_definitions(e, wrong) for e in step]
    return [step] + [f for f in (mine, theirs) if not all(a is b for a, b in zip(f, step))]


def _carried(q: str, step: list[Any], env: dict[str, Any], student: dict[str, Any], given: Any, cmp: Comparison,
             credited: set[str], scale: float, right: set[str] | None, hidden: bool, fixed: frozenset[str],
             cmp_of: Callable[[str], Comparison] | None, slack: Callable[..., Any]) -> bool:
    used = {n for e in step for n in names(e)}
    if right is not None and not any(n in student and n not in right for n in used):
        return False  # no earlier error to carry (p = 1, right for 0.99999999996, made a tiny y agree)
    for n in used:
        if n in student and n not in credited and _negligible(student[n], scale if hidden else env[n]):
            return False
        if n in student and n in fixed and right is not None and n not in right:  # a constant of the
            return False  # program's text answered wrong (c = 1 for c = 3.7): an easier problem, not a slip
        if hidden and n not in student and n not in fixed:  # filled in with a hidden value, a probe of
            return False  # dy/dx = 3·g_a + g_b/2 with g_a unanswered read g_a back
    mixed = {**env, **student, q: env[q]}  # the student's values, not their answer to q itself
    try:
        with quiet_floats():
            terms = [np.asarray(value_of(e, mixed), dtype=np.float64) for e in step]
            carried = sum(terms)
    except (KeyError, ValueError, TypeError, FloatingPointError):
        return False
    if not np.all(np.isfinite(carried)):  # |answer − inf| ≤ rtol·inf holds for any answer
        return False
    got = np.asarray(given, dtype=np.float64)
    if not compare(got, carried, cmp)[0]:
        if got.shape != np.shape(carried):
            return False
        earlier = {n: student[n] for n in sorted(used) if n in student and n != q}
        below, above = _rounding_range(step, mixed, earlier, cmp_of or (lambda n: cmp), carried,
                                       {n: env[n] for n in earlier if n in env})  # (g_d = 1 exactly rounds nothing)
        allow, off = cmp.allowance(carried) + slack(step, terms, mixed), got - carried
        if not bool(np.all((off <= above + allow) & (-off <= below + allow))):
            return False
    return not sign_turned(given, carried, scale)


def _reverse_locals(q: str, prog: Program, adj: adjoint.Adjoints) -> list[tuple[str, Any]] | None:
    """An adjoint's terms as (the consumer's adjoint, the local derivative), in `_step`'s order."""
    node = q[len(adj.prefix):] if q.startswith(adj.prefix) else ""
    return [(adj.g(t.consumer), t.partial) for t in adj.terms.get(node, [])] if node in prog.names else None


def _slack_of(q: str, forward: dict[str, Any], cmp: Comparison, locals_: list[tuple[str, Any]] | None
              ) -> Callable[..., Any]:
    """How far a chain rule's terms may move with their local derivatives rounded to the figures (or
    decimals) asked, as explain prints them; 0 for a value's statement, and for relabs (no digits)."""
    if q in forward or cmp.kind not in ("sigfig", "decdig"):
        return lambda step, terms, env: 0.0
    return lambda step, terms, env: sum(_rounding_of_local(k, e, t, env, cmp, locals_)
                                        for k, (e, t) in enumerate(zip(step, terms)))


def rounded_forward(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any],
                    student: dict[str, Any], given: Any, cmp: Comparison, right: set[str],
                    cmp_of: Callable[[str], Comparison], scale: float = 0.0) -> bool:
    """Is `given`, wrong by itself, the step computed from the student's own earlier answers, every
    one of them right (b = 1.41 for √2, then c = e^1.41 = 4.10 where e^√2 is 4.11; g_a = g_d·d with
    the rounded d where the reference writes exp(a))? Stricter than error carried forward (a red
    team's 18/18 for five wrong answers): an earlier answer that is exactly the true value (a = 6,
    g_d = 1) rounds nothing; another moves by half its last written digit at most, capped by what
    its comparison allows at the true value; and the step keeps the true value's sign, element by
    element (never from a true 0 to 5)."""
    locals_ = _reverse_locals(q, prog, adj)
    return any(_rounded(q, step, forward, env, student, given, cmp, right, cmp_of, scale,
                        _slack_of(q, forward, cmp, locals_ if forward is adj.forward else None))
               for step, forward in _ways(q, prog, adj, env, student))


def _rounded(q: str, step: list[Any], forward: dict[str, Any], env: dict[str, Any], student: dict[str, Any],
             given: Any, cmp: Comparison, right: set[str], cmp_of: Callable[[str], Comparison],
             scale: float, slack: Callable[..., Any]) -> bool:
    answered = {id(forward[n]): n for n in student if n in forward and n != q and n in right}
    wrong = {n: forward[n] for n in student if n in forward and n != q and n not in right}
    # exp(a) where d = exp(a) was answered right: d; a wrong b in b·(1 − b) (b = tanh(z)) written as
    # tanh(z): a student who took the local derivative from z used no wrong answer (a TA's find)
    step = [_as_nodes(_as_definitions(e, wrong), answered) for e in step]
    used = {n for e in step for n in names(e)}
    if not any(n in student for n in used) or any(n in student and n not in right for n in used):
        return False
    mixed = {**env, **student, q: env[q]}
    try:
        with quiet_floats():
            terms = [np.asarray(value_of(e, mixed), dtype=np.float64) for e in step]
            carried = np.asarray(sum(terms), dtype=np.float64)
    except (KeyError, ValueError, TypeError, FloatingPointError):
        return False
    got, true = np.asarray(given, dtype=np.float64), np.asarray(env[q], dtype=np.float64)
    if carried.shape != true.shape or got.shape != true.shape or not np.all(np.isfinite(carried)):
        return False
    rounded = {n: student[n] for n in sorted(used) if n in student and n != q
               and not np.all(written_exactly(np.asarray(student[n], dtype=np.float64), env[n]))}
    below, above = _rounding_range(step, mixed, rounded, cmp_of, carried, env)
    # signs kept, element by element (never from a true 0 to 5), but where 0 is within the rounding
    # of the student's numbers and the true value is a roundoff of 0 (0.0002 for −2.8e-17), or those
    # numbers give 0 itself (1 − g² with g = tanh(4) = 1.00)
    naught = (carried - below <= 0) & (0 <= carried + above)
    free = (np.abs(true) <= ROUNDOFF * scale) & naught
    if not np.all(free | ((np.sign(carried) == np.sign(true)) | (carried == 0) & naught)) \
            or not np.all(free | (np.sign(got) == np.sign(true)) | (got == 0) & naught):
        return False
    # and in a chain rule's terms (not a value's statement) each local derivative rounded to the figures
    # asked, as explain prints it (1.44·3 − 12.5·0.5 = −1.93 where the unrounded factors give −1.916)
    allow, off = cmp.allowance(carried) + slack(step, terms, mixed), got - carried
    return bool(np.all((off <= above + allow) & (-off <= below + allow)))


def _rounding_of_local(k: int, e: Any, term: np.ndarray, env: dict[str, Any], cmp: Comparison,
                       locals_: list[tuple[str, Any]] | None) -> np.ndarray:
    """How far the k-th chain-rule term g_c·∂c/∂a (forward mode: ∂a/∂u·du/dx) moves when its local
    derivative is rounded as asked, as explain prints it (g_f·(1/a) with 1/a = 0.167 for 1/6):
    |g_c|·|round(p) − p| per element. Not a blanket share of the term: an exact local derivative
    (x = 2) rounds nothing (a red team's 805 for g_a·x = 405·2 passed). A term whose factors are not
    known (matrix calculus, or factors that do not broadcast: an outer product's g_u and x), the
    term's own rounding (a blanket 0.5 % of it passed dJ/dW off by 3-5 units in its last figure)."""
    try:
        with quiet_floats():
            found = locals_[k] if locals_ is not None and k < len(locals_) else _tangent_factors(e)
            if found is not None and found[1] is not None:
                carried, local = found
                p = np.asarray(value_of(local, env), dtype=np.float64)
                moved = np.abs(np.asarray(env[carried], dtype=np.float64)) * np.abs(_round_as(p, cmp) - p)
                if moved.shape == term.shape:
                    return moved
    except (KeyError, ValueError, TypeError, FloatingPointError):
        pass
    return np.abs(_round_as(term, cmp) - term)


def _tangent_factors(e: Any) -> tuple[str, Any] | None:
    """A forward-mode term ∂a/∂u · du/dx as (the tangent's key, the local derivative), else None."""
    body = e.args[0] if e.op == "neg" else e
    if body.op != "mul" or len(body.args) != 2:
        return None
    seeds = [k for k, a in enumerate(body.args) if a.op == "var" and "/" in str(a.attr)]
    return (str(body.args[seeds[0]].attr), body.args[1 - seeds[0]]) if len(seeds) == 1 else None


def _round_as(v: np.ndarray, cmp: Comparison) -> np.ndarray:
    """`v` rounded as the comparison asks answers to be: to its significant figures or decimals."""
    return _round_figures(v, cmp.digits) if cmp.kind == "sigfig" else np.round(np.asarray(v, dtype=np.float64),
                                                                                cmp.digits)


def _round_figures(v: np.ndarray, digits: int) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    with np.errstate(all="ignore"):
        mag = np.floor(np.log10(np.where(v == 0, 1.0, np.abs(v))))
        scale = 10.0 ** (digits - 1 - mag)
        return np.where(v == 0, 0.0, np.round(v * scale) / scale)


def _as_nodes(e: Any, answered: dict[int, str]) -> Any:
    """`e` with each subexpression that is an answered node's definition written as that node."""
    return _rewritten(e, lambda n: Expr("var", (), answered[id(n)]) if id(n) in answered else None) if answered else e


def _as_definitions(e: Any, wrong: dict[str, Any]) -> Any:
    """`e` with each of the `wrong` nodes it names written as its definition (in its own inputs)."""
    return _rewritten(e, lambda n: wrong[str(n.attr)] if n.op == "var" and n.attr in wrong else None) if wrong else e


def _rewritten(e: Any, swap: Callable[[Any], Any]) -> Any:
    """`e` with each subexpression that `swap` gives a replacement for replaced (the rest shared)."""
    done: dict[int, Any] = {}
    for node in postorder(e):
        new = swap(node)
        if new is not None:
            done[id(node)] = new
        elif node.args:
            args = tuple(done[id(a)] for a in node.args)
            done[id(node)] = node if all(a is b for a, b in zip(args, node.args)) else \
                Expr(node.op, args, node.attr, node.line, node.column)
        else:
            done[id(node)] = node
    return done[id(e)]


def _rounding_range(step: list[Any], mixed: dict[str, Any], earlier: dict[str, Any],
                    cmp_of: Callable[[str], Comparison], carried: Any, true: dict[str, Any] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """How far below and above `carried` the step goes while each earlier answer moves within its
    rounding (the last digit written, at most what that answer's own comparison allows it): b
    rounded to 0.301 and c = sin(b) answered from the unrounded b (0.297, not sin(0.301) = 0.296478)
    was "not consistent" (a TA's find: 13/18). The range, not a band of its widest side: e = a/b
    with b = 0.01 ± 0.005 lies in [400, 1200], and e = 1 is not consistent (a red team's find).
    Each answer is moved by ± its half-unit (a vector's by four sign patterns), the moves summed."""
    below, above = np.zeros(np.shape(carried)), np.zeros(np.shape(carried))
    for n, value in earlier.items():
        v = np.asarray(value, dtype=np.float64)
        t = None if true is None else true.get(n)
        # (capped by the comparison at the written value, never the true one: a wrong a = 0.110 where
        # a is 0.0110 rounds ±0.0005, which the true value's 3 figures capped at ±0.00005; and a
        # wrong b = 0.001 to one figure beside a true 0.693 moved ±0.0005, ±50 %, under the true
        # value's cap — and the cap's size told a probing student the hidden value's decade)
        half = np.minimum(_half_unit(v), cmp_of(n).allowance(v))
        if t is not None:  # an element written exactly (6 of a true 6) rounds nothing, beside one that does
            half = np.where(written_exactly(v, t), 0.0, half)
        down, up = np.zeros(np.shape(carried)), np.zeros(np.shape(carried))
        for signs in _patterns(v.shape):
            try:
                with quiet_floats():
                    moved = sum(value_of(e, {**mixed, n: v + signs * half}) for e in step)
            except (KeyError, ValueError, TypeError, FloatingPointError):
                continue
            if np.shape(moved) == np.shape(carried) and np.all(np.isfinite(moved)):
                down, up = np.maximum(down, carried - moved), np.maximum(up, moved - carried)
        below, above = below + down, above + up
    return below, above


def written_exactly(v: np.ndarray, true: Any) -> np.ndarray:
    """Per element: the answer is the true value but for the reference's own roundoff (u = 1 where
    0.8·1.5 − 0.2 computes 1.0000000000000002): it rounds nothing. A red team's 18/18 for nine
    wrong answers, each moved by the whole tolerance of an exact u = 1."""
    t = np.asarray(true, dtype=np.float64)
    if np.shape(t) != np.shape(v):
        return np.zeros(np.shape(v), dtype=bool)
    with quiet_floats():
        return np.asarray(np.abs(v - t) <= 1e-12 * np.abs(t))


def _half_unit(v: np.ndarray) -> np.ndarray:
    """Half a unit in the last nonzero digit each element was written with (0.301: 0.0005; 1190: 5)."""
    units = [0.0 if x == 0 or not np.isfinite(x) else
             0.5 * 10.0 ** int(Decimal(repr(x)).normalize().as_tuple().exponent) for x in v.ravel().tolist()]
    return np.asarray(units, dtype=np.float64).reshape(v.shape)


def _patterns(shape: tuple[int, ...]) -> list[Any]:
    """Sign patterns to move an answer by: both signs, and for a vector two fixed mixed ones."""
    if shape == ():
        return [np.float64(1.0), np.float64(-1.0)]
    mixed = np.random.default_rng(0).choice([-1.0, 1.0], size=(2, *shape))
    return [np.ones(shape), -np.ones(shape), mixed[0], mixed[1]]


def _negligible(value: Any, correct: Any) -> bool:
    scale = float(np.max(np.abs(correct))) if np.size(correct) else 0.0
    return scale > 0 and bool(np.all(np.abs(value) <= 1e-9 * scale))


def _ways(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any],
          student: dict[str, Any]) -> list[tuple[list[Any], Any]]:
    """Each way the reference computes `q`, with the definitions its terms may name: reverse mode's
    terms or the statement; forward mode's for a tangent `da/dx`, and for the gradient `g_x` of a
    student who went forward (answered a tangent it reads), from their tangents, not adjoints."""
    step = _step(q, prog, adj)
    x = q[len(adj.prefix):] if q.startswith(adj.prefix) else None
    if x is None:  # a value, an adjoint that is not the gradient, or a tangent
        forward = tangents.steps(q, prog, env)
    elif x in prog.inputs and any("/" in n for n in student):  # (no tangent answered: no forward way)
        forward = [(s, f) for s, f in tangents.steps(q, prog, env, x)
                   if any(n in student and "/" in n for e in s for n in names(e))]
    else:
        forward = []
    return ([(step, adj.forward)] if step else []) + forward


def _step(q: str, prog: Program, adj: adjoint.Adjoints) -> list[Any]:
    """The reference's expressions whose sum is `q`: an adjoint's terms, or a node's statement."""
    if q.startswith(adj.prefix) and q[len(adj.prefix):] in prog.names:
        return [t.expr for t in adj.terms.get(q[len(adj.prefix):], [])]
    st = prog.graph.statement(q)
    return [] if st is None or st.expr is None else [st.expr]
