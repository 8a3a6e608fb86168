"""The compiled plan: a checked graph turned once into straight-line Python functions.

Source is generated only from the checked graph and the primitive table's rules, never from the
user's text: names become slot numbers (`v12`, `g12`) and constants are printed floats. A program
whose values are all scalars compiles to plain float arithmetic with `math`; any other program to
numpy calls. The compiled code is optimistic: an exception or a non-finite value sends the caller
back to the interpreter, which finds and reports the error precisely.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from typing import Any

import numpy as np

from graphlang.engines import finite, fuse
from graphlang.ir import rules
from graphlang.ir.graph import Graph
from graphlang.language.ast import Expr, fold
from graphlang.language.ast import names as ast_names
from graphlang.limits import gc_paused
from graphlang.numbers import strict_floats
from graphlang.primitives import kernels
from graphlang.primitives.shapes import Shape
from graphlang.primitives.table import BATCHED, PRIMITIVES, Primitive
from graphlang.primitives.vmap import outer_sum, reduce_to
from graphlang.symbolic.algebra import Builder

CHUNK = 500_000  # statements per generated function (chunks pass slots through a dict: slower)


class Fallback(Exception):
    """The fast path met a domain error or overflow: the interpreter will report it."""


def _scalar_template(p: Primitive) -> str | None:
    """How the scalar plan writes a primitive over Python floats, from its row (`Primitive.scalar`)."""
    kind, sym, _ = p.form
    if p.scalar is None:
        return None
    if p.scalar is kernels.same:
        return "{0}"
    if kind == "infix" and p.name != "pow":
        return f"({{0}} {sym} {{1}})"
    if kind == "prefix":
        return f"({sym}{{0}})"
    return f"_S_{p.name}(" + ", ".join(f"{{{k}}}" for k in range(p.arity)) + ")"


def _fin(u: float) -> float:
    """A nested intermediate that the enclosing operation could hide (1 / inf = 0): must be finite,
    as the interpreter checks every operation."""
    if u - u != 0.0:
        raise FloatingPointError("overflow")
    return u


# Scalar operations whose result shows an inf or NaN argument (inf + 1, 0 · inf = NaN): their
# nested arguments need no check. Any other operation gets its nested arguments wrapped in _fin.
_SHOWS_NONFINITE = frozenset({"add", "sub", "mul", "neg", "id", "abs"})

SCALAR = {name: tpl for name, p in PRIMITIVES.items() if (tpl := _scalar_template(p)) is not None}
SCALAR_NS: dict[str, Any] = {f"_S_{name}": p.scalar for name, p in PRIMITIVES.items() if p.scalar is not None}
SCALAR_NS.update(_isfinite=math.isfinite, _mpow=math.pow, _fin=_fin)
ARRAY = {"add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
         "neg": "(-{0})", "id": "{0}", "matmul": "({0} @ {1})", "T": "_T({0})"}
ARRAY_NS: dict[str, Any] = {f"P_{n}": p.impl for n, p in PRIMITIVES.items()}
# A scalar may be a Python float (a constant), which has no `.T`: transposing it is the identity.
ARRAY_NS.update({"_unb": kernels.unbroadcast, "_np": np, "_T": lambda a: getattr(a, "T", a)})
BATCH_NS: dict[str, Any] = {**ARRAY_NS, **{f"P_{n}": fn for n, fn in BATCHED.items()},
                             "_red": reduce_to, "_outer_sum": outer_sum}


def scalar_ok(graph: Graph, shapes: list[Shape]) -> bool:
    return all(s == () for s in shapes) and all(eq.prim.name in SCALAR and eq.attr is None for eq in graph.eqns)


def _emit(e: Expr, env: dict[str, str], mode: str, self_op: tuple[str, tuple[str, ...]] | None,
          out_var: str) -> str:
    """A rule expression as Python source over slot variables."""
    def step(node: Expr, kids: list[str]) -> str:
        if node.op == "const":
            return repr(float(node.attr))  # type: ignore[arg-type]
        if node.op == "var":
            return env.get(str(node.attr), str(node.attr))
        if self_op is not None and node.op == self_op[0] and tuple(kids) == self_op[1]:
            return out_var  # the rule recomputes the node itself (exp' = exp): reuse it
        if mode != "batch" and node.op == "pow" and node.args[1].op == "const" and node.args[1].attr == 2.0:
            return f"({kids[0]} * {kids[0]})"  # as numpy's power and `kernels.pow_float` square
        if mode == "scalar":
            if node.op not in _SHOWS_NONFINITE:
                kids = [f"_fin({k})" if a.op not in ("var", "const") else k
                        for a, k in zip(node.args, kids)]
            if node.op == "pow" and node.args[1].op == "const":  # (not 2: squared above) libm's pow, as pow_float
                return f"_mpow({kids[0]}, {kids[1]})"
            if PRIMITIVES[node.op].attr_args and node.attr is not None:
                return f"_S_{node.op}({', '.join(kids)}, {node.attr!r})"
            return SCALAR[node.op].format(*kids)
        if mode == "array" and node.op in ARRAY and node.attr is None:
            return ARRAY[node.op].format(*kids)
        prim = PRIMITIVES[node.op]
        return f"P_{node.op}({', '.join(kids)}" + (f", {node.attr!r})" if prim.attr_args else ")")
    return fold(e, step)


def source(graph: Graph, shapes: list[Shape], outs: list[int], wrt: list[int], mode: str,
           with_grad: bool = True, batched: list[bool] | None = None, seeded: bool = False,
           checks: bool = True, keep: Collection[str] = ()) -> list[str]:
    """Statements: forward (the outputs' cone), then reverse mode seeded at the single output.

    `mode`: `scalar` (floats, `math`), `array` (numpy) or `batch` (a leading batch axis on the
    slots marked in `batched`; the seed is the argument `seed`; unbatched slots sum the batch).
    `seeded`: the output's adjoint is the argument `seed` in every mode (training passes lr).
    `checks` (scalar): end with the sum `_c` that any inf or NaN among the values makes non-finite.
    `keep` (scalar): variables the caller reads besides outputs and gradients (fuse.py inlines others).
    """
    scalar = mode == "scalar"
    inputs = [f"v{k}" for k in range(len(graph.inputs))]  # checked too: an inf input may show nowhere
    need = [True] * graph.n_slots  # every statement, as the interpreter: its domain errors count too
    live = graph.reached_from(wrt)
    lines: list[str] = []
    for slot, value in graph.consts.items():
        if need[slot]:
            lines.append(f"v{slot} = {float(value)!r}" if scalar else  # numpy: errstate applies
                         f"v{slot} = _np.float64({float(value)!r})")
    templates = SCALAR if scalar else ARRAY
    fwd = [eq for eq in graph.eqns if need[eq.out]]
    for eq in fwd:
        args = [f"v{i}" for i in eq.ins]
        name = eq.prim.name
        if mode != "batch" and name == "T" and not scalar:
            code = f"{args[0]}.T" if shapes[eq.ins[0]] else args[0]
        elif mode != "batch" and name in templates and (scalar or eq.attr is None):
            code = templates[name].format(*args)
        else:
            code = f"P_{name}({', '.join(args)}" + (f", {eq.attr!r})" if eq.prim.attr_args else ")")
        lines.append(f"v{eq.out} = {code}")
    if not with_grad:  # (scalar: inf or NaN in any value makes the sum `_c` non-finite)
        return lines + finite.sums(lines, inputs) if scalar and checks else lines
    b = Builder()
    defs: dict[str, Expr] = {}  # adjoint variable -> the expression it holds
    adj: dict[int, str] = {outs[0]: "seed" if mode == "batch" or seeded else "1.0"}  # slot -> its adjoint's name
    for eq in reversed(fwd):
        if eq.out not in adj or not live[eq.out]:
            continue
        in_shapes = tuple(shapes[i] for i in eq.ins)
        rule = rules.rule_exprs(eq.prim.name, "vjp", eq.attr, in_shapes)
        names = rules.arg_names(len(eq.ins))
        g_out = adj[eq.out]
        g_expr = b.const(1.0) if g_out == "1.0" else b.var(g_out)
        if eq.prim.name == "T" and g_out in defs:
            g_expr = defs[g_out]  # see through gᵀ: outer(a, b)ᵀ becomes outer(b, a)

        self_op = (eq.prim.name, tuple(f"v{i}" for i in eq.ins))
        fill = {f"a{j}": f"v{i}" for j, i in enumerate(eq.ins)}
        fill.update({"o": f"v{eq.out}", "g": g_out})
        for k, i in enumerate(eq.ins):
            r = rule[k]
            if r is None or not live[i]:
                continue
            if g_expr.op in ("var", "const"):  # the common case: a cached template, filled in
                tpl = _template(b, eq, r, names, g_out == "1.0", mode)
                if tpl is None:
                    continue
                code, kind, e = tpl[0].format_map(fill), tpl[1], None  # (not **fill: a stack's n holes, n times)
                outer_args = [t.format_map(fill) for t in tpl[2]]
            else:
                env = {n: b.var(f"v{i}") for n, i in zip(names, eq.ins)}
                env.update({"out": b.var(f"v{eq.out}"), "g": g_expr})
                e = b.substitute(r, env)  # simplified: g·1 -> g, -1·g -> -g
                if e.op == "const" and e.attr == 0.0:
                    continue
                code = _emit(e, {}, mode, self_op if eq.attr is None else None, f"v{eq.out}")
                kind = "copy" if e.op in ("var", "const") else "outer" if e.op == "outer" else ""
                outer_args = [_emit(a, {}, mode, None, "") for a in e.args] if kind == "outer" else []
            if mode == "batch" and batched is not None:
                if not batched[i] and kind == "outer":  # Σ_b a_b b_bᵀ is one matrix product
                    code = "_outer_sum(" + ", ".join(outer_args) + ")"
                elif not batched[i]:
                    code = f"_red({code}, {shapes[i]!r}, False)"
                elif rules.spread_shape(eq.prim.name, in_shapes, shapes[eq.out], k) is not None:
                    code = f"_red({code}, {shapes[i]!r}, True)"
            elif not scalar and rules.spread_shape(eq.prim.name, in_shapes, shapes[eq.out], k) is not None:
                code = f"_unb({code}, {shapes[i]!r})"
            if i in adj:
                plus = f"P_add({adj[i]}, {code})" if mode == "batch" else f"{adj[i]} + {code}"
                lines.append(f"g{i} = {plus}")
                adj[i] = f"g{i}"
                defs.pop(f"g{i}", None)  # no longer the outer product it was: gᵀ must not see through
            elif kind == "copy":
                adj[i] = code  # a copy: no statement, just another name for the same value
            else:
                lines.append(f"g{i} = {code}")
                adj[i] = f"g{i}"
                if kind == "outer":
                    defs[f"g{i}"] = b.mk("outer", tuple(b.var(a) for a in outer_args))
    for k in wrt:
        if k not in adj:
            lines.append(f"g{k} = {'0.0' if scalar else f'_np.zeros({shapes[k]!r})'}")
        elif adj[k] != f"g{k}":
            lines.append(f"g{k} = {adj[k]}")
    # Only an outer product that a transpose saw through is dropped: any other adjoint is computed,
    # as the interpreter computes it (its numeric failures count even if nothing reads it; an inf
    # the rest of the pass multiplies by 0 is still an overflow).
    kept = {lhs_of(ln) for ln in lines if ln.startswith("g") and lhs_of(ln) not in defs}
    results = {f"g{k}" for k in wrt} | {f"v{s}" for s in outs}
    lines = _without_dead(lines, kept | results)
    if scalar:
        lines = fuse.shorten(lines, results.union(keep))
    return lines + finite.sums(lines, inputs) if scalar and checks else lines


_TEMPLATES: dict[tuple[Any, ...], tuple[str, str, list[str]] | None] = {}


def _template(b: Builder, eq: Any, rule: Expr, names: tuple[str, ...], g_is_one: bool, mode: str
              ) -> tuple[str, str, list[str]] | None:
    """A rule's contribution as code with holes {a0} {a1} {o} {g}; None when it is zero. Keyed by the
    rule (one cached object per text), not the shapes: a stack's n shapes hashed n times was O(n²)."""
    key = (eq.prim.name, eq.attr, rule, len(names) <= 2, g_is_one, mode)
    if key in _TEMPLATES:
        return _TEMPLATES[key]
    pos = rules.arg_positions(len(names))  # only the arguments the rule reads: a stack of n has n rules
    env = {n: b.var(f"{{a{pos[n]}}}") for n in ast_names(rule) if n in pos}
    env["out"] = b.var("{o}")
    env["g"] = b.const(1.0) if g_is_one else b.var("{g}")
    e = b.substitute(rule, env)
    if e.op == "const" and e.attr == 0.0:
        result = None
    else:
        self_op = (eq.prim.name, ("{a0}", "{a1}")[:len(names)]) if len(names) <= 2 else None  # exp' = exp
        code = _emit(e, {}, mode, self_op if eq.attr is None else None, "{o}")
        kind = "copy" if e.op in ("var", "const") else "outer" if e.op == "outer" else ""
        args = [_emit(a, {}, mode, None, "") for a in e.args] if kind == "outer" else []
        result = (code, kind, args)
    if len(_TEMPLATES) < 100_000:
        _TEMPLATES[key] = result
    return result


rule_code = _template  # the tape's adjoint contributions: the same code as the plan's


def _without_dead(lines: list[str], results: set[str]) -> list[str]:
    """Drop adjoint assignments nothing reads (e.g. an outer product replaced by its transpose)."""
    used = set(results)
    kept: list[str] = []
    for line in reversed(lines):
        target = lhs_of(line)
        if target.startswith("g") and target not in used:
            continue
        used.update(names_in(line))
        kept.append(line)
    kept.reverse()
    return kept


def build(lines: list[str], inputs: list[int], results: str, scalar: bool, extra: str = "",
          batch: bool = False) -> Callable[..., Any]:
    """Compile straight-line code into one function (or, past CHUNK lines, chained chunks)."""
    ns = dict(SCALAR_NS if scalar else BATCH_NS if batch else ARRAY_NS)
    params = ", ".join([f"v{i}" for i in inputs] + ([extra] if extra else []))
    if len(lines) <= CHUNK:
        body = "\n    ".join(["_c = 0.0", *lines, f"return {results}, _c"])
        exec(f"def _f({params}):\n    {body}\n", ns)  # noqa: S102 - generated from the graph only
        return ns["_f"]  # type: ignore[no-any-return]
    # Large programs: each chunk is a function over a dict of the slots it reads and writes.
    chunks = [lines[k:k + CHUNK] for k in range(0, len(lines), CHUNK)]
    funcs = []
    defined = {f"v{i}" for i in inputs}
    for n, chunk in enumerate(chunks):
        written = [lhs_of(ln) for ln in chunk]
        reads = sorted({tok for ln in chunk for tok in names_in(ln)} & defined)
        head = "".join(f"\n    {r} = S['{r}']" for r in reads)
        store = ", ".join(f"'{w}': {w}" for w in dict.fromkeys(written) if w != "_c")
        body = "\n    ".join(["_c = S['_c']", *chunk, f"S.update({{{store}}})", "S['_c'] = _c"])
        exec(f"def _f{n}(S):{head}\n    {body}\n", ns)  # noqa: S102
        funcs.append(ns[f"_f{n}"])
        defined.update(written)
    ret = compile(f"({results}, _c)", "<results>", "eval")
    names = [f"v{i}" for i in inputs]

    def run(*args: Any) -> Any:
        S: dict[str, Any] = dict(zip(names, args))
        S["_c"] = 0.0
        for f in funcs:
            f(S)
        return eval(ret, ns, S)  # noqa: S307
    return run


def lhs_of(line: str) -> str:
    return line.split(" ", 1)[0]


_SLOT = re.compile(r"\b[vg]\d+\b")


def names_in(line: str) -> list[str]:
    return _SLOT.findall(line, line.find("=") + 1)



class Plan:
    """A program compiled for one set of input shapes: `gradient(*inputs) -> (value, grads)`.

    `wrt`: the input slots to differentiate by (default all); `batch`: the input slots that carry
    a leading batch axis (then the function also takes the output's seed, a Batch).
    """

    def __init__(self, graph: Graph, shapes: list[Shape], wrt: list[int] | None = None,
                 batch: list[int] | None = None) -> None:
        n = len(graph.inputs)
        wrt = list(range(n)) if wrt is None else wrt
        self.scalar = batch is None and scalar_ok(graph, shapes)
        mode = "scalar" if self.scalar else "batch" if batch is not None else "array"
        batched = None
        if batch is not None:
            batched = graph.reached_from(batch)
        outs = [graph.slot_of[graph.outputs[0]]]
        grads = "".join(f"g{i}, " for i in wrt)
        params = list(range(n))
        with gc_paused():
            lines = source(graph, shapes, outs, wrt, mode, batched=batched)
            self._fn = build(lines, params, f"v{outs[0]}, ({grads})", self.scalar,
                             extra="seed" if batch is not None else "", batch=batch is not None)

    def gradient(self, args: list[Any]) -> tuple[Any, tuple[Any, ...]]:
        if self.scalar:
            try:
                value, grads, check = self._fn(*[float(a) for a in args])  # 0-d arrays, ints: floats
            except (ArithmeticError, ValueError, TypeError):
                raise Fallback from None
            if not math.isfinite(check):
                raise Fallback
            return value, grads
        with strict_floats():
            try:
                value, grads, _ = self._fn(*args)
                if not (np.all(np.isfinite(value)) and all(np.all(np.isfinite(g)) for g in grads)):
                    raise Fallback
            except (ArithmeticError, ValueError, TypeError):
                raise Fallback from None
        return value, grads
