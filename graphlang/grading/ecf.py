"""Error carried forward: a wrong answer is credited when it follows from the student's own
earlier (wrong) answers, recomputed by the reference's statement or adjoint terms. Never from the
inputs or the seed g_y (given, not answered), nor from an uncredited answer of 0 where the correct
value is not 0 (all zeros would otherwise earn every step that maps 0 to 0)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from graphlang.grading import tangents
from graphlang.grading.compare import ROUNDOFF, STEP_ERRORS, Comparison, compare, sign_turned
from graphlang.grading.rounding import Span, half_of, rounding_range, slack_of, written_exactly
from graphlang.language.ast import Expr, names, postorder
from graphlang.numbers import quiet_floats
from graphlang.program import Program
from graphlang.symbolic import adjoint
from graphlang.symbolic.printing import value_of


def carried_forward(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any],
                    student: dict[str, Any], given: Any, cmp: Comparison, credited: set[str],
                    scale: float = 0.0, right: set[str] | None = None, hidden: bool = False,
                    fixed: frozenset[str] = frozenset(), cmp_of: Callable[[str], Comparison] | None = None,
                    spans: dict[str, Span] | None = None, short: bool = False) -> bool:
    """Is the answer `given` for `q` what the student's earlier answers `student` imply (`short`, too
    few figures written: exactly what they give, b = 0.5 from a = 2, never a rounding)? Not when
    it rests on an earlier answer that is 0 (or negligible) where the correct value is not, unless
    that answer was itself credited: zeros (or 1e-300s) everywhere made every step that maps 0 to
    0 "consistent", while relu(-1) = 0 after a sign slip is a step honestly carried forward.
    `hidden` (the reference's values hidden): negligible beside `scale` (what the student has), not
    beside the node's own value, which a student bisecting on the threshold would learn."""
    locals_ = _reverse_locals(q, prog, adj)
    return any(_carried(q, form, env, student, given, cmp, credited, scale, right, hidden, fixed, cmp_of,
                        slack_of(q, forward, cmp, _form_locals(locals_, step, form, own) if forward is adj.forward
                                 else None, env), spans, short)
               for step, forward in _ways(q, prog, adj, env, student)
               for form, own in _forms(step, forward, student, q, right, _consumers(q, prog, adj)))


def _form_locals(locals_: list[tuple[str, Any]] | None, step: list[Any], form: list[Any], own: bool
                 ) -> list[tuple[str, Any]] | None:
    """The local derivatives a form's terms round: none for a term of the form written with a
    student's own node (`own`: their d = 400 for ∂d/∂a = exp(a) is no rounding of exp(6) = 403.43;
    rounding that, 0.43, moved g_a = 400 into the credit where their own numbers give 401.4, a
    student's find); a node written as its definition (σ(a)(1 − σ(a)) for b(1 − b)) rounds as explain
    prints it (a reviewer's honest students, refused when both forms lost their slack)."""
    if locals_ is None or not own:
        return locals_
    return [local if f is e else (local[0], None) for local, e, f in zip(locals_, step, form)]


def zero_read(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any], student: dict[str, Any],
              credited: set[str], scale: float = 0.0, hidden: bool = False) -> str | None:
    """An earlier answer of 0 (or negligible), not credited, that a step of `q` reads: why `q` is not
    carried forward, said (g_r = 0, a forgotten branch, then dJ/dw from it: "incorrect" alone, a red
    team's find)."""
    for step, _ in _ways(q, prog, adj, env, student):
        for n in sorted({n for e in step for n in names(e)}):
            if n in student and n != q and n not in credited and _negligible(student[n], scale if hidden else env[n]):
                return n
    return None


def _consumers(q: str, prog: Program, adj: adjoint.Adjoints) -> set[str]:
    """The nodes whose local derivatives a step of `q` takes: g_a's consumers of a; da/dx's a."""
    node = q[len(adj.prefix):] if q.startswith(adj.prefix) else ""
    own = {t.consumer for t in adj.terms.get(node, [])} if node in prog.graph.slot_of else set()
    tangent = tangents.tangent_key(q, prog)
    return own | ({tangent[1:].split("/d", 1)[0]} if tangent else set())


