"""Notes on what a program probably does not mean although it runs (a student's red team, 2026-12-05):
`W * x` of a matrix and a vector, `e^a` below a node e, a stray last line that became the output.
Each note is checked on the program that misleads and on the one that does not (no nagging), and
the misleading program's number is shown to be what the note says (oracle: numpy by hand)."""

from __future__ import annotations

import numpy as np
import pytest

import graphlang
from graphlang.ir.lint import dead_ends, notes

LECTURE = "a = x * z\nb = ln(x)\nc = sin(b)\nd = exp(a)\ne = a / b\nf = c / a\ny = d + e + f\n"


def _notes(source: str, at: dict) -> list[str]:
    prog = graphlang.parse(source)
    return [n for _, _, n in notes(prog.graph, prog.bind(at)[1])]


def test_a_matrix_times_a_vector_elementwise_is_noted():
    source = "input x[2], t[2]\nparam W[2, 2]\nyhat = W * x\nJ = 0.5 * sum((yhat - t) ^ 2)\n"
    at = {"W": [[1.0, 2.0], [3.0, 4.0]], "x": [1.0, 2.0], "t": [0.0, 1.0]}
    (said,) = _notes(source, at)
    assert "[2, 2] * [2] in yhat multiplies elementwise, x stretched along W's rows" in said
    assert "for the matrix-vector product write W @ x (giving shape [2])" in said
    assert "write alpha1.T @ x" in _notes("input x[3]\nparam alpha1[3, 3]\ny = sum(alpha1.T * x)\n",
                                          {"x": [1, 2, 3], "alpha1": np.eye(3)})[0]
    # scaling on purpose: a computed matrix's columns (layer norm's gamma), data by weights, a column
    scaled = ("input X[4, 3]\nparam gamma[3], beta[3], s[3]\nxc = X - mean(X, 0)\nh = gamma * xc + beta\n"
              "k = X * s\ny = sum(h) + sum(k)\n")
    assert _notes(scaled, {"X": np.ones((4, 3)), "gamma": [1, 2, 3], "beta": [0, 0, 0], "s": [1, 1, 1]}) == []
    W, x, t = (np.array(at[k]) for k in ("W", "x", "t"))
    assert graphlang.parse(source).evaluate(at).value == pytest.approx(0.5 * np.sum((W * x - t) ** 2))  # 34: W*x
    assert _notes(source.replace("W * x", "W @ x"), at) == []
    assert _notes("input W[2, 2], M[2, 2]\ny = sum(W * M)\n", {"W": np.eye(2), "M": np.eye(2)}) == []


def test_e_to_a_power_below_a_node_e_is_noted():
    """The lecture writes d = e^a beside a node e = a/b; with e assigned first, e^a is (a/b)^a."""
    source = LECTURE.replace("d = exp(a)\ne = a / b\n", "e = a / b\nd = e^a\n")
    (said,) = _notes(source, {"x": 2, "z": 3})
    assert "e^… in d = e^a is the node e (assigned on line 4)" in said and "write exp(…)" in said
    r = graphlang.parse(source).evaluate({"x": 2, "z": 3})
    assert r.values["d"] == pytest.approx((6 / np.log(2)) ** 6)  # the power of the node, as noted
    assert _notes(LECTURE, {"x": 2, "z": 3}) == []
    assert _notes("input e, x\ny = e ^ x + exp(e)\n", {"e": 1.5, "x": 2})[0].startswith(
        "e^… in y = e ^ x + exp(e) is the node e (an input)")
    assert _notes("input e, x\ny = e ** x\n", {"e": 1.5, "x": 2})  # (** is ^)
    residual = "input yhat, y\ne = yhat - y\nJ = 0.5 * e^2 + e ^ 0.5\n"  # a residual squared: meant as written
    assert _notes(residual, {"yhat": 3.0, "y": 1.0}) == []
    assert _notes("input x\nte = x + 1\ny = te^2\n", {"x": 1}) == []  # (a name ending in e is no e)


