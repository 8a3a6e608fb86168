"""assignment.toml and the grading traps a TA finds: every quantity counts, one maximum, a broken
reference or command line is a usage error before any student is graded, hidden reference values,
located JSON errors naming --answers, the reference's output graded past a trailing debug line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import PROGRAMS

import graphlang
from graphlang.checker import Assignment, Comparison, grade_answers, grade_program
from graphlang.grading.submissions import grade_batch

HW = PROGRAMS / "homework"
REF = (HW / "reference.cg").read_text()
AT = {"x": 2, "z": 3}
ASG = HW / "assignment.toml"
# The lecture's values, by hand from the closed forms: y = e^6 + 6/ln 2 + sin(ln 2)/6,
# dy/dx = 3e^6 + 3/ln 2 - 3/(ln 2)^2 + (cos(ln 2) - sin(ln 2))/12, dy/dz = 2e^6 + 2/ln 2 - sin(ln 2)/18.
L2 = math.log(2)
Y = math.exp(6) + 6 / L2 + math.sin(L2) / 6
DYDX = 3 * math.exp(6) + 3 / L2 - 3 / L2 ** 2 + (math.cos(L2) - math.sin(L2)) / 12
DYDZ = 2 * math.exp(6) + 2 / L2 - math.sin(L2) / 18


def test_the_shipped_assignment_grades_its_submissions_with_one_maximum():
    asg = Assignment.load(ASG)
    assert asg.max_score == 18 and len(asg.quantities) == 16  # 14 one-point quantities, the gradient 2 + 2
    scores = {}
    for p in sorted((HW / "submissions").iterdir()):
        rep = asg.grade_text(p.read_bytes(), p.name)
        assert rep.max_score == pytest.approx(18), p.name
        scores[p.name] = rep.score
    assert scores["correct.json"] == scores["rounded.json"] == scores["renamed.cg"] == scores["debug_line.cg"] == 18
    assert scores["unfinished.json"] == 1 and scores["not_json.json"] == 0 and scores["syntax_error.cg"] == 0
    assert scores["sign_slip.json"] == 16 and scores["log10.json"] == 17


def test_rounded_answers_meet_the_closed_form():
    rounded = json.loads((HW / "submissions" / "rounded.json").read_text())
    assert float(f"{Y:.3g}") == rounded["y"] and float(f"{DYDX:.3g}") == rounded["dy/dx"]
    assert float(f"{DYDZ:.3g}") == rounded["dy/dz"]


def test_every_quantity_counts_and_unanswered_is_no_answer():
    rep = grade_answers(REF, {"a": 6}, AT)
    assert rep.score == 1 and rep.max_score == 16 and not rep.passed
    assert sum(i.message == "no answer" for i in rep.items) == 15
    assert rep.to_gradescope()["max_score"] == 16


def test_the_points_of_an_assignment_are_one_maximum_for_programs_too():
    asg = Assignment.load(ASG)
    broken = asg.grade_program("y = x +* z")
    fine = asg.grade_program("y = exp(x*z) + x*z/ln(x) + sin(ln(x))/(x*z)")
    assert broken.max_score == pytest.approx(fine.max_score) == pytest.approx(18)
    assert fine.passed and broken.score == 0
    # without an assignment: the same items whether the program parses or not
    assert grade_program(REF, "y = x +* z", AT).max_score == grade_program(REF, "y = x * z", AT).max_score


@pytest.mark.parametrize("at", [{}, {"x": 2}, {"x": -1, "z": 3}])
def test_a_reference_that_cannot_be_evaluated_is_a_usage_error(at):
    for grade in (lambda: grade_answers(REF, {"a": 6}, at), lambda: grade_program(REF, REF, at)):
        with pytest.raises(graphlang.GraphlangError) as info:
            grade()
        assert info.value.kind == "usage"


def test_forgetting_at_grades_nobody(cli, tmp_path):
    (tmp_path / "a.json").write_text('{"a": 6}')
    ran = cli("check", str(HW / "reference.cg"), "--batch", str(tmp_path), "--jsonl")
    assert ran.code == 2 and ran.out == "" and "--at" in ran.err
    gs = tmp_path / "results.json"
    ran = cli("check", str(HW / "reference.cg"), "--answers", str(tmp_path / "a.json"), "--gradescope", str(gs))
    assert ran.code == 2 and not gs.exists()
    ran = cli("check", str(tmp_path / "missing.cg"), "--at", "x=2,z=3", "--answers", str(tmp_path / "a.json"))
    assert ran.code == 2


def test_answers_json_errors_are_located_and_name_answers(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 6,\n "b": 0.693\n "c": 0.639}\n')
    ran = cli("check", str(HW / "reference.cg"), "--at", "x=2,z=3", "--answers", str(bad), "--json")
    assert ran.code == 1
    feedback = ran.json()["feedback"][0]
    assert feedback.startswith(f"--answers {bad}") and "not valid JSON (line 3, column 2)" in feedback
    assert ran.json()["max_score"] == 16
    ran = cli("check", str(HW / "reference.cg"), "--at", "x=2,z=3", "--answers", str(tmp_path / "none.json"))
    assert ran.code == 2 and "--answers" in ran.err and "--at-file" not in ran.err


def test_reference_values_hidden_for_batches_and_on_request(tmp_path):
    wrong = "y = exp(x*z) + x*z/ln(x) - sin(ln(x))/(x*z)"
    shown = grade_program(REF, wrong, AT)
    hidden = grade_program(REF, wrong, AT, show_expected=False)
    want = f"{Y:.6g}"  # the reference's value at (2, 3), from the closed form
    assert want in json.dumps(shown.to_json()) and want not in json.dumps(hidden.to_json())
    answers = grade_answers(REF, {"y": 400}, AT, show_expected=False)
    assert all(i["expected"] is None for i in answers.to_json()["items"])
    (tmp_path / "w.cg").write_text(wrong)
    (tmp_path / "a.json").write_text('{"y": 400}')
    asg = Assignment.load(ASG)  # show_expected = false
    rows = list(grade_batch(asg.reference, str(tmp_path), asg.at,
                            {"answers": asg.answers_options(), "program": asg.program_options()}))
    assert len(rows) == 2 and want not in json.dumps(rows)
    assert {r["max_score"] for r in rows} == {18}


def test_cli_batch_hides_expected_values_by_default(cli, tmp_path):
    (tmp_path / "w.cg").write_text("y = exp(x*z) + x*z/ln(x) - sin(ln(x))/(x*z)")
    ran = cli("check", str(HW / "reference.cg"), "--at", "x=2,z=3", "--batch", str(tmp_path), "--jsonl")
    assert f"{Y:.6g}" not in ran.out
    ran = cli("check", str(HW / "reference.cg"), "--at", "x=2,z=3", "--batch", str(tmp_path), "--jsonl",
              "--show-expected")
    assert f"{Y:.6g}" in ran.out


def test_a_trailing_debug_line_is_not_the_graded_output():
    source = (HW / "submissions" / "debug_line.cg").read_text()
    rep = grade_program(REF, source, AT)
    assert rep.passed and any("Graded y" in f and "check" in f for f in rep.feedback)
    explicit = grade_program(REF, source + "output check\n", AT)  # the student chose the output
    assert not explicit.passed


def test_a_last_line_not_read_from_y_on_ys_own_line_is_graded_as_on_its_own():
    """A red team's find: `y = d + e + f; answer = 5 * x` scored 18/18 as "debug line after y" (the
    rule compared line numbers), where the same two statements on two lines grade `answer` and fail.
    The oracle: the program with the statements on lines of their own."""
    lines = REF.rstrip("\n") + "\nanswer = 5 * x\n"
    joined = REF.rstrip("\n") + "; answer = 5 * x\n"
    own, same = grade_program(REF, lines, AT), grade_program(REF, joined, AT)
    assert not own.passed and (same.passed, same.score) == (own.passed, own.score)



def test_an_intermediate_named_like_the_reference_output_is_not_graded_in_place_of_the_output():
    """`y = x * z` as an intermediate and `result = ...` the real output scored 7.2/18: the node
    named y was graded. y stands in for the last line only when every later statement is computed
    from it (debug lines); one node is graded, never the better of two (a red team's find)."""
    source = "y = x * z\nb = ln(x)\nresult = exp(y) + y / b + sin(b) / y\n"
    rep = grade_program(REF, source, AT)
    assert rep.passed and not any("Graded y" in f for f in rep.feedback)
    right = "exp(x * z) + x * z / ln(x) + sin(ln(x)) / (x * z)"
    two = grade_program(REF, f"y = x * z * 2\nguess = {right}\n", AT)  # a wrong y, then a second try
    assert two.passed and not any("Graded y" in f for f in two.feedback)  # the last line, as written
    other = grade_program(REF, f"guess = {right}\ny = x * z * 2\n", AT)
    assert not other.passed


def test_tolerances_per_quantity_from_the_assignment(tmp_path):
    (tmp_path / "ref.cg").write_text(REF)
    (tmp_path / "a.toml").write_text(
        'reference = "ref.cg"\nat = { x = 2, z = 3 }\nask = ["c", "y", "dy/dx"]\n'
        '[compare]\ncomparison = "relabs"\nrtol = 1e-5\n'
        '[quantities."∂y/∂x"]\ncomparison = "sigfig"\ndigits = 2\npoints = 3\n')
    asg = Assignment.load(tmp_path / "a.toml")
    assert asg.quantities == ["c", "y", "dy/dx"] and asg.max_score == 5
    rep = asg.grade_answers({"c": 0.6389, "y": Y, "dy/dx": 1200})
    items = {i.name: i for i in rep.items}
    # the reference's values hidden (the default): the hint depends on the answer alone
    assert items["c"].message == "incorrect (6 significant figures expected, for a relative tolerance of 1e-05; " \
        "it is read as 0.6389)"
    assert items["y"].passed and items["dy/dx"].passed and rep.score == 4  # 1200 is DYDX to 2 figures
    assert asg.comparisons["dy/dx"] == Comparison("sigfig", 1e-5, 1e-8, 2)
    (tmp_path / "a.toml").write_text("show_expected = true\n" + (tmp_path / "a.toml").read_text())
    shown = Assignment.load(tmp_path / "a.toml").grade_answers({"c": 0.6389, "y": Y, "dy/dx": 1200})
    assert {i.name: i.message for i in shown.items}["c"] == "close: check your rounding (6 significant figures " \
        f"expected, for a relative tolerance of 1e-05); the reference's value is {math.sin(math.log(2)):.6g}"


def test_hidden_values_give_no_digit_oracle():
    """With the reference's values hidden, "close: check your rounding" would say which leading digits
    of a probe (0.6, 0.63, 0.638, …) are right. Oracle: the right value c = sin(ln 2) = 0.638961…;
    every probe, right digits or not, gets a message that depends on the probe alone."""
    c = math.sin(math.log(2))
    right = [float(f"{c:.{k}g}") for k in range(1, 5)]  # 0.6, 0.64, 0.639, 0.639
    wrong = [0.7, 0.65, 0.637, 0.6381]
    for shown in (False, True):
        msgs = {}
        for probe in right + wrong:
            rep = grade_answers(REF, {"c": probe}, AT, comparison=Comparison("sigfig", digits=5), show_expected=shown)
            msgs[probe] = {i.name: i.message for i in rep.items}["c"]
        if shown:
            assert all(msgs[p].startswith("close") for p in right)
            assert all(msgs[p] == f"incorrect; the reference's value is {c:.6g}" for p in wrong)
        else:
            assert not any("close" in m for m in msgs.values())
            for probe in right + wrong:  # the same words for a right and a wrong probe of as many figures
                assert msgs[probe] == f"incorrect (5 significant figures expected; it is read as {probe!r})"


@pytest.mark.parametrize("text,where", [
    ('reference = "reference.cg"\nat = { x = 2, z = 3 }\npoint = 3\n', "unknown key(s) point"),
    ('reference = "reference.cg"\nat = { x = 2, z = \n', "not valid TOML"),
    ('at = { x = 2, z = 3 }\n', "give the reference program"),
    ('reference = "reference.cg"\nat = { x = 2 }\n', "cannot be evaluated"),
    ('reference = "reference.cg"\nat = { x = 2, z = 3 }\nask = ["zz"]\n', "'zz'"),
    ('reference = "reference.cg"\nat = { x = 2, z = 3 }\n[quantities.zz]\npoints = 2\n', "quantities.'zz'"),
    ('reference = "reference.cg"\nat = { x = 2, z = 3 }\n[compare]\ncomparison = "close"\n', "comparison must be"),
    ('reference = "reference.cg"\nat = { x = 2, z = 3 }\n[limits]\ntimeout = 0\n', "timeout"),
    ('reference = "reference.cg"\nat = { x = 2, z = 3 }\nvisibility = "students"\n', "visibility"),
    ('reference = "reference.cg"\nat = { x = 2, z = 3 }\n[program]\nweights = { parse = 0 }\n', "'parse'"),
    ('reference = "reference.cg"\nat = { x = 2, z = 3 }\n[program]\nweights = { value = -1 }\n', "weights.value"),
    ('reference = "reference.cg"\nat = { x = 2, z = 3 }\n[program]\n'
     'weights = { parses = 0, inputs = 0, value = 0, derivatives = 0, defines = 5 }\n', "weighs 0, so no submission"),
])
def test_assignment_mistakes_are_usage_errors(text, where):
    with pytest.raises(graphlang.GraphlangError) as info:
        Assignment.from_toml(text, HW, "a.toml")
    assert info.value.kind == "usage" and where in info.value.message, info.value.message


def test_toml_syntax_errors_are_located(cli, tmp_path):
    (tmp_path / "a.toml").write_text('reference = "x.cg"\nat = { x = 2,, z = 3 }\n')
    ran = cli("check", "--assignment", str(tmp_path / "a.toml"), "--answers", str(HW / "student_correct.json"))
    assert ran.code == 2 and ":2:" in ran.err and "not valid TOML" in ran.err


def test_an_assignment_mistake_names_its_file_once(cli, tmp_path):
    bad = tmp_path / "a.toml"
    bad.write_text(f'reference = "{HW / "reference.cg"}"\nat = {{ x = 2, z = 3 }}\n'
                   '[program]\nweights = { value = -1 }\n')
    ran = cli("check", "--assignment", str(bad), "--submission", str(HW / "student_ok.cg"))
    assert ran.code == 2 and "weights.value" in ran.err and ran.err.count("a.toml") == 1, ran.err
    with pytest.raises(graphlang.GraphlangError) as info:  # the Python API: the file is in the message
        Assignment.load(bad)
    assert info.value.message.startswith(f"{bad}: ")


def test_cli_check_assignment_and_shortcuts(cli):
    ran = cli("check", "--assignment", str(ASG), "--answers", str(HW / "student_correct.json"), "--json")
    assert ran.code == 0 and ran.json()["score"] == ran.json()["max_score"] == 18
    tpl = cli("check", "--assignment", str(ASG), "--template").json()
    assert list(tpl) == Assignment.load(ASG).quantities
    both = cli("check", str(HW / "reference.cg"), "--assignment", str(ASG), "--answers",
               str(HW / "student_correct.json"))
    assert both.code == 2
    prog = cli("check", "--assignment", str(ASG), "--submission", str(HW / "student_ok.cg"), "--points", "3", "--json")
    assert prog.code == 0 and "3 points" in prog.json()["feedback"][-1]


def test_assignment_round_trips_through_toml():
    asg = Assignment.load(ASG)
    again = Assignment.from_toml(asg.to_toml())
    assert again.quantities == asg.quantities and again.max_score == asg.max_score
    assert again.comparison == asg.comparison and again.points == asg.points
    assert again.key() == asg.key()


def test_gradescope_visibility():
    rep = grade_answers(REF, {"a": 6}, AT)
    assert {t["visibility"] for t in rep.to_gradescope("after_published")["tests"]} == {"after_published"}
    with pytest.raises(graphlang.GraphlangError):
        rep.to_gradescope("later")


def test_tomli_is_the_fallback_on_python_310():
    import tomllib  # noqa: F401  (3.11+: the standard library; the dependency marker covers 3.10)

    text = (PROGRAMS.parent / "pyproject.toml").read_text()
    assert """'tomli; python_version < "3.11"'""" in text


def test_the_readme_walkthrough_runs_as_written(cli, tmp_path, monkeypatch):
    """Every `graphlang check` line of the README's homework block, in a copy of programs/homework."""
    import re
    import shlex
    import shutil

    readme = (PROGRAMS.parent / "README.md").read_text()
    block = re.search(r"## Grading homework.*?```bash\n(.*?)```", readme, re.S).group(1)
    shutil.copytree(HW, tmp_path / "homework")
    monkeypatch.chdir(tmp_path / "homework")
    lines = [ln for ln in block.splitlines() if ln.startswith("graphlang check")]
    assert len(lines) >= 9
    for line in lines:
        command, _, comment = line.partition("#")
        ran = cli(*shlex.split(command)[1:])
        assert ran.code in (0, 1) and "Traceback" not in ran.err, line
        if "18/18" in comment:
            assert ran.code == 0, line
        for claim in ("1/18", "17/18", "not valid JSON (line 3, column 2)", "close: check your rounding"):
            if claim.split(" …")[0] in comment:
                assert claim in ran.out.replace("\n", " ") or claim.replace(" ", "") in ran.out.replace(" ", ""), line


def test_same_signs_keeps_every_checked_point_in_the_problems_quadrant(tmp_path):
    """A problem posed for x, z > 0: `ln(x) + ln(z)` for `ln(x z)` failed at the checker's points
    with both signs turned. `[program] same_signs = true` keeps each input's sign (staff's choice;
    by default a submission must be right wherever the reference is). Oracle: ln(xz) = ln x + ln z
    exactly where x, z > 0."""
    from graphlang.grading.points import sample_points
    (tmp_path / "ref.cg").write_text("y = ln(x * z) + x^2\n")
    base = 'reference = "ref.cg"\nat = { x = 2, z = 3 }\nask = ["y"]\n'
    (tmp_path / "both.toml").write_text(base)
    (tmp_path / "same.toml").write_text(base + "[program]\nsame_signs = true\n")
    rewrite = "y = ln(x) + ln(z) + x^2\n"
    assert not Assignment.load(tmp_path / "both.toml").grade_program(rewrite).passed
    same = Assignment.load(tmp_path / "same.toml")
    assert same.same_signs and same.grade_program(rewrite).passed
    assert not same.grade_program("y = ln(x) + ln(z) + x^3\n").passed  # still wrong where it is defined
    pts = sample_points(same.reference, same.at, 10, 0, same_signs=True)
    assert len(pts) == 10 and all(float(p["x"]) > 0 and float(p["z"]) > 0 for p in pts)
    assert Assignment.load(tmp_path / "same.toml").to_table()["program"]["same_signs"] is True
    (tmp_path / "bad.toml").write_text(base + '[program]\nsame_signs = "yes"\n')
    with pytest.raises(graphlang.GraphlangError) as err:
        Assignment.load(tmp_path / "bad.toml")
    assert err.value.kind == "usage" and "same_signs" in err.value.message


def test_weights_let_staff_give_nothing_for_a_program_that_only_parses(tmp_path):
    """By default each check weighs the same, so a wrong program with the right inputs earned 2 of 5
    (parses, inputs). Oracle: the programs' own arithmetic — y = x·z + x is not the reference, the
    reference itself is."""
    (tmp_path / "ref.cg").write_text("a = x * z\ny = sin(a) + x\n")
    base = 'reference = "ref.cg"\nat = { x = 2, z = 3 }\nask = ["y"]\npoints = 10\n'
    (tmp_path / "plain.toml").write_text(base + 'submit = "either"\n')  # (no [program] table: answers alone)
    (tmp_path / "weighted.toml").write_text(base + "[program]\nweights = { parses = 0, inputs = 0, derivatives = 2 }\n")
    wrong, right = "a = x * z\ny = a + x\n", "y = sin(x * z) + x\n"
    plain, weighted = Assignment.load(tmp_path / "plain.toml"), Assignment.load(tmp_path / "weighted.toml")
    assert plain.grade_program(wrong).score == pytest.approx(plain.max_score * 2 / 5)
    got = weighted.grade_program(wrong)
    assert got.score == 0 and got.max_score == weighted.max_score == plain.max_score
    full = weighted.grade_program(right)
    assert full.passed and full.score == pytest.approx(weighted.max_score)
    by = {i.name: i.max_score for i in full.items}  # value 1 : each derivative 2, nothing for the rest
    assert "program parses and checks" not in by and "inputs" not in by  # weighted 0: left out
    assert by["dy/dx"] == by["dy/dz"] == pytest.approx(2 * by["output value"])
    half = weighted.grade_program("y = sin(x * z) + 2 * x\n")  # dy/dz right, value and dy/dx wrong
    assert half.score == pytest.approx(weighted.max_score * 2 / 5)
    again = Assignment.from_toml(weighted.to_toml(), tmp_path, "again.toml")
    assert again.program_weights == weighted.program_weights
    broken = weighted.grade_program("y = sin(x *\n")  # the reason a batch table gives: the syntax error
    assert broken.score == 0 and broken.root_cause == "program parses and checks"  # (it said "output value")


def test_a_check_weighted_0_is_left_out_and_scores_are_exactly_the_maximum(tmp_path):
    """A check weighted 0 neither failed a full-marks submission nor was its first disagreement; a
    reference without inputs has no derivative checks, so weighing the rest 0 is a usage error; the
    scaled points add up to the assignment's maximum exactly (they were off in the last digit).
    Oracle: y = exp(xz) + xz/ln x + sin(ln x)/(xz) + 1 differs from the lecture's y by 1 (same
    derivatives)."""
    (tmp_path / "ref.cg").write_text((PROGRAMS / "lecture13.cg").read_text())
    base = 'reference = "ref.cg"\nat = { x = 2, z = 3 }\n[program]\ncheck_points = 3\n'
    (tmp_path / "v0.toml").write_text(base + "weights = { value = 0 }\n")
    shifted = "a = x * z\ny = exp(a) + a / ln(x) + sin(ln(x)) / a + 1\n"
    got = Assignment.load(tmp_path / "v0.toml").grade_program(shifted)
    assert got.passed and got.score == got.max_score and got.root_cause is None
    assert "output value" not in [i.name for i in got.items]
    assert any("not graded by this assignment" in line for line in got.feedback)
    (tmp_path / "ulp.toml").write_text(base + "weights = { parses = 0, inputs = 0, value = 3, derivatives = 2 }\n")
    ulp = Assignment.load(tmp_path / "ulp.toml")
    right = ulp.grade_program((PROGRAMS / "lecture13.cg").read_text())
    assert right.score == right.max_score == ulp.max_score  # exactly
    (tmp_path / "const.cg").write_text("y = 3 * 2\n")
    (tmp_path / "const.toml").write_text('reference = "const.cg"\nat = {}\n[program]\n'
                                         "weights = { parses = 0, inputs = 0, value = 0 }\n")
    with pytest.raises(graphlang.GraphlangError) as err:
        Assignment.load(tmp_path / "const.toml")
    assert err.value.kind == "usage" and "derivatives only when the reference has inputs" in (err.value.hint or "")


def _made_up(a: float, b: float, x: float = 2.0, z: float = 3.0) -> dict:
    """Every later step computed by hand from made-up first steps a and b (a red team's script)."""
    c, d, e, f = math.sin(b), math.exp(a), a / b, math.sin(b) / a
    g_c, g_b = 1.0 / a, math.cos(b) / a - a / b ** 2
    g_a = math.exp(a) + 1.0 / b - c / a ** 2
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "y": d + e + f, "g_f": 1.0, "g_e": 1.0,
            "g_d": 1.0, "g_c": g_c, "g_b": g_b, "g_a": g_a, "dy/dx": g_a * z + g_b / x, "dy/dz": g_a * x}


