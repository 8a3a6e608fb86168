"""Rendering outside the cost model (issue 13 item 8): tensors are elided before they are formatted,
and the run/graph/tangents tables do constant work per row (counted, never timed)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

import graphlang
from graphlang.present import dot, tables
from graphlang.present.tables import MAX_SHOWN, tensor


def _naive(a: np.ndarray) -> str:
    """The oracle: format every element, then elide (what the tables printed before)."""
    cells = [f"{v + 0.0:.6g}" for v in a]
    if len(cells) > MAX_SHOWN:
        cells = cells[: MAX_SHOWN - 2] + ["…", cells[-1]]
    return "[" + ", ".join(cells) + "]" + (f"  (shape {list(a.shape)})" if a.size > MAX_SHOWN else "")


@pytest.mark.parametrize("n", [1, 2, 5, 6, 7, 8, 100])
def test_vectors_print_as_before(n):
    a = np.linspace(-3, 7, n) ** 3
    assert tensor(a) == _naive(a)


def test_matrix_rows_elided_like_vectors():
    a = np.arange(80.0).reshape(8, 10) * 1.5
    text = tensor(a)
    rows = text.split("\n")
    assert len(rows) == MAX_SHOWN  # four rows, ⋮, the last
    assert rows[MAX_SHOWN - 2].strip() == "⋮"
    assert "118.5" in rows[-1] and "(shape [8, 10])" in rows[-1]
    assert [c.strip() for c in rows[0].strip("[],").split(",")] == ["0", "1.5", "3", "4.5", "…", "13.5"]


@pytest.mark.parametrize("shape", [(10**9,), (10**5, 10**4), (10**3, 10**3, 10**3), (10**2,) * 4 + (10,)])
def test_huge_tensors_format_only_what_is_shown(shape):
    """A broadcast view of 10⁹ elements: formatting every element (the old way) needs tens of GB."""
    a = np.broadcast_to(np.float64(2.5), shape)
    text = tensor(a)
    assert "…" in text and str(list(shape)) in text
    assert text.count("2.5") <= (MAX_SHOWN - 1) * MAX_SHOWN * MAX_SHOWN


class _Counting(list):
    """A statement list that counts full scans (the tables used to scan it once per row)."""

    scans = 0

    def __iter__(self):
        type(self).scans += 1
        return super().__iter__()


@pytest.mark.parametrize("view", ["run", "tangents", "graph"])
def test_tables_do_not_rescan_the_program_per_row(view):
    n = 300
    src = "input x\n" + "".join(f"a{i} = {'x' if i == 0 else f'a{i - 1}'} * 0.5 + 1\n" for i in range(n))
    p = graphlang.parse(src)
    p.graph.statements = _Counting(p.graph.statements)
    _Counting.scans = 0
    if view == "run":
        r = p.evaluate({"x": 1.0})
        table = tables.result_tables(p, r)
    elif view == "tangents":
        table = tables.tangent_table(p, p.tangents({"x": 1.0}, {"x": 1.0}), {"x": 1.0})
    else:
        table = dot.terminal_view(p, {"x": 1.0})
    out = io.StringIO()
    Console(file=out, width=120).print(table)
    assert _Counting.scans <= 5, f"{_Counting.scans} scans of {n} statements"
    # and the numbers are right: a_i = 0.5 a_(i-1) + 1 from a_0 = 1.5, the tangent 0.5^(i+1)
    text = out.getvalue()
    assert "a299" in text
    if view == "tangents":
        assert f"{0.5 ** 3:.6g}" in text


def test_the_backward_table_renames_adjoints_beside_a_node_named_g_a():
    """`a = x*z; g_a = a*3; y = g_a + a`: the run table had a row g_a (a's adjoint, 4) beside the
    student's node g_a (18); explain already wrote grad_a. Oracle: ∂y/∂a = 3 + 1 = 4, by hand."""
    from graphlang.present.textviews import result_parts
    prog = graphlang.parse("a = x*z\ng_a = a*3\ny = g_a + a\n")
    back = result_parts(prog, prog.evaluate({"x": 1, "z": 2}))[1]
    assert ("grad_a", "4") in back.rows and ("grad_g_a", "1") in back.rows
    assert not any(row[0] == "g_a" for row in back.rows)


def test_the_adjoints_heading_does_not_read_as_a_nodes_adjoint():
    """"Backward pass (adjoints g_v = ∂y/∂v)" beside a node named v read as v's own adjoint."""
    from graphlang.present.textviews import backward_title
    assert backward_title("g_", "y", ["x", "z", "a"]) == "Backward pass (adjoints g_v = ∂y/∂v)"
    assert backward_title("g_", "y", ["u", "v", "y"]) == "Backward pass (adjoints g_w = ∂y/∂w)"
