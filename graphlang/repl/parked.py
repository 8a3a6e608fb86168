"""Values an edit took away, kept aside until their name is an input again: `a = x * zz` drops z's
value (z is read no more); the corrected `a = x * z` gets it back (a REPL red team's find: retyping
the line, as students do, lost the value, where :undo kept it)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from graphlang.present.textviews import one_line


def park(session: Any, dropped: dict[str, Any]) -> None:
    """Keep the values an edit dropped (the latest for each name)."""
    session.parked.update(dropped)


def unpark(session: Any, inputs: Any = None) -> list[Any]:
    """The kept values of names that are inputs again (of `inputs`, else the session's) and have none
    now: given back, and said."""
    if not session.parked:
        return []
    if inputs is None:
        session._sync()
        inputs = session._names.inputs
    back = {n: session.parked.pop(n) for n in list(session.parked) if n in inputs and n not in session.at}
    session.at.update(back)
    if not back:
        return []
    shown = ", ".join(f"{n} = {one_line(v)}" for n, v in back.items())
    return [Text(f"{shown} again: the value{'s' * (len(back) > 1)} given before the edit (:at changes "
                 f"{'them' if len(back) > 1 else 'it'})")]
