"""The .cg language: the AST, the grammar (Lark, from `grammars/graphlang.lark`), the parsers (full and
template-cached fast) and name resolution (define before use, never redefine).

Layer: imports `primitives` and the bottom (`errors`, `limits`, `numbers`); knows nothing of graphs.
"""
