"""Lark's parse errors as messages for students: what was expected in words, the unclosed bracket
named where it opens, the hint for the slip that most often causes each."""

from __future__ import annotations

import re

from graphlang.errors import GraphlangError
from graphlang.language.grammar import lark_parser
from graphlang.language.larklazy import lark
from graphlang.language.suggest import index_hint, module_hint, number_slip
from graphlang.primitives.table import lookup

# How terminals read in a message for students (never RPAR or $END).
_DESCRIBE = {
    "NAME": "a name",
    "NUMBER": "a number",
    "INT": "a number",
    "SEP": "end of statement",
    "$END": "end of input",
    "MULOP": "an operator (* / @)",
    "POW": "'^'",
    "INPUT": "'input'",
    "PARAM": "'param'",
    "OUTPUT": "'output'",
}


_KEYWORD_USE = {"input": ("input x declares an input", "x_in"), "param": ("param W declares a parameter", "w"),
                "output": ("output y names the output", "out")}


def _describe(term: str) -> str:
    if term in _DESCRIBE:
        return _DESCRIBE[term]
    t = lark_parser().get_terminal(term) if term in {t.name for t in lark_parser().terminals} else None
    if t is not None and t.pattern.type == "str":
        return repr(t.pattern.value)
    return term.lower()


def position(text: str, offset: int) -> tuple[int, int]:
    """(line, column), 1-based, of an offset into the text."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


_CLOSER = {"(": ")", "[": "]"}


def _open_bracket(text: str, end: int, closed_too: bool = False) -> int | None:
    """The offset of the innermost bracket open at `end` that no bracket in the whole text closes
    (comments skipped), or None: a bracket closed further on is not the error (`max(x,\n z z)`)."""
    stack: list[int] = []
    at_end: list[int] | None = None
    for m in re.finditer(r"#[^\n]*|[()\[\]]", text):
        if at_end is None and m.start() >= end:
            at_end = list(stack)
        ch = m.group()
        if ch in "([":
            stack.append(m.start())
        elif ch in ")]" and stack:
            stack.pop()
    never = set(stack)
    return next((o for o in reversed(stack if at_end is None else at_end) if closed_too or o in never), None)


def syntax_error(text: str, err: lark.exceptions.UnexpectedInput) -> GraphlangError:
    """Lark's error as a student reads it: located, what was expected in words, a hint for the slip."""
    if isinstance(err, lark.exceptions.UnexpectedCharacters):
        return _unexpected_character(text, err)
    if isinstance(err, lark.exceptions.UnexpectedToken):
        return _unexpected_token(text, err)
    line, column = getattr(err, "line", None), getattr(err, "column", None)
    return GraphlangError("syntax", "unexpected end of input", line, column)


def _unexpected_character(text: str, err: lark.exceptions.UnexpectedCharacters) -> GraphlangError:
    """A character no token starts with: the habit it comes from (MATLAB's ', .*, LaTeX, |x|, …)."""
    ch = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
    hint = None
    before_ch = text[: err.pos_in_stream].rstrip(" \t")
    if ch == "'" and before_ch and (before_ch[-1].isalnum() or before_ch[-1] in "_)]"):  # W': MATLAB's transpose
        name = (re.search(r"([A-Za-z_]\w*)$", before_ch) or re.match("", "")).group(0) or "W"
        hint = f"a transpose is .T: write {name}.T, not {name}'"
    elif ch in "\"'":
        hint = "the language has numbers, names and operators; strings are not allowed"
    elif ch == "." and text[err.pos_in_stream + 1 : err.pos_in_stream + 2] in ("*", "/", "^"):  # MATLAB's .*
        op = text[err.pos_in_stream + 1]
        hint = f"every operator is elementwise: write {op}, not .{op}"
    elif ch == "." and text[err.pos_in_stream : err.pos_in_stream + 2] != ".T":
        hint = "the only attribute is `.T` (transpose)"
    elif ch == "|":
        hint = "the absolute value is a function: write abs(x), not |x|"
    elif ch == ":" and text[err.pos_in_stream + 1 : err.pos_in_stream + 2] == "=":
        hint = "= names a node: write y = x, not y := x"
    elif ch == ":" and (declared := _DECLARED.search(text[text.rfind("\n", 0, err.pos_in_stream) + 1:
                                                          err.pos_in_stream])):  # `input x: 3` (its line)
        hint = f"a shape goes in brackets: {declared.group(1)} {declared.group(2)}[3]"
    elif ch == ":":
        hint = "there is no slicing: index one element, v[0] or A[0, 1], or name the parts you need"
    elif ch == "\\" and not text[err.pos_in_stream + 1 :].split("\n", 1)[0].strip(" \t"):
        hint = "to go on to the next line, open a bracket: y = (a + … then b) on the next line, not a trailing \\"
    elif ch == "\\":
        hint = _latex_hint(text[err.pos_in_stream + 1 :])
    elif ch == "%":
        hint = "comments start with # (and there is no % operator)"
    module = re.search(r"\b(np|numpy|math|torch)$", text[: err.pos_in_stream]) if ch == "." else None
    if module:  # `np.sum(x)`: the function after the dot(s), built in or rewritten
        fn = _group(re.match(r"(?:\.[A-Za-z_]\w*)*\.([A-Za-z_]\w*)", text[err.pos_in_stream:]), "exp")
        hint = module_hint(module.group(1), fn)
    return GraphlangError(
        "syntax", f"unexpected character {ch!r}", err.line, err.column,
        hint or "remove the character or replace it with an operator: + - * / @ ^",
    )


