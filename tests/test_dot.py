"""`graph`: DOT, files, the terminal view and `--partials`, on scalar and tensor programs.

Oracle for the edge labels: central differences computed here, on a one-statement program made of
the consumer's own statement (the local derivative ∂c/∂a is the derivative of that statement).
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from conftest import PROGRAMS

import graphlang
from graphlang.language.ast import names
from graphlang.present.dot import edges, to_dot

TENSOR_PROGRAMS = {
    "consts": ("input x[2]\nc = 3\nV = [[1, -1], [0.5, 2]]\nu = V @ x * c\ny = sum(u ^ 2) + c * pi\n",
               {"x": [0.3, -1.2]}),
    "bcast": ("input A[3, 2], v[2], s\nB = A * v + s\nm = mean(B, 0)\n"
              "y = sum(tanh(B) * B) + dot(m, v) + max(s, 0) + abs(s)\n",
              {"A": [[1, 2], [-1, 0.5], [0.3, -0.7]], "v": [0.4, -2], "s": 0.6}),
    "multi": ("a = x * z\nb = sin(x) + a\noutput a, b\n", {"x": 0.7, "z": -1.5}),
    "tensor_out": ("input W[2, 3], x[3]\nh = W @ x\nM = W.T * 2\noutput h, M\n",
                   {"W": [[1, 2, 3], [-1, 0.5, 2]], "x": [0.1, 0.2, -0.3]}),
}


def shipped() -> list[tuple[str, str, dict]]:
    out = []
    for path in sorted(PROGRAMS.glob("*.cg")):
        js = path.with_suffix(".json")
        at = json.loads(js.read_text()) if js.exists() else None
        out.append((path.stem, path.read_text(), at))
    return out


def all_programs() -> list[tuple[str, str, dict | None]]:
    return shipped() + [(k, src, at) for k, (src, at) in TENSOR_PROGRAMS.items()]


def one_statement(prog: graphlang.Program, consumer: str, values: dict) -> graphlang.Program:
    """The consumer's statement alone, every name it reads an input of the value's shape."""
    st = prog.graph.statement(consumer)
    read = [n for n in names(st.expr) if n in values]
    decl = ", ".join(n + (str(list(np.shape(values[n]))).replace(" ", "") if np.ndim(values[n]) else "")
                     for n in read)
    return graphlang.parse(f"input {decl}\n{consumer} = {st.text}\n")


def central(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


LABEL = re.compile(r'"(\w+)" -> "(\w+)" \[label="(.*)"\];')


@pytest.mark.parametrize(("name", "src", "at"), all_programs(), ids=[p[0] for p in all_programs()])
def test_every_edge_is_labelled_with_and_without_values(name, src, at):
    pydot = pytest.importorskip("pydot")
    prog = graphlang.parse(src)
    for values in (None, at):
        text = to_dot(prog, values, partials=True)
        (g,) = pydot.graph_from_dot_data(text)
        labelled = {(e.get_source().strip('"'), e.get_destination().strip('"')) for e in g.get_edges()
                    if e.get("label")}
        assert labelled == set(edges(prog)), (values, text)
        for e in g.get_edges():  # `∂c/∂a = rule` (`= number` with values), or a map `g_c ↦ rule`
            label = e.get("label").strip('"')
            a, c = e.get_source().strip('"'), e.get_destination().strip('"')
            assert label.startswith(f"∂{c}/∂{a} = ") or label.startswith(f"g_{c} ↦"), label
            if values is None:
                assert label.count(" = ") == (0 if "↦" in label else 1), label


@pytest.mark.parametrize(("name", "src", "at"), [p for p in all_programs() if p[2] is not None] +
                         [("lecture13", (PROGRAMS / "lecture13.cg").read_text(), {"x": 2, "z": 3}),
                          ("logistic", (PROGRAMS / "logistic_regression.cg").read_text(),
                           {"x": -1, "t": 0, "w": 1.3, "b": 0.2})],
                         ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "")
def test_scalar_partials_match_central_differences(name, src, at):
    """Each label `∂c/∂a = number` (scalar a and c) is the statement's own derivative."""
    prog = graphlang.parse(src)
    result = prog.evaluate(at)
    values = {k: np.asarray(v, dtype=float) for k, v in result.values.items()}
    checked = 0
    for a, c, label in LABEL.findall(to_dot(prog, at, partials=True)):
        if np.ndim(values[a]) or np.ndim(values[c]) or "↦" in label:
            continue
        local = one_statement(prog, c, values)
        point = {n: values[n] for n in local.inputs}

        def f(v: float, local=local, point=point, a=a, c=c) -> float:
            return float(local.forward({**point, a: v})[c])
        want = central(f, float(values[a]))
        got = float(label.rsplit(" = ", 1)[-1])  # a constant partial is its number alone ("1", not "1 = 1")
        assert got == pytest.approx(want, rel=2e-3, abs=1e-4), (a, c, label)
        checked += 1
    assert checked or name in ("tensor_out", "softmax_classifier")  # these have no scalar-to-scalar edge


