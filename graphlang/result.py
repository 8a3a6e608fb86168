"""What `Program.evaluate` returns: one evaluation, and its JSON (SPEC §3 and §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphlang.numbers import plain


@dataclass
class Result:
    """One evaluation: the output, every named value, adjoints and the gradient (or Jacobian)."""

    output: str | list[str]
    value: Any
    values: dict[str, Any]
    adjoints: dict[str, Any] | None
    gradient: dict[str, Any] | None
    jacobian: dict[str, Any] | None = None
    method: str = "reverse"
    epsilon: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scalar(self) -> bool:
        return self.gradient is not None

    def _repr_html_(self) -> str:
        from graphlang.present.notebook import result_html
        return result_html(self.extra.get("program"), self)

    def to_json(self) -> dict[str, Any]:
        """The object of SPEC §3 (nested lists, finite floats)."""
        out: dict[str, Any] = {"output": self.output, "value": plain(self.value),
                               "values": {k: plain(v) for k, v in self.values.items()}}
        if self.gradient is not None:
            if self.adjoints is not None:  # every named node (SPEC §3): null where none exists here
                out["adjoints"] = {k: plain(self.adjoints[k]) if k in self.adjoints else None for k in self.values}
            out["gradient"] = {k: plain(v) for k, v in self.gradient.items()}
        else:
            out["jacobian"] = {k: plain(v) for k, v in (self.jacobian or {}).items()}
        return out