@pytest.mark.parametrize("ecf,share", [(True, 1.0), (0.5, 0.5), (0.25, 0.25), (False, 0.0)])
def test_ecf_may_credit_a_share_of_a_carried_step(tmp_path, ecf, share):
    """A red team's find: made-up first steps (a = b = 1) with every later step computed from them
    scored most of the points by error carried forward. A course may give such steps a share of
    their points (`ecf = 0.5`); true and false stay all and none. Oracle: the steps computed by hand,
    and the same answers graded with full credit for carried steps."""
    (tmp_path / "ref.cg").write_text(REF)
    shown = "true" if ecf is True else "false" if ecf is False else repr(ecf)
    text = 'reference = "ref.cg"\nat = { x = 2, z = 3 }\necf = %s\n'
    (tmp_path / "a.toml").write_text(text % shown)
    rep = Assignment.load(tmp_path / "a.toml").grade_answers(_made_up(1.0, 1.0))
    (tmp_path / "full.toml").write_text(text % "true")
    full = Assignment.load(tmp_path / "full.toml").grade_answers(_made_up(1.0, 1.0))
    carried = sum(i.max_score for i in full.items if i.ecf)
    direct = sum(i.score for i in full.items if i.passed and not i.ecf)
    assert carried >= 8 and full.score == direct + carried
    assert rep.score == pytest.approx(direct + share * carried) and rep.max_score == full.max_score
    assert all(i.passed == (ecf is True) for i in rep.items if i.ecf)
    assert Assignment.load(tmp_path / "a.toml").to_table()["ecf"] == ecf  # written back as read


