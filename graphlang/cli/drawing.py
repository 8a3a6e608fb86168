"""The computation graph as a picture or a table (`graph`), and as the equation list (`ir`)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from graphlang.cli.options import (
    AtFileOpt,
    AtOpt,
    ExitCode,
    LimitOpt,
    ProgramArg,
    Session,
    StrictOpt,
    guarded,
    values,
)
from graphlang.files import write_text
from graphlang.ir.pretty import pretty
from graphlang.present import tables as render


def graph(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
          output: Annotated[str | None, typer.Option(
              "-o", "--output", metavar="FILE", help="write .png, .svg, .pdf, .dot, or .tex (TikZ)")] = None,
          dot: Annotated[bool, typer.Option("--dot", help="print the DOT source")] = False,
          partials: Annotated[bool, typer.Option("--partials", help="label edges with local derivatives")] = False,
          dpi: Annotated[int, typer.Option("--dpi", min=30, max=1200, help="resolution of a .png")] = 200,
          strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """Draw the computation graph (the course's conventions); a table in the terminal."""
    from graphlang.present import dot as dot_mod
    from graphlang.present import tikz

    s = Session(program, False)

    def body() -> None:
        prog = s.load(strict, limit)
        vals = values(at, at_file) if (at or at_file) else None
        if output and output.lower().endswith(".tex"):
            write_text(output, tikz.to_tikz(prog, vals, partials, file=os.path.basename(output)))
        elif output or dot:
            text = dot_mod.to_dot(prog, vals, partials)
            if dot:
                print(text, end="")
            if output:
                note = dot_mod.render_file(text, output, dpi)
                if note:  # no Graphviz: the DOT file was written, the picture was not
                    s.err.print(render.Text(note))
                    raise typer.Exit(ExitCode.PROGRAM_ERROR)
        else:
            s.show([dot_mod.terminal_grid(prog, vals, partials)])
    guarded(s, body)


def ir(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
       strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """The graph as the engines see it: one equation per line (slot, primitive, inputs, shape)."""
    s = Session(program, False)

    def body() -> None:
        prog = s.load(strict, limit)
        if at or at_file:
            _, shapes = prog.bind(values(at, at_file))
            text = pretty(prog.graph, shapes)
        else:
            text = str(prog.graph)
        s.show_text(text)
    guarded(s, body)
