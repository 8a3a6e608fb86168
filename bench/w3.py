"""W3: the lecture's network (784-128-64-10), one SGD epoch, every contestant as its users write it.

Each contestant is set up once (parse, jit, tensors, pre-sliced batches: not timed), then times
epochs from the same initial weights (reset untimed before each), in the same example order. At
batch 1 every contestant works on vectors (x[784]), as a per-example SGD loop is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from workloads import have

MLP = """
input x[784], t[10]
param A1[784, 128], b1[128], A2[128, 64], b2[64], B[64, 10], b3[10]
z1 = sigmoid(A1.T @ x + b1)
z2 = sigmoid(A2.T @ z1 + b2)
yhat = softmax(B.T @ z2 + b3)
J = -sum(t * ln(yhat))
"""
KEYS = ("A1", "b1", "A2", "b2", "B", "b3")


def mlp_data(n: int = 10_000) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 784))
    T = np.eye(10)[rng.integers(0, 10, n)]
    r = np.random.default_rng(1)
    P = {"A1": r.normal(0, 0.05, (784, 128)), "b1": np.zeros(128), "A2": r.normal(0, 0.1, (128, 64)),
         "b2": np.zeros(64), "B": r.normal(0, 0.1, (64, 10)), "b3": np.zeros(10)}
    return X, T, P


def order(n: int) -> np.ndarray:
    """The one shuffle every contestant follows."""
    return np.random.default_rng(0).permutation(n)


def batches(n: int, batch: int) -> list[Any]:
    o = order(n)
    return [int(i) for i in o] if batch == 1 else [o[k:k + batch] for k in range(0, n, batch)]


def mean_loss(X: np.ndarray, T: np.ndarray, P: dict[str, np.ndarray]) -> float:
    z1 = 1 / (1 + np.exp(-(X @ P["A1"] + P["b1"])))
    z2 = 1 / (1 + np.exp(-(z1 @ P["A2"] + P["b2"])))
    u = z2 @ P["B"] + P["b3"]
    u = u - u.max(axis=1, keepdims=True)
    return float(np.mean(-np.sum(T * (u - np.log(np.exp(u).sum(axis=1, keepdims=True))), axis=1)))


class Contestant:
    """`reset()` (untimed: the initial weights), `run()` (timed: one epoch), `params()` afterwards."""

    def __init__(self, X: np.ndarray, T: np.ndarray, P0: dict[str, np.ndarray], batch: int, lr: float):
        self.X, self.T, self.P0, self.batch, self.lr = X, T, P0, batch, lr
        self.steps = batches(len(X), batch)
        self.P = {k: v.copy() for k, v in P0.items()}

    def reset(self) -> None:
        for k in KEYS:
            np.copyto(self.P[k], self.P0[k])

    def run(self) -> None:
        raise NotImplementedError

    def params(self) -> dict[str, np.ndarray]:
        return self.P


class Graphlang(Contestant):
    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        import graphlang
        from graphlang.training import Dataset, Trainer
        self.trainer = Trainer(graphlang.parse(MLP), self.P, lr=self.lr, batch=self.batch, seed=0)
        self.P = self.trainer.params
        self.data = Dataset({"x": self.X, "t": self.T}, len(self.X))
        self.trainer.compile(self.data)

    def run(self) -> None:
        self.trainer.epoch(self.data, _FixedOrder(order(len(self.X))), 1)  # type: ignore[arg-type]


class _FixedOrder:
    def __init__(self, o: np.ndarray) -> None:
        self.o = o

    def permutation(self, n: int) -> np.ndarray:
        return self.o


class NumpyPlain(Contestant):
    """The floor as a numpy user writes it: at batch 1 vectors and np.outer, else rows of a matrix."""

    def run(self) -> None:
        A1, b1, A2, b2, B, b3 = (self.P[k] for k in KEYS)
        X, T, lr = self.X, self.T, self.lr
        for idx in self.steps:
            x, t = X[idx], T[idx]
            z1 = 1 / (1 + np.exp(-(x @ A1 + b1)))
            z2 = 1 / (1 + np.exp(-(z1 @ A2 + b2)))
            u = z2 @ B + b3
            if self.batch == 1:
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
                continue
            e = np.exp(u - u.max(axis=1, keepdims=True))
            gu = (e / e.sum(axis=1, keepdims=True) - t) / len(idx)
            gz2 = gu @ B.T * z2 * (1 - z2)
            gz1 = gz2 @ A2.T * z1 * (1 - z1)
            B -= lr * (z2.T @ gu)
            b3 -= lr * gu.sum(0)
            A2 -= lr * (z1.T @ gz2)
            b2 -= lr * gz2.sum(0)
            A1 -= lr * (x.T @ gz1)
            b1 -= lr * gz1.sum(0)


class NumpyTuned(Contestant):
    """The floor tuned by hand with graphlang's own tricks: lr folded into the small factor, the big
    products into kept buffers (outer products by einsum: no buffered ufunc iteration), updates in
    place."""

    def run(self) -> None:
        A1, b1, A2, b2, B, b3 = (self.P[k] for k in KEYS)
        X, T, lr = self.X, self.T, self.lr
        gA1, gA2, gB = np.empty_like(A1), np.empty_like(A2), np.empty_like(B)
        one = self.batch == 1
        for idx in self.steps:
            x, t = X[idx], T[idx]
            z1 = 1 / (1 + np.exp(-(x @ A1 + b1)))
            z2 = 1 / (1 + np.exp(-(z1 @ A2 + b2)))
            u = z2 @ B + b3
            e = np.exp(u - u.max(axis=-1, keepdims=True))
            gu = (e / e.sum(axis=-1, keepdims=True) - t) * (lr if one else lr / len(idx))
            gz2 = gu @ B.T * z2 * (1 - z2)
            gz1 = gz2 @ A2.T * z1 * (1 - z1)
            if one:
                B -= np.multiply.outer(z2, gu, out=gB)
                A2 -= np.einsum("i,j->ij", z1, gz2, out=gA2)
                A1 -= np.einsum("i,j->ij", x, gz1, out=gA1)
                b3 -= gu
                b2 -= gz2
                b1 -= gz1
            else:
                B -= np.matmul(z2.T, gu, out=gB)
                A2 -= np.matmul(z1.T, gz2, out=gA2)
                A1 -= np.matmul(x.T, gz1, out=gA1)
                b3 -= gu.sum(0)
                b2 -= gz2.sum(0)
                b1 -= gz1.sum(0)


class Torch(Contestant):
    """nn.Sequential, F.cross_entropy, torch.optim.SGD: the torch tutorial's loop."""

    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        import torch
        from torch import nn
        torch.set_num_threads(1)
        self.torch = torch
        self.model = nn.Sequential(nn.Linear(784, 128), nn.Sigmoid(), nn.Linear(128, 64), nn.Sigmoid(),
                                   nn.Linear(64, 10)).double()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.lr)
        self.Xt = torch.from_numpy(self.X)
        self.yt = torch.from_numpy(self.T.argmax(axis=1))
        self.idx = self.steps if self.batch == 1 else [torch.from_numpy(i) for i in self.steps]

    def reset(self) -> None:
        with self.torch.no_grad():
            for layer, (w, b) in zip(self.model[::2], (("A1", "b1"), ("A2", "b2"), ("B", "b3"))):
                layer.weight.copy_(self.torch.from_numpy(self.P0[w].T))
                layer.bias.copy_(self.torch.from_numpy(self.P0[b]))

    def run(self) -> None:
        F = self.torch.nn.functional
        model, opt, Xt, yt = self.model, self.opt, self.Xt, self.yt
        for i in self.idx:
            loss = F.cross_entropy(model(Xt[i]), yt[i])
            opt.zero_grad()
            loss.backward()
            opt.step()

    def params(self) -> dict[str, np.ndarray]:
        m = self.model
        out = {}
        for layer, (w, b) in zip(m[::2], (("A1", "b1"), ("A2", "b2"), ("B", "b3"))):
            out[w] = layer.weight.detach().numpy().T.copy()
            out[b] = layer.bias.detach().numpy().copy()
        return out


