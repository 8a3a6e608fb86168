"""Symbolic derivatives against SymPy: closed forms, derivative programs, second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import conformance_cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import graphlang
from graphlang.errors import GraphlangError
from graphlang.language.ast import Expr, fold
from graphlang.symbolic import derivative as symbolic

SCALAR = [c for c in conformance_cases() if c["kind"] == "scalar"] + [
    {"name": "chain", "program": "a = x^3\nb = sqrt(1 + a^2)\nc = tanh(b) * cos(x)\ny = c / (1 + x^2)",
     "at": {"x": 0.7}},
    {"name": "power_both", "program": "y = x ^ z + z ^ 2.5", "at": {"x": 1.3, "z": 0.8}},
    {"name": "tan_ln", "program": "u = tan(x) - ln(z)\ny = u * u * sigmoid(u)", "at": {"x": 0.4, "z": 1.9}},
]

FUNCS = {"exp": sp.exp, "ln": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
         "tanh": sp.tanh, "sigmoid": lambda u: 1 / (1 + sp.exp(-u)), "abs": sp.Abs,
         "xlogy": lambda u, v: u * sp.log(v)}


def to_sympy(e: Expr, env: dict) -> sp.Expr:
    def step(node, kids):
        op = node.op
        if op == "const":
            return sp.Float(node.attr) if node.attr != int(node.attr) else sp.Integer(int(node.attr))
        if op == "var":
            return env[node.attr]
        if op == "add":
            return kids[0] + kids[1]
        if op == "sub":
            return kids[0] - kids[1]
        if op == "mul":
            return kids[0] * kids[1]
        if op == "div":
            return kids[0] / kids[1]
        if op == "pow":
            return kids[0] ** kids[1]
        if op == "neg":
            return -kids[0]
        if op == "id":
            return kids[0]
        return FUNCS[op](*kids)
    return fold(e, step)


def sympy_function(prog):
    """y as one SymPy expression of the inputs, built from the parsed statements."""
    env = {n: sp.Symbol(n, real=True) for n in prog.inputs}
    symbols = dict(env)
    for st in prog.graph.statements:
        env[st.name] = to_sympy(st.expr, env)
    return env[prog.outputs[0]], symbols


def points(case, n=4, seed=0):
    rng = np.random.default_rng(seed)
    base = case["at"]
    yield base
    for _ in range(n):
        yield {k: v * (1 + 0.05 * rng.normal()) for k, v in base.items()}


@pytest.mark.parametrize("case", SCALAR, ids=[c["name"] for c in SCALAR])
def test_closed_form_matches_sympy(case):
    prog = graphlang.parse(case["program"])
    f, syms = sympy_function(prog)
    for at in points(case):
        _, shapes = prog.bind(at)
        ours = symbolic.closed_forms(prog, shapes)
        subs = {syms[k]: v for k, v in at.items()}
        for name, expr in ours.items():
            want = float(sp.diff(f, syms[name]).evalf(subs=subs))
            got = float(to_sympy(expr, syms).evalf(subs=subs))
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("case", SCALAR, ids=[c["name"] for c in SCALAR])
def test_derivative_program_runs_and_matches_sympy(case):
    prog = graphlang.parse(case["program"])
    f, syms = sympy_function(prog)
    _, shapes = prog.bind(case["at"])
    text = symbolic.derivative_program(prog, shapes)
    derived = graphlang.parse(text)  # re-parses as a valid program
    for at in points(case):
        got = derived.forward(at)
        subs = {syms[k]: v for k, v in at.items()}
        for name in prog.inputs:
            want = float(sp.diff(f, syms[name]).evalf(subs=subs))
            assert got["g_" + name] == pytest.approx(want, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("case", SCALAR[:6] + SCALAR[-3:], ids=[c["name"] for c in SCALAR[:6] + SCALAR[-3:]])
def test_second_derivatives_match_sympy_hessian(case):
    prog = graphlang.parse(case["program"])
    f, syms = sympy_function(prog)
    at = case["at"]
    _, shapes = prog.bind(at)
    derived = graphlang.parse(symbolic.derivative_program(prog, shapes))
    hess = derived.evaluate(at).jacobian  # d(g_x, g_z, ...)/d(input): the Hessian
    subs = {syms[k]: v for k, v in at.items()}
    names = prog.inputs
    if len(names) == 1:  # a single scalar output: the gradient of g_x
        got = derived.evaluate(at).gradient
        want = float(sp.diff(f, syms[names[0]], 2).evalf(subs=subs))
        assert got[names[0]] == pytest.approx(want, rel=1e-8, abs=1e-10)
        return
    for a in names:
        for j, b in enumerate(names):
            want = float(sp.diff(f, syms[a], syms[b]).evalf(subs=subs))
            assert hess[a][j] == pytest.approx(want, rel=1e-8, abs=1e-10), (a, b)


def test_symbolic_stays_small_on_long_chains():
    lines = ["a0 = x"] + [f"a{i} = sin(a{i - 1}) * 0.9 + a{i - 1} * z" for i in range(1, 201)]
    prog = graphlang.parse("\n".join(lines))
    _, shapes = prog.bind({"x": 0.3, "z": 0.5})
    small = symbolic.derivative_program(graphlang.parse("\n".join(lines[:101])), shapes)
    big = symbolic.derivative_program(prog, shapes)
    assert len(big) < 2.2 * len(small)  # linear growth: twice the statements, about twice the text
    derived = graphlang.parse(big)
    got = derived.forward({"x": 0.3, "z": 0.5})
    want = prog.gradient({"x": 0.3, "z": 0.5})
    assert got["g_x"] == pytest.approx(want["x"], rel=1e-10)


# --- every broadcasting pattern, shape-preserving simplification (issue 12, items 6 and 11) ---

# Shapes that all broadcast together (each axis is 1 or the full size of [3, 2]).
SHAPES = {"s": (), "d": (2,), "o": (1,), "r": (1, 2), "c": (3, 1), "e": (1, 1), "A": (3, 2)}
LITERALS = {(1, 2): "[[0.5, -1]]", (3, 1): "[[1], [-0.5], [2]]", (2,): "[0.25, 1.5]"}
UNARY_T = ["sin({a})", "tanh({a})", "exp(sin({a}))", "{a}^2", "{a}^0", "{a}^1", "-{a}", "0 * {a}",
           "(1 + {a}^2)^0.5", "{a}^3 / 4"]
BINARY_T = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / (1 + {b}^2)", "(1 + {a}^2)^{b}",
            "{a} * {b} + {a}"]


def _shape_after(template: str, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    out: tuple[int, ...] = ()
    for s in shapes:
        out = np.broadcast_shapes(out, s)
    return out


@hs.composite
def broadcast_programs(draw):
    """(source, values, vector_output): nodes of every shape in SHAPES, mixed by broadcasting,
    reduced over an axis, indexed, and raised to literal powers (0 included)."""
    rng = np.random.default_rng(draw(hs.integers(0, 2**32 - 1)))
    inputs = draw(hs.lists(hs.sampled_from(sorted(SHAPES)), min_size=1, max_size=4, unique=True))
    values = {n: rng.uniform(0.3, 1.5, SHAPES[n]) * rng.choice([-1, 1], SHAPES[n]) for n in inputs}
    nodes = {n: SHAPES[n] for n in inputs}
    lines = []
    for k in range(draw(hs.integers(1, 7))):
        names = sorted(nodes)
        kind = draw(hs.sampled_from(["unary", "binary", "binary", "literal", "reduce", "index"]))
        a = draw(hs.sampled_from(names))
        if kind == "unary":
            expr, shape = draw(hs.sampled_from(UNARY_T)).format(a=a), nodes[a]
        elif kind == "binary":
            b = draw(hs.sampled_from(names))
            expr, shape = draw(hs.sampled_from(BINARY_T)).format(a=a, b=b), _shape_after("", [nodes[a], nodes[b]])
        elif kind == "literal":
            lit_shape = draw(hs.sampled_from(sorted(LITERALS)))
            expr, shape = f"{a} * {LITERALS[lit_shape]}", _shape_after("", [nodes[a], lit_shape])
        elif kind == "reduce" and len(nodes[a]) == 2:
            axis = draw(hs.sampled_from([None, 0]))
            expr = f"sum({a})" if axis is None else f"sum({a}, 0)"
            shape = () if axis is None else nodes[a][1:]
        elif kind == "index" and nodes[a]:
            expr, shape = f"{a}[0]", nodes[a][1:]
        else:
            expr, shape = f"mean({a}) + {a}", nodes[a]
        lines.append(f"n{k} = {expr}")
        nodes[f"n{k}"] = shape
    last = f"n{len(lines) - 1}"
    vector = draw(hs.booleans()) and nodes[last] != () and int(np.prod(nodes[last])) <= 6
    reach = " + ".join(f"sum({n}) * 0.{i + 1}" for i, n in enumerate(inputs))
    if vector:
        lines.append(f"y = {last} + {reach}")
    else:
        lines.append(f"y = sum({last} * {last}) + {reach}")
    return "\n".join(lines) + "\n", values, vector


def _finite_differences(prog, at, name, h=1e-6):
    x = np.asarray(at[name], dtype=float)
    cols = []
    for idx in np.ndindex(x.shape):
        outs = []
        for sign in (1, -1):
            moved = x.copy()
            moved[idx] += sign * h
            outs.append(np.ravel(prog.forward({**at, name: moved})["y"]))
        cols.append((outs[0] - outs[1]) / (2 * h))
    return np.array(cols).reshape(x.shape + (-1,))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broadcast_programs())
def test_symbolic_handles_every_broadcast_like_reverse_mode(case):
    """Symbolic differentiation (the derivative program, run) equals reverse mode on programs that
    broadcast every way; both equal central differences; `diff --program` re-parses."""
    source, at, vector = case
    prog = graphlang.parse(source)
    rev = prog.evaluate(at, method="reverse")
    sym = prog.evaluate(at, method="symbolic")
    for name in prog.inputs:
        want = rev.jacobian[name] if vector else rev.gradient[name]
        got = sym.jacobian[name] if vector else sym.gradient[name]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=f"{name}\n{source}")
        fd = _finite_differences(prog, at, name)
        np.testing.assert_allclose(np.reshape(want, fd.shape), fd, rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name}\n{source}")
    _, shapes = prog.bind(at)
    derived = graphlang.parse(symbolic.derivative_program(prog, shapes))
    if not vector:
        got = derived.forward(at)
        for name in prog.inputs:
            np.testing.assert_allclose(got["g_" + name], rev.gradient[name], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("b_shape,b", [((1, 2), [[1.0, 2.0]]), ((3, 1), [[1.0], [2.0], [3.0]]),
                                       ((1, 1), [[2.0]]), ((2,), [1.0, 2.0]), ((), 2.0)])
def test_broadcast_size_one_axis_closed_form(b_shape, b):
    """b broadcast against a [3, 2]: ∂sum(a*b)/∂b sums a over the stretched axes (keeping b's shape)."""
    a = np.arange(6.0).reshape(3, 2) - 2
    prog = graphlang.parse("y = sum(a * b) + sum(b * b * a)")
    full = a + 2 * np.asarray(b) * a  # ∂/∂b of the summand at every element of [3, 2]
    lead = 2 - len(b_shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(b_shape) if n == 1)
    want = full.sum(axis=axes, keepdims=True).reshape(b_shape)
    for method in ("symbolic", "reverse"):
        got = prog.gradient({"a": a, "b": b}, method=method)["b"]
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=method)


