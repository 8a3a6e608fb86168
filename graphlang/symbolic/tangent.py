"""Source-to-source forward mode: each named node's tangent as an expression in its reads' tangents.

For each statement `v = expr`, forward mode over that statement's own equations gives, for every
name `u` it reads, the contribution of `u̇` to `v̇` (a Jacobian-vector product for tensors), built
from the primitive table's JVP rules, and for a scalar `u` the local derivative ∂v/∂u (the same
with `u̇ = 1`). `explain --mode forward` prints them: the tangent pass is what forward mode computes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from graphlang.errors import GraphlangError
from graphlang.ir import rules
from graphlang.ir.graph import Eqn, Graph
from graphlang.ir.rules import arg_names
from graphlang.language.ast import Expr, names
from graphlang.primitives.shapes import Shape
from graphlang.symbolic.adjoint import statement_exprs
from graphlang.symbolic.algebra import Builder, is_zero

DOT, AFTER = "\u0307", "\u02d9"  # ȧ is the tangent of a (∂a/∂x for the seeded input x); alpha1˙

STEPS_PER_SHOWN = 20  # chain-rule steps a forward-mode display may take per operation it may show


def dot(name: str) -> str:
    """The tangent's name: a dot over a one-letter name (`ȧ`, `ḣ1`, `ż_2`), after a longer one
    (`alpha1˙`, where `ȧlpha1` would misread); in LaTeX `\\dot{a}`, `\\dot{\\alpha}_{1}`."""
    word = name.rstrip("0123456789").partition("_")[0]
    return unicodedata.normalize("NFC", name[0] + DOT) + name[1:] if len(word) == 1 else name + AFTER


@dataclass
class Read:
    """One name a statement reads: its contribution to the statement's tangent and, where both are
    scalars, the local derivative (the contribution is then `partial · u̇`)."""

    name: str
    contrib: Expr | None  # in u̇ (and the forward names); None where `partial` says it all (scalars)
    partial: Expr | None

    def printed(self) -> Expr:
        """What the step prints for this read (for the size of the text)."""
        shown = self.contrib if self.contrib is not None else self.partial
        assert shown is not None
        return shown


@dataclass
class Tangents:
    forward: dict[str, Expr]  # each name's definition, in names
    reads: dict[str, list[Read]] = field(default_factory=dict)  # statement -> the names it reads
    builder: Builder = field(default_factory=Builder)


def build(graph: Graph, shapes: list[Shape]) -> Tangents:
    """Every statement's reads with their JVP contributions, in the order the statement reads them.
    The last one built is kept on the graph (grading asks again for every tangent it checks)."""
    last = graph.__dict__.get("_tangents")
    if last is not None and last[0] == tuple(shapes):
        return last[1]  # type: ignore[no-any-return]
    tan = _build(graph, shapes)
    graph.__dict__["_tangents"] = (tuple(shapes), tan)
    return tan


def _build(graph: Graph, shapes: list[Shape]) -> Tangents:
    known: dict[str, Shape] = {}
    for n, slot in graph.slot_of.items():
        known.update({n: shapes[slot], dot(n): shapes[slot]})
    b = Builder(shapes=known)
    out = Tangents({}, builder=b)
    name_of = graph.name_of
    _charge(graph)
    for k, st in enumerate(graph.statements):
        eqns, sym, expr_of = statement_exprs(graph, b, k)
        out.forward[st.name] = sym[eqns[-1].out]
        sym[eqns[-1].out] = b.var(st.name)  # a rule's `out` is the node (z = tanh(a): 1 - z², as reverse mode)
        read = list(dict.fromkeys(name_of[i] for eq in eqns for i in eq.ins
                                  if i in name_of and i not in graph.consts))
        order = {n: k for k, n in enumerate(names(out.forward[st.name]))}  # as the statement reads them
        read.sort(key=lambda n: order.get(n, len(order)))
        reads = []
        # a step of scalars: each contribution is partial · u̇ (else the JVP as the rules write it)
        scalar = all(shapes[graph.slot_of[n]] == () for n in (st.name, *read))
        for u in read:
            if scalar:
                reads.append(Read(u, None, _jvp(b, graph, shapes, eqns, sym, expr_of, u, b.const(1.0))))
            else:
                reads.append(Read(u, _jvp(b, graph, shapes, eqns, sym, expr_of, u, b.var(dot(u))), None))
        out.reads[st.name] = reads
    return out


def _charge(graph: Graph) -> None:
    """Each name a statement reads gets its chain rule through the statement's operations: reads ×
    operations steps, refused past the display budget (one statement summing 4,000 nodes took a
    minute: an attacker red team's find)."""
    budget = STEPS_PER_SHOWN * graph.limits.max_shown_nodes
    total = 0
    for k, st in enumerate(graph.statements):
        start, stop = graph.stmt_eqns[k]
        reads = len({i for eq in graph.eqns[start:stop] for i in eq.ins if i in graph.name_of})
        total += reads * (stop - start)
        if total > budget:
            raise GraphlangError("limit", f"forward mode's chain rules would take {total:,} steps by {st.name} "
                                 f"(each of the {reads:,} names it reads through its {stop - start:,} operations); "
                                 f"the display budget is {budget:,} (max_shown_nodes × {STEPS_PER_SHOWN})",
                                 st.line, st.column, "split the statement into sums of a few terms (reverse mode, "
                                 "explain's default, has no such cost); the max_shown_nodes limit raises the budget")


def _jvp(b: Builder, graph: Graph, shapes: list[Shape], eqns: list[Eqn], sym: dict[int, Expr],
         expr_of: Callable[[int], Expr], u: str, seed: Expr) -> Expr:
    """The statement's tangent when only `u` moves (its tangent `seed`): the JVP rules, in order."""
    tan: dict[int, Expr] = {graph.slot_of[u]: seed}
    for eq in eqns:
        if not any(i in tan for i in eq.ins):  # (not downstream of u: nothing to write)
            continue
        in_shapes = tuple(shapes[i] for i in eq.ins)
        rule = rules.rule_exprs(eq.prim.name, "jvp", eq.attr, in_shapes)
        env = {n: expr_of(i) for n, i in zip(arg_names(len(eq.ins)), eq.ins)}
        env["out"] = sym[eq.out]
        total: Expr | None = None
        for kk, i in enumerate(eq.ins):
            if rule[kk] is None or i not in tan:
                continue
            c = b.substitute(rule[kk], {**env, "t": tan[i]})  # type: ignore[arg-type]
            if is_zero(c):
                continue
            total = c if total is None else b.mk("add", (total, c))
        if total is not None:
            tan[eq.out] = total
    return tan.get(eqns[-1].out, b.const(0.0))