class Autograd(Contestant):
    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        import autograd
        import autograd.numpy as anp

        def loss(p: dict[str, Any], x: Any, t: Any) -> Any:
            z1 = 1 / (1 + anp.exp(-(anp.dot(x, p["A1"]) + p["b1"])))
            z2 = 1 / (1 + anp.exp(-(anp.dot(z1, p["A2"]) + p["b2"])))
            u = anp.dot(z2, p["B"]) + p["b3"]
            u = u - anp.max(u, axis=-1, keepdims=True)
            return -anp.mean(anp.sum(t * (u - anp.log(anp.sum(anp.exp(u), axis=-1, keepdims=True))), axis=-1))
        self.grad = autograd.grad(loss)

    def run(self) -> None:
        P, X, T, lr = self.P, self.X, self.T, self.lr
        for idx in self.steps:
            g = self.grad(P, X[idx], T[idx])
            for k in KEYS:
                P[k] = P[k] - lr * g[k]

    def reset(self) -> None:
        self.P = {k: v.copy() for k, v in self.P0.items()}


class Jax(Contestant):
    """jax.jit once; the batches sliced and put on the device beforehand. `scan`: the whole epoch
    as one compiled `lax.scan` (full batches; a last partial batch by the jitted step)."""

    scan = False

    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        self.jax = jax
        lr = self.lr

        def loss(p: dict[str, Any], x: Any, t: Any) -> Any:
            z1 = jax.nn.sigmoid(x @ p["A1"] + p["b1"])
            z2 = jax.nn.sigmoid(z1 @ p["A2"] + p["b2"])
            return -jnp.mean(jnp.sum(t * jax.nn.log_softmax(z2 @ p["B"] + p["b3"]), axis=-1))

        def sgd(p: dict[str, Any], x: Any, t: Any) -> Any:
            g = jax.grad(loss)(p, x, t)
            return jax.tree_util.tree_map(lambda a, b: a - lr * b, p, g)

        def epoch(p: dict[str, Any], xs: Any, ts: Any) -> Any:
            return jax.lax.scan(lambda q, xt: (sgd(q, *xt), None), p, (xs, ts))[0]
        self.step, self.epoch = jax.jit(sgd), jax.jit(epoch)
        X, T, b = self.X, self.T, self.batch
        if self.scan:
            full = len(X) // b * b
            o = order(len(X))
            shape = (len(X) // b,) if b == 1 else (len(X) // b, b)
            self.xs = jnp.asarray(X[o[:full]].reshape(*shape, 784))
            self.ts = jnp.asarray(T[o[:full]].reshape(*shape, 10))
            self.rest = [(jnp.asarray(X[o[full:]]), jnp.asarray(T[o[full:]]))] if full < len(X) else []
        else:
            self.pairs = [(jnp.asarray(X[i]), jnp.asarray(T[i])) for i in self.steps]
        self.reset()
        self.run()  # compiles every shape used (not timed)

    def reset(self) -> None:
        self.Pj = {k: self.jax.numpy.asarray(v) for k, v in self.P0.items()}
        self.jax.block_until_ready(self.Pj)

    def run(self) -> None:
        p = self.Pj
        if self.scan:
            p = self.epoch(p, self.xs, self.ts)
            for x, t in self.rest:
                p = self.step(p, x, t)
        else:
            for x, t in self.pairs:
                p = self.step(p, x, t)
        self.Pj = self.jax.block_until_ready(p)

    def params(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.Pj.items()}


class JaxScan(Jax):
    scan = True


PLAIN = "numpy, as written by hand (floor)"
TUNED = "numpy, tuned by hand (floor)"


def contestants(peers: bool) -> list[tuple[str, Callable[..., Contestant], str | None]]:
    out: list[tuple[str, Callable[..., Contestant], str | None]] = [
        ("graphlang", Graphlang, None), (PLAIN, NumpyPlain, None), (TUNED, NumpyTuned, None)]
    if peers:
        out += [("JAX jit, whole epoch in lax.scan", JaxScan, "jax"),
                ("JAX jit, one dispatch per step", Jax, "jax"),
                ("torch eager (nn, optim.SGD)", Torch, "torch"), ("autograd", Autograd, "autograd")]
    return [c for c in out if c[2] is None or have(c[2])]


def run(batch: int, lr: float, peers: bool, n: int, repeats: int, slow_repeats: int
        ) -> tuple[dict[str, dict[str, list[float | None]]], dict[str, float]]:
    """Round-robin epochs; returns the samples and each contestant's mean loss after an epoch."""
    import paired
    X, T, P0 = mlp_data(n)
    built = {name: make(X, T, P0, batch, lr) for name, make, _ in contestants(peers)}
    slow = {name: slow_repeats for name in built if name in ("autograd", "torch eager (nn, optim.SGD)")
            or (batch == 1 and name.startswith("JAX jit, one"))}
    samples = paired.rounds({k: (c.run, 1, c.reset) for k, c in built.items()}, repeats, slow)
    losses = {k: mean_loss(X, T, c.params()) for k, c in built.items()}
    return samples, losses


def step_ratio(batch: int) -> tuple[float, float]:
    """graphlang's compiled step (loss and lr·∇) and its forward pass alone, per call."""
    from workloads import median_time

    import graphlang
    from graphlang.engines import plan as C
    from graphlang.primitives.vmap import Batch
    from graphlang.training.step import Step
    X, T, P = mlp_data(256)
    prog = graphlang.parse(MLP)
    g = prog.graph
    _, shapes = prog.bind({"x": X[0], "t": T[0], **P})
    params = [k for k, n in enumerate(g.inputs) if n in g.params]
    data = [k for k, n in enumerate(g.inputs) if n not in g.params]
    batched = batch > 1
    step = Step(g, shapes, params, data, batched)
    mask = g.reached_from(data) if batched else None
    out = g.slot_of["J"]
    lines = C.source(g, shapes, [out], [], "batch" if batched else "array", with_grad=False, batched=mask)
    fwd = C.build(lines, list(range(len(g.inputs))), f"v{out}", False, batch=batched)
    idx = np.arange(batch)
    args = [(Batch(X[idx]) if batched else X[0]) if n == "x" else (Batch(T[idx]) if batched else T[0])
            if n == "t" else P[n] for n in g.inputs]
    seed = Batch(np.full(batch, 0.5 / batch)) if batched else np.float64(0.05)
    return median_time(lambda: step(args, seed), 7, 200), median_time(lambda: fwd(*args), 7, 200)


def numpy_step_ratio(batch: int) -> float:
    """The floor's own gradient / forward time for one step (how much of the ratio is inherent)."""
    from workloads import median_time
    X, T, P = mlp_data(256)
    x, t = (X[0], T[0]) if batch == 1 else (X[:batch], T[:batch])

    def forward() -> Any:
        z1 = 1 / (1 + np.exp(-(x @ P["A1"] + P["b1"])))
        z2 = 1 / (1 + np.exp(-(z1 @ P["A2"] + P["b2"])))
        u = z2 @ P["B"] + P["b3"]
        e = np.exp(u - u.max(axis=-1, keepdims=True))
        return z1, z2, e / e.sum(axis=-1, keepdims=True)

    def gradient() -> Any:
        z1, z2, yhat = forward()
        gu = (yhat - t) / batch
        gz2 = gu @ P["B"].T * z2 * (1 - z2)
        gz1 = gz2 @ P["A2"].T * z1 * (1 - z1)
        if batch == 1:
            return np.outer(z2, gu), gu, np.outer(z1, gz2), gz2, np.outer(x, gz1), gz1
        return z2.T @ gu, gu.sum(0), z1.T @ gz2, gz2.sum(0), x.T @ gz1, gz1.sum(0)
    return median_time(gradient, 7, 200) / median_time(forward, 7, 200)
