"""Numeric kernels behind the primitives: numpy, float64, stable for large inputs."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from graphlang.primitives.structure import (  # noqa: F401 - the kernels' names for them
    concat,
    embed,
    expand,
    joined,
    padrows,
    rows,
    stack,
    unbroadcast,
)

Array = np.ndarray


def sigmoid(u: Array) -> Array:
    """1 / (1 + e^-u) where e^-u cannot overflow (u > -708), e / (1 + e) with e = e^u below: each
    element by its own value's formula, as `sigmoid_float` (a batch's neighbours, or the same
    number as a scalar, once changed the last bits)."""
    if isinstance(u, np.ndarray) and u.ndim and u.size and u.min() > -708.0:  # exp(708) < 1.8e308
        d = np.exp(np.negative(u))  # (the common case in 4 passes: every element above -708)
        d += 1.0
        return np.divide(1.0, d, out=d)
    high = np.asarray(u) > -708.0
    e = np.exp(np.where(high, np.negative(u), u))
    return np.where(high, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(u: Array) -> Array:
    u = np.asarray(u)
    with np.errstate(over="ignore"):  # u - max below -1.8e308 is -inf, and its exp exactly 0
        e = np.exp(u - u.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softplus(u: Array) -> Array:
    """ln(1 + e^u) without overflow: max(u, 0) + ln(1 + e^-|u|)."""
    u = np.asarray(u, dtype=np.float64)
    return np.maximum(u, 0.0) + np.log1p(np.exp(-np.abs(u)))


def logsigmoid(u: Array) -> Array:
    """ln(sigmoid(u)) = -softplus(-u) without overflow or log(0)."""
    u = np.asarray(u, dtype=np.float64)
    return np.minimum(u, 0.0) - np.log1p(np.exp(-np.abs(u)))


def log_sum_shifted(shifted: Array) -> Array:
    """ln Σ e^s over the last axis (kept), where each row's largest s is 0: log1p of the other
    terms, whose sum rounding 1 + 8.8e-27 to 1 lost (logsumexp([0, -60]) was 0; a tie adds its 1)."""
    e = np.exp(shifted)
    if e.ndim == 1:  # (a vector, as most calls: indexing is 3 µs faster than put_along_axis)
        e[int(np.argmax(shifted))] = 0.0
    else:
        np.put_along_axis(e, np.argmax(shifted, axis=-1)[..., None], 0.0, axis=-1)
    return np.log1p(e.sum(axis=-1, keepdims=True))


def logsoftmax(u: Array) -> Array:
    """u - logsumexp(u) over the last axis, stable (the log of softmax, never log(0))."""
    u = np.asarray(u, dtype=np.float64)
    shifted = u - u.max(axis=-1, keepdims=True)  # (an element 1.8e308 below the max overflows: its value does)
    return shifted - log_sum_shifted(shifted)


def total(x: Array, axis: int | None) -> Array:
    """sum (the method form is twice as fast as np.sum on small arrays)."""
    return x.sum(axis=axis) if isinstance(x, np.ndarray) else np.sum(x, axis=axis)


def mean(x: Array, axis: int | None) -> Any:
    """np.mean; where its sum overflows but the mean does not (1e308s), the sum of x / n."""
    with np.errstate(over="ignore"):
        m = np.mean(x, axis=axis)
    if np.all(np.isfinite(m)) or not np.all(np.isfinite(x)):
        return m
    return np.sum(np.asarray(x) / (np.size(x) // max(np.size(m), 1)), axis=axis)


def logsumexp(u: Array, axis: int | None = None) -> Array:
    """ln Σ e^u over all elements, or over one axis (as sum's), stable."""
    u = np.asarray(u, dtype=np.float64)
    if axis is not None:
        rows = np.moveaxis(u, axis, -1)  # each reduced line a row: the max of each shifted out
        m = rows.max(axis=-1, keepdims=True)
        with np.errstate(over="ignore"):
            shifted = rows - m
        return (m + log_sum_shifted(shifted))[..., 0]
    m = np.max(u)
    with np.errstate(over="ignore"):  # as in softmax: a term 1.8e308 below the max adds exactly 0
        shifted = (u - m).reshape(-1)
    return m + log_sum_shifted(shifted)[0]


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
    """The j-th derivative in y of y(y-1)...(y-k+1) (the coefficient of x^y's k-th x-derivative):
    j! times the elementary symmetric polynomial of degree k-j in the factors y-i, built factor by
    factor (the polynomial's own coefficients, Stirling numbers of alternating sign, cancel: from
    k ≈ 20 on they gave ∂^k/∂x^k x^k wrong, 40! as -2e54)."""
    y = np.asarray(y, dtype=np.float64)
    if j > k:
        return np.zeros(y.shape)
    e = [np.ones(y.shape)] + [np.zeros(y.shape) for _ in range(k - j)]
    for i in range(k):
        t = y - i
        for r in range(min(i + 1, k - j), 0, -1):
            e[r] = e[r] + t * e[r - 1]
    return float(math.factorial(j)) * e[k - j]


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
            raise _not_finite(value, x)
        _underflowed(value, x, y, np.asarray(y) != 0)
        return value
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    total, lost = np.zeros(x.shape), np.zeros(x.shape, dtype=bool)
    with np.errstate(all="ignore"):
        for j in range(m + 1):
            coef = math.comb(m, j) * _falling(y, k, j)
            p, a = m - j, y - k
            at_zero = np.where(a > 0, 0.0, np.where((a == 0) & (p == 0), 1.0, np.inf))
            pos = np.where(x > 0, x, 1.0)
            away = np.power(np.where(x == 0, 1.0, x), a) * (np.log(pos) ** p if p else 1.0)
            away = np.where(x < 0, np.nan if p else away, away)
            term = np.where(coef == 0, 0.0, coef * np.where(x == 0, at_zero, away))
            lost = lost | (np.abs(term) < _TINY) & (coef != 0)  # each term: a sum may cancel to an honest 0
            total = total + term
    if not np.all(np.isfinite(total)):
        raise _not_finite(total, x)
    _underflowed(None, x, y, lost)
    return total if total.ndim else np.float64(total)


_TINY = float(np.finfo(np.float64).tiny)


def _not_finite(value: Any, x: Any) -> FloatingPointError:
    """An overflow away from 0 (x^-1's −x^-2 at −5e-155 is −3.6e308) is said as one, not as the
    invalid value a negative base's logarithm makes (which blamed the exponent: a numerics fuzzer's
    find); a pole at x = 0 (x^0.5) stays "not finite"."""
    value, x = np.broadcast_arrays(np.asarray(value), np.asarray(x))
    over = not np.any(np.isnan(value)) and not np.any(~np.isfinite(value) & (x == 0))
    return FloatingPointError(("overflow" if over else "invalid value") + " encountered in dpow")


def _underflowed(value: Any, x: Any, y: Any, live: Any) -> None:
    """FloatingPointError where a derivative of x^y (`value`; None: `live` says which terms were lost)
    is below float64's smallest normal number though it is not 0, |x| > 1 and x^y itself is a normal
    number: t^(c-2) of a large t, lost as 0, then met by t's large derivatives (the Hessian of
    (x^200)^0.01, x², was 398 for 2 at x = 10: a fuzzer's find). Where x^y is lost too (x^-2 at
    1e155), or x is small (x^3 at 1e-200), the derivative rounds as the value does, and stays."""
    lost = live if value is None else (np.abs(value) < _TINY) & live
    if not np.any(lost & (np.abs(x) > 1.0)):
        return
    with np.errstate(all="ignore"):
        kept = np.abs(np.power(np.abs(np.asarray(x, dtype=np.float64)), y)) >= _TINY  # (|x|^y: its magnitude)
    if np.any(lost & (np.abs(x) > 1.0) & kept):
        raise FloatingPointError("underflow encountered in dpow")


# --- the same functions on Python floats: the scalar fast path (`Primitive.scalar`) -------------

_F64 = np.float64


def _float(a: Any) -> float | None:
    """A 0-d number as a Python float (None: an array, which numpy computes)."""
    t = type(a)
    if t is float:
        return a  # type: ignore[no-any-return]
    if t is _F64 or t is int:
        return float(a)
    if t is np.ndarray and not a.shape and a.dtype == _F64:
        return a.item()  # type: ignore[no-any-return]
    return None


def floats_first(impl: Callable[..., Any], scalar: Callable[..., float], arity: int) -> Callable[..., Any]:
    """`impl` that computes on 0-d arguments with `scalar`, the function compiled scalar code calls:
    numpy's exp, tanh, tan, log1p, power differ from the C library's in the last bit on 1-20 % of
    arguments, and every engine must give the same bits. Where `scalar` raises or is not finite,
    `impl` runs, whose numpy error (under strict floats) the interpreter reports."""
    def on_floats(floats: list[float], args: tuple[Any, ...]) -> Any:
        try:
            r = scalar(*floats, *args[arity:])
        except (ArithmeticError, ValueError):
            return impl(*args)
        return _F64(r) if r - r == 0.0 else impl(*args)

    def unary(u: Any, *rest: Any) -> Any:
        if type(u) is np.ndarray and u.shape:  # the common case first: a vector's values
            return impl(u, *rest)
        f = _float(u)
        return impl(u, *rest) if f is None else on_floats([f], (u, *rest))

    def many(*args: Any) -> Any:
        floats = [_float(a) for a in args[:arity]]
        return impl(*args) if None in floats else on_floats(floats, args)  # type: ignore[arg-type]

    fn = unary if arity == 1 else many
    fn.__doc__ = impl.__doc__
    return fn


def same(u: float, *rest: object) -> float:
    """A function that is the identity on scalars (transpose, sum, mean, logsumexp, expand)."""
    return u


def sigmoid_float(u: float) -> float:
    """`sigmoid`'s formulas on a float (the same bits as an array's element)."""
    if u > -708.0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)


