"""The graph: a checked program lowered to a flat list of equations over numbered slots.

Statement order is a topological order, so every interpreter is a loop over `eqns` (reverse mode
is the same loop reversed): no recursion, at any size.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.ir.pretty import pretty
from graphlang.ir.shapebuild import builder
from graphlang.language.ast import Statement, tree_nodes
from graphlang.language.parser import parse_statements
from graphlang.language.resolve import Checked, check
from graphlang.limits import Limits, gc_paused
from graphlang.primitives.shapes import Shape, ShapeError, show
from graphlang.primitives.table import PRIMITIVES, Primitive

# The interpreter's own work per equation and pass (dispatch, rule lookup, a small array or two),
# charged as this many elementary operations: measured, one equation of a long scalar chain costs
# about as much time as 1,000–3,000 float operations in numpy, so a program of many tiny nodes is
# not free even though each node's `work` is 1.
EQN_OVERHEAD = 1_000


@dataclass(slots=True)
class Eqn:
    """`slots[out] = prim(*slots[ins], attr)`, from statement `stmt` at line:column."""

    out: int
    prim: Primitive
    ins: tuple[int, ...]
    attr: object
    line: int
    column: int
    stmt: int


class Graph:
    """Slots 0..len(inputs)-1 hold the inputs; constants and equations fill the rest."""

    def __init__(self, checked: Checked, limits: Limits) -> None:
        self.checked = checked
        self.limits = limits
        self.inputs: list[str] = checked.inputs
        self.input_set = frozenset(self.inputs)  # (for `in`: the list is a scan per test)
        self.params = checked.params
        self.outputs: list[str] = checked.outputs
        self.statements: list[Statement] = checked.assigns
        self.slot_of: dict[str, int] = {name: i for i, name in enumerate(self.inputs)}
        self.consts: dict[int, float] = {}
        # The equations as columns (one list per field of `Eqn`, `ops` the primitives' names): a
        # million equations are a few lists, not a million objects; `eqns` makes the objects on use.
        self.outs: list[int] = []
        self.ops: list[str] = []
        self.args: list[tuple[int, ...]] = []
        self.attrs: list[object] = []
        self.lines: list[int] = []
        self.columns: list[int] = []
        self.stmts: list[int] = []
        cols = (self.outs.append, self.ops.append, self.args.append, self.attrs.append, self.lines.append,
                self.columns.append, self.stmts.append)
        n = len(self.inputs)
        const_slot: dict[str, int] = {}
        slot_of = self.slot_of
        max_nodes = limits.max_nodes
        lane, checked.lane = checked.lane, None  # resolved nodes per statement of a known shape
        for k, st in enumerate(self.statements):
            assert st.expr is not None
            pre = lane[k] if lane is not None else None
            if pre is not None:
                lane[k] = None  # type: ignore[index]  # (freed as it goes)
                kind = pre[0]
                if kind.bld is None:
                    kind.bld = builder(kind.shape)
                n, root = kind.bld(pre[1], k, st.line, st.column, slot_of, const_slot, self.consts, cols, n)
            else:
                n, root = self._lower(st, k, n, const_slot, cols)
            slot_of[st.name] = root
            if n > max_nodes:
                raise GraphlangError("limit", f"the graph has more than {limits.max_nodes:,} nodes",
                                     st.line, st.column, "split the program or raise the limit")
        self.n_slots = n
        self.n_eqns = len(self.outs)
        self.names: list[str] = self.inputs + [st.name for st in self.statements]
        self._shape_cache: dict[tuple[Shape, ...], list[Shape]] = {}
        self.costs: dict[tuple[Shape, ...], int] = {}  # predicted operations, per input shapes
        self._last: tuple[tuple[Shape, ...], int, int] | None = None  # shapes, cost, numbers held
        self._held: dict[tuple[Shape, ...], int] = {}  # numbers held by one pass, per input shapes

    def _lower(self, st: Statement, k: int, n: int, const_slot: dict[str, int], cols: tuple[Any, ...]
               ) -> tuple[int, int]:
        """One statement's equations from its resolved tree (any statement the fast lane did not build)."""
        out, op, arg, attr, line, column, stmt = cols
        assert st.expr is not None
        slot_of_node: dict[int, int] = {}
        made = 0
        for node in tree_nodes(st.expr):
            if node.op == "var":
                slot_of_node[id(node)] = self.slot_of[str(node.attr)]
            elif node.op == "const":
                value = float(node.attr)  # type: ignore[arg-type]
                key = repr(value)
                if key not in const_slot:
                    const_slot[key] = n
                    self.consts[n] = value
                    n += 1
                slot_of_node[id(node)] = const_slot[key]
            else:
                out(n), op(PRIMITIVES[node.op].name), arg(tuple(slot_of_node[id(a)] for a in node.args))
                attr(node.attr), line(node.line or st.line), column(node.column or st.column), stmt(k)
                slot_of_node[id(node)] = n
                n += 1
                made += 1
        root = slot_of_node[id(st.expr)]
        if not made:  # `y = u` or `y = 2`: y is a node of its own
            out(n), op("id"), arg((root,)), attr(None), line(st.line), column(st.column), stmt(k)
            root = n
            n += 1
        return n, root

    @cached_property
    def eqns(self) -> list[Eqn]:
        """The equations as objects (made when first asked for: a loop over the columns)."""
        return list(map(Eqn, self.outs, map(PRIMITIVES.__getitem__, self.ops), self.args, self.attrs,
                        self.lines, self.columns, self.stmts))

    @cached_property
    def stmt_eqns(self) -> list[tuple[int, int]]:
        """[start, stop) into eqns, per statement (every statement has at least one equation)."""
        starts = [0] * len(self.statements)
        stmts = self.stmts
        for e in range(len(stmts) - 1, -1, -1):
            starts[stmts[e]] = e
        return [*zip(starts, starts[1:] + [len(stmts)])]

    @cached_property
    def name_of(self) -> dict[int, str]:
        return {self.slot_of[name]: name for name in self.names}

    @cached_property
    def _by_name(self) -> dict[str, Statement]:
        return {st.name: st for st in self.statements}

    def reached_from(self, sources: Iterable[int]) -> list[bool]:
        """Per slot: does it depend on any of `sources`? (Where a tangent or an adjoint can be non-zero.)"""
        reached = [False] * self.n_slots
        for s in sources:
            reached[s] = True
        for o, ins in zip(self.outs, self.args):
            if not reached[o]:
                for i in ins:  # (a loop, not any(): no generator per equation)
                    if reached[i]:
                        reached[o] = True
                        break
        return reached

    def read_by(self, outs: Iterable[int]) -> list[bool]:
        """Per slot: do any of `outs` depend on it? (What computing `outs` needs.)"""
        needed = [False] * self.n_slots
        for s in outs:
            needed[s] = True
        for o, ins in zip(reversed(self.outs), reversed(self.args)):
            if needed[o]:
                for i in ins:
                    needed[i] = True
        return needed

    def __str__(self) -> str:
        """The equation list (shapes where every input's shape is declared)."""
        declared = [self.checked.declared.get(n) for n in self.inputs]
        if all(d is not None for d in declared):
            try:
                return pretty(self, self.shapes(tuple(tuple(d or ()) for d in declared)))
            except GraphlangError:
                pass
        return pretty(self)

    def position(self, name: str) -> tuple[int | None, int | None]:
        """Where a name is defined: its statement, else its declaration or first use (an input)."""
        if (st := self.statement(name)) is not None:
            return st.line, st.column
        where = self.checked.decl_line.get(name) or self.checked.first_use.get(name)
        return (where[0], where[1]) if where else (None, None)

    def statement(self, name: str) -> Statement | None:
        return self._by_name.get(name)

    def pass_cost(self, input_shapes: tuple[Shape, ...]) -> tuple[int, int]:
        """(operations of one forward and one reverse pass, numbers one pass holds) at these shapes."""
        self.shapes(input_shapes)
        if self._last is not None and self._last[0] == input_shapes:
            return self._last[1], self._last[2]
        return self.costs[input_shapes], self._held[input_shapes]

    def as_written(self, slot: int) -> tuple[str, str]:
        """An operand as the program writes it and its transpose (`W`, `W.T`; `W.T`, `W`); ("", "")
        for another expression. (An error's path, and a note's.)"""
        name = self.name_of.get(slot)
        if name is not None:
            return name, f"{name}.T"
        made = next((e for e in self.eqns if e.out == slot), None)
        inner = self.name_of.get(made.ins[0]) if made is not None and made.prim.name == "T" else None
        return (f"{inner}.T", inner) if inner is not None else ("", "")

    @staticmethod
    def _fits(shapes: list[Shape]) -> Shape | None:
        try:
            return PRIMITIVES["matmul"].shape(shapes, None)
        except ShapeError:
            return None

    def _product_hint(self, eq: Eqn, ins: list[Shape]) -> str | None:
        """`W @ x` where `W.T @ x` fits (the lecture's αᵀx, a denominator-layout Jacobian), and `W * x`
        or dot(W, x) where a matrix product fits. (An error's path only.)"""
        matmul = eq.prim.name == "matmul"
        (a, a_t), (b, b_t) = (self.as_written(i) for i in eq.ins)
        if matmul and len(ins[0]) == 1 == len(ins[1]):  # `u @ v.T` for u vᵀ: no orientation here
            u, v = a.removesuffix(".T") or "the left operand", b.removesuffix(".T") or "the right operand"
            return (f"@ of two vectors is their inner product, of equal sizes ({u} is {list(ins[0])}, {v} "
                    f"is {list(ins[1])}: check their declarations); for the outer product write outer({u}, {v})")
        named = bool(a and b)  # a compound operand (`2 * W @ x`) is named by its side
        tries = ([] if matmul else [(f"{a} @ {b}" if named else "a matrix product", [ins[0], ins[1]])]) + [
            (f"{a_t} @ {b}" if named else "to transpose the left operand", [ins[0][::-1], ins[1]]),
            (f"{a} @ {b_t}" if named else "to transpose the right operand", [ins[0], ins[1][::-1]]),
            (f"{b} @ {a}" if named else "to swap the operands", [ins[1], ins[0]])]
        fits: dict[Shape, str] = {}  # two rows [1, n]: u.T @ v (outer) and u @ v.T (inner)
        for text, shapes in tries:
            out = self._fits(shapes)
            if out is not None:
                fits.setdefault(out, f"{text} (giving shape {list(out)})")
        for k, name in ((1, b), (0, a)):  # x[1, 3] (a row) where the product needs a vector: x.T would
            n = max(ins[k]) if len(ins[k]) == 2 and 1 in ins[k] else 0  # give a column, stretched by a bias
            vec = [ins[0], (n,)] if k else [(n,), ins[1]]
            matrix = len(ins[1 - k]) == 2 and 1 not in ins[1 - k]  # (two rows: inner or outer, below)
            if matmul and n and matrix and name in self.inputs and self._fits(vec) is not None:  # (h = v * 2: v's)
                return (f"declare {name} as a vector, {name}[{n}], not as a {'row' if ins[k][0] == 1 else 'column'} "
                        f"{list(ins[k])}: then {a} @ {b} gives shape {list(self._fits(vec) or ())} (the lecture's "
                        f"vectors have one axis)")
        if not fits:
            return None
        before = "" if matmul else ("* multiplies element by element" if eq.prim.name == "mul" else
                                    "dot takes two vectors") + "; for a matrix product, "
        return (f"{before}did you mean {' or '.join(fits.values())}? ({a or 'the left'} is {list(ins[0])}, "
                f"{b or 'the right'} is {list(ins[1])})")

    def _shape_hint(self, eq: Eqn, ins: list[Shape], shapes: list[Shape] | None = None) -> str:
        """(An error's path only.) `[[1, 2]` then `[3, 4]]` on the next line indexes the first row;
        a product whose operands fit another way says so (`_product_hint`)."""
        if eq.prim.name in ("matmul", "mul", "dot") and len(eq.ins) == 2 and 1 <= len(ins[0]) <= 2 >= len(ins[1]) >= 1 \
                and (eq.prim.name == "matmul" or 2 in (len(ins[0]), len(ins[1]))):
            hint = self._product_hint(eq, ins)
            if hint:
                return hint
        k = self.eqns.index(eq)
        made = next((e for e in reversed(self.eqns[max(0, k - 64):k]) if e.out == eq.ins[0]), None)
        if eq.prim.name == "index" and made is not None and made.prim.name == "stack":
            return "is a ',' missing between two rows? [[1, 2], [3, 4]] (a list followed by [..] indexes it)"
        known: list[Shape] = shapes or []
        for i in eq.ins if known and eq.prim.elementwise else []:  # `A.T * x + b`: * meant @
            by = next((e for e in reversed(self.eqns[max(0, k - 64):k]) if e.out == i), None)
            if by is not None and by.prim.name == "mul" and sorted(len(known[j]) for j in by.ins) == [1, 2]:
                (a, _), (b, _), fits = *(self.as_written(j) for j in by.ins), self._fits([known[j] for j in by.ins])
                if a and b and fits is not None:
                    return (f"{a} * {b} multiplies element by element (giving shape {list(known[i])}); for a "
                            f"matrix product write {a} @ {b} (giving shape {list(fits)})")
        return "check the shapes of the operands (declared or given with --at)"

    def shapes(self, input_shapes: tuple[Shape, ...]) -> list[Shape]:
        """Infer every slot's shape from the inputs' shapes; check limits and predicted cost."""
        cached = self._shape_cache.get(input_shapes)
        if cached is not None:
            return cached
        limits = self.limits
        scalars = None if any(input_shapes) else self._scalar_pass(input_shapes)
        if scalars is not None:
            return scalars
        shapes: list[Shape] = [()] * self.n_slots
        shapes[: len(input_shapes)] = list(input_shapes)
        total = sum(math.prod(s) for s in input_shapes)
        cost = 0
        for eq in self.eqns:
            ins = [shapes[i] for i in eq.ins]
            try:
                out = eq.prim.shape(ins, eq.attr)
            except ShapeError as err:
                raise GraphlangError(err.kind, str(err), eq.line, eq.column,
                                     err.hint or self._shape_hint(eq, ins, shapes)) from None
            shapes[eq.out] = out
            if len(out) > limits.max_rank:
                raise GraphlangError("limit", f"this would make a tensor with {len(out)} axes; the limit "
                                     f"is {limits.max_rank}", eq.line, eq.column,
                                     "use vectors and matrices")
            size = math.prod(out) if out else 1
            if size > limits.max_tensor_elements:
                raise GraphlangError("limit", f"this would make a tensor of shape {show(out)} "
                                     f"({size:,} elements; the limit is {limits.max_tensor_elements:,})",
                                     eq.line, eq.column, "use smaller tensors or raise the limit")
            total += size
            if total > limits.max_total_elements:
                raise GraphlangError("limit", f"the program would hold more than "
                                     f"{limits.max_total_elements:,} numbers in all", eq.line, eq.column,
                                     "use smaller tensors or raise the limit")
            cost += 3 * (eq.prim.work(list(ins), out, eq.attr) + EQN_OVERHEAD)  # forward and reverse
            if cost > limits.max_cost:
                raise GraphlangError("limit", f"the predicted cost ({cost:,} operations) exceeds the "
                                     f"budget of {limits.max_cost:,}", eq.line, eq.column,
                                     "use smaller tensors or raise the cost limit")
        return self._remember(input_shapes, shapes, cost, total)


    def _remember(self, input_shapes: tuple[Shape, ...], shapes: list[Shape], cost: int, total: int
                  ) -> list[Shape]:
        self._last = (input_shapes, cost, total)
        if len(self._shape_cache) < 64:
            self._shape_cache[input_shapes] = shapes
            self.costs[input_shapes] = cost
            self._held[input_shapes] = total
        return shapes

    def _scalar_pass(self, input_shapes: tuple[Shape, ...]) -> list[Shape] | None:
        """All inputs scalars and every equation elementwise: every value is a scalar, and the cost a sum
        of per-primitive constants (None: the general loop, which also locates any limit error)."""
        counts = Counter(self.ops)  # (C loops over the columns: a million equations)
        if self.attrs.count(None) != len(self.attrs):
            return None
        cost = 0
        for name, count in counts.items():
            prim = PRIMITIVES[name]
            if not prim.elementwise:
                return None
            cost += count * 3 * (prim.work([()] * prim.arity, ()) + EQN_OVERHEAD)
        total = len(input_shapes) + self.n_eqns
        if cost > self.limits.max_cost or total > self.limits.max_total_elements:
            return None
        shapes: list[Shape] = [()] * self.n_slots
        return self._remember(input_shapes, shapes, cost, total)


def build(source: str, limits: Limits) -> Graph:
    """Program text -> its graph: parse, resolve names, lower to equations (each step raises located errors)."""
    with gc_paused():  # building many small objects: the cyclic GC only slows this down
        return Graph(check(parse_statements(source, limits)), limits)
