"""Tables as plain data, and as the exact text Rich prints for them without a terminal — linear in the
rows and without importing Rich (start-up time; Rich takes ≈ 0.4 ms a row) — or None where it cannot be
sure of the same bytes (too wide for the width, a character whose width it does not know), and the
caller prints through Rich instead (`tables.rich_parts`). tests/test_grid.py holds it to Rich's output."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from math import ceil

# characters one cell wide for Rich besides printable ASCII (tests/test_grid.py checks each with Rich)
NARROW = frozenset("∂…⋮ẋ·×−√∛←→≈≤≥≠∞∇∑∏²³¹⁰ⁱ⁻ᵀ°±µ𝟏" + "".join(map(chr, range(0x391, 0x3AA)))
                   + "".join(map(chr, range(0x3B1, 0x3CA)))
                   + "ȧḃċḋėḟġḣṁṅȯṗṙṡṫẇẋẏżȦḂĊḊĖḞĠḢİṀṄȮṖṘṠṪẆẊẎŻ˙")  # tangents: ȧ, alpha1˙ (one cell each)
DOT = "\u0307"  # a tangent's combining dot (`q̇`: no precomposed character)
DOTTED = re.compile("[A-Za-z]\u0307")
WORD = re.compile(r"\s*\S+\s*")  # rich._wrap.re_word: a word and the spaces after it
TOP, HEAD, HEAD_SEP, BODY, BOTTOM = "┏━┳┓", "┃┃┃", "┡━╇┩", "│││", "└─┴┘"  # Rich's HEAVY_HEAD box


@dataclass
class Grid:
    """A table: a title above it (left), header cells, rows of cells (text taken literally, no markup)."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    min_width: bool = True  # at least as wide as the title (`Table(min_width=len(title))`)

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)


class Styled(str):
    """A paragraph with a Rich style: its colour on a terminal (Rich prints it), plain text elsewhere."""

    style: str

    def __new__(cls, text: str, style: str) -> Styled:
        obj = super().__new__(cls, text)
        obj.style = style
        return obj


class Fits(str):
    """A cell that can be written narrower (a tensor: its shape below, fewer columns, fewer digits)."""

    refit: Callable[[int], str]

    def __new__(cls, text: str, refit: Callable[[int], str]) -> Fits:
        obj = super().__new__(cls, text)
        obj.refit = refit
        return obj


FIT_LEAST = 24  # a column narrower than this is left to fold (its neighbours wrap instead)


def fit(g: Grid, width: int) -> Grid:
    """The grid with each `Fits` cell of its one fitting column written to the width the other columns
    leave it (at their natural widths), so that the table does not fold a matrix's rows mid-number."""
    fitting = {i for row in g.rows for i, c in enumerate(row) if isinstance(c, Fits)}
    if len(fitting) != 1 or any(len(row) != len(g.columns) for row in g.rows):
        return g
    col = fitting.pop()
    others = sum(max([len(g.columns[i]), *(len(line) for row in g.rows for line in row[i].split("\n"))]) + 2
                 for i in range(len(g.columns)) if i != col)
    room = max(width - (len(g.columns) + 1) - others - 2, FIT_LEAST, (width - len(g.columns) - 1) // 2 - 2)
    rows = [tuple(c.refit(room) if isinstance(c, Fits) and max(map(len, c.split("\n"))) > room else c
                  for c in row) for row in g.rows]
    return Grid(g.title, g.columns, rows, g.min_width)


Part = Grid | str  # a table, or a paragraph printed as it is (Rich's Text; `Styled`: with its style)


def narrow(text: str, marks: frozenset[str] = frozenset()) -> bool:
    """Every character one cell wide for Rich, and none that Rich treats specially (tabs, controls);
    `marks`: the private characters standing for a letter and its dot."""
    if text.isascii():
        return text.isprintable()
    return all((" " <= c <= "~") or c in NARROW or c in marks for c in text)


def _ratio_distribute(total: int, ratios: list[int]) -> list[int]:
    """Rich's `ratio_distribute` without minimums (how it widens a table to its min_width)."""
    total_ratio, remaining, out = sum(ratios), total, []
    for ratio in ratios:
        share = max(0, ceil(ratio * remaining / total_ratio)) if total_ratio > 0 else remaining
        out.append(share)
        total_ratio -= ratio
        remaining -= share
    return out


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """Rich's `ratio_reduce` (how it narrows the widest columns of a table too wide for the width)."""
    ratios = [r if m else 0 for r, m in zip(ratios, maximums, strict=True)]
    total_ratio, remaining, out = sum(ratios), total, []
    if not total_ratio:
        return values[:]
    for ratio, maximum, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            share = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - share)
            remaining -= share
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def _collapse(widths: list[int], max_width: int) -> list[int]:
    """Rich's `Table._collapse_widths` (every column may wrap), then its even reduction."""
    excess = sum(widths) - max_width
    while sum(widths) and excess > 0:
        widest = max(widths)
        second = max(w if w != widest else 0 for w in widths)
        if not widest - second:
            break
        widths = _ratio_reduce(excess, [1 if w == widest else 0 for w in widths],
                               [min(excess, widest - second)] * len(widths), widths)
        excess = sum(widths) - max_width
    if sum(widths) > max_width:
        widths = _ratio_reduce(sum(widths) - max_width, [1] * len(widths), widths, widths)
    return widths


