"""Presenters: results as Rich renderables (the library never prints) and as JSON text."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text

from graphlang.errors import GraphlangError, clean, clean_line, located
from graphlang.present.grid import Grid, Part, fit
from graphlang.present.textviews import (
    MAX_SHOWN,
    gradcheck_parts,
    hessian_parts,
    one_line,
    result_parts,
    tangent_parts,
    tensor,
)

__all__ = ["MAX_SHOWN", "one_line", "tensor"]  # the tensor formatter's old home: the REPL and tests import it here

def _table(title: str, *columns: str) -> Table:
    t = Table(title=Text(title, style="bold"), title_justify="left", show_edge=True, expand=False,
              min_width=len(title))
    for c in columns:
        t.add_column(c, justify="left", overflow="fold")
    return t


class _Fitted:
    """A grid as a Rich table, its tensors written to the width Rich gives it (`grid.fit`)."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        g = fit(self.grid, options.max_width)
        t = _table(g.title, *g.columns)
        t.min_width = len(g.title) if g.min_width else None
        for row in g.rows:
            t.add_row(*map(Text, row))
        yield t


def rich_parts(parts: list[Part]) -> Group:
    """Plain parts (present/grid.py) as Rich renderables: what `grid.render` prints when it can."""
    out: list[Any] = []
    for p in parts:
        if isinstance(p, Grid):
            out.append(_Fitted(p))
        else:
            out.append(Text(p, style=getattr(p, "style", "")))
    return Group(*out)


def result_tables(program: Any, result: Any, most: int | None = None) -> Group:
    """The `run` view: forward pass, backward pass, gradient (or Jacobian); `most`: rows per table at
    most, and how many more (the REPL's :run of 50,000 statements printed 100,000 rows for 20 s)."""
    parts = result_parts(program, result)
    if most is not None:
        cut: list[Part] = []
        for p in parts:
            if isinstance(p, Grid) and len(p.rows) > most:
                more, tail = len(p.rows) - most, most // 10  # (the last rows: the output, the gradient's end)
                rows = [*p.rows[:most - tail], ("…", *[""] * (len(p.columns) - 1)), *p.rows[-tail:]]
                cut += [Grid(p.title, p.columns, rows, p.min_width),
                        f"({more:,} rows not shown at …: :save the program, then `graphlang run` it, or --json, "
                        "for all)"]
            else:
                cut.append(p)
        parts = cut
    return rich_parts(parts)


class _ErrorText(Text):
    """An error's text that remembers what it says, to be written again for the width it is printed
    at (`at_width`: Rich joins the Texts printed together, so no hook of its own would run)."""

    located: tuple[GraphlangError, str | None, str | None]


class Whole(Text):
    """A line printed whole, never folded (a command to copy: the terminal wraps it, and copies it as
    one line; folded, a pasted `:save` command ran half of itself)."""


class _Pairs(Text):
    """`a = 6  b = 7` on one line, remembering its pairs, to be folded between pairs at the width
    it is printed at (Rich folds at any space: `f =` ended one line, its value began the next)."""

    named: list[tuple[str, Any]]


def pairs(named: list[tuple[str, Any]]) -> Text:
    """`name = value` pairs side by side, two spaces apart (folded between pairs by `at_width`, a
    matrix written to the width left beside its name)."""
    t = _Pairs("  ".join(f"{n} = {tensor(v)}" for n, v in named))
    t.named = named
    return t


def at_width(shown: Any, width: int) -> Any:
    """`shown` for `width` columns: an error's source line a window around the caret, pairs folded
    between pairs."""
    if isinstance(shown, _ErrorText):
        return error_text(*shown.located, width=width)
    if isinstance(shown, _Pairs):
        lines: list[str] = []
        for n, v in shown.named:
            item = f"{n} = " + tensor(v, width=max(20, width - len(n) - 3)).replace("\n", "\n" + " " * (len(n) + 3))
            if lines and "\n" not in item + lines[-1] and len(lines[-1]) + 2 + len(item) <= width:  # (a matrix: alone)
                lines[-1] += "  " + item
            else:
                lines.append(item)
        return Text("\n".join(lines))
    return shown


def error_text(err: GraphlangError, path: str | None, source: str | None, width: int | None = None) -> Text:
    """`FILE:LINE:COL: kind error: message`, the source line, a caret, and a hint (styled)."""
    parts = located(err, path, source, width)
    t = Text() if width is not None else _ErrorText()
    if isinstance(t, _ErrorText):
        t.located = (err, path, source)
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



