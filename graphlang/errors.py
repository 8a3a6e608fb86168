"""The one exception users see: every failure is located, typed and explained."""

from __future__ import annotations

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
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        return f"{where}{self.kind} error: {self.message}"

    def __repr__(self) -> str:
        return f"GraphlangError({self.kind!r}, {self.message!r}, line={self.line}, column={self.column})"

    def _render_traceback_(self) -> list[str]:
        """IPython: show the located message, not a Python traceback."""
        from graphlang.present.notebook import error_lines
        return error_lines(self)

    def _repr_html_(self) -> str:
        import html
        return "<pre>" + html.escape("\n".join(self._render_traceback_())) + "</pre>"

    def to_json(self) -> dict[str, object]:
        """The `{"error": ...}` payload of SPEC §3."""
        return {"kind": self.kind, "message": self.message, "line": self.line, "column": self.column}

    def at(self, line: int | None, column: int | None) -> GraphlangError:
        """Fill in a location if the raiser did not know one."""
        if self.line is None and line is not None:
            self.line, self.column = line, column
        return self
