"""Atomic writes: a file or a folder is replaced whole or not at all (one helper for each)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from pathlib import Path

log = logging.getLogger(__name__)


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


# What a build leaves in briefs/ when it is killed outright (SIGKILL, a lost machine): its staging
# folder (".2026-11-20-<12 hex>"), or the issue it replaced (".2026-11-20.old-<8 hex>") when it died
# before deleting it.  Killed between swap_in's two renames, the old issue is the only copy: kept.
_ABANDONED = re.compile(r"\.(\d{4}-\d{2}-\d{2})(-[0-9a-f]{12}|\.old-[0-9a-f]{8})")
ABANDONED_AFTER = 24 * 3600  # seconds: a staging folder this old is no build's still running


def site_leftovers(name: str) -> re.Pattern[str]:
    """What a killed ``site`` command leaves beside the site folder ``name``: its staging folder
    (".site.new-<12 hex>") or the site it replaced (".site.old-<8 hex>")."""
    return re.compile(rf"\.({re.escape(name)})(\.new-[0-9a-f]{{12}}|\.old-[0-9a-f]{{8}})")


def sweep_abandoned(parent: Path, *, now: float, pattern: re.Pattern[str] = _ABANDONED) -> list[Path]:
    """Remove the staging folders of builds that were killed in ``parent`` (a WARNING names each):
    only folders, not links, last changed :data:`ABANDONED_AFTER` or more before ``now``.
    ``pattern`` names them: its first group the folder they stand for, its second their suffix."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        if match.group(2).startswith(".old-") and not (parent / match.group(1)).is_dir():
            continue  # the issue it was replaced by is not there
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < ABANDONED_AFTER:
                continue
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        log.warning("%s: removed a staging folder a killed build left behind", entry.path)
        removed.append(Path(entry.path))
    return removed


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
