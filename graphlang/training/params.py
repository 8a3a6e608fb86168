"""A program's parameters' first values, and the one way a user's seed becomes a generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.program import Program
from graphlang.training.data import check_declared


def init_params(program: Program, seed: int) -> dict[str, np.ndarray]:
    """Glorot/Xavier uniform for matrices, small uniform for vectors used as weights, zeros for biases.

    The declared shapes are checked against the limits before anything is allocated."""
    check_declared(program)
    rng = rng_from(seed)
    out = {}
    for name in program.params:
        shape = program.checked.declared.get(name) or ()
        if len(shape) >= 2:
            limit = np.sqrt(6.0 / (shape[0] + shape[-1]))
            out[name] = rng.uniform(-limit, limit, size=shape)
        elif len(shape) == 1 and not name.startswith("b"):
            limit = np.sqrt(6.0 / (shape[0] + 1))
            out[name] = rng.uniform(-limit, limit, size=shape)
        else:
            out[name] = np.zeros(shape)
    return out


def rng_from(seed: Any) -> np.random.Generator:
    """numpy's generator for a seed given by a user: a non-negative integer, or a `usage` error."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GraphlangError("usage", f"the seed must be a non-negative integer, got {seed!r}",
                             hint="e.g. --seed 0")
    return np.random.default_rng(int(seed))
