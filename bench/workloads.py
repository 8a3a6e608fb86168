"""The four workloads of ../shared/bench/README.md: programs, data, floors and peers.

Each `run_*` returns {who: seconds} (medians). Peers that are not installed are skipped.
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
def run_w1() -> dict[str, float]:
    import graphlang
    out: dict[str, float] = {}
    g = graphlang.parse(LECTURE)
    at = {"x": 2.0, "z": 3.0}
    g.gradient(at)
    out["graphlang (Program.gradient)"] = median_time(lambda: g.gradient(at), 7, 20000)

    def analytic(x: float = 2.0, z: float = 3.0) -> tuple[float, float, float]:
        a = x * z
        b = math.log(x)
        ea = math.exp(a)
        s, c = math.sin(b), math.cos(b)
        y = ea + a / b + s / a
        dx = ea * z + z / b - a / (b * b * x) + c / (x * a) - s * z / (a * a)
        dz = ea * x + x / b - s * x / (a * a)
        return y, dx, dz
    out["hand-written analytic Python (floor)"] = median_time(analytic, 7, 20000)
    if have("micrograd"):
        from micrograd.engine import Value

        def mg() -> Any:
            x, z = Value(2.0), Value(3.0)
            a = x * z
            b = _mg_log(x)
            y = _mg_exp(a) + a * b ** -1 + _mg_sin(b) * a ** -1
            y.backward()
            return x.grad, z.grad
        out["micrograd"] = median_time(mg, 7, 2000)
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
        out["JAX jit"] = median_time(lambda: jax.block_until_ready(vg(xs, zs)), 7, 2000)
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
        out["torch eager"] = median_time(tf, 5, 300)
    if have("autograd"):
        import autograd
        import autograd.numpy as anp

        def af(x: Any, z: Any) -> Any:
            a = x * z
            b = anp.log(x)
            return anp.exp(a) + a / b + anp.sin(b) / a
        ag = autograd.value_and_grad(af, argnum=(0, 1))
        out["autograd"] = median_time(lambda: ag(2.0, 3.0), 5, 300)
    return out


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


def run_w2(n: int, peers: bool = True) -> dict[str, float]:
    import json

    import graphlang
    shared = ROOT.parent / "shared" / "bench"
    text = (shared / f"big_{n}.cg").read_text()
    ref = json.loads((shared / f"big_{n}.json").read_text())
    at = {k: float(v) for k, v in ref["inputs"].items()}
    out: dict[str, float] = {}
    t = time.perf_counter()
    g = graphlang.parse(text)
    out["graphlang parse+check+build"] = time.perf_counter() - t
    t = time.perf_counter()
    g.gradient(at)
    out["graphlang first gradient (interpreted)"] = time.perf_counter() - t
    t = time.perf_counter()
    g.gradient(at)
    out["graphlang compile + gradient"] = time.perf_counter() - t
    grad = g.gradient(at)
    assert all(abs(grad[k] - ref["grad"][k]) <= 1e-8 * max(1, abs(ref["grad"][k])) for k in grad)
    out["graphlang gradient"] = median_time(lambda: g.gradient(at), 5)
    plan = g._fast.plans[()]
    args = [at[k] for k in g.inputs]
    fwd_only = _forward_only(g)
    out["graphlang forward only"] = median_time(lambda: fwd_only(*args), 5)
    t = time.perf_counter()
    floor = straight_line_floor(text)
    out["floor build"] = time.perf_counter() - t
    xs = [at[f"x{i}"] for i in range(4)]
    out["straight-line compiled Python (floor)"] = median_time(lambda: floor(*xs), 5)
    del plan
    if peers and have("torch"):
        out["torch eager"] = median_time(lambda: _torch_big(text, xs), 1 if n >= 100_000 else 3)
    if peers and n <= 10_000 and have("micrograd"):
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * n + 1000))
        out["micrograd"] = median_time(lambda: _micrograd_big(text, xs), 3)
    return out


def _forward_only(g: Any) -> Callable[..., Any]:
    from graphlang.engines import plan as C
    graph = g.graph
    shapes = graph.shapes(tuple(() for _ in graph.inputs))
    outs = [graph.slot_of[graph.outputs[0]]]
    lines = C.source(graph, shapes, outs, [], "scalar", with_grad=False)
    return C.build(lines, list(range(len(graph.inputs))), f"v{outs[0]}", True)


def _torch_big(text: str, xs: list[float]) -> Any:
    import torch
    env: dict[str, Any] = {f"x{i}": torch.tensor(v, dtype=torch.float64, requires_grad=True)
                           for i, v in enumerate(xs)}
    fns = {"sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "exp": torch.exp, "log": torch.log}
    for line in text.strip().splitlines():
        t, expr = line.split(" = ")
        env[t] = eval(expr, fns, env)  # noqa: S307 - the benchmark's own file
    env[t].backward()
    return [env[f"x{i}"].grad for i in range(4)]


def _micrograd_big(text: str, xs: list[float]) -> Any:
    from micrograd.engine import Value
    env: dict[str, Any] = {f"x{i}": Value(v) for i, v in enumerate(xs)}
    fns = {"sin": _mg_sin, "cos": lambda v: _mg_sin(v + math.pi / 2), "exp": _mg_exp, "log": _mg_log,
           "tanh": _mg_tanh}
    for line in text.strip().splitlines():
        t, expr = line.split(" = ")
        expr = re.sub(r"(\w+) / (\w+)", r"\1 * \2 ** -1", expr)
        env[t] = eval(expr, fns, env)  # noqa: S307 - the benchmark's own file
    env[t].backward()
    return [env[f"x{i}"].grad for i in range(4)]


# ---------------------------------------------------------------- W3: the lecture's network
MLP = """
input x[784], t[10]
param A1[784, 128], b1[128], A2[128, 64], b2[64], B[64, 10], b3[10]
z1 = sigmoid(A1.T @ x + b1)
z2 = sigmoid(A2.T @ z1 + b2)
yhat = softmax(B.T @ z2 + b3)
J = -sum(t * ln(yhat))
"""


def mlp_data(n: int = 10_000) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 784))
    T = np.eye(10)[rng.integers(0, 10, n)]
    r = np.random.default_rng(1)
    P = {"A1": r.normal(0, 0.05, (784, 128)), "b1": np.zeros(128), "A2": r.normal(0, 0.1, (128, 64)),
         "b2": np.zeros(64), "B": r.normal(0, 0.1, (64, 10)), "b3": np.zeros(10)}
    return X, T, P


def _batches(n: int, batch: int) -> list[np.ndarray]:
    order = np.random.default_rng(0).permutation(n)
    return [order[k:k + batch] for k in range(0, n, batch)]


def numpy_epoch(X: np.ndarray, T: np.ndarray, P: dict[str, np.ndarray], batch: int, lr: float) -> float:
    """The floor: hand-written numpy backprop, batched by rows."""
    A1, b1, A2, b2, B, b3 = (P[k] for k in ("A1", "b1", "A2", "b2", "B", "b3"))
    for idx in _batches(len(X), batch):
        x, t = X[idx], T[idx]
        z1 = 1 / (1 + np.exp(-(x @ A1 + b1)))
        z2 = 1 / (1 + np.exp(-(z1 @ A2 + b2)))
        u = z2 @ B + b3
        e = np.exp(u - u.max(axis=1, keepdims=True))
        yhat = e / e.sum(axis=1, keepdims=True)
        m = len(idx)
        gu = (yhat - t) / m
        gz2 = gu @ B.T * z2 * (1 - z2)
        gz1 = gz2 @ A2.T * z1 * (1 - z1)
        B -= lr * (z2.T @ gu)
        b3 -= lr * gu.sum(0)
        A2 -= lr * (z1.T @ gz2)
        b2 -= lr * gz2.sum(0)
        A1 -= lr * (x.T @ gz1)
        b1 -= lr * gz1.sum(0)
    return mean_loss(X, T, P)


def numpy_epoch_plain(X: np.ndarray, T: np.ndarray, P: dict[str, np.ndarray], batch: int, lr: float) -> float:
    """The plain floor at batch 1, as a numpy user writes one example's step: vectors, `np.outer`."""
    assert batch == 1
    A1, b1, A2, b2, B, b3 = (P[k] for k in ("A1", "b1", "A2", "b2", "B", "b3"))
    for (i,) in _batches(len(X), 1):
        x, t = X[i], T[i]
        z1 = 1 / (1 + np.exp(-(x @ A1 + b1)))
        z2 = 1 / (1 + np.exp(-(z1 @ A2 + b2)))
        u = z2 @ B + b3
        e = np.exp(u - u.max())
        gu = e / e.sum() - t
        gz2 = B @ gu * z2 * (1 - z2)
        gz1 = A2 @ gz2 * z1 * (1 - z1)
        B -= lr * np.outer(z2, gu)
        b3 -= lr * gu
        A2 -= lr * np.outer(z1, gz2)
        b2 -= lr * gz2
        A1 -= lr * np.outer(x, gz1)
        b1 -= lr * gz1
    return mean_loss(X, T, P)


