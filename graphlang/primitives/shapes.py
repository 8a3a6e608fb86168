"""Shape rules: each returns the output shape or raises ShapeError naming both shapes."""

from __future__ import annotations

import math

Shape = tuple[int, ...]


class ShapeError(Exception):
    """A shape mismatch; `kind` is `shape` or `index`. The caller adds the location."""

    def __init__(self, message: str, kind: str = "shape", hint: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.hint = hint


def show(shape: Shape) -> str:
    return "scalar" if shape == () else "[" + ", ".join(map(str, shape)) + "]"


def elementwise(shapes: list[Shape], attr: object, op: str = "") -> Shape:
    out: list[int] = []
    for s in shapes:
        for i, n in enumerate(reversed(s)):
            if i == len(out):
                out.append(n)
            elif out[i] != n:
                if out[i] == 1:
                    out[i] = n
                elif n != 1:
                    a, b = shapes[0], shapes[-1]
                    raise ShapeError(f"shapes {show(a)} and {show(b)} do not broadcast together"
                                     f"{' in ' + repr(op) if op else ''}")
    return tuple(reversed(out))


def matmul(shapes: list[Shape], attr: object) -> Shape:
    """numpy `matmul`: a vector is a row (first) or a column (second); past two axes, a stack of
    matrices whose leading axes broadcast."""
    a, b = shapes
    if not a or not b:
        raise ShapeError(f"'@' needs vectors, matrices or stacks of matrices, got {show(a)} @ {show(b)}; "
                         "use * to multiply by a scalar")
    inner_a, inner_b = a[-1], b[-2 if len(b) > 1 else 0]
    if inner_a != inner_b:
        raise ShapeError(f"'@' of {show(a)} and {show(b)}: inner sizes {inner_a} and {inner_b} differ")
    try:
        stack = elementwise([a[:-2], b[:-2]], None)
    except ShapeError:
        raise ShapeError(f"'@' of {show(a)} and {show(b)}: the stacks {show(a[:-2])} and {show(b[:-2])} "
                         "do not broadcast together") from None
    return stack + a[-2:-1] + b[-1:] if len(b) > 1 else stack + a[-2:-1]


def matrix_transpose(shapes: list[Shape], attr: object) -> Shape:
    a = shapes[0]
    if len(a) < 2:
        raise ShapeError(f"mT swaps the last two axes: it needs a matrix or a stack of them, got {show(a)}")
    return a[:-2] + (a[-1], a[-2])


def dot(shapes: list[Shape], attr: object) -> Shape:
    a, b = shapes
    if len(a) != 1 or len(b) != 1 or a != b:
        raise ShapeError(f"dot needs two vectors of the same length, got {show(a)} and {show(b)}")
    return ()


def outer(shapes: list[Shape], attr: object) -> Shape:
    a, b = shapes
    if len(a) != 1 or len(b) != 1:
        raise ShapeError(f"outer needs two vectors, got {show(a)} and {show(b)}")
    return a + b


def transpose(shapes: list[Shape], attr: object) -> Shape:
    return tuple(reversed(shapes[0]))


def _axis(shape: Shape, axis: object) -> int:
    assert isinstance(axis, int)
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(f"axis {axis} is out of range for a value of shape {show(shape)}", "index")
    return axis % len(shape)


def reduce(shapes: list[Shape], attr: object) -> Shape:
    s = shapes[0]
    if attr is None:
        return ()
    k = _axis(s, attr)
    return s[:k] + s[k + 1 :]


def expand(shapes: list[Shape], attr: object) -> Shape:
    g, like = shapes
    if reduce([like], attr) != g:
        raise ShapeError(f"expand: {show(g)} is not {show(like)} reduced over axis {attr}")
    return like


def last_axis(shapes: list[Shape], attr: object) -> Shape:
    if not shapes[0]:
        raise ShapeError("this function works over the last axis: it needs a vector or a matrix, got a scalar")
    return shapes[0]


def to_scalar(shapes: list[Shape], attr: object) -> Shape:
    return ()


def index(shapes: list[Shape], attr: object) -> Shape:
    s = shapes[0]
    idx = attr
    assert isinstance(idx, tuple)
    if len(idx) > len(s):
        many = f"{len(idx)} ind{'ex' if len(idx) == 1 else 'ices'}"
        raise ShapeError(f"{many} for a value of shape {show(s)}", "index", None if s else
                         "a scalar has no elements to index: declare the input's shape (input x[3]) "
                         "or give its value (--at x=[1,2,3])")
    for axis, (i, n) in enumerate(zip(idx, s)):
        if not -n <= i < n:
            where = f"along axis {axis}, " if len(idx) > 1 else ""
            raise ShapeError(f"index {i} is out of range for length {n} (shape {show(s)})", "index",
                             f"{where}indices run from 0 to {n - 1} (or -1 to -{n} from the end)" + (
                                 ": they start at 0, so the lecture's x₁ is x[0]" if i == n else ""))
    return s[len(idx) :]


def embed(shapes: list[Shape], attr: object) -> Shape:
    g, like = shapes
    if index([like], attr) != g:
        raise ShapeError(f"embed: {show(g)} does not fit {show(like)} at {attr}")
    return like


def stack(shapes: list[Shape], attr: object) -> Shape:
    first = shapes[0]
    for s in shapes[1:]:
        if s != first:
            vector = next((t for t in (first, s) if len(t) == 1), None)
            listed = None if vector is None or min(len(first), len(s)) else \
                ", ".join(f"v[{i}]" for i in range(min(vector[0], 3))) + (", ..." if vector[0] > 3 else "")
            raise ShapeError(f"a bracketed list mixes shapes {show(first)} and {show(s)} (ragged)", hint=(
                f"brackets stack values of one shape; to join values end to end write concat(1, v) "
                f"(the lecture's bias folding [1; v]), or list the elements one by one: [1, {listed}]"
                if listed else None))
    return (len(shapes),) + first


def concat_layout(shapes: list[Shape]) -> tuple[Shape, list[tuple[int, int, bool]]]:
    """`concat`'s one rule: the result's shape, and each argument's (first row, rows, one axis short of
    the result: one row of it). The rows' shape is the first full-rank argument's (a mismatch is the
    argument that differs from it: `concat(v[2], M[2, 3])` blames v, not M)."""
    rank = max(1, max(len(s) for s in shapes))
    rest = next((s[1:] for s in shapes if len(s) == rank), ())
    layout, start = [], 0
    for s in shapes:
        if len(s) == rank and s[1:] == rest or len(s) == rank - 1 and s == rest:
            n = s[0] if len(s) == rank else 1
            layout.append((start, n, len(s) < rank))
            start += n
            continue
        wanted = "a scalar" if not rest else f"shape {show(rest)}"
        raise ShapeError(f"concat: {show(s)} does not join the others along the first axis", hint=(
            f"concat puts its arguments one below the other: each is {wanted} (one row) or has "
            f"{'length n' if not rest else f'shape [n, {show(rest)[1:-1]}]'} (n rows)"))
    return (start, *rest), layout


def concat(shapes: list[Shape], attr: object) -> Shape:
    """Along the first axis; an argument one axis short of the result is one row of it."""
    return concat_layout(shapes)[0]


def rows(shapes: list[Shape], attr: object) -> Shape:
    s = shapes[0]
    assert isinstance(attr, tuple)
    start, stop = int(attr[0]), int(attr[1])
    if not s or not 0 <= start < stop <= s[0]:
        raise ShapeError(f"rows({start}, {stop}) of a value of shape {show(s)}" + (
            f", whose rows are 0 to {s[0] - 1}" if s else ", a scalar"), "index",
            f"rows(u, i, j) takes rows i to j - 1: 0 <= i < j <= {s[0]}" if s else None)
    return (stop - start, *s[1:])


def padrows(shapes: list[Shape], attr: object) -> Shape:
    g, like = shapes
    start = int(attr)  # type: ignore[call-overload]
    if not g or len(g) != len(like) or g[1:] != like[1:] or not 0 <= start <= like[0] - g[0]:
        raise ShapeError(f"padrows: {show(g)} does not fit {show(like)} from row {start}")
    return like


# --- cost: the work of one forward (or one reverse) evaluation, in elementary operations ----------

def _size(shape: Shape) -> int:
    return math.prod(shape) if shape else 1


def linear_cost(ins: list[Shape], out: Shape) -> int:
    """Touches each element of its arguments and result a bounded number of times."""
    return max(_size(out), max((_size(s) for s in ins), default=1))


def matmul_cost(ins: list[Shape], out: Shape) -> int:
    """A matrix product: every output element is an inner product over the shared axis."""
    if ins[0] and ins[1]:
        return _size(out) * ins[0][-1]
    return linear_cost(ins, out)


def outer_cost(ins: list[Shape], out: Shape) -> int:
    return _size(out)
