"""`explain --mode forward`: forward-mode AD step by step (a tangent pass per input number).

Oracles: each node's tangent against central differences of that node's own value (the program
evaluated at x ± h), the output's tangent against reverse mode's gradient or Jacobian column, and
each step's printed numbers against the sum they claim (the arithmetic on paper)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import graphlang
from graphlang.present import explain as ex
from graphlang.present.forwardmode import explain_forward
from graphlang.repl import ReplSession
from graphlang.symbolic.tangent import dot
from tests.strategies import scalar_programs, tensor_programs

LECTURE = "a = x * z\nb = ln(x)\nc = sin(b)\nd = exp(a)\ne = a / b\nf = c / a\ny = d + e + f\n"


def _number(text: str) -> np.ndarray:
    """A printed value back to numbers: `3`, `-1.5`, `[1, 2]`, `[[1, 2], [3, 4]] (shape [2, 2])`."""
    return np.array(json.loads(text.split(" (shape")[0]), dtype=float)


def _node_fd(prog: graphlang.Program, at: dict, x: str, idx: tuple | None, node: str, h: float = 1e-6) -> np.ndarray:
    """∂node/∂x[idx] by central differences of the node's own value."""
    def at_shift(s: float) -> np.ndarray:
        moved = {k: np.array(v, dtype=float) for k, v in at.items()}
        moved[x][idx if idx is not None else ()] += s
        return np.asarray(prog.evaluate(moved).values[node], dtype=float)
    return (at_shift(h) - at_shift(-h)) / (2 * h)


def test_the_lecture_forward_mode_steps():
    """The lecture's graph seeded at x: the closed forms by hand (ȧ = z, ḃ = 1/x, ...) and ∂y/∂x by SymPy."""
    lines = explain_forward(graphlang.parse(LECTURE), {"x": 2, "z": 3}, digits=17, wrt="x")
    tangent = {ln.node: ln for ln in lines if ln.phase == "tangent"}
    assert tangent["a"].forms[:3] == ["ȧ", "∂a/∂x·ẋ + ∂a/∂z·ż", "z·ẋ + x·ż"]
    assert tangent["a"].forms[-1] == "3"  # z·1 + x·0
    assert float(tangent["b"].forms[-1]) == pytest.approx(0.5, rel=1e-15)  # (1/x)·1
    assert float(tangent["c"].forms[-1]) == pytest.approx(np.cos(np.log(2)) / 2, rel=1e-15)
    assert float(tangent["d"].forms[-1]) == pytest.approx(3 * np.exp(6), rel=1e-15)
    (deriv,) = [ln for ln in lines if ln.phase == "derivative"]
    assert deriv.forms[:2] == ["∂y/∂x", "ẏ"]
    assert float(deriv.forms[-1]) == pytest.approx(1208.3812151266096, rel=1e-14)  # SymPy (test_methods)


def _check_pass(prog: graphlang.Program, at: dict, lines: list) -> int:
    """Every tangent line against differences, every scalar step's numbers against its total."""
    checked = 0
    grad = prog.gradient(at, method="reverse") if np.ndim(prog.evaluate(at).value) == 0 else None
    for ln in lines:
        if ln.phase == "tangent" and "not needed" not in ln.forms[-1] and "constant" not in ln.forms[-1]:
            x, idx = _seed(ln.of)
            value = _number(ln.forms[-1])
            oracle = _node_fd(prog, at, x, idx, ln.node)
            assert np.allclose(value, oracle, rtol=1e-5, atol=1e-6), (ln.forms, oracle)
            assert np.allclose(np.asarray(ln.value, dtype=float), oracle, rtol=1e-5, atol=1e-6), ln.value  # JSON's
            if len(ln.forms) == 5:  # a scalar step: "p·t + q·s" adds up to the total shown
                products = [np.prod([float(f.strip("()")) for f in term.split("·")])
                            for term in ln.forms[3].split(" + ")]
                assert sum(products) == pytest.approx(float(value), rel=1e-9, abs=1e-12 * sum(map(abs, products)))
            checked += 1
        if ln.phase == "derivative" and grad is not None:
            x, idx = _seed(ln.of)
            want = np.asarray(grad[x], dtype=float)[idx if idx is not None else ()]
            assert float(_number(ln.forms[-1])) == pytest.approx(float(want), rel=1e-9, abs=1e-12)
            assert float(ln.value) == pytest.approx(float(want), rel=1e-9, abs=1e-12)
    return checked


