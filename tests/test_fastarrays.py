"""Compiled `Program.evaluate` on tensor programs and compiled `Program.forward` (engines/fastarrays.py,
engines/fasteval.py) have the interpreter's semantics: the same named nodes, values and adjoints of
the same types and shapes, or the same error kind at the same place — on the first call (interpreted),
the second (compiling) and later ones, for every way a value may be passed. The oracle is the
interpreter itself (the fast paths switched off); the tensor code calls the same kernels (on 0-d
values the rows' float functions, as the interpreter does), so values agree to the last bit."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import edge_programs, scalar_programs, tensor_programs

import graphlang
from graphlang.engines import interpreter as interp

SETTINGS = settings(max_examples=150, deadline=None)
FORMS = {"lists": lambda v: v, "arrays": np.array,
         "ints": lambda v: np.rint(np.array(v)).astype(int).tolist(),
         "int arrays": lambda v: np.rint(v).astype(np.int64)}


def interpreted(source: str) -> graphlang.Program:
    prog = graphlang.parse(source)
    prog._fast_evaluate._refused = True  # the oracle: never compiled
    return prog


def close(a: Any, b: Any) -> bool:
    """Same type and shape, finite, equal to the last bit."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return math.isfinite(a) and a == b
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.all(np.isfinite(a))) and \
            bool(np.array_equal(a, b))
    return a == b


def outcome(prog: graphlang.Program, values: dict, forward: bool = False) -> Any:
    try:
        if forward:
            return "ok", prog.forward(values)
        r = prog.evaluate(values)
    except graphlang.GraphlangError as err:
        return "error", err.kind, err.line, err.column, err.message
    return "ok", r.output, r.value, r.values, r.adjoints, r.gradient, r.jacobian, r.method, r.epsilon


def same(got: Any, ref: Any) -> bool:
    if got[0] != ref[0] or len(got) != len(ref):
        return False
    if ref[0] == "error":
        return bool(got == ref)
    def eq(a: Any, b: Any) -> bool:
        if isinstance(b, dict):
            return isinstance(a, dict) and list(a) == list(b) and all(close(a[k], b[k]) for k in b)
        return close(a, b) if isinstance(b, (float, np.ndarray)) else a == b
    return all(eq(a, b) for a, b in zip(got[1:], ref[1:]))


def check_same(source: str, at: dict, forms: dict = FORMS, forward: bool = False) -> None:
    for form, convert in forms.items():
        values = {k: convert(v) for k, v in at.items()}
        reference = outcome(interpreted(source), values, forward)
        prog = graphlang.parse(source)
        for call in range(4):  # interpreted, compiled, then compiled again
            got = outcome(prog, values, forward)
            assert same(got, reference), (form, call, got, reference)


@SETTINGS
@given(tensor_programs())
def test_random_tensor_programs_evaluate_as_interpreted(case):
    check_same(*case)


@SETTINGS
@given(tensor_programs())
def test_random_tensor_programs_forward_as_interpreted(case):
    check_same(*case, forward=True)


EDGE = [0.0, 1.0, -1.0, 0.5, 1e-300, 1e154, 1e300, 700.0, -2.0]
EDGE_OPS = ["ln({v})", "sqrt({v})", "1 / {v}", "{v} ^ {w}", "exp({v})", "{v} * {w} * 1e300", "softmax({v})",
            "{v} / sum({w})", "max({v}, {w})", "relu({v}) * {w}", "xlogy({v}, {w})", "tan({v})"]


@st.composite
def edge_tensor_programs(draw):
    """(source, values): vectors a, b of length 3 at float64's edges, domain-restricted functions."""
    values = {n: draw(st.lists(st.sampled_from(EDGE), min_size=3, max_size=3)) for n in ("a", "b")}
    vecs, lines = ["a", "b"], []
    for k in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(EDGE_OPS))
        lines.append(f"t{k} = " + op.format(v=draw(st.sampled_from(vecs)), w=draw(st.sampled_from(vecs))))
        vecs.append(f"t{k}")
    lines.append(f"y = sum({draw(st.sampled_from(vecs[2:]))}) + sum(a) * 0.5")
    return "\n".join(lines) + "\n", values