@pytest.mark.parametrize("bad", ["1.5", "-0.1", '"half"'])
def test_an_ecf_share_outside_0_to_1_is_the_courses_mistake(tmp_path, bad):
    (tmp_path / "ref.cg").write_text(REF)
    (tmp_path / "a.toml").write_text(f'reference = "ref.cg"\nat = {{ x = 2, z = 3 }}\necf = {bad}\n')
    with pytest.raises(graphlang.GraphlangError) as info:
        Assignment.load(tmp_path / "a.toml")
    assert info.value.kind == "usage" and "ecf" in info.value.message


@pytest.mark.parametrize("table", ['[compare]\ncomparison = "relabs"\ndigits = 3\n',
                                   '[compare]\ncomparison = "sigfig"\nrtol = 0.01\n',
                                   '[compare]\ncomparison = "sigfig"\ndigits = 3\n[quantities.a]\natol = 0.1\n'])
def test_an_option_the_comparison_does_not_use_is_the_courses_mistake(tmp_path, table):
    """`comparison = "relabs"` with `digits = 3` was accepted and digits ignored (rtol fell back to
    1e-5: right 4-figure answers failed "5 significant figures expected"), a TA's find."""
    (tmp_path / "ref.cg").write_text(REF)
    (tmp_path / "a.toml").write_text(f'reference = "ref.cg"\nat = {{ x = 2, z = 3 }}\n{table}')
    with pytest.raises(graphlang.GraphlangError) as info:
        Assignment.load(tmp_path / "a.toml")
    assert info.value.kind == "usage" and "does not apply to comparison" in info.value.message


