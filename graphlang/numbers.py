"""Numbers, one of each: the floating-point regime, numpy -> Python/JSON, and the formatters.

Layer: the bottom (imports only numpy). Everything that turns a float into text or JSON, or decides
how numpy treats overflow, lives here, so that every command prints the same value the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

# Evaluation: overflow, division by zero and invalid operations raise (and become located domain errors).
ERRSTATE: dict[str, str] = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}


@contextmanager
def strict_floats() -> Iterator[None]:
    """numpy raises FloatingPointError instead of returning inf or NaN."""
    with np.errstate(**ERRSTATE):  # type: ignore[arg-type]
        yield


@contextmanager
def quiet_floats() -> Iterator[None]:
    """numpy stays silent (display and comparison code, where inf/NaN are handled explicitly)."""
    with np.errstate(all="ignore"):
        yield


def py(value: Any) -> Any:
    """numpy -> a Python float for a scalar; arrays stay float64 arrays."""
    a = np.asarray(value, dtype=np.float64)
    return float(a) if a.ndim == 0 else a


def owned(*parts: dict[str, Any] | None) -> Any:
    """Each array of a result its own writable array: `a = x` gave values a and x one array (and a
    compiled call the adjoints of a and x), a reverse Jacobian a read-only broadcast; a caller's
    in-place edit of one changed another (an API red team's find). Floats are left as they are."""
    seen: set[int] = set()
    for part in parts:
        for k, v in (part or {}).items():
            if isinstance(v, np.ndarray):
                if v.base is not None or id(v) in seen:  # (a read-only broadcast is a view too)
                    v = part[k] = np.array(v)  # type: ignore[index]
                seen.add(id(v))
    return parts[0]  # (the first part, for `return owned(d)`)


def plain(value: Any) -> Any:
    """numpy -> JSON-ready: a Python float or nested lists of floats (never -0.0: the tables show 0)."""
    a = np.asarray(value, dtype=np.float64) + 0.0  # IEEE: -0.0 + 0.0 is 0.0
    return float(a) if a.ndim == 0 else a.tolist()


def number(v: float, digits: int = 10) -> str:
    """A scalar for tables: `digits` significant digits, never `-0` or `np.float64(...)`."""
    v = float(v) + 0.0
    if v == 0:
        return "0"
    return f"{v:.{digits}g}"


def short(v: Any, digits: int = 6) -> str:
    """A scalar (`digits` significant digits, no `-0`) in a message or a cell."""
    return f"{float(v) + 0.0:.{digits}g}"


def preview(value: Any, digits: int = 6, count: int = 4, array_digits: int = 4) -> str:
    """A value in an error message: a scalar, or a tensor's first `count` elements and its shape."""
    a = np.asarray(value)
    if a.ndim == 0:
        return f"{float(a):.{digits}g}"
    if a.size <= count:  # all of it, nested as the value is ([[1e+200, 1e+200]] for a 1×2 matrix)
        text = np.array2string(a, separator=", ", formatter={"float_kind": lambda x: f"{x:.{array_digits}g}"})
        return " ".join(text.split())
    flat = ", ".join(f"{x:.{array_digits}g}" for x in a.ravel()[:count])
    return f"[{flat}, ...] (shape {list(a.shape)})"


def literal(v: float) -> str:
    """A float as .cg source text that reads back exactly (`2`, `0.5`, `1e-300`)."""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


_E_NOTATION = re.compile(r"(?<![\w.])(-?\d+(?:\.\d*)?)e([+-]?\d+)(?![\w.])")


def tex_numbers(text: str) -> str:
    """Every `6.1e-17` in `text` as LaTeX's `6.1 \\times 10^{-17}` (in math mode 1e-12 reads as 1e − 12)."""
    return _E_NOTATION.sub(lambda m: f"{m.group(1)} \\times 10^{{{int(m.group(2))}}}", text)


def written_prec(text: str, atom: int, product: int) -> int:
    """How tightly a printed number binds: `6.1e-17` (6.1 × 10⁻¹⁷) as a product, else as an atom,
    so that it is bracketed as a base or an exponent: (3e-07)², 2^(3e-07)."""
    return product if "e" in text and text[:1] in "-0123456789" or "\\times" in text else atom
