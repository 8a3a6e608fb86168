"""Computation graphs drawn in the course's conventions (Graphviz DOT, and a terminal view).

One rectangle per intermediate quantity, the function it computes inside the box and the variable
name outside (above the box, in the node's HTML-like label, so edges never land on it), inputs as
nodes, shared nodes drawn once, directed edges without labels
(unless `partials`: then each edge carries the local derivative ∂consumer/∂operand).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from typing import Any

import numpy as np
from rich.table import Table
from rich.text import Text

from graphlang.errors import GraphlangError
from graphlang.files import write_text, write_with
from graphlang.ir.layout import long_edge_points
from graphlang.language.ast import names
from graphlang.numbers import short
from graphlang.present.grid import Grid, narrowed
from graphlang.program import Program, Result
from graphlang.symbolic import adjoint
from graphlang.symbolic.derivative import printed_size, swell_budget, swell_error
from graphlang.symbolic.printing import to_text, value_or_none

MAX_DRAWN_ELEMENTS = 6  # a tensor value shows its numbers up to this size, else its shape
MAX_LAID_OUT = 1000  # Graphviz's layout takes minutes (or crashes) on graphs much larger than this
MAX_GRAPHVIZ_BENDS = 10_000  # points where long edges cross columns: 7,550 took Graphviz 11 s, 14,770 past 60 s
FONT = "Helvetica"  # one family for boxes, names and edge labels


def _q(text: str) -> str:
    """A DOT string literal (escapes quotes, backslashes and newlines)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def sized(shape: tuple[int, ...], times: str = "×") -> str:
    """A tensor too big to draw, by its size: `a 64-vector`, `a 64×32 matrix` (`= shape [64]` read as
    if x were a shape: a visual review's find)."""
    if len(shape) == 1:
        return f"a {shape[0]}-vector"
    return f"a {times.join(map(str, shape))} {'matrix' if len(shape) == 2 else 'tensor'}"


def _num(v: Any) -> str:
    """A value for a drawing: a number, a small vector or matrix in full, else its shape."""
    if v is None:  # an adjoint or a local derivative that does not exist at this point
        return "undefined"
    a = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        return "not finite" if a.ndim == 0 else f"{sized(a.shape)}, not finite"
    if a.ndim == 0:
        return short(a, 4)
    if a.size > MAX_DRAWN_ELEMENTS or a.ndim > 2 or a.ndim == 2 and a.shape[1] > 4:
        return sized(a.shape)
    if a.ndim == 1:
        return "[" + ", ".join(f"{x + 0.0:.3g}" for x in a) + "]"
    return "[" + ",\n ".join("[" + ", ".join(f"{x + 0.0:.3g}" for x in row) + "]" for row in a) + "]"


def edges(program: Program) -> list[tuple[str, str]]:
    """(operand, consumer) pairs between named nodes, in statement order, each once."""
    out: list[tuple[str, str]] = []
    for st in program.graph.statements:
        assert st.expr is not None
        for n in names(st.expr):
            out.append((n, st.name))
    return list(dict.fromkeys(out))


def declared_shapes(program: Program) -> list[Any]:
    """Every slot's shape from the declarations alone (an undeclared input is a scalar)."""
    decl = program.checked.declared
    return program.graph.shapes(tuple(decl.get(n) or () for n in program.graph.inputs))


