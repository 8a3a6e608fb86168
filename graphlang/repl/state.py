"""The REPL's commands that change what the session holds: its values (`:at`, `:at-file`) and its
statements (`:undo`, `:load`, `:reset`), a part of `ReplSession` of their own."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from graphlang.errors import GraphlangError
from graphlang.ir.bind import to_array
from graphlang.language.atvalues import parse_at, read_at_file, split_pairs
from graphlang.limits import Limits
from graphlang.present import tables as render
from graphlang.primitives.shapes import show
from graphlang.program import Program, parse, read_source
from graphlang.repl import commands as rc
from graphlang.repl import saving


class Changes:
    """`:at`, `:at-file`, `:undo`, `:load`, `:reset` over the session's state (`ReplSession`'s)."""

    chunks: list[str]
    at: dict[str, Any]
    parked: dict[str, Any]
    _undo: list[tuple[Any, ...]]
    _synced: tuple[int, str | None]
    _program: tuple[tuple[int, str | None], Program | None] | None

    def program(self) -> Program | None:
        raise NotImplementedError

    def _excerpt(self, err: GraphlangError, text: str) -> str:
        raise NotImplementedError

    def set_values(self, cmd: str, rest: str) -> list[Any]:
        """`:at x=2 z=3` (`y=` forgets y), `:at-file values.json`: checked, then set, or nothing set."""
        if cmd == ":at-file" and not rest:
            raise GraphlangError("usage", ":at-file needs a file name", hint="e.g. :at-file values.json")
        items = [] if cmd == ":at-file" else split_pairs(rest)
        unset = [i[:-1] for i in items if i.endswith("=") and i.count("=") == 1]  # `:at y=`: forget y
        given = read_at_file(rest) if cmd == ":at-file" else \
            parse_at([i for i in items if i[:-1] not in unset]) if len(unset) < len(items) else {}
        try:
            prog = self.program() if self.chunks else None
        except GraphlangError:  # (statements are checked as they come: not expected)
            prog = None
        inner = [k for k in given if prog is not None and k in prog.names and k not in prog.inputs]
        if inner:  # (nothing set: as a statement that raised, the line takes no effect)
            rest_given = [i for i in items if i.partition("=")[0].strip() not in inner]
            raise GraphlangError("usage", f"{inner[0]!r} is an intermediate quantity of the program, "
                                 "not an input: its value comes from its statement; nothing was set",
                                 hint=(f"type :at {' '.join(rest_given)} (" if rest_given else "give values to ")
                                 + "the inputs: " + ", ".join(prog.inputs) + (")" if rest_given else "")
                                 if prog else "")
        new = {k: to_array(k, v, Limits()) for k, v in given.items()}
        for k, v in new.items():  # a declared shape is checked now, not at the next :run
            want = prog.checked.declared.get(k) if prog is not None else None
            if want is not None and tuple(want) != v.shape:
                hint = f"give {k} {want[0]} numbers" if len(want) == 1 else \
                    f"give {k} a value of shape {show(want)}" if want else f"give {k} one number"
                raise GraphlangError("shape", f"{k} is declared with shape {show(want)}, the value "
                                     f"given has shape {show(v.shape)}; nothing was set", hint=hint)
        self._undo.append(("at", self.at))  # (:undo after :at took back the last statement, not the values)
        self.at = {**{k: v for k, v in self.at.items() if k not in unset}, **new}
        # one line: a matrix's rows joined (the table's layout puts each row on a line of its own)
        said = [Text("at " + (", ".join(f"{k}={render.one_line(v)}" for k, v in self.at.items()) or "(no values)"))]
        said += rc.not_inputs(prog, new)  # `:at X=2`: a typo, or a value for a statement to come
        try:  # the statements typed before (waiting, or computed from the old values) are seen now
            return said + rc.after_at(prog, self.at, {*new, *unset})
        except GraphlangError as err:  # the values are kept: the statement or the values change next
            return said + [render.error_text(rc.in_repl_words(err), "<repl>", self._excerpt(err, ""))]

    def undo(self) -> list[Any]:
        """Takes back the last change: a statement, an edit, a :load or an :at."""
        if not self.chunks and not self._undo:
            raise GraphlangError("usage", "nothing to undo")
        op = self._undo.pop() if self._undo else ("add",)
        if op[0] == "at":
            self.at = op[1]
            return [Text("undid :at: the values before it are back")]
        self._synced, self._program = (-1, None), None
        if op[0] == "replace":  # the values it dropped come back; those set since stay (they were lost)
            back, taken = [n for n in op[2] if n not in self.at], [c for c in self.chunks if c not in op[1]]
            put = "restored " + ("; ".join(c for c in op[1] if c not in self.chunks) or "the statement replaced")
            self.chunks, self.at = op[1], {**op[2], **self.at}  # (and what the undone line added, taken back)
            return [Text(put + (f" (took back {'; '.join(taken)})" if taken else "")
                         + (f" and the values of {', '.join(back)}" if back else ""))]
        if op[0] == "load":
            self.chunks, self.at = op[1], op[2]
            return [Text("undid :load: the program and values before it are back")]
        if op[0] == "split":  # put in between a line's statements: the line whole again
            self.chunks = op[1]
        gone = op[2] if op[0] == "split" else self.chunks.pop(op[1] if op[0] == "insert" else -1)
        return [Text("removed: " + gone.replace("\n", "\n         "))]  # ("insert", k): before a reader; a
        # pasted block's lines under its first (unindented, they read as values computed: a red team)

    def reset(self) -> list[Any]:
        self.chunks, self.at, self._undo, self.parked = [], {}, [], {}
        return [Text("reset")]

    def load(self, rest: str) -> list[Any]:
        """`:load prog.cg`: the file's program (and the values in its header) in place of the session's."""
        if not rest:
            raise GraphlangError("usage", ":load needs a file name", hint="e.g. :load prog.cg")
        try:
            text = read_source(rest, Limits())
        except ValueError as err:  # e.g. a NUL character in the name
            raise GraphlangError("io", f"cannot read {rest!r}: {err}") from None
        try:
            inputs = parse(text).inputs  # must be a valid program
        except GraphlangError as err:  # located in the file, with its line (not at "<repl>")
            return [render.error_text(err, rest, text)]
        saved = {k: to_array(k, v, Limits()) for k, v in saving.read_header(text, split_pairs).items()}
        kept = {k: v for k, v in self.at.items() if k in inputs}  # stale values go
        self._undo.append(("load", self.chunks, self.at))
        self.chunks, self.at = [text.rstrip("\n")], {**kept, **saved}
        dropped = [k for k in self._undo[-1][2] if k not in self.at]
        return [Text(f"loaded {rest}" + (f"; values {', '.join(saved)} from the file" if saved else "")
                     + (f"; dropped the values of {', '.join(dropped)} (not inputs now)" if dropped else ""))]
