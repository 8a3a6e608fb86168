"""`graphlang exercise`: key <-> checker round trips, the first wrong step of a perturbed key,
byte-identical files for a seed (across hash seeds), well-posed graphs, worksheets that compile."""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PROGRAMS

import graphlang
from graphlang.checker import Assignment
from graphlang.exercise import DIFFICULTIES, generate

ROOT = Path(__file__).resolve().parent.parent
SEEDS = range(12)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_the_key_scores_full_marks(difficulty):
    for seed in SEEDS:
        ex = generate(seed, difficulty)
        rep = ex.assignment.grade_answers(json.loads(ex.files["key.json"]))
        assert rep.passed and rep.score == rep.max_score == len(ex.assignment.quantities), (seed, rep.as_text())


def _central(prog, at, name, h=1e-6):
    """The test's own central differences of the forward value (the oracle for the key's gradient)."""
    base = {k: np.asarray(v, dtype=np.float64) for k, v in at.items()}
    out = np.zeros_like(base[name])
    for idx in np.ndindex(base[name].shape):
        hi = {k: v.copy() for k, v in base.items()}
        lo = {k: v.copy() for k, v in base.items()}
        hi[name][idx] += h
        lo[name][idx] -= h
        out[idx] = (float(prog.evaluate(hi).value) - float(prog.evaluate(lo).value)) / (2 * h)
    return out


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_the_keys_gradient_matches_finite_differences(difficulty):
    for seed in range(4):
        ex = generate(seed, difficulty)
        out = ex.program.outputs[0]
        for x in ex.program.inputs:
            if x in ex.assignment.fixed:  # the label t: no dJ/dt asked
                assert f"d{out}/d{x}" not in ex.key
                continue
            fd = _central(ex.program, ex.at, x)
            assert np.allclose(ex.key[f"d{out}/d{x}"], fd, rtol=1e-5, atol=1e-6), (seed, x)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_a_perturbed_key_names_the_perturbed_quantity(difficulty):
    rng = np.random.default_rng(0)
    for seed in range(6):
        ex = generate(seed, difficulty)
        key = json.loads(ex.files["key.json"])
        q = list(key)[int(rng.integers(len(key)))]
        key[q] = (np.asarray(key[q]) * 1.5 + 1.0).tolist()
        rep = ex.assignment.grade_answers(key)
        assert rep.root_cause == q and [i.name for i in rep.items if not i.passed] == [q], (seed, q)


def test_graphs_are_well_posed():
    for difficulty in ("easy", "medium"):
        for seed in range(20):
            ex = generate(seed, difficulty)
            lines = [ln for ln in ex.source.splitlines() if "=" in ln]
            assert 4 <= len(lines) <= 12
            reads: dict[str, int] = {}
            for ln in lines:
                for name in set(re.findall(r"\b[a-z]\b", ln.split("=", 1)[1])):
                    reads[name] = reads.get(name, 0) + 1
            defined = [ln.split("=")[0].strip() for ln in lines]
            assert any(reads.get(n, 0) >= 2 for n in defined), ex.source  # a reused node
            assert all(v in (0.5, 1.5, 2.0, 2.5, 3.0, -1.0, -0.5, 1.0) for v in ex.at.values())
    hard = generate(3, "hard")
    assert "@" in hard.source and any(np.ndim(v) == 2 for v in hard.at.values())


def test_same_seed_same_bytes_different_seeds_different_programs(tmp_path):
    a, b = generate(7, "medium", student="alice"), generate(7, "medium", student="alice")
    assert a.files == b.files
    assert generate(7, "medium", student="bob").source != a.source
    assert len({generate(s, "medium").source for s in range(10)}) == 10
    assert len({generate(s, "easy").source for s in range(10)}) >= 8  # small graphs may coincide


def test_determinism_across_hash_seeds(tmp_path):
    script = ("import sys; from graphlang.exercise import generate\n"
              "for d in ('easy', 'medium', 'hard'): generate(11, d, student='s1').write(sys.argv[1] + '/' + d)")
    for hs in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hs, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / hs)], check=True, env=env)
    for d in ("easy", "medium", "hard"):
        for name in ("program.cg", "assignment.toml", "worksheet.md", "worksheet.tex", "key.json"):
            assert (tmp_path / "0" / d / name).read_bytes() == (tmp_path / "12345" / d / name).read_bytes()


