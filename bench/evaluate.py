"""`Program.evaluate` (every value and adjoint) and `Program.forward` on compiled code against floors.

usage: python bench/evaluate.py [--big] [--rounds N]
Every table is one round-robin (bench/paired.py: each contestant once per round, the order rotated)
in one process: the median time per call, and the paired ratio to the table's base (median of the
per-round quotients, with their min–max spread). Ratios use the calling thread's CPU time, which a
loaded machine inflates less than wall time; JAX computes on threads of its own, so its ratio uses
wall time (marked *). Tables: the lecture (analytic floor: every value and adjoint as plain floats
in tuples, no dicts; graphlang; peers if installed), a tensor program (the lecture's two-layer
network) compiled vs interpreted, and `../shared/bench/big_N.cg` against the straight-line floor's
gradient.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import paired  # noqa: E402
import workloads as W  # noqa: E402

Contestants = dict[str, tuple[Callable[[], Any], int]]


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


def interpreted(text: str) -> Any:
    import graphlang
    g = graphlang.parse(text)
    g._fast_evaluate._refused = True  # the fast paths of evaluate and forward off: the interpreter
    return g


LABELS = {"micrograd": "micrograd (every value and grad)",
          "JAX jit": "JAX jit value_and_grad (output and gradient only) *",
          "torch eager": "torch eager (output and gradient only)",
          "autograd": "autograd value_and_grad (output and gradient only)"}


def peers(c: Contestants) -> None:
    """The lecture in each installed peer, as its users write it (W1's peers: `lecture_peers`)."""
    for name, (fn, number) in W.lecture_peers().items():
        c[LABELS[name]] = (fn, max(200, number // 2))


FLOOR = "analytic Python, every value and adjoint (floor)"


def lecture(rounds: int, with_peers: bool) -> str:
    import graphlang
    g = graphlang.parse(W.LECTURE)
    at = {"x": 2.0, "z": 3.0}
    for _ in range(2):  # the second call compiles
        r = g.evaluate(at)
        g.forward(at)
    vals, adjs = analytic_all()
    assert all(math.isclose(r.values[n], v, rel_tol=1e-13) for n, v in zip(g.names, vals))
    assert all(math.isclose(r.adjoints[n], v, rel_tol=1e-13) for n, v in zip(g.names, adjs))  # type: ignore[index]
    interp = interpreted(W.LECTURE)
    c: Contestants = {FLOOR: (analytic_all, 4000),
                      "graphlang Program.evaluate (compiled)": (lambda: g.evaluate(at), 4000),
                      "graphlang Program.gradient": (lambda: g.gradient(at), 4000),
                      "graphlang Program.forward (compiled)": (lambda: g.forward(at), 4000),
                      "graphlang Program.evaluate, interpreted": (lambda: interp.evaluate(at), 100),
                      "graphlang Program.forward, interpreted": (lambda: interp.forward(at), 200)}
    if with_peers:
        peers(c)
    return table(paired.rounds(c, rounds), FLOOR, "the lecture: per call")


def tensor(rounds: int) -> str:
    import graphlang
    text = (W.ROOT / "programs" / "two_layer_network.cg").read_text()
    at = json.loads((W.ROOT / "programs" / "two_layer_network.json").read_text())
    g, interp = graphlang.parse(text), interpreted(text)
    for _ in range(2):
        g.evaluate(at)
        g.forward(at)
    assert g._fast_evaluate.arrays.plans and all(g._fast_evaluate.arrays.plans.values())
    base = "graphlang Program.evaluate, interpreted"
    c: Contestants = {base: (lambda: interp.evaluate(at), 100),
                      "graphlang Program.evaluate (compiled)": (lambda: g.evaluate(at), 300),
                      "graphlang Program.gradient": (lambda: g.gradient(at), 300),
                      "graphlang Program.forward, interpreted": (lambda: interp.forward(at), 200),
                      "graphlang Program.forward (compiled)": (lambda: g.forward(at), 300)}
    return table(paired.rounds(c, rounds), base, "a tensor program (programs/two_layer_network.cg): per call")


def big(n: int, rounds: int) -> str:
    import time

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
    calls, compiling = 2, second
    from graphlang.engines.fastpath import COMPILE_AFTER
    while g._fast_evaluate._fn is None and calls <= COMPILE_AFTER + 1:  # past HUGE: the tape first
        calls += 1
        t = time.perf_counter()
        g.evaluate(at)
        compiling = time.perf_counter() - t
    for _ in range(2):
        g.forward(at)
    for _ in range(COMPILE_AFTER + 1):  # the gradient runs the tape for its first calls, then compiles
        g.gradient(at)
    assert g._fast_evaluate._fn is not None and g._fast_evaluate._forward is not None
    assert all(abs(r.gradient[k] - ref["grad"][k]) <= 1e-8 * max(1, abs(ref["grad"][k])) for k in at)  # type: ignore[index]
    floor = W.straight_line_floor(text)
    xs = [at[f"x{i}"] for i in range(4)]
    base = "straight-line compiled Python gradient (floor)"
    # calls per sample: the first call after another contestant pays for the memory that one left
    # behind (its floats freed in another order); a caller who keeps calling does not
    number = max(3, 50_000 // n)
    c: Contestants = {base: (lambda: floor(*xs), number),
                      "graphlang Program.evaluate (every value and adjoint)": (lambda: g.evaluate(at), number),
                      "graphlang Program.gradient": (lambda: g.gradient(at), number),
                      "graphlang Program.forward (every value)": (lambda: g.forward(at), number)}
    return table(paired.rounds(c, rounds), base, f"`big_{n}.cg`: per call once compiled") + (
        f"\nOne-off: first evaluate {first:.2f} s; second {second:.2f} s; compiled at call {calls} "
        f"(that call {compiling:.2f} s).\n")


STATS: dict[str, dict[str, dict[str, float]]] = {}  # title -> who -> medians and paired ratio (targets.py)


def table(samples: dict[str, dict[str, list[float | None]]], base: str, title: str) -> str:
    out = [f"**{title}**", "", f"| who | median wall | median CPU | / {base.split(' (')[0]} (paired) | spread |",
           "|---|---|---|---|---|"]
    rows = []
    for who in samples["wall"]:
        clock = "wall" if who.endswith("*") else "cpu"
        ratios = sorted(a / b for a, b in zip(paired.once(samples[clock][who]), paired.once(samples[clock][base])))
        rows.append((statistics.median(ratios), who, paired.median(samples["wall"][who]),
                     paired.median(samples["cpu"][who]), ratios[0], ratios[-1]))
        m, _, wall, cpu, lo, hi = rows[-1]
        STATS.setdefault(title, {})[who] = {"ratio": m, "lo": lo, "hi": hi, "wall": wall, "cpu": cpu,
                                            "time": wall if clock == "wall" else cpu}
    for m, who, wall, cpu, lo, hi in sorted(rows):
        out.append(f"| {who} | {show(wall)} | {show(cpu)} | {m:.2f} | {lo:.2f}–{hi:.2f} |")
    return "\n".join(out) + "\n"


def show(t: float) -> str:
    return f"{t * 1e6:.2f} µs" if t < 1e-3 else f"{t * 1e3:.2f} ms"


def main() -> None:
    import os
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true", help="also N = 100,000")
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--no-peers", action="store_true")
    a = ap.parse_args()
    print(f"load average {paired.load()} (before); {os.cpu_count()} cores; {a.rounds} rounds\n")
    print(lecture(a.rounds, not a.no_peers))
    print(tensor(a.rounds))
    for n in [1_000, 10_000] + ([100_000] if a.big else []):
        print(big(n, max(5, a.rounds // 2)))
    print(f"load average {paired.load()} (after)")


if __name__ == "__main__":
    main()
