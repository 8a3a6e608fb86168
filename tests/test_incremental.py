"""The REPL adds a statement in O(statement) (language/incremental.py, engines/incremental.py, repl.py).

The oracle is the straightforward session: every input re-parses, re-checks and re-evaluates the
whole program so far (what the REPL did before, O(n) per statement). The incremental session
must give the same verdict, the same error (kind, message, line, column, hint) and the same
values on every input. Cost is checked structurally: characters parsed, statements checked and
equations evaluated stay proportional to the input; a piped session far too long for the
quadratic path finishes inside a generous timeout."""

from __future__ import annotations

import difflib
import io
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rich.console import Console

import graphlang
from graphlang.engines import interpreter
from graphlang.errors import GraphlangError
from graphlang.language import incremental, parser, resolve
from graphlang.language.ast import names
from graphlang.language.atvalues import parse_at
from graphlang.present import tables as render
from graphlang.repl import ReplSession, run_lines


def _given(prog: graphlang.Program, at: dict) -> dict:
    """The values of the program's names (a value for a name it does not have yet waits)."""
    return {k: v for k, v in at.items() if k in prog.inputs or k in prog.names}


class Whole:
    """The reference: each statement checked and evaluated as part of the whole session again.

    Assigning a name again replaces its statement when the statement is a line of its own and the
    program stays valid (issue 16): checked here by re-parsing the whole edited session."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.at: dict = {}
        self.undo: list = []

    def handle(self, text: str) -> list[str]:
        if text.startswith(":at"):
            self.undo.append(("at", self.at))  # (:undo takes the last change back, an :at too)
            self.at = {**self.at, **parse_at(text[3:].replace(",", " ").split())}
            return []
        if text == ":undo":
            op = self.undo.pop() if self.undo else ("add",)
            if op[0] == "at":
                self.at = op[1]
            elif op[0] == "replace":  # the values it dropped come back; those set since stay
                self.chunks, self.at = op[1], {**op[2], **self.at}
            else:
                self.chunks = self.chunks[:-1]
            return []
        before = "".join(c + "\n" for c in self.chunks)
        candidate, start, inputs = before + text + "\n", before.count("\n") + 1, self._inputs(before)
        try:
            prog = graphlang.parse(candidate)
        except GraphlangError as err:
            if err.kind == "redefined" and (replaced := self._replace(text)) is not None:
                return replaced
            if err.kind != "empty":
                return [self._error(err, candidate)]
            self.chunks.append(text)
            self.undo.append(("add",))
            return []
        self.chunks.append(text)
        self.undo.append(("add",))
        statements = parser.parse_statements(text)
        new = [s.name for s in statements if s.kind == "assign"]
        declared = {i.name for s in statements if s.kind in ("input", "param") for i in s.items}
        assigned = [n for n in prog.names if n not in prog.inputs]
        def others(n: str) -> list[str]:  # (x2 = x^2: x is no typo of x2, the name its reader defines)
            own = {t.name for t in statements if t.kind == "assign" and t.expr is not None and n in names(t.expr)}
            return [a for a in assigned if a != n and a not in own]
        notes = [f"{n} is a new input: did you mean {m[0]}?" for n in prog.inputs if n not in inputs
                 and n not in declared for m in [difflib.get_close_matches(n, others(n), 1, 0.6)] if m]
        if not new:  # an output statement is said
            out = ", ".join(i.name for s in statements if s.kind == "output" for i in s.items)
            return [f"the output is {out}: :run, :grad and :explain differentiate it"] * bool(out) + notes
        missing = {n for n in prog.inputs if n not in self.at}
        try:
            vals = prog.forward(_given(prog, self.at)) if not missing else self._alone(prog, new, missing)
        except GraphlangError as err:  # not added when the error is the new text's own (issue: one bad
            # line broke every later one); an earlier line failing: the new names alone, where they can be
            reads = False
            if err.line is not None and err.line < start:  # the first failing line: read by the new ones?
                try:
                    alone = self._alone(prog, new, missing)
                except GraphlangError as own:  # their own error (located in them, or in what they read)
                    alone, err, reads = {}, own, True
                if alone:
                    return ["  ".join(f"{n} = {render.tensor(v)}" for n, v in alone.items())
                            + f"    (line {err.line} fails at these values)"]
            if err.line is not None and err.line < start:
                return [self._error(err, candidate), f"(added: it reads line {err.line}, which fails at these values)"
                        if reads else f"(added; line {err.line} fails at these values)"]
            self.chunks, self.undo = self.chunks[:-1], self.undo[:-1]
            return [self._error(err, candidate), "(not added: correct it, or the values with :at, and type it again)"]
        g = prog.graph
        read = {n: {m for m in missing if g.read_by([g.slot_of[n]])[g.slot_of[m]]} for n in new}
        waits = [n for n in new if read[n]]
        wait = sorted(set().union(*read.values()))
        shown = ["  ".join(f"{n} = {render.tensor(vals[n])}" for n in new if n in vals)] if \
            [n for n in new if n in vals] else []
        if waits:
            shown.append(f"{', '.join(waits)}: waiting for a value of {', '.join(wait)} "
                         f"(:at {' '.join(f'{m}=…' for m in wait)})")
        return shown + notes

    @staticmethod
    def _inputs(text: str) -> set[str]:
        """The inputs of the session so far (declared ones too, before any assignment)."""
        try:
            return set(graphlang.parse(text).inputs)
        except GraphlangError:
            return {i.name for s in parser.parse_statements(text) if s.kind in ("input", "param")
                    for i in s.items} if text.strip() else set()

    def _alone(self, prog: graphlang.Program, new: list[str], missing: set[str]) -> dict:
        """Each new name that reads none of `missing`, computed by the interpreter from what it reads
        (the other inputs at 0: it reads none of them)."""
        g = prog.graph
        ready = [n for n in new if not any(g.read_by([g.slot_of[n]])[g.slot_of[m]] for m in missing)]
        if not ready or len(ready) > 8:
            return {}
        values = {**_given(prog, self.at), **{m: [0.0] * (prog.checked.declared.get(m) or (1,))[0]
                                              if prog.checked.declared.get(m) else 0.0 for m in missing}}
        out = {}
        for n in ready:
            arrays, _ = prog.bind(values)
            out[n] = interpreter.forward(g, arrays, needed=g.read_by([g.slot_of[n]]))[g.slot_of[n]]
        return out

    def _replace(self, text: str) -> list[str] | None:
        try:
            (new,) = parser.parse_statements(text)
        except (GraphlangError, ValueError):
            return None
        if new.kind != "assign":
            return None
        for k, chunk in enumerate(self.chunks):
            lines = chunk.split("\n")
            for i, line in enumerate(lines):
                try:
                    alone = parser.parse_statements(line)
                except GraphlangError:
                    continue
                if len(alone) == 1 and alone[0].kind == "assign" and alone[0].name == new.name:
                    edited = self.chunks[:k] + ["\n".join(lines[:i] + [text] + lines[i + 1:])] + self.chunks[k + 1:]
                    after = ""
                    try:
                        prog = graphlang.parse("".join(c + "\n" for c in edited))
                    except GraphlangError as bad:  # the replacement's own mistake is the error
                        if bad.kind == "redefined":
                            return None
                        rest = self.chunks[:k] + (["\n".join(lines[:i] + lines[i + 1:])] if len(lines) > 1 else []) \
                            + self.chunks[k + 1:]
                        moved = self._moved(rest, text, bad)  # it reads a node assigned later: put after it
                        if moved is None:
                            late = re.match(r"'(\w+)' is used before", bad.message) if bad.kind == "undefined" else None
                            hint = bad.hint if late is None else (
                                f"it cannot go after {late.group(1)} either (a statement before it reads "
                                f"{new.name}): give the new statement another name ({new.name}2 = …)")
                            here = sum(c.count("\n") + 1 for c in self.chunks[:k]) + i + 1  # (its line, edited)
                            typed = sum(c.count("\n") + 1 for c in self.chunks) + 1  # (the line it is typed as)
                            if bad.line == here and bad.column is not None:  # located in the text typed
                                return [self._error(GraphlangError(bad.kind, bad.message, typed, bad.column, hint),
                                                    "\n" * (typed - 1) + text + "\n")]
                            return [self._error(GraphlangError(bad.kind, bad.message, None, None, hint), "")]
                        edited, after = moved
                        prog = graphlang.parse("".join(c + "\n" for c in edited))
                    inputs_before = self._inputs("".join(c + "\n" for c in self.chunks))
                    self.undo.append(("replace", list(self.chunks), self.at))
                    self.chunks = edited
                    dropped = [n for n in self.at if n not in prog.inputs and (n in inputs_before or n in prog.names)]
                    self.at = {n: v for n, v in self.at.items() if n not in dropped}  # (a value given ahead stays)
                    out = [f"replaced: {new.name} = {new.text}" + (f" (moved after {after}, which it reads)" if after
                                                                  else "") + (
                        f"; dropped the values of {', '.join(dropped)} (not inputs now)" if dropped else "")]
                    g = prog.graph
                    wait = sorted(m for m in prog.inputs if m not in self.at
                                  and g.read_by([g.slot_of[new.name]])[g.slot_of[m]])
                    if wait:  # (the new statement's own inputs without a value: said, as for a new one)
                        out.append(f"{new.name}: waiting for a value of {', '.join(wait)} "
                                   f"(:at {' '.join(f'{m}=…' for m in wait)})")
                    assigned = [n for n in prog.names if n not in prog.inputs]  # a typo's new input, as for a new line
                    out += [f"{n} is a new input: did you mean {m[0]}?" for n in prog.inputs if n not in inputs_before
                            for m in [difflib.get_close_matches(n, [a for a in assigned if a != n], 1, 0.6)] if m]
                    if self.at and all(n in self.at for n in prog.inputs):
                        reached = {new.name}
                        for st in prog.graph.statements:
                            if reached & set(names(st.expr)):
                                reached.add(st.name)
                        try:
                            vals = prog.forward(_given(prog, self.at))
                        except GraphlangError as err:
                            return out + [self._error(err, "".join(c + "\n" for c in edited))]
                        out.append("  ".join(f"{n} = {render.tensor(vals[n])}" for n in prog.names if n in reached))
                    return out
        return None

    @staticmethod
    def _moved(rest: list[str], text: str, bad: GraphlangError) -> tuple[list[str], str] | None:
        """The statement after the chunk assigning each node it reads before that node's line."""
        for _ in range(len(rest)):
            m = re.match(r"'(\w+)' is used before it is assigned", bad.message) if bad.kind == "undefined" else None
            if m is None:
                return None
            where = [j for j, c in enumerate(rest) if m.group(1) in
                     [st.name for st in parser.parse_statements(c) if st.kind == "assign"]]
            if not where:
                return None
            trial = rest[:where[0] + 1] + [text] + rest[where[0] + 1:]
            try:
                graphlang.parse("".join(c + "\n" for c in trial))
            except GraphlangError as again:
                bad = again
                continue
            return trial, m.group(1)
        return None

    @staticmethod
    def _error(err: GraphlangError, source: str) -> str:
        if err.hint:  # (a name given a value, then assigned: its value is forgotten, no line deleted)
            err.hint = re.sub(r"; or delete line \d+ to make (\w+) an input \(inputs are never assigned\)",
                              r"; or forget its :at value: :at \1=", err.hint)
            err.hint = re.sub(r"--at\b", ":at", err.hint)
        err.message = re.sub(r"--at\b", ":at", err.message)
        return render.error_text(err, "<repl>", source).plain


