"""What every command shares: its options, its session (error reporting), named exit codes."""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import IntEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from graphlang.errors import GraphlangError
from graphlang.language.atvalues import parse_at, read_at_file
from graphlang.limits import Limits
from graphlang.present import jsonout
from graphlang.present import tables as render
from graphlang.program import Program, parse, read_source


class ExitCode(IntEnum):
    """The exit statuses of every command (SPEC §3), by name."""

    OK = 0
    PROGRAM_ERROR = 1  # the program or its values: syntax, names, shapes, domain, limits
    USAGE = 2  # the command line itself (also an unreadable file)
    INTERRUPTED = 130  # Ctrl-C


AtOpt = Annotated[list[str], typer.Option("--at", help="input values: x=2,z=3 or W=[[1,0],[0,1]]; repeatable")]

AtFileOpt = Annotated[str | None, typer.Option("--at-file", help="input values from a JSON object")]

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]

ProgramArg = Annotated[str, typer.Argument(help="the .cg program (- reads it from standard input)",
                                          metavar="PROGRAM.cg")]

StrictOpt = Annotated[bool, typer.Option("--strict", help="the checker's stricter limits")]

LimitOpt = Annotated[list[str], typer.Option("--limit", help="override a safety limit: max_depth=50 (repeatable)")]

def make_limits(strict: bool, overrides: list[str]) -> Limits:
    """Defaults (or the checker's, --strict), then GRAPHLANG_LIMITS="name=n,...", then --limit."""
    limits = Limits.strict() if strict else Limits()
    changes: dict[str, int] = {}
    env = [x for x in os.environ.get("GRAPHLANG_LIMITS", "").replace(" ", "").split(",") if x]
    for item in env + overrides:
        name, _, value = item.partition("=")
        if not value.strip().isdigit():
            raise GraphlangError("usage", f"--limit {item!r}: write name=integer",
                                 hint="limits: " + ", ".join(Limits.__dataclass_fields__))
        changes[name.strip()] = int(value)
    try:
        return limits.with_(**changes)
    except ValueError as err:
        raise GraphlangError("usage", str(err), hint="limits: " + ", ".join(Limits.__dataclass_fields__)
                             ) from None

class Session:
    """What a command needs to report errors: the file, its text, JSON mode, the consoles."""

    def __init__(self, path: str | None, as_json: bool) -> None:
        self.path = path
        self.as_json = as_json
        self.source: str | None = None
        width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
        self.out = Console(width=width, highlight=False, soft_wrap=False)
        self.err = Console(stderr=True, width=width, highlight=False, soft_wrap=True)

    def load(self, strict: bool = False, overrides: list[str] | None = None) -> Program:
        limits = make_limits(strict, overrides or [])
        assert self.path is not None
        self.source = read_source(self.path, limits)
        if self.path == "-":
            self.path = "<stdin>"  # errors read <stdin>:LINE:COL
        return parse(self.source, limits=limits, path=self.path)

    def load_with_values(self, strict: bool, overrides: list[str], at: list[str], at_file: str | None
                         ) -> tuple[Program, dict[str, Any]]:
        """The program and its --at / --at-file values (a command's usual first step)."""
        prog = self.load(strict, overrides)
        return prog, values(at, at_file)

    def fail(self, err: GraphlangError) -> None:
        code = ExitCode.USAGE if err.kind in ("usage", "io") else ExitCode.PROGRAM_ERROR
        self.err.print(render.error_text(err, self.path, self.source), end="")
        if self.as_json:
            print(jsonout.dumps(jsonout.error(err)))
        raise typer.Exit(code)

def values(at: list[str], at_file: str | None) -> dict[str, Any]:
    vals = read_at_file(at_file) if at_file else {}
    for name, v in parse_at(at).items():
        if name in vals:
            raise GraphlangError("usage", f"{name!r} is given by both --at and --at-file")
        vals[name] = v
    return vals

def guarded(session: Session, body: Callable[[], None]) -> None:
    try:
        body()
    except GraphlangError as err:
        session.fail(err)
    except RecursionError:
        session.fail(GraphlangError("limit", "the input nests too deeply"))
    except MemoryError:
        session.fail(GraphlangError("limit", "out of memory: the program or its values are too large"))
