"""The derivative program's graph built from its expressions (symbolic/derivgraph.py) is the graph of its
printed text parsed again (the oracle: the old path, `build(derivative_program(...))`): the same inputs,
declarations, constants and equations in the same order, so the same numbers; and where the text would
not parse (a parser limit), the direct path declines (None) rather than compute what the text refuses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import PROGRAMS
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import edge_programs, scalar_programs, tensor_programs
from test_differential import programs

import graphlang
from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.ir.bind import bind_graph
from graphlang.ir.graph import Graph, build
from graphlang.limits import Limits
from graphlang.symbolic.derivative import derivative_program
from graphlang.symbolic.derivgraph import derivative_graph

SETTINGS = settings(max_examples=150, deadline=None)


def signature(g: Graph) -> tuple[Any, ...]:
    return (g.inputs, g.outputs, g.checked.declared, sorted(g.consts.items()), g.n_slots, g.stmt_eqns, g.slot_of,
            g.names, [(e.out, e.prim.name, e.ins, type(e.attr), e.attr) for e in g.eqns])


def both(prog: graphlang.Program, values: dict[str, Any], wrt: list[str] | None,
         limits: Limits | None = None) -> tuple[Graph | GraphlangError, Graph | None]:
    """(the graph of the printed text, or its error; the graph built directly, or None)."""
    shapes = prog.bind(values)[1]
    text = derivative_program(prog, shapes, wrt, header=False)
    if limits is None:  # as `grad -m symbolic` parses it (`hessian` keeps the program's limits)
        limits = prog.limits.with_(max_source_chars=max(prog.limits.max_source_chars, 4 * len(text)))
    try:
        old: Graph | GraphlangError = build(text, limits)
    except GraphlangError as err:
        old = err
    return old, derivative_graph(prog, shapes, wrt, limits)


def check(source: str, values: dict[str, Any], limits: Limits | None = None) -> None:
    try:
        prog = graphlang.parse(source)
        prog.bind(values)
    except GraphlangError:
        return
    for wrt in [None, prog.inputs[:1]]:
        try:
            old, new = both(prog, values, wrt, limits)
        except GraphlangError:  # expression swell: refused before either is built
            continue
        if new is None:
            continue
        assert isinstance(old, Graph), f"the text is refused ({old.message}) but the direct path built it"
        assert signature(new) == signature(old)
        at = {n: np.asarray(v, dtype=float) for n, v in values.items()}
        at.update({n: np.ones(new.checked.declared.get(n) or ()) for n in new.inputs if n not in at})  # seeds
        try:
            want = interp.forward(old, bind_graph(old, at)[0])
        except GraphlangError:
            continue
        got = interp.forward(new, bind_graph(new, at)[0])
        for s in (old.slot_of[n] for n in old.outputs):
            assert np.array_equal(np.asarray(got[s]), np.asarray(want[s]), equal_nan=True)


@SETTINGS
@given(st.one_of(scalar_programs(max_statements=12), tensor_programs(), edge_programs()))
def test_random_programs_give_the_parsed_graph(case: tuple[str, dict[str, Any]]) -> None:
    check(*case)


@SETTINGS
@given(programs())
def test_every_primitive_gives_the_parsed_graph(prog: Any) -> None:
    check(prog.source(), {n: v.copy() for n, v in prog.values.items()})


TIGHT = [Limits(max_depth=3), Limits(max_depth=6), Limits(max_line_chars=40), Limits(max_statement_tokens=12),
         Limits(max_token_chars=3), Limits(max_statements=8), Limits(max_source_chars=300),
         Limits(max_nodes=40)]


@settings(max_examples=60, deadline=None)
@given(scalar_programs(max_statements=8), st.sampled_from(TIGHT))
def test_where_the_parser_would_refuse_the_text_the_direct_path_declines(case: tuple[str, dict[str, Any]],
                                                                         limits: Limits) -> None:
    check(*case, limits=limits)


@pytest.mark.parametrize("source", ["y = x^-2 + (-2)^x * -0.0 + 1e-300 * x", "y = sum(W @ v * -1e300) + v[1]",
                                    "y = (a + b + c + a * b * c) ^ a ^ b - -a"])
def test_signs_powers_and_literals(source: str) -> None:
    at = {"x": 0.7, "W": [[1.0, 2.0], [3.0, -4.0]], "v": [0.5, -1.5], "a": 1.1, "b": 0.3, "c": 2.0}
    prog = graphlang.parse(source)
    check(source, {n: at[n] for n in prog.inputs})


@SETTINGS
@given(st.one_of(scalar_programs(max_statements=12), tensor_programs()))
def test_printed_sizes_counted_with_a_shared_memo_are_the_sizes(case: tuple[str, dict[str, Any]]) -> None:
    from graphlang.symbolic import adjoint
    from graphlang.symbolic.derivative import printed_size
    source, values = case
    prog = graphlang.parse(source)
    adj = adjoint.build(prog.graph, prog.bind(values)[1])
    exprs = [e for ts in adj.terms.values() for t in ts for e in (t.expr, t.partial) if e is not None]
    memo: dict[int, int] = {}
    assert [printed_size(e, memo) for e in exprs + exprs] == [printed_size(e) for e in exprs + exprs]


def test_a_derivative_program_written_for_scalars_refuses_tensors():
    """`diff --program` of y = sum(s * v + s^2) (no shapes declared, no --at: scalars assumed) wrote
    `input s, v`; run with v = [1, 2, 3, 4] it gave g_s = [4, 5, 6, 7] where the gradient is 22 (a
    user test). Now `input s[], v[]`: a tensor is a shape error. Oracle: at scalars the derivative
    program agrees with reverse mode; with v declared a vector, g_s = Σ v + 2·4·s (by hand)."""
    prog = graphlang.parse("y = sum(s * v + s ^ 2)\n")
    text = _written(prog)
    assert "input s[], v[]" in text
    d = graphlang.parse(text)
    with pytest.raises(graphlang.GraphlangError) as info:
        d.evaluate({"s": 1.5, "v": [1, 2, 3, 4]})
    assert info.value.kind == "shape"
    got = d.evaluate({"s": 1.5, "v": 2.0}).values
    want = prog.gradient({"s": 1.5, "v": 2.0})
    assert got["g_s"] == pytest.approx(want["s"]) and got["g_v"] == pytest.approx(want["v"])
    vec = graphlang.parse("input s, v[4]\ny = sum(s * v + s ^ 2)\n")
    g_s = graphlang.parse(_written(vec)).evaluate({"s": 1.5, "v": [1, 2, 3, 4]}).values["g_s"]
    assert g_s == pytest.approx(10 + 2 * 4 * 1.5)
    assert "input x, z\n" in _written(graphlang.load(PROGRAMS / "lecture13.cg"))  # all scalar: as written


def _written(prog):
    """`graphlang diff --program` without --at: the declared shapes, else scalars."""
    from graphlang.symbolic.derivative import derivative_program
    shapes = prog.graph.shapes(tuple(prog.checked.declared.get(n) or () for n in prog.inputs))
    return derivative_program(prog, shapes)
