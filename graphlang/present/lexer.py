"""A Pygments lexer for .cg, so the REPL, Rich and other tools can highlight programs."""

from __future__ import annotations

from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, Text

from graphlang.primitives.table import builtin_names


class CgLexer(RegexLexer):
    name = "graphlang"
    aliases = ["cg", "graphlang"]
    filenames = ["*.cg"]

    tokens = {
        "root": [
            (r"#.*?$", Comment.Single),
            (r"[ \t\r\n]+", Text),
            (words(("input", "param", "output"), suffix=r"\b"), Keyword),
            (words(tuple(builtin_names()), suffix=r"\b"), Name.Builtin),
            (r"\bpi\b", Name.Constant),
            (r"\.T\b", Operator),
            (r"([0-9]+\.(?!T\b)[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+([eE][+-]?[0-9]+)?", Number),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name.Variable),
            (r"\*\*|[-+*/^@=]", Operator),
            (r"[()\[\],;]", Punctuation),
        ],
    }
