"""PrairieLearn's comparisons (relabs, sigfig, decdig), checked at bounds derived by hand from
their definitions, and the "close: check your rounding" feedback."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphlang.errors import GraphlangError
from graphlang.grading.compare import Comparison, compare, figures_given


def ok(got: float, want: float, how: Comparison) -> bool:
    return compare(np.asarray(got, dtype=np.float64), want, how)[0]


@pytest.mark.parametrize("got,want,digits,expect", [
    # sigfig: |got - want| < 0.51·10^(floor(log10|want|) - digits + 1)
    (0.6385, 0.638961, 3, True),    # off by 0.000461 < 0.00051
    (0.6384, 0.638961, 3, False),   # off by 0.000561
    (0.639, 0.638961, 3, True),
    (0.6395, 0.638961, 3, False),   # off by 0.000539
    (412.7, 412.191, 3, True),      # eps = 0.51: off by 0.509
    (412.71, 412.191, 3, False),
    (0.05, 0.0, 2, True),           # want = 0: eps = 0.51·10^-(digits-1) = 0.051
    (0.06, 0.0, 2, False),
    (-12.4, -12.36, 3, True),
    (-12.3, -12.36, 3, False),      # eps 0.051, off by 0.06
])
def test_sigfig_bounds(got, want, digits, expect):
    assert ok(got, want, Comparison("sigfig", digits=digits)) is expect


@pytest.mark.parametrize("got,want,expect", [(1.005, 1.0, True), (1.0052, 1.0, False), (-3.1449, -3.14159, True)])
def test_decdig_bounds(got, want, expect):
    assert ok(got, want, Comparison("decdig", digits=2)) is expect  # eps = 0.0051


def test_relabs_is_atol_plus_rtol_times_expected():
    how = Comparison("relabs", rtol=0.01, atol=0.0)
    assert ok(101.0, 100.0, how) and not ok(101.01, 100.0, how)
    loose = Comparison("relabs", rtol=0.01, atol=0.5)
    assert ok(0.5, 0.0, loose) and not ok(0.51, 0.0, loose)


def test_vectors_need_every_element():
    how = Comparison("sigfig", digits=3)
    assert compare(np.array([0.639, 412.0]), [0.638961, 412.191], how)[0]
    assert not compare(np.array([0.639, 415.0]), [0.638961, 412.191], how)[0]


def test_close_means_fewer_figures_right_to_those():
    passed, why = compare(np.asarray(0.6389), 0.638961, Comparison("relabs", 1e-5, 1e-8))
    assert not passed and why == "close: check your rounding (6 significant figures expected, " \
        "for a relative tolerance of 1e-05)"  # (relabs: where the figures come from; a TA's find)
    assert compare(np.asarray(0.64), 0.638961, Comparison("sigfig", digits=3))[1] == \
        "close: check your rounding (3 significant figures expected)"
    # six figures, wrong in the third: a wrong value, not a rounding slip
    assert compare(np.asarray(1220.87), 1208.38, Comparison("sigfig", digits=3))[1] == "incorrect"
    assert compare(np.asarray(0.7), 0.638961, Comparison("sigfig", digits=3))[1] == "incorrect"


@pytest.mark.parametrize("answer,figures", [(0.6, 1), (0.64, 2), (600, 3), (600.5, 4), (0.0012, 2),
                                            (1.5e-05, 2), (-2.25, 3), ([0.125, 3.5], 2), (0.0, None),
                                            ([0.0, 0.0], None), (1e20, 1)])
def test_figures_given_count_what_the_answer_writes(answer, figures):
    assert figures_given(np.asarray(answer, dtype=float)) == figures


def test_hidden_values_say_nothing_about_the_digits():
    """Hidden: "close" is never said; a wrong answer with fewer figures than asked gets a hint that
    depends on the answer alone, the same for right digits (0.64) as for wrong ones (0.65)."""
    how = Comparison("sigfig", digits=3)
    for probe in (0.64, 0.65):
        assert compare(np.asarray(probe), 0.638961, how, reveal=False)[1] == \
            f"incorrect (3 significant figures expected; it is read as {probe})"
    assert compare(np.asarray(0.651), 0.638961, how, reveal=False)[1] == "incorrect"
    assert compare(np.asarray(0.639), 0.638961, how, reveal=False) == (True, "")
    decdig = Comparison("decdig", digits=2)  # asks for no number of figures: no hint
    assert compare(np.asarray(0.6), 0.638961, decdig, reveal=False)[1] == "incorrect"


@pytest.mark.parametrize("kwargs", [{"kind": "exact"}, {"kind": "sigfig", "digits": 0}, {"digits": 2.5},
                                    {"rtol": 1.0}, {"rtol": float("nan")}, {"atol": -1.0}, {"digits": True}])
def test_bad_comparisons_are_usage_errors(kwargs):
    with pytest.raises(GraphlangError) as info:
        Comparison(**kwargs)
    assert info.value.kind == "usage"


@settings(max_examples=400, deadline=None)
@given(st.floats(1e-6, 1e6), st.sampled_from([0.05, 0.01, 0.003, 1e-3, 1e-4, 1e-5]), st.booleans())
def test_relabs_figures_are_enough_whatever_the_value(value, rtol, negative):
    """relabs rtol 0.01 said "2 significant figures expected", yet −0.16 (−0.1604… to 2 figures)
    failed (a TA's find). Oracle: rounding itself — the value written to the figures the comparison
    names always passes, and one figure fewer does not always."""
    v = -value if negative else value
    how = Comparison("relabs", rtol=rtol, atol=0.0)
    k = how.figures()
    assert k is not None and how.passes(np.asarray(float(f"{v:.{k - 1}e}")), np.asarray(v))
    if k > 1:
        worst = (1 + 0.4999 * 10.0 ** (2 - k)) * 10.0 ** math.floor(math.log10(abs(v)))  # 1.04999… for k = 3
        assert not how.passes(np.asarray(float(f"{worst:.{k - 2}e}")), np.asarray(worst))


def test_the_figures_hint_counts_what_was_typed_and_only_the_wrong_elements():
    """JSON's 1.00 is the float 1.0: "3 significant figures expected; it is read as 1.0" told a
    student who wrote three figures to round differently (a TA's find). The answers file keeps each
    number's text. (Counting only the wrong elements, as the TA asked, would tell which elements
    of a hidden matrix are right: every element counts.)"""
    from graphlang.grading.answers_file import parse_answers
    from graphlang.grading.checker import grade_answers
    how = Comparison("sigfig", digits=3)
    answers, _ = parse_answers(b'{"y": 1.00, "v": [0.0297, -0.014], "w": 1.0}')
    assert answers is not None and answers["y"].text == "1.00"
    assert compare(np.asarray(answers["y"]), 0.8, how, reveal=False, written=answers["y"])[1] == "incorrect"
    assert compare(np.asarray(answers["w"]), 0.8, how, reveal=False, written=answers["w"])[1] == \
        "incorrect (3 significant figures expected; it is read as 1.0)"
    got = np.asarray(answers["v"])  # every element counts alike: which ones are wrong stays hidden
    for want in ([0.0312, -0.014], [0.0297, -0.0152]):
        assert compare(got, np.array(want), how, reveal=False, written=answers["v"])[1] == \
            "incorrect (3 significant figures expected; it is read as [0.0297, -0.014])"
    rep = grade_answers("y = x * 2", json.loads('{"y": 5.00}', parse_float=type(answers["y"])), {"x": 2},
                        quantities=["y"], comparison=how, show_expected=False)
    assert rep.items[0].message == "incorrect"


def test_the_hint_shows_the_answer_as_given_not_with_hidden_zeros_applied():
    """"read as [2.1, 0.0]" where the hidden b[1] is 0 and "[2.1, 1e-20]" where it is not: the hint
    printed the answer after a roundoff of a true 0 was zeroed, telling which elements are 0."""
    from graphlang.grading.answers_file import parse_answers
    from graphlang.grading.checker import grade_answers
    answers, _ = parse_answers(b'{"b": [2.1, 1e-20]}')
    how = Comparison("sigfig", digits=3)
    shown = {grade_answers("a = x * z\nb = relu(a - 4)\ny = sum(b)\n", answers, {"x": x, "z": 3}, quantities=["b"],
                           comparison=how, show_expected=False).items[0].message for x in ([2, 1], [2, 1.5])}
    assert shown == {"incorrect (3 significant figures expected; it is read as [2.1, 1e-20])"}


def test_a_value_near_float64s_largest_is_close_to_no_wrong_answer():
    """1.7976e308 to one figure rounds to inf, and every answer (−1.79e308, 0, 1e-320) was "close:
    check your rounding". Oracle: those answers are nowhere near the value, by sign or by size."""
    c = Comparison("sigfig", digits=3)
    want = np.array([1.7976e308])
    for wrong in (2e307, -1.79e308, 1e-320, 0.0):
        assert not c.close(np.array([wrong]), want), wrong
    assert c.close(np.array([1.8e307]), np.array([1.7976e307]))  # (a real rounding slip still is one)


def test_a_whole_number_is_quoted_as_typed():
    """A JSON 7 (an int) was quoted "it is read as 7.0", which the student did not write."""
    ok, message = compare(np.asarray(7.0), 7.123, Comparison("sigfig", digits=3), reveal=False, written=7)
    assert not ok and message.endswith("it is read as 7)"), message


def test_decimal_digits_hidden_get_the_same_hint_as_figures():
    """A TA's find: under decdig an answer with too few decimals (0.895 where 4 are asked) got only
    "incorrect", where sigfig's said what was expected. The hint depends on the answer as written."""
    from graphlang.grading.answers_file import parse_answers
    how = Comparison("decdig", digits=4)
    answers, _ = parse_answers(b'{"a": 0.895, "b": 0.8951, "c": 1.50, "d": 7, "e": 8.95e-1}')
    assert answers is not None
    for key, want in (("a", 0.89512), ("b", 0.89612), ("c", 1.4)):
        msg = compare(np.asarray(answers[key]), want, how, reveal=False, written=answers[key])[1]
        assert msg == ("incorrect (4 digits after the decimal point expected; it is read as "
                       f"{answers[key].text})" if key != "b" else "incorrect"), (key, msg)
    assert compare(np.asarray(answers["d"]), 7.5, how, reveal=False, written=answers["d"])[1].startswith(
        "incorrect (4 digits after the decimal point expected")
    assert compare(np.asarray(answers["e"]), 0.9, how, reveal=False, written=answers["e"])[1] == "incorrect"


def test_the_element_with_too_few_figures_is_quoted_even_past_the_first_three():
    """A TA's find: "3 significant figures expected; read as [0.32, -0.28, 0.021, …]" hid the short
    element of a 3×4 matrix behind "…". Oracle: the element with the fewest figures, found by hand."""
    how = Comparison("sigfig", digits=3)
    got = np.array([[0.321, -0.281, 0.0214, 0.111], [0.123, 0.456, 0.789, 0.999], [0.1, 0.222, 0.333, 0.444]])
    message = compare(got, got * 1.1, how, reveal=False)[1]
    assert message == ("incorrect (3 significant figures expected; it is read as [0.321, -0.281, 0.0214, …, "
                       "0.1 at [2, 0], …])"), message
    short = compare(np.array([-0.0698, 0.364, 0.124, -0.0033]), np.zeros(4) + 1, how, reveal=False)[1]
    assert short.endswith("it is read as [-0.0698, 0.364, 0.124, -0.0033])"), short
