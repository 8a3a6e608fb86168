"""Which values of straight-line scalar code must be checked for inf and NaN, and which need not.

A value used later where a non-finite argument always shows in the result (inf + 1, 0 · inf = NaN,
ln(inf)) or raises (sin(inf), x / 0) needs no check of its own: its non-finiteness surfaces in the
later value, which is itself checked or used so in turn. Only the values with no such later use are
summed (an inf or NaN makes the sum non-finite). In a big program that is a few per cent of them.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Sequence

# Scalar functions (by their generated names) whose result is inf or NaN, or which raise, whenever
# the argument at a position is inf, -inf or NaN, whatever the others are. tests/test_finite.py
# checks every entry on the kernels themselves.
SHOWS: dict[str, tuple[bool, ...]] = {
    "_S_ln": (True,), "_S_sqrt": (True,), "_S_sin": (True,), "_S_cos": (True,), "_S_tan": (True,),
    "_S_abs": (True,),
}
# Scalar functions that return a finite value, or raise, whenever every argument is finite (`math`
# raises OverflowError where `*` would give inf): a value they compute is finite if its arguments
# are, so it needs no check of its own when each argument is checked or shows elsewhere.
FINITE = frozenset({"_S_exp", "_S_ln", "_S_sqrt", "_S_sin", "_S_cos", "_S_tan", "_S_tanh", "_S_pow", "_mpow",
                    "_S_abs", "_S_sigmoid", "_S_relu", "_S_step", "_S_sign", "_S_max", "_S_min",
                    "_S_softplus", "_S_logsigmoid", "_fin"})
_BINARY = {ast.Add: (True, True), ast.Sub: (True, True), ast.Mult: (True, True), ast.Div: (True, False)}
_VAR = re.compile(r"\b([vgt]\d+)\b")
_NUMBERED = [f"_{k}" for k in range(64)]
_SHAPES: dict[str, tuple[tuple[bool, ...], bool]] = {}  # a right-hand side, its variables numbered
MAX_SHAPES = 100_000  # as plan.py's templates: past it, each new line is analysed afresh


def is_finite_expr(node: ast.expr) -> bool:
    """Whether the expression is finite (or raises) whenever its variables are finite."""
    if isinstance(node, ast.Name):  # a numbered variable (`inf` and `nan` are not)
        return node.id.startswith("_") and node.id[1:].isdigit()
    if isinstance(node, ast.Constant):
        return isinstance(node.value, float) and math.isfinite(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return is_finite_expr(node.operand)
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in FINITE and all(map(is_finite_expr, node.args))
    if isinstance(node, ast.IfExp):
        return is_finite_expr(node.body) and is_finite_expr(node.orelse)
    return False


def line_shape(rhs: str) -> tuple[tuple[bool, ...], bool]:
    """For `(_0 + _S_exp(_1))`: ((True, False), False) — whether each numbered variable's
    non-finiteness shows in the result, and whether the result is finite when the variables are."""
    shows: dict[int, bool] = {}

    def walk(node: ast.AST, show: bool, lazy: bool) -> None:
        if isinstance(node, ast.Name) and node.id.startswith("_") and node.id[1:].isdigit():
            shows[int(node.id[1:])] = show
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = _BINARY[type(node.op)]
            walk(node.left, show and left, lazy)
            walk(node.right, show and right, lazy)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            walk(node.operand, show, lazy)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            name = node.func.id
            checks = name == "_fin" and not lazy  # raises unless its argument is finite
            positions = SHOWS.get(name, ())
            for k, arg in enumerate(node.args):
                walk(arg, checks or (show and k < len(positions) and positions[k]), lazy)
        elif isinstance(node, ast.Call):
            for child in node.args:
                walk(child, False, lazy)
        elif isinstance(node, ast.IfExp):  # a branch may not run
            for child in (node.test, node.body, node.orelse):
                walk(child, False, True)
        else:
            for sub in ast.iter_child_nodes(node):
                walk(sub, False, lazy)

    tree = ast.parse(rhs, mode="eval").body
    walk(tree, True, False)
    return tuple(shows.get(k, False) for k in range(len(shows))), is_finite_expr(tree)


def unchecked(lines: list[str]) -> list[str]:
    """The variables (by final value) to sum, so that any inf or NaN among the values `lines`
    assign makes the sum non-finite; raises ValueError when some value that is overwritten later
    would go unseen (then the caller checks every value as before)."""
    shown: set[str] = set()  # variables whose current value (reading backward) shows later
    final: set[str] = set()  # variables whose final value has been passed (reading backward)
    out: list[str] = []
    for line in reversed(lines):
        target, rhs = line.split(" = ", 1)
        parts = _VAR.split(rhs)  # text, variable, text, ..., text
        names = parts[1::2]
        while len(_NUMBERED) < len(names):
            _NUMBERED.append(f"_{len(_NUMBERED)}")
        parts[1::2] = _NUMBERED[:len(names)]
        key = "".join(parts)
        shape = _SHAPES.get(key)
        if shape is None:
            try:
                shape = line_shape(key)
                if len(_SHAPES) < MAX_SHAPES:  # (keys hold a program's constants: bounded for a long-lived process)
                    _SHAPES[key] = shape
            except (RecursionError, SyntaxError, MemoryError):  # a line too deep to walk: check all
                raise ValueError("a line too deeply nested to analyse") from None
        shows, finite = shape
        was_final = target not in final
        final.add(target)
        if target in shown:
            shown.discard(target)  # the value before this line is another value
        elif finite:  # finite if its arguments are: they are checked or show, here or before
            continue
        elif was_final:
            out.append(target)
        else:
            raise ValueError(f"an overwritten value of {target} would go unchecked")
        shown.update(n for n, s in zip(names, shows) if s)
    out.reverse()
    return out


def checked(lines: list[str], inputs: Sequence[str] = ()) -> list[str]:
    """The variables to sum: the inputs, and every value of `lines` whose inf or NaN would show
    nowhere else (every value `lines` assigns when `unchecked` refuses)."""
    try:
        return list(inputs) + unchecked(lines)
    except ValueError:
        return list(inputs) + list(dict.fromkeys(line.split(" ", 1)[0] for line in lines))


def sums(lines: list[str], inputs: Sequence[str] = (), into: str = "_c") -> list[str]:
    """Statements adding the `checked` variables to `into`, 50 to a statement."""
    check = checked(lines, inputs)
    return [f"{into} += " + " + ".join(check[k:k + 50]) for k in range(0, len(check), 50)]