def _forms(step: list[Any], forward: dict[str, Any], student: dict[str, Any], q: str, right: set[str] | None,
           consumers: set[str]) -> list[tuple[list[Any], bool]]:
    """The step as the reference writes it, and with a wrong answer for a consumer written as that
    node: ∂d/∂a for d = exp(a) may be the student's own (wrong) d, not exp(a). Only a consumer's own
    value (a wrong y = p(1 − p) is no licence to write g_u = g_p·y: a red team's sign-turned 3.8e-11).
    Each with whether it writes a student's own node for a definition (`_form_locals`)."""
    if right is None:  # (which answers are wrong is not known: the reference's form alone)
        return [(step, False)]
    wrong = {n: forward[n] for n in student if n in forward and n != q and n not in right and n in consumers}
    mine = [_as_nodes(e, {id(d): n for n, d in wrong.items()}) for e in step]
    # and the other way: b·(1 − b) for b = sigmoid(a) (a rule written with the output) taken from
    # the student's own a, σ(a)(1 − σ(a)), beside a wrong b (a TA's simulated slips: 4 of 20 refused)
    theirs = [_as_definitions(e, wrong) for e in step]
    return [(step, False)] + [(f, own) for f, own in ((mine, True), (theirs, False))
                              if not all(a is b for a, b in zip(f, step))]


def _carried(q: str, step: list[Any], env: dict[str, Any], student: dict[str, Any], given: Any, cmp: Comparison,
             credited: set[str], scale: float, right: set[str] | None, hidden: bool, fixed: frozenset[str],
             cmp_of: Callable[[str], Comparison] | None, slack: Callable[..., Any],
             spans: dict[str, Span] | None = None, short: bool = False) -> bool:
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
    except STEP_ERRORS:
        return False
    if not np.all(np.isfinite(carried)):  # |answer − inf| ≤ rtol·inf holds for any answer
        return False
    got = np.asarray(given, dtype=np.float64)
    if short:  # (a rounding's credit would reward the figures left out, refused where it is the true value)
        return got.shape == np.shape(carried) and bool(np.allclose(got, carried, rtol=1e-12, atol=0.0)) \
            and not sign_turned(given, carried, scale)
    if not compare(got, carried, cmp)[0]:
        if got.shape != np.shape(carried):
            return False
        earlier = {n: student[n] for n in sorted(used) if n in student and n != q}
        (down, up), allow, off = slack(step, terms, mixed), cmp.allowance(carried), got - carried
        if not any(np.all((off <= above + up + allow) & (-off <= below + down + allow)) for below, above in (
                rounding_range(step, mixed, earlier, cmp_of or (lambda n: cmp), carried,  # (g_d = 1 exactly: none)
                               {n: env[n] for n in earlier if n in env}, spans, per_element)
                for per_element in (False, True))):  # (element by element only where the first refuses)
            return False
    return not sign_turned(given, carried, scale)


def _reverse_locals(q: str, prog: Program, adj: adjoint.Adjoints) -> list[tuple[str, Any]] | None:
    """An adjoint's terms as (the consumer's adjoint, the local derivative), in `_step`'s order."""
    node = q[len(adj.prefix):] if q.startswith(adj.prefix) else ""
    return [(adj.g(t.consumer), t.partial) for t in adj.terms.get(node, [])] if node in prog.graph.slot_of else None



def rounded_forward(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any],
                    student: dict[str, Any], given: Any, cmp: Comparison, right: set[str],
                    cmp_of: Callable[[str], Comparison], scale: float = 0.0,
                    spans: dict[str, Span] | None = None) -> bool:
    """Is `given`, wrong by itself, the step computed from the student's own earlier answers, every
    one of them right (b = 1.41 for √2, then c = e^1.41 = 4.10 where e^√2 is 4.11; g_a = g_d·d with
    the rounded d where the reference writes exp(a))? Stricter than error carried forward (a red
    team's 18/18 for five wrong answers): an earlier answer that is exactly the true value (a = 6,
    g_d = 1) rounds nothing; another moves within its `span` (where the student's own unrounded value
    can lie), else by half its last written digit at most, capped by what its comparison allows at
    the true value; and the step keeps the true value's sign, element by element (never from a true
    0 to 5)."""
    locals_ = _reverse_locals(q, prog, adj)
    return any(_rounded(q, step, forward, env, student, given, cmp, right, cmp_of, scale,
                        slack_of(q, forward, cmp, locals_ if forward is adj.forward else None, env), spans)
               for step, forward in _ways(q, prog, adj, env, student))


