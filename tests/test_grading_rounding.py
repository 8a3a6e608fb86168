"""Rounding credit: a step worked from the student's own rounded answers (and local derivatives
rounded as explain prints them) passes; a number those answers cannot give does not.

Oracles: the student's arithmetic, done here by hand from the closed forms (∂e/∂b = −a/b² …), and
a simulated honest student who rounds every value, every local derivative and every adjoint to three
figures and goes on from the rounded numbers."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

import graphlang
from graphlang.checker import grade_answers
from graphlang.grading.answers_file import parse_answers
from graphlang.grading.compare import Comparison

LECTURE = "a = x * z\nb = ln(x)\nc = sin(b)\nd = exp(a)\ne = a / b\nf = c / a\ny = d + e + f\n"
AT = {"x": 2.0, "z": 3.0}
C3 = Comparison("sigfig", digits=3)


def _sig(v: float, digits: int = 3) -> float:
    return float(f"{v:.{digits}g}")


@pytest.mark.parametrize(("answers", "wrong"), [
    ({"a": 6.0, "g_f": 1.0, "g_c": 0.168}, "g_c"),  # g_f·(1/a) = 1/6 = 0.1667 from exact a and g_f
    ({"g_a": 405.0, "dy/dz": 805.0}, "dy/dz"),  # g_a·x = 405·2 = 810 (809 … 811 from 405 ± 0.5)
    ({"g_a": 405.0, "g_b": -12.4, "dy/dx": 1197.6}, "dy/dx"),  # 405·3 + (−12.4)·0.5 = 1208.8
])
def test_a_number_the_students_own_answers_cannot_give_is_not_credited(answers, wrong):
    """A red team's finds: each passed as "right from your own rounded earlier answers" (a blanket
    0.5 % of every chain-rule term, even where the local derivative is exact: x = 2, 1/6 from a = 6)."""
    rep = grade_answers(LECTURE, answers, AT, quantities=list(answers), comparison=C3)
    failed = [i.name for i in rep.items if not i.passed]
    assert failed == [wrong], [(i.name, i.passed, i.message) for i in rep.items]


def test_local_derivatives_rounded_as_explain_prints_them_are_credited():
    """g_a = g_d·exp(a) + g_e·(1/b) + g_f·(−c/a²) with each local derivative rounded to 3 figures first:
    1·403 + 1·1.44 + 1·(−0.0177) = 404.4223, which 3 figures of the exact 404.854 are not."""
    key = {"a": 6.0, "b": 0.693, "c": 0.639, "d": 403.0, "e": 8.66, "f": 0.106, "g_f": 1.0, "g_e": 1.0,
           "g_d": 1.0, "g_c": 0.167}
    g_a = 1 * _sig(math.exp(6.0)) + 1 * _sig(1 / 0.693) + 1 * _sig(-0.639 / 36)
    for value, ok in ((_sig(g_a), True), (404.0, True), (400.0, False)):
        rep = grade_answers(LECTURE, {**key, "g_a": value}, AT, quantities=[*key, "g_a"], comparison=C3)
        assert rep.items[-1].passed is ok, (value, rep.items[-1].message)


UNARY = ["sin({a})", "cos({a})", "exp({a})", "ln({a} * {a} + 1)", "{a}^2", "sqrt({a} * {a} + 1)", "tanh({a})",
         "sigmoid({a})"]
BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b} * {b} + 1)"]
LOCAL = {  # ∂(form)/∂a and ∂(form)/∂b by hand, for the honest student's arithmetic
    "sin({a})": lambda a, b: (math.cos(a), 0.0), "cos({a})": lambda a, b: (-math.sin(a), 0.0),
    "exp({a})": lambda a, b: (math.exp(a), 0.0), "ln({a} * {a} + 1)": lambda a, b: (2 * a / (a * a + 1), 0.0),
    "{a}^2": lambda a, b: (2 * a, 0.0), "sqrt({a} * {a} + 1)": lambda a, b: (a / math.sqrt(a * a + 1), 0.0),
    "tanh({a})": lambda a, b: (1 - math.tanh(a) ** 2, 0.0),
    "sigmoid({a})": lambda a, b: (math.exp(-a) / (1 + math.exp(-a)) ** 2, 0.0),
    "{a} + {b}": lambda a, b: (1.0, 1.0), "{a} - {b}": lambda a, b: (1.0, -1.0), "{a} * {b}": lambda a, b: (b, a),
    "{a} / ({b} * {b} + 1)": lambda a, b: (1 / (b * b + 1), -2 * a * b / (b * b + 1) ** 2),
}
VALUE = {
    "sin({a})": lambda a, b: math.sin(a), "cos({a})": lambda a, b: math.cos(a), "exp({a})": lambda a, b: math.exp(a),
    "ln({a} * {a} + 1)": lambda a, b: math.log(a * a + 1), "{a}^2": lambda a, b: a * a,
    "sqrt({a} * {a} + 1)": lambda a, b: math.sqrt(a * a + 1), "tanh({a})": lambda a, b: math.tanh(a),
    "sigmoid({a})": lambda a, b: 1 / (1 + math.exp(-a)), "{a} + {b}": lambda a, b: a + b,
    "{a} - {b}": lambda a, b: a - b, "{a} * {b}": lambda a, b: a * b,
    "{a} / ({b} * {b} + 1)": lambda a, b: a / (b * b + 1),
}


def _honest_student(rng: random.Random) -> tuple[str, dict[str, float], dict[str, float]]:
    """A random program of distinct operands, and the answers of a student who rounds everything."""
    names, lines, defs = ["x", "z"], [], []
    for k in range(rng.randint(3, 6)):
        form = rng.choice(UNARY + BINARY)
        a, b = rng.sample(names, 2)
        name = "abcdefg"[k]
        lines.append(f"{name} = " + form.format(a=a, b=b))
        defs.append((name, form, a, b))
        names.append(name)
    lines.append(f"y = {names[-1]} + {names[-2]}")
    defs.append(("y", "{a} + {b}", names[-1], names[-2]))
    at = {"x": round(rng.uniform(0.3, 2.0), 2), "z": round(rng.uniform(0.3, 2.0), 2)}
    v = dict(at)
    for name, form, a, b in defs:
        v[name] = _sig(VALUE[form](v[a], v[b]))
    g = dict.fromkeys(v, 0.0)
    g["y"] = 1.0
    for name, form, a, b in reversed(defs):  # each g_c·∂c/∂a with ∂c/∂a rounded, summed, then rounded
        g[name] = _sig(g[name])  # (every consumer of `name` comes after it: its adjoint is complete)
        da, db = LOCAL[form](v[a], v[b])
        g[a] += g[name] * _sig(da)
        if "{b}" in form:
            g[b] += g[name] * _sig(db)
    answers = {n: v[n] for n, *_ in defs} | {f"g_{n}": _sig(g[n]) for n, *_ in defs[:-1]}
    answers |= {f"dy/d{n}": _sig(g[n]) for n in ("x", "z")}
    return "\n".join(lines) + "\n", at, answers


def test_an_honest_student_who_rounds_every_step_is_credited_everywhere():
    rng = random.Random(2026)
    checked = 0
    while checked < 40:
        source, at, answers = _honest_student(rng)
        try:
            graphlang.parse(source).evaluate(at)
        except graphlang.GraphlangError:
            continue
        rep = grade_answers(source, answers, at, quantities=list(answers), comparison=C3)
        assert rep.score == rep.max_score, (source, at, [(i.name, i.message) for i in rep.items if not i.passed])
        checked += 1


def test_forward_mode_decimals_and_a_carried_error_may_round_local_derivatives_too():
    """A second red team: the rounding of a local derivative was allowed in reverse mode's sigfig
    steps only. Oracles, the student's arithmetic: db/dx = (1/a)·da/dx = 1.19·0.598 from their own
    a = 0.837; dy/dx = 2·(1/x) = 2·0.556 at 3 decimals; after a slip a = 0.685 (true 0.5),
    dy/dz = g_a·(−x/z²) = 0.398·0.167."""
    fwd = {"a": 0.837, "b": -0.178, "y": 0.522, "da/dx": 0.598, "db/dx": _sig(_sig(1 / 0.837) * 0.598),
           "dy/dx": 1.71}
    rep = grade_answers("a = sqrt(x)\nb = ln(a)\ny = b + x\n", fwd, {"x": 0.7}, quantities=list(fwd), comparison=C3)
    assert rep.score == rep.max_score, [(i.name, i.message) for i in rep.items if not i.passed]
    dd = {"a": 0.588, "y": 1.176, "g_y": 1.0, "g_a": 2.0, "dy/dx": round(2 * round(1 / 1.8, 3), 3)}
    rep = grade_answers("a = ln(x)\ny = a + a\n", dd, {"x": 1.8}, quantities=list(dd),
                        comparison=Comparison("decdig", digits=3))
    assert rep.score == rep.max_score, [(i.name, i.message) for i in rep.items if not i.passed]
    slip = {"a": 0.685, "b": 1.37, "y": _sig(math.sin(1.37)), "g_y": 1.0, "g_b": _sig(math.cos(1.37)), "g_a": 0.398,
            "dy/dz": _sig(0.398 * _sig(1.5 / 9)), "dy/dx": _sig(0.398 * _sig(1 / -3.0))}
    rep = grade_answers("a = x / z\nb = a + a\ny = sin(b)\n", slip, {"x": -1.5, "z": -3.0}, quantities=list(slip),
                        comparison=C3)
    assert [i.name for i in rep.items if not i.passed] == ["a"], [(i.name, i.message) for i in rep.items]
    wrong = {**fwd, "db/dx": 0.730}  # past any rounding of 1/a = 1.1947 or of da/dx: still refused
    rep = grade_answers("a = sqrt(x)\nb = ln(a)\ny = b + x\n", wrong, {"x": 0.7}, quantities=list(wrong),
                        comparison=C3)
    assert [i.name for i in rep.items if not i.passed] == ["db/dx"]


def test_a_carried_error_may_use_the_students_own_node_for_its_local_derivative():
    """A student who wrote d = 700 for d = exp(a) (true e⁶ = 403.4) and then ∂d/∂a = d, g_a = 700 + 1:
    refused, as the reference recomputes exp(a) = 403 (a second red team: 39/400 slipped students lost a
    later step this way). Oracle: their arithmetic with their own d; 2 % off it is still wrong."""
    src = "a = x * z\nd = exp(a)\ny = d + a\n"
    ans = {"a": 6.0, "d": 700.0, "y": 706.0, "g_y": 1.0, "g_d": 1.0, "g_a": 701.0}
    rep = grade_answers(src, ans, {"x": 2.0, "z": 3.0}, quantities=list(ans), comparison=C3)
    assert [i.name for i in rep.items if not i.passed] == ["d"], [(i.name, i.message) for i in rep.items]
    rep = grade_answers(src, {**ans, "g_a": 715.0}, {"x": 2.0, "z": 3.0}, quantities=list(ans), comparison=C3)
    assert [i.name for i in rep.items if not i.passed] == ["d", "g_a"]


@pytest.mark.parametrize(("g_a", "credited"), [(400.0, False), (401.0, True), (402.0, True), (403.0, False)])
def test_a_step_from_the_students_own_node_does_not_round_the_derivative_it_replaced(g_a, credited):
    """A student's d = 400 (e⁶ = 403.43) carried into g_a = g_d·d + g_e/b − g_f·c/a²: their own numbers
    give 400 + 1/0.693 − 0.639/36 = 401.42 (399.5 … 400.5 for their unrounded d: 400.93 … 401.93, which
    rounds to 401 or 402). g_a = 400 was credited, the rounding of exp(6) = 403.43 to 403 (0.43) added
    to a step that used their d, not exp(6) (a student's find)."""
    ans = {"a": 6.0, "b": 0.693, "c": 0.639, "d": 400.0, "g_y": 1.0, "g_f": 1.0, "g_e": 1.0, "g_d": 1.0,
           "g_a": g_a}
    mine = ans["g_d"] * ans["d"] + ans["g_e"] / ans["b"] - ans["g_f"] * ans["c"] / ans["a"] ** 2
    assert abs(mine - 401.42) < 0.01  # (the oracle: their arithmetic)
    rep = grade_answers(LECTURE, ans, AT, quantities=list(ans), comparison=C3)
    passed = {i.name: i.passed for i in rep.items}
    assert passed["g_a"] == credited and not passed["d"], [(i.name, i.message) for i in rep.items]


def test_a_wrong_node_written_as_its_definition_still_rounds_its_local_derivative():
    """A slip b = 1.05·σ(a) = 0.119, then g_a from a itself, σ′(a) = σ(a)σ(−a) = 0.10026 rounded to 0.100 and
    1 − tanh²(a) = 0.0629 as explain prints them: −0.968·0.100 + 0.119·0.0629 = −0.0893 (a reviewer's
    honest student, refused when the step written with the student's own node lost its slack too)."""
    src = "a = w * x\nb = sigmoid(a)\nh = tanh(a)\ny = b * h\n"
    at = {"w": 1.09, "x": -1.89}
    a = at["w"] * at["x"]
    sig = 1 / (1 + math.exp(-a))
    mine = -0.968 * _sig(sig * (1 - sig)) + 0.119 * _sig(1 - math.tanh(a) ** 2)
    assert _sig(mine) == -0.0893  # (the oracle: their arithmetic)
    text = ('{"a": -2.06, "b": 0.119, "h": -0.968, "y": -0.115, "g_y": 1.00, "g_b": -0.968, "g_h": 0.119, '
            '"g_a": -0.0893}')
    ans = parse_answers(text.encode(), "a.json")[0]
    rep = grade_answers(src, ans, at, quantities=list(ans), comparison=C3)
    assert [i.name for i in rep.items if not i.passed] == ["b"], [(i.name, i.message) for i in rep.items]


@pytest.mark.parametrize(("x", "d"), [(1.1, 27.0), (1.1, 27.2), (1.1, 27.1)])
def test_an_answer_that_is_the_exact_value_of_a_roundoff_moves_nothing(x, d):
    """A TA's find: at x = 1.1, z = 3 the reference computes a = 3.3000000000000003, and a student's
    exact a = 3.3 was let move by the whole tolerance (±0.0165), so d = e^a was credited anywhere in
    e^3.2835 … e^3.3165 = 26.7 … 27.6 as "carried forward" (likewise u = 1 for 0.8·1.5 − 0.2, an
    18/18 for nine wrong answers). The oracle: e^3.3 = 27.11, so only 27.1 has 3 right figures."""
    at = {"x": x, "z": 3.0}
    assert x * 3.0 != 3.3  # the reference's roundoff this test is about
    rep = grade_answers(LECTURE, {"a": 3.3, "d": d}, at, quantities=["a", "d"], comparison=C3)
    passed = {i.name: i.passed for i in rep.items}
    assert passed == {"a": True, "d": _sig(math.exp(3.3)) == d}, [(i.name, i.passed, i.message) for i in rep.items]


def test_a_chain_from_an_exact_value_of_a_roundoff_is_held_to_the_figures_asked():
    """The TA's network: u1 = 0.8·1.5 − 0.2 = 1.0000000000000002, answered 1; h = tanh(u1) = 0.7616
    answered 0.759 must fail, and every step after it carried from 0.759 may pass."""
    source = "u1 = w1 * x + b1\nh = tanh(u1)\ny = 2 * h\n"
    at = {"w1": 0.8, "x": 1.5, "b1": -0.2}
    for h, ok in ((0.759, False), (0.762, True), (0.761, False)):
        rep = grade_answers(source, {"u1": 1, "h": h, "y": 2 * h}, at, quantities=["u1", "h", "y"], comparison=C3)
        passed = {i.name: i.passed for i in rep.items}
        assert passed["u1"] and passed["h"] is (_sig(math.tanh(1.0)) == h), (h, passed)
        assert passed["y"]  # 2·h from the student's own h: carried forward (or right)
        assert ok is passed["h"]


def test_a_matrix_gradient_off_in_its_last_figure_is_not_rounding():
    """dJ/dW = outer(g_u, x) with its elements 2-4 units off in their third figure scored 18/18 as
    "right from your own rounded earlier answers": the local derivative's rounding could not be
    broadcast and fell back to 0.5 % of the term (a red team's answers, below). Oracle: the
    generated key rounded to the 3 figures asked (full marks), and the true dJ/dW = [[-0.0810,
    -0.0405], [0.0647, 0.0324], [0.00801, 0.00401]] (key.json) beside the answers."""
    from graphlang.grading.exercise import generate

    def fig3(v):
        a = np.asarray(v, dtype=np.float64)
        return np.vectorize(lambda x: float(f"{x:.3g}"))(a).tolist() if a.ndim else float(f"{float(a):.3g}")
    ex = generate(1, "hard")
    rounded = {q: fig3(v) for q, v in ex.key.items()}
    assert ex.assignment.grade_answers(rounded).passed
    assert np.allclose(rounded["dJ/dW"], [[-0.0810, -0.0405], [0.0647, 0.0324], [0.00801, 0.00401]])
    off = {**rounded, "dJ/dW": [[-0.0814, -0.0403], [0.0650, 0.0322], [0.00805, 0.00401]]}
    failed = [(i.name, i.message) for i in ex.assignment.grade_answers(off).items if not i.passed]
    assert [name for name, _ in failed] == ["dJ/dW"], failed


def _one_slip(source: str, at: dict, rounded: bool, factor: float = 1.37) -> tuple[dict, str]:
    """A careful student with one slip (the second statement's value times `factor`), who then works
    every later step right from their own values, by sympy (not graphlang): unrounded or rounded to
    3 figures as they go, each answer written to 3 figures. Returns the answers and the slipped node."""
    import sympy as sp
    fns = {"ln": sp.log, "exp": sp.exp, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh, "sqrt": sp.sqrt,
           "sigmoid": lambda u: 1 / (1 + sp.exp(-u))}
    stmts = [tuple(s.strip() for s in line.split("=", 1)) for line in source.splitlines()
             if "=" in line and not line.startswith(("input", "param", "output"))]
    syms = {n: sp.Symbol(n) for n in [*at, *(n for n, _ in stmts)]}
    exprs = {n: sp.sympify(e.replace("^", "**"), locals={**fns, **syms}) for n, e in stmts}
    r3 = (lambda v: float(f"{float(v):.3g}"))
    keep = r3 if rounded else float
    val, ans, slip = {k: float(v) for k, v in at.items()}, {}, stmts[1][0]
    for n, _ in stmts:
        v = float(exprs[n].subs({syms[k]: q for k, q in val.items()}))
        v = v * factor if n == slip else v
        val[n], ans[n] = keep(v), r3(v)
    out = stmts[-1][0]
    g = {out: 1.0}
    ans[f"g_{out}"] = 1.0
    for k in [n for n, _ in stmts][::-1][1:] + list(at):
        total = sum(g[c] * float(sp.diff(exprs[c], syms[k]).subs({syms[q]: v for q, v in val.items()}))
                    for c, _ in stmts if syms[k] in exprs[c].free_symbols)
        g[k] = keep(total)
        ans[f"d{out}/d{k}" if k in at else f"g_{k}"] = r3(total)
    return ans, slip


@pytest.mark.parametrize("rounded", [False, True])
def test_one_slip_costs_one_answer_however_the_student_carries_it(rounded):
    """A TA's simulation: a student slips once and works on correctly from their own values. Kept
    unrounded, half the medium exercises cost 1–3 more points (the earlier answer's rounding capped
    by 3 figures of the *true* value, 10× smaller); and a local derivative taken from the node's
    input (σ(a)(1 − σ(a))) beside a wrong b was refused where the rule writes b(1 − b). The oracle:
    sympy's derivatives at the student's own values."""
    from graphlang.exercise import generate
    for seed in range(10, 30):
        ex = generate(seed, "medium")
        answers, slip = _one_slip(ex.source, ex.assignment.at, rounded)
        rep = ex.assignment.grade_answers(answers)
        failed = [i.name for i in rep.items if not i.passed]
        assert failed == [slip], (seed, failed, rep.as_text())


@pytest.mark.parametrize("x", [2, 20])
def test_a_wrong_answer_rounds_by_its_own_figures_not_the_hidden_values(x):
    """An attacker's find: b = 0.5 (wrong, hidden b = ln x) then c = 0.476 was credited as carried
    forward when the hidden b was 2.996 and not when it was 0.693 (the rounding cap came from the
    true value: its decade could be probed), and b = 0.001 to one figure moved ±50 %. Oracle:
    sin(0.5) = 0.4794 by hand, 0.476 is off by more than its own 3 figures allow."""
    ref = "a = x * z\nb = ln(x)\nc = sin(b)\nd = exp(a)\ne = a / b\nf = c / a\ny = d + e + f\n"
    how = Comparison("sigfig", digits=3)
    r = grade_answers(ref, {"b": 0.5, "c": 0.476}, {"x": x, "z": 3}, quantities=["b", "c"], comparison=how,
                      show_expected=False)
    assert [i.passed for i in r.items] == [False, False], [(i.name, i.message) for i in r.items]
    ok = grade_answers(ref, {"b": 0.5, "c": round(math.sin(0.5), 3)}, {"x": x, "z": 3}, quantities=["b", "c"],
                       comparison=how, show_expected=False)
    assert [i.passed for i in ok.items] == [False, True]  # the honest slip is still carried forward
    sloppy = grade_answers(ref, {"b": 0.001, "c": 0.0014}, {"x": x, "z": 3}, quantities=["b", "c"],
                           comparison=how, show_expected=False)
    assert not sloppy.items[1].passed  # sin(0.001) = 0.001, not 0.0014: no ±50 % for a one-figure b


@pytest.mark.parametrize("ecf", [False, True])
def test_a_step_credited_for_rounding_does_not_move_the_next_one_by_a_whole_rounding_again(ecf):
    """A TA's find: each step was allowed its predecessors' rounding (± half their last digit) and its
    own comparison on top, and a step so credited counted as right for the next, so an answer one unit
    off in its last figure at every step passed: e = 0.363, g_e = 0.364, g_a = 0.365, dJ/dx = 0.288
    scored 8/8 (ecf off). By hand: a = tanh(0.5) = 0.462117 is right as 0.462, and the student's own
    unrounded a is that or 0.462, so e = a − 0.1 is 0.362 or 0.362117 — 0.363 is no rounding of either;
    g_e = e, g_a = g_e·1 repeat it, and dJ/dx = g_a·(1 − a²) = 0.285 (0.2848 from 0.362, 0.462)."""
    ref = "a = tanh(x)\ne = a - t\nJ = 0.5 * e^2\n"
    a = math.tanh(0.5)
    e = a - 0.1
    true = {"a": a, "e": e, "J": 0.5 * e * e, "g_J": 1.0, "g_e": e, "g_a": e, "dJ/dx": e * (1 - a * a), "dJ/dt": -e}
    drift = {"a": 0.462, "e": 0.363, "J": 0.0656, "g_J": 1.0, "g_e": 0.364, "g_a": 0.365, "dJ/dx": 0.288,
             "dJ/dt": -0.364}
    rep = grade_answers(ref, drift, {"x": 0.5, "t": 0.1}, quantities=list(drift), comparison=C3, ecf=ecf)
    failed = [i.name for i in rep.items if not i.passed]
    if not ecf:
        assert failed == ["e", "g_e", "g_a", "dJ/dx", "dJ/dt"], rep.as_text()
    else:  # error carried forward credits a step within one rounding of the student's own wrong answer
        # (g_e = 0.364 from e = 0.363 at the edge of its rounding), never one more on top: g_a = g_e·1
        # from g_e = 0.364 (itself only carried) is 0.364, not 0.365
        assert "e" in failed and "g_a" in failed, rep.as_text()
        assert not any("rounded" in i.message for i in rep.items), rep.as_text()
    honest = {k: _sig(v) for k, v in true.items()}  # every answer the true value to 3 figures
    ok = grade_answers(ref, honest, {"x": 0.5, "t": 0.1}, quantities=list(honest), comparison=C3, ecf=ecf)
    assert ok.score == ok.max_score, ok.as_text()


@pytest.mark.parametrize("ecf", [False, True])
def test_answers_within_the_comparison_but_no_rounding_carry_no_rounding_credit(ecf):
    """A red team's 17/17 with ecf off: a = 6.0051 for 6 passes (3 figures allow ±0.0051), but 6
    rounds to no 6.0051; d = 406.0 passed as "right from your own rounded earlier answers" though
    e^6 = 403.4 to 3 figures, and so on down to dy/dx = 1228.9 for 1208.4, each step within one
    comparison of the last. By hand: each of these answers is more than its comparison from the true
    value (numpy below), so with ecf off none may pass; with ecf on each is carried, never "rounded"."""
    drift = {"a": 6.0051, "b": 0.693657, "c": 0.639863, "d": 406.001, "e": 8.66226, "f": 0.107064, "y": 415.28,
             "g_y": 1.00509, "g_f": 1.00509, "g_e": 1.00509, "g_d": 1.00509, "g_c": 0.168361, "g_b": -12.4856,
             "g_a": 410.009, "dy/dx": 1228.88, "dy/dz": 820.528}
    x, z = 2.0, 3.0
    a, b = x * z, np.log(x)
    c, d, e, f = np.sin(b), np.exp(a), a / b, np.sin(b) / a
    g_c, g_b = 1 / a, -a / b**2 + np.cos(b) / a
    g_a = d + 1 / b - c / a**2
    true = {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "y": d + e + f, "g_c": g_c, "g_b": g_b, "g_a": g_a,
            "dy/dx": g_a * z + g_b / x, "dy/dz": g_a * x}
    off = {q for q, t in true.items() if not C3.passes(np.float64(drift[q]), np.float64(t))}
    assert off == {"c", "d", "e", "f", "y", "g_c", "g_b", "g_a", "dy/dx", "dy/dz"}
    rep = grade_answers(LECTURE, drift, AT, quantities=list(drift), comparison=C3, ecf=ecf)
    passed = {i.name for i in rep.items if i.passed}
    assert not any("rounded" in i.message for i in rep.items), rep.as_text()
    if not ecf:
        assert not passed & off, rep.as_text()
    honest = {**{q: _sig(t) for q, t in true.items()}, "g_y": 1.0, "g_f": 1.0, "g_e": 1.0, "g_d": 1.0}
    ok = grade_answers(LECTURE, honest, AT, quantities=list(honest), comparison=C3, ecf=ecf)
    assert ok.score == ok.max_score, ok.as_text()


def test_a_wrong_earlier_answer_widens_no_span_that_rounding_credit_reads():
    """A red team's 10/10 with ecf off: a = 2.005 for 2 (within 3 figures, no rounding of 2) widened
    the spans of c and g_a through the steps computed from it, and dy/dx = -0.429 was credited as
    rounded (5.6 tolerances from the true -0.42614). By hand (numpy below): c = b·z − k from the
    right b = 3.41 is 3.297 (3.29 is no rounding of it), and dy/dx = g_a·k with g_a ≈ -0.1705 is
    -0.426 to 3 figures."""
    ref = "k = 2.5\na = k * x\nb = sin(a) + k\nc = b * z - k\ny = exp(0.3 * c) + a / k\n"
    x, z, k = 0.8, 1.7, 2.5
    a = k * x
    c = (np.sin(a) + k) * z - k
    g_c = 0.3 * np.exp(0.3 * c)
    g_a = g_c * z * np.cos(a) + 1 / k
    assert abs(-0.429 - g_a * k) > 5 * 0.51e-3 and abs(3.29 - c) > 0.51e-2  # (both wrong by themselves)
    answers = parse_answers(b'{"a": 2.005, "b": 3.41, "c": 3.29, "y": 3.49, "g_y": 0.995, "g_c": 0.806, '
                            b'"g_b": 1.37, "g_a": -0.171, "dy/dx": -0.429, "dy/dz": 2.75}', "a.json")[0]
    rep = grade_answers(ref, answers, {"x": x, "z": z}, quantities=list(answers), comparison=C3, ecf=False)
    failed = {i.name for i in rep.items if not i.passed}
    assert {"c", "dy/dx"} <= failed, rep.as_text()


def test_a_digit_typed_after_the_point_counts_in_the_rounding_an_answer_may_have():
    """"-4.40" is read as ±0.005, not as the float -4.4's ±0.05: a red team's dy/dx 4 % off passed
    under a 1 % tolerance as rounded from it (ecf off). Oracle: the lecture's dy/dx by hand at
    (0.6, 2.2), -2.78346; -2.672 is 4 % off, and the student's own numbers give -2.779."""
    x, z = 0.6, 2.2
    a, b = x * z, math.log(x)
    g_a = math.exp(a) + 1 / b - math.sin(b) / a ** 2
    g_b = -a / b ** 2 + math.cos(b) / a
    assert abs(-2.672 / (g_a * z + g_b / x) - 1) > 0.03
    text = (b'{"a":1.32,"b":-0.5159,"c":-0.489,"d":3.74,"e":-2.58,"f":-0.370,"y":0.789,"g_y":1,"g_f":1,'
            b'"g_e":1,"g_d":1,"g_c":0.758,"g_b":-4.40,"g_a":2.07,"dy/dx":-2.672,"dy/dz":1.24}')
    answers = parse_answers(text, "a.json")[0]
    rep = grade_answers(LECTURE, answers, {"x": x, "z": z}, quantities=list(answers),
                        comparison=Comparison("relabs", 0.01, 1e-8), ecf=False)
    assert "dy/dx" in {i.name for i in rep.items if not i.passed}, rep.as_text()


def test_a_local_derivative_and_its_term_may_both_be_rounded():
    """explain prints 1/x = 0.667, and each term is rounded before the sum (README: "and"): dy/dx =
    4.973·0.7 + (−5.51)·0.667 = 3.48 − 3.68 = −0.200 was refused where either rounding alone
    passed (a red team's honest student). Oracle: that arithmetic, done here."""
    assert _sig(_sig(4.973 * 0.7) + _sig(-5.51 * 0.667)) == -0.2
    text = (b'{"a":1.050,"b":0.405465,"c":0.394,"d":2.8577,"e":2.5896,"f":0.3752,"y":5.8225,"g_y":1,'
            b'"g_f":1.0000,"g_e":1.000,"g_d":1.000,"g_c":0.9520,"g_b":-5.51,"g_a":4.9730,"dy/dx":-0.200000,'
            b'"dy/dz":7.46}')
    answers = parse_answers(text, "a.json")[0]
    for ecf in (False, True):
        rep = grade_answers(LECTURE, answers, {"x": 1.5, "z": 0.7}, quantities=list(answers), comparison=C3,
                            ecf=ecf)
        assert rep.score == rep.max_score, rep.as_text()


@pytest.mark.parametrize("ecf", [False, True])
def test_a_student_who_cuts_off_instead_of_rounding_keeps_the_credit(ecf):
    """A reviewer's find: answers cut off to 4 figures (0.4356 for cos(1.12) = 0.43568), each step
    from the previous ones, lost y's credit once an answer had to round from what the student could
    compute. Oracle: the student's arithmetic, done here with the same cut-offs."""
    x, z = 1.12, 1.41
    answers = {"b": 0.4356, "c": 0.1737, "e": -0.9463, "d": 1.728, "y": 0.7817}
    steps = {"b": lambda a: math.cos(x), "c": lambda a: math.log(a["b"] ** 2 + 1), "e": lambda a: a["c"] - x,
             "d": lambda a: math.sqrt(z * z + 1), "y": lambda a: a["e"] + a["d"]}
    for q, step in steps.items():  # each written value cut off (toward 0) from the step on the ones before
        exact, unit = step(answers), 10.0 ** (math.floor(math.log10(abs(answers[q]))) - 3)
        assert 0 <= (exact - answers[q]) * math.copysign(1, exact) < unit, q
    ref = "b = cos(x)\nc = ln(b * b + 1)\ne = c - x\nd = sqrt(z * z + 1)\ny = e + d\n"
    rep = grade_answers(ref, answers, {"x": x, "z": z}, quantities=list(answers), comparison=C3, ecf=ecf)
    assert rep.score == rep.max_score and not any(i.ecf for i in rep.items), rep.as_text()


@pytest.mark.parametrize("comparison, padded, plain", [
    (Comparison("decdig", digits=2), '"g_a": 1.290000, "dy/dx": 0.8127', '"g_a": 1.29, "dy/dx": 0.8127'),
    (Comparison("sigfig", digits=3), '"g_a": 1.29000, "dy/dx": 0.8127', '"g_a": 1.29, "dy/dx": 0.8127')])
def test_zeros_typed_past_the_precision_asked_change_no_grade(comparison, padded, plain):
    """Zeros typed past the figures asked are padding ("1.290000" to 2 decimals is 1.29): reading them
    as precision took an honest student's rounding credit (a harness of honest students: dy/dx lost)."""
    ref = "a = tanh(x)\nb = tanh(a * z + 0.5)\nc = tanh(2 * b - a)\ny = c * b\n"
    head = '{"a": 0.604, "b": -0.27771, "c": -0.8209, "y": 0.2280, "g_y": 1, "g_c": -0.2800, "g_b": -1.003574, '
    grades = []
    for tail in (padded, plain):
        answers = parse_answers((head + tail + ', "dy/dz": -0.56200}').encode(), "a.json")[0]
        rep = grade_answers(ref, answers, {"x": 0.7, "z": -1.3}, quantities=list(answers), comparison=comparison,
                            ecf=False)
        grades.append([(i.name, i.passed) for i in rep.items])
    assert grades[0] == grades[1]


def test_the_shipped_assignment_does_not_credit_a_sum_its_own_terms_cannot_give():
    """The same find on programs/homework: d = 403 (right: 403.43 to 3 figures) and y = 411 passed as
    "right from your own rounded earlier answers" with ecf off. By hand: y = d + e + f with the
    student's own 403 (or 403.43), e = 8.65617 and f = 0.106494 is 411.76 … 412.19: 411 is neither."""
    import json

    from conftest import PROGRAMS

    from graphlang.grading.assignment import Assignment
    hw = Assignment.load(PROGRAMS / "homework" / "assignment.toml")
    answers = json.loads((PROGRAMS / "homework" / "student_correct.json").read_text())
    answers |= {"d": 403, "y": 411}
    import dataclasses
    rep = dataclasses.replace(hw, ecf=False).grade_answers(answers)
    assert [i.name for i in rep.items if not i.passed] == ["y"], rep.as_text()
    answers["y"] = 412  # 411.76 to 3 figures: the student's own sum, rounded
    assert dataclasses.replace(hw, ecf=False).grade_answers(answers).score == rep.max_score


# A review's simulated honest students, refused once right answers no longer moved by a whole digit
# (each: the generated exercise, its comparison, and a student's answers worked by sympy; every item passes)
REVIEWED = [
    (15, "easy", None, {"a": 4.5, "b": 1.5, "c": 0.0707, "d": 0.318, "y": 1.82, "g_y": 1.0, "g_d": 1.0, "g_c": 4.5,
                        "g_b": -3.49, "g_a": -3.42, "dy/dx": -10.2, "dy/dz": -1.64}),  # local derivatives rounded
    (3, "medium", 4, {"a": 1.099, "b": 0.4548, "c": 0.9866, "d": 0.8983, "e": 0.7155, "f": 2.96, "h": 0.4259,
                      "y": 4.101, "g_y": 1.0, "g_h": 1.0, "g_f": 1.0, "g_e": 1.0, "g_d": 0.4881, "g_c": 3.0,
                      "g_b": 0.6042, "g_a": -0.5381, "dy/dx": 0.07977, "dy/dz": 0.8073}),  # 3·round(1 − tanh²2.5)
    (1, "medium", None, {"a": 1.1, "b": 3.3, "c": 9.9, "d": 3.15, "e": 29.7, "f": 10.4, "h": 9.0, "k": 2.2,
                         "m": 0.953, "y": 43.3, "g_y": 1.0, "g_m": 1.0, "g_k": 1.0, "g_h": 0.111, "g_f": 1.0,
                         "g_e": 1.0, "g_d": 3.3, "g_c": 3.53, "g_b": 13.8, "g_a": 41.4, "dy/dx": 25.4,
                         "dy/dz": 25.8}),  # each term rounded, then summed: g_b = 10.6 + 3.15 = 13.75
]
SLIPPED = [  # one slip (f, h[0]), then every step right from the student's own values: only the slip fails
    (34, "medium", {"a": -1.0, "b": -0.99, "c": -1.99, "d": -0.407, "e": 0.666, "f": 0.396, "h": 0.63, "k": 0.558,
                    "m": 0.848, "y": 1.41, "g_y": 1.0, "g_m": 1.0, "g_k": 0.471, "g_h": 0.324, "g_f": 0.258,
                    "g_e": 0.0578, "g_d": 0.0384, "g_c": 0.0351, "g_b": 0.0351, "g_a": 0.0351, "dy/dx": 0.0351,
                    "dy/dz": -0.0401}, "f"),
    (31, "hard", {"u": [-0.25, -0.25], "h": [-0.147, -0.245], "v": [-0.269, 0.196], "o": [0.433, 0.549],
                  "e": [-0.567, 0.549], "s": [0.321, 0.301], "J": 0.311, "g_J": 1.0, "g_s": [0.5, 0.5],
                  "g_e": [-0.567, 0.549], "g_o": [-0.567, 0.549], "g_v": [-0.139, 0.136], "g_h": [-0.207, -0.138],
                  "g_u": [-0.195, -0.129], "dJ/dW": [[-0.0974, -0.0974], [-0.0646, -0.0646]], "dJ/db": [-0.195, -0.129],
                  "dJ/dV": [[0.0205, 0.0341], [-0.02, -0.0333]], "dJ/dx": [0.259, 0.227]}, "h"),
]


@pytest.mark.parametrize(("seed", "difficulty", "digits", "answers"), REVIEWED)
def test_an_honest_student_a_review_simulated_is_credited(seed, difficulty, digits, answers):
    import dataclasses

    from graphlang.exercise import generate
    assignment = generate(seed, difficulty).assignment
    if digits is not None:
        assignment = dataclasses.replace(assignment, comparison=Comparison("sigfig", digits=digits))
    report = assignment.grade_answers(answers)
    assert report.score == report.max_score, report.as_text()


@pytest.mark.parametrize(("seed", "difficulty", "answers", "slip"), SLIPPED)
def test_after_one_slip_the_steps_worked_from_it_are_carried_forward(seed, difficulty, answers, slip):
    from graphlang.exercise import generate
    report = generate(seed, difficulty).assignment.grade_answers(answers)
    assert [i.name for i in report.items if not i.passed] == [slip], report.as_text()


def test_tangents_asked_before_the_ones_they_read_do_not_crash_the_grader():
    """A review's find: `db/dx` asked before `da/dx` (b = exp(a), a = sin x) sent the spans into a
    recursion ("the input nests too deeply"; a batch's "crashed the grader"). By hand, to 3 figures:
    a = 0.218, b = 1.24, da/dx = cos 0.22 = 0.976, db/dx = 1.24·0.976 = 1.21, dy/dx = 0.218·1.21 +
    1.24·0.976 = 1.47 (true 1.479: right from the rounded answers)."""
    ref = "a = sin(x)\nb = exp(a)\ny = b * a\n"
    answers = {"a": 0.218, "b": 1.24, "y": 0.27, "db/dx": 1.21, "da/dx": 0.976, "dy/dx": 1.47}
    report = grade_answers(ref, answers, {"x": 0.22}, quantities=list(answers), comparison=C3)
    assert report.score == report.max_score, report.as_text()


def test_a_matrix_product_step_from_a_wrong_rounded_vector_is_carried_forward():
    """A TA's find: g_h = W2 @ g_u2 computed from the student's own unrounded (wrong) g_u2 was
    "incorrect", the one from the written g_u2 consistent: the rounding of g_u2 moves element i of
    the step by Σ_j |W2_ij|·h_j, which none of the four sign patterns reached for every i (here
    dJ/dh[0]: −0.0022 against −0.0012). Oracle: the student's steps in numpy."""
    w2 = np.array([[0.3, -0.4, 0.2], [-0.1, 0.5, 0.3], [0.6, 0.1, -0.5], [0.2, -0.3, 0.4]])
    h = np.array([-0.43, -0.49, 0.96, -0.88])
    u2 = w2.T @ h
    slip = u2 * [1, -1, 1]  # the sign of g_u2[1] turned

    def r3(v: np.ndarray) -> list[float]:
        return [float(f"{a:.3g}") for a in np.ravel(v)]
    answers = {"u2": r3(u2), "g_u2": r3(slip), "dJ/dh": r3(w2 @ slip)}
    assert abs((w2 @ slip)[0] - (w2 @ np.array(answers["g_u2"]))[0]) > 5e-4  # past the step's own rounding
    rep = grade_answers("input h[4]\nparam W2[4, 3]\nu2 = W2.T @ h\nJ = sum(u2 * u2) / 2\n", answers,
                        {"h": h.tolist(), "W2": w2.tolist()}, quantities=["u2", "g_u2", "dJ/dh"],
                        comparison=Comparison("sigfig", digits=3))
    items = {i.name: i for i in rep.items}
    assert not items["g_u2"].passed and items["dJ/dh"].score == 1.0, items["dJ/dh"].message
    assert "error carried forward" in items["dJ/dh"].message
    wrong = dict(answers, **{"dJ/dh": r3(w2 @ slip + [0.01, 0, 0, 0])})  # a real slip on top: refused
    rep = grade_answers("input h[4]\nparam W2[4, 3]\nu2 = W2.T @ h\nJ = sum(u2 * u2) / 2\n", wrong,
                        {"h": h.tolist(), "W2": w2.tolist()}, quantities=["u2", "g_u2", "dJ/dh"],
                        comparison=Comparison("sigfig", digits=3))
    assert {i.name: i for i in rep.items}["dJ/dh"].score == 0.0


def test_a_step_through_ties_is_credited_only_as_far_as_the_rounding_can_move_it():
    """A reviewer's find: moving each element of a = [1.00, 1.00, 1.00, 1.00] alone and summing the
    moves credited m = max(a) at 1.025 (8 % off with 16 ties). Only points a can take count. Oracle,
    by hand: each aᵢ lies in [0.995, 1.005], so max(a) ≤ 1.005, and m's own 3 figures add 0.005."""
    ref = "input x[4]\na = x * 2\nm = max(max(a[0], a[1]), max(a[2], a[3]))\ny = m * m\n"
    at = {"x": [0.3, 0.7, 1.1, 0.2]}

    def score(m: float) -> float:
        rep = grade_answers(ref, {"a": [1.0, 1.0, 1.0, 1.0], "m": m}, at, quantities=["a", "m"],
                            comparison=Comparison("sigfig", digits=3))
        return {i.name: i.score for i in rep.items}["m"]
    assert score(1.005) == 1.0 and score(1.01) == 1.0
    assert score(1.015) == 0.0 and score(1.025) == 0.0


def test_a_rounded_term_moves_its_sum_one_way_only():
    """An autograder red team's find: with every earlier answer right to 6 figures, dy/dx = 1218
    passed (true 1208.38; 3 figures allow 1203.4 … 1213.4). By hand: dy/dx = g_a·z + g_b·(1/x) =
    404.854·3 − 12.36·0.5 = 1214.562 − 6.18 = 1208.382; a student who rounds the term 1214.562 to
    1210 gets 1203.82 — rounding never takes it above 1214.562 − 6.18, so the band is
    [1203.82 − 5, 1208.382 + 5] (half a unit of the third figure of 1200 is 5)."""
    earlier = {"a": 6.0, "b": 0.693147, "c": 0.638961, "d": 403.429, "e": 8.65617, "f": 0.106494, "y": 412.191,
               "g_y": 1.0, "g_f": 1.0, "g_e": 1.0, "g_d": 1.0, "g_c": 0.166667, "g_b": -12.36, "g_a": 404.854}
    low, high = 404.854 * 3 - 12.36 * 0.5 - (1214.562 - 1210) - 5, 404.854 * 3 - 12.36 * 0.5 + 5
    for answer in (1198.0, 1199.0, 1203.0, 1210.0, 1213.0, 1214.0, 1218.0):
        rep = grade_answers(LECTURE, {**earlier, "dy/dx": answer}, AT, quantities=[*earlier, "dy/dx"], comparison=C3)
        (item,) = [i for i in rep.items if i.name == "dy/dx"]
        assert item.passed == (low <= answer <= high), (answer, item.message)


def test_too_few_figures_get_no_rounding_credit_from_earlier_answers():
    """An autograder red team's find: every answer to 2 figures; s, l, g_s failed "3 significant
    figures expected" while a step rounded from them, as short, passed as carried forward. By hand:
    dJ/dw = g_u·x, and the student's −0.30·0.73 = −0.219, written −0.22: a rounding, not credited."""
    ref = "u = w * x + b\ns = sigmoid(u)\nl = (s - t)^2\nJ = l + 0.1 * w^2\n"
    at = {"w": 0.5, "x": 0.73, "b": -1.0, "t": 1.0}
    true = graphlang.parse(ref).evaluate(at)
    g_u = _sig(true.adjoints["u"], 2)
    text = json.dumps({"g_u": g_u, "dJ/dw": _sig(g_u * 0.73 + 0.1, 2)})
    answers, _ = parse_answers(text.encode(), "a.json")  # (as typed: the figures are known)
    by = {i.name: i for i in grade_answers(ref, answers, at, quantities=list(answers), comparison=C3).items}
    assert not by["dJ/dw"].passed and not by["dJ/dw"].ecf and "3 significant figures expected" in by["dJ/dw"].message
    full = {"g_u": _sig(true.adjoints["u"], 3), "dJ/dw": _sig(true.gradient["w"], 3)}
    assert grade_answers(ref, full, at, quantities=list(full), comparison=C3).passed


def test_a_short_answer_exactly_what_the_earlier_answers_give_is_carried_forward():
    """A review's find: b = 0.5, exactly a/4 of the student's own (wrong) a = 2, was refused once too
    few figures barred every credit from earlier answers, with no word why. Exact: credited; a short
    rounding of it is not, and says that 3 figures are expected."""
    ref = "a = x * z\nb = a / 4\ny = b * 2\n"
    given, _ = parse_answers(b'{"a": 2, "b": 0.5, "y": 1}', "a.json")
    rep = grade_answers(ref, given, AT, quantities=["a", "b", "y"], comparison=C3)
    by = {i.name: i for i in rep.items}
    assert not by["a"].passed and by["b"].passed and by["b"].ecf and by["y"].passed, rep.items
    short, _ = parse_answers(b'{"a": 2.00, "b": 0.51}', "a.json")
    item = {i.name: i for i in grade_answers(ref, short, AT, quantities=["a", "b"], comparison=C3).items}["b"]
    assert not item.passed and "3 significant figures expected" in item.message
