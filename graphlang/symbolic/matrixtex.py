"""The lecture's matrix calculus in LaTeX (denominator layout, vectors are columns).

The adjoints of tensor programs use three helpers that no textbook writes: `sum(A, k)` (a sum over
one axis), `expand(g, A, k)` (g repeated along an axis, the adjoint of that sum) and
`embed(g, A, i)` (g put at an index of zeros, the adjoint of indexing). They print as the lecture
would write them: `A^T 1` and `A 1`, `1 g^T` and `g 1^T`, `g e_i` and `g e_i e_j^T` (one-hot
vectors, like the lecture's `d_i`). Each function takes its arguments as (LaTeX, precedence, shape)
with the shape None where unknown, and returns (LaTeX, precedence).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from graphlang.primitives.shapes import Shape
from graphlang.primitives.table import ADD, ATOM, MUL, POSTFIX, UNARY

Kid = tuple[str, int, Shape | None]
Tex = tuple[str, int]

ONES = "\\mathbf{1}"


def paren(text: str, prec: int, below: int) -> str:
    """`text` in parentheses when it binds looser than `below`."""
    return f"\\left({text}\\right)" if prec < below else text


def script_base(text: str) -> str:
    """Brace a base that already carries a sub- or superscript, so that another one attaches to the
    whole (`{x_{1}}_{0}`, not the double subscript `x_{1}_{0}`)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and ch in "_^" and (i == 0 or text[i - 1] != "\\"):
            # (TeX unwraps a group of one accented atom: `{\dot{W}_{1}}_{0}` is a double subscript)
            return "{" + text + ("{}}" if re.match(r"\\(dot|ddot|hat|bar|tilde|vec|check|breve)\{", text) else "}")
    return text


def transposed(text: str, prec: int) -> str:
    """`X^T`, parenthesized unless X is one symbol: `\\left(a + b\\right)^{T}`, and
    `\\left(\\cos\\left(a\\right)\\right)^{T}`, `\\left(x^{2}\\right)^{T}` (a T on a function's parenthesis
    or on an exponent would read as part of it), `\\left(\\frac{\\mathbf{1}}{3}\\right)^{T}` (a T beside a
    fraction's bar belongs to no part of it)."""
    if prec < POSTFIX or text.endswith("\\right)") or _superscripted(text) or text.startswith("\\frac"):
        return f"\\left({text}\\right)^{{T}}"
    return f"{text}^{{T}}"


def _superscripted(text: str) -> bool:
    """Has `text` a superscript outside braces (`x^{2}`, not `e_{x^{2}}`)?"""
    depth = 0
    for i, ch in enumerate(text):
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
        if depth == 0 and ch == "^" and (i == 0 or text[i - 1] != "\\"):
            return True
    return False


def _scale(text: str, prec: int) -> str:
    """A scalar written in front of a vector (`g \\mathbf{1}`); nothing for 1, `-` for -1, and a dot
    after a number (`2 \\cdot \\mathbf{1}`: `2 \\mathbf{1}` reads as 21)."""
    if text in ("1", "-1"):
        return "" if text == "1" else "-"
    scaled = paren(text, prec, UNARY)
    return scaled + (" \\cdot " if scaled[-1:].isdigit() else " ")


def _axis(attr: object, shape: Shape | None) -> int | None:
    """The axis counted from the front (None: negative, and the rank is unknown)."""
    k = int(attr)  # type: ignore[call-overload]
    if shape is not None and shape:
        return k % len(shape)
    return k if k >= 0 else None


def reduction(op: str, x: Kid, attr: object) -> Tex:
    """`sum(A)` as `\\sum A`; over an axis of a matrix `A^T 1` (axis 0) or `A 1` (axis 1); `mean`
    the same divided by the axis' length."""
    text, prec, shape = x
    rank = None if shape is None else len(shape)
    if attr is None or rank is not None and rank <= 1:
        if op == "sum":
            return "\\sum " + paren(text, prec, MUL), ADD
        return f"\\operatorname{{mean}}\\left({text}\\right)", ATOM
    axis = _axis(attr, shape)
    if axis not in (0, 1) or rank not in (2, None):
        if op == "sum":
            return f"\\sum_{{\\text{{axis }} {attr}}} " + paren(text, prec, MUL), ADD
        return f"\\operatorname{{mean}}\\left({text}, {attr}\\right)", ATOM
    product = f"{transposed(text, prec)} {ONES}" if axis == 0 else f"{paren(text, prec, MUL + 1)} {ONES}"
    if op == "sum":
        return product, MUL
    if shape is None:
        return f"\\operatorname{{mean}}\\left({text}, {attr}\\right)", ATOM
    return f"\\frac{{1}}{{{shape[axis]}}} {product}", MUL