def span(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any], student: dict[str, Any],
         right: set[str], cmp_of: Callable[[str], Comparison], spans: dict[str, Span], true: Any = None,
         every: bool = True) -> Span:
    """Where the student's own unrounded value of `q` lies: within the rounding of the digits they
    wrote (half a unit of the last, at most what its comparison allows), between what they wrote and
    what they can have computed it from — the true value (an answer right by itself) or the step from
    their own earlier answers' spans. Each credited step moved its successors by a whole rounding
    on top of its own (e = 0.363 from a = 0.462 ± 0.0005 where a is 0.462117, then g_e = e = 0.364,
    g_a = 0.365, ...: a TA's 8/8 for five wrong answers, ecf off). `every`: the steps from any earlier
    answers (error carried forward), else from the right ones only (rounding's credit: a span widened
    by a wrong a = 2.005 credited a gradient 5.6 tolerances off as rounded, a red team's find)."""
    v = np.asarray(student[q], dtype=np.float64)
    h = np.minimum(half_of(spans, q, v), cmp_of(q).allowance(v))
    found = list(_sources(q, prog, adj, env, student, right, cmp_of, spans, true, every))
    if not found:  # (no way to compute it from their answers: anywhere its digits round from)
        return v - h, v + h
    lo = np.minimum.reduce([v, *(a for a, _ in found)])
    hi = np.maximum.reduce([v, *(b for _, b in found)])
    return np.maximum(lo, v - h), np.minimum(hi, v + h)


def rounds(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any], student: dict[str, Any],
           right: set[str], cmp_of: Callable[[str], Comparison], spans: dict[str, Span], true: Any = None) -> bool:
    """Whether the digits written round, element by element, from a value the student can have
    computed (the true value, or the step from their own right earlier answers): only then is the
    answer a rounded one that later steps may be computed from. a = 6.0051 for 6 is within 3
    figures' comparison, but 6 rounds to no 6.0051: each step from such answers moved by a whole
    comparison more (d = 406.0 for 403.4, then dy/dx = 1228.9 for 1208.4: a red team's 17/17, ecf off).
    Rounded or cut off: within a whole unit of the last digit written (0.4356 for 0.43568, as the
    comparison's "close" also takes a cut-off answer: a reviewer's honest truncating student)."""
    v, cmp = np.asarray(student[q], dtype=np.float64), cmp_of(q)
    if true is not None and np.shape(true) == v.shape and np.array_equal(v, true):
        return True  # (the exact value, without working out its digits: a 500 × 500 answer took 0.6 s)
    half = half_of(spans, q, v)
    h = np.where(half == 0, cmp.allowance(v), np.minimum(2 * half, cmp.allowance(v)))  # (a 0 written for
    h = h * (1 + 1e-9)  # 0.00026 to 3 decimals: the comparison says how far); ×: a rounding's own roundoff
    reached = np.zeros(v.shape, dtype=bool)
    for lo, hi in _sources(q, prog, adj, env, student, right, cmp_of, spans, true, every=False):
        reached |= (lo - h <= v) & (v <= hi + h)
        if reached.all():  # (the true value first: most answers stop there)
            return True
    return False


def _sources(q: str, prog: Program, adj: adjoint.Adjoints, env: dict[str, Any], student: dict[str, Any],
             right: set[str], cmp_of: Callable[[str], Comparison], spans: dict[str, Span], true: Any,
             every: bool) -> Iterator[Span]:
    """What the student can have computed `q` as, each a range element by element: the true value
    (`true`, an answer right by itself), then the step from their own earlier answers (`every`: right
    or not) within their spans."""
    shape = np.shape(student[q])
    if true is not None and np.shape(true) == shape:
        yield np.asarray(true, dtype=np.float64), np.asarray(true, dtype=np.float64)
    locals_ = _reverse_locals(q, prog, adj)
    for step, forward in _ways(q, prog, adj, env, student):
        # each form that may credit it (a consumer's wrong value written as that node, or as its
        # definition: a review's find, the span from the reference's form alone missed the student's)
        for form, own in _forms(step, forward, student, q, right, _consumers(q, prog, adj)):
            slack = slack_of(q, forward, cmp_of(q), _form_locals(locals_, step, form, own) if forward is adj.forward
                             else None, env)
            got = _range(q, form, forward, env, student, right, cmp_of, spans, every=every)
            if got is not None and np.shape(got[0]) == shape:
                carried, below, above, used, terms, mixed = got[:6]
                down, up = slack(used, terms, mixed)  # (local derivatives rounded as explain prints them)
                yield carried - below - down, carried + above + up


