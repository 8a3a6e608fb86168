"""Editing the session's statements in place: one replaced (`a = x + z` when a exists, also on a
line it shares), one put in before the statement that reads it (`b = ln(x)` after `e = a / b`), and
a line of several, each as if typed alone."""

from __future__ import annotations

import heapq
import re
from types import SimpleNamespace
from typing import Any

from rich.text import Text

from graphlang.errors import GraphlangError
from graphlang.language.ast import names
from graphlang.language.parser import parse_statements
from graphlang.present import tables as render
from graphlang.program import Program, parse
from graphlang.repl.commands import given, in_repl_words, new_inputs, value_alone, waiting
from graphlang.repl.parked import park, unpark
from graphlang.repl.reads import Reads
from graphlang.repl.splicing import splice, split_before_reader, whole


def replace_statement(session: Any, text: str, err: GraphlangError) -> list[Any]:
    """`a = x * 3` when `a` exists: its statement replaced if the program stays valid (the nodes that
    read it recomputed); values of names that are no longer inputs dropped. Else the error stands."""
    statements, prog = parse_statements(text), session.program()
    if prog is not None and len(statements) == 1 and statements[0].kind == "output":
        return _new_output(session, prog, text, err)
    found = replace(session.chunks, prog, statements[0].name, text) if prog is not None and \
        len(statements) == 1 and statements[0].kind == "assign" else None
    if found is None:
        raise err
    (chunks, after), st = found, statements[0]
    moved = f" (moved after {after}, which it reads)" if after else ""
    return _commit(session, chunks, statements, list(prog.inputs), f"replaced: {st.name} = {st.text}{moved}",  # type: ignore[union-attr]
                   "replaced")


def _new_output(session: Any, prog: Program, text: str, err: GraphlangError) -> list[Any]:
    """`output y` after `output a`: the output statement replaced, as an assignment is (a student's
    find: "the output is already named on line 3")."""
    found = next(((k, i) for k, c in enumerate(session.chunks) for i, line in enumerate(c.split("\n"))
                  if _one_output(line)), None)  # (a line of a loaded file too)
    if found is None:  # (the output named on a line of several statements: as in a file)
        raise err
    k, i = found
    lines = session.chunks[k].split("\n")
    old = lines.pop(i)
    rest = ["\n".join(lines)] if lines else []
    chunks = session.chunks[:k] + rest + session.chunks[k + 1:] + [text]
    try:
        parse("\n".join(chunks) + "\n", limits=session.limits)
    except GraphlangError as bad:
        raise GraphlangError(bad.kind, bad.message, None, None, bad.hint) from None
    return _commit(session, chunks, [], list(prog.inputs), f"replaced: {old.strip()} by {text.strip()}", "replaced")


def _one_output(line: str) -> bool:
    try:
        statements = parse_statements(line)
    except GraphlangError:
        return False
    return len(statements) == 1 and statements[0].kind == "output"


def is_several(text: str) -> bool:
    return ";" in text and len(parse_statements(text)) > 1


def several(session: Any, text: str, err: GraphlangError) -> list[Any]:
    """A line of several statements, as if typed one per line: each replaces its name's statement,
    goes in before the first statement that reads its name, or is added (a student's find: the line
    was refused where the same statements typed one by one were taken)."""
    statements, prog = parse_statements(text), session.program()
    if prog is None or any(st.kind != "assign" for st in statements) or \
            len({st.name for st in statements}) < len(statements):  # (`a = x; a = 2`: as in a file)
        raise err
    chunks, before, said = session.chunks, list(prog.inputs), []
    for st in statements:
        piece = f"{st.name} = {st.text}"
        if st.name in prog.names and st.name not in prog.inputs:
            try:
                found = replace(chunks, prog, st.name, piece)
            except GraphlangError as bad:  # (located in the piece: in the line typed, where it is there as written)
                as_typed = text[st.column - 1:].startswith(piece) and bad.line is None and bad.column
                bad.column = bad.column + st.column - 1 if as_typed and bad.column else None
                raise
            if found is None:
                raise err
            chunks, after = found
            said.append(f"replaced {piece}" + (f" (moved after {after}, which it reads)" if after else ""))
        else:  # read above (waiting for it), or by a statement this line replaces: before that reader
            later = [_assigning(chunks, o.name) for o in statements if o is not st and o.expr is not None
                     and st.name in names(o.expr) and o.name in prog.names and o.name not in prog.inputs]
            reader = _first_reader(chunks, st.name) if st.name in prog.inputs else None
            read = [] if reader is None else [reader]
            first = min(read + later, default=len(chunks))
            if st.name in prog.checked.declared:
                raise err
            chunks = chunks[:first] + [piece] + chunks[first:]
            said.append(f"added {piece}" + (f" before the statement that reads {st.name}" if first < len(chunks) - 1
                                            else ""))
        try:
            prog = parse("\n".join(chunks) + "\n", limits=session.limits)
        except GraphlangError as bad:  # (its line counts the session's, not the line typed)
            raise GraphlangError(bad.kind, bad.message, None, None, bad.hint) from None
    return _commit(session, chunks, statements, before, "; ".join(said), "changed")