NAMES = ["a", "b", "c", "x", "y", "w", "pi", "exp", "input"]
name = st.sampled_from(NAMES)
expr = st.one_of(
    st.builds(lambda m: f"{m} * 2", name), st.builds(lambda m, k: f"{m} + {k}", name, name),
    st.builds(lambda m: f"exp({m})", name), st.builds(lambda m: f"ln({m} - 3)", name),
    st.builds(lambda m: f"sum({m})", name), st.just("1.5"), name,
    st.builds(lambda m: f"foo({m})", name), st.builds(lambda m: f"({m} +", name))
plain_statement = st.one_of(
    st.builds(lambda n, e: f"{n} = {e}", name, expr), st.builds(lambda n, e: f"{n} = {e}", name, expr),
    st.builds(lambda k, n: f"{k} {n}", st.sampled_from(["input", "param"]), name),
    st.builds(lambda n: f"input {n}[2]", name),
    st.builds(lambda n, m: f"input {n}, {m}", name, name),
    st.builds(lambda n: f"output {n}", name), st.builds(lambda n, m: f"output {n}, {m}", name, name),
    st.just("= 3"), st.just("a ="))
statement = plain_statement | st.sampled_from([":undo", ":at x=-2"])


def _plain(shown: list) -> list[str]:
    return [s.plain if hasattr(s, "plain") else str(s) for s in shown]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(statement, min_size=1, max_size=12), st.booleans())
