"""Autograder bundles in the platforms' own formats: a Gradescope zip and a PrairieLearn question.

Gradescope (https://gradescope-autograders.readthedocs.io): the zip holds `setup.sh` (installs
graphlang from the wheel in the zip), `run_autograder` (grades `/autograder/submission/`: its one
`.json` file, answers, or its one `.cg` file, a program; writes `/autograder/results/results.json`),
the self-contained `assignment.toml` and the wheel. `GRAPHLANG_AUTOGRADER_ROOT` replaces
`/autograder`, for tests outside a container; a `graphlang` already on PATH is used as it is.

PrairieLearn: a question directory with `info.json`, `question.html` (one `pl-number-input` per
asked quantity and the graph as `pl-graph`), `server.py` (`generate` draws a point per variant,
`grade` grades with graphlang) and the assignment. The course's PrairieLearn image needs graphlang.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

import graphlang
from graphlang.errors import GraphlangError
from graphlang.files import write_text, write_with
from graphlang.grading import autograder_files as templates
from graphlang.grading.assignment import Assignment
from graphlang.grading.report import Item, Report
from graphlang.grading.submissions import grade_batch
from graphlang.language.grammar import grammar_path
from graphlang.symbolic.printing import to_text

# The core dependencies, as pyproject.toml lists them (tests/test_autograder.py compares the two).
REQUIRES = ["lark>=1.1.9", "numpy>=1.24", "rich>=13.0", "typer>=0.12", "prompt_toolkit>=3.0",
            'tomli; python_version < "3.11"']
EPOCH = (1980, 1, 1, 0, 0, 0)  # zip timestamps: the same bytes on every build


def _zip_bytes(files: dict[str, bytes], executable: set[str] = frozenset()) -> bytes:  # type: ignore[assignment]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, EPOCH)
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    return buf.getvalue()


def wheel() -> tuple[str, bytes]:
    """A wheel of the graphlang that is running (its modules, page assets and grammar): pure Python."""
    pkg = Path(graphlang.__file__).resolve().parent
    version = graphlang.__version__
    files: dict[str, bytes] = {}
    for p in sorted(pkg.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"):
            files["graphlang/" + p.relative_to(pkg).as_posix()] = p.read_bytes()
    files["graphlang/grammars/graphlang.lark"] = grammar_path().read_bytes()
    info = f"graphlang-{version}.dist-info"
    files[f"{info}/METADATA"] = ("Metadata-Version: 2.1\nName: graphlang\nVersion: " + version + "\n"
                                 "Summary: computation graphs with exact derivatives\nRequires-Python: >=3.10\n"
                                 + "".join(f"Requires-Dist: {r}\n" for r in REQUIRES)).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: graphlang\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\ngraphlang = graphlang.cli:main\n"
    record = []
    for name, data in sorted(files.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    return f"graphlang-{version}-py3-none-any.whl", _zip_bytes(files)


def gradescope_zip(assignment: Assignment, wheel_file: tuple[str, bytes] | None = None) -> bytes:
    """The autograder zip's bytes (see the module's description)."""
    if not isinstance(assignment, Assignment):
        raise GraphlangError("usage", f"an Assignment is needed, got {type(assignment).__name__}",
                             hint="Assignment.load('assignment.toml')")
    name, data = wheel_file or wheel()
    files = {"setup.sh": templates.SETUP_SH.encode(), "run_autograder": templates.RUN_AUTOGRADER.encode(),
             "assignment.toml": assignment.to_toml().encode(), name: data}
    return _zip_bytes(files, executable={"setup.sh", "run_autograder"})


def write_gradescope(assignment: Assignment, out: str) -> None:
    """The zip at `out`, its folder made if missing (as the PrairieLearn question's folder is)."""
    data = gradescope_zip(assignment)
    folder = Path(out).parent
    if str(folder) not in ("", ".") and not folder.exists():
        try:
            folder.mkdir(parents=True)
        except OSError as err:
            raise GraphlangError("io", f"cannot make the folder {folder}: {err.strerror or err}") from None
    write_with(out, lambda fh: fh.write(data))


def _gradable(p: Path, folder: Path) -> bool:
    """A submitted .json or .cg file: not a hidden file or one in a hidden folder (macOS zips add
    `__MACOSX/._answers.json`), and not a symlink (it could point at the course's own files)."""
    parts = p.relative_to(folder).parts
    return p.suffix.lower() in (".json", ".cg") and not p.is_symlink() and p.is_file() and \
        not any(part.startswith(".") or part == "__MACOSX" for part in parts)


MAX_DEPTH = 32  # folders inside the submission that are looked into
MAX_ENTRIES = 10_000  # files and folders looked at


def _entries(folder: Path) -> list[Path]:
    """Every file, link and other non-folder under `folder`, without recursion and without following
    links, at most MAX_DEPTH folders down and MAX_ENTRIES in all (a submission is a student's: a
    folder 1,100 deep made `rglob` fail and the runner report "could not run graphlang")."""
    out: list[Path] = []
    stack = [(folder, 0)] if folder.is_dir() and not folder.is_symlink() else []
    seen = 0
    while stack:
        here, depth = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                return sorted(out)
            if e.is_dir(follow_symlinks=False):
                if depth + 1 < MAX_DEPTH:
                    stack.append((Path(e.path), depth + 1))
            else:
                out.append(Path(e.path))
    return sorted(out)


def run_gradescope(root: str | Path) -> dict[str, Any]:
    """Grade `ROOT/submission/` with `ROOT/source/assignment.toml`; write and return results.json."""
    root = Path(root)
    asg = Assignment.load(root / "source" / "assignment.toml")
    folder = root / "submission"
    entries = _entries(folder)
    found = [p for p in entries if _gradable(p, folder)]
    asked = {"answers": ".json", "program": ".cg"}.get(asg.submit)
    mine = [p for p in found if asked is not None and p.suffix.lower() == asked]
    if len(found) > 1 and len(mine) == 1:  # the answers beside a scratch program: the asked kind is graded
        report = _graded_alone(asg, mine[0])
        report.feedback.append(f"graded {mine[0].name}; not graded: "
                               + ", ".join(p.name for p in found if p != mine[0])[:200]
                               + f" (this assignment grades {asg.submit})")
    elif len(found) == 1:
        report = _graded_alone(asg, found[0])
    else:
        report = Report(show_expected=asg.show_expected)
        ignored = [p.relative_to(folder).as_posix() for p in entries if not _gradable(p, folder)]
        one = {"answers": "one .json file (answers)", "program": "one .cg file (a program)"}.get(
            asg.submit, "one .json or one .cg file")
        why = (f"no .json (answers) or .cg (program) file was submitted: submit {one}" if not found else
               f"{len(found)} gradable files were submitted ({', '.join(p.name for p in found[:5])}); "
               f"submit exactly {one}")
        if not found and ignored:  # what was there, and why it was not graded
            why += (f" (ignored: {', '.join(ignored[:5])}{', ...' if len(ignored) > 5 else ''}: other kinds of "
                    "file, hidden files, macOS zip folders and links are not graded)")
        report.items.append(Item("submission", asg.max_score, message=why))
        report.feedback.append(why)
    results = report.to_gradescope(asg.visibility)
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    write_text(str(results_dir / "results.json"), json.dumps(results, indent=1, allow_nan=False) + "\n")
    return results


def _graded_alone(asg: Assignment, path: Path) -> Report:
    """One submission graded as a batch grades it: in a worker process under the assignment's time
    and memory limits (graded in this process, a slow submission held Gradescope's runner until
    its own timeout and no results.json was written)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / (path.stem + path.suffix.lower())  # answers.JSON is answers too
        with path.open("rb") as fh:  # no more than a batch reads (a 3 GB file took 3.2 GB whole)
            copy.write_bytes(fh.read(1_000_001))
        row = next(iter(grade_batch(asg.reference, tmp, asg.at, asg.batch_options(), timeout=asg.timeout,
                                    memory_mb=asg.memory_mb, jobs=1, max_score=asg.max_score)))
    report = Report(show_expected=asg.show_expected, feedback=list(row.get("feedback", [])),
                    root_cause=row.get("root_cause"), total=asg.max_score)
    if row["status"] == "graded":
        report.items = [Item(i["name"], i["max_score"], i["score"], i["passed"], i["message"], ecf=i["ecf"])
                        for i in row["items"]]
    else:
        report.items = [Item("submission", asg.max_score, message=row["reason"])]
    return report


# --- PrairieLearn -----------------------------------------------------------------------------------
def answer_name(quantity: str) -> str:
    """A quantity as a PrairieLearn answers-name (an identifier): a, g_a, dy/dx -> dy_dx (as server.py)."""
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in quantity)


def prairielearn_files(asg: Assignment, folder: str = "") -> dict[str, str]:
    """The question directory's files, by name; the uuid from the assignment and the folder's name
    (two questions made from one assignment in two folders are two questions to PrairieLearn)."""
    if asg.submit == "program":  # (its server grades the answers typed into the question)
        raise GraphlangError("usage", 'PrairieLearn questions take answers: this assignment says submit = "program"',
                             hint='use the Gradescope bundle for program submissions, or submit = "answers"')
    result = asg.reference.evaluate(asg.at)
    tensor = next((n for n, v in result.values.items() if np.ndim(v) != 0), None)
    if tensor is not None:  # (a node's, not only an input's: a literal matrix A = [[…]] counts, a TA's find)
        raise GraphlangError("usage", "PrairieLearn questions are made for scalar programs (one number per "
                             f"node); this reference's {tensor} has shape {list(np.shape(result.values[tensor]))}",
                             hint="use the Gradescope bundle or `graphlang check` for tensor assignments")
    names = {q: answer_name(q) for q in asg.quantities}
    if len(set(names.values())) != len(names):
        seen: dict[str, str] = {}
        a, b = next((seen[n], q) for q, n in names.items() if seen.setdefault(n, q) != q)
        raise GraphlangError("usage", f"two asked quantities, {a!r} and {b!r}, map to the same PrairieLearn answer "
                             f"name {names[a]!r}", hint="rename the node in the reference, or leave one of them "
                                                        "out of ask")
    digest = hashlib.sha256((asg.to_toml() + (f"\0{folder}" if folder else "")).encode()).hexdigest()
    info = {"uuid": str(uuid.UUID(digest[:32])), "title": asg.title or "Backpropagation by hand",
            "topic": "Backpropagation", "tags": ["graphlang", "backprop"], "type": "v3"}
    return {"info.json": json.dumps(info, indent=2) + "\n",
            "question.html": templates.question_html(asg, names, _dot(asg)),
            "server.py": templates.SERVER_PY,
            "assignment.toml": asg.to_toml()}


def write_prairielearn(asg: Assignment, directory: str) -> list[Path]:
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise GraphlangError("io", f"-o {directory}: not a directory")
    files, kept = prairielearn_files(asg, d.resolve().name), _uuid_of(d / "info.json")  # (refused: no folder left)
    d.mkdir(parents=True, exist_ok=True)
    if kept is not None:  # a question made again (a typo, the points) stays the same question for PrairieLearn
        files["info.json"] = json.dumps({**json.loads(files["info.json"]), "uuid": kept}, indent=2) + "\n"
    out = []
    for name, text in files.items():
        write_text(str(d / name), text)
        out.append(d / name)
    return out


def _uuid_of(info: Path) -> str | None:
    """The uuid of a question folder's info.json, if it has a valid one: PrairieLearn knows a question
    (and the students' submissions to it) by it, so writing the folder again keeps it."""
    try:
        return str(uuid.UUID(str(json.loads(info.read_text(encoding="utf-8"))["uuid"])))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _dot(asg: Assignment) -> str:
    prog = asg.reference
    lines = ["digraph G {", "  rankdir=LR;"]
    for n in prog.inputs:  # the course's conventions: rectangles, rounded for inputs
        lines.append(f'  {n} [shape=box, style=rounded, label="{n}"];')
    for st in prog.graph.statements:
        label = to_text(st.expr, "math") if st.expr is not None else ""  # the function in the box
        lines.append(f'  {st.name} [shape=box, label="{label}", xlabel="{st.name}"];')
        for dep in dict.fromkeys(_reads(st.expr)):
            lines.append(f"  {dep} -> {st.name};")
    return "\n".join(lines + ["}"])


def _reads(expr: Any) -> list[str]:
    out, stack = [], [expr]
    while stack:
        e = stack.pop()
        if e is None:
            continue
        if e.op == "var":
            out.append(e.attr)
        stack.extend(reversed(e.args))
    return out
