"""The command line: thin wrappers that load, call the library, and present."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from . import render
from .atvalues import parse_at, read_at_file
from .errors import GraphlangError
from .limits import Limits
from .program import AUTO, METHODS, Program, parse, read_source

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="graphlang: computation graphs with exact derivatives, four ways.")

AtOpt = Annotated[list[str], typer.Option("--at", help="input values: x=2,z=3 or W=[[1,0],[0,1]]; repeatable")]
AtFileOpt = Annotated[str | None, typer.Option("--at-file", help="input values from a JSON object")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
ProgramArg = Annotated[str, typer.Argument(help="the .cg program")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="the checker's stricter limits")]
LimitOpt = Annotated[list[str], typer.Option("--limit", help="override a safety limit: max_depth=50 (repeatable)")]


def make_limits(strict: bool, overrides: list[str]) -> Limits:
    limits = Limits.strict() if strict else Limits()
    changes: dict[str, int] = {}
    for item in overrides:
        name, _, value = item.partition("=")
        if not value.strip().isdigit():
            raise GraphlangError("usage", f"--limit {item!r}: write name=integer",
                                 hint="limits: " + ", ".join(Limits.__dataclass_fields__))
        changes[name.strip()] = int(value)
    try:
        return limits.with_(**changes)
    except ValueError as err:
        raise GraphlangError("usage", str(err), hint="limits: " + ", ".join(Limits.__dataclass_fields__)
                             ) from None


class Session:
    """What a command needs to report errors: the file, its text, JSON mode, the consoles."""

    def __init__(self, path: str | None, as_json: bool) -> None:
        self.path = path
        self.as_json = as_json
        self.source: str | None = None
        width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
        self.out = Console(width=width, highlight=False, soft_wrap=False)
        self.err = Console(stderr=True, width=width, highlight=False, soft_wrap=True)

    def load(self, strict: bool = False, overrides: list[str] | None = None) -> Program:
        limits = make_limits(strict, overrides or [])
        assert self.path is not None
        self.source = read_source(self.path, limits)
        return parse(self.source, limits=limits, path=self.path)

    def fail(self, err: GraphlangError) -> None:
        code = 2 if err.kind in ("usage", "io") else 1
        self.err.print(render.error_text(err, self.path, self.source), end="")
        if self.as_json:
            print(render.dumps({"error": err.to_json()}))
        raise typer.Exit(code)


def values(at: list[str], at_file: str | None) -> dict[str, Any]:
    vals = read_at_file(at_file) if at_file else {}
    for name, v in parse_at(at).items():
        if name in vals:
            raise GraphlangError("usage", f"{name!r} is given by both --at and --at-file")
        vals[name] = v
    return vals


def guarded(session: Session, body: Callable[[], None]) -> None:
    try:
        body()
    except GraphlangError as err:
        session.fail(err)
    except RecursionError:
        session.fail(GraphlangError("limit", "the input nests too deeply"))
    except MemoryError:
        session.fail(GraphlangError("limit", "out of memory: the program or its values are too large"))


@app.command()
def run(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
        as_json: JsonOpt = False, strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """Forward pass, backward pass (adjoints) and gradient, by reverse mode."""
    s = Session(program, as_json)

    def body() -> None:
        prog = s.load(strict, limit)
        result = prog.evaluate(values(at, at_file))
        if as_json:
            print(render.dumps(result.to_json()))
        else:
            s.out.print(render.result_tables(prog, result))
    guarded(s, body)


@app.command()
def grad(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
         method: Annotated[str, typer.Option("--method", "-m", help="reverse, forward, fd, symbolic; "
                           "default: reverse, or for a Jacobian the cheaper mode")] = AUTO,
         wrt: Annotated[str | None, typer.Option("--wrt", help="inputs to differentiate by: x,z")] = None,
         epsilon: Annotated[float | None, typer.Option("--epsilon", help="finite-difference step")] = None,
         direction: Annotated[list[str], typer.Option(
             "--direction", help="forward mode along one direction: x=1,z=0 (a table of tangents)")] = [],  # noqa: B006
         as_json: JsonOpt = False, strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """The gradient (or Jacobian) by one of the four methods."""
    if direction:
        return tangents(program, at, at_file, direction, as_json)
    s = Session(program, as_json)

    def body() -> None:
        if method not in METHODS and method != AUTO:
            raise GraphlangError("usage", f"unknown method {method!r}", hint="choose one of: "
                                 + ", ".join(METHODS))
        prog = s.load(strict, limit)
        names = [w.strip() for w in wrt.split(",") if w.strip()] if wrt else None
        result = prog.evaluate(values(at, at_file), method=method, wrt=names, epsilon=epsilon)
        result.extra["scaled"] = epsilon is None
        if as_json:
            obj = result.to_json()
            if result.gradient is not None and result.adjoints is None:  # same keys as `run`
                adjoints = prog.evaluate(values(at, at_file), method="reverse").adjoints or {}
                obj = {**{k: v for k, v in obj.items() if k != "gradient"},
                       "adjoints": {k: render.plain(v) for k, v in adjoints.items()},
                       "gradient": obj["gradient"]}
            obj["method"] = result.method
            if result.method == "fd":
                obj["epsilon"] = result.epsilon
            print(render.dumps(obj))
        else:
            s.out.print(render.result_tables(prog, result))
    guarded(s, body)


def _interrupted(signum: int, frame: Any) -> None:
    sys.stderr.write("graphlang: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def main(argv: list[str] | None = None) -> None:
    """Entry point: exit 0 / 1 (program error) / 2 (usage); Ctrl-C is one line and 130."""
    signal.signal(signal.SIGINT, _interrupted)
    app(args=argv, prog_name="graphlang")


def _shapes_for(prog: Program, vals: dict[str, Any]) -> list[Any]:
    """Shapes from --at values when given, else from declarations (undeclared inputs: scalars)."""
    if vals:
        return prog.bind(vals)[1]
    decl = prog.checked.declared
    return prog.graph.shapes(tuple(decl.get(n) or () for n in prog.graph.inputs))


@app.command()
def diff(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
         wrt: Annotated[str | None, typer.Option("--wrt", help="inputs to differentiate by: x,z")] = None,
         latex: Annotated[bool, typer.Option("--latex", help="print LaTeX")] = False,
         as_program: Annotated[bool, typer.Option("--program", help="the derivative as a .cg program")] = False,
         as_json: JsonOpt = False) -> None:
    """Symbolic derivatives: closed forms in the inputs, or a derivative program (no swell)."""
    from . import symbolic
    from .sym import to_latex, to_text

    s = Session(program, as_json)

    def body() -> None:
        prog = s.load()
        shapes = _shapes_for(prog, values(at, at_file))
        names = prog._wrt([w.strip() for w in wrt.split(",") if w.strip()] if wrt else None)
        if as_program:
            text = symbolic.derivative_program(prog, shapes, names)
            print(render.dumps({"program": text}) if as_json else text, end="\n" if as_json else "")
            return
        forms = symbolic.closed_forms(prog, shapes, names)
        out = prog.outputs[0]
        if as_json:
            print(render.dumps({"output": out, "derivatives": {n: to_text(e) for n, e in forms.items()},
                                "latex": {n: to_latex(e) for n, e in forms.items()}}))
            return
        for n, e in forms.items():
            if latex:
                print(f"\\frac{{\\partial {out}}}{{\\partial {n}}} = {to_latex(e)}")
            else:
                print(f"d{out}/d{n} = {to_text(e)}")
    guarded(s, body)


@app.command()
def explain(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
            node: Annotated[str | None, typer.Option("--node", help="explain one node only")] = None,
            fmt: Annotated[str, typer.Option("--format", help="text, markdown or latex")] = "text",
            as_json: JsonOpt = False) -> None:
    """The forward and backward passes step by step, in the lecture's notation."""
    from . import explain as ex

    s = Session(program, as_json)

    def body() -> None:
        if fmt not in ("text", "markdown", "latex"):
            raise GraphlangError("usage", f"unknown format {fmt!r}", hint="text, markdown or latex")
        prog = s.load()
        if node is not None and node not in prog.names:
            raise GraphlangError("usage", f"--node {node!r} is not a node of the program",
                                 hint="nodes: " + ", ".join(prog.names))
        lines = ex.explain(prog, values(at, at_file), node)
        if as_json:
            print(render.dumps({"steps": [{"phase": ln.phase, "node": ln.node, "forms": ln.forms,
                                           "latex": ln.latex} for ln in lines]}))
        else:
            s.out.print(render.Text(ex.as_text(lines, fmt)), end="", soft_wrap=True)
    guarded(s, body)


