"""Batch grading throughput (issue 15): submissions per second for 1,000 program submissions and
1,000 answer files against programs/homework/assignment.toml, through the worker pool.

usage: python bench/batch.py [-n 1000] [-j N ...]   (default: -j 1 and -j <cores>)
Every submission is a distinct file (a comment or a perturbed value makes each one different); a
third of them are wrong, so the first-wrong-step analysis runs too. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphlang.grading import submissions  # noqa: E402
from graphlang.grading.assignment import Assignment  # noqa: E402

HW = ROOT / "programs" / "homework"


def make(folder: Path, kind: str, n: int) -> None:
    folder.mkdir()
    if kind == "programs":
        texts = [(HW / "student_ok.cg").read_text(), (HW / "student_sign.cg").read_text()]
        for i in range(n):
            (folder / f"s{i:05}.cg").write_text(f"# student {i}\n" + texts[i % 3 == 2])
    else:
        key = json.loads((HW / "submissions" / "correct.json").read_text())
        names = sorted(key)
        for i in range(n):
            answers = dict(key)
            if i % 3 == 2:
                wrong = names[i % len(names)]
                answers[wrong] = answers[wrong] + 1 + i
            (folder / f"s{i:05}.json").write_text(json.dumps(answers))


def measure(asg: Assignment, folder: Path, jobs: int) -> tuple[float, int]:
    options = {"answers": asg.answers_options(), "program": asg.program_options()}
    start = time.perf_counter()
    rows = list(submissions.grade_batch(asg.reference, str(folder), asg.at, options, timeout=asg.timeout,
                                        memory_mb=asg.memory_mb, jobs=jobs, max_score=asg.max_score))
    seconds = time.perf_counter() - start
    assert all(r["status"] == "graded" for r in rows), {r["status"] for r in rows}
    return seconds, sum(1 for r in rows if r["passed"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("-j", type=int, action="append")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    asg = Assignment.load(str(HW / "assignment.toml"))
    print(f"{args.n} submissions each; {cores} cores; Python {sys.version.split()[0]}\n")
    print("| submissions | workers (-j) | seconds | submissions / s | passed |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("programs", "answers"):
            folder = Path(tmp) / kind
            make(folder, kind, args.n)
            for jobs in args.j or sorted({1, cores}):
                seconds, passed = measure(asg, folder, jobs)
                print(f"| {args.n} {kind} | {jobs} | {seconds:.2f} | {args.n / seconds:.0f} | {passed} |",
                      flush=True)


if __name__ == "__main__":
    main()
