"""One more chunk of statements checked against the names so far, without re-reading the others.

The REPL adds statements one at a time; parsing and checking the whole session again each time
makes a session of n statements cost O(n²). `Names` keeps what the full check (`resolve.check`)
needs to know about the statements so far: which names are assigned, declared and read as inputs,
where, and whether the output is named. `Names.add` parses only the new text, places it after the
lines so far, applies the rules that involve earlier statements, then `check` on the chunk alone for
the rest, so one more chunk costs O(chunk). The verdict is the full check's; for a one-statement
chunk the error (kind, message, line, column) is too (tests/test_incremental.py compares them).

Session-wide limits (characters, statements, nodes) are counted here; `near_limits` says when the
caller should check the whole session again for the exact limit error. `StatementReader` gathers
piped lines into inputs in O(line) each, with the waiting statement bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.language.ast import Statement, tree_nodes
from graphlang.language.parser import parse_statements
from graphlang.language.resolve import (
    KEYWORDS,
    Checked,
    check,
    declared_as,
    named_once,
    never_defined,
    redefined,
    used_before_hint,
)
from graphlang.limits import Limits
from graphlang.primitives.table import reserved_name

Position = tuple[int, int]


@dataclass
class Names:
    """What the statements so far define, and where."""

    assigned: dict[str, Position] = field(default_factory=dict)
    declared: dict[str, Position] = field(default_factory=dict)
    kind: dict[str, str] = field(default_factory=dict)  # declared name -> input / param
    shapes: dict[str, tuple[int, ...] | None] = field(default_factory=dict)
    used: dict[str, Position] = field(default_factory=dict)  # read before any assignment, first use
    inputs: dict[str, None] = field(default_factory=dict)  # declared or read, never assigned, in order
    output: Position | None = None
    lines: int = 0  # lines of source so far
    chars: int = 0  # characters of source so far (each chunk and its newline)
    statements: int = 0
    nodes: int = 0  # an upper bound on the graph's slots
    fresh: list[str] = field(default_factory=list)  # the inputs the last chunk added, in order

    def positions(self) -> dict[str, Position]:
        """Where an input's value error points: its declaration, else its first use (as `Program`)."""
        return {**self.used, **self.declared}

    def near_limits(self, limits: Limits) -> bool:
        return (self.chars > limits.max_source_chars or self.statements > limits.max_statements
                or self.nodes > limits.max_nodes)

    def add(self, text: str, limits: Limits) -> tuple[Names, list[Statement], Checked | None]:
        """These names with `text` added (placed on the lines after the session's), its statements,
        and the chunk's own check (None without assignments); or the error checking everything would
        raise, with `self` unchanged. Every check runs before anything changes, and then `self` is
        updated in place (copying every dict per statement made a pasted session quadratic: 160,000
        lines took 3 minutes); `fresh` lists the inputs this chunk added, in order."""
        offset = self.lines
        try:
            statements = parse_statements(text + "\n", limits)  # as it ends in the session's source
        except GraphlangError as err:
            if err.line is not None:
                err.line += offset
            raise
        for st in statements:
            _shift(st, offset)
        self._cross_check(statements)
        body = [st for st in statements if st.kind != "output"]
        checked = None
        try:
            checked = check(body)
        except GraphlangError as err:
            if err.kind != "empty":
                raise
        here = {st.name for st in body if st.kind == "assign"} | \
            {item.name for st in body if st.kind != "assign" for item in st.items}
        for st in statements:  # (the last check, still before any change)
            if st.kind == "output":
                named_once(st.items)  # (before "never defined", as the whole check)
                for item in st.items:
                    known = item.name in self.assigned or item.name in self.inputs or item.name in here or (
                        checked is not None and item.name in checked.inputs)
                    if not known:
                        raise never_defined(item.name, item.line, item.column)
        self.lines += text.count("\n") + 1
        self.chars += len(text) + 1
        self.statements += len(statements)
        fresh: list[str] = []
        for st in body:
            if st.kind == "assign":
                self.assigned[st.name] = (st.line, st.column)
                assert st.expr is not None
                self.nodes += len(tree_nodes(st.expr)) + 1
            else:
                for item in st.items:
                    self.declared[item.name] = (item.line, item.column)
                    self.kind[item.name] = st.kind
                    self.shapes[item.name] = item.shape
                    if item.name not in self.inputs:
                        self.inputs[item.name] = None
                        fresh.append(item.name)
                    self.nodes += 1
        if checked is not None:
            for name in checked.inputs:
                if name not in self.assigned:
                    if name not in self.inputs:
                        self.inputs[name] = None
                        fresh.append(name)
                    if name in checked.first_use and name not in self.used:
                        self.used[name] = checked.first_use[name]
                        self.nodes += 1
        for st in statements:
            if st.kind == "output":
                self.output = (st.line, st.column)
        self.fresh = fresh
        return self, statements, checked

    def _cross_check(self, statements: list[Statement]) -> None:
        """The rules that involve an earlier statement, in the order the full check meets them."""
        assigned_here: dict[str, Position] = {}
        for st in statements:
            if st.kind == "assign":
                assigned_here.setdefault(st.name, (st.line, st.column))
        # Earlier statements come first: one that declares or reads a name assigned only now.
        earliest: tuple[Position, GraphlangError] | None = None
        for name, (line, column) in assigned_here.items():
            conflicts = []
            if name in self.declared:
                conflicts.append((self.declared[name], GraphlangError(
                    "reserved", f"{name!r} is declared as {declared_as(self.kind[name])} but assigned on line {line}",
                    line, column, "inputs get their values from --at; rename the intermediate")))
            if name in self.used:
                conflicts.append((self.used[name], GraphlangError(
                    "undefined", f"{name!r} is used before it is assigned (on line {line})", *self.used[name],
                    used_before_hint(name))))
            for where, err in conflicts:
                if earliest is None or where < earliest[0]:
                    earliest = (where, err)
        if earliest is not None:
            raise earliest[1]
        output = self.output
        seen: set[str] = set()
        for st in statements:  # a name this chunk alone refuses: `check` on the chunk says so first
            if st.kind in ("input", "param"):
                for item in st.items:
                    if _reserved(item.name) or item.name in assigned_here or item.name in seen:
                        return
                    seen.add(item.name)
                    if item.name in self.declared:
                        raise GraphlangError("redefined", f"{item.name!r} is already declared on line "
                                             f"{self.declared[item.name][0]}", item.line, item.column,
                                             "declare each input once")
                    if item.name in self.assigned:
                        line, column = self.assigned[item.name]
                        raise GraphlangError("reserved", f"{item.name!r} is declared as {declared_as(st.kind)} but "
                                             f"assigned on line {line}", line, column,
                                             "inputs get their values from --at; rename the intermediate")
            elif st.kind == "output":
                if output is not None:
                    raise GraphlangError("redefined", f"the output is already named on line {output[0]}",
                                         st.line, st.column,
                                         "name several outputs in one statement: output y1, y2")
                output = (st.line, st.column)
            elif _reserved(st.name) or st.name in KEYWORDS:
                return
            elif st.name in self.assigned:
                raise redefined(st, self.assigned[st.name])


