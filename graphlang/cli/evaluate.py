"""Commands that compute numbers: run, grad, tangents, hessian."""

from __future__ import annotations

from typing import Annotated

import typer

from graphlang.cli.options import (
    AtFileOpt,
    AtOpt,
    JsonOpt,
    LimitOpt,
    ProgramArg,
    Session,
    StrictOpt,
    guarded,
    values,
)
from graphlang.errors import GraphlangError
from graphlang.language.atvalues import parse_at
from graphlang.present import jsonout
from graphlang.present import tables as render
from graphlang.program import AUTO, METHODS


def run(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
        as_json: JsonOpt = False, strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """Forward pass, backward pass (adjoints) and gradient, by reverse mode."""
    s = Session(program, as_json)

    def body() -> None:
        prog = s.load(strict, limit)
        result = prog.evaluate(values(at, at_file))
        if as_json:
            print(jsonout.dumps(jsonout.result(result)))
        else:
            s.out.print(render.result_tables(prog, result))
    guarded(s, body)


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
        return tangents(program, at, at_file, direction, as_json)
    s = Session(program, as_json)

    def body() -> None:
        if method not in METHODS and method != AUTO:
            raise GraphlangError("usage", f"unknown method {method!r}", hint="choose one of: "
                                 + ", ".join(METHODS))
        prog = s.load(strict, limit)
        names = [w.strip() for w in wrt.split(",") if w.strip()] if wrt else None
        result = prog.evaluate(values(at, at_file), method=method, wrt=names, epsilon=epsilon,
                               adjoints=as_json)  # the JSON has the same keys as `run`'s
        result.extra["scaled"] = epsilon is None
        if as_json:
            print(jsonout.dumps(jsonout.result(result, method=True)))
        else:
            s.out.print(render.result_tables(prog, result))
    guarded(s, body)


def tangents(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
             direction: Annotated[list[str], typer.Option("--direction", help="x=1,z=0: the seed ẋ")] = [],  # noqa: B006
             as_json: JsonOpt = False, strict: StrictOpt = False,
             limit: LimitOpt = []) -> None:  # noqa: B006
    """Forward mode: the tangent of every node along one direction."""
    s = Session(program, as_json)

    def body() -> None:
        prog, vals = s.load_with_values(strict, limit, at, at_file)
        seed = parse_at(direction) if direction else {prog.inputs[0]: 1.0} if prog.inputs else {}
        tans = prog.tangents(vals, seed)
        if as_json:
            print(jsonout.dumps(jsonout.tangents(seed, tans, prog.limits)))
        else:
            s.out.print(render.tangent_table(prog, tans, seed))
    guarded(s, body)


def hessian(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
            as_json: JsonOpt = False, strict: StrictOpt = False,
            limit: LimitOpt = []) -> None:  # noqa: B006
    """Second derivatives of a scalar program (reverse mode over its derivative program)."""
    s = Session(program, as_json)

    def body() -> None:
        prog = s.load(strict, limit)
        h = prog.hessian(values(at, at_file))
        if as_json:
            print(jsonout.dumps(jsonout.hessian(h, prog.limits)))
        else:
            s.out.print(render.hessian_table(prog, h))
    guarded(s, body)
