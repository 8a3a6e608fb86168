"""TOML out (a small writer for the tables graphlang writes) and in (`tomllib`; `tomli` on 3.10)."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 (Gradescope's images): the same parser, as a package
    import tomli as tomllib

loads = tomllib.loads
TOMLDecodeError = tomllib.TOMLDecodeError


def value(v: Any) -> str:
    """One TOML value: booleans, numbers, strings (multi-line as literal strings), arrays, inline tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return repr(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        if "\n" in v and "'''" not in v and "\r" not in v:
            return "'''\n" + v + "'''"
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
    return "[" + ", ".join(value(x) for x in v) + "]"


def key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def dumps(table: dict[str, Any], inline: tuple[str, ...] = ("at",), header: str = "") -> str:
    """A document: plain keys first (and the `inline` tables), then one [section] per other table;
    a table of tables (`quantities`) becomes [quantities."dy/dx"] sections."""
    lines = [header.rstrip("\n")] if header else []
    lines += [f"{key(k)} = {value(v)}" for k, v in table.items() if not isinstance(v, dict) or k in inline]
    for k, v in table.items():
        if not isinstance(v, dict) or k in inline:
            continue
        plain = {kk: vv for kk, vv in v.items() if not isinstance(vv, dict)}
        if plain or not v:
            lines += ["", f"[{key(k)}]"] + [f"{key(kk)} = {value(vv)}" for kk, vv in plain.items()]
        for kk, vv in v.items():
            if isinstance(vv, dict):
                lines += ["", f"[{key(k)}.{key(kk)}]"] + [f"{key(a)} = {value(b)}" for a, b in vv.items()]
    return "\n".join(lines) + "\n"
