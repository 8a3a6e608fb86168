"""The homework checker: scores, the first wrong step, error carried forward, programs, batches."""

from __future__ import annotations

import json
import math

import pytest
from conftest import PROGRAMS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphlang
from graphlang.checker import grade_answers, grade_program
from graphlang.grading.answers_file import parse_answers
from graphlang.grading.compare import Comparison
from graphlang.grading.points import sample_points
from graphlang.grading.submissions import grade_batch

HW = PROGRAMS / "homework"
REF = (HW / "reference.cg").read_text()
AT = {"x": 2, "z": 3}


def load(name: str) -> dict:
    return json.loads((HW / name).read_text())


def test_correct_answers_full_marks():
    rep = grade_answers(REF, load("student_correct.json"), AT)
    assert rep.passed and rep.score == rep.max_score == 16 and rep.root_cause is None


def test_sign_slip_loses_only_dydx():
    rep = grade_answers(REF, load("student_sign_slip.json"), AT)
    assert rep.score == 15 and rep.root_cause == "dy/dx"
    assert [i.name for i in rep.items if not i.passed] == ["dy/dx"]


def test_a_wrong_gradient_first_says_nothing_is_computed_from_it():
    """Two wrong entries of the gradient: the first wrong step is dy/dx, and no later step is computed
    from it (the report said steps computed from it "may be wrong only because of it": a TA's find)."""
    answers = {**load("student_correct.json"), "dy/dx": 1.0, "dy/dz": 2.0}
    rep = grade_answers(REF, answers, AT)
    assert rep.root_cause == "dy/dx" and [i.name for i in rep.items if not i.passed] == ["dy/dx", "dy/dz"]
    assert any("no later step is computed from it" in f for f in rep.feedback)
    assert not any("only because of it" in f for f in rep.feedback)
    slip = grade_answers(REF, {**load("student_correct.json"), "a": 7.0, "dy/dz": 2.0}, AT, ecf=False)
    assert any("only because of it" in f for f in slip.feedback)  # (a value: later steps read it)


def test_wrong_intermediate_with_error_carried_forward():
    """b = log10(x): only b loses its point; later steps follow from it and are credited."""
    rep = grade_answers(REF, load("student_log10.json"), AT)
    assert rep.root_cause == "b" and rep.score == rep.max_score - 1
    credited = {i.name for i in rep.items if i.ecf}
    assert {"c", "e", "f", "y", "g_b", "dy/dx"} <= credited
    assert any("carried forward" in f for f in rep.feedback)
    strict = grade_answers(REF, load("student_log10.json"), AT, ecf=False)
    assert strict.score < rep.score and not any(i.ecf for i in strict.items)


def test_ecf_does_not_credit_an_independent_mistake():
    answers = load("student_log10.json")
    answers["d"] = 1.0  # d = exp(a) does not depend on b: wrong on its own
    rep = grade_answers(REF, answers, AT)
    d = next(i for i in rep.items if i.name == "d")
    assert not d.passed and not d.ecf



def test_ecf_never_uses_the_students_own_inputs_or_seed():
    """A student who adds `"x": 1, "z": 1` and solves there had every step credited as "consistent"
    (18/18): the inputs are given, not answered, so they are ignored with a note and the steps are
    recomputed at the assignment's point (oracle: the reference evaluated at both points)."""
    easy = graphlang.parse(REF).evaluate({"x": 1.5, "z": 1})
    answers = {**{k: v for k, v in easy.values.items()}, **{f"g_{k}": v for k, v in easy.adjoints.items()}}
    honest = grade_answers(REF, {k: v for k, v in answers.items() if k not in ("x", "z")}, AT)
    rep = grade_answers(REF, answers, AT)
    assert not rep.passed and rep.score == honest.score < rep.max_score
    assert not next(i for i in rep.items if i.name == "a").passed  # a = x z = 6 at the given point
    assert sum("an input" in f for f in rep.feedback) == 2
    seed = grade_answers(REF, {**load("student_correct.json"), "g_y": 0}, AT)
    assert [i.name for i in seed.items if not i.passed] == ["g_y"]  # nothing downstream used g_y = 0


@pytest.mark.parametrize("blank", [0, 1e-300])
def test_zeros_earn_no_credit_carried_forward(blank):
    """All zeros earned 9 of 18 points (sin 0 = 0, a chain of zero adjoints "consistent" with g_y = 0);
    so did 1e-300 everywhere (a red team's find): no credit rests on an uncredited negligible answer."""
    r = graphlang.parse(REF).evaluate(AT)
    keys = [*r.values, *[f"g_{k}" for k in r.adjoints]]
    rep = grade_answers(REF, dict.fromkeys(keys, blank), AT)
    assert rep.score == 0 and not any(i.ecf for i in rep.items)
    backward = grade_answers(REF, {**r.values, **dict.fromkeys([f"g_{k}" for k in r.adjoints], blank)}, AT)
    assert not any(i.ecf for i in backward.items)
    assert all(i.passed == (not i.name.startswith(("g_", "dy/"))) for i in backward.items)


def test_a_zero_that_follows_from_a_slip_is_carried_forward():
    """relu(a) after a sign slip in a is 0, honestly: b, c, g_a, dy/dz follow from the student's a
    (the first zero rule refused them: 5/10 instead of 9/10). Oracle: the slip's consequences by hand."""
    ref = "a = x - z\nb = relu(a)\nc = b * x\ny = c + x\n"
    answers = {"a": -1, "b": 0, "c": 0, "y": 3, "g_y": 1, "g_c": 1, "g_b": 3, "g_a": 0, "dy/dx": 1, "dy/dz": 0}
    rep = grade_answers(ref, answers, {"x": 3, "z": 2})
    assert [i.name for i in rep.items if not i.passed] == ["a"] and rep.score == rep.max_score - 1
    assert {i.name for i in rep.items if i.ecf} >= {"b", "c", "y", "g_a"}


def test_accepted_names_and_tolerances():
    r = graphlang.parse(REF).evaluate(AT)
    answers = {"dy/da": r.adjoints["a"], "∂y/∂b": r.adjoints["b"], "g_c": r.adjoints["c"],
               "dy/dx": r.gradient["x"] * (1 + 1e-4), "nonsense": 3}
    asked = ["g_a", "g_b", "g_c", "dy/dx"]
    rep = grade_answers(REF, answers, AT, quantities=asked)
    names = {i.name: i for i in rep.items}
    assert names["g_a"].passed and names["g_b"].passed and names["g_c"].passed
    assert not names["dy/dx"].passed  # 1e-4 relative is outside rtol 1e-5
    loose = grade_answers(REF, answers, AT, tolerances={"dy/dx": (1e-3, 0)}, quantities=asked)
    assert all(i.passed for i in loose.items)
    assert any("nonsense" in f for f in rep.feedback)


def test_shape_checked_first():
    ref = "input v[3]\ny = sum(v * v)"
    rep = grade_answers(ref, {"dy/dv": [1, 2]}, {"v": [1, 2, 3]})
    assert "shape [2] but expected [3]" in {i.name: i for i in rep.items}["dy/dv"].message


def test_points_and_clamping():
    rep = grade_answers(REF, {"a": 6, "dy/dx": 0}, AT, points={"a": 2, "g_x": 3}, quantities=["a", "dy/dx"])
    assert (rep.score, rep.max_score) == (2, 5)
    every = grade_answers(REF, {"a": 6, "dy/dx": 0}, AT, points={"a": 2, "g_x": 3})
    assert (every.score, every.max_score) == (2, 2 + 3 + 14)  # the 14 others unanswered, 1 point each


def test_student_program_with_other_names_passes():
    rep = grade_program(REF, (HW / "student_ok.cg").read_text(), AT)
    assert rep.passed and rep.score == rep.max_score


def test_student_program_with_sign_error_fails_at_a_point():
    rep = grade_program(REF, (HW / "student_sign.cg").read_text(), AT)
    assert not rep.passed and rep.root_cause == "output value"
    assert "at x=2, z=3" in next(i for i in rep.items if i.name == "output value").message


@pytest.mark.parametrize("source,expect", [
    ("y = x +* z", "syntax error"),
    ("y = sine(x) + z", "unknown-function"),
    ("y = x * q", "unexpected input(s) q"),
    ("y = e^(x * z)", "(e^x is exp(x): there is no constant e)"),  # a red team's: run gave this hint, check did not
    ("input W[2, 2], v[2]\ny = sum(W^T @ v) * x * z", "(a transpose is W.T"),
    ("y = ln(x - 2) * z", "domain error"),
    ("y = (" * 300 + "x" + ")" * 300, "limit"),
])
def test_student_program_errors_are_failed_items(source, expect):
    rep = grade_program(REF, source, AT)
    assert not rep.passed
    assert any(expect in i.message for i in rep.items) or any(expect in f for f in rep.feedback)



_DOUBLED = ("v0 = [x, z]\n" + "".join(f"v{k + 1} = concat(v{k}, v{k})\n" for k in range(20))
            + "y = x * z + 0 * sum(v20)\n")
_OUTER = ("u0 = x * [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"u{k + 1} = concat({', '.join([f'u{k}'] * 10)})\n" for k in range(4))
    + "M = outer(u4, u4)\ny = x * z + sum(M) * 0\n")


@pytest.mark.parametrize("blowup", [_DOUBLED, _OUTER], ids=["doubling", "outer"])
def test_a_program_past_the_limits_when_run_earns_nothing(blowup):
    """A program past the assignment's limits when it runs earned its parses and inputs checks (2 of
    5 on the lecture; a TA's hostile submissions 6.4 of 16), where one past them when parsed, or past
    its time or memory, earns nothing: now each earns nothing, and says which limit."""
    with pytest.raises(graphlang.GraphlangError) as err:  # (the oracle: the program itself, run)
        graphlang.parse(blowup, limits=graphlang.Limits.strict()).evaluate({"x": 2, "z": 3})
    assert err.value.kind == "limit"
    rep = grade_program(REF, blowup, AT)
    assert rep.score == 0 and not any(i.passed for i in rep.items)
    assert err.value.message in rep.items[0].message
    assert all("past the assignment's limits" in i.message for i in rep.items[1:])


def test_a_reference_past_the_submissions_limits_is_a_usage_error():
    """A copy of the reference scored 0 when the reference itself is past the limits submissions are
    held to (a reviewer's find): that is the assignment's error, said before any submission is graded."""
    ref = "input v[20]\nM = outer(v, v)\ny = sum(M @ v)\n"
    at = {"v": [0.1 * k for k in range(20)]}
    tight = graphlang.Limits(max_tensor_elements=100)
    with pytest.raises(graphlang.GraphlangError) as err:
        grade_program(ref, ref, at, limits=tight)
    assert err.value.kind == "usage" and "past the limits submissions are held to" in err.value.message
    assert grade_program(ref, ref, at, limits=graphlang.Limits(max_tensor_elements=400)).passed


