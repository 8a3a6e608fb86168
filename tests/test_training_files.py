"""Training files (training/data.py): sizes are known before anything is allocated.

The declared shapes are checked before data or parameters are read; an .npz is checked from the
.npy headers inside the zip before any array is read; a CSV is read one bounded line at a time;
FIFOs and devices are refused. The oracles are the sizes and values the tests write themselves."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest
from conftest import ROOT

import graphlang
from graphlang.training import Trainer, init_params, load_csv, load_params, save_params

NET = "input x[2]\ninput t\nparam W[2, 2], b[2]\nparam v[2]\nh = tanh(W @ x + b)\n" \
      "p = sigmoid(sum(v * h))\nloss = -(t * ln(p) + (1 - t) * ln(1 - p))\n"


def npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()  # the magic string and the header


def bomb(path, name: str, shape: tuple[int, ...], zero_bytes: int) -> None:
    """An .npz whose member `name` claims `shape` and holds `zero_bytes` zeros, deflated (~1000:1)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(name + ".npy", "w",
                                                                          force_zip64=True) as m:
        m.write(npy_header(shape))
        chunk = bytes(1 << 20)
        for _ in range(zero_bytes >> 20):
            m.write(chunk)


@pytest.fixture
def reads(monkeypatch):
    """How many arrays are read out of an .npz (headers only do not count)."""
    count = []
    real = np.lib.format.read_array

    def spy(*args, **kwargs):
        count.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(np.lib.format, "read_array", spy)
    return count


