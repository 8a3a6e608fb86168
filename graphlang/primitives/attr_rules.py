"""Derivative rules that depend on a primitive's attribute or argument shapes (written in .cg)."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.primitives import shapes as S

Rules = tuple[str | None, ...]


def dpow_partials(attr: Any) -> Rules:
    k, m = attr
    return (f"dpow(x, y, {k + 1}, {m})", f"dpow(x, y, {k}, {m + 1})")


def dpow_shape(shapes: list[S.Shape], attr: Any) -> S.Shape:
    if len(attr) != 2 or min(attr) < 0:
        raise S.ShapeError("dpow takes two orders of differentiation after its arguments, "
                           "e.g. dpow(x, y, 1, 0)", "argument")
    return S.elementwise(shapes, attr, "dpow")


def matmul_vjp(attr: Any, shapes: list[S.Shape]) -> Rules:
    ranks = (len(shapes[0]), len(shapes[1]))
    return {(1, 1): ("g * y", "g * x"), (2, 1): ("outer(g, y)", "x.T @ g"),
            (1, 2): ("y @ g", "outer(x, g)"), (2, 2): ("g @ y.T", "x.T @ g")}[ranks]


def axis_text(attr: Any) -> str:
    return "" if attr is None else f", {attr}"


def count(attr: Any, shapes: list[S.Shape]) -> int:
    s = shapes[0]
    return int(np.prod(s)) if attr is None else s[attr]


def softmax_vjp(attr: Any, shapes: list[S.Shape]) -> Rules:
    if len(shapes[0]) == 1:
        return ("out * (g - sum(g * out))",)
    return ("out * (g - expand(sum(g * out, -1), out, -1))",)


def softmax_jvp(attr: Any, shapes: list[S.Shape]) -> Rules:
    if len(shapes[0]) == 1:
        return ("out * (t - sum(t * out))",)
    return ("out * (t - expand(sum(t * out, -1), out, -1))",)


def logsoftmax_vjp(attr: Any, shapes: list[S.Shape]) -> Rules:
    if len(shapes[0]) == 1:
        return ("g - exp(out) * sum(g)",)
    return ("g - exp(out) * expand(sum(g, -1), out, -1)",)


def logsoftmax_jvp(attr: Any, shapes: list[S.Shape]) -> Rules:
    if len(shapes[0]) == 1:
        return ("t - sum(t * exp(out))",)
    return ("t - expand(sum(t * exp(out), -1), out, -1)",)


def index_text(attr: Any) -> str:
    return ", ".join(str(i) for i in attr)