def test_a_batch_says_so_before_grading(cli, tmp_path):
    (tmp_path / "ref.cg").write_text("input v[20]\nM = outer(v, v)\ny = sum(M @ v)\n")
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "s.cg").write_text("input v[20]\ny = sum(v) * dot(v, v)\n")
    at = "v=[" + ",".join(str(0.1 * k) for k in range(20)) + "]"
    ran = cli("check", str(tmp_path / "ref.cg"), "--at", at, "--batch", str(tmp_path / "subs"),
              "--limit", "max_tensor_elements=100")
    assert ran.code == 2 and "past the limits submissions are held to" in ran.err and "crashed" not in ran.out


def test_a_programs_error_in_the_feedback_names_line_and_column():
    """The feedback said only `line 2: syntax error` (the README promises LINE:COLUMN): a student
    could not find a non-breaking space. The column is the parser's (oracle: `run` on the file)."""
    source = "a = x * z\ny = a\u00a0+ 1\n"
    rep = grade_program(REF, source, AT)
    with pytest.raises(graphlang.GraphlangError) as err:
        graphlang.parse(source)
    assert (err.value.line, err.value.column) == (2, 6)
    assert rep.items[0].message.startswith("line 2, column 6: syntax error")


def test_a_submission_undefined_where_the_reference_is_defined_fails_there():
    """Skipping sign-turned points where the submission is undefined let `x * z + 0 * ln(x)` pass
    for `abs(x) * z` (a red team's find): every point counts, as a TA checking by hand would."""
    rep = grade_program("y = abs(x) * z", "u = ln(x)\ny = x * z + 0 * u", {"x": 2, "z": 3})
    assert not rep.passed and rep.score < rep.max_score


def test_check_applies_limit_to_submissions_and_refuses_unknown_ones(cli, tmp_path):
    """`check ... --limit nope=3` exited 0 and `--limit max_statements=1` changed nothing for the
    submissions (always the strict defaults) while stopping the reference. Now a misspelt limit is
    a usage error, and the limits given are the submissions'."""
    sub = tmp_path / "s.cg"
    sub.write_text(REF)
    ref = str(HW / "reference.cg")
    for where in (["--submission", str(sub)], ["--batch", str(tmp_path)]):
        bad = cli("check", ref, "--at", "x=2,z=3", *where, "--limit", "nope=3")
        assert bad.code == 2 and "no limit is named 'nope'" in bad.err
        assert cli("check", ref, "--at", "x=2,z=3", *where).code == 0
        tight = cli("check", ref, "--at", "x=2,z=3", *where, "--limit", "max_statements=2",
                    "--json" if where[0] == "--submission" else "--jsonl")
        assert "more than 2 statements" in tight.out and "Traceback" not in tight.err

def test_reference_domain_points_are_replaced():
    ref = "y = ln(x) + sqrt(z)"
    rep = grade_program(ref, "y = sqrt(z) + ln(x)", {"x": 0.1, "z": 0.1}, n_points=8)
    assert rep.passed and "8 points" in rep.feedback[-1]


def test_gradescope_fields():
    rep = grade_answers(REF, load("student_sign_slip.json"), AT)
    gs = rep.to_gradescope()
    assert gs["score"] == 15 and isinstance(gs["tests"], list)
    for t in gs["tests"]:
        assert set(t) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert t["status"] in ("passed", "failed") and t["visibility"] in ("visible", "hidden",
                                                                           "after_due_date", "after_published")
    json.dumps(gs, allow_nan=False)


def test_cli_check_and_gradescope_file(cli, tmp_path):
    out = tmp_path / "results.json"
    ran = cli("check", str(HW / "reference.cg"), "--at", "x=2,z=3", "--answers",
              str(HW / "student_sign_slip.json"), "--gradescope", str(out))
    assert ran.code == 1 and "dy/dx" in ran.out
    assert json.loads(out.read_text())["score"] == 15
    # the file students read: no reference value unless asked (the README's example leaked 1208.38)
    assert "1208" not in out.read_text() and "reference's value" not in out.read_text()
    cli("check", str(HW / "reference.cg"), "--at", "x=2,z=3", "--answers", str(HW / "student_sign_slip.json"),
        "--gradescope", str(out), "--show-expected")
    assert "the reference's value is 1208.38" in out.read_text()
    ok = cli("check", str(HW / "reference.cg"), "--at", "x=2,z=3", "--submission", str(HW / "student_ok.cg"))
    assert ok.code == 0
    tpl = cli("check", str(HW / "reference.cg"), "--template").json()
    assert list(tpl)[:2] == ["a", "b"] and "dy/dx" in tpl


def test_batch_reports_each_and_survives_timeouts(tmp_path):
    for name in ("student_correct.json", "student_sign.cg", "student_ok.cg"):
        (tmp_path / name).write_text((HW / name).read_text())
    (tmp_path / "garbage.json").write_text("{not json")
    ref = graphlang.parse(REF)
    rows = list(grade_batch(ref, str(tmp_path), AT, {}))
    by = {r["submission"]: r for r in rows}
    assert by["student_correct.json"]["passed"] and by["student_ok.cg"]["passed"]
    assert not by["student_sign.cg"]["passed"] and not by["garbage.json"]["passed"]
    slow = list(grade_batch(ref, str(tmp_path), AT, {}, timeout=1e-6))
    assert all(r["status"] in ("timeout", "graded") for r in slow)
    assert any(r["status"] == "timeout" for r in slow)


def test_cli_batch_jsonl(cli, tmp_path):
    (tmp_path / "a.json").write_text((HW / "student_correct.json").read_text())
    (tmp_path / "b.cg").write_text("y = x\n")
    ran = cli("check", str(HW / "reference.cg"), "--at", "x=2,z=3", "--batch", str(tmp_path), "--jsonl")
    lines = [json.loads(ln) for ln in ran.out.splitlines()]
    assert [ln["submission"] for ln in lines] == ["a.json", "b.cg"]
    assert "2 submissions" in ran.err


answers_values = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(),
                                        st.text(max_size=5)),
                              lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c,
                                                                                   max_size=3),
                              max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(["a", "b", "g_a", "dy/dx", "dy/dz", "y", "zz", "g_", "d/d"]) |
                       st.text(max_size=6), answers_values, max_size=6))
def test_fuzzed_answers_never_raise_or_print(answers):
    rep = grade_answers(REF, answers, AT)
    assert 0 <= rep.score <= rep.max_score
    json.dumps(rep.to_json(), allow_nan=False)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet="xyzab01.+-*/^()=;\n lnsiexp", max_size=40))
def test_fuzzed_programs_never_raise(source):
    rep = grade_program(REF, source, AT, n_points=2)
    assert 0 <= rep.score <= rep.max_score


def test_grading_writes_nothing_to_stderr(capfd):
    grade_answers(REF, {"a": float("nan"), "b": "x", "dy/dx": [[1]]}, AT)
    grade_program(REF, "y = ln(x - 5)", AT)
    grade_program(REF, "y = exp(x * 400) * z", AT)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


VECTOR_REFERENCES = {
    "vector output": ("input x[3]\ny = x * x + sin(x)", {"x": [1, -2, 0.5]}),
    "two outputs": ("a = x * z\nb = sin(x) + a\noutput a, b", {"x": 0.7, "z": -1.5}),
    "tensor outputs": ("input W[2, 3], x[3]\nh = W @ x\nM = W.T * 2\noutput h, M",
                       {"W": [[1, 2, 3], [-1, 0.5, 2]], "x": [0.1, 0.2, -0.3]}),
}


@pytest.mark.parametrize("name", VECTOR_REFERENCES)
def test_identical_vector_valued_submission_passes(name):
    ref, at = VECTOR_REFERENCES[name]
    rep = grade_program(ref, ref, at)
    assert rep.passed and rep.score == rep.max_score, rep.as_text()
    prog = graphlang.parse(ref)
    r = prog.evaluate(at)
    answers = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in r.values.items()}
    rep = grade_answers(ref, answers, at)  # the inputs' values are given, not asked
    assert rep.passed and rep.score == rep.max_score == len(answers) - len(prog.inputs), rep.as_text()


def test_vector_valued_jacobians_are_compared():
    ref = "a = x * x\nb = sin(x)\noutput a, b"
    shifted = grade_program(ref, "a = x * x\nb = sin(x) + 1\noutput a, b", {"x": 1})
    items = {i.name: i for i in shifted.items}
    assert not items["output value"].passed and items["d(a, b)/dx"].passed  # same derivative, d/dx(sin x + 1)
    wrong = grade_program(ref, "a = x * x\nb = cos(x)\noutput a, b", {"x": 1})
    items = {i.name: i for i in wrong.items}
    assert not items["d(a, b)/dx"].passed  # d/dx cos x = -sin x, not cos x
    assert wrong.score < grade_program(ref, ref, {"x": 1}).score
    vec = grade_program("input x[2]\ny = x * x", "input x[2]\ny = x * 3", {"x": [1, 2]})
    assert [i.name for i in vec.items if not i.passed] == ["output value", "dy/dx"]


def test_output_shapes_must_match():
    rep = grade_program("a = x * x\nb = sin(x)\noutput a, b", "y = [x * x, sin(x), x]", {"x": 1})
    assert not rep.passed and "2 outputs (a scalar, a scalar)" in rep.items[2].message
    rep = grade_program("y = x * x", "input x\ny = [x * x]", {"x": 1})
    assert not rep.passed and "shape [1]" in rep.items[2].message


def test_abs_is_not_the_identity_even_when_at_is_positive():
    """abs(x) = x for x > 0 only: the grader must look at negative x too."""
    rep = grade_program("y = x", "y = abs(x)", {"x": 2})
    assert not rep.passed
    rep = grade_program("y = ln(x) * z", "y = ln(x) * abs(z)", {"x": 2, "z": 3})  # z < 0 within the domain
    assert not rep.passed


def test_max_with_zero_is_relu_even_at_the_kink():
    """relu(x) = max(x, 0) everywhere; their derivatives differ only at 0, by convention."""
    for at in (0, 2, -3):
        rep = grade_program("y = relu(x)", "y = max(x, 0)", {"x": at})
        assert rep.passed, (at, rep.as_text())
    assert grade_program("input v[3]\ny = sum(relu(v))", "input v[3]\ny = sum(max(v, 0))",
                         {"v": [0, 1, -1]}).passed


def test_sample_points_cover_signs_and_magnitudes_inside_the_domain():
    prog = graphlang.parse(REF)  # needs x > 0, x ≠ 1; z of any sign
    pts = sample_points(prog, AT, 10, seed=0)
    xs = [float(p["x"]) for p in pts]
    zs = [float(p["z"]) for p in pts]
    assert len(pts) == 10 and all(x > 0 for x in xs)
    assert min(zs) < 0 < max(zs)
    magnitudes = [abs(v) for v in xs + zs]
    assert max(magnitudes) / min(magnitudes) > 100
    relu = graphlang.parse("y = relu(x - z) + abs(z)")
    for p in sample_points(relu, {"x": 1, "z": 1}, 10, seed=0):
        assert p["x"] != p["z"] and p["z"] != 0  # never on a kink