def test_ops_restrict_the_functions():
    for seed in range(8):
        src = generate(seed, "medium", ops="exp,sin").source
        assert not re.search(r"\b(ln|cos|tanh|sigmoid|sqrt)\(", src) and "/" not in src
    assert "tanh" in generate(1, "hard", ops=["tanh"]).source


@pytest.mark.parametrize("kwargs", [{"difficulty": "extreme"}, {"ops": "exp,log"}, {"ops": ""}, {"seed": -1},
                                    {"seed": 1.5}, {"student": ""}, {"difficulty": "hard", "ops": "exp"}])
def test_bad_options_are_usage_errors(kwargs):
    with pytest.raises(graphlang.GraphlangError) as info:
        generate(**kwargs)
    assert info.value.kind == "usage"


def test_cli_exercise_then_check(cli, tmp_path):
    out = tmp_path / "hw"
    ran = cli("exercise", "--seed", "4", "--difficulty", "easy", "--student", "s42", "-o", str(out))
    assert ran.code == 0 and sorted(p.name for p in out.iterdir()) == sorted(
        ["program.cg", "assignment.toml", "worksheet.md", "worksheet.tex", "key.json"])
    ok = cli("check", "--assignment", str(out / "assignment.toml"), "--answers", str(out / "key.json"), "--json")
    assert ok.code == 0 and ok.json()["score"] == ok.json()["max_score"]
    assert (out / "program.cg").read_text() == generate(4, "easy", student="s42").source
    assert Assignment.load(out / "assignment.toml").key() == json.loads((out / "key.json").read_text())
    bad = cli("exercise", "--difficulty", "extreme", "-o", str(tmp_path / "x"))
    assert bad.code == 2 and not (tmp_path / "x").exists()


def test_a_worksheet_of_tensors_says_an_adjoint_has_its_nodes_shape():
    """A network's worksheet said nothing of the adjoints' shapes (only the answers template showed
    them: a TA's find); the denominator layout is said where the program has a tensor, not elsewhere."""
    for difficulty, tensors in (("hard", True), ("easy", False)):
        ex = generate(3, difficulty)
        shaped = any(np.ndim(v) for v in ex.program.evaluate(ex.at).values.values())
        assert shaped == tensors
        for sheet in (ex.files["worksheet.md"], ex.files["worksheet.tex"]):
            assert ("each adjoint has the shape of its node" in sheet) == tensors


def test_worksheets_hold_the_tables():
    ex = generate(2, "medium")
    md, tex = ex.files["worksheet.md"], ex.files["worksheet.tex"]
    for name in ex.program.names:
        assert f"| {name} |" in md
    assert "## Backward pass (reverse mode)" in md and "```mermaid" in md and "g_y·∂y/∂" in md
    assert "\\begin{tikzpicture}" in tex and "\\section*" in tex and "Backward pass" in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_the_latex_compiles(difficulty, tmp_path):
    generate(5, difficulty, student="O'Brien & $ons_#1").write(tmp_path)
    ran = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "worksheet.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout[-2000:]
    assert (tmp_path / "worksheet.pdf").stat().st_size > 1000


def test_worksheet_boxes_hold_the_function_as_the_graph_command_draws_it(tmp_path, cli):
    """The hard worksheet labelled u = W @ x + b "+" (a TA's find), and a = z - x only "−", the
    operands' order lost (a student's); the .tex drew inputs as circles (the neural-network diagram's
    convention) and edges without arrowheads, one straight through another box. Now every box holds
    the function as `graphlang graph` draws it (the oracle: its DOT boxes), inputs are rounded
    rectangles, and the .tex is the TikZ layout of `graph -o g.tex` (directed edges, routed around)."""
    import re

    from graphlang.grading.worksheet import markdown
    for seed, level in ((1, "hard"), (7, "easy"), (2, "medium")):
        ex = generate(seed, level)
        md, tex = ex.files["worksheet.md"], ex.files["worksheet.tex"]
        (tmp_path / "p.cg").write_text(ex.source)
        dot = cli("graph", str(tmp_path / "p.cg"), "--dot").out
        box = r'"(\w+)" \[label=<<table[^>]*><tr><td[^>]*><i>\w+</i></td></tr><tr><td[^>]*>([^<]*)</td>'
        boxes = dict(re.findall(box, dot))
        assert boxes and all(f'{n}["{n} = {html.unescape(f)}"]' in md for n, f in boxes.items()), (boxes, md)
        assert all(f"  {x}({x})" in md for x in ex.program.inputs)  # rounded rectangles, not ((circles))
        assert "\\begin{tikzpicture}" in tex and "\\circle" not in tex and "\\qbezier" not in tex
        assert tex.count("\\draw[->]") == len(re.findall(r"^  \S+ --> \S+$", md, re.M))  # every edge directed
    assert 'a["a = z - x"]' in markdown(generate(7, "easy").program, {"x": 2, "z": -0.5}, "t")
    lecture = graphlang.load(PROGRAMS / "lecture13.cg")
    assert 'y["y = d + e + f"]' in markdown(lecture, {"x": 2, "z": 3}, "t")


