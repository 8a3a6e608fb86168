"""Every LaTeX output compiles (issue 12, item 9): `diff --latex`, `explain --format latex` and the
JSON `latex` fields, for names with underscores anywhere and for every kind of expression.

Checked two ways: a structural check that runs everywhere (balanced braces, no double sub- or
superscript, no unescaped `_` inside a subscript), and pdflatex itself when it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
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
    # a layer's tensors (bold, α^{(1)}) beside numbers with indices (β₀, a number of z1)
    ("input x[2], alpha1[2, 2], b1[2], beta0\nz1 = sigmoid(alpha1.T @ x + b1)\nyhat2 = z1 ^ 2\n"
     "y = sum(yhat2) + alpha1[0, 1] * z1[1] + beta0 * sum(alpha1.T)",
     {"x": [0.5, -1.0], "alpha1": [[1, 2], [3, 4]], "b1": [0.1, 0.2], "beta0": 0.3}),
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
                        elif c == "_" and level == 0 and (j == 0 or inner[j - 1] != "\\") and \
                                inner[j + 1:j + 2] != "{":  # (g_{\\beta_{0}}: a subscript's own, braced)
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
    # a long name is one symbol, its adjoint's subscript the same (a visual review: first_{input…} beside
    # g_{first\_input…}); a word with a number or a letter keeps the subscript
    long = r"\mathit{first\_input\_value}"
    assert tex_name("first_input_value") == long and tex_name("g_first_input_value") == f"g_{{{long}}}"
    assert tex_name("loss_total") == r"\mathit{loss\_total}" and tex_name("loss_1") == r"\mathit{loss}_{1}"
    # an adjoint's subscript is its node as written (g_W_1 was \mathbf{g}_{W\_1} beside \mathbf{W}_{1}: a review)
    from graphlang.symbolic.texnames import tensor_names, tex_element
    assert tex_name("g_x_1") == "g_{x_{1}}"
    with tensor_names(["W_1", "loss"]):
        assert tex_name("W_1") == r"\mathbf{W}_{1}" and tex_name("g_W_1") == r"\mathbf{g}_{\mathbf{W}_{1}}"
        assert tex_element("loss", "0") == r"\mathit{loss}_{0}"  # one number of a word-named tensor: not l·o·s·s
    # a name with a number inside (alpha1p, x2y) is one symbol, not the product a·l·p·h·a·1·p math mode writes
    assert tex_name("alpha1p") == r"\mathit{alpha1p}" and tex_name("g_x2y") == r"g_{\mathit{x2y}}"
    with tensor_names(["x2y"]):
        assert tex_name("x2y") == r"\mathbf{x2y}" and tex_name("g_x2y") == r"\mathbf{g}_{\mathbf{x2y}}"
    assert structural_problems("a_b_c") and structural_problems("x_{1}_{0}") and structural_problems("a_{b_c}")
    assert not structural_problems("{x_{1}}_{0}^{T} + a_{b\\_c}")


def test_a_layers_tensors_are_written_as_the_lecture_writes_them(cli, write):
    """The lecture writes z^{(1)} = σ((α^{(1)})^T x + b^{(1)}): a tensor bold, its number the layer's
    (α₁ read as one number of α); a number keeps its subscript (β₀), and one number of a tensor
    is not bold (x_1, X_{11}). Oracle: the lecture's own LaTeX (lecture13.txt, "Neural Networks
    (Matrix Form)" and the matrix calculus table)."""
    source, at = PROGRAMS[-1]
    tex = ex.as_text(ex.explain(graphlang.parse(source), at), "latex")
    assert (r"\mathbf{z}^{(1)} &= \sigma\left(\left(\boldsymbol{\alpha}^{(1)}\right)^{T} \mathbf{x} "
            r"+ \mathbf{b}^{(1)}\right)") in tex  # the lecture: \sigma((\alpha^{(1)})^T \mathbf{x} + \mathbf{b}^{(1)})
    assert r"\beta_{0} &= 0.3" in tex and r"\alpha^{(1)}_{0,1} \cdot z^{(1)}_{1}" in tex
    assert r"\mathbf{g}_{\boldsymbol{\alpha}^{(1)}} &= " in tex and r"g_{\beta_{0}} &= " in tex  # \mathbf{g}_{\beta}
    assert r"\hat{\mathbf{y}}^{(2)} &= {\mathbf{z}^{(1)}}^{2}" in tex  # ŷ^{(2)}; a power of z^{(1)} braced
    scalar = ex.as_text(ex.explain(graphlang.parse("a1 = x * z\ny = alpha1 + a1"), {"x": 2, "z": 3,
                                                                                     "alpha1": 1}), "latex")
    assert r"a_{1} &= x \cdot z" in scalar and r"\alpha_{1} &= 1" in scalar  # numbers: as before
    forward = ex.as_text(ex.explain(graphlang.parse(source), at), "latex")
    assert forward == tex  # (no state left behind: the names are the presenter's, per call)
    assert tex_name("alpha1") == r"\alpha_{1}"  # outside a presenter, every name a number
    shown = cli("explain", write(source), "--at", "x=[0.5,-1],alpha1=[[1,2],[3,4]],b1=[0.1,0.2],beta0=0.3", "--mode",
                "forward", "--wrt", "alpha1[0, 1]", "--format", "latex").out
    assert r"\dot{\mathbf{z}}^{(1)}" in shown and r"\partial \alpha^{(1)}_{0,1}" in shown


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
    assert r"\frac{\partial y}{\partial \mathbf{W}} = \mathbf{1} \mathbf{x}^{T}" in out  # (tensors bold)
    assert r"\frac{\partial y}{\partial \mathbf{x}} = \mathbf{W}^{T} \mathbf{1}" in out
    out = cli("diff", write(TENSOR), "--latex").out
    assert "expand" not in out and "operatorname" not in out
    assert r"\left(\sum \mathbf{v}\right) \mathbf{1}" in out  # a scaled ones vector keeps its scale grouped


