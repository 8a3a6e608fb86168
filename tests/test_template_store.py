"""The templates kept across processes (language/store.py): a program parsed before is built
without Lark, exactly as Lark builds it; a damaged, foreign or full store changes no parse."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scalar_programs, tensor_programs

import graphlang
from graphlang.language import store, templates

PROGRAMS = sorted((ROOT / "programs").rglob("*.cg"))
# every instruction a template holds: names, numbers, each operator, unary minus, a transpose, an
# index (negative too), calls of one to three arguments, literals, declarations, outputs, brackets
# over several lines, comments and `;`
FORMS = """input x, z
param W[2, 3], b[2]
input v[3], s[]
a = x * z - 2.5e-1 / x ^ 2 + -z
m = [[1, 2, 3], [4, 5, -6]]
c = max(x, z) + xlogy(x, z) - sin(-x) ** 2
h = tanh(W @ v + b)
t = (m.T @ h)[0] + m[-1, 2] + h[1]   # a comment
u = concat(h, [x,
               z]); w = sum(u * 2)
y = a + c + t + w + s
output y
"""


def _parsed(text: str) -> list[str]:
    try:
        return [repr(st) for st in graphlang.parse(text).statements]
    except graphlang.GraphlangError as err:
        return [f"{err.kind} {err.line}:{err.column} {err.message}"]


def _in_a_fresh_cache(texts: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    """Each text parsed by Lark's templates (nothing kept), then with every template from the store."""
    with tempfile.TemporaryDirectory() as cache, pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRAPHLANG_CACHE_DIR", cache)
        saved = dict(templates._CACHE)
        try:
            templates._CACHE.clear()
            built = [_parsed(t) for t in texts]
            templates._CACHE.clear()
            store._read.cache_clear()  # (the file as the next process reads it)

            def no_lark(*args: object) -> None:  # (a statement Lark could not template fails again)
                no_lark.__wrapped__(*args)  # type: ignore[attr-defined]
                raise AssertionError("a template was built though the store holds it")
            no_lark.__wrapped__ = templates.template_of  # type: ignore[attr-defined]
            mp.setattr(templates, "template_of", no_lark)
            kept = [_parsed(t) for t in texts]
        finally:
            templates._CACHE.clear()
            templates._CACHE.update(saved)
            templates._CACHED_TOKENS = sum(len(k) for k in saved)
            store._read.cache_clear()
    return built, kept


def test_kept_templates_build_the_statements_lark_builds():
    texts = [p.read_text() for p in PROGRAMS] + [FORMS]
    built, kept = _in_a_fresh_cache(texts)
    assert kept == built
    assert all(not b[0].startswith(("syntax", "limit")) for b in built[-1:])  # (FORMS parses)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(scalar_programs(max_statements=8), tensor_programs()), min_size=1, max_size=4))
def test_kept_templates_of_random_programs_build_what_lark_builds(cases):
    built, kept = _in_a_fresh_cache([source for source, _ in cases])
    assert kept == built


def test_a_program_parsed_before_is_built_without_importing_lark(tmp_path):
    """The second process reads the lecture (and its derivative rules) from the store: Lark is never
    loaded, and the numbers are the first process's."""
    script = ("import sys, graphlang\n"
              "from graphlang.language.larklazy import lark, loaded\n"
              f"p = graphlang.parse(open({str(ROOT / 'programs' / 'lecture13.cg')!r}).read())\n"
              "r = p.evaluate({'x': 2, 'z': 3})\n"
              "print(repr(r.value), repr(r.gradient), [repr(s) for s in p.statements], loaded(lark))\n")
    env = {**os.environ, "GRAPHLANG_CACHE_DIR": str(tmp_path)}
    first, second = (subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                    check=True).stdout.rsplit(" ", 1) for _ in range(2))
    assert first[1].strip() == "True" and second[1].strip() == "False"
    assert first[0] == second[0]


def _store_file(tmp_path: Path) -> Path:
    return tmp_path / store.path().name


def _parsed_with_store(text_of_store: str | None, texts: list[str]) -> list[list[str]]:
    """The texts parsed in a fresh cache directory holding this store file (None: none)."""
    with tempfile.TemporaryDirectory() as cache, pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRAPHLANG_CACHE_DIR", cache)
        if text_of_store is not None:
            _store_file(Path(cache)).write_text(text_of_store)
        saved = dict(templates._CACHE)
        templates._CACHE.clear()
        store._read.cache_clear()
        try:
            got = [_parsed(t) for t in texts]
            kept = _store_file(Path(cache)).read_text() if _store_file(Path(cache)).exists() else None
        finally:
            templates._CACHE.clear()
            templates._CACHE.update(saved)
            templates._CACHED_TOKENS = sum(len(k) for k in saved)
            store._read.cache_clear()
    return got if text_of_store is not None else [kept]  # type: ignore[list-item]


def _signed(body: str) -> str:
    """A store file's text: the checksum line, then the JSON."""
    import hashlib
    return hashlib.sha256(body.encode()).hexdigest() + "\n" + body