def test_tensor_consumer_shows_the_vector_jacobian_product():
    """`B = A * v + s` reads the scalar s: its label is g_B ↦ Σ g_B, the number Σ g_B·∂B/∂s."""
    src, at = TENSOR_PROGRAMS["bcast"]
    prog = graphlang.parse(src)
    r = prog.evaluate(at)
    text = to_dot(prog, at, partials=True)
    (label,) = [lab for a, c, lab in LABEL.findall(text) if (a, c) == ("s", "B")]
    assert label.startswith("g_B ↦ ")
    g_b = np.asarray(r.adjoints["B"])
    A, v = np.asarray(at["A"], float), np.asarray(at["v"], float)
    want = central(lambda s: float(np.sum(g_b * (A * v + s))), at["s"])
    assert float(label.rsplit(" = ", 1)[1]) == pytest.approx(want, rel=1e-3)
    (label,) = [lab for a, c, lab in LABEL.findall(text) if (a, c) == ("v", "B")]
    # a small vector shows its numbers (3 significant digits): Σ_rows g_B·A, by the test's own numpy
    shown = [float(x) for x in label.rsplit(" = ", 1)[1].strip("[]").split(",")]
    assert shown == pytest.approx(list(np.sum(g_b * A, axis=0)), rel=6e-3)


def test_matrix_partials_do_not_crash_on_the_shipped_network(cli, tmp_path):
    prog = str(PROGRAMS / "two_layer_network.cg")
    at = ["--at-file", str(PROGRAMS / "two_layer_network.json")]
    for extra in ([], at):
        ran = cli("graph", prog, "--partials", "--dot", *extra)
        assert ran.code == 0, ran.err
        assert '"x" -> "a1" [label="g_a1 ↦ alpha1 @ g_a1' in ran.out
        out = tmp_path / "g.dot"
        assert cli("graph", prog, "--partials", "-o", str(out), *extra).code == 0
        assert out.read_text() == ran.out
        table = cli("graph", prog, "--partials", *extra, width=200)
        assert table.code == 0 and "local derivatives" in table.out and "∂a1/∂x: g_a1 ↦ alpha1 @ g_a1" in table.out


def test_a_name_read_twice_is_one_edge():
    prog = graphlang.parse("y = x * x + sin(x)")
    assert edges(prog) == [("x", "y")]
    assert to_dot(prog, {"x": 0.5}, partials=True).count('"x" -> "y"') == 1
    label = LABEL.findall(to_dot(prog, {"x": 0.5}, partials=True))[0][2]
    assert float(label.rsplit(" = ", 1)[1]) == pytest.approx(2 * 0.5 + np.cos(0.5), rel=1e-3)


