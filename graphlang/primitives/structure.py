"""Kernels that move elements about: the derivatives of sums, indexing, brackets and `concat`, and
broadcasting's adjoint (numpy; the exact engine calls `joined` and `padrows` with Decimals)."""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray


def expand(g: Array, like: Array, axis: int | None) -> Array:
    """Undo a sum: broadcast g back over the summed axis (or all axes) of `like`."""
    if axis is None and np.ndim(g) == 0:
        return np.full(np.shape(like), g, dtype=np.float64)
    if axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(like)).astype(np.float64)


def embed(g: Array, like: Array, index: tuple[int, ...]) -> Array:
    """Undo an index: zeros shaped like `like`, with g at `index`."""
    out = np.zeros(np.shape(like))
    out[index] = g
    return out


def stack(*items: Array) -> Array:
    return np.stack([np.asarray(i, dtype=np.float64) for i in items])


def concat(*items: Array) -> Array:  # (the exact engine joins Decimals: `joined`)
    return joined(items, np.float64)


def joined(items: tuple[Any, ...], dtype: Any) -> Array:
    """Join along the first axis; an item one axis short of the result is one row of it ([1; z])."""
    rank = max(1, max(np.ndim(i) for i in items))
    return np.concatenate([np.asarray(i, dtype=dtype).reshape((1,) * (rank - np.ndim(i)) + np.shape(i))
                           for i in items])


def rows(x: Array, span: tuple[int, int]) -> Array:  # rows start to stop - 1: the derivative of concat
    return np.array(x[span[0]:span[1]])


def padrows(g: Array, like: Array, start: int, zero: Any = 0.0) -> Array:
    """Undo `rows`: zeros shaped like `like`, with g as its rows from `start` on."""
    out = np.full(np.shape(like), zero, dtype=np.float64 if isinstance(zero, float) else object)
    out[start:start + np.shape(g)[0]] = g
    return out


def unbroadcast(g: Array, shape: tuple[int, ...], lead: int = 0) -> Array:
    """The adjoint of broadcasting (the only one): sum `g` over the axes broadcasting added or
    stretched, back to `shape`; the first `lead` axes (a batch) are kept as they are."""
    g = np.asarray(g)
    target = g.shape[:lead] + tuple(shape)
    if g.shape == target:
        return g
    extra = g.ndim - len(target)
    if extra > 0:
        g = g.sum(axis=tuple(range(lead, lead + extra)))
    axes = tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(target)
