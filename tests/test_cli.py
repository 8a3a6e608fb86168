"""The command line itself: the program from standard input, help, completion."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def _graphlang(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "COLUMNS": "100", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "graphlang", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120)


def test_dash_reads_the_program_from_stdin():
    ran = _graphlang("run", "-", "--at", "x=3", "--json", stdin="y = x*x + 1\n")
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["value"] == 10.0 and out["gradient"] == {"x": 6.0}  # closed form: 2x at x=3


def test_stdin_errors_are_located_in_stdin():
    ran = _graphlang("grad", "-", "--at", "x=-3", stdin="a = x * 2\ny = ln(a)\n")
    assert ran.returncode == 1
    assert ran.stderr.startswith("<stdin>:2:5: domain error")


def test_dash_in_process():
    from typer.testing import CliRunner

    from graphlang.cli.app import app
    res = CliRunner().invoke(app, ["run", "-", "--at", "x=0", "--json"], input="y = sin(x)\n")
    assert res.exit_code == 0 and json.loads(res.stdout)["gradient"] == {"x": 1.0}  # cos(0)