def run(*args: str, memory_gb: int = 2) -> subprocess.CompletedProcess:
    """The command line in a subprocess whose address space is capped: a regression that reads
    without bound fails (MemoryError or a timeout) instead of taking the machine's memory."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_gb << 30, memory_gb << 30))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([sys.executable, "-m", "graphlang", *args], capture_output=True, text=True,
                          env=env, timeout=180, preexec_fn=cap)


def test_npz_bomb_is_refused_from_its_header_without_reading_it(tmp_path, reads, cli):
    path = tmp_path / "bomb.npz"
    bomb(path, "W", (4000, 4000), 128 << 20)  # 128 MB of zeros, about 130 kB on disk
    assert path.stat().st_size < 1 << 20
    prog = graphlang.parse(NET)
    with pytest.raises(graphlang.GraphlangError) as info:
        load_params(str(path), prog)
    assert info.value.kind == "shape" and "[4000, 4000]" in info.value.message and "[2, 2]" in info.value.message
    assert reads == []  # nothing was decompressed
    with pytest.raises(graphlang.GraphlangError) as info:
        load_params(str(path))  # no program: the limits still hold (16,000,000 elements > 10,000,000)
    assert info.value.kind == "limit" and reads == []
    (tmp_path / "net.cg").write_text(NET)
    (tmp_path / "d.csv").write_text("1,2,1\n")
    ran = cli("train", str(tmp_path / "net.cg"), "--data", str(tmp_path / "d.csv"), "--init", str(path))
    assert ran.code == 1 and "'W' has shape [4000, 4000], declared [2, 2]" in ran.err
    ran = cli("predict", str(tmp_path / "net.cg"), "--data", str(tmp_path / "d.csv"), "--params", str(path))
    assert ran.code == 1 and "declared [2, 2]" in ran.err


def test_npz_reads_only_the_declared_parameters_and_round_trips(tmp_path, reads):
    prog = graphlang.parse(NET)
    params = init_params(prog, seed=4)
    save_params({**params, "extra": np.zeros(3)}, str(tmp_path / "p.npz"))
    back = load_params(str(tmp_path / "p.npz"), prog)
    assert sorted(back) == ["W", "b", "v"] and len(reads) == 3
    for k, v in params.items():
        np.testing.assert_array_equal(back[k], v)
    assert sorted(load_params(str(tmp_path / "p.npz"))) == ["W", "b", "extra", "v"]


@pytest.mark.parametrize("make,kind", [
    (lambda p: np.savez(p, W=np.array([["a", "b"], ["c", "d"]])), "value"),
    (lambda p: np.savez(p, W=np.ones((2, 2), complex)), "value"),
    (lambda p: np.savez(p, W=np.array([[1.0, np.nan], [0, 0]])), "value"),
    (lambda p: np.save(p, np.ones((2, 2))), "io"),  # an .npy, not an .npz
    (lambda p: open(p, "wb").write(b"PK\x03\x04 not really a zip"), "io"),
    (lambda p: os.mkdir(p), "io"),
])
def test_bad_npz_files_are_errors(tmp_path, make, kind):
    path = str(tmp_path / "p.npz")
    make(path)
    with pytest.raises(graphlang.GraphlangError) as info:
        load_params(path, graphlang.parse(NET))
    assert info.value.kind == kind


def test_declared_parameters_over_the_limits_are_refused_before_allocating():
    prog = graphlang.parse("input x[2]\ninput t\nparam W[20000, 20000]\nloss = sum(W) * sum(x) - t\n")
    tracemalloc.start()
    try:
        with pytest.raises(graphlang.GraphlangError) as info:
            init_params(prog, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.kind == "limit" and (info.value.line, info.value.column) == (3, 7)
    assert "400,000,000 elements" in info.value.message
    assert peak < 50 << 20  # 3.2 GB of Glorot initialization before


def test_input_of_10_to_the_20_in_train_is_a_located_limit_error(tmp_path, cli):
    (tmp_path / "big.cg").write_text("input x[100000000000000000000]\ninput t\nparam w\nloss = sum(x) * w - t\n")
    (tmp_path / "d.csv").write_text("1,2\n")
    ran = cli("train", str(tmp_path / "big.cg"), "--data", str(tmp_path / "d.csv"))
    assert ran.code == 1 and "big.cg:1:7: limit error" in ran.err and "Traceback" not in ran.err


@pytest.mark.skipif(not os.path.exists("/dev/zero") or not hasattr(os, "mkfifo"), reason="POSIX devices")
def test_data_that_is_a_device_or_a_fifo_is_refused(tmp_path):
    (tmp_path / "net.cg").write_text(NET)
    os.mkfifo(tmp_path / "fifo.csv")  # nobody writes: reading it would block forever
    for data in ("/dev/zero", str(tmp_path / "fifo.csv")):
        ran = run("train", str(tmp_path / "net.cg"), "--data", data)
        assert ran.returncode == 2 and "not a regular file" in ran.stderr, ran.stderr
    ran = run("predict", str(tmp_path / "net.cg"), "--data", str(tmp_path / "fifo.csv"),
              "--params", str(tmp_path / "fifo.csv"))
    assert ran.returncode == 2 and "not a regular file" in ran.stderr


def test_one_endless_line_is_bounded(tmp_path):
    (tmp_path / "net.cg").write_text(NET)
    with open(tmp_path / "zeros.csv", "wb") as fh:  # /dev/zero as a regular file: 1 GB, no newline
        fh.truncate(1 << 30)
    ran = run("train", str(tmp_path / "net.cg"), "--data", str(tmp_path / "zeros.csv"), memory_gb=1)
    assert ran.returncode == 1 and "line 1 is longer than" in ran.stderr, ran.stderr


def test_a_field_over_the_csv_modules_limit_is_an_error_not_a_traceback(tmp_path):
    short = graphlang.parse(NET)
    wide = graphlang.parse("input x[3000]\ninput t\nparam w[3000]\nloss = (dot(w, x) - t)^2\n")
    path = tmp_path / "d.csv"
    path.write_text("1,2," + "1" * 140_000 + "\n")
    with pytest.raises(graphlang.GraphlangError) as info:
        load_csv(short, str(path))
    assert info.value.kind == "limit" and "line 1 is longer" in info.value.message
    path.write_text(",".join(["1"] * 3000) + ',"' + "1" * 140_000 + '"\n')  # a line wide enough: the field
    with pytest.raises(graphlang.GraphlangError) as info:
        load_csv(wide, str(path))
    assert info.value.kind == "value" and "line 1" in info.value.message


def test_bom_without_header_keeps_the_first_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbf1.5,2,1\n3,4,0\n")
    data = load_csv(graphlang.parse(NET), str(path))
    assert data.n == 2
    np.testing.assert_array_equal(data.columns["x"], [[1.5, 2], [3, 4]])
    np.testing.assert_array_equal(data.columns["t"], [1, 0])
    path.write_bytes(b"\xef\xbb\xbfx1,x2,t\n1.5,2,1\n")  # with a header: the header goes, one row stays
    assert load_csv(graphlang.parse(NET), str(path)).n == 1


def test_error_lines_are_physical_lines(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x1,x2,t\n1,2,1\n\n\n3,4,oops\n")
    with pytest.raises(graphlang.GraphlangError) as info:
        load_csv(graphlang.parse(NET), str(path))
    assert "line 5, column 3" in info.value.message


def test_seed_must_be_a_non_negative_integer(tmp_path, cli):
    prog = graphlang.parse(NET)
    for seed in (-1, 1.5, "3"):
        with pytest.raises(graphlang.GraphlangError) as info:
            init_params(prog, seed=seed)  # type: ignore[arg-type]
        assert info.value.kind == "usage"
    params = init_params(prog, seed=2**70)  # numpy takes big seeds
    with pytest.raises(graphlang.GraphlangError) as info:  # before any step
        Trainer(prog, params, seed=-1)
    assert info.value.kind == "usage"
    (tmp_path / "net.cg").write_text(NET)
    (tmp_path / "d.csv").write_text("1,2,1\n")
    ran = cli("train", str(tmp_path / "net.cg"), "--data", str(tmp_path / "d.csv"), "--seed", "-1")
    assert ran.code == 2 and "seed" in ran.err and "Traceback" not in ran.err


def test_the_bomb_is_a_valid_npz(tmp_path):
    """The helper really builds what numpy writes: numpy itself reads the claimed shape and zeros."""
    bomb(tmp_path / "small.npz", "W", (256, 512), 1 << 20)
    with np.load(tmp_path / "small.npz") as f:
        assert f["W"].shape == (256, 512) and not f["W"].any()


def test_regression_targets_get_no_accuracy_classes_or_confusion_matrix(tmp_path, cli):
    """`yhat = w * x` fitted to t = 2x printed "train accuracy 100.00%" and a confusion matrix that
    called 2.5 and 3 "class 1". Oracle for the loss: (yhat - t)² by hand at the saved w."""
    (tmp_path / "reg.cg").write_text("input x, t\nparam w\nyhat = w * x\nJ = (yhat - t)^2\n")
    (tmp_path / "reg.csv").write_text("x,t\n1,2\n2,4\n3,6\n10,20\n")
    (tmp_path / "new.csv").write_text("x,t\n1,2.5\n2,3\n")
    trained = cli("train", str(tmp_path / "reg.cg"), "--data", str(tmp_path / "reg.csv"), "--epochs", "200",
                  "--lr", "0.005", "--save", str(tmp_path / "r.npz"))
    assert trained.code == 0 and "accuracy" not in trained.out + trained.err, trained.out
    w = float(np.load(tmp_path / "r.npz")["w"])
    assert w == pytest.approx(2.0, abs=1e-6)
    ran = cli("predict", str(tmp_path / "reg.cg"), "--params", str(tmp_path / "r.npz"), "--data",
              str(tmp_path / "new.csv"), "--json")
    out = json.loads(ran.out)
    assert ran.code == 0 and out.get("accuracy") is None and "confusion" not in out
    assert out["loss"] == pytest.approx(((w - 2.5) ** 2 + (2 * w - 3) ** 2) / 2, rel=1e-9)
    text = cli("predict", str(tmp_path / "reg.cg"), "--params", str(tmp_path / "r.npz"), "--data",
               str(tmp_path / "new.csv")).out
    assert "class" not in text and "Confusion" not in text and "accuracy" not in text


@pytest.mark.parametrize("cell", ["1_0", "\u0661\u0662", "\uff11"])
def test_a_csv_cell_is_a_number_as_at_reads_one(tmp_path, cell):
    """Python's float() reads 1_0 as 10 and Arabic-Indic or fullwidth digits as numbers; `--at`
    refuses them, and so does a CSV now (an untrusted-input red team's find)."""
    prog = graphlang.parse("input x, t\nparam w\nJ = (w * x - t)^2\n")
    (tmp_path / "d.csv").write_text(f"x,t\n{cell},1\n", encoding="utf-8")
    with pytest.raises(graphlang.GraphlangError) as info:
        load_csv(prog, str(tmp_path / "d.csv"))
    assert "is not a number" in info.value.message


def test_a_layer_without_a_loss_is_told_before_training_and_its_extra_column_is_not_a_class(cli, tmp_path):
    """A student's find: a single layer z = sigmoid(A.T @ x + b) (no loss) stopped "at epoch 1, step 1"
    (nothing had trained), and a fourth CSV column was offered as x "1 (class index)", the features
    read as a label."""
    (tmp_path / "l.cg").write_text("input x[3]\nparam A[3, 2], b[2]\nz = sigmoid(A.T @ x + b)\n")
    (tmp_path / "d3.csv").write_text("x0,x1,x2\n0.4,1.2,1.0\n-0.4,2.6,0.03\n")
    (tmp_path / "d4.csv").write_text("x0,x1,x2,t\n0.4,1.2,1.0,1\n-0.4,2.6,0.03,0\n")
    ran = cli("train", str(tmp_path / "l.cg"), "--data", str(tmp_path / "d3.csv"))
    assert ran.code == 1 and "must be a scalar" in ran.err and "epoch" not in ran.err, ran.err
    assert "training minimizes a scalar loss" in ran.err
    ran = cli("train", str(tmp_path / "l.cg"), "--data", str(tmp_path / "d4.csv"))
    assert "4 columns, expected 3 (x: 3)" in ran.err and "class index" not in ran.err, ran.err
    assert "a label column needs an input of its own" in ran.err


def test_the_loss_plot_ticks_whole_epochs(monkeypatch):
    """A student's find: three epochs were ticked 1.00, 1.25, 1.50, …"""
    import matplotlib
    matplotlib.use("Agg")
    from types import SimpleNamespace

    from graphlang.present import plots
    closed = []
    real = plots.pyplot()
    monkeypatch.setattr(real, "close", lambda fig: closed.append(fig))
    monkeypatch.setattr(plots, "write_with", lambda path, write: None)
    plots.loss_plot([SimpleNamespace(epoch=e, train_loss=1 / e, val_loss=None) for e in (1, 2, 3)], "x.png")
    ticks = closed[0].axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks), ticks


