"""What a program probably does not mean although it runs: notes for the command line, never errors
(numpy's broadcasting is the language's rule, SPEC §1)."""

from __future__ import annotations

import math
import re

from graphlang.ir.graph import Graph
from graphlang.language.ast import postorder
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


_E_POWER = re.compile(r"(?<![A-Za-z0-9_.])e\s*\^")


def notes(graph: Graph, shapes: list[Shape]) -> list[tuple[int, int, str]]:
    """Every note, in the program's order: stretched operands, `*` of a matrix and a vector, `e^…`
    reading a node e, and (the output being the last assigned name) statements that do not reach it."""
    found = broadcast_notes(graph, shapes) + _products(graph, shapes) + _e_powers(graph)
    ends = dead_ends(graph)
    if ends:
        out = graph.statement(graph.outputs[0])
        shown = ", ".join(ends[-3:]) + (f" (and {len(ends) - 3} more)" if len(ends) > 3 else "")
        found.append((out.line if out else 1, out.column if out else 1,
                      f"the output is {graph.outputs[0]}, the last assigned name; {shown} "
                      f"{'does' if len(ends) == 1 else 'do'} not reach it (a line `output {ends[-1]}` makes "
                      f"{ends[-1]} the output)"))
    return sorted(found, key=lambda n: (n[0], n[1]))


def _products(graph: Graph, shapes: list[Shape]) -> list[tuple[int, int, str]]:
    """`W * x` of a matrix and a vector: elementwise, x stretched along W's rows (a student's matrix
    product: J = 34 from a [2, 2] ŷ, and nothing said)."""
    out: list[tuple[int, int, str]] = []
    for eq in graph.eqns:
        if eq.prim.name != "mul" or len(eq.ins) != 2:
            continue
        ranks = sorted(len(shapes[i]) for i in eq.ins)
        if ranks == [1, 2] and len(out) < MAX_NOTES:
            st = graph.statements[eq.stmt]
            a, b = (shapes[i] for i in eq.ins)
            out.append((eq.line, eq.column, f"{show(a)} * {show(b)} in {st.name} multiplies "
                        f"elementwise, the vector stretched along the matrix's rows to {show(shapes[eq.out])}; "
                        "for the matrix-vector product write @ (W @ x)"))
    return out


def _e_powers(graph: Graph) -> list[tuple[int, int, str]]:
    """`d = e^a` below a node e (the lecture writes e^a for exp(a), and has a node e): a power of e."""
    if "e" not in graph.slot_of:
        return []
    st_e = graph.statement("e")
    where = f"assigned on line {st_e.line}" if st_e is not None else "an input"
    out: list[tuple[int, int, str]] = []
    for st in graph.statements:
        base = next((n.args[0] for n in postorder(st.expr) if n.op == "pow" and n.args[0].op == "var"
                     and n.args[0].attr == "e"), None) if st.expr is not None and _E_POWER.search(st.text) else None
        if base is not None and len(out) < MAX_NOTES:
            out.append((base.line or st.line, base.column or st.column, f"e^… in {st.name} = {st.text} is the node "
                        f"e ({where}) raised to a power; for the exponential write exp(…)"))
    return out


def dead_ends(graph: Graph) -> list[str]:
    """Where the output is the last assigned name (no `output` line): the names no statement reads
    that are computed from statements the output does not read either (`check = x + 1` left below
    y = d + e + f: every derivative shown is check's). A prediction beside its loss (`yhat =
    sigmoid(u)` above `J = softplus(u) - y*u`) reads only what the output reads: no note."""
    if graph.checked.output_pos is not None:
        return []
    eqns = graph.eqns
    reached = {graph.slot_of[o] for o in graph.outputs}
    for eq in reversed(eqns):
        if eq.out in reached:
            reached.update(eq.ins)
    stmt_of = {eq.out: eq.stmt for eq in eqns}
    astray: set[int] = set()  # slots computed from a statement the output does not read (not their own)
    for eq in eqns:
        if any(i in astray or (i not in reached and stmt_of.get(i, eq.stmt) != eq.stmt) for i in eq.ins):
            astray.add(eq.out)
    read = {i for eq in eqns for i in eq.ins}
    return [st.name for st in graph.statements if st.name not in graph.outputs
            and graph.slot_of[st.name] not in read and graph.slot_of[st.name] in astray]
