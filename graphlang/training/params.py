"""A program's parameters: their first values (and the one way a user's seed becomes a generator), that
it has some, and the part of it a prediction reads."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.program import Program
from graphlang.training.data import check_declared


def biases(program: Program) -> frozenset[str]:
    """The params that are only ever added or subtracted (`W @ x + b`, `dot(beta, z) + beta0`): biases,
    which start at zero and take no L2 penalty. Any other use (a product, a function) makes a weight,
    whatever its name or shape (the lecture's vector β of the output layer is a weight)."""
    g = program.graph
    slots = {g.slot_of[n]: n for n in program.params}
    rows = _bias_rows(program, slots)
    weights = {slots[a] for op, args in zip(g.ops, g.args) if op not in ("add", "sub")
               for a in args if a in slots and not (op == "concat" and a in rows)}
    read = {slots[a] for args in g.args for a in args if a in slots}
    return frozenset(read - weights)


def _bias_rows(program: Program, slots: dict[int, str]) -> set[int]:
    """The params that are one row of a `concat` (the lecture's α′ = [bᵀ; α]: the bias folded into
    the weights, a bias all the same: zeros first, no L2; a red team's b1 got Glorot values and decay)."""
    g = program.graph
    if not any(op == "concat" for op in g.ops):
        return set()
    try:
        shapes = g.shapes(tuple(program.checked.declared.get(n) or () for n in g.inputs))
    except GraphlangError:  # (shapes unknown without values: no param counted as a bias row)
        return set()
    return {a for op, args, out in zip(g.ops, g.args, g.outs) if op == "concat"
            for a in args if a in slots and len(shapes[a]) == len(shapes[out]) - 1}


def init_params(program: Program, seed: int) -> dict[str, np.ndarray]:
    """Glorot/Xavier uniform for weight matrices, small uniform for other weights, zeros for biases.

    The declared shapes are checked against the limits before anything is allocated."""
    check_declared(program)
    rng = rng_from(seed)
    out = {}
    bias = biases(program)
    for name in program.params:
        shape = program.checked.declared.get(name) or ()
        if name in bias:
            out[name] = np.zeros(shape)
        else:
            fan = (shape[0] + shape[-1]) if len(shape) >= 2 else (shape[0] + 1) if shape else 2
            limit = np.sqrt(6.0 / fan)
            out[name] = rng.uniform(-limit, limit, size=shape)
    return out


def rng_from(seed: Any) -> np.random.Generator:
    """numpy's generator for a seed given by a user: a non-negative integer, or a `usage` error."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GraphlangError("usage", f"the seed must be a non-negative integer, got {seed!r}",
                             hint="e.g. --seed 0")
    return np.random.default_rng(int(seed))


def require_params(program: Program) -> None:
    """A usage error for a program with nothing to train (checked before its data is read)."""
    if not program.params:
        inputs = program.inputs
        raise GraphlangError("usage", "the program declares no `param` to train", hint=(
            "train updates the `param`s and reads every `input` from the data's columns: declare the "
            "weights with param instead of input" + (f" (inputs now: {', '.join(inputs[:6])})" if inputs else "")
            + ", e.g. param W[4, 3], b[3]"))


def prediction_program(program: Program, pred: str) -> Program:
    """The statements the prediction reads, with their declarations, as a program of its own."""
    g = program.graph
    needed = g.read_by([g.slot_of[pred]])
    keep = {n for n in g.names if needed[g.slot_of[n]]}
    decl = program.checked.declared
    shape = {n: ("[" + ", ".join(map(str, decl.get(n) or ())) + "]") if decl.get(n) else "" for n in g.inputs}
    lines = [f"{'param' if n in g.params else 'input'} {n}{shape[n]}" for n in g.inputs if n in keep]
    lines += [f"{st.name} = {st.text}" for st in g.statements if st.name in keep]
    return Program("\n".join(lines + [f"output {pred}"]) + "\n", limits=program.limits)
