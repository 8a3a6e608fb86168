/* graphlang playground: plain JavaScript and SVG, no libraries, no network beyond its own server.
 *
 * One script for both front ends: served by `graphlang serve` (mode "server": it asks /api/lesson
 * and /api/run) and inlined by `graphlang html` (mode "file": the lesson is precomputed and
 * embedded, nothing is fetched). The numbers, the explain lines and the error messages are the
 * library's own (its JSON); this script only lays them out.
 */
(function () {
  "use strict";
  var CONFIG = JSON.parse(document.getElementById("config").textContent);
  var SERVER = CONFIG.mode === "server";
  var SVGNS = "http://www.w3.org/2000/svg";
  // Maps keyed by a program's names have no prototype: a node named toString, constructor or
  // __proto__ is a name like any other (a red team's find: stepping showed their values at once).
  function dict() { return Object.create(null); }
  function nonzero(v) { return Array.isArray(v) ? v.some(nonzero) : v != null && v !== 0; }
  function own(obj, k) { return obj && Object.prototype.hasOwnProperty.call(obj, k) ? obj[k] : undefined; }
  var BUILTINS = dict();
  (CONFIG.builtins || []).forEach(function (b) { BUILTINS[b] = true; });

  var state = { data: null, steps: [], step: 0, selected: null, method: "reverse", timer: null, seq: 0,
                inputsKey: null, fields: dict(), runTimer: null };
  var $ = function (id) { return document.getElementById(id); };

  /* ---------- numbers, as the CLI prints them ---------- */
  function g(v, digits) {  // C's %.{digits}g (exponent form below 1e-4, as Python's), never "-0"
    if (v === 0) return "0";
    var x = v.toExponential(digits - 1), e = parseInt(x.split("e")[1], 10);  // the exponent once rounded
    if (e < -4 || e >= digits) {
      var m = x.split("e")[0];
      if (m.indexOf(".") >= 0) m = m.replace(/0+$/, "").replace(/\.$/, "");
      return m + "e" + (e < 0 ? "-" : "+") + (Math.abs(e) < 10 ? "0" : "") + Math.abs(e);
    }
    var s = v.toFixed(Math.max(0, digits - 1 - e));
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }
  function shapeOf(v) { var s = []; while (Array.isArray(v)) { s.push(v.length); v = v[0]; } return s; }
  function flat(v, out) { if (Array.isArray(v)) v.forEach(function (x) { flat(x, out); }); else out.push(v); return out; }
  function located(box, text) {  // the message wraps; the source line and its caret never (the caret stays under its column)
    box.textContent = "";
    var lines = text.split("\n"), plain = [];
    var flush = function () { if (plain.length) box.appendChild(document.createTextNode(plain.join("\n"))); plain = []; };
    for (var i = 0; i < lines.length; i++) {
      if (/^\s*\d+ \| /.test(lines[i]) && i + 1 < lines.length && /^\s*\^+\s*$/.test(lines[i + 1])) {
        flush();  // (a block: its own lines, no newline of the text's around it)
        var ex = document.createElement("span"); ex.className = "excerpt";
        ex.textContent = lines[i] + "\n" + lines[i + 1]; box.appendChild(ex); i++;
      } else plain.push(lines[i]);
    }
    flush();
  }
  function maxDiff(a, b) {  // the largest |a - b| over the elements, each flattened once (per element: seconds at 150×150)
    if (!Array.isArray(a)) return Math.abs(a - b);
    var fa = flat(a, []), fb = flat(b, []), d = 0;
    for (var i = 0; i < fa.length; i++) d = Math.max(d, Math.abs(fa[i] - fb[i]));
    return d;
  }
  function nested(v, digits) {  // [[1, 0.5], [0.2, -0.7]], as the CLI prints it; a long axis: its first four, …, its last
    if (!Array.isArray(v)) return g(v, digits);
    var n = v.length, idx = n <= 6 ? v.map(function (_, i) { return i; }) : [0, 1, 2, 3, -1, n - 1];
    return "[" + idx.map(function (i) { return i < 0 ? "…" : nested(v[i], digits); }).join(", ") + "]";
  }
  function full(v) {  // a table cell: 10 digits, or a tensor (rows kept) and its shape
    if (!Array.isArray(v)) return g(v, 10);
    var s = shapeOf(v);
    return nested(v, 6) + (s.length > 1 || flat(v, []).length > 6 ? "  shape\u00a0[" + s.join(",\u00a0") + "]" : "");
  }
  function brief(v) {  // a headline: at most four numbers in full, else the shape (as the graph's boxes)
    if (!Array.isArray(v)) return g(v, 4);
    var s = shapeOf(v);
    return flat(v, []).length <= 4 && s.length <= 2 ? nested(v, 3) : s.length === 1 ? "a " + s[0] + "-vector" : "a " + s.join("×") + (s.length === 2 ? " matrix" : " tensor");
  }
  function rounded(v) {  // the headline: two decimals, as the lecture rounds
    if (Array.isArray(v)) return brief(v);
    var a = Math.abs(v);
    return a !== 0 && (a < 0.01 || a >= 1e7) ? g(v, 3) : (v + 0).toFixed(2).replace(/^-0\.00$/, "0.00");
  }
  function briefAt(d) {  // the lesson's point: as typed, or (a network's 2,000 numbers) each input's shape
    var at = d.at || "(no inputs)", vals = (d.run && d.run.values) || {};
    if (at.length <= 120) return at;
    var shape = function (v) { var s = []; while (Array.isArray(v)) { s.push(v.length); v = v[0]; } return "[" + s.join(", ") + "]"; };
    return (d.inputs || []).map(function (n) { return Array.isArray(vals[n]) ? n + " " + shape(vals[n]) : n + "=" + vals[n]; }).join(", ")
      + " (every value in the tables below)";
  }
  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }

  /* ---------- the editor: highlighting and the error underline ---------- */
  var TOKEN = /(#[^\n]*)|([A-Za-z_][A-Za-z0-9_]*)|((?:[0-9]+\.(?!T\b)[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+(?:[eE][+-]?[0-9]+)?)|(\*\*|\.T\b|[-+*\/^@=])|([ \t\r\n]+)|([\s\S])/g;
  function tokens(src) {
    var out = [], m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(src)) !== null) {
      var cls = m[1] ? "comment" : m[2] ? (/^(input|param|output)$/.test(m[2]) ? "keyword" : BUILTINS[m[2]] || m[2] === "pi" ? "builtin" : "name")
        : m[3] ? "number" : m[4] ? "op" : m[5] ? "" : "other";
      out.push([m.index, m.index + m[0].length, cls]);
    }
    return out;
  }
  function errorRange(src, err) {
    if (!err || err.line == null) return null;
    var lines = src.split("\n");
    if (err.line < 1 || err.line > lines.length) return null;
    var start = 0;
    for (var i = 0; i < err.line - 1; i++) start += lines[i].length + 1;
    var line = lines[err.line - 1], col = Math.max(1, err.column || 1) - 1;
    if (col >= line.length) return [start + line.length, start + line.length, true];  // at the line's end: a mark put there
    var m = /^[A-Za-z0-9_.]+/.exec(line.slice(col));
    return [start + col, start + col + (m ? m[0].length : 1), false];
  }
  function highlight() {
    var src = $("source").value, err = state.data && state.data.program === src && state.data.error;
    var range = errorRange(src, err), html = "", mark = '<span class="err-mark"> </span>', marked = false;
    tokens(src).forEach(function (t) {
      var cuts = [t[0], t[1]];
      if (range) [range[0], range[1]].forEach(function (c) { if (c > t[0] && c < t[1]) cuts.push(c); });
      cuts.sort(function (a, b) { return a - b; });
      for (var i = 0; i + 1 < cuts.length; i++) {
        var piece = esc(src.slice(cuts[i], cuts[i + 1])), cls = t[2] ? "tok-" + t[2] : "";
        if (range && range[2] && !marked && cuts[i] === range[0]) { html += mark; marked = true; }  // before the newline, on its line
        if (range && cuts[i] >= range[0] && cuts[i] < range[1]) cls += " err-mark";
        html += cls ? '<span class="' + cls.trim() + '">' + piece + "</span>" : piece;
      }
    });
    if (range && range[2] && !marked) html += mark;  // (the end of the text)
    $("highlight").innerHTML = html + "\n";
    $("editor").classList.remove("plain");
    $("source").rows = Math.min(28, Math.max(8, src.split("\n").length + 1));
  }
  function syncScroll() { $("highlight").scrollTop = $("source").scrollTop; $("highlight").scrollLeft = $("source").scrollLeft; }

  /* ---------- input values: a field per input, a slider for scalars ---------- */
  function splitPairs(text) {  // x=[1,2],y=3 -> ["x=[1,2]", "y=3"]
    var parts = [], depth = 0, start = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === "[") depth++; else if (c === "]") depth--;
      else if (c === "," && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
    }
    parts.push(text.slice(start));
    return parts.map(function (p) { return p.trim(); }).filter(Boolean);
  }
  function parseAt(text) {
    var out = dict();
    splitPairs(text || "").forEach(function (p) { var k = p.indexOf("="); if (k > 0) out[p.slice(0, k).trim()] = p.slice(k + 1).trim(); });
    return out;
  }
  function atText() {
    return (state.data && state.data.inputs ? state.data.inputs : Object.keys(state.fields)).filter(function (n) { return state.fields[n] && state.fields[n].value.trim(); })
      .map(function (n) { return n + "=" + state.fields[n].value.trim(); }).join(",");
  }
  function firstValue(shape) {  // a declared input's first value: its shape, numbers 0.1 … 0.9 (x[3] is [0.1,0.2,0.3])
    var k = 0;
    function fill(axes) { if (!axes.length) return String(((k++ % 9) + 1) / 10); var out = []; for (var i = 0; i < axes[0]; i++) out.push(fill(axes.slice(1))); return "[" + out.join(",") + "]"; }
    var size = (shape || []).reduce(function (n, d) { return n * d; }, 1);
    if (size > 1000) return "";  // (W[784, 128]: 400 kB, past the request's limit) the field says what to give
    return shape && shape.length ? fill(shape) : "1";
  }
  function renderInputs(inputs, at, shapes) {  // true when the fields differ from what the request sent
    var key = inputs.join(","), filled = false;
    if (key === state.inputsKey) return false;
    var old = dict(), given = parseAt(at);
    // a value sent for a name that is no longer an input (an input renamed in the editor)
    var stale = Object.keys(given).some(function (n) { return inputs.indexOf(n) < 0; });
    Object.keys(state.fields).forEach(function (n) { old[n] = state.fields[n].value; });
    var box = $("inputs");
    box.innerHTML = "";
    state.fields = dict();
    state.inputsKey = key;
    if (!inputs.length) { box.innerHTML = '<p class="note">This program has no inputs.</p>'; return stale; }  // (values sent for the old inputs: run again without them)
    inputs.forEach(function (n) {
      var row = document.createElement("div"), label = document.createElement("label"), field = document.createElement("input");
      row.className = "field";
      label.textContent = n + " =";
      label.htmlFor = "in-" + n;
      field.type = "text"; field.id = "in-" + n; field.value = given[n] !== undefined ? given[n] : old[n] !== undefined ? old[n] : firstValue((shapes || {})[n]);
      filled = filled || given[n] === undefined;
      if (!field.value && shapes && shapes[n]) field.placeholder = "its value: " + shapes[n].join(" × ") + " numbers, nested lists";
      field.readOnly = !SERVER;
      var slider = document.createElement("input");
      slider.type = "range"; slider.id = "slide-" + n; slider.disabled = !SERVER;
      function fit() {
        var v = Number(field.value);
        slider.hidden = !SERVER || !(field.value.trim() && isFinite(v));  // (a lesson page's values are fixed: no slider)
        if (slider.hidden) return;
        var span = Math.max(1, Math.abs(v)) * 2;
        slider.min = String(v - span); slider.max = String(v + span); slider.step = String(span / 200); slider.value = String(v);
      }
      fit();
      field.addEventListener("change", function () { fit(); scheduleRun(0); });
      field.addEventListener("input", function () { fit(); scheduleRun(500); });  // it runs as you type (a vector typed hides the slider at once)
      slider.addEventListener("input", function () { field.value = g(Number(slider.value), 6); scheduleRun(120); });
      slider.addEventListener("change", fit);
      row.appendChild(label); row.appendChild(field); row.appendChild(slider);
      box.appendChild(row);
      state.fields[n] = field;
    });
    return filled || stale;
  }

  /* ---------- talking to the server ---------- */
  function post(path, body) {
    return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().catch(function () { return { error: { kind: "http", message: "the server answered " + r.status, line: null, column: null } }; }); },
            function () { return { unreachable: true }; });  // (the server stopped: said, not an uncaught "Failed to fetch")
  }
  function stale(message) {  // the results shown are not the program's or the fields' now: greyed, and why
    document.body.classList.remove("busy");
    document.body.classList.add("stale");
    var err = $("error");
    err.hidden = false; err.textContent = message;
  }
  var UNREACHABLE = "cannot reach the server: is `graphlang serve` still running? (the results shown are the last it sent)";
  function fieldProblem() {  // a value half typed, or typed as the command line takes it: said for its field
    var names = Object.keys(state.fields);
    for (var i = 0; i < names.length; i++) {
      var n = names[i], v = state.fields[n].value.trim(), depth = 0, comma = false;
      for (var k = 0; k < v.length; k++) {
        var c = v.charAt(k);
        if (c === "[") depth++;
        else if (c === "]" && --depth < 0) return n + ": a ']' without its '['";
        else if (c === "," && depth === 0) comma = true;
      }
      if (depth > 0) return n + ": a '[' is not closed yet";
      if (v.indexOf("=") >= 0) return n + ": only the value goes in its field (2, or [1, 2]), not " + v;
      if (comma) return n + ": one value per field; a vector goes in brackets: [" + v + "]";
    }
    return null;
  }
  function scheduleRun(delay) {
    if (!SERVER) return;
    clearTimeout(state.runTimer);
    state.runTimer = setTimeout(run, delay);
  }
  function run() {
    var program = $("source").value, problem = fieldProblem(), at = atText(), seq = ++state.seq;
    if (problem) { stale(problem); return Promise.resolve(); }
    document.body.classList.add("busy");
    return post("api/lesson", { program: program, at: at }).then(function (data) {
      if (seq !== state.seq) return;
      if (data.unreachable) { stale(UNREACHABLE); return; }
      document.body.classList.remove("busy", "stale");
      if (data.error && !data.program) {  // the request itself was refused (too big, busy, time limit)
        data = { program: program, at: at, inputs: state.data ? state.data.inputs : null, run: data, error: data.error, graph: null, explain: null, sweep: null };
      }
      show(data);
      writeHash();
    });
  }

  /* ---------- share links: #program=<source>&at=x=2,z=3 ---------- */
  function readHash() {
    var h = location.hash.replace(/^#/, ""), out = dict();
    h.split("&").forEach(function (part) {
      var k = part.indexOf("=");
      if (k > 0) { try { out[part.slice(0, k)] = decodeURIComponent(part.slice(k + 1).replace(/\+/g, "%20")); } catch (e) { /* ignore */ } }
    });
    return out;
  }
  function link() {
    var m = state.method !== "reverse" ? "&method=" + state.method : "";
    return "#program=" + encodeURIComponent($("source").value) + "&at=" + encodeURIComponent(atText()).replace(/%3D/g, "=").replace(/%2C/g, ",") + m;
  }
  function writeHash() { if (SERVER) history.replaceState(null, "", link()); }

  /* ---------- showing a lesson ---------- */
  function show(data) {
    state.data = data;
    // null: the program did not parse; keep the fields. A new input's field shows a value the run
    // did not have: run again with it, or the page shows a value beside "no value for the input".
    if (data.inputs && renderInputs(data.inputs, data.at, data.shapes) && data.error &&
        (data.error.kind === "missing-input" || data.error.kind === "unknown-input")) scheduleRun(0);
    var err = $("error");
    if (data.error) { err.hidden = false; located(err, data.error.text || data.error.message); } else { err.hidden = true; err.textContent = ""; }
    highlight();
    state.steps = data.explain ? data.explain.steps.filter(function (s) { return s.phase === "forward" || s.phase === "backward"; }) : [];
    state.step = Math.min(state.step, state.steps.length);
    drawGraph(data);
    renderTables(data);
    renderSweep(data);
    renderMethod();
    showStep();
  }
  function values() { return state.data && state.data.run && !state.data.run.error ? state.data.run : null; }

  function drawGraph(data) {
    var svg = $("graph"), gr = data.graph;
    svg.innerHTML = "";
    if (!gr) {
      svg.setAttribute("width", 420); svg.setAttribute("height", 56);
      svg.removeAttribute("viewBox"); svg.style.minWidth = "";  // (the last drawing's: its text was 4 px tall)
      if (data.inputs) {  // it parsed, so it is too large to draw
        ["too many nodes to draw here (more than " + (data.draw_limit || 200) + "):", "the tables show every value"].forEach(function (line, i) {
          var t = el("text", { x: 10, y: 22 + 20 * i, "class": "too-large" }); t.textContent = line; svg.appendChild(t);
        });
      }
      return;
    }
    var L = gr.layout, B = L.boxes, res = values();
    svg.setAttribute("width", L.width); svg.setAttribute("height", L.height);
    svg.setAttribute("viewBox", "0 0 " + L.width + " " + L.height);
    svg.style.minWidth = Math.round(Math.min(L.width, Math.max(0.85 * L.width, 480))) + "px";  // shrunk so far (13px text: 11px), then scrolled
    var defs = el("defs", {}), marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" });
    marker.appendChild(el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#9aa3b5" }));
    defs.appendChild(marker); svg.appendChild(defs);
    gr.edges.forEach(function (e) {
      var a = B[e[0]], b = B[e[1]], x = a[0] + a[2], y = a[1] + a[3] / 2, d = "M" + x + "," + y;
      // through the free rows of the columns it crosses (L.routes), then into its box
      var via = (L.routes && L.routes[e[0] + ">" + e[1]]) || [];
      via.concat([[b[0], b[1] + b[3] / 2, null]]).forEach(function (w) {
        var mx = (x + w[0]) / 2;
        d += " C" + mx + "," + y + " " + mx + "," + w[1] + " " + w[0] + "," + w[1];
        x = w[0]; y = w[1];
        if (w[2] !== null) { d += " L" + w[2] + "," + w[1]; x = w[2]; }
      });
      svg.appendChild(el("path", { "class": "edge", d: d, "marker-end": "url(#arrow)", "data-from": e[0], "data-to": e[1] }));
    });
    gr.nodes.forEach(function (n) {
      var b = B[n.name], node = el("g", { "class": "node " + n.kind + (gr.outputs.indexOf(n.name) >= 0 ? " output" : ""), id: "node-" + n.name, "data-name": n.name });
      node.appendChild(el("rect", { x: b[0], y: b[1], width: b[2], height: b[3], rx: n.kind === "op" ? 2 : 10 }));
      var title = el("title", {}); title.textContent = n.name + (n.computes ? " = " + n.computes : " (" + n.kind + ")"); node.appendChild(title);
      if (n.kind === "op") text(node, "name", b[0], b[1] - 4, n.name);
      var tx = (L.texts && L.texts[n.name]) || [n.computes || n.name, "", ""];  // sized to fit its box
      text(node, "fn", b[0] + 8, b[1] + 16, tx[0]);
      text(node, "val", b[0] + 8, b[1] + 32, res ? tx[1] : "");
      text(node, "adj", b[0] + 8, b[1] + 48, res ? tx[2] : "");
      node.addEventListener("click", function () { select(n.name); });
      node.setAttribute("tabindex", "0"); node.setAttribute("role", "button");  // (Enter or Space explains it, as a click)
      node.setAttribute("aria-label", n.name + (n.computes ? " = " + n.computes : " (" + n.kind + ")"));
      node.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(n.name); } });
      svg.appendChild(node);
    });
  }
  function el(tag, attrs) { var e = document.createElementNS(SVGNS, tag); for (var k in attrs) e.setAttribute(k, attrs[k]); return e; }
  function text(parent, cls, x, y, s) { var t = el("text", { "class": cls, x: x, y: y }); t.textContent = s; parent.appendChild(t); }

  function row(cells, attrs) {
    var tr = document.createElement("tr");
    if (attrs) for (var k in attrs) tr.setAttribute(k, attrs[k]);
    cells.forEach(function (c, i) { var td = document.createElement(i === 0 && c.head ? "th" : "td"); td.textContent = c.text !== undefined ? c.text : c; if (c.num) td.className = "num"; tr.appendChild(td); });
    return tr;
  }
  function table(id, head, rows) {
    var t = $(id); t.innerHTML = "";
    if (head) { var tr = document.createElement("tr"); head.forEach(function (h) { var th = document.createElement("th"); th.textContent = h; tr.appendChild(th); }); t.appendChild(tr); }
    rows.forEach(function (r) { t.appendChild(r); });
  }
  function renderTables(data) {
    var res = values(), nodes = data.graph ? data.graph.nodes : null;
    if (!res) { table("forward-table", null, []); table("adjoint-table", null, []); table("gradient-table", null, []); $("gradient-summary").textContent = ""; return; }
    var computes = dict();
    if (nodes) nodes.forEach(function (n) { computes[n.name] = n.computes || n.kind; });
    else if (data.definitions) Object.keys(data.definitions).forEach(function (n) { computes[n] = data.definitions[n]; });
    var names = Object.keys(res.values);
    table("forward-table", ["node", "computes", "value"], names.map(function (n) { return row([n, computes[n] || "", { text: full(res.values[n]), num: true }], { "data-node": n, "data-phase": "forward" }); }));
    if (res.adjoints) {
      var ins = data.inputs || [], back = Object.keys(res.adjoints).filter(function (n) { return ins.indexOf(n) < 0; }).reverse().concat(ins);  // then g_x, g_z as the lecture (and explain) go
      table("adjoint-table", ["adjoint", "value"], back.map(function (n) { return row(["g_" + n, { text: own(res.adjoints, n) != null ? full(res.adjoints[n]) : "undefined (no finite value here)", num: true }], { "data-node": n, "data-phase": "backward" }); }));
    } else table("adjoint-table", null, [row([(Array.isArray(res.output) ? "each output has adjoints of its own" : "a vector output has a Jacobian: each element has adjoints of its own")
                                               + (state.steps.length ? ": step through its backward pass (→)" : "")])]);
    var grad = res.gradient || res.jacobian || {}, out = Array.isArray(res.output) ? "(" + res.output.join(", ") + ")" : res.output;  // ∂(y1, y2)/∂x: the outputs as one vector, not "∂y1,y2"
    if (!Object.keys(grad).length) table("gradient-table", null, [row(["no inputs: nothing to differentiate by (the program computes a constant)"])]);
    else table("gradient-table", ["∂" + out + "/∂input", "value"], Object.keys(grad).map(function (n) { return row(["∂" + out + "/∂" + n, { text: full(grad[n]), num: true }]); }));
    // the headline: each number (";" between, as "·" is a product here); a tensor's value is the table's
    var d = function (n) { return "∂" + out + "/∂" + n; };
    var headline = Object.keys(grad).filter(function (n) { return !Array.isArray(grad[n]); }).map(function (n) { return d(n) + " ≈ " + rounded(grad[n]); });
    var tensors = Object.keys(grad).filter(function (n) { return Array.isArray(grad[n]); }).map(d);
    if (tensors.length) headline.push(tensors.join(", ") + ": in the gradient table");
    $("gradient-summary").textContent = res.gradient ? headline.join(";   ") : "";
  }

  /* ---------- stepping: forward pass, then backward pass, one node at a time ---------- */
  function showStep() {
    var n = state.steps.length, k = state.step, cur = k > 0 ? state.steps[k - 1] : null;
    var fwdDone = dict(), backDone = dict();
    state.steps.forEach(function (s, i) { if (k === 0 || i < k) (s.phase === "forward" ? fwdDone : backDone)[s.node] = true; });
    var res = values(), ofOutput = res && !res.adjoints ? dict() : null;  // several outputs, or a vector: the adjoints of the output whose backward pass this is
    if (ofOutput && cur && cur.phase === "backward") state.steps.forEach(function (s, i) { if (i < k && s.phase === "backward" && s.of === cur.of) ofOutput[s.node] = s; });
    document.querySelectorAll("#graph .node").forEach(function (node) {
      var name = node.getAttribute("data-name");
      node.classList.toggle("hidden-val", !fwdDone[name]);
      if (ofOutput) {
        var s = own(ofOutput, name), adj = node.querySelector("text.adj");
        if (adj) adj.textContent = s ? "g_" + name + " = " + (s.value == null ? "undefined" : brief(s.value)) : "";
      }
      node.classList.toggle("hidden-adj", ofOutput ? !own(ofOutput, name) : !backDone[name]);
      node.classList.toggle("current", !!cur && cur.node === name);
      node.classList.toggle("selected", state.selected === name);
    });
    var here = document.querySelector("#graph .node.current");  // a wide graph: the step's node scrolled into its box
    if (here && here.scrollIntoView) here.scrollIntoView({ block: "nearest", inline: "nearest" });
    document.querySelectorAll("#graph .edge").forEach(function (e) {
      var on = !!cur && (cur.phase === "forward" ? e.getAttribute("data-to") === cur.node : e.getAttribute("data-from") === cur.node);
      if (on && ofOutput && cur.phase === "backward") {  // several outputs: only the edges to nodes on this output's path
        var to = own(ofOutput, e.getAttribute("data-to"));
        on = !!to && nonzero(to.value);
      }
      e.classList.toggle("active", on);
      e.classList.toggle("back", on && cur.phase === "backward");
    });
    document.querySelectorAll("tr[data-node]").forEach(function (tr) {
      var nd = tr.getAttribute("data-node"), ph = tr.getAttribute("data-phase");
      tr.classList.toggle("current", !!cur && nd === cur.node && ph === cur.phase);
      tr.classList.toggle("pending", k > 0 && !(ph === "forward" ? fwdDone : backDone)[nd]);  // not reached yet: no answer given away
    });
    ["gradient-table", "gradient-summary", "method-result"].forEach(function (id) { var el = $(id); if (el) el.classList.toggle("pending", k > 0 && k < n); });
    var line = $("step-line");
    if (!n) { line.textContent = values() ? "Stepping needs a program of at most " + (state.data.draw_limit || 200) + " nodes." : ""; }
    else if (!cur) { line.innerHTML = '<span class="phase">The whole picture. Press → (or the buttons) to walk the forward pass, then the backward pass.</span>'; }
    else {
      var fw = state.steps.filter(function (s) { return s.phase === cur.phase && s.of === cur.of; }), i = fw.indexOf(cur) + 1;
      line.innerHTML = '<span class="phase">' + (cur.phase === "forward" ? "Forward pass" : "Backward pass" + (cur.of ? " for " + esc(cur.of) : "")) + ", step " + i + " of " + fw.length + "</span>" + esc(cur.forms.join(" = "));
    }
    $("step-count").textContent = n ? k + " / " + n : "";
    $("step-prev").disabled = k === 0; $("step-next").disabled = k >= n; $("step-reset").disabled = k === 0; $("step-play").disabled = !n;
    showSelected();
  }
  function go(k) { state.step = Math.max(0, Math.min(state.steps.length, k)); showStep(); }
  function play() {
    if (state.timer) { stopPlay(); return; }
    if (state.step >= state.steps.length) state.step = 0;
    $("step-play").textContent = "⏸ pause";
    state.timer = setInterval(function () { if (state.step >= state.steps.length) stopPlay(); else go(state.step + 1); }, 800);
  }
  function stopPlay() { clearInterval(state.timer); state.timer = null; $("step-play").textContent = "▶ play"; }
  function select(name) { state.selected = state.selected === name ? null : name; showStep(); }
  function showSelected() {
    var box = $("node-explain"), name = state.selected;
    if (!name || !state.data || !state.data.explain) { box.textContent = ""; return; }
    var mine = function (s) { return s.node === name; };  // while stepping, the steps taken: no answer given away
    var shown = (state.step > 0 ? state.steps.slice(0, state.step) : state.data.explain.steps).filter(mine);
    var later = state.step > 0 && state.steps.slice(state.step).some(mine);
    box.textContent = shown.map(function (s) { return s.forms.join(" = "); }).join("\n") +
      (later ? (shown.length ? "\n" : "") + "(" + name + "'s " + (shown.length ? "adjoint" : "step") + " comes later: step on with →)" : "");
  }

  /* ---------- the method switch ---------- */
  function renderMethod() {
    var box = $("method-result"), m = state.method, res = values();
    $("direction-box").hidden = m !== "forward";
    $("sweep").hidden = m !== "fd";
    if (!res) { box.innerHTML = ""; return; }
    fillDirections();
    var dir = $("direction").value;
    var req = { program: state.data.program, at: state.data.at };
    if (m === "forward" && dir !== "") {
      if (dir === "custom") { if (!SERVER) return; req.direction = $("direction-text").value; }
      else req.direction = dir.slice(3) + "=1";  // "in:" + the input's name (an input may be named custom)
      fetchOr(req, dir !== "custom" ? own(state.data.directions, dir.slice(3)) : null, showTangents);
    } else { req.method = m; fetchOr(req, state.data.methods ? state.data.methods[m] : null, showGradient); }
  }
  function fetchOr(req, precomputed, then) {
    if (!SERVER) { if (precomputed) then(precomputed); return; }
    $("method-result").innerHTML = '<p class="note">computing…</p>';
    var seq = state.seq;
    post("api/run", req).then(function (ans) { if (seq !== state.seq) return; if (ans.unreachable) stale(UNREACHABLE); else then(ans); });
  }
  function fillDirections() {
    var sel = $("direction"), ins = state.data.inputs || [], key = ins.join(",");
    if (sel.getAttribute("data-key") === key) return;
    sel.setAttribute("data-key", key);
    sel.innerHTML = "";
    var opts = [["", "every input (the gradient, one pass per input)"]].concat(ins.map(function (n) { var sh = own(state.data.shapes, n); return ["in:" + n, (sh && sh.length ? "every element of d" + n : "d" + n) + " = 1, the others 0"]; }));
    if (SERVER) opts.push(["custom", "custom…"]);
    opts.forEach(function (o) { var e = document.createElement("option"); e.value = o[0]; e.textContent = o[1]; sel.appendChild(e); });
  }
  function showGradient(ans) {
    var box = $("method-result"), ref = values();
    if (ans.error) { box.innerHTML = '<pre class="error"></pre>'; box.firstChild.textContent = ans.error.kind + " error: " + ans.error.message; return; }
    var grad = ans.gradient || ans.jacobian || {}, refGrad = ref.gradient || ref.jacobian || {};
    var out = Array.isArray(ans.output) ? "(" + ans.output.join(", ") + ")" : ans.output;  // as the gradient table: ∂(y1, y2)/∂x
    var t = document.createElement("table");
    var self = ans.method === "reverse";  // reverse mode beside itself: one column, not two equal ones
    t.appendChild(row(self ? [{ text: "input", head: true }, "by reverse mode"] :
      [{ text: "input", head: true }, "by " + ans.method, "reverse mode", "|difference|"]));
    Object.keys(grad).forEach(function (n) {
      var a = grad[n], b = own(refGrad, n), d = self ? 0 : maxDiff(a, b);
      t.appendChild(row(self ? ["∂" + out + "/∂" + n, { text: full(a), num: true }] :
        ["∂" + out + "/∂" + n, { text: full(a), num: true }, { text: full(b), num: true }, { text: g(d, 3), num: true }]));
    });
    box.innerHTML = "";
    box.appendChild(t);
    if (ans.method === "fd") { var p = document.createElement("p"); p.className = "note"; p.textContent = "central differences with ε = " + g(ans.epsilon, 3) + " (scaled by each input's size)"; box.appendChild(p); }
    if (ans.caution) { var c = document.createElement("p"); c.className = "note warn"; c.textContent = "note: " + ans.caution; box.appendChild(c); }
  }
  function showTangents(ans) {
    var box = $("method-result");
    if (ans.error) { box.innerHTML = '<pre class="error"></pre>'; box.firstChild.textContent = ans.error.kind + " error: " + ans.error.message; return; }
    var t = document.createElement("table"), dir = Object.keys(ans.direction).map(function (n) { return "d" + n + "=" + full(ans.direction[n]); }).join(", ");
    t.appendChild(row([{ text: "node", head: true }, "tangent (forward mode along " + dir + ")"]));
    Object.keys(ans.tangents).forEach(function (n) { t.appendChild(row([n, { text: ans.tangents[n] === null ? "undefined (no finite value here)" : full(ans.tangents[n]), num: true }])); });
    box.innerHTML = ""; box.appendChild(t);
  }

  /* ---------- the ε sweep: finite differences' error against ε ---------- */
  function renderSweep(data) {
    var box = $("sweep"); box.innerHTML = "";
    var sw = data.sweep;
    if (!sw || sw.error) return;
    var W = 420, H = 220, L = 48, R = 12, T = 14, Bm = 34, lx = function (e) { return L + (Math.log10(e) + 14) / 13 * (W - L - R); };
    var errs = [], rows = sw.sweep;
    rows.forEach(function (r) { [r.forward_error, r.central_error].forEach(function (e) { if (e !== null) errs.push(e); }); });
    var logs = errs.map(function (e) { return Math.log10(Math.max(e, 1e-17)); }), lo = Math.floor(Math.min.apply(null, logs)), hi = Math.ceil(Math.max.apply(null, logs));
    if (hi === lo) hi = lo + 1;
    var ly = function (e) { return T + (hi - Math.log10(Math.max(e, 1e-17))) / (hi - lo) * (H - T - Bm); };
    var svg = el("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "finite-difference error against epsilon" });
    for (var p = lo; p <= hi; p += Math.max(1, Math.round((hi - lo) / 6))) { svg.appendChild(el("line", { "class": "grid", x1: L, x2: W - R, y1: ly(Math.pow(10, p)), y2: ly(Math.pow(10, p)) })); text(svg, "", 4, ly(Math.pow(10, p)) + 4, "1e" + p); }
    for (var q = -14; q <= -1; q += 2) text(svg, "", lx(Math.pow(10, q)) - 12, H - Bm + 14, "1e" + q);
    text(svg, "", W / 2 - 50, H - 4, "ε (finite-difference step)");
    svg.appendChild(el("line", { "class": "axis", x1: L, x2: L, y1: T, y2: H - Bm }));
    svg.appendChild(el("line", { "class": "axis", x1: L, x2: W - R, y1: H - Bm, y2: H - Bm }));
    var series = [["forward_error", "fwd", "one-sided difference"], ["central_error", "cen", "central difference"], [null, "best", "best central ε"]];
    series.slice(0, 2).forEach(function (s) {
      var runs = [[]];  // a step out of the domain (null) breaks the line: no segment drawn across it
      rows.forEach(function (r) { if (r[s[0]] === null) runs.push([]); else runs[runs.length - 1].push(lx(r.epsilon) + "," + ly(r[s[0]])); });
      runs.forEach(function (pts) { if (pts.length) svg.appendChild(el("polyline", { "class": s[1], points: pts.join(" ") })); });
    });
    if (sw.best.central != null) svg.appendChild(el("line", { "class": "best", x1: lx(sw.best.central), x2: lx(sw.best.central), y1: T, y2: H - Bm }));
    // the legend on a ground of its own, over the curves (they ran through its words: a visual review), the dashed line named
    svg.appendChild(el("rect", { x: W - 168, y: T, width: 164, height: 48, fill: "#fff", "fill-opacity": 0.92, stroke: "#ddd" }));
    series.forEach(function (s, i) {
      svg.appendChild(el("line", { "class": s[1], x1: W - 162, x2: W - 142, y1: T + 10 + i * 14, y2: T + 10 + i * 14 }));
      text(svg, "", W - 138, T + 14 + i * 14, s[2]);
    });
    var h = document.createElement("h3"); h.textContent = "The ε trade-off: relative error of finite differences ";
    var best = document.createElement("span"); best.style.whiteSpace = "nowrap";  // ("1e-" / "06" split at the wrap)
    best.textContent = sw.best.central != null ? "(best central ε ≈ " + g(sw.best.central, 1) + ")" : "(every x − ε leaves the domain)";
    h.appendChild(best);
    box.appendChild(h); box.appendChild(svg);
  }

  /* ---------- wiring ---------- */
  function start() {
    $("step-next").addEventListener("click", function () { stopPlay(); go(state.step + 1); });
    $("step-prev").addEventListener("click", function () { stopPlay(); go(state.step - 1); });
    $("step-reset").addEventListener("click", function () { stopPlay(); go(0); });
    $("step-play").addEventListener("click", play);
    document.addEventListener("keydown", function (e) {
      var typing = /^(TEXTAREA|INPUT|SELECT)$/.test(document.activeElement && document.activeElement.tagName);
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); scheduleRun(0); return; }
      if (typing) return;
      if (e.key === "ArrowRight") { stopPlay(); go(state.step + 1); e.preventDefault(); }
      else if (e.key === "ArrowLeft") { stopPlay(); go(state.step - 1); e.preventDefault(); }
      else if (e.key === "Home") { stopPlay(); go(0); }
    });
    document.querySelectorAll('input[name="method"]').forEach(function (r) {
      r.addEventListener("change", function () { state.method = r.value; renderMethod(); writeHash(); });
    });
    $("direction").addEventListener("change", function () { $("direction-text").hidden = $("direction").value !== "custom"; renderMethod(); });
    $("direction-text").addEventListener("change", renderMethod);
    var src = $("source");
    src.addEventListener("input", function () {  // (a long program: plain text while typing, colours when idle)
      clearTimeout(state.lightTimer);
      if (src.value.length > 20000) { $("editor").classList.add("plain"); state.lightTimer = setTimeout(highlight, 400); }
      else highlight();
      scheduleRun(600);
    });
    src.addEventListener("scroll", syncScroll);
    var released = false;  // Esc, then Tab: on to the next field (Tab alone indents: no keyboard trap)
    src.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { released = true; return; }
      if (e.key === "Tab" && !released && !e.shiftKey) { e.preventDefault(); var s = src.selectionStart; src.setRangeText("    ", s, src.selectionEnd, "end"); highlight(); }
      released = false;
    });
    $("run").addEventListener("click", function () { scheduleRun(0); });
    $("share").addEventListener("click", function () {
      writeHash();
      var u = $("share-url"); u.hidden = false; u.value = location.href; u.select();
      if (navigator.clipboard) navigator.clipboard.writeText(location.href).catch(function () { /* selected for copying */ });
    });
    if (SERVER) {
      $("mode-note").textContent = "Type a program; it runs as you type. ← → step through the passes.";
      window.addEventListener("hashchange", function () { var h = readHash(); if (h.program !== undefined && h.program !== src.value) fromLink(h); });
      var h = readHash();
      fromLink(h.program !== undefined ? h : { program: CONFIG.example.program, at: CONFIG.example.at });
    } else {
      var d = CONFIG.lesson;
      $("mode-name").textContent = "lesson";
      $("mode-note").textContent = "Precomputed at " + briefAt(d) + " by graphlang html. To change the program or the values, open it in graphlang serve.";
      $("run").hidden = true; $("share").hidden = true;
      src.readOnly = true; src.value = d.program;
      show(d);
    }
  }
  function fromLink(h) {
    $("source").value = h.program || "";
    state.inputsKey = null; state.fields = dict(); state.step = 0;
    if (h.method && /^(reverse|forward|fd|symbolic)$/.test(h.method)) {
      state.method = h.method;
      document.querySelector('input[name="method"][value="' + h.method + '"]').checked = true;
    }
    state.data = null;
    renderInputs(Object.keys(parseAt(h.at || "")), h.at || "");  // the link's values, before the program is checked
    highlight();
    run();
  }
  start();
})();