def _name_shapes(program: Program, values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Each name's shape (from the values, else the declarations), for matrix calculus in labels;
    None when undeclared inputs leave them unknown (an input read by `@` is no scalar)."""
    try:
        shapes = program.bind(values)[1] if values is not None else declared_shapes(program)
    except GraphlangError:
        return None
    return {n: shapes[s] for n, s in program.graph.slot_of.items()}


Edge = tuple[str, str, Any, Any, Any]  # operand, consumer, expression, g_c (None: a scalar consumer), value


def local_derivatives(program: Program, shapes: list[Any], result: Any) -> tuple[Any, list[Edge]]:
    """Each edge's local derivative, as the primitive table's rules give it, and every name's shape
    (for printing matrix calculus). A scalar consumer c has the partial ∂c/∂a (g_c None); a tensor
    consumer's local derivative is a Jacobian, so the expression is what reverse mode does with it,
    the vector-Jacobian product g_c ↦ g_c·∂c/∂a, valued only when g_c is known (a scalar output).
    Shared by the DOT and TikZ drawings."""
    g = program.graph
    adj = adjoint.build(g, shapes, outputs=g.names)  # every edge, also those the output does not read
    sizes: dict[int, int] = {}  # (the nodes of one builder: each counted once)
    printed = sum(printed_size(t.expr, sizes) + (0 if t.partial is None else printed_size(t.partial, sizes))
                  for ts in adj.terms.values() for t in ts)
    if printed > swell_budget(g):  # refused before any is printed (x^x^…^x: gigabytes of labels)
        raise swell_error(g, printed, "the edge labels")
    env: dict[str, Any] = {}
    if result is not None:
        env = {k: np.asarray(v) for k, v in result.values.items()}
        if result.adjoints is not None:
            env.update({adj.g(k): np.asarray(v) for k, v in result.adjoints.items()})
    edges: list[Edge] = []
    for name, terms in adj.terms.items():
        for t in terms:
            scalar = shapes[g.slot_of[t.consumer]] == ()
            e = t.partial if scalar else t.expr
            if e is None:
                continue
            seed = None if scalar else adj.g(t.consumer)
            value = value_or_none(e, env) if env and (seed is None or seed in env) else None
            edges.append((name, t.consumer, e, seed, value))
    zero = adj.builder.const(0.0)
    for name, consumers in adj.zeros.items():  # on a path, ∂consumer/∂name = 0 (a = x * 0, step(x))
        for c in consumers:
            edges.append((name, c, zero, None, 0.0 if env else None))
    return adj.builder.var_shapes, edges


def labelled(text: str, number: str | None) -> str:
    """`expression = number`, or the number alone for a constant partial (not "1 = 1")."""
    return text if number is None or number == text else f"{text} = {number}"


def edge_partials(program: Program, values: dict[str, Any] | None, result: Result | None
                  ) -> dict[tuple[str, str], str]:
    """(operand, consumer) -> the local derivative as text (`local_derivatives`); numbers when
    values are known. Without values, the shapes come from the declarations."""
    shapes = program.bind(values)[1] if values is not None else declared_shapes(program)
    known, edges = local_derivatives(program, shapes, result)  # (matrix calculus needs the shapes)
    local: dict[tuple[str, str], str] = {}
    for name, consumer, e, seed, value in edges:
        form = to_text(e, "math", shapes=known)
        number = None if value is None or _num(value) == form else _num(value)  # (not "g ↦ 0 = 0")
        local[(name, consumer)] = labelled(form if seed is None else f"{seed} ↦ {form}", number)
    return local


LABEL_MOST = 200  # characters of an expression in a box or on an edge (Graphviz refuses a label past 16,384)


def _cut(text: str) -> str:
    """A label cut at LABEL_MOST characters (a 2,000-term sum on one line: `graph -o` failed), with "…"."""
    return text if len(text) <= LABEL_MOST else text[:LABEL_MOST - 1].rstrip() + "…"


def _box(text: str, name: str | None, border: int, rounded: bool) -> str:
    """An HTML-like label: the box (port `box`, where edges attach) with the name above it, outside
    the box and inside the node's bounds, so edges are routed around the name, never onto it."""
    lines = "<br/>".join(html.escape(line) for line in text.split("\n"))
    style = ' style="rounded"' if rounded else ""
    cell = f'<td port="box" border="{border}" cellpadding="5"{style}>{lines}</td>'
    head = f'<tr><td align="left" cellpadding="1"><i>{html.escape(name)}</i></td></tr>' if name else ""
    return f'<<table border="0" cellborder="0" cellspacing="0">{head}<tr>{cell}</tr></table>>'


def to_dot(program: Program, values: dict[str, Any] | None = None, partials: bool = False) -> str:
    result = program.evaluate(values) if values is not None else None
    g = program.graph
    outputs = set(g.outputs)
    g_ = adjoint.choose_prefix(g.names)  # g_, or grad_ where the program has a node g_a (as explain)
    lines = ["digraph computation {", "  rankdir=LR;", f'  graph [fontname="{FONT}", nodesep=0.3];',
             f'  node [shape=plain, fontname="{FONT}"];',
             f'  edge [arrowhead=normal, fontname="{FONT}", fontsize=11, tailport=box, headport=box];']
    for name in g.inputs:
        label = name if result is None else f"{name}\n= {_num(result.values[name])}"
        if result is not None and result.adjoints is not None:
            label += f"\n{g_}{name} = {_num(result.adjoints.get(name))}"
        kind = "param" if name in g.params else "input"
        box = _box(label, None, 2 if name in outputs else 1, rounded=True)
        lines.append(f"  {_q(name)} [label={box}, tooltip={_q(kind)}];")
    known = _name_shapes(program, values)
    for st in g.statements:
        assert st.expr is not None
        label = _cut(to_text(st.expr, "math", shapes=known))
        if result is not None:
            value = _num(result.values[st.name])
            label += "" if "".join(value.split()) == "".join(label.split()) else f"\n= {value}"  # (not "2 = 2")
            if result.adjoints is not None:
                label += f"\n{g_}{st.name} = {_num(result.adjoints.get(st.name))}"
        box = _box(label, st.name, 2 if st.name in outputs else 1, rounded=False)
        lines.append(f"  {_q(st.name)} [label={box}, tooltip={_q(st.name)}];")
    local = edge_partials(program, values, result) if partials else {}
    for a, b in edges(program):
        part = local.get((a, b))  # `∂a/∂z = x = 2` (the lecture's local derivative); a map `g_B ↦ …` as it is
        attrs = "" if part is None else f" [label={_q(_cut(part if '↦' in part else f'∂{b}/∂{a} = {part}'))}]"
        lines.append(f"  {_q(a)} -> {_q(b)}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


MAX_PIXELS = 8000  # the longer side of a PNG


def render_file(dot_text: str, path: str, dpi: int = 200, program: Program | None = None) -> str | None:
    """Write .dot, or .svg/.png/.pdf through Graphviz; returns a message when `dot` is missing.
    `program`: refused at once where its long edges would hold Graphviz past its time limit."""
    fmt = path.rsplit(".", 1)[-1].lower() if "." in path else "dot"
    if fmt == "dot":
        write_text(path, dot_text)
        return None
    if fmt not in ("svg", "png", "pdf"):
        raise GraphlangError("usage", f"-o {path}: write .dot, .svg, .png, .pdf or .tex")
    nodes = dot_text.count(" [label=<")
    if nodes > MAX_LAID_OUT:
        raise GraphlangError("limit", f"the graph has {nodes:,} nodes: too many for Graphviz to lay out "
                             f"(at most {MAX_LAID_OUT:,})", hint="write .dot instead, or draw a smaller "
                             "program; `graphlang ir` lists every equation")
    bends = long_edge_points(program.graph) if program is not None else 0
    if bends > MAX_GRAPHVIZ_BENDS:  # (140 statements each reading one from far back: past 60 s)
        raise GraphlangError("limit", f"the graph's edges cross {bends:,} columns: Graphviz would take minutes "
                             f"to lay it out (at most {MAX_GRAPHVIZ_BENDS:,})",
                             hint="write -o graph.tex (graphlang's own layered layout) or .dot")
    exe = shutil.which("dot")
    if exe is None:
        alt = path.rsplit(".", 1)[0] + ".dot"
        write_text(alt, dot_text)
        return (f"Graphviz is not installed, so {path} was not drawn; the DOT source is in {alt} "
                "(install the `graphviz` package, e.g. apt-get install graphviz)")
    try:
        # a PNG at most MAX_PIXELS on its longer side (a 60-node graph was 13,403 px wide and took
        # seconds to rasterize; 200 nodes, 32,767 px, more than image viewers open): scaled down
        inches = f"{MAX_PIXELS / dpi:.3f}"
        proc = subprocess.run([exe, f"-T{fmt}", f"-Gdpi={dpi}", f"-Gsize={inches},{inches}"] if fmt == "png"
                              else [exe, f"-T{fmt}"],
                              input=dot_text.encode(), capture_output=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        raise GraphlangError("limit", "Graphviz did not finish drawing in 60 s",
                             hint="write .dot instead, or draw a smaller program") from None
    if proc.returncode != 0:
        why = proc.stderr.decode(errors="replace").strip()[:200] or (
            f"it crashed (signal {-proc.returncode})" if proc.returncode < 0 else f"exit status {proc.returncode}")
        raise GraphlangError("io", f"Graphviz failed to draw {path}: {why}",
                             hint="write .dot instead, or draw a smaller program")
    data = proc.stdout
    if fmt == "pdf":  # cairo stamps the time (and ignores SOURCE_DATE_EPOCH): same input, same bytes
        data = _DATE.sub(lambda m: m.group(1) + b"19700101000000" + m.group(2), data)
    write_with(path, lambda fh: fh.write(data))
    return None


_DATE = re.compile(rb"(/(?:CreationDate|ModDate) \(D:)\d{14}([^)]*\))")  # same length: the xref holds


def svg(dot_text: str) -> str | None:
    exe = shutil.which("dot")
    if exe is None:
        return None
    proc = subprocess.run([exe, "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=60,
                          check=False)
    return proc.stdout.decode() if proc.returncode == 0 else None


class _Narrowing:
    """A table that, printed narrower than its words (a number, a name), is a block per row instead:
    Rich broke inside numbers (`12` above `08` for 1208; a REPL red team's `:graph` at 40 columns)."""

    def __init__(self, grid: Grid, table: Table) -> None:
        self.grid, self.table = grid, table

    def __rich_console__(self, console: Any, options: Any) -> Any:
        shown = narrowed(self.grid, options.max_width)
        yield Text(shown) if isinstance(shown, str) else self.table


def terminal_view(program: Program, values: dict[str, Any] | None = None, partials: bool = False) -> Any:
    """The graph as a Rich table (`terminal_grid`); a block per node where the width is too narrow."""
    g = terminal_grid(program, values, partials)
    t = Table(title=Text(g.title, style="bold"), title_justify="left")
    for col in g.columns:
        t.add_column(col, overflow="fold")
    for row in g.rows:
        t.add_row(*[Text(x) for x in row])
    return _Narrowing(g, t)


def terminal_grid(program: Program, values: dict[str, Any] | None = None, partials: bool = False) -> Grid:
    """The graph as a table: each node, what it computes, what it reads, what reads it (and, with
    `partials`, its local derivative by each operand)."""
    result = program.evaluate(values) if values is not None else None
    local = edge_partials(program, values, result) if partials else {}
    consumers: dict[str, list[str]] = {}
    operands: dict[str, list[str]] = {}  # each node's incoming edges, in edge order (one pass: linear)
    for a, b in edges(program):
        consumers.setdefault(a, []).append(b)
        operands.setdefault(b, []).append(a)
    known = _name_shapes(program, values)
    t = Grid("Computation graph", ("node", "computes", "reads", "read by") + (("value", "adjoint") if result else ())
             + (("local derivatives",) if partials else ()), min_width=False)
    for name in program.names:
        st = program.graph.statement(name)
        reads = ", ".join(names(st.expr)) if st is not None and st.expr is not None else ""
        computes = to_text(st.expr, "math", shapes=known) if st is not None and st.expr is not None else \
            ("param" if name in program.graph.params else "input")
        row = [name, computes, reads, ", ".join(dict.fromkeys(consumers.get(name, [])))]
        if result is not None:
            row += [_num(result.values[name]),
                    _num(result.adjoints.get(name)) if result.adjoints is not None else ""]
        if partials:
            row.append("\n".join(f"∂{name}/∂{a}: {local[(a, name)]}" for a in operands.get(name, [])
                                  if (a, name) in local))
        t.add_row(*row)
    return t
