"""Differential testing: random tensor programs, every method and every engine against autograd.

The strategy `programs()` builds well-shaped programs over scalars, vectors and matrices (sizes 2
and 3, and size-1 axes): inputs, number and tensor literals, named constants, elementwise
functions, broadcasting in both directions (scalar with tensor, vector with matrix, [1, n] with
[m, n]), `@`, `dot`, `outer`, reductions with and without an axis, indexing, transposes,
bracketed stacks of nodes, `concat` (bias folding), `rows`/`padrows`, `expand`/`embed`, reused
nodes, and one scalar output, a vector output or several outputs. Each program carries its own
re-implementation in `autograd.numpy` (the ORACLE table below, written independently of graphlang's
kernels), from which autograd computes
the reference values, every node's adjoint (∂y/∂node, by perturbing each node), the gradient and
the Jacobian. `check_program` compares against it:

- values, and every named node's adjoint (constants included, SPEC §2), from `evaluate`;
- the gradient or Jacobian by each method: reverse, forward, fd, symbolic and auto;
- every engine: the interpreter, the compiled `Program.gradient` plan (called twice, so the plan
  is compiled, and also built directly), the batched Jacobian columns (forward and reverse) and
  the one-direction-at-a-time columns, forward tangents of every node, and the training step's
  batched plan and batched interpreter over a mini-batch.

`python tests/fuzz.py --differential N` runs the same check on N random programs.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphlang
from graphlang import methods

autograd = pytest.importorskip("autograd")
anp = pytest.importorskip("autograd.numpy")
from autograd.tracer import getval  # noqa: E402

KINK_MARGIN = 1e-9  # kink conventions at exact zeros are tested by hand (test_gradcheck, test_domain_edges)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

# ---------------------------------------------------------------------------------------------
# The oracle: each primitive re-implemented with autograd.numpy (conventions of SPEC §1:
# relu'(0) = abs'(0) = 0, max/min send the adjoint to the first argument on a tie).


class Kinks:
    """The smallest distance to a kink met while evaluating (finite differences are unreliable
    closer than that)."""

    margin = math.inf

    @classmethod
    def note(cls, d: Any) -> None:
        d = np.asarray(getval(d), dtype=float)
        if d.size:
            cls.margin = min(cls.margin, float(np.min(np.abs(d))))


def _full(x: Any, y: Any) -> tuple[Any, Any]:
    """Both operands broadcast to the result's shape (so `where` needs no unbroadcasting)."""
    return x + 0.0 * y, y + 0.0 * x


def _max(x: Any, y: Any) -> Any:
    x, y = _full(x, y)
    Kinks.note(x - y)
    return anp.where(getval(x) >= getval(y), x, y)


def _min(x: Any, y: Any) -> Any:
    x, y = _full(x, y)
    Kinks.note(x - y)
    return anp.where(getval(x) <= getval(y), x, y)


def _relu(x: Any) -> Any:
    Kinks.note(x)
    return anp.where(getval(x) > 0, x, 0.0 * x)


def _abs(x: Any) -> Any:
    Kinks.note(x)
    v = getval(x)
    return anp.where(v > 0, x, anp.where(v < 0, -x, 0.0 * x))  # abs'(0) = 0


def _sign(x: Any) -> Any:
    Kinks.note(x)
    v = getval(x)
    return np.where(v > 0, 1.0, np.where(v < 0, -1.0, 0.0))


def _step(x: Any) -> Any:
    Kinks.note(x)
    return np.where(getval(x) > 0, 1.0, 0.0)


def _softmax(u: Any) -> Any:
    # Shifted by the (constant) maximum: exact, since softmax is shift-invariant, and free of the
    # overflow of e / Σe whose derivative divides by (Σe)² (inf at e ≈ 1e228: a wrong oracle).
    e = anp.exp(u - np.max(getval(u), axis=-1, keepdims=True))
    return e / anp.sum(e, axis=-1, keepdims=True)


def _logsumexp(u: Any) -> Any:
    m = np.max(getval(u))
    return anp.log(anp.sum(anp.exp(u - m))) + m


def _expand(g: Any, like: Any, axis: Any) -> Any:
    shape = np.shape(getval(like))
    if axis is not None:
        g = anp.expand_dims(g, axis)
    return g * np.ones(shape)


def _concat(*xs: Any) -> Any:
    rank = max(1, max(anp.ndim(x) for x in xs))
    return anp.concatenate([anp.reshape(x, (1,) * (rank - anp.ndim(x)) + anp.shape(x)) for x in xs], axis=0)


def _padrows(g: Any, like: Any, start: int) -> Any:
    shape, n = np.shape(getval(like)), np.shape(getval(g))[0]
    parts = [np.zeros((start,) + shape[1:]), g, np.zeros((shape[0] - start - n,) + shape[1:])]
    return anp.concatenate(parts, axis=0)


def _embed(g: Any, like: Any, idx: tuple[int, ...]) -> Any:
    shape = np.shape(getval(like))
    mask = np.zeros(shape[: len(idx)])
    mask[idx] = 1.0
    rest = shape[len(idx):]
    return mask.reshape(mask.shape + (1,) * len(rest)) * g


