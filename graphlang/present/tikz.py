"""`graph -o g.tex`: the computation graph as a TikZ picture, in the course's conventions.

Rectangles for intermediate quantities (the function inside in LaTeX, the name outside, above the
box's left corner), rounded boxes for inputs, the output drawn thick, directed edges entering each
box from the left. The layout is layered (no Graphviz needed, the same file on every machine): a
node's column is its longest path from the inputs, an input sits just left of its first reader, an
edge that skips columns runs through a free row of each column it crosses (no edge through a box),
and rows follow a few barycentre sweeps. The file compiles on its own with pdflatex (a page the
size of the picture) or goes on a Beamer slide with `\\input` (load tikz there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.ir.layout import STYLES, layered
from graphlang.present.dot import labelled, local_derivatives, sized
from graphlang.present.explain import tex_number
from graphlang.present.jsonout import declared_shapes, declared_tensors
from graphlang.program import Program
from graphlang.symbolic import adjoint, texbreak
from graphlang.symbolic.printing import tex_name, to_latex
from graphlang.symbolic.texnames import tensor_names, tensors_in

MAX_ELEMENTS = 9  # a value with more is shown by its shape (a 3×3 matrix still in full)
LABEL_GAP = 7  # em between columns when edges carry local derivatives
SCRIPT_EM = 0.45  # em (of the picture's font) per symbol texbreak.width counts, in \\scriptsize

HEADER = r"""% The computation graph of {what}, drawn by graphlang.
% Compile alone (pdflatex {file}), or put it on a slide: \input{{{file}}} in a document whose
% preamble has \usepackage{{tikz,amsmath}} (a Beamer slide: \usepackage{{tikz}}).
\makeatletter
\ifx\@filelist\@gobble % compiled on its own: one page, the size of the picture
  \makeatother
  \documentclass{{article}}
  \usepackage{{amsmath,tikz}}
  \def\graphlangbegin{{\begin{{document}}\setbox0=\hbox\bgroup\kern6pt}}
  \def\graphlangend{{\kern6pt\egroup\setbox0=\vbox{{\kern6pt\box0\kern6pt}}%
    \pdfpagewidth=\wd0 \pdfpageheight=\dimexpr\ht0+\dp0\relax
    \hoffset=-1in \voffset=-1in \shipout\box0 \end{{document}}}}
\else
  \makeatother \let\graphlangbegin\relax \let\graphlangend\relax
\fi
\graphlangbegin
"""

def _value(v: Any) -> str:
    if v is None:  # an adjoint or a local derivative that does not exist at this point
        return r"\text{undefined}"
    a = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        return r"\text{not finite}"
    if a.ndim == 0:
        return tex_number(float(a), 4)
    if a.size > MAX_ELEMENTS or a.ndim > 2:
        return r"\text{" + sized(a.shape, "$\\times$") + "}"  # (a 64×32 matrix, as the PNG's)
    rows = a.reshape(-1, 1) if a.ndim == 1 else a  # a vector is a column, as in the lecture
    body = r" \\ ".join(" & ".join(tex_number(x, 3) for x in row) for row in rows)
    return r"\left[\begin{smallmatrix}" + body + r"\end{smallmatrix}\right]"


def layout(program: Program) -> tuple[dict[str, tuple[int, int]], dict[tuple[str, str], list[str]], int]:
    """(column, row) per node and per dummy point; each edge's dummy points; the number of rows."""
    return layered(program.graph)


def _partials(program: Program, result: Any, shapes: list[Any]) -> dict[tuple[str, str], str]:
    """As the DOT drawing labels them (`dot.local_derivatives`), in LaTeX."""
    known, edges = local_derivatives(program, shapes, result)
    out: dict[tuple[str, str], str] = {}
    for name, consumer, e, seed, value in edges:
        tex = to_latex(e, known, "e" in known)  # (\\exp beside a node e)
        text = (rf"\frac{{\partial {tex_name(consumer)}}}{{\partial {tex_name(name)}}} = {tex}"
                if seed is None else rf"{tex_name(seed)} \mapsto {tex}")  # (as the PNG's edges)
        number = None if value is None else _value(value)
        out[(name, consumer)] = labelled(text, None if number == tex else number)  # (not "∂y/∂d = 1 = 1")
    return out


