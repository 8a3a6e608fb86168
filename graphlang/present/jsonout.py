"""Every command's JSON, built here and nowhere else (SPEC §3: one object, finite numbers, fixed order)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError, located
from graphlang.language.ast import names
from graphlang.limits import Limits
from graphlang.numbers import plain
from graphlang.symbolic.printing import to_latex, to_text
from graphlang.symbolic.texnames import tensor_names, tensors_in

# Characters a terminal or a browser would act on (C1 controls such as CSI, bidirectional overrides):
# written as \u escapes, so the JSON means the same and cannot reorder or recolour what follows it.
_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def dumps(obj: Any) -> str:
    """JSON with finite numbers only and a fixed key order; terminal-unsafe characters escaped."""
    text = json.dumps(obj, allow_nan=False, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def bounded(limits: Limits | None, values: Iterable[Any]) -> None:
    """Refuse (a `limit` error) before converting more than `max_json_numbers` numbers to JSON:
    each costs a Python float and about twenty characters of text."""
    cap = (limits or Limits()).max_json_numbers
    count = 0
    for v in values:
        count += 1 if type(v) is float else int(np.size(v))
        if count > cap:
            raise GraphlangError("limit", f"the JSON output would hold more than {cap:,} numbers "
                                 "(max_json_numbers)", hint="omit --json for tables with long tensors "
                                 "elided, use smaller tensors, or raise the limit with --limit "
                                 "max_json_numbers=N")


def bounded_before(program: Any, values: Any) -> None:
    """`bounded` from the shapes alone, before anything is computed: every value, and with a scalar
    output its adjoint (a 3000×3000 outer product was computed, 880 MB, before its JSON was refused).
    A lower bound of what is printed: it refuses nothing the full count would pass."""
    _, shapes = program.bind(values)
    named = sum(math.prod(shapes[slot]) for slot in program.graph.slot_of.values())
    total = named * (2 if program.is_scalar(shapes) else 1)
    bounded(program.limits, [np.broadcast_to(0.0, (total,))])  # (a view: no memory)


def result(res: Any, method: bool = False) -> dict[str, Any]:
    """`run --json` (and, with `method`, `grad --json`: the method and fd's ε added)."""
    program = res.extra.get("program")
    bounded(getattr(program, "limits", None), [res.value, *res.values.values(),
                                               *(res.adjoints or {}).values(), *(res.gradient or {}).values(),
                                               *(res.jacobian or {}).values()])
    obj = res.to_json()
    if method:
        obj["method"] = res.method
        if res.method == "fd":
            obj["epsilon"] = res.epsilon
            if res.epsilon is not None:  # the step each input took: ε·max(1, |x|) by default, else --epsilon's ε
                wrt = res.gradient if res.gradient is not None else res.jacobian or {}
                scaled = bool(res.extra.get("scaled"))  # (the same keys whatever the options: a fuzzer's find)
                obj["steps"] = {n: plain(res.epsilon * np.maximum(1.0, np.abs(x) * scaled)) for n in wrt
                                if n in res.values for x in [np.asarray(res.values[n], dtype=float)]}
    return obj


def tangents(seed: dict[str, Any], tans: dict[str, Any], limits: Limits | None = None) -> dict[str, Any]:
    bounded(limits, [*seed.values(), *tans.values()])
    return {"direction": {k: plain(v) for k, v in seed.items()},  # ("method": as `grad --json` says it)
            "tangents": {k: None if v is None else plain(v) for k, v in tans.items()}, "method": "forward"}


def hessian(h: dict[str, dict[str, Any]], limits: Limits | None = None) -> dict[str, Any]:
    bounded(limits, [v for row in h.values() for v in row.values()])
    return {"hessian": {a: {b: plain(v) for b, v in row.items()} for a, row in h.items()}}


def sweep(rows: list[Any], best_forward: float | None, best_central: float | None) -> dict[str, Any]:
    return {"sweep": [r.__dict__ for r in rows], "best": {"forward": best_forward, "central": best_central}}


def gradcheck(passed: bool, checks: list[Any], kinks: Any = (), conventions: Any = (),
              lost: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"passed": passed, "rows": [
        {"input": r.input, "method": r.method, "value": None if r.value is None else plain(r.value),
         "abs_error": r.abs_error, "rel_error": r.rel_error, "passed": r.passed,
         **({"note": r.note} if r.note else {})} for r in checks]}
    if kinks:  # the point is not differentiable: the one-sided derivatives per coordinate
        out["kinks"] = [{"input": k.input, "index": list(k.index), "left": k.left, "right": k.right}
                        for k in kinks]
    if conventions:  # a function on its corner (max at a tie) where the whole may be smooth
        out["corners"] = list(conventions)
    if lost:  # the float64 formula cancels its digits: the derivative to 40 digits, per input
        out["exact"] = dict(lost)
    return out


def training(history: list[Any], params: dict[str, Any], max_elements: int = 10_000,
             kept: int | None = None) -> dict[str, Any]:
    """The epochs, the final state — that of the parameters kept: epoch `kept` when training stopped
    early (its last epoch's said a model that was not saved) — and the parameters when small enough."""
    small = sum(v.size for v in params.values()) <= max_elements
    final = next((st for st in history if st.epoch == kept), history[-1]) if kept is not None else history[-1]
    return {"epochs": [st.__dict__ for st in history], "final": final.__dict__,
            "params": {k: plain(v) for k, v in params.items()} if small else None}


def predictions(preds: Any, loss: Any, accuracy: Any, confusion: Any = None) -> dict[str, Any]:
    out = {"predictions": plain(preds), "loss": loss, "accuracy": accuracy}
    if confusion is not None:  # [true class][predicted class] counts (labeled data)
        out["confusion"] = [[int(c) for c in row] for row in confusion]  # counts: integers
    return out


def error(err: Any) -> dict[str, Any]:
    return {"error": err.to_json()}


def located_error(err: Any, path: str | None, source: str | None) -> dict[str, Any]:
    """The CLI's located message in pieces (`FILE:LINE:COL`, message, source line, caret, hint) and
    as the text the CLI prints, for a front end that underlines the error itself."""
    loc = located(err, path, source)
    return {**err.to_json(), "where": loc.where, "source_line": loc.source_line, "caret": loc.caret,
            "hint": loc.hint, "text": loc.text()}


def declared_shapes(program: Any) -> dict[str, Any] | None:
    """Every name's shape from the inputs' declarations (None unless every input is declared):
    without values, `sum(A, 1)` of a stack must not be drawn as a matrix's `A 1`."""
    g = program.graph
    given = [program.checked.declared.get(n) for n in g.inputs]
    if any(s is None for s in given):
        return None
    try:
        shapes = g.shapes(tuple(s for s in given if s is not None))
    except Exception:  # noqa: BLE001 - declarations that do not fit: drawn as before, without shapes
        return None
    return {n: shapes[g.slot_of[n]] for n in program.names}



def declared_tensors(program: Any) -> list[str]:
    """The inputs declared with an axis (`input alpha1[2, 2]`: bold in LaTeX), where not every input
    is declared and no other name's shape is known (it was written as a number: `\\alpha_{1}`)."""
    return [n for n, shape in program.checked.declared.items() if shape]


def graph(program: Any) -> dict[str, Any]:
    """The computation graph's structure: each node (input, param or what it computes, knowing the
    declared shapes: `x @ A` of a vector is Aᵀx), the named nodes it reads, and the edges
    operand -> consumer in statement order (each once)."""
    g = program.graph
    shapes = declared_shapes(program)
    nodes: list[dict[str, Any]] = []
    edges: list[list[str]] = []
    for name in g.inputs:
        nodes.append({"name": name, "kind": "param" if name in g.params else "input", "computes": None,
                      "reads": []})
    for st in g.statements:
        reads = names(st.expr) if st.expr is not None else []
        nodes.append({"name": st.name, "kind": "op", "computes": to_text(st.expr, "math", shapes=shapes)
                      if st.expr is not None else None, "reads": reads})
        edges.extend([r, st.name] for r in reads)
    return {"nodes": nodes, "edges": edges, "outputs": list(g.outputs)}


def derivative_program(text: str) -> dict[str, Any]:
    return {"program": text}


def closed_forms(output: str, forms: dict[str, Any], shapes: dict[str, Any] | None = None,
                 at_point: dict[str, Any] | None = None, limits: Limits | None = None) -> dict[str, Any]:
    """The forms, text and LaTeX; with --at, `values`: each derivative's value at the point."""
    with tensor_names(tensors_in(shapes)):
        out = {"output": output, "derivatives": {n: to_text(e) for n, e in forms.items()},
               "latex": {n: to_latex(e, shapes, "e" in (shapes or ())) for n, e in forms.items()}}
    if at_point:
        bounded(limits, list(at_point.values()))
        out["values"] = {n: plain(v) for n, v in at_point.items()}
    return out


def explain(lines: list[Any], limits: Limits | None = None) -> dict[str, Any]:
    """Each line, its result in full as `value` (the forms round it; null where it does not exist, and
    on notes); a vector output's backward passes say whose they are (`"of": "y[0]"`)."""
    bounded(limits, [ln.value for ln in lines if ln.value is not None])
    return {"steps": [{"phase": ln.phase, "node": ln.node, "forms": ln.forms, "latex": ln.latex,
                       "value": None if ln.value is None else plain(ln.value),
                       **({"of": ln.of} if ln.of is not None else {})} for ln in lines]}
