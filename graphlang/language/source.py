"""Reading a program's text: a regular file or standard input, bounded, UTF-8 (a BOM allowed)."""

from __future__ import annotations

import sys
from pathlib import Path

from graphlang.errors import GraphlangError
from graphlang.limits import Limits


def read_source(path: str | Path, limits: Limits) -> str:
    """The program text at `path` (`-`: standard input), checked for size and encoding."""
    p = Path(path)
    try:
        if str(path) == "-":  # SPEC §3: the program from standard input
            raw = getattr(sys.stdin, "buffer", sys.stdin).read(limits.max_source_chars + 1)  # text in a notebook
            data = raw.encode() if isinstance(raw, str) else bytes(raw)
            path = "<stdin>"
        elif p.is_dir():
            raise GraphlangError("io", f"{path} is a directory, not a .cg file")
        elif not p.exists():
            raise GraphlangError("io", f"{path}: no such file", hint="check the path")
        elif not p.is_file():
            raise GraphlangError("io", f"{path} is not a regular file")
        else:
            with p.open("rb") as fh:
                data = fh.read(limits.max_source_chars + 1)
    except OSError as err:
        raise GraphlangError("io", f"cannot read {path}: {err.strerror}") from None
    if len(data) > limits.max_source_chars:
        raise GraphlangError("limit", f"{path} is larger than {limits.max_source_chars:,} bytes")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        text = data[: err.start].decode("utf-8", "replace")
        line = text.count("\n") + 1
        column = len(text) - (text.rfind("\n") + 1) + 1
        raise GraphlangError("syntax", "the file is not valid UTF-8 text", line, column,
                             "save the file as plain UTF-8") from None
