"""Safety limits for untrusted programs: checked before anything is computed."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace

from graphlang.errors import GraphlangError

MAX_LIMIT = 2 ** 53  # any larger bound is no bound


@dataclass(frozen=True)
class Limits:
    """Every bound on a program and its values; `Limits.strict()` is the checker's default."""

    max_source_chars: int = 5_000_000
    max_line_chars: int = 1_000_000
    max_token_chars: int = 256
    max_depth: int = 200
    max_statement_tokens: int = 200_000  # names, numbers and operators in one statement
    max_statements: int = 200_000
    max_nodes: int = 1_000_000
    max_rank: int = 8  # axes of one tensor
    max_tensor_elements: int = 10_000_000
    max_total_elements: int = 50_000_000
    max_cost: int = 2_000_000_000  # predicted operations of the whole command (every pass it runs)
    max_memory: int = 2_000_000_000  # predicted bytes the whole command holds at once
    max_json_numbers: int = 10_000_000  # numbers in one --json output
    max_shown_nodes: int = 100_000  # operations a display (explain, html, diff, tangents, partials) writes out

    @classmethod
    def strict(cls) -> Limits:
        """Defaults for graders running student work in small containers."""
        return cls(max_source_chars=200_000, max_line_chars=10_000, max_depth=100,
                   max_statement_tokens=20_000,
                   max_statements=10_000, max_nodes=100_000, max_tensor_elements=1_000_000,
                   max_total_elements=5_000_000, max_cost=200_000_000, max_memory=250_000_000,
                   max_json_numbers=1_000_000, max_shown_nodes=20_000)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
                raise GraphlangError("usage", f"the limit {f.name} must be an integer from 1 to "
                                     f"{MAX_LIMIT:,}, got {value!r}"[:200], hint=f"e.g. --limit {f.name}="
                                     f"{getattr(Limits(), f.name)} (the default)")

    def with_(self, **changes: int) -> Limits:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise GraphlangError("usage", f"unknown limit(s): {', '.join(sorted(unknown))[:200]}",
                                 hint="limits: " + ", ".join(sorted(known)))
        return replace(self, **changes)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building many small acyclic objects: the cyclic garbage collector would only slow it down."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_count()[0] > 100_000 and gc.get_freeze_count() == 0:  # (a count: O(frozen))
                # A big build is long-lived: straight into the oldest generation (a freeze undone at
                # once moves every tracked object there), not scanned by two young collections first
                # (each costs about 0.5 µs per object: seconds for a million statements).
                gc.freeze()
                gc.unfreeze()
            gc.enable()


STATEMENTS_HINT = ("split the program, or raise the limit: --limit max_statements=N (in Python: "
                   "Limits().with_(max_statements=N))")
