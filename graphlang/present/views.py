"""What the command line shows, from Python: `Program.explain`, `.diff`, `.to_dot`, `.draw`, `.to_latex`.

The façade's methods import this module when called (with the display hooks, the upward imports
pyproject's import-linter contract lists). Each returns what the matching command prints, as a
value that a notebook also displays well (Markdown, LaTeX or SVG).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.files import write_text
from graphlang.present import dot as dot_mod
from graphlang.present import explain as ex
from graphlang.present import forwardmode, jsonout, tikz
from graphlang.program import Program
from graphlang.symbolic import derivative as symbolic
from graphlang.symbolic import texbreak
from graphlang.symbolic.printing import tex_name, to_latex
from graphlang.symbolic.texnames import tensor_names, tensors_in

FORMATS = ("text", "markdown", "latex")


class Shown(str):
    """A string that Jupyter renders in its format (Markdown, LaTeX) and IPython prints plainly."""

    kind = "text"
    rendered: str | None = None  # what Jupyter renders, where it differs from the text

    def __new__(cls, text: str, kind: str = "text", rendered: str | None = None) -> Shown:
        obj = super().__new__(cls, text)
        obj.kind = kind
        obj.rendered = rendered
        return obj

    def _repr_markdown_(self) -> str | None:
        return str(self) if self.kind == "markdown" else None

    def _repr_latex_(self) -> str | None:
        if self.kind != "latex":
            return None
        return str(self) if self.rendered is None else self.rendered

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


class Drawing:
    """An SVG picture of the graph, shown inline by Jupyter (`Program.draw()` without a path)."""

    def __init__(self, svg: str) -> None:
        self.svg = svg

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<graphlang.Drawing: {len(self.svg):,} characters of SVG>"


def _values(at: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if at is not None and not isinstance(at, Mapping):
        raise GraphlangError("usage", f"values must be a mapping name -> value, got {type(at).__name__}")
    return dict(at) if at is not None else None


def explain(prog: Program, at: Mapping[str, Any], node: str | None = None, format: str = "text",
            digits: int = 6, width: int = texbreak.WIDTH, of: str | None = None, mode: str | None = None,
            wrt: str | None = None) -> Shown:
    if format not in FORMATS:
        raise GraphlangError("usage", f"unknown format {format!r}", hint="text, markdown or latex")
    if node is not None and node not in prog.names:
        raise GraphlangError("usage", f"{node!r} is not a node of the program",
                             hint="nodes: " + ", ".join(prog.names))
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise GraphlangError("usage", f"digits must be an integer from 1 to 17, got {digits!r}")
    _check_width(width)
    if of is not None and not isinstance(of, str):
        raise GraphlangError("usage", f"of must be a string such as 'y[9]', got {type(of).__name__}")
    if wrt is not None and not isinstance(wrt, str):
        raise GraphlangError("usage", f"wrt must be a string such as 'x' or 'W[0, 1]', got {type(wrt).__name__}")
    forward = forwardmode.explain_mode(mode, of, wrt, cli=False) == "forward"
    try:
        lines = forwardmode.explain_forward(prog, _values(at) or {}, node, digits, wrt, format != "text") \
            if forward else ex.explain(prog, _values(at) or {}, node, digits, of, with_latex=format != "text")
    except GraphlangError as err:  # in Python's words: of='y[99]', not the command line's --of 'y[99]'
        for flag in ("of", "wrt"):
            err.message = err.message.replace(f"--{flag} ", f"{flag}=")
            err.hint = err.hint and err.hint.replace(f"--{flag} ", f"{flag}=")
        raise
    # Jupyter renders LaTeX with MathJax, which has no \\allowdisplaybreaks: its passes without the group
    mathjax = ex.as_text(lines, format, width, pages=False) if format == "latex" else None
    return Shown(ex.as_text(lines, format, width), format, mathjax)


def _check_width(width: int) -> None:
    if isinstance(width, bool) or not isinstance(width, int) or not 20 <= width <= 1000:
        raise GraphlangError("usage", f"width must be an integer from 20 to 1000 (symbols per line), got {width!r}")


def by_nodes(prog: Program, wrt: str | Sequence[str] | None) -> list[str]:
    """The names a closed form is taken by: inputs, or any node (∂y/∂a, g_a's form, as the REPL's
    `:diff a`); anything else refused as `Program._wrt` refuses it."""
    chosen = [wrt] if isinstance(wrt, str) else list(wrt) if isinstance(wrt, (list, tuple)) else None
    if chosen and all(isinstance(n, str) and n in prog.graph.slot_of for n in chosen):
        return chosen
    bad = next((n for n in chosen or [] if isinstance(n, str) and n not in prog.graph.slot_of), None)
    if bad is not None and bad.split("[")[0].strip() in prog.inputs:  # W[1,2]: an element, said as the gradient says it
        return prog._wrt(wrt)
    if bad is not None:  # (the name that is wrong, not the first that is not an input)
        raise GraphlangError("unknown-input", f"cannot differentiate with respect to {bad!r}: the program has "
                             "no such node", hint="inputs: " + ", ".join(prog.inputs) + "; other nodes: "
                             + ", ".join(n for n in prog.names if n not in prog.inputs))
    return prog._wrt(wrt)


def diff(prog: Program, wrt: str | Sequence[str] | None = None, latex: bool = False,
         at: Mapping[str, Any] | None = None, width: int = texbreak.WIDTH) -> dict[str, str]:
    """Each derivative's right-hand side: .cg text, or LaTeX in matrix calculus (an `aligned`
    block when wider than `width` symbols)."""
    _check_width(width)
    shapes = _shapes(prog, _values(at))
    forms = symbolic.closed_forms(prog, shapes, by_nodes(prog, wrt))
    known = symbolic.name_shapes(prog.graph, shapes)
    if not latex:
        return symbolic.text_forms(prog, shapes, forms)
    with tensor_names(tensors_in(known)):
        return {n: texbreak.block(to_latex(e, known, "e" in known), width) for n, e in forms.items()}


def _shapes(prog: Program, vals: Mapping[str, Any] | None) -> list[Any]:
    """Every slot's shape at these values, else from the declarations."""
    return prog.bind(vals)[1] if vals else dot_mod.declared_shapes(prog)


