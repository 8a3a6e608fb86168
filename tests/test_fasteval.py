"""`Program.evaluate` on compiled code (engines/fasteval.py) has the interpreter's semantics: the same
named nodes with values and adjoints of the same types, the same gradient, or the same error kind at
the same line — on the first call (interpreted), the second (compiling), later ones (plain floats
skip binding) and for every way a number may be passed. Values agree to the last bit: on scalars
the interpreter calls the rows' float functions (`math.exp`), as compiled code does (numpy's SIMD
exp/tanh/pow differ from them by an ulp on some arguments). The oracle is the interpreter itself (the
fast path switched off), and for the lecture a closed form by SymPy."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import edge_programs, scalar_programs

import graphlang
from graphlang import GraphlangError
from graphlang.engines.fasteval import FastEvaluate

SETTINGS = settings(max_examples=250, deadline=None)
FORMS = {"float": float, "int": lambda v: int(v) if float(v).is_integer() and abs(v) < 1e15 else float(v),
         "np.float64": np.float64, "0-d array": np.array}


def interpreted(source: str) -> graphlang.Program:
    prog = graphlang.parse(source)
    prog._fast_evaluate._refused = True  # the oracle: never compiled
    return prog


class Num:
    """A float compared bit for bit (the same type, finite, equal, zeros of the same sign)."""

    def __init__(self, v: object) -> None:
        self.v = v

    def __eq__(self, other: object) -> bool:
        a, b = self.v, other.v  # type: ignore[attr-defined]
        return type(a) is type(b) and isinstance(a, float) and math.isfinite(a) and a == b and \
            math.copysign(1.0, a) == math.copysign(1.0, b)  # (-0.0 and 0.0 print differently)

    def __repr__(self) -> str:
        return repr(self.v)


def nums(d: dict | None) -> object:
    return None if d is None else {k: Num(v) for k, v in d.items()}


def outcome(prog: graphlang.Program, values: dict, **kw: object) -> object:
    try:
        r = prog.evaluate(values, **kw)
    except graphlang.GraphlangError as err:
        return "error", err.kind, err.line, err.column
    return ("ok", r.output, Num(r.value), nums(r.values), nums(r.adjoints), nums(r.gradient), r.jacobian,
            r.method, r.epsilon)


def check_same(source: str, at: dict, **kw: object) -> None:
    for form, convert in FORMS.items():
        values = {k: convert(v) for k, v in at.items()}
        reference = outcome(interpreted(source), values, **kw)
        prog = graphlang.parse(source)
        for call in range(4):  # interpreted, compiled, then run (floats skip binding)
            assert outcome(prog, values, **kw) == reference, (form, call)


@SETTINGS
@given(edge_programs())
def test_edge_programs_evaluate_as_interpreted(case):
    check_same(*case)


@SETTINGS
@given(scalar_programs(kinks=True))
def test_random_programs_evaluate_as_interpreted(case):
    check_same(*case)


@settings(max_examples=60, deadline=None)
@given(scalar_programs())
def test_explicit_reverse_and_wrt_as_interpreted(case):
    source, at = case
    check_same(source, at, method="reverse")
    check_same(source, at, wrt=sorted(at)[:1])


def test_the_lecture_is_compiled_and_matches_the_closed_form():
    sympy = pytest.importorskip("sympy")
    x, z = sympy.symbols("x z")
    a, b = x * z, sympy.log(x)
    c, d, e = sympy.sin(b), sympy.exp(a), a / b
    f = c / a
    y = d + e + f
    at = {x: 2.0, z: 3.0}
    prog = graphlang.load("programs/lecture13.cg")
    for _ in range(3):
        r = prog.evaluate({"x": 2.0, "z": 3.0})
        expected_values = {"x": 2.0, "z": 3.0, "a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "y": y}
        for name, expr in expected_values.items():
            assert r.values[name] == pytest.approx(float(sympy.sympify(expr).subs(at)), rel=1e-14)
        assert r.gradient["x"] == pytest.approx(float(sympy.diff(y, x).subs(at)), rel=1e-13)
        assert r.gradient["z"] == pytest.approx(float(sympy.diff(y, z).subs(at)), rel=1e-13)
        # g_b = ∂y/∂b with a, c held as functions of b only through c and e
        sb = sympy.Symbol("sb")
        y_of_b = sympy.exp(x * z) + x * z / sb + sympy.sin(sb) / (x * z)
        assert r.adjoints["b"] == pytest.approx(float(sympy.diff(y_of_b, sb).subs({**at, sb: math.log(2)})),
                                                rel=1e-13)
    assert prog._fast_evaluate._fn is not None  # the compiled path ran


def test_a_domain_error_after_compiled_calls_is_the_interpreters():
    prog = graphlang.parse("a = x * z\nb = ln(a)\ny = b + x\n")
    for _ in range(2):
        assert prog.evaluate({"x": 2.0, "z": 3.0}).value == pytest.approx(math.log(6) + 2)
    assert prog._fast_evaluate._fn is not None
    with pytest.raises(graphlang.GraphlangError) as err:
        prog.evaluate({"x": 2.0, "z": -3.0})
    assert (err.value.kind, err.value.line) == ("domain", 2)


def test_a_constants_missing_adjoint_is_left_out_as_interpreted():
    """∂(x^n)/∂n does not exist at x < 0: the constant's adjoint is left out (it was shown as 0),
    compiled or interpreted (tests/test_constant_adjoints.py: every view of it)."""
    source = "n = 3\ny = x ^ n\n"
    for x in (2.0, -2.0, -2.0, -2.0):
        assert outcome(graphlang.parse(source), {"x": x}) == outcome(interpreted(source), {"x": x})
    r = graphlang.parse(source).evaluate({"x": -2.0})
    assert r.gradient["x"] == pytest.approx(3 * 4.0) and "n" not in r.adjoints and r.extra["no_adjoint"] == ["n"]


@pytest.mark.parametrize("bad", [{"x": float("nan")}, {"x": float("inf")}, {"x": "2"}, {"x": True},
                                 {"x": 2.0, "q": 1.0}, {}, {"x": 10 ** 400}])
def test_values_bind_refuses_are_refused_after_compiling(bad):
    source = "u = 1 / (1 + x * x)\ny = u + 0\n"
    prog = graphlang.parse(source)
    prog.evaluate({"x": 1.0})
    prog.evaluate({"x": 1.0})  # compiled and checked
    assert prog._fast_evaluate.checked is prog.limits
    assert outcome(prog, bad) == outcome(interpreted(source), bad)
    assert outcome(prog, bad)[0] == "error"


@pytest.mark.parametrize("make", [lambda: collections.defaultdict(float, {"z": 3.0, "w": 1.0}),
                                  lambda: collections.Counter({"z": 3.0, "w": 1.0}),
                                  lambda: collections.defaultdict(float, {"z": 3.0})])
def test_a_mapping_that_makes_up_values_is_refused_after_compiling_too(make):
    """An API red team's find: once compiled, evaluate/forward/gradient of a defaultdict without x (and
    with an unknown w) gave x = 0.0 (y = 1, dy/dx = 3) and added x to the caller's dict; the first,
    interpreted call refused it. Every call now says what bind says, and leaves the mapping alone."""
    prog = graphlang.parse("y = x * z + 1\n")
    for _ in range(3):
        prog.evaluate({"x": 2.0, "z": 3.0})
        prog.forward({"x": 2.0, "z": 3.0})
        prog.gradient({"x": 2.0, "z": 3.0})
    assert prog._fast_evaluate._fn is not None and prog._fast_evaluate._forward is not None
    for call in (prog.evaluate, prog.forward, prog.gradient):
        values = make()
        with pytest.raises(GraphlangError) as info:
            call(values)
        assert info.value.kind in ("unknown-input", "missing-input") and "x" not in values

def test_tensor_programs_are_compiled_per_input_shapes():
    prog = graphlang.parse("y = sum(v * v)\n")
    for _ in range(3):
        assert prog.evaluate({"v": [1.0, 2.0]}).gradient["v"].tolist() == [2.0, 4.0]
    assert prog._fast_evaluate._fn is None and prog._fast_evaluate.arrays.plans[(((2,),), True)] is not None
    for _ in range(2):  # another shape: its own plan, the scalar function not involved
        assert prog.evaluate({"v": 3.0}).gradient["v"] == 6.0


def test_not_all_scalar_values_are_refused_once():
    prog = graphlang.parse("y = sum([1, 2] * x)\n")
    for _ in range(3):
        assert prog.evaluate({"x": 1.5}).gradient["x"] == 3.0
    assert prog._fast_evaluate._scalar_refused and prog._fast_evaluate._fn is None
    assert prog._fast_evaluate.arrays.plans[(((),), True)] is not None  # numpy code instead


def test_a_one_off_evaluation_is_interpreted():
    fe = FastEvaluate(graphlang.load("programs/lecture13.cg").graph)
    assert fe([np.array(2.0), np.array(3.0)], [()] * fe.graph.n_slots) is None
    assert fe([np.array(2.0), np.array(3.0)], [()] * fe.graph.n_slots) is not None


def test_a_cancelling_program_fails_or_succeeds_alike_on_every_call():
    """A red team's find: `ln(1 - tanh(u))` for u in [18, 19.5] raised ln(0) on the first call
    (numpy's tanh rounds to 1) and returned -36.7 on later ones (libm's does not) at 5 % of points."""
    u = np.linspace(18.0, 19.5, 400)
    for source in ("y = ln(1 - tanh(u))", "y = 1 / (1 - tanh(u))", "y = sqrt(1 - tanh(u)^2)"):
        seen = []
        for point in u:
            calls = []
            prog = graphlang.parse(source + "\n")
            for _ in range(3):
                try:
                    r = prog.evaluate({"u": float(point)})
                    calls.append((r.value, r.gradient))
                except graphlang.GraphlangError as err:
                    calls.append((err.kind, err.line, err.column))
            assert calls[0] == calls[1] == calls[2], (source, point, calls)
            seen.append(len(calls[0]))
        assert {2, 3} <= set(seen)  # the range holds points of both outcomes


@pytest.mark.parametrize(("source", "at"), [
    ("y = x ^ 2", {"x": -0.0}), ("y = x ^ 3", {"x": -0.0}), ("y = (-(z*z))^2", {"z": 0.0}), ("y = x ^ 0", {"x": -1.0}),
    ("y = -(z ** 0.0)", {"z": -1.5}), ("n = 3\ny = n ^ z", {"z": -0.0}), ("y = x ^ -0.0", {"x": 2.0}),
    ("y = x ^ 1", {"x": 0.0}), ("y = x ^ 1.5", {"x": -0.0}), ("y = x ^ 0.5", {"x": 0.0})])
def test_a_powers_derivative_has_the_same_signed_zero_on_every_call(source, at):
    """A red team's find: the interpreter's float dpow gave 0.0 where the compiled code gave −0.0 (and
    the reverse) at a zero base or a zero exponent: `repr` of the first and later results differed."""
    check_same(source + "\n", at)


def test_any_mapping_of_inputs_gives_the_dicts_answer_compiled():
    """A review's find: refusing every mapping but a plain dict sent an OrderedDict or a mapping proxy
    through bind and the interpreter on every call (15× slower); a copy keeps them compiled, with
    the interpreter's numbers (oracle: the first, interpreted call)."""
    import types
    prog = graphlang.parse("y = x * z + sin(x)\n")
    at = {"x": 2.0, "z": 3.0}
    first = prog.evaluate(at)
    for _ in range(3):
        prog.evaluate(at)
    for values in (collections.OrderedDict(at), types.MappingProxyType(at)):
        r = prog.evaluate(values)
        assert r.values == first.values and r.adjoints == first.adjoints and prog.forward(values) == first.values
        assert prog.gradient(values) == first.gradient
    assert prog._fast_evaluate.floats(collections.OrderedDict(at), prog.limits) is not None


