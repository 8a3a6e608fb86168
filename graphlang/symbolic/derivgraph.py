"""The derivative program's graph built from its expressions, not printed and parsed again (that took
as long as building the expressions: `hessian`, `grad -m symbolic`, `gradcheck`).

Each `g_v` expression becomes the tree that parsing its printed text gives (shared subexpressions
copied, a negative constant `neg` of its magnitude, every number read back from its literal, attributes
as the parser resolves them), and the program's own statements are reused, so the graph has the same
equations in the same order (tests/test_derivgraph.py compares them on random programs). Where the text
might not parse the same (a limit of the parser could be reached), the answer is None: the caller
prints and parses, which reports what it always reported.
"""

from __future__ import annotations

from graphlang.errors import GraphlangError
from graphlang.ir.graph import Graph
from graphlang.language.ast import Expr, Statement
from graphlang.language.resolve import Checked
from graphlang.limits import Limits, gc_paused
from graphlang.numbers import literal
from graphlang.primitives.shapes import Shape
from graphlang.primitives.table import ATOM, POSTFIX, POW, PRIMITIVES, UNARY
from graphlang.symbolic.derivative import HasGraph, parts, scalars_matter

NUMBER_CHARS = 24  # the longest float literal (`-2.2250738585072014e-308`)
NODE_CHARS = 16  # characters a printed node adds besides its names and numbers: `expand(`, `, `, `) ^ (`…


def derivative_graph(program: HasGraph, shapes: list[Shape], wrt: list[str] | None,
                     limits: Limits) -> Graph | None:
    """The graph of `derivative_program(program, shapes, wrt, header=False)` parsed with `limits`; None
    where that text might reach a limit (the caller parses it, and reports the error). Expression swell
    is refused here as `derivative_program` refuses it."""
    with gc_paused():  # many small acyclic objects: the cyclic GC would only slow this down
        return _derivative_graph(program, shapes, wrt, limits)


def _derivative_graph(program: HasGraph, shapes: list[Shape], wrt: list[str] | None,
                      limits: Limits) -> Graph | None:
    g = program.graph
    p = parts(program, shapes, wrt)
    names = [n for n, _ in p.decls] + [n for n, _, _ in p.grads]
    lines = 2 + len(g.statements) + (p.seeded is not None) + len(p.grads)
    if max(map(len, names), default=0) > limits.max_token_chars or lines > limits.max_statements:
        return None
    per_line = min(limits.max_line_chars, limits.max_statement_tokens)  # (a token is at least a character)
    atom = max(max(map(len, names), default=0), NUMBER_CHARS) + NODE_CHARS
    chars = sum(len(n) + 4 + NODE_CHARS * len(s) for n, s in p.decls) + sum(map(len, p.outputs)) + 2 * len(p.outputs)
    if chars + 16 > per_line:  # the `input` and `output` lines
        return None
    statements = list(g.statements)  # the program's own, as parsed (the same text)
    for st in statements:
        line = len(st.name) + 3 + len(st.text)  # (written `name = text` in the derivative program)
        chars += line + 1
        if line > per_line:
            return None
    if p.seeded is not None:
        statements.append(Statement("assign", 0, 1, p.adj.g(p.seeded), Expr("const", (), 1.0), "1"))
    leaves: dict[object, Expr] = {}
    for name, total, _ in p.grads:
        tree, nodes, tokens, depth = _tree(total, leaves)
        line = (nodes + 1) * atom  # (a printed node is at most `atom` characters)
        chars += line + 1
        if tree is None or line > limits.max_line_chars or tokens + 2 > limits.max_statement_tokens or \
                depth + 2 > limits.max_depth:
            return None
        statements.append(Statement("assign", 0, 1, name, tree, ""))  # (text: printed only for an error)
    if chars > limits.max_source_chars:
        return None
    scalars = scalars_matter(program.graph, shapes)  # `x[]` in the text, as derivative_program writes it
    declared = {n: (() if scalars else None) if s == () else tuple(s) for n, s in p.decls}
    checked = Checked(statements, [n for n, _ in p.decls], set(), declared, {n: (1, 1) for n in declared},
                      list(p.outputs), (lines, 1))
    try:
        return Graph(checked, limits)
    except GraphlangError:  # (a limit: the text, parsed, says where)
        return None


