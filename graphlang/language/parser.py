"""Text -> statements: Lark LALR with positions, friendly syntax errors, no recursion."""

from __future__ import annotations

import re
import unicodedata
from itertools import accumulate

from graphlang.errors import GraphlangError
from graphlang.language.ast import DeclItem, Expr, Statement, as_written, number, underflows
from graphlang.language.grammar import lark_parser
from graphlang.language.larklazy import lark
from graphlang.language.lines import parse_lines
from graphlang.language.source import LOOKALIKES
from graphlang.language.syntax_errors import position, syntax_error
from graphlang.language.templates import Fallback, keep_made, parse_fast
from graphlang.limits import STATEMENTS_HINT, Limits
from graphlang.primitives.table import INFIX

__all__ = ["DeclItem", "Statement", "parse_expression", "parse_full", "parse_statements"]

_NEST = frozenset({"group", "call", "literal", "sign", "power", "subscript", "transpose"})


_NOT_ASCII = re.compile(r"[^\x09\x0a\x0d\x20-\x7e]")
# Not even in a comment: control, format (bidi overrides, zero-width, soft hyphen, tags, BOM),
# private-use, unassigned and line/paragraph separator characters, which a comment could use to
# make the code read differently from how it runs ("Trojan Source").
_HIDDEN = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _HIDDEN


def _disallowed(text: str) -> int | None:
    """The offset of the first character a program may not hold: outside comments anything but
    printable ASCII (and tab, newline, carriage return); in a comment (`#` to the end of the line,
    a student's name, the lecture's σ or ∂) only the invisible ones. Linear: each step ends a line."""
    pos = 0
    while (m := _NOT_ASCII.search(text, pos)) is not None:
        at = m.start()
        start = text.rfind("\n", 0, at) + 1
        if "#" not in text[start:at]:
            return at
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        for c in _NOT_ASCII.finditer(text, at, end):
            if _invisible(c.group()):
                return c.start()
        pos = end
    return None


def _check_text(text: str, limits: Limits) -> None:
    if len(text) > limits.max_source_chars:
        raise GraphlangError("limit", f"the program has {len(text):,} characters; the limit is "
                             f"{limits.max_source_chars:,}", 1, 1, "split the program or raise the limit")
    lone = re.search(r"\r(?!\n)", text) if "\r" in text else None
    if lone is not None:  # a terminal shows the text after it over the line: code hidden in a comment
        line, column = position(text, lone.start())
        raise GraphlangError("syntax", "a carriage return without a line feed (an old Mac line ending)",
                             line, column, "save the file with LF (or CRLF) line endings")
    bad = _disallowed(text)
    if bad is not None:
        line, column = position(text, bad)
        ch = text[bad]
        what = "a NUL byte" if ch == "\x00" else f"the character U+{ord(ch):04X}"
        if _invisible(ch):
            raise GraphlangError("syntax", f"{what} is not allowed, not even in a comment (an invisible or "
                                 "direction-changing character)", line, column, "delete it")
        shown = f" ({ch})" if unicodedata.category(ch)[0] in "LNPS" else ""  # not a mark, space or format
        raise GraphlangError("syntax", f"{what}{shown} is not allowed; programs are plain ASCII outside "
                             "comments", line, column, LOOKALIKES.get(ch, "retype the name or operator with "
                                                                       "ASCII characters"))
    depth, outer = 0, 0
    code = re.sub(r"#[^\n]*", lambda c: " " * len(c.group()), text) if "#" in text else text  # a comment's ( is prose
    for m in re.finditer(r"[\[\]()]", code) if not _shallow(code, limits.max_depth) else ():
        outer = m.start() if depth == 0 else outer  # where the outermost open bracket is
        depth = depth + 1 if m.group() in "([" else max(0, depth - 1)
        if depth > limits.max_depth:
            line, column = position(text, m.start())
            first, col = position(text, outer)
            hint = (f"the {code[outer]!r} on line {first}, column {col} is still open here: is it closed?"
                    if first < line else "name intermediate quantities instead of nesting")
            raise GraphlangError("limit", f"brackets nest deeper than {limits.max_depth} levels",
                                 line, column, hint)
    # Linear scans: a match may start only where a line (or a run of name characters) starts,
    # and each start reads at most limit + 1 characters of its own line (run). An unanchored
    # pattern would rescan each line from every position: quadratic in the line's length.
    # (the longest line, in C: where it is short, no run of either kind below can be too long)
    longest = max(map(len, text.split("\n")))
    long_line = _long_run(text, "[^\n]", limits.max_line_chars) if longest > limits.max_line_chars else None
    if long_line is not None:
        line, column = position(text, long_line)
        raise GraphlangError("limit", f"line longer than {limits.max_line_chars:,} characters",
                             line, column, "split the statement over several lines")
    long_token = _long_run(text, "[A-Za-z0-9_.]", limits.max_token_chars) if longest > limits.max_token_chars else None
    while long_token is not None and "#" in text[text.rfind("\n", 0, long_token) + 1 : long_token]:
        end = text.find("\n", long_token)  # a word in a comment (a URL) is no name: on to the next line
        long_token = None if end < 0 else _long_run(text, "[A-Za-z0-9_.]", limits.max_token_chars, end)
    if long_token is not None:
        line, column = position(text, long_token)
        raise GraphlangError("limit", f"a name or number longer than {limits.max_token_chars} "
                             "characters", line, column, "use a shorter name or fewer digits")


