"""graphlang: computation graphs you can read, with exact derivatives four ways."""

from .errors import KINDS, GraphlangError
from .limits import Limits
from .program import METHODS, Program, Result, load, parse

__all__ = ["KINDS", "METHODS", "GraphlangError", "Limits", "Program", "Result", "load", "parse"]
__version__ = "0.1.0"
