"""Notebooks: HTML tables, the Python views of every command, the `%%graphlang` magic, and
docs/notebook.ipynb executed in a real kernel (nbclient) and rendered in headless Chromium.

The kernel and browser tests skip when nbclient/ipykernel or Chromium/Playwright are missing.
"""

from __future__ import annotations

import html
import math
import os
import re
import shutil

import pytest
from conftest import PROGRAMS, ROOT

import graphlang
from graphlang.magic import run_cell

LECTURE = (PROGRAMS / "lecture13.cg").read_text()
ARTIFACTS = ROOT / "tests" / "artifacts"


def dy_dx(x: float, z: float) -> float:
    """The lecture's y = e^{xz} + xz/ln x + sin(ln x)/(xz), differentiated by hand (the oracle)."""
    ln = math.log(x)
    return z * math.exp(x * z) + z * (ln - 1) / ln ** 2 + (math.cos(ln) - math.sin(ln)) / (x * x * z)


def _cells(table_html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", table_html)
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r)] for r in rows]


def test_result_html_is_real_tables():
    r = graphlang.load(PROGRAMS / "lecture13.cg").evaluate({"x": 2, "z": 3})
    page = r._repr_html_()
    assert "<pre" not in page and page.count('<table class="graphlang"') == 3
    rows = {c[0]: c[1:] for c in _cells(page) if c}
    assert rows["a"] == ["x * z", "6"]
    assert abs(float(rows["g_x"][0]) - dy_dx(2, 3)) < 1e-5


def test_jacobian_and_matrix_values_are_tables():
    g = graphlang.parse("input W[3, 2], x[2]\ny = W @ x")
    page = g.evaluate({"W": [[1, 2], [3, 4], [5, 6]], "x": [1, 1]})._repr_html_()
    assert "Jacobian of y" in page
    # W shows as a 3×2 grid of numbers (a bracketed table), not as text
    grid = re.search(r'<table style="border-collapse:separate[^>]*>(.*?)</table>', page)
    assert grid and [[c for c in row] for row in _cells(grid.group(1))] == [["1", "2"], ["3", "4"], ["5", "6"]]


def test_report_and_error_html():
    from graphlang.checker import grade_answers
    rep = grade_answers(LECTURE, {"a": 6, "b": 1}, {"x": 2, "z": 3})
    assert '<table class="graphlang"' in rep._repr_html_()
    with pytest.raises(graphlang.GraphlangError) as info:
        graphlang.parse("a = 1\ny = sine(x) + " + "a + " * 60 + "a")
    page = info.value._repr_html_()
    assert "white-space:pre-wrap" in page and "unknown-function error" in html.unescape(page)


def test_program_views_match_the_command_line(cli):
    path = str(PROGRAMS / "lecture13.cg")
    prog = graphlang.load(path)
    at = {"x": 2, "z": 3}
    for fmt in ("text", "markdown", "latex"):
        assert prog.explain(at, format=fmt) == cli("explain", path, "--at", "x=2,z=3", "--format", fmt).out
    assert prog.explain(at, node="c") == cli("explain", path, "--at", "x=2,z=3", "--node", "c").out
    printed = cli("diff", path).out.splitlines()
    assert [f"d{prog.outputs[0]}/d{n} = {e}" for n, e in prog.diff().items()] == printed
    assert list(prog.diff(wrt="z", latex=True)) == ["z"]
    assert prog.to_dot(at) == cli("graph", path, "--at", "x=2,z=3", "--dot").out
    assert "a &= x \\cdot z" in prog.to_latex()
    with pytest.raises(graphlang.GraphlangError):
        prog.explain(at, format="html")
    with pytest.raises(graphlang.GraphlangError):
        prog.explain(at, node="q")


def test_diff_from_python_agrees_with_central_differences():
    import sympy
    prog = graphlang.load(PROGRAMS / "lecture13.cg")
    x, z = sympy.symbols("x z")
    env = {"exp": sympy.exp, "ln": sympy.log, "sin": sympy.sin, "cos": sympy.cos, "x": x, "z": z}
    expr = sympy.sympify(prog.diff(wrt="x")["x"].replace("^", "**"), locals=env)
    assert abs(float(expr.subs({x: 2, z: 3})) - dy_dx(2, 3)) < 1e-9


def test_draw_writes_the_file(tmp_path):
    prog = graphlang.load(PROGRAMS / "lecture13.cg")
    out = prog.draw(tmp_path / "g.dot", at={"x": 2, "z": 3})
    assert open(out).read() == prog.to_dot({"x": 2, "z": 3})
    if shutil.which("dot"):
        assert prog.draw()._repr_svg_().lstrip().startswith("<?xml")
        assert open(prog.draw(tmp_path / "g.png"), "rb").read(4) == b"\x89PNG"


