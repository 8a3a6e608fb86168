"""The table of primitives: one row per function holds everything about it.

A row gives the numeric forward (numpy), the shape rule, the derivative rules, how it prints as
text and LaTeX, and what its domain is. The derivative rules are written in the .cg language
itself: for an elementwise function, `partials[k]` is the local derivative ∂out/∂arg_k (the
lecture's ∂f/∂c), from which the reverse rule is `g * partial` and the forward rule `t * partial`.
Other functions give `vjp` (in the adjoint `g`) and `jvp` (in the tangent `t`) directly. Rules
may name the arguments `x`, `y`, the result `out`, and nothing else. Reverse mode, forward mode,
symbolic differentiation, `explain` and derivative programs all read these rules, so they cannot
disagree. Adding a function is adding a row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphlang.primitives import attr_rules as R
from graphlang.primitives import decimals as DEC
from graphlang.primitives import domains as D
from graphlang.primitives import kernels
from graphlang.primitives import kernels as K
from graphlang.primitives import shapes as S
from graphlang.primitives import vmap as B

Rules = R.Rules
RuleFn = Callable[[Any, list[S.Shape]], Rules]

# Printing precedence, loosest first (the SPEC §1 table).
ADD, MUL, UNARY, POW, POSTFIX, ATOM = 1, 2, 3, 4, 5, 6

# Float functions that are IEEE arithmetic, numpy's bits on every argument: the rest are routed
# into on 0-d values (`kernels.floats_first`), so that interpreter and compiled code agree.
_EXACT = frozenset({K.add_float, K.sub_float, K.mul_float, K.div_float, K.neg_float, K.same, abs, math.sqrt})


@dataclass(frozen=True)
class Primitive:
    name: str
    arity: int  # tensor arguments; -1: any number (bracketed lists)
    impl: Callable[..., Any]
    shape: Callable[[list[S.Shape], Any], S.Shape]
    partials: Rules | Callable[[Any], Rules] | None = None  # a callable: of the attribute
    vjp: Rules | RuleFn | None = None
    jvp: Rules | RuleFn | None = None
    form: tuple[str, str, int] = ("call", "", ATOM)  # (kind, symbol, precedence)
    latex: str = ""
    domain: Callable[..., str | None] | None = None
    attr_args: int = 0  # trailing integer-literal arguments (an axis, indices); -1: any number
    attr_count: int = 0  # with attr_args -1: exactly this many (dpow's two orders), checked when parsed
    optional_attr: bool = False
    public: bool = True  # callable by name from a program
    doc: str = ""
    # Test probes: expressions in u, v (vectors of 3), M (2x3), P (2x2x3) and s (scalar) that use this
    # primitive; the table-driven tests check every rule on them. `positive`: sample inside (0, ∞).
    probes: tuple[str, ...] = ()
    positive: bool = False
    # The same function on Python floats, for programs whose values are all scalars (the compiled
    # scalar plan); required for elementwise rows, None elsewhere means "not on the scalar path".
    scalar: Callable[..., float] | None = None
    # The batch rule (arguments may be `Batch`es); elementwise rows derive theirs from `impl`.
    batch: Callable[..., Any] | None = None
    # Work of one evaluation from the argument and result shapes (the cost model's budget).
    cost: Callable[[list[S.Shape], S.Shape], int] | None = None
    # Work per element that grows with the attribute (dpow's orders): a factor on `cost`.
    attr_work: Callable[[Any], int] | None = None
    # Numerical character, read by the messages and the symbolic engine: `pole`, a derivative past
    # float64 near an argument of 0 (1/x, ln, sqrt: the hint names the small argument); `underflows`,
    # a 0 from arguments other than 0 is float64's underflow, not the value (1e-200·1e-200, exp(-800));
    # `kink`, where the derivative is a convention (relu'(0) = 0): the point is on it; `saturates`, an
    # output rounding to exactly 0 or 1 (sigmoid, softmax) that a pole downstream may meet.
    pole: bool = False
    underflows: bool = False
    # The same function on Decimals at any precision (`primitives/decimals.py`; arithmetic's float
    # function is one on Decimals too), required for elementwise rows: the grader's arbiter runs
    # programs with it; `exact_work`, its cost beside a sum's.
    exact: Callable[..., Any] | None = None
    exact_work: float = 1.0
    kink: Callable[..., bool] | None = None
    saturates: bool = False

    def __post_init__(self) -> None:
        """Every per-primitive fact is here or derived from here: a row that lacks one fails at import."""
        missing = [f for f, ok in (("partials or vjp", self.partials is not None or self.vjp is not None),
                                   ("jvp", self.partials is not None or self.jvp is not None),
                                   ("scalar", not self.elementwise or self.scalar is not None),
                                   ("exact", not self.elementwise or self.exact is not None),
                                   ("batch", self.elementwise or self.batch is not None),
                                   ("cost", self.elementwise or self.cost is not None),
                                   ("latex", bool(self.latex)),
                                   ("doc", bool(self.doc) or not self.public or self.form[0] != "call"))
                   if not ok]
        if missing:
            raise TypeError(f"primitive {self.name!r} lacks: {', '.join(missing)}")
        if self.elementwise and self.scalar is not None and self.scalar not in _EXACT:
            object.__setattr__(self, "impl", K.floats_first(self.impl, self.scalar, self.arity))

    def examples(self) -> tuple[str, ...]:
        if self.probes:
            return self.probes
        kind, sym, _ = self.form
        if kind == "infix":
            return (f"u {sym} v", f"s {sym} M")
        return (f"{self.name}(u)",) if self.arity == 1 else (f"{self.name}(u, v)", f"{self.name}(M, s)")

    @property
    def elementwise(self) -> bool:
        return self.partials is not None

    @property
    def batched(self) -> Callable[..., Any]:
        """The implementation that accepts `Batch` arguments."""
        if self.batch is not None:
            return self.batch
        return B.elementwise(self.impl, self.arity if self.attr_args else -1)

    @property
    def foldable(self) -> bool:
        """Constant arguments may be folded at build time (elementwise: no shape to lose)."""
        return self.elementwise and not self.attr_args

    def work(self, ins: list[S.Shape], out: S.Shape, attr: Any = None) -> int:
        base = (self.cost or S.linear_cost)(ins, out)
        return base * self.attr_work(attr) if self.attr_work is not None and attr is not None else base

    def rules(self, kind: str, attr: Any, shapes: list[S.Shape]) -> Rules:
        """The reverse (`vjp`) or forward (`jvp`) rule per argument, as .cg source."""
        if self.partials is not None:
            sym = "g" if kind == "vjp" else "t"
            partials = self.partials(attr) if callable(self.partials) else self.partials
            return tuple(None if p is None else f"{sym} * ({p})" for p in partials)
        rule = self.vjp if kind == "vjp" else self.jvp
        assert rule is not None, self.name
        return rule(attr, shapes) if callable(rule) else rule


def _unary(name: str, impl: Callable[..., Any], scalar: Callable[..., float], exact: Callable[..., Any],
           partial: str, latex: str, doc: str, domain: Callable[..., str | None] | None = None, positive: bool = False,
           **facts: Any) -> Primitive:
    return Primitive(name, 1, impl, lambda s, a: s[0], partials=(partial,), latex=latex,
                     domain=domain, doc=doc, positive=positive, scalar=scalar, exact=exact, **facts)


def _binary(name: str, impl: Callable[..., Any], scalar: Callable[..., float], exact: Callable[..., Any],
            partials: Rules,
            form: tuple[str, str, int], latex: str, domain: Callable[..., str | None] | None = None,
            doc: str = "", positive: bool = False, **facts: Any) -> Primitive:
    return Primitive(name, 2, impl, lambda s, a: S.elementwise(s, a, form[1] or name),
                     partials=partials, form=form, latex=latex, domain=domain, doc=doc,
                     positive=positive, scalar=scalar, exact=exact, **facts)


PRIMITIVES: dict[str, Primitive] = {p.name: p for p in [
    # operators
    _binary("add", np.add, K.add_float, K.add_float, ("1", "1"), ("infix", "+", ADD), "{0} + {1}"),
    _binary("sub", np.subtract, K.sub_float, K.sub_float, ("1", "-1"), ("infix", "-", ADD), "{0} - {1}"),
    _binary("mul", np.multiply, K.mul_float, K.mul_float, ("y", "x"), ("infix", "*", MUL), "{0} \\cdot {1}",
            underflows=True),
    _binary("div", np.divide, K.div_float, K.div_float, ("1 / y", "-x / y^2"), ("infix", "/", MUL),
            "\\frac{{{0}}}{{{1}}}", D.div_domain, pole=True, underflows=True),
    Primitive("pow", 2, np.power, lambda s, a: S.elementwise(s, a, "^"),
              partials=("dpow(x, y, 1, 0)", "dpow(x, y, 0, 1)"), form=("infix", "^", POW),
              latex="{{{0}}}^{{{1}}}", domain=D.pow_domain, positive=True, scalar=K.pow_float, pole=True,
              underflows=True,
              probes=("u ^ v", "M ^ 2", "s ^ u"), exact=DEC.power, exact_work=6),
    Primitive("matmul", 2, np.matmul, S.matmul, vjp=R.matmul_vjp, jvp=("t @ y", "x @ t"),
              form=("infix", "@", MUL), latex="{0} {1}", batch=B.matmul, cost=S.matmul_cost,
              probes=("M @ u", "u @ v", "v @ M.T", "M @ M.T", "P @ M.T", "P @ mT(P)", "M @ mT(P)", "P @ u",
                      "u @ mT(P)")),
    Primitive("mT", 1, lambda a: np.swapaxes(a, -1, -2), S.matrix_transpose, vjp=("mT(g)",), jvp=("mT(t)",),
              latex="{0}^T",
              doc="mT(A): each matrix of a stack transposed (the last two axes swapped; A.T for a matrix)",
              probes=("mT(P)", "mT(M)"), batch=B.matrix_transpose, cost=S.linear_cost),
    Primitive("neg", 1, np.negative, lambda s, a: s[0], partials=("-1",),
              form=("prefix", "-", UNARY), latex="-{0}", probes=("-u", "-s"), scalar=K.neg_float, exact=K.neg_float),
    Primitive("id", 1, lambda x: x, lambda s, a: s[0], partials=("1",), form=("id", "", ATOM),
              latex="{0}", public=False, probes=("u", "M"), scalar=K.same, exact=K.same),
    Primitive("T", 1, np.transpose, S.transpose, vjp=("g.T",), jvp=("t.T",),
              form=("postfix", ".T", POSTFIX), latex="{0}^T", doc="transpose (also `u.T`)",
              probes=("M.T", "transpose(M)", "u.T"), scalar=K.same, batch=B.transpose,
              cost=S.linear_cost),
    Primitive("index", 1, lambda x, attr: x[attr], S.index, attr_args=-1,
              vjp=lambda a, s: (f"embed(g, x, {R.index_text(a)})",),
              jvp=lambda a, s: (f"t[{R.index_text(a)}]",), form=("index", "", POSTFIX),
              latex="{0}_{{{attr}}}", public=False, probes=("M[1, -1]", "M[0]", "u[-2]"),
              batch=B.index, cost=S.linear_cost),
    Primitive("stack", -1, kernels.stack, S.stack, form=("stack", "", ATOM), public=False,
              vjp=lambda a, s: tuple(f"g[{k}]" for k in range(len(s))),
              jvp=lambda a, s: tuple(f"embed(t, out, {k})" for k in range(len(s))),
              latex="\\begin{{bmatrix}}{0}\\end{{bmatrix}}", probes=("[u, v]", "[s, u[1], 2]"),
              batch=B.stack, cost=S.linear_cost),
    Primitive("concat", -1, kernels.concat, S.concat, vjp=R.concat_vjp, jvp=R.concat_jvp,
              latex="\\begin{{bmatrix}}{0}\\end{{bmatrix}}",
              doc="concat(u, v, ...): one below the other along the first axis; a scalar, or a vector "
                  "beside matrices, is one row: concat(1, z) is the lecture's bias folding [1; z]",
              probes=("concat(s, u)", "concat(u, v)", "concat(M, u)", "concat(M, M, u)", "concat(u, s, 2)",
                      "concat(P, M)"), batch=B.concat, cost=S.linear_cost),
    Primitive("rows", 1, kernels.rows, S.rows, attr_args=-1, attr_count=2,
              vjp=lambda a, s: (f"padrows(g, x, {a[0]})",), jvp=lambda a, s: (f"rows(t, {a[0]}, {a[1]})",),
              latex="{0}_{{{attr[0]}:{attr[1]}}}",
              doc="rows(u, i, j): rows i to j - 1 of u (the derivative of concat)",
              probes=("rows(u, 1, 3)", "rows(M, 0, 1)", "rows(P, 1, 2)"), batch=B.rows, cost=S.linear_cost),
    Primitive("padrows", 2, kernels.padrows, S.padrows, attr_args=1,
              vjp=lambda a, s: (f"rows(g, {a}, {a + s[0][0]})", None), jvp=lambda a, s: (f"padrows(t, y, {a})", None),
              latex="\\operatorname{{padrows}}\\left({0}\\right)",
              doc="padrows(g, u, i): zeros shaped like u with g as its rows from i on (the derivative of rows)",
              probes=("padrows(u, concat(u, v), 3)", "padrows(M, concat(u, M), 1)"), batch=B.padrows,
              cost=S.linear_cost),
    # elementwise functions
    _unary("exp", np.exp, math.exp, DEC.exp, "exp(x)", "e^{{{0}}}", "e to the power u", underflows=True),
    _unary("ln", np.log, math.log, DEC.ln, "1 / x", "\\ln\\left({0}\\right)", "natural logarithm (alias log)",
           D.ln_domain, positive=True, pole=True, exact_work=3),
    _unary("sqrt", np.sqrt, math.sqrt, DEC.sqrt, "1 / (2 * sqrt(x))", "\\sqrt{{{0}}}", "square root", D.sqrt_domain,
           positive=True, pole=True),
    _unary("sin", np.sin, math.sin, DEC.sin, "cos(x)", "\\sin\\left({0}\\right)", "sine", exact_work=3),
    _unary("cos", np.cos, math.cos, DEC.cos, "-sin(x)", "\\cos\\left({0}\\right)", "cosine", exact_work=3),
    _unary("tan", np.tan, math.tan, DEC.tan, "1 / cos(x)^2", "\\tan\\left({0}\\right)", "tangent", exact_work=3),
    _unary("tanh", np.tanh, math.tanh, DEC.tanh, "1 - out^2", "\\tanh\\left({0}\\right)", "hyperbolic tangent",
           exact_work=2),
    _unary("sigmoid", kernels.sigmoid, K.sigmoid_float, DEC.sigmoid, "out * (1 - out)", "\\sigma\\left({0}\\right)",
           "logistic function 1/(1+exp(-u)), without overflow", underflows=True, saturates=True),
    _unary("relu", kernels.relu, K.relu_float, DEC.relu, "step(x)", "\\operatorname{{relu}}\\left({0}\\right)",
           "max(u, 0); relu'(0) = 0", kink=D.at_zero),
    _unary("abs", np.abs, abs, abs, "sign(x)", "\\left|{0}\\right|", "absolute value; abs'(0) = 0", kink=D.at_zero),
    _unary("sign", np.sign, K.sign_float, DEC.sign, "0", "\\operatorname{{sign}}\\left({0}\\right)",
           "-1, 0 or 1 (derivative 0): the derivative of abs", kink=D.at_zero),
    _unary("step", kernels.step, K.step_float, DEC.step, "0", "\\operatorname{{step}}\\left({0}\\right)",
           "1 where u > 0, else 0 (derivative 0): the derivative of relu", kink=D.at_zero),
    _binary("max", np.maximum, K.max_float, K.max_float, ("1 - step(y - x)", "step(y - x)"), ("call", "max", ATOM),
            "\\max\\left({0}, {1}\\right)", doc="elementwise maximum; a tie goes to u", kink=D.at_tie),
    _binary("min", np.minimum, K.min_float, K.min_float, ("1 - step(x - y)", "step(x - y)"), ("call", "min", ATOM),
            "\\min\\left({0}, {1}\\right)", doc="elementwise minimum; a tie goes to u", kink=D.at_tie),
    _binary("xlogy", kernels.xlogy, K.xlogy_float, DEC.xlogy, ("ln(y)", "xdivy(x, y)"), ("call", "xlogy", ATOM),
            "{0} \\ln\\left({1}\\right)", doc="u * ln(v), 0 where u = 0 (cross-entropy's t * ln(p))",
            positive=True, pole=True, underflows=True, exact_work=3),
    _binary("xdivy", kernels.xdivy, K.xdivy_float, DEC.xdivy, ("1 / y", "-xdivy(x, y^2)"), ("call", "xdivy", ATOM),
            "\\frac{{{0}}}{{{1}}}", doc="u / v, 0 where u = 0: the derivative of xlogy in v",
            positive=True, pole=True, underflows=True),
    Primitive("dpow", 2, kernels.dpow, R.dpow_shape, partials=R.dpow_partials, attr_args=-1, attr_count=2,
              attr_work=R.dpow_work,
              latex="\\operatorname{{dpow}}_{{{attr[0]},{attr[1]}}}\\left({0}, {1}\\right)",
              domain=D.dpow_domain, positive=True, scalar=K.dpow_float, pole=True,
              doc="dpow(u, v, k, m): the derivative of u^v, k times in u and m times in v, with its "
                  "limits at u = 0 (the derivatives of a power)",
              probes=("dpow(u, v, 1, 0)", "dpow(u, v, 0, 1)", "dpow(u, 3, 2, 1)", "dpow(s, M, 1, 1)"),
              exact=DEC.dpow, exact_work=6),
    _unary("softplus", kernels.softplus, K.softplus_float, DEC.softplus, "sigmoid(x)",
           "\\operatorname{{softplus}}\\left({0}\\right)",
           "ln(1 + exp(u)), stable for any u: the binary cross-entropy on a logit is softplus(u) - y * u",
           underflows=True, exact_work=3),
    _unary("logsigmoid", kernels.logsigmoid, K.logsigmoid_float, DEC.logsigmoid, "sigmoid(-x)",
           "\\ln\\left(\\sigma\\left({0}\\right)\\right)", "ln(sigmoid(u)) = -softplus(-u), stable for any u",
           underflows=True, exact_work=3),
    # reductions and vector functions
    Primitive("softmax", 1, kernels.softmax, S.last_axis, vjp=R.softmax_vjp, jvp=R.softmax_jvp,
              latex="\\operatorname{{softmax}}\\left({0}\\right)",
              doc="exp(u) / sum(exp(u)) over the last axis, stable", probes=("softmax(u)", "softmax(M)"),
              batch=B.softmax, cost=S.linear_cost, saturates=True),
    Primitive("logsoftmax", 1, kernels.logsoftmax, S.last_axis, vjp=R.logsoftmax_vjp, jvp=R.logsoftmax_jvp,
              latex="\\ln\\left(\\operatorname{{softmax}}\\left({0}\\right)\\right)",
              doc="u - logsumexp(u) over the last axis, stable: the multiclass cross-entropy is "
                  "-sum(t * logsoftmax(u))", probes=("logsoftmax(u)", "logsoftmax(M)"),
              batch=B.logsoftmax, cost=S.linear_cost),
    Primitive("logsumexp", 1, kernels.logsumexp, S.reduce, attr_args=1, optional_attr=True,
              vjp=R.logsumexp_vjp, jvp=R.logsumexp_jvp, latex="\\ln\\left(\\sum e^{{{0}}}\\right)",
              doc="ln(sum(exp(u))) over all elements, or over one axis: logsumexp(U, 1), stable",
              probes=("logsumexp(M)", "logsumexp(s)", "logsumexp(u)", "logsumexp(M, 1)", "logsumexp(M, 0)",
                      "logsumexp(u, 0)", "logsumexp(P, -2)"),
              scalar=K.same, batch=B.logsumexp, cost=S.linear_cost),
    Primitive("sum", 1, kernels.total, S.reduce, attr_args=1,
              optional_attr=True, vjp=lambda a, s: (f"expand(g, x{R.axis_text(a)})",),
              jvp=lambda a, s: (f"sum(t{R.axis_text(a)})",), latex="\\sum {0}",
              doc="sum of all elements, or over one axis: sum(u, 0)",
              probes=("sum(M)", "sum(M, 0)", "sum(M, -1)", "sum(s)"), scalar=K.same, batch=B.total,
              cost=S.linear_cost),
    Primitive("mean", 1, kernels.mean, S.reduce, attr_args=1,
              optional_attr=True, vjp=lambda a, s: (f"expand(g, x{R.axis_text(a)}) / {R.count(a, s)}",),
              jvp=lambda a, s: (f"mean(t{R.axis_text(a)})",), latex="\\operatorname{{mean}}\\left({0}\\right)",
              doc="mean of all elements, or over one axis: mean(u, 1)",
              probes=("mean(M)", "mean(M, 1)", "mean(u)"), scalar=K.same, batch=B.mean,
              cost=S.linear_cost),
    Primitive("dot", 2, np.dot, S.dot, vjp=("g * y", "g * x"), jvp=("dot(t, y)", "dot(x, t)"),
              latex="{0}^T {1}", doc="inner product of two vectors", probes=("dot(u, v)",), batch=B.dot,
              cost=S.linear_cost),
    Primitive("outer", 2, np.outer, S.outer, vjp=("g @ y", "x @ g"),
              jvp=("outer(t, y)", "outer(x, t)"), latex="{0} {1}^T",
              doc="outer product of two vectors", probes=("outer(u, v)",), batch=B.outer,
              cost=S.outer_cost),
    Primitive("expand", 2, kernels.expand, S.expand, attr_args=1, optional_attr=True,
              vjp=lambda a, s: (f"sum(g{R.axis_text(a)})", None),
              jvp=lambda a, s: (f"expand(t, y{R.axis_text(a)})", None),
              latex="{0} \\mathbf{{1}}",
              doc="expand(g, u[, axis]): g broadcast back to u's shape (the derivative of sum)",
              probes=("expand(v, M, 0)", "expand(s, M)"), scalar=K.same, batch=B.expand,
              cost=S.linear_cost),
    Primitive("embed", 2, kernels.embed, S.embed, attr_args=-1,
              vjp=lambda a, s: (f"g[{R.index_text(a)}]", None),
              jvp=lambda a, s: (f"embed(t, y, {R.index_text(a)})", None),
              latex="\\operatorname{{embed}}\\left({0}\\right)",
              doc="embed(g, u, i, ...): zeros shaped like u with g at [i, ...] (the derivative "
                  "of indexing)", probes=("embed(s, M, 1, 2)", "embed(u, M, 0)"), batch=B.embed,
              cost=S.linear_cost),
]}

ALIASES = {"log": "ln", "transpose": "T"}
# Infix operators by symbol, from the rows (`**` is the same operator as `^`).
INFIX = {p.form[1]: name for name, p in PRIMITIVES.items() if p.form[0] == "infix"} | {"**": "pow"}
# Every primitive's implementation that accepts `Batch` arguments.
BATCHED = {name: p.batched for name, p in PRIMITIVES.items()}
CONSTANTS = {"pi": float(np.pi)}


# Functions beyond the SPEC's table (those derivative programs write, `outer`, `mT`): callable, but
# their names stay free for a program's own nodes (`step = lr * g`, `outer = ...`), as the SPEC's
# name rule promises.
HELPERS = frozenset({"step", "sign", "xlogy", "xdivy", "dpow", "expand", "embed", "outer", "mT", "rows", "padrows"})


def reserved_name(name: str) -> bool:
    """A name no program may assign or declare: `pi` and the functions a program is told of."""
    return name in CONSTANTS or (name not in HELPERS and lookup(name) is not None)


def builtin_names() -> list[str]:
    """Every name a program may call."""
    return sorted([n for n, p in PRIMITIVES.items() if p.public and p.form[0] in ("call",)]
                  + list(ALIASES))


def lookup(name: str) -> Primitive | None:
    prim = PRIMITIVES.get(ALIASES.get(name, name))
    return prim if prim is not None and prim.public and prim.form[0] == "call" or \
        name == "transpose" else None
