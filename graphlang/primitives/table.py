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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphlang.primitives import kernels
from graphlang.primitives import shapes as S

Rules = tuple[str | None, ...]
RuleFn = Callable[[Any, list[S.Shape]], Rules]

# Printing precedence, loosest first (the SPEC §1 table).
ADD, MUL, UNARY, POW, POSTFIX, ATOM = 1, 2, 3, 4, 5, 6


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
    optional_attr: bool = False
    public: bool = True  # callable by name from a program
    doc: str = ""
    # Test probes: expressions in u, v (vectors of 3), M (2x3) and s (scalar) that use this
    # primitive; the table-driven tests check every rule on them. `positive`: sample inside (0, ∞).
    probes: tuple[str, ...] = ()
    positive: bool = False

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

    def rules(self, kind: str, attr: Any, shapes: list[S.Shape]) -> Rules:
        """The reverse (`vjp`) or forward (`jvp`) rule per argument, as .cg source."""
        if self.partials is not None:
            sym = "g" if kind == "vjp" else "t"
            partials = self.partials(attr) if callable(self.partials) else self.partials
            return tuple(None if p is None else f"{sym} * ({p})" for p in partials)
        rule = self.vjp if kind == "vjp" else self.jvp
        assert rule is not None, self.name
        return rule(attr, shapes) if callable(rule) else rule


def _first(cond: np.ndarray, values: np.ndarray) -> float:
    return float(np.asarray(values)[np.asarray(cond)].flat[0]) if np.any(cond) else float("nan")


def _ln_domain(x: Any) -> str | None:
    x = np.asarray(x)
    if np.any(x == 0):
        return "ln(0) is -infinity: the argument is 0"
    if np.any(x < 0):
        return f"ln is defined only for positive numbers; the argument is {_first(x < 0, x):.6g}"
    return None


def _sqrt_domain(x: Any) -> str | None:
    x = np.asarray(x)
    if np.any(x < 0):
        return f"sqrt of a negative number; the argument is {_first(x < 0, x):.6g}"
    return None


def _div_domain(x: Any, y: Any) -> str | None:
    if np.any(np.asarray(y) == 0):
        return "division by zero: the divisor is 0"
    return None


def _pow_domain(x: Any, y: Any) -> str | None:
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    bad = (x < 0) & (y != np.round(y))
    if np.any(bad):
        return (f"({_first(bad, x):.6g})^{_first(bad, y):.6g} is not a real number: a negative base "
                "needs an integer exponent")
    zero = (x == 0) & (y < 0)
    if np.any(zero):
        return f"0^{_first(zero, y):.6g} divides by zero"
    return None


def _dpow_domain(x: Any, y: Any) -> str | None:
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    bad = x <= 0
    if np.any(bad):
        return (f"a derivative of x^y is not finite at x = {_first(bad, x):.6g}, y = {_first(bad, y):.6g}"
                " (x^y is not differentiable there)")
    return None


def _dpow_partials(attr: Any) -> Rules:
    k, m = attr
    return (f"dpow(x, y, {k + 1}, {m})", f"dpow(x, y, {k}, {m + 1})")


def _dpow_shape(shapes: list[S.Shape], attr: Any) -> S.Shape:
    if len(attr) != 2 or min(attr) < 0:
        raise S.ShapeError("dpow takes two orders of differentiation after its arguments, "
                           "e.g. dpow(x, y, 1, 0)", "argument")
    return S.elementwise(shapes, attr, "dpow")


def _unary(name: str, impl: Callable[..., Any], partial: str, latex: str, doc: str,
           domain: Callable[..., str | None] | None = None, positive: bool = False) -> Primitive:
    return Primitive(name, 1, impl, lambda s, a: s[0], partials=(partial,), latex=latex,
                     domain=domain, doc=doc, positive=positive)


