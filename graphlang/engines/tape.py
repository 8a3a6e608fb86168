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
from operator import itemgetter
from typing import Any

from graphlang.engines.plan import SCALAR, SCALAR_NS, rule_code
from graphlang.ir import rules
from graphlang.ir.graph import Eqn, Graph
from graphlang.limits import gc_paused
from graphlang.primitives.shapes import Shape
from graphlang.primitives.table import PRIMITIVES
from graphlang.symbolic.algebra import Builder

_INFIX = {"({0} + {1})": operator.add, "({0} - {1})": operator.sub, "({0} * {1})": operator.mul,
          "({0} / {1})": operator.truediv}
_FORWARD: dict[str, Callable[..., float]] = {}
_REVERSE: dict[tuple[str, int], Callable[..., float] | None] = {}
_ERRORS = (ArithmeticError, ValueError, TypeError)


def _forward_fn(name: str) -> Callable[..., float]:
    """The scalar plan's code for one primitive, as a function `f(a0, a1)` (a1 unused when unary:
    the tape passes the first argument twice, so that one call serves every equation)."""
    fn = _FORWARD.get(name)
    if fn is None:
        tpl = SCALAR[name]
        fn = _INFIX.get(tpl) or eval("lambda a0, a1: " + tpl.format("a0", "a1"), dict(SCALAR_NS))  # noqa: S307 - from the table
        _FORWARD[name] = fn
    return fn


def _reverse_fn(b: Builder, eq: Eqn, k: int) -> Callable[..., float] | None:
    """One argument's adjoint contribution `f(g, out, a0, a1)` (a1 unused when unary); None where the
    rule is zero."""
    key = (eq.prim.name, k)
    if key not in _REVERSE:
        rule = rules.rule_exprs(eq.prim.name, "vjp", None, ((),) * len(eq.ins))[k]
        code = None if rule is None else rule_code(b, eq, rule, rules.arg_names(len(eq.ins)), False, "scalar")
        _REVERSE[key] = None if code is None else eval(  # noqa: S307 - from the rule table only
            "lambda g, o, a0, a1: " + code[0].format(g="g", o="o", **{f"a{j}": f"a{j}" for j in range(len(eq.ins))}),
            dict(SCALAR_NS))
    return _REVERSE[key]


class Tape:
    """One graph's tape: per equation its forward function, slots and adjoint rules, in flat lists."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._ok: bool | None = None
        self._tape: tuple[list[Any], ...] | None = None
        self._live: tuple[tuple[int, ...], list[bool]] | None = None

    def usable(self, shapes: Sequence[Shape]) -> bool:
        """All values scalars, every equation on the scalar path (decided once: shapes follow from inputs')."""
        if self._ok is None:
            g = self.graph
            self._ok = list(shapes).count(()) == len(shapes) and set(g.ops) <= SCALAR.keys() and \
                g.attrs.count(None) == len(g.attrs)  # as `plan.scalar_ok`, in C over the graph's columns
        return self._ok

    def _lists(self) -> tuple[list[Any], ...]:
        """(forward functions, output slots, first arguments, second arguments (the first again when
        unary), the first's and the second's adjoint functions), read from the graph's columns."""
        if self._tape is None:
            with gc_paused():
                g = self.graph
                b = Builder()
                forward: dict[str, Any] = {}
                first: dict[str, Any] = {}
                second: dict[str, Any] = {}
                for op, ins in dict(zip(g.ops, g.args)).items():  # one equation per primitive
                    eq = Eqn(-1, PRIMITIVES[op], ins, None, 0, 0, -1)
                    forward[op], first[op] = _forward_fn(op), _reverse_fn(b, eq, 0)
                    second[op] = _reverse_fn(b, eq, 1) if len(ins) > 1 else None
                ops = g.ops  # (every list made by a loop in C)
                self._tape = (list(map(forward.__getitem__, ops)), g.outs, list(map(itemgetter(0), g.args)),
                              list(map(itemgetter(-1), g.args)),  # a unary equation's argument again
                              list(map(first.__getitem__, ops)), list(map(second.__getitem__, ops)))
        return self._tape

    def _reached(self, wrt: tuple[int, ...]) -> list[bool]:
        """`Graph.reached_from(wrt)` over the tape's lists (every equation has one or two arguments)."""
        if self._live is None or self._live[0] != wrt:
            _, outs, xs, ys, _, _ = self._lists()
            live = [False] * self.graph.n_slots
            for s in wrt:
                live[s] = True
            for o, x, y in zip(outs, xs, ys):
                if live[x] or live[y]:
                    live[o] = True
            self._live = (wrt, live)
        return self._live[1]

    def run(self, arrays: Sequence[Any], out: int, wrt: Sequence[int]) -> tuple[list[float], list[Any]] | None:
        """(every slot's value, every slot's adjoint: None where no path leads) or None: let the
        interpreter run (it reports the error; the tape only says that something is not finite)."""
        g = self.graph
        fns, outs, xs, ys, r0, r1 = self._lists()
        live = self._reached(tuple(wrt))
        V: list[float] = [0.0] * g.n_slots
        try:
            for k, a in enumerate(arrays):
                V[k] = float(a)
            for slot, value in g.consts.items():
                V[slot] = float(value)
            for fn, o, x, y in zip(fns, outs, xs, ys):
                V[o] = fn(V[x], V[y])
            check = sum(V)
            if check - check != 0.0:
                return None
            G: list[Any] = [None] * g.n_slots
            G[out] = 1.0
            _reverse(V, G, live, (reversed(outs), reversed(xs), reversed(ys), reversed(r0), reversed(r1)))
        except _ERRORS:
            return None
        check = sum(filter(None, G))  # (None and zeros left out: finite or not, as the sum of all)
        return (V, G) if check - check == 0.0 else None


def _reverse(V: list[float], G: list[Any], live: list[bool], rows: tuple[Any, ...]) -> None:
    """The interpreter's reverse loop on floats: contributions in its order, assigned or added."""
    for o, x, y, f0, f1 in zip(*rows):
        gv = G[o]
        if gv is None:
            continue
        vo = V[o]
        a = V[x]
        b = V[y]
        if f0 is not None and live[x]:
            c = f0(gv, vo, a, b)
            gx = G[x]
            G[x] = c if gx is None else gx + c
        if f1 is not None and live[y]:
            c = f1(gv, vo, a, b)
            gy = G[y]
            G[y] = c if gy is None else gy + c
