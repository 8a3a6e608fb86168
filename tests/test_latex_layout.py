"""Issue 16: long LaTeX formulas break over lines (`diff --latex`, `Program.diff(latex=True)`,
`explain --format latex`), and tensor derivatives read as the lecture's matrix calculus.

Breaking is checked three ways: every line is within the budget (the symbol count), the lines joined
are the one-line formula (breaking moves text, it does not change the math), and pdflatex lays the
page out without an overfull line. Matrix calculus is checked against derivatives worked by hand.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from conftest import PROGRAMS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scalar_programs
from test_latex import structural_problems

import graphlang
from graphlang.present import explain as ex
from graphlang.symbolic import derivative as symbolic
from graphlang.symbolic import texbreak
from graphlang.symbolic.printing import to_latex
from graphlang.symbolic.texnames import tensor_names, tensors_in

LONG_SUM = "y = " + " + ".join(f"sin(x * {k}) * exp(z / {k + 1})" for k in range(1, 9)) + " - x^3 * z^2\n"
LONG_PRODUCT = "y = " + " * ".join(f"sigmoid(x + {k} * z)" for k in range(1, 12)) + "\n"
NETWORK = (PROGRAMS / "two_layer_network.cg").read_text()


def _rows(text: str) -> list[str]:
    """The rows of an `aligned`/`align*` block (or the one line)."""
    body = re.sub(r"\\(begin|end)\{(aligned|align\*)\}(\[t\])?", "", text)
    return [r.strip() for r in body.split("\\\\\n") if r.strip()]


def _joined(text: str) -> str:
    """The rows put back on one line: alignment marks, indentation and sized delimiters undone."""
    body = " ".join(_rows(text)).replace("&", "").replace("\\quad", "")
    body = re.sub(r"\\[Bb]ig{1,2}l", r"\\left", body)
    body = re.sub(r"\\[Bb]ig{1,2}r", r"\\right", body)
    return _flat(body)


def _flat(text: str) -> str:
    """Without spaces and braces: a group `{\\left(x\\right)}^{2}` broken over lines loses its braces."""
    return re.sub(r"[\s{}]+", "", text)


def _pdflatex(tmp_path, body: str, cls: str = "article") -> str:
    """Compile `body` (a document body) and return the log; fails on any LaTeX error."""
    doc = f"\\documentclass{{{cls}}}\n\\usepackage{{amsmath}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n"
    (tmp_path / "doc.tex").write_text(doc)
    ran = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stdout[-3000:]
    return (tmp_path / "doc.log").read_text(errors="replace")


def _diff_blocks(out: str) -> list[str]:
    """`diff --latex` output cut into its formulas (an `aligned` block spans several lines)."""
    blocks: list[str] = []
    inside = False
    for line in out.splitlines():
        if inside:
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
        inside = (inside or line.startswith("\\begin{aligned}")) and not line.startswith("\\end{aligned}")
    return blocks


def test_short_formulas_stay_on_one_line(cli):
    prog = graphlang.load(PROGRAMS / "lecture13.cg")
    forms = symbolic.closed_forms(prog, prog.bind({"x": 2, "z": 3})[1])
    out = cli("diff", str(PROGRAMS / "lecture13.cg"), "--latex").out
    # (the lecture has a node e: exp(a) is written \\exp, as explain writes it)
    assert out.splitlines() == [f"\\frac{{\\partial y}}{{\\partial {n}}} = {to_latex(e, None, True)}"
                                for n, e in forms.items()]
    assert texbreak.lines("a + b") == [(0, "a + b")] and texbreak.block("a + b") == "a + b"


@pytest.mark.parametrize(("source", "budget"), [(s, b) for s in (LONG_SUM, LONG_PRODUCT) for b in (30, 45, 62, 80)]
                         + [(NETWORK, b) for b in (54, 62, 80)])  # (bold tensors: below 53 five nested calls
                                                                 # do not fit)
def test_long_formulas_break_within_the_budget_without_changing_the_math(cli, write, source, budget):
    path = write(source)
    prog = graphlang.load(path)
    at = json.loads((PROGRAMS / "two_layer_network.json").read_text()) if source is NETWORK else {"x": 0.5, "z": 1.5}
    shapes = prog.bind(at)[1]
    forms = symbolic.closed_forms(prog, shapes)
    known = symbolic.name_shapes(prog.graph, shapes)
    out = cli("diff", path, "--latex", "--width", str(budget)).out
    blocks = _diff_blocks(out)
    assert len(blocks) == len(forms)
    broke = 0
    for block, e in zip(blocks, forms.values()):
        if block.startswith("\\begin{aligned}"):
            rows = _rows(block)
            lhs, first = rows[0].split(" &= ", 1)
            parts = [first] + [r.removeprefix("&") for r in rows[1:]]
            broke += 1
        else:
            lhs, first = block.split(" = ", 1)
            parts = [first]
        with tensor_names(tensors_in(known)):  # (as diff writes them: the lecture's bold tensors)
            assert _joined(" ".join(parts)) == _flat(to_latex(e, known))
        for part in parts:
            assert texbreak.width(lhs) + 1 + texbreak.width(part) <= budget, part
        assert structural_problems(block) == []
    assert broke, "these formulas are wider than every budget tried"
    # the same layout from Python: Program.diff(latex=True) gives the right-hand sides as `aligned` blocks
    rhs = prog.diff(latex=True, at=at, width=budget)
    with tensor_names(tensors_in(known)):
        assert {n: _joined(t) for n, t in rhs.items()} == {n: _flat(to_latex(e, known)) for n, e in forms.items()}


def test_breaks_at_sums_first_then_products_then_inside_parentheses():
    rows = texbreak.lines("a + b \\cdot c - d", budget=3)
    assert [r[1] for r in rows][0] == "a" and rows[1][1].startswith("+ ") and rows[-1][1] == "- d"
    assert [r for r in texbreak.lines("a \\cdot b \\cdot c", budget=3)] == [(0, "a"), (1, "\\cdot b"), (1, "\\cdot c")]
    rows = texbreak.lines("W \\left(a + b + c\\right)^{T}", budget=4)
    assert rows[0][1].startswith("W \\bigl(") and rows[-1][1].endswith("\\bigr)^{T}")


def test_a_wide_stack_breaks_between_its_matrices_in_brackets_of_their_height():
    mat = "\\begin{bmatrix}1 & 2 & 3 \\\\ 4 & 5 & 6\\end{bmatrix}"
    stack = "\\left[" + ",\\ ".join([mat] * 16) + "\\right]"  # three lines and more
    rows = texbreak.lines(stack)
    assert len(rows) > 2 and all(texbreak.width(text) + 2 * lvl <= texbreak.WIDTH for lvl, text in rows)
    assert "".join(text for _, text in rows).replace("\\right.", "").replace("\\left.", "") == stack  # the same formula
    assert rows[0][1].startswith("\\left[") and rows[0][1].endswith(",\\ \\right.")  # `,` ends a line
    assert rows[-1][1].startswith("\\left.") and rows[-1][1].endswith("\\right]")
    assert "bigl" not in "".join(text for _, text in rows)  # `\\bigl[` is too short for matrices
    one = "\\left[" + " ".join([mat] * 8) + "\\right]"  # nothing to break at: unchanged
    assert texbreak.lines(one) == [(0, one)]
    broken = texbreak.lines("W \\left(a + b + c\\right)^{T}", budget=4)
    assert "\\bigl(" in broken[0][1]  # a group of text that breaks still becomes `\\bigl( … \\bigr)`


def test_width_counts_rendered_symbols():
    assert texbreak.width("x") == pytest.approx(1.1)
    assert texbreak.width("\\frac{a + b}{c}") == pytest.approx(texbreak.width("a + b") + 0.5)
    assert texbreak.width("\\operatorname{relu}\\left(x\\right)") == pytest.approx(4 + 1 + 1.1 + 1)
    assert texbreak.width("\\begin{bmatrix}1 & 2 \\\\ 3 & 4\\end{bmatrix}") == pytest.approx(2 + 4)


def test_explain_rows_break_at_equals_then_inside_long_forms(cli):
    out = cli("explain", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3", "--format", "latex").out
    g_a = out[out.index("g_{a} &="):].split("\\\\\ng_{x}")[0]
    rows = [r.strip() for r in g_a.split("\\\\\n")]
    assert len(rows) == 2 and rows[1].startswith("&= 1 \\cdot 403.429")  # the numbers go on a row of their own
    assert "a &= x \\cdot z = 2 \\cdot 3 = 6" in out  # a short row stays as it was (the text's steps)
    for row in out.splitlines():
        if row.startswith(("%", "\\begin", "\\end")):
            continue
        lhs, _, rhs = row.rstrip(" \\").partition("&")
        assert texbreak.width(lhs) + texbreak.width(rhs) <= texbreak.WIDTH + 1, row


def test_width_is_a_checked_option(cli, write):
    path = write(LONG_SUM)
    assert cli("diff", path, "--latex", "--width", "5").code == 2
    with pytest.raises(graphlang.GraphlangError, match="width"):
        graphlang.load(path).diff(latex=True, width=0)


def test_deep_nesting_does_not_recurse_without_bound():
    deep = "\\frac{1}{" * 3000 + "x" + "}" * 3000
    assert texbreak.width(deep) > 0
    nested = "\\sin\\left(" * 2000 + "x + y" + "\\right)" * 2000
    assert len(texbreak.lines(nested, 20)) >= 1


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_broken_formulas_compile_and_fit_the_page(tmp_path, cli, write):
    """An article's text (345pt) holds every line of the default budget: pdflatex reports no overfull line."""
    body = []
    for source, at in ((LONG_SUM, "x=0.5,z=1.5"), (LONG_PRODUCT, "x=0.5,z=1.5"), (NETWORK, None)):
        path = write(source)
        body += ["\\[\n" + b + "\n\\]" for b in _diff_blocks(cli("diff", path, "--latex").out)]
        if at:
            body.append(cli("explain", path, "--at", at, "--format", "latex").out)
    body.append(cli("explain", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3", "--format", "latex").out)
    log = _pdflatex(tmp_path, "\n".join(body))
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_a_narrow_budget_fits_a_beamer_slide(tmp_path, cli, write):
    path = write(NETWORK)
    blocks = _diff_blocks(cli("diff", path, "--latex", "--width", "50").out)
    frame = "\\begin{frame}\n" + "\n".join(f"\\[\n{b}\n\\]" for b in blocks[:2]) + "\n\\end{frame}"
    log = _pdflatex(tmp_path, frame, cls="beamer")
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)


def test_broken_parentheses_around_fractions_are_as_tall_as_them():
    """`\\bigl( … \\bigr)` was shorter than the fractions inside (found by a helper)."""
    inner = " + ".join(f"\\frac{{a_{{{k}}}}}{{b_{{{k}}} + c}}" for k in range(12))
    rows = texbreak.lines(f"g \\cdot \\left({inner}\\right)", budget=40)
    text = "".join(t for _, t in rows)
    assert len(rows) > 2 and "bigl" not in text and "\\left(" in rows[0][1] + rows[1][1]
    assert text.count("\\left") == text.count("\\right")  # every line's delimiters pair up
    assert all(t.count("\\left") == t.count("\\right") for _, t in rows)


def test_a_short_first_factor_is_not_left_alone_on_its_line():
    """`= g_y` stood alone on a line, its `· (` on the next (found by a helper)."""
    inner = " + ".join(f"a_{{{k}}} b_{{{k}}}" for k in range(20))
    rows = texbreak.lines(f"g_{{y}} \\cdot \\left({inner}\\right)", budget=40)
    assert len(rows) > 2 and rows[0][1].startswith("g_{y} \\cdot \\bigl(")
    assert all(texbreak.width(t) + 2 * lvl <= 40 for lvl, t in rows)
    joined = "".join(t for _, t in rows).replace("\\bigl(", "\\left(").replace("\\bigr)", "\\right)")
    assert joined.replace(" ", "") == f"g_{{y}} \\cdot \\left({inner}\\right)".replace(" ", "")  # the same formula


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scalar_programs(max_statements=14, kinks=True), st.sampled_from([24, 40, 62]))
def test_every_row_of_a_broken_explain_pairs_its_delimiters(program, width):
    """Any program's passes, broken at any width: each align* row opens and closes its own
    \\left/\\right and braces (a row that does not stops pdflatex)."""
    source, values = program
    tex = ex.as_text(ex.explain(graphlang.parse(source), values), "latex", width)
    blocks = re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", tex, re.S)
    assert blocks
    for row in (r for block in blocks for r in block.split(" \\\\\n")):
        assert row.count("\\left") == row.count("\\right"), row
        assert row.count("{") == row.count("}"), row


