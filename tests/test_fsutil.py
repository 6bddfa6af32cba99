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
