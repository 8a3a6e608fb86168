"""How a student's number is compared with the reference's: PrairieLearn's three comparisons.

- `relabs` (relative/absolute): |got − want| ≤ atol + rtol·|want| (numpy's `isclose`, PrairieLearn's
  `is_correct_scalar_ra`);
- `sigfig`: right to `digits` significant figures: |got − want| < 0.51·10^−n with
  n = digits − 1 − floor(log10|want|) (n = digits − 1 when want = 0), PrairieLearn's
  `is_correct_scalar_sf`;
- `decdig`: right to `digits` digits after the decimal point: |got − want| < 0.51·10^−digits.

A list is compared element by element; every element must pass. An answer that fails but is the
right value rounded or cut off to fewer significant figures than asked is "close": the feedback
says "close: check your rounding (3 significant figures expected)".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.numbers import literal

KINDS = ("relabs", "sigfig", "decdig")
# What working a step out from a student's numbers may raise (a shape they do not have: an index into a
# scalar answer raised IndexError, and `check` crashed on a bias-folding slip, a red team's find).
STEP_ERRORS = (KeyError, ValueError, TypeError, IndexError, FloatingPointError)
ROUNDOFF = 1e-14  # of the computation's largest value: below it a value may be a roundoff of 0 (≈ 100 ulps)


@dataclass(frozen=True)
class Comparison:
    """One way of comparing: `relabs` with rtol/atol, or `sigfig`/`decdig` with digits."""

    kind: str = "relabs"
    rtol: float = 1e-5
    atol: float = 1e-8
    digits: int = 3

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise GraphlangError("usage", f"comparison must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for name, value, low, high in (("rtol", self.rtol, 0.0, 0.999999), ("atol", self.atol, 0.0, 1e300)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise GraphlangError("usage", f"{name} must be a number ≥ {low:g} and ≤ {high:g}, got {value!r}")
        if isinstance(self.digits, bool) or not isinstance(self.digits, int) or not 1 <= self.digits <= 15:
            raise GraphlangError("usage", f"digits must be an integer from 1 to 15, got {self.digits!r}")

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], base: Comparison | None = None, where: str = "") -> Comparison:
        """`comparison`, `rtol`, `atol`, `digits` from an assignment table, over `base`'s values."""
        base = base or cls()
        kind = table.get("comparison", base.kind)
        stray = [k for k in ("rtol", "atol", "digits") if k in table and (k == "digits") == (kind == "relabs")]
        if stray and kind in KINDS:  # digits=3 under relabs was ignored (rtol fell back to 1e-5)
            uses = "rtol and atol" if kind == "relabs" else "digits"
            raise GraphlangError("usage", f"{where}{' and '.join(stray)} does not apply to comparison {kind!r}, "
                                 f"which uses {uses}", hint="relabs takes rtol/atol; sigfig and decdig take digits")
        try:
            return cls(kind, table.get("rtol", base.rtol), table.get("atol", base.atol),
                       table.get("digits", base.digits))
        except GraphlangError as err:
            raise GraphlangError("usage", f"{where}{err.message}") from None

    def figures(self) -> int | None:
        """How many significant figures the comparison asks for (None: it does not say); for relabs,
        as many as always pass: k figures are off by up to 0.5·10^(1−k) of the value (1.04 → 1.0),
        so rtol 0.01 needs 3 (it said 2, and −0.16 for −0.1604… failed)."""
        if self.kind == "sigfig":
            return self.digits
        if self.kind == "relabs" and self.rtol > 0:
            return max(1, math.ceil(1 - math.log10(2 * self.rtol) - 1e-9))
        return None

    def expects(self) -> str:
        """What the comparison asks for, in words: "3 significant figures"."""
        n = self.figures()
        if n is not None:
            return f"{n} significant figure{'s' * (n != 1)}"
        if self.kind == "decdig":
            return f"{self.digits} digit{'s' * (self.digits != 1)} after the decimal point"
        return f"an absolute error of at most {self.atol:g}"

    def why(self) -> str:
        """Where relabs's figures come from (the assignment says rtol, not figures): ", for a
        relative tolerance of 0.01"."""
        return f", for a relative tolerance of {self.rtol:g}" if self.kind == "relabs" and self.figures() else ""

    def allowance(self, want: Any) -> np.ndarray:
        """How far from `want` an answer may be and pass, per element (a rounded answer's slack)."""
        w = np.abs(np.asarray(want, dtype=np.float64))
        if self.kind == "relabs":
            return self.atol + self.rtol * w
        return _sigfig_eps(w, self.digits) if self.kind == "sigfig" else np.full(w.shape, 0.51 * 10.0 ** -self.digits)

    def passes(self, got: np.ndarray, want: np.ndarray) -> bool:
        """Every element right (both arrays finite float64 of one shape)."""
        return bool(np.all(self._elementwise(got, want)))

    def _elementwise(self, got: np.ndarray, want: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):  # relabs is ≤ its allowance (numpy's isclose); the digits, <
            off, allowed = np.abs(got - want), self.allowance(want)
            return off <= allowed if self.kind == "relabs" else off < allowed

    def close(self, got: np.ndarray, want: np.ndarray) -> bool:
        """Wrong, but the right value rounded or cut off to fewer significant figures than asked:
        a rounding slip (0.6389 or 0.639 for 0.638961 when 5 figures are asked), not a wrong value."""
        n = min(self.figures() or 3, 16)
        g, w = np.broadcast_arrays(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64))
        return all(any(_same(gv, _cut(wv, k, rounded)) for k in range(1, n) for rounded in (True, False))
                   for gv, wv in zip(g.ravel().tolist(), w.ravel().tolist()))