def test_sin_and_cos_take_an_angle_within_one_turn():
    """A red team's find: seed 8 asked sin(c) at c = 120.5 rad, where an honest c = 121 (3 figures)
    gives sin 0.999 for a true 0.42 and cos of the other sign: a point lost for rounding as told.
    Oracle: the program evaluated at its point, each trig argument read from the values."""
    checked = 0
    for seed in range(60):
        for difficulty in ("easy", "medium"):
            ex = generate(seed, difficulty)
            values = ex.program.evaluate(ex.at).values
            for fn, arg in re.findall(r"\b(sin|cos)\((\w+)\)", ex.source):
                assert abs(values[arg]) <= 2 * math.pi, (seed, difficulty, fn, arg, values[arg])
                checked += 1
    assert checked > 20


def test_a_network_exercise_declares_its_weights_as_params_and_its_label_fixed():
    """`exercise --difficulty hard` asked for dJ/dt, the gradient by the target, and declared W and b
    as inputs (a docs red team; the README's own advice: labels are `fixed`)."""
    for seed in range(6):
        ex = generate(seed, "hard")
        assert set(ex.program.params) >= {"W", "b"} and set(ex.program.params) <= {"W", "b", "V"}
        assert ex.assignment.fixed == ["t"] and 'fixed = ["t"]' in ex.files["assignment.toml"]
        assert "dJ/dt" not in ex.key and {"dJ/dW", "dJ/db"} <= set(ex.key)
        for sheet in (ex.files["worksheet.md"], ex.files["worksheet.tex"]):  # asks what is graded, no more
            assert "∂J/∂t" not in sheet and "g_t" not in sheet and "partial t}" not in sheet
            assert "∂J/∂W" in sheet or "partial \\mathbf{W}}" in sheet
        assert "| W | " in ex.files["worksheet.md"] and "| param |" in ex.files["worksheet.md"]



def test_a_matrix_answer_gets_room_to_write_it_in_the_worksheet():
    """The hard worksheet's rows for ∂J/∂W (3×2) were one line high (a TA's find): a row is as tall
    as the value's rows need; a number's row keeps the usual height."""
    tex = generate(1, "hard").files["worksheet.tex"]
    row = next(ln for ln in tex.splitlines() if "\\partial \\mathbf{W}}" in ln and "dfrac" in ln)
    assert row.startswith("\\rule[-4.2ex]{0pt}{9.9ex}"), row  # 3 rows: 3 × 2.8 + 1.5 ex
    assert "\\rule[-2.6ex]{0pt}{7ex}$g_{J}$" in tex


