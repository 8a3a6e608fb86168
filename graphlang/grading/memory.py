"""A worker's memory limit: RLIMIT_DATA set to what it holds after the fork plus its allowance.

RLIMIT_DATA counts mappings, not what lies inside them. A worker forked from a long-lived process
(a notebook, a web service, a test run) inherits that process's malloc heap, and the free space in
it — measured at 1.4 GB in a test process, one chunk of it 600 MB — is memory the worker can
allocate without a new mapping: a 512 MB array passed a 64 MB limit. So before the limit is set the
worker returns what it can to the kernel (`malloc_trim`) and claims every free chunk of the
inherited heap itself (malloc'd, never touched, never freed: no memory is used, none is left to
hand out), with the limit held at its current size so that a claim can only come from inherited
free space. pymalloc's free slots in partly used arenas stay, bounded by what was inherited.
"""

from __future__ import annotations

import ctypes
from typing import Any

SMALLEST_CLAIM = 4 * 1024  # bytes: below it, a free fragment serves small objects only
MAX_CLAIMS = 1_000_000  # every claim is a chunk the allocator handed out: bounded work per job


def vm_data() -> int | None:
    """This process's private writable memory in bytes (what RLIMIT_DATA counts), where /proc says."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _libc() -> Any:
    """glibc's malloc entry points, or None (another allocator: nothing to claim)."""
    try:
        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        libc.malloc.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]  # glibc's own: absent from musl, macOS
    except (OSError, AttributeError):
        return None
    return libc


def claim_inherited_heap(resource: Any, base: int) -> int:
    """Claim the free chunks of the inherited heap (RLIMIT_DATA held at `base` meanwhile, so only
    free space can satisfy a claim); the number of bytes claimed."""
    libc = _libc()
    if libc is None:
        return 0
    libc.malloc_trim(0)  # free pages go back to the kernel; the mappings (and VmData) stay
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (base if hard == resource.RLIM_INFINITY else min(base, hard), hard))
    except (ValueError, OSError):
        return 0
    claimed = claims = 0
    size = 1 << 40
    try:
        while size >= SMALLEST_CLAIM and claims < MAX_CLAIMS:
            if libc.malloc(size):  # no new mapping can be made: this came from inherited free space
                claimed += size
                claims += 1
            else:
                size //= 2
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
    return claimed


def limit_memory(memory_mb: int) -> int | None:
    """Allow `memory_mb` more than the worker holds right after the fork (not an absolute cap);
    the baseline, or None where it cannot be measured."""
    try:
        import resource
    except ImportError:
        return None
    base = vm_data()
    if base is None:  # no /proc: the cost model and the time limit still bound the work
        return None
    claim_inherited_heap(resource, base)
    base = vm_data() or base
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        want = base + memory_mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (want, hard))
    except (ValueError, OSError):
        pass
    return base
