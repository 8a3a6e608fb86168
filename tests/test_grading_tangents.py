"""Forward mode's tangents graded as answers (`da/dx`: ȧ in the pass seeded at x). Oracle: the
lecture's function differentiated by hand, node by node (closed forms, not the engine's numbers)."""

from __future__ import annotations

import json
import math

import pytest

import graphlang
from graphlang.grading.assignment import Assignment
from graphlang.grading.checker import canonical, grade_answers
from graphlang.grading.compare import Comparison

LECTURE = "a = x * z\nb = ln(x)\nc = sin(b)\nd = exp(a)\ne = a / b\nf = c / a\ny = d + e + f\n"
X, Z = 2.0, 3.0


def by_hand(x: float, z: float) -> dict[str, float]:
    """Every node's derivative by x and by z, by the chain rule on paper."""
    a, b = x * z, math.log(x)
    c = math.sin(b)
    da = {"x": z, "z": x}
    db = {"x": 1 / x, "z": 0.0}
    dc = {k: math.cos(b) * db[k] for k in "xz"}
    dd = {k: math.exp(a) * da[k] for k in "xz"}
    de = {k: da[k] / b - a * db[k] / b ** 2 for k in "xz"}
    df = {k: dc[k] / a - c * da[k] / a ** 2 for k in "xz"}
    out = {}
    for name, d in (("a", da), ("b", db), ("c", dc), ("d", dd), ("e", de), ("f", df)):
        out.update({f"d{name}/d{k}": d[k] for k in "xz"})
    return out


def test_tangents_are_graded_against_the_chain_rule_by_hand():
    hand = by_hand(X, Z)
    rep = grade_answers(LECTURE, hand, {"x": X, "z": Z}, quantities=list(hand))
    assert rep.score == rep.max_score == 12, [(i.name, i.message) for i in rep.items if not i.passed]
    slip = {**hand, "dc/dx": hand["dc/dx"] * 1.1}  # one wrong tangent: that one fails, no other
    rep = grade_answers(LECTURE, slip, {"x": X, "z": Z}, quantities=list(hand))
    assert [i.name for i in rep.items if not i.passed] == ["dc/dx"]


def test_keys_name_tangents_as_students_write_them():
    prog = graphlang.parse(LECTURE)
    assert canonical("∂a/∂x", prog, "g_") == canonical(" da/dx ", prog, "g_") == "da/dx"
    assert canonical("dy/dx", prog, "g_") == "g_x"  # the output's tangent is the gradient
    assert canonical("da/dq", prog, "g_") is None and canonical("dx/dz", prog, "g_") is None
    rep = grade_answers(LECTURE, {"dadx": 3.0}, {"x": X, "z": Z}, quantities=["da/dx"])
    assert "did you mean 'da/dx'?" in " ".join(rep.feedback)


def test_an_assignment_asks_for_the_tangents_group(tmp_path):
    (tmp_path / "ref.cg").write_text(LECTURE)
    (tmp_path / "asg.toml").write_text('title = "Forward mode"\nreference = "ref.cg"\nat = { x = 2, z = 3 }\n'
                                       'ask = ["values", "tangents", "gradient"]\n'
                                       '[compare]\ncomparison = "sigfig"\ndigits = 3\n')
    asg = Assignment.load(tmp_path / "asg.toml")
    tangents = [q for q in asg.quantities if q.count("/") == 1 and not q.startswith("dy/")]
    # pass by pass, as forward mode goes; not db/dz, dc/dz (b, c do not read z: 0 by definition)
    assert tangents == [f"d{n}/d{k}" for k in "xz" for n in "abcdef" if not (k == "z" and n in "bc")]
    key = asg.key()
    hand = by_hand(X, Z)
    assert all(key[q] == pytest.approx(hand[q], rel=1e-12, abs=1e-15) for q in tangents)
    rep = asg.grade_text(json.dumps({q: float(f"{v:.3g}") for q, v in key.items()}).encode(), "k.json")
    assert rep.score == rep.max_score == 19


def test_a_tangent_by_a_tensor_input_is_refused_up_front():
    with pytest.raises(graphlang.GraphlangError, match="not a number"):
        grade_answers("input v[2], s\nh = v * s\ny = sum(h)\n", {}, {"v": [1.0, 2.0], "s": 3.0},
                      quantities=["dh/dv"], comparison=Comparison("sigfig", digits=3))
    rep = grade_answers("input v[2], s\nh = v * s\ny = sum(h)\n", {"dh/ds": [1.0, 2.0]},
                        {"v": [1.0, 2.0], "s": 3.0}, quantities=["dh/ds"])
    assert rep.score == 1  # a vector node's tangent by a scalar input: ∂h/∂s = v