def _seed(of: str) -> tuple[str, tuple | None]:
    m = re.fullmatch(r"(\w+)(?:\[([\d, ]+)\])?", of)
    assert m is not None
    return m.group(1), (tuple(int(i) for i in m.group(2).split(",")) if m.group(2) else None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scalar_programs())
def test_random_scalar_programs_every_tangent_against_differences(case):
    source, at = case
    prog = graphlang.parse(source)
    lines = explain_forward(prog, at, digits=17)
    assert {ln.of for ln in lines if ln.phase == "tangent"} == set(prog.inputs)
    assert _check_pass(prog, at, lines) > 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tensor_programs())
def test_random_tensor_programs_every_tangent_against_differences(case):
    source, at = case
    prog = graphlang.parse(source)
    lines = explain_forward(prog, at, digits=17, wrt="M[1, 2]")
    assert _check_pass(prog, at, lines) > 0
    for wrt in ("v0[1]", "u[0]"):
        assert _check_pass(prog, at, explain_forward(prog, at, digits=17, wrt=wrt)) > 0


def test_a_vector_output_gets_its_jacobian_column():
    """Forward mode's one pass gives every output number's derivative: reverse mode's Jacobian column."""
    prog = graphlang.parse("input x[2], s\nh = tanh(x * s)\ny = h * [2, -1] + x[0]\n")
    at = {"x": [0.3, -0.8], "s": 1.7}
    (deriv,) = [ln for ln in explain_forward(prog, at, digits=17, wrt="s") if ln.phase == "derivative"]
    jac = np.asarray(prog.gradient(at, method="reverse")["s"])  # shape (2,): ∂y/∂s per output number
    assert np.allclose(_number(deriv.forms[-1]), jac, rtol=1e-12)


def test_passes_beyond_the_limit_are_named_in_a_note():
    prog = graphlang.parse("input W[3, 4]\ny = sum(tanh(W))\n")
    lines = explain_forward(prog, {"W": np.arange(12.0).reshape(3, 4) / 10})
    assert len({ln.of for ln in lines if ln.phase == "tangent"}) == 8
    (note,) = [ln for ln in lines if ln.phase == "note"]
    assert "12 numbers" in note.forms[0] and "--wrt 'W[2, 0]'" in note.forms[0]


def test_tangent_names_and_their_latex():
    assert [dot(n) for n in ("a", "z1", "x_i", "alpha1", "yhat")] == ["ȧ", "ż1", "ẋ_i", "alpha1˙", "yhat˙"]
    from graphlang.symbolic.printing import tex_name
    assert [tex_name(dot(n)) for n in ("a", "z1", "alpha1", "yhat")] == \
        ["\\dot{a}", "\\dot{z}_{1}", "\\dot{\\alpha}_{1}", "\\dot{\\hat{y}}"]


def test_cli_forward_mode_and_its_usage_errors(cli, write):
    path = write(LECTURE)
    ran = cli("explain", path, "--at", "x=2,z=3", "--mode", "forward", "--wrt", "z")
    assert ran.code == 0 and "Tangent pass for z (forward mode: a dot over a name is its derivative by z)" in ran.out
    assert "∂y/∂z = ẏ = 809.7074792" in ran.out
    assert "Tangent pass for x" not in ran.out and "Backward pass" not in ran.out
    both = cli("explain", path, "--at", "x=2,z=3", "--mode", "forward").out
    assert "Tangent pass for x" in both and "Tangent pass for z" in both
    steps = json.loads(cli("explain", path, "--at", "x=2,z=3", "--mode", "forward", "--json").out)["steps"]
    assert {s["of"] for s in steps if s["phase"] in ("tangent", "derivative")} == {"x", "z"}
    for args, words in [(["--mode", "forward", "--of", "y"], "--of picks a backward pass"),
                        (["--mode", "sideways"], "unknown mode"),
                        (["--wrt", "x[0]"], "x is a number"),
                        (["--mode", "reverse", "--wrt", "z"], "--wrt picks a tangent pass")]:
        bad = cli("explain", path, "--at", "x=2,z=3", *args)
        assert bad.code == 2 and words in bad.err, (args, bad.err)
    unknown = cli("explain", path, "--at", "x=2,z=3", "--wrt", "q")  # a name the program lacks: as grad says
    assert unknown.code == 1 and "unknown-input error" in unknown.err and "'q' is not an input" in unknown.err


