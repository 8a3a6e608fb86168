"""An assignment file (`assignment.toml`): the reference, the point, what is asked, points and
comparisons per quantity, feedback visibility, program checks and limits. Everything is checked at
load (a usage error naming the file and the key); after that grading a submission never raises.

    title = "Backprop by hand"
    reference = "reference.cg"        # relative to this file; or reference_source = '''...'''
    at = { x = 2, z = 3 }
    ask = ["values", "adjoints", "gradient"]   # groups, or quantity names ("c", "g_b", "dy/dx")
    points = 1                        # per quantity
    show_expected = false             # reference values in the feedback (default: hidden)
    visibility = "visible"            # Gradescope's: visible, hidden, after_due_date, after_published
    ecf = true                        # credit errors carried forward (or a share: 0.5)
    fixed = ["t"]                     # labels: PrairieLearn keeps them; checks draw 0/1 or one-hot
    submit = "answers"                # by hand: a program scores 0; or "program", or "either" (the
                                      # default where a [program] table says how to check programs)
    [compare]                         # relabs (rtol, atol) | sigfig (digits) | decdig (digits)
    comparison = "sigfig"
    digits = 3
    [quantities."dy/dx"]              # per quantity: points and comparison
    points = 2
    [program]                         # program submissions
    check_points = 10
    same_signs = false                # true: checked points keep each input's sign (a problem on x > 0)
    weights = { parses = 0, inputs = 0 }   # points per check of a kind (parses, inputs, defines,
                                      # value, derivatives), times `points`; 1 each by default
    [limits]
    timeout = 10                      # seconds per submission
    memory_mb = 1024
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.grading import options as opts
from graphlang.grading import tangents, tomltext, worksheet
from graphlang.grading.answers_file import parse_answers
from graphlang.grading.checker import grade_answers, reference_at
from graphlang.grading.compare import Comparison
from graphlang.grading.programs import grade_program, reference_runs
from graphlang.grading.quantities import canonical, default_quantities, node_adjoints, node_values
from graphlang.grading.report import VISIBILITY, Report
from graphlang.grading.sheet import sheet_for
from graphlang.limits import Limits
from graphlang.program import Program, parse, read_source

GROUPS = ("values", "adjoints", "gradient")  # (the default; "tangents" too on request)
TOP = {"title", "reference", "reference_source", "at", "ask", "points", "max_score", "show_expected",
       "visibility", "ecf", "fixed", "submit", "compare", "quantities", "program", "limits"}
COMPARE_KEYS = {"comparison", "rtol", "atol", "digits"}


@dataclass
class Assignment:
    """A graded assignment. `Assignment.load("assignment.toml")`, then `.grade_answers(dict)`,
    `.grade_program(source)` or `.grade_text(text, filename)`; `.max_score` is the same for all."""

    reference: Program
    at: dict[str, Any]
    quantities: list[str] = field(default_factory=list)
    points: dict[str, float] = field(default_factory=dict)
    default_points: float = 1.0
    comparison: Comparison = field(default_factory=lambda: Comparison("relabs", 1e-5, 1e-8))
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    show_expected: bool = False
    visibility: str = "visible"
    ecf: bool | float = True  # or the share of a carried-forward step's points (0.5: half)
    fixed: list[str] = field(default_factory=list)  # labels: PrairieLearn keeps them, checks draw 0/1
    submit: str = "either"  # "answers" (by hand), "program", or either (an assignment file: answers, or
    # either where it has a [program] table; `check REF.cg` without one grades what it is given)
    check_points: int = opts.CHECK_POINTS
    seed: int = 0
    required: list[str] = field(default_factory=list)
    program_rtol: float = 1e-6
    program_atol: float = 1e-9
    same_signs: bool = False
    program_weights: dict[str, float] = field(default_factory=dict)
    timeout: float = 10.0
    memory_mb: int = 1024
    title: str = ""
    max_score: float = 0.0

    def __post_init__(self) -> None:
        opts.batch_options(self.timeout, self.memory_mb)
        opts.submit_kind(self.submit)
        opts.program_options(self.check_points, self.seed, self.program_rtol, self.program_atol,
                             self.required, 1.0, None, same_signs=self.same_signs)
        self.program_weights = opts.check_weights(self.program_weights, self.required, bool(self.reference.inputs))
        opts.of_reference("fixed", self.fixed, self.reference.inputs, self.reference.names)
        opts.of_reference("required", self.required, self.reference.inputs, self.reference.names)
        if self.submit != "answers":  # (its programs are held to the strict limits: so must a copy of it be)
            reference_runs(self.reference, self.at, Limits.strict())
        if self.visibility not in VISIBILITY:
            raise GraphlangError("usage", f"visibility must be one of {', '.join(VISIBILITY)}")
        prog, result, adj = reference_at(self.reference, self.at)
        if not self.quantities:
            self.quantities = default_quantities(self.reference, result.adjoints is not None,
                                                 result.extra.get("no_adjoint", []))
        asked = {canonical(q, prog, adj.prefix) for q in self.quantities}
        for name in [*self.points, *self.comparisons]:
            if canonical(name, prog, adj.prefix) not in asked:
                near = [q for q in self.quantities if q.lower() == name.lower()] or \
                    difflib.get_close_matches(name, self.quantities, 1, 0.6)
                raise GraphlangError("usage", f"[quantities.{name!r}]: not a quantity asked by this assignment",
                                     hint=f"did you mean {near[0]!r}?" if near else "the quantities asked: "
                                     + ", ".join(self.quantities[:12]) + (", …" if len(self.quantities) > 12 else ""))
        blank = grade_answers(self.reference, {}, self.at, **self.answers_options())
        labels = [i.name for i in blank.items]  # "∂y/∂x" and "g_x" both become "dy/dx"
        rename = {canonical(q, prog, adj.prefix): q for q in labels}
        self.points = {rename.get(canonical(k, prog, adj.prefix) or k, k): v for k, v in self.points.items()}
        self.comparisons = {rename.get(canonical(k, prog, adj.prefix) or k, k): v for k, v in self.comparisons.items()}
        self.quantities = labels
        self.max_score = float(self.max_score or blank.max_score)

    def key(self) -> dict[str, Any]:
        """The correct answers, in the format `graphlang check --answers` reads."""
        return worksheet.key(self.reference, self.reference.evaluate(self.at), self.quantities)

    def worksheets(self) -> dict[str, str]:
        """worksheet.md and worksheet.tex of what this assignment asks (its quantities, precision, the
        kind of submission, its labels) and key.json (`graphlang exercise --assignment`)."""
        if self.submit != "answers":  # (the sheet prints the reference: a program handed back scored full marks)
            raise GraphlangError("usage", 'a worksheet prints the reference program, and this assignment takes '
                                 f'a program (submit = "{self.submit}"): '
                                 'the students could hand it back as it stands', hint='add submit = "answers" to '
                                 'the assignment (a by-hand homework: a .cg then scores 0, saying why); for a '
                                 'program homework describe the function in your own words, not with a worksheet')
        sheet = dataclasses.replace(sheet_for(self.reference, self.quantities, self.comparison.expects()
                                              + self.comparison.why()), graded=True)
        title, args = self.title or "Backpropagation by hand", (self.reference, self.at)
        return {"worksheet.md": worksheet.markdown(*args, title, self.fixed, sheet),
                "worksheet.tex": worksheet.latex(*args, title, self.fixed, sheet),
                "answers_template.json": json.dumps(worksheet.template(*args, self.quantities), indent=1,
                                                    ensure_ascii=False) + "\n",
                "key.json": json.dumps(self.key(), indent=1, ensure_ascii=False) + "\n"}

    # --- grading -------------------------------------------------------------------------------
    def answers_options(self) -> dict[str, Any]:
        """`grade_answers`' keyword options for this assignment (also for `grade_batch`)."""
        return {"points": {**{q: self.default_points for q in self.quantities}, **self.points},
                "quantities": list(self.quantities), "comparison": self.comparison,
                "comparisons": dict(self.comparisons), "ecf": self.ecf, "show_expected": self.show_expected}

    def program_options(self) -> dict[str, Any]:
        """`grade_program`' keyword options: its checks share the assignment's maximum."""
        return {"n_points": self.check_points, "seed": self.seed, "rtol": self.program_rtol,
                "atol": self.program_atol, "required": list(self.required), "same_signs": self.same_signs,
                "show_expected": self.show_expected, "max_score": self.max_score,
                "weights": dict(self.program_weights), "fixed": list(self.fixed)}

    def batch_options(self) -> dict[str, Any]:
        """`grade_batch`'s options: both kinds' and which kinds are graded."""
        return {"answers": self.answers_options(), "program": self.program_options(), "submit": self.submit}

    def grade_answers(self, answers: Mapping[str, Any]) -> Report:
        why = opts.wrong_kind(self.submit, False)
        if why is not None:
            return self.grade_program(b"").refused(*why)
        return _to_max(grade_answers(self.reference, answers, self.at, **self.answers_options()), self.max_score)

    def grade_program(self, source: str | bytes) -> Report:
        why = opts.wrong_kind(self.submit, True)
        if why is not None:
            return self.grade_answers({}).refused(*why)
        return grade_program(self.reference, source, self.at, **self.program_options())

    def grade_text(self, text: str | bytes, filename: str) -> Report:
        """A submitted file's contents: a program if `filename` ends in .cg, else JSON answers."""
        if filename.lower().endswith(".cg"):  # (answers.JSON, mine.CG: as a batch and Gradescope read them)
            report = self.grade_program(text)  # bytes decoded as a batch decodes them
        else:
            answers, why = parse_answers(text, filename)
            report = self.grade_answers(answers or {})
            if why and not opts.wrong_kind(self.submit, False):
                report.feedback.insert(0, why)
        report.feedback = opts.fitted(report.feedback, self.submit)
        return report

    # --- reading -------------------------------------------------------------------------------
    def to_table(self) -> dict[str, Any]:
        """The assignment as a self-contained table (the reference inlined): `tomltext.dumps` writes it."""
        def cmp(c: Comparison) -> dict[str, Any]:
            return {"comparison": c.kind, "digits": c.digits} if c.kind != "relabs" else \
                {"comparison": "relabs", "rtol": float(c.rtol), "atol": float(c.atol)}
        per: dict[str, dict[str, Any]] = {}
        for q, p in self.points.items():
            per.setdefault(q, {})["points"] = float(p)
        for q, c in self.comparisons.items():
            per.setdefault(q, {}).update(cmp(c))
        at = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in self.at.items()}
        return {"title": self.title, "reference_source": self.reference.source, "at": at,
                "ask": list(self.quantities), "points": float(self.default_points),
                "max_score": float(self.max_score), "show_expected": self.show_expected,
                "visibility": self.visibility, "ecf": self.ecf, **({"fixed": list(self.fixed)} if self.fixed else {}),
                "submit": self.submit,
                "compare": cmp(self.comparison),
                **({"quantities": per} if per else {}),
                "program": {"check_points": self.check_points, "seed": self.seed, "required": list(self.required),
                            "rtol": float(self.program_rtol), "atol": float(self.program_atol),
                            "same_signs": self.same_signs,
                            **({"weights": dict(self.program_weights)} if self.program_weights else {})},
                "limits": {"timeout": float(self.timeout), "memory_mb": self.memory_mb}}

    def to_toml(self) -> str:
        return tomltext.dumps(self.to_table(), header="# A graphlang assignment (graphlang check --assignment)")

    @classmethod
    def load(cls, path: str | Path, label: str | None = None) -> Assignment:
        """Read an assignment file; a reference path in it is relative to the file. `label` begins
        each error's message (default: the path; "" for none, where the caller shows the path)."""
        p = Path(path)
        if not p.is_file():
            raise GraphlangError("usage", f"--assignment {path}: " + ("not a regular file" if p.exists()
                                                                      else "no such file"))
        return cls.from_toml(p.read_text(encoding="utf-8", errors="replace"), p.parent,
                             str(path) if label is None else label)

    @classmethod
    def from_toml(cls, text: str, base: str | Path = ".", label: str = "the assignment") -> Assignment:
        try:
            data = tomltext.loads(text)
        except tomltext.TOMLDecodeError as err:
            m = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
            line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
            what = f"{label} is not" if label else "not"
            raise GraphlangError("usage", f"{what} valid TOML: {str(err).split(' (at ')[0]}", line, col) from None
        return cls.from_dict(data, base, label)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: str | Path = ".", label: str = "the assignment"
                  ) -> Assignment:
        try:
            return cls(**_fields(data, Path(base)))
        except GraphlangError as err:
            if err.origin is not None:
                raise
            raise GraphlangError("usage", f"{label}: {err.message}" if label else err.message, hint=err.hint) from None


