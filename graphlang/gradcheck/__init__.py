"""Do the four methods agree (`agree.py`)? And the finite-difference ε trade-off, measured
(`epsilon.py`); `measure.py` holds the error measure both share.

Layer: above `program` (it runs a Program by every method); beside `grading` and `training`; below
`present` and the front ends.
"""

from graphlang.gradcheck.agree import (
    TOLERANCES,
    Row,
    corners_of,
    digits_lost,
    exact_derivatives,
    fd_caution,
    gradcheck,
    kinks,
    on_corners,
)
from graphlang.gradcheck.epsilon import EPSILONS, SweepRow, best, sweep
from graphlang.gradcheck.measure import mixed_error

__all__ = ["EPSILONS", "TOLERANCES", "Row", "SweepRow", "best", "corners_of", "digits_lost", "exact_derivatives",
           "fd_caution", "gradcheck", "kinks", "mixed_error", "on_corners", "sweep"]
