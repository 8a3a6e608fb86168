"""An explanation's lines, written out: plain text, Markdown, or LaTeX (an align* per pass)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from graphlang.symbolic import texbreak


@dataclass
class Line:
    """One line of the explanation: `node` and a chain of equal forms (text and LaTeX)."""

    phase: str  # forward, backward, gradient, or a note
    node: str
    forms: list[str]
    latex: list[str]
    of: str | None = None  # the output component whose backward pass this is (a vector output)
    matrix: bool = False  # its text uses matrix calculus (1, eᵢ, side-by-side products): the legend
    value: Any = None  # the step's result in full (the forms round it): JSON's "value"


TITLES = {"forward": "Forward pass", "backward": "Backward pass (reverse mode)", "gradient": "Gradient"}


def _title(phase: str, of: str | None) -> str:
    if phase == "tangent":  # forward mode: one pass per input (number), `of` the seeded one
        return f"Tangent pass for {of} (forward mode: a dot over a name is its derivative by {of})"
    if phase == "derivative":
        return f"Derivatives by {of} (forward mode)"
    if of is None:
        return TITLES[phase]
    return f"Backward pass for {of} (reverse mode)" if phase == "backward" else f"Gradient of {of}"


def as_text(lines: list[Line], fmt: str = "text", width: int = texbreak.WIDTH, pages: bool = True) -> str:
    """Plain text, Markdown (headings, one item per line) or LaTeX (align* per phase, rows broken
    to fit `width` symbols; `pages`: each phase in a group that lets a document break it across
    pages)."""
    out: list[str] = []
    groups: dict[tuple[str, str | None], list[Line]] = {}
    for ln in lines:
        groups.setdefault((ln.phase, ln.of), []).append(ln)
    for (phase, of), group in groups.items():
        if phase == "note":
            note = group[0].forms[0]
            out.append(f"\\par\\noindent\\emph{{Note:}} {tex_text(note)}\n" if fmt == "latex" else
                       f"*Note:* {note}\n" if fmt == "markdown" else f"Note: {note}\n")
            continue
        if phase == "legend":  # for the text's plain 1 and eᵢ; LaTeX's bold 𝟏 and 𝐞ᵢ need none
            if fmt != "latex":
                out.append(f"*Notation:* {group[0].forms[0]}\n" if fmt == "markdown" else
                           f"Notation: {group[0].forms[0]}\n")
            continue
        if fmt == "latex":
            out.append(f"% {_title(phase, of)}")
            if pages:  # (a document: seen, not only in its source; MathJax would show it as text)
                out.append(f"\\par\\noindent\\textbf{{{tex_text(_title(phase, of))}}}")
                out.append("{\\allowdisplaybreaks  % (in this group only) a long pass goes on on the next page")
            out.append("\\begin{align*}")
            rows = [row for ln in group for row in
                    (texbreak.align_rows(ln.latex[0], ln.latex[1:], width) if len(ln.latex) > 1
                     else [f"& {ln.latex[0]}"])]
            out.append(" \\\\\n".join(rows))
            out.append("\\end{align*}" + "}" * pages)
        elif fmt == "markdown":
            out.append(f"### {_title(phase, of)}\n")
            out.extend(f"- `{' = '.join(ln.forms)}`" for ln in group)
            out.append("")
        else:
            out.append(_title(phase, of))
            out.extend("  " + " = ".join(ln.forms) for ln in group)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def tex_text(text: str) -> str:
    """Plain words for `\\text{}`: LaTeX's special characters escaped, code quotes dropped."""
    for ch in "{}$&#%_":
        text = text.replace(ch, "\\" + ch)
    text = text.replace("`", "").replace("^", "\\^{}").replace("~", "\\~{}").replace("--", "-{}-")  # (not –)
    text = re.sub("([A-Za-z])\u0307", r"$\\dot{\1}$", unicodedata.normalize("NFD", text))  # v̇: \dot{v}
    return text.replace("ᵀ", "\\textsuperscript{T}")  # (pdflatex has no glyph for U+1D40)
