"""The chain rule step by step, in the lecture's notation.

Forward: `a = x·z = 2·3 = 6`. Backward, one line per node, every consumer's term written out:
`g_a = g_d·∂d/∂a + g_e·∂e/∂a = g_d·exp(a) + g_e·(1/b) = 1·403.4 + 1·1.443 = 404.9`. The local
derivatives are the primitive table's rules (through `adjoint.build`), so the explanation shows
exactly what reverse mode computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphlang.language.ast import Expr
from graphlang.present.tables import tensor
from graphlang.primitives.table import PRIMITIVES
from graphlang.program import Program
from graphlang.symbolic import adjoint
from graphlang.symbolic.printing import tex_name, to_latex, to_text, value_of


@dataclass
class Line:
    """One line of the explanation: `node` and a chain of equal forms (text and LaTeX)."""

    phase: str  # forward, backward or gradient
    node: str
    forms: list[str]
    latex: list[str]


def short(v: Any, digits: int = 4) -> str:
    """A number for a step of the chain (4 digits) or its result (`digits=6`)."""
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        return f"{float(a) + 0.0:.{digits}g}"
    return " ".join(tensor(a).split())


def tex_value(v: Any, digits: int) -> str:
    """A value in LaTeX: a number, or a vector (a column) or matrix as a bmatrix with its real shape."""
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0 or a.ndim > 2 or a.size > 36:
        return short(v, digits)
    rows = a.reshape(-1, 1) if a.ndim == 1 else a
    return ("\\begin{bmatrix}" + " \\\\ ".join(" & ".join(f"{x + 0.0:.{digits}g}" for x in row) for row in rows)
            + "\\end{bmatrix}")


def factor(v: Any, digits: int = 4) -> str:
    text = short(v, digits)
    return f"({text})" if text.startswith("-") else text


def _paren(text: str, e: Expr) -> str:
    # dpow prints as its textbook form (a product), so it needs parentheses like one
    return text if e.op in ("var", "const") or PRIMITIVES.get(e.op, None) is not None and \
        PRIMITIVES[e.op].form[0] == "call" and e.op != "dpow" else f"({text})"


def explain(program: Program, values: dict[str, Any], node: str | None = None, digits: int = 6) -> list[Line]:
    """Every line; numbers have `digits` significant digits, the operands as many as the results, so
    that each step adds up on paper to the digits shown."""
    result = program.evaluate(values)
    g = program.graph
    arrays, shapes = program.bind(values)
    adj = adjoint.build(g, shapes)
    vals = result.values
    scalar = all(np.ndim(v) == 0 for v in vals.values()) and result.adjoints is not None
    lines: list[Line] = []
    leaf = {k: factor(v, digits) for k, v in vals.items()} if scalar else {}  # once: not per statement
    for name in g.inputs:
        lines.append(Line("forward", name, [name, short(vals[name], 10)], [name, tex_value(vals[name], 10)]))
    for st in g.statements:
        expr = adj.forward[st.name]
        forms = [st.name, to_text(expr, "math")]
        latex = [st.name, to_latex(expr)]
        if scalar and expr.op not in ("const",):
            subst = to_text(expr, "math", leaf=leaf)
            if subst != forms[-1]:
                forms.append(subst)
        forms.append(short(vals[st.name], digits))
        latex.append(tex_value(vals[st.name], digits))
        lines.append(Line("forward", st.name, forms, latex))
    if result.adjoints is None:  # a vector output (or several): one backward pass per component
        outs = ", ".join(g.outputs)
        note = (f"{outs} is not one scalar, so reverse mode runs one backward pass per output component; "
                "to see one, make it the output (e.g. `y1 = y[0]` then `output y1`), or use "
                "`graphlang grad` for the whole Jacobian")
        lines.append(Line("backward", g.outputs[0], [note],
                          ["\\text{" + note.replace("`", "").replace("_", "\\_") + "}"]))
        return [ln for ln in lines if node is None or ln.node == node]
    out = g.outputs[0]
    gs = adj.g
    env = {**{k: np.asarray(v) for k, v in vals.items()},
           **{gs(k): np.asarray(v) for k, v in result.adjoints.items()}}
    for name in [st.name for st in reversed(g.statements)] + list(g.inputs):
        total = short(result.adjoints[name], digits)
        if name == out:
            lines.append(Line("backward", name, [gs(name), f"∂{out}/∂{out}", "1"],
                              [gs(name), _partial(out, out), "1"]))
            continue
        terms = [t for t in adj.terms.get(name, []) if not (t.expr.op == "const" and t.expr.attr == 0)]
        if not terms:
            lines.append(Line("backward", name, [gs(name), "0 (no path to the output)"],
                              [gs(name), "0"]))
            continue
        chain = " + ".join(f"{gs(t.consumer)}·∂{t.consumer}/∂{name}" for t in terms)
        chain_tex = " + ".join(f"{_tex_name(gs(t.consumer))} {_partial(t.consumer, name)}" for t in terms)
        if scalar:
            rule = " + ".join(f"{gs(t.consumer)}·{_paren(to_text(t.partial, 'math'), t.partial)}"
                              for t in terms if t.partial is not None)
            rule_tex = " + ".join(f"{_tex_name(gs(t.consumer))} \\cdot \\left({to_latex(t.partial)}\\right)"
                                  for t in terms if t.partial is not None)
            nums = " + ".join(f"{factor(env[gs(t.consumer)], digits)}·{factor(value_of(t.partial, env), digits)}"
                              for t in terms if t.partial is not None)
            forms = [gs(name), chain, rule, nums, total]
            latex = [gs(name), chain_tex, rule_tex, nums.replace("·", " \\cdot "), total]
        else:
            rule = " + ".join(to_text(t.expr, "math") for t in terms)
            forms = [gs(name), chain, rule, total]
            latex = [gs(name), chain_tex, " + ".join(to_latex(t.expr) for t in terms),
                     tex_value(result.adjoints[name], digits)]
        lines.append(Line("backward", name, forms, latex))
    for name in g.inputs:
        v = short(result.adjoints[name], 10)
        lines.append(Line("gradient", name, [f"∂{out}/∂{name}", gs(name), v],
                          [_partial(out, name), _tex_name(gs(name)), tex_value(result.adjoints[name], 10)]))
    return [ln for ln in lines if node is None or ln.node == node]


TITLES = {"forward": "Forward pass", "backward": "Backward pass (reverse mode)", "gradient": "Gradient"}


def as_text(lines: list[Line], fmt: str = "text") -> str:
    """Plain text, Markdown (headings, one item per line) or LaTeX (align* per phase)."""
    out: list[str] = []
    for phase in ("forward", "backward", "gradient"):
        group = [ln for ln in lines if ln.phase == phase]
        if not group:
            continue
        if fmt == "latex":
            out.append(f"% {TITLES[phase]}")
            out.append("\\begin{align*}")
            rows = [f"{_tex_name(ln.latex[0])} &= " + " = ".join(ln.latex[1:]) if len(ln.latex) > 1 else
                    f"& {ln.latex[0]}" for ln in group]
            out.append(" \\\\\n".join(rows))
            out.append("\\end{align*}")
        elif fmt == "markdown":
            out.append(f"### {TITLES[phase]}\n")
            out.extend(f"- `{' = '.join(ln.forms)}`" for ln in group)
            out.append("")
        else:
            out.append(TITLES[phase])
            out.extend("  " + " = ".join(ln.forms) for ln in group)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _tex_name(name: str) -> str:
    return name if name.startswith("\\") else tex_name(name)


def _partial(num: str, den: str) -> str:
    return f"\\frac{{\\partial {tex_name(num)}}}{{\\partial {tex_name(den)}}}"
