"""The REPL in a terminal (prompt_toolkit: history, completion, highlighting) or on plain lines
from a pipe."""

from __future__ import annotations

import codecs
import os
import select
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from graphlang.errors import GraphlangError
from graphlang.language.incremental import StatementReader, bounded_lines
from graphlang.language.suggest import told
from graphlang.present import tables as render
from graphlang.repl.reading import starts_statement
from graphlang.repl.session import COMMANDS, MAX_PENDING_LINES, ReplSession, is_complete


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
    from prompt_toolkit.search import accept_search

    from graphlang.present.lexer import CgLexer

    class Names(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            word = document.get_word_before_cursor(WORD=True)
            for cand in completions(session, word, document.text_before_cursor):
                yield Completion(cand, start_position=-len(word))

    keys = KeyBindings()

    @keys.add("enter")
    def _(event: Any) -> None:
        if event.app.layout.is_searching:  # Ctrl-R: Enter takes the line found, as readline does
            accept_search()
            return
        buf = event.current_buffer
        chosen = buf.complete_state.current_completion if buf.complete_state else None
        if chosen is not None:  # a completion picked with Tab: Enter takes it (IPython's way), not the line
            buf.apply_completion(chosen)
            return
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
    def toolbar() -> str:
        """What Enter does now: an unfinished statement (an open bracket) says how to get out of it."""
        from prompt_toolkit.application.current import get_app
        text = get_app().current_buffer.text
        if text.strip() and not is_complete(text):
            return " unfinished: close the brackets (or end without an operator) · Ctrl-C drops it"  # (< 80)
        return " :help lists the commands · Tab completes · Ctrl-D quits"

    prompt: Any = PromptSession(history=history, lexer=PygmentsLexer(CgLexer), completer=Names(),
                           multiline=True, key_bindings=keys, input=input, output=output,
                           prompt_continuation="...  ", bottom_toolbar=toolbar)
    # Ctrl-C stops a long command, not the session: the command line's handler ends the process at
    # once (exit 130), which lost everything typed (a REPL red team's :graph of 60 nodes)
    main = threading.current_thread() is threading.main_thread()  # (only its handler can be set)
    before = signal.signal(signal.SIGINT, signal.default_int_handler) if main else None
    try:
        _loop(session, console, prompt)
    finally:
        if main:
            signal.signal(signal.SIGINT, before)


def completions(session: ReplSession, word: str, before: str) -> list[str]:
    """What Tab offers for `word`: commands, the functions a student is told of (not the helpers
    derivative programs write: `expand`), `pi`, the keywords, the nodes and their adjoints (`g_a * 2`
    reads one): a REPL red team's find."""
    if not word:
        return []
    try:
        prog = session.program()
        known = prog.names if prog else []
    except GraphlangError:
        known = []
    modes = ["forward"] if before.startswith(":explain ") else []
    every = [*modes, *COMMANDS, *told(), "pi", "input", "param", "output", *known, *(f"g_{n}" for n in known)]
    return [c for c in every if c.startswith(word)]


def _loop(session: ReplSession, console: Console, prompt: Any) -> None:
    """Read, run, print until :quit or Ctrl-D; a command Ctrl-C stops is said and the session goes on."""
    garbled = 0  # the line editor's own failures in a row (a terminal that keeps sending them: stop)
    while not session.done:
        try:
            text = prompt.prompt("cg> ")
            garbled = 0
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        except Exception as err:  # noqa: BLE001 (prompt_toolkit read a pasted `ESC[31m` as a mouse event)
            garbled += 1
            console.print(Text(f"the line editor could not read what the terminal sent ({type(err).__name__}): "
                               "the line was dropped; type it again" if garbled < 3 else
                               "the line editor failed three times in a row: the session ends"))
            if garbled >= 3:
                break
            continue
        try:
            for piece in pasted(text, session):
                for shown in ([render.error_text(piece, "<repl>", None)] if isinstance(piece, GraphlangError)
                              else session.handle(piece)):
                    console.print(render.at_width(shown, console.width), soft_wrap=isinstance(shown, render.Whole))
        except KeyboardInterrupt:  # a long command stopped: the session goes on (it ended it, with all typed)
            console.print(Text("interrupted: the command was stopped; the session goes on"))


def pasted(text: str, session: ReplSession) -> list[str | GraphlangError]:
    """A pasted block that mixes statements and `:commands`, one input at a time as a piped session
    reads it (a REPL red team's paste of `a = x * z`, `:at x=2 z=3`, `:run` was one syntax error);
    any other block whole (a pasted program: one input, one :undo step)."""
    lines = text.split("\n")
    if len(lines) < 2 or not any(line.lstrip().startswith(":") for line in lines):
        return [text]
    reader = StatementReader(is_complete, MAX_PENDING_LINES, session.limits.max_source_chars, starts_statement)
    out = [got for line in lines for got in reader.feed_all(line + "\n") if got is not None]
    rest = reader.rest()
    return out + ([rest] if rest.strip() else [])


def _tee(session: ReplSession, console: Console) -> None:
    """Typed at a terminal, written to a pipe: a plain prompt. Ctrl-C drops the line typed, or stops a
    long command, never the session (the command line's handler ended it: a review's find)."""
    main = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGINT, signal.default_int_handler) if main else None
    wake_r, wake_w = os.pipe()  # Ctrl-C taken by numpy's BLAS thread left `input` waiting for Enter:
    os.set_blocking(wake_w, False)  # the handler's byte on this pipe wakes the read (a flaky test's find)
    old_fd = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False) if main else -1
    try:
        while not session.done:
            try:
                run_lines(session, console, _Prompted(wake_r), script=False)
                return
            except KeyboardInterrupt:  # (a statement half typed is dropped with it)
                console.print(Text("interrupted: the command was stopped; the session goes on"))
    finally:
        if main:
            signal.set_wakeup_fd(old_fd)
            signal.signal(signal.SIGINT, before)
        os.close(wake_r)
        os.close(wake_w)


