"""What the web front end computes, without the web: the answers of `POST /api/run` (exactly what
`graphlang run/grad/tangents --strict --json` print, errors included) and the lesson bundle the page
draws (the run, the graph, the explain lines, the ε sweep). Every JSON object comes from
`present/jsonout.py`; this module only decides which one, as the CLI commands do.

It runs inside the worker processes (`pool.py`) and in `graphlang html`, so it imports no web
framework. Nothing here reads or writes a file: the program arrives as text.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from graphlang import gradcheck as gc
from graphlang.errors import GraphlangError
from graphlang.ir.bind import unit_seed
from graphlang.language.atvalues import (
    MAX_AT_DEPTH,
    TOO_SMALL_HINT,
    Duplicate,
    TooSmall,
    duplicates_refused,
    json_float,
    parse_at,
    wrt_names,
)
from graphlang.limits import Limits
from graphlang.present import explain as ex
from graphlang.present import jsonout
from graphlang.program import AUTO, METHODS, Program, parse, unknown_method
from graphlang.web.layout import layout

LIMITS = Limits.strict()  # the checker's limits: the server runs programs from anyone
DRAW_LIMIT = 200  # nodes drawn, explained and swept in the page; larger programs get the tables only
SWEEP_WORK = 2_000  # input elements × nodes for the ε sweep (two forward passes per element and ε)
RUN_KEYS = ("program", "at", "method", "wrt", "epsilon", "direction")
LESSON_KEYS = ("program", "at")
PROGRAM_PATH = "program.cg"  # the name located messages give the editor's text


def _usage(message: str, hint: str | None = None) -> GraphlangError:
    return GraphlangError("usage", message, hint=hint)


def request(body: bytes, keys: tuple[str, ...]) -> dict[str, Any]:
    """A request body: a JSON object with a `program` string and only known keys."""
    try:
        obj = json.loads(body.decode("utf-8"), parse_float=json_float, object_pairs_hook=duplicates_refused)
    except RecursionError:
        raise GraphlangError("limit", "the request nests too deeply") from None
    except TooSmall as small:  # (as --at and --at-file: 1e-400 is no silent 0)
        raise _usage(f"{small.args[0]} is too small for float64 (it would be 0)",
                     hint=TOO_SMALL_HINT) from None
    except Duplicate as dup:  # (json keeps the last of two "program"s without a word)
        raise _usage(f"the request gives {dup.args[0]!r} twice", hint="each key once") from None
    except ValueError as err:  # (an integer of 5,000 digits is JSON Python will not read: said as such)
        if "integer string conversion" in str(err):
            raise GraphlangError("limit", "the request has an integer of more than 4,300 digits",
                                 hint="give numbers as float64 holds them (at most ±1.8e308)") from None
        raise _usage("the request body is not JSON", hint='send {"program": "y = x^2", "at": "x=3"}') from None
    if not isinstance(obj, dict):
        raise _usage("the request body must be a JSON object", hint='{"program": "y = x^2", "at": "x=3"}')
    try:  # a lone surrogate ("\udc80") decodes from JSON but is no text: echoed back, it failed as a 500
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise _usage("the request holds a lone surrogate escape (\\ud800–\\udfff), which is not text",
                     hint="send the program and values as plain Unicode text") from None
    unknown = [k for k in obj if k not in keys]
    if unknown:
        raise _usage(f"unknown field {unknown[0][:40]!r}", hint="fields: " + ", ".join(keys))
    if not isinstance(obj.get("program"), str):
        raise _usage('"program" must be the program\'s text (a string)')
    return obj


def values(at: Any, what: str = "at") -> dict[str, Any]:
    """`"x=2,z=3"` (as `--at` takes it) or `{"x": 2, "W": [[1, 0], [0, 1]]}` (as `--at-file`)."""
    if at is None:
        return {}
    if isinstance(at, str):
        return parse_at([at]) if at.strip() else {}
    if isinstance(at, dict):
        stack = [(v, 1) for v in at.values()]
        while stack:  # as deep as --at-file allows, checked without recursion
            item, depth = stack.pop()
            if isinstance(item, list):
                if depth > MAX_AT_DEPTH:
                    raise GraphlangError("limit", f'"{what}" nests deeper than {MAX_AT_DEPTH} levels')
                stack.extend((x, depth + 1) for x in item)
        return dict(at)
    raise _usage(f'"{what}" must be a string such as "x=2,z=3" or an object such as {{"x": 2, "z": 3}}')


def load(source: str, limits: Limits = LIMITS) -> Program:
    """The program under the strict limits (a leading byte-order mark dropped, as files are read)."""
    if len(source) > limits.max_source_chars and len(source.encode("utf-8")) > limits.max_source_chars:
        raise GraphlangError("limit", f"{PROGRAM_PATH} is larger than {limits.max_source_chars:,} bytes")
    return parse(source, limits=limits, path=PROGRAM_PATH)  # (parse drops a leading BOM)


def _wrt(wrt: Any) -> list[str] | None:
    if wrt is None:
        return None
    if isinstance(wrt, str):
        return wrt_names(wrt)  # (as --wrt reads it: W2[1,2] is one name)
    if isinstance(wrt, list) and all(isinstance(w, str) for w in wrt):
        return wrt or None
    raise _usage('"wrt" must be a string such as "x,z" or a list of input names')


def _epsilon(eps: Any) -> float | None:
    if eps is None:
        return None
    if isinstance(eps, bool) or not isinstance(eps, int | float):
        raise _usage('"epsilon" must be a number')
    try:
        return float(eps)
    except OverflowError:  # an integer of 400 digits: past float64, as --epsilon 1e400 is
        raise _usage('"epsilon" is past float64\'s range (±1.8e308)') from None


def run(req: dict[str, Any], limits: Limits = LIMITS, loaded: Program | None = None) -> dict[str, Any]:
    """`run --json` (no method), `grad -m METHOD --json`, or with a direction `tangents --json`.

    The checks come in the CLI's order, so a request with two problems reports the CLI's one.
    `loaded`: the request's program, already parsed under `limits` (a lesson page asks once per
    method and input: parsing it each time was most of `html` on 500 inputs).
    """
    method, direction = req.get("method"), req.get("direction")
    names, eps = _wrt(req.get("wrt")), _epsilon(req.get("epsilon"))  # malformed options first, as typer does
    if direction is not None:  # grad --direction: forward mode's table of tangents
        prog = loaded or load(req["program"], limits)
        vals = values(req.get("at"))
        seed = values(direction, "direction") or (unit_seed(prog.graph, prog.bind(vals)[1], prog.inputs[0])
                                                  if prog.inputs else {})
        return jsonout.tangents(seed, prog.tangents(vals, seed))
    if method is None:  # `run`: wrt and epsilon are grad's options (ignored, "wrt": "q" answered 200)
        if names is not None or eps is not None:
            raise _usage(f'"{"wrt" if names is not None else "epsilon"}" needs a "method" (as --wrt needs grad)',
                         hint='add "method": "reverse" (or forward, symbolic, fd)')
        prog = loaded or load(req["program"], limits)
        return jsonout.result(prog.evaluate(values(req.get("at"))))
    if method not in METHODS and method != AUTO:
        raise unknown_method(method)
    prog, vals = (loaded or load(req["program"], limits)), values(req.get("at"))
    result = prog.evaluate(vals, method=method, wrt=names, epsilon=eps, adjoints=True)
    obj = jsonout.result(result, method=True)
    caution = gc.fd_caution(prog, vals, result)  # fd off from the exact value: why (the CLI says it on stderr)
    return {**obj, "caution": caution} if caution else obj


def guarded(fn: Any, *args: Any) -> tuple[Any, GraphlangError | None]:
    """(the answer, None), or ({"error": ...}, the error) for anything a user can cause."""
    try:
        return fn(*args), None
    except GraphlangError as err:
        problem = err
    except RecursionError:
        problem = GraphlangError("limit", "the input nests too deeply")
    except MemoryError:
        problem = GraphlangError("limit", "out of memory: the program or its values are too large")
    return jsonout.error(problem), problem


def answer(req: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """`POST /api/run`: the HTTP status (200, 400 usage, 422 program error) and the CLI's JSON."""
    obj, err = guarded(run, req)
    return (200 if err is None else 400 if err.kind == "usage" else 422), obj


