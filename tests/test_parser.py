"""The fast parser's fallback (issue 13 item 8): a syntax error after many good statements is
located by parsing only the rest of the text, and the result is exactly the full parser's."""

from __future__ import annotations

import random

import pytest

import graphlang
from graphlang.errors import GraphlangError
from graphlang.language import parser
from graphlang.limits import Limits


def _error(fn, text):
    try:
        fn(text, Limits())
    except GraphlangError as err:
        return (err.kind, err.message, err.line, err.column, err.hint)
    return None


@pytest.mark.parametrize("tail", ["y = a19999 +", "y = (a3 + \n\n 2", "y = a1 a2", "b = 1; y = 2 $ 3",
                                  "y = 1e999 * a1\nz = (", "  q = [1, 2,, 3]", "y = a5;\nz = a4 @@ 2"])
def test_a_late_error_parses_only_the_rest(monkeypatch, tail):
    text = "input x\n" + "".join(f"a{i} = x * {i} + 1\n" for i in range(20_000)) + tail + "\n"
    want = _error(parser.parse_full, text)  # the oracle: the full parser over the whole text
    assert want is not None
    seen: list[int] = []
    real = parser.parse_full

    def recording(t, limits):
        seen.append(len(t))
        return real(t, limits)
    monkeypatch.setattr(parser, "parse_full", recording)
    assert _error(parser.parse_statements, text) == want
    assert seen and max(seen) <= len(tail) + 1  # never the 20,000 good statements again


MUTATIONS = list("()[]+-*/^;,=\n .@1xa#T") + ["exp(", "sum(", "input ", "1e999", " 2x", "'", "output y"]
BASE = ("input x, W[2,2]\na = x * 2; b = (a +\n 1)\nc = sum(W @ [1, 2]) + b\n  d = -c^2 ; e = d.T\n"
        "# comment\ny = exp(e) + a\nf = (b\n + 2); g = f * [1,\n 2]\nh = g[0] + f\n")


def test_fast_path_errors_equal_the_full_parser():
    """Differential: 3,000 mutants of a program with multi-line and `;`-separated statements."""
    rng = random.Random(13)
    errors = 0
    for _ in range(3_000):
        text = BASE
        for _ in range(rng.randint(1, 3)):
            k = rng.randrange(len(text) + 1)
            text = text[:k] + rng.choice(MUTATIONS) + text[k:] if rng.random() < 0.6 else text[:k] + text[k + 1:]
        want = _error(parser.parse_full, text)
        errors += want is not None
        assert _error(parser.parse_statements, text) == want, repr(text)
    assert errors > 1_500


def test_a_run_of_blanks_no_token_follows_is_tokenized_once():
    """An untrusted-input red team's find: the fast tokenizer (`finditer`) tried again from every
    blank of a run that ends the text or meets a character no token starts with: quadratic (9,900
    trailing spaces made a right submission time out). The verdicts are the full parser's."""
    prog = graphlang.parse("y = x * z" + " " * 30_000)
    assert prog.evaluate({"x": 2, "z": 3}).value == 6.0
    for text, column in (("y = x * z" + " " * 3_000 + "$", 3_010), ("y = x\t\t @ $", 11)):
        with pytest.raises(GraphlangError) as info:
            graphlang.parse(text)
        assert (info.value.kind, info.value.line, info.value.column) == ("syntax", 1, column), info.value
    from graphlang.language.atvalues import wrt_names  # (one pass, not a lookahead per comma)
    assert wrt_names("x, W2[1,2],z") == ["x", "W2[1,2]", "z"] and wrt_names(" , ") is None
    assert len(wrt_names("x," * 20_000) or []) == 20_000
