"""Workloads W1, W2 and W4 of ../shared/bench/README.md (W3: w3.py): programs, floors and peers.

Each `run_*` returns round-robin samples {who: [seconds per call]} (see paired.py). Peers that
are not installed are skipped.
"""

from __future__ import annotations

import math
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
Samples = dict[str, dict[str, list[float | None]]]  # paired.rounds: clock -> contestant -> per round
ROOT = HERE.parent
LECTURE = (ROOT / "programs" / "lecture13.cg").read_text()


def median_time(fn: Callable[[], Any], repeat: int = 5, number: int = 1) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return statistics.median(times)


def have(module: str) -> bool:
    try:
        __import__(module)
    except Exception:  # noqa: BLE001
        return False
    return True


# ---------------------------------------------------------------- W1: the lecture's gradient
W1_OURS = "graphlang (Program.gradient)"
W1_FLOOR = "hand-written analytic Python (floor)"


def run_w1(peers: bool = True, repeats: int = 7) -> Samples:
    """Round-robin samples (seconds per call) of every contestant."""
    import paired

    import graphlang
    c: dict[str, Any] = {}
    g = graphlang.parse(LECTURE)
    at = {"x": 2.0, "z": 3.0}
    g.gradient(at)
    c[W1_OURS] = (lambda: g.gradient(at), 20000)

    def analytic(x: float = 2.0, z: float = 3.0) -> tuple[float, float, float]:
        a = x * z
        b = math.log(x)
        ea = math.exp(a)
        s, c = math.sin(b), math.cos(b)
        y = ea + a / b + s / a
        dx = ea * z + z / b - a / (b * b * x) + c / (x * a) - s * z / (a * a)
        dz = ea * x + x / b - s * x / (a * a)
        return y, dx, dz
    c[W1_FLOOR] = (analytic, 20000)
    if peers:
        for name, (fn, number) in lecture_peers().items():
            c[name] = (fn, number)
    return paired.rounds(c, repeats)


def lecture_peers() -> dict[str, tuple[Callable[[], Any], int]]:
    """The lecture's value and gradient in each installed peer, as its users write it (built once;
    each call makes fresh leaves): name -> (call, calls per sample)."""
    c: dict[str, tuple[Callable[[], Any], int]] = {}
    if have("micrograd"):
        from micrograd.engine import Value

        def mg() -> Any:
            x, z = Value(2.0), Value(3.0)
            a = x * z
            b = _mg_log(x)
            y = _mg_exp(a) + a / b + _mg_sin(b) / a
            y.backward()  # every node's .data and .grad
            return x.grad, z.grad
        c["micrograd"] = (mg, 2000)
    if have("jax"):
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def f(x: Any, z: Any) -> Any:
            a = x * z
            b = jnp.log(x)
            return jnp.exp(a) + a / b + jnp.sin(b) / a
        vg = jax.jit(jax.value_and_grad(f, argnums=(0, 1)))
        xs, zs = jnp.float64(2.0), jnp.float64(3.0)
        jax.block_until_ready(vg(xs, zs))
        c["JAX jit"] = (lambda: jax.block_until_ready(vg(xs, zs)), 2000)
    if have("torch"):
        import torch
        torch.set_num_threads(1)

        def tf() -> Any:
            x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            z = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
            a = x * z
            b = torch.log(x)
            y = torch.exp(a) + a / b + torch.sin(b) / a
            y.backward()
            return x.grad, z.grad
        c["torch eager"] = (tf, 300)
    if have("autograd"):
        import autograd
        import autograd.numpy as anp

        def af(x: Any, z: Any) -> Any:
            a = x * z
            b = anp.log(x)
            return anp.exp(a) + a / b + anp.sin(b) / a
        ag = autograd.value_and_grad(af, argnum=(0, 1))
        c["autograd"] = (lambda: ag(2.0, 3.0), 300)
    return c


def _mg_log(v: Any) -> Any:
    from micrograd.engine import Value
    out = Value(math.log(v.data), (v,), "log")

    def _backward() -> None:
        v.grad += out.grad / v.data
    out._backward = _backward
    return out