def _sig3(v: float) -> float:
    return float(f"{v:.3g}")


def test_a_student_who_goes_forward_by_hand_to_3_figures_gets_full_marks():
    """A red team's find: forward-mode work rounded to 3 figures at each step (dd/dz = 2 × the
    student's d = 403 = 806; dy/dz = 806 + 2.89 − 0.0355 = 809) scored 19/21, the gradient included,
    where the same rounding in reverse mode scores full marks. Oracle: the chain rule by hand, each
    step from the student's own rounded numbers."""
    x, z = X, Z
    a, b = _sig3(x * z), _sig3(math.log(x))
    c, d = _sig3(math.sin(b)), _sig3(math.exp(a))
    e, f = _sig3(a / b), _sig3(c / a)
    ans = {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "y": _sig3(d + e + f)}
    for k, (ax, bx) in {"x": (z, 1 / x), "z": (x, 0.0)}.items():
        da, db = _sig3(ax), _sig3(bx)
        dc, dd = _sig3(math.cos(b) * db), _sig3(d * da)  # ḋ = d·ȧ with the written d
        de, df = _sig3(da / b - a * db / b ** 2), _sig3(dc / a - c * da / a ** 2)
        ans.update({f"da/d{k}": da, f"db/d{k}": db, f"dc/d{k}": dc, f"dd/d{k}": dd, f"de/d{k}": de, f"df/d{k}": df,
                    f"dy/d{k}": _sig3(dd + de + df)})
    how = Comparison("sigfig", digits=3)
    rep = grade_answers(LECTURE, ans, {"x": X, "z": Z}, quantities=list(ans), comparison=how)
    assert rep.score == rep.max_score, [(i.name, i.got, i.expected) for i in rep.items if not i.passed]
    assert any("rounded" in i.message for i in rep.items)
    slip = {**ans, "dd/dz": ans["dd/dz"] * 1.5}  # a wrong step stays wrong; the next is carried forward
    rep = grade_answers(LECTURE, slip, {"x": X, "z": Z}, quantities=list(ans), comparison=how)
    assert [i.name for i in rep.items if not i.passed] == ["dd/dz", "dy/dz"]
    carried = grade_answers(LECTURE, {**slip, "dy/dz": _sig3(slip["dd/dz"] + slip["de/dz"] + slip["df/dz"])},
                            {"x": X, "z": Z}, quantities=list(ans), comparison=how)
    assert [i.name for i in carried.items if not i.passed] == ["dd/dz"]
    assert next(i for i in carried.items if i.name == "dy/dz").ecf


def test_spaces_in_a_key_and_the_local_derivative_slip():
    rep = grade_answers(LECTURE, {"da / dx": 3.0, "dy / dx": 1208.38}, {"x": X, "z": Z},
                        quantities=["da/dx", "dy/dx"])
    assert rep.score == 2
    ref = "input x, z\na = x * z\ne = x * a\ny = e + a\n"  # de/dx = a + x·z = 12; ∂e/∂x of e's rule: a = 6
    rep = grade_answers(ref, {"de/dx": 6.0}, {"x": X, "z": Z}, quantities=["de/dx"])
    assert not rep.items[0].passed and "of e's own rule alone" in rep.items[0].message
    assert "own rule" not in grade_answers(ref, {"de/dx": 7.0}, {"x": X, "z": Z}, quantities=["de/dx"]).items[0].message


def test_the_group_leaves_out_constants_labels_and_tangents_that_do_not_exist(tmp_path):
    """Constants' tangents are 0 by definition (an all-zeros file scored 11/28 on a red team's network)."""
    (tmp_path / "ref.cg").write_text("input w, t\nk = [0.5, 2.0]\nh = tanh(k * w)\nq = sqrt(w - w)\n"
                                     "J = sum(h) * t\n")
    (tmp_path / "asg.toml").write_text('title = "t"\nreference = "ref.cg"\nat = { w = 0.8, t = 1 }\n'
                                       'ask = ["tangents"]\nfixed = ["t"]\n')
    asg = Assignment.load(tmp_path / "asg.toml")
    assert asg.quantities == ["dh/dw"]  # not dk/dw (a constant), dq/dw (√0: none), nor by the label t


def test_asking_tangents_does_not_loosen_the_values():
    """A red team's find: tangents (1e15 here, while every value and adjoint is below 3) counted
    toward the scale a roundoff of 0 is small beside: c = 2.52 answered 0 then passed. The scale is
    the values' and adjoints' only. Oracle: c = 3 sin(1) = 2.52 by hand."""
    ref = "a = 1e15 * x\nc = sin(z) * 3\ny = a - 1e15 * x + c\n"
    at = {"x": 1e-15, "z": 1.0}
    rep = grade_answers(ref, {"c": 0.0, "da/dx": 1e15}, at, quantities=["c", "da/dx"],
                        comparison=Comparison("sigfig", digits=3))
    assert [i.name for i in rep.items if not i.passed] == ["c"]


