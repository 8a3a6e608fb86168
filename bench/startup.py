"""CLI start-up: `graphlang run programs/lecture13.cg --at x=2,z=3` against `python -c "import numpy"`.

usage: python bench/startup.py [--repeats N] [--markdown]
The commands alternate in one loop (a round = one run of each), so a busy moment hits all of them;
reported: each one's median wall time and the median of the per-round ratios, with the spread
(min-max of the ratios) and the load average; and the median CPU time (user + system, from wait4),
which a loaded machine disturbs less than the wall time. The Lark parser cache is warmed first (a user's
second run onwards; the first run in a fresh cache costs the build once).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LECTURE = str(ROOT / "programs" / "lecture13.cg")
ARGS = ["run", LECTURE, "--at", "x=2,z=3"]


NO_BYTECODE = " [no .pyc]"  # suffix: run with PYTHONDONTWRITEBYTECODE=1 and no cache (every module compiled)


def commands() -> dict[str, list[str]]:
    exe = shutil.which("graphlang")
    gl = [exe] if exe else [sys.executable, "-m", "graphlang"]
    return {
        "python -c 'import numpy' (floor)": [sys.executable, "-c", "import numpy"],
        "graphlang run (table)": gl + ARGS,
        "graphlang run (table)" + NO_BYTECODE: gl + ARGS,
        "graphlang run --json": gl + ARGS + ["--json"],
        "graphlang grad --json": gl + ["grad", LECTURE, "--at", "x=2,z=3", "--json"],
        "the same `run` through Typer": [sys.executable, "-c", "import sys; from graphlang.cli.app import run; "
                                         "run(sys.argv[1:])", *ARGS],
    }


CPU: dict[str, list[float]] = {}  # user + system seconds of each run (wait4), per command


def once(cmd: list[str], env: dict[str, str], key: str = "") -> float:
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    if key:
        CPU.setdefault(key, []).append(usage.ru_utime + usage.ru_stime)
    return wall


def measure(repeats: int) -> tuple[dict[str, float], dict[str, tuple[float, float, float]], str]:
    """As installed: a wheel's modules are compiled to .pyc at install (pip does), so the bytecode is
    cached here in a temporary PYTHONPYCACHEPREFIX (also where the environment sets
    PYTHONDONTWRITEBYTECODE, as some sandboxes do); the `[no .pyc]` row compiles every module each run."""
    base = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cache = tempfile.mkdtemp(prefix="graphlang-pyc-")
    env = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": cache}
    bare = base | {"PYTHONDONTWRITEBYTECODE": "1"}
    cmds = commands()
    for k, cmd in cmds.items():  # warm: the OS file cache, the bytecode and graphlang's parser cache
        once(cmd, bare if k.endswith(NO_BYTECODE) else env)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeats):
        for k, cmd in cmds.items():
            times[k].append(once(cmd, bare if k.endswith(NO_BYTECODE) else env, k))
    shutil.rmtree(cache, ignore_errors=True)
    floor = next(iter(cmds))
    ratios = {k: sorted(a / b for a, b in zip(v, times[floor], strict=True)) for k, v in times.items()}
    stats = {k: (statistics.median(r), r[0], r[-1]) for k, r in ratios.items()}
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {k: statistics.median(v) for k, v in times.items()}, stats, load


def markdown(med: dict[str, float], stats: dict[str, tuple[float, float, float]], load: str, repeats: int) -> str:
    out = [f"{repeats} alternating rounds, {os.cpu_count()} cores, load average {load}.", "",
           "| command | median wall | / floor (median of rounds) | spread of the ratio | median CPU (user+sys) "
           "| CPU / floor's |", "|---|---|---|---|---|---|"]
    floor_cpu = statistics.median(next(iter(CPU.values())))
    for k, t in med.items():
        m, lo, hi = stats[k]
        cpu = statistics.median(CPU[k])
        out.append(f"| {k} | {t * 1e3:.0f} ms | {m:.2f} | {lo:.2f}–{hi:.2f} | {cpu * 1e3:.0f} ms "
                   f"| {cpu / floor_cpu:.2f} |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    med, stats, load = measure(a.repeats)
    print(markdown(med, stats, load, a.repeats))


if __name__ == "__main__":
    main()
