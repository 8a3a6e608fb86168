"""The batch's gradebook and summary (grading/gradebook.py, `check --batch --csv`): the numbers are
checked against hand-computed means, medians and bins, and the CSV against the rows it came from."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from fractions import Fraction

import pytest
from conftest import PROGRAMS

from graphlang.grading import gradebook
from graphlang.grading.report import Item, Report

HW = PROGRAMS / "homework"


def _row(name, score, status="graded", root=None, items=None):
    return {"submission": name, "status": status, "score": score, "max_score": None if status == "skipped" else 10.0,
            "passed": score == 10, "root_cause": root, "items": items or []}


ROWS = [_row("a.cg", 0.0, root="b"), _row("b.cg", 5.0, root="c"), _row("c.cg", 9.0, root="b"),
        _row("d.cg", 10.0), _row("e.cg", 0.0, status="timeout"), _row("notes.txt", 0.0, status="skipped")]


def test_summary_by_hand():
    s = gradebook.summary(ROWS)
    assert s["submissions"] == 5 and s["skipped"] == 1 and s["passed"] == 1
    assert s["mean"] == (0 + 5 + 9 + 10 + 0) / 5 and s["median"] == 5.0 and s["max_score"] == 10.0
    counts = [b["count"] for b in s["histogram"]]
    assert counts == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]  # 0, 0 | 5 | 9 and 10 (the last bin is closed)
    assert s["first_wrong_steps"] == [{"step": "b", "count": 2}, {"step": "c", "count": 1}]
    text = gradebook.summary_text(s)
    assert "mean 4.8 / 10, median 5 / 10" in text and "most common first wrong step: b (2 submissions)" in text
    assert text.startswith("5 submissions graded (1 passed); 1 other files skipped:")  # 5 + 1 = the 6 rows


def test_summary_of_nothing():
    assert gradebook.summary([])["mean"] is None
    assert "no submissions" in gradebook.summary_text(gradebook.summary([]))


def test_csv_has_a_column_per_quantity_and_escapes_formulas():
    rows = [_row("=cmd().json", 3.0, items=[{"name": "a", "score": 1.0}, {"name": "g_a", "score": 2.0}]),
            _row("x.json", 1.0, items=[{"name": "g_a", "score": 1.0}, {"name": "b", "score": 0.0}])]
    table = list(csv.reader(io.StringIO(gradebook.csv_text(rows))))
    assert table[0] == ["submission", "status", "a", "g_a", "b", "score", "max_score", "note"]
    assert table[1] == ["'=cmd().json", "graded", "1", "2", "", "3", "10", ""]
    assert table[2] == ["x.json", "graded", "", "1", "0", "1", "10", ""]


def test_a_programs_checks_are_not_mixed_with_answers_of_the_same_name():
    """dJ/dw1 was one column for a 2-point answer and a program's 1.54545-point check (a TA's find)."""
    rows = [_row("ann.json", 2.0, items=[{"name": "dJ/dw1", "score": 2.0}]),
            _row("bob.cg", 3.1, items=[{"name": "output value", "score": 1.54545},
                                       {"name": "dJ/dw1", "score": 1.54545}])]
    table = list(csv.reader(io.StringIO(gradebook.csv_text(rows))))
    assert table[0] == ["submission", "status", "dJ/dw1", "program: output value", "program: dJ/dw1", "score",
                        "max_score", "note"]
    assert table[1][2:5] == ["2", "", ""] and table[2][2:5] == ["", "1.54545", "1.54545"]


def test_check_batch_writes_the_gradebook(tmp_path, cli):
    key = json.loads((HW / "submissions" / "correct.json").read_text())
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "key.json").write_text(json.dumps(key))
    for i, name in enumerate(("b", "b", "c")):  # two students get b wrong, one c: b is the misconception
        (folder / f"wrong{i}.json").write_text(json.dumps({**key, name: key[name] + 1}))
    (folder / "garbage.json").write_text("{not json")
    out = tmp_path / "grades.csv"
    ran = cli("check", "--assignment", str(HW / "assignment.toml"), "--batch", str(folder), "--csv", str(out),
              "-j", "2")
    assert ran.code == 0, ran.out + ran.err
    table = list(csv.DictReader(out.open()))
    assert [r["submission"] for r in table] == sorted(p.name for p in folder.iterdir())
    by = {r["submission"]: r for r in table}
    quantities = [k for k in table[0] if k not in ("submission", "status", "score", "max_score")]
    assert set(key) <= set(quantities)
    assert len({r["max_score"] for r in table}) == 1  # one assignment, one maximum
    for r in table:  # the total is the sum of the quantity columns
        assert abs(sum(float(r[q] or 0) for q in quantities) - float(r["score"])) < 1e-9
    assert by["key.json"]["score"] == by["key.json"]["max_score"]
    assert float(by["wrong0.json"]["b"]) == 0 and float(by["wrong2.json"]["c"]) == 0
    assert float(by["wrong2.json"]["b"]) > 0
    assert float(by["garbage.json"]["score"]) == 0
    assert "most common first wrong step: b (2 submissions)" in ran.out
    assert "not valid JSON" not in ran.err


def test_jobs_and_csv_need_batch(tmp_path, cli):
    ran = cli("check", "--assignment", str(HW / "assignment.toml"), "--answers",
              str(HW / "submissions" / "correct.json"), "--csv", str(tmp_path / "g.csv"))
    assert ran.code == 2 and "--batch" in ran.out + ran.err


@pytest.mark.skipif(sys.platform != "linux", reason="a file name of any bytes (Linux)")
def test_a_file_name_that_is_not_utf8_gets_a_row_and_the_gradebook_is_written(tmp_path, cli):
    """It was a traceback (UnicodeEncodeError writing the CSV) and no gradebook at all."""
    key = (HW / "submissions" / "correct.json").read_bytes()
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "ok.json").write_bytes(key)
    with open(os.path.join(os.fsencode(folder), b"bad\xffname.json"), "wb") as fh:
        fh.write(key)
    out = tmp_path / "grades.csv"
    ran = cli("check", "--assignment", str(HW / "assignment.toml"), "--batch", str(folder), "--csv", str(out),
              "--jsonl")
    assert ran.code == 0 and "Traceback" not in ran.err, ran.err
    table = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["submission"] for r in table] == ["bad\\xffname.json", "ok.json"]
    assert table[0]["score"] == table[1]["score"] == table[1]["max_score"]  # the same answers, the same grade
    assert [json.loads(line)["submission"] for line in ran.out.splitlines() if line.startswith("{")] == \
        ["bad\\xffname.json", "ok.json"]


def test_a_skipped_file_has_no_score_in_the_gradebook():
    """`notes.txt` beside the submissions had a score of 0 in the CSV: an LMS import records it."""
    import csv
    import io

    from graphlang.grading.gradebook import csv_text
    rows = [_row("a.json", 7.0), _row("notes.txt", 0.0, status="skipped")]
    table = {r["submission"]: r for r in csv.DictReader(io.StringIO(csv_text(rows)))}
    assert table["a.json"]["score"] == "7" and table["notes.txt"]["score"] == ""
    assert table["notes.txt"]["status"] == "skipped" and table["notes.txt"]["max_score"] == ""


def test_a_score_is_the_exact_sum_of_its_items_on_every_python():
    """An autograder red team's find: one submission scored 9.333333333333334 on Python 3.11 and
    9.333333333333332 on 3.13 (whose `sum` of floats is compensated). The score is the float nearest
    the exact sum of the item scores (fractions.Fraction: exact rationals)."""
    for scores in ([10 / 3 * 2 / 10] * 10 + [0.1] * 7, [0.1] * 10, [1 / 3] * 28, [2 / 3, 2 / 3, 2 / 3, 0.2, 0.3]):
        report = Report(items=[Item(f"q{k}", 100.0, s, True) for k, s in enumerate(scores)])
        assert report.score == float(sum(Fraction(s) for s in scores)), scores


def test_a_students_nested_folder_is_graded_and_a_skipped_one_says_why(tmp_path, cli):
    """An autograder red team's finds: erin/sub/answers.json was skipped (the Gradescope runner
    grades it), and a folder of two answer files had a blank score and nothing saying why."""
    key = (HW / "submissions" / "correct.json").read_bytes()
    folder = tmp_path / "lms"
    (folder / "erin" / "sub").mkdir(parents=True)
    (folder / "erin" / "sub" / "answers.json").write_bytes(key)
    (folder / "dave").mkdir()
    (folder / "dave" / "a.json").write_bytes(key)
    (folder / "dave" / "b.json").write_bytes(key)
    (folder / "carol").mkdir()
    ran = cli("check", "--assignment", str(HW / "assignment.toml"), "--batch", str(folder), "--csv",
              str(tmp_path / "g.csv"))
    table = {r["submission"]: r for r in csv.DictReader(io.StringIO((tmp_path / "g.csv").read_text()))}
    assert table["erin/answers.json"]["score"] == table["erin/answers.json"]["max_score"] == "18", ran.err
    assert table["dave"]["score"] == "" and "2 .cg or .json files" in table["dave"]["note"]
    assert table["carol"]["score"] == "" and "no .cg or .json files" in table["carol"]["note"]
    assert table["erin/answers.json"]["note"] == ""
