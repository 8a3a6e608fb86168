"""A pool of worker processes, forked once and reused, each job under its own time and memory limit.

A worker grades one job at a time: the parent sends it a job on its pipe and waits for the answer
with the job's deadline, which counts from the moment the worker says it starts the job (a fork
and its set-up on a loaded machine are not the submission's time; they get SETUP seconds), in CPU
time where /proc tells it (up to LOADED times the limit in wall time: a loaded machine's share of the
CPU is not the submission's either: a file far from its limit gets the same verdict under any `-j`). A job
that hangs past its deadline, or a worker that dies (a crash, or the kernel refusing memory), is
killed and reaped, reported, and the worker replaced; the other jobs go on. Before each job the
worker sets its memory limit anew: its allowance above what it holds then,
every free chunk of its heap claimed first, so one submission's garbage never counts for or against
the next. A worker that ran out of memory, or has grown by a whole allowance, exits after answering
and is replaced by a fresh fork.

Workers ignore Ctrl-C (the terminal sends it to the whole process group): the parent kills and reaps
every worker, then hands the signal on. On Linux a worker also dies with its parent. The memory
limit counts what a worker allocates after its fork, not the address space it inherits, and the
free space of the heap it inherits is claimed before the limit is set (grading/memory.py).
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from multiprocessing.connection import wait
from typing import Any

from graphlang.grading.memory import limit_memory, vm_data

Job = Any
Work = Callable[[Job], dict[str, Any]]


def _one_blas_thread() -> None:
    """A worker multiplies small matrices: no BLAS thread pool (each thread's stack and buffers are
    memory the worker would be charged for, and there may be one per core)."""
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
    """On Linux, the kernel kills this worker when the grader dies, however it dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before the call: nobody waits for this worker
        os._exit(1)


STARTED = "started"  # a worker's word that the job runs now
SETUP = 60.0  # seconds a worker may take to start a job (a fork, a memory limit) under load
LOADED = 10.0  # a job's wall time at most this many times its limit while its CPU time stays under it
# (3 was too few: four jobs on two loaded cores stopped one at 6 s of wall time after 0.9 s of CPU)


