"""The web server (`graphlang serve`): one page, its two assets, and a small JSON API.

    POST /api/run     {"program": "...", "at": "x=2,z=3" | {"x": 2}, "method"?, "wrt"?, "epsilon"?,
                      "direction"?}  ->  exactly what `graphlang run/grad --strict --json` prints
                      (200; a usage error 400, a program error 422, with the CLI's {"error": ...})
    POST /api/lesson  {"program", "at"}  ->  what the page draws (`compute.lesson`)
    GET  /api/health  ->  {"ok": true}

Safety: bodies over `max_body` bytes are refused with 413 before they are read; every evaluation
runs in a worker process under the checker's strict limits, a time limit and a memory limit
(`pool.py`); no request names a file; answers are JSON or the page, never a traceback; the page
loads nothing from another origin (Content-Security-Policy), and the API refuses a browser's request
made by another site's page. Bound to a loopback address, the server answers only requests
addressed to localhost (against DNS rebinding).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import webbrowser
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graphlang.errors import GraphlangError
from graphlang.web import guard, page
from graphlang.web.pool import Pool
from graphlang.web.worker import error

MAX_BODY = 256 * 1024  # bytes; the strict limit on a program's text is 200,000 characters
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _error(status: int, kind: str, message: str) -> Response:
    """A refusal before any evaluation, in the CLI's error shape."""
    return Response(error(status, kind, message)[1], status_code=status, media_type="application/json",
                    headers=HEADERS)


def _cross_site(request: Request) -> bool:
    """A browser's request made by another site's page (it sends Origin, or Sec-Fetch-Site): refused,
    so that no web page a student visits can spend their machine on evaluations. Scripts (curl,
    requests) send neither."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        return True
    return request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")


class TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The body, refusing more than `limit` bytes (by Content-Length, and while it streams in)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(workers: int = 2, timeout: float = 5.0, max_body: int = MAX_BODY,
               allowed_hosts: list[str] | None = None, memory_mb: int = 1024) -> Starlette:
    """The ASGI app. `allowed_hosts` (e.g. loopback names) guards against DNS rebinding."""
    pool = Pool(workers=workers, timeout=timeout, memory_mb=memory_mb)
    index = page.served().encode()
    assets = {name: page.asset(name).encode() for name in page.ASSETS}

    async def home(request: Request) -> Response:
        return Response(index, media_type="text/html; charset=utf-8", headers=HEADERS)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            return _error(404, "usage", "no such file")
        return Response(assets[name], media_type=page.ASSETS[name], headers=HEADERS)

    def api(task: str) -> Any:
        async def endpoint(request: Request) -> Response:
            if _cross_site(request):
                return _error(403, "usage", "requests from another site are refused")
            try:
                body = await _body(request, max_body)
            except TooLarge:
                return _error(413, "limit", f"the request is larger than {max_body:,} bytes")
            status, data = await pool.submit(task, body)
            return Response(data, status_code=status, media_type="application/json", headers=HEADERS)
        return endpoint

    async def health(request: Request) -> Response:
        return Response(json.dumps({"ok": True, "restarts": pool.restarts}), media_type="application/json",
                        headers=HEADERS)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await pool.start()
        try:
            yield
        finally:
            await pool.close()

    routes = [Route("/", home), Route("/static/{name}", static), Route("/api/health", health),
              Route("/api/run", api("run"), methods=["POST"]), Route("/api/lesson", api("lesson"), methods=["POST"])]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)] if allowed_hosts else []
    async def refused(request: Request, exc: Exception) -> Response:  # 404, 405: JSON, with the headers
        status = getattr(exc, "status_code", 404)
        return _error(status, "usage", "no such page" if status == 404 else f"{request.method} is not allowed here")

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={404: refused, 405: refused})
    app.state.pool = pool
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 2, timeout: float = 5.0,
          open_browser: bool = False) -> None:
    """Run the server until Ctrl-C (uvicorn)."""
    loopback = host in LOOPBACK
    try:  # a clear usage error, before uvicorn would exit with its own message
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host.strip("[]"), port))
    except OSError as err:
        raise GraphlangError("usage", f"cannot listen on {host}:{port}: {err.strerror or err}",
                             hint="choose another --port, or stop the program that uses it") from None
    app = create_app(workers=workers, timeout=timeout,
                     allowed_hosts=[h for h in LOOPBACK if not h.startswith("::")] if loopback else None)
    url = f"http://{'localhost' if loopback else host}:{port}/"
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            limit_concurrency=512, timeout_keep_alive=5, http=guard.protocol())
    server = uvicorn.Server(config)
    print(f"graphlang playground on {url}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    server.run()
