"""`Program.evaluate` and `Program.forward` for tensor programs: numpy code per input shapes.

One generated function per combination of input shapes (`plan.source` in array mode with every named
slot as a result), compiled at its second use, run under the interpreter's floating-point regime
(`strict_floats`: an overflow or invalid operation raises) with the same kernels (the primitive table's
`impl`s, `kernels.unbroadcast`). Any exception or a non-finite result returns None and the interpreter
reports the error at its statement. Results are converted as the interpreter's (`numbers.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from graphlang.engines.fastpath import compile_refused, fits
from graphlang.engines.plan import build, source
from graphlang.ir.graph import Graph
from graphlang.limits import gc_paused
from graphlang.numbers import owned, py, strict_floats
from graphlang.primitives.shapes import Shape

MAX_PLANS = 16  # input-shape combinations (with and without adjoints) compiled per program
COMPILE_AT_CALL = 2  # as for scalar programs: a one-off is interpreted

_Key = tuple[tuple[Shape, ...], bool]


def _finite(x: Any) -> bool:
    """A Python float (a constant's adjoint, the seed) is checked; numpy results are finite already:
    under `strict_floats` an operation that would make an inf or NaN from finite values raises, as
    in the interpreter, whose numpy calls these are."""
    return math.isfinite(x) if type(x) is float else True


class FastArrays:
    """The compiled evaluations of one graph, keyed by its input shapes and whether adjoints are asked."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.plans: dict[_Key, Callable[..., Any] | None] = {}  # None: refused (compiling failed)
        self.calls: dict[_Key, int] = {}

    def _plan(self, key: _Key, shapes: list[Shape]) -> Callable[..., Any] | None:
        if key in self.plans:
            return self.plans[key]
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] < COMPILE_AT_CALL or len(self.plans) >= MAX_PLANS or not fits(self.graph):
            return None
        g = self.graph
        with_grad = key[1]
        out = g.slot_of[g.outputs[0]]
        slots = [g.slot_of[n] for n in g.names]
        parts = ["(" + "".join(f"v{s}, " for s in slots) + ")"]
        if with_grad:
            parts.append("(" + "".join(f"g{s}, " for s in slots) + ")")
        named = "(" + ", ".join(parts) + ",)"
        try:
            with gc_paused():
                lines = source(g, shapes, [out], sorted(set(slots)), "array", with_grad=with_grad)
                fn: Callable[..., Any] | None = build(lines, list(range(len(g.inputs))), named, False)
        except Exception as err:  # noqa: BLE001 - compiling is an optimization: interpret instead
            compile_refused(err)
            fn = None
        self.plans[key] = fn
        return fn

    def __call__(self, arrays: list[Any], shapes: list[Shape], with_grad: bool) -> Any:
        """(values, adjoints, gradient) by name, or (values,) without adjoints; None: interpret."""
        key = (tuple(shapes[: len(arrays)]), with_grad)
        fn = self._plan(key, shapes)
        if fn is None:
            return None
        with strict_floats():
            try:
                parts, _ = fn(*arrays)
            except (ArithmeticError, ValueError, TypeError, IndexError):
                return None
        for part in parts:
            for x in part:
                if not _finite(x):
                    return None
        names = self.graph.names
        values = {n: py(v) for n, v in zip(names, parts[0])}
        if not with_grad:
            owned(values)
            return (values,)
        adjoints = {n: py(v) for n, v in zip(names, parts[1])}
        gradient = {n: adjoints[n] for n in self.graph.inputs}
        owned(values, adjoints, gradient)
        return values, adjoints, gradient
