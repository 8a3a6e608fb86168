"""`graphlang serve` under load: 200 concurrent requests from one bounded client loop on 127.0.0.1.

The mix: the lecture's run and grad by every method, lesson bundles, programs with errors,
oversize bodies (413), deeply nested JSON, huge values, programs over the strict limits, and a
program whose lesson takes long. Every answer must be the right one (the same JSON the library
gives in-process) or a clean JSON error; afterwards the server must still answer correctly.

    python bench/web_load.py [--requests 200] [--workers 2]

prints the throughput (and `--markdown`, the table for bench/README.md). `tests/test_web.py`
runs the same check with the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphlang.web.app import MAX_BODY, create_app  # noqa: E402
from graphlang.web.worker import handle  # noqa: E402

LECTURE = (Path(__file__).resolve().parent.parent / "programs" / "lecture13.cg").read_text()


def _chain(n: int) -> str:
    return "a0 = x\n" + "".join(f"a{i} = sin(a{i - 1}) + x\n" for i in range(1, n)) + f"y = a{n - 1}\n"


def mix(n: int, kind: str = "mix") -> list[tuple[str, bytes, Any]]:
    """(path, body, expected (status, JSON) or "lesson") for n requests; `kind="lecture"`: the
    lecture's run only."""
    ok_runs = [{"program": LECTURE, "at": "x=2,z=3"},
               *({"program": LECTURE, "at": "x=2,z=3", "method": m} for m in ("reverse", "forward", "fd", "symbolic")),
               {"program": "y = sum(A @ v)\n", "at": {"A": [[1, 2], [3, 4]], "v": [1, -1]}, "method": "forward"},
               {"program": "a = x *\n", "at": "x=1"},  # a located syntax error: the CLI's error JSON
               {"program": "y = ln(x)\n", "at": "x=-1"},  # a domain error
               {"program": _chain(150), "at": "x=0.5"}]
    bad = [(b'{"program": "y = x", "at": {"x": ' + b"[" * 20000 + b"]" * 20000 + b"}}"),  # deep JSON
           json.dumps({"program": "y = x\n", "at": "x=" + "[" * 40 + "1" + "]" * 40}).encode(),  # deep value
           json.dumps({"program": "y = " + "(" * 5000 + "x" + ")" * 5000, "at": "x=1"}).encode(),  # deep nesting
           json.dumps({"program": "y = " + " + ".join(["x"] * 30000), "at": "x=1"}).encode(),  # huge statement
           json.dumps({"program": "y = sum(W @ W @ W)\n", "at": {"W": [[0.5] * 180] * 180}}).encode(),  # big
           json.dumps({"program": "y = sum(exp(W @ W))\n", "at": {"W": [[0.5] * 600] * 600}}).encode(),  # 413
           b"{" + b" " * (400 * 1024) + b"}",  # oversize: 413
           b"not json at all"]
    plans: list[tuple[str, bytes, Any]] = []
    for i in range(n):
        k = i % 10 if kind == "mix" else 0
        if k < 6:
            body = json.dumps(ok_runs[i % len(ok_runs)] if kind == "mix" else ok_runs[0]).encode()
            plans.append(("/api/run", body, handle("run", body)))
        elif k < 8:
            req = {"program": LECTURE if k == 6 else _chain(180), "at": "x=2,z=3" if k == 6 else "x=0.5"}
            plans.append(("/api/lesson", json.dumps(req).encode(), "lesson"))
        else:
            body = bad[i % len(bad)]
            plans.append(("/api/run", body, (413, None) if len(body) > MAX_BODY else handle("run", body)))
    return plans


def check(status: int, text: str, expect: Any) -> str | None:
    """None when the answer is the expected one or a clean refusal (busy, time limit); else what is wrong."""
    try:
        got = json.loads(text)
    except ValueError:
        return f"not JSON ({status}): {text[:80]!r}"
    if status in (503, 422) and set(got) == {"error"} and got["error"].get("kind") == "limit":
        return None  # busy, or the time limit: clean
    if expect == "lesson":
        return None if status == 200 and "graph" in got and "run" in got else f"bad lesson {status}: {text[:120]}"
    want_status, want = expect
    if status != want_status:
        return f"status {status}, expected {want_status}: {text[:120]!r}"
    if want is None:
        return None if set(got) == {"error"} and got["error"]["kind"] == "limit" else f"not a clean 413: {text[:80]}"
    return None if text.encode() == want else f"wrong answer {status}: {text[:120]!r}"


