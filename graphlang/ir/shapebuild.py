"""The graph's equations for a statement of a known shape: generated code instead of a walk of its tree.

The same slots, constants and equations, in the same order, as `Graph` makes from the resolved
tree (`ast.tree_nodes` order); `shape`: the nodes' kinds and children in postorder (`lines.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from graphlang.language.shapecheck import Shape, tree_order


@lru_cache(maxsize=4096)
def builder(shape: Shape) -> Callable[..., tuple[int, int]]:
    """`bld(R, k, line, column, slot_of, const_slot, consts, cols, n) -> (n, root slot)`: `cols` the
    appends of the graph's columns (out, op, args, attr, line, column, statement)."""
    body: list[str] = []
    ops = 0
    for i in tree_order(shape):
        kind, kids = shape[i]
        if kind == "var":
            body.append(f"s{i} = slot_of[R[{i}].attr]")
        elif kind == "const":
            body.append(f"v = float(R[{i}].attr)\n    key = repr(v)\n    s{i} = const_slot.get(key)\n"
                        f"    if s{i} is None:\n        const_slot[key] = s{i} = n\n"
                        f"        consts[n] = v\n        n += 1")
        else:
            ins = "".join(f"s{k}, " for k in kids)
            body.append(f"r = R[{i}]\n    O(n); P(r.op); I(({ins})); A(r.attr); L(r.line or line); "
                        f"C(r.column or column); K(k)\n    s{i} = n\n    n += 1")
            ops += 1
    root = len(shape) - 1
    if ops == 0:  # `y = u` or `y = 2`: y is a node of its own
        body.append(f"O(n); P('id'); I((s{root},)); A(None); L(line); C(column); K(k)\n    s{root} = n\n    n += 1")
    body.append(f"return n, s{root}")
    src = ("def bld(R, k, line, column, slot_of, const_slot, consts, cols, n):\n    O, P, I, A, L, C, K = cols\n    "
           + "\n    ".join(body) + "\n")
    ns: dict[str, Any] = {}
    exec(src, ns)  # noqa: S102 - generated from a shape (node kinds), never from a program's text
    return ns["bld"]  # type: ignore[no-any-return]
