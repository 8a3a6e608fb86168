"""Fuzzing: near-miss text never raises anything but GraphlangError; both parsers agree;
output is identical whatever PYTHONHASHSEED is. `python tests/fuzz.py N` runs N examples."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import DATA, PROGRAMS, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scalar_programs, tensor_programs

import graphlang
from graphlang.language.ast import postorder
from graphlang.language.parser import parse_full, parse_statements
from graphlang.limits import Limits

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

ALPHABET = "xyzab01.e+-*/^@()[],;=\n #TRlnsuimpoxt_\t"


@st.composite
def near_misses(draw):
    """A valid program with a few characters inserted, deleted or replaced."""
    source, at = draw(st.one_of(scalar_programs(), tensor_programs()))
    chars = list(source)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, max(0, len(chars) - 1)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        c = draw(st.sampled_from(ALPHABET))
        if action == "insert":
            chars.insert(i, c)
        elif chars and action == "delete":
            del chars[i]
        elif chars:
            chars[i] = c
    return "".join(chars), at


def shape_of(statements):
    """Everything a statement carries, for comparing the two parsers."""
    out = []
    for s in statements:
        nodes = [(n.op, n.attr, n.line, n.column) for n in postorder(s.expr)] if s.expr else []
        out.append((s.kind, s.name, s.line, s.column, s.text, nodes,
                    [(i.name, i.shape, i.line, i.column) for i in s.items]))
    return out


def check_one(source: str, at: dict) -> None:
    try:
        prog = graphlang.parse(source)
        for method in ("reverse", "forward", "symbolic"):
            prog.evaluate(at, method=method)
    except graphlang.GraphlangError as err:
        assert err.kind in graphlang.KINDS
        assert err.line is None or err.line >= 1


@SETTINGS
@given(near_misses())
def test_near_misses_raise_only_graphlang_errors(case):
    check_one(*case)


@SETTINGS
@given(st.text(alphabet=ALPHABET, max_size=80), st.floats(-3, 3))
def test_random_text_raises_only_graphlang_errors(text, x):
    check_one(text, {"x": x, "y": x, "z": x})


@SETTINGS
@given(st.one_of(scalar_programs(), tensor_programs(), near_misses()))
def test_fast_parser_equals_full_parser(case):
    source = case[0]
    limits = Limits()
    try:
        full = parse_full(source, limits)
    except graphlang.GraphlangError as err:
        with pytest.raises(graphlang.GraphlangError) as info:
            parse_statements(source, limits)
        assert (info.value.kind, info.value.line, info.value.column) == (err.kind, err.line, err.column)
        return
    assert shape_of(parse_statements(source, limits)) == shape_of(full)


def test_fast_parser_equals_full_parser_on_shipped_programs():
    for path in [*PROGRAMS.glob("*.cg"), DATA / "big_1000.cg"]:
        text = path.read_text()
        assert shape_of(parse_statements(text)) == shape_of(parse_full(text, Limits())), path


@pytest.mark.parametrize("args", [
    ["run", "programs/softmax_classifier.cg", "--at-file", "programs/softmax_classifier.json", "--json"],
    ["explain", "programs/lecture13.cg", "--at", "x=2,z=3"],
    ["diff", "programs/two_layer_network.cg", "--program"],
])
def test_output_identical_across_hash_seeds(args):
    outs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": "100"}
        p = subprocess.run([sys.executable, "-m", "graphlang", *args], capture_output=True, text=True,
                           cwd=ROOT, env=env)
        assert p.returncode == 0, p.stderr
        outs.add(p.stdout)
    assert len(outs) == 1


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_command_on_random_programs(data, tmp_path_factory):
    """The long run `python tests/fuzz_commands.py N` in miniature: every command and variant, no
    traceback, located errors, strict JSON, numbers equal to the autograd oracle's."""
    import random

    from fuzz_commands import Stats, cases, check_case

    stats = Stats()
    check_case(data.draw(cases()), tmp_path_factory.mktemp("cmd"), stats, random.Random(0))
    assert stats.runs >= 40
