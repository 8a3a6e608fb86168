"""Mini-batches in one pass: every primitive evaluated with a leading batch axis (vmap-style).

A program is written for one example. A batched value is a `Batch`: its array has the batch axis
first, the example's own axes after. Each primitive's batch rule below says how to apply it when
some arguments are batched; the derivative rules, being expressions over the same primitives,
are batched by the same rules. Parameters stay unbatched, so their adjoints sum over the batch.

Each rule is named by a row of the primitive table (`batch=`); an elementwise row needs none, since
`elementwise(impl)` batches any elementwise function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graphlang.primitives import kernels


class Batch:
    """B examples' values of one node: `v[b]` is example b's value."""

    __slots__ = ("v",)

    def __init__(self, v: np.ndarray) -> None:
        self.v = v

    @property
    def rank(self) -> int:  # the rank of one example's value
        return self.v.ndim - 1

    def __repr__(self) -> str:
        return f"Batch({self.v.shape[0]} x {list(self.v.shape[1:])})"


def _rank(a: Any) -> int:
    return a.rank if isinstance(a, Batch) else np.ndim(a)


def _aligned(args: tuple[Any, ...]) -> list[Any]:
    """Batched arrays with 1s inserted after the batch axis so numpy broadcasting lines up."""
    r = max(_rank(a) for a in args)
    out = []
    for a in args:
        if isinstance(a, Batch):
            v = a.v
            if a.rank < r:
                v = v.reshape(v.shape[:1] + (1,) * (r - a.rank) + v.shape[1:])
            out.append(v)
        else:
            out.append(a)
    return out


def elementwise(impl: Callable[..., Any], arity: int = -1) -> Callable[..., Any]:
    """Any elementwise function, batched; with `arity`, the arguments after it are attributes."""
    def apply(*args: Any) -> Any:
        if arity < 0 and len(args) <= 2:  # the common cases, without aligning (a step's hot path)
            a = args[0]
            if len(args) == 1:
                return Batch(impl(a.v)) if type(a) is Batch else impl(a)
            b = args[1]
            ba, bb = type(a) is Batch, type(b) is Batch
            if not (ba or bb):
                return impl(a, b)
            if ba and bb and a.v.ndim == b.v.ndim:
                return Batch(impl(a.v, b.v))
            if ba and not bb and a.v.ndim > np.ndim(b):  # b aligns with a's trailing axes
                return Batch(impl(a.v, b))
            if bb and not ba and b.v.ndim > np.ndim(a):
                return Batch(impl(a, b.v))
        tensors, attrs = (args, ()) if arity < 0 else (args[:arity], args[arity:])
        if not any(isinstance(a, Batch) for a in tensors):
            return impl(*args)
        return Batch(impl(*_aligned(tensors), *attrs))
    return apply


def matmul(a: Any, b: Any) -> Any:
    ba, bb = isinstance(a, Batch), isinstance(b, Batch)
    if not (ba or bb):
        return np.matmul(a, b)
    if max(_rank(a), _rank(b)) > 2:
        return _stacked_matmul(a, b)
    if ba and bb:
        spec = {(1, 1): "bi,bi->b", (2, 1): "bij,bj->bi", (1, 2): "bi,bij->bj", (2, 2): "bij,bjk->bik"}
        return Batch(np.einsum(spec[(a.rank, b.rank)], a.v, b.v))
    if ba:
        return Batch(np.matmul(a.v, b))  # (B,n)@(n[,k]) and (B,m,n)@(n[,k]) broadcast as wanted
    if b.rank == 1:  # A v_b, or u · v_b, for every b (b.v is a stack of vectors, not a matrix)
        return Batch(b.v @ np.transpose(a))
    return Batch(np.matmul(a, b.v))


def _stacked_matmul(a: Any, b: Any) -> Batch:
    """numpy `matmul` for each example, stacks of matrices included: both operands get the batch
    axis first, a vector becomes a row (a) or a column (b), and the stacks line up behind the batch."""
    ra, rb = _rank(a), _rank(b)
    av = a.v if isinstance(a, Batch) else np.asarray(a)[None]
    bv = b.v if isinstance(b, Batch) else np.asarray(b)[None]
    if ra == 1:
        av = av[:, None, :]
    if rb == 1:
        bv = bv[..., None]
    depth = max(av.ndim, bv.ndim)
    av = av.reshape(av.shape[:1] + (1,) * (depth - av.ndim) + av.shape[1:])
    bv = bv.reshape(bv.shape[:1] + (1,) * (depth - bv.ndim) + bv.shape[1:])
    out = np.matmul(av, bv)
    if rb == 1:
        out = out[..., 0]
    if ra == 1:
        out = out[..., 0, :] if rb > 1 else out[..., 0]
    return Batch(out)


def matrix_transpose(a: Any) -> Any:
    if isinstance(a, Batch):
        return Batch(np.swapaxes(a.v, -1, -2))
    return np.swapaxes(a, -1, -2)


def dot(a: Any, b: Any) -> Any:
    if isinstance(a, Batch) or isinstance(b, Batch):
        av = a.v if isinstance(a, Batch) else a[None, :]
        bv = b.v if isinstance(b, Batch) else b[None, :]
        return Batch(np.einsum("bi,bi->b", *np.broadcast_arrays(av, bv)))
    return np.dot(a, b)


def outer(a: Any, b: Any) -> Any:
    if isinstance(a, Batch) or isinstance(b, Batch):
        av = a.v if isinstance(a, Batch) else a[None, :]
        bv = b.v if isinstance(b, Batch) else b[None, :]
        return Batch(av[:, :, None] * bv[:, None, :])
    return np.outer(a, b)


def outer_sum(a: Any, b: Any) -> Any:
    """Σ over the batch of outer(a_b, b_b): a parameter's gradient from a product, as one matmul."""
    if isinstance(a, Batch) and isinstance(b, Batch):
        return a.v.T @ b.v
    if isinstance(a, Batch):
        return np.outer(a.v.sum(axis=0), b)
    if isinstance(b, Batch):
        return np.outer(a, b.v.sum(axis=0))
    return np.outer(a, b)


