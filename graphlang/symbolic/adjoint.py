"""Source-to-source reverse mode: the chain rule per named node, as expressions.

For each statement `v = expr`, reverse mode over that statement's own equations gives, for every
name `u` it reads, the contribution `g_v · ∂v/∂u` (a vector-Jacobian product for tensors), built
from the primitive table's rules. Summing the contributions per name gives `g_u`. The result is
used three ways: as a runnable `.cg` derivative program (`diff --program`, the symbolic method),
as the lecture's step-by-step backward pass (`explain`), and as closed-form derivatives (`diff`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from graphlang.ir import rules
from graphlang.ir.graph import Eqn, Graph
from graphlang.ir.rules import arg_names
from graphlang.language.ast import Expr
from graphlang.limits import gc_paused
from graphlang.primitives.shapes import Shape
from graphlang.symbolic.algebra import Builder, is_zero

PREFIXES = ("g_", "grad_", "adj_", "gg_")


@dataclass
class Term:
    """One consumer's contribution to g_u: `consumer` (a name) and `expr` (in g_consumer)."""

    consumer: str
    expr: Expr
    partial: Expr | None  # ∂consumer/∂u when the contribution is g_consumer · partial


@dataclass
class Adjoints:
    prefix: str
    forward: dict[str, Expr]  # each name's definition, in names
    terms: dict[str, list[Term]] = field(default_factory=dict)  # name -> contributions, forward order
    builder: Builder = field(default_factory=Builder)
    # name -> consumers that read it on a path to the output but whose ∂consumer/∂name is 0 as built
    # (a = x * 0, step(x)): no term, yet not "no path" (explain and the worksheet say g_a·0)
    zeros: dict[str, list[str]] = field(default_factory=dict)

    def g(self, name: str) -> str:
        return self.prefix + name

    def total(self, name: str) -> Expr:
        """g_name as the sum of its terms (0 if no path from it to the output)."""
        b = self.builder
        acc: Expr | None = None
        for term in self.terms.get(name, []):
            if is_zero(term.expr):
                continue  # a zero contribution (e.g. through step or sign)
            acc = term.expr if acc is None else b.mk("add", (acc, term.expr))
        return acc if acc is not None else b.const(0.0)


def choose_prefix(names: list[str]) -> str:
    for p in PREFIXES:
        if not any(n.startswith(p) for n in names):
            return p
    return "g" * 3 + "_"


def build(graph: Graph, shapes: list[Shape], outputs: Sequence[str] | None = None,
          partials: bool = True) -> Adjoints:
    """Local reverse mode inside every statement, with g_<statement> symbolic; only statements
    with a path to `outputs` (default: the program's) get terms (`graph` draws every edge). Each
    term's `partial` (∂consumer/∂u, for explanations and drawings) only with `partials`.
    The last one built is kept on the graph (a command may ask again: gradcheck, a Hessian per input)."""
    key = (tuple(shapes), None if outputs is None else tuple(outputs))
    last = graph.__dict__.get("_adjoints")
    if last is not None and last[0] == key and (last[2] or not partials):
        return last[1]  # type: ignore[no-any-return]
    with gc_paused():  # many small acyclic objects: the cyclic GC would only slow this down
        adj = _build(graph, shapes, outputs, partials)
    graph.__dict__["_adjoints"] = (key, adj, partials)
    return adj