def to_tikz(program: Program, values: dict[str, Any] | None = None, partials: bool = False,
            file: str = "graph.tex") -> str:
    result = program.evaluate(values) if values is not None else None
    g = program.graph
    place, route, rows = layout(program)
    cols = max(c for c, _ in place.values()) + 1
    cells: list[list[str]] = [["" for _ in range(cols)] for _ in range(rows)]
    outputs = set(g.outputs)
    g_ = adjoint.choose_prefix(g.names)  # g_, or grad_ where the program has a node g_a
    known = {k: np.shape(v) for k, v in result.values.items()} if result is not None else declared_shapes(program)
    with tensor_names(tensors_in(known) if known is not None else declared_tensors(program)):  # bold, α^{(1)}
        for n in program.names:
            st = g.statement(n)
            text = f"${tex_name(n)}$" if st is None or st.expr is None else \
                f"$\\displaystyle {to_latex(st.expr, known, 'e' in g.names)}$"  # (\\exp beside a node e)
            if result is not None:  # a fraction's denominator hangs low: the next line keeps clear of it
                value = _value(result.values[n])  # a fraction's denominator or a matrix: more room
                text += (r" \\[5pt] " if r"\frac" in text or "matrix" in value else r" \\ ") + f"$= {value}$"
                if result.adjoints is not None:
                    gap = r" \\[3pt] " if "matrix" in value else r" \\ "
                    text += gap + f"${tex_name(g_ + n)} = {_value(result.adjoints.get(n))}$"  # (as the PNG's)
            style = "input" if st is None else "box"
            style += ", output" if n in outputs else ""
            label = "" if st is None else f", label={{[varname]north west:${tex_name(n)}$}}"
            c, r = place[n]
            cells[r][c] = rf"\node[{style}{label}] ({_id(n)}) {{{text}}};"
        for points in route.values():
            for p in points:
                c, r = place[p]
                cells[r][c] = rf"\coordinate ({_id(p)});"
        local = _partials(program, result, program.bind(values)[1] if values is not None else
                          g.shapes(tuple(program.checked.declared.get(n) or () for n in g.inputs))) if partials else {}
        lines = [HEADER.format(what=_comment(program.path or "a program"), file=_comment(file)), STYLES]
        gap = f"column sep={LABEL_GAP}em, row sep=2.4em" if local else "column sep=2.2em, row sep=1.6em"
        lines.append(rf"\matrix[{gap}] {{")
        wider = _wider(place, local, cols)
        lines.extend("  " + row[0] + "".join(f" &[{wider[c]:.1f}em] {cell}" if wider[c] else f" & {cell}"
                                             for c, cell in enumerate(row[1:], start=1)) + r" \\" for row in cells)
        lines.append("};")
        bend = f"to[flow={3.2 if local else 1.0}em]"  # controls ≈ 0.45 of the gap between columns
        for (a, b), points in route.items():
            path = "".join(f" {bend} ({_id(p)})" for p in points)
            label = f" node[edgelabel] {{${local[(a, b)]}$}}" if (a, b) in local else ""
            lines.append(rf"\draw[->] ({_id(a)}.east){path} {bend}{label} ({_id(b)}.west);")
        lines.append(r"\end{tikzpicture}")
        lines.append(r"\graphlangend")
        return "\n".join(lines) + "\n"


def _wider(place: dict[str, tuple[int, int]], local: dict[tuple[str, str], str], cols: int) -> list[float]:
    """Per column, the room (em) to add on its left so that the widest edge label ending in it fits
    between the boxes (a label sits midway on an edge's last segment, in \\scriptsize)."""
    wider = [0.0] * cols
    for (_, b), label in local.items():
        need = texbreak.width(label) * SCRIPT_EM + 3.5  # the arrow's head and tail beside the label
        c = place[b][0]
        wider[c] = max(wider[c], round(need - LABEL_GAP, 1))
    return wider


def _id(name: str) -> str:
    """A TikZ node name: letters, digits and `-` only (names with `_`, dummy points with `>` and `@`)."""
    return "n-" + name.replace("_", "-u-").replace(">", "-to-").replace("@", "-at-")


def _comment(text: str) -> str:
    return "".join(ch if ch.isprintable() and ch not in "%\\{}" else "?" for ch in text)