@app.command()
def gradcheck(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
              epsilon: Annotated[float | None, typer.Option("--epsilon", help="finite-difference step")] = None,
              sweep: Annotated[bool, typer.Option(
                  "--sweep", help="finite-difference error for ε = 1e-1 … 1e-14")] = False,
              plot: Annotated[str | None, typer.Option("--plot", help="save the sweep as a PNG (matplotlib)")] = None,
              as_json: JsonOpt = False) -> None:
    """Compare reverse, forward, symbolic and finite differences; exit 1 if they disagree."""
    from . import gradcheck as gc

    s = Session(program, as_json)

    def body() -> None:
        prog = s.load()
        vals = values(at, at_file)
        if sweep or plot:
            rows = gc.sweep(prog, vals)
            if plot:
                gc.plot(rows, plot)
            if as_json:
                print(render.dumps({"sweep": [r.__dict__ for r in rows],
                                    "best": {"forward": gc.best(rows, "forward"),
                                             "central": gc.best(rows, "central")}}))
            else:
                s.out.print(render.sweep_table(rows, gc.best(rows, "forward"), gc.best(rows, "central")))
            return
        checks = gc.gradcheck(prog, vals, epsilon)
        ok = all(r.passed for r in checks)
        if as_json:
            print(render.dumps({"passed": ok, "rows": [
                {"input": r.input, "method": r.method, "value": render.plain(r.value),
                 "abs_error": r.abs_error, "rel_error": r.rel_error, "passed": r.passed} for r in checks]}))
        else:
            s.out.print(render.gradcheck_tables(checks, gc.TOLERANCES))
        if not ok:
            raise typer.Exit(1)
    guarded(s, body)