def test_vector_reference_answers_grade_values_and_explain_adjoints():
    ref = "input x[2]\nh = x * x\ny = sin(h)"
    rep = grade_answers(ref, {"h": [1, 4], "y": [0.8414709848078965, 0.7568024953079282], "g_h": [1, 1]},
                        {"x": [1, 2]})
    items = {i.name: i for i in rep.items}
    assert items["h"].passed and not items["y"].passed  # sin(4) < 0
    assert "g_h" not in items and any("g_h" in f and "scalar output" in f for f in rep.feedback)
    with pytest.raises(graphlang.GraphlangError) as info:  # an assignment asking it is the course's mistake
        grade_answers(ref, {}, {"x": [1, 2]}, quantities=["h", "g_h"])
    assert info.value.kind == "usage" and "scalar output" in info.value.message


# --- the grader's own options and hostile answer values ----------------------------------------
SQUARE = "a = x * 2\ny = a * a\n"  # at x = 2: a = 4, y = 16, dy/dx = 8x = 16 (closed form)


def test_text_and_huge_integers_are_not_numbers():
    answers = {"a": "4", "y": [16], "dy/dx": int("9" * 400), "g_a": True}
    rep = grade_answers(SQUARE, answers, {"x": 2})
    assert not rep.passed and rep.score == 0
    assert all(i.message.startswith("not a number or a list of numbers")
               for i in rep.items if i.name in answers and i.name not in ("y", "dy/dx"))
    assert next(i for i in rep.items if i.name == "dy/dx").message == "a number past float64's range (±1.8e308)"
    assert next(i for i in rep.items if i.name == "a").message.endswith('(a string: write 4, not "4")')
    json.dumps(rep.to_json(), allow_nan=False)  # the report still serializes
    correct = grade_answers(SQUARE, {"a": 4, "y": 16, "dy/dx": 16, "g_a": 8, "g_y": 1}, {"x": 2})
    assert correct.passed  # g_a = 2a = 8


def test_huge_integer_answer_file_through_the_cli(tmp_path, cli):
    ref = tmp_path / "ref.cg"
    ref.write_text(SQUARE)
    answers = tmp_path / "a.json"
    answers.write_text('{"a": ' + "9" * 400 + ', "y": 16}')
    ran = cli("check", str(ref), "--answers", str(answers), "--at", "x=2", "--json")
    assert ran.code == 1 and "Traceback" not in ran.err
    items = {i["name"]: i for i in ran.json()["items"]}
    assert not items["a"]["passed"] and items["y"]["passed"]


BAD_ANSWER_OPTIONS = [{"rtol": float("inf")}, {"rtol": float("nan")}, {"rtol": 1.0}, {"rtol": -1e-5},
                      {"atol": float("inf")}, {"atol": "0.1"}, {"points": "abc"}, {"points": 0},
                      {"points": -1}, {"points": float("nan")}, {"points": {"a": float("inf")}},
                      {"tolerances": {"a": 0.1}}, {"tolerances": {"a": (float("inf"), 0)}},
                      {"tolerances": [1, 2]}, {"ecf": "yes"}, {"quantities": [1, 2]},
                      {"limits": "strict"}, {"points": True}]
BAD_PROGRAM_OPTIONS = [{"n_points": 0}, {"n_points": -3}, {"n_points": 100_000_000}, {"n_points": 2.5},
                       {"n_points": "5"}, {"seed": -1}, {"seed": 1.5}, {"rtol": float("inf")},
                       {"atol": float("nan")}, {"points": 0}, {"required": 5}, {"limits": 3}]


@pytest.mark.parametrize("option", BAD_ANSWER_OPTIONS, ids=repr)
def test_bad_answer_options_are_usage_errors(option):
    with pytest.raises(graphlang.GraphlangError) as info:
        grade_answers(SQUARE, {"a": 5, "y": 100}, {"x": 2}, **option)
    assert info.value.kind == "usage"


@pytest.mark.parametrize("option", BAD_PROGRAM_OPTIONS, ids=repr)
def test_bad_program_options_are_usage_errors(option):
    with pytest.raises(graphlang.GraphlangError) as info:
        grade_program(SQUARE, "y = x * 3\n", {"x": 2}, **option)
    assert info.value.kind == "usage"


def test_a_quantity_name_is_not_iterated_per_character():
    rep = grade_answers(SQUARE, {"a": 4, "y": 0}, {"x": 2}, quantities="a")
    assert [i.name for i in rep.items] == ["a"] and rep.passed


def test_the_smallest_valid_options_still_grade():
    rep = grade_program(SQUARE, "y = x * 3\n", {"x": 2}, n_points=1)
    assert not rep.passed and rep.score < rep.max_score  # y = 3x is not (2x)^2 at x = 2


@pytest.mark.parametrize("flags", [["--points", "0"], ["--points", "-2"], ["--points", "100000000"],
                                   ["--timeout", "0"], ["--timeout", "nan"], ["--timeout", "1e7"],
                                   ["--timeout", "-1"]])
def test_bad_cli_options_are_usage_errors(flags, tmp_path, cli):
    ref = tmp_path / "ref.cg"
    ref.write_text(SQUARE)
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "s.cg").write_text("y = x * 3\n")
    for target in (["--submission", str(folder / "s.cg")], ["--batch", str(folder)]):
        if flags[0] == "--timeout" and target[0] == "--submission":
            continue
        ran = cli("check", str(ref), *target, "--at", "x=2", *flags, "--json")
        assert ran.code == 2 and "usage error" in ran.err and "Traceback" not in ran.err
        assert ran.json()["error"]["kind"] == "usage"


def test_bad_batch_options_are_usage_errors(tmp_path):
    (tmp_path / "s.cg").write_text("y = x * 3\n")
    ref = graphlang.parse(SQUARE)
    for kwargs in ({"timeout": 0}, {"timeout": float("nan")}, {"timeout": 1e7}, {"memory_mb": 0},
                   {"options": {"program": {"n_points": 0}}}, {"options": {"answers": {"rtol": float("inf")}}},
                   {"options": {"program": {"frobnicate": 1}}}):
        options = kwargs.pop("options", {})
        with pytest.raises(graphlang.GraphlangError) as info:
            list(grade_batch(ref, str(tmp_path), {"x": 2}, options, **kwargs))
        assert info.value.kind == "usage"


@pytest.mark.parametrize("text, why", [
    ('{"a": ' + "9" * 5000 + "}", "a number with too many digits"),  # said "it nests too deeply"
    ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ('{"a": 1,\n "b": }', "line 2, column 7"),
])
def test_an_unreadable_answers_file_says_why(text, why):
    answers, message = parse_answers(text.encode(), "answers.json")
    assert answers is None and why in message and message.startswith("answers.json")


def test_unasked_answers_never_carry_an_error_forward():
    """A red team's find: an assignment asking only y, dy/dx, dy/dz gave 3/3 to a wrong y = 3 when the
    file also held made-up a..f (ignored, "not asked"), because y followed from them. Oracle: the
    same wrong answers without the made-up values score 0."""
    made_up = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g_a": 1, "g_b": 1}
    wrong = {"y": 3, "dy/dx": 1208, "dy/dz": 810}
    asked = ["y", "dy/dx", "dy/dz"]
    alone = grade_answers(REF, wrong, AT, quantities=asked)
    rep = grade_answers(REF, {**made_up, **wrong}, AT, quantities=asked)
    assert alone.score == 0 and rep.score == 0 and not any(i.ecf for i in rep.items)
    assert sum("not asked" in f for f in rep.feedback) == len(made_up)


@pytest.mark.parametrize("keys", [("dy/dx", "g_x"), ("g_x", "dy/dx"), ("g_a", "dy/da")])
def test_one_quantity_answered_twice_differently_is_not_graded_by_key_order(keys):
    """`"dy/dx": right` then `"g_x": 0` scored by whichever came last; now the item fails, saying so,
    in either order, and equal values under both names are one answer."""
    r = graphlang.parse(REF).evaluate(AT)
    name = keys[0][-1] if keys[0].startswith("dy/") else keys[0][2:]
    right = r.adjoints[name]
    for first, second in (keys, keys[::-1]):
        rep = grade_answers(REF, {**load("student_correct.json"), first: right, second: 0.0}, AT)
        item = next(i for i in rep.items if i.name in keys)
        assert not item.passed and "answered twice" in item.message and rep.score == rep.max_score - 1
    same = grade_answers(REF, {**load("student_correct.json"), keys[0]: right, keys[1]: float(right)}, AT)
    assert same.passed


def test_a_reference_node_named_like_an_adjoint_is_the_courses_mistake():
    """With a node `g_a` beside `a`, the key "g_a" named the node and the adjoint of a vanished from
    what is graded: a usage error before any student is graded."""
    with pytest.raises(graphlang.GraphlangError) as err:
        grade_answers("a = x * z\ng_a = a + 1\ny = g_a * 2\n", {"y": 1}, AT)
    assert err.value.kind == "usage" and "'g_a'" in err.value.message


@pytest.mark.parametrize("n", [3, 5])
def test_every_input_is_checked_negative(n):
    """w*w*abs(w) for w³ is wrong only where w < 0: with w the third input no checked point had w < 0
    (the sign patterns turned the first two inputs only). Each input, in turn, is the wrong one."""
    xs = [f"x{i}" for i in range(n)]
    ref = "y = " + " + ".join(f"{x}*{x}*{x}" for x in xs) + "\n"
    at = {x: 1.0 + 0.25 * i for i, x in enumerate(xs)}
    for x in xs:
        sub = ref.replace(f"{x}*{x}*{x}", f"{x}*{x}*abs({x})")
        assert not grade_program(ref, sub, at).passed, x
        assert any(p[x] < 0 for p in sample_points(graphlang.parse(ref), at, 10, seed=0))


BCE = "u = w * x + b\np = sigmoid(u)\nJ = -(t * ln(p) + (1 - t) * ln(1 - p))\n"
BCE_AT = {"w": 0.5, "x": 2, "b": -0.3, "t": 1}


def _bce_exact(point: dict) -> float:
    """softplus(u) − t·u computed stably (log1p of a number ≤ 1): the oracle for the reference."""
    import math
    w, x, b, t = (float(point[k]) for k in "wxbt")
    u = w * x + b
    return max(u, 0.0) + math.log1p(math.exp(-abs(u))) - t * u


def test_points_where_the_reference_cancels_its_digits_are_not_graded():
    """At u = 27.75 the reference's 1 − p keeps four digits: the exact softplus(u) − t u was marked
    wrong (7.14/10). Now every checked point is one where the reference is accurate (oracle: a
    stable formula in Python's math), and the stable program passes."""
    ref = graphlang.parse(BCE)
    for seed in range(4):  # (before: 5 of these 160 points were off by more than 1e-9)
        for p in sample_points(ref, BCE_AT, 40, seed=seed):
            assert ref.evaluate(p).value == pytest.approx(_bce_exact(p), rel=1e-9)
    stable = "u = w * x + b\nJ = softplus(u) - t * u\n"
    assert all(grade_program(BCE, stable, BCE_AT, seed=seed, n_points=40).passed for seed in range(4))


