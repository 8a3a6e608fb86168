"""Tables as plain data, and as the exact text Rich prints for them without a terminal — linear in the
rows and without importing Rich (start-up time; Rich takes ≈ 0.4 ms a row) — or None where it cannot be
sure of the same bytes (too wide for the width, a character whose width it does not know), and the
caller prints through Rich instead (`tables.rich_parts`). tests/test_grid.py holds it to Rich's output."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

# characters one cell wide for Rich besides printable ASCII (tests/test_grid.py checks each with Rich)
NARROW = frozenset("∂…⋮ẋ·×−√∛←→≈≤≥≠∞∇∑∏²³¹⁰ⁱ⁻ᵀ°±µ" + "".join(map(chr, range(0x391, 0x3AA)))
                   + "".join(map(chr, range(0x3B1, 0x3CA))))
TOP, HEAD, HEAD_SEP, BODY, BOTTOM = "┏━┳┓", "┃┃┃", "┡━╇┩", "│││", "└─┴┘"  # Rich's HEAVY_HEAD box


@dataclass
class Grid:
    """A table: a title above it (left), header cells, rows of cells (text taken literally, no markup)."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)


Part = Grid | str  # a table, or a paragraph printed as it is (Rich's Text)


def narrow(text: str) -> bool:
    """Every character one cell wide for Rich, and none that Rich treats specially (tabs, controls)."""
    if text.isascii():
        return text.isprintable()
    return all((" " <= c <= "~") or c in NARROW for c in text)


def _ratio_distribute(total: int, ratios: list[int]) -> list[int]:
    """Rich's `ratio_distribute` without minimums (how it widens a table to its min_width)."""
    total_ratio, remaining, out = sum(ratios), total, []
    for ratio in ratios:
        share = max(0, ceil(ratio * remaining / total_ratio)) if total_ratio > 0 else remaining
        out.append(share)
        total_ratio -= ratio
        remaining -= share
    return out


def _border(chars: str, widths: list[int]) -> str:
    left, fill, mid, right = chars[0], chars[1], chars[2], chars[3]
    return left + mid.join(fill * w for w in widths) + right + "\n"


def _line(chars: str, cells: list[str], widths: list[int]) -> str:
    left, mid, right = chars[0], chars[1], chars[2]
    return left + mid.join(" " + c + " " * (w - 1 - len(c)) for c, w in zip(cells, widths, strict=True)
                           ) + right + "\n"


def render_grid(g: Grid, width: int) -> str | None:
    """`Table(title=Text(title), title_justify="left", min_width=len(title))` with left-justified,
    folding columns, as Rich prints it at this width when nothing needs wrapping; else None."""
    if any("[" in c or ":" in c or "\\" in c for c in g.columns):  # Rich reads markup in headers
        return None
    cells = [[c.split("\n") for c in row] for row in g.rows]
    if not all(narrow(c) for c in (g.title, *g.columns)) or not all(
            narrow(line) for row in cells for cell in row for line in cell):
        return None
    if any(len(row) != len(g.columns) for row in g.rows):
        return None
    widths = [len(c) + 2 for c in g.columns]
    for row in cells:
        for i, cell in enumerate(row):
            w = max(map(len, cell)) + 2
            if w > widths[i]:
                widths[i] = w
    extra = len(widths) + 1  # the edges and the dividers
    if sum(widths) + extra > width or len(g.title) > width:
        return None
    if sum(widths) < len(g.title) - extra:
        widths = [w + p for w, p in zip(widths, _ratio_distribute(len(g.title) - extra - sum(widths), widths),
                                        strict=True)]
    table_width = sum(widths) + extra
    out = [g.title + " " * (table_width - len(g.title)) + "\n" if g.title else "", _border(TOP, widths),
           _line(HEAD, list(g.columns), widths), _border(HEAD_SEP, widths)]
    for row in cells:
        for k in range(max(map(len, row))):
            out.append(_line(BODY, [cell[k] if k < len(cell) else "" for cell in row], widths))
    out.append(_border(BOTTOM, widths))
    return "".join(out)


def render(parts: list[Part], width: int) -> str | None:
    """The parts one after another as `Console(width=width).print(Group(...))` writes them to a file
    (no terminal: no colour), or None where Rich's output is not certain to be these bytes."""
    out = []
    for p in parts:
        if isinstance(p, Grid):
            text = render_grid(p, width)
            if text is None:
                return None
            out.append(text)
        else:
            lines = p.split("\n")
            if not all(narrow(line) and len(line) <= width and line.strip() for line in lines):
                return None
            out.append(p + "\n")
    return "".join(out)
