"""What every command shares without Typer: its session (error reporting), named exit codes, limits and
values; and the bodies of `run` and `grad`, which `graphlang.cli.quick` calls without building the
Typer application (for start-up time) and `evaluate.py` calls from it."""

from __future__ import annotations

import builtins
import gc
import os
import sys
from collections.abc import Callable
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphlang.errors import GraphlangError
from graphlang.gradcheck import fd_caution
from graphlang.language.atvalues import parse_at, read_at_file, wrt_names
from graphlang.language.source import STDIN_NAMES, STDIN_READ
from graphlang.limits import Limits
from graphlang.present import grid, jsonout
from graphlang.present.grid import Part
from graphlang.present.textviews import result_parts
from graphlang.program import AUTO, METHODS, Program, parse, read_source, unknown_method

if TYPE_CHECKING:
    from rich.console import Console


FREEZE_FROM = 20_000  # equations


class ExitCode(IntEnum):
    """The exit statuses of every command (SPEC §3), by name."""

    OK = 0
    PROGRAM_ERROR = 1  # the program or its values: syntax, names, shapes, domain, limits
    USAGE = 2  # the command line itself (also an unreadable file)
    INTERRUPTED = 130  # Ctrl-C


def make_limits(strict: bool, overrides: list[str]) -> Limits:
    """Defaults (or the checker's, --strict), then GRAPHLANG_LIMITS="name=n,...", then --limit."""
    limits = Limits.strict() if strict else Limits()
    changes: dict[str, int] = {}
    env = [x for x in os.environ.get("GRAPHLANG_LIMITS", "").replace(" ", "").split(",") if x]
    for k, item in enumerate(env + overrides):
        name, _, value = item.partition("=")
        where = "GRAPHLANG_LIMITS" if k < len(env) else "--limit"  # (which one said it: a red team's find)
        if not value.strip().isdigit() or name.strip() not in Limits.__dataclass_fields__:
            raise GraphlangError("usage", f"{where} {item!r}: " + ("write name=integer" if not value.strip().isdigit()
                                                                   else f"no limit is named {name.strip()!r}"),
                                 hint="limits: " + ", ".join(Limits.__dataclass_fields__))
        changes[name.strip()] = int(value)
    return limits.with_(**changes)

def _width() -> int | None:
    return int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None


def plain_width() -> int | None:
    """The width Rich's console would use for stdout when it is surely no terminal (so prints no
    colour), or None: on a terminal, in Jupyter or IDLE, on Windows, with FORCE_COLOR / TTY_COMPATIBLE
    or a non-UTF-8 stdout, Rich prints (rich.console.Console.is_terminal and .size, followed here)."""
    env = os.environ
    if sys.platform == "win32" or "FORCE_COLOR" in env or "TTY_COMPATIBLE" in env or hasattr(builtins, "get_ipython"):
        return None
    if getattr(sys.stdin, "__module__", "").startswith("idlelib"):
        return None
    try:
        if sys.stdout.isatty() or not (getattr(sys.stdout, "encoding", None) or "utf-8").lower().startswith("utf"):
            return None
    except (ValueError, AttributeError):
        return None
    width = _width()
    if width is not None:
        return width
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd)[0] or 80
        except (AttributeError, ValueError, OSError):
            continue
    return 80