def _depths_by_character(s: str) -> list[int]:
    """The definition, a character at a time (the loop texbreak used before it summed by token)."""
    import re
    out, depth, i = [0] * len(s), 0, 0
    while i < len(s):
        out[i] = depth
        if s[i] == "\\":
            m = re.compile(r"\\([A-Za-z]+|.)").match(s, i)
            if m is None:
                i += 1
                continue
            name = m.group(1)
            depth += 1 if name in ("left", "begin") else -1 if name in ("right", "end") else 0
            for j in range(i, m.end()):
                out[j] = depth if name in ("right", "end") else out[i]
            i = m.end()
            continue
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
            out[i] = depth
        i += 1
    return out


def test_depths_by_token_agree_with_the_character_by_character_definition():
    import random

    from graphlang.symbolic.texbreak import _depths
    rng = random.Random(3)
    toks = ["\\left(", "\\right)", "{", "}", "\\frac", "\\begin{bmatrix}", "\\end{bmatrix}", "x", " ", "\\{",
            "\\}", "\\cdot", "^", "\\leftarrow", "\\rightarrow", "\\endash", "a", "\\,", "\\left|", "\\right."]
    for _ in range(2000):
        s = "".join(rng.choice(toks) for _ in range(rng.randint(0, 40)))
        assert _depths(s) == _depths_by_character(s), s
