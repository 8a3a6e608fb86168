"""`@` past two axes follows numpy's `matmul` (SPEC §1): stacks of matrices, broadcast stacks, a
vector as a row or a column. Values against numpy itself; derivatives by every method and engine
against central differences of the same function written in numpy (no graphlang rule involved)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from test_primitives import central  # the tests' own central differences

import graphlang

PAIRS = [((2, 2, 3), (2, 3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((2, 2, 3), (3,)),
         ((3,), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((1, 2, 3), (2, 3, 2)), ((2, 2, 3), (1, 3, 2))]


def program(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    decl = lambda name, s: f"input {name}[{', '.join(map(str, s))}]"  # noqa: E731
    return f"{decl('A', a)}\n{decl('B', b)}\nC = A @ B\ny = sum(sin(C) * C)\n"


def numpy_f(A: np.ndarray, B: np.ndarray) -> float:
    C = np.matmul(A, B)
    return float(np.sum(np.sin(C) * C))


def values(a: tuple[int, ...], b: tuple[int, ...], seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"A": rng.uniform(-1, 1, a), "B": rng.uniform(-1, 1, b)}


@pytest.mark.parametrize("a,b", PAIRS, ids=[f"{a}@{b}" for a, b in PAIRS])
def test_values_are_numpys_and_every_method_gives_the_gradient(a, b):
    at = values(a, b)
    prog = graphlang.parse(program(a, b))
    r = prog.evaluate(at)
    np.testing.assert_allclose(r.values["C"], np.matmul(at["A"], at["B"]), rtol=1e-14)
    want = {"A": central(lambda x: numpy_f(x, at["B"]), at["A"]),
            "B": central(lambda x: numpy_f(at["A"], x), at["B"])}
    for method in graphlang.METHODS:
        grad = prog.gradient(at, method=method)
        for k in ("A", "B"):
            assert np.shape(grad[k]) == at[k].shape
            tol = 1e-5 if method == "fd" else 1e-7
            np.testing.assert_allclose(grad[k], want[k], rtol=tol, atol=tol, err_msg=f"{method} d/d{k}")
    for _ in range(3):  # compiled: numpy code per input shapes, the same numbers
        again = prog.evaluate(at)
        for k in ("A", "B", "C"):
            np.testing.assert_allclose(again.adjoints[k], r.adjoints[k], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("a,b", PAIRS, ids=[f"{a}@{b}" for a, b in PAIRS])
def test_a_vector_output_jacobian_batches_the_stacked_product(a, b):
    """A vector output: the Jacobian pushes a batch of seeds through the product (primitives/vmap.py)."""
    at = values(a, b, seed=1)
    expr = "tanh(C)"
    for _ in range(np.matmul(at["A"], at["B"]).ndim - 1):  # down to a vector along the last axis
        expr = f"sum({expr}, 0)"
    prog = graphlang.parse(program(a, b).replace("y = sum(sin(C) * C)", f"y = {expr}"))
    r = prog.evaluate(at)
    y = np.asarray(r.value)
    assert y.ndim == 1
    for k in ("A", "B"):
        def f(x, k=k):
            return np.asarray(prog.forward({**at, k: x})["y"])
        for j in range(y.size):
            want = central(lambda x, j=j: f(x)[j], at[k])
            np.testing.assert_allclose(np.asarray(r.jacobian[k])[..., j], want, rtol=1e-6, atol=1e-7)


def test_stacks_that_do_not_broadcast_are_a_shape_error_naming_both():
    prog = graphlang.parse("input A[2, 2, 3]\ninput B[3, 3, 4]\ny = sum(A @ B)\n")
    with pytest.raises(graphlang.GraphlangError) as err:
        prog.evaluate(values((2, 2, 3), (3, 3, 4)))
    assert (err.value.kind, err.value.line) == ("shape", 3)
    assert "[2]" in str(err.value) and "[3]" in str(err.value)


def test_mT_transposes_each_matrix_of_a_stack():
    at = {"A": values((2, 2, 3), (3,))["A"]}
    prog = graphlang.parse("input A[2, 2, 3]\nT = mT(A)\ny = sum(T * T)\n")
    np.testing.assert_array_equal(prog.evaluate(at).values["T"], np.swapaxes(at["A"], -1, -2))
    with pytest.raises(graphlang.GraphlangError) as err:
        graphlang.parse("input u[3]\ny = sum(mT(u))\n").evaluate({"u": [1.0, 2.0, 3.0]})
    assert (err.value.kind, err.value.line) == ("shape", 2)


@pytest.mark.parametrize("command", [["explain"], ["diff", "--program"], ["grad", "--method", "symbolic"],
                                     ["hessian"], ["gradcheck"], ["graph"]])
def test_every_command_takes_a_stacked_product(tmp_path, command):
    path = tmp_path / "stack.cg"
    path.write_text("input A[2, 2, 3]\ninput W[3, 2]\nC = A @ W\ny = sum(tanh(C))\n")
    at = "A=[[[1,2,3],[0,1,0]],[[0.5,0,1],[1,1,1]]],W=[[0.1,0.2],[0.3,0.4],[0.5,0.6]]"
    proc = subprocess.run([sys.executable, "-m", "graphlang", *command, str(path), "--at", at],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_json_of_a_stacked_product_is_numpys(tmp_path):
    at = values((2, 2, 3), (3, 2))
    path = tmp_path / "p.cg"
    path.write_text(program((2, 2, 3), (3, 2)))
    values_text = ",".join(f"{k}={json.dumps(v.tolist())}" for k, v in at.items())
    proc = subprocess.run([sys.executable, "-m", "graphlang", "run", str(path), "--at", values_text, "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    np.testing.assert_allclose(got["values"]["C"], np.matmul(at["A"], at["B"]), rtol=1e-14)
    want = central(lambda x: numpy_f(x, at["B"]), at["A"])
    np.testing.assert_allclose(got["gradient"]["A"], want, rtol=1e-7, atol=1e-7)


def test_mT_of_an_expression_is_written_as_the_transpose_of_all_of_it():
    """`mT(A @ B)` was written `A B^T` (the T on the last factor: a different, here undefined, product)."""
    prog = graphlang.parse("input A[2, 3], B[3, 2]\nC = mT(A @ B)\nD = mT(A + B.T)\ny = sum(C) + sum(D)\n")
    tex = prog.to_latex()
    assert r"\mathbf{C} &= \left(\mathbf{A} \mathbf{B}\right)^{T}" in tex
    assert r"\mathbf{D} &= \left(\mathbf{A} + \mathbf{B}^{T}\right)^{T}" in tex
    at = {"A": np.arange(6.0).reshape(2, 3), "B": np.arange(6.0).reshape(3, 2)}
    np.testing.assert_array_equal(prog.evaluate(at).values["C"], (at["A"] @ at["B"]).T)


def test_explain_in_latex_shows_a_stack_as_its_matrices(tmp_path):
    """A stack was printed as text (`[0] [[…]] [1] [[…]] (shape [2, 2, 3])`) inside `align*`."""
    path = tmp_path / "stack.cg"
    path.write_text("input A[2, 2, 3]\ninput W[3, 2]\nC = A @ W\ny = sum(tanh(C))\n")
    at = "A=[[[1,2,3],[0,1,0]],[[0.5,0,1],[1,1,1]]],W=[[0.1,0.2],[0.3,0.4],[0.5,0.6]]"
    proc = subprocess.run([sys.executable, "-m", "graphlang", "explain", str(path), "--at", at, "--format", "latex"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("\\mathbf{A} &= "))
    assert line.count(r"\begin{bmatrix}") == 2 and "shape" not in line
    assert r"\begin{bmatrix}0.5 & 0 & 1 \\ 1 & 1 & 1\end{bmatrix}" in line  # the second matrix, as numpy has it


def test_latex_tells_reversing_every_axis_from_transposing_each_matrix():
    """On a stack `A.T` reverses every axis (numpy) and `mT(A)` transposes each matrix: both were `A^T`."""
    tex = graphlang.parse("input A[2, 3, 4]\nC = A.T\nD = mT(A)\ny = sum(C) + sum(D)\n").to_latex()
    assert r"\mathbf{C} &= \operatorname{transpose}\left(\mathbf{A}\right)" in tex
    assert r"\mathbf{D} &= \mathbf{A}^{T}" in tex
    assert r"\mathbf{A}^{T}" in graphlang.parse("input A[3, 4]\nC = A.T\ny = sum(C)\n").to_latex()  # a matrix: Aᵀ
