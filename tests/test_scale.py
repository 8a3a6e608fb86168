"""Scale without cliffs: the line-shape fast lane and the tape against the general paths.

Oracles: the template parser with the general `check` and graph (the lane must build the very
same statements, nodes, positions, slots and equations, and raise the very same located errors),
the interpreter (values, adjoints, domain errors) and the compiled scalar plan (the same float
arithmetic, every engine calling the rows' float functions on scalars: equal to the last bit).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import graphlang
from graphlang.engines import interpreter as interp
from graphlang.engines.fastpath import HUGE
from graphlang.engines.plan import Plan
from graphlang.engines.tape import Tape
from graphlang.errors import GraphlangError
from graphlang.ir.graph import Graph
from graphlang.language import parser
from graphlang.language.ast import tree_nodes
from graphlang.language.lines import parse_lines
from graphlang.language.resolve import check
from graphlang.language.templates import parse_fast
from graphlang.limits import Limits

BIG = Limits(max_statements=2_000_000, max_nodes=10_000_000, max_cost=10**15)
_FORMS = ["{a} + {b}", "{a} - {b}", "{a}*{b}", "{a} / (1 + {b} * {b})", "sin({a})", "cos( {a} )",
          "tanh({a})", "exp(sin({a}))", "log(1 + {a} * {a})", "-{a} + 2.5e-1*{b}", "({a} - {b})^2",
          "sqrt(1 + {a}*{a})", "sigmoid({a}) * {b}", "max({a}, {b})", "+{a}", "{a}", "0.5",
          "abs({a}) ** 2", "{a} * pi", "softplus({a}) - {b} / 3."]


def random_program(rnd: random.Random, n: int, inputs: int = 3, declare: bool = False) -> str:
    names = [f"x{k}" for k in range(inputs)]
    lines = [f"input {', '.join(names)}"] if declare else []
    for i in range(n):
        form = rnd.choice(_FORMS)
        a = rnd.choice(names[-8:]) if rnd.random() < .8 else rnd.choice(names)
        lines.append(f"{'  ' if rnd.random() < .05 else ''}v_{i} = " + form.format(a=a, b=rnd.choice(names)))
        if rnd.random() < .03:
            lines.append("")
        names.append(f"v_{i}")
    lines.append("y = " + " + ".join(names[-5:]))
    return "\n".join(lines) + "\n"


def _sig(statements: list) -> list:
    return [(st.kind, st.line, st.column, st.name, st.text,
             [(i.name, i.shape, i.line, i.column) for i in st.items],
             [(n.op, n.attr, n.line, n.column, n.end, len(n.args)) for n in tree_nodes(st.expr)]
             if st.expr is not None else None) for st in statements]


def _graph_sig(g: Graph) -> tuple:
    c = g.checked
    return (list(g.slot_of.items()), g.consts, g.stmt_eqns, g.n_slots, g.names, c.inputs, c.params,
            c.declared, c.decl_line, c.outputs, c.output_pos, list(c.first_use.items()),
            [(e.out, e.prim.name, e.ins, e.attr, e.line, e.column, e.stmt) for e in g.eqns],
            _sig(c.assigns))


@pytest.mark.parametrize("seed", range(6))
def test_lane_builds_what_the_template_parser_and_general_check_build(seed):
    text = random_program(random.Random(seed), 1200, declare=seed % 2 == 0)
    lane = parse_lines(text, BIG)
    assert lane is not None  # the lane took it
    plain = parse_fast(text, BIG)
    assert _sig(lane) == _sig(plain)
    assert _graph_sig(Graph(check(lane), BIG)) == _graph_sig(Graph(check(plain), BIG))


def test_a_different_number_on_every_line_is_parsed_as_without_the_lane():
    rnd = random.Random(5)
    text = "\n".join(f"v{i} = {rnd.random():.6f} * x + {i}" for i in range(3000)) + "\ny = v1 + v2\n"
    assert _sig(parser.parse_statements(text, BIG)) == _sig(parse_fast(text, BIG))


def test_a_very_long_line_is_parsed_alone_as_without_the_lane():
    """A 4,000-term statement had a builder generated for it (5 s for 10,000 terms, used once)."""
    from graphlang.language import lines
    long = "y = " + " + ".join(f"x * {k % 7}.25" for k in range(4000))
    text = "\n".join(f"v{i} = x * {i % 3}.5 + z" for i in range(2000)) + "\n" + long + "\n"
    lane = parse_lines(text, BIG)
    assert lane is not None and _sig(lane) == _sig(parse_fast(text, BIG))
    assert lines._shape(lines._NAME.sub("a", long), BIG)[0] is None  # no builder: parsed alone


def test_a_shape_seen_once_is_parsed_alone_and_one_seen_twice_gets_a_builder():
    """A red team's find: 199 statements a_i = a0 ± a1 … ± a_{i-1}, each of its own shape, had a builder
    generated and run once each (3.7 s; 0.4 s through the template parser). The oracle: the template
    parser's statements."""
    from graphlang.language import lines
    rnd = random.Random(11)
    dense = [f"a{i} = a0 " + " ".join(f"{rnd.choice('+-')} a{j}" for j in range(1, i)) for i in range(1, 120)]
    text = "\n".join(["a0 = x * 0.001", *dense, "b0 = x * z", "b1 = x * z"]) + "\n"
    lines._SHAPES.clear()
    lane = parse_lines(text, BIG)
    assert lane is not None and _sig(lane) == _sig(parse_fast(text, BIG))
    cached = lines._SHAPES[(BIG.max_depth, BIG.max_statement_tokens)]
    assert lines._NAME.sub("a", dense[-1]) not in cached  # once: no builder
    assert cached[lines._NAME.sub("a", "b1 = x * z")][0] is not None  # twice: a builder


