"""`graph -o g.tex`: the TikZ picture. Its layout (every edge left to right, no edge through a box),
the values it shows (a 3×2 value is a 3×2 matrix), and pdflatex compiling it alone and inside a
Beamer slide (skipped when pdflatex is missing)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from conftest import PROGRAMS

import graphlang
from graphlang.present.tikz import layout, to_tikz

SHIPPED = sorted(p.stem for p in PROGRAMS.glob("*.cg"))


def _at(name: str) -> dict | None:
    js = PROGRAMS / f"{name}.json"
    return json.loads(js.read_text()) if js.exists() else ({"x": 2, "z": 3} if name == "lecture13" else None)


@pytest.mark.parametrize("name", SHIPPED)
def test_layout_runs_left_to_right_and_edges_avoid_boxes(name):
    prog = graphlang.load(PROGRAMS / f"{name}.cg")
    place, route, rows = layout(prog)
    cells = list(place.values())
    assert len(cells) == len(set(cells))  # one thing per cell: a bend point never shares a box's cell
    for (a, b), points in route.items():
        chain = [place[a]] + [place[p] for p in points] + [place[b]]
        assert [c for c, _ in chain] == list(range(chain[0][0], chain[-1][0] + 1))  # one column at a time
    for n in prog.names:
        st = prog.graph.statement(n)
        for m in ([] if st is None else graphlang.language.ast.names(st.expr)):
            assert place[m][0] < place[n][0]
    assert max(r for _, r in cells) < rows


def test_values_and_names_in_the_course_notation():
    prog = graphlang.parse("input W[3, 2], x[2]\nalpha1 = W @ x\nyhat = sum(alpha1)")
    tex = to_tikz(prog, {"W": [[1, 0], [0, 2], [1, 1]], "x": [0.5, -0.25]})
    w = re.search(r"\(n-W\) \{\$\\mathbf\{W\}\$ \\\\(?:\[5pt\])? \$= \\left\[\\begin\{smallmatrix\}(.*?)\\end",
                  tex).group(1)
    assert [row.split(" & ") for row in w.split(r" \\ ")] == [["1", "0"], ["0", "2"], ["1", "1"]]
    h = np.array([[1, 0], [0, 2], [1, 1]]) @ np.array([0.5, -0.25])  # the oracle: numpy
    col = re.search(r"\(n-alpha1\) \{.*?smallmatrix\}(.*?)\\end", tex).group(1)
    assert [float(v) for v in col.split(r" \\ ")] == list(h)  # a vector is a column
    assert r"label={[varname]north west:$\boldsymbol{\alpha}^{(1)}$}" in tex and r"north west:$\hat{y}$" in tex
    assert r"\draw[->] (n-W.east)" in tex


def test_without_values_the_declared_shapes_decide_the_notation():
    """`sum(A, 1)` of a declared stack is a sum over an axis, not a matrix's `A 1` (drawn without --at,
    every input declared); an undeclared input leaves the shapes unknown."""
    tex = to_tikz(graphlang.parse("input A[2, 3, 4]\nG = sum(A, 1)\ny = sum(G)\n"))
    assert r"\sum_{\text{axis } 1} \mathbf{A}" in tex and r"A} \mathbf{1}" not in tex
    assert r"\mathbf{A} \mathbf{1}" in to_tikz(graphlang.parse("input A[2, 3]\nG = sum(A, 1)\ny = sum(G)\n"))


def test_partials_label_the_edges():
    prog = graphlang.load(PROGRAMS / "lecture13.cg")
    tex = to_tikz(prog, {"x": 2, "z": 3}, partials=True)
    assert re.search(r"\(n-c\.east\) to\[flow=[0-9.]+em\] node\[edgelabel\] "
                     r"\{\$\\frac\{\\partial f\}\{\\partial c\} = \\frac\{1\}\{a\} = 0\.1667\$\}", tex)
    # as the PNG: adjoints named (`g_c`, not `g`), and a scalar edge ∂f/∂c = 1/a (a student's find)
    assert "$g_{c} = 0.1667$" in tex and "$g = " not in tex
    # a constant partial is its number once, as in the PNG (a student's find: "∂y/∂d = 1 = 1")
    assert r"\frac{\partial y}{\partial d} = 1$" in tex and "= 1 = 1" not in tex



def test_tensor_edges_carry_the_vector_jacobian_product_and_fractions_keep_clear():
    """`--partials` left every edge into a tensor node unlabelled in TikZ (the DOT drawing has
    g_w ↦ Mᵀ g_w); and a fraction's denominator sat on the value line below it. Oracle for the
    numbers: w = Mv + b, y = k Σ w², so g_w = 2k w and Mᵀ g_w by hand."""
    prog = graphlang.parse("input v[2]\nM = [[1,2],[3,4]]\nw = M @ v + [0.5,-1]\nk = 2*pi\ny = k*sum(w*w)\n")
    tex = to_tikz(prog, {"v": [1, -1]}, partials=True)
    M, v = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0])
    g_w = 2 * 2 * np.pi * (M @ v + [0.5, -1])
    labels = re.findall(r"node\[edgelabel\] \{\$(\\mathbf\{g\}_\{\\mathbf\{w\}\} \\mapsto [^$]*)\$\}", tex)
    assert len(labels) == 2, labels
    mt = next(lab for lab in labels if "\\mathbf{M}^{T}" in lab)
    assert f"{(M.T @ g_w)[0]:.3g}" in mt and f"{(M.T @ g_w)[1]:.3g}" in mt
    lecture = to_tikz(graphlang.load(PROGRAMS / "lecture13.cg"), {"x": 2, "z": 3})
    assert re.search(r"\\frac\{a\}\{b\}\$ \\\\\[5pt\] \$= 8\.656", lecture)

def test_a_column_widens_for_the_widest_label_that_ends_in_it():
    """Matrix-valued edge labels (a VJP with its value) were drawn over the boxes on either side:
    the column an edge ends in now starts far enough right for its label, and only that column."""
    from graphlang.present import tikz
    from graphlang.symbolic import texbreak
    prog = graphlang.parse("h = tanh(W @ x + b)\ny = sum(h * h)\nz = mean(h)\n")
    at = {"W": [[1, 0.5], [0, 2], [1, 1]], "x": [0.5, -0.25], "b": [0.1, 0.2, 0.3]}
    tex = to_tikz(prog, at, partials=True)
    row = next(line for line in tex.splitlines() if "(n-h)" in line and "&" in line)
    extra = float(re.search(r"&\[([0-9.]+)em\] \\node\[box, label=\{\[varname\]north west:\$\\mathbf\{h\}\$",
                            row).group(1))
    into_h = re.findall(r"node\[edgelabel\] \{\$([^$]*)\$\} \(n-h\.west\)", tex)
    assert len(into_h) == 3  # from W, x and b
    widest = max(texbreak.width(lab) for lab in into_h)
    assert extra + tikz.LABEL_GAP >= widest * tikz.SCRIPT_EM + 1  # the label and room for the arrow
    assert "&[" not in to_tikz(prog, at)  # no labels, no extra room
    lecture = to_tikz(graphlang.load(PROGRAMS / "lecture13.cg"), {"x": 2, "z": 3}, partials=True)
    assert all(float(x) < 6 for x in re.findall(r"&\[([0-9.]+)em\]", lecture))  # short labels: a little


def _pdflatex(folder, name: str) -> subprocess.CompletedProcess:
    return subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name], cwd=folder,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", ["lecture13", "two_layer_network", "softmax_classifier"])
def test_tikz_compiles_alone_and_on_a_beamer_slide(name, cli, tmp_path):
    at = _at(name)
    args = ["graph", str(PROGRAMS / f"{name}.cg"), "-o", str(tmp_path / "g.tex"), "--partials"]
    if at is not None:
        (tmp_path / "at.json").write_text(json.dumps(at))
        args += ["--at-file", str(tmp_path / "at.json")]
    ran = cli(*args)
    assert ran.code == 0, ran.err
    alone = _pdflatex(tmp_path, "g.tex")
    assert alone.returncode == 0, alone.stdout[-2000:]
    assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF") and "Output written on g.pdf (1 page" in alone.stdout
    (tmp_path / "slides.tex").write_text("\\documentclass{beamer}\n\\usepackage{tikz}\n\\begin{document}\n"
                                         "\\begin{frame}{The graph}\n\\resizebox{\\linewidth}{!}{\\input{g.tex}}\n"
                                         "\\end{frame}\n\\end{document}\n")
    if subprocess.run(["kpsewhich", "beamer.cls"], capture_output=True).stdout:
        slide = _pdflatex(tmp_path, "slides.tex")
        assert slide.returncode == 0, slide.stdout[-2000:]


def test_too_many_nodes_is_a_limit_error():
    prog = graphlang.parse("a0 = x\n" + "".join(f"a{i} = a{i - 1} + x\n" for i in range(1, 1200)))
    with pytest.raises(graphlang.GraphlangError) as info:
        to_tikz(prog)
    assert info.value.kind == "limit"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_a_long_chain_with_values_compiles(tmp_path):
    """`to[out=0, in=180]` stopped pdflatex ("Dimension too large") on a long steep edge: a chain of
    36 statements that all read x, drawn with values (found by a helper trying the output)."""
    body = ["a0 = x * z"] + [f"a{k} = {('cos', 'tanh', 'sigmoid')[k % 3]}(a{k - 1}) + x * a{k - 1} / (1 + z)"
                             for k in range(1, 36)]
    prog = graphlang.parse("\n".join(body) + "\ny = a35\n")
    for partials in (False, True):
        (tmp_path / "g.tex").write_text(to_tikz(prog, {"x": 0.5, "z": 0.3}, partials=partials))
        ran = _pdflatex(tmp_path, "g.tex")
        assert ran.returncode == 0, ran.stdout[-2000:]


def test_a_three_by_three_matrix_is_drawn_in_full():
    prog = graphlang.parse("input A[3, 3]\ny = sum(A * A)\n")
    tex = to_tikz(prog, {"A": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]})
    assert "1 & 2 & 3 \\\\ 4 & 5 & 6 \\\\ 7 & 8 & 9" in tex and "shape" not in tex.split("\\matrix")[1]
