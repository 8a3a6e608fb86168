"""A batch's gradebook (CSV: one row per submission, one column per quantity, the total) and its
summary (mean, median, a histogram of scores, the class's most common first wrong step)."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from typing import Any

from graphlang.errors import clean_line
from graphlang.grading.options import refused_kind

BINS = 10  # the histogram's bins: tenths of the maximum, the last one closed ([90 %, 100 %])


PARSES = "program parses and checks"  # the first item of every program submission's report


def _columns(row: dict[str, Any]) -> dict[str, Any]:
    """A row's items by column: a program's checks apart from the answers of the same name (`dJ/dw1` is
    2 points as an answer, a share of the program's points as a check: one column mixed the scales)."""
    items = row.get("items") or ()
    program = str(row.get("submission", "")).lower().endswith(".cg") or any(i.get("name") == PARSES for i in items)
    if refused_kind(row.get("feedback")):  # a .cg refused by an answers-only assignment holds the answers' items
        program = not str(row.get("submission", "")).lower().endswith(".cg")
    return {f"program: {i['name']}" if program and i["name"] != PARSES else str(i["name"]): i for i in items}


def quantities(rows: list[dict[str, Any]]) -> list[str]:
    """Every item's column that appears in the rows, in first-seen order."""
    seen: dict[str, None] = {}
    for r in rows:
        seen.update(dict.fromkeys(_columns(r)))
    return list(seen)


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (a file named `=HYPERLINK(…).cg`), nor a
    terminal as control sequences (ESC, U+202E: `clean_line`)."""
    text = clean_line(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _num(x: Any) -> str:
    return "" if x is None else f"{float(x):.10g}"


def csv_text(rows: list[dict[str, Any]]) -> str:
    """The gradebook: submission, status, one column per quantity (its points; empty where the
    submission was not graded on it), score (empty for a skipped file: no student's), max_score, and
    a note saying why a row was not graded (a folder of two files, a timeout: a blank score alone left
    the TA to guess, an autograder red team's find)."""
    names = quantities(rows)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["submission", "status", *(_cell(n) for n in names), "score", "max_score", "note"])
    for r in rows:
        got = {column: i.get("score") for column, i in _columns(r).items()}
        w.writerow([_cell(str(r["submission"])), r["status"], *(_num(got.get(n)) for n in names),
                    _num(None if r["status"] == "skipped" else r.get("score", 0.0)),  # (not a 0 an LMS records)
                    _num(r.get("max_score")), _cell(str(r.get("reason") or "")) if r["status"] != "graded" else ""])
    return out.getvalue()


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Over the submissions (every row not skipped): count, mean and median score, the histogram of
    scores as fractions of the maximum, and the first wrong steps, most common first."""
    scored = [r for r in rows if r["status"] != "skipped"]
    scores = [float(r.get("score") or 0.0) for r in scored]
    tops = {float(r["max_score"]) for r in scored if r.get("max_score")}
    top = max(tops) if tops else None
    counts = [0] * BINS
    for r, s in zip(scored, scores):
        m = float(r.get("max_score") or 0.0)
        counts[min(int(s / m * BINS), BINS - 1) if m > 0 else 0] += 1
    steps = Counter(str(r["root_cause"]) for r in scored if r.get("root_cause"))
    return {"submissions": len(scored), "skipped": len(rows) - len(scored),
            "passed": sum(1 for r in scored if r.get("passed")),
            "mean": statistics.fmean(scores) if scores else None,
            "median": statistics.median(scores) if scores else None, "max_score": top,
            "histogram": [{"from": i / BINS, "to": (i + 1) / BINS, "count": c} for i, c in enumerate(counts)],
            "first_wrong_steps": [{"step": k, "count": n}
                                  for k, n in sorted(steps.items(), key=lambda kv: (-kv[1], kv[0]))]}


def summary_text(s: dict[str, Any]) -> str:
    """The summary as plain lines: counts, mean, median, a bar per tenth of the maximum, the class's
    most common first wrong step."""
    if not s["submissions"]:
        return f"no submissions graded ({s['skipped']} skipped)"
    top = f" / {s['max_score']:g}" if s["max_score"] else ""
    skipped = f"; {s['skipped']} other files skipped" if s["skipped"] else ""  # (not among the graded)
    lines = [f"{s['submissions']} submissions graded ({s['passed']} passed){skipped}: "
             f"mean {s['mean']:.4g}{top}, median {s['median']:.4g}{top}"]
    widest = max(b["count"] for b in s["histogram"]) or 1
    for b in s["histogram"]:
        close = "]" if b["to"] >= 1 else ")"
        bar = "#" * round(30 * b["count"] / widest)
        lines.append(f"  [{b['from']:>4.0%}, {b['to']:>4.0%}{close} {b['count']:>5} {bar}".rstrip())
    if s["first_wrong_steps"]:
        first = s["first_wrong_steps"][0]
        lines.append(f"most common first wrong step: {first['step']} ({first['count']} submissions)")
    return "\n".join(lines)
