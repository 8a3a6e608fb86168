"""The command line: every command registered here, in one table; each is a thin wrapper."""

from __future__ import annotations

from typing import Annotated

import typer

from graphlang.cli import derivatives, drawing, evaluate, homework, playground, training

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
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
for command in COMMANDS:
    app.command()(command)


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
    """Run one command line (the signal handler is installed by `graphlang.cli.main`)."""
    app(args=argv, prog_name="graphlang")

