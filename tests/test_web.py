"""The web front end without a browser: `POST /api/run` answers exactly what the CLI prints (every
conformance case, every method, every adversarial program, errors included), and its numbers match
the conformance cases' independent engine; the lesson bundle; refusals (413, usage, busy); the worker
pool's time limit and crash recovery with stand-in workers; `graphlang html`; the graph layout."""

from __future__ import annotations

import asyncio
import json
import sys

import numpy as np
import pytest
from adversarial import CORPUS
from conftest import PROGRAMS, conformance_cases, run_cli

pytest.importorskip("starlette")
pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

from starlette.testclient import TestClient  # noqa: E402

from graphlang.errors import GraphlangError  # noqa: E402
from graphlang.web import compute, page  # noqa: E402
from graphlang.web.app import create_app  # noqa: E402
from graphlang.web.layout import layout  # noqa: E402
from graphlang.web.pool import Pool  # noqa: E402

CASES = conformance_cases()
METHODS = (None, "reverse", "forward", "fd", "symbolic")
LECTURE = (PROGRAMS / "lecture13.cg").read_text()


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(workers=2, timeout=20.0)) as c:
        yield c


def at_arg(at: dict) -> str:
    return ",".join(f"{k}={json.dumps(v).replace(' ', '')}" for k, v in at.items())


def cli_json(path: str, at: str | None, method: str | None, *extra: str):
    args = ["run", path] if method is None else ["grad", path, "-m", method]
    ran = run_cli(*args, "--strict", "--json", *(["--at", at] if at is not None else []), *extra)
    return ran


@pytest.mark.parametrize("method", METHODS, ids=[m or "run" for m in METHODS])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_api_run_prints_what_the_cli_prints(client, write, case, method):
    at = case.get("at_arg") if case["kind"] == "error" else (at_arg(case["at"]) if case["at"] else None)
    ran = cli_json(write(case["program"]), at, method)
    body = {"program": case["program"], **({"at": at} if at is not None else {}),
            **({"method": method} if method else {})}
    resp = client.post("/api/run", json=body)
    if "note: " in ran.err:  # fd off from the exact value: the page shows the CLI's stderr note as "caution"
        got = resp.json()
        assert " ".join(got.pop("caution").split()) in " ".join(ran.err.split()) and got == json.loads(ran.out)
    else:
        assert resp.text == ran.out.strip()  # byte for byte
    assert (resp.status_code == 200) == (ran.code == 0)
    if ran.code:
        assert resp.status_code == (400 if resp.json()["error"]["kind"] == "usage" else 422)


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] != "error"], ids=lambda c: c["name"])
def test_api_numbers_match_the_independent_engine(client, case):
    """The oracle: the conformance cases' expected values come from an independent engine."""
    for method, (rtol, atol) in {"reverse": (1e-8, 1e-10), "forward": (1e-8, 1e-10),
                                 "symbolic": (1e-7, 1e-9), "fd": (1e-5, 1e-6)}.items():
        got = client.post("/api/run", json={"program": case["program"], "at": case["at"], "method": method}).json()
        key = "gradient" if "gradient" in case["expect"] else "jacobian"
        for k, v in case["expect"][key].items():
            assert np.allclose(got[key][k], v, rtol=rtol, atol=atol), (method, k)


ADVERSARIAL = [c for c in CORPUS if isinstance(c.program, str) and c.file is None
               and all(a == "--at" or not a.startswith("-") for a in c.args)]


@pytest.mark.parametrize("case", ADVERSARIAL, ids=[c.name for c in ADVERSARIAL])
def test_api_adversarial_programs_answer_as_the_cli(client, write, case):
    at = case.args[case.args.index("--at") + 1] if "--at" in case.args else None
    path = write(case.program)
    ran = cli_json(path, at, None)
    resp = client.post("/api/run", json={"program": case.program, **({"at": at} if at else {})})
    if len(json.dumps({"program": case.program})) > 256 * 1024:
        assert resp.status_code == 413 and resp.json()["error"]["kind"] == "limit"
        return
    assert resp.text == ran.out.strip().replace(path, "program.cg")  # the CLI names its file
    assert (resp.status_code == 200) == (ran.code == 0)


