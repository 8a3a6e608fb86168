"""Is a submission's trouble at a far point float64's, or its formula's? The grader skips a point
where a right formula is only numerically unstable (1/(1 + e^-u) at u = −800) and must not skip
one where a wrong formula hides behind rounding (((s + t) − s) − t with s = 1e25 beside the error)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphlang.engines import exact
from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.grading.checker import close_to
from graphlang.grading.points import cancels, float64_limit
from graphlang.numbers import quiet_floats
from graphlang.program import Program, parse
from graphlang.symbolic.derivative import derivative_program

# (digits, numbers made at most): a right formula's value reaches the reference's at the first
# precision, or, where float64's range is spanned (1 − p with p within 1e-300 of 1), at a later one
STAGES = ((40, 50_000), (340, 2_000), (1_200, 60))


def exact_verdict(stud: Program, point: Mapping[str, Any], want: Any, rtol: float, atol: float) -> bool | None:
    """Does the submission's value, computed with enough digits that no rounding is left to blame,
    reach the reference's? False where it misses at every precision it could be computed at, or
    passes 10^±999,999 (no right formula of a float64 program needs that); None only where the
    program is too large for the first precision, or every precision rounds a value to a zero it
    cannot take (ln(1 − p) with p within e^-4468 of 1 needs 1,940 digits): the caller then judges
    as before. A later precision too large for the program is no way out once one gave a value."""
    g = stud.graph
    try:
        inputs = stud.bind(point)[0]
    except GraphlangError:  # (a derivative program past a limit at this point: it cannot tell; it crashed the grader)
        return None
    computed = False
    for digits, most in STAGES:
        try:
            vals = exact.forward(g, inputs, digits, most)
        except exact.Unsupported:
            return False if computed else None
        except exact.Overflowed:
            return False
        except exact.Undefined:
            continue
        computed = True
        got = _laid_out(g, vals, want)
        if got is not None and close_to(got, want, rtol, atol)[0]:
            return True
    return False if computed else None


def exact_gradient_verdict(stud: Program, point: Mapping[str, Any], want: Mapping[str, Any], wrt: list[str],
                           rtol: float, atol: float) -> bool | None:
    """Does the submission's gradient, from its derivative program run with enough digits, reach the
    reference's? (A skipped point skipped the gradient too: a value right within rtol beside a
    wrong derivative hid behind a cancellation made on purpose.) None where it cannot be told."""
    names = [n for n in wrt if n in stud.inputs and n in want]
    if not names or len(stud.outputs) != 1:
        return None
    try:
        deriv = parse(derivative_program(stud, stud.bind(point)[1], names), limits=stud.limits)
    except GraphlangError:
        return None
    return exact_verdict(deriv, point, np.concatenate([np.ravel(np.asarray(want[n], dtype=np.float64))
                                                       for n in names]), rtol, atol)


EXTENDED = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant  # x86-64's 80 bits, aarch64's 128


def _extended(stud: Program, point: Mapping[str, Any], want: Any) -> tuple[np.ndarray | None, list[Any] | None]:
    """The submission's output in extended precision (np.longdouble: 11 more bits, exponents to
    ±4932) as the reference's value is laid out, and every slot's value there; (None, None) where it
    fails there too."""
    g = stud.graph
    try:
        with quiet_floats():
            vals = interp.forward(g, [np.asarray(v, dtype=np.longdouble) for v in stud.bind(point)[0]])
            got = _laid_out(g, vals, want)
    except (GraphlangError, ArithmeticError, ValueError):
        return None, None
    return (got, vals) if got is not None else (None, None)


def _laid_out(g: Any, vals: list[Any], want: Any) -> np.ndarray | None:
    """The outputs as float64, laid out as the reference's value (several: flattened, concatenated);
    None where the shape differs or a number is not finite in float64."""
    with quiet_floats():
        outs = [np.ravel(np.asarray(vals[g.slot_of[n]], dtype=np.float64)) for n in g.outputs]
    got = outs[0].reshape(np.shape(want)) if len(outs) == 1 and outs[0].size == np.size(want) else \
        np.concatenate(outs)
    return got if got.shape == np.shape(want) and np.all(np.isfinite(got)) else None


def only_float64(stud: Program, point: Mapping[str, Any], want: Any, float64: Any, rtol: float, atol: float,
                 failed: bool, gradient: Mapping[str, Any] | None = None, wrt: list[str] | None = None) -> bool:
    """As `_value_only`, and where it skips, the gradient (`gradient`, by `wrt`) must not be seen to be wrong."""
    if not _value_only(stud, point, want, float64, rtol, atol, failed):
        return False
    return gradient is None or exact_gradient_verdict(stud, point, gradient, wrt or [], rtol, atol) is not False


def _value_only(stud: Program, point: Mapping[str, Any], want: Any, float64: Any, rtol: float, atol: float,
                failed: bool) -> bool:
    """Is the submission's trouble at this far point float64's, not a wrong or undefined formula? Its
    value in extended precision, or else with 40, 340, then 1,200 digits (`exact_verdict`), must reach
    the reference's. A formula undefined or wrong here (0·sqrt(x − 0.5) added where abs(ln x) is
    wrong, or cancellation made on purpose beside a wrong term) fails. Only where the exact pass
    cannot tell (a program too large for it, or no value at any precision) the old rules judge: in
    extended precision the value comes ten times closer, or cancels away its digits there too, or
    fails as float64 does (`float64_limit`); without an extended type the failure is taken on trust."""
    got, vals = _extended(stud, point, want) if EXTENDED else (None, None)
    if got is not None and close_to(got, want, rtol, atol)[0]:
        return True
    verdict = exact_verdict(stud, point, want, rtol, atol)
    if verdict is not None:
        return verdict
    if not EXTENDED:
        return True
    if got is None:
        return failed and float64_limit(stud, point)
    if failed:  # float64 failed where extended precision gives a value: too few digits there too?
        return cancels(stud, point, rtol, vals, eps=float(np.finfo(np.longdouble).eps))
    with np.errstate(all="ignore"):
        w = np.asarray(want, dtype=np.float64)
        return bool(np.max(np.abs(got - w)) * 10 <= np.max(np.abs(np.asarray(float64, dtype=np.float64) - w)))
