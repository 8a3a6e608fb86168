"""The compiled SGD step: the loss and lr·∇ of every parameter from one generated function.

Reverse mode is linear in its seed, so seeding it with the learning rate (lr/B per example of a
batch) yields the update itself, and the trainer subtracts it in place. A matrix parameter's
gradient that is an outer product (x δᵀ, or Σ_b x_b δ_bᵀ in a batch) is written into a buffer kept
across steps: a step allocates nothing of a weight matrix's size, so its speed does not hang on
the C allocator's settings (glibc returns freed blocks of that size to the OS, and the next step
page-faults them back in).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphlang.engines import plan as C
from graphlang.ir.graph import Graph
from graphlang.primitives.shapes import Shape
from graphlang.primitives.vmap import Batch, outer_sum


def outer_into(a: Any, b: Any, out: np.ndarray) -> Any:
    """outer(a, b) into `out` (per example), or Σ_b outer(a_b, b_b) into `out` (a batch)."""
    if isinstance(a, Batch) or isinstance(b, Batch):
        if isinstance(a, Batch) and isinstance(b, Batch) and a.v.ndim == b.v.ndim == 2 and \
                out.shape == (a.v.shape[1], b.v.shape[1]):
            return np.matmul(a.v.T, b.v, out=out)
        return outer_sum(a, b)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.ndim == b.ndim == 1 and \
            out.shape == (a.size, b.size):
        if out.size < 4096:
            return np.multiply.outer(a, b, out=out)
        # the same products, without the ufunc's buffered iteration (≈ 1.4× faster at 784 × 128)
        return np.einsum("i,j->ij", a, b, out=out)
    return np.outer(a, b)


def _one_call(rhs: str, head: str) -> str | None:
    """The arguments of `rhs` when it is exactly one call `head(...)`, else None."""
    if not (rhs.startswith(head) and rhs.endswith(")")):
        return None
    depth = 0
    inner = rhs[len(head):-1]
    for ch in inner:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return None
    return inner if depth == 0 else None


def _freed(lines: list[str], keep: set[str]) -> list[str]:
    """`del` each intermediate after its last use: straight-line code would otherwise keep every
    array of the step alive to the end, a working set that no longer fits in the cache."""
    last: dict[str, int] = {}
    for n, line in enumerate(lines):
        for name in C.names_in(line):
            last[name] = n
        last.setdefault(C.lhs_of(line), n)  # written and never read: freed at once
    dead: dict[int, list[str]] = {}
    for name, n in last.items():
        if name not in keep and name[:1] in "vg" and name[1:].isdigit():
            dead.setdefault(n, []).append(name)
    out: list[str] = []
    for n, line in enumerate(lines):
        out.append(line)
        if n in dead:
            out.append("del " + ", ".join(sorted(dead[n])))
    return out


class Step:
    """One program's step for one set of input shapes: `(arrays, seed) -> (loss, lr·∇ per param)`.

    `batched`: the data inputs carry a leading batch axis (the seed is then a Batch of lr/B).
    """

    def __init__(self, graph: Graph, shapes: list[Shape], params: list[int], data: list[int],
                 batched: bool) -> None:
        out = graph.slot_of[graph.outputs[0]]
        self.scalar = not batched and C.scalar_ok(graph, shapes)
        mode = "scalar" if self.scalar else "batch" if batched else "array"
        mask = graph.reached_from(data) if batched else None
        lines = C.source(graph, shapes, [out], params, mode, batched=mask, seeded=True)
        head = "_outer_sum(" if batched else "P_outer("
        matrices = {f"g{k}": shapes[k] for k in params if len(shapes[k]) == 2}
        self.buffers: list[np.ndarray] = []
        names: list[str] = []
        seen: set[str] = set()
        for n, line in enumerate(lines):
            target, _, rhs = line.partition(" = ")
            if target in matrices and target not in seen:  # its first value: not an accumulation
                inner = _one_call(rhs, head)
                if inner is not None:
                    names.append(target)
                    self.buffers.append(np.empty(matrices[target]))
                    lines[n] = f"{target} = _into({inner}, _o{target})"
            seen.add(target)
        extra = ", ".join(["seed", "_into", *(f"_o{t}" for t in names)])
        grads = "".join(f"g{k}, " for k in params)
        if not self.scalar:
            lines = _freed(lines, {f"v{out}", *(f"g{k}" for k in params)})
        self._fn = C.build(lines, list(range(len(graph.inputs))), f"v{out}, ({grads})", self.scalar,
                           extra=extra, batch=batched)

    def __call__(self, arrays: list[Any], seed: Any) -> tuple[Any, tuple[Any, ...]]:
        """Raises an arithmetic error (or ValueError/TypeError) where the interpreter must take over."""
        if self.scalar:
            value, grads, check = self._fn(*[float(a) for a in arrays], float(seed), outer_into)
            if not math.isfinite(check):
                raise FloatingPointError("not finite")
            return value, grads
        value, grads, _ = self._fn(*arrays, seed, outer_into, *self.buffers)
        return value, grads
