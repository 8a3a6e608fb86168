"""Property tests on random programs: the four methods agree; vector outputs pass the dot test."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scalar_programs, tensor_programs

import graphlang

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fd_agrees(prog, at, rev) -> bool:
    """Central differences with the best of three steps (round-off vs truncation)."""
    best = {k: np.inf for k in rev}
    for eps in (1e-4, 1e-6, 1e-8):
        fd = prog.gradient(at, method="fd", epsilon=eps)
        for k in rev:
            err = np.max(np.abs(np.asarray(fd[k]) - np.asarray(rev[k])) /
                         (1e-8 + 1e-6 * np.abs(np.asarray(rev[k]))))
            best[k] = min(best[k], err)
    return all(b <= 1.0 for b in best.values())


@SETTINGS
@given(scalar_programs())
def test_scalar_programs_four_methods_agree(case):
    source, at = case
    prog = graphlang.parse(source)
    try:
        rev = prog.gradient(at)
    except graphlang.GraphlangError as err:
        assert err.kind == "domain"
        return
    assert_methods_agree(prog, at, rev, source)


def assert_methods_agree(prog, at, rev, source):
    for method in ("forward", "symbolic"):
        other = prog.gradient(at, method=method)
        for k in rev:
            np.testing.assert_allclose(other[k], rev[k], rtol=1e-9, atol=1e-12)
    assert fd_agrees(prog, at, rev), source


@SETTINGS
@given(tensor_programs())
def test_tensor_programs_reverse_matches_forward_and_fd(case):
    source, at = case
    prog = graphlang.parse(source)
    assert_methods_agree(prog, at, prog.gradient(at), source)


@SETTINGS
@given(tensor_programs(), st.integers(0, 2**32 - 1))
def test_vector_output_dot_product_test(case, seed):
    """⟨v, J u⟩ from forward mode equals ⟨Jᵀ v, u⟩ from reverse mode for a vector output."""
    source, at = case
    last = [ln.split(" = ")[0] for ln in source.splitlines()][-2] if source.count("\n") > 1 else None
    if last is None or not last.startswith("t"):
        return
    prog = graphlang.parse(source + f"output {last}, y\n")
    rng = np.random.default_rng(seed)
    jf = prog.evaluate(at, method="forward").jacobian
    jr = prog.evaluate(at, method="reverse").jacobian
    assert jf is not None and jr is not None
    for k in jf:
        x_shape = np.shape(at[k])
        u = rng.normal(size=x_shape)
        v = rng.normal(size=np.shape(jf[k])[-1])
        lhs = v @ np.tensordot(u, jf[k], axes=u.ndim)
        rhs = np.tensordot(u, jr[k] @ v, axes=u.ndim)
        assert np.isclose(lhs, rhs, rtol=1e-9, atol=1e-12)


@SETTINGS
@given(scalar_programs(kinks=True))
def test_kinked_programs_reverse_forward_symbolic_agree(case):
    """abs, relu, max, min: the three exact methods share the convention at kinks."""
    source, at = case
    prog = graphlang.parse(source)
    rev = prog.gradient(at)
    for method in ("forward", "symbolic"):
        other = prog.gradient(at, method=method)
        for k in rev:
            np.testing.assert_allclose(other[k], rev[k], rtol=1e-9, atol=1e-12)


@SETTINGS
@given(st.one_of(scalar_programs(kinks=True), tensor_programs()))
def test_compiled_plan_equals_interpreter(case):
    """The compiled straight-line code and the equation-loop interpreter give the same gradient."""
    source, at = case
    prog = graphlang.parse(source)
    try:
        slow = prog.evaluate(at).gradient
    except graphlang.GraphlangError as err:
        with pytest.raises(graphlang.GraphlangError) as info:
            prog.gradient(at)
        assert (info.value.kind, info.value.line) == (err.kind, err.line)
        return
    for _ in range(2):  # the second call runs the cached plan
        fast = prog.gradient(at)
        for k in slow:
            np.testing.assert_allclose(fast[k], slow[k], rtol=1e-12, atol=1e-300)
    assert prog._fast.plans, "the plan was compiled"


def test_compiled_plan_reports_domain_errors_like_the_interpreter():
    prog = graphlang.parse("a = x - 1\ny = ln(a) + exp(z)")
    assert prog.gradient({"x": 2.0, "z": 1.0})["x"] == 1.0
    for at, kind, line in (({"x": 1.0, "z": 1.0}, "domain", 2), ({"x": 2.0, "z": 1e3}, "domain", 2),
                           ({"x": float("nan"), "z": 1.0}, "value", None)):
        with pytest.raises(graphlang.GraphlangError) as info:
            prog.gradient(at)
        assert (info.value.kind, info.value.line) == (kind, line)
