"""Decimal arithmetic for the primitives: each elementwise row's value on `Decimal`s at the working
precision (`engines/exact.py` runs programs with them: the grader's arbiter), under a work budget.

A function past its domain raises `Undefined`; past what the arbiter takes (a sine of 1e400, the
budget spent), `Unsupported`. Each row of the table names its function here (`exact=`) and its cost
beside a sum's (`exact_work=`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, getcontext, localcontext

EXPONENT = 999_999  # a decimal exponent range no program that graphlang accepts leaves in practice
SINE_MAX_EXPONENT = 400  # sin/cos reduce their argument mod 2π with π to this many digits at most


class Unsupported(Exception):
    """A primitive without an exact rule, or a program too large to evaluate this way."""


class Undefined(ArithmeticError):
    """The formula has no finite real value here (ln of a negative number, division by zero)."""


class Overflowed(Undefined):
    """A value past 10^±999,999: no float64 program's right formula needs that range."""


_LEFT: ContextVar[list[float]] = ContextVar("exact_work_left")  # a `forward`'s budget, in numbers made
_TOTAL: ContextVar[list[float] | None] = ContextVar("exact_work_total", default=None)  # `budget`'s, across calls


def charge(units: float) -> None:
    """Count work against the budget of the `forward` running (a number made at its precision is
    one unit), and against `budget`'s where one is open; past either, `Unsupported`: the arbiter
    cannot tell, and says so (deterministically: a wall-clock timeout judged the same submission
    differently by the machine's load)."""
    for left in (_LEFT.get(None), _TOTAL.get()):
        if left is not None:
            left[0] -= units
            if left[0] < 0:
                raise Unsupported("too much work")


@contextmanager
def budget(units: float) -> Iterator[None]:
    """Every `forward` inside shares `units` of work (a grader's whole submission: its check points,
    stages and derivative programs together)."""
    token = _TOTAL.set([float(units)])
    try:
        yield
    finally:
        _TOTAL.reset(token)


@contextmanager
def allowance(units: float) -> Iterator[None]:
    """The work one `forward` may do (numbers made at its precision)."""
    token = _LEFT.set([float(units)])
    try:
        yield
    finally:
        _LEFT.reset(token)


def _digits() -> int:
    return getcontext().prec


