"""Why a loss reached ln(0): a sigmoid or softmax whose output rounded to exactly 0 or 1.

The lecture's cross-entropy `-(y ln p + (1 - y) ln(1 - p))` with `p = sigmoid(u)` has a gradient
everywhere, but in float64 `sigmoid(u)` is exactly 1 from u ≈ 37, and then `ln(1 - p)` is ln(0).
When a domain error has that cause, the message says so and the hint gives the stable form.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Walking back from ln's argument through these keeps the same saturating value (or 1 - it).
_THROUGH = {"sub", "neg", "id", "index", "add", "mul"}
STABLE_HINT = ("write the loss on the logit u instead: softplus(u) - y * u for the binary cross-entropy, "
               "-sum(t * logsoftmax(u)) for the multiclass one (stable for any u)")


def saturated_source(graph: Any, eq: Any, max_steps: int = 8) -> tuple[str, int, Any] | None:
    """The sigmoid/softmax (its name, slot, and the index `p[1]` the path took from it, if one) whose
    output `eq` (an ln, a division, a power: a function with a pole at 0) received, if any."""
    if not eq.prim.pole:
        return None
    producer = {e.out: e for e in graph.eqns}
    frontier: list[tuple[int, Any]] = [(i, None) for i in eq.ins]
    for _ in range(max_steps):
        nxt: list[tuple[int, Any]] = []
        for slot, index in frontier:
            src = producer.get(slot)
            if src is None:
                continue
            if src.prim.saturates:
                return src.prim.name, src.out, index
            if src.prim.name in _THROUGH:  # (through two indexings: which element is not followed)
                picked = src.attr if src.prim.name == "index" and index is None else \
                    _ANY if src.prim.name == "index" else index
                nxt.extend((i, picked) for i in src.ins)
        if not nxt:
            return None
        frontier = nxt
    return None


_ANY = "any"  # an index path not followed: any element of the output counts


def explain(graph: Any, eq: Any, vals: list[Any], derivative: bool = False) -> tuple[str, str] | None:
    """(what happened, the hint) when `eq`'s domain error comes from a saturated sigmoid/softmax
    (`derivative`: its rule overflowed on an output near 0, e.g. 1/p with p = 2e-313) — one whose
    output `vals` shows saturated: 1 / (sigmoid(0) - 0.5) was blamed on a sigmoid at 0.5 (a SPEC red
    team's find)."""
    found = saturated_source(graph, eq)
    if found is None:
        return None
    source, slot, index = found
    out = np.asarray(getattr(vals[slot], "v", vals[slot]), dtype=np.float64)
    if isinstance(index, tuple) and len(index) <= out.ndim:  # ln(p[1] - 0.5): p[1] alone, not p[0] = 1
        try:                                                 # (a review's find)
            out = out[index]
        except IndexError:
            pass
    if not np.any(out < 1e-150 if derivative else (out == 0) | (out == 1)):
        return None
    if derivative:
        return (f"because {source} saturated (its output is so near 0 that the derivative's formula "
                "overflows; the loss and its gradient are finite here)", STABLE_HINT)
    rounded = "0 or 1" if source == "sigmoid" else "0"
    return (f"because {source} saturated (its output rounded to exactly {rounded} in float64; "
            "the loss itself is finite here)", STABLE_HINT)
