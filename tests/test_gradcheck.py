"""gradcheck at a kink: the point is not differentiable, said so with the one-sided derivatives
(the oracle: each side's derivative by hand), never "the methods DISAGREE"."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import graphlang
from graphlang import gradcheck as gradcheck_module
from graphlang.gradcheck import fd_caution, gradcheck, kinks

LECTURE_SRC = "a = x * z; b = ln(x); c = sin(b); d = exp(a); e = a / b; f = c / a; y = d + e + f\n"

# program, point, {input: (left, right)} worked out by hand
CORNERS = [
    ("y = relu(x) * 3 + x", {"x": 0.0}, {"x": (1.0, 4.0)}),
    ("y = max(x, z)", {"x": 1.0, "z": 1.0}, {"x": (0.0, 1.0), "z": (0.0, 1.0)}),
    ("y = abs(x - 2) + x^2", {"x": 2.0}, {"x": (3.0, 5.0)}),
]


@pytest.mark.parametrize(("src", "at", "sides"), CORNERS)
def test_kinks_found_with_their_one_sided_derivatives(src, at, sides):
    found = {k.input: (k.left, k.right) for k in kinks(graphlang.parse(src), at)}
    assert set(found) == set(sides)
    for name, (left, right) in sides.items():
        assert found[name] == pytest.approx((left, right), abs=1e-4)


@pytest.mark.parametrize("src", ["y = exp(10 * x) + x^2", "y = relu(x) * 3 + x", "y = 1e4 * x^2"])
def test_smooth_points_are_not_kinks(src):
    assert kinks(graphlang.parse(src), {"x": 0.7}) == []  # relu at 0.7 is smooth; large curvature too


def test_tensor_kink_names_the_coordinate():
    found = kinks(graphlang.parse("input v[3]\ny = sum(relu(v))"), {"v": [1.0, 0.0, -1.0]})
    assert [(k.input, k.index) for k in found] == [("v", (1,))]


def test_gradcheck_at_a_kink_says_so(cli, write):
    ran = cli("gradcheck", write("y = relu(x) * 3 + x\n"), "--at", "x=0", width=200)
    assert ran.code == 1 and "DISAGREE" not in ran.out and "Traceback" not in ran.err
    assert "not differentiable at this point" in ran.out and "from the left 1, from the right 4" in ran.out
    js = cli("gradcheck", write("y = relu(x) * 3 + x\n"), "--at", "x=0", "--json").json()
    assert js["kinks"][0]["input"] == "x" and js["kinks"][0]["left"] == pytest.approx(1.0)


@pytest.mark.parametrize(("src", "at"), [("y = abs(x)", "x=0"), ("y = abs(x - 2)", "x=2"),
                                         ("input v[2]\ny = sum(abs(v))", "v=[0,1]")])
def test_a_corner_where_every_method_agrees_is_still_no_derivative(cli, write, src, at):
    """|x| at 0: central differences' average of the slopes -1 and 1 is abs'(0) = 0, the exact methods'
    convention, so all four agreed and gradcheck said nothing (a student's find: the lecture asks when
    the gradient can be computed at all). The sides by hand: -1 and 1."""
    path = write(src + "\n")
    ran = cli("gradcheck", path, "--at", at, width=200)
    assert ran.code == 0 and "not differentiable here" in ran.out and "from the left -1, from the right 1" in ran.out
    assert "all four methods agree" not in ran.out
    js = cli("gradcheck", path, "--at", at, "--json").json()
    assert js["passed"] and [(k["left"], k["right"]) for k in js["kinks"]] == [pytest.approx((-1.0, 1.0))]
    fd = cli("grad", path, "--at", at, "-m", "fd")
    said = " ".join((fd.out + fd.err).split())  # (the note on stderr, folded at the width)
    assert fd.code == 0 and "note: not differentiable here" in said and "left -1, from the right 1" in said
    smooth = cli("grad", path, "--at", at.replace("0", "0.5").replace("=2", "=2.5"), "-m", "fd")
    assert smooth.code == 0 and "not differentiable" not in smooth.out + smooth.err


def test_corners_of_a_smooth_whole_are_not_called_a_missing_derivative(cli, write):
    ran = cli("gradcheck", write("y = max(x, z) - max(x, z) + x\n"), "--at", "x=1,z=1", width=200)
    assert ran.code == 0 and "not differentiable" not in ran.out and "all four methods agree" in ran.out


def test_a_real_disagreement_is_still_reported(cli, write):
    ran = cli("gradcheck", write("y = x^2\n"), "--at", "x=1", "--epsilon", "0.5", width=200)
    assert ran.code == 0  # central differences are exact on a parabola: no false alarm either
    ran = cli("gradcheck", write("y = exp(x)\n"), "--at", "x=3", "--epsilon", "0.5", width=200)
    assert ran.code == 1 and "central differences DISAGREE" in ran.out and "kink" not in ran.out
    assert "--sweep" in ran.out  # only fd is off (its truncation error e^3·ε²/6 ≈ 0.84 at ε = 0.5)


def test_a_step_across_a_pole_is_no_kink():
    """At x = 1.0000001 the lecture's y (smooth there: the pole of 1/ln x is at 1) was called "not
    differentiable" because the difference quotients straddled the pole; a corner keeps each
    one-sided quotient as h shrinks, a pole does not. relu at 0 and max at a tie stay corners."""
    from conftest import PROGRAMS
    lecture = graphlang.load(PROGRAMS / "lecture13.cg")
    assert kinks(lecture, {"x": 1.0000001, "z": 3}) == []
    assert kinks(lecture, {"x": 2, "z": 1e-8}) == []
    found = {k.input: (k.left, k.right) for k in kinks(graphlang.parse("y = relu(x) + max(x, z)"),
                                                       {"x": 0.0, "z": 0.0})}
    assert found == {"x": pytest.approx((0.0, 2.0)), "z": pytest.approx((0.0, 1.0))}


@pytest.mark.parametrize("src,at,exact", [("y = ln(x)\n", "x=1e-5", 1e5), ("y = sqrt(x)\n", "x=1e-4", 50.0),
                                          ("y = 1 / x\n", "x=1e-3", -1e6), ("y = 1 / (x - 1)\n", "x=1.001", -1e6)])
def test_a_coarse_default_step_is_tried_smaller(cli, write, src, at, exact):
    """A numerics red team's find: the default step ∛eps·max(1, |x|) is 6e-6 for every |x| < 1, so
    at x = 1e-5 central differences of ln are 16 % off and gradcheck said DISAGREE on a right program
    (near a pole the same). It now tries steps 10², 10⁴, 10⁶ times smaller and says which agreed.
    Oracles: the closed forms 1/x, 1/(2√x), -1/x², -1/(x-1)²."""
    prog = graphlang.parse(src)
    value = float(at.split("=")[1])
    default = prog.gradient({"x": value}, method="fd")["x"]
    assert abs(default - exact) > 1e-5 * abs(exact) + 1e-6  # beyond gradcheck's fd tolerance: too coarse here
    js = cli("gradcheck", write(src), "--at", at, "--json").json()
    (fd,) = [r for r in js["rows"] if r["method"] == "fd"]
    assert js["passed"] and fd["value"] == pytest.approx(exact, rel=1e-5) and "× the default" in fd["note"]
    ran = cli("gradcheck", write(src), "--at", at, width=200)
    assert ran.code == 0 and "the default step is too coarse at this point" in ran.out


@pytest.mark.parametrize("src,at", [
    ("input v[2]\ny = sum(ln(v)) + sum(v^2)\n", "v=[1e-5,100]"),  # one step per number: 100 keeps its own
    ("y = ln(x) + 1/x + sqrt(x) + x^3\n", "x=1e-7"),  # the default step leaves the domain
    ("y = relu(x) + abs(z)\n", "x=1e-7,z=1"),  # a corner 1e-7 away, inside the default step
])
def test_no_false_alarm_where_a_smaller_step_agrees(cli, write, src, at):
    """A second red team's finds: one small step for a whole vector drowned its large numbers in
    rounding; a step leaving the domain was "n/a"; a corner inside the step said DISAGREE."""
    ran = cli("gradcheck", write(src), "--at", at, width=200)
    assert ran.code == 0 and "all four methods agree" in ran.out and "× the default" in ran.out
def test_the_smaller_steps_never_hide_a_disagreement(cli, write):
    """An explicit --epsilon is used as given (no retry); a true corner stays a corner at every step."""
    ran = cli("gradcheck", write("y = ln(x)\n"), "--at", "x=1e-5", "--epsilon", "6e-6", width=200)
    assert ran.code == 1 and "DISAGREE" in ran.out and "× the default" not in ran.out
    ran = cli("gradcheck", write("y = relu(x) + abs(z)\n"), "--at", "x=0,z=1", width=200)
    assert ran.code == 1 and "not differentiable here" in ran.out and "× the default" not in ran.out


@pytest.mark.parametrize(("source", "at", "epsilon", "says"), [
    ("y = relu(x)", {"x": 0.0}, None, "from the left 0, from the right 1"),  # a corner: 0.5 is neither side
    ("y = 1/x", {"x": 1e-6}, None, "(exact -1e+12)"),  # -1/x²: the step 6e-6 crosses the pole
    ("y = exp(x)", {"x": 1.0}, 0.1, "too large"),  # e·(sinh(0.1)/0.1 − 1) ≈ 0.17 % truncation error
    ("y = exp(x)", {"x": 1.0}, 1e-14, "too small"),  # rounding error
])
def test_grad_fd_says_why_it_is_off_from_the_exact_derivative(cli, write, source, at, epsilon, says):
    """`grad --method fd` printed 2.8e10 for d(1/x)/dx = -1e12 at x = 1e-6, and 0.5 for relu at 0,
    without a word. Oracles: the closed forms (-1/x², the one-sided slopes 0 and 1, eˣ)."""
    prog = graphlang.parse(source)
    res = prog.evaluate(at, method="fd", epsilon=epsilon)
    closed = {"1/x": lambda x: -1 / x ** 2, "exp": math.exp}
    want = next((f(at["x"]) for k, f in closed.items() if k in source), None)
    if want is not None:
        assert abs(res.gradient["x"] - want) > 1e-5 * abs(want)  # it is off
    note = fd_caution(prog, at, res)
    assert note is not None and says in note, note
    argv = ["grad", write(source), "--at", ",".join(f"{k}={v!r}" for k, v in at.items()), "-m", "fd", "--json"]
    out = cli(*argv, *(["--epsilon", repr(epsilon)] if epsilon else []))  # the note beside the SPEC's keys
    assert set(out.json()) == {"output", "value", "values", "adjoints", "gradient", "method", "epsilon",
                               "steps"}  # (the default step is relative: each input's step; always said)
    assert " ".join(out.err.split()) == " ".join(f"note: {note}".split())
    assert says in " ".join(cli(*argv[:-1], *(["--epsilon", repr(epsilon)] if epsilon else [])).out.split())


@pytest.mark.parametrize(("source", "at"), [(LECTURE_SRC, {"x": 2.0, "z": 3.0}), ("y = abs(x) + x*x", {"x": 0.3}),
                                            ("y = [sin(x), x*x]", {"x": 0.5})])
def test_grad_fd_says_nothing_where_it_agrees(cli, write, source, at):
    prog = graphlang.parse(source)
    res = prog.evaluate(at, method="fd")
    assert fd_caution(prog, at, res) is None and fd_caution(prog, at, prog.evaluate(at)) is None
    argv = ["grad", write(source), "--at", ",".join(f"{k}={v!r}" for k, v in at.items()), "-m", "fd", "--json"]
    out = cli(*argv)
    assert "caution" not in out.json() and "note:" not in out.err


def test_elements_needing_different_steps_each_get_the_one_that_fits():
    """A red team's find: sum(x^-2) at x = [0.001, 1] failed gradcheck (exit 1) though every method
    was right: the default step is too coarse for x = 0.001, a 100 times smaller one too fine for
    x = 1, and the retry took one step for the whole vector. The oracle: the closed form −2x⁻³."""
    prog = graphlang.parse("y = sum(x ^ -2)\n")
    x = np.array([0.001, 1.0])
    rows = {r.method: r for r in gradcheck(prog, {"x": x})}
    assert all(r.passed for r in rows.values())
    assert np.allclose(rows["fd"].value, -2 * x ** -3, rtol=1e-5) and "some elements" in rows["fd"].note


@pytest.mark.parametrize("source,at,sitting", [
    ("y = max(x, z) + min(x, z)", {"x": 2.0, "z": 2.0}, ["max at a tie (line 1)", "min at a tie (line 1)"]),
    ("y = relu(x) - relu(-x)", {"x": 0.0}, ["relu at 0 (line 1)"]),
])
def test_a_smooth_function_made_of_corners_is_not_blamed_on_epsilon(cli, write, source, at, sitting):
    """max(x, z) + min(x, z) is x + z, relu(x) - relu(-x) is x: smooth, so no one-sided kink shows,
    but the exact methods sum the conventions ([2, 0] and 0) while fd sees the slope ([1, 1], 1).
    gradcheck said the step ε was wrong (a student red team). Oracle: the closed forms x + z and x."""
    prog = graphlang.parse(source)
    assert kinks(prog, at) == []  # the whole is smooth here
    fd = prog.gradient(at, method="fd")
    assert all(v == pytest.approx(1.0) for v in fd.values())  # the slope of x + z, or of x
    argv = ["gradcheck", write(source), "--at", ",".join(f"{k}={v!r}" for k, v in at.items())]
    text, corner = cli(*argv), ", ".join(sitting)
    assert text.code == 1 and f"central differences DISAGREE at a corner: {corner}" in " ".join(text.out.split())
    assert "trade-off" not in text.out
    assert cli(*argv, "--json").json()["corners"] == sitting
    note = fd_caution(prog, at, prog.evaluate(at, method="fd"))
    assert note is not None and note.startswith(f"at a corner ({corner})")


def test_fds_note_gives_each_inputs_own_error_and_the_way_out():
    """The note gave x's 1.51 % "in x, z" (z was 0.67 % off), and told a step of 1e-14 to try smaller
    steps. Oracle: central differences by hand on the lecture's closed form, at the same step."""
    def y(x, z):
        return math.exp(x * z) + x * z / math.log(x) + math.sin(math.log(x)) / (x * z)
    h, x, z = 0.1, 2.0, 3.0
    l2 = math.log(2)
    exact = {"x": 3 * math.exp(6) + 3 / l2 - 3 / l2 ** 2 + (math.cos(l2) - math.sin(l2)) / 12,
             "z": 2 * math.exp(6) + 2 / l2 - math.sin(l2) / 18}
    by_hand = {"x": (y(x + h, z) - y(x - h, z)) / (2 * h), "z": (y(x, z + h) - y(x, z - h)) / (2 * h)}
    prog = graphlang.parse(LECTURE_SRC)
    note = fd_caution(prog, {"x": x, "z": z}, prog.evaluate({"x": x, "z": z}, method="fd", epsilon=h))
    for n in "xz":
        err = abs(by_hand[n] - exact[n]) / abs(exact[n])
        assert f"{100 * err:.3g} % in {n} (exact {exact[n]:.6g})" in note, note
    assert "a smaller ε helps" in note
    tiny = fd_caution(prog, {"x": x, "z": z}, prog.evaluate({"x": x, "z": z}, method="fd", epsilon=1e-14))
    assert "a larger ε helps" in tiny and "tries smaller" not in tiny


