"""A session line's text edited statement by statement: one statement replaced in the line it shares
(`d = exp(a); e = a / b`), or the line cut in two before a statement, comments and layout kept."""

from __future__ import annotations

from graphlang.errors import GraphlangError
from graphlang.language.ast import names
from graphlang.language.parser import parse_statements


def whole(text: str) -> bool:
    """Whole statements (a statement continued over lines is whole at its last line)."""
    try:
        parse_statements(text)
    except GraphlangError:
        return False
    return True


def splice(line: str, name: str, text: str) -> str | None:
    """`line` with `name`'s statement replaced by `text`, the others on it (`d = exp(a); e = a / b`)
    and its comment kept; None when the line alone is no whole statements."""
    try:
        statements = parse_statements(line)
    except GraphlangError:
        return None
    mine = [st for st in statements if st.kind == "assign" and st.name == name]
    if len(mine) != 1:
        return None
    start = mine[0].column - 1
    if "\n" in line[start:]:  # a statement continued over lines, the last on its first: all of it
        return line[:start] + text
    ends = [k for k in (line.find(";", start), line.find("#", start)) if k >= 0]
    stop = min(ends, default=len(line))
    return line[:start] + text + (" " if stop < len(line) and line[stop] == "#" else "") + line[stop:]


def split_before_reader(chunk: str, name: str) -> tuple[str, str] | None:
    """`a = x * z; b = ln(x); d = e^a` cut before the first statement that reads `name` (`e = a / b`
    then goes between: it reads a and b, and d reads it); None for a chunk of one line's one statement,
    a chunk over several lines, or one whose first statement reads `name`."""
    if "\n" in chunk.rstrip("\n"):
        return None
    try:
        statements = parse_statements(chunk)
    except GraphlangError:
        return None
    reader = next((st for st in statements if st.expr is not None and name in names(st.expr)), None)
    if reader is None or reader is statements[0]:
        return None
    cut = chunk.rfind(";", 0, reader.column - 1)
    return chunk[:cut].rstrip(), chunk[cut + 1:].strip()
