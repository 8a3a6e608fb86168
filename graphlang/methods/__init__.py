"""The other ways to differentiate: forward mode, central differences, symbolic (SPEC §2) in
`jacobians`; second derivatives in `hessian`; corners (kinks) in `corners`.

Layer: imports `engines`, `symbolic`, `ir`, `primitives` and the bottom; never `program` or above.
"""

from graphlang.methods.jacobians import (
    MAX_BATCHED_ELEMENTS,
    Program,
    batch_numbers,
    choose_mode,
    estimate,
    fd_columns,
    fd_epsilon_report,
    gradient,
    jacobian,
)

__all__ = ["MAX_BATCHED_ELEMENTS", "Program", "batch_numbers", "choose_mode", "estimate", "fd_columns",
           "fd_epsilon_report", "gradient", "jacobian"]
