"""The command line: thin wrappers that load, call the library, and present."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from . import render
from .atvalues import parse_at, read_at_file
from .errors import GraphlangError
from .limits import Limits
from .program import AUTO, METHODS, Program, parse, read_source

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="graphlang: computation graphs with exact derivatives, four ways.")

AtOpt = Annotated[list[str], typer.Option("--at", help="input values: x=2,z=3 or W=[[1,0],[0,1]]; repeatable")]
AtFileOpt = Annotated[str | None, typer.Option("--at-file", help="input values from a JSON object")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
ProgramArg = Annotated[str, typer.Argument(help="the .cg program")]
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
        return parse(self.source, limits=limits, path=self.path)

    def load_with_values(self, strict: bool, overrides: list[str], at: list[str], at_file: str | None
                         ) -> tuple[Program, dict[str, Any]]:
        """The program and its --at / --at-file values (a command's usual first step)."""
        prog = self.load(strict, overrides)
        return prog, values(at, at_file)

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
        as_json: JsonOpt = False, strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """Forward pass, backward pass (adjoints) and gradient, by reverse mode."""
    s = Session(program, as_json)

    def body() -> None:
        prog = s.load(strict, limit)
        result = prog.evaluate(values(at, at_file))
        if as_json:
            print(render.dumps(result.to_json()))
        else:
            s.out.print(render.result_tables(prog, result))
    guarded(s, body)


@app.command()
def grad(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
         method: Annotated[str, typer.Option("--method", "-m", help="reverse, forward, fd, symbolic; "
                           "default: reverse, or for a Jacobian the cheaper mode")] = AUTO,
         wrt: Annotated[str | None, typer.Option("--wrt", help="inputs to differentiate by: x,z")] = None,
         epsilon: Annotated[float | None, typer.Option("--epsilon", help="finite-difference step")] = None,
         direction: Annotated[list[str], typer.Option(
             "--direction", help="forward mode along one direction: x=1,z=0 (a table of tangents)")] = [],  # noqa: B006
         as_json: JsonOpt = False, strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """The gradient (or Jacobian) by one of the four methods."""
    if direction:
        return cli_methods.tangents(program, at, at_file, direction, as_json)
    s = Session(program, as_json)

    def body() -> None:
        if method not in METHODS and method != AUTO:
            raise GraphlangError("usage", f"unknown method {method!r}", hint="choose one of: "
                                 + ", ".join(METHODS))
        prog = s.load(strict, limit)
        names = [w.strip() for w in wrt.split(",") if w.strip()] if wrt else None
        result = prog.evaluate(values(at, at_file), method=method, wrt=names, epsilon=epsilon)
        result.extra["scaled"] = epsilon is None
        if as_json:
            obj = result.to_json()
            if result.gradient is not None and result.adjoints is None:  # same keys as `run`
                adjoints = prog.evaluate(values(at, at_file), method="reverse").adjoints or {}
                obj = {**{k: v for k, v in obj.items() if k != "gradient"},
                       "adjoints": {k: render.plain(v) for k, v in adjoints.items()},
                       "gradient": obj["gradient"]}
            obj["method"] = result.method
            if result.method == "fd":
                obj["epsilon"] = result.epsilon
            print(render.dumps(obj))
        else:
            s.out.print(render.result_tables(prog, result))
    guarded(s, body)


def _version(value: bool) -> None:
    if value:
        from . import __version__
        print(f"graphlang {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                   help="print the version")] = False) -> None:
    """graphlang: computation graphs with exact derivatives, four ways."""


def _interrupted(signum: int, frame: Any) -> None:
    sys.stderr.write("graphlang: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def main(argv: list[str] | None = None) -> None:
    """Entry point: exit 0 / 1 (program error) / 2 (usage); Ctrl-C is one line and 130."""
    signal.signal(signal.SIGINT, _interrupted)
    app(args=argv, prog_name="graphlang")


# The other commands register themselves on `app` when imported.
from . import cli_methods, cli_tools  # noqa: E402, F401
