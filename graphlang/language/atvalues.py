"""`--at` and `--at-file`: values from the command line, parsed without eval or recursion."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.language.ast import underflows
from graphlang.language.source import LOOKALIKES, STDIN_NAMES, stdin_bytes, stdin_free, substituted

MAX_AT_CHARS = 10_000_000
MAX_AT_DEPTH = 32
# ASCII digits only: \d alone would read "٣" (Arabic-Indic three) as 3
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|infinity|inf)", re.I | re.ASCII)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


def _usage(msg: str, hint: str | None = None) -> GraphlangError:
    return GraphlangError("usage", msg, hint=hint or "write --at name=value,name=[1,2,3]")


def _names_pair(text: str, j: int) -> bool:
    """Whether `name =` starts at j: after `x= ` it begins the next pair (`:at x= z=3` forgets x)."""
    k, n = j, len(text)
    while k < n and (text[k].isalnum() or text[k] == "_"):
        k += 1
    if k == j or text[j].isdigit():
        return False
    while k < n and text[k].isspace():
        k += 1
    return k < n and text[k] == "="


def split_pairs(text: str) -> list[str]:
    """The `name=value` pairs of `--at` text (and the REPL's `:at`), split on commas, or on blanks
    not next to an '=', outside brackets: `x=[1, 2],y=3`, `x=2 z=3`, `x = 2, z = 3`, `x= z=3` (x's
    value empty). Linear: each run of blanks and each name after one is looked at at most twice."""
    parts, depth, start, i, n, comma, other = [], 0, 0, 0, len(text), -1, 0
    while i < n:
        ch = text[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise _usage(f"--at {text[:60]!r}: a ']' without '['")
        elif depth == 0 and other == 0 and ch.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            if not (j < n and text[j] == "=" or i > 0 and text[i - 1] == "=" and not _names_pair(text, j)):
                parts.append(text[start:i])
                start = j
            i = j
            continue
        elif ch in "({":
            other += 1  # `x=(1,0,-1)`: one value (parse_value says to write brackets)
        elif ch in ")}":
            other -= 1
        elif depth == 0 and ch == "," and other > 0:
            pass
        elif depth == 0 and ch == ",":
            if not text[comma + 1:i].strip():  # `x=2,,z=3`, `,x=2`: a pair left out?
                raise _usage(f"--at {text[:60]!r}: an empty pair (a comma with nothing before it)")
            parts.append(text[start:i])
            start, comma = i + 1, i
        i += 1
    if depth:
        raise _usage(f"--at {text[:60]!r}: an unclosed '['",
                     "quote a value with spaces, --at 'x=[1, 2, 3]' (the shell splits it at each space), "
                     "or write it without them: --at x=[1,2,3]")
    if comma >= 0 and not text[comma + 1:].strip():
        raise _usage(f"--at {text[:60]!r}: an empty pair (a comma with nothing after it)")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_value(name: str, text: str) -> Any:
    """A number or a bracketed (nested) list of numbers."""
    pos, n = 0, len(text)
    stack: list[list[Any]] = []
    result: Any = None
    expect_value = True
    while pos < n:
        ch = text[pos]
        if ch.isspace():
            pos += 1
            continue
        if ch == "[" and expect_value:
            if len(stack) >= MAX_AT_DEPTH:
                raise GraphlangError("limit", f"the value of {name!r} nests deeper than {MAX_AT_DEPTH}")
            stack.append([])
            pos += 1
            continue
        if ch == "]" and stack:
            if expect_value and stack[-1]:
                raise _usage(f"the value of {name!r} has a comma before ']': {text[:60]!r}")
            done = stack.pop()
            if stack:
                stack[-1].append(done)
            else:
                result = done
            pos += 1
            expect_value = False
            continue
        if ch == "," and stack and not expect_value:
            expect_value = True
            pos += 1
            continue
        if ch in "({" and expect_value:
            closer = ")" if ch == "(" else "}"
            one = _NUMBER.fullmatch(text[pos + 1:].rstrip().rstrip(closer).strip())
            raise _usage(f"the value of {name!r} is written in {ch}{closer}: {text[:60]!r}",
                         f"write {name}={one.group()} (no brackets)" if one and text.rstrip().endswith(closer)
                         else f"lists go in square brackets: {name}=[1,2,3]")
        m = _NUMBER.match(text, pos)
        if m and expect_value and result is None:
            value = float(m.group())
            if not math.isfinite(value):  # `x=nan`: not a number (SPEC: a usage error), 1e400: infinity
                raise _usage(f"the value of {name!r} is not a finite number: {m.group()[:40]!r}",
                             "give finite numbers (float64 ends at ±1.8e308: 1e400 is infinity)")
            if underflows(m.group(), value):  # 1e-400: 0 in float64, as a literal is refused
                raise _usage(f"the value of {name!r} is too small for float64: {m.group()[:40]!r} would be 0",
                             TOO_SMALL_HINT)
            if stack:
                stack[-1].append(value)
            else:
                result = value
            pos = m.end()
            expect_value = False
            continue
        if ch in LOOKALIKES:  # pasted from slides: `x=−3`
            raise _usage(f"the value of {name!r} has {ch!r} (U+{ord(ch):04X}): {text[:60]!r}", LOOKALIKES[ch])
        if stack and not expect_value and _NUMBER.match(text, pos):  # `[1 2 3]`, as numpy prints it
            raise _usage(f"the value of {name!r} has two numbers without a comma between them: {text[:60]!r}",
                         f"separate a list's numbers with commas: {name}=[1,2,3]")
        raise _usage(f"the value of {name!r} is not a number or a bracketed list: {text[:60]!r}")
    if stack or result is None:
        raise _usage(f"the value of {name!r} is incomplete: {text[:60]!r}")
    _rectangular(name, text, result)
    return result


def _rectangular(name: str, text: str | None, value: Any, where: str = "") -> None:
    """A bracketed value is a vector or a matrix (…): no empty list, every row as long as the first,
    numbers only at the last level. (Level by level: no recursion.) `where`: `--at-file F: `."""
    level = [value] if isinstance(value, list) else []
    quoted = "" if text is None else f": {text[:60]!r}"
    while level:
        if any(not row for row in level):
            raise _usage(f"{where}the value of {name!r} has an empty list{quoted}", "give numbers: v=[1,2,3]")
        deeper = [isinstance(v, list) for row in level for v in row]
        if len({len(row) for row in level}) > 1 or len(set(deeper)) > 1:
            raise _usage(f"{where}the value of {name!r} is ragged (rows of different lengths or depths){quoted}",
                         "every row of a matrix needs the same length: W=[[1,2],[3,4]]")
        level = [v for row in level for v in row] if deeper[0] else []


def parse_at(items: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        if len(item) > MAX_AT_CHARS:
            raise GraphlangError("limit", "an --at value is longer than 10,000,000 characters")
        last = ""
        if item.lstrip().startswith("{"):  # `--at '{"x": 2}'`: JSON
            raise _usage(f"--at {item[:60]!r}: --at takes name=value pairs",
                         "write --at x=2,v=[1,2], or put the JSON in a file and give --at-file values.json")
        for pair in split_pairs(item):
            if "=" not in pair:
                before, _, first = last.partition("=")
                vector = last and _NUMBER.fullmatch(pair.strip()) and _NUMBER.fullmatch(first.strip())
                raise _usage(f"--at {pair[:60]!r} has no '='", (  # x=1,2: the brackets forgotten
                    f"a vector needs brackets: {before.strip()}=[{first.strip()},{pair.strip()}]"[:120]
                    if vector else None))
            last = pair.strip()
            name, _, text = pair.partition("=")
            name = name.strip()
            if not _NAME.match(name):
                raise _usage(f"--at: {name[:60]!r} is not a name")
            if name in values:
                raise _usage(f"--at gives {name!r} twice")
            if not text.strip():
                raise _usage(f"--at {name}= has no value", f"write {name}=2 or {name}=[1,2,3]")
            values[name] = parse_value(name, text.strip())
    return values


class Duplicate(Exception):
    pass


class TooSmall(Exception):
    """A JSON number other than 0 that float64 rounds to 0 (1e-400)."""


TOO_SMALL_HINT = "numbers other than 0 must be above about 4.9e-324; write 0 if you mean it"


def json_float(text: str) -> float:
    """json's parse_float: as --at, a number that float64 would make 0 (1e-400) is refused, not 0."""
    value = float(text)
    if underflows(text, value):
        raise TooSmall(text[:40])
    return value


def duplicates_refused(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object_pairs_hook: a key given twice raises Duplicate (json keeps the last silently)."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise Duplicate(key)
        obj[key] = value
    return obj


_OPEN, _CLOSE = np.frombuffer(b"[{", dtype=np.uint8), np.frombuffer(b"]}", dtype=np.uint8)
_JSON_NUMBERS = frozenset({float, int})  # (what json.loads makes of a number)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?', re.DOTALL)  # a JSON string (or an unclosed one, to the end)


def _json_depth(data: bytes) -> int:
    """How deep JSON brackets nest, outside strings (a "[" inside a string is text): a running sum
    of +1 per opening and -1 per closing bracket, taken by numpy (a Python loop took 2 s on 10 MB)."""
    code = np.frombuffer(_STRING.sub(b"", data), dtype=np.uint8)
    step = np.isin(code, _OPEN).astype(np.int64) - np.isin(code, _CLOSE)
    return int(np.cumsum(step).max(initial=0))




def read_at_file(path: str, stdin: bool = False) -> dict[str, Any]:
    """The values in a JSON file (`stdin`: `-` is standard input, as on the command line a program's
    path may be; not in the REPL, whose standard input may be its script)."""
    p = Path(path)
    if path in STDIN_NAMES and stdin:
        stdin_free(f"--at-file {path}")
    if path == "-" and stdin:
        data = stdin_bytes(MAX_AT_CHARS + 1, "--at-file -")
    elif not p.is_file() and not substituted(p):
        raise GraphlangError("io", f"--at-file {path}: no such file"
                             if not p.exists() else f"--at-file {path} is not a regular file",
                             hint='check the path; the file holds a JSON object such as {"x": 2, "z": 3}')
    else:
        try:
            with p.open("rb") as fh:
                data = fh.read(MAX_AT_CHARS + 1)
        except OSError as err:  # (unreadable: not the "cannot write the output" main says of an OSError)
            raise GraphlangError("io", f"cannot read --at-file {path}: {err.strerror}",
                                 hint='the file holds a JSON object such as {"x": 2, "z": 3}') from None
    if len(data) > MAX_AT_CHARS:
        raise GraphlangError("limit", f"--at-file {path} is larger than {MAX_AT_CHARS:,} bytes",
                             hint="give only the program's inputs (a checker: smaller tensors)")
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark, as .cg files may have
        data = data[3:]
    if _json_depth(data) > MAX_AT_DEPTH:
        raise GraphlangError("limit", f"--at-file {path} nests deeper than {MAX_AT_DEPTH} levels",
                             hint="values are numbers, vectors and matrices (a few levels of lists)")
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=lambda c: float(c.lower()
                         .replace("infinity", "inf")), object_pairs_hook=duplicates_refused, parse_float=json_float,
                         parse_int=lambda d: int(d) if len(d) <= 300 else float(d))  # 4,301 digits: no int
    except Duplicate as dup:
        raise GraphlangError("usage", f"--at-file {path} gives {dup.args[0]!r} twice",
                             hint="each name once") from None
    except TooSmall as small:
        raise GraphlangError("usage", f"--at-file {path}: {small.args[0]} is too small for float64 (it would be 0)",
                             hint=TOO_SMALL_HINT) from None
    except (ValueError, RecursionError) as err:
        raise GraphlangError("usage", f"--at-file {path} is not valid JSON: {str(err)[:100]}",
                             hint='write a JSON object: {"x": 2, "W": [[1, 0], [0, 1]]}') from None
    if not isinstance(obj, dict):
        raise GraphlangError("usage", f"--at-file {path} must hold a JSON object (name -> value)",
                             hint='write {"x": 2, "W": [[1, 0], [0, 1]]}')
    for name, value in obj.items():  # as malformed as `--at x=abc`: the command line's mistake
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, list):
                if set(map(type, v)) <= _JSON_NUMBERS and all(map(math.isfinite, v)):
                    continue  # a row of finite numbers (checked in C; one at a time below otherwise)
                stack.extend(v)
            elif isinstance(v, float) and not math.isfinite(v):  # NaN, Infinity, 1e999 (as `--at x=nan`)
                raise GraphlangError("usage", f"--at-file {path}: the value of {str(name)[:40]!r} is not a "
                                     f"finite number ({json.dumps(v)})", hint="give finite numbers")
            elif isinstance(v, bool) or not isinstance(v, (int, float)):
                raise GraphlangError("usage", f"--at-file {path}: the value of {str(name)[:40]!r} is not a number "
                                     f"or a list of numbers ({json.dumps(v)[:40]})",
                                     hint='write numbers unquoted: {"x": 2, "W": [[1, 0], [0, 1]]}')
        _rectangular(str(name)[:40], None, value, f"--at-file {path}: ")  # as `--at x=[1,[2]]`: a usage error
    return obj


def wrt_names(wrt: str | None) -> list[str] | None:
    """`--wrt x,z` as names; a comma inside brackets is an element's (`W2[1,2]`, named whole in errors)."""
    if not wrt:
        return None
    parts, depth, start = [], 0, 0  # (one pass: a lookahead to the next `]` per comma was quadratic)
    for k, ch in enumerate(wrt):
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth <= 0:
            parts.append(wrt[start:k])
            start = k + 1
    parts.append(wrt[start:])
    return [w.strip() for w in parts if w.strip()] or None
