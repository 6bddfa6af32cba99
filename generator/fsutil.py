"""Atomic writes: a file or a folder is replaced whole or not at all (one helper for each)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


def staging_folder(parent: Path, prefix: str) -> Path:
    """A new, empty folder in ``parent`` (made if missing) to fill before :func:`swap_in` puts it in
    place: a unique name starting with ``prefix``, and the mode any folder the process makes has (the
    umask applies), which tempfile.mkdtemp's private 0700 would not give a published folder."""
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        path = parent / f"{prefix}{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def swap_in(staging: Path, target: Path) -> None:
    """Put the fully written ``staging`` folder where ``target`` is, with two renames.

    The old folder is moved aside first and deleted only after the new one is in place;
    if the second rename fails, the old folder is put back.
    """
    old: Path | None = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:  # Ctrl-C between the two renames too: the old folder goes back
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
    # Not tempfile.mkstemp: its file is private (0600), and a published page must be readable as any
    # other file the process writes (the umask applies to the 0666 asked for here).
    while True:
        tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        break
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
