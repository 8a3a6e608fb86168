"""Training files read without trusting them: CSV data and .npz parameters.

Nothing is allocated before its size is known. The declared shapes are checked against the limits
first (`check_declared`); a CSV is read line by line, each line bounded (at most 64 characters per
expected column), straight into floats; an .npz's arrays are checked from the .npy headers inside
the zip (dtype, shape against the declaration and the limits) before any array is read. Only
regular files are read: a FIFO would block and a device such as /dev/zero never ends.
"""

from __future__ import annotations

import array
import csv
import io
import math
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.files import write_with
from graphlang.limits import Limits
from graphlang.primitives.shapes import show
from graphlang.program import Program

CHARS_PER_COLUMN = 64  # a number, its separator and some spaces; a header name


@dataclass
class Dataset:
    columns: dict[str, np.ndarray]  # input name -> (N, *shape)
    n: int
    labels: np.ndarray | None = None  # class indices, when the label was one column
    where: tuple[str, list[int]] | None = None  # the CSV's path and each example's line in it


def data_inputs(program: Program) -> list[str]:
    return [n for n in program.inputs if n not in program.graph.params]


def check_declared(program: Program) -> None:
    """Every declared input and parameter within the limits, and the graph's shapes and cost per
    example, checked from the declarations before any data is read or any parameter allocated."""
    limits, checked = program.limits, program.checked
    total = 0
    for name in program.graph.inputs:
        shape = checked.declared.get(name) or ()
        size = math.prod(shape)
        line, column = checked.decl_line.get(name, (None, None))
        if size > limits.max_tensor_elements:
            raise GraphlangError("limit", f"{name!r} is declared with shape {show(shape)} ({size:,} elements; "
                                 f"the limit is {limits.max_tensor_elements:,})", line, column,
                                 "declare smaller tensors or raise the limit")
        total += size
        if total > limits.max_total_elements:
            raise GraphlangError("limit", f"the declared inputs and parameters hold more than "
                                 f"{limits.max_total_elements:,} numbers in all", line, column,
                                 "declare smaller tensors or raise the limit")
    program.graph.shapes(tuple(checked.declared.get(n) or () for n in program.graph.inputs))


def open_regular(path: str) -> IO[bytes]:
    """A regular file opened for reading, or an `io` error (never blocks on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise GraphlangError("io", f"cannot read {path}: {err.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a FIFO or a device)"
        raise GraphlangError("io", f"{path} is {what}", hint="give a file")
    return os.fdopen(fd, "rb")


def _lines(text: IO[str], limit: int, path: str) -> Iterator[str]:
    """The file's lines, each read with a bound: one endless line is an error, not a growing string."""
    n = 0
    while line := text.readline(limit + 1):
        n += 1
        if len(line) > limit and not line.endswith(("\n", "\r")):
            raise GraphlangError("limit", f"{path} line {n} is longer than {limit:,} characters",
                                 hint="one example per line, its numbers separated by commas")
        yield line


def _number(cell: str) -> float:
    """A cell's number as --at reads one: Python's float() also takes 1_0 and Arabic-Indic digits."""
    if "_" in cell or not cell.isascii():
        raise ValueError(cell)
    return float(cell)


def _is_number(cell: str) -> bool:
    try:
        _number(cell)
    except ValueError:
        return False
    return True


def _layout(names: list[str], sizes: list[int], one_hot: bool) -> str:
    parts = [f"{n}: {s}" for n, s in zip(names, sizes)]
    if one_hot:
        parts[-1] = f"{names[-1]}: 1 (class index)"
    return ", ".join(parts)


