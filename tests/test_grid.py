"""The plain-text tables (present/grid.py) against their oracle, Rich itself: wherever `render` answers,
its text is the bytes `Console(width=w).print(...)` writes to a file; where it cannot be sure it says
None (and the commands print through Rich)."""

from __future__ import annotations

import io
import random

import pytest
from conftest import PROGRAMS
from rich.cells import cell_len
from rich.console import Console

import graphlang
from graphlang.present import grid, tables, textviews
from graphlang.present.grid import Grid


def rich_text(parts: list[grid.Part], width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, highlight=False, soft_wrap=False).print(tables.rich_parts(parts))
    return out.getvalue()


def test_every_narrow_character_is_one_cell_for_rich():
    assert all(cell_len(c) == 1 for c in grid.NARROW)
    assert all(cell_len(chr(c)) == 1 for c in range(0x20, 0x7F))


NARROW = "abcxyz019 .,-+*/()_=[]∂…⋮ẋ·×−√²θλΣ"
ALPHABET = NARROW + ":\\\t\u0301\u4e00é"  # and some that Rich reads differently (or we are not sure)


DOTTED = ["q\u0307", "v\u0307", "J\u0307", "\u0307"]  # tangents with no precomposed letter (and a stray dot)


def _cell(rnd: random.Random) -> str:
    alphabet = [*ALPHABET] if rnd.random() < 0.05 else [*NARROW] + DOTTED if rnd.random() < 0.2 else NARROW
    lines = ["".join(rnd.choice(alphabet) for _ in range(rnd.choice([0, 1, 3, 8, 20])))
             for _ in range(rnd.choice([1, 1, 1, 2, 4]))]
    return "\n".join(lines)


def _grid(rnd: random.Random) -> Grid:
    ncol = rnd.randint(1, 4)
    title = "".join(rnd.choice("Forward pass ∂y/∂v(g_v)") for _ in range(rnd.choice([0, 5, 30, 70])))
    cols = tuple("".join(rnd.choice("node valueinput∂/") for _ in range(rnd.randint(0, 9)))
                 + ("[" if rnd.random() < 0.05 else "") for _ in range(ncol))
    g = Grid(title, cols)
    for _ in range(rnd.choice([0, 1, 3, 10])):
        g.add_row(*[_cell(rnd) for _ in range(ncol)])
    return g


@pytest.mark.parametrize("seed", range(600))
def test_random_tables_are_rich_bytes_or_none(seed):
    rnd = random.Random(seed)
    parts: list[grid.Part] = [_grid(rnd) for _ in range(rnd.randint(1, 3))]
    if rnd.random() < 0.5:
        parts.append(rnd.choice(["y = 412.1914573", "a note  with spaces ", "two\nlines", "[1, 2]\n [3, 4]]",
                                 "x" * 90, " lead", "tab\there", "", "end\n"]))
    width = rnd.choice([12, 20, 33, 40, 80, 100, 200])
    text = grid.render(parts, width)
    if text is not None:
        assert text == rich_text(parts, width)
    else:  # None only where there is a reason: a character, markup in a header, or the width
        assert any(not isinstance(p, Grid) or grid.render_grid(p, width) is None for p in parts)


def test_the_common_cases_are_rendered_without_rich():
    g = Grid("Forward pass", ("node", "definition", "value"),
             [("x", "input", "2"), ("m", "x + 1", "[[1, 2],\n [3, 4]]")])
    long_title = Grid("Backward pass (adjoints g_v = ∂y/∂v)", ("node", "adjoint"), [("g_y", "1")])
    empty = Grid("Hessian of y: ∂²y / ∂(row) ∂(column)", ("", "x"), [("x", "2")])
    no_rows = Grid("Nothing", ("a",))
    for width in (60, 100):
        parts: list[grid.Part] = [g, long_title, empty, no_rows, "y = 3", "epsilon = 1e-06"]
        text = grid.render(parts, width)
        assert text is not None and text == rich_text(parts, width)


def test_too_wide_tables_wrap_as_rich_wraps_them():
    g = Grid("t", ("a", "b"), [("x" * 50, "y" * 50), ("a + b * c", "tanh(n1995) + n1996 + n1997 - exp(sin(x3))")])
    for width in (30, 61, 80, 120):
        assert grid.render([g], width) == rich_text([g], width)


