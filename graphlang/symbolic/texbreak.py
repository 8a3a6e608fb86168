"""Long LaTeX formulas broken over lines, so that a derivative fits a page or a slide.

A formula wider than the budget (in rendered symbols, `width`) breaks at its top-level `+` and `−`;
a term still too wide at its top-level `·`; a factor still too wide inside its widest parentheses
(which become `\\bigl( … \\bigr)`, as `\\left … \\right` cannot span lines). Short formulas stay on
one line, unchanged. Breaking only moves text between lines: joined again, the lines are the
formula. The rows go into an `aligned` environment (or into `align*`, for `explain`).
"""

from __future__ import annotations

import re
from itertools import accumulate

WIDTH = 62  # rendered symbols (about a digit wide each) per line: fits an article's text width (345pt)
_MAX_NEST = 40  # groups inside groups that `width` measures exactly
_MAX_OPEN = 8  # parentheses inside parentheses that breaking opens
_QUAD = 2.0  # the width of `\quad`, the indentation of a continued line
_SUMS = (" + ", " - ")
_PRODUCTS = (" \\cdot ",)
_LIST = ",\\ "  # between the matrices of a stack: a line may end after it
_SIZES = ("\\big", "\\Big", "\\bigg", "\\Bigg")  # by how many broken parentheses lie inside
_WORDS = frozenset("sin cos tan tanh ln log exp max min".split())
_FREE = frozenset("left right bigl bigr Bigl Bigr biggl biggr Biggl Biggr displaystyle textstyle".split())
_WIDE = {"sum": 2, "cdot": 1.5, "otimes": 2, "partial": 1.2}  # in digit widths, with their spacing
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")

Line = tuple[int, str]  # (indentation in quads, text)