def _unexpected_token(text: str, err: lark.exceptions.UnexpectedToken) -> GraphlangError:
    """A token the grammar does not take there: an unclosed bracket, what was expected, the slip's hint."""
    tok = err.token
    opened = _open_bracket(text, len(text) if tok.type == "$END" else tok.start_pos or 0)
    if opened is not None and (tok.type == "$END" or text.count("\n", opened, tok.start_pos or 0)):
        line, column = position(text, opened)
        then = "the program ends before it is closed" if tok.type == "$END" else \
            "the lines after it were read as part of its statement"
        return GraphlangError("syntax", f"{text[opened]!r} is never closed: {then}", line, column,
                              f"close it with {_CLOSER[text[opened]]!r} where its statement ends")
    expected = sorted({_describe(t) for t in err.expected if not t.startswith("__")})
    start = max(text.rfind("\n", 0, tok.start_pos or 0), text.rfind(";", 0, tok.start_pos or 0)) + 1
    statement = text[start : tok.start_pos or 0]
    if statement.count("(") + statement.count("[") <= statement.count(")") + statement.count("]"):
        # no bracket is open: LALR's merged states also list closers that cannot come here
        drop = {"')'", "']'"} | (set() if statement.lstrip().startswith(("input", "param", "output"))
                                 else {"','"})
        expected = [e for e in expected if e not in drop]
    want = ", ".join(expected[:8]) if expected else "something else"
    if tok.type == "$END":
        line, column = position(text, len(text.rstrip()))
        return GraphlangError(
            "syntax", f"the program ends in the middle of a statement; expected {want}",
            line, column, "close every bracket and finish the expression",
        )
    keyword = re.fullmatch(r"\s*(input|param|output)\s*", statement)
    if keyword and str(tok) == "=":  # `output = sigmoid(u)`: a keyword as a node's name
        word, (use, other) = keyword.group(1), _KEYWORD_USE[keyword.group(1)]
        return GraphlangError("reserved", f"{word!r} is a keyword ({use}) and cannot be assigned",
                              *position(text, start + keyword.start(1)), f"choose another name, e.g. {other} = ...")
    shown = "end of statement" if tok.type == "SEP" else repr(str(tok))
    hint = "finish the expression before the line ends" if tok.type == "SEP" else (
        _operator_slip(statement, text[tok.start_pos or 0 :]) or _GENERIC)
    if tok.type in ("RPAR", "RSQB") and _open_bracket(text, tok.start_pos or 0, closed_too=True) is None:  # `exp(x))`
        hint = f"this {str(tok)!r} closes no bracket: delete it, or open one where it should start"
    code = text[start:].split("\n", 1)[0].split("#", 1)[0].rstrip()  # (no lazy group before blanks: 1.4 s)
    assigned = re.match(r"\s*(\w+)\s*=", code)  # (then the rest: one regex over both backtracked)
    rhs = code[assigned.end():].strip() if assigned else ""
    if str(tok) == "," and assigned and rhs and ";" not in rhs and _open_bracket(text, tok.start_pos or 0,
                                                                                   closed_too=True) is None:
        hint = f"a vector needs brackets: write {assigned.group(1)} = [{rhs[:60]}]"  # v = 1, 2
    inside = _open_bracket(text, tok.start_pos or 0, closed_too=True) if tok.type == "SEP" else None
    if inside is not None and text[inside] == "[" and ";" in str(tok):
        parts = [p.strip() for p in text[inside + 1:].split("\n", 1)[0].split("]", 1)[0].split(";")]
        hint = "a matrix's rows are lists: write [[1, 2], [3, 4]], not [1, 2; 3, 4]" if any(
            "," in p or "[" in p for p in parts) or all(re.fullmatch(r"[-+.\d\se]*", p) for p in parts) else \
            f"to put values one below the other (the lecture's [1; x]) write concat({', '.join(parts)[:80]})"
    before = text[: tok.start_pos].rstrip(" \t")
    if tok.type in ("NAME", "NUMBER", "INT", "LPAR") and before and (before[-1].isalnum()
                                                                     or before[-1] in "_)]"):
        called = re.search(r"(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*)$", before)
        if called and lookup(called.group(1)) is not None and tok.type != "LPAR":
            fn = called.group(1)
            hint = (f"a function's argument goes in parentheses: write {fn}({tok}), "
                    f"not {fn} {tok}")
        elif slip := number_slip(text[: tok.start_pos], str(tok)):  # (no space between: one word)
            hint = slip
        elif (lit := _open_bracket(text, tok.start_pos or 0, closed_too=True)) is not None and text[lit] == "[" \
                and not re.search(r"[\w)\]]$", text[:lit].rstrip(" \t")):  # a list, not an index: [1 2]
            hint = "separate a list's elements with commas: write [1, 2], not [1 2]"
        elif text[start : tok.start_pos].count("=") == 1:  # (this statement's: `a = x; sin(a)` names none)
            hint = ("is an operator missing? Products need a *: write 2 * x, not 2x, and "
                    "x * y, not x y")
    elif tok.column == 1 and tok.type in ("NUMBER", "INT"):
        hint = "a statement starts with a name: name = expression (names cannot start with a digit)"
    declaring = re.fullmatch(r"\s*(input|param|output)\s.*[\w\]]", statement.rstrip(), re.S)
    if tok.type == "NAME" and declaring and statement.split()[-1] in _TYPES:
        hint = f"declarations have no types: write {statement.split()[0]} {tok} (a number), or {tok}[3] (a vector)"
    elif tok.type == "NAME" and declaring:
        shown_tok, said = "…" if str(tok) in ("and", "or") else str(tok), statement.strip()
        hint = f"separate the names with commas: {'… ' * (len(said) > 80)}{said[-80:]}, {shown_tok}"  # (cut)
    elif tok.type == "LPAR" and before.endswith(".T"):
        name = _group(re.search(r"([A-Za-z_]\w*(?:\.T)*|[)\]])\.T$", before), "x")  # (x.T.T: x.T)
        name = name if name not in ")]" else "(…)"
        hint = f"the transpose is no call: write {name}.T, not {name}.T()"
    line_text = text[start : text.find("\n", start) if "\n" in text[start:] else len(text)]
    first = not text[start : tok.start_pos or 0].strip()  # (`(x + b) / 2`, `-x` at a statement's start)
    if ("'='" in expected or first and "a name" in expected) and hint == _GENERIC and str(tok) != "=":
        own = re.split(r"[;#]", line_text)[0].strip().replace("**", "^")
        continued = own[:1] in tuple("+*/^@")  # (`y = x⏎+ 1`: two statements; `-x` may be one of its own)
        hint = "the left of = is one name: name = expression" if "=" in own else (
            "a line that starts with an operator is a statement of its own: to go on with the line above, "
            "end that line with the operator (y = x +⏎ 1), or open a bracket there") if continued else \
            f"a statement names its value: write y = {own} (name = expression)" if _parses(
                f"y = {own}") and len(own) <= 60 else hint  # (`z x`: none; y: a line parsed alone says it too)
    hint = _habit(line_text) or hint
    bare = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*", statement)
    if bare and str(tok) == "[":  # `x[10]` declares in numpy's habit; `x[0] = 3` assigns an element
        owned = re.match(r"\s*\[([^\]\n;]*)\]\s*(=|;|#|\n|$)", text[tok.start_pos or 0:])
        if owned and owned.group(2) == "=":
            hint = (f"an element cannot be assigned: a node is assigned whole ({bare.group(1)} = [...]), "
                    "or compute the element as a node of its own")
        elif owned:
            dims = owned.group(1).strip()
            hint = (f"a shape is declared with a keyword: input {bare.group(1)}[{dims}] (or param "
                    f"{bare.group(1)}[{dims}] for a parameter that training updates)")
    opened = _open_bracket(text, tok.start_pos or 0, closed_too=True)
    if _LOOP.search(line_text.split("#", 1)[0]):
        pass  # `sum(w[i] * x[i] for i in range(3))`: the loop is the slip, not the index
    elif opened is not None and text[opened] == "[" and re.search(r"[A-Za-z0-9_]$", text[:opened].rstrip(" \t")):
        hint = index_hint(line_text.split("#", 1)[0], str(tok), _parses)  # (`t[c]`: Σ_c is sum(t * …))
    prev = text[:tok.start_pos or 0].rsplit("\n", 1)
    listing = opened is not None and (text[opened] == "[" or re.search(r"\w$", text[:opened]) is not None)
    if listing and len(prev) == 2 and not prev[1].strip() and tok.type != "SEP" \
            and text.count("\n", opened, tok.start_pos or 0) and not re.search(r"[,(\[+\-*/@^=]\s*$",
                                                                              prev[0].split("#")[-1]):
        hint = ("is a ',' missing at the end of the line before? Inside a bracket the next line "
                "continues the same list or call: [1, 2,⏎ 3]")  # `b = [1, 2⏎ 3]`
    column = tok.column
    if tok.type == "SEP" and "#" in text[text.rfind("\n", 0, tok.start_pos or 0) + 1:tok.start_pos]:
        # the statement ends where its code does, not after the comment that follows (`y = x +  # note`)
        code = text[text.rfind("\n", 0, tok.start_pos or 0) + 1:tok.start_pos].split("#", 1)[0]
        column = len(code.rstrip(" \t")) + 1
    return GraphlangError("syntax", f"unexpected {shown}; expected {want}", tok.line, column, hint)


