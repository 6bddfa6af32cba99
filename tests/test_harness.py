"""The test harness itself: skips fail under CI=true, and the bundled real-data copy is sound.

The copy in tests/data/shared is what the project's CI reads.  Where ../shared/data is present the
copy is also checked against it, file by file; a clone alone has nothing to check it against, so that
test is only defined beside the shared data.
"""

from __future__ import annotations

import gc
import os
import tempfile
import weakref
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import (
    BUNDLED_DATA,
    FULL_CHROMIUM,
    FULL_DATA,
    GC_YOUNG_THRESHOLD,
    HEADLESS_SHELL,
    ROOT,
    chromium_binary,
    is_headless_shell,
    memory_tmpdir,
)

pytest_plugins = ("pytester",)

CONFTEST = (Path(__file__).parent / "conftest.py").read_text(encoding="utf-8")
SKIPPING = """
import pytest

def test_passes():
    pass

def test_skips():
    pytest.skip("needs the frobnicate binary")

@pytest.mark.skipif(True, reason="frobnicate is not installed")
def test_marked_skip():
    pass

@pytest.fixture
def frobnicate():
    pytest.skip("the fixture found no frobnicate")

def test_fixture_skips(frobnicate):
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False
"""
SKIPPED_MODULE = 'import pytest\npytest.importorskip("no_such_module_here")\n\ndef test_never():\n    pass\n'


def run_skipping(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None, *args: str
) -> pytest.RunResult:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_skipping=SKIPPING, test_skipped_module=SKIPPED_MODULE)
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "-rA", *args)


@pytest.mark.parametrize("ci", [None, "false", ""])
def test_outside_ci_a_skip_is_a_skip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    result = run_skipping(pytester, monkeypatch, ci)
    result.assert_outcomes(passed=1, skipped=4, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


def test_under_ci_every_skip_fails_and_says_why(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_skipping(pytester, monkeypatch, "true", "test_skipping.py")
    # the skip in a test body fails it; a skipif mark or a fixture skips in setup: an error; xfail stays
    result.assert_outcomes(passed=1, failed=1, errors=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    for reason in (
        "needs the frobnicate binary",
        "frobnicate is not installed",
        "the fixture found no frobnicate",
    ):
        assert f"skipped under CI=true, which fails the run: {reason}" in out, reason


def test_under_ci_a_module_skipped_at_import_stops_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_skipping(pytester, monkeypatch, "true", "test_skipped_module.py")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    reason = "could not import 'no_such_module_here'"
    assert f"skipped under CI=true, which fails the run: {reason}" in result.stdout.str()


# --------------------------------------------------------------------------- the bundled real data

BUNDLED = sorted(p.relative_to(BUNDLED_DATA) for p in BUNDLED_DATA.rglob("*") if p.is_file())
YFINANCE = Path("prices/yfinance_alitalbi")
LAST_BAR = {"IDX_TNX.csv": date(2026, 2, 13), "IDX_FVX.csv": date(2025, 11, 14)}


def test_bundled_copy_holds_what_the_tests_read() -> None:
    csvs = sorted(p for p in BUNDLED if p.parent == YFINANCE)
    assert len(csvs) == 11
    for name in csvs:
        lines = (BUNDLED_DATA / name).read_text(encoding="utf-8").splitlines()
        assert lines[0] == "Date,Close,High,Low,Open,Volume", name
        days = [date.fromisoformat(line[:10]) for line in lines[1:]]
        assert days == sorted(set(days)), name
        assert days[0] <= date(2025, 1, 2) and days[-1] == LAST_BAR.get(name.name, date(2026, 2, 23)), name
    assert sum((BUNDLED_DATA / p).lstat().st_size for p in BUNDLED) < 1_700_000


def test_linked_feeds_stay_inside_the_test_data() -> None:
    links = [BUNDLED_DATA / p for p in BUNDLED if (BUNDLED_DATA / p).is_symlink()]
    assert len(links) == 6
    for link in links:
        target = link.resolve(strict=True)
        assert target.is_relative_to(ROOT / "tests" / "data" / "rss"), link
        assert not Path(link.readlink()).is_absolute(), link


if FULL_DATA.is_dir():

    @pytest.mark.parametrize("name", BUNDLED, ids=str)
    def test_bundled_copy_is_the_shared_data(name: Path) -> None:
        """Byte for byte, or for the trimmed CSVs the header and a run of rows up to the end."""
        ours = (BUNDLED_DATA / name).read_bytes()
        upstream = (FULL_DATA / name).read_bytes()
        if name.parent == YFINANCE and ours != upstream:
            header, *rows = ours.splitlines(keepends=True)
            up_header, *up_rows = upstream.splitlines(keepends=True)
            assert header == up_header and rows == up_rows[len(up_rows) - len(rows) :]
        else:
            assert ours == upstream


def test_the_run_writes_its_temporary_files_in_memory_only_where_asked_for_and_where_there_is_room(
    tmp_path: Path,
) -> None:
    assert memory_tmpdir({}, tmp_path, needed=1) == str(tmp_path)
    assert memory_tmpdir({"TMPDIR": "/var/tmp"}, tmp_path, needed=1) is None  # the user's choice stands
    assert memory_tmpdir({}, tmp_path / "absent", needed=1) is None
    assert memory_tmpdir({}, tmp_path, needed=1 << 62) is None  # too small, as a container's /dev/shm is
    real = os.statvfs(tmp_path)
    noexec = SimpleNamespace(
        **{name: getattr(real, name) for name in dir(real) if name.startswith("f_")},
    )
    noexec.f_flag = real.f_flag | os.ST_NOEXEC
    with pytest.MonkeyPatch.context() as patch:  # the same folder, mounted noexec
        patch.setattr(os, "statvfs", lambda path: noexec)
        assert memory_tmpdir({}, tmp_path, needed=1) is None
    # whatever was chosen for this run, this process and its subprocesses write where TMPDIR says
    if "TMPDIR" in os.environ:
        assert Path(tempfile.gettempdir()).resolve() == Path(os.environ["TMPDIR"]).resolve()
        assert tmp_path.resolve().is_relative_to(Path(os.environ["TMPDIR"]).resolve())


def test_the_collector_leaves_the_collected_tests_heap_alone_and_still_frees_cyclic_garbage() -> None:
    assert gc.get_freeze_count() > 0  # what was alive after collection is frozen
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD

    class Node:
        pass

    node = Node()
    node.self = node  # type: ignore[attr-defined]
    gone = weakref.ref(node)
    del node
    gc.collect()
    assert gone() is None


def test_the_browser_tests_drive_the_headless_shell_where_it_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests import conftest

    assert chromium_binary({"SMALLCAP_CHROMIUM": "/opt/chrome/chrome"}) == Path("/opt/chrome/chrome")
    monkeypatch.setattr(conftest, "HEADLESS_SHELL", Path("/nonexistent/chromium-headless-shell"))
    assert chromium_binary({}) == FULL_CHROMIUM and not is_headless_shell(FULL_CHROMIUM)
    if HEADLESS_SHELL.exists():  # this machine's: what the site tests use here
        monkeypatch.undo()
        assert chromium_binary({}) == HEADLESS_SHELL and is_headless_shell(HEADLESS_SHELL)
