"""The LALR parser that reads tokens already made (the template parser's), imported only when a
statement's token sequence has no template kept: the one place that needs Lark on the fast path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lark import Lark, Token
from lark.lexer import Lexer

from graphlang.language.grammar import cached_lark


class TokenList(Lexer):
    """Lark lexer that replays tokens already made (`parse` receives the token list); a class of
    its own module, which Lark's cache pickles by reference."""

    def __init__(self, conf: Any) -> None:
        pass

    def lex(self, data: Any) -> Iterator[Token]:  # type: ignore[override]
        return iter(data)


def lalr() -> Lark:
    return cached_lark(parser="lalr", lexer=TokenList, maybe_placeholders=True)