def _reserved(name: str) -> bool:
    return reserved_name(name)


def _shift(st: Statement, offset: int) -> None:
    """Move a statement parsed on its own to the lines after `offset` earlier lines (fresh nodes)."""
    if not offset:
        return
    st.line += offset
    for item in st.items:
        item.line += offset
    if st.expr is not None:
        for node in tree_nodes(st.expr):
            if node.line is not None:
                node.line += offset


def bounded_lines(stream: Any, limit: int) -> Iterator[str | None]:
    """A text stream's lines, each read with a bound: None for a line over `limit` characters (the
    rest of it is read and dropped, so one endless line does not fill the memory)."""
    readline = getattr(stream, "readline", None)
    if readline is None:
        yield from stream
        return
    while line := readline(limit + 1):
        if len(line) > limit and not line.endswith("\n"):
            while (rest := readline(limit + 1)) and not rest.endswith("\n"):
                pass
            yield None
        else:
            yield line


def bracket_depth(text: str) -> int:
    """Brackets opened minus closed, comments left out (no strings in the language: `#` starts one)."""
    return sum(c.count("(") + c.count("[") - c.count(")") - c.count("]")
               for c in (ln.split("#", 1)[0] for ln in text.split("\n")))


class StatementReader:
    """Lines in, whole inputs out (a statement over several lines, or a `:command`), as `complete`
    decides; it runs only where the brackets are balanced, so a line costs O(line) while they are
    open. At most `max_lines` lines or `max_chars` characters wait: a statement open longer is
    refused, and its remaining lines are dropped until its brackets close."""

    def __init__(self, complete: Callable[[str], bool], max_lines: int, max_chars: int,
                 starts: Callable[[str], bool] = lambda line: False) -> None:
        self.complete = complete
        self.starts = starts  # a line that begins an input of its own even inside open brackets
        self.max_lines = max_lines
        self.max_chars = max_chars
        self.lines: list[str] = []
        self.chars = 0
        self.depth = 0
        self.skipping = False

    def feed(self, line: str) -> str | GraphlangError | None:
        """A complete input, an error to show, or None: keep reading."""
        if self.skipping:
            self.depth += bracket_depth(line)
            self.skipping = self.depth > 0
            return None
        self.lines.append(line)
        self.chars += len(line)
        first = len(self.lines) == 1
        if first and (not line.strip() or line.strip().startswith(":")):
            return self._take()
        self.depth = (0 if first else self.depth) + bracket_depth(line)
        if self.depth <= 0 and (first or line.strip()) and self.complete("".join(self.lines)):
            return self._take()  # (a blank line changes nothing: it was incomplete before it)
        if len(self.lines) > self.max_lines or self.chars > self.max_chars:
            n = len(self.lines)
            self.lines, self.chars, self.skipping = [], 0, self.depth > 0
            return GraphlangError("limit", f"a statement still open after {n:,} lines (an unclosed bracket?)",
                                  hint="close the bracket, or split the statement")
        return None

    def feed_all(self, line: str) -> list[str | GraphlangError]:
        """What `feed` gives, but a `:command` (or a line `starts` says begins a statement) never waits
        behind an unfinished statement: that statement comes out first (to be reported as
        unfinished), then the command."""
        if self.lines and (line.strip().startswith(":") or self.depth > 0 and self.starts(line)):
            unfinished = self._take()
            self.depth, self.skipping = 0, False
            return [unfinished, *self.feed_all(line)]
        got = self.feed(line)
        return [] if got is None else [got]

    def cut(self, limit: int) -> GraphlangError:
        """A line over `limit` characters: the statement it was in is dropped."""
        self.lines, self.chars, self.depth = [], 0, 0
        return GraphlangError("limit", f"a line longer than {limit:,} characters", hint="split the line")

    def rest(self) -> str:
        return self._take()

    def _take(self) -> str:
        text = "".join(self.lines)
        self.lines, self.chars = [], 0
        return text