def _divide(text: str, width: int) -> list[int]:
    """rich._wrap.divide_line with fold=True, for one-cell characters: where the line breaks."""
    breaks: list[int] = []
    offset = 0
    for m in WORD.finditer(text):
        start, word = m.start(), m.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            chunks = [word[i:i + width] for i in range(0, len(word), width)]
            for k, chunk in enumerate(chunks):
                if start:
                    breaks.append(start)
                if k == len(chunks) - 1:
                    offset = len(chunk)
                else:
                    start += len(chunk)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def wrap(text: str, width: int, pad: bool = True) -> list[str]:
    """Rich's `Text.wrap(width, justify="left", overflow="fold")`: lines padded to the width (`pad`),
    or with justify="default": not padded."""
    out = []
    for line in text.split("\n"):
        cuts = [0, *_divide(line, width), len(line)]
        for a, b in zip(cuts, cuts[1:]) if len(cuts) > 2 else [(0, len(line))]:
            piece = line[a:b]
            if len(piece) > width:  # Text.rstrip_end, then truncate
                piece = piece[:len(piece) - min(len(piece) - len(piece.rstrip()), len(piece) - width)][:width]
            out.append(piece + " " * (width - len(piece)) if pad else piece)
    return out


def paragraph(text: str, width: int) -> str | None:
    """`Console(width=width).print(Text(text), end="")` without a terminal: wrapped as Rich wraps it;
    None for a character Rich might measure otherwise (or a tab, a control character)."""
    if width < 1 or not all(narrow(line) for line in text.split("\n")):
        return None
    return "\n".join(wrap(text, width, pad=False))


def _border(chars: str, widths: list[int]) -> str:
    left, fill, mid, right = chars[0], chars[1], chars[2], chars[3]
    return left + mid.join(fill * w for w in widths) + right + "\n"


