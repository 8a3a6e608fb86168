"""What a program probably does not mean although it runs: notes for the command line, never errors
(numpy's broadcasting is the language's rule, SPEC §1)."""

from __future__ import annotations

import math

from graphlang.ir.graph import Graph
from graphlang.primitives.shapes import Shape, show

_STRETCHED = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^", "max": "max", "min": "min"}
MAX_NOTES = 3


def broadcast_notes(graph: Graph, shapes: list[Shape]) -> list[tuple[int, int, str]]:
    """(line, column, note) where an elementwise operation stretches both of its operands: a column
    [3, 1] meeting a vector [3] makes a [3, 3] matrix (an outer sum), the lecture's column vectors
    written x[2, 1] beside a bias b[3]. One operand stretched (a bias added to each row) is usual."""
    notes: list[tuple[int, int, str]] = []
    if not any(shapes):  # (all numbers: nothing stretches)
        return notes
    for eq in graph.eqns:
        sym = _STRETCHED.get(eq.prim.name)
        if sym is None or len(eq.ins) != 2:
            continue
        a, b, out = shapes[eq.ins[0]], shapes[eq.ins[1]], shapes[eq.out]
        if a and b and math.prod(out) > max(math.prod(a), math.prod(b)):
            st = graph.statements[eq.stmt]
            shown = f"{show(a)} {sym} {show(b)}" if sym in "+-*/^" else f"{sym}({show(a)}, {show(b)})"
            notes.append((eq.line, eq.column, f"{shown} stretches both operands to {show(out)} in {st.name} = "
                          f"{st.text} (numpy's broadcasting pairs each element of one with each of the other); "
                          "if a column [n, 1] was meant as a vector, declare it with one axis: x[n], not x[n, 1]"))
            if len(notes) == MAX_NOTES:
                break
    return notes