_LOOP = re.compile(r"\bfor\s+\w+\s+in\b")  # a comprehension or a loop
# A declaration's last name right before the text's end, at a statement's start (`param W, b: [3]`).
_DECLARED = re.compile(r"(?:^|;)[ \t]*(input|param)[ \t]+(?:[A-Za-z_]\w*[ \t]*,[ \t]*)*([A-Za-z_]\w*)[ \t]*$")

# A statement in another language's habits: the hint that says what to write instead.
_HABITS = (
    (re.compile(r"^\s*(import|from)\b"), "graphlang is not Python: nothing to import; exp, ln, sin, sigmoid, "
                                          "sum, … are built in"),
    (re.compile(r"^\s*(let|var|const|val)\s+[A-Za-z_]"), "write name = expression (without {0})"),
    (re.compile(r"^\s*def\s"), "there are no function definitions: name each intermediate quantity, "
                                "name = expression"),
    (re.compile(r"^\s*return\s+([A-Za-z_]\w*)\s*$"), "the result is named with output: write output {0}"),
    (re.compile(r"^\s*(print|outputs?|Output|OUTPUT)\s*\(\s*[A-Za-z_]"), "write output y (no parentheses) to "
                                                                          "name the result"),
    (re.compile(r"^\s*(outputs|Output|OUTPUT|Input|INPUT|inputs|params|Param)\b"), "the keywords are input, "
                                                                                   "param and output (lowercase)"),
    (re.compile(r"^\s*output\s+[A-Za-z_]\w*\s*[-+*/^@(]"), "output names a node: write y = expression, "
                                                            "then output y"),
    (re.compile(r"^\s*(input|param)\s+[A-Za-z_]\w*\s*="), "input declares a name: give its value with --at "
                                                           "x=2 (or write the value as a number where it is used)"),
    (re.compile(r"^\s*(input|param)\s+[A-Za-z_]\w*\s*\("), "a shape goes in brackets: input W[2, 3]"),
    (re.compile(r"^\s*(//|%|--)|\s(//|--)\s*[A-Za-z]"), "comments start with #"),
    (_LOOP, "there are no loops or comprehensions: functions act on every element "
                                         "at once (sum(v^2) adds the squares)"),
    (re.compile(r"^\s*(if|for|while|return)\b|\bif\b.+\belse\b"), "there are no conditionals or loops: relu, "
                                                                   "step, max, min and abs make a piecewise function"),
    (re.compile(r"^(?!\s*(?:input|param|output)\b).*\s(and|or|not)\s"), "there are no comparisons or boolean "
                                                                      "operators ({0}): step(x) is 1 where "
                                      "x > 0, else 0; relu, max, min and abs make a piecewise function"),
    (re.compile(r"\bconcat\([^()]*\b(axis|dim)\s*="), "concat joins along the first axis and takes no axis: "
                                                       "concat(1, x) is [1; x] (a number as its last argument is "
                                                       "an element)"),
    (re.compile(r"\b([a-z]+)\([^()]*\b(axis|keepdims|dim)\s*="), "arguments have no names: write the axis as a "
                                                                 "number, {0}(x, 0) for axis 0"),
)