def mean_loss(X: np.ndarray, T: np.ndarray, P: dict[str, np.ndarray]) -> float:
    z1 = 1 / (1 + np.exp(-(X @ P["A1"] + P["b1"])))
    z2 = 1 / (1 + np.exp(-(z1 @ P["A2"] + P["b2"])))
    u = z2 @ P["B"] + P["b3"]
    u = u - u.max(axis=1, keepdims=True)
    return float(np.mean(-np.sum(T * (u - np.log(np.exp(u).sum(axis=1, keepdims=True))), axis=1)))


def graphlang_epoch(X: np.ndarray, T: np.ndarray, P: dict[str, np.ndarray], batch: int, lr: float) -> float:
    import graphlang
    from graphlang.training import Dataset, Trainer
    prog = graphlang.parse(MLP)
    tr = Trainer(prog, P, lr=lr, batch=batch, seed=0)
    d = Dataset({"x": X, "t": T}, len(X))
    order = np.concatenate(_batches(len(X), batch))
    rng = _FixedOrder(order)
    tr.epoch(d, rng, 1)  # type: ignore[arg-type]
    P.update(tr.params)
    return mean_loss(X, T, P)


class _FixedOrder:
    """The same shuffle for every contestant."""

    def __init__(self, order: np.ndarray) -> None:
        self.order = order

    def permutation(self, n: int) -> np.ndarray:
        return self.order


