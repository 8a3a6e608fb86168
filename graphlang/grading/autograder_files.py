"""The text of the autograder bundles' files: Gradescope's scripts, PrairieLearn's server.py and
question.html. Kept apart from the code that assembles them (`autograder.py`)."""

from __future__ import annotations

import html
from typing import Any

from graphlang.symbolic.printing import tex_name

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image: install graphlang (and its
# dependencies) from the wheel in this bundle.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v python3 >/dev/null 2>&1; then
  apt-get update && apt-get install -y python3 python3-pip
fi
python3 -m pip install --no-cache-dir ./graphlang-*.whl \\
  || python3 -m pip install --no-cache-dir --break-system-packages ./graphlang-*.whl
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. It grades the one .json file (answers, whatever its
# name) or the one .cg file (a program) in $ROOT/submission/ with $ROOT/source/assignment.toml and
# writes $ROOT/results/results.json. ROOT is /autograder, or GRAPHLANG_AUTOGRADER_ROOT (tests).
set -u
ROOT="${GRAPHLANG_AUTOGRADER_ROOT:-/autograder}"
if ! command -v graphlang >/dev/null 2>&1; then
  python3 -m pip install --quiet "$ROOT"/source/graphlang-*.whl >/dev/null 2>&1
fi
mkdir -p "$ROOT/results"
if ! graphlang autograder run-gradescope --root "$ROOT"; then
  msg="The autograder could not run graphlang: please tell the course staff."
  printf '{"score": 0, "output": "%s", "tests": []}\\n' "$msg" > "$ROOT/results/results.json"
fi
"""

SERVER_PY = '''"""PrairieLearn question code, written by `graphlang autograder prairielearn`.

generate(data): a point per variant near the assignment's, where the reference is defined, and the
correct answers. grade(data): graphlang grades data["submitted_answers"] (points, comparisons, error
carried forward from assignment.toml) and sets score, partial_scores and feedback.
The course's PrairieLearn image needs graphlang installed from its source or its wheel (the one inside
`graphlang autograder gradescope`'s zip): `pip install graphlang` fetches an unrelated PyPI project.
"""

import dataclasses
import pathlib
import random

from graphlang.checker import Assignment, GraphlangError
from graphlang.grading.answers_file import Written


def _assignment(data):
    folder = data.get("options", {}).get("question_path") or pathlib.Path(__file__).resolve().parent
    return Assignment.load(pathlib.Path(folder) / "assignment.toml")


def _moved(v, rnd):
    """A number (or each of a list's) moved by -1 to 1 in halves, keeping its sign and never made 0
    (a 0 makes a gradient trivially 0)."""
    if isinstance(v, (list, tuple)):
        return [_moved(x, rnd) for x in v]
    v = float(v)
    return rnd.choice([x for x in (round(v + d, 1) for d in (-1.0, -0.5, 0.0, 0.5, 1.0)) if x == v or x * v > 0])


def _point(asg, rnd):
    """Short decimals near the assignment's point where the reference evaluates, tamely; the inputs
    in assignment.toml's `fixed` (a label) as given."""
    for _ in range(200):
        at = {k: v if k in asg.fixed else _moved(v, rnd) for k, v in asg.at.items()}
        try:
            moved = dataclasses.replace(asg, at=at)
        except GraphlangError:
            continue
        if all(abs(v) < 1e4 for v in moved.key().values()):
            return moved
    return asg


def generate(data):
    seed = data.get("variant_seed")
    rnd = random.Random(seed) if seed is not None else random.Random()
    asg = _point(_assignment(data), rnd)
    names = {_name(q): q for q in asg.quantities}
    data["params"]["at"] = asg.at
    data["params"]["point"] = ", ".join(f"{k} = {v:g}" for k, v in asg.at.items())
    data["params"]["names"] = names
    key = asg.key()
    for name, q in names.items():
        data["correct_answers"][name] = key[q]


def grade(data):
    asg = dataclasses.replace(_assignment(data), at=data["params"]["at"])
    names = data["params"]["names"]
    submitted, raw = data.get("submitted_answers", {}), data.get("raw_submitted_answers", {})
    answers = {q: _typed(submitted[n], raw.get(n)) for n, q in names.items() if submitted.get(n) is not None}
    report = asg.grade_answers(answers)
    items = {i.name: i for i in report.items}
    for name, q in names.items():
        it = items[q]
        data["partial_scores"][name] = {"score": it.score / it.max_score if it.max_score else 0.0,
                                        "weight": it.max_score, "feedback": it.message}
    data["score"] = report.score / report.max_score if report.max_score else 0.0
    data["feedback"]["graphlang"] = "\\n".join(report.feedback)


def _typed(value, text):
    """The number with the text the student typed (0.600 keeps three figures for the hint)."""
    try:
        return Written(str(text).strip()) if float(str(text)) == float(value) else value
    except (TypeError, ValueError):
        return value


def _name(quantity):
    """A quantity as an answers-name (an identifier): a, g_a, dy/dx -> dy_dx."""
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in quantity)
'''


def _label(q: str, out: str) -> str:
    if "/" in q:
        d, x = q.split("/", 1)
        if d[1:] != out:  # a tangent: the total derivative ȧ of forward mode, written d (not the local ∂)
            return f"$\\dot{{{tex_name(d[1:])}}} = d{tex_name(d[1:])}/d{tex_name(x[1:])} =$"
        return f"$\\partial {tex_name(d[1:])}/\\partial {tex_name(x[1:])} =$"
    return f"${tex_name(q)} =$"


def _statements(source: str) -> str:
    """The program as the question shows it: without its comment lines, which may name another point
    (`# Run it: ... --at x=2,z=3`) than the variant's."""
    return "\n".join(ln for ln in source.rstrip().splitlines() if not ln.lstrip().startswith("#")).strip("\n")


def _passes(asked: list[str], out: str) -> str:
    """What the question asks besides the values: adjoints (reverse mode), tangents (forward mode)."""
    said = []
    if any(q.startswith("g_") for q in asked):
        said.append(f"the backward pass (every adjoint $g_v = \\partial {tex_name(out)}/\\partial v$)")
    if any("/" in q and not q.startswith(f"d{out}/") for q in asked):
        said.append("forward mode (every tangent $\\dot{v} = dv/dx$, a pass per input $x$)")
    return ", ".join(said) or "the derivatives asked"


def question_html(asg: Any, names: dict[str, str], dot: str) -> str:
    """Number inputs for every asked quantity (PrairieLearn's comparison), the program and its graph."""
    c = asg.comparison
    how = (f'comparison="relabs" rtol="{c.rtol!r}" atol="{c.atol!r}"' if c.kind == "relabs"
           else f'comparison="{c.kind}" digits="{c.digits}"')
    shown = "true" if asg.show_expected else "false"
    out = asg.reference.outputs[0]
    lines = ["<pl-question-panel>", f"  <p><strong>{html.escape(asg.title or 'Backpropagation by hand')}</strong></p>",
             "  <p>The function below is written as named intermediate quantities. At <b>{{params.point}}</b>, run "
             "the forward pass (every node's value), " + _passes(asg.quantities, out) + " and give the gradient.</p>",
             '  <pl-code language="python">' + html.escape(_statements(asg.reference.source)) + "</pl-code>",
             "  <pl-graph>" + html.escape(dot) + "</pl-graph>", "</pl-question-panel>", ""]
    for q, name in names.items():
        per = asg.comparisons.get(q)
        attrs = how if per is None else (f'comparison="relabs" rtol="{per.rtol!r}" atol="{per.atol!r}"'
                                         if per.kind == "relabs" else f'comparison="{per.kind}" digits="{per.digits}"')
        lines.append(f'<pl-number-input answers-name="{name}" label="{_label(q, out)}" {attrs} '
                     f'show-correct-answer="{shown}"></pl-number-input>')
    lines += ["", "<pl-submission-panel>", '  <div style="white-space: pre-line">{{feedback.graphlang}}</div>',
              "</pl-submission-panel>"]
    return "\n".join(lines) + "\n"
