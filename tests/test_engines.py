"""Table-driven, every primitive and probe: the engines agree with each other and with a loop.

The batched engine (vmap-style, used by training) must equal a Python loop over examples; the
compiled plan (`Program.gradient`'s fast path) must equal the interpreter; the rarely-taken
fallbacks (a plan split into chunks, Jacobian columns one at a time) are forced to run here.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from test_primitives import CASES, setup

import graphlang
from graphlang import methods
from graphlang.engines import interpreter as interp
from graphlang.engines import plan as plan_module
from graphlang.primitives.table import PRIMITIVES
from graphlang.primitives.vmap import Batch

BATCH = 3
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _adjoints(prog, arrays, shapes, batched):
    g = prog.graph
    vals = interp.forward(g, arrays, batched=batched)
    out = g.slot_of[g.outputs[0]]
    live = interp.depends_on_inputs(g)
    adj = interp.reverse(g, shapes, vals, {out: np.float64(1.0)}, live, batched=batched)
    return vals, adj


@pytest.mark.parametrize("name,probe", CASES, ids=[f"{n}:{p}" for n, p in CASES])
def test_batched_engine_equals_a_loop_over_examples(name, probe):
    prog, at = setup(name, probe, seed=11)
    g = prog.graph
    examples = []
    for b in range(BATCH):  # each example: the probe's inputs moved a little; the weights w are shared
        scale = 1.0 + 0.1 * b
        examples.append({k: (v * scale if k != "w" else v) for k, v in at.items()})
    arrays0, shapes = prog.bind(examples[0])
    batched_inputs = [n for n in g.inputs if n != "w"]
    arrays = [Batch(np.stack([np.asarray(e[n], dtype=float) for e in examples])) if n in batched_inputs
              else np.asarray(at[n], dtype=float) for n in g.inputs]
    vals, adj = _adjoints(prog, arrays, shapes, batched=True)
    w_total = np.zeros(np.shape(at["w"]))
    for b, e in enumerate(examples):
        one, _ = prog.bind(e)
        v1, a1 = _adjoints(prog, one, shapes, batched=False)
        y = g.slot_of[g.outputs[0]]
        got_y = vals[y].v[b] if isinstance(vals[y], Batch) else vals[y]
        np.testing.assert_allclose(got_y, v1[y], rtol=1e-12, atol=1e-12)
        for n in batched_inputs:
            s = g.slot_of[n]
            if a1[s] is not None:
                np.testing.assert_allclose(adj[s].v[b] if isinstance(adj[s], Batch) else adj[s], a1[s],
                                           rtol=1e-10, atol=1e-12, err_msg=n)
        w = g.slot_of["w"]
        if a1[w] is not None:
            w_total = w_total + a1[w]
    w = g.slot_of["w"]
    if adj[w] is not None:  # a shared parameter's adjoint sums the batch
        np.testing.assert_allclose(adj[w], w_total, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,probe", CASES, ids=[f"{n}:{p}" for n, p in CASES])
def test_compiled_plan_equals_the_interpreter(name, probe):
    prog, at = setup(name, probe, seed=3)
    want = prog.evaluate(at).gradient
    prog.gradient(at)  # the first call may interpret; the second runs the compiled plan
    got = prog.gradient(at)
    assert prog._fast.plans, "the compiled plan was not built"
    for n in want:
        np.testing.assert_allclose(got[n], want[n], rtol=1e-12, atol=1e-12, err_msg=n)


def test_a_plan_split_into_chunks_equals_one_function(monkeypatch):
    lines = ["a0 = x * z"] + [f"a{i} = sin(a{i - 1}) + a{i - 1} * z" for i in range(1, 40)]
    source = "\n".join(lines)
    at = {"x": 0.7, "z": 0.3}
    whole = graphlang.parse(source)
    want = whole.evaluate(at).gradient
    monkeypatch.setattr(plan_module, "CHUNK", 7)
    chunked = graphlang.parse(source)
    chunked.gradient(at)
    got = chunked.gradient(at)
    assert chunked._fast.plans
    for n in want:
        assert got[n] == pytest.approx(want[n], rel=1e-12)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_columns_one_at_a_time_equal_the_batched_columns(monkeypatch, mode):
    prog = graphlang.parse("input x[3], W[2, 3]\nh = tanh(W @ x)\ny = h * sum(x)\noutput y, h")
    at = {"x": [0.3, -0.2, 0.5], "W": [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]]}
    batched = prog.jacobian(at, mode=mode)
    monkeypatch.setattr(methods.jacobians, "MAX_BATCHED_ELEMENTS", 0)  # too large to batch: one column at a time
    looped = prog.jacobian(at, mode=mode)
    fd = prog.jacobian(at, mode="fd")
    for n in batched:
        np.testing.assert_allclose(looped[n], batched[n], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(batched[n], fd[n], rtol=1e-6, atol=1e-8)


def test_scalar_implementations_match_numpy():
    rng = np.random.default_rng(0)
    for name, prim in PRIMITIVES.items():
        if prim.scalar is None or prim.attr_args or prim.arity < 1:
            continue
        for _ in range(20):
            args = [float(v) for v in rng.uniform(0.2, 2.0, prim.arity)]
            if not prim.positive:
                args = [float(a * rng.choice([-1.0, 1.0])) for a in args]
            want = float(np.ravel(prim.impl(*[np.array([a]) for a in args]))[0])  # numpy's (0-d: the float path)
            assert prim.scalar(*args) == pytest.approx(want, rel=1e-14, abs=1e-300), (name, args)


def test_a_row_that_lacks_a_fact_is_refused():
    from graphlang.primitives import shapes as S
    from graphlang.primitives.table import Primitive
    with pytest.raises(TypeError, match="scalar"):
        Primitive("twice", 1, lambda x: 2 * x, lambda s, a: s[0], partials=("2",), latex="2{0}", doc="2u")
    with pytest.raises(TypeError, match="batch"):
        Primitive("first", 1, lambda x: x[0], S.to_scalar, vjp=("g",), jvp=("t",), latex="{0}_1", doc="u[0]",
                   cost=S.linear_cost)
    with pytest.raises(TypeError, match="cost"):
        Primitive("first", 1, lambda x: x[0], S.to_scalar, vjp=("g",), jvp=("t",), latex="{0}_1", doc="u[0]",
                   batch=lambda a: a)


def test_the_ir_prints_every_equation_with_its_slots_and_shapes():
    prog = graphlang.parse("input x[3], W[2, 3]\nh = W @ x\ny = sum(h * h)")
    text = str(prog.graph)
    lines = text.splitlines()
    assert lines[0] == "v0 = input x : [3]" and lines[1] == "v1 = input W : [2, 3]"
    assert any(line.startswith("v2 = matmul v1 v0 : [2]") and "# h = W @ x" in line for line in lines)
    assert lines[-1] == f"outputs v{prog.graph.slot_of['y']} (y)"
    # every equation appears once, in order
    eq_lines = [line for line in lines if " = " in line and not line.split(" = ")[1].startswith(("input", "const"))]
    assert [line.split(" = ")[1].split()[0] for line in eq_lines] == [eq.prim.name for eq in prog.graph.eqns]


def test_graphlang_ir_command(cli):
    ran = cli("ir", str(ROOT / "programs" / "lecture13.cg"), "--at", "x=2,z=3")
    assert ran.code == 0
    assert "v2 = mul v0 v1 : scalar" in ran.out and "# a = x * z" in ran.out


def test_ir_writes_one_equation_per_line_however_long(cli, write):
    """A docs red team's find: piped, `ir` wrapped at 80 columns, and a script reading one equation
    per line read a comment `(line 3)` as a line of its own."""
    source = "input x, y\nyhat = sigmoid(x)\nJ = -(y * ln(yhat) + (1 - y) * ln(1 - yhat)) + 0 * x * x * x * x\n"
    lines = cli("ir", write(source), "--at", "x=0.3,y=1").out.splitlines()
    assert any(len(line) > 80 for line in lines)
    assert all(" = " in line or line.startswith("outputs") for line in lines), lines