def _assigning(chunks: list[str], name: str) -> int:
    """The chunk whose statement assigns `name`."""
    return next(k for k, chunk in enumerate(chunks) if any(
        st.kind == "assign" and st.name == name for st in parse_statements(chunk)))


def _first_reader(chunks: list[str], name: str) -> int | None:
    """The first chunk with a statement that reads `name` (None: no chunk reads it)."""
    return next((k for k, chunk in enumerate(chunks) if any(
        st.expr is not None and name in names(st.expr) for st in parse_statements(chunk))), None)


def _commit(session: Any, chunks: list[str], statements: list[Any], before: list[str], said: str,
            verb: str) -> list[Any]:
    """The edited chunks as the session's (one :undo step); what was done, the values dropped and
    awaited, a typo asked about, and the values the edit reaches (or, its own failure, undone)."""
    session._undo.append(("replace", session.chunks, session.at))
    session.chunks = chunks
    session._synced, session._program = (-1, None), None  # names, program and values again
    prog = session.program()
    # an input no more (or a name now assigned) loses its value; x given before any line reads it keeps it
    dropped = [n for n in session.at if n not in prog.inputs and (n in before or n in prog.names)]
    park(session, {n: session.at[n] for n in dropped})
    session.at = {n: v for n, v in session.at.items() if n not in dropped}
    shown: list[Any] = [Text(said + (f"; dropped the values of {', '.join(dropped)} (not inputs now)"
                                     if dropped else "")), *unpark(session, prog.inputs)]
    names_ = [st.name for st in statements]  # (`y = c * xx`: said to wait for xx)
    shown += waiting(names_, Reads().add(prog.graph.statements), session.at)
    old = set(before)
    nodes = SimpleNamespace(fresh=[n for n in prog.inputs if n not in old],
                            assigned=[n for n in prog.names if n not in prog.inputs])
    shown += new_inputs(nodes, statements)  # `y = d + e + ff`: did you mean f? (as a new line is asked)
    return _recomputed(session, prog, names_, shown, verb)


