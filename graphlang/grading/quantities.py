"""What is asked of a student: an answer's key as a quantity of the program (`a`, `g_a`, `da/dx`),
and the quantities asked by default."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphlang.engines import interpreter as interp
from graphlang.grading import tangents
from graphlang.grading.answerform import as_numbers, unanswered
from graphlang.language.ast import names
from graphlang.program import Program

_ADJ = re.compile(r"^(?:g_|d(?P<out>\w+)/d|∂(?P<out2>\w+)/∂)(?P<name>\w+)$")


def canonical(key: str, program: Program, prefix: str) -> str | None:
    """An answer's key as `a` (a value), `g_a` (an adjoint) or `da/dx` (a tangent); None if it names nothing."""
    key = "".join(key.split())  # (`dy / dx`: names never hold a space)
    names = program.graph.slot_of  # (every named node: a dict, not a set made per key, O(N) each)
    if key in names:
        return key
    m = _ADJ.match(key)
    if m:
        out = m.group("out") or m.group("out2")
        several = out is not None and len(program.outputs) > 1  # dy1/dx: a tangent (no one output's adjoint)
        if (out is None or out in program.outputs) and m.group("name") in names and not several:
            return prefix + m.group("name")
    return tangents.tangent_key(key, program)


def default_quantities(prog: Program, scalar: bool, missing: Sequence[str] = ()) -> list[str]:
    """What a student answers unless told otherwise (`check --template`): every node's value, then
    (for a scalar output) every adjoint backwards (but the `missing` ones, which do not exist at
    the point) and the gradient."""
    names = node_values(prog)
    if not scalar:
        return names
    return names + node_adjoints(prog, names, missing) + [f"d{prog.outputs[0]}/d{n}" for n in prog.inputs]


def node_values(prog: Program) -> list[str]:
    """The nodes whose values are asked: all but the inputs and a named literal (`k = 2`, `A = [[1,
    2], [3, 4]]`: its value is in the question, a free point; a TA's find)."""
    return [n for n in prog.names if n not in prog.graph.input_set and not is_literal(prog, n)]


def is_literal(prog: Program, n: str) -> bool:
    """A node assigned a literal (`k = 2`, `A = [[1, 2], [3, 4]]`): its value is in the question."""
    st = prog.graph.statement(n)
    return st is not None and st.expr is not None and not names(st.expr)


def node_adjoints(prog: Program, values: Sequence[str], missing: Sequence[str] = ()) -> list[str]:
    """Their adjoints, backwards: of the nodes the output reads and an input moves (no g_k of a
    constant: backprop to the inputs never needs it), but the `missing` ones (none at the point)."""
    moved, read = interp.depends_on_inputs(prog.graph), reaching(prog)
    return [f"g_{n}" for n in reversed(values) if n not in missing and n in read and moved[prog.graph.slot_of[n]]]


def reaching(prog: Program) -> set[str]:
    """The names the output reads: an adjoint elsewhere is 0 by construction, no question to ask (p =
    sigmoid(u) beside a loss written on u: a student writing -1/p lost a point on a trap)."""
    g = prog.graph
    needed = g.read_by([g.slot_of[o] for o in prog.outputs])
    return {n for n, slot in g.slot_of.items() if needed[slot]}


def answered(answers: Mapping[str, Any], prog: Program, prefix: str
             ) -> tuple[dict[str, Any], dict[str, str], dict[str, list[Any]], list[str]]:
    """Each quantity's answer (under any of its names: `g_a`, `dy/da`), the quantities answered twice
    with different values (why, and the other values), and the keys that name no quantity."""
    given: dict[str, Any] = {}
    keys: dict[str, str] = {}  # canonical quantity -> the first key that answered it
    others: dict[str, list[Any]] = {}  # the other answers to a quantity answered more than once
    twice: dict[str, str] = {}  # quantities answered under two names with different values
    unknown = []
    for key, value in answers.items():
        if value is None or unanswered(value):  # the template's null (or list of nulls), left as it is: unanswered
            continue
        canon = canonical(str(key), prog, prefix)
        if canon is None:
            unknown.append(str(key))
        elif canon in given and not _same(given[canon], value):
            twice[canon] = f"answered twice with different values (as {keys[canon]!r} and {str(key)!r})"
            others.setdefault(canon, []).append(value)
        else:
            given.setdefault(canon, value)
            keys.setdefault(canon, str(key))
    for key, values in getattr(answers, "repeated", {}).items():  # a key a JSON file gives twice
        canon = canonical(str(key), prog, prefix)
        for value in values:
            if value is None or unanswered(value):  # (the template's null left above a filled copy: no answer twice)
                continue
            if canon is not None and canon not in given:
                given[canon], keys[canon] = value, str(key)
            elif canon is not None and not _same(given[canon], value):
                twice[canon] = f"answered twice with different values ({str(key)!r} twice in the file)"
                others.setdefault(canon, []).append(value)
    return given, twice, others, unknown


def _same(a: Any, b: Any) -> bool:
    """Two answers to one quantity that agree (the same number or list, however written)."""
    x, y = as_numbers(a), as_numbers(b)
    if x is None or y is None:
        return type(a) is type(b) and repr(a) == repr(b)
    return x.shape == y.shape and bool(np.array_equal(x, y))
