"""Symbolic differentiation: the derivative as a `.cg` program, and in closed form."""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass
from typing import Any, Protocol

from graphlang.errors import GraphlangError, no_inputs
from graphlang.ir.graph import Graph
from graphlang.language.ast import Expr, postorder
from graphlang.limits import gc_paused
from graphlang.primitives.shapes import Shape
from graphlang.symbolic import adjoint, texbreak
from graphlang.symbolic.algebra import Builder
from graphlang.symbolic.printing import tex_name, to_latex, to_text
from graphlang.symbolic.texnames import tensor_names, tensors_in


class HasGraph(Protocol):
    """What symbolic differentiation reads of a program (a `Program` is one): its graph and file."""

    graph: Graph
    path: str | None

MAX_CLOSED_FORM = 200_000  # printed nodes; past this, `diff --program` is the way


def swell_budget(graph: Graph) -> int:
    """Printed nodes a derivative's text may have in all: linear in the program (its slots and its
    text: a literal of n numbers is one slot). One statement that multiplies n factors has n
    partials of n - 1 factors each (n² printed, however shared)."""
    return 100_000 + 100 * (graph.n_slots + sum(len(st.text) for st in graph.statements))


def swell_error(graph: Graph, printed: int, what: str, line: int | None = None,
                column: int | None = None) -> GraphlangError:
    return GraphlangError("limit", f"{what} would print {printed:,} terms; the limit for this program is "
                          f"{swell_budget(graph):,} (expression swell inside one statement)", line, column,
                          "name the factors of a long product or quotient in separate statements")


def _shape_decl(name: str, shape: Shape, scalars: bool) -> str:
    """`x[3, 2]`; a scalar `x[]` where a tensor would run but mean something else (`scalars`)."""
    return (f"{name}[]" if scalars else name) if shape == () else f"{name}[{', '.join(map(str, shape))}]"


def scalars_matter(graph: Any, shapes: list[Shape]) -> bool:
    """A program with a reduction, a product of matrices or a tensor input: its derivative program,
    written for scalar inputs, must refuse tensors for them (run with one it gave wrong gradients:
    `diff --program` of sum(s * v + s^2) with s = [1, 2, …] dropped the sum of g_s)."""
    return any(shapes[graph.slot_of[n]] != () for n in graph.inputs) or \
        any(not eq.prim.elementwise for eq in graph.eqns)


def derivative_program(program: HasGraph, shapes: list[Shape], wrt: list[str] | None = None,
                       header: bool = True) -> str:
    """Reverse mode as source: the forward statements, then `g_v = ...` per node, output the gradient.

    A scalar program seeds `g_y = 1`; a vector-valued one takes the seed `g_y` as an input, so the
    result is its vector-Jacobian product.
    """
    with gc_paused():  # many small acyclic objects: the cyclic GC would only slow this down
        return "\n".join(_program_lines(program, shapes, wrt, header)[0]) + "\n"


Origin = tuple[int, int] | None


@dataclass
class Parts:
    """The derivative program in pieces: its inputs (with shapes), the program's statements, `g_y = 1`
    for a scalar output `y` (else the seeds are inputs), then `g_v = total` per node, and its outputs."""

    adj: adjoint.Adjoints
    decls: list[tuple[str, Shape]]
    seeded: str | None  # the scalar output whose g is 1
    grads: list[tuple[str, Expr, Origin]]  # g_v, its expression, where in the program it comes from
    outputs: list[str]
    where: dict[str, tuple[int, int]]


