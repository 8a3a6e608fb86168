"""The computation graph as a picture or a table (`graph`), and as the equation list (`ir`)."""

from __future__ import annotations

from typing import Annotated

import typer

from graphlang.cli.bodies import graph_command, ir_command
from graphlang.cli.options import AtFileOpt, AtOpt, LimitOpt, ProgramArg, StrictOpt


def graph(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
          output: Annotated[str | None, typer.Option(
              "-o", "--output", metavar="FILE", help="write .png, .svg, .pdf, .dot, or .tex (TikZ)")] = None,
          dot: Annotated[bool, typer.Option("--dot", help="print the DOT source")] = False,
          partials: Annotated[bool, typer.Option("--partials", help="label edges with local derivatives")] = False,
          dpi: Annotated[int, typer.Option("--dpi", min=30, max=1200, help="resolution of a .png")] = 200,
          strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """Draw the computation graph (the course's conventions); a table in the terminal."""
    graph_command(program, at, at_file, output, dot, partials, dpi, strict, limit)


def ir(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
       strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """The graph as the engines see it: one equation per line (slot, primitive, inputs, shape)."""
    ir_command(program, at, at_file, strict, limit)
