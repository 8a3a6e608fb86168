"""Forward mode's tangents as answers: `da/dx` is ȧ in the tangent pass seeded at the input x (the
total derivative of the node a by x), as `explain --mode forward` shows it. Asked by name, or all of
them with the group `tangents` (every node but the output, by every scalar input); the output's own
tangent `dy/dx` is the gradient, graded as such."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.program import Program

_KEY = re.compile(r"^\s*(?:d(?P<a>\w+)/d|∂(?P<b>\w+)/∂)(?P<x>\w+)\s*$")


def tangent_key(key: str, prog: Program) -> str | None:
    """`da/dx` (or `∂a/∂x`) for a node a that is not an output and an input x; else None."""
    m = _KEY.match(key)
    if m is None:
        return None
    node, x = m.group("a") or m.group("b"), m.group("x")
    if node in prog.names and node not in prog.inputs and node not in prog.outputs and x in prog.inputs:
        return f"d{node}/d{x}"
    return None


def group(prog: Program, at: Mapping[str, Any]) -> list[str]:
    """The `tangents` group: every node but the inputs and outputs, by each scalar input, pass by pass."""
    nodes = [n for n in prog.names if n not in prog.inputs and n not in prog.outputs]
    return [f"d{n}/d{x}" for x in prog.inputs if np.ndim(at.get(x, 0.0)) == 0 for n in nodes]


def values(prog: Program, at: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    """The reference's tangent for each key (one forward-mode pass per input asked for); a usage error
    for a tensor input (one pass per number: ask the node's value of a smaller program instead)."""
    out: dict[str, Any] = {}
    by_input: dict[str, dict[str, Any]] = {}
    for key in keys:
        node, x = key[1:].split("/d", 1)
        if x not in by_input:
            if np.ndim(at.get(x, 0.0)) != 0:
                raise GraphlangError("usage", f"the assignment asks for {key!r}, a tangent by the input {x!r}, "
                                     "which is not a number", hint="ask tangents by scalar inputs only")
            by_input[x] = prog.tangents(at, {x: 1.0})
        tangent = by_input[x][node]
        if tangent is None or not np.all(np.isfinite(tangent)):
            raise GraphlangError("usage", f"the assignment asks for {key!r}, a tangent with no finite value at "
                                 "this point", hint="leave it out of `ask`, or grade at another point")
        out[key] = tangent
    return out
