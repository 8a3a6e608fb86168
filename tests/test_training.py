"""Training: SGD equals a hand-written numpy backprop, batches are means, bad data is caught."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import PROGRAMS

import graphlang
from graphlang.engines import interpreter as interp
from graphlang.primitives.vmap import Batch
from graphlang.training import Dataset, Trainer, init_params, load_csv

NET = """
input x[5], t[3]
param A1[5, 4], b1[4], A2[4, 4], b2[4], B[4, 3], b3[3]
z1 = sigmoid(A1.T @ x + b1)
z2 = sigmoid(A2.T @ z1 + b2)
yhat = softmax(B.T @ z2 + b3)
J = -sum(t * ln(yhat))
"""


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


def numpy_backprop(P, x, t):
    """The lecture's network, forward and backward by hand (per example)."""
    a1 = P["A1"].T @ x + P["b1"]
    z1 = sigmoid(a1)
    a2 = P["A2"].T @ z1 + P["b2"]
    z2 = sigmoid(a2)
    u = P["B"].T @ z2 + P["b3"]
    e = np.exp(u - u.max())
    yhat = e / e.sum()
    g_u = yhat - t  # softmax + cross-entropy
    g = {"B": np.outer(z2, g_u), "b3": g_u}
    g_a2 = (P["B"] @ g_u) * z2 * (1 - z2)
    g.update({"A2": np.outer(z1, g_a2), "b2": g_a2})
    g_a1 = (P["A2"] @ g_a2) * z1 * (1 - z1)
    g.update({"A1": np.outer(x, g_a1), "b1": g_a1})
    return g


