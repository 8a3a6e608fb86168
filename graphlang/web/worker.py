"""A worker process of the web server (`python -m graphlang.web.worker MEMORY_MB`).

It caps its own address space, says it is ready, then answers requests on stdin/stdout, one frame
each way: `len task NUL body` in, `len status json` out (len: 4 bytes, big-endian). Whatever goes
wrong inside becomes a clean JSON error; the server kills a worker that overruns its time.
"""

from __future__ import annotations

import struct
import sys
import traceback
from typing import BinaryIO

from graphlang.errors import GraphlangError
from graphlang.present import jsonout
from graphlang.web import compute

MAX_ANSWER_BYTES = 8_000_000  # JSON sent back for one request
TASKS = {"run": (compute.answer, compute.RUN_KEYS), "lesson": (compute.lesson_answer, compute.LESSON_KEYS)}
READY = b"ready"


def error(status: int, kind: str, message: str, hint: str | None = None) -> tuple[int, bytes]:
    return status, jsonout.dumps(jsonout.error(GraphlangError(kind, message, hint=hint))).encode()


def handle(task: str, body: bytes) -> tuple[int, bytes]:
    """One request, answered as (HTTP status, JSON bytes)."""
    fn, keys = TASKS[task]
    try:
        req = compute.request(body, keys)
    except GraphlangError as err:
        return (400 if err.kind == "usage" else 422), jsonout.dumps(jsonout.error(err)).encode()
    status, obj = fn(req)
    try:
        data = jsonout.dumps(obj).encode()
    except ValueError:  # a non-finite number would be a bug: never send NaN
        return error(500, "internal", "the answer held a non-finite number")
    if len(data) > MAX_ANSWER_BYTES:
        return error(422, "limit", f"the answer would be {len(data):,} bytes of JSON; the playground sends "
                     f"at most {MAX_ANSWER_BYTES:,}", hint="use smaller tensors, or the command line")
    return status, data


def answer(message: bytes) -> tuple[int, bytes]:
    task, _, body = message.partition(b"\0")
    try:
        return handle(task.decode(), body)
    except MemoryError:
        return error(422, "limit", "out of memory: the program or its values are too large")
    except Exception:  # a bug: the server's console gets the traceback, the user a clean error
        traceback.print_exc(file=sys.stderr)
        return error(500, "internal", "the evaluation failed unexpectedly (the server's console has the details)")


def _read(stream: BinaryIO, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def main(argv: list[str]) -> None:
    memory_mb = int(argv[0]) if argv else 1024
    try:
        import resource
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    write_frame(stdout, READY)
    while True:
        head = _read(stdin, 4)
        if head is None:
            return
        message = _read(stdin, struct.unpack(">I", head)[0])
        if message is None:
            return
        status, data = answer(message)
        write_frame(stdout, b"%03d" % status + data)


if __name__ == "__main__":
    main(sys.argv[1:])
