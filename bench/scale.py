"""Scale without cliffs (issue 14, item 2): load, gradient #1/#2/#3 and peak RSS from 10^3 to 10^6 statements.

usage: python bench/scale.py [--sizes 1000,10000,100000,1000000] [--repeats 3] [--big-repeats 1] [--baseline DIR]
                             [--baseline-max N] [--no-cli]
Every measurement is a fresh process (`python -c`, this checkout first on PYTHONPATH; `--baseline
DIR`: the same run with another checkout, alternating with this one), limits raised so that 10^6
statements load and run. Wall and CPU seconds; peak RSS is the child's VmHWM. Programs:
`../shared/bench/big_N.cg` where present, else made by the seeded generator below (the same nine
statement forms). Prints a markdown table: medians, min–max over repeats, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
AT = "x0=-0.25,x1=-1.469,x2=0.976,x3=-0.604"
LIMITS = "max_source_chars=1000000000,max_statements=2000000,max_nodes=10000000,max_cost=1000000000000000"

CHILD = r"""
import json, sys, time, graphlang
from graphlang.limits import Limits
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM'):
            return int(line.split()[1]) / 1024
lim = Limits(**{k: int(v) for k, v in (x.split('=') for x in sys.argv[2].split(','))})
at = {k: float(v) for k, v in (x.split('=') for x in sys.argv[3].split(','))}
out = {}
w, c = time.perf_counter(), time.process_time()
p = graphlang.load(sys.argv[1], limits=lim)
out['load'] = (time.perf_counter() - w, time.process_time() - c)
out['rss_load'] = hwm()
for k in range(3):
    w, c = time.perf_counter(), time.process_time()
    g = p.gradient(at)
    out[f'gradient{k + 1}'] = (time.perf_counter() - w, time.process_time() - c)
out['grad'] = g
out['rss'] = hwm()
print(json.dumps(out))
"""


def generate(n: int, path: Path) -> Path:
    """A seeded random straight-line program of n statements over x0..x3 (the shared files' forms)."""
    rnd = random.Random(n)
    names = ["x0", "x1", "x2", "x3"]
    forms = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / (1 + {b} * {b})", "sin({a})", "cos({a})",
             "tanh({a})", "exp(sin({a}))", "log(1 + {a} * {a})"]
    lines = []
    for i in range(n):
        a = rnd.choice(names[-50:]) if rnd.random() < .7 else rnd.choice(names)
        lines.append(f"n{i} = " + rnd.choice(forms).format(a=a, b=rnd.choice(names)))
        names.append(f"n{i}")
    lines.append("y = " + " + ".join(names[-10:]))
    path.write_text("\n".join(lines) + "\n")
    return path


def program(n: int, cache: Path) -> Path:
    shared = SHARED / f"big_{n}.cg"
    if shared.exists():
        return shared
    made = cache / f"big_{n}.cg"
    return made if made.exists() else generate(n, made)


def child(checkout: Path, argv: list[str]) -> tuple[str, float, float, float]:
    """Run `python argv...` with `checkout` first on the path: (stdout, wall s, CPU s, peak RSS MB)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    w = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *argv], env=env, cwd=checkout,  # cwd: `-c` puts it first
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - w
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:2]} failed ({proc.returncode}): {err.decode()[-800:]}")
    return out.decode(), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def spread(xs: list[float], digits: int = 2) -> str:
    med = statistics.median(xs)
    return f"{med:.{digits}f}" if len(xs) == 1 else f"{med:.{digits}f} ({min(xs):.{digits}f}–{max(xs):.{digits}f})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes per size below 10^6")
    ap.add_argument("--big-repeats", type=int, default=1, help="fresh processes at 10^6")
    ap.add_argument("--baseline", type=Path, help="another checkout, run alternately (e.g. /work/main)")
    ap.add_argument("--baseline-max", type=int, default=100_000, help="largest size run with the baseline")
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "graphlang-scale"
    cache.mkdir(exist_ok=True)
    checkouts = [("this", ROOT)] + ([("baseline", args.baseline)] if args.baseline else [])
    print(f"load average at start: {os.getloadavg()}  (python {sys.version.split()[0]}, {os.cpu_count()} cores)\n")
    print("| checkout | statements | load s (CPU s) | gradient #1 s (CPU) | gradient #2 s (CPU) | gradient #3 s (CPU) "
          "| RSS after load MB | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for n in [int(s) for s in args.sizes.split(",")]:
        path = program(n, cache)
        rows: dict[str, list[dict]] = {name: [] for name, _ in checkouts}
        for _ in range(args.big_repeats if n >= 1_000_000 else args.repeats):
            for name, checkout in checkouts:  # alternating: the same load for both
                if name == "baseline" and n > args.baseline_max:
                    continue
                out, *_ = child(checkout, ["-c", CHILD, str(path), LIMITS, AT])
                rows[name].append(json.loads(out.strip().splitlines()[-1]))
        for name, rs in rows.items():
            if not rs:
                continue
            cells = [f"{spread([r['load'][0] for r in rs])} ({spread([r['load'][1] for r in rs])})"]
            for k in (1, 2, 3):
                times = [r[f"gradient{k}"] for r in rs]
                cells.append(f"{spread([t[0] for t in times], 3)} ({spread([t[1] for t in times], 3)})")
            cells += [spread([r["rss_load"] for r in rs], 0), spread([r["rss"] for r in rs], 0)]
            print(f"| {name} | {n:,} | " + " | ".join(cells) + " |", flush=True)
    if not args.no_cli:
        path = program(100_000, cache)
        print("\nCLI `graphlang run big_100000.cg --json --at ...` (fresh process; wall, CPU of the child, "
              "peak RSS):\n")
        print("| checkout | wall s | CPU s | peak RSS MB |")
        print("|---|---|---|---|")
        res: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in checkouts}
        for _ in range(args.repeats):
            for name, checkout in checkouts:
                _, wall, cpu, rss = child(checkout, ["-m", "graphlang", "run", str(path), "--json", "--at", AT])
                res[name].append((wall, cpu, rss))
        for name, r in res.items():
            cols = [spread([x[0] for x in r]), spread([x[1] for x in r]), spread([x[2] for x in r], 0)]
            print(f"| {name} | " + " | ".join(cols) + " |")
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
