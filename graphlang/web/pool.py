"""Untrusted programs evaluated in worker processes: a time limit per evaluation, a memory limit per
worker, a bounded queue.

Each worker is a separate Python process (`worker.py`) with its address space capped, talking
over its stdin/stdout. A request takes an idle worker, sends it the task and body, and waits at
most `timeout` seconds for the answer. A worker that overruns, or dies (out of memory), is killed
and replaced in the background, and the request gets a clean `limit` error. When every worker is
busy, requests wait for one, at most `max_waiting` of them; beyond that, or after waiting
`queue_timeout` seconds, the answer is 503. The event loop never evaluates anything, so the server
keeps answering.
"""

from __future__ import annotations

import asyncio
import os
import struct
import sys
from pathlib import Path
from typing import Any

import graphlang
from graphlang.web.worker import READY, TASKS, error

START_TIMEOUT = 60.0  # seconds for a new worker to import graphlang


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, command: list[str]) -> _Worker:
        env = dict(os.environ)
        root = str(Path(graphlang.__file__).resolve().parent.parent)  # the same graphlang as the server's
        env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"  # one thread per worker: the pool is the parallelism
        proc = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE, env=env)
        worker = cls(proc)
        if await asyncio.wait_for(worker.read(), START_TIMEOUT) != READY:
            worker.kill()
            raise OSError("a worker process did not start")
        return worker

    async def read(self) -> bytes:
        assert self.proc.stdout is not None
        head = await self.proc.stdout.readexactly(4)
        return await self.proc.stdout.readexactly(struct.unpack(">I", head)[0])

    async def exchange(self, message: bytes, timeout: float) -> tuple[int, bytes]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(struct.pack(">I", len(message)) + message)
        await self.proc.stdin.drain()
        data = await asyncio.wait_for(self.read(), timeout)
        return int(data[:3]), data[3:]

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


class Pool:
    """`await pool.submit("run", body)` -> (status, JSON bytes), never raising for a user's input."""

    def __init__(self, workers: int = 2, timeout: float = 5.0, memory_mb: int = 1024,
                 max_waiting: int = 256, queue_timeout: float = 30.0, command: list[str] | None = None) -> None:
        self.size, self.timeout, self.max_waiting, self.queue_timeout = workers, timeout, max_waiting, queue_timeout
        self.command = command or [sys.executable, "-m", "graphlang.web.worker", str(memory_mb)]
        self.waiting = 0
        self.restarts = 0
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()
        self._dying: set[_Worker] = set()  # killed, not yet reaped (close waits for them too)
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        if self._idle is not None:
            return
        self._idle = asyncio.Queue()
        for worker in await asyncio.gather(*[_Worker.start(self.command) for _ in range(self.size)]):
            self._all.add(worker)
            self._idle.put_nowait(worker)

    async def submit(self, task: str, body: bytes) -> tuple[int, bytes]:
        if task not in TASKS:
            raise KeyError(task)
        await self.start()
        assert self._idle is not None
        if self.waiting >= self.max_waiting:
            return error(503, "limit", "the server is busy", hint="try again in a moment")
        self.waiting += 1
        try:
            worker = await asyncio.wait_for(self._idle.get(), self.queue_timeout)
        except asyncio.TimeoutError:
            return error(503, "limit", "the server is busy", hint="try again in a moment")
        finally:
            self.waiting -= 1
        try:
            answer = await worker.exchange(task.encode() + b"\0" + body, self.timeout)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
            self._replace(worker)
            return error(422, "limit", f"the evaluation took longer than {self.timeout:g} s or ran out of "
                         "memory, and was stopped", hint="use a smaller program or smaller tensors")
        except BaseException:  # cancelled mid-exchange: the worker's state is unknown
            self._replace(worker)
            raise
        self._idle.put_nowait(worker)
        return answer

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._all.discard(worker)
        self._dying.add(worker)
        if self._idle is None:  # closing
            return
        self.restarts += 1
        task = asyncio.get_running_loop().create_task(self._restart(worker))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _restart(self, old: _Worker) -> None:
        await old.proc.wait()
        self._dying.discard(old)
        idle = self._idle
        while idle is not None and idle is self._idle:
            try:
                new = await _Worker.start(self.command)
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(1.0)  # no process to be had now: try again
                continue
            self._all.add(new)
            idle.put_nowait(new)
            return

    async def close(self) -> None:
        self._idle = None
        for task in list(self._tasks):
            task.cancel()
        # (and those killed but not yet reaped: a process left to the garbage collector after the loop
        # closed warned "Exception ignored in BaseSubprocessTransport.__del__" in the tests)
        workers, self._all, self._dying = [*self._all, *self._dying], set(), set()
        for worker in workers:
            worker.kill()
        for worker in workers:
            await worker.proc.wait()
