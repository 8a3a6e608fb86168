"""The homework checker's command: check."""

from __future__ import annotations

import dataclasses
from pathlib import Path
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
    make_limits,
    one_stdin,
    values,
)
from graphlang.errors import GraphlangError, clean
from graphlang.files import check_target, write_text
from graphlang.language.source import read_bytes
from graphlang.limits import Limits
from graphlang.present import jsonout
from graphlang.present import tables as render
from graphlang.program import Program


def check(reference: Annotated[str | None, typer.Argument(
              help="the reference .cg program (or give --assignment)")] = None,
          at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
          assignment: Annotated[str | None, typer.Option(
              "--assignment", help="an assignment.toml: reference, point, quantities, points, comparisons")] = None,
          answers: Annotated[str | None, typer.Option("--answers", help="a JSON object of answers")] = None,
          submission: Annotated[str | None, typer.Option("--submission", help="a student's .cg program")] = None,
          batch: Annotated[str | None, typer.Option("--batch", help="a folder of submissions (.cg, .json)")] = None,
          jsonl: Annotated[bool, typer.Option("--jsonl", help="batch: one JSON line per submission")] = False,
          gradescope: Annotated[str | None, typer.Option(
              "--gradescope", help="write Gradescope's results.json")] = None,
          timeout: Annotated[float | None, typer.Option("--timeout", help="seconds per submission")] = None,
          jobs: Annotated[int | None, typer.Option(
              "-j", "--jobs", help="batch: worker processes (default: the number of cores)")] = None,
          grades_csv: Annotated[str | None, typer.Option(
              "--csv", help="batch: write the gradebook (a row per submission, a column per quantity)")] = None,
          points: Annotated[int | None, typer.Option("--points", help="program: how many seeded points")] = None,
          ecf: Annotated[bool | None, typer.Option("--ecf/--no-ecf", help="credit errors carried forward")] = None,
          show_expected: Annotated[bool | None, typer.Option(
              "--show-expected/--hide-expected",
              help="reference values in the feedback (default: shown for one submission, hidden for --batch, "
                   "--gradescope and where the assignment says so)")] = None,
          template: Annotated[bool, typer.Option("--template", help="print an answers template")] = False,
          as_json: JsonOpt = False, strict: StrictOpt = False,
          limit: LimitOpt = []) -> None:  # noqa: B006
    """Grade a student's answers or program against a reference; exit 0 only when all pass
    (--batch: 0 once every submission is graded, whatever the grades)."""
    from graphlang.grading.answers_file import read_answers
    from graphlang.grading.assignment import Assignment
    from graphlang.grading.options import fitted, wrong_kind

    s = Session(assignment or reference, as_json)

    def body() -> None:
        if assignment and reference:
            raise GraphlangError("usage", "give the reference either in --assignment or as an argument, not both")
        if not assignment and not reference:
            raise GraphlangError("usage", "give the reference program (REFERENCE) or --assignment FILE")
        one_stdin(reference=reference, at_file=at_file, answers=answers, submission=submission)
        chosen = [x for x in (answers, submission, batch) if x]
        if not template and len(chosen) != 1:
            raise GraphlangError("usage", "give exactly one of --answers, --submission or --batch",
                                 hint="--answers a.json (numbers by hand), --submission s.cg (a program), or "
                                      "--batch DIR (a folder of either); --template writes an answers file to fill")
        if gradescope:
            check_target(gradescope)
        if (jobs is not None or grades_csv) and not batch:
            raise GraphlangError("usage", "-j and --csv go with --batch")
        if grades_csv:
            check_target(grades_csv)
        # the checker's limits (always --strict's) with GRAPHLANG_LIMITS and --limit, for the
        # submissions: a misspelt limit is a usage error; the reference, staff's own, loads as usual
        theirs = make_limits(True, limit)
        vals = values(at, at_file)
        if assignment:
            s.source = Path(assignment).read_text(errors="replace") if Path(assignment).is_file() else None
            asg = Assignment.load(assignment, label="")  # the error shows the path
            ref = asg.reference
        else:
            try:
                ref = s.load()
            except GraphlangError as err:  # staff's own file: a usage error (exit 2), as --assignment's
                if err.kind in ("io", "usage"):
                    raise
                raise GraphlangError("usage", f"the reference program has an error: {err.kind} error: "
                                     f"{err.message}", err.line, err.column, err.hint) from None
        if template:
            print(jsonout.dumps(_template(ref, {**(asg.at if assignment else {}), **vals},
                                          asg.quantities if assignment else None)))
            return
        changes: dict[str, Any] = {k: v for k, v in (("at", vals), ("ecf", ecf), ("check_points", points),
                                                      ("timeout", timeout), ("show_expected", show_expected))
                                   if v not in (None, {})}
        if not assignment:  # (a Gradescope results.json is the student's to read: hidden unless asked)
            changes.setdefault("show_expected", not batch and not gradescope)
            asg = Assignment(reference=ref, at=changes.pop("at", {}), **changes)
        elif changes:
            asg = dataclasses.replace(asg, **changes)
        if batch:
            _check_batch(s, asg, batch, jsonl, same_maximum=bool(assignment), jobs=jobs, grades_csv=grades_csv,
                         limits=theirs)
            return
        if answers:
            given, why = read_answers(answers, "--answers")
            report = asg.grade_answers(given or {})
            if why and not wrong_kind(asg.submit, False):
                report.feedback.insert(0, why)
        else:
            assert submission is not None
            try:
                data, _ = read_bytes(submission, theirs)  # decoded by the grader, as in a batch
            except GraphlangError as err:  # (named as --answers' are: the option, then what is wrong)
                named = GraphlangError(err.kind, f"--submission {submission}: "
                                       + err.message.replace(f"{submission}: ", "").replace(f"{submission} is ", "")
                                       .replace(f"{submission} ", ""), hint=err.hint)
                named.origin = (submission, "")  # (said of the file, not of the reference program)
                raise named from None
            report = _graded_program(asg, ref, data, theirs, bool(assignment))
        report.feedback = fitted(report.feedback, asg.submit)
        if gradescope:
            write_text(gradescope, jsonout.dumps(report.to_gradescope(asg.visibility)) + "\n")
        if as_json:
            print(jsonout.dumps(report.to_json()))
        else:
            s.out.print(report)
        if not report.passed:
            raise typer.Exit(ExitCode.PROGRAM_ERROR)
    guarded(s, body)


