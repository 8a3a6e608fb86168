"""`graphlang run` / `grad` taken without Typer (graphlang.cli.quick): the oracle is Typer itself. A plain
command line must reach the same body with the same arguments as through the Typer application, and
print the same bytes with the same exit status; every other line must be left to Typer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphlang.cli import quick
from graphlang.cli.app import app
from graphlang.program import AUTO

ROOT = Path(__file__).parent.parent
LECTURE = str(ROOT / "programs" / "lecture13.cg")

PLAIN = [
    ["run", LECTURE, "--at", "x=2,z=3"],
    ["run", "--at", "x=2", LECTURE, "--at=z=3", "--json"],
    ["run", LECTURE, "--at", "x=2", "--at", "z=3", "--strict", "--limit", "max_depth=50", "--json", "--json"],
    ["run", LECTURE, "--at-file", "v.json", "--limit=max_nodes=9"],
    ["grad", LECTURE, "--at", "x=2,z=3"],
    ["grad", LECTURE, "--at", "x=2,z=3", "-m", "fd", "--epsilon", "1e-6", "--wrt", "x"],
    ["grad", LECTURE, "--method=symbolic", "--epsilon=.5", "--at", "x=2,z=3", "--json"],
    ["grad", LECTURE, "--method", "nonsense", "--epsilon", "-1"],  # "-1" is not plain: Typer
    ["hessian", LECTURE, "--at", "x=2,z=3"],
    ["hessian", LECTURE, "--at", "x=2", "--at=z=3", "--json", "--strict", "--limit", "max_depth=50"],
    ["hessian", LECTURE, "--at", "x=2,z=3", "--wrt", "z"],
    ["gradcheck", LECTURE, "--at", "x=2,z=3"],
    ["gradcheck", LECTURE, "--at", "x=2,z=3", "--epsilon", "1e-4", "--json"],
    ["gradcheck", LECTURE, "--sweep", "--plot", "s.png", "--at-file", "v.json"],
    ["gradcheck", LECTURE, "--at", "x=2,z=3", "--wrt", "z", "--sweep"],
    ["explain", LECTURE, "--at", "x=2,z=3"],
    ["explain", LECTURE, "--at", "x=2,z=3", "--node", "c", "--format", "latex", "--digits", "17", "--width", "20"],
    ["explain", LECTURE, "--format=markdown", "--digits=1", "--of", "y[9]", "--width=1000", "--json"],
    ["explain", LECTURE, "--format", "nonsense", "--digits", "007"],
    ["explain", LECTURE, "--at", "x=2,z=3", "--mode", "forward", "--wrt", "z", "--format=latex"],
    ["explain", LECTURE, "--at", "x=2,z=3", "--mode=forward", "--of", "y", "--json"],
    ["diff", LECTURE],
    ["diff", LECTURE, "--wrt", "x", "--latex", "--width", "50", "--json"],
    ["diff", LECTURE, "--program", "--at", "x=2,z=3", "--strict", "--program"],
    ["graph", LECTURE], ["graph", LECTURE, "--at", "x=2,z=3", "--partials", "--dot"],
    ["graph", LECTURE, "-o", "g.png", "--dpi", "30", "--strict"], ["graph", LECTURE, "--output=g.tex", "--dpi=1200"],
    ["ir", LECTURE], ["ir", LECTURE, "--at-file", "v.json", "--limit", "max_depth=9"],
]
NOT_PLAIN = [
    [], ["run"], ["--version"], ["run", "--help"], ["grad", "--help"], ["run", LECTURE, "--bogus"],
    ["run", LECTURE, LECTURE], ["run", LECTURE, "--at"], ["run", LECTURE, "--at-file", "a", "--at-file", "b"],
    ["run", LECTURE, "--at", "-x=1"], ["run", "--", LECTURE], ["run", LECTURE, "-m", "fd"],
    ["grad", LECTURE, "--direction", "x=1"], ["grad", LECTURE, "--epsilon", "1e"], ["grad", LECTURE, "-mfd"],
    ["grad", LECTURE, "--epsilon", "nan"], ["grad", LECTURE, "--wrt", "x", "--wrt", "z"], ["run", "-", "--json"],
    ["tangents", LECTURE], ["run", LECTURE, "--no-json"], ["run", LECTURE, "--jso"], ["run", LECTURE, "--at="],
    ["explain", LECTURE, "--digits", "0"], ["explain", LECTURE, "--digits", "18"],
    ["explain", LECTURE, "--digits", "x"],
    ["explain", LECTURE, "--digits", "+5"], ["explain", LECTURE, "--digits", "1_0"], ["diff", LECTURE, "--width", "19"],
    ["diff", LECTURE, "--width", "1001"], ["explain", LECTURE, "--digits", "٣"], ["explain", LECTURE, "--sweep"],
    ["gradcheck", LECTURE, "--latex"], ["hessian", LECTURE, "--method", "fd"], ["diff", LECTURE, "--program=1"],
    ["explain", LECTURE, "--node", "a", "--node", "b"], ["gradcheck", LECTURE, "--epsilon", "inf"],
    ["graph", LECTURE, "--json"],
    ["ir", LECTURE, "--json"], ["graph", LECTURE, "--dpi", "29"], ["graph", LECTURE, "--dpi", "1201"],
    ["graph", LECTURE, "-o"], ["graph", LECTURE, "-og.dot"], ["ir", LECTURE, "--partials"],
]


def through_typer(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, object]] | None:
    """The command and the arguments Typer hands to the body (nothing is run)."""
    calls: list[tuple[str, dict[str, object]]] = []
    common = ("program", "at", "at_file")
    tail = ("as_json", "strict", "limit")
    names = {"evaluate": {"run_command": (*common, *tail),
                          "grad_command": (*common, "method", "wrt", "epsilon", *tail),
                          "hessian_command": (*common, *tail, "wrt")},
             "derivatives": {"gradcheck_command": (*common, "epsilon", "sweep", "plot", *tail, "wrt"),
                             "explain_command": (*common, "node", "fmt", "digits", "of", "width", *tail, "mode", "wrt"),
                             "diff_command": (*common, "wrt", "latex", "as_program", "width", *tail)},
             "drawing": {"graph_command": (*common, "output", "dot", "partials", "dpi", "strict", "limit"),
                         "ir_command": (*common, "strict", "limit")}}
    for module, bodies in names.items():
        for fn, params in bodies.items():
            def record(*args: object, fn: str = fn, params: tuple[str, ...] = params) -> None:
                calls.append((fn, dict(zip(params, args, strict=True))))
            monkeypatch.setattr(f"graphlang.cli.{module}.{fn}", record)
    res = CliRunner().invoke(app, argv)
    return calls[0] if calls and res.exit_code == 0 else None


@pytest.mark.parametrize("argv", PLAIN, ids=lambda a: " ".join(a[:1] + a[2:]))
def test_a_plain_line_reaches_the_body_with_typers_arguments(argv: list[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    expected = through_typer(argv, monkeypatch)
    got = quick.parse(argv)
    if got is None:  # left to Typer: allowed, never wrong
        return
    assert expected is not None
    assert (f"{argv[0]}_command", got) == expected


@pytest.mark.parametrize("argv", NOT_PLAIN, ids=lambda a: " ".join(a[:1] + a[2:]) or "empty")
def test_anything_else_is_left_to_typer(argv: list[str]) -> None:
    assert quick.parse(argv) is None
    assert quick.dispatch(argv) is False


def test_the_default_method_is_the_librarys() -> None:
    kw = quick.parse(["grad", LECTURE])
    assert kw is not None and kw["method"] == AUTO


def test_the_session_module_does_not_import_typer() -> None:
    code = ("import sys; import graphlang.cli.quick, graphlang.cli.session, graphlang.cli.bodies; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'pydantic', 'click')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT))).stdout
    assert out.strip() == "[]"


BYTES = [
    ["run", LECTURE, "--at", "x=2,z=3"],
    ["hessian", LECTURE, "--at", "x=2,z=3"],
    ["hessian", LECTURE, "--at", "x=2,z=3", "--json"],
    ["hessian", LECTURE, "--at", "x=-2,z=3"],  # a domain error in the derivative program, placed in ours
    ["gradcheck", LECTURE, "--at", "x=2,z=3"],
    ["gradcheck", LECTURE, "--at", "x=2,z=3", "--epsilon", "0.5"],  # the methods disagree: exit 1
    ["gradcheck", LECTURE, "--at", "x=2,z=3", "--sweep", "--json"],
    ["explain", LECTURE, "--at", "x=2,z=3"],
    ["explain", LECTURE, "--at", "x=2,z=3", "--format", "latex", "--width", "30", "--digits", "3"],
    ["explain", LECTURE, "--at", "x=2,z=3", "--node", "nosuch"],
    ["diff", LECTURE],
    ["diff", LECTURE, "--program"],
    ["diff", LECTURE, "--latex", "--wrt", "x", "--json"],
    ["graph", LECTURE, "--at", "x=2,z=3"],
    ["graph", LECTURE, "--at", "x=2,z=3", "--partials", "--dot"],
    ["ir", LECTURE, "--at", "x=2,z=3"],
    ["ir", LECTURE],
    ["grad", LECTURE, "--at", "x=2,z=3", "--json", "-m", "forward"],
    ["run", LECTURE, "--at", "x=-2,z=3"],  # a domain error: located, exit 1
    ["run", LECTURE, "--at", "x=2", "--json"],  # a missing value: a JSON error, exit 1 or 2
    ["run", "no/such/file.cg", "--at", "x=2"],
    ["grad", LECTURE, "--at", "x=2,z=3", "--method", "nonsense"],
    ["run", LECTURE, "--at", "x=2,z=3", "--limit", "max_depth=x"],
]


@pytest.mark.parametrize("argv", BYTES, ids=lambda a: " ".join(a[:1] + a[2:]))
def test_the_same_bytes_and_exit_status_as_through_typer(argv: list[str], tmp_path: Path) -> None:
    assert quick.parse(argv) is not None
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100", GRAPHLANG_CACHE_DIR=str(tmp_path))
    env.pop("GRAPHLANG_LIMITS", None)
    fast = subprocess.run([sys.executable, "-m", "graphlang", *argv], capture_output=True, env=env)
    typer = subprocess.run([sys.executable, "-c", "import sys; from graphlang.cli.app import run; "
                            "run(sys.argv[1:])", *argv], capture_output=True, env=env)
    assert (fast.returncode, fast.stdout, fast.stderr) == (typer.returncode, typer.stdout, typer.stderr)
    assert fast.stdout or fast.stderr


def test_a_json_answer_imports_neither_typer_nor_rich() -> None:
    code = ("import sys; from graphlang.cli import main; main(sys.argv[1:]); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'pydantic', 'click', 'rich'}), "
            "file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", code, "run", LECTURE, "--at", "x=2,z=3", "--json"],
                         capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert res.returncode == 0 and '"gradient"' in res.stdout
    assert res.stderr.strip() == "[]"