def parts(program: HasGraph, shapes: list[Shape], wrt: list[str] | None) -> Parts:
    """The pieces of the derivative program (its swell checked before anything is printed)."""
    g = program.graph
    wrt = list(g.inputs) if wrt is None else wrt
    if not wrt:
        raise no_inputs()
    adj = adjoint.build(g, shapes, partials=False)  # (the terms alone)
    # Only the adjoints of nodes that depend on `wrt` lead to the gradient; the others (of
    # constants) are not needed and could be undefined where the gradient is not (g_n of x^n).
    live = [n in wrt for n in g.inputs] + [False] * (g.n_slots - len(g.inputs))
    for eq in g.eqns:
        live[eq.out] = any(live[i] for i in eq.ins)
    where = {st.name: (st.line, st.column) for st in g.statements}
    decls = [(n, shapes[g.slot_of[n]]) for n in g.inputs]
    outs = g.outputs
    scalar = len(outs) == 1 and shapes[g.slot_of[outs[0]]] == ()
    if not scalar:
        decls += [(seed_name(adj.prefix, n), shapes[g.slot_of[n]]) for n in outs]
    b = adj.builder
    grads: list[tuple[str, Expr, Origin]] = []
    printed, budget = 0, swell_budget(g)  # once: the budget is a sum over every statement
    sizes: dict[int, int] = {}  # (the nodes of one builder: each counted once)
    for name in [st.name for st in reversed(g.statements)] + list(g.inputs):
        if scalar and name == outs[0] or not live[g.slot_of[name]]:
            continue
        total = adj.total(name)
        if not scalar and name in outs:
            total = b.mk("add", (b.var(seed_name(adj.prefix, name)), total))
        if b.shape_of(total) == () != shapes[g.slot_of[name]]:
            total = b.mk("expand", (total, b.var(name)))  # a constant (zero) of the right shape
        terms = adj.terms.get(name)
        origin = where[terms[0].consumer] if terms else where.get(name)
        printed += printed_size(total, sizes)
        if printed > budget:  # before printing it: the text is as large as the tree
            raise swell_error(g, printed, "the derivative program", *(origin or (None, None)))
        grads.append((adj.g(name), total, origin))
    return Parts(adj, decls, outs[0] if scalar else None, grads, [adj.g(n) for n in wrt], where)


def _program_lines(program: HasGraph, shapes: list[Shape], wrt: list[str] | None, header: bool
                   ) -> tuple[list[str], list[Origin]]:
    """The derivative program's lines, and per line the place in the original program it comes
    from (a forward statement: itself; `g_v = ...`: the first statement that reads v)."""
    g = program.graph
    p = parts(program, shapes, wrt)
    lines: list[str] = []
    origins: list[Origin] = []
    if header:
        lines.append(f"# derivative program of {program.path or 'the program'}: reverse mode, "
                     f"{p.adj.prefix}v = ∂{','.join(g.outputs)}/∂v".replace("∂", "d"))
        origins.append(None)
    if p.decls:
        scalars = scalars_matter(g, shapes)
        lines.append("input " + ", ".join(_shape_decl(n, s, scalars) for n, s in p.decls))
        origins.append(None)
    for st in g.statements:
        lines.append(f"{st.name} = {st.text}")
        origins.append(p.where[st.name])
    if p.seeded is not None:
        lines.append(f"{p.adj.g(p.seeded)} = 1")
        origins.append(p.where.get(p.seeded))
    taken = set(g.slot_of) | {name for name, _, _ in p.grads}
    for name, total, origin in p.grads:
        for line in _split_sum(name, total, taken):  # a weight shared 1,500 times: lines of partial sums
            lines.append(line)
            origins.append(origin)
    lines.append("output " + ", ".join(p.outputs))
    origins.append(None)
    return lines, origins


SUM_CHARS = 4_000  # a `g_v = ...` sum longer than this is written as partial sums (--strict: lines ≤ 10,000)


def _split_sum(name: str, total: Expr, taken: set[str]) -> list[str]:
    """`name = total`, or, when that line is longer than SUM_CHARS and `total` a sum, the sum in
    parts `name_sum1 = t1 + … + tk`, `name_sum2 = name_sum1 + …`, …, `name = name_sumN + …`."""
    text = to_text(total)
    if len(text) <= SUM_CHARS or total.op not in ("add", "sub"):
        return [f"{name} = {text}"]
    terms: list[tuple[str, Expr]] = []  # (sign, term) along the sum's left spine
    e = total
    while e.op in ("add", "sub") and len(e.args) == 2:
        terms.append((" + " if e.op == "add" else " - ", e.args[1]))
        e = e.args[0]
    terms.append(("", e))
    terms.reverse()
    lines, part, k = [], "", 0
    for sign, term in terms:
        piece = to_text(term)
        piece = f"({piece})" if term.op in ("add", "sub", "neg") else piece
        if part and len(part) + len(piece) > SUM_CHARS:
            k += 1
            while f"{name}_sum{k}" in taken:
                k += 1
            taken.add(f"{name}_sum{k}")
            lines.append(f"{name}_sum{k} = {part}")
            part = f"{name}_sum{k}"
        part += f"{sign}{piece}" if part else (f"-{piece}" if sign == " - " else piece)
    return [*lines, f"{name} = {part}"]


