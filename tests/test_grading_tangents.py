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
    assert tangents == [f"d{n}/d{k}" for k in "xz" for n in "abcdef"]  # pass by pass, as forward mode goes
    key = asg.key()
    hand = by_hand(X, Z)
    assert all(key[q] == pytest.approx(hand[q], rel=1e-12, abs=1e-15) for q in tangents)
    rep = asg.grade_text(json.dumps({q: float(f"{v:.3g}") for q, v in key.items()}).encode(), "k.json")
    assert rep.score == rep.max_score == 21


def test_a_tangent_by_a_tensor_input_is_refused_up_front():
    with pytest.raises(graphlang.GraphlangError, match="not a number"):
        grade_answers("input v[2], s\nh = v * s\ny = sum(h)\n", {}, {"v": [1.0, 2.0], "s": 3.0},
                      quantities=["dh/dv"], comparison=Comparison("sigfig", digits=3))
    rep = grade_answers("input v[2], s\nh = v * s\ny = sum(h)\n", {"dh/ds": [1.0, 2.0]},
                        {"v": [1.0, 2.0], "s": 3.0}, quantities=["dh/ds"])
    assert rep.score == 1  # a vector node's tangent by a scalar input: ∂h/∂s = v
