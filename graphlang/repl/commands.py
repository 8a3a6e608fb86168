"""What some REPL inputs do, apart from the session's state: a bare name or expression evaluated,
a statement replaced in place, the `:at` values saved with the program and read back, `:graph FILE`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
from rich.text import Text

from graphlang.engines import interpreter as interp
from graphlang.errors import GraphlangError
from graphlang.language.ast import names as read_by_expr
from graphlang.language.atvalues import parse_at
from graphlang.language.parser import parse_statements
from graphlang.numbers import py
from graphlang.present import tables as render
from graphlang.program import Program, parse
from graphlang.repl.reads import Reads

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
         (re.compile(r"--node\b"), ":explain"), (re.compile(r"--partials\b"), ":graph partials"),
         (re.compile(r"--method (reverse|forward|fd|symbolic)\b"), r":grad \1"))


def repl_words(text: str) -> str:
    """A message from the library in the REPL's words: `:at x=...`, not `--at x=...`."""
    for pattern, word in FLAGS:
        text = pattern.sub(word, text)
    text = re.sub(r"quote a value with spaces, :at '[^']*' \(the shell splits it at each space\), or write it "
                  r"without them: ", "close the bracket (spaces inside it are fine here): ", text)
    return text.replace("`graphlang diff --program`", "`graphlang diff --program` (on the command line)")


def in_repl_words(err: GraphlangError) -> GraphlangError:
    """The error's message and hint in the REPL's words (values come from :at, not --at)."""
    err.message, err.hint = repl_words(err.message), err.hint and repl_words(err.hint)
    return err


def not_inputs(program: Program | None, given: Any) -> list[Text]:
    """A value `:at` gives a name the program does not read (yet): said, with the input it may have
    meant (`:at X=2 z=3` beside an input x was taken without a word)."""
    if program is None:
        return []
    import difflib
    notes = []
    for k in [k for k in given if k not in program.graph.slot_of][:3]:
        near = [i for i in program.inputs if i.lower() == k.lower()] or \
            difflib.get_close_matches(k, program.inputs, 1, 0.6)
        notes.append(Text(f"{k} is not an input of the program: its value waits for a statement that reads it"
                          + (f" (did you mean {near[0]}?)" if near else "")))
    return notes


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
    name, asked = text.strip(), False
    if NAME.fullmatch(name) and program is not None and name not in program.names and \
            name.startswith("g_") and name[2:] in program.names:  # `g_a`: a's value and adjoint, as `a`
        name, asked = name[2:], True
    if NAME.fullmatch(name) and name != "pi" and (program is None or name not in program.names):
        command = f":{name}" if f":{name}" in COMMANDS else ":quit" if name == "exit" else None  # (`quit`, `run`)
        raise GraphlangError("usage", f"{name!r} is not a node of the program", hint=f"the command is {command}"
                             if command else "nodes: " + (", ".join(program.names) if program is not None
                                                          else "(none yet)") + "; define it: name = expression")
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
        note = ""
        if result.adjoints is not None and name in result.adjoints:
            shown += f"    g_{name} = {render.tensor(result.adjoints[name])}"
            g, out = program.graph, program.graph.outputs[0]
            if not g.read_by([g.slot_of[out]])[g.slot_of[name]]:  # (g_y = 0 read as ∂y/∂y = 0: a red team)
                named = program.checked.output_pos is not None  # (an `output` line says it already)
                note = (f"(the output is {out}" + (", as the `output` line says" if named else ", the last assigned "
                        "name") + f", which {name} does not reach" + ("" if named else "; an `output` line names "
                        "the one meant") + ")")
            if np.ndim(result.values[name]) >= 2:  # a matrix and its adjoint: blocks, rows aligned (a red team)
                return [render.pairs([(name, py(result.values[name])), (f"g_{name}", py(result.adjoints[name]))]),
                        *([Text(note)] if note else [])]
        elif asked:
            shown += f"    (no g_{name}: the output is not one scalar; :explain shows a pass per component)"
        return [Text(shown + (f"  {note}" if note else ""))]
    try:
        prog = parse(f"{source}{SCRATCH} = {text}\n")  # (no `output` line: the session may have one)
        value = value_alone(prog, SCRATCH, {**at, **adjoints_read(program, prog, at)})
    except GraphlangError as err:
        err.message = err.message.replace(f"{SCRATCH} = ", "").replace(SCRATCH, "the expression")
        if err.line == source.count("\n") + 1 and err.column is not None:  # the expression's own line
            err.column = max(1, err.column - len(f"{SCRATCH} = "))
        raise
    return [Text(f"{' '.join(text.split())} = {render.tensor(py(value))}")]


