"""Derivatives at the edges of every primitive's domain (issue 12, item 7).

Table-driven: every elementwise primitive, each argument in turn (the other a literal), at points
where rules as written meet 0·∞ or 0/0 (0, ±1, 2, 0.5). The oracle is SymPy: the primitive with the
other argument substituted first, differentiated, evaluated at the point. Where SymPy's derivative
is a finite real number, every method must give it (no refusal of a derivative that exists); the
four methods must always agree (all the same number, or all refuse with a located domain error).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy as sp

import graphlang
from graphlang.errors import GraphlangError
from graphlang.primitives.table import PRIMITIVES

# Kinks follow the SPEC's conventions (relu'(0) = 0, ...), which SymPy does not share.
CONVENTIONS = {"relu", "abs", "sign", "step", "max", "min"}
SYMPY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "neg": lambda a: -a, "id": lambda a: a,
    "exp": sp.exp, "ln": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "tanh": sp.tanh, "sigmoid": lambda a: 1 / (1 + sp.exp(-a)), "xlogy": lambda a, b: a * sp.log(b),
    "xdivy": lambda a, b: a / b, "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "logsigmoid": lambda a: -sp.log(1 + sp.exp(-a)),
}
POINTS = [0.0, 1.0, -1.0, 2.0, 0.5]
ELEMENTWISE = [name for name, p in PRIMITIVES.items() if p.elementwise and name not in CONVENTIONS]


def _call(name: str, args: list[str], attr: tuple[int, ...] | None = None) -> str:
    prim = PRIMITIVES[name]
    kind, sym, _ = prim.form
    if kind == "infix":
        return f"({args[0]}) {sym} ({args[1]})"
    if kind == "prefix":
        return f"{sym}({args[0]})"
    if kind == "id":
        return args[0]
    extra = [str(a) for a in attr] if attr else []
    return f"{name}({', '.join(args + extra)})"


def _sympy_form(name, args, attr=None):
    if name == "dpow":
        X, Y = sp.symbols("X Y")
        return sp.diff(X ** Y, X, attr[0], Y, attr[1]).subs({X: args[0], Y: args[1]}, simultaneous=True)
    return SYMPY[name](*args)


def cases():
    for name in ELEMENTWISE:
        prim = PRIMITIVES[name]
        attrs = [(1, 0), (0, 1)] if name == "dpow" else [None]
        for attr, k in itertools.product(attrs, range(prim.arity)):
            others = POINTS if prim.arity == 2 else [None]
            for t0, other in itertools.product(POINTS, others):
                if name == "dpow" and other == 0.0 and k == 1:
                    continue  # dpow(0, y) is defined as a limit in x, which SymPy's formula is not
                yield name, attr, k, t0, other


CASES = list(cases())


def _literal(v: float) -> str:
    return f"({v!r})" if v < 0 else repr(v)


def _expected(name, attr, k, t0, other, order):
    t = sp.Symbol("t", positive=True) if t0 > 0 else sp.Symbol("t", real=True)
    args = [t] if other is None else ([t, sp.nsimplify(other)] if k == 0 else [sp.nsimplify(other), t])
    f = _sympy_form(name, args, attr)
    d = sp.diff(f, t, order).subs(t, sp.nsimplify(t0))
    value = complex(d.evalf()) if d.is_finite is not False and d.has(sp.zoo, sp.nan, sp.oo) is False else None
    if value is None or value.imag != 0 or not np.isfinite(value.real):
        return None
    return value.real


def _program(name, attr, k, other):
    args = ["t"] if other is None else (["t", _literal(other)] if k == 0 else [_literal(other), "t"])
    return graphlang.parse(f"y = {_call(name, args, attr)}\n")


def _ours(prog, t0, method):
    try:
        return prog.gradient({"t": t0}, method=method)["t"]
    except GraphlangError as err:
        assert err.kind == "domain" and err.line is not None, (err.kind, err.message)
        return None


@pytest.mark.parametrize("name,attr,k,t0,other", CASES,
                         ids=[f"{n}{a or ''}:arg{k}:t={t}:other={o}" for n, a, k, t, o in CASES])
def test_first_derivative_at_the_edges(name, attr, k, t0, other):
    prog = _program(name, attr, k, other)
    try:
        prog.forward({"t": t0})
    except GraphlangError:
        return  # outside the function's domain: nothing to differentiate
    got = {m: _ours(prog, t0, m) for m in ("reverse", "forward", "symbolic")}
    want = _expected(name, attr, k, t0, other, 1)
    if want is not None:
        for m, v in got.items():
            assert v is not None, f"{m} refuses a derivative that exists ({want})"
            assert v == pytest.approx(want, rel=1e-9, abs=1e-12), m
    else:  # SymPy's formula is not finite here: the methods agree among themselves
        refused = {m for m, v in got.items() if v is None}
        assert refused in (set(), set(got)), got
        if not refused:
            assert got["forward"] == pytest.approx(got["reverse"]) == got["symbolic"]


@pytest.mark.parametrize("name,attr,k,t0,other", CASES,
                         ids=[f"{n}{a or ''}:arg{k}:t={t}:other={o}" for n, a, k, t, o in CASES])
def test_second_derivative_at_the_edges(name, attr, k, t0, other):
    prog = _program(name, attr, k, other)
    try:
        prog.forward({"t": t0})
    except GraphlangError:
        return
    want = _expected(name, attr, k, t0, other, 2)
    first = _expected(name, attr, k, t0, other, 1)
    if want is None or first is None:
        return
    hess = prog.hessian({"t": t0})["t"]["t"]
    assert hess == pytest.approx(want, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("source,at,grad,second", [
    ("y = x^0", {"x": 0.0}, 0.0, 0.0),          # autograd: 0
    ("n = 0\ny = x^n", {"x": 0.0}, 0.0, 0.0),   # the exponent a named constant
    ("y = 0^x", {"x": 1.0}, 0.0, 0.0),          # 0^x = 0 for x > 0: every derivative is 0
    ("y = 0^x + x^2", {"x": 2.0}, 4.0, 2.0),
    ("y = x^1", {"x": 0.0}, 1.0, 0.0),
    ("y = x^2", {"x": 0.0}, 0.0, 2.0),
    ("y = x^3", {"x": 0.0}, 0.0, 0.0),
    ("y = xlogy(0, x)", {"x": 0.0}, 0.0, 0.0),  # cross-entropy's 0·ln(p) at p = 0
    ("y = sum(xlogy([0, 1], x))", {"x": [0.0, 0.5]}, [0.0, 2.0], None),
    ("y = sum((x * [1, 1, 1])^0)", {"x": 0.0}, 0.0, 0.0),
])
def test_named_cases(source, at, grad, second):
    prog = graphlang.parse(source)
    for method in ("reverse", "forward", "symbolic", "fd"):
        if method == "fd" and "xlogy" in source:
            continue  # fd would step outside ln's domain
        np.testing.assert_allclose(prog.gradient(at, method=method)["x"], grad, atol=1e-6, err_msg=method)
    if second is not None:
        assert prog.hessian(at)["x"]["x"] == pytest.approx(second, abs=1e-12)


@pytest.mark.parametrize("source,at", [("y = sqrt(x)", {"x": 0.0}), ("y = x^0.5", {"x": 0.0}),
                                       ("y = 0^x", {"x": 0.0}), ("y = x^z", {"x": 0.0, "z": 0.0}),
                                       ("y = xlogy(x, 0)", {"x": 0.0})])
def test_derivatives_that_do_not_exist_are_refused(source, at):
    prog = graphlang.parse(source)
    for method in ("reverse", "forward", "symbolic"):
        with pytest.raises(GraphlangError) as info:
            prog.gradient(at, method=method)
        assert info.value.kind == "domain" and info.value.line == 1


def test_dpow_orders_are_bounded_before_anything_runs():
    """A student's `dpow(x, 2.5, 100000, 0)` ran for 13 s (its coefficients cost O(order²)) and
    `10**8` for minutes: refused when the shapes are inferred, before any arithmetic, located, with a hint."""
    with pytest.raises(GraphlangError) as err:
        graphlang.parse("y = dpow(x, 2.5, 100000, 0) + x\n").evaluate({"x": 2})
    assert err.value.kind == "argument" and "up to 64" in err.value.message
    assert (err.value.line, err.value.column) == (1, 5) and "smaller orders" in (err.value.hint or "")



@pytest.mark.parametrize(("k", "m", "y"), [(20, 0, 20.0), (40, 0, 40.0), (64, 0, 64.0), (25, 0, 30.5),
                                           (25, 2, 30.5), (7, 3, 4.0), (30, 1, -2.5)])
def test_high_order_dpow_against_exact_arithmetic(k, m, y):
    """∂^k/∂x^k ∂^m/∂y^m x^y at high orders: the falling factorial's polynomial coefficients cancelled
    (∂^40/∂x^40 x^40 came out as -2.1e54, not 40!); oracle: SymPy in exact rationals, 40 digits."""
    xs, ys = sp.symbols("x y")
    want = sp.diff(xs ** ys, xs, k, ys, m).subs({xs: sp.Rational(13, 10), ys: sp.Rational(y)}).evalf(40)
    got = graphlang.parse(f"q = dpow(x, y, {k}, {m})\n").evaluate({"x": 1.3, "y": y}).value
    assert got == pytest.approx(float(want), rel=1e-12)
    if m == 0 and y == k:
        assert got == pytest.approx(math.factorial(k), rel=1e-12)  # x^k's k-th derivative is k!


@pytest.mark.parametrize("axis", ["", ", 0", ", 1"])
def test_a_mean_of_finite_numbers_whose_sum_overflows_is_that_mean(axis):
    """`mean(A)` of four 1e308s said "overflows float64" (numpy sums first): it is 1e308 (closed
    form), with ∂/∂A = 1/n for every method, and a batch of such rows means the same."""
    A = np.full((2, 2), 1e308)
    prog = graphlang.parse(f"y = sum(mean(A{axis}) / 1e308)")
    n = 4 if not axis else 2
    assert prog.evaluate({"A": A}).value == pytest.approx(4 / n)
    for method in ("reverse", "forward", "symbolic"):
        np.testing.assert_allclose(prog.gradient({"A": A}, method=method)["A"], np.full((2, 2), 1 / n / 1e308),
                                   rtol=1e-12, err_msg=method)
    from graphlang.primitives import kernels, vmap
    np.testing.assert_array_equal(vmap.mean(vmap.Batch(np.stack([A, A])), None).v, [1e308, 1e308])
    assert kernels.mean(np.array([1.0, 2.0, 4.0]), None) == np.mean([1.0, 2.0, 4.0])  # the usual path untouched


def _mp_logsumexp(v: list[float]) -> tuple[float, list[float]]:
    """logsumexp(v) and logsoftmax(v), each rounded once from 60 digits."""
    import mpmath
    with mpmath.workdps(60):
        lse = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(x)) for x in v))
        return float(lse), [float(mpmath.mpf(x) - lse) for x in v]


@pytest.mark.parametrize("v", [[0.0, -60.0], [0.0, -20.0], [1.0, -20.0], [5.0, 5.0], [-3.0, 2.0, 2.0],
                               [1e308, 1e307], [-745.0, -800.0], [0.5, 0.25, -0.75]])
def test_logsumexp_and_logsoftmax_keep_their_small_terms(v):
    """ln(1 + 8.8e-27) was rounded to ln 1 = 0: logsumexp([0, -60]) gave 0 and logsoftmax 0, though
    logsigmoid(60), the same number, was exact; at [0, -20] 3.4e-8 relative. Oracle: mpmath, 60 digits."""
    from graphlang.primitives import kernels, vmap

    want, each = _mp_logsumexp(v)
    prog = graphlang.parse(f"input v[{len(v)}]\ny = logsumexp(v)\nz = logsoftmax(v)\noutput y, z\n")
    for _ in range(3):  # interpreted, then compiled
        got = prog.evaluate({"v": v}).value
        assert got[0] == pytest.approx(want, rel=4e-16, abs=0)
        assert list(got[1:]) == pytest.approx(each, rel=4e-16, abs=0)
    rows = np.array([v, v[::-1]])
    batched = vmap.logsumexp(vmap.Batch(rows)).v
    assert list(batched) == [kernels.logsumexp(np.array(r)) for r in rows]  # each example as alone


def test_a_logsoftmax_past_float64_is_a_located_error_and_logsumexp_is_not():
    """logsoftmax([1e308, -1e308])[1] is -2e308: an overflow, said at its line (a red team: a change
    let -inf through, and `run --json` then ended in a traceback); logsumexp there is 1e308."""
    prog = graphlang.parse("input v[2]\nz = logsoftmax(v)\ny = sum(z)\n")
    for _ in range(3):
        with pytest.raises(GraphlangError) as info:
            prog.evaluate({"v": [1e308, -1e308]})
        assert (info.value.kind, info.value.line) == ("domain", 2) and "overflows" in info.value.message
    lse = graphlang.parse("input v[2]\ny = logsumexp(v)\n").evaluate({"v": [1e308, -1e308]})
    assert lse.value == 1e308 and list(lse.gradient["v"]) == [1.0, 0.0]



@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("offset", [0.0, 1e10, 1e15, -1e15])
def test_logsumexp_of_a_matrix_keeps_its_derivatives_digits_far_from_0(axis, offset):
    """A SPEC red team's find: over all of a matrix's elements (or its axis 0) the derivative was
    exp(x - out), whose `out` rounds away the digits it needs: 0.47 for 0.5 at 1e15 (4.8e-7 relative
    at 1e10), while a vector's (softmax) was exact. Oracle: the softmax by hand, exp(x - max)/Σ, in numpy."""
    rng = np.random.default_rng(7)
    U = offset + rng.standard_normal((3, 4))
    call = "logsumexp(U)" if axis is None else f"sum(logsumexp(U, {axis}))"
    prog = graphlang.parse(f"input U[3, 4]\ny = {call}\n")
    e = np.exp(U - (U.max() if axis is None else U.max(axis=axis, keepdims=True)))
    want = e / (e.sum() if axis is None else e.sum(axis=axis, keepdims=True))
    for method in ("reverse", "forward", "symbolic"):
        np.testing.assert_allclose(prog.gradient({"U": U}, method=method)["U"], want, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("x", [-5.26e-155, 5.26e-155])
def test_a_powers_derivative_past_float64_is_an_overflow_not_a_negative_base(x):
    """A numerics fuzzer's find: y = x^(-1) at -5.26e-155 (−x^-2 = −3.6e308, past float64) was blamed
    on "x^v·ln(x) has no real value at a negative base", though the exponent is a literal."""
    with pytest.raises(GraphlangError) as info:
        graphlang.parse("y = x ^ (-1)\n").gradient({"x": x})
    assert "overflows float64" in info.value.message and "negative base" not in info.value.message
    with pytest.raises(GraphlangError, match="in its exponent"):  # the exponent's own: no real value
        graphlang.parse("y = x ^ z\n").gradient({"x": -2.0, "z": 3.0})
