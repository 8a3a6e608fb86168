"""Does any command exceed its predicted cost by more than a constant factor? (issue 13)

    python tests/costmodel.py [--quick]

Each command of `adversarial.PER_COMMAND` runs on families of programs that grow along one axis at
a time (statements, tensor size, matrix size, number of inputs), each run in a child forked from a
warm parent (its own CPU time and peak RSS from `wait4`, as `adversarial.py --per-command` does).
The prediction is `graphlang.ir.cost`'s estimate of the whole command (the one the command checks
against its budget before it starts): operations and the float64 numbers held at once.

Per command, a run's *excess* is its CPU time over the command's model: a fixed cost (its smallest
run's) plus the median cost per predicted operation. 1 is a typical run, and a command whose time
grows faster than its prediction shows an excess growing with the size. The same for memory (peak
RSS above the warm parent's, per predicted number held). The worst excess per command, and where,
is printed as a table.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from typing import Any, NamedTuple

sys.path.insert(0, os.path.dirname(__file__))

from adversarial import PER_COMMAND, _forked  # noqa: E402

os.environ.update({"COLUMNS": "100", "NO_COLOR": "1", "OPENBLAS_NUM_THREADS": "1"})


def _chain(n: int) -> tuple[str, dict[str, Any]]:
    """n scalar statements over 4 inputs, each reading a recent one (the W2 programs' shape)."""
    ops = ["{a} + {b}", "{a} * {b}", "sin({a})", "{a} / (1 + {b} * {b})", "tanh({a})", "{a} - {b}",
           "exp(sin({a}))", "log(1 + {a} * {a})"]
    names, lines = ["x0", "x1", "x2", "x3", "s"], ["s = x0 * x1 - x2 * x3"]
    for i in range(n):
        a, b = names[-1], names[max(0, len(names) - 2 - (i * 7) % 40)]
        lines.append(f"n{i} = " + ops[i % len(ops)].format(a=a, b=b))
        names.append(f"n{i}")
    lines.append("y = " + " + ".join(names[-5:]))
    return "\n".join(lines) + "\n", {"x0": 0.3, "x1": -0.7, "x2": 1.1, "x3": 0.2}


def _vector(m: int) -> tuple[str, dict[str, Any]]:
    text = "input x[%d]\na = sin(x) * x\nb = exp(-a * a)\ny = sum(a + b) / %d\n" % (m, m)
    return text, {"x": [((k * 37) % 101) / 50 - 1 for k in range(m)]}


def _matrix(m: int) -> tuple[str, dict[str, Any]]:
    text = f"input W[{m}, {m}], x[{m}]\nh = tanh(W @ x)\ny = sum(h * h)\n"
    w = [[((i * 31 + j * 17) % 97) / 970 - 0.05 for j in range(m)] for i in range(m)]
    return text, {"W": w, "x": [((k * 13) % 29) / 29 for k in range(m)]}


def _inputs(d: int) -> tuple[str, dict[str, Any]]:
    names = [f"x{k}" for k in range(d)]
    terms = [f"{names[k]} * sin({names[(k + 1) % d]})" for k in range(d)]
    return "y = " + " + ".join(terms) + "\n", {n: 0.1 * (k % 7) - 0.3 for k, n in enumerate(names)}


def _literal(m: int) -> tuple[str, dict[str, Any]]:
    """A bracket literal of m computed entries: one primitive with m arguments (a stack)."""
    entries = ", ".join(f"sin({k % 7 + 1} * x) + {k}" for k in range(m))
    return f"v = [{entries}]\ny = sum(v * v) / {m}\n", {"x": 0.3}


FAMILIES = {"statements": (_chain, [250, 500, 1000, 2000]),
            "literal entries": (_literal, [500, 1_000, 2_000, 4_000]),
            "vector size": (_vector, [1_000, 4_000, 16_000, 64_000]),
            "matrix side": (_matrix, [32, 64, 128, 256]),
            "inputs": (_inputs, [8, 16, 32, 64])}


def predicted(command: list[str], path: str, values: dict[str, Any]) -> tuple[int, int] | None:
    """(operations, numbers held) the command is predicted to take; None if it is refused."""
    import graphlang
    from graphlang.errors import GraphlangError
    from graphlang.ir import cost
    from graphlang.methods import batch_numbers

    try:
        p = graphlang.load(path)
        shapes = p.bind(values)[1]
        g, b, wrt = p.graph, batch_numbers(p.limits), p.graph.inputs

        def jac(method: str) -> cost.Estimate:
            return cost.jacobian(g, shapes, method, wrt, b)

        name = command[0]
        if name == "grad":
            est = jac(command[command.index("--method") + 1])
        elif name == "diff":
            est = jac("symbolic")
        elif name == "gradcheck":
            est = cost.gradcheck(g, shapes, b)
            if "--sweep" in command:
                est = est + cost.sweep(g, shapes)
        elif name == "hessian":
            est = cost.hessian(g, shapes)
        else:  # run, explain, graph, ir, tangents, check: values and the Jacobian, mode chosen by D vs C
            est = min(jac("forward"), jac("reverse"), key=lambda e: e.ops)
        cost.check(p.limits, est)
        return est.ops, est.numbers
    except GraphlangError:
        return None


def main() -> None:  # pragma: no cover - a measurement, run by hand
    quick = "--quick" in sys.argv
    import graphlang.cli.app  # noqa: F401 - loaded once, before the forks

    rows: dict[str, list[Run]] = {}
    bad = []
    with tempfile.TemporaryDirectory() as d:
        for family, (make, sizes) in FAMILIES.items():
            for size in sizes[:2] if quick else sizes:
                text, values = make(size)
                path, at = os.path.join(d, "p.cg"), os.path.join(d, "at.json")
                with open(path, "w") as fh:
                    fh.write(text)
                with open(at, "w") as fh:
                    json.dump(values, fh)
                for command in PER_COMMAND:
                    pred = predicted(command, path, values)
                    argv = [command[0], path, *[a.replace("{SELF}", path) for a in command[1:]],
                            "--at-file", at]
                    base_rss = _rss_now()
                    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
                        code, usage = _forked(argv, out, err, d)
                        err.seek(0)
                        message = err.read().decode(errors="replace")
                    cpu = usage.ru_utime + usage.ru_stime
                    key = " ".join(command)
                    if "Traceback" in message or code not in (0, 1):
                        bad.append(f"{key} on {family} {size}: exit {code}\n{message[-400:]}")
                    if code == 0 and pred is not None:
                        grown = max(0, usage.ru_maxrss * 1024 - base_rss)
                        rows.setdefault(key, []).append(Run(family, size, cpu, *pred, grown))
                    elif code == 0 and pred is None:
                        bad.append(f"{key} on {family} {size}: predicted refusal, but it ran")
                print(f"{family} {size}: done", file=sys.stderr, flush=True)
    names = list(FAMILIES)
    print("Worst time excess per family (memory excess in brackets): 1 = the command's own median")
    print("cost per predicted operation (per predicted number held) in that family\n")
    print("| command | fixed CPU ms | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for key, runs in rows.items():
        cells = []
        for family in names:
            own = [r for r in runs if r.family == family]
            if not own:
                cells.append("refused")
                continue
            tx, mx = excess(own, min(r.cpu for r in runs))
            cells.append(f"{tx:.1f} ({mx:.1f})")
        print(f"| `{key}` | {min(r.cpu for r in runs) * 1000:.0f} | " + " | ".join(cells) + " |")
    if "--raw" in sys.argv:  # every run, for a closer look
        print(json.dumps({k: [r._asdict() for r in v] for k, v in rows.items()}), file=sys.stderr)
    print(f"\n{len(bad)} surprises")
    for b in bad:
        print(b)


def _rss_now() -> int:
    """This process's resident set now, bytes (a forked child starts from it)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Run(NamedTuple):
    family: str
    size: int
    cpu: float  # seconds
    ops: int  # predicted
    numbers: int  # predicted float64 numbers held at once
    grown: int  # peak RSS above the warm parent's, bytes


SLACK = 8 << 20  # RSS growth below 8 MB (allocator arenas, imports) counts as none


def excess(runs: list[Run], fixed: float) -> tuple[float, float]:
    """The worst run's CPU time over a model of it: the command's fixed cost (its smallest run's,
    over all families) plus the median cost per predicted operation over `runs`. 1 is typical; a
    command growing faster than its prediction shows its largest runs far above 1. The same for
    peak RSS growth per predicted number held (SLACK added to both sides: arenas, lazy imports)."""
    per_op = statistics.median(max(0.0, r.cpu - fixed) / r.ops for r in runs)
    per_number = max(8.0, statistics.median(r.grown / max(r.numbers, 1) for r in runs))  # ≥ a float64
    time = max(r.cpu / (fixed + per_op * r.ops) for r in runs)
    memory = max((r.grown + SLACK) / (SLACK + per_number * r.numbers) for r in runs)
    return time, memory


if __name__ == "__main__":
    main()
