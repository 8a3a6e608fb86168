"""SGD on a program's params: train, predict."""

from __future__ import annotations

from typing import Annotated

import typer

from graphlang.cli.options import (
    JsonOpt,
    LimitOpt,
    ProgramArg,
    Session,
    StrictOpt,
    guarded,
)
from graphlang.errors import GraphlangError
from graphlang.files import check_target
from graphlang.present import jsonout, plots
from graphlang.present import tables as render


def train(program: ProgramArg,
          data: Annotated[str, typer.Option("--data", help="training CSV (columns -> inputs, in order)")],
          val: Annotated[str | None, typer.Option("--val", help="validation CSV")] = None,
          epochs: Annotated[int, typer.Option("--epochs", min=1, max=100_000)] = 10,
          lr: Annotated[float, typer.Option("--lr", help="learning rate γ")] = 0.1,
          batch: Annotated[int, typer.Option("--batch", min=1, help="mini-batch size (1: the lecture's SGD)")] = 1,
          l2: Annotated[float, typer.Option("--l2", help="L2 regularization λ on weight matrices")] = 0.0,
          seed: Annotated[int, typer.Option("--seed", help="shuffling and initialization seed")] = 0,
          init: Annotated[str | None, typer.Option("--init", help="initial parameters (.npz)")] = None,
          save: Annotated[str | None, typer.Option("--save", help="write the trained parameters (.npz)")] = None,
          plot: Annotated[str | None, typer.Option("--plot", help="loss curves as PNG (matplotlib)")] = None,
          as_json: JsonOpt = False, strict: StrictOpt = False,
          limit: LimitOpt = []) -> None:  # noqa: B006
    """Train the program's `param`s by SGD on a CSV dataset (the output is the loss)."""
    from rich.progress import Progress

    from graphlang import training as tr

    s = Session(program, as_json)

    def body() -> None:
        if not (lr > 0 and lr == lr and lr < float("inf")):
            raise GraphlangError("usage", "--lr must be a positive number")
        tr.rng_from(seed)  # a usage error for a bad seed, before any work
        for target in (save, plot):
            if target:
                check_target(target)
        prog = s.load(strict, limit)
        train_set = tr.load_csv(prog, data)
        val_set = tr.load_csv(prog, val) if val else None
        params = tr.load_params(init, prog) if init else tr.init_params(prog, seed)
        trainer = tr.Trainer(prog, params, lr=lr, batch=batch, l2=l2, seed=seed)
        table = render.epoch_table(trainer.pred is not None, val_set is not None)
        steps = epochs * -(-train_set.n // batch)
        with Progress(console=s.err, transient=True) as bar:
            task = bar.add_task("training", total=steps)
            trainer.fit(train_set, epochs, val_set, on_epoch=lambda st: render.add_epoch(table, st),
                        on_step=lambda: bar.advance(task))
        if save:
            tr.save_params(trainer.params, save)
        if plot:
            plots.loss_plot(trainer.history, plot)
        if as_json:
            print(jsonout.dumps(jsonout.training(trainer.history, trainer.params)))
        else:
            s.out.print(table)
    guarded(s, body)


def predict(program: ProgramArg,
            params: Annotated[str, typer.Option("--params", help="trained parameters (.npz)")],
            data: Annotated[str, typer.Option("--data", help="CSV of examples")],
            as_json: JsonOpt = False, strict: StrictOpt = False,
            limit: LimitOpt = []) -> None:  # noqa: B006
    """Forward propagation only: the prediction for every example."""
    from graphlang import training as tr

    s = Session(program, as_json)

    def body() -> None:
        prog = s.load(strict, limit)
        dataset = tr.load_csv(prog, data)
        trainer = tr.Trainer(prog, tr.load_params(params, prog))
        if trainer.pred is None:
            raise GraphlangError("usage", "name the prediction node `yhat` (or p) to predict")
        preds = trainer.predictions(dataset)
        loss, acc = trainer.evaluate(dataset)
        if as_json:
            print(jsonout.dumps(jsonout.predictions(preds, loss, acc)))
        else:
            s.out.print(render.prediction_table(preds, trainer.pred, loss, acc))
    guarded(s, body)
