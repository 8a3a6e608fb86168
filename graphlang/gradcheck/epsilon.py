"""The finite-difference ε trade-off, measured: forward and central differences' error per ε (the
lecture's plot), a step that leaves the domain or is lost in rounding said in its row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.gradcheck.measure import capped, mixed_error
from graphlang.ir import cost
from graphlang.numbers import quiet_floats
from graphlang.program import Program
from graphlang.symbolic.derivative import element

EPSILONS = [10.0 ** -k for k in range(1, 15)]


@dataclass
class SweepRow:
    epsilon: float
    forward_error: float | None  # None: a step of this ε leaves the domain (said in `note`, not dropped)
    central_error: float | None
    note: str = ""


def sweep(program: Program, values: dict[str, Any], wrt: list[str] | None = None) -> list[SweepRow]:
    """Max error (relative, absolute where |reverse| < 1) of forward and central differences vs
    reverse mode, per ε, over `wrt`'s inputs' coordinates (or every input's)."""
    _, shapes = program.bind(values)
    if not program.is_scalar(shapes):
        g = program.graph
        last = g.outputs[-1]
        raise GraphlangError("shape", "the ε sweep needs a scalar output" + (
            f" ({last!r} has shape {list(shapes[g.slot_of[last]])})" if len(g.outputs) == 1 else
            f" (this program has outputs {', '.join(g.outputs)})"), *g.position(last),
            f"sweep a scalar of it: add a statement such as s = {element(last, shapes[g.slot_of[last]])} (or "
            f"s = sum({last})) and make it the output (output s)")
    cost.check(program.limits, cost.sweep(program.graph, shapes, program._wrt(wrt)))
    result = program.evaluate(values, wrt=wrt)
    assert result.gradient is not None
    arrays, _ = program.bind(values)
    g = program.graph
    out = g.slot_of[g.outputs[0]]
    needed = g.read_by([out])

    def f(xs: list[np.ndarray]) -> float:
        return float(interp.forward(g, xs, needed=needed)[out])

    f0 = f(arrays)
    rows = []
    outside: GraphlangError | None = None
    for eps in EPSILONS:  # (x + ε and x − ε apart: ln at x = 0.05 and ε = 0.1 has a one-sided quotient)
        fwd_err: float | None = 0.0
        cen_err: float | None = 0.0
        left_out: GraphlangError | None = None
        try:
            for k, name in enumerate(g.inputs):
                if name not in result.gradient:  # (--wrt x: the lecture's ∂y/∂x alone)
                    continue
                exact = np.asarray(result.gradient[name], dtype=float)
                for idx in np.ndindex(arrays[k].shape):
                    fp, fm = f(_moved(arrays, k, idx, eps)), None
                    try:
                        fm = None if left_out else f(_moved(arrays, k, idx, -eps))
                    except GraphlangError as err:  # (x − ε out of the domain: the one-sided quotient stays)
                        left_out = err
                    with quiet_floats():
                        fwd_err = max(fwd_err or 0.0, capped(mixed_error((fp - f0) / eps, exact[idx])))
                        if fm is not None:
                            cen_err = max(cen_err or 0.0, capped(mixed_error((fp - fm) / (2 * eps), exact[idx])))
        except GraphlangError as err:  # this ε steps out of the domain (x = 1e-9 in ln x): said so
            outside = outside or err
            rows.append(SweepRow(eps, None, None, f"a step leaves the domain: {err.message}"))
            continue
        if left_out is not None:
            outside, cen_err = outside or left_out, None
        rows.append(SweepRow(eps, fwd_err, cen_err, f"the step back, x − ε, leaves the domain: {left_out.message}"
                             if left_out is not None else _lost([a for n, a in zip(g.inputs, arrays) if n in
                                                                 result.gradient], eps)))
    if all(r.forward_error is None for r in rows) and outside is not None:
        outside.message = f"every step ε of the sweep leaves the domain here: {outside.message}"
        outside.hint = "choose a point farther from the edge of the domain"
        raise outside
    return rows


def _lost(arrays: list[np.ndarray], eps: float) -> str:
    """Where x + ε == x in some coordinate (|x| ≥ 2ε/eps): a quotient of 0, not the error of a step."""
    return "x + ε == x: the step is lost in rounding" if any(np.any(a + eps == a) for a in arrays) else ""


def _moved(arrays: list[np.ndarray], k: int, idx: tuple[int, ...], step: float) -> list[np.ndarray]:
    """The inputs with one coordinate moved by `step` (the others shared, not copied)."""
    xs = list(arrays)
    xs[k] = arrays[k].copy()
    xs[k][idx] += step
    return xs


def best(rows: list[SweepRow], which: str) -> float | None:
    """The ε of the smallest error (None: no step of that kind stays in the domain)."""
    key = "forward_error" if which == "forward" else "central_error"
    found = [r for r in rows if getattr(r, key) is not None]
    return min(found, key=lambda r: getattr(r, key)).epsilon if found else None