def _mg_exp(v: Any) -> Any:
    from micrograd.engine import Value
    out = Value(math.exp(v.data), (v,), "exp")

    def _backward() -> None:
        v.grad += out.grad * out.data
    out._backward = _backward
    return out


def _mg_tanh(v: Any) -> Any:
    from micrograd.engine import Value
    out = Value(math.tanh(v.data), (v,), "tanh")

    def _backward() -> None:
        v.grad += out.grad * (1 - out.data ** 2)
    out._backward = _backward
    return out


def _mg_cos(v: Any) -> Any:
    from micrograd.engine import Value
    out = Value(math.cos(v.data), (v,), "cos")

    def _backward() -> None:
        v.grad -= out.grad * math.sin(v.data)
    out._backward = _backward
    return out


def _mg_sin(v: Any) -> Any:
    from micrograd.engine import Value
    out = Value(math.sin(v.data), (v,), "sin")

    def _backward() -> None:
        v.grad += out.grad * math.cos(v.data)
    out._backward = _backward
    return out


# ---------------------------------------------------------------- W2: big straight-line programs
_LINE = re.compile(r"^(\w+) = (?:(\w+) ([-+*/]) (\w+)|(sin|cos|tanh)\((\w+)\)|exp\(sin\((\w+)\)\)|"
                   r"log\(1 \+ (\w+) \* \w+\)|(.+))$")


def straight_line_floor(text: str) -> Callable[..., Any]:
    """The floor: the program compiled by hand-style codegen to straight-line Python, both passes."""
    fwd, bwd, names = [], [], []
    for line in text.strip().splitlines():
        m = _LINE.match(line.strip())
        assert m, line
        t = m.group(1)
        names.append(t)
        if m.group(2):
            a, op, b = m.group(2), m.group(3), m.group(4)
            fwd.append(f"{t} = {a} {op} {b}")
            grads = {"+": [(a, f"d{t}"), (b, f"d{t}")], "-": [(a, f"d{t}"), (b, f"-d{t}")],
                     "*": [(a, f"d{t} * {b}"), (b, f"d{t} * {a}")],
                     "/": [(a, f"d{t} / {b}"), (b, f"-d{t} * {t} / {b}")]}[op]
        elif m.group(5):
            f, a = m.group(5), m.group(6)
            fwd.append(f"{t} = {f}({a})")
            d = {"sin": f"cos({a})", "cos": f"-sin({a})", "tanh": f"(1 - {t} * {t})"}[f]
            grads = [(a, f"d{t} * {d}")]
        elif m.group(7):
            a = m.group(7)
            fwd.append(f"{t} = exp(sin({a}))")
            grads = [(a, f"d{t} * {t} * cos({a})")]
        elif m.group(8):
            a = m.group(8)
            fwd.append(f"{t} = log(1 + {a} * {a})")
            grads = [(a, f"d{t} * 2 * {a} / (1 + {a} * {a})")]
        else:
            terms = [s.strip() for s in m.group(9).split("+")]
            fwd.append(f"{t} = {m.group(9)}")
            grads = [(s, f"d{t}") for s in terms]
        bwd.append(grads)
    seen: set[str] = set()
    back = [f"d{names[-1]} = 1.0"]
    seen.add(f"d{names[-1]}")
    for t, grads in zip(reversed(names), reversed(bwd)):
        if f"d{t}" not in seen:
            continue
        for a, expr in grads:
            if f"d{a}" in seen:
                back.append(f"d{a} += {expr}")
            else:
                back.append(f"d{a} = {expr}")
                seen.add(f"d{a}")
    src = "def f(x0, x1, x2, x3):\n    " + "\n    ".join(fwd + back) + \
        f"\n    return {names[-1]}, (dx0, dx1, dx2, dx3)\n"
    ns: dict[str, Any] = {"sin": math.sin, "cos": math.cos, "tanh": math.tanh, "exp": math.exp,
                          "log": math.log}
    exec(src, ns)  # noqa: S102 - benchmark floor, from the benchmark's own file
    return ns["f"]  # type: ignore[no-any-return]