def _cut(v: float, k: int, rounded: bool) -> float:
    """v to k significant figures, rounded or cut off (truncated toward zero)."""
    if v == 0 or not math.isfinite(v):
        return v
    if rounded:
        return float(f"{v:.{k - 1}e}")
    scale = 10.0 ** (math.floor(math.log10(abs(v))) - k + 1)
    return math.trunc(v / scale) * scale


def _same(a: float, b: float) -> bool:
    """Equal to 1e-9, both finite (1.7976e308 rounded to 1 figure is inf, which every answer was
    "close" to: -1.79e308 and 0 were told to check their rounding)."""
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)


def _sigfig_eps(want: np.ndarray, digits: int) -> np.ndarray:
    """Half a unit (0.51) in the last of `digits` significant figures of each expected value."""
    with np.errstate(all="ignore"):
        mag = np.where(want == 0, 0.0, np.floor(np.log10(np.where(want == 0, 1.0, np.abs(want)))))
    return 0.51 * 10.0 ** (mag - (digits - 1))


def compare(got: np.ndarray, want: Any, how: Comparison, reveal: bool = True, written: Any = None
            ) -> tuple[bool, str]:
    """(passed, message): "" when passed; "close: check your rounding (…)" or "incorrect".

    With `reveal` false (the reference's values hidden) "close" is never said: it would tell a
    student probing 0.6, 0.7, … which leading digits are right. The rounding hint then depends on
    the answer alone: fewer significant figures than the comparison asks for, counted as `written`
    (the answer as parsed, `1.00` with its text) gives them, on every element alike (on the wrong
    ones only, it would tell which elements of a hidden matrix are right)."""
    w = np.asarray(want, dtype=np.float64)
    if how.passes(got, w):
        return True, ""
    if reveal and how.close(got, w):
        return False, f"close: check your rounding ({how.expects()} expected{how.why()})"
    typed = got if written is None else written  # (as given: not with a hidden 0's roundoff zeroed)
    if not reveal and too_few_figures(typed, how):
        return False, f"incorrect ({how.expects()} expected{how.why()}; it is read as {_short_figures(typed)})"
    return False, "incorrect"


def too_few_figures(typed: Any, how: Comparison, as_typed: bool = False) -> bool:
    """Fewer significant figures (decdig: decimals) written than the comparison asks, on some element;
    `as_typed`: only where every element's text is known (a Python float 50.0 may have been typed 50.0)."""
    if as_typed and not all(getattr(leaf, "text", None) is not None for leaf in leaves(typed)):
        return False
    asked, given = how.figures(), figures_given(typed)
    if how.kind == "decdig":  # (digits after the point, as written: 0.895 where 4 are asked; a TA's find)
        asked, given = how.digits, decimals_given(typed)
    return asked is not None and given is not None and given < asked


def decimals_given(got: Any) -> int | None:
    """The fewest digits after the decimal point among an answer's elements as written (0.895 has 3,
    a JSON 1.50 2, 7 none); None when an element's text is not known or is in e-notation."""
    counts = []
    for leaf in leaves(got):
        text = getattr(leaf, "text", None)
        if text is None and not isinstance(leaf, int) or text is not None and "e" in text.lower():
            return None
        counts.append(len(text.split(".")[1]) if text is not None and "." in text else 0)
    return min(counts) if counts else None