def _more(x: Decimal) -> int:
    """Extra digits that keep 1 + x (or e^x − 1) exact to the working precision for a small x."""
    return _digits() + min(max(0, -x.adjusted()), 3 * EXPONENT // 1000) + 5


def _expm1(x: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _more(x)
        value = x.exp() - 1
    return +value


def _log1p(x: Decimal) -> Decimal:
    if x <= -1:
        raise Undefined("ln of a number ≤ 0")
    with localcontext() as ctx:
        ctx.prec = _more(x)
        value = (1 + x).ln()
    return +value


_PI: dict[int, Decimal] = {}
ZERO, ONE = Decimal(0), Decimal(1)


def _pi(prec: int) -> Decimal:
    """π to `prec` digits (the decimal module's documented series), kept per precision."""
    if prec not in _PI:
        with localcontext() as ctx:
            ctx.prec = prec + 5
            three = Decimal(3)
            lasts, t, s, n, na, d, da = Decimal(0), three, three, 1, 0, 0, 24
            while s != lasts:
                lasts = s
                n, na = n + na, na + 8
                d, da = d + da, da + 32
                t = (t * n) / d
                s += t
            ctx.prec = prec
            _PI[prec] = +s
    return _PI[prec]


def _sin_cos(x: Decimal) -> tuple[Decimal, Decimal]:
    """sin x and cos x by their series after x is reduced into [−π, π] (with the digits x's size needs;
    past 1e400 that reduction is not attempted: π to 300,000 digits took minutes for 0·sin(e^700000)
    in a submission, and no float64 program's right formula takes the sine of a number past 1e308)."""
    if x.is_finite() and x.adjusted() > SINE_MAX_EXPONENT:
        raise Unsupported(f"sin or cos of a number past 1e{SINE_MAX_EXPONENT}")
    base = _digits()
    with localcontext() as ctx:
        ctx.prec = base + max(0, x.adjusted()) + 10
        charge((ctx.prec / base) ** 2)  # (sin(1e300) at 40 digits works at 350: 22,500 of them took 33 s)
        two_pi = 2 * _pi(ctx.prec)
        r = x - two_pi * (x / two_pi).to_integral_value()
        tiny = Decimal(1).scaleb(-ctx.prec - 5)
        sin, cos, term, term_c, k = r, Decimal(1), r, Decimal(1), 1
        while abs(term) >= tiny or abs(term_c) >= tiny:
            term = -term * r * r / ((2 * k) * (2 * k + 1))
            term_c = -term_c * r * r / ((2 * k - 1) * (2 * k))
            sin, cos, k = sin + term, cos + term_c, k + 1
    return +sin, +cos


def dpow(x: Decimal, y: Decimal, k: int, m: int) -> Decimal:
    """∂^k/∂x^k ∂^m/∂y^m of x^y as kernels.dpow defines it (its limits at x = 0): Σ_j C(m, j)
    c_k^(j)(y) x^(y−k) ln(x)^(m−j), c_k(y) = y(y − 1)…(y − k + 1) expanded exactly."""
    coeffs = [1]  # of c_k in powers of y, integers
    for i in range(k):
        coeffs = [(coeffs[d - 1] if d else 0) - i * (coeffs[d] if d < len(coeffs) else 0)
                  for d in range(len(coeffs) + 1)]
    total = ZERO
    for j in range(m + 1):
        coef = sum((Decimal(c * math.perm(d, j)) * (y ** (d - j) if d > j else ONE) for d, c in enumerate(coeffs)
                    if d >= j and c),
                   ZERO) * math.comb(m, j)
        if coef == 0:
            continue
        a, p = y - k, m - j
        if x == 0:
            term = ZERO if a > 0 else ONE if a == 0 and p == 0 else None
        elif x < 0 and p:
            term = None
        else:
            term = power(x, a) * (ln(abs(x)) ** p if p else ONE)
        if term is None:
            raise Undefined("dpow: not finite here")
        total += coef * term
    return total


def tan(x: Decimal) -> Decimal:
    sin, cos = _sin_cos(x)
    return sin / cos


def power(x: Decimal, y: Decimal) -> Decimal:
    if x == 0 and y == 0:
        return Decimal(1)
    if x == 0 and y < 0:
        raise Undefined("0 to a negative power")
    if x < 0 and y != y.to_integral_value():
        raise Undefined("a negative number to a fractional power")
    return x ** y


def tanh(x: Decimal) -> Decimal:
    if abs(x) > 2 * _digits():  # e^{2x} past the precision: ±1 to every digit kept
        return Decimal(1).copy_sign(x)
    m = _expm1(2 * x)
    return m / (m + 2)


def sigmoid(x: Decimal) -> Decimal:
    return 1 / (1 + (-x).exp())


def softplus(x: Decimal) -> Decimal:
    return max(x, Decimal(0)) + _log1p((-abs(x)).exp())


def ln(x: Decimal) -> Decimal:
    if x <= 0:
        raise Undefined("ln of a number ≤ 0")
    return x.ln()


def sqrt(x: Decimal) -> Decimal:
    if x < 0:
        raise Undefined("the square root of a negative number")
    return x.sqrt()


# Each elementwise row's function (`exact=` in the table) where the float one is no Decimal one.
def exp(x: Decimal) -> Decimal:
    return x.exp()


def sin(x: Decimal) -> Decimal:
    return _sin_cos(x)[0]


def cos(x: Decimal) -> Decimal:
    return _sin_cos(x)[1]


def relu(x: Decimal) -> Decimal:
    return x if x > 0 else ZERO


def sign(x: Decimal) -> Decimal:
    return ONE if x > 0 else -ONE if x < 0 else ZERO


def step(x: Decimal) -> Decimal:
    return ONE if x > 0 else ZERO


def xlogy(x: Decimal, y: Decimal) -> Decimal:
    return ZERO if x == 0 else x * ln(y)


def xdivy(x: Decimal, y: Decimal) -> Decimal:
    return ZERO if x == 0 else x / y


def logsigmoid(x: Decimal) -> Decimal:
    return -softplus(-x)
