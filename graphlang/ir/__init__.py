"""The intermediate representation: a checked program lowered to a flat list of equations over slots
(`str(graph)` prints it), the derivative rules compiled per primitive, and binding input values.

Layer: imports `language`, `primitives` and the bottom. Statement order is a topological order, so every
consumer is a loop over `graph.eqns`.
"""