# --- pictures: names clear of arrowheads, one font, --dpi, values of small tensors, no Graphviz, size ---

def _svg_boxes(svg: str) -> tuple[list[tuple[float, float, float, float]], list[tuple[float, float, float, float]]]:
    """(name label boxes, arrowhead boxes) in the SVG's coordinates; text boxes from the font size."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(svg)
    names_, heads = [], []
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") == "node":
            for t in g.iter("{http://www.w3.org/2000/svg}text"):
                if t.get("font-style") == "italic":
                    x, y, size = float(t.get("x")), float(t.get("y")), float(t.get("font-size"))
                    w = 0.6 * size * len(t.text or "")
                    left = x - w / 2 if t.get("text-anchor") == "middle" else x
                    names_.append((left, y - size, left + w, y + 0.25 * size))
        if g.get("class") == "edge":
            for poly in g.iter("{http://www.w3.org/2000/svg}polygon"):
                pts = [tuple(map(float, p.split(","))) for p in poly.get("points").split()]
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                heads.append((min(xs), min(ys), max(xs), max(ys)))
    return names_, heads


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("name", ["lecture13", "two_layer_network", "softmax_classifier"])
def test_names_never_sit_on_arrowheads(name, tmp_path, cli):
    js = PROGRAMS / f"{name}.json"
    at = ["--at", "x=2,z=3"] if name == "lecture13" else ["--at-file", str(js)]
    out = tmp_path / "g.svg"
    assert cli("graph", str(PROGRAMS / f"{name}.cg"), *at, "-o", str(out)).code == 0
    svg = out.read_text()
    names_, heads = _svg_boxes(svg)
    prog = graphlang.load(PROGRAMS / f"{name}.cg")
    assert len(names_) == len(prog.graph.statements) and heads
    assert not [(n, h) for n in names_ for h in heads if _overlap(n, h)]
    fonts = set(re.findall(r'font-family="([^"]+)"', svg))
    assert len(fonts) == 1  # one family for boxes, names and edge labels


def test_small_tensors_show_their_values():
    prog = graphlang.parse("input W[3, 2], x[2]\nh = W @ x\nbig = [1, 2, 3, 4, 5, 6, 7] * sum(h)\ny = sum(big)")
    text = to_dot(prog, {"W": [[1, 0], [0, 2], [1, 1]], "x": [0.5, -0.25]})
    assert "= [[1, 0],<br/> [0, 2],<br/> [1, 1]]" in text  # 3×2: three rows of two
    assert "= [0.5, -0.25]" in text and "= [0.5, -0.5, 0.25]" in text  # h = W @ x by hand
    assert "= a 7-vector" in text  # too many numbers for a box: its size ("= shape [7]" read as x's value)
    big = to_dot(graphlang.parse("input W[64, 32]\ny = sum(W * W)\n"), {"W": [[0.5] * 32] * 64})
    assert "= a 64×32 matrix" in big and "shape [" not in big


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_dpi_sets_the_png_resolution(cli, tmp_path):
    import struct
    sizes = {}
    for dpi in (100, 200):
        out = tmp_path / f"g{dpi}.png"
        assert cli("graph", str(PROGRAMS / "lecture13.cg"), "-o", str(out), "--dpi", str(dpi)).code == 0
        sizes[dpi] = struct.unpack(">II", out.read_bytes()[16:24])
    assert sizes[200][0] == pytest.approx(2 * sizes[100][0], rel=0.02)
    assert cli("graph", str(PROGRAMS / "lecture13.cg"), "-o", str(tmp_path / "g.png"), "--dpi", "5").code == 2



@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_a_pdf_drawn_twice_is_the_same_bytes(cli, tmp_path, monkeypatch):
    """cairo stamps /CreationDate with the clock (and ignores SOURCE_DATE_EPOCH): two runs a second
    apart differed. The stamp is fixed, same length, so the PDF's cross-reference offsets hold."""
    import subprocess

    import graphlang.present.dot as dot
    real = subprocess.run
    outs = []
    for k, stamp in enumerate((b"20261203073744", b"20270101120000")):  # Graphviz run at two times
        def at_time(*args, _stamp=stamp, **kw):
            done = real(*args, **kw)
            done.stdout = re.sub(rb"\(D:\d{14}", b"(D:" + _stamp, done.stdout)
            return done
        monkeypatch.setattr(dot.subprocess, "run", at_time)
        out = tmp_path / f"g{k}.pdf"
        assert cli("graph", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3", "-o", str(out)).code == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and outs[0].startswith(b"%PDF") and b"(D:19700101000000" in outs[0]

def test_no_graphviz_is_exit_1_with_the_hint_and_the_dot_file(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    ran = cli("graph", str(PROGRAMS / "lecture13.cg"), "-o", str(tmp_path / "g.png"))
    assert ran.code == 1 and "install the `graphviz` package" in ran.err and "Traceback" not in ran.err
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(graphlang.GraphlangError, match="Graphviz"):
        graphlang.load(PROGRAMS / "lecture13.cg").draw()


def test_a_huge_graph_gets_a_clear_message(cli, write, tmp_path):
    path = write("a0 = x\n" + "".join(f"a{i} = a{i - 1} + x\n" for i in range(1, 1500)))
    for suffix in ("png", "svg", "tex"):
        ran = cli("graph", path, "-o", str(tmp_path / f"g.{suffix}"))
        assert ran.code == 1 and "limit error" in ran.err and "1,501 nodes" in ran.err, ran.err
    assert cli("graph", path, "-o", str(tmp_path / "g.dot")).code == 0  # the DOT source is fine


def test_graphviz_crash_is_explained(monkeypatch, tmp_path):
    import subprocess

    from graphlang.present import dot as dot_mod

    class Crashed:
        returncode, stdout, stderr = -11, b"", b""
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: Crashed())
    with pytest.raises(graphlang.GraphlangError) as info:
        dot_mod.render_file("digraph {}", str(tmp_path / "g.png"))
    assert "crashed (signal 11)" in info.value.message and info.value.hint


@pytest.mark.parametrize("text,kind", [("input v[3]\ny = v[5]\n", "index"),
                                       ("y = sum([1, 2] + [1, 2, 3])\n", "shape")])
def test_graph_without_values_refuses_what_run_refuses_when_every_shape_is_known(cli, write, text, kind):
    """`graph` drew `input v[3]; y = v[5]` (exit 0) that run and diff refuse; with an undeclared
    input (a scalar, or a vector --at would give) it still draws."""
    ran = cli("graph", write(text))
    assert ran.code == 1 and f"{kind} error" in ran.err
    assert cli("graph", write("y = x @ x\n")).code == 0


def test_edge_labels_that_would_swell_are_refused_before_they_are_built(cli, write):
    """A red team's find: `graph --partials` of four lines x^x^…^x (199 levels) took 26 s and 1.7 GB
    (10 lines: out of memory, also with --strict), where explain and diff refuse the same swell."""
    line = "x" + "^x" * 198
    path = write("".join(f"a{k} = {line}\n" for k in range(4)) + "y = a0 + a1 + a2 + a3\n")
    for args in ([], ["-o", path + ".tex"], ["-o", path + ".dot"]):
        ran = cli("graph", path, "--at", "x=0.5", "--partials", *args)
        assert ran.code == 1 and "limit error: the edge labels would print" in ran.err, ran.err
    assert cli("graph", path, "--at", "x=0.5").code == 0  # without the labels: drawn


def test_a_graph_whose_edges_cross_many_columns_is_refused_before_graphviz_runs(tmp_path, cli):
    """140 statements each reading one from far back held Graphviz past its 60 s limit (a 2.8 KB
    program, an untrusted-input red team's find); counted from the layered layout, it is refused at
    once, and the hint names the .tex layout, which draws it."""
    src = "a0 = x\n" + "".join(f"a{i + 1} = a{i} * x + a{i // 2}\n" for i in range(140))
    (tmp_path / "c.cg").write_text(src)
    ran = cli("graph", str(tmp_path / "c.cg"), "-o", str(tmp_path / "c.svg"))
    assert ran.code == 1 and "Graphviz would take minutes" in ran.err and "graph.tex" in ran.err
    assert not (tmp_path / "c.svg").exists()
    assert cli("graph", str(tmp_path / "c.cg"), "-o", str(tmp_path / "c.tex")).code == 0


def test_a_literal_node_shows_its_value_once():
    """`k = 2` drew "2 = 2" and a literal matrix its numbers twice (a visual review); a computed node
    keeps its value line. Oracle: the adjoints by hand: y = k Σ M x, g_k = Σ M x = 10, g_M = k·1 xᵀ."""
    text = to_dot(graphlang.parse("k = 2\nM = [[1, 2], [3, 4]]\ny = k * sum(M @ x)\n"), {"x": [1, 1]})
    assert "2<br/>g_k = 10" in text and "= 2<br/>" not in text
    assert "[[1, 2], [3, 4]]<br/>g_M = [[2, 2],<br/> [2, 2]]" in text
    assert "= 20" in text  # y's value (k·Σ Mx = 2·10)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_a_big_graphs_png_is_scaled_to_at_most_8000_pixels(cli, tmp_path):
    """A REPL red team's find: `:graph` of 60 statements wrote a 13,403 × 3,605 PNG (seconds to
    rasterize), 200 statements 32,767 px (more than viewers open). The longer side is now capped."""
    import struct

    from graphlang.present.dot import MAX_PIXELS
    source = "".join(f"v{i} = sin(v{i - 1}) + x * {i}\n" if i else "v0 = x * z\n" for i in range(60))
    (tmp_path / "p.cg").write_text(source + "y = " + " + ".join(f"v{i}" for i in range(0, 60, 7)) + "\n")
    out = tmp_path / "g.png"
    assert cli("graph", str(tmp_path / "p.cg"), "-o", str(out)).code == 0
    width, height = struct.unpack(">II", out.read_bytes()[16:24])
    assert max(width, height) <= MAX_PIXELS and min(width, height) > 100


@pytest.mark.parametrize("suffix", [".png", ".svg", ".dot", ".tex"])
def test_a_picture_written_says_so(cli, tmp_path, suffix):
    """`graph -o g.png` printed nothing on success (`html` says "wrote …"): a student could not tell
    it had run. The file is there and named on stderr."""
    if suffix in (".png", ".svg") and shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    out = tmp_path / f"g{suffix}"
    ran = cli("graph", str(PROGRAMS / "lecture13.cg"), "-o", str(out))
    assert ran.code == 0 and out.stat().st_size > 0 and f"wrote {out}" in ran.out + ran.err


def test_a_statement_of_thousands_of_terms_is_drawn_with_its_label_cut(tmp_path):
    """A scaling red team's find: one line summing 2,000 terms made a box label past Graphviz's 16,384
    characters, and `graph -o .svg` failed (exit 2). Labels stop at 200 characters with "…"; the
    value and adjoint lines stay whole. Oracle: the sum's first terms, as typed."""
    src = "input x\ny = " + " + ".join(f"sin(x * {i})" for i in range(2000)) + "\n"
    dot = to_dot(graphlang.parse(src), {"x": 1.0}, partials=True)
    assert max(len(line) for line in dot.splitlines()) < 2000
    assert "sin(x·0) + sin(x·1) + sin(x·2)" in dot and "…" in dot and "g_y = 1" in dot
    if shutil.which("dot"):
        out = tmp_path / "y.svg"
        graphlang.parse(src).draw(str(out), {"x": 1.0})
        assert out.stat().st_size > 0
