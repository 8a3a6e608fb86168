"""The grader's own options, checked before anything is graded: a usage error, never a wrong grade.

An option outside its range would silently change every grade (`rtol=inf` credits any answer,
0 seeded points check nothing), so each is a finite number (an integer where it counts) in a
stated range; booleans and strings are not numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.grading.compare import Comparison
from graphlang.limits import Limits

MAX_POINTS = 1_000  # seeded points per submission: each evaluates both programs
CHECK_POINTS = 10  # seeded points a program is compared at, by default
MAX_TIMEOUT = 3_600.0  # seconds per submission
MAX_SCORE = 1e6  # points per item


def _usage(name: str, value: Any, want: str) -> GraphlangError:
    shown = repr(value) if not isinstance(value, str) else repr(value[:40])
    return GraphlangError("usage", f"{name} must be {want}, got {shown[:60]}")


def number(name: str, value: Any, low: float, high: float, *, open_low: bool = False,
           integer: bool = False) -> Any:
    """`value` as a float (or int) in [low, high] ((low, high] with `open_low`), or a usage error."""
    kinds = "an integer" if integer else "a number"
    want = f"{kinds} {'>' if open_low else '≥'} {low:g} and ≤ {high:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not _numpy_number(value):
        raise _usage(name, value, want)
    try:
        v = float(value)
    except OverflowError:
        raise _usage(name, value, want) from None
    if not math.isfinite(v) or v < low or v > high or (open_low and v == low):
        raise _usage(name, value, want)
    if integer:
        if not v.is_integer():
            raise _usage(name, value, want)
        return int(v)
    return v


def _numpy_number(value: Any) -> bool:
    import numpy as np
    return isinstance(value, (np.integer, np.floating))


def tolerance(name: str, rtol: Any, atol: Any) -> tuple[float, float]:
    """A relative tolerance below 1 (at 1, zero is credited for any expected value) and a finite
    absolute one."""
    return (number(f"{name} rtol", rtol, 0.0, 0.999999),
            number(f"{name} atol", atol, 0.0, 1e300))


def names(name: str, value: Any) -> list[str]:
    """A list of names: a lone string is one name (not its characters)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise _usage(name, value, "a list of names")
    return list(value)


def of_reference(option: str, given: Sequence[str], inputs: Sequence[str], nodes: Sequence[str]) -> None:
    """`fixed` names inputs of the reference, `required` its nodes: a misspelt one failed every
    submission, the reference's own included (an API red team's find): the course's mistake stops it."""
    pool = inputs if option == "fixed" else [*inputs, *nodes]
    for name in (n for n in given if n not in pool):
        raise GraphlangError("usage", f"{option}: {name!r} is not {'an input' if option == 'fixed' else 'a node'} "
                             "of the reference", hint=("inputs: " if option == "fixed" else "nodes: ")
                             + ", ".join(list(pool)[:30]))


def answers_options(points: Any, rtol: Any, atol: Any, tolerances: Any, ecf: Any,
                    quantities: Any, limits: Any, comparison: Any = None, comparisons: Any = None,
                    show_expected: Any = True) -> tuple[Any, float, float, dict[str, tuple[float, float]],
                                                        list[str] | None]:
    """`grade_answers`' options, checked."""
    check_comparisons(comparison, comparisons, show_expected)
    if isinstance(points, Mapping):
        points = {str(k): number(f"points[{k!r}]", v, 0.0, MAX_SCORE) for k, v in points.items()}
    else:
        points = number("points", points, 0.0, MAX_SCORE, open_low=True)
    rtol, atol = tolerance("the", rtol, atol)
    if tolerances is None:
        tolerances = {}
    if not isinstance(tolerances, Mapping):
        raise _usage("tolerances", tolerances, "a mapping from quantity to (rtol, atol)")
    checked = {}
    for k, pair in tolerances.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise _usage(f"tolerances[{k!r}]", pair, "a pair (rtol, atol)")
        checked[str(k)] = tolerance(f"tolerances[{k!r}]", *pair)
    ecf_credit(ecf)
    _limits(limits)
    return points, rtol, atol, checked, None if quantities is None else names("quantities", quantities)


def ecf_credit(ecf: Any) -> float:
    """The share of a step's points that error carried forward credits: true is all, false none, a
    number from 0 to 1 that share (0.5: a step right only from one's own wrong values earns half)."""
    if isinstance(ecf, bool):
        return float(ecf)
    return float(number("ecf", ecf, 0.0, 1.0))


