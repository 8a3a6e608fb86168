"""graphlang: computation graphs you can read, with exact derivatives four ways.

`import graphlang` is light: the engine (numpy, Lark) loads on first use of `parse`, `load`,
`Program` or `Result`, so that the command line can install its Ctrl-C handler first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from graphlang.errors import KINDS, GraphlangError
from graphlang.limits import Limits

if TYPE_CHECKING:
    from graphlang.program import METHODS, Program, Result, load, parse

__all__ = ["KINDS", "METHODS", "GraphlangError", "Limits", "Program", "Result", "load", "parse"]
__version__ = "0.1.0"

_FROM_PROGRAM = {"METHODS", "Program", "Result", "load", "parse"}


def __getattr__(name: str) -> Any:
    if name in _FROM_PROGRAM:
        value = getattr(importlib.import_module("graphlang.program"), name)
        globals()[name] = value
        return value
    if name == "load_ipython_extension":  # `%load_ext graphlang`: the %%graphlang cell magic
        return importlib.import_module("graphlang.magic").load_ipython_extension
    raise AttributeError(f"module 'graphlang' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The lazy names too: tab completion in a notebook offers `graphlang.load` before its first use."""
    return sorted({*globals(), *__all__})
