"""Symbolic differentiation: the expression algebra and its text/LaTeX printers, adjoint expressions per
node, and the derivative as a runnable .cg program or a closed form.

Layer: imports `ir`, `language`, `primitives` and the bottom; never an engine or a Program.
"""
