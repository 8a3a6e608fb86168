"""The tokenizer and the templates kept across processes (JSON in the per-user cache), so that a
program whose statements' token sequences were parsed before is built without Lark.

Keyed by the grammar's text, the source of the modules that make them (`tokens.py`, `templates.py`)
and Lark's version: a change in any of them is another file, never a stale template. Read only
from a file of this user's that nobody else can write; bounded in templates and tokens; anything
unreadable or malformed is ignored (Lark then builds what is needed, as on the first run)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphlang.language.grammar import cache_dir, grammar_path, may_write, trusted
from graphlang.language.larklazy import ORIGINS

FORMAT = 1
MAX_TEMPLATES = 2_000  # token sequences kept (the rule table's and a course's programs: a few hundred)
MAX_TOKENS = 50_000  # their tokens in all (a long statement's template holds one instruction a token)
_HERE = Path(__file__).resolve().parent


def path() -> Path:
    """The store's file: its name is the hash of everything its contents are made from."""
    return cache_dir() / f"templates-{_digest()}.json"


@lru_cache(maxsize=1)
def _digest() -> str:
    parts = [f"format {FORMAT}", grammar_path().read_text(encoding="utf-8")]
    parts += [(_HERE / m).read_text(encoding="utf-8") for m in ("tokens.py", "templates.py")]
    # Lark's version: its __init__, read without running it (or its file, when imported already)
    origin = ORIGINS.get("lark") or getattr(sys.modules.get("lark"), "__file__", None)
    parts.append(Path(origin).read_text(encoding="utf-8") if origin else "")
    return hashlib.sha256("\n\0".join(parts).encode()).hexdigest()[:24]


def contents() -> dict[str, Any]:
    """What the file holds: {"lexer": {...} or None, "templates": {token types: data}} (empty when
    absent, untrusted or malformed); read once per process and cache directory."""
    return _read(path())


@lru_cache(maxsize=4)
def _read(p: Path) -> dict[str, Any]:
    empty: dict[str, Any] = {"lexer": None, "templates": {}}
    try:
        if not trusted(p):
            return empty
        data = json.loads(p.read_text(encoding="utf-8"))
        kept = {tuple(k.split(" ")): v for k, v in data["templates"].items()}
        lexer = data["lexer"]
        if not isinstance(lexer, dict | None):
            return empty
        return {"lexer": lexer, "templates": kept}
    except Exception:  # absent, unreadable, truncated, another format: as if nothing were kept
        return empty


def keep(lexer: dict[str, Any] | None = None, templates: dict[tuple[str, ...], Any] | None = None) -> None:
    """Add to the file (read again, merged, written to a temporary file and renamed: a reader sees
    the whole file or none; two processes at once may lose each other's additions, never corrupt)."""
    try:
        p = path()
        seen = contents()  # (as this process read it: once full, no process reads it again to add)
        if not may_write(p) or (lexer is None and len(seen["templates"]) >= MAX_TEMPLATES):
            return
        current = _read.__wrapped__(p)  # (the file as it is now: another process may have added)
        merged = dict(current["templates"])
        tokens = sum(len(k) for k in merged)
        for k, v in (templates or {}).items():
            if k in merged or len(merged) >= MAX_TEMPLATES or tokens + len(k) > MAX_TOKENS:
                continue
            merged[k] = v
            tokens += len(k)
        data = {"lexer": lexer or current["lexer"], "templates": {" ".join(k): v for k, v in merged.items()}}
        if data["lexer"] == current["lexer"] and len(merged) == len(current["templates"]):
            return  # (nothing new: full, or kept already)
        p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".templates-", dir=p.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, separators=(",", ":"))
            os.replace(tmp, p)
        except BaseException:
            os.unlink(tmp)
            raise
    except Exception:  # a read-only or full disk: what was built is used, just not kept
        pass


_ARITY = {"var": 0, "num": 0, "op": 2, "neg": 1, "T": 1, "index": 1, "call": -1, "stack": -1}
_READS = {"var": ("NAME",), "num": ("NUMBER", "INT"), "op": ("PLUS", "MINUS", "MULOP", "POW"), "neg": ("MINUS",),
          "call": ("NAME",), "stack": ("LSQB",)}  # the kind of token an instruction's first index is


def fits(data: Any, key: tuple[str, ...]) -> bool:
    """Whether a kept template fits its token types `key`: every index in range and at the right kind
    of token, each name and number read once, each instruction but the root read once (a damaged
    file parses nothing wrong and raises nothing; no `assert`: `python -O` would skip it)."""
    try:
        kind, root, name, expr_start, depth, items, code = data
        toks = range(len(key))
        ok = kind in ("assign", "declare", "output") and type(depth) is int and name == 0
        read: list[int] = []  # the tokens the instructions read
        refs: list[int] = []  # the instructions they read
        for at, (op, tok, *rest) in enumerate(code):
            arity = _ARITY[op]
            mine = rest[-1] if arity < 0 else rest[len(rest) - arity:] if op != "index" else rest[:1]
            ok = ok and tok in toks and all(type(r) is int and 0 <= r < at for r in mine)
            ok = ok and (op not in _READS or key[tok] in _READS[op])
            ok = ok and (op not in ("var", "num", "op") or rest[0] == tok)  # (these hold their token twice)
            refs += mine
            read += [tok] if op in _READS else []
            if op == "index":
                ok = ok and all(type(neg) is bool and k in toks and key[k] == "INT" for neg, k in rest[1])
                read += [k for _, k in rest[1]]
        if kind == "assign":
            return ok and expr_start == 2 and items == [] and root == len(code) - 1 and \
                sorted(refs) == list(range(root)) and len(read) == len(set(read)) and \
                set(read) >= {i for i in range(2, len(key)) if key[i] in ("NAME", "NUMBER", "INT")}
        return ok and not code and all(i in toks and key[i] == "NAME" and (
            d is None or all(k in toks and key[k] == "INT" for k in d)) for i, d in items)
    except (KeyError, TypeError, ValueError):
        return False
