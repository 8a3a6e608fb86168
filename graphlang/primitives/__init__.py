"""The primitives: one table row per function (forward, derivative rules, batch rule, printing, domain),
the numpy kernels behind them, and shape rules.

Layer: imports only `errors`, `limits`, `numbers`. Everything above reads the table; nothing here knows
about programs, graphs or engines.
"""