def test_fd_where_no_exact_method_gives_a_derivative_says_so():
    """`grad -m fd` of x^-2 at 1e-103 printed 0 without a word (the derivative -2x^-3 is past
    float64: every exact method raises); the note now says its number is not the derivative."""
    prog = graphlang.parse("y = x ^ -2\n")
    with pytest.raises(graphlang.GraphlangError):
        prog.evaluate({"x": 1e-103})  # the oracle: reverse mode refuses the point
    res = prog.evaluate({"x": 1e-103}, method="fd")
    assert res.gradient["x"] == 0.0
    assert "is not the derivative" in fd_caution(prog, {"x": 1e-103}, res)


def test_fds_note_on_a_jacobian_compares_by_the_cheaper_mode_and_a_budget_is_no_domain():
    """`grad -m fd --wrt x` of exp(x·v) with a long v said "the exact methods give no derivative here
    (… adjoint passes …)": the comparison ran reverse mode past its budget. Oracle: v·exp(x v)."""
    from graphlang.limits import Limits
    prog = graphlang.parse("input x, v[2000]\ny = exp(x * v)\n", limits=Limits(max_cost=100_000))
    at = {"x": 0.5, "v": np.linspace(-1, 1, 2000)}
    res = prog.evaluate(at, wrt=["x"], method="fd")
    np.testing.assert_allclose(res.jacobian["x"], at["v"] * np.exp(0.5 * at["v"]), rtol=1e-8, atol=1e-10)
    assert fd_caution(prog, at, res) is None


