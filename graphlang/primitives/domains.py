"""Domain checks: where a primitive is undefined, a message naming the offending value."""

from __future__ import annotations

from typing import Any

import numpy as np


# Where a derivative is a convention, not a limit (SPEC §1: relu'(0) = 0, abs'(0) = 0, a tie of
# max/min goes to the first argument): two equal functions may differ there (max(x, z) + min(x, z)
# is x + z, whose slope at a tie is not the conventions' sum). A row's `kink`: is the point on it.
def at_zero(x: Any) -> bool:
    return bool(np.any(x == 0))


def at_tie(x: Any, y: Any) -> bool:
    return bool(np.any(x == y))


def on_kinks(eqns: Any, values: list[Any]) -> list[Any]:
    """The equations sitting on their kink, given every slot's value (a graph's `eqns`)."""
    return [eq for eq in eqns if eq.prim.kink is not None and eq.prim.kink(*(values[i] for i in eq.ins))]


def first(cond: np.ndarray, values: np.ndarray) -> float:
    return float(np.asarray(values)[np.asarray(cond)].flat[0]) if np.any(cond) else float("nan")


def ln_domain(x: Any) -> str | None:
    x = np.asarray(x)
    if np.any(x == 0):
        return "ln(0) is -infinity: the argument is 0"
    if np.any(x < 0):
        return f"ln is defined only for positive numbers; the argument is {first(x < 0, x):.6g}"
    return None


def sqrt_domain(x: Any) -> str | None:
    x = np.asarray(x)
    if np.any(x < 0):
        return f"sqrt of a negative number; the argument is {first(x < 0, x):.6g}"
    return None


def div_domain(x: Any, y: Any) -> str | None:
    if np.any(np.asarray(y) == 0):
        return "division by zero: the divisor is 0"
    return None


def pow_domain(x: Any, y: Any) -> str | None:
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    bad = (x < 0) & (y != np.round(y))
    if np.any(bad):
        return (f"({first(bad, x):.6g})^{first(bad, y):.6g} is not a real number: a negative base "
                "needs an integer exponent")
    zero = (x == 0) & (y < 0)
    if np.any(zero):
        return f"0^{first(zero, y):.6g} divides by zero"
    return None


def dpow_domain(x: Any, y: Any) -> str | None:
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    bad = x <= 0
    if np.any(bad):
        return (f"a derivative of x^y is not finite at x = {first(bad, x):.6g}, y = {first(bad, y):.6g}"
                " (x^y is not differentiable there)")
    return None
