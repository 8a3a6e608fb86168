"""Issue 16: the plain-text and Markdown displays (`explain`, `diff`, `graph --partials`, the REPL's
`:explain`/`:diff`/`:graph partials`) write tensor derivatives in the lecture's matrix calculus, as
the LaTeX does, never with the engine's helpers (`expand(`, `embed(`, a scalar `outer(g_y, x)`).

Table-driven over every primitive with a tensor rule (the table of `test_matrix_calculus`). Oracles:
derivatives worked by hand (in the Unicode notation), the API's reverse mode and central finite
differences for the numbers `explain` prints, and a re-parse of the `.cg` closed forms that a scalar
program keeps.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from test_matrix_calculus import CASES, _at
from test_repl import render

import graphlang
from graphlang.repl import ReplSession

# words of the engine that no human-readable display may show for a tensor program
HELPERS = ("expand(", "embed(", "unbroadcast", "dpow", "outer(", ".T", "_seed", "repeat")

# ∂y/∂input by hand, as `diff` prints it: 1 a vector of ones, eᵢ a one-hot vector, side by side a
# matrix product (denominator layout: each derivative has its input's shape)
BY_HAND = {
    "sum-axis-0": {"A": "𝟏 vᵀ", "v": "Aᵀ 𝟏"},  # y = vᵀ(Aᵀ1): every row of ∂y/∂A is vᵀ
    "sum-axis-1": {"A": "u 𝟏ᵀ", "u": "A 𝟏"},
    "sum-axis-minus-1": {"A": "u 𝟏ᵀ", "u": "A 𝟏"},
    "mean-axis-0": {"A": "(𝟏 vᵀ)/2", "v": "(1/2)·Aᵀ 𝟏"},  # two rows
    "index-element": {"A": "s·e₁ e₂ᵀ", "s": "A[1, 2]"},
    "index-row": {"A": "e₀ vᵀ", "v": "A[0]"},
    "index-negative": {"u": "s·e₂", "s": "u[-1]"},  # u[-1] of 3 is u[2]
    "sum": {"A": "2·A"},
    "matmul-matrix-vector": {"W": "𝟏 xᵀ", "x": "Wᵀ @ 𝟏"},  # the lecture's g_z xᵀ with g_z = 1
    "matmul-vector-matrix": {"u": "W @ 𝟏", "W": "u 𝟏ᵀ"},
    "matmul-matrix-matrix": {"W": "(𝟏 𝟏ᵀ) @ Xᵀ", "X": "Wᵀ @ (𝟏 𝟏ᵀ)"},
    "dot": {"u": "v", "v": "u"},
    "outer": {"u": "(𝟏 𝟏ᵀ) @ v", "v": "(𝟏 𝟏ᵀ) @ u"},  # columns: a vector never stands on the left
    "quadratic-form": {"x": "Aᵀ @ x + A @ x", "A": "x xᵀ"},  # not numerator layout's xᵀA + (Ax)ᵀ
    "vector-on-the-left": {"x": "A @ x + Aᵀ @ x"},
    "inner-transposed": {"a": "x", "x": "a"},
    "least-squares": {"x": "Aᵀ @ (2·(A @ x - b))", "A": "(2·(A @ x - b)) xᵀ"},
    "row-times-matrix": {"x": "A @ (2·(Aᵀ @ x))"},
    "expand": {"v": "Aᵀ 𝟏", "A": "𝟏 vᵀ"},
    "embed": {"s": "A[1, 2]", "A": "s·e₁ e₂ᵀ"},
    "broadcast-row": {"A": "cos(A + 𝟏 vᵀ)"},  # numpy adds v to each row: A + 𝟏 vᵀ, not a matrix plus a column
    "broadcast-scalar": {"s": "sum(exp(s·u)·u)", "u": "exp(s·u)·s"},
}
IDS = [c[0] for c in CASES]


def _files(write, source: str, prog: graphlang.Program) -> tuple[str, str, str]:
    """The program's path, its point as --at text and as a JSON file (for the REPL's :at-file)."""
    at = _at(prog)
    path = write(source)
    return path, ",".join(f"{k}={v}" for k, v in at.items()).replace(" ", ""), write(json.dumps(at), "at.json")


def _repl(path: str, at_file: str) -> list[str]:
    s = ReplSession()
    for line in (f":load {path}", f":at-file {at_file}"):
        out = render(s.handle(line))
        assert " error: " not in out, out
    return [render(s.handle(cmd)) for cmd in (":explain", ":diff", ":graph partials")]


@pytest.mark.parametrize(("name", "source", "_tex"), CASES, ids=IDS)
def test_text_and_markdown_never_show_a_helper(cli, write, name, source, _tex):
    prog = graphlang.parse(source)
    path, at, at_file = _files(write, source, prog)
    shown = {
        "explain": cli("explain", path, "--at", at, width=400).out,
        "explain --format markdown": cli("explain", path, "--at", at, "--format", "markdown").out,
        "diff": cli("diff", path, "--at", at).out,
        "graph --partials": cli("graph", path, "--partials", "--at", at, width=400).out,
        "graph --partials --dot": cli("graph", path, "--partials", "--at", at, "--dot").out,
        "Program.explain": prog.explain(_at(prog)),
        "Program.diff": "\n".join(prog.diff(at=_at(prog)).values()),
    }
    shown.update(zip(("REPL :explain", "REPL :diff", "REPL :graph partials"), _repl(path, at_file)))
    for where, text in shown.items():
        assert text.strip(), where
        assert not [h for h in HELPERS if h in text], (where, text)
    # the notation is explained once, when a formula uses it (a derivative by hand with 1 or eᵢ)
    legend = shown["explain"].count("Notation: ")
    assert legend <= 1 and shown["explain --format markdown"].count("*Notation:* ") == legend
    if any(re.search(r"\b1\b(?![./])|e[₀-₉]", form) for form in BY_HAND.get(name, {}).values()):
        assert legend == 1
    if legend:  # naming only the symbols the text writes (a student's find: 1 and eᵢ where neither was)
        said = shown["explain"].split("Notation: ")[1].split("\n")[0]
        body = shown["explain"].split("Notation: ")[0]
        assert ("eᵢ the unit vector" in said) == bool(re.search(r"(?<![A-Za-z0-9_])e[₀-₉]", body)), said
    assert "Notation" not in cli("explain", path, "--at", at, "--format", "latex").out  # bold there
    # `diff --program` is still the runnable program, helpers and all
    program = cli("diff", path, "--at", at, "--program").out
    assert graphlang.parse(program).evaluate({**_at(prog)}).value is not None


@pytest.mark.parametrize("name", list(BY_HAND))
def test_diff_text_is_the_derivative_by_hand(cli, write, name):
    source = dict((c[0], c[1]) for c in CASES)[name]
    prog = graphlang.parse(source)
    path, at, _ = _files(write, source, prog)
    printed = dict(line.split(" = ")[:2] for line in cli("diff", path, "--at", at).out.splitlines())  # (then its value)
    assert {n: printed[f"dy/d{n}"] for n in BY_HAND[name]} == BY_HAND[name]


def _value(text: str) -> np.ndarray:
    """A number or tensor as explain prints it (`[[1, 2], [3, 4]] (shape [2, 2])`; a stack of
    matrices one by one, `[0] [[1, 2]] [1] [[3, 4]] (shape [2, 1, 2])`)."""
    text = re.sub(r" \(shape \[[\d, ]*\]\)$", "", text)
    if text.startswith("[0] "):
        return np.asarray([json.loads(part) for part in re.split(r"\[\d+\] ", text)[1:]], dtype=float)
    return np.asarray(json.loads(text), dtype=float)


def _central(prog: graphlang.Program, at: dict, name: str, h: float = 1e-6) -> np.ndarray:
    """∂y/∂name by central differences, one element at a time (independent of every AD mode)."""
    x = np.asarray(at[name], dtype=float)
    out = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        f_up = float(prog.evaluate({**at, name: up.tolist()}).value)
        f_down = float(prog.evaluate({**at, name: down.tolist()}).value)
        out[i] = (f_up - f_down) / (2 * h)
    return out


@pytest.mark.parametrize(("name", "source", "_tex"), CASES, ids=IDS)
def test_explained_numbers_are_reverse_mode_and_finite_differences(cli, write, name, source, _tex):
    prog = graphlang.parse(source)
    path, at, _ = _files(write, source, prog)
    steps = cli("explain", path, "--at", at, "--json").json()["steps"]
    r = prog.evaluate(_at(prog))
    backward = {s["node"]: s["forms"][-1] for s in steps if s["phase"] == "backward"}
    for node, text in backward.items():  # 6 significant digits
        if "no path" not in text:
            np.testing.assert_allclose(_value(text), r.adjoints[node], rtol=5e-6, atol=1e-12, err_msg=node)
    for s in (s for s in steps if s["phase"] == "gradient"):  # 10 significant digits
        n = s["node"]
        np.testing.assert_allclose(_value(s["forms"][-1]), r.gradient[n], rtol=5e-10, atol=1e-14)
        np.testing.assert_allclose(_value(s["forms"][-1]), _central(prog, _at(prog), n), rtol=1e-6, atol=1e-8)


def test_a_scalar_program_keeps_its_cg_closed_forms(cli, write):
    """lecture13's `diff` is still `.cg` source: each form parses and gives reverse mode's gradient."""
    from conftest import PROGRAMS
    path = str(PROGRAMS / "lecture13.cg")
    prog = graphlang.load(path)
    at = {"x": 2.0, "z": 3.0}
    lines = cli("diff", path).out.splitlines()
    assert len(lines) == 2 and all(" * " in ln and "·" not in ln for ln in lines)
    for line in lines:
        lhs, rhs = line.split(" = ", 1)
        value = graphlang.parse(f"input x, z\nd = {rhs}\n").evaluate(at).value
        assert value == pytest.approx(prog.gradient(at)[lhs.split("/d")[1]], rel=1e-12)


def test_graph_without_values_or_declarations_still_draws(cli, write):
    """Undeclared inputs leave the shapes unknown: the labels are written without them (`hᵀ 𝟏` is
    the sum over axis 0 of a vector or of a matrix alike), never a shape error."""
    path = write("h = A @ x\ny = sum(h, 0) + dot(x, x)\n")
    for extra in ([], ["--dot"]):
        ran = cli("graph", path, *extra, width=200)
        assert ran.code == 0 and "hᵀ 𝟏 + dot(x, x)" in ran.out, ran.err


@pytest.mark.parametrize(("source", "line"), [
    ("input x[3], A[3, 3]\ny = x @ A @ x\n", "y = xᵀ @ A @ x"),
    ("input x[3], A[3, 3]\ny = x.T @ A @ x\n", "y = xᵀ @ A @ x"),
    ("input x[3], A[3, 3]\ny = x @ A.T @ x\n", "y = xᵀ @ Aᵀ @ x"),
    ("input x[3], A[3, 3]\nv = x @ A\ny = sum(v)\n", "v = Aᵀ @ x"),
    ("input t[3], x[3], b\nu = t.T @ x + b\ny = u * u\n", "u = tᵀ @ x + b"),
    ("input x[3], A[2, 3], B[3, 2]\ny = x @ B @ A @ x\n", "y = xᵀ @ B @ A @ x"),
    ("input x[3], A[3, 3]\ny = (0.5 * x) @ A @ x\n", "y = (0.5·x)ᵀ @ A @ x"),
])
def test_explain_writes_every_vector_as_a_column(source, line):
    """numpy's `x @ A` of a vector is the column Aᵀx, and `.T` of a vector is the vector: an inner
    product writes its left factor as a row, never `x A x` or `Aᵀ x x` (wrong as mathematics)."""
    prog = graphlang.parse(source)
    assert f"  {line} = " in prog.explain(_at(prog))


@pytest.mark.parametrize(("source", "wrt", "by_hand"), [
    ("input A[2, 3]\ny = sum(A * A) + sum(A)\n", "A", "𝟏 𝟏ᵀ + A + A"),
    ("input A[2, 3], v[3]\ny = mean(A) * sum(v)\n", "v", "mean(A)·𝟏"),
    ("input A[2, 3], v[3]\ny = mean(A) * sum(v)\n", "A", "(sum(v)·𝟏 𝟏ᵀ)/6"),
    ("input A[3, 4], v[4]\ny = dot(sum(A, 0), v) + mean(A) * sum(v)\n", "v", "mean(A)·𝟏 + Aᵀ 𝟏"),
])
def test_a_number_spread_over_a_sum_keeps_its_ones(source, wrt, by_hand):
    """`g·A` leaves its spread scalar implicit (it scales), but a sum printed `M + 1` or `mean(A) + Aᵀ 𝟏`
    read as a matrix plus a number: the ones stay, as in the LaTeX (a red team's find)."""
    prog = graphlang.parse(source)
    assert prog.diff(at=_at(prog))[wrt] == by_hand


def test_explain_notes_numpys_vector_transpose_pitfall():
    """`x @ x.T` of a vector is the number xᵀx (a student meant the matrix x xᵀ): explain says so,
    in text and LaTeX (no raw ᵀ for pdflatex); `x.T @ A @ x`, which is what it looks like, gets no note."""
    pit = graphlang.parse("input x[3], W[3, 3]\nM = x @ x.T\ny = sum(W * M)\n")
    text = pit.explain(_at(pit))
    assert "Note: x @ x.T is the number xᵀx" in text and "outer(x, x)" in text
    assert "x\\textsuperscript{T}x" in pit.explain(_at(pit), format="latex")
    fine = graphlang.parse("input x[3], A[3, 3]\ny = x.T @ A @ x\n")
    assert "Note:" not in fine.explain(_at(fine))


def test_every_view_of_a_statement_writes_vectors_as_columns():
    """The graph's table, DOT, TikZ, `Program.to_latex()` and the web page's graph printed the statement
    as written: `x.T @ w.T` as (xᵀ)ᵀ wᵀ (a matrix, for a number), `x @ A` as x A; and TikZ's edge
    labels ignored shapes (x A + A x for ∂(xᵀAx)/∂x). A red team's finds; by hand, columns throughout."""
    from graphlang.present import jsonout
    from graphlang.present.tikz import to_tikz
    prog = graphlang.parse("input x[3], w[3]\nO = outer(x.T, w.T)\ne = x.T @ w.T\nf = sum(x.T * w)\n"
                           "y = sum(O) + e + f\n")
    tex = prog.to_latex()
    assert r"\mathbf{O} &= \mathbf{x} \mathbf{w}^{T}" in tex and r"e &= \mathbf{x}^{T} \mathbf{w}" in tex
    assert r"f &= \sum \mathbf{x} \cdot \mathbf{w}" in tex  # (tensors bold, as the lecture's)
    web = graphlang.parse("input x[3], w[2]\nparam A[3, 2]\nh = x @ A\ns = h @ w\n")
    assert [n["computes"] for n in jsonout.graph(web)["nodes"][3:]] == ["Aᵀ @ x", "hᵀ @ w"]
    quad = graphlang.parse("input x[3]\nparam A[3, 3]\ny = x.T @ A @ x\n")
    assert r"\mathbf{A}^{T} \mathbf{x} + \mathbf{A} \mathbf{x}" in to_tikz(quad, _at(quad), partials=True)


def test_a_vector_added_to_each_row_is_written_with_its_ones():
    """numpy's `A + v` adds v to each row; with v a column, A + v reads as adding it to each column
    (for a square A, other numbers; a red team evaluated both): A + 𝟏 vᵀ. Oracle: the numbers."""
    prog = graphlang.parse("input A[3, 3], v[3], x[3]\nB = A + v\nC = A * v\ny = x @ B @ x + sum(C * C)\n")
    at = _at(prog)
    text = prog.explain(at)
    assert "  B = A + 𝟏 vᵀ = " in text and "  C = A·(𝟏 vᵀ) = " in text
    A, v = np.asarray(at["A"]), np.asarray(at["v"])
    ones = np.ones((3, 1))
    assert np.allclose(prog.evaluate(at).values["B"], A + ones @ v.reshape(1, 3))  # 𝟏 vᵀ, by hand
    assert prog.diff(at=at)["x"] == "(A + 𝟏 vᵀ)ᵀ @ x + (A + 𝟏 vᵀ) @ x"


def test_a_literal_is_written_once_in_the_forward_pass():
    """`c = [1, 2, 3] = [1, 2, 3]`: a literal is its own value."""
    prog = graphlang.parse("input x[2]\nA = [[2, 1], [1, 3]]\nc = [1, -1]\ny = dot(c, A @ x)\n")
    lines = prog.explain({"x": [1.0, 2.0]}).splitlines()
    assert "  A = [[2, 1], [1, 3]] (shape [2, 2])" in lines and "  c = [1, -1]" in lines
    assert "  y = dot(c, A @ x) = -3" in lines  # by hand: [1, -1]·[4, 7]


def test_diff_says_what_its_ones_are(cli, write):
    """A student's find: `dJ/dM = (1/4) 1ᵀ` for M[4, 3] read as a quarter times a row, where the
    1s are vectors of ones (¼·𝟏𝟏ᵀ: LaTeX writes them bold); explain had the legend, diff none.
    Oracle: the gradient of mean(sum(M, 1)) is 1/4 in every element."""
    ran = cli("diff", write("input M[4, 3]\nJ = mean(sum(M, 1))\n"))
    assert ran.code == 0 and "𝟏ᵀ" in ran.out and "note: 𝟏 is a vector of ones" in ran.err, (ran.out, ran.err)
    import numpy as np
    g = graphlang.parse("input M[4, 3]\nJ = mean(sum(M, 1))\n").gradient({"M": np.ones((4, 3))})["M"]
    assert np.allclose(g, np.full((4, 3), 0.25))
    assert cli("diff", write("a = x * z\ny = exp(a)\n")).err == ""  # scalars: no legend


def test_a_lone_one_by_a_vector_is_said_to_be_ones_in_diff_and_the_repl(cli, write):
    """A review's find: `dy/dx = 1` for y = sum(x) of a vector x (a vector of ones) had no note, and
    the REPL's :diff none at all. Oracle: the gradient of sum(x) and mean(x) by hand."""
    import numpy as np
    for body, grad in (("y = sum(x)", np.ones(4)), ("y = mean(x)", np.full(4, 0.25))):
        ran = cli("diff", write(f"input x[4]\n{body}\n"))
        assert ran.code == 0 and "note: 𝟏 is a vector of ones" in ran.err, (body, ran.out, ran.err)
        assert np.allclose(graphlang.parse(f"input x[4]\n{body}\n").gradient({"x": [1, 2, 3, 4]})["x"], grad)
    assert cli("diff", write("y = x * 1 + x\n")).err == ""  # a number's 1 is a number
    network = cli("diff", write("input x[3], W[3, 2]\ns = sigmoid(W.T @ x)\ny = sum(s * (1 - s))\n"))
    assert network.code == 0 and "𝟏" not in network.out and "vector of ones" not in network.err, network.err
    from graphlang.repl import ReplSession
    s = ReplSession()
    for line in ("input W[2, 2], x[2]", "y = sum(W @ x)"):
        s.handle(line)
    shown = "\n".join(t.plain for t in s.handle(":diff"))
    assert "dy/dW = 𝟏 xᵀ" in shown and "note: 𝟏 is a vector of ones" in shown, shown