def adjoints_read(program: Program | None, prog: Program, at: dict[str, Any]) -> dict[str, Any]:
    """The adjoints an expression reads (`g_a * 2`: g_a, as a bare `g_a` shows it), by their names."""
    if program is None:
        return {}
    wanted = [n for n in prog.inputs if n not in program.names and n.startswith("g_") and n[2:] in program.names]
    if not wanted:
        return {}
    result = program.evaluate(given(program, at))  # (missing inputs, failing lines: its own error)
    if result.adjoints is None:
        raise GraphlangError("usage", f"{wanted[0]} is an adjoint of the one scalar output, and the output "
                             "is not one scalar", hint=":explain shows a backward pass per output component")
    return {n: result.adjoints[n[2:]] for n in wanted}


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


def values_alone(program: Program | None, names_: list[str], at: dict[str, Any]) -> dict[str, Any]:
    """Each of `names_` computed alone (`b = 3 + 4` while x has no value: b = 7; the caller picks
    names that read no input lacking one); None: the program was not built for it, nothing shown."""
    return {} if program is None else {n: value_alone(program, n, at) for n in names_}


MOST_ROWS = 200  # of a table :run or :grad prints (then how many more)
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
    ":undo": "take back the last change (a statement, a replacement, a :load, an :at)",
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
    return [render.pairs([(n, py(v)) for n, v in vals.items()])] if vals else []


def waiting(new: list[str], read: Reads, at: Iterable[str]) -> list[Text]:
    """`a = x * z` before `:at`: said to wait for its inputs' values (those not in `at`), not
    silently accepted."""
    lacking = ~read.mask(at)
    names_ = [n for n in new if read.get(n) & lacking]
    if not names_:
        return []
    every = 0
    for n in names_:
        every |= read.get(n) & lacking
    wait, more = read.listed(every, FEW)
    listed = ", ".join(names_) if len(names_) <= FEW else \
        f"{', '.join(names_[:FEW // 2])}, …, {names_[-1]} ({len(names_)} names)"  # (a pasted program: one line)
    return [Text(f"{listed}: waiting for a value of {', '.join(wait)}{', …' * more} "
                 f"(:at {' '.join(f'{i}=…' for i in wait)})")]


def after_at(program: Program | None, at: dict[str, Any], given_now: set[str]) -> list[Text]:
    """After `:at`, what it changed: the values of the names reading an input just given (a few of
    them; else the outputs), and the names still waiting for another input's value."""
    if program is None or not given_now & set(program.inputs):
        return []
    g = program.graph
    read = Reads().add(g.statements)
    missing = {n for n in program.inputs if n not in at}
    now, without = read.mask(given_now), ~read.mask(at)
    touched = [st.name for st in g.statements if read.get(st.name) & now]
    ready = [n for n in touched if not read.get(n) & without]
    pick = ready if len(ready) <= FEW else [n for n in program.outputs if n in ready]
    if missing:
        vals = values_alone(program, pick, at)
    else:  # one pass for them all
        arrays, _ = program.bind(given(program, at))
        slots = interp.forward(g, arrays)
        vals = {n: slots[g.slot_of[n]] for n in pick}
    more = len(ready) - len(pick)
    lacking = ", ".join(sorted(missing)[:FEW])
    said = f"({more} {'more ' * bool(vals)}value{'s' * (more > 1)} computed: :run shows " + (
        f"them once {lacking} {'has a value' if len(missing) == 1 else 'have values'})" if missing else "every value)")
    return [*shown(vals), *([Text(said)] if more else []), *waiting(touched, read, at)]


def stretched(program: Program, at: dict[str, Any]) -> list[Text]:
    """After :run, :grad, :explain: a stray last line (`dead_ends`), then the command line's notes
    (`x[2, 1] + b[2]` makes a [2, 2] matrix; W * x for W @ x), as `run` prints them: a student's find
    (the REPL, where students work, said nothing)."""
    from graphlang.ir.lint import notes
    return dead_ends(program) + [Text(f"note: line {line}:{col}: {note}") for line, col, note in
                                 notes(program.graph, program.bind(given(program, at))[1], stray=False)]


