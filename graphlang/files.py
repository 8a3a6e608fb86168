"""Writing output files: exactly the path given, atomically (a temporary file, then a rename).

A failure (a missing folder, a full disk, a directory or a device in the way) is an `io` error
and never leaves a half-written file behind; nothing is written anywhere else (no suffix added).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from graphlang.errors import GraphlangError


def check_target(path: str) -> str:
    """The folder `path` would be written in; an io error when it cannot be written (checked
    before long work, so that training for an hour does not end in a bad path)."""
    if not isinstance(path, str) or not path or "\x00" in path:
        raise GraphlangError("io", f"{path!r} is not a file name")
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        raise GraphlangError("io", f"cannot write {path}: it is a directory")
    if os.path.lexists(path) and not os.path.isfile(path):
        raise GraphlangError("io", f"cannot write {path}: it is not a regular file",
                             hint="write to a file in a folder, not to a device or a pipe")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise GraphlangError("io", f"cannot write {path}: {folder} is not a folder" if os.path.lexists(folder)
                             else f"cannot write {path}: the folder {folder} does not exist")
    return folder


@contextmanager
def atomic(path: str, binary: bool = False, private: bool = False) -> Iterator[IO[Any]]:
    """A file to write; on success it becomes `path`, on any failure nothing changes (`private`:
    readable and writable by its owner only, as the per-user cache's files must be to be read back)."""
    folder = check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".graphlang-", suffix=".tmp")
    except OSError as err:
        raise GraphlangError("io", f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if private:
            os.chmod(tmp, 0o600)
        elif os.path.exists(path) and hasattr(os, "stat"):
            os.chmod(tmp, os.stat(path).st_mode & 0o777)
        else:
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except OSError as err:
        _remove(tmp)
        raise GraphlangError("io", f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def write_text(path: str, text: str) -> None:
    with atomic(path) as fh:
        fh.write(text)


def write_with(path: str, writer: Callable[[IO[bytes]], object], private: bool = False) -> None:
    """Binary output made by `writer(file)` (numpy's savez, matplotlib's savefig, ...)."""
    with atomic(path, binary=True, private=private) as fh:
        writer(fh)
