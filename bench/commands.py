"""Every command at 500 / 1,000 / 2,000 / 4,000 statements (issue 14, item 4): each a fresh process,
the median of a few, its ratio to `run` (tables and --json) on the same program, and the growth
exponent log(t(4000) / t(500)) / log(8) (1 = linear; start-up makes small sizes look sub-linear).

usage: python bench/commands.py [--sizes 500,1000,2000,4000] [--repeats 3] [--family big|chain|tensor] [--cpu]
The rounds alternate the commands (a round = each command once at one size), so a busy moment hits all
of them; stdout goes to /dev/null (a file: the plain tables), the load average is printed; bytecode is
cached in a temporary PYTHONPYCACHEPREFIX (as installed), even where PYTHONDONTWRITEBYTECODE is set.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPS = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / (1 + {b} * {b})", "sin({a})", "cos({a})", "tanh({a})",
       "exp(sin({a}))", "log(1 + {a} * {a})"]
AT = {"big": "x0=-0.25,x1=-1.469,x2=0.976,x3=-0.604", "chain": "x=0.3",
      "tensor": "W=[[0.5,-0.2,0.1],[0.3,0.4,-0.6],[-0.1,0.2,0.3]],h0=[0.1,-0.2,0.3]"}
FIRST = {"big": "x0=1", "chain": "x=1", "tensor": "h0=[1,0,0]"}
SVG_MAX = 1000  # present/dot.py and tikz.py draw at most 1,000 nodes


def big(n: int) -> str:
    """The seeded random straight-line program of bench/W2 and /work/scratch/gen_big.py (4 inputs)."""
    rnd = random.Random(n)
    names, lines = ["x0", "x1", "x2", "x3"], []
    for i in range(n):
        k = rnd.randrange(9)
        a = rnd.choice(names[-50:]) if rnd.random() < .7 else rnd.choice(names)
        b = rnd.choice(names)
        lines.append(f"n{i} = " + OPS[k].format(a=a, b=b))
        names.append(f"n{i}")
    return "\n".join([*lines, "y = " + " + ".join(names[-10:])]) + "\n"


def chain(n: int) -> str:
    """One input through n statements, each using the one before (the deepest program of its size)."""
    ops = ["sin({a}) + 0.5 * {a}", "tanh({a}) * 0.9 + 0.1", "{a} / (1 + {a} * {a}) + {a}"]
    lines = ["input x", "a0 = sin(x)"] + [f"a{i} = " + ops[i % 3].format(a=f"a{i - 1}") for i in range(1, n)]
    return "\n".join(lines) + "\n"


def tensor(n: int) -> str:
    """A recurrent net of 3-vectors: h_i = tanh(W @ h_(i-1)) + 0.1 h_(i-1), two statements a step."""
    lines = ["input W[3, 3], h0[3]"]
    for i in range(1, n // 2):
        lines += [f"u{i} = W @ h{i - 1}", f"h{i} = tanh(u{i}) + 0.1 * h{i - 1}"]
    return "\n".join([*lines, f"y = dot(h{n // 2 - 1}, h{n // 2 - 1})"]) + "\n"


def commands(path: str, family: str, n: int, out: str) -> dict[str, list[str]]:
    at = ["--at", AT[family]]
    c = {"run": ["run", path, *at], "run --json": ["run", path, *at, "--json"],
         "explain": ["explain", path, *at], "explain --mode forward": ["explain", path, *at, "--mode", "forward"],
         "hessian": ["hessian", path, *at],
         "gradcheck": ["gradcheck", path, *at], "graph": ["graph", path, *at],
         "graph -o g.dot": ["graph", path, *at, "-o", out + ".dot"],
         "diff --program": ["diff", path, "--program"],
         "tangents": ["tangents", path, *at, "--direction", FIRST[family]],
         "ir": ["ir", path]}
    if n < SVG_MAX:
        c["graph -o g.svg"] = ["graph", path, *at, "-o", out + ".svg"]
        c["graph -o g.tex"] = ["graph", path, *at, "-o", out + ".tex"]
    for m in ("reverse", "forward", "fd", "symbolic"):
        c[f"grad -m {m}"] = ["grad", path, *at, "-m", m]
    return c


PYC = tempfile.mkdtemp(prefix="graphlang-pyc-")  # bytecode cached, as a wheel installs it (see startup.py)


CPU = False  # --cpu: user + system seconds of the process and its children (wait4), not wall time


def once(args: list[str]) -> float | None:
    """Seconds of one fresh process; None when the command stops at a documented limit."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), PYTHONPYCACHEPREFIX=PYC)
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "graphlang", *args], stdout=subprocess.DEVNULL, stderr=err,
                                env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        err.seek(0)
        stderr = err.read()
    code = os.waitstatus_to_exitcode(status)
    if code == 1 and b"limit error" in stderr:
        return None  # e.g. Graphviz and TikZ draw at most 1,000 nodes
    if code not in (0, 1):  # gradcheck exits 1 when the methods disagree
        raise SystemExit(f"{args}: {stderr.decode()[-500:]}")
    return usage.ru_utime + usage.ru_stime if CPU else wall


def measure(family: str, sizes: list[int], repeats: int) -> dict[str, dict[int, float]]:
    gen = {"big": big, "chain": chain, "tensor": tensor}[family]
    med: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f"{family}_{n}.cg")
            Path(path).write_text(gen(n))
            cmds = commands(path, family, n, os.path.join(tmp, "g"))
            times: dict[str, list[float | None]] = {k: [] for k in cmds}
            once(cmds["run"])  # the first run writes the bytecode
            for _ in range(repeats):
                for k, args in cmds.items():
                    times[k].append(once(args))
            for k, v in times.items():
                if None not in v:
                    med.setdefault(k, {})[n] = statistics.median([x for x in v if x is not None])
            print(f"  {family} {n}: done", file=sys.stderr)
    return med


def table(family: str, med: dict[str, dict[int, float]], sizes: list[int], repeats: int) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    big_n = max(sizes)
    head = ["command", *[f"{n:,}" for n in sizes], f"/ run @{big_n:,}", f"/ run --json @{big_n:,}", "exponent"]
    clock = "CPU seconds, user + system" if CPU else "wall seconds"
    out = [f"**{family}** — median of {repeats} fresh processes ({clock}), load average {load}", "",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for k, t in med.items():
        cells = [f"{t[n]:.2f}" if n in t else "—" for n in sizes]
        last = max(t)
        r1 = t[last] / med["run"][last]
        r2 = t[last] / med["run --json"][last]
        lo, hi = min(t), max(t)
        exp = math.log(t[hi] / t[lo]) / math.log(hi / lo) if hi > lo else float("nan")
        at = "" if last == big_n else f" @{last:,}"
        out.append(f"| {k} | " + " | ".join(cells) + f" | {r1:.2f}{at} | {r2:.2f}{at} | {exp:.2f} |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="500,1000,2000,4000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--family", default="big,chain,tensor")
    ap.add_argument("--cpu", action="store_true", help="CPU time instead of wall time (steadier under load)")
    a = ap.parse_args()
    global CPU
    CPU = a.cpu
    sizes = [int(s) for s in a.sizes.split(",")]
    for family in a.family.split(","):
        print(table(family, measure(family, sizes, a.repeats), sizes, a.repeats), flush=True)


if __name__ == "__main__":
    main()
