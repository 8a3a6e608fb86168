"""`check` for a statement of a known shape (`lines.py`): generated code instead of a walk of its tree.

A shape's checker does what `resolve` and `check` do to one assignment in the common case (every
name an input or already assigned, every call a primitive of that many arguments and no attribute)
and returns the resolved nodes; in any other case it changes nothing and returns None, and `check`
takes its general path, which reports the error or handles the rare case.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from graphlang.language.ast import Expr
from graphlang.primitives.table import CONSTANTS, builtin_names, lookup

Shape = tuple[tuple[str, tuple[int, ...]], ...]


def tree_order(shape: Shape) -> list[int]:
    """The nodes in `ast.tree_nodes` order (children first, left to right)."""
    out: list[int] = []
    stack = [len(shape) - 1]
    while stack:
        i = stack.pop()
        out.append(i)
        stack.extend(shape[i][1])
    out.reverse()
    return out


@lru_cache(maxsize=1)
def context() -> tuple[frozenset[str], dict[tuple[str, int], Any]]:
    """Names that are not plain variables; calls that resolve to a primitive without attributes."""
    special = frozenset(CONSTANTS) | frozenset(builtin_names())
    calls = {}
    for name in builtin_names():
        prim = lookup(name)
        if prim is not None and not prim.attr_args:
            calls[(name, prim.arity)] = prim
    return special, calls


class Kind:
    """One shape of statement: its nodes, its checker, and (filled by the graph) its equation builder."""

    __slots__ = ("shape", "chk", "bld")

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.chk = checker(shape)
        self.bld: Any = None


@lru_cache(maxsize=4096)
def checker(shape: Shape) -> Callable[..., tuple[Expr, ...] | None]:
    order = tree_order(shape)
    pre: list[str] = []
    commit: list[str] = []
    resolved = {}
    for i in order:
        kind, kids = shape[i]
        if kind == "var":
            pre.append(f"x{i} = E[{i}].attr")
            pre.append(f"if x{i} in special or (x{i} not in defined and x{i} in assigned_at): return None")
            commit.append(f"if x{i} not in defined:\n        order.setdefault(x{i}, None)\n"
                          f"        first_use.setdefault(x{i}, (E[{i}].line or 0, E[{i}].column or 0))")
            resolved[i] = f"E[{i}]"
        elif kind == "const":
            resolved[i] = f"E[{i}]"
        elif kind == "call":
            pre.append(f"p{i} = calls.get((E[{i}].attr, {len(kids)}))")
            pre.append(f"if p{i} is None: return None")
            args = "".join(f"{resolved[k]}, " for k in kids)
            commit.append(f"R{i} = X(p{i}.name, ({args}), None, E[{i}].line, E[{i}].column)")
            resolved[i] = f"R{i}"
        elif any(resolved[k] != f"E[{k}]" for k in kids):  # a call below: a new node (as `resolve`)
            args = "".join(f"{resolved[k]}, " for k in kids)
            commit.append(f"R{i} = X(E[{i}].op, ({args}), E[{i}].attr, E[{i}].line, E[{i}].column)")
            resolved[i] = f"R{i}"
        else:
            resolved[i] = f"E[{i}]"
    nodes = "".join(f"{resolved[i]}, " for i in range(len(shape)))
    same = all(resolved[i] == f"E[{i}]" for i in range(len(shape)))
    body = [*pre, *commit, "return E" if same else f"return ({nodes})"]
    src = ("def chk(E, defined, assigned_at, order, first_use, special, calls):\n    "
           + "\n    ".join(body) + "\n")
    ns: dict[str, Any] = {"X": Expr}
    exec(src, ns)  # noqa: S102 - generated from a shape (node kinds), never from a program's text
    return ns["chk"]  # type: ignore[no-any-return]