def test_a_right_formula_that_overflows_far_away_is_compared_elsewhere():
    """The lecture's 1/(1 + exp(-u)) overflows at u = -800 and ln(1 − p) meets p = 1.0 at u = 40,
    where the reference's sigmoid is fine: such points are skipped (with a note), not failed."""
    lecture = "u = w * x + b\np = 1 / (1 + exp(-u))\nJ = -(t * ln(p) + (1 - t) * ln(1 - p))\n"
    ref = (PROGRAMS / "logistic_regression.cg").read_text()
    rep = grade_program(ref, lecture, {"x": -1, "t": 0, "w": 1.3, "b": 0.2}, n_points=30)
    assert rep.passed, rep.feedback
    assert grade_program(BCE, lecture, BCE_AT, n_points=30).passed


def test_overflowing_everywhere_but_the_given_point_is_not_a_pass():
    """Skipping points is no way around the check: a program that is right only at the given point
    and overflows everywhere else is compared at too few points and fails."""
    sneaky = "y = x * x + exp(1000000 * (x * x - 4) ^ 2) - 1\n"
    rep = grade_program("y = x * x\n", sneaky, {"x": 2})
    assert not rep.passed and "overflows" in next(i.message for i in rep.items if i.name == "output value")


ABS_LN = "p = x * z\nlx = abs(ln(x))\ny = exp(p) + p / lx + sin(lx) / p"  # wrong where 0 < x < 1


@pytest.mark.parametrize("junk", ["", " + 0 * sqrt(x - 0.5)", " + 0 * ln(x - 0.5)",
                                  " + 0 * ((1 + relu(0.5 - x) * 1e-12) - 1)", " + 0 * ln(step(x - 1))",
                                  " + 0 * exp(1000 * (1 - x))"])
def test_a_line_undefined_far_away_where_the_program_is_wrong_hides_nothing(junk):
    """A red team's find: abs(ln x) for ln x is wrong only where x < 1, which among the lecture
    homework's 10 points only a far one reaches (x = 0.077); adding 0·sqrt(x − 0.5) made the program
    fail there, the point was skipped as "overflows float64", and the score was 18/18. A failure far
    away is skipped only when it is float64's: evaluated in extended precision the value must reach
    (or near) the reference's, or fail as float64 does (an overflow, a rounded zero)."""
    rep = grade_program(REF, ABS_LN + junk + "\n", {"x": 2, "z": 3})
    assert not rep.passed and rep.root_cause == "output value", rep.feedback


@pytest.mark.parametrize("seed", [46, 53])
def test_naive_bce_whose_extended_value_still_cancels_is_skipped(seed):
    """A red team's find: at u ≈ 40 float64 rounds p to 1 (ln(1 − p) = ln 0) and extended precision
    keeps 3 digits of 1 − p, so its value missed the reference's and the textbook formula failed
    (2 of 60 seeds for logistic regression, 10 for the two-layer network). A value that cancels
    away its digits in extended precision too is ungradeable there, not wrong."""
    naive = "u = w * x + b\nJ = -(t * ln(1 / (1 + exp(-u))) + (1 - t) * ln(1 - 1 / (1 + exp(-u))))\n"
    ref = (PROGRAMS / "logistic_regression.cg").read_text()
    assert grade_program(ref, naive, {"x": -1, "t": 0, "w": 1.3, "b": 0.2}, seed=seed).passed


def test_the_lecture_formula_unstable_far_away_is_still_skipped_not_failed():
    """The other side: the naive sigmoid and ln(1 − p), right but unstable, meet overflow, p rounded
    to 1 (ln 0) and 1 − p cancelled at far points; more precision cures or explains each."""
    naive = "u = w * x + b\np = 1 / (1 + exp(-u))\nJ = -(t * ln(p) + (1 - t) * ln(1 - p))\n"
    for t in (0, 1):
        rep = grade_program(BCE, naive, {**BCE_AT, "t": t}, n_points=40)
        assert rep.passed, rep.feedback


@pytest.mark.parametrize("junk", ["junk = exp(-1000000 * z)\n",  # overflows where z < 0, read by nothing
                                  "t = (1 + relu(-z) * 1e-12) - 1\n",  # cancels where z < 0
                                  "s = x * z\nq = ln(s - 1 * s + relu(z))\n"])  # ln(0) where z < 0
def test_a_junk_line_that_fails_where_the_program_is_wrong_hides_nothing(junk):
    """A red team's find: abs(z) for z (wrong where z < 0) plus a line that overflows, cancels or
    takes ln(0) exactly where z < 0 scored full marks, every such point skipped. Points are skipped
    only far from the given magnitudes; where each input is turned negative alone, never."""
    ref = "a = x * z\ny = a + z\n"
    wrong = "a = x * abs(z)\n" + junk + "y = a + abs(z)\n"
    if "t = " in junk:
        wrong = wrong.replace("y = a + abs(z)", "y = a + abs(z) + 0 * t")
    at = {"x": 2, "z": 3}
    assert not grade_program(ref, "a = x * abs(z)\ny = a + abs(z)\n", at).passed
    assert not grade_program(ref, wrong, at).passed


def test_the_same_outputs_in_another_order_are_graded_by_name():
    """`output q, s` for the reference's `output s, q` was graded as wrong values (1.2/3): each output
    is now compared with the reference's of its name, and the feedback says so. Oracle: the same
    program written in the reference's order, and a program with an output swapped for another."""
    ref = "s = x + y\np = x * y\nq = s / p\noutput s, q\n"
    at = {"x": 1.5, "y": -0.5}
    swapped = grade_program(ref, "q = 1/x + 1/y\ns = y + x\noutput q, s\n", at)
    in_order = grade_program(ref, "q = 1/x + 1/y\ns = y + x\noutput s, q\n", at)
    assert swapped.passed and in_order.passed and swapped.score == in_order.score
    assert any("reference's order" in f for f in swapped.feedback)
    assert not grade_program(ref, "q = 1/x + 1/y\ns = y - x\noutput q, s\n", at).passed


def test_a_program_that_does_not_parse_is_shown_its_line_and_a_caret():
    """The feedback said only "line 3, column 8: syntax error": now, as the command line does, the
    offending line and a caret under column 8 (oracle: the column counted in the text)."""
    rep = grade_program(REF, "a = x * z\nb = ln(x)\ny = a +* b\n", AT)
    text = next(f for f in rep.feedback if f.startswith("your program:"))
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if line.endswith("| y = a +* b"))
    assert "your program:3:8: syntax error" in lines[0]
    assert lines[row + 1].index("^") == lines[row].index("| ") + 2 + len("y = a +")


SATURATED = "u = w * x\np = sigmoid(u)\ny = p * (1 - p)\n"  # the lecture's vanishing gradient at u = 24


def test_a_wrong_sign_fails_even_within_the_absolute_tolerance():
    """atol = 1e-8 let −3.8e-11 pass for y = p(1 − p) = 3.8e-11 (8/8 with every small sign turned);
    now a turned sign fails ("the sign is wrong"), and later steps that follow from it are carried
    forward. Oracle: the reference's values with signs turned by hand."""
    at = {"w": 12, "x": 2}
    r = graphlang.parse(SATURATED).evaluate(at)
    answers = {"u": 24, "p": 1, "y": -r.values["y"], "g_y": 1, "g_p": r.adjoints["p"],
               "g_u": -r.adjoints["u"], "dy/dw": -r.gradient["w"], "dy/dx": -r.gradient["x"]}
    rep = grade_answers(SATURATED, answers, at)
    failed = {i.name: i.message for i in rep.items if not i.passed}
    assert failed == {"y": f"incorrect: the sign is wrong; the reference's value is {r.values['y']:.6g}",
                      "g_u": f"incorrect: the sign is wrong; the reference's value is {r.adjoints['u']:.6g}"}
    assert {i.name for i in rep.items if i.ecf} == {"dy/dw", "dy/dx"}  # from the student's g_u


def test_no_error_carried_forward_without_an_earlier_error():
    """p = 1 is right for 0.99999999996 (rtol 1e-5), and from it p(1 − p) = 0, which any tiny y
    matched: ECF credits a step only when some earlier answer it uses was wrong."""
    at = {"w": 12, "x": 2}
    rep = grade_answers(SATURATED, {"u": 24, "p": 1, "y": -1e-9}, at, quantities=["u", "p", "y"])
    y = next(i for i in rep.items if i.name == "y")
    assert not y.passed and not y.ecf


def test_a_roundoff_of_zero_may_have_either_sign():
    """sin(π x) at x = 1 is 1.2e-16 in float64, a roundoff of 0: −1e-16 (or 0) is right."""
    ref = "a = pi * x\ny = sin(a)\n"
    for got in (-1e-16, 0.0, 1e-16):
        rep = grade_answers(ref, {"a": 3.141592653589793, "y": got}, {"x": 1}, quantities=["a", "y"])
        assert rep.passed, got


@pytest.mark.parametrize(("data", "why"), [
    (b'{"a": 6, "b": 0.693\xff}', "is not UTF-8 text (line 1: byte 0xff)"),
    (b'{"a": 6,\n "b": "\xe9"}', "is not UTF-8 text (line 2: byte 0xe9)"),
    (b"null", "not null"), (b"[1, 2]", "not a list"), (b'"6"', "not a string"), (b"6", "not a number"),
])
def test_an_answers_file_that_is_not_an_object_of_numbers_says_what_it_is(data, why):
    """Latin-1 bytes read as "not valid JSON ... Expecting value" and `null` as "not a NoneType"."""
    answers, message = parse_answers(data, "answers.json")
    assert answers is None and message.startswith("answers.json") and why in message


def test_a_program_without_inputs_is_checked_at_its_one_point():
    """A reference without inputs was "checked at 10 points" (the same one ten times) and a wrong
    value read "at : 8"."""
    wrong, right = grade_program("y = 2 * 3\n", "y = 2 * 4\n", {}), grade_program("y = 2 * 3\n", "y = 6\n", {})
    assert right.passed and not wrong.passed
    value = next(i for i in wrong.items if i.name == "output value")
    assert value.message.startswith("at the program (no inputs): 8")
    assert any("one point" in f for f in wrong.feedback + right.feedback)


def test_a_step_carried_forward_to_infinity_credits_nothing():
    """g_d = 1e306 and g_a = 1e308 made the recomputed steps inf, and |answer − inf| ≤ rtol·inf held
    for any answer: dy/dx = 7 and dy/dz = 3 were "consistent" (15/16)."""
    key = load("student_correct.json")
    rep = grade_answers(REF, {**key, "g_d": 1e306, "g_a": 1e308, "dy/dx": 7, "dy/dz": 3}, AT)
    wrong = {i.name for i in rep.items if not i.passed}
    assert {"dy/dx", "dy/dz"} <= wrong and not any(i.ecf for i in rep.items if i.name in ("dy/dx", "dy/dz"))