def broadcast(g: Kid, like: Kid, attr: object) -> Tex:
    """`expand(g, A)`: g times ones (`g \\mathbf{1}`; a matrix of ones is `\\mathbf{1} \\mathbf{1}^T`);
    along axis 0 of a matrix every row is gᵀ (`\\mathbf{1} g^T`), along axis 1 every column is g
    (`g \\mathbf{1}^T`)."""
    text, prec, _ = g
    shape = like[2]
    if shape == ():
        return text, prec
    rank = None if shape is None else len(shape)
    axis = None if attr is None else _axis(attr, shape)
    if attr is None or rank == 1:
        if text == "0":
            return "\\mathbf{0}", ATOM
        ones = f"{ONES} {ONES}^{{T}}" if rank == 2 else ONES  # a matrix of ones: 1 1ᵀ
        return _scale(text, prec) + ones, ATOM if text == "1" and rank != 2 else MUL
    if rank in (2, None) and axis == 0:
        return f"{ONES} {transposed(text, prec)}", MUL
    if rank in (2, None) and axis == 1:
        return f"{paren(text, prec, MUL + 1)} {ONES}^{{T}}", MUL
    if axis == 0:
        return f"{ONES} \\otimes {paren(text, prec, MUL + 1)}", MUL
    if rank is not None and axis == rank - 1:
        return f"{paren(text, prec, MUL + 1)} \\otimes {ONES}", MUL
    return f"\\operatorname{{repeat}}_{{{attr}}}\\left({text}\\right)", ATOM


def one_hot(g: Kid, like: Kid, index: tuple[int, ...]) -> Tex:
    """`embed(g, A, i, ...)`: g at an index of zeros, with the one-hot vectors e_i: `g e_i` in a
    vector, `g e_i e_j^T` in a matrix, the row `e_i g^T`; any other as `e_{i,j} ⊗ g`."""
    text, prec, g_shape = g
    shape = like[2]
    idx = _normalized(index, shape)
    rank = None if shape is None else len(shape)
    e = [f"\\mathbf{{e}}_{{{i}}}" for i in idx]
    if len(idx) == 1 and (rank == 1 or rank is None and g_shape == ()):
        return (_scale(text, prec) + e[0]).strip(), MUL
    if len(idx) == 2 and rank in (2, None):
        return f"{_scale(text, prec)}{e[0]} {e[1]}^{{T}}", MUL
    if len(idx) == 1 and rank in (2, None):
        return f"{e[0]} {transposed(text, prec)}", MUL
    return f"\\mathbf{{e}}_{{{','.join(map(str, idx))}}} \\otimes {paren(text, prec, MUL + 1)}", MUL


def _normalized(index: tuple[int, ...], shape: Shape | None) -> tuple[int, ...]:
    """Negative indices counted from the front, where the shape says how long each axis is."""
    if shape is None or len(shape) < len(index):
        return index
    return tuple(i % n if n else i for i, n in zip(index, shape))


def indexed(x: Kid, index: tuple[int, ...], name: str | None = None,
            element: Callable[[str, str], str] | None = None) -> Tex:
    """`A[i, j]` as `A_{i,j}`; a row of a matrix `A[i]` as `A_{i,:}`."""
    text, prec, shape = x
    idx = [str(i) for i in _normalized(index, shape)]
    if shape is not None and len(shape) > len(idx):
        idx += [":"] * (len(shape) - len(idx))
    elif name is not None and element is not None:  # one number of a named tensor: not bold, as x_1 (`tex_element`)
        return element(name, ",".join(idx)), POSTFIX
    return f"{script_base(paren(text, prec, POSTFIX))}_{{{','.join(idx)}}}", POSTFIX


def inner(u: Kid, v: Kid) -> Tex:
    """`dot(u, v)` as `u^T v`."""
    return f"{transposed(u[0], u[1])} {paren(v[0], v[1], MUL + 1)}", MUL


def outer(u: Kid, v: Kid) -> Tex:
    """`outer(u, v)` as `u v^T`."""
    return f"{paren(u[0], u[1], MUL + 1)} {transposed(v[0], v[1])}", MUL


def stacked(items: list[Kid]) -> Tex:
    """`concat(1, z)` as the lecture's [1; z]: one block below another; a vector that is one row of
    a matrix is written as a row, `b^T`."""
    rank = max(1, max((len(s) for _, _, s in items if s is not None), default=1))
    blocks = [transposed(t, p) if s is not None and len(s) == rank - 1 >= 1 else t for t, p, s in items]
    return "\\begin{bmatrix}" + " \\\\ ".join(blocks) + "\\end{bmatrix}", ATOM


def sliced(x: Kid, span: tuple[int, int]) -> Tex:
    """`rows(u, i, j)`: rows i to j - 1 named as they are, `u_{i \\ldots j-1}` (counted from 0, as
    `A_{0,:}` is; `u_{1:4}` read as 1-based and inclusive, a red team's find); a matrix's `A_{i \\ldots j-1,:}`."""
    text, prec, shape = x
    tail = ",:" * (len(shape) - 1) if shape else ""
    first, last = span[0], span[1] - 1
    which = str(first) if first == last else f"{first} \\ldots {last}"
    return f"{script_base(paren(text, prec, POSTFIX))}_{{{which}{tail}}}", POSTFIX


def padded(g: Kid, like: Kid, start: int) -> Tex:
    """`padrows(g, u, i)`: g between blocks of zeros, `[0; g; 0]`."""
    rows, total = (g[2] or (1,))[0], (like[2] or (None,))[0]
    blocks = ["\\mathbf{0}"] * (start > 0) + [g[0]] + ["\\mathbf{0}"] * (total is None or start + rows < total)
    return "\\begin{bmatrix}" + " \\\\ ".join(blocks) + "\\end{bmatrix}", ATOM