def _sig3(v: float) -> float:
    return float(f"{v:.3g}")


def test_a_student_who_rounds_every_step_to_3_figures_gets_full_marks():
    """Rounding each step to 3 significant figures and going on from the rounded numbers (as the
    worksheet asks: "write 3 significant figures") lost points for right work (a TA's find: 15/18),
    while a *wrong* earlier answer got the later ones credited by error carried forward. Oracle: the
    lecture's chain rule by hand, each step from the previous steps' rounded numbers."""
    x, z = 2.0, 3.0
    a = _sig3(x * z)
    b = _sig3(math.log(x))
    c = _sig3(math.sin(b))
    d = _sig3(math.exp(a))
    e = _sig3(a / b)
    f = _sig3(c / a)
    y = _sig3(d + e + f)
    g_c = _sig3(1 / a)
    g_b = _sig3(g_c * math.cos(b) - a / b ** 2)
    g_a = _sig3(d + 1 / b - c / a ** 2)
    answers = {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "y": y, "g_y": 1, "g_f": 1, "g_e": 1,
               "g_d": 1, "g_c": g_c, "g_b": g_b, "g_a": g_a, "dy/dx": _sig3(g_a * z + g_b / x),
               "dy/dz": _sig3(g_a * x)}
    asg = Assignment.load(ASG)
    rep = asg.grade_text(json.dumps(answers).encode(), "rounded_chain.json")
    assert rep.score == 18, [(i.name, i.message) for i in rep.items if not i.passed]
    assert any("rounded" in i.message for i in rep.items) and not any(i.ecf for i in rep.items)
    wrong = asg.grade_text(json.dumps({**answers, "f": _sig3(f * 1.5)}).encode(), "slip.json")
    assert not next(i for i in wrong.items if i.name == "f").passed  # (a wrong step is still wrong)