def test_one_statement_at_a_time_equals_checking_the_whole_session(statements, with_values):
    session, whole = ReplSession(), Whole()
    if with_values:
        for s in (session, whole):
            s.handle(":at x=2 y=3 w=0.5 c=-1")
    for text in statements:
        assume(not _assigns_a_name_read_above(text, session.chunks))  # (an edit: see below)
        assume(not _outputs_again(text, session.chunks))
        got = _plain(session.handle(text))
        want = whole.handle(text)
        if not text.startswith(":"):  # the commands' own messages are not the point here
            assert got == want, (text, whole.chunks)
        assert session.chunks == whole.chunks


def _several_edit(text: str, chunks: list[str]) -> bool:
    """A line of several statements assigning a name assigned above: the REPL replaces each (test_repl's
    line-of-several tests), where the whole session checked again refuses the redefinition."""
    try:
        mine = [st.name for st in parser.parse_statements(text) if st.kind == "assign"]
        above = {st.name for c in chunks for st in parser.parse_statements(c) if st.kind == "assign"}
    except GraphlangError:
        return False
    return len(parser.parse_statements(text)) > 1 and bool(set(mine) & above)


def _outputs_again(text: str, chunks: list[str]) -> bool:
    """`output y` after `output a`: the REPL replaces the output statement (test_repl's), where the
    whole session checked again says "the output is already named"."""
    try:
        return any(st.kind == "output" for st in parser.parse_statements(text)) and \
            any(st.kind == "output" for c in chunks for st in parser.parse_statements(c))
    except GraphlangError:
        return False