_MISTAKES = ["q{i} = nosuch + 1", "q{i} = sine(x0)", "q{i} = sin(x0, x1)", "q{i} = v_{j} + later",
             "v_{j} = x0", "sin = x0", "q{i} = q{i} + 1", "q{i} = x0 + ", "q{i} = x0 $ 2",
             "q{i} = sum", "input = x0", "q{i} = exp(x0 * (1 + x1)", "pi = 3", "q{i} = 1e999 * x0",
             "later = 1", "q{i} = ((((x0))))", "output v_{j}", "q{i} = max(x0)", "q{i} = x0 + output",
             "q{i} = param * sin(input)", "input  q{i}", "q{i}=x0*x1   +  sin( x0 )", "q{i} = x0 @ x1"]


def _outcome(text: str, lane: bool, monkeypatch) -> tuple:
    with monkeypatch.context() as m:
        if not lane:
            m.setattr(parser, "parse_lines", lambda text, limits: None)
        try:
            p = graphlang.parse(text, limits=Limits(max_depth=3, max_statements=2_000_000))
        except GraphlangError as err:
            return ("error", err.kind, str(err), err.line, err.column, err.hint)
    return ("ok", _graph_sig(p.graph))


@pytest.mark.parametrize("mistake", _MISTAKES)
def test_mistakes_are_located_as_without_the_lane(mistake, monkeypatch):
    rnd = random.Random(mistake)
    lines = random_program(rnd, 900).splitlines()
    at = rnd.randrange(100, 800)
    lines.insert(at, mistake.format(i=at, j=rnd.randrange(1, at - 10)))
    lines.insert(rnd.randrange(at + 1, len(lines)), "later = x1")
    text = "\n".join(lines)
    assert len(text) > 20_000
    assert _outcome(text, True, monkeypatch) == _outcome(text, False, monkeypatch)


def _scalar_case(seed: int, n: int = 40) -> tuple[graphlang.Program, dict[str, float]]:
    rnd = random.Random(seed)
    prog = graphlang.parse(random_program(rnd, n))
    return prog, {name: rnd.uniform(-2, 2) for name in prog.inputs}


