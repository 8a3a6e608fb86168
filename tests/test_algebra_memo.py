"""The Builder's caches (mk per arguments, substitute's planned walk, leaves) against the uncached
reference: the same expressions, the same objects, in the same order as `postorder`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as hs

from graphlang.language.ast import Expr, fold, postorder
from graphlang.symbolic.algebra import Builder

LEAVES = hs.one_of(hs.sampled_from([0.0, 1.0, -1.0, 2.0, 0.5]).map(lambda v: Expr("const", (), v)),
                   hs.sampled_from(["x", "y", "g"]).map(lambda n: Expr("var", (), n)))
UNARY = ["neg", "sin", "exp", "ln", "tanh"]
BINARY = ["add", "sub", "mul", "div", "pow"]


def _grow(kids: hs.SearchStrategy[Expr]) -> hs.SearchStrategy[Expr]:
    return hs.one_of(hs.tuples(hs.sampled_from(UNARY), kids).map(lambda t: Expr(t[0], (t[1],))),
                     hs.tuples(hs.sampled_from(BINARY), kids, kids).map(lambda t: Expr(t[0], (t[1], t[2]))))


EXPRS = hs.recursive(LEAVES, _grow, max_leaves=12)


class _Uncached(Builder):
    """mk as it was: simplify every time (no memo), leaves interned by their key."""

    def mk(self, op: str, args: tuple[Expr, ...], attr: object = None) -> Expr:
        simpler = self._simplify(op, args, attr)
        if simpler is not None and self.var_shapes is not None:
            simpler = self._same_shape(simpler, self._infer(op, args, attr), args)
        return simpler if simpler is not None else self._intern(op, args, attr)

    def const(self, value: float) -> Expr:
        v = float(value)
        return self._intern("const", (), 0.0 if v == 0 else v)

    def var(self, name: str) -> Expr:
        return self._intern("var", (), name)


def _reference(b: Builder, e: Expr, env: dict[str, Expr]) -> Expr:
    """substitute as it was: a fold that calls mk at every node."""
    def step(node: Expr, kids: list[Expr]) -> Expr:
        if node.op == "var":
            return env.get(str(node.attr)) or b.var(str(node.attr))
        if node.op == "const":
            return b.const(float(node.attr))  # type: ignore[arg-type]
        return b.mk(node.op, tuple(kids), node.attr)
    return fold(e, step)


def _key(e: Expr) -> object:
    return fold(e, lambda n, kids: (n.op, repr(n.attr), *kids))


@settings(max_examples=150, deadline=None)
@given(EXPRS, EXPRS)
def test_substitute_equals_the_folded_reference(rule, g):
    cached, plain = Builder(), _Uncached()
    env_c = {"g": cached.substitute(g, {}), "x": cached.var("y")}
    env_p = {"g": _reference(plain, g, {}), "x": plain.var("y")}
    first = cached.substitute(rule, env_c)
    assert _key(first) == _key(_reference(plain, rule, env_p))
    assert cached.substitute(rule, env_c) is first  # the planned walk and mk's answers reused
    assert _key(cached.substitute(rule, {})) == _key(_reference(plain, rule, {}))


@given(EXPRS)
def test_fold_visits_in_postorder(e):
    seen: list[Expr] = []
    fold(e, lambda n, kids: seen.append(n))
    assert [id(n) for n in seen] == [id(n) for n in postorder(e)]


def test_leaves_are_shared_and_nan_stays_unique():
    b = Builder()
    assert b.const(0.0) is b.const(-0.0) is b.const(0)
    assert b.var("x") is b.var("x") and b.const(float("nan")) is b.const(float("nan"))