@pytest.mark.parametrize("source", [
    "w = (v + [[1, 2, 3], [1, 2, 3]])^0\ny = w[1, 2]",
    "w = (v + [[1, 2, 3], [1, 2, 3]])^0\ny = sum(w[1] * v)",
    "y = sum(((v + [[1, 2, 3], [1, 2, 3]])^0)[1] * v)",
    "y = sum((0 * (v + [[1, 2, 3], [1, 2, 3]]))[1] * v) + sum(v)",
    "w = sum(0 * (v + [[1, 2, 3], [1, 2, 3]]), 0)\ny = sum(w * v)",
])
def test_broadcast_tensor_to_the_power_zero_then_indexed(source):
    """x^0 and 0*x of a broadcast tensor keep their shape in derivative programs (no index error at
    a line the file does not have); the gradient is reverse mode's, and fd's."""
    prog = graphlang.parse(source)
    at = {"v": [0.5, -1.0, 2.0]}
    rev = prog.gradient(at, method="reverse")
    sym = prog.gradient(at, method="symbolic")
    np.testing.assert_allclose(sym["v"], rev["v"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(rev["v"], _finite_differences(prog, at, "v")[..., 0], atol=1e-6)
    _, shapes = prog.bind(at)
    derived = graphlang.parse(symbolic.derivative_program(prog, shapes))
    np.testing.assert_allclose(derived.forward(at)["g_v"], rev["v"], rtol=1e-12)


@pytest.mark.parametrize("source", ["y = 3", "c = 2\ny = c * 3", "y = [1, 2]", "c = [1, 2]\ny = sum(c)"])
def test_program_without_inputs_has_no_derivative_program(source, cli, write):
    path = write(source + "\n")
    ran = cli("diff", path, "--program")
    assert ran.code != 0 and "no inputs" in ran.err and "Traceback" not in ran.err
    for method in ("symbolic", "reverse"):
        ran = cli("grad", path, "--method", method, "--json")
        assert ran.code == 0, ran.err
        assert ran.json().get("gradient", ran.json().get("jacobian")) == {}
    for command in ("gradcheck", "tangents") + ("hessian",) * ("[" not in source):  # (gradcheck said "all four
        ran = cli(command, path)  # methods agree" of nothing)
        assert ran.code == 2 and "no inputs: there is nothing to differentiate" in ran.err, (command, ran.err)


def test_derivative_program_errors_point_into_the_users_file():
    """A failure while running the derivative program is reported at a line of the user's program."""
    prog = graphlang.parse("input x\n" + "\n" * 20 + "b = x + 1\nc = b * 2\ny = sqrt(c - 2)\n")
    with pytest.raises(GraphlangError) as info:
        prog.gradient({"x": 0.0}, method="symbolic")
    assert info.value.kind == "domain"
    assert info.value.line in (22, 23, 24)
    with pytest.raises(GraphlangError) as info:
        prog.hessian({"x": 0.0})
    assert info.value.line in (22, 23, 24)


def test_constant_adjoints_that_do_not_lead_to_the_gradient_are_left_out():
    """`n = 2; y = x^n` at x < 0: ∂y/∂n does not exist (ln of a negative base) but is not needed;
    the derivative program, like reverse mode, gives ∂y/∂x = n·x^(n-1)."""
    prog = graphlang.parse("n = 2\ny = x^n\n")
    _, shapes = prog.bind({"x": -3.0})
    text = symbolic.derivative_program(prog, shapes)
    assert "g_n" not in text
    assert graphlang.parse(text).forward({"x": -3.0})["g_x"] == pytest.approx(-6.0)
    assert prog.gradient({"x": -3.0}, method="symbolic")["x"] == pytest.approx(-6.0)


@pytest.mark.parametrize("source", [
    "y = abs(x) * 1e308 + sign(x) * x * 1e308\n",  # like terms: 2·1e308 is not a float64
    "y = x * 1e300 * 1e10\n",  # constant factors whose product overflows
    "y = x ^ 1e200 + x ^ 1e300\n",  # c(c-1) of a huge exponent
])
def test_closed_forms_never_fold_a_constant_to_infinity(source, write):
    """Found by the per-command corpus: folding two finite constants into inf crashed `diff`
    (OverflowError printing `inf`); the factors stay apart, and evaluation reports the overflow."""
    from conftest import run_cli

    path = write(source)
    for args in (["diff", path], ["diff", path, "--program"], ["diff", path, "--latex"],
                 ["grad", path, "--at", "x=0.5", "--method", "symbolic"], ["hessian", path, "--at", "x=0.5"]):
        ran = run_cli(*args)
        assert "Traceback" not in ran.err and "inf" not in ran.out, (args, ran.err)
        assert ran.code == 0 or (ran.code == 1 and ran.err.startswith(f"{path}:")), (args, ran.err)


def test_diff_without_shapes_says_which_inputs_it_took_as_scalars(cli, write):
    """A red team's find: `diff` of `y = mean(A * A)` printed dy/dA = 2 * A (A taken as a scalar)
    with nothing said, where a matrix's answer is 2A/n; `sum(W @ x)` said "scalar @ scalar". The
    oracle for the declared form: numpy's mean of A * A differentiated by hand, 2A/n."""
    ran = cli("diff", write("y = mean(A * A)\n"))
    assert ran.code == 0 and "A is taken as a scalar" in ran.err and "input A[2, 3]" in ran.err
    ran = cli("diff", write("y = sum(W @ x)\n"))
    assert ran.code == 1 and "W, x are taken as scalars" in ran.err
    lecture = cli("diff", write("a = x * z\ny = exp(a) + a / ln(x)\n"))  # scalars meant: nothing said
    assert lecture.code == 0 and lecture.err == ""
    declared = graphlang.parse("input A[2, 3]\ny = mean(A * A)\n")
    a = np.arange(6.0).reshape(2, 3)
    assert np.allclose(declared.gradient({"A": a})["A"], 2 * a / a.size)
    shaped = cli("diff", write("input A[2, 3]\ny = mean(A * A)\n"))  # 2·((1 1ᵀ)/6·A): the 1s explained
    assert "taken as" not in shaped.err and shaped.err.startswith("note: 𝟏 is a vector of ones"), shaped.err


def test_a_constant_product_that_underflows_is_not_folded_to_zero():
    """A numerics red team's find: diff printed dy/dx = 0 for y = 1e-200·(1e-200·(1e300·x)), a
    closed form false at every x (1e-200·1e-200 folded to float64's 0). Oracle: the closed form
    re-evaluated in Python's exact fractions is 1e-100, and forward mode's number agrees."""
    from fractions import Fraction
    p = graphlang.parse("y = 1e-200 * (1e-200 * (1e300 * x))\n")
    form = p.diff()["x"]
    assert form != "0"
    exact = eval(form.replace("^", "**").replace("1e-200", "Fraction(1, 10**200)")  # noqa: S307 (the test's own text)
                 .replace("1e+300", "Fraction(10**300)"), {"Fraction": Fraction})
    assert exact == Fraction(1, 10**100)
    assert p.gradient({"x": 1.0}, method="forward")["x"] == pytest.approx(1e-100, rel=1e-12)
    for form in ("sigmoid(-800)", "softplus(-800)", "exp(-800)"):  # (a review's find: sigmoid's folded to 0)
        assert graphlang.parse(f"y = {form} * x\n").diff()["x"] == form


def test_a_constant_sum_is_folded_only_where_float64_keeps_it_exactly(cli, write):
    """A student's find: `diff` of y = x + (x - x)/1e-21 printed dy/dx = 0 (1 + 1e21 folded to 1e21 in
    float64, then − 1e21). The form now keeps the sum, and read exactly (SymPy, rationals) it is 1,
    the derivative by hand; a sum float64 keeps (2 + 3) is still folded."""
    import sympy as sp
    out = cli("diff", write("y = x + (x - x) / 1e-21\n")).out
    form = out.split(" = ", 1)[1].strip()
    assert sp.nsimplify(sp.sympify(form, rational=True)) == 1, form
    assert cli("diff", write("y = (2 + 3) * x\n", "b.cg")).out.strip() == "dy/dx = 5"
