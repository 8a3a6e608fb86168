"""What a program probably does not mean although it runs: notes for the command line, never errors
(numpy's broadcasting is the language's rule, SPEC §1)."""

from __future__ import annotations

import math
import re
from typing import Any

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
        if a and b and math.prod(out) > max(math.prod(a), math.prod(b)) and not _meant(graph, eq.ins, sym, a, b):
            st = graph.statements[eq.stmt]
            shown = f"{show(a)} {sym} {show(b)}" if sym in "+-*/^" else f"{sym}({show(a)}, {show(b)})"
            notes.append((eq.line, eq.column, f"{shown} stretches both operands to {show(out)} in {st.name} = "
                          f"{st.text} (numpy's broadcasting pairs each element of one with each of the other); "
                          "if a column [n, 1] was meant as a vector, declare it with one axis: x[n], not x[n, 1]"))
            if len(notes) == MAX_NOTES:
                break
    return notes


def _meant(graph: Graph, ins: tuple[int, ...], sym: str, a: Shape, b: Shape) -> bool:
    """An outer operation written on purpose: a column and a row both declared so (`a[3, 1] - b[1, 3]`,
    a table of pairs), or a column raised to a vector of powers (`x[4, 1] ^ k[4]`: polynomial features)."""
    declared = [graph.checked.declared.get(graph.name_of.get(i, "")) for i in ins]
    if all(d is not None and 1 in d for d in declared) and len(a) == len(b) == 2 and (a[0] == 1) != (b[0] == 1):
        return True
    return sym == "^" and len(a) == 2 and a[1] == 1 and len(b) == 1


def notes(graph: Graph, shapes: list[Shape], stray: bool = True) -> list[tuple[int, int, str]]:
    """Every note, in the program's order: stretched operands, `*` of a matrix and a vector, `e^…`
    reading a node e, and (`stray`; the output being the last assigned name) statements that do not
    reach it."""
    found = broadcast_notes(graph, shapes) + _products(graph, shapes) + _e_powers(graph) + _axes(graph, shapes)
    said = stray_note(graph) if stray else None
    if said:
        out = graph.statement(graph.outputs[0])
        found.append((out.line if out else 1, out.column if out else 1, said))
    return sorted(found, key=lambda n: (n[0], n[1]))


def stray_note(graph: Graph) -> str | None:
    """The note on `dead_ends`, as the command line and the REPL say it (None: nothing astray)."""
    ends = dead_ends(graph)
    if not ends:
        return None
    out, shown = graph.outputs[0], ", ".join(ends[-3:]) + (f" (and {len(ends) - 3} more)" if len(ends) > 3 else "")
    return (f"the output is {out}, the last assigned name; {shown} {'does' if len(ends) == 1 else 'do'} not "
            f"reach it: its derivatives are {out}'s (`output {ends[-1]}` makes {ends[-1]} the output; "
            f"`output {out}` says that {out} is meant)")


def _products(graph: Graph, shapes: list[Shape]) -> list[tuple[int, int, str]]:
    """`W * x` of a weight matrix (a param) and a vector that fits W @ x: elementwise, x stretched
    along W's rows (a student's matrix product: J = 34 from a [2, 2] ŷ, and nothing said). Scaling a
    computed matrix's columns (dropout, layer norm's gamma), or data by weights, is meant: no note."""
    out: list[tuple[int, int, str]] = []
    if not any(len(s) == 2 for s in shapes):  # (no matrix: nothing to say, and no equation objects made)
        return out
    params = graph.params
    used_as_matrix = {i for eq in graph.eqns if eq.prim.name == "matmul" for i in eq.ins}
    # (`sum(W * x, 1)`: the matrix-vector product written out, each row's products summed — meant)
    used_as_matrix |= {eq.ins[0] for eq in graph.eqns if eq.prim.name == "sum" and eq.attr in (1, -1)}
    for eq in graph.eqns:
        if eq.prim.name != "mul" or len(eq.ins) != 2 or len(out) == MAX_NOTES or eq.out in used_as_matrix:
            continue
        ranks = [len(shapes[i]) for i in eq.ins]
        if sorted(ranks) != [1, 2]:
            continue
        m, v = (eq.ins[0], eq.ins[1]) if ranks[0] == 2 else (eq.ins[1], eq.ins[0])
        written, vec = graph.as_written(m)[0], graph.name_of.get(v)  # (W, or W.T)
        n = shapes[v][0]
        if written.removesuffix(".T") in params and vec not in params and n == shapes[m][1] > 1:
            st = graph.statements[eq.stmt]
            fits = f" (giving shape {show((shapes[m][0],))})"
            out.append((eq.line, eq.column, f"{show(shapes[eq.ins[0]])} * {show(shapes[eq.ins[1]])} in {st.name} "
                        f"multiplies elementwise, {vec or 'the vector'} stretched along {written}'s rows to "
                        f"{show(shapes[eq.out])}; for the matrix-vector product write {written} @ {vec or 'x'}{fits}"))
    return out


