"""What a worksheet asks and in which words: an assignment's quantities as the sheet's sections, the
steps, the precision and the way to hand in (a TA's find: every sheet said 3 figures, a JSON file
and every adjoint, whatever the assignment asked), and the program as a page prints it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphlang.grading import tangents
from graphlang.grading.quantities import canonical, node_adjoints, node_values
from graphlang.language.ast import names as names_in
from graphlang.program import Program
from graphlang.symbolic import adjoint
from graphlang.symbolic.printing import tex_name


@dataclass(frozen=True)
class Sheet:
    """What a worksheet asks and how its answers are judged; the default is a generated exercise's
    (every value, adjoint and gradient, to 3 significant figures, in a JSON file)."""

    adjoints: tuple[str, ...] | None = None  # the nodes whose adjoint is asked (None: every one)
    gradient: tuple[str, ...] | None = None  # the inputs whose ∂y/∂x is asked (None: all but the fixed)
    tangents: tuple[tuple[str, str], ...] = ()  # (node, input): the node's tangent in the pass seeded there
    precision: str = "3 significant figures"  # (answers only: a worksheet prints the reference program)
    values: tuple[str, ...] | None = None  # the nodes whose value is graded (None: every one)
    # an instructor's own assignment: no command that grades with assignment.toml, which holds the
    # reference (a TA's find: the worksheet told students to check themselves against the key)
    graded: bool = False

    @property
    def forward_gradient(self) -> bool:
        """The gradient read off forward mode's passes (tangents asked, no adjoint): no backward pass."""
        return bool(self.tangents) and self.adjoints == ()


def sheet_for(prog: Program, quantities: list[str], precision: str) -> Sheet:
    """An assignment's sheet from the quantities it asks (canonical keys: values, adjoints, gradient,
    tangents) and its precision in words."""
    prefix = adjoint.choose_prefix(prog.names)
    adjoints: list[str] = []
    gradient: list[str] = []
    tangent: list[tuple[str, str]] = []
    values: list[str] = []
    for q in quantities:
        c = canonical(q, prog, prefix) or q
        values += [c] if c in prog.graph.slot_of and c not in prog.graph.input_set else []
        if tangents.tangent_key(c, prog):
            node, x = c[1:].split("/d", 1)
            tangent.append((node, x))
        elif c not in prog.graph.slot_of and c.startswith(prefix):
            (gradient if c[len(prefix):] in prog.graph.input_set else adjoints).append(c[len(prefix):])
    every = node_values(prog)  # (all the nodes asked: nothing to say; a named literal's value is given)
    moved = {a[2:] for a in node_adjoints(prog, every)} - set(prog.inputs)
    return Sheet(None if set(adjoints) == moved else tuple(adjoints), tuple(gradient), tuple(tangent), precision,
                 None if set(values) == set(every) else tuple(values))


def intro(prog: Program, sheet: Sheet, back: list[str], wrt: list[str], tex: bool, tensors: bool = False) -> list[str]:
    """The output(s), the steps the sheet asks for, and the precision and how to hand in, in the
    sheet's words (text, or LaTeX: math in $…$, commands in \\texttt); with `tensors`, that an
    adjoint has its node's shape (only the answers template said so: a TA's find)."""
    out = prog.outputs[0]
    m = (lambda t: f"${t}$") if tex else (lambda t: t)  # noqa: E731 (math, as each format writes it)
    name = (lambda n: tex_name(n)) if tex else (lambda n: n)  # noqa: E731
    d = (lambda a, b: f"\\partial {name(a)}/\\partial {name(b)}") if tex else (lambda a, b: f"∂{a}/∂{b}")  # noqa: E731
    steps = ["run the forward pass: the value of every node" + _graded(sheet.values, "the values", name, m)]
    if back:
        steps.append(f"run the backward pass (reverse mode): every adjoint {m('g_v = ' + d(out, 'v'))}, from "
                     f"{m(name('g_' + out) + ' = 1')} back to the inputs"
                     + _graded(sheet.adjoints and tuple(f"g_{n}" for n in sheet.adjoints), "the adjoints", name, m)
                     + (f"; each adjoint has the shape of its node (denominator layout: {m(name('g_W'))} of a "
                        f"matrix {m(name('W'))} is a matrix of the same shape)" if tensors else ""))
    if sheet.tangents:
        seeds = ", ".join(m(name(x)) for x in dict.fromkeys(x for _, x in sheet.tangents))
        steps.append(f"run forward mode, one pass seeded at each of {seeds} (its own tangent 1, the other inputs' "
                     "0): the tangents asked below")
    if wrt and len(prog.outputs) == 1:
        by = (lambda x: f"d{name(out)}/d{name(x)}") if sheet.forward_gradient else (lambda x: name("g_" + x))  # noqa: E731
        steps.append("read off the gradient: " + ", ".join(m(f"{d(out, x)} = {by(x)}") for x in wrt)
                     + (" (the output's tangents)" if sheet.forward_gradient else ""))
    code = (lambda c: f"\\texttt{{{tex_escape(c)}}}") if tex else (lambda c: f"`{c}`")  # noqa: E731
    template = code("graphlang check --assignment assignment.toml --template > answers.json")
    grade = code("graphlang check --assignment assignment.toml --answers answers.json")
    if sheet.graded:
        names = code("answers_template.json")
        return [_shown_output(prog, m, name), *steps, f"Answers are graded to {sheet.precision}. Submit a JSON file "
                f"of answers: {names} names every one to fill in."]
    how = f"Submit a JSON file of answers ({template} writes one to fill in); {grade} grades it."
    return [_shown_output(prog, m, name), *steps, f"Answers are graded to {sheet.precision}. {how}"]