ASSIGNMENTS = {  # a TA's exercises: what each asks, and how
    "forward": ("k = 2\na = x * z\nb = tanh(a)\nc = sqrt(z) * k\ny = b * c + exp(-x)\n",
                'at = { x = 0.5, z = 1.5 }\nask = ["tangents", "gradient"]\n[compare]\ncomparison = "decdig"\n'
                'digits = 4\n'),
    "tangents": ('A = [[1, 2], [0, -1]]\nv = A @ [x, z]\nh = tanh(v)\ny1 = sum(h * h)\ny2 = x * exp(-z)\n'
                 'output y1, y2\n', 'at = { x = 0.5, z = -0.4 }\nask = ["values", "tangents"]\n'
                 '[compare]\ncomparison = "sigfig"\ndigits = 3\n'),
    "network": ("input x[3], t[3]\nparam alpha[3, 2], b1[2]\na = alpha.T @ x + b1\nyhat = softmax(a @ [[1, 0, 1], "
                "[0, 1, 1]])\nJ = -sum(t * ln(yhat))\n",
                'at = { x = [1.0, -2.0, 0.5], t = [0, 1, 0], alpha = [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.2]], '
                'b1 = [0.1, -0.1] }\nfixed = ["t"]\nask = ["a", "g_a", "dJ/dalpha"]\nsubmit = "answers"\n'
                '[compare]\ncomparison = "relabs"\nrtol = 0.01\natol = 0.001\n'),
}


def _by_hand(tmp_path) -> str:
    """The shipped homework as a by-hand one: its worksheet prints the reference (it takes programs too)."""
    home = PROGRAMS / "homework"
    (tmp_path / "reference.cg").write_text((home / "reference.cg").read_text())
    (tmp_path / "hand.toml").write_text('submit = "answers"\n' + (home / "assignment.toml").read_text())
    return str(tmp_path / "hand.toml")


@pytest.mark.parametrize("which", sorted(ASSIGNMENTS))
def test_a_worksheet_of_ones_own_assignment_asks_what_it_asks(which, tmp_path, cli):
    """A TA's find: no documented way to print a sheet for one's own assignment, and the internal one
    said 3 figures, a JSON file and every adjoint (with two outputs: "g_y2 = 0, no path"). The oracle
    is the assignment file itself: its quantities, its comparison, its kind of submission."""
    source, table = ASSIGNMENTS[which]
    (tmp_path / "r.cg").write_text(source)
    (tmp_path / "a.toml").write_text('title = "HW"\nreference = "r.cg"\n' + table)
    ran = cli("exercise", "--assignment", str(tmp_path / "a.toml"), "-o", str(tmp_path / "out"))
    assert ran.code == 0, ran.err
    md = (tmp_path / "out" / "worksheet.md").read_text()
    asg = Assignment.load(tmp_path / "a.toml")
    assert json.loads((tmp_path / "out" / "key.json").read_text()).keys() == set(asg.quantities)
    if which == "forward":  # the gradient from the output's tangents: no backward pass, no g_a anywhere
        assert "Backward pass" not in md and "g_" not in md, md
        assert "| dy/dx | `∂y/∂b·db/dx + ∂y/∂x` | |" in md and "| ∂y/∂z = dy/dz | |" in md
        assert "(your working: the values are not graded)" in md and "4 digits after the decimal point" in md
        assert "| k | scalar | `k = 2` | 2 |" in md  # a named literal's value is given, not left blank
    elif which == "tangents":
        assert "Backward pass" not in md and "## Gradient" not in md and "g_y2" not in md
        assert "The function (y1, y2)(x, z)" in md and "3 significant figures." in md and ".cg program" not in md
        rows = re.findall(r"^\| (d\w+/d\w+) \|", md, re.M)
        assert sorted(rows) == sorted(q for q in asg.quantities if "/" in q)
        assert "| dy2/dz | `∂y2/∂z` |" in md and "| dh/dx | `∂h/∂v·dv/dx` |" in md  # the chain rule, by hand
    else:
        back = re.findall(r"^\| (g_\w+) \|", md, re.M)  # every row (each needs those before it), g_a graded
        assert back == ["g_J", "g_yhat", "g_a", "g_x", "g_alpha", "g_b1"], back
        assert "(graded: g_a; the others are your working)" in md and "(graded: a; the others" in md
        assert "∂J/∂alpha = g_alpha" in md and "∂J/∂x" not in md and "∂J/∂t" not in md
        assert "graded to 3 significant figures, for a relative tolerance of 0.01" in md
        assert "Submit a JSON file" in md and ".cg program" not in md
        for kind in ("program", "either"):  # (the sheet prints the program: handed back, it scored full marks)
            (tmp_path / "b.toml").write_text((tmp_path / "a.toml").read_text().replace('"answers"', f'"{kind}"'))
            refused = cli("exercise", "--assignment", str(tmp_path / "b.toml"), "-o", str(tmp_path / "out2"))
            assert refused.code == 2 and "could hand it back as it stands" in refused.err, refused.err
    if shutil.which("pdflatex"):
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "worksheet.tex"],
                              cwd=tmp_path / "out", capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]


