"""Commands that compute numbers: run, grad, tangents, hessian."""

from __future__ import annotations

from typing import Annotated

import typer

from graphlang.cli.bodies import hessian_command
from graphlang.cli.options import (
    AtFileOpt,
    AtOpt,
    JsonOpt,
    LimitOpt,
    ProgramArg,
    Session,
    StrictOpt,
    guarded,
)
from graphlang.cli.session import grad_command, run_command
from graphlang.errors import GraphlangError, no_inputs
from graphlang.ir.bind import unit_seed
from graphlang.language.atvalues import parse_at
from graphlang.present import jsonout
from graphlang.present.textviews import tangent_parts
from graphlang.program import AUTO


def run(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
        as_json: JsonOpt = False, strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """Forward pass, backward pass (adjoints) and gradient, by reverse mode."""
    run_command(program, at, at_file, as_json, strict, limit)


def grad(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
         method: Annotated[str, typer.Option("--method", "-m", help="reverse, forward, fd, symbolic (default auto: "
                           "reverse; forward only where reverse's passes would be past the budget)")] = AUTO,
         wrt: Annotated[str | None, typer.Option("--wrt", help="inputs to differentiate by: x,z")] = None,
         epsilon: Annotated[float | None, typer.Option("--epsilon", help="finite-difference step")] = None,
         direction: Annotated[list[str], typer.Option(
             "--direction", help="forward mode along one direction: x=1,z=0 (a table of tangents)")] = [],  # noqa: B006
         as_json: JsonOpt = False, strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """The gradient (or Jacobian) by one of the four methods."""
    if direction:
        if method not in (AUTO, "forward") or wrt or epsilon is not None:
            s = Session(program, as_json)
            return guarded(s, lambda: _direction_only())
        return tangents(program, at, at_file, direction, as_json, strict, limit)
    grad_command(program, at, at_file, method, wrt, epsilon, as_json, strict, limit)


def _direction_only() -> None:
    raise GraphlangError("usage", "--direction is forward mode along one direction: --method, --wrt and "
                         "--epsilon do not apply to it", hint="drop them, or drop --direction for the gradient")


def tangents(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
             direction: Annotated[list[str], typer.Option(
                 "--direction", help="x=1,z=0: the seed ẋ (default: 1 for the first input's first number, "
                 "0 for the others)")] = [],  # noqa: B006
             as_json: JsonOpt = False, strict: StrictOpt = False,
             limit: LimitOpt = []) -> None:  # noqa: B006
    """Forward mode: the tangent of every node along one direction."""
    s = Session(program, as_json)

    def body() -> None:
        prog, vals = s.load_with_values(strict, limit, at, at_file, shown=True)
        if not prog.inputs:  # (a direction of no inputs, "along the direction :")
            raise no_inputs()
        seed = parse_at(direction) if direction else unit_seed(prog.graph, prog.bind(vals)[1], prog.inputs[0])
        tans = prog.tangents(vals, seed)
        if as_json:
            print(jsonout.dumps(jsonout.tangents(seed, tans, prog.limits)))
        else:
            s.show(tangent_parts(prog, tans, seed))
        s.notes(prog, vals)
    guarded(s, body)


def hessian(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
            wrt: Annotated[str | None, typer.Option("--wrt", help="only these inputs' blocks: x,z")] = None,
            as_json: JsonOpt = False, strict: StrictOpt = False,
            limit: LimitOpt = []) -> None:  # noqa: B006
    """Second derivatives of a scalar program (reverse mode over its derivative program)."""
    hessian_command(program, at, at_file, as_json, strict, limit, wrt)