def data(n=40, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    labels = rng.integers(0, 3, size=n)
    return Dataset({"x": X, "t": np.eye(3)[labels]}, n, labels)


@pytest.mark.parametrize("batch", [1, 8])
def test_one_epoch_equals_numpy_backprop(batch):
    prog = graphlang.parse(NET)
    d = data()
    P0 = init_params(prog, seed=1)
    trainer = Trainer(prog, {k: v.copy() for k, v in P0.items()}, lr=0.3, batch=batch, seed=7)
    trainer.fit(d, epochs=1)
    ref = {k: v.copy() for k, v in P0.items()}
    order = np.random.default_rng(7).permutation(d.n)
    for start in range(0, d.n, batch):
        idx = order[start:start + batch]
        grads = [numpy_backprop(ref, d.columns["x"][i], d.columns["t"][i]) for i in idx]
        for k in ref:
            ref[k] -= 0.3 * np.mean([g[k] for g in grads], axis=0)
    for k in ref:
        np.testing.assert_allclose(trainer.params[k], ref[k], rtol=0, atol=1e-10)


def test_batch_gradient_is_mean_of_example_gradients():
    prog = graphlang.parse(NET)
    d = data(n=6)
    P = init_params(prog, seed=2)
    g = prog.graph
    per = [prog.gradient({"x": d.columns["x"][i], "t": d.columns["t"][i], **P}) for i in range(6)]
    arrays = [Batch(d.columns[n]) if n in ("x", "t") else P[n] for n in g.inputs]
    _, shapes = prog.bind({"x": d.columns["x"][0], "t": d.columns["t"][0], **P})
    vals = interp.forward(g, arrays, batched=True)
    out = g.slot_of["J"]
    adj = interp.reverse(g, shapes, vals, {out: Batch(np.full(6, 1 / 6))},
                         interp.depends_on_inputs(g), batched=True)
    for k in P:
        np.testing.assert_allclose(adj[g.slot_of[k]], np.mean([p[k] for p in per], axis=0),
                                   rtol=1e-12, atol=1e-15)
    # the data inputs keep one adjoint per example
    assert isinstance(adj[g.slot_of["x"]], Batch)
    np.testing.assert_allclose(adj[g.slot_of["x"]].v[2], per[2]["x"] / 6, rtol=1e-12)


def test_shipped_network_reaches_stated_accuracy(cli, tmp_path):
    ran = cli("train", str(PROGRAMS / "digits_network.cg"), "--data", str(PROGRAMS / "data" / "digits_train.csv"),
              "--val", str(PROGRAMS / "data" / "digits_test.csv"), "--epochs", "30", "--lr", "0.5",
              "--batch", "16", "--seed", "0", "--json", "--save", str(tmp_path / "p.npz"))
    assert ran.code == 0, ran.err
    final = ran.json()["final"]
    assert final["val_accuracy"] >= 0.97  # README: about 98% on the held-out digits
    pred = cli("predict", str(PROGRAMS / "digits_network.cg"), "--params", str(tmp_path / "p.npz"),
               "--data", str(PROGRAMS / "data" / "digits_test.csv"), "--json").json()
    assert pred["accuracy"] == pytest.approx(final["val_accuracy"])
    assert len(pred["predictions"]) == 360


def test_binary_logistic_regression_on_iris(tmp_path, cli):
    prog = tmp_path / "lr.cg"
    prog.write_text("input x[4], y\nparam w[4], b\nyhat = sigmoid(dot(w, x) + b)\n"
                    "J = -(y * ln(yhat) + (1 - y) * ln(1 - yhat))\n")
    rows = (PROGRAMS / "data" / "iris.csv").read_text().splitlines()
    csv = tmp_path / "setosa.csv"  # setosa (class 0) against the rest
    csv.write_text("\n".join([rows[0]] + [",".join(r.split(",")[:4] + [str(int(r.split(",")[4] == "0"))])
                                          for r in rows[1:]]) + "\n")
    obj = cli("train", str(prog), "--data", str(csv), "--epochs", "20", "--lr", "0.1", "--json").json()
    assert obj["final"]["train_accuracy"] == 1.0


@pytest.mark.parametrize("content,message", [
    ("1,2,3\n", "columns, expected"),
    ("1,2,3,4,5,0\n1,2,3,4,5,abc\n", "line 2, column 6"),
    ("1,2,3,4,5,7\n", "not a class 0..2"),
    ("1,2,3,4,5,1.5\n", "not a class 0..2"),
    ("", "no data rows"),
    ("1,2,3,4,5,0\n1,2,nan,4,5,0\n", "line 2, column 3: nan is not a finite number"),
    ("1,2,3,4,5,0\n1,2,3,4,5,0\n1e999,2,3,4,5,0\n", "line 3, column 1: inf is not a finite number"),
])
def test_bad_data(tmp_path, content, message):
    prog = graphlang.parse(NET)
    p = tmp_path / "d.csv"
    p.write_text(content)
    with pytest.raises(graphlang.GraphlangError) as info:
        load_csv(prog, str(p))
    assert message in info.value.message


def test_labels_counted_from_one_are_told_to_count_from_zero(tmp_path):
    """The lecture writes y ∈ {1, …, C}: labels 1..3 for 3 classes said only "not a class 0..2" (a
    student's find). Oracle: the same rows with 1 subtracted load, as the classes 0..2."""
    prog = graphlang.parse(NET)
    p = tmp_path / "d.csv"
    p.write_text("1,2,3,4,5,1\n1,2,3,4,5,3\n1,2,3,4,5,2\n")
    with pytest.raises(graphlang.GraphlangError) as info:
        load_csv(prog, str(p))
    assert "these labels reach 3 (counted from 1" in info.value.hint and "subtract 1" in info.value.hint
    p.write_text("1,2,3,4,5,0\n1,2,3,4,5,2\n1,2,3,4,5,1\n")
    assert list(load_csv(prog, str(p)).labels) == [0, 2, 1]
    p.write_text("1,2,3,4,5,7\n")  # (not a count from 1: no such hint)
    with pytest.raises(graphlang.GraphlangError) as info:
        load_csv(prog, str(p))
    assert "subtract" not in info.value.hint


def test_divergence_is_reported_with_epoch_and_step():
    prog = graphlang.parse("input x[1], y\nparam w[1]\nr = dot(w, x) - y\nJ = exp(r * r)")
    d = Dataset({"x": np.array([[3.0], [4.0]]), "y": np.array([1.0, 2.0])}, 2)
    trainer = Trainer(prog, {"w": np.array([1.0])}, lr=1e3)
    with pytest.raises(graphlang.GraphlangError) as info:
        trainer.fit(d, epochs=5)
    assert "epoch 1, step" in info.value.message and "lower the learning rate" in info.value.hint


def test_init_shape_mismatch(tmp_path, cli):
    np.savez(tmp_path / "p.npz", w=np.zeros(3), b=np.zeros(()))
    prog = tmp_path / "lr.cg"
    prog.write_text("input x[4], y\nparam w[4], b\nyhat = sigmoid(dot(w, x) + b)\nJ = (yhat - y)^2\n")
    csv = tmp_path / "d.csv"
    csv.write_text("1,2,3,4,1\n")
    ran = cli("train", str(prog), "--data", str(csv), "--init", str(tmp_path / "p.npz"))
    assert ran.code == 1 and "shape" in ran.err and "'w'" in ran.err


LOGISTIC = ("input x[2], y\nparam w[2], b\np = sigmoid(dot(w, x) + b)\n"
            "J = -(y * ln(p) + (1 - y) * ln(1 - p))\n")  # the lecture's cross-entropy, as written


def _one_saturating_row(n: int, bad: int) -> Dataset:
    """Moderate examples, and at index `bad` one whose prediction rounds to exactly 1 while y = 0."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = (x[:, 0] > 0).astype(float)
    x[bad], y[bad] = [500.0, 500.0], 0.0
    return Dataset({"x": x, "y": y}, n)


@pytest.mark.parametrize("batch", [1, 4, 16])
def test_saturation_names_the_statement_and_the_example(batch):
    bad = 13
    data = _one_saturating_row(16, bad)
    w = np.array([1.0, 1.0])
    assert 1.0 / (1.0 + np.exp(-(w @ data.columns["x"][bad]))) == 1.0  # the oracle: p is exactly 1
    trainer = Trainer(graphlang.parse(LOGISTIC), {"w": w, "b": np.zeros(())}, lr=1e-3, batch=batch)
    with pytest.raises(graphlang.GraphlangError) as info:
        trainer.fit(data, epochs=1)
    err = info.value
    assert err.kind == "domain" and err.line == 4
    assert f"on example {bad + 1} of the data" in err.message and "J = -(y * ln(p)" in err.message  # 1-based
    assert "ln(0)" in err.message and "sigmoid saturated" in err.message
    assert "softplus(u) - y * u" in err.hint and ("--lr" in err.hint) == (batch < 16)  # (16: before any update)


def test_saturation_while_evaluating_the_validation_set():
    train = _one_saturating_row(8, 0)
    train.columns["x"][0], train.columns["y"][0] = [0.1, 0.2], 1.0  # training data: all moderate
    val = _one_saturating_row(8, 5)
    trainer = Trainer(graphlang.parse(LOGISTIC), {"w": np.ones(2), "b": np.zeros(())}, lr=1e-3, batch=4)
    with pytest.raises(graphlang.GraphlangError) as info:
        trainer.fit(train, epochs=1, val=val)
    assert "evaluating the validation loss, on example 6 of the data" in info.value.message  # index 5, 1-based


def test_lecture_logistic_regression_on_separable_data_is_a_located_error(tmp_path, cli):
    """The issue's reproduction: separable data, 20 epochs, mini-batches; no traceback."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2)) * 20
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    csv = tmp_path / "sep.csv"
    csv.write_text("".join(f"{a:.6g},{b:.6g},{c}\n" for (a, b), c in zip(x, y)))
    prog = tmp_path / "lr.cg"
    prog.write_text(LOGISTIC)
    for batch in ("1", "8"):
        ran = cli("train", str(prog), "--data", str(csv), "--epochs", "20", "--lr", "1", "--batch", batch)
        assert ran.code == 1 and "Traceback" not in ran.err, ran.err
        assert f"{prog}:4:" in ran.err and "domain error" in ran.err and "of the data (" in ran.err
        example = int(ran.err.split("on example ")[1].split()[0])  # no header: the CSV's line is the example's
        assert f"sep.csv line {example})" in " ".join(ran.err.split())


def test_a_batch_domain_error_names_the_example_in_the_batch():
    """The interpreter's message on a batch: the failing example's own value and its position."""
    prog = graphlang.parse("input x\ny = ln(x)")
    xs = Batch(np.array([2.0, 1.0, -3.0, 0.0]))
    with pytest.raises(graphlang.GraphlangError) as info:
        interp.forward(prog.graph, [xs], batched=True)
    assert "(example 2 of the batch)" in info.value.message and "-3" in info.value.message


def test_the_hinted_stable_loss_trains_where_the_lecture_form_saturates():
    """The hint's J = softplus(u) - y * u is the same loss (closed form: -y ln σ(u) - (1-y) ln(1-σ(u)))
    and trains on the data that stopped the lecture's form."""
    data = _one_saturating_row(16, 13)
    stable = graphlang.parse("input x[2], y\nparam w[2], b\nu = dot(w, x) + b\nJ = softplus(u) - y * u\n")
    trainer = Trainer(stable, {"w": np.ones(2), "b": np.zeros(())}, lr=1e-3, batch=4)
    trainer.fit(data, epochs=1)
    assert np.all(np.isfinite(trainer.params["w"]))
    u, y = 0.3, 1.0
    lecture = -(y * np.log(sigmoid(u)) + (1 - y) * np.log(1 - sigmoid(u)))
    assert stable.evaluate({"x": [u, 0], "y": y, "w": [1, 0], "b": 0}).value == pytest.approx(lecture, rel=1e-12)


# --- predict on unlabeled data, predictions to CSV, the confusion matrix; Ctrl-C; early stopping ---

DIGITS = str(PROGRAMS / "digits_network.cg")
DIGITS_TEST = PROGRAMS / "data" / "digits_test.csv"


@pytest.fixture(scope="module")
def digits_params(tmp_path_factory):
    from conftest import run_cli
    out = tmp_path_factory.mktemp("digits") / "p.npz"
    ran = run_cli("train", DIGITS, "--data", str(PROGRAMS / "data" / "digits_train.csv"), "--epochs", "2",
                  "--lr", "0.5", "--batch", "16", "--save", str(out))
    assert ran.code == 0, ran.err
    assert f"parameters saved to {out}" in " ".join(ran.out.split())  # (it saved without a word)
    return str(out)


def test_predict_unlabeled_data_and_write_csv(cli, tmp_path, digits_params):
    labeled = cli("predict", DIGITS, "--params", digits_params, "--data", str(DIGITS_TEST), "--json").json()
    rows = DIGITS_TEST.read_text().splitlines()
    unlabeled = tmp_path / "x.csv"
    unlabeled.write_text("\n".join(",".join(r.split(",")[:64]) for r in rows) + "\n")  # no label column
    out = tmp_path / "pred.csv"
    ran = cli("predict", DIGITS, "--params", digits_params, "--data", str(unlabeled), "-o", str(out), "--json")
    assert ran.code == 0, ran.err
    got = ran.json()
    assert got["loss"] is None and got["accuracy"] is None and "confusion" not in got
    assert np.allclose(got["predictions"], labeled["predictions"], rtol=0, atol=0)  # the same forward pass
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join([f"yhat_{j}" for j in range(10)] + ["class"]) and len(lines) == 361
    table = np.array([[float(c) for c in ln.split(",")] for ln in lines[1:]])
    assert np.array_equal(table[:, :10], np.array(labeled["predictions"]))  # repr: read back exactly
    assert np.array_equal(table[:, 10], np.argmax(table[:, :10], axis=1))


def test_confusion_matrix_counts_true_against_predicted(cli, digits_params):
    got = cli("predict", DIGITS, "--params", digits_params, "--data", str(DIGITS_TEST), "--json").json()
    labels = np.array([int(r.split(",")[-1]) for r in DIGITS_TEST.read_text().splitlines()[1:]])
    predicted = np.argmax(np.array(got["predictions"]), axis=1)
    want = np.zeros((10, 10), dtype=int)
    for t, p in zip(labels, predicted):  # the oracle: counted here, one by one
        want[t, p] += 1
    assert np.array_equal(np.array(got["confusion"]), want)
    assert all(type(c) is int for row in got["confusion"] for c in row)  # counts, not floats
    assert np.trace(want) / len(labels) == pytest.approx(got["accuracy"])
    shown = cli("predict", DIGITS, "--params", digits_params, "--data", str(DIGITS_TEST), width=120).out
    assert "Confusion matrix" in shown and "true \\ predicted" in shown
    header = next(ln for ln in shown.splitlines() if "true \\ predicted" in ln)
    assert len(header.split("┃")[1]) <= len("true \\ predicted") + 2  # the column as wide as its header, not 40


def test_predict_column_count_message(cli, tmp_path, digits_params):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n")
    ran = cli("predict", DIGITS, "--params", digits_params, "--data", str(bad), width=300)
    assert ran.code == 1
    assert "3 columns: expected 74 (x: 64, t: 10) or 65 (x: 64, t: 1 (class index)) with the labels, " \
        "or 64 (x: 64) without them" in ran.err


def test_stopping_mid_epoch_keeps_the_finished_epochs_parameters():
    """`stop` set during epoch 3: two epochs reported, and the parameters are epoch 2's (their
    training loss, recomputed here, is the one reported for epoch 2)."""
    prog = graphlang.parse(NET)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 5))
    t = np.eye(3)[rng.integers(0, 3, 40)]
    data = Dataset({"x": x, "t": t}, 40)
    trainer = Trainer(prog, init_params(prog, 0), lr=0.3, batch=1, seed=0)
    steps = []

    def on_step() -> None:
        steps.append(1)
        if len(steps) == 2 * 40 + 5:
            trainer.stop = True
    history = trainer.fit(data, 10, on_step=on_step)
    assert [h.epoch for h in history] == [1, 2] and len(steps) == 85
    fresh = Trainer(prog, {k: v.copy() for k, v in trainer.params.items()})
    assert fresh.evaluate(data)[0] == pytest.approx(history[-1].train_loss, rel=1e-12)