def pow_float(u: float, v: float) -> float:
    """u^v, a square as numpy's power computes it (u·u: glibc's pow rounds 1 in 1,000 squares the
    other way); like math.pow, an OverflowError where it exceeds float64 (compiled code relies on it)."""
    if v != 2.0:
        return math.pow(u, v)
    r = u * u
    if r == math.inf:
        raise OverflowError("math range error")
    return r


def xdivy_float(u: float, v: float) -> float:
    return 0.0 if u == 0 else u / v


def dpow_float(x: float, y: float, orders: tuple[int, int]) -> float:
    """dpow on floats; a ValueError where it is not finite (the compiled plan then defers to the interpreter)."""
    if orders == (1, 0):  # the common case, y·x^(y-1), in plain floats (the compiled code calls it),
        # to the sign of a zero; 0 where y = 0; x = 0 with y < 1 or a negative base with fractional y:
        # pow's ValueError; lost below float64's smallest number where |x| > 1 (`_underflowed`): a ValueError
        r = y * pow_float(x, y - 1) if y != 0.0 else 0.0
        if -_TINY < r < _TINY and y != 0.0 and abs(x) > 1.0:  # (rare: `_underflowed` decides)
            try:
                _underflowed(r, x, y, True)
            except FloatingPointError:
                raise ValueError("underflow") from None
        return r
    try:
        return float(dpow(x, y, orders))
    except FloatingPointError:
        raise ValueError("not finite") from None


def softplus_float(u: float) -> float:
    return max(u, 0.0) + math.log1p(math.exp(-abs(u)))


def logsigmoid_float(u: float) -> float:
    return min(u, 0.0) - math.log1p(math.exp(-abs(u)))


def xlogy_float(u: float, v: float) -> float:
    return 0.0 if u == 0 else u * math.log(v)


def relu_float(u: float) -> float:
    return u if u > 0.0 else 0.0


def step_float(u: float) -> float:
    return 1.0 if u > 0.0 else 0.0


def sign_float(u: float) -> float:
    return (u > 0.0) - (u < 0.0) + 0.0


def max_float(u: float, v: float) -> float:
    return u if u >= v else v


def min_float(u: float, v: float) -> float:
    return u if u <= v else v


def add_float(u: float, v: float) -> float:
    return u + v


def sub_float(u: float, v: float) -> float:
    return u - v


def mul_float(u: float, v: float) -> float:
    return u * v


def div_float(u: float, v: float) -> float:
    return u / v


def neg_float(u: float) -> float:
    return -u