@pytest.mark.parametrize("source, text, tex, want", [
    ("input t[3], u[3]\nL = -sum(t * ln(u))\n", "dL/du = -t/u", r"= -\frac{\mathbf{t}}{\mathbf{u}}",
     lambda t, u: -t / u),
    ("input t[3], u[3]\nL = sum(2 * u^2)\n", "dL/du = 4·u", r"= 4 \cdot \mathbf{u}", lambda t, u: 4 * u)])
def test_a_number_spread_beside_a_tensor_of_its_shape_is_written_as_the_number(cli, write, source, text, tex, want):
    """sum's adjoint spreads g_L over u's shape: beside an operand of that shape it is the number
    (-t/u), not -𝟏·t (the README's legend: bold 𝟏 a vector of ones). Oracle: the hand derivative."""
    path = write(source)
    assert text in cli("diff", path, "--wrt", "u").out
    latex = cli("diff", path, "--wrt", "u", "--latex").out
    assert tex in latex and r"\mathbf{1}" not in latex
    t, u = np.array([0.2, 0.3, 0.5]), np.array([1.5, 2.0, 4.0])
    got = graphlang.load(path).gradient({"t": t, "u": u}, method="symbolic")["u"]
    np.testing.assert_allclose(got, want(t, u), rtol=1e-15)


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


BIG_VALUES = {  # (found by a helper: raw text with "⋮" and "shape", or an 11-column bmatrix)
    "stack": ("input S[16, 3, 3], v[3]\nu = S @ v\ny = sum(u * u) + sum(S @ mT(S))\n",
              {"S": [[[(i + j + k) % 5 - 2 + 0.25 * i for k in range(3)] for j in range(3)] for i in range(16)],
               "v": [1.0, -0.5, 2.0]}),
    "tall": ("input A[30, 2]\ny = sum(A * A)\n", {"A": [[0.1 * i, 1e-17 * i] for i in range(30)]}),
    "wide": ("input x[2, 11]\ny = sum(x * x)\n", {"x": [list(range(11)), list(range(11, 22))]}),
}