def insert_earlier(session: Any, text: str, err: GraphlangError) -> list[Any]:
    """`b = ln(x)` after `e = a / b` read b (waiting for its value): the statement goes in before the
    first one that reads b, where the program stays valid (defining a graph top-down, as on paper).
    Else the error stands ("used before it is assigned")."""
    statements = parse_statements(text)
    name = statements[0].name if len(statements) == 1 and statements[0].kind == "assign" else None
    if name is None or name not in session._names.inputs or name in session._names.declared:
        raise err
    first = _first_reader(session.chunks, name)
    chunks = session.chunks[:first] + [text] + session.chunks[first:] if first is not None else None
    cut = split_before_reader(session.chunks[first], name) if first is not None else None
    split = session.chunks[:first] + [cut[0], text, cut[1]] + session.chunks[first + 1:] \
        if cut and first is not None else None
    prog = None
    for tried in (chunks, split):  # before the reader's line; else in it, cut before the reader
        try:
            prog = parse("\n".join(tried) + "\n", limits=session.limits) if tried else None
        except GraphlangError as bad:  # `a = b + 1`, then `b = a * 2`: a cycle, not a statement to move
            now = session.program()
            cycle = _cycle(now, name, bad) if now is not None else ""
            if cycle:
                raise GraphlangError("undefined", cycle, None, None, "a node cannot be computed from itself: "
                                     "one of the two statements must read something else") from None
        if prog is not None:
            chunks = tried
            break
    if prog is None and first is not None:  # `d = exp(a)` read by y above, reading a typed after y: y moves
        ordered = _topological([*session.chunks, text])
        readers = [st.name for chunk in session.chunks for st in parse_statements(chunk)
                   if st.expr is not None and name in names(st.expr)]
        if ordered is not None:
            return _commit(session, ordered, statements, list(session._names.inputs), f"added {name} = "
                           f"{statements[0].text}; {', '.join(readers)}, which read{'s' * (len(readers) == 1)} "
                           f"it, moved after it", "added")
    if prog is None:
        raise err
    session._undo.append(("insert", first) if chunks is not split else ("split", session.chunks, text))
    session.chunks, session._synced = chunks, (-1, None)
    session._program = ((len(session.chunks), session.chunks[-1]), prog)  # (parsed above: not again)
    # (x given before e = x + 1 reads it keeps its value: an input no more, or a name now assigned, loses its own)
    was = set(session._names.inputs)
    kept = {n: v for n, v in session.at.items() if n in prog.inputs or (n not in was and n not in prog.names)}
    park(session, {n: v for n, v in session.at.items() if n not in kept})
    session.at = kept
    line = prog.graph.statement(name).line  # type: ignore[union-attr]
    return _recomputed(session, session.program(), [name], [Text(
        f"added as line {line}, before the statement that reads {name}: {name} = {statements[0].text}"
        + (f" (line {line - 1} cut in two there)" if chunks is split else "")),
        *waiting([name], Reads().add(prog.graph.statements), session.at)], "added")


def _topological(chunks: list[str]) -> list[str] | None:
    """The chunks in an order where every name is assigned before it is read, the typed order kept
    wherever it allows (a graph built top-down, in any order: a student's find); None for a cycle."""
    made, reads = {}, []
    for k, chunk in enumerate(chunks):
        statements = parse_statements(chunk)
        own = {st.name for st in statements if st.kind == "assign"}
        made.update(dict.fromkeys(own, k))
        reads.append({n for st in statements if st.expr is not None for n in names(st.expr)} - own)
    after: list[list[int]] = [[] for _ in chunks]
    waiting_on = [0] * len(chunks)
    for k, read in enumerate(reads):
        for j in {made[n] for n in read if n in made}:
            after[j].append(k)
            waiting_on[k] += 1
    ready = [k for k in range(len(chunks)) if not waiting_on[k]]
    heapq.heapify(ready)
    order = []
    while ready:
        k = heapq.heappop(ready)
        order.append(chunks[k])
        for j in after[k]:
            waiting_on[j] -= 1
            if not waiting_on[j]:
                heapq.heappush(ready, j)
    return order if len(order) == len(chunks) else None


def _recomputed(session: Any, prog: Any, names_: list[str], shown: list[Any], verb: str) -> list[Any]:
    """After statements are replaced or put in: the values they reach, or (their own failure) undone."""
    if session.at and all(n in session.at for n in prog.inputs):
        reached = prog.graph.reached_from([prog.graph.slot_of[n] for n in names_])
        try:
            vals = prog.forward(given(prog, session.at))
        except GraphlangError as bad:  # its own failure: not replaced (as a new statement is not added)
            lines = {prog.graph.statement(n).line for n in names_}
            if bad.line is not None and bad.line < min(lines):  # an earlier line: one a new one reads?
                for n in names_:
                    try:
                        value_alone(prog, n, session.at)
                    except GraphlangError as own:
                        bad = own
                        break
            error = render.error_text(in_repl_words(bad), "<repl>", session._excerpt(bad, ""))
            if bad.line is None or bad.line in lines:
                session._command(":undo")
                return [error, Text(f"(not {verb}: correct it, or the values with :at, and type it again)")]
            return [*shown, error, Text(f"({verb}; line {bad.line} fails at these values)")]
        shown.append(render.pairs([(n, vals[n]) for n in prog.names
                                   if reached[prog.graph.slot_of[n]]]))
    return shown


