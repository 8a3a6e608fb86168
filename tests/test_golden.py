"""Golden files: the `run` tables of the example programs at a fixed width, no colour.

The numbers in these files are checked against independent oracles elsewhere; this test pins the
presentation. Regenerate with GRAPHLANG_UPDATE_GOLDEN=1 after an intended change, and review the diff.
"""

from __future__ import annotations

import os
import re

import pytest
from conftest import PROGRAMS, ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"


def run_args(cg: str) -> list[str]:
    header = (PROGRAMS / cg).read_text()
    m = re.search(r"# Run it:\s+graphlang run (\S+) (.*)", header)
    assert m, f"{cg} has no '# Run it:' line"
    args = m.group(2).strip()
    if args.startswith("--at-file"):
        return ["--at-file", str(ROOT / args.split()[1])]
    return ["--at", args.split(None, 1)[1].strip("'")]


EXAMPLES = sorted(p.name for p in PROGRAMS.glob("*.cg") if "# Run it:" in p.read_text())


def test_every_program_says_how_to_run_it():
    for p in PROGRAMS.glob("*.cg"):
        text = p.read_text()
        assert text.startswith("#") and ("# Run it:" in text or "# Train it:" in text), p


@pytest.mark.parametrize("cg", EXAMPLES)
def test_run_tables(cg):
    ran = run_cli("run", str(PROGRAMS / cg), *run_args(cg), width=100)
    assert ran.code == 0, ran.err
    golden = GOLDEN / (cg.replace(".cg", ".run.txt"))
    if os.environ.get("GRAPHLANG_UPDATE_GOLDEN"):  # written only on request, never by a plain test run
        golden.write_text(ran.out)
    assert golden.exists(), f"no golden file {golden.name}: run with GRAPHLANG_UPDATE_GOLDEN=1 and review it"
    assert ran.out == golden.read_text()


def test_output_is_deterministic():
    first = run_cli("run", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3", "--json").out
    assert all(run_cli("run", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3", "--json").out == first
               for _ in range(3))