@pytest.mark.parametrize("name", sorted(BIG_VALUES))
def test_big_values_are_latex_with_their_ends_shown(name, tmp_path):
    text, at = BIG_VALUES[name]
    tex = ex.as_text(ex.explain(graphlang.parse(text), at), "latex")
    assert tex.isascii() and "shape" not in tex and "e-" not in tex  # no text summary, no 1e-17
    assert all(m.count("&") <= 9 * (m.count("\\\\") + 1) for m in re.findall(r"\\begin\{bmatrix\}(.*?)\\end", tex))
    assert "\\vdots" in tex or "\\cdots" in tex or "\\dots" in tex
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    (tmp_path / "out.tex").write_text(tex)
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\\usepackage{amsmath}\\begin{document}"
                                      "\\input{out.tex}\\end{document}\n")
    ran = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout[-2000:]


def test_numbers_in_latex_are_written_with_powers_of_ten():
    assert ex.tex_number(6.123233995736766e-17, 6) == "6.12323 \\times 10^{-17}"
    assert ex.tex_number(2.5e20, 3) == "2.5 \\times 10^{20}" and ex.tex_number(0.5, 3) == "0.5"


def test_a_number_before_the_ones_vector_is_not_read_as_one_number():
    """`-1 \\mathbf{1}` printed as "−11", `0.5 \\mathbf{1}` as "0.51" (found by a helper)."""
    from graphlang.symbolic.matrixtex import _scale
    assert _scale("-1", 0) == "-" and _scale("1", 0) == "" and _scale("0.5", 99).endswith("\\cdot ")
    assert _scale("g_{y}", 99) == "g_{y} "
    prog = graphlang.parse("input u[3], t[3]\np = softmax(u)\ny = -sum(t * log(p)) + 0.5 * sum(u * u)\n")
    tex = ex.as_text(ex.explain(prog, {"u": [1.0, 2.0, 0.5], "t": [0.0, 1.0, 0.0]}), "latex")
    assert "\\mathbf{1}" in tex and not re.search(r"\d\s*\\mathbf\{1\}", tex), tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_a_long_pass_goes_on_on_the_next_page(tmp_path):
    """Each pass is one align*, which did not break across pages: 46 statements ran 3,200pt past the
    bottom of page 2 (found by a helper). Rows may now break (\\displaybreak[0])."""
    body = ["a0 = x * z"] + [f"a{k} = sin(a{k - 1}) + x * a{k - 1} / (1 + z)" for k in range(1, 60)]
    prog = graphlang.parse("\n".join(body) + "\ny = a59\n")
    (tmp_path / "out.tex").write_text(ex.as_text(ex.explain(prog, {"x": 0.5, "z": 0.3}), "latex"))
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\\usepackage{amsmath}\\begin{document}"
                                      "\\input{out.tex}\\end{document}\n")
    ran = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout[-2000:]
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "Overfull \\vbox" not in log  # nothing runs past a page's bottom
    assert re.search(r"Output written on doc\.pdf \(([0-9]+) pages", log).group(1) not in ("1", "2")


def test_a_vectors_outer_product_is_written_x_x_transposed():
    """∂(xᵀAx)/∂A printed as `x^T x^T` (an impossible product; found by a helper): outer's
    arguments are vectors, so a transpose inside it is dropped. Oracle: by hand, ∂/∂A = x xᵀ."""
    prog = graphlang.parse("input x[3], A[3, 3]\nh = x.T @ A @ x\n")
    tex = ex.as_text(ex.explain(prog, {"x": [1.0, 2.0, -1.0], "A": [[1, 2, 0], [0, 1, 3], [2, 0, 1]]}), "latex")
    g_a = next(line for line in tex.splitlines() if line.startswith("\\mathbf{g}_{\\mathbf{A}}"))  # (bold: a tensor)
    assert "x}^{T} \\left(" not in g_a and "= \\mathbf{x} \\left(g_{h} \\cdot \\mathbf{x}\\right)^{T}" in g_a, g_a
    assert "\\begin{bmatrix}1 & 2 & -1 \\\\ 2 & 4 & -2 \\\\ -1 & -2 & 1\\end{bmatrix}" in g_a  # x xᵀ
    assert prog.diff(wrt="A") == {"A": "x xᵀ"}


