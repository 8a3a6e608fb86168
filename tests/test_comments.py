"""Comments may hold any printable text (a student's name, the lecture's σ and ∂); code stays
ASCII; invisible and direction-changing characters are refused everywhere, comments included (a
comment could otherwise make the code read differently from how it runs). Oracle: the same
program without its comments."""

from __future__ import annotations

import pytest

import graphlang
from graphlang.errors import GraphlangError

PLAIN = "a = x * z\nb = ln(x)\ny = exp(a) + a / b + sin(b) / a\n"
COMMENTED = ("# Lecture 13 — José Müller, 学生\n"
             "a = x * z   # a = xz\n"
             "b = ln(x)   # b = ln x; ∂b/∂x = 1/x\n"
             "y = exp(a) + a / b + sin(b) / a   # σ(u), ∇y, ≤ ≥ ≠ (unbalanced ( in a comment\n")


def test_non_ascii_comments_change_nothing():
    at = {"x": 2.0, "z": 3.0}
    got, want = graphlang.parse(COMMENTED).evaluate(at), graphlang.parse(PLAIN).evaluate(at)
    assert got.value == want.value and got.values == want.values and got.gradient == want.gradient
    commented, plain = graphlang.parse(COMMENTED), graphlang.parse(PLAIN)
    for method in ("forward", "fd", "symbolic"):
        assert commented.gradient(at, method=method) == plain.gradient(at, method=method)


@pytest.mark.parametrize("argv", [["run"], ["explain"], ["graph"], ["ir"], ["diff"], ["run", "--json"]])
def test_every_command_reads_them(cli, tmp_path, argv):
    (tmp_path / "c.cg").write_text(COMMENTED, encoding="utf-8")
    (tmp_path / "p.cg").write_text(PLAIN)
    at = [] if argv[0] in ("diff", "ir") else ["--at", "x=2,z=3"]
    got = cli(argv[0], str(tmp_path / "c.cg"), *at, *argv[1:])
    want = cli(argv[0], str(tmp_path / "p.cg"), *at, *argv[1:])
    assert got.code == want.code == 0, got.err
    assert got.out.replace("c.cg", "p.cg") == want.out or argv[0] == "ir"


@pytest.mark.parametrize("text, column", [("y = x * é\n", 9), ("y = x * 2\nz = y + ∂\n", 9),
                                          ("é = x\n", 1)])
def test_non_ascii_outside_a_comment_is_a_located_error(text, column):
    with pytest.raises(GraphlangError, match="plain ASCII outside comments") as err:
        graphlang.parse(text)
    assert (err.value.kind, err.value.line, err.value.column) == ("syntax", text.count("\n"), column)


@pytest.mark.parametrize("ch", ["\u202e", "\u2066", "\u200b", "\u2028", "\ufeff", "\x1b", "\x7f", "\u0085"])
def test_invisible_or_direction_changing_characters_are_refused_even_in_comments(ch):
    text = f"a = x * 2\ny = a + 1  # note {ch} here\n"
    with pytest.raises(GraphlangError, match="not even in a comment") as err:
        graphlang.parse(text)
    assert (err.value.line, err.value.column) == (2, 19)


def test_a_long_program_with_comments_is_checked_in_linear_time():
    """A comment on each of 20,001 lines: the scan steps from line to line (no assertion on time)."""
    text = "".join(f"v{i} = x * {i}  # é{i}\n" for i in range(20_000)) + "y = v19999 + 1\n"
    assert graphlang.parse(text).evaluate({"x": 1.0}).value == 20_000.0


def test_a_lone_carriage_return_is_refused_where_it_stands():
    """A terminal prints what follows a lone CR over the line: `# note\ry = x * 2` showed code that
    did not run. CRLF is a line ending like LF."""
    with pytest.raises(GraphlangError, match="carriage return without a line feed") as err:
        graphlang.parse("y = x * 3  # note\ry = x * 2\n")
    assert (err.value.line, err.value.column) == (1, 18)
    crlf = graphlang.parse(PLAIN.replace("\n", "\r\n")).evaluate({"x": 2.0, "z": 3.0})
    assert crlf.gradient == graphlang.parse(PLAIN).evaluate({"x": 2.0, "z": 3.0}).gradient


@pytest.mark.parametrize("ch", ["\u00ad", "\U000e0041", "\u206a", "\u180e", "\ufff9", "\u0378", "\ue000"])
def test_format_private_and_unassigned_characters_are_refused_in_comments(ch):
    with pytest.raises(GraphlangError, match="not even in a comment") as err:
        graphlang.parse(f"y = x * 2  # a{ch}b\n")
    assert (err.value.line, err.value.column) == (1, 15)


def test_brackets_in_comments_do_not_count_toward_the_nesting_limit():
    text = "".join(f"# note {i} :(\n" for i in range(300)) + "y = x\n"
    assert graphlang.parse(text).evaluate({"x": 2.0}).value == 2.0
    with pytest.raises(GraphlangError, match="nest deeper"):
        graphlang.parse("y = " + "(" * 201 + "x" + ")" * 201 + "\n")


def test_a_leading_bom_in_text_is_dropped_as_in_a_file():
    """Files, stdin and grading dropped it; `graphlang.parse` refused it as a character."""
    assert graphlang.parse("\ufeff" + PLAIN).evaluate({"x": 2.0, "z": 3.0}).value == \
        graphlang.parse(PLAIN).evaluate({"x": 2.0, "z": 3.0}).value
    with pytest.raises(GraphlangError) as err:
        graphlang.parse("\ufeffy = q +")
    assert (err.value.line, err.value.column) == (1, 8)  # columns as an editor counts them
    with pytest.raises(GraphlangError, match="not even in a comment"):
        graphlang.parse("y = x\n\ufeffz = y\n")  # inside the text it is an invisible character
