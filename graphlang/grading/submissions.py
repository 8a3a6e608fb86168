"""Batch grading: each submission in its own forked process, with a time and memory limit."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.grading import options as opts
from graphlang.grading.checker import Report, grade_answers
from graphlang.grading.programs import grade_program
from graphlang.program import Program, parse

SUFFIXES = (".cg", ".json")


def _with_defaults(grade: Callable[..., Report], given: Any) -> dict[str, Any]:
    """A grading function's keyword options: its defaults, updated by `given` (known names only)."""
    import inspect
    known = {k: p.default for k, p in inspect.signature(grade).parameters.items()
             if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(map(str, set(given) - set(known))) if isinstance(given, dict) else [repr(given)]
    if unknown:
        raise GraphlangError("usage", f"unknown {grade.__name__} option(s): {', '.join(unknown)}",
                             hint="options: " + ", ".join(known))
    return {**known, **given}


def submissions(directory: str) -> list[Path]:
    d = Path(directory)
    if not d.is_dir():
        raise GraphlangError("usage", f"--batch {directory}: not a directory")
    return sorted(p for p in d.iterdir() if p.is_file() and p.suffix in SUFFIXES)


def grade_file(reference: Program, path: Path, at: dict[str, Any], options: dict[str, Any]) -> Report:
    """Grade one submission file: a .cg program or a .json object of answers."""
    limit = 1_000_000
    try:
        data = path.read_bytes()[:limit + 1]
    except OSError as err:
        report = Report()
        report.feedback.append(f"cannot read the submission: {err.strerror}")
        return report
    text = data.decode("utf-8", errors="replace")
    if path.suffix == ".cg":
        return grade_program(reference, text, at, **options.get("program", {}))
    try:
        answers = json.loads(text)
    except (ValueError, RecursionError):
        answers = None
    if not isinstance(answers, dict):
        report = grade_answers(reference, {}, at, **options.get("answers", {}))
        report.feedback.insert(0, "the submission is not a JSON object of answers")
        return report
    return grade_answers(reference, answers, at, **options.get("answers", {}))


def _child(conn: Any, reference: Program | str, path: Path, at: dict[str, Any], options: dict[str, Any],
           memory_mb: int) -> None:
    try:
        import resource
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    try:
        if isinstance(reference, str):  # spawned, not forked: the program travels as its source
            reference = parse(reference)
        conn.send(grade_file(reference, path, at, options).to_json())
    except MemoryError:
        conn.send({"error": "out of memory"})
    finally:
        conn.close()


def grade_batch(reference: Program, directory: str, at: dict[str, Any], options: dict[str, Any],
                timeout: float = 10.0, memory_mb: int = 1024,
                progress: Callable[[Path], None] | None = None) -> Iterator[dict[str, Any]]:
    """One result dict per submission, in file-name order; a hang or crash is a result too."""
    timeout, memory_mb = opts.batch_options(timeout, memory_mb)
    # the grading options too, here in the parent: a usage error, not a crashed row per submission
    opts.answers_options(**_with_defaults(grade_answers, options.get("answers", {})))
    opts.program_options(**_with_defaults(grade_program, options.get("program", {})))
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    for path in submissions(directory):
        start = time.perf_counter()
        parent, child = ctx.Pipe(duplex=False)
        ref: Program | str = reference if ctx.get_start_method() == "fork" else reference.source
        proc = ctx.Process(target=_child, args=(child, ref, path, at, options, memory_mb))
        proc.start()
        child.close()
        status, payload = "graded", None
        if parent.poll(timeout):
            try:
                payload = parent.recv()
            except EOFError:
                status = "crashed"
        else:
            status = "timeout"
        proc.join(0.1)
        if proc.is_alive():
            proc.kill()
            proc.join()
        if status == "graded" and (payload is None or "error" in payload):
            status = "crashed"
        row: dict[str, Any] = {"submission": path.name, "status": status,
                               "seconds": round(time.perf_counter() - start, 3)}
        if status == "graded" and payload is not None:
            row.update(payload)
        else:
            why = f"took longer than {timeout} s" if status == "timeout" else "crashed the grader"
            row.update({"score": 0.0, "max_score": None, "passed": False,
                        "feedback": [f"the submission {why}"]})
        if progress:
            progress(path)
        yield row