def largest(values: Any) -> float:
    """The largest finite magnitude among `values` (0.0 for none): the scale of a roundoff of 0."""
    return max((float(np.max(np.abs(v))) for v in values if np.size(v) and np.all(np.isfinite(v))), default=0.0)


def short(v: Any) -> str:
    """A value in feedback: 6 significant figures, a tensor's first elements, on one line as the
    language writes it (`[[0.1, -0.2], [0.3, 0.4]]`: numpy's rows on lines of their own filled a
    check point over nine lines of a table cell, a TA's find)."""
    a = np.asarray(v, dtype=np.float64) + 0.0  # never "-0"
    return f"{float(a):.6g}" if a.ndim == 0 else _nested(a)


def _nested(a: np.ndarray) -> str:
    """`[[0.1, -0.2], [0.3, 0.4]]`, 4 figures; past 6 items on an axis its first 3, …, its last 2."""
    if a.ndim == 0:
        return f"{float(a):.4g}"
    items = [_nested(r) for r in a] if len(a) <= 6 else [*map(_nested, a[:3]), "…", *map(_nested, a[-2:])]
    return "[" + ", ".join(items) + "]"


def _short_figures(got: Any) -> str:
    """The answer as it was read (as typed where the answers file kept the text: 0.640): its first
    elements and, past them, the first with the fewest figures (a TA's find: `-0.0033` was behind "…")."""
    flat = leaves(got)

    def typed(v: Any) -> str:
        return getattr(v, "text", None) or literal(float(v))  # (a JSON 7: 7, not 7.0)
    shown = ", ".join(typed(v) for v in flat[:3])
    counts = [figures_given([v]) for v in flat]
    fewest = min((c for c in counts if c is not None), default=None)
    k = next((k for k, c in enumerate(counts) if c == fewest), 0)
    if k == 3:
        shown += f", {typed(flat[k])}"
    elif k > 3 and np.ndim(got) > 0:
        shown += f", …, {typed(flat[k])} at {[int(i) for i in np.unravel_index(k, np.shape(got))]}"
    shown += ", …" if len(flat) > max(3, k + 1) else ""
    return shown if np.ndim(got) == 0 else f"[{shown}]"


def figures_given(got: Any) -> int | None:
    """The fewest significant figures among an answer's nonzero elements as written (600 has 3,
    0.0012 has 2, a JSON 1.00 3); None when every element is 0 or not finite."""
    counts = []
    for leaf in leaves(got):
        v = float(leaf)
        if v == 0 or not math.isfinite(v):
            continue
        text = getattr(leaf, "text", None)
        if text is not None:  # as typed: its trailing zeros count
            counts.append(len(text.lstrip("+-").lower().split("e")[0].replace(".", "").lstrip("0")))
            continue
        mantissa = repr(abs(v)).split("e")[0]
        if mantissa.endswith(".0"):  # a whole number: its trailing zeros may be figures
            mantissa = mantissa[:-2]
        counts.append(len(mantissa.replace(".", "").lstrip("0")))
    return min(counts) if counts else None


def leaves(got: Any) -> list[Any]:
    """The numbers of a (nested) answer in row-major order, as parsed (a `Written` keeps its text)."""
    if isinstance(got, (list, tuple)):
        return [leaf for item in got for leaf in leaves(item)]
    if isinstance(got, np.ndarray):
        return got.ravel().tolist()
    return [got]


def sign_turned(got: Any, want: Any, scale: float) -> bool:
    """A wrong sign on a value that is not a roundoff of 0: an absolute tolerance (1e-8) let −3.8e-11
    pass for 3.8e-11 (the vanishing gradient of a saturated sigmoid); a roundoff of 0 (below ROUNDOFF
    of the computation's largest value) may come out with either sign."""
    g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if g.shape != w.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.any((g * w < 0) & (np.abs(w) > ROUNDOFF * scale)))


def roundoff_zeros(got: Any, want: Any, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Both as 0 wherever the reference is a roundoff of 0 and the answer is as small (dJ/dc = 0
    exactly for a softmax shift c, computed 1.25e-16: `sigfig` asked 0 to match 1.25e-16)."""
    g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if g.shape != w.shape:
        return g, w
    tiny = ROUNDOFF * scale
    with np.errstate(all="ignore"):
        both = (np.abs(w) <= tiny) & (np.abs(g) <= tiny)
    return (np.where(both, 0.0, g), np.where(both, 0.0, w)) if bool(np.any(both)) else (g, w)