CROSS_ENTROPY = ("input x, y\nparam w, b\nu = w * x + b\np = sigmoid(u)\n"
                 "J = -(y * ln(p) + (1 - y) * ln(1 - p))\n")


def test_an_answers_assignment_asks_no_derivative_by_a_label(tmp_path):
    """A TA's find: the README says no derivative by a `fixed` label is graded, but `ask = ["gradient"]`
    asked (and graded) dJ/dy for answers files, Gradescope and PrairieLearn."""
    (tmp_path / "ref.cg").write_text(CROSS_ENTROPY)
    (tmp_path / "a.toml").write_text('reference = "ref.cg"\nat = { x = 0.5, y = 1, w = 0.3, b = -0.2 }\n'
                                     'ask = ["gradient"]\nfixed = ["y"]\n')
    assert Assignment.load(tmp_path / "a.toml").quantities == ["dJ/dx", "dJ/dw", "dJ/db"]
    (tmp_path / "a.toml").write_text('reference = "ref.cg"\nat = { x = 0.5, y = 1, w = 0.3, b = -0.2 }\n'
                                     'ask = ["gradient"]\n')
    assert "dJ/dy" in Assignment.load(tmp_path / "a.toml").quantities  # (not a label: asked)


def test_a_label_is_checked_at_label_values_and_not_differentiated():
    """A label y checked at y = 0.54 failed a right program written for y in {0, 1} (a TA's find:
    3.56/16), and ∂J/∂y was graded. `fixed = ["y"]` now draws 0 or 1 at each point and grades no
    derivative by y; a program right only for y = 1 still fails. Oracle: the math of each form."""
    at = {"x": 0.5, "y": 1, "w": 0.3, "b": -0.2}
    mixture = CROSS_ENTROPY.replace("J = -(y * ln(p) + (1 - y) * ln(1 - p))", "J = -ln(y * p + (1 - y) * (1 - p))")
    only_y1 = CROSS_ENTROPY.replace("J = -(y * ln(p) + (1 - y) * ln(1 - p))", "J = -ln(p)")
    right = grade_program(CROSS_ENTROPY, mixture, at, fixed=["y"])
    assert right.passed and "dJ/dy" not in [i.name for i in right.items]
    assert not grade_program(CROSS_ENTROPY, mixture, at).passed  # (y = 0.54: not a label)
    assert not grade_program(CROSS_ENTROPY, only_y1, at, fixed=["y"]).passed
    with pytest.raises(graphlang.GraphlangError, match="fixed: 't' is not an input"):
        grade_program(CROSS_ENTROPY, mixture, at, fixed=["t"])


def test_a_one_hot_label_stays_one_hot():
    from graphlang.grading.points import is_label, label_like
    drawn = [label_like(np.array([0.0, 1.0, 0.0]), k) for k in range(3)]
    assert all(sorted(d.tolist()) == [0, 0, 1] for d in drawn) and len({tuple(d) for d in drawn}) == 3
    rows = label_like(np.array([[1.0, 0, 0], [0, 0, 1.0]]), 1)
    assert rows.tolist() == [[0, 1, 0], [1, 0, 0]]
    assert not is_label(0.54) and not is_label([0.5, 0.5]) and is_label(1) and is_label([[0, 1], [1, 0]])


def test_an_unused_extra_input_costs_its_check_and_not_the_rest():
    """`input x, z, q` with q read by nothing scored like a hard-coded program (3.6/18, a TA's find):
    only "inputs" fails; a q the output reads still stops the grading (its value is unknown)."""
    unused = grade_program(REF, "input x, z, q\n" + REF, AT)
    failed = [i.name for i in unused.items if not i.passed]
    assert failed == ["inputs"] and "read by nothing" in unused.items[1].message
    assert unused.root_cause == "inputs"
    used = grade_program(REF, REF.replace("y = d + e + f", "y = d + e + f + 0 * q"), AT)
    assert [i.name for i in used.items if i.passed] == ["program parses and checks"]


def test_a_file_of_the_other_kind_says_so():
    """Answers saved as .cg got "unexpected character '{' … replace it with an operator", and a
    program saved as .json only "not valid JSON" (a TA's finds): each now says what it looks like."""
    from graphlang.grading.answers_file import parse_answers
    rep = grade_program(REF, '{"a": 6, "b": 0.693}\n', AT)
    assert not rep.passed and "submit it as a .json file" in rep.feedback[-1]
    answers, why = parse_answers(REF.encode())
    assert answers is None and why.endswith("it looks like a .cg program: submit it as a .cg file")
    assert "looks like" not in parse_answers(b'{"a": 6,')[1]


def test_an_ignored_key_says_what_it_probably_meant():
    """`dy/dX`, `dydx` and answers grouped under "values" were only "ignored: names no node" (a TA's
    finds): the feedback names the unanswered quantity, or says answers go at the top level."""
    rep = grade_answers(REF, {"dydX": 1.0, "values": {"a": 6}}, AT, quantities=["a", "dy/dx"])
    notes = " ".join(rep.feedback)
    assert "'dydX': it names no node or adjoint of the program; did you mean 'dy/dx'?" in notes
    assert "'values': it names no node or adjoint of the program; write each answer at the top level" in notes
    assert "did you mean" not in " ".join(grade_answers(REF, {"q": 1.0}, AT, quantities=["a"]).feedback)


def test_rounding_never_turns_a_sign():
    """y = 1/(b − 1.4142) with b = √2: from b = 1.41 (right to 3 figures) comes y = −238, the true y
    is 73,733. Rounding explains a small change, never a sign: −238 is no rounded 73,700."""
    ref = "b = sqrt(x)\ny = 1 / (b - 1.4142)\n"
    how = Comparison("sigfig", digits=3)
    rep = grade_answers(ref, {"b": 1.41, "y": 1 / (1.41 - 1.4142)}, {"x": 2}, quantities=["b", "y"],
                        comparison=how, show_expected=False)
    assert [i.passed for i in rep.items] == [True, False] and "rounded" not in rep.items[1].message


