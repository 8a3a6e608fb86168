"""Jacobians by each method (SPEC §2): forward mode and reverse mode in batches of seeds, central
differences column by column, symbolic through the derivative program; the mode the lecture's rule
chooses (D ≪ C: forward).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.ir import cost
from graphlang.ir.bind import bind_graph
from graphlang.ir.graph import Graph, build
from graphlang.limits import MAX_LIMIT, Limits
from graphlang.numbers import py, quiet_floats
from graphlang.primitives.shapes import Shape
from graphlang.primitives.vmap import Batch
from graphlang.symbolic import adjoint
from graphlang.symbolic.derivative import derivative_program, relocated, seed_name
from graphlang.symbolic.derivgraph import derivative_graph


class Program(Protocol):
    """What the methods read of a program (`graphlang.Program` is one): its graph, limits and file."""

    graph: Graph
    limits: Limits
    path: str | None

CBRT_EPS = float(np.cbrt(np.finfo(np.float64).eps))  # ≈ 6.06e-6: central differences' best step


def fd_steps(x: np.ndarray, epsilon: float | None) -> np.ndarray:
    """Per-coordinate step: the given ε, or ∛eps · max(1, |x|) (truncation vs round-off)."""
    if epsilon is not None:
        return np.full(x.shape, float(epsilon))
    return CBRT_EPS * np.maximum(1.0, np.abs(x))


def fd_epsilon_report(arrays: list[np.ndarray], epsilon: float | None) -> float:
    return float(epsilon) if epsilon is not None else CBRT_EPS


def _outputs(program: Program, vals: list[Any]) -> np.ndarray:
    return np.concatenate([np.ravel(vals[program.graph.slot_of[n]]) for n in program.graph.outputs])


def _check_epsilon(epsilon: float | None) -> None:
    numeric = (int, float, np.integer, np.floating)
    if epsilon is not None and (isinstance(epsilon, bool) or not isinstance(epsilon, numeric)
                                or not (abs(epsilon) < 1e308 and np.isfinite(epsilon) and epsilon > 0)):
        raise GraphlangError("usage", f"epsilon must be a positive number below 1e308, got {str(epsilon)[:60]}",
                             hint="about 1e-8 for one-sided differences, 1e-5 for central (1e-400 is 0 in float64)")


def fd_columns(program: Program, arrays: list[np.ndarray], wrt: list[str],
               epsilon: float | None, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Central differences (f(x+εd) − f(x−εd)) / 2ε per input coordinate; `scale` × the default steps."""
    _check_epsilon(epsilon)
    g = program.graph
    needed = g.read_by([g.slot_of[n] for n in g.outputs])  # a node no output reads never stops it
    cols: dict[str, np.ndarray] = {}
    for name in wrt:
        k = g.inputs.index(name)
        x = arrays[k]
        steps = fd_steps(x, epsilon) * scale
        rows = []
        for idx in np.ndindex(x.shape):
            h = float(steps[idx])
            sides = []
            where = f"{name}{list(idx) if idx else ''}"
            for sign in (1.0, -1.0):
                moved = list(arrays)
                xm = x.copy()
                with quiet_floats():
                    xm[idx] += sign * h
                if not np.isfinite(xm[idx]):
                    raise _fd_error(program, f"the step {where} {'+' if sign > 0 else '-'} {h:.3g} "
                                             "overflows float64")
                if xm[idx] == x[idx]:  # x + ε == x: the quotient would be 0, silently
                    err = _fd_error(program, f"the step {h:.3g} is lost in rounding: {where} "
                                             f"{'+' if sign > 0 else '-'} {h:.3g} == {where}")
                    err.hint = f"choose a larger epsilon (at least {abs(float(x[idx])) * 2.3e-16:.2g})"
                    raise err
                moved[k] = xm
                try:
                    sides.append(_outputs(program, interp.forward(g, moved, needed=needed)))
                except GraphlangError as err:
                    err.message = (f"finite differences step {where} "
                                   f"{'+' if sign > 0 else '-'} {h:.3g} leaves the domain: {err.message}")
                    xm[idx] = np.nextafter(x[idx], sign * np.inf)  # the smallest step there is
                    moved[k] = xm
                    err.hint = (f"the point is inside the domain, the step {h:.3g} is not: use a smaller "
                                "--epsilon, or an exact method (--method reverse)") if _inside(program, moved) else (
                        f"the point is on the edge of the domain: any step to {where}'s "
                        f"{'right' if sign > 0 else 'left'}, however small, leaves it; use an exact method "
                        "(--method reverse)")
                    raise
            with quiet_floats():
                quotient = (sides[0] - sides[1]) / (2 * h)
            if not np.all(np.isfinite(quotient)):
                raise _fd_error(program, f"the difference quotient for {where} overflows float64")
            rows.append(quotient)
        cols[name] = np.array(rows).reshape(x.shape + (-1,))
    return cols