def torch_epoch(X: np.ndarray, T: np.ndarray, P: dict[str, np.ndarray], batch: int, lr: float) -> float:
    import torch
    torch.set_num_threads(1)
    Pt = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    Xt, Tt = torch.tensor(X), torch.tensor(T)
    for idx in _batches(len(X), batch):
        ii = torch.from_numpy(idx)
        x, t = Xt[ii], Tt[ii]
        z1 = torch.sigmoid(x @ Pt["A1"] + Pt["b1"])
        z2 = torch.sigmoid(z1 @ Pt["A2"] + Pt["b2"])
        yhat = torch.softmax(z2 @ Pt["B"] + Pt["b3"], dim=1)
        J = -(t * torch.log(yhat)).sum(1).mean()
        J.backward()
        with torch.no_grad():
            for v in Pt.values():
                v -= lr * v.grad
                v.grad = None
    for k in P:
        P[k] = Pt[k].detach().numpy()
    return mean_loss(X, T, P)


def autograd_epoch(X: np.ndarray, T: np.ndarray, P: dict[str, np.ndarray], batch: int, lr: float) -> float:
    import autograd
    import autograd.numpy as anp

    def loss(p: dict[str, Any], x: Any, t: Any) -> Any:
        z1 = 1 / (1 + anp.exp(-(anp.dot(x, p["A1"]) + p["b1"])))
        z2 = 1 / (1 + anp.exp(-(anp.dot(z1, p["A2"]) + p["b2"])))
        u = anp.dot(z2, p["B"]) + p["b3"]
        u = u - anp.max(u, axis=1, keepdims=True)
        return -anp.mean(anp.sum(t * (u - anp.log(anp.sum(anp.exp(u), axis=1, keepdims=True))), axis=1))
    grad = autograd.grad(loss)
    for idx in _batches(len(X), batch):
        g = grad(P, X[idx], T[idx])
        for k in P:
            P[k] = P[k] - lr * g[k]
    return mean_loss(X, T, P)


