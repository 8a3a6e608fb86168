"""The REPL's files: `:save` (the program with its values on a first comment line), that line read
back by `:load`, and `:graph FILE` (the picture, as `graph -o` writes it)."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import numpy as np
from rich.text import Text

from graphlang.errors import GraphlangError
from graphlang.files import write_text
from graphlang.language.atvalues import parse_at
from graphlang.present import tables as render
from graphlang.program import Program

AT_HEADER = "# :at "  # the first line of a saved session: its values, read back by :load


def header(at: dict[str, Any]) -> str:
    """`# :at x=2 W=[[1,0],[0.5,1]]`: exact (repr) numbers, whole ones as typed (`x=2`, not `x=2.0`: a
    student's find), read back by `read_header`."""
    items = [f"{k}={json.dumps(_whole(np.asarray(v, dtype=np.float64).tolist()), separators=(',', ':'))}"
             for k, v in at.items()]
    return AT_HEADER + " ".join(items) + "\n" if items else ""


def _whole(v: Any) -> Any:
    """Whole floats as ints, nested lists alike: below 2⁵³ (past it a float's repr is shorter than its
    digits, 1e300 being 301 of them, past a token's 256 characters); -0.0 kept."""
    if isinstance(v, list):
        return [_whole(x) for x in v]
    return int(v) if v.is_integer() and abs(v) < 2.0 ** 53 and str(v) != "-0.0" else v


def read_header(text: str, split: Any) -> dict[str, Any]:
    """The values of a saved session's `# :at` line (the first line), or none."""
    first = text.split("\n", 1)[0]
    return parse_at(split(first[len(AT_HEADER):])) if first.startswith(AT_HEADER) else {}


def save_graph(program: Program, at: dict[str, Any] | None, rest: str) -> list[Any]:
    """`:graph [partials] FILE.png|svg|pdf|dot|tex`: the picture written, as `graph -o` does."""
    from graphlang.present import dot, tikz  # drawing modules: only for this command

    words = rest.split()
    partials = words[0] == "partials"
    path = words[-1]
    if len(words) != 1 + partials or not re.search(r"\.(png|svg|pdf|dot|tex)$", path, re.IGNORECASE):
        raise GraphlangError("usage", f":graph {rest!r}: write :graph [partials] [FILE.png|.svg|.pdf|.dot|.tex]",
                             hint=":graph: the computation graph (a table), or drawn into a file")
    if path.lower().endswith(".tex"):
        write_text(path, tikz.to_tikz(program, at, partials, file=path.rsplit("/", 1)[-1]))
    else:
        note = dot.render_file(dot.to_dot(program, at, partials), path, program=program)
        if note:
            raise GraphlangError("io", note)
    return [Text(f"wrote {path}")]


def save(session: Any, rest: str) -> list[Any]:
    """`:save prog.cg`: the program with its values as a first comment line (read back by :load), and
    the command that runs it."""
    if not rest:
        raise GraphlangError("usage", ":save needs a file name", hint="e.g. :save prog.cg")
    if not rest.lower().endswith(".cg"):  # (a session read from a file must not replace /etc/passwd)
        raise GraphlangError("usage", f":save writes a program: {rest!r} does not end in .cg",
                             hint=f"e.g. :save {rest.rsplit('/', 1)[-1].split('.')[0] or 'prog'}.cg")
    body = session.source.split("\n", 1)[1] if session.source.startswith(AT_HEADER) else session.source
    write_text(rest, header(session.at) + body)
    prog = session.program()  # (`run` reads no comment: the command that runs it, its inputs' values)
    values = ",".join(header({k: v for k, v in session.at.items() if prog and k in prog.inputs}).split()[2:])
    said = f"saved {len(session._names.assigned)} statement(s)" + (" and the :at values" if session.at else "") + \
        f" to {rest}"
    unknown = [n for n in (prog.inputs if prog else []) if n not in session.at]
    waiting = [Text(f"{', '.join(unknown[:5])}{', …' * (len(unknown) > 5)} ha{'s' if len(unknown) == 1 else 've'}"
                    f" no value yet: give {'it' if len(unknown) == 1 else 'them'} with :at (then :save "
                    "again), or with --at when you run it")] if unknown else []
    if not 0 < len(values.strip()) <= 200:
        return [Text(said), *waiting]
    command = f"  graphlang run {shlex.quote(rest)} --at '{values.strip()}'"  # (never folded by us: the terminal
    return [Text(said + "; run it (one line):"), render.Whole(command), *waiting]  # wraps it, copies it whole)
