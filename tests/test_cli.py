"""The command line itself: the program from standard input, help, completion."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys

import pytest
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


COMMAND_NAMES = ["run", "grad", "diff", "explain", "gradcheck", "tangents", "hessian", "check", "graph", "ir",
                 "repl", "train", "predict", "serve", "html"]


def test_top_level_help_has_full_summaries(cli):
    from graphlang.cli.app import COMMANDS
    short = cli("-h", width=200)
    assert short.code == 0 and short.out == cli("--help", width=200).out
    for command in COMMANDS:
        first = " ".join((command.__doc__ or "").strip().split("\n\n")[0].split())
        assert first in " ".join(short.out.split()), first  # never cut off with "..."
    assert "--install-completion" in short.out


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_every_command_has_examples_and_readable_metavars(cli, name):
    ran = cli(name, "-h", width=120)
    assert ran.code == 0
    assert "EXAMPLES" in ran.out and f"graphlang {name}" in ran.out.split("EXAMPLES")[1]
    for unreadable in ("<str>", "<list[str]>", "<int", "<float>", "{PROGRAM"):
        assert unreadable not in ran.out, (name, unreadable)
    if name not in ("serve", "repl"):
        assert "PROGRAM.cg" in ran.out.splitlines()[0] or name == "check"


def test_every_example_names_a_real_option(cli):
    """The EXAMPLES use only options that the command has (the help is not stale)."""
    from graphlang.cli.app import EXAMPLES
    for name, lines in EXAMPLES.items():
        options = cli(name, "-h", width=200).out.split("\nOptions:")[1]
        for line in lines:
            for word in line.split():
                if word.startswith("-") and len(word) > 1 and word != "-":
                    assert word.split("=")[0] in options, (name, word)


def test_shell_completion_completes_commands():
    env = {"_GRAPHLANG_COMPLETE": "complete_bash", "COMP_WORDS": "graphlang gra", "COMP_CWORD": "1"}
    ran = subprocess.run([sys.executable, "-m", "graphlang"], env={**env, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120)
    assert set(ran.stdout.split()) >= {"grad", "gradcheck", "graph"}
    # --show-completion finds the shell among its ancestors (shellingham): run it from one, as a
    # user's terminal does (a CI job's process may have none: re-parented to init)
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash to run --show-completion from")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    script = subprocess.run([bash, "-c", f"{shlex.quote(sys.executable)} -m graphlang --show-completion; true"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert script.returncode == 0 and "_GRAPHLANG_COMPLETE" in script.stdout, script.stderr


@pytest.mark.parametrize("argv", [["run", "{prog}", "--at-file", "{at}", "--json"],
                                  ["grad", "{prog}", "--at-file", "{at}", "--json"],
                                  ["check", "{long}", "--template"]])  # (Typer's path: Click said exit 1)
def test_a_reader_that_closes_the_pipe_gets_no_traceback(tmp_path, argv):
    """`graphlang run big.cg --json | head -c 10` ended in a BrokenPipeError traceback (exit 1)."""
    (tmp_path / "big.cg").write_text("input x[50000]\ny = sum(x * x)\n")
    (tmp_path / "at.json").write_text(json.dumps({"x": [0.5] * 50000}))  # megabytes of output: past any pipe buffer
    (tmp_path / "long.cg").write_text("v0 = x * 2\n" + "".join(f"v{i} = v{i - 1} + x\n" for i in range(1, 20_000)))
    args = [a.format(prog=tmp_path / "big.cg", at=tmp_path / "at.json", long=tmp_path / "long.cg") for a in argv]
    proc = subprocess.Popen([sys.executable, "-m", "graphlang", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(10)
    proc.stdout.close()  # as `head -c 10` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 141), err  # 141 = 128 + SIGPIPE; never 1, a program error
    assert head and "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize("argv", [["run", "programs/lecture13.cg", "--at", "x=2,z=3", "--json", "--bogus"],
                                  ["grad", "programs/lecture13.cg", "--at", "x=2,z=3", "--json", "--method"],
                                  ["explain", "programs/lecture13.cg", "--at", "x=2,z=3", "--json", "--nope"]])
def test_with_json_an_option_click_refuses_is_an_error_object_too(argv):
    """SPEC §3: with --json an error also prints {"error": ...} on stdout; Click's own usage errors
    (an unknown option, a missing value) printed only Click's text."""
    proc = subprocess.run([sys.executable, "-m", "graphlang", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    err = json.loads(proc.stdout)["error"]
    assert err["kind"] == "usage" and err["line"] is None and err["column"] is None
    assert err["message"] and err["message"].split(":")[0] in proc.stderr  # the same message on stderr


@pytest.mark.parametrize("method", [[], ["-m", "reverse"], ["-m", "symbolic"], ["-m", "forward"]])
def test_epsilon_with_an_exact_method_is_a_usage_error_not_ignored(method):
    """`--epsilon` sets the finite-difference step; with an exact method it was silently dropped."""
    proc = subprocess.run([sys.executable, "-m", "graphlang", "grad", "programs/lecture13.cg", "--at", "x=2,z=3",
                           "--epsilon", "1e-3", *method, "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["error"]["kind"] == "usage" and "--method fd" in proc.stderr
    fd = subprocess.run([sys.executable, "-m", "graphlang", "grad", "programs/lecture13.cg", "--at", "x=2,z=3",
                         "--epsilon", "1e-3", "-m", "fd", "--json"], cwd=ROOT, capture_output=True, text=True,
                        timeout=120)
    assert fd.returncode == 0 and json.loads(fd.stdout)["epsilon"]


def test_json_never_says_minus_zero():
    """`y = -x * x` at x = [0, 1] printed "value": [-0.0, -1.0] and a Jacobian of -0.0s where the
    tables show 0. Oracle: the closed forms -x² and diag(-2x)."""
    from typer.testing import CliRunner

    from graphlang.cli.app import app
    res = CliRunner().invoke(app, ["run", "-", "--at", "x=[0,1]", "--json"], input="input x[2]\ny = -x * x\n")
    assert res.exit_code == 0 and "-0.0" not in res.stdout
    out = json.loads(res.stdout)
    assert out["value"] == [0.0, -1.0] and out["jacobian"] == {"x": [[0.0, 0.0], [0.0, -2.0]]}


@pytest.mark.parametrize("argv", [["run", "programs/lecture13.cg", "--at-file", "a.json", "--at-file", "b.json"],
                                  ["graph", "programs/lecture13.cg", "-o", "a.svg", "--output", "b.svg"],
                                  ["grad", "programs/lecture13.cg", "--at", "x=2,z=3", "-m", "fd", "-m", "forward"]])
def test_a_one_value_option_given_twice_is_a_usage_error(cli, argv):
    """Click keeps the last value: `--at-file a --at-file b` read b alone, `-o a -o b` wrote one file."""
    res = cli(*argv)
    assert res.code == 2 and "given twice" in res.err, res.err


def test_repeatable_options_and_flags_may_repeat(cli):
    res = cli("run", "programs/lecture13.cg", "--at", "x=2", "--at", "z=3", "--json", "--json")
    assert res.code == 0 and res.json()["gradient"]["x"] > 0, res.err


def test_at_file_refuses_a_number_float64_would_make_0(cli, tmp_path):
    """`--at x=1e-400` was refused while `--at-file {"x": 1e-400}` silently became 0."""
    (tmp_path / "u.json").write_text('{"x": 1e-400}')
    res = cli("run", "programs/lecture13.cg", "--at-file", str(tmp_path / "u.json"))
    assert res.code == 2 and "too small for float64" in res.err
    (tmp_path / "z.json").write_text('{"x": 1e-300, "z": 0.0}')  # small, and 0 written as 0: values
    assert cli("run", "programs/lecture13.cg", "--at-file", str(tmp_path / "z.json")).err.count("too small") == 0


def _python_m(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphlang", *args], cwd=ROOT, capture_output=True, timeout=120,
                          env={**_env(), "PYTHONPATH": str(ROOT)}, **kw)


def _env() -> dict:
    import os
    return {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"}


def test_an_output_that_cannot_encode_unicode_gets_escapes_not_a_traceback():
    """PYTHONIOENCODING=ascii (or a C locale): the tables' ∂ raised UnicodeEncodeError, and so did
    a JSON error quoting the character. Now each is an escape, and the JSON stays valid."""
    lecture = ["run", "programs/lecture13.cg", "--at", "x=2,z=3"]
    ascii_env = {**_env(), "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "ascii"}
    ran = subprocess.run([sys.executable, "-m", "graphlang", *lecture], cwd=ROOT, capture_output=True,
                         env=ascii_env, timeout=120)
    assert ran.returncode == 0 and b"Traceback" not in ran.stderr and b"\\u2202y/\\u2202input" in ran.stdout
    ran.stdout.decode("ascii")
    bad = subprocess.run([sys.executable, "-m", "graphlang", "run", "-", "--json"], input="y = \u00e9\n".encode(),
                         cwd=ROOT, capture_output=True, env=ascii_env, timeout=120)
    assert bad.returncode == 1 and b"Traceback" not in bad.stderr
    assert json.loads(bad.stdout)["error"]["message"].startswith("the character U+00E9 (\u00e9)")


def test_closed_standard_streams_are_no_traceback():
    """`graphlang run - <&-` and `... >&-` ended in AttributeError tracebacks (sys.stdin/stdout None)."""
    import os
    closed_in = _python_m(["run", "-", "--json"], stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
    assert closed_in.returncode == 2 and b"Traceback" not in closed_in.stderr
    assert json.loads(closed_in.stdout)["error"]["kind"] == "io" and b"<stdin>: io error" in closed_in.stderr
    closed_out = _python_m(["run", "programs/lecture13.cg", "--at", "x=2,z=3"], preexec_fn=lambda: os.close(1))
    # the output is lost: exit 1 saying so, as coreutils' "write error" (it was exit 0, silently)
    assert closed_out.returncode == 1 and closed_out.stderr == b"graphlang: cannot write the output: " \
        b"standard output is closed\n"
    closed_err = _python_m(["run", "programs/lecture13.cg", "--at", "x=2,z=3"], preexec_fn=lambda: os.close(2))
    assert closed_err.returncode == 0 and b"412.19" in closed_err.stdout


def test_bytes_that_are_not_utf8_on_standard_input_are_located_at_stdin():
    ran = _python_m(["run", "-", "--at", "x=1"], input=b"y = x\xff\n")
    assert ran.returncode == 1 and ran.stderr.startswith(b"<stdin>:1:6: syntax error")


def test_process_substitution_is_read_and_a_planted_fifo_is_not(tmp_path):
    """`graphlang run <(cat p.cg) --at-file <(...)` was "not a regular file" (exit 2): a pipe the
    shell names /dev/fd/N is read; a FIFO elsewhere (with no writer it would block) is still refused."""
    import os
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    cmd = (f"{shlex.quote(sys.executable)} -m graphlang run <(echo 'y = x * 2') "
           "--at-file <(echo '{\"x\": 3}') --json")
    ran = subprocess.run([bash, "-c", cmd], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["gradient"] == {"x": 2.0}  # d(2x)/dx
    fifo = tmp_path / "p.cg"
    os.mkfifo(fifo)
    refused = _python_m(["run", str(fifo), "--at", "x=1"])
    assert refused.returncode == 2 and b"not a regular file" in refused.stderr


def test_at_file_reads_standard_input_as_dash_or_dev_stdin():
    """A docs red team's find: `… | graphlang run p.cg --at-file /dev/stdin` was "not a regular file".
    Oracle: d(2x)/dx = 2. `-` twice (program and values) is a usage error, not a JSON error."""
    for name in ("-", "/dev/stdin"):
        ran = _python_m(["run", "programs/lecture13.cg", "--at-file", name, "--json"], input=b'{"x": 2, "z": 3}')
        assert ran.returncode == 0 and json.loads(ran.stdout)["values"]["a"] == 6.0, ran.stderr
    for name in ("-", "/dev/stdin"):
        both = _python_m(["run", "-", "--at-file", name], input=b"y = 2 * x\n")
        assert both.returncode == 2 and b"standard input holds the program" in both.stderr, both.stderr
    ref = "programs/homework/reference.cg"  # (check reads the values before the reference and submission)
    graded = _python_m(["check", ref, "--at-file", "-", "--submission", "-"], input=b'{"x": 2, "z": 3}')
    assert graded.returncode == 2 and b"--at-file and --submission both read standard input" in graded.stderr

def test_a_program_read_from_stdin_in_process_does_not_refuse_a_later_commands_values(cli):
    """The flag that refuses `--at-file -` where the program came from stdin is one command's: an
    earlier in-process `run -` left it set for every later command (a review's concern)."""
    from conftest import app
    from typer.testing import CliRunner
    runner = CliRunner()
    first = runner.invoke(app, ["run", "-", "--at", "x=3", "--json"], input="y = 2 * x\n")
    assert first.exit_code == 0, first.output
    later = runner.invoke(app, ["run", "programs/lecture13.cg", "--at-file", "-", "--json"], input='{"x": 2, "z": 3}')
    assert later.exit_code == 0 and json.loads(later.stdout)["values"]["a"] == 6.0, later.output

def test_the_repl_with_a_closed_stdin_says_so():
    import os
    ran = _python_m(["repl"], stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
    assert ran.returncode == 2 and b"Traceback" not in ran.stderr and b"standard input is closed" in ran.stderr


def test_ir_of_declared_shapes_shows_them_or_their_shape_error(cli, write):
    """A student's find: `ir` printed a program whose declarations do not fit (A.T @ x + b with
    b[3] beside a [2]) and exited 0, where diff and graph said the shape error at 3:17."""
    bad = cli("ir", write("input x[3], b[3]\nparam A[3, 2]\ny = sum(A.T @ x + b)\n"))
    assert bad.code == 1 and ":3:17: shape error" in bad.err, bad.err
    good = cli("ir", write("input x[3], b[2]\nparam A[3, 2]\ny = sum(A.T @ x + b)\n"))
    assert good.code == 0 and "v5 = add v4 v1 : [2]" in good.out and "v3 = T v2 : [2, 3]" in good.out, good.out


def test_ir_takes_each_shape_from_a_value_or_a_declaration(cli, write):
    """A docs red team's find: one undeclared input hid every declared shape, and `--at x=…` for the
    undeclared one asked for a value of the declared W. Shapes by hand: W[2, 3] @ x[3] is [2]."""
    path = write("input W[2, 3]\nh = W @ x\ny = sum(h * h)\n")
    both = cli("ir", path, "--at", "x=[1,2,3]")
    assert both.code == 0 and "v0 = input W : [2, 3]" in both.out and "v2 = matmul v0 v1 : [2]" in both.out
    assert "v4 = sum v3 : scalar" in both.out, both.out
    part = cli("ir", path)
    assert part.code == 0 and "v0 = input W : [2, 3]" in part.out and "v1 = input x\n" in part.out
    assert "x has none" in part.out and "v2 = matmul v0 v1 " in part.out and ": [2]" not in part.out
    wrong = cli("ir", path, "--at", "W=[1,2]")  # checked though x is missing (as `run` now says it too)
    assert wrong.code == 1 and "'W' is declared with shape [2, 3] but its value has shape [2]" in wrong.err
    assert cli("run", path, "--at", "W=[1,2]").err == wrong.err
    assert cli("ir", path, "--at", "q=1").code == 1

def test_check_without_a_submission_says_which_to_give(cli):
    """A docs audit's find: "give exactly one of --answers, --submission or --batch" came with no hint."""
    from conftest import PROGRAMS
    ran = cli("check", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3")
    assert ran.code == 2 and "hint: --answers a.json" in ran.err and "--template" in ran.err


def test_a_file_that_cannot_be_read_is_an_io_error_whichever_option_names_it(cli, tmp_path):
    """A red team's find: a missing program was kind `io`, a missing --at-file or --answers `usage`
    (and a directory given to --at-file `io`). Every one exits 2 (SPEC: a usage error on the command line)."""
    import json
    prog = tmp_path / "p.cg"
    prog.write_text("y = x * 2\n")
    missing = str(tmp_path / "nothere.json")
    runs = [cli("run", str(tmp_path / "nothere.cg"), "--at", "x=1", "--json"),
            cli("run", str(prog), "--at-file", missing, "--json"),
            cli("run", str(prog), "--at-file", str(tmp_path), "--json"),
            cli("check", str(prog), "--answers", missing, "--at", "x=1", "--json"),
            cli("check", str(prog), "--submission", str(tmp_path / "nothere.cg"), "--at", "x=1", "--json"),
            cli("check", str(prog), "--batch", str(tmp_path / "nodir"), "--at", "x=1", "--json"),
            cli("run", str(prog), "--at-file", "/proc/self/mem", "--json")]  # (read fails: EIO, a reviewer's find)
    for ran in runs:
        assert ran.code == 2 and json.loads(ran.out)["error"]["kind"] == "io", (ran.out, ran.err)


def test_a_byte_that_is_not_utf8_is_shown_in_its_line_under_the_caret(cli, tmp_path):
    """A red team's find: a file with a stray byte said `bin.cg:2:7: syntax error` with no source line
    or caret, where every other error shows both (SPEC §3). Oracle: the byte's place, counted by hand."""
    prog = tmp_path / "bin.cg"
    prog.write_bytes(b"a = 1\ny = x \xff + a\n")
    ran = cli("run", str(prog), "--at", "x=1")
    lines = (ran.out + ran.err).splitlines()
    assert ran.code == 1 and lines[0].startswith(f"{prog}:2:7: syntax error"), lines
    assert lines[1].endswith("y = x \ufffd + a") and lines[2].index("^") == lines[1].index("\ufffd"), lines


@pytest.mark.parametrize("command", [["explain"], ["explain", "--mode", "forward"], ["grad"], ["hessian"],
                                     ["gradcheck"], ["diff"]])
def test_wrt_naming_no_input_is_the_same_error_in_every_command(cli, command):
    """A docs red team's find: `explain --wrt q` exited 2 (usage) where `grad --wrt q` exited 1
    (unknown-input, as SPEC §3 classes a value for a name the program lacks). Every command: 1."""
    res = cli(*command, "programs/lecture13.cg", "--at", "x=2,z=3", "--wrt", "q", "--json")
    assert res.code == 1 and res.json()["error"]["kind"] == "unknown-input", (res.code, res.out, res.err)


def test_a_bad_graphlang_limits_is_said_of_the_variable_not_of_limit(monkeypatch):
    """A SPEC red team's find: GRAPHLANG_LIMITS=garbage blamed `--limit 'garbage'`, an option never given."""
    from graphlang.cli.session import make_limits
    from graphlang.errors import GraphlangError
    for env, says in (("garbage", "GRAPHLANG_LIMITS 'garbage': write name=integer"),
                      ("foo=3", "GRAPHLANG_LIMITS 'foo=3': no limit is named 'foo'")):
        monkeypatch.setenv("GRAPHLANG_LIMITS", env)
        with pytest.raises(GraphlangError, match=says):
            make_limits(False, [])
    monkeypatch.setenv("GRAPHLANG_LIMITS", "max_depth=50")
    assert make_limits(False, ["max_statements=7"]).max_depth == 50
    with pytest.raises(GraphlangError, match="--limit 'nope=1'"):
        make_limits(False, ["nope=1"])