# The CLI's option in a library message, and the page's words for it (a field per input).
_PAGE_WORDS = ((re.compile(r"give (?:it|e|T) with --at [\w=.,]*\w=\.\.\.(?:,\.\.\.)?"),
                "type its value in its input field"),
               (re.compile(r"declared or given with --at"), "declared, or as typed in the input fields"),
               (re.compile(r"e\.g\. --at \w+="), "e.g. "), (re.compile(r"from --at\b"), "from their input fields"),
               (re.compile(r"\(--at (\w+)=([^)\s]+)\)"), r"(\2 in the field of \1)"),
               (re.compile(r"\bin --at\b"), "in the input fields"),
               (re.compile(r"write --at \S*name=value\S*"), "type a number or a bracketed list in each field: 2, or "
                "[1, 2, 3], or [[1, 0], [0, 1]]"),
               (re.compile(r"^--at ('[^']*'): "), r"the values \1: "), (re.compile(r"--at\b"), "the input fields"))


def page_words(text: str) -> str:
    """A library message in the page's words: its inputs are typed in fields, not given with --at."""
    for pattern, words in _PAGE_WORDS:
        text = pattern.sub(words, text)
    return text


def _located(err: GraphlangError, source: str) -> dict[str, Any]:
    err = GraphlangError(err.kind, page_words(err.message), err.line, err.column, err.hint and page_words(err.hint))
    return jsonout.located_error(err, PROGRAM_PATH, source)