def transpose(a: Any) -> Any:
    if isinstance(a, Batch):
        return Batch(np.transpose(a.v, (0, *range(a.v.ndim - 1, 0, -1))))
    return np.transpose(a)


def _axis(a: Batch, axis: int | None) -> Any:
    if axis is None:
        return tuple(range(1, a.v.ndim))
    return axis + 1 if axis >= 0 else axis


def total(a: Any, axis: Any) -> Any:
    return Batch(a.v.sum(axis=_axis(a, axis))) if isinstance(a, Batch) else np.sum(a, axis=axis)


def mean(a: Any, axis: Any) -> Any:
    return Batch(kernels.mean(a.v, axis=_axis(a, axis))) if isinstance(a, Batch) else kernels.mean(a, axis=axis)


def logsumexp(a: Any, axis: Any = None) -> Any:
    if not isinstance(a, Batch):
        return kernels.logsumexp(a, axis)
    if axis is not None:
        return Batch(kernels.logsumexp(a.v, _axis(a, axis)))
    if a.v.ndim == 1:
        return Batch(a.v.copy())
    rows = a.v.reshape(len(a.v), -1)  # each example's elements in a row: its logsumexp as one's
    m = rows.max(axis=1, keepdims=True)
    with np.errstate(over="ignore"):
        shifted = rows - m
    return Batch(m[:, 0] + kernels.log_sum_shifted(shifted)[:, 0])


def index(a: Any, idx: Any) -> Any:
    return Batch(a.v[(slice(None), *idx)]) if isinstance(a, Batch) else a[idx]


def _batch_size(args: tuple[Any, ...]) -> int:
    return next(a.v.shape[0] for a in args if isinstance(a, Batch))


def stack(*items: Any) -> Any:
    if not any(isinstance(i, Batch) for i in items):
        return kernels.stack(*items)
    n = _batch_size(items)
    vs = [i.v if isinstance(i, Batch) else np.broadcast_to(i, (n, *np.shape(i))) for i in items]
    return Batch(np.stack(vs, axis=1))


