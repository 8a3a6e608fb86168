"""The language reference's examples run as written, so the documentation cannot drift."""

from __future__ import annotations

import re
from itertools import takewhile

import numpy as np
import pytest
from conftest import ROOT

import graphlang
from graphlang.language.atvalues import parse_at

DOC = (ROOT / "docs" / "language.md").read_text()
BLOCKS = re.findall(r"```cg\n(.*?)```", DOC, re.S)


def directives(block: str) -> dict[str, str]:
    found = {}
    for line in block.splitlines():
        m = re.match(r"# (at|error): (.*)", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


def test_reference_has_examples():
    assert len(BLOCKS) >= 20


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_example(block):
    d = directives(block)
    at = parse_at([d["at"]]) if "at" in d else {}
    if "error" in d:
        kind, line = d["error"].split()
        # line numbers count from the first line after the directives, as a reader counts them
        offset = len(list(takewhile(lambda s: re.match(r"# (at|error):", s), block.splitlines())))
        with pytest.raises(graphlang.GraphlangError) as info:
            graphlang.parse(block).evaluate(at)
        assert info.value.kind == kind
        assert info.value.line == (None if line == "None" else int(line) + offset)
        return
    assert "at" in d, "every example states its point"
    prog = graphlang.parse(block)
    rev = prog.gradient(at)
    fd = prog.gradient(at, method="fd")
    for k in rev:
        np.testing.assert_allclose(rev[k], fd[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_every_builtin_is_documented():
    from graphlang.primitives.table import builtin_names
    for name in builtin_names():
        assert f"`{name}(" in DOC, name


def test_every_error_kind_is_documented():
    for kind in graphlang.KINDS:
        assert f"| `{kind}` |" in DOC, kind


API = (ROOT / "docs" / "api.md").read_text()
PY_BLOCKS = re.findall(r"```python\n(.*?)```", API, re.S)


@pytest.mark.parametrize("block", PY_BLOCKS, ids=[f"api{i}" for i in range(len(PY_BLOCKS))])
def test_api_example(block, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(block, "docs/api.md", "exec"), {})  # noqa: S102 - our own documentation


def test_ci_runs_the_readme_quickstart():
    """The two Quickstart commands, verbatim, are what .ci/run executes."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quickstart.*?```bash\n(.*?)```", readme, re.S)
    assert block is not None
    commands = [c for c in block.group(1).strip().splitlines() if c.strip()]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in commands:
        assert command in ci, command
