"""Grading a student's `.cg` program: same output and gradient as the reference at seeded points."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.grading import options as opts
from graphlang.grading.checker import Item, Report, _as_program, _close
from graphlang.limits import Limits
from graphlang.program import Program, parse


def sample_points(prog: Program, at: Mapping[str, Any], n: int, seed: int, max_tries: int = 50
                  ) -> list[dict[str, np.ndarray]]:
    """n points near `at` (seeded) where the reference evaluates; domain failures are replaced."""
    rng = np.random.default_rng(seed)
    base, _ = prog.bind(at)
    points: list[dict[str, np.ndarray]] = [dict(zip(prog.inputs, base))]
    tries = 0
    while len(points) < n and tries < max_tries * n:
        tries += 1
        cand = {name: x + rng.uniform(-0.5, 0.5, size=x.shape) * np.maximum(1.0, np.abs(x))
                for name, x in zip(prog.inputs, base)}
        try:
            prog.evaluate(cand)
        except GraphlangError:
            continue  # outside the reference's domain: draw another point
        points.append(cand)
    return points[:n]


def grade_program(reference: Program | str, submission: str, at: Mapping[str, Any], *,
                  n_points: int = 5, seed: int = 0, rtol: float = 1e-6, atol: float = 1e-9,
                  required: Sequence[str] = (), points: float = 1.0,
                  limits: Limits | None = None) -> Report:
    """Same output and gradient as the reference at seeded points; intermediate names may differ.

    The options are checked first (a usage error); after that nothing in `submission` raises."""
    n_points, seed, rtol, atol, required, points = opts.program_options(
        n_points, seed, rtol, atol, required, points, limits)
    limits = limits or Limits.strict()
    report = Report()
    try:
        ref = _as_program(reference, Limits())
        pts = sample_points(ref, at, n_points, seed)
        ref_results = [ref.evaluate(p) for p in pts]
    except GraphlangError as err:
        report.items.append(Item("reference", 0.0, message=f"the reference program fails: {err}"))
        return report
    parsed = Item("program parses and checks", points)
    report.items.append(parsed)
    try:
        if not isinstance(submission, str):
            raise GraphlangError("value", "the submission is not text")
        stud = parse(submission, limits=limits)
    except GraphlangError as err:
        parsed.message = _located(err)
        report.root_cause = parsed.name
        report.items += [Item(n, points, message="not graded: the program does not parse")
                         for n in _names(ref, required)]
        report.feedback.append(f"Your program has an error: {parsed.message}")
        return report
    parsed.passed, parsed.score = True, points
    missing = [n for n in ref.inputs if n not in stud.inputs]
    extra = [n for n in stud.inputs if n not in ref.inputs]
    inputs = Item("inputs", points, passed=not missing and not extra)
    inputs.score = points if inputs.passed else 0.0
    if not inputs.passed:
        inputs.message = "; ".join(
            ([f"missing input(s): {', '.join(missing)}"] if missing else []) +
            ([f"unexpected input(s) {', '.join(extra)}: is a name misspelled or never assigned?"]
             if extra else []))
    report.items.append(inputs)
    for name in required:
        ok = name in stud.names
        report.items.append(Item(f"defines {name}", points, points if ok else 0.0, ok,
                                 "" if ok else f"the program does not define {name!r}"))
    value = Item("output value", points)
    grads = {n: Item(f"d{ref.outputs[0]}/d{n}", points) for n in ref.inputs}
    report.items += [value, *grads.values()]
    if not inputs.passed:
        for it in [value, *grads.values()]:
            it.message = "not graded: the inputs differ from the reference's"
        report.root_cause = inputs.name
        return report
    first_bad: str | None = None
    for p, want in zip(pts, ref_results):
        where = ", ".join(f"{n}={_short(v)}" for n, v in p.items())
        try:
            got = stud.evaluate(p)
        except GraphlangError as err:
            for it in [value, *grads.values()]:
                it.message = it.message or f"at {where}: {_located(err)}"
            first_bad = first_bad or value.name
            break
        if got.gradient is None:
            value.message = "the output must be a single scalar, like the reference's"
            break
        if not _close(got.value, want.value, rtol, atol)[0] and not value.message:
            value.message = f"at {where}: {_short(got.value)}, expected {_short(want.value)}"
            first_bad = first_bad or value.name
        have, need = got.gradient, want.gradient or {}
        for n, it in grads.items():
            if not _close(have[n], need[n], rtol, atol)[0] and not it.message:
                it.message = f"at {where}: {_short(have[n])}, expected {_short(need[n])}"
                first_bad = first_bad or it.name
    for it in [value, *grads.values()]:
        it.passed = not it.message
        it.score = points if it.passed else 0.0
    report.root_cause = first_bad
    if first_bad:
        report.feedback.append(f"First disagreement: {first_bad} (checked at {len(pts)} points).")
    else:
        report.feedback.append(f"Same value and gradient as the reference at {len(pts)} points.")
    return report


def _names(ref: Program, required: Sequence[str]) -> list[str]:
    return [f"defines {n}" for n in required] + ["output value"] + \
        [f"d{ref.outputs[0]}/d{n}" for n in ref.inputs]


def _short(v: Any) -> str:
    a = np.asarray(v, dtype=np.float64)
    return f"{float(a):.6g}" if a.ndim == 0 else np.array2string(a, precision=4, threshold=8)


def _located(err: GraphlangError) -> str:
    where = f"line {err.line}: " if err.line is not None else ""
    return f"{where}{err.kind} error: {err.message}"