def test_api_options_of_grad_and_tangents(client, write):
    path = write(LECTURE)
    cases = [
        ({"method": "fd", "epsilon": 1e-4}, cli_json(path, "x=2,z=3", "fd", "--epsilon", "1e-4")),
        ({"method": "reverse", "wrt": "z"}, cli_json(path, "x=2,z=3", "reverse", "--wrt", "z")),
        ({"method": "forward", "wrt": ["x"]}, cli_json(path, "x=2,z=3", "forward", "--wrt", "x")),
        ({"direction": "x=1,z=2"}, run_cli("tangents", path, "--strict", "--json", "--at", "x=2,z=3",
                                           "--direction", "x=1,z=2")),
        ({"direction": {"z": 1}}, run_cli("tangents", path, "--strict", "--json", "--at", "x=2,z=3",
                                          "--direction", "z=1")),
        ({"method": "auto"}, cli_json(path, "x=2,z=3", "auto")),
        ({"method": "reverse", "wrt": "q"}, cli_json(path, "x=2,z=3", "reverse", "--wrt", "q")),
    ]
    for extra, ran in cases:
        resp = client.post("/api/run", json={"program": LECTURE, "at": "x=2,z=3", **extra})
        assert json.loads(resp.text) == json.loads(ran.out), extra
    vector = "input v[3], t\ns = sum(v * v * t) + v[0] * t\n"  # no direction: the first input's first number,
    ran = run_cli("tangents", write(vector), "--strict", "--json", "--at", "v=[1,2,3],t=2")  # as the CLI's
    resp = client.post("/api/run", json={"program": vector, "at": "v=[1,2,3],t=2", "direction": {}})
    assert json.loads(resp.text) == json.loads(ran.out) and json.loads(ran.out)["tangents"]["s"] == 6.0  # 2·v₀·t + t


def test_api_at_as_an_object_is_the_at_file(client, write, tmp_path):
    at_file = tmp_path / "at.json"
    at_file.write_text('{"A": [[1, 2], [3, 4]], "v": [1, -1]}')
    program = "y = sum(A @ v)\n"
    ran = run_cli("grad", write(program), "--strict", "--json", "--at-file", str(at_file), "-m", "forward")
    resp = client.post("/api/run", json={"program": program, "at": {"A": [[1, 2], [3, 4]], "v": [1, -1]},
                                         "method": "forward"})
    assert resp.status_code == 200 and resp.text == ran.out.strip()


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"program": 3}', b'{"program": "y = x", "bogus": 1}',
                                  b'{"program": "y = x", "at": 5}', b'{"program": "y = x", "at": "x=1", "wrt": 3}',
                                  b'{"program": "y = x", "at": "x=1", "method": "fd", "epsilon": "big"}'])
def test_api_malformed_requests_are_usage_errors(client, body):
    resp = client.post("/api/run", content=body)
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["kind"] == "usage" and set(err) == {"kind", "message", "line", "column"}


def test_api_refuses_large_bodies_with_413_before_reading_them(client):
    resp = client.post("/api/run", content=b"{" + b" " * (300 * 1024) + b"}")
    assert resp.status_code == 413 and resp.json()["error"]["kind"] == "limit"

    def chunks():  # no Content-Length: the cap applies while the body streams in
        for _ in range(100):
            yield b" " * 4096
    resp = client.post("/api/run", content=chunks())
    assert resp.status_code == 413
    assert client.get("/api/health").json()["ok"] is True


