"""Where the page draws each node: the course's left-to-right layered drawing.

A node's column is its longest path from the inputs (inputs in column 0), so every edge points
right; within a column nodes follow the mean row of what they read (one barycentre pass), which
keeps the lecture's graph free of crossings. Boxes are sized for the function they compute and
two lines of numbers (value, adjoint); the name stands above the box, as Graphviz's `xlabel`.
An edge that skips columns is routed through the gap between boxes (or above or below them) in
each column it crosses, nearest its straight line: drawn straight, a→f ran under e and read e→f.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from graphlang.numbers import number
from graphlang.present.dot import sized
from graphlang.present.textviews import one_line

CHAR_W = 7.6  # px per character of the 13px monospace font the page uses
LINE_H = 16
PAD = 10
COL_GAP = 60
ROW_GAP = 34
LABEL_H = 16  # the name above each box
MARGIN = 12
MIN_CHARS = 14  # "g = -2.431e+04" fits (and "g_" + the name)
MAX_CHARS = 48  # what a box shows of a long statement
EDGE_PAD = 6  # an edge crossing a column keeps this far from its boxes
EDGE_GAP = 7  # and this far from another edge crossing it
MAX_CROSSINGS = 20_000  # columns crossed by edges that skip columns: past it, no routing (a dense graph)


def layout(graph: dict[str, Any], result: dict[str, Any] | None = None) -> dict[str, Any]:
    """{"boxes": {name: [x, y, width, height]}, "routes": {"a>b": [[x in, y, x out], ...]}, "texts":
    {name: [what it computes, "= value", "g_name = adjoint"]}, "width", "height"} for `jsonout.graph`
    (a route for each edge that skips columns); the values from `result` (`run --json`'s object).
    Each box fits its texts: a long statement is cut (the tables and the tooltip hold it whole)."""
    nodes = graph["nodes"]
    texts = {n["name"]: _texts(n, result) for n in nodes}
    rank: dict[str, int] = {}
    for node in nodes:  # statement order is a topological order
        rank[node["name"]] = 1 + max((rank[r] for r in node["reads"]), default=-1)
    first_use: dict[str, int] = {}
    for node in nodes:
        for r in node["reads"]:
            first_use[r] = min(first_use.get(r, rank[node["name"]]), rank[node["name"]])
    for node in nodes:  # an input stands just before what first reads it (a label read by the loss alone:
        if not node["reads"] and node["name"] in first_use:  # not across the whole picture)
            rank[node["name"]] = first_use[node["name"]] - 1
    columns: list[list[dict[str, Any]]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for node in nodes:
        columns[rank[node["name"]]].append(node)
    row: dict[str, float] = {}
    for c, column in enumerate(columns):
        if c > 0:
            column.sort(key=lambda n: sum(row[r] for r in n["reads"]) / max(len(n["reads"]), 1))
        for i, node in enumerate(column):
            row[node["name"]] = i
    height_box = 3 * LINE_H + PAD
    step = height_box + LABEL_H + ROW_GAP
    tallest = max((len(col) for col in columns), default=0)
    height = MARGIN * 2 + tallest * step - ROW_GAP
    boxes: dict[str, list[float]] = {}
    spans: list[tuple[float, float, list[tuple[float, float]]]] = []  # per column: x from, x to, free bands
    x = float(MARGIN)
    stepped = result is not None and "values" in result and result.get("adjoints") is None
    for column in columns:  # as wide as the texts (several outputs: room for each pass's "g_name = -2.431e+04")
        width = max(max(MIN_CHARS + 2 + len(n["name"]) if stepped else 8, *map(len, texts[n["name"]])) * CHAR_W
                    + 2 * PAD for n in column)
        top = MARGIN + (tallest - len(column)) * step / 2
        for i, node in enumerate(column):
            boxes[node["name"]] = [round(x, 1), round(top + i * step + LABEL_H, 1), round(width, 1), height_box]
        # free bands (y from, y to): above the first box's name, between a box and the next one's
        # name, below the last; an edge crosses at the point of a band nearest its straight line
        ends = [top + i * step for i in range(len(column))]  # each name's top; its box ends step - ROW_GAP on
        edges = [MARGIN / 2] + [e + step - ROW_GAP + EDGE_PAD for e in ends]
        starts = [e - EDGE_PAD for e in ends] + [height - MARGIN / 2]
        spans.append((x, x + width, list(zip(edges, starts))))
        x += width + COL_GAP
    routes: dict[str, list[list[float]]] = {}
    taken: list[list[float]] = [[] for _ in columns]  # the rows edges already use, per column (sorted)
    crossings = sum(rank[n["name"]] - rank[r] - 1 for n in nodes for r in dict.fromkeys(n["reads"]))
    for node in nodes if crossings <= MAX_CROSSINGS else []:  # (past it: drawn straight, a thicket either way)
        b = boxes[node["name"]]
        for r in dict.fromkeys(node["reads"]):
            a = boxes[r]
            ya, yb, ca, cb = a[1] + a[3] / 2, b[1] + b[3] / 2, rank[r], rank[node["name"]]
            via = []
            for c in range(ca + 1, cb):
                want = ya + (yb - ya) * (c - ca) / (cb - ca)
                x0, x1, bands = spans[c]
                y = _row(bands, want, taken[c])
                bisect.insort(taken[c], y)
                via.append([round(x0 - 4, 1), round(y, 1), round(x1 + 4, 1)])
            if via:
                routes[f"{r}>{node['name']}"] = via
    return {"boxes": boxes, "routes": routes, "texts": texts, "width": round(x - COL_GAP + MARGIN, 1),
            "height": round(height, 1)}


def _texts(node: dict[str, Any], result: dict[str, Any] | None) -> list[str]:
    """A box's three lines: what it computes (cut past MAX_CHARS), its value and its adjoint."""
    fn = node["computes"] or node["name"]
    fn = fn if len(fn) <= MAX_CHARS else fn[:MAX_CHARS - 1] + "…"
    if result is None or "values" not in result:
        return [fn, "", ""]
    name, adjoints = node["name"], result.get("adjoints")
    adj = "" if adjoints is None else f"g_{name} = " + ("undefined" if adjoints.get(name) is None
                                                      else _brief(adjoints[name]))
    return [fn, "= " + _brief(result["values"][name]), adj]


def _brief(v: Any) -> str:
    """A value in a box: a number (4 digits), a tensor of at most 4 numbers in full, else its size."""
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        return number(float(a), 4)
    if a.size <= 4 and a.ndim <= 2:
        return one_line(a, 3).split("  (shape")[0].split(" (shape")[0]
    return sized(a.shape)  # (a 3×3 matrix, as the PNG's boxes)


def _row(bands: list[tuple[float, float]], want: float, taken: list[float]) -> float:
    """The free row nearest `want` at least EDGE_GAP from the rows other edges use in this column
    (two edges on one line read as one; `taken` sorted), or the nearest row of a band if all are full.
    Each band is searched outward from `want` past the rows in the way: a bisection per row passed."""
    best: tuple[float, float] | None = None
    for lo, hi in bands:
        if lo > hi:
            continue
        start = min(max(want, lo), hi)
        for y in (_free(start, hi, taken, 1.0), _free(start, lo, taken, -1.0)):
            if y is not None and (best is None or abs(y - want) < best[0]):
                best = (abs(y - want), y)
    if best is not None:
        return best[1]
    return min((min(max(want, lo), hi) for lo, hi in bands if lo <= hi), key=lambda f: abs(f - want))


def _free(y: float, end: float, taken: list[float], way: float) -> float | None:
    """The first row from y towards `end` (way +1: up to it, -1: down to it) clear of every taken row."""
    gap = EDGE_GAP - 1e-9
    while (end - y) * way >= 0:
        k = bisect.bisect_left(taken, y - gap)  # the first taken row that could be within the gap
        near = []
        while k < len(taken) and taken[k] < y + gap:
            near.append(taken[k])
            k += 1
        if not near:
            return y
        y = (max(near) + EDGE_GAP) if way > 0 else (min(near) - EDGE_GAP)
    return None
