"""HTML for notebooks (Jupyter calls `_repr_html_` / `_repr_mimebundle_`): real tables, inline styles.

Every table is a `<table class="graphlang">` under its title; a matrix value is a small
bracketed table of its own, so it lines up in any notebook front end (Jupyter, VS Code, nbconvert).
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from rich.console import Console

from graphlang.numbers import number
from graphlang.present.dot import svg, to_dot
from graphlang.present.textviews import MAX_SHOWN, UNDEFINED, adjoint_rows, backward_title, tensor
from graphlang.symbolic.adjoint import choose_prefix

_TABLE = ("border-collapse:collapse;margin:0.4em 0 0.8em 0;font-family:system-ui,sans-serif;"
          "font-size:0.95em")
_CELL = "border:1px solid #bbb;padding:0.25em 0.6em;text-align:left;vertical-align:middle"
_HEAD = _CELL + ";background:#f0f0f0;font-weight:600"
_TITLE = "font-weight:700;margin-top:0.6em;font-family:system-ui,sans-serif"
_MATRIX = "border-collapse:separate;border-spacing:0.5em 0;font-family:monospace;margin:0"
_PRE = "font-family:monospace;white-space:pre-wrap;margin:0.3em 0"  # (inline: nbconvert's CSS gives <pre>
# its text's font, and a caret then stands under another character)


def value_html(value: Any) -> str:
    """A number as text, a short vector inline, a small matrix as a bracketed grid, else the text view."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return f"<code>{html.escape(number(float(a)))}</code>"
    if a.ndim == 2 and a.shape[0] <= MAX_SHOWN and a.shape[1] <= MAX_SHOWN:
        rows = "".join("<tr>" + "".join(f'<td style="text-align:right;padding:0">{v + 0.0:.6g}</td>'
                                        for v in row) + "</tr>" for row in a)
        side = "width:0.3em;padding:0;border:1.5px solid #333;border-{}:none"
        return (f'<table style="border-collapse:collapse;margin:0"><tr><td style="{side.format("right")}"></td>'
                f'<td style="padding:0.1em 0.2em"><table style="{_MATRIX}">{rows}</table></td>'
                f'<td style="{side.format("left")}"></td></tr></table>')
    return f'<code style="white-space:pre">{html.escape(tensor(a))}</code>'


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Cells are HTML already (escape text with `html.escape`)."""
    head = "".join(f'<th style="{_HEAD}">{html.escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in row) + "</tr>" for row in rows)
    return (f'<div style="{_TITLE}">{html.escape(title)}</div><table class="graphlang" style="{_TABLE}">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def result_html(program: Any, result: Any) -> str:
    """The `run` view as tables: forward pass, adjoints, gradient or Jacobian, and the output."""
    out = result.output if isinstance(result.output, str) else ", ".join(result.output)
    define = program.definition if program is not None else (lambda n: "")
    parts = [table("Forward pass", ["node", "definition", "value"],
                   ([_code(n), _code(define(n)), value_html(v)] for n, v in result.values.items()))]
    if result.adjoints is not None:
        g = choose_prefix(program.names) if program is not None else "g_"  # (grad_a beside a node g_a)
        parts.append(table(backward_title(g, out, program.names if program is not None else ()), ["node", "adjoint"],
                           ([_code(f"{g}{n}"), UNDEFINED if v is None else value_html(v)]
                            for n, v in adjoint_rows(result))))
    label = {"reverse": "reverse mode", "forward": "forward mode", "fd": "central differences",
             "symbolic": "symbolic"}.get(result.method, result.method)
    if program is not None and not program.inputs:  # a constant: no table that says nothing
        parts.append(f"<p>No gradient: the program has no inputs (every name is assigned a value), so "
                     f"{_code(out)} is a constant.</p>")
    elif result.gradient is not None:
        parts.append(table(f"Gradient of {out} ({label})", ["input", f"∂{out}/∂input"],
                           ([_code(n), value_html(v)] for n, v in result.gradient.items())))
    else:
        parts.append(table(f"Jacobian of {out} ({label}, denominator layout: input shape + "
                           f"({np.size(result.value)},))", ["input", "∂output/∂input"],
                           ([_code(n), value_html(v)] for n, v in (result.jacobian or {}).items())))
    parts.append(f"<p>{_code(out)} = {value_html(result.value)}</p>")
    return '<div class="graphlang-result">' + "".join(parts) + "</div>"


def report_html(report: Any) -> str:
    rows = ([("✔" if i.passed else "<b style='color:#b00'>✘</b>"), _code(i.name),
             f"{i.score:g}/{i.max_score:g}", html.escape(i.message)] for i in report.items)
    feedback = "".join(f'<pre style="{_PRE}">{html.escape(f)}</pre>' if "\n" in f else f"<p>{html.escape(f)}</p>"
                       for f in report.feedback)  # (a syntax error's source line and caret: a block)
    title = f"Score {report.score:g} / {report.max_score:g}"
    return f"<div>{table(title, ['', 'quantity', 'points', 'feedback'], rows)}{feedback}</div>"


def rich_html(renderable: Any, width: int = 100) -> str:
    """Any Rich renderable as self-contained HTML (inline styles)."""
    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor")
    console.print(renderable)
    return console.export_html(inline_styles=True, code_format="<pre style=\"font-family:monospace\">{code}</pre>")


def program_bundle(program: Any) -> dict[str, str]:
    """A program: its source (HTML) and, where Graphviz exists, its graph (SVG)."""
    bundle = {"text/plain": repr(program),
              "text/html": f'<pre style="{_PRE}">{html.escape(program.source)}</pre>'}
    drawn = svg(to_dot(program))
    if drawn:
        bundle["image/svg+xml"] = drawn
        bundle["text/html"] += drawn[drawn.find("<svg"):]  # (an XML prolog and DOCTYPE are no HTML)
    return bundle
