"""A worker's memory limit: RLIMIT_DATA set to what it holds after the fork plus its allowance.

RLIMIT_DATA counts mappings, not what lies inside them. A worker forked from a long-lived process
(a notebook, a web service, a test run) inherits that process's malloc heap, and the free space in
it — measured at 1.4 GB in a test process, one chunk of it 600 MB — is memory the worker can
allocate without a new mapping: a 512 MB array passed a 64 MB limit. So before the limit is set the
worker returns what it can to the kernel (`malloc_trim`) and claims every free chunk of the
inherited heap itself (malloc'd, never touched, never freed: no memory is used, none is left to
hand out), with the limit held at its current size so that a claim can only come from inherited
free space. Before each later job the limit is set anew above what the worker then holds (so what
earlier jobs kept does not count against it), and what they left free is claimed when it exceeds
1/TOLERANCE of the allowance. pymalloc's free slots in partly used arenas stay, bounded by what was
inherited.
"""

from __future__ import annotations

import ctypes
from typing import Any

SMALLEST_CLAIM = 4 * 1024  # bytes: below it, a free fragment serves small objects only
MAX_CLAIMS = 1_000_000  # every claim is a chunk the allocator handed out: bounded work per job
TOLERANCE = 8  # a job may find up to 1/8 of its allowance free from earlier jobs (reused, not claimed)


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


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


_LIBC: list[Any] = []  # glibc's malloc entry points, looked up once per process ([None]: another allocator)


def _libc() -> Any:
    """glibc's malloc entry points, or None (another allocator: nothing to claim)."""
    if not _LIBC:
        try:
            libc = ctypes.CDLL(None)
            libc.malloc.restype = ctypes.c_void_p
            libc.malloc.argtypes = [ctypes.c_size_t]
            libc.malloc_trim.argtypes = [ctypes.c_size_t]  # glibc's own: absent from musl, macOS
            libc.mallinfo2.restype = _MallInfo2  # glibc ≥ 2.33
        except (OSError, AttributeError):
            libc = None
        _LIBC.append(libc)
    return _LIBC[0]


def claim_free_heap(resource: Any, base: int, trim: bool = False, tolerance: int = 0) -> int:
    """Claim the free chunks of this process's heap (RLIMIT_DATA held at `base` meanwhile, so only
    free space can satisfy a claim) unless they add up to `tolerance` bytes or less; the number of
    bytes claimed. `trim`: first give free pages back to the kernel (after the fork: the parent's
    free pages need not stay resident here)."""
    libc = _libc()
    if libc is None:
        return 0
    if trim:
        libc.malloc_trim(0)  # the mappings (and VmData) stay
    free = libc.mallinfo2().fordblks  # free bytes in malloc's arenas: where to start, or nothing to do
    if free < max(SMALLEST_CLAIM, tolerance + 1):
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (base if hard == resource.RLIM_INFINITY else min(base, hard), hard))
    except (ValueError, OSError):
        return 0
    claimed = claims = 0
    size = 1 << free.bit_length()
    try:
        while size >= SMALLEST_CLAIM and claims < MAX_CLAIMS:
            if libc.malloc(size):  # no new mapping can be made: this came from free space
                claimed += size
                claims += 1
            else:
                size //= 2
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
    return claimed


def limit_memory(memory_mb: int, first: bool = True) -> int | None:
    """Allow `memory_mb` more than the worker holds now, its heap's free chunks claimed (not an
    absolute cap); the baseline, or None where it cannot be measured. `first`: right after the
    fork. Claims make no mapping, so the baseline stands."""
    try:
        import resource
    except ImportError:
        return None
    base = vm_data()
    if base is None:  # no /proc: the cost model and the time limit still bound the work
        return None
    # After the fork everything free is claimed (the parent's heap may hold gigabytes); before a
    # later job only when the earlier jobs left more than TOLERANCE of the allowance free: claimed
    # memory is never reused, so each claim makes the next jobs fault in fresh pages.
    claim_free_heap(resource, base, trim=first, tolerance=0 if first else memory_mb * 1024 * 1024 // TOLERANCE)
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        want = base + memory_mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (want, hard))
    except (ValueError, OSError):
        pass
    return base
