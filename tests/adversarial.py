"""The adversarial corpus: what students (and fuzzers) submit, with the answer each must get.

Each entry: name, program text (None: no file is written; `file` names the path instead),
extra command-line arguments, expected exit status, error kind (None on success) and line.
`python tests/adversarial.py` runs the corpus through the CLI in one process and reports wall
time and peak memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Case:
    name: str
    program: str | bytes | None
    args: list[str] = field(default_factory=list)
    exit: int = 1
    kind: str | None = None
    line: int | None = None
    file: str | None = None  # a path used instead of writing `program`


def _deep(open_: str, close: str, n: int, inner: str = "x") -> str:
    return "y = " + open_ * n + inner + close * n + "\n"


CORPUS: list[Case] = [
    Case("empty file", "", ["--at", "x=1"], 1, "empty"),
    Case("only comments", "# nothing\n# here\n", [], 1, "empty"),
    Case("nul byte", "y = x\x00 + 1\n", ["--at", "x=1"], 1, "syntax", 1),
    Case("invalid utf-8", b"a = x\ny = \xff\xfe\n", ["--at", "x=1"], 1, "syntax", 2),
    Case("bom is accepted", "\ufeffy = x * 2\n".encode("utf-8"), ["--at", "x=1"], 0),
    Case("cyrillic look-alike", "y = \u0445 + 1\n", ["--at", "x=1"], 1, "syntax", 1),
    Case("greek look-alike name", "\u03b1 = x\n", ["--at", "x=1"], 1, "syntax", 1),
    Case("dollar operator", "a = x $ 1\n", ["--at", "x=1"], 1, "syntax", 1),
    Case("unclosed paren", "a = (x + 1\ny = a\n", ["--at", "x=1"], 1, "syntax", 1),  # where it opens
    Case("unclosed bracket", "y = sum([x, 2)\n", ["--at", "x=1"], 1, "syntax", 1),
    Case("stray close", "y = x)\n", ["--at", "x=1"], 1, "syntax", 1),
    Case("1e999 literal", "y = x * 1e999\n", ["--at", "x=1"], 1, "value", 1),
    Case("5000-digit literal", "y = x * " + "9" * 5000 + "\n", ["--at", "x=1"], 1, "limit", 1),
    Case("import call", 'y = __import__("os")\n', [], 1, "syntax", 1),
    Case("import name", "y = __import__(x)\n", ["--at", "x=1"], 1, "unknown-function", 1),
    Case("dunder attribute", "y = x.__class__\n", ["--at", "x=1"], 1, "syntax", 1),
    Case("string literal", "y = 'abc'\n", [], 1, "syntax", 1),
    Case("assign builtin", "exp = 2\n", [], 1, "reserved", 1),
    Case("assign pi", "pi = 3\n", [], 1, "reserved", 1),
    Case("self reference", "a = a + 1\n", [], 1, "undefined", 1),
    Case("ln two args", "y = ln(x, y)\n", ["--at", "x=1,y=1"], 1, "arity", 1),
    Case("deep parens 100k", _deep("(", ")", 100_000), ["--at", "x=1"], 1, "limit", 1),
    Case("deep brackets", _deep("[", "]", 50_000), ["--at", "x=1"], 1, "limit", 1),
    Case("deep calls", _deep("sin(", ")", 50_000), ["--at", "x=1"], 1, "limit", 1),
    Case("deep unary minus", "y = " + "-" * 100_000 + "x\n", ["--at", "x=1"], 1, "limit", 1),
    Case("deep power tower", "y = " + "x ^ " * 50_000 + "x\n", ["--at", "x=1"], 1, "limit", 1),
    Case("rank 9 literal", "y = sum(" + "[" * 9 + "x" + "]" * 9 + ")\n", ["--at", "x=1"], 1, "limit", 1),
    Case("ln 0", "y = ln(x)\n", ["--at", "x=0"], 1, "domain", 1),
    Case("negative base fractional power", "y = (-4) ^ 0.5\n", [], 1, "domain", 1),
    Case("0^y at 0", "y = 0 ^ x\n", ["--at", "x=0"], 1, "domain", 1),
    Case("0^y for y > 0", "y = 0 ^ x\n", ["--at", "x=2"], 0),
    Case("sqrt derivative at 0", "y = x ^ 0.5\n", ["--at", "x=0"], 1, "domain", 1),
    Case("exp 1000", "y = exp(x)\n", ["--at", "x=1000"], 1, "domain", 1),
    Case("squaring chain overflows", "a0 = x\n" + "".join(f"a{i} = a{i - 1} * a{i - 1}\n"
                                                          for i in range(1, 60)),
         ["--at", "x=3"], 1, "domain", 11),
    # Numeric failures while summing derivative contributions (the true derivative, 2e308 or
    # more, exceeds float64's 1.8e308): a located domain error, never a FloatingPointError.
    Case("adjoint sum overflows", "y = x * 1e308 + x * 1e308\n", ["--at", "x=1e-300"], 1, "domain", 1),
    Case("adjoint sum over lines", "a = x * 1e308\nb = x * 1e308\ny = a + b\n", ["--at", "x=1e-300"],
         1, "domain", 1),
    Case("unbroadcast sum overflows", "y = sum(x * [1e308, 1e308])\n", ["--at", "x=1e-300"], 1, "domain", 1),
    Case("jacobian sum overflows", "y = [x * 1e308 + x * 1e308, x]\n", ["--at", "x=1e-300"], 1, "domain", 1),
    Case("matrix adjoint sum overflows", "u = A @ v\ny = sum(u) * 1e308 + sum(u) * 1e308\n",
         ["--at", "A=[[1e-300,0],[0,1e-300]],v=[1,1]"], 1, "domain", 2),
    Case("domain error in an unread statement", "a = ln(x - 5)\ny = x * 2\n", ["--at", "x=3"], 1, "domain", 1),
    Case("huge literal tensor", "y = sum([" + ", ".join(["1"] * 200_000) + "])\n", [], 1, "limit", 1),
    Case("shape mismatch names both", "y = A @ v\n", ["--at", "A=[[1,2],[3,4]],v=[1,2,3]"], 1,
         "shape", 1),
    Case("matmul cost budget", "u = outer(x, x)\nv = u @ u\ny = sum(v @ u)\n",
         ["--at", "x=[" + ",".join(["1"] * 2000) + "]"], 1, "limit", 2),
    Case("expand blows up", "y = sum(expand(x, outer(v, v)))\n",
         ["--at", "x=1,v=[" + ",".join(["1"] * 5000) + "]"], 1, "limit", 1),
    Case("missing file", None, ["--at", "x=1"], 2, "io", file="/nonexistent/dir/prog.cg"),
    Case("a directory", None, ["--at", "x=1"], 2, "io", file="/"),
    Case("/dev/zero", None, ["--at", "x=1"], 2, "io", file="/dev/zero"),
    Case("ragged at", "y = sum(v)\n", ["--at", "v=[[1,2],[3]]"], 2, "usage"),
    Case("non-numeric at", "y = x\n", ["--at", "x=abc"], 2, "usage"),
    Case("at without =", "y = x\n", ["--at", "x"], 2, "usage"),
    Case("NaN at", "y = x\n", ["--at", "x=nan"], 2, "usage"),  # (SPEC: "not a number" is a usage error)
    Case("Infinity at", "y = x\n", ["--at", "x=Infinity"], 2, "usage"),
    Case("1e999 at", "y = x\n", ["--at", "x=1e999"], 2, "usage"),
    Case("at nested too deep", "y = sum(x)\n", ["--at", "x=" + "[" * 40 + "1" + "]" * 40], 1, "limit"),
    Case("unknown flag", "y = x\n", ["--at", "x=1", "--frobnicate"], 2),
    Case("intermediate given", "a = x + 1\ny = a\n", ["--at", "x=1,a=2"], 1, "unknown-input"),
    Case("escape sequences in at name", "y = x\n", ["--at", "\x1b[31mx=1"], 2, "usage"),
    Case("rich markup in at name", "y = x\n", ["--at", "[bold red]x=1"], 2, "usage"),
    # `output y, y`: reverse mode's Jacobian zeroed the first column (a user test); now refused
    Case("an output named twice", "output y, y\ny = sum(x * x)\n", ["--at", "x=[1,2]"], 1, "redefined", 1),
    # dpow of orders 64 costs ≈ 137,000 operations per element; priced as 1 it ran for minutes (red team)
    Case("high-order dpow on a big tensor", "u = [" + ", ".join(["x"] * 1000) + "]\n"
         "y = sum(dpow(outer(u, u), outer(u, u), 64, 64))\n", ["--at", "x=1"], 1, "limit", 2),
]

# Programs whose derivative overflows float64 (closed form: 2e308 and more): every command that
# differentiates reports a located domain error at `line`.
# (name, program, --at, the lines where the failure may be reported: reverse mode meets it where
# the adjoints of x are summed, forward mode where the tangents of y are, finite differences at
# the output; a kink (abs) lets finite differences succeed, so `fd` says whether they must fail).
NUMERIC_CASES = [
    ("adjoint sum", "y = x * 1e308 + x * 1e308\n", "x=1e-300", {1}, True),
    ("adjoint sum over lines", "c = 5\na = x * 1e308\nb = x * 1e308\ny = a + b\n", "x=1e-300", {2, 4}, True),
    ("unbroadcast", "y = sum(x * [1e308, 1e308])\n", "x=1e-300", {1}, True),
    ("vector input", "y = sum(v * 1e308) + sum(v * 1e308)\n", "v=[1e-300,2e-300]", {1}, True),
    ("abs and sign", "y = abs(x) * 1e308 + sign(x) * x * 1e308\n", "x=1e-300", {1}, False),
]

AT_FILE_CASES = [
    ("deeply nested JSON", "[" * 100_000 + "]" * 100_000, 1, "limit"),
    ("JSON not an object", "[1, 2]", 2, "usage"),
    ("JSON NaN", '{"x": NaN}', 2, "usage"),  # (as --at x=nan: not a number)
    ("invalid JSON", '{"x": ', 2, "usage"),
    # an integer past float64 (a red team's: "not a number… every row of a matrix needs the same
    # length"), and one past Python's 4,300 digits ("use sys.set_int_max_str_digits" leaked)
    ("integer of 400 digits", '{"x": 1' + "0" * 400 + "}", 2, "usage"),
    ("integer of 5000 digits", '{"x": 1' + "0" * 5000 + "}", 2, "usage"),
    # as `--at x=[[1,2],[3]]` and `--at x=[]` (a red team: exit 1 here, 2 there, for the same mapping)
    ("ragged JSON list", '{"x": [[1, 2], [3]]}', 2, "usage"),
    ("JSON list of mixed depths", '{"x": [1, [2]]}', 2, "usage"),
    ("empty JSON list", '{"x": []}', 2, "usage"),
]


# Every command the corpus goes through in `python tests/adversarial.py --per-command`.
PER_COMMAND = [["run"], ["run", "--json"], *[["grad", "--method", m, "--json"] for m in ("reverse", "forward", "fd",
               "symbolic")], ["explain"], ["explain", "--format", "latex"], ["diff"], ["diff", "--program"],
               ["gradcheck"], ["gradcheck", "--sweep"], ["tangents"], ["hessian"], ["graph"], ["graph", "--partials"],
               ["ir"], ["check", "--submission", "{SELF}"]]


def _corpus_files(folder: str) -> list[tuple[str, str, list[str]]]:
    """(name, program path, arguments) for every corpus case, the numeric cases and the --at-file cases."""
    import os

    out = []
    for k, case in enumerate(CORPUS):
        path = case.file or os.path.join(folder, f"c{k}.cg")
        if case.file is None:
            data = case.program if isinstance(case.program, bytes) else (case.program or "").encode()
            with open(path, "wb") as fh:
                fh.write(data)
        out.append((case.name, path, case.args))
    for k, (name, program, at, _lines, _fd) in enumerate(NUMERIC_CASES):
        path = os.path.join(folder, f"n{k}.cg")
        with open(path, "w") as fh:
            fh.write(program)
        out.append((f"numeric: {name}", path, ["--at", at]))
    for k, (name, text, _exit, _kind) in enumerate(AT_FILE_CASES):
        path, values = os.path.join(folder, f"a{k}.cg"), os.path.join(folder, f"a{k}.json")
        with open(path, "w") as fh:
            fh.write("y = x * 2\n")
        with open(values, "w") as fh:
            fh.write(text)
        out.append((f"at-file: {name}", path, ["--at-file", values]))
    return out


def _forked(argv: list[str], out: Any, err: Any, cwd: str) -> tuple[int, Any]:  # pragma: no cover
    """The CLI in a child forked from this process (graphlang already imported, as a warm worker
    would have it): its exit status and its own resource usage (CPU and peak RSS, from wait4)."""
    import os
    import sys

    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.chdir(cwd)
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            from graphlang.cli import main
            try:
                main(argv)
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:  # noqa: BLE001 - a traceback is what the caller looks for
            import traceback
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage


def per_command() -> None:  # pragma: no cover - a measurement, run by hand
    """Each corpus case through each command in its own (forked) process: exit status, no
    traceback, and the worst CPU time and peak RSS per command."""
    import os
    import tempfile

    os.environ.update({"COLUMNS": "100", "NO_COLOR": "1", "OPENBLAS_NUM_THREADS": "1"})
    import graphlang.cli.app  # noqa: F401 - loaded once, before the forks
    bad = []
    with tempfile.TemporaryDirectory() as d:
        files = _corpus_files(d)
        print(f"{len(files)} inputs x {len(PER_COMMAND)} commands")
        print("| command | runs | exit 0 / 1 / 2 | CPU s, total | CPU s, slowest (input) "
              "| peak RSS MB, largest (input) |")
        print("|---|---|---|---|---|---|")
        for command in PER_COMMAND:
            exits = {0: 0, 1: 0, 2: 0}
            total = slowest = rss = 0.0
            slow_name = rss_name = ""
            for name, path, args in files:
                argv = [command[0], path, *[a.replace("{SELF}", path) for a in command[1:]], *args]
                with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
                    code, usage = _forked(argv, out, err, d)
                    err.seek(0)
                    text = err.read().decode(errors="replace")
                exits[code] = exits.get(code, 0) + 1
                if "Traceback" in text or code not in (0, 1, 2):
                    bad.append(f"{' '.join(command)} on {name!r}: exit {code}\n{text[-600:]}")
                cpu = usage.ru_utime + usage.ru_stime
                total += cpu
                if cpu > slowest:
                    slowest, slow_name = cpu, name
                if usage.ru_maxrss / 1024 > rss:
                    rss, rss_name = usage.ru_maxrss / 1024, name
            print(f"| `{' '.join(command)}` | {len(files)} | {exits[0]} / {exits[1]} / {exits[2]} | {total:.1f} | "
                  f"{slowest:.2f} ({slow_name}) | {rss:.0f} ({rss_name}) |", flush=True)
    print(f"\n{len(bad)} runs with a traceback or an unexpected exit status")
    for b in bad:
        print(b)


def main() -> None:  # pragma: no cover - a measurement, run by hand
    import os
    import resource
    import sys
    import tempfile
    import time

    if "--per-command" in sys.argv:
        per_command()
        return
    sys.path.insert(0, os.path.dirname(__file__))
    from conftest import run_cli

    start = time.perf_counter()
    worst = 0.0
    with tempfile.TemporaryDirectory() as d:
        for case in CORPUS:
            path = case.file or os.path.join(d, "p.cg")
            if case.file is None:
                data = case.program if isinstance(case.program, bytes) else (case.program or "").encode()
                with open(path, "wb") as fh:
                    fh.write(data)
            t = time.perf_counter()
            run_cli("run", path, *case.args)
            worst = max(worst, time.perf_counter() - t)
    total = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(CORPUS)} cases in {total:.2f} s (slowest {worst:.2f} s), peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