def _build(graph: Graph, shapes: list[Shape], outputs: Sequence[str] | None, partials: bool) -> Adjoints:
    prefix = choose_prefix(graph.names)
    known: dict[str, Shape] = {}
    for n, slot in graph.slot_of.items():  # names, their adjoints and seeds: shapes for the builder
        known.update({n: shapes[slot], prefix + n: shapes[slot], prefix + n + "_seed": shapes[slot]})
    b = Builder(shapes=known)
    adj = Adjoints(prefix, {}, builder=b)
    name_of = graph.name_of
    relevant = set(graph.outputs if outputs is None else outputs)  # names with a path to an output
    for k in reversed(range(len(graph.statements))):
        if graph.statements[k].name in relevant:
            start, stop = graph.stmt_eqns[k]
            relevant.update(name_of[i] for eq in graph.eqns[start:stop] for i in eq.ins if i in name_of)
    for k, st in enumerate(graph.statements):
        eqns, sym, expr_of = statement_exprs(graph, b, k)
        root = eqns[-1].out
        adj.forward[st.name] = sym[root]
        sym[root] = b.var(st.name)  # later statements see the name, not the expression
        if st.name not in relevant:
            continue
        gsym = b.var(adj.g(st.name))
        local: dict[int, Expr] = {root: gsym}
        termed: set[str] = set()  # names this statement gave a term
        unit: dict[int, Expr] = {root: b.const(1.0)}  # the same with g = 1: the partial
        for eq in reversed(eqns):
            if eq.out not in local:  # read only for its shape (`expand(g, u)`): no path to the output
                continue
            in_shapes = tuple(shapes[i] for i in eq.ins)
            rule = rules.rule_exprs(eq.prim.name, "vjp", eq.attr, in_shapes)
            env = {n: expr_of(i) for n, i in zip(arg_names(len(eq.ins)), eq.ins)}
            env["out"] = sym[eq.out]
            env["g"] = local[eq.out]  # one env per equation, not a copy per argument (a stack has n)
            unit_env = {**env, "g": unit[eq.out]} if partials else env
            for kk, i in enumerate(eq.ins):
                if rule[kk] is None or i in graph.consts:
                    continue
                if eq.out not in local:
                    continue  # a zero adjoint: nothing flows back (no 0 · ∞ from a rule)
                contrib = b.substitute(rule[kk], env)  # type: ignore[arg-type]
                if is_zero(contrib):
                    continue
                part = b.substitute(rule[kk], unit_env) if partials else None  # type: ignore[arg-type]
                spread = rules.spread_shape(eq.prim.name, in_shapes, shapes[eq.out], kk)
                if spread is not None:  # summed back over the axes broadcasting added or stretched
                    like = expr_of(i)
                    contrib = _fit(b, contrib, spread, shapes[i], like)
                    if part is not None and b.shape_of(part) == spread:  # else an elementwise factor: kept
                        part = _fit(b, part, spread, shapes[i], like)
                if i in name_of:
                    _add_term(adj, name_of[i], st.name, contrib, part)
                    termed.add(name_of[i])
                else:
                    local[i] = contrib if i not in local else b.mk("add", (local[i], contrib))
                    if part is not None:
                        unit[i] = part if i not in unit else b.mk("add", (unit[i], part))
        for n in dict.fromkeys(name_of[i] for eq in eqns for i in eq.ins if i in name_of and i not in graph.consts):
            if n not in termed:
                adj.zeros.setdefault(n, []).append(st.name)
    return adj


def statement_exprs(graph: Graph, b: Builder, k: int) -> tuple[list[Eqn], dict[int, Expr], Callable[[int], Expr]]:
    """Statement k's equations, the expression of each of its temporaries (in names: the program's
    names, constants as numbers), and the reader of a slot as an expression: where both modes start."""
    start, stop = graph.stmt_eqns[k]
    eqns = graph.eqns[start:stop]
    sym: dict[int, Expr] = {}

    def expr_of(slot: int) -> Expr:
        if slot in sym:
            return sym[slot]
        if slot in graph.consts:
            return b.const(graph.consts[slot])
        return b.var(graph.name_of[slot])

    for eq in eqns:
        sym[eq.out] = b.mk(eq.prim.name, tuple(expr_of(i) for i in eq.ins), eq.attr)
    return eqns, sym, expr_of


def _fit(b: Builder, e: Expr, out_shape: Shape, want: Shape, like: Expr) -> Expr:
    """Sum a contribution over the axes that broadcasting added or stretched (the adjoint of a
    broadcast): leading axes are summed away, and an axis where `want` has size 1 is summed and
    kept (`expand` over that axis of `like`, an expression of shape `want`)."""
    if want == out_shape or is_zero(e):
        return e
    if want == ():
        return b.mk("sum", (e,), None)
    for _ in range(len(out_shape) - len(want)):
        e = b.mk("sum", (e,), 0)
    stretched = [axis for axis, n in enumerate(want) if n == 1 and out_shape[len(out_shape) - len(want) + axis] != 1]
    if len(stretched) == len(want):
        return b.mk("expand", (b.mk("sum", (e,), None), like), None)
    for axis in reversed(stretched):
        e = b.mk("sum", (e,), axis)
    for i, axis in enumerate(stretched):  # back to size 1, one axis at a time
        target = like
        for later in reversed(stretched[i + 1:]):
            target = b.mk("sum", (target,), later)
        e = b.mk("expand", (e, target), axis)
    return e


def _add_term(adj: Adjoints, name: str, consumer: str, contrib: Expr, part: Expr | None) -> None:
    terms = adj.terms.setdefault(name, [])
    # statements are visited in order, so the same consumer can only be the last one (constant
    # time: a name read by 20,000 statements must not be searched 20,000 times)
    if terms and terms[-1].consumer == consumer:  # the name appears twice in one statement
        t = terms[-1]
        t.expr = adj.builder.mk("add", (t.expr, contrib))
        t.partial = adj.builder.mk("add", (t.partial, part)) if t.partial is not None and part is not None else None
        return
    terms.append(Term(consumer, contrib, part))
