"""Issue 16: `explain` of a program whose output is not one scalar (a vector or matrix output, or
several outputs) shows a backward pass per output component, `y[0]`, `y[1]`, … (the first
MAX_COMPONENTS, then a note saying how to see another), in text, Markdown, LaTeX and JSON.

The adjoints printed for each component are checked against an independent method: the rows of the
Jacobian that forward mode computes (`graphlang grad --method forward`), and derivatives by hand.
"""

from __future__ import annotations

import ast
import math
import re
import shutil
import subprocess

import numpy as np
import pytest
from conftest import PROGRAMS as PROGRAMS_DIR

import graphlang
from graphlang.present.components import MAX_COMPONENTS
from graphlang.repl import ReplSession

PROGRAMS = [
    ("vector", "input W[3, 2], x[2]\ny = tanh(W @ x) * sum(x)\n", "W=[[1,2],[0.5,-1],[0.3,0.2]],x=[0.4,-0.7]"),
    ("matrix", "input A[2, 2], x\ny = A * x^2 + A.T * sin(x)\n", "A=[[1,2],[3,4]],x=0.8"),
    ("several", "input x[2], z\ny1 = sum(x) * z\ny2 = sin(x) * z\noutput y1, y2\n", "x=[0.3,1.1],z=2"),
]


def _number(text: str) -> np.ndarray:
    """A value as `explain` prints it (`[1, 2]`, `[[1, 2], [3, 4]] (shape [2, 2])`, `0.25`)."""
    return np.array(ast.literal_eval(re.sub(r"\s*\(shape .*\)$", "", text)), dtype=float)