@pytest.mark.parametrize("method", ["reverse", "forward", "fd"])
@pytest.mark.parametrize("cg", ["lecture13.cg", "two_layer_network.cg", "softmax_classifier.cg",
                                "logistic_regression.cg"])
def test_the_run_views_of_the_examples_are_rich_bytes(cg, method):
    from test_golden import run_args

    from graphlang.cli.session import values
    p = graphlang.load(PROGRAMS / cg)
    args = run_args(cg)
    vals = values([args[1]], None) if args[0] == "--at" else values([], args[1])
    parts = textviews.result_parts(p, p.evaluate(vals, method=method))
    for width in (60, 80, 100, 160):
        text = grid.render(parts, width)
        assert text == rich_text(parts, width) or text is None
    assert grid.render(parts, 160) is not None
    tans = textviews.tangent_parts(p, p.tangents(vals, {p.inputs[0]: 1.0}), {p.inputs[0]: 1.0})
    assert grid.render(tans, 200) == rich_text(tans, 200)


def test_the_cli_prints_the_same_bytes_through_rich_or_not(monkeypatch, capsys):
    """FORCE_COLOR="" makes Rich's console decide (no terminal, so no colour) and the command prints by Rich."""
    from graphlang.cli.session import run_command
    monkeypatch.setenv("COLUMNS", "90")
    args = {"program": str(PROGRAMS / "two_layer_network.cg"), "at_file": None, "as_json": False, "strict": False,
            "limit": []}
    import test_golden
    extra = test_golden.run_args("two_layer_network.cg")
    args["at"], args["at_file"] = ([extra[1]], None) if extra[0] == "--at" else ([], extra[1])
    run_command(**args)  # type: ignore[arg-type]
    plain = capsys.readouterr().out
    monkeypatch.setenv("FORCE_COLOR", "")
    run_command(**args)  # type: ignore[arg-type]
    assert capsys.readouterr().out == plain


@pytest.mark.parametrize("partials", [False, True])
def test_the_graph_view_is_rich_bytes(partials):
    from graphlang.present import dot
    p = graphlang.load(PROGRAMS / "lecture13.cg")
    g = dot.terminal_grid(p, {"x": 2.0, "z": 3.0}, partials)
    for width in (50, 80, 140):
        out = io.StringIO()
        view = dot.terminal_view(p, {"x": 2.0, "z": 3.0}, partials)
        Console(file=out, width=width, highlight=False, soft_wrap=False).print(view)
        # 50 columns cannot hold its widest words side by side (1208.381215 and the rest): a block per
        # node; 80 and 140 can (the lecture's words, counted by hand: node 4, computes 6, ... columns)
        shown = grid.records(g) if width == 50 else g
        assert grid.render([shown], width) == out.getvalue(), width


@pytest.mark.parametrize("args", [
    ["explain", "lecture13.cg", "--at", "x=2,z=3"], ["explain", "lecture13.cg", "--at", "x=2,z=3", "--format", "latex"],
    ["explain", "two_layer_network.cg", "--at-file", "two_layer_network.json", "--format", "markdown"],
    ["ir", "lecture13.cg"], ["ir", "two_layer_network.cg", "--at-file", "two_layer_network.json"],
    ["graph", "lecture13.cg", "--at", "x=2,z=3", "--partials"], ["tangents", "lecture13.cg", "--at", "x=2,z=3"],
    ["run", "softmax_classifier.cg", "--at-file", "softmax_classifier.json"],
    ["gradcheck", "lecture13.cg", "--at", "x=2,z=3"], ["gradcheck", "two_layer_network.cg", "--at-file",
                                                        "two_layer_network.json"],
    ["hessian", "lecture13.cg", "--at", "x=2,z=3"],
    ["hessian", "squared_error.cg", "--at", "W=[[0.5,1],[-1,2],[0,1]],x=[1,2],t=[1,1,1]"]])
