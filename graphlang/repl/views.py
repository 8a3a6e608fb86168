"""The REPL's commands that show the program at the session's values: `:run`, `:grad`, `:explain`,
`:diff`, `:graph`."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from graphlang.gradcheck import fd_caution
from graphlang.present import tables as render
from graphlang.program import Program
from graphlang.repl import commands as rc
from graphlang.repl import saving

VIEWS = (":run", ":grad", ":explain", ":diff", ":graph")


def view(cmd: str, prog: Program, at: dict[str, Any], rest: str) -> list[Any]:
    """What one of `VIEWS` shows of `prog` at the values `at` (`rest`: the command's arguments)."""
    if cmd == ":run":
        result = prog.evaluate(rc.given(prog, at))
        return [render.result_tables(prog, result, rc.MOST_ROWS), *rc.stretched(prog, at)]
    if cmd == ":grad":
        vals = rc.given(prog, at)
        result = prog.evaluate(vals, method=rest or "reverse")
        result.extra["caution"] = fd_caution(prog, vals, result)  # fd off from the exact value: why
        return [render.result_tables(prog, result, rc.MOST_ROWS), *rc.stretched(prog, at)]
    if cmd == ":explain":
        from graphlang.present.explain import as_text, explain
        if rest.split()[:1] == ["forward"]:  # `:explain forward [x | W[0,1]]`: tangent passes
            from graphlang.present.forwardmode import explain_forward
            seed = rest.split(None, 1)[1].strip("'\" ") if len(rest.split()) > 1 else None
            lines = explain_forward(prog, rc.given(prog, at), wrt=seed, constants=True)
        elif "[" in rest:  # `:explain y[8]`: the backward pass of one output component
            lines = explain(prog, rc.given(prog, at), of=rest.strip("'\" "))
        else:
            node = rc.nodes(prog, rest, ":explain", at_most_one=True)
            lines = explain(prog, rc.given(prog, at), node[0] if node else None)
        return [Text(rc.repl_words(as_text(lines))), *rc.stretched(prog, at)]
    if cmd == ":diff":
        from graphlang.symbolic import derivative as symbolic
        wrt = rc.nodes(prog, rest, ":diff")
        complete = all(n in at for n in prog.inputs)  # (one value missing: the declared shapes)
        shapes = prog.bind(rc.given(prog, at))[1] if complete else prog.graph.shapes(
            tuple(prog.checked.declared.get(n) or () for n in prog.inputs))
        forms, used = symbolic.closed_forms(prog, shapes, wrt or None), set[str]()
        texts = symbolic.text_forms(prog, shapes, forms, used)
        return [Text("\n".join(f"d{prog.outputs[0]}/d{n} = {t}" for n, t in texts.items())),
                *rc.legend_note(prog, shapes, texts, used), *rc.dead_ends(prog)]
    if cmd == ":graph":
        from graphlang.present.dot import terminal_view
        if rest not in ("", "partials"):
            ready = at and all(n in at for n in prog.inputs)  # else drawn without values
            return saving.save_graph(prog, rc.given(prog, at) if ready else None, rest)
        complete = all(n in at for n in prog.inputs)  # else the table without values
        return [terminal_view(prog, rc.given(prog, at) if complete else None, partials=rest == "partials")]
    raise AssertionError(cmd)  # (not one of VIEWS)