def test_the_api_and_the_repl():
    prog = graphlang.parse(LECTURE)
    text = prog.explain({"x": 2, "z": 3}, mode="forward", wrt="x", node="e")
    assert "ė = ∂e/∂a·ȧ + ∂e/∂b·ḃ" in text and "Backward" not in text
    with pytest.raises(graphlang.GraphlangError, match="wrt="):
        prog.explain({"x": 2, "z": 3}, mode="forward", wrt="q")
    with pytest.raises(graphlang.GraphlangError, match="picks a backward pass") as info:
        prog.explain({"x": 2, "z": 3}, mode="forward", of="y")
    assert "wrt" not in info.value.message  # names only what was given
    with pytest.raises(graphlang.GraphlangError, match="wrt=… picks a tangent pass"):
        prog.explain({"x": 2, "z": 3}, mode="reverse", wrt="x")
    assert "Tangent pass for x" in prog.explain({"x": 2, "z": 3}, wrt="x")  # wrt alone: forward mode
    s = ReplSession()
    for line in ["x = 2", "z = 3", *LECTURE.splitlines()[:-1], "y = d + e + f"]:
        s.handle(line)
    shown = "".join(r.plain for r in s.handle(":explain forward z"))  # constants seeded as the inputs
    assert "Tangent pass for z" in shown and "∂y/∂z = ẏ = 809.7074792" in shown


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_forward_mode_latex_compiles(tmp_path, cli, write):
    body = cli("explain", write(LECTURE), "--at", "x=2,z=3", "--mode", "forward", "--format", "latex").out
    net = write("input x[2], alpha1[2, 3], yhat0\nz1 = sigmoid(alpha1.T @ x)\nJ = sum(z1) * yhat0\n", "net.cg")
    body += cli("explain", net, "--at", "x=[1,2],alpha1=[[1,0,1],[0,1,0]],yhat0=2", "--mode", "forward",
                "--wrt", "alpha1[0, 1]", "--format", "latex").out
    # an indexed name with a subscript, dotted or hatted: {\dot{W}_{1}}_{0} was a double subscript
    w1 = write("input W1[2], b1, yhat1[2]\nz = W1[0] * b1 + W1[1] + yhat1[1]\n", "w1.cg")
    for mode in ("forward", "reverse"):
        body += cli("explain", w1, "--at", "W1=[1,2],yhat1=[1,1],b1=3", "--mode", mode, "--format", "latex").out
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
                                      + body + "\n\\end{document}\n")
    ran = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout[-3000:]


def test_text_lines_keep_the_forward_values_of_the_reverse_view():
    """The values part is the same forward pass `explain` prints (one source of it)."""
    prog = graphlang.parse(LECTURE)
    fwd = [ln.forms for ln in explain_forward(prog, {"x": 2, "z": 3}) if ln.phase == "forward"]
    assert fwd == [ln.forms for ln in ex.explain(prog, {"x": 2, "z": 3}) if ln.phase == "forward"]


