"""The chain rule step by step, in the lecture's notation.

Forward: `a = x·z = 2·3 = 6`. Backward, one line per node, every consumer's term written out:
`g_a = g_d·∂d/∂a + g_e·∂e/∂a = g_d·exp(a) + g_e·(1/b) = 1·403.4 + 1·1.443 = 404.9`. The local
derivatives are the primitive table's rules (through `adjoint.build`), so the explanation shows
exactly what reverse mode computes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from graphlang.language.ast import Expr
from graphlang.limits import gc_paused
from graphlang.numbers import tex_numbers
from graphlang.present import components as C
from graphlang.present.passtext import Line, tex_text
from graphlang.present.passtext import as_text as as_text  # (the lines and their writing, as one module's)
from graphlang.present.textviews import one_line
from graphlang.primitives.table import PRIMITIVES
from graphlang.program import Program
from graphlang.symbolic import adjoint, texbreak
from graphlang.symbolic import matrixtext as MT
from graphlang.symbolic.derivative import printed_size, swell_budget, swell_error
from graphlang.symbolic.printing import tex_name, to_latex, to_text, value_or_none
from graphlang.symbolic.texnames import tensor_names


def short(v: Any, digits: int = 4) -> str:
    """A number for a step of the chain (4 digits) or its result (`digits=6`)."""
    if v is None:  # an adjoint or a local derivative that does not exist at this point
        return "undefined"
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        return f"{float(a) + 0.0:.{digits}g}"
    return one_line(a, digits)


def tex_number(x: float, digits: int) -> str:
    """A number in LaTeX: `6.1 \\times 10^{-17}`, never `6.1e-17` (which prints as a subtraction)."""
    text = f"{x + 0.0:.{digits}g}"
    return {"inf": "\\infty", "-inf": "-\\infty", "nan": "\\text{NaN}"}.get(text, tex_numbers(text))


MATRIX_WIDTH = 48  # symbols a matrix's row may take beside its name (an article's line holds ≈ 62)


def _shown(n: int, most: int) -> list[int | None]:
    """The indices of an axis to print: all, or the first three, a gap (None) and the last two."""
    return list(range(n)) if n <= most else [0, 1, 2, None, n - 2, n - 1]


def tex_value(v: Any, digits: int) -> str:
    """A value in LaTeX: a number, or a vector (a column) or matrix as a bmatrix with its real shape
    (a stack of them: the bmatrices in brackets); a long axis shows its ends around dots."""
    if v is None:
        return r"\text{undefined}"
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        return tex_number(float(a), digits)
    if a.size == 0:
        return r"\left[\,\right]_{" + r" \times ".join(map(str, a.shape)) + "}"
    if a.ndim > 2:  # a stack of matrices: each in turn, in brackets
        parts = ["\\dots" if k is None else tex_value(a[k], digits) for k in _shown(a.shape[0], 6)]
        return "\\left[" + ",\\ ".join(parts) + "\\right]"
    rows = a.reshape(-1, 1) if a.ndim == 1 else a
    n = rows.shape[1]
    dots = {(True, True): "\\ddots", (True, False): "\\vdots", (False, True): "\\cdots"}
    layouts = [_shown(n, 8)] + [c for c in ([0, 1, None, n - 1], [0, None, n - 1]) if len(c) < min(n, 6)]
    for cols in layouts:  # bmatrix takes 10 columns at most; fewer where they would run off the page
        cells = [[dots[r is None, c is None] if r is None or c is None else tex_number(rows[r, c], digits)
                  for c in cols] for r in _shown(rows.shape[0], 12)]
        if max(texbreak.width(" & ".join(row)) for row in cells) <= MATRIX_WIDTH:
            break
    return "\\begin{bmatrix}" + " \\\\ ".join(" & ".join(row) for row in cells) + "\\end{bmatrix}"


def factor(v: Any, digits: int = 4, tex: bool = False) -> str:
    """A number as an operand: `(-12.36)`, in LaTeX `\\left(-12.36\\right)`."""
    text = tex_number(float(v), digits) if tex else short(v, digits)
    return text if not text.startswith("-") else f"\\left({text}\\right)" if tex else f"({text})"


def math_text(e: Expr, shapes: Any, used: set[str]) -> str:
    """Math text with the tensor helpers in matrix calculus (noting in `used` when it wrote any)."""
    return to_text(e, "math", shapes=shapes, used=used)


def paren(text: str, e: Expr, tex: bool = False) -> str:
    # dpow prints as its textbook form (a product), so it needs parentheses like one; g_w·(-1), not g_w·-1
    bare = e.op in ("var", "const") or e.op in PRIMITIVES and PRIMITIVES[e.op].form[0] == "call" and e.op != "dpow"
    return text if bare and not text.startswith("-") else f"\\left({text}\\right)" if tex else f"({text})"


def explain(program: Program, values: dict[str, Any], node: str | None = None, digits: int = 6,
            of: str | None = None, with_latex: bool = True, backward: bool = True) -> list[Line]:
    """Every line (see `_explain`; without `backward`, the forward pass alone); many small acyclic
    objects: the cyclic GC is paused meanwhile."""
    with gc_paused(), tensor_names(tensors(program, values)):
        return _explain(program, values, node, digits, of, with_latex, backward)


def tensors(program: Program, values: Mapping[str, Any] | None) -> list[str]:
    """The names whose value has an axis at these values (LaTeX writes them bold: `tensor_names`)."""
    shapes = program.bind(values)[1]
    return [n for n, s in program.graph.slot_of.items() if shapes[s]]


def _explain(program: Program, values: dict[str, Any], node: str | None, digits: int,
             of: str | None, with_latex: bool, backward: bool) -> list[Line]:
    """Every line; numbers have `digits` significant digits, the operands as many as the results, so
    that each step adds up on paper to the digits shown. A program whose output is not one scalar
    gets a backward pass per output component (the first `MAX_COMPONENTS`, then a note), or only for
    the component `of` names (`y[9]`)."""
    result = program.evaluate(values)
    tex: Any = _latex_of(program) if with_latex else blank  # the text alone: no LaTeX to make
    tv: Any = tex_value if with_latex else blank
    name_tex, written_tex, frac, ptex = _latex_names(with_latex)
    g = program.graph
    arrays, shapes = program.bind(values)
    vals = result.values
    scalar = all(np.ndim(v) == 0 for v in vals.values())
    lines: list[Line] = []
    # (the forward pass alone needs no terms: the forward expressions only)
    adj = adjoint.build(g, shapes) if backward else adjoint.build(g, shapes, outputs=[], partials=False)
    sizes: dict[int, int] = {}  # (the nodes of one builder: each counted once)
    printed = sum(printed_size(t.expr, sizes) + (0 if t.partial is None else printed_size(t.partial, sizes))
                  for ts in adj.terms.values() for t in ts)
    if printed > swell_budget(g) and backward:  # each pass prints every term: refused before any is printed
        raise swell_error(g, printed, "the backward pass")
    known = adj.builder.var_shapes
    leaf = {k: factor(v, digits) for k, v in vals.items()} if scalar else {}  # once: not per statement
    leaf_tex = {k: factor(v, digits, tex=True) for k, v in vals.items()} if scalar and with_latex else {}
    for name in g.inputs:
        lines.append(Line("forward", name, [name, short(vals[name], max(digits, 10))],
                          [name_tex(name), tv(vals[name], max(digits, 10))], value=vals[name]))
    for st in g.statements:
        expr = st.expr  # as typed (`z * z`, not the builder's z²; `x * 0`, not 0)
        assert expr is not None
        used: set[str] = set()
        forms = [st.name, to_text(expr, "math", shapes=known, used=used)]
        latex = [name_tex(st.name), tex(expr, known)]
        if scalar and expr.op not in ("const",):
            subst = to_text(expr, "math", leaf=leaf, shapes=known)
            if subst != forms[-1]:
                forms.append(subst)
                latex.append(to_latex(expr, known, "e" in program.names, leaf_tex) if with_latex else "")
        value = short(vals[st.name], digits)
        if value == forms[-1] or value.startswith(forms[-1] + " (shape"):  # a literal (`c = [1, 2, 3]`)
            forms[-1] = value  # is its own value: written once
        else:
            forms.append(value)
            latex.append(tv(vals[st.name], digits))
        lines.append(Line("forward", st.name, forms, latex, matrix=bool(used), value=vals[st.name]))
    note = ""
    only = C.parse_of(program, shapes, of) if of is not None else None
    if result.adjoints is not None:  # the one scalar output (`--of y` names it too)
        passes = [C.Pass(g.outputs[0], None, result.adjoints, None)]
    elif backward:
        passes, note = C.component_passes(program, arrays, shapes, only)
    for p in passes if backward else []:
        if p.label is not None:
            adj = adjoint.build(g, shapes, outputs=[p.output])
        lines.extend(_backward(program, adj, vals, p, scalar, digits, with_latex))
    note = " ".join(n for n in (C.vector_transposes(program, shapes), note) if n)
    if note:
        lines.append(Line("note", g.outputs[0], [note], ["\\text{" + tex_text(note) + "}"]))
    shown = [ln for ln in lines if node is None or ln.node == node or ln.phase == "note"]
    if any(ln.matrix for ln in shown):  # the text's 1 and eᵢ are not numbers (LaTeX writes them bold)
        written = "\n".join(f for ln in shown if ln.matrix for f in ln.forms)  # (a scalar step's ·1 is a number)
        shown.append(Line("legend", g.outputs[0], [MT.legend(written)], []))
    return shown


def _backward(program: Program, adj: adjoint.Adjoints, vals: dict[str, Any], p: C.Pass, scalar: bool,
              digits: int, with_latex: bool = True) -> list[Line]:
    """The backward pass seeded at one output (component): a line per node, then the gradient."""
    tex: Any = _latex_of(program) if with_latex else blank
    tv: Any = tex_value if with_latex else blank
    name_tex, written_tex, frac, ptex = _latex_names(with_latex)
    g = program.graph
    out, of = p.output, p.label
    top, top_tex = C.label(out, p.index), C.tex_label(out, p.index)
    known, gs = adj.builder.var_shapes, adj.g
    env = {**{k: np.asarray(v) for k, v in vals.items()}, **{gs(k): np.asarray(v) for k, v in p.adjoints.items()}}
    lines: list[Line] = []
    order = [st.name for st in reversed(g.statements)]  # the seed first, nodes after it (several outputs) last
    k = order.index(out) if out in order else 0
    for name in order[k:] + list(g.inputs) + order[:k]:
        total = short(p.adjoints.get(name), digits)
        if name == out:
            seed, seed_tex = [], []  # a vector's component k: the seed is the one-hot e_k
            if p.index is not None and len(p.index) == 1:
                seed, seed_tex = [MT.unit(p.index[0])], [f"\\mathbf{{e}}_{{{p.index[0]}}}"]
            lines.append(Line("backward", name, [gs(name), f"∂{top}/∂{out}", *seed, total],
                              [name_tex(gs(name)), ptex(top_tex, name), *seed_tex,
                               tv(p.adjoints.get(name), digits)], of, bool(seed), p.adjoints.get(name)))
            continue
        terms = [t for t in adj.terms.get(name, []) if not (t.expr.op == "const" and t.expr.attr == 0)]
        if not terms:
            zero = adj.zeros.get(name, [])  # on a path, but each ∂consumer/∂name is 0 (a = x * 0)
            if zero:
                lines.append(Line("backward", name, [
                    gs(name), " + ".join(f"{gs(c)}·∂{c}/∂{name}" for c in zero),
                    " + ".join(f"{gs(c)}·0" for c in zero), total], [
                    name_tex(gs(name)), " + ".join(f"{written_tex(gs(c))} {frac(c, name)}" for c in zero),
                    " + ".join(f"{written_tex(gs(c))} \\cdot 0" for c in zero), tv(p.adjoints.get(name), digits)], of,
                    value=p.adjoints.get(name)))
                continue
            why = f"(no path to {'the output' if of is None else of})"
            lines.append(Line("backward", name, [gs(name), f"{total} {why}"], [name_tex(gs(name)),  # ([0, 0]: a vector)
                              f"{tv(p.adjoints.get(name), digits)} \\quad \\text{{{tex_text(why)}}}"], of,
                              value=p.adjoints.get(name)))
            continue
        used: set[str] = set()  # whether the text writes matrix calculus (then the legend)
        chain = " + ".join(f"{gs(t.consumer)}·∂{t.consumer}/∂{name}" for t in terms)
        chain_tex = " + ".join(f"{written_tex(gs(t.consumer))} {frac(t.consumer, name)}" for t in terms)
        if scalar or _scalar_step(name, terms, adj.zeros.get(name, []), known):  # the lecture's g_c·∂c/∂a
            rule = " + ".join(f"{gs(t.consumer)}·{paren(math_text(t.partial, known, used), t.partial)}"
                              for t in terms if t.partial is not None)
            rule_tex = " + ".join(  # (g_a·z, not g_a·(z): as the text)
                f"{written_tex(gs(t.consumer))} \\cdot {paren(tex(t.partial, known), t.partial, True)}"
                for t in terms if t.partial is not None)
            nums = " + ".join(f"{factor(env.get(gs(t.consumer)), digits)}·"
                              f"{factor(value_or_none(t.partial, env), digits)}"
                              for t in terms if t.partial is not None)
            for c in adj.zeros.get(name, []):  # consumers whose ∂c/∂name is 0: part of the sum all the same
                chain += f" + {gs(c)}·∂{c}/∂{name}"
                chain_tex += f" + {written_tex(gs(c))} {frac(c, name)}"
                rule, rule_tex = rule + f" + {gs(c)}·0", rule_tex + f" + {written_tex(gs(c))} \\cdot 0"
                nums += f" + {factor(env.get(gs(c)), digits)}·0"
            forms = [gs(name), chain, rule, nums, total]
            latex = [name_tex(gs(name)), chain_tex, rule_tex, tex_undefined(nums.replace("·", " \\cdot ")),
                     tex_undefined(total)]
        else:  # denominator layout: ∂c/∂a g_c, the Jacobian's matrix times the adjoint (as the rule)
            chain = " + ".join(f"∂{t.consumer}/∂{name} {gs(t.consumer)}" for t in terms)
            chain_tex = " + ".join(f"{frac(t.consumer, name)} {written_tex(gs(t.consumer))}" for t in terms)
            rule = _plus([math_text(t.expr, known, used) for t in terms])
            forms = [gs(name), chain, rule, total]
            latex = [name_tex(gs(name)), chain_tex, _plus([tex(t.expr, known) for t in terms]),
                     tv(p.adjoints.get(name), digits)]
        lines.append(Line("backward", name, forms, latex, of, bool(used), p.adjoints.get(name)))
    for name in g.inputs:
        full = max(digits, 10)  # the answer: never fewer digits than asked for
        lines.append(Line("gradient", name, [f"∂{top}/∂{name}", gs(name), short(p.adjoints[name], full)],
                          [ptex(top_tex, name), written_tex(gs(name)), tv(p.adjoints[name], full)], of,
                          value=p.adjoints[name]))
    return lines


def _plus(terms: list[str]) -> str:
    """Terms summed, a negated one subtracted: `-g_J·t·(1/p) - g_J·𝟏/4`, not `… + -g_J·𝟏/4` (a docs
    red team's find; a term's leading minus negates only its first factor, so x + -a·b is x - a·b)."""
    return "".join((t if k == 0 else f" - {t[1:]}" if t.startswith("-") else f" + {t}") for k, t in enumerate(terms))


def _scalar_step(name: str, terms: list[Any], zeros: list[str], known: Mapping[str, Any] | None) -> bool:
    """A step of scalars in a program with tensors: a scalar node whose consumers are all scalars and
    whose partials are known is written as in the lecture, with its numbers (`g_u = g_J·∂J/∂u`)."""
    if known is None:
        return False
    return known.get(name) == () and all(t.partial is not None and known.get(t.consumer) == () for t in terms) \
        and all(known.get(c) == () for c in zeros)


def tex_undefined(math: str) -> str:
    """A step's numbers in LaTeX: the word "undefined" (no value at this point) as text, 1e-12 as
    1 \\times 10^{-12}."""
    return tex_numbers(math).replace("undefined", r"\text{undefined}")


def blank(*args: Any) -> str:
    return ""


def _latex_names(with_latex: bool) -> tuple[Callable[..., str], ...]:
    """A name, a name or LaTeX already, ∂a/∂b, ∂(LaTeX)/∂b in LaTeX; or, for text alone, nothing
    made (half of `explain`'s LaTeX work on a long chain was names no one reads)."""
    return (tex_name, _tex_name, partial_frac, _partial_tex) if with_latex else (blank,) * 4


def _tex_name(name: str) -> str:
    return name if name.startswith("\\") else tex_name(name)


def partial_frac(num: str, den: str) -> str:
    return f"\\frac{{\\partial {tex_name(num)}}}{{\\partial {tex_name(den)}}}"


def _latex_of(program: Program) -> Any:
    """to_latex for this program's lines: with a node named e (the lecture's), exp(a) is \\exp(a)."""
    return lambda e, known=None, exp_call="e" in program.names: to_latex(e, known, exp_call)


def _partial_tex(num_tex: str, den: str) -> str:
    return f"\\frac{{\\partial {num_tex}}}{{\\partial {tex_name(den)}}}"
