"""SGD as in the lecture: shuffle, the gradient of J⁽ⁱ⁾ by backprop, update every parameter.

The program is written for one example; its `input`s take their values from CSV columns (in
declaration order, each input taking as many columns as it has elements; a last input of shape
[C] may instead take one integer column, the class, which becomes one-hot) and its `param`s are
trained. The output is the loss. Mini-batches are evaluated in one batched pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphlang.engines import interpreter as interp
from graphlang.engines.fastpath import compile_refused
from graphlang.errors import GraphlangError
from graphlang.ir.lint import dead_ends
from graphlang.numbers import strict_floats
from graphlang.primitives.vmap import Batch
from graphlang.program import Program
from graphlang.training import classes
from graphlang.training.data import Dataset, data_inputs
from graphlang.training.params import biases, init_params, prediction_program, require_params, rng_from
from graphlang.training.step import Step

__all__ = ["Dataset", "EpochStats", "Trainer", "data_inputs", "init_params"]

PREDICTION_NAMES = ("yhat", "y_hat", "p", "prediction")
BLOCK = 65_536  # examples in one batched evaluation at most (fewer where the cost budget says so)


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
        if not isinstance(self.params, Mapping):
            raise GraphlangError("usage", f"the parameters must map names to arrays, got {type(self.params).__name__}",
                                 hint="init_params(program, seed=0) makes them")
        g = self.program.graph
        rng_from(self.seed)
        for what, v, low in (("lr", self.lr, 0.0), ("l2", self.l2, -1.0)):  # lr > 0, l2 ≥ 0, finite
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not low < v < float("inf") or (what == "l2" and v < 0):
                raise GraphlangError("usage", f"--{what} must be a finite number "
                                     f"{'> 0' if what == 'lr' else '≥ 0'}, got {v!r}"[:120])
        if isinstance(self.batch, bool) or not isinstance(self.batch, (int, np.integer)) or self.batch < 1:
            raise GraphlangError("usage", f"the batch size must be an integer ≥ 1, got {self.batch!r}"[:120])
        require_params(self.program)
        self.params = dict(self.params)  # (the caller's dict keeps its values: "before" stays before)
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
        self.live = g.reached_from(k for k, n in enumerate(g.inputs) if n in g.params)
        self.pred = next((n for n in PREDICTION_NAMES if n in g.slot_of), None)
        self._shapes: list[Any] | None = None
        self._plans: dict[bool, Step | None] = {}
        self._names = [n for n in g.inputs if n in g.params]  # the compiled step's gradient order
        self.decayed = frozenset(self._names) - biases(self.program)  # --l2: the weights, not biases
        self._feed = [(n, n in g.params) for n in g.inputs]
        self.stop = False  # set (e.g. by Ctrl-C): the epoch ends after the current step
        self.steps_left: int | None = None  # updates still to make (`--steps N`), None: whole epochs
        self.last_loss = float("nan")  # the mean loss of the last step (for a progress bar)
        self.updates = 0  # steps made: before the first, a failure is the data's or the initial values'
        self.early: tuple[int, int] | None = None  # (the epoch it stopped after, the best epoch) when early

    def _arrays(self, data: Dataset, idx: np.ndarray | int) -> list[Any]:
        P, cols = self.params, data.columns
        if isinstance(idx, (int, np.integer)):
            return [P[n] if param else cols[n][idx] for n, param in self._feed]
        return [P[n] if param else Batch(cols[n][idx]) for n, param in self._feed]

    def shapes(self, data: Dataset) -> list[Any]:
        if self._shapes is None:
            first = {n: (self.params[n] if n in self.params else data.columns[n][0])
                     for n in self.program.inputs}
            self._shapes = self.program.bind(first)[1]
            g = self.program.graph
            if len(g.outputs) != 1:  # `output extra, loss` minimized `extra`
                line, column = g.checked.output_pos or (None, None)
                raise GraphlangError("shape", f"the loss is one output; the program names {len(g.outputs)} "
                                     f"({', '.join(g.outputs)})", line, column, "write `output loss`")
            if self._shapes[self.out] != ():  # checked before any step: no "diverged" hint
                st = next((s for s in g.statements if s.name == g.outputs[0]), None)  # (None: an input)
                # `p = softmax(u)` below the loss, no output line: the loss is there, the last line is not it
                loss = next((n for n in reversed(dead_ends(g)) if self._shapes[g.slot_of[n]] == ()), None) \
                    if g.checked.output_pos is None else None
                raise GraphlangError("shape", f"the output {g.outputs[0]} (the loss) must be a scalar, not of shape "
                                     f"{list(self._shapes[self.out])}", getattr(st, "line", None),
                                     getattr(st, "column", None),
                                     f"the output is the last assigned name, {g.outputs[0]}; `output {loss}` makes "
                                     f"the scalar {loss} the loss" if loss else
                                     "training minimizes a scalar loss: a sum, J = 0.5 * sum((z - t) ^ 2) with "
                                     "the label t an input, or a dot product (beta @ z + b, not beta * z)")
            cost = g.costs.get(tuple(self._shapes[: len(g.inputs)]), 0) * max(self.batch, 1)
            if cost > self.program.limits.max_cost:
                raise GraphlangError("limit", f"one step of {self.batch} examples is predicted to cost "
                                     f"{cost:,} operations; the budget is {self.program.limits.max_cost:,}",
                                     hint="use a smaller --batch or raise the cost limit")
        return self._shapes

    def _plan(self, shapes: list[Any], batched: bool) -> Step | None:
        """The compiled step (the loss's gradient in the parameters only, times the seed), made once."""
        if batched not in self._plans:
            g = self.program.graph
            params = [k for k, n in enumerate(g.inputs) if n in g.params]
            data = [k for k, n in enumerate(g.inputs) if n not in g.params]
            try:
                self._plans[batched] = Step(g, shapes, params, data, batched)
            except Exception as err:  # noqa: BLE001 - compiling is an optimization: interpret instead
                compile_refused(err)
                self._plans[batched] = None
        return self._plans[batched]

    def compile(self, data: Dataset) -> None:
        """Build the compiled step for this data now (else the first step builds it)."""
        self._plan(self.shapes(data), self.batch > 1)

    def _gradients(self, arrays: list[Any], shapes: list[Any], n: int, batched: bool
                   ) -> tuple[Any, dict[str, Any], float]:
        """Loss, the parameters' gradients (of the mean loss over the n examples) and the factor to
        the update: the compiled step (or, nothing compiled, the interpreter: the same bits) seeded
        with lr gives lr·∇ (factor 1; a step's arrays may be its buffers: use them before the next);
        where that fails, ∇ itself (factor lr), so that an update that overflows is said to."""
        g = self.program.graph
        plan = self._plan(shapes, batched)
        lr_seed = Batch(np.full(n, self.lr / n)) if batched else np.float64(self.lr)
        if plan is not None:
            try:
                with strict_floats():
                    loss, grads = plan(arrays, lr_seed)
                return loss, dict(zip(self._names, grads)), 1.0
            except (ArithmeticError, ValueError, TypeError):
                pass
        vals = interp.forward(g, arrays, batched=batched)
        if plan is None:
            try:  # (an lr·∇ past float64 is said below, as the update's overflow)
                adj = interp.reverse(g, shapes, vals, {self.out: lr_seed}, self.live, batched=batched)
                return vals[self.out], {n: adj[g.slot_of[n]] for n in self.program.params}, 1.0
            except GraphlangError:
                pass
        seed = Batch(np.full(n, 1.0 / n)) if batched else np.float64(1.0)
        adj = interp.reverse(g, shapes, vals, {self.out: seed}, self.live, batched=batched)
        return vals[self.out], {n: adj[g.slot_of[n]] for n in self.program.params}, self.lr

    def step(self, data: Dataset, idx: np.ndarray | int) -> float:
        """One SGD update on the examples `idx`; returns their mean loss.

        Reverse mode seeded with lr (lr/B per example of a batch) gives lr·∇ itself, subtracted in
        place: no temporary of a parameter's size, whatever the allocator does."""
        shapes = self.shapes(data)
        batched = not isinstance(idx, (int, np.integer))
        arrays = self._arrays(data, idx)
        loss, grads, factor = self._gradients(arrays, shapes, len(idx) if batched else 1,  # type: ignore[arg-type]
                                              batched)
        mean = float(loss.v.mean()) if isinstance(loss, Batch) else float(np.mean(loss))  # (before the update: J = w
        with np.errstate(over="raise", invalid="raise", under="ignore"):  # is w's own array, updated in place)
            for name in self._names:
                grad = grads[name]
                if grad is None:
                    continue
                p = self.params[name]
                try:
                    if factor != 1.0:
                        grad = factor * np.asarray(grad)
                    if self.l2 and name in self.decayed:
                        p *= 1.0 - self.lr * self.l2  # p - lr·(∇ + l2·p)
                    np.subtract(p, grad, out=p)
                except FloatingPointError:
                    line, column = self.program._positions.get(name, (None, None))
                    raise GraphlangError("domain", f"the update of the parameter {name} overflows "
                                         "float64", line, column) from None
        return mean

    def evaluate(self, data: Dataset) -> tuple[float, float | None]:
        """Mean loss and accuracy over a dataset, in batched forward passes within the cost budget."""
        g = self.program.graph
        total, preds = 0.0, []
        for idx in self._blocks(data.n, g.pass_cost(tuple(self.shapes(data)[: len(g.inputs)]))):
            vals = interp.forward(g, self._arrays(data, idx), batched=True)
            loss = vals[self.out]  # (a loss that reads no data, (w − 1)²: one number for every example)
            total += float(np.sum(loss.v)) if isinstance(loss, Batch) else float(loss) * len(idx)
            if self.pred is not None:
                pred = vals[g.slot_of[self.pred]]
                preds.append(pred.v if isinstance(pred, Batch) else np.broadcast_to(pred, (len(idx), *np.shape(pred))))
        acc = None
        if self.pred is not None:
            t = data.columns[data_inputs(self.program)[-1]]
            acc = classes.accuracy(np.concatenate(preds), t, classes.threshold(g, self.pred))  # (None: regression)
        return total / data.n, acc

    def _blocks(self, n: int, one: tuple[int, int]) -> Iterator[np.ndarray]:
        """The n examples' indices in blocks whose batched pass (`one`: an example's operations and
        numbers held) keeps within the cost and memory budgets (one pass over every row of a 48 KB
        CSV held a 60,000,000-number array: a red team's find)."""
        limits = self.program.limits
        size = max(1, min(n, limits.max_cost // max(one[0], 1), limits.max_memory // (8 * max(one[1], 1)), BLOCK))
        return (np.arange(k, min(k + size, n)) for k in range(0, n, size))

    def _evaluate_at(self, data: Dataset, when: str) -> tuple[float, float | None]:
        try:
            return self.evaluate(data)
        except GraphlangError as err:
            raise self.stopped(err, data, np.arange(data.n), when, gradient=False) from None

    def _one_example(self, data: Dataset, i: int, gradient: bool) -> None:
        """Example i alone through the interpreter (raises its located error, if it has one)."""
        g = self.program.graph
        shapes = self.shapes(data)
        vals = interp.forward(g, self._arrays(data, i))
        if gradient:
            interp.reverse(g, shapes, vals, {self.out: np.float64(1.0)}, self.live)

    def stopped(self, err: GraphlangError, data: Dataset, idx: np.ndarray | int, when: str,
                gradient: bool = True) -> GraphlangError:
        """The error of a step (or an evaluation) located at the example that caused it: the
        statement, and the example's index in the data (a batch is rerun one example at a time)."""
        indices = [int(idx)] if isinstance(idx, (int, np.integer)) else [int(i) for i in idx]
        where = ""
        if err.kind == "domain":
            for i in indices:
                try:
                    self._one_example(data, i, gradient)
                except GraphlangError as one:
                    err, where = one, f", on example {i + 1} of the data" + (
                        f" ({data.where[0]} line {data.where[1][i]})" if data.where else "")
                    break
        hint = "the loss diverged: lower the learning rate (--lr)" if err.kind == "domain" else err.hint
        if err.kind == "domain" and self.updates == 0:  # (no step has been made: the learning rate has not acted)
            hint = ("no update has been made yet: the data's values or the initial parameters are too large "
                    "for this computation; scale the data's columns, or start from other values (--init)")
        if err.kind == "domain" and "saturated" in err.message and err.hint:  # the interpreter found why
            hint = f"{err.hint}; or lower the learning rate (--lr)" if self.updates else err.hint
        return GraphlangError(err.kind, f"training stopped at {when}{where}: {err.message}",
                              err.line, err.column, hint)

    def predictions(self, data: Dataset) -> np.ndarray:
        """The prediction node's value for every example: forward propagation of only the statements
        it reads (so unlabeled data, without the loss's targets, predicts too)."""
        assert self.pred is not None
        pg = prediction_program(self.program, self.pred)
        first = {n: self.params[n] if n in pg.graph.params else data.columns[n][0] for n in pg.graph.inputs}
        out = []
        for idx in self._blocks(data.n, pg.graph.pass_cost(tuple(pg.bind(first)[1][: len(pg.graph.inputs)]))):
            arrays = [self.params[n] if n in pg.graph.params else Batch(data.columns[n][idx]) for n in pg.graph.inputs]
            pred = interp.forward(pg.graph, arrays, batched=True)[pg.graph.slot_of[self.pred]]
            out.append(pred.v if isinstance(pred, Batch) else np.broadcast_to(pred, (len(idx), *np.shape(pred))))
        return np.concatenate(out)

    def epoch(self, data: Dataset, rng: np.random.Generator, epoch: int,
              on_step: Callable[[], None] | None = None) -> float:
        order = rng.permutation(_dataset(data).n)
        total = 0.0
        steps = 0
        for start in range(0, data.n, self.batch):
            idx = order[start : start + self.batch]
            try:
                loss = self.step(data, idx if self.batch > 1 else int(idx[0]))
            except GraphlangError as err:
                raise self.stopped(err, data, idx, f"epoch {epoch}, step {steps + 1}") from None
            if not math.isfinite(loss):
                raise GraphlangError("domain", f"the loss is not finite at epoch {epoch}, step {steps + 1}",
                                     hint="lower the learning rate (--lr)")
            total += loss * len(idx)
            steps += 1
            self.updates += 1
            self.last_loss = loss
            if on_step:
                on_step()
            if self.stop or (self.steps_left is not None and self.steps_left - steps <= 0):
                break
        if self.steps_left is not None:
            self.steps_left -= steps
        return total / data.n

    def fit(self, train: Dataset, epochs: int, val: Dataset | None = None,
            on_epoch: Callable[[EpochStats], None] | None = None,
            on_step: Callable[[], None] | None = None, patience: int | None = None) -> list[EpochStats]:
        """SGD for `epochs` epochs. `stop` set during an epoch keeps the finished epochs (and their
        parameters); `patience`: stop when the validation loss has not improved for that many
        epochs, keeping the best epoch's parameters."""
        _dataset(train)
        if val is not None:
            _dataset(val)
        self.shapes(train)  # (a loss that is no scalar: said before training, not "stopped at epoch 1, step 1")
        for data in (train, val) if val is not None else (train,):  # (t = 2 for a logistic loss)
            classes.check_binary_labels(self.program.graph, self.pred, data, data_inputs(self.program)[-1])
        rng = rng_from(self.seed)
        kept = {k: v.copy() for k, v in self.params.items()}
        best: tuple[float, int, dict[str, np.ndarray]] | None = None
        for e in range(1, epochs + 1):
            if self.steps_left is not None and self.steps_left <= 0:  # `--steps N` done: the epoch cut short
                break
            self.epoch(train, rng, e, on_step)
            if self.stop:  # interrupted: the parameters of the last finished epoch
                self.params.update(kept)
                break
            loss, acc = self._evaluate_at(train, f"epoch {e}, evaluating the training loss")
            stats = EpochStats(e, loss, acc)
            if val is not None:
                stats.val_loss, stats.val_accuracy = self._evaluate_at(
                    val, f"epoch {e}, evaluating the validation loss")
            self.history.append(stats)
            kept = {k: v.copy() for k, v in self.params.items()}
            if on_epoch:
                on_epoch(stats)
            if patience is not None and stats.val_loss is not None:
                if best is None or stats.val_loss < best[0]:
                    best = (stats.val_loss, e, kept)
                elif e - best[1] >= patience:
                    self.params.update(best[2])
                    self.early = (e, best[1])
                    break
        return self.history


def _dataset(data: Any) -> Dataset:
    """The data to train on, or a usage error (None, a path, an array: a caller's slip)."""
    if not isinstance(data, Dataset):
        raise GraphlangError("usage", f"the data must be a Dataset, got {type(data).__name__}",
                             hint="load_csv(program, 'train.csv') reads one")
    return data