ORACLE: dict[str, Any] = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x ** y, "matmul": anp.dot,
    "neg": lambda x: -x, "T": anp.transpose, "exp": anp.exp, "ln": anp.log, "sqrt": anp.sqrt,
    "sin": anp.sin, "cos": anp.cos, "tan": anp.tan, "tanh": anp.tanh,
    "sigmoid": lambda x: 0.5 * (anp.tanh(0.5 * x) + 1.0), "relu": _relu, "abs": _abs, "sign": _sign,
    "step": _step, "max": _max, "min": _min, "xlogy": lambda x, y: x * anp.log(y),
    "softmax": _softmax, "logsumexp": _logsumexp,
    "sum": lambda x, axis: anp.sum(x, axis=axis), "mean": lambda x, axis: anp.mean(x, axis=axis),
    "dot": anp.dot, "outer": anp.outer, "expand": _expand, "embed": _embed,
    "index": lambda x, idx: x[idx], "stack": lambda *xs: anp.stack(list(xs)),
    "concat": _concat, "rows": lambda x, span: x[span[0]:span[1]], "padrows": _padrows,
}

# ---------------------------------------------------------------------------------------------
# Programs as small expression trees: printed as .cg text, evaluated by the oracle.

INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^", "matmul": "@"}
UNARY = ["exp", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "sign", "step", "neg", "T"]
ATTR_OPS = ("sum", "mean", "index", "expand", "embed", "rows", "padrows")


@dataclass(frozen=True)
class Node:
    op: str  # "var", "num", an ORACLE primitive
    args: tuple[Node, ...]
    attr: Any
    shape: tuple[int, ...]

    def text(self) -> str:
        if self.op == "var":
            return str(self.attr)
        if self.op == "num":
            return _num(self.attr)
        a = [x.text() for x in self.args]
        if self.op in INFIX:
            return f"({a[0]} {INFIX[self.op]} {a[1]})"
        if self.op == "neg":
            return f"(-{a[0]})"
        if self.op == "T":
            return f"({a[0]}).T" if self.attr else f"transpose({a[0]})"
        if self.op == "index":
            return f"({a[0]})[{', '.join(map(str, self.attr))}]"
        if self.op == "stack":
            return "[" + ", ".join(a) + "]"
        if self.op in ("sum", "mean", "expand"):
            return f"{self.op}({', '.join(a)}{'' if self.attr is None else f', {self.attr}'})"
        if self.op in ("embed", "rows"):
            return f"{self.op}({', '.join(a)}, {', '.join(map(str, self.attr))})"
        if self.op == "padrows":
            return f"padrows({', '.join(a)}, {self.attr})"
        return f"{self.op}({', '.join(a)})"

    def value(self, env: dict[str, Any]) -> Any:
        if self.op == "var":
            return env[self.attr]
        if self.op == "num":
            return np.float64(self.attr)
        args = [x.value(env) for x in self.args]
        if self.op == "T":
            return ORACLE["T"](*args)
        if self.op in ATTR_OPS:
            return ORACLE[self.op](*args, self.attr)
        return ORACLE[self.op](*args)


def _num(v: float) -> str:
    return repr(float(v)) if v != int(v) else str(int(v))


def num(v: float) -> Node:
    return Node("num", (), float(v), ())


def mk(op: str, *args: Node, attr: Any = None) -> Node:
    shapes = [a.shape for a in args]
    if op in ("add", "sub", "mul", "div", "pow", "max", "min", "xlogy"):
        shape = np.broadcast_shapes(*shapes)
    elif op == "matmul":
        shape = shapes[0][:-1] + shapes[1][1:]
    elif op in ("dot", "logsumexp"):
        shape = ()
    elif op == "outer":
        shape = shapes[0] + shapes[1]
    elif op == "T":
        shape = shapes[0][::-1]
    elif op in ("sum", "mean"):
        shape = () if attr is None else tuple(n for k, n in enumerate(shapes[0]) if k != attr % len(shapes[0]))
    elif op == "index":
        shape = shapes[0][len(attr):]
    elif op == "stack":
        shape = (len(args),) + shapes[0]
    elif op in ("expand", "embed", "padrows"):
        shape = shapes[1]
    elif op == "concat":
        rank = max(1, max(len(s) for s in shapes))
        shape = (sum(s[0] if len(s) == rank else 1 for s in shapes),) + max(shapes, key=len)[1:]
    elif op == "rows":
        shape = (attr[1] - attr[0],) + shapes[0][1:]
    else:
        shape = shapes[0]
    return Node(op, args, attr, tuple(shape))


