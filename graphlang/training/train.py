"""SGD as in the lecture: shuffle, the gradient of J⁽ⁱ⁾ by backprop, update every parameter.

The program is written for one example; its `input`s take their values from CSV columns (in
declaration order, each input taking as many columns as it has elements; a last input of shape
[C] may instead take one integer column, the class, which becomes one-hot) and its `param`s are
trained. The output is the loss. Mini-batches are evaluated in one batched pass.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphlang.engines import interpreter as interp
from graphlang.engines.vmap import Batch
from graphlang.errors import GraphlangError
from graphlang.files import write_with
from graphlang.program import Program

PREDICTION_NAMES = ("yhat", "y_hat", "p", "prediction")


@dataclass
class Dataset:
    columns: dict[str, np.ndarray]  # input name -> (N, *shape)
    n: int
    labels: np.ndarray | None = None  # class indices, when the label was one column


def data_inputs(program: Program) -> list[str]:
    return [n for n in program.inputs if n not in program.graph.params]


def load_csv(program: Program, path: str, max_rows: int = 2_000_000) -> Dataset:
    """Read and validate a CSV against the program's declared inputs."""
    names = data_inputs(program)
    declared = program.checked.declared
    shapes = []
    for n in names:
        if n not in declared:
            raise GraphlangError("shape", f"the input {n!r} needs a declaration with its shape, "
                                 f"e.g. `input {n}[4]`, to read it from a CSV")
        shapes.append(declared[n] or ())
    sizes = [int(np.prod(s)) if s else 1 for s in shapes]
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except OSError as err:
        raise GraphlangError("io", f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise GraphlangError("value", f"{path} is not UTF-8 text") from None
    if len(rows) > max_rows:
        raise GraphlangError("limit", f"{path} has more than {max_rows:,} rows")
    start = 1 if rows and any(not _is_number(c) for c in rows[0]) else 0
    body = [r for r in rows[start:] if r and any(c.strip() for c in r)]
    if not body:
        raise GraphlangError("value", f"{path} has no data rows")
    want = sum(sizes)
    one_hot = len(shapes[-1]) == 1 and shapes[-1][0] > 1 and len(body[0]) == want - sizes[-1] + 1
    ncols = want - sizes[-1] + 1 if one_hot else want
    data = np.empty((len(body), ncols))
    for i, row in enumerate(body):
        if len(row) != ncols:
            raise GraphlangError("value", f"{path} line {i + 1 + start}: {len(row)} columns, expected "
                                 f"{ncols} ({_layout(names, sizes, one_hot)})")
        for j, cell in enumerate(row):
            try:
                data[i, j] = float(cell)
            except ValueError:
                raise GraphlangError("value", f"{path} line {i + 1 + start}, column {j + 1}: "
                                     f"{cell[:20]!r} is not a number") from None
    if not np.all(np.isfinite(data)):
        raise GraphlangError("value", f"{path} holds NaN or infinite values")
    columns: dict[str, np.ndarray] = {}
    at = 0
    labels = None
    for k, (n, s, size) in enumerate(zip(names, shapes, sizes)):
        if one_hot and k == len(names) - 1:
            raw = data[:, at]
            classes = s[0]
            bad = (raw != np.round(raw)) | (raw < 0) | (raw >= classes)
            if np.any(bad):
                i = int(np.argmax(bad))
                raise GraphlangError("value", f"{path} line {i + 1 + start}: the label {raw[i]:g} is "
                                     f"not a class 0..{classes - 1}")
            labels = raw.astype(int)
            columns[n] = np.eye(classes)[labels]
        else:
            columns[n] = data[:, at : at + size].reshape((len(body), *s))
            at += size
    return Dataset(columns, len(body), labels)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _layout(names: list[str], sizes: list[int], one_hot: bool) -> str:
    parts = [f"{n}: {s}" for n, s in zip(names, sizes)]
    if one_hot:
        parts[-1] = f"{names[-1]}: 1 (class index)"
    return ", ".join(parts)


def init_params(program: Program, seed: int) -> dict[str, np.ndarray]:
    """Glorot/Xavier uniform for matrices, small uniform for vectors used as weights, zeros for biases."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in program.params:
        shape = program.checked.declared.get(name) or ()
        if len(shape) >= 2:
            limit = np.sqrt(6.0 / (shape[0] + shape[-1]))
            out[name] = rng.uniform(-limit, limit, size=shape)
        elif len(shape) == 1 and not name.startswith("b"):
            limit = np.sqrt(6.0 / (shape[0] + 1))
            out[name] = rng.uniform(-limit, limit, size=shape)
        else:
            out[name] = np.zeros(shape)
    return out


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    train_accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None


@dataclass
class Trainer:
    """One program, its parameters, and SGD over a dataset."""

    program: Program
    params: dict[str, np.ndarray]
    lr: float = 0.1
    batch: int = 1
    l2: float = 0.0
    seed: int = 0
    history: list[EpochStats] = field(default_factory=list)

    def __post_init__(self) -> None:
        g = self.program.graph
        if not self.program.params:
            raise GraphlangError("usage", "the program declares no `param` to train",
                                 hint="declare the weights: param W[4, 3], b[3]")
        missing = [n for n in self.program.params if n not in self.params]
        if missing:
            raise GraphlangError("value", f"no initial value for the parameter(s) {', '.join(missing)}")
        for n in self.program.params:
            want = self.program.checked.declared.get(n) or ()
            self.params[n] = np.array(self.params[n], dtype=np.float64)
            if self.params[n].shape != want:
                raise GraphlangError("shape", f"the parameter {n!r} has shape {list(self.params[n].shape)}"
                                     f", declared {list(want)}")
        self.out = g.slot_of[g.outputs[0]]
        self.live = [False] * g.n_slots
        for k, n in enumerate(g.inputs):
            self.live[k] = n in g.params
        for eq in g.eqns:
            self.live[eq.out] = any(self.live[i] for i in eq.ins)
        self.pred = next((n for n in PREDICTION_NAMES if n in g.slot_of), None)
        self._shapes: list[Any] | None = None
        self._plans: dict[bool, Any] = {}

    def _arrays(self, data: Dataset, idx: np.ndarray | int) -> list[Any]:
        g = self.program.graph
        batched = not isinstance(idx, (int, np.integer))
        return [self.params[n] if n in g.params else
                (Batch(data.columns[n][idx]) if batched else data.columns[n][idx]) for n in g.inputs]

    def shapes(self, data: Dataset) -> list[Any]:
        if self._shapes is None:
            first = {n: (self.params[n] if n in self.params else data.columns[n][0])
                     for n in self.program.inputs}
            self._shapes = self.program.bind(first)[1]
            if self._shapes[self.out] != ():
                raise GraphlangError("shape", "the program's output (the loss) must be a scalar")
            g = self.program.graph
            cost = g.costs.get(tuple(self._shapes[: len(g.inputs)]), 0) * max(self.batch, 1)
            if cost > self.program.limits.max_cost:
                raise GraphlangError("limit", f"one step of {self.batch} examples is predicted to cost "
                                     f"{cost:,} operations; the budget is {self.program.limits.max_cost:,}",
                                     hint="use a smaller --batch or raise the cost limit")
        return self._shapes

    def _plan(self, shapes: list[Any], batched: bool) -> Any:
        """The compiled step (gradient of the loss in the parameters only), made once."""
        if batched not in self._plans:
            from graphlang.engines.plan import Plan
            g = self.program.graph
            params = [k for k, n in enumerate(g.inputs) if n in g.params]
            data = [k for k, n in enumerate(g.inputs) if n not in g.params]
            try:
                self._plans[batched] = Plan(g, shapes, wrt=params, batch=data if batched else None)
            except Exception:  # noqa: BLE001 - compiling is an optimization: interpret instead
                self._plans[batched] = None
        return self._plans[batched]

    def _gradients(self, arrays: list[Any], shapes: list[Any], seed: Any, batched: bool
                   ) -> tuple[Any, dict[str, Any]]:
        """Loss and parameter gradients: compiled code, or the interpreter (which locates errors)."""
        g = self.program.graph
        plan = self._plan(shapes, batched)
        if plan is not None:
            try:
                with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                    loss, grads, _ = plan._fn(*arrays, *([seed] if batched else []))
                names = [n for n in g.inputs if n in g.params]
                return loss, dict(zip(names, grads))
            except (ArithmeticError, ValueError, FloatingPointError):
                pass
        vals = interp.forward(g, arrays, batched=batched)
        adj = interp.reverse(g, shapes, vals, {self.out: seed}, self.live, batched=batched)
        return vals[self.out], {n: adj[g.slot_of[n]] for n in self.program.params}

    def step(self, data: Dataset, idx: np.ndarray | int) -> float:
        """One SGD update on the examples `idx`; returns their mean loss."""
        shapes = self.shapes(data)
        batched = not isinstance(idx, (int, np.integer))
        arrays = self._arrays(data, idx)
        n = len(idx) if batched else 1  # type: ignore[arg-type]
        seed = Batch(np.full(n, 1.0 / n)) if batched else np.float64(1.0)
        loss, grads = self._gradients(arrays, shapes, seed, batched)
        for name in self.program.params:
            grad = grads[name]
            if grad is None:
                continue
            p = self.params[name]
            try:
                with np.errstate(over="raise", invalid="raise", under="ignore"):
                    if self.l2 and p.ndim >= 2:
                        grad = grad + self.l2 * p
                    p -= self.lr * np.asarray(grad)
            except FloatingPointError:
                line, column = self.program._positions.get(name, (None, None))
                raise GraphlangError("domain", f"the update of the parameter {name} overflows float64",
                                     line, column) from None
        return float(np.mean(loss.v)) if isinstance(loss, Batch) else float(loss)

    def evaluate(self, data: Dataset) -> tuple[float, float | None]:
        """Mean loss and accuracy over a dataset, in one batched forward pass."""
        g = self.program.graph
        self.shapes(data)
        vals = interp.forward(g, self._arrays(data, np.arange(data.n)), batched=True)
        loss = float(np.mean(vals[self.out].v))
        acc = None
        if self.pred is not None:
            pred = vals[g.slot_of[self.pred]]
            p = pred.v if isinstance(pred, Batch) else np.broadcast_to(pred, (data.n,))
            label_name = data_inputs(self.program)[-1]
            t = data.columns[label_name]
            if p.ndim == 1 and t.ndim == 1:
                acc = float(np.mean((p > 0.5) == (t > 0.5)))
            elif p.ndim == 2 and t.ndim == 2:
                acc = float(np.mean(np.argmax(p, axis=1) == np.argmax(t, axis=1)))
        return loss, acc

    def predictions(self, data: Dataset) -> np.ndarray:
        """The prediction node's value for every example (forward propagation only)."""
        g = self.program.graph
        self.shapes(data)
        vals = interp.forward(g, self._arrays(data, np.arange(data.n)), batched=True)
        pred = vals[g.slot_of[self.pred]]  # type: ignore[index]
        return pred.v if isinstance(pred, Batch) else np.broadcast_to(pred, (data.n, *np.shape(pred)))

    def epoch(self, data: Dataset, rng: np.random.Generator, epoch: int,
              on_step: Callable[[], None] | None = None) -> float:
        order = rng.permutation(data.n)
        total = 0.0
        steps = 0
        for start in range(0, data.n, self.batch):
            idx = order[start : start + self.batch]
            try:
                loss = self.step(data, idx if self.batch > 1 else int(idx[0]))
            except GraphlangError as err:
                raise GraphlangError(err.kind, f"training stopped at epoch {epoch}, step {steps + 1}: "
                                     f"{err.message}", err.line, err.column,
                                     "the loss diverged: lower the learning rate (--lr)") from None
            if not np.isfinite(loss):
                raise GraphlangError("domain", f"the loss is not finite at epoch {epoch}, step {steps + 1}",
                                     hint="lower the learning rate (--lr)")
            total += loss * len(idx)
            steps += 1
            if on_step:
                on_step()
        return total / data.n

    def fit(self, train: Dataset, epochs: int, val: Dataset | None = None,
            on_epoch: Callable[[EpochStats], None] | None = None,
            on_step: Callable[[], None] | None = None) -> list[EpochStats]:
        from graphlang.training.heap import keep_heap
        keep_heap()
        rng = np.random.default_rng(self.seed)
        for e in range(1, epochs + 1):
            self.epoch(train, rng, e, on_step)
            loss, acc = self.evaluate(train)
            stats = EpochStats(e, loss, acc)
            if val is not None:
                stats.val_loss, stats.val_accuracy = self.evaluate(val)
            self.history.append(stats)
            if on_epoch:
                on_epoch(stats)
        return self.history


def save_params(params: dict[str, np.ndarray], path: str) -> None:
    """Exactly `path` (np.savez given a name would add .npz), written atomically."""
    write_with(path, lambda fh: np.savez(fh, **params))  # type: ignore[arg-type]


def load_params(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: np.array(f[k], dtype=np.float64) for k in f.files}
    except (OSError, ValueError) as err:
        raise GraphlangError("io", f"cannot read parameters from {path}: {err}") from None