def test_six_inputs_are_each_checked_negative_by_default():
    """The sixth input was first negative at the 12th point: abs(t) for t scored 9/9 with 10 points."""
    ref = "h = tanh(w1 * x + b1)\ny = (w2 * h + b2 - t) ^ 2\n"
    at = {"w1": 0.5, "x": 1.5, "b1": 0.1, "w2": -0.8, "b2": 0.2, "t": 1}
    assert not grade_program(ref, ref.replace("- t)", "- abs(t))"), at).passed


def test_answers_repeated_or_twice_right_are_one_answer():
    """A key pasted twice with the same value zeroed the file ("gives 'a' twice"); 1208.38 for dy/dx
    and 1208.4 for g_x, both right to the comparison, failed as "answered twice"."""
    key = load("student_correct.json")
    text = json.dumps(key)[:-1] + ', "a": ' + json.dumps(key["a"]) + "}"
    answers, why = parse_answers(text)
    assert why == "" and grade_answers(REF, answers, AT).passed
    g_x = key["dy/dx"]
    both = grade_answers(REF, {**key, "dy/dx": g_x * (1 + 2e-6), "g_x": g_x}, AT)
    assert both.passed


def _switch(verdict, lo: float = 1e-18, hi: float = 1e-3) -> float:
    """Where a pass/fail probe of t changes (bisected in log space, as a student would)."""
    assert verdict(lo) != verdict(hi)
    for _ in range(40):
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if verdict(mid) == verdict(lo) else (lo, mid)
    return hi


@pytest.mark.parametrize("scaled", ["b = 7 * ln(x)", "d = 1000 * exp(a)"])
def test_hidden_values_move_no_threshold_a_student_can_probe(scaled):
    """A red team's find: with the values hidden, "b = t, c = sin(t)" was carried forward exactly when
    t > 1e-9·|b| (32 submissions recovered |b| = 0.6931472), and "c = 1, a = 1/t, f = −t" passed
    exactly when t ≤ 1e-14 × the largest value (dy/dx = 1208.38 recovered in 30). Oracle: two
    references at the same inputs whose hidden values differ (b seven times larger, the largest
    value a thousand times); where each probe switches must not move."""
    other = REF.replace(scaled.split(" = ")[0] + " = " + ("ln(x)" if scaled.startswith("b") else "exp(a)"), scaled)
    assert other != REF
    assert graphlang.parse(REF).evaluate(AT).value != graphlang.parse(other).evaluate(AT).value

    def carried(ref: str, t: float) -> bool:
        rep = grade_answers(ref, {"b": t, "c": math.sin(t)}, AT, show_expected=False)
        return next(i for i in rep.items if i.name == "c").passed

    def sign(ref: str, t: float) -> bool:
        rep = grade_answers(ref, {"c": 1.0, "a": 1.0 / t, "f": -t}, AT, show_expected=False)
        return next(i for i in rep.items if i.name == "f").passed

    for probe in (carried, sign):
        here, there = (_switch(lambda t, r=r, p=probe: p(r, t)) for r in (REF, other))
        assert here == pytest.approx(there, rel=1e-6), probe.__name__


def test_a_key_the_file_gives_twice_differently_fails_that_item_alone():
    """{"b": 0.693, ..., "b": 0.6931} (both right) refused the whole file: 0/18, every item "no
    answer", while the same under "b " (another name for b) scored that item alone. Now a key
    repeated with another value is one quantity answered twice: right twice passes, a wrong one of
    the two fails that item, the rest of the file is graded. Oracle: the reference's values."""
    key = load("student_correct.json")
    b = key["b"]
    for second, passes in ((b * (1 + 2e-6), True), (b + 1.0, False)):
        text = json.dumps(key)[:-1] + f', "b": {second!r}}}'
        answers, why = parse_answers(text)
        assert why == ""
        rep = grade_answers(REF, answers, AT)
        item = next(i for i in rep.items if i.name == "b")
        assert item.passed == passes and (passes or "'b' twice in the file" in item.message)
        assert all(i.passed for i in rep.items if i.name != "b")


def test_a_node_named_like_an_adjoint_is_fine_where_no_adjoint_can_be_meant():
    """A hand-written backward pass (outputs y, g_x: a vector output, no adjoints) was refused."""
    ref = "a = x * z\ng_a = z\ny = a + 1\noutput y, g_a\n"
    rep = grade_answers(ref, {"a": 6, "g_a": 3, "y": 7}, {"x": 2, "z": 3}, quantities=["a", "g_a", "y"])
    assert rep.passed


def test_zero_is_right_for_a_roundoff_of_zero_under_every_comparison():
    """dJ/dc for a shift c of every logit is 0 exactly; float64 makes it 1.25e-16, and under sigfig
    only that very roundoff passed (3 significant figures of 1e-16). Oracle: shift invariance."""
    from graphlang.grading.compare import Comparison
    ref = "u = z + c\nJ = -dot(t, logsoftmax(u))\n"
    at = {"z": [1.0, -2.0, 0.5], "c": 0.7, "t": [0.0, 1.0, 0.0]}
    r = graphlang.parse(ref).evaluate(at)
    assert abs(r.gradient["c"]) < 1e-15
    for cmp in (Comparison("sigfig", digits=3), Comparison("decdig", digits=2), Comparison("relabs", 1e-5, 0)):
        rep = grade_answers(ref, {"dJ/dc": 0}, at, quantities=["dJ/dc"], comparison=cmp)
        assert rep.passed, cmp
    assert not grade_answers(ref, {"dJ/dc": 0.01}, at, quantities=["dJ/dc"],
                             comparison=Comparison("decdig", digits=3)).passed


def test_a_huge_wrong_answer_is_not_echoed_whole():
    """300,000 numbers for one quantity made a 1.5 MB report row (its `got` echoed in full); past
    SHOWN numbers the report shows the first five and how many there were."""
    rep = grade_answers(REF, {"a": [0.5] * 300_000}, AT)
    item = next(i for i in rep.items if i.name == "a")
    assert not item.passed and "shape" in item.message
    shown = item.to_json()["got"]
    assert shown == "[0.5, 0.5, 0.5, 0.5, 0.5, ...] (300,000 numbers)"
    assert len(json.dumps(rep.to_json())) < 10_000


def test_a_program_with_other_inputs_says_so_in_its_closing_line():
    """Every other failing program ends with "First disagreement: …"; one missing an input did not."""
    rep = grade_program(REF, "y = x + x\n", AT)
    assert rep.root_cause == "inputs" and rep.feedback[-1] == "First disagreement: inputs (missing input(s): z)."



def test_hidden_values_are_not_filled_in_for_an_unanswered_earlier_step():
    """A red team's find: with g_a unanswered, "dy/dx" was carried forward as 3·g_a + g_b/2 with the
    reference's hidden g_a; a chosen wrong g_b and a probe of dy/dx read g_a back (57 files). Hidden,
    a step is carried forward only from the student's own answers. Oracle: the lecture's
    ∂y/∂x = g_a·z + g_b/x, with g_a from the reference evaluated here."""
    g_a = graphlang.parse(REF).evaluate(AT).adjoints["a"]
    g_b = 10.0  # wrong on purpose
    probe = {"g_b": g_b, "dy/dx": g_a * 3 + g_b / 2}
    for shown in (True, False):
        rep = grade_answers(REF, probe, AT, show_expected=shown)
        item = next(i for i in rep.items if i.name == "dy/dx")
        assert item.ecf == shown and item.passed == shown
    with_g_a = grade_answers(REF, {**probe, "g_a": g_a}, AT, show_expected=False)  # answered: carried
    assert next(i for i in with_g_a.items if i.name == "dy/dx").ecf


def test_three_answers_to_one_quantity_need_all_three_right():
    """{"dy/dx": right, "dy/dx": 5, "dy/dx": right} scored 2/2: only the last other answer was judged."""
    right = graphlang.parse(REF).evaluate(AT).gradient["x"]
    text = '{"dy/dx": %r, "dy/dx": 5, "dy/dx": %r}' % (right, right)
    answers, why = parse_answers(text)
    rep = grade_answers(REF, answers, AT)
    item = next(i for i in rep.items if i.name == "dy/dx")
    assert why == "" and not item.passed and "answered twice" in item.message


def test_the_hidden_scale_is_the_students_own_number():
    """A red team's find: "dy/dx": 1210 (right to 3 figures) made the negligible-answer threshold
    1e-9 × 1208.3812150… (the reference's value), read back in 39 files by bisecting on a tiny `a`.
    Oracle: two references whose dy/dx differ (1208.38, 1208.98) but both round to the student's 1210;
    where the probe switches must not move."""
    other = REF.replace("y = d + e + f", "y = d + e + f + 0.3 * x")
    assert graphlang.parse(other).evaluate(AT).gradient["x"] != graphlang.parse(REF).evaluate(AT).gradient["x"]
    how = Comparison("sigfig", digits=3)

    def refused(ref: str, t: float) -> bool:
        rep = grade_answers(ref, {"dy/dx": 1210, "a": t, "d": 1.0}, AT, show_expected=False, comparison=how)
        assert next(i for i in rep.items if i.name == "dy/dx").passed
        return not next(i for i in rep.items if i.name == "d").ecf

    here, there = (_switch(lambda t, r=r: refused(r, t), 1e-12, 1e-3) for r in (REF, other))
    assert here == pytest.approx(there, rel=1e-9)


def _figures(value, n=3):
    """What a student writes: every element rounded to n significant figures."""
    import numpy as np
    return np.vectorize(lambda v: float(f"{v:.{n - 1}e}"))(np.asarray(value, dtype=float)).tolist()


@pytest.mark.parametrize("hidden", [False, True])
def test_ecf_credits_steps_worked_unrounded_and_written_to_the_figures_asked(hidden):
    """The shipped log10 slip written to 3 figures (as the assignment asks) scored 13/18: c was
    checked against sin(0.301) = 0.296478, not the student's sin(0.30103) rounded (0.297), and
    dy/dz against 407·2 = 814, not 813. Oracle: the student's own unrounded chain (the file of
    full-precision answers) rounded to 3 figures; only b is wrong."""
    cmp = Comparison("sigfig", digits=3)
    rounded = {k: _figures(v) for k, v in load("student_log10.json").items()}
    rep = grade_answers(REF, rounded, AT, comparison=cmp, show_expected=not hidden)
    assert [i.name for i in rep.items if not i.passed] == ["b"]
    assert {"c", "e", "f", "y", "g_b", "g_a", "dy/dx", "dy/dz"} <= {i.name for i in rep.items if i.ecf}
    for name, wrong in (("c", 0.300), ("dy/dz", 818.0)):  # an independent slip beyond the rounding
        rep = grade_answers(REF, {**rounded, name: wrong}, AT, comparison=cmp, show_expected=not hidden)
        assert {"b", name} <= {i.name for i in rep.items if not i.passed}


