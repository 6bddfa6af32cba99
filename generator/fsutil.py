"""Atomic replacement of output folders: a failed build never leaves half a folder behind."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


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
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
