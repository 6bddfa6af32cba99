"""Atomic writes: whole or nothing, and the modes any other file the process writes would have."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from generator.fsutil import swap_in, write_atomic
from tests.conftest import ROOT


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_file_written_whole_replaces_the_old_one_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "brief.md"
    write_atomic(target, "old")
    write_atomic(target, "né")
    assert target.read_bytes() == "né".encode() and [p.name for p in target.parent.iterdir()] == ["brief.md"]

    with pytest.raises(UnicodeEncodeError):  # fails after the temporary file is made
        write_atomic(target, "\udc80")
    assert target.read_text() == "né" and [p.name for p in target.parent.iterdir()] == ["brief.md"]


def test_a_swapped_folder_replaces_the_old_one(tmp_path: Path) -> None:
    target, staging = tmp_path / "issue", tmp_path / ".issue.new"
    target.mkdir()
    (target / "old.txt").write_text("old")
    staging.mkdir()
    (staging / "new.txt").write_text("new")
    swap_in(staging, target)
    assert [p.name for p in target.iterdir()] == ["new.txt"] and not staging.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["issue"]  # the old folder is deleted


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_published_files_and_folders_follow_the_umask_not_the_temporary_files_private_mode(
    tmp_path: Path, umask: int
) -> None:
    """tempfile's files are 0600 and its folders 0700; what they became (an issue's brief.html, the
    issue folder) must be readable by a web server under the usual umask 022, as email.html beside
    them always was.  Run in a child process with its own umask."""
    script = (
        "import os, sys; from pathlib import Path;"
        "from generator.fsutil import staging_folder, swap_in, write_atomic;"
        f"os.umask({umask});"
        "root = Path(sys.argv[1]); staging = staging_folder(root, '.issue.new-');"
        "write_atomic(staging / 'brief.html', 'x'); swap_in(staging, root / 'issue')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["issue"]
    assert mode(tmp_path / "issue") == 0o777 & ~umask
    assert mode(tmp_path / "issue" / "brief.html") == 0o666 & ~umask


def test_staging_folders_of_killed_builds_are_swept_and_a_running_builds_are_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A build killed outright leaves its hidden staging folder in briefs/ for good (each a partial
    issue); the next build removes those a day old or more, naming each.  The issue a build had moved
    aside is removed only when the issue that replaced it is in place."""
    import os
    import time

    from generator.fsutil import ABANDONED_AFTER, sweep_abandoned

    briefs = tmp_path / "briefs"
    now = time.time()
    names = {
        ".2026-11-20-0123456789ab": True,  # a killed build's staging folder
        ".2026-11-13.old-89abcdef": True,  # moved aside, its replacement 2026-11-13 in place
        ".2026-11-06.old-01234567": False,  # moved aside, no 2026-11-06: the only copy
        ".2026-11-20-fedcba987654": False,  # fresh: a build may be writing it
        "2026-11-13": False,
        ".notes": False,
    }
    for name, old in names.items():
        (briefs / name).mkdir(parents=True)
        (briefs / name / "brief.md").write_text("x", encoding="utf-8")
        if old or name.startswith(".2026-11-06"):
            os.utime(briefs / name, (now - ABANDONED_AFTER - 60,) * 2)
    (briefs / ".2026-11-27-00000000000a").symlink_to(tmp_path)  # a link is never followed nor removed
    os.utime(briefs / ".2026-11-27-00000000000a", (now - 2 * ABANDONED_AFTER,) * 2, follow_symlinks=False)
    removed = sweep_abandoned(briefs, now=now)
    assert sorted(p.name for p in removed) == sorted(n for n, old in names.items() if old)
    assert sorted(p.name for p in briefs.iterdir()) == sorted(
        [*(n for n, old in names.items() if not old), ".2026-11-27-00000000000a"]
    )
    assert [r.getMessage() for r in caplog.records] == [
        f"{p}: removed a staging folder a killed build left behind" for p in removed
    ]
