"""One semantics for every engine: `Program.gradient` (compiled straight-line code, scalar or
numpy) answers exactly what `Program.evaluate` (the equation-loop interpreter) answers — the same
gradient, or the same error kind at the same line — for every kind of input value."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from strategies import edge_programs

import graphlang

SETTINGS = settings(max_examples=300, deadline=None)

# How a user may pass the number v: each must give the same answer (a 1-element vector runs the
# numpy plan; the others the scalar plan).
FORMS = {"float": float, "int": lambda v: int(v) if float(v).is_integer() else float(v),
         "np.float64": np.float64, "0-d array": np.array, "vector": lambda v: [v]}


def outcome(call, *args):
    try:
        return "ok", call(*args)
    except graphlang.GraphlangError as err:
        return "error", (err.kind, err.line)


def same(a, b) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "error":
        return a[1] == b[1]
    return a[1].keys() == b[1].keys() and all(
        np.array_equal(np.asarray(a[1][k], dtype=float), np.asarray(b[1][k], dtype=float))
        and np.all(np.isfinite(b[1][k])) for k in a[1])


@SETTINGS
@given(edge_programs())
def test_compiled_gradient_has_the_interpreters_semantics(case):
    scalar_source, at = case
    *body, last = scalar_source.strip().split("\n")
    for form, convert in FORMS.items():
        values = {k: convert(v) for k, v in at.items()}
        source = scalar_source if form != "vector" else "\n".join(
            [*body, "y = sum(" + last.split("=", 1)[1] + ")"])  # a scalar output again
        reference = outcome(lambda s, v: graphlang.parse(s).evaluate(v).gradient, source, values)
        prog = graphlang.parse(source)
        for call in range(3):  # compiles on the first call, then runs the cached plan
            got = outcome(prog.gradient, values)
            assert same(reference, got), (form, call, reference, got)


def test_int_and_float_inputs_are_the_same_number():
    """A Python int is a float64, as in evaluate: never exact bigint arithmetic."""
    x = 2 ** 53 + 1  # as a float64: 2^53
    prog = graphlang.parse("y = x * x")
    for _ in range(3):
        assert prog.gradient({"x": x})["x"] == 2.0 * float(x) == 2.0 ** 54  # closed form 2x
    prog = graphlang.parse("y = x * 2")
    with pytest.raises(graphlang.GraphlangError) as info:  # too large for a float64
        prog.gradient({"x": 10 ** 400})
    assert info.value.kind == "value"


def test_squaring_chain_with_an_int_stops_at_the_overflow():
    """3^(2^k) passes float64's 1.8e308 at k = 10 (line 11). As bigints it would never return:
    run it in a subprocess with a generous timeout."""
    code = ("import graphlang\n"
            "src = 'a0 = x\\n' + ''.join(f'a{i} = a{i - 1} * a{i - 1}\\n' for i in range(1, 60))\n"
            "p = graphlang.parse(src)\n"
            "for _ in range(3):\n"
            "    try:\n"
            "        p.gradient({'x': 3})\n"
            "    except graphlang.GraphlangError as e:\n"
            "        print(e.kind, e.line)\n")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert ran.stdout.split("\n")[:3] == ["domain 11"] * 3, ran.stderr


@pytest.mark.parametrize("value", ["2", True, None, b"2", [1, "2"], float("nan"), np.float64("inf")])
def test_values_evaluate_refuses_are_refused(value):
    prog = graphlang.parse("y = x * 2")
    with pytest.raises(graphlang.GraphlangError) as want:
        prog.evaluate({"x": value})
    for _ in range(3):
        with pytest.raises(graphlang.GraphlangError) as got:
            prog.gradient({"x": value})
        assert (got.value.kind, got.value.line) == (want.value.kind, want.value.line)


def test_a_statement_the_output_does_not_read_still_fails():
    prog = graphlang.parse("a = ln(x - 5)\ny = x * 2")
    for value in (3.0, 3.0, 3, np.float64(3), [3.0]):
        with pytest.raises(graphlang.GraphlangError) as info:
            prog.gradient({"x": value})
        assert (info.value.kind, info.value.line) == ("domain", 1)


def test_an_overflow_hidden_inside_a_rule_is_reported_by_every_engine():
    """d(1/x)/dx = -x/x^2 overflows in x^2 at 1e200 (the interpreter checks every operation); the
    compiled code's 1/inf = 0 must not hide it."""
    prog = graphlang.parse("a = x * 1\ny = 1 / a")
    for value in (1e200, 1e200, np.float64(1e200), [1e200]):
        with pytest.raises(graphlang.GraphlangError) as info:
            prog.gradient({"x": value})
        assert (info.value.kind, info.value.line) == ("domain", 2)