def test_a_constant_read_adds_no_term_and_a_constant_program_no_pass():
    """A red team's finds: `n = 3; y = x ^ n` printed `12·1 + undefined·0 = 12` (a constant's tangent is
    0 by definition: no term); `y = 2 * pi` was "differentiated" by y itself."""
    lines = explain_forward(graphlang.parse("n = 3\ny = x ^ n\n"), {"x": -2.0}, digits=17)
    (step,) = [ln for ln in lines if ln.phase == "tangent" and ln.node == "y"]
    assert step.forms[1:4] == ["∂y/∂x·ẋ", "(n·x^(n - 1))·ẋ", "12·1"] and float(step.forms[-1]) == 12.0  # 3x²
    (const,) = [ln for ln in lines if ln.phase == "tangent" and ln.node == "n"]
    assert const.forms[-1].startswith("0 (a constant")
    lines = explain_forward(graphlang.parse("c = 3\ny = c * pi\n"), {})
    assert not [ln for ln in lines if ln.phase in ("tangent", "derivative")]
    assert "no inputs" in [ln for ln in lines if ln.phase == "note"][0].forms[0]


def test_a_node_off_the_outputs_path_shows_its_tangent():
    """`yhat` (the prediction, not read by the loss J) said "not needed"; its tangent is what forward
    mode gives for free. Oracle: differences of yhat's own value."""
    prog = graphlang.parse("input x, w\nu = w * x\nyhat = sigmoid(u)\nJ = softplus(u) - x * u\noutput J\n")
    at = {"x": 0.7, "w": -1.3}
    lines = explain_forward(prog, at, digits=17, wrt="w")
    (line,) = [ln for ln in lines if ln.node == "yhat" and ln.phase == "tangent"]
    assert float(line.forms[-1]) == pytest.approx(float(_node_fd(prog, at, "w", None, "yhat")), rel=1e-7)


def test_a_vector_input_by_name_gets_a_pass_per_number_and_minus_signs_read_as_minus():
    prog = graphlang.parse("input v[2], W[2, 2]\nr = W @ v - tanh(v)\ny = sum(r * r)\n")
    at = {"v": [0.3, -0.4], "W": [[1.0, 2.0], [0.5, -1.0]]}
    lines = explain_forward(prog, at, digits=17, wrt="v")
    assert [ln.of for ln in lines if ln.phase == "derivative"] == ["v[0]", "v[1]"]
    (step,) = {ln.forms[1] for ln in lines if ln.phase == "tangent" and ln.node == "r"}
    assert " - " in step and "+ -" not in step
    grad = prog.gradient(at, method="reverse")["v"]
    assert [float(ln.forms[-1]) for ln in lines if ln.phase == "derivative"] == pytest.approx(list(grad), rel=1e-12)
    assert _check_pass(prog, at, lines) > 0


def test_tensor_steps_carry_the_legend_and_brackets():
    """The notation legend followed only the forward pass; `alpha1˙ᵀ @ h·(…)` read as a product with h."""
    prog = graphlang.parse("input h[3], alpha1[3, 2]\nz1 = sigmoid(alpha1.T @ h)\ny = sum(z1)\n")
    lines = explain_forward(prog, {"h": [1.0, 2.0, 3.0], "alpha1": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]},
                            wrt="alpha1[0, 1]")
    (step,) = [ln for ln in lines if ln.phase == "tangent" and ln.node == "z1"]
    assert step.forms[1].startswith("(alpha1˙ᵀ @ h)·")
    assert r"\left(\left(\dot{\boldsymbol{\alpha}}^{(1)}\right)^{T} \mathbf{h}\right)" in step.latex[1]
    assert lines[-1].phase != "legend"  # nothing in matrix calculus's notation (1, eᵢ, side by side)
    assert "\\alpha^{(1)}_{0,1}" in ex.as_text(lines, "latex")  # one number: α^{(1)}_{0,1}, not bold; never α₁₀,₁
    outer = graphlang.parse("input v[2], M[2, 2]\ny = sum(outer(v, v) * M)\n")
    lines = explain_forward(outer, {"v": [1.0, 2.0], "M": [[1.0, 0.0], [2.0, 3.0]]}, wrt="v[0]")
    (step,) = [ln for ln in lines if ln.phase == "tangent" and ln.node == "y"]
    assert step.matrix and lines[-1].phase == "legend" and "side by side" in lines[-1].forms[0]