def test_a_formula_that_cancels_its_digits_is_said_to_and_its_exact_derivative_given(cli, write):
    """A student's find: (1 - cos x)/x² at x = 1e-4 (smooth; the derivative −x/12 + x³/360 by its
    series) had reverse, forward and symbolic mode agree on +4.4e-5, and gradcheck called the point
    a kink (the one-sided quotients differed by roundoff). Now no kink is claimed without a function
    that has one, and the derivative to 40 digits is given. Where only fd is off (a large ε), no
    such note: reverse mode is right there."""
    path = write("y = (1 - cos(x)) / x^2\n")
    for x in (1e-4, 1e-5):
        ran = cli("gradcheck", path, "--at", f"x={x}", "--json")
        out = json.loads(ran.out)
        assert ran.code == 1 and "kinks" not in out, out
        assert out["exact"]["x"] == pytest.approx(-x / 12 + x ** 3 / 360, rel=1e-9)
    text = cli("gradcheck", path, "--at", "x=1e-4")
    assert "cancels its digits" in text.out and "kink" not in text.out, text.out
    fine = cli("gradcheck", write("y = exp(x) * sin(x)\n"), "--at", "x=1.3", "--epsilon", "0.1", "--json")
    assert fine.code == 1 and "exact" not in json.loads(fine.out), fine.out


