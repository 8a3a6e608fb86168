"""What some REPL inputs do, apart from the session's state: a bare name or expression evaluated,
a statement replaced in place, the `:at` values saved with the program and read back, `:graph FILE`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from rich.text import Text

from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.files import write_text
from graphlang.language.ast import names
from graphlang.language.atvalues import parse_at
from graphlang.language.parser import parse_statements
from graphlang.numbers import py
from graphlang.present import tables as render
from graphlang.program import Program, parse

AT_HEADER = "# :at "  # the first line of a saved session: its values, read back by :load
SCRATCH = "_repl_value_"  # the name a bare expression is evaluated under (never shown)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FEW = 8  # new names at most computed while some input has no value (each alone: a whole pass)
SMALL = 4_000  # characters of session at most for that (the whole program is built for each: ~300 lines)

# CLI flags in library messages, and what the REPL calls them
FLAGS = ((re.compile(r"; or delete line \d+ to make (\w+) an input \(inputs are never assigned\)"),
          r"; or forget its :at value: :at \1="),  # (a name given a value, then assigned)
         (re.compile(r"(graphlang explain )?--of '([^']*)'"), r":explain \2"),
         (re.compile(r"(graphlang explain )?--mode forward --wrt '([^']*)'"), r":explain forward \2"),
         (re.compile(r"--wrt '([^']*)'"), r":explain forward \1"),
         (re.compile(r"--at-file\b"), ":at-file"), (re.compile(r"--at\b"), ":at"),
         (re.compile(r"--node\b"), ":explain"), (re.compile(r"--partials\b"), ":graph partials"))


def repl_words(text: str) -> str:
    """A message from the library in the REPL's words: `:at x=...`, not `--at x=...`."""
    for pattern, word in FLAGS:
        text = pattern.sub(word, text)
    return text.replace("`graphlang diff --program`", "`graphlang diff --program` (on the command line)")


def in_repl_words(err: GraphlangError) -> GraphlangError:
    """The error's message and hint in the REPL's words (values come from :at, not --at)."""
    err.message, err.hint = repl_words(err.message), err.hint and repl_words(err.hint)
    return err


def is_expression(text: str) -> bool:
    """A bare name or expression (no `=` and no declaration): evaluate it, do not add a node."""
    first = text.split(None, 1)[0] if text.split() else ""
    return "=" not in text and first not in ("input", "param", "output")


def given(program: Program, at: dict[str, Any]) -> dict[str, Any]:
    """The `:at` values of the program's names (a value for a name the program does not have yet
    waits: it made every evaluation an unknown-input error; one for an intermediate is still refused)."""
    return {k: v for k, v in at.items() if k in program.graph.slot_of}


def evaluate(source: str, text: str, at: dict[str, Any], program: Program | None) -> list[Any]:
    """`a` -> `a = 6   g_a = 404.854` (the adjoint when the output is one scalar); `x * z + 1` -> its
    value, computed after the program's statements and added to nothing."""
    name = text.strip()
    if NAME.fullmatch(name) and program is not None and name not in program.names and \
            name.startswith("g_") and name[2:] in program.names:  # `g_a`: a's value and adjoint, as `a`
        name = name[2:]
    if NAME.fullmatch(name) and (program is None or name not in program.names):
        raise GraphlangError("usage", f"{name!r} is not a node of the program", hint="nodes: " + (
            ", ".join(program.names) if program is not None else "(none yet)") + "; define it: name = expression")
    if program is not None and name in program.names:
        try:
            result = program.evaluate(given(program, at))
        except GraphlangError as err:  # a statement it does not read may fail: its value alone
            if err.kind not in ("domain", "missing-input"):
                raise
            alone = value_alone(program, name, at)  # (its own failure, if it reads the failing one)
            why = f"line {err.line} fails at these values" if err.kind == "domain" else \
                "not every input has a value: " + ":at " + ",".join(f"{n}=..." for n in program.inputs if n not in at)
            return [Text(f"{name} = {render.tensor(py(alone))}    (no g_{name}: {why})")]
        shown = f"{name} = {render.tensor(result.values[name])}"
        if result.adjoints is not None and name in result.adjoints:
            shown += f"    g_{name} = {render.tensor(result.adjoints[name])}"
        return [Text(shown)]
    try:
        prog = parse(f"{source}{SCRATCH} = {text}\noutput {SCRATCH}\n")
        value = value_alone(prog, SCRATCH, at)
    except GraphlangError as err:
        err.message = err.message.replace(f"{SCRATCH} = ", "").replace(SCRATCH, "the expression")
        if err.line == source.count("\n") + 1 and err.column is not None:  # the expression's own line
            err.column = max(1, err.column - len(f"{SCRATCH} = "))
        raise
    return [Text(f"{' '.join(text.split())} = {render.tensor(py(value))}")]


