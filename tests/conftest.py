"""Shared helpers: the CLI in-process (real exit codes, separate stdout/stderr)."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from graphlang.cli.app import app

# The suite explores a fixed set of examples (same result on every run and machine); the long
# randomized search is `python tests/fuzz.py N`.
settings.register_profile("suite", derandomize=True, database=None, print_blob=True)
settings.load_profile("suite")

# A compiled plan that fails to build for any reason but size is a bug in the generated code: raised
# in the suite (and in the CLI it starts), not quietly interpreted (engines/fastpath.compile_refused).
os.environ.setdefault("GRAPHLANG_STRICT_COMPILE", "1")

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PROGRAMS = ROOT / "programs"


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


def run_cli(*args: str, width: int = 100) -> Ran:
    runner = CliRunner()
    res = runner.invoke(app, list(args), env={"COLUMNS": str(width), "NO_COLOR": "1", "TERM": "dumb"},
                        catch_exceptions=False)
    return Ran(res.exit_code, res.stdout, res.stderr)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def write(tmp_path):
    def _write(text: str, name: str = "prog.cg") -> str:
        p = tmp_path / name
        p.write_text(text)
        return str(p)
    return _write


def conformance_cases() -> list[dict]:
    return json.loads((DATA / "conformance.json").read_text())


@contextlib.contextmanager
def running_server(app: object, **config: object) -> Iterator[int]:
    """uvicorn serving `app` on a free loopback port in a thread: yields the port, stops it after."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(600):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    try:
        yield port
    finally:
        srv.should_exit = True
        thread.join(30)
