"""REPL (pipe input, plain lines, a real terminal), graph drawings, notebook reprs."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time

import pytest
from conftest import PROGRAMS, ROOT
from rich.console import Console

import graphlang
from graphlang.repl import ReplSession, is_complete, run_lines, run_prompt

LECTURE_LINES = ["a = x * z", "b = ln(x)", "c = sin(b)", "d = exp(a)", "e = a / b", "f = c / a",
                 "y = d + e + f"]


def console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=100, color_system=None, highlight=False), buf


def test_session_builds_the_lecture_graph_and_keeps_state_on_errors():
    s = ReplSession()
    for line in LECTURE_LINES:
        assert s.handle(line) == []
    before = s.source
    shown = s.handle("y = 2 * x")  # redefinition: an error, state unchanged
    assert "redefined error" in shown[0].plain and s.source == before
    assert "syntax error" in s.handle("q = (x +")[0].plain and s.source == before
    s.handle(":at x=2 z=3")
    c, buf = console()
    for r in s.handle(":grad"):
        c.print(r)
    assert "1208.381215" in buf.getvalue() and "809.7074792" in buf.getvalue()
    s.handle(":undo")
    assert s.source.strip().splitlines()[-1] == "f = c / a"


def test_save_round_trips_to_run(tmp_path, cli):
    s = ReplSession()
    for line in LECTURE_LINES:
        s.handle(line)
    s.handle(f":save {tmp_path / 'p.cg'}")
    ran = cli("run", str(tmp_path / "p.cg"), "--at", "x=2,z=3", "--json")
    assert ran.code == 0 and ran.json()["gradient"]["x"] == pytest.approx(1208.3812151266097)


def test_completeness():
    assert not is_complete("W = [[1, 2],")
    assert not is_complete("f = c /")
    assert is_complete("f = c / a")
    assert is_complete(":run")


def test_scripted_lines():
    c, buf = console()
    code = run_lines(ReplSession(), c, io.StringIO("\n".join(LECTURE_LINES[:-1]) +
                                                   "\ny = d + e +\n  f\n:at x=2,z=3\n:run\n"))
    assert code == 0 and "412.1914573" in buf.getvalue()


def test_prompt_toolkit_pipe_input(tmp_path, monkeypatch):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = ReplSession()
    c, buf = console()
    with create_pipe_input() as inp:
        for line in LECTURE_LINES + ["y = 1", ":at x=2 z=3", ":grad", ":quit"]:
            inp.send_text(line + "\r")
        run_prompt(s, c, input=inp, output=DummyOutput())
    out = buf.getvalue()
    assert "redefined error" in out and "1208.381215" in out
    assert (tmp_path / "graphlang" / "repl_history").exists()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_real_terminal_with_tmux(tmp_path):
    name = f"cgtest{int(time.time() * 1000) % 100000}"
    env = f"XDG_STATE_HOME={tmp_path} PROMPT_TOOLKIT_NO_CPR=1"
    cmd = f"cd {ROOT} && {env} {sys.executable} -m graphlang repl"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "50", cmd], check=True)
    try:
        subprocess.run(["tmux", "set-option", "-t", name, "remain-on-exit", "on"], check=False)

        def screen() -> str:
            return subprocess.run(["tmux", "capture-pane", "-p", "-t", name, "-S", "-200"],
                                  capture_output=True, text=True).stdout

        def wait_for(text: str) -> str:
            deadline = time.time() + 20
            while time.time() < deadline:
                shown = screen()
                if text in shown:
                    return shown
                time.sleep(0.1)
            raise AssertionError(f"{text!r} never appeared:\n{screen()}")

        wait_for("cg>")
        for line in LECTURE_LINES + ["q = oops(", ")", ":at x=2 z=3", ":grad", f":save {tmp_path}/s.cg"]:
            subprocess.run(["tmux", "send-keys", "-t", name, line, "Enter"], check=True)
            time.sleep(0.05)
        shown = wait_for("saved 7 statement(s)")
        assert "1208.381215" in shown, shown
        assert "unknown-function error" in shown
        subprocess.run(["tmux", "send-keys", "-t", name, ":quit", "Enter"], check=True)
        assert (tmp_path / "s.cg").read_text().count("\n") == 7
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False)


def test_dot_has_the_lecture_graph():
    pydot = pytest.importorskip("pydot")
    from graphlang.present.dot import to_dot
    prog = graphlang.load(PROGRAMS / "lecture13.cg")
    (g,) = pydot.graph_from_dot_data(to_dot(prog, {"x": 2, "z": 3}))
    nodes = {n.get_name().strip('"'): n for n in g.get_nodes() if n.get_name() not in ("node", "edge")}
    assert set(nodes) == {"x", "z", "a", "b", "c", "d", "e", "f", "y"}
    assert nodes["a"].get("xlabel").strip('"') == "a" and nodes["a"].get("label").startswith('"x·z')
    assert nodes["a"].get("shape") is None  # boxes come from the graph-wide default
    edges = {(e.get_source().strip('"'), e.get_destination().strip('"')) for e in g.get_edges()}
    assert edges == {("x", "a"), ("z", "a"), ("x", "b"), ("b", "c"), ("a", "d"), ("a", "e"), ("b", "e"),
                     ("c", "f"), ("a", "f"), ("d", "y"), ("e", "y"), ("f", "y")}
    assert all(e.get("label") is None for e in g.get_edges())  # no edge labels by default
    assert "g = 404.9" in nodes["a"].get("label")


def test_dot_partials_label_edges():
    from graphlang.present.dot import to_dot
    text = to_dot(graphlang.load(PROGRAMS / "lecture13.cg"), {"x": 2, "z": 3}, partials=True)
    assert '"c" -> "f" [label="1/a = 0.1667"]' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_and_png_rendering(cli, tmp_path):
    for ext, magic in (("svg", b"<?xml"), ("png", b"\x89PNG")):
        out = tmp_path / f"g.{ext}"
        assert cli("graph", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3", "-o", str(out)).code == 0
        assert out.read_bytes()[:5].startswith(magic[:4])


def test_missing_graphviz_writes_dot_and_says_so(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    ran = cli("graph", str(PROGRAMS / "lecture13.cg"), "-o", str(tmp_path / "g.svg"))
    assert ran.code == 0 and "Graphviz is not installed" in ran.err
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_terminal_view(cli):
    out = cli("graph", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3").out
    assert "d, e, f" in out and "404.9" in out


def test_notebook_reprs():
    prog = graphlang.load(PROGRAMS / "lecture13.cg")
    bundle = prog._repr_mimebundle_()
    assert "<pre>" in bundle["text/html"] and "a = x * z" in bundle["text/html"]
    if shutil.which("dot"):
        assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    html = prog.evaluate({"x": 2, "z": 3})._repr_html_()
    assert html.startswith("<pre") and "Forward pass" in html and "1208.381215" in html
    from graphlang.checker import grade_answers
    rep = grade_answers(prog, {"a": 6, "b": 1}, {"x": 2, "z": 3})
    assert "<table>" in rep._repr_html_()
    with pytest.raises(graphlang.GraphlangError) as info:
        graphlang.parse("a = 1\ny = sine(x)")
    lines = info.value._render_traceback_()
    assert lines[0].startswith("<program>:2:5: unknown-function error") and "Traceback" not in "".join(lines)
    assert any("^" in ln for ln in lines)
