"""An answer's form before its value: numbers of the right shape, finite; and, where not, what the
student most likely wrote (a quoted number, words beside one, a formula, a transposed matrix, a
column for a vector, an integer past float64) — said without looking at any hidden value."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from graphlang.ir.bind import not_a_number


def as_numbers(got: Any) -> np.ndarray | None:
    """An answer as float64 numbers; None for text ("4"), booleans, or anything else."""
    try:
        if not_a_number(got) is not None:
            return None
        with np.errstate(over="ignore"):
            return np.asarray(got, dtype=np.float64)
    except Exception:  # noqa: BLE001 - ragged lists; integers past float64's range; a caller's float
        return None  # subclass whose __float__ raises (an API red team's find)


def well_formed(got: Any, want: Any) -> bool:
    g = as_numbers(got)
    return g is not None and g.shape == np.shape(want) and bool(np.all(np.isfinite(g)))


_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"  # (ASCII: JSON's digits)
_WORDS = re.compile(r"[\sA-Za-z~≈:,;()]*")  # what may stand beside a number: words, not a formula (e^2, pi/2)


def _float(text: str) -> Any:
    """A string that spells one finite number in ASCII, as that number (else None): "٦" and "1e400"
    are no numbers JSON would take unquoted (an attacker's find: "write ٦, not "٦"")."""
    if len(text) > 40 or not text.isascii() or not re.fullmatch(_NUMBER, text.strip()):  # ("1_0" is no JSON
        return None  # number either; the length first: the pattern backtracks, 20,000 digits took 28 s)
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


WALKED = 100_000  # items of an answer's lists looked at for nulls (a list holding itself never ends;
# shared rows hold 10^9 numbers in a few kilobytes: an adversarial test's)


_CUT = object()  # what `_walk` yields last where it stopped short


def _walk(got: list[Any]) -> Any:
    """(item, its index) of a nested list, row-major, the first WALKED at most (then `_CUT`)."""
    stack: list[tuple[Any, list[int]]] = [(got, [])]
    seen = 0
    while stack:
        (item, at), seen = stack.pop(), seen + 1
        if seen > WALKED or len(at) > 32 or isinstance(item, list) and len(stack) + len(item) > WALKED:
            yield _CUT, at
            return
        yield item, at
        if isinstance(item, list):
            stack.extend((x, [*at, k]) for k, x in reversed(list(enumerate(item))))


def unanswered(value: Any) -> bool:
    """A (nested) list of nulls only: a vector's or matrix's template answer left as it is."""
    return isinstance(value, list) and all(item is None or isinstance(item, list) for item, _ in _walk(value))


def _first_null(got: list[Any]) -> list[int] | None:
    """Where the first null of a nested list is (row-major), or None (also past WALKED items)."""
    return next((at for item, at in _walk(got) if item is None), None)


def malformed(got: Any, want: Any) -> str:
    """Why an answer cannot be compared at all ("" if it can): not numbers, a shape, not finite."""
    g = as_numbers(got)
    if g is None and isinstance(got, list) and (hole := _first_null(got)) is not None:  # a template half filled
        return f"not every element is filled in: null at {hole}"
    if g is None:
        spelled = isinstance(got, str) and _float(got) is not None  # "6": quoted by mistake
        inside = re.findall(_NUMBER, got[:200]) if isinstance(got, str) else []
        typographic = isinstance(got, str) and _float(got.replace("\u2212", "-").replace("\u2013", "-")) is not None
        if typographic and not spelled:  # "−1.373" pasted from a PDF: a typographic minus (a TA's find)
            plain = got.strip().replace("\u2212", "-").replace("\u2013", "-")
            return f"not a number or a list of numbers (a string with a typographic minus: write {plain}, unquoted)"
        if spelled:
            return f'not a number or a list of numbers (a string: write {got.strip()}, not "{got.strip()}")'
        words = len(inside) == 1 and _WORDS.fullmatch(re.sub(_NUMBER, " ", got[:200], count=1))
        if words and math.isfinite(float(inside[0])) and \
                not re.search(r"\(\s*" + _NUMBER, got[:200]):  # "approx -0.664", "0.215 (rounded)": not "sqrt(2)"
            return f"not a number or a list of numbers (a string: write only the number, {inside[0]}, unquoted)"
        if isinstance(got, int) and not isinstance(got, bool) or isinstance(got, list) and any(
                isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2 ** 1024 for v in got[:10_000]):
            return "a number past float64's range (±1.8e308)"  # (10**5000: a number, too large to compare)
        formula = isinstance(got, str) and inside and any(c in got for c in "()^*/+")  # sqrt(2), e^2, pi/2
        return "not a number or a list of numbers" + (" (a string: write the number a formula stands for)"
                                                       if formula else " (a string)" if isinstance(got, str) else "")
    if g.shape != np.shape(want):
        return f"shape {list(g.shape)} but expected {list(np.shape(want))}" + _shape_hint(g.shape, np.shape(want))
    if not np.all(np.isfinite(g)):
        return "not a finite number"
    return ""


def _shape_hint(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """What a shape mistake usually is: a matrix written transposed (numerator layout), a vector
    written as a column or a row (a TA's find: "shape [2, 3] but expected [3, 2]" alone)."""
    if len(got) == len(want) == 2 and got == want[::-1]:
        return (": the transpose's shape (a matrix written transposed; a derivative has the shape of the "
                "variable it is taken with respect to: the lecture's denominator layout)")
    if len(want) == 1 and got in ((want[0], 1), (1, want[0])):
        return f": write a vector as one list of {want[0]} numbers, not as a {'column' if got[1] == 1 else 'row'}"
    return ""