@SETTINGS
@given(edge_tensor_programs())
def test_tensor_domain_errors_as_interpreted(case):
    check_same(*case, forms={"lists": FORMS["lists"]})
    check_same(*case, forms={"lists": FORMS["lists"]}, forward=True)


SCALAR_FORMS = {"float": float, "int": lambda v: int(v) if float(v).is_integer() and abs(v) < 1e15 else float(v),
                "np.float64": np.float64, "0-d array": np.array}


@settings(max_examples=100, deadline=None)
@given(st.one_of(scalar_programs(kinks=True), edge_programs()))
def test_scalar_forward_as_interpreted(case):
    check_same(*case, forms=SCALAR_FORMS, forward=True)


@pytest.mark.parametrize("name", ["two_layer_network", "softmax_classifier"])
def test_the_lecture_networks_are_compiled(name):
    source = open(f"programs/{name}.cg").read()
    at = json.loads(open(f"programs/{name}.json").read())
    at = at.get("at", at)
    check_same(source, at, forms={"lists": FORMS["lists"], "arrays": FORMS["arrays"]})
    prog = graphlang.parse(source)
    for _ in range(2):
        prog.evaluate(at)
        prog.forward(at)
    plans = prog._fast_evaluate.arrays.plans
    assert len(plans) == 2 and all(fn is not None for fn in plans.values())
    with pytest.MonkeyPatch.context() as mp:  # the compiled code answers: the interpreter is not called
        mp.setattr(interp, "forward", None)
        assert prog.evaluate(at).values.keys() == prog.forward(at).keys() == set(prog.names)


def test_a_domain_error_after_compiled_calls_is_the_interpreters():
    source = "input x[2]\na = ln(x)\ny = sum(a)\n"
    prog = graphlang.parse(source)
    for _ in range(3):
        assert prog.evaluate({"x": [1.0, 2.0]}).value == pytest.approx(math.log(2))
        assert prog.forward({"x": [1.0, 2.0]})["y"] == pytest.approx(math.log(2))
    for forward in (False, True):
        got = outcome(prog, {"x": [1.0, -2.0]}, forward)
        assert got == outcome(interpreted(source), {"x": [1.0, -2.0]}, forward)
        assert got[:3] == ("error", "domain", 2)


@pytest.mark.parametrize("bad", [{"x": [1.0, float("nan")]}, {"x": [1.0, 2.0, 3.0]}, {"x": ["1", 2]},
                                 {"x": 1.0}, {}, {"x": [1.0, 2.0], "q": 1.0}, {"x": [True, 2.0]}])
def test_values_bind_refuses_are_refused_after_compiling(bad):
    source = "input x[2]\ny = sum(x * x)\n"
    prog = graphlang.parse(source)
    for _ in range(3):
        prog.evaluate({"x": [1.0, 2.0]})
        prog.forward({"x": [1.0, 2.0]})
    for forward in (False, True):
        assert outcome(prog, bad, forward) == outcome(interpreted(source), bad, forward)
        assert outcome(prog, bad, forward)[0] == "error"


def test_scalar_forward_refuses_what_bind_refuses_after_compiling():
    source = "u = 1 / (1 + x * x)\ny = u + 0\n"
    prog = graphlang.parse(source)
    for _ in range(3):
        assert prog.forward({"x": 1.0})["u"] == 0.5
    assert prog._fast_evaluate._forward is not None
    with pytest.MonkeyPatch.context() as mp:  # the compiled code answers: the interpreter is not called
        mp.setattr(interp, "forward", None)
        assert prog.forward({"x": 1})["u"] == 0.5
    for bad in ({"x": float("inf")}, {"x": "2"}, {"x": True}, {}, {"x": 10 ** 400}, {"x": 1.0, "u": 2.0}):
        assert outcome(prog, bad, True) == outcome(interpreted(source), bad, True)
        assert outcome(prog, bad, True)[0] == "error"