def concat(*items: Any) -> Any:
    if not any(isinstance(i, Batch) for i in items):
        return kernels.concat(*items)
    n = _batch_size(items)
    rank = max(1, max(i.rank if isinstance(i, Batch) else np.ndim(i) for i in items))
    vs = [i.v if isinstance(i, Batch) else np.broadcast_to(i, (n, *np.shape(i))) for i in items]
    return Batch(np.concatenate([v.reshape(v.shape[:1] + (1,) * (rank + 1 - v.ndim) + v.shape[1:]) for v in vs],
                                axis=1))


def rows(a: Any, span: Any) -> Any:
    return Batch(np.array(a.v[:, span[0]:span[1]])) if isinstance(a, Batch) else kernels.rows(a, span)


def padrows(g: Any, like: Any, start: Any) -> Any:
    if not (isinstance(g, Batch) or isinstance(like, Batch)):
        return kernels.padrows(g, like, start)
    n = _batch_size((g, like))
    shape = like.v.shape[1:] if isinstance(like, Batch) else np.shape(like)
    gv = g.v if isinstance(g, Batch) else np.broadcast_to(g, (n, *np.shape(g)))
    out = np.zeros((n, *shape))
    out[:, start:start + gv.shape[1]] = gv
    return Batch(out)


def expand(g: Any, like: Any, axis: Any) -> Any:
    if not (isinstance(g, Batch) or isinstance(like, Batch)):
        return kernels.expand(g, like, axis)
    n = _batch_size((g, like))
    gv = g.v if isinstance(g, Batch) else np.broadcast_to(g, (n, *np.shape(g)))
    shape = like.v.shape[1:] if isinstance(like, Batch) else np.shape(like)
    if axis is not None:
        gv = np.expand_dims(gv, axis + 1 if axis >= 0 else axis)
    else:
        gv = gv.reshape((n,) + (1,) * len(shape))
    out = np.empty((n, *shape))
    out[...] = gv  # broadcast into a new float64 array
    return Batch(out)


def embed(g: Any, like: Any, idx: Any) -> Any:
    if not (isinstance(g, Batch) or isinstance(like, Batch)):
        return kernels.embed(g, like, idx)
    n = _batch_size((g, like))
    shape = like.v.shape[1:] if isinstance(like, Batch) else np.shape(like)
    out = np.zeros((n, *shape))
    out[(slice(None), *idx)] = g.v if isinstance(g, Batch) else g
    return Batch(out)


def softmax(a: Any) -> Any:
    return Batch(kernels.softmax(a.v)) if isinstance(a, Batch) else kernels.softmax(a)


def logsoftmax(a: Any) -> Any:
    return Batch(kernels.logsoftmax(a.v)) if isinstance(a, Batch) else kernels.logsoftmax(a)


def same(a: Any) -> Any:
    """The identity (a node `y = u`), batched or not."""
    return a


def broadcast_batch(t: Any, n: int, shape: tuple[int, ...]) -> Batch:
    """A tangent brought to a slot's (per-example) shape by numpy broadcasting of each example's
    value: the batch axis stays first, the example's axes align from the right."""
    if not isinstance(t, Batch):
        return Batch(np.broadcast_to(np.broadcast_to(t, shape), (n, *shape)))
    v = t.v
    if v.shape[1:] == shape:
        return t
    if t.rank < len(shape):
        v = v.reshape(v.shape[:1] + (1,) * (len(shape) - t.rank) + v.shape[1:])
    return Batch(np.broadcast_to(v, (v.shape[0], *shape)))


def reduce_to(c: Any, shape: tuple[int, ...], batched: bool) -> Any:
    """An adjoint contribution brought to a slot's (per-example) shape; unbatched slots sum the batch."""
    if not isinstance(c, Batch):
        return kernels.unbroadcast(c, shape)
    if not batched:
        return kernels.unbroadcast(c.v.sum(axis=0), shape)
    return c if c.v.shape[1:] == shape else Batch(kernels.unbroadcast(c.v, shape, lead=1))
