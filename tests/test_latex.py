"""Every LaTeX output compiles (issue 12, item 9): `diff --latex`, `explain --format latex` and the
JSON `latex` fields, for names with underscores anywhere and for every kind of expression.

Checked two ways: a structural check that runs everywhere (balanced braces, no double sub- or
superscript, no unescaped `_` inside a subscript), and pdflatex itself when it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import graphlang
from graphlang.present import explain as ex
from graphlang.symbolic import derivative as symbolic
from graphlang.symbolic.printing import tex_name, to_latex

PROGRAMS = [
    ("y = a_b_c^2 * x_1 + _q / (1 + d__e^2) + w_", {"a_b_c": 1.5, "x_1": 2.0, "_q": 0.5, "d__e": 1.0, "w_": 3.0}),
    ("g_y = x_a_b * z\nh_1_2 = g_y^z + exp(g_y) * sin(x_a_b)\ny = h_1_2 / z", {"x_a_b": 1.2, "z": 0.7}),
    ("v_a = [x_b_c, x_b_c^2, 3]\nM_1 = outer(v_a, v_a^2).T\ny = dot(v_a^2, v_a) + sum(M_1[0]) + v_a[1]^2",
     {"x_b_c": 0.9}),
    ("input A_b[2, 2], v_w[2]\nr_s = A_b @ v_w^2\ny = sum(r_s * v_w) + sum(A_b.T[1]) + x_y^z_w",
     {"A_b": [[1, 2], [3, 4]], "v_w": [0.5, -1.0], "x_y": 1.3, "z_w": 0.4}),
]


def _skip_arg(s: str, i: int) -> int:
    """Index just past the script argument starting at s[i] (a group, a command or one char)."""
    if s[i] == "{":
        depth = 0
        for j in range(i, len(s)):
            depth += {"{": 1, "}": -1}.get(s[j], 0) if s[j - 1] != "\\" or j == i else 0
            if depth == 0:
                return j + 1
        raise AssertionError(f"unbalanced braces in {s!r}")
    if s[i] == "\\":
        j = i + 1
        while j < len(s) and s[j].isalpha():
            j += 1
        return max(j, i + 2)
    return i + 1


def structural_problems(s: str) -> list[str]:
    problems = []
    depth = 0
    for i, ch in enumerate(s):
        if ch in "{}" and (i == 0 or s[i - 1] != "\\"):
            depth += 1 if ch == "{" else -1
            if depth < 0:
                problems.append(f"unbalanced }} at {i}")
    if depth:
        problems.append("unbalanced braces")
    i = 0
    while i < len(s):
        if s[i] in "_^" and (i == 0 or s[i - 1] != "\\"):
            seen = set()
            while i < len(s) and s[i] in "_^" and s[i - 1] != "\\":
                if s[i] in seen:
                    problems.append(f"double {s[i]} at {i}: {s[max(0, i - 20):i + 20]!r}")
                seen.add(s[i])
                start = i + 1
                i = _skip_arg(s, start)
                group = s[start:i]
                if s[start - 1] == "_" and group.startswith("{"):
                    inner = group[1:-1]
                    level = 0
                    for j, c in enumerate(inner):
                        if c in "{}" and (j == 0 or inner[j - 1] != "\\"):
                            level += 1 if c == "{" else -1
                        elif c == "_" and level == 0 and (j == 0 or inner[j - 1] != "\\"):
                            problems.append(f"unescaped _ in the subscript {group!r}")
            continue
        i += 1
    return problems


def outputs() -> list[str]:
    """Every LaTeX text the tool prints for the programs above."""
    texts = []
    for source, at in PROGRAMS:
        prog = graphlang.parse(source)
        texts.append(ex.as_text(ex.explain(prog, at), "latex"))
        _, shapes = prog.bind(at)
        if prog.is_scalar(shapes) and all(v == () for v in shapes[: len(prog.inputs)]):
            out = prog.outputs[0]
            forms = symbolic.closed_forms(prog, shapes)
            texts.append("\\begin{align*}\n" + " \\\\\n".join(
                f"\\frac{{\\partial {tex_name(out)}}}{{\\partial {tex_name(n)}}} &= {to_latex(e)}"
                for n, e in forms.items()) + "\n\\end{align*}\n")
    return texts


def test_names_become_one_subscript():
    assert tex_name("a_b_c") == "a_{b\\_c}"
    assert tex_name("x_1") == "x_{1}"
    assert tex_name("_q") == "\\_q" and tex_name("w_") == "w\\_" and tex_name("x") == "x"
    assert structural_problems("a_b_c") and structural_problems("x_{1}_{0}") and structural_problems("a_{b_c}")
    assert not structural_problems("{x_{1}}_{0}^{T} + a_{b\\_c}")


def test_latex_is_structurally_sound():
    texts = outputs()
    assert len(texts) >= len(PROGRAMS)
    for text in texts:
        assert structural_problems(text) == [], text


def test_cli_latex_outputs_are_sound(cli, write):
    path = write(PROGRAMS[0][0] + "\n")
    at = ",".join(f"{k}={v}" for k, v in PROGRAMS[0][1].items())
    for args in (("diff", path, "--latex"), ("explain", path, "--format", "latex", "--at", at)):
        ran = cli(*args)
        assert ran.code == 0, ran.err
        assert structural_problems(ran.out) == [], ran.out
    ran = cli("diff", path, "--json")
    for text in ran.json()["latex"].values():
        assert structural_problems(text) == []


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles_with_pdflatex(tmp_path, cli, write):
    body = outputs()
    path = write(PROGRAMS[0][0] + "\n")
    body.append("\\begin{align*}\n" + " \\\\\n".join(
        line.replace(" = ", " &= ", 1) for line in cli("diff", path, "--latex").out.splitlines()) + "\n\\end{align*}")
    doc = ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
           + "\n".join(body) + "\n\\end{document}\n")
    (tmp_path / "doc.tex").write_text(doc)
    ran = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout[-3000:]


# --- issue 16: matrix literals and matrix calculus as the lecture writes them ---------------------

TENSOR = "input x[2], v[3]\nW = [[1, 2], [3, 4], [5, 6]]\ny = sum(W @ x) * sum(v)\n"


def test_a_matrix_literal_is_one_bmatrix_of_its_shape(cli, write):
    path = write(TENSOR)
    for text in (cli("diff", path, "--latex").out, graphlang.load(path).to_latex(),
                 cli("explain", path, "--at", "x=[1,1],v=[1,2,3]", "--format", "latex").out):
        body = re.search(r"\\begin\{bmatrix\}(1 & 2 .*?)\\end\{bmatrix\}", text).group(1)
        assert [row.split(" & ") for row in body.split(r" \\ ")] == [["1", "2"], ["3", "4"], ["5", "6"]]
        assert text.count(r"\begin{bmatrix}\begin{bmatrix}") == 0
        assert structural_problems(text) == [], text


def test_no_internal_helpers_and_ones_vectors_in_matrix_calculus(cli, write):
    """∂ sum(W x) / ∂W = 1 xᵀ (denominator layout: W's shape, each row x); ∂/∂x = Wᵀ 1."""
    out = cli("diff", write("input W[2, 3], x[3]\ny = sum(W @ x)\n"), "--latex").out
    assert r"\frac{\partial y}{\partial W} = \mathbf{1} x^{T}" in out
    assert r"\frac{\partial y}{\partial x} = W^{T} \mathbf{1}" in out
    out = cli("diff", write(TENSOR), "--latex").out
    assert "expand" not in out and "operatorname" not in out
    assert r"\left(\sum v\right) \mathbf{1}" in out  # a scaled ones vector keeps its scale grouped


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_tensor_latex_compiles(tmp_path, cli, write):
    path = write(TENSOR)
    lines = cli("diff", path, "--latex").out.splitlines()
    body = ("\\begin{align*}\n" + " \\\\\n".join(ln.replace(" = ", " &= ", 1) for ln in lines) + "\n\\end{align*}\n"
            + graphlang.load(path).to_latex()
            + cli("explain", path, "--at", "x=[1,1],v=[1,2,3]", "--format", "latex").out)
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
                                      + body + "\\end{document}\n")
    ran = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout[-3000:]