def test_ecf_rounding_slack_holds_for_vectors():
    """dJ/dx = Wᵀ g_u after a sign slip in g_u, every answer written to 3 figures, was not credited.
    Oracle: numpy's Wᵀ(−g_u) from the unrounded slip, rounded."""
    import numpy as np
    ref = "input x[3]\ninput W[2,3]\nu = W @ x\nJ = 0.5 * sum(u * u)\n"
    at = {"x": [0.37, -1.21, 0.83], "W": [[0.512, -0.377, 1.093], [-0.244, 0.861, 0.158]]}
    W, x = np.array(at["W"]), np.array(at["x"])
    u = W @ x
    slip = -u  # g_u with the sign turned
    answers = {"u": _figures(u), "J": _figures(0.5 * u @ u), "g_J": 1.0, "g_u": _figures(slip),
               "dJ/dx": _figures(W.T @ slip), "dJ/dW": _figures(np.outer(slip, x))}
    rep = grade_answers(ref, answers, at, comparison=Comparison("sigfig", digits=3))
    assert [i.name for i in rep.items if not i.passed] == ["g_u"], [(i.name, i.message) for i in rep.items]
    assert {i.name for i in rep.items if i.ecf} == {"dJ/dx", "dJ/dW"}
    bad = {**answers, "dJ/dx": _figures(W.T @ slip * 1.01)}  # 1 % off: beyond 3 figures' rounding
    assert "dJ/dx" in [i.name for i in grade_answers(ref, bad, at, comparison=Comparison("sigfig", digits=3)).items
                       if not i.passed]


@pytest.mark.parametrize("same_signs", [False, True])
def test_the_closing_line_says_which_signs_were_checked(same_signs):
    """With same_signs = true the report still said "at 17 points (of both signs …)" (a TA's find).
    Oracle: the points themselves (sample_points), whose signs the words must match."""
    rep = grade_program(REF, REF, AT, same_signs=same_signs)
    pts = sample_points(graphlang.parse(REF), AT, 20, 0, same_signs=same_signs)
    both = any(p["x"] < 0 or p["z"] < 0 for p in pts)
    assert both == (not same_signs)
    assert rep.passed and ("of both signs" in rep.feedback[-1]) == both
    assert ("each input keeping its sign" in rep.feedback[-1]) == same_signs


def test_a_program_that_does_not_parse_is_located_like_the_compilers_do():
    """"Your program has an error at your program:1:14: …" read oddly (a TA's find); the feedback is
    the located error itself, its line and caret."""
    rep = grade_program(REF, "a = x * z +\n", AT)
    assert not rep.passed and rep.feedback[-1].startswith("your program:1:12: syntax error")
    assert "^" in rep.feedback[-1]


def test_program_feedback_never_says_minus_zero():
    from graphlang.grading.compare import short
    assert short(-0.0) == "0" and "-0" not in short([-0.0, 1.5])


def test_answers_written_as_strings_are_told_so():
    """A file of strings ({"a": "6"}) got "The first wrong step is a" where the trouble is the format
    (a TA's find). Oracle: the right numbers, quoted."""
    r = graphlang.parse(REF).evaluate(AT)
    rep = grade_answers(REF, {"a": str(r.values["a"]), "b": f"{r.values['b']:.6f}"}, AT)
    a = next(i for i in rep.items if i.name == "a")
    assert not a.passed and 'not "6.0"' in a.message
    assert any("are strings, not numbers" in f for f in rep.feedback)
    assert not any(f.startswith("The first wrong step") for f in rep.feedback)
    junk = grade_answers(REF, {"a": "six"}, AT)  # not a number at all: no "write …"
    assert "write" not in next(i for i in junk.items if i.name == "a").message


def test_one_submission_has_the_batchs_time_limit(cli, tmp_path):
    """`check --submission` had no wall-clock limit (a batch has one per submission): a student's
    program that ran for minutes held up an autograder that calls the CLI once per student."""
    slow = tmp_path / "slow.cg"  # 9,000 statements: ≈ 1 s of CPU to grade, under the size limit
    slow.write_text("a0 = x * z\n" + "".join(f"a{i} = sin(a{i - 1})\n" for i in range(1, 9000))
                    + "y = a8999 * 0 + exp(x * z) + x * z / ln(x) + sin(ln(x)) / (x * z)\n")
    args = ["check", str(HW / "reference.cg"), "--at", "x=2,z=3", "--submission"]
    assert cli(*args, str(HW / "student_ok.cg")).code == 0
    late = cli(*args, str(slow), "--timeout", "0.05", "--json")
    assert late.code == 1 and late.json()["feedback"] == ["the submission took longer than 0.05 s"]
    assert late.json()["score"] == 0 and late.json()["max_score"] == cli(*args, str(slow), "--json").json()["max_score"]


def test_one_submission_has_the_batchs_memory_limit(cli, tmp_path):
    """A TA's find: under an assignment's memory_mb = 20, `check --submission` graded a program of
    two 1000 × 1000 matrices 17/17 in its own process, where `--batch` and Gradescope gave 0/17.
    Oracle: the batch's own row for the same file."""
    big = tmp_path / "subs" / "big.cg"
    big.parent.mkdir()
    big.write_text("M = [" + ",".join(["[1]"] * 1000) + "] * [" + ",".join(["1"] * 1000) + "] * x\n"
                   "y = exp(x * z) + x * z / ln(x) + sin(ln(x)) / (x * z) + 0 * sum(sin(M) * z)\n")
    asg = tmp_path / "a.toml"
    asg.write_text(f'reference = "{HW / "reference.cg"}"\nat = {{ x = 2, z = 3 }}\nsubmit = "program"\n'
                   "[limits]\nmemory_mb = 20\n")
    one = cli("check", "--assignment", str(asg), "--submission", str(big), "--json").json()
    (row,) = cli("check", "--assignment", str(asg), "--batch", str(big.parent), "--json").json()["submissions"]
    assert row["status"] == "out of memory" and one["score"] == row["score"] == 0
    assert one["feedback"] == row["feedback"] == ["the submission needed more than 20 MB of memory"]


@pytest.mark.parametrize("e,credited", [(1.0, False), (300.0, False), (380.0, False), (400.0, True),
                                        (900.0, True), (1200.0, True), (1300.0, False)])
def test_ecf_takes_the_range_the_rounding_gives_not_a_band_of_its_widest_side(e, credited):
    """e = a/b after b written 0.01 (decdig 2: b in [0.005, 0.015]) lies in [400, 1200]; the first
    rounding rule accepted anything in (0, 1200] (a red team's find). Oracle: 6/0.015 and 6/0.005."""
    ref = "a = x * z\nb = ln(x)\ne = a / b\n"
    rep = grade_answers(ref, {"a": 6.0, "b": 0.01, "e": e}, AT, comparison=Comparison("decdig", digits=2))
    item = next(i for i in rep.items if i.name == "e")
    assert item.passed == credited and item.ecf == credited


def test_ecf_moves_an_earlier_answer_only_as_far_as_its_own_comparison_allows():
    """d = exp(a) compared loosely (relabs 0.1) let a = 7 move by ±0.5 (d's allowance): d = 1500 was
    consistent. a's own comparison (sigfig 3) allows 7 ± 0.0051. Oracle: exp(7 ∓ 0.0051) ± 10 %."""
    import numpy as np
    ref = "a = x * z\nd = exp(a)\n"
    loose = {"d": Comparison("relabs", rtol=0.1, atol=0.0)}
    for d, credited in ((1500.0, False), (800.0, False), (float(np.exp(7.0)), True), (1150.0, True)):
        rep = grade_answers(ref, {"a": 7.0, "d": d}, AT, comparison=Comparison("sigfig", digits=3), comparisons=loose)
        assert next(i for i in rep.items if i.name == "d").passed == credited, d


def test_a_debug_line_not_computed_from_y_is_graded_and_the_feedback_names_it():
    """`dbg = a * 2` after a right y became the graded output with nothing saying so (a docs red
    team): 2/5 and "12, expected 412.191". Oracle: a = x·z = 6, so dbg = 12 at (2, 3)."""
    from graphlang.grading.programs import grade_program
    ref = (HW / "reference.cg").read_text()
    right = "a = x*z\nb = ln(x)\ny = exp(a) + a / b + sin(b) / a\n"
    rep = grade_program(ref, right + "dbg = a * 2\n", {"x": 2, "z": 3})
    assert not rep.passed and "at x=2, z=3: 12, expected 412.191" in str(rep.to_json())
    assert rep.feedback[-1] == ("Graded dbg, your program's output (its last assigned name), against the "
                                "reference's y: if y is your answer, end with it or write `output y`.")
    named = grade_program(ref, right + "dbg = a * 2\noutput dbg\n", {"x": 2, "z": 3})
    assert named.feedback[-1].startswith("Graded dbg, your program's output, against")
    assert not any("Graded" in f for f in grade_program(ref, right, {"x": 2, "z": 3}).feedback)
    renamed = "a = x*z\nb = ln(x)\nloss = exp(a) + a / b + sin(b) / a\n"  # any name, right values
    assert grade_program(ref, renamed, {"x": 2, "z": 3}).passed


def test_the_graded_output_note_only_where_the_references_name_is_there_to_choose():
    """The note advised `output y` to a program with no y (`loss = …` wrong) and to one whose y is
    itself wrong and read by the debug line (a red team). Oracle: the programs' own names."""
    from graphlang.grading.programs import grade_program
    ref = (HW / "reference.cg").read_text()
    at = {"x": 2, "z": 3}
    no_y = grade_program(ref, "a = x*z\nb = ln(x)\nloss = exp(a) + a / b - sin(b) / a\n", at)
    wrong_y = grade_program(ref, "a = x*z\nb = ln(x)\ny = exp(a) + a / b - sin(b) / a\ndbg = y * 2\n", at)
    for rep in (no_y, wrong_y):
        assert not rep.passed and not any(f.startswith("Graded") for f in rep.feedback), rep.feedback


def test_a_transposed_gradient_or_a_column_vector_is_told_what_it_is():
    """A TA's find: numerator layout got "shape [2, 3] but expected [3, 2]" and nothing more. The
    oracle: numpy's own gradient of sum(tanh(A.T @ x)) by hand, its transpose and a column of b."""
    import numpy as np
    A, x = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]), np.array([1.0, -2.0])
    gA = np.outer(x, 1 - np.tanh(A.T @ x) ** 2)  # dJ/dA in denominator layout: A's shape [2, 3]
    src = "input x[2]\nparam A[2, 3]\nJ = sum(tanh(A.T @ x))\n"
    rep = grade_answers(src, {"dJ/dA": gA.T.tolist(), "dJ/dx": (A @ (1 - np.tanh(A.T @ x) ** 2))[:, None].tolist()},
                        {"x": x.tolist(), "A": A.tolist()}, quantities=["dJ/dA", "dJ/dx"])
    msgs = {i.name: i.message for i in rep.items}
    assert msgs["dJ/dA"].startswith("shape [3, 2] but expected [2, 3]: the transpose's shape") and \
        "denominator layout" in msgs["dJ/dA"], msgs
    assert msgs["dJ/dx"] == "shape [2, 1] but expected [2]: write a vector as one list of 2 numbers, not as a column"
    assert grade_answers(src, {"dJ/dA": gA.tolist()}, {"x": x.tolist(), "A": A.tolist()},
                         quantities=["dJ/dA"]).items[0].passed  # (the oracle is right in its own layout)


