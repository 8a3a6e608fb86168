"""Table-driven: every primitive's reverse and forward rules against central differences.

Each row of the primitive table carries probe expressions; a new row is picked up here.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import graphlang
from graphlang.primitives.table import PRIMITIVES

CASES = [(name, probe) for name, prim in PRIMITIVES.items() for probe in prim.examples()]


def sample(rng: np.random.Generator, shape: tuple[int, ...], positive: bool) -> np.ndarray:
    mag = rng.uniform(0.3, 1.2, size=shape)
    return mag if positive else mag * rng.choice([-1.0, 1.0], size=shape)


def central(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The test's own finite differences: only forward evaluations, no derivative rules."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        grad[idx] = (f(xp) - f(xm)) / (2 * h)
    return grad


def setup(name: str, probe: str, seed: int):
    rng = np.random.default_rng(seed)
    prim = PRIMITIVES[name]
    base = {"u": sample(rng, (3,), prim.positive), "v": sample(rng, (3,), prim.positive),
            "M": sample(rng, (2, 3), prim.positive), "s": sample(rng, (), prim.positive)}
    inner = graphlang.parse(f"r = {probe}")
    assert any(eq.prim.name == name for eq in inner.graph.eqns), f"probe {probe!r} does not use {name}"
    at = {k: base[k] for k in inner.inputs}
    r = np.asarray(inner.forward(at)["r"])
    weights = rng.normal(size=r.shape)
    prog = graphlang.parse(f"r = {probe}\ny = sum(r * w)")
    return prog, {**at, "w": weights}


@pytest.mark.parametrize("name,probe", CASES, ids=[f"{n}:{p}" for n, p in CASES])
def test_reverse_rule_matches_central_differences(name, probe):
    prog, at = setup(name, probe, seed=zlib.crc32(probe.encode()))
    grad = prog.gradient(at)
    for k in prog.inputs:
        if k == "w":
            continue
        def f(x, k=k):
            return prog.forward({**at, k: x})["y"]
        want = central(f, np.asarray(at[k], dtype=float))
        np.testing.assert_allclose(grad[k], want, rtol=1e-6, atol=1e-7, err_msg=f"{probe} d/d{k}")


@pytest.mark.parametrize("name,probe", CASES, ids=[f"{n}:{p}" for n, p in CASES])
def test_forward_rule_matches_reverse_rule(name, probe):
    prog, at = setup(name, probe, seed=1 + zlib.crc32(probe.encode()))
    rev = prog.gradient(at, method="reverse")
    fwd = prog.gradient(at, method="forward")
    for k in prog.inputs:
        np.testing.assert_allclose(fwd[k], rev[k], rtol=1e-12, atol=1e-12, err_msg=f"{probe} d/d{k}")


@pytest.mark.parametrize("name,probe", CASES, ids=[f"{n}:{p}" for n, p in CASES])
def test_symbolic_program_matches_reverse(name, probe):
    prog, at = setup(name, probe, seed=2 + zlib.crc32(probe.encode()))
    rev = prog.gradient(at, method="reverse")
    sym = prog.gradient(at, method="symbolic")
    for k in prog.inputs:
        np.testing.assert_allclose(sym[k], rev[k], rtol=1e-10, atol=1e-12, err_msg=f"{probe} d/d{k}")


def test_every_public_function_is_documented_and_printable():
    from graphlang.language.ast import postorder
    from graphlang.symbolic.algebra import to_latex, to_text
    for name, prim in PRIMITIVES.items():
        for probe in prim.examples():
            e = graphlang.parse(f"r = {probe}").graph.statements[0].expr
            assert to_text(e) and to_latex(e)
            # the printed text parses back to the same primitives
            again = graphlang.parse(f"r = {to_text(e)}").graph.statements[0].expr
            assert [n.op for n in postorder(again)] == [n.op for n in postorder(e)], probe
        if prim.public and prim.form[0] == "call":
            assert prim.doc or prim.name in ("exp",), name