def _binary(name: str, impl: Callable[..., Any], partials: Rules, form: tuple[str, str, int],
            latex: str, domain: Callable[..., str | None] | None = None, doc: str = "",
            positive: bool = False) -> Primitive:
    return Primitive(name, 2, impl, lambda s, a: S.elementwise(s, a, form[1] or name),
                     partials=partials, form=form, latex=latex, domain=domain, doc=doc,
                     positive=positive)


def _matmul_vjp(attr: Any, shapes: list[S.Shape]) -> Rules:
    ranks = (len(shapes[0]), len(shapes[1]))
    return {(1, 1): ("g * y", "g * x"), (2, 1): ("outer(g, y)", "x.T @ g"),
            (1, 2): ("y @ g", "outer(x, g)"), (2, 2): ("g @ y.T", "x.T @ g")}[ranks]


def _axis(attr: Any) -> str:
    return "" if attr is None else f", {attr}"


def _count(attr: Any, shapes: list[S.Shape]) -> int:
    s = shapes[0]
    return int(np.prod(s)) if attr is None else s[attr]


def _softmax_vjp(attr: Any, shapes: list[S.Shape]) -> Rules:
    if len(shapes[0]) == 1:
        return ("out * (g - sum(g * out))",)
    return ("out * (g - expand(sum(g * out, -1), out, -1))",)


def _softmax_jvp(attr: Any, shapes: list[S.Shape]) -> Rules:
    if len(shapes[0]) == 1:
        return ("out * (t - sum(t * out))",)
    return ("out * (t - expand(sum(t * out, -1), out, -1))",)


def _index_text(attr: Any) -> str:
    return ", ".join(str(i) for i in attr)