def _graded_program(asg: Any, ref: Program, data: bytes, limits: Limits, own_maximum: bool) -> Any:
    """One program submission, as a batch grades it: in a worker under the assignment's time and
    memory limits (an autograder runs one per call); refused unless the assignment takes programs."""
    from graphlang.grading.options import wrong_kind
    from graphlang.grading.submissions import grade_one_program

    if wrong_kind(asg.submit, True):
        return asg.grade_program(data)  # 0 of the answers' maximum, saying why
    options = {**asg.program_options(), "max_score": asg.max_score if own_maximum else None, "limits": limits}
    return grade_one_program(ref, data, asg.at, options, asg.timeout, asg.memory_mb)


def _template(ref: Program, vals: dict[str, Any], asked: list[str] | None) -> dict[str, Any]:
    from graphlang.grading import worksheet
    if asked is not None:  # (a vector's or matrix's answer: a list of nulls of its shape)
        return worksheet.template(ref, vals, asked)
    shapes = ref.bind(vals)[1] if vals else ref.graph.shapes(
        tuple(ref.checked.declared.get(n) or () for n in ref.inputs))
    scalar = ref.is_scalar(shapes)
    from graphlang.grading.checker import refuse_adjoint_clash
    from graphlang.grading.quantities import default_quantities
    refuse_adjoint_clash(ref, scalar)  # (as grading these answers would)
    missing = ref.evaluate(vals).extra.get("no_adjoint", []) if vals and scalar else []
    return worksheet.template(ref, vals, default_quantities(ref, scalar, missing))


def _check_batch(s: Session, asg: Any, folder: str, jsonl: bool, same_maximum: bool, jobs: int | None = None,
                 grades_csv: str | None = None, limits: Limits | None = None) -> None:
    from rich.progress import Progress
    from rich.text import Text

    from graphlang.grading import gradebook
    from graphlang.grading import submissions as batch_mod

    files = batch_mod.submissions(folder)
    program = dict(asg.program_options())
    if limits is not None:
        program["limits"] = limits
    if not same_maximum and not any(f.suffix.lower() == ".json" for f in files):
        program["max_score"] = None  # programs only: their own checks, one point each
    options = {**asg.batch_options(), "program": program}
    rows = []
    with Progress(console=s.err, transient=True) as bar:
        task = bar.add_task("grading", total=len(files))
        for row in batch_mod.grade_batch(asg.reference, folder, asg.at, options, timeout=asg.timeout,
                                         memory_mb=asg.memory_mb, progress=lambda p: bar.advance(task),
                                         jobs=jobs, max_score=program.get("max_score")):
            rows.append(row)
            if jsonl:
                print(jsonout.dumps(row), flush=True)
    if grades_csv:
        write_text(grades_csv, gradebook.csv_text(rows))
    if s.as_json and not jsonl:  # one JSON object on stdout (SPEC §3), as every command's --json
        print(jsonout.dumps({"submissions": rows, "summary": gradebook.summary(rows)}))
        return
    out = s.err if jsonl else s.out
    out.print(render.batch_summary(rows))
    out.print(Text(clean(gradebook.summary_text(gradebook.summary(rows)))))


