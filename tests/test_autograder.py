"""Autograder bundles: Gradescope's zip run as Gradescope runs it (results.json checked against the
specification's fields) and the PrairieLearn question's server.py called as PrairieLearn calls it."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import PROGRAMS

import graphlang
from graphlang.checker import Assignment
from graphlang.exercise import generate
from graphlang.grading import autograder, tomltext

ROOT = Path(__file__).resolve().parent.parent
HW = PROGRAMS / "homework"
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def test_the_wheel_requires_what_pyproject_requires():
    deps = tomltext.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(autograder.REQUIRES) == sorted(deps)


def test_the_zip_holds_the_scripts_the_assignment_and_a_wheel():
    data = autograder.gradescope_zip(Assignment.load(HW / "assignment.toml"))
    assert data == autograder.gradescope_zip(Assignment.load(HW / "assignment.toml"))  # reproducible
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    assert {"setup.sh", "run_autograder", "assignment.toml"} <= names
    assert any(n.startswith("graphlang-") and n.endswith(".whl") for n in names)
    for script in ("setup.sh", "run_autograder"):
        assert (zf.getinfo(script).external_attr >> 16) & stat.S_IXUSR
        assert zf.read(script).startswith(b"#!/usr/bin/env bash")
    assert Assignment.from_toml(zf.read("assignment.toml").decode()).max_score == 18


def test_the_wheel_installs_and_parses(tmp_path):
    name, data = autograder.wheel()
    (tmp_path / name).write_bytes(data)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                    str(target), str(tmp_path / name)], check=True, capture_output=True)
    code = ("import graphlang; print(graphlang.__file__); "
            "print(graphlang.parse('y = x * z').evaluate({'x': 2, 'z': 3}).value)")
    env = {**os.environ, "PYTHONPATH": str(target)}
    ran = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    where, value = ran.stdout.split()
    assert where.startswith(str(target)) and float(value) == 6.0


def _bundle(tmp_path: Path, assignment: Assignment) -> Path:
    """Gradescope's layout: the zip in ROOT/source, a submission folder, and a graphlang on PATH."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    zipfile.ZipFile(io.BytesIO(autograder.gradescope_zip(assignment))).extractall(root / "source")
    (root / "submission").mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "graphlang"
    shim.write_text(f"#!/usr/bin/env bash\nexec {sys.executable} -m graphlang \"$@\"\n")
    shim.chmod(0o755)
    return root


