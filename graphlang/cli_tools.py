"""Commands for teaching staff and training: check, graph, repl, train, predict."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from . import render
from .cli import AtFileOpt, AtOpt, JsonOpt, LimitOpt, ProgramArg, Session, StrictOpt, app, guarded, values
from .errors import GraphlangError
from .limits import Limits
from .program import Program, read_source


@app.command()
def check(reference: Annotated[str, typer.Argument(help="the reference .cg program")],
          at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
          answers: Annotated[str | None, typer.Option("--answers", help="a JSON object of answers")] = None,
          submission: Annotated[str | None, typer.Option("--submission", help="a student's .cg program")] = None,
          batch: Annotated[str | None, typer.Option("--batch", help="a folder of submissions (.cg, .json)")] = None,
          jsonl: Annotated[bool, typer.Option("--jsonl", help="batch: one JSON line per submission")] = False,
          gradescope: Annotated[str | None, typer.Option(
              "--gradescope", help="write Gradescope's results.json")] = None,
          timeout: Annotated[float, typer.Option("--timeout", help="batch: seconds per submission")] = 10.0,
          points: Annotated[int, typer.Option("--points", help="program: how many seeded points")] = 5,
          ecf: Annotated[bool, typer.Option("--ecf/--no-ecf", help="credit errors carried forward")] = True,
          template: Annotated[bool, typer.Option("--template", help="print an answers template")] = False,
          as_json: JsonOpt = False, strict: StrictOpt = False,
          limit: LimitOpt = []) -> None:  # noqa: B006
    """Grade a student's answers or program against a reference; exit 0 only when all pass."""
    from . import checker

    s = Session(reference, as_json)

    def body() -> None:
        ref = s.load(strict, limit)
        vals = values(at, at_file)
        if template:
            names = [n for n in ref.names if n not in ref.inputs]
            out = ref.outputs[0]
            tpl = {**{n: None for n in names}, **{f"g_{n}": None for n in reversed(names)},
                   **{f"d{out}/d{n}": None for n in ref.inputs}}
            print(render.dumps(tpl))
            return
        chosen = [x for x in (answers, submission, batch) if x]
        if len(chosen) != 1:
            raise GraphlangError("usage", "give exactly one of --answers, --submission or --batch")
        if batch:
            _check_batch(s, ref, batch, vals, timeout, points, ecf, jsonl)
            return
        if answers:
            from .atvalues import read_at_file
            report = checker.grade_answers(ref, read_at_file(answers), vals, ecf=ecf)
        else:
            assert submission is not None
            text = read_source(submission, Limits.strict())
            report = checker.grade_program(ref, text, vals, n_points=points)
        if gradescope:
            with open(gradescope, "w", encoding="utf-8") as fh:
                fh.write(render.dumps(report.to_gradescope()) + "\n")
        if as_json:
            print(render.dumps(report.to_json()))
        else:
            s.out.print(report)
        if not report.passed:
            raise typer.Exit(1)
    guarded(s, body)


def _check_batch(s: Session, ref: Program, folder: str, vals: dict[str, Any], timeout: float,
                 points: int, ecf: bool, jsonl: bool) -> None:
    from rich.progress import Progress

    from . import batch as batch_mod

    files = batch_mod.submissions(folder)
    options = {"answers": {"ecf": ecf}, "program": {"n_points": points}}
    rows = []
    with Progress(console=s.err, transient=True) as bar:
        task = bar.add_task("grading", total=len(files))
        for row in batch_mod.grade_batch(ref, folder, vals, options, timeout=timeout,
                                         progress=lambda p: bar.advance(task)):
            rows.append(row)
            if jsonl:
                print(render.dumps(row), flush=True)
    (s.err if jsonl else s.out).print(render.batch_summary(rows))


@app.command()
def graph(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
          output: Annotated[str | None, typer.Option("-o", "--output", help="write .dot, .svg or .png")] = None,
          dot: Annotated[bool, typer.Option("--dot", help="print the DOT source")] = False,
          partials: Annotated[bool, typer.Option("--partials", help="label edges with local derivatives")] = False,
          strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """Draw the computation graph (the course's conventions); a table in the terminal."""
    from . import dot as dot_mod

    s = Session(program, False)

    def body() -> None:
        prog = s.load(strict, limit)
        vals = values(at, at_file) if (at or at_file) else None
        if output or dot:
            text = dot_mod.to_dot(prog, vals, partials)
            if dot:
                print(text, end="")
            if output:
                note = dot_mod.render_file(text, output)
                if note:
                    s.err.print(render.Text(note))
        else:
            s.out.print(dot_mod.terminal_view(prog, vals))
    guarded(s, body)


@app.command()
def repl(program: Annotated[str | None, typer.Argument(help="a .cg file to start from")] = None) -> None:
    """An interactive session: each statement adds a node; `:help` lists the commands."""
    from .repl import main as repl_main

    raise typer.Exit(repl_main(program))


@app.command()
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

    from . import train as tr

    s = Session(program, as_json)

    def body() -> None:
        if not (lr > 0 and lr == lr and lr < float("inf")):
            raise GraphlangError("usage", "--lr must be a positive number")
        prog = s.load(strict, limit)
        train_set = tr.load_csv(prog, data)
        val_set = tr.load_csv(prog, val) if val else None
        params = tr.load_params(init) if init else tr.init_params(prog, seed)
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
            render.loss_plot(trainer.history, plot)
        if as_json:
            print(render.dumps({"epochs": [st.__dict__ for st in trainer.history],
                                "final": trainer.history[-1].__dict__,
                                "params": {k: render.plain(v) for k, v in trainer.params.items()}
                                if sum(v.size for v in trainer.params.values()) <= 10_000 else None}))
        else:
            s.out.print(table)
    guarded(s, body)


@app.command()
def predict(program: ProgramArg,
            params: Annotated[str, typer.Option("--params", help="trained parameters (.npz)")],
            data: Annotated[str, typer.Option("--data", help="CSV of examples")],
            as_json: JsonOpt = False, strict: StrictOpt = False,
            limit: LimitOpt = []) -> None:  # noqa: B006
    """Forward propagation only: the prediction for every example."""
    from . import train as tr

    s = Session(program, as_json)

    def body() -> None:
        prog = s.load(strict, limit)
        dataset = tr.load_csv(prog, data)
        trainer = tr.Trainer(prog, tr.load_params(params))
        if trainer.pred is None:
            raise GraphlangError("usage", "name the prediction node `yhat` (or p) to predict")
        preds = trainer.predictions(dataset)
        loss, acc = trainer.evaluate(dataset)
        if as_json:
            print(render.dumps({"predictions": render.plain(preds), "loss": loss, "accuracy": acc}))
        else:
            s.out.print(render.prediction_table(preds, trainer.pred, loss, acc))
    guarded(s, body)

