"""Table-driven: every primitive's reverse and forward rules against central differences.

Each row of the primitive table carries probe expressions; a new row is picked up here.
"""

from __future__ import annotations

import pathlib
import zlib

import numpy as np
import pytest

import graphlang
from graphlang.primitives.table import PRIMITIVES

CASES = [(name, probe) for name, prim in PRIMITIVES.items() for probe in prim.examples()]


def sample(rng: np.random.Generator, shape: tuple[int, ...], positive: bool) -> np.ndarray:
    mag = rng.uniform(0.3, 1.2, size=shape)
    return mag if positive else mag * rng.choice([-1.0, 1.0], size=shape)


def central(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The test's own finite differences: only forward evaluations, no derivative rules."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        grad[idx] = (f(xp) - f(xm)) / (2 * h)
    return grad


def setup(name: str, probe: str, seed: int):
    rng = np.random.default_rng(seed)
    prim = PRIMITIVES[name]
    base = {"u": sample(rng, (3,), prim.positive), "v": sample(rng, (3,), prim.positive),
            "M": sample(rng, (2, 3), prim.positive), "s": sample(rng, (), prim.positive),
            "P": sample(rng, (2, 2, 3), prim.positive)}  # a stack of two 2x3 matrices
    inner = graphlang.parse(f"r = {probe}")
    assert any(eq.prim.name == name for eq in inner.graph.eqns), f"probe {probe!r} does not use {name}"
    at = {k: base[k] for k in inner.inputs}
    r = np.asarray(inner.forward(at)["r"])
    weights = rng.normal(size=r.shape)
    prog = graphlang.parse(f"r = {probe}\ny = sum(r * w)")
    return prog, {**at, "w": weights}


@pytest.mark.parametrize("name,probe", CASES, ids=[f"{n}:{p}" for n, p in CASES])
def test_reverse_rule_matches_central_differences(name, probe):
    prog, at = setup(name, probe, seed=zlib.crc32(probe.encode()))
    grad = prog.gradient(at)
    for k in prog.inputs:
        if k == "w":
            continue
        def f(x, k=k):
            return prog.forward({**at, k: x})["y"]
        want = central(f, np.asarray(at[k], dtype=float))
        np.testing.assert_allclose(grad[k], want, rtol=1e-6, atol=1e-7, err_msg=f"{probe} d/d{k}")


@pytest.mark.parametrize("name,probe", CASES, ids=[f"{n}:{p}" for n, p in CASES])
def test_forward_rule_matches_reverse_rule(name, probe):
    prog, at = setup(name, probe, seed=1 + zlib.crc32(probe.encode()))
    rev = prog.gradient(at, method="reverse")
    fwd = prog.gradient(at, method="forward")
    for k in prog.inputs:
        np.testing.assert_allclose(fwd[k], rev[k], rtol=1e-12, atol=1e-12, err_msg=f"{probe} d/d{k}")


@pytest.mark.parametrize("name,probe", CASES, ids=[f"{n}:{p}" for n, p in CASES])
def test_symbolic_program_matches_reverse(name, probe):
    prog, at = setup(name, probe, seed=2 + zlib.crc32(probe.encode()))
    rev = prog.gradient(at, method="reverse")
    sym = prog.gradient(at, method="symbolic")
    for k in prog.inputs:
        np.testing.assert_allclose(sym[k], rev[k], rtol=1e-10, atol=1e-12, err_msg=f"{probe} d/d{k}")


def test_every_public_function_is_documented_and_printable():
    from graphlang.language.ast import postorder
    from graphlang.symbolic.printing import to_latex, to_text
    for name, prim in PRIMITIVES.items():
        for probe in prim.examples():
            e = graphlang.parse(f"r = {probe}").graph.statements[0].expr
            assert to_text(e) and to_latex(e)
            # the printed text parses back to the same primitives
            again = graphlang.parse(f"r = {to_text(e)}").graph.statements[0].expr
            assert [n.op for n in postorder(again)] == [n.op for n in postorder(e)], probe
        if prim.public and prim.form[0] == "call":
            assert prim.doc or prim.name in ("exp",), name


def test_every_public_function_is_in_the_language_reference():
    from graphlang.primitives.table import builtin_names
    reference = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text()
    missing = [n for n in builtin_names() if f"`{n}(" not in reference]
    assert not missing, f"document these built-ins in docs/language.md: {missing}"


STABLE_POINTS = [-3000.0, -745.5, -30.0, -1.0, 0.0, 0.5, 30.0, 745.5, 3000.0]


@pytest.mark.parametrize("u", STABLE_POINTS)
def test_softplus_and_logsigmoid_are_stable_against_high_precision(u):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    x = mpmath.mpf(u)
    exact = {"softplus": mpmath.log1p(mpmath.exp(x)), "logsigmoid": -mpmath.log1p(mpmath.exp(-x))}
    slope = {"softplus": 1 / (1 + mpmath.exp(-x)), "logsigmoid": 1 / (1 + mpmath.exp(x))}
    for name in exact:
        prog = graphlang.parse(f"y = {name}(x)")
        for method in ("reverse", "forward", "symbolic"):
            r = prog.evaluate({"x": u}, method=method)
            assert r.value == pytest.approx(float(exact[name]), rel=1e-14, abs=1e-300), (name, method)
            assert r.gradient["x"] == pytest.approx(float(slope[name]), rel=1e-12, abs=1e-300), (name, method)


def test_logsoftmax_is_stable_and_its_gradient_is_exact():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    u = [1000.0, 0.0, -1000.0, 999.0]
    t = [0.0, 1.0, 0.0, 0.0]
    prog = graphlang.parse("input u[4], t[4]\nJ = -sum(t * logsoftmax(u))")
    lse = mpmath.log(sum(mpmath.exp(mpmath.mpf(v)) for v in u))
    want_value = -sum(ti * (mpmath.mpf(ui) - lse) for ui, ti in zip(u, t))
    soft = [mpmath.exp(mpmath.mpf(ui) - lse) for ui in u]
    want_grad = [float(s - ti) for s, ti in zip(soft, t)]  # softmax(u) - t, the lecture's result
    for method in ("reverse", "forward", "symbolic"):
        r = prog.evaluate({"u": u, "t": t}, method=method)
        assert r.value == pytest.approx(float(want_value), rel=1e-14)
        np.testing.assert_allclose(r.gradient["u"], want_grad, rtol=1e-12, atol=1e-300)
    # over the last axis of a matrix: each row is a vector's logsoftmax
    m = graphlang.parse("input M[2, 3]\ny = logsoftmax(M)").forward({"M": [[1, 2, 3], [-500, 0, 500]]})["y"]
    for row, got in zip([[1, 2, 3], [-500, 0, 500]], m):
        with mpmath.workdps(400):  # 500 - lse is -e^-500 = -7.1e-218: 218 digits below lse's first
            lse_row = mpmath.log(sum(mpmath.exp(v) for v in row))
            want = [float(v - lse_row) for v in row]
        np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("method", ["reverse", "forward", "symbolic"])
def test_logsumexp_gradient_keeps_its_digits_at_large_inputs(method):
    """exp(u - logsumexp(u)) lost the digits logsumexp rounds away: [1, 1] for the true [0.5, 0.5]
    at u = 1e16 (relative 5e-7 at 1e10). Oracle: softmax in closed form, computed from u - max(u)."""
    prog = graphlang.parse("input u[3]\ny = logsumexp(u)")
    for u in ([1e16, 1e16, 1e16 - 4], [1e10, 1e10 + 1, 1e10 - 2], [-800.0, -801.0, -799.0]):
        w = np.exp(np.array(u) - max(u))
        got = prog.gradient({"u": u}, method=method)["u"]
        np.testing.assert_allclose(got, w / w.sum(), rtol=1e-13)


ELEMENTWISE = [name for name, prim in PRIMITIVES.items() if prim.elementwise]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_a_rows_numpy_form_gives_its_float_forms_bits_on_scalars(name):
    """Compiled scalar code calls a row's float function (`scalar`), the interpreter its numpy form
    (`impl`): on 0-d values, however passed, they must give the same bits, or the first and later
    `evaluate` calls of one program would differ. The oracle for the float function itself is the
    numpy form on a 1-element array, to within a few ulp."""
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    extra = ((1, 0),) if prim.attr_args else ()  # dpow's orders: the first derivative in u
    for k in range(400):
        wide = 30.0 if k % 2 else 3.0
        args = [float(a) for a in (rng.uniform(0.01, wide, prim.arity) if prim.positive
                                   else rng.uniform(-wide, wide, prim.arity))]
        if k % 7 == 0 and prim.arity == 2:
            args[1] = 2.0  # a square: numpy's power and the compiled code both multiply
        with np.errstate(all="ignore"):
            want = prim.scalar(*args, *extra)
            if not np.isfinite(want):
                continue
            for form in (np.float64, np.array, lambda a: a):
                got = prim.impl(*[form(a) for a in args], *extra)
                assert np.shape(got) == () and float(got) == want, (args, form)
            array = prim.impl(*[np.array([a]) for a in args], *extra)
        assert float(array[0]) == pytest.approx(want, rel=1e-14, abs=1e-300)



def test_sigmoid_gives_each_element_its_own_values_bits_whatever_its_neighbours():
    """A batch holding one u below -708 switched every element to the other formula (23 % of them
    moved by an ulp: a mini-batch's values depended on its other examples). Oracle for the values:
    mpmath at 40 digits; for the independence: the same element alone, as a 0-d value."""
    mpmath = pytest.importorskip("mpmath")
    from graphlang.primitives.kernels import sigmoid
    rng = np.random.default_rng(5)
    u = np.concatenate([rng.normal(scale=20.0, size=2000), [-707.9, -708.0, -709.0, -745.0]])
    alone = np.concatenate([sigmoid(u[:-3]), sigmoid(u[-3:])])  # the batch above -708, the rest
    assert np.array_equal(sigmoid(np.append(u, -800.0))[:-1], alone)
    assert all(sigmoid(np.float64(v)) == a for v, a in zip(u, alone))
    with mpmath.workdps(40):
        want = [float(1 / (1 + mpmath.exp(-mpmath.mpf(float(v))))) for v in u]
    np.testing.assert_allclose(alone, want, rtol=4.5e-16, atol=0)


def test_logsumexp_over_one_axis_is_each_rows_and_its_gradient_softmax():
    """`logsumexp(U)` of a batch summed every element (0.34 off the batch's cross-entropy, silently,
    beside softmax's per-row axis); `logsumexp(U, 1)` reduces one axis, as sum(U, 1). Oracles: numpy's
    closed forms, row by row (ln Σ e^u, and its gradient softmax(u) - t)."""
    U = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [900.0, 901.0, -5.0]])
    T = np.eye(3)[[2, 0, 1]]
    prog = graphlang.parse("input U[3, 3], T[3, 3]\nJ = sum(logsumexp(U, 1) - sum(T * U, 1)) / 3\n")
    rows = U.max(axis=1) + np.log(np.exp(U - U.max(axis=1, keepdims=True)).sum(axis=1))
    soft = np.exp(U - rows[:, None])
    for method in ("reverse", "forward", "symbolic"):
        r = prog.evaluate({"U": U, "T": T}, method=method)
        assert r.value == pytest.approx(np.mean(rows - (T * U).sum(axis=1)), rel=1e-14)
        np.testing.assert_allclose(r.gradient["U"], (soft - T) / 3, rtol=1e-12, atol=1e-15)
    cols = graphlang.parse("input U[3, 3]\nv = logsumexp(U, 0)\n").evaluate({"U": U}).value
    np.testing.assert_allclose(cols, np.log(np.exp(U - U.max(axis=0)).sum(axis=0)) + U.max(axis=0), rtol=1e-14)
