"""Rounding in a student's arithmetic: how far a step moves while the earlier answers it reads move
within their rounding (or within where the student's own unrounded values lie: `span`), and while its
local derivatives are rounded as explain prints them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from graphlang.grading.compare import STEP_ERRORS, Comparison, leaves
from graphlang.numbers import quiet_floats
from graphlang.symbolic.printing import value_of

Span = tuple[np.ndarray, np.ndarray]  # where a student's own unrounded value lies: lowest, highest per element


class Spans(dict[str, Any]):
    """Each answer's `span`, worked out when a later step first asks (most answer files never do),
    those judged before it first, in order: no recursion, and each worked out once."""

    def __init__(self, typed: dict[str, np.ndarray] | None = None) -> None:
        super().__init__()
        self._queue: list[str] = []  # the names whose span waits, in the order they were judged
        self._next = 0
        self.typed = {} if typed is None else typed  # half a unit in the last digit typed, where known

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        if callable(value):
            self._queue.append(name)

    def __getitem__(self, name: str) -> Span:
        while callable(super().__getitem__(name)) and self._next < len(self._queue):
            n, self._next = self._queue[self._next], self._next + 1
            pending = super().__getitem__(n)
            if callable(pending):
                super().__setitem__(n, None)  # (being worked out: not `in` the spans meanwhile; a
                super().__setitem__(n, pending())  # tangent asked before the one it reads recursed)
        return super().__getitem__(name)  # type: ignore[no-any-return]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name) and super().__getitem__(name) is not None


def slack_of(q: str, forward: dict[str, Any], cmp: Comparison, locals_: list[tuple[str, Any]] | None,
             true: dict[str, Any] | None = None) -> Callable[..., tuple[Any, Any]]:
    """How far below and above a chain rule's terms may move with their local derivatives rounded to
    the figures (or decimals) asked, as explain prints them, or each term rounded before the sum; 0 for
    a value's statement, and for relabs (no digits). The rounding of the local derivative at the
    student's written values or, `true`, at the true ones (a student who keeps full precision rounds
    1 − tanh²(2.5) = 0.0265923, not 1 − 0.9866²: a review's honest students refused, once right answers
    no longer moved by a whole digit). Each rounding moves its term one way only: 1214.56 rounds to
    1210, never up (a red team's dy/dx = 1218 passed for 1208.38, a band of ±4.56 on each side)."""
    if q in forward or cmp.kind not in ("sigfig", "decdig"):
        return lambda step, terms, env: (0.0, 0.0)

    def moves(step: list[Any], terms: list[Any], env: dict[str, Any]) -> tuple[Any, Any]:
        down: Any = 0.0
        up: Any = 0.0
        for k, (e, t) in enumerate(zip(step, terms)):  # (rounded, or cut off: the figures asked, either way)
            ways = [_rounding_of_local(k, e, t, at, cmp, locals_, cut) for at in (env, true) if at is not None
                    for cut in (False, True)]
            if len(terms) > 1:  # each term rounded, then summed: alone, or after its local derivative was
                ways += [_round_as(t + w, cmp, cut) - t for w in [0.0, *ways] for cut in (False, True)]  # (both)
            down, up = down + np.maximum(0.0, -np.minimum.reduce(ways)), up + np.maximum(0.0, np.maximum.reduce(ways))
        return down, up
    return moves


def _rounding_of_local(k: int, e: Any, term: np.ndarray, env: dict[str, Any], cmp: Comparison,
                       locals_: list[tuple[str, Any]] | None, cut: bool = False) -> np.ndarray:
    """How far the k-th chain-rule term g_c·∂c/∂a (forward mode: ∂a/∂u·du/dx) moves when its local
    derivative is rounded as asked, as explain prints it (g_f·(1/a) with 1/a = 0.167 for 1/6):
    g_c·(round(p) − p) per element, signed. Not a blanket share of the term: an exact local derivative
    (x = 2) rounds nothing (a red team's 805 for g_a·x = 405·2 passed). A term whose factors are not
    known (matrix calculus, or factors that do not broadcast: an outer product's g_u and x), the
    term's own rounding (a blanket 0.5 % of it passed dJ/dW off by 3-5 units in its last figure)."""
    try:
        with quiet_floats():
            found = locals_[k] if locals_ is not None and k < len(locals_) else _tangent_factors(e)
            if found is not None and found[1] is not None:
                carried, local = found
                p = np.asarray(value_of(local, env), dtype=np.float64)
                moved = np.asarray(env[carried], dtype=np.float64) * (_round_as(p, cmp, cut) - p)
                if moved.shape == term.shape:
                    return moved
    except STEP_ERRORS:
        pass
    return _round_as(term, cmp, cut) - term


def _tangent_factors(e: Any) -> tuple[str, Any] | None:
    """A forward-mode term ∂a/∂u · du/dx as (the tangent's key, the local derivative), else None."""
    body = e.args[0] if e.op == "neg" else e
    if body.op != "mul" or len(body.args) != 2:
        return None
    seeds = [k for k, a in enumerate(body.args) if a.op == "var" and "/" in str(a.attr)]
    return (str(body.args[seeds[0]].attr), body.args[1 - seeds[0]]) if len(seeds) == 1 else None


def _round_as(v: np.ndarray, cmp: Comparison, cut: bool = False) -> np.ndarray:
    """`v` rounded as the comparison asks answers to be: to its significant figures or decimals
    (`cut`: cut off there, as a student who truncates writes it)."""
    how = np.trunc if cut else np.round
    v = np.asarray(v, dtype=np.float64)
    with np.errstate(all="ignore"):
        if cmp.kind != "sigfig":
            return np.trunc(v * 10.0 ** cmp.digits) / 10.0 ** cmp.digits if cut else np.round(v, cmp.digits)
        mag = np.floor(np.log10(np.where(v == 0, 1.0, np.abs(v))))
        scale = 10.0 ** (cmp.digits - 1 - mag)
        return np.where(v == 0, 0.0, how(v * scale) / scale)



def rounding_range(step: list[Any], mixed: dict[str, Any], earlier: dict[str, Any],
                    cmp_of: Callable[[str], Comparison], carried: Any, true: dict[str, Any] | None = None,
                    spans: dict[str, Span] | None = None, per_element: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """How far below and above `carried` the step goes while each earlier answer moves within its
    rounding (the last digit written, at most what that answer's own comparison allows it): b
    rounded to 0.301 and c = sin(b) answered from the unrounded b (0.297, not sin(0.301) = 0.296478)
    was "not consistent" (a TA's find: 13/18). The range, not a band of its widest side: e = a/b
    with b = 0.01 ± 0.005 lies in [400, 1200], and e = 1 is not consistent (a red team's find).
    Each answer is moved by ± its half-unit (a vector's by four sign patterns), the moves summed;
    `per_element` (asked where that range refuses): a small vector's or matrix's elements also each
    to the end that moves one output element farthest, all at once (`_per_element`)."""
    below, above = np.zeros(np.shape(carried)), np.zeros(np.shape(carried))
    for n, value in earlier.items():
        v = np.asarray(value, dtype=np.float64)
        t = None if true is None else true.get(n)
        # (capped by the comparison at the written value, never the true one: a wrong a = 0.110 where
        # a is 0.0110 rounds ±0.0005, which the true value's 3 figures capped at ±0.00005; and a
        # wrong b = 0.001 to one figure beside a true 0.693 moved ±0.0005, ±50 %, under the true
        # value's cap — and the cap's size told a probing student the hidden value's decade)
        half = np.minimum(half_of(spans, n, v), cmp_of(n).allowance(v))
        if t is not None:  # an element written exactly (6 of a true 6) rounds nothing, beside one that does
            half = np.where(written_exactly(v, t), 0.0, half)
        lo, hi = spans[n] if spans is not None and n in spans and np.shape(spans[n][0]) == v.shape \
            else (v - half, v + half)
        down, up = np.zeros(np.shape(carried)), np.zeros(np.shape(carried))
        for signs in _patterns(v.shape):
            moved = _moved(step, mixed, n, np.where(signs > 0, hi, lo), carried)
            if moved is not None:
                down, up = np.maximum(down, carried - moved), np.maximum(up, moved - carried)
        if per_element and 1 < v.size <= ONE_BY_ONE and 0 < np.size(carried) <= ONE_BY_ONE:
            down, up = _per_element(step, mixed, n, v, lo, hi, carried, down, up)
        below, above = below + down, above + up
    return below, above


ONE_BY_ONE = 64  # an earlier answer (and a step) of at most this many numbers may be moved element by element


def _per_element(step: list[Any], mixed: dict[str, Any], n: str, v: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 carried: np.ndarray, down: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """W @ g moves output i by Σ_j |W_ij| h_j as g moves within its rounding, which no one sign
    pattern reaches for every i (a TA's find): each element of `n` is moved alone to learn which end
    raises (lowers) each output element, then for each output element that pattern is evaluated whole.
    Only points the answer can take, so reachable moves alone (the sum of the single moves credited a
    16-way max of ties 8 % off: a reviewer's find); 2·(its size + the step's) evaluations."""
    raise_end = np.zeros((v.size, np.size(carried)), dtype=bool)  # element j's end that raises output i: hi?
    for j, at in enumerate(np.ndindex(v.shape)):
        ends = [_moved(step, mixed, n, np.where(_one(v.shape, at), end, v), carried) for end in (lo, hi)]
        if ends[0] is None or ends[1] is None:
            return down, up
        raise_end[j] = np.ravel(ends[1]) >= np.ravel(ends[0])
    down, up = np.array(down, dtype=np.float64).ravel(), np.array(up, dtype=np.float64).ravel()  # (copies)
    for i in range(up.size):
        for rising in (True, False):
            moved = _moved(step, mixed, n, np.where((raise_end[:, i] == rising).reshape(v.shape), hi, lo), carried)
            if moved is not None:
                off = np.ravel(moved - carried)[i]
                up[i], down[i] = max(up[i], off), max(down[i], -off)
    return down.reshape(np.shape(carried)), up.reshape(np.shape(carried))


def _one(shape: tuple[int, ...], at: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[at] = True
    return mask


def _moved(step: list[Any], mixed: dict[str, Any], n: str, value: np.ndarray, carried: Any) -> np.ndarray | None:
    """The step with the earlier answer `n` at `value` (None where it fails or changes shape)."""
    try:
        with quiet_floats():
            moved = np.asarray(sum(value_of(e, {**mixed, n: value}) for e in step), dtype=np.float64)
    except STEP_ERRORS:
        return None
    return moved if np.shape(moved) == np.shape(carried) and np.all(np.isfinite(moved)) else None


def written_exactly(v: np.ndarray, true: Any) -> np.ndarray:
    """Per element: the answer is the true value but for the reference's own roundoff (u = 1 where
    0.8·1.5 − 0.2 computes 1.0000000000000002): it rounds nothing. A red team's 18/18 for nine
    wrong answers, each moved by the whole tolerance of an exact u = 1."""
    t = np.asarray(true, dtype=np.float64)
    if np.shape(t) != np.shape(v):
        return np.zeros(np.shape(v), dtype=bool)
    with quiet_floats():
        return np.asarray(np.abs(v - t) <= 1e-12 * np.abs(t))


def typed_half(answer: Any, cmp: Comparison) -> np.ndarray | None:
    """Half a unit in the last digit of each element as the student typed it (a JSON number keeps its
    text), the zeros past the precision the comparison asks read as padding: "-4.40" to 3 figures is
    ±0.005 (the float -4.4's ±0.05 let a dy/dx 4 % off pass under a 1 % tolerance: a red team's find),
    "1.290000" to 2 decimals ±0.005 (an honest student's padding), "404.0" to 3 figures ±0.5. None
    where some element's text is not known."""
    numbers = leaves(answer)
    texts = [str(t) for leaf in numbers if (t := getattr(leaf, "text", None)) is not None]
    if not texts or len(texts) < len(numbers):
        return None
    try:
        units = [0.5 * 10.0 ** _last_digit(Decimal(t), cmp) for t in texts]
    except (ArithmeticError, ValueError, TypeError):
        return None
    return np.asarray(units, dtype=np.float64).reshape(np.shape(np.asarray(answer, dtype=np.float64)))


def _last_digit(d: Decimal, cmp: Comparison) -> int:
    """The exponent of the last digit typed that the comparison's precision does not make padding."""
    exp = int(d.as_tuple().exponent)
    if d == 0:  # (a 0 rounds whatever the comparison lets pass: the cap on the half-unit decides)
        return 99
    keep = -cmp.digits if cmp.kind == "decdig" else d.adjusted() - (cmp.figures() or 1) + 1  # (the last asked)
    shortest = int(d.normalize().as_tuple().exponent)  # (without its trailing zeros)
    return max(exp, min(keep, shortest))


def half_of(spans: Any, name: str, v: np.ndarray) -> np.ndarray:
    """Half a unit in the last digit of answer `name`: as typed where `spans` knows it ("-4.40": 0.005,
    which the float -4.4 reads as 0.05: a red team's 4 % off passed under a 1 % tolerance), else as
    its float shows."""
    typed = getattr(spans, "typed", {}).get(name)
    return typed if typed is not None and typed.shape == np.shape(v) else half_unit(v)


def half_unit(v: np.ndarray) -> np.ndarray:
    """Half a unit in the last nonzero digit each element was written with (0.301: 0.0005; 1190: 5)."""
    units = [0.0 if x == 0 or not np.isfinite(x) else
             0.5 * 10.0 ** int(Decimal(repr(x)).normalize().as_tuple().exponent) for x in v.ravel().tolist()]
    return np.asarray(units, dtype=np.float64).reshape(v.shape)


def _patterns(shape: tuple[int, ...]) -> list[Any]:
    """Sign patterns to move an answer by: both signs, and for a vector two fixed mixed ones."""
    if shape == ():
        return [np.float64(1.0), np.float64(-1.0)]
    mixed = np.random.default_rng(0).choice([-1.0, 1.0], size=(2, *shape))
    return [np.ones(shape), -np.ones(shape), mixed[0], mixed[1]]