def test_a_prediction_typed_below_the_loss_is_named_as_the_slip(cli, tmp_path):
    """A red team's find: `yhat = softmax(u)` below J, no output line: train said the loss must be a
    scalar and hinted at sums and dot products; the loss is there (J), only not the output."""
    (tmp_path / "s.cg").write_text("input x[3], t[2]\nparam W[3, 2], b[2]\nu = W.T @ x + b\n"
                                   "J = -sum(t * logsoftmax(u))\nyhat = softmax(u)\n")
    (tmp_path / "d.csv").write_text("x0,x1,x2,t\n0.4,1.2,1.0,1\n-0.4,2.6,0.03,0\n")
    ran = cli("train", str(tmp_path / "s.cg"), "--data", str(tmp_path / "d.csv"))
    assert ran.code == 1 and "must be a scalar" in ran.err and "`output J` makes the scalar J the loss" in ran.err
    fixed = tmp_path / "s.cg"
    fixed.write_text(fixed.read_text() + "output J\n")
    assert cli("train", str(fixed), "--data", str(tmp_path / "d.csv"), "--epochs", "1").code == 0


def test_a_parameters_file_of_another_program_names_what_it_holds(tmp_path, cli):
    """A student's find: `predict --params` with another program's file said "no initial value for
    the parameter(s) w, b", naming neither the file nor what it holds (nor is it initial there)."""
    np.savez(tmp_path / "other.npz", W=np.ones((2, 2)), c=np.zeros(2))
    (tmp_path / "net.cg").write_text(NET)
    (tmp_path / "d.csv").write_text("1,2,1\n")
    prog = graphlang.parse(NET)
    with pytest.raises(graphlang.GraphlangError) as info:
        load_params(str(tmp_path / "other.npz"), prog)
    missing = [n for n in prog.params if n not in ("W", "c")]
    assert info.value.message.startswith(f"{tmp_path / 'other.npz'} holds no {', '.join(missing)}: its arrays are W, c")
    ran = cli("predict", str(tmp_path / "net.cg"), "--data", str(tmp_path / "d.csv"), "--params",
              str(tmp_path / "other.npz"))
    assert ran.code == 1 and "its arrays are W, c" in ran.err and "initial" not in ran.err