@pytest.mark.parametrize("source", ["y = 1 / x\n", "y = 3 / x + 1\n"])
def test_fd_where_the_derivative_is_past_float64_is_refused_with_the_exact_methods_error(cli, write, source):
    """A red team's find: `grad -m fd` of 1/x at x = 1e-160 printed 2.7e10 and exited 0 (the derivative
    −1e320 is past float64, and every exact method refuses the point); its hint said to choose a point
    of smaller magnitude, where only one farther from 0 helps. Oracle: d(1/x)/dx = −1/x² by hand."""
    assert -1 / (1e-160) ** 2 == -math.inf or abs(-1 / (1e-160) ** 2) > 1.7e308  # the oracle overflows too
    ran = cli("grad", write(source), "--at", "x=1e-160", "-m", "fd")
    assert ran.code == 1 and "domain error" in ran.err and "central differences give" in ran.err
    assert "farther from 0" in ran.err
    assert cli("grad", write(source), "--at", "x=1e-3", "-m", "fd").code == 0  # an ordinary point: fd's number


def test_a_chain_rule_step_past_float64_from_the_programs_constants_is_told_to_rescale_them(cli, write):
    """A red team's find: y = (x·1e-300)·1e300·1e10 is 1e10·x, but g_a = 1e310 overflows at every x;
    the hint said to choose a point farther from 0 (x = 1 is far from 0), and fd's that its 1e10 is
    "not a derivative" (for a linear function it is). Oracle: 1e10 · 1e300 > 1.8e308 by hand."""
    assert 1e10 * 1e300 == math.inf
    path = write("a = x * 1e-300\ny = a * 1e300 * 1e10\n")
    for args in ((), ("-m", "fd")):
        ran = cli("grad", path, "--at", "x=1", *args)
        said = " ".join((ran.out + ran.err).split())
        assert ran.code == 1 and "farther from 0" not in said and "constant 1e+300" in said, said
        assert "not a derivative" not in said
    apart = cli("grad", write("y = a / b + 1e-200\n"), "--at", "a=1e300,b=1e-5")  # the point's fault
    said = " ".join((apart.out + apart.err).split())  # (a/b² = 1e310: a reviewer's find)
    assert apart.code == 1 and "rescale" not in said and "smaller magnitude" in said, said


