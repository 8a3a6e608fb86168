"""The grammar file (`grammars/graphlang.lark`, the only syntax definition) and the Lark parser built from it."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from graphlang.files import write_with
from graphlang.language.larklazy import lark

if TYPE_CHECKING:
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


_OPTIONS = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": True}


def cache_dir() -> Path:
    """Where built parsers are kept: $GRAPHLANG_CACHE_DIR, else the per-user cache directory."""
    if os.environ.get("GRAPHLANG_CACHE_DIR"):
        return Path(os.environ["GRAPHLANG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "graphlang"


def _describe(value: Any) -> str:
    """An option's value for the cache key: classes and objects by their class's qualified name."""
    cls = value if isinstance(value, type) else type(value)
    if cls.__module__ == "builtins":
        return repr(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def _cache_file(text: str, options: dict[str, Any]) -> Path:
    """Keyed by the grammar's text, the options, Lark's and Python's versions: a change in any of them
    is a different file, never a stale parser."""
    opts = repr(sorted((k, _describe(v)) for k, v in options.items()))
    key = "\n".join((text, opts, lark.__version__, sys.version))
    return cache_dir() / f"lark-{hashlib.sha256(key.encode()).hexdigest()[:24]}.pickle"


def trusted(path: Path) -> bool:
    """Only a file of this user's, writable by nobody else, is read (unpickled, or its templates used)."""
    st = path.stat()
    return not hasattr(os, "getuid") or (st.st_uid == os.getuid() and not st.st_mode & 0o022)


def _load_cached(path: Path, postlex: type | None = None) -> Lark | None:
    try:
        if not trusted(path):
            return None
        with path.open("rb") as f:
            parser = lark.Lark.load(f)
        if not isinstance(parser, lark.Lark):
            return None
        if postlex is not None and not isinstance(parser.options.postlex, postlex):
            return None
        return parser
    except Exception:  # absent, unreadable, truncated or from another Lark: build instead
        return None


def may_write(path: Path) -> bool:
    """A cache file is written where the cache was named, or under a home that exists (HOME=/nonexistent:
    no home made)."""
    explicit = bool(os.environ.get("GRAPHLANG_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME"))
    return explicit or path.parent.parent.parent.is_dir()


def keep(path: Path, writer: Callable[[IO[bytes]], object]) -> None:
    """A cache file written where `may_write` allows, privately and atomically (a reader sees the
    whole file or none); a read-only or full disk keeps nothing, and says nothing."""
    try:
        if may_write(path):
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_with(str(path), writer, private=True)
    except Exception:  # noqa: BLE001 - what was built is used, just not kept
        pass


def _save(parser: Lark, path: Path) -> None:
    keep(path, parser.save)  # (a post-lexer or lexer class is pickled by reference to its class)


def cached_lark(**options: Any) -> Lark:
    """An LALR parser of the grammar file with these options: built once per grammar, options and
    Lark version, kept in the per-user cache (Lark.save / Lark.load), not rebuilt in every process.
    (Use `.lexer_conf.ignore`, not `.ignore_tokens`, which a loaded parser lacks.)"""
    text = grammar_path().read_text(encoding="utf-8")
    path = _cache_file(text, options)
    postlex = options.get("postlex")
    parser = _load_cached(path, type(postlex) if postlex is not None else None)
    if parser is None:
        parser = lark.Lark(text, **options)
        _save(parser, path)
    return parser


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser built from the grammar file (from the per-user cache after the first time)."""
    return cached_lark(postlex=_BracketNewlines(), **_OPTIONS)
