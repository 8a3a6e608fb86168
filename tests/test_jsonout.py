"""`--json` output is bounded (issue 13 item 8): past `max_json_numbers` a located limit error,
before any number is converted; within it, every number is printed."""

from __future__ import annotations

import numpy as np
import pytest

import graphlang
from graphlang.errors import GraphlangError
from graphlang.limits import Limits
from graphlang.present import jsonout


def _numbers(obj) -> int:
    """The oracle: numbers actually in a JSON object."""
    if isinstance(obj, dict):
        return sum(_numbers(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(_numbers(v) for v in obj)
    return int(isinstance(obj, float))


def test_result_json_counts_every_number(cli, write):
    prog = write("input x[4]\nu = x * 2\ny = sum(u)\n")
    full = cli("run", prog, "--at", "x=[1,2,3,4]", "--json")
    n = _numbers(full.json())
    assert n == 23  # value; values x, u, y; adjoints y, u, x; gradient x
    ran = cli("run", prog, "--at", "x=[1,2,3,4]", "--json", "--limit", f"max_json_numbers={n}")
    assert ran.code == 0 and ran.json() == full.json()
    assert ran.json()["gradient"]["x"] == [2.0, 2.0, 2.0, 2.0]
    over = cli("run", prog, "--at", "x=[1,2,3,4]", "--json", "--limit", f"max_json_numbers={n - 1}")
    assert over.code == 1
    assert over.json()["error"]["kind"] == "limit"
    assert "max_json_numbers" in over.json()["error"]["message"]


def test_huge_values_are_refused_before_conversion(monkeypatch):
    p = graphlang.parse("input x[2000000]\nu = x * 3\ny = sum(u)\n", limits=Limits.strict().with_(
        max_tensor_elements=10**7, max_total_elements=10**8, max_cost=10**9, max_memory=10**9))
    res = p.evaluate({"x": np.ones(2_000_000)})
    res.extra["program"] = p
    calls = []
    monkeypatch.setattr(jsonout, "plain", lambda v: calls.append(1))
    monkeypatch.setattr(type(res), "to_json", lambda self: calls.append(1))
    with pytest.raises(GraphlangError) as info:
        jsonout.result(res)  # 10⁷ numbers > 10⁶ would be ~0.5 GB of Python floats and text
    assert info.value.kind == "limit" and not calls
    p.limits = Limits().with_(max_json_numbers=10**7)
    jsonout.bounded(p.limits, [res.value, *res.values.values()])  # within: no error


def test_tangents_and_hessian_json_are_bounded(cli, write):
    prog = write("input x[30]\ny = sum(x * x)\n")
    at = "x=[" + ",".join(["1"] * 30) + "]"
    ok = cli("hessian", prog, "--at", at, "--json")
    assert ok.code == 0
    np.testing.assert_allclose(np.array(ok.json()["hessian"]["x"]["x"]), 2 * np.eye(30))
    assert cli("hessian", prog, "--at", at, "--json", "--limit", "max_json_numbers=899").code == 1
    # 61 numbers: the default direction x = [1, 0, …] (30), x's tangent (30) and y's
    assert cli("tangents", prog, "--at", at, "--json", "--limit", "max_json_numbers=60").code == 1
    assert cli("tangents", prog, "--at", at, "--json", "--limit", "max_json_numbers=61").code == 0
    t = cli("tangents", prog, "--at", at, "--json", "--direction", "x=1")
    assert t.code == 0 and t.json()["tangents"]["y"] == pytest.approx(60.0)


def test_terminal_unsafe_characters_are_escaped_in_json_and_the_data_is_unchanged():
    import json

    from graphlang.present.jsonout import dumps
    obj = {"submission": "evil\u202e.cg\u009b[2J", "note": "caf\u00e9 \u2202y/\u2202x"}
    text = dumps(obj)
    assert "\u202e" not in text and "\u009b" not in text
    assert "\u00e9" in text and "\u2202" in text  # ordinary non-ASCII stays readable
    assert json.loads(text) == obj


def test_json_too_large_is_refused_before_anything_is_computed(cli, write, monkeypatch):
    """A red team's find: `run --json` of a 3000×3000 outer product computed it (880 MB) and then
    refused its JSON. Refused from the shapes now: evaluate is never called."""
    import graphlang.program as P

    def never(*args, **kwargs):
        raise AssertionError("evaluated")

    monkeypatch.setattr(P.Program, "evaluate", never)
    prog = write("input u[40], v[40]\nM = outer(u, v)\ny = sum(M)\n")
    at = "u=[" + ",".join(["1"] * 40) + "],v=[" + ",".join(["1"] * 40) + "]"
    for command in (["run"], ["grad", "-m", "forward"]):
        res = cli(*command, prog, "--at", at, "--json", "--limit", "max_json_numbers=3000")
        assert res.code == 1 and res.json()["error"]["kind"] == "limit", res.err
