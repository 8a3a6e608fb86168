"""Issue 16: tensor derivatives in LaTeX as the lecture writes matrix calculus (denominator layout),
never with the engine's helpers: a sum over an axis is `A^T 1` or `A 1`, its adjoint `1 g^T` or
`g 1^T`, indexing's adjoint uses one-hot vectors `e_i`.

Table-driven over every primitive with a tensor (vector-Jacobian) rule; the closed forms of the
small cases are checked against derivatives worked by hand, and everything compiles with pdflatex.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from test_latex import structural_problems
from test_latex_layout import _diff_blocks

import graphlang
from graphlang.primitives.table import PRIMITIVES
from graphlang.symbolic import derivative as symbolic
from graphlang.symbolic.printing import to_latex

# name, program, {input: ∂y/∂input by hand} (None: checked for notation and compiling only)
CASES = [
    ("sum-axis-0", "input A[2, 3], v[3]\ny = dot(sum(A, 0), v)\n",  # y = Σ_j (Σ_i A_ij) v_j
     {"A": r"\mathbf{1} v^{T}", "v": r"A^{T} \mathbf{1}"}),
    ("sum-axis-1", "input A[2, 3], u[2]\ny = dot(sum(A, 1), u)\n", {"A": r"u \mathbf{1}^{T}", "u": r"A \mathbf{1}"}),
    ("sum-axis-minus-1", "input A[2, 3], u[2]\ny = dot(sum(A, -1), u)\n",
     {"A": r"u \mathbf{1}^{T}", "u": r"A \mathbf{1}"}),
    ("mean-axis-0", "input A[2, 3], v[3]\ny = dot(mean(A, 0), v)\n",  # two rows: a half of the sum's
     {"A": r"\frac{\mathbf{1} v^{T}}{2}", "v": r"\frac{1}{2} A^{T} \mathbf{1}"}),
    ("mean", "input A[2, 3]\ny = mean(A) * sum(A)\n", None),
    ("index-element", "input A[2, 3], s\ny = A[1, 2] * s\n",
     {"A": r"s \mathbf{e}_{1} \mathbf{e}_{2}^{T}", "s": "A_{1,2}"}),
    ("index-row", "input A[2, 3], v[3]\ny = dot(A[0], v)\n", {"A": r"\mathbf{e}_{0} v^{T}", "v": "A_{0,:}"}),
    ("index-negative", "input u[3], s\ny = u[-1] * s\n", {"u": r"s \mathbf{e}_{2}", "s": "u_{2}"}),
    ("sum", "input A[2, 3]\ny = sum(A * A)\n", {"A": r"2 \cdot A"}),
    ("matmul-matrix-vector", "input W[2, 3], x[3]\ny = sum(W @ x)\n",
     {"W": r"\mathbf{1} x^{T}", "x": r"W^{T} \mathbf{1}"}),
    ("matmul-vector-matrix", "input u[2], W[2, 3]\ny = sum(u @ W)\n",
     {"u": r"W \mathbf{1}", "W": r"u \mathbf{1}^{T}"}),
    ("matmul-matrix-matrix", "input W[2, 3], X[3, 2]\ny = sum(W @ X)\n",  # ∂/∂W = 1 1ᵀ Xᵀ (2×2 ones)
     {"W": r"\mathbf{1} \mathbf{1}^{T} X^{T}"}),
    ("dot", "input u[3], v[3]\ny = dot(u, v)\n", {"u": "v", "v": "u"}),
    ("outer", "input u[2], v[3]\ny = sum(outer(u, v))\n", {"u": r"\mathbf{1} \mathbf{1}^{T} v"}),
    # every vector a column (the lecture's layout), however numpy's vector products were written
    ("quadratic-form", "input x[3], A[3, 3]\ny = x.T @ A @ x\n", {"x": r"A^{T} x + A x", "A": r"x x^{T}"}),
    ("vector-on-the-left", "input x[3], A[3, 3]\ny = x @ A.T @ x\n", {"x": r"A x + A^{T} x"}),
    ("inner-transposed", "input a[3], x[3]\ny = a.T @ x\n", {"a": "x", "x": "a"}),
    ("least-squares", "input A[4, 3], x[3], b[4]\nr = A @ x - b\ny = r.T @ r\n",
     {"x": r"A^{T} \left(2 \cdot \left(A x - b\right)\right)",
      "A": r"\left(2 \cdot \left(A x - b\right)\right) x^{T}"}),
    ("row-times-matrix", "input x[3], A[3, 3]\nv = x @ A\ny = sum(v * v)\n",
     {"x": r"A \left(2 \cdot \left(A^{T} x\right)\right)"}),
    ("T", "input A[2, 3], u[2]\ny = sum(A.T * u)\n", None),
    ("mT", "input A[2, 3], u[2]\ny = sum(mT(A) * u)\n", None),
    ("matmul-stack", "input A[2, 2, 3], B[2, 3, 2]\ny = sum(A @ B)\n", None),
    ("stack", "input s, v[3]\ny = dot([s, s^2, 1], v)\n", None),
    ("softmax-vector", "input u[3], v[3]\ny = dot(softmax(u), v)\n", None),
    ("softmax-matrix", "input A[2, 3], B[2, 3]\ny = sum(softmax(A) * B)\n", None),
    ("logsoftmax-vector", "input u[3], t[3]\ny = -dot(t, logsoftmax(u))\n", None),
    ("logsoftmax-matrix", "input A[2, 3], B[2, 3]\ny = sum(logsoftmax(A) * B)\n", None),
    ("logsumexp", "input A[2, 3]\ny = logsumexp(A)\n", None),
    ("expand", "input v[3], A[2, 3]\ny = sum(expand(v, A, 0) * A)\n",
     {"v": r"A^{T} \mathbf{1}", "A": r"\mathbf{1} v^{T}"}),
    ("embed", "input s, A[2, 3]\ny = sum(embed(s, A, 1, 2) * A)\n",
     {"s": "A_{1,2}", "A": r"s \mathbf{e}_{1} \mathbf{e}_{2}^{T}"}),
    ("concat-bias", "input z[3], w[4]\ny = dot(w, tanh(concat(1, z)))\n", None),
    ("concat-matrix", "input b[3], A[2, 3], x[3]\ny = sum(sin(concat(b, A) @ x))\n", None),
    ("rows", "input u[5], v[2]\ny = dot(rows(u, 1, 3), v)\n",  # y = u_1 v_0 + u_2 v_1
     {"v": r"u_{1 \ldots 2}", "u": r"\begin{bmatrix}\mathbf{0} \\ v \\ \mathbf{0}\end{bmatrix}"}),
    ("padrows", "input u[2], v[5]\ny = dot(padrows(u, v, 1), v)\n", {"u": r"v_{1 \ldots 2}"}),
    ("broadcast-row", "input A[2, 3], v[3]\ny = sum(sin(A + v))\n", None),
    ("broadcast-scalar", "input s, u[3]\ny = sum(exp(s * u))\n", {"s": r"\sum e^{s \cdot u} \cdot u"}),
    ("broadcast-column", "input A[2, 3], c[2, 1]\ny = sum(sin(A * c))\n", None),
]
HELPERS = ("embed", "expand", "\\operatorname{repeat}", "\\text{axis", "\\operatorname{dpow}",
           "\\operatorname{mean}\\left(A,")


def _at(prog: graphlang.Program) -> dict:
    rng = np.random.default_rng(16)
    return {n: rng.uniform(0.5, 1.5, size=prog.checked.declared.get(n) or ()).tolist() for n in prog.inputs}


def _texts(cli, write, source: str) -> list[str]:
    path = write(source)
    at = ",".join(f"{k}={v}" for k, v in _at(graphlang.load(path)).items()).replace(" ", "")
    return [cli("diff", path, "--latex", "--at", at).out, cli("explain", path, "--at", at, "--format", "latex").out,
            graphlang.load(path).to_latex()]


def test_every_primitive_with_a_tensor_rule_is_in_the_table():
    tensor_rules = {n for n, p in PRIMITIVES.items() if p.vjp is not None}
    used = {eq.prim.name for _, source, _ in CASES for eq in graphlang.parse(source).graph.eqns}
    assert tensor_rules <= used, tensor_rules - used


@pytest.mark.parametrize(("name", "source", "by_hand"), CASES, ids=[c[0] for c in CASES])
def test_tensor_derivatives_read_as_the_lecture_writes_them(cli, write, name, source, by_hand):
    for text in _texts(cli, write, source):
        assert not [h for h in HELPERS if h in text], text
        assert structural_problems(text) == [], text
    if by_hand:
        prog = graphlang.parse(source)
        shapes = prog.bind(_at(prog))[1]
        forms = symbolic.closed_forms(prog, shapes)
        known = symbolic.name_shapes(prog.graph, shapes)
        assert {n: to_latex(forms[n], known) for n in by_hand} == by_hand


def test_matrix_calculus_needs_no_shapes_for_the_common_cases():
    """Without shapes (`Program.to_latex()` of undeclared inputs) the notation is still the lecture's."""
    prog = graphlang.parse("s0 = sum(A, 0)\ns1 = sum(A, 1)\nr = A[1]\ne = expand(v, A, 0)\ny = sum(s0) + sum(s1)")
    tex = prog.to_latex()
    assert r"s_{0} &= A^{T} \mathbf{1}" in tex and r"s_{1} &= A \mathbf{1}" in tex
    assert r"e &= \mathbf{1} v^{T}" in tex and "r &= A_{1}" in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_matrix_calculus_compiles(tmp_path, cli, write):
    body = []
    for _, source, _ in CASES:
        diff, explained, program = _texts(cli, write, source)
        body += [f"\\[\n{block}\n\\]" for block in _diff_blocks(diff)] + [explained, program]
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
                                      + "\n".join(body) + "\n\\end{document}\n")
    ran = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stdout[-3000:]
