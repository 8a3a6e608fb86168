"""The compiled plan: a checked graph turned once into straight-line Python functions.

Source is generated only from the checked graph and the primitive table's rules, never from the
user's text: names become slot numbers (`v12`, `g12`) and constants are printed floats. A program
whose values are all scalars compiles to plain float arithmetic with `math`; any other program to
numpy calls. The compiled code is optimistic: an exception or a non-finite value sends the caller
back to the interpreter, which finds and reports the error precisely.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import kernels, rules
from .expr import Expr, fold
from .graph import Graph
from .primitives import PRIMITIVES
from .shapes import Shape
from .sym import Builder

CHUNK = 2000  # statements per generated function: keeps each compile small


class Fallback(Exception):
    """The fast path met a domain error or overflow: the interpreter will report it."""


def _sigmoid(u: float) -> float:
    if u >= 0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)


def _xlogy(u: float, v: float) -> float:
    return 0.0 if u == 0 else u * math.log(v)


SCALAR_NS: dict[str, Any] = {
    "_pow": math.pow, "_exp": math.exp, "_log": math.log, "_sqrt": math.sqrt, "_sin": math.sin,
    "_cos": math.cos, "_tan": math.tan, "_tanh": math.tanh, "_sigmoid": _sigmoid, "_abs": abs,
    "_relu": lambda u: u if u > 0.0 else 0.0, "_step": lambda u: 1.0 if u > 0.0 else 0.0,
    "_sign": lambda u: (u > 0.0) - (u < 0.0) + 0.0, "_max": lambda a, b: a if a >= b else b,
    "_min": lambda a, b: a if a <= b else b, "_xlogy": _xlogy, "_isfinite": math.isfinite,
}
SCALAR = {
    "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
    "neg": "(-{0})", "id": "{0}", "pow": "_pow({0}, {1})", "exp": "_exp({0})", "ln": "_log({0})",
    "sqrt": "_sqrt({0})", "sin": "_sin({0})", "cos": "_cos({0})", "tan": "_tan({0})",
    "tanh": "_tanh({0})", "sigmoid": "_sigmoid({0})", "relu": "_relu({0})", "abs": "_abs({0})",
    "sign": "_sign({0})", "step": "_step({0})", "max": "_max({0}, {1})", "min": "_min({0}, {1})",
    "xlogy": "_xlogy({0}, {1})", "T": "{0}", "logsumexp": "{0}", "expand": "{0}",
}
ARRAY = {"add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
         "neg": "(-{0})", "id": "{0}", "matmul": "({0} @ {1})", "T": "{0}.T"}
ARRAY_NS: dict[str, Any] = {f"P_{n}": p.impl for n, p in PRIMITIVES.items()}
ARRAY_NS.update({"_unb": kernels.unbroadcast, "_np": np})


def scalar_ok(graph: Graph, shapes: list[Shape]) -> bool:
    return all(s == () for s in shapes) and all(
        eq.prim.name in SCALAR or (eq.prim.name in ("sum", "mean") and eq.attr is None)
        for eq in graph.eqns)


def _emit(e: Expr, env: dict[str, str], scalar: bool, self_op: tuple[str, tuple[str, ...]] | None,
          out_var: str) -> str:
    """A rule expression as Python source over slot variables."""
    def step(node: Expr, kids: list[str]) -> str:
        if node.op == "const":
            return repr(float(node.attr))  # type: ignore[arg-type]
        if node.op == "var":
            return env.get(str(node.attr), str(node.attr))
        if self_op is not None and node.op == self_op[0] and tuple(kids) == self_op[1]:
            return out_var  # the rule recomputes the node itself (exp' = exp): reuse it
        if node.op == "pow" and node.args[1].op == "const" and node.args[1].attr in (2.0, 3.0):
            return f"({kids[0]} * {kids[0]})" if node.args[1].attr == 2.0 else \
                f"({kids[0]} * {kids[0]} * {kids[0]})"
        if scalar:
            if node.op in ("sum", "mean"):
                return kids[0]
            return SCALAR[node.op].format(*kids)
        if node.op in ARRAY and node.attr is None:
            return ARRAY[node.op].format(*kids)
        prim = PRIMITIVES[node.op]
        return f"P_{node.op}({', '.join(kids)}" + (f", {node.attr!r})" if prim.attr_args else ")")
    return fold(e, step)


def _needed(graph: Graph, outs: list[int]) -> list[bool]:
    need = [False] * graph.n_slots
    for s in outs:
        need[s] = True
    for eq in reversed(graph.eqns):
        if need[eq.out]:
            for i in eq.ins:
                need[i] = True
    return need


def source(graph: Graph, shapes: list[Shape], outs: list[int], wrt: list[int], scalar: bool,
           with_grad: bool = True) -> list[str]:
    """Statements: forward (the outputs' cone), then reverse mode seeded at the single output."""
    need = _needed(graph, outs)
    live = [False] * graph.n_slots
    for k in wrt:
        live[k] = True
    for eq in graph.eqns:
        live[eq.out] = any(live[i] for i in eq.ins)
    lines: list[str] = []
    for slot, value in graph.consts.items():
        if need[slot]:
            lines.append(f"v{slot} = {float(value)!r}")
    templates = SCALAR if scalar else ARRAY
    fwd = [eq for eq in graph.eqns if need[eq.out]]
    for eq in fwd:
        args = [f"v{i}" for i in eq.ins]
        name = eq.prim.name
        if scalar and name in ("sum", "mean"):
            code = args[0]
        elif name in templates and (scalar or eq.attr is None):
            code = templates[name].format(*args)
        else:
            code = f"P_{name}({', '.join(args)}" + (f", {eq.attr!r})" if eq.prim.attr_args else ")")
        lines.append(f"v{eq.out} = {code}")
    if scalar:  # inf or nan anywhere makes the sum non-finite
        for k in range(0, len(fwd), 50):
            lines.append("_c += " + " + ".join(f"v{eq.out}" for eq in fwd[k:k + 50]))
    if not with_grad:
        return lines
    b = Builder()
    adj: dict[int, str] = {outs[0]: "1.0"}  # slot -> the variable (or constant) holding its adjoint
    for eq in reversed(fwd):
        if eq.out not in adj or not live[eq.out]:
            continue
        in_shapes = tuple(shapes[i] for i in eq.ins)
        rule = rules.rule_exprs(eq.prim.name, "vjp", eq.attr, in_shapes)
        names = rules.arg_names(len(eq.ins))
        env = {n: b.var(f"v{i}") for n, i in zip(names, eq.ins)}
        g_out = adj[eq.out]
        env.update({"out": b.var(f"v{eq.out}"),
                    "g": b.const(1.0) if g_out == "1.0" else b.var(g_out)})
        self_op = (eq.prim.name, tuple(f"v{i}" for i in eq.ins))
        for k, i in enumerate(eq.ins):
            if rule[k] is None or not live[i]:
                continue
            e = b.substitute(rule[k], env)  # simplified: g·1 -> g, -1·g -> -g
            if e.op == "const" and e.attr == 0.0:
                continue
            code = _emit(e, {}, scalar, self_op if eq.attr is None else None, f"v{eq.out}")
            if not scalar and eq.prim.elementwise and shapes[eq.out] != shapes[i]:
                code = f"_unb({code}, {shapes[i]!r})"
            if i in adj:
                lines.append(f"g{i} = {adj[i]} + {code}")
                adj[i] = f"g{i}"
            elif e.op == "var" or e.op == "const":
                adj[i] = code  # a copy: no statement, just another name for the same value
            else:
                lines.append(f"g{i} = {code}")
                adj[i] = f"g{i}"
    for k in wrt:
        if k not in adj:
            lines.append(f"g{k} = {'0.0' if scalar else f'_np.zeros({shapes[k]!r})'}")
        elif adj[k] != f"g{k}":
            lines.append(f"g{k} = {adj[k]}")
    if scalar:
        for k in range(0, len(wrt), 50):
            lines.append("_c += " + " + ".join(f"g{i}" for i in wrt[k:k + 50]))
    return lines


def build(lines: list[str], inputs: list[int], results: str, scalar: bool) -> Callable[..., Any]:
    """Compile straight-line code into one function, in chunks that pass live slots along."""
    ns = dict(SCALAR_NS if scalar else ARRAY_NS)
    params = ", ".join(f"v{i}" for i in inputs)
    if len(lines) <= CHUNK:
        body = "\n    ".join(["_c = 0.0", *lines, f"return {results}, _c"])
        exec(f"def _f({params}):\n    {body}\n", ns)  # noqa: S102 - generated from the graph only
        return ns["_f"]  # type: ignore[no-any-return]
    # Large programs: each chunk is a function over a dict of the slots it reads and writes.
    chunks = [lines[k:k + CHUNK] for k in range(0, len(lines), CHUNK)]
    funcs = []
    defined = {f"v{i}" for i in inputs}
    for n, chunk in enumerate(chunks):
        written = [_lhs(ln) for ln in chunk]
        reads = sorted({tok for ln in chunk for tok in _names(ln)} & defined)
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


def _lhs(line: str) -> str:
    return line.split(" ", 1)[0]


_SLOT = __import__("re").compile(r"\b[vg]\d+\b")


def _names(line: str) -> list[str]:
    return _SLOT.findall(line, line.find("=") + 1)



class Plan:
    """A program compiled for one set of input shapes: `gradient(*inputs) -> (value, grads)`."""

    def __init__(self, graph: Graph, shapes: list[Shape]) -> None:
        self.scalar = scalar_ok(graph, shapes)
        outs = [graph.slot_of[graph.outputs[0]]]
        wrt = list(range(len(graph.inputs)))
        lines = source(graph, shapes, outs, wrt, self.scalar)
        grads = "".join(f"g{i}, " for i in wrt)
        self._fn = build(lines, wrt, f"v{outs[0]}, ({grads})", self.scalar)
        self.input_shapes = tuple(shapes[: len(wrt)])

    def gradient(self, args: list[Any]) -> tuple[Any, tuple[Any, ...]]:
        if self.scalar:
            try:
                value, grads, check = self._fn(*args)
            except (ArithmeticError, ValueError):
                raise Fallback from None
            if not math.isfinite(check):
                raise Fallback
            return value, grads
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            try:
                value, grads, _ = self._fn(*args)
            except (ArithmeticError, ValueError, FloatingPointError):
                raise Fallback from None
        return value, grads
