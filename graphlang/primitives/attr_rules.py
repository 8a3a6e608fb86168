"""Derivative rules that depend on a primitive's attribute or argument shapes (written in .cg)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graphlang.primitives import shapes as S

Rules = tuple[str | None, ...]


def dpow_partials(attr: Any) -> Rules:
    k, m = attr
    return (f"dpow(x, y, {k + 1}, {m})", f"dpow(x, y, {k}, {m + 1})")


DPOW_MAX_ORDER = 64  # its coefficients cost O(order²): dpow(x, 2.5, 100000, 0) ran for 13 s


def dpow_work(attr: Any) -> int:
    """Operations per element: Σ_j over m+1 terms of a coefficient built in O(k²) (dpow(v, v, 64, 64)
    on 10⁶ elements was priced as one operation each and ran for minutes under the budget)."""
    k, m = attr
    return 1 if (k, m) in ((0, 0), (1, 0)) else (m + 1) * (k + 1) ** 2 // 2 + 1


def dpow_shape(shapes: list[S.Shape], attr: Any) -> S.Shape:
    if len(attr) != 2 or min(attr) < 0:
        raise S.ShapeError("dpow takes two orders of differentiation after its arguments, "
                           "e.g. dpow(x, y, 1, 0)", "argument")
    if max(attr) > DPOW_MAX_ORDER:
        raise S.ShapeError(f"dpow's orders of differentiation go up to {DPOW_MAX_ORDER}, "
                           f"not {max(attr)}", "argument",
                           "dpow(x, y, k, m) is ∂^k/∂x^k ∂^m/∂y^m of x^y; use smaller orders")
    return S.elementwise(shapes, attr, "dpow")


def matmul_vjp(attr: Any, shapes: list[S.Shape]) -> Rules:
    """Past two axes (stacks of matrices) the contributions have the broadcast stack's shape: every
    interpreter sums them back to the argument's shape, as for elementwise broadcasting."""
    ranks = (len(shapes[0]), len(shapes[1]))
    if max(ranks) <= 2:
        return {(1, 1): ("g * y", "g * x"), (2, 1): ("outer(g, y)", "x.T @ g"),
                (1, 2): ("y @ g", "outer(x, g)"), (2, 2): ("g @ y.T", "x.T @ g")}[ranks]
    if ranks[0] == 1:  # a row times each matrix of the stack
        return ("sum(y * expand(g, y, -2), -1)", "mT(expand(g, mT(y), -1) * x)")
    if ranks[1] == 1:  # each matrix of the stack times a column
        return ("expand(g, x, -1) * y", "sum(x * expand(g, x, -1), -2)")
    tx, ty = ("x.T" if ranks[0] == 2 else "mT(x)"), ("y.T" if ranks[1] == 2 else "mT(y)")
    return (f"g @ {ty}", f"{tx} @ g")


def axis_text(attr: Any) -> str:
    return "" if attr is None else f", {attr}"


def count(attr: Any, shapes: list[S.Shape]) -> int:
    s = shapes[0]
    return int(np.prod(s)) if attr is None else s[attr]


def over_last_axis(template: str) -> Callable[[Any, list[S.Shape]], Rules]:
    """A rule with one sum over the last axis, written `[...]` in `template`: a plain sum for a vector;
    for a matrix, each row's sum broadcast back along the row."""
    def rule(attr: Any, shapes: list[S.Shape]) -> Rules:
        if len(shapes[0]) == 1:
            return (template.replace("[", "sum(").replace("]", ")"),)
        return (template.replace("[", "expand(sum(").replace("]", ", -1), out, -1)"),)
    return rule


softmax_vjp = over_last_axis("out * (g - [g * out])")
softmax_jvp = over_last_axis("out * (t - [t * out])")
logsoftmax_vjp = over_last_axis("g - exp(out) * [g]")
logsoftmax_jvp = over_last_axis("t - [t * exp(out)]")


def _last(attr: Any, shapes: list[S.Shape]) -> bool:
    """Whether logsumexp reduces the last axis (softmax's: computed from x - max(x), it keeps the
    digits that exp(x - out) loses where `out` rounds them away, relative 1e-6 at |u| ≈ 1e10)."""
    n = len(shapes[0])
    return n == 1 if attr is None else attr % n == n - 1


def _lse_weights(attr: Any) -> str:
    """∂out/∂x where the reduced axis is not the last (softmax's): exp(x - out) normalized by its own
    sum. The rounding of `out` (1e15 + ln 2 to 1e15 + 0.75) scales every exp(x - out) alike and the
    division takes it out; exp(x - out) alone gave 0.47 for 0.5 (a SPEC red team's find)."""
    if attr is None:
        return "exp(x - out) / sum(exp(x - out))"
    k = axis_text(attr)
    e = f"exp(x - expand(out, x{k}))"
    return f"{e} / expand(sum({e}{k}), x{k})"


def logsumexp_vjp(attr: Any, shapes: list[S.Shape]) -> Rules:
    if attr is None:
        return ("g * softmax(x)",) if _last(attr, shapes) else (f"g * {_lse_weights(attr)}",)
    k = axis_text(attr)
    return (f"expand(g, x{k}) * softmax(x)",) if _last(attr, shapes) else \
        (f"expand(g, x{k}) * {_lse_weights(attr)}",)


def logsumexp_jvp(attr: Any, shapes: list[S.Shape]) -> Rules:
    if attr is None:
        return ("dot(t, softmax(x))",) if _last(attr, shapes) else (f"sum(t * {_lse_weights(attr)})",)
    k = axis_text(attr)
    return (f"sum(t * softmax(x){k})",) if _last(attr, shapes) else (f"sum(t * {_lse_weights(attr)}{k})",)


def index_text(attr: Any) -> str:
    return ", ".join(str(i) for i in attr)


def concat_vjp(attr: Any, shapes: list[S.Shape]) -> Rules:
    return tuple(f"g[{a}]" if short else f"rows(g, {a}, {a + n})" for a, n, short in S.concat_layout(shapes)[1])


def concat_jvp(attr: Any, shapes: list[S.Shape]) -> Rules:
    return tuple(f"embed(t, out, {a})" if short else f"padrows(t, out, {a})"
                 for a, n, short in S.concat_layout(shapes)[1])
