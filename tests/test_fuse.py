"""Shortened straight-line code (engines/fuse.py) against the code it came from.

The oracle is the unshortened code run a line at a time: the values a caller keeps must come out
bit for bit the same, a line that raised must still raise, and whenever any value the original
assigned was inf or NaN, the sum of the values the finiteness analysis names on the shortened code
must be non-finite (an inlined temporary must not hide an overflow the interpreter would report).
"""

from __future__ import annotations

import math
import random
import struct

import pytest
from test_finite import _run, straight_line

import graphlang
from graphlang.engines import fuse, plan
from graphlang.engines.finite import unchecked
from graphlang.engines.fuse import inline, merge, shorten


def _bits(x: object) -> bytes:
    return struct.pack("<d", x)  # NaN payloads and -0.0 compare as the bits they are


@pytest.mark.parametrize("seed", range(4))
def test_shortened_code_keeps_every_bit_and_shows_every_overflow(seed):
    rng = random.Random(1000 + seed)
    inlined = overflows = 0
    for _ in range(5000):
        lines, inputs = straight_line(rng)
        targets = list(dict.fromkeys(ln.split(" = ", 1)[0] for ln in lines))
        keep = {t for t in targets if rng.random() < 0.3} | {targets[-1]}
        short = shorten(lines, keep)
        inlined += len(short) < len(lines)
        before, after = _run(lines, inputs), _run(short, inputs)
        assert (before is None) == (after is None), (lines, short, inputs)
        if before is None or after is None:
            continue
        bad, env = before
        _, env2 = after
        assert all(_bits(env[k]) == _bits(env2[k]) for k in keep), (lines, short, inputs)
        try:
            check = unchecked(short)
        except ValueError:  # an overwritten value would go unseen: the caller checks every value
            continue
        if bad:
            overflows += 1
            assert not math.isfinite(sum(env2[name] for name in check)), (lines, short, inputs, check)
    assert inlined > 1000 and overflows > 150  # the rewrites and the overflows are both reached


def test_a_temporary_where_its_overflow_would_hide_stays_a_statement():
    lines = ["v2 = (v0 * v1)", "v3 = _S_tanh(v2)"]  # tanh(inf) = 1
    assert inline(lines, {"v3"}) == lines
    assert inline(["v2 = (v0 * v1)", "v3 = (2.0 / v2)"], {"v3"}) == ["v2 = (v0 * v1)", "v3 = (2.0 / v2)"]


def test_a_temporary_where_its_overflow_shows_is_written_into_its_use():
    assert inline(["v2 = (v0 * v1)", "v3 = (v2 + 1.0)"], {"v3"}) == ["v3 = (((v0 * v1)) + 1.0)"]
    assert inline(["v2 = (v0 * v1)", "v3 = (v2 / 3.0)"], {"v3"}) == ["v3 = (((v0 * v1)) / 3.0)"]


def test_an_expression_finite_when_its_variables_are_goes_anywhere():
    assert inline(["v2 = _S_sin(v0)", "v3 = _S_exp(v2)"], {"v3"}) == ["v3 = _S_exp((_S_sin(v0)))"]


def test_what_stays_a_statement():
    kept = ["v2 = (v0 * v1)", "v3 = (v2 + 1.0)"]
    assert inline(kept, {"v2", "v3"}) == kept  # the caller reads it
    twice = ["v2 = (v0 * v1)", "v3 = (v2 + v2)"]
    assert inline(twice, {"v3"}) == twice  # read twice
    moved = ["g2 = (g0 * v1)", "g0 = g0 + v1", "v3 = (g2 + 1.0)"]
    assert inline(moved, {"v3", "g0"}) == moved  # g0 changes between the temporary and its use
    cond = ["v2 = (v0 * v1)", "v3 = (v2 if v0 > 0.0 else 0.0)"]
    assert inline(cond, {"v3"}) == cond  # a branch that may not run
    chain = ["v1 = (v0 * v0)", "v2 = (v1 + 1.0)", "v3 = (v2 + 2.0)"]
    assert inline(chain, {"v3"}) == ["v2 = (((v0 * v0)) + 1.0)", "v3 = (v2 + 2.0)"]  # two deep at most