def relocated(program: HasGraph, shapes: list[Shape], wrt: list[str] | None,
              err: GraphlangError) -> GraphlangError:
    """An error met while running a derivative program, placed in the user's program instead
    (the derivative program's line numbers mean nothing in the user's file)."""
    lines, origins = _program_lines(program, shapes, wrt, header=False)
    at: Origin = None
    if err.line is not None:
        row = 0
        for text, origin in zip(lines, origins):
            row += text.count("\n") + 1
            if err.line <= row:
                at = origin
                break
    line, column = at if at is not None else (None, None)
    message = err.message if err.message.startswith("the derivative") else \
        f"the derivative program: {err.message}"
    hint = err.hint
    if err.kind == "domain" and "overflows" not in err.message and "underflows" not in err.message:  # its derivative
        # (a step past float64's range is not a kink: the interpreter's hint says what to do)
        hint = "the function is not differentiable here (its derivative is not finite); choose another point"
    return GraphlangError(err.kind, message, line, column, hint)


def seed_name(prefix: str, output: str) -> str:
    """The input that seeds a vector output's adjoint (its direction in the VJP)."""
    return f"{prefix}{output}_seed"


def element(name: str, shape: Shape) -> str:
    """The first element of a tensor output, as a program indexes it (`y[0, 0]` for a [1, 1] output)."""
    return f"{name}[{', '.join('0' for _ in shape)}]" if shape else f"{name}[i]"


def scalar_hint(graph: Graph, shapes: list[Shape]) -> str:
    """How to make a program's output one scalar: `output q` where its outputs are numbers (`q[i]`
    indexes nothing: a student's find), else a sum or an element of the tensor."""
    last = graph.outputs[-1]
    if len(graph.outputs) > 1 and all(shapes[graph.slot_of[o]] == () for o in graph.outputs):
        return f"name the one output meant: output {last} (or a sum of them)"
    tensor = [o for o in graph.outputs if shapes[graph.slot_of[o]] != ()][-1]  # (s[i] of a scalar s: a
    scalars = [o for o in graph.outputs if shapes[graph.slot_of[o]] == ()]  # student's find)
    return (f"name the one output meant (output {scalars[-1]}), or " if scalars else "") + \
        f"differentiate sum({tensor}) or an element " + element(tensor, shapes[graph.slot_of[tensor]])


def closed_forms(program: HasGraph, shapes: list[Shape], wrt: list[str] | None = None
                 ) -> dict[str, Expr]:
    """∂y/∂x for each input as one expression in the inputs (scalar outputs)."""
    g = program.graph
    outs = g.outputs
    if len(outs) != 1 or shapes[g.slot_of[outs[0]]] != ():
        shape = shapes[g.slot_of[outs[0]]]
        what = f"outputs {', '.join(outs)}" if len(outs) > 1 else f"{outs[0]!r} has shape {list(shape)}"
        line, column = g.checked.output_pos or g.position(outs[-1])  # the `output` statement, or the last line
        raise GraphlangError("shape", f"closed-form derivatives need a single scalar output ({what})",
                             line, column, hint="use `graphlang diff --program` for vector-valued programs, "
                             f"or differentiate a scalar of it such as sum(…) or an element {element(outs[0], shape)}")
    adj = adjoint.build(g, shapes, partials=False)  # (the terms alone)
    b = Builder(tidy=True, shapes={n: shapes[g.slot_of[n]] for n in g.names})
    full: dict[str, Expr] = {}
    for st in g.statements:
        full[st.name] = b.substitute(adj.forward[st.name], full)
    grads: dict[str, Expr] = {adj.g(outs[0]): b.const(1.0)}
    env = ChainMap(grads, full)  # both, grads first; never copied per term (quadratic in statements)
    for name in [st.name for st in reversed(g.statements)] + list(g.inputs):
        if name == outs[0]:
            continue
        acc: Expr | None = None
        for term in adj.terms.get(name, []):
            e = b.substitute(term.expr, env)
            acc = e if acc is None else b.mk("add", (acc, e))
        grads[adj.g(name)] = acc if acc is not None else b.const(0.0)
    result = {n: grads[adj.g(n)] for n in (wrt or g.inputs)}
    for n, e in result.items():
        if b.shape_of(e) == () != shapes[g.slot_of[n]]:  # (no path from a vector b: its zeros, not 0)
            result[n] = e = b.mk("expand", (e, b.var(n)))
        if printed_size(e) > MAX_CLOSED_FORM:
            out = g.statement(outs[0])  # (located at the output's statement, where the swell ends)
            raise GraphlangError("limit", f"the closed form of d{outs[0]}/d{n} has more than "
                                 f"{MAX_CLOSED_FORM:,} terms (expression swell)", out.line if out else None,
                                 out.column if out else None,
                                 hint="use `graphlang diff --program`, which shares subexpressions")
    return result