def test_early_stopping_keeps_the_best_epoch(cli, tmp_path):
    ran = cli("train", DIGITS, "--data", str(PROGRAMS / "data" / "digits_train.csv"), "--val", str(DIGITS_TEST),
              "--epochs", "60", "--lr", "2", "--batch", "16", "--early-stopping", "2", "--json",
              "--save", str(tmp_path / "best.npz"))
    assert ran.code == 0, ran.err
    obj = ran.json()
    val = [e["val_loss"] for e in obj["epochs"]]
    best = int(np.argmin(val))
    assert len(val) - 1 - best == 2 and len(val) < 60  # stopped 2 epochs after the best
    assert obj["stopped"] == f"early: best epoch {best + 1}"
    again = cli("predict", DIGITS, "--params", str(tmp_path / "best.npz"), "--data", str(DIGITS_TEST), "--json")
    assert again.json()["loss"] == pytest.approx(val[best], rel=1e-9)  # the saved parameters are the best's
    # and "final" describes them (a red team's find: it was the last epoch's, 2 epochs past the saved one)
    assert obj["final"]["epoch"] == best + 1 and obj["final"]["val_loss"] == pytest.approx(again.json()["loss"])
    assert cli("train", DIGITS, "--data", str(DIGITS_TEST), "--early-stopping", "2").code == 2  # needs --val