def test_each_local_derivative_is_worked_out_once_for_all_passes(monkeypatch):
    """Partials depend on the point, not on the seed: 8 passes must not evaluate them 8 times (a
    2,000-statement chain took 1.4 s for 2 passes, 3.7× `run`)."""
    import graphlang.present.forwardmode as fm
    calls = 0
    real = fm.value_or_none

    def counting(*args):
        nonlocal calls
        calls += 1
        return real(*args)
    monkeypatch.setattr(fm, "value_or_none", counting)
    n = 200
    prog = graphlang.parse("input " + ", ".join(f"x{k}" for k in range(8)) + "\na0 = x0 * x1\n"
                           + "".join(f"a{i} = sin(a{i - 1}) * x{i % 8}\n" for i in range(1, n)))
    lines = explain_forward(prog, {f"x{k}": 0.1 * (k + 1) for k in range(8)})
    assert len({ln.of for ln in lines if ln.phase == "tangent"}) == 8
    assert calls <= 2 * n, calls


def test_an_infinite_local_derivative_is_undefined_and_a_constant_without_one_is_said():
    """√x at 0 off the output's path printed `inf·0 = 0`; in the REPL, `n = 3; y = x ^ n` at x < 0
    stopped `:explain forward` (∂y/∂n does not exist) where reverse mode goes on."""
    lines = explain_forward(graphlang.parse("a = sqrt(x)\nb = x * z\ny = b + 1\noutput y\n"), {"x": 0.0, "z": 2.0})
    steps = [ln.forms[3] for ln in lines if ln.phase == "tangent" and ln.node == "a"]
    assert steps == ["undefined·1", "undefined·0"]
    s = ReplSession()
    for line in ["x = -2", "n = 3", "y = x ^ n"]:
        s.handle(line)
    shown = "".join(r.plain for r in s.handle(":explain forward"))
    assert "∂y/∂x = ẏ = 12" in shown and "the derivatives by n do not exist here" in shown  # 3x² at -2


def test_a_statement_of_thousands_of_reads_is_refused_before_its_quadratic_work():
    """Forward mode writes each read's chain rule through the statement: reads × operations steps
    (a 4,000-term sum took a minute: an attacker red team). Past the display budget it is refused,
    located at the statement; below, the pass is right (oracle: ẏ = Σ ȧᵢ = k·ẋ for aᵢ = x + i)."""
    k = 60
    source = "\n".join(f"a{i} = x + {i}" for i in range(k)) + "\ny = " + " + ".join(f"a{i}" for i in range(k)) + "\n"
    small = graphlang.parse(source, limits=graphlang.Limits(max_shown_nodes=k * k // 20 + 100))
    lines = explain_forward(small, {"x": 1.0})
    assert [ln.value for ln in lines if ln.phase == "derivative"] == [k]
    tight = graphlang.parse(source, limits=graphlang.Limits(max_shown_nodes=k * k // 20 - 100))
    with pytest.raises(graphlang.GraphlangError) as err:
        explain_forward(tight, {"x": 1.0})
    assert err.value.kind == "limit" and err.value.line == k + 1 and "split the statement" in err.value.hint


def test_the_tangents_table_names_each_tangent_as_explain_does(cli, write):
    """`q̇1` in explain's tangent pass was `q1˙` in the tangents table (and `v̇` was `v˙`): one name
    for one quantity. Oracle: explain's own lines, independently written by forwardmode."""
    path = write("input q, v[3]\nq1 = q * 2\nJ = sum(v * q1)\n")
    table = cli("tangents", path, "--at", "q=1,v=[1,2,3]").out
    passes = cli("explain", path, "--at", "q=1,v=[1,2,3]", "--mode", "forward", "--wrt", "q").out
    for name in ("q\u0307", "v\u0307", "q\u03071", "J\u0307"):
        assert f"{name} = " in table and f"\n  {name} = " in passes, name
    assert "\u02d9" not in table  # no dot after a one-letter name