_GENERIC = "check the operator and its operands"


def _parses(statement: str) -> bool:
    """Is this one statement of the language (a hint's suggestion is only made when it is)?"""
    try:
        return bool(lark_parser().parse(statement + "\n"))
    except lark.exceptions.LarkError:
        return False


def _group(found: re.Match[str] | None, default: str) -> str:
    """A hint's name from its pattern's first group, or `default` where the pattern found none
    (`re.match("", "").group(1)` raised IndexError: `y = \\hat y` crashed the parser)."""
    return (found.group(1) if found else None) or default


def _habit(line: str) -> str | None:
    """The hint for a statement written in another language's habits (Python, JavaScript, numpy);
    its comment is prose, not read."""
    code = line.split("#", 1)[0]
    for pattern, hint in _HABITS:
        if m := pattern.search(code):
            return hint.format(m.group(1)) if "{0}" in hint else hint
    return None


_TYPES = frozenset({"float", "int", "double", "real", "vector", "matrix", "scalar", "number", "const"})
_DECORATIONS = frozenset({"mathbf", "hat", "boldsymbol", "bm", "text", "operatorname", "mathrm", "mathit", "bar",
                          "vec", "tilde", "mathcal", "textbf", "dot"})
_LATEX = {"frac": "write (a) / (b) for \\frac{a}{b}", "dfrac": "write (a) / (b) for \\dfrac{a}{b}",
          "tfrac": "write (a) / (b) for \\tfrac{a}{b}", "odot": "write * for \\odot (every product is elementwise)",
          "div": "write / for \\div", "log_": "ln is the natural logarithm: to base b write ln(x) / ln(b)",
          "cdot": "write * for \\cdot", "times": "write * for \\times",
          "sqrt": "write sqrt(x) for \\sqrt{x}", "left": "write plain brackets ( ) for \\left( \\right)",
          "right": "write plain brackets ( ) for \\left( \\right)", "top": "write x.T for x^\\top",
          "sum": "write sum(x) for \\sum x", "sigma": "write sigmoid(x) for \\sigma(x)"}


