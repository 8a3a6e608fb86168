"""The one page, in two forms: served (assets as separate files under /static/) and exported as a
single self-contained file (CSS, script and the precomputed lesson inlined; no network, opens from
`file://`). Both read the same `static/index.html`, `playground.css` and `playground.js`, which ship
in the wheel (read with importlib.resources, so they work from a zip too).
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

from graphlang import __version__
from graphlang.primitives.table import builtin_names

ASSETS = {"playground.css": "text/css; charset=utf-8", "playground.js": "text/javascript; charset=utf-8"}
EXAMPLE = {"program": "# The lecture's worked example: y = e^{xz} + xz/ln(x) + sin(ln(x))/(xz)\n"
                      "a = x * z\nb = ln(x)\nc = sin(b)\nd = exp(a)\ne = a / b\nf = c / a\ny = d + e + f\n",
           "at": "x=2,z=3"}


def asset(name: str) -> str:
    """A static file's text (only the page's own files)."""
    if name not in ASSETS and name != "index.html":
        raise KeyError(name)
    return resources.files("graphlang.web").joinpath("static", name).read_text(encoding="utf-8")


def _data(obj: Any) -> str:
    """JSON inside <script type="application/json">: no `<` can end the element early."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    text = text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script id="config" type="application/json">{text}</script>'


def _fill(title: str, style: str, data: str, script: str) -> str:
    """The template's {{SLOTS}} filled in one pass (a program that contains "{{SCRIPT}}" stays text)."""
    slots = {"TITLE": title, "STYLE": style, "VERSION": __version__, "DATA": data, "SCRIPT": script}
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: slots[m.group(1)], asset("index.html"))


def served() -> str:
    """The page `graphlang serve` sends: it asks the server for everything it shows."""
    config = {"mode": "server", "builtins": builtin_names(), "example": EXAMPLE}
    return _fill("graphlang playground", '<link rel="stylesheet" href="static/playground.css">', _data(config),
                 '<script src="static/playground.js"></script>')


def standalone(lesson: dict[str, Any], title: str) -> str:
    """`graphlang html`: one file with the lesson precomputed (see `compute.lesson(precompute=True)`)."""
    script = asset("playground.js")
    if "</script" in script.lower():
        raise ValueError("playground.js must not contain '</script'")
    config = {"mode": "file", "builtins": builtin_names(), "lesson": lesson}
    return _fill(html.escape(title), f"<style>\n{asset('playground.css')}</style>", _data(config),
                 f"<script>\n{script}</script>")