class Session:
    """What a command needs to report errors: the file, its text, JSON mode, the consoles."""

    def __init__(self, path: str | None, as_json: bool) -> None:
        self.path = path
        self.as_json = as_json
        self.source: str | None = None
        STDIN_READ[:] = [True] * (path == "-")  # one command's (an earlier in-process `run -` is not this one's),
        # and said before anything is read: `--at-file -` is refused whichever the command reads first

    # The consoles (and Rich) are made on first use: a --json answer never needs them.
    @cached_property
    def out(self) -> Console:
        from rich.console import Console
        return Console(width=_width(), highlight=False, soft_wrap=False)

    @cached_property
    def err(self) -> Console:
        from rich.console import Console
        return Console(stderr=True, width=_width(), highlight=False, soft_wrap=True)

    def show(self, parts: list[Part]) -> None:
        """Print a view: as plain text when its bytes are surely Rich's (no Rich imported), else by Rich."""
        width = plain_width()
        text = None if width is None else grid.render(parts, width)
        if text is None:
            from graphlang.present import tables as render
            self.out.print(render.rich_parts(parts))
        else:
            sys.stdout.write(text)
            sys.stdout.flush()

    def show_text(self, text: str, soft_wrap: bool = False) -> None:
        """Print text as `Console.print(Text(text), end="")` does: without Rich where the bytes are sure
        (no terminal; soft wrap: as it is, else wrapped as Rich wraps it; no tab or control character)."""
        width = plain_width()
        if width is not None and soft_wrap:
            plain = text if "\t" not in text and all(ln.isprintable() for ln in text.split("\n")) else None
        else:
            plain = None if width is None else grid.paragraph(text, width)
        if plain is not None:
            sys.stdout.write(plain)
            sys.stdout.flush()
            return
        from graphlang.present import tables as render
        self.out.print(render.Text(text), end="", soft_wrap=soft_wrap or None)

    def load(self, strict: bool = False, overrides: list[str] | None = None, shown: bool = False) -> Program:
        """The program; `shown`: a display writes every operation out (explain, html, diff), refused
        past max_shown_nodes (10 statements of 10,000 terms held `html` for 2 minutes and 2.3 GB)."""
        limits = make_limits(strict, overrides or [])
        assert self.path is not None
        path, self.path = self.path, "<stdin>" if self.path == "-" else self.path  # errors read <stdin>:LINE:COL
        self.source = read_source(path, limits)  # (also the errors of reading it)
        prog = parse(self.source, limits=limits, path=self.path)
        if shown and prog.graph.n_eqns > limits.max_shown_nodes:
            raise GraphlangError("limit", f"the program has {prog.graph.n_eqns:,} operations: too many to show "
                                 f"step by step (at most {limits.max_shown_nodes:,}, max_shown_nodes)",
                                 hint="run and grad compute it; a display of a smaller program, or --limit "
                                 f"max_shown_nodes={prog.graph.n_eqns}")
        if prog.graph.n_eqns > FREEZE_FROM:  # one command per process: what it loaded is never
            gc.freeze()  # garbage, so never scanned again (only when big: in-process callers repeat)
        return prog

    def notes(self, prog: Program, vals: dict[str, Any]) -> None:
        """After the output, on stderr: what the program probably does not mean (an outer broadcast)."""
        from graphlang.ir.lint import notes
        sys.stdout.flush()
        for line, col, note in notes(prog.graph, prog.bind(vals)[1]):
            sys.stderr.write(f"note: {self.path}:{line}:{col}: {note}\n")

    def load_with_values(self, strict: bool, overrides: list[str], at: list[str], at_file: str | None,
                         shown: bool = False) -> tuple[Program, dict[str, Any]]:
        """The program and its --at / --at-file values (a command's usual first step)."""
        prog = self.load(strict, overrides, shown)
        return prog, values(at, at_file)

    def fail(self, err: GraphlangError) -> None:
        from graphlang.present import tables as render
        code = ExitCode.USAGE if err.kind in ("usage", "io") else ExitCode.PROGRAM_ERROR
        path, source = err.origin or (self.path, self.source)  # (an assignment's reference: its own file)
        first = source.split("\n", 1)[0] if source else ""
        saved = first.removeprefix("# :at ").strip().replace(" ", ",") if first.startswith("# :at ") else ""
        unsaved = [n for n in err.missing if f",{n}=" not in f",{saved}"]  # (`,x=`: not the x= of `ax=`)
        if saved and len(unsaved) < len(err.missing):  # :save's values, in a comment run skips
            err.hint = f"the file's first line keeps the REPL's values (a comment): --at '{saved}'" + (
                f"; {', '.join(unsaved[:8])}{', …' * (len(unsaved) > 8)} had none in the REPL either: {err.hint}"
                if unsaved else "")
        self.err.print(render.error_text(err, path, source, self.err.width), end="")
        if self.as_json:
            print(jsonout.dumps(jsonout.error(err)))
        raise SystemExit(int(code))  # as typer.Exit(code) would: Click exits with it

