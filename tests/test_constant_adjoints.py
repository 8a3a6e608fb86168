"""The adjoint of a named constant that does not exist at the point: ∂(x^n)/∂n = x^n·ln(x) has no
real value at x < 0. It was shown as 0 (a wrong number a checker would grade against) and crashed
`explain`, `graph --partials`, `html` and the REPL. Now it is left out of `Result.adjoints` and the
JSON, named in `Result.extra["no_adjoint"]`, shown as "no finite value"/"undefined", left out of the
answers template, and the rest of the evaluation stands. Oracle: the closed forms x^n·ln(x) and
n·x^(n-1) (and SymPy where the base is positive)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp
from conftest import run_cli

import graphlang

POWER = "p = 3\ny = x ^ p\n"
SQUARES = "input x[2], t[2]\nn = 2\nr = x - t\nJ = 0.5 * sum(r ^ n)\n"


@pytest.mark.parametrize("x", [-1.5, -0.5, -2.0])
def test_the_adjoint_of_a_constant_exponent_of_a_negative_base_is_left_out_not_zero(x):
    g = graphlang.parse(POWER)
    for _ in range(3):  # interpreted, then the compiled paths: each falls back to the interpreter
        r = g.evaluate({"x": x})
        assert "p" not in r.adjoints and r.extra["no_adjoint"] == ["p"]
        assert r.adjoints["x"] == pytest.approx(3 * x ** 2, rel=1e-15)  # n·x^(n-1): the gradient stands
        assert r.gradient == {"x": pytest.approx(3 * x ** 2, rel=1e-15)}
        assert r.value == pytest.approx(x ** 3)


@pytest.mark.parametrize("x", [0.5, 1.5, 2.0])
def test_at_a_positive_base_the_adjoint_is_the_closed_form(x):
    r = graphlang.parse(POWER).evaluate({"x": x})
    xs, ps = sp.symbols("x p", positive=True)
    oracle = float(sp.diff(xs ** ps, ps).subs({xs: x, ps: 3}))
    assert r.adjoints["p"] == pytest.approx(oracle, rel=1e-13) == pytest.approx(x ** 3 * math.log(x))
    assert "no_adjoint" not in r.extra


def test_a_vector_of_residuals_with_one_negative_gives_the_exponent_adjoint_as_null(tmp_path):
    """The JSON's adjoints hold every named node (SPEC §3): one that does not exist at the point is
    null (it was left out, and a user's script reading adjoints["n"] failed), never a number."""
    (tmp_path / "sq.cg").write_text(SQUARES)
    ran = run_cli("run", str(tmp_path / "sq.cg"), "--at", "x=[3,-4],t=[1,1]", "--json")
    out = json.loads(ran.out)
    assert ran.code == 0 and out["adjoints"]["n"] is None and list(out["adjoints"]) == list(out["values"])
    assert out["gradient"] == {"x": [2.0, -5.0], "t": [-2.0, 5.0]}  # r, -r: the closed form of ½Σr²
    positive = json.loads(run_cli("run", str(tmp_path / "sq.cg"), "--at", "x=[3,4],t=[1,1]", "--json").out)
    r = np.array([2.0, 3.0])
    assert positive["adjoints"]["n"] == pytest.approx(0.5 * float(np.sum(r ** 2 * np.log(r))), rel=1e-13)
    text = run_cli("run", str(tmp_path / "sq.cg"), "--at", "x=[3,-4],t=[1,1]").out
    assert "g_n" in text and "no finite value at this point" in text


@pytest.mark.parametrize("argv", [["explain"], ["explain", "--json"], ["explain", "--format", "latex"],
                                  ["graph", "--partials"], ["graph", "--dot", "--partials"]])
def test_every_view_says_undefined_and_none_crashes(tmp_path, argv):
    (tmp_path / "pw.cg").write_text(POWER)
    ran = run_cli(argv[0], str(tmp_path / "pw.cg"), "--at", "x=-1.5", *argv[1:])
    assert ran.code == 0 and "Traceback" not in ran.err + ran.out, ran.err
    assert "undefined" in ran.out
    assert "6.75" in ran.out  # g_x = 3·(-1.5)²


def test_the_lesson_page_and_the_answers_template(tmp_path):
    (tmp_path / "pw.cg").write_text(POWER)
    page = tmp_path / "pw.html"
    ran = run_cli("html", str(tmp_path / "pw.cg"), "--at", "x=-1.5", "-o", str(page))
    assert ran.code == 0 and "undefined" in page.read_text()
    negative = json.loads(run_cli("check", str(tmp_path / "pw.cg"), "--at", "x=-1.5", "--template").out)
    positive = json.loads(run_cli("check", str(tmp_path / "pw.cg"), "--at", "x=1.5", "--template").out)
    # a constant's adjoint is never asked now (no pass to the inputs needs it), defined or not
    assert "g_p" not in negative and "g_p" not in positive and set(positive) == set(negative) == {"y", "g_y", "dy/dx"}


CHAIN = "n = 3\nm = n * 2\ny = x ^ m\n"  # the missing adjoint of m makes n's missing too


@pytest.mark.parametrize("argv", [["explain"], ["explain", "--json"], ["explain", "--format", "latex"],
                                  ["explain", "--node", "n"], ["graph", "--partials"]])
def test_a_constant_feeding_a_constant_is_undefined_too(tmp_path, argv):
    """explain and html crashed (KeyError 'g_m') when a missing adjoint fed another constant."""
    (tmp_path / "ch.cg").write_text(CHAIN)
    ran = run_cli(argv[0], str(tmp_path / "ch.cg"), "--at", "x=-1.5", *argv[1:])
    assert ran.code == 0 and "Traceback" not in ran.err, ran.err
    assert "undefined" in ran.out and ("-45.56" in ran.out or argv[-1] == "n")  # g_x = 6·(-1.5)^5
    r = graphlang.parse(CHAIN).evaluate({"x": -1.5})
    assert r.extra["no_adjoint"] == ["n", "m"] and r.gradient["x"] == pytest.approx(6 * (-1.5) ** 5)
    if "latex" in argv:
        assert "\\text{undefined}" in ran.out and " undefined" not in ran.out.replace("\\text{undefined}", "")


@pytest.mark.parametrize("source, at", [("p = 3\ny1 = x ^ p\ny2 = 2 * x\noutput y1, y2\n", "x=-1.5"),
                                        ("input x[2]\np = 3\ny = x ^ p\n", "x=[-1.5,2]")])
def test_with_several_or_vector_outputs_the_missing_adjoint_is_not_zero(tmp_path, source, at):
    """The per-component backward passes of explain and html turned the missing adjoint into 0."""
    (tmp_path / "m.cg").write_text(source)
    out = run_cli("explain", str(tmp_path / "m.cg"), "--at", at).out
    lines = [ln for ln in out.splitlines() if ln.strip().startswith("g_p") and "∂" in ln]
    assert lines and all(ln.rstrip().endswith("= undefined") for ln in lines), lines


def test_an_assignment_at_such_a_point_loads_and_grades(tmp_path):
    """`ask = ["values", "adjoints", "gradient"]` (or no ask) asked for g_p and refused to load."""
    (tmp_path / "ref.cg").write_text(POWER)
    (tmp_path / "a.json").write_text(json.dumps({"p": 3, "y": -3.375, "g_y": 1, "dy/dx": 6.75}))
    for ask in ('ask = ["values", "adjoints", "gradient"]\n', ""):
        (tmp_path / "asg.toml").write_text(f'reference = "ref.cg"\nat = {{ x = -1.5 }}\n{ask}')
        ran = run_cli("check", "--assignment", str(tmp_path / "asg.toml"), "--answers", str(tmp_path / "a.json"),
                      "--json")
        report = json.loads(ran.out)  # (p = 3, a named literal, is not asked: its value is in the question)
        assert ran.code == 0 and report["passed"] and report["score"] == report["max_score"] == 3, ran.out
        assert "ignored 'p': not asked in this assignment" in report["feedback"]


def test_a_worksheet_has_a_row_for_each_adjoint_graded_and_none_for_a_constant(tmp_path):
    """A named constant (k = 2.5) had a backward-pass row g_k on the worksheet that grading then
    ignored ("ignored 'g_k': not asked", a TA's find): the rows are the adjoints the answers
    template asks, and an adjoint asked by name gets its row."""
    (tmp_path / "ref.cg").write_text("k = 2.5\na = k * x\nb = a - z\nc = ln(b)\ny = c * sqrt(z) + 3 * a\n")
    for ask, want in [('["values", "adjoints", "gradient"]', None), ('["values", "g_a", "g_k", "gradient"]', "g_k")]:
        (tmp_path / "a.toml").write_text(f'reference = "ref.cg"\nat = {{ x = 1.2, z = 0.8 }}\nask = {ask}\n')
        ran = run_cli("exercise", "--assignment", str(tmp_path / "a.toml"), "-o", str(tmp_path / "s"))
        assert ran.code == 0, ran.err
        sheet = (tmp_path / "s" / "worksheet.md").read_text()
        rows = [ln.split("|")[1].strip() for ln in sheet.split("## Backward pass")[1].split("##")[0].splitlines()
                if ln.startswith("| g_")]
        template = json.loads(run_cli("check", str(tmp_path / "ref.cg"), "--at", "x=1.2,z=0.8", "--template").out)
        graded = [q for q in template if q.startswith("g_")]
        assert set(rows) == set(graded) | ({want} if want else set()) | {"g_x", "g_z"}
        assert ("g_k" in rows) == (want == "g_k")