def check_tape_against_plan_and_interpreter(prog, at) -> tuple[list, list, list[int]] | None:
    """The tape bit for bit equal to the plan and to the interpreter: (values, adjoints, wrt)."""
    g = prog.graph
    arrays, shapes = prog.bind(at)
    tape = Tape(g)
    assert tape.usable(shapes)
    out = g.slot_of[g.outputs[0]]
    wrt = list(range(len(g.inputs)))
    ran = tape.run(arrays, out, wrt)
    try:
        vals = interp.forward(g, arrays)
        adj = interp.reverse(g, shapes, vals, {out: np.float64(1.0)}, g.reached_from(wrt))
    except GraphlangError:
        assert ran is None  # the tape leaves every failure to the interpreter
        return None
    if ran is None:  # an intermediate sum overflowed only in the tape's finiteness check
        return None
    V, G = ran
    assert V[out] == float(vals[out])
    for k in wrt:
        assert (G[k] is None) == (adj[k] is None)  # no path: no adjoint, in both
        if adj[k] is not None:
            assert G[k] == float(adj[k])
    value, grads = Plan(g, shapes).gradient(arrays)
    assert V[out] == value and [0.0 if G[k] is None else G[k] for k in wrt] == list(grads)
    return V, G, wrt


@pytest.mark.parametrize("seed", range(40))
def test_tape_is_the_plan_and_the_interpreter_bit_for_bit(seed):
    prog, at = _scalar_case(seed)
    check_tape_against_plan_and_interpreter(prog, at)


def _chain(n: int, last: str) -> str:
    lines = [f"a{i} = sin(a{i - 1}) + 0.5 * a{i - 1}" if i else "a0 = x * z" for i in range(n)]
    return "\n".join([*lines, last])


def test_big_program_gradient_and_evaluate_by_the_tape_match_the_interpreter():
    n = HUGE // 2 + 10  # two equations per statement: past HUGE, so the tape runs (no recursion)
    prog = graphlang.parse(_chain(n, f"y = a{n - 1} * z"))
    assert len(prog.graph.eqns) > HUGE
    at = {"x": 0.3, "z": -0.7}
    a, d = 0.3 * -0.7, np.array([-0.7, 0.3])
    for _ in range(1, n):
        a, d = math.sin(a) + 0.5 * a, (math.cos(a) + 0.5) * d
    grads = [prog.gradient(at) for _ in range(3)]  # first call, then the calls after it
    want = {"x": d[0] * -0.7, "z": d[1] * -0.7 + a}
    for gr in grads:
        assert gr == grads[0]
        assert gr["x"] == pytest.approx(want["x"], rel=1e-9) and gr["z"] == pytest.approx(want["z"], rel=1e-9)
    r = prog.evaluate(at)
    assert r.gradient == grads[0]
    g = prog.graph
    arrays, shapes = prog.bind(at)
    vals = interp.forward(g, arrays)
    adj = interp.reverse(g, shapes, vals, {g.slot_of["y"]: np.float64(1.0)}, prog._live, soft=prog._constant)
    for name in ("a0", f"a{n // 2}", f"a{n - 1}", "y", "x", "z"):
        s = g.slot_of[name]
        assert r.values[name] == float(vals[s])
        assert r.adjoints[name] == float(adj[s])


@pytest.mark.parametrize("last", ["y = log(a{m} - 10)", "y = a{m} / (a{m} - a{m})", "y = exp(1e6 * a{m} * a{m})"])
def test_big_program_domain_errors_are_the_interpreters(last):
    n = HUGE // 2 + 10
    prog = graphlang.parse(_chain(n, last.format(m=n - 1)))
    at = {"x": 0.3, "z": -0.7}
    with pytest.raises(GraphlangError) as tape_err:
        prog.gradient(at)
    with pytest.raises(GraphlangError) as interp_err:
        interp.forward(prog.graph, prog.bind(at)[0])
    assert (str(tape_err.value), tape_err.value.line, tape_err.value.column) == \
        (str(interp_err.value), interp_err.value.line, interp_err.value.column)
    with pytest.raises(GraphlangError) as eval_err:
        prog.evaluate(at)
    assert str(eval_err.value) == str(interp_err.value)