@dataclass
class Program:
    """A random program: its inputs (name -> shape), statements, outputs and input values."""

    inputs: dict[str, tuple[int, ...]]
    statements: list[tuple[str, Node]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    kink_margin: float = math.inf

    def source(self) -> str:
        decl = "input " + ", ".join(n + (f"[{', '.join(map(str, s))}]" if s else "")
                                    for n, s in self.inputs.items())
        body = [f"{n} = {e.text()}" for n, e in self.statements]
        return "\n".join([decl, *body, "output " + ", ".join(self.outputs)]) + "\n"

    def names(self) -> list[str]:
        return list(self.inputs) + [n for n, _ in self.statements]

    def run(self, inputs: dict[str, Any], deltas: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every named value; `deltas` are added to the nodes (their gradients are adjoints)."""
        env: dict[str, Any] = {}
        for n in self.inputs:
            env[n] = inputs[n] + (deltas[n] if deltas is not None else 0.0)
        for n, e in self.statements:
            v = e.value(env)
            env[n] = v + deltas[n] if deltas is not None else v
        return env

    def output_vector(self, env: dict[str, Any]) -> Any:
        return anp.concatenate([anp.reshape(env[n], (-1,)) for n in self.outputs])


# ---------------------------------------------------------------------------------------------
# The strategy.

SHAPES = [(), (2,), (3,), (2, 3), (3, 2), (3, 3), (1, 3), (2, 1)]


class Gen:
    """Builds expressions from a pool of named nodes; `draw` is hypothesis's."""

    def __init__(self, draw: Any, prog: Program, rng: np.random.Generator) -> None:
        self.draw = draw
        self.prog = prog
        self.rng = rng
        self.pool: list[tuple[str, tuple[int, ...]]] = [(n, s) for n, s in prog.inputs.items()]

    def choice(self, items: list[Any]) -> Any:
        return self.draw(st.sampled_from(items))

    def lit(self, shape: tuple[int, ...]) -> Node:
        """A number or a bracketed literal of this shape (short decimals, some negative)."""
        vals = self.rng.choice([-2, -1.5, -1, -0.5, 0.25, 0.5, 1, 2, 3], size=shape)
        return self._lit(np.asarray(vals, dtype=float))

    def _lit(self, a: np.ndarray) -> Node:
        if a.ndim == 0:
            v = float(a)
            return mk("neg", num(-v)) if v < 0 else num(v)
        return mk("stack", *[self._lit(r) for r in a])

    def leaf(self, want: tuple[int, ...] | None = None) -> Node:
        names = [(n, s) for n, s in self.pool if want is None or s == want]
        if names and self.draw(st.integers(0, 3)) > 0:
            n, s = self.choice(names)
            return Node("var", (), n, s)
        if want is None:
            if self.pool and self.draw(st.booleans()):
                n, s = self.choice(self.pool)
                return Node("var", (), n, s)
            want = self.choice(SHAPES)
        return self.lit(want)

    def coerce(self, e: Node, want: tuple[int, ...]) -> Node:
        """An expression of shape `want` made from `e` (broadcasting, reductions, products...)."""
        s = e.shape
        if s == want:
            return e
        if want == ():
            if len(s) == 1 and self.draw(st.booleans()):
                return mk("dot", e, self.lit(s))
            if self.draw(st.booleans()):
                idx = tuple(self.draw(st.integers(-n, n - 1)) for n in s)
                return mk("index", e, attr=idx)
            return mk(self.choice(["sum", "mean", "logsumexp"]), e)
        k = self.draw(st.integers(0, 4))
        if s == () and k < 3:  # a scalar meets a tensor: broadcasting
            lit = self.lit(want)
            return mk(self.choice(["mul", "add", "sub"]), *((e, lit) if k % 2 else (lit, e)))
        if len(s) == 1 and len(want) == 2 and s[0] == want[1] and k < 3:
            lit = self.lit(want)
            if want[0] == 1 and k == 0:
                return mk("stack", e)  # [v]: a row
            return mk(self.choice(["mul", "add"]), *((e, lit) if k % 2 else (lit, e)))
        if len(s) == 1 and len(want) == 2 and k < 3:
            return mk("outer", self.lit((want[0],)), mk("matmul", self.lit((want[1], s[0])), e))
        if len(s) == 1 and len(want) == 1 and k < 3:
            return mk("matmul", self.lit((want[0], s[0])), e)  # a literal matrix times a vector
        if len(s) == 2 and s[::-1] == want and k < 4:
            return mk("T", e, attr=self.draw(st.booleans()))
        if len(s) == 2 and len(want) == 1 and k < 3:
            if s[1] == want[0]:
                row = self.draw(st.integers(-s[0], s[0] - 1))
                return mk("sum", e, attr=0) if k == 0 else mk("index", e, attr=(row,))
            if s[0] == want[0]:
                return mk("mean", e, attr=-1) if k == 0 else mk("matmul", e, self.lit((s[1],)))
        if len(s) == 2 and len(want) == 2 and s[1] == want[1] and k < 3:
            return mk("matmul", self.lit((want[0], s[0])), e)
        if len(s) == 2 and len(want) == 2 and s[0] == want[0] and k < 3:
            return mk("matmul", e, self.lit((s[1], want[1])))
        if len(s) == 2 and len(want) == 2 and s[1] == 1 and want[0] == s[0]:
            return mk("add", e, self.lit(want))  # [m, 1] + [m, n]
        return mk("mul", mk("sum", e), self.lit(want))

    def expr(self, depth: int) -> Node:
        if depth == 0:
            return self.leaf()
        kind = self.draw(st.sampled_from(["unary", "unary", "smooth", "binary", "binary", "binary",
                                          "matmul", "reduce", "index", "T", "stack", "vector",
                                          "expand", "embed", "concat", "rows", "leaf"]))
        if kind == "leaf":
            return self.leaf()
        a = self.expr(depth - 1)
        if kind == "unary":
            op = self.choice(UNARY)
            if op == "T":
                return mk("T", a, attr=self.draw(st.booleans()))
            return mk(op, a)
        if kind == "smooth":
            one_plus_sq = mk("add", num(1), mk("mul", a, a))
            form = self.draw(st.integers(0, 4))
            if form == 0:
                return mk("ln", one_plus_sq)
            if form == 1:
                return mk("sqrt", one_plus_sq)
            if form == 2:
                return mk("tan", mk("tanh", a))
            if form == 3:
                return mk("pow", a, num(self.choice([2, 3])))
            return mk("div", num(1), one_plus_sq)
        if kind == "binary":
            b = self.expr(depth - 1)
            b = self.coerce(b, self.partner(a.shape))
            if self.draw(st.booleans()):
                a, b = b, a  # broadcasting in both directions
            op = self.choice(["add", "sub", "mul", "div", "pow", "max", "min", "xlogy"])
            if op == "div":
                return mk("div", a, mk("add", num(1), mk("mul", b, b)))
            if op == "pow":
                return mk("pow", mk("add", num(1), mk("mul", a, a)), mk("tanh", b))
            if op == "xlogy":
                return mk("xlogy", a, mk("add", num(0.5), mk("mul", b, b)))
            return mk(op, a, b)
        if kind == "matmul":
            if a.shape == ():
                a = self.coerce(a, (self.choice([2, 3]),))
            n = a.shape[-1]
            form = self.draw(st.integers(0, 3))
            if form == 3:
                return mk("dot", a, self.coerce(self.expr(depth - 1), a.shape)) if len(a.shape) == 1 else \
                    mk("outer", self.coerce(a, (a.shape[0],)), self.coerce(self.expr(depth - 1), (2,)))
            if len(a.shape) == 1 and form == 2:  # a matrix times the vector
                return mk("matmul", self.coerce(self.expr(depth - 1), (self.choice([2, 3]), n)), a)
            b = self.coerce(self.expr(depth - 1), (n,) if form == 0 else (n, self.choice([2, 3])))
            return mk("matmul", a, b)
        if kind == "reduce":
            op = self.choice(["sum", "mean", "logsumexp", "softmax"])
            if op == "softmax":
                return mk("softmax", a if a.shape else self.coerce(a, (3,)))
            if op == "logsumexp" or not a.shape or self.draw(st.booleans()):
                return mk(op, a)
            return mk(op, a, attr=self.draw(st.integers(-len(a.shape), len(a.shape) - 1)))
        if kind == "index":
            if not a.shape:
                return a
            k = self.draw(st.integers(1, len(a.shape)))
            return mk("index", a, attr=tuple(self.draw(st.integers(-n, n - 1)) for n in a.shape[:k]))
        if kind == "T":
            return mk("T", a, attr=self.draw(st.booleans()))
        if kind == "stack":
            if len(a.shape) > 1:
                a = self.coerce(a, (a.shape[1],))
            items = [a] + [self.coerce(self.expr(depth - 1), a.shape) if self.draw(st.booleans())
                           else self.lit(a.shape) for _ in range(self.draw(st.integers(0, 2)))]
            self.rng.shuffle(items)
            return mk("stack", *items)
        if kind == "concat":  # rows of the rank of the result, or one axis short (one row: [1; z])
            if len(a.shape) > 1 and self.draw(st.booleans()):
                a = self.coerce(a, a.shape[1:])  # itself one row
            rest = a.shape[1:] if len(a.shape) == 2 else a.shape if self.draw(st.booleans()) else ()
            fits = [rest] + [s for s in SHAPES if len(s) == len(rest) + 1 and s[1:] == rest]
            items = [a] + [self.coerce(self.expr(depth - 1), shape) if self.draw(st.booleans()) else self.lit(shape)
                           for shape in (self.choice(fits) for _ in range(self.draw(st.integers(1, 2))))]
            self.rng.shuffle(items)
            return mk("concat", *items)
        if kind == "rows":
            if not a.shape:
                return a
            start = self.draw(st.integers(0, a.shape[0] - 1))
            stop = self.draw(st.integers(start + 1, a.shape[0]))
            if self.draw(st.booleans()):  # and back to its place (the adjoint of rows)
                return mk("padrows", mk("rows", a, attr=(start, stop)), a, attr=start)
            return mk("rows", a, attr=(start, stop))
        if kind == "vector":  # a vector or matrix meeting a scalar computed from the inputs
            s = self.coerce(self.expr(depth - 1), ())
            t = a if a.shape else self.coerce(a, (3,))
            return mk(self.choice(["add", "mul", "sub"]), *((t, s) if self.draw(st.booleans()) else (s, t)))
        if kind == "expand":
            if not a.shape:
                return mk("expand", self.coerce(self.expr(depth - 1), ()), a)
            axis = None if self.draw(st.booleans()) else self.draw(st.integers(-len(a.shape), len(a.shape) - 1))
            want = () if axis is None else tuple(n for k, n in enumerate(a.shape) if k != axis % len(a.shape))
            return mk("expand", self.coerce(self.expr(depth - 1), want), a, attr=axis)
        # embed
        if not a.shape:
            return a
        k = self.draw(st.integers(1, len(a.shape)))
        idx = tuple(self.draw(st.integers(-n, n - 1)) for n in a.shape[:k])
        return mk("embed", self.coerce(self.expr(depth - 1), a.shape[k:]), a, attr=idx)

    def partner(self, s: tuple[int, ...]) -> tuple[int, ...]:
        """A shape that broadcasts with `s` (smaller, equal or larger)."""
        options = [s, ()]
        if len(s) == 2:
            options += [(s[1],), (1, s[1]), (s[0], 1)]
        if len(s) == 1:
            options += [(2, s[0]), (3, s[0]), (1, s[0])]
        if s == ():
            options += [x for x in SHAPES if x]
        return self.choice([o for o in options if o != (1, 1)])


@st.composite
def programs(draw: Any, max_statements: int = 5) -> Program:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_inputs = draw(st.integers(1, 3))
    inputs = {f"x{k}": draw(st.sampled_from(SHAPES)) for k in range(n_inputs)}
    prog = Program(inputs)
    prog.values = {n: rng.uniform(-2, 2, size=s) for n, s in inputs.items()}
    gen = Gen(draw, prog, rng)
    env = dict(prog.values)
    Kinks.margin = math.inf
    for k in range(draw(st.integers(1, max_statements))):
        name = f"n{k}"
        if draw(st.integers(0, 7)) == 0:  # a named constant: a number or a literal tensor
            e = gen.lit(draw(st.sampled_from(SHAPES)))
        else:
            e = gen.expr(draw(st.integers(1, 3)))
        before, Kinks.margin = Kinks.margin, math.inf
        with np.errstate(all="ignore"):
            v = np.asarray(e.value(env), dtype=float)
        # Off kinks by more than rounding: at |d| < 1e-9 (a sum of sines that is 0 up to its last
        # bit) the engines' and the oracle's rounding may fall on different sides of step or relu.
        if not np.all(np.isfinite(v)) or np.max(np.abs(v), initial=0.0) > 1e3 or Kinks.margin < KINK_MARGIN:
            Kinks.margin = math.inf
            e = mk("tanh", mk("mul", num(0.001), gen.leaf()))
            v = np.asarray(e.value(env), dtype=float)
        Kinks.margin = min(before, Kinks.margin)
        prog.statements.append((name, e))
        env[name] = v
        gen.pool.append((name, e.shape))
    last = prog.statements[-1][0]
    kind = draw(st.integers(0, 3))
    if kind <= 1:  # one scalar output that reads the last node and (some of) the others
        read = [last] + [n for n, _ in prog.statements[:-1] + [(x, None) for x in inputs]
                         if draw(st.booleans())]
        terms = []
        for n in read:
            node = Node("var", (), n, env[n].shape if n in env else inputs[n])
            terms.append(mk("sum", mk("mul", node, gen.lit(node.shape))) if node.shape else node)
        e = terms[0]
        for t in terms[1:]:
            e = mk("add", e, t)
        prog.statements.append(("y", e))
        env["y"] = np.asarray(e.value(env), dtype=float)
        prog.outputs = ["y"]
    elif kind == 2:  # the last node, whatever its shape
        prog.outputs = [last]
    else:  # several outputs, of any shapes
        prog.outputs = draw(st.lists(st.sampled_from(gen.pool), min_size=2, max_size=3, unique=True).map(
            lambda ps: [n for n, _ in ps]))
    prog.kink_margin = Kinks.margin
    return prog


# ---------------------------------------------------------------------------------------------
# The check.


def close(actual: Any, expected: Any, what: str, source: str, rtol: float = 1e-7) -> None:
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{what}: shape {a.shape}, expected {e.shape}\n{source}"
    scale = 1.0 + float(np.max(np.abs(e), initial=0.0))
    err = float(np.max(np.abs(a - e), initial=0.0))
    assert err <= rtol * scale, f"{what}: got\n{a}\nexpected (autograd)\n{e}\n{source}"


def _jacobian(f: Any, k: int, xs: list[np.ndarray]) -> np.ndarray:
    """∂f/∂xs[k] as f's (flat) size + xs[k].shape, one reverse pass per output element."""
    vjp, ans = autograd.make_vjp(f, k)(*xs)
    size = int(np.size(ans))
    rows = [np.asarray(vjp(np.eye(size)[i].reshape(np.shape(ans))), dtype=float)
            * np.ones(np.shape(xs[k])) for i in range(size)]
    return np.asarray(rows).reshape((size, *np.shape(xs[k])))


class Oracle:
    """Reference values, adjoints, gradient, Jacobian and tangents of a Program, by autograd."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        x = prog.values
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.env = {k: np.asarray(v, dtype=float) for k, v in prog.run(x).items()}
            self.out = np.asarray(prog.output_vector(self.env), dtype=float)
            names = list(x)

            def f(*xs: Any) -> Any:
                return prog.output_vector(prog.run(dict(zip(names, xs))))

            # Jacobian in denominator layout: x.shape + (N,)
            self.jac = {n: np.moveaxis(_jacobian(f, k, [x[m] for m in names]), 0, -1)
                        for k, n in enumerate(names)}

            def every(*xs: Any) -> Any:
                env = prog.run(dict(zip(names, xs)))
                return anp.concatenate([anp.reshape(env[n] * 1.0, (-1,)) for n in prog.names()])

            self.all_jac = {n: _jacobian(every, k, [x[m] for m in names]).reshape((-1, x[n].size))
                            for k, n in enumerate(names)}
            self.adjoints: dict[str, np.ndarray] | None = None
            if len(prog.outputs) == 1 and self.env[prog.outputs[0]].shape == ():
                zeros = {n: np.zeros(np.shape(self.env[n])) for n in prog.names()}

                def y(d: dict[str, Any]) -> Any:
                    return prog.run(x, d)[prog.outputs[0]]

                self.adjoints = {n: np.asarray(v, dtype=float).reshape(np.shape(self.env[n]))
                                 for n, v in autograd.grad(y)(zeros).items()}

    def tangents(self, direction: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        flat = sum(self.all_jac[n] @ direction[n].ravel() for n in direction)
        out, at = {}, 0
        for n in self.prog.names():
            size = int(np.prod(np.shape(self.env[n])))
            out[n] = np.asarray(flat[at:at + size]).reshape(np.shape(self.env[n]))
            at += size
        return out


def fd_trustworthy(prog: Program, oracle: Oracle) -> bool:
    """Central differences are only as good as the function is tame: away from kinks, and where
    values and derivatives are moderate (cos of a large argument is not)."""
    return prog.kink_margin > 1e-3 and max(np.max(np.abs(v), initial=0.0) for v in oracle.env.values()) < 100 \
        and max(np.max(np.abs(j), initial=0.0) for j in oracle.all_jac.values()) < 100


def check_program(prog: Program, batch: bool = True) -> int:
    """Every method and engine against the oracle; returns the number of comparisons made."""
    source = prog.source()
    oracle = Oracle(prog)
    g = graphlang.parse(source)
    at = {n: v.copy() for n, v in prog.values.items()}
    checks = 0

    def same(actual: Any, expected: Any, what: str, rtol: float = 1e-7) -> None:
        nonlocal checks
        close(actual, expected, what, source, rtol)
        checks += 1

    r = g.evaluate(at)
    for n in prog.names():
        same(r.values[n], oracle.env[n], f"value of {n}")
    scalar = oracle.adjoints is not None
    fd_ok = fd_trustworthy(prog, oracle)
    if scalar:
        assert r.adjoints is not None
        for n in prog.names():
            same(r.adjoints[n], oracle.adjoints[n], f"adjoint g_{n}")
        truth = {n: oracle.jac[n][..., 0] for n in prog.inputs}
        for n in prog.inputs:
            same(r.gradient[n], truth[n], f"evaluate gradient {n}")
        for method in ("reverse", "forward", "symbolic", "fd", "auto"):
            if method == "fd" and not fd_ok:
                continue
            for call in range(2 if method in ("reverse", "auto") else 1):  # the 2nd runs the plan
                grad = g.gradient(at, method=method)
                for n in prog.inputs:
                    same(grad[n], truth[n], f"gradient {n} by {method} (call {call + 1})",
                         1e-5 if method == "fd" else 1e-7)
        check_plans(g, prog, oracle, same, batch)
    else:
        assert r.adjoints is None and r.gradient is None
        for method in ("reverse", "forward", "symbolic", "fd"):
            if method == "fd" and not fd_ok:
                continue
            jac = g.evaluate(at, method=method).jacobian
            assert jac is not None
            for n in prog.inputs:
                same(jac[n], oracle.jac[n], f"Jacobian {n} by {method}", 1e-5 if method == "fd" else 1e-7)
            jac = g.gradient(at, method=method)
            for n in prog.inputs:
                same(jac[n], oracle.jac[n], f"gradient() Jacobian {n} by {method}",
                     1e-5 if method == "fd" else 1e-7)
        for n in prog.inputs:
            same(r.jacobian[n], oracle.jac[n], f"Jacobian {n} by auto")
    # The Jacobian API: batched columns (all directions in one pass) and one direction at a time.
    saved = methods.MAX_BATCHED_ELEMENTS
    try:
        for limit in (saved, 0):
            methods.MAX_BATCHED_ELEMENTS = limit
            for mode in ("forward", "reverse", "auto"):
                jac = g.jacobian(at, mode=mode)
                for n in prog.inputs:
                    same(jac[n], oracle.jac[n], f"jacobian {n} by {mode} ({'batched' if limit else 'columns'})")
    finally:
        methods.MAX_BATCHED_ELEMENTS = saved
    # Forward tangents of every node along a random direction.
    rng = np.random.default_rng(len(source))
    direction = {n: rng.standard_normal(np.shape(v)) for n, v in at.items()}
    tan = g.tangents(at, direction)
    want = oracle.tangents(direction)
    for n in prog.names():
        same(tan[n], want[n], f"tangent of {n}")
    return checks


def check_plans(g: Any, prog: Program, oracle: Oracle, same: Any, batch: bool) -> None:
    """The compiled plan built directly, and the training step's batched plan and interpreter."""
    from graphlang.engines import interpreter as interp
    from graphlang.engines.plan import Plan
    from graphlang.primitives.vmap import Batch

    arrays, shapes = g.bind(prog.values)
    plan = Plan(g.graph, shapes)
    args = [float(a) for a in arrays] if plan.scalar else list(arrays)  # as the fast path calls it
    value, grads, _ = plan._fn(*args)  # not .gradient(): an exception here is a bug, not a fallback
    same(value, oracle.out[0], "plan value")
    for n, gr in zip(g.graph.inputs, grads):
        same(gr, oracle.jac[n][..., 0], f"plan gradient {n}")
    if not batch or len(g.graph.inputs) < 2:
        return
    # A mini-batch: the first inputs are data (a leading batch axis), the last one a parameter.
    names = g.graph.inputs
    data, params = names[:-1], names[-1:]
    rng = np.random.default_rng(len(names) + sum(a.size for a in arrays))
    b = int(rng.integers(1, 5))
    # examples near the program's point, where the generator made sure values are moderate
    columns = {n: prog.values[n] + rng.uniform(-0.1, 0.1, size=(b, *prog.values[n].shape)) for n in data}
    seed = rng.uniform(0.5, 1.5, size=b)
    per = [Oracle(_with(prog, {**{n: columns[n][k] for n in data}, **{p: prog.values[p] for p in params}}))
           for k in range(b)]
    if not all(np.all(np.isfinite(v)) and np.max(np.abs(v), initial=0.0) < 1e3 for o in per for v in o.env.values()):
        return  # a domain error or an overflow at some example: the interpreter's business (test_train)
    batched_args = [Batch(columns[n]) if n in columns else prog.values[n] for n in names]
    want_param = {p: sum(seed[k] * per[k].jac[p][..., 0] for k in range(b)) for p in params}
    plan = Plan(g.graph, shapes, wrt=[names.index(p) for p in params], batch=[names.index(n) for n in data])
    loss, pgrads, _ = plan._fn(*batched_args, Batch(seed))
    same(loss.v if isinstance(loss, Batch) else np.full(b, loss), [o.out[0] for o in per], "batched plan loss")
    for p, gr in zip(params, pgrads):
        same(gr, want_param[p], f"batched plan gradient {p}")
    vals = interp.forward(g.graph, batched_args, batched=True)
    live = interp.depends_on_inputs(g.graph)
    out = g.graph.slot_of[g.graph.outputs[0]]
    adj = interp.reverse(g.graph, shapes, vals, {out: Batch(seed)}, live, batched=True)
    for n in names:
        a = adj[g.graph.slot_of[n]]
        if n in params:
            same(np.zeros(shapes[names.index(n)]) if a is None else a, want_param[n],
                 f"batched interpreter gradient {n}")
        else:
            want = np.stack([seed[k] * per[k].jac[n][..., 0] for k in range(b)])
            got = np.zeros_like(want) if a is None else \
                (a.v if isinstance(a, Batch) else np.broadcast_to(a, want.shape))
            same(got, want, f"batched interpreter adjoint of data {n}")


def _with(prog: Program, values: dict[str, np.ndarray]) -> Program:
    return Program(prog.inputs, prog.statements, prog.outputs, values, prog.kink_margin)


@SETTINGS
@given(programs())
def test_random_programs_every_method_and_engine_agree_with_autograd(prog):
    check_program(prog)


# ---------------------------------------------------------------------------------------------
# The cases the issue reported (each the start of a class the strategy covers), by the same check.


def _program(source_lines: list[tuple[str, Node]], inputs: dict[str, tuple[int, ...]], outputs: list[str],
             values: dict[str, Any]) -> Program:
    return Program(inputs, source_lines, outputs, {n: np.asarray(v, dtype=float) for n, v in values.items()})


def var(name: str, shape: tuple[int, ...] = ()) -> Node:
    return Node("var", (), name, shape)


def lit(values: Any) -> Node:
    a = np.asarray(values, dtype=float)
    if a.ndim == 0:
        return mk("neg", num(-float(a))) if a < 0 else num(float(a))
    return mk("stack", *[lit(r) for r in a])


u3, v3 = var("u", (3,)), var("v", (3,))
B23, a3 = var("B", (2, 3)), var("a", (3,))
ISSUE_CASES = {
    # forward mode: a vector meets a scalar that depends on the seeded input
    "vector + dot": _program([("w", mk("add", u3, mk("dot", v3, lit([1, 2, 3])))),
                              ("y", mk("sum", mk("mul", var("w", (3,)), lit([1, 10, 100]))))],
                             {"u": (3,), "v": (3,)}, ["y"], {"u": [1, 2, 3], "v": [0.5, -1, 2]}),
    # a matrix minus a reduction
    "matrix - dot": _program([("w", mk("mul", a3, num(2))),
                              ("y", mk("sum", mk("mul", mk("sub", B23, mk("dot", var("w", (3,)), var("w", (3,)))),
                                                  B23)))],
                             {"a": (3,), "B": (2, 3)}, ["y"], {"a": [0.1, 0.2, -0.3], "B": [[1, 2, 3], [4, 5, 6]]}),
    # a vector plus a matrix
    "vector + matrix": _program([("y", mk("add", a3, B23))], {"a": (3,), "B": (2, 3)}, ["y"],
                                {"a": [1, 2, 3], "B": [[1, 0, 2], [0, 1, -1]]}),
    # a literal vector plus an element of the input: forward mode auto-picked, used to crash
    "literal + index": _program([("y", mk("add", lit([1, 2, 3]), mk("index", var("v", (2,)), attr=(1,))))],
                                {"v": (2,)}, ["y"], {"v": [0.5, -2]}),
    # a literal matrix times the input vector
    "literal @ input": _program([("y", mk("matmul", lit([[1, -1, 2], [0.5, 2, 1]]), a3)),
                                 ("z", mk("matmul", lit([1, -1, 2]),
                                          mk("matmul", lit([[1, 2, 0], [0, 1, 3], [-1, 0, 1]]), a3)))],
                                {"a": (3,)}, ["y", "z"],
                                {"a": [1, 2, 3]}),
    # constants have adjoints (SPEC §2): g_c = x, g_V = the outer product
    "named constants": _program([("c", num(3)), ("V", lit([[1, -1], [0.5, 2]])),
                                 ("y", mk("add", mk("mul", var("c"), var("x")),
                                          mk("sum", mk("matmul", var("V", (2, 2)), var("z", (2,))))))],
                                {"x": (), "z": (2,)}, ["y"], {"x": 2, "z": [1, -3]}),
    # a transposed node read twice: the compiled plan used to drop one contribution
    "transpose read twice": _program([("A", mk("T", var("M", (2, 3)), attr=True)), ("S", mk("sum", var("A", (3, 2)))),
                                      ("y", mk("add", mk("sum", mk("matmul", var("c", (3,)), var("A", (3, 2)))),
                                               var("S")))],
                                     {"M": (2, 3), "c": (3,)}, ["y"], {"M": np.ones((2, 3)), "c": [1, 2, 3]}),
    # the same in the trainer's compiled step: a named transposed weight read by the loss and its L2 term
    "transposed weight, batched": _program([("A", mk("T", var("W", (2, 3)), attr=True)),
                                            ("y", mk("add", mk("mul", num(0.05), mk("sum", mk("mul", var("A", (3, 2)),
                                                                                               var("A", (3, 2))))),
                                                     mk("sum", mk("matmul", var("A", (3, 2)), var("x", (2,))))))],
                                           {"x": (2,), "W": (2, 3)}, ["y"],
                                           {"x": [1, -2], "W": [[1, 2, 3], [-1, 0.5, 2]]}),
}


@pytest.mark.parametrize("name", list(ISSUE_CASES))
def test_reported_cases(name):
    check_program(ISSUE_CASES[name])


def test_reported_values_by_closed_form():
    """The issue's numbers, independently of autograd."""
    g = graphlang.parse("input u[3], v[3]\nw = u + dot(v, [1, 2, 3])\ny = sum(w * [1, 10, 100])\n")
    at = {"u": [1.0, 2, 3], "v": [0.5, -1, 2]}
    for method in ("forward", "reverse", "auto"):
        np.testing.assert_allclose(g.gradient(at, method=method)["v"], [111, 222, 333])
    g = graphlang.parse("input v[2]\ny = [1, 2, 3] + v[1]\n")
    np.testing.assert_array_equal(g.jacobian({"v": [1.0, 2.0]})["v"], [[0, 0, 0], [1, 1, 1]])
    g = graphlang.parse("c = 3\ny = c * x\n")
    assert g.evaluate({"x": 2.0}).adjoints["c"] == 2.0
    g = graphlang.parse("A = M.T\nS = sum(A)\ny = sum(c @ A) + S\n")
    at = {"M": np.ones((2, 3)), "c": [1.0, 2, 3]}
    for _ in range(3):
        np.testing.assert_array_equal(g.gradient(at)["M"], [[2, 3, 4], [2, 3, 4]])


def test_gradient_accepts_numpy_scalars():
    g = graphlang.parse("y = x * x + sin(x) + abs(x)\n")
    want = 2 * 2.0 + math.cos(2.0) + 1
    for _ in range(2):
        for v in (2.0, np.float64(2), np.float32(2), np.int64(2), np.array(2.0), 2):
            assert g.gradient({"x": v})["x"] == pytest.approx(want, rel=1e-12)


def test_undefined_constant_adjoint_does_not_stop_evaluation():
    """∂((x-3)^p)/∂p does not exist at x = 1 (a negative base); the gradient in x still does."""
    g = graphlang.parse("p = 2\ny = (x - 3) ^ p\n")
    r = g.evaluate({"x": 1.0})
    assert r.gradient["x"] == -4.0
    r = g.evaluate({"x": 5.0})
    assert r.adjoints["p"] == pytest.approx(4 * math.log(2))
