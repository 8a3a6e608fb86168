"""Symbolic differentiation: the derivative as a `.cg` program, and in closed form."""

from __future__ import annotations

from typing import Protocol

from graphlang.errors import GraphlangError
from graphlang.ir.graph import Graph
from graphlang.language.ast import Expr, postorder
from graphlang.primitives.shapes import Shape
from graphlang.symbolic import adjoint
from graphlang.symbolic.algebra import Builder, to_latex, to_text


class HasGraph(Protocol):
    """What symbolic differentiation reads of a program (a `Program` is one): its graph and file."""

    graph: Graph
    path: str | None

MAX_CLOSED_FORM = 200_000  # printed nodes; past this, `diff --program` is the way


def _shape_decl(name: str, shape: Shape) -> str:
    return name if shape == () else f"{name}[{', '.join(map(str, shape))}]"


def derivative_program(program: HasGraph, shapes: list[Shape], wrt: list[str] | None = None,
                       header: bool = True) -> str:
    """Reverse mode as source: the forward statements, then `g_v = ...` per node, output the gradient.

    A scalar program seeds `g_y = 1`; a vector-valued one takes the seed `g_y` as an input, so the
    result is its vector-Jacobian product.
    """
    g = program.graph
    adj = adjoint.build(g, shapes)
    wrt = list(g.inputs) if wrt is None else wrt
    lines: list[str] = []
    if header:
        lines.append(f"# derivative program of {program.path or 'the program'}: reverse mode, "
                     f"{adj.prefix}v = ∂{','.join(g.outputs)}/∂v".replace("∂", "d"))
    decls = [_shape_decl(n, shapes[g.slot_of[n]]) for n in g.inputs]
    outs = g.outputs
    scalar = len(outs) == 1 and shapes[g.slot_of[outs[0]]] == ()
    if not scalar:
        decls += [_shape_decl(seed_name(adj.prefix, n), shapes[g.slot_of[n]]) for n in outs]
    if decls:
        lines.append("input " + ", ".join(decls))
    lines += [f"{st.name} = {st.text}" for st in g.statements]
    if scalar:
        lines.append(f"{adj.g(outs[0])} = 1")
    b = adj.builder
    for name in [st.name for st in reversed(g.statements)] + list(g.inputs):
        if scalar and name == outs[0]:
            continue
        total = adj.total(name)
        if not scalar and name in outs:
            total = b.mk("add", (b.var(seed_name(adj.prefix, name)), total))
        if total.op == "const" and shapes[g.slot_of[name]] != ():
            total = b.mk("expand", (total, b.var(name)))  # a zero of the right shape
        lines.append(f"{adj.g(name)} = {to_text(total)}")
    lines.append("output " + ", ".join(adj.g(n) for n in wrt))
    return "\n".join(lines) + "\n"


def seed_name(prefix: str, output: str) -> str:
    """The input that seeds a vector output's adjoint (its direction in the VJP)."""
    return f"{prefix}{output}_seed"


def closed_forms(program: HasGraph, shapes: list[Shape], wrt: list[str] | None = None
                 ) -> dict[str, Expr]:
    """∂y/∂x for each input as one expression in the inputs (scalar outputs)."""
    g = program.graph
    outs = g.outputs
    if len(outs) != 1 or shapes[g.slot_of[outs[0]]] != ():
        raise GraphlangError("shape", "closed-form derivatives need a single scalar output",
                             hint="use `graphlang diff --program` for vector-valued programs")
    adj = adjoint.build(g, shapes)
    b = Builder(tidy=True)
    full: dict[str, Expr] = {}
    for st in g.statements:
        full[st.name] = b.substitute(adj.forward[st.name], full)
    grads: dict[str, Expr] = {adj.g(outs[0]): b.const(1.0)}
    for name in [st.name for st in reversed(g.statements)] + list(g.inputs):
        if name == outs[0]:
            continue
        acc: Expr | None = None
        for term in adj.terms.get(name, []):
            e = b.substitute(term.expr, {**full, **grads})
            acc = e if acc is None else b.mk("add", (acc, e))
        grads[adj.g(name)] = acc if acc is not None else b.const(0.0)
    result = {n: grads[adj.g(n)] for n in (wrt or g.inputs)}
    for n, e in result.items():
        if printed_size(e) > MAX_CLOSED_FORM:
            raise GraphlangError("limit", f"the closed form of d{outs[0]}/d{n} has more than "
                                 f"{MAX_CLOSED_FORM:,} terms (expression swell)",
                                 hint="use `graphlang diff --program`, which shares subexpressions")
    return result


def printed_size(e: Expr) -> int:
    """Nodes in the printed tree (shared subexpressions counted each time they print)."""
    size: dict[int, int] = {}
    for node in postorder(e):
        size[id(node)] = 1 + sum(size[id(a)] for a in node.args)
    return size[id(e)]


def render(e: Expr, latex: bool = False, style: str = "cg") -> str:
    return to_latex(e) if latex else to_text(e, style)
