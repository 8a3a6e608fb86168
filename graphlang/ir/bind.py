"""Input values: checked once at the boundary (names, shapes, finiteness, size)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.limits import Limits
from graphlang.primitives.shapes import Shape, show

_PLAIN_NUMBERS = frozenset({float, int, np.float64})  # (a bool's type is bool: not among them)


def not_a_number(value: Any, limits: Limits | None = None) -> str | None:
    """The type of the first element that is not a number (a bool, a string, None...), if any.

    numpy would silently read "2" as 2.0 and True as 1.0 inside a list; a value is numbers only.
    The walk is bounded (a list may contain itself, or share one sublist a million times over):
    past the rank or element limits it stops and says so, before numpy would allocate it all.
    """
    limits = limits or Limits()
    size, first = 1, value  # the shape its first elements promise: refused at once if too large
    for _ in range(limits.max_rank + 1):
        if not isinstance(first, (list, tuple)) or not first:
            break
        size, first = size * len(first), first[0]
    if size > limits.max_tensor_elements:
        return f"a list with too many elements ({size:,}; the limit is {limits.max_tensor_elements:,})"
    stack: list[tuple[Any, int]] = [(value, 0)]
    pushed = 1
    while stack:
        v, depth = stack.pop()
        if depth > limits.max_rank or pushed > 2 * limits.max_tensor_elements + 1:
            what = "axes" if depth > limits.max_rank else "elements"
            return f"a list with too many {what} (the limits are {limits.max_rank} axes, " \
                   f"{limits.max_tensor_elements:,} elements)"
        if isinstance(v, (list, tuple)):
            pushed += len(v)
            if set(map(type, v)) <= _PLAIN_NUMBERS:  # a row of numbers (in C: a million elements' walk took 3 s)
                continue
            stack.extend((w, depth + 1) for w in v)
        elif isinstance(v, np.ndarray):
            if v.dtype.kind not in "fiu":
                return f"an array of {v.dtype}"
        elif isinstance(v, (bool, np.timedelta64)) or not isinstance(v, (int, float, np.integer, np.floating)):
            return _kind_of(v)  # (numpy's timedelta64 is a signed integer type: 2 seconds is no 2)
    return None


def _kind_of(v: Any) -> str:
    """What a value that is not a number is, in words, for Python and JSON alike: None (null), True
    (true), the text '2', a dict."""
    if v is None or isinstance(v, bool):
        return f"{v!r} ({'null' if v is None else str(v).lower()})"
    if isinstance(v, str):
        try:
            float(v)
            quoted = " (write the number without quotes)"
        except ValueError:
            quoted = ""
        return f"the text {v[:20]!r}" + ("…" if len(v) > 20 else "") + quoted
    return f"a {type(v).__name__}"


def to_array(name: str, value: Any, limits: Limits, label: str | None = None) -> np.ndarray:
    """A user value (number or nested list) as a float64 array, or a `value` error (`label`: what
    the messages call it, "the value of 'x'" by default)."""
    what = label or f"the value of {name!r}"
    masked = sys.modules.get("numpy.ma")  # (none before numpy.ma is imported: reading np.ma imports it, 7 ms)
    if masked is not None and isinstance(value, masked.MaskedArray):  # its mask would be dropped silently
        raise GraphlangError("value", f"{what} is a masked array", hint="fill the masked values first: x.filled(0)")
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            bad = not_a_number(value, limits)
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - a list subclass whose __len__ raises: an API red team's find
            bad = f"a {type(value).__name__} that cannot be read as numbers"
        if bad is not None and bad.startswith("a list with too many"):
            raise GraphlangError("limit", f"{what} is {bad}")
        if bad is not None:
            raise GraphlangError("value", f"{what} must be a number or a list of "
                                 f"numbers, got {bad}", hint="write 1 and 0 for true and false" if
                                 bad.startswith(("True", "False")) else "e.g. --at x=2")
        try:
            with np.errstate(all="ignore"):
                arr = np.asarray(value, dtype=np.float64)
        except OverflowError:  # an integer past float64's range (JSON's 1 followed by 400 zeros)
            raise GraphlangError("value", f"{what} is past float64's range (±1.8e308)",
                                 hint="give finite numbers") from None
        except MemoryError:
            raise
        except Exception as err:  # noqa: BLE001 - a caller's type whose __float__ or __len__ raises: refused
            ragged = "inhomogeneous" in str(err) or "sequence" in str(err)
            raise GraphlangError("value", f"{what} is "
                                 + ("a ragged list (rows of different lengths)" if ragged
                                    else "not a number or a list of numbers"),
                                 hint="every row of a matrix needs the same length" if ragged else
                                 "give numbers, e.g. --at x=2") from None
    if arr.ndim > limits.max_rank:
        raise GraphlangError("limit", f"{what} has {arr.ndim} axes; the limit is "
                             f"{limits.max_rank}")
    if arr.dtype.kind not in "fiu":  # (one-hot labels as booleans: a red team's np.array([False, True]))
        raise GraphlangError("value", f"{what} is an array of {arr.dtype}, not numbers", hint=(
            "booleans are no numbers here: write x.astype(float) (True as 1.0)" if arr.dtype.kind == "b" else
            "give an array of numbers (dtype float or int)"))
    if arr.size > limits.max_tensor_elements:
        raise GraphlangError("limit", f"{what} has {arr.size:,} elements; the limit is "
                             f"{limits.max_tensor_elements:,}")
    if arr.size == 0:
        raise GraphlangError("value", f"{what} is empty (shape {list(arr.shape)})",
                             hint="give at least one number")
    with np.errstate(all="ignore"):  # a long double past float64's range: infinity, refused below (no warning)
        arr = np.array(arr, dtype=np.float64, order="C")  # a private copy, in one layout (a Fortran-ordered
        # array summed in another order: different last bits, an API red team's find)
    if not np.all(np.isfinite(arr)):
        raise GraphlangError("value", f"{what} is not finite (NaN or infinity; a number "
                             "past ±1.8e308, such as 1e400, is infinity in float64)", hint="give finite numbers")
    return arr


def _split(name: str, pool: set[str]) -> tuple[str, str] | None:
    """`xz` as the two names it glues together, (x, z), where both are known (a student's find: `a =
    xz` made an input xz, and --at z=3 was "not an input")."""
    return next(((name[:i], name[i:]) for i in range(1, min(len(name), 40)) if name[:i] in pool and name[i:] in pool),
                None)


_FEW = 8  # names an error lists (then how many in all): 8,000 missing inputs made a 110 KB message


def _some(names: list[str]) -> str:
    return ", ".join(names[:_FEW]) + (f", … ({len(names):,} in all)" if len(names) > _FEW else "")


def plain_dict(values: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping of input values as a plain dict, read once as dict() reads it: a defaultdict's or a
    Counter's default is no value (compiled code reading `values[name]` made a missing input 0: an API
    red team's find), and every path, compiled or bound, sees the same values."""
    return values if type(values) is dict else dict(values)


def bind(names: list[str], declared: Mapping[str, Shape | None], assigned: Mapping[str, int],
         first_use: Mapping[str, tuple[int, int]], values: Mapping[str, Any] | None, limits: Limits,
         ) -> list[np.ndarray]:
    """Order the given values as the graph's inputs; every mistake is a located error. (None: no
    values, for a program without inputs.)"""
    values = {} if values is None else values
    if not isinstance(values, Mapping):
        raise GraphlangError("value", "input values must be a mapping from names to values")
    if type(values) is not dict:  # read once, as the compiled paths read them (`plain_dict`)
        try:
            values = plain_dict(values)
        except MemoryError:
            raise
        except Exception as unreadable:  # noqa: BLE001 - an API red team's find: its RuntimeError escaped
            raise GraphlangError("value", f"the input values cannot be read: {type(unreadable).__name__}: "
                                 f"{str(unreadable)[:80]}") from None
    known = set(names)  # (a list: 99,000 inputs took a minute to look up)
    for key in values:
        if key in known:
            continue
        if key in assigned:
            raise GraphlangError("unknown-input", f"{key!r} is an intermediate quantity (assigned on "
                                 f"line {assigned[key]}), not an input", hint="give values only for "
                                 "inputs: " + (_some(names) or "(none)") + f"; or delete line "
                                 f"{assigned[key]} to make {key} an input (inputs are never assigned)")
        pool = {*known, *(k for k in values if isinstance(k, str))}
        glued = next((f"{n} is one name: for a product write {' * '.join(two)}; " for n in names
                      if isinstance(key, str) and key in n and (two := _split(n, pool))), "")
        line, column = first_use.get(glued.split(" ")[0], (None, None)) if glued else (None, None)
        case = next((f"did you mean {n}? Names are case-sensitive; " for n in names
                     if isinstance(key, str) and n.lower() == key.lower() and n not in values), "")
        raise GraphlangError("unknown-input", f"{str(key)[:60]!r} is not an input of this program", line, column,
                             hint=glued + case + "inputs: " + (_some(names) or "(none)"))
    missing = [n for n in names if n not in values]
    if missing:
        for n in names:  # a value given is checked before the missing are named (`ir` shows its shape)
            if n in values:
                _array(n, values[n], declared, first_use, limits)
        line, column = first_use.get(missing[0], (None, None))
        import difflib  # (an error's hint: not at every start-up)
        candidates = list(assigned)
        lower = {c.lower(): c for c in candidates} if len(candidates) < 10_000 else {}  # `A` assigned, `a` read
        near = [f"{c[0]} (not {m})" for m in missing[:_FEW] for c in [
            [lower[m.lower()]] if m.lower() in lower else difflib.get_close_matches(m, candidates, 1, 0.6)]
                if c]  # `bb` read, `b` assigned: a typo (the first few: each is a pass over the names)
        err = GraphlangError("missing-input", "no value for the input" + "s" * (len(missing) > 1)
                             + " " + _some([repr(m) for m in missing]), line, column,
                             "e is never assigned: write exp(x) for e^x (there is no constant e), or assign "
                             "e = ... before it is read, or give it with --at e=..." if "e" in missing else
                             "a transpose is .T: write W.T, not W^T (which raises W to the power of an input "
                             "named T), or give T with --at T=..." if "T" in missing else
                             "graphlang has no inf or nan: every value is a finite number, and "
                             f"{'inf' if 'inf' in missing else 'nan'} here is an input's name"
                             if "inf" in missing or "nan" in missing else
                             f"the constant π is written pi (names are case-sensitive: {_pi(missing, declared)} is an "
                             "input's name), or give " + ",".join(f"{m}=..." for m in missing[:_FEW]) + " with --at"
                             if _pi(missing, declared) else
                             "give it with --at " + ",".join(f"{m}=..." for m in missing[:_FEW])
                             + (",..." if len(missing) > _FEW else "")
                             + (f" (or, a typo: did you mean {', '.join(near)}?)" if near else ""))
        err.missing = tuple(missing)
        raise err
    return [_array(n, values[n], declared, first_use, limits) for n in names]


def _pi(names: list[str], declared: Mapping[str, Any]) -> str:
    """A name that is pi in other case (`PI`, `Pi`), not declared an input: the constant meant."""
    return next((n for n in names if n.lower() == "pi" and n != "pi" and n not in declared), "")


def _array(name: str, value: Any, declared: Mapping[str, Shape | None], first_use: Mapping[str, tuple[int, int]],
           limits: Limits) -> np.ndarray:
    """One input's value as an array, checked against its declared shape."""
    arr = to_array(name, value, limits)
    want = declared.get(name)
    if want is not None and arr.shape != want:
        line, column = first_use.get(name, (None, None))
        raise GraphlangError("shape", f"{name!r} is declared with shape {show(want)} but its value "
                             f"has shape {show(arr.shape)}", line, column, "give a value of the declared shape")
    return arr


def bind_graph(graph: Any, values: Mapping[str, Any] | None, assigned: Mapping[str, int] | None = None,
               positions: Mapping[str, tuple[int, int]] | None = None) -> tuple[list[np.ndarray], list[Shape]]:
    """A graph's input values as arrays (checked), and the shape of every slot. (`assigned`, `positions`:
    each name's line and first use, where the caller keeps them.)"""
    checked = graph.checked
    assigned = {st.name: st.line for st in graph.statements} if assigned is None else assigned
    positions = {**checked.first_use, **checked.decl_line} if positions is None else positions
    try:
        arrays = bind(graph.inputs, checked.declared, assigned, positions, values, graph.limits)
    except GraphlangError as err:  # a shape error the declarations alone show comes first (a docs red team)
        if err.kind == "missing-input" and all(checked.declared.get(n) is not None for n in graph.inputs):
            graph.shapes(tuple(checked.declared[n] for n in graph.inputs))
        raise
    return arrays, graph.shapes(tuple(a.shape for a in arrays))


class LinesByName(Mapping[str, int]):
    """name -> line of its statement, made when first read."""

    def __init__(self, statements: list[Any]) -> None:
        self._statements: list[Any] | None = statements
        self._lines: dict[str, int] = {}

    def _made(self) -> dict[str, int]:
        if self._statements is not None:
            self._lines, self._statements = {st.name: st.line for st in self._statements}, None
        return self._lines

    def __getitem__(self, name: str) -> int:
        return self._made()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._made())


def direction_seeds(graph: Any, shapes: list[Any], direction: Any, limits: Limits,
                    positions: dict[str, tuple[int, int]]) -> dict[int, np.ndarray]:
    """Forward mode's seeds from a direction (input name -> a number, or a value of its shape)."""
    if not isinstance(direction, Mapping):
        raise GraphlangError("value", "the direction must be a mapping from input names to values",
                             hint="e.g. {'x': 1.0}")
    seeds = {}
    for name, d in direction.items():
        if name not in graph.inputs:
            raise GraphlangError("unknown-input", f"the direction names {name!r}, which is not an "
                                 "input", hint="inputs: " + ", ".join(graph.inputs))
        k = graph.inputs.index(name)
        arr = to_array(name, d, limits, f"the direction for {name!r}")
        if arr.shape not in ((), shapes[k]):
            line, column = positions.get(name, (None, None))
            raise GraphlangError("shape", f"the direction of {name!r} has shape {list(arr.shape)} "
                                 f"but {name!r} has shape {list(shapes[k])}", line, column,
                                 "give one number (every element) or a value of the input's shape")
        if np.any(arr):  # (a direction of 0: that input held fixed, its partials not evaluated: x ^ z along
            seeds[k] = np.broadcast_to(arr, shapes[k]).copy()  # x=1, z=0 at x < 0, where ∂/∂z has no value)
    return seeds


def unit_seed(graph: Any, shapes: list[Any], name: str) -> dict[str, Any]:
    """The direction ẋ = 1 for an input's first number, 0 elsewhere (the lecture's seed: a vector
    input's every element at 1 summed the ∂s/∂v[i], where ∂s/∂v[0] is read)."""
    shape = shapes[graph.inputs.index(name)]
    if not shape:
        return {name: 1.0}
    seed = np.zeros(shape)
    seed.flat[0] = 1.0
    return {name: seed}
