"""How one node of an expression prints as text: `.cg` source (parseable) or math (`·`, `x²`, `Aᵀ`),
the tensor helpers in math as the lecture's matrix calculus (`matrixtext`); `printing.to_text` folds it."""

from __future__ import annotations

from typing import Any, NamedTuple

from graphlang.language.ast import Expr
from graphlang.primitives.shapes import Shape, ShapeError
from graphlang.primitives.table import ATOM, MUL, POSTFIX, POW, PRIMITIVES, UNARY
from graphlang.symbolic import matrixtext as MT

SUPERSCRIPT = {2.0: "²", 3.0: "³"}

# Text built as a tree of pieces and joined once at the end: a long chain `a + b + c + …` costs
# time and memory linear in its length (concatenating at every level would copy it n times).
Rope = str | tuple[Any, ...]


class Piece(NamedTuple):
    """A printed operand. `implicit`: a tensor only through a scalar spread over it (`expand(g, A)`),
    whose scalar `bare` an elementwise operation beside an operand of the full shape prints alone
    (broadcasting goes without saying); `notation`: the text uses matrix calculus (1, eᵢ)."""

    text: Rope
    prec: int
    shape: Shape | None
    implicit: bool = False
    bare: Piece | None = None
    notation: bool = False
    product: bool = False  # factors side by side (`1 vᵀ`): no parentheses in a sum, always in `·`


def math_step(node: Expr, kids: list[Piece]) -> Piece:
    """One node of math text: the helpers in matrix calculus, a scalar spread beside a full-shaped
    operand left implicit (`g_y·A`, not `g_y·1 1ᵀ·A`)."""
    op = node.op
    prim = PRIMITIVES[op]
    shape = shape_of(op, [k.shape for k in kids], node.attr)
    if op in _MATRIX:
        return _matrix_step(node, kids, shape)
    implicit = False
    if prim.elementwise and any(k.implicit for k in kids):
        if len(kids) == 2 and op not in ("add", "sub"):  # g·A, but M + 1 1ᵀ (M + 1 reads as a number)
            kids = [_elided(kids[0], kids[1]), _elided(kids[1], kids[0])]
        implicit = any(k.implicit for k in kids) and all(k.implicit or k.shape == () for k in kids)
    if op in ("add", "sub"):
        kids = [k._replace(prec=MUL) if k.product else k for k in kids]
    return Piece(*text_step(node, [(k.text, k.prec) for k in kids], "·", True), shape, implicit,
                 notation=any(k.notation for k in kids))


_MATRIX = frozenset(("expand", "embed", "outer", "sum", "mean", "T", "padrows"))


def _matrix_step(node: Expr, kids: list[Piece], shape: Shape | None) -> Piece:
    """A helper (or a sum over an axis, a transpose) in the lecture's matrix calculus."""
    op = node.op
    triples = [(k.text, k.prec, k.shape) for k in kids]
    notation = any(k.notation for k in kids)
    special: tuple[Rope, int] | None
    if op == "expand":
        special = MT.broadcast(triples[0], triples[1], node.attr)
        if node.attr is None and kids[1].shape != ():  # a scalar spread over a tensor
            return Piece(*special, shape, True, kids[0], True, special[1] == MT.PRODUCT)
    elif op == "embed":
        special = MT.one_hot(triples[0], triples[1], node.attr)  # type: ignore[arg-type]
    elif op == "outer":
        special = MT.outer(triples[0], triples[1])
    elif op == "T":
        return Piece(MT.transposed(kids[0].text, kids[0].prec), POSTFIX, shape, notation=notation)
    elif op == "padrows":  # g between rows of zeros, [0; ẋ] (the engine's padrows(ẋ, xp, 1): a red team's find)
        rows, total, at = (kids[0].shape or (1,))[0], (kids[1].shape or (None,))[0], int(node.attr)  # type: ignore[call-overload]
        blocks: list[Rope] = ["0"] * (at > 0) + [kids[0].text] + ["0"] * (total is None or at + rows < total)
        return Piece(("[", *[b for k, blk in enumerate(blocks) for b in (("; ",) if k else ()) + (blk,)], "]"),
                     ATOM, shape, notation=True)
    else:
        special = MT.reduction(op, triples[0], node.attr)
        if special is None:  # a sum of all elements, or over another axis: as written
            return Piece(*text_step(node, [(k.text, k.prec) for k in kids], "·", True), shape,
                         notation=notation)
    return Piece(*special, shape, notation=True, product=special[1] == MT.PRODUCT)