def test_rounding_is_no_licence_to_be_wrong():
    """A red team scored 18/18 with five answers 4-18 times the tolerance off: exact answers (a = 6,
    g_d = 1) counted as rounded by ±0.0051, and the slack compounded. Now an exact answer rounds
    nothing, and a true 0 never becomes a rounded 5. Oracle: the key with d, y, g_a, dy/dx, dy/dz
    moved (by numpy: 403.43 → 406.0 and the rest), each wrong by itself and by its inputs."""
    asg = Assignment.load(ASG)
    key = {"a": 6.0, "b": 0.693147, "c": 0.638961, "d": 406.0, "e": 8.65617, "f": 0.106494, "y": 415.77,
           "g_y": 1.0, "g_f": 1.0, "g_e": 1.0, "g_d": 1.0, "g_c": 0.166667, "g_b": -12.36, "g_a": 409.49,
           "dy/dx": 1227.4, "dy/dz": 819.0}
    rep = asg.grade_text(json.dumps(key).encode(), "c.json")
    assert not any("rounded" in i.message for i in rep.items)
    assert {i.name for i in rep.items if not i.passed} == {"d", "g_a"}  # (y, dy/dx, dy/dz: error carried)
    strict = grade_answers("a = x * z\nb = relu(a - 6)\nc = 1000 * b\n", {"a": 6, "b": 0.005, "c": 5},
                           AT, quantities=["a", "b", "c"], comparison=Comparison("sigfig", digits=3), ecf=False)
    assert [i.passed for i in strict.items] == [True, True, False]  # (c = 0: not a rounded 5)


def test_labels_take_every_class_and_a_non_label_is_no_label():
    """One-hot classes drawn at random saw 6 of 10 at ten points (a loss wrong for the other four
    passed), and `fixed` on a value that is no label (0.54, or x = 2) froze it: a program with 0.54
    written in scored full marks. Classes now come in turn; a non-label `fixed` input moves."""
    ref = "input u[4], t[4]\nJ = -sum(t * logsoftmax(u))\n"
    at = {"u": [0.5, -1.0, 2.0, 0.1], "t": [0, 1, 0, 0]}
    wrong = ref.replace("J = -sum(t * logsoftmax(u))", "J = -sum(t * logsoftmax(u)) + 10 * t[3]")
    assert not grade_program(ref, wrong, at, fixed=["t"]).passed
    assert grade_program(ref, ref, at, fixed=["t"]).passed
    frozen = grade_program(CROSS_ENTROPY, CROSS_ENTROPY.replace("y * ln(p) + (1 - y)", "0.54 * ln(p) + 0.46"),
                           {"x": 0.5, "y": 0.54, "w": 0.3, "b": -0.2}, fixed=["y"])
    assert not frozen.passed


def test_an_extra_input_beside_a_debug_line_and_a_dead_division():
    """`input x, w, z` with `check = y * w` after y, or a dead `dbg = 1/(w - 1)`: 3.6/18 (the extra
    input was set to 1, and the debug-line rule asked for every check to pass): now only "inputs"."""
    for extra in ("check = y * w\n", "dbg = 1 / (w - 1)\ny2 = y\n"):
        rep = grade_program(REF, "input x, w, z\n" + REF + extra, AT)
        assert [i.name for i in rep.items if not i.passed] == ["inputs"], extra


def test_a_rounded_step_keeps_the_answers_sign_too():
    """a = 6.004, b = 1000a − 5999 = 5: from a = 6.00 the step is 1, and b = −4 passed as "rounded"
    (a second red team's find): the answer itself must keep the true value's sign."""
    rep = grade_answers("a = x * z\nb = 1000 * a - 5999\n", {"a": 6.00, "b": -4.0}, {"x": 2, "z": 3.002},
                        quantities=["a", "b"], comparison=Comparison("sigfig", digits=3), ecf=False)
    assert [i.passed for i in rep.items] == [True, False]


def test_an_exact_element_beside_a_rounded_one_rounds_nothing():
    """A red team's find: a = [6, 1.85] (6 exact, 1.85 rounded from 1.8549) let b[0] = 1000·(a[0] − 5.999)
    move by ±5 (6 was taken as rounded to ±0.005 because its neighbour was): b[0] = 5.9 for a true 1
    passed as "right from your own rounded earlier answers". Oracle: b by hand, 1000·(6 − 5.999) = 1,
    and from the rounded a[1], 1000·(1.85 − 1.8) = 50 (true 54.9: rounding's own credit, kept)."""
    ref = "input x[2], z\na = x * z\nb = 1000 * (a - [5.999, 1.8])\n"
    how = Comparison("sigfig", digits=3)
    for b0, ok in ((1.0, True), (3.0, False), (5.9, False)):
        rep = grade_answers(ref, {"a": [6.0, 1.85], "b": [b0, 50.0]}, {"x": [2, 0.6183], "z": 3},
                            quantities=["a", "b"], comparison=how, ecf=False)
        assert [i.passed for i in rep.items] == [True, ok], b0
        assert not ok or "rounded" in rep.items[1].message


def test_a_template_is_refused_where_grading_its_answers_would_be(cli, write):
    """A red team's find: `check r.cg --template` printed a "g_a" key for a reference with nodes a and
    g_a, and grading the filled template was then refused (the key means either)."""
    ref = write("a = x * z\ng_a = sin(a)\ny = g_a + a\n", "r.cg")
    tpl = cli("check", ref, "--at", "x=1,z=2", "--template")
    assert tpl.code == 2 and "g_a" in tpl.err and not tpl.out
    answers = write(json.dumps({"a": 2.0}), "a.json")
    graded = cli("check", ref, "--at", "x=1,z=2", "--answers", answers)
    assert graded.code == 2 and tpl.err.split("usage error: ")[1] == graded.err.split("usage error: ")[1]


def test_an_error_in_the_reference_program_is_shown_in_that_file(tmp_path, cli):
    """`check --assignment a.toml` with an unclosed '(' on line 3 of the reference said only
    "a.toml: usage error: '(' is never closed" (line and column null in --json): the reference's file,
    line, column and caret are shown, as `check ref.cg` does."""
    (tmp_path / "ref.cg").write_text("a = x * z\nb = ln(x)\nc = sin(b\ny = a + c\n")
    (tmp_path / "a.toml").write_text('reference = "ref.cg"\nat = { x = 2, z = 3 }\n')
    (tmp_path / "ans.json").write_text('{"dy/dx": 1}')
    with pytest.raises(graphlang.GraphlangError) as info:
        Assignment.load(tmp_path / "a.toml")
    assert (info.value.line, info.value.column) == (3, 8) and info.value.origin[0].endswith("ref.cg")
    ran = cli("check", "--assignment", str(tmp_path / "a.toml"), "--answers", str(tmp_path / "ans.json"), "--json")
    assert ran.code == 2 and "ref.cg:3:8:" in ran.err and "c = sin(b" in ran.err
    assert json.loads(ran.out)["error"]["line"] == 3