_DEPTH = {ord("("): 1, ord("["): 1, ord(")"): -1, ord("]"): -1}
_BRACKETS = str.maketrans({chr(c): None for c in range(128) if c not in _DEPTH})


def _shallow(text: str, limit: int) -> bool:
    """No bracket nests deeper than `limit` and none closes below depth 0 (then the scan above has
    nothing to report): the running depth in C (accumulate over the brackets alone)."""
    brackets = text.translate(_BRACKETS)
    if not brackets.isascii():  # a comment's non-ASCII characters (the table holds ASCII only)
        brackets = re.sub(r"[^\[\]()]", "", brackets)
    if not brackets:
        return True
    running = list(accumulate(map(_DEPTH.__getitem__, map(ord, brackets))))
    return min(running) >= 0 and max(running) <= limit


def _long_run(text: str, char_class: str, limit: int, start: int = 0) -> int | None:
    """Where the first run of `char_class` longer than `limit` starts, in time linear in the text.

    The look-behind lets a match start only at the first character of a run, so the runs are
    scanned once each (at most limit + 1 characters per run).
    """
    if len(text) <= limit:
        return None
    m = re.compile(r"(?<!%s)%s{%d}" % (char_class, char_class, limit + 1)).search(text, start)
    return None if m is None else m.start()


def parse_statements(text: str, limits: Limits | None = None) -> list[Statement]:
    """Parse a whole program; raise GraphlangError(kind='syntax'|'limit') on bad text."""
    limits = limits or Limits()
    _check_text(text, limits)
    if "\r" in text:  # CRLF (a lone CR is refused above): an error at a line's end is at its LF's column
        text = text.replace("\r\n", "\n")
    try:
        return _parse(text, limits)
    finally:
        keep_made()  # (the templates built now, for the next process)


def _parse(text: str, limits: Limits) -> list[Statement]:
    fast = parse_lines(text, limits)  # long programs of one-line statements
    if fast is not None:
        return fast
    try:
        return parse_fast(text, limits)
    except Fallback as fb:
        resume = fb.resume
    if resume is not None and resume[0] > 0:
        # every statement before `resume` parsed: look for the error in the rest first (a syntax
        # error at the end of 150,000 statements must not cost a full parse of them)
        at, line, _ = resume  # a line start: columns are the same in the rest
        try:
            parse_full(text[at:], limits)
        except GraphlangError as err:
            if err.line is not None:
                err.line += line - 1
            raise
    return parse_full(text, limits)


def parse_full(text: str, limits: Limits) -> list[Statement]:
    """The full parser: positions from Lark, and the located syntax and limit errors."""
    try:
        tree = lark_parser().parse(text)
    except lark.exceptions.UnexpectedInput as err:
        raise syntax_error(text, err) from None
    statements = []
    for child in tree.children:
        if isinstance(child, lark.Tree):
            statements.append(_statement(child, text, limits))
            if len(statements) > limits.max_statements:
                raise GraphlangError("limit", f"more than {limits.max_statements:,} statements",
                                     child.meta.line, child.meta.column, STATEMENTS_HINT)
    return statements


def parse_expression(text: str) -> Expr:
    """One expression (used for the rule table, which is written in the language itself)."""
    statements = parse_statements(f"_ = {text}")
    assert statements[0].expr is not None
    return statements[0].expr


