"""The adversarial corpus: exit status, kind and location, never a traceback, under a second."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from adversarial import AT_FILE_CASES, CORPUS
from conftest import ROOT, run_cli


def test_corpus_is_large_enough():
    assert len(CORPUS) + len(AT_FILE_CASES) >= 40


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_case(case, tmp_path):
    path = case.file or str(tmp_path / "p.cg")
    if case.file is None:
        data = case.program if isinstance(case.program, bytes) else (case.program or "").encode()
        (tmp_path / "p.cg").write_bytes(data)
    ran = run_cli("run", path, *case.args)  # how long each case takes is measured by tests/adversarial.py
    assert ran.code == case.exit, ran.err
    assert "Traceback" not in ran.out + ran.err
    assert "\x1b" not in ran.err
    if case.exit:
        assert ran.err.strip()
    if case.kind:
        assert f"{case.kind} error" in ran.err, ran.err
    if case.line:
        assert f":{case.line}:" in ran.err, ran.err
    if case.exit == 1:
        obj = run_cli("run", path, *case.args, "--json").json()
        assert obj["error"]["kind"] == case.kind and obj["error"]["line"] == case.line


@pytest.mark.parametrize("name,text,code,kind", AT_FILE_CASES, ids=[c[0] for c in AT_FILE_CASES])
def test_at_file_cases(name, text, code, kind, tmp_path):
    prog = tmp_path / "p.cg"
    prog.write_text("y = x\n")
    values = tmp_path / "v.json"
    values.write_text(text)
    ran = run_cli("run", str(prog), "--at-file", str(values))
    assert ran.code == code and f"{kind} error" in ran.err and "Traceback" not in ran.err


def test_ctrl_c_is_one_line_and_130(tmp_path):
    prog = tmp_path / "big.cg"
    # big enough to still be parsing when the signal comes, even on a fast machine
    prog.write_text("a0 = x\n" + "".join(f"a{i} = sin(a{i - 1}) + a{i - 1} * 0.5\n" for i in range(1, 120_000)))
    proc = subprocess.Popen([sys.executable, "-m", "graphlang", "run", str(prog), "--at", "x=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    time.sleep(1.0)
    assert proc.poll() is None, "the program finished before the signal"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip() == "graphlang: interrupted"


COMMANDS = [["grad", "--method", "forward"], ["grad", "--method", "symbolic"], ["grad", "--method", "fd"],
            ["diff"], ["diff", "--program"], ["explain"], ["graph"], ["gradcheck"], ["hessian"],
            ["tangents"]]
SOME = [c for c in CORPUS if c.program is not None and c.exit == 1][::3]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
@pytest.mark.parametrize("case", SOME, ids=[c.name for c in SOME])
def test_every_command_handles_the_corpus(case, command, tmp_path):
    """The same hostile programs through every command: a located error, never a traceback."""
    path = tmp_path / "p.cg"
    path.write_bytes(case.program if isinstance(case.program, bytes) else case.program.encode())
    args = [a for a in case.args if a != "--frobnicate"]
    if command[0] == "diff":
        args = []
    ran = run_cli(command[0], str(path), *command[1:], *args)
    assert "Traceback" not in ran.out + ran.err
    assert ran.code in (0, 1, 2)
    if ran.code:
        assert " error: " in ran.err