def test_show_expected_gives_a_wrong_answer_the_reference_value():
    """`show_expected = true` showed answers nothing but "incorrect" (only program submissions said
    "expected 412.191"). Oracle: ln 2 and the lecture's dy/dx by hand."""
    b, dydx = math.log(2), 1208.3812151266096
    for shown in (True, False):
        rep = grade_answers(REF, {"b": math.log10(2), "dy/dx": -dydx}, AT, show_expected=shown)
        msgs = {i.name: i.message for i in rep.items if i.name in ("b", "dy/dx")}
        if shown:
            assert msgs == {"b": f"incorrect; the reference's value is {b:.6g}",
                            "dy/dx": f"incorrect: the sign is wrong; the reference's value is {dydx:.6g}"}
        else:
            assert msgs == {"b": "incorrect", "dy/dx": "incorrect"} and "0.693" not in str(rep.to_json())


def test_an_adjoint_the_output_does_not_read_is_not_asked(tmp_path):
    """p = sigmoid(u) beside a loss written on the logit: g_p is 0 by construction, and a student
    working by hand wrote -1/p and lost a point on it (a TA's find). p's value is still asked."""
    from graphlang.grading.checker import default_quantities
    ref = "u = w * x + b\np = sigmoid(u)\nJ = softplus(u) - y * u\n"
    (tmp_path / "ref.cg").write_text(ref)
    (tmp_path / "a.toml").write_text('reference = "ref.cg"\nat = { x = 1, y = 1, w = 0.5, b = 0 }\nfixed = ["y"]\n')
    asg = Assignment.load(tmp_path / "a.toml")
    assert "p" in asg.quantities and "g_p" not in asg.quantities and {"g_u", "g_J", "dJ/dw"} <= set(asg.quantities)
    prog = graphlang.parse(ref)
    assert "g_p" not in default_quantities(prog, True) and "g_u" in default_quantities(prog, True)


def _one_kind(tmp_path, submit: str):
    text = ASG.read_text().replace('ecf = true', f'ecf = true\nsubmit = "{submit}"', 1)
    (tmp_path / "a.toml").write_text(text)
    (tmp_path / "reference.cg").write_text(REF)
    return tmp_path / "a.toml"


@pytest.mark.parametrize("submit", ["answers", "program"])
def test_an_assignment_may_take_one_kind_of_submission(tmp_path, cli, submit):
    """A by-hand homework graded a program like answers (the program computes what the student
    was to work out): `submit = "answers"` scores it 0 of the same maximum, saying why, on every
    path (the Python API, --answers/--submission, a batch, Gradescope); "program" likewise."""
    from graphlang.grading.autograder import run_gradescope
    path = _one_kind(tmp_path, submit)
    either, asg = Assignment.load(ASG), Assignment.load(path)
    ok, refused = (("correct.json", "renamed.cg") if submit == "answers" else ("renamed.cg", "correct.json"))
    for name, full in ((ok, True), (refused, False)):
        data = (HW / "submissions" / name).read_bytes()
        assert either.grade_text(data, name).score == 18  # (the same files, both kinds graded)
        rep = asg.grade_text(data, name)
        assert rep.max_score == 18 and rep.score == (18 if full else 0), (name, rep.as_text())
        assert full or (rep.feedback[0].endswith("not graded") and rep.root_cause is None)
        flag = "--answers" if name.endswith(".json") else "--submission"
        ran = cli("check", "--assignment", str(path), flag, str(HW / "submissions" / name), "--json")
        assert ran.code == (0 if full else 1) and ran.json()["score"] == rep.score
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in (ok, refused):
        (folder / name).write_bytes((HW / "submissions" / name).read_bytes())
    rows = {r["submission"]: r for r in grade_batch(asg.reference, str(folder), asg.at, asg.batch_options(),
                                                    jobs=1, max_score=asg.max_score)}
    assert rows[ok]["score"] == 18 and rows[refused]["score"] == 0 and rows[refused]["max_score"] == 18
    assert rows[refused]["root_cause"] is None  # not counted as a first wrong step in the gradebook
    from graphlang.grading import gradebook
    header = gradebook.csv_text(list(rows.values())).splitlines()[0].split(",")
    kinds = {c.startswith("program: ") for c in header[2:-3] if c != "program parses and checks"}
    assert kinds == {submit == "program"}, header  # one set of columns: the refused file's items are the asked kind's
    root = tmp_path / "gs"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    (root / "source" / "assignment.toml").write_text(path.read_text())
    (root / "source" / "reference.cg").write_text(REF)
    (root / "submission" / refused).write_bytes((HW / "submissions" / refused).read_bytes())
    res = run_gradescope(root)
    assert res["score"] == 0 and res["max_score"] == 18 and "not graded" in res["output"]
    (root / "submission" / ok).write_bytes((HW / "submissions" / ok).read_bytes())  # and the asked kind beside it
    res = run_gradescope(root)
    assert res["score"] == 18 and f"graded {ok}; not graded: {refused}" in res["output"]
    assert Assignment.from_toml(asg.to_toml()).submit == submit  # (round-trips)


def test_the_other_kinds_advice_fits_an_assignment_of_one_kind(tmp_path):
    """A .json holding a program was told "submit it as a .cg file", which an answers-only
    assignment refuses; and a .cg holding answers "submit it as a .json file" where only programs count."""
    answers_only, program_only = Assignment.load(_one_kind(tmp_path, "answers")), Assignment.load(ASG)
    said = " ".join(answers_only.grade_text(REF, "mine.json").feedback)
    assert "asks for answers worked by hand" in said and "submit it as a .cg" not in said
    program_only.submit = "program"
    said = " ".join(program_only.grade_text('{"a": 6}\n', "mine.cg").feedback)
    assert "asks for a program" in said and "submit it as a .json" not in said
    with pytest.raises(graphlang.GraphlangError) as info:
        Assignment.from_toml(f'reference_source = """{REF}"""\nat = {{ x = 2, z = 3 }}\nsubmit = "cg"\n')
    assert info.value.kind == "usage" and "submit must be one of" in info.value.message


def test_one_kind_reaches_prairielearn_and_a_file_suffix_in_any_case(tmp_path):
    """A PrairieLearn question from a `submit = "program"` assignment crashed on every answer
    (KeyError: its server grades typed answers): bundling it is a usage error now. And
    `grade_text(…, "renamed.CG")` was graded as answers where a batch grades a program."""
    from graphlang.grading.autograder import prairielearn_files, write_prairielearn
    with pytest.raises(graphlang.GraphlangError) as info:
        prairielearn_files(Assignment.load(_one_kind(tmp_path, "program")))
    assert info.value.kind == "usage" and "PrairieLearn questions take answers" in info.value.message
    with pytest.raises(graphlang.GraphlangError):
        write_prairielearn(Assignment.load(_one_kind(tmp_path, "program")), str(tmp_path / "q"))
    assert not (tmp_path / "q").exists()  # (a refused question left an empty folder)
    data = (HW / "submissions" / "renamed.cg").read_bytes()
    assert Assignment.load(ASG).grade_text(data, "renamed.CG").score == 18
    assert Assignment.load(_one_kind(tmp_path, "answers")).grade_text(data, "renamed.CG").score == 0


