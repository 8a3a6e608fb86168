"""Grading submissions in worker processes (grading/pool.py), each under its own time and memory
limit: a folder (a batch), or one program (`check --submission`, graded as a batch grades it).

Every entry of the folder gets a row: a regular `.cg` or `.json` file is graded; anything else (a
symbolic link, which is never followed, a directory, a FIFO, a device, another suffix) gets a
`skipped` row saying why. A hang, a crash or a memory blow-up is a row too: that worker is killed
and replaced, and the batch goes on. Workers ignore Ctrl-C (the terminal sends it to the whole
process group): the parent kills and reaps them, then hands the signal on, so the command line
prints one "interrupted" and leaves no process behind; on Linux a worker also dies with its parent.
The memory limit counts what a worker allocates after its fork, not the address space it inherits
(numpy's and OpenBLAS's arenas grow with the number of cores).
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing as mp
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.grading import options as opts
from graphlang.grading import pool
from graphlang.grading.answers_file import parse_answers
from graphlang.grading.checker import grade_answers
from graphlang.grading.programs import grade_program, reference_runs
from graphlang.grading.report import Report
from graphlang.limits import Limits
from graphlang.program import Program, parse

SUFFIXES = (".cg", ".json")
MAX_BYTES = 1_000_000


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


class InFolder(type(Path())):  # type: ignore[misc]
    """A student's folder's one submission file (an LMS export: alice/answers.json), shown as folder/name."""


def submissions(directory: str) -> list[Path]:
    """Every entry of the folder, in name order: each gets a row (graded, or why it is not); a
    folder (not a link) holding exactly one gradable file is that file, a student's (LMS exports)."""
    d = Path(directory)
    if not d.is_dir():
        what = "not a directory" if d.exists() else "no such folder"
        err = GraphlangError("io", f"--batch {directory}: {what}",
                             hint="give the folder of submissions (a file, or a folder of one file, per student)")
        err.origin = (directory, "")  # (said of the folder, not of the reference program)
        raise err
    try:
        entries = sorted(d.iterdir())
    except OSError as err:
        raise GraphlangError("io", f"cannot list {directory}: {err.strerror}") from None
    return [_own(e) for e in entries]


def _own(entry: Path) -> Path:
    """A student's folder's one gradable file, else the entry itself (refused, saying why); a folder
    whose only entry is a folder is looked into, NESTED_MOST deep (alice/submission/answers.json: an
    autograder red team's find, skipped where the Gradescope runner graded it)."""
    found = _inner(entry)
    if found is None:
        return entry
    inside = [c for c in found[1] if _file_refusal(c) is None]
    if len(inside) != 1:
        return entry
    own = InFolder(inside[0])
    own.student = entry.name
    return own


FOLDER_MOST = 1_000  # entries of a student's folder looked at; past it the folder is refused, whatever it holds
NESTED_MOST = 8  # folders of one entry each looked into below a student's


def _inner(entry: Path) -> tuple[Path, list[Path]] | None:
    """The folder a student's folder comes down to (while its only entry is a folder, NESTED_MOST deep)
    and its entries; None for no folder, an unreadable one or one of more than FOLDER_MOST entries.
    Never a walk of the tree below (a folder nested 350 deep stopped the whole batch: a review's find)."""
    folder = entry
    for depth in range(NESTED_MOST + 1):
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return None
            listed = list(itertools.islice(folder.iterdir(), FOLDER_MOST + 1))  # (every entry, not the first 100
        except OSError:  # the file system lists: the verdict hung on their order, an untrusted-input red team's find)
            return None
        shown = [c for c in listed if not c.name.startswith(".")]
        if len(listed) > FOLDER_MOST or depth == NESTED_MOST or len(shown) != 1 or _file_refusal(shown[0]) is None:
            return (folder, listed) if len(listed) <= FOLDER_MOST else None
        try:
            if not stat.S_ISDIR(os.lstat(shown[0]).st_mode):
                return folder, listed
        except OSError:
            return folder, listed
        folder = shown[0]
    return None


