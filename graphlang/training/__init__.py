"""Training: SGD on a program's `param`s over CSV data, as in the lecture's pseudocode.

Layer: above `program` (it drives a Program); below `present` and the front ends.
"""

from graphlang.training.data import Dataset, check_declared, load_csv, load_params, save_params
from graphlang.training.train import Trainer, init_params, rng_from

__all__ = ["Dataset", "Trainer", "check_declared", "init_params", "load_csv", "load_params", "rng_from",
           "save_params"]