def exercise(seed: Annotated[int, typer.Option("--seed", help="the exercise's seed")] = 0,
             difficulty: Annotated[str, typer.Option("--difficulty", help="easy | medium | hard (tensors)")] = "medium",
             ops: Annotated[str | None, typer.Option(
                 "--ops", help="functions to use: exp,ln,sin,cos,tanh,sigmoid,sqrt,/")] = None,
             student: Annotated[str | None, typer.Option("--student", help="a per-student variant")] = None,
             output: Annotated[str, typer.Option("-o", "--output", help="the folder to write")] = "exercise",
             assignment: Annotated[str | None, typer.Option(
                 "--assignment", help="your own assignment.toml: its worksheet.md/.tex and key.json (what it asks, "
                                      "its precision and kind of submission), instead of a generated exercise")] = None,
             as_json: JsonOpt = False) -> None:
    """Write a seeded exercise: program.cg, assignment.toml, worksheet.md/.tex, key.json (or, with
    --assignment, the worksheets and key of your own assignment)."""
    from graphlang import exercise as ex_mod

    s = Session(None, as_json)

    def body() -> None:
        if assignment is not None:
            if seed or difficulty != "medium" or ops or student:  # (silently ignored, a review's find)
                raise GraphlangError("usage", "--assignment writes your assignment's worksheet; --seed, --difficulty, "
                                     "--ops and --student make a generated exercise", hint="give one or the other")
            from graphlang.checker import Assignment
            from graphlang.grading.exercise import write_files
            paths, source = write_files(output, Assignment.load(assignment).worksheets()), None
        else:
            ex = ex_mod.generate(seed, difficulty, ops, student)
            paths, source = ex.write(output), ex.source
        if as_json:
            print(jsonout.dumps({"files": [str(p) for p in paths], "program": source}))
        else:
            s.out.print("\n".join(str(p) for p in paths))
    guarded(s, body)


def autograder(platform: Annotated[str, typer.Argument(help="gradescope | prairielearn (run-gradescope: what the "
                                                           "bundle's run_autograder calls)")],
               assignment: Annotated[str | None, typer.Option("--assignment", help="the assignment.toml")] = None,
               output: Annotated[str | None, typer.Option(
                   "-o", "--output", help="gradescope: the zip; prairielearn: the question folder")] = None,
               root: Annotated[str | None, typer.Option(
                   "--root", help="run-gradescope: the autograder folder (what run_autograder passes)")] = None
               ) -> None:
    """Bundle an assignment for Gradescope (a zip) or PrairieLearn (a question folder)."""
    from graphlang.grading import autograder as bundles
    from graphlang.grading.assignment import Assignment

    s = Session(assignment, False)

    def body() -> None:
        if platform == "run-gradescope":  # inside the bundle: grade the submission folder
            bundles.run_gradescope(root or "/autograder")
            return
        if platform not in ("gradescope", "prairielearn"):
            raise GraphlangError("usage", f"unknown platform {platform!r}", hint="gradescope or prairielearn")
        if not assignment or not output:
            raise GraphlangError("usage", "give --assignment FILE and -o OUTPUT")
        asg = Assignment.load(assignment, label="")  # the error shows the path
        s.path = "graphlang"  # (from here on an error is about -o, not the assignment file)
        if platform == "gradescope":
            if Path(output).parent.exists():
                check_target(output)  # (a folder for -o: refused before the wheel is built)
            bundles.write_gradescope(asg, output)
            s.out.print(f"{output}: upload it as the Gradescope autograder (setup.sh, run_autograder, "
                        f"assignment.toml, the graphlang wheel)")
        else:
            for p in bundles.write_prairielearn(asg, output):
                s.out.print(str(p))
    guarded(s, body)