def one_stdin(**paths: str | None) -> None:
    """At most one of a command's files is standard input (`check - --submission -` graded nothing)."""
    named = [k.upper() if k == "reference" else "--" + k.replace("_", "-")
             for k, p in paths.items() if p in STDIN_NAMES]
    if len(named) > 1:
        raise GraphlangError("usage", f"{' and '.join(named)} both read standard input",
                             hint="give all but one of them as files")


def values(at: list[str], at_file: str | None) -> dict[str, Any]:
    vals = read_at_file(at_file, stdin=True) if at_file else {}
    for name, v in parse_at(at).items():
        if name in vals:
            raise GraphlangError("usage", f"{name!r} is given by both --at and --at-file",
                                 hint=f"give {name} once: remove it from --at or from the file")
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
    except Exception as exc:  # a bug: said as an error, never a traceback (GRAPHLANG_DEBUG=1 shows it)
        if os.environ.get("GRAPHLANG_DEBUG") or isinstance(exc, OSError) or \
                type(exc).__module__.startswith(("click", "typer")):  # (`| head`, a full disk, typer.Exit: main's)
            raise
        session.fail(GraphlangError("internal", f"{type(exc).__name__}: {str(exc)[:300]}", hint="this is a bug "
                                    "in graphlang; please report it with the program and the command"))


def run_command(program: str, at: list[str], at_file: str | None, as_json: bool, strict: bool,
                limit: list[str]) -> None:
    """`graphlang run`: forward pass, backward pass (adjoints) and gradient, by reverse mode."""
    s = Session(program, as_json)

    def body() -> None:
        prog, vals = s.load(strict, limit), values(at, at_file)
        if as_json:
            jsonout.bounded_before(prog, vals)
        result = prog.evaluate(vals)
        if as_json:
            print(jsonout.dumps(jsonout.result(result)))
        else:
            s.show(result_parts(prog, result))
        s.notes(prog, vals)
    guarded(s, body)


def grad_command(program: str, at: list[str], at_file: str | None, method: str, wrt: str | None,
                 epsilon: float | None, as_json: bool, strict: bool, limit: list[str]) -> None:
    """`graphlang grad` (without --direction): the gradient or Jacobian by one of the four methods."""
    s = Session(program, as_json)

    def body() -> None:
        if method not in METHODS and method != AUTO:
            raise unknown_method(method)
        if epsilon is not None and method != "fd":  # an exact method would ignore it without a word
            raise GraphlangError("usage", "--epsilon is the finite-difference step: it applies to --method fd",
                                 hint="add --method fd, or drop --epsilon (the other methods are exact)")
        prog = s.load(strict, limit)
        names = wrt_names(wrt)
        vals = values(at, at_file)
        if as_json:
            jsonout.bounded_before(prog, vals)
        result = prog.evaluate(vals, method=method, wrt=names, epsilon=epsilon,
                               adjoints=as_json)  # the JSON has the same keys as `run`'s
        result.extra["caution"] = fd_caution(prog, vals, result, refuse=True)  # fd off from the exact value: why
        if as_json:  # (the SPEC's keys only: a note on stdout's side, as `diff`'s)
            print(jsonout.dumps(jsonout.result(result, method=True)))
            if result.extra["caution"]:
                sys.stderr.write(f"note: {result.extra['caution']}\n")
        else:
            s.show(result_parts(prog, result))
        s.notes(prog, vals)
    guarded(s, body)
