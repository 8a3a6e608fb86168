"""Which values compiled scalar code must check for inf and NaN (engines/finite.py).

The oracle is the plain definition: run the code a line at a time and look at every value it
assigns. Whenever one is inf or NaN and no line raised, the sum of the values `unchecked` names must
be non-finite. The tables the analysis trusts are checked on the kernels themselves.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest

import graphlang
from graphlang.engines import fasteval
from graphlang.engines.finite import FINITE, SHOWS, unchecked
from graphlang.engines.plan import SCALAR_NS

INF, NAN = math.inf, math.nan
HUGE = 1.7976931348623157e308
EXTREMES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 1e-300, -1e-300, 5e-324, -5e-324, 2.2e-308,
            709.78, -709.78, 710.0, -745.2, 37.0, -37.0, 1e16, 1.5707963267948966, 1e154, -1e154,
            1e308, -1e308, HUGE, -HUGE]
NONFINITE = [INF, -INF, NAN]
ORDERS = [(1, 0), (0, 1), (2, 0)]


def _outcome(fn, args) -> float | None:
    """The result, or None where the kernel raises (the compiled code then defers to the interpreter)."""
    try:
        return float(fn(*args))
    except (ArithmeticError, ValueError):
        return None


def _arity(name: str) -> int:
    return 2 if name in ("_S_max", "_S_min", "_S_pow", "_mpow") else 1


@pytest.mark.parametrize("name", sorted(SHOWS))
def test_a_nonfinite_argument_shows_in_the_result_or_raises(name):
    fn = SCALAR_NS[name]
    for k, shown in enumerate(SHOWS[name]):
        if not shown:
            continue
        for bad in NONFINITE:
            for others in itertools.product(EXTREMES + NONFINITE, repeat=_arity(name) - 1):
                args = list(others)
                args.insert(k, bad)
                result = _outcome(fn, args)
                assert result is None or not math.isfinite(result), (name, args, result)


@pytest.mark.parametrize("name", sorted(FINITE - {"_fin"}))
def test_finite_arguments_give_a_finite_result_or_raise(name):
    fn = SCALAR_NS[name]
    for args in itertools.product(EXTREMES, repeat=_arity(name)):
        result = _outcome(fn, args)
        assert result is None or math.isfinite(result), (name, args, result)


def test_functions_left_out_of_the_tables_really_fail_them():
    """exp(-inf) = 0 hides an inf; x·ln(y) overflows: neither may be trusted."""
    assert SCALAR_NS["_S_exp"](-INF) == 0.0 and "_S_exp" not in SHOWS
    assert not math.isfinite(SCALAR_NS["_S_xlogy"](1e308, 1e308)) and "_S_xlogy" not in FINITE


# Straight-line code of the shapes the plan writes: binary operators, calls, conditionals, `_fin`,
# and adjoints accumulated into one variable (`g3 = g3 + (...)`).
CALLS = ["_S_exp", "_S_ln", "_S_sqrt", "_S_sin", "_S_cos", "_S_tanh", "_S_sigmoid", "_S_relu", "_S_abs",
         "_S_xlogy", "_S_pow", "_S_max", "_S_softplus"]


def straight_line(rng: random.Random) -> tuple[list[str], list[float]]:
    """Random code and inputs, most of them big enough that products overflow on the way."""
    n_in = rng.randint(1, 3)
    defined = [f"v{k}" for k in range(n_in)]
    lines: list[str] = []
    for k in range(rng.randint(1, 12)):
        def operand() -> str:  # mostly the latest values: chains, along which an overflow goes on
            return rng.choice(defined[-2:] * 3 + defined + ["2.0"])
        form = rng.randint(0, 8)
        a, b = operand(), operand()
        if form <= 1 or form >= 7:
            rhs = f"({a} {rng.choice('+-*/')} {b})"
        elif form == 2:
            f = rng.choice(CALLS)
            rhs = f"{f}({a}, {b})" if f in ("_S_xlogy", "_S_pow", "_S_max") else f"{f}({a})"
        elif form == 3:
            rhs = f"({a} if {b} > 0.0 else 0.0)"
        elif form == 4:
            rhs = f"({a} * _fin(({b} * {b})))"
        elif form == 5:
            rhs = f"(-{a})"
        else:
            rhs = f"(_S_tanh({a}) * ({b} + {a}))"
        target = f"g{rng.randint(0, 2)}" if rng.random() < 0.4 else f"v{n_in + k}"
        if target in defined and rng.random() < 0.5:
            rhs = f"{target} + {rhs}"
        lines.append(f"{target} = {rhs}")
        defined.append(target)
    inputs = [rng.choice([0.0, 1.0, -2.0, 0.5, 700.0, -800.0, 1e-200, 1e200, 1e200, -1e300, 1e300])
              for _ in range(n_in)]
    return lines, inputs


def _run(lines: list[str], inputs: list[float]) -> tuple[bool, dict[str, float]] | None:
    """(whether any assigned value was inf or NaN, the final values); None where a line raised."""
    env: dict[str, object] = {**SCALAR_NS}
    env.update({f"v{k}": x for k, x in enumerate(inputs)})
    bad = False
    try:
        for line in lines:
            exec(line, env)  # noqa: S102 - test code generated above
            value = env[line.split(" = ", 1)[0]]
            bad = bad or not math.isfinite(value)  # type: ignore[arg-type]
    except (ArithmeticError, ValueError, NameError):
        return None
    return bad, env  # type: ignore[return-value]


@pytest.mark.parametrize("seed", range(4))
def test_every_inf_or_nan_shows_in_the_sum_of_the_checked_values(seed):
    rng = random.Random(seed)
    overflows = 0
    for _ in range(6000):
        lines, inputs = straight_line(rng)
        run = _run(lines, inputs)
        if run is None:
            continue
        bad, env = run
        try:
            check = unchecked(lines)
        except ValueError:  # an overwritten value would go unseen: the caller checks every value
            continue
        total = sum(env[name] for name in check)  # type: ignore[misc]
        if bad:  # (a sum of finite values may overflow too: then the interpreter is asked, no harm)
            overflows += 1
            assert not math.isfinite(total), (lines, inputs, check)
    assert overflows > 150  # the generator does reach the cases that matter


def test_a_value_used_only_where_it_shows_is_not_checked():
    lines = ["v2 = (v0 * v1)", "v3 = _S_tanh(v2)", "v4 = _S_ln(v0)", "v5 = (v4 + v3)"]
    # tanh(inf) = 1 hides an overflowing product: v2 is checked; ln shows v0; v3 is finite if v2 is
    assert unchecked(lines) == ["v2", "v5"]


def test_a_divisor_is_checked_unless_it_shows_elsewhere():
    assert unchecked(["v1 = (v0 * v0)", "v2 = (2.0 / v1)"]) == ["v1", "v2"]  # 2 / inf = 0
    assert unchecked(["v1 = (v0 * v0)", "v2 = (v1 / 2.0)"]) == ["v2"]


def test_an_overwritten_value_that_would_go_unseen_is_refused():
    with pytest.raises(ValueError):
        unchecked(["g0 = (v0 * v1)", "v2 = _S_tanh(g0)", "g0 = (v1 * v1)"])


def _chain(n: int) -> str:
    """A program with `n` + 2 names, past fasteval.LITERAL: its dicts are built by stores."""
    body = [f"a{k} = a{k - 1} + x" if k else "a0 = x + z" for k in range(n)]
    return "\n".join(["p = x * z", *body, f"y = tanh(p) + a{n - 1}"]) + "\n"


@pytest.mark.parametrize("way", [{"LITERAL": 0}, {"LITERAL": 0, "STORES_UPTO": 0}])
def test_an_overflow_hidden_by_tanh_is_the_interpreters_error_after_compiling(way, monkeypatch):
    for k, v in way.items():
        monkeypatch.setattr(fasteval, k, v)
    source = _chain(80)
    reference = graphlang.parse(source)
    reference._fast_evaluate._refused = True
    prog = graphlang.parse(source)
    for _ in range(3):
        assert prog.evaluate({"x": 2.0, "z": 3.0}).value == pytest.approx(math.tanh(6) + 3 + 80 * 2)
    assert prog._fast_evaluate._fn is not None
    bad = {"x": 1e200, "z": 1e200}  # x·z overflows; tanh(inf) = 1 would hide it
    with pytest.raises(graphlang.GraphlangError) as expected:
        reference.evaluate(bad)
    for call in (prog.evaluate, prog.gradient, prog.forward):  # the last two: the plan's sum `_c`
        for _ in range(3):
            call({"x": 2.0, "z": 3.0})
        with pytest.raises(graphlang.GraphlangError) as got:
            call(bad)
        assert (got.value.kind, got.value.line, str(got.value)) == \
            (expected.value.kind, expected.value.line, str(expected.value)), call


def test_a_line_too_deep_to_walk_falls_back_to_checking_every_value():
    from graphlang.engines.finite import sums
    deep = "v1 = " + "(" * 3000 + "v0" + " * 2.0)" * 3000
    with pytest.raises(ValueError):
        unchecked([deep, "v2 = _S_tanh(v1)"])
    assert sums([deep, "v2 = _S_tanh(v1)"]) == ["_c += v1 + v2"]


@pytest.mark.parametrize("bad", [INF, -INF, NAN])
@pytest.mark.parametrize("text", ["y = tanh(x) + z\n", "a = logsigmoid(exp(x) ^ sqrt(2))\nb = -1\ny = a + b * z\n",
                                  "y = relu(-x) + z\n"])
def test_a_compiled_gradient_refuses_a_nonfinite_input_as_the_interpreter_does(text, bad):
    """Found by a helper: once compiled, `gradient` returned numbers for x = inf where no later value
    showed it (tanh(inf) = 1); the interpreter refuses such an input. The plan's sum counts inputs."""
    prog, reference = graphlang.parse(text), graphlang.parse(text)
    reference._fast_evaluate._refused = True
    for _ in range(4):
        prog.gradient({"x": 0.5, "z": 2.0})
    assert prog._fast.plans  # compiled
    with pytest.raises(graphlang.GraphlangError) as expected:
        reference.evaluate({"x": bad, "z": 2.0})
    for call in (prog.gradient, prog.evaluate, prog.forward):
        with pytest.raises(graphlang.GraphlangError) as got:
            call({"x": bad, "z": 2.0})
        assert (got.value.kind, str(got.value)) == (expected.value.kind, str(expected.value))
