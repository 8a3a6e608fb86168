"""Symbolic expressions: hash-consed, simplified as they are built, printed with few parentheses.

`Builder.mk` folds constants and applies the cheap identities (x+0, 1·x, x^1, −−x, like terms
x+x and factors x·x, constants collected in products). Shared subexpressions stay shared, so a
derivative never swells into an exponential tree. Every walk is iterative.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from graphlang.language.ast import Expr, fold
from graphlang.primitives.table import ATOM, POSTFIX, POW, PRIMITIVES, UNARY

ZERO_SAFE = frozenset({"add", "sub", "mul", "div", "neg", "pow", "exp", "ln", "sqrt", "sin", "cos",
                       "tan", "tanh", "sigmoid", "relu", "abs", "sign", "step", "max", "min", "xlogy"})


def is_const(e: Expr, value: float | None = None) -> bool:
    return e.op == "const" and (value is None or e.attr == value)


class Builder:
    """Makes expressions; equal expressions are the same object (so `is` compares them)."""

    def __init__(self, tidy: bool = False) -> None:
        self._table: dict[tuple[object, ...], Expr] = {}
        self.tidy = tidy  # closed forms: a·(1/b) -> a/b (derivative programs keep the chain rule's shape)

    def _intern(self, op: str, args: tuple[Expr, ...], attr: object) -> Expr:
        key = (op, attr if op != "const" else repr(attr), *(id(a) for a in args))
        found = self._table.get(key)
        if found is None:
            found = Expr(op, args, attr)
            self._table[key] = found
        return found

    def const(self, value: float) -> Expr:
        v = float(value)
        return self._intern("const", (), 0.0 if v == 0 else v)

    def var(self, name: str) -> Expr:
        return self._intern("var", (), name)

    def mk(self, op: str, args: tuple[Expr, ...], attr: object = None) -> Expr:
        simpler = self._simplify(op, args, attr)
        return simpler if simpler is not None else self._intern(op, args, attr)

    def _fold_const(self, op: str, args: tuple[Expr, ...], attr: object) -> Expr | None:
        if op not in ZERO_SAFE or not all(a.op == "const" for a in args):
            return None
        with np.errstate(all="ignore"):
            value = PRIMITIVES[op].impl(*[np.float64(a.attr) for a in args])  # type: ignore[arg-type]
        value = float(value)
        return self.const(value) if np.isfinite(value) and value == round(value, 12) else None

    def _simplify(self, op: str, args: tuple[Expr, ...], attr: object) -> Expr | None:
        folded = self._fold_const(op, args, attr)
        if folded is not None:
            return folded
        c = self.const
        if op == "id" or op == "T" and args[0].op == "const":  # a constant is a scalar: its own transpose
            return args[0]
        if op in ("matmul", "dot", "outer") and any(is_const(a, 0.0) for a in args) or \
                op in ("sum", "mean", "index", "embed") and is_const(args[0], 0.0) or \
                op == "expand" and attr is not None and is_const(args[0], 0.0):
            return c(0.0)  # 0 stands for a zero of any shape (as in 0·x)
        if op == "neg":
            (a,) = args
            if a.op == "neg":
                return a.args[0]
            if a.op == "sub":
                return self.mk("sub", (a.args[1], a.args[0]))
            return None
        if op in ("add", "sub"):
            a, b = args
            if is_const(b, 0.0):
                return a
            if is_const(a, 0.0):
                return b if op == "add" else self.mk("neg", (b,))
            if b.op == "neg":
                return self.mk("sub" if op == "add" else "add", (a, b.args[0]))
            if op == "add" and a.op == "neg":
                return self.mk("sub", (b, a.args[0]))
            if a is b and op == "add":
                return self.mk("mul", (c(2.0), a))
            return None
        if op == "mul":
            a, b = args
            if is_const(b) and not is_const(a):
                a, b = b, a
            if is_const(a, 0.0):
                return c(0.0)
            if is_const(a, 1.0):
                return b
            if is_const(a, -1.0):
                return self.mk("neg", (b,))
            if a.op == "neg":
                return self.mk("neg", (self.mk("mul", (a.args[0], b)),))
            if b.op == "neg":
                return self.mk("neg", (self.mk("mul", (a, b.args[0])),))
            if is_const(a) and b.op == "mul" and is_const(b.args[0]):
                return self.mk("mul", (c(float(a.attr) * float(b.args[0].attr)), b.args[1]))  # type: ignore[arg-type]
            if a is b:
                return self.mk("pow", (a, c(2.0)))
            if self.tidy and b.op == "div" and is_const(b.args[0], 1.0):
                return self.mk("div", (a, b.args[1]))
            if self.tidy and a.op == "div" and is_const(a.args[0], 1.0):
                return self.mk("div", (b, a.args[1]))
            return None
        if op == "div":
            a, b = args
            if is_const(b, 1.0):
                return a
            if is_const(a, 0.0):
                return c(0.0)
            if a.op == "neg":
                return self.mk("neg", (self.mk("div", (a.args[0], b)),))
            return None
        if op == "pow":
            a, b = args
            if is_const(b, 1.0):
                return a
            if is_const(b, 0.0):
                return c(1.0)
            return None
        if op == "T" and args[0].op == "T":
            return args[0].args[0]
        if op == "T" and args[0].op == "outer":  # (a bᵀ)ᵀ = b aᵀ: no transposed copy
            return self.mk("outer", (args[0].args[1], args[0].args[0]))
        return None

    def substitute(self, e: Expr, env: Mapping[str, Expr]) -> Expr:
        """Rebuild `e` with variables replaced, simplifying on the way (iterative)."""
        def step(node: Expr, kids: list[Expr]) -> Expr:
            if node.op == "var":
                return env.get(str(node.attr)) or self.var(str(node.attr))
            if node.op == "const":
                return self.const(float(node.attr))  # type: ignore[arg-type]
            return self.mk(node.op, tuple(kids), node.attr)
        return fold(e, step)


# --- printing ------------------------------------------------------------------------------

def _num(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


SUPERSCRIPT = {2.0: "²", 3.0: "³"}


def to_text(e: Expr, style: str = "cg", leaf: Mapping[str, str] | None = None) -> str:
    """Source text (style `cg`, parseable) or math text (`math`: `·`, `a/b`, `x²`).

    `leaf` replaces variable names (e.g. by their values, for `a = x·z = 2·3`).
    """
    times = " * " if style == "cg" else "·"
    math = style != "cg"

    def step(node: Expr, kids: list[tuple[str, int]]) -> tuple[str, int]:
        op = node.op
        if op == "const":
            v = float(node.attr)  # type: ignore[arg-type]
            if np.isclose(v, np.pi, rtol=0, atol=0) and style != "cg":
                return "π", ATOM
            return _num(v), (UNARY if v < 0 else ATOM)
        if op == "var":
            if leaf is not None and node.attr in leaf:
                text = leaf[str(node.attr)]
                return text, (UNARY if text.startswith("-") else ATOM)
            return str(node.attr), ATOM
        prim = PRIMITIVES[op]
        kind, sym, prec = prim.form
        if kind == "infix":
            (lt, lp), (rt, rp) = kids
            if op == "pow":
                lt = f"({lt})" if lp <= POW else lt
                exponent = node.args[1]
                if math and exponent.op == "const" and exponent.attr in SUPERSCRIPT:
                    return lt + SUPERSCRIPT[exponent.attr], POW  # type: ignore[index]
                rt = f"({rt})" if rp < UNARY else rt
                return f"{lt}^{rt}", POW
            lt = f"({lt})" if lp < prec else lt
            rt = f"({rt})" if rp <= prec else rt
            shown = times if op == "mul" else ("/" if math and op == "div" else f" {sym} ")
            return f"{lt}{shown}{rt}", prec
        if kind == "prefix":
            (t, p), = kids
            bare = p >= UNARY or (math and node.args[0].op in ("mul", "div"))  # -(a/b) is -a/b
            return ("-" + (t if bare else f"({t})")), UNARY
        if kind == "postfix":
            (t, p), = kids
            return (f"({t})" if p < POSTFIX else t) + sym, POSTFIX
        if kind == "index":
            (t, p), = kids
            inner = ", ".join(str(i) for i in node.attr)  # type: ignore[attr-defined]
            return (f"({t})" if p < POSTFIX else t) + f"[{inner}]", POSTFIX
        if kind == "stack":
            return "[" + ", ".join(t for t, _ in kids) + "]", ATOM
        if kind == "id" or (math and op == "expand" and node.attr is None):
            return kids[0]  # in math, broadcasting a scalar back over a tensor goes without saying
        args = [t for t, _ in kids]
        if prim.attr_args and node.attr is not None:
            attrs = node.attr if isinstance(node.attr, tuple) else (node.attr,)
            args += [str(a) for a in attrs]
        return f"{sym or op}({', '.join(args)})", ATOM

    return fold(e, step)[0]


def to_latex(e: Expr) -> str:
    def step(node: Expr, kids: list[tuple[str, int]]) -> tuple[str, int]:
        op = node.op
        if op == "const":
            v = float(node.attr)  # type: ignore[arg-type]
            return ("\\pi" if v == float(np.pi) else _num(v)), (UNARY if v < 0 else ATOM)
        if op == "var":
            name = str(node.attr)
            if "_" in name:
                head, tail = name.split("_", 1)
                name = f"{head}_{{{tail}}}"
            return name, ATOM
        prim = PRIMITIVES[op]
        kind, _sym, prec = prim.form
        texts = [t for t, _ in kids]
        if op == "div":
            return f"\\frac{{{texts[0]}}}{{{texts[1]}}}", ATOM
        if op == "pow":
            (lt, lp), (rt, _rp) = kids
            base = f"\\left({lt}\\right)" if lp <= POW else lt
            return f"{{{base}}}^{{{rt}}}", POW
        if kind == "infix":
            (lt, lp), (rt, rp) = kids
            lt = f"\\left({lt}\\right)" if lp < prec else lt
            rt = f"\\left({rt}\\right)" if rp <= prec else rt
            sym = {"add": " + ", "sub": " - ", "mul": " \\cdot ", "matmul": " "}[op]
            return f"{lt}{sym}{rt}", prec
        if kind == "prefix":
            (t, p), = kids
            return "-" + (f"\\left({t}\\right)" if p < UNARY else t), UNARY
        if kind == "postfix" or kind == "index":
            (t, p), = kids
            t = f"\\left({t}\\right)" if p < POSTFIX else t
            if kind == "postfix":
                return f"{t}^{{T}}", POSTFIX
            return f"{t}_{{{','.join(str(i) for i in node.attr)}}}", POSTFIX  # type: ignore[attr-defined]
        if kind == "id":
            return kids[0]
        if kind == "stack":
            return "\\begin{bmatrix}" + " \\\\ ".join(texts) + "\\end{bmatrix}", ATOM
        return prim.latex.format(*texts, attr=node.attr), ATOM if kind == "call" else prec

    return fold(e, step)[0]