_ONE = {"softmax": "1", "logsoftmax": "0", "logsumexp": "its operand"}  # over one element
_ROW_WISE = {"sum", "mean", "logsumexp"}  # a reduction that, over axis 1 of a matrix, gives one per row


def _axes(graph: Graph, shapes: list[Shape]) -> list[tuple[int, int, str]]:
    """Reductions along an axis that does not hold the values: softmax of a column [n, 1] (its last
    axis has length 1, so every entry is 1 and J = 0: a red team's p = [[1], [1]]); `g @ x.T` of two
    vectors; and a per-row result of a square matrix combined elementwise with that same matrix,
    which numpy pairs with the columns (U − logsumexp(U, 1) gave a negative cross-entropy; another
    matrix's row norms beside a distance matrix, ‖μ_c‖² in column c, are meant). All run."""
    out: list[tuple[int, int, str]] = []
    if not any(shapes):  # (numbers only: nothing runs along an axis)
        return out
    made = {eq.out: eq for eq in graph.eqns}
    for eq in graph.eqns:
        if len(out) == MAX_NOTES:
            break
        name, st = eq.prim.name, graph.statements[eq.stmt]
        shape = shapes[eq.ins[0]] if eq.ins else ()
        axis = -1 if name != "logsumexp" else eq.attr
        if name in _ONE and isinstance(axis, int) and len(shape) >= 2 and shape[axis] == 1 < math.prod(shape):
            u = graph.as_written(eq.ins[0])[0]
            out.append((eq.line, eq.column, f"{name} in {st.name} = {st.text} runs along axis {axis % len(shape)}, of "
                        f"length 1 in {(u + ' ') if u else 'its operand, '}{show(shape)}: every entry is "
                        f"{_ONE[name]}; if the values lie along another axis (a column), declare vectors with one "
                        "axis (x[n], not x[n, 1])" + (f" or write {name}({u}.T)" if u else "")))
        elif name == "matmul" and [len(shapes[i]) for i in eq.ins] == [1, 1] and eq.ins[1] in made \
                and made[eq.ins[1]].prim.name == "T":  # `g @ x.T`: the lecture's g xᵀ meant
            g, x = graph.as_written(eq.ins[0])[0] or "the vector", graph.as_written(made[eq.ins[1]].ins[0])[0] or "x"
            out.append((eq.line, eq.column, f"{g} @ {x}.T in {st.name} = {st.text} is the inner product (a number): "
                        f".T of a vector changes nothing, a vector having one axis; for the matrix {g} {x}ᵀ write "
                        f"outer({g}, {x})"))
        elif name in _STRETCHED and len(eq.ins) == 2 and sorted(len(shapes[i]) for i in eq.ins) == [1, 2]:
            said = _per_row(graph, shapes, made, eq)
            if said:
                out.append((eq.line, eq.column, said))
    return out


def _roots(slot: int, shapes: list[Shape], made: dict[int, Any]) -> set[int]:
    """The tensors a slot is computed from elementwise, through operands of its own shape (exp(U),
    U², 1 + U, U·T, K − mean(K, 0): U; U and T; K), where the walk stops at anything else."""
    found, todo, seen = set(), [slot], 0
    while todo and seen < 64:
        s, seen = todo.pop(), seen + 1
        eq = made.get(s)
        if eq is None or not eq.prim.elementwise:
            found.add(s)
            continue
        same = [i for i in eq.ins if shapes[i] == shapes[s]]
        todo.extend(same) if same else found.add(s)
    return found


def _per_row(graph: Graph, shapes: list[Shape], made: dict[int, Any], eq: Any) -> str | None:
    """The note on a per-row result r of a square M combined with M itself (through elementwise steps:
    ln(sum(exp(U), 1)), X / sqrt(mean(X², 1))), or None."""
    m, r = (eq.ins[0], eq.ins[1]) if len(shapes[eq.ins[0]]) == 2 else (eq.ins[1], eq.ins[0])
    rows, cols = shapes[m]
    reds = [made.get(k) for k in _roots(r, shapes, made)]
    red = next((e for e in reds if e is not None and e.prim.name in _ROW_WISE and e.attr in (1, -1)
                and len(shapes[e.ins[0]]) == 2), None)
    if red is None or not rows == cols > 1 or not _roots(red.ins[0], shapes, made) & _roots(m, shapes, made):
        return None
    st, sym = graph.statements[eq.stmt], _STRETCHED[eq.prim.name]
    a = graph.as_written(m)[0]
    operand = graph.as_written(red.ins[0])[0]
    b = graph.as_written(r)[0] or (f"{red.prim.name}({operand}, {red.attr})" if red.out == r and operand
                                   else f"{red.prim.name}(…, {red.attr})")
    fix = ""
    if a and "…" not in b:
        both = f"{a}.T {sym} {b}" if m == eq.ins[0] else f"{b} {sym} {a}.T"
        fix = f": write ({both}).T" if sym in "+-*/^" else f": write {sym}({both.replace(f' {sym} ', ', ')}).T"
    return (f"{b} has one value per row of the {rows}×{cols} matrix {a or 'it is computed from'}, and in {st.name} = "
            f"{st.text} numpy pairs it with the columns (element [i, j] takes its value [j], not [i]); for each "
            f"row's own value, transpose, combine and transpose back{fix}")


