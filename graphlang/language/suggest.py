"""What a student meant by a function graphlang does not have: the built-in a misspelt or foreign
name stands for (`sigma`: sigmoid, `cosin`: cos), or what to write instead (`sinh(q)`: (exp(q) −
exp(−q)) / 2), in the call's own arguments."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from graphlang.language.ast import Expr
from graphlang.primitives.table import HELPERS, builtin_names, lookup

# Names students write for a built-in function (from the lecture's notation and other languages),
# and functions written with an operator instead.
_SYNONYMS = {"sigma": "sigmoid", "logistic": "sigmoid", "sig": "sigmoid", "sgn": "sign",
             "exponential": "exp", "maximum": "max", "minimum": "min", "fabs": "abs",
             "concatenate": "concat", "cat": "concat", "append": "concat"}
OPERATOR_HINTS = {"sqr": "square with ^: write x^2", "pow": "powers use ^: write x^y",
                   "power": "powers use ^: write x^y", "log10": "write ln(x) / ln(10)",
                   "log2": "write ln(x) / ln(2)", "square": "write x^2", "sq": "write x^2", "cube": "write x^3",
                   "cbrt": "write x^(1/3)", "exp2": "write 2^x", "expm1": "write exp(x) - 1",
                   "log1p": "write ln(1 + x)", "sinh": "write (exp(x) - exp(-x)) / 2",
                   "cosh": "write (exp(x) + exp(-x)) / 2", "atan2": "graphlang has no inverse trigonometric functions",
                   "hstack": "concat(u, v) puts u above v (vectors: end to end); [u, v] stacks them as rows",
                   "vstack": "[u, v] stacks vectors as the rows of a matrix; concat(A, B) puts A's rows above B's",
                   "inv": "write 1 / x", "reciprocal": "write 1 / x", "matmul": "write A @ B",
                   "norm": "write sqrt(sum(x^2)) (or sum(x^2) for the squared norm)"} | {
    f: "there are no array constructors: write the numbers as a literal, [[0, 0], [0, 0]], or declare "
       "param W[3, 2] (train initializes it)" for f in ("zeros", "ones", "eye", "array", "full", "empty",
                                                        "rand", "randn", "linspace", "arange", "identity")} | {
    f: "graphlang has no inverse trigonometric functions" for f in
    ("arctan", "atan", "arcsin", "asin", "arccos", "acos", "arctanh", "atanh")} | {
    f: "losses are written out: -sum(t * logsoftmax(u)) on the logits u (multiclass), softplus(u) - y * u "
       "on a logit (binary), sum((yhat - y)^2) (squared error)" for f in
    ("cross_entropy", "crossentropy", "cross_entropy_loss", "softmax_cross_entropy", "ce", "bce",
     "binary_cross_entropy", "nll", "nll_loss", "log_loss", "mse", "mse_loss", "l2_loss", "squared_error")} | {
    f: "there is no reduce-max: max(u, v) is elementwise; logsumexp(u) is a smooth maximum" for f in
    ("amax", "argmax", "reduce_max")}


def suggest(name: str) -> str | None:
    """The built-in a misspelled call meant: a synonym, a function the name starts with (`cosine`,
    `cosin`: cos, where difflib's tie said sin), else the closest by difflib."""
    if name in _SYNONYMS:
        return _SYNONYMS[name]
    if name in OPERATOR_HINTS:
        return None
    if name.lower() in builtin_names() and name.lower() not in HELPERS:  # LN(x), Exp(x): names are case-sensitive
        return name.lower()
    known = told()
    prefix = max((b for b in known if len(b) >= 3 and name.lower().startswith(b)), key=len, default=None)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return prefix or (close[0] if close else None)


def told() -> list[str]:
    """The functions a student is told of: not the helpers derivative programs write, but outer, and
    sign and step, which derivatives show (`diff` of abs(x) + relu(x) is sign(x) + step(x))."""
    return [b for b in builtin_names() if b not in HELPERS or b in ("outer", "sign", "step")]


def operator_hint(fname: str, args: list[Expr]) -> str | None:
    """The hint for a function written otherwise, in the call's own arguments where each is a name
    or a number (`sinh(q)`: write (exp(q) - exp(-q)) / 2; the hint said x, another input when pasted),
    else for u (and v)."""
    hint = OPERATOR_HINTS.get(fname)
    wanted = len(set(re.findall(r"\b[xy]\b", hint or "")))  # (pow(q): one argument where x^y needs two)
    if hint is None or not wanted or len(args) != wanted:
        return hint
    plain = all(a.op == "var" or (a.op == "const" and isinstance(a.attr, float)) for a in args)
    own = [str(a.attr) if a.op == "var" else _number(a.attr) for a in args] if plain else ["u", "v"][:len(args)]
    said = re.sub(r"\b[xy]\b", lambda m: own["xy".index(m.group())], hint)  # (x: the first argument, y: the second)
    return said if plain else f"for {fname}({', '.join(own)}): {said}"


def _number(value: object) -> str:
    """A constant as written back: 2, 0.123456789, 1234567 (`:g` gave 1.23457e+06, another number)."""
    v = float(value)  # type: ignore[arg-type]
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def index_hint(statement: str, token: str, parses: Callable[[str], bool]) -> str:
    """`-sum(t[c] * ln(p[c]))`, the lecture's Σ_c with its index: the elementwise form it may mean (the
    line with the index dropped, where that parses: a guess, said as one)."""
    plain = "indices and declared shapes are whole numbers written out: A[0, 1], input v[3]"
    if not re.fullmatch(r"[A-Za-z_]\w*", token) or not re.search(r"\b(sum|mean)\s*\(", statement):
        return plain
    bare = re.sub(rf"\[\s*{re.escape(token)}\s*\]", "", statement).strip()
    if bare == statement.strip() or len(bare) > 80 or not parses(bare):
        return plain
    array = re.search(rf"(\w+)\s*\[\s*{re.escape(token)}\s*\]", statement)
    return (f"there are no index variables ({token}): an index is a whole number ({array.group(1) if array else 'v'}"
            f"[0]); a sum over {token} is elementwise operations, then sum: perhaps {bare}")


def number_slip(before: str, token: str) -> str | None:
    """`1_000`, `0x10`: number forms other languages have (the digits then read as a name)."""
    digits = re.search(r"(?<![A-Za-z0-9_.])(\d+)$", before)
    if digits is None:
        return None
    if token.startswith("_") and re.fullmatch(r"_[\d_]+", token):
        number = digits.group(1)
        return f"write numbers without separators: {number}{token.replace('_', '')}, not {number}{token}"
    base = {"x": 16, "X": 16, "b": 2, "B": 2, "o": 8, "O": 8}.get(token[:1])
    if digits.group(1) == "0" and base is not None:
        try:
            return f"numbers are decimal: write {int(token[1:], base)}, not 0{token}"
        except ValueError:
            return None
    return None


def module_hint(module: str, fn: str) -> str:
    """`np.matmul(W, x)`, `np.zeros(3)`, `np.linalg.norm(x)`: the built-in, or the rewrite resolve gives."""
    if fn == "pi":
        return f"write pi, not {module}.pi"
    if fn == "e":
        return f"write exp(x) for e^x, not {module}.e ** x"
    if lookup(fn) is not None:
        return f"functions are built in: write {fn}(x), not {module}.{fn}(x)"
    if fn in OPERATOR_HINTS:
        return f"{module}.{fn}: {OPERATOR_HINTS[fn]}"
    near = suggest(fn)
    return f"functions are built in: write {near}(x), not {module}.{fn}(x)" if near else \
        f"functions are built in (no {module}.{fn}): sum, exp, ln, sqrt, sigmoid, softmax, …"
