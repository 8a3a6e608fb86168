"""The tokenizer and the templates kept across processes (JSON in the per-user cache), so that a
program whose statements' token sequences were parsed before is built without Lark.

The file's name is a hash of everything its contents come from (the grammar, the source of the
modules that make and read them, Lark's version), read when this module is imported: another
version is another file, never a stale template. Its first line is a checksum of the rest (a file
damaged by accident is not read); only a file of this user's that nobody else can write is read;
bounded (when full it starts again with what the process that filled it made); anything
unreadable is ignored, and Lark builds what is needed, as on the first run. Without the sources
(an install of .pyc files only) nothing is kept."""

from __future__ import annotations

import hashlib
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphlang.language.grammar import cache_dir, grammar_path, trusted
from graphlang.language.grammar import keep as keep_file  # (privately, atomically, where allowed)
from graphlang.language.larklazy import ORIGINS

FORMAT = 2
MAX_TEMPLATES = 1_000  # token sequences kept (the rule table's and a course's programs: a few hundred)
MAX_TOKENS = 30_000  # their tokens in all
LONGEST = 64  # tokens of a statement whose template is kept (a long one-off statement is worth little)
_HERE = Path(__file__).resolve().parent
_MADE_BY = ("tokens.py", "templates.py", "store.py", "replay.py", "grammar.py")


def _digest() -> str | None:
    try:
        parts = [f"format {FORMAT}", grammar_path().read_text(encoding="utf-8")]
        parts += [(_HERE / m).read_text(encoding="utf-8") for m in _MADE_BY]
        # Lark's version: its __init__, read without running it (or its file, when imported already)
        origin = ORIGINS.get("lark") or getattr(sys.modules.get("lark"), "__file__", None)
        parts.append(Path(origin).read_text(encoding="utf-8") if origin else "")
    except (OSError, RuntimeError, UnicodeDecodeError):  # (no sources, or no grammar: nothing kept)
        return None
    return hashlib.sha256("\n\0".join(parts).encode()).hexdigest()[:24]


_DIGEST = _digest()  # (at import: the code this process runs, not what is on disk when it first parses)


def path() -> Path | None:
    """The store's file (None: nothing is kept)."""
    return None if _DIGEST is None else cache_dir() / f"templates-{_DIGEST}.json"


def contents() -> dict[str, Any]:
    """What the file holds: {"lexer": {...} or None, "templates": {token types: data}} (empty when
    absent, untrusted or damaged); read once per process and cache directory."""
    return _read(path())


def _load(p: Path | None) -> dict[str, Any]:
    """The file as it is now (`contents` caches it)."""
    empty: dict[str, Any] = {"lexer": None, "templates": {}}
    try:
        if p is None or not trusted(p):
            return empty
        checksum, _, body = p.read_bytes().partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() != checksum:
            return empty
        data = json.loads(body)
        kept = {tuple(k.split(" ")): v for k, v in data["templates"].items()}
        return {"lexer": data["lexer"] if isinstance(data["lexer"], dict) else None, "templates": kept}
    except Exception:  # absent, unreadable, another format: as if nothing were kept
        return empty


_read = lru_cache(maxsize=4)(_load)


def keep(lexer: dict[str, Any] | None = None, templates: dict[tuple[str, ...], Any] | None = None) -> None:
    """Add to the file (read again, merged, written to a temporary file and renamed: a reader sees
    the whole file or none; two processes at once may lose each other's additions, never corrupt).
    A template given replaces the one kept (a damaged entry is mended); when the file would be past
    its bounds it holds this process's templates alone."""
    new = {k: v for k, v in (templates or {}).items() if len(k) <= LONGEST}
    p = path()
    if p is None or not (lexer or new):
        return
    current = _load(p)  # (another process may have added since this one read it)
    merged = {**current["templates"], **new}
    if len(merged) > MAX_TEMPLATES or sum(map(len, merged)) > MAX_TOKENS:
        merged = new  # (full: what this process made, not the first comers forever)
    lexer = lexer or current["lexer"]
    if lexer == current["lexer"] and all(current["templates"].get(k) == v for k, v in new.items()):
        return  # (nothing new)
    body = json.dumps({"lexer": lexer, "templates": {" ".join(k): v for k, v in merged.items()}},
                      separators=(",", ":")).encode()
    keep_file(p, lambda f: f.write(hashlib.sha256(body).hexdigest().encode() + b"\n" + body))


# A template's instructions (their format: templates.py, as JSON lists here) each build one node
# from token indices and earlier instructions' nodes ("refs"). The first index of var, num, op, neg,
# call and stack is a token of the kind `_READS` names; of T and index, the first token of what they
# apply to (a position only).
_READS = {"var": ("NAME",), "num": ("NUMBER", "INT"), "op": ("PLUS", "MINUS", "MULOP", "POW"), "neg": ("MINUS",),
          "call": ("NAME",), "stack": ("LSQB",)}


def _refs_and_reads(ins: list[Any]) -> tuple[list[int], list[int]]:
    """The instructions one reads and the tokens it reads (a ValueError when it is malformed)."""
    op, tok, *rest = ins
    if op in ("var", "num") and rest == [tok]:
        return [], [tok]
    if op == "op" and len(rest) == 3 and rest[0] == tok:
        return rest[1:], [tok]
    if op in ("neg", "T") and len(rest) == 1:
        return rest, [tok] if op == "neg" else []
    if op == "index" and len(rest) == 2 and all(type(neg) is bool for neg, _ in rest[1]):
        return rest[:1], [k for _, k in rest[1]]
    if op in ("call", "stack") and len(rest) == 1 and isinstance(rest[0], list):
        return rest[0], [tok] if op == "call" else []
    raise ValueError(op)


def fits(data: Any, key: tuple[str, ...]) -> bool:
    """Whether a kept template fits its token types `key`: every index in range and at a token of
    the right kind, each name and number read once, every instruction but the last (the root) read
    once by a later one. (Not proof against a hand-edited file, which the checksum and ownership
    keep out: its operands swapped, `x - z` would read as `z - x`.)"""
    try:
        kind, root, name, expr_start, depth, items, code = data
        if kind not in ("assign", "declare", "output") or type(depth) is not int or name != 0:
            return False
        toks = range(len(key))
        if kind != "assign":  # (names and their dimensions only)
            return not code and all(i in toks and key[i] == "NAME" and (d is None or all(
                k in toks and key[k] == "INT" for k in d)) for i, d in items)
        refs, reads = [], []
        for at, ins in enumerate(code):
            mine, read = _refs_and_reads(ins)
            if ins[1] not in toks or (ins[0] in _READS and key[ins[1]] not in _READS[ins[0]]):
                return False
            if not all(type(r) is int and 0 <= r < at for r in mine) or not all(k in toks for k in read):
                return False
            refs += mine
            reads += read
        names = {i for i in range(2, len(key)) if key[i] in ("NAME", "NUMBER", "INT")}
        return (expr_start == 2 and items == [] and root == len(code) - 1 and sorted(refs) == list(range(root))
                and len(reads) == len(set(reads)) and names <= set(reads)
                and all(key[k] == "INT" for ins in code if ins[0] == "index" for _, k in ins[3]))
    except (KeyError, TypeError, ValueError, IndexError):
        return False