def test_a_named_literal_is_not_asked_and_a_constants_adjoint_is_not_either(tmp_path):
    """A TA's find: the default `values` asked for k = 2 and A = [[…]] (free points: the values are
    in the question) and `adjoints` for g_k (no pass to the inputs needs it). Oracle: the nodes an
    input moves, read off the program by hand; a constant computed from an input stays asked."""
    (tmp_path / "r.cg").write_text("k = 2\nA = [[1, 0], [0, 3]]\nc = k * 3\nu = w * x + c\n"
                                   "v = sum(A @ [u, x])\ny = ln(k + v * v)\n")
    (tmp_path / "a.toml").write_text('reference = "r.cg"\nat = { x = 1.5, w = -0.8 }\n')
    asg = Assignment.load(tmp_path / "a.toml")
    assert asg.quantities == ["c", "u", "v", "y", "g_y", "g_v", "g_u", "dy/dw", "dy/dx"], asg.quantities
    from graphlang.grading.quantities import default_quantities
    prog = graphlang.parse((tmp_path / "r.cg").read_text())
    assert default_quantities(prog, True) == ["c", "u", "v", "y", "g_y", "g_v", "g_u", "dy/dw", "dy/dx"]


def test_an_empty_ask_and_a_misspelled_quantity_are_told(tmp_path):
    """A TA's finds: `ask = []` was graded as every quantity, and `[quantities."dy/dX"]` was refused
    without the "did you mean" an answers file's keys get."""
    ref = str(PROGRAMS / "lecture13.cg")
    (tmp_path / "e.toml").write_text(f'reference = "{ref}"\nat = {{ x = 2, z = 3 }}\nask = []\n')
    with pytest.raises(graphlang.GraphlangError) as info:
        Assignment.load(tmp_path / "e.toml")
    assert info.value.kind == "usage" and "asks for nothing" in info.value.message
    (tmp_path / "q.toml").write_text(f'reference = "{ref}"\nat = {{ x = 2, z = 3 }}\n'
                                     '[quantities."dy/dX"]\npoints = 2\n')
    with pytest.raises(graphlang.GraphlangError) as info:
        Assignment.load(tmp_path / "q.toml")
    assert "did you mean 'dy/dx'?" in (info.value.hint or "")


def test_a_tensor_answers_template_has_each_answers_shape_and_left_as_it_is_is_unanswered(cli, tmp_path):
    """A TA's find: the template of a network's homework was all nulls, and nothing told a student
    that dJ/dW1 is 3 rows of 4 (the shape of W1: denominator layout). Each answer is now a list of
    nulls of its shape; left as it is, it is unanswered, as a null is. Oracle: the declared shapes."""
    import json
    ref = tmp_path / "net.cg"
    ref.write_text("input x[3]\nparam W1[3, 4], b1[4]\nu = W1.T @ x + b1\nJ = sum(tanh(u))\n")
    (tmp_path / "a.toml").write_text('reference = "net.cg"\nsubmit = "answers"\nask = ["values", "gradient"]\n'
                                     'at = { x = [1, 2, 3], W1 = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], '
                                     '[0.9, 1.0, 1.1, 1.2]], b1 = [0, 0, 0, 0] }\n')
    template = cli("check", "--assignment", str(tmp_path / "a.toml"), "--template").json()
    assert template["dJ/dW1"] == [[None] * 4] * 3 and template["u"] == [None] * 4 and template["J"] is None
    (tmp_path / "t.json").write_text(json.dumps(template))
    graded = cli("check", "--assignment", str(tmp_path / "a.toml"), "--answers", str(tmp_path / "t.json"), "--json")
    assert {i["message"] for i in graded.json()["items"]} == {"no answer"}, graded.out


def test_a_template_left_above_a_filled_copy_and_a_half_filled_answer(tmp_path):
    """A reviewer's finds: `{"u": [null, null], "u": [2, 4]}` (the template left above the pasted
    answers) graded u "no answer", and `[2, null]` was "not a number or a list of numbers". Oracle:
    u = 2x at x = [1, 2] is [2, 4], by hand."""
    from graphlang.grading.answers_file import parse_answers
    ref = "input x[2]\nu = x * 2\nJ = sum(u)\n"
    for text, said in (('{"u": [null, null], "u": [2, 4]}', ""), ('{"u": [2, 4], "u": [null, null]}', ""),
                       ('{"u": [2, null]}', "not every element is filled in: null at [1]")):
        answers, _ = parse_answers(text)
        item = grade_answers(ref, answers, {"x": [1, 2]}, quantities=["u"]).items[0]
        assert item.message == said and item.passed == (not said), (text, item)


def test_inputs_declared_with_another_shape_fail_the_inputs_check(tmp_path):
    """An autograder red team's find: c[2, 1] and x[2, 1] (lecture-style columns) for vectors c[2],
    x[2] passed "inputs", then the value and every derivative failed on the same shape error."""
    (tmp_path / "ref.cg").write_text("input W[2, 2], c[2], x[2]\nh = tanh(W @ x + c)\nJ = sum(h * h)\n")
    (tmp_path / "a.toml").write_text('reference = "ref.cg"\nat = { W = [[1, 0.5], [0, 1]], c = [0.1, -0.2], '
                                     'x = [0.3, 0.4] }\nask = ["J"]\n[program]\n')
    asg = Assignment.load(tmp_path / "a.toml")
    columns = asg.grade_program("input W[2, 2], c[2, 1], x[2, 1]\nh = tanh(W @ x + c)\nJ = sum(h * h)\n")
    by = {i.name: i for i in columns.items}
    assert not by["inputs"].passed and "c is declared with shape [2, 1], the reference's c has shape [2]" in \
        by["inputs"].message and columns.root_cause == "inputs"
    assert asg.grade_program("input W[2, 2], c[2], x[2]\nh = tanh(W @ x + c)\nJ = sum(h * h)\n").passed
    assert asg.grade_program("h = tanh(W @ x + c)\nJ = sum(h * h)\n").passed  # (undeclared: shapes from the values)


def test_an_assignment_whose_reference_cannot_run_under_the_submissions_limits_is_refused_at_load(tmp_path):
    """Its programs are held to the strict limits, so a copy of its reference scored 0 (a reviewer's
    find; the Gradescope bundle was built and then failed on every student): refused when the
    assignment is loaded, unless it grades answers only."""
    (tmp_path / "ref.cg").write_text("input v[1200]\nM = outer(v, v)\ny = sum(M)\n")
    at = "at = { v = [" + ", ".join(["0.5"] * 1200) + "] }\n"
    for submit, refused in (("either", True), ("program", True), ("answers", False)):
        (tmp_path / "a.toml").write_text(f'reference = "ref.cg"\n{at}submit = "{submit}"\n')
        if refused:
            with pytest.raises(graphlang.GraphlangError) as err:
                Assignment.load(tmp_path / "a.toml")
            assert err.value.kind == "usage" and "past the limits submissions are held to" in err.value.message
        else:
            assert Assignment.load(tmp_path / "a.toml").submit == "answers"
