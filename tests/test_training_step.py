"""The compiled SGD step: lr·∇ equal to the interpreter's gradient times lr, per example and in a
batch, with matrix gradients written into kept buffers, and no parameter-sized allocation per step."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import graphlang
from graphlang.engines import interpreter as interp
from graphlang.primitives.vmap import Batch
from graphlang.training import Dataset, Trainer, init_params
from graphlang.training.step import Step

NET = """
input x[20], t[3]
param A1[20, 16], b1[16], A2[16, 3], b2[3]
z1 = sigmoid(A1.T @ x + b1)
yhat = softmax(A2.T @ z1 + b2)
J = -sum(t * ln(yhat))
"""
# A1 used twice (its adjoint accumulates), and a transposed use (W @ z, not W.T @ z).
TWICE = """
input x[6], y
param A1[6, 5], W[4, 5], v[4]
h = tanh(A1.T @ x) + 0.5 * (A1.T @ x)
r = dot(v, W @ h) - y
J = r * r
"""
SCALAR = "input x, y\nparam w, b\nr = w * x + b - y\nJ = r * r\n"


def data(program, n, seed=0):
    rng = np.random.default_rng(seed)
    cols = {}
    for name in program.inputs:
        if name in program.params:
            continue
        shape = program.checked.declared.get(name) or ()
        cols[name] = rng.normal(size=(n, *shape))
    if "t" in cols:
        cols["t"] = np.eye(cols["t"].shape[1])[rng.integers(0, cols["t"].shape[1], n)]
    return Dataset(cols, n)


def interpreted(program, params, d, idx, seed):
    """seed·∇ of the loss from the interpreter (the oracle: no generated code)."""
    g = program.graph
    batched = not isinstance(idx, int)
    arrays = [params[n] if n in g.params else (Batch(d.columns[n][idx]) if batched else d.columns[n][idx])
              for n in g.inputs]
    shapes = program.bind({n: (params[n] if n in g.params else d.columns[n][0]) for n in g.inputs})[1]
    vals = interp.forward(g, arrays, batched=batched)
    out = g.slot_of[g.outputs[0]]
    adj = interp.reverse(g, shapes, vals, {out: seed}, interp.depends_on_inputs(g), batched=batched)
    return {n: adj[g.slot_of[n]] for n in program.params}


@pytest.mark.parametrize("source", [NET, TWICE, SCALAR])
@pytest.mark.parametrize("batch", [1, 5])
def test_compiled_step_equals_the_interpreter_times_the_seed(source, batch):
    program = graphlang.parse(source)
    params = init_params(program, seed=3)
    d = data(program, 12)
    g = program.graph
    shapes = program.bind({n: (params[n] if n in g.params else d.columns[n][0]) for n in g.inputs})[1]
    wrt = [k for k, n in enumerate(g.inputs) if n in g.params]
    rest = [k for k, n in enumerate(g.inputs) if n not in g.params]
    step = Step(g, shapes, wrt, rest, batch > 1)
    for call, start in enumerate((0, 5)):  # twice: the second call reuses the buffers
        idx = np.arange(start, start + batch) if batch > 1 else start
        seed = Batch(np.full(batch, 0.3 / batch)) if batch > 1 else np.float64(0.3)
        arrays = [params[n] if n in g.params else (Batch(d.columns[n][idx]) if batch > 1 else d.columns[n][idx])
                  for n in g.inputs]
        _, grads = step(arrays, seed)
        want = interpreted(program, params, d, idx, seed)
        for n, got in zip([n for n in g.inputs if n in g.params], grads):
            np.testing.assert_allclose(got, want[n], rtol=1e-12, atol=1e-15, err_msg=f"{n}, call {call}")


def test_matrix_gradients_are_written_into_kept_buffers():
    program = graphlang.parse(NET)
    params = init_params(program, seed=1)
    d = data(program, 4)
    g = program.graph
    shapes = program.bind({n: (params[n] if n in g.params else d.columns[n][0]) for n in g.inputs})[1]
    wrt = [k for k, n in enumerate(g.inputs) if n in g.params]
    step = Step(g, shapes, wrt, [k for k in range(len(g.inputs)) if k not in wrt], False)
    assert len(step.buffers) == 2  # A1 and A2: outer products
    arrays = [params[n] if n in g.params else d.columns[n][0] for n in g.inputs]
    first = step(arrays, np.float64(1.0))[1][0]
    second = step(arrays, np.float64(1.0))[1][0]
    assert first is second and any(first is b for b in step.buffers)


@pytest.mark.parametrize("batch", [1, 4])
def test_a_step_allocates_nothing_of_a_weight_matrix_size(batch):
    """So its speed does not depend on the C allocator's settings (counted by tracemalloc; numpy's
    ufunc iterator keeps ≈ 130 KB of buffers whatever the size)."""
    program = graphlang.parse(NET.replace("20", "600").replace("16", "400"))
    params = init_params(program, seed=0)
    d = data(program, 16)
    trainer = Trainer(program, params, lr=0.1, batch=batch)
    idx = np.arange(4, 4 + batch) if batch > 1 else 4
    trainer.step(d, idx)
    tracemalloc.start()
    try:
        trainer.step(d, idx)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert trainer.params["A1"].nbytes == 1_920_000
    assert peak < trainer.params["A1"].nbytes / 4


def test_step_and_epoch_without_fit_equal_fit():
    program = graphlang.parse(NET)
    P0 = init_params(program, seed=2)
    d = data(program, 24)
    a = Trainer(program, {k: v.copy() for k, v in P0.items()}, lr=0.2, batch=4, seed=5)
    a.fit(d, epochs=1)
    b = Trainer(program, {k: v.copy() for k, v in P0.items()}, lr=0.2, batch=4, seed=5)
    b.compile(d)
    b.epoch(d, np.random.default_rng(5), 1)
    for k in P0:
        np.testing.assert_array_equal(a.params[k], b.params[k])


@pytest.mark.parametrize("source", [NET, TWICE, SCALAR])
def test_training_without_a_compiled_step_gives_the_same_parameters_one_example_at_a_time(source):
    """A program that does not compile (past its memory limit) trains on the interpreter: seeded
    with lr as the compiled step is, it must reach the same bits (lr·∇ and ∇·lr differed by 3e-15
    after two epochs). Oracle: the compiled run of the same epochs."""
    program = graphlang.parse(source)
    P0 = init_params(program, seed=4)
    d = data(program, 16)
    runs = []
    for compiled in (True, False):
        t = Trainer(program, {k: v.copy() for k, v in P0.items()}, lr=0.02, batch=1, seed=1)
        if not compiled:
            t._plans = {False: None, True: None}  # as when compiling is refused
        t.fit(d, epochs=2)
        runs.append(t.params)
    for k in P0:
        np.testing.assert_array_equal(runs[0][k], runs[1][k], err_msg=k)


def test_an_update_past_float64_is_said_as_such_whether_or_not_the_step_compiled():
    """A reviewer's find: seeded with lr, the interpreter reported lr·∇ = 2e310 as a derivative
    overflow ("computing the derivative of '*' … overflows") where the true derivative, 2e300, is
    finite; the compiled step said "the update of the parameter w overflows". Oracle: the compiled
    run's own message, and 2·r·x = 2e300 by hand."""
    program = graphlang.parse(SCALAR)
    d = Dataset({"x": np.array([1e150]), "y": np.array([0.0])}, 1)
    said = []
    for compiled in (True, False):
        t = Trainer(program, {"w": np.float64(1.0), "b": np.float64(0.0)}, lr=1e10, batch=1, seed=1)
        if not compiled:
            t._plans = {False: None, True: None}
        with pytest.raises(graphlang.GraphlangError) as info:
            t.fit(d, epochs=1)
        said.append(info.value.message)
    assert said[0] == said[1] and "the update of the parameter w overflows" in said[0]