def test_a_sum_that_loses_a_term_is_blamed_on_the_methods_that_lose_it(cli, write):
    """y = x + (x − x)/1e-21 at 0.5 (a fuzzer's find): reverse and symbolic mode add the adjoint as
    1 + 1e21 − 1e21 = 0, forward mode and central differences give 1, the derivative (x − x is 0
    whatever x is). gradcheck said "reverse, forward and symbolic mode (0)" and grad -m fd blamed its
    own step. The oracle: dy/dx = 1 by hand."""
    path = write("y = x + (x - x) / 1e-21\n")
    text = " ".join(cli("gradcheck", path, "--at", "x=0.5", width=200).out.split())
    assert "∂/∂x to 40 digits is 1: reverse and symbolic mode (0) lose its digits" in text
    assert "forward mode and central differences agree with it" in text
    fd = cli("grad", path, "--at", "x=0.5", "-m", "fd")
    note = " ".join((fd.out + fd.err).split())
    assert fd.code == 0 and "reverse mode's 0 loses its digits" in note and "does not" in note
    assert "step ε is too large" not in note


def test_fd_names_rounding_every_corner_and_a_vector_outputs_corner(cli, write):
    """A student's finds: y = x + 1e17 (fd 0, the derivative 1) was blamed on truncation ("a smaller ε
    helps": it makes it worse); sum(relu(v)) at [0, 1, 0] named v[0] only; relu(v) at [0, 1] (a
    Jacobian) was blamed on the step. By hand: 1e17's spacing is 16, far above 2ε·1 ≈ 1.2e-5."""
    def note(*argv):
        ran = cli(*argv)
        return " ".join((ran.out + ran.err).split())
    said = note("grad", write("y = x + 1e17\n"), "--at", "x=1", "-m", "fd")
    assert "too small here: rounding error rules" in said and "truncation" not in said
    said = note("grad", write("input v[3]\ny = sum(relu(v))\n", "s.cg"), "--at", "v=[0,1,0]", "-m", "fd")
    assert "not differentiable here in v[0], v[2]" in said and "from the left 0, from the right 1" in said
    said = note("grad", write("input v[2]\ny = relu(v)\n", "r.cg"), "--at", "v=[0,1]", "-m", "fd")
    assert "at a corner (relu at 0" in said and "step ε" not in said


