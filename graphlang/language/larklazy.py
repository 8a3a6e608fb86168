"""Lark, imported when first used: a program whose statements' token sequences were parsed before
(their templates kept in the cache, `store.py`) is built without it, ≈ 25 ms of every CLI start."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING

ORIGINS: dict[str, str | None] = {}  # a lazy module's file (reading its __spec__ would run it)


def lazy_module(name: str) -> ModuleType:
    """The module, its code run at the first attribute read (the standard library's LazyLoader)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    ORIGINS[name] = spec.origin
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def loaded(module: ModuleType) -> bool:
    """Whether a lazy module's code has run (an attribute was read): LazyLoader gives the module a
    class of its own until then. (Python 3.11's LazyLoader is not thread-safe on the first read from
    two threads at once; graphlang's workers are processes, and its threads read Lark after a parse.)"""
    return type(module) is ModuleType


if TYPE_CHECKING:
    import lark
else:
    lark = lazy_module("lark")
