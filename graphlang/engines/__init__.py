"""Engines that run a graph: the interpreter (forward values, reverse adjoints, forward tangents, batched
or not), and compiled straight-line plans for the fast gradient.

Layer: imports `symbolic`, `ir`, `language`, `primitives` and the bottom; never `methods` or `program`.
"""
