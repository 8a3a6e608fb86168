"""`graphlang hessian`: titles that cannot be mistaken for the program's nodes, and the documented
block layout of tensor Hessians (oracle: second derivatives worked out by hand)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import PROGRAMS

import graphlang
from graphlang import GraphlangError


def test_title_uses_no_letters_that_could_be_nodes(cli, write):
    ran = cli("hessian", write("input a, b\ny = a^2 * b\n"), "--at", "a=1,b=2", "--json")
    h = ran.json()["hessian"]
    assert h["a"]["a"] == 4 and h["a"]["b"] == 2 and h["b"]["b"] == 0  # 2b, 2a, 0 at a=1, b=2
    shown = cli("hessian", write("input a, b\ny = a^2 * b\n"), "--at", "a=1,b=2", width=120).out
    assert "∂a∂b" not in shown and "∂²y / ∂(row) ∂(column)" in shown


def test_tensor_blocks_follow_the_documented_layout(cli, write):
    """y = (Σv)² · Σw²: ∂²y/∂v_i∂w_j = 4 (Σv) w_j, so the block (row v, column w) is w.shape + v.shape."""
    v, w = np.array([1.0, 2.0]), np.array([1.0, 0.0, 1.0])
    h = cli("hessian", write("input v[2], w[3]\ny = sum(v)^2 * sum(w * w)\n"), "--at", "v=[1,2],w=[1,0,1]",
            "--json").json()["hessian"]
    block = np.array(h["v"]["w"])
    assert block.shape == (3, 2)
    assert np.allclose(block, [[4 * v.sum() * w[j]] * 2 for j in range(3)])
    assert np.allclose(np.array(h["w"]["w"]), 2 * v.sum() ** 2 * np.eye(3))
    shown = cli("hessian", write("input v[2], w[3]\ny = sum(v)^2 * sum(w * w)\n"), "--at", "v=[1,2],w=[1,0,1]",
                width=140).out
    assert "shape column.shape + row.shape" in shown



def test_matrix_inputs_keep_both_shapes_in_their_blocks(cli, write):
    """A matrix input's blocks came back flattened (shape [2, 3, 6] for A[2, 3]): each block is now
    b.shape + a.shape, entry [j, i] = ∂²y/∂a_i∂b_j (oracle: central differences of the gradient)."""
    import graphlang
    prog = write("input X[3, 2], w[2]\ny = sum(tanh(X @ w)) + sum(X * X) * dot(w, w)\n")
    at = {"X": np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]) / 10, "w": np.array([0.1, -0.2])}
    h = cli("hessian", prog, "--at", "X=[[0.1,0.2],[0.3,0.4],[0.5,0.6]],w=[0.1,-0.2]", "--json").json()["hessian"]
    p = graphlang.load(prog)

    def grad(point: dict) -> dict:
        return {k: np.asarray(v) for k, v in p.gradient({k: v.tolist() for k, v in point.items()}).items()}
    for b in ("X", "w"):
        for idx in np.ndindex(at[b].shape):  # ∂(∂y/∂a)/∂b[idx] for every a at once
            up = {k: v.copy() for k, v in at.items()}
            down = {k: v.copy() for k, v in at.items()}
            up[b][idx] += 1e-6
            down[b][idx] -= 1e-6
            g_up, g_down = grad(up), grad(down)
            for a in ("X", "w"):
                block = np.array(h[a][b])
                assert block.shape == at[b].shape + at[a].shape, (a, b)
                assert np.allclose(block[idx], (g_up[a] - g_down[a]) / 2e-6, atol=1e-6), (a, b, idx)

def _big(n: int, seed: int) -> str:
    import random
    rnd = random.Random(seed)
    ops = ["{a} + {b}", "{a} * {b}", "{a} / (1 + {b} * {b})", "sin({a})", "tanh({a}) * {b}", "exp(sin({a}))",
           "log(1 + {a} * {a})", "{a} - {b}", "{a}^2"]
    names, lines = ["x0", "x1", "x2"], []
    for i in range(n):
        lines.append(f"n{i} = " + rnd.choice(ops).format(a=rnd.choice(names[-8:]), b=rnd.choice(names)))
        names.append(f"n{i}")
    return "\n".join([*lines, "y = " + " + ".join(names[-4:])]) + "\n"


def test_one_derivative_program_for_every_row_gives_each_rows_own_numbers():
    """Scalar inputs: one derivative program (every ∂y/∂a) and a reverse pass per output. Oracle: the
    derivative program of each a alone, evaluated on its own (the bits must agree), and central differences
    of the gradient."""
    import graphlang
    from graphlang.symbolic.derivative import derivative_program
    for seed in range(6):
        p = graphlang.parse(_big(40, seed))
        at = {n: v for n, v in {"x0": 0.3, "x1": -0.7, "x2": 1.1}.items() if n in p.inputs}
        assert len(at) > 1
        h = p.hessian(at)
        _, shapes = p.bind(at)
        alone = {a: graphlang.parse(derivative_program(p, shapes, wrt=[a], header=False)).evaluate(at).gradient
                 for a in p.inputs}
        for a in p.inputs:  # each row's own derivative program, to rounding; the mixed blocks one number
            assert h[a] == pytest.approx(alone[a], rel=1e-13, abs=1e-300)
            for b in p.inputs:
                assert h[a][b] == h[b][a]
                e = 1e-5
                up, down = dict(at), dict(at)
                up[b] += e
                down[b] -= e
                fd = (p.gradient(up)[a] - p.gradient(down)[a]) / (2 * e)
                assert abs(fd - h[a][b]) <= 1e-5 * max(1.0, abs(fd))


def test_a_vector_output_is_located_with_a_hint():
    """The Hessian's "needs a single scalar output" had no line, column or hint (diff's has)."""
    with pytest.raises(graphlang.GraphlangError) as info:
        graphlang.parse("input x[2]\ny = -x * x\noutput y\n").hessian({"x": [1.0, 2.0]})
    assert info.value.kind == "shape" and (info.value.line, info.value.column) == (3, 1) and info.value.hint


@pytest.mark.parametrize("x, n", [(-2.0, 3.0), (-1.5, 4.0), (-0.7, 2.0)])
def test_an_input_exponent_not_asked_for_is_not_differentiated(x, n):
    """A numerics red team's find: y = x ^ n at x < 0, --wrt x, was refused by reverse mode (the
    default), the Jacobian and the Hessian, which took ∂/∂n = xⁿ ln x though only x was asked; forward
    mode gave it. Oracle: the closed forms n·x^(n−1) and n(n−1)·x^(n−2); ∂/∂n itself stays an error."""
    p = graphlang.parse("y = x ^ n\n")
    at = {"x": x, "n": n}
    for method in ("reverse", "forward", "symbolic"):
        assert p.gradient(at, method=method, wrt=["x"])["x"] == pytest.approx(n * x ** (n - 1), rel=1e-14)
    assert float(p.jacobian(at, wrt="x")["x"][0]) == pytest.approx(n * x ** (n - 1), rel=1e-14)
    assert p.hessian(at, wrt="x")["x"]["x"] == pytest.approx(n * (n - 1) * x ** (n - 2), rel=1e-12)
    r = p.evaluate(at, wrt=["x"])
    assert r.adjoints.get("n") is None and r.extra["no_adjoint"] == ["n"]  # said, not a number
    for ask in (None, ["n"], ["x", "n"]):
        with pytest.raises(graphlang.GraphlangError):
            p.gradient(at, wrt=ask)


def test_the_hessian_of_some_inputs_is_the_whole_hessians_block():
    """--wrt builds only those rows' derivative programs now: the same numbers as the whole
    Hessian's block (the oracle: the whole Hessian, whose rows are checked against fd elsewhere)."""
    rng = np.random.default_rng(5)
    p = graphlang.parse("a = x * z\nb = ln(x)\nc = sin(b) * w\nd = exp(a / 9)\ny = d + a / b + c / a\n")
    for _ in range(5):
        at = {"x": float(rng.uniform(1.5, 3)), "z": float(rng.uniform(-1, 1)), "w": float(rng.uniform(-2, 2))}
        whole = p.hessian(at)
        for names in (["x"], ["w", "x"], ["z", "w"]):
            part = p.hessian(at, wrt=names)
            assert list(part) == names and all(list(row) == names for row in part.values())
            for a in names:
                for b in names:
                    assert part[a][b] == pytest.approx(whole[a][b], rel=1e-12, abs=1e-14), (a, b)