def _to_max(report: Report, max_score: float) -> Report:
    return report.scaled(max_score) if report.max_score and report.max_score != max_score else report


def _table(data: Mapping[str, Any], key: str, allowed: set[str]) -> dict[str, Any]:
    t = data.get(key, {})
    if not isinstance(t, Mapping):
        raise GraphlangError("usage", f"[{key}] must be a table")
    unknown = sorted(set(t) - allowed)
    if unknown:
        raise GraphlangError("usage", f"[{key}]: unknown key(s) {', '.join(unknown)}",
                             hint="keys: " + ", ".join(sorted(allowed)))
    return dict(t)


def _fields(data: Mapping[str, Any], base: Path) -> dict[str, Any]:
    unknown = sorted(set(data) - TOP)
    if unknown:
        raise GraphlangError("usage", f"unknown key(s) {', '.join(unknown)}", hint="keys: " + ", ".join(sorted(TOP)))
    if ("reference" in data) == ("reference_source" in data):
        raise GraphlangError("usage", "give the reference program once: reference = \"file.cg\" or "
                             "reference_source = '''...'''")
    if "reference_source" in data:
        where, text = "reference_source", _text(data["reference_source"], "reference_source")
    else:
        path = base / _text(data["reference"], "reference")
        where, text = str(path), read_source(path, Limits())
    try:
        ref = parse(text, limits=Limits(), path=None if where == "reference_source" else where)
    except GraphlangError as err:  # located in the reference, not in the assignment file
        located = GraphlangError("usage", f"the reference program has an error: {err.kind} error: {err.message}",
                                 err.line, err.column, err.hint)
        located.origin = (where, text)
        raise located from None
    at = data.get("at", {})
    if not isinstance(at, Mapping):
        raise GraphlangError("usage", "at must be a table of input values: at = { x = 2, z = 3 }")
    out: dict[str, Any] = {"reference": ref, "at": dict(at), "title": _text(data.get("title", ""), "title")}
    out["quantities"] = _asked(ref, dict(at), data.get("ask", list(GROUPS)), data.get("fixed", ()))
    out["default_points"] = opts.number("points", data.get("points", 1.0), 0.0, opts.MAX_SCORE, open_low=True)
    if "show_expected" in data and not isinstance(data["show_expected"], bool):
        raise GraphlangError("usage", "show_expected must be true or false")
    if "show_expected" in data:
        out["show_expected"] = data["show_expected"]
    if "ecf" in data:  # true, false, or the share of a carried-forward step's points
        opts.ecf_credit(data["ecf"])
        out["ecf"] = data["ecf"]
    if "visibility" in data:
        out["visibility"] = data["visibility"]
    if "fixed" in data:
        out["fixed"] = opts.names("fixed", data["fixed"])
    # what is graded: as said, else answers worked by hand, and programs too only where a [program] table
    # says how to check them (an autograder red team's find: the reference program, printed on the
    # worksheet, scored full marks on a by-hand homework when handed back as a .cg)
    out["submit"] = opts.submit_kind(data.get("submit", "either" if "program" in data else "answers"))
    if "max_score" in data:
        out["max_score"] = opts.number("max_score", data["max_score"], 0.0, opts.MAX_SCORE * 1000, open_low=True)
    out["comparison"] = Comparison.from_mapping(_table(data, "compare", COMPARE_KEYS), where="[compare] ")
    per = data.get("quantities", {})
    if not isinstance(per, Mapping):
        raise GraphlangError("usage", "[quantities] must be a table of tables")
    out["points"], out["comparisons"] = {}, {}
    for name in per:
        t = _table(per, name, COMPARE_KEYS | {"points"})
        if "points" in t:
            out["points"][name] = opts.number(f"[quantities.{name!r}] points", t.pop("points"), 0.0, opts.MAX_SCORE)
        if t:
            out["comparisons"][name] = Comparison.from_mapping(t, out["comparison"], f"[quantities.{name!r}] ")
    prog = _table(data, "program", {"check_points", "seed", "required", "rtol", "atol", "same_signs", "weights"})
    for key, attr in (("check_points", "check_points"), ("seed", "seed"), ("required", "required"),
                      ("rtol", "program_rtol"), ("atol", "program_atol"), ("same_signs", "same_signs"),
                      ("weights", "program_weights")):
        if key in prog:
            out[attr] = prog[key]
    out.update(_table(data, "limits", {"timeout", "memory_mb"}))
    return out


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise GraphlangError("usage", f"{key} must be a string")
    return value


def _asked(ref: Program, at: dict[str, Any], ask: Any, fixed: Any = ()) -> list[str]:
    """The quantities asked, groups expanded, in the template's order."""
    names = opts.names("ask", ask)
    if not names:  # (graded as "ask everything", silently: a TA's find)
        raise GraphlangError("usage", "ask = [] asks for nothing", hint='leave ask out for every value, adjoint and '
                             'gradient, or list groups or names: ask = ["values", "g_b", "dy/dx"]')
    result = reference_at(ref, at)[1]
    values = node_values(ref)
    group = {"values": values, "adjoints": node_adjoints(ref, values, result.extra.get("no_adjoint", [])),
             "gradient": [f"d{ref.outputs[0]}/d{n}" for n in ref.inputs  # (no derivative by a label: README)
                          if not (isinstance(fixed, (list, tuple)) and n in fixed)],
             "tangents": tangents.group(ref, at, fixed)}
    if result.adjoints is None and any(g in names for g in ("adjoints", "gradient")):
        raise GraphlangError("usage", "ask: adjoints and gradients are defined for a scalar output only; "
                             "this reference's output is not one")
    out: list[str] = []
    for n in names:
        out += group.get(n, [n])
    return list(dict.fromkeys(out))
