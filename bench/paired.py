"""Round-robin timing: every contestant once per round, so a change in machine load hits all alike.

A round times each contestant once (the order rotated from round to round); the samples of one
contestant give its median and spread, and the per-round quotients graphlang / X give a paired
ratio that is far steadier on a shared machine than a quotient of two medians taken minutes apart.
Both wall time and the calling thread's CPU time are kept: on a loaded machine a process waits
for a core, which wall time counts and CPU time does not. JAX computes on threads of its own, so
its CPU time is not comparable (shown as —): read its wall time.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


Contestant = tuple[Callable[[], Any], int] | tuple[Callable[[], Any], int, Callable[[], Any]]


def rounds(contestants: Mapping[str, Contestant], repeats: int,
           upto: dict[str, int] | None = None) -> dict[str, dict[str, list[float | None]]]:
    """{who: (call, number[, reset])} -> {"wall"|"cpu": {who: [seconds per call in each round]}}.
    `reset` runs untimed before each timing (fresh weights for an epoch); `upto[who]` caps the
    rounds a slow contestant takes part in (its later rounds hold None)."""
    names = list(contestants)
    out: dict[str, dict[str, list[float | None]]] = {"wall": {n: [] for n in names},
                                                      "cpu": {n: [] for n in names}}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            fn, number, *reset = contestants[name]
            if upto and r >= upto.get(name, repeats):
                out["wall"][name].append(None)
                out["cpu"][name].append(None)
                continue
            for prepare in reset:
                prepare()
            c, t = time.thread_time(), time.perf_counter()
            for _ in range(number):
                fn()
            out["wall"][name].append((time.perf_counter() - t) / number)
            out["cpu"][name].append((time.thread_time() - c) / number)
    return out


def once(samples: list[float | None]) -> list[float]:
    return [s for s in samples if s is not None]


def median(samples: list[float | None]) -> float:
    return statistics.median(once(samples))


def ratio(samples: dict[str, list[float | None]], a: str, b: str) -> tuple[float, float, float]:
    """Median, min and max over rounds of a / b, from the rounds where both ran."""
    q = [x / y for x, y in zip(samples[a], samples[b]) if x is not None and y is not None]
    return statistics.median(q), min(q), max(q)


def fmt(s: float) -> str:
    return f"{s * 1e6:.2f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def table(samples: dict[str, dict[str, list[float | None]]], ours: str, floors: list[str], note: str = "") -> str:
    """Rows sorted by median wall time: median and min–max over rounds; graphlang / this paired by
    round, on wall time and on CPU time (median and min–max of the per-round quotients)."""
    wall, cpu = samples["wall"], samples["cpu"]
    out = ["| who | median (wall) | min–max (rounds) | graphlang / this, paired: wall | CPU |",
           "|---|---|---|---|---|"]
    for who in sorted(wall, key=lambda w: median(wall[w])):
        xs = once(wall[who])
        if who == ours:
            rel = "1 | 1"
        else:
            rel = " | ".join("—" if d is cpu and who.startswith("JAX") else
                             "{:.2f} ({:.2f}–{:.2f})".format(*ratio(d, ours, who)) for d in (wall, cpu))
        out.append(f"| {who} | {fmt(median(wall[who]))} | {fmt(min(xs))}–{fmt(max(xs))} ({len(xs)}) | {rel} |")
    lines = []
    for floor in floors:
        (m, a, b), (mc, ac, bc) = ratio(wall, ours, floor), ratio(cpu, ours, floor)
        lines.append(f"graphlang / {floor}, paired: **{m:.2f}** wall ({a:.2f}–{b:.2f}), "
                     f"**{mc:.2f}** CPU ({ac:.2f}–{bc:.2f})")
    peers = [w for w in wall if w != ours and w not in floors and not w.startswith("graphlang")]
    if peers:
        best = min(peers, key=lambda w: median(wall[w]))
        m, a, b = ratio(wall, ours, best)
        lines.append(f"graphlang / the fastest peer ({best}) = **{m:.2f}** wall ({a:.2f}–{b:.2f})")
    return "\n".join(out) + "\n\n" + "; ".join(lines) + (f". {note}" if note else "") + "\n"
