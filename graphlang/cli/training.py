"""SGD on a program's params: train, predict."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from graphlang.cli.options import (
    ExitCode,
    JsonOpt,
    LimitOpt,
    ProgramArg,
    Session,
    StrictOpt,
    guarded,
)
from graphlang.errors import GraphlangError
from graphlang.files import check_target, write_text
from graphlang.present import jsonout, plots
from graphlang.present import tables as render


def train(program: ProgramArg,
          data: Annotated[str, typer.Option("--data", help="training CSV (columns -> inputs, in order)")],
          val: Annotated[str | None, typer.Option("--val", help="validation CSV")] = None,
          epochs: Annotated[int, typer.Option("--epochs", min=1, max=100_000)] = 10,
          lr: Annotated[float, typer.Option("--lr", help="learning rate γ")] = 0.1,
          batch: Annotated[int, typer.Option("--batch", min=1, help="mini-batch size (1: the lecture's SGD)")] = 1,
          l2: Annotated[float, typer.Option("--l2", help="L2 regularization λ on every weight (a param used "
                                            "other than as an addend: not a bias)")] = 0.0,
          seed: Annotated[int, typer.Option("--seed", help="shuffling and initialization seed")] = 0,
          init: Annotated[str | None, typer.Option("--init", help="initial parameters (.npz)")] = None,
          save: Annotated[str | None, typer.Option("--save", help="write the trained parameters (.npz)")] = None,
          plot: Annotated[str | None, typer.Option("--plot", help="loss curves as PNG (matplotlib)")] = None,
          max_steps: Annotated[int | None, typer.Option(
              "--steps", min=1, metavar="N", help="stop after N updates (--steps 1: one SGD step)")] = None,
          early_stopping: Annotated[int | None, typer.Option(
              "--early-stopping", min=1, metavar="EPOCHS",
              help="stop when the validation loss has not improved for this many epochs (keeps the best)")] = None,
          as_json: JsonOpt = False, strict: StrictOpt = False,
          limit: LimitOpt = []) -> None:  # noqa: B006
    """Train the program's `param`s by SGD on a CSV dataset (the output is the loss)."""
    from rich.progress import Progress, TextColumn

    from graphlang import training as tr
    from graphlang.training.classes import is_classification
    from graphlang.training.params import require_params

    s = Session(program, as_json)

    def body() -> None:
        if not (lr > 0 and lr == lr and lr < float("inf")):
            raise GraphlangError("usage", "--lr must be a positive number")
        tr.rng_from(seed)  # a usage error for a bad seed, before any work
        for target in (save, plot):
            if target:
                check_target(target)
        if early_stopping is not None and not val:
            raise GraphlangError("usage", "--early-stopping watches the validation loss: give --val too")
        prog = s.load(strict, limit)
        require_params(prog)  # (before the data's checks: the first thing to fix)
        train_set = tr.load_csv(prog, data)
        val_set = tr.load_csv(prog, val) if val else None
        params = tr.load_params(init, prog) if init else tr.init_params(prog, seed)
        trainer = tr.Trainer(prog, params, lr=lr, batch=batch, l2=l2, seed=seed)
        trainer.steps_left = max_steps
        labels = train_set.columns[tr.data.data_inputs(prog)[-1]]  # 0/1 or one-hot: a classifier's accuracy
        per = -(-train_set.n // batch)  # updates in an epoch
        notes = ((f"the losses are the output {prog.outputs[0]} without the L2 term λ/2·‖w‖² of the weights "
                  f"{', '.join(sorted(trainer.decayed))}",) if l2 and trainer.decayed else ()) + (
            (f"--steps {max_steps}: {max_steps} update{'s' * (max_steps > 1)} in all; the last epoch listed made "
             f"{max_steps % per} of its {per}",) if max_steps and max_steps % per and max_steps < epochs * per else ())
        table = render.epoch_table(trainer.pred is not None and is_classification(labels), val_set is not None)
        steps = epochs * -(-train_set.n // batch)
        steps = min(steps, max_steps or steps)  # (the progress bar's total)
        columns = [*Progress.get_default_columns(), TextColumn("loss {task.fields[loss]}")]
        with Progress(*columns, console=s.err, transient=True) as bar, stop_on_ctrl_c(trainer):
            task = bar.add_task("training", total=steps, loss="…")
            trainer.fit(train_set, epochs, val_set, patience=early_stopping,
                        on_step=lambda: bar.update(task, advance=1, loss=f"{trainer.last_loss:.4g}"))
        if trainer.stop:
            s.err.print(render.Text(f"interrupted: {len(trainer.history)} finished epoch(s) kept"
                                    + (f", their parameters saved to {save}" if save and trainer.history else "")))
        elif trainer.early is not None:
            s.err.print(render.Text(f"stopped early after epoch {trainer.early[0]}: the validation loss has not "
                                    f"improved for {early_stopping} epochs; the parameters of epoch "
                                    f"{trainer.early[1]} (the best) are kept"))
        if save and (trainer.history or not trainer.stop):
            tr.save_params(trainer.params, save)
        if plot:
            plots.loss_plot(trainer.history, plot, f"{Path(program).name}: SGD, learning rate {lr:g}, batch {batch}"
                            + (f", L2 {l2:g}" if l2 else ""))
        if as_json:
            obj = jsonout.training(trainer.history, trainer.params, kept=trainer.early[1] if trainer.early else None)
            if trainer.stop or trainer.early:
                obj["stopped"] = "interrupted" if trainer.stop else f"early: best epoch {trainer.early[1]}"  # type: ignore[index]
            print(jsonout.dumps(obj))
        else:
            rows, every = render.shown_epochs(len(trainer.history), (trainer.early[1] - 1,) if trainer.early else ())
            for i in rows:
                render.add_epoch(table, trainer.history[i])
            s.out.print(table)
            if every > 1:  # (300 rows of a long run hid its end)
                nth = f"{every}{'th' if every > 2 else 'nd'}"
                notes = (f"{len(trainer.history)} epochs: every {nth} listed, with the first and the last"
                         + (" and the kept one" if trainer.early else "") + " (--json has every epoch)", *notes)
            for note in notes:  # (what a row does not say)
                s.out.print(render.Text(note))
            if save and not trainer.stop:  # (interrupted: said above, on stderr)
                s.out.print(render.Text(f"parameters saved to {save} (graphlang predict … --params {save})"))
        if trainer.stop:
            raise typer.Exit(ExitCode.INTERRUPTED)
    guarded(s, body)


@contextmanager
def stop_on_ctrl_c(trainer: Any) -> Iterator[None]:
    """The first Ctrl-C asks the trainer to stop after its current step; a second one quits now."""
    previous = signal.getsignal(signal.SIGINT)

    def first(signum: int, frame: Any) -> None:
        if trainer.stop and callable(previous):
            previous(signum, frame)
        trainer.stop = True

    try:
        signal.signal(signal.SIGINT, first)
    except ValueError:  # not the main thread: Ctrl-C keeps its usual meaning
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def predict(program: ProgramArg,
            params: Annotated[str, typer.Option("--params", help="trained parameters (.npz)")],
            data: Annotated[str, typer.Option("--data", help="CSV of examples, with or without the labels")],
            output: Annotated[str | None, typer.Option("-o", "--output", metavar="FILE.csv",
                                                       help="write every prediction to a CSV")] = None,
            as_json: JsonOpt = False, strict: StrictOpt = False,
            limit: LimitOpt = []) -> None:  # noqa: B006
    """Forward propagation only: the prediction for every example."""
    from graphlang import training as tr
    from graphlang.training.classes import confusion, reading, threshold
    from graphlang.training.params import prediction_program

    s = Session(program, as_json)

    def body() -> None:
        if output:
            check_target(output)
        prog = s.load(strict, limit)
        trainer = tr.Trainer(prog, tr.load_params(params, prog))
        if trainer.pred is None:
            raise GraphlangError("usage", "predict reads the model's output, a node named yhat (or p), and this "
                                 "program has none", hint="add a statement for the model's output and have the "
                                 "loss read it: yhat = W @ x, then r = yhat - t (programs/squared_error.cg)")
        needed = [n for n in prediction_program(prog, trainer.pred).inputs if n not in prog.params]
        try:  # labeled: every input's columns (the loss, accuracy and confusion matrix too)
            dataset, labeled = tr.load_csv(prog, data), True
        except GraphlangError as full:
            if full.kind != "value" or "column" not in full.message or ", expected " not in full.message:
                raise
            try:  # unlabeled: only the columns the prediction reads
                dataset, labeled = tr.load_csv(prog, data, names=needed, class_column=False), False
            except GraphlangError as part:
                if part.kind != "value" or "expected" not in part.message:
                    raise
                raise GraphlangError("value", f"{part.message.split(', expected')[0]}: expected "
                                     f"{full.message.split('expected ')[1]} with the labels, or "
                                     f"{part.message.split('expected ')[1]} without them") from None
        preds = trainer.predictions(dataset)
        loss = acc = matrix = None
        cut = threshold(prog.graph, trainer.pred)
        # unlabeled: a class column where the prediction is a probability or a logit, not a regression's number
        classes = reading(prog.graph, trainer.pred) != "score"
        if labeled:
            loss, acc = trainer.evaluate(dataset)
            matrix = confusion(preds, dataset.columns[tr.data.data_inputs(prog)[-1]], cut)
            classes = matrix is not None  # regression targets: no classes, accuracy or confusion matrix
        if output:
            write_text(output, prediction_csv(trainer.pred, preds, cut if classes else None))
        if as_json:
            print(jsonout.dumps(jsonout.predictions(preds, loss, acc, matrix)))
        else:
            s.out.print(render.prediction_table(preds, trainer.pred, loss, acc, matrix, cut if classes else None))
            if output:
                s.err.print(render.Text(f"wrote {len(preds)} predictions to {output}"))
    guarded(s, body)


def prediction_csv(name: str, preds: Any, cut: float | None) -> str:
    """One row per example: the prediction's numbers (repr: they read back exactly), then the class
    (`cut`: one number's threshold; None: a regression's predictions, no class)."""
    from graphlang.training.classes import predicted_classes
    p = np.asarray(preds, dtype=np.float64)
    flat = p.reshape(len(p), -1)
    head = [name] if p.ndim == 1 else [f"{name}_{j}" for j in range(flat.shape[1])]
    if cut is None:
        rows = [",".join(repr(float(v)) for v in row) for row in flat]
        return "\n".join([",".join(head), *rows]) + "\n"
    classes = predicted_classes(p if p.ndim == 2 else flat[:, 0], cut)
    rows = [",".join([*(repr(float(v)) for v in row), str(int(c))]) for row, c in zip(flat, classes)]
    return "\n".join([",".join([*head, "class"]), *rows]) + "\n"
