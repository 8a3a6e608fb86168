"""`Program.evaluate` on big programs (engines/fasteval.py): past LITERAL names the dicts are a copy of
a dict of the names with each value stored into it, past STORES_UPTO updates from lists of BLOCK
values (keys laid side by side by `packed`), and past
HUGE equations the tape answers the first COMPILE_AFTER calls before the code is compiled. Each way
must give the very dicts of the small-program code (the same float arithmetic: equal to the last bit,
names in the program's order) and of the tape, the interpreter's numbers to float64 rounding, and
the interpreter's located errors. The thresholds are lowered so that random programs take each way.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from strategies import edge_programs, scalar_programs
from test_fasteval import interpreted, outcome
from test_scale import random_program

import graphlang
from graphlang.engines import fasteval

WAYS = {"display": {"LITERAL": 10**9}, "stores": {"LITERAL": 0},
        "update": {"LITERAL": 0, "STORES_UPTO": 0, "BLOCK": 3}}


@contextlib.contextmanager
def patched(**values: int) -> Iterator[None]:
    old = {k: getattr(fasteval, k) for k in values}
    for k, v in values.items():
        setattr(fasteval, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(fasteval, k, v)


def exactly(prog: graphlang.Program, values: dict) -> object:
    """The outcome with every number as its repr and type (-0.0 is not 0.0), dicts in their order."""
    try:
        r = prog.evaluate(values)
    except graphlang.GraphlangError as err:
        return "error", err.kind, err.line, err.column, str(err)
    return [[(k, repr(v), type(v)) for k, v in d.items()] for d in (r.values, r.adjoints, r.gradient)] + [
        r.output, repr(r.value)]


def calls(source: str, at: dict, n: int = 4, **values: int) -> list[object]:
    with patched(**values):
        prog = graphlang.parse(source)
        return [exactly(prog, at) for _ in range(n)]


def check_ways(source: str, at: dict) -> None:
    reference = calls(source, at, **WAYS["display"])
    for way, values in WAYS.items():
        assert calls(source, at, **values) == reference, way
    ref = outcome(interpreted(source), at)
    with patched(**WAYS["update"]):
        prog = graphlang.parse(source)
        for _ in range(3):
            assert outcome(prog, at) == ref


@settings(max_examples=150, deadline=None)
@given(scalar_programs(max_statements=30, kinks=True))
def test_random_programs_give_the_same_dicts_every_way(case):
    check_ways(*case)


@settings(max_examples=150, deadline=None)
@given(edge_programs())
def test_edge_programs_give_the_same_dicts_every_way(case):
    check_ways(*case)


BIG = {"HUGE": 40, "COMPILE_AFTER": 3}


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("way", ["stores", "update"])
def test_a_big_program_runs_the_tape_then_compiled_code_with_the_same_dicts(seed, way):
    rnd = random.Random(seed)
    source = random_program(rnd, 60)
    prog = graphlang.parse(source)
    at = {name: rnd.uniform(-2, 2) for name in prog.inputs}
    with patched(**BIG, **WAYS[way]):
        prog = graphlang.parse(source)
        assert len(prog.graph.eqns) > BIG["HUGE"] and prog._fast.tape.usable([()] * prog.graph.n_slots)
        taped = [exactly(prog, at) for _ in range(BIG["COMPILE_AFTER"])]
        assert prog._fast_evaluate._fn is None  # the tape answered
        compiled = [exactly(prog, at) for _ in range(3)]
        fn = prog._fast_evaluate._fn
    if taped[0][0] == "error":  # a domain error: the interpreter reports it, every call alike
        assert taped == compiled == [exactly(interpreted(source), at)] * 3
        return
    assert fn is not None and taped == [taped[0]] * 3 and compiled == [taped[0]] * 3
    ref = outcome(interpreted(source), at)
    with patched(**BIG, **WAYS[way]):
        assert outcome(prog, at) == ref


@pytest.mark.parametrize("last, bad", [("y = log(x0 + 3) + v_59", -5.0), ("y = v_59 / (x0 - 1)", 1.0),
                                       ("y = exp(1e6 * x0) + v_59", 1.0)])
def test_a_big_programs_errors_after_compiling_are_the_interpreters(last, bad):
    source = random_program(random.Random(7), 60).rstrip("\n").rsplit("\n", 1)[0] + "\n" + last + "\n"
    fine, at = {"x0": -0.5, "x1": -0.25, "x2": 1.5}, {"x0": bad, "x1": -0.25, "x2": 1.5}
    want = exactly(interpreted(source), at)
    assert want[0] == "error" and exactly(interpreted(source), fine)[0] != "error"
    with patched(**BIG, **WAYS["update"]):
        prog = graphlang.parse(source)
        assert exactly(prog, at) == want  # the tape leaves it to the interpreter
        for _ in range(BIG["COMPILE_AFTER"] + 1):
            prog.evaluate(fine)
        assert prog._fast_evaluate._fn is not None
        assert exactly(prog, at) == want  # so does the compiled code
        assert exactly(prog, at) == want


def test_a_program_past_compile_max_keeps_the_tape():
    rnd = random.Random(3)
    source = random_program(rnd, 60)
    with patched(**BIG, COMPILE_MAX=50):
        prog = graphlang.parse(source)
        at = {name: 0.25 for name in prog.inputs}
        answers = [exactly(prog, at) for _ in range(BIG["COMPILE_AFTER"] + 3)]
        assert prog._fast_evaluate._fn is None and answers == [answers[0]] * len(answers)


def test_packed_keys_are_fresh_equal_strings_in_order():
    names = [f"n{i}" for i in range(3000)] + ["a" * 40, "b", "c" * 200, "n7"]
    keys = fasteval.packed(names)
    assert list(keys) == names and all(k is not n for k, n in zip(keys, names))
    assert fasteval.packed([]) == ()


@pytest.mark.skipif(sys.implementation.name != "cpython" or "PYTHONMALLOC" in os.environ,
                    reason="lays keys out for CPython's small-object allocator")
def test_packed_keys_lie_side_by_side_among_freed_blocks():
    """Among holes left by freed strings of the keys' size (a parsed program leaves many), plain
    copies fill the holes in any order; `packed` copies come one block after another."""
    junk = [f"j{i:05}" for i in range(60_000)]
    for k in random.Random(0).sample(range(len(junk)), 30_000):  # holes, freed in no order
        junk[k] = ""
    names = [f"n{i}" for i in range(20_000)]
    block = -(-sys.getsizeof(names[0]) // 16) * 16

    def adjacent(keys: tuple[str, ...]) -> float:
        return sum(id(b) - id(a) == block for a, b in zip(keys, keys[1:])) / (len(keys) - 1)

    plain = tuple([(n + ".")[:-1] for n in names])
    assert adjacent(plain) < 0.6  # the holes are there (about every other copy lands in one)
    del plain
    assert adjacent(fasteval.packed(names)) > 0.9



@pytest.mark.skipif(sys.implementation.name != "cpython" or "PYTHONMALLOC" in os.environ,
                    reason="lays keys out for CPython's small-object allocator")
def test_compiled_keys_lie_side_by_side_after_parsing_and_evaluating():
    """The heap a program leaves once parsed, checked and evaluated, in a fresh interpreter: taking up
    free blocks until a run of them lay side by side stopped at the first such run and left the
    holes behind it to the keys (5,000 names: 70 % side by side; the 10⁵-statement benchmark:
    44 %). Each copy is now checked against the one before."""
    script = textwrap.dedent("""
        import random, sys
        import graphlang
        from graphlang.engines import fasteval
        from test_scale import random_program
        fasteval.STORES_UPTO = 0
        prog = graphlang.parse(random_program(random.Random(0), 5000))
        at = {k: 0.5 + 0.1 * i for i, k in enumerate(prog.inputs)}
        for _ in range(fasteval.COMPILE_AT_CALL + 1):
            prog.evaluate(at)
        keys = [k for block in prog._fast_evaluate._fn.__globals__["_K"] for k in block]
        assert keys == list(prog.names)
        block = -(-sys.getsizeof(keys[len(keys) // 2]) // 16) * 16
        print(sum(id(b) - id(a) == block for a, b in zip(keys, keys[1:])) / (len(keys) - 1))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert float(ran.stdout) > 0.9, ran.stdout