def value_alone(program: Program, name: str, at: dict[str, Any]) -> Any:
    """`name`'s value computing only what it reads (a failing statement elsewhere does not stop it,
    and an input it does not read needs no value: zeros of its declared shape stand in)."""
    g = program.graph
    needed = g.read_by([g.slot_of[name]])
    values = given(program, at)
    unread = {n: np.zeros(program.checked.declared.get(n) or ()) for n in program.inputs
              if n not in values and not needed[g.slot_of[n]]}
    try:
        arrays, _ = program.bind({**values, **unread})
    except GraphlangError as err:
        own = {st.line for st in g.statements if needed[g.slot_of[st.name]]}
        if not unread or err.line in own:  # `u = mT(x)` at a scalar x: its own error, not the stand-ins'
            raise
        arrays, _ = program.bind(values)  # a stand-in's shape did not fit: the error of the values given
    return interp.forward(g, arrays, needed=needed)[g.slot_of[name]]


def add_inputs_read(deps: dict[str, frozenset[str]], statements: Any) -> dict[str, frozenset[str]]:
    """`deps` (name -> the inputs it reads, through every statement before) with `statements` added:
    O(statement), so a session of 2,000 lines without values never builds the whole program."""
    for st in statements:
        if getattr(st, "kind", "assign") == "assign" and st.expr is not None:
            deps[st.name] = frozenset().union(*(deps.get(n, frozenset((n,))) for n in names(st.expr)))
    return deps


def values_alone(program: Program | None, names_: list[str], at: dict[str, Any]) -> dict[str, Any]:
    """Each of `names_` computed alone (`b = 3 + 4` while x has no value: b = 7; the caller picks
    names that read no input lacking one); None: the program was not built for it, nothing shown."""
    return {} if program is None else {n: value_alone(program, n, at) for n in names_}


def replace_statement(session: Any, text: str, err: GraphlangError) -> list[Any]:
    """`a = x * 3` when `a` exists: its statement replaced if the program stays valid (the nodes that
    read it recomputed); values of names that are no longer inputs dropped. Else the error stands."""
    statements, prog = parse_statements(text), session.program()
    found = replace(session.chunks, prog, statements[0].name, text) if prog is not None and \
        len(statements) == 1 and statements[0].kind == "assign" else None
    if found is None:
        raise err
    name, (k, new) = statements[0].name, found
    session._undo.append(("replace", k, session.chunks[k], session.at))
    session.chunks[k] = new
    session._synced, session._program = (-1, None), None  # names, program and values again
    prog = session.program()
    dropped = [n for n in session.at if n not in prog.inputs]
    session.at = {n: v for n, v in session.at.items() if n in prog.inputs}
    shown: list[Any] = [Text(f"replaced: {name} = {statements[0].text}" + (
        f"; dropped the values of {', '.join(dropped)} (not inputs now)" if dropped else ""))]
    if session.at and all(n in session.at for n in prog.inputs):
        reached = prog.graph.reached_from([prog.graph.slot_of[name]])
        try:
            vals = prog.forward(given(prog, session.at))
        except GraphlangError as bad:  # its own failure: not replaced (as a new statement is not added)
            line = prog.graph.statement(name).line  # type: ignore[union-attr]
            if bad.line is not None and bad.line < line:  # an earlier line: is it one the new one reads?
                try:
                    value_alone(prog, name, session.at)
                except GraphlangError as own:
                    bad = own
            error = render.error_text(bad, "<repl>", session._excerpt(bad, ""))
            if bad.line is None or bad.line == line:
                session._command(":undo")
                return [error, Text("(not replaced: correct it, or the values with :at, and type it again)")]
            return [*shown, error, Text(f"(replaced; line {bad.line} fails at these values)")]
        shown.append(Text("  ".join(f"{n} = {render.tensor(vals[n])}" for n in prog.names
                                    if reached[prog.graph.slot_of[n]])))
    return shown


def replace(chunks: list[str], program: Program, name: str, text: str) -> tuple[int, str] | None:
    """The chunk index and its new text when `name`'s one-line statement is replaced by `text` and the
    result is still a valid program; None when it cannot be (then the redefinition is an error)."""
    st = program.graph.statement(name)
    if st is None:
        return None
    start = 0
    for k, chunk in enumerate(chunks):
        lines = chunk.split("\n")
        if start + len(lines) >= st.line:
            i = st.line - start - 1
            spliced = _splice(lines[i], name, text)
            if spliced is None:
                return None  # a statement continued over lines: the redefinition stands
            lines[i] = spliced
            new = chunks[:k] + ["\n".join(lines)] + chunks[k + 1:]
            try:
                parse("\n".join(new) + "\n")
            except GraphlangError as bad:  # the replacement's own mistake (sine(q), a cycle) is the error
                if bad.kind == "redefined":  # (as in a file: the name is already assigned, use a new one)
                    return None
                raise GraphlangError(bad.kind, bad.message, None, None, bad.hint) from None
            return k, "\n".join(lines)
        start += len(lines)
    return None


def _splice(line: str, name: str, text: str) -> str | None:
    """`line` with `name`'s statement replaced by `text`, the others on it (`d = exp(a); e = a / b`)
    and its comment kept; None when the line alone is no whole statements."""
    try:
        statements = parse_statements(line)
    except GraphlangError:
        return None
    mine = [st for st in statements if st.kind == "assign" and st.name == name]
    if len(mine) != 1:
        return None
    start = mine[0].column - 1
    ends = [k for k in (line.find(";", start), line.find("#", start)) if k >= 0]
    stop = min(ends, default=len(line))
    return line[:start] + text + (" " if stop < len(line) and line[stop] == "#" else "") + line[stop:]