def test_a_stray_last_line_is_named_but_a_prediction_beside_its_loss_is_not(cli, write):
    stray = LECTURE + "check = x + 1\n"
    assert dead_ends(graphlang.parse(stray).graph) == ["y"]
    ran = cli("run", write(stray), "--at", "x=2,z=3")
    assert ran.code == 0 and "the output is check, the last assigned name; y does not reach it" in ran.err
    assert "`output y` makes y the output" in ran.err
    assert dead_ends(graphlang.parse(stray + "output y\n").graph) == []  # an output line says what is meant
    network = ("input x[2], y\nparam W[2, 2], b[2], beta[2], beta0\nz = sigmoid(W @ x + b)\n"
               "u = dot(beta, z) + beta0\nyhat = sigmoid(u)\nJ = softplus(u) - y * u\n")
    assert dead_ends(graphlang.parse(network).graph) == []  # yhat reads only what J reads
    assert dead_ends(graphlang.parse("a = x * 2\nb = z * 3\n").graph) == ["a"]  # (b reads no statement)
    logged = network.replace("yhat = sigmoid(u)\n", "yhat = sigmoid(u)\nerr = yhat - y\n")
    assert dead_ends(graphlang.parse(logged).graph) == []  # a logged error above the loss: meant
    below = network.replace("yhat = sigmoid(u)\n", "") + "yhat = sigmoid(u)\n"  # typed below the loss
    assert dead_ends(graphlang.parse(below).graph) == ["J"]  # (J reads the label y; yhat does not)
    assert dead_ends(graphlang.parse("c = 3\ny = x * 2\n").graph) == []  # (a constant: no guess)


@pytest.mark.parametrize("command", ["run", "grad", "explain", "gradcheck", "diff"])
def test_every_command_that_evaluates_says_it(command, cli, write):
    ran = cli(command, write("input x[2]\nparam W[2, 2]\ny = sum(W * x)\n"), "--at", "W=[[1,2],[3,4]],x=[1,2]")
    assert "multiplies elementwise" in ran.err, ran.err


def test_diff_says_a_stray_last_line_too(cli, write):
    """`diff` printed dcheck/dx = 1 for a program whose last line was a stray (a notes audit)."""
    ran = cli("diff", write(LECTURE + "check = x + 1\n"))
    assert ran.code == 0 and "dcheck/dx = 1" in ran.out and "y does not reach it" in ran.err


def test_softmax_along_an_axis_of_length_one_is_noted():
    """A red team's find: the lecture's column vectors, u[2, 1], through softmax (over the last axis)
    give p = 1 everywhere and J = 0 with all-zero gradients, silently. Oracle: numpy's softmax of
    each one-element row is 1."""
    source = ("input x[3, 1], t[2, 1]\nparam W[3, 2], b[2, 1]\nu = W.T @ x + b\np = softmax(u)\n"
              "J = -sum(t * ln(p))\n")
    at = {"x": [[1.0], [2.0], [3.0]], "t": [[0.0], [1.0]], "W": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
          "b": [[0.0], [0.0]]}
    (said,) = _notes(source, at)
    assert "softmax in p = softmax(u) runs along axis 1, of length 1 in u [2, 1]: every entry is 1" in said
    assert graphlang.parse(source).evaluate(at).value == 0.0  # what the note explains
    assert _notes(source.replace("[3, 1]", "[3]").replace("[2, 1]", "[2]"), {
        "x": [1.0, 2.0, 3.0], "t": [0.0, 1.0], "W": at["W"], "b": [0.0, 0.0]}) == []
    assert "every entry is 0" in _notes("input U[4, 1]\ny = sum(logsoftmax(U))\n", {"U": np.ones((4, 1))})[0]


def test_a_per_row_result_combined_with_a_square_matrix_is_noted():
    """A red team's find: U − logsumexp(U, 1) on a 3 × 3 batch runs (numpy pairs the per-row values with
    the columns) and gave a negative cross-entropy, −0.5924, where row by row it is 0.2762 (numpy by
    hand). The note's own fix, and a per-column mean (centering), are not noted."""
    U = np.array([[1.0, 2, 3], [0, 0, 5], [2, 1, 0]])
    T = np.array([[0.0, 0, 1], [0, 0, 1], [1, 0, 0]])
    source = "input U[3, 3], T[3, 3]\nL = U - logsumexp(U, 1)\nJ = -sum(T * L) / 3\n"
    (said,) = _notes(source, {"U": U, "T": T})
    assert "logsumexp(U, 1) has one value per row of the 3×3 matrix U" in said
    fix = "(U.T - logsumexp(U, 1)).T"
    assert f"write {fix}" in said
    lse = np.log(np.exp(U).sum(axis=1))
    assert graphlang.parse(source).evaluate({"U": U, "T": T}).value == pytest.approx(-np.sum(T * (U - lse)) / 3)
    fixed = source.replace("U - logsumexp(U, 1)", fix)
    assert _notes(fixed, {"U": U, "T": T}) == []
    assert graphlang.parse(fixed).evaluate({"U": U, "T": T}).value == pytest.approx(
        -np.sum(T * (U - lse[:, None])) / 3)  # 0.2762, row by row
    assert _notes("input X[3, 3]\nM = X - mean(X, 0)\ny = sum(M * M)\n", {"X": U}) == []
    normalized = "input X[3, 3]\nN = X / sum(X, 1)\ny = sum(N)\n"
    assert "sum(X, 1) has one value per row" in _notes(normalized, {"X": U + 1})[0]