def test_a_long_exponent_is_written_as_exp():
    """e^{sin(cos(ln(…)))} printed the whole chain in tiny script (found by a helper)."""
    short = graphlang.parse("y = exp(x * z)\n")
    assert to_latex(short.graph.statement("y").expr) == "e^{x \\cdot z}"
    long = graphlang.parse("y = exp(sin(cos(ln(1 + x))))\n")
    assert to_latex(long.graph.statement("y").expr).startswith("\\exp\\left(\\sin\\left(")


def test_page_breaks_are_for_documents_not_for_mathjax():
    """`\\allowdisplaybreaks` lets a long pass go on on the next page in a LaTeX document; Jupyter
    shows `Program.explain(format="latex")` with MathJax, which does not know the command."""
    prog = graphlang.parse("a = x * z\ny = sin(a)\n")
    shown = prog.explain({"x": 2, "z": 3}, format="latex")
    assert str(shown) == ex.as_text(ex.explain(prog, {"x": 2, "z": 3}), "latex")  # the document's text
    assert str(shown).count("{\\allowdisplaybreaks") == str(shown).count("\\end{align*}}") == 3
    mathjax = shown._repr_latex_()
    assert "allowdisplaybreaks" not in mathjax
    assert mathjax.count("\\begin{align*}") == mathjax.count("\\end{align*}\n") == 3
    assert mathjax.count("{") == mathjax.count("}")


def test_a_transposed_fraction_is_bracketed():
    """A red team's find: `\\frac{\\mathbf{1}}{3}^{T}` put the T beside the fraction's bar."""
    from graphlang.symbolic.matrixtex import transposed
    from graphlang.symbolic.textform import ATOM
    assert transposed("\\frac{\\mathbf{1}}{3}", ATOM) == "\\left(\\frac{\\mathbf{1}}{3}\\right)^{T}"
    assert transposed("W", ATOM) == "W^{T}"


def test_logsumexp_over_an_axis_names_it_in_latex():
    """`logsumexp(U, 0)` and `logsumexp(U)` printed the same LaTeX (the axis dropped)."""
    from graphlang.symbolic.printing import to_latex
    one, every = (graphlang.parse(f"input U[2, 3]\ny = sum(logsumexp(U{a}))\n").graph.statements[0].expr
                  for a in (", 0", ""))
    assert "\\text{axis } 0" in to_latex(one) and "axis" not in to_latex(every)


def test_explain_latex_brackets_a_local_derivative_only_where_the_text_does():
    """A student's find: the LaTeX wrote g_y·(1), g_a·(z), g_d·(exp(a)) where the text writes
    g_y·1, g_a·z; a sum or a quotient keeps its brackets in both."""
    p = graphlang.parse("a = x * z\nb = ln(x)\nc = sin(b)\nd = exp(a)\ne = a / b\nf = c / a\ny = d + e + f\n")
    tex = p.explain({"x": 2, "z": 3}, format="latex")
    assert "g_{d} \\cdot \\exp\\left(a\\right)" in tex and "\\left(\\frac{1}{b}\\right)" in tex, tex
    assert "\\cdot \\left(1\\right)" not in tex and "\\left(z\\right)" not in tex


def test_a_wide_matrix_of_long_numbers_shows_fewer_columns_not_a_line_off_the_page(tmp_path):
    """The digits network's gradient (64 × 32 at 10 digits) ran 164pt past the page in `explain
    --format latex` (a visual review): the columns shown shrink until a row fits. Oracle: the
    first and last columns' numbers, as numpy has them; a narrow matrix keeps every column."""
    rng = np.random.default_rng(5)
    m = rng.normal(size=(6, 32)) * 1e-5
    tex = ex.tex_value(m, 10)
    rows = tex.removeprefix("\\begin{bmatrix}").removesuffix("\\end{bmatrix}").split(" \\\\ ")
    from graphlang.symbolic import texbreak
    assert all(texbreak.width(r) <= ex.MATRIX_WIDTH for r in rows), rows
    first = rows[0].split(" & ")
    assert first[1] == "\\cdots" and len(first) == 3  # the first column, dots, the last
    assert first[0] == ex.tex_number(m[0, 0], 10) and first[-1] == ex.tex_number(m[0, -1], 10)
    narrow = ex.tex_value(np.arange(12.0).reshape(3, 4), 10)
    assert "cdots" not in narrow and narrow.count("&") == 9
    if shutil.which("pdflatex"):
        prog = graphlang.parse("input W[4, 20], x[20]\ny = sum(tanh(W @ x) * 0.001234567)\n")
        at = {"W": (rng.normal(size=(4, 20)) * 1e-3).tolist(), "x": rng.normal(size=20).tolist()}
        doc = "\\documentclass{article}\\usepackage{amsmath}\\begin{document}" + ex.as_text(
            ex.explain(prog, at), "latex") + "\\end{document}\n"
        (tmp_path / "d.tex").write_text(doc)
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "d.tex"], cwd=tmp_path, capture_output=True,
                       timeout=120)
        assert "Overfull \\hbox" not in (tmp_path / "d.log").read_text(errors="replace")