def refusal(path: Path) -> str | None:
    """Why a folder entry is not graded, or None for a regular .cg or .json file (links not followed)."""
    try:
        is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError as err:
        return f"cannot read it: {err.strerror}"
    if not is_dir:
        return _file_refusal(path)
    found = _inner(path)
    if found is None:
        return f"a directory that cannot be read or of more than {FOLDER_MOST:,} entries (a student's holds one file)"
    n = sum(1 for c in found[1] if _file_refusal(c) is None)
    where = os.fsencode(found[0].relative_to(path.parent)).decode("utf-8", "backslashreplace")
    return f"the directory {where} holds {n or 'no'} .cg or .json files (a student's folder holds one)"


def _file_refusal(path: Path) -> str | None:
    """Why an entry that is no folder is not graded (a folder: "a directory"), or None."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as err:
        return f"cannot read it: {err.strerror}"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link: not followed (copy the file itself into the folder)"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, socket or device)"
    if path.suffix.lower() not in SUFFIXES:  # (answers.JSON too, as the Gradescope runner grades it)
        return f"not a submission: only {' and '.join(SUFFIXES)} files are graded"
    if path.name.startswith("."):  # `.answers.json`, macOS's `._x.cg`: as the Gradescope runner skips them
        return "a hidden file (its name starts with a dot)"
    return None


def shown_name(path: Path) -> str:
    """A file's name as text: bytes that are not UTF-8 (a name made on another system) escaped as
    `\\xff`, so the gradebook and the JSON lines can be written."""
    name = os.fsencode(path.name).decode("utf-8", "backslashreplace")
    if isinstance(path, InFolder):  # (the student's folder: the top one, however deep the file is)
        folder = getattr(path, "student", path.parent.name)
        return os.fsencode(folder).decode("utf-8", "backslashreplace") + "/" + name
    return name


def _read(path: Path) -> bytes:
    """At most MAX_BYTES + 1 bytes of a regular file; never follows a link, never blocks on a FIFO."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        return fh.read(MAX_BYTES + 1)


def grade_file(reference: Program, path: Path, at: dict[str, Any], options: dict[str, Any]) -> Report:
    """Grade one submission file: a .cg program or a .json object of answers."""
    try:
        data = _read(path)
    except OSError as err:
        report = Report()
        why = "a symbolic link (not followed)" if os.path.islink(path) else err.strerror
        report.feedback.append(f"cannot read the submission: {why}")
        return report
    is_program = path.suffix.lower() == ".cg"
    refusal = opts.wrong_kind(options.get("submit", "either"), is_program)
    if refusal is not None:  # 0 of the maximum the asked kind is scored out of
        blank = grade_answers(reference, {}, at, **options.get("answers", {})) if is_program else \
            grade_program(reference, b"", at, **options.get("program", {}))
        return blank.refused(*refusal)
    if is_program:  # the bytes: decoded as `check --submission` decodes them (a BOM, bad UTF-8)
        report = grade_program(reference, data, at, **options.get("program", {}))
    else:
        answers, why = parse_answers(data, shown_name(path))
        report = grade_answers(reference, answers or {}, at, **options.get("answers", {}))
        if answers is None:
            report.feedback.insert(0, why)
    report.feedback = opts.fitted(report.feedback, options.get("submit", "either"))
    return report


def _grade_job(reference: Program | str, at: dict[str, Any], options: dict[str, Any],
               max_score: float | None, path: Path) -> dict[str, Any]:
    """In a worker: one submission's report as JSON, scaled to the assignment's maximum."""
    if isinstance(reference, str):  # spawned, not forked: the program travels as its source
        reference = parse(reference)
    report = grade_file(reference, path, at, options)
    if max_score and report.max_score and report.max_score != max_score:
        report = report.scaled(max_score)
    return report.to_json()


def _skipped(path: Path, reason: str) -> dict[str, Any]:
    return {"submission": shown_name(path), "status": "skipped", "score": None, "max_score": None,  # (no 0 recorded)
            "passed": False, "reason": reason, "feedback": [f"not graded: {reason}"]}


