"""The command line: every command registered here, in one table; each is a thin wrapper."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import typer
import typer.core

from graphlang.cli import derivatives, drawing, evaluate, homework, playground, training

app = typer.Typer(no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
                  help="graphlang: computation graphs with exact derivatives, four ways.")


def repl(program: Annotated[str | None, typer.Argument(help="a .cg file to start from")] = None) -> None:
    """An interactive session: each statement adds a node; `:help` lists the commands."""
    from graphlang.repl import main as repl_main  # prompt_toolkit is slow to import: only here

    raise typer.Exit(repl_main(program))


# Every command, in the order `graphlang --help` lists them. A command not in this table does not exist.
COMMANDS = (
    evaluate.run, evaluate.grad, derivatives.diff, derivatives.explain, derivatives.gradcheck,
    evaluate.tangents, evaluate.hessian, homework.check, homework.exercise, homework.autograder,
    drawing.graph, drawing.ir, repl, training.train,
    training.predict, playground.serve, playground.html,
)

L13 = "programs/lecture13.cg"
HW = "programs/homework"
EXAMPLES = {
    "run": [f"graphlang run {L13} --at x=2,z=3", f"graphlang run {L13} --at x=2 --at z=3 --json",
            "echo 'y = x^2 * z' | graphlang run - --at x=3,z=1",
            "graphlang run programs/two_layer_network.cg --at-file programs/two_layer_network.json"],
    "grad": [f"graphlang grad {L13} --at x=2,z=3 --method forward", f"graphlang grad {L13} --at x=2,z=3 -m fd",
             f"graphlang grad {L13} --at x=2,z=3 --wrt z", f"graphlang grad {L13} --at x=2,z=3 --direction x=1,z=0"],
    "diff": [f"graphlang diff {L13}", f"graphlang diff {L13} --wrt x --latex", f"graphlang diff {L13} --program",
             "graphlang diff programs/two_layer_network.cg --latex --width 50   # lines for a Beamer slide"],
    "explain": [f"graphlang explain {L13} --at x=2,z=3", f"graphlang explain {L13} --at x=2,z=3 --node c",
                f"graphlang explain {L13} --at x=2,z=3 --format latex > steps.tex",
                "graphlang explain YOURS.cg --at-file point.json --of 'y[9]'   # one component of a vector output y",
                f"graphlang explain {L13} --at x=2,z=3 --mode forward --wrt x   # forward mode: the pass for x"],
    "gradcheck": [f"graphlang gradcheck {L13} --at x=2,z=3", f"graphlang gradcheck {L13} --at x=2,z=3 --sweep",
                  f"graphlang gradcheck {L13} --at x=2,z=3 --sweep --plot sweep.png"],
    "tangents": [f"graphlang tangents {L13} --at x=2,z=3 --direction x=1,z=0"],
    "hessian": [f"graphlang hessian {L13} --at x=2,z=3", f"graphlang hessian {L13} --at x=2,z=3 --json"],
    "check": ["graphlang check programs/homework/reference.cg --at x=2,z=3 --template > answers.json",
              "graphlang check programs/homework/reference.cg --at x=2,z=3 --answers answers.json",
              f"graphlang check {HW}/reference.cg --at x=2,z=3 --submission {HW}/student_ok.cg",
              f"graphlang check {HW}/reference.cg --at x=2,z=3 --batch {HW}/submissions --jsonl"],
    "graph": [f"graphlang graph {L13} --at x=2,z=3", f"graphlang graph {L13} --at x=2,z=3 -o graph.png --dpi 300",
              f"graphlang graph {L13} -o graph.tex      (TikZ: pdflatex, or \\input on a slide)",
              f"graphlang graph {L13} --at x=2,z=3 --partials"],
    "ir": [f"graphlang ir {L13}",
           "graphlang ir programs/two_layer_network.cg --at-file programs/two_layer_network.json"],
    "repl": ["graphlang repl", f"graphlang repl {L13}", "graphlang repl < session.txt"],
    "exercise": ["graphlang exercise --seed 7 -o ex7", "graphlang exercise --seed 7 --student alice -o alice",
                 "graphlang exercise --difficulty hard --ops exp,tanh,/ -o hard   # tensors"],
    "autograder": ["graphlang autograder gradescope --assignment programs/homework/assignment.toml -o hw.zip",
                   "graphlang autograder prairielearn --assignment programs/homework/assignment.toml -o question"],
    "train": ["graphlang train programs/digits_network.cg --data programs/data/digits_train.csv "
              "--val programs/data/digits_test.csv --epochs 30 --lr 0.5 --batch 16 --save net.npz",
              "graphlang train programs/digits_network.cg --data programs/data/digits_train.csv "
              "--val programs/data/digits_test.csv --epochs 100 --early-stopping 3"],
    "predict": ["graphlang predict programs/digits_network.cg --params net.npz --data programs/data/digits_test.csv",
                "graphlang predict programs/digits_network.cg --params net.npz --data YOURS.csv -o out.csv"],
    "serve": ["graphlang serve", "graphlang serve --port 8080 --open"],
    "html": [f"graphlang html {L13} --at x=2,z=3 -o lesson.html"],
}

# Readable placeholders in help (not `<list[str]>`): by option name for text options, else by type.
METAVARS = {"at": "NAME=VALUE", "at_file": "FILE.json", "limit": "NAME=N", "method": "METHOD", "wrt": "NAMES",
            "direction": "NAME=VALUE", "node": "NODE", "fmt": "FORMAT", "plot": "FILE.png", "answers": "FILE.json",
            "submission": "FILE.cg", "batch": "FOLDER", "gradescope": "FILE.json", "data": "FILE.csv",
            "val": "FILE.csv", "init": "FILE.npz", "save": "FILE.npz", "params": "FILE.npz", "host": "ADDRESS",
            "output": "FILE", "epsilon": "EPS", "lr": "RATE", "l2": "LAMBDA", "timeout": "SECONDS"}
HELP = {"help_option_names": ["-h", "--help"]}


class Command(typer.core.TyperCommand):
    """Readable help: `PROGRAM.cg` (not `{PROGRAM.cg} <str>`), `--at NAME=VALUE`, `-h`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for p in self.params:
            if p.param_type_name == "argument":
                shown = p.metavar or (p.name or "").upper()
                setattr(p, "display_type_rich", lambda ctx: None)  # noqa: B010
                setattr(p, "_usage_display_name", lambda shown=shown, req=p.required: shown if req else f"[{shown}]")  # noqa: B010
            elif p.param_type_name == "option" and not getattr(p, "is_flag", False) and p.metavar is None and p.name:
                kind = _kind(p)
                p.metavar = "N" if kind.startswith("int") else METAVARS.get(
                    p.name, "NUMBER" if kind.startswith("float") else p.name.upper())

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """A one-value option given twice is a usage error: Click keeps the last, so `--at-file a.json
        --at-file b.json` read b.json alone and `-o a.svg -o b.svg` wrote one file, without a word."""
        try:
            order = self.make_parser(ctx).parse_args(args=list(args))[2]
        except Exception:  # noqa: BLE001 - Click reports the same error from the parse below
            order = []
        seen: set[str] = set()
        for p in order:
            repeatable = p.multiple or getattr(p, "count", False) or getattr(p, "is_flag", False)
            if p.param_type_name == "option" and not repeatable:
                if p.name in seen:
                    ctx.fail(f"{max(p.opts, key=len)} given twice; give it once (it takes one value)")
                seen.add(p.name or "")
        return list(super().parse_args(ctx, args))


