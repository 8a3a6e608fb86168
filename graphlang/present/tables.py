"""Presenters: results as Rich renderables (the library never prints) and as JSON text."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from graphlang.errors import GraphlangError, clean, located
from graphlang.numbers import number, short

MAX_SHOWN = 6  # elements per axis before eliding


def tensor(value: Any, digits: int = 6) -> str:
    """A scalar as a number; a vector on one line; a matrix one row per line; shape when large.

    `digits` significant digits per element. Only the elements shown are formatted (the first
    MAX_SHOWN - 2 and the last per axis), so a tensor of 10⁷ elements prints as fast as one of ten.
    """
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return number(float(a))
    shape = f"  (shape {list(a.shape)})" if a.ndim > 1 or a.size > MAX_SHOWN else ""
    if a.ndim == 1:
        return "[" + ", ".join(_elided(_cells(a, digits), len(a))) + "]" + shape
    if a.ndim == 2:
        cells = [_elided(_cells(a[i], digits), a.shape[1]) for i in _shown(len(a))]
        width = max((len(c) for row in cells for c in row), default=0)
        rows = ["[" + ", ".join(c.rjust(width) for c in row) + "]" for row in cells]
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
    shown = [short(a[np.unravel_index(i, a.shape)], digits) for i in _shown(a.size)]  # no copy of `a`
    return f"tensor of shape {list(a.shape)}: [{', '.join(_elided(shown, a.size))}]"


def _shown(n: int) -> list[int]:
    """The indices shown of an axis of length n: all of them, or the first few and the last."""
    return list(range(n)) if n <= MAX_SHOWN else [*range(MAX_SHOWN - 2), n - 1]


def _cells(v: np.ndarray, digits: int = 6) -> list[str]:
    """The shown elements of a vector, formatted (the last one after the filler when elided)."""
    return [short(v[i], digits) for i in _shown(len(v))]


def _elided(items: list[str], total: int, filler: str = "…") -> list[str]:
    """Items already cut to the shown ones (`_shown`) of `total`: the filler before the last when cut."""
    if total <= MAX_SHOWN:
        return items
    return items[: MAX_SHOWN - 2] + [filler, items[-1]]


def _table(title: str, *columns: str) -> Table:
    t = Table(title=Text(title, style="bold"), title_justify="left", show_edge=True, expand=False,
              min_width=len(title))
    for c in columns:
        t.add_column(c, justify="left", overflow="fold")
    return t


def result_tables(program: Any, result: Any) -> Group:
    """The `run` view: forward pass, backward pass, gradient (or Jacobian)."""
    out = result.output if isinstance(result.output, str) else ", ".join(result.output)
    fwd = _table("Forward pass", "node", "definition", "value")
    for name, value in result.values.items():
        fwd.add_row(Text(name), Text(clean(program.definition(name))), Text(tensor(value)))
    parts: list[Any] = [fwd]
    if result.adjoints is not None:
        back = _table(f"Backward pass (adjoints g_v = ∂{out}/∂v)", "node", "adjoint")
        for name, value in reversed(list(result.adjoints.items())):
            back.add_row(Text(f"g_{name}"), Text(tensor(value)))
        parts.append(back)
    label = {"reverse": "reverse mode", "forward": "forward mode", "fd": "central differences",
             "symbolic": "symbolic"}.get(result.method, result.method)
    if result.gradient is not None:
        grad = _table(f"Gradient of {out} ({label})", "input", f"∂{out}/∂input")
        for name, value in result.gradient.items():
            grad.add_row(Text(name), Text(tensor(value)))
        parts.append(grad)
        parts.append(Text(f"{out} = {tensor(result.value)}"))
    else:
        jac = _table(f"Jacobian of {out} ({label}, denominator layout: input shape + ({np.size(result.value)},))",
                     "input", "∂output/∂input")
        for name, value in (result.jacobian or {}).items():
            jac.add_row(Text(name), Text(tensor(value)))
        parts.append(jac)
        parts.append(Text(f"{out} = {tensor(result.value)}"))
    if result.epsilon is not None:
        parts.append(Text(f"epsilon = {result.epsilon:.3g}" + (" × max(1, |x|) per coordinate"
                                                               if result.extra.get("scaled") else "")))
    return Group(*parts)


def error_text(err: GraphlangError, path: str | None, source: str | None) -> Text:
    """`FILE:LINE:COL: kind error: message`, the source line, a caret, and a hint (styled)."""
    parts = located(err, path, source)
    t = Text()
    t.append(f"{parts.where}: ", style="bold")
    t.append(f"{parts.kind} error: ", style="bold red")
    t.append(parts.message + "\n")
    if parts.source_line is not None:
        t.append(parts.source_line + "\n")
        t.append(f"{parts.caret}\n", style="bold red")
    if parts.hint:
        t.append("hint: ", style="bold cyan")
        t.append(parts.hint + "\n")
    return t



def sweep_table(rows: list[Any], best_forward: float, best_central: float) -> Group:
    t = _table("Finite differences vs reverse mode: max error, |Δ| / max(|reverse|, 1)", "ε", "forward (f(x+ε)−f(x))/ε",
               "central (f(x+ε)−f(x−ε))/2ε")
    for r in rows:
        f = f"{r.forward_error:.3e}" + ("  ← best" if r.epsilon == best_forward else "")
        c = f"{r.central_error:.3e}" + ("  ← best" if r.epsilon == best_central else "")
        t.add_row(f"{r.epsilon:.0e}", f, c)
    note = Text("Too large an ε: truncation error (ε for forward, ε² for central differences); too small: "
                "round-off (about eps/ε). The best are near √eps ≈ 1e-8 and ∛eps ≈ 1e-5.")
    return Group(t, note)


def gradcheck_tables(rows: list[Any], tolerances: dict[str, tuple[float, float]], kinks: Any = ()) -> Group:
    parts: list[Any] = []
    kinked = {k.input for k in kinks}
    for name in dict.fromkeys(r.input for r in rows):
        t = _table(f"∂/∂{name}", "method", "value", "abs error", "rel error*", "check")
        for r in rows:
            if r.input != name:
                continue
            check = "reference" if r.method not in tolerances else ("pass" if r.passed else
                                                                   "kink" if r.input in kinked else "FAIL")
            t.add_row(r.method, tensor(r.value), f"{r.abs_error:.2e}", f"{r.rel_error:.2e}", check)
        parts.append(t)
    parts.append(Text("* |Δ| / max(|reverse|, 1): relative, and absolute where the reference is below 1"))
    parts.append(Text("tolerances vs reverse mode: " + "; ".join(
        f"{m} rtol {rt:g} atol {at:g}" for m, (rt, at) in tolerances.items())))
    ok = all(r.passed for r in rows)
    for k in kinks:
        where = k.input + (f"[{', '.join(map(str, k.index))}]" if k.index else "")
        parts.append(Text(f"{where}: the output is not differentiable at this point: the one-sided "
                          f"derivatives differ (from the left {k.left:.6g}, from the right {k.right:.6g}). "
                          "Reverse, forward and symbolic mode use the rule's value at the corner; "
                          "central differences average the two sides.", style="yellow"))
    if not ok and kinks and all(r.passed or r.input in kinked for r in rows):
        parts.append(Text("not differentiable here (a kink, e.g. relu or abs at 0, max at a tie): no method "
                          "is wrong; check the gradient at a nearby point", style="bold yellow"))
    else:
        parts.append(Text("all four methods agree" if ok else "the methods DISAGREE",
                          style="bold green" if ok else "bold red"))
    return Group(*parts)


def tangent_table(program: Any, tans: dict[str, Any], seed: dict[str, Any]) -> Table:
    shown = ", ".join(f"{k}={tensor(v)}" for k, v in seed.items())
    t = _table(f"Forward mode: tangents ẋ_v = ∂v/∂(direction) for direction {shown}",
               "node", "definition", "tangent")
    for name, v in tans.items():
        t.add_row(Text(name), Text(clean(program.definition(name))), Text(tensor(v)))
    return t


def hessian_table(program: Any, h: dict[str, dict[str, Any]]) -> Table | Group:
    """The Hessian's blocks, row a, column b; for tensors a note on the block layout (below the
    table at the terminal's width, not wrapped to the table's)."""
    out = program.outputs[0]
    names = list(h)
    # no letters for the row and column: a program may have nodes called a and b
    t = _table(f"Hessian of {out}: ∂²{out} / ∂(row) ∂(column)", "", *names)
    for a in names:
        t.add_row(a, *[tensor(h[a][b]) for b in names])
    if any(np.ndim(h[a][b]) for a in names for b in names):
        return Group(t, Text(f"A tensor block is the derivative of ∂{out}/∂(row) by the column's input, in "
                             "denominator layout: shape column.shape + row.shape, entry [j, i] = "
                             f"∂²{out} / ∂row[i] ∂column[j]."))
    return t


def checker_report(report: Any) -> Group:
    t = _table(f"Score {report.score:g} / {report.max_score:g}", "", "quantity", "points", "feedback")
    for i in report.items:
        t.add_row(Text("PASS" if i.passed else "FAIL", style="green" if i.passed else "bold red"),
                  Text(clean(i.name)), Text(f"{i.score:g}/{i.max_score:g}"), Text(clean(i.message)))
    parts: list[Any] = [t]
    parts += [Text(clean(f)) for f in report.feedback]
    return Group(*parts)


def batch_summary(rows: list[dict[str, Any]]) -> Table:
    t = _table(f"{len(rows)} submissions", "submission", "status", "score",
               "first wrong step or reason")
    for r in rows:
        score = f"{r['score']:g}/{r['max_score']:g}" if r.get("max_score") is not None else "0"
        t.add_row(Text(clean(r["submission"])), Text(r["status"]), Text(score),
                  Text(clean(str(r.get("root_cause") or r.get("reason") or ""))))
    return t


def epoch_table(accuracy: bool, validation: bool) -> Table:
    cols = ["epoch", "train loss"] + (["train accuracy"] if accuracy else [])
    if validation:
        cols += ["val loss"] + (["val accuracy"] if accuracy else [])
    return _table("Training (SGD)", *cols)


def add_epoch(table: Table, st: Any) -> None:
    row = [str(st.epoch), f"{st.train_loss:.6f}"]
    if st.train_accuracy is not None:
        row.append(f"{st.train_accuracy:.2%}")
    if st.val_loss is not None:
        row.append(f"{st.val_loss:.6f}")
        if st.val_accuracy is not None:
            row.append(f"{st.val_accuracy:.2%}")
    table.add_row(*row)


def prediction_table(preds: Any, name: str, loss: float | None, acc: float | None, confusion: Any = None) -> Group:
    t = _table(f"Predictions ({name})", "example", name, "class")
    p = np.asarray(preds)
    for i in range(min(len(p), 20)):
        cls = str(int(np.argmax(p[i]))) if p.ndim == 2 else str(int(p[i] > 0.5))
        t.add_row(str(i + 1), tensor(p[i]), cls)
    note = f"{len(p)} examples" + (f"; mean loss {loss:.6f}" if loss is not None else " (no labels)") + (
        f"; accuracy {acc:.2%}" if acc is not None else "")
    parts: list[Any] = [t, Text(note + ("; first 20 shown" if len(p) > 20 else ""))]
    if confusion is not None:
        c = np.asarray(confusion)
        m = _table("Confusion matrix (rows: true class, columns: predicted class)", "true \\ predicted",
                   *[str(j) for j in range(len(c))])
        for i, row in enumerate(c):
            m.add_row(str(i), *[str(int(v)) for v in row])
        parts.append(m)
    return Group(*parts)
