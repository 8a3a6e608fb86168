"""Lark, imported when first used: a program whose statements' token sequences were parsed before
(their templates kept in the cache, `store.py`) is built without it, ≈ 25 ms of every CLI start."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any


class LazyModule:
    """A module imported at the first attribute read, under a lock (importlib's LazyLoader is not
    safe on a first read from two threads at once in Python 3.11)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._module: ModuleType | None = None
        self._lock = threading.Lock()
        spec = importlib.util.find_spec(name)  # (locates it; runs nothing)
        self.origin = spec.origin if spec is not None else None  # its __init__: the store reads its version

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            with self._lock:
                if self._module is None:
                    self._module = importlib.import_module(self.name)
                module = self._module
        return getattr(module, attr)

    @property
    def loaded(self) -> bool:
        """Whether an attribute was read (and the module imported) through this object."""
        return self._module is not None


_lark = LazyModule("lark")
ORIGINS = {"lark": _lark.origin}


def loaded(module: Any) -> bool:
    """Whether a lazy module was imported yet, through it or otherwise (a plain module: True)."""
    return not isinstance(module, LazyModule) or module.loaded or module.name in sys.modules


if TYPE_CHECKING:
    import lark
else:
    lark = _lark
