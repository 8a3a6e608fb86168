"""The cost of a whole command, predicted from shapes before anything runs (SPEC: safety limits).

`Graph.shapes` prices one forward and one reverse pass (`pass_cost`). A command may run many:
a Jacobian by forward mode runs one tangent pass per input coordinate (D), by reverse mode one
adjoint pass per output coordinate (C); central differences two forward passes per input
coordinate; `gradcheck` all four methods; the ε sweep 28 passes per input coordinate; the Hessian
one derivative program per input. An `Estimate` is the whole command's operations and the float64
numbers it holds at once (the values, batched tangents or adjoints, the Jacobian it returns), and
`check` refuses it with a located `limit` error naming the cheaper choice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from graphlang.errors import GraphlangError
from graphlang.ir.graph import EQN_OVERHEAD, Graph
from graphlang.limits import Limits
from graphlang.primitives.shapes import Shape

BYTES = 8  # one float64
SWEEP_PASSES = 28  # 14 values of ε, f(x+ε) and f(x−ε) per input coordinate
BUILD_PER_EQN = 20 * EQN_OVERHEAD  # writing, parsing and checking a derivative program, per equation


@dataclass(frozen=True)
class Estimate:
    """A whole command, predicted: operations, numbers held at once, and what the passes are."""

    ops: int
    numbers: int
    what: str  # "20,000 tangent passes (forward mode: one per input coordinate)"
    where: tuple[int, int] | None = None
    hint: str = ""
    batched: bool = False  # the Jacobian's columns in one vectorized pass (else one at a time)

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.ops + other.ops, max(self.numbers, other.numbers), self.what,
                        self.where, self.hint)


def _size(shape: Shape) -> int:
    return math.prod(shape) if shape else 1


def sizes(graph: Graph, shapes: Sequence[Shape], wrt: Sequence[str]) -> tuple[int, int]:
    """(D, C): input coordinates differentiated by, output coordinates."""
    d = sum(_size(shapes[graph.slot_of[n]]) for n in wrt)
    c = sum(_size(shapes[graph.slot_of[n]]) for n in graph.outputs)
    return d, c


def widest_input(graph: Graph, shapes: Sequence[Shape], wrt: Sequence[str]) -> tuple[int, int] | None:
    """Where the largest input differentiated by is declared (or first used)."""
    if not wrt:
        return None
    name = max(wrt, key=lambda n: _size(shapes[graph.slot_of[n]]))
    ch = graph.checked
    return ch.decl_line.get(name) or ch.first_use.get(name)


def output_place(graph: Graph) -> tuple[int, int] | None:
    st = graph.statement(graph.outputs[0])
    return (st.line, st.column) if st is not None else graph.checked.decl_line.get(graph.outputs[0])


def one_pass(graph: Graph, shapes: Sequence[Shape]) -> tuple[int, int]:
    """(F, T): the operations of one forward pass and the numbers one pass holds."""
    both, held = graph.pass_cost(tuple(shapes[: len(graph.inputs)]))
    return both // 3, held


def jacobian(graph: Graph, shapes: Sequence[Shape], method: str, wrt: Sequence[str],
             batch_numbers: int) -> Estimate:
    """`evaluate`/`jacobian`/`gradient` by `method`: the forward pass, then the method's passes.

    `batch_numbers`: the most numbers a batched (vectorized) Jacobian may hold; past it the
    columns are computed one at a time (the same operations, less memory).
    """
    f, t = one_pass(graph, shapes)
    d, c = sizes(graph, shapes, wrt)
    scalar = len(graph.outputs) == 1 and shapes[graph.slot_of[graph.outputs[0]]] == ()
    jac = 2 * d * c  # the columns, then stacked into one array
    fewer = "differentiate by fewer inputs (--wrt, or wrt= in the API)"
    if method == "reverse" and scalar:
        return Estimate(3 * f, 2 * t + d, "one forward and one reverse pass", output_place(graph),
                        "use smaller tensors or raise the limit")
    if method in ("forward", "reverse"):
        width = d if method == "forward" else c
        batched = width * t <= batch_numbers
        held = t + (width * t if batched else 2 * t) + jac
        if method == "forward":
            what = f"{d:,} tangent passes (forward mode: one per input coordinate)"
            where = widest_input(graph, shapes, wrt)
            hint = ("reverse mode needs one pass: use --method reverse (the default)" if scalar else
                    f"reverse mode needs {c:,} passes (one per output coordinate): --method reverse; "
                    f"or {fewer}" if c < d else fewer)
        else:
            what = f"{c:,} adjoint passes (reverse mode: one per output coordinate)"
            where = output_place(graph)
            hint = (f"forward mode needs {d:,} passes (one per input coordinate): --method forward; "
                    f"or {fewer}" if d < c else f"{fewer}, or reduce the output (e.g. sum it)")
        return Estimate(f + width * 2 * f + d * c, held, what, where, hint, batched)
    if method == "fd":
        hint = ("reverse mode needs one pass: use --method reverse (the default)" if scalar
                else f"forward or reverse mode (the default) needs {min(d, c):,} passes; or {fewer}")
        return Estimate(f + 2 * d * f + d * c, 2 * t + jac,
                        f"{2 * d:,} forward passes (central differences: two per input coordinate)",
                        widest_input(graph, shapes, wrt), hint)
    # symbolic: build the derivative program (about three times the equations), run it once for a
    # scalar output, once per output coordinate otherwise (each run: values and adjoints, ~3F)
    runs = 1 if scalar else c
    build = BUILD_PER_EQN * graph.n_eqns
    return Estimate(f + build + runs * 3 * f + d * c, 4 * t + jac,
                    f"{runs:,} run{'s' if runs > 1 else ''} of the derivative program"
                    + ("" if scalar else " (one per output coordinate)"), output_place(graph),
                    "reverse mode (the default) computes the same numbers more cheaply"
                    + ("" if scalar else f"; or {fewer}, or reduce the output"))


def gradcheck(graph: Graph, shapes: Sequence[Shape], batch_numbers: int,
              wrt: Sequence[str] | None = None) -> Estimate:
    """All four methods on every input (or `wrt`'s: `gradcheck --wrt x` beside a 200×200 W)."""
    wrt = graph.inputs if wrt is None else wrt
    d, _ = sizes(graph, shapes, wrt)
    total = jacobian(graph, shapes, "reverse", wrt, batch_numbers)
    for m in ("forward", "symbolic", "fd"):
        total = total + jacobian(graph, shapes, m, wrt, batch_numbers)
    return Estimate(total.ops, total.numbers,
                    f"gradcheck (forward mode and central differences: {3 * d:,} passes, "
                    "one to two per input coordinate)", widest_input(graph, shapes, wrt),
                    "check fewer inputs (--wrt x), a smaller instance of the program (smaller tensors in "
                    "--at), or use `grad` (reverse mode) alone")


def sweep(graph: Graph, shapes: Sequence[Shape], wrt: Sequence[str] | None = None) -> Estimate:
    f, t = one_pass(graph, shapes)
    wrt = graph.inputs if wrt is None else wrt
    d, _ = sizes(graph, shapes, wrt)
    return Estimate(3 * f + SWEEP_PASSES * d * f, 3 * t,
                    f"the ε sweep ({SWEEP_PASSES * d:,} forward passes: {SWEEP_PASSES} per input "
                    "coordinate)", widest_input(graph, shapes, wrt),
                    "sweep fewer inputs (--wrt x) or a smaller instance of the program (smaller tensors in --at)")


def hessian(graph: Graph, shapes: Sequence[Shape], wrt: Sequence[str] | None = None) -> Estimate:
    """Per input a (of `wrt`, default all): a derivative program (values and adjoints: ~3F per pass)
    differentiated by those inputs: one reverse pass for a scalar a, else a Jacobian of min(D, size
    of a) passes (`hessian --wrt b2` of a 100,000-parameter network was refused at the whole cost)."""
    f, t = one_pass(graph, shapes)
    names = list(graph.inputs if wrt is None else wrt)
    d, _ = sizes(graph, shapes, names)
    ops = numbers = 0
    for a in names:
        da = _size(shapes[graph.slot_of[a]])
        width = 1 if da == 1 else min(d, da)
        ops += BUILD_PER_EQN * graph.n_eqns + 3 * f + width * 6 * f + d * da
        numbers = max(numbers, 3 * t * (1 + min(width, 2)) + 2 * d * da)
    return Estimate(ops, numbers + d * d, f"the Hessian ({len(names)} derivative programs, "
                    f"{d:,} × {d:,} second derivatives)", widest_input(graph, shapes, names),
                    "compute the Hessian of a smaller instance (smaller tensors in --at), or use "
                    "gradcheck/grad for first derivatives")


def check(limits: Limits, est: Estimate) -> Estimate:
    """Raise a located `limit` error when the command would exceed the cost or memory budget."""
    line, column = est.where if est.where is not None else (None, None)
    if est.ops > limits.max_cost:
        raise GraphlangError("limit", f"{est.what} would take about {est.ops:,} operations; the budget "
                             f"is {limits.max_cost:,} (max_cost)", line, column, est.hint)
    if est.numbers * BYTES > limits.max_memory:
        raise GraphlangError("limit", f"{est.what} would hold about {est.numbers:,} numbers "
                             f"({_bytes(est.numbers * BYTES)}); the memory limit is "
                             f"{_bytes(limits.max_memory)} (max_memory)", line, column, est.hint)
    return est


def _bytes(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"
