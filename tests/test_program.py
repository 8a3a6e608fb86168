"""Program.evaluate's adjoints (SPEC §2): every node the output reads, constants and literal
tensors included, through the API, `run --json` and `explain`. Expected values are closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli

import graphlang

SOURCE = "V = [[1, -1], [0.5, 2]]\nc = 3\nk = c * 2\nunused = 7\ny = k * sum(V @ x)\n"
X = np.array([2.0, 3.0])
V = np.array([[1.0, -1.0], [0.5, 2.0]])
# y = 2c · 1ᵀVx: g_k = 1ᵀVx, g_c = 2 · 1ᵀVx, g_V = 2c · 1 xᵀ, g_x = 2c · Vᵀ1
WANT = {"y": 1.0, "k": float(np.sum(V @ X)), "c": 2 * float(np.sum(V @ X)),
        "V": 6.0 * np.outer(np.ones(2), X), "x": 6.0 * V.T @ np.ones(2), "unused": 0.0}


def test_constant_adjoints_api():
    r = graphlang.parse(SOURCE).evaluate({"x": X})
    for name, want in WANT.items():
        np.testing.assert_allclose(r.adjoints[name], want, err_msg=name)


def test_constant_adjoints_json_and_explain(tmp_path):
    path = tmp_path / "p.cg"
    path.write_text(SOURCE)
    ran = run_cli("run", str(path), "--at", "x=[2,3]", "--json")
    assert ran.code == 0, ran.err
    adjoints = ran.json()["adjoints"]
    for name, want in WANT.items():
        np.testing.assert_allclose(adjoints[name], want, err_msg=name)
    ran = run_cli("explain", str(path), "--at", "x=[2,3]", width=200)
    assert ran.code == 0, ran.err
    line = next(ln for ln in ran.out.splitlines() if ln.strip().startswith("g_c ="))
    assert line.rstrip().endswith(f"= {WANT['c']:g}"), line  # the printed chain ends in the true value
    line = next(ln for ln in ran.out.splitlines() if ln.strip().startswith("g_unused ="))
    assert "0" in line


def test_scalar_constant_adjoint_is_the_other_factor():
    r = graphlang.parse("c = 3\ny = c * x\n").evaluate({"x": 2.0})
    assert r.adjoints["c"] == 2.0 and r.adjoints["x"] == 3.0


def test_a_masked_array_is_refused_not_read_without_its_mask():
    """sum([1, --]) would be 3 with the mask dropped; bind refuses it (without reading np.ma, which
    imports numpy.ma, unless numpy.ma is already imported: the caller's array then is one)."""
    prog = graphlang.parse("input v[2]\ny = sum(v)\n")
    with pytest.raises(graphlang.GraphlangError) as err:
        prog.evaluate({"v": np.ma.masked_array([1.0, 2.0], mask=[False, True])})
    assert err.value.kind == "value" and "masked" in err.value.message
