"""The computation graph as a picture or a table (`graph`), and as the equation list (`ir`)."""

from __future__ import annotations

from typing import Annotated

import typer

from graphlang.cli.options import (
    AtFileOpt,
    AtOpt,
    LimitOpt,
    ProgramArg,
    Session,
    StrictOpt,
    guarded,
    values,
)
from graphlang.ir.pretty import pretty
from graphlang.present import tables as render


def graph(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
          output: Annotated[str | None, typer.Option("-o", "--output", help="write .dot, .svg or .png")] = None,
          dot: Annotated[bool, typer.Option("--dot", help="print the DOT source")] = False,
          partials: Annotated[bool, typer.Option("--partials", help="label edges with local derivatives")] = False,
          strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """Draw the computation graph (the course's conventions); a table in the terminal."""
    from graphlang.present import dot as dot_mod

    s = Session(program, False)

    def body() -> None:
        prog = s.load(strict, limit)
        vals = values(at, at_file) if (at or at_file) else None
        if output or dot:
            text = dot_mod.to_dot(prog, vals, partials)
            if dot:
                print(text, end="")
            if output:
                note = dot_mod.render_file(text, output)
                if note:
                    s.err.print(render.Text(note))
        else:
            s.out.print(dot_mod.terminal_view(prog, vals, partials))
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
        s.out.print(render.Text(text), end="")
    guarded(s, body)