def test_a_prairielearn_question_of_tangents_says_forward_mode(tmp_path, cli):
    (tmp_path / "ref.cg").write_text(LECTURE)
    (tmp_path / "asg.toml").write_text('title = "Forward mode"\nreference = "ref.cg"\nat = { x = 2, z = 3 }\n'
                                       'ask = ["values", "tangents", "gradient"]\n')
    folder = tmp_path / "q"
    assert cli("autograder", "prairielearn", "--assignment", str(tmp_path / "asg.toml"), "-o", str(folder)).code == 0
    html = (folder / "question.html").read_text()
    assert "forward mode (every tangent" in html and "backward pass" not in html
    assert "$\\dot{c} = dc/dx =$" in html and "$\\partial y/\\partial x =$" in html
    (tmp_path / "ref.cg").write_text("# Run it: graphlang run ref.cg --at x=2,z=3\n" + LECTURE)
    assert cli("autograder", "prairielearn", "--assignment", str(tmp_path / "asg.toml"), "-o", str(folder)).code == 0
    assert "--at x=2" not in (folder / "question.html").read_text()  # (a variant asks at another point)


C3 = Comparison("sigfig", digits=3)


def test_rounding_to_a_true_zero_and_through_a_saturated_tanh_is_no_error():
    """A second red team's honest students refused: db/dz is exactly 0 for b = (x/z)·z (the reference
    holds −2.8e-17), and from a = −0.214, da/dz = −0.153 (both right to 3 figures) the student gets
    z·ȧ + a = 0.0002; tanh(4.4) written 1.00 gives 1 − g² = 0 for a true 0.0018. Oracle: the
    arithmetic by hand from the student's own numbers. A far-off answer stays wrong."""
    ref, at = "input x, z\na = x / z\nb = a * z\ny = b + x\n", {"x": 0.3, "z": -1.4}
    for db, ok in ((0.0002, True), (0.0, True), (0.01, False), (5.0, False)):
        ans = {"a": -0.214, "b": 0.3, "da/dz": -0.153, "db/dz": db}
        assert grade_answers(ref, ans, at, quantities=list(ans), comparison=C3).items[-1].passed is ok, db
    ref, at = "input x, z\na = x * z\ng = tanh(a)\ny = g * 3\n", {"x": 2.2, "z": 2}
    ans = {"a": 4.4, "g": 1.0, "g_g": 3.0, "g_a": 0.0, "da/dx": 2.0, "dg/dx": 0.0}
    rep = grade_answers(ref, ans, at, quantities=list(ans), comparison=C3)
    assert all(i.passed for i in rep.items), [(i.name, i.message) for i in rep.items]


def test_a_wrong_constant_is_no_earlier_answer_to_carry():
    """`c = 3.7` is in the program's text: a student who answered c = 1 and went on with it solved an
    easier problem (a red team: 12/13). Steps that rest on it are not carried forward; a later
    step consistent with the (uncredited) a is, as error carried forward does."""
    ref, at = "c = 3.7\na = c * x\nb = exp(a)\ny = b + a\n", {"x": 0.5}
    ans = {"c": 1.0, "a": 0.5, "b": math.exp(0.5), "da/dx": 1.0}
    rep = grade_answers(ref, ans, at, quantities=list(ans), comparison=C3)
    assert [i.name for i in rep.items if not i.passed] == ["c", "a", "da/dx"]


def test_rounded_local_derivatives_as_explain_prints_them_and_a_null_is_no_answer():
    """An end-to-end student's finds: explain --digits 3 prints ė = 1.44·3 + (−12.5)·0.5, which is
    −1.93 (the unrounded factors give −1.916, 3 figures −1.92): "incorrect"; a key left null in the
    template got "not a number" where the README promises "no answer". Oracle: the arithmetic."""
    key = {"a": 6.0, "b": 0.693, "c": 0.639, "d": 403.0, "e": 8.66, "f": 0.106, "y": 412.0,
           "da/dx": 3.0, "db/dx": 0.5, "dc/dx": 0.385, "dd/dx": 1210.0}
    asked = [*key, "de/dx"]
    for de, ok in ((1.44 * 3 + -12.5 * 0.5, True), (-1.92, True), (-2.0, False)):
        rep = grade_answers(LECTURE, {**key, "de/dx": de}, {"x": X, "z": Z}, quantities=asked, comparison=C3)
        assert rep.items[-1].passed is ok, (de, rep.items[-1].message)
    rep = grade_answers(LECTURE, {**key, "de/dx": None}, {"x": X, "z": Z}, quantities=asked, comparison=C3)
    assert rep.items[-1].message == "no answer"


