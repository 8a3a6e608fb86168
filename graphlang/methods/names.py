"""The four methods' names, and the error for a method named otherwise (with the one meant)."""

from __future__ import annotations

from graphlang.errors import GraphlangError

METHODS = ("reverse", "forward", "fd", "symbolic")


def unknown_method(method: object) -> GraphlangError:
    """The error for a method that is none of the four, with the one meant where it is close."""
    import difflib
    said = str(method).lower()  # (what a student calls it: `backward` is reverse mode's pass)
    meant = next((m for m, words in _SAID.items() if any(w in said for w in words)), None)
    near = difflib.get_close_matches(str(method), [*METHODS, "finite"], 1, 0.6)  # (symbolc, finite)
    meant = meant or (("fd" if near == ["finite"] else near[0]) if near else None)
    return GraphlangError("usage", f"unknown method {str(method)[:40]!r}; choose one of " + ", ".join(METHODS),
                          hint=f"did you mean {meant}?" if meant else "")


_SAID = {"fd": ("finite", "numeric", "difference"),  # (first: a forward or backward difference is fd)
         "reverse": ("backward", "backprop", "adjoint", "reverse"), "forward": ("tangent", "forward", "jvp"),
         "symbolic": ("symbol", "analytic", "exact")}
