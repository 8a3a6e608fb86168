"""Where the page draws each node: the course's left-to-right layered drawing.

A node's column is its longest path from the inputs (inputs in column 0), so every edge points
right; within a column nodes follow the mean row of what they read (one barycentre pass), which
keeps the lecture's graph free of crossings. Boxes are sized for the function they compute and
two lines of numbers (value, adjoint); the name stands above the box, as Graphviz's `xlabel`.
"""

from __future__ import annotations

from typing import Any

CHAR_W = 7.6  # px per character of the 13px monospace font the page uses
LINE_H = 16
PAD = 10
COL_GAP = 60
ROW_GAP = 34
LABEL_H = 16  # the name above each box
MARGIN = 12
MIN_CHARS = 14  # "g = -2.431e+04" fits


def layout(graph: dict[str, Any]) -> dict[str, Any]:
    """{"boxes": {name: [x, y, width, height]}, "width": ..., "height": ...} for `jsonout.graph`."""
    nodes = graph["nodes"]
    rank: dict[str, int] = {}
    for node in nodes:  # statement order is a topological order
        rank[node["name"]] = 1 + max((rank[r] for r in node["reads"]), default=-1)
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
    boxes: dict[str, list[float]] = {}
    x = float(MARGIN)
    for column in columns:
        width = max(max(len(n["computes"] or n["name"]), MIN_CHARS) * CHAR_W + 2 * PAD for n in column)
        top = MARGIN + (tallest - len(column)) * step / 2
        for i, node in enumerate(column):
            boxes[node["name"]] = [round(x, 1), round(top + i * step + LABEL_H, 1), round(width, 1), height_box]
        x += width + COL_GAP
    return {"boxes": boxes, "width": round(x - COL_GAP + MARGIN, 1),
            "height": round(MARGIN * 2 + tallest * step - ROW_GAP, 1)}
