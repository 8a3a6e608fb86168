"""Run workloads W1-W4 for graphlang, the floors and the installed peers; write bench/README.md.

usage: python bench/run.py [--quick] [--no-peers] [--no-write]
One thread everywhere (set before numpy loads). Medians; ratios are within this one run.
"""

from __future__ import annotations

import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                  XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as W  # noqa: E402


def us(s: float) -> str:
    return f"{s * 1e6:.2f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def table(rows: dict[str, float], floor: str, ours: str, note: str = "") -> str:
    peers = {k: v for k, v in rows.items() if "(floor)" not in k and not k.startswith("graphlang")}
    best = min(peers, key=peers.get) if peers else None  # type: ignore[arg-type]
    out = ["| who | time | graphlang / this |", "|---|---|---|"]
    for k, v in sorted(rows.items(), key=lambda kv: kv[1]):
        out.append(f"| {k} | {us(v)} | {rows[ours] / v:.2f} |")
    summary = f"graphlang / floor = **{rows[ours] / rows[floor]:.2f}**"
    if best:
        summary += f"; graphlang / best peer ({best}) = **{rows[ours] / rows[best]:.2f}**"
    return "\n".join(out) + "\n\n" + summary + (f". {note}" if note else "") + "\n"


def peak_rss(code: str) -> float:
    """Peak memory (MB) of a fresh Python process running `code`."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    script = ("import sys; sys.path.insert(0, %r)\n" % str(HERE)) + code + \
        "\nprint([int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return float(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the slowest peers and N = 100,000")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    from graphlang.training.heap import keep_heap
    keep_heap()  # for every contestant alike
    peers = not a.no_peers
    started = time.perf_counter()
    sections: list[str] = []
    results: dict[str, object] = {}

    w1 = W.run_w1() if peers else {k: v for k, v in W.run_w1().items()}
    results["W1"] = w1
    sections.append("## W1 — the lecture's gradient, one call through the API\n\n"
                    "`Program.gradient({'x': 2, 'z': 3})` on a loaded program (compiled on first use).\n\n"
                    + table(w1, "hand-written analytic Python (floor)", "graphlang (Program.gradient)"))

    for n in ([10_000] if a.quick else [10_000, 100_000]):
        w2 = W.run_w2(n, peers=peers)
        results[f"W2_{n}"] = w2
        timing = {k: v for k, v in w2.items() if k in ("graphlang gradient", "straight-line compiled Python (floor)",
                                                         "torch eager", "micrograd")}
        once = (f"One-off costs: parse + check + build **{w2['graphlang parse+check+build']:.2f} s** "
                f"({w2['graphlang parse+check+build'] / n * 1e6:.1f} µs per statement); first call "
                f"{w2['graphlang first gradient (interpreted)']:.2f} s, second call "
                f"{w2['graphlang compile + gradient']:.2f} s (the plan is compiled at the first call up to "
                f"20,000 equations, at the second call beyond: a one-off evaluation is interpreted); "
                f"the floor's own build: {w2['floor build']:.2f} s. "
                f"Gradient / forward: **{w2['graphlang gradient'] / w2['graphlang forward only']:.2f}**.")
        sections.append(f"## W2 — `big_{n}.cg`, forward + gradient\n\n"
                        + table(timing, "straight-line compiled Python (floor)", "graphlang gradient")
                        + "\n" + once + "\n")
    if not a.quick:
        g_mem = peak_rss("import workloads as W, json, graphlang\n"
                         "t = open(W.ROOT.parent / 'shared/bench/big_100000.cg').read()\n"
                         "ref = json.load(open(W.ROOT.parent / 'shared/bench/big_100000.json'))\n"
                         "g = graphlang.parse(t); g.gradient(ref['inputs']); g.gradient(ref['inputs'])")
        f_mem = peak_rss("import workloads as W, json\n"
                         "t = open(W.ROOT.parent / 'shared/bench/big_100000.cg').read()\n"
                         "f = W.straight_line_floor(t); f(-0.25, -1.469, 0.976, -0.604)")
        results["W2_memory_MB"] = {"graphlang": g_mem, "floor": f_mem}
        sections.append(f"Peak memory at N = 100,000 (fresh processes, parse + compile + gradient): graphlang "
                        f"{g_mem:.0f} MB, floor {f_mem:.0f} MB: ratio **{g_mem / f_mem:.2f}**.\n")

    import evaluate as E
    import startup as S
    sections.append("## Program.evaluate (every value and adjoint), compiled\n\n" + E.lecture(15) + "\n"
                    + "".join(E.big(n, 5) + "\n" for n in ([10_000] if a.quick else [10_000, 100_000])))
    med, stats, load = S.measure(15)
    sections.append("## CLI start-up\n\n" + S.markdown(med, stats, load, 15))

    for batch, lr in ((1, 0.05), (64, 0.5)):
        times, losses = W.run_w3(batch, lr, peers=peers and not (a.quick and batch == 1))
        results[f"W3_batch{batch}"] = {"seconds": times, "loss": losses}
        spread = max(losses.values()) - min(losses.values())
        g_step, f_step = W.w3_step_ratio(batch)
        results[f"W3_batch{batch}"]["gradient_over_forward"] = g_step / f_step
        sections.append(f"## W3 — the lecture's network (784-128-64-10), one SGD epoch, batch {batch}, lr {lr}\n\n"
                        + table(times, "plain numpy, vectors and np.outer (floor)" if batch == 1 else
                                "hand-written numpy backprop (floor)", "graphlang",
                                f"Every contestant ends the epoch at the same mean loss "
                                f"({losses['graphlang']:.12f}; spread {spread:.1e}). One step's "
                                f"gradient / forward time: **{g_step / f_step:.2f}** (the numpy floor's "
                                f"own: {W.numpy_step_ratio(batch):.2f})"))

    for d, c in ((1000, 10), (10, 1000)):
        w4 = W.run_w4(d, c, peers=peers)
        mode = w4.pop("graphlang mode")
        results[f"W4_{d}x{c}"] = {**w4, "mode": mode}
        best_jax = min((v for k, v in w4.items() if k.startswith("JAX")), default=None)
        note = f"graphlang chose **{mode}** mode automatically (D = {d}, C = {c})"
        if best_jax:
            note += f"; graphlang / JAX jit's best mode = **{w4['graphlang (auto mode)'] / best_jax:.2f}**"
        sections.append(f"## W4 — Jacobian of tanh(W2 tanh(W1 x)), D = {d}, C = {c}\n\n"
                        + table(w4, "numpy analytic Jacobian (floor)", "graphlang (auto mode)", note))

    elapsed = time.perf_counter() - started
    versions = {m: _version(m) for m in ("numpy", "torch", "jax", "autograd", "micrograd")}
    head = (f"Measured by `python bench/run.py` on {time.strftime('%Y-%m-%d')}: {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, "
            + ", ".join(f"{k} {v}" for k, v in versions.items() if v) + "; one thread everywhere; "
            f"the whole run took {elapsed:.0f} s. Times are medians; compare ratios within this run only "
            "(absolute times drift by up to ~50% on these shared machines).\n")
    (HERE / "results.json").write_text(json.dumps(results, indent=1, default=str))
    text = "\n".join(sections)
    print(head + "\n" + text)
    if not a.no_write:
        readme = HERE / "README.md"
        old = readme.read_text() if readme.exists() else ""
        start, end = "<!-- results:start -->", "<!-- results:end -->"
        block = f"{start}\n{head}\n{text}\n{end}"
        if start in old:
            new = old[: old.index(start)] + block + old[old.index(end) + len(end):]
        else:
            new = old + "\n" + block + "\n"
        readme.write_text(new)


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    main()