def _leaf(e: Expr, leaves: dict[object, Expr]) -> Expr | None:
    """A name or number as the parser reads its printed form (None: a number that does not print).
    A name or non-negative number is one node however often it occurs (it makes no equation)."""
    key = (e.op, e.attr)
    leaf = leaves.get(key)
    if leaf is not None:
        return leaf if leaf.op != "neg" else Expr("neg", leaf.args)  # (a sign is an equation: one each)
    if e.op == "var":
        leaf = Expr("var", (), e.attr)
    else:
        try:
            text = literal(float(e.attr))  # type: ignore[arg-type]
        except (OverflowError, ValueError):  # inf, nan: no literal
            return None
        leaf = Expr("neg", (Expr("const", (), float(text[1:])),)) if text.startswith("-") else \
            Expr("const", (), float(text))
    leaves[key] = leaf
    return leaf


def _attr(e: Expr) -> object:
    """The attribute as parsing the printed call gives it (`sum(u, 0)`: 0; `x[1, 2]`: (1, 2))."""
    prim = PRIMITIVES[e.op]
    kind = prim.form[0]
    if kind == "index":
        return tuple(e.attr)  # type: ignore[arg-type]
    if kind != "call" or not prim.attr_args or e.attr is None:
        return None
    attrs = e.attr if isinstance(e.attr, tuple) else (e.attr,)
    return tuple(int(a) for a in attrs) if prim.attr_args == -1 else int(attrs[0])


def _tree(root: Expr, leaves: dict[object, Expr]) -> tuple[Expr | None, int, int, int]:
    """The parsed tree of `root`'s printed text, its printed nodes, at most how many tokens it prints
    (a node: its name or operator, brackets, commas and attributes) and how deep the parser nests it
    (brackets, calls, signs, powers, subscripts: its nesting limit's measure). Iterative: a shared
    subexpression prints, so is copied, each time it occurs."""
    done: list[tuple[Expr, int, int]] = []  # (tree, precedence, nesting)
    nodes = tokens = 0
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if node.op == "id":  # prints as its argument
            stack.append((node.args[0], False))
            continue
        nodes += not expanded
        if not node.args:
            leaf = _leaf(node, leaves)
            if leaf is None:
                return None, 0, 0, 0
            tokens += 2
            done.append((leaf, UNARY, 1) if leaf.args else (leaf, ATOM, 0))
        elif expanded:
            k = len(node.args)
            kids = done[-k:]
            del done[-k:]
            kind, _, prec = PRIMITIVES[node.op].form
            attr = _attr(node)
            tokens += 6 + 3 * k + 3 * (len(attr) if isinstance(attr, tuple) else 1)
            nest = 0
            for i, (_, p, n) in enumerate(kids):
                nest = max(nest, n + _bracketed(node.op, kind, prec, i, p))
            own = ATOM if kind in ("call", "stack") else POSTFIX if kind in ("postfix", "index") else prec
            done.append((Expr(node.op, tuple(t for t, _, _ in kids), attr), own,
                         nest + (kind != "infix" or node.op == "pow")))
        else:
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args))
    return done[0][0], nodes, tokens, done[0][2]


def _bracketed(op: str, kind: str, prec: int, i: int, p: int) -> bool:
    """Does argument `i` (of precedence `p`) print in parentheses (`textform.text_step`'s rule)?"""
    if kind == "infix":
        if op == "pow":
            return p <= POW if i == 0 else p < UNARY
        return p < prec if i == 0 else p <= prec
    if kind == "prefix":
        return p < UNARY
    return kind in ("postfix", "index") and p < POSTFIX
