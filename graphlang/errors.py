"""The one exception users see: every failure is located, typed and explained."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, NamedTuple

# kind -> short description, shown in the language reference and `graphlang --help`.
KINDS: dict[str, str] = {
    "syntax": "the text is not a valid .cg program",
    "undefined": "a name is used before it is assigned, or an output is never defined",
    "redefined": "a name is assigned twice",
    "reserved": "a built-in function, `pi` or a declared input is assigned",
    "unknown-function": "a call names no built-in function",
    "arity": "a function gets the wrong number of arguments",
    "argument": "an argument that must be an integer literal is not",
    "empty": "the program has no statements",
    "shape": "tensor shapes do not fit together",
    "index": "an index is out of range",
    "domain": "a value is outside a function's domain, or overflows",
    "missing-input": "an input has no value",
    "unknown-input": "a value is given for a name that is not an input",
    "value": "an input value is malformed or not finite",
    "limit": "a program or value exceeds a safety limit",
    "usage": "the command line is malformed",
    "io": "a file cannot be read",
}


class GraphlangError(Exception):
    """A user-facing error: kind, message, 1-based line and column, and a hint."""

    # (file, text) the line and column are in, where not the file the command was given (an
    # assignment's reference program): the CLI shows that file's line and caret
    origin: tuple[str, str] | None = None
    missing: tuple[str, ...] = ()  # a missing-input error's inputs, all of them (its message names the first few)

    def __init__(
        self,
        kind: str,
        message: str,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint

    def __str__(self) -> str:
        where = "" if self.line is None else f"line {self.line}" + (
            f", column {self.column}" if self.column else "") + ": "
        return f"{where}{self.kind} error: {self.message}"

    def __repr__(self) -> str:
        return f"GraphlangError({self.kind!r}, {self.message!r}, line={self.line}, column={self.column})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its fields (a process pool's worker raising one broke the pool)."""
        return (self.__class__, (self.kind, self.message, self.line, self.column, self.hint), self.__dict__)

    def _render_traceback_(self) -> list[str]:
        """IPython: show the located message, not a Python traceback; the source line from the error,
        else from the Program whose method raised it (found in the traceback: display time only)."""
        source, path = getattr(self, "source", None), None
        tb = self.__traceback__
        while source is None and tb is not None:
            owner: Any = tb.tb_frame.f_locals.get("self")
            if isinstance(getattr(owner, "source", None), str) and hasattr(owner, "graph"):
                source, path = owner.source, getattr(owner, "path", None)
            tb = tb.tb_next
        return located(self, path or "<program>", source).text().rstrip("\n").split("\n")

    def _repr_html_(self) -> str:
        import html  # pre-wrap: a long message or source line wraps at the notebook's width
        return ('<pre style="font-family:monospace;white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%;'
                'background:#fff5f5;border-left:3px solid #c00;padding:0.4em 0.6em">'
                + html.escape("\n".join(self._render_traceback_())) + "</pre>")

    def to_json(self) -> dict[str, object]:
        """The `{"error": ...}` payload of SPEC §3."""
        return {"kind": self.kind, "message": self.message, "line": self.line, "column": self.column}

    def at(self, line: int | None, column: int | None) -> GraphlangError:
        """Fill in a location if the raiser did not know one."""
        if self.line is None and line is not None:
            self.line, self.column = line, column
        return self


# C0/C1 controls (ESC sequences, CSI U+009B) and the invisible format characters that reorder or
# hide text on a terminal or a web page (bidirectional overrides such as U+202E, zero-width marks).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def no_inputs() -> GraphlangError:
    """For a command that differentiates a program that has nothing to differentiate by."""
    return GraphlangError("usage", "the program has no inputs: there is nothing to differentiate",
                          hint="a name that is used but never assigned is an input, e.g. `y = x^2`; or declare "
                               "one: `input x`")


def clean(text: str) -> str:
    """Terminal control and invisible format characters, escaped: everything echoed back goes through here."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)


def clean_line(text: str) -> str:
    """`clean`, and a line break or tab escaped too: a name on one line (a file named "bob\nalice.cg
    18/18" made a row of its own in the batch table)."""
    return clean(text).replace("\n", "\\n").replace("\t", "\\t")


class Located(NamedTuple):
    """The pieces of a located error message; presenters style them, `text()` is the plain form."""

    where: str  # FILE:LINE:COL
    kind: str
    message: str
    source_line: str | None  # "  3 | a = ln(x)"
    caret: str | None  # spaces and "^" under the column
    hint: str | None

    def text(self) -> str:
        out = f"{self.where}: {self.kind} error: {self.message}\n"
        if self.source_line is not None:
            out += f"{self.source_line}\n{self.caret}\n"
        if self.hint:
            out += f"hint: {self.hint}\n"
        return out


def _width(text: str) -> int:
    """Terminal columns: a wide (CJK) character takes two, a combining mark none (comments may hold them)."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def located(err: GraphlangError, path: str | None, source: str | None, width: int | None = None) -> Located:
    """`FILE:LINE:COL`, the kind, the message, the source line with a caret, and the hint; a long source
    line shown as a window around the column, as wide as `width` allows (a terminal wraps a wider
    one, and the caret lands under the wrapped part: a REPL red team's find at 80 columns)."""
    where = clean(path) if path else "<input>" if err.line is not None else "graphlang"  # (a usage error: no file)
    if err.line is not None:
        where += f":{err.line}:{err.column or 1}"
    source_line = caret = None
    if source is not None and err.line is not None:
        lines = source.split("\n")
        if 0 < err.line <= len(lines):
            raw = lines[err.line - 1].rstrip("\r")
            # escapes widen what precedes the caret; tabs are expanded here, not by the terminal
            # (whose tab stops count the "  3 | " margin and leave the caret short)
            line = clean(raw).expandtabs(8)
            before = clean(raw[: max(1, err.column or 1) - 1]).expandtabs(8)
            span = 120 if width is None else max(20, width - len(str(err.line)) - 6)  # ("  3 | " before it)
            start = max(0, len(before) - (span + 1) // 2 + 1) if len(line) > span else 0
            line = line[start : start + span]
            source_line = f"  {err.line} | {line}"
            caret = " " * (len(str(err.line)) + 5 + _width(before[start:])) + "^"
    return Located(where, err.kind, clean(err.message), source_line, caret,
                   clean(err.hint) if err.hint else None)