@pytest.mark.parametrize(("name", "source", "at"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_each_component_backward_pass_is_a_row_of_the_forward_mode_jacobian(cli, write, name, source, at):
    path = write(source)
    jac = cli("grad", path, "--at", at, "--method", "forward", "--json").json()["jacobian"]
    steps = cli("explain", path, "--at", at, "--json").json()["steps"]
    components = list(dict.fromkeys(s["of"] for s in steps if s["phase"] == "gradient"))
    n = np.asarray(next(iter(jac.values()))).shape[-1]
    assert len(components) == n and all(c is not None for c in components)
    for k, of in enumerate(components):  # the Jacobian's columns are the outputs flattened in order
        grads = {s["node"]: _number(s["forms"][-1]) for s in steps if s["phase"] == "gradient" and s["of"] == of}
        assert set(grads) == set(jac)
        for x, column in jac.items():
            np.testing.assert_allclose(grads[x], np.asarray(column)[..., k], rtol=1e-8, atol=1e-12)
        seed = [s for s in steps if s["phase"] == "backward" and s["of"] == of and s["node"] == of.split("[")[0]][0]
        assert seed["forms"][1].startswith(f"∂{of}/∂")  # the pass starts at its component: g_y = ∂y[k]/∂y


def test_intermediate_adjoints_per_component_by_hand(cli, write):
    """a = 2x; y = [a0·a1, sin(a0)]: ∂y0/∂a = [a1, a0], ∂y1/∂a = [cos a0, 0]."""
    path = write("input x[2]\na = x * 2\ny = [a[0] * a[1], sin(a[0])]\n")
    steps = cli("explain", path, "--at", "x=[0.5,1.5]", "--json").json()["steps"]
    g_a = {s["of"]: _number(s["forms"][-1]) for s in steps if s["phase"] == "backward" and s["node"] == "a"}
    a0, a1 = 1.0, 3.0
    np.testing.assert_allclose(g_a["y[0]"], [a1, a0], rtol=1e-6)
    np.testing.assert_allclose(g_a["y[1]"], [math.cos(a0), 0.0], rtol=1e-5, atol=1e-12)


def test_every_format_shows_the_passes(cli, write):
    path = write("input W[3, 2], x[2]\ny = W @ x\n")
    at = "W=[[1,2],[3,4],[5,6]],x=[1,1]"
    text = cli("explain", path, "--at", at, width=300).out
    assert "Backward pass for y[2] (reverse mode)" in text and "Gradient of y[2]" in text
    assert "g_y = ∂y[1]/∂y = e₁ = [0, 1, 0]" in text and "∂y[1]/∂x = g_x = [3, 4]" in text  # row 1 of W
    md = cli("explain", path, "--at", at, "--format", "markdown").out
    assert "### Backward pass for y[0] (reverse mode)" in md
    tex = cli("explain", path, "--at", at, "--format", "latex").out
    assert "\\mathbf{W} &= \\begin{bmatrix}1 & 2 \\\\ 3 & 4 \\\\ 5 & 6\\end{bmatrix}" in tex  # 3×2 stays 3×2
    assert r"\mathbf{g}_{\mathbf{y}} &= \frac{\partial y_{0}}{\partial \mathbf{y}} = \mathbf{e}_{0}" in tex
    assert (r"\frac{\partial y_{2}}{\partial \mathbf{x}} &= \mathbf{g}_{\mathbf{x}} = "
            r"\begin{bmatrix}5 \\ 6\end{bmatrix}") in tex
    assert "% Backward pass for y[1] (reverse mode)" in tex
    only = cli("explain", path, "--at", at, "--node", "x").out
    assert only.count("\n  g_x = ") == 3 and "g_W" not in only


def test_past_the_limit_a_note_says_how_to_see_another_component(cli, write):
    path = write("input x\ny = x * [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n")
    ran = cli("explain", path, "--at", "x=2", width=400)
    passes = ran.out.split("Note")[0]
    assert passes.count("Backward pass for") == MAX_COMPONENTS and "y[7]" in passes and "y[8]" not in passes
    assert "10 components" in ran.out and "`y_8 = y[8]` then `output y_8`" in ran.out
    steps = cli("explain", path, "--at", "x=2", "--json").json()["steps"]
    assert [s for s in steps if s["phase"] == "note"][0]["forms"][0].startswith("the outputs have 10 components")
    md = cli("explain", path, "--at", "x=2", "--format", "markdown").out
    assert "*Note:*" in md
    # the pass for a component past the limit, as the note says (the gradient of y[8] = 9x is 9)
    shown = cli("explain", write("input x\ny = x * [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\ny_8 = y[8]\noutput y_8\n"),
                "--at", "x=2").out
    assert "∂y_8/∂x = g_x = 9" in shown


def test_of_names_one_component(cli, write):
    """`--of 'y[9]'`: that component's backward pass only (y[9] = 10x: its gradient is 10, by hand),
    a negative index counted from the end; the same lines as that component's pass in the full run."""
    path = write("input x\ny = x * [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n")
    for of in ("y[9]", "y[-1]", " y[ 9 ] "):
        ran = cli("explain", path, "--at", "x=2", "--of", of, width=400)
        assert ran.code == 0 and ran.out.count("Backward pass for") == 1, ran.out
        assert "∂y[9]/∂x = g_x = 10" in ran.out and "Note:" not in ran.out
    assert graphlang.load(path).explain({"x": 2}, of="y[9]") == cli("explain", path, "--at", "x=2", "--of", "y[9]").out
    for name, source, at in PROGRAMS:
        p = write(source, f"{name}.cg")
        full = cli("explain", p, "--at", at, "--json").json()["steps"]
        last = [s for s in full if s["phase"] == "gradient"][-1]["of"]  # past the limit too
        one = cli("explain", p, "--at", at, "--of", last, "--json").json()["steps"]
        assert [s for s in one if s["phase"] in ("backward", "gradient")] == \
            [s for s in full if s.get("of") == last], name
    lecture = str(PROGRAMS_DIR / "lecture13.cg")  # the one scalar output: --of y is the default
    assert cli("explain", lecture, "--at", "x=2,z=3", "--of", "y").out == cli("explain", lecture, "--at", "x=2,z=3").out


@pytest.mark.parametrize(("of", "says"), [("y[10]", "index 10 is out of range for an axis of length 10"),
                                           ("y", "1 index within shape"),
                                          ("y[1, 2]", "1 index within"), ("q", "'q' is not an output"),
                                          ("x", "(`output x`)"), ("y[", "e.g. --of 'y[9]'")])
def test_of_a_component_that_is_not_there_is_a_usage_error(cli, write, of, says):
    ran = cli("explain", write("input x\ny = x * [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"), "--at", "x=2", "--of", of)
    assert ran.code == 2 and "usage error" in ran.err and says in ran.err and "Traceback" not in ran.err


def test_the_repl_explains_one_component():
    s = ReplSession()
    for line in ("input x", "y = x * [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", ":at x=2"):
        s.handle(line)
    full = "".join(t.plain for t in s.handle(":explain"))
    assert "(`:explain y[8]`)" in full and "--of" not in full  # the note in the REPL's words
    one = "".join(t.plain for t in s.handle(":explain y[8]"))
    assert one.count("Backward pass for") == 1 and "∂y[8]/∂x = g_x = 9" in one
    assert ":explain y[10]: index 10 is out of range" in "".join(t.plain for t in s.handle(":explain y[10]"))


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_component_passes_compile(tmp_path, cli, write):
    body = [cli("explain", write(source), "--at", at, "--format", "latex").out for _, source, at in PROGRAMS]
    body.append(cli("explain", write("input x\ny = x * [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"), "--at", "x=2",
                    "--format", "latex").out)
    assert r"\emph{Note:}" in body[-1]
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
                                      + "\n".join(body) + "\n\\end{document}\n")
    ran = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stdout[-3000:]
