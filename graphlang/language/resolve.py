"""Static checks: resolve calls to primitives, enforce define-before-use and never-redefine."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from graphlang.errors import GraphlangError
from graphlang.language.ast import DeclItem, Expr, PointLiteral, Statement, tree_nodes
from graphlang.language.shapecheck import context
from graphlang.language.suggest import operator_hint, suggest, told
from graphlang.primitives.table import CONSTANTS, HELPERS, builtin_names, lookup, reserved_name

KEYWORDS = ("input", "param", "output")


def named_once(items: list[DeclItem]) -> None:
    """`output y, y` is an error (reverse mode gave a wrong Jacobian for it): each output once."""
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            raise GraphlangError("redefined", f"{item.name!r} is named twice in the output",
                                 item.line, item.column, "name each output once")
        seen.add(item.name)


def _int_literal(e: Expr) -> int | None:
    if isinstance(e, PointLiteral) or e.op == "neg" and isinstance(e.args[0], PointLiteral):
        return None  # `sum(A, 1.0)`: a value, written as one
    if e.op == "neg" and e.args[0].op == "const":
        v = -float(e.args[0].attr)  # type: ignore[arg-type]
    elif e.op == "const":
        v = float(e.attr)  # type: ignore[arg-type]
    else:
        return None
    return int(v) if v == int(v) and abs(v) < 2**31 else None


def _resolve_call(node: Expr, args: list[Expr]) -> Expr:
    fname = str(node.attr)
    prim = lookup(fname)
    if prim is None:
        near = suggest(fname)
        raise GraphlangError(
            "unknown-function", f"unknown function {fname!r}" + (f"; did you mean {near!r}?" if near else ""),
            node.line, node.column,
            f"write {near}(...)" if near else operator_hint(fname, args) or (
                f"for a product write {fname} * (...); built-in functions: " + ", ".join(told())))
    n_tensor = prim.arity if prim.arity >= 0 else len(args)  # concat(u, v, ...): any number
    attrs: list[int] = []
    if prim.attr_args:
        extra = args[n_tensor:]
        for k, a in enumerate(extra):
            lit = _int_literal(a)
            if lit is None:
                number = (a.attr if a.op == "const" else -a.args[0].attr  # type: ignore[operator]
                          if a.op == "neg" and a.args[0].op == "const" else None)  # `sum(A, 0.5)`: no expression
                whole = isinstance(number, float) and number.is_integer()  # `sum(A, 1.0)`
                if whole and isinstance(number, float) and abs(number) >= 2 ** 31:  # (an integer read as a float)
                    raise GraphlangError("index", f"{fname}: argument {n_tensor + k + 1} is a number far past any "
                                         "axis or index", a.line, a.column,
                                         "an axis is 0, 1, … from the first (or -1, -2, … from the last)")
                raise GraphlangError("argument", f"{fname}: argument {n_tensor + k + 1} must be an integer "
                                     "literal (an axis or index), not " + (
                                         f"{number!r}" if whole else f"{number:g}" if isinstance(number, float)
                                         else "an expression"), a.line, a.column,
                                     f"write it without a point: {fname}(u, {number:.0f})" if whole else
                                     f"for example {fname}(u, 0)" if prim.attr_args == 1 and prim.arity == 1
                                     else f"{fname}: {prim.doc}")
            attrs.append(lit)
        args = args[:n_tensor]
    max_args = n_tensor + (1 if prim.attr_args == 1 else 0 if prim.attr_args == 0 else prim.attr_count or 8)
    min_args = n_tensor + (0 if prim.optional_attr or prim.attr_args == 0 else prim.attr_count or 1)
    if prim.arity < 0:  # concat() joins nothing
        min_args, max_args = 1, max(len(args), 1)
    total = len(args) + len(attrs)
    if not (min_args <= total <= max_args) or len(args) != n_tensor:
        want = "at least 1" if prim.arity < 0 else str(min_args) if min_args == max_args else \
            f"{min_args} to {max_args}"
        base = prim.name == "ln" and total == 2  # log(x, 2): a base
        reduce = prim.name in ("max", "min") and total == 1  # max(u): the largest element
        raise GraphlangError("arity", f"{fname} takes {want} argument{'s' * (max_args != 1)}, "
                             f"got {total}", node.line, node.column,
                             f"{fname} is the natural logarithm: to base b write ln(x) / ln(b)" if base else
                             f"{fname}(u, v) is elementwise; there is no reduce-{fname} over a vector "
                             + ("(logsumexp(u) is a smooth maximum)" if prim.name == "max" else
                                "(-logsumexp(-u) is a smooth minimum)") if reduce else
                             f"{fname}: {prim.doc}" if prim.doc else None)
    attr: object = None
    if prim.attr_args == 1:
        attr = attrs[0] if attrs else None
    elif prim.attr_args == -1:
        attr = tuple(attrs)
    return Expr(prim.name, tuple(args), attr, node.line, node.column)


@lru_cache(maxsize=1)
def _callable_names() -> frozenset[str]:
    """Names that are not values: the functions a program is told of (`exp + 1` forgot its call)."""
    return frozenset(builtin_names()) - HELPERS


def resolve(root: Expr, variables: list[Expr] | None = None) -> Expr:
    """Parser Expr -> primitive Expr: calls looked up, `pi` made a constant. Iterative.

    `variables`, if given, collects the variable nodes in order of appearance.
    """
    done: dict[int, Expr] = {}
    callable_names = _callable_names()
    for node in tree_nodes(root):
        op = node.op
        if op == "var":
            name = node.attr
            if name in CONSTANTS:
                done[id(node)] = Expr("const", (), CONSTANTS[str(name)], node.line, node.column)
                continue
            if name in callable_names:
                raise GraphlangError("reserved", f"{name!r} is a built-in function, not a value",
                                     node.line, node.column, f"call it: {name}(...)")
            if variables is not None:
                variables.append(node)
            done[id(node)] = node
            continue
        if op == "const":
            done[id(node)] = node
            continue
        args = [done[id(a)] for a in node.args]
        if op == "call":
            new = _resolve_call(node, args)
        elif op == "index":
            new = Expr("index", tuple(args), tuple(node.attr), node.line, node.column)  # type: ignore
        elif all(a is b for a, b in zip(args, node.args)):
            new = node  # nothing below changed: keep the node
        else:
            new = Expr(op, tuple(args), node.attr, node.line, node.column)
        done[id(node)] = new
    return done[id(root)]


@dataclass
class Checked:
    """A program that passed the static checks, in statement order."""

    assigns: list[Statement]  # expr resolved to primitives
    inputs: list[str]  # in order of first appearance
    params: set[str]
    declared: dict[str, tuple[int, ...] | None]
    decl_line: dict[str, tuple[int, int]]
    outputs: list[str]
    output_pos: tuple[int, int] | None = None
    first_use: dict[str, tuple[int, int]] = field(default_factory=dict)
    lane: list | None = None  # type: ignore[type-arg]  # per assignment: (shape, resolved nodes) or None; the graph drops it


def _reserved(name: str, verb: str = "assigned") -> str | None:
    if name in CONSTANTS:
        return f"{name!r} is the built-in constant {CONSTANTS[name]:.6g} and cannot be {verb}"
    if reserved_name(name):
        return f"{name!r} is a built-in function and cannot be {verb}"
    return None


def declared_as(kind: str) -> str:
    """`'x' is declared as an input`, `as a param` (it said "as an param")."""
    return "an input" if kind == "input" else "a param"


def never_defined(name: str, line: int | None, column: int | None) -> GraphlangError:
    """An output that no statement assigns: `pi` is told it is the constant, not a node."""
    if name in CONSTANTS:
        return GraphlangError("undefined", f"the output {name!r} is the built-in constant {CONSTANTS[name]:.6g}, "
                              "not a node of the program", line, column, f"assign it to a name and output that: "
                              f"p = {name}")
    return GraphlangError("undefined", f"the output {name!r} is never defined", line, column,
                          "assign it, or name another output")


_NOT_PLAIN = frozenset(KEYWORDS) | {"transpose"}  # with CONSTANTS and built-ins: `_reserved` may object


def check(statements: list[Statement]) -> Checked:
    assigned_at: dict[str, Statement] = {}  # (statements, not positions: a million tuples fewer)
    for st in statements:
        if st.kind == "assign" and st.name not in assigned_at:
            assigned_at[st.name] = st
    order: dict[str, None] = {}
    defined: dict[str, Statement] = {}
    declared: dict[str, tuple[int, ...] | None] = {}
    decl_line: dict[str, tuple[int, int]] = {}
    params: set[str] = set()
    outputs: list[str] = []
    output_pos = None
    output_items: list = []  # type: ignore[type-arg]
    assigns: list[Statement] = []
    first_use: dict[str, tuple[int, int]] = {}
    lane = getattr(statements, "lane", None)  # shapes from the fast lane (`lines.py`), used once
    if lane is not None:
        statements.lane = None  # type: ignore[attr-defined]
    resolved: list | None = [] if lane is not None else None  # type: ignore[type-arg]
    special, calls = context()
    plain_names = _NOT_PLAIN | special
    for index, st in enumerate(statements):
        pre = lane[index] if lane is not None else None
        if pre is not None:  # a statement of a known shape: the common case by its generated checker
            lane[index] = None  # type: ignore[index]  # (freed as it goes)
            name = st.name
            nodes = None if name in defined or name in plain_names else \
                pre[0].chk(pre[1], defined, assigned_at, order, first_use, special, calls)
            if nodes is not None:
                resolved.append(pre if nodes is pre[1] else (pre[0], nodes))  # type: ignore[union-attr]
                defined[name] = st
                expr = nodes[-1]
                assigns.append(st if expr is st.expr else  # nothing resolved: the same statement
                               Statement("assign", st.line, st.column, name, expr, st.text, st.items))
                continue
        if st.kind in ("input", "param"):
            for item in st.items:
                why = _reserved(item.name, "declared")
                if why:
                    raise GraphlangError("reserved", why, item.line, item.column, "choose another name")
                if item.name in declared:
                    line = decl_line[item.name][0]
                    raise GraphlangError("redefined", f"{item.name!r} is already declared on line {line}",
                                         item.line, item.column, "declare each input once")
                if item.name in assigned_at:
                    line = assigned_at[item.name].line
                    raise GraphlangError("reserved", f"{item.name!r} is declared as {declared_as(st.kind)} but "
                                         f"assigned on line {line}", line, assigned_at[item.name].column,
                                         "inputs get their values from --at; rename the intermediate")
                if item.shape is not None and 0 in item.shape:  # `input s[0]`: no value could be given
                    raise GraphlangError("shape", f"{item.name!r} is declared with an axis of length 0",
                                         item.line, item.column, "every axis holds at least one number")
                declared[item.name] = item.shape
                decl_line[item.name] = (item.line, item.column)
                order.setdefault(item.name, None)
                if st.kind == "param":
                    params.add(item.name)
        elif st.kind == "output":
            if output_pos is not None:
                raise GraphlangError("redefined", f"the output is already named on line {output_pos[0]}",
                                     st.line, st.column, "name several outputs in one statement: output y1, y2")
            output_pos = (st.line, st.column)
            outputs = [item.name for item in st.items]
            named_once(st.items)
            output_items = st.items
        else:
            why = _reserved(st.name)
            if why or st.name in KEYWORDS:
                raise GraphlangError("reserved", why or f"{st.name!r} is a keyword", st.line, st.column,
                                     "choose another name")
            if st.name in defined:
                raise redefined(st, (defined[st.name].line, defined[st.name].column))
            assert st.expr is not None
            if resolved is not None:
                resolved.append(None)  # the general path: the graph walks this tree
            variables: list[Expr] = []
            expr = resolve(st.expr, variables)
            for node in variables:
                name = str(node.attr)
                if name not in defined and name in assigned_at:
                    where = (assigned_at[name].line, assigned_at[name].column)
                    own = name == st.name
                    raise GraphlangError(
                        "undefined",
                        f"{name!r} is used in its own definition" if own else
                        f"{name!r} is used before it is assigned (on line {where[0]})",
                        node.line, node.column,
                        "a name cannot depend on itself; use a new name" if own else used_before_hint(name))
                if name not in defined:
                    order.setdefault(name, None)
                    first_use.setdefault(name, (node.line or 0, node.column or 0))
            defined[st.name] = st
            assigns.append(st if expr is st.expr else  # nothing resolved: the same statement
                           Statement("assign", st.line, st.column, st.name, expr, st.text, st.items))
    for item in output_items:
        if item.name not in defined and item.name not in order:
            raise never_defined(item.name, item.line, item.column)
    if not assigns and not outputs:
        first = next(iter(declared), None)  # `input x` alone: declared, but nothing computed from it
        raise GraphlangError("empty", "the program has no statements" if first is None else
                             "the program declares its inputs but assigns nothing", None, None,
                             "write at least one assignment, e.g. y = x * z" if first is None else
                             f"write an assignment that reads them, e.g. y = {first} * 2")
    if not outputs:
        outputs = [assigns[-1].name]
    inputs = [n for n in order if n not in defined]
    return Checked(assigns, inputs, params, declared, decl_line, outputs, output_pos, first_use, resolved)


def used_before_hint(name: str) -> str:
    """The way out of "used before it is assigned"; for e, exp (`d = e^a` above a node named e)."""
    return "move this statement after the assignment, or rename" + (
        "; for the exponential write exp(…): e^… is the node e here (there is no constant e)" if name == "e" else "")


def redefined(st: Statement, first: tuple[int, int]) -> GraphlangError:
    """A second assignment, located, naming the first (by its column too when both share a line)."""
    again, before = f"line {st.line}", f"line {first[0]}"
    if first[0] == st.line:  # `y = x * 2; y = 3`: "line 1 … line 1" told the two apart by nothing
        again, before = f"{again} (column {st.column})", f"{before} (column {first[1]})"
    return GraphlangError("redefined", f"{st.name!r} is assigned again on {again}: it is already assigned on "
                          f"{before}", st.line, st.column,
                          f"every name is assigned once; use a new name, e.g. {st.name}2")
