"""`graph`: DOT, files, the terminal view and `--partials`, on scalar and tensor programs.

Oracle for the edge labels: central differences computed here, on a one-statement program made of
the consumer's own statement (the local derivative ∂c/∂a is the derivative of that statement).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import PROGRAMS

import graphlang
from graphlang.language.ast import names
from graphlang.present.dot import edges, to_dot

TENSOR_PROGRAMS = {
    "consts": ("input x[2]\nc = 3\nV = [[1, -1], [0.5, 2]]\nu = V @ x * c\ny = sum(u ^ 2) + c * pi\n",
               {"x": [0.3, -1.2]}),
    "bcast": ("input A[3, 2], v[2], s\nB = A * v + s\nm = mean(B, 0)\n"
              "y = sum(tanh(B) * B) + dot(m, v) + max(s, 0) + abs(s)\n",
              {"A": [[1, 2], [-1, 0.5], [0.3, -0.7]], "v": [0.4, -2], "s": 0.6}),
    "multi": ("a = x * z\nb = sin(x) + a\noutput a, b\n", {"x": 0.7, "z": -1.5}),
    "tensor_out": ("input W[2, 3], x[3]\nh = W @ x\nM = W.T * 2\noutput h, M\n",
                   {"W": [[1, 2, 3], [-1, 0.5, 2]], "x": [0.1, 0.2, -0.3]}),
}


def shipped() -> list[tuple[str, str, dict]]:
    out = []
    for path in sorted(PROGRAMS.glob("*.cg")):
        js = path.with_suffix(".json")
        at = json.loads(js.read_text()) if js.exists() else None
        out.append((path.stem, path.read_text(), at))
    return out


def all_programs() -> list[tuple[str, str, dict | None]]:
    return shipped() + [(k, src, at) for k, (src, at) in TENSOR_PROGRAMS.items()]


def one_statement(prog: graphlang.Program, consumer: str, values: dict) -> graphlang.Program:
    """The consumer's statement alone, every name it reads an input of the value's shape."""
    st = prog.graph.statement(consumer)
    read = [n for n in names(st.expr) if n in values]
    decl = ", ".join(n + (str(list(np.shape(values[n]))).replace(" ", "") if np.ndim(values[n]) else "")
                     for n in read)
    return graphlang.parse(f"input {decl}\n{consumer} = {st.text}\n")


def central(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


LABEL = re.compile(r'"(\w+)" -> "(\w+)" \[label="(.*)"\];')


@pytest.mark.parametrize(("name", "src", "at"), all_programs(), ids=[p[0] for p in all_programs()])
def test_every_edge_is_labelled_with_and_without_values(name, src, at):
    pydot = pytest.importorskip("pydot")
    prog = graphlang.parse(src)
    for values in (None, at):
        text = to_dot(prog, values, partials=True)
        (g,) = pydot.graph_from_dot_data(text)
        labelled = {(e.get_source().strip('"'), e.get_destination().strip('"')) for e in g.get_edges()
                    if e.get("label")}
        assert labelled == set(edges(prog)), (values, text)
        if values is None:
            assert " = " not in "".join(e.get("label") for e in g.get_edges())


@pytest.mark.parametrize(("name", "src", "at"), [p for p in all_programs() if p[2] is not None] +
                         [("lecture13", (PROGRAMS / "lecture13.cg").read_text(), {"x": 2, "z": 3}),
                          ("logistic", (PROGRAMS / "logistic_regression.cg").read_text(),
                           {"x": -1, "t": 0, "w": 1.3, "b": 0.2})],
                         ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "")
def test_scalar_partials_match_central_differences(name, src, at):
    """Each label `∂c/∂a = number` (scalar a and c) is the statement's own derivative."""
    prog = graphlang.parse(src)
    result = prog.evaluate(at)
    values = {k: np.asarray(v, dtype=float) for k, v in result.values.items()}
    checked = 0
    for a, c, label in LABEL.findall(to_dot(prog, at, partials=True)):
        if np.ndim(values[a]) or np.ndim(values[c]) or "↦" in label:
            continue
        local = one_statement(prog, c, values)
        point = {n: values[n] for n in local.inputs}

        def f(v: float, local=local, point=point, a=a, c=c) -> float:
            return float(local.forward({**point, a: v})[c])
        want = central(f, float(values[a]))
        got = float(label.rsplit(" = ", 1)[1])
        assert got == pytest.approx(want, rel=2e-3, abs=1e-4), (a, c, label)
        checked += 1
    assert checked or name in ("tensor_out", "softmax_classifier")  # these have no scalar-to-scalar edge


def test_tensor_consumer_shows_the_vector_jacobian_product():
    """`B = A * v + s` reads the scalar s: its label is g_B ↦ Σ g_B, the number Σ g_B·∂B/∂s."""
    src, at = TENSOR_PROGRAMS["bcast"]
    prog = graphlang.parse(src)
    r = prog.evaluate(at)
    text = to_dot(prog, at, partials=True)
    (label,) = [lab for a, c, lab in LABEL.findall(text) if (a, c) == ("s", "B")]
    assert label.startswith("g_B ↦ ")
    g_b = np.asarray(r.adjoints["B"])
    A, v = np.asarray(at["A"], float), np.asarray(at["v"], float)
    want = central(lambda s: float(np.sum(g_b * (A * v + s))), at["s"])
    assert float(label.rsplit(" = ", 1)[1]) == pytest.approx(want, rel=1e-3)
    (label,) = [lab for a, c, lab in LABEL.findall(text) if (a, c) == ("v", "B")]
    assert label.endswith("= shape [2]")  # a vector: its shape, as node labels do


def test_matrix_partials_do_not_crash_on_the_shipped_network(cli, tmp_path):
    prog = str(PROGRAMS / "two_layer_network.cg")
    at = ["--at-file", str(PROGRAMS / "two_layer_network.json")]
    for extra in ([], at):
        ran = cli("graph", prog, "--partials", "--dot", *extra)
        assert ran.code == 0, ran.err
        assert '"x" -> "a1" [label="g_a1 ↦ alpha1 @ g_a1' in ran.out
        out = tmp_path / "g.dot"
        assert cli("graph", prog, "--partials", "-o", str(out), *extra).code == 0
        assert out.read_text() == ran.out
        table = cli("graph", prog, "--partials", *extra, width=200)
        assert table.code == 0 and "local derivatives" in table.out and "∂a1/∂x: g_a1 ↦ alpha1 @ g_a1" in table.out


def test_a_name_read_twice_is_one_edge():
    prog = graphlang.parse("y = x * x + sin(x)")
    assert edges(prog) == [("x", "y")]
    assert to_dot(prog, {"x": 0.5}, partials=True).count('"x" -> "y"') == 1
    label = LABEL.findall(to_dot(prog, {"x": 0.5}, partials=True))[0][2]
    assert float(label.rsplit(" = ", 1)[1]) == pytest.approx(2 * 0.5 + np.cos(0.5), rel=1e-3)
