"""Every command × every shipped program (and a few tensor programs): no traceback, exit 0 or a
located error, and the same numbers by every method.

The values come from the program's `.json`, from its `# Run it:` comment, or are drawn here. The
numbers are checked against reverse mode and against central differences computed by this test
through the Python API's forward pass (an oracle independent of every derivative code path).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import PROGRAMS, Ran, run_cli

import graphlang
from graphlang.language.atvalues import parse_at

SHIPPED = sorted(PROGRAMS.glob("*.cg")) + sorted((PROGRAMS / "homework").glob("*.cg"))

# Tensor programs the shipped ones do not cover: vector and several outputs, literals, broadcasting.
EXTRA = {
    "vector_output": ("input x[3]\ny = x * x + sin(x)\n", "x=[1,-2,0.5]"),
    "two_outputs": ("a = x * z\nb = sin(x) + a\noutput a, b\n", "x=0.7,z=-1.5"),
    "tensor_outputs": ("input W[2, 3], x[3]\nh = W @ x\nM = W.T * 2\noutput h, M\n",
                       "W=[[1,2,3],[-1,0.5,2]],x=[0.1,0.2,-0.3]"),
    "constants": ("input x[2]\nc = 3\nV = [[1, -1], [0.5, 2]]\nu = V @ x * c\ny = sum(u ^ 2) + c * pi\n",
                  "x=[0.3,-1.2]"),
    "broadcasting": ("input A[3, 2], v[2], s\nB = A * v + s\nm = mean(B, 0)\n"
                     "y = sum(tanh(B) * B) + dot(m, v) + max(s, 0) + abs(s)\n",
                     "A=[[1,2],[-1,0.5],[0.3,-0.7]],v=[0.4,-2],s=0.6"),
    "size_one_axis": ("input a[3, 2], b[1, 2]\nc = a * b - b\ny = sum(c * c) + mean(b)\n",
                      "a=[[1,2],[-1,0.5],[0.3,-0.7]],b=[[0.4,-2]]"),
}

METHODS = ("reverse", "forward", "fd", "symbolic", "auto")
TOL = {"reverse": (1e-12, 1e-12), "forward": (1e-9, 1e-12), "symbolic": (1e-9, 1e-12),
       "auto": (1e-9, 1e-12), "fd": (1e-5, 1e-7)}

# (id, arguments after the program; {AT} is replaced by the values, {TMP} by a temporary folder)
COMMANDS = [
    ("run", ["{AT}"]), ("run-json", ["{AT}", "--json"]),
    *[(f"grad-{m}", ["{AT}", "--method", m]) for m in METHODS],
    *[(f"grad-{m}-json", ["{AT}", "--method", m, "--json"]) for m in METHODS],
    ("grad-wrt", ["{AT}", "--wrt", "{FIRST}", "--json"]),
    ("explain", ["{AT}"]), ("explain-json", ["{AT}", "--json"]),
    ("explain-markdown", ["{AT}", "--format", "markdown"]), ("explain-latex", ["{AT}", "--format", "latex"]),
    ("diff", ["{AT}"]), ("diff-no-at", []), ("diff-json", ["--json"]), ("diff-latex", ["--latex"]),
    ("diff-program", ["{AT}", "--program"]), ("diff-program-no-at", ["--program"]),
    ("gradcheck", ["{AT}"]), ("gradcheck-json", ["{AT}", "--json"]),
    ("tangents", ["{AT}"]), ("tangents-json", ["{AT}", "--json"]),
    ("hessian", ["{AT}"]), ("hessian-json", ["{AT}", "--json"]),
    ("graph", ["{AT}"]), ("graph-no-at", []), ("graph-partials", ["{AT}", "--partials"]),
    ("graph-partials-no-at", ["--partials"]), ("graph-dot", ["{AT}", "--dot"]), ("graph-dot-no-at", ["--dot"]),
    ("graph-dot-partials", ["{AT}", "--dot", "--partials"]),
    ("graph-dot-partials-no-at", ["--dot", "--partials"]),
    ("graph-file-dot", ["{AT}", "-o", "{TMP}/g.dot"]),
    ("graph-file-svg-partials", ["{AT}", "--partials", "-o", "{TMP}/g.svg"]),
    ("graph-file-svg-no-at", ["-o", "{TMP}/g.svg"]),
    ("check-self", ["{AT}", "--submission", "{SELF}"]),
    ("check-self-json", ["{AT}", "--submission", "{SELF}", "--json"]),
    ("check-template", ["--template"]), ("check-answers", ["{AT}", "--answers", "{ANSWERS}"]),
    ("ir", ["{AT}"]), ("ir-no-at", []),
]

SLOW = {("digits_network.cg", "hessian-json")}  # 2,906 parameters: an 8.4-million-entry JSON Hessian

# What a vector-valued program cannot have (SPEC §2: closed forms and Hessians need a scalar output).
SCALAR_ONLY = {"diff", "diff-no-at", "diff-json", "diff-latex", "hessian", "hessian-json"}


def generated_values(prog: graphlang.Program) -> dict:
    """Values for a program that ships none: tensors in [-1, 1], scalars in [1.5, 2.5] (inside ln's domain)."""
    rng = np.random.default_rng(0)
    decl = prog.checked.declared
    return {n: (rng.uniform(-1, 1, size=decl[n]).tolist() if decl.get(n) else float(rng.uniform(1.5, 2.5)))
            for n in prog.inputs}


def at_args(path: Path, tmp: Path) -> list[str]:
    """The values for a program: its .json, the `--at` of its `# Run it:` comment, or drawn here."""
    if path.with_suffix(".json").exists():
        return ["--at-file", str(path.with_suffix(".json"))]
    run_it = re.search(r"^# Run it:\s*(.*)$", path.read_text(), re.M)
    if run_it:
        words = shlex.split(run_it.group(1))
        if "--at" in words:
            return ["--at", words[words.index("--at") + 1]]
    values = tmp / f"{path.stem}.values.json"
    values.write_text(json.dumps(generated_values(graphlang.load(path))))
    return ["--at-file", str(values)]


def values_of(args: list[str]) -> dict:
    if args[0] == "--at-file":
        return json.loads(Path(args[1]).read_text())
    return parse_at([args[1]])


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> dict[str, tuple[Path, list[str], Path]]:
    """id -> (program file, its values as command-line arguments, its own answers as JSON)."""
    tmp = tmp_path_factory.mktemp("matrix")
    files = {str(path.relative_to(PROGRAMS)): (path, at_args(path, tmp)) for path in SHIPPED}
    for name, (source, at) in EXTRA.items():
        path = tmp / f"{name}.cg"
        path.write_text(source)
        files[name] = (path, ["--at", at])
    out = {}
    for k, (path, at) in files.items():  # each program's own answers: its values and adjoints
        r = graphlang.load(path).evaluate(values_of(at))
        answers = {n: np.asarray(v).tolist() for n, v in r.values.items()}
        if r.adjoints is not None:
            answers.update({f"g_{n}": np.asarray(v).tolist() for n, v in r.adjoints.items()})
        answer_file = tmp / f"{k.replace('/', '_')}.answers.json"
        answer_file.write_text(json.dumps(answers))
        out[k] = (path, at, answer_file)
    return out


PROGRAM_IDS = [str(p.relative_to(PROGRAMS)) for p in SHIPPED] + list(EXTRA)


def located(ran: Ran, path: Path) -> bool:
    """One message: `FILE[:LINE:COL]: kind error: ...`, no traceback."""
    first = ran.err.splitlines()[0] if ran.err else ""
    return first.startswith(f"{path}:") and " error: " in first


@pytest.mark.parametrize("cid,args", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize("prog_id", PROGRAM_IDS)
def test_command_on_program(programs, prog_id, cid, args, tmp_path):
    path, at, answers = programs[prog_id]
    if (path.name, cid) in SLOW:
        pytest.skip("a JSON Hessian of 8.4 million entries: the text form runs instead")
    prog = graphlang.load(path)
    subst = {"{TMP}": str(tmp_path), "{SELF}": str(path), "{FIRST}": prog.inputs[0], "{ANSWERS}": str(answers)}
    filled: list[str] = []
    for a in args:
        if a == "{AT}":
            filled += at
            continue
        for k, v in subst.items():
            a = a.replace(k, v)
        filled.append(a)
    ran = run_cli(cid.split("-")[0], str(path), *filled)
    assert "Traceback" not in ran.err and "Traceback" not in ran.out, ran.err[-2000:]
    vector = not prog.is_scalar(prog.bind(values_of(at))[1])
    if vector and cid in SCALAR_ONLY:
        assert ran.code == 1 and located(ran, path) and "shape error" in ran.err, ran.err
        return
    if cid.startswith("graph-file-svg") and shutil.which("dot") is None:  # the DOT source instead
        assert ran.code == 1 and "Graphviz is not installed" in ran.err, ran.err[-2000:]
        assert (tmp_path / "g.dot").read_text().startswith("digraph")
        return
    assert ran.code == 0, ran.err[-2000:]
    if cid.endswith("json"):
        json.loads(ran.out)  # exactly one JSON object
    if cid == "graph-file-svg-partials" or cid == "graph-file-svg-no-at":
        assert (tmp_path / "g.svg").exists() or (tmp_path / "g.dot").read_text().startswith("digraph")


# --- the numbers ----------------------------------------------------------------------------------

def _outputs(prog: graphlang.Program, values: dict) -> np.ndarray:
    fwd = prog.forward(values)
    return np.concatenate([np.ravel(fwd[o]) for o in prog.outputs])


def central_jacobian(prog: graphlang.Program, values: dict, name: str) -> np.ndarray:
    """∂(outputs)/∂name by central differences (denominator layout: name's shape + (N,))."""
    x = np.asarray(values[name], dtype=float)
    cols = []
    for idx in np.ndindex(x.shape):
        h = 1e-6 * max(1.0, abs(x[idx]))
        plus, minus = x.copy(), x.copy()
        plus[idx] += h
        minus[idx] -= h
        cols.append((_outputs(prog, {**values, name: plus}) - _outputs(prog, {**values, name: minus})) / (2 * h))
    return np.array(cols).reshape(x.shape + (-1,))


def derivative_of(obj: dict, name: str, scalar: bool) -> np.ndarray:
    d = np.asarray(obj["gradient" if scalar else "jacobian"][name], dtype=float)
    return d[..., None] if scalar else d


@pytest.mark.parametrize("prog_id", PROGRAM_IDS)
def test_every_method_agrees_with_reverse_mode_and_central_differences(programs, prog_id):
    path, at, _ = programs[prog_id]
    prog = graphlang.load(path)
    values = values_of(at)
    scalar = prog.is_scalar(prog.bind(values)[1])
    reverse = run_cli("run", str(path), *at, "--json").json()
    for name in prog.inputs:  # reverse mode itself, against the test's own central differences
        np.testing.assert_allclose(derivative_of(reverse, name, scalar), central_jacobian(prog, values, name),
                                   rtol=1e-5, atol=1e-6 * max(1.0, float(np.max(np.abs(reverse["value"])))),
                                   err_msg=f"reverse mode vs central differences, d/d{name}")
    for method in METHODS:
        obj = run_cli("grad", str(path), *at, "--method", method, "--json").json()
        rtol, atol = TOL[method]
        for name in prog.inputs:
            np.testing.assert_allclose(derivative_of(obj, name, scalar), derivative_of(reverse, name, scalar),
                                       rtol=rtol, atol=atol, err_msg=f"{method} vs reverse, d/d{name}")
        np.testing.assert_allclose(obj["value"], reverse["value"], rtol=1e-14)
    check = run_cli("gradcheck", str(path), *at, "--json").json()
    assert check["passed"]


@pytest.mark.parametrize("prog_id", PROGRAM_IDS)
def test_tangents_are_the_jacobian_along_the_direction(programs, prog_id):
    """`tangents` seeds the first input's first number: the outputs' tangent is that row of the
    Jacobian (denominator layout: one row per input number), by central differences."""
    path, at, _ = programs[prog_id]
    prog = graphlang.load(path)
    values = values_of(at)
    first = prog.inputs[0]
    tans = run_cli("tangents", str(path), *at, "--json").json()["tangents"]
    want = central_jacobian(prog, values, first).reshape(-1, len(_outputs(prog, values)))[0]
    got = np.concatenate([np.ravel(tans[o]) for o in prog.outputs])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("prog_id", [p for p in PROGRAM_IDS if p != "digits_network.cg"])
def test_hessian_is_the_derivative_of_the_gradient(programs, prog_id):
    """∂²y/∂a∂b against central differences of the API's reverse-mode gradient."""
    path, at, _ = programs[prog_id]
    prog = graphlang.load(path)
    values = {k: np.asarray(v, dtype=float) for k, v in values_of(at).items()}
    if not prog.is_scalar(prog.bind(values)[1]):
        pytest.skip("a vector-valued program has no Hessian")
    h = run_cli("hessian", str(path), *at, "--json").json()["hessian"]
    for b in prog.inputs:
        x = values[b]
        for idx in np.ndindex(x.shape):
            step = 1e-5 * max(1.0, abs(x[idx]))
            plus, minus = x.copy(), x.copy()
            plus[idx] += step
            minus[idx] -= step
            gp = prog.evaluate({**values, b: plus}, method="reverse").gradient
            gm = prog.evaluate({**values, b: minus}, method="reverse").gradient
            for a in prog.inputs:
                want = (np.asarray(gp[a]) - np.asarray(gm[a])) / (2 * step)  # ∂(∂y/∂a)/∂b[idx]
                block = np.asarray(h[a][b], dtype=float)
                assert block.shape == x.shape + values[a].shape  # layout: b's shape + a's shape
                np.testing.assert_allclose(block[idx], want, rtol=1e-4, atol=1e-5,
                                           err_msg=f"∂²/∂{a}∂{b}{list(idx)}")


@pytest.mark.parametrize("prog_id", PROGRAM_IDS)
def test_repl_commands_on_program(programs, prog_id):
    """The REPL's commands on the same program and values: no error but what the program implies."""
    from graphlang.repl import ReplSession
    path, at, _ = programs[prog_id]
    s = ReplSession()
    values = values_of(at)
    at_text = " ".join(f"{k}={json.dumps(v)}".replace(" ", "") for k, v in values.items())
    prog = graphlang.load(path)
    vector = not prog.is_scalar(prog.bind(values)[1])
    for command in [f":load {path}", f":at {at_text}", ":run", *[f":grad {m}" for m in METHODS[:4]],
                    ":explain", f":explain {prog.outputs[0]}", ":diff", f":diff {prog.inputs[0]}", ":graph",
                    ":graph partials"]:
        shown = s.handle(command)
        text = " ".join(getattr(x, "plain", "") for x in shown)
        assert "internal error" not in text, (command, text)
        if vector and command.startswith(":diff"):
            assert "shape error" in text
        else:
            assert " error: " not in text, (command, text)


@pytest.mark.parametrize(("source", "line", "says"), [
    ("input x[3]\nparam W[2, 3], b[2]\nz = W @ x + b\n", 3, "'z' has shape [2]"),
    ("input x[2], A[2, 2]\noutput z, n\nz = A @ x\nn = dot(x, x)\n", 2, "outputs z, n"),
])
def test_closed_forms_of_a_vector_output_point_at_it(source, line, says):
    """`diff` of a vector-valued program was refused with no place and no shape; now the error points
    at the output (its `output` statement, else its line) and says what it is."""
    prog = graphlang.parse(source)
    values = {n: np.ones(prog.checked.declared[n]).tolist() for n in prog.inputs}
    with pytest.raises(graphlang.GraphlangError) as err:
        prog.diff(at=values)
    assert err.value.kind == "shape" and err.value.line == line and says in err.value.message
