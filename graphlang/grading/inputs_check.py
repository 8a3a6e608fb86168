"""A submitted program's inputs beside the reference's: the names, and the shapes it declares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphlang.grading.report import Item
from graphlang.primitives.shapes import show
from graphlang.program import Program

_SLIPS = {"e": " (e^x is exp(x): there is no constant e)", "T": " (a transpose is W.T: W^T raises W to the power T)"}


def inputs_item(ref: Program, stud: Program, points: float, first: Mapping[str, Any]) -> tuple[Item, list[str]]:
    """The "inputs" check, and the submission's extra inputs where they are all that is wrong (an
    extra input read by nothing is forgiven, graphlang.grading.points): missing ones, extra ones, and inputs
    declared with another shape than the reference's value at the first point (`c[2, 1]` for a
    vector c[2] passed "inputs", then every later check failed on the same shape error, an
    autograder red team's find)."""
    missing = [n for n in ref.inputs if n not in stud.graph.input_set]
    extra = [n for n in stud.inputs if n not in ref.graph.input_set]
    shaped = []
    for n in (n for n in ref.inputs if n in stud.graph.input_set and n in first):
        theirs = stud.checked.declared.get(n)
        if theirs is not None and tuple(theirs) != np.shape(first[n]):
            shaped.append(f"{n} is declared with shape {show(tuple(theirs))}, the reference's {n} has shape "
                          f"{show(np.shape(first[n]))}")
    item = Item("inputs", points, passed=not missing and not extra and not shaped, kind="inputs")
    item.score = points if item.passed else 0.0
    if not item.passed:
        item.message = "; ".join(
            ([f"missing input(s): {', '.join(missing)}"] if missing else []) +
            ([f"unexpected input(s) {', '.join(extra)}: is a name misspelled or never assigned?" + _SLIPS.get(
                next((n for n in extra if n in _SLIPS), ""), "")] if extra else []) + shaped)
    return item, extra if not missing and not shaped else []