def test_exp_of_logsoftmax_is_written_softmax():
    """`exp(ln(softmax(u)))` in ∂J/∂u of the cross-entropy (a visual review): written softmax(u), which
    it equals everywhere (oracle: numpy), and the gradient is softmax(u) - t by hand."""
    prog = graphlang.parse("input u[3], t[3]\nJ = -sum(t * logsoftmax(u))\n")
    tex, text = prog.diff(latex=True)["u"], prog.diff()["u"]
    assert "\\operatorname{softmax}\\left(\\mathbf{u}\\right)" in tex and "\\exp" not in tex
    u = np.array([1.0, 2.0, 3.0])
    assert np.allclose(np.exp(u - np.log(np.sum(np.exp(u)))), np.exp(u) / np.sum(np.exp(u)))
    assert "softmax" in text
    at = {"u": u.tolist(), "t": [0.0, 1.0, 0.0]}
    r = prog.evaluate(at)
    np.testing.assert_allclose(r.gradient["u"], np.exp(u) / np.sum(np.exp(u)) - at["t"], rtol=1e-12)


@pytest.mark.parametrize("source,at", [
    ("input x[2]\nparam W[2, 2]\nJ = sum(cos(W @ x))\n", {"x": [1.0, 2.0], "W": [[1.0, 0.5], [0.0, 1.0]]}),
    ("input x[3], y\nparam w[3]\ns = dot(w, x)\nm = max(0, 1 - y * s)\n", {"x": [1.0, -2.0, 0.5], "y": 1.0,
                                                                        "w": [0.1, 0.2, 0.3]}),
    ("input x, z\ny = x * (-z) + exp(-x) * z\n", {"x": 0.5, "z": 2.0}),
])
def test_a_negative_factor_is_bracketed_not_read_as_a_difference(source, at):
    """A red team's find: ∂J/∂x = Wᵀ(−sin(Wx)) was written `\\mathbf{W}^{T} -\\sin…`, which reads as
    Wᵀ − sin(Wx). A minus sign attached to what follows a product (no space after it), right after a
    factor (no `=`, `&`, opening bracket or row break before it), is that misreading."""
    p = graphlang.parse(source)
    texts = [*map(str, p.diff(latex=True).values()), str(p.explain(at, format="latex"))]
    for tex in texts:
        assert not re.search(r"[^=&({,\s\\] -\S", tex), tex  # (a bmatrix row: `\\\\ -1`)


def test_a_declared_tensor_is_bold_where_other_inputs_are_not_declared():
    """A red team's find: `Program.to_latex()` and `graph -o g.tex` wrote `input alpha1[2, 2]` as
    \\alpha_{1} (a number) when another input was undeclared, where explain and diff wrote the
    lecture's \\boldsymbol{\\alpha}^{(1)}."""
    from graphlang.present.tikz import to_tikz
    p = graphlang.parse("input alpha1[2, 2]\nz1 = alpha1 @ x\ny = sum(z1)\n")
    assert "\\boldsymbol{\\alpha}^{(1)}" in p.to_latex() and "\\alpha_{1}" not in p.to_latex()
    assert "\\boldsymbol{\\alpha}^{(1)}" in to_tikz(p) and "\\alpha_{1}" not in to_tikz(p)