def _assigns_a_name_read_above(text: str, chunks: list[str]) -> bool:
    """A statement assigning a name an earlier one reads: the REPL puts it in before its reader (or
    reorders, or says "a cycle"), where the whole session checked again says "used before it is
    assigned". Those edits are test_repl's (top-down graphs, cycles); this test compares the rest."""
    try:
        mine = {st.name for st in parser.parse_statements(text) if st.kind == "assign"}
        above = [st for c in chunks for st in parser.parse_statements(c)]
    except GraphlangError:
        return False
    assigned = {st.name for st in above if st.kind == "assign"}
    read = {n for st in above if st.expr is not None for n in names(st.expr)}
    return bool(mine & (read - assigned))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(plain_statement, min_size=1, max_size=3), min_size=1, max_size=6), st.booleans())
def test_chunks_of_several_statements_get_the_same_verdict(chunks, with_values):
    session, whole = ReplSession(), Whole()
    if with_values:
        for s in (session, whole):
            s.handle(":at x=2 y=3 w=0.5 c=-1")
    for chunk in chunks:
        text = "; ".join(chunk)
        assume(not _assigns_a_name_read_above(text, session.chunks) and not _several_edit(text, session.chunks))
        session.handle(text)
        whole.handle(text)
        assert session.chunks == whole.chunks, text


def test_undo_load_and_reset_resynchronize(tmp_path):
    (tmp_path / "p.cg").write_text("input x\na = x * 2\nb = a + 1\n")
    s = ReplSession()
    s.handle(":at x=3")
    assert _plain(s.handle("a = x * 2")) == ["a = 6"]
    s.handle(":undo")
    assert _plain(s.handle("a = x * 4")) == ["a = 12"]  # 'a' is free again after :undo
    s.handle(f":load {tmp_path / 'p.cg'}")
    assert "a cycle" in _plain(s.handle("a = b"))[0]  # b is computed from a: cannot replace
    assert _plain(s.handle("c = b * 10")) == ["c = 70"]
    s.handle(":at x=1")  # new values: the next statement is evaluated from them
    assert _plain(s.handle("d = c + b")) == ["d = 33"]
    s.handle(":reset")
    assert _plain(s.handle("b = 2")) == ["b = 2"] and s.program() is not None  # constants: shown at once


class Counter:
    def __init__(self, monkeypatch):
        self.chars = self.checked = self.equations = 0
        real_parse, real_check, real_forward = parser.parse_fast, resolve.check, interpreter.forward

        def parse_fast(text, limits):
            self.chars += len(text)
            return real_parse(text, limits)

        def check(statements):
            self.checked += len(statements)
            return real_check(statements)

        def forward(graph, inputs, batched=False, **kw):
            self.equations += len(graph.eqns)
            return real_forward(graph, inputs, batched, **kw)

        monkeypatch.setattr(parser, "parse_fast", parse_fast)
        monkeypatch.setattr(incremental, "check", check)
        monkeypatch.setattr(graphlang.program, "check", check)
        monkeypatch.setattr(interpreter, "forward", forward)