def _inside(program: Program, arrays: list[np.ndarray]) -> bool:
    """Does the forward pass succeed at these values?"""
    try:
        interp.forward(program.graph, arrays)
    except GraphlangError:
        return False
    return True


def _fd_error(program: Program, what: str) -> GraphlangError:
    """Central differences failed numerically: located at the (first) output's statement."""
    g = program.graph
    line, column = g.position(g.outputs[0])
    return GraphlangError("domain", f"finite differences: {what}", line, column,
                          "the values are too large for central differences; use --method reverse")


def forward_columns(program: Program, arrays: list[np.ndarray], shapes: list[Shape],
                    vals: list[Any], wrt: list[str]) -> dict[str, np.ndarray]:
    """Forward mode: one tangent pass per input coordinate."""
    g = program.graph
    outs = [g.slot_of[n] for n in g.outputs]
    needed = g.read_by(outs)
    cols: dict[str, np.ndarray] = {}
    for name in wrt:
        k = g.inputs.index(name)
        x = arrays[k]
        rows = []
        for idx in np.ndindex(x.shape):
            seed = np.zeros(x.shape)
            seed[idx] = 1.0
            tan = interp.tangents(g, shapes, vals, {k: seed}, needed=needed)
            rows.append(np.concatenate([np.ravel(tan[s]) if tan[s] is not None
                                        else np.zeros(int(np.prod(shapes[s]))) for s in outs]))
        cols[name] = np.array(rows).reshape(x.shape + (-1,))
    return cols


def reverse_columns(program: Program, arrays: list[np.ndarray], shapes: list[Shape],
                    vals: list[Any], wrt: list[str]) -> dict[str, np.ndarray]:
    """Reverse mode: one adjoint pass per output coordinate."""
    g = program.graph
    outs = [g.slot_of[n] for n in g.outputs]
    live = interp.depends_on_inputs(g, [g.inputs.index(n) for n in wrt])  # (no adjoint the columns do not need)
    per_out: list[dict[str, np.ndarray]] = []
    for s in outs:
        for idx in np.ndindex(shapes[s]):
            seed = np.zeros(shapes[s])
            seed[idx] = 1.0
            adj = interp.reverse(g, shapes, vals, {s: seed}, live)
            per_out.append({n: (np.zeros(shapes[g.slot_of[n]]) if adj[g.slot_of[n]] is None
                                else np.asarray(adj[g.slot_of[n]])) for n in wrt})
    return {n: np.stack([col[n] for col in per_out], axis=-1) for n in wrt}


MAX_BATCHED_ELEMENTS = 20_000_000


