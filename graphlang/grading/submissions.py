"""Batch grading: each submission in its own forked process, with a time and memory limit.

Every entry of the folder gets a row: a regular `.cg` or `.json` file is graded; anything else (a
symbolic link, which is never followed, a directory, a FIFO, a device, another suffix) gets a
`skipped` row saying why. The child ignores Ctrl-C (the terminal sends it to the whole process
group): the parent kills and reaps the running child, then hands the signal on, so the command
line prints one "interrupted" and leaves no process behind; on Linux a child also dies with its
parent. The memory limit counts what the child allocates after the fork, not the address space
it inherits (numpy's and OpenBLAS's arenas grow with the number of cores).
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing as mp
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.grading import options as opts
from graphlang.grading.checker import Report, grade_answers
from graphlang.grading.programs import grade_program
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


def submissions(directory: str) -> list[Path]:
    """Every entry of the folder, in name order: each gets a row (graded, or why it is not)."""
    d = Path(directory)
    if not d.is_dir():
        raise GraphlangError("usage", f"--batch {directory}: not a directory")
    try:
        return sorted(d.iterdir())
    except OSError as err:
        raise GraphlangError("io", f"cannot list {directory}: {err.strerror}") from None


def refusal(path: Path) -> str | None:
    """Why a folder entry is not graded, or None for a regular .cg or .json file (links not followed)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as err:
        return f"cannot read it: {err.strerror}"
    if stat.S_ISLNK(mode):
        return "a symbolic link: not followed (copy the file itself into the folder)"
    if stat.S_ISDIR(mode):
        return "a directory, not a submission file"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, socket or device)"
    if path.suffix not in SUFFIXES:
        return f"not a submission: only {' and '.join(SUFFIXES)} files are graded"
    return None


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


def _vm_data() -> int | None:
    """This process's private writable memory in bytes (what RLIMIT_DATA counts), where /proc says."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _limit_memory(memory_mb: int) -> None:
    """Allow `memory_mb` more than the child holds right after the fork (not an absolute cap)."""
    try:
        import resource
    except ImportError:
        return
    base = _vm_data()
    if base is None:  # no /proc: the cost model and the time limit still bound the work
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        want = base + memory_mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (want, hard))
    except (ValueError, OSError):
        pass


def _one_blas_thread() -> None:
    """The child multiplies small matrices: no BLAS thread pool (each thread's stack and buffers are
    memory the child would be charged for, and there may be one per core)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            libs = {line.split(None, 5)[5].strip() for line in fh if "openblas" in line.lower()
                    and len(line.split(None, 5)) == 6}
    except OSError:
        return
    for lib in sorted(libs):
        try:
            dll = ctypes.CDLL(lib)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            fn = getattr(dll, name, None)
            if fn is not None:
                fn(1)
                break


def _die_with(parent_pid: int) -> None:
    """On Linux, the kernel kills this child when the grader dies, however it dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before the call: nobody waits for this row
        os._exit(1)


def _child(conn: Any, reference: Program | str, path: Path, at: dict[str, Any], options: dict[str, Any],
           memory_mb: int, parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C does to a child
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the parent around fork
    _die_with(parent_pid)
    _one_blas_thread()
    _limit_memory(memory_mb)
    try:
        if isinstance(reference, str):  # spawned, not forked: the program travels as its source
            reference = parse(reference)
        conn.send(grade_file(reference, path, at, options).to_json())
    except MemoryError:
        conn.send({"error": "memory"})
    except Exception as err:  # noqa: BLE001 - a bug in the grader: one row says so, the batch goes on
        conn.send({"error": f"internal error ({type(err).__name__})"})
    finally:
        conn.close()


@contextmanager
def _started(proc: Any) -> Iterator[None]:
    """Start `proc`; until the block ends, Ctrl-C kills and reaps it, then reaches the previous handler."""
    previous = signal.getsignal(signal.SIGINT)
    if (threading.current_thread() is not threading.main_thread() or previous is None
            or previous == signal.SIG_IGN):
        proc.start()
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        try:
            if proc.pid is not None and proc.exitcode is None:  # not yet reaped: the pid is still ours
                proc.kill()
                proc.join()
        except OSError:
            pass
        signal.signal(signal.SIGINT, previous)
        if callable(previous):
            previous(signum, frame)
        else:  # SIG_DFL, or a handler not set from Python: the default action
            signal.raise_signal(signal.SIGINT)

    signal.signal(signal.SIGINT, stop)
    blocking = hasattr(signal, "pthread_sigmask")
    old: set[Any] = set()
    try:
        if blocking:  # the child starts with SIGINT blocked and ignores it before unblocking
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            proc.start()
        finally:
            if blocking:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _skipped(path: Path, reason: str) -> dict[str, Any]:
    return {"submission": path.name, "status": "skipped", "seconds": 0.0, "score": 0.0, "max_score": None,
            "passed": False, "reason": reason, "feedback": [f"not graded: {reason}"]}


def grade_batch(reference: Program, directory: str, at: dict[str, Any], options: dict[str, Any],
                timeout: float = 10.0, memory_mb: int = 1024,
                progress: Callable[[Path], None] | None = None) -> Iterator[dict[str, Any]]:
    """One result dict per folder entry, in name order; a hang, crash or refusal is a result too."""
    timeout, memory_mb = opts.batch_options(timeout, memory_mb)
    # the grading options too, here in the parent: a usage error, not a crashed row per submission
    opts.answers_options(**_with_defaults(grade_answers, options.get("answers", {})))
    opts.program_options(**_with_defaults(grade_program, options.get("program", {})))
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    for path in submissions(directory):
        reason = refusal(path)
        if reason is not None:
            if progress:
                progress(path)
            yield _skipped(path, reason)
            continue
        start = time.perf_counter()
        parent, child = ctx.Pipe(duplex=False)
        ref: Program | str = reference if ctx.get_start_method() == "fork" else reference.source
        proc = ctx.Process(target=_child, args=(child, ref, path, at, options, memory_mb, os.getpid()))
        with _started(proc):
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
        parent.close()
        error = payload.get("error") if isinstance(payload, dict) else None
        if status == "graded" and (payload is None or error is not None):
            status = "out of memory" if error == "memory" else "crashed"
        row: dict[str, Any] = {"submission": path.name, "status": status,
                               "seconds": round(time.perf_counter() - start, 3)}
        if status == "graded" and payload is not None:
            row.update(payload)
        else:
            why = {"timeout": f"took longer than {timeout} s",
                   "out of memory": f"needed more than {memory_mb} MB of memory"}.get(
                status, "crashed the grader" + (f": {error}" if error else ""))
            row.update({"score": 0.0, "max_score": None, "passed": False, "reason": why,
                        "feedback": [f"the submission {why}"]})
        if progress:
            progress(path)
        yield row
