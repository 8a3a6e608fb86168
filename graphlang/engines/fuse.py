"""Straight-line scalar code made shorter without changing one bit of what it computes.

A generated function keeps every value in a local of its own: a program of 10⁵ statements had
240,000 locals (most loads and stores then take three bytecode words) where hand-written code has
the intermediates of a line (`log(1 + a·a)`) inside one expression. Two rewrites close that gap:

- `inline`: a temporary that no result needs and exactly one later line reads is written into that
  line, as the parenthesized expression it was: the same operations on the same operands in the
  same order. It happens only where the finiteness analysis (engines/finite.py) still sees an inf
  or NaN of the temporary: where its position shows a non-finite argument (`+ - *`, a numerator,
  ln…), or where the expression is finite whenever its variables are (math raises on overflow).
  A line that received one is never itself inlined, so nesting stays two deep; lines longer than
  LONG take no part (the pass stays linear in the code's length).
- `merge`: `a = E` followed by `a = a + F` becomes `a = (E) + F` (an adjoint's two contributions).
- `copies` (for `evaluate`, whose results are named by the caller): `a = b` that no line reads is
  left out, and the results name `b`.

tests/test_fuse.py checks inline and merge on random programs, bit for bit, against the code without
them, and copies by its rules.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Collection
from itertools import accumulate

from graphlang.engines import finite

_VAR = re.compile(r"\b([vgt]\d+)\b")
LONG = 400  # characters: a longer line is neither inlined nor inlined into (each costs its length)
MERGED = 16  # terms at most in one merged sum (a longer chain nests too deep for the compiler)
_POSITIONS: dict[str, tuple[bool, ...]] = {}  # a numbered right-hand side: which variables show
_FINITE: dict[str, bool] = {}  # a numbered right-hand side: finite whenever its variables are


def _numbered(rhs: str) -> tuple[list[str], str]:
    parts = _VAR.split(rhs)
    return parts, "".join(p if k % 2 == 0 else f"_{k // 2}" for k, p in enumerate(parts))


def _shows(template: str) -> tuple[bool, ...]:
    found = _POSITIONS.get(template)
    if found is None:
        found = finite.line_shape(template)[0]
        if len(_POSITIONS) >= finite.MAX_SHAPES:  # keys hold a program's constants: bounded for a
            _POSITIONS.clear()                       # long-lived process (a checker, the playground)
        _POSITIONS[template] = found
    return found


def _finite(template: str) -> bool:
    found = _FINITE.get(template)
    if found is None:
        found = finite.is_finite_expr(ast.parse(template, mode="eval").body)
        if len(_FINITE) >= finite.MAX_SHAPES:
            _FINITE.clear()
        _FINITE[template] = found
    return found


def inline(lines: list[str], keep: Collection[str]) -> list[str]:
    """`lines` with each single-use temporary outside `keep` written into the line that reads it."""
    split = [ln.split(" = ", 1) for ln in lines]
    rhs_text = "\n".join([rhs for _, rhs in split])
    starts = [0, *accumulate(len(rhs) + 1 for _, rhs in split)]  # each right-hand side's offset
    uses = Counter(_VAR.findall(rhs_text))
    read_at = {m.group(): m.start() for m in _VAR.finditer(rhs_text)}  # a name read once: where
    targets = [t for t, _ in split]
    writes = Counter(targets)
    written_at = dict(zip(targets, range(len(targets))))  # a name assigned once: its line
    assigned: dict[str, list[int]] = {}  # a name assigned more than once: its lines (ascending)
    for i in [i for i, t in enumerate(targets) if writes[t] > 1]:
        assigned.setdefault(targets[i], []).append(i)
    grown: set[int] = set()
    gone: set[int] = set()
    for i in [i for i, t in enumerate(targets) if uses[t] == 1 and t not in keep and writes[t] == 1]:
        target, rhs = split[i]
        if i in grown or " if " in rhs or len(rhs) > LONG or not _VAR.match(target):
            continue
        u = bisect_right(starts, read_at[target]) - 1
        if u <= i or any(bisect_right(assigned[r], i) != bisect_left(assigned[r], u) if r in assigned else
               i < written_at.get(r, -1) < u for r in _VAR.findall(rhs)):  # assigned in between
            continue
        use_target, use_rhs = split[u]
        if " if " in use_rhs or len(use_rhs) > LONG or use_target == target:
            continue
        parts, template = _numbered(use_rhs)
        k = parts[1::2].index(target)
        if not _shows(template)[k] and not _finite(_numbered(rhs)[1]):
            continue
        parts[2 * k + 1] = f"({rhs})"
        split[u] = [use_target, "".join(parts)]
        grown.add(u)
        gone.add(i)
    return [f"{t} = {r}" for i, (t, r) in enumerate(split) if i not in gone]


def merge(lines: list[str]) -> list[str]:
    """`a = E` then `a = a + F` (F not reading a) as `a = (E) + F`."""
    out: list[str] = []
    last, terms = "", 0
    for line in lines:
        target, rhs = line.split(" = ", 1)
        if target == last and terms < MERGED and rhs.startswith(target + " + ") and " if " not in line:
            rest = rhs[len(target) + 3:]
            prev = out[-1].split(" = ", 1)[1]
            if target not in _VAR.findall(rest) and " if " not in prev:
                out[-1] = f"{target} = {prev} + {rest}" if terms > 1 else f"{target} = ({prev}) + {rest}"
                terms += 1
                continue
        out.append(line)
        last, terms = target, 1
    return out


_COPY = re.compile(r"[vgt]\d+|-?\d+\.\d+(e[-+]?\d+)?")


def copies(lines: list[str]) -> tuple[list[str], dict[str, str]]:
    """Statements `a = b` (a variable's final value, or a number) that no line reads, left out, and
    what each such `a` is: results name `b` itself (a copy costs a local and two instructions; 16 %
    of a program's adjoints are copies)."""
    split = [ln.split(" = ", 1) for ln in lines]
    last = {t: i for i, (t, _) in enumerate(split)}
    read = set(_VAR.findall("\n".join(rhs for _, rhs in split)))
    alias: dict[str, str] = {}
    kept: list[str] = []
    for i, (target, rhs) in enumerate(split):
        if _COPY.fullmatch(rhs) and target not in read and last[target] == i and last.get(rhs, -1) < i:
            alias[target] = rhs
        else:
            kept.append(lines[i])
    return kept, alias


def shorten(lines: list[str], keep: Collection[str]) -> list[str]:
    """Both rewrites: the same values, fewer locals and statements."""
    return merge(inline(lines, keep))