_MANY = 1 << 60  # more nodes than any limit allows: exact counts past it grew to 40,000-bit integers


def printed_size(e: Expr, memo: dict[int, int] | None = None) -> int:
    """Nodes in the printed tree (shared subexpressions counted each time they print). `memo` (node id
    -> size) may be shared by calls on the expressions of one builder, which keeps every node alive."""
    size: dict[int, int] = {} if memo is None else memo
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in size:
            continue
        if expanded or not node.args:  # (saturated: a count of 2^40000 terms is only "too many")
            size[id(node)] = min(_MANY, 1 + sum(size[id(a)] for a in node.args))
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in node.args if id(a) not in size)
    return size[id(e)]


def text_forms(program: HasGraph, shapes: list[Shape], forms: dict[str, Expr],
               used: set[str] | None = None) -> dict[str, str]:
    """Each closed form as the text `diff` prints: `.cg` source when that needs no helper (a program
    of scalars: `2 * x`); else the lecture's matrix calculus in Unicode (`1 xᵀ`, `Aᵀ 1`, `s·e₁ e₂ᵀ`),
    never `expand(…)` or `embed(…)` (`diff --program` is the runnable form)."""
    known = name_shapes(program.graph, shapes)
    if all(s == () for s in known.values()) and not any(
            node.op in ("expand", "embed", "outer") for e in forms.values() for node in postorder(e)):
        return {n: to_text(e) for n, e in forms.items()}
    return {n: to_text(e, "math", shapes=known, used=used) for n, e in forms.items()}  # (`used`: the legend)


def render(e: Expr, latex: bool = False, style: str = "cg") -> str:
    return to_latex(e) if latex else to_text(e, style)


def name_shapes(graph: Graph, shapes: list[Shape]) -> dict[str, Shape]:
    """Each name's shape, for printing matrix calculus (`to_latex(e, shapes)`)."""
    return {n: shapes[s] for n, s in graph.slot_of.items()}


def latex_equations(program: HasGraph, shapes: list[Shape], forms: dict[str, Expr],
                    width: float = texbreak.WIDTH, at_point: dict[str, Any] | None = None) -> list[str]:
    """`\\frac{∂y}{∂x} = …` per derivative, in matrix calculus, broken over lines when wider than `width`;
    `at_point`: a scalar derivative's value there after its form (`diff --latex --at`)."""
    out = program.graph.outputs[0]
    known = name_shapes(program.graph, shapes)
    value = {n: " = " + _tex_number(float(v)) for n, v in (at_point or {}).items() if not getattr(v, "shape", ())}
    with tensor_names(tensors_in(known)):
        return [texbreak.equation(f"\\frac{{\\partial {tex_name(out)}}}{{\\partial {tex_name(n)}}}",
                                  to_latex(e, known, "e" in known) + value.get(n, ""), width) for n, e in forms.items()]


def _tex_number(v: float) -> str:
    """7 significant digits, a power of ten written as one: `1.2 \\times 10^{20}`, not 1.2e+20."""
    mantissa, _, exponent = f"{v:.7g}".partition("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}" if exponent else mantissa
