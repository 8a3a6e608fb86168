"""The IR printed as an equation list, in the spirit of a jaxpr: what everyone debugs with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphlang.numbers import literal
from graphlang.primitives.shapes import Shape, show


def pretty(graph: Any, shapes: Sequence[Shape | None] | None = None) -> str:
    """One line per slot: `v3 = mul v0 v1 : [3]   # a = x * z  (line 1)`; shapes where known."""
    def typed(slot: int) -> str:
        shape = None if shapes is None else shapes[slot]
        return f" : {show(shape)}" if shape is not None else ""

    root_of = {graph.slot_of[st.name]: st for st in graph.statements}
    lines = []
    for k, name in enumerate(graph.inputs):
        kind = "param" if name in graph.params else "input"
        lines.append(f"v{k} = {kind} {name}{typed(k)}")
    for slot, value in graph.consts.items():
        lines.append(f"v{slot} = const {literal(value)}{typed(slot)}")
    width = 0
    body = []
    for eq in graph.eqns:
        attr = "" if eq.attr is None else f"[{eq.attr}]"
        text = f"v{eq.out} = {eq.prim.name}{attr} {' '.join(f'v{i}' for i in eq.ins)}{typed(eq.out)}"
        st = root_of.get(eq.out)
        note = f"# {st.name} = {st.text}  (line {st.line})" if st is not None else ""
        body.append((text, note))
        width = max(width, len(text))
    lines += [f"{text.ljust(width)}   {note}".rstrip() for text, note in body]
    outs = ", ".join(f"v{graph.slot_of[n]} ({n})" for n in graph.outputs)
    lines.append(f"outputs {outs}")
    return "\n".join(lines) + "\n"
