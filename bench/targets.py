"""Issue 14's targets, each with its measured ratio: the table at the top of bench/run.py's results.

usage: python bench/targets.py [--quick]   (bench/run.py calls `measure` and adds the W3 rows)
Every figure comes from the scripts that measure it in detail, called here with fewer repeats:
`evaluate.py` (paired in one process, thread CPU time), `scale.py` (fresh processes, wall and CPU,
peak RSS), `startup.py` (fresh processes, alternating with `python -c "import numpy"`) and
`commands.py` (fresh processes, CPU time, each command / `run` on the same program). A row says
"met" only when the measured median is inside the target; the spread is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import commands as C  # noqa: E402
import evaluate as E  # noqa: E402
import paired as PR  # noqa: E402
import scale as S  # noqa: E402
import startup as U  # noqa: E402

Row = tuple[str, str, bool | None]  # target, measured, met (None: recorded, no target)
MAX_COMMAND = 3.0  # item 4: every command within 3x `run`
COMMANDS = ("explain", "hessian", "gradcheck", "graph", "diff --program")


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else "**met**" if ok else "**missed**"


def evaluate_rows(sizes: list[int]) -> list[Row]:
    """Item 1, from the tables `evaluate.lecture` and `evaluate.big(n)` measured last: lecture evaluate
    against the analytic floor and the peers; big programs against the straight-line floor's gradient."""
    st = E.STATS["the lecture: per call"]
    ours = st["graphlang Program.evaluate (compiled)"]
    peers = {k: v for k, v in st.items() if not k.startswith(("graphlang", "analytic"))}
    # peers: the fastest one's time, whichever clock its own table row uses (JAX: wall)
    fastest = min(peers.items(), key=lambda kv: kv[1]["time"]) if peers else None
    ok = ours["cpu"] <= 3e-6 and ours["ratio"] <= 6 and (fastest is None or ours["cpu"] < fastest[1]["time"])
    peer_text = ", ".join(f"{k.split(' (')[0].split(' value')[0]} {PR.fmt(v['time'])}" for k, v in peers.items())
    rows: list[Row] = [("`evaluate`, lecture: ≤ 3 µs, ≤ 6× the analytic floor, faster than every peer",
                        f"{PR.fmt(ours['cpu'])} CPU, {ours['ratio']:.2f}× ({ours['lo']:.2f}–{ours['hi']:.2f}); "
                        + (peer_text or "no peers installed"), ok)]
    fwd = st["graphlang Program.forward (compiled)"]
    rows.append(("`forward` (the forward-only path) compiled, lecture", f"{PR.fmt(fwd['cpu'])} CPU, "
                 f"{fwd['ratio']:.2f}× the analytic floor of every value and adjoint", None))
    for n in sizes:
        st = E.STATS[f"`big_{n}.cg`: per call once compiled"]
        ev = st["graphlang Program.evaluate (every value and adjoint)"]
        gr = st["graphlang Program.gradient"]
        rows.append((f"`evaluate`, {n:,} statements: ≤ 2× the compiled floor's gradient",
                     f"{ev['ratio']:.2f}× ({ev['lo']:.2f}–{ev['hi']:.2f}); `gradient` {gr['ratio']:.2f}×",
                     ev["ratio"] <= 2))
    return rows


def scale_rows(big_repeats: int, repeats: int, million: bool) -> list[Row]:
    """Item 2: 10^5 load and CLI, 10^6 load, every gradient and peak RSS (fresh processes)."""
    cache = Path(tempfile.gettempdir()) / "graphlang-scale"
    cache.mkdir(exist_ok=True)
    rows: list[Row] = []
    for n in ([100_000, 1_000_000] if million else [100_000]):
        path = S.program(n, cache)
        runs = [json.loads(S.child(S.ROOT, ["-c", S.CHILD, str(path), S.LIMITS, S.AT])[0].strip().splitlines()[-1])
                for _ in range(big_repeats if n >= 1_000_000 else repeats)]
        load = statistics.median(r["load"][0] for r in runs)
        load_cpu = statistics.median(r["load"][1] for r in runs)
        worst = max(max(r[f"gradient{k}"][0] for k in (1, 2, 3)) for r in runs)
        rss = max(r["rss"] for r in runs)
        grads = " / ".join(f"{statistics.median(r[f'gradient{k}'][0] for r in runs):.2f}" for k in (1, 2, 3))
        if n == 100_000:
            rows.append(("10⁵: parse + check + build ≤ 1.5 s", f"{load:.2f} s wall ({load_cpu:.2f} s CPU)",
                         load <= 1.5))
            argv = ["-m", "graphlang", "run", str(path), "--json", "--at", S.AT]
            cli = [S.child(S.ROOT, argv) for _ in range(repeats)]
            wall, cpu = statistics.median(c[1] for c in cli), statistics.median(c[2] for c in cli)
            # (no peak RSS here: a child's ru_maxrss starts from its parent's, and this one may be large)
            rows.append(("10⁵: CLI `run --json` ≤ 3 s", f"{wall:.2f} s wall ({cpu:.2f} s CPU)", wall <= 3))
        else:
            rows.append(("10⁶: load ≤ 15 s", f"{load:.1f} s wall ({load_cpu:.1f} s CPU)", load <= 15))
            rows.append(("10⁶: every gradient ≤ 3 s", f"#1 / #2 / #3: {grads} s wall; worst {worst:.2f} s",
                         worst <= 3))
            rows.append(("10⁶: peak RSS ≤ 2 GB", f"{rss:.0f} MB", rss <= 2048))
    return rows