def sweep_table(rows: list[Any], best_forward: float | None, best_central: float | None) -> Group:
    t = _table("Finite differences vs reverse mode: max error, |Δ| / max(|reverse|, 1)", "ε",
               "one-sided (f(x+ε)−f(x))/ε", "central (f(x+ε)−f(x−ε))/(2ε)")
    for r in rows:
        if r.forward_error is None:  # (a step out of the domain: the row says so, not left out)
            t.add_row(f"{r.epsilon:.0e}", "— (a step leaves the domain)", "—")
            continue
        f = f"{r.forward_error:.3e}" + ("  ← best" if r.epsilon == best_forward else "") + (
            "  (x + ε == x)" if r.note.startswith("x + ε") else "")
        c = "— (x − ε leaves the domain)" if r.central_error is None else \
            f"{r.central_error:.3e}" + ("  ← best" if r.epsilon == best_central else "")
        t.add_row(f"{r.epsilon:.0e}", f, c)
    note = Text("Too large an ε: truncation error (ε for one-sided, ε² for central differences); too small: "
                "round-off (about eps/ε). The best are near √eps ≈ 1e-8 and ∛eps ≈ 1e-5 for inputs of size about "
                "1, and that times |x| for larger ones (the sweep steps by ε itself, `grad -m fd` by ε·max(1, |x|)); "
                "where x + ε == x the step is lost in rounding.")
    return Group(t, note)


def gradcheck_tables(rows: list[Any], tolerances: dict[str, tuple[float, float]], kinks: Any = ()) -> Group:
    return rich_parts(gradcheck_parts(rows, tolerances, kinks))


def tangent_table(program: Any, tans: dict[str, Any], seed: dict[str, Any]) -> Group:
    return rich_parts(tangent_parts(program, tans, seed))


def hessian_table(program: Any, h: dict[str, dict[str, Any]]) -> Group:
    return rich_parts(hessian_parts(program, h))


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
        score = f"{r['score']:g}/{r['max_score']:g}" if r.get("max_score") is not None else \
            "—" if r["status"] == "skipped" else "0"
        t.add_row(Text(clean_line(r["submission"])), Text(r["status"]), Text(score), Text(clean_line(_why(r))))
    return t


def _why(row: dict[str, Any]) -> str:
    """A batch row's first wrong step, or why it has none: the file's own problem (not JSON), or
    the first unanswered quantity (the column was blank for both)."""
    if row.get("root_cause") or row.get("reason"):
        return str(row.get("root_cause") or row.get("reason"))
    if row.get("passed"):
        return ""
    missing = next((i for i in row.get("items", []) if not i.get("passed")), None)
    if row.get("feedback") and (missing is None or row.get("score") == 0):
        return str(row["feedback"][0])[:80]
    return f"{missing['name']}: {missing['message']}" if missing else ""


def epoch_table(accuracy: bool, validation: bool) -> Table:
    cols = ["epoch", "train loss"] + (["train accuracy"] if accuracy else [])
    if validation:
        cols += ["val loss"] + (["val accuracy"] if accuracy else [])
    return _table("Training (SGD)", *cols)


def _loss(v: float) -> str:
    """A loss to six decimals; a huge one (a diverging run, 1e299) as 1e+299, not 300 digits."""
    return f"{v:.6f}" if abs(v) < 1e6 else f"{v:.6g}"


EPOCH_ROWS = 50  # a longer run's table lists every k-th epoch (k = 2, 5, 10, 20, …): --json has them all


def shown_epochs(n: int, keep: tuple[int, ...] = ()) -> tuple[list[int], int]:
    """The indices of the epochs a table of `n` lists, and the stride: every one up to 60; else every
    k-th epoch (k a 1-2-5 number, at most EPOCH_ROWS rows), the first, the last and `keep`'s."""
    if n <= 60:
        return list(range(n)), 1
    k = next(m * 10 ** e for e in range(6) for m in (1, 2, 5) if n / (m * 10 ** e) <= EPOCH_ROWS)
    return sorted({0, n - 1, *(i for i in keep if 0 <= i < n), *range(k - 1, n, k)}), k


def add_epoch(table: Table, st: Any) -> None:
    row = [str(st.epoch), _loss(st.train_loss)]
    if st.train_accuracy is not None:
        row.append(f"{st.train_accuracy:.2%}")
    if st.val_loss is not None:
        row.append(_loss(st.val_loss))
        if st.val_accuracy is not None:
            row.append(f"{st.val_accuracy:.2%}")
    table.add_row(*row)


def prediction_table(preds: Any, name: str, loss: float | None, acc: float | None, confusion: Any = None,
                     cut: float | None = 0.5) -> Group:
    """`cut`: a class column, 1 where one number is above it (argmax for a vector); None: none (a
    regression's predictions)."""
    t = _table(f"Predictions ({name})", "example", name, *(["class"] if cut is not None else []))
    p = np.asarray(preds)
    for i in range(min(len(p), 20)):
        cls = str(int(np.argmax(p[i]))) if p.ndim == 2 else str(int(p[i] > (cut or 0.0)))
        t.add_row(str(i + 1), tensor(p[i]), *([cls] if cut is not None else []))
    note = f"{len(p)} example{'s' * (len(p) != 1)}" + (
        f"; mean loss {_loss(loss)}" if loss is not None else " (no labels)") + (
        f"; accuracy {acc:.2%}" if acc is not None else "")
    parts: list[Any] = [t, Text(note + ("; first 20 shown" if len(p) > 20 else ""))]
    if confusion is not None:
        c = np.asarray(confusion)
        m = _table("Confusion matrix", "true \\ predicted",  # (a long title widened the first column)
                   *[str(j) for j in range(len(c))])
        for i, row in enumerate(c):
            m.add_row(str(i), *[str(int(v)) for v in row])
        parts.append(m)
    return Group(*parts)