async def request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, str]:
    """One HTTP/1.1 exchange on a fresh connection to 127.0.0.1 (a plain asyncio client: an HTTP
    library's own overhead would be what this measured)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = b""
    try:
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        try:
            await writer.drain()
        except ConnectionError:  # refused early (413): the answer is already on its way
            pass
        data = b""
        while chunk := await reader.read(65536):
            data += chunk
    except ConnectionResetError:
        if not data:
            raise
    finally:
        writer.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload.decode("utf-8")


async def fire(port: int, plans: list[tuple[str, bytes, Any]], concurrency: int) -> dict[str, Any]:
    bound = asyncio.Semaphore(concurrency)  # the client loop is bounded: at most this many in flight

    async def one(path: str, body: bytes, expect: Any) -> tuple[int, float, str | None]:
        async with bound:
            t0 = time.perf_counter()
            try:
                status, text = await request(port, "POST", path, body)
            except (ConnectionError, OSError) as err:  # a server that drops a connection fails the run
                return 0, time.perf_counter() - t0, f"connection failed: {err}"
            return status, time.perf_counter() - t0, check(status, text, expect)
    start = time.perf_counter()
    results = await asyncio.gather(*(one(*p) for p in plans))
    wall = time.perf_counter() - start
    health = json.loads((await request(port, "GET", "/api/health"))[1])
    lecture = json.dumps({"program": LECTURE, "at": "x=2,z=3"}).encode()
    status, text = await request(port, "POST", "/api/run", lecture)
    still = check(status, text, handle("run", lecture))
    statuses: dict[int, int] = {}
    for s, _, _ in results:
        statuses[s] = statuses.get(s, 0) + 1
    lat = sorted(t for _, t, _ in results)
    return {"requests": len(plans), "wall_s": wall, "per_s": len(plans) / wall,
            "statuses": dict(sorted(statuses.items())),
            "p50_ms": 1000 * statistics.median(lat), "p95_ms": 1000 * lat[int(0.95 * (len(lat) - 1))],
            "problems": [p for _, _, p in results if p], "still_answering": health.get("ok") is True and still is None,
            "restarts": health.get("restarts")}


class Server:
    """`graphlang serve` on 127.0.0.1 and a free port: in a thread of this process, or (`process=True`,
    for measuring) as its own process, so that the client does not share its interpreter."""

    def __init__(self, workers: int = 2, timeout: float = 5.0, process: bool = False) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None
        self.args = [sys.executable, "-m", "graphlang", "serve", "--port", str(self.port), "--workers", str(workers),
                     "--timeout", str(timeout)] if process else None
        app = create_app(workers=workers, timeout=timeout, allowed_hosts=["127.0.0.1", "localhost"])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    limit_concurrency=512))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        if self.args:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL)
            while time.monotonic() < deadline:
                try:
                    if asyncio.run(request(self.port, "GET", "/api/health"))[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            return base
        self.thread.start()
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return base

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            return
        self.server.should_exit = True
        self.thread.join(30)


def run(requests: int = 200, workers: int = 2, timeout: float = 5.0, kind: str = "mix",
        process: bool = False) -> dict[str, Any]:
    plans = mix(requests, kind)
    server = Server(workers, timeout, process)
    with server:
        return asyncio.run(fire(server.port, plans, concurrency=requests))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--kind", choices=("mix", "lecture"), default="mix")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    out = run(args.requests, args.workers, args.timeout, args.kind, process=True)
    if args.markdown:
        print(f"| {args.kind} | {out['requests']} | {args.workers} | {out['wall_s']:.2f} s | {out['per_s']:.0f} | "
              f"{out['p50_ms']:.0f} ms | {out['p95_ms']:.0f} ms | {out['statuses']} | {len(out['problems'])} | "
              f"{'yes' if out['still_answering'] else 'NO'} | {os.cpu_count()} |")
    else:
        print(json.dumps(out, indent=1))
    sys.exit(0 if not out["problems"] and out["still_answering"] else 1)


if __name__ == "__main__":
    main()