def test_a_plan_that_fails_to_build_is_a_bug_the_suite_sees_and_users_never_do(monkeypatch):
    """compile_refused: a plan that fails for a reason other than its size (a KeyError in code
    generation) raises under GRAPHLANG_STRICT_COMPILE, which the suite sets, and is interpreted
    otherwise (the same numbers, by the interpreter: the oracle here is a fresh program's first call)."""
    import graphlang
    from graphlang.engines import fasteval

    def broken(*args, **kwargs):
        raise KeyError("a bug in code generation")
    monkeypatch.setattr(fasteval, "scalar_function", broken)
    want = graphlang.parse("y = x * x + sin(x)").evaluate({"x": 0.5}).value
    prog = graphlang.parse("y = x * x + sin(x)")
    with pytest.raises(KeyError):
        for _ in range(200):
            prog.evaluate({"x": 0.5})
    monkeypatch.delenv("GRAPHLANG_STRICT_COMPILE")
    quiet = graphlang.parse("y = x * x + sin(x)")
    assert all(quiet.evaluate({"x": 0.5}).value == want for _ in range(200))
    monkeypatch.setattr(fasteval, "scalar_function", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
    monkeypatch.setenv("GRAPHLANG_STRICT_COMPILE", "1")
    big = graphlang.parse("y = x * x + sin(x)")  # too big to compile: never a bug
    assert all(big.evaluate({"x": 0.5}).value == want for _ in range(200))
