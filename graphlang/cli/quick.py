"""`graphlang run` and `graphlang grad` without building the Typer application, for start-up time
(autograders call the CLI once per submission; Typer imports pydantic to coerce its parameters).

Only a command line in the plain form is taken here: the command first, known options each given
once (the repeatable ones any number of times), values that do not begin with `-`, exactly one
program. Anything else (`--help`, an unknown or misspelled option, a missing value, `--opt` twice,
`--`, `--direction`, a malformed `--epsilon`) returns False and goes to Typer, which prints what it
always printed. The commands' bodies are the same functions (`session.py`), so the output, the
error reports and the exit statuses are the same bytes (tests/test_quick.py compares both ways).
This module imports nothing heavy until the command line is known to be plain.
"""

from __future__ import annotations

import re

_FLAGS = {"--json": "as_json", "--strict": "strict"}
_REPEATED = {"--at": "at", "--limit": "limit"}
_SINGLE = {"--at-file": "at_file"}
_GRAD_SINGLE = {"--method": "method", "-m": "method", "--wrt": "wrt", "--epsilon": "epsilon"}
_FLOAT = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"


def parse(argv: list[str]) -> dict[str, object] | None:
    """The keyword arguments of `run_command` / `grad_command`, or None for anything not plain."""
    if not argv or argv[0] not in ("run", "grad"):
        return None
    single = dict(_SINGLE, **(_GRAD_SINGLE if argv[0] == "grad" else {}))
    kw: dict[str, object] = {"at_file": None, "as_json": False, "strict": False}
    if argv[0] == "grad":
        kw.update(method="auto", wrt=None, epsilon=None)
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
        if tok in _FLAGS:
            kw[_FLAGS[tok]] = True
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
        else:
            kw[key] = value
    if len(program) != 1:
        return None
    kw.update(repeated, program=program[0])
    return kw


def dispatch(argv: list[str]) -> bool:
    """Run a plain `run` / `grad` command line and return True; False: Typer takes the line."""
    kw = parse(argv)
    if kw is None:
        return False
    from graphlang.cli import session  # numpy, Lark, Rich: only now

    if argv[0] == "run":
        session.run_command(**kw)  # type: ignore[arg-type]
    else:
        session.grad_command(**kw)  # type: ignore[arg-type]
    return True