def _shown_output(prog: Program, m: Any, name: Any) -> str:
    out = prog.outputs[0]
    return m(name(out)) if len(prog.outputs) == 1 else m("(" + ", ".join(name(n) for n in prog.outputs) + ")")


def _graded(asked: tuple[str, ...] | None, what: str, name: Any, m: Any) -> str:
    """Which of a pass's quantities are graded, where not all are: the others are the student's working."""
    if asked is None:
        return ""
    if not asked:
        return f" (your working: {what} are not graded)"
    return f" (graded: {', '.join(m(name(n)) for n in asked)}; the others are your working)"


def listing(source: str, width: int = 84) -> str:
    """The program for a page: a comment line past `width` characters goes on over lines of its
    own (a long header ran off the page's margin, a TA's find); code is never broken; a comment
    telling how to run it (`# Run it: graphlang run …`, every answer in one command) is left out."""
    out = []
    for line in source.rstrip("\n").split("\n"):
        body = line.lstrip()
        if body.startswith("#") and "graphlang " in body:
            continue
        if len(line) <= width or not body.startswith("#"):
            out.append(line)
            continue
        lead, words, row = line[: len(line) - len(body)], body[1:].split(), ""
        for w in words:
            if row and len(lead) + 2 + len(row) + 1 + len(w) > width:
                out.append(f"{lead}# {row}")
                row = ""
            row = f"{row} {w}" if row else w
        out.append(f"{lead}# {row}")
    return "\n".join(out)


def step_end(k: int, steps: list[str]) -> str:
    """The punctuation closing step k of a numbered list: ";", and "." after the last."""
    return "." if k == len(steps) else ";"


def tangent_rule(prog: Program, node: str, x: str, tex: bool) -> str:
    """`da/dx = ∂a/∂b·db/dx + …` over the arguments of a's statement that x moves (the chain rule
    of forward mode, as the backward table's is of reverse mode)."""
    g = prog.graph
    st = g.statement(node)
    moved = g.reached_from([g.slot_of[x]])
    reads = [b for b in dict.fromkeys(names_in(st.expr)) if moved[g.slot_of[b]]] if st and st.expr else []
    if tex:
        return " + ".join(f"\\frac{{\\partial {tex_name(node)}}}{{\\partial {tex_name(b)}}}" + (
            "" if b == x else f" \\frac{{d{tex_name(b)}}}{{d{tex_name(x)}}}") for b in reads)
    return " + ".join(f"∂{node}/∂{b}" + ("" if b == x else f"·d{b}/d{x}") for b in reads)


def tex_escape(text: str) -> str:
    """Text for LaTeX's text mode: its ten special characters made literal."""
    table = {"\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "$": "\\$", "&": "\\&", "#": "\\#",
             "^": "\\^{}", "_": "\\_", "%": "\\%", "~": "\\~{}"}
    return "".join(table.get(ch, ch) for ch in text)
