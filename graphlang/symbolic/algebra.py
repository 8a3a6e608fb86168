"""Symbolic expressions: hash-consed, simplified as they are built, printed with few parentheses.

`Builder.mk` folds constants and applies the cheap identities (x+0, 1·x, x^1, −−x, like terms
x+x and factors x·x, constants collected in products). Shared subexpressions stay shared, so a
derivative never swells into an exponential tree. Every walk is iterative.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from graphlang.language.ast import Expr, postorder
from graphlang.numbers import quiet_floats
from graphlang.primitives.shapes import Shape, ShapeError
from graphlang.primitives.table import PRIMITIVES


def is_const(e: Expr, value: float | None = None) -> bool:
    return e.op == "const" and (value is None or e.attr == value)


def filled_value(e: Expr) -> float | None:
    """The number a constant stands for: `c`, or `expand(c, like)` (c everywhere in like's shape)."""
    if e.op == "const":
        return float(e.attr)  # type: ignore[arg-type]
    if e.op == "expand" and e.attr is None and e.args[0].op == "const":
        return float(e.args[0].attr)  # type: ignore[arg-type]
    return None


def is_zero(e: Expr) -> bool:
    return filled_value(e) == 0.0


class Builder:
    """Makes expressions; equal expressions are the same object (so `is` compares them).

    Given `shapes` (variable name -> shape), a simplification never changes an expression's
    shape: `0 * M` is `expand(0, M)` (zeros shaped like M), not the scalar 0, so that shape-aware
    operations above it (`sum(·, 0)`, indexing, `@`) still see the right shape.
    """

    def __init__(self, tidy: bool = False, shapes: Mapping[str, Shape] | None = None) -> None:
        self._table: dict[tuple[object, ...], Expr] = {}
        self.tidy = tidy  # closed forms: a·(1/b) -> a/b (derivative programs keep the chain rule's shape)
        self.var_shapes = shapes
        self._shapes: dict[int, Shape | None] = {}
        self._leaves: dict[object, Expr] = {}  # const(v) by float v, var(name) by name
        self._made: dict[tuple[object, ...], Expr] = {}  # mk's answers: (op, attr, args) -> expression
        self._rules: dict[tuple[object, ...], Shape | None] = {}  # shape rules: (op, attr, shapes) -> shape
        self._plans: dict[int, tuple[Expr, list[tuple[str, object, tuple[int, ...]]]]] = {}  # substitute's walks

    def _intern(self, op: str, args: tuple[Expr, ...], attr: object) -> Expr:
        key = (op, attr if op != "const" else repr(attr), *(id(a) for a in args))
        found = self._table.get(key)
        if found is None:
            found = Expr(op, args, attr)
            self._table[key] = found
            if self.var_shapes is not None:
                self._shapes[id(found)] = self._infer(op, args, attr)
        return found

    def _infer(self, op: str, args: tuple[Expr, ...], attr: object) -> Shape | None:
        if op == "const":
            return ()
        if op == "var":
            assert self.var_shapes is not None
            return self.var_shapes.get(str(attr))
        shapes = tuple(self._shapes.get(id(a)) for a in args)
        if None in shapes:
            return None
        key = (op, attr, shapes)
        if key not in self._rules:  # a chain applies the same rule to the same shapes thousands of times
            try:
                self._rules[key] = PRIMITIVES[op].shape(list(shapes), attr)  # type: ignore[arg-type]
            except ShapeError:
                self._rules[key] = None
        return self._rules[key]

    def shape_of(self, e: Expr) -> Shape | None:
        """The expression's shape (None when unknown: no shapes given, or a foreign node)."""
        return self._shapes.get(id(e))

    def const(self, value: float) -> Expr:
        v = float(value)
        found = self._leaves.get(v)
        if found is None:
            found = self._intern("const", (), 0.0 if v == 0 else v)
            if v == v:  # NaN never finds itself in a dict: _intern (by repr) keeps it unique
                self._leaves[v] = found
        return found

    def var(self, name: str) -> Expr:
        found = self._leaves.get(name)
        if found is None:
            found = self._leaves[name] = self._intern("var", (), name)
        return found

    def mk(self, op: str, args: tuple[Expr, ...], attr: object = None) -> Expr:
        key = (op, attr, args)  # the arguments are interned: equal ones are the same object
        found = self._made.get(key)
        if found is None:
            simpler = self._simplify(op, args, attr)
            if simpler is not None and self.var_shapes is not None:
                simpler = self._same_shape(simpler, self._infer(op, args, attr), args)
            found = simpler if simpler is not None else self._intern(op, args, attr)
            self._made[key] = found
        return found

    def _same_shape(self, e: Expr, want: Shape | None, args: tuple[Expr, ...]) -> Expr | None:
        """`e` brought to the shape `want` of the expression it simplifies (None: cannot)."""
        got = self.shape_of(e)
        if want is None or got == want:
            return e
        if got == () or (got is None and e.op == "const"):
            like = next((a for a in args if self.shape_of(a) == want), None)
            if like is None:
                return None
            value = filled_value(like)
            if value is not None and e.op == "const" and float(e.attr) == value:  # type: ignore[arg-type]
                return like
            return self._intern("expand", (e, like.args[1] if like.op == "expand" and like.attr is None
                                               else like), None)
        return None

    def _fold_const(self, op: str, args: tuple[Expr, ...], attr: object) -> Expr | None:
        if not PRIMITIVES[op].foldable or not all(a.op == "const" for a in args):
            return None
        with quiet_floats():
            value = PRIMITIVES[op].impl(*[np.float64(a.attr) for a in args])  # type: ignore[arg-type]
        value = float(value)
        if op in ("add", "sub") and np.isfinite(value) and Fraction(value) != (
                Fraction(float(args[0].attr)) + (1 if op == "add" else -1) * Fraction(float(args[1].attr))):  # type: ignore[arg-type]
            return None  # (1 + 1e21 is 1e21 in float64: folded, 1 + 1e21 − 1e21 was a closed form of 0 for 1)
        underflow = value == 0 and PRIMITIVES[op].underflows and all(  # 1e-200·1e-200, sigmoid(-800): not a 0
            float(a.attr) != 0 for a in args)  # type: ignore[arg-type]
        return self.const(value) if np.isfinite(value) and value == round(value, 12) and not underflow else None

    def _simplify(self, op: str, args: tuple[Expr, ...], attr: object) -> Expr | None:
        folded = self._fold_const(op, args, attr)
        if folded is not None:
            return folded
        c = self.const
        if op in ("add", "sub", "mul", "div", "pow") and any(
                a.op == "expand" and filled_value(a) is not None for a in args):
            a, b = args  # zeros or ones shaped like a tensor: the same identities as for numbers
            if op in ("add", "sub") and is_zero(b):
                return a
            if op == "add" and is_zero(a):
                return b
            if op == "mul" and (is_zero(a) or is_zero(b)):
                return a if is_zero(a) else b
            if op == "mul" and filled_value(a) == 1.0:
                return b
            if op == "mul" and filled_value(b) == 1.0:
                return a
            if op == "div" and is_zero(a):
                return a
            if op == "pow" and filled_value(b) == 0.0:
                return c(1.0)
            if op in ("mul", "div"):  # c·1 beside a tensor of its shape is the number c (-1·t, not -𝟏·t)
                k = 0 if a.op == "expand" and filled_value(a) is not None else 1
                other, shape = args[1 - k], self.shape_of(args[k])
                if shape is not None and self.shape_of(other) == shape:
                    number = c(filled_value(args[k]))  # type: ignore[arg-type]
                    return self.mk(op, (number, other) if k == 0 else (other, number))
            return None
        if op == "id" or op == "T" and args[0].op == "const":  # a constant is a scalar: its own transpose
            return args[0]
        if op == "expand" and attr is None and self.shape_of(args[1]) == () == self.shape_of(args[0]):
            return args[0]  # a number spread over a number (sum(x) of a scalar x): itself
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
            pair = is_const(a) and b.op == "mul" and is_const(b.args[0])
            both = float(a.attr) * float(b.args[0].attr) if pair else None  # type: ignore[arg-type]
            if both is not None and np.isfinite(both) and both != 0:  # (1e-200·1e-200: kept, not 0)
                return self.mk("mul", (c(both), b.args[1]))
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
        if op == "dpow":
            return self._dpow(args[0], args[1], attr)  # type: ignore[arg-type]
        shape = self.shape_of(args[0]) if op in ("T", "mT") else None
        if op == "T" and shape is not None and len(shape) < 2:  # numpy's .T of a vector: the vector
            return args[0]
        if op == "T" and args[0].op == "expand" and filled_value(args[0]) is not None:  # (c 1 1ᵀ)ᵀ = c 1 1ᵀ
            return self.mk("expand", (args[0].args[0], self.mk("T", (args[0].args[1],))))
        if op == "mT" and shape is not None and len(shape) == 2:  # a matrix: its transpose, whichever way written
            return self.mk("T", args)
        if op in ("T", "mT") and args[0].op == op:
            return args[0].args[0]
        if op == "outer" and any(a.op == "T" for a in args):  # its arguments are vectors: no xᵀ
            return self.mk("outer", tuple(a.args[0] if a.op == "T" else a for a in args))
        if op in ("T", "mT") and args[0].op == "outer":  # (a bᵀ)ᵀ = b aᵀ: no transposed copy
            return self.mk("outer", (args[0].args[1], args[0].args[0]))
        return None

    def _dpow(self, x: Expr, y: Expr, orders: tuple[int, int]) -> Expr | None:
        """A power's derivative in plain terms where that is exact: a constant exponent c gives
        c(c-1)…·x^(c-k) (0 when c is a smaller whole number), a positive constant base b gives
        b^y·ln(b)^m. Closed forms (`tidy`) also spell out the general first derivatives."""
        k, m = orders
        c = self.const
        if k == m == 0:
            return self.mk("pow", (x, y))
        if is_const(y) and m == 0 and np.isfinite(np.prod([float(y.attr) - i for i in range(k)])):  # type: ignore[arg-type]
            v = float(y.attr)  # type: ignore[arg-type]
            return self.mk("mul", (c(float(np.prod([v - i for i in range(k)]))), self.mk("pow", (x, c(v - k)))))
        if is_const(x) and float(x.attr) > 0 and k == 0:  # type: ignore[arg-type]
            return self.mk("mul", (self.mk("pow", (x, y)), self.mk("pow", (self.mk("ln", (x,)), c(m)))))
        if self.tidy:
            plain = plain_dpow(x, y, orders)
            return None if plain is None else self.substitute(plain, {})
        return None

    def substitute(self, e: Expr, env: Mapping[str, Expr]) -> Expr:
        """Rebuild `e` with variables replaced, simplifying on the way (iterative; the walk over
        `e`, a rule instantiated once per equation, is planned once)."""
        planned = self._plans.get(id(e))
        if planned is None or planned[0] is not e:
            planned = self._plans[id(e)] = (e, _plan(e))
        done: list[Expr] = []
        for op, attr, kids in planned[1]:
            if op == "var":
                found = env.get(attr)  # type: ignore[call-overload]
                done.append(found if found is not None else self.var(attr))  # type: ignore[arg-type]
            elif op == "const":
                done.append(self.const(attr))  # type: ignore[arg-type]
            else:
                done.append(self.mk(op, tuple([done[k] for k in kids]), attr))
        return done[-1]


def _plan(e: Expr) -> list[tuple[str, object, tuple[int, ...]]]:
    """`e`'s distinct nodes, children first (as `fold` visits them), each with its children's places."""
    place: dict[int, int] = {}
    steps: list[tuple[str, object, tuple[int, ...]]] = []
    for node in postorder(e):
        place[id(node)] = len(steps)
        attr = str(node.attr) if node.op == "var" else float(node.attr) if node.op == "const" else node.attr  # type: ignore[arg-type]
        steps.append((node.op, attr, tuple(place[id(a)] for a in node.args)))
    return steps


def plain_dpow(x: Expr, y: Expr, orders: tuple[int, int]) -> Expr | None:
    """dpow(x, y, 1, 0) as y·x^(y - 1), dpow(x, y, 0, m) as x^y·ln(x)^m (equal wherever these are
    defined; dpow also at their limits, at x = 0): the forms a reader expects."""
    k, m = orders
    one = Expr("const", (), 1.0)
    if (k, m) == (1, 0):
        return Expr("mul", (y, Expr("pow", (x, Expr("sub", (y, one))))))
    if k == 0 and m > 0:
        log = Expr("ln", (x,))
        return Expr("mul", (Expr("pow", (x, y)), log if m == 1 else Expr("pow", (log, Expr("const", (), float(m))))))
    return None
