"""The playground's HTTP protocol against slow and greedy clients (a red team's finds): a request
that never finishes is closed at its deadline, one address holds a bounded number of connections,
and an honest client is served throughout. A real uvicorn server on a free port, small limits."""

from __future__ import annotations

import socket

import pytest
from conftest import running_server

pytest.importorskip("uvicorn")
from graphlang.web import guard  # noqa: E402
from graphlang.web.app import create_app  # noqa: E402

LIMIT = 30.0  # seconds a socket waits for the server: generous (a loaded laptop), never the assertion


@pytest.fixture(scope="module")
def port():
    app = create_app(workers=1, timeout=20.0, allowed_hosts=["127.0.0.1"])
    with running_server(app, http=guard.protocol(request_seconds=3.0, per_client=4)) as free:
        yield free


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=LIMIT)
    return s


def _health(port: int) -> bytes:
    with _connect(port) as s:
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        return data


def test_a_request_that_never_finishes_is_closed_and_others_are_served(port):
    half = _connect(port)
    half.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: the headers never end
    assert _health(port).startswith(b"HTTP/1.1 200")  # served meanwhile
    assert half.recv(4096) == b""  # closed by the server (at its 3 s deadline), not by this socket's timeout
    half.close()
    trickle = _connect(port)  # a body announced and never sent
    trickle.sendall(b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n{\"program\": ")
    assert trickle.recv(4096) == b""
    trickle.close()


def test_one_address_holds_a_bounded_number_of_connections(port):
    held = [_connect(port) for _ in range(4)]  # the cap: each sends nothing (each closed at its deadline)
    extra = _connect(port)  # (accepted after them, within their 3 s: over the cap)
    extra.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    try:
        assert extra.recv(4096) == b""  # refused: closed before it is read
    except ConnectionResetError:
        pass
    extra.close()
    for s in held:
        assert s.recv(4096) == b""  # their deadline closes them
        s.close()
    assert _health(port).startswith(b"HTTP/1.1 200")  # the slots are free again
