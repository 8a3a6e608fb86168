"""Training data and parameters: CSV columns mapped to a program's inputs, parameters as .npz files.

Every size is checked before it is read or allocated (untrusted files); rows and cells are located
in messages by their line in the file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.files import write_with
from graphlang.program import Program


@dataclass
class Dataset:
    columns: dict[str, np.ndarray]  # input name -> (N, *shape)
    n: int
    labels: np.ndarray | None = None  # class indices, when the label was one column


def data_inputs(program: Program) -> list[str]:
    return [n for n in program.inputs if n not in program.graph.params]


def load_csv(program: Program, path: str, max_rows: int = 2_000_000, names: list[str] | None = None,
             class_column: bool = True) -> Dataset:
    """Read and validate a CSV against the program's declared inputs (or only `names`, e.g. the
    inputs a prediction reads: unlabeled data; `class_column=False`: no class-index column)."""
    names = data_inputs(program) if names is None else names
    declared = program.checked.declared
    shapes = []
    for n in names:
        if n not in declared:
            raise GraphlangError("shape", f"the input {n!r} needs a declaration with its shape, "
                                 f"e.g. `input {n}[4]`, to read it from a CSV")
        shapes.append(declared[n] or ())
    sizes = [int(np.prod(s)) if s else 1 for s in shapes]
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except OSError as err:
        raise GraphlangError("io", f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise GraphlangError("value", f"{path} is not UTF-8 text") from None
    if len(rows) > max_rows:
        raise GraphlangError("limit", f"{path} has more than {max_rows:,} rows")
    start = 1 if rows and any(not _is_number(c) for c in rows[0]) else 0
    body = [r for r in rows[start:] if r and any(c.strip() for c in r)]
    if not body:
        raise GraphlangError("value", f"{path} has no data rows")
    want = sum(sizes)
    one_hot = class_column and len(shapes[-1]) == 1 and shapes[-1][0] > 1 and len(body[0]) == want - sizes[-1] + 1
    ncols = want - sizes[-1] + 1 if one_hot else want
    data = np.empty((len(body), ncols))
    for i, row in enumerate(body):
        if len(row) != ncols:
            alt = class_column and len(shapes[-1]) == 1 and shapes[-1][0] > 1 and not one_hot
            also = f" or {want - sizes[-1] + 1} ({_layout(names, sizes, True)})" if alt else ""
            raise GraphlangError("value", f"{path} line {i + 1 + start}: {len(row)} column"
                                 f"{'s' * (len(row) != 1)}, expected {ncols} ({_layout(names, sizes, one_hot)}){also}")
        for j, cell in enumerate(row):
            try:
                data[i, j] = float(cell)
            except ValueError:
                raise GraphlangError("value", f"{path} line {i + 1 + start}, column {j + 1}: "
                                     f"{cell[:20]!r} is not a number") from None
    if not np.all(np.isfinite(data)):
        raise GraphlangError("value", f"{path} holds NaN or infinite values")
    columns: dict[str, np.ndarray] = {}
    at = 0
    labels = None
    for k, (n, s, size) in enumerate(zip(names, shapes, sizes)):
        if one_hot and k == len(names) - 1:
            raw = data[:, at]
            classes = s[0]
            bad = (raw != np.round(raw)) | (raw < 0) | (raw >= classes)
            if np.any(bad):
                i = int(np.argmax(bad))
                raise GraphlangError("value", f"{path} line {i + 1 + start}: the label {raw[i]:g} is "
                                     f"not a class 0..{classes - 1}")
            labels = raw.astype(int)
            columns[n] = np.eye(classes)[labels]
        else:
            columns[n] = data[:, at : at + size].reshape((len(body), *s))
            at += size
    return Dataset(columns, len(body), labels)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _layout(names: list[str], sizes: list[int], one_hot: bool) -> str:
    parts = [f"{n}: {s}" for n, s in zip(names, sizes)]
    if one_hot:
        parts[-1] = f"{names[-1]}: 1 (class index)"
    return ", ".join(parts)


def save_params(params: dict[str, np.ndarray], path: str) -> None:
    """Exactly `path` (np.savez given a name would add .npz), written atomically."""
    write_with(path, lambda fh: np.savez(fh, **params))  # type: ignore[arg-type]


def load_params(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: np.array(f[k], dtype=np.float64) for k in f.files}
    except (OSError, ValueError) as err:
        raise GraphlangError("io", f"cannot read parameters from {path}: {err}") from None
