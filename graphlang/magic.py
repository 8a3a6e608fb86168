"""`%load_ext graphlang` and the `%%graphlang` cell magic: the cell is a program.

    %%graphlang --at x=2,z=3 --explain
    a = x * z
    y = exp(a) + a / ln(x)

shows the result tables (with `--at`), the explanation (`--explain`) and the graph, and binds the
program to a Python name (`--name`, default `prog`) for later cells. IPython is imported only when a
notebook loads the extension.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.ir.lint import notes, stray_note
from graphlang.language.atvalues import parse_at, read_at_file
from graphlang.present import views
from graphlang.program import METHODS, Program, parse
from graphlang.symbolic import texbreak
from graphlang.symbolic.printing import tex_name
from graphlang.symbolic.texnames import tensor_names

USAGE = ("%%graphlang [--at x=2,z=3] [--at-file F] [--name prog] [--method M] [--explain] [--diff] [--partials] "
         "[--no-graph]")


HELP = f"""The cell is a graphlang program: {USAGE}

  --at x=2,z=3      input values (repeatable; vectors [1,2], matrices [[1,0],[0,1]])
  --at-file F       input values from a JSON object
  --name prog       the Python name the program is bound to for later cells (default prog)
  --method M        reverse, forward, fd, symbolic or auto (the gradient's method; default auto)
  --explain         the chain rule step by step (forward mode's passes with --method forward)
  --diff            the closed-form derivatives (LaTeX)
  --partials        the graph's edges labelled with the local derivatives
  --no-graph        no drawing

With --at the result tables (values, adjoints, gradient) come first, then the program's notes."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # a usage error, not SystemExit in the kernel
        raise GraphlangError("usage", f"%%graphlang: {message}", hint=USAGE)


def _parser() -> _Parser:
    p = _Parser(prog="%%graphlang", add_help=False)
    p.add_argument("--at", action="append", default=[])
    p.add_argument("--at-file", default=None)
    p.add_argument("--name", "-n", default="prog")
    p.add_argument("--method", "-m", default="auto", choices=[*METHODS, "auto"])
    p.add_argument("--explain", action="store_true")
    p.add_argument("--diff", action="store_true")
    p.add_argument("--partials", action="store_true")
    p.add_argument("--no-graph", dest="graph", action="store_false")
    return p


def _bracketed(words: list[str]) -> list[str]:
    """Words rejoined where a bracket is open across a blank: `--at v=[1, 2, 3]` is one value, as a
    student types it (there is no shell here to quote it for)."""
    out: list[str] = []
    depth = 0
    for w in words:
        if depth > 0:
            out[-1] += " " + w
        else:
            out.append(w)
        depth += w.count("[") - w.count("]")
    return out


def run_cell(line: str, cell: str, namespace: dict[str, Any] | None = None) -> list[Any]:
    """What the magic shows, in order (testable without a kernel); binds the program in `namespace`."""
    try:
        words = _bracketed(shlex.split(line))
    except ValueError as err:
        raise GraphlangError("usage", f"%%graphlang: {err}", hint=USAGE) from None
    args = _parser().parse_args(words)
    if not args.name.isidentifier():
        raise GraphlangError("usage", f"--name {args.name!r} is not a Python name", hint=USAGE)
    prog: Program = parse(cell, path="<cell>")
    if namespace is not None:
        namespace[args.name] = prog
    try:
        return _shown(prog, args)
    except GraphlangError as err:  # (a domain error at --at): shown with the cell's line and a caret
        if getattr(err, "source", None) is None and err.line is not None:
            err.source = cell  # type: ignore[attr-defined]
        raise


def _shown(prog: Program, args: Any) -> list[Any]:
    """The cell's outputs: the result, explain, closed forms, the drawing, as the options ask."""
    at = read_at_file(args.at_file) if args.at_file else {}
    at.update(parse_at(args.at))
    shown: list[Any] = []
    if at:
        shown.append(prog.evaluate(at, method=args.method))
    said = _notes(prog, at)  # (the command line's notes: `check` below `y`, W * x for W @ x)
    if said:
        shown.append(views.Shown("\n".join(said)))
    if args.explain:
        # (--method forward: the tangent passes, forward mode step by step)
        shown.append(prog.explain(at, format="markdown", mode="forward" if args.method == "forward" else None))
    if args.diff:
        try:
            forms = prog.diff(latex=True, at=at or None, width=1000)  # one line each: broken into rows below
        except GraphlangError as err:  # (a vector output: the tables above still shown, a red team's find)
            if err.kind not in ("shape", "limit"):
                raise
            forms = {}
            shown.append(views.Shown(f"(no closed forms: {err.message}" + (
                "; prog.diff() takes a scalar output)" if err.kind == "shape" else ")")))
        with tensor_names(views.tensors_at(prog, at or None)):
            out = tex_name(prog.outputs[0])
            rows = [row for n, e in forms.items()
                    for row in texbreak.align_rows(f"\\frac{{\\partial {out}}}{{\\partial {tex_name(n)}}}", [e])]
        if rows:
            shown.append(views.Shown("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}", "latex"))
    if args.graph:
        try:
            shown.append(prog.draw(at=at or None, partials=args.partials))
        except GraphlangError as err:
            if err.kind != "io":  # no Graphviz: the tables are still worth showing
                raise
            shown.append(views.Shown(f"(no graph: {err.message}; {err.hint})"))
    return shown


def _notes(prog: Program, at: dict[str, Any]) -> list[str]:
    """What `graphlang run` says on stderr after its tables (a red team's find: a notebook never said
    that the last line, not y, is the output); without values, only a stray last line."""
    g = prog.graph
    if at or not prog.inputs:
        found = notes(g, prog.bind(at)[1])
    else:
        said, out = stray_note(g), g.statement(g.outputs[0])
        found = [(out.line if out else 1, out.column if out else 1, said)] if said else []
    return [f"note: <cell>:{line}:{col}: {text}" for line, col, text in found]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext graphlang`: registers the `%%graphlang` cell magic."""

    def graphlang(line: str, cell: str) -> None:
        from IPython.display import display

        for item in run_cell(line, cell, ipython.user_ns):
            display(item)

    graphlang.__doc__ = HELP
    ipython.register_magic_function(graphlang, magic_kind="cell", magic_name="graphlang")
