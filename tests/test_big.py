"""Large programs: no recursion anywhere, values match the benchmark's reference."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import DATA

import graphlang


def test_big_1000_matches_reference():
    ref = json.loads((DATA / "big_1000.json").read_text())
    prog = graphlang.load(DATA / "big_1000.cg")
    r = prog.evaluate(ref["inputs"])
    assert r.value == pytest.approx(ref["y"], rel=1e-12)
    for k, v in ref["grad"].items():
        assert r.gradient[k] == pytest.approx(v, rel=1e-10)
    fwd = prog.gradient(ref["inputs"], method="forward")
    for k, v in ref["grad"].items():
        assert fwd[k] == pytest.approx(v, rel=1e-10)


def test_long_chain_has_no_recursion_limit():
    n = 20_000
    lines = ["a0 = x"] + [f"a{i} = sin(a{i - 1}) + 0.5 * a{i - 1}" for i in range(1, n)]
    prog = graphlang.parse("\n".join(lines))
    r = prog.evaluate({"x": 0.3})
    # the same chain in plain Python: value, and derivative by the chain rule
    a, d = 0.3, 1.0
    for _ in range(1, n):
        a, d = np.sin(a) + 0.5 * a, (np.cos(a) + 0.5) * d
    assert r.value == pytest.approx(a, rel=1e-12)
    assert r.gradient["x"] == pytest.approx(d, rel=1e-9, abs=1e-300)


def test_wide_sum_in_one_statement():
    n = 50_000
    prog = graphlang.parse("y = " + " + ".join(f"x{i % 1000}" for i in range(n)))
    at = {f"x{i}": float(i) for i in range(1000)}
    r = prog.evaluate(at)
    assert r.value == sum(i % 1000 for i in range(n))
    assert all(r.gradient[f"x{i}"] == n // 1000 for i in range(1000))  # each appears 50 times


def test_a_long_bracket_literal_through_every_method():
    """v = [0.5 x, 1.5 x, …] with 3,000 computed entries is one primitive of 3,000 arguments: each
    argument's rule was compiled with all 3,002 parameters and the plan hashed all 3,000 shapes per
    argument (O(n²): `run` 45 s at 4,000 entries). Oracle: y = x² Σ(k + ½)², by hand."""
    n = 3_000
    prog = graphlang.parse("v = [" + ", ".join(f"{k}.5 * x" for k in range(n)) + "]\ny = sum(v * v)\n")
    s = sum((k + 0.5) ** 2 for k in range(n))
    for method in ("reverse", "forward", "symbolic"):
        assert prog.gradient({"x": 0.3}, method=method)["x"] == pytest.approx(2 * 0.3 * s, rel=1e-12)
    r = prog.evaluate({"x": 0.3})
    assert r.adjoints["v"] == pytest.approx([2 * 0.3 * (k + 0.5) for k in range(n)], rel=1e-12)
    assert prog.hessian({"x": 0.3})["x"]["x"] == pytest.approx(2 * s, rel=1e-12)


@pytest.mark.parametrize("text", [
    "y = " + "(" * 100_000 + "x" + ")" * 100_000,
    "y = " + "-" * 100_000 + "x",
    "y = " + "[" * 100_000 + "x" + "]" * 100_000,
    "y = " + "x ^ " * 50_000 + "x",
    "y = " + "sin(" * 50_000 + "x" + ")" * 50_000,
])
def test_deep_nesting_is_a_clean_limit_error(text):
    with pytest.raises(graphlang.GraphlangError) as info:
        graphlang.parse(text)
    assert info.value.kind == "limit" and info.value.line == 1