def test_a_tensor_in_feedback_is_one_line_as_the_language_writes_it():
    """A TA's find: each failed item of a program repeated its check point as numpy's printout, a
    matrix's rows on lines of their own (nine lines of a table cell). Oracle: the text read back by
    the language's own literal syntax is the array (to its 4 figures)."""
    import numpy as np

    from graphlang.grading.compare import short
    rng = np.random.default_rng(3)
    for shape in [(3,), (3, 2), (2, 2, 2), (1, 4)]:
        a = np.round(rng.normal(size=shape), 3)
        text = short(a)
        assert "\n" not in text and "  " not in text
        back = graphlang.parse(f"y = sum({text})\n").evaluate({}).value
        assert back == pytest.approx(float(np.sum(a)), abs=1e-9), text
    assert short(np.arange(100.0)) == "[0, 1, 2, …, 98, 99]"


def test_words_beside_a_number_and_a_single_wrong_step_are_said_as_they_are():
    """A TA's find: "approx -0.664" and "0.215 (rounded)" were "not a number" and uncounted among the
    strings ("1 answer(s) are strings (s)"); one wrong answer, the last step, was "the first wrong step
    ... later steps may only be wrong because of it". Oracle: the lecture's values by hand."""
    src = "a = x * z\nb = ln(x)\ny = a + b\n"
    at = {"x": 2.0, "z": 3.0}  # a = 6, b = ln 2, y = 6 + ln 2; dy/dx = z + 1/x = 3.5, dy/dz = x = 2
    rep = grade_answers(src, {"a": "approx 6", "b": "0.693 (rounded)", "y": "6.69"}, at, quantities=["a", "b", "y"])
    msgs = {i.name: i.message for i in rep.items}
    assert "write only the number, 6, unquoted" in msgs["a"] and "write only the number, 0.693" in msgs["b"]
    assert any("3 answer(s) are strings" in f and "a, b, y" in f for f in rep.feedback), rep.feedback
    one = grade_answers(src, {"a": 6, "b": math.log(2), "y": 6 + math.log(2), "dy/dx": -3.5, "dy/dz": 2},
                        at, quantities=["a", "b", "y", "dy/dx", "dy/dz"])
    assert one.feedback[-1] == "One step is wrong: dy/dx." or "One step is wrong: dy/dx." in one.feedback, one.feedback
    assert not any("later steps" in f for f in one.feedback)


@pytest.mark.parametrize("text", [b"", b"  \n", b"\xef\xbb\xbf\n"])
def test_an_empty_answers_file_is_said_to_be_empty(text):
    """A TA's find: an empty file read "not valid JSON (line 1, column 1): Expecting value"."""
    got, why = parse_answers(text)
    assert got is None and "is empty" in why and "JSON object of answers" in why


def test_a_vector_output_is_graded_as_the_references_several_outputs_joined():
    """A TA's find: `y = [sum(h * h), x * exp(-z)]` for `output y1, y2` scored 3.6/9 ("the output is
    shape [2]; the reference's is 2 outputs"), where the language joins several outputs into one
    vector (SPEC's Jacobian rule). The same numbers pass; a wrong element or a third one does not."""
    ref = "h = tanh(x + 2 * z)\ny1 = h * h\ny2 = x * exp(-z)\noutput y1, y2\n"
    at = {"x": 0.5, "z": -0.4}
    same = grade_program(ref, "h = tanh(x + 2 * z)\ny = [h * h, x * exp(-z)]\n", at)
    assert same.score == same.max_score, [(i.name, i.message) for i in same.items]
    assert any("compared element by element" in f for f in same.feedback)
    wrong = grade_program(ref, "h = tanh(x + 2 * z)\ny = [h * h, x * exp(z)]\n", at)
    assert wrong.score < wrong.max_score
    column = grade_program(ref, "h = tanh(x + 2 * z)\ny = [[h * h], [x * exp(-z)]]\n", at)  # (2, 1): flattened
    assert column.score == column.max_score, [(i.name, i.message) for i in column.items]
    longer = grade_program(ref, "h = tanh(x + 2 * z)\ny = [h * h, x * exp(-z), x]\n", at)
    assert any("the reference's is 2 outputs" in i.message for i in longer.items)


def test_the_template_without_an_assignment_asks_what_grading_asks(cli, write):
    """A review's find: `check REF --template` (no assignment) still listed k = 2 and g_k, which
    grading then ignored ("not asked"); its list was a copy of the default quantities."""
    path = write("k = 2\na = x * z\ny = k * a\n")
    ran = cli("check", path, "--at", "x=2,z=3", "--template")
    assert ran.code == 0 and list(json.loads(ran.out)) == ["a", "y", "g_y", "g_a", "dy/dx", "dy/dz"], ran.out
    filled = {"a": 6, "y": 12, "g_y": 1, "g_a": 2, "dy/dx": 6, "dy/dz": 4}  # by hand: y = 2xz
    rep = grade_answers("k = 2\na = x * z\ny = k * a\n", filled, {"x": 2, "z": 3})
    assert rep.passed and rep.score == 6 and not rep.feedback, rep.feedback


@pytest.mark.parametrize(("text", "said"), [
    ("approx -0.664", "write only the number, -0.664, unquoted"), ("0.215 (rounded)", "write only the number, 0.215"),
    ("sqrt(2)", "write the number a formula stands for"), ("e^2", "write the number a formula stands for"),
    ("pi/2", "write the number a formula stands for"), ("ln(2)", "write the number a formula stands for")])
def test_a_formula_in_a_string_is_not_read_as_its_digits(text, said):
    """A review's find: "sqrt(2)" was told "write only the number, 2": a formula's digit is not its value."""
    from graphlang.grading.answerform import malformed
    assert said in malformed(text, 1.0)


@pytest.mark.parametrize("in_list", [False, True])
def test_an_integer_past_python_s_repr_is_reported_not_raised(in_list):
    """An attacker's find: `grade_answers` took a = 10**5000 (from the API; JSON refuses it), then
    `report.to_json()` raised ValueError (an int of over 4,300 digits has no repr)."""
    huge = [1, 10**5000] if in_list else 10**5000
    rep = grade_answers("a = x * z\ny = a + 1\n", {"a": huge}, {"x": 2, "z": 3}, quantities=["a"])
    assert not rep.passed
    shown = json.dumps(rep.to_json()) + json.dumps(rep.to_gradescope())
    assert "past float64's range" in shown, shown[:300]  # (said, and shown bounded: no repr of it)


@pytest.mark.parametrize("text", ["٦", "０.６９３", "1e400", "approx 1e400"])
def test_no_hint_to_write_unquoted_what_json_would_not_take(text):
    """An attacker's find: "٦" was told `write ٦, not "٦"` and "1e400" "write only the number, 1e400",
    neither a number JSON (or float64) takes."""
    from graphlang.grading.answerform import malformed
    assert malformed(text, 1.0) == "not a number or a list of numbers (a string)"


def test_ignored_keys_are_named_ten_at_most_and_short():
    """An attacker's find: 60,000 unknown keys made a 3.7 MB results.json of "ignored" lines, and a
    500,000-character key was echoed whole."""
    answers = {f"k{i}": 1.0 for i in range(5000)} | {"x" * 100_000: 1.0, "a": 6}
    rep = grade_answers("a = x * z\ny = a + 1\n", answers, {"x": 2, "z": 3}, quantities=["a"])
    said = [f for f in rep.feedback if f.startswith("ignored")]
    assert len(said) == 10 and rep.feedback[-1] == "... and 4,991 more keys ignored", rep.feedback[-2:]
    assert len(json.dumps(rep.to_json())) < 5000 and rep.items[0].passed


def test_answers_only_rounded_too_far_are_not_named_the_first_wrong_step():
    """A student's hand answers to 4 figures with one real slip (g_b = -12.62, the truth -12.36): the
    summary named b (0.6931, only rounded) "the first wrong step". The slip is named, the rounding
    said once. Oracle: the lecture's values rounded to 4 significant figures by hand (math)."""
    x, z = 2.0, 3.0
    a, b = x * z, math.log(x)
    c, d, e, f = math.sin(b), math.exp(a), a / b, math.sin(b) / a
    g_c = 1 / a
    g_b = g_c * math.cos(b) - a / b ** 2
    exact = dict(a=a, b=b, c=c, d=d, e=e, f=f, y=d + e + f, g_y=1, g_f=1, g_e=1, g_d=1, g_c=g_c, g_b=g_b)
    four = {k: float(f"{v:.4g}") for k, v in exact.items()}
    assert abs(g_b - -12.36) < 0.001  # (the slip is a slip: -12.62 is no rounding of it)
    rep = grade_answers(graphlang.load(PROGRAMS / "lecture13.cg"), {**four, "g_b": -12.62}, {"x": x, "z": z})
    assert rep.root_cause == "g_b"
    said = "\n".join(rep.feedback)
    assert "answers are right but rounded to fewer figures than asked (b, c, d, e, ...)" in said
    assert "One step is wrong: g_b." in said and "first wrong step is b" not in said
    rep = grade_answers(graphlang.load(PROGRAMS / "lecture13.cg"), exact, {"x": x, "z": z})
    assert rep.root_cause is None and "rounded to fewer figures" not in "\n".join(rep.feedback)
    # a "close" answer 19 % off (-10 for -12.36: a comparison's 1 figure) is a wrong step, not rounding
    rep = grade_answers(graphlang.load(PROGRAMS / "lecture13.cg"), {**exact, "g_b": -10.0}, {"x": x, "z": z})
    assert rep.root_cause == "g_b" and "rounded to fewer figures" not in "\n".join(rep.feedback)


def test_answers_at_the_edge_of_float64_grade_without_a_word_on_stderr(capfd):
    """e = 1e308 and y = -1e308: the carried-forward check subtracted them and numpy printed a
    RuntimeWarning on stderr (nbgrader scores 0 when anything reaches stderr; the library never prints)."""
    import warnings

    from graphlang.grading.assignment import Assignment

    asg = Assignment.load(PROGRAMS / "homework" / "assignment.toml")
    answers = {"a": 6, "b": 0.693, "c": 0.639, "d": 403, "e": 1e308, "f": 0.106, "y": -1e308}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning fails the test
        rep = asg.grade_answers(answers)
    assert [i.name for i in rep.items if i.passed][:4] == ["a", "b", "c", "d"]  # (by hand: the lecture's values)
    assert not any(i.passed for i in rep.items if i.name in ("e", "y"))
    assert capfd.readouterr().err == ""


