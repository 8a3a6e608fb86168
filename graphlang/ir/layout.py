"""A layered drawing of the graph (columns by longest path from the inputs, rows by barycentre
sweeps, long edges through free points of the columns they cross): what the TikZ picture and the
exercise worksheet draw, so that both keep the course's conventions the same way."""

from __future__ import annotations

from graphlang.errors import GraphlangError
from graphlang.ir.graph import Graph
from graphlang.language.ast import names

MAX_LAID_OUT = 1000  # nodes (as for Graphviz: a larger picture is not legible on a page anyway)
MAX_BENDS = 20_000  # points where long edges cross columns
SWEEPS = 5  # odd: the last sweep orders each column by what it reads

# The course's conventions in TikZ (`graph -o g.tex` and the exercise worksheet): rectangles with the
# function inside and the name outside, rounded ones for inputs, directed edges
STYLES = (r"\begin{tikzpicture}[>=stealth, thick, every node/.style={font=\small}," "\n"
          r"  box/.style={draw, rectangle, align=center, inner sep=4pt, minimum height=2.2em}," "\n"
          r"  input/.style={box, rounded corners=4pt}, output/.style={line width=1.6pt}," "\n"
          r"  varname/.style={anchor=south west, inner sep=1pt, font=\small\itshape}," "\n"
          # `to[out=0, in=180]` overflows TeX's dimensions on a long steep edge ("Dimension too large")
          r"  flow/.style={to path={.. controls +(0:#1) and +(180:#1) .. (\tikztotarget) \tikztonodes}}," "\n"
          r"  edgelabel/.style={midway, fill=white, inner sep=1pt,"
          r" font=\scriptsize}]")


def _layers(g: Graph) -> tuple[dict[str, int], list[tuple[str, str]]]:
    pairs = [(a, st.name) for st in g.statements for a in dict.fromkeys(names(st.expr))]  # type: ignore[arg-type]
    layer: dict[str, int] = {}
    for st in g.statements:
        layer[st.name] = 1 + max((layer[a] for a in names(st.expr) if a in layer), default=0)  # type: ignore[arg-type]
    for n in g.inputs:
        readers = [layer[b] for a, b in pairs if a == n]
        layer[n] = min(readers, default=1) - 1
    return layer, pairs


def long_edge_points(g: Graph) -> int:
    """How many columns the edges cross in the layered drawing (a layout's cost grows with them)."""
    return _bends(*_layers(g))


def _bends(layer: dict[str, int], pairs: list[tuple[str, str]]) -> int:
    return sum(layer[b] - layer[a] - 1 for a, b in pairs)


def layered(g: Graph) -> tuple[dict[str, tuple[int, int]], dict[tuple[str, str], list[str]], int]:
    """(column, row) per node and per dummy point; each edge's dummy points; the number of rows."""
    if len(g.names) > MAX_LAID_OUT:
        raise GraphlangError("limit", f"the graph has {len(g.names):,} nodes: too many to draw "
                             f"(at most {MAX_LAID_OUT:,})", hint="write .dot instead, or draw a smaller program")
    layer, pairs = _layers(g)
    if _bends(layer, pairs) > MAX_BENDS:
        raise GraphlangError("limit", "the graph's edges span too many columns to draw legibly",
                             hint="write .dot instead, or draw a smaller program")
    columns: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for n in g.names:
        columns[layer[n]].append(n)
    route: dict[tuple[str, str], list[str]] = {}
    preds: dict[str, list[str]] = {n: [] for n in g.names}
    succs: dict[str, list[str]] = {n: [] for n in g.names}
    for a, b in pairs:
        chain = [a] + [f"{a}>{b}@{c}" for c in range(layer[a] + 1, layer[b])] + [b]
        route[(a, b)] = chain[1:-1]
        for c, point in enumerate(chain[1:-1], start=layer[a] + 1):
            columns[c].append(point)
            preds[point], succs[point] = [], []
        for u, v in zip(chain, chain[1:]):
            succs[u].append(v)
            preds[v].append(u)
    rows = max(len(c) for c in columns)
    pos = {n: (rows - len(col)) // 2 + float(i) for col in columns for i, n in enumerate(col)}
    for sweep in range(SWEEPS):  # barycentre ordering, from the left, the right, ..., the left
        order = columns[1:] if sweep % 2 == 0 else columns[-2::-1]
        for col in order:
            near = preds if sweep % 2 == 0 else succs
            key = {n: sum(pos[m] for m in near[n]) / len(near[n]) if near[n] else pos[n] for n in col}
            col.sort(key=lambda n: key[n])
            for i, n in enumerate(col):
                pos[n] = (rows - len(col)) // 2 + float(i)
    return {n: (c, int(pos[n])) for c, col in enumerate(columns) for n in col}, route, rows
