"""What every command shares: its options (Typer's declarations); the session, exit codes and the
typer-free helpers live in `session.py` (re-exported here), so `run` and `grad` can start without Typer."""

from __future__ import annotations

from typing import Annotated

import typer

from graphlang.cli.session import ExitCode, Session, guarded, make_limits, one_stdin, values

__all__ = ["AtFileOpt", "AtOpt", "ExitCode", "JsonOpt", "LimitOpt", "ProgramArg", "Session", "StrictOpt",
           "guarded", "make_limits", "one_stdin", "values"]

AtOpt = Annotated[list[str], typer.Option("--at", help="input values: x=2,z=3 or W=[[1,0],[0,1]]; repeatable")]

AtFileOpt = Annotated[str | None, typer.Option("--at-file",
                                              help="input values from a JSON object (- reads standard input)")]

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]

ProgramArg = Annotated[str, typer.Argument(help="the .cg program (- reads it from standard input)",
                                          metavar="PROGRAM.cg")]

StrictOpt = Annotated[bool, typer.Option("--strict", help="the checker's stricter limits")]

LimitOpt = Annotated[list[str], typer.Option("--limit", help="override a safety limit: max_depth=50 (repeatable)")]
