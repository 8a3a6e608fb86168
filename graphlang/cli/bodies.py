"""The bodies of `diff`, `explain`, `gradcheck`, `hessian`, `graph` and `ir` without Typer: `graphlang.cli.quick` calls
them for a plain command line (start-up time: building the Typer application costs about as much as
`run` on a 2,000-statement program), the Typer commands in `derivatives.py` / `evaluate.py` / `drawing.py` otherwise."""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from graphlang.cli.session import ExitCode, Session, guarded, plain_width, values
from graphlang.errors import GraphlangError, no_inputs
from graphlang.files import check_target, write_text
from graphlang.ir.pretty import pretty
from graphlang.language.atvalues import wrt_names
from graphlang.present import jsonout
from graphlang.present.grid import narrowed
from graphlang.present.textviews import gradcheck_parts, hessian_parts
from graphlang.program import Program


def _derivatives_at(prog: Program, vals: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Each derivative's value at the --at point: the gradient's for an input, the adjoint for a node."""
    res = prog.evaluate(vals)
    known = {**(res.adjoints or {}), **(res.gradient or {})}
    return {n: known[n] for n in names if n in known}


def _shapes_for(prog: Program, vals: dict[str, Any], notes: list[str] | None = None) -> list[Any]:
    """Shapes from --at values when given, else from declarations (undeclared inputs: scalars; a
    program that reduces or multiplies matrices is told so, where `mean(A * A)` gave 2A silently)."""
    if vals:
        return prog.bind(vals)[1]
    decl = prog.checked.declared
    scalar = [n for n in prog.graph.inputs if decl.get(n) is None]
    one = len(scalar) == 1
    names = ", ".join(scalar[:4]) + (", …" if len(scalar) > 4 else "")
    told = f"{names} {'is taken as a scalar' if one else 'are taken as scalars'} (no shape declared, no --at): " \
           "for a vector or a matrix declare it (input " \
           f"{scalar[0] if scalar else 'A'}[2, 3]; a scalar: {scalar[0] if scalar else 'A'}[]) or give --at"
    try:
        shapes = prog.graph.shapes(tuple(decl.get(n) or () for n in prog.graph.inputs))
    except GraphlangError as err:
        if scalar and err.kind == "shape":
            raise GraphlangError(err.kind, err.message, err.line, err.column, told) from None
        raise
    # (a reduction, a product of matrices, an index: what is done to tensors, as symbolic.scalars_matter says)
    if scalar and notes is not None and any(not eq.prim.elementwise for eq in prog.graph.eqns):
        notes.append(told)  # (said after the answer: never before an error)
    return shapes


def diff_command(program: str, at: list[str], at_file: str | None, wrt: str | None, latex: bool,
                 as_program: bool, width: int, as_json: bool, strict: bool, limit: list[str]) -> None:
    """`graphlang diff`: closed forms in the inputs, or a derivative program (no swell)."""
    from graphlang.present.views import by_nodes
    from graphlang.symbolic import derivative as symbolic

    s = Session(program, as_json)

    def body() -> None:
        prog = s.load(strict, limit, shown=True)
        notes: list[str] = []
        vals = values(at, at_file)
        shapes = _shapes_for(prog, vals, notes)
        chosen = wrt_names(wrt)
        inner = [n for n in chosen or [] if n in prog.names and n not in prog.inputs]
        if as_program and inner:  # (closed forms are by any node: ∂y/∂a, as the REPL's :diff a)
            raise GraphlangError("usage", f"--program differentiates by inputs; {inner[0]!r} is an "
                                 "intermediate", hint=f"without --program: graphlang diff PROGRAM --wrt {inner[0]}")
        names = by_nodes(prog, chosen)
        if as_program and latex:  # (the program is .cg text; it was printed as such, --latex unsaid)
            raise GraphlangError("usage", "--latex writes closed forms; --program writes .cg text",
                                 hint="choose one: graphlang diff PROGRAM --latex, or --program")
        if as_program:
            text = symbolic.derivative_program(prog, shapes, names)
            print(jsonout.dumps(jsonout.derivative_program(text)) if as_json else text, end="\n" if as_json else "")
        else:
            forms = symbolic.closed_forms(prog, shapes, names)
            out = prog.outputs[0]
            try:  # (the lecture's "at x = 2, z = 3"; a point with no value there still gets the forms)
                at_point = _derivatives_at(prog, vals, list(forms)) if vals else {}
            except GraphlangError as err:
                at_point = {}
                notes.append(f"no values at this point ({err.kind} error: {err.message}): the forms alone")
            if as_json:
                print(jsonout.dumps(jsonout.closed_forms(out, forms, symbolic.name_shapes(prog.graph, shapes),
                                                         at_point or None, prog.limits)))
            elif latex:
                print("\n".join(symbolic.latex_equations(prog, shapes, forms, width, at_point)))
            else:
                used: set[str] = set()
                texts = symbolic.text_forms(prog, shapes, forms, used)
                from graphlang.present.textviews import one_line
                print("\n".join(f"d{out}/d{n} = {t}" + (f" = {one_line(at_point[n])}" if n in at_point else "")
                                for n, t in texts.items()))  # (one line each: the form, then its value)
                from graphlang.symbolic.matrixtext import forms_note
                said = forms_note(texts, symbolic.name_shapes(prog.graph, shapes), used)  # (1/4) 1ᵀ: what 1 is
                if said:  # (on stderr: stdout holds the forms only; LaTeX writes 𝟏)
                    notes.append(said)
        from graphlang.ir.lint import notes as lint_notes  # (a stray last line: dcheck/dx = 1, nothing said)
        notes += [f"{s.path}:{line}:{col}: {said}" for line, col, said in lint_notes(prog.graph, shapes)]
        sys.stdout.flush()
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
    guarded(s, body)


def explain_command(program: str, at: list[str], at_file: str | None, node: str | None, fmt: str, digits: int,
                    of: str | None, width: int, as_json: bool, strict: bool, limit: list[str],
                    mode: str | None = None, wrt: str | None = None) -> None:
    """`graphlang explain`: the forward and backward passes (or tangent passes) step by step."""
    from graphlang.present import explain as ex
    from graphlang.present import forwardmode
    from graphlang.present.forwardmode import explain_mode

    s = Session(program, as_json)

    def body() -> None:
        if fmt not in ("text", "markdown", "latex"):
            raise GraphlangError("usage", f"unknown format {fmt!r}", hint="text, markdown or latex")
        forward = explain_mode(mode, of, wrt, cli=True) == "forward"
        prog = s.load(strict, limit, shown=True)
        if node is not None and node not in prog.names:
            raise GraphlangError("usage", f"--node {node!r} is not a node of the program",
                                 hint="nodes: " + ", ".join(prog.names))
        vals = values(at, at_file)  # (read once: the note below binds them again, not the file)
        lines = forwardmode.explain_forward(prog, vals, node, digits, wrt, as_json or fmt != "text") if forward else \
            ex.explain(prog, vals, node, digits, of, with_latex=as_json or fmt != "text")
        if as_json:
            print(jsonout.dumps(jsonout.explain(lines, prog.limits)))
        else:
            s.show_text(ex.as_text(lines, fmt, width), soft_wrap=True)
        s.notes(prog, vals)
    guarded(s, body)


def gradcheck_command(program: str, at: list[str], at_file: str | None, epsilon: float | None, sweep: bool,
                      plot: str | None, as_json: bool, strict: bool, limit: list[str], wrt: str | None = None) -> None:
    """`graphlang gradcheck`: the four methods side by side; exit 1 if they disagree."""
    from graphlang import gradcheck as gc

    s = Session(program, as_json)

    def body() -> None:
        prog, vals = s.load_with_values(strict, limit, at, at_file)
        if not prog.inputs:  # (the table was empty, and "all four methods agree": a docs red team)
            raise no_inputs()
        if plot:
            check_target(plot)
        if sweep or plot:
            from graphlang.present import plots
            from graphlang.present import tables as render

            rows = gc.sweep(prog, vals, wrt_names(wrt))
            if plot:
                plots.sweep_plot(rows, plot)
                sys.stderr.write(f"wrote {plot}\n")  # (as graph -o says it)
            if as_json:
                print(jsonout.dumps(jsonout.sweep(rows, gc.best(rows, "forward"), gc.best(rows, "central"))))
            else:
                s.out.print(render.sweep_table(rows, gc.best(rows, "forward"), gc.best(rows, "central")))
            return
        checks = gc.gradcheck(prog, vals, epsilon, wrt_names(wrt))
        ok = all(r.passed for r in checks)
        corners = gc.kinks(prog, vals) if not ok else gc.corners_of(prog, vals, prog.inputs) if \
            gc.on_corners(prog, vals) else []  # a corner? (abs(x) at 0: all agree on abs'(0), no derivative)
        conventions = [] if ok or corners else gc.on_corners(prog, vals)  # or one of its functions'
        lost = {} if ok or corners or conventions else gc.digits_lost(prog, vals, checks)  # or cancellation
        if as_json:
            print(jsonout.dumps(jsonout.gradcheck(ok, checks, corners, conventions, lost)))
        else:
            s.show(gradcheck_parts(checks, gc.TOLERANCES, corners, conventions, lost))  # (no Rich off a terminal)
        s.notes(prog, vals)
        if not ok:
            raise SystemExit(int(ExitCode.PROGRAM_ERROR))  # as typer.Exit(1) would: Click exits with it
    guarded(s, body)


def hessian_command(program: str, at: list[str], at_file: str | None, as_json: bool, strict: bool,
                    limit: list[str], wrt: str | None = None) -> None:
    """`graphlang hessian`: second derivatives of a scalar program (`wrt`: only those inputs' blocks)."""
    s = Session(program, as_json)

    def body() -> None:
        prog, vals = s.load(strict, limit), values(at, at_file)
        h = prog.hessian(vals, wrt_names(wrt))
        if as_json:
            print(jsonout.dumps(jsonout.hessian(h, prog.limits)))
        else:
            s.show(hessian_parts(prog, h))
        s.notes(prog, vals)
    guarded(s, body)


def graph_command(program: str, at: list[str], at_file: str | None, output: str | None, dot: bool, partials: bool,
                  dpi: int, strict: bool, limit: list[str]) -> None:
    """`graphlang graph`: the computation graph drawn, or as a table in the terminal."""
    from graphlang.present import dot as dot_mod
    from graphlang.present import tikz

    s = Session(program, False)

    def body() -> None:
        prog = s.load(strict, limit, shown=partials)
        vals = values(at, at_file) if (at or at_file) else None
        if vals is None and all(prog.checked.declared.get(n) is not None for n in prog.graph.inputs):
            dot_mod.declared_shapes(prog)  # every shape known: a shape or index error, as `run` says it
        if output and output.lower().endswith(".tex"):
            write_text(output, tikz.to_tikz(prog, vals, partials, file=os.path.basename(output)))
        elif output or dot:
            text = dot_mod.to_dot(prog, vals, partials)
            if dot:
                print(text, end="")
            if output:
                note = dot_mod.render_file(text, output, dpi, program=prog)
                if note:  # no Graphviz: the DOT file was written, the picture was not
                    from graphlang.present import tables as render

                    s.err.print(render.Text(note))
                    raise SystemExit(int(ExitCode.PROGRAM_ERROR))  # as typer.Exit(1) would
        else:
            grid = dot_mod.terminal_grid(prog, vals, partials)  # (narrower than its words: a block per node)
            s.show([narrowed(grid, plain_width() or s.out.width)])
        if output:  # (on stderr, as predict's: a picture written said so, as `html` says it)
            sys.stderr.write(f"wrote {output}\n")
        if vals is not None:
            s.notes(prog, vals)
    guarded(s, body)


def ir_command(program: str, at: list[str], at_file: str | None, strict: bool, limit: list[str]) -> None:
    """`graphlang ir`: one equation per line (slot, primitive, inputs, shape)."""
    s = Session(program, False)

    def body() -> None:
        prog = s.load(strict, limit)
        given = values(at, at_file) if at or at_file else {}
        decl = prog.checked.declared
        unknown = [n for n in prog.graph.inputs if n not in given and decl.get(n) is None]
        try:
            prog.bind(given)  # an unknown name, a malformed value, a shape against its declaration
        except GraphlangError as err:
            if err.kind != "missing-input":
                raise
        known = {n: tuple(np.shape(given[n])) if n in given else decl[n] for n in prog.graph.inputs
                 if n not in unknown}  # each input's shape from its value, else its declaration (no arrays made)
        if not unknown:  # every shape (or the shape error they make)
            text = pretty(prog.graph, prog.graph.shapes(tuple(known[n] or () for n in prog.graph.inputs)))
        else:  # (a red team's find: one undeclared input hid the shapes declared for the others)
            text = pretty(prog.graph, [known.get(n) for n in prog.graph.inputs] + [None] * prog.graph.n_slots)
            text += (f"# shapes follow from the inputs', and {', '.join(unknown)} "
                     f"{'has' if len(unknown) == 1 else 'have'} none yet: declare one (input {unknown[0]}[…] "
                     f"for a vector), or give --at {unknown[0]}=...\n")
        s.show_text(text, soft_wrap=True)  # one equation per line, however long (a docs red team)
    guarded(s, body)
