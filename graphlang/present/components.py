"""Which output components `explain` gives a backward pass: every one up to a limit, or the one the
reader names with `--of 'y[9]'` (an output, indexed down to a single number)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.program import Program
from graphlang.symbolic.printing import tex_name
from graphlang.symbolic.texnames import tex_element

MAX_COMPONENTS = 8  # backward passes shown for a vector output (one per component)

Component = tuple[str, tuple[int, ...] | None]  # an output, and the index of one of its numbers
INDEXED = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*,?\s*\])?\s*")


@dataclass
class Pass:
    """One backward pass: seeded at `output` (at `index` of a tensor output), its adjoints."""

    output: str
    index: tuple[int, ...] | None
    adjoints: dict[str, Any]
    label: str | None  # None: the program's one scalar output


def parse_of(program: Program, shapes: list[Any], text: str) -> Component:
    """`y`, `y[9]` or `W[1, -1]`: an output and the index of one of its numbers (negative indices
    counted from the end); a usage error naming the outputs and their shapes otherwise."""
    g = program.graph
    outs = ", ".join(f"{o} (shape {list(shapes[g.slot_of[o]])})" for o in g.outputs)
    m = INDEXED.fullmatch(text)
    if m is None:
        raise GraphlangError("usage", f"--of {text!r}: write an output and, for a tensor, the index of "
                             "one number, e.g. --of 'y[9]'", hint=f"outputs: {outs}")
    name, index = m.group(1), m.group(2)
    if name not in g.outputs:
        raise GraphlangError("usage", f"--of {text!r}: {name!r} is not an output of the program",
                             hint=f"outputs: {outs}; to follow another node, make it the output "
                                  f"(`output {name}`)" if name in g.slot_of else f"outputs: {outs}")
    shape = tuple(shapes[g.slot_of[name]])
    idx = tuple(int(i) for i in index.split(",")) if index else ()
    if len(idx) != len(shape) or any(not -n <= i < n for i, n in zip(idx, shape)):
        bad = next((k for k, (i, n) in enumerate(zip(idx, shape)) if not -n <= i < n), None)
        what = f"{name} needs no index (it is a number)" if not shape else (
            f"index {idx[bad]} is out of range for an axis of length {shape[bad]} (0 to {shape[bad] - 1})"
            if len(idx) == len(shape) and bad is not None else
            f"{name} needs {len(shape)} index{'es' if len(shape) > 1 else ''} within shape {list(shape)}")
        raise GraphlangError("usage", f"--of {text!r}: {what}",
                             hint=f"e.g. --of '{label(name, tuple(n - 1 for n in shape) or None)}'")
    return name, tuple(i % n for i, n in zip(idx, shape)) or None


def component_passes(program: Program, arrays: list[Any], shapes: list[Any],
                     only: Component | None = None) -> tuple[list[Pass], str]:
    """A backward pass per component of the outputs (seed: 1 at that component), at most
    MAX_COMPONENTS, or only the component `only`; and a note saying how to see the others when
    some are left out."""
    g = program.graph
    slot_vals = interp.forward(g, arrays)
    live = interp.depends_on_inputs(g, sorted(set(g.slot_of.values())))
    soft = [not d for d in interp.depends_on_inputs(g)]
    wanted: list[Component] = [only] if only is not None else [
        (o, idx) for o in g.outputs
        for idx in ([None] if shapes[g.slot_of[o]] == () else list(np.ndindex(*shapes[g.slot_of[o]])))]
    passes: list[Pass] = []
    for o, idx in wanted[:MAX_COMPONENTS]:
        slot = g.slot_of[o]
        seed = np.zeros(shapes[slot])
        seed[idx if idx is not None else ()] = 1.0
        missing: set[int] = set()  # a constant's adjoint that does not exist here: left out, not 0
        adj = interp.reverse(g, shapes, slot_vals, {slot: seed}, live, soft=soft, missing=missing)
        passes.append(Pass(o, idx, {n: np.zeros(shapes[s]) if adj[s] is None else adj[s]
                                    for n, s in g.slot_of.items() if s not in missing}, label(o, idx)))
    note = ""
    if len(wanted) > MAX_COMPONENTS:
        o, idx = wanted[MAX_COMPONENTS]
        name = label(o, idx)
        short_name = o + "_" + "_".join(map(str, idx or ()))
        note = (f"the outputs have {len(wanted)} components; the backward passes of the first "
                f"{MAX_COMPONENTS} are shown. To see another, name it (`graphlang explain --of '{name}'`) "
                f"or make it the output, e.g. `{short_name} = {name}` then `output {short_name}`; "
                "`graphlang grad` gives the whole Jacobian")
    return passes, note


def label(output: str, index: tuple[int, ...] | None) -> str:
    return output if index is None else f"{output}[{', '.join(map(str, index))}]"


def tex_label(output: str, index: tuple[int, ...] | None) -> str:
    return tex_name(output) if index is None else tex_element(output, ",".join(map(str, index)))


def vector_transposes(program: Program, shapes: list[Any]) -> str:
    """A note on numpy's pitfall `u @ v.T` of two vectors: `.T` of a vector changes nothing, so it is
    the number uᵀv, where a student who wrote it meant the matrix u vᵀ."""
    g = program.graph
    named = {slot: name for name, slot in g.slot_of.items()}
    flipped = {eq.out: eq.ins[0] for eq in g.eqns if eq.prim.name == "T" and len(shapes[eq.ins[0]]) == 1}
    for eq in g.eqns:
        if eq.prim.name == "matmul" and eq.ins[1] in flipped and len(shapes[eq.ins[0]]) == 1:
            u, v = (named.get(s, "the vector") for s in (eq.ins[0], flipped[eq.ins[1]]))
            return (f"{u} @ {v}.T is the number {u}ᵀ{v}: .T of a vector changes nothing (as in numpy); "
                    f"the matrix {u} {v}ᵀ is outer({u}, {v}).")
    return ""
