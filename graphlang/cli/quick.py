"""`graphlang run`, `grad`, `diff`, `explain`, `gradcheck`, `hessian`, `graph` and `ir` without building the Typer
application, for start-up time (autograders call the CLI once per submission; Typer imports pydantic to
coerce its parameters, and costs about as much as `run` on a 2,000-statement program).

Only a command line in the plain form is taken here: the command first, known options each given
once (the repeatable ones any number of times), values that do not begin with `-`, exactly one
program. Anything else (`--help`, an unknown or misspelled option, a missing value, `--opt` twice,
`--`, `--direction`, a malformed `--epsilon`, a `--digits` or `--width` out of its range or not plain
digits) returns False and goes to Typer, which prints what it always printed. The commands' bodies
are the same functions (`session.py`, `bodies.py`), so the output, the error reports and the exit
statuses are the same bytes (tests/test_quick.py compares both ways).
This module imports nothing heavy until the command line is known to be plain.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from graphlang.symbolic.texbreak import WIDTH  # (light: `re` only)

_FLAGS = {"--json": "as_json", "--strict": "strict"}
_REPEATED = {"--at": "at", "--limit": "limit"}
_SINGLE = {"--at-file": "at_file"}
_FLOAT = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
# per command: its own flags, its own single-valued options, their defaults; `epsilon` is a float,
# `digits` and `width` integers in a range (as Typer declares them)
_COMMANDS: dict[str, tuple[dict[str, str], dict[str, str], dict[str, object]]] = {
    "run": ({}, {}, {}),
    "grad": ({}, {"--method": "method", "-m": "method", "--wrt": "wrt", "--epsilon": "epsilon"},
             {"method": "auto", "wrt": None, "epsilon": None}),
    "hessian": ({}, {"--wrt": "wrt"}, {"wrt": None}),
    "gradcheck": ({"--sweep": "sweep"}, {"--epsilon": "epsilon", "--plot": "plot", "--wrt": "wrt"},
                  {"epsilon": None, "sweep": False, "plot": None, "wrt": None}),
    "explain": ({}, {"--node": "node", "--format": "fmt", "--digits": "digits", "--of": "of", "--width": "width",
                     "--mode": "mode", "--wrt": "wrt"},
                {"node": None, "fmt": "text", "digits": 6, "of": None, "width": WIDTH, "mode": None, "wrt": None}),
    "diff": ({"--latex": "latex", "--program": "as_program"}, {"--wrt": "wrt", "--width": "width"},
             {"wrt": None, "latex": False, "as_program": False, "width": WIDTH}),
    "graph": ({"--dot": "dot", "--partials": "partials"}, {"-o": "output", "--output": "output", "--dpi": "dpi"},
              {"output": None, "dot": False, "partials": False, "dpi": 200}),
    "ir": ({}, {}, {}),
}
_NO_JSON = ("graph", "ir")  # (no --json option)
_RANGES = {"digits": (1, 17), "width": (20, 1000), "dpi": (30, 1200)}


def parse(argv: list[str]) -> dict[str, object] | None:
    """The keyword arguments of the command's body (`run_command`, …), or None for anything not plain."""
    if not argv or argv[0] not in _COMMANDS:
        return None
    own_flags, own_single, defaults = _COMMANDS[argv[0]]
    flags = dict(_FLAGS, **own_flags)
    if argv[0] in _NO_JSON:
        del flags["--json"]
    single = dict(_SINGLE, **own_single)
    kw: dict[str, object] = {"at_file": None, "as_json": False, "strict": False, **defaults}
    if argv[0] in _NO_JSON:
        del kw["as_json"]
    seen: set[str] = set()
    program: list[str] = []
    repeated: dict[str, list[str]] = {"at": [], "limit": []}
    i = 1
    while i < len(argv):
        tok = argv[i]
        i += 1
        if not tok.startswith("-"):
            program.append(tok)
            continue
        if tok in flags:
            kw[flags[tok]] = True
            continue
        name, eq, value = tok.partition("=") if tok.startswith("--") else (tok, "", "")
        if name not in _REPEATED and name not in single:
            return None
        if not eq:
            if i == len(argv):
                return None
            value = argv[i]
            i += 1
        if not value or value.startswith("-"):
            return None
        if name in _REPEATED:
            repeated[_REPEATED[name]].append(value)
            continue
        key = single[name]
        if key in seen:
            return None
        seen.add(key)
        if key == "epsilon":
            if not re.fullmatch(_FLOAT, value):
                return None
            kw[key] = float(value)
        elif key in _RANGES:
            low, high = _RANGES[key]
            if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
                return None
            kw[key] = int(value)
        else:
            kw[key] = value
    if len(program) != 1:
        return None
    kw.update(repeated, program=program[0])
    return kw


def dispatch(argv: list[str]) -> bool:
    """Run a plain command line and return True; False: Typer takes the line."""
    kw = parse(argv)
    if kw is None:
        return False
    if argv[0] in ("run", "grad"):
        from graphlang.cli import session  # numpy, Lark: only now

        body: Callable[..., None] = getattr(session, f"{argv[0]}_command")
    else:
        from graphlang.cli import bodies

        body = getattr(bodies, f"{argv[0]}_command")
    body(**kw)
    return True
