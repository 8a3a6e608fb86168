"""`Program.gradient`'s fast path: run the compiled plan, or say None to use the interpreter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

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
        for v in raw:
            if type(v) is not float and type(v) is not int:
                break
        else:
            try:
                _, grads, check = scalar._fn(*raw)
            except (ArithmeticError, ValueError):
                return None
            if check - check != 0.0:  # inf or nan somewhere: let the interpreter say where
                return None
            return {n: float(gr) for n, gr in zip(names, grads)}
    return _fast_gradient_slow(self, values, raw)

def _fast_gradient_slow(self: Any, values: Mapping[str, Any], raw: list[Any]) -> dict[str, Any] | None:

    if all(type(v) is float or type(v) is int for v in raw):
        key: tuple[Any, ...] = ()
        args: list[Any] = [float(v) for v in raw]
    else:
        try:
            args = [np.asarray(v, dtype=np.float64) for v in raw]
        except (TypeError, ValueError):
            return None
        key = tuple(a.shape for a in args)
    plan = self._plans.get(key)
    if plan is None:
        self._calls[key] = self._calls.get(key, 0) + 1
        if self._calls[key] < (2 if len(self.graph.eqns) > 20_000 else 1) or len(self._plans) > 16:
            return None  # a one-off evaluation of a huge program: interpreting is cheaper
        try:
            _, shapes = self.bind(values)
            if not self.is_scalar(shapes):
                return None
            plan = Plan(self.graph, shapes)
        except Exception:  # noqa: BLE001 - compiling is an optimization: interpret instead
            return None
        self._plans[key] = plan
    if key == () and not plan.scalar:
        args = [np.float64(a) for a in args]
    elif plan.scalar and key:  # numpy scalars (np.float64(2), np.array(2.0)): the plan runs on floats
        args = [float(a) for a in args]
    if key and not all(np.all(np.isfinite(a)) for a in args):
        return None
    try:
        _, grads = plan.gradient(args)
    except Fallback:
        return None
    return {n: py(gr) for n, gr in zip(self.graph.inputs, grads)}