def test_a_matrix_vector_product_written_out_with_its_row_sums_is_not_noted():
    """A red team's false positive: `sum(W * x, 1)` is W @ x written out (each row's products summed)."""
    at = {"x": [1.0, 2.0, 3.0], "W": [[1.0, 2, 3], [4, 5, 6]]}
    source = "input x[3]\nparam W[2, 3]\nh = sum(W * x, 1)\ny = sum(h)\n"
    assert _notes(source, at) == []
    assert graphlang.parse(source).evaluate(at).values["h"] == pytest.approx(np.array(at["W"]) @ at["x"])


@pytest.mark.parametrize("last", ["check = a * 2", "check = exp(a) + x", "dd = exp(a)"])
def test_a_last_line_smaller_than_the_graph_it_follows_is_a_stray(last):
    """A REPL red team's find: `check = a * 2` (or a top-down typo `dd = exp(a)`) typed after the
    lecture's y became the output with no note — it reads both inputs and a statement, so neither old
    rule applied; y, read by nothing, is computed from six statements and check from one."""
    (said,) = [n for n in _notes(LECTURE + last + "\n", {"x": 2.0, "z": 3.0}) if "the output is" in n]
    assert said.startswith(f"the output is {last.split()[0]}, the last assigned name; y does not reach it")
    loss_last = "input x[3], t\nparam w[3], b\nu = dot(w, x) + b\nyhat = sigmoid(u)\nJ = softplus(u) - t * u\n"
    assert _notes(loss_last, {"x": [1, 2, 3], "t": 1, "w": [0.1, 0.2, 0.3], "b": 0.0}) == []


def test_a_vector_transposed_on_the_right_of_a_product_is_noted():
    """A red team's find: `G = g @ x.T` for the lecture's g xᵀ is the inner product (x.T of a vector is
    x): y = sum(G) = 14 for g = x = [1, 2, 3], where sum(outer(g, x)) = 36 (numpy by hand). The
    lecture's wᵀx, `w.T @ x`, is an inner product on purpose: no note."""
    g = x = [1.0, 2.0, 3.0]
    source = "input g[3], x[3]\nG = g @ x.T\ny = sum(G)\n"
    (said,) = _notes(source, {"g": g, "x": x})
    assert "g @ x.T in G = g @ x.T is the inner product" in said and "write outer(g, x)" in said
    assert graphlang.parse(source).evaluate({"g": g, "x": x}).value == pytest.approx(float(np.dot(g, x)))
    assert graphlang.parse(source.replace("g @ x.T", "outer(g, x)")).evaluate({"g": g, "x": x}).value == \
        pytest.approx(float(np.sum(np.outer(g, x))))
    assert _notes("input w[3], x[3]\ny = w.T @ x\n", {"w": g, "x": x}) == []


PAIRED_ON_PURPOSE = [  # another matrix's per-row values beside a square matrix's columns: meant (an audit's finds)
    "input X[3, 2], T[3, 3]\nparam Mu[3, 2]\nU = 2 * (X @ Mu.T) - sum(Mu * Mu, 1)\n"
    "J = mean(logsumexp(U, 1) - sum(T * U, 1))\n",  # a prototype classifier: ‖μ_c‖² in column c
    "input X[3, 2], y[3]\nparam alpha[3]\nG = X @ X.T\nsq = sum(X * X, 1)\nR = sq - G\nD = R + R.T\n"
    "J = sum((exp(-D / 2) @ alpha - y) ^ 2)\n",  # squared distances for an RBF kernel
    "input X[3, 2], T[3, 3], Cost[3, 3]\nparam W[2, 3]\nU = X @ W\nwc = sum(Cost, 1)\n"
    "J = -sum(T * wc * logsoftmax(U)) / 3\n",  # per-class weights from a cost matrix
    "input X[3, 3], T[3, 3]\nparam W[3, 3]\nPw = exp(W)\nWn = Pw / sum(Pw.T, 1)\nU = X @ Wn\n"
    "J = mean(logsumexp(U, 1) - sum(T * U, 1))\n",  # columns normalized, through the transpose
]
PAIRED_BY_MISTAKE = [  # a square matrix combined with its own per-row values, through elementwise steps
    "input U[3, 3], T[3, 3]\nL = U - ln(sum(exp(U), 1))\nJ = -sum(T * L) / 3\n",
    "input U[3, 3], T[3, 3]\nN = U / sqrt(mean(U ^ 2, 1) + 1e-5)\nJ = sum((N - T) ^ 2)\n",
    "input U[3, 3], T[3, 3]\nM = relu(1 + U - sum(U * T, 1)) * (1 - T)\nJ = sum(M) / 3\n",
    "input U[3, 3], T[3, 3]\nK = U @ U.T\nKc = K - mean(K, 0) - mean(K, 1) + mean(K)\nJ = sum(Kc ^ 2)\n",
]


