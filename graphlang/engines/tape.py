"""The tape: a scalar program run by one loop over flat lists (opcode, slots), nothing compiled per program.

Building it and running it cost time linear in the number of equations at any size (CPython's
compile of one straight-line function is super-linear), so it serves every first call and every
program too large to compile. It runs exactly the compiled scalar plan's arithmetic: the same
float functions for the forward pass (`Primitive.scalar`), the same adjoint templates from the
rule table (`plan.rule_code`), contributions added in the interpreter's order. Like the plan it is
optimistic: an exception or a non-finite value returns None, and the interpreter then locates and
reports the error.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from itertools import compress
from typing import Any

from graphlang.engines.plan import SCALAR, SCALAR_NS, rule_code, scalar_ok
from graphlang.ir import rules
from graphlang.ir.graph import Graph
from graphlang.limits import gc_paused
from graphlang.primitives.shapes import Shape
from graphlang.symbolic.algebra import Builder

_INFIX = {"({0} + {1})": operator.add, "({0} - {1})": operator.sub, "({0} * {1})": operator.mul,
          "({0} / {1})": operator.truediv}
_FORWARD: dict[str, Callable[..., float]] = {}
_REVERSE: dict[tuple[str, int], Callable[..., float] | None] = {}
_ERRORS = (ArithmeticError, ValueError, TypeError)


def _forward_fn(name: str, arity: int) -> Callable[..., float]:
    """The scalar plan's code for one primitive, as a function of its arguments."""
    fn = _FORWARD.get(name)
    if fn is None:
        tpl = SCALAR[name]
        args = ", ".join(f"a{k}" for k in range(arity))
        fn = _INFIX.get(tpl) or eval(f"lambda {args}: " + tpl.format(*args.split(", ")), dict(SCALAR_NS))  # noqa: S307 - from the table
        _FORWARD[name] = fn
    return fn


def _reverse_fn(b: Builder, eq: Any, k: int) -> Callable[..., float] | None:
    """One argument's adjoint contribution `f(g, out, a0, a1)`; None where the rule is zero."""
    key = (eq.prim.name, k)
    if key not in _REVERSE:
        rule = rules.rule_exprs(eq.prim.name, "vjp", None, ((),) * len(eq.ins))[k]
        code = None if rule is None else rule_code(b, eq, rule, rules.arg_names(len(eq.ins)),
                                                   ((),) * len(eq.ins), k, False, "scalar")
        args = "".join(f", a{j}" for j in range(len(eq.ins)))
        _REVERSE[key] = None if code is None else eval(  # noqa: S307 - from the rule table only
            f"lambda g, o{args}: " + code[0].format(g="g", o="o", **{f"a{j}": f"a{j}" for j in range(len(eq.ins))}),
            dict(SCALAR_NS))
    return _REVERSE[key]


class Tape:
    """One graph's forward tape, and a reverse tape per set of slots whose adjoints are wanted."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._ok: bool | None = None
        self._fwd: tuple[list[Any], ...] | None = None
        self._rev: dict[tuple[int, ...], tuple[list[Any], ...]] = {}

    def usable(self, shapes: Sequence[Shape]) -> bool:
        """All values scalars, every equation on the scalar path (decided once: shapes follow from inputs')."""
        if self._ok is None:
            self._ok = scalar_ok(self.graph, list(shapes))
        return self._ok

    def _forward_tape(self) -> tuple[list[Any], ...]:
        if self._fwd is None:
            with gc_paused():
                eqns = self.graph.eqns
                fns = [_forward_fn(eq.prim.name, len(eq.ins)) for eq in eqns]
                self._fwd = (fns, [eq.out for eq in eqns], [eq.ins[0] for eq in eqns],
                             [eq.ins[1] if len(eq.ins) > 1 else -1 for eq in eqns])
        return self._fwd

    def _reverse_tape(self, out: int, wrt: tuple[int, ...]) -> tuple[list[Any], ...]:
        """Per equation reached backwards from `out`: its slots, each argument's rule and whether the
        contribution is the first to that adjoint (assigned) or not (added), as the interpreter does."""
        key = (out, *wrt)
        tape = self._rev.get(key)
        if tape is None:
            with gc_paused():
                tape = self._build_reverse(out, wrt)
            self._rev = {key: tape}  # one at a time: a huge program's tapes are big
        return tape

    def _build_reverse(self, out: int, wrt: tuple[int, ...]) -> tuple[list[Any], ...]:
        g = self.graph
        live = g.reached_from(wrt)
        has = [False] * g.n_slots
        has[out] = True
        b = Builder()
        cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
        o_, a_, b_, fa_, fb_, na_, nb_ = cols
        for eq in reversed(g.eqns):
            if not has[eq.out]:
                continue
            fns: list[Callable[..., float] | None] = []
            first: list[bool] = []
            for k, i in enumerate(eq.ins):
                fn = _reverse_fn(b, eq, k) if live[i] else None
                fns.append(fn)
                first.append(fn is not None and not has[i])
                if fn is not None:
                    has[i] = True
            if not any(f is not None for f in fns):
                continue
            o_.append(eq.out)
            a_.append(eq.ins[0])
            b_.append(eq.ins[1] if len(eq.ins) > 1 else -1)
            fa_.append(fns[0])
            fb_.append(fns[1] if len(fns) > 1 else None)
            na_.append(first[0])
            nb_.append(first[1] if len(first) > 1 else False)
        return (*cols, has)

    def run(self, arrays: Sequence[Any], out: int, wrt: Sequence[int]) -> tuple[list[float], list[float]] | None:
        """(every slot's value, every slot's adjoint: 0.0 where none) or None: let the interpreter run."""
        g = self.graph
        fns, outs, xs, ys = self._forward_tape()
        rev = self._reverse_tape(out, tuple(wrt))
        V: list[float] = [0.0] * g.n_slots
        try:
            for k, a in enumerate(arrays):
                V[k] = float(a)
            for slot, value in g.consts.items():
                V[slot] = float(value)
            for fn, o, x, y in zip(fns, outs, xs, ys):
                V[o] = fn(V[x]) if y < 0 else fn(V[x], V[y])
            check = sum(V)
            if check - check != 0.0:
                return None
            G = _reverse(V, out, g.n_slots, rev)
            if G is None:
                return None
        except _ERRORS:
            return None
        return V, G


def _reverse(V: list[float], out: int, n: int, rev: tuple[list[Any], ...]) -> list[float] | None:
    """The reverse loop: adjoints seeded 1.0 at `out`, non-finite anywhere: None."""
    o_, a_, b_, fa_, fb_, na_, nb_, has = rev
    G: list[float] = [0.0] * n
    G[out] = 1.0
    for o, a, b, fa, fb, na, nb in zip(o_, a_, b_, fa_, fb_, na_, nb_):
        gv = G[o]
        vo = V[o]
        if b < 0:
            c = fa(gv, vo, V[a])
            G[a] = c if na else G[a] + c
            continue
        x = V[a]
        y = V[b]
        if fa is not None:
            c = fa(gv, vo, x, y)
            G[a] = c if na else G[a] + c
        if fb is not None:
            c = fb(gv, vo, x, y)
            G[b] = c if nb else G[b] + c
    check = sum(compress(G, has))
    return G if check - check == 0.0 else None