def legend_note(program: Program, shapes: Any, texts: dict[str, str], used: set[str]) -> list[Text]:
    """`:diff`'s note on what its 1s, eᵢ and ᵀ are, as the command line's `diff` says it."""
    from graphlang.symbolic.derivative import name_shapes
    from graphlang.symbolic.matrixtext import forms_note
    said = forms_note(texts, name_shapes(program.graph, shapes), used)
    return [Text(f"note: {said}")] if said else []


def dead_ends(program: Program) -> list[Text]:
    """`check = x + 1` typed after y became the output, and `:run` showed ∂check/∂x with g_y = 0 and
    nothing said why: where the output is the last assigned name, the names it does not read."""
    from graphlang.ir.lint import stray_note
    said = stray_note(program.graph)
    return [Text(f"note: {said}")] if said else []


def new_inputs(names: Any, statements: Any) -> list[Text]:
    """An input a statement reads for the first time, never declared, close to a node's name: a typo?
    (`y2 = d + e + ff` where f is a node: 'ff is a new input: did you mean f?'). Not asked past
    TYPO_NAMES nodes (each question is a pass over them: a pasted program of one new input a line
    was quadratic)."""
    import difflib
    declared = {item.name for st in statements if st.kind in ("input", "param") for item in st.items}
    fresh = [n for n in names.fresh if n not in declared][:3]
    if len(names.assigned) > TYPO_NAMES:
        return []
    def own(n: str) -> set[str]:  # the names its readers define: `x2 = x^2` reads x, x2 is no typo of it
        return {st.name for st in statements if st.kind == "assign" and st.expr is not None
                and n in read_by_expr(st.expr)}

    near = {n: difflib.get_close_matches(n, [m for m in names.assigned if m != n and m not in own(n)], 1, 0.6)
            for n in fresh}
    return [Text(f"{n} is a new input: did you mean {m[0]}?") for n, m in near.items() if m]


TYPO_NAMES = 2_000  # nodes a new input's name is compared with for a typo

_GIVEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*")  # (the value: whatever :at takes)


def is_value(text: str, inputs: Any) -> str | None:
    """`x = 5` for an input x read above: the value as :at would take it (`x = e`, `x = 1-2` are none)."""
    m = _GIVEN.fullmatch(text)
    if not m or m.group(1) not in inputs:
        return None
    value = m.group(2).replace(" ", "")
    try:
        parse_at([f"{m.group(1)}={value}"])
    except GraphlangError:
        return None
    return value


def as_value(err: GraphlangError, text: str, inputs: Any, line: int) -> GraphlangError:
    """`x = 5` (on session line `line`) where x is an input already read: meant as its value. Said
    where it was typed, and how (:at x=5); not "used before it is assigned" at the line reading x."""
    m, value = _GIVEN.fullmatch(text), is_value(text, inputs)
    if err.kind == "undefined" and m and value is not None:
        return GraphlangError("undefined", f"{m.group(1)!r} is an input (line {err.line} reads it): a "
                              "statement cannot assign it", line, 1,
                              hint=f"to give the input {m.group(1)} a value, type :at {m.group(1)}={value}")
    return err


_CYCLE = re.compile(r"(\w+) would read (\w+), which is computed from \1: a cycle")


def located_as_typed(err: GraphlangError, text: str, line: int) -> GraphlangError:
    """A cycle's error where the typed statement (on session line `line`) reads the node computed
    from it, a replacement's error (located in the text typed) on that line; any other as it is."""
    if err.line is None and err.column is not None:  # a replacement's own mistake, in the text typed
        err.line = line
        return err
    m = _CYCLE.fullmatch(err.message) if err.line is None else None
    mine = [st for st in parse_statements(text) if st.kind == "assign" and st.name == m.group(1)] if m else []
    if not m or not mine:
        return err
    lines = text.split("\n")  # (a statement's column counts from its own line's start)
    start = text.index("=", sum(len(ln) + 1 for ln in lines[:mine[0].line - 1]) + mine[0].column - 1) + 1
    read = re.compile(rf"\b{m.group(2)}\b").search(text, start)
    err.line, err.column = line + text.count("\n", 0, read.start() if read else start), None
    if read:
        err.column = read.start() - (text.rfind("\n", 0, read.start()) + 1) + 1
    return err
