"""The playground in a real browser: headless Chromium (Debian's package) driven by Playwright.

A share link of the lecture example shows the gradient; the SVG has the nine nodes; stepping walks
the forward then the backward pass with the explain lines; an error is located; the method switch;
the exported lesson.html from file:// without any network. Each state is photographed into
tests/artifacts/ (git-ignored). Skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import urllib.parse

import numpy as np
import pytest
from conftest import PROGRAMS, ROOT, run_cli, running_server

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

from graphlang.web.app import create_app  # noqa: E402

ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = ROOT / "tests" / "artifacts"
LECTURE = (PROGRAMS / "lecture13.cg").read_text()
G_C = "g_c = g_f·∂f/∂c = g_f·(1/a) = 1·0.166667 = 0.166667"


def dy_dx(x: float, z: float) -> float:
    """The lecture's y = e^{xz} + xz/ln x + sin(ln x)/(xz), differentiated by hand (the oracle)."""
    ln = math.log(x)
    return z * math.exp(x * z) + z * (ln - 1) / ln ** 2 + (math.cos(ln) - math.sin(ln)) / (x * x * z)


def dy_dz(x: float, z: float) -> float:
    ln = math.log(x)
    return x * math.exp(x * z) + x / ln - math.sin(ln) / (x * z * z)


@pytest.fixture(scope="module")
def server():
    app = create_app(workers=2, timeout=20.0, allowed_hosts=["127.0.0.1", "localhost"])
    with running_server(app) as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield pg
    pg.close()
    assert not problems, problems


def share_link(base: str, program: str, at: str, method: str | None = None) -> str:
    return base + "#program=" + urllib.parse.quote(program) + "&at=" + at + (f"&method={method}" if method else "")


def shot(pg, name: str) -> None:
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def until(pg, selector: str, check, timeout: float = 30.0) -> str:
    """Wait until the text of `selector` passes `check` (polled from Python: the page's
    Content-Security-Policy forbids the eval that wait_for_function would need)."""
    deadline = time.monotonic() + timeout
    while True:
        text = pg.inner_text(selector)
        if check(text) or time.monotonic() > deadline:
            return text
        pg.wait_for_timeout(50)


def opened(pg, url: str) -> None:
    pg.goto(url)
    pg.wait_for_selector("#graph g.node")
    until(pg, "#gradient-summary", bool)


def test_share_link_shows_the_lecture_gradient_and_nine_nodes(server, page):
    opened(page, share_link(server, LECTURE, "x=2,z=3"))
    summary = page.inner_text("#gradient-summary")
    assert f"∂y/∂x ≈ {dy_dx(2, 3):.2f}" in summary and f"∂y/∂z ≈ {dy_dz(2, 3):.2f}" in summary
    assert "1208.38" in summary and "809.71" in summary and "·" not in summary  # (· is a product here)
    names = page.eval_on_selector_all("#graph g.node", "ns => ns.map(n => n.getAttribute('data-name'))")
    assert names == ["x", "z", "a", "b", "c", "d", "e", "f", "y"]
    assert page.locator("#graph path.edge").count() == 12
    assert page.input_value("#in-x") == "2" and page.input_value("#in-z") == "3"
    shot(page, "1-share-link")


