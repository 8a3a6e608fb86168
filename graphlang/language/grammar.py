"""The grammar file (`grammars/graphlang.lark`, the only syntax definition) and the Lark parser built from it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark

GRAMMAR_FILE = "graphlang.lark"


def grammar_path() -> Path:
    """The shipped grammar: inside the wheel, else the source tree's top-level `grammars/`."""
    here = Path(__file__).resolve().parent.parent  # the graphlang package
    for candidate in (here / "grammars" / GRAMMAR_FILE, here.parent / "grammars" / GRAMMAR_FILE):
        if candidate.is_file():
            return candidate
    raise RuntimeError(f"graphlang is installed without its grammar ({GRAMMAR_FILE})")


class _BracketNewlines:
    """Post-lexer: a newline inside (...) or [...] continues the statement."""

    always_accept = ("SEP",)

    def process(self, stream):  # type: ignore[no-untyped-def]
        depth = 0
        for tok in stream:
            if tok.type in ("LPAR", "LSQB"):
                depth += 1
            elif tok.type in ("RPAR", "RSQB"):
                depth = max(0, depth - 1)
            elif tok.type == "SEP" and depth and ";" not in tok.value:
                continue
            yield tok


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser built from the grammar file (once per process)."""
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        postlex=_BracketNewlines(),
    )
