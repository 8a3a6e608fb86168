"""`Program.evaluate` (every value and adjoint) on the compiled plan against its floors.

usage: python bench/evaluate.py [--big] [--rounds N]
Lecture: graphlang `evaluate` and `gradient` (loaded program, warmed), the hand-written analytic floor
(every node's value and adjoint, as plain floats in tuples: no dicts) and autograd if installed,
alternating in one process; per-round ratios, median and spread. W2 (`../shared/bench/big_N.cg`):
evaluate per call once compiled against the straight-line floor's gradient, plus the one-off costs.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as W  # noqa: E402


def analytic_all(x: float = 2.0, z: float = 3.0) -> tuple[tuple[float, ...], tuple[float, ...]]:
    a = x * z
    b = math.log(x)
    c = math.sin(b)
    d = math.exp(a)
    e = a / b
    f = c / a
    y = d + e + f
    g_c = 1.0 / a
    g_a = d + 1.0 / b - f / a
    g_b = g_c * math.cos(b) - e / b
    return (x, z, a, b, c, d, e, f, y), (g_a * z + g_b / x, g_a * x, g_a, g_b, g_c, 1.0, 1.0, 1.0, 1.0)


def per_call(fn: Callable[[], Any], number: int) -> float:
    t = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t) / number


def paired(contestants: dict[str, Callable[[], Any]], rounds: int, number: int, base: str
           ) -> dict[str, tuple[float, float, float, float]]:
    """name -> (median time, median ratio to base, min ratio, max ratio); alternating rounds."""
    times: dict[str, list[float]] = {k: [] for k in contestants}
    for _ in range(rounds):
        for k, fn in contestants.items():
            times[k].append(per_call(fn, number))
    out = {}
    for k, ts in times.items():
        r = sorted(a / b for a, b in zip(ts, times[base], strict=True))
        out[k] = (statistics.median(ts), statistics.median(r), r[0], r[-1])
    return out


def lecture(rounds: int) -> str:
    import graphlang
    g = graphlang.parse(W.LECTURE)
    at = {"x": 2.0, "z": 3.0}
    r = g.evaluate(at)
    r = g.evaluate(at)  # the second call compiles
    vals, adjs = analytic_all()
    assert all(math.isclose(r.values[n], v, rel_tol=1e-13) for n, v in zip(g.names, vals))
    assert all(math.isclose(r.adjoints[n], v, rel_tol=1e-13) for n, v in zip(g.names, adjs))  # type: ignore[index]
    contestants: dict[str, Callable[[], Any]] = {
        "analytic Python, every value and adjoint (floor)": analytic_all,
        "graphlang Program.evaluate": lambda: g.evaluate(at),
        "graphlang Program.gradient": lambda: g.gradient(at),
    }
    if W.have("autograd"):
        import autograd
        import autograd.numpy as anp

        def af(x: Any, z: Any) -> Any:
            a = x * z
            b = anp.log(x)
            return anp.exp(a) + a / b + anp.sin(b) / a
        ag = autograd.value_and_grad(af, argnum=(0, 1))
        contestants["autograd value_and_grad (the gradient only)"] = lambda: ag(2.0, 3.0)
    interp = graphlang.parse(W.LECTURE)
    interp._fast_evaluate._refused = True
    contestants["graphlang evaluate, interpreted (before)"] = lambda: interp.evaluate(at)
    res = paired(contestants, rounds, 2000, "analytic Python, every value and adjoint (floor)")
    return table(res, "the lecture: every value and adjoint, per call")


def big(n: int, rounds: int) -> str:
    import json

    import graphlang
    shared = HERE.parent.parent / "shared" / "bench"
    text = (shared / f"big_{n}.cg").read_text()
    ref = json.loads((shared / f"big_{n}.json").read_text())
    at = {k: float(v) for k, v in ref["inputs"].items()}
    g = graphlang.parse(text)
    t = time.perf_counter()
    g.evaluate(at)
    first = time.perf_counter() - t
    t = time.perf_counter()
    r = g.evaluate(at)
    second = time.perf_counter() - t
    assert all(abs(r.gradient[k] - ref["grad"][k]) <= 1e-8 * max(1, abs(ref["grad"][k])) for k in at)  # type: ignore[index]
    floor = W.straight_line_floor(text)
    xs = [at[f"x{i}"] for i in range(4)]
    res = paired({"straight-line compiled Python gradient (floor)": lambda: floor(*xs),
                  "graphlang Program.evaluate (every value and adjoint)": lambda: g.evaluate(at)},
                 rounds, 1, "straight-line compiled Python gradient (floor)")
    return table(res, f"`big_{n}.cg`: per call once compiled") + (
        f"\nOne-off: first evaluate (interpreted) {first:.2f} s; second (compiles, then runs) {second:.2f} s.\n")


def table(res: dict[str, tuple[float, float, float, float]], title: str) -> str:
    out = [f"**{title}**", "", "| who | median | / floor (median of rounds) | spread |", "|---|---|---|---|"]
    for k, (t, m, lo, hi) in sorted(res.items(), key=lambda kv: kv[1][0]):
        shown = f"{t * 1e6:.2f} µs" if t < 1e-3 else f"{t * 1e3:.1f} ms"
        out.append(f"| {k} | {shown} | {m:.2f} | {lo:.2f}–{hi:.2f} |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true", help="also N = 100,000")
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}; {os.cpu_count()} cores; {a.rounds} alternating rounds\n")
    print(lecture(a.rounds))
    for n in [10_000] + ([100_000] if a.big else []):
        print(big(n, max(3, a.rounds // 3)))


if __name__ == "__main__":
    main()
