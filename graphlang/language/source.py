"""Reading a program's text: a regular file or standard input, bounded, UTF-8 (a BOM allowed)."""

from __future__ import annotations

import itertools
import stat
import sys
from pathlib import Path

from graphlang.errors import GraphlangError
from graphlang.limits import Limits

STDIN_READ: list[bool] = []  # this command's program comes from standard input (set by the CLI's Session)
STDIN_NAMES = ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")  # the names of standard input


def read_bytes(path: str | Path, limits: Limits) -> tuple[bytes, str]:
    """At most `limits.max_source_chars` + 1 bytes of the file at `path` (`-`: standard input), and
    the name to show for it."""
    p = Path(path)
    try:
        if str(path) == "-":  # SPEC §3: the program from standard input
            if sys.stdin is None:  # (`<&-`)
                raise GraphlangError("io", "standard input is closed: there is no program to read",
                                     hint="pipe the program in (- < program.cg), or give its path")
            raw = getattr(sys.stdin, "buffer", sys.stdin).read(limits.max_source_chars + 1)  # text in a notebook
            return (raw.encode() if isinstance(raw, str) else bytes(raw)), "<stdin>"
        if p.is_dir():
            there = sorted(str(q) for q in itertools.islice(p.glob("*.cg"), 100))[:4]
            raise GraphlangError("io", f"{path} is a directory, not a .cg file",
                                 hint="the programs there: " + ", ".join(there) if there else
                                 "give the path of a .cg file")
        if not p.exists():
            raise GraphlangError("io", f"{path}: no such file", hint="check the path")
        if not p.is_file() and not substituted(p):
            raise GraphlangError("io", f"{path} is not a regular file",
                                 hint="give the path of a .cg file (a device or a pipe is not read)")
        with p.open("rb") as fh:
            return fh.read(limits.max_source_chars + 1), str(path)
    except OSError as err:
        raise GraphlangError("io", f"cannot read {path}: {err.strerror}",
                             hint="check the path and its permissions") from None


def substituted(p: Path) -> bool:
    """The shell's process substitution, `<(cat prog.cg)`: a pipe named /dev/fd/N, read as a file
    (a FIFO planted anywhere else is refused: with no writer it would block)."""
    try:
        return str(p).startswith(("/dev/fd/", "/proc/self/fd/", "/dev/stdin")) and stat.S_ISFIFO(p.stat().st_mode)
    except OSError:
        return False


def stdin_free(what: str) -> None:
    """A usage error where this command's program comes from standard input (`what` would read it too)."""
    if STDIN_READ:
        raise GraphlangError("usage", f"{what}: standard input holds the program (PROGRAM is -)",
                             hint="give the values with --at, or in a file")


def stdin_bytes(limit: int, what: str) -> bytes:
    """At most `limit` bytes of standard input for `what` (`--at-file -`): not a terminal (it would wait
    for typing), not the program's."""
    stdin_free(what)
    if sys.stdin is None or sys.stdin.isatty():
        raise GraphlangError("usage", f"{what} reads standard input, and it is " +
                             ("closed" if sys.stdin is None else "a terminal"),
                             hint=f"pipe the values in: echo '{{\"x\": 2}}' | graphlang run p.cg {what}")
    raw = getattr(sys.stdin, "buffer", sys.stdin).read(limit)
    return raw.encode() if isinstance(raw, str) else bytes(raw)


def decode_source(data: bytes, limits: Limits, name: str = "the file") -> str:
    """A program's bytes as text: within the size limit, UTF-8, a leading BOM dropped (Windows
    editors write one); an error located at the first byte that is not UTF-8."""
    if len(data) > limits.max_source_chars:
        raise GraphlangError("limit", f"{name} is larger than {limits.max_source_chars:,} bytes")
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


def read_source(path: str | Path, limits: Limits) -> str:
    """The program text at `path` (`-`: standard input), checked for size and encoding."""
    data, name = read_bytes(path, limits)
    try:
        return decode_source(data, limits, name)
    except GraphlangError as err:
        if err.kind == "syntax":  # (not UTF-8: the line shown with its bad byte as �, under the caret)
            err.origin = (name, data.decode("utf-8", "replace"))
        raise


# What a character pasted from slides or a word processor is written as in a program
LOOKALIKES = {**dict.fromkeys("−–—‐‑", "write - (the ASCII minus)"), **dict.fromkeys("×·⋅∙", "write * for a product"),
               "÷": "write / for a division", "²": "write x^2, not x²", "³": "write x^3, not x³",
               **dict.fromkeys("“”„‘’′", "quotes are not part of the language: delete them"),
               "σ": "write sigmoid(u) for σ(u); a name is ASCII (sigma)", "π": "write pi", "√": "write sqrt(x)",
               "∑": "write sum(v)",
               "ᵀ": "write W.T for the transpose", "\u00a0": "a no-break space: retype it as a space"}
