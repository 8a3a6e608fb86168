"""The command line (`graphlang ...`): a thin front end over the library; commands are registered in
one table in `app.py`.

Layer: the top (with `repl` and `web`); imports anything below, heavy packages lazily for start-up time.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import signal
import sys
from typing import Any

INTERRUPTED = 130  # ExitCode.INTERRUPTED, here before anything heavy is imported
PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader closed the pipe
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)  # stdout cannot take what is written


def _interrupted(signum: int, frame: Any) -> None:
    # on a terminal, clear the line first: a progress bar may be on it, and the prompt must not be
    sys.stderr.write(("\r\x1b[K" if sys.stderr.isatty() else "") + "graphlang: interrupted\n")
    sys.stderr.flush()
    os._exit(INTERRUPTED)


def _escape(err: UnicodeError) -> tuple[str, int]:
    """A character the output's encoding lacks, as a JSON-style escape (`\\u2202`): still valid
    JSON inside a string, and readable in a table (the encoding raised: a traceback)."""
    assert isinstance(err, UnicodeEncodeError)
    units = err.object[err.start:err.end].encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(units[k:k + 2], 'big'):04x}" for k in range(0, len(units), 2)), err.end


class _Closed(io.TextIOBase):
    """A standard stream closed before the start (`>&-`): what is written goes nowhere, counted."""

    written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        return len(text)

    def writable(self) -> bool:
        return True


def _usable_streams() -> None:
    """A closed stdout or stderr (`>&-`) writes to nowhere (an output lost is reported at the end, as
    coreutils' "write error"); one that cannot encode every character (PYTHONIOENCODING=ascii, a C
    locale's) escapes what it cannot."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, _Closed())
    codecs.register_error("graphlang-escape", _escape)
    for stream in (sys.stdout, sys.stderr):
        encoding = codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="graphlang-escape")


def main(argv: list[str] | None = None) -> None:
    """Entry point: exit 0 / 1 (program error) / 2 (usage); Ctrl-C is one line and 130, from the
    first instant (the handler is installed before numpy, Lark and Typer are imported)."""
    signal.signal(signal.SIGINT, _interrupted)
    _usable_streams()
    try:
        try:
            from graphlang.cli.quick import dispatch

            if not dispatch(sys.argv[1:] if argv is None else list(argv)):  # run / grad, without Typer
                from graphlang.cli.app import run

                run(argv)
        except SystemExit as done:
            _lost_output(done.code)
            raise
        else:
            _lost_output(0)
        finally:
            sys.stdout.flush()  # here, not at exit: a failing write must reach the handlers below
    except BrokenPipeError:  # the reader went away (`| head`): the rest is not wanted, and no traceback
        _quiet_stdout()
        sys.exit(PIPE_CLOSED)
    except OSError as err:
        if err.errno not in _FULL:
            raise
        _quiet_stdout()  # (`> /dev/full`, a full disk or quota): one line, never a traceback
        sys.stderr.write(f"graphlang: cannot write the output: {err.strerror}\n")
        sys.exit(1)


def _lost_output(code: Any) -> None:
    """A command that succeeded but wrote its output to a closed stdout fails (exit 1), saying so."""
    if code in (0, None) and isinstance(sys.stdout, _Closed) and sys.stdout.written:
        sys.stderr.write("graphlang: cannot write the output: standard output is closed\n")
        sys.exit(1)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: Python flushes it at exit, which would fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def __getattr__(name: str) -> Any:
    if name == "app":  # the Typer application (tests and embedding), built on first use
        from graphlang.cli.app import app
        return app
    raise AttributeError(name)
