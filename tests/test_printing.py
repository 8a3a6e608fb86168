"""Printing expressions is linear in the text printed (issue 13 item 8: `diff --program` on 20k
statements took 2.1 GB; a long sum was re-copied at every level)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

from conftest import ROOT

import graphlang
from graphlang.symbolic import adjoint
from graphlang.symbolic.printing import to_text


def test_a_100000_term_sum_prints_in_linear_memory():
    code = ("from graphlang.language.ast import Expr\nfrom graphlang.symbolic.printing import to_text\n"
            "n = 100_000\nacc = Expr('var', (), 'v0')\n"
            "for i in range(1, n):\n    acc = Expr('add', (acc, Expr('var', (), f'v{i}')))\n"
            "text = to_text(acc)\nassert text == ' + '.join(f'v{i}' for i in range(n)), text[:80]\n"
            "m = to_text(Expr('neg', (acc,)), 'math')\nassert m == '-(' + text + ')', m[:80]\nprint('ok')\n")

    def cap() -> None:  # the old printer kept every prefix: ~40 GB for this sum
        resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         preexec_fn=cap, env={**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"})
    assert res.stdout.strip() == "ok", res.stderr[-2000:]


def test_adjoint_terms_are_not_searched_per_statement(monkeypatch):
    """x read by n statements: g_x has n terms; each new term looked at the list from the start."""
    class Counting(adjoint.Term):
        reads = 0

        @property  # type: ignore[override]
        def consumer(self) -> str:
            Counting.reads += 1
            return self._consumer

        @consumer.setter
        def consumer(self, value: str) -> None:
            self._consumer = value

    monkeypatch.setattr(adjoint, "Term", Counting)
    n = 2_000
    p = graphlang.parse("input x\na0 = x\n" + "".join(f"a{i} = sin(a{i - 1}) * x\n" for i in range(1, n)))
    text = graphlang.symbolic.derivative.derivative_program(p, p.bind({"x": 0.5})[1])
    assert Counting.reads <= 4 * n, Counting.reads  # the old search: n²/2 = 2,000,000
    # the program is right: it runs and agrees with reverse mode
    d = graphlang.parse(text).evaluate({"x": 0.5}).value
    assert abs(d - p.gradient({"x": 0.5})["x"]) <= 1e-9 * max(1.0, abs(d))
    assert text.count("g_a1 * ") >= 1 and to_text(graphlang.parse("y = a + b").graph.statements[0].expr) == "a + b"


def test_a_power_in_an_exponent_is_bracketed_in_math_text():
    """`2^b^2` (the language reads 2^(b^2)) was shown as 2^b², which reads as (2^b)². Oracle: the
    value of each reading at b = 2 (16 for 2^(b²), 16 for (2^b)² too, so also b = 3: 512 vs 64)."""
    prog = graphlang.parse("input b\ny = 2^b^2\n")
    shown = to_text(prog.graph.statement("y").expr, "math")
    assert shown == "2^(b²)"
    assert prog.evaluate({"b": 3}).value == 2 ** 9
    again = graphlang.parse("input b\ny = " + to_text(prog.graph.statement("y").expr) + "\n")  # .cg text
    assert again.evaluate({"b": 3}).value == 2 ** 9


def test_a_long_sparse_vector_shows_the_non_zeros_the_filler_would_hide():
    """`explain --of 'y[9]'` on a 12-vector showed e₉ and the one-hot gradient as [0, 0, 0, 0, …, 0]:
    all zeros to the eye. Oracle: y = v², so ∂y[9]/∂v is 2 v[9] at index 9 only."""
    from graphlang.present.textviews import tensor
    prog = graphlang.parse("input v[12]\ny = v * v\n")
    v = [float(i + 1) for i in range(12)]
    text = prog.explain({"v": v}, of="y[9]")
    assert f"[9] {2 * v[9]:g}" in text and "e₉ = [0, 0, 0, 0, …, [9] 1, …, 0]" in text
    assert tensor([float(i) for i in range(12)]) == "[0, 1, 2, 3, …, 11]  (shape [12])"  # dense: as before


def test_exp_is_written_exp_in_latex_when_a_node_is_named_e():
    """The lecture names a node e: `e^{a}` beside it read as that node to the power a."""
    lecture = graphlang.load(ROOT / "programs" / "lecture13.cg").explain({"x": 2, "z": 3}, format="latex")
    assert r"d &= \exp\left(a\right)" in lecture and "e^{a}" not in lecture
    other = graphlang.parse("a = x * z\nd = exp(a)\n").explain({"x": 2, "z": 3}, format="latex")
    assert "e^{a}" in other
