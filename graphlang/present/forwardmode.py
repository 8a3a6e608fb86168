"""Forward-mode automatic differentiation step by step: one tangent pass per input (number).

Seeded at input x (`ẋ = 1`, every other input's tangent 0), each node's tangent is its reads'
tangents times its local derivatives, in program order: `ȧ = ∂a/∂x·ẋ + ∂a/∂z·ż = z·ẋ + x·ż =
3·1 + 2·0 = 3`. The tangent of the output is ∂y/∂x: one column of the Jacobian per pass, as the
lecture says (cost proportional to computing f, per input). The contributions are the primitive
table's JVP rules (`symbolic.tangent`), the numbers the interpreter's own tangents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.limits import gc_paused
from graphlang.present import components as C
from graphlang.present import explain as EX
from graphlang.program import Program
from graphlang.symbolic import matrixtext as MT
from graphlang.symbolic import tangent as T
from graphlang.symbolic.derivative import printed_size, swell_budget, swell_error
from graphlang.symbolic.printing import tex_name, to_latex, to_text, value_or_none
from graphlang.symbolic.texnames import tensor_names

Seed = tuple[str, tuple[int, ...] | None]  # an input, and the index of one of its numbers


def explain_forward(program: Program, values: dict[str, Any], node: str | None = None, digits: int = 6,
                    wrt: str | None = None, with_latex: bool = True, constants: bool = False) -> list[EX.Line]:
    """The forward pass, then a tangent pass per input number (the first `MAX_COMPONENTS`, or those
    `wrt` names: `x`, `W[0, 1]`), each ending with the outputs' derivatives by it. `constants`: a
    program without inputs (the REPL's `x = 2`) is differentiated by its constants."""
    with gc_paused(), tensor_names(EX.tensors(program, values)):
        lines = EX.explain(program, values, None, digits, None, with_latex, backward=False)
        g = program.graph
        arrays, shapes = program.bind(values)
        tan = T.build(g, shapes)
        sizes: dict[int, int] = {}
        printed = sum(printed_size(r.printed(), sizes) for rs in tan.reads.values() for r in rs)
        if printed > swell_budget(g):
            raise swell_error(g, printed, "the tangent pass")
        leaves = seedable(program, tan, constants)
        seeds = parse_wrt(program, shapes, wrt, leaves) if wrt is not None else [
            seed for x in leaves for seed in _numbers(x, shapes[g.slot_of[x]])]
        slot_vals = interp.forward(g, arrays)
        vals = {n: np.asarray(slot_vals[s]) for n, s in g.slot_of.items()}
        steps = _steps(program, tan, leaves, vals, with_latex)
        body = [ln for ln in lines if ln.phase not in ("note", "legend")]
        for seed in seeds[:C.MAX_COMPONENTS]:
            try:
                body.extend(_pass(program, steps, vals, slot_vals, shapes, leaves, seed, digits, with_latex))
            except GraphlangError as err:  # a constant seeded (the REPL's n = 3 in x ^ n at x < 0): no
                if seed[0] in g.inputs or err.kind != "domain":  # derivative by it here, as reverse mode says
                    raise
                of = C.label(*seed)
                text = f"the derivatives by {of} do not exist here: {err.message}"
                body.append(EX.Line("tangent", seed[0], [text], ["\\text{" + EX.tex_text(text) + "}"], of))
        notes = [ln for ln in lines if ln.phase == "note"]
        text = ""
        if not leaves:
            text = ("the program has no inputs (every name is assigned a value): there is nothing to "
                    "differentiate by. Delete an assignment to make that name an input.")
        elif len(seeds) > C.MAX_COMPONENTS:
            x, idx = seeds[C.MAX_COMPONENTS]
            text = (f"the inputs have {len(seeds)} numbers, and forward mode makes one pass per number; "
                    f"the first {C.MAX_COMPONENTS} are shown. To see another, name it with "
                    f"--wrt '{C.label(x, idx)}' (reverse mode makes one pass per output number instead)")
        if text:
            notes.append(EX.Line("note", g.outputs[0], [text], ["\\text{" + EX.tex_text(text) + "}"]))
    shown = [ln for ln in body + notes if node is None or ln.node == node or ln.phase == "note"]
    if any(ln.matrix for ln in shown):  # the text's 1 and eᵢ (as explain adds it for its own lines)
        written = "\n".join(f for ln in shown if ln.matrix for f in ln.forms)
        shown.append(EX.Line("legend", g.outputs[0], [MT.legend(written)], []))
    return shown


def seedable(program: Program, tan: T.Tangents, constants: bool = False) -> list[str]:
    """What a tangent pass may start from: the inputs, or where there are none and `constants` (the
    REPL's `x = 2`), the statements that read no name and that another statement reads."""
    g = program.graph
    if g.inputs or not constants:
        return list(g.inputs)
    read = {r.name for rs in tan.reads.values() for r in rs}
    return [st.name for st in g.statements if not tan.reads[st.name] and st.name in read]


def _numbers(x: str, shape: Any) -> list[Seed]:
    """Every number of an input: itself (a scalar) or each index, in order."""
    return [(x, None)] if shape == () else [(x, idx) for idx in np.ndindex(*shape)]


def explain_mode(mode: str | None, of: str | None, wrt: str | None, cli: bool) -> str:
    """reverse or forward: as given, else forward with a `wrt` (a tangent pass); a usage error for an
    unknown mode or a pass the mode does not make (in the words of the command line, or of Python)."""
    def opt(name: str, value: str = "") -> str:  # --wrt 'x' on the command line, wrt='x' in Python
        return (f"--{name}" + (f" {value}" if value else "")) if cli else f"{name}=" + (value or "…")
    if mode not in (None, "reverse", "forward"):
        raise GraphlangError("usage", f"unknown mode {mode!r}", hint="reverse or forward")
    chosen = mode or ("forward" if wrt is not None else "reverse")
    if chosen == "forward" and of is not None:
        raise GraphlangError("usage", f"{opt('of')} picks a backward pass, which forward mode does not make",
                             hint=f"forward mode picks a tangent pass with {opt('wrt', repr('x'))}")
    if chosen == "reverse" and wrt is not None:
        raise GraphlangError("usage", f"{opt('wrt')} picks a tangent pass, which reverse mode does not make",
                             hint=f"leave out {opt('mode', 'reverse' if cli else repr('reverse'))}, or pick "
                                  f"a backward pass with {opt('of', repr('y[0]'))}")
    return chosen


def parse_wrt(program: Program, shapes: list[Any], text: str, leaves: list[str]) -> list[Seed]:
    """`x` (each of its numbers) or `W[1, -1]` (one number; negative indices from the end)."""
    g = program.graph
    ins = ", ".join(f"{x} (shape {list(shapes[g.slot_of[x]])})" for x in leaves) or "none"
    m = C.INDEXED.fullmatch(text)
    if m is None or m.group(1) not in leaves:
        what = f"{m.group(1)!r} is not an input of the program" if m is not None else \
            "name an input of the program and, for a tensor, the index of one number, e.g. --wrt 'W[0, 1]'"
        raise GraphlangError("unknown-input" if m is not None else "usage", f"--wrt {text!r}: {what}",
                             hint=f"inputs: {ins}")  # a name the program lacks: as `grad --wrt` says (exit 1)
    name, index = m.group(1), m.group(2)
    shape = tuple(shapes[g.slot_of[name]])
    if index is None:
        return _numbers(name, shape)
    idx = tuple(int(i) for i in index.split(","))
    if len(idx) != len(shape) or any(not -n <= i < n for i, n in zip(idx, shape)):
        what = f"{name} has shape {list(shape)}; name one of its {int(np.prod(shape))} numbers" if shape else \
            f"{name} is a number (no index)"
        raise GraphlangError("usage", f"--wrt {text!r}: {what}",
                             hint=f"e.g. --wrt '{C.label(name, tuple(0 for _ in shape) or None)}'")
    return [(name, tuple(i % n for i, n in zip(idx, shape)) or None)]


@dataclass
class _Step:
    """A statement's chain rule in symbols, the same in every pass: `forms` and `latex` are the chain
    and the rule (scalars: the numbers follow per pass), or the JVP as the rules write it (tensors)."""

    reads: list[T.Read]  # the names it reads that move with an input (a constant's tangent is 0)
    partials: list[Any]  # scalars: each read's local derivative at this point (None: it has none here)
    forms: list[str]
    latex: list[str]
    scalar: bool
    matrix: bool


def _steps(program: Program, tan: T.Tangents, leaves: list[str], vals: dict[str, Any],
           with_latex: bool) -> dict[str, _Step]:
    g = program.graph
    moves = g.reached_from([g.slot_of[u] for u in leaves])  # what depends on an input at all
    tex: Any = (lambda e: to_latex(e, tan.builder.var_shapes, "e" in program.names)) if with_latex else EX.blank
    known = tan.builder.var_shapes
    steps = {}
    for st in g.statements:
        n = st.name
        reads = [r for r in tan.reads[n] if moves[g.slot_of[r.name]]]
        chain = _sum(f"∂{n}/∂{r.name}·{T.dot(r.name)}" for r in reads)
        chain_tex = _sum(f"{EX.partial_frac(n, r.name)} {tex_name(T.dot(r.name))}" for r in reads) if with_latex else ""
        used: set[str] = set()
        scalar = all(r.partial is not None for r in reads)
        if scalar:  # the lecture's ∂a/∂x·ẋ (its numbers per pass)
            parts = [r.partial for r in reads if r.partial is not None]
            rule = _sum(f"{EX.paren(EX.math_text(p, known, used), p)}·{T.dot(r.name)}" for p, r in zip(parts, reads))
            rule_tex = _sum(f"{_ptex(tex, p)} {tex_name(T.dot(r.name))}" for p, r in zip(parts, reads)) \
                if with_latex else ""
            steps[n] = _Step(reads, [_finite(value_or_none(p, vals)) for p in parts], [chain, rule],
                             [chain_tex, rule_tex], True, bool(used))
        else:  # tensors: the JVP as the rules write it (Ẇ @ h + W @ ḣ)
            jvp = _sum(to_text(r.printed(), "math", shapes=known, used=used) for r in reads)
            steps[n] = _Step(reads, [], [jvp], [_sum(tex(r.printed()) for r in reads) if with_latex else ""],
                             False, bool(used))
    return steps


def _pass(program: Program, steps: dict[str, _Step], vals: dict[str, Any], slot_vals: list[Any],
          shapes: list[Any], leaves: list[str], seed: Seed, digits: int, with_latex: bool) -> list[EX.Line]:
    """One tangent pass: a line per input, per statement (its chain rule with this pass's numbers),
    then the outputs' derivatives."""
    g = program.graph
    x, idx = seed
    of = C.label(x, idx)
    slot = g.slot_of[x]
    direction = np.zeros(shapes[slot])
    direction[idx if idx is not None else ()] = 1.0
    needed = g.read_by([g.slot_of[o] for o in g.outputs])
    missing: set[int] = set()  # a tangent off the outputs' path that does not exist here
    by_slot = interp.tangents(g, shapes, slot_vals, {slot: direction}, soft=[not n for n in needed],
                              missing=missing)
    tangent = {n: None if s in missing else np.zeros(shapes[s]) if by_slot[s] is None else np.asarray(by_slot[s])
               for n, s in g.slot_of.items()}
    tv: Any = EX.tex_value if with_latex else EX.blank
    top_tex = C.tex_label(x, idx)
    lines = [EX.Line("tangent", u, [T.dot(u), f"∂{u}/∂{of}", EX.short(tangent[u], digits)],
                     [tex_name(T.dot(u)), _dtex(u, top_tex), tv(tangent[u], digits)], of, value=tangent[u])
             for u in leaves]
    for st in g.statements:
        n, d = st.name, T.dot(st.name)
        step = steps[n]
        if n in leaves:
            continue  # (a constant seeded as an input: its line is above)
        if not step.reads:
            lines.append(EX.Line("tangent", n, [d, "0 (a constant: it depends on no input)"],
                                 [tex_name(d), "0"], of, value=tangent[n]))
            continue
        total = EX.short(tangent[n], digits)
        if step.scalar:
            nums = " + ".join(f"{EX.factor(p, digits)}·{EX.factor(tangent[r.name], digits)}"
                              for p, r in zip(step.partials, step.reads))
            forms = [d, *step.forms, nums, total]
            latex = [tex_name(d), *step.latex, EX.tex_undefined(nums.replace("·", " \\cdot ")),
                     EX.tex_undefined(total)]
        else:
            forms, latex = [d, *step.forms, total], [tex_name(d), *step.latex, tv(tangent[n], digits)]
        lines.append(EX.Line("tangent", n, forms, latex, of, step.matrix, tangent[n]))
    full = max(digits, 10)
    for o in g.outputs:
        lines.append(EX.Line("derivative", o, [f"∂{o}/∂{of}", T.dot(o), EX.short(tangent[o], full)],
                             [_dtex(o, top_tex), tex_name(T.dot(o)), tv(tangent[o], full)], of, value=tangent[o]))
    return lines


def _finite(v: Any) -> Any:
    """A local derivative's value, or None (printed "undefined") where it is infinite (√x at 0)."""
    return v if v is None or np.all(np.isfinite(v)) else None


def _sum(terms: Any) -> str:
    """Terms joined by + , a negative one by − (`ȧ − ḃ`, never `ȧ + -ḃ`)."""
    out = ""
    for t in terms:
        out += t if not out else f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return out


def _dtex(num: str, den_tex: str) -> str:
    return f"\\frac{{\\partial {tex_name(num)}}}{{\\partial {den_tex}}}"


def _ptex(tex: Any, e: Any) -> str:
    """A local derivative in LaTeX before a tangent: in parentheses unless an atom or a call."""
    return tex(e) if EX.paren(".", e) == "." else f"\\left({tex(e)}\\right)"