def test_a_whole_pass_gone_wrong_is_named():
    """An end-to-end student's find: a seed left 0 (every tangent by x 0) or the two passes swapped
    scored 12/19 and 11/19 with only "incorrect" lines. The points stay; the feedback says what to fix."""
    hand = by_hand(X, Z)
    asked = [q for q in hand if not (q.endswith("/dz") and q[1] in "bc")]  # (b, c do not read z)
    seed0 = {**{q: hand[q] for q in asked if q.endswith("/dz")}, **{q: 0.0 for q in asked if q.endswith("/dx")}}
    rep = grade_answers(LECTURE, seed0, {"x": X, "z": Z}, quantities=asked)
    assert any("Every tangent of the pass for x is 0" in f for f in rep.feedback)
    swapped = {q: (hand.get(q[:-1] + ("z" if q.endswith("x") else "x"), 0.0)) for q in asked}
    rep = grade_answers(LECTURE, swapped, {"x": X, "z": Z}, quantities=asked)
    assert any("Your tangents by x are those of the pass for z" in f for f in rep.feedback)
    rep = grade_answers(LECTURE, {q: hand[q] for q in asked}, {"x": X, "z": Z}, quantities=asked)
    assert rep.score == rep.max_score and not rep.feedback


def test_answers_in_the_other_mode_are_named_as_such():
    """A red team's find: forward mode's tangents sent to an assignment of adjoints (or the reverse)
    got "not asked in this assignment" once per key, and no word that the other mode was asked."""
    hand = by_hand(X, Z)
    adjoints = ["g_f", "g_e", "g_d", "g_c", "g_b", "g_a", "dy/dx", "dy/dz"]
    tangent_answers = {q: v for q, v in hand.items() if q.endswith("/dx")}
    rep = grade_answers(LECTURE, tangent_answers, {"x": X, "z": Z}, quantities=adjoints)
    assert any("asks for reverse mode's adjoints" in f for f in rep.feedback), rep.feedback
    asked = [q for q in hand if q.endswith("/dx") and q != "dy/dx"]
    rep = grade_answers(LECTURE, {"g_a": 404.854, "g_b": -12.36, "g_c": 1 / 6}, {"x": X, "z": Z}, quantities=asked)
    assert any("asks for forward mode's tangents" in f for f in rep.feedback), rep.feedback
    rep = grade_answers(LECTURE, {**tangent_answers, "g_a": 404.854}, {"x": X, "z": Z}, quantities=adjoints)
    assert not any("asks for" in f for f in rep.feedback)  # an adjoint answered: the mode was understood


def test_several_outputs_ask_the_jacobian_as_tangents_of_each_output(tmp_path):
    """A TA's find: `ask = ["dy1/dx"]` beside `output y1, y2` failed "asks for 'g_x', an adjoint".
    Each output's derivative is a tangent (a Jacobian column). Oracle: y2 = x·e^(−z) by hand, y1 by
    central differences in numpy; a wrong one fails, and the tangents group asks them all."""
    import numpy as np

    from graphlang.checker import Assignment
    (tmp_path / "r.cg").write_text("A = [[1, 2], [0, -1]]\nv = A @ [x, z]\nh = tanh(v)\ny1 = sum(h * h)\n"
                                   "y2 = x * exp(-z)\noutput y1, y2\n")
    (tmp_path / "a.toml").write_text('reference = "r.cg"\nat = { x = 0.5, z = -0.4 }\n'
                                     'ask = ["dy1/dx", "dy2/dz", "dy2/dx"]\n')
    asg = Assignment.load(tmp_path / "a.toml")

    def y1(x: float, z: float) -> float:
        return float(np.sum(np.tanh(np.array([[1, 2], [0, -1]]) @ [x, z]) ** 2))
    e = 1e-6
    truth = {"dy1/dx": (y1(0.5 + e, -0.4) - y1(0.5 - e, -0.4)) / (2 * e), "dy2/dz": -0.5 * np.exp(0.4),
             "dy2/dx": np.exp(0.4)}
    assert asg.grade_answers({k: float(v) for k, v in truth.items()}).score == 3
    wrong = asg.grade_answers({**{k: float(v) for k, v in truth.items()}, "dy1/dx": 1.49})
    assert wrong.score == 2 and not {i.name: i.passed for i in wrong.items}["dy1/dx"]
    (tmp_path / "a.toml").write_text('reference = "r.cg"\nat = { x = 0.5, z = -0.4 }\nask = ["tangents"]\n')
    assert {"dy1/dx", "dy2/dx", "dy1/dz", "dy2/dz"} <= set(Assignment.load(tmp_path / "a.toml").quantities)
