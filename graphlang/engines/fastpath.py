"""`Program.gradient`'s fast path: run the compiled plan, or say None to use the interpreter.

The fast path has the interpreter's semantics exactly: the same values are accepted (a Python
int is a float, never a bigint; strings and booleans are refused by `bind`), every statement is
evaluated, and any numeric failure sends the caller to the interpreter, which reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphlang.engines.plan import Fallback, Plan
from graphlang.numbers import py


def fast_gradient(self: Any, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The compiled fast path; None sends the caller to the interpreter (which reports errors)."""
    names = self.graph.inputs
    try:
        raw = [values[n] for n in names]
        if len(values) != len(names):
            return None
    except (KeyError, TypeError):
        return None
    scalar = self._plans.get(())
    if scalar is not None and scalar.scalar:
        args: list[float] = []
        for v in raw:
            if type(v) is float:
                args.append(v)
            elif type(v) is int:
                if not -2 ** 1023 < v < 2 ** 1023:
                    return None  # not a float64: the interpreter says so
                args.append(float(v))  # never bigint arithmetic
            else:
                break
        else:
            try:
                _, grads, check = scalar._fn(*args)
            except (ArithmeticError, ValueError, TypeError):
                return None
            if check - check != 0.0:  # inf or nan somewhere: let the interpreter say where
                return None
            return {n: float(gr) for n, gr in zip(names, grads)}
    return _fast_gradient_slow(self, values)


def _fast_gradient_slow(self: Any, values: Mapping[str, Any]) -> dict[str, Any] | None:
    # Values are checked as `evaluate` checks them (its errors, raised here, are the same).
    arrays, shapes = self.bind(values)
    if not self.is_scalar(shapes):
        return None
    n = len(arrays)
    key: tuple[Any, ...] = () if all(s == () for s in shapes[:n]) else tuple(shapes[:n])
    plan = self._plans.get(key)
    if plan is None:
        self._calls[key] = self._calls.get(key, 0) + 1
        if self._calls[key] < (2 if len(self.graph.eqns) > 20_000 else 1) or len(self._plans) > 16:
            return None  # a one-off evaluation of a huge program: interpreting is cheaper
        try:
            plan = Plan(self.graph, shapes)
        except Exception:  # noqa: BLE001 - compiling is an optimization: interpret instead
            return None
        self._plans[key] = plan
    try:
        _, grads = plan.gradient(arrays)
    except Fallback:
        return None
    return {n: py(gr) for n, gr in zip(self.graph.inputs, grads)}