def test_merge_adds_an_adjoints_contributions_in_one_statement():
    assert merge(["g1 = (g2 * v3)", "g1 = g1 + (g4 * v5)", "g1 = g1 + g6"]) == \
        ["g1 = ((g2 * v3)) + (g4 * v5) + g6"]
    reads = ["g1 = (g2 * v3)", "g1 = g1 + (g1 * v5)"]
    assert merge(reads) == reads
    many = ["g1 = v0"] + ["g1 = g1 + v0"] * 40
    merged = merge(many)
    assert len(merged) == math.ceil(41 / fuse.MERGED)
    assert all(line.count(" + ") <= fuse.MERGED for line in merged)


def test_a_compiled_program_is_the_same_with_and_without_the_rewrites(monkeypatch):
    text = "a = x * z\nb = ln(1 + a * a)\nc = exp(sin(b))\nd = tanh(c * a) + b * b\ny = d + c / a\n"
    at = {"x": 0.7, "z": -1.3}
    reference = graphlang.parse(text)
    reference._fast_evaluate._refused = True
    expected = reference.evaluate(at)
    answers = []
    for rewrite in (True, False):
        if not rewrite:
            monkeypatch.setattr(fuse, "shorten", lambda lines, keep: lines)
        prog = graphlang.parse(text)
        for _ in range(3):
            got = prog.evaluate(at)
            grads = prog.gradient(at)
        assert prog._fast_evaluate._fn is not None
        answers.append((got.values, got.adjoints, grads))
        assert got.values == expected.values and got.adjoints == expected.adjoints  # bit for bit
        assert grads == {k: expected.adjoints[k] for k in ("x", "z")}
    assert answers[0] == answers[1]  # bit for bit
    graph = reference.graph
    lines = plan.source(graph, [()] * graph.n_slots, [graph.slot_of["y"]], [0, 1], "scalar", checks=False)
    assert len(fuse.inline(lines, {"g0", "g1", f"v{graph.slot_of['y']}"})) < len(lines)


def test_evaluate_names_a_copys_source_instead_of_copying():
    from graphlang.engines.fuse import copies as _copies
    lines = ["g1 = (v0 * v2)", "g3 = g1", "g4 = 0.0", "g5 = g6", "g6 = g6 + v0", "g7 = g8", "v9 = (g7 + 1.0)"]
    kept, alias = _copies(lines)
    assert alias == {"g3": "g1", "g4": "0.0"}  # g6 changes after its copy; g7 is read by a line
    assert kept == ["g1 = (v0 * v2)", "g5 = g6", "g6 = g6 + v0", "g7 = g8", "v9 = (g7 + 1.0)"]


def test_the_pass_stays_linear_when_many_temporaries_meet_in_one_long_line(monkeypatch):
    """Found by a helper: each temporary read far away rescanned the text up to its use, and each
    one inlined into a 10⁴-term sum re-split that line (compiling 40,000 statements took 14 s, not 1.5)."""
    n = 3000
    lines = [f"v{k + 1} = (v0 * {k % 7}.25)" for k in range(n)]
    lines.append(f"v{n + 1} = " + " + ".join(f"v{k + 1}" for k in range(n)))
    calls = []
    real = fuse._numbered
    monkeypatch.setattr(fuse, "_numbered", lambda rhs: calls.append(len(rhs)) or real(rhs))
    out = inline(lines, {f"v{n + 1}"})
    assert out == lines  # the sum is too long to grow; every temporary stays
    assert sum(calls) <= 2 * fuse.LONG * n  # each line looked at for a bounded cost


def test_the_analysis_caches_stay_bounded_in_a_long_lived_process(monkeypatch):
    """A red team's find: `_POSITIONS` kept one entry per distinct program (its keys hold the program's
    constants): 200,000 programs grew a checker's process without bound."""
    from graphlang.engines import finite
    monkeypatch.setattr(finite, "MAX_SHAPES", 50)
    monkeypatch.setattr(fuse, "_POSITIONS", {})
    monkeypatch.setattr(fuse, "_FINITE", {})
    for i in range(200):
        prog = graphlang.parse(f"a = sin(x) * z\ny = a + {i}.5 * exp(a - {i})\n")
        prog.gradient({"x": 1.0, "z": 2.0})  # (the second call is compiled)
        a = math.sin(1.0) * 2.0  # the closed form ∂y/∂z = sin x · (1 + c·e^(a − i)): right after every clear
        want = math.sin(1.0) * (1 + (i + 0.5) * math.exp(a - i))
        assert prog.gradient({"x": 1.0, "z": 2.0})["z"] == pytest.approx(want)
        assert len(fuse._POSITIONS) <= 50 and len(fuse._FINITE) <= 50
