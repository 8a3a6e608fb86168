"""The embedding API: load once, evaluate many times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from graphlang import methods
from graphlang.engines import interpreter as interp
from graphlang.engines.fasteval import FastEvaluate
from graphlang.engines.fastpath import FastGradient
from graphlang.errors import GraphlangError
from graphlang.ir import cost
from graphlang.ir.bind import LinesByName, bind_graph, direction_seeds
from graphlang.ir.graph import Graph
from graphlang.language.parser import parse_statements
from graphlang.language.resolve import check
from graphlang.language.source import read_source
from graphlang.limits import Limits, gc_paused
from graphlang.methods import hessian as second
from graphlang.methods.names import METHODS, unknown_method
from graphlang.numbers import owned, py
from graphlang.primitives.shapes import Shape
from graphlang.result import Result
from graphlang.symbolic.derivative import scalar_hint
from graphlang.symbolic.texbreak import WIDTH

AUTO = "auto"  # reverse (`jacobian()`'s: for a Jacobian, the cheaper of forward and reverse)


class Program:
    """A checked .cg program. `evaluate` runs the forward pass and reverse-mode adjoints."""

    def __init__(self, source: str, path: str | None = None, limits: Limits | None = None,
                 graph: Graph | None = None) -> None:
        if limits is not None and not isinstance(limits, Limits):
            raise GraphlangError("usage", f"limits must be a graphlang.Limits (e.g. Limits.strict()), "
                                 f"got {type(limits).__name__}")
        self.source, self.path, self.limits = source, path, limits or Limits()
        if graph is not None:  # built without text (a derivative program: symbolic/derivgraph.py)
            self.checked, self.graph = graph.checked, graph
        else:
            with gc_paused():  # building many small objects: the cyclic GC only slows this down
                self.checked = check(parse_statements(source, self.limits))  # (the parse is not kept: memory)
                self.graph = Graph(self.checked, self.limits)
        self._positions = {**self.checked.first_use, **self.checked.decl_line}
        self._fast = FastGradient(self.graph, self.bind)
        self._fast_evaluate = FastEvaluate(self.graph, self._fast.tape)
        self._assigned = LinesByName(self.graph.statements)  # (made when first read: an error)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its text (a process pool's task; compiled code and caches are made again)."""
        return (Program, (self.source, self.path, self.limits))

    # Made on first use, by the interpreter (SPEC §2: every named node the output reads has an adjoint)
    _live = cached_property(lambda self: interp.depends_on_inputs(self.graph, sorted(set(self.graph.slot_of.values()))))
    _constant = cached_property(lambda self: [not d for d in interp.depends_on_inputs(self.graph)])

    # --- what the program is -------------------------------------------------------------
    statements = property(lambda self: parse_statements(self.source, self.limits),
                          doc="The parsed statements (before names are resolved): parsed again, not kept.")
    inputs = property(lambda self: list(self.graph.inputs), doc="The inputs' names (params included).")
    params = property(lambda self: [n for n in self.graph.inputs if n in self.graph.params], doc="The params.")
    outputs = property(lambda self: list(self.graph.outputs), doc="The outputs' names.")
    names = property(lambda self: list(self.graph.names), doc="Every named node, in the program's order.")

    def definition(self, name: str) -> str:
        """A node's statement as written, or "input" / "param"; an unknown name is an error (it said "input")."""
        st = self.graph.statement(name) if isinstance(name, str) else None
        if not isinstance(name, str) or st is None and name not in self.graph.inputs and name not in self.graph.params:
            raise GraphlangError("usage", f"{str(name)[:40]!r} is not a node of the program",
                                 hint="nodes: " + ", ".join(self.names[:20]))
        return st.text if st is not None else "param" if name in self.graph.params else "input"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from graphlang.present.notebook import program_bundle
        return program_bundle(self)

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return (f"<graphlang.Program{where}: {len(self.graph.statements)} statements, inputs "
                f"{', '.join(self.inputs) or '(none)'}, output {', '.join(self.outputs)}>")

    # --- evaluation ----------------------------------------------------------------------
    def bind(self, values: Mapping[str, Any] | None = None) -> tuple[list[np.ndarray], list[Shape]]:
        return bind_graph(self.graph, values, self._assigned, self._positions)

    def forward(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every named node's value (the forward pass only): compiled once seen twice, else interpreted."""
        fast = self._fast_evaluate.forward_floats(values)
        if fast is not None:
            return fast
        arrays, shapes = self.bind(values)
        answer = self._fast_evaluate(arrays, shapes, with_grad=False)
        if answer is not None:
            return answer[0]
        vals = interp.forward(self.graph, arrays)
        return owned({n: py(vals[self.graph.slot_of[n]]) for n in self.graph.names})  # type: ignore[no-any-return]

    def _output_slots(self) -> list[int]:
        return [self.graph.slot_of[n] for n in self.graph.outputs]

    def is_scalar(self, shapes: Sequence[Shape]) -> bool:
        return len(self.graph.outputs) == 1 and shapes[self._output_slots()[0]] == ()

    def evaluate(self, values: Mapping[str, Any] | None = None, method: str = AUTO,
                 wrt: Sequence[str] | None = None, epsilon: float | None = None,
                 adjoints: bool | None = None) -> Result:
        """Forward pass, then the gradient (scalar output) or Jacobian by `method`.

        A scalar program's adjoints come with reverse mode, and with any method when `adjoints` is true.
        """
        if method not in METHODS and method != AUTO:
            raise unknown_method(method)
        if epsilon is not None and method != "fd":  # (the command line says so too: a SPEC red team's find)
            raise GraphlangError("usage", f"epsilon is the step of method='fd', not of {method!r}",
                                 hint="give method='fd' with it, or leave epsilon out")
        if wrt is None and method in (AUTO, "reverse"):  # plain floats, checked before: compiled
            fast = self._fast_evaluate.floats(values, self.limits)
            if fast is not None:
                return self._fast_result(*fast)
        arrays, shapes = self.bind(values)
        wrt_names = self._wrt(wrt)
        if method == AUTO:  # reverse, the SPEC's default, for a Jacobian too (`jacobian()` picks a mode)
            method = self._default_mode(arrays, shapes, wrt_names)
        methods.estimate(self, method, shapes, wrt_names)  # the whole command, before any of it runs
        g = self.graph
        output: str | list[str] = g.outputs[0] if len(g.outputs) == 1 else list(g.outputs)
        if method == "reverse" and self.is_scalar(shapes):
            fast = self._fast_evaluate(arrays, shapes, checked=self.limits if wrt is None else None)
            if fast is not None:  # None: the interpreter below
                return self._fast_result(*fast, wrt=wrt_names)
        vals = interp.forward(g, arrays)
        named = {n: py(vals[g.slot_of[n]]) for n in g.names}
        outs = self._output_slots()
        missing: set[int] = set()
        if self.is_scalar(shapes):
            adjoint_values = None
            if method == "reverse" or adjoints:
                try:
                    adj = interp.reverse(g, shapes, vals, {outs[0]: np.float64(1.0)}, self._live,
                                         soft=self._soft(wrt_names), missing=missing)
                    # a constant's adjoint that does not exist here (∂(x^n)/∂n at x < 0) is left out
                    adjoint_values = {n: _zero_if_none(adj[g.slot_of[n]], shapes[g.slot_of[n]])
                                      for n in g.names if g.slot_of[n] not in missing}
                except GraphlangError:
                    if method == "reverse":
                        raise
                    # reverse mode fails here (e.g. sqrt(x*x) at 0) while the method asked for may
                    # not: the adjoints are an extra, so they are left out
            if method == "reverse":
                assert adjoint_values is not None
                grad = {n: adjoint_values[n] for n in wrt_names}
            else:
                grad = methods.gradient(self, method, arrays, shapes, vals, wrt_names, epsilon)
            res = Result(output, named[g.outputs[0]], named, adjoint_values, grad, method=method)
        else:
            value = np.concatenate([np.ravel(vals[s]) for s in outs])
            jac = methods.jacobian(self, method, arrays, shapes, vals, wrt_names, epsilon)
            res = Result(output, value if len(outs) > 1 else py(vals[outs[0]]),
                         named, None, None, jac, method=method)
        if method == "fd":
            res.epsilon = methods.fd_epsilon_report(arrays, epsilon)
            res.extra["scaled"] = epsilon is None  # the default step is ε·max(1, |x|) per coordinate
        if missing:
            res.extra["no_adjoint"] = [n for n in g.names if g.slot_of[n] in missing]
        res.extra["program"] = self
        owned(res.values, res.adjoints, res.gradient, res.jacobian)
        if isinstance(output, str):  # (the output's value is its entry: one array, not a copy's original)
            res.value = res.values[output]
        return res

    def _soft(self, wrt: list[str]) -> list[bool]:
        """Slots no input of `wrt` moves, whose adjoint may not exist (`n` in x^n at x < 0, ∂/∂x asked)."""
        if set(wrt) == set(self.graph.inputs):
            return self._constant
        return [not d for d in interp.depends_on_inputs(self.graph, [self.graph.inputs.index(n) for n in wrt])]

    def _default_mode(self, arrays: list[Any], shapes: list[Shape], wrt: list[str]) -> str:
        """Reverse mode, unless a Jacobian's adjoint passes are past the budget where forward's
        passes are not (x beside a 200,000-element output: 1 tangent pass, not 200,000)."""
        if self.is_scalar(shapes):
            return "reverse"
        try:
            methods.estimate(self, "reverse", shapes, wrt)
        except GraphlangError as err:
            if err.kind != "limit" or methods.choose_mode(self, arrays, shapes, wrt) != "forward":
                raise
            return "forward"
        return "reverse"

    def _fast_result(self, values: dict[str, Any], adjoints: dict[str, Any], gradient: dict[str, Any],
                     wrt: Sequence[str] | None = None) -> Result:
        """`evaluate`'s Result from the compiled values and adjoints (reverse mode, scalar output)."""
        out = self.graph.outputs[0]
        res = Result(out, values[out], values, adjoints, gradient if wrt is None else  # (an array its own: `owned`)
                     {n: np.array(a) if isinstance(a := adjoints[n], np.ndarray) else a for n in wrt})
        res.extra["program"] = self
        return res

    def gradient(self, values: Mapping[str, Any] | None = None, method: str = AUTO,
                 wrt: Sequence[str] | None = None, epsilon: float | None = None) -> dict[str, Any]:
        """dict input -> gradient (or Jacobian, for a vector-valued program).

        Reverse mode runs compiled code (see `compile.py`) once the program is evaluated again;
        any problem falls back to the interpreter, which reports it.
        """
        if method in (AUTO, "reverse") and wrt is None and epsilon is None and len(self.graph.outputs) == 1:
            fast = self._fast(values)
            if fast is not None:
                return fast
        r = self.evaluate(values, method=method, wrt=wrt, epsilon=epsilon)
        return r.gradient if r.gradient is not None else (r.jacobian or {})

    def jacobian(self, values: Mapping[str, Any] | None = None, wrt: str | Sequence[str] | None = None,
                 mode: str = AUTO) -> dict[str, Any]:
        """The Jacobian (denominator layout: input shape + (N,)) by forward or reverse mode; `auto`
        picks the cheaper one (forward when inputs are fewer than outputs)."""
        names = [wrt] if isinstance(wrt, str) else wrt
        arrays, shapes = self.bind(values)
        names = self._wrt(names)
        if mode == AUTO:
            mode = methods.choose_mode(self, arrays, shapes, names)
        if mode not in ("forward", "reverse", "fd", "symbolic"):
            raise GraphlangError("usage", f"unknown mode {mode!r}", hint="auto, forward or reverse")
        methods.estimate(self, mode, shapes, names)
        vals = interp.forward(self.graph, arrays)
        return owned(methods.jacobian(self, mode, arrays, shapes, vals, names, None))  # type: ignore[no-any-return]

    def tangents(self, values: Mapping[str, Any], direction: Mapping[str, Any]) -> dict[str, Any]:
        """Forward mode: every node's tangent (its derivative along `direction`; missing inputs 0)."""
        arrays, shapes = self.bind(values)
        seeds = direction_seeds(self.graph, shapes, direction, self.limits, self._positions)
        vals = interp.forward(self.graph, arrays)
        read, undefined = self.graph.read_by([self.graph.slot_of[o] for o in self.graph.outputs]), set[int]()
        try:
            tan = interp.tangents(self.graph, shapes, vals, seeds, soft=[not r for r in read], missing=undefined)
        except GraphlangError as err:  # (a tangent scales with the direction: 1e308 overflowed "at the point")
            if "overflows" in err.message and any(np.max(np.abs(v), initial=0) > 1e150 for v in seeds.values()):
                err.hint = ("the tangents scale with the direction, whose values are past 1e150: give a smaller "
                            "direction (x=1 gives the derivative itself; any other scales it)")
            raise
        return owned({n: None if self.graph.slot_of[n] in undefined else _zero_if_none(  # type: ignore[no-any-return]
            tan[self.graph.slot_of[n]], shapes[self.graph.slot_of[n]]) for n in self.graph.names})

    def hessian(self, values: Mapping[str, Any] | None = None,
                wrt: str | Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """Second derivatives of a scalar program: reverse mode over its derivative program (`wrt`:
        only those inputs' blocks, as `graphlang hessian --wrt`)."""
        names = self._wrt(wrt) if wrt is not None else None  # (x^n, --wrt x at x < 0: no ∂/∂n asked)
        arrays, shapes = self.bind(values)
        if not self.is_scalar(shapes):
            last = self.graph.outputs[-1]
            raise GraphlangError("shape", "the Hessian needs a single scalar output", *(self.checked.output_pos or
                                 self.graph.position(last)), scalar_hint(self.graph, shapes))
        asked = len(self.graph.inputs if names is None else names)
        if asked * self.graph.n_eqns > self.limits.max_nodes:
            raise GraphlangError("limit", f"the Hessian of {asked} inputs would build {asked} derivative "
                                 f"programs of {self.graph.n_eqns:,} equations each",
                                 hint="ask for fewer inputs, or use gradcheck")
        cost.check(self.limits, cost.hessian(self.graph, shapes, names))
        interp.forward(self.graph, arrays)  # the program's own domain errors, at their own lines
        return second.hessian(self, shapes, dict(zip(self.graph.inputs, arrays)), self._of, names)

    def _of(self, source: str | Graph) -> Program:
        """A derivative program of this one, from its text or from its graph built directly."""
        return parse(source, limits=self.limits) if isinstance(source, str) else Program("", None, self.limits, source)

    def explain(self, at: Mapping[str, Any], node: str | None = None, format: str = "text", digits: int = 6,
                width: int = WIDTH, of: str | None = None, mode: str | None = None, wrt: str | None = None) -> str:
        """The chain rule step by step, as `graphlang explain` prints it: text, markdown or latex
        (LaTeX formulas wider than `width` symbols broken over lines); `of="y[9]"`: the backward pass
        of that output component only; `mode="forward"`: tangent passes (`wrt="x"`: that input's only)."""
        from graphlang.present.views import explain as view  # (the façade's views: imported when called)
        return view(self, at, node, format, digits, width, of, mode, wrt)
    def diff(self, wrt: str | Sequence[str] | None = None, latex: bool = False,
             at: Mapping[str, Any] | None = None, width: int = WIDTH) -> dict[str, str]:
        """Closed-form ∂output/∂input per input, in the inputs (`graphlang diff [--latex] [--width N]`)."""
        from graphlang.present.views import diff as view  # (the façade's views: imported when called)
        return view(self, wrt, latex, at, width)
    def to_dot(self, at: Mapping[str, Any] | None = None, partials: bool = False) -> str:
        """The graph as Graphviz DOT in the course's conventions (`graphlang graph --dot`)."""
        from graphlang.present.views import to_dot as view  # (the façade's views: imported when called)
        return view(self, at, partials)
    def draw(self, path: str | None = None, at: Mapping[str, Any] | None = None, **options: Any) -> Any:
        """The graph as a picture: written to `path` (.png .svg .pdf .dot .tex), else shown inline."""
        from graphlang.present.views import draw as view  # (the façade's views: imported when called)
        return view(self, path, at, **options)
    def to_latex(self) -> str:
        """The program's statements as a LaTeX align* block."""
        from graphlang.present.views import program_latex as view  # (the façade's views: imported when called)
        return view(self)

    def _wrt(self, wrt: str | Sequence[str] | None) -> list[str]:
        if wrt is None:
            return list(self.graph.inputs)
        names = list(wrt) if isinstance(wrt, Iterable) and not isinstance(wrt, str) else [wrt]  # a str: one name
        if not all(isinstance(n, str) for n in names):
            raise GraphlangError("usage", f"wrt must be an input's name or a list of names, got {wrt!r}"[:160])
        names = list(dict.fromkeys(names))  # (x, x: once; a repeat made `_soft` take it for every input)
        for n in names:
            if n not in self.graph.inputs:  # an intermediate: its adjoint is g_n, its closed form diff's
                inner, base = n in self.graph.slot_of, n.split("[")[0].strip()
                if base in self.graph.inputs and base != n:  # `W2[1,2]`: an element (explain's --wrt takes it)
                    raise GraphlangError("unknown-input", f"cannot differentiate with respect to {n!r}: the "
                                         f"gradient is by whole inputs", hint=f"∂/∂{n} is that element of ∂/∂{base} "
                                         f"(--wrt {base}); its own pass: graphlang explain --mode forward --wrt '{n}'")
                raise GraphlangError("unknown-input", f"cannot differentiate with respect to {n!r}: " + (
                    "it is an intermediate quantity, not an input" if inner else "it is not an input"),
                    hint=(f"its adjoint g_{n} is in the backward pass (run, explain --node {n}); graphlang diff "
                          f"--wrt {n} gives ∂/∂{n}; " if inner else "") + "inputs: " + ", ".join(self.graph.inputs))
        return names


def _zero_if_none(a: Any, shape: Shape) -> Any:
    return py(np.zeros(shape)) if a is None else py(a)


def parse(source: str, limits: Limits | None = None, path: str | None = None) -> Program:
    """Check a program's text; raise GraphlangError on any problem."""
    if not isinstance(source, str):
        raise GraphlangError("value", "the program must be text (str)")
    source = source.removeprefix("\ufeff")  # a BOM (from a Windows editor, as files may hold) is no character
    try:
        return Program(source, path=path, limits=limits)
    except GraphlangError as err:
        err.source = source  # type: ignore[attr-defined]  # for showing the line in notebooks
        raise


def load(path: str | Path, limits: Limits | None = None) -> Program:
    """Read and check a .cg file."""
    if not isinstance(path, (str, Path)):  # load(None) was a TypeError (SPEC §4: every error a GraphlangError)
        raise GraphlangError("usage", f"load needs a file path, got {type(path).__name__}")
    return parse(read_source(path, limits or Limits()), limits=limits, path=str(path))