class _Prompted:
    """Lines typed at a terminal whose output is a pipe, after a plain prompt, at most `limit`
    characters at a time as a file's are (`bounded_lines`); Ctrl-C drops the line. Read with `select`
    on the terminal and the signal wake-up pipe, so that a Ctrl-C any thread receives ends the wait."""

    def __init__(self, wake: int) -> None:
        self.rest = ""
        self.wake = wake
        self.decode = codecs.getincrementaldecoder("utf-8")("replace").decode

    def readline(self, limit: int = -1) -> str:
        if not self.rest:
            try:
                self.rest = self._typed()
            except KeyboardInterrupt:
                sys.stdout.write("\n")
                return "\n"
        end = self.rest.find("\n") + 1 or len(self.rest)
        cut = end if limit < 0 else min(end, limit)
        line, self.rest = self.rest[:cut], self.rest[cut:]
        return line

    def _typed(self) -> str:
        """What was typed up to a newline (lines pasted at once: all of them; without a newline at the
        end of input; "" at the end)."""
        sys.stdout.write("cg> ")
        sys.stdout.flush()
        fd, text = sys.stdin.fileno(), ""
        while not text.endswith("\n"):  # (a read may end inside a later line: the rest comes next)
            ready, _, _ = select.select([fd, self.wake], [], [])  # (a signal's handler raises here)
            if self.wake in ready:
                os.read(self.wake, 512)  # the handler runs at the next instruction: KeyboardInterrupt
            if fd in ready:
                data = os.read(fd, 65536)
                text += self.decode(data, final=not data)
                if not data:
                    return text
        return text


def run_lines(session: ReplSession, console: Console, stream: Any, script: bool = True) -> int:
    """Scripted use (`graphlang repl < session.txt`): plain lines, no prompt; exit 1 on any error (and
    each error's line of the input said: `script`)."""
    failed = False
    limits = session.limits
    reader = StatementReader(is_complete, MAX_PENDING_LINES, limits.max_source_chars, starts_statement)

    def show(text: str | GraphlangError | None, end: int) -> None:
        nonlocal failed
        if text is None:
            return
        shown = [render.error_text(text, "<repl>", None)] if isinstance(text, GraphlangError) \
            else session.handle(text)
        for item in shown:
            error = isinstance(item, Text) and " error: " in item.plain
            failed |= error
            console.print(render.at_width(item, console.width), soft_wrap=isinstance(item, render.Whole))
            if error and script:  # (its <repl>:LINE is the program's line; a script's author looks for the input's)
                start = end - max(1, len(text.splitlines()) if isinstance(text, str) else 1) + 1  # (`b = sin(a⏎…`)
                console.print(Text(f"(at line {end} of the input)" if start == end else
                                   f"(at lines {start}–{end} of the input: one statement)"))

    k = 0
    for k, line in enumerate(bounded_lines(stream, limits.max_line_chars)):
        line = line.removeprefix("\ufeff") if k == 0 and line is not None else line  # (Notepad's byte-order mark)
        items = reader.feed_all(line) if line is not None else [reader.cut(limits.max_line_chars)]
        for i, got in enumerate(items):
            show(got, k + 1 if i == len(items) - 1 else k)  # (a statement a `:command` cut short ended above it)
        if session.done:
            break
    rest = reader.rest()
    if rest.strip() and not session.done:
        show(rest, k + 1)
    return 1 if failed else 0


def main(path: str | None = None) -> int:
    console = Console(highlight=False)
    session = ReplSession()
    loaded = True
    if path:
        for shown in session.handle(f":load {path}"):
            loaded &= not (isinstance(shown, Text) and " error: " in shown.plain)
            console.print(shown)
    if sys.stdin is None:  # (`<&-`): nothing to read, said as the commands say it
        sys.stderr.write("graphlang repl: standard input is closed: there is nothing to read\n")
        return 2
    if not sys.stdin.isatty():  # a script: a file that did not load is a failure too (it exited 0)
        return max(run_lines(session, console, sys.stdin), 0 if loaded else 1)
    if not sys.stdout.isatty():  # `graphlang repl | tee log`: plain prompts, no screen drawing in the log
        _tee(session, console)  # (prompt_toolkit's toolbar and redraws filled it: a red team)
        return 0
    console.print(Text("graphlang REPL: one statement per line (name = expression); :help for commands"))
    run_prompt(session, console)
    return 0