def test_gradcheck_and_its_sweep_take_wrt_one_input(cli, write):
    """A student's find: the lecture works ∂y/∂x and ∂y/∂z apart, but the ε sweep gave only the worst
    over both inputs. `--wrt z` sweeps z alone. Oracle: the lecture's y in Python's math, its
    ∂y/∂z = x·e^{xz} + x/ln x − sin(ln x)/(x z²) by hand, and the central quotient's error at ε = 1e-2
    and 1e-4."""
    from graphlang.gradcheck import sweep

    def y(x: float, z: float) -> float:
        a, b = x * z, math.log(x)
        return math.exp(a) + a / b + math.sin(b) / a
    exact = 2 * math.exp(6) + 2 / math.log(2) - math.sin(math.log(2)) / (2 * 9)
    rows = {r.epsilon: r for r in sweep(graphlang.parse(LECTURE_SRC), {"x": 2.0, "z": 3.0}, ["z"])}
    for eps in (1e-2, 1e-4):
        want = abs((y(2, 3 + eps) - y(2, 3 - eps)) / (2 * eps) - exact) / exact
        assert rows[eps].central_error == pytest.approx(want, rel=1e-3), (eps, rows[eps])
    both = {r.epsilon: r for r in sweep(graphlang.parse(LECTURE_SRC), {"x": 2.0, "z": 3.0})}
    assert both[1e-2].central_error > 2 * rows[1e-2].central_error  # x's is the worst at 1e-2
    ran = cli("gradcheck", write(LECTURE_SRC), "--at", "x=2,z=3", "--wrt", "x", "--json")
    assert ran.code == 0 and {r["input"] for r in ran.json()["rows"]} == {"x"}, ran.out
    assert cli("gradcheck", write(LECTURE_SRC), "--at", "x=2,z=3", "--wrt", "a").code == 1  # not an input
    # (a reviewer's find: --wrt x was still priced at every input's passes, W's 40,000 coordinates)
    big = graphlang.parse("input W[200, 200], x\ny = sum(W * W) * x + sin(x)\n")
    at = {"W": np.full((200, 200), 0.5), "x": 0.5}
    with pytest.raises(graphlang.GraphlangError) as priced:
        gradcheck(big, at)
    assert priced.value.kind == "limit" and "--wrt" in (priced.value.hint or "")
    rows = gradcheck(big, at, wrt=["x"])  # ∂y/∂x = sum(W²) + cos(x), by hand
    assert all(r.passed for r in rows) and rows[0].value == pytest.approx(40_000 * 0.25 + math.cos(0.5))
    assert len(sweep(big, at, ["x"])) == 14