def header(at: dict[str, Any]) -> str:
    """`# :at x=2 W=[[1.0,0.0],[0.0,1.0]]`: exact (repr) numbers, read back by `read_header`."""
    items = [f"{k}={json.dumps(np.asarray(v, dtype=np.float64).tolist(), separators=(',', ':'))}"
             for k, v in at.items()]
    return AT_HEADER + " ".join(items) + "\n" if items else ""


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
        note = dot.render_file(dot.to_dot(program, at, partials), path)
        if note:
            raise GraphlangError("io", note)
    return [Text(f"wrote {path}")]


COMMANDS = {
    ":at": "set input values: :at x=2 z=3 (vectors: v=[1,2], matrices: W=[[1,0],[0,1]]; x= forgets x)",
    ":at-file": "input values from a JSON object: :at-file values.json",
    ":run": "forward pass, adjoints and gradient",
    ":grad": "the gradient by a method: :grad forward (reverse, forward, fd, symbolic)",
    ":explain": "the chain rule step by step: :explain [node], :explain y[8] (one output component), "
                ":explain forward [x] (forward mode: tangent passes)",
    ":diff": "symbolic derivatives: :diff [x] (by inputs or nodes, e.g. :diff x, z)",
    ":graph": "the computation graph: :graph [partials] [FILE.png|.svg|.tex] (partials: local derivatives)",
    ":load": "replace the program with a file: :load prog.cg",
    ":save": "write the program and its :at values to a file: :save prog.cg",
    ":undo": "take back the last change (a statement, a replacement, a :load)",
    ":reset": "start again (no statements, no values)",
    ":help": "this list",
    ":quit": "leave (also Ctrl-D)",
}


def nodes(prog: Program, rest: str, cmd: str, at_most_one: bool = False) -> list[str]:
    """The node names a command was given (separated by commas or spaces), each checked."""
    names = [n for n in rest.replace(",", " ").split() if n]
    for n in names:
        if n not in prog.names:
            raise GraphlangError("usage", f"{cmd} {n!r}: the program has no node {n!r}",
                                 hint="nodes: " + ", ".join(prog.names))
    if at_most_one and len(names) > 1:
        raise GraphlangError("usage", f"{cmd} takes one node, got {len(names)}",
                             hint=f"{cmd}: {COMMANDS[cmd]}")
    return names


def shown(vals: dict[str, Any]) -> list[Text]:
    """`a = 6  b = 7`: new names' values on one line (nothing when there are none)."""
    return [Text("  ".join(f"{n} = {render.tensor(py(v))}" for n, v in vals.items()))] if vals else []


def waiting(new: list[str], read: dict[str, frozenset[str]], missing: set[str]) -> list[Text]:
    """`a = x * z` before `:at`: said to wait for its inputs' values, not silently accepted."""
    wait = sorted({i for n in new for i in read.get(n, frozenset()) & missing})
    names_ = [n for n in new if read.get(n, frozenset()) & missing]
    if not names_:
        return []
    return [Text(f"{', '.join(names_)}: waiting for a value of {', '.join(wait)} "
                 f"(:at {' '.join(f'{i}=…' for i in wait)})")]


def new_inputs(names: Any, before: Any, statements: Any) -> list[Text]:
    """An input a statement reads for the first time, never declared, close to a node's name: a typo?
    (`y2 = d + e + ff` where f is a node: 'ff is a new input: did you mean f?')."""
    import difflib
    declared = {item.name for st in statements if st.kind in ("input", "param") for item in st.items}
    old = set(before)  # (a list: a pasted program of 50,000 inputs looked each one up in all)
    fresh = [n for n in names.inputs if n not in old and n not in declared][:3]  # (each: a pass over the names)
    near = {n: difflib.get_close_matches(n, [m for m in names.assigned if m != n], 1, 0.6) for n in fresh}
    return [Text(f"{n} is a new input: did you mean {m[0]}?") for n, m in near.items() if m]


_GIVEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*")  # (the value: whatever :at takes)


def as_value(err: GraphlangError, text: str, inputs: Any, line: int) -> GraphlangError:
    """`x = 5` (on session line `line`) where x is an input already read: meant as its value. Said
    where it was typed, and how (:at x=5); not "used before it is assigned" at the line reading x."""
    m = _GIVEN.fullmatch(text)
    if err.kind == "undefined" and m and m.group(1) in inputs:
        value = m.group(2).replace(" ", "")
        try:
            parse_at([f"{m.group(1)}={value}"])  # only a value :at takes (not `x = e`, `x = 1-2`)
        except GraphlangError:
            return err
        return GraphlangError("undefined", f"{m.group(1)!r} is an input (line {err.line} reads it): a "
                              "statement cannot assign it", line, 1,
                              hint=f"to give the input {m.group(1)} a value, type :at {m.group(1)}={value}")
    return err