def test_stepping_forward_then_backward_shows_the_explain_lines(server, page):
    opened(page, share_link(server, LECTURE, "x=2,z=3"))
    page.locator("h2").first.click()  # the keyboard steps when no field has the focus
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    assert "y = d + e + f = 403.429 + 8.65617 + 0.106494 = 412.191" in page.inner_text("#step-line")
    assert page.locator("#graph g.node.hidden-val").count() == 0  # every value computed
    assert page.locator("#graph g.node.hidden-adj").count() == 9  # no adjoint yet
    assert page.get_attribute("#node-y", "class").split().count("current") == 1
    shot(page, "2-forward-done")
    for _ in range(5):
        page.click("#step-next")
    line = page.inner_text("#step-line")
    assert "Backward pass, step 5 of 9" in line and G_C in line
    active = page.eval_on_selector_all("#graph path.edge.active",
                                       "es => es.map(e => e.dataset.from + '>' + e.dataset.to)")
    assert active == ["c>f"]  # g_c reads g_f along the edge c -> f
    pending = page.eval_on_selector_all("#adjoint-table tr.pending", "rs => rs.map(r => r.dataset.node)")
    assert pending == ["b", "a", "x", "z"]  # the adjoints not reached yet are not given away (a student's find)
    assert page.locator("#gradient-table.pending").count() == 1 and not page.is_visible("#gradient-table td")
    assert not page.is_visible("#method-result")  # nor the method's gradient beside it (a red team's find)
    shot(page, "3-step-g_c")
    page.keyboard.press("ArrowLeft")
    assert "g_d = g_y·∂y/∂d" in page.inner_text("#step-line")
    page.keyboard.press("ArrowRight")
    assert G_C in page.inner_text("#step-line")
    page.click("#node-a")  # a node's own lines: so far only its value (its adjoint was given away: a red team's find)
    said = page.inner_text("#node-explain")
    assert "a = x·z" in said and "g_a" not in said and "comes later" in said
    page.click("#step-play")
    assert until(page, "#step-count", lambda t: t == "18 / 18") == "18 / 18"
    assert page.locator("tr.pending, table.pending").count() == 0
    assert "g_a = g_d·∂d/∂a + g_e·∂e/∂a + g_f·∂f/∂a" in page.inner_text("#node-explain")


def test_an_error_is_shown_located_with_the_clis_message(server, page, write):
    program = "a = x + 1\nb = a * * 2\ny = b\n"
    page.goto(share_link(server, program, "x=1"))
    page.wait_for_selector("#error:not([hidden])")
    err = page.inner_text("#error")
    cli = run_cli("run", write(program), "--at", "x=1").err
    assert err.startswith("program.cg:2:9: syntax error:")
    assert err.split(": ", 1)[1].strip() == cli.split(": ", 1)[1].strip()  # message, source line, caret, hint
    marks = page.locator("#highlight .err-mark")
    assert marks.count() == 1 and marks.inner_text() == "*"
    shot(page, "4-error")


def test_an_error_at_a_lines_end_is_marked_on_that_line(server, page):
    """`a = x *` then `y = a + 1`: the message said 1:8 and the only visible mark was at the end of
    the text, after line 2 (the newline itself was marked: a visual review's find)."""
    page.goto(share_link(server, "a = x *\ny = a + 1\nz = y\n", "x=1"))
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error").startswith("program.cg:1:8: syntax error")
    marks = page.locator("#highlight .err-mark")
    assert marks.count() == 1
    text = page.inner_text("#highlight")
    before = page.evaluate("""(() => { const m = document.querySelector('#highlight .err-mark');
        const r = document.createRange(); r.setStart(document.querySelector('#highlight'), 0); r.setEndBefore(m);
        return r.toString(); })()""")
    assert before == "a = x *" and text.startswith("a = x * \ny = a + 1"), (before, text)


def test_changing_a_value_and_the_method(server, page):
    opened(page, share_link(server, LECTURE, "x=2,z=3"))
    page.fill("#in-x", "3")
    page.dispatch_event("#in-x", "change")
    assert f"{dy_dx(3, 3):.2f}" in until(page, "#gradient-summary", lambda t: f"{dy_dx(3, 3):.2f}" in t)
    assert "x=3,z=3" in page.evaluate("location.hash")
    page.check('input[name="method"][value="fd"]')
    assert "by fd" in until(page, "#method-result", lambda t: "by fd" in t)
    page.wait_for_selector("#sweep svg polyline.cen")
    shot(page, "5-finite-differences")
    page.check('input[name="method"][value="forward"]')
    page.select_option("#direction", "in:x")
    until(page, "#method-result", lambda t: "tangent" in t)
    rows = dict(r.split("\t") for r in page.inner_text("#method-result").splitlines()[1:])
    assert float(rows["y"]) == pytest.approx(dy_dx(3, 3), rel=1e-9)
    shot(page, "6-forward-direction")