def grade_batch(reference: Program, directory: str, at: dict[str, Any], options: dict[str, Any],
                timeout: float = 10.0, memory_mb: int = 1024,
                progress: Callable[[Path], None] | None = None, jobs: int | None = None,
                max_score: float | None = None) -> Iterator[dict[str, Any]]:
    """One result dict per folder entry, in name order; a hang, crash or refusal is a result too.
    `jobs` worker processes (default: the number of cores); `max_score`, when given, is every
    graded or failed submission's maximum."""
    timeout, memory_mb = opts.batch_options(timeout, memory_mb)
    size = opts.number("the number of workers (-j)", _cores() if jobs is None else jobs, 1, 1024, integer=True)
    # the grading options too, here in the parent: a usage error, not a crashed row per submission
    opts.answers_options(**_with_defaults(grade_answers, options.get("answers", {})))
    program = _with_defaults(grade_program, options.get("program", {}))
    opts.program_options(**program)
    if opts.submit_kind(options.get("submit", "either")) != "answers":
        reference_runs(reference, at, program["limits"] or Limits.strict())
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    ref: Program | str = reference if ctx.get_start_method() == "fork" else reference.source
    entries = submissions(directory)
    rows: dict[int, dict[str, Any]] = {}
    todo: list[tuple[int, Path]] = []
    for i, path in enumerate(entries):
        reason = refusal(path)
        if reason is None:
            todo.append((i, path))
        else:
            rows[i] = _skipped(path, reason)
    work = functools.partial(_job, functools.partial(_grade_job, ref, at, options, max_score))
    results = pool.run(ctx, work, todo, min(size, len(todo)) or 1, timeout, memory_mb)
    done = 0
    try:
        while done < len(entries):
            if done not in rows:
                (i, path), status, payload, _seconds = next(results)  # (rows carry no timings: same bytes each run)
                rows[i] = _row(path, status, payload, timeout, memory_mb, max_score)
                continue
            if progress:
                progress(entries[done])
            done += 1
            yield rows.pop(done - 1)
    finally:
        results.close()  # the workers are stopped and reaped, however the batch ends


def grade_one_program(reference: Program, data: bytes, at: dict[str, Any], options: dict[str, Any],
                      timeout: float = 10.0, memory_mb: int = 1024) -> Report:
    """One program's bytes graded as a batch grades a file: in a worker process under the time and
    memory limits (graded in this process, `check --submission` gave 17/17 where the batch and
    Gradescope, under the assignment's memory_mb, gave 0/17: a TA's find)."""
    timeout, memory_mb = opts.batch_options(timeout, memory_mb)
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    ref: Program | str = reference if ctx.get_start_method() == "fork" else reference.source
    results = pool.run(ctx, functools.partial(_program_job, ref, data, at, options), [0], 1, timeout, memory_mb)
    try:
        _job, status, payload, _seconds = next(results)
    finally:
        results.close()
    if status == "graded" and payload is not None and isinstance(payload.get("report"), Report):
        return payload["report"]  # type: ignore[no-any-return]
    row = _row(Path("-"), status, payload, timeout, memory_mb, None)
    return grade_program(reference, b"", at, **options).refused(row["feedback"][0])


def _program_job(reference: Program | str, data: bytes, at: dict[str, Any], options: dict[str, Any],
                 job: Any) -> dict[str, Any]:
    """In a worker: the program's report itself (sent back whole, pickled)."""
    return {"report": grade_program(parse(reference) if isinstance(reference, str) else reference, data, at,
                                    **options)}


def _cores() -> int:
    """The cores this process may run on (a container's or taskset's share, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _job(grade: Callable[[Path], dict[str, Any]], job: tuple[int, Path]) -> dict[str, Any]:
    return grade(job[1])


def _row(path: Path, status: str, payload: dict[str, Any] | None, timeout: float,
         memory_mb: int, max_score: float | None) -> dict[str, Any]:
    error = payload.get("error") if isinstance(payload, dict) else None
    if status == "graded" and (payload is None or error is not None):
        status = "out of memory" if error == "memory" else "crashed"
    row: dict[str, Any] = {"submission": shown_name(path), "status": status}
    if status == "graded" and payload is not None:
        row.update(payload)
    else:
        why = {"timeout": f"took longer than {timeout:g} s",
               "out of memory": f"needed more than {memory_mb} MB of memory"}.get(
            status, "crashed the grader" + (f": {error}" if error else (
                f" (its worker died without answering: under the {memory_mb} MB memory limit this is "
                "usually a native library, e.g. BLAS, out of memory)")))
        row.update({"score": 0.0, "max_score": max_score, "passed": False, "reason": why,
                    "feedback": [f"the submission {why}"]})
    return row