def test_api_deep_nesting_and_non_finite_values_are_clean_errors(client):
    resp = client.post("/api/run", content=b'{"program": "y = x", "at": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}")
    assert resp.status_code == 422 and resp.json()["error"]["kind"] == "limit"
    resp = client.post("/api/run", content=b'{"program": "y = x * 2", "at": {"x": NaN}}')
    assert resp.status_code == 422 and resp.json()["error"]["kind"] == "value"


def test_lesson_bundle_of_the_lecture(client):
    d = client.post("/api/lesson", json={"program": LECTURE, "at": "x=2,z=3"}).json()
    assert d["error"] is None and d["inputs"] == ["x", "z"]
    assert d["run"] == client.post("/api/run", json={"program": LECTURE, "at": "x=2,z=3"}).json()
    assert [n["name"] for n in d["graph"]["nodes"]] == ["x", "z", "a", "b", "c", "d", "e", "f", "y"]
    assert ["c", "f"] in d["graph"]["edges"] and ["a", "f"] in d["graph"]["edges"]
    steps = d["explain"]["steps"]
    assert [s["node"] for s in steps if s["phase"] == "forward"] == ["x", "z", "a", "b", "c", "d", "e", "f", "y"]
    g_c = next(s for s in steps if s["phase"] == "backward" and s["node"] == "c")
    assert " = ".join(g_c["forms"]) == "g_c = g_f·∂f/∂c = g_f·(1/a) = 1·0.166667 = 0.166667"
    # the ε sweep's V: central differences beat forward differences at their best ε
    rows = d["sweep"]["sweep"]
    assert min(r["central_error"] for r in rows) < min(r["forward_error"] for r in rows) < 1e-6


def test_lesson_bundle_locates_errors_as_the_cli_does(client, write):
    program = "a = x + 1\nb = a * * 2\ny = b\n"
    ran = run_cli("run", write(program, "program.cg"), "--at", "x=1")
    d = client.post("/api/lesson", json={"program": program, "at": "x=1"}).json()
    assert d["error"]["line"] == 2 and d["error"]["column"] == 9
    assert d["error"]["text"].split(": ", 1)[1] == ran.err.split(": ", 1)[1]  # message, line, caret, hint
    assert d["run"] == {"error": {k: d["error"][k] for k in ("kind", "message", "line", "column")}}
    # a values error still draws the graph
    d = client.post("/api/lesson", json={"program": "y = ln(x)\n", "at": "x=-1"}).json()
    assert d["error"]["kind"] == "domain" and d["graph"]["nodes"][1]["name"] == "y"


def test_page_and_assets_are_served_with_a_strict_policy(client):
    resp = client.get("/")
    assert resp.status_code == 200 and "default-src 'none'" in resp.headers["content-security-policy"]
    assert 'src="static/playground.js"' in resp.text and "http" not in resp.text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")  # nothing from another origin
    for name in page.ASSETS:
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/..%2Fapp.py").status_code == 404
    assert client.get("/static/index.html").status_code == 404


def test_dns_rebinding_guard_when_bound_to_loopback():
    with TestClient(create_app(workers=1, allowed_hosts=["127.0.0.1", "localhost"]),
                    base_url="http://evil.example") as c:
        assert c.get("/").status_code == 400


def test_another_sites_page_cannot_make_the_server_evaluate(client):
    """A red team's find: a cross-origin `text/plain` POST (what any web page may send without asking)
    ran an evaluation. A browser names the page's origin; a script (curl) names none."""
    body = {"program": "y = x * 2", "at": "x=1"}
    refused = client.post("/api/run", json=body, headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403 and refused.json()["error"]["kind"] == "usage"
    refused = client.post("/api/run", json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403
    same = client.post("/api/run", json=body, headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200 and same.json()["value"] == 2
    assert client.post("/api/run", json=body).status_code == 200  # a script


def test_an_unknown_page_or_method_is_a_json_error_with_the_security_headers(client):
    """A red team's find: 404 and 405 came back as plain text without the headers (the README says
    errors are JSON)."""
    for resp, status in ((client.get("/nope"), 404), (client.get("/api/run"), 405), (client.put("/"), 405)):
        assert resp.status_code == status and resp.json()["error"]["kind"] == "usage"
        assert resp.headers["x-content-type-options"] == "nosniff" and "default-src 'none'" in resp.headers[
            "content-security-policy"]


# --- the pool: time limit and crashes, with stand-in workers (deterministic, no timing races) ---
SLEEPER = r"""
import struct, sys, time
out = sys.stdout.buffer
out.write(struct.pack(">I", 5) + b"ready"); out.flush()
while True:
    head = sys.stdin.buffer.read(4)
    if len(head) < 4: break
    msg = sys.stdin.buffer.read(struct.unpack(">I", head)[0])
    if b"crash" in msg: sys.exit(3)
    if b"hang" in msg: time.sleep(3600)
    reply = b"200" + b'{"ok": true}'
    out.write(struct.pack(">I", len(reply)) + reply); out.flush()
"""


def test_pool_kills_an_overrunning_worker_and_recovers():
    async def scenario():
        pool = Pool(workers=1, timeout=0.5, command=[sys.executable, "-c", SLEEPER])
        await pool.start()
        try:
            status, data = await pool.submit("run", b"hang")
            assert status == 422 and json.loads(data)["error"]["kind"] == "limit"
            assert pool.restarts == 1
            status, data = await pool.submit("run", b"fine")  # waits for the replacement
            assert (status, json.loads(data)) == (200, {"ok": True})
            status, data = await pool.submit("run", b"crash")
            assert status == 422 and "stopped" in json.loads(data)["error"]["message"]
            status, _ = await pool.submit("run", b"fine")
            assert status == 200 and pool.restarts == 2
        finally:
            await pool.close()
    asyncio.run(scenario())


def test_pool_answers_busy_beyond_its_queue():
    async def scenario():
        pool = Pool(workers=1, timeout=30, max_waiting=1, queue_timeout=30,
                    command=[sys.executable, "-c", SLEEPER])
        await pool.start()
        try:
            hung = asyncio.ensure_future(pool.submit("run", b"hang"))
            await asyncio.sleep(0)
            waiting = asyncio.ensure_future(pool.submit("run", b"fine"))
            await asyncio.sleep(0)
            status, data = await pool.submit("run", b"fine")
            assert status == 503 and json.loads(data)["error"]["message"] == "the server is busy"
            hung.cancel()
            waiting.cancel()
            await asyncio.gather(hung, waiting, return_exceptions=True)
        finally:
            await pool.close()
    asyncio.run(scenario())


def test_real_worker_answers_in_the_cli_shape():
    async def scenario():
        pool = Pool(workers=1, timeout=20)
        try:
            status, data = await pool.submit("run", json.dumps({"program": "y = x^2", "at": "x=3"}).encode())
            assert status == 200 and json.loads(data)["gradient"] == {"x": 6.0}
        finally:
            await pool.close()
    asyncio.run(scenario())


# --- graphlang html, and the layout ---
def test_html_export_is_self_contained(tmp_path):
    out = tmp_path / "lesson.html"
    ran = run_cli("html", str(PROGRAMS / "lecture13.cg"), "--at", "x=2,z=3", "-o", str(out))
    assert ran.code == 0, ran.err
    assert ran.out == "" and ran.err.startswith(f"wrote {out} (")  # a status line on stderr, as graph -o's
    html = out.read_text()
    assert "<script src" not in html and "<link rel=\"stylesheet\"" not in html and "fetch(" in html
    data = json.loads(html.split('<script id="config" type="application/json">')[1].split("</script>")[0])
    lesson = data["lesson"]
    assert data["mode"] == "file" and lesson["at"] == "x=2,z=3"
    assert set(lesson["methods"]) == {"reverse", "forward", "fd", "symbolic"}
    for m, ans in lesson["methods"].items():
        assert np.allclose([ans["gradient"]["x"], ans["gradient"]["z"]], [1208.3812151266097, 809.7074792185641],
                           rtol=1e-5 if m == "fd" else 1e-9), m
    assert lesson["directions"]["x"]["tangents"]["y"] == pytest.approx(1208.3812151266097)


def test_serve_refuses_a_port_in_use_with_a_usage_error():
    import socket
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        ran = run_cli("serve", "--port", str(held.getsockname()[1]))
    assert ran.code == 2 and "graphlang serve: usage error: cannot listen on 127.0.0.1:" in ran.err


def test_html_export_reports_errors_like_run(write, tmp_path):
    ran = run_cli("html", write("y = ln(x)\n"), "--at", "x=-1", "-o", str(tmp_path / "x.html"))
    assert ran.code == 1 and "domain error" in ran.err and not (tmp_path / "x.html").exists()


def test_html_export_escapes_the_program_inside_the_page(write, tmp_path):
    out = tmp_path / "p.html"
    ran = run_cli("html", write("# </script><script>alert(1)</script> {{SCRIPT}}\ny = x\n"), "--at", "x=1",
                  "-o", str(out))
    assert ran.code == 0
    html = out.read_text()
    assert html.count("</script>") == 2 and "alert(1)" in html  # the comment survives as data


def test_layout_edges_point_right_and_boxes_do_not_overlap():
    prog = compute.load(LECTURE)
    from graphlang.present import jsonout
    g = jsonout.graph(prog)
    boxes = layout(g)["boxes"]
    for a, b in g["edges"]:
        assert boxes[a][0] + boxes[a][2] < boxes[b][0]
    items = list(boxes.values())
    for i, (x, y, w, h) in enumerate(items):
        for (x2, y2, w2, h2) in items[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y



def test_each_box_fits_its_texts_and_small_tensors_show_their_numbers():
    """`g_alpha1 = shape [2, 3]` ran past its box; a 2-vector showed `= shape [2]`; one long statement
    widened its column until the whole graph shrank to nothing. Oracle for the numbers: numpy."""
    from graphlang.web.layout import CHAR_W, MAX_CHARS, PAD
    long = " + ".join(f"sin(x) * {k}" for k in range(30))
    src = f"input A[2, 2], v[3], x\nw = A @ A\nu = v * x\nM = outer(v, v)\ny = sum(u) + sum(w) + {long} + sum(M)\n"
    lesson = compute.lesson({"program": src, "at": "A=[[1,0.5],[0.2,-0.7]],v=[0.1,-0.4,0.9],x=2"})
    lay = lesson["graph"]["layout"]
    for name, (_x, _y, w, _h) in lay["boxes"].items():
        assert all(len(t) * CHAR_W + 2 * PAD <= w + 1e-6 for t in lay["texts"][name]), (name, lay["texts"][name])
    A = np.array([[1, 0.5], [0.2, -0.7]])
    want = "= [" + ", ".join("[" + ", ".join(f"{v + 0.0:.3g}" for v in row) + "]" for row in A @ A) + "]"
    assert lay["texts"]["w"][1] == want
    assert lay["texts"]["u"][1] == "= [0.2, -0.8, 1.8]" and lay["texts"]["M"][1] == "= a 3×3 matrix"
    assert lay["texts"]["y"][0].endswith("…") and len(lay["texts"]["y"][0]) == MAX_CHARS
    assert lay["texts"]["v"][2] == "g_v = [3.2, 3.2, 3.2]"  # ∂/∂vᵢ of Σ x·v + Σᵢⱼ vᵢvⱼ: x + 2·Σv = 2 + 1.2
    broken = compute.lesson({"program": src, "at": "x=2"})  # no values: drawn all the same, boxes without numbers
    assert broken["graph"]["layout"]["texts"]["w"][1:] == ["", ""]


SKIPPING = {"shared": "a = x * z\nb = z * x\nc = z * a\nd = x * b\n",
            "late": "a = x * z\nb = a * z\nc = b * z\ny = c + x + a\n"}  # x and a read again columns later


@pytest.mark.parametrize("name", ["lecture13.cg", "two_layer_network.cg", "softmax_classifier.cg", *SKIPPING])
def test_an_edge_that_skips_columns_passes_between_the_boxes(name):
    """Drawn straight, a→f ran under e (it read e→f). Each column an edge crosses gives it a free
    row: no box, and no name above a box, lies on it there. (The networks' inputs now stand beside
    what reads them: their edges may skip no column.)"""
    from graphlang.present import jsonout
    from graphlang.web.layout import LABEL_H
    text = SKIPPING[name] if name in SKIPPING else (PROGRAMS / name).read_text()
    g = jsonout.graph(compute.load(text))
    lay = layout(g)
    boxes, routes = lay["boxes"], lay["routes"]
    skipping = 0
    for a, b in g["edges"]:
        crossed = [n for n, (x, y, w, h) in boxes.items()
                   if boxes[a][0] + boxes[a][2] < x and x + w < boxes[b][0]]
        if not crossed:
            assert f"{a}>{b}" not in routes
            continue
        skipping += 1
        for x_in, y, x_out in routes[f"{a}>{b}"]:
            assert 0 < y < lay["height"]
            for n in crossed:
                x, top, w, h = boxes[n]
                if x_in <= x and x + w <= x_out:  # a box of this column: the row misses it and its name
                    assert not top - LABEL_H <= y <= top + h, (a, b, n)
    assert skipping > 0 or "network" in name or "classifier" in name
    rows: dict[float, list[float]] = {}  # per column (its left edge): the rows edges cross it on
    for via in routes.values():
        for x_in, y, _ in via:
            rows.setdefault(x_in, []).append(y)
    for ys in rows.values():  # two edges on one line read as one (a red team's find)
        ys.sort()
        assert all(b - a >= 6 for a, b in zip(ys, ys[1:])), ys

def test_server_under_load_answers_every_request_correctly_or_cleanly():
    """200 concurrent requests over real HTTP on 127.0.0.1 (bench/web_load.py): the lecture by every
    method, lessons, errors, oversize bodies, deep nesting, huge statements and values; each answer
    is byte-for-byte the in-process answer or a clean refusal, and the server answers afterwards."""
    sys.path.insert(0, str(PROGRAMS.parent / "bench"))
    import web_load

    out = web_load.run(requests=200, workers=2, timeout=30.0)
    assert out["problems"] == [] and out["still_answering"]
    assert out["statuses"].get(413) and out["statuses"].get(200) and out["statuses"].get(422)
    assert sum(out["statuses"].values()) == 200


def test_a_missing_input_hint_speaks_of_the_page_not_the_command_line():
    from graphlang.web.compute import lesson
    err = lesson({"program": "y = x + q\n", "at": "x=2"})["error"]
    assert err["kind"] == "missing-input" and "--at" not in err["hint"] + err["text"] and "input field" in err["hint"]
    assert (err["line"], err["column"]) == (1, 9)


@pytest.mark.parametrize("program,at", [("y = x * e\n", "x=2"), ("y = W^T\n", "W=2"), ("input x\ny = x[0]\n", "x=2"),
                                        ("x = 2\ninput x\ny = x\n", ""), ("input W[3]\ny = W @ W @ W\n", "W=[1,2,3]"),
                                        ("input x[2]\ny = x + [1, 2, 3]\n", "x=[1,2]"),
                                        ("y = x * 2\n", "x=abc"), ("y = x * 2\n", "x=[1,2")])
def test_no_error_on_the_page_speaks_of_the_command_lines_at(program, at):
    """A red team's find: hints said "given with --at", "e.g. --at x=2", "from --at" on a page whose
    inputs are fields."""
    from graphlang.web.compute import lesson
    err = lesson({"program": program, "at": at})["error"]
    assert err is not None and "--at" not in err["message"] + (err["hint"] or "") + err["text"], err


def test_html_export_is_bounded_like_json(write, tmp_path):
    """`graphlang html` on W[1500, 1500] wrote a 333 MB page in 41 s and 2.4 GB (the run is embedded
    once per method and direction; nothing bounded it), a red team's find. The page's numbers are
    bounded by max_json_numbers as --json is: here 20×20 (≈ 1,200 numbers per run, 6 copies)."""
    prog = write("input W[20,20]\ny = sum(tanh(W))\n")
    at = tmp_path / "at.json"
    at.write_text(json.dumps({"W": [[0.5] * 20] * 20}))
    out = tmp_path / "l.html"
    refused = run_cli("html", prog, "--at-file", str(at), "-o", str(out), "--limit", "max_json_numbers=5000")
    assert refused.code == 1 and "limit error: the page would hold more than 5,000 numbers" in refused.err
    assert not out.exists()
    assert run_cli("html", prog, "--at-file", str(at), "-o", str(out), "--limit", "max_json_numbers=8000").code == 0


@pytest.mark.parametrize("body", [b'{"program": "y=x # \\udc80", "at": "x=1"}',
                                  b'{"program": "y=x", "at": "x=\\ud800"}',
                                  b'{"program": "y=x", "at": {"\\ud800": 1}}'])
def test_a_lone_surrogate_is_a_usage_error_not_a_500(body):
    """A lone surrogate escape decoded from the JSON body and, echoed back, failed to encode: HTTP 500
    "the answer held a non-finite number" (red team). A surrogate pair (an emoji) is text."""
    from graphlang.web import worker
    for task in ("run", "lesson"):
        status, data = worker.handle(task, body)
        assert status == 400 and json.loads(data)["error"]["kind"] == "usage"
    assert worker.handle("run", b'{"program": "y=x # \\ud83d\\ude00", "at": "x=1"}')[0] == 200


def test_wrt_without_a_method_is_a_usage_error():
    """`/api/run` ignored "wrt" (and "epsilon") without a "method": "wrt": "q" answered 200 (red team)."""
    from graphlang.web import worker
    for extra in (b'"wrt": "q"', b'"epsilon": 0.001'):
        status, data = worker.handle("run", b'{"program": "y = x", "at": "x=1", ' + extra + b"}")
        assert status == 400 and "needs a" in json.loads(data)["error"]["message"]


def _row_by_search(bands, want, taken):
    """The oracle: every candidate row (want, and each taken row ± EDGE_GAP, clamped to a band) tried
    nearest first: the free row nearest `want`, else the nearest row of a band (the first layout's)."""
    from graphlang.web.layout import EDGE_GAP
    best = None
    for lo, hi in bands:
        if lo > hi:
            continue
        for y in sorted({min(max(want, lo), hi), *(min(max(t + d, lo), hi) for t in taken
                                                     for d in (-EDGE_GAP, EDGE_GAP))}, key=lambda f: abs(f - want)):
            if all(abs(y - t) >= EDGE_GAP - 1e-9 for t in taken):
                if best is None or abs(y - want) < best[0]:
                    best = (abs(y - want), y)
                break
    return best[1] if best is not None else min((min(max(want, lo), hi) for lo, hi in bands if lo <= hi),
                                                key=lambda f: abs(f - want))


def test_rows_for_skipping_edges_are_the_nearest_free_ones_and_a_dense_graph_is_drawn_straight():
    """A red team's find: a 100-line program where each line sums every earlier one took minutes
    to lay out (each crossing tried every row against every row), timing out the server's worker.
    Oracle: the exhaustive search, on random columns; past MAX_CROSSINGS the edges are drawn straight."""
    import bisect
    import random

    from graphlang.present import jsonout
    from graphlang.web.layout import MAX_CROSSINGS, _row
    rng = random.Random(5)
    for _ in range(300):
        bands = sorted((lo, lo + rng.choice([0, 5, 20, 60])) for lo in rng.sample(range(0, 400, 10), rng.randint(1, 4)))
        taken: list[float] = []
        for _ in range(rng.randint(1, 25)):
            want = rng.uniform(-20, 420)
            y = _row(bands, want, taken)
            assert y == pytest.approx(_row_by_search(bands, want, taken), abs=1e-6), (bands, want, taken)
            bisect.insort(taken, y)

    src = "a0 = x\n" + "".join(f"a{i} = " + " + ".join(f"a{j}" for j in range(i)) + "\n" for i in range(1, 100))
    dense = jsonout.graph(compute.load(src))
    crossings = sum(int(a[1:]) - int(b[1:]) - 1 for b, a in dense["edges"] if b != "x")
    lay = layout(dense)
    assert crossings > MAX_CROSSINGS and lay["routes"] == {} and len(lay["boxes"]) == 101


@pytest.mark.parametrize(("body", "said"), [
    (b'{"program": "y = 1/x", "at": {"x": 1e-400}}', "1e-400 is too small for float64"),
    (b'{"program": "y = x", "program": "y = 2 * x", "at": "x=1"}', "gives 'program' twice"),
])
def test_a_request_is_read_as_the_command_line_reads_its_values(body, said):
    """A red team's finds: 1e-400 became 0 (then "division by zero") where --at refuses it, and of two
    "program" keys the last was taken without a word, where --at-file refuses a name given twice."""
    with pytest.raises(GraphlangError) as err:
        compute.request(body, ("program", "at"))
    assert err.value.kind == "usage" and said in err.value.message


def test_an_integer_past_pythons_digit_limit_is_said_as_such():
    """5,000 digits in a request: "the request body is not JSON" (it is JSON; Python reads at most 4,300
    digits of an integer: an attacker red team's find)."""
    with pytest.raises(GraphlangError) as err:
        compute.request(b'{"program": "y = x", "at": {"x": ' + b"9" * 5000 + b"}}", ("program", "at"))
    assert err.value.kind == "limit" and "more than 4,300 digits" in err.value.message


def test_the_pages_numbers_are_pythons_g_format():
    """A red team's find: the page wrote 0.000001150790356 beside 2.08e-07 (JavaScript's toPrecision
    switches to an exponent below 1e-6, C's %g below 1e-4). The oracle: Python's format, run against
    the page's own function under Node."""
    import random
    import shutil
    import subprocess
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed")
    from graphlang.web import page
    js = page.asset("playground.js")
    fn = js[js.index("  function g(v, digits)"):js.index("  function shapeOf")]
    rnd = random.Random(3)
    vals = [0.000001150790356, 2.08e-07, 0.0001, 9.9999999995e-5, 99999.99999, 1e21, 1e-300, -2.5e-5, 0.1 + 0.2]
    vals += [rnd.uniform(-1, 1) * 10.0 ** rnd.randint(-12, 14) for _ in range(300)]
    script = fn + f"\nvar vals = {json.dumps(vals)};\n" + \
        "console.log(JSON.stringify([10, 4, 6].map(d => vals.map(v => g(v, d)))));"
    got = json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout)
    for digits, row in zip((10, 4, 6), got, strict=True):
        assert row == [f"{v:.{digits}g}" for v in vals]


def test_boxes_fit_their_texts_and_an_input_stands_beside_what_reads_it():
    """A red team's finds: the lecture's graph (9 nodes) was 1010 px wide, clipped in a 1280 px
    window (every box 17 characters wide for a possible adjoint); the network's label y, read only
    by the loss, stood in the first column with an edge across the whole picture."""
    from graphlang.present import jsonout
    from graphlang.web.layout import CHAR_W, PAD
    out = compute.lesson({"program": (PROGRAMS / "lecture13.cg").read_text(), "at": "x=2,z=3"})
    lay = out["graph"]["layout"]
    for name, (_, _, w, _) in lay["boxes"].items():
        assert w >= max(map(len, lay["texts"][name])) * CHAR_W + 2 * PAD - 0.1, name
    assert lay["width"] < 800
    g = jsonout.graph(compute.load((PROGRAMS / "two_layer_network.cg").read_text()))
    boxes = layout(g)["boxes"]
    reader = {r: n["name"] for n in g["nodes"] for r in n["reads"]}  # (y's one reader: the loss J)
    column = sorted({x for x, *_ in boxes.values()})
    assert column.index(boxes["y"][0]) == column.index(boxes[reader["y"]][0]) - 1


def test_the_playground_still_gets_fds_caution(client):
    """`grad --json` moved fd's caution to stderr (the SPEC's keys only); the page reads it from the
    API's answer, which keeps it. Oracle: relu's one-sided slopes at 0 (0 and 1) averaged by fd."""
    resp = client.post("/api/run", json={"program": "y = relu(x)", "at": "x=0", "method": "fd"}).json()
    assert resp["gradient"] == {"x": 0.5} and "one-sided derivatives differ (from the left 0, from the right 1)" \
        in resp["caution"]

