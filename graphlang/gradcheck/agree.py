"""Do the four methods agree? Each input's derivative by forward mode, symbolic differentiation and
central differences against reverse mode, with each method's tolerance, and why they disagree where
they do (a kink, a corner, fd's step, a formula that cancels its digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphlang import methods
from graphlang.engines import exact
from graphlang.errors import GraphlangError
from graphlang.gradcheck.epsilon import EPSILONS, SweepRow, best, sweep
from graphlang.gradcheck.measure import FLOAT_MAX, capped, mixed_error
from graphlang.ir import cost
from graphlang.methods import batch_numbers, corners
from graphlang.methods.corners import Kink
from graphlang.numbers import quiet_floats
from graphlang.program import Program, parse
from graphlang.symbolic.derivative import derivative_program

__all__ = ["EPSILONS", "TOLERANCES", "Row", "SweepRow", "best", "digits_lost", "exact_derivatives", "fd_caution",
           "gradcheck", "kinks", "mixed_error", "sweep"]

# method -> (rtol, atol) against reverse mode
TOLERANCES = {"forward": (1e-8, 1e-10), "symbolic": (1e-7, 1e-9), "fd": (1e-5, 1e-6)}


@dataclass
class Row:
    input: str
    method: str
    value: Any  # None: the method could not be applied at this point (`note` says why)
    abs_error: float
    rel_error: float
    passed: bool
    note: str = ""


def gradcheck(program: Program, values: dict[str, Any], epsilon: float | None = None,
              wrt: list[str] | None = None) -> list[Row]:
    """Each method's gradient beside reverse mode's (by `wrt`'s inputs, or all), with errors and a
    pass/fail per method."""
    _, shapes = program.bind(values)
    names = program._wrt(wrt)  # (an unknown --wrt said as such; priced before any pass runs)
    cost.check(program.limits, cost.gradcheck(program.graph, shapes, batch_numbers(program.limits), names))
    ref = program.gradient(values, method="reverse", wrt=wrt)
    rows = [Row(n, "reverse", v, 0.0, 0.0, True) for n, v in ref.items()]
    for method, (rtol, atol) in TOLERANCES.items():
        try:
            got = program.gradient(values, method=method, epsilon=epsilon if method == "fd" else None, wrt=wrt)
        except GraphlangError as err:
            if method != "fd" or err.kind != "domain":
                raise
            # the point is inside the domain, a step of central differences is not: the exact
            # methods are still compared, and fd is shown as not applicable (not as a failure)
            # for the inputs whose steps leave the domain, computed for the others
            got = {}
            for n in ref:
                try:
                    got[n] = program.gradient(values, method=method, epsilon=epsilon, wrt=[n])[n]
                except GraphlangError as one:
                    if one.kind != "domain":
                        raise
                    retry = _smaller_steps(program, values, n, ref[n], rtol, atol) if epsilon is None else None
                    rows.append(retry or Row(n, method, None, 0.0, 0.0, True, one.message))
        for n, want in ref.items():
            if n not in got:
                continue
            row = _row(n, method, got[n], want, rtol, atol)
            if method == "fd" and not row.passed and epsilon is None:
                row = _smaller_steps(program, values, n, want, rtol, atol, got[n]) or row
            rows.append(row)
    order = {n: i for i, n in enumerate(ref)}
    rows.sort(key=lambda r: (order[r.input], list(("reverse", *TOLERANCES)).index(r.method)))
    return rows


EXACT_DIGITS, EXACT_MOST = 40, 20_000  # the exact derivative's precision, and the numbers it may make


def digits_lost(program: Program, values: dict[str, Any], rows: list[Row]) -> dict[str, float]:
    """Where the exact methods disagree with central differences and the program has no corner: the
    derivative to 40 digits (its derivative program run in decimal arithmetic) for each input whose
    reverse-mode number is off it by more than fd's tolerance: the float64 formula cancels digits
    ((1 - cos x)/x² at x = 1e-4: reverse, forward and symbolic mode all +4.4e-5, the true −8.3e-6,
    and gradcheck blamed central differences; a student's find). {} where it cannot be told."""
    if all(r.passed or r.method != "fd" for r in rows):
        return {}
    exact = exact_derivatives(program, values)  # {} for a tensor or a vector output (whose rows' values
    ref = {r.input: float(r.value) for r in rows if r.method == "reverse"} if exact else {}  # are arrays:
    rtol, atol = TOLERANCES["fd"]  # float() of one crashed gradcheck, a SPEC red team's find)
    return {name: true for name, true in exact.items() if abs(ref[name] - true) > atol + rtol * abs(true)}


def exact_derivatives(program: Program, values: dict[str, Any]) -> dict[str, float]:
    """The derivative by each scalar input to 40 digits (the derivative program run in decimal
    arithmetic; finite ones only); {} where it cannot be told (a tensor, a large program)."""
    arrays, shapes = program.bind(values)
    if not program.is_scalar(shapes) or any(s != () for s in shapes[: len(arrays)]) or \
            program.graph.n_eqns > EXACT_MOST // 10:
        return {}
    try:
        deriv = parse(derivative_program(program, shapes, None), limits=program.limits)
        outs = exact.forward(deriv.graph, deriv.bind(values)[0], EXACT_DIGITS, EXACT_MOST)
    except (GraphlangError, exact.Unsupported, exact.Overflowed, exact.Undefined):
        return {}
    found = {n: float(outs[deriv.graph.slot_of[out]]) for n, out in zip(program.graph.inputs, deriv.graph.outputs)}
    return {name: true for name, true in found.items() if np.isfinite(true)}



def _row(n: str, method: str, got: Any, want: Any, rtol: float, atol: float, note: str = "") -> Row:
    with quiet_floats():  # errors past float64's range are shown as its maximum
        diff = np.abs(np.asarray(got, dtype=float) - np.asarray(want, dtype=float))
        abs_err = capped(np.max(diff)) if diff.size else 0.0
        ok = bool(np.all(_agrees(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol, atol))) \
            and abs_err < FLOAT_MAX
        rel_err = capped(mixed_error(got, want))
    return Row(n, method, got, abs_err, rel_err, ok, note)


def _smaller_steps(program: Program, values: dict[str, Any], n: str, want: Any, rtol: float,
                   atol: float, first: Any = None) -> Row | None:
    """fd again with each default step ∛eps·max(1, |x|) made 10², 10⁴, 10⁶ times smaller, where it is
    coarse beside the point's own scale (ln at x = 1e-5: 16 % off; a pole or a corner within the step;
    a step leaving the domain); element by element (x = [0.001, 1] in x⁻²: the default step is too
    coarse for the first, 1/100 of it too fine for the second), each element from the first step at
    which it agrees (`first`: the default step's); a row when every element agrees, with a note."""
    arrays, _ = program.bind(values)
    want_a = np.asarray(want, dtype=float)
    chosen = np.full(want_a.shape, np.nan) if first is None else np.asarray(first, dtype=float).copy()
    done = np.zeros(want_a.shape, dtype=bool) if first is None else _agrees(chosen, want_a, rtol, atol)
    used: list[int] = []
    for power in (2, 4, 6):
        try:
            got = np.asarray(methods.fd_columns(program, arrays, [n], None, 10.0 ** -power)[n], dtype=float)
        except GraphlangError:
            continue
        got = got.reshape(want_a.shape)
        new = _agrees(got, want_a, rtol, atol) & ~done
        if np.any(new):
            chosen, done = np.where(new, got, chosen), done | new
            used.append(power)
        if np.all(done):
            steps = " and ".join(f"10^-{p}" for p in used)
            some = "" if first is None or not np.any(_agrees(np.asarray(first, dtype=float), want_a, rtol, atol)) \
                else "some elements "
            return _row(n, "fd", chosen.reshape(np.shape(want)), want, rtol, atol,
                        f"{some}with steps {steps} × the default ∛eps·max(1, |{n}|): the default step is too "
                        f"coarse at this point (a small {n}, or a pole, a corner or the domain's edge within the step)")
    return None


def _agrees(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    with quiet_floats():
        return np.asarray(np.abs(got - want) <= atol + rtol * np.abs(want))


def on_corners(program: Program, values: dict[str, Any]) -> list[str]:
    """The functions sitting on their corner at this point (`max at a tie (line 1)`)."""
    return corners.sitting(program.graph, program.bind(values)[0])


def kinks(program: Program, values: dict[str, Any], limit: int = 10_000) -> list[Kink]:
    """The coordinates where the output's one-sided derivatives differ (scalar outputs)."""
    arrays, shapes = program.bind(values)
    return corners.kinks(program.graph, arrays, limit) if program.is_scalar(shapes) else []


def corners_of(program: Program, values: dict[str, Any], inputs: list[str]) -> list[Kink]:
    """`kinks` in these inputs, none where a step of the probe meets a pole (1/x at x = 1e-6)."""
    try:
        return [k for k in kinks(program, values) if k.input in inputs]
    except GraphlangError:
        return []


def _fd_number(got: dict[str, Any]) -> str:
    """fd's gradient in a few words: its one number, or "a number per input"."""
    one = [np.asarray(v) for v in got.values()]
    return f"{one[0].item():.6g}" if len(one) == 1 and one[0].size == 1 else "numbers"


def _swamped(x: np.ndarray, result: Any) -> bool:
    """A nonzero coordinate the fd step (ε·max(1, |x|), or --epsilon's ε) leaves no trace of."""
    h = result.epsilon * (np.maximum(1.0, np.abs(x)) if result.extra.get("scaled") else 1.0)
    return bool(np.any((x != 0) & (x + h == h)))


def fd_caution(program: Program, values: dict[str, Any], result: Any, refuse: bool = False) -> str | None:
    """Why `grad -m fd` is off from the exact derivative (a corner, a cancellation, ε too large or too
    small), said beside the number; None where it agrees. `refuse`: where every exact method finds the
    derivative past float64, their located error (`grad -m fd` of 1/x at 1e-160 printed 2.7e10)."""
    got = result.gradient if result.gradient is not None else result.jacobian
    if result.method != "fd" or not got:
        return None
    try:  # (a Jacobian by the mode of fewer passes, as `jacobian()` picks it)
        want = program.evaluate(values, wrt=list(got)).gradient if result.gradient is not None else \
            program.jacobian(values, wrt=list(got))
    except GraphlangError as err:  # no exact derivative here: fd's finite number is not one (x^-2 at 1e-103 gave 0)
        if err.kind != "domain":  # (past a budget, say: nothing to compare, nothing to say)
            return None
        why = err.message.split(", in the statement")[0]
        if refuse and "overflows" in err.message:  # (a corner, sqrt(x·x) at 0: fd's 0 stays, with the note)
            raise GraphlangError(err.kind, err.message, err.line, err.column, (
                f"central differences give {_fd_number(got)} here, a difference quotient across the point that "
                "no exact method confirms in float64; " + (err.hint or "try another point")
            )) from None
        return (f"the exact methods give no derivative here ({why}, line {err.line}): central differences' "
                "number is not the derivative")
    assert want is not None
    rtol, atol = TOLERANCES["fd"]
    off = [n for n in got if not _row(n, "fd", got[n], want[n], rtol, atol).passed]
    sitting = on_corners(program, values)  # (a vector output too: relu(v) at v = [0, 1])
    scalar = result.gradient is not None
    ks = corners_of(program, values, off or list(got)) if scalar and (off or sitting) else []
    said = "" if not ks else (
        f"not differentiable here in {', '.join(k.where for k in ks[:4])}{' and more' if len(ks) > 4 else ''}: "
        f"the one-sided derivatives differ ({f'in {ks[0].where}: ' if len(ks) > 1 else ''}from the left "
        f"{ks[0].left:.6g}, from the right {ks[0].right:.6g}); central differences average the two sides")
    if not off:  # (abs(x) at 0: fd's average of -1 and 1 is abs'(0) = 0, and still no derivative)
        return f"{said}, here the exact methods' convention, not a derivative; check a nearby point" if ks else None
    if ks:
        return f"{said}, the exact methods use the rule's value at the corner"
    if sitting:
        return (f"at a corner ({', '.join(sitting)}): the exact methods take each function's convention there "
                "(relu'(0) = 0, abs'(0) = 0, a tie goes to the first argument), central differences the "
                "slope of the whole function")
    true = exact_derivatives(program, values) if result.gradient is not None else {}
    for n in (n for n in off if n in true and not _row(n, "fd", want[n], true[n], rtol, atol).passed):
        fd_right = _row(n, "fd", got[n], true[n], rtol, atol).passed  # (x + (x − x)/1e-21: 1 + 1e21 − 1e21 is 0)
        return (f"∂/∂{n} to 40 digits is {true[n]:.6g}: reverse mode's {float(np.asarray(want[n])):.6g} loses its "
                "digits to cancellation in the program's float64 formula at this point" + (
                    ", central differences' number does not" if fd_right else ", and central differences' number "
                    "too: write the formula in a stable form") + " (`graphlang gradcheck` shows each method's)")
    each = []
    for n in off[:4]:  # each input's own error, and its exact derivative where it is one number
        exact_n = f" (exact {np.asarray(want[n]).item():.6g})" if np.size(want[n]) == 1 else ""
        each.append(f"{100 * mixed_error(got[n], want[n]):.3g} % in {n}{exact_n}")
    more = f" and {len(off) - 4} more" if len(off) > 4 else ""
    size = float(np.max(np.abs(np.asarray(result.value, dtype=float)), initial=1.0))  # (y = x + 1e17: the step is lost)
    worst = max(float(np.max(np.abs(np.asarray(got[n], dtype=float) - np.asarray(want[n], dtype=float)))) for n in off)
    small = result.epsilon is not None and (not result.extra.get("scaled") and result.epsilon < 6e-6 or
                                            2.2e-16 * size / result.epsilon >= 0.5 * worst)
    lost = [n for n in off if _swamped(np.asarray(result.values[n], dtype=float), result)]  # (1e-100 + ε == ε:
    why = (f"too large here: {lost[0]} itself is lost when the step is added ({lost[0]} + ε == ε, so f is "  # a SPEC
           f"compared at ±ε, not near {lost[0]}); give --epsilon below |{lost[0]}|" if lost else  # red team's find)
           f"too small here: rounding error rules (the output, about {size:.3g}, changes too little over the step "
           "for float64 to keep the change; a larger ε helps: `graphlang gradcheck --sweep` shows the trade-off)"
           if small else
           "too large here: truncation error (the function curves, or has a pole, within the step) (a smaller "
           "ε helps: `graphlang gradcheck` tries smaller steps, `--sweep` shows the trade-off)")
    return f"central differences are off from the exact derivative by {', '.join(each)}{more}: the step ε is {why}"
