"""graphlang: computation graphs you can read, with exact derivatives four ways."""

from graphlang.errors import KINDS, GraphlangError
from graphlang.limits import Limits
from graphlang.magic import load_ipython_extension
from graphlang.present import views as _views  # noqa: F401  # fills program.VIEWS (Program.explain, ...)
from graphlang.program import METHODS, Program, Result, load, parse

__all__ = ["KINDS", "METHODS", "GraphlangError", "Limits", "Program", "Result", "load", "load_ipython_extension",
           "parse"]
__version__ = "0.1.0"