def _statement(tree: lark.Tree, text: str, limits: Limits) -> Statement:
    meta = tree.meta
    if tree.data == "assign":
        name_tok, expr_tree = tree.children
        expr = _expression(expr_tree, limits)
        src = text[expr_tree.meta.start_pos : expr_tree.meta.end_pos] if isinstance(expr_tree, lark.Tree) \
            else str(expr_tree)
        return Statement("assign", meta.line, meta.column, name=str(name_tok), expr=expr,
                         text=as_written(src))
    if tree.data == "declare":
        kind_tok, *items = tree.children
        decls = []
        for item in items:
            name_tok, *dims = item.children
            shape = () if item.data == "scalar_item" else tuple(int(d) for d in dims if d is not None) if any(
                d is not None for d in dims) else None  # `x[]`: a scalar; `x`: any shape
            decls.append(DeclItem(str(name_tok), shape, name_tok.line, name_tok.column))
        return Statement(str(kind_tok), meta.line, meta.column, items=decls)
    names = [DeclItem(str(t), None, t.line, t.column) for t in tree.children]
    return Statement("output", meta.line, meta.column, items=names)


def _expression(root: lark.Tree | lark.Token, limits: Limits) -> Expr:
    """Lark tree -> Expr, iteratively, with a nesting limit."""
    if isinstance(root, lark.Token):
        return _number_or_name(root, limits)
    done: dict[int, Expr] = {}
    stack: list[tuple[lark.Tree, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, expanded = stack.pop()
        if not expanded:
            if depth > limits.max_depth:
                raise GraphlangError("limit", f"the expression nests deeper than {limits.max_depth} "
                                     "levels", node.meta.line, node.meta.column,
                                     "name intermediate quantities instead of nesting")
            stack.append((node, depth, True))
            inner = depth + (node.data in _NEST)
            stack.extend((c, inner, False) for c in node.children if isinstance(c, lark.Tree))
            continue
        kids = [done.pop(id(c)) if isinstance(c, lark.Tree) else c for c in node.children]
        done[id(node)] = _build(node, kids, limits)
    return done[id(root)]


def _number_or_name(tok: lark.Token, limits: Limits) -> Expr:
    if tok.type == "NAME":
        return Expr("var", (), str(tok), tok.line, tok.column)
    value = float(str(tok))
    if value == float("inf"):
        raise GraphlangError("value", f"the number {str(tok)[:40]} is too large for float64",
                             tok.line, tok.column, "numbers must be below about 1.8e308")
    if underflows(str(tok), value):  # `x / 1e-400` was "division by zero: the divisor is 0"
        raise GraphlangError("value", f"the number {str(tok)[:40]} is too small for float64: it would be 0",
                             tok.line, tok.column, "numbers other than 0 must be above about 4.9e-324; write 0 "
                             "if you mean it")
    return number(str(tok), value, tok.line, tok.column)



def _build(node: lark.Tree, kids: list, limits: Limits) -> Expr:  # type: ignore[type-arg]
    data, m = node.data, node.meta
    pos = {"line": m.line, "column": m.column}
    kids = [_number_or_name(k, limits) if isinstance(k, lark.Token) and k.type in ("NAME", "NUMBER", "INT")
            and data not in ("call", "index") else k for k in kids]
    if data in ("additive", "multiplicative"):
        acc = kids[0]
        for op_tok, rhs in zip(kids[1::2], kids[2::2]):
            acc = Expr(INFIX[str(op_tok)], (acc, rhs), None, op_tok.line, op_tok.column)
        return acc
    if data == "sign":
        sign, operand = kids
        return operand if str(sign) == "+" else Expr("neg", (operand,), None, **pos)
    if data == "power":
        base, op_tok, exponent = kids
        return Expr("pow", (base, exponent), None, op_tok.line, op_tok.column)
    if data == "transpose":
        return Expr("T", (kids[0],), None, **pos)
    if data == "subscript":
        return Expr("index", (kids[0],), tuple(kids[1:]), **pos)
    if data == "index":
        return -int(kids[1]) if len(kids) == 2 else int(kids[0])  # type: ignore[return-value]
    if data in ("number", "name", "group"):
        return kids[0]
    if data == "call":
        name_tok, *args = kids
        args = [a for a in args if a is not None]
        return Expr("call", tuple(args), str(name_tok), name_tok.line, name_tok.column)
    if data == "literal":
        return Expr("stack", tuple(kids), None, **pos)
    raise AssertionError(data)
