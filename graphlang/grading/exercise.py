"""Seeded practice problems in the lecture's style: a random, well-posed graph, its assignment,
a worksheet and the answer key.

The same seed, difficulty, operations and student id give byte-identical files on every machine
(the randomness is `random.Random` seeded from a SHA-256 of those, never `hash()`); a student id
derives a per-student variant. A graph has 4-12 intermediates, at least one node that two others
read (as `a` in the lecture), and a point with short decimal inputs where every function is inside
its domain and away from its edges (ln's argument ≥ 0.2, a divisor ≥ 0.3 in size, exp's ≤ 4).
`hard` is a small network layer in matrix form (`u = W @ x + b; h = sigmoid(u); …`).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.files import write_text
from graphlang.grading import worksheet
from graphlang.grading.assignment import Assignment
from graphlang.program import Program, parse

DIFFICULTIES = ("easy", "medium", "hard")
UNARY = ("exp", "ln", "sin", "cos", "tanh", "sigmoid", "sqrt")
OPS = (*UNARY, "/")
DEFAULT_OPS = {"easy": ("exp", "sin", "cos"), "medium": OPS, "hard": ("sigmoid", "tanh")}
SIZES = {"easy": (4, 6), "medium": (6, 10)}
NAMES = ("a", "b", "c", "d", "e", "f", "h", "k", "m", "n", "p", "q", "r", "s")
INPUT_VALUES = {"x": (0.5, 1.5, 2.0, 2.5, 3.0), "z": (-1.0, -0.5, 0.5, 1.5, 2.0, 3.0)}
FILES = ("program.cg", "assignment.toml", "worksheet.md", "worksheet.tex", "key.json")


@dataclass
class Exercise:
    """One generated exercise: `.files` maps each file name to its text; `.write(directory)`."""

    seed: int
    difficulty: str
    ops: tuple[str, ...]
    student: str | None
    source: str
    at: dict[str, Any]
    program: Program = field(repr=False)
    assignment: Assignment = field(repr=False)
    key: dict[str, Any] = field(repr=False)
    files: dict[str, str] = field(default_factory=dict, repr=False)

    def write(self, directory: str | Path) -> list[Path]:
        return write_files(directory, {name: self.files[name] for name in FILES})


def write_files(directory: str | Path, files: dict[str, str]) -> list[Path]:
    """The files into the folder (made if need be), in the order given; their paths."""
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise GraphlangError("usage", f"-o {directory}: not a directory")
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        write_text(str(d / name), text)
    return [d / name for name in files]


def generate(seed: int = 0, difficulty: str = "medium", ops: str | list[str] | tuple[str, ...] | None = None,
             student: str | None = None) -> Exercise:
    """A reproducible exercise (see the module's description); usage errors for bad options."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
        raise GraphlangError("usage", f"--seed must be an integer from 0 to 2^63 - 1, got {seed!r}")
    if difficulty not in DIFFICULTIES:
        raise GraphlangError("usage", f"--difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    chosen = _ops(ops, difficulty)
    if student is not None and (not isinstance(student, str) or not student.strip() or len(student) > 200):
        raise GraphlangError("usage", "--student must be a non-empty id of at most 200 characters")
    material = f"graphlang-exercise|{seed}|{student or ''}|{difficulty}|{','.join(chosen)}"
    rng = random.Random(int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big"))
    for _ in range(500):
        made = _tensor(rng, chosen) if difficulty == "hard" else _scalar(rng, chosen, *SIZES[difficulty])
        if made is not None and _well_posed(*made):
            break
    else:  # pragma: no cover - every difficulty succeeds within a few tries
        raise GraphlangError("usage", "could not generate an exercise with these operations; allow more of them")
    source, at = made
    prog = parse(source)
    title = f"Backpropagation by hand ({difficulty}, seed {seed}{f', student {student}' if student else ''})"
    fixed = ["t"] if "t" in at else []  # the label: no dJ/dt asked (and PrairieLearn's variants keep it)
    asg = Assignment.from_dict({**worksheet.assignment_table(title, at, fixed), "reference_source": source},
                               ".", "the generated assignment")
    result = prog.evaluate(at)
    key = worksheet.key(prog, result, asg.quantities)
    ex = Exercise(seed, difficulty, chosen, student, source, at, prog, asg, key)
    ex.files = {"program.cg": source,
                "assignment.toml": worksheet.assignment_toml(title, at, fixed),
                "worksheet.md": worksheet.markdown(prog, at, title, fixed),
                "worksheet.tex": worksheet.latex(prog, at, title, fixed),
                "key.json": json.dumps(key, indent=1, ensure_ascii=False) + "\n"}
    return ex


def _ops(ops: Any, difficulty: str) -> tuple[str, ...]:
    if ops is None:
        return DEFAULT_OPS[difficulty]
    items = [o.strip() for o in ops.split(",")] if isinstance(ops, str) else list(ops)
    items = ["/" if o == "div" else o for o in items if o]
    bad = [o for o in items if o not in OPS]
    if bad or not items:
        raise GraphlangError("usage", f"--ops: unknown operation(s) {', '.join(map(str, bad)) or '(none given)'}",
                             hint="choose from " + ", ".join(OPS) + " (+, - and * are always used)")
    if difficulty == "hard" and not {"sigmoid", "tanh"} & set(items):
        raise GraphlangError("usage", "--difficulty hard needs an activation in --ops: sigmoid or tanh")
    return tuple(sorted(set(items), key=OPS.index))


def _fmt(v: float) -> str:
    return f"{v:g}"


def _scalar(rng: random.Random, ops: tuple[str, ...], lo: int, hi: int) -> tuple[str, dict[str, Any]] | None:
    """A scalar graph over x and z built node by node, each kept only if its value is tame."""
    at = {n: rng.choice(vals) for n, vals in INPUT_VALUES.items()}
    vals: dict[str, float] = dict(at)
    uses = dict.fromkeys(vals, 0)
    lines: list[str] = []
    count = rng.randint(lo, hi)
    for name in NAMES[:count - 1]:
        for _ in range(60):
            made = _node(rng, ops, vals, uses)
            if made is not None:
                break
        else:
            return None
        text, value, args = made
        for a in args:
            uses[a] += 1
        vals[name], uses[name] = value, 0
        lines.append(f"{name} = {text}")
    unused = [n for n in vals if uses[n] == 0 and n not in at]
    if len(unused) < 2:
        unused.append(rng.choice([n for n in vals if n not in at and n not in unused]))
    lines.append("y = " + " + ".join(unused))
    for n in unused:
        uses[n] += 1
    if not any(uses[n] >= 2 for n in vals if n not in at) or any(uses[n] == 0 for n in at):
        return None
    return "input x, z\n" + "\n".join(lines) + "\n", at


def _node(rng: random.Random, ops: tuple[str, ...], vals: dict[str, float], uses: dict[str, int]
          ) -> tuple[str, float, list[str]] | None:
    names = list(vals)
    fresh = [n for n in names if uses[n] == 0] or names
    a = rng.choice(fresh if rng.random() < 0.7 else names)
    kinds = ["+", "-", "*", "*"] + (["/"] if "/" in ops else []) + [o for o in ops if o in UNARY] * 2
    kind = rng.choice(kinds)
    va = vals[a]
    if kind in UNARY:
        # (sin and cos of an angle within one turn: at 120 rad, c = 121 rounded to 3 figures moves sin(c)
        # from 0.42 to 0.999 and flips the sign of cos(c), which no honest rounding can be credited for)
        ok = {"ln": va >= 0.2 and abs(va - 1) >= 0.1, "sqrt": va >= 0.1, "exp": abs(va) <= 4,
              "tanh": abs(va) <= 3, "sigmoid": abs(va) <= 4, "sin": abs(va) <= 2 * math.pi,
              "cos": abs(va) <= 2 * math.pi}.get(kind, True)
        if not ok:
            return None
        f = {"exp": math.exp, "ln": math.log, "sin": math.sin, "cos": math.cos, "tanh": math.tanh,
             "sigmoid": lambda u: 1 / (1 + math.exp(-u)), "sqrt": math.sqrt}[kind]
        v, text, args = f(va), f"{kind}({a})", [a]
    else:
        b = rng.choice([n for n in names if n != a])
        vb = vals[b]
        if kind == "/" and abs(vb) < 0.3:
            return None
        v = {"+": va + vb, "-": va - vb, "*": va * vb, "/": va / vb if vb else math.inf}[kind]
        text, args = f"{a} {kind} {b}", [a, b]
    if not math.isfinite(v) or not 0.05 <= abs(v) <= 200:
        return None
    return text, v, args


def _tensor(rng: random.Random, ops: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """A network layer (or two) in matrix form with a squared-error loss: e is read twice."""
    acts = [o for o in ("sigmoid", "tanh") if o in ops]
    n, m = rng.randint(2, 3), rng.randint(2, 3)
    entries = (-1.0, -0.5, 0.5, 1.0)
    at: dict[str, Any] = {"W": [[rng.choice(entries) for _ in range(n)] for _ in range(m)],
                          "x": [rng.choice(entries) for _ in range(n)],
                          "b": [rng.choice((-0.5, 0.0, 0.5)) for _ in range(m)]}
    decl = [f"W[{m}, {n}]", f"b[{m}]"]  # the weights: params (what training moves); x and t: data
    body = ["u = W @ x + b", f"h = {rng.choice(acts)}(u)"]
    last, size = "h", m
    if rng.random() < 0.5:  # a second layer
        k = rng.randint(1, 2)
        at["V"] = [[rng.choice(entries) for _ in range(m)] for _ in range(k)]
        decl.append(f"V[{k}, {m}]")
        body += ["v = V @ h", f"o = {rng.choice(acts)}(v)"]
        last, size = "o", k
    at["t"] = [rng.choice((0.0, 1.0)) for _ in range(size)]
    body += [f"e = {last} - t", "s = e * e", "J = 0.5 * sum(s)"]
    return f"param {', '.join(decl)}\ninput x[{n}], t[{size}]\n" + "\n".join(body) + "\n", at


def _well_posed(source: str, at: dict[str, Any]) -> bool:
    """Every value and adjoint finite and of a size one writes by hand; 4-12 intermediates."""
    try:
        prog = parse(source)
        res = prog.evaluate(at)
    except GraphlangError:
        return False
    inner = [n for n in prog.names if n not in prog.graph.input_set]
    if not 4 <= len(inner) <= 12 or res.adjoints is None:
        return False
    numbers = [np.asarray(v, dtype=np.float64) for v in [*res.values.values(), *res.adjoints.values()]]
    return all(bool(np.all(np.isfinite(a))) and float(np.max(np.abs(a), initial=0.0)) < 1e4 for a in numbers)