def test_the_sweep_says_where_a_step_is_lost_in_rounding(cli, write):
    """A docs red team's find: at x = 1000 the ε = 1e-14 row showed an error of 1 with no word why
    (1000 + 1e-14 == 1000 in float64: the quotient is 0, not a step's error)."""
    rows = gradcheck_module.sweep(graphlang.parse("y = x^3\n"), {"x": 1000.0})
    for r in rows:
        assert (r.note == "x + ε == x: the step is lost in rounding") == (1000.0 + r.epsilon == 1000.0), r
    assert any(r.note for r in rows) and not all(r.note for r in rows)
    path = write("y = x^3\n")
    plot = path + ".png"
    ran = cli("gradcheck", path, "--at", "x=1000", "--sweep", "--plot", plot)
    assert "(x + ε == x)" in ran.out and f"wrote {plot}" in ran.err


@pytest.mark.parametrize(("source", "at"), [("y = sum(1e200 * v * v)\n", "v=[1e-100,1e-100]"),
                                            ("output a, b\na = 1e200 * x * x\nb = x\n", "x=1e-100")])
def test_fd_disagreeing_on_a_tensor_or_several_outputs_is_a_verdict_not_a_crash(cli, write, source, at):
    """A SPEC red team's find: gradcheck turned fd's disagreement into "internal error: TypeError"
    (float() of a reverse-mode row's array). By hand: d/dv Σ 1e200·v² = 2e200·v = 2e100 each; fd's
    step swamps v = 1e-100 (x + ε == ε), so it disagrees, and gradcheck says so (exit 1)."""
    ran = cli("gradcheck", write(source), "--at", at, "--json")
    assert ran.code == 1 and "internal" not in ran.out + ran.err, ran.out + ran.err
    assert ran.json()["passed"] is False


def test_fd_whose_step_swamps_the_input_says_so_not_truncation(cli, write):
    """A SPEC red team's find: grad -m fd of 1e200·x² at x = 1e-100 gave 0 (exact 2e100, by hand) and
    blamed "truncation error (the function curves …)", though central differences are exact on a
    quadratic: x + ε == ε, so f was compared at ±ε. The note now says that, and how to fix it."""
    ran = cli("grad", write("y = 1e200 * x * x\n"), "--at", "x=1e-100", "-m", "fd")
    said = " ".join((ran.out + ran.err).split())
    assert "x itself is lost when the step is added" in said and "truncation" not in said, said
    assert "--epsilon below |x|" in said
    fine = cli("grad", write("y = 1e200 * x * x\n"), "--at", "x=1e-100", "-m", "fd", "--epsilon", "1e-110")
    assert "lost when the step" not in fine.out + fine.err