@pytest.mark.parametrize("source", PAIRED_ON_PURPOSE)
def test_another_matrixs_per_row_values_beside_a_square_one_are_not_noted(source):
    rng = np.random.default_rng(7)
    prog = graphlang.parse(source)
    at = {n: rng.normal(size=s) for n, s in prog.checked.declared.items()}
    assert [n for n in _notes(source, at) if "one value per row" in n] == []


def test_a_prototype_classifier_pairs_each_prototypes_norm_with_its_column():
    """The oracle behind the first of those: logits −‖x_i − μ_c‖² + ‖x_i‖² by numpy, row by row."""
    rng = np.random.default_rng(3)
    X, Mu, T = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), np.eye(3)
    U = -((X[:, None, :] - Mu[None, :, :]) ** 2).sum(-1) + (X ** 2).sum(1)[:, None]
    want = np.mean(np.log(np.exp(U).sum(1)) - (T * U).sum(1))
    got = graphlang.parse(PAIRED_ON_PURPOSE[0]).evaluate({"X": X, "Mu": Mu, "T": T}).value
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("source", PAIRED_BY_MISTAKE)
def test_a_square_matrix_with_its_own_per_row_values_is_noted_through_elementwise_steps(source):
    rng = np.random.default_rng(7)
    at = {"U": rng.normal(size=(3, 3)), "T": np.eye(3)}
    assert [n for n in _notes(source, at) if "one value per row of the 3×3 matrix" in n]


def test_a_last_line_named_as_a_loss_is_the_output_meant():
    """An audit's false notes: a metric or a prediction above a loss written on the logits, J = mean(…)
    or J = softplus(u) − t·u, read "the output is J, …; acc does not reach it". The last line named as
    a loss is meant; below it, `p = sigmoid(u)` is still a stray."""
    metric = ("input X[5, 3], T[5, 4]\nparam W[3, 4], b[4]\nU = X @ W + b\nP = softmax(U)\npt = sum(P * T, 1)\n"
              "hit = sigmoid(50 * (pt - 0.5))\nacc = mean(hit)\nJ = mean(logsumexp(U, 1) - sum(T * U, 1))\n")
    rng = np.random.default_rng(1)
    at = {"X": rng.normal(size=(5, 3)), "T": np.eye(4)[[0, 1, 2, 3, 0]], "W": rng.normal(size=(3, 4)),
          "b": np.zeros(4)}
    assert _notes(metric, at) == []
    inline = "input x, y\nparam w, b\nyhat = w * x + b\nJ = (w * x + b - y) ^ 2\n"
    assert _notes(inline, {"x": 2.0, "y": 1.0, "w": 0.5, "b": 0.1}) == []
    below = "input x, t\nparam w, b\nu = w * x + b\nJ = softplus(u) - t * u\np = sigmoid(u)\n"
    assert any("the output is p" in n for n in _notes(below, {"x": -1.0, "t": 1.0, "w": 1.3, "b": 0.2}))


@pytest.mark.parametrize(("source", "unread"), [
    ("a = x + 1\ny = a * 2\ncheck = a * 2\n", "y"),  # the lecture's output name, a check of the same size below
    ("a = x + 1\nJ = a * 2\np = a * 3\n", "J"),  # a loss, a prediction of the same size below
    ("input x, y\nparam w, b\nu = w * x + b\nyhat = sigmoid(u)\nJ = 0.5 * (yhat - y) ^ 2\nerr = yhat - y\n", "J"),
])
def test_a_loss_or_y_that_nothing_reads_is_named(source, unread, cli, write):
    """A docs red team's finds: a last line as large as the output it follows (a check, a prediction,
    a logged error below J) was the output with no note — every derivative shown was the debug line's.
    A node named as a loss (or the lecture's y) that no statement reads is named now."""
    assert dead_ends(graphlang.parse(source).graph) == [unread]
    last = source.rstrip().rsplit("\n", 1)[1].split()[0]
    ran = cli("run", write(source), "--at", "x=1" + (",y=0,w=0.5,b=0.1" if "param" in source else ""))
    assert ran.code == 0 and f"the output is {last}, the last assigned name; {unread} does not reach it" in ran.err
    assert dead_ends(graphlang.parse(source + f"output {unread}\n").graph) == []
