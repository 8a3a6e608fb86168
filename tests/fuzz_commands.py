"""Every command on random programs (issue 13):

    python tests/fuzz_commands.py N [--seed S] [--every-variant]

Each program goes through every command of `test_cli_matrix.COMMANDS` (run, grad, explain, diff,
gradcheck, tangents, hessian, graph, check, ir): one variant of each drawn at random (method,
format, `--json`, `--partials`, with or without values, ...), or with `--every-variant` all 45,
in-process through the click command Typer builds (once). The programs are the differential test's random
tensor programs (values and derivatives checked against its autograd oracle through the JSON the
commands print), random scalar programs with kinks, the suite's tensor programs, near-miss
mutations of all of them and random text. Invariants:

- nothing escapes but a located error: exit 0, or exit 1 with `FILE[:LINE:COL]: KIND error: ...`
  first on stderr; never a traceback, never exit 2 (the arguments are well formed);
- every `--json` output is one strict JSON object (no NaN or Infinity tokens);
- the numbers `run --json` and `grad --method M --json` print equal autograd's (the differential
  oracle), within 1e-7 (1e-5 for finite differences where they are trustworthy);
- the same command on the same input prints the same bytes (checked on a sample).

It prints the programs and command runs made, the time and count per command, the peak RSS of the
process, and each distinct failure with its smallest program.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("COLUMNS", "100")

import numpy as np  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import scalar_programs, tensor_programs  # noqa: E402
from test_cli_matrix import COMMANDS, SCALAR_ONLY  # noqa: E402
from test_differential import Oracle, close, fd_trustworthy, programs  # noqa: E402
from test_fuzz import ALPHABET, near_misses  # noqa: E402
from typer.main import get_command  # noqa: E402

import graphlang  # noqa: E402
from graphlang.cli.app import app  # noqa: E402

RUNNER = CliRunner()
COMMAND = get_command(app)  # built once: Typer's own runner rebuilds the click group on every call
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def _gradcheck_failure_is_fair(case: Case, cid: str, argv: list[str], out: str) -> None:
    """A failed gradcheck is right only where finite differences are (a kink: they average the
    one-sided derivatives; or their ε trade-off), or where the exact methods part by rounding alone:
    reverse mode equal to autograd's (the same rules in the same order), yet forward mode summing
    tangents in another order (a huge adjoint times a derivative that cancels to zero: 10⁵⁵ · 10⁻¹³)."""
    if not cid.endswith("json"):
        out = _invoke([*argv, "--json"])[1]
    report = _strict(out)
    kinked = {k["input"] for k in report.get("kinks", [])}
    wrong = [r for r in report["rows"] if not r["passed"] and r["method"] != "fd" and r["input"] not in kinked]
    assert not report["passed"]
    if wrong and case.oracle is not None and case.oracle.adjoints is not None:
        reverse = {r["input"]: r["value"] for r in report["rows"] if r["method"] == "reverse"}
        for name in {r["input"] for r in wrong}:
            close(reverse[name], case.oracle.jac[name][..., 0], f"{cid}: reverse {name} vs autograd", case.source)
        return
    assert not wrong, f"{cid}: the AD methods disagree: {wrong}"


def _strict(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(f"non-finite JSON token {token}")
    return json.loads(text, parse_constant=refuse)


def _invoke(args: list[str]) -> tuple[int, str, str]:
    res = RUNNER.invoke(COMMAND, args, env=ENV, catch_exceptions=True)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        tb = "".join(traceback.format_exception(res.exception))
        raise AssertionError(f"{type(res.exception).__name__} escaped: {res.exception}\n{tb[-1500:]}")
    return res.exit_code, res.stdout, res.stderr


class Case:
    """One program: its text, its values, and (for differential programs) the oracle."""

    def __init__(self, source: str, values: dict[str, Any], oracle: Oracle | None = None,
                 fd_ok: bool = False) -> None:
        self.source, self.values, self.oracle, self.fd_ok = source, values, oracle, fd_ok


def _case_from_differential(prog: Any) -> Case:
    oracle = Oracle(prog)
    return Case(prog.source(), {n: np.asarray(v).tolist() for n, v in prog.values.items()}, oracle,
                fd_trustworthy(prog, oracle))


def cases() -> st.SearchStrategy[Case]:
    text = st.tuples(st.text(alphabet=ALPHABET, max_size=80), st.floats(-3, 3)).map(
        lambda tx: Case(tx[0], {"x": tx[1], "y": tx[1], "z": tx[1]}))
    return st.one_of(
        programs().map(_case_from_differential),
        scalar_programs(kinks=True).map(lambda sv: Case(*sv)),
        tensor_programs().map(lambda sv: Case(*sv)),
        near_misses().map(lambda sv: Case(*sv)),
        text,
    )


class Stats:
    def __init__(self) -> None:
        self.programs = 0
        self.runs = 0
        self.checks = 0
        self.seconds: dict[str, float] = {}
        self.slowest: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self.failures: dict[tuple[str, ...], list[str]] = {}

    def timed(self, cid: str, args: list[str]) -> tuple[int, str, str]:
        start = time.perf_counter()
        try:
            return _invoke(args)
        finally:
            spent = time.perf_counter() - start
            self.runs += 1
            self.seconds[cid] = self.seconds.get(cid, 0.0) + spent
            self.slowest[cid] = max(self.slowest.get(cid, 0.0), spent)
            self.count[cid] = self.count.get(cid, 0) + 1


def _check_numbers(case: Case, cid: str, obj: dict, stats: Stats) -> None:
    """`run --json` and `grad --json` against autograd."""
    oracle = case.oracle
    assert oracle is not None
    method = cid.split("-")[1] if cid.startswith("grad-") and cid != "grad-wrt" else "reverse"
    if method == "fd" and not case.fd_ok:
        return
    rtol = 1e-5 if method == "fd" else 1e-7
    key = "gradient" if oracle.adjoints is not None else "jacobian"
    if key not in obj:
        raise AssertionError(f"{cid}: no {key!r} in the JSON")
    for name, value in obj[key].items():
        want = oracle.jac[name][..., 0] if key == "gradient" else oracle.jac[name]
        close(value, want, f"{cid}: {key} {name}", case.source, rtol)
        stats.checks += 1


def pick(rng: random.Random, every_variant: bool) -> list[tuple[str, list[str]]]:
    """Every command; of each, every variant or one drawn at random (flags, formats, methods)."""
    if every_variant:
        return list(COMMANDS)
    groups: dict[str, list[tuple[str, list[str]]]] = {}
    for cid, template in COMMANDS:
        groups.setdefault(cid.split("-")[0], []).append((cid, template))
    return [rng.choice(variants) for variants in groups.values()]


def check_case(case: Case, folder: Path, stats: Stats, rng: random.Random, every_variant: bool = True) -> None:
    path = folder / "p.cg"
    path.write_text(case.source)
    values = folder / "values.json"
    values.write_text(json.dumps(case.values))
    try:
        prog = graphlang.parse(case.source)
        first = prog.inputs[0] if prog.inputs else "x"
        r = prog.evaluate(case.values)
        answers = {n: np.asarray(v).tolist() for n, v in r.values.items()}
        answers.update({f"g_{n}": np.asarray(v).tolist() for n, v in (r.adjoints or {}).items()})
        answers.update({f"d{prog.outputs[0]}/d{n}": np.asarray(v).tolist() for n, v in (r.gradient or {}).items()})
    except graphlang.GraphlangError:
        first, answers = "x", {"y": 0}
    (folder / "answers.json").write_text(json.dumps(answers))
    subst = {"{TMP}": str(folder), "{SELF}": str(path), "{FIRST}": first,
             "{ANSWERS}": str(folder / "answers.json")}
    chosen = pick(rng, every_variant)
    replay = rng.randrange(len(chosen)) if rng.random() < 0.1 else -1
    for k, (cid, template) in enumerate(chosen):
        args: list[str] = []
        for a in template:
            if a == "{AT}":
                args += ["--at-file", str(values)]
                continue
            for key, v in subst.items():
                a = a.replace(key, v)
            args.append(a)
        argv = [cid.split("-")[0], str(path), *args]
        code, out, err = stats.timed(cid, argv)
        assert "Traceback" not in out + err, f"{cid}: traceback\n{err[-1500:]}"
        if cid.startswith("check") and code == 2:  # the reference itself cannot be evaluated there
            assert re.match(rf"{re.escape(str(path))}(:\d+:\d+)?: usage error: the reference", err), \
                f"{cid}: exit 2\n{err[-800:]}"  # (located in the reference when it has a line)
            continue
        assert code in (0, 1), f"{cid}: exit {code}\n{err[-800:]}"
        if code == 1 and cid.startswith("check") and not err:  # graded: some items failed
            continue
        if code == 1 and cid.startswith("gradcheck") and not err:  # the methods disagree
            _gradcheck_failure_is_fair(case, cid, argv, out)
            continue
        if code == 1 and cid.startswith("graph-file-svg") and err.startswith("Graphviz is not installed"):
            continue  # no Graphviz here: the DOT source was written instead
        if code == 1:
            first_line = err.splitlines()[0] if err else ""
            assert first_line.startswith(f"{path}") and " error: " in first_line, \
                f"{cid}: unlocated error {first_line!r}"
            continue
        if cid.endswith("json"):
            obj = _strict(out)
            if case.oracle is not None and (cid == "run-json" or cid.startswith("grad-")):
                _check_numbers(case, cid, obj, stats)
        if cid in SCALAR_ONLY and case.oracle is not None and case.oracle.adjoints is None:
            raise AssertionError(f"{cid}: a vector-valued program was accepted")
        if k == replay:
            again = stats.timed(cid, argv)
            assert again == (code, out, err), f"{cid}: different bytes on a second run"


def main(n: int, seed: int | None, every_variant: bool) -> int:
    warnings.simplefilter("ignore")
    stats = Stats()
    rng = random.Random(seed)

    @settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=False)
    @given(cases())
    def run(case: Case) -> None:
        stats.programs += 1
        with tempfile.TemporaryDirectory() as tmp:
            try:
                check_case(case, Path(tmp), stats, rng, every_variant)
            except Exception as err:  # noqa: BLE001 - record every distinct failure, keep searching
                first = str(err).split("\n")[0][:100]
                key = (type(err).__name__, first.split(":")[0] if isinstance(err, AssertionError) else first)
                stats.failures.setdefault(key, []).append(f"{first}\n{case.source}values: {case.values}")

    start = time.perf_counter()
    if seed is not None:
        run = hypothesis_seed(seed)(run)
    run()
    wall = time.perf_counter() - start
    bad = sum(len(v) for v in stats.failures.values())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"commands: {stats.programs} programs, {stats.runs} command runs, {stats.checks} numbers checked "
          f"against autograd, {bad} failing programs ({len(stats.failures)} distinct), {wall:.0f} s, "
          f"peak RSS {rss:.0f} MB")
    for cid in sorted(stats.seconds, key=lambda c: -stats.seconds[c]):
        print(f"  {cid:28} {stats.count[cid]:8} runs  mean {1000 * stats.seconds[cid] / stats.count[cid]:7.2f} ms"
              f"  slowest {1000 * stats.slowest[cid]:8.1f} ms")
    for key, sources in sorted(stats.failures.items(), key=lambda kv: -len(kv[1])):
        print(f"\n{len(sources)} x {' '.join(key)}\n" + min(sources, key=len))
    return 1 if stats.failures else 0


if __name__ == "__main__":
    argv = sys.argv[1:]
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else None
    numbers = [a for a in argv if a.isdigit() and (not seed or a != str(seed))]
    sys.exit(main(int(numbers[0]) if numbers else 100, seed, "--every-variant" in argv))