def test_a_name_repeated_after_wrt_is_one_name():
    """A review's find: `--wrt x,x` counted two names, as many as the inputs, so x ^ n at x < 0 took
    ∂/∂n again (the error `--wrt x` no longer gives). Oracle: 3x² + n and 6x by hand."""
    p = graphlang.parse("y = x ^ n + n * x\n")
    at = {"x": -2.0, "n": 3.0}
    assert p.gradient(at, wrt=["x", "x"]) == {"x": pytest.approx(3 * 4 + 3)}
    assert p.hessian(at, wrt=["x", "x"]) == {"x": {"x": pytest.approx(-12.0)}}


def test_several_scalar_outputs_are_told_to_name_one(cli, write):
    """A student's find: `output p, q` (two numbers) got "differentiate sum(…) or an element q[i]"."""
    ran = cli("hessian", write("p = x * z\nq = x + z\noutput p, q\n"), "--at", "x=1,z=2")
    assert ran.code == 1 and "output q" in ran.err and "q[i]" not in ran.err, ran.err


def test_the_budget_of_a_hessian_asked_for_one_input_counts_that_input_only():
    """A red team's find: `hessian --wrt b2` of a 784-128-10 network was refused as "102,564 × 102,564
    second derivatives" (the cost of every input's block) though only b2's 10 × 10 block was asked.
    Oracle: J = −Σ t·logsoftmax(u) with Σ t = 1 has ∂²J/∂b2² = diag(p) − p pᵀ, p = softmax(u)."""
    rng = np.random.default_rng(5)
    p = graphlang.parse("input x[784], t[10]\nparam W1[784, 128], b1[128], W2[128, 10], b2[10]\n"
                        "h = relu(W1.T @ x + b1)\nu = W2.T @ h + b2\nJ = -sum(t * logsoftmax(u))\n")
    at = {"x": rng.normal(size=784), "t": np.eye(10)[3], "W1": rng.normal(size=(784, 128)) * 0.05,
          "b1": rng.normal(size=128) * 0.1, "W2": rng.normal(size=(128, 10)) * 0.1, "b2": rng.normal(size=10)}
    with pytest.raises(graphlang.GraphlangError) as info:
        p.hessian(at)  # every block: past the budget, as before
    assert info.value.kind == "limit"
    block = np.asarray(p.hessian(at, wrt="b2")["b2"]["b2"])
    h = np.maximum(at["W1"].T @ at["x"] + at["b1"], 0)
    u = at["W2"].T @ h + at["b2"]
    q = np.exp(u - u.max()) / np.exp(u - u.max()).sum()
    assert np.allclose(block, np.diag(q) - np.outer(q, q), atol=1e-12)


