"""Symbolic derivatives against SymPy: closed forms, derivative programs, second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import conformance_cases

import graphlang
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
