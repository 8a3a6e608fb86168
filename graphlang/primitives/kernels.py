"""Numeric kernels behind the primitives: numpy, float64, stable for large inputs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Array = np.ndarray


def sigmoid(u: Array) -> Array:
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(u: Array) -> Array:
    u = np.asarray(u)
    e = np.exp(u - u.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def total(x: Array, axis: int | None) -> Array:
    """sum (the method form is twice as fast as np.sum on small arrays)."""
    return x.sum(axis=axis) if isinstance(x, np.ndarray) else np.sum(x, axis=axis)


def logsumexp(u: Array) -> Array:
    m = np.max(u)
    return m + np.log(np.sum(np.exp(u - m)))


def relu(u: Array) -> Array:
    return np.maximum(u, 0.0)


def step(u: Array) -> Array:
    """1 where u > 0, else 0: relu's derivative, with relu'(0) = 0."""
    return (np.asarray(u) > 0).astype(np.float64)


def xlogy(u: Array, v: Array) -> Array:
    """u * ln(v), and 0 wherever u == 0 (so 0^y has derivative 0 in y)."""
    u, v = np.broadcast_arrays(np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64))
    zero = u == 0
    return np.where(zero, 0.0, u * np.log(np.where(zero, 1.0, v)))


def xdivy(u: Array, v: Array) -> Array:
    """u / v, and 0 wherever u == 0 (even where v == 0): the derivative of xlogy in v."""
    u, v = np.broadcast_arrays(np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64))
    zero = u == 0
    return np.where(zero, 0.0, u / np.where(zero, 1.0, v))


def _falling(y: Array, k: int, j: int) -> Array:
    """The j-th derivative in y of y(y-1)...(y-k+1) (the coefficient of x^y's k-th x-derivative)."""
    coeffs = np.array([1.0])
    for i in range(k):
        coeffs = np.convolve(coeffs, [1.0, -float(i)])
    for _ in range(j):
        coeffs = np.polyder(coeffs) if len(coeffs) > 1 else np.array([0.0])
    return np.polyval(coeffs, y)


def dpow(x: Any, y: Any, orders: tuple[int, int]) -> Any:
    """∂^k/∂x^k ∂^m/∂y^m of x^y with its limits at x = 0, so no removable 0·∞ is left:
    Σ_j C(m, j) c_k^(j)(y) x^(y-k) ln(x)^(m-j), a term with coefficient 0 being 0 (x^0 has derivative
    0 even at x = 0), and x^a ln(x)^p at x = 0 its limit (0 for a > 0). Raises FloatingPointError
    where the derivative is not finite (or not real: ln of a negative base)."""
    k, m = orders
    if (k, m) == (1, 0):  # the common case: y·x^(y-1), and 0 where y = 0
        with np.errstate(all="ignore"):
            value = np.multiply(y, np.power(x, np.subtract(y, 1.0)))
            if np.any(np.asarray(y) == 0):
                value = np.where(np.asarray(y) == 0, 0.0, value)
        if not np.all(np.isfinite(value)):
            raise FloatingPointError("invalid value encountered in dpow")
        return value
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    total = np.zeros(x.shape)
    with np.errstate(all="ignore"):
        for j in range(m + 1):
            coef = math.comb(m, j) * _falling(y, k, j)
            p, a = m - j, y - k
            at_zero = np.where(a > 0, 0.0, np.where((a == 0) & (p == 0), 1.0, np.inf))
            pos = np.where(x > 0, x, 1.0)
            away = np.power(np.where(x == 0, 1.0, x), a) * (np.log(pos) ** p if p else 1.0)
            away = np.where(x < 0, np.nan if p else away, away)
            total = total + np.where(coef == 0, 0.0, coef * np.where(x == 0, at_zero, away))
    if not np.all(np.isfinite(total)):
        raise FloatingPointError("invalid value encountered in dpow")
    return total if total.ndim else np.float64(total)


def expand(g: Array, like: Array, axis: int | None) -> Array:
    """Undo a sum: broadcast g back over the summed axis (or all axes) of `like`."""
    if axis is None and np.ndim(g) == 0:
        return np.full(np.shape(like), g, dtype=np.float64)
    if axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(like)).astype(np.float64)


def embed(g: Array, like: Array, index: tuple[int, ...]) -> Array:
    """Undo an index: zeros shaped like `like`, with g at `index`."""
    out = np.zeros(np.shape(like))
    out[index] = g
    return out


def stack(*items: Array) -> Array:
    return np.stack([np.asarray(i, dtype=np.float64) for i in items])


def unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum an adjoint over the axes broadcasting added, back to `shape`."""
    g = np.asarray(g)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)