PRIMITIVES: dict[str, Primitive] = {p.name: p for p in [
    # operators
    _binary("add", np.add, ("1", "1"), ("infix", "+", ADD), "{0} + {1}"),
    _binary("sub", np.subtract, ("1", "-1"), ("infix", "-", ADD), "{0} - {1}"),
    _binary("mul", np.multiply, ("y", "x"), ("infix", "*", MUL), "{0} \\cdot {1}"),
    _binary("div", np.divide, ("1 / y", "-x / y^2"), ("infix", "/", MUL),
            "\\frac{{{0}}}{{{1}}}", _div_domain),
    Primitive("pow", 2, np.power, lambda s, a: S.elementwise(s, a, "^"),
              partials=("dpow(x, y, 1, 0)", "dpow(x, y, 0, 1)"), form=("infix", "^", POW),
              latex="{{{0}}}^{{{1}}}", domain=_pow_domain, positive=True,
              probes=("u ^ v", "M ^ 2", "s ^ u")),
    Primitive("matmul", 2, np.matmul, S.matmul, vjp=_matmul_vjp, jvp=("t @ y", "x @ t"),
              form=("infix", "@", MUL), latex="{0} {1}",
              probes=("M @ u", "u @ v", "v @ M.T", "M @ M.T")),
    Primitive("neg", 1, np.negative, lambda s, a: s[0], partials=("-1",),
              form=("prefix", "-", UNARY), latex="-{0}", probes=("-u", "-s")),
    Primitive("id", 1, lambda x: x, lambda s, a: s[0], partials=("1",), form=("id", "", ATOM),
              latex="{0}", public=False, probes=("u", "M")),
    Primitive("T", 1, np.transpose, S.transpose, vjp=("g.T",), jvp=("t.T",),
              form=("postfix", ".T", POSTFIX), latex="{0}^T", doc="transpose (also `u.T`)",
              probes=("M.T", "transpose(M)", "u.T")),
    Primitive("index", 1, lambda x, attr: x[attr], S.index, attr_args=-1,
              vjp=lambda a, s: (f"embed(g, x, {_index_text(a)})",),
              jvp=lambda a, s: (f"t[{_index_text(a)}]",), form=("index", "", POSTFIX),
              latex="{0}_{{{attr}}}", public=False, probes=("M[1, -1]", "M[0]", "u[-2]")),
    Primitive("stack", -1, kernels.stack, S.stack, form=("stack", "", ATOM), public=False,
              vjp=lambda a, s: tuple(f"g[{k}]" for k in range(len(s))),
              jvp=lambda a, s: tuple(f"embed(t, out, {k})" for k in range(len(s))),
              latex="\\begin{{bmatrix}}{0}\\end{{bmatrix}}", probes=("[u, v]", "[s, u[1], 2]")),
    # elementwise functions
    _unary("exp", np.exp, "exp(x)", "e^{{{0}}}", "e to the power u"),
    _unary("ln", np.log, "1 / x", "\\ln\\left({0}\\right)", "natural logarithm (alias log)",
           _ln_domain, positive=True),
    _unary("sqrt", np.sqrt, "1 / (2 * sqrt(x))", "\\sqrt{{{0}}}", "square root", _sqrt_domain,
           positive=True),
    _unary("sin", np.sin, "cos(x)", "\\sin\\left({0}\\right)", "sine"),
    _unary("cos", np.cos, "-sin(x)", "\\cos\\left({0}\\right)", "cosine"),
    _unary("tan", np.tan, "1 / cos(x)^2", "\\tan\\left({0}\\right)", "tangent"),
    _unary("tanh", np.tanh, "1 - out^2", "\\tanh\\left({0}\\right)", "hyperbolic tangent"),
    _unary("sigmoid", kernels.sigmoid, "out * (1 - out)", "\\sigma\\left({0}\\right)",
           "logistic function 1/(1+exp(-u)), without overflow"),
    _unary("relu", kernels.relu, "step(x)", "\\operatorname{{relu}}\\left({0}\\right)",
           "max(u, 0); relu'(0) = 0"),
    _unary("abs", np.abs, "sign(x)", "\\left|{0}\\right|", "absolute value; abs'(0) = 0"),
    _unary("sign", np.sign, "0", "\\operatorname{{sign}}\\left({0}\\right)",
           "-1, 0 or 1 (derivative 0): the derivative of abs"),
    _unary("step", kernels.step, "0", "\\operatorname{{step}}\\left({0}\\right)",
           "1 where u > 0, else 0 (derivative 0): the derivative of relu"),
    _binary("max", np.maximum, ("1 - step(y - x)", "step(y - x)"), ("call", "max", ATOM),
            "\\max\\left({0}, {1}\\right)", doc="elementwise maximum; a tie goes to u"),
    _binary("min", np.minimum, ("1 - step(x - y)", "step(x - y)"), ("call", "min", ATOM),
            "\\min\\left({0}, {1}\\right)", doc="elementwise minimum; a tie goes to u"),
    _binary("xlogy", kernels.xlogy, ("ln(y)", "xdivy(x, y)"), ("call", "xlogy", ATOM),
            "{0} \\ln\\left({1}\\right)", doc="u * ln(v), 0 where u = 0 (cross-entropy's t * ln(p))",
            positive=True),
    _binary("xdivy", kernels.xdivy, ("1 / y", "-xdivy(x, y^2)"), ("call", "xdivy", ATOM),
            "\\frac{{{0}}}{{{1}}}", doc="u / v, 0 where u = 0: the derivative of xlogy in v",
            positive=True),
    Primitive("dpow", 2, kernels.dpow, _dpow_shape, partials=_dpow_partials, attr_args=-1,
              latex="\\operatorname{{dpow}}_{{{attr[0]},{attr[1]}}}\\left({0}, {1}\\right)",
              domain=_dpow_domain, positive=True,
              doc="dpow(u, v, k, m): the derivative of u^v, k times in u and m times in v, with its "
                  "limits at u = 0 (the derivatives of a power)",
              probes=("dpow(u, v, 1, 0)", "dpow(u, v, 0, 1)", "dpow(u, 3, 2, 1)", "dpow(s, M, 1, 1)")),
    # reductions and vector functions
    Primitive("softmax", 1, kernels.softmax, S.last_axis, vjp=_softmax_vjp, jvp=_softmax_jvp,
              latex="\\operatorname{{softmax}}\\left({0}\\right)",
              doc="exp(u) / sum(exp(u)) over the last axis, stable", probes=("softmax(u)", "softmax(M)")),
    Primitive("logsumexp", 1, kernels.logsumexp, S.to_scalar, vjp=("g * exp(x - out)",),
              jvp=("sum(t * exp(x - out))",), latex="\\log\\sum e^{{{0}}}",
              doc="ln(sum(exp(u))) over all elements, stable", probes=("logsumexp(M)", "logsumexp(s)")),
    Primitive("sum", 1, kernels.total, S.reduce, attr_args=1,
              optional_attr=True, vjp=lambda a, s: (f"expand(g, x{_axis(a)})",),
              jvp=lambda a, s: (f"sum(t{_axis(a)})",), latex="\\sum {0}",
              doc="sum of all elements, or over one axis: sum(u, 0)",
              probes=("sum(M)", "sum(M, 0)", "sum(M, -1)", "sum(s)")),
    Primitive("mean", 1, lambda x, attr: np.mean(x, axis=attr), S.reduce, attr_args=1,
              optional_attr=True, vjp=lambda a, s: (f"expand(g, x{_axis(a)}) / {_count(a, s)}",),
              jvp=lambda a, s: (f"mean(t{_axis(a)})",), latex="\\operatorname{{mean}}\\left({0}\\right)",
              doc="mean of all elements, or over one axis: mean(u, 1)",
              probes=("mean(M)", "mean(M, 1)", "mean(u)")),
    Primitive("dot", 2, np.dot, S.dot, vjp=("g * y", "g * x"), jvp=("dot(t, y)", "dot(x, t)"),
              latex="{0}^T {1}", doc="inner product of two vectors", probes=("dot(u, v)",)),
    Primitive("outer", 2, np.outer, S.outer, vjp=("g @ y", "x @ g"),
              jvp=("outer(t, y)", "outer(x, t)"), latex="{0} {1}^T",
              doc="outer product of two vectors", probes=("outer(u, v)",)),
    Primitive("expand", 2, kernels.expand, S.expand, attr_args=1, optional_attr=True,
              vjp=lambda a, s: (f"sum(g{_axis(a)})", None),
              jvp=lambda a, s: (f"expand(t, y{_axis(a)})", None),
              latex="\\operatorname{{expand}}\\left({0}\\right)",
              doc="expand(g, u[, axis]): g broadcast back to u's shape (the derivative of sum)",
              probes=("expand(v, M, 0)", "expand(s, M)")),
    Primitive("embed", 2, kernels.embed, S.embed, attr_args=-1,
              vjp=lambda a, s: (f"g[{_index_text(a)}]", None),
              jvp=lambda a, s: (f"embed(t, y, {_index_text(a)})", None),
              latex="\\operatorname{{embed}}\\left({0}\\right)",
              doc="embed(g, u, i, ...): zeros shaped like u with g at [i, ...] (the derivative "
                  "of indexing)", probes=("embed(s, M, 1, 2)", "embed(u, M, 0)")),
]}

ALIASES = {"log": "ln", "transpose": "T"}
CONSTANTS = {"pi": float(np.pi)}


def builtin_names() -> list[str]:
    """Every name a program may call."""
    return sorted([n for n, p in PRIMITIVES.items() if p.public and p.form[0] in ("call",)]
                  + list(ALIASES))


def lookup(name: str) -> Primitive | None:
    prim = PRIMITIVES.get(ALIASES.get(name, name))
    return prim if prim is not None and prim.public and prim.form[0] == "call" or \
        name == "transpose" else None
