"""`graphlang repl`: build a graph one statement at a time.

`ReplSession` holds the state and answers each input with renderables (testable without a
terminal); `main` runs it on prompt_toolkit in a terminal, or on plain lines from a pipe.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from graphlang.errors import GraphlangError
from graphlang.files import write_text
from graphlang.ir.bind import to_array
from graphlang.language.atvalues import parse_at
from graphlang.language.parser import parse_statements
from graphlang.limits import Limits
from graphlang.present import tables as render
from graphlang.program import Program, parse, read_source

COMMANDS = {
    ":at": "set input values: :at x=2 z=3",
    ":run": "forward pass, adjoints and gradient",
    ":grad": "the gradient by a method: :grad forward (reverse, forward, fd, symbolic)",
    ":explain": "the chain rule step by step: :explain [node]",
    ":diff": "symbolic derivatives: :diff [x] (by inputs or nodes, e.g. :diff x, z)",
    ":graph": "the computation graph: :graph [partials] (with the local derivatives)",
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
    """A line that ends mid-expression outside brackets continues on the next (joined by a space)."""
    out = ""
    for line in text.split("\n"):
        if not out:
            out = line
        elif not is_complete(out) and out.count("(") + out.count("[") == out.count(")") + out.count("]"):
            out = out.rstrip() + " " + line.strip()
        else:
            out += "\n" + line
    return out


class ReplSession:
    """The growing program and its input values."""

    def __init__(self) -> None:
        self.chunks: list[str] = []  # accepted statements (or loaded files), as source text
        self.at: dict[str, Any] = {}
        self.done = False

    @property
    def source(self) -> str:
        return "\n".join(self.chunks) + ("\n" if self.chunks else "")

    def program(self) -> Program | None:
        return parse(self.source) if self.chunks and self._has_statements(self.source) else None

    @staticmethod
    def _has_statements(source: str) -> bool:
        return any(st.kind == "assign" for st in parse_statements(source))

    def handle(self, text: str) -> list[Any]:
        """One input (a statement or a `:command`) -> what to show. State changes only on success."""
        text = join_continuations(text.strip())
        if not text or text.startswith("#"):
            return []
        try:
            if text.startswith(":"):
                return self._command(text)
            return self._statement(text)
        except GraphlangError as err:
            if err.hint:
                err.hint = err.hint.replace("--at ", ":at ")  # in the REPL, values come from :at
            err.message = err.message.replace("--at ", ":at ")
            return [render.error_text(err, "<repl>", self.source + text + "\n")]
        except (RecursionError, MemoryError):
            return [render.error_text(GraphlangError("limit", "the input is too large or nests too deeply"),
                                      "<repl>", None)]
        except Exception as exc:  # noqa: BLE001 - a bug must not end the session (and lose the program)
            bug = GraphlangError("internal", f"{type(exc).__name__}: {exc}",
                                 hint="this is a bug in graphlang; please report it with the input")
            return [render.error_text(bug, "<repl>", None)]

    def _statement(self, text: str) -> list[Any]:
        candidate = self.source + text + "\n"
        try:
            prog = parse(candidate)
        except GraphlangError as err:
            if err.kind != "empty":
                raise
            self.chunks.append(text)  # declarations only, so far
            return []
        self.chunks.append(text)
        out: list[Any] = []
        new = [st.name for st in parse_statements(text) if st.kind == "assign"]
        if new and self.at and all(n in self.at for n in prog.inputs):
            try:
                vals = prog.forward(self.at)
                out.append(Text("  ".join(f"{n} = {render.tensor(vals[n])}" for n in new)))
            except GraphlangError as err:
                out.append(render.error_text(err, "<repl>", candidate))
        return out

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
        if cmd in _NO_ARGUMENTS and rest:
            raise GraphlangError("usage", f"{cmd} takes no arguments, got {rest!r}",
                                 hint=f"{cmd}: {COMMANDS[cmd]}")
        if cmd == ":help":
            return [Text("\n".join(f"{c:9} {h}" for c, h in COMMANDS.items())
                         + "\nanything else is a statement: name = expression")]
        if cmd == ":at":
            new = {k: to_array(k, v, Limits()) for k, v in parse_at(_at_items(rest)).items()}
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
                raise GraphlangError("usage", ":save needs a file name", hint="e.g. :save prog.cg")
            write_text(rest, self.source)
            return [Text(f"saved {len(self.chunks)} statement(s) to {rest}")]
        if cmd == ":load":
            if not rest:
                raise GraphlangError("usage", ":load needs a file name", hint="e.g. :load prog.cg")
            try:
                text = read_source(rest, Limits())
            except ValueError as err:  # e.g. a NUL character in the name
                raise GraphlangError("io", f"cannot read {rest!r}: {err}") from None
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
            node = _nodes(prog, rest, ":explain", at_most_one=True)
            return [Text(as_text(explain(prog, self.at, node[0] if node else None)))]
        if cmd == ":diff":
            from graphlang.symbolic import derivative as symbolic
            from graphlang.symbolic.printing import to_text
            wrt = _nodes(prog, rest, ":diff")
            shapes = prog.bind(self.at)[1] if self.at else prog.graph.shapes(
                tuple(prog.checked.declared.get(n) or () for n in prog.inputs))
            forms = symbolic.closed_forms(prog, shapes, wrt or None)
            return [Text("\n".join(f"d{prog.outputs[0]}/d{n} = {to_text(e)}" for n, e in forms.items()))]
        if cmd == ":graph":
            from graphlang.present.dot import terminal_view
            if rest not in ("", "partials"):
                raise GraphlangError("usage", f":graph {rest!r}: write :graph, or :graph partials",
                                     hint=f":graph: {COMMANDS[':graph']}")
            return [terminal_view(prog, self.at if self.at else None, partials=rest == "partials")]
        near = [c for c in COMMANDS if c.startswith(cmd[:3])]
        raise GraphlangError("usage", f"unknown command {cmd!r}",
                             hint=f"did you mean {near[0]}?" if near else "type :help")


_NO_ARGUMENTS = (":run", ":undo", ":reset", ":help")


def _at_items(rest: str) -> list[str]:
    """`:at x=2 z=3`, `x=2, W=[[1, 0], [0, 1]]`, `x = 2`: the pairs, split outside brackets only."""
    text = re.sub(r"\s*=\s*", "=", rest)
    items, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if depth <= 0 and (ch.isspace() or ch == ","):
            if cur:
                items.append(cur)
            cur = ""
        else:
            cur += ch
    return items + ([cur] if cur else [])


def _nodes(prog: Program, rest: str, cmd: str, at_most_one: bool = False) -> list[str]:
    """The node names a command was given (separated by commas or spaces), each checked."""
    names = [n for n in rest.replace(",", " ").split() if n]
    for n in names:
        if n not in prog.names:
            raise GraphlangError("usage", f"{cmd} {n!r}: the program has no node {n!r}",
                                 hint="nodes: " + ", ".join(prog.names))
    if at_most_one and len(names) > 1:
        raise GraphlangError("usage", f"{cmd} takes one node, got {len(names)}",
                             hint=f"{cmd}: {COMMANDS[cmd]}")
    return names


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
    pending = ""
    for raw in stream:
        pending += raw
        if not is_complete(pending):
            continue
        for shown in session.handle(pending):
            failed |= isinstance(shown, Text) and " error: " in shown.plain
            console.print(shown)
        pending = ""
        if session.done:
            break
    if pending.strip():
        for shown in session.handle(pending):
            failed |= isinstance(shown, Text) and " error: " in shown.plain
            console.print(shown)
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
