"""Corners: where a function of the program sits on its kink (relu or abs at 0, max at a tie), and
where the output's one-sided derivatives differ there — the points with no derivative, where every
method gives a convention (SPEC §1) or an average."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphlang.engines import interpreter as interp
from graphlang.ir.graph import Graph
from graphlang.primitives.domains import on_kinks


@dataclass
class Kink:
    """A coordinate where the output has different one-sided derivatives (relu, abs, max at a tie)."""

    input: str
    index: tuple[int, ...]
    left: float
    right: float

    @property
    def where(self) -> str:
        """`x`, or `W[0, 1]` for a tensor's entry."""
        return f"{self.input}[{', '.join(map(str, self.index))}]" if self.index else self.input


def _corner(prim: Any) -> str:
    """`relu at 0`, `max at a tie`: where a row's kink is."""
    return f"{prim.name} at " + ("a tie" if prim.arity == 2 else "0")


def sitting(g: Graph, arrays: list[Any]) -> list[str]:
    """The functions sitting on their corner at these inputs (`max at a tie (line 1)`): where the
    whole function may still be smooth (max(x, z) + min(x, z) is x + z), the exact methods sum each
    one's convention (SPEC §1), which central differences do not see."""
    vals = interp.forward(g, arrays)
    return list(dict.fromkeys(f"{_corner(eq.prim)} (line {eq.line})" for eq in on_kinks(g.eqns, vals)))


def kinks(g: Graph, arrays: list[Any], limit: int = 10_000) -> list[Kink]:
    """The coordinates where (f(x) − f(x − h))/h and (f(x + h) − f(x))/h differ for h and for h/10
    alike: a difference that does not shrink with h is a corner, not curvature (a scalar output).
    Each side must also keep its value from h to h/10: a step across a pole (1/ln(x) at
    x = 1.0000001) gives sides that change with h, and a smooth point there is no corner."""
    if not any(eq.prim.kink is not None for eq in g.eqns):
        return []  # (no function with a corner: sides that differ are roundoff, (1 - cos x)/x² at 1e-4)
    out = g.slot_of[g.outputs[0]]

    def f(k: int, idx: tuple[int, ...], step: float) -> float:
        xs = list(arrays)
        xs[k] = arrays[k].astype(np.float64, copy=True)
        xs[k][idx] += step
        return float(interp.forward(g, xs)[out])

    found: list[Kink] = []
    with np.errstate(all="ignore"):
        for k, name in enumerate(g.inputs):
            for idx in list(np.ndindex(arrays[k].shape))[:limit]:
                h = 1e-6 * max(1.0, abs(float(arrays[k][idx])))
                f0 = f(k, idx, 0.0)
                sides = [((f0 - f(k, idx, -s)) / s, (f(k, idx, s) - f0) / s) for s in (h, h / 10)]
                gaps = [abs(r - left) / max(1.0, abs(r), abs(left)) for left, r in sides]
                steady = all(abs(a - b) <= 0.1 * max(1.0, abs(a), abs(b)) for a, b in zip(*sides))
                if gaps[0] > 1e-3 and gaps[1] > 0.5 * gaps[0] and steady and all(np.isfinite(sides[1])):
                    found.append(Kink(name, tuple(int(i) for i in idx), float(sides[1][0]), float(sides[1][1])))
    return found