def startup_rows(stats: dict[str, tuple[float, float, float]], load: str) -> list[Row]:
    """Item 3, from `startup.measure`: `graphlang run lecture13.cg` / `python -c "import numpy"`."""
    m, lo, hi = stats["graphlang run (table)"]
    j = stats["graphlang run --json"][0]
    return [("start-up: `run lecture13.cg` ≤ 2× `python -c \"import numpy\"`",
             f"{m:.2f}× ({lo:.2f}–{hi:.2f}), `--json` {j:.2f}×; load {load}", m <= 2)]


def command_rows(n: int, repeats: int) -> list[Row]:
    """Item 4: each command / `run` (CPU, fresh processes) on the three families at n statements."""
    C.CPU = True
    rows: list[Row] = []
    for family in ("big", "chain", "tensor"):
        med = C.measure(family, [n], repeats)
        run = med["run"][n]
        ratios = {k: med[k][n] / run for k in COMMANDS if n in med.get(k, {})}
        worst = max(ratios, key=lambda k: ratios[k])
        rows.append((f"every command ≤ 3× `run` at {n:,} statements, {family}",
                     ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()) + f" (`run` {run:.2f} s CPU)",
                     ratios[worst] <= MAX_COMMAND))
    return rows


def w3_rows(results: dict[str, Any]) -> list[Row]:
    """Item 5: W3 against the plain numpy floor (thread CPU), JAX's compiled epoch as the anchor."""
    import w3
    rows: list[Row] = []
    for batch in (1, 64):
        s = results.get(f"W3_batch{batch}")
        if not s:
            continue
        m, lo, hi = PR.ratio(s["samples"]["cpu"], "graphlang", w3.PLAIN)
        rows.append((f"W3 batch {batch}: ≤ 1.3× the plain numpy floor, same settings",
                     f"{m:.2f}× CPU ({lo:.2f}–{hi:.2f})", m <= 1.3))
        scan = [k for k in s["samples"]["wall"] if "lax.scan" in k]
        if scan:
            m, lo, hi = PR.ratio(s["samples"]["wall"], "graphlang", scan[0])
            rows.append((f"W3 batch {batch}: JAX `lax.scan` epoch, the anchor (recorded)",
                         f"graphlang / JAX {m:.2f}× wall ({lo:.2f}–{hi:.2f})", None))
    return rows


def measure(quick: bool, peers: bool = True) -> list[Row]:
    """Items 1-4 (bench/run.py adds item 5's W3 rows from its own run)."""
    sizes = [10_000] if quick else [10_000, 100_000]
    rounds = 7 if quick else 15
    E.lecture(rounds, peers)
    for n in sizes:
        E.big(n, max(3, rounds // 3))
    _, stats, load = U.measure(rounds)
    return (evaluate_rows(sizes) + scale_rows(1, 1 if quick else 3, million=not quick) + startup_rows(stats, load)
            + command_rows(2_000, 1 if quick else 3))


def markdown(rows: list[Row]) -> str:
    out = [f"Load average at the end: {PR.load()}; {os.cpu_count()} cores.", "",
           "| target | measured (median, min–max) | |", "|---|---|---|"]
    out += [f"| {t} | {m} | {verdict(ok)} |" for t, m, ok in rows]
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer rounds; no 10^6 or 100k evaluate")
    print(markdown(measure(ap.parse_args().quick)))


if __name__ == "__main__":
    main()
