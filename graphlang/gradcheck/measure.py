"""How far one derivative is from another: the error measure gradcheck and the ε sweep share."""

from __future__ import annotations

from typing import Any

import numpy as np

FLOAT_MAX = float(np.finfo(np.float64).max)


def mixed_error(got: Any, want: Any) -> float:
    """The largest |got − want| / max(|want|, 1): the relative error where the reference is at least
    1 in magnitude, the absolute error where it is smaller (so a reference of 0 is no division by 0)."""
    diff = np.abs(np.asarray(got, dtype=float) - np.asarray(want, dtype=float))
    if not diff.size:
        return 0.0
    return float(np.max(diff / np.maximum(np.abs(np.asarray(want, dtype=float)), 1.0)))


def capped(x: Any) -> float:
    """A non-negative error as a finite float: overflow (inf, or NaN from inf - inf) -> float64's max."""
    x = float(x)
    return x if x < FLOAT_MAX else FLOAT_MAX
