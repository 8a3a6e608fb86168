"""Commands that show how derivatives come about: diff, explain, gradcheck."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from graphlang.cli.options import (
    AtFileOpt,
    AtOpt,
    ExitCode,
    JsonOpt,
    LimitOpt,
    ProgramArg,
    Session,
    StrictOpt,
    guarded,
    values,
)
from graphlang.errors import GraphlangError
from graphlang.files import check_target
from graphlang.present import jsonout, plots
from graphlang.present import tables as render
from graphlang.program import Program
from graphlang.symbolic.texbreak import WIDTH

WidthOpt = Annotated[int, typer.Option("--width", min=20, max=1000, metavar="N",
                                       help="LaTeX: break formulas wider than N symbols over lines")]


def _shapes_for(prog: Program, vals: dict[str, Any]) -> list[Any]:
    """Shapes from --at values when given, else from declarations (undeclared inputs: scalars)."""
    if vals:
        return prog.bind(vals)[1]
    decl = prog.checked.declared
    return prog.graph.shapes(tuple(decl.get(n) or () for n in prog.graph.inputs))


def diff(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
         wrt: Annotated[str | None, typer.Option("--wrt", help="inputs to differentiate by: x,z")] = None,
         latex: Annotated[bool, typer.Option("--latex", help="print LaTeX")] = False,
         as_program: Annotated[bool, typer.Option("--program", help="the derivative as a .cg program")] = False,
         width: WidthOpt = WIDTH, as_json: JsonOpt = False, strict: StrictOpt = False,
         limit: LimitOpt = []) -> None:  # noqa: B006
    """Symbolic derivatives: closed forms in the inputs, or a derivative program (no swell)."""
    from graphlang.symbolic import derivative as symbolic

    s = Session(program, as_json)

    def body() -> None:
        prog = s.load(strict, limit)
        shapes = _shapes_for(prog, values(at, at_file))
        names = prog._wrt([w.strip() for w in wrt.split(",") if w.strip()] if wrt else None)
        if as_program:
            text = symbolic.derivative_program(prog, shapes, names)
            print(jsonout.dumps(jsonout.derivative_program(text)) if as_json else text, end="\n" if as_json else "")
            return
        forms = symbolic.closed_forms(prog, shapes, names)
        out = prog.outputs[0]
        if as_json:
            print(jsonout.dumps(jsonout.closed_forms(out, forms, symbolic.name_shapes(prog.graph, shapes))))
        elif latex:
            print("\n".join(symbolic.latex_equations(prog, shapes, forms, width)))
        else:
            texts = symbolic.text_forms(prog, shapes, forms)
            print("\n".join(f"d{out}/d{n} = {t}" for n, t in texts.items()))
    guarded(s, body)


def explain(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
            node: Annotated[str | None, typer.Option("--node", help="explain one node only")] = None,
            fmt: Annotated[str, typer.Option("--format", help="text, markdown or latex")] = "text",
            digits: Annotated[int, typer.Option("--digits", min=1, max=17,
                                                help="significant digits of every number")] = 6,
            of: Annotated[str | None, typer.Option(
                "--of", metavar="'y[9]'", help="the backward pass of this output component only")] = None,
            width: WidthOpt = WIDTH, as_json: JsonOpt = False, strict: StrictOpt = False,
            limit: LimitOpt = []) -> None:  # noqa: B006
    """The forward and backward passes step by step, in the lecture's notation."""
    from graphlang.present import explain as ex

    s = Session(program, as_json)

    def body() -> None:
        if fmt not in ("text", "markdown", "latex"):
            raise GraphlangError("usage", f"unknown format {fmt!r}", hint="text, markdown or latex")
        prog = s.load(strict, limit)
        if node is not None and node not in prog.names:
            raise GraphlangError("usage", f"--node {node!r} is not a node of the program",
                                 hint="nodes: " + ", ".join(prog.names))
        lines = ex.explain(prog, values(at, at_file), node, digits, of, with_latex=as_json or fmt != "text")
        if as_json:
            print(jsonout.dumps(jsonout.explain(lines)))
        else:
            s.show_text(ex.as_text(lines, fmt, width), soft_wrap=True)
    guarded(s, body)


def gradcheck(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
              epsilon: Annotated[float | None, typer.Option("--epsilon", help="finite-difference step")] = None,
              sweep: Annotated[bool, typer.Option(
                  "--sweep", help="finite-difference error for ε = 1e-1 … 1e-14")] = False,
              plot: Annotated[str | None, typer.Option("--plot", help="save the sweep as a PNG (matplotlib)")] = None,
              as_json: JsonOpt = False, strict: StrictOpt = False,
              limit: LimitOpt = []) -> None:  # noqa: B006
    """Compare reverse, forward, symbolic and finite differences; exit 1 if they disagree."""
    from graphlang import gradcheck as gc

    s = Session(program, as_json)

    def body() -> None:
        prog, vals = s.load_with_values(strict, limit, at, at_file)
        if plot:
            check_target(plot)
        if sweep or plot:
            rows = gc.sweep(prog, vals)
            if plot:
                plots.sweep_plot(rows, plot)
            if as_json:
                print(jsonout.dumps(jsonout.sweep(rows, gc.best(rows, "forward"), gc.best(rows, "central"))))
            else:
                s.out.print(render.sweep_table(rows, gc.best(rows, "forward"), gc.best(rows, "central")))
            return
        checks = gc.gradcheck(prog, vals, epsilon)
        ok = all(r.passed for r in checks)
        corners = [] if ok else gc.kinks(prog, vals)  # a disagreement: is the point a corner?
        if as_json:
            print(jsonout.dumps(jsonout.gradcheck(ok, checks, corners)))
        else:
            s.out.print(render.gradcheck_tables(checks, gc.TOLERANCES, corners))
        if not ok:
            raise typer.Exit(ExitCode.PROGRAM_ERROR)
    guarded(s, body)