@pytest.mark.parametrize("form", list(FORMS))
def test_abs_and_sign_through_the_fast_path(form):
    prog = graphlang.parse("y = abs(x) * x + sign(x)")
    convert = FORMS[form]
    for x in (2.0, -1.5):
        for _ in range(3):
            got = prog.gradient({"x": convert(x)})["x"]
            assert np.asarray(got, dtype=float).item() == 2 * abs(x)  # closed form: d(|x| x)/dx = 2|x|


@pytest.mark.parametrize("x,z", [(2.0, 3.0), (-1.5, 0.5), (0.7, -2.0)])
def test_hessian_of_abs_and_sign_matches_the_closed_form(x, z):
    """y = |x|·x² + sign(z)·z³ + |x·z|: away from the kinks, ∂²y/∂x² = 6|x|, ∂²y/∂z² = 6|z|,
    ∂²y/∂x∂z = sign(x·z) (from |x·z|), and |x·z| adds nothing to the diagonal."""
    prog = graphlang.parse("y = abs(x) * x^2 + sign(z) * z^3 + abs(x * z)")
    h = prog.hessian({"x": x, "z": z})
    assert h["x"]["x"] == pytest.approx(6 * abs(x))
    assert h["z"]["z"] == pytest.approx(6 * abs(z))
    assert h["x"]["z"] == pytest.approx(np.sign(x * z)) and h["z"]["x"] == pytest.approx(np.sign(x * z))
    for form in ("np.float64", "0-d array"):
        values = {"x": FORMS[form](x), "z": FORMS[form](z)}
        assert prog.hessian(values) == h


def test_a_program_whose_compiling_would_pass_max_memory_is_not_compiled():
    """An API red team's find: under the checker's limits (max_memory 250 MB) a 130 KB program of
    63,681 equations was compiled at its 101st call: 6.5 s and 718 MB. Compiling holds ≈ 10 KB per
    equation (fastpath.COMPILE_BYTES): past the budget the tape or the interpreter answers, with
    the same numbers. Oracle: y = x^121 by hand, dy/dx = 121·x^120 at x = 1.01."""
    from graphlang import Limits
    from graphlang.engines.fastpath import COMPILE_BYTES
    source = "\n".join(f"a{i} = {'a' + str(i - 1) if i else 'x'} * x" for i in range(120)) + "\ny = a119\n"
    small = graphlang.parse(source, limits=Limits().with_(max_memory=COMPILE_BYTES * 100))
    roomy = graphlang.parse(source)
    for _ in range(4):
        r, s = small.evaluate({"x": 1.01}), roomy.evaluate({"x": 1.01})
        assert small.gradient({"x": 1.01}) == roomy.gradient({"x": 1.01}) == r.gradient
        assert r.values == s.values and r.adjoints == s.adjoints and small.forward({"x": 1.01}) == s.values
    assert r.gradient["x"] == pytest.approx(121 * 1.01 ** 120, rel=1e-12)
    assert small._fast_evaluate._fn is None and not small._fast.plans and not small._fast_evaluate.arrays.plans
    assert roomy._fast_evaluate._fn is not None and roomy._fast.plans
