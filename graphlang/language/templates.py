"""Parsing many statements fast, with the grammar still the only syntax definition.

A statement's parse tree depends only on its sequence of token types, so each distinct sequence is
parsed once by the LALR parser (from `grammars/graphlang.lark`) and compiled into a template: a
short list of build instructions. Every later statement with the same token types is built from
the template with its own token values and positions (the tokenizer: `tokens.py`). Templates
built are kept across processes (`store.py`), so Lark is imported only where one is missing.
Anything unusual falls back to the full parser, which also produces the located syntax errors.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.language import store
from graphlang.language.ast import DeclItem, Expr, Statement, as_written, number, underflows
from graphlang.language.larklazy import lark
from graphlang.language.tokens import Fallback, statements_of, tokenize
from graphlang.limits import STATEMENTS_HINT, Limits
from graphlang.primitives.table import INFIX

__all__ = ["Fallback", "Template", "keep_made", "parse_fast", "statements_of", "template_for", "template_of",
           "tokenize"]

_NEST = frozenset({"group", "call", "literal", "sign", "power", "subscript", "transpose"})


@lru_cache(maxsize=1)
def _lalr() -> Any:
    """The LALR parser over tokens already made: Lark, imported only when a template is built."""
    from graphlang.language.replay import lalr  # (Lark's import: only where a template is missing)
    return lalr()


# --- templates -------------------------------------------------------------------------------
# An instruction builds one node from token indices and earlier nodes (refs into `built`):
#   ("var"|"num", tok, pos) ("op", name, pos, a, b) ("neg", pos, a) ("T", pos, a)
#   ("index", pos, a, [(neg, tok)...]) ("call", tok, [refs]) ("stack", pos, [refs])

class Template:
    __slots__ = ("kind", "code", "root", "name", "items", "depth", "expr_start", "kept")

    def __init__(self) -> None:
        self.kept = False  # read from the store (`store.py`), not built in this process
        self.code: list[tuple[Any, ...]] = []
        self.root = -1
        self.name = 0
        self.items: list[tuple[int, list[int] | None]] = []  # name, dims (None: `x[]`)
        self.depth = 0
        self.expr_start = 2
        self.kind = ""


def _first(node: Any) -> int:
    return node.start_pos if isinstance(node, lark.Token) else node._first  # type: ignore[no-any-return]


class _TooDeep(Exception):
    def __init__(self, token: int) -> None:
        self.token = token


def _compile_expr(root: Any, t: Template, limits: Limits) -> int:
    """Tree -> instructions, iteratively; returns the root's ref."""
    if isinstance(root, lark.Token):
        t.code.append(("var" if root.type == "NAME" else "num", root.start_pos, root.start_pos))
        return len(t.code) - 1
    ref: dict[int, int] = {}
    stack: list[tuple[lark.Tree, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, expanded = stack.pop()
        if not expanded:
            t.depth = max(t.depth, depth)
            if depth > limits.max_depth:
                leaf: Any = node
                while not isinstance(leaf, lark.Token):
                    leaf = next(c for c in leaf.children if c is not None)
                raise _TooDeep(leaf.start_pos)
            stack.append((node, depth, True))
            inner = depth + (node.data in _NEST)
            stack.extend((c, inner, False) for c in node.children if isinstance(c, lark.Tree))
            continue
        kids = node.children
        node._first = min(_first(k) for k in kids if k is not None)  # type: ignore[attr-defined]
        if node.data in ("group", "literal"):  # the '(' or '[' the tree leaves out
            node._first -= 1  # type: ignore[attr-defined]
        code = t.code
        data = node.data

        def r(k: Any) -> int:
            return ref[id(k)]
        if data in ("number", "name"):
            tok = kids[0]
            code.append(("var" if data == "name" else "num", tok.start_pos, tok.start_pos))
        elif data == "group":
            ref[id(node)] = r(kids[0])
            continue
        elif data in ("additive", "multiplicative"):
            acc = r(kids[0])
            for op_tok, rhs in zip(kids[1::2], kids[2::2]):
                code.append(("op", op_tok.start_pos, op_tok.start_pos, acc, r(rhs)))
                acc = len(code) - 1
            ref[id(node)] = acc
            continue
        elif data == "sign":
            if kids[0].type == "PLUS":
                ref[id(node)] = r(kids[1])
                continue
            code.append(("neg", node._first, r(kids[1])))  # type: ignore[attr-defined]
        elif data == "power":
            code.append(("op", kids[1].start_pos, kids[1].start_pos, r(kids[0]), r(kids[2])))
        elif data == "transpose":
            code.append(("T", node._first, r(kids[0])))  # type: ignore[attr-defined]
        elif data == "subscript":
            code.append(("index", node._first, r(kids[0]), [k._parts for k in kids[1:]]))  # type: ignore
        elif data == "index":
            node._parts = (len(kids) == 2, kids[-1].start_pos)  # type: ignore[attr-defined]
            continue
        elif data == "call":
            code.append(("call", kids[0].start_pos, [r(k) for k in kids[1:] if k is not None]))
        elif data == "literal":
            code.append(("stack", node._first, [r(k) for k in kids]))  # type: ignore[attr-defined]
        else:
            raise Fallback
        ref[id(node)] = len(code) - 1
    return ref[id(root)]


def template_of(tokens: list[tuple[str, int, int]], text: str, limits: Limits) -> Template:
    parser = _lalr()
    toks = [lark.Token(kind, text[s:e], start_pos=i) for i, (kind, s, e) in enumerate(tokens)]
    try:
        tree = parser.parse(toks)
    except Exception:  # noqa: BLE001 - any parse failure: the full parser reports it
        raise Fallback from None
    stmts = [c for c in tree.children if isinstance(c, lark.Tree)]
    if len(stmts) != 1:
        raise Fallback
    st = stmts[0]
    t = Template()
    t.kind = st.data
    if st.data == "assign":
        name_tok, expr = st.children
        t.name = name_tok.start_pos
        t.expr_start = t.name + 2  # just after `=`
        t.root = _compile_expr(expr, t, limits)
    elif st.data == "declare":
        t.name = st.children[0].start_pos
        for item in st.children[1:]:
            name_tok, *dims = item.children
            t.items.append((name_tok.start_pos, None if item.data == "scalar_item" else  # `x[]`: a scalar
                            [d.start_pos for d in dims if d is not None]))
    elif st.data == "output":
        t.items = [(tok.start_pos, []) for tok in st.children]
    else:
        raise Fallback
    return t


_CACHE: dict[tuple[str, ...], Template] = {}
_CACHED_TOKENS = 0
_MADE: dict[tuple[str, ...], Template] = {}  # built by this process, for the store


def as_data(t: Template) -> list[Any]:
    """A template as JSON data, for the store."""
    return [t.kind, t.root, t.name, t.expr_start, t.depth, t.items, t.code]


def from_data(data: Any, key: tuple[str, ...]) -> Template | None:
    """A template from the store, or None unless it fits its token types `key` (`store.fits`)."""
    if not store.fits(data, key):
        return None
    kind, root, name, expr_start, depth, items, code = data
    t = Template()
    t.kind, t.root, t.name, t.expr_start, t.depth, t.kept = kind, root, name, expr_start, depth, True
    t.items, t.code = [(i, d) for i, d in items], [tuple(ins) for ins in code]
    return t


def parse_fast(text: str, limits: Limits) -> list[Statement]:
    """Statements built from cached templates; raises Fallback for the full parser."""
    tokens, bad = tokenize(text)
    lines = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(offset: int) -> tuple[int, int]:
        k = bisect.bisect_right(lines, offset)
        return k, offset - lines[k - 1] + 1

    out: list[Statement] = []
    _statements(text, tokens, bad, limits, lines, where, out)
    return out


def keep_made() -> None:
    """The templates this process built, kept for the next (its statements then parse without Lark)."""
    if _MADE:
        store.keep(templates={k: as_data(t) for k, t in _MADE.items()})
        _MADE.clear()


def _statements(text: str, tokens: list[tuple[str, int, int]], bad: int | None, limits: Limits,
                lines: list[int], where: Callable[[int], tuple[int, int]], out: list[Statement]) -> None:
    prev_end = clean = 0  # clean: the last line start that no statement straddles
    for toks in statements_of(tokens, text):
        line_start = lines[bisect.bisect_right(lines, toks[0][1]) - 1]
        if line_start >= prev_end:
            clean = line_start
        try:
            if bad is not None and toks[-1] is tokens[-1]:
                raise Fallback  # the statement that a bad character interrupts
            _statement(toks, text, limits, where, out)
        except Fallback as fb:
            fb.resume = (clean, *where(clean))  # whole lines: the full parser sees each line whole
            raise
        prev_end = toks[-1][2]
    if bad is not None:  # a bad character starts a statement
        line_start = lines[bisect.bisect_right(lines, bad) - 1]
        at = line_start if line_start >= prev_end else clean
        fb = Fallback()
        fb.resume = (at, *where(at))
        raise fb


def _statement(toks: list[tuple[str, int, int]], text: str, limits: Limits,
               where: Callable[[int], tuple[int, int]], out: list[Statement]) -> None:
    """One statement from its template, appended to `out`."""
    if len(toks) > limits.max_statement_tokens:
        raise GraphlangError("limit", f"a statement of {len(toks):,} tokens; the limit is "
                             f"{limits.max_statement_tokens:,}", *where(toks[0][1]),
                             "split it into several statements")
    t = template_for(toks, text, limits, where)
    try:
        _emit(t, toks, text, limits, where, out)
    except (IndexError, KeyError, TypeError, ValueError):
        if not t.kept:
            raise
        # a kept template that does not fit its tokens (a damaged store): built again by Lark
        _emit(template_for(toks, text, limits, where, kept=False), toks, text, limits, where, out)


def template_for(toks: list[tuple[str, int, int]], text: str, limits: Limits,
                 where: Callable[[int], tuple[int, int]] | None = None, kept: bool = True) -> Template:
    """A statement's template: cached, else from the store (`kept`), else built by the LALR parser
    (and kept by `keep_made`); a nesting past the limit is a limit error located by `where`, else a
    Fallback."""
    key = tuple(tok[0] for tok in toks)
    if kept and key in _CACHE:
        return _CACHE[key]
    data = store.contents()["templates"].get(key) if kept else None
    t = None if data is None else from_data(data, key)
    if t is None:
        try:
            t = _MADE[key] = template_of(toks, text, limits)
        except _TooDeep as deep:
            if where is None:
                raise Fallback from None
            raise GraphlangError("limit", f"the expression nests deeper than {limits.max_depth} "
                                 "levels", *where(toks[deep.token][1]),
                                 "name intermediate quantities instead of nesting") from None
    global _CACHED_TOKENS  # bounded in tokens, not entries (a 4,000-token template holds ~1.4 MB)
    if len(_CACHE) >= 20_000 or _CACHED_TOKENS + len(key) > 200_000:
        _CACHE.clear()  # a long-lived process (a grader) keeps what it parses now
        _CACHED_TOKENS = 0
    _CACHED_TOKENS += 0 if key in _CACHE else len(key)
    _CACHE[key] = t
    return t


def _emit(t: Template, toks: list[tuple[str, int, int]], text: str, limits: Limits,
          where: Callable[[int], tuple[int, int]], out: list[Statement]) -> None:
    """The statement built from template `t`, appended to `out`."""
    if t.depth > limits.max_depth:
        raise Fallback  # the full parser locates the limit error
    line, column = where(toks[0][1])
    if t.kind == "assign":
        if "\n" in text[toks[0][1]:toks[-1][2]]:
            expr = _instantiate(t, toks, text, where, limits)
        else:  # one line: every position is on `line`
            base = toks[0][1] - column
            expr = _instantiate(t, toks, text, lambda s, line=line, base=base: (line, s - base), limits)
        start = toks[t.expr_start][1]
        out.append(Statement("assign", line, column, name=text[toks[t.name][1]:toks[t.name][2]],
                             expr=expr, text=as_written(text[start:toks[-1][2]])))
    elif t.kind == "declare":
        items = []
        for name_i, dims in t.items:
            nl, nc = where(toks[name_i][1])
            shape = () if dims is None else tuple(int(text[toks[d][1]:toks[d][2]]) for d in dims) if dims else None
            items.append(DeclItem(text[toks[name_i][1]:toks[name_i][2]], shape, nl, nc))
        out.append(Statement(text[toks[t.name][1]:toks[t.name][2]], line, column, items=items))
    else:
        items = [DeclItem(text[toks[i][1]:toks[i][2]], None, *where(toks[i][1])) for i, _ in t.items]
        out.append(Statement("output", line, column, items=items))
    if len(out) > limits.max_statements:
        raise GraphlangError("limit", f"more than {limits.max_statements:,} statements", line, column,
                             STATEMENTS_HINT)


def _instantiate(t: Template, toks: list[tuple[str, int, int]], text: str, where: Any,
                 limits: Limits) -> Expr:
    built: list[Expr] = []
    append = built.append
    for ins in t.code:
        op = ins[0]
        if op == "var":
            _, s, e = toks[ins[1]]
            append(Expr("var", (), text[s:e], *where(s)))
        elif op == "num":
            _, s, e = toks[ins[1]]
            value = float(text[s:e])
            if value == float("inf") or not value and underflows(text[s:e], value):  # (the parser says why)
                raise Fallback
            append(number(text[s:e], value, *where(s)))
        elif op == "op":
            _, s, e = toks[ins[1]]
            append(Expr(INFIX[text[s:e]], (built[ins[3]], built[ins[4]]), None, *where(s)))
        elif op == "neg":
            append(Expr("neg", (built[ins[2]],), None, *where(toks[ins[1]][1])))
        elif op == "T":
            append(Expr("T", (built[ins[2]],), None, *where(toks[ins[1]][1])))
        elif op == "index":
            idx = tuple((-1 if neg else 1) * int(text[toks[k][1]:toks[k][2]]) for neg, k in ins[3])
            append(Expr("index", (built[ins[2]],), idx, *where(toks[ins[1]][1])))
        elif op == "call":
            _, s, e = toks[ins[1]]
            append(Expr("call", tuple(built[k] for k in ins[2]), text[s:e], *where(s)))
        else:  # stack
            append(Expr("stack", tuple(built[k] for k in ins[2]), None, *where(toks[ins[1]][1])))
    return built[t.root]