def test_lesson_html_opens_from_file_without_network(browser, tmp_path):
    out = tmp_path / "lesson.html"
    assert run_cli("html", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3", "-o", str(out)).code == 0
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(out.as_uri())
    pg.wait_for_selector("#graph g.node")
    summary = pg.inner_text("#gradient-summary")
    assert "1208.38" in summary and "809.71" in summary
    assert pg.locator("#graph g.node").count() == 9
    # the values are fixed here: text, no slider to drag in vain (a student's find)
    assert pg.locator("input[type=range]:visible").count() == 0
    assert pg.locator("#in-x").get_attribute("readonly") is not None
    pg.locator("h2").first.click()
    for _ in range(14):
        pg.keyboard.press("ArrowRight")
    assert G_C in pg.inner_text("#step-line")
    assert not pg.is_visible("#method-result")  # mid-way: the gradient is not given away
    for _ in range(4):
        pg.keyboard.press("ArrowRight")
    reverse = pg.inner_text("#method-result")  # reverse beside itself: one column, not two equal ones
    assert "by reverse mode" in reverse and "|difference|" not in reverse
    pg.check('input[name="method"][value="symbolic"]')
    assert "by symbolic" in pg.inner_text("#method-result") and "|difference|" in pg.inner_text("#method-result")
    shot(pg, "7-lesson-file")
    pg.close()
    assert all(u.startswith(("file:", "data:")) for u in requests), requests



def test_a_tensor_programs_tables_stay_inside_their_columns(browser, tmp_path):
    """A tensor program's vectors made the method table wider than the left column: it ran under
    the forward-pass table (seen in a screenshot). Each table now ends inside its own column."""
    out = tmp_path / "lesson.html"
    prog, at = PROGRAMS / "two_layer_network.cg", PROGRAMS / "two_layer_network.json"
    assert run_cli("html", str(prog), "--at-file", str(at), "-o", str(out)).code == 0
    pg = browser.new_page(viewport={"width": 1280, "height": 1000})
    pg.goto(out.as_uri())
    pg.wait_for_selector("#method-result table")
    for column, tables in (("#left", ["#method-result table"]),
                           ("#right", ["#forward-table", "#adjoint-table", "#gradient-table"])):
        edge = pg.locator(column).bounding_box()
        for table in tables:
            box = pg.locator(table).bounding_box()
            assert box["x"] >= edge["x"] - 1 and box["x"] + box["width"] <= edge["x"] + edge["width"] + 1, table
    shot(pg, "8-lesson-tensor")
    pg.close()


def test_an_input_the_link_leaves_out_gets_a_field_and_the_page_runs_with_it(server, page):
    """A link without q: the field showed `q = 1` beside "no value for the input 'q'" until Run."""
    opened(page, share_link(server, "y = x + q\n", "x=2"))
    assert page.input_value("#in-q") == "1"
    summary = until(page, "#gradient-summary", lambda t: "∂y/∂q" in t)  # the run had q
    assert "∂y/∂x ≈ 1.00" in summary and "∂y/∂q ≈ 1.00" in summary and page.locator("#error").is_hidden()


def test_typing_a_value_runs_and_renaming_an_input_leaves_no_error(server, page):
    """A value typed in a field ran only on Enter (the link already said the new value), and an
    input renamed in the editor (w -> q) left "'w' is not an input" until Run. Oracle: y = 3x² + w."""
    opened(page, share_link(server, "a = x * x\ny = 3 * a + w\n", "x=1.5,w=1"))
    page.fill("#in-w", "-2")  # typed, no Enter
    until(page, "#forward-table", lambda t: "4.75" in t)
    assert "4.75" in page.inner_text("#forward-table")  # 3 * 2.25 - 2
    page.fill("#source", "a = x * x\ny = 3 * a + q\n")
    page.locator("#source").dispatch_event("input")
    until(page, "#inputs", lambda t: "q =" in t)
    summary = until(page, "#gradient-summary", lambda t: "∂y/∂q" in t)
    assert "∂y/∂q ≈ 1.00" in summary and "∂y/∂x ≈ 9.00" in summary
    page.wait_for_timeout(300)
    assert page.locator("#error").is_hidden(), page.inner_text("#error")


def test_names_that_are_javascript_builtins_step_like_any_other(server, page):
    """A red team's find: nodes named __proto__, constructor, hasOwnProperty, toString were shown
    computed from the first step (the page's maps inherited them), `__proto__` computed
    "[object Object]"; and an input named `custom` opened the custom-direction box. The oracle: the
    closed forms at x = 3, toString = 0.5."""
    program = ("__proto__ = x * 2\nconstructor = __proto__ + 1\nhasOwnProperty = constructor * 3\n"
               "y = hasOwnProperty + toString\n")
    opened(page, share_link(server, program, "x=3,toString=0.5"))
    assert "∂y/∂x ≈ 6.00" in page.inner_text("#gradient-summary")  # y = 3(2x + 1) + t
    page.locator("h2").first.click()
    page.keyboard.press("ArrowRight")  # the first step: x alone
    hidden = page.eval_on_selector_all("#graph g.node.hidden-val", "ns => ns.map(n => n.getAttribute('data-name'))")
    assert sorted(hidden) == sorted(["toString", "__proto__", "constructor", "hasOwnProperty", "y"])
    table = page.inner_text("#forward-table")
    assert "[object Object]" not in table and "function" not in table and "__proto__\tx·2" in table
    assert page.input_value("#in-toString") == "0.5"

    opened(page, share_link(server, "y = x * custom^2\n", "x=2,custom=3"))
    page.check("input[name=method][value=forward]")
    page.select_option("#direction", "in:custom")
    assert not page.is_visible("#direction-text")
    assert "12" in until(page, "#method-result", lambda t: "12" in t)  # ∂y/∂custom = 2·x·custom = 12


def test_each_outputs_backward_pass_shows_its_own_adjoints_on_the_graph(server, page):
    """A red team's find: with several outputs the graph's boxes showed no adjoint during the backward
    passes (the run has none: each output has its own). Now each box shows the adjoint of the output
    whose pass it is, and a box the pass has not reached shows none. The oracle: y1 = a + sin a,
    y2 = a·sin a with a = xz, differentiated by hand at x = 2, z = 3."""
    program = "a = x * z\nb = sin(a)\ny1 = a + b\ny2 = a * b\noutput y1, y2\n"
    opened(page, share_link(server, program, "x=2,z=3"))
    assert "each output has adjoints of its own" in page.inner_text("#adjoint-table")  # was "a vector output"
    assert "∂(y1, y2)/∂x" in page.inner_text("#gradient-table")  # the outputs as one vector (was "∂y1,y2/∂x")
    page.locator("h2").first.click()

    def adjoints() -> dict[str, str]:
        shown = page.eval_on_selector_all(
            "#graph g.node:not(.hidden-adj)",
            "ns => ns.map(n => [n.dataset.name, n.querySelector('text.adj').textContent])")
        return dict(shown)

    for _ in range(6):  # the forward pass
        page.keyboard.press("ArrowRight")
    assert adjoints() == {}
    for _ in range(6):  # y1's pass: g_y2 = 0 (no path), g_y1, g_b, g_a, g_x, g_z
        page.keyboard.press("ArrowRight")
    assert "Backward pass for y1, step 6 of 6" in page.inner_text("#step-line")
    a = 6.0
    g_a = 1 + math.cos(a)
    want = {"y2": 0.0, "y1": 1.0, "b": 1.0, "a": g_a, "x": 3 * g_a, "z": 2 * g_a}
    shown = adjoints()
    assert sorted(shown) == sorted(want)
    for name, v in want.items():
        assert shown[name].startswith(f"g_{name} = ")
        assert float(shown[name].split(" = ")[1]) == pytest.approx(v, rel=1e-3, abs=1e-12)
    for _ in range(2):  # the gradient of y1, then y2's pass: g_y2, g_y1 = 0 (no path), g_b
        page.keyboard.press("ArrowRight")
    steps = 0
    while "Backward pass for y2, step 3 of" not in page.inner_text("#step-line") and steps < 5:
        page.keyboard.press("ArrowRight")
        steps += 1
    shown = adjoints()
    assert sorted(shown) == ["b", "y1", "y2"]  # y1's adjoints of a, x, z are not left showing
    assert float(shown["b"].split(" = ")[1]) == pytest.approx(a, rel=1e-3)  # ∂y2/∂b = a
    shot(page, "9-several-outputs")


def test_a_program_left_with_no_inputs_runs_without_the_old_values(server, page):
    """Replacing the lecture with `y = 3` kept sending x=2: "'x' is not an input of this program",
    and no field was left to clear (a student's find). Oracle: y = 3."""
    opened(page, share_link(server, "y = 2 * x\n", "x=2"))
    until(page, "#forward-table", lambda t: "4" in t)
    page.fill("#source", "y = 3\n")
    page.locator("#source").dispatch_event("input")
    until(page, "#forward-table", lambda t: "3" in t and "x" not in t)
    page.wait_for_timeout(300)
    assert page.locator("#error").is_hidden(), page.inner_text("#error")
    assert "nothing to differentiate by" in page.inner_text("#gradient-table")  # (it was an empty table)


def test_a_vector_typed_into_a_field_hides_its_slider_at_once(server, page):
    """The slider stayed until the field lost focus: a click on it set a vector input to one number,
    and broadcasting computed another function without a word (a student's find)."""
    opened(page, share_link(server, "input b[2]\ny = sum(2 * b)\n", "b=1"))
    until(page, "#inputs", lambda t: "b =" in t)
    page.fill("#in-b", "[0.1,0.2]")  # typed, the field still focused
    assert page.locator("#slide-b").is_hidden()


def test_a_wide_graph_scrolls_the_steps_node_into_view(browser, tmp_path):
    """Stepping to the output of a graph wider than its box left the box at scrollLeft 0: the
    highlighted node J was off to the right (a student's find)."""
    src = tmp_path / "wide.cg"
    src.write_text("input W[2,2], v[2], bias[2]\nu = W @ v + bias\nh = tanh(u)\nk = h * 2\nm = sin(k)\n"
                   "q = m + h\nJ = sum(q * q)\n")
    out = tmp_path / "wide.html"
    assert run_cli("html", str(src), "--at", "W=[[1,2],[3,4]],v=[0.5,-1],bias=[0.1,0.2]", "-o", str(out)).code == 0
    pg = browser.new_page(viewport={"width": 900, "height": 900})
    pg.goto(out.as_uri())
    pg.wait_for_selector("#graph g.node")
    # the headline names no tensor's value ("∂J/∂W ≈ shape [2, 2]" read as a number: a visual review)
    assert pg.inner_text("#gradient-summary") == "∂J/∂W, ∂J/∂v, ∂J/∂bias: in the gradient table"
    pg.locator("h2").first.click()
    for _ in range(9):  # the forward pass, to J
        pg.keyboard.press("ArrowRight")
    seen = pg.evaluate("""(() => { const n = document.querySelector('#graph .node.current').getBoundingClientRect();
        const b = document.querySelector('#graph-box').getBoundingClientRect();
        return n.left >= b.left - 1 && n.right <= b.right + 1; })()""")
    assert seen
    pg.close()


def test_a_backward_step_lights_only_the_edges_on_its_outputs_path(server, page):
    """In p's backward pass, g_z = g_p·∂p/∂z lit the edge z → s too (s is another output, not read
    by p: g_s = 0 in p's pass). Oracle: p = sin(x) + z reads z; s = x·z is not on p's path."""
    opened(page, share_link(server, "s = x*z\np = sin(x)+z\noutput s, p\n", "x=0.5,z=2"))
    page.locator("h2").first.click()
    for _ in range(30):
        page.keyboard.press("ArrowRight")
        line = page.inner_text("#step-line")
        if "Backward pass for p" in line and "g_z" in line:
            break
    else:
        raise AssertionError("no step g_z in p's backward pass")
    lit = page.eval_on_selector_all("#graph .edge.active", "es => es.map(e => e.dataset.from + '>' + e.dataset.to)")
    assert lit == ["z>p"], lit


def test_a_lesson_of_many_numbers_names_each_inputs_shape_not_its_numbers(browser, tmp_path):
    """`html` of the digits network listed its 2,000 input numbers above the lesson (750 px) and
    in the window's title (a visual review's find): past 120 characters each input's shape."""
    src = tmp_path / "many.cg"
    src.write_text("input x[200], w[200]\nparam b\ny = dot(w, x) + b\n")
    at = tmp_path / "at.json"
    at.write_text('{"x": %s, "w": %s, "b": 0.5}' % ([0.25] * 200, [1.0] * 200))
    out = tmp_path / "many.html"
    assert run_cli("html", str(src), "--at-file", str(at), "-o", str(out)).code == 0
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    pg.goto(out.as_uri())
    pg.wait_for_selector("#graph g.node")
    note = pg.inner_text("#mode-note")
    assert note.startswith("Precomputed at x [200], w [200], b=0.5 (every value in the tables below)"), note
    assert "0.25" not in pg.title() and pg.title() == "many.cg · graphlang"
    assert pg.evaluate("document.documentElement.scrollWidth") <= 1280  # nothing wider than the window
    assert pg.inner_text("#gradient-summary") == "∂y/∂b ≈ 1.00; ∂y/∂x, ∂y/∂w: in the gradient table"
    pg.close()


def test_a_declared_inputs_first_value_has_its_shape(server, page):
    """Typing `input x[3]` gave x the value 1 and, at once, "'x' is declared with shape [3] but its
    value has shape scalar" (a visual review's find): a declared input starts with its shape.
    Oracle: y = Σ Wᵀx + v·v with numpy at the values the fields show."""
    import numpy as np
    opened(page, share_link(server, "input x[3]\nparam W[3, 2], v[2]\ny = sum(W.T @ x) + dot(v, v)\n", ""))
    assert page.locator("#error").is_hidden(), page.inner_text("#error")
    shown = {n: page.input_value(f"#in-{n}") for n in ("x", "W", "v")}
    assert shown == {"x": "[0.1,0.2,0.3]", "W": "[[0.1,0.2],[0.3,0.4],[0.5,0.6]]", "v": "[0.1,0.2]"}
    x, W = np.array([0.1, 0.2, 0.3]), np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    summary = page.inner_text("#gradient-summary")
    assert summary == "∂y/∂x, ∂y/∂W, ∂y/∂v: in the gradient table", summary
    value = page.inner_text("#forward-table tr[data-node='y'] td:last-child")
    assert float(value) == pytest.approx(np.sum(W.T @ x) + 0.05)
    # a declared input too big to fill (W[784, 128]: 400 kB, past the request's limit, a review's find)
    opened_big = share_link(server, "input x[3]\nparam W[784, 128]\ny = sum(W)\n", "")
    page.goto(opened_big)
    page.wait_for_selector("#error:not([hidden])")
    assert page.input_value("#in-W") == "" and "784 × 128" in page.get_attribute("#in-W", "placeholder")
    # (the first answer, before the page fills x's field and runs again, names x and W: wait for the second)
    assert "no value for the input 'W'" in until(page, "#error", lambda t: "no value for the input 'W'" in t)


def test_a_half_typed_value_is_said_for_its_field_and_the_results_grey(server, page):
    """`[1, 2` half typed said "quote a value with spaces, the input fields 'x=[1, 2, 3]' (the shell
    splits it…)", the CLI's hint with --at swapped out; `2,z=100` gave z twice (a red team's find)."""
    opened(page, share_link(server, "input v[2]\ny = sum(v * v) + z\n", "v=[1,2],z=3"))
    for typed, said in [("[1, 2", "v: a '[' is not closed yet"), ("1,5", "v: one value per field; a vector goes in "
                        "brackets: [1,5]"), ("[1,2],z=100", "v: only the value goes in its field")]:
        page.fill("#in-v", typed)
        assert said in until(page, "#error", lambda t, said=said: said in t)
        assert "stale" in page.get_attribute("body", "class")
    page.fill("#in-v", "[3, 4]")
    until(page, "#gradient-summary",
          lambda t: "∂y/∂z ≈ 1" in t and "stale" not in (page.get_attribute("body", "class") or ""))
    assert page.is_hidden("#error") and "\t28" in page.inner_text("#forward-table")  # 3² + 4² + 3 by hand


def test_a_server_that_stopped_is_said_and_its_last_results_grey(server, browser):
    """With `graphlang serve` stopped, typing kept the old program's graph and gradient on the page,
    without a word (an uncaught "Failed to fetch"): a red team's find. (The browser's own console line
    for the refused request is expected here; an uncaught error is not.)"""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    uncaught: list[str] = []
    page.on("pageerror", lambda e: uncaught.append(str(e)))
    opened(page, share_link(server, LECTURE, "x=2,z=3"))
    page.route("**/api/**", lambda route: route.abort())
    page.fill("#source", LECTURE + "g = y * 2\n")
    assert "cannot reach the server" in until(page, "#error", lambda t: "cannot reach" in t)
    assert "stale" in page.get_attribute("body", "class")
    page.unroute("**/api/**")
    page.fill("#source", LECTURE)
    until(page, "#gradient-summary", lambda t: "stale" not in (page.get_attribute("body", "class") or ""))
    assert page.is_hidden("#error") and not uncaught, uncaught
    page.close()


def test_a_program_too_large_to_draw_says_so_legibly_and_its_table_says_what_each_node_computes(server, page):
    """After the lecture's graph, a 250-statement program's notice was 4 px tall (the last drawing's
    viewBox stayed) and the forward table's "computes" column was blank (a red team's find)."""
    opened(page, share_link(server, LECTURE, "x=2,z=3"))
    big = "a0 = x * 2\n" + "".join(f"a{k} = a{k - 1} + x\n" for k in range(1, 250))
    page.fill("#source", big)
    until(page, "#forward-table", lambda t: "a249" in t)
    assert page.get_attribute("#graph", "viewBox") is None
    box = page.locator("#graph text.too-large").first.bounding_box()
    assert box is not None and box["height"] >= 10
    rows = page.eval_on_selector_all("#forward-table tr",
                                     "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent))")
    computes = {r[0]: r[1] for r in rows[1:]}
    assert computes["x"] == "input" and computes["a0"] == "x * 2" and computes["a249"] == "a248 + x"


def test_several_outputs_are_named_alike_in_the_method_panel_and_the_gradient_table(server, page):
    opened(page, share_link(server, "y1 = x * z\ny2 = x + z\noutput y1, y2\n", "x=2,z=3", method="fd"))
    until(page, "#method-result", lambda t: "∂" in t)
    assert "∂(y1, y2)/∂x" in page.inner_text("#method-result") and "∂y1,y2" not in page.inner_text("#method-result")



def test_a_long_lines_caret_stays_under_its_column_on_a_phone(server, browser):
    """A REPL/web red team's find: on a narrow page the error's source line wrapped, and so did the
    caret line, whose `^` landed at the left under nothing. The excerpt scrolls; the caret is under
    the `s` of `sine` (its column in the CLI's message)."""
    pg = browser.new_page(viewport={"width": 390, "height": 844})
    program = "y = exp(x * z) + x * z / ln(x) + sin(ln(x)) / (x * z) + sine(x)\n"
    pg.goto(share_link(server, program, "x=2,z=3"))
    pg.wait_for_selector("#error:not([hidden]) .excerpt")
    excerpt = pg.inner_text("#error .excerpt").split("\n")
    source, caret = excerpt[0], excerpt[1]
    assert source[caret.index("^"):].startswith("sine(x)"), excerpt
    box = pg.eval_on_selector("#error .excerpt", "e => [e.scrollWidth, e.clientWidth, getComputedStyle(e).whiteSpace]")
    assert box[2] == "pre" and box[0] >= box[1]
    shot(pg, "error-caret-phone")
    pg.close()


def test_a_large_matrix_inputs_method_table_compares_it_whole(server, page):
    """A red team's find: a 150×150 matrix froze the page 10 s after each edit (the |difference|
    column flattened the reference gradient once per element: now once per input). The table still
    compares every element: symbolic beside reverse mode, the largest |difference| a roundoff."""
    rng = np.random.default_rng(3)
    w, v = rng.normal(size=(150, 150)) * 0.01, rng.normal(size=150)
    at = ",".join(f"{n}=" + json.dumps(a.round(4).tolist()).replace(" ", "") for n, a in (("W", w), ("v", v)))
    program = "input W[150, 150], v[150]\ny = sum(tanh(W @ v))\n"
    page.goto(share_link(server, program, urllib.parse.quote(at), "symbolic"))
    text = until(page, "#method-result", lambda t: "∂y/∂v" in t, timeout=60)
    assert "∂y/∂v" in text and "∂y/∂W" in text
    cells = page.eval_on_selector_all("#method-result tr", "rs => rs.slice(1).map(r => r.lastElementChild.textContent)")
    assert len(cells) == 2 and all(float(c) < 1e-12 for c in cells), cells


def test_the_editor_lets_the_keyboard_out_and_graph_nodes_open_with_the_keyboard(server, page):
    """A red team's find: Tab and Shift+Tab in the editor both inserted spaces (a keyboard trap), the
    focus was invisible, and a node's explanation opened only with the mouse."""
    opened(page, share_link(server, LECTURE, "x=2,z=3"))
    page.focus("#source")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "source"  # Tab indents
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") != "source"  # Esc, then Tab: out
    assert page.eval_on_selector("#editor", "e => getComputedStyle(e).outlineStyle") == "none"  # (not focused now)
    page.focus("#source")
    assert page.eval_on_selector("#editor", "e => getComputedStyle(e).outlineStyle") != "none"
    page.focus("#node-a")
    page.keyboard.press("Enter")
    until(page, "#node-explain", lambda t: "a" in t and t.strip() != "")
    assert page.inner_text("#node-explain").strip()