def jax_epoch(X: np.ndarray, T: np.ndarray, P: dict[str, np.ndarray], batch: int, lr: float) -> float:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)

    def loss(p: dict[str, Any], x: Any, t: Any) -> Any:
        z1 = jax.nn.sigmoid(x @ p["A1"] + p["b1"])
        z2 = jax.nn.sigmoid(z1 @ p["A2"] + p["b2"])
        return -jnp.mean(jnp.sum(t * jax.nn.log_softmax(z2 @ p["B"] + p["b3"]), axis=1))

    @jax.jit
    def step(p: dict[str, Any], x: Any, t: Any) -> Any:
        g = jax.grad(loss)(p, x, t)
        return {k: p[k] - lr * g[k] for k in p}
    Pj = {k: jnp.asarray(v) for k, v in P.items()}
    Xj, Tj = jnp.asarray(X), jnp.asarray(T)
    batches = _batches(len(X), batch)
    full = [b for b in batches if len(b) == batch]
    step(Pj, Xj[full[0]], Tj[full[0]])  # compile
    for idx in batches:
        Pj = step(Pj, Xj[idx], Tj[idx])
    jax.block_until_ready(Pj)
    for k in P:
        P[k] = np.asarray(Pj[k])
    return mean_loss(X, T, P)


def run_w3(batch: int, lr: float, peers: bool = True) -> tuple[dict[str, float], dict[str, float]]:
    X, T, P0 = mlp_data()
    times: dict[str, float] = {}
    losses: dict[str, float] = {}
    contestants = [("graphlang", graphlang_epoch), ("hand-written numpy backprop (floor)", numpy_epoch)]
    if batch == 1:  # the (1, 784)-matrix floor above is ≈ 1.7× slower than this one at batch 1
        contestants.append(("plain numpy, vectors and np.outer (floor)", numpy_epoch_plain))
    if peers:
        contestants += [(n, f) for n, f, m in (("torch eager", torch_epoch, "torch"),
                                                ("autograd", autograd_epoch, "autograd"),
                                                ("JAX jit, one dispatch per step", jax_epoch, "jax"))
                        if have(m)]
    for name, fn in contestants:
        P = {k: v.copy() for k, v in P0.items()}
        t = time.perf_counter()
        losses[name] = fn(X, T, P, batch, lr)
        times[name] = time.perf_counter() - t
    return times, losses


def numpy_step_ratio(batch: int) -> float:
    """The floor's own gradient / forward time for one step (how much of the ratio is inherent)."""
    X, T, P = mlp_data(256)
    x, t = X[:batch], T[:batch]

    def forward() -> Any:
        z1 = 1 / (1 + np.exp(-(x @ P["A1"] + P["b1"])))
        z2 = 1 / (1 + np.exp(-(z1 @ P["A2"] + P["b2"])))
        u = z2 @ P["B"] + P["b3"]
        e = np.exp(u - u.max(axis=1, keepdims=True))
        return z1, z2, e / e.sum(axis=1, keepdims=True)

    def gradient() -> Any:
        z1, z2, yhat = forward()
        gu = (yhat - t) / batch
        gz2 = gu @ P["B"].T * z2 * (1 - z2)
        gz1 = gz2 @ P["A2"].T * z1 * (1 - z1)
        return z2.T @ gu, gu.sum(0), z1.T @ gz2, gz2.sum(0), x.T @ gz1, gz1.sum(0)
    return median_time(gradient, 7, 200) / median_time(forward, 7, 200)


