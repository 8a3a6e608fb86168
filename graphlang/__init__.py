"""graphlang: computation graphs you can read, with exact derivatives four ways."""

from graphlang.errors import KINDS, GraphlangError
from graphlang.limits import Limits
from graphlang.program import METHODS, Program, Result, load, parse

__all__ = ["KINDS", "METHODS", "GraphlangError", "Limits", "Program", "Result", "load", "parse"]
__version__ = "0.1.0"
