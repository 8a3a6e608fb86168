"""Values of a growing program: one more chunk evaluated from the values so far (the REPL).

`Values` keeps every name's value at some input values, with the numbers held and the predicted
cost counted as the whole graph would count them. `extend` evaluates only a new chunk's equations
(its own small graph, whose inputs are the earlier names and inputs it reads), so a session of n
statements costs O(n), not O(n²). It raises a GraphlangError on anything unusual (an input value,
a shape, a domain, a session-wide limit): the caller then evaluates the whole program, which
reports the same error the way `Program.forward` does, and calls `whole`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.ir.bind import bind
from graphlang.ir.graph import Graph
from graphlang.language.resolve import Checked
from graphlang.limits import Limits
from graphlang.primitives.shapes import Shape


def key(at: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """What the values were computed at: the objects themselves (`:at` makes new ones), held so that
    a new one cannot take a freed one's address (keyed by `id`, `:at x=` then `:at x=1` reused the
    vector's address and the REPL printed values from x = [1, 2] at x = 1)."""
    return list(at.items())


def _same(a: list[tuple[str, Any]], b: list[tuple[str, Any]]) -> bool:
    return len(a) == len(b) and all(k == j and v is w for (k, v), (j, w) in zip(a, b))


class Values:
    def __init__(self) -> None:
        self.known: dict[str, Any] | None = None  # every name's value, or None: unknown
        self.at: list[tuple[str, Any]] = []
        self.held = 0  # numbers held by the whole graph (inputs and equations)
        self.cost = 0  # its predicted cost

    def usable(self, at: Mapping[str, Any]) -> bool:
        return self.known is not None and _same(self.at, key(at))

    def whole(self, graph: Graph, arrays: list[Any], shapes: list[Shape], at: Mapping[str, Any]) -> dict[str, Any]:
        """The whole program's forward pass (arrays bound and shapes checked by `Program.bind`)."""
        slots = interp.forward(graph, arrays)
        self.known = {n: slots[graph.slot_of[n]] for n in graph.names}
        self.at = key(at)
        n_in = len(graph.inputs)
        self.held = sum(math.prod(s) for s in shapes[:n_in]) + sum(math.prod(shapes[e.out]) for e in graph.eqns)
        self.cost = graph.costs.get(tuple(shapes[:n_in]), 0)
        return self.known

    def extend(self, checked: Checked, inputs: list[str], declared: Mapping[str, Shape | None],
               positions: Mapping[str, tuple[int, int]], at: Mapping[str, Any], limits: Limits,
               ) -> dict[str, Any]:
        """Every name's value after one more chunk (`checked`: the chunk alone; `inputs`: the
        session's). Only the chunk's equations run."""
        known = self.known
        assert known is not None
        g = Graph(checked, limits)
        arrays = bind(g.inputs, declared, {}, positions, {n: known.get(n, at.get(n)) for n in g.inputs}, limits)
        fresh = [n for n in inputs if n not in known and n not in g.slot_of]  # declared, not yet read
        extra = bind(fresh, declared, {}, positions, {n: at[n] for n in fresh}, limits)
        shapes = g.shapes(tuple(a.shape for a in arrays))
        slots = interp.forward(g, arrays)
        held = self.held + sum(math.prod(a.shape) for n, a in zip(g.inputs, arrays) if n not in known)
        held += sum(math.prod(a.shape) for a in extra) + sum(math.prod(shapes[e.out]) for e in g.eqns)
        cost = self.cost + g.costs.get(tuple(a.shape for a in arrays), 0)
        if held > limits.max_total_elements or cost > limits.max_cost:
            raise GraphlangError("limit", "over a limit of the whole program")  # located by the whole
        known.update(zip(fresh, extra))
        known.update((n, slots[g.slot_of[n]]) for n in g.names)
        self.held, self.cost = held, cost
        return known
