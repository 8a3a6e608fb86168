"""`Program.gradient`'s fast path: compiled plans per input shapes, or None to use the interpreter.

The fast path has the interpreter's semantics exactly: the same values are accepted (a Python
int is a float, never a bigint; strings and booleans are refused by `bind`), every statement is
evaluated, and any numeric failure sends the caller to the interpreter, which reports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from graphlang.engines.plan import Fallback, Plan
from graphlang.engines.tape import Tape
from graphlang.ir.bind import plain_dict
from graphlang.ir.graph import Graph
from graphlang.numbers import owned, py
from graphlang.primitives.shapes import Shape


def compile_refused(err: Exception) -> None:
    """Compiling is an optimization: where it fails the interpreter runs instead. Only running out of
    room (memory, the compiler's recursion) is expected; anything else is a bug in the generated code,
    raised where GRAPHLANG_STRICT_COMPILE is set (the test suite sets it), so that it fails a test
    rather than showing only as slowness (a reviewer's find)."""
    if os.environ.get("GRAPHLANG_STRICT_COMPILE") and not isinstance(err, (MemoryError, RecursionError)):
        raise err


Bind = Callable[[Mapping[str, Any]], tuple[list[Any], list[Shape]]]
MAX_PLANS = 16  # input-shape combinations compiled per program
HUGE = 20_000  # equations: past this, a one-off evaluation runs the tape (compiling costs more)
# A scalar program of more equations than TAPE_FROM runs the tape (linear, nothing to compile) for
# its first COMPILE_AFTER calls, then is compiled (measured: compiling costs 100–300 tape runs at
# 10⁴ equations, ≈ 30–40 at 10⁵, and the compiled code is 2–3× faster than the tape: a caller who
# keeps calling pays at most about twice the best choice made in hindsight), and is never compiled
# past COMPILE_MAX equations (the default statement limit: CPython's compile time grows faster than
# the function's length, and past it the plan would be chunks handing slots through dicts).
TAPE_FROM = 1_000
COMPILE_AFTER = 100
COMPILE_MAX = 200_000
# Compiling holds ≈ 10 KB per equation at its peak (CPython's compiler on a straight-line function:
# 64,000 equations 650–750 MB, big_100000's 133,562 1.25 GB; 12 KB is budgeted, a margin): a program
# compiles only where that fits its limits' max_memory (the checker's 250 MB: ≈ 20,000 equations;
# past it the tape or the interpreter, which hold a few hundred bytes an equation; an API red team's
# 63,681 took 718 MB).
COMPILE_BYTES = 12_000


def fits(graph: Graph) -> bool:
    """Compiling this graph stays within its limits' memory budget."""
    return graph.n_eqns * COMPILE_BYTES <= graph.limits.max_memory


class FastGradient:
    """The compiled plans of one graph's gradient, keyed by input shapes (`()`: all scalars)."""

    def __init__(self, graph: Graph, bind: Bind) -> None:
        self.graph = graph
        self.bind = bind
        self.plans: dict[tuple[Any, ...], Plan] = {}
        self.calls: dict[tuple[Any, ...], int] = {}
        self.tape = Tape(graph)  # scalar programs too big to compile, and first calls of big ones

    def __call__(self, values: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The gradient by a compiled plan; None sends the caller to the interpreter."""
        if values is None:
            return None
        if type(values) is not dict:  # (the common case without a call)
            try:
                values = plain_dict(values)  # (not a mapping, or one whose reads raise: bind says so)
            except Exception:  # noqa: BLE001
                return None
        names = self.graph.inputs
        try:
            raw = [values[n] for n in names]
            if len(values) != len(names):
                return None
        except (KeyError, TypeError):
            return None
        scalar = self.plans.get(())
        if scalar is not None and scalar.scalar:
            args = _floats(raw)
            if args is not None:
                try:
                    _, grads, check = scalar._fn(*args)
                except (ArithmeticError, ValueError, TypeError):
                    return None
                if check - check != 0.0:  # inf or nan somewhere: let the interpreter say where
                    return None
                return {n: float(gr) for n, gr in zip(names, grads)}
        return self._general(values)

    def _general(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        # Values are checked as `evaluate` checks them (its errors, raised here, are the same).
        arrays, shapes = self.bind(values)
        outs = self.graph.outputs
        if len(outs) != 1 or shapes[self.graph.slot_of[outs[0]]] != ():
            return None
        n = len(arrays)
        key: tuple[Any, ...] = () if all(s == () for s in shapes[:n]) else tuple(shapes[:n])
        plan = self.plans.get(key)
        if plan is None:
            self.calls[key] = self.calls.get(key, 0) + 1
            big = self.graph.n_eqns
            if key == () and big > TAPE_FROM and self.tape.usable(shapes) and (
                    self.calls[key] <= COMPILE_AFTER or big > COMPILE_MAX or not fits(self.graph)):
                return self._taped(arrays)
            if self.calls[key] < (2 if big > HUGE else 1) or len(self.plans) > MAX_PLANS or not fits(self.graph):
                return None  # a one-off evaluation of a huge program: interpreting is cheaper
            try:
                plan = Plan(self.graph, shapes)
            except Exception as err:  # noqa: BLE001 - compiling is an optimization: interpret instead
                compile_refused(err)
                return None
            self.plans[key] = plan
        try:
            _, grads = plan.gradient(arrays)
        except Fallback:
            return None
        return owned({n: py(gr) for n, gr in zip(self.graph.inputs, grads)})  # type: ignore[no-any-return]

    def _taped(self, arrays: list[Any]) -> dict[str, Any] | None:
        g = self.graph
        wrt = list(range(len(g.inputs)))
        res = self.tape.run(arrays, g.slot_of[g.outputs[0]], wrt)
        return None if res is None else {n: 0.0 if res[1][k] is None else res[1][k]
                                         for k, n in zip(wrt, g.inputs)}


INT_RANGE = 2 ** 1023  # a Python int inside it converts to a float without overflow (a constant: `2 ** 1023`
# written in the test itself was computed on every call, a bigint power: int inputs took 2.7× as long)


def as_float(v: Any) -> float | None:
    """A Python float, an int (never bigint arithmetic), or a numpy real scalar or 0-d array (what a
    loop over np.linspace passes: 10–20× slower interpreted) as `bind` reads it; None for anything else."""
    if type(v) is float:
        return v
    if type(v) is int:
        return float(v) if -INT_RANGE < v < INT_RANGE else None
    if isinstance(v, (np.floating, np.integer)) or (type(v) is np.ndarray and v.ndim == 0):
        return float(v) if v.dtype.kind in "fiu" else None
    return None


def _floats(raw: list[Any]) -> list[float] | None:
    """Python floats and ints (and numpy's real scalars) as floats; None for anything else."""
    args: list[float] = []
    for v in raw:
        f = v if type(v) is float else as_float(v)
        if f is None:
            return None
        args.append(f)
    return args
