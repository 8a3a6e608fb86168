"""`graphlang hessian`: titles that cannot be mistaken for the program's nodes, and the documented
block layout of tensor Hessians (oracle: second derivatives worked out by hand)."""

from __future__ import annotations

import numpy as np


def test_title_uses_no_letters_that_could_be_nodes(cli, write):
    ran = cli("hessian", write("input a, b\ny = a^2 * b\n"), "--at", "a=1,b=2", "--json")
    h = ran.json()["hessian"]
    assert h["a"]["a"] == 4 and h["a"]["b"] == 2 and h["b"]["b"] == 0  # 2b, 2a, 0 at a=1, b=2
    shown = cli("hessian", write("input a, b\ny = a^2 * b\n"), "--at", "a=1,b=2", width=120).out
    assert "∂a∂b" not in shown and "∂²y / ∂(row) ∂(column)" in shown


def test_tensor_blocks_follow_the_documented_layout(cli, write):
    """y = (Σv)² · Σw²: ∂²y/∂v_i∂w_j = 4 (Σv) w_j, so the block (row v, column w) is w.shape + v.shape."""
    v, w = np.array([1.0, 2.0]), np.array([1.0, 0.0, 1.0])
    h = cli("hessian", write("input v[2], w[3]\ny = sum(v)^2 * sum(w * w)\n"), "--at", "v=[1,2],w=[1,0,1]",
            "--json").json()["hessian"]
    block = np.array(h["v"]["w"])
    assert block.shape == (3, 2)
    assert np.allclose(block, [[4 * v.sum() * w[j]] * 2 for j in range(3)])
    assert np.allclose(np.array(h["w"]["w"]), 2 * v.sum() ** 2 * np.eye(3))
    shown = cli("hessian", write("input v[2], w[3]\ny = sum(v)^2 * sum(w * w)\n"), "--at", "v=[1,2],w=[1,0,1]",
                width=140).out
    assert "shape column.shape + row.shape" in shown