@pytest.mark.parametrize("values", [False, True])
def test_each_statement_is_parsed_checked_and_evaluated_once(monkeypatch, values):
    n = 2000
    lines = ["x0 = x * 2"] + [f"x{i} = x{i - 1} + x" for i in range(1, n)]
    script = (":at x=2\n" if values else "") + "\n".join(lines) + "\n"
    count = Counter(monkeypatch)
    buf = io.StringIO()
    code = run_lines(ReplSession(), Console(file=buf, width=100, color_system=None), io.StringIO(script))
    assert code == 0
    assert count.chars <= 2 * len(script)  # the whole session again each time: ~n²/2 lines
    assert count.checked <= n + 1  # with values, the first one builds the (one-statement) program
    if values:
        assert f"x{n - 1} = {2 * (n + 1)}" in buf.getvalue()  # x_i = 2(i + 2), by induction
        assert count.equations <= 2 * n + 10
    else:
        assert count.equations == 0


def test_an_unclosed_bracket_is_bounded_and_linear(monkeypatch):
    """`y = (x` and 20,000 more lines: each line is not re-scanned; the statement is refused once."""
    script = "y = (x\n" + "+ 1\n" * 20_000 + "z = 2 * 3\n"
    seen = []
    real = __import__("graphlang.repl.terminal", fromlist=["is_complete"]).is_complete
    monkeypatch.setattr("graphlang.repl.terminal.is_complete", lambda text: seen.append(len(text)) or real(text))
    buf = io.StringIO()
    session = ReplSession()
    code = run_lines(session, Console(file=buf, width=200, color_system=None), io.StringIO(script))
    out = buf.getvalue()
    assert code == 1 and out.count("error:") == 1 and "still open after 10,001 lines" in out
    assert sum(seen) <= 2 * len(script)
    assert session.chunks == []  # the refused statement's other lines were dropped with it


def test_an_endless_line_is_read_in_bounded_pieces():
    s = ReplSession()
    limit = s.limits.max_line_chars
    buf = io.StringIO()
    code = run_lines(s, Console(file=buf, width=200, color_system=None),
                     io.StringIO("a = 1\n" + "(" * (3 * limit) + "\nb = a + 1\n:at\n"))
    assert code == 1 and f"a line longer than {limit:,} characters" in buf.getvalue()
    assert s.chunks == ["a = 1", "b = a + 1"]


def test_five_thousand_piped_statements_finish():
    """Before: 1,000 statements took 10.8 s and 5,000 did not finish in 300 s (quadratic)."""
    lines = [":at x=2", "x0 = x * 2"] + [f"x{i} = x{i - 1} + x" for i in range(1, 5000)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "TERM": "dumb"}
    ran = subprocess.run([sys.executable, "-m", "graphlang", "repl"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, env=env, timeout=300)
    assert ran.returncode == 0 and "x4999 = 10002" in ran.stdout


def test_a_session_with_one_input_lacking_a_value_stays_linear(monkeypatch):
    """Names that read no input lacking a value are shown at once, each computed from the whole
    program: with `input y` unset and x set, every line of a long session rebuilt the program
    (2,000 lines: 13 s). Past SMALL characters of session they wait for :at, as the rest do."""
    from graphlang.repl import commands as rc
    n = 2000
    script = "input y\n:at x=2\n" + "\n".join(f"x{i} = x * {i}" for i in range(n)) + "\n"
    count = Counter(monkeypatch)
    buf = io.StringIO()
    assert run_lines(ReplSession(), Console(file=buf, width=100, color_system=None), io.StringIO(script)) == 0
    assert count.chars <= 2 * len(script) + (rc.SMALL // 10) * rc.SMALL  # a bounded number of rebuilds
    assert "x3 = 6" in buf.getvalue()  # (early on, shown at once: 2·3)


def test_adding_a_statement_touches_only_its_own_names_and_an_error_changes_nothing():
    """`Names.add` copied its six dicts of every name so far for each statement: a pasted session of
    160,000 lines took 3 minutes (quadratic). It now updates in place once every check has passed;
    a chunk that fails leaves the names as they were (the REPL keeps them)."""
    from graphlang.limits import Limits
    names = incremental.Names()
    for i in range(50):
        names, _, _ = names.add(f"a{i} = x * {i}", Limits())
    assigned = names.assigned
    same, _, _ = names.add("b = a3 + w", Limits())
    assert same is names and names.assigned is assigned and names.fresh == ["w"]
    before = (dict(names.assigned), dict(names.inputs), names.lines, names.statements, names.nodes)
    for bad in ("c = a1 + 1\noutput nowhere", "a2 = 5", "x = 3"):
        with pytest.raises(GraphlangError):
            names.add(bad, Limits())
        assert (dict(names.assigned), dict(names.inputs), names.lines, names.statements, names.nodes) == before
