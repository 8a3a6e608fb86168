"""Commands that show how derivatives come about: diff, explain, gradcheck."""

from __future__ import annotations

from typing import Annotated

import typer

from graphlang.cli.bodies import diff_command, explain_command, gradcheck_command
from graphlang.cli.options import AtFileOpt, AtOpt, JsonOpt, LimitOpt, ProgramArg, StrictOpt
from graphlang.symbolic.texbreak import WIDTH

WidthOpt = Annotated[int, typer.Option("--width", min=20, max=1000, metavar="N",
                                       help="LaTeX: break formulas wider than N symbols over lines")]


def diff(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
         wrt: Annotated[str | None, typer.Option(
             "--wrt", help="inputs (or any node: a is ∂y/∂a) to differentiate by: x,z")] = None,
         latex: Annotated[bool, typer.Option("--latex", help="print LaTeX")] = False,
         as_program: Annotated[bool, typer.Option("--program", help="the derivative as a .cg program")] = False,
         width: WidthOpt = WIDTH, as_json: JsonOpt = False, strict: StrictOpt = False,
         limit: LimitOpt = []) -> None:  # noqa: B006
    """Symbolic derivatives: closed forms in the inputs, or a derivative program (no swell)."""
    diff_command(program, at, at_file, wrt, latex, as_program, width, as_json, strict, limit)


def explain(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
            node: Annotated[str | None, typer.Option("--node", help="explain one node only")] = None,
            fmt: Annotated[str, typer.Option("--format", help="text, markdown or latex")] = "text",
            digits: Annotated[int, typer.Option(
                "--digits", min=1, max=17, help="significant digits of each step (inputs, gradient: at least 10)")] = 6,
            of: Annotated[str | None, typer.Option(
                "--of", metavar="'y[9]'", help="the backward pass of this output component only")] = None,
            mode: Annotated[str | None, typer.Option(
                "--mode", help="reverse (a backward pass per output number; the default) or forward (a tangent "
                               "pass per input number; the default with --wrt)")] = None,
            wrt: Annotated[str | None, typer.Option(
                "--wrt", metavar="'W[0,1]'", help="forward mode: the tangent pass of this input (number) only")] = None,
            width: WidthOpt = WIDTH, as_json: JsonOpt = False, strict: StrictOpt = False,
            limit: LimitOpt = []) -> None:  # noqa: B006
    """The forward and backward passes step by step, in the lecture's notation."""
    explain_command(program, at, at_file, node, fmt, digits, of, width, as_json, strict, limit, mode, wrt)


def gradcheck(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
              epsilon: Annotated[float | None, typer.Option("--epsilon", help="finite-difference step")] = None,
              sweep: Annotated[bool, typer.Option(
                  "--sweep", help="finite-difference error for ε = 1e-1 … 1e-14")] = False,
              plot: Annotated[str | None, typer.Option(
                  "--plot", help="save the sweep as a PNG (matplotlib; implies --sweep)")] = None,
              wrt: Annotated[str | None, typer.Option(
                  "--wrt", help="only these inputs: x (the lecture's ∂y/∂x, its sweep alone)")] = None,
              as_json: JsonOpt = False, strict: StrictOpt = False,
              limit: LimitOpt = []) -> None:  # noqa: B006
    """Compare reverse, forward, symbolic and finite differences; exit 1 if they disagree."""
    gradcheck_command(program, at, at_file, epsilon, sweep, plot, as_json, strict, limit, wrt)
