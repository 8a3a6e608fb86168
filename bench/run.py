"""Run workloads W1-W4 and issue 14's targets (bench/targets.py) for graphlang, the floors and the
installed peers; write bench/README.md.

usage: python bench/run.py [--quick] [--no-peers] [--no-write] [--mallopt]
One thread everywhere (set before numpy loads), the process pinned to one core. Every contestant
of a workload is timed once per round, round-robin, in this one process (paired.py): medians,
min–max over rounds, and paired per-round ratios graphlang / X. The load average is recorded at
the start and end of each workload.
Allocator: glibc's defaults for every contestant (nothing in graphlang calls mallopt); `--mallopt`
raises glibc's trim and mmap thresholds for the whole process, i.e. for every contestant alike.
"""

from __future__ import annotations

import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                  XLA_FLAGS="--xla_cpu_multi_thread_eigen=false")
# JAX starts a pool of threads whatever the flags: one core for the whole process keeps every
# contestant to one core's worth of time.
PINNED = sorted(os.sched_getaffinity(0))[-1] if hasattr(os, "sched_setaffinity") else None
if PINNED is not None:
    os.sched_setaffinity(0, {PINNED})

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import paired as PR  # noqa: E402
import w3  # noqa: E402
import workloads as W  # noqa: E402


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
    ap.add_argument("--mallopt", action="store_true", help="raise glibc's trim/mmap thresholds for all")
    a = ap.parse_args()
    shared = W.ROOT.parent / "shared" / "bench"
    if not (shared / "big_100000.cg").is_file():  # (W2's programs are the course's, beside the checkout)
        raise SystemExit(f"bench/run.py: W2's programs are read from {shared}/big_*.cg (the course's "
                         "benchmark folder): put a copy of shared/ beside this checkout")
    if a.mallopt:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 256 << 20)  # M_MMAP_THRESHOLD
    peers = not a.no_peers
    started = time.perf_counter()
    load_start = PR.load()
    sections: list[str] = []
    results: dict[str, object] = {}
    reps = 5 if a.quick else 7

    def section(title: str, body: str, load: str) -> None:
        sections.append(f"## {title}\n\nLoad average (1/5/15 min) at the start: {load}; at the end: "
                        f"{PR.load()}.\n\n{body}")

    load = PR.load()
    w1 = W.run_w1(peers, reps)
    results["W1"] = w1
    section("W1 — the lecture's gradient, one call through the API",
            "`Program.gradient({'x': 2, 'z': 3})` on a loaded program (compiled on first use).\n\n"
            + PR.table(w1, W.W1_OURS, [W.W1_FLOOR]), load)

    for n in ([10_000] if a.quick else [10_000, 100_000]):
        load = PR.load()
        w2, once = W.run_w2(n, peers=peers, repeats=reps if n < 100_000 else 5)
        results[f"W2_{n}"] = {"samples": w2, "once": once}
        builds = "; ".join(f"{k.replace(' build', '')}'s {v:.2f} s" for k, v in once.items()
                           if k.endswith("build") and not k.startswith("graphlang"))
        text = (f"One-off costs: parse + check + build **{once['graphlang parse+check+build']:.2f} s** "
                f"({once['graphlang parse+check+build'] / n * 1e6:.1f} µs per statement); first call "
                f"{once['graphlang first gradient (tape or interpreted)']:.2f} s, the call that compiles "
                f"{once['graphlang compile + gradient']:.2f} s (up to 1,000 equations the plan is compiled at "
                "the first call; past that the first 100 calls run the tape, linear with nothing to compile, "
                "and the 101st compiles, up to 200,000 equations; the figures above are the compiled plan's); "
                f"building the function once (not timed above): {builds}. "
                "Gradient / forward (paired): **{:.2f}** ({:.2f}–{:.2f}).".format(
                    *PR.ratio(w2["wall"], W.W2_OURS, W.W2_FORWARD)))
        section(f"W2 — `big_{n}.cg`, forward + gradient",
                "torch and micrograd run the program as a Python function built once from its text "
                "(one line per statement, as their users write it); each call makes fresh leaves, "
                "runs it and `backward()`.\n\n" + PR.table(w2, W.W2_OURS, [W.W2_FLOOR]) + "\n" + text + "\n",
                load)
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
    import targets as T
    evaluated = [10_000] if a.quick else [10_000, 100_000]
    sections.append("## Program.evaluate (every value and adjoint), compiled\n\n" + E.lecture(15, peers) + "\n"
                    + "".join(E.big(n, 5) + "\n" for n in evaluated))
    med, stats, load = S.measure(15)
    sections.append("## CLI start-up\n\n" + S.markdown(med, stats, load, 15))
    targets = T.evaluate_rows(evaluated) + T.startup_rows(stats, load)
    targets += T.scale_rows(1, 1 if a.quick else 3, million=not a.quick)
    targets += T.command_rows(2_000, 1 if a.quick else 3)

    n3 = 2_000 if a.quick else 10_000
    for batch, lr in ((1, 0.05), (64, 0.5)):
        load = PR.load()
        samples, losses = w3.run(batch, lr, peers, n3, reps, 2 if a.quick else 3)
        spread = max(losses.values()) - min(losses.values())
        g_step, f_step = w3.step_ratio(batch)
        results[f"W3_batch{batch}"] = {"samples": samples, "loss": losses, "gradient_over_forward": g_step / f_step}
        section(f"W3 — the lecture's network (784-128-64-10), one SGD epoch of {n3:,} examples, batch {batch}, "
                f"lr {lr}",
                "Each contestant is set up once (parse and compile, jit, tensors, pre-sliced batches: not "
                "timed) and starts each epoch from the same weights, in the same order.\n\n"
                + PR.table(samples, "graphlang", [w3.PLAIN, w3.TUNED],
                           f"Every contestant ends the epoch at the same mean loss ({losses['graphlang']:.12f}; "
                           f"spread {spread:.1e}). One compiled step's (loss and lr·∇) time / its forward "
                           f"pass: **{g_step / f_step:.2f}** (the numpy floor's own: "
                           f"{w3.numpy_step_ratio(batch):.2f})"),
                load)

    for d, c in ((1000, 10), (10, 1000)):
        load = PR.load()
        w4, mode = W.run_w4(d, c, peers=peers, repeats=reps)
        results[f"W4_{d}x{c}"] = {"samples": w4, "mode": mode}
        jax_best = [k for k in w4["wall"] if k.startswith("JAX")]
        note = f"graphlang chose **{mode}** mode automatically (D = {d}, C = {c})"
        if jax_best:
            best = min(jax_best, key=lambda k: PR.median(w4["wall"][k]))
            m, lo, hi = PR.ratio(w4["wall"], W.W4_OURS, best)
            note += f"; graphlang / JAX jit's best mode = **{m:.2f}** ({lo:.2f}–{hi:.2f})"
        section(f"W4 — Jacobian of tanh(W2 tanh(W1 x)), D = {d}, C = {c}",
                PR.table(w4, W.W4_OURS, [W.W4_FLOOR], note), load)

    targets += T.w3_rows(results)
    results["issue14_targets"] = [{"target": t, "measured": m, "met": ok} for t, m, ok in targets]
    sections.insert(0, "## Issue 14: every target and its measured ratio\n\n" + T.markdown(targets))

    elapsed = time.perf_counter() - started
    versions = {m: _version(m) for m in ("numpy", "torch", "jax", "autograd", "micrograd")}
    head = (f"Measured by `python bench/run.py` on {time.strftime('%Y-%m-%d')}: {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, "
            + ", ".join(f"{k} {v}" for k, v in versions.items() if v) + "; one thread everywhere; "
            f"the whole run took {elapsed:.0f} s; load average (1/5/15 min) {load_start} at the start, "
            f"{PR.load()} at the end; the process pinned to CPU {PINNED}; allocator: "
            + ("glibc trim/mmap thresholds raised for the whole process" if a.mallopt else "glibc defaults")
            + " for every contestant. Times are medians over round-robin rounds; read the paired "
            "ratios (absolute times drift by up to ~2× on this shared 2-core machine).\n")
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
