"""A forward pass in decimal arithmetic of any precision: the grader's arbiter where float64 (and
extended precision) lose a value's digits. A right formula converges to the true value as digits
are added; cancellation a program makes on purpose (((s + t) − s) − t with s = 1e25) does not hide
a wrong one here, as it does at a fixed precision.

`ELEMENTWISE` holds each elementwise primitive's value on `Decimal`s (the rows' `exact`, from
`primitives/decimals.py`, mapped over object arrays), `STRUCTURAL` the others (numpy's own matmul,
transpose, index, sum work on object arrays as they are). Every primitive of the table has a row
(tests/test_exact.py fails for a new one without).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from typing import Any

import numpy as np

from graphlang.ir.graph import Graph
from graphlang.primitives import kernels as K
from graphlang.primitives.decimals import (  # noqa: F401 - the arbiter's names for them
    EXPONENT,
    ONE,
    ZERO,
    Overflowed,
    Undefined,
    Unsupported,
    allowance,
    budget,
    charge,
)
from graphlang.primitives.table import PRIMITIVES

ELEMENTWISE: dict[str, Callable[..., Decimal]] = {  # each elementwise row's Decimal function
    name: p.exact for name, p in PRIMITIVES.items() if p.exact is not None and not p.attr_args}
WEIGHT = {name: p.exact_work for name, p in PRIMITIVES.items() if p.exact is not None}
_MAPPED = {name: np.frompyfunc(fn, PRIMITIVES[name].arity, 1) for name, fn in ELEMENTWISE.items()}


def _elementwise(name: str, *args: Any) -> Any:
    if all(isinstance(a, Decimal) for a in args):
        return ELEMENTWISE[name](*args)
    return np.asarray(_MAPPED[name](*args), dtype=object)


def _logsumexp(u: Any, axis: int | None = None) -> Any:
    """ln Σ e^u over all of u (axis None) or over one axis, kept as an axis of length 1."""
    m = np.max(u, axis=axis, keepdims=axis is not None)
    s = np.sum(_elementwise("exp", u - m), axis=axis, keepdims=axis is not None)
    return m + _elementwise("ln", s)


def _exact_lse(u: Any, axis: int | None) -> Any:
    """logsumexp as the primitive gives it: over one axis, that axis gone."""
    out = _logsumexp(u, axis)
    return out if axis is None else np.squeeze(out, axis=axis)


def _expand(g: Any, like: Any, axis: int | None) -> Any:
    if axis is not None:
        g = np.expand_dims(np.asarray(g, dtype=object), axis)
    return np.broadcast_to(np.asarray(g, dtype=object), np.shape(like)).copy()


def _embed(g: Any, like: Any, index: tuple[int, ...]) -> Any:
    out = np.full(np.shape(like), ZERO, dtype=object)
    out[index] = g
    return out


def _dpow_any(x: Any, y: Any, orders: tuple[int, int]) -> Any:
    dpow = PRIMITIVES["dpow"].exact
    assert dpow is not None
    fn = np.frompyfunc(lambda u, v: dpow(u, v, *orders), 2, 1)
    out = fn(x, y)
    return out if isinstance(out, Decimal) else np.asarray(out, dtype=object)


STRUCTURAL: dict[str, Callable[..., Any]] = {
    "matmul": lambda x, y: np.matmul(x, y), "dot": lambda x, y: np.dot(x, y), "outer": np.outer,
    "T": lambda x: np.transpose(x) if isinstance(x, np.ndarray) else x, "mT": lambda x: np.swapaxes(x, -1, -2),
    "index": lambda x, attr: x[attr], "stack": lambda *xs: np.array(list(xs), dtype=object),
    "sum": lambda x, axis: np.sum(x, axis=axis), "mean": lambda x, axis: np.sum(x, axis=axis) / Decimal(
        np.size(x) // max(np.size(np.sum(x, axis=axis)), 1)),
    "logsumexp": lambda u, axis=None: _exact_lse(np.asarray(u, dtype=object), axis),
    "softmax": lambda u: (lambda e: e / np.sum(e, axis=-1, keepdims=True))(
        _elementwise("exp", u - np.max(u, axis=-1, keepdims=True))),
    "logsoftmax": lambda u: u - _logsumexp(u, axis=-1),
    "expand": _expand, "embed": _embed, "dpow": _dpow_any, "rows": K.rows,
    "concat": lambda *xs: K.joined(xs, object), "padrows": lambda g, like, i: K.padrows(g, like, i, ZERO),
}
NOT_EXACT: frozenset[str] = frozenset()  # every primitive has a rule (a new row must get one, or be named here)


def _decimal(value: Any) -> Any:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return Decimal(float(arr))
    return np.vectorize(lambda v: Decimal(float(v)), otypes=[object])(arr)


def forward(graph: Graph, inputs: list[Any], digits: int, max_elements: int = 200_000) -> list[Any]:
    """Every slot's value to `digits` significant digits (Decimal, or object arrays of them).
    Raises `Undefined` where the formula has no finite real value, `Unsupported` for a primitive
    without a rule or more than `max_elements` numbers made (a sine of a large number counts as more)."""
    vals: list[Any] = [None] * graph.n_slots
    vals[: len(inputs)] = [_decimal(v) for v in inputs]
    for slot, value in graph.consts.items():
        vals[slot] = Decimal(float(value))
    ctx = Context(prec=digits, Emax=EXPONENT, Emin=-EXPONENT, traps=[InvalidOperation, DivisionByZero, Overflow])
    with allowance(max_elements), localcontext(ctx):
        _run(graph, vals)
    return vals


def _work(name: str, args: list[Any]) -> float:
    """The multiplications a product makes, the numbers a reduction reads (beyond the numbers it
    makes, counted after): an m×k by k×n product is m·k·n."""
    if name in ("matmul", "dot"):
        inner = np.shape(args[0])[-1] if np.ndim(args[0]) else 1
        return float(np.size(args[0])) * float(np.size(args[1])) / max(inner, 1)
    if name == "dpow":  # (x^y's derivatives: powers and logarithms per element)
        return _size(args[:2]) * 2 * WEIGHT["dpow"] / 2
    if name in ("outer", "sum", "mean", "logsumexp", "softmax", "logsoftmax"):
        return float(np.prod([np.size(a) for a in args])) if name == "outer" else float(np.size(args[0]))
    return 0.0


def _size(args: list[Any]) -> float:
    """The numbers an elementwise step makes from these (broadcast) arguments."""
    return float(math.prod(np.broadcast_shapes(*(np.shape(a) for a in args))))


def _run(graph: Graph, vals: list[Any]) -> None:
    """`forward`'s loop over the equations, in its decimal context and budget."""
    for eq in graph.eqns:
        name, args = eq.prim.name, [vals[i] for i in eq.ins]
        try:
            if name in ELEMENTWISE:  # (counted before it is made)
                charge(_size(args) * WEIGHT.get(name, 1))
                out = _elementwise(name, *args)
            elif name in STRUCTURAL:
                charge(_work(name, args))  # (a product of two 2,000-wide matrices: 10,000 numbers, 5.6 s)
                fn = STRUCTURAL[name]
                out = fn(*args, eq.attr) if eq.prim.attr_args else fn(*args)
            else:
                raise Unsupported(name)
        except Overflow:
            raise Overflowed(f"{name}: past 10^{EXPONENT}") from None
        except (InvalidOperation, DivisionByZero, ZeroDivisionError) as err:
            raise Undefined(f"{name}: {type(err).__name__}") from None
        if isinstance(out, np.ndarray) and out.ndim == 0:
            out = out[()]
        if name not in ELEMENTWISE:
            charge(int(np.size(out)))
        vals[eq.out] = out