def test_a_worksheet_writes_exp_beside_a_node_named_e(tmp_path, cli):
    """The lecture's program has a node e = a/b: the worksheet wrote d = e^{a}, which reads as that
    node to the power a (explain and the TikZ graph write \\exp; a visual review's find)."""
    ran = cli("exercise", "--assignment", _by_hand(tmp_path), "-o", str(tmp_path))
    assert ran.code == 0, ran.err
    tex = (tmp_path / "worksheet.tex").read_text()
    assert "$d = \\exp\\left(a\\right)$" in tex and "e^{a}" not in tex


def test_a_worksheet_leaves_out_a_comment_that_runs_the_program(tmp_path, cli):
    """The lecture's program says `# Run it: graphlang run …` — one command gives every answer; the
    worksheets printed it (a visual review's find). The program's other comments stay."""
    ran = cli("exercise", "--assignment", _by_hand(tmp_path), "-o", str(tmp_path))
    assert ran.code == 0, ran.err
    for name in ("worksheet.md", "worksheet.tex"):
        sheet = (tmp_path / name).read_text()
        assert "graphlang run" not in sheet and "a = x * z" in sheet, name
    assert "graphlang run" in (PROGRAMS / "homework" / "reference.cg").read_text()  # (there to leave out)


def test_an_instructors_worksheet_sends_no_student_to_the_key(tmp_path, cli):
    """A TA's find: `exercise --assignment` wrote a worksheet telling students to run `graphlang check
    --assignment assignment.toml`, a file that holds the reference: they could check themselves to full
    marks. An instructor's worksheet names answers_template.json instead, written beside it, whose keys
    are exactly the key's; a generated practice exercise keeps its self-check."""
    import json
    ran = cli("exercise", "--assignment", _by_hand(tmp_path), "-o", str(tmp_path / "a"))
    assert ran.code == 0, ran.err
    for name in ("worksheet.md", "worksheet.tex"):
        sheet = (tmp_path / "a" / name).read_text()
        assert "assignment.toml" not in sheet and "answers\\_template.json" in sheet.replace("answers_template",
                                                                                             "answers\\_template")
    template = json.loads((tmp_path / "a" / "answers_template.json").read_text())
    key = json.loads((tmp_path / "a" / "key.json").read_text())
    assert set(template) == set(key) and all(v is None for v in template.values())
    assert cli("exercise", "--seed", "1", "-o", str(tmp_path / "p")).code == 0
    assert "check --assignment assignment.toml" in (tmp_path / "p" / "worksheet.md").read_text()


def test_the_worksheets_own_program_handed_back_scores_nothing(tmp_path, cli):
    """An autograder red team's find: a generated exercise took programs too, and its worksheet prints
    the program: handed back as a .cg, it scored 16/16 with no hand computation. A by-hand assignment
    (no [program] table, or submit = "answers") grades answers only; the key still scores full marks."""
    assert cli("exercise", "--seed", "7", "-o", str(tmp_path / "ex")).code == 0
    asg = str(tmp_path / "ex" / "assignment.toml")
    copied = cli("check", "--assignment", asg, "--submission", str(tmp_path / "ex" / "program.cg"), "--json")
    assert copied.code == 1 and copied.json()["score"] == 0 and "not graded" in copied.out
    key = cli("check", "--assignment", asg, "--answers", str(tmp_path / "ex" / "key.json"), "--json")
    assert key.code == 0 and key.json()["score"] == key.json()["max_score"] > 0
    at = Assignment.load(asg).at
    (tmp_path / "ex" / "own.toml").write_text('reference = "program.cg"\nat = { ' + ", ".join(
        f"{k} = {float(v)!r}" for k, v in at.items()) + " }\n")
    assert Assignment.load(tmp_path / "ex" / "own.toml").submit == "answers"  # (no [program] table: by hand)
    (tmp_path / "ex" / "own.toml").write_text((tmp_path / "ex" / "own.toml").read_text() + "[program]\n")
    assert Assignment.load(tmp_path / "ex" / "own.toml").submit == "either"  # (programs too, checked as it says)
