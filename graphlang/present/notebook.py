"""Rich HTML for notebooks (Jupyter calls `_repr_html_` / `_repr_mimebundle_`)."""

from __future__ import annotations

import html
import os
from typing import Any

from rich.console import Console

from graphlang.present.dot import svg, to_dot
from graphlang.present.tables import result_tables


def report_html(report: Any) -> str:
    rows = "".join(
        f"<tr><td>{'✔' if i.passed else '✘'}</td><td>{html.escape(i.name)}</td>"
        f"<td>{i.score:g}/{i.max_score:g}</td><td>{html.escape(i.message)}</td></tr>"
        for i in report.items)
    feedback = "".join(f"<p>{html.escape(f)}</p>" for f in report.feedback)
    return (f"<div><b>score {report.score:g} / {report.max_score:g}</b><table>"
            f"<tr><th></th><th>quantity</th><th>points</th><th>feedback</th></tr>{rows}</table>"
            f"{feedback}</div>")


def rich_html(renderable: Any, width: int = 100) -> str:
    """Any Rich renderable as self-contained HTML (inline styles)."""
    console = Console(record=True, width=width, file=open(os.devnull, "w"),
                      color_system="truecolor")
    console.print(renderable)
    return console.export_html(inline_styles=True, code_format="<pre style=\"font-family:monospace\">{code}</pre>")


def program_bundle(program: Any) -> dict[str, str]:
    """A program: its source (HTML) and, where Graphviz exists, its graph (SVG)."""
    bundle = {"text/plain": repr(program),
              "text/html": f"<pre>{html.escape(program.source)}</pre>"}
    drawn = svg(to_dot(program))
    if drawn:
        bundle["image/svg+xml"] = drawn
        bundle["text/html"] += drawn
    return bundle


def result_html(program: Any, result: Any) -> str:
    return rich_html(result_tables(program, result))