def at_text(at: Any) -> str:
    """The point as `--at` text (for the share link), from either form of `at`."""
    if isinstance(at, str):
        return at.strip()
    if isinstance(at, dict):
        return ",".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in at.items())
    return ""


def lesson(req: dict[str, Any], precompute: bool = False, limits: Limits = LIMITS) -> dict[str, Any]:
    """Everything the stepping view shows for one program and point.

    `run` is `/api/run`'s answer; `error` the located message of the first problem; `inputs` the
    input names (null when the program does not parse); `graph` the
    nodes and edges (also when the values are wrong, so the page can still draw); `explain` the
    lines of `graphlang explain --json`; `sweep` the ε sweep of `gradcheck --sweep --json`. With
    `precompute` (`graphlang html`: no server to ask later), also every method's `grad --json` and
    the tangents along each scalar input's axis.
    """
    source = req["program"]
    out: dict[str, Any] = {"program": source, "at": at_text(req.get("at")), "inputs": None, "shapes": {},
                           "run": None, "error": None, "graph": None, "explain": None, "sweep": None,
                           "methods": None, "directions": None, "draw_limit": DRAW_LIMIT}
    prog, err = guarded(load, source, limits)
    if err is not None:
        out["run"], out["error"] = prog, _located(err, source)
        return out
    assert isinstance(prog, Program)
    out["inputs"] = prog.inputs
    out["shapes"] = {n: list(s) if s is not None else None for n, s in prog.checked.declared.items()}
    small = len(prog.names) <= DRAW_LIMIT
    drawing = jsonout.graph(prog) if small else None
    vals, err = guarded(values, req.get("at"))
    if err is None:
        out["run"], err = guarded(lambda: jsonout.result(prog.evaluate(vals)))
    if drawing is not None:  # (also when the values are wrong: the page still draws, without numbers)
        out["graph"] = {**drawing, "layout": layout(drawing, out["run"] if err is None else None)}
    else:  # too large to draw: what each node computes, for the tables (their column was blank)
        out["definitions"] = {n: prog.definition(n) for n in prog.names}
    if err is not None:
        out["run"], out["error"] = jsonout.error(err), _located(err, source)
        return out
    if small:
        out["explain"], _ = guarded(lambda: jsonout.explain(ex.explain(prog, vals), prog.limits))
        if "gradient" in out["run"] and _count(vals, SWEEP_WORK) * len(prog.names) <= SWEEP_WORK:
            out["sweep"], _ = guarded(_sweep, prog, vals)
    if precompute:  # the page holds the run once per method and per direction: bounded as --json is
        copies = 1 + len(METHODS) + len(prog.inputs)
        if _count(out["run"]) * copies > limits.max_json_numbers:
            raise GraphlangError("limit", f"the page would hold more than {limits.max_json_numbers:,} numbers "
                                 f"(the values and adjoints {copies} times: each method and direction)",
                                 hint="use smaller tensors for a lesson page, or raise the limit with "
                                      "--limit max_json_numbers=N")
        out["methods"] = {m: guarded(run, {**req, "method": m}, limits, prog)[0] for m in METHODS}
        shapes = prog.bind(vals)[1]  # (each input's first number: as the CLI's tangents)
        out["directions"] = {n: guarded(run, {**req, "direction": _listed(unit_seed(prog.graph, shapes, n))}, limits,
                                        prog)[0] for n in prog.inputs}
    return out


def _listed(seed: dict[str, Any]) -> dict[str, Any]:
    """A direction as a request gives it (lists, not arrays)."""
    return {k: v.tolist() if hasattr(v, "tolist") else v for k, v in seed.items()}


def _count(obj: Any, cap: float = math.inf) -> int:
    """The numbers in a JSON-ready object, counted up to past `cap` (no recursion: nested lists as
    deep as a tensor's axes)."""
    stack, n = [obj], 0
    while stack and n <= cap:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float | int) and not isinstance(item, bool):
            n += 1
    return n


def _sweep(prog: Program, vals: dict[str, Any]) -> dict[str, Any]:
    rows = gc.sweep(prog, vals)
    return jsonout.sweep(rows, gc.best(rows, "forward"), gc.best(rows, "central"))


def lesson_answer(req: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """`POST /api/lesson`: always 200 with the bundle (its `error` says what went wrong)."""
    return 200, lesson(req)