W2_OURS = "graphlang gradient"
W2_FLOOR = "straight-line compiled Python (floor)"
W2_FORWARD = "graphlang forward pass only (for gradient / forward)"


def run_w2(n: int, peers: bool = True, repeats: int = 7) -> tuple[Samples, dict[str, float]]:
    """Round-robin samples of one gradient (forward + backward), and the one-off costs."""
    import json

    import paired

    import graphlang
    shared = ROOT.parent / "shared" / "bench"
    text = (shared / f"big_{n}.cg").read_text()
    ref = json.loads((shared / f"big_{n}.json").read_text())
    at = {k: float(v) for k, v in ref["inputs"].items()}
    once: dict[str, float] = {}
    t = time.perf_counter()
    g = graphlang.parse(text)
    once["graphlang parse+check+build"] = time.perf_counter() - t
    t = time.perf_counter()
    g.gradient(at)
    once["graphlang first gradient (tape or interpreted)"] = time.perf_counter() - t
    from graphlang.engines.fastpath import COMPILE_AFTER

    for _ in range(COMPILE_AFTER - 1):  # a caller who keeps calling: the tape, then the compiled plan
        g.gradient(at)
    t = time.perf_counter()
    g.gradient(at)
    once["graphlang compile + gradient"] = time.perf_counter() - t
    grad = g.gradient(at)
    assert all(abs(grad[k] - ref["grad"][k]) <= 1e-8 * max(1, abs(ref["grad"][k])) for k in grad)
    args = [at[k] for k in g.inputs]
    fwd_only = _forward_only(g)
    t = time.perf_counter()
    floor = straight_line_floor(text)
    once["floor build"] = time.perf_counter() - t
    xs = [at[f"x{i}"] for i in range(4)]
    number = max(1, 20_000 // n)
    c: dict[str, Any] = {W2_OURS: (lambda: g.gradient(at), number), W2_FLOOR: (lambda: floor(*xs), number),
                         W2_FORWARD: (lambda: fwd_only(*args), number)}
    upto: dict[str, int] = {}

    def peer(name: str, build: Any, grad: Any) -> None:
        """A peer's function built once (timed apart), checked against the reference, then timed."""
        t = time.perf_counter()
        f = build(text)
        once[f"{name.split()[0]} function build"] = time.perf_counter() - t
        got = grad(f, xs)
        assert all(abs(got[i] - ref["grad"][f"x{i}"]) <= 1e-8 * max(1, abs(ref["grad"][f"x{i}"])) for i in range(4))
        c[name] = (lambda: grad(f, xs), 1)
        upto[name] = 3

    if peers and have("torch"):
        peer("torch eager", _torch_function, _torch_grad)
    if peers and n <= 10_000 and have("micrograd"):
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * n + 1000))
        peer("micrograd", _micrograd_function, _micrograd_grad)
    return paired.rounds(c, repeats, upto), once


def _forward_only(g: Any) -> Callable[..., Any]:
    from graphlang.engines import plan as C
    graph = g.graph
    shapes = graph.shapes(tuple(() for _ in graph.inputs))
    outs = [graph.slot_of[graph.outputs[0]]]
    lines = C.source(graph, shapes, outs, [], "scalar", with_grad=False)
    return C.build(lines, list(range(len(graph.inputs))), f"v{outs[0]}", True)


def program_function(text: str, ns: dict[str, Any]) -> Callable[..., Any]:
    """The program as the Python function its user would write, built once: one line per statement
    (`t3 = x0 * x1`), the library's functions bound to `sin`, `exp`, ... ."""
    body = text.strip().splitlines()
    last = body[-1].split(" = ")[0]
    src = "def f(x0, x1, x2, x3):\n    " + "\n    ".join(body) + f"\n    return {last}\n"
    exec(src, ns)  # noqa: S102 - the benchmark's own file
    return ns["f"]  # type: ignore[no-any-return]


def _torch_function(text: str) -> Callable[..., Any]:
    import torch
    return program_function(text, {"sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "exp": torch.exp,
                                   "log": torch.log})


def _torch_grad(f: Callable[..., Any], xs: list[float]) -> list[float]:
    import torch
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in xs]
    f(*leaves).backward()
    return [float(x.grad) for x in leaves]