def test_a_damaged_store_parses_nothing_wrong():
    """A file damaged by accident (truncated, a byte changed: its checksum no longer holds) is not
    read; a template that does not fit its tokens (an index past them, at the wrong kind of token, a
    number read twice, an instruction read by none) is built again by Lark. The statements are Lark's."""
    texts = [FORMS, (ROOT / "programs" / "lecture13.cg").read_text()]
    want, _ = _in_a_fresh_cache(texts)
    good = _parsed_with_store(None, texts)[0]
    assert isinstance(good, str) and _parsed_with_store(good, texts) == want
    body = good.partition("\n")[2]
    rng = random.Random(3)
    damaged = [good[: len(good) // 2], good.replace(":0,", ":1,", 1), _signed("[]"),
               _signed('{"lexer": 5, "templates": {}}'), _signed(json.dumps({**json.loads(body), "templates": 7}))]
    unfit = 0
    for _ in range(300):  # one number or list in one template changed, the checksum made again
        d = json.loads(body)
        key = rng.choice(sorted(d["templates"]))
        tpl = d["templates"][key]
        parent, i = tpl, rng.randrange(len(tpl))
        while isinstance(parent[i], list) and parent[i] and rng.random() < 0.7:
            parent, i = parent[i], rng.randrange(len(parent[i]))
        parent[i] = rng.choice([0, 1, 2, 5, 40, -1, None, "var", "op", [], [0], True, 2.5])
        if not store.fits(tpl, tuple(key.split(" "))):
            damaged.append(_signed(json.dumps(d)))
            unfit += 1
    assert unfit > 200
    for text in damaged:
        assert _parsed_with_store(text, texts) == want


def test_a_store_others_can_write_is_not_read(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHLANG_CACHE_DIR", str(tmp_path))
    store._read.cache_clear()
    store.keep(templates={("NAME", "EQUAL", "NAME"): ["assign", 0, 0, 2, 0, [], [["var", 2, 2]]]})
    f = _store_file(tmp_path)
    assert ("NAME", "EQUAL", "NAME") in store._load(f)["templates"]
    f.chmod(0o666)
    assert store._load(f)["templates"] == {}
    store._read.cache_clear()


def _kept(tmp_path: Path) -> list[tuple[str, ...]]:
    return list(store._load(_store_file(tmp_path))["templates"])


def test_the_store_is_bounded_and_starts_again_when_full(monkeypatch, tmp_path):
    """At most MAX_TEMPLATES sequences of at most LONGEST tokens: a statement longer is not kept, and
    when full the file holds what the process that filled it made (not the first comers forever: one
    batch of long student programs would have kept a course's own shapes out)."""
    monkeypatch.setenv("GRAPHLANG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(store, "MAX_TEMPLATES", 5)
    out = ["output", -1, 0, 2, 0, [], []]
    for k in range(12):
        store.keep(templates={("OUTPUT",) + ("NAME",) * (k + 1): out})
        assert 1 <= len(_kept(tmp_path)) <= 5
    assert ("OUTPUT",) + ("NAME",) * 12 in _kept(tmp_path)
    store.keep(templates={("OUTPUT",) + ("NAME",) * store.LONGEST: out})  # (65 tokens)
    assert len(max(_kept(tmp_path), key=len)) <= store.LONGEST
    store._read.cache_clear()


def test_a_long_program_of_one_line_statements_is_kept_too(monkeypatch, tmp_path):
    """Past 20,000 characters a program of one-line statements takes the fast lane (lines.py), whose
    shapes' templates are kept as well: the second process does not load Lark."""
    src = "input x, z\na0 = x * z\n" + "".join(f"a{i} = sin(a{i - 1} * x) + z\n" for i in range(1, 1500))
    (tmp_path / "long.cg").write_text(src + "y = a1499\n")
    script = ("import graphlang\nfrom graphlang.language.larklazy import lark, loaded\n"
              f"graphlang.parse(open({str(tmp_path / 'long.cg')!r}).read())\nprint(loaded(lark))\n")
    env = {**os.environ, "GRAPHLANG_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                           check=True).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]


def test_without_the_sources_nothing_is_kept_and_every_parse_works(monkeypatch, tmp_path):
    """An install of .pyc files only has no source to hash the store's name from: every parse
    crashed on reading it (a reviewer's find); now nothing is kept and Lark builds as before."""
    want = _in_a_fresh_cache([FORMS])[0][0]  # (Lark's)
    monkeypatch.setenv("GRAPHLANG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(store, "_DIGEST", None)
    saved = dict(templates._CACHE)
    try:
        templates._CACHE.clear()
        got = _parsed(FORMS)
    finally:
        templates._CACHE.clear()
        templates._CACHE.update(saved)
        templates._CACHED_TOKENS = sum(len(k) for k in saved)
    assert got == want and not list(tmp_path.glob("templates-*"))


def test_lark_imported_by_many_threads_at_once(tmp_path):
    """The first read of Lark from eight threads at once (a syntax error each: the full parser):
    every thread gets its located syntax error (importlib's LazyLoader is not safe here in 3.11)."""
    script = ("import threading, graphlang\n"
              "out = []\n"
              "def one():\n"
              "    try:\n"
              "        graphlang.parse('y = x +* z\\n')\n"
              "    except graphlang.GraphlangError as err:\n"
              "        out.append((err.kind, err.line, err.column))\n"
              "    except Exception as err:\n"
              "        out.append(repr(err))\n"
              "ts = [threading.Thread(target=one) for _ in range(8)]\n"
              "[t.start() for t in ts]; [t.join() for t in ts]\n"
              "print(sorted(set(map(str, out))), len(out))\n")
    env = {**os.environ, "GRAPHLANG_CACHE_DIR": str(tmp_path)}
    ran = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[\"('syntax', 1, 8)\"] 8", ran.stdout + ran.stderr
