"""The numeric interpreters: forward values, reverse adjoints, forward tangents.

Each is one loop over the graph's equations; reverse mode is the same loop reversed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.ir import rules, saturation
from graphlang.ir.graph import Eqn, Graph
from graphlang.numbers import preview, strict_floats
from graphlang.primitives.kernels import unbroadcast
from graphlang.primitives.shapes import Shape
from graphlang.primitives.table import BATCHED
from graphlang.primitives.vmap import Batch, broadcast_batch, reduce_to

_NUMERIC_ERRORS = (FloatingPointError, ZeroDivisionError, OverflowError, ValueError)


def domain_error(graph: Graph, eq: Eqn, args: list[Any], err: Exception, vals: list[Any],
                 during: str = "") -> GraphlangError:
    """A located message for a numeric failure: which function, which statement, which value."""
    st = graph.statements[eq.stmt]
    prim = eq.prim
    example = None
    if any(isinstance(a, Batch) for a in args):  # a mini-batch: the message is about one example
        args, example = _failing_example(eq, args)
    msg = prim.domain(*args) if prim.domain is not None and not during else None
    what = str(err).split(" encountered")[0].replace("in ", "")
    hint: str | None = None
    if msg is None:
        shown = ", ".join(preview(a) for a in args)
        kind, sym, _ = prim.form  # as the program writes it: x^0.5 is "^", not "pow"
        name = f"'{sym.strip()}'" if kind in ("infix", "prefix") else prim.name
        call = (f" {sym.strip()} ".join(preview(a) for a in args) if kind == "infix" else
                sym.strip() + shown if kind == "prefix" else f"{prim.name}({shown})")
        if during and ("overflow" in str(err) or isinstance(err, OverflowError) or  # 1/x at 1e160: −1/x² is
                       "divide by zero" in str(err) and _tiny(args) and not _zero(args)):  # 1e-160: x² is 0
            msg = (f"computing the derivative of {name} at {shown} overflows float64 (it, or a step "  # ≈ −1e-320,
                   "of its formula, exceeds 1.8e308)")  # x² is not
        elif during and "underflow" in str(err):  # dpow's t^(c-2) of a large t, lost before meeting t's derivatives
            msg = (f"computing the derivative of {name} at {shown} underflows float64 (a step of its formula, "
                   "t^(c-k) for a large t, is below 2.2e-308 and would be lost as 0 before it meets the large "
                   "factors of the chain rule)")
            hint = ("write the power another way ((x^200)^0.01 as x^2, exp(x)^c as exp(c * x)), or choose a point "
                    "of smaller magnitude")
        elif during and prim.name == "pow" and len(args) == 2 and np.any(np.asarray(args[0], float) < 0):
            u, v = (graph.as_written(i)[0] or w for i, w in zip(eq.ins, "uv"))  # the exponent's u^v·ln(u)
            msg = (f"the derivative of {u} ^ {v} in its exponent, {u}^{v}·ln({u}), has no real value at a "
                   f"negative base ({u}, {v} = {shown})")
            hint = ("a power whose exponent varies needs a positive base: write the exponent as a number "
                    "(x ^ 2), or differentiate only by inputs the exponent does not read (graphlang grad --wrt)")
        elif during:
            msg = f"the derivative of {name} is not finite at {shown} ({what})"
        elif "overflow" in str(err) or isinstance(err, OverflowError):
            msg = f"{call} overflows float64 (the result exceeds 1.8e308)"
        else:
            msg = f"{call} is undefined ({what})"
    hint = hint or (EXP_HINT if not during and "overflows" in msg and eq.prim.name == "exp" else
            "the result is past float64's largest number (1.8e308) this near 0: choose a point farther from 0"
            if not during and "overflows" in msg and _tiny(args) else
            "the result is past float64's largest number (1.8e308): choose inputs of smaller magnitude"
            if not during and "overflows" in msg else
            "this point is outside the function's domain; choose other input values" if not during else
            _near_zero(args) if _tiny(args) and eq.prim.pole else _huge_constant(graph, eq) or
            "a value of this size overflows float64 in the derivative's formula; choose a point of smaller "
            "magnitude" if "overflows" in msg else "the function is not differentiable here; choose another point")
    if not during and not graph.reached_from(range(len(graph.inputs)))[eq.out]:  # (an error's path only)
        hint = "no input reaches this operation: change the numbers written in the program"
    saturated = (saturation.explain(graph, eq, vals, derivative=bool(during))
                 if not during or "overflows" in msg else None)
    if saturated is not None:
        msg, hint = f"{msg}, {saturated[0]}", saturated[1]
    which = f" (example {example} of the batch)" if example is not None else ""
    return GraphlangError("domain", f"{msg}, in the statement {st.name} = {st.text}{which}",
                          eq.line, eq.column, hint)


def _near_zero(args: list[Any]) -> str:
    """Why a derivative fails this near 0, naming the small argument (in a Hessian it is often not an
    input: ln(exp(x)) at x = -700 divides by exp(x) = 1e-304)."""
    return (f"an argument of this step is {_smallest(args):.3g}: this near 0 a step of the derivative's "
            "formula is past float64's 1.8e308 (as 1/x's −1/x² is, −1e320 at x = 1e-160), even where the "
            "whole derivative is not: choose a point where it is farther from 0")


def _huge_constant(graph: Graph, eq: Eqn) -> str | None:
    """`a * 1e300 * 1e10`: a chain-rule step past float64 where the program's own constant is an
    argument of the failing step (at any point: "choose a point farther from 0" was a red team's dead
    end; a constant elsewhere in the statement is not the cause: a reviewer's find)."""
    found = next((c for i in eq.ins if (c := graph.consts.get(i)) and not 1e-100 < abs(c) < 1e100), None)
    return None if found is None else (
        "a step of the chain rule (an adjoint times a local derivative) is past float64's 1.8e308 at any "
        f"point, though the whole derivative need not be: the program's constant {found:g} enters it; "
        "rescale the constants so that no step needs a number that large")


def _zero(args: list[Any]) -> bool:
    """An argument that is exactly 0 somewhere (a true pole, not a step of a formula out of range)."""
    return any(np.any(np.asarray(getattr(a, "v", a), dtype=np.float64) == 0) for a in args)


def _smallest(args: list[Any]) -> float:
    """The smallest magnitude within 1e-100 of 0 but not 0 among the arguments (0.0: none)."""
    least = 0.0
    for a in args:
        v = np.abs(np.asarray(getattr(a, "v", a), dtype=np.float64))
        tiny = v[(v > 0) & (v < 1e-100)]
        least = float(tiny.min()) if tiny.size and (not least or tiny.min() < least) else least
    return least


def _tiny(args: list[Any]) -> bool:
    """An argument within 1e-100 of 0, but not 0 (where 1/x, ln x, x^-2 have derivatives past float64)."""
    return _smallest(args) > 0


EXP_HINT = ("exp(u) overflows from u ≈ 709.8: for a softmax, a log of a sum of exps or ln(1 + exp(u)) write "
            "softmax(u), logsumexp(u) or softplus(u), finite for any u; otherwise choose inputs of smaller magnitude")


def _failing_example(eq: Eqn, args: list[Any]) -> tuple[list[Any], int | None]:
    """The arguments of the first example of a batch on which the primitive fails, and its index
    (all examples' arrays and None when no single one fails, e.g. in a derivative rule)."""
    n = next(a.v.shape[0] for a in args if isinstance(a, Batch))
    for b in range(n):
        one = [a.v[b] if isinstance(a, Batch) else a for a in args]
        try:
            with strict_floats():
                eq.prim.impl(*one, eq.attr) if eq.prim.attr_args else eq.prim.impl(*one)
        except _NUMERIC_ERRORS:
            return one, b
    return [a.v if isinstance(a, Batch) else a for a in args], None


def sum_error(graph: Graph, eq: Eqn, slot: int, err: Exception, what: str) -> GraphlangError:
    """A located message for a sum of derivative contributions that overflows."""
    st = graph.statements[eq.stmt]
    name = graph.name_of.get(slot)
    of = f"the {what} of {name}" if name is not None else f"the {what} of a part of this statement"
    how = "overflows float64" if "overflow" in str(err) or isinstance(err, OverflowError) else \
        f"is undefined ({str(err).split(' encountered')[0].replace('in ', '')})"
    return GraphlangError("domain", f"{of} {how} when the contributions through {eq.prim.name} are "
                          f"added up, in the statement {st.name} = {st.text}", eq.line, eq.column,
                          "the derivative is too large for float64 here; choose other input values")


def forward(graph: Graph, inputs: list[Any], batched: bool = False, needed: list[bool] | None = None
            ) -> list[Any]:
    """Every slot's value, inputs first (`batched`: some inputs are `Batch`es; `needed`: only these
    slots, the rest None)."""
    vals: list[Any] = [None] * graph.n_slots
    vals[: len(inputs)] = inputs
    for slot, value in graph.consts.items():
        vals[slot] = np.float64(value)
    ops = BATCHED if batched else None
    with strict_floats():
        for eq in graph.eqns:
            if needed is not None and not needed[eq.out]:
                continue
            args = [vals[i] for i in eq.ins]
            fn = ops[eq.prim.name] if ops is not None else eq.prim.impl
            try:
                vals[eq.out] = fn(*args, eq.attr) if eq.prim.attr_args else fn(*args)
            except _NUMERIC_ERRORS as err:
                raise domain_error(graph, eq, args, err, vals) from None
    return vals


def depends_on_inputs(graph: Graph, which: list[int] | None = None) -> list[bool]:
    """Per slot: does it depend on the inputs (or on the slots `which`, or is one of them)?"""
    return graph.reached_from(range(len(graph.inputs)) if which is None else which)


def reverse(graph: Graph, shapes: list[Shape], vals: list[Any], seeds: dict[int, Any],
            live: list[bool], batched: bool = False, all_batched: bool = False,
            soft: list[bool] | None = None, missing: set[int] | None = None) -> list[Any]:
    """Adjoints g_v = ∂(seeds · outputs)/∂v for every slot (None where no path leads).

    `batched`: values may be `Batch`es; the adjoint of an unbatched slot (a parameter) sums the
    batch's contributions. `all_batched`: the seeds are a batch of directions (a Jacobian's rows),
    so every adjoint keeps the batch axis. `soft`: slots (constants, which no input moves) whose
    adjoint may not exist (∂(x^n)/∂n at x < 0): there a numeric failure leaves that adjoint (and
    those upstream of it) None instead of stopping the evaluation, and adds it to `missing`.
    """
    adj: list[Any] = [None] * graph.n_slots
    undefined: set[int] = set()
    for slot, g in seeds.items():
        adj[slot] = g
    add = BATCHED["add"]
    with strict_floats():
        for eq in reversed(graph.eqns):
            g = adj[eq.out]
            if g is None or eq.out in undefined:
                if eq.out in undefined:
                    undefined.update(eq.ins)
                continue
            in_shapes = tuple(shapes[i] for i in eq.ins)
            fns = rules.compiled(eq.prim.name, "vjp", eq.attr, in_shapes, batched)
            args = [vals[i] for i in eq.ins]
            pack = args if len(args) <= 2 else [args]  # (past two arguments a rule takes them as one: rules.compiled)
            for k, i in enumerate(eq.ins):
                fn = fns[k]
                if fn is None or not live[i]:
                    continue
                try:
                    c = fn(g, vals[eq.out], *pack)
                except _NUMERIC_ERRORS as err:
                    if soft is not None and soft[i]:
                        undefined.add(i)
                        continue
                    raise domain_error(graph, eq, args, err, vals, during="reverse") from None
                try:  # summing the contributions (over broadcast axes, the batch, the uses) can overflow
                    if batched:
                        c = reduce_to(c, in_shapes[k], all_batched or isinstance(vals[i], Batch))
                        adj[i] = c if adj[i] is None else add(adj[i], c)
                        continue
                    if np.shape(c) != in_shapes[k]:
                        c = unbroadcast(c, in_shapes[k])
                    adj[i] = c if adj[i] is None else adj[i] + c
                except _NUMERIC_ERRORS as err:
                    raise sum_error(graph, eq, i, err, "adjoint") from None
    for i in undefined:
        adj[i] = None
    if missing is not None:
        missing.update(undefined)
    return adj


def tangents(graph: Graph, shapes: list[Shape], vals: list[Any], seeds: dict[int, Any],
             batched: bool = False, needed: list[bool] | None = None,
             soft: list[bool] | None = None, missing: set[int] | None = None) -> list[Any]:
    """Tangents ẋ_v = (∂v/∂inputs) · direction for every slot (None where zero).

    `batched`: the seeds are `Batch`es of directions (a Jacobian's columns, in one pass).
    `needed`: only these slots (what the outputs read: a gradient by forward mode does not stop
    at a node the output never reads, whose tangent may not exist, as reverse mode does not).
    `soft`: slots (those the outputs do not read) whose tangent may not exist: there a numeric
    failure leaves it (and every tangent downstream of it) None and adds them to `missing`, as
    `reverse` does for a constant's adjoint.
    """
    tan: list[Any] = [None] * graph.n_slots
    for slot, t in seeds.items():
        tan[slot] = t
    add = BATCHED["add"]
    with strict_floats():
        for eq in graph.eqns:
            if missing and any(i in missing for i in eq.ins):  # downstream of a tangent that does not exist
                missing.add(eq.out)
                continue
            if (needed is not None and not needed[eq.out]) or all(tan[i] is None for i in eq.ins):
                continue
            in_shapes = tuple(shapes[i] for i in eq.ins)
            fns = rules.compiled(eq.prim.name, "jvp", eq.attr, in_shapes, batched)
            args = [vals[i] for i in eq.ins]
            pack = args if len(args) <= 2 else [args]  # (past two arguments a rule takes them as one: rules.compiled)
            total = None
            for k, i in enumerate(eq.ins):
                fn = fns[k]
                if fn is None or tan[i] is None:
                    continue
                try:
                    c = fn(tan[i], vals[eq.out], *pack)
                except _NUMERIC_ERRORS as err:
                    if soft is not None and soft[eq.out] and missing is not None:
                        missing.add(eq.out)
                        break
                    raise domain_error(graph, eq, args, err, vals, during="forward-mode") from None
                try:
                    total = c if total is None else (add(total, c) if batched else total + c)
                except _NUMERIC_ERRORS as err:
                    raise sum_error(graph, eq, eq.out, err, "tangent") from None
            if missing is not None and eq.out in missing:
                continue
            if batched:
                if total is not None:
                    total = broadcast_batch(total, _size(seeds), shapes[eq.out])
            elif total is not None and np.shape(total) != shapes[eq.out]:
                total = np.broadcast_to(total, shapes[eq.out])
            tan[eq.out] = total
    return tan


def _size(seeds: dict[int, Any]) -> int:
    return next(iter(seeds.values())).v.shape[0]


def reverse_once(graph: Graph, arrays: list[np.ndarray], shapes: list[Shape]) -> None:
    """The forward pass and one reverse pass, every output coordinate seeded at once: the located
    domain error a local derivative meets, if any (symbolic mode's errors are placed by it)."""
    vals = forward(graph, arrays)
    seeds = {graph.slot_of[n]: np.ones(shapes[graph.slot_of[n]]) for n in graph.outputs}
    reverse(graph, shapes, vals, seeds, depends_on_inputs(graph))