def tensors_at(prog: Program, at: Mapping[str, Any] | None) -> list[str]:
    """The names LaTeX writes as tensors (`tensor_names`) at these values, else as declared."""
    return tensors_in(symbolic.name_shapes(prog.graph, _shapes(prog, _values(at))))


def to_dot(prog: Program, at: Mapping[str, Any] | None = None, partials: bool = False) -> str:
    return dot_mod.to_dot(prog, _values(at), partials)


def draw(prog: Program, path: str | os.PathLike[str] | None = None, at: Mapping[str, Any] | None = None,
         partials: bool = False, dpi: int = 200, **unknown: Any) -> Any:
    """Write the picture to `path` (its suffix picks the format: .png .svg .pdf .dot, or .tex for TikZ)
    and return the path; without a path, an inline SVG drawing."""
    if unknown:  # (a TypeError is no GraphlangError: the library raises only those)
        raise GraphlangError("usage", f"draw() has no option {next(iter(unknown))!r}", hint="options: partials, dpi")
    if path is not None and os.fspath(path).lower().endswith(".tex"):
        target = os.fspath(path)
        write_text(target, tikz.to_tikz(prog, _values(at), partials, file=os.path.basename(target)))
        return target
    text = to_dot(prog, at, partials)
    if path is not None:
        target = os.fspath(path)
        note = dot_mod.render_file(text, target, dpi, program=prog)
        if note:
            raise GraphlangError("io", note)
        return target
    drawn = dot_mod.svg(text)
    if drawn is None:
        raise GraphlangError("io", "Graphviz (`dot`) is needed to draw the graph",
                             hint="install the `graphviz` package, or use Program.to_dot()")
    return Drawing(drawn)


def program_latex(prog: Program) -> Shown:
    known = None  # shapes only from declarations (an undeclared input could be any shape)
    if all(prog.checked.declared.get(n) is not None for n in prog.inputs):
        known = symbolic.name_shapes(prog.graph, dot_mod.declared_shapes(prog))
    with tensor_names(tensors_in(known) if known is not None else jsonout.declared_tensors(prog)):
        rows = [row for st in prog.graph.statements if st.expr is not None
                for row in texbreak.align_rows(tex_name(st.name), [to_latex(st.expr, known, "e" in prog.names)])]
    return Shown("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n", "latex")