def _elided(kid: Piece, other: Piece) -> Piece:
    """A scalar spread over a tensor, beside an operand that has that shape itself: just the scalar."""
    if kid.bare is None or other.implicit or other.shape == () or \
            (kid.shape is not None and other.shape not in (None, kid.shape)):
        return kid
    return kid.bare._replace(shape=kid.shape)


def text_step(node: Expr, kids: list[tuple[Rope, int]], times: str, math: bool) -> tuple[Rope, int]:
    """One node of source or math text, the helpers as calls."""
    op = node.op
    prim = PRIMITIVES[op]
    kind, sym, prec = prim.form
    if kind == "infix":
        (lt, lp), (rt, rp) = kids
        if op == "pow":
            lt = ("(", lt, ")") if lp <= POW else lt
            exponent = node.args[1]
            if math and exponent.op == "const" and exponent.attr in SUPERSCRIPT:
                return (lt, SUPERSCRIPT[exponent.attr]), POW  # type: ignore[index]
            # in math, a power in the exponent is bracketed: 2^b² would read as (2^b)², not 2^(b²)
            rt = ("(", rt, ")") if rp < UNARY or (math and exponent.op == "pow") else rt
            return (lt, "^", rt), POW
        # in math, a matrix product times something is bracketed: Aᵀ @ u·h reads as Aᵀ @ (u·h); and an
        # elementwise product's matrix product: g·v @ Aᵀ reads as g·(v @ Aᵀ) (a student's find)
        mixed = math and (op in ("mul", "div") and node.args[0].op == "matmul"
                          or op == "matmul" and node.args[0].op in ("mul", "div")
                          or op == "mul" and node.args[0].op == "div")  # 1/s²·k read as 1/(s²·k): (1/s²)·k
        lt = ("(", lt, ")") if lp < prec or mixed else lt
        rt = ("(", rt, ")") if rp <= prec else rt
        shown = times if op == "mul" else ("/" if math and op == "div" else f" {sym} ")
        return (lt, shown, rt), prec
    if kind == "prefix":
        (t, p), = kids
        if math and p < UNARY and node.args[0].op in ("mul", "div"):  # -(a/b) is -a/b: a product still
            return ("-", t), MUL
        return ("-", t if p >= UNARY else ("(", t, ")")), UNARY
    if kind == "postfix":
        (t, p), = kids
        return (("(", t, ")") if p < POSTFIX else t, sym), POSTFIX
    if kind == "index":
        (t, p), = kids
        inner = ", ".join(str(i) for i in node.attr)  # type: ignore[attr-defined]
        return (("(", t, ")") if p < POSTFIX else t, f"[{inner}]"), POSTFIX
    if kind == "stack":
        return ("[", *_commas([t for t, _ in kids]), "]"), ATOM
    if kind == "id":
        return kids[0]
    if math and op == "rows":  # as numpy writes a slice: g_zp[1:4]
        (t, p), = kids
        return (("(", t, ")") if p < POSTFIX else t, f"[{node.attr[0]}:{node.attr[1]}]"), POSTFIX  # type: ignore[index]
    args: list[Rope] = [t for t, _ in kids]
    if prim.attr_args and node.attr is not None:
        attrs = node.attr if isinstance(node.attr, tuple) else (node.attr,)
        args += [str(a) for a in attrs]
    return (sym or op, "(", *_commas(args), ")"), ATOM


def _commas(items: list[Rope]) -> list[Rope]:
    out: list[Rope] = []
    for i, t in enumerate(items):
        if i:
            out.append(", ")
        out.append(t)
    return out


def flatten(rope: Rope) -> str:
    """The pieces in order, joined (iterative: a rope may nest as deep as the expression)."""
    parts: list[str] = []
    stack: list[Rope] = [rope]
    while stack:
        r = stack.pop()
        if isinstance(r, str):
            parts.append(r)
        else:
            stack.extend(reversed(r))
    return "".join(parts)


def shape_of(op: str, kids: list[Shape | None], attr: object) -> Shape | None:
    if any(k is None for k in kids):
        return None
    try:
        return PRIMITIVES[op].shape(kids, attr)  # type: ignore[arg-type]
    except ShapeError:
        return None
