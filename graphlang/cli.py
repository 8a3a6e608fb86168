"""The command line: thin wrappers that load, call the library, and present."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from . import render
from .atvalues import parse_at, read_at_file
from .errors import GraphlangError
from .limits import Limits
from .program import METHODS, Program, parse, read_source

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="graphlang: computation graphs with exact derivatives, four ways.")

AtOpt = Annotated[list[str], typer.Option("--at", help="input values: x=2,z=3 or W=[[1,0],[0,1]]; repeatable")]
AtFileOpt = Annotated[str | None, typer.Option("--at-file", help="input values from a JSON object")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
ProgramArg = Annotated[str, typer.Argument(help="the .cg program")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="the checker's stricter limits")]


class Session:
    """What a command needs to report errors: the file, its text, JSON mode, the consoles."""

    def __init__(self, path: str | None, as_json: bool) -> None:
        self.path = path
        self.as_json = as_json
        self.source: str | None = None
        width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
        self.out = Console(width=width, highlight=False, soft_wrap=False)
        self.err = Console(stderr=True, width=width, highlight=False, soft_wrap=True)

    def load(self, strict: bool = False) -> Program:
        limits = Limits.strict() if strict else Limits()
        assert self.path is not None
        self.source = read_source(self.path, limits)
        return parse(self.source, limits=limits, path=self.path)

    def fail(self, err: GraphlangError) -> None:
        code = 2 if err.kind in ("usage", "io") else 1
        self.err.print(render.error_text(err, self.path, self.source), end="")
        if self.as_json:
            print(render.dumps({"error": err.to_json()}))
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


@app.command()
def run(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
        as_json: JsonOpt = False, strict: StrictOpt = False) -> None:
    """Forward pass, backward pass (adjoints) and gradient, by reverse mode."""
    s = Session(program, as_json)

    def body() -> None:
        prog = s.load(strict)
        result = prog.evaluate(values(at, at_file))
        if as_json:
            print(render.dumps(result.to_json()))
        else:
            s.out.print(render.result_tables(prog, result))
    guarded(s, body)


@app.command()
def grad(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
         method: Annotated[str, typer.Option("--method", "-m", help="reverse, forward, fd or symbolic")] = "reverse",
         wrt: Annotated[str | None, typer.Option("--wrt", help="inputs to differentiate by: x,z")] = None,
         epsilon: Annotated[float | None, typer.Option("--epsilon", help="finite-difference step")] = None,
         as_json: JsonOpt = False, strict: StrictOpt = False) -> None:
    """The gradient (or Jacobian) by one of the four methods."""
    s = Session(program, as_json)

    def body() -> None:
        if method not in METHODS:
            raise GraphlangError("usage", f"unknown method {method!r}", hint="choose one of: "
                                 + ", ".join(METHODS))
        prog = s.load(strict)
        names = [w.strip() for w in wrt.split(",") if w.strip()] if wrt else None
        result = prog.evaluate(values(at, at_file), method=method, wrt=names, epsilon=epsilon)
        result.extra["scaled"] = epsilon is None
        if as_json:
            obj = result.to_json()
            obj["method"] = method
            if method == "fd":
                obj["epsilon"] = result.epsilon
            print(render.dumps(obj))
        else:
            s.out.print(render.result_tables(prog, result))
    guarded(s, body)


def main(argv: list[str] | None = None) -> None:
    """Entry point: exit 0 / 1 (program error) / 2 (usage); Ctrl-C is one line and 130."""
    try:
        app(args=argv, prog_name="graphlang")
    except KeyboardInterrupt:
        sys.stderr.write("graphlang: interrupted\n")
        sys.exit(130)
