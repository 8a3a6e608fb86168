"""`Program.evaluate`'s fast path (reverse mode, scalar output): every named node's value and adjoint
from one compiled straight-line function, or None to use the interpreter.

The function is `plan.source` with every named slot as a result: the same forward statements (all of
them, as the interpreter evaluates all of them), the same adjoint rules, and adjoints for exactly the
slots the interpreter gives one (those reached from a named slot: constants the output reads
included). It runs only when every value is a scalar (plain floats and `math`); any exception or a
non-finite value anywhere returns None, and the interpreter then finds, reports or (for a constant's
adjoint that does not exist) leaves out what went wrong. tests/test_fasteval.py compares both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from graphlang.engines.plan import build, scalar_ok, source
from graphlang.ir.graph import Graph
from graphlang.limits import gc_paused
from graphlang.primitives.shapes import Shape

# Compiled on the second evaluation: a one-off (the command line) is cheaper interpreted, and its
# numbers stay the interpreter's to the last bit (numpy's SIMD exp/log/tanh/pow may differ from
# libm's, which the plain-float code calls, by an ulp on some machines).
COMPILE_AT_CALL = 2


_FLOAT = {float}
_BIG = 2 ** 1023  # an int past this is left to `bind` (as `fastpath._floats` leaves it)


class FastEvaluate:
    """The compiled evaluation of one graph when all its values are scalars."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.names = list(graph.names)
        self._inputs = tuple(graph.inputs)
        self.slots = [graph.slot_of[n] for n in self.names]  # in the order of the names (repeats kept)
        self._fn: Callable[..., Any] | None = None
        self._refused = False  # with scalar inputs not all values are scalars, or compiling failed
        self._calls = 0
        # Set by `Program.evaluate` once all-scalar inputs passed its checks (the cost estimate of
        # reverse mode by every input, under these limits): then plain floats skip `bind`.
        self.checked: object = None

    def floats(self, values: Any, limits: object) -> tuple[dict[str, float], dict[str, float]] | None:
        """The answer for a mapping of exactly the inputs to Python floats (or ints), already checked;
        None for anything else (the caller binds and checks the values and calls `__call__`)."""
        fn = self._fn
        if fn is None or self.checked is not limits:
            return None
        try:
            args = [values[n] for n in self._inputs]
            if len(values) != len(args):
                return None
        except (KeyError, TypeError):
            return None
        if set(map(type, args)) != _FLOAT:  # ints as floats (as bind reads them); anything else: None
            if not all(type(a) is float or (type(a) is int and -_BIG < a < _BIG) for a in args):
                return None
            args = [float(a) for a in args]
        total = sum(args)
        if total - total != 0.0:  # an inf or nan (or a sum that overflows): bind checks, fully
            return None
        try:
            vals, adjs, check = fn(*args)
        except (ArithmeticError, ValueError, TypeError):
            return None
        if check - check != 0.0:
            return None
        names = self.names
        return dict(zip(names, vals)), dict(zip(names, adjs))

    def _compile(self) -> Callable[..., Any] | None:
        g = self.graph
        out = g.slot_of[g.outputs[0]]
        results = "(" + "".join(f"v{s}, " for s in self.slots) + "), (" + "".join(f"g{s}, " for s in self.slots) + ")"
        with gc_paused():
            lines = source(g, [()] * g.n_slots, [out], sorted(set(self.slots)), "scalar")
            return build(lines, list(range(len(g.inputs))), results, True)

    def __call__(self, arrays: list[Any], shapes: list[Shape]) -> tuple[dict[str, float], dict[str, float]] | None:
        """(values, adjoints) by name, as Python floats; None: interpret."""
        n = len(self.graph.inputs)
        if any(s != () for s in shapes[:n]):
            return None
        if self._fn is None:
            if self._refused:
                return None
            if not scalar_ok(self.graph, shapes):  # shapes follow from the input shapes (all () here)
                self._refused = True
                return None
            self._calls += 1
            if self._calls < COMPILE_AT_CALL:
                return None
            try:
                self._fn = self._compile()
            except Exception:  # noqa: BLE001 - compiling is an optimization: interpret instead
                self._refused = True
                return None
        return self._run([float(a) for a in arrays])

    def _run(self, args: list[float]) -> tuple[dict[str, float], dict[str, float]] | None:
        assert self._fn is not None
        try:
            vals, adjs, check = self._fn(*args)
        except (ArithmeticError, ValueError, TypeError):
            return None
        if not math.isfinite(check):
            return None
        # Python floats already (float inputs, float constants, the `math`-based scalar kernels)
        return dict(zip(self.names, vals)), dict(zip(self.names, adjs))
