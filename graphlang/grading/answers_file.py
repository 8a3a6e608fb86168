"""A student's answers file: JSON read with a located message ("not valid JSON (line 3, column 5)").

What is wrong *inside* the file is the student's mistake: a message for the report, never an
exception. A file that cannot be read at all is the caller's (a usage error naming the option).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.grading.options import LOOKS_LIKE

MAX_BYTES = 1_000_000
_PROGRAM = re.compile(r"\s*(?:#|[A-Za-z_]\w*\s*=[^=]|(?:input|param|output)\s)")


class Answers(dict[str, Any]):
    """A file's answers, with the later values of a key the file gives more than once (`repeated`):
    graded as "answered twice", that item alone, not the whole file refused."""

    repeated: dict[str, list[Any]]


class Written(float):
    """A JSON number with the text the student wrote: `1.00` keeps its three significant figures,
    which float("1.00") = 1.0 loses (a hint said "it is read as 1.0": 3 figures expected)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> Written:
        obj = super().__new__(cls, text)
        obj.text = text
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # (to a worker's parent: a plain float)
        return float, (float(self),)


_JSON_KIND = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true or false",
              type(None): "null"}  # what the top level of the file is, in JSON's words


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = Answers()
    out.repeated = {}
    for k, v in pairs:
        if k in out:
            out.repeated.setdefault(k, []).append(v)
        else:
            out[k] = v
    return out


def _slip(text: str, pos: int) -> str:
    """What a JSON syntax error most likely is, in a student's words (json says only "Expecting
    value" for −2.6, None or a trailing comma: a TA's find)."""
    at, before = text[pos:pos + 12], text[:pos].rstrip()
    if at.startswith(("\u2212", "\u2013")):
        return f": {at[0]!r} is a typographic minus (from a PDF or a word processor); type the ASCII '-'"
    word = re.match(r"[A-Za-z]+", at)
    if word and word.group() in ("None", "True", "False", "NaN", "Infinity", "nan", "inf"):
        return (f": {word.group()} is no JSON value; " + ("JSON writes null, true, false" if word.group() in
                ("None", "True", "False") else "every answer is a finite number"))
    if at.startswith(("}", "]")) and before.endswith(","):
        return f": remove the comma before {at[0]!r} (JSON allows none after the last item)"
    if before.endswith(",") and re.match(r"\d", at) and re.search(r":\s*-?\d+,$", before):
        return ": a decimal comma? JSON writes 1.5, not 1,5"
    return ""


def parse_answers(text: str | bytes, label: str = "the submission") -> tuple[dict[str, Any] | None, str]:
    """(answers, "") for a JSON object; (None, why) otherwise, `why` naming `label` and, for a
    syntax error, the line and column."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            return None, f"{label} is larger than {MAX_BYTES:,} bytes"
        data = text
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            return None, (f"{label} is not UTF-8 text (line {line}: byte 0x{data[err.start]:02x}); save it "
                          "as UTF-8 (JSON files are UTF-8)")
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_BYTES:
        return None, f"{label} is larger than {MAX_BYTES:,} bytes"
    if not text.strip():  # (json said "Expecting value at line 1, column 1")
        return None, f"{label} is empty: it should hold a JSON object of answers, such as {{\"a\": 1.5}}"
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_float=Written)
    except json.JSONDecodeError as err:
        program = _PROGRAM.match(text) is not None  # a .cg program sent as the answers
        return None, (f"{label} is not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}"
                      + (LOOKS_LIKE["answers"][0] if program else _slip(text, err.pos)))
    except RecursionError:
        return None, f"{label} is not valid JSON (it nests too deeply)"
    except ValueError:  # Python refuses to read an integer of more than 4,300 digits
        return None, f"{label} holds a number with too many digits to be an answer"
    if not isinstance(obj, dict):
        return None, (f"{label} must be a JSON object of answers ({{\"a\": 1.5, \"g_b\": -0.25}}: names and numbers), "
                      f"not {_JSON_KIND.get(type(obj), 'a ' + type(obj).__name__)}")
    return obj, ""


def read_answers(path: str, option: str = "--answers") -> tuple[dict[str, Any] | None, str]:
    """The answers in the file at `path`: an io error naming `option` if it cannot be read."""
    p = Path(path)
    if not p.is_file():
        err = GraphlangError("io", f"{option} {path}: " + ("not a regular file" if p.exists() else "no such file"),
                             hint="check the path")
        err.origin = (path, "")  # (said of the file, not of the reference program)
        raise err
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as err:
        unread = GraphlangError("io", f"{option} {path}: cannot read it ({err.strerror})",
                                hint="give a regular file of answers, as `graphlang exercise` writes them")
        unread.origin = (path, "")  # (as above: /proc/self/mem was located at the assignment)
        raise unread from None
    return parse_answers(data, f"{option} {path}")
