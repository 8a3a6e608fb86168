"""A program's parameters' first values, and the one way a user's seed becomes a generator."""

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
    weights = {slots[a] for op, args in zip(g.ops, g.args) if op not in ("add", "sub")
               for a in args if a in slots}
    read = {slots[a] for args in g.args for a in args if a in slots}
    return frozenset(read - weights)


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
