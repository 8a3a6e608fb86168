"""The lecture's matrix calculus in plain Unicode text: `matrixtex`'s notation for terminals.

The engine's helpers print as the lecture writes them, never as calls: a sum over an axis of a
matrix is `Aᵀ 1` (axis 0) or `A 1` (axis 1), its adjoint `1 gᵀ` or `g 1ᵀ`, a scalar spread over a
tensor `g·1` (`g·1 1ᵀ` for a matrix), the adjoint of indexing `s·e₂` or `s·e₁ e₂ᵀ` (one-hot
vectors) or the row `e₀ gᵀ`, and `outer(u, v)` is `u vᵀ`. A scalar factor is joined by `·` (as
every product in explain's text), a matrix product by a space, as in the lecture's `g_z xᵀ`.
Each function takes its operands as (text, precedence, shape), the shape None where unknown, and
returns (text, precedence); texts are ropes (nested tuples of strings, joined once by the printer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graphlang.primitives.shapes import Shape
from graphlang.primitives.table import ADD, ATOM, MUL, POSTFIX, UNARY

Rope = str | tuple[Any, ...]
Kid = tuple[Rope, int, Shape | None]
Text = tuple[Rope, int]

# A product written side by side binds like a sum in text: parenthesized as an operand of `·`, `/`
# and `@`, so that `(1 vᵀ)·A` never reads as 1 (vᵀ·A) with an elementwise `·`.
PRODUCT = ADD
ONES = "𝟏"  # (bold: the number 1 beside it is the plain digit, W @ (1/3) read as scaling)
T = "ᵀ"
_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_SUPERSCRIPTS = frozenset("²³ᵀ")

LEGEND = ("𝟏 is a vector of ones, eᵢ the unit vector with 1 at index i, ᵀ the transpose; factors "
          "side by side, or joined by @, are matrix products (denominator layout, as in the lecture)")
_ONES = re.compile("𝟏")
_UNIT = re.compile(r"(?<![A-Za-z0-9_])e[₀-₉]+")


def legend(text: str, ones: bool = False) -> str:
    """LEGEND with only the symbols `text` writes (a vector of ones, a unit vector)."""
    parts = ["𝟏 is a vector of ones"] * bool(ones or _ONES.search(text)) + \
        ["eᵢ the unit vector with 1 at index i"] * bool(_UNIT.search(text))
    parts += ["ᵀ the transpose"] * ("ᵀ" in text)
    return ", ".join(parts) + ("; " if parts else "") + ("factors side by side, or joined by @, are matrix "
                                                         "products (denominator layout, as in the lecture)")


_LONE = re.compile(r"(?<![\w.])1(?![\w.])")
_LETTER = re.compile(r"[^\W\d]")


def forms_note(texts: Mapping[str, str], shapes: Mapping[str, Shape], used: set[str]) -> str:
    """`diff`'s note on its closed forms (as explain's legend): what 1, eᵢ and ᵀ are, where they are
    written (`(1/4) 1ᵀ`; `dy/dx = 1` for a vector x, whose 1 is a vector of ones: a review's find);
    "" when the forms are plain numbers' formulas."""
    lone = any(shapes.get(n) and _LONE.search(t) and not _LETTER.search(t) for n, t in texts.items())
    # (a form that is a number only: `1 - s` beside a vector s is the number 1, broadcast)
    said = legend("\n".join(texts.values()), lone)
    return said if (used or lone) and said != legend("") else ""


def paren(text: Rope, prec: int, below: int) -> Rope:
    """`text` in parentheses when it binds looser than `below`."""
    return ("(", text, ")") if prec < below else text


def _last(rope: Rope) -> str:
    """The rope's last character (iterative: a rope nests as deep as its expression)."""
    while not isinstance(rope, str):
        rope = next((r for r in reversed(rope) if r != ""), "")
    return rope[-1:] if rope else ""


def transposed(text: Rope, prec: int) -> Rope:
    """`Xᵀ`, parenthesized unless X is one symbol or a call: `(a + b)ᵀ`, and `(x²)ᵀ` (a ᵀ on an
    exponent would read as part of it)."""
    if prec < POSTFIX or _last(text) in _SUPERSCRIPTS:
        return ("(", text, ")", T)
    return (text, T)


def unit(i: int) -> str:
    """The one-hot vector e_i, its index as a subscript (`e₁`, `e₁₂`)."""
    return "e" + str(i).translate(_SUB)


def _scale(text: Rope, prec: int) -> Rope:
    """A scalar written in front of a vector (`2·1`, `g_y·s·e₂`: scalars commute); nothing for 1."""
    return "" if text == "1" else (paren(text, prec, MUL), "·")


def _axis(attr: object, shape: Shape | None) -> int | None:
    """The axis counted from the front (None: negative, and the rank is unknown)."""
    k = int(attr)  # type: ignore[call-overload]
    if shape:
        return k % len(shape)
    return k if k >= 0 else None


def reduction(op: str, x: Kid, attr: object) -> Text | None:
    """`sum(A, 0)` of a matrix as `Aᵀ 1`, `sum(A, 1)` as `A 1`, `mean` as `(1/n)·Aᵀ 1`; None
    (printed as the call, which is also the lecture's) for a sum of all elements or another axis."""
    text, prec, shape = x
    if attr is None or shape is not None and len(shape) != 2:
        return None
    axis = _axis(attr, shape)
    if axis not in (0, 1) or op == "mean" and shape is None:
        return None
    product = (transposed(text, prec), " ", ONES) if axis == 0 else (paren(text, prec, UNARY), " ", ONES)
    if op == "sum":
        return product, PRODUCT
    assert shape is not None and axis is not None
    return (f"(1/{shape[axis]})·", product), PRODUCT


def broadcast(g: Kid, like: Kid, attr: object) -> Text:
    """`expand(g, A)`: g times ones (`g·1`; a matrix of ones is `1 1ᵀ`); along axis 0 of a matrix
    every row is gᵀ (`1 gᵀ`), along axis 1 every column is g (`g 1ᵀ`)."""
    text, prec, _ = g
    shape = like[2]
    if shape == ():
        return text, prec
    rank = None if shape is None else len(shape)
    axis = None if attr is None else _axis(attr, shape)
    if attr is None or rank == 1:
        if text == "0":
            return "0", ATOM
        if rank == 2:  # a matrix of ones: 1 1ᵀ
            return (_scale(text, prec), ONES, " ", ONES, T), PRODUCT
        return (_scale(text, prec), ONES), ATOM if text == "1" else MUL
    if rank in (2, None) and axis == 0:
        return (ONES, " ", transposed(text, prec)), PRODUCT
    if rank in (2, None) and axis == 1:
        return (paren(text, prec, UNARY), " ", ONES, T), PRODUCT
    if axis == 0:
        return (ONES, " ⊗ ", paren(text, prec, UNARY)), PRODUCT
    if rank is not None and axis == rank - 1:
        return (paren(text, prec, UNARY), " ⊗ ", ONES), PRODUCT
    return ("(", text, f" repeated along axis {attr})"), ATOM


def one_hot(g: Kid, like: Kid, index: tuple[int, ...]) -> Text:
    """`embed(g, A, i, ...)`: g at an index of zeros, with the one-hot vectors e_i: `g·e₂` in a
    vector, `g·e₁ e₂ᵀ` in a matrix, the row `e₀ gᵀ`; in a larger tensor `g·e₍₁,₂,₃₎` (a number)
    or `e₁ ⊗ g` (a slice)."""
    text, prec, g_shape = g
    shape = like[2]
    idx = _normalized(index, shape)
    rank = None if shape is None else len(shape)
    e = [unit(i) for i in idx]
    if len(idx) == 1 and (rank == 1 or rank is None and g_shape == ()):
        return (_scale(text, prec), e[0]), MUL
    if len(idx) == 2 and rank in (2, None):
        return (_scale(text, prec), e[0], " ", e[1], T), PRODUCT
    if len(idx) == 1 and rank in (2, None):
        return (e[0], " ", transposed(text, prec)), PRODUCT
    e_idx = e[0] if len(idx) == 1 else "e₍" + ",".join(str(i).translate(_SUB) for i in idx) + "₎"
    if g_shape == ():  # a number at one place of a tensor
        return (_scale(text, prec), e_idx), MUL
    return (e_idx, " ⊗ ", paren(text, prec, UNARY)), PRODUCT


def _normalized(index: tuple[int, ...], shape: Shape | None) -> tuple[int, ...]:
    """Negative indices counted from the front, where the shape says how long each axis is."""
    if shape is None or len(shape) < len(index):
        return index
    return tuple(i % n if n else i for i, n in zip(index, shape))


def outer(u: Kid, v: Kid) -> Text:
    """`outer(u, v)` as `u vᵀ`; a scalar operand simply scales the other (`s·v`)."""
    if u[2] == () or v[2] == ():
        return (paren(u[0], u[1], MUL), "·", paren(v[0], v[1], UNARY)), MUL
    return (paren(u[0], u[1], UNARY), " ", transposed(v[0], v[1])), PRODUCT