@app.command()
def tangents(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
             direction: Annotated[list[str], typer.Option("--direction", help="x=1,z=0: the seed ẋ")] = [],  # noqa: B006
             as_json: JsonOpt = False) -> None:
    """Forward mode: the tangent of every node along one direction."""
    s = Session(program, as_json)

    def body() -> None:
        prog = s.load()
        vals = values(at, at_file)
        seed = parse_at(direction) if direction else {prog.inputs[0]: 1.0} if prog.inputs else {}
        tans = prog.tangents(vals, seed)
        if as_json:
            print(render.dumps({"direction": {k: render.plain(v) for k, v in seed.items()},
                                "tangents": {k: render.plain(v) for k, v in tans.items()}}))
        else:
            s.out.print(render.tangent_table(prog, tans, seed))
    guarded(s, body)


@app.command()
def hessian(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
            as_json: JsonOpt = False) -> None:
    """Second derivatives of a scalar program (reverse mode over its derivative program)."""
    s = Session(program, as_json)

    def body() -> None:
        prog = s.load()
        h = prog.hessian(values(at, at_file))
        if as_json:
            print(render.dumps({"hessian": {a: {b: render.plain(v) for b, v in row.items()}
                                            for a, row in h.items()}}))
        else:
            s.out.print(render.hessian_table(prog, h))
    guarded(s, body)


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
          as_json: JsonOpt = False) -> None:
    """Grade a student's answers or program against a reference; exit 0 only when all pass."""
    from . import checker

    s = Session(reference, as_json)

    def body() -> None:
        ref = s.load()
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
          ) -> None:
    """Draw the computation graph (the course's conventions); a table in the terminal."""
    from . import dot as dot_mod

    s = Session(program, False)

    def body() -> None:
        prog = s.load()
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
          as_json: JsonOpt = False) -> None:
    """Train the program's `param`s by SGD on a CSV dataset (the output is the loss)."""
    from rich.progress import Progress

    from . import train as tr

    s = Session(program, as_json)

    def body() -> None:
        if not (lr > 0 and lr == lr and lr < float("inf")):
            raise GraphlangError("usage", "--lr must be a positive number")
        prog = s.load()
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
            as_json: JsonOpt = False) -> None:
    """Forward propagation only: the prediction for every example."""
    from . import train as tr

    s = Session(program, as_json)

    def body() -> None:
        prog = s.load()
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
