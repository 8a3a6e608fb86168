"""An acceptance audit of SPEC.md (2026-12-04): each deviation it found, and the behaviour the SPEC asks for."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import graphlang

LECTURE = "a = x * z\nb = ln(x)\nc = sin(b)\nd = exp(a)\ne = a / b\nf = c / a\ny = d + e + f\n"


@pytest.mark.parametrize("method", ["reverse", "forward", "symbolic"])
def test_stable_softmax_and_logsumexp_at_the_widest_finite_spread(method):
    """SPEC: softmax "stable for large inputs", logsumexp "stable". [1e308, -1e308] raised an overflow
    of the intermediate u - max (-2e308), while both results are finite. Oracle: by hand, logsumexp =
    1e308 + ln(1 + e^(-2e308)) = 1e308, softmax = [1, 0], and their derivatives [1, 0] and 0."""
    at = {"x": np.array([1e308, -1e308])}
    r = graphlang.parse("y = logsumexp(x)").evaluate(at, method=method)
    assert r.value == 1e308 and np.array_equal(r.gradient["x"], [1.0, 0.0])
    r = graphlang.parse("y = sum(softmax(x) * [1, 2])").evaluate(at, method=method)
    assert r.value == 1.0 and np.array_equal(r.gradient["x"], [0.0, 0.0])
    with pytest.raises(graphlang.GraphlangError, match="overflows"):  # its true value is -2e308: no float
        graphlang.parse("y = sum(logsoftmax(x))").evaluate(at, method=method)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["run", "{p}", "--at", "x=2,z=3", "--json"], ["explain", "{p}", "--at", "x=2,z=3"],
                                  ["run", "{p}", "--at", "x=-1,z=3", "--json"]])
def test_a_full_disk_on_stdout_is_one_line_not_a_traceback(tmp_path, args):
    """SPEC: "never a Python traceback". `> /dev/full` printed one (two chained for an error with --json)."""
    p = tmp_path / "p.cg"
    p.write_text(LECTURE)
    with open("/dev/full", "w") as full:
        ran = subprocess.run([sys.executable, "-m", "graphlang", *[a.format(p=p) for a in args]], stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=120)
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert ran.stderr.splitlines()[-1] == "graphlang: cannot write the output: No space left on device"


@pytest.mark.parametrize("args", [
    ["--at-file", "missing.json"], ["--at-file", "list.json"], ["--at-file", "v.json", "--at", "z=4"],
    ["--at", "x=2,z=3", "--limit", "max_depth=0"]])
def test_every_error_says_what_to_do(cli, tmp_path, args, monkeypatch):
    """SPEC: an error prints "... and what to do": these five had no hint."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.cg").write_text(LECTURE)
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "v.json").write_text('{"x": 2, "z": 3}')
    ran = cli("run", "p.cg", *args)
    assert ran.code == 2 and "\nhint: " in ran.err, ran.err


def test_functions_beyond_the_spec_leave_their_names_free():
    """SPEC's name rule: `outer` and `mT` (not in its table) were refused as names; they stay callable."""
    r = graphlang.parse("outer = x * 2\nmT = outer + 1\n").evaluate({"x": 1.5})
    assert r.value == 4.0 and r.gradient["x"] == 2.0
    assert graphlang.parse("y = outer * 2").evaluate({"outer": 3}).gradient == {"outer": 2.0}
    prog = graphlang.parse("input u[2], v[2]\nouter = 2\ny = sum(outer(u, v)) * outer\n")
    at = {"u": np.array([1.0, 2.0]), "v": np.array([3.0, 4.0])}
    grad = prog.gradient(at)
    fd = prog.gradient(at, method="fd")  # the oracle: differences
    assert np.allclose(grad["u"], fd["u"], rtol=1e-6) and np.allclose(grad["u"], [14.0, 14.0])


@pytest.mark.parametrize("word", ["input", "param", "output"])
def test_a_keyword_as_a_node_name_says_so_where_it_is(word):
    with pytest.raises(graphlang.GraphlangError) as info:
        graphlang.parse(f"a = x * 2\n  {word} = a\n")
    err = info.value
    assert (err.kind, err.line, err.column) == ("reserved", 2, 3)
    assert f"'{word}' is a keyword" in err.message and "choose another name" in err.hint


def test_a_program_without_inputs_needs_no_values():
    """`parse("y = 2").evaluate()` raised TypeError, not a GraphlangError (SPEC §4)."""
    prog = graphlang.parse("a = 2\ny = a * 3\n")
    assert prog.evaluate().value == 6.0 and prog.gradient() == {} and prog.forward() == {"a": 2.0, "y": 6.0}
    with pytest.raises(graphlang.GraphlangError, match="no value for the input 'x'"):
        graphlang.parse("y = x * 2").evaluate()
