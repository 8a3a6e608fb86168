"""Computation graphs drawn in the course's conventions (Graphviz DOT, and a terminal view).

One rectangle per intermediate quantity, the function it computes inside the box and the variable
name outside (`xlabel`), inputs as nodes, shared nodes drawn once, directed edges without labels
(unless `partials`: then each edge carries the local derivative ∂consumer/∂operand).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.table import Table
from rich.text import Text

from graphlang.errors import GraphlangError
from graphlang.files import write_text, write_with
from graphlang.language.ast import names
from graphlang.symbolic import adjoint
from graphlang.symbolic.algebra import to_text

if TYPE_CHECKING:
    from graphlang.program import Program


def _q(text: str) -> str:
    """A DOT string literal (escapes quotes, backslashes and newlines)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _num(v: Any) -> str:
    a = np.asarray(v, dtype=np.float64)
    return f"{float(a) + 0.0:.4g}" if a.ndim == 0 else f"shape {list(a.shape)}"


def edges(program: Program) -> list[tuple[str, str]]:
    """(operand, consumer) pairs between named nodes, in statement order, each once."""
    out: list[tuple[str, str]] = []
    for st in program.graph.statements:
        assert st.expr is not None
        for n in names(st.expr):
            out.append((n, st.name))
    return out


def to_dot(program: Program, values: dict[str, Any] | None = None, partials: bool = False) -> str:
    result = program.evaluate(values) if values is not None else None
    g = program.graph
    lines = ["digraph computation {", "  rankdir=LR;", "  forcelabels=true;",
             '  node [shape=box, fontname="Helvetica"];', '  edge [arrowhead=normal];']
    for name in g.inputs:
        label = name if result is None else f"{name}\n= {_num(result.values[name])}"
        if result is not None and result.adjoints is not None:
            label += f"\ng = {_num(result.adjoints[name])}"
        kind = "param" if name in g.params else "input"
        lines.append(f"  {_q(name)} [label={_q(label)}, style=rounded, tooltip={_q(kind)}];")
    for st in g.statements:
        assert st.expr is not None
        label = to_text(st.expr, "math")
        if result is not None:
            label += f"\n= {_num(result.values[st.name])}"
            if result.adjoints is not None:
                label += f"\ng = {_num(result.adjoints[st.name])}"
        lines.append(f"  {_q(st.name)} [label={_q(label)}, xlabel={_q(st.name)}];")
    local: dict[tuple[str, str], str] = {}
    if partials:
        if result is None or result.adjoints is None:
            raise GraphlangError("usage", "--partials needs --at and a scalar output")
        from graphlang.present.explain import value_of
        _, shapes = program.bind(values or {})
        adj = adjoint.build(g, shapes)
        env = {k: np.asarray(v) for k, v in result.values.items()}
        for name, terms in adj.terms.items():
            for t in terms:
                if t.partial is not None:
                    local[(name, t.consumer)] = f"{to_text(t.partial, 'math')} = {_num(value_of(t.partial, env))}"
    for a, b in edges(program):
        attrs = f" [label={_q(local[(a, b)])}]" if (a, b) in local else ""
        lines.append(f"  {_q(a)} -> {_q(b)}{attrs};")
    for out in g.outputs:
        lines.append(f"  {_q(out)} [penwidth=2];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_file(dot_text: str, path: str) -> str | None:
    """Write .dot, or .svg/.png through Graphviz; returns a message when `dot` is missing."""
    fmt = path.rsplit(".", 1)[-1].lower() if "." in path else "dot"
    if fmt == "dot":
        write_text(path, dot_text)
        return None
    if fmt not in ("svg", "png", "pdf"):
        raise GraphlangError("usage", f"-o {path}: write .dot, .svg, .png or .pdf")
    exe = shutil.which("dot")
    if exe is None:
        alt = path.rsplit(".", 1)[0] + ".dot"
        write_text(alt, dot_text)
        return (f"Graphviz is not installed, so {path} was not drawn; the DOT source is in {alt} "
                "(install the `graphviz` package, e.g. apt-get install graphviz)")
    try:
        proc = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True,
                              timeout=60, check=False)
    except subprocess.TimeoutExpired:
        raise GraphlangError("limit", "Graphviz did not finish drawing in 60 s",
                             hint="write .dot instead, or draw a smaller program") from None
    if proc.returncode != 0:
        raise GraphlangError("io", f"Graphviz failed: {proc.stderr.decode(errors='replace')[:200]}")
    write_with(path, lambda fh: fh.write(proc.stdout))
    return None


def svg(dot_text: str) -> str | None:
    exe = shutil.which("dot")
    if exe is None:
        return None
    proc = subprocess.run([exe, "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=60,
                          check=False)
    return proc.stdout.decode() if proc.returncode == 0 else None


def terminal_view(program: Program, values: dict[str, Any] | None = None) -> Table:
    """The graph as a table: each node, what it computes, what it reads, what reads it."""
    result = program.evaluate(values) if values is not None else None
    consumers: dict[str, list[str]] = {}
    for a, b in edges(program):
        consumers.setdefault(a, []).append(b)
    t = Table(title=Text("Computation graph", style="bold"), title_justify="left")
    for col in ("node", "computes", "reads", "read by") + (("value", "adjoint") if result else ()):
        t.add_column(col, overflow="fold")
    for name in program.names:
        st = program.graph.statement(name)
        reads = ", ".join(names(st.expr)) if st is not None and st.expr is not None else ""
        computes = to_text(st.expr, "math") if st is not None and st.expr is not None else \
            ("param" if name in program.graph.params else "input")
        row = [name, computes, reads, ", ".join(dict.fromkeys(consumers.get(name, [])))]
        if result is not None:
            row += [_num(result.values[name]),
                    _num(result.adjoints[name]) if result.adjoints is not None else ""]
        t.add_row(*[Text(x) for x in row])
    return t