def _cpu_seconds(pid: int) -> float | None:
    """A process's CPU time, user and system, from /proc (None where there is none): the time limit
    counts the submission's own work, not the machine's load (a wall-clock limit timed out the same
    file under `-j 2` that it graded alone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _worker(conn: Any, work: Work, memory_mb: int, parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C does to a worker
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the parent around fork
    _die_with(parent_pid)
    _one_blas_thread()
    start: int | None = None
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        # Each job: the allowance above what the worker holds now, after the garbage (the parent's,
        # the last job's cycles) is freed and every free chunk (inherited, or left by earlier jobs)
        # is claimed, so no job's limit depends on the jobs before it.
        gc.collect()
        gc.freeze()  # (what survives, the worker's caches, is not scanned again)
        base = limit_memory(memory_mb, first=start is None)
        start = base if start is None else start
        conn.send(STARTED)  # the job's time limit counts from here
        fresh = True
        try:
            result = work(job)
        except MemoryError:
            result, fresh = {"error": "memory"}, False
        except Exception as err:  # noqa: BLE001 - a bug in the grader: one row says so, the batch goes on
            result = {"error": f"internal error ({type(err).__name__})"}
        now = vm_data()  # grown by a whole allowance (kept, or claimed and never freed): a fresh fork
        retire = not fresh or (start is not None and now is not None and now - start > memory_mb * 1024 * 1024)
        conn.send((result, retire))
        if retire:
            conn.close()
            return  # the parent forks a fresh worker when it next has a job


class _Slot:
    """One worker: its process, its pipe, and the job it is running (with its start and deadline)."""

    def __init__(self, ctx: Any, work: Work, memory_mb: int) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker, args=(child, work, memory_mb, os.getpid()), daemon=True)
        self.job: tuple[Job, float, float, float | None] | None = None  # (job, start, deadline, CPU at start)
        blocking = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
        old: set[Any] = set()
        if blocking:  # the worker starts with SIGINT blocked and ignores it before unblocking
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.proc.start()
        finally:
            if blocking:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
            child.close()

    def stop(self, patience: float = 0.0) -> None:
        """Kill (after `patience` seconds to finish on its own) and reap the worker."""
        try:
            if self.proc.pid is not None and self.proc.exitcode is None:  # not yet reaped: the pid is ours
                if patience:
                    self.proc.join(patience)
                if self.proc.exitcode is None:
                    self.proc.kill()
                    self.proc.join()
        except (OSError, ValueError, AssertionError):
            pass
        self.conn.close()


def run(ctx: Any, work: Work, jobs: list[Job], size: int, timeout: float,
        memory_mb: int) -> Generator[tuple[Job, str, dict[str, Any] | None, float], None, None]:
    """(job, status, result, seconds) per job as each finishes: status is "graded", "timeout" or
    "crashed" (the worker died without answering)."""
    slots: list[_Slot] = []
    previous = signal.getsignal(signal.SIGINT)
    guard = (threading.current_thread() is threading.main_thread() and previous is not None
             and previous != signal.SIG_IGN)

    def interrupted(signum: int, frame: Any) -> None:
        for s in slots:
            s.stop()
        signal.signal(signal.SIGINT, previous)
        if callable(previous):
            previous(signum, frame)
        else:  # SIG_DFL, or a handler not set from Python: the default action
            signal.raise_signal(signal.SIGINT)

    if guard:
        signal.signal(signal.SIGINT, interrupted)
    pending = deque(jobs)
    retried: set[Job] = set()  # jobs given a second worker
    try:
        while pending or any(s.job for s in slots):
            while pending and (len(slots) < size or any(s.job is None for s in slots)):
                idle = next((s for s in slots if s.job is None), None)
                if idle is None:
                    idle = _Slot(ctx, work, memory_mb)
                    slots.append(idle)
                try:
                    idle.conn.send(pending[0])
                except OSError:  # the idle worker died (killed from outside): a fresh one takes the job
                    idle.stop()
                    slots.remove(idle)
                    continue
                start = time.perf_counter()
                idle.job = (pending.popleft(), start, start + SETUP + timeout, None)  # until it starts
            busy = [s for s in slots if s.job is not None]
            left = max(0.0, min(s.job[2] for s in busy if s.job) - time.perf_counter())
            ready = wait([s.conn for s in busy], left)
            now = time.perf_counter()
            for s in busy:
                assert s.job is not None
                job, start = s.job[0], s.job[1]
                if s.conn in ready:
                    try:
                        answer = s.conn.recv()
                        if answer == STARTED:
                            s.job = (job, now, now + timeout, _cpu_seconds(s.proc.pid))
                            continue
                        result, retire = answer
                        status = "graded" if not retire else "retired"
                    except (EOFError, OSError):
                        result, status = None, "crashed"
                elif now >= s.job[2]:
                    cpu0, cpu = s.job[3], _cpu_seconds(s.proc.pid)
                    if cpu0 is not None and cpu is not None and cpu - cpu0 < timeout and now < start + LOADED * timeout:
                        s.job = (job, start, min(now + timeout - (cpu - cpu0) + 0.05, start + LOADED * timeout), cpu0)
                        continue  # (a loaded machine: the job had less than its time of CPU)
                    result, status = None, "timeout"
                else:
                    continue
                s.job = None
                if status != "graded":
                    s.stop(patience=5.0 if status == "retired" else 0.0)
                    slots.remove(s)
                if status == "crashed" and job not in retried:
                    # once more on a fresh worker: this one may have been dying before the job came (killed
                    # from outside while idle: a killed process's socket stays open until its last thread
                    # exits, so the send succeeded); a submission that crashes it twice crashed it
                    retried.add(job)
                    pending.appendleft(job)
                    continue
                yield job, "graded" if status == "retired" else status, result, round(now - start, 3)
    finally:
        for s in slots:
            try:
                if s.proc.exitcode is None:
                    s.conn.send(None)
            except (OSError, ValueError):
                pass
        for s in slots:
            s.stop(patience=1.0)
        if guard:
            signal.signal(signal.SIGINT, previous)
