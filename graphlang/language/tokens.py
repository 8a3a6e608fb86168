"""The template parser's tokenizer: one regular expression made from the grammar's own terminals,
ordered as Lark's basic lexer tries them. Made by Lark once and kept with the templates
(`store.py`), so that a process whose statements' templates are kept never imports Lark."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphlang.language import store
from graphlang.language.grammar import cached_lark


class Fallback(Exception):
    """The fast path cannot handle this text; the full parser will (and report any error). `resume`:
    (offset, line, 1), a line start before which every statement parsed and no statement straddles:
    the full parser can first look at the rest only."""

    resume: tuple[int, int, int] | None = None


@lru_cache(maxsize=1)
def lexer() -> tuple[re.Pattern[str], frozenset[str], dict[str, str]]:
    """(the regular expression, the ignored terminals, keyword text -> terminal)."""
    kept = store.contents()["lexer"]
    try:
        keywords = {str(k): str(v) for k, v in kept["keywords"].items()}
        return re.compile(kept["regex"]), frozenset(kept["ignore"]), keywords
    except Exception:  # noqa: BLE001 - none kept (or not readable as one): Lark makes it
        made = _from_grammar()
        store.keep(lexer=made)
        return re.compile(made["regex"]), frozenset(made["ignore"]), made["keywords"]


def _from_grammar() -> dict[str, Any]:
    basic = cached_lark(parser="lalr", lexer="basic")
    # Lark's basic lexer tries terminals in this order; the first match wins.
    terms = sorted(basic.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                   -len(t.pattern.value), t.name))
    # Blanks between tokens are matched as an optional prefix of the next token (half the matches).
    blank = next(t for t in terms if t.name in basic.lexer_conf.ignore and re.fullmatch(t.pattern.to_regexp(), " "))
    alternatives = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terms if t is not blank)
    name_re = next(t for t in terms if t.name == "NAME").pattern.to_regexp()
    keywords = {t.pattern.value: t.name for t in terms
                if t.pattern.type == "str" and re.fullmatch(name_re, t.pattern.value)}
    return {"regex": f"(?:{blank.pattern.to_regexp()})?(?:{alternatives})",
            "ignore": sorted(basic.lexer_conf.ignore), "keywords": keywords}


def tokenize(text: str) -> tuple[list[tuple[str, int, int]], int | None]:
    """The tokens, and where a character no terminal matches stops them (a syntax error), if one does."""
    regex, ignore, keywords = lexer()
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
    depth, current = 0, list[tuple[str, int, int]]()
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