def replace(chunks: list[str], program: Program, name: str, text: str) -> tuple[list[str], str] | None:
    """The chunks with `name`'s one-line statement replaced by `text`, where the result is still a
    valid program, and "" — or, where the new statement reads a node assigned after it (`y = a + b +
    c` with c typed after y), with the statement moved to just after that node's, and its name;
    None when it cannot be (then the redefinition is an error)."""
    st = program.graph.statement(name)
    if st is None:
        return None
    start = 0
    for k, chunk in enumerate(chunks):
        lines = chunk.split("\n")
        if start + len(lines) >= st.line:
            i = st.line - start - 1
            j = next((j for j in range(i + 1, len(lines) + 1) if whole("\n".join(lines[i:j]))), i + 1)
            lines = lines[:i] + ["\n".join(lines[i:j])] + lines[j:]  # (`b = ln(x⏎)`: its lines as one)
            spliced = splice(lines[i], name, text)
            if spliced is None:
                return None
            alone = parse_statements(lines[i])
            new = chunks[:k] + ["\n".join(lines[:i] + [spliced] + lines[i + 1:])] + chunks[k + 1:]
            try:
                parse("\n".join(new) + "\n")
            except GraphlangError as bad:  # the replacement's own mistake (sine(q), a cycle) is the error
                if bad.kind == "redefined":  # (as in a file: the name is already assigned, use a new one)
                    return None
                cycle = _cycle(program, name, bad)
                if cycle:
                    raise GraphlangError("undefined", cycle, None, None, f"a node cannot be computed from itself: give "
                                         f"the new statement another name ({name}2 = …)") from None
                rest = chunks[:k] + (["\n".join(lines[:i] + lines[i + 1:])] if len(lines) > 1 else []) + chunks[k + 1:]
                moved = _moved_down(rest, text, bad) if len(alone) == 1 else None
                if moved is not None:
                    return moved
                late = _USED.match(bad.message) if bad.kind == "undefined" and len(alone) == 1 else None
                col = (bad.column or 0) - spliced.find(text)  # (in the text typed, where the error is in it)
                raise GraphlangError(bad.kind, bad.message, None, col if bad.line == st.line and 0 < col <= len(
                                     text) and "\n" not in text else None, bad.hint if late is None else
                                     f"it cannot go after {late.group(1)} either (a statement before it reads "
                                     f"{name}): give the new statement another name ({name}2 = …)") from None
            return new, ""
        start += len(lines)
    return None


_USED = re.compile(r"'([A-Za-z_]\w*)' is used before it is assigned")


def _moved_down(chunks: list[str], text: str, bad: GraphlangError) -> tuple[list[str], str] | None:
    """`text` as a chunk of its own just after the chunk that assigns the node it reads too early,
    again for each such node, while the program is valid that way; None where it is not."""
    for _ in range(len(chunks)):
        used = _USED.match(bad.message) if bad.kind == "undefined" else None
        if used is None:
            return None
        other = used.group(1)
        at = next((j for j, chunk in enumerate(chunks) if any(
            st.kind == "assign" and st.name == other for st in parse_statements(chunk))), None)
        if at is None:
            return None
        new = chunks[:at + 1] + [text] + chunks[at + 1:]
        try:
            parse("\n".join(new) + "\n")
        except GraphlangError as again:
            bad = again  # (the next node it reads too early, if that is the trouble)
            continue
        return new, other
    return None


def _cycle(program: Program, name: str, bad: GraphlangError) -> str:
    """The words for a replacement that reads a node computed from the one it replaces (`a = y + 1`
    where y = a * 2), else "": such an edit is a cycle, not a statement to move."""
    used = _USED.match(bad.message) if bad.kind == "undefined" else None
    g = program.graph
    if used is None or used.group(1) not in g.slot_of or name not in g.slot_of:
        return ""
    other = used.group(1)
    if not g.reached_from([g.slot_of[name]])[g.slot_of[other]]:
        return ""
    return f"{name} would read {other}, which is computed from {name}: a cycle"