def _kind(p: Any) -> str:
    """An option's value type: click's type name (older Typer), or Typer's own description of it."""
    t = getattr(p, "type", None)
    if t is not None:
        return str(getattr(t, "name", ""))
    bare = getattr(p, "bare_type", None)
    return str(bare()) if callable(bare) else ""


def _help(command: Any) -> tuple[str, str]:
    """(one-line summary, help with an EXAMPLES section; `\b` keeps click from rewrapping the lines)."""
    doc = inspect.cleandoc(command.__doc__ or "")
    summary = doc.split("\n\n")[0].replace("\n", " ")
    examples = EXAMPLES.get(command.__name__, [])
    return summary, doc + ("\n\n\b\nEXAMPLES\n" + "\n".join("  " + e for e in examples) if examples else "")


for command in COMMANDS:
    summary, text = _help(command)
    app.command(cls=Command, short_help=summary, help=text, context_settings=HELP)(command)


def _version(value: bool) -> None:
    if value:
        from graphlang import __version__
        print(f"graphlang {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                   help="print the version")] = False) -> None:
    """graphlang: computation graphs with exact derivatives, four ways."""


def run(argv: list[str] | None = None) -> None:
    """Run one command line (the signal handler is installed by `graphlang.cli.main`). A usage error
    Click finds (an unknown option, a missing value) is shown as Click shows it and, with `--json`,
    also as SPEC §3's error object on stdout, as every other error is."""
    import sys

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = app(args=args, prog_name="graphlang", standalone_mode=False)
    except SystemExit:
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":  # Click's answer to a closed pipe: exit 1
            sys.exit(141)  # as `graphlang.cli.main` does: 128 + SIGPIPE, not a program error
        raise
    except Exception as err:  # Click's own (Typer vendors Click: matched by name, as Click shows them)
        kinds = {k.__name__ for k in type(err).__mro__}
        if "Abort" in kinds:
            print("Aborted!", file=sys.stderr)
            sys.exit(1)
        if "ClickException" not in kinds:
            raise
        err.show()  # type: ignore[attr-defined]
        hint = _usage_hint(err.format_message(), args) if "UsageError" in kinds else None  # type: ignore[attr-defined]
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        if "UsageError" in kinds and "--json" in args:
            from graphlang.present import jsonout
            print(jsonout.dumps({"error": {"kind": "usage", "message": err.format_message(),  # type: ignore[attr-defined]
                                           "line": None, "column": None}}))
        sys.exit(err.exit_code)  # type: ignore[attr-defined]
    sys.exit(code if isinstance(code, int) else 0)


def _split_value(args: list[str]) -> str | None:
    """An --at value the shell split at its spaces (`--at x=[1, 2, 3]`), its pieces joined again."""
    for k, arg in enumerate(args):
        value = arg.removeprefix("--at=") if arg.startswith("--at=") else args[k + 1] if (
            arg == "--at" and k + 1 < len(args)) else None
        if value is None or value.count("[") <= value.count("]"):
            continue
        pieces = [value]
        for more in args[k + 1 + (arg == "--at"):]:
            if more.startswith("-") and not more[1:2].isdigit() and more[1:2] != ".":
                break
            pieces.append(more)
            if "".join(pieces).count("[") <= "".join(pieces).count("]"):
                break
        return " ".join(pieces)[:200]
    return None


def _usage_hint(message: str, args: list[str]) -> str | None:
    """What a student meant by a command line Click refuses (values without --at, -at, run --method)."""
    pairs = [a for a in args if "=" in a and not a.startswith("-")]
    split = _split_value(args)
    if split is not None:  # (whatever Click made of the pieces: extra arguments, an option -2])
        return (f"the shell split a value at its spaces: quote it, --at '{split}', or write it without "
                f"spaces: --at {split.replace(' ', '')}")
    if "unexpected extra argument" in message and pairs:
        return f"give input values with --at: --at {','.join(pairs)}"
    if "No such option: -a" in message and any(a.startswith("-at") for a in args):
        return "write --at, with two dashes"
    if "No such option: --method" in message or "No such option: -m" in message:
        return "choose the method with grad: graphlang grad PROGRAM --method fd --at ..."
    if "requires an argument" in message:  # (Click shows no usage line here: say where the options are)
        option = message.split("'")[1] if message.count("'") >= 2 else "the option"
        command = " ".join(["graphlang", *[a for a in args if not a.startswith("-")][:1]])
        example = " x=2,z=3" if option == "--at" else " VALUE"
        return f"give {option} a value ({option}{example}); {command} -h lists every option"
    return None
