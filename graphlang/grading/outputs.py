"""Which of a submitted program's names is graded: the reference's outputs in its order when the
submission names the same ones in another, or the reference's output name when a debug line follows it."""

from __future__ import annotations

import dataclasses

from graphlang.errors import GraphlangError
from graphlang.ir.graph import Graph
from graphlang.limits import Limits
from graphlang.program import Program, parse


def reordered(ref: Program, stud: Program) -> tuple[Program, str]:
    """The submission with its outputs in the reference's order when it names the same ones in
    another, and a note saying so; else itself and no note."""
    outs = ref.outputs
    if stud.outputs == outs or sorted(stud.outputs) != sorted(outs):
        return stud, ""
    checked = dataclasses.replace(stud.checked, outputs=list(outs))
    again = Program(stud.source, stud.path, stud.limits, graph=Graph(checked, stud.limits))
    return again, (f"Graded your outputs in the reference's order ({', '.join(outs)}); your program "
                   f"names them as {', '.join(stud.outputs)}.")


def debug_line(ref: Program, stud: Program, text: str, limits: Limits) -> tuple[Program, str]:
    """The submission with the reference's output names as its outputs, when it defines them and
    every statement after them is computed from them (`q = y * 2`), and a note saying so; the
    caller grades it so only where that passes."""
    outs = ref.outputs
    if stud.outputs == outs or not all(n in stud.graph.slot_of and n not in stud.graph.input_set for n in outs):
        return stud, ""
    g = stud.graph
    reached = g.reached_from([g.slot_of[n] for n in outs])
    stmts = g.statements  # in order: `y = ...; answer = 5 * x` on one line is after y too
    last = max(k for k, st in enumerate(stmts) if st.kind == "assign" and st.name in outs)
    if any(not reached[g.slot_of[st.name]] for st in stmts[last + 1:] if st.kind == "assign"):
        return stud, ""
    try:
        again = parse(text + "\noutput " + ", ".join(outs) + "\n", limits=limits)
    except GraphlangError:  # the submission names its output itself (`output q`): graded as written
        return stud, ""
    theirs, wanted = ", ".join(stud.outputs), ", ".join(outs)
    return again, (f"Graded {wanted}, the reference's output, not {theirs}, your program's last line: "
                   f"remove debug lines at the end, or write `output {wanted}`.")
