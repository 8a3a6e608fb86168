"""Which inputs each name of a session reads, through every statement before it: one bit per input in
an integer per name. (Sets of names were quadratic: a chain over 8,000 inputs held 32 million set
entries, 2.7 GB, where its masks hold 8 MB.)"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphlang.language.ast import names
from graphlang.primitives.table import CONSTANTS

LISTED = 64  # a mask's names listed, sorted, from its first inputs (all of them, where it reads no more)


class Reads:
    """Each assigned name's inputs as a bit mask; an input's bit is given when first read."""

    def __init__(self) -> None:
        self._mask: dict[str, int] = {}
        self._bit: dict[str, int] = {}
        self._inputs: list[str] = []

    def add(self, statements: Iterable[Any]) -> Reads:
        """The statements' names added, in order: O(statement) each (a name not assigned is an input)."""
        for st in statements:
            if getattr(st, "kind", "assign") == "assign" and st.expr is not None:
                mask = 0
                for n in names(st.expr):  # (pi reads nothing)
                    mask |= self._mask[n] if n in self._mask else 0 if n in CONSTANTS else self._of_input(n)
                self._mask[st.name] = mask
        return self

    def _of_input(self, name: str) -> int:
        bit = self._bit.get(name)
        if bit is None:
            bit = self._bit[name] = len(self._inputs)
            self._inputs.append(name)
        return 1 << bit

    def get(self, name: str) -> int:
        """The inputs `name` reads (0: none, or not an assigned name)."""
        return self._mask.get(name, 0)

    def mask(self, inputs: Iterable[str]) -> int:
        """These inputs' bits (those no statement reads have none)."""
        bits = 0
        for n in inputs:
            bit = self._bit.get(n)
            if bit is not None:
                bits |= 1 << bit
        return bits

    def listed(self, mask: int, most: int) -> tuple[list[str], bool]:
        """Up to `most` of the mask's inputs, sorted, and whether it has more: exactly the first `most`
        of all of them sorted where it has at most LISTED; else of its LISTED first read."""
        found: list[str] = []
        while mask and len(found) < LISTED:
            low = mask & -mask
            found.append(self._inputs[low.bit_length() - 1])
            mask ^= low
        found.sort()
        return found[:most], len(found) > most or mask != 0