def w3_step_ratio(batch: int) -> tuple[float, float]:
    """Compiled step times: loss + parameter gradients, and the forward pass alone."""
    import graphlang
    from graphlang.engines import plan as C
    from graphlang.primitives.vmap import Batch
    X, T, P = mlp_data(256)
    prog = graphlang.parse(MLP)
    g = prog.graph
    _, shapes = prog.bind({"x": X[0], "t": T[0], **P})
    params = [k for k, n in enumerate(g.inputs) if n in g.params]
    data = [k for k, n in enumerate(g.inputs) if n not in g.params]
    batched = batch > 1
    plan = C.Plan(g, shapes, wrt=params, batch=data if batched else None)
    mask = [False] * g.n_slots
    for k in data:
        mask[k] = batched
    for eq in g.eqns:
        mask[eq.out] = any(mask[i] for i in eq.ins)
    out = g.slot_of["J"]
    lines = C.source(g, shapes, [out], [], "batch" if batched else "array", with_grad=False, batched=mask)
    fwd = C.build(lines, list(range(len(g.inputs))), f"v{out}", False, batch=batched)
    idx = np.arange(batch)
    args = [Batch(X[idx]) if n == "x" and batched else Batch(T[idx]) if n == "t" and batched else
            X[0] if n == "x" else T[0] if n == "t" else P[n] for n in g.inputs]
    seed = [Batch(np.full(batch, 1 / batch))] if batched else []
    return (median_time(lambda: plan._fn(*args, *seed), 7, 200), median_time(lambda: fwd(*args), 7, 200))


# ---------------------------------------------------------------- W4: Jacobians
def jac_program(d: int, c: int) -> str:
    return f"input x[{d}]\nparam W1[100, {d}], W2[{c}, 100]\nh = tanh(W1 @ x)\ny = tanh(W2 @ h)\noutput y\n"


def run_w4(d: int, c: int, peers: bool = True) -> dict[str, Any]:
    import graphlang
    rng = np.random.default_rng(0)
    W1 = rng.normal(0, 1 / np.sqrt(d), (100, d))
    W2 = rng.normal(0, 0.1, (c, 100))
    x = rng.normal(size=d)
    out: dict[str, Any] = {}
    g = graphlang.parse(jac_program(d, c))
    at = {"x": x, "W1": W1, "W2": W2}
    r = g.evaluate(at, wrt=["x"])
    out["graphlang mode"] = r.method
    ref = _numpy_jac(W1, W2, x)
    assert np.allclose(r.jacobian["x"], ref.T, rtol=1e-10, atol=1e-12)
    out["graphlang (auto mode)"] = median_time(lambda: g.jacobian(at, "x"), 5, 3)
    wrong = "forward" if r.method == "reverse" else "reverse"
    out[f"graphlang ({wrong}: the wrong mode)"] = median_time(lambda: g.jacobian(at, "x", mode=wrong), 3, 1)
    out["numpy analytic Jacobian (floor)"] = median_time(lambda: _numpy_jac(W1, W2, x), 7, 50)
    out["central finite differences"] = median_time(lambda: _fd_jac(W1, W2, x), 3, 1)
    if peers and have("jax"):
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def f(v: Any) -> Any:
            return jnp.tanh(W2 @ jnp.tanh(W1 @ v))
        xs = jnp.asarray(x)
        for mode, jf in (("rev", jax.jit(jax.jacrev(f))), ("fwd", jax.jit(jax.jacfwd(f)))):
            jax.block_until_ready(jf(xs))
            out[f"JAX jit {mode}"] = median_time(lambda jf=jf: jax.block_until_ready(jf(xs)), 7, 20)
    if peers and have("torch"):
        import torch
        torch.set_num_threads(1)
        W1t, W2t, xt = torch.tensor(W1), torch.tensor(W2), torch.tensor(x)

        def tfn(v: Any) -> Any:
            return torch.tanh(W2t @ torch.tanh(W1t @ v))
        best = "rev" if d > c else "fwd"
        jf = torch.func.jacrev(tfn) if best == "rev" else torch.func.jacfwd(tfn)
        out[f"torch.func {best}"] = median_time(lambda: jf(xt), 5, 10)
    return out


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