def _range(q: str, step: list[Any], forward: dict[str, Any], env: dict[str, Any], student: dict[str, Any],
           right: set[str], cmp_of: Callable[[str], Comparison], spans: dict[str, Span] | None,
           every: bool = False, per_element: bool = False
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any], list[Any], dict[str, Any], set[str]] | None:
    """The step from the student's own earlier answers, every one of them right (`every`: right or
    not), or None: its value from the digits written, how far below and above it goes within their
    rounding, its terms."""
    answered = {id(forward[n]): n for n in student if n in forward and n != q and n in right}
    wrong = {} if every else {n: forward[n] for n in student if n in forward and n != q and n not in right}
    # exp(a) where d = exp(a) was answered right: d; a wrong b in b·(1 − b) (b = tanh(z)) written as
    # tanh(z): a student who took the local derivative from z used no wrong answer (a TA's find); but
    # where the student's own value lies (`every`), from their wrong b as written
    step = [_as_nodes(_as_definitions(e, wrong), answered) for e in step]
    used = {n for e in step for n in names(e)}
    if not any(n in student for n in used) or not every and any(n in student and n not in right for n in used):
        return None
    # the student's right answers (`every`: all of them), the true values elsewhere: a local derivative
    # rounded as explain prints it is rounded where the step is computed (cos(k·x) of a wrong a = 2.005
    # rewritten as its definition, not cos(2.005): a red team's 0.0004 of a gradient that no one had)
    mixed = {**env, **{n: v for n, v in student.items() if every or n in right}, q: env[q]}
    try:
        with quiet_floats():
            terms = [np.asarray(value_of(e, mixed), dtype=np.float64) for e in step]
            carried = np.asarray(sum(terms), dtype=np.float64)
    except STEP_ERRORS:
        return None
    if not np.all(np.isfinite(carried)):
        return None
    rounded = {n: student[n] for n in sorted(used) if n in student and n != q
               and not np.all(written_exactly(np.asarray(student[n], dtype=np.float64), env[n]))}
    below, above = rounding_range(step, mixed, rounded, cmp_of, carried, env, spans, per_element)
    return carried, below, above, step, terms, mixed, used


def _rounded(q: str, step: list[Any], forward: dict[str, Any], env: dict[str, Any], student: dict[str, Any],
             given: Any, cmp: Comparison, right: set[str], cmp_of: Callable[[str], Comparison],
             scale: float, slack: Callable[..., Any], spans: dict[str, Span] | None = None) -> bool:
    return any(_rounded_by(q, step, forward, env, student, given, cmp, right, cmp_of, scale, slack, spans, by)
               for by in (False, True))  # (element by element only where the sign patterns refuse)


def _rounded_by(q: str, step: list[Any], forward: dict[str, Any], env: dict[str, Any], student: dict[str, Any],
                given: Any, cmp: Comparison, right: set[str], cmp_of: Callable[[str], Comparison],
                scale: float, slack: Callable[..., Any], spans: dict[str, Span] | None, per_element: bool) -> bool:
    found = _range(q, step, forward, env, student, right, cmp_of, spans, per_element=per_element)
    if found is None:
        return False
    carried, below, above, step, terms, mixed, _ = found
    got, true = np.asarray(given, dtype=np.float64), np.asarray(env[q], dtype=np.float64)
    if carried.shape != true.shape or got.shape != true.shape:
        return False
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
    (down, up), allow, off = slack(step, terms, mixed), cmp.allowance(carried), got - carried
    return bool(np.all((off <= above + up + allow) & (-off <= below + down + allow)))


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
    elif x in prog.graph.input_set and any("/" in n for n in student):  # (no tangent answered: no forward way)
        forward = [(s, f) for s, f in tangents.steps(q, prog, env, x)
                   if any(n in student and "/" in n for e in s for n in names(e))]
    else:
        forward = []
    return ([(step, adj.forward)] if step else []) + forward


def _step(q: str, prog: Program, adj: adjoint.Adjoints) -> list[Any]:
    """The reference's expressions whose sum is `q`: an adjoint's terms, or a node's statement."""
    if q.startswith(adj.prefix) and q[len(adj.prefix):] in prog.graph.slot_of:
        return [t.expr for t in adj.terms.get(q[len(adj.prefix):], [])]
    st = prog.graph.statement(q)
    return [] if st is None or st.expr is None else [st.expr]