def test_the_arbiters_decimal_work_is_bounded_for_the_whole_submission_and_never_crashes_it():
    """A TA's finds: a correct submission with `q ^ [m].T` broadcast to 700×700 timed out from the
    decimal arbiter alone (180,000 decimal powers, counted after they were made), and one whose
    derivative program was past the element limit at a far point crashed the grader ("internal error
    (GraphlangError)", blamed on assignment.toml). Both are the reference plus 0·(…), so correct:
    full marks, by hand."""
    import numpy as np

    from graphlang.engines import exact
    ref = "a = x * z\nb = ln(x)\nc = sin(b)\nd = exp(a)\ne = a / b\nf = c / a\ny = d + e + f\n"
    for m in (300, 1000):
        ms = ", ".join(str(1 + k / m) for k in range(m))
        sub = ref.replace("y = d + e + f", f"q = [{ms}]\nw = sum(x ^ (q * [q].T)) * 0\ny = d + e + f + w")
        rep = grade_program(ref, sub, {"x": 2, "z": 3})
        assert rep.score == rep.max_score, rep.as_text()
    with exact.budget(10), pytest.raises(exact.Unsupported):  # one budget across calls
        prog = graphlang.parse("input v[8]\ny = sum(exp(v))\n")
        exact.forward(prog.graph, prog.bind({"v": np.zeros(8)})[0], 40, 50_000)
        exact.forward(prog.graph, prog.bind({"v": np.zeros(8)})[0], 40, 50_000)


def test_a_program_of_many_inputs_is_checked_at_a_bounded_number_of_points():
    """A scaling red team's find: 500 scalar inputs made 1,001 check points (one per input turned
    alone), and the reference itself, graded as a submission, ran past the time limit (0/503). Past
    32 inputs the points stop at 65 and later rounds turn the inputs' signs in combinations. Oracle:
    the reference is right by construction; a submission wrong only where x39 < 0 is still caught."""
    n = 40
    head = "input " + ", ".join(f"x{i}" for i in range(n)) + "\n"
    body = "s0 = sin(x0)\n" + "".join(f"s{i} = s{i - 1} + sin(x{i}) * x{i}\n" for i in range(1, n))
    at = {f"x{i}": 0.5 + i / 100 for i in range(n)}
    ref = head + body
    rep = grade_program(ref, ref, at)
    assert rep.passed and "at 65 points" in " ".join(rep.feedback), rep.feedback
    for k in (n - 1, 35, 33):  # past the 32 turned alone: caught by the far points' random signs
        wrong = ref.replace(f"sin(x{k}) * x{k}\n", f"sin(x{k}) * abs(x{k})\n")
        assert wrong != ref and not grade_program(ref, wrong, at).passed, k


def test_a_square_matrix_written_transposed_is_told_so_where_values_are_shown():
    """A TA's find: dJ/dW for a 3×3 W written in numerator layout (its transpose) was plain
    "incorrect", where a non-square one is told "the transpose's shape". Oracle: ∂J/∂W =
    x (softmax(u) − t)ᵀ by hand, in numpy."""
    import numpy as np
    ref = "input x[3], t[3]\nparam W[3, 3]\nu = W.T @ x\nJ = -sum(t * logsoftmax(u))\n"
    at = {"x": [1, -0.5, 2], "t": [0, 1, 0], "W": [[0.2, -0.1, 0.4], [0.5, 0.3, -0.2], [-0.3, 0.2, 0.1]]}
    x, t, w = (np.array(at[k], dtype=float) for k in ("x", "t", "W"))
    u = w.T @ x
    g = np.outer(x, np.exp(u) / np.exp(u).sum() - t)  # ∂J/∂W = x (softmax(u) − t)ᵀ, by hand
    rep = grade_answers(ref, {"dJ/dW": g.T.tolist()}, at, quantities=["dJ/dW"])
    assert "it is the transpose of the value" in rep.items[0].message
    hidden = grade_answers(ref, {"dJ/dW": g.T.tolist()}, at, quantities=["dJ/dW"], show_expected=False)
    assert hidden.items[0].message == "incorrect"  # (nothing that depends on the hidden value)
    assert grade_answers(ref, {"dJ/dW": g.tolist()}, at, quantities=["dJ/dW"]).passed


def test_a_long_check_point_is_named_in_the_items_and_written_out_once():
    """A TA's find: a network's point (six tensors) was written out in every failed item, 12 lines
    each. Items past 100 characters of values say "at check point 1", and the feedback writes the
    point once. Oracle: the assignment's own values, as given."""
    ref = ("input x[3], t[3]\nparam W[3, 3], b[3]\nu = W.T @ x + b\nJ = -sum(t * logsoftmax(u))\n")
    at = {"x": [1.0, -0.5, 2.0], "t": [0, 1, 0], "W": [[0.2, -0.1, 0.4], [0.5, 0.3, -0.2], [-0.3, 0.2, 0.1]],
          "b": [0.1, 0.0, -0.2]}
    rep = grade_program(ref, ref.replace("logsoftmax(u)", "u"), at)
    failed = [i for i in rep.items if not i.passed]
    assert failed and all(i.message.startswith("at check point 1: ") for i in failed), failed
    assert sum("W=[[0.2, -0.1, 0.4]" in f for f in rep.feedback) == 1, rep.feedback
    assert any(f.startswith("check point 1: x=[1, -0.5, 2], t=[0, 1, 0], W=") for f in rep.feedback)
    short = grade_program("y = x * z\n", "y = x + z\n", {"x": 2, "z": 3})  # a short point: inline as before
    assert next(i for i in short.items if not i.passed).message.startswith("at x=2, z=3: ")


def test_a_long_check_point_named_only_in_a_note_is_written_out_too():
    """A reviewer's find: a passing program's note "Not compared at 11 point(s) … (check point 9)"
    named a point that no line wrote out. Oracle: every label said has its line."""
    import re as re_
    ref = "input x[6], t\nparam w[6], b\nu = dot(w, x) + b\nJ = -(t * logsigmoid(u) + (1 - t) * logsigmoid(-u))\n"
    naive = ("input x[6], t\nparam w[6], b\nu = dot(w, x) + b\np = 1 / (1 + exp(-u))\n"
             "J = -(t * ln(p) + (1 - t) * ln(1 - p))\n")
    at = {"x": [1.5, -2.25, 0.75, 3.125, -1.0625, 2.5], "t": 0, "w": [0.25, -0.5, 1.25, 0.75, -0.125, 0.5], "b": 0.2}
    rep = grade_program(ref, naive, at, n_points=40, seed=0)
    said = " ".join([*(i.message for i in rep.items), *rep.feedback])
    assert rep.passed and "Not compared at" in said and re_.search(r"check point \d+", said), rep.feedback
    for label in set(re_.findall(r"check point \d+", said)):
        assert any(f.startswith(f"{label}: x=") for f in rep.feedback), (label, rep.feedback)


def test_a_step_refused_for_a_wrong_zero_says_so():
    """An autograder red team's find: g_r = 0 (a forgotten branch) and dJ/dw worked from it was
    "incorrect" with no word why the consistent step was refused. By hand: J = l + r with r = 0.5·w²,
    so g_r = 1 (not 0), and dJ/dw = g_u·x + g_r·w."""
    ref = "u = w * x + b\ns = sigmoid(u)\nl = (s - t)^2\nr = 0.5 * w^2\nJ = l + r\n"
    at = {"w": 0.5, "x": 0.7, "b": -1.0, "t": 1.0}
    true = graphlang.parse(ref).evaluate(at)
    g_u = float(true.adjoints["u"])
    answers = {"g_r": 0.0, "g_u": g_u, "dJ/dw": g_u * 0.7 + 0.0 * 0.5}
    rep = grade_answers(ref, answers, at, quantities=list(answers))
    by = {i.name: i for i in rep.items}
    assert not by["g_r"].passed and by["g_u"].passed and not by["dJ/dw"].passed
    assert "it reads your g_r = 0, which is wrong" in by["dJ/dw"].message
    fine = grade_answers(ref, {**answers, "g_r": 1.0, "dJ/dw": g_u * 0.7 + 0.5}, at, quantities=list(answers))
    assert fine.passed and "reads your" not in " ".join(i.message for i in fine.items)


@pytest.mark.parametrize("given", [[2.0, 1.0], [1.01, 2.41]])
def test_a_wrong_slice_of_a_folded_input_is_graded_not_a_crash(given):
    """A bias-folding red team's find: dy/dx written as the wrong entries of g_xp ([2, 1] for [1, 2.4])
    crashed `check` (IndexError in the rounding credit); a batch scored the student 0 "crashed". By
    hand: xp = [1, 0.5, 1.2], g_xp = 2·xp = [2, 1, 2.4], dy/dx = g_xp's last two = [1, 2.4]."""
    ref = "input x[2]\nxp = concat(1, x)\ny = sum(xp * xp)\n"
    answers = {"xp": [1, 0.5, 1.2], "y": 2.69, "g_y": 1, "g_xp": [2, 1, 2.4], "dy/dx": given}
    from graphlang.grading.compare import Comparison
    rep = grade_answers(ref, answers, {"x": [0.5, 1.2]}, quantities=list(answers),
                        comparison=Comparison("sigfig", digits=3))
    assert [i.name for i in rep.items if not i.passed] == ["dy/dx"], [(i.name, i.message) for i in rep.items]


def test_a_required_name_the_reference_lacks_stops_before_anyone_is_graded(tmp_path):
    """An API red team's find: `required=["A"]` (for "a") scored every submission 5/6, the reference
    graded against itself included; as a misspelt `fixed` does, it is now the course's usage error."""
    ref = (PROGRAMS / "homework" / "reference.cg").read_text()
    with pytest.raises(graphlang.GraphlangError) as info:
        grade_program(ref, ref, {"x": 2, "z": 3}, required=["A"])
    assert info.value.kind == "usage" and "required: 'A' is not a node of the reference" in info.value.message
    assert grade_program(ref, ref, {"x": 2, "z": 3}, required=["a"]).passed
    from graphlang.checker import Assignment
    toml = (PROGRAMS / "homework" / "assignment.toml").read_text()
    (tmp_path / "reference.cg").write_text(ref)
    bad = tmp_path / "assignment.toml"
    bad.write_text(toml.replace("[program]", '[program]\nrequired = ["A"]', 1))  # (the reference beside it)
    with pytest.raises(graphlang.GraphlangError, match="required: 'A'"):
        Assignment.load(bad)


@pytest.mark.parametrize(("answer", "says"), [("6", 'write 6, not "6"'), ("1_0", "(a string)"), ("+6", None)])
def test_a_quoted_number_is_told_as_json_writes_it(answer, says):
    """An API red team's find: "1_0" (Python's 10, no JSON number) was told "write 1_0, not "1_0""."""
    ref = "a = x * z\ny = a + 1\n"
    item = next(i for i in grade_answers(ref, {"a": answer, "y": 7.0}, {"x": 2, "z": 3}).items if i.name == "a")
    assert not item.passed and "write 1_0" not in item.message
    assert says is None or says in item.message


def test_a_long_answer_string_is_refused_without_a_scan_of_it():
    """A review's find: a 20,001-character answer ("1" × 20,000 + "x") took 28 s to refuse (the number
    pattern backtracked over it before the length was looked at); it is a string, not a number."""
    ref = "a = x * z\ny = a + 1\n"
    long = "1" * 20_000 + "x"
    item = next(i for i in grade_answers(ref, {"a": long, "y": 7.0}, {"x": 2, "z": 3}).items if i.name == "a")
    assert not item.passed and "not a number" in item.message