def batch_numbers(limits: Limits) -> int:
    """The most numbers a batched Jacobian may hold (half the memory budget, at most 2·10⁷)."""
    return min(MAX_BATCHED_ELEMENTS, limits.max_memory // (2 * cost.BYTES))


def estimate(program: Program, method: str, shapes: list[Shape], wrt: list[str]) -> cost.Estimate:
    """The whole Jacobian's predicted cost and memory; a located `limit` error past the budget."""
    return cost.check(program.limits, cost.jacobian(program.graph, shapes, method, wrt,
                                                    batch_numbers(program.limits)))


def batched_columns(program: Program, arrays: list[np.ndarray], shapes: list[Shape], vals: list[Any],
                    wrt: list[str], mode: str) -> dict[str, np.ndarray] | None:
    """The whole Jacobian in one vectorized pass: all input directions at once (forward mode) or
    all output directions at once (reverse mode). None when that would hold too many numbers."""
    g = program.graph
    outs = [g.slot_of[n] for n in g.outputs]
    c = sum(int(np.prod(shapes[s])) for s in outs)
    if not cost.jacobian(g, shapes, mode, wrt, batch_numbers(program.limits)).batched:
        return None
    if mode == "reverse":
        eye = np.eye(c)
        seeds, at = {}, 0
        for s in outs:
            size = int(np.prod(shapes[s]))
            seeds[s] = Batch(eye[:, at:at + size].reshape((c, *shapes[s])))
            at += size
        live = interp.depends_on_inputs(g, [g.inputs.index(n) for n in wrt])
        adj = interp.reverse(g, shapes, vals, seeds, live, batched=True, all_batched=True)
        cols = {}
        for n in wrt:
            a = adj[g.slot_of[n]]
            v = np.zeros((c, *shapes[g.slot_of[n]])) if a is None else np.broadcast_to(
                a.v if isinstance(a, Batch) else a, (c, *shapes[g.slot_of[n]]))
            cols[n] = np.moveaxis(v, 0, -1)
        return cols
    cols = {}
    needed = g.read_by(outs)
    for n in wrt:
        k = g.inputs.index(n)
        d = arrays[k].size
        seed = Batch(np.eye(d).reshape((d, *arrays[k].shape)))
        tan = interp.tangents(g, shapes, vals, {k: seed}, batched=True, needed=needed)
        parts = [np.zeros((d, int(np.prod(shapes[s])))) if tan[s] is None else
                 np.reshape(tan[s].v if isinstance(tan[s], Batch) else np.broadcast_to(
                     tan[s], (d, *shapes[s])), (d, -1)) for s in outs]
        cols[n] = np.concatenate(parts, axis=1).reshape((*arrays[k].shape, c))
    return cols


def _derived(program: Program, shapes: list[Shape], wrt: list[str], text: bool = False) -> tuple[Graph, bool]:
    """The derivative program's graph, built from its expressions where that is sure to be the graph of
    its text, else (or with `text`) its text parsed; and whether it was built directly. Kept on the
    program per input shapes and `wrt`."""
    key = (tuple(tuple(s) for s in shapes[: len(program.graph.inputs)]), tuple(wrt))
    cache: dict[Any, tuple[Graph, bool]] = program.__dict__.setdefault("_symbolic_programs", {})
    if key not in cache or text and cache[key][1]:
        direct = None if text else derivative_graph(program, shapes, wrt, program.limits.with_(
            max_source_chars=MAX_LIMIT))  # (the text is parsed with room for it: see below)
        if direct is not None:
            cache[key] = direct, True
        else:
            source = derivative_program(program, shapes, wrt, header=False)
            cache[key] = build(source, program.limits.with_(max_source_chars=max(
                program.limits.max_source_chars, 4 * len(source)))), False
    return cache[key]


def symbolic_columns(program: Program, arrays: list[np.ndarray], shapes: list[Shape],
                     wrt: list[str]) -> dict[str, np.ndarray]:
    """Evaluate the derivative program (seeded per output coordinate when the output is a vector);
    its errors are placed in the user's program (a graph built without its text is built again from
    its text first, whose lines say where)."""
    if not wrt:
        return {}
    try:
        try:
            return _symbolic_columns(program, arrays, shapes, wrt, _derived(program, shapes, wrt)[0])
        except GraphlangError:
            if not _derived(program, shapes, wrt)[1]:
                raise
            return _symbolic_columns(program, arrays, shapes, wrt, _derived(program, shapes, wrt, text=True)[0])
    except GraphlangError as err:
        if err.kind == "domain":  # reverse mode fails there too? its error names the call (1:9, not 1:1)
            interp.reverse_once(program.graph, arrays, shapes)
        raise relocated(program, shapes, wrt, err) from None


def _symbolic_columns(program: Program, arrays: list[np.ndarray], shapes: list[Shape],
                      wrt: list[str], derived: Graph) -> dict[str, np.ndarray]:
    g = program.graph
    prefix = adjoint.choose_prefix(g.names)
    values: dict[str, Any] = dict(zip(g.inputs, arrays))
    outs = g.outputs
    out_shapes = [shapes[g.slot_of[n]] for n in outs]
    scalar = len(outs) == 1 and out_shapes[0] == ()

    def run(seeds: dict[str, Any]) -> dict[str, np.ndarray]:
        arrays, _ = bind_graph(derived, {**values, **seeds})
        vals = interp.forward(derived, arrays)
        return {n: np.asarray(vals[derived.slot_of[prefix + n]], dtype=np.float64) for n in wrt}

    if scalar:
        got = run({})
        return {n: got[n][..., None] for n in wrt}
    columns: list[dict[str, np.ndarray]] = []
    for j, name in enumerate(outs):
        for idx in np.ndindex(out_shapes[j]):
            seeds = {seed_name(prefix, o): np.zeros(s) for o, s in zip(outs, out_shapes)}
            seeds[seed_name(prefix, name)][idx] = 1.0
            columns.append(run(seeds))
    return {n: np.stack([c[n] for c in columns], axis=-1) for n in wrt}


def choose_mode(program: Program, arrays: list[np.ndarray], shapes: list[Shape], wrt: list[str]) -> str:
    """The lecture's rule: reverse when inputs outnumber outputs (D ≫ C), forward otherwise."""
    g = program.graph
    d = sum(arrays[g.inputs.index(n)].size for n in wrt)
    c = sum(int(np.prod(shapes[g.slot_of[n]])) for n in g.outputs)
    return "forward" if d < c else "reverse"


def jacobian(program: Program, method: str, arrays: list[np.ndarray], shapes: list[Shape],
             vals: list[Any], wrt: list[str], epsilon: float | None) -> dict[str, Any]:
    estimate(program, method, shapes, wrt)
    if method == "fd":
        try:
            cols = fd_columns(program, arrays, wrt, epsilon)
        except GraphlangError as err:
            if "leaves the domain" in err.message:  # no step helps where the derivative itself does not exist
                try:
                    interp.reverse_once(program.graph, arrays, shapes)
                except GraphlangError as exact:
                    err.hint = (f"no method can give this derivative: {exact.message.split(', in the statement')[0]} "
                                "(reverse mode); choose another point")
            raise
    elif method == "symbolic":
        cols = symbolic_columns(program, arrays, shapes, wrt)
    else:
        fast = batched_columns(program, arrays, shapes, vals, wrt, method)
        if fast is not None:
            cols = fast
        elif method == "forward":
            cols = forward_columns(program, arrays, shapes, vals, wrt)
        else:
            cols = reverse_columns(program, arrays, shapes, vals, wrt)
    return {n: cols[n] for n in wrt}


def gradient(program: Program, method: str, arrays: list[np.ndarray], shapes: list[Shape],
             vals: list[Any], wrt: list[str], epsilon: float | None) -> dict[str, Any]:
    cols = jacobian(program, method, arrays, shapes, vals, wrt, epsilon)
    return {n: py(np.asarray(cols[n])[..., 0]) for n in wrt}