def _group(s: str, i: int) -> tuple[str, int]:
    """The argument starting at s[i] (a braced group, a command or one character) and the index after it."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return "", i
    if s[i] == "{":
        depth = 0
        for j in range(i, len(s)):
            if s[j] in "{}" and s[j - 1] != "\\":
                depth += 1 if s[j] == "{" else -1
                if depth == 0:
                    return s[i + 1:j], j + 1
        return s[i + 1:], len(s)
    m = _COMMAND.match(s, i)
    if m:
        return m.group(0), m.end()
    return s[i], i + 1


def _environment(s: str, i: int, name: str) -> tuple[str, int]:
    """The body of `\\begin{name}` whose body starts at s[i], and the index after its `\\end{name}`."""
    begin, end, depth, j = f"\\begin{{{name}}}", f"\\end{{{name}}}", 1, i
    while j < len(s):
        if s.startswith(begin, j):
            depth += 1
        elif s.startswith(end, j):
            depth -= 1
            if depth == 0:
                return s[i:j], j + len(end)
        j += 1
    return s[i:], len(s)


def width(s: str, _nest: int = 0) -> float:
    """About how many symbols `s` renders as: a fraction is as wide as its wider part, scripts count
    0.75, a matrix is its widest row, `\\operatorname{relu}` four letters, spaces and `{}` nothing
    (past `_MAX_NEST` nested groups, every character counts one: no deep recursion)."""
    if _nest > _MAX_NEST:
        return float(sum(1 for c in s if c not in " {}&"))
    w, i = 0.0, 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            m = _COMMAND.match(s, i)
            assert m is not None
            name, i = m.group(1), m.end()
            if name == "frac":
                num, i = _group(s, i)
                den, i = _group(s, i)
                w += max(width(num, _nest + 1), width(den, _nest + 1)) + 0.5
            elif name == "begin":
                env, i = _group(s, i)
                body, i = _environment(s, i, env)
                rows = [[width(cell, _nest + 1) for cell in row.split("&")] for row in _split_rows(body)]
                cols = max((len(r) for r in rows), default=0)
                w += sum(max((r[k] for r in rows if k < len(r)), default=0) for k in range(cols)) + 2 * cols
            elif name in _FREE:
                continue  # the delimiter that follows counts as one symbol
            elif name in ("mathbf", "mathit", "mathrm", "operatorname", "text", "hat", "bar", "tilde", "sqrt"):
                arg, i = _group(s, i)
                w += width(arg, _nest + 1) if name not in ("text", "operatorname", "mathit", "mathrm") else len(arg)
                w += 1 if name == "sqrt" else 0
            elif name in ("quad", "qquad"):
                w += _QUAD * (2 if name == "qquad" else 1)
            elif name in (",", ";", ":", "!", " "):
                w += 0.2
            else:
                w += len(name) if name in _WORDS else _WIDE.get(name, 1.1)
        elif c in "^_":
            arg, i = _group(s, i + 1)
            w += 0.75 * width(arg, _nest + 1)
        else:
            binary = c in "+-=<>" and " " in (s[i - 1:i], s[i + 1:i + 2])  # an operator, spaced
            w += 0 if c in " {}&" else 2 if binary else 0.5 if c in ",.;:" else \
                1.5 if c.isupper() else 1.1 if c.isalpha() else 1
            i += 1
    return w


def _split_rows(body: str) -> list[str]:
    rows, depth, start, i = [], 0, 0, 0
    while i < len(body):
        if body.startswith("\\begin", i):
            depth += 1
        elif body.startswith("\\end", i):
            depth -= 1
        elif depth == 0 and body.startswith("\\\\", i):
            rows.append(body[start:i])
            start = i + 2
            i += 2
            continue
        i += 1
    return rows + [body[start:]]


_DEPTH_TOKENS = re.compile(r"\\(left|begin|right|end)(?![A-Za-z])|\\[A-Za-z]+|\\.|[{}]")


def _depths(s: str) -> list[int]:
    """Per character: how deep it lies in braces, `\\left … \\right` and environments (an opening
    token's characters at the depth outside it, a closing one's at the depth it returns to); by
    token, the running sum in C (the character loop it replaces was most of a long formula's time)."""
    delta = [0] * (len(s) + 1)
    for m in _DEPTH_TOKENS.finditer(s):
        word, tok = m.group(1), m.group()
        if word in ("left", "begin"):
            delta[m.end()] += 1
        elif word in ("right", "end") or tok == "}":
            delta[m.start()] -= 1
        elif tok == "{":
            delta[m.end()] += 1
    return list(accumulate(delta))[:len(s)]


def split_top(s: str, seps: tuple[str, ...]) -> list[str]:
    """`s` cut before each separator that lies outside every group; each piece after the first
    keeps its separator in front (`a + b - c` -> `a`, ` + b`, ` - c`)."""
    depth = _depths(s)
    cuts = [i for i in range(1, len(s)) if depth[i] == 0 and any(s.startswith(p, i) for p in seps)]
    return [s[a:b] for a, b in zip([0, *cuts], [*cuts, len(s)])]


def _widest_group(s: str) -> tuple[str, str, str, str, str] | None:
    """The top-level parentheses with the widest content: (before, opening, content, closing, after)."""
    depth = _depths(s)
    best: tuple[float, tuple[str, str, str, str, str]] | None = None
    for m in re.finditer(r"\\left(\\\{|[(\[|])", s):
        start = m.start()
        # a base in braces, `{\left(x\right)}^{2}`: not an argument (`\frac{a}{\left|b\right|}`, `^{…}`)
        braced = start > 0 and s[start - 1] == "{" and depth[start - 1] == 0 and s[start - 2:start - 1] in "( "
        level = depth[start]
        if level != (1 if braced else 0):
            continue
        end = next((j for j in range(m.end(), len(s)) if s.startswith("\\right", j) and depth[j] == level), None)
        if end is None:
            continue
        k = end + len("\\right")
        close = _COMMAND.match(s, k)
        closing, after_end = (close.group(0), close.end()) if close else (s[k:k + 1], k + 1)
        if braced:
            if after_end >= len(s) or s[after_end] != "}":
                continue
            before, after = s[:start - 1], s[after_end + 1:]
        else:
            before, after = s[:start], s[after_end:]
        content = s[m.end():end]
        w = width(content)
        if best is None or w > best[0]:
            best = (w, (before, m.group(1), content, closing, after))
    return None if best is None else best[1]


def _lines(tex: str, budget: float, level: int, opened: int = 0) -> tuple[list[Line], int]:
    """`tex` as lines within `budget` where it can be broken, and how many parentheses deep it broke
    (at most `_MAX_OPEN` inside one another: deeper, a line stays long)."""
    if width(tex) + _QUAD * level <= budget:
        return [(level, tex)], -1
    for seps in (_SUMS, _PRODUCTS):
        pieces = split_top(tex, seps)
        if len(pieces) > 1:
            return _pack(pieces, budget, level, opened)
    items = split_top(tex, (_LIST,))
    if sum(1 for item in items if item[len(_LIST):].strip() or not item.startswith(_LIST)) > 1:
        # each separator stays at the end of its line (a piece that ends with one — `A,\ ` — is not
        # two: packing it again as two recursed until RecursionError, a 2×3×4 tensor's explain)
        items = [item[len(_LIST):] if k else item for k, item in enumerate(items)]
        return _pack([item + _LIST for item in items[:-1]] + items[-1:], budget, level, opened)
    group = _widest_group(tex) if opened < _MAX_OPEN else None
    if group is None:
        return [(level, tex)], -1
    before, opening, content, closing, after = group
    inner, depth = _lines(content, budget - width(before) - width(after) - 2, level, opened + 1)
    if len(inner) == 1:  # nothing inside breaks either: the group keeps `\left … \right` (its height)
        return [(level, tex)], -1
    if "\\begin{" in content or "\\frac" in content:  # matrices, fractions: brackets as tall as each line
        left, right = f"\\left{opening}", "\\right."
        left_last, right_last = "\\left.", f"\\right{closing}"
    else:
        size = _SIZES[min(depth + 1, len(_SIZES) - 1)]
        left, right, left_last, right_last = f"{size}l{opening}", "", "", f"{size}r{closing}"
    lines = [(inner[0][0], before + left + inner[0][1] + right)] + inner[1:]
    lines[-1] = (lines[-1][0], left_last + lines[-1][1] + right_last + after)
    return lines, depth + 1


def _pack(pieces: list[str], budget: float, level: int, opened: int) -> tuple[list[Line], int]:
    """Pieces filled greedily into lines; a piece too wide for a line of its own is broken too."""
    out: list[Line] = []
    deepest = -1
    for k, piece in enumerate(pieces):
        lvl = level if k == 0 else level + 1
        if out and width(out[-1][1] + piece) + _QUAD * out[-1][0] <= budget:
            out[-1] = (out[-1][0], out[-1][1] + piece)
            continue
        piece = piece.lstrip()
        if width(piece) + _QUAD * lvl <= budget:
            out.append((lvl, piece))
            continue
        op = next((s.strip() + " " for s in _SUMS + _PRODUCTS if k and piece.startswith(s.strip() + " ")), "")
        used = width(out[-1][1]) + _QUAD * out[-1][0] if out else 0.0
        if out and used <= budget / 4:  # a short line so far (`= g_{y}`): the broken piece goes on after it
            sub, depth = _lines(piece[len(op):], budget - used - width(op) - 1, lvl, opened)
            out[-1] = (out[-1][0], f"{out[-1][1]} {op}{sub[0][1]}")
        else:
            sub, depth = _lines(piece[len(op):], budget - width(op), lvl, opened)
            out.append((sub[0][0], op + sub[0][1]))
        deepest = max(deepest, depth)
        out.extend(sub[1:])
    return out, deepest


def lines(tex: str, budget: float = WIDTH) -> list[Line]:
    """The formula as (indentation, text) lines, each within `budget` where breaking allows."""
    return _lines(tex, budget, 0)[0]


def _row(line: Line) -> str:
    return "&" + "\\quad " * line[0] + line[1]


def equation(lhs: str, rhs: str, budget: float = WIDTH) -> str:
    """`lhs = rhs` on one line, or, when too wide, an `aligned` environment broken at `+`, `−`, `·`."""
    if width(f"{lhs} = {rhs}") <= budget:
        return f"{lhs} = {rhs}"
    rows = lines(rhs, budget - width(lhs) - 1)
    body = [f"{lhs} &= {rows[0][1]}"] + [_row(r) for r in rows[1:]]
    return "\\begin{aligned}\n" + " \\\\\n".join(body) + "\n\\end{aligned}"


def block(tex: str, budget: float = WIDTH) -> str:
    """A formula alone: itself when it fits, else an `aligned` environment of its lines."""
    rows = lines(tex, budget)
    if len(rows) == 1:
        return tex
    return "\\begin{aligned}[t]\n" + " \\\\\n".join(_row(r) for r in rows) + "\n\\end{aligned}"


def align_rows(lhs: str, forms: list[str], budget: float = WIDTH) -> list[str]:
    """`lhs = f1 = f2 = …` as rows of `align*`: one row when it fits; else as many `= f` per row as
    fit, each row starting at the `=`, and a form too wide on its own broken like `lines`."""
    rows: list[str] = []
    room = budget - width(lhs) - 1
    for form in forms:
        if rows and width(rows[-1].split("&", 1)[1] + " = " + form) <= room and not rows[-1].startswith("&\\quad"):
            rows[-1] += " = " + form
            continue
        broken = lines(form, room - 1)
        rows.append("&= " + broken[0][1])
        rows.extend(_row(r) for r in broken[1:])
    if rows:
        rows[0] = lhs + " " + rows[0]
    return rows
