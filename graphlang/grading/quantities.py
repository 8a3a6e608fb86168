"""What is asked of a student: an answer's key as a quantity of the program (`a`, `g_a`, `da/dx`),
and the quantities asked by default."""

from __future__ import annotations

import re
from collections.abc import Sequence

from graphlang.grading import tangents
from graphlang.program import Program

_ADJ = re.compile(r"^(?:g_|d(?P<out>\w+)/d|∂(?P<out2>\w+)/∂)(?P<name>\w+)$")


def canonical(key: str, program: Program, prefix: str) -> str | None:
    """An answer's key as `a` (a value), `g_a` (an adjoint) or `da/dx` (a tangent); None if it names nothing."""
    key = "".join(key.split())  # (`dy / dx`: names never hold a space)
    names = set(program.names)
    if key in names:
        return key
    m = _ADJ.match(key)
    if m:
        out = m.group("out") or m.group("out2")
        if (out is None or out in program.outputs) and m.group("name") in names:
            return prefix + m.group("name")
    return tangents.tangent_key(key, program)


def default_quantities(prog: Program, scalar: bool, missing: Sequence[str] = ()) -> list[str]:
    """What a student answers unless told otherwise (`check --template`): every node's value, then
    (for a scalar output) every adjoint backwards (but the `missing` ones, which do not exist at
    the point) and the gradient."""
    names = [n for n in prog.names if n not in prog.inputs]
    if not scalar:
        return names
    return names + [f"g_{n}" for n in reversed(names) if n not in missing and n in reaching(prog)] + \
        [f"d{prog.outputs[0]}/d{n}" for n in prog.inputs]


def reaching(prog: Program) -> set[str]:
    """The names the output reads: an adjoint elsewhere is 0 by construction, no question to ask (p =
    sigmoid(u) beside a loss written on u: a student writing -1/p lost a point on a trap)."""
    g = prog.graph
    needed = g.read_by([g.slot_of[o] for o in prog.outputs])
    return {n for n, slot in g.slot_of.items() if needed[slot]}
