"""Keep freed large blocks in the heap during training (glibc returns them to the OS by default).

Each SGD step allocates and frees gradient-sized arrays; with glibc's defaults those blocks can be
mapped and unmapped on every step, and the page faults cost more than the arithmetic. A no-op
where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_done = False


def keep_heap(limit: int = 256 * 1024 * 1024) -> None:
    global _done
    if _done:
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-1, limit)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, limit)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass
