"""Expressions printed: .cg source (parseable), math text (`·`, `x²`) and LaTeX; and evaluated numerically."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphlang.language.ast import Expr, fold
from graphlang.numbers import literal, quiet_floats, tex_numbers, written_prec
from graphlang.primitives.shapes import Shape
from graphlang.primitives.table import ATOM, MUL, POSTFIX, POW, PRIMITIVES, UNARY
from graphlang.symbolic import matrixtex as M
from graphlang.symbolic import textform as T
from graphlang.symbolic.algebra import plain_dpow
from graphlang.symbolic.texnames import tex_element, tex_name

_SCALAR_OPS = frozenset(n for n, p in PRIMITIVES.items() if p.elementwise) - {"dpow"}


def _plain(e: Expr, shapes: Mapping[str, Shape] | None) -> bool:
    """Nothing for `_readable` to rewrite: scalars through elementwise functions, no power's
    derivative (a long scalar chain's `explain` spent a seventh of its time rewriting nothing)."""
    seen: set[int] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op == "var":
            if shapes is not None and shapes.get(str(node.attr)):  # a tensor: a shape with axes
                return False
        elif node.op != "const" and node.op not in _SCALAR_OPS:
            return False
        stack.extend(node.args)
    return True


def _readable(e: Expr, shapes: Mapping[str, Shape] | None = None) -> Expr:
    """For printing as mathematics: the power's derivatives in their textbook form; and, shapes
    known, every vector a column as in the lecture (numpy's `x @ A` of a vector x is the column
    Aᵀx; an inner product writes its left factor as a row: `(Aᵀx) @ w` is xᵀAw)."""
    if _plain(e, shapes):
        return e
    column: dict[int, tuple[Expr, Expr]] = {}  # a matrix-times-vector node -> (matrix, vector)

    def row(u: Expr) -> Expr:
        """The column `u` written as a row: (M₁M₂v)ᵀ = vᵀM₂ᵀM₁ᵀ (iterative along the chain)."""
        mats = []
        while id(u) in column:
            m, u = column[id(u)]
            mats.append(m)
        out = Expr("T", (u,))
        for m in reversed(mats):
            out = Expr("matmul", (out, _transpose(m)))
        return out

    def step(node: Expr, kids: list[tuple[Expr, Shape | None]]) -> tuple[Expr, Shape | None]:
        args = tuple(k for k, _ in kids)
        if node.op == "var":
            return node, None if shapes is None else shapes.get(str(node.attr))
        if node.op == "const":
            return node, ()
        shape = T.shape_of(node.op, [s for _, s in kids], node.attr)
        if node.op == "dpow":
            plain = plain_dpow(args[0], args[1], node.attr)  # type: ignore[arg-type]
            if plain is not None:
                return plain, shape
        if node.op == "exp" and args[0].op == "logsoftmax":  # (logsoftmax's rule): softmax, as written by hand
            return Expr("softmax", args[0].args), shape
        ranks = tuple(None if s is None else len(s) for _, s in kids)
        if node.op == "T" and ranks[0] is not None and ranks[0] < 2:  # numpy's .T of a vector: the vector
            return args[0], shape
        if node.op == "matmul" and ranks == (1, 2):  # xᵀA, a row in numpy: the column Aᵀx
            out = Expr("matmul", (_transpose(args[1]), args[0]))
            column[id(out)] = (out.args[0], args[0])
            return out, shape
        if node.op == "matmul" and ranks == (1, 1):  # an inner product: uᵀw
            return Expr("matmul", (row(args[0]), args[1])), shape
        if node.op in ("add", "sub", "mul", "div") and ranks in ((2, 1), (1, 2)):  # numpy's A + v: each
            m, v = (0, 1) if ranks == (2, 1) else (1, 0)  # row of A meets vᵀ, written A + 1 vᵀ
            sm, sv = kids[m][1], kids[v][1]
            if sm is not None and sv is not None and sm[1] == sv[0]:
                spread = list(args)
                spread[v] = Expr("expand", (args[v], args[m]), 0)
                return Expr(node.op, tuple(spread), node.attr), shape
        out = node if all(k is a for k, a in zip(args, node.args)) else Expr(node.op, args, node.attr)
        if node.op == "matmul" and ranks == (2, 1):
            column[id(out)] = (args[0], args[1])
        return out, shape

    return fold(e, step)[0]


def _transpose(m: Expr) -> Expr:
    """Mᵀ, written without a transpose where one cancels: (Bᵀ)ᵀ = B, (a bᵀ)ᵀ = b aᵀ, (c 1 1ᵀ)ᵀ = c 1 1ᵀ."""
    if m.op == "T":
        return m.args[0]
    if m.op == "outer":
        return Expr("outer", (m.args[1], m.args[0]), m.attr)
    if m.op == "expand" and m.attr is None and m.args[0].op == "const":
        return Expr("expand", (m.args[0], Expr("T", (m.args[1],))), None)
    return Expr("T", (m,))


# --- printing ------------------------------------------------------------------------------

def to_text(e: Expr, style: str = "cg", leaf: Mapping[str, str] | None = None,
            shapes: Mapping[str, Shape] | None = None, used: set[str] | None = None) -> str:
    """Source text (style `cg`, parseable) or math text (`math`: `·`, `a/b`, `x²`, `Aᵀ`).

    `leaf` replaces variable names (e.g. by their values, for `a = x·z = 2·3`). In math text the
    tensor helpers print as the lecture's matrix calculus (`matrixtext`), knowing each operand's
    shape from `shapes` (name -> shape) where given; `used` (if given) gets "matrix" when the text
    writes any (its `1` and `eᵢ` need the legend `matrixtext.LEGEND`).
    """
    math = style != "cg"

    def atom(node: Expr) -> tuple[T.Rope, int]:
        if node.op == "const":
            v = float(node.attr)  # type: ignore[arg-type]
            if v == np.pi:  # (a .cg text reads `pi` back as the same float)
                return ("π" if math else "pi"), ATOM
            text = literal(v)
            return text, (UNARY if v < 0 else written_prec(text, ATOM, MUL) if math else ATOM)
        if leaf is not None and node.attr in leaf:
            text = leaf[str(node.attr)]
            return text, (UNARY if text.startswith("-") else written_prec(text, ATOM, MUL))
        return str(node.attr), ATOM

    if not math:
        def step(node: Expr, kids: list[tuple[T.Rope, int]]) -> tuple[T.Rope, int]:
            if node.op in ("const", "var"):
                return atom(node)
            return T.text_step(node, kids, " * ", False)
        return T.flatten(fold(e, step)[0])

    def math_step(node: Expr, kids: list[T.Piece]) -> T.Piece:
        if node.op == "const":
            return T.Piece(*atom(node), ())
        if node.op == "var":
            return T.Piece(*atom(node), shapes.get(str(node.attr)) if shapes is not None else None)
        if leaf and PRIMITIVES[node.op].form[0] == "call":  # sigmoid(-1.1), not sigmoid((-1.1))
            kids = [k._replace(text=_bare(k.text, "(", ")")) if a.op == "var" else k for k, a in zip(kids, node.args)]
        return T.math_step(node, kids)

    root = fold(_readable(e, shapes), math_step)
    if used is not None and root.notation:
        used.add("matrix")
    return T.flatten(root.text)


_BM, _EM = "\\begin{bmatrix}", "\\end{bmatrix}"


def to_latex(e: Expr, shapes: Mapping[str, Shape] | None = None, exp_call: bool = False,
             leaf: Mapping[str, str] | None = None) -> str:
    """LaTeX math. With `shapes` (name -> shape) the tensor helpers print as the lecture's matrix
    calculus knowing each operand's shape (`matrixtex`); without, as near to it as ranks allow.
    `exp_call`: exp(a) as \\exp(a), where a node named e is in view (e^{a} would read as it).
    `leaf` replaces variable names, as `to_text`'s does (`x \\cdot z = 2 \\cdot 3`)."""
    e = _readable(e, shapes)

    def step(node: Expr, kids: list[M.Kid]) -> M.Kid:
        op = node.op
        if op == "const":
            v = float(node.attr)  # type: ignore[arg-type]
            text = "\\pi" if v == float(np.pi) else tex_numbers(literal(v))  # 10^{20}, not 1e+20
            return text, (UNARY if v < 0 else written_prec(text, ATOM, MUL)), ()
        if op == "var":
            name = str(node.attr)
            text = leaf[name] if leaf is not None and name in leaf else tex_name(name)
            return text, written_prec(text, ATOM, MUL), None if shapes is None else shapes.get(name)
        shape = T.shape_of(op, [s for _, _, s in kids], node.attr)
        if op not in _ROPES:  # an infix operand stays a rope: a chain a + b + … is joined once, at the end
            kids = [(T.flatten(t), p, s) if not isinstance(t, str) else (t, p, s) for t, p, s in kids]
        # \\sigma\\left(-1.1\\right), e^{-1.1}: not two brackets (\\sum, printing none of its own, keeps the value's)
        if leaf and PRIMITIVES[op].form[0] == "call" and ("\\left({" in PRIMITIVES[op].latex or op == "exp"):
            kids = [(_bare(t, "\\left(", "\\right)"), p, s) if a.op == "var" and isinstance(t, str) else (t, p, s)
                    for (t, p, s), a in zip(kids, node.args)]
        if op == "exp" and (exp_call or _tall(kids[0][0])):  # a long exponent: \\exp(…) reads better
            return f"\\exp\\left({kids[0][0]}\\right)", ATOM, shape
        text, prec = _latex_step(node, kids)
        return text, prec, shape

    root = fold(e, step)[0]
    return root if isinstance(root, str) else T.flatten(root)


# Written as ropes (a string per prefix of a 20,000-term sum was O(n²): 2.8 GB)
_ROPES = frozenset({"add", "sub", "mul", "matmul"})


def _bare(text: Any, left: str, right: str) -> Any:
    """A value bracketed as an operand, `(-1.1)`, as a function's argument: `-1.1` (its own brackets)."""
    if isinstance(text, str) and text.startswith(left + "-") and text.endswith(right) and \
            left not in text[len(left):]:
        return text[len(left):-len(right)]
    return text


def _tall(text: str) -> bool:
    """Whether an exponent would be hard to read as a superscript (a call, a fraction, long)."""
    return len(text) > 24 or "\\left" in text or "\\frac" in text


def _latex_step(node: Expr, kids: list[M.Kid]) -> M.Tex:
    op = node.op
    prim = PRIMITIVES[op]
    kind, _sym, prec = prim.form
    texts = [t for t, _, _ in kids]
    if op == "div":
        return f"\\frac{{{texts[0]}}}{{{texts[1]}}}", ATOM
    if op == "pow":
        (lt, lp, _), (rt, _rp, _) = kids
        # e^{a} and \\frac{a}{b} as a base are bracketed: {e^{a}}^{b} would read as e^{a^b}
        base = f"\\left({lt}\\right)" if lp <= POW or node.args[0].op in ("exp", "div") else lt
        return f"{{{base}}}^{{{rt}}}", POW
    if kind == "infix":  # (add, sub, mul, matmul: ropes, see _ROPES)
        (left, lp, _), (right, rp, _) = kids
        wrap = lp < prec or (op == "mul" and node.args[0].op == "matmul")
        sym = {"add": " + ", "sub": " - ", "mul": " \\cdot ", "matmul": " "}[op]
        # a negative right operand is bracketed: W^T -sin(…) read as a difference (a red team's find)
        minus = op != "add" and (node.args[1].op == "neg" or node.args[1].op == "const"
                                 and isinstance(node.args[1].attr, float) and node.args[1].attr < 0)
        return ((("\\left(", left, "\\right)") if wrap else left), sym,  # type: ignore[return-value]
                ("\\left(", right, "\\right)") if rp <= prec or minus else right), prec
    if kind == "prefix":
        (t, p, _), = kids
        return "-" + (f"\\left({t}\\right)" if p < UNARY else t), UNARY
    if op == "T" and kids[0][2] is not None and len(kids[0][2]) > 2:  # every axis reversed: not Aᵀ
        return f"\\operatorname{{transpose}}\\left({texts[0]}\\right)", ATOM
    if kind == "postfix" or op == "mT":  # (mT: each matrix of a stack transposed, written Aᵀ)
        return M.transposed(texts[0], kids[0][1]), POSTFIX
    if kind == "index":
        var = node.args[0]
        return M.indexed(kids[0], node.attr, str(var.attr) if var.op == "var" else None,  # type: ignore[arg-type]
                         tex_element)
    if kind == "id":
        return kids[0][:2]
    if kind == "stack":
        if all(a.op == "stack" and all(c.op != "stack" for c in a.args) for a in node.args):
            # a matrix literal: one bmatrix, a row per element (3×2 is 3×2, not a column of columns)
            texts = [" & ".join(t[len(_BM):-len(_EM)].split(" \\\\ ")) for t in texts]
        return _BM + " \\\\ ".join(texts) + _EM, ATOM
    if op in ("sum", "mean"):
        return M.reduction(op, kids[0], node.attr)
    if op == "expand":
        return M.broadcast(kids[0], kids[1], node.attr)
    if op == "embed":
        return M.one_hot(kids[0], kids[1], node.attr)  # type: ignore[arg-type]
    if op == "concat":
        return M.stacked(kids)
    if op == "rows":
        return M.sliced(kids[0], node.attr)  # type: ignore[arg-type]
    if op == "padrows":
        return M.padded(kids[0], kids[1], node.attr)  # type: ignore[arg-type]
    if op == "dot":
        return M.inner(kids[0], kids[1])
    if op == "outer":
        return M.outer(kids[0], kids[1])
    if op == "logsumexp" and node.attr is not None:  # over one axis: named under the sum (all: no index)
        return f"\\ln\\left(\\sum_{{\\text{{axis }} {node.attr}}} e^{{{texts[0]}}}\\right)", ATOM
    texts = [M.script_base(t) if f"{{{k}}}^" in prim.latex or f"{{{k}}}_" in prim.latex else t
             for k, t in enumerate(texts)]
    return prim.latex.format(*texts, attr=node.attr), ATOM if kind == "call" else prec


def value_or_none(e: Expr, env: dict[str, Any]) -> Any:
    """`value_of`, or None where the expression has no value here (a local derivative such as
    x^n ln x at x < 0: the partial of a constant exponent)."""
    try:
        return value_of(e, env)
    except (FloatingPointError, ZeroDivisionError, OverflowError, ValueError):
        return None


def value_of(e: Expr, env: dict[str, Any]) -> Any:
    """Evaluate a (small) expression numerically with the primitive table."""
    def step(node: Expr, kids: list[Any]) -> Any:
        if node.op == "const":
            return np.float64(float(node.attr))  # type: ignore[arg-type]
        if node.op == "var":
            return env[str(node.attr)]
        prim = PRIMITIVES[node.op]
        return prim.impl(*kids, node.attr) if prim.attr_args else prim.impl(*kids)
    with quiet_floats():
        return fold(e, step)