def program_options(n_points: Any, seed: Any, rtol: Any, atol: Any, required: Any, points: Any,
                    limits: Any, show_expected: Any = True, max_score: Any = None, same_signs: Any = False,
                    weights: Any = None, fixed: Any = ()) -> tuple[int, int, float, float, list[str], float]:
    """`grade_program`' options, checked (`weights` by `check_weights`, which gives them as numbers;
    `fixed`, names, against the reference by the caller)."""
    names("fixed", fixed)
    for key, flag in (("show_expected", show_expected), ("same_signs", same_signs)):
        if not isinstance(flag, bool):
            raise _usage(key, flag, "True or False")
    if max_score is not None:
        number("max_score", max_score, 0.0, MAX_SCORE * 1000, open_low=True)
    n = number("n_points (--points: seeded points)", n_points, 1, MAX_POINTS, integer=True)
    s = number("seed", seed, 0, 2.0 ** 63, integer=True)
    rtol, atol = tolerance("the", rtol, atol)
    _limits(limits)
    required = names("required", required)
    check_weights(weights, required)
    return (n, s, rtol, atol, required,
            number("points", points, 0.0, MAX_SCORE, open_low=True))


WEIGHTED = ("parses", "inputs", "defines", "value", "derivatives")  # program checks, by kind


def check_weights(value: Any, required: Sequence[str] = (), has_inputs: bool = True) -> dict[str, float]:
    """`grade_program`'s `weights`: points per check of each kind, as multiples of `points` (1 each
    by default); not 0 for every check there is (`defines` is there when names are `required`,
    `derivatives` when the reference has inputs)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _usage("weights", value, "a mapping from " + ", ".join(WEIGHTED) + " to numbers")
    out = {}
    for key, w in value.items():
        if key not in WEIGHTED:
            raise GraphlangError("usage", f"weights: unknown check {key!r}", hint="the checks: " + ", ".join(WEIGHTED))
        out[key] = number(f"weights.{key}", w, 0.0, MAX_SCORE)
    present = [k for k in WEIGHTED if (k != "defines" or required) and (k != "derivatives" or has_inputs)]
    if all(out.get(k, 1.0) == 0 for k in present):
        raise GraphlangError("usage", f"weights: every check a submission gets ({', '.join(present)}) weighs 0, "
                             "so no submission could score",
                             hint="give one a positive weight (defines counts only with [program] required; "
                             "derivatives only when the reference has inputs)")
    return out


def check_comparisons(comparison: Any, per_quantity: Any, show_expected: Any) -> None:
    """The comparison options: `Comparison` objects (their constructor checks their numbers)."""
    if comparison is not None and not isinstance(comparison, Comparison):
        raise _usage("comparison", comparison, "a graphlang Comparison")
    if per_quantity is not None and (not isinstance(per_quantity, Mapping) or not all(
            isinstance(c, Comparison) for c in per_quantity.values())):
        raise _usage("comparisons", per_quantity, "a mapping from quantity to Comparison")
    if not isinstance(show_expected, bool):
        raise _usage("show_expected", show_expected, "True or False")


def batch_options(timeout: Any, memory_mb: Any) -> tuple[float, int]:
    return (number("the timeout (--timeout, seconds)", timeout, 0.0, MAX_TIMEOUT, open_low=True),
            number("the memory limit (MB)", memory_mb, 16, 1_048_576, integer=True))


def _limits(limits: Any) -> None:
    if limits is not None and not isinstance(limits, Limits):
        raise _usage("limits", limits, "a graphlang.Limits")


SUBMIT = ("either", "answers", "program")  # what an assignment takes: a by-hand one refuses programs


def submit_kind(value: Any) -> str:
    """An assignment's `submit`: "either" (the default), "answers" (worked by hand) or "program"."""
    if value not in SUBMIT:
        raise _usage("submit", value, "one of " + ", ".join(f'"{k}"' for k in SUBMIT))
    return str(value)


# a file that looks like the other kind says so; where an assignment takes one kind, the advice changes
LOOKS_LIKE = {"answers": ("; it looks like a .cg program: submit it as a .cg file",
                          "; it looks like a .cg program, and this assignment asks for answers worked by hand: "
                          "write the numbers in a .json file"),
              "program": ("This looks like a JSON answers file: submit it as a .json file.",
                          "This looks like a JSON answers file, and this assignment asks for a program: write "
                          "the computation as .cg statements.")}


def fitted(feedback: list[str], submit: str) -> list[str]:
    """A report's feedback with the other kind's advice fitted to what the assignment takes."""
    pair = LOOKS_LIKE.get(submit)
    return [line.replace(*pair) for line in feedback] if pair else feedback


def refused_kind(feedback: Any) -> bool:
    """Whether a report's feedback is a refusal of the kind of file (its items are the other kind's)."""
    return bool(feedback) and any(feedback[0] == wrong_kind(k, p)[0]  # type: ignore[index]
                                  for k, p in (("answers", True), ("program", False)))


def wrong_kind(submit: str, is_program: bool) -> tuple[str, str] | None:
    """Why a submission of the other kind is not graded (it scores 0 of the usual maximum), and
    the short form each item says, or None."""
    if submit == "answers" and is_program:
        return "answers worked by hand (.json) are asked: a program (.cg) is not graded", "a program was submitted"
    if submit == "program" and not is_program:
        return "a program (.cg) is asked: answers (.json) are not graded", "answers were submitted"
    return None