def test_magic_binds_the_program_and_shows_tables_and_graph():
    ns: dict = {}
    shown = run_cell("--at x=2,z=3 --explain", LECTURE, ns)
    assert isinstance(ns["prog"], graphlang.Program)
    result, explanation = shown[0], shown[1]
    assert abs(result.gradient["x"] - dy_dx(2, 3)) < 1e-6
    assert explanation._repr_markdown_().startswith("### Forward pass")
    forward = run_cell("--at x=2,z=3 --method forward --explain --no-graph", LECTURE, ns)[1]._repr_markdown_()
    assert "### Tangent pass for x (forward mode: a dot over a name is its derivative by x)" in forward
    assert "Backward pass" not in forward
    shown = run_cell("--name net --no-graph --diff", LECTURE, ns)
    assert "net" in ns and len(shown) == 1 and "\\frac{\\partial y}{\\partial x}" in shown[0]._repr_latex_()


def test_magic_reads_a_bracketed_value_with_blanks_as_a_student_types_it():
    """A red team's find: `%%graphlang --at v=[1, 2, 3]` said "unrecognized arguments: 2, 3]". The
    oracle: ∂(v·v)/∂v = 2v."""
    cell = "input v[3], w[2, 2]\ny = sum(v * v) + sum(w)\n"
    shown = run_cell("--at v=[1, 2, 3] --at w=[[1, 0], [0, 1]] --no-graph", cell, {})
    assert shown[0].value == 16 and list(shown[0].gradient["v"]) == [2, 4, 6]


@pytest.mark.parametrize("line", ["--at", "--method nope", "--name 2x", "--bogus", "--at 'x=1"])
def test_magic_usage_errors_are_graphlang_errors(line):
    with pytest.raises(graphlang.GraphlangError) as info:
        run_cell(line, "y = x * 2", {})
    assert info.value.kind in ("usage", "value")


def test_magic_program_errors_are_located():
    with pytest.raises(graphlang.GraphlangError) as info:
        run_cell("", "a = x\ny = ln a", {})
    assert (info.value.kind, info.value.line) == ("syntax", 2)


# --- a real kernel, and the rendered page in a real browser ---------------------------------------

def _outputs_html(nb) -> str:
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts.append(f"<pre class='input'>{html.escape(cell.source)}</pre>")
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:
                parts.append(data["text/html"])
            elif "image/svg+xml" in data:
                parts.append(data["image/svg+xml"])
            elif "text/markdown" in data:
                parts.append(f"<pre class='md'>{html.escape(data['text/markdown'])}</pre>")
            elif "text/plain" in data:
                parts.append(f"<pre>{html.escape(data['text/plain'])}</pre>")
            elif out.get("output_type") == "error":
                text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(out["traceback"]))
                parts.append(f"<pre class='error'>{html.escape(text)}</pre>")
    return "<html><body style='width:820px;font-family:sans-serif'>" + "".join(parts) + "</body></html>"


@pytest.fixture(scope="module")
def executed():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(ROOT / "docs" / "notebook.ipynb", as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + env_path if env_path else "")
    try:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(ROOT)}}).execute()
    finally:
        os.environ["PYTHONPATH"] = env_path
    return nb


def test_notebook_runs_in_a_real_kernel(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    magic = code[1].outputs
    html_out = [o["data"]["text/html"] for o in magic if "text/html" in o.get("data", {})]
    assert html_out and '<table class="graphlang"' in html_out[0] and "<pre" not in html_out[0]
    assert any("text/markdown" in o.get("data", {}) for o in magic)  # --explain
    if shutil.which("dot"):
        assert any("image/svg+xml" in o.get("data", {}) for o in magic)
    gradient = code[2].outputs[0]["data"]["text/plain"]  # prog was bound by the magic
    assert abs(eval(gradient)["x"] - dy_dx(2, 3)) < 1e-6
    assert code[6].outputs[0]["data"]["text/plain"] == "(2, 3)"
    error = code[7].outputs[0]
    assert error["output_type"] == "error" and error["ename"] == "GraphlangError"
    tb = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"]))
    assert "syntax error" in tb and "write ln(a), not ln a" in tb and "Traceback" not in tb


def test_notebook_renders_in_chromium(executed, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page_file = tmp_path / "notebook.html"
    page_file.write_text(_outputs_html(executed))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 860, "height": 900})
        page.goto(page_file.as_uri())
        tables = page.locator("table.graphlang")
        assert tables.count() >= 5
        box = tables.first.bounding_box()
        assert box and box["width"] > 150 and box["height"] > 150  # a table, laid out
        for i in range(tables.count()):  # no table runs off the page
            b = tables.nth(i).bounding_box()
            assert b and b["x"] + b["width"] <= 860
        err = page.locator("pre.error").bounding_box()
        assert err and err["x"] + err["width"] <= 860
        if shutil.which("dot"):
            svg = page.locator("svg").first.bounding_box()
            assert svg and svg["width"] > 100
        page.screenshot(path=str(ARTIFACTS / "notebook.png"), full_page=True)
        browser.close()


