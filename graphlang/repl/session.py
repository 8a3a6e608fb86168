"""The REPL's session: each input answered with renderables (testable without a terminal)."""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

from graphlang.engines.incremental import Values
from graphlang.errors import GraphlangError
from graphlang.language.incremental import Names
from graphlang.language.resolve import Checked
from graphlang.limits import Limits
from graphlang.present import tables as render
from graphlang.program import Program, parse
from graphlang.repl import commands as rc
from graphlang.repl import edits, parked, saving
from graphlang.repl.reading import abandons, excerpt, is_complete, join_continuations
from graphlang.repl.reads import Reads
from graphlang.repl.state import Changes
from graphlang.repl.views import VIEWS, view

COMMANDS = rc.COMMANDS

__all__ = ["COMMANDS", "MAX_PENDING_LINES", "ReplSession", "is_complete", "join_continuations"]

MAX_PENDING_LINES = 10_000  # one statement over more lines than this is an unclosed bracket

class ReplSession(Changes):
    """The growing program and its input values.

    Adding a statement costs O(statement): only the new text is parsed and checked, against the
    names so far (`Names`); with values set, only its equations are evaluated, from the values so
    far. The whole program is built again only when a command needs it (or for the exact error
    near a session-wide limit, or while an earlier value fails)."""

    def __init__(self) -> None:
        self.chunks: list[str] = []  # accepted statements (or loaded files), as source text
        self.at: dict[str, Any] = {}
        self.done = False
        self.limits = Limits()
        self._synced: tuple[int, str | None] = (0, None)  # the chunks that `_names`, `_lines` describe
        self._names = Names()
        self._lines: list[str] = []  # the session's source lines
        self._program: tuple[tuple[int, str | None], Program | None] | None = None
        self._values = Values()  # every name's value at `at`, when known
        self._rejected = False  # the last input was a statement not added (an :undo then has nothing of it)
        self._deps: tuple[tuple[int, str | None], Reads] | None = ((0, None), Reads())
        self._undo: list[tuple[Any, ...]] = []  # ("add",) | ("insert", k) | ("split", chunks, text)
        # | ("replace"|"load", chunks, at) | ("at", at)
        self.parked: dict[str, Any] = {}  # values an edit dropped, given back when their name is read again

    @property
    def source(self) -> str:
        return "\n".join(self.chunks) + ("\n" if self.chunks else "")

    def _state(self) -> tuple[int, str | None]:
        return (len(self.chunks), self.chunks[-1] if self.chunks else None)

    def _sync(self) -> None:
        """After a command changed the chunks (:undo, :load, :reset): the names again, once."""
        now = self._state()
        if self._synced[0] == now[0] and self._synced[1] is now[1]:
            return
        self._names = Names().add("\n".join(self.chunks), self.limits)[0] if self.chunks else Names()
        self._lines = self.source.split("\n")[:-1]
        self._values.known = None
        self._deps = None  # (a replacement keeps the count and the last chunk: each name's inputs again)
        self._synced = now

    def program(self) -> Program | None:
        """The whole program (None before the first assignment), built when first needed."""
        self._sync()
        if self._program is None or self._program[0][0] != self._synced[0] \
                or self._program[0][1] is not self._synced[1]:
            prog = parse(self.source, limits=self.limits) if self._names.assigned else None
            self._program = (self._synced, prog)
        return self._program[1]

    def handle(self, text: str) -> list[Any]:
        """One input (a statement or a `:command`) -> what to show. State changes only on success."""
        lines = text.strip().split("\n")
        if abandons(lines):  # a command or a statement after an unfinished statement
            return self.handle("\n".join(lines[:-1])) + self.handle(lines[-1])
        text = join_continuations(text.strip()).strip()
        if not text:  # blank, or comments only
            return []
        rejected, self._rejected = self._rejected, False
        if rejected and re.sub(r"\s#.*", "", text) == ":undo":  # (it took back the :at before: a red team)
            return [Text("nothing to undo: that statement was not added (:undo again takes back the last change)")]
        try:
            self._sync()
            shown = self._command(re.sub(r"\s#.*", "", text)) if text.startswith(":") else self._statement(text)
            return shown + parked.unpark(self)
        except GraphlangError as err:
            if err.origin is not None:  # (a file :load read: named, with its own line)
                return [render.error_text(err, *err.origin)]
            return [render.error_text(rc.in_repl_words(err), "<repl>", self._excerpt(err, text))]
        except (RecursionError, MemoryError):
            return [render.error_text(GraphlangError("limit", "the input is too large or nests too deeply"),
                                      "<repl>", None)]
        except Exception as exc:  # noqa: BLE001 - a bug must not end the session (and lose the program)
            bug = GraphlangError("internal", f"{type(exc).__name__}: {exc}",
                                 hint="this is a bug in graphlang; please report it with the input")
            return [render.error_text(bug, "<repl>", None)]

    def _excerpt(self, err: GraphlangError, text: str) -> str:
        return excerpt(self._lines, err, text)

    def _statement(self, text: str) -> list[Any]:
        if rc.is_expression(text):  # `a`, `x * z + 1`: shown, not added
            return rc.evaluate(self.source, text, self.at, self.program())
        if self._names.chars + len(text) + 1 > self.limits.max_source_chars:
            parse(self.source + text + "\n", limits=self.limits)  # the whole session's limit error
        try:
            names, statements, checked = self._names.add(text, self.limits)
        except GraphlangError as err:
            try:
                if err.kind in ("undefined", "redefined") and edits.is_several(text):
                    return edits.several(self, text, err)  # `b = ln(x); e = a * b`: each as if typed alone
                if err.kind == "undefined" and not rc.is_value(text, self._names.inputs):
                    return edits.insert_earlier(self, text, err)  # `b = ln(x)` after `e = a / b`: before it
                if err.kind != "redefined":
                    raise rc.as_value(err, text, self._names.inputs, len(self._lines) + 1) from None  # :at x=5
                return edits.replace_statement(self, text, err)
            except GraphlangError as bad:
                raise rc.located_as_typed(bad, text, len(self._lines) + 1) from None
        if names.near_limits(self.limits):
            parse(self.source + text + "\n", limits=self.limits)  # the exact limit error, if any
        before, start = self._synced, len(self._lines) + 1  # (start: the new text's first line)
        self.chunks.append(text)
        self._undo.append(("add",))
        self._lines.extend(text.split("\n"))
        self._names = names
        self._synced = self._state()
        deps = self._deps  # each name's inputs, kept statement by statement (else rebuilt when needed)
        self._deps = (self._synced, deps[1].add(statements)) if deps and deps[0] == before else None
        new = [st.name for st in statements if st.kind == "assign"]
        notes = rc.new_inputs(names, statements)  # `ff` read, `f` assigned: a typo?
        if not new:  # declarations only: the values stand; an output is said (`output a` printed nothing)
            out = ", ".join(i.name for st in statements if st.kind == "output" for i in st.items)
            return [Text(f"the output is {out}: :run, :grad and :explain differentiate it")] * bool(out) + notes
        if not all(n in self.at for n in names.inputs):  # (a program of constants only: evaluated now)
            self._values.known = None
            read = self._deps[1] if self._deps else Reads().add(self._need().graph.statements)
            self._deps, lacking = (self._synced, read), ~read.mask(self.at)
            ready = [n for n in new if not read.get(n) & lacking]  # (the program built for those only)
            prog = self._need() if ready and len(ready) <= rc.FEW and names.chars <= rc.SMALL else None
            try:  # the new names that read no input lacking a value: shown now
                vals = rc.values_alone(prog, ready, self.at)
            except GraphlangError as err:
                return self._failed(err, text, start, ready)
            return [*rc.shown(vals), *rc.waiting(new, read, self.at), *notes]
        try:
            vals = self._new_values(checked)
        except GraphlangError as err:
            return self._failed(err, text, start, new)
        return [*rc.shown({n: vals[n] for n in new}), *notes]

    def _failed(self, err: GraphlangError, text: str, start: int, new: list[str]) -> list[Any]:
        """A new statement failing at the values so far is not added (as Python keeps no assignment
        that raised: one bad line no longer broke every later one); where an earlier line fails (its
        values changed since), it is added, with its own values where they can be computed."""
        self._values.known = None
        reads = False  # whether the new names' own evaluation met the earlier line's failure
        if err.line is not None and err.line < start and 0 < len(new) <= rc.FEW:
            try:  # the first failing line in program order need not be one the new names read
                vals = rc.values_alone(self.program(), new, self.at)
                return [Text(rc.shown(vals)[0].plain + f"    (line {err.line} fails at these values)")]
            except GraphlangError as own:  # its own failure (c = 1/z at z = 0), or the line it reads
                err, reads = own, True
        shown = [render.error_text(rc.in_repl_words(err), "<repl>", self._excerpt(err, text))]
        if err.line is None or err.line >= start:
            self._command(":undo")
            self._rejected = True
            shown.append(Text("(not added: correct it, or the values with :at, and type it again)"))
        else:
            shown.append(Text(f"(added: it reads line {err.line}, which fails at these values)" if reads
                              else f"(added; line {err.line} fails at these values)"))
        return shown

    def _new_values(self, checked: Checked | None) -> dict[str, Any]:
        """Every name's value: the new statements' from the values so far, else the whole program's."""
        names = self._names
        if checked is not None and self._values.usable(self.at):
            try:
                return self._values.extend(checked, list(names.inputs), names.shapes, names.positions(),
                                           self.at, self.limits)
            except GraphlangError:
                pass  # the whole program says which error, and where
        self._values.known = None
        prog = self.program()
        assert prog is not None
        arrays, shapes = prog.bind(rc.given(prog, self.at))
        return self._values.whole(prog.graph, arrays, shapes, self.at)

    def _need(self) -> Program:
        prog = self.program()
        if prog is None:
            raise GraphlangError("empty", "no statements yet", hint="type one, e.g. a = x * z")
        return prog

    def _command(self, text: str) -> list[Any]:
        cmd, _, rest = text.partition(" ")
        rest = rest.strip()
        if cmd in (":save", ":load", ":at-file") and len(rest) > 1 and rest[0] == rest[-1] in "'\"":
            rest = rest[1:-1]  # a file name quoted as a shell quotes it (`:save 'my hw.cg'`; :save prints it so)
        if cmd in (":quit", ":q", ":exit"):
            self.done = True
            return []
        topic = ":" + rest.lstrip(":") if cmd == ":help" and rest else ""
        if topic in rc.COMMANDS:  # `:help at`: that command's line
            return [Text(f"{topic:9} {rc.COMMANDS[topic]}")]
        if topic:
            near = [c for c in rc.COMMANDS if c.startswith(topic[:3])]
            raise GraphlangError("usage", f"no command {topic!r} to help with",
                                 hint=f"did you mean :help {near[0][1:]}?" if near else "type :help for every command")
        if cmd in _NO_ARGUMENTS and rest:
            raise GraphlangError("usage", f"{cmd} takes no arguments, got {rest!r}", hint=f"{cmd}: {rc.COMMANDS[cmd]}")
        if cmd == ":help":
            return [Text("\n".join(f"{c:9} {h}" for c, h in rc.COMMANDS.items())
                         + "\nanything else is a statement: name = expression")]
        if cmd in (":at", ":at-file"):
            return self.set_values(cmd, rest)
        if cmd == ":undo":
            return self.undo()
        if cmd == ":reset":
            return self.reset()
        if cmd == ":save":
            return saving.save(self, rest)
        if cmd == ":load":
            return self.load(rest)
        if cmd in VIEWS:
            return view(cmd, self._need(), self.at, rest)
        near = [c for c in rc.COMMANDS if c.startswith(cmd[:3])]
        raise GraphlangError("usage", f"unknown command {cmd!r}",
                             hint=f"did you mean {near[0]}?" if near else "type :help")


_NO_ARGUMENTS = (":run", ":undo", ":reset", ":help")
