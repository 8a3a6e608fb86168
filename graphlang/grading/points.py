"""Where a program is checked: seeded points of both signs and several magnitudes, inside the
reference's domain, off the kinks where a derivative is only a convention, and where the reference's
own float64 value is accurate enough to grade by."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.numbers import strict_floats
from graphlang.primitives.domains import on_kinks
from graphlang.program import Program


def at_kink(prog: Program, point: Mapping[str, Any], vals: list[Any] | None = None) -> bool:
    """Does some relu/abs/max/min of the program sit exactly on its kink at this point? (`vals`: its
    slots' values there, when the caller has them.)"""
    g = prog.graph
    if not any(eq.prim.kink is not None for eq in g.eqns):
        return False
    vals = vals if vals is not None else interp.forward(g, prog.bind(point)[0])
    return bool(on_kinks(g.eqns, vals))


def values_at(prog: Program, point: Mapping[str, Any]) -> list[Any] | None:
    """Every slot's value at the point, for `at_kink` and `cancels` (one forward pass for both);
    None when neither has anything to look at."""
    g = prog.graph
    if not any(eq.prim.kink is not None or eq.prim.name in ("add", "sub") for eq in g.eqns):
        return None
    return interp.forward(g, prog.bind(point)[0])


ALONE_MOST = 32  # inputs turned negative one at a time, within the points of a program check (`MOST_POINTS`)


def _candidate(rng: np.random.Generator, base: list[np.ndarray], k: int, same_signs: bool = False
               ) -> tuple[list[np.ndarray], bool]:
    """The k-th candidate point (k ≥ 1) and whether it is far from the given one's magnitudes, in
    turn: near the given point, some inputs' signs turned, other magnitudes (0.03 to 30 times, far),
    anywhere in ±[0.01, 100] (far). In the first rounds each input is turned alone, two a round at
    the given magnitudes (a program wrong only where its third input is negative was caught by no
    point of ten); then the signs follow the bits of the round number, so every combination of
    signs comes up in turn. Past ALONE_MOST inputs the checks end before every input is turned
    alone, so the far points turn each input's sign at random."""
    family, rnd, n = k % 4, k // 4, len(base)
    alone = rnd < -(-n // 2)  # a round that turns one input at a time, inputs 2·rnd and 2·rnd + 1
    turned = (2 * rnd + (family == 3)) % max(n, 1)
    far = family == 0 or (family == 3 and not alone)
    out = []
    for i, x in enumerate(base):
        flip = i == turned if alone else bool((rnd - -(-n // 2) + 1) >> (i % 16) & 1)
        turn = -1.0 if flip else 1.0
        mag = np.where(x != 0, np.abs(x), 1.0)
        if family == 1:  # near the point
            v = x + rng.uniform(-0.5, 0.5, size=x.shape) * np.maximum(1.0, np.abs(x))
        elif family == 2 or family == 3 and alone:  # the given point with some inputs' signs turned
            v = turn * np.where(x != 0, x, 1.0) * rng.uniform(0.5, 2.0, size=x.shape)
        elif family == 3:  # other magnitudes
            v = turn * mag * 10.0 ** rng.uniform(-1.5, 1.5, size=x.shape)
        else:  # anywhere, each element with its own sign (past ALONE_MOST inputs, each scalar too: not
            sign = rng.choice([-1.0, 1.0], size=x.shape) if x.ndim or n > ALONE_MOST else turn  # all turn alone)
            v = sign * 10.0 ** rng.uniform(-2.0, 2.0, size=x.shape)
        if same_signs:  # (an assignment on x > 0: each element keeps the given point's sign)
            v = np.where(x > 0, np.abs(v), np.where(x < 0, -np.abs(v), v))
        out.append(np.asarray(v, dtype=np.float64))
    return out, far


def sample_points(prog: Program, at: Mapping[str, Any], n: int, seed: int, max_tries: int = 50,
                  same_signs: bool = False, rtol: float = 1e-6) -> list[dict[str, np.ndarray]]:
    """The points of `sampled`, without their far flags."""
    return [p for p, _ in sampled(prog, at, n, seed, max_tries, same_signs, rtol)]


def sampled(prog: Program, at: Mapping[str, Any], n: int, seed: int, max_tries: int = 50,
            same_signs: bool = False, rtol: float = 1e-6, labels: Sequence[str] = ()
            ) -> list[tuple[dict[str, np.ndarray], bool]]:
    """n seeded points where two different functions show it, each with whether it is far from the
    given magnitudes: the given point, then points near it, with the signs turned, at several
    magnitudes and anywhere, each kept only if the reference evaluates there (value and gradient:
    inside its domain), sits on no kink of relu, abs, max or min (where a derivative is only a
    convention) and loses no more digits to cancellation than `rtol` allows (`cancels`: its value
    there would not be the function's)."""
    rng = np.random.default_rng(seed)
    base, _ = prog.bind(at)
    points: list[tuple[dict[str, np.ndarray], bool]] = []
    tries = 0
    while len(points) < n and tries < max_tries * max(n, 1):
        values, far = (base, False) if tries == 0 else _candidate(rng, base, tries, same_signs)
        cand = dict(zip(prog.inputs, values))
        for name in labels if tries else ():
            cand[name] = label_like(np.asarray(at[name], dtype=np.float64), len(points))
        tries += 1
        try:
            prog.evaluate(cand)
            vals = values_at(prog, cand)
            if vals is not None and (at_kink(prog, cand, vals) or (tries > 1 and cancels(prog, cand, rtol, vals))):
                continue
        except GraphlangError:
            continue  # outside the reference's domain: draw another point
        points.append((cand, far))
    if not points:  # nowhere but the given point (which the caller's evaluation will report on)
        points.append((dict(zip(prog.inputs, base)), False))
    return points[:n]


def is_label(given: Any) -> bool:
    """0 or 1, a one-hot vector, or rows of one-hot vectors: a value a label takes."""
    v = np.asarray(given, dtype=np.float64)
    if v.ndim == 0:
        return bool(v in (0.0, 1.0))
    return bool(np.all((v == 0) | (v == 1)) and np.all(v.sum(axis=-1) == 1))


def label_like(given: np.ndarray, k: int) -> np.ndarray:
    """A label's value at the k-th check point (an assignment's `fixed` input, `is_label(given)`):
    each class in turn from the given one, so that ten points see ten classes (drawn at random, seven
    of ten were seen, and a loss wrong for the others passed); each row of a matrix of one-hot rows
    shifted alike."""
    if given.ndim == 0:
        return np.asarray(float((int(given) + k) % 2))
    classes = given.shape[-1]
    return np.eye(classes)[(np.argmax(given, axis=-1) + k) % classes]


def unused_inputs(prog: Program, extra: list[str]) -> dict[str, np.ndarray] | None:
    """Values for inputs only a submission has (`extra`), when its outputs read none of them; else None."""
    g = prog.graph
    reached = g.reached_from(g.slot_of[n] for n in extra)
    if any(reached[g.slot_of[o]] for o in g.outputs):
        return None
    return {n: np.full(prog.checked.declared.get(n) or (), 1.618) for n in extra}  # (1: a dead 1/(w - 1) failed)


def cancels(prog: Program, point: Mapping[str, Any], rtol: float, vals: list[Any] | None = None,
            eps: float = float(np.finfo(np.float64).eps)) -> bool:
    """Does a sum or difference of the program cancel here so far that its float64 value is off by
    more than a tenth of `rtol` (1 − p with p = 1 − 10⁻¹² keeps four digits)? Then a comparison at
    this point grades rounding, not mathematics: a right program, stable or not, may disagree."""
    g = prog.graph
    if not any(eq.prim.name in ("add", "sub") for eq in g.eqns):
        return False
    vals = vals if vals is not None else interp.forward(g, prog.bind(point)[0])
    lost = 10 * eps / rtol  # |a ± b| below this times max(|a|, |b|) (`eps`: of the values' precision)
    for eq in g.eqns:
        if eq.prim.name in ("add", "sub") and len(eq.ins) == 2:
            with np.errstate(all="ignore"):  # extended values past float64's range: inf, compared as such
                a, b = (np.abs(np.asarray(vals[i], dtype=np.longdouble)) for i in eq.ins)
                r = np.abs(np.asarray(vals[eq.out], dtype=np.longdouble))
                if bool(np.any((r != 0) & (r < lost * np.maximum(a, b)))):
                    return True
    return False


PIECEWISE = frozenset({"relu", "step", "max", "min", "sign", "abs"})  # their zeros are exact, not rounded


def float64_limit(prog: Program, point: Mapping[str, Any]) -> bool:
    """Does the program fail here as float64 arithmetic fails, not as mathematics does: an overflow,
    or a function meeting a zero (ln(0), 1/0) or a subnormal that rounding made of nonzero values
    (1 − p once p rounded to 1, exp(−800))? A zero made by relu, step, max, min (ln(step(x − 1))),
    from a zero, or given, is exact: the formula's. So is an argument plainly outside the domain
    (sqrt(−0.42), ln(−3)). A failure after the forward pass (a derivative there) counts as float64's."""
    g = prog.graph
    vals: list[Any] = [None] * g.n_slots
    vals[: len(g.inputs)] = prog.bind(point)[0]
    for slot, value in g.consts.items():
        vals[slot] = np.float64(value)
    made_by: dict[int, Any] = {}
    tiny = np.finfo(np.float64).tiny
    for eq in g.eqns:
        args = [vals[i] for i in eq.ins]
        try:
            with strict_floats():  # as the interpreter runs (an underflow to 0 is no error)
                vals[eq.out] = eq.prim.impl(*args, eq.attr) if eq.prim.attr_args else eq.prim.impl(*args)
        except (ArithmeticError, ValueError) as err:
            if "overflow" in str(err) or isinstance(err, OverflowError):
                return True
            return any(_rounded_zero(made_by.get(i), vals, tiny) for i, a in zip(eq.ins, args)
                       if np.asarray(a).dtype.kind in "fiu" and np.any(np.abs(np.asarray(a, dtype=np.float64)) < tiny))
        made_by[eq.out] = eq
    return True


def _rounded_zero(eq: Any, vals: list[Any], tiny: float) -> bool:
    """Was a zero (or subnormal) made by rounding: by an operation other than relu, step, max, min,
    sign or abs, from operands none of which is zero?"""
    if eq is None or eq.prim.name in PIECEWISE:
        return False
    return all(np.all(np.abs(np.asarray(vals[i], dtype=np.float64)) >= tiny) for i in eq.ins)