def test_a_domain_error_in_a_cell_shows_the_line_and_a_caret():
    """A parse error in a cell showed its line and caret; a domain error at --at showed neither."""
    with pytest.raises(graphlang.GraphlangError) as info:
        run_cell("--at x=-1", "a = x * 2\ny = ln(a)", {})
    shown = "\n".join(info.value._render_traceback_())
    assert "domain error" in shown and "  2 | y = ln(a)" in shown and "^" in shown


def test_an_error_from_a_programs_method_shows_its_line_in_a_notebook():
    """A red team's find: `parse(src).evaluate(...)` in a cell showed `<program>:2:5: domain error` with
    no source line or caret (the magic's errors had them)."""
    prog = graphlang.parse("a = x * z\nb = ln(a)\ny = b + 1\n", path="hw.cg")
    with pytest.raises(graphlang.GraphlangError) as info:
        prog.evaluate({"x": -1, "z": 2})
    shown = info.value._render_traceback_()
    assert shown[0].startswith("hw.cg:2:5: domain error") and shown[1] == "  2 | b = ln(a)" and shown[2].endswith("^")
    assert "b = ln(a)" in info.value._repr_html_()


def test_the_magic_says_the_command_lines_notes():
    """A notebook red team's find: `graphlang run` notes that the last line, not y, is the output (and
    W * x for W @ x); the magic said nothing. Oracle: the CLI's note text for the same program."""
    shown = [str(s) for s in run_cell("--at x=2 --no-graph", "y = x ^ 2\ncheck = x + 1\n")]
    assert any(s.startswith("note: <cell>:2:1: the output is check") for s in shown), shown
    shown = [str(s) for s in run_cell("--no-graph", "y = x ^ 2\ncheck = x + 1\n")]  # no values: still said
    assert any("y does not reach it" in s for s in shown), shown
    shown = [str(s) for s in run_cell("--at x=[1,2] --at W=[[1,2],[3,4]] --no-graph",
                                      "input x[2]\nparam W[2, 2]\ny = sum(W * x)\n")]
    assert any("write W @ x" in s for s in shown), shown
    assert not any(s.startswith("note") for s in map(str, run_cell("--at x=2,z=3 --no-graph",
                                                                     "a = x * z\ny = exp(a)\n")))


def test_multiline_feedback_and_program_text_keep_a_fixed_width_font():
    """A notebook red team's find: a syntax error's caret line in a report's HTML ran into one
    paragraph (a stray ^), and nbconvert's CSS set <pre> in a proportional font."""
    from graphlang.checker import grade_program
    rep = grade_program("a = x * z\ny = exp(a)\n", "a = x * z\ny = exp(a\n", {"x": 1.0, "z": 2.0})
    page = rep._repr_html_()
    block = next(f for f in rep.feedback if "\n" in f)
    assert "font-family:monospace" in page and html.escape(block) in page
    assert "font-family:monospace" in graphlang.parse("y = x\n")._repr_mimebundle_()["text/html"]


def test_the_magics_diff_of_a_vector_output_keeps_the_tables_and_says_why():
    """A notebook red team's find: `--diff` on two outputs raised, hiding the tables it could show, and
    its hint named a command-line option. Oracle: the Jacobian by hand (∂(xz)/∂x = z = 3, ∂(x+z)/∂x = 1)."""
    shown = run_cell("--diff --no-graph --at x=2,z=3", "output y1, y2\ny1 = x * z\ny2 = x + z\n")
    assert list(shown[0].jacobian["x"]) == [3.0, 1.0]
    assert any(str(s).startswith("(no closed forms: closed-form derivatives need a single scalar output")
               for s in shown[1:]), shown


def test_a_reports_plain_text_in_ipython_is_the_report():
    """A notebook red team's find: a Report shown as text (nbconvert to Markdown, a terminal IPython)
    was the whole dataclass. Oracle: Report.as_text()."""
    from graphlang.checker import grade_answers

    class Printer:
        def __init__(self) -> None:
            self.out = ""

        def text(self, s: str) -> None:
            self.out += s
    rep = grade_answers("a = x * z\ny = exp(a)\n", {"a": 6}, {"x": 2, "z": 3})
    p = Printer()
    rep._repr_pretty_(p, False)
    assert p.out == rep.as_text() and "Report(" not in p.out