def render_grid(g: Grid, width: int) -> str | None:
    """`Table(title=Text(title), title_justify="left", min_width=len(title))` with left-justified,
    folding columns, as Rich prints it at this width (narrowed and wrapped as Rich does); None for a
    character Rich might measure otherwise, markup in a header, or a width too small for the columns."""
    if any("[" in c or ":" in c or "\\" in c for c in g.columns):  # Rich reads markup in headers
        return None
    g = fit(g, width)
    marks: dict[str, str] = {}  # `q̇` (q and a combining dot, one cell for Rich) -> one private character
    if any(DOT in c for row in g.rows for c in row):
        g = Grid(g.title, g.columns, [tuple(_mark(c, marks) for c in row) for row in g.rows], g.min_width)
    cells = [[c.split("\n") for c in row] for row in g.rows]
    allowed = frozenset(marks.values())
    if not all(narrow(c) for c in (g.title, *g.columns)) or not all(
            narrow(line, allowed) for row in cells for cell in row for line in cell):
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
    max_width = width - extra
    if len(g.title) > width or max_width < 3 * len(widths):
        return None
    widths = [min(w, max_width) for w in widths]
    if sum(widths) > max_width:
        widths = _collapse(widths, max_width)
    elif g.min_width and sum(widths) < len(g.title) - extra:
        widths = [w + p for w, p in zip(widths, _ratio_distribute(len(g.title) - extra - sum(widths), widths),
                                        strict=True)]
    table_width = sum(widths) + extra
    if min(widths) < 3 or len(g.title) > table_width:
        return None
    out = [g.title + " " * (table_width - len(g.title)) + "\n" if g.title else "", _border(TOP, widths)]
    out += _row(HEAD, [wrap(c, w - 2) for c, w in zip(g.columns, widths, strict=True)], widths, bottom=True)
    out.append(_border(HEAD_SEP, widths))
    for texts in g.rows:
        out += _row(BODY, [wrap(c, w - 2) for c, w in zip(texts, widths, strict=True)], widths)
    out.append(_border(BOTTOM, widths))
    text = "".join(out)
    for dotted, mark in marks.items():
        text = text.replace(mark, dotted)
    return text


def _mark(text: str, marks: dict[str, str]) -> str:
    """The text with each letter-and-dot as one character of the private use area (laid out as one
    cell, as Rich lays out the pair, and never split from its letter)."""
    return DOTTED.sub(lambda m: marks.setdefault(m.group(0), chr(0xE000 + len(marks))), text)


def _row(chars: str, cells: list[list[str]], widths: list[int], bottom: bool = False) -> list[str]:
    """The lines of one row: cells top-aligned (the header: bottom-aligned), blank below (above)."""
    height = max(map(len, cells))
    left, mid, right = chars[0], chars[1], chars[2]
    pad = [[" " * (w - 2)] * (height - len(c)) for c, w in zip(cells, widths, strict=True)]
    cells = [p + c if bottom else c + p for c, p in zip(cells, pad, strict=True)]
    return [left + mid.join(" " + c[k] + " " for c in cells) + right + "\n" for k in range(height)]


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
            text = paragraph(p, width)
            if text is None:
                return None
            out.append(text + "\n")
    return "".join(out)


def fits(grid: Grid, width: int) -> bool:
    """Whether every column can be as wide as its longest word (a number, a name) within `width`:
    else Rich breaks inside numbers (`12` above `08` for 1208; a REPL red team's `:graph` at 40 columns)."""
    need = 1
    for k, head in enumerate(grid.columns):
        words = [w for cell in (head, *(row[k] for row in grid.rows if k < len(row))) for w in cell.split()]
        need += max((len(w) for w in words), default=1) + 3
    return need <= width


def narrowed(grid: Grid, width: int) -> Grid | str:
    """The table, or a block per row where `width` cannot hold its widest words side by side."""
    return grid if fits(grid, width) else records(grid)


def records(grid: Grid) -> str:
    """The table as one block per row, for a width too narrow for it: the first two cells as its line,
    the others below as `column: cell` (empty ones left out; a cell's own lines indented)."""
    out = [grid.title]
    for row in grid.rows:
        out.append(f"{row[0]}: {row[1]}" if len(row) > 1 and row[1] else row[0])
        for head, cell in zip(grid.columns[2:], row[2:]):
            if cell and "\n" in cell:
                out += [f"  {head}:", *("    " + line for line in cell.split("\n"))]
            elif cell:
                out.append(f"  {head}: {cell}")
    return "\n".join(out) + "\n"