def _run(root: Path) -> dict:
    env = {**os.environ, "GRAPHLANG_AUTOGRADER_ROOT": str(root), "PYTHONPATH": str(ROOT),
           "PATH": f"{root.parent / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True, timeout=120)
    return json.loads((root / "results" / "results.json").read_text())


def _valid(results: dict) -> None:
    """Gradescope's results.json specification: score, tests[] (name, score, max_score, status,
    output, visibility); the score is the tests' sum here."""
    assert isinstance(results["score"], float) and isinstance(results["tests"], list) and results["tests"]
    assert results["visibility"] in VISIBILITY and results["stdout_visibility"] in VISIBILITY
    formats = ("text", "html", "simple_format", "md", "ansi")  # (Gradescope's output formats; text keeps carets)
    assert results["output_format"] == results["test_output_format"] == "text" and "text" in formats
    for t in results["tests"]:
        assert set(t) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert isinstance(t["name"], str) and isinstance(t["output"], str)
        assert t["status"] in ("passed", "failed") and t["visibility"] in VISIBILITY
        assert 0 <= t["score"] <= t["max_score"]
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_run_autograder_grades_every_kind_of_submission(tmp_path):
    asg = Assignment.load(HW / "assignment.toml")
    root = _bundle(tmp_path, asg)
    sub = root / "submission"
    cases = {"key": ("anything.json", json.dumps(asg.key())),
             "program": ("hw.cg", (HW / "student_ok.cg").read_text()),
             "not json": ("a.json", '{"a": 6,\n "b"}'),
             "debug": ("p.cg", (HW / "submissions" / "debug_line.cg").read_text())}
    maxima = set()
    for case, (name, text) in cases.items():
        for p in sub.iterdir():
            p.unlink()
        (sub / name).write_text(text)
        res = _run(root)
        _valid(res)
        maxima.add(res["max_score"])
        if case in ("key", "program", "debug"):
            assert res["score"] == 18, case
        else:
            assert res["score"] == 0 and "not valid JSON (line 2, column 5)" in res["output"]
    assert maxima == {18.0}
    for p in sub.iterdir():
        p.unlink()
    (sub / "notes.txt").write_text("hello")
    res = _run(root)
    _valid(res)
    assert res["score"] == 0 and res["tests"][0]["status"] == "failed" and "no .json" in res["tests"][0]["output"]
    (sub / "a.json").write_text("{}")
    (sub / "b.cg").write_text("y = x")
    res = _run(root)
    assert res["score"] == 0 and "2 gradable files" in res["tests"][0]["output"]



def test_run_gradescope_holds_the_assignments_time_limit(tmp_path):
    """run-gradescope graded in its own process with no limit: a slow submission held Gradescope's
    runner and no results.json was written. It is graded in a worker, as a batch grades it: a
    submission over the limit scores 0 with the reason; one within it is graded as before."""
    text = (HW / "assignment.toml").read_text()
    asg = Assignment.load(HW / "assignment.toml")
    root = _bundle(tmp_path, asg)
    chain = "".join(f"n{i} = sin(n{i - 1}) + x * z\n" for i in range(1, 3000))
    (root / "submission" / "slow.cg").write_text("n0 = x * z\n" + chain + "y = n2999\n")
    toml = root / "source" / "assignment.toml"
    bundled = toml.read_text()
    assert "timeout" in bundled
    toml.write_text(re.sub(r"timeout = [0-9.e+-]+", "timeout = 0.001", bundled))
    res = autograder.run_gradescope(root)
    _valid(res)
    assert res["score"] == 0 and "took longer than 0.001 s" in res["output"]
    toml.write_text(bundled)
    (root / "submission" / "slow.cg").write_text((HW / "student_ok.cg").read_text())
    res = autograder.run_gradescope(root)
    _valid(res)
    assert res["score"] == res["max_score"] == 18 and json.loads((root / "results" / "results.json").read_text()) == res
    assert text == (HW / "assignment.toml").read_text()

def test_cli_autograder_gradescope(cli, tmp_path):
    out = tmp_path / "autograder.zip"
    ran = cli("autograder", "gradescope", "--assignment", str(HW / "assignment.toml"), "-o", str(out))
    assert ran.code == 0 and zipfile.is_zipfile(out)
    assert cli("autograder", "moodle", "--assignment", str(HW / "assignment.toml"), "-o", str(out)).code == 2
    assert cli("autograder", "gradescope", "-o", str(out)).code == 2


def _server(folder: Path):
    spec = importlib.util.spec_from_file_location(f"pl_server_{abs(hash(str(folder)))}", folder / "server.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _data(seed: int, folder: Path) -> dict:
    """The dict PrairieLearn passes to generate() and grade()."""
    return {"params": {}, "correct_answers": {}, "submitted_answers": {}, "format_errors": {},
            "partial_scores": {}, "score": 0, "feedback": {}, "variant_seed": seed,
            "options": {"question_path": str(folder)}}


def test_prairielearn_question(tmp_path, cli):
    folder = tmp_path / "questions" / "lecture13"
    ran = cli("autograder", "prairielearn", "--assignment", str(HW / "assignment.toml"), "-o", str(folder))
    assert ran.code == 0
    info = json.loads((folder / "info.json").read_text())
    assert info["type"] == "v3" and len(info["uuid"]) == 36 and info["title"]
    html = (folder / "question.html").read_text()
    asg = Assignment.load(HW / "assignment.toml")
    assert html.count("<pl-number-input") == len(asg.quantities) and "<pl-graph>" in html
    assert 'comparison="sigfig" digits="3"' in html and 'answers-name="dy_dx"' in html
    server = _server(folder)
    data = _data(4321, folder)
    server.generate(data)
    again = _data(4321, folder)
    server.generate(again)
    assert again["params"] == data["params"] and again["correct_answers"] == data["correct_answers"]
    at = data["params"]["at"]
    prog = graphlang.parse((HW / "reference.cg").read_text())
    r = prog.evaluate(at)  # the oracle: the reference evaluated at the variant's point
    assert data["correct_answers"]["y"] == pytest.approx(r.value)
    assert data["correct_answers"]["dy_dx"] == pytest.approx(r.gradient["x"])
    data["submitted_answers"] = dict(data["correct_answers"])
    server.grade(data)
    assert data["score"] == pytest.approx(1.0)
    assert all(ps["score"] == 1.0 for ps in data["partial_scores"].values())
    data["submitted_answers"]["dy_dz"] = data["correct_answers"]["dy_dz"] * 1.5
    data["partial_scores"] = {}
    server.grade(data)
    assert data["partial_scores"]["dy_dz"]["score"] == 0 and data["score"] == pytest.approx(16 / 18)
    assert "dy/dz" in data["feedback"]["graphlang"]
    del data["submitted_answers"]["a"]  # a blank is a failed item, never a smaller maximum
    server.grade(data)
    assert data["partial_scores"]["a"]["score"] == 0 and data["partial_scores"]["a"]["feedback"] == "no answer"
    # the text typed keeps its figures (0.600 is three, not "read as 0.6"; a red team's find)
    data["submitted_answers"]["a"] = 0.6
    data["raw_submitted_answers"] = {"a": "0.600"}
    server.grade(data)
    assert data["partial_scores"]["a"]["feedback"] == "incorrect"


def test_prairielearn_refuses_tensor_programs(tmp_path):
    asg = generate(1, "hard").assignment
    with pytest.raises(graphlang.GraphlangError) as info:
        autograder.prairielearn_files(asg)
    assert info.value.kind == "usage"


@pytest.mark.parametrize(("source", "at", "said"), [
    # a TA's find: scalar inputs beside a literal matrix were refused as "one number per input; this
    # reference has vectors or matrices", which read as a contradiction: the node is named
    ("A = [[1, 2], [0, -1]]\nv = A @ [x, z]\ny = sum(tanh(v))\n", "{ x = 0.5, z = -0.4 }",
     ["one number per node", "A has shape [2, 2]"]),
    # a TA's find: a node dy_dx beside the gradient dy/dx clashed "without saying which"
    ("dy_dx = x * 2\ny = dy_dx + x\n", "{ x = 2 }", ["'dy_dx' and 'dy/dx'"]),
])
def test_prairielearn_names_what_it_refuses(tmp_path, source, at, said):
    (tmp_path / "r.cg").write_text(source)
    (tmp_path / "a.toml").write_text(f'reference = "r.cg"\nat = {at}\n')
    with pytest.raises(graphlang.GraphlangError) as info:
        autograder.prairielearn_files(Assignment.load(tmp_path / "a.toml"))
    assert all(s in info.value.message for s in said), info.value.message


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_run_gradescope_ignores_macos_zip_debris_and_symlinks(tmp_path):
    """A Finder zip adds `__MACOSX/._answers.json` (and `.DS_Store`): a correct submission scored 0 as
    "2 gradable files"; a symlink to the course's assignment file was graded (its text in the feedback)."""
    asg = Assignment.load(HW / "assignment.toml")
    root = _bundle(tmp_path, asg)
    sub = root / "submission"
    (sub / "answers.json").write_text(json.dumps(asg.key()))
    (sub / "__MACOSX").mkdir()
    (sub / "__MACOSX" / "._answers.json").write_bytes(b"\x00\x05\x16\x07 Mac OS X")
    (sub / "._answers.json").write_bytes(b"\x00\x05\x16\x07")
    (sub / "leak.cg").symlink_to(root / "source" / "assignment.toml")
    res = _run(root)
    _valid(res)
    assert res["score"] == 18
    (sub / "answers.json").unlink()  # only debris left: the message says what was ignored
    (sub / "notes.txt").write_text("my work")
    res = _run(root)
    out = res["tests"][0]["output"]
    assert res["score"] == 0 and "ignored: " in out and "notes.txt" in out and "leak.cg" in out
    (sub / "answers.JSON").write_text(json.dumps(asg.key()))  # a Windows habit: answers all the same
    assert _run(root)["score"] == 18


def test_run_gradescope_survives_a_deep_folder_and_a_huge_file(tmp_path, monkeypatch):
    """A red team's finds: a correct answers.json beside a folder 1,100 deep scored 0 ("could not run
    graphlang": `rglob` recursed past Python's limit); a 3 GB answers.json was read whole (3.2 GB,
    18 s) before being cut to the 1 MB a batch reads. Now the folder is walked without recursion
    (MAX_DEPTH deep) and a file read up to 1 MB."""
    asg = Assignment.load(HW / "assignment.toml")
    root = _bundle(tmp_path, asg)
    sub = root / "submission"
    (sub / "answers.json").write_text(json.dumps(asg.key()))
    monkeypatch.chdir(sub)
    for _ in range(1100):  # one folder at a time: the whole path is past what one call takes
        os.mkdir("d")
        os.chdir("d")
    Path("notes.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    try:
        res = _run(root)
    finally:  # shutil.rmtree recurses a level at a time: pytest could not clean this folder up
        os.chdir(sub)
        for _ in range(1100):
            os.chdir("d")
        os.unlink("notes.txt")
        for _ in range(1100):
            os.chdir("..")
            os.rmdir("d")
        monkeypatch.chdir(tmp_path)
    _valid(res)
    assert res["score"] == 18
    with (sub / "answers.json").open("r+b") as fh:  # sparse: 200 MB on paper, nothing on the disk
        fh.truncate(200_000_000)
    res = _run(root)
    assert res["score"] == 0 and "larger than 1,000,000 bytes" in res["output"]


BCE = ("u = w1 * x1 + w2 * x2 + b\nh = sigmoid(u)\nv = beta * h + beta0\np = sigmoid(v)\n"
       "J = -(t * ln(p) + (1 - t) * ln(1 - p))\n")


def test_prairielearn_variants_keep_fixed_inputs_signs_and_never_make_a_zero(tmp_path, cli):
    """Every input moved: a binary label t = 1 became 1.5 or 2, and x2 = −0.5 became 0 (∂J/∂w2 then
    trivially 0), a TA's find. Now `fixed = ["t"]` keeps t; the others keep their signs and are
    never 0. Oracle: the reference evaluated at each variant's point."""
    (tmp_path / "ref.cg").write_text(BCE)
    at = "{ w1 = 0.4, w2 = -0.3, b = 0.1, beta = 1.2, beta0 = -0.5, x1 = 1.5, x2 = -0.5, t = 1 }"
    (tmp_path / "a.toml").write_text(f'reference = "ref.cg"\nat = {at}\nfixed = ["t"]\nask = ["gradient"]\n')
    folder = tmp_path / "q"
    assert cli("autograder", "prairielearn", "--assignment", str(tmp_path / "a.toml"), "-o", str(folder)).code == 0
    html = (folder / "question.html").read_text()  # the boxes hold the function, as the worksheet's
    assert "label=&quot;w1·x1 + w2·x2 + b&quot;" in html and "label=&quot;sigmoid(u)&quot;" in html
    assert "neg" not in html
    assert "shape=circle" not in html and "shape=box, style=rounded, label=&quot;w1&quot;" in html
    server, given = _server(folder), Assignment.load(tmp_path / "a.toml").at
    for seed in range(30):
        data = _data(seed, folder)
        server.generate(data)
        point = data["params"]["at"]
        assert point["t"] == 1 and all(point[k] * v > 0 for k, v in given.items() if k != "t")
        r = graphlang.parse(BCE).evaluate(point)
        assert data["correct_answers"]["dJ_dw2"] == pytest.approx(r.gradient["w2"]) != 0
    (tmp_path / "a.toml").write_text(f'reference = "ref.cg"\nat = {at}\nfixed = ["label"]\n')
    with pytest.raises(graphlang.GraphlangError) as info:
        Assignment.load(tmp_path / "a.toml")
    assert info.value.kind == "usage" and "'label' is not an input" in info.value.message


def test_prairielearn_folder_written_again_keeps_its_uuid(tmp_path, cli):
    """A red team's find: regenerating a question after changing `ecf` gave it a new uuid, which
    PrairieLearn reads as a new question (the students' submissions stay with the old one)."""
    folder = tmp_path / "q"
    assert cli("autograder", "prairielearn", "--assignment", str(HW / "assignment.toml"), "-o", str(folder)).code == 0
    first = json.loads((folder / "info.json").read_text())["uuid"]
    changed = tmp_path / "changed.toml"
    shutil.copy(HW / "reference.cg", tmp_path / "reference.cg")
    changed.write_text((HW / "assignment.toml").read_text().replace('title = "', 'title = "Week 5: ', 1))
    assert cli("autograder", "prairielearn", "--assignment", str(changed), "-o", str(folder)).code == 0
    info = json.loads((folder / "info.json").read_text())
    assert info["uuid"] == first and info["title"].startswith("Week 5")
    fresh = tmp_path / "fresh"
    assert cli("autograder", "prairielearn", "--assignment", str(changed), "-o", str(fresh)).code == 0
    assert json.loads((fresh / "info.json").read_text())["uuid"] != first  # a new folder: its own question
    # a TA's find: one assignment made into two folders gave both the same uuid (PrairieLearn refuses the course)
    twins = [tmp_path / "q1", tmp_path / "q2"]
    for twin in twins:
        assert cli("autograder", "prairielearn", "--assignment", str(changed), "-o", str(twin)).code == 0
    uuids = [json.loads((twin / "info.json").read_text())["uuid"] for twin in twins]
    assert uuids[0] != uuids[1]
    again = tmp_path / "again" / "q1"  # the same folder's name elsewhere: the same bytes (the same question)
    assert cli("autograder", "prairielearn", "--assignment", str(changed), "-o", str(again)).code == 0
    assert json.loads((again / "info.json").read_text())["uuid"] == uuids[0]
    assert "white-space: pre-line" in (again / "question.html").read_text()  # the feedback's lines kept apart


def test_the_gradescope_zip_goes_into_a_folder_made_for_it(tmp_path, cli):
    """The README's `-o ag/autograder.zip` without an `ag` folder failed ("assignment.toml: io error"),
    where the PrairieLearn folder is made; a path through a file is said so, without the assignment's name."""
    out = tmp_path / "ag" / "hw1" / "autograder.zip"
    ran = cli("autograder", "gradescope", "--assignment", str(HW / "assignment.toml"), "-o", str(out))
    assert ran.code == 0 and zipfile.is_zipfile(out)
    (tmp_path / "f").write_text("")
    bad = cli("autograder", "gradescope", "--assignment", str(HW / "assignment.toml"),
              "-o", str(tmp_path / "f" / "x.zip"))
    assert bad.code == 2 and "is not a folder" in bad.err and "assignment.toml" not in bad.err
