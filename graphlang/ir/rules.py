"""Derivative rules from the primitive table: parsed once, compiled once, cached.

The table writes each rule in the .cg language; here a rule becomes (1) a resolved expression,
read by the symbolic engine and `explain`, and (2) a Python function over numpy values, run by the
numeric interpreters. Both come from the same text, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from graphlang.language.ast import Expr, fold
from graphlang.language.parser import parse_expression
from graphlang.language.resolve import resolve
from graphlang.primitives.shapes import Shape
from graphlang.primitives.table import BATCHED, PRIMITIVES

RULE_VARS = ("x", "y", "out", "g", "t")


@lru_cache(maxsize=8192)  # (an index's rule names its indices: distinct programs, distinct texts)
def rule_expr(text: str) -> Expr:
    return resolve(parse_expression(text))


def spread_shape(prim_name: str, in_shapes: tuple[Shape, ...], out_shape: Shape, k: int) -> Shape | None:
    """The shape of argument k's reverse-mode contribution where broadcasting spread it past the
    argument's own shape (elementwise operands, stacks of matrices): the caller sums it back. None:
    the contribution has the argument's shape."""
    prim = PRIMITIVES[prim_name]
    if prim.elementwise:
        have = out_shape
    elif prim_name == "matmul" and max(map(len, in_shapes)) > 2:
        core = sum(len(s) >= 2 for s in in_shapes)  # the axes of the product itself, not the stack
        have = out_shape[:len(out_shape) - core] + in_shapes[k][-2:]
    else:
        return None
    return None if have == in_shapes[k] else have


def arg_names(arity: int) -> tuple[str, ...]:
    return ("x", "y")[:arity] if arity <= 2 else tuple(f"x{k}" for k in range(arity))


@cache
def arg_positions(arity: int) -> dict[str, int]:
    """Name -> argument index, once per arity: a stack of n entries looks up n rules' names."""
    return {n: k for k, n in enumerate(arg_names(arity))}


@lru_cache(maxsize=4096)
def rule_exprs(prim_name: str, kind: str, attr: Any, shapes: tuple[Shape, ...]) -> tuple[Expr | None, ...]:
    prim = PRIMITIVES[prim_name]
    return tuple(None if r is None else rule_expr(r) for r in prim.rules(kind, attr, list(shapes)))


def _python(e: Expr, params: tuple[str, ...], rest: dict[str, str] | None = None) -> str:
    """Python text of a rule; `rest` maps x0, x1, … of a many-argument primitive to `xs[k]`."""
    def emit(node: Expr, kids: list[str]) -> str:
        if node.op == "const":
            return repr(float(node.attr))  # type: ignore[arg-type]
        if node.op == "var":
            if rest is not None and node.attr in rest:
                return rest[node.attr]
            assert node.attr in params, node.attr
            return str(node.attr)
        call = f"P_{node.op}({', '.join(kids)}"
        return call + (f", {node.attr!r})" if PRIMITIVES[node.op].attr_args else ")")
    return fold(e, emit)


_NAMESPACE: dict[str, Any] = {f"P_{name}": p.impl for name, p in PRIMITIVES.items()}


_BATCHED_NAMESPACE: dict[str, Any] = {f"P_{name}": fn for name, fn in BATCHED.items()}


def _is_zero(e: Expr) -> bool:
    """`0` or `g * (0)`: a rule that contributes nothing, whatever the seed."""
    if e.op == "const":
        return e.attr == 0
    return e.op == "mul" and any(a.op == "const" and a.attr == 0 for a in e.args)


@lru_cache(maxsize=4096)
def compiled(prim_name: str, kind: str, attr: Any, shapes: tuple[Shape, ...], batched: bool = False
             ) -> tuple[Callable[..., Any] | None, ...]:
    """Per argument: f(seed, out, *args) -> contribution (seed is `g` for vjp, `t` for jvp); past two
    arguments f(seed, out, args): a stack of n entries has n rules, and unpacking n each is O(n²)."""
    seed = "g" if kind == "vjp" else "t"
    names = arg_names(len(shapes))
    # past two arguments they come as one sequence xs (a lambda of n named parameters: O(n) to compile)
    rest = None if len(names) <= 2 else {x: f"xs[{k}]" for k, x in enumerate(names)}
    params = (seed, "out") + (names if rest is None else ())
    header = ", ".join(params + (("xs",) if rest is not None else ()))
    fns: list[Callable[..., Any] | None] = []
    for e in rule_exprs(prim_name, kind, attr, shapes):
        if e is None or _is_zero(e):  # sign, step: no contribution (as compiled and symbolic code)
            fns.append(None)
            continue
        # Source generated only from our own rule table, never from user text.
        src = f"lambda {header}: {_python(e, params, rest)}"
        fns.append(eval(src, dict(_BATCHED_NAMESPACE if batched else _NAMESPACE)))  # noqa: S307
    return tuple(fns)
