"""Symbolic differentiation: the derivative as a `.cg` program, and in closed form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.language.ast import Expr, postorder
from graphlang.primitives.shapes import Shape
from graphlang.symbolic import adjoint
from graphlang.symbolic.algebra import Builder, to_latex, to_text

if TYPE_CHECKING:
    from graphlang.program import Program

MAX_CLOSED_FORM = 200_000  # printed nodes; past this, `diff --program` is the way


def _shape_decl(name: str, shape: Shape) -> str:
    return name if shape == () else f"{name}[{', '.join(map(str, shape))}]"


def derivative_program(program: Program, shapes: list[Shape], wrt: list[str] | None = None,
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


_CACHE_KEY = "_symbolic_programs"


def seed_name(prefix: str, output: str) -> str:
    """The input that seeds a vector output's adjoint (its direction in the VJP)."""
    return f"{prefix}{output}_seed"


def _derived(program: Program, shapes: list[Shape], wrt: list[str]) -> Program:
    from graphlang.program import parse
    key = (tuple(tuple(s) for s in shapes[: len(program.graph.inputs)]), tuple(wrt))
    cache: dict[Any, Program] = program.__dict__.setdefault(_CACHE_KEY, {})
    if key not in cache:
        text = derivative_program(program, shapes, wrt, header=False)
        cache[key] = parse(text, limits=program.limits.with_(max_source_chars=max(
            program.limits.max_source_chars, 4 * len(text))))
    return cache[key]


def jacobian_columns(program: Program, arrays: list[np.ndarray], shapes: list[Shape],
                     wrt: list[str]) -> dict[str, np.ndarray]:
    """Evaluate the derivative program (seeded per output coordinate when the output is a vector)."""
    g = program.graph
    derived = _derived(program, shapes, wrt)
    prefix = adjoint.choose_prefix(g.names)
    values: dict[str, Any] = dict(zip(g.inputs, arrays))
    outs = g.outputs
    out_shapes = [shapes[g.slot_of[n]] for n in outs]
    scalar = len(outs) == 1 and out_shapes[0] == ()

    def run(seeds: dict[str, Any]) -> dict[str, np.ndarray]:
        try:
            vals = derived.forward({**values, **seeds})
        except GraphlangError as err:
            raise relocate(program, derived, err) from None
        return {n: np.asarray(vals[prefix + n], dtype=np.float64) for n in wrt}

    if scalar:
        got = run({})
        return {n: got[n][..., None] for n in wrt}
    columns: list[dict[str, np.ndarray]] = []
    for j, name in enumerate(outs):
        for idx in np.ndindex(out_shapes[j]):
            seeds = {seed_name(prefix, o): np.zeros(s) for o, s in zip(outs, out_shapes)}
            seeds[seed_name(prefix, name)][idx] = 1.0
            columns.append(run(seeds))
    return {n: np.stack([c[n] for c in columns], axis=-1) for n in wrt}


def relocate(program: Program, derived: Program, err: GraphlangError) -> GraphlangError:
    """An error raised inside a derivative program, located in the program it was derived from.

    A statement `v = ...` copied from the program keeps v's place; an adjoint `g_v = ...` is put
    at v's definition (or, for an input, its first use). The message keeps the derivative
    program's statement, which names what failed.
    """
    if err.line is None:
        return err
    st = next((s for s in derived.graph.statements if s.line == err.line), None)
    if st is None:
        return GraphlangError(err.kind, err.message, None, None, err.hint)
    g = program.graph
    prefix = adjoint.choose_prefix(g.names)
    name = st.name[len(prefix):] if st.name.startswith(prefix) and st.name not in g.names else st.name
    own = g.statement(name)
    line, column = (own.line, own.column) if own is not None else \
        program._positions.get(name, (None, None))
    message = err.message
    if st.name != name:
        message = message.replace(f"in the statement {st.name} =",
                                  f"in the derivative program's statement {st.name} =")
    return GraphlangError(err.kind, message, line, column, err.hint)


def closed_forms(program: Program, shapes: list[Shape], wrt: list[str] | None = None
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