def test_the_mixed_blocks_are_each_others_transpose_exactly():
    """`hessian --json` gave ∂²y/∂x∂z = …6861106 and ∂²y/∂z∂x = …686111 (the two passes sum in
    different orders): a student read an asymmetric Hessian. The blocks are now each other's
    transpose to the bit, and still SymPy's (the lecture's y) and autograd's (a network) to rounding."""
    import sympy as sp

    lecture = graphlang.load(PROGRAMS / "lecture13.cg")
    h = lecture.hessian({"x": 2, "z": 3})
    assert h["x"]["z"] == h["z"]["x"]
    x, z = sp.symbols("x z")
    y = sp.exp(x * z) + x * z / sp.log(x) + sp.sin(sp.log(x)) / (x * z)
    assert h["x"]["z"] == pytest.approx(float(sp.diff(y, x, z).subs({x: 2, z: 3})), rel=1e-12)
    net = graphlang.parse("input x[3], t[2]\nparam W[2, 3], b[2]\nu = tanh(W @ x + b)\nJ = sum((u - t)^2)\n")
    rng = np.random.default_rng(3)
    at = {"x": rng.normal(size=3), "t": rng.normal(size=2), "W": rng.normal(size=(2, 3)), "b": rng.normal(size=2)}
    h = net.hessian(at)
    for a in h:
        for b in h[a]:  # H[a][b] has shape b.shape + a.shape
            na = np.ndim(at[a])
            assert np.array_equal(np.asarray(h[a][b]),
                                  np.transpose(np.asarray(h[b][a]), [*range(na, np.ndim(h[b][a])), *range(na)]))
    import autograd
    import autograd.numpy as anp

    def J(W):
        return anp.sum((anp.tanh(W @ at["x"] + at["b"]) - at["t"]) ** 2)
    want = autograd.hessian(J)(at["W"])  # shape W.shape + W.shape: ∂/∂W_kl of ∂J/∂W_ij at [i, j, k, l]
    np.testing.assert_allclose(np.asarray(h["W"]["W"]), np.transpose(want, (2, 3, 0, 1)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("source", "at"), [
    ("y = (x ^ 200) ^ 0.01\n", 10.0),  # x², whose Hessian is 2: the program's said 398
    ("t = exp(x)\ny = t ^ 0.01\n", 700.0),  # exp(0.01·x): 1e-4·exp(7) = 0.10966; it said 10.966
    ("t = exp(x)\ny = t ^ -1\n", 300.0),  # exp(-x): +5.1e-131; it said −5.1e-131
])
def test_a_power_whose_derivative_underflows_is_an_error_not_a_wrong_hessian(source, at):
    """A differential fuzzer's find (sympy the oracle): t^(c-2) of a large t underflowed to 0 and
    then met t's large derivatives, so a whole term of the Hessian was lost, silently."""
    prog = graphlang.parse(source)
    with pytest.raises(GraphlangError) as info:
        prog.hessian({"x": at})
    assert info.value.kind == "domain" and "underflows float64" in info.value.message
    assert "write the power another way" in info.value.hint


def test_a_tiny_base_keeps_its_tiny_derivatives():
    """x^3 at 1e-200: 3x² = 3e-400 rounds to 0 as the value x³ does (no error), and the Hessian 6x
    is 6e-200; (x^2)^0.5 = |x| has Hessian 0 at 3 (by hand)."""
    cube = graphlang.parse("y = x ^ 3\n")
    assert cube.gradient({"x": 1e-200})["x"] == 0.0 and cube.hessian({"x": 1e-200})["x"]["x"] == pytest.approx(6e-200)
    assert graphlang.parse("y = (x ^ 2) ^ 0.5\n").hessian({"x": 3.0})["x"]["x"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(GraphlangError, match="underflows"):  # (the gradient too: −0.5·t^-1.5 of t = e^700)
        graphlang.parse("t = exp(x)\ny = t ^ -0.5\n").gradient({"x": 700.0})


def test_a_direction_of_zero_holds_that_input_fixed():
    """A differential fuzzer's find: y = x ^ z at x = -2, z = 3 along x=1, z=0 was a domain error
    (∂y/∂z = x^z·ln x has no real value there), though the derivative along it is ∂y/∂x =
    z·x^(z-1) = 3·4 = 12 by hand, as grad --wrt x says."""
    prog = graphlang.parse("y = x ^ z\n")
    assert prog.tangents({"x": -2.0, "z": 3.0}, {"x": 1.0, "z": 0.0})["y"] == 12.0
    assert prog.gradient({"x": -2.0, "z": 3.0}, wrt=["x"])["x"] == 12.0
    with pytest.raises(GraphlangError, match="in its exponent"):
        prog.tangents({"x": -2.0, "z": 3.0}, {"x": 1.0, "z": 1.0})


def test_a_power_whose_derivative_cancels_or_whose_value_is_lost_too_is_not_refused():
    """A review's finds on the underflow check: at x = e, p = -1 the mixed partial x^(p-1)·(1 + p·ln x)
    cancels to an honest 0 (the sum was tested, not its terms); at x = 1e155, x^-2 is itself below
    float64's normal range, so its derivative rounds as the value does. By hand: ∂²(x^p)/∂x² =
    p(p-1)x^(p-2) = 2/e³, ∂²/∂p² = x^p·ln²x = 1/e at (e, -1)."""
    h = graphlang.parse("y = x ^ p\n").hessian({"x": math.e, "p": -1.0})
    assert h["x"]["p"] == pytest.approx(0.0, abs=1e-15) and h["x"]["x"] == pytest.approx(2 / math.e ** 3)
    assert h["p"]["p"] == pytest.approx(1 / math.e)
    assert graphlang.parse("y = 3 + x ^ -2\n").gradient({"x": 1e155})["x"] == 0.0  # (−2e-465: 0 in float64)
    assert graphlang.parse("y = x ^ -310\n").gradient({"x": 10.0})["x"] == pytest.approx(-3.1e-309, rel=1e-6)


@pytest.mark.parametrize(("at", "small"), [(700.0, None), (-700.0, "9.86e-305")])
def test_a_second_derivative_step_past_float64_says_so_not_not_differentiable(at, small):
    """ln(exp(x)) = x is smooth (Hessian 0 by hand), but its gradient program divides by exp(x): at
    ±700 the step −1/exp(x)² is past float64. The hint said "not differentiable here" and the message
    "divide by zero" at a divisor of 9.86e-305: now both say a step's range, and name the small value."""
    with pytest.raises(GraphlangError) as info:
        graphlang.parse("y = ln(exp(x))\n").hessian({"x": at})
    err = info.value
    assert err.kind == "domain" and "overflows float64" in err.message and "divide by zero" not in err.message
    assert "not differentiable" not in err.hint
    assert small is None or small in err.hint
    assert graphlang.parse("y = ln(exp(x))\n").hessian({"x": 7.0})["x"]["x"] == pytest.approx(0.0, abs=1e-12)


def test_a_true_pole_of_a_derivative_is_still_divide_by_zero():
    """1/x at 0 itself: the value is undefined (the divisor is 0), not a step out of range."""
    with pytest.raises(GraphlangError, match="divisor is 0"):
        graphlang.parse("y = 1 / x\n").hessian({"x": 0.0})


@pytest.mark.parametrize(("source", "at", "want"), [
    ("y = exp(x)\n", {"x": 709.1}, {("x", "x"): math.exp(709.1)}),
    ("y = x * z * 1e308\n", {"x": 1.0, "z": 1.0}, {("x", "z"): 1e308, ("z", "x"): 1e308, ("x", "x"): 0.0}),
    ("y = -ln(x)\n", {"x": 1e-154}, {("x", "x"): 1e308}),
])
def test_a_second_derivative_near_float64s_largest_is_kept(source, at, want):
    """A numerics fuzzer's find: the symmetric mean (ab + ba)/2 overflowed past 9e307 (exp(x)'s
    Hessian at 709.1 was inf, with a RuntimeWarning; `hessian --json` an internal error). By hand:
    (e^x)'' = e^x, ∂²(1e308·xz)/∂x∂z = 1e308, (−ln x)'' = 1/x² = 1e308."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = graphlang.parse(source).hessian(at)
    for (a, b), v in want.items():
        assert h[a][b] == pytest.approx(v, rel=1e-14)
