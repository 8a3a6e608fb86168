"""`graphlang repl`: build a graph one statement at a time.

`ReplSession` holds the state and answers each input with renderables (testable without a
terminal); `main` runs it on prompt_toolkit in a terminal, or on plain lines from a pipe.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from graphlang.engines.incremental import Values
from graphlang.errors import GraphlangError
from graphlang.language.atvalues import parse_at
from graphlang.language.incremental import Names, StatementReader, bounded_lines
from graphlang.language.parser import parse_statements
from graphlang.language.resolve import Checked
from graphlang.limits import Limits
from graphlang.numbers import py
from graphlang.present import tables as render
from graphlang.program import Program, parse, read_source

MAX_PENDING_LINES = 10_000  # one statement over more lines than this is an unclosed bracket

COMMANDS = {
    ":at": "set input values: :at x=2 z=3",
    ":run": "forward pass, adjoints and gradient",
    ":grad": "the gradient by a method: :grad forward (reverse, forward, fd, symbolic)",
    ":explain": "the chain rule step by step: :explain [node]",
    ":diff": "symbolic derivatives: :diff [x]",
    ":graph": "the computation graph",
    ":load": "replace the program with a file: :load prog.cg",
    ":save": "write the program to a file: :save prog.cg",
    ":undo": "remove the last statement",
    ":reset": "start again (no statements, no values)",
    ":help": "this list",
    ":quit": "leave (also Ctrl-D)",
}


def is_complete(text: str) -> bool:
    """False while brackets are open or the statement ends mid-expression (keep reading)."""
    if text.strip().startswith(":") or not text.strip():
        return True
    depth = 0
    for ch in text:
        depth += ch in "(["
        depth -= ch in ")]"
    if depth > 0:
        return False
    try:
        parse_statements(text.rstrip())
    except GraphlangError as err:
        return not (err.kind == "syntax" and "ends in the middle" in err.message)
    return True


def join_continuations(text: str) -> str:
    """A line that ends mid-expression outside brackets continues on the next (joined by a space).

    Linear in the lines: the bracket depth is kept as lines come, and only the statement being
    read is parsed (at a line where its brackets are balanced)."""
    out: list[str] = []
    start = 0  # where the statement being read begins in `out`
    depth = 0
    for line in text.split("\n"):
        if out and depth == 0 and not is_complete("\n".join(out[start:])):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            if depth == 0:
                start = len(out)
            out.append(line)
        depth += line.count("(") + line.count("[") - line.count(")") - line.count("]")
    return "\n".join(out)


class ReplSession:
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
        text = join_continuations(text.strip())
        if not text or text.startswith("#"):
            return []
        try:
            self._sync()
            if text.startswith(":"):
                return self._command(text)
            return self._statement(text)
        except GraphlangError as err:
            if err.hint:
                err.hint = err.hint.replace("--at ", ":at ")  # in the REPL, values come from :at
            return [render.error_text(err, "<repl>", self._excerpt(err, text))]

    def _excerpt(self, err: GraphlangError, text: str) -> str:
        """The line an error points to, on that line of an otherwise empty text (the session's
        source and `text` after it, without joining them)."""
        if err.line is None or err.line < 1:
            return ""
        k = err.line - 1
        extra = text.split("\n") + [""]
        if k < len(self._lines):
            line = self._lines[k]
        elif k - len(self._lines) < len(extra):
            line = extra[k - len(self._lines)]
        else:
            return ""  # past the end: no line to show
        return "\n" * k + line + "\n"

    def _statement(self, text: str) -> list[Any]:
        if self._names.chars + len(text) + 1 > self.limits.max_source_chars:
            parse(self.source + text + "\n", limits=self.limits)  # the whole session's limit error
        names, statements, checked = self._names.add(text, self.limits)
        if names.near_limits(self.limits):
            parse(self.source + text + "\n", limits=self.limits)  # the exact limit error, if any
        self.chunks.append(text)
        self._lines.extend(text.split("\n"))
        self._names = names
        self._synced = self._state()
        new = [st.name for st in statements if st.kind == "assign"]
        if not new:  # declarations only: the values so far stand
            return []
        if not (self.at and all(n in self.at for n in names.inputs)):
            self._values.known = None
            return []
        try:
            vals = self._new_values(checked)
        except GraphlangError as err:
            self._values.known = None
            return [render.error_text(err, "<repl>", self._excerpt(err, text))]
        return [Text("  ".join(f"{n} = {render.tensor(py(vals[n]))}" for n in new))]

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
        arrays, shapes = prog.bind(self.at)
        return self._values.whole(prog.graph, arrays, shapes, self.at)

    def _need(self) -> Program:
        prog = self.program()
        if prog is None:
            raise GraphlangError("empty", "no statements yet", hint="type one, e.g. a = x * z")
        return prog

    def _command(self, text: str) -> list[Any]:
        cmd, _, rest = text.partition(" ")
        rest = rest.strip()
        if cmd in (":quit", ":q", ":exit"):
            self.done = True
            return []
        if cmd == ":help":
            return [Text("\n".join(f"{c:9} {h}" for c, h in COMMANDS.items())
                         + "\nanything else is a statement: name = expression")]
        if cmd == ":at":
            new = parse_at([p for p in rest.replace(",", " ").split()])
            self.at = {**self.at, **new}
            return [Text("at " + ", ".join(f"{k}={render.tensor(v)}" for k, v in self.at.items()))]
        if cmd == ":undo":
            if not self.chunks:
                raise GraphlangError("usage", "nothing to undo")
            gone = self.chunks.pop()
            return [Text(f"removed: {gone}")]
        if cmd == ":reset":
            self.chunks, self.at = [], {}
            return [Text("reset")]
        if cmd == ":save":
            if not rest:
                raise GraphlangError("usage", ":save needs a file name")
            Path(rest).write_text(self.source, encoding="utf-8")
            return [Text(f"saved {len(self.chunks)} statement(s) to {rest}")]
        if cmd == ":load":
            text = read_source(rest, Limits())
            parse(text)  # must be a valid program
            self.chunks = [text.rstrip("\n")]
            return [Text(f"loaded {rest}")]
        prog = self._need()
        if cmd == ":run":
            return [render.result_tables(prog, prog.evaluate(self.at))]
        if cmd == ":grad":
            method = rest or "reverse"
            return [render.result_tables(prog, prog.evaluate(self.at, method=method))]
        if cmd == ":explain":
            from graphlang.present.explain import as_text, explain
            return [Text(as_text(explain(prog, self.at, rest or None)))]
        if cmd == ":diff":
            from graphlang.symbolic import derivative as symbolic
            from graphlang.symbolic.printing import to_text
            shapes = prog.bind(self.at)[1] if self.at else prog.graph.shapes(
                tuple(prog.checked.declared.get(n) or () for n in prog.inputs))
            forms = symbolic.closed_forms(prog, shapes, [rest] if rest else None)
            return [Text("\n".join(f"d{prog.outputs[0]}/d{n} = {to_text(e)}" for n, e in forms.items()))]
        if cmd == ":graph":
            from graphlang.present.dot import terminal_view
            return [terminal_view(prog, self.at if self.at else None)]
        near = [c for c in COMMANDS if c.startswith(cmd[:3])]
        raise GraphlangError("usage", f"unknown command {cmd!r}",
                             hint=f"did you mean {near[0]}?" if near else "type :help")


def history_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "graphlang" / "repl_history"


def run_prompt(session: ReplSession, console: Console, input: Any = None, output: Any = None) -> None:
    """The interactive loop on prompt_toolkit (imported only here)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.lexers import PygmentsLexer

    from graphlang.present.lexer import CgLexer
    from graphlang.primitives.table import builtin_names

    class Names(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            word = document.get_word_before_cursor(WORD=True)
            try:
                prog = session.program()
                known = prog.names if prog else []
            except GraphlangError:
                known = []
            for cand in [*COMMANDS, *builtin_names(), "pi", "input", "param", "output", *known]:
                if cand.startswith(word) and word:
                    yield Completion(cand, start_position=-len(word))

    keys = KeyBindings()

    @keys.add("enter")
    def _(event: Any) -> None:
        buf = event.current_buffer
        if is_complete(buf.text):
            buf.validate_and_handle()
        else:
            buf.insert_text("\n")

    try:
        path = history_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        history: Any = FileHistory(str(path))
    except OSError:
        history = InMemoryHistory()
    prompt: Any = PromptSession(history=history, lexer=PygmentsLexer(CgLexer), completer=Names(),
                           multiline=True, key_bindings=keys, input=input, output=output,
                           prompt_continuation="...  ")
    while not session.done:
        try:
            text = prompt.prompt("cg> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        for shown in session.handle(text):
            console.print(shown)


def run_lines(session: ReplSession, console: Console, stream: Any) -> int:
    """Scripted use (`graphlang repl < session.txt`): plain lines, no prompt; exit 1 on any error."""
    failed = False
    limits = session.limits
    reader = StatementReader(is_complete, MAX_PENDING_LINES, limits.max_source_chars)

    def show(text: str | GraphlangError | None) -> None:
        nonlocal failed
        if text is None:
            return
        shown = [render.error_text(text, "<repl>", None)] if isinstance(text, GraphlangError) \
            else session.handle(text)
        for item in shown:
            failed |= isinstance(item, Text) and " error: " in item.plain
            console.print(item)

    for line in bounded_lines(stream, limits.max_line_chars):
        show(reader.feed(line) if line is not None else reader.cut(limits.max_line_chars))
        if session.done:
            break
    rest = reader.rest()
    if rest.strip() and not session.done:
        show(rest)
    return 1 if failed else 0


def main(path: str | None = None) -> int:
    console = Console(highlight=False)
    session = ReplSession()
    if path:
        for shown in session.handle(f":load {path}"):
            console.print(shown)
    if not sys.stdin.isatty():
        return run_lines(session, console, sys.stdin)
    console.print(Text("graphlang REPL: one statement per line (name = expression); :help for commands"))
    run_prompt(session, console)
    return 0