def _e_powers(graph: Graph) -> list[tuple[int, int, str]]:
    """`d = e^a` below a node e (the lecture writes e^a for exp(a), and has a node e): a power of e;
    a number as the power (`e^2`, a residual squared) is meant as written."""
    if "e" not in graph.slot_of:
        return []
    st_e = graph.statement("e")
    where = f"assigned on line {st_e.line}" if st_e is not None else "an input"
    out: list[tuple[int, int, str]] = []
    for st in graph.statements:
        base = next((n.args[0] for n in postorder(st.expr) if n.op == "pow" and n.args[0].op == "var"
                     and n.args[0].attr == "e" and n.args[1].op != "const"), None) if st.expr is not None else None
        if base is not None and len(out) < MAX_NOTES:
            out.append((base.line or st.line, base.column or st.column, f"e^… in {st.name} = {st.text} is the node "
                        f"e ({where}) raised to a power; for the exponential write exp(…) (or name the node "
                        "otherwise)"))
    return out


# The last line named as a loss is the output meant (J = softplus(u) − t·u below a metric, a prediction
# or the lecture's own form of the loss: an audit's 8 false notes on 87 correct programs)
_LOSS = re.compile(r"(j|l|loss|cost|nll|objective)([_\d].*)?", re.IGNORECASE)


def _larger(graph: Graph, sinks: list[str], own: int) -> list[str]:
    """The sinks computed from more than twice the statements the output is (`check = a * 2` typed
    below y = d + e + f: check is the output, and y, the whole graph, is read by nothing; a REPL red
    team's find). A prediction or a logged error beside the loss reads about what the loss reads: no
    note. Per sink a pass over the columns, so only while sinks × statements is small (a course's
    programs)."""
    if len(sinks) * len(graph.outs) > 300_000:
        return []
    named = {graph.slot_of[st.name] for st in graph.statements}
    found = []
    for name in sinks:
        seen = {graph.slot_of[name]}
        for out, ins in zip(reversed(graph.outs), reversed(graph.args)):
            if out in seen:
                seen.update(ins)
        if len(seen & named) - 1 > 2 * own + 1:  # (a logged error, err = yhat - t beside J: 3 and 2, meant)
            found.append(name)
    return found


def dead_ends(graph: Graph) -> list[str]:
    """Where the output is the last assigned name (no `output` line): the names no statement reads,
    computed from the inputs, where the output reads no other statement (`check = x + 1` left below
    y: every derivative shown is check's) or the name reads an input the output does not (`p =
    sigmoid(u)` typed below J = softplus(u) - t*u: ∂/∂t is 0), or the name is computed from more
    than twice the output's statements (`check = a * 2` below y), or it is named as a loss or y
    (`err = yhat - y` logged below J). A prediction or a logged error above the loss reads about what
    the loss reads: no note."""
    if graph.checked.output_pos is not None or _LOSS.fullmatch(graph.outputs[0]):
        return []
    args = graph.args  # (the columns: no equation objects for a 10⁵-line program)
    read = {i for ins in args for i in ins}
    sinks = [st.name for st in graph.statements if st.name not in graph.outputs and graph.slot_of[st.name] not in read]
    if not sinks:  # (every statement read: a chain to the output, the usual program)
        return []
    meant = set(_astray(graph, sinks)) | {n for n in sinks if n == "y" or _LOSS.fullmatch(n)}
    return [n for n in sinks if n in meant]  # (a loss, or the lecture's y, read by nothing: a docs red team's find)


def _astray(graph: Graph, sinks: list[str]) -> list[str]:
    """The sinks that read an input the output does not, or where the output reads no statement, or
    that are computed from much more than the output is."""
    outs, args = graph.outs, graph.args
    reached = {graph.slot_of[o] for o in graph.outputs}
    for out, ins in zip(reversed(outs), reversed(args)):
        if out in reached:
            reached.update(ins)
    named = {graph.slot_of[st.name] for st in graph.statements} - {graph.slot_of[o] for o in graph.outputs}
    alone = not (reached & named)  # the output reads no statement: a line of its own
    astray = {k for k in range(len(graph.inputs)) if k not in reached}  # inputs the output does not read
    varying = set(range(len(graph.inputs)))
    if not alone and not astray:  # (the output reads every input and some statement: a stray only if smaller)
        return _larger(graph, sinks, len(reached & named))
    for out, ins in zip(outs, args):
        if astray and any(i in astray for i in ins):
            astray.add(out)
        if any(i in varying for i in ins):
            varying.add(out)
    return [n for n in sinks if graph.slot_of[n] in varying and (alone or graph.slot_of[n] in astray)]