def _read_rows(path: str, names: list[str], sizes: list[int], classes: int, max_rows: int,
               ) -> tuple[np.ndarray, list[int], bool]:
    """The data rows as floats (rows x columns), each row's line number, and whether the last input
    came as one class column."""
    want = sum(sizes)
    values = array.array("d")
    lines: list[int] = []
    ncols = 0
    one_hot = False
    first = True
    with open_regular(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")  # a BOM is not part of a cell
        reader = csv.reader(_lines(text, CHARS_PER_COLUMN * want + 1024, path))
        try:
            for row in reader:
                header, first = first and any(not _is_number(c) for c in row), False
                if header or not row or not any(c.strip() for c in row):
                    continue
                if not lines:
                    one_hot = classes > 1 and len(row) == want - classes + 1
                    ncols = want - classes + 1 if one_hot else want
                if len(row) != ncols:
                    also = f" or {want - classes + 1} ({_layout(names, sizes, True)})" if classes > 1 and \
                        not one_hot else ""  # the last input may also come as one class column
                    more = len(row) > ncols and len(names) == 1  # (labels, and no input to read them into)
                    raise GraphlangError("value", f"{path} line {reader.line_num}: {len(row)} columns, "
                                         f"expected {ncols} ({_layout(names, sizes, one_hot)}){also}",
                                         hint=f"the program reads only {names[0]}: a label column needs an input "
                                         "of its own (`input t[…]`) and a loss that reads it" if more else None)
                if len(lines) >= max_rows:
                    raise GraphlangError("limit", f"{path} has more than {max_rows:,} rows")
                for j, cell in enumerate(row):
                    try:
                        values.append(_number(cell))
                    except ValueError:
                        raise GraphlangError("value", f"{path} line {reader.line_num}, column {j + 1}: "
                                             f"{cell[:20]!r} is not a number") from None
                lines.append(reader.line_num)
        except csv.Error as err:
            raise GraphlangError("value", f"{path} line {reader.line_num}: not CSV ({err})") from None
        except UnicodeDecodeError:
            raise GraphlangError("value", f"{path} is not UTF-8 text") from None
    if not lines:
        raise GraphlangError("value", f"{path} has no data rows")
    return np.frombuffer(values, dtype=np.float64).reshape(len(lines), ncols), lines, one_hot


def load_csv(program: Program, path: str, max_rows: int = 2_000_000, names: list[str] | None = None,
             class_column: bool = True) -> Dataset:
    """Read and validate a CSV against the program's declared inputs (or only `names`, e.g. the
    inputs a prediction reads: unlabeled data; `class_column=False`: no class-index column)."""
    names = data_inputs(program) if names is None else names
    declared = program.checked.declared
    for n in names:
        if n not in declared:
            raise GraphlangError("shape", f"the input {n!r} needs a declaration with its shape, "
                                 f"e.g. `input {n}[4]`, to read it from a CSV")
    check_declared(program)
    shapes = [declared[n] or () for n in names]
    sizes = [math.prod(s) for s in shapes]
    # the last of two or more inputs may be labels given as one class column (one input is features)
    classes = shapes[-1][0] if class_column and len(shapes) > 1 and len(shapes[-1]) == 1 else 0
    data, lines, one_hot = _read_rows(path, names, sizes, classes, max_rows)
    finite = np.isfinite(data)
    if not np.all(finite):
        row, col = (int(i) for i in np.argwhere(~finite)[0])
        raise GraphlangError("value", f"{path} line {lines[row]}, column {col + 1}: {float(data[row, col])} is not a "
                             "finite number (NaN, or past ±1.8e308)", hint="every value must be a finite number")
    columns: dict[str, np.ndarray] = {}
    at = 0
    labels = None
    for k, (n, s, size) in enumerate(zip(names, shapes, sizes)):
        if one_hot and k == len(names) - 1:
            raw = data[:, at]
            bad = (raw != np.round(raw)) | (raw < 0) | (raw >= classes)
            if np.any(bad):
                i = int(np.argmax(bad))
                counted = raw.min() >= 1 and raw.max() == classes and not np.any(raw != np.round(raw))
                raise GraphlangError("value", f"{path} line {lines[i]}: the label {raw[i]:g} is "
                                     f"not a class 0..{classes - 1}", hint=(
                                         f"classes are numbered from 0 to {classes - 1}, and these labels reach "
                                         f"{classes} (counted from 1, as the lecture's y ∈ {{1, …, C}}?): "
                                         "subtract 1 from the label column"
                                         if counted else f"a label is a whole number from 0 to {classes - 1}"))
            labels = raw.astype(int)
            columns[n] = np.eye(classes)[labels]
        else:
            columns[n] = data[:, at : at + size].reshape((len(lines), *s))
            at += size
    return Dataset(columns, len(lines), labels, (str(path), lines))


def _header(member: IO[bytes]) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """The shape and dtype from an .npy header (at most a few kB read)."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    return tuple(shape), dtype


def load_params(path: str, program: Program | None = None) -> dict[str, np.ndarray]:
    """Arrays from an .npz file. With a program, only its parameters are read, and each must have its
    declared shape; every array's size is checked from its header before it is read."""
    limits = program.limits if program is not None else Limits()
    want = {n: program.checked.declared.get(n) or () for n in program.params} if program else None
    if program is not None:
        check_declared(program)
    out: dict[str, np.ndarray] = {}
    with open_regular(path) as fh:
        try:
            with zipfile.ZipFile(fh) as zf:
                chosen = []
                total = 0
                for info in zf.infolist():
                    name = info.filename.removesuffix(".npy")
                    if not info.filename.endswith(".npy") or (want is not None and name not in want):
                        continue
                    with zf.open(info) as member:
                        shape, dtype = _header(member)
                    if dtype.kind not in "fiu" or dtype.fields is not None or dtype.shape:
                        raise GraphlangError("value", f"the array {name!r} in {path} is not numbers "
                                             f"(dtype {dtype})")
                    size = math.prod(shape)
                    if want is not None and shape != want[name]:
                        raise GraphlangError("shape", f"the parameter {name!r} has shape {list(shape)}, "
                                             f"declared {list(want[name])}")
                    total += size
                    if size > limits.max_tensor_elements or total > limits.max_total_elements:
                        raise GraphlangError("limit", f"the array {name!r} in {path} has {size:,} "
                                             "elements: over the limits")
                    chosen.append((name, info))
                held = [i.filename.removesuffix(".npy") for i in zf.infolist() if i.filename.endswith(".npy")]
                missing = [n for n in want or () if n not in held]
                if missing:  # (said of the file: "no initial value for w, b" named neither it nor what it holds)
                    raise GraphlangError("value", f"{path} holds no {', '.join(missing)}: its arrays are "
                                         + (", ".join(held[:12]) + (", …" if len(held) > 12 else "") or "none")
                                         + f"; the program's parameters are {', '.join(want or ())}",
                                         hint="give the .npz that `graphlang train --save` wrote for this program")
                for name, info in chosen:
                    with zf.open(info) as member:
                        arr = np.lib.format.read_array(member, allow_pickle=False)
                    out[name] = np.array(arr, dtype=np.float64)
                    if not np.all(np.isfinite(out[name])):
                        raise GraphlangError("value", f"the parameter {name!r} in {path} holds NaN or "
                                             "infinite values")
        except GraphlangError:
            raise
        except (OSError, ValueError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
                zlib.error) as err:
            raise GraphlangError("io", f"cannot read parameters from {path}: {err}") from None
    return out


def save_params(params: dict[str, np.ndarray], path: str) -> None:
    """Exactly `path` (np.savez given a name would add .npz), written atomically."""
    write_with(path, lambda fh: np.savez(fh, **params))  # type: ignore[arg-type]
