"""The contract's conformance cases (values from an independent engine), via CLI and API."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import conformance_cases, run_cli

import graphlang

CASES = conformance_cases()
OK = [c for c in CASES if c["kind"] != "error"]
ERR = [c for c in CASES if c["kind"] == "error"]


def at_arg(at: dict) -> str:
    return ",".join(f"{k}={json.dumps(v).replace(' ', '')}" for k, v in at.items())


def close(got, want, rtol, atol):
    return np.allclose(np.asarray(got, float), np.asarray(want, float), rtol=rtol, atol=atol) and \
        np.shape(got) == np.shape(want)


@pytest.mark.parametrize("case", OK, ids=[c["name"] for c in OK])
def test_run_json_matches_oracle(case, write):
    path = write(case["program"])
    ran = run_cli("run", path, "--json", *(["--at", at_arg(case["at"])] if case["at"] else []))
    assert ran.code == 0, ran.err
    got = ran.json()
    e = case["expect"]
    assert got["output"] == e["output"]
    assert close(got["value"], e["value"], 1e-8, 1e-10)
    key = "gradient" if "gradient" in e else "jacobian"
    assert set(got[key]) == set(e[key])
    for k, v in e[key].items():
        assert close(got[key][k], v, 1e-8, 1e-10), k
    for section in ("values", "adjoints"):
        for k, v in e.get(section, {}).items():
            assert close(got[section][k], v, 1e-8, 1e-10), (section, k)


TOL = {"reverse": (1e-8, 1e-10), "forward": (1e-8, 1e-10), "symbolic": (1e-7, 1e-9), "fd": (1e-5, 1e-6)}


@pytest.mark.parametrize("method", list(TOL))
@pytest.mark.parametrize("case", OK, ids=[c["name"] for c in OK])
def test_every_method_matches_oracle(case, method):
    g = graphlang.parse(case["program"])
    at = case["at"]
    got = g.gradient(at, method=method)
    e = case["expect"]
    want = e.get("gradient") or e["jacobian"]
    rtol, atol = TOL[method]
    for k, v in want.items():
        assert close(got[k], v, rtol, atol), (method, k, got[k], v)


@pytest.mark.parametrize("case", ERR, ids=[c["name"] for c in ERR])
def test_errors_exit_and_locate(case, write):
    path = write(case["program"])
    args = ["run", path] + (["--at", case["at_arg"]] if case["at_arg"] else []) + case["args"]
    ran = run_cli(*args)
    assert ran.code == case["exit"]
    assert "Traceback" not in ran.err + ran.out
    assert ran.err.strip()
    if case["line"] is not None:
        assert f":{case['line']}:" in ran.err
    if case["exit"] == 1:
        obj = run_cli(*args, "--json").json()
        assert set(obj["error"]) == {"kind", "message", "line", "column"}
        if case["line"] is not None:
            assert obj["error"]["line"] == case["line"]
