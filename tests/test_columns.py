"""The graph's equations as columns, and the tape that reads them, against independent oracles.

The oracle lowering below is the per-statement walk the graph made before it kept columns (one
`Eqn` per operator node of each resolved tree, constants shared by value); the tape is compared
with the compiled plan bit for bit and with the interpreter, on programs the fast lane builds
(long ones) and on programs the template parser builds.
"""

from __future__ import annotations

import random

import pytest

import graphlang
from graphlang.engines import interpreter as interp
from graphlang.engines.fastpath import TAPE_FROM
from graphlang.errors import GraphlangError
from graphlang.ir.graph import Eqn, Graph
from graphlang.language import parser
from graphlang.language.ast import tree_nodes
from graphlang.language.lines import parse_lines
from graphlang.primitives.table import PRIMITIVES
from tests.test_scale import BIG, check_tape_against_plan_and_interpreter, random_program


def _oracle(g: Graph) -> tuple[list[tuple], dict[int, float], dict[str, int], list[tuple[int, int]]]:
    """Equations, constants, slots and each statement's equations by walking its resolved tree."""
    slot_of = {n: k for k, n in enumerate(g.inputs)}
    consts: dict[int, float] = {}
    by_value: dict[str, int] = {}
    eqns: list[tuple] = []
    ranges: list[tuple[int, int]] = []
    n = len(g.inputs)
    for k, st in enumerate(g.statements):
        start = len(eqns)
        at: dict[int, int] = {}
        made = 0
        for node in tree_nodes(st.expr):
            if node.op == "var":
                at[id(node)] = slot_of[node.attr]
            elif node.op == "const":
                key = repr(float(node.attr))
                if key not in by_value:
                    by_value[key], consts[n] = n, float(node.attr)
                    n += 1
                at[id(node)] = by_value[key]
            else:
                eqns.append((n, node.op, tuple(at[id(a)] for a in node.args), node.attr,
                             node.line or st.line, node.column or st.column, k))
                at[id(node)] = n
                n += 1
                made += 1
        root = at[id(st.expr)]
        if not made:
            eqns.append((n, "id", (root,), None, st.line, st.column, k))
            root, n = n, n + 1
        slot_of[st.name] = root
        ranges.append((start, len(eqns)))
    return eqns, consts, slot_of, ranges


def _rows(g: Graph) -> list[tuple]:
    return [(e.out, e.prim.name, e.ins, e.attr, e.line, e.column, e.stmt) for e in g.eqns]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("lane", [True, False])
def test_columns_are_the_per_statement_lowering(seed, lane, monkeypatch):
    text = random_program(random.Random(seed), 1500 if lane else 200, declare=seed % 2 == 0)
    if lane:
        assert parse_lines(text, BIG) is not None  # the fast lane builds it
    else:
        monkeypatch.setattr(parser, "parse_lines", lambda text, limits: None)
    g = graphlang.parse(text, limits=BIG).graph
    eqns, consts, slot_of, ranges = _oracle(g)
    assert _rows(g) == eqns and g.consts == consts and g.slot_of == slot_of and g.stmt_eqns == ranges
    columns = [g.outs, g.ops, g.args, g.attrs, g.lines, g.columns, g.stmts]
    assert [list(c) for c in zip(*columns)] == [list(e) for e in eqns]
    assert g.n_eqns == len(eqns) and all(isinstance(e, Eqn) and e.prim is PRIMITIVES[e.prim.name] for e in g.eqns)
    assert g.name_of == {g.slot_of[n]: n for n in g.names}
    assert all(g.statement(st.name) is st for st in g.statements)
    # reachability over the columns, as a loop over the equation objects computes it
    for sources in ([0], list(range(len(g.inputs))), sorted(set(g.slot_of.values()))[-5:]):
        want = [False] * g.n_slots
        for s in sources:
            want[s] = True
        for e in g.eqns:
            want[e.out] = want[e.out] or any(want[i] for i in e.ins)
        assert g.reached_from(sources) == want
    needed = [False] * g.n_slots
    needed[g.slot_of[g.outputs[0]]] = True
    for e in reversed(g.eqns):
        if needed[e.out]:
            for i in e.ins:
                needed[i] = True
    assert g.read_by([g.slot_of[g.outputs[0]]]) == needed


@pytest.mark.parametrize("seed", range(12))
def test_tape_on_a_long_program_is_the_plan_bit_for_bit(seed):
    rnd = random.Random(seed)
    prog = graphlang.parse(random_program(rnd, 1200), limits=BIG)
    g = prog.graph
    assert g.n_eqns > TAPE_FROM
    at = {name: rnd.uniform(-2, 2) for name in prog.inputs}
    checked = check_tape_against_plan_and_interpreter(prog, at)
    if checked is None:
        return
    _, G, wrt = checked
    assert prog.gradient(at) == {n: 0.0 if G[k] is None else G[k] for k, n in zip(wrt, g.inputs)}


@pytest.mark.parametrize("bad", ["q = log(v_{j} - v_{j})", "q = 1 / (v_{j} - v_{j})", "q = sqrt(-1 - v_{j} * v_{j})"])
def test_a_long_programs_domain_error_is_located_as_by_the_interpreter(bad):
    rnd = random.Random(bad)
    lines = random_program(rnd, 1200).splitlines()
    j = rnd.randrange(100, 1000)
    lines.insert(-1, bad.format(j=j))
    lines[-1] = lines[-1] + " + q"
    prog = graphlang.parse("\n".join(lines) + "\n", limits=BIG)
    at = {name: 0.5 for name in prog.inputs}
    with pytest.raises(GraphlangError) as by_gradient:
        prog.gradient(at)
    with pytest.raises(GraphlangError) as by_interpreter:
        interp.forward(prog.graph, prog.bind(at)[0])
    assert (str(by_gradient.value), by_gradient.value.line, by_gradient.value.column) == \
        (str(by_interpreter.value), by_interpreter.value.line, by_interpreter.value.column)
    assert by_gradient.value.line == len(lines) - 1


@pytest.mark.parametrize("seed", range(30))
def test_long_lines_and_names_are_located_as_by_the_full_scans(seed, monkeypatch):
    """`_check_text` skips its two scans when every line is short: the errors it reports are those
    the scans find when always run (the oracle: the scans alone, on the same text)."""
    rnd = random.Random(seed)
    lines = random_program(rnd, 300).splitlines()
    at = rnd.randrange(len(lines))
    word = "v" * rnd.choice([100, 256, 257, 300])
    lines[at] = rnd.choice([f"q = {word} + 1", f"# {word}", f"q = x0 + {'1' * len(word)}.5", lines[at] + " " * 40])
    text = "\n".join(lines) + "\n"
    limits = graphlang.Limits(max_line_chars=rnd.choice([50, 200, 280, 10_000]))
    try:
        parser._check_text(text, limits)
        got = None
    except GraphlangError as err:
        got = (str(err), err.line, err.column)
    line = parser._long_run(text, "[^\n]", limits.max_line_chars)
    token = parser._long_run(text, "[A-Za-z0-9_.]", limits.max_token_chars)
    while token is not None and "#" in text[text.rfind("\n", 0, token) + 1: token]:
        end = text.find("\n", token)
        token = None if end < 0 else parser._long_run(text, "[A-Za-z0-9_.]", limits.max_token_chars, end)
    want = line if line is not None else token
    assert (got is None) == (want is None)
    if want is not None:
        assert got[1:] == parser.position(text, want)
