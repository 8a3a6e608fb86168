"""Rich HTML for notebooks (Jupyter calls `_repr_html_` / `_repr_mimebundle_`)."""

from __future__ import annotations

import html
from typing import Any


def report_html(report: Any) -> str:
    rows = "".join(
        f"<tr><td>{'✔' if i.passed else '✘'}</td><td>{html.escape(i.name)}</td>"
        f"<td>{i.score:g}/{i.max_score:g}</td><td>{html.escape(i.message)}</td></tr>"
        for i in report.items)
    feedback = "".join(f"<p>{html.escape(f)}</p>" for f in report.feedback)
    return (f"<div><b>score {report.score:g} / {report.max_score:g}</b><table>"
            f"<tr><th></th><th>quantity</th><th>points</th><th>feedback</th></tr>{rows}</table>"
            f"{feedback}</div>")