def test_ctrl_c_stops_after_the_step_and_saves(tmp_path):
    import json
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT
    data = tmp_path / "d.csv"
    rows = DIGITS_TEST.read_text().splitlines()[:21]
    data.write_text("\n".join(rows) + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "graphlang", "train", DIGITS, "--data", str(data),
                             "--epochs", "100000", "--batch", "20", "--json", "--save", str(tmp_path / "p.npz")],
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # start-up, then some epochs of 20 examples
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err
    obj = json.loads(out)
    n = len(obj["epochs"])
    assert f"interrupted: {n} finished epoch(s) kept" in err and obj["stopped"] == "interrupted"
    if n:
        again = subprocess.run([sys.executable, "-m", "graphlang", "predict", DIGITS, "--params",
                                str(tmp_path / "p.npz"), "--data", str(data), "--json"],
                               env={"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
        assert json.loads(again.stdout)["loss"] == pytest.approx(obj["epochs"][-1]["train_loss"], rel=1e-9)


def test_l2_decays_every_weight_and_no_bias():
    """`--l2` decayed only matrices: the lecture network's vector β and a regression's w[3] took no
    penalty (and β, named with a b, started at zero as a bias). A weight is a param used other than
    as an addend. Oracle: the same step without l2, whose difference is lr·λ·p exactly for weights."""
    prog = graphlang.load(PROGRAMS / "two_layer_network.cg")
    from graphlang.training.params import biases
    assert biases(prog) == {"b1", "b2", "beta0"}
    p0 = init_params(prog, 3)
    assert np.all(p0["beta"] != 0) and all(np.all(p0[b] == 0) for b in ("b1", "b2", "beta0"))
    p0 = {k: v + 0.1 for k, v in p0.items()}  # (biases too: a decay of a bias would show)
    data = Dataset({"x": np.array([[0.5, -1.0]]), "y": np.array([1.0])}, 1)
    lr, lam = 0.1, 0.5
    plain = Trainer(prog, {k: v.copy() for k, v in p0.items()}, lr=lr)
    decayed = Trainer(prog, {k: v.copy() for k, v in p0.items()}, lr=lr, l2=lam)
    plain.step(data, 0)
    decayed.step(data, 0)
    for name, p in p0.items():
        want = lr * lam * p if name in ("alpha1", "alpha2", "beta") else 0 * p
        np.testing.assert_allclose(plain.params[name] - decayed.params[name], want, rtol=1e-12, atol=1e-15)
    reg = graphlang.parse("input x[3], y\nparam w[3], b\nJ = (dot(w, x) + b - y)^2")
    assert biases(reg) == {"b"}


def _params(path, **values):
    np.savez(path, **{k: np.array(v) for k, v in values.items()})
    return str(path)


def test_a_logits_class_is_its_sign_and_a_regressions_predictions_have_no_class(cli, write, tmp_path):
    """A red team's find: `predict` gave a squared-error model's yhat = 1.83 "class 1" on unlabeled
    data; and a logit (a loss reading yhat through softplus) was cut at 0.5 as if a probability, so
    logits in (0, 0.5) counted as class 0. The oracle: the classes computed here from w·x + b."""
    x = np.linspace(-1.0, 1.0, 41).tolist()  # w = 1, b = 0: the logit is x; a label 1 wherever x > 0
    labeled = tmp_path / "d.csv"
    labeled.write_text("x,t\n" + "".join(f"{v!r},{int(v > 0)}\n" for v in x))
    logit = write("input x, t\nparam w, b\nyhat = w * x + b\nJ = softplus(yhat) - t * yhat\n")
    params = _params(tmp_path / "p.npz", w=1.0, b=0.0)
    got = cli("predict", logit, "--params", params, "--data", str(labeled), "--json").json()
    assert got["accuracy"] == 1.0 and got["confusion"] == [[sum(v <= 0 for v in x), 0], [0, sum(v > 0 for v in x)]]
    out = tmp_path / "pred.csv"
    assert cli("predict", logit, "--params", params, "--data", str(labeled), "-o", str(out)).code == 0
    rows = [ln.split(",") for ln in out.read_text().splitlines()]
    assert rows[0] == ["yhat", "class"] and [int(r[1]) for r in rows[1:]] == [int(v > 0) for v in x]
    trained = cli("train", logit, "--data", str(labeled), "--epochs", "1", "--lr", "1e-12", "--init", params,
                  "--json")
    assert trained.code == 0 and trained.json()["final"]["train_accuracy"] == 1.0, trained.out

    unlabeled = tmp_path / "u.csv"
    unlabeled.write_text("x\n" + "".join(f"{v!r}\n" for v in x))
    regression = write("input x, t\nparam w, b\nyhat = w * x + b\nJ = (yhat - t)^2\n")
    ran = cli("predict", regression, "--params", params, "--data", str(unlabeled), "-o", str(out))
    assert ran.code == 0 and "class" not in ran.out and out.read_text().splitlines()[0] == "yhat"
    probability = write("input x, t\nparam w, b\nyhat = sigmoid(w * x + b)\n"
                        "J = -xlogy(t, yhat) - xlogy(1 - t, 1 - yhat)\n")
    ran = cli("predict", probability, "--params", params, "--data", str(unlabeled), "-o", str(out))
    rows = [ln.split(",") for ln in out.read_text().splitlines()]
    assert ran.code == 0 and rows[0] == ["yhat", "class"]
    assert [int(r[1]) for r in rows[1:]] == [int(v > 0) for v in x]


def test_a_failure_before_any_update_blames_the_data_not_the_learning_rate():
    """A red team's find: targets of ±1e308 overflowed (yhat − t)² on the first example and the hint
    said to lower the learning rate, which had not yet acted."""
    prog = graphlang.parse("input x, t\nparam w\nyhat = w * x\nJ = (yhat - t)^2\n")
    d = Dataset({"x": np.array([1.0, 2.0]), "t": np.array([1e308, -1e308])}, 2)
    with pytest.raises(graphlang.GraphlangError) as info:
        Trainer(prog, {"w": np.array(1.0)}, lr=1e-3).fit(d, epochs=1)
    assert "step 1" in info.value.message and "learning rate" not in info.value.hint
    assert "no update has been made yet" in info.value.hint


@pytest.mark.parametrize("max_cost", [None, 200_000])
def test_evaluation_and_predictions_run_in_blocks_within_the_budget(max_cost, monkeypatch):
    """`train`/`predict` evaluated every row in one batched pass whatever the budget (a 48 KB CSV held a
    60,000,000-number array, 1 GB under --strict: a red team's find): the rows go in blocks the cost
    and memory budgets allow, and give the same mean loss, accuracy and predictions. Oracle: the
    lecture's network by hand in numpy, example by example."""
    from graphlang.limits import Limits
    prog = graphlang.parse(NET, limits=Limits() if max_cost is None else Limits(max_cost=max_cost))
    d = data(n=37)
    P = init_params(prog, seed=2)
    trainer = Trainer(prog, {k: v.copy() for k, v in P.items()}, lr=0.1)
    blocks = []
    monkeypatch.setattr(interp, "forward", lambda g, arrays, **kw: blocks.append(1) or FORWARD(g, arrays, **kw))
    loss, acc = trainer.evaluate(d)
    probs = []
    for x in d.columns["x"]:
        u = P["B"].T @ sigmoid(P["A2"].T @ sigmoid(P["A1"].T @ x + P["b1"]) + P["b2"]) + P["b3"]
        probs.append(np.exp(u - u.max()) / np.exp(u - u.max()).sum())
    want = np.mean([-np.sum(t * np.log(p)) for t, p in zip(d.columns["t"], probs)])
    assert loss == pytest.approx(want, rel=1e-12)
    assert acc == pytest.approx(np.mean(np.argmax(probs, axis=1) == d.labels))
    np.testing.assert_allclose(trainer.predictions(d), probs, rtol=1e-12)
    assert (len(blocks) > 2) == (max_cost is not None)  # a small budget: several blocks


FORWARD = interp.forward


@pytest.mark.parametrize(("labels", "hint"), [("1,2,1", "subtract 1"), ("-1,1,1", "write 0 for -1"),
                                              ("0,3.5,1", "regression loss")])
def test_a_binary_classifiers_labels_outside_0_and_1_are_refused(cli, tmp_path, labels, hint):
    """A red team's find: logistic regression trained on t = 2 without a word, its loss negative
    (softplus(u) − 2u < 0 for u > 0: the binary cross-entropy needs t ∈ [0, 1]). Soft labels within
    [0, 1] are probabilities, and train."""
    rows = [f"{x},{t}" for x, t in zip((0.5, -1.0, 0.3), labels.split(","))]
    (tmp_path / "d.csv").write_text("x,t\n" + "\n".join(rows) + "\n")
    ran = cli("train", str(PROGRAMS / "logistic_regression.cg"), "--data", str(tmp_path / "d.csv"), "--epochs", "1")
    assert ran.code == 1 and "is not 0 or 1" in ran.err and hint in ran.err, ran.err
    (tmp_path / "s.csv").write_text("x,t\n0.5,1\n-1,0\n0.3,0.7\n")
    assert cli("train", str(PROGRAMS / "logistic_regression.cg"), "--data", str(tmp_path / "s.csv"),
               "--epochs", "1").code == 0


def test_the_shipped_regression_example_predicts_and_one_without_yhat_is_told_how(cli, write, tmp_path):
    """`predict programs/squared_error.cg` said "name the prediction node `yhat`" to a student who had
    just trained it, with no hint: the example now names ŷ, and a program without one is told what to
    add. The oracle: W @ x in numpy, and the loss mean((W x − t)²) by hand."""
    W = np.array([[0.5, 1.0], [-1.0, 2.0], [0.0, 1.0]])
    rows = np.array([[1.0, 2.0, 1.0, 1.0, 1.0], [0.0, 1.0, 2.0, 0.0, 1.0]])
    data = tmp_path / "reg.csv"
    data.write_text("x0,x1,t0,t1,t2\n" + "".join(",".join(map(str, r.tolist())) + "\n" for r in rows))
    params = _params(tmp_path / "p.npz", W=W)
    got = cli("predict", str(PROGRAMS / "squared_error.cg"), "--params", params, "--data", str(data), "--json")
    assert got.code == 0, got.err
    js = got.json()
    want = [W @ r[:2] for r in rows]
    assert np.allclose(np.array(js["predictions"], dtype=float), want, rtol=1e-12)
    assert js["loss"] == pytest.approx(np.mean([np.mean((W @ r[:2] - r[2:]) ** 2) for r in rows]), rel=1e-12)
    old = write("input x[2], t[3]\nparam W[3, 2]\nr = W @ x - t\nJ = mean(r ^ 2)\n")
    ran = cli("predict", old, "--params", params, "--data", str(data))
    assert ran.code == 2 and "hint: add a statement for the model's output" in ran.err


@pytest.mark.parametrize("batch", [1, 3])
def test_a_loss_that_reads_no_data_trains_evaluates_and_reports_the_loss_before_the_step(batch):
    """`J = (w - 1)^2` beside a data column crashed `train` and `predict` (the batched pass gives one
    number, not a Batch: AttributeError, a traceback); `J = w` returned the loss after the update (the
    loss was w's own array, updated in place). By hand: w = 2, lr = 0.5: J = 2 before, w = 1.5 after;
    (w − 1)² at w = 2 is 1 for every example."""
    data = Dataset({"x": np.array([1.0, 2.0, 3.0])}, 3)
    idx = 0 if batch == 1 else np.arange(3)
    t = Trainer(graphlang.parse("input x\nparam w\nJ = w\n"), {"w": np.array(2.0)}, lr=0.5, batch=batch)
    assert t.step(data, idx) == 2.0 and float(t.params["w"]) == 1.5
    t = Trainer(graphlang.parse("input x\nparam w\nJ = (w - 1)^2\n"), {"w": np.array(2.0)}, lr=0.1, batch=batch)
    assert t.evaluate(data)[0] == 1.0
    t.fit(data, epochs=1)
    assert float(t.params["w"]) < 2.0  # (d/dw (w − 1)² = 2 > 0: downhill)


def test_train_and_predict_on_a_loss_that_reads_no_data(cli, write, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x\n1\n2\n3\n4\n")
    ran = cli("train", write("input x\nparam w\nJ = (w - 1)^2\n"), "--data", str(data), "--epochs", "1",
              "--lr", "0.1", "--batch", "2")
    assert ran.code == 0 and "Traceback" not in ran.err
    params = _params(tmp_path / "p.npz", w=0.5)
    ran = cli("predict", write("input x\nparam w\np = sigmoid(w)\nJ = (p - 0.5)^2\n", "p.cg"), "--params", params,
              "--data", str(data), "--json")
    assert ran.code == 0, ran.err
    p = 1 / (1 + np.exp(-0.5))
    assert ran.json()["loss"] == pytest.approx((p - 0.5) ** 2, rel=1e-12)


def test_a_long_runs_table_lists_every_kth_epoch_with_the_first_and_the_last(tmp_path, cli):
    """A student's find: `train --epochs 2000` printed a 2,000-row table (its end scrolled away). Past 60
    epochs the table lists every k-th one (k = 2, 5, 10, …: at most 50 rows), the first and the last,
    said below it. Oracle: the epochs by hand, and each row's loss from --json's every epoch."""
    from graphlang.present.tables import shown_epochs
    assert shown_epochs(60) == (list(range(60)), 1)
    assert shown_epochs(61)[1] == 2 and shown_epochs(61)[0][:3] == [0, 1, 3] and shown_epochs(61)[0][-1] == 60
    assert shown_epochs(2000) == ([0, *range(49, 2000, 50)], 50)
    assert 776 in shown_epochs(2000, (776,))[0]  # the kept epoch of an early stop
    prog = tmp_path / "fit.cg"
    prog.write_text("input x, t\nparam w\nJ = (w * x - t)^2\n")
    data = tmp_path / "d.csv"
    data.write_text("x,t\n1,2\n2,4.1\n3,5.9\n")
    args = ("train", str(prog), "--data", str(data), "--epochs", "300", "--lr", "0.01")
    table = cli(*args).out
    listed = [int(m) for m in re.findall(r"^│ (\d+) ", table, re.M)]
    assert listed == [1, *range(10, 301, 10)], listed
    assert "300 epochs: every 10th listed, with the first and the last" in " ".join(table.split())
    every = cli(*args, "--json").json()["epochs"]
    assert len(every) == 300 and f"{every[149]['train_loss']:.6f}" in table.split("│ 150 ")[1].split("\n")[0]


FOLDED = """input x[2], y[]
param alpha1[2, 3], b1[3], beta[3], beta0[]
alpha1p = concat(b1, alpha1)
xp = concat(1, x)
z1 = sigmoid(alpha1p.T @ xp)
u = dot(concat(beta0, beta), concat(1, z1))
yhat = sigmoid(u)
J = -(y * ln(yhat) + (1 - y) * ln(1 - yhat))
"""


def test_a_bias_folded_into_its_weights_is_still_a_bias():
    """A bias-folding red team's find: α′ = concat(b1, α) made b1 (and beta0) weights — Glorot values
    where the same network with `+ b1` starts at zeros, and --l2 decayed them. A param that is one
    row of a concat is a bias; the step matches the explicit network's (the oracle: that program)."""
    from graphlang.training.params import biases
    folded = graphlang.parse(FOLDED)
    assert biases(folded) == {"b1", "beta0"}
    p0 = init_params(folded, 3)
    assert np.all(p0["b1"] == 0) and p0["beta0"] == 0 and np.all(p0["alpha1"] != 0)
    explicit = graphlang.parse("input x[2], y[]\nparam alpha1[2, 3], b1[3], beta[3], beta0[]\n"
                               "z1 = sigmoid(alpha1.T @ x + b1)\nu = dot(beta, z1) + beta0\nyhat = sigmoid(u)\n"
                               "J = -(y * ln(yhat) + (1 - y) * ln(1 - yhat))\n")
    start = {k: v + 0.1 for k, v in p0.items()}
    data = Dataset({"x": np.array([[0.5, -1.0]]), "y": np.array([1.0])}, 1)
    a = Trainer(folded, {k: v.copy() for k, v in start.items()}, lr=0.1, l2=0.5)
    b = Trainer(explicit, {k: v.copy() for k, v in start.items()}, lr=0.1, l2=0.5)
    a.step(data, 0)
    b.step(data, 0)
    for name in start:
        np.testing.assert_allclose(a.params[name], b.params[name], rtol=1e-12, atol=1e-15, err_msg=name)
