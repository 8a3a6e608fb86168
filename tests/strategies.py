"""Hypothesis strategies: random well-formed .cg programs (scalars and small tensors)."""

from __future__ import annotations

from hypothesis import strategies as st

UNARY = ["sin({a})", "cos({a})", "tanh({a})", "sigmoid({a})", "exp(sin({a}))", "ln(1 + {a}^2)",
         "sqrt(1 + {a}*{a})", "{a}^2", "-{a}", "({a})^3 / 10"]
BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / (1 + {b}^2)", "{a} * 0.5 + {b}",
          "({a} + {b}) ** 2 / 4"]
# Not differentiable at kinks, where finite differences legitimately disagree with the convention.
KINKED_UNARY = ["abs({a}) + 1", "relu({a}) + {a}"]
KINKED_BINARY = ["max({a}, {b})", "min({a}, {b}) * 2"]


@st.composite
def scalar_programs(draw, max_statements: int = 10, kinks: bool = False):
    """(source, values): inputs x0..x2, each statement one random op of earlier names."""
    n_inputs = draw(st.integers(1, 3))
    names = [f"x{i}" for i in range(n_inputs)]
    values = {n: draw(st.floats(-2, 2, allow_nan=False).filter(lambda v: abs(v) > 1e-3)) for n in names}
    lines = []
    for k in range(draw(st.integers(1, max_statements))):
        if draw(st.booleans()):
            template = draw(st.sampled_from(UNARY + KINKED_UNARY * kinks))
            expr = template.format(a=draw(st.sampled_from(names)))
        else:
            template = draw(st.sampled_from(BINARY + KINKED_BINARY * kinks))
            expr = template.format(a=draw(st.sampled_from(names)), b=draw(st.sampled_from(names)))
        name = f"n{k}"
        lines.append(f"{name} = {expr}")
        names.append(name)
    # every input reaches the output: sum the last statement with all inputs, weighted
    lines.append("y = " + " + ".join([names[-1]] + [f"0.{i + 1} * x{i}" for i in range(n_inputs)]))
    return "\n".join(lines) + "\n", values


TENSOR_OPS = ["tanh({v})", "sigmoid({v}) * {w}", "{v} * {w}", "{v} - {w}", "M @ {v}3",
              "softmax({v})", "{v} / (1 + {w}^2)", "exp(sin({v}))"]


@st.composite
def tensor_programs(draw):
    """(source, values): vectors v0, v1 of length 2, a matrix M (2 x 3), u of length 3."""
    floats = st.floats(-1.5, 1.5, allow_nan=False)
    values = {"v0": draw(st.lists(floats, min_size=2, max_size=2)),
              "v1": draw(st.lists(floats, min_size=2, max_size=2)),
              "u": draw(st.lists(floats, min_size=3, max_size=3)),
              "M": draw(st.lists(st.lists(floats, min_size=3, max_size=3), min_size=2, max_size=2))}
    vecs = ["v0", "v1"]
    lines = []
    for k in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(TENSOR_OPS))
        expr = op.format(v=draw(st.sampled_from(vecs)), w=draw(st.sampled_from(vecs))).replace(
            "M @ " + "v0" + "3", "M @ u").replace("M @ v13", "M @ u")
        for v in vecs:
            expr = expr.replace(f"M @ {v}3", "M @ u")
        name = f"t{k}"
        lines.append(f"{name} = {expr}")
        vecs.append(name)
    lines.append(f"y = sum({vecs[-1]} * [0.7, -1.3]) + dot(v0, v1) + sum(M) * 0.1 + sum(u) * 0.2")
    return "\n".join(lines) + "\n", values


# Hostile scalar programs: values at float64's edges, functions with domains and kinks, zero
# derivatives (sign, step), statements the output does not read.
EDGE_VALUES = [0.0, 1.0, -1.0, 2.0, 3.0, -3.0, 0.5, 1e-300, -1e-300, 1e-320, 1e154, 1e200, -1e200,
               1e300, 1e308, 700.0]
EDGE_UNARY = ["sin({a})", "cos({a})", "tan({a})", "tanh({a})", "sigmoid({a})", "exp({a})", "ln({a})",
              "sqrt({a})", "{a}^2", "{a}^3", "{a}^0.5", "{a}^-1", "-{a}", "abs({a})", "sign({a})",
              "relu({a})", "step({a})", "1 / {a}", "{a} * 1e308", "{a} * {a}", "{a} / 1e-300", "2 ^ {a}"]
EDGE_BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / {b}", "{a} ^ {b}", "max({a}, {b})",
               "min({a}, {b})", "xlogy({a}, {b})", "{a} * 1e308 + {b} * 1e308", "{a} / ({b} * {b})"]


@st.composite
def edge_programs(draw):
    """(source, values): up to 5 statements over x0, x1 at edge values; the output reads one
    statement (so the others may be unread) plus the inputs."""
    n_inputs = draw(st.integers(1, 2))
    names = [f"x{i}" for i in range(n_inputs)]
    values = {n: draw(st.sampled_from(EDGE_VALUES)) for n in names}
    lines = []
    for k in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            expr = draw(st.sampled_from(EDGE_UNARY)).format(a=draw(st.sampled_from(names)))
        else:
            expr = draw(st.sampled_from(EDGE_BINARY)).format(a=draw(st.sampled_from(names)),
                                                             b=draw(st.sampled_from(names)))
        lines.append(f"n{k} = {expr}")
        names.append(f"n{k}")
    read = draw(st.sampled_from(names[n_inputs:]))
    lines.append("y = " + " + ".join([read] + [f"0.5 * x{i}" for i in range(n_inputs)]))
    return "\n".join(lines) + "\n", values
