"""When an input is complete: brackets closed, no operator left hanging, comment lines complete on
their own (and never continuing a statement)."""

from __future__ import annotations

import re

from graphlang.errors import GraphlangError
from graphlang.language.incremental import bracket_depth
from graphlang.language.parser import parse_statements
from graphlang.repl import commands as rc

_STATEMENT = re.compile(r"\s*(?:[A-Za-z_]\w*\s*=(?!=)|(?:input|param|output)\s)")


def starts_statement(line: str) -> bool:
    """`name =`, or a declaration: a line that inside brackets can only begin a statement of its own."""
    return bool(_STATEMENT.match(line))


def abandons(lines: list[str]) -> bool:
    """Does the last line give up the statement before it: a `:command`, or a new statement (`b =
    ln(x)` typed after `b = ln(x`: inside brackets no line of the language starts `name =`)?"""
    return len(lines) > 1 and (lines[-1].lstrip().startswith(":") or starts_statement(
        lines[-1]) and bracket_depth(_code("\n".join(lines[:-1]))) > 0)


def is_complete(text: str) -> bool:
    """False while brackets are open or the statement ends mid-expression (keep reading)."""
    text = _code(text)
    lines = text.strip().split("\n")
    if lines[0].startswith(":") or abandons(lines) or not text.strip():
        return True  # (a command or statement after an unfinished one: both go, the unfinished one's error first)
    if bracket_depth(text) > 0:
        return False
    try:  # a bare expression (`a`, `x * z + 1`) is read as one to be shown
        parse_statements(("_ = " if rc.is_expression(text) else "") + text.rstrip())
    except GraphlangError as err:
        return not (err.kind == "syntax" and "ends in the middle" in err.message)
    return True


def _code(text: str) -> str:
    """The text without its comments (a comment line is complete, and never continues; a bracket
    in a comment opens nothing: the language has no strings, so `#` always starts one)."""
    return "\n".join(ln.split("#", 1)[0] for ln in text.split("\n") if not ln.lstrip().startswith("#"))


def join_continuations(text: str) -> str:
    """A line that ends mid-expression outside brackets continues on the next (joined by a space).

    Linear in the lines: the bracket depth is kept as lines come, and only the statement being
    read is parsed (at a line where its brackets are balanced)."""
    out: list[str] = []
    start = 0  # where the statement being read begins in `out`
    depth = 0
    for line in text.split("\n"):
        if line.lstrip().startswith("#"):
            continue  # (joined, a comment would swallow the rest of the statement)
        if out and depth == 0 and not is_complete("\n".join(out[start:])):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            if depth == 0:
                start = len(out)
            out.append(line)
        depth += bracket_depth(line)
    return "\n".join(out)


def excerpt(lines: list[str], err: GraphlangError, text: str) -> str:
    """The line an error points to, on that line of an otherwise empty text (the session's source
    `lines` and `text` after them, without joining them)."""
    if err.line is None or err.line < 1:
        return ""
    k = err.line - 1
    extra = text.split("\n") + [""]
    if k < len(lines):
        line = lines[k]
    elif k - len(lines) < len(extra):
        line = extra[k - len(lines)]
    else:
        return ""  # past the end: no line to show
    return "\n" * k + line + "\n"