@pytest.mark.parametrize("width", [30, 60, 100])
def test_commands_print_rich_bytes_without_rich(args, width, monkeypatch):
    """The same command printed by Rich (FORCE_COLOR="" hands the decision to Rich: no terminal, no colour)
    and without it: the same bytes."""
    from conftest import run_cli
    argv = [str(PROGRAMS / a) if a.endswith((".cg", ".json")) else a for a in args]
    plain = run_cli(*argv, width=width)
    monkeypatch.setenv("FORCE_COLOR", "")
    by_rich = run_cli(*argv, width=width)
    assert plain.code == by_rich.code == 0
    assert plain.out == by_rich.out


@pytest.mark.parametrize("width", [30, 80])
def test_a_kink_in_gradcheck_prints_rich_bytes_and_keeps_its_colours(width, tmp_path, monkeypatch):
    """The notes of a disagreement: the same bytes with or without Rich; on a terminal, Rich's colours."""
    from conftest import run_cli

    from graphlang import gradcheck as gc
    cg = tmp_path / "kink.cg"
    cg.write_text("y = relu(x) * 3 + x * z\n")
    plain = run_cli("gradcheck", str(cg), "--at", "x=0,z=1", width=width)
    monkeypatch.setenv("FORCE_COLOR", "")
    by_rich = run_cli("gradcheck", str(cg), "--at", "x=0,z=1", width=width)
    assert plain.code == by_rich.code == 1 and plain.out == by_rich.out and "kink" in plain.out
    prog = graphlang.load(cg)
    parts = textviews.gradcheck_parts(gc.gradcheck(prog, {"x": 0.0, "z": 1.0}), gc.TOLERANCES,
                                      gc.kinks(prog, {"x": 0.0, "z": 1.0}))
    styles = [getattr(t, "style", "") for t in tables.rich_parts(parts).renderables]
    assert "yellow" in styles and "bold yellow" in styles


def test_paragraphs_wrap_as_rich_wraps_them():
    """`Console(width).print(Text(t), end="")` for random texts of words, runs of spaces and newlines."""
    from rich.text import Text
    rnd = random.Random(14)
    for _ in range(800):
        t = " " * rnd.randint(0, 3) + "".join(rnd.choice("ab cd  e∂·\n") for _ in range(rnd.randint(0, 60)))
        width = rnd.randint(1, 30)
        out = io.StringIO()
        Console(file=out, width=width, highlight=False, soft_wrap=False).print(Text(t), end="")
        assert grid.paragraph(t, width) == out.getvalue()


@pytest.mark.parametrize("width", [60, 80, 100])
def test_a_wide_matrix_is_written_to_its_column_not_folded_mid_row(width):
    """At 80 columns a 10×10 gradient's rows ran past the value column and Rich folded each onto a second
    line ("…," then "0.691269],"), and a vector's "(shape" was cut from its "[10])". Now each tensor is
    written to the width its column has (its shape below, fewer columns, fewer digits): every matrix row
    on one line, its numbers numpy's rounded, and the same bytes with Rich or without."""
    import numpy as np
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=10), rng.normal(size=(10, 10)) * 0.3
    p = graphlang.parse("input x[10]\nparam W[10, 10]\nh = tanh(W @ x)\ny = sum(h * h)\n")
    result = p.evaluate({"x": x, "W": w})
    parts = textviews.result_parts(p, result)
    text = grid.render(parts, width)
    assert text is not None and text == rich_text(parts, width)
    cells: list[list[str]] = []  # the last column's lines, one list per table row
    for line in text.splitlines():
        if line.startswith("│"):
            node, value = line.split("│")[1].strip(), line.split("│")[-2].strip()
            cells.append([value]) if node else cells[-1].append(value)
        assert len(line) <= width
    for lines in cells:
        for before in lines[:-1]:
            assert not before.endswith(("(shape", "…,")) and (not before.endswith(",") or before.endswith("],"))
    g_w = [c for c in cells if c[0].startswith("[[")][-1]  # W's row in the gradient table, the last
    first = [float(t) for t in g_w[0].strip("[],").replace(",", " ").split() if t != "…"]
    true = result.gradient["W"][0]
    assert np.allclose(first[:-1], true[:len(first) - 1], rtol=1e-3) and np.isclose(first[-1], true[-1], rtol=1e-3)
