"""Parsing many statements fast, with the grammar still the only syntax definition.

A statement's parse tree depends only on its sequence of token types, so each distinct sequence is
parsed once by the LALR parser (from `grammars/graphlang.lark`) and compiled into a template: a
short list of build instructions. Every later statement with the same token types is built from
the template with its own token values and positions. The tokenizer is a regular expression made
from the grammar's own terminals, ordered as Lark's lexer orders them. Anything unusual falls back
to the full parser, which also produces the located syntax errors.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Tree
from lark.lexer import Lexer

from graphlang.errors import GraphlangError
from graphlang.language.ast import DeclItem, Expr, Statement, as_written, number, underflows
from graphlang.language.grammar import cached_lark
from graphlang.limits import STATEMENTS_HINT, Limits
from graphlang.primitives.table import INFIX

_NEST = frozenset({"group", "call", "literal", "sign", "power", "subscript", "transpose"})


class Fallback(Exception):
    """The fast path cannot handle this text; the full parser will (and report any error). `resume`:
    (offset, line, 1), a line start before which every statement parsed and no statement straddles:
    the full parser can first look at the rest only."""

    resume: tuple[int, int, int] | None = None


class _TokenList(Lexer):
    """Lark lexer that replays tokens already made (`parse` receives the token list)."""

    def __init__(self, conf: Any) -> None:
        pass

    def lex(self, data: Any) -> Iterator[Token]:  # type: ignore[override]
        return iter(data)


@lru_cache(maxsize=1)
def _machinery() -> tuple[re.Pattern[str], frozenset[str], dict[str, str], Lark]:
    basic = cached_lark(parser="lalr", lexer="basic")
    # Lark's basic lexer tries terminals in this order; the first match wins.
    terms = sorted(basic.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                   -len(t.pattern.value), t.name))
    # Blanks between tokens are matched as an optional prefix of the next token (half the matches).
    blank = next(t for t in terms if t.name in basic.lexer_conf.ignore and re.fullmatch(t.pattern.to_regexp(), " "))
    alternatives = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terms if t is not blank)
    regex = re.compile(f"(?:{blank.pattern.to_regexp()})?(?:{alternatives})")
    name_re = next(t for t in terms if t.name == "NAME").pattern.to_regexp()
    keywords = {t.pattern.value: t.name for t in terms
                if t.pattern.type == "str" and re.fullmatch(name_re, t.pattern.value)}
    parser = cached_lark(parser="lalr", lexer=_TokenList, maybe_placeholders=True)
    return regex, frozenset(basic.lexer_conf.ignore), keywords, parser


def tokenize(text: str) -> tuple[list[tuple[str, int, int]], int | None]:
    """The tokens, and where a character no terminal matches stops them (a syntax error), if one does."""
    regex, ignore, keywords, _ = _machinery()
    out: list[tuple[str, int, int]] = []
    pos = 0
    # anchored at each token's start: `finditer` tried again from every place in a run of blanks that no
    # token follows (9,900 trailing spaces: 10 s, quadratic; an untrusted-input red team's find)
    while (m := regex.match(text, pos)) is not None and m.end() > pos:
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        if kind in ignore:
            continue
        start = m.start(kind)
        if kind == "NAME":
            kind = keywords.get(text[start:pos], kind)
        elif kind == "SEP" and out and out[-1][0] == "SEP":  # separated by comment lines only
            out[-1] = (kind, out[-1][1], pos)
            continue
        out.append((kind, start, pos))
    if text[pos:].strip(" \t\r"):
        return out, pos
    return out, None


def statements_of(tokens: list[tuple[str, int, int]], text: str) -> Iterator[list[tuple[str, int, int]]]:
    """Split at separators; a newline inside brackets continues the statement."""
    depth, current = 0, []
    for tok in tokens:
        kind = tok[0]
        if kind == "SEP":
            if depth == 0:
                if current:
                    yield current
                current = []
                continue
            if ";" in text[tok[1] : tok[2]]:
                raise Fallback
            continue
        depth += 1 if kind in ("LPAR", "LSQB") else -1 if kind in ("RPAR", "RSQB") else 0
        current.append(tok)
    if current:
        yield current


# --- templates -------------------------------------------------------------------------------
# An instruction builds one node from token indices and earlier nodes (refs into `built`):
#   ("var"|"num", tok, pos) ("op", name, pos, a, b) ("neg", pos, a) ("T", pos, a)
#   ("index", pos, a, [(neg, tok)...]) ("call", tok, [refs]) ("stack", pos, [refs])

class Template:
    __slots__ = ("kind", "code", "root", "name", "items", "depth", "expr_start")

    def __init__(self) -> None:
        self.code: list[tuple[Any, ...]] = []
        self.root = -1
        self.name = 0
        self.items: list[tuple[int, list[int] | None]] = []  # name, dims (None: `x[]`)
        self.depth = 0
        self.expr_start = 2
        self.kind = ""


def _first(node: Any) -> int:
    return node.start_pos if isinstance(node, Token) else node._first  # type: ignore[no-any-return]


class _TooDeep(Exception):
    def __init__(self, token: int) -> None:
        self.token = token


def _compile_expr(root: Any, t: Template, limits: Limits) -> int:
    """Tree -> instructions, iteratively; returns the root's ref."""
    if isinstance(root, Token):
        t.code.append(("var" if root.type == "NAME" else "num", root.start_pos, root.start_pos))
        return len(t.code) - 1
    ref: dict[int, int] = {}
    stack: list[tuple[Tree, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, expanded = stack.pop()
        if not expanded:
            t.depth = max(t.depth, depth)
            if depth > limits.max_depth:
                leaf: Any = node
                while not isinstance(leaf, Token):
                    leaf = next(c for c in leaf.children if c is not None)
                raise _TooDeep(leaf.start_pos)
            stack.append((node, depth, True))
            inner = depth + (node.data in _NEST)
            stack.extend((c, inner, False) for c in node.children if isinstance(c, Tree))
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
    parser = _machinery()[3]
    toks = [Token(kind, text[s:e], start_pos=i) for i, (kind, s, e) in enumerate(tokens)]
    try:
        tree = parser.parse(toks)
    except Exception:  # noqa: BLE001 - any parse failure: the full parser reports it
        raise Fallback from None
    stmts = [c for c in tree.children if isinstance(c, Tree)]
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


def parse_fast(text: str, limits: Limits) -> list[Statement]:
    """Statements built from cached templates; raises Fallback for the full parser."""
    tokens, bad = tokenize(text)
    lines = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(offset: int) -> tuple[int, int]:
        k = bisect.bisect_right(lines, offset)
        return k, offset - lines[k - 1] + 1

    out: list[Statement] = []
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
    return out


def _statement(toks: list[tuple[str, int, int]], text: str, limits: Limits,
               where: Callable[[int], tuple[int, int]], out: list[Statement]) -> None:
    """One statement from its template, appended to `out`."""
    if len(toks) > limits.max_statement_tokens:
        raise GraphlangError("limit", f"a statement of {len(toks):,} tokens; the limit is "
                             f"{limits.max_statement_tokens:,}", *where(toks[0][1]),
                             "split it into several statements")
    key = tuple(tok[0] for tok in toks)
    t = _CACHE.get(key)
    if t is None:
        try:
            t = template_of(toks, text, limits)
        except _TooDeep as deep:
            raise GraphlangError("limit", f"the expression nests deeper than {limits.max_depth} "
                                 "levels", *where(toks[deep.token][1]),
                                 "name intermediate quantities instead of nesting") from None
        global _CACHED_TOKENS  # bounded in tokens, not entries (a 4,000-token template holds ~1.4 MB)
        if len(_CACHE) >= 20_000 or _CACHED_TOKENS + len(key) > 200_000:
            _CACHE.clear()  # a long-lived process (a grader) keeps what it parses now
            _CACHED_TOKENS = 0
        _CACHE[key], _CACHED_TOKENS = t, _CACHED_TOKENS + len(key)
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
