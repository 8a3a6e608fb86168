"""`Program.evaluate` and `Program.forward` on compiled code: every named node's value (and, reverse
mode with a scalar output, its adjoint) from one generated straight-line function, or None to use the
interpreter, which then finds, reports or (for a constant's adjoint that does not exist) leaves out
what went wrong.

The function is `plan.source` with every named slot as a result: the same forward statements (all
of them, as the interpreter evaluates all of them), the same adjoint rules, and adjoints for exactly
the slots the interpreter gives one (those reached from a named slot: constants the output reads
included). Programs whose values are all scalars run on plain floats and `math`, reading the input
mapping themselves (a float or an int is taken as `bind` takes it; anything else: None); tensor
programs run numpy code per input shapes (engines/fastarrays.py). Any exception, or a non-finite
value anywhere, returns None: the values whose inf or NaN would show in no later value are summed
(engines/finite.py), so an inf or NaN anywhere makes the sum non-finite.
The dicts `Result` holds are built where they cost least: displays up to LITERAL names, then a copy
of a dict of the names that each value is stored into (no resizing or rehashing), past STORES_UPTO
updates from lists of BLOCK values each, with keys laid side by side in memory (`packed`): at 10⁵
names the dicts are memory-bound, and scattered keys or a list longer than the cache cost a miss each.
A scalar program past HUGE equations is answered by the tape for its first COMPILE_AFTER evaluations,
as `gradient` is (compiling costs ≈ 40–300 tape runs).
tests/test_fasteval.py, tests/test_evalbig.py and tests/test_fastarrays.py compare every way with
the interpreter (and the ways with each other, bit for bit).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from graphlang.engines import fuse
from graphlang.engines.fastarrays import FastArrays
from graphlang.engines.fastpath import COMPILE_AFTER, COMPILE_MAX, HUGE, as_float, compile_refused, fits
from graphlang.engines.finite import checked
from graphlang.engines.plan import CHUNK, SCALAR_NS, scalar_ok, source
from graphlang.engines.tape import Tape
from graphlang.ir.bind import plain_dict
from graphlang.ir.graph import Graph
from graphlang.limits import gc_paused
from graphlang.primitives.shapes import Shape

# Compiled on the second evaluation: a one-off (the command line) is cheaper interpreted (both give
# the same bits: on scalars the interpreter calls the rows' float functions, as this code does).
COMPILE_AT_CALL = 2
STORES_UPTO = HUGE  # names (measured at 10⁴ and 10⁵: each way ≈ 10 % faster on its side)
LITERAL = 64  # names up to which the dicts are displays (past it: stores into a copy of a dict of the names)
BLOCK = 4096  # values per update past STORES_UPTO (measured at 10⁵: 10 % faster than one update of all)
RUN = 8  # adjacent allocations in a row that show the allocator is handing out memory in order

Answer = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]  # values, adjoints, gradient


def _arg(v: Any) -> float:
    """An input as `bind` reads it when it is an int or a numpy real scalar (`fastpath.as_float`);
    else refuse."""
    f = as_float(v)
    if f is None:
        raise TypeError("not a plain number: bind decides")
    return f


def _display(names: list[str], slots: list[str]) -> str:
    return "{" + ", ".join(f"{n!r}: {v}" for n, v in zip(names, slots)) + "}"


def packed(names: list[str]) -> tuple[str, ...]:
    """Fresh copies of `names`, each next to the one before where the allocator allows: a dict update
    reads each key's hash, and keys strewn among a program's other objects miss the cache each.
    A copy that lands elsewhere (in a hole an earlier object left) is held and made again, until it
    is adjacent or RUN copies in a row were (memory in order starts there), at most 4 copies per
    name in all; the held ones are then given back."""
    held: list[str] = []
    limit = 4 * len(names)
    keys: list[str] = []
    after: dict[int, int] = {}  # block size -> address of the last key made in it
    for n in names:
        block = _block(sys.getsizeof(n))
        s, run = (n + ".")[:-1], 0
        while id(s) - after.get(block, id(s) - block) != block and run < RUN and len(held) < limit:
            held.append(s)
            s = (n + ".")[:-1]
            run = run + 1 if id(s) - id(held[-1]) == block else 0
        after[block] = id(s)
        keys.append(s)
    del held
    return tuple(keys)


def _block(size: int) -> int:
    """The block pymalloc gives an object of `size` bytes (its size classes are 16 bytes apart)."""
    return -(-size // 16) * 16


def _stores(d: str, names: list[str], slots: list[str]) -> list[str]:
    """A statement per name (fastest while the dict fits in cache); past STORES_UPTO names, updates
    from lists of BLOCK values (one list of all would be out of cache before the update reads it)."""
    if len(names) <= STORES_UPTO:
        return [f"{d}[{n!r}] = {v}" for n, v in zip(names, slots)]
    return [f"{d}.update(_zip(_K[{j}], [" + "".join(f"{v}, " for v in slots[k:k + BLOCK]) + "]))"
            for j, k in enumerate(range(0, len(slots), BLOCK))]  # lists: no copy into a tuple


def _sums(slots: list[str]) -> list[str]:
    """`_s` plus every slot, 64 at a time (one tuple of all would make a frame as large as the program)."""
    return [f"_s += _sum(({', '.join(slots[k:k + 64])},))" for k in range(0, len(slots), 64)]


def _hoist(lines: list[str]) -> tuple[list[str], list[str]]:
    """Nested `_fin(u)` checks (a call each) as temporaries `tN = u` that join the finiteness sum."""
    out: list[str] = []
    temps: list[str] = []
    for line in lines:
        while "_fin(" in line and " if " not in line:  # a conditional's branches stay lazy
            start = line.rindex("_fin(")  # the innermost: no _fin inside it
            depth, end = 0, start + 4
            for end in range(start + 4, len(line)):
                depth += {"(": 1, ")": -1}.get(line[end], 0)
                if depth == 0:
                    break
            t = f"t{len(temps)}"
            temps.append(t)
            out.append(f"{t} = {line[start + 5:end]}")
            line = line[:start] + t + line[end + 1:]
        out.append(line)
    return out, temps


def scalar_function(graph: Graph, with_grad: bool) -> Callable[[Mapping[str, Any]], Any] | None:
    """The generated `_ev(values)` -> (values, adjoints, gradient) or (values,) by name; None: too big."""
    if not fits(graph):
        return None
    names = list(graph.names)
    # the keys first: code generation leaves holes that packed copies would have to step over
    keys = tuple(map(sys.intern, names)) if len(names) <= STORES_UPTO else packed(names)
    inputs = list(graph.inputs)
    slots = [graph.slot_of[n] for n in names]
    out = graph.slot_of[graph.outputs[0]]
    lines = source(graph, [()] * graph.n_slots, [out], sorted(set(slots)), "scalar", with_grad=with_grad,
                   checks=False, keep={f"v{s}" for s in slots})
    if len(lines) > CHUNK:
        return None
    lines, _ = _hoist(lines)
    lines, alias = fuse.copies(lines)
    named_v = [alias.get(f"v{s}", f"v{s}") for s in slots]
    named_g = [alias.get(f"g{s}", f"g{s}") for s in slots] if with_grad else []
    head = [f"if len(V) != {len(inputs)}: return None"]
    head += [f"v{k} = V[{n!r}]" for k, n in enumerate(inputs)]
    head += [f"if type(v{k}) is not float: v{k} = _arg(v{k})" for k in range(len(inputs))]
    grad = "{" + ", ".join(f"{n!r}: {alias.get(f'g{k}', f'g{k}')}" for k, n in enumerate(inputs)) + "}"
    check = checked(lines, [f"v{k}" for k in range(len(inputs))])  # (engines/finite.py) in tuple sums
    if len(names) <= LITERAL:  # dict displays
        result = [_display(names, named_v)] + ([_display(names, named_g), grad] if with_grad else [])
        tail = ["_s = 0.0", *_sums(check), "if _s - _s != 0.0: return None",
                "return (" + "".join(f"{r}, " for r in result) + ")"]
    else:  # a copy of a dict of the names (no resizing, no rehashing), the values stored into it
        tail = ["_R = _new()", *_stores("_R", names, named_v)]
        if with_grad:
            tail += ["_A = _new()", *_stores("_A", names, named_g)]
        tail += ["_s = 0.0", *_sums(check), "if _s - _s != 0.0: return None",
                 f"return (_R, _A, {grad})" if with_grad else "return (_R,)"]
    ns = {**SCALAR_NS, "_arg": _arg, "_sum": sum, "_zip": zip, "_new": dict.fromkeys(keys).copy,
          "_K": tuple(keys[k:k + BLOCK] for k in range(0, len(keys), BLOCK))}
    body = "\n    ".join(head + lines + tail)
    exec(f"def _ev(V):\n    {body}\n", ns)  # noqa: S102 - generated from the checked graph only
    return ns["_ev"]  # type: ignore[no-any-return]


class FastEvaluate:
    """The compiled evaluation (and forward pass) of one graph: scalar code, or numpy per shapes."""

    def __init__(self, graph: Graph, tape: Tape | None = None) -> None:
        self.graph = graph
        self.tape = tape  # past HUGE equations: the first COMPILE_AFTER evaluations (as `gradient`)
        self._taped_calls = 0
        self._inputs = tuple(graph.inputs)
        self._fn: Callable[..., Any] | None = None  # all-scalar values: (values, adjoints, gradient)
        self._forward: Callable[..., Any] | None = None  # all-scalar values: (values,)
        self._refused = False  # everything interpreted (set by tests for an oracle)
        self._scalar_refused = False  # with scalar inputs not all values are scalars, or compiling failed
        self._calls = [0, 0]  # scalar evaluations, scalar forward passes seen
        self.arrays = FastArrays(graph)
        # Set by `Program.evaluate` once all-scalar inputs passed its checks (the cost estimate of
        # reverse mode by every input, under these limits): then plain floats skip `bind`.
        self.checked: object = None

    def floats(self, values: Any, limits: object) -> Answer | None:
        """The answer for a mapping of exactly the inputs to Python floats (or ints), already checked;
        None for anything else (the caller binds and checks the values and calls `__call__`)."""
        fn = self._fn
        if fn is None or self.checked is not limits:
            return None
        try:
            return fn(values if type(values) is dict else plain_dict(values))  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 - a key, a type, a domain error: `bind`, then the interpreter
            return None

    def forward_floats(self, values: Any) -> dict[str, Any] | None:
        """`Program.forward` for plain floats once compiled (bind accepted them before); else None."""
        fn = self._forward
        if fn is None:
            return None
        try:
            answer = fn(values if type(values) is dict else plain_dict(values))
        except Exception:  # noqa: BLE001 - as in `floats`
            return None
        return None if answer is None else answer[0]  # type: ignore[no-any-return]

    def _scalar(self, with_grad: bool, at: int = COMPILE_AT_CALL) -> Callable[..., Any] | None:
        """The scalar function, compiled at its `at`-th request; None until then."""
        fn = self._fn if with_grad else self._forward
        if fn is not None or self._scalar_refused:
            return fn
        self._calls[not with_grad] += 1
        if self._calls[not with_grad] < at:
            return None
        try:
            with gc_paused():
                fn = scalar_function(self.graph, with_grad)
        except Exception as err:  # noqa: BLE001 - compiling is an optimization: interpret instead
            compile_refused(err)
            fn = None
        if fn is None:
            self._scalar_refused = True
        elif with_grad:
            self._fn = fn
        else:
            self._forward = fn
        return fn

    def __call__(self, arrays: list[Any], shapes: list[Shape], with_grad: bool = True,
                 checked: object = None) -> Answer | None:
        """(values, adjoints, gradient) by name for bound inputs (`with_grad` false: (values,));
        None: interpret. `checked`: the limits under which scalar inputs passed every check (then
        plain floats skip binding)."""
        if self._refused:
            return None
        big = self.graph.n_eqns
        if with_grad and self._fn is None and self.tape is not None and big > HUGE and self.tape.usable(shapes):
            self._taped_calls += 1  # compiling costs ≈ 40–300 tape runs (engines/fastpath.py)
            if self._taped_calls <= COMPILE_AFTER or big > COMPILE_MAX or self._scalar_refused or \
                    self._scalar(True, at=1) is None:
                return self._taped(arrays)
        n = len(self._inputs)
        if self._scalar_refused or any(s != () for s in shapes[:n]):
            return self.arrays(arrays, shapes, with_grad)
        if self._fn is None and self._forward is None and not scalar_ok(self.graph, shapes):
            self._scalar_refused = True  # shapes follow from the input shapes: numpy code instead
            return self.arrays(arrays, shapes, with_grad)
        fn = self._scalar(with_grad)
        if fn is None:
            return None
        try:
            answer = fn(dict(zip(self._inputs, [float(a) for a in arrays])))
        except Exception:  # noqa: BLE001 - a domain error: the interpreter reports it
            return None
        if answer is not None and checked is not None:
            self.checked = checked
        return answer  # type: ignore[no-any-return]

    def _taped(self, arrays: list[Any]) -> Answer | None:
        """The answer by the tape (a big scalar program); None: the interpreter reports what failed."""
        g = self.graph
        named = [g.slot_of[n] for n in g.names]
        res = self.tape.run(arrays, g.slot_of[g.outputs[0]], sorted(set(named))) if self.tape else None
        if res is None:
            return None
        vals, adjs = res
        adjoints = dict(zip(g.names, [0.0 if adjs[s] is None else adjs[s] for s in named]))
        return dict(zip(g.names, map(vals.__getitem__, named))), adjoints, {n: adjoints[n] for n in g.inputs}
