"""Shared helpers: the CLI in-process (real exit codes, separate stdout/stderr)."""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from graphlang.cli.app import app

# The suite explores a fixed set of examples (same result on every run and machine); the long
# randomized search is `python tests/fuzz.py N`.
settings.register_profile("suite", derandomize=True, database=None, print_blob=True)
settings.load_profile("suite")

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
