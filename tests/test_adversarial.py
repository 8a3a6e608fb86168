"""The adversarial corpus: exit status, kind and location, never a traceback.

No wall-clock limits (they flake on a loaded machine); work that must stay linear is tested with
inputs where anything worse would run for hours, under a generous subprocess timeout.
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
import time

import pytest
from adversarial import AT_FILE_CASES, CORPUS, NUMERIC_CASES
from conftest import ROOT, run_cli

import graphlang


def test_corpus_is_large_enough():
    assert len(CORPUS) + len(AT_FILE_CASES) >= 40


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_case(case, tmp_path):
    path = case.file or str(tmp_path / "p.cg")
    if case.file is None:
        data = case.program if isinstance(case.program, bytes) else (case.program or "").encode()
        (tmp_path / "p.cg").write_bytes(data)
    ran = run_cli("run", path, *case.args)
    assert ran.code == case.exit, ran.err
    assert "Traceback" not in ran.out + ran.err
    assert "\x1b" not in ran.err
    if case.exit:
        assert ran.err.strip()
    if case.kind:
        assert f"{case.kind} error" in ran.err, ran.err
    if case.line:
        assert f":{case.line}:" in ran.err, ran.err
    if case.exit == 1:
        obj = run_cli("run", path, *case.args, "--json").json()
        assert obj["error"]["kind"] == case.kind and obj["error"]["line"] == case.line


@pytest.mark.parametrize("name,text,code,kind", AT_FILE_CASES, ids=[c[0] for c in AT_FILE_CASES])
def test_at_file_cases(name, text, code, kind, tmp_path):
    prog = tmp_path / "p.cg"
    prog.write_text("y = x\n")
    values = tmp_path / "v.json"
    values.write_text(text)
    ran = run_cli("run", str(prog), "--at-file", str(values))
    assert ran.code == code and f"{kind} error" in ran.err and "Traceback" not in ran.err


def test_ctrl_c_is_one_line_and_130(tmp_path):
    prog = tmp_path / "big.cg"
    # big enough to still be parsing when the signal comes, even on a fast machine
    prog.write_text("a0 = x\n" + "".join(f"a{i} = sin(a{i - 1}) + a{i - 1} * 0.5\n" for i in range(1, 120_000)))
    proc = subprocess.Popen([sys.executable, "-m", "graphlang", "run", str(prog), "--at", "x=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    time.sleep(1.0)
    assert proc.poll() is None, "the program finished before the signal"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip() == "graphlang: interrupted"


COMMANDS = [["grad", "--method", "forward"], ["grad", "--method", "symbolic"], ["grad", "--method", "fd"],
            ["diff"], ["diff", "--program"], ["explain"], ["graph"], ["gradcheck"], ["hessian"],
            ["tangents"]]
SOME = [c for c in CORPUS if c.program is not None and c.exit == 1][::3]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
@pytest.mark.parametrize("case", SOME, ids=[c.name for c in SOME])
def test_every_command_handles_the_corpus(case, command, tmp_path):
    """The same hostile programs through every command: a located error, never a traceback."""
    path = tmp_path / "p.cg"
    path.write_bytes(case.program if isinstance(case.program, bytes) else case.program.encode())
    args = [a for a in case.args if a != "--frobnicate"]
    if command[0] == "diff":
        args = []
    ran = run_cli(command[0], str(path), *command[1:], *args)
    assert "Traceback" not in ran.out + ran.err
    assert ran.code in (0, 1, 2)
    if ran.code:
        assert " error: " in ran.err


DIFFERENTIATING = [["run"], ["grad"], ["grad", "--method", "forward"], ["grad", "--method", "fd"],
                   ["grad", "--method", "symbolic"], ["grad", "--json"], ["tangents"], ["explain"],
                   ["gradcheck"], ["hessian"]]


@pytest.mark.parametrize("command", DIFFERENTIATING, ids=[" ".join(c) for c in DIFFERENTIATING])
@pytest.mark.parametrize("name,source,at,lines,fd_fails", NUMERIC_CASES, ids=[c[0] for c in NUMERIC_CASES])
def test_numeric_failures_are_located_domain_errors(name, source, at, lines, fd_fails, command, tmp_path):
    """A derivative past float64's range (its closed form is at least 2e308) in any sum of
    contributions — adjoints, tangents, broadcast axes, batches — is a located domain error."""
    path = tmp_path / "p.cg"
    path.write_text(source)
    ran = run_cli(command[0], str(path), *command[1:], "--at", at)
    assert "Traceback" not in ran.out + ran.err and "Warning" not in ran.err
    if command == ["grad", "--method", "fd"] and not fd_fails:
        assert ran.code in (0, 1)
        return
    assert ran.code == 1, ran.out
    assert "domain error" in ran.err
    assert any(f"p.cg:{line}:" in ran.err for line in lines), ran.err


def test_numeric_failure_in_a_submission_is_reported_not_crashed(tmp_path):
    ref = tmp_path / "ref.cg"
    ref.write_text("y = x * 2\n")
    sub = tmp_path / "sub.cg"
    sub.write_text("y = x * 1e308 + x * 1e308\n")
    ran = run_cli("check", str(ref), "--submission", str(sub), "--at", "x=1e-300", "--json")
    assert ran.code == 1 and "Traceback" not in ran.err
    items = {i["name"]: i for i in ran.json()["items"]}
    assert re.search(r"line 1, column \d+: domain error", items["dy/dx"]["message"])


def test_numeric_failure_in_training_is_located():
    """Batched reverse mode (a parameter's adjoint sums the batch) and the SGD update itself."""
    import numpy as np

    import graphlang
    from graphlang.training import Dataset, Trainer
    # dJ/dw = 2e308 per example: past float64 in the sum of the two terms (batch 1), or in the
    # sum over the batch of 2 (each example's adjoint is seeded with 1/2)
    prog = graphlang.parse("input x, y\nparam w\nJ = w * x * 1e308 + w * x * 1e308 + y")
    data = Dataset({"x": np.array([2.0, 2.0]), "y": np.array([1.0, 2.0])}, 2)
    for batch in (1, 2):
        trainer = Trainer(prog, {"w": np.array(1e-300)}, lr=0.1, batch=batch)
        with pytest.raises(graphlang.GraphlangError) as info:
            trainer.fit(data, epochs=1)
        assert (info.value.kind, info.value.line) == ("domain", 3)
    prog = graphlang.parse("input x\nparam w\nJ = ln(w * x)")
    data = Dataset({"x": np.array([1.0, -1.0])}, 2)
    with pytest.raises(graphlang.GraphlangError) as info:  # a domain error on a batch of values
        Trainer(prog, {"w": np.array(1.0)}, lr=0.1, batch=2).fit(data, epochs=1)
    assert (info.value.kind, info.value.line) == ("domain", 3) and "ln" in info.value.message
    prog = graphlang.parse("input x\nparam w\nJ = w * x")
    with pytest.raises(graphlang.GraphlangError) as info:  # w - lr * 1e308 * 1e10 overflows
        Trainer(prog, {"w": np.array(1.0)}, lr=1e10).fit(Dataset({"x": np.array([1e308])}, 1), epochs=1)
    assert info.value.kind == "domain" and "update of the parameter w" in info.value.message


# --- every check over the source is linear ----------------------------------------------------
# A 5 MB file within every limit whose lines are each just under the line limit (and whose words
# are just under the token limit): a check that rescans a line from every position does
# ~10^12 steps per line (hours); a linear one takes well under a second. The timeout is generous.

def _long_lines(n_lines: int = 5, width: int = 999_990) -> str:
    word = "abcdefg "
    return "".join("# " + word * ((width - 2) // len(word)) + "\n" for _ in range(n_lines)) + "y = x * 2\n"


def _long_words(n: int = 4_000_000, limit: int = 100_000) -> str:
    # words of limit - 1 name characters: rescanning each from every start is ~n * limit / 2 steps
    word = "a" * (limit - 1)
    return "".join(f"# {word}\n" for _ in range(n // limit)) + "y = x * 2\n"


@pytest.mark.parametrize("text,limits", [(_long_lines(), []),
                                          (_long_words(), ["--limit", "max_token_chars=100000"])],
                         ids=["lines just under the line limit", "names just under the token limit"])
def test_source_checks_are_linear(text, limits, tmp_path):
    path = tmp_path / "big.cg"
    path.write_text(text)
    assert len(text) > 3_900_000
    ran = subprocess.run([sys.executable, "-m", "graphlang", "run", str(path), "--at", "x=1", "--json",
                          *limits], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert '"gradient": {"x": 2.0}' in ran.stdout


def test_repl_load_is_linear(tmp_path):
    path = tmp_path / "big.cg"
    path.write_text(_long_lines())
    ran = subprocess.run([sys.executable, "-m", "graphlang", "repl"], input=f":load {path}\n:quit\n",
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "loaded" in ran.stdout and "Traceback" not in ran.stderr


@pytest.mark.parametrize("limit", [1, 5, 256])
def test_long_run_finds_the_first_run_over_the_limit(limit):
    """The linear scan against the obvious definition: split into lines (or runs of name chars)."""
    import random
    import re

    from graphlang.language.parser import _long_run
    rng = random.Random(limit)
    for _ in range(300):
        text = "".join(rng.choice(["a", "b", "_", ".", "1", " ", "+", "\n"]) * rng.randint(1, limit + 2)
                       for _ in range(rng.randint(0, 40)))
        for cls in ("[^\n]", "[A-Za-z0-9_.]"):  # lines; names and numbers
            runs = [(m.start(), m.end()) for m in re.finditer(cls + "+", text)]
            want = next((a for a, b in runs if b - a > limit), None)
            assert _long_run(text, cls, limit) == want


@pytest.mark.parametrize("filler", ["\n", " \n", "\r\n", "#\n", ";\n", "\t" * 999 + "\n", "# a;b\n\n"],
                         ids=["blank lines", "blanks", "CRs", "comment lines", "semicolons", "a long blank line",
                              "comments and blank lines"])
def test_separators_take_memory_linear_in_few_bytes(filler):
    """Blank and comment lines between statements: a separator pattern that repeats a group per
    character keeps a backtracking frame for each (320-490 bytes per character: 1.5 GB for 5 MB)."""
    import tracemalloc

    from graphlang.language.parser import parse_statements
    from graphlang.language.tokens import lexer
    lexer()
    text = "input x\na = x\n" + filler * (1_000_000 // len(filler)) + "y = a * 2\n"
    tracemalloc.start()
    try:
        statements = parse_statements(text, graphlang.Limits())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [s.name for s in statements if s.kind == "assign"] == ["a", "y"]
    assert peak < 100 * len(text)


def _shared_sublists():
    row = [1.0] * 1000
    return [[row] * 1000] * 1000  # 10^9 numbers in a few kilobytes


def _itself():
    loop: list = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize("value", [_shared_sublists(), _itself(), [[1.0], [[1.0] * 1000] * 1000] * 30],
                         ids=["shared sublists", "a list that contains itself", "ragged shared sublists"])
def test_values_are_checked_before_they_are_walked_or_allocated(value):
    """A list value is bounded by the rank and element limits before numpy reads it (10^9 floats
    is 8 GB; a list containing itself never ends): a limit error, and the grader marks it wrong."""
    from graphlang.checker import grade_answers
    prog = graphlang.parse("input x\ny = sum(x * x)", limits=graphlang.Limits(max_tensor_elements=10_000))
    with pytest.raises(graphlang.GraphlangError) as info:
        prog.evaluate({"x": value})
    assert info.value.kind == "limit"
    report = grade_answers("input x\ny = x * 2", {"y": value}, {"x": 1})
    assert report.score == 0 and report.items[0].message == "not a number or a list of numbers"
    assert isinstance(report.to_json()["items"][0]["got"], str)  # shown as text, never read


@pytest.mark.parametrize("epsilon,at", [("1e-17", "x=2,z=3"), ("1e-320", "x=0,z=3")])
def test_a_finite_difference_step_lost_in_rounding_is_an_error_not_a_zero(epsilon, at, tmp_path):
    """x + ε == x makes every quotient 0: a silent zero gradient (autograd says x·z' is z = 3)."""
    path = tmp_path / "p.cg"
    path.write_text("input x, z\ny = x * z + sin(x)\n")
    ran = run_cli("grad", str(path), "--at", at, "--method", "fd", "--epsilon", epsilon, "--json")
    assert ran.code == 1 and "lost in rounding" in ran.json()["error"]["message"]


@pytest.mark.parametrize("kw", [{"wrt": 5}, {"wrt": [b"x"]}, {"method": "fd", "epsilon": 10**400}])
def test_api_misuse_is_a_usage_error(kw):
    prog = graphlang.parse("input x, z\ny = x * z")
    with pytest.raises(graphlang.GraphlangError) as info:
        prog.evaluate({"x": 2, "z": 3}, **kw)
    assert info.value.kind == "usage"
    assert prog.evaluate({"x": 2, "z": 3}, wrt={"z": 0}.keys()).gradient == {"z": 2.0}


def test_closed_forms_never_copy_the_environment_per_term(monkeypatch):
    """`diff` on n statements substituted each adjoint term in a fresh copy of all n closed forms:
    O(n²) (20,000 statements did not finish in 60 s). Every term sees one shared environment,
    and the closed form is still right (d/dx of x + x + … is the count)."""
    from graphlang.symbolic import derivative
    from graphlang.symbolic.algebra import Builder
    envs: list = []  # the objects themselves (a freed copy's id is reused by the next)
    real = Builder.substitute

    def spy(self, e, env):
        if len(env) > 50 and not any(env is seen for seen in envs):
            envs.append(env)
        return real(self, e, env)

    monkeypatch.setattr(Builder, "substitute", spy)
    n = 200
    prog = graphlang.parse("input x\na0 = x\n" + "".join(f"a{i} = a{i - 1} + x\n" for i in range(1, n)))
    forms = derivative.closed_forms(prog, prog.bind({"x": 1.0})[1])
    assert forms["x"].op == "const" and forms["x"].attr == n
    assert len(envs) <= 2


@pytest.mark.parametrize("command", [["explain"], ["diff", "--program"], ["grad", "--method", "symbolic"],
                                     ["hessian"]])
def test_swell_inside_one_statement_is_refused_before_printing(command, tmp_path):
    """`y = x * sin(x) * … ` with n factors: each factor's partial repeats the other n - 1, so the
    printed derivative is n² (explain of 1,000 factors took 4 GB; 20,000 never finished). A limit
    error located at the statement, before any of it is printed; a short product still works."""
    path = tmp_path / "p.cg"
    path.write_text("input x\ny = x" + " * sin(x)" * 2000 + "\n")
    ran = run_cli(*command, str(path), "--at", "x=0.3")
    assert ran.code == 1 and "limit error" in ran.err and "expression swell" in ran.err, ran.err
    path.write_text("input x\ny = x" + " * sin(x)" * 20 + "\n")
    assert run_cli(*command, str(path), "--at", "x=0.3").code == 0


@pytest.mark.parametrize("kw", [{"lr": float("nan")}, {"lr": -1.0}, {"lr": "0.1"}, {"batch": 0}, {"l2": -1.0},
                                {"l2": float("inf")}, {"seed": -1}])
def test_trainer_options_are_validated(kw, tmp_path):
    """A negative λ rewards large weights; batch 0 and lr NaN train nothing: usage errors (API and CLI)."""
    import numpy as np

    from graphlang.training import Trainer
    prog = graphlang.parse("input x, t\nparam w\nJ = (w * x - t)^2")
    with pytest.raises(graphlang.GraphlangError) as info:
        Trainer(prog, {"w": np.array(0.0)}, **kw)
    assert info.value.kind == "usage"
    (tmp_path / "p.cg").write_text("input x, t\nparam w\nJ = (w * x - t)^2\n")
    (tmp_path / "d.csv").write_text("x,t\n1,2\n")
    ran = run_cli("train", str(tmp_path / "p.cg"), "--data", str(tmp_path / "d.csv"), "--l2", "-1")
    assert ran.code == 2 and "--l2" in ran.err


def test_a_long_word_in_a_comment_is_no_name(tmp_path):
    """A URL of 300 characters in a comment is allowed; the same run in a statement is a limit error."""
    word = "a" * 300
    path = tmp_path / "p.cg"
    path.write_text(f"input x\n# see https://example.com/{word}\ny = x  # {word}\n")
    assert run_cli("run", str(path), "--at", "x=1").code == 0
    path.write_text(f"input x\n# {word}\ny = x + {word}\n")
    ran = run_cli("run", str(path), "--at", "x=1")
    assert ran.code == 1 and "limit error" in ran.err and ":3:9:" in ran.err


@pytest.mark.parametrize("line,bad", [("y = x +\t\x01 2", "\\x01"), ("\ty = x + \x01", "\\x01"),
                                      ("\t\x1b\t\x01", "\\x1b"), ("x\x7f\ty = \x01", "\\x7f")])
def test_the_caret_is_under_the_character_after_tabs_and_escapes(line, bad, tmp_path):
    """The terminal's tab stops count the `  2 | ` margin: the caret (which counted a tab as one
    column) pointed into the tab's blanks. The shown line has no tab; the caret is under `\\x01`."""
    path = tmp_path / "p.cg"
    path.write_text("input x\n" + line + "\n")
    ran = run_cli("run", str(path), "--at", "x=1")
    shown, caret = ran.err.splitlines()[1:3]
    assert "\t" not in shown and "\x1b" not in shown
    assert shown.index(bad) == caret.index("^")


def test_dpow_is_priced_by_its_orders():
    """dpow(u, v, 64, 64) was priced like u + v (one operation per element): a 3 KB program ran for
    minutes under the 2·10⁸ budget. Oracle: the kernel's own loop, Σ over m + 1 terms of an O(k²)
    coefficient — the price grows like (m + 1)(k + 1)² and the common first derivative stays cheap."""
    import graphlang
    cheap = graphlang.parse("input u[100]\ny = sum(dpow(u, u, 1, 0))\n").graph.pass_cost(((100,),))[0]
    dear = graphlang.parse("input u[100]\ny = sum(dpow(u, u, 64, 64))\n").graph.pass_cost(((100,),))[0]
    assert dear > 50_000 * cheap / 10
    assert graphlang.parse("y = dpow(x, 2.5, 3, 1)\n").evaluate({"x": 1.5}).value == pytest.approx(
        2.5 * 1.5 * 0.5 * 1.5 ** -0.5 * math.log(1.5) + (1.5 * 0.5 + 2.5 * 0.5 + 2.5 * 1.5) * 1.5 ** -0.5)


def test_values_past_float64_say_so_without_a_warning():
    """10**400 was "not a number or a list of numbers" with a ragged-rows hint, and a long double of
    1e4000 printed numpy's RuntimeWarning to stderr (nbgrader scores a test with stderr output 0)."""
    import warnings

    import numpy as np
    prog = graphlang.parse("y = x * 2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value, words in ((10 ** 400, "past float64's range"), ([10 ** 400, 1], "past float64's range"),
                             (np.longdouble("1e4000"), "not finite")):
            with pytest.raises(graphlang.GraphlangError) as info:
                prog.evaluate({"x": value})
            assert info.value.kind == "value" and words in info.value.message
            assert "ragged" not in (info.value.hint or "") and "same length" not in (info.value.hint or "")


def test_an_axis_of_length_0_is_refused_where_it_is_declared():
    """`input s[0]` was accepted, and no value could ever satisfy it (a red team's find)."""
    with pytest.raises(graphlang.GraphlangError) as info:
        graphlang.parse("input s[2, 0]\ny = sum(s)\n")
    assert info.value.kind == "shape" and (info.value.line, info.value.column) == (1, 7)


def test_an_overflow_message_shows_a_small_matrix_as_a_matrix():
    """A 1×2 matrix in matmul's overflow message was the flat list `[1e+200, 1e+200] (shape [1, 2])`
    (a user test); a value of four numbers or fewer is shown whole, nested as it is."""
    prog = graphlang.parse("input A[1,2]\ninput B[2,2]\nC = A @ B\ny = sum(C)\n")
    with pytest.raises(graphlang.GraphlangError) as info:
        prog.evaluate({"A": [[1e200, 1e200]], "B": [[1e200, 1.0], [1.0, 1e200]]})
    assert "[[1e+200, 1e+200]] @ [[1e+200, 1], [1, 1e+200]] overflows float64" in info.value.message


def test_symbolic_differentiation_locates_a_partials_failure_at_the_call():
    """`grad -m symbolic` of y = sum(sqrt(x)) at x = [0, 1, 4] said 1:1 (the derivative program's
    statement) where reverse mode says 1:9, the sqrt (a user test). Oracle: reverse mode's error."""
    prog = graphlang.parse("y = sum(sqrt(x))\n")
    located = {}
    for method in ("reverse", "symbolic"):
        with pytest.raises(graphlang.GraphlangError) as info:
            prog.evaluate({"x": [0.0, 1.0, 4.0]}, method=method)
        located[method] = (info.value.kind, info.value.line, info.value.column)
    assert located["symbolic"] == located["reverse"] == ("domain", 1, 9)


def test_a_fractional_axis_is_named_not_called_an_expression():
    with pytest.raises(graphlang.GraphlangError) as info:
        graphlang.parse("input A[2,2]\ny = sum(sum(A, 0.5))\n")
    assert info.value.kind == "argument" and info.value.message.endswith("(an axis or index), not 0.5")


def test_a_huge_training_loss_is_not_three_hundred_digits():
    from graphlang.present.tables import _loss
    assert _loss(0.1234564) == "0.123456" and _loss(1e299) == "1e+299" and len(_loss(-3e250)) < 12


def _depth_by_hand(data: bytes) -> int:
    """The oracle: a byte at a time, strings skipped (escapes included), brackets counted."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in data.decode("latin-1"):
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def test_at_file_depth_is_counted_outside_strings_as_by_hand():
    """The depth check of --at-file (vectorised: the byte loop took 2 s on 10 MB) against a byte
    loop, on random texts of brackets, quotes, escapes and letters (valid JSON or not)."""
    import random

    from graphlang.language.atvalues import _json_depth
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice('[]{}"\\ax,1') for _ in range(rng.randint(0, 40))).encode()
        assert _json_depth(text) == _depth_by_hand(text), text


def test_a_large_at_file_is_read_in_seconds_not_walked_element_by_element(tmp_path):
    """900,000 numbers (under the 10 MB cap) are read, checked and bound; a bad element among them is
    still found (a row checked in C, one at a time only where it holds something else)."""
    rows = [[0.5] * 900 for _ in range(1000)]
    (tmp_path / "p.cg").write_text("y = sum(x)\n")
    (tmp_path / "v.json").write_text(json.dumps({"x": rows}))
    r = run_cli("run", str(tmp_path / "p.cg"), "--at-file", str(tmp_path / "v.json"), "--json")
    assert r.code == 0 and json.loads(r.out)["value"] == 450_000.0, r.err
    rows[999][899] = True
    (tmp_path / "v.json").write_text(json.dumps({"x": rows}))
    r = run_cli("run", str(tmp_path / "p.cg"), "--at-file", str(tmp_path / "v.json"))
    assert r.code == 2 and "is not a number" in r.err and "(true)" in r.err, r.err
