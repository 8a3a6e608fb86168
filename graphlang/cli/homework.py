"""The homework checker's command: check."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from graphlang.cli.options import (
    AtFileOpt,
    AtOpt,
    ExitCode,
    JsonOpt,
    LimitOpt,
    Session,
    StrictOpt,
    guarded,
    values,
)
from graphlang.errors import GraphlangError
from graphlang.files import check_target, write_text
from graphlang.limits import Limits
from graphlang.present import jsonout
from graphlang.present import tables as render
from graphlang.program import Program, read_source


def check(reference: Annotated[str, typer.Argument(help="the reference .cg program")],
          at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
          answers: Annotated[str | None, typer.Option("--answers", help="a JSON object of answers")] = None,
          submission: Annotated[str | None, typer.Option("--submission", help="a student's .cg program")] = None,
          batch: Annotated[str | None, typer.Option("--batch", help="a folder of submissions (.cg, .json)")] = None,
          jsonl: Annotated[bool, typer.Option("--jsonl", help="batch: one JSON line per submission")] = False,
          gradescope: Annotated[str | None, typer.Option(
              "--gradescope", help="write Gradescope's results.json")] = None,
          timeout: Annotated[float, typer.Option("--timeout", help="batch: seconds per submission")] = 10.0,
          points: Annotated[int, typer.Option("--points", help="program: how many seeded points")] = 10,
          ecf: Annotated[bool, typer.Option("--ecf/--no-ecf", help="credit errors carried forward")] = True,
          template: Annotated[bool, typer.Option("--template", help="print an answers template")] = False,
          as_json: JsonOpt = False, strict: StrictOpt = False,
          limit: LimitOpt = []) -> None:  # noqa: B006
    """Grade a student's answers or program against a reference; exit 0 only when all pass."""
    from graphlang import checker

    s = Session(reference, as_json)

    def body() -> None:
        ref = s.load(strict, limit)
        vals = values(at, at_file)
        if template:
            shapes = ref.bind(vals)[1] if vals else ref.graph.shapes(
                tuple(ref.checked.declared.get(n) or () for n in ref.inputs))
            print(jsonout.dumps(jsonout.answers_template(ref, scalar=ref.is_scalar(shapes))))
            return
        if gradescope:
            check_target(gradescope)
        chosen = [x for x in (answers, submission, batch) if x]
        if len(chosen) != 1:
            raise GraphlangError("usage", "give exactly one of --answers, --submission or --batch")
        if batch:
            _check_batch(s, ref, batch, vals, timeout, points, ecf, jsonl)
            return
        if answers:
            from graphlang.language.atvalues import read_at_file
            report = checker.grade_answers(ref, read_at_file(answers), vals, ecf=ecf)
        else:
            assert submission is not None
            text = read_source(submission, Limits.strict())
            report = checker.grade_program(ref, text, vals, n_points=points)
        if gradescope:
            write_text(gradescope, jsonout.dumps(report.to_gradescope()) + "\n")
        if as_json:
            print(jsonout.dumps(report.to_json()))
        else:
            s.out.print(report)
        if not report.passed:
            raise typer.Exit(ExitCode.PROGRAM_ERROR)
    guarded(s, body)


def _check_batch(s: Session, ref: Program, folder: str, vals: dict[str, Any], timeout: float,
                 points: int, ecf: bool, jsonl: bool) -> None:
    from rich.progress import Progress

    from graphlang.grading import submissions as batch_mod

    files = batch_mod.submissions(folder)
    options = {"answers": {"ecf": ecf}, "program": {"n_points": points}}
    rows = []
    with Progress(console=s.err, transient=True) as bar:
        task = bar.add_task("grading", total=len(files))
        for row in batch_mod.grade_batch(ref, folder, vals, options, timeout=timeout,
                                         progress=lambda p: bar.advance(task)):
            rows.append(row)
            if jsonl:
                print(jsonout.dumps(row), flush=True)
    (s.err if jsonl else s.out).print(render.batch_summary(rows))
