"""Forward mode's tangents as answers: `da/dx` is ȧ in the tangent pass seeded at the input x (the
total derivative of the node a by x), as `explain --mode forward` shows it. Asked by name, or all of
them with the group `tangents` (every node but the output and the constants, by every scalar input);
the output's own tangent `dy/dx` is the gradient, graded as such. Forward mode's steps (`steps`) give
tangents, and the gradient of a student who went forward, rounding credit and error carried forward."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.grading.compare import STEP_ERRORS, Comparison, compare
from graphlang.language.ast import Expr
from graphlang.program import Program
from graphlang.symbolic import tangent as T
from graphlang.symbolic.printing import value_of

_KEY = re.compile(r"^\s*(?:d(?P<a>\w+)/d|∂(?P<b>\w+)/∂)(?P<x>\w+)\s*$")


def tangent_key(key: str, prog: Program) -> str | None:
    """`da/dx` (or `∂a/∂x`) for a node a that is not the one output and an input x; else None."""
    m = _KEY.match(key)
    if m is None:
        return None
    node, x = m.group("a") or m.group("b"), m.group("x")
    g = prog.graph  # (a dict lookup, not a list's: a key per answer, per step of error carried forward)
    several = len(g.outputs) > 1  # (`output y1, y2`: dy1/dx is the Jacobian's, a tangent; one: the gradient)
    if node in g.slot_of and x in g.inputs and node not in g.inputs and (several or node not in g.outputs):
        return f"d{node}/d{x}"
    return None


def group(prog: Program, at: Mapping[str, Any], fixed: Any = ()) -> list[str]:
    """The `tangents` group, pass by pass: every node but the inputs and the one output (of several,
    each: their tangents are the Jacobian's columns), by each scalar
    input but the `fixed` labels, that depends on that input (the others are 0 by definition: free
    points, and a copied pass would carry forward from them); a tangent that does not exist at the
    point is left out (as the adjoints group leaves out such adjoints)."""
    g = prog.graph
    nodes = [n for n in prog.names if n not in prog.graph.input_set
             and (len(prog.outputs) > 1 or n not in prog.outputs)]
    out = []
    for k, x in enumerate(prog.inputs):
        if np.ndim(at.get(x, 0.0)) != 0 or (isinstance(fixed, (list, tuple)) and x in fixed):
            continue
        moves = g.reached_from([k])  # a node that does not read x at all: 0 by definition, no question
        tangent = prog.tangents(at, {x: 1.0})
        out += [f"d{n}/d{x}" for n in nodes if moves[g.slot_of[n]] and tangent[n] is not None
                and np.all(np.isfinite(tangent[n]))]
    return out


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


def steps(q: str, prog: Program, env: Mapping[str, Any], gradient_of: str | None = None
          ) -> list[tuple[list[Expr], dict[str, Expr]]]:
    """How forward mode computes `q` (`da/dx`; with `gradient_of` = x, the output's tangent by x,
    which is the gradient): the terms ∂a/∂u · du/dx over what a reads, in the student's own keys
    (an input's tangent is 1 or 0, a constant's 0), and the definitions those terms may name
    (ȧ = d·ȧ' where the student answered d = exp(a)). Empty if `q` is none of these."""
    if gradient_of is not None:
        node, x = prog.outputs[0], gradient_of
    elif tangent_key(q, prog) is not None:
        node, x = q[1:].split("/d", 1)
    else:
        return []
    g = prog.graph
    shapes, tan = _built(prog, env)
    if shapes[g.slot_of[x]] != ():
        return []
    b, moves = tan.builder, g.reached_from([prog.inputs.index(x)])  # what x moves at all
    assert b.var_shapes is not None
    terms = []
    for r in tan.reads.get(node, []):
        if r.name in prog.graph.input_set:
            if r.name != x:
                continue  # its tangent in this pass: 0
            seed = b.const(1.0)
        elif not moves[g.slot_of[r.name]]:
            continue  # it does not read x (a constant, or b = ln(x) in the pass for z): 0
        else:
            key = f"d{r.name}/d{x}"
            b.var_shapes[key] = shapes[g.slot_of[r.name]]  # type: ignore[index]
            seed = b.var(key)
        terms.append(b.mk("mul", (r.partial, seed)) if r.partial is not None
                     else b.substitute(r.printed(), {T.dot(r.name): seed}))
    return [(terms, tan.forward)] if terms else []


def _built(prog: Program, env: Mapping[str, Any]) -> tuple[list[Any], T.Tangents]:
    """Every slot's shape at the point and the tangent expressions (kept on the graph: built once)."""
    shapes = list(prog.graph.shapes(tuple(np.shape(env[n]) for n in prog.inputs)))
    return shapes, T.build(prog.graph, shapes)


def local_slip(q: str, prog: Program, env: Mapping[str, Any], given: Any, cmp: Any) -> str:
    """Feedback for a tangent answered with the local derivative of the node's own rule (∂e/∂x = a
    for e = x·a, where de/dx also counts the path through a, as the tangent pass does); else ''."""
    if tangent_key(q, prog) is None:
        return ""
    node, x = q[1:].split("/d", 1)
    reads = _built(prog, env)[1].reads.get(node, [])
    read = next((r for r in reads if r.name == x), None)
    if read is None or read.partial is None or len(reads) < 2:
        return ""
    try:
        local = value_of(read.partial, dict(env))
        same = bool(compare(np.asarray(given, dtype=np.float64), np.asarray(local, dtype=np.float64), cmp)[0])
    except STEP_ERRORS:
        return ""
    return (f": that is ∂{node}/∂{x} of {node}'s own rule alone; {q} is the tangent, which also counts the "
            f"paths through what {node} reads ({T.dot(node)} = Σ ∂{node}/∂u · du/d{x})") if same else ""


def _numeric(v: Any) -> bool:
    try:
        return bool(np.all(np.isfinite(np.asarray(v, dtype=np.float64))))
    except (TypeError, ValueError):
        return False


def _tangent_of(prog: Program, reference: Mapping[str, Any], moves: list[bool], node: str, x: str) -> Any:
    """The reference's dnode/dx where asked, 0 where the node does not read x (`moves`: what x moves),
    else None (unknown)."""
    if f"d{node}/d{x}" in reference:
        return reference[f"d{node}/d{x}"]
    return None if moves[prog.graph.slot_of[node]] else 0.0


def pass_hints(prog: Program, given: Mapping[str, Any], reference: Mapping[str, Any], asked: Collection[str],
               cmp: Any) -> list[str]:
    """Feedback on a whole tangent pass gone wrong: every answer of the pass for x is 0 (the seed ẋ
    left 0), or is the reference's pass for another input (the passes swapped or copied)."""
    by_input: dict[str, list[str]] = {}
    for q in asked:
        if tangent_key(q, prog) is not None and q in given:
            by_input.setdefault(q[1:].split("/d", 1)[1], []).append(q)
    notes = []
    moves = {z: prog.graph.reached_from([prog.inputs.index(z)]) for z in by_input}  # once per input
    near = Comparison("relabs", 1e-2, 1e-3)  # (a hint: a pass worked by hand at 3 figures still matches)

    def same(got: Any, want: Any) -> bool:
        if want is None:
            return False
        try:
            return bool(compare(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64), near)[0])
        except (TypeError, ValueError):
            return False

    for x, keys in by_input.items():
        if len(keys) < 2 or any(bool(compare(np.asarray(given[q], dtype=np.float64), np.asarray(reference[q]),
                                              cmp)[0]) for q in keys if _numeric(given[q])):
            continue
        nodes = [q[1:].split("/d", 1)[0] for q in keys]
        if all(same(given[q], 0.0) for q in keys):
            notes.append(f"Every tangent of the pass for {x} is 0: forward mode starts that pass from "
                         f"{T.dot(x)} = 1 (and every other input's tangent 0).")
            continue
        other = next((z for z in by_input if z != x and all(
            same(given[q], _tangent_of(prog, reference, moves[z], n, z)) for n, q in zip(nodes, keys))), None)
        if other is not None:
            notes.append(f"Your tangents by {x} are those of the pass for {other}: the pass for {x} starts from "
                         f"{T.dot(x)} = 1 and {T.dot(other)} = 0.")
    return notes


def mode_hint(prog: Program, given: Mapping[str, Any], asked: Collection[str], prefix: str) -> list[str]:
    """Answers in the other mode (tangents da/dx for an assignment of adjoints, or the reverse), none
    in the one asked: each key alone said only "not asked in this assignment"."""
    def is_tangent(q: str) -> bool:
        return tangent_key(q, prog) is not None

    def is_adjoint(q: str) -> bool:
        name = q[len(prefix):]
        return q.startswith(prefix) and name in prog.graph.slot_of and name not in prog.graph.input_set

    for mine, other, text in ((is_adjoint, is_tangent, "reverse mode's adjoints (g_a = ∂y/∂a, the backward "
                               "pass); your answers are forward mode's tangents (da/dx)"),
                              (is_tangent, is_adjoint, "forward mode's tangents (da/dx = ∂a/∂x, a pass per "
                               "input); your answers are reverse mode's adjoints (g_a)")):
        if any(mine(q) for q in asked) and not any(mine(q) for q in given) \
                and sum(other(q) and q not in asked for q in given) >= 2:
            return [f"This assignment asks for {text}, which it does not grade."]
    return []
