"""Atomic writes: a file or a folder is replaced whole or not at all (one helper for each)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# The process's umask, read once: a temporary file or folder is made private (0600, 0700), and what
# replaces a published file or folder gets the mode any other file the process writes would have.
UMASK = _umask()
FILE_MODE, FOLDER_MODE = 0o666 & ~UMASK, 0o777 & ~UMASK


def swap_in(staging: Path, target: Path) -> None:
    """Put the fully written ``staging`` folder where ``target`` is, with two renames.

    The old folder is moved aside first and deleted only after the new one is in place;
    if the second rename fails, the old folder is put back.  ``staging`` (a private temporary
    folder) takes the mode of a folder made with the process's umask.
    """
    os.chmod(staging, FOLDER_MODE)
    old: Path | None = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and one rename.

    A reader sees the old file or the new one, never half of it; a failed write leaves no
    temporary file behind.  Text is written as UTF-8; the file's mode follows the umask.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp's 0600 would make a published file unreadable to a web server
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
