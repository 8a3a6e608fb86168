"""The `run`, `tangents`, `gradcheck` and `hessian` views as plain parts (present/grid.py), and tensors as
text: no Rich here, so that a command printing to a file or a pipe never imports it (start-up time)."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.errors import clean
from graphlang.numbers import number, short
from graphlang.present.grid import Fits, Grid, Part, Styled
from graphlang.symbolic.adjoint import choose_prefix
from graphlang.symbolic.tangent import dot  # (a tangent as explain --mode forward writes it: ȧ)

MAX_SHOWN = 6  # elements per axis before eliding


def tensor(value: Any, digits: int = 6, width: int | None = None) -> str:
    """A scalar as a number; a vector on one line; a matrix one row per line; shape when large.

    `digits` significant digits per element. Only the elements shown are formatted (the first
    MAX_SHOWN - 2 and the last per axis), so a tensor of 10⁷ elements prints as fast as one of ten.
    `width`: the widest line allowed (a table's column), reached by putting the shape on a line of its
    own, then showing fewer columns, then fewer digits — a number folded in the middle misreads.
    """
    a = np.asarray(value, dtype=np.float64)
    text = _written(a, digits, MAX_SHOWN - 2, False)
    if width is None or a.ndim not in (1, 2) or _widest(text) <= width:
        return text
    tries = [(digits, MAX_SHOWN - 2), (digits, 3), (digits, 2), (min(digits, 4), 2), (min(digits, 4), 1),
             (min(digits, 3), 1)]
    for d, keep in tries:
        text = _written(a, d, keep, True)
        if _widest(text) <= width:
            break
    return text


def _widest(text: str) -> int:
    return max(map(len, text.split("\n")))


def _written(a: np.ndarray, digits: int, keep: int, shape_below: bool) -> str:
    """`tensor` showing the first `keep` and the last element of each axis; the shape after the last
    line, or (`shape_below`) on a line of its own."""
    if a.ndim == 0:
        return number(float(a))
    shown = keep + 2
    shape = ("\n" if shape_below else "  ") + f"(shape {list(a.shape)})" if a.ndim > 1 or a.size > shown else ""
    if a.ndim == 1:
        cells = _elided(_cells(a, digits, keep), len(a), keep)
        if len(a) > shown:  # a few non-zeros the filler would hide (e₉, a one-hot gradient): shown
            middle = a[keep: len(a) - 1]
            hidden = int(np.count_nonzero(middle))
            if 0 < hidden <= 3 and 3 * hidden <= len(middle):  # mostly zeros: a few values stand out
                at = [int(i) + keep for i in np.flatnonzero(middle)]
                cells = cells[:-1] + [c for i in at for c in (f"[{i}] {short(a[i], digits)}", "…")] + cells[-1:]
        return "[" + ", ".join(cells) + "]" + shape
    if a.ndim == 2:
        grid = [_elided(_cells(a[i], digits, keep), a.shape[1], keep) for i in _shown(len(a))]
        width = max((len(c) for row in grid for c in row if c != "…"), default=0)
        rows = ["[" + ", ".join(c if c == "…" else c.rjust(width) for c in row) + "]" for row in grid]  # (… narrow)
        if len(a) > MAX_SHOWN:
            rows = rows[:-1] + [" " * (len(rows[0]) // 2) + "⋮", rows[-1]]
        body = "".join(r + ("" if r.strip() == "⋮" or i == len(rows) - 1 else ",") + "\n "
                       for i, r in enumerate(rows)).rstrip()
        return "[" + body + "]" + shape
    if a.ndim == 3:  # one matrix per leading index
        blocks = [f"[{i}] " + tensor(a[i], digits).split("  (shape")[0].replace("\n", "\n    ")
                  for i in range(min(len(a), MAX_SHOWN))]
        if len(a) > MAX_SHOWN:
            blocks = blocks[: MAX_SHOWN - 2] + ["…", f"[{len(a) - 1}] " + tensor(a[-1], digits).split("  (shape")[0]
                                                .replace("\n", "\n    ")]
        return "\n".join(blocks) + f"\n(shape {list(a.shape)})"
    items = [short(a[np.unravel_index(i, a.shape)], digits) for i in _shown(a.size)]  # no copy of `a`
    return f"tensor of shape {list(a.shape)}: [{', '.join(_elided(items, a.size))}]"


def fitted(value: Any, digits: int = 6) -> Fits:
    """A table cell holding a tensor, which the table writes narrower where its column is narrower."""
    return Fits(tensor(value, digits), lambda width: tensor(value, digits, width))


def one_line(value: Any, digits: int = 6) -> str:
    """`tensor` on one line (a matrix's rows joined, without the column alignment's padding)."""
    return " ".join(tensor(value, digits).split()).replace("[ ", "[")


def _shown(n: int, keep: int = MAX_SHOWN - 2) -> list[int]:
    """The indices shown of an axis of length n: all of them, or the first `keep` and the last."""
    return list(range(n)) if n <= keep + 2 else [*range(keep), n - 1]


def _cells(v: np.ndarray, digits: int = 6, keep: int = MAX_SHOWN - 2) -> list[str]:
    """The shown elements of a vector, formatted (the last one after the filler when elided)."""
    return [short(v[i], digits) for i in _shown(len(v), keep)]


def _elided(items: list[str], total: int, keep: int = MAX_SHOWN - 2, filler: str = "…") -> list[str]:
    """Items already cut to the shown ones (`_shown`) of `total`: the filler before the last when cut."""
    if total <= keep + 2:
        return items
    return items[:keep] + [filler, items[-1]]


UNDEFINED = "no finite value at this point"  # a constant's adjoint: ∂(x^n)/∂n at x < 0, or one that overflows


def adjoint_rows(result: Any) -> list[tuple[str, Any]]:
    """(name, adjoint) backwards; None where the adjoint does not exist (`Result.extra["no_adjoint"]`)."""
    missing = set(result.extra.get("no_adjoint", ()))
    declared = set(getattr(result.extra.get("program"), "inputs", ()))
    inputs = [n for n in result.values if n in declared]
    order = [n for n in reversed(list(result.values)) if n not in declared] + inputs  # the lecture's g_x, g_z
    return [(n, result.adjoints.get(n)) for n in order if n in result.adjoints or n in missing]


def backward_title(g: str, out: str, names: Any) -> str:
    """The adjoints' heading, g_v = ∂y/∂v, with a letter no node of the program is named (beside a
    node v, g_v read as that node's adjoint)."""
    v = next((c for c in "vwuqk" if c not in names and c != out), "•")
    return f"Backward pass (adjoints {g}{v} = ∂{out}/∂{v})"


def result_parts(program: Any, result: Any) -> list[Part]:
    """The `run` view: forward pass, backward pass, gradient (or Jacobian)."""
    out = result.output if isinstance(result.output, str) else ", ".join(result.output)
    fwd = Grid("Forward pass", ("node", "definition", "value"))
    fwd.rows = [(name, clean(program.definition(name)), fitted(value)) for name, value in result.values.items()]
    parts: list[Part] = [fwd]
    if result.adjoints is not None:
        g = choose_prefix(program.names)  # grad_a where the program has its own node g_a (as explain)
        back = Grid(backward_title(g, out, program.names), ("node", "adjoint"))
        back.rows = [(f"{g}{name}", UNDEFINED if value is None else fitted(value))
                     for name, value in adjoint_rows(result)]
        parts.append(back)
    label = {"reverse": "reverse mode", "forward": "forward mode", "fd": "central differences",
             "symbolic": "symbolic"}.get(result.method, result.method)
    if result.gradient is not None:
        grad = Grid(f"Gradient of {out} ({label})", ("input", f"∂{out}/∂input"))
        grad.rows = [(name, fitted(value)) for name, value in result.gradient.items()]
    else:
        grad = Grid(f"Jacobian of {out} ({label}, denominator layout: input shape + ({np.size(result.value)},))",
                    ("input", "∂output/∂input"))
        grad.rows = [(name, fitted(value)) for name, value in (result.jacobian or {}).items()]
    shown: Part = grad
    if not program.inputs:  # `x = 2; z = 3; y = exp(x * z)`: a constant (an empty table said nothing)
        shown = (f"No gradient: the program has no inputs (every name is assigned a value), so {out} is a "
                "constant. To differentiate by a name, delete its assignment (it becomes an input) and "
                "give its value with --at.")
    parts += [shown, f"{out} = {tensor(result.value)}"]
    if result.epsilon is not None and program.inputs:
        parts.append(f"epsilon = {result.epsilon:.3g}" + (" × max(1, |x|) per coordinate"
                                                          if result.extra.get("scaled") else ""))
    if result.extra.get("caution"):
        parts.append(Styled(f"note: {result.extra['caution']}", "yellow"))
    return parts


def tangent_parts(program: Any, tans: dict[str, Any], seed: dict[str, Any]) -> list[Part]:
    """The `tangents` view: every node's definition and tangent along the seed."""
    shown = ", ".join(f"{k}={tensor(v)}" for k, v in seed.items())
    t = Grid(f"Forward mode along the direction {shown}: each node's tangent (its derivative in that "
             "direction)", ("node", "definition", "tangent"))
    t.rows = [(name, clean(program.definition(name)), f"{dot(name)} = " + (UNDEFINED if v is None else tensor(v)))
              for name, v in tans.items()]
    return [t]


def gradcheck_parts(rows: list[Any], tolerances: dict[str, tuple[float, float]], kinks: Any = (),
                    conventions: Any = (), lost: Any = None) -> list[Part]:
    """The `gradcheck` view: a table per input (each method beside reverse mode), notes, the verdict."""
    parts: list[Part] = []
    kinked = {k.input for k in kinks}
    for name in dict.fromkeys(r.input for r in rows):
        t = Grid(f"∂/∂{name}", ("method", "value", "abs error", "rel error*", "check"))
        for r in rows:
            if r.input != name:
                continue
            check = "reference" if r.method not in tolerances else ("pass" if r.passed else
                                                                   "kink" if r.input in kinked else "FAIL")
            if r.value is None:  # not applicable at this point (fd stepping out of the domain)
                t.add_row(r.method, "—", "—", "—", "n/a")
                continue
            t.add_row(r.method, tensor(r.value), f"{r.abs_error:.2e}", f"{r.rel_error:.2e}", check)
        parts.append(t)
    parts.append("* |Δ| / max(|reverse|, 1): relative, and absolute where the reference is below 1")
    parts.append("tolerances vs reverse mode: " + "; ".join(
        f"{m} rtol {rt:g} atol {at:g}" for m, (rt, at) in tolerances.items()))
    ok = all(r.passed for r in rows)
    skipped = next((r for r in rows if r.value is None), None)
    if skipped is not None:
        parts.append(Styled(f"{skipped.method}: not applicable at this point ({skipped.note}); a smaller "
                            "--epsilon may fit", "yellow"))
    for r in rows:
        if r.value is not None and r.note:  # fd passed with a step relative to a small x
            parts.append(Styled(f"∂/∂{r.input} by {r.method}: {r.note}", "yellow"))
    for k in kinks:
        parts.append(Styled(f"{k.where}: the output is not differentiable at this point: the one-sided "
                            f"derivatives differ (from the left {k.left:.6g}, from the right {k.right:.6g}). "
                            "Reverse, forward and symbolic mode use the rule's value at the corner; "
                            "central differences average the two sides.", "yellow"))
    if not ok and kinks and all(r.passed or r.input in kinked for r in rows):
        parts.append(Styled("not differentiable here (a kink, e.g. relu or abs at 0, max at a tie): no method "
                            "is wrong; check the gradient at a nearby point", "bold yellow"))
    elif not ok and conventions and all(r.passed or r.method == "fd" for r in rows):
        parts.append(Styled(f"central differences DISAGREE at a corner: {', '.join(conventions)}. There the exact "
                            "methods take each function's convention (relu'(0) = 0, abs'(0) = 0, a tie goes to "
                            "the first argument), which need not be the slope of the whole (max(x, z) + min(x, z) "
                            "is x + z): no method is wrong; check the gradient at a nearby point", "bold yellow"))
    elif not ok and lost:  # a float64 formula whose digits cancel: which methods lose them, which do not
        right: set[str] = set()
        fd_rtol, fd_atol = tolerances["fd"]  # (a method within central differences' tolerance of the truth)
        for name, true in lost.items():
            mine = [r for r in rows if r.input == name and r.value is not None]
            near = [r.method for r in mine if abs(float(r.value) - true) <= fd_atol + fd_rtol * abs(true)]
            off = [r for r in mine if r.method not in near]
            right |= {m for m in near if m != "fd"}
            said = f"∂/∂{name} to 40 digits is {true:.6g}: " + _methods([r.method for r in off]) + \
                f" ({', '.join(dict.fromkeys(tensor(r.value) for r in off))}) " + \
                ("lose" if len(off) > 1 else "loses") + " its digits to cancellation in the program's float64 " \
                "formula at this point (a − b of nearly equal numbers, as 1 − cos(x) near x = 0, or 1 + 1e21 − 1e21)"
            parts.append(Styled(said + (f"; {_methods(near)} {'agree' if len(near) > 1 else 'agrees'} with it"
                                        if near else ""), "yellow"))
        parts.append(Styled("the methods DISAGREE: the program's float64 formula cancels its digits here; " + (
            f"{_methods([m for m in ('reverse', 'forward', 'symbolic') if m in right])} "
            "kept them at this point, but no float64 number can be trusted near a cancellation; " if right else
            "no method's number can be trusted; ") + "write it in a stable form, or check a point farther from it",
            "bold red"))
    elif not ok and all(r.passed or r.method == "fd" for r in rows):
        parts.append(Styled("central differences DISAGREE; reverse, forward and symbolic mode agree: at this ε "
                            "the difference quotient's truncation error (∝ ε²) or rounding error (∝ 1/ε) "
                            "exceeds the tolerance; `gradcheck --sweep` shows the trade-off", "bold red"))
    elif ok and kinks:  # abs(x) at 0: central differences' average of -1 and 1 is abs'(0) = 0
        parts.append(Styled("the methods agree on the convention at the corner (relu'(0) = 0, abs'(0) = 0, a tie "
                            "goes to the first argument), but the function is not differentiable here: check the "
                            "gradient at a nearby point", "bold yellow"))
    else:
        agree = "the three exact methods agree" if skipped is not None else "all four methods agree"
        parts.append(Styled(agree if ok else "the methods DISAGREE", "bold green" if ok else "bold red"))
    return parts


def _methods(names: list[str]) -> str:
    """`reverse and symbolic mode`, `central differences`, `forward mode and central differences`."""
    def listed(items: list[str]) -> str:
        return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)
    modes = listed([m for m in names if m != "fd"])
    parts = ([modes + " mode"] if modes else []) + (["central differences"] if "fd" in names else [])
    return (", and " if "," in modes or " and " in modes else " and ").join(parts) if parts else "no method"


def hessian_parts(program: Any, h: dict[str, dict[str, Any]]) -> list[Part]:
    """The Hessian's blocks, row a, column b; for tensors a note on the block layout (below the
    table at the terminal's width, not wrapped to the table's)."""
    out = program.outputs[0]
    names = list(h)
    # no letters for the row and column: a program may have nodes called a and b
    t = Grid(f"Hessian of {out}: ∂²{out} / ∂(row) ∂(column)", ("", *names))
    for a in names:
        t.add_row(a, *[tensor(h[a][b]) for b in names])
    if any(np.ndim(h[a][b]) for a in names for b in names):  # a block a row (a grid of them wrapped mid-number)
        t = Grid(f"Hessian of {out}: one block per pair of inputs", ("row", "column", f"∂²{out} / ∂(row) ∂(column)"))
        t.rows = [(a, b, fitted(h[a][b])) for a in names for b in names]
        return [t, f"A tensor block is the derivative of ∂{out}/∂(row) by the column's input, in "
                   "denominator layout: shape column.shape + row.shape, entry [j, i] = "
                   f"∂²{out} / ∂row[i] ∂column[j]."]
    return [t]