def _latex_hint(after: str) -> str:
    """A backslash: LaTeX typed as a program (`\\frac{x}{z}`, `\\sin(x)`)."""
    command = (re.match(r"[A-Za-z]+", after) or re.match("", "")).group()
    if command in _DECORATIONS:  # \mathbf{W}, \hat{y}: the name inside (ŷ is not y: yhat)
        inner = _group(re.match(r"[A-Za-z]+\s*\{?\s*([A-Za-z_]\w*)", after), "W")  # (\hat{y}, \hat y)
        return f"programs are not LaTeX: drop \\{command}, write {inner}" + command * (command in ("hat", "bar"))
    if command in ("log", "ln") and after[len(command):].lstrip().startswith("_"):
        command = "log_"
    said = _LATEX.get(command) or (f"write {command}(x) for \\{command}(x)" if lookup(command) is not None
                                   else f"names are plain: write {command}, not \\{command}" if command
                                   else "write the formula with + - * / ^ and functions: (a) / (b), sqrt(x), exp(x)")
    return f"programs are not LaTeX: {said} (graphlang diff --latex writes the LaTeX for you)"


def _operator_slip(statement: str, rest: str) -> str | None:
    """`y += 1`, `y == x`: an operator from another language where a statement's = belongs."""
    m = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*", statement)
    if m is None:
        m2 = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*=\s*", statement)
        if m2 is None or rest[:1] != "=":
            return None
        return f"= names a node (there are no comparisons): write {m2.group(1)} = ..."
    op = re.match(r"([-+*/^@])=", rest)
    if op:
        name = m.group(1)
        return (f"there is no {op.group(1)}=: a node is never assigned twice; name the new value, "
                f"{name}2 = {name} {op.group(1)} ...")
    return None