def _micrograd_function(text: str) -> Callable[..., Any]:
    return program_function(text, {"sin": _mg_sin, "cos": _mg_cos, "exp": _mg_exp, "log": _mg_log,
                                   "tanh": _mg_tanh})


def _micrograd_grad(f: Callable[..., Any], xs: list[float]) -> list[float]:
    from micrograd.engine import Value
    leaves = [Value(v) for v in xs]
    f(*leaves).backward()
    return [x.grad for x in leaves]


# ---------------------------------------------------------------- W4: Jacobians
def jac_program(d: int, c: int) -> str:
    return f"input x[{d}]\nparam W1[100, {d}], W2[{c}, 100]\nh = tanh(W1 @ x)\ny = tanh(W2 @ h)\noutput y\n"


W4_OURS = "graphlang (auto mode)"
W4_FLOOR = "numpy analytic Jacobian (floor)"


def run_w4(d: int, c: int, peers: bool = True, repeats: int = 7) -> tuple[Samples, str]:
    """Round-robin samples of one Jacobian, and the mode graphlang chose."""
    import paired

    import graphlang
    rng = np.random.default_rng(0)
    W1 = rng.normal(0, 1 / np.sqrt(d), (100, d))
    W2 = rng.normal(0, 0.1, (c, 100))
    x = rng.normal(size=d)
    g = graphlang.parse(jac_program(d, c))
    at = {"x": x, "W1": W1, "W2": W2}
    from graphlang.methods import choose_mode
    arrays, shapes = g.bind(at)
    chosen = choose_mode(g, arrays, shapes, ["x"])  # what `g.jacobian(at, "x")` (mode auto) runs
    ref = _numpy_jac(W1, W2, x)
    assert np.allclose(g.jacobian(at, "x")["x"], ref.T, rtol=1e-10, atol=1e-12)
    wrong = "forward" if chosen == "reverse" else "reverse"
    cs: dict[str, Any] = {
        W4_OURS: (lambda: g.jacobian(at, "x"), 3),
        f"graphlang ({wrong}: the wrong mode)": (lambda: g.jacobian(at, "x", mode=wrong), 1),
        W4_FLOOR: (lambda: _numpy_jac(W1, W2, x), 50),
        "central finite differences": (lambda: _fd_jac(W1, W2, x), 1)}
    if peers and have("jax"):
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def f(v: Any) -> Any:
            return jnp.tanh(W2 @ jnp.tanh(W1 @ v))
        xs = jnp.asarray(x)
        for mode, jf in (("rev", jax.jit(jax.jacrev(f))), ("fwd", jax.jit(jax.jacfwd(f)))):
            jax.block_until_ready(jf(xs))
            cs[f"JAX jit {mode}"] = (lambda jf=jf: jax.block_until_ready(jf(xs)), 20)
    if peers and have("torch"):
        import torch
        torch.set_num_threads(1)
        W1t, W2t, xt = torch.tensor(W1), torch.tensor(W2), torch.tensor(x)

        def tfn(v: Any) -> Any:
            return torch.tanh(W2t @ torch.tanh(W1t @ v))
        best = "rev" if d > c else "fwd"
        jf = torch.func.jacrev(tfn) if best == "rev" else torch.func.jacfwd(tfn)
        cs[f"torch.func {best}"] = (lambda: jf(xt), 10)
    return paired.rounds(cs, repeats), chosen


def _numpy_jac(W1: np.ndarray, W2: np.ndarray, x: np.ndarray) -> np.ndarray:
    h = np.tanh(W1 @ x)
    y = np.tanh(W2 @ h)
    return ((1 - y * y)[:, None] * W2) @ ((1 - h * h)[:, None] * W1)


def _fd_jac(W1: np.ndarray, W2: np.ndarray, x: np.ndarray) -> np.ndarray:
    eps = 6e-6
    cols = []
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = eps
        cols.append((np.tanh(W2 @ np.tanh(W1 @ (x + e))) - np.tanh(W2 @ np.tanh(W1 @ (x - e)))) / (2 * eps))
    return np.stack(cols, axis=1)
