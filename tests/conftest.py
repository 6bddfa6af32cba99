"""Shared test fixtures, and the rule that nothing skips under CI=true."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from generator.config import Config
    from generator.models import Snapshot

ROOT = Path(__file__).resolve().parent.parent
# The real data beside the project, and the trimmed copy of the parts the tests read (same relative
# paths; see tests/data/PROVENANCE.md).  A clone alone, as in the project's CI, has only the copy.
FULL_DATA = ROOT.parent / "shared" / "data"
BUNDLED_DATA = ROOT / "tests" / "data" / "shared"
SHARED_DATA = FULL_DATA if FULL_DATA.is_dir() else BUNDLED_DATA


def manifest_entries(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    """Every ``kind`` entry ("series", "feeds") of a snapshot manifest, from all its provider blocks.

    The entries are the manifest's own dicts: changing one changes the manifest.
    """
    return {name: entry for block in doc["providers"] for name, entry in block.get(kind, {}).items()}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bundled-data",
        action="store_true",
        help="read real market data from tests/data/shared even when ../shared/data is present (as CI does)",
    )


@pytest.fixture(scope="session")
def shared_data(request: pytest.FixtureRequest) -> Path:
    """Real market data: ../shared/data when present, else the trimmed copy in tests/data/shared."""
    path = BUNDLED_DATA if request.config.getoption("bundled_data") else SHARED_DATA
    if not path.is_dir():
        pytest.fail(f"no real test data: {path} is missing")
    return path


@pytest.fixture(scope="module")
def config() -> Config:
    """The project's own feeds.yaml, loaded once per test module."""
    from generator.config import load_config

    return load_config(ROOT / "feeds.yaml")


@pytest.fixture(scope="module")
def sample() -> Snapshot:
    """The bundled sample snapshot, loaded once per test module."""
    from generator.sources.snapshot import load_sample

    return load_sample()


@pytest.fixture
def root_logging() -> Iterator[None]:
    """The CLI binds the root logger's handler to CliRunner's stream: the old handlers and level come
    back after the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


# The tests that read the sample brief, its PDF or the hand-built brief's PDF, each made once per
# test process (tests/sample_brief.py, tests/brief_factory.py), carry this mark: one xdist worker
# runs them all, so each is made once in the whole run.
SAMPLE_BRIEF_GROUP = pytest.mark.xdist_group("sample-brief")


# --------------------------------------------------------------------------- the one subprocess build

# The tests that use ``cli_sample_build`` carry this mark: one xdist worker runs them all, so the
# sample is built through the real entry point once in the whole run.
SAMPLE_BUILD_GROUP = pytest.mark.xdist_group("cli-sample-build")


@pytest.fixture(scope="session")
def cli_sample_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`build --data sample` with every format through the real entry point (``python -m generator``)
    in a new process: the output folder and the finished process.  The CLI's smoke test checks it;
    the CLI tests that need a built issue and the Lighthouse audit reuse it."""
    out = tmp_path_factory.mktemp("cli-sample-out")
    # Its own temporary folder, so the smoke test can see that the build leaves nothing there.
    tmp = out / ".tmp"
    tmp.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--data", "sample", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(tmp)},
    )
    return out, result


# --------------------------------------------------------------------------- the run's own costs

# The browser the site tests drive.  Chromium's headless shell (Debian package chromium-headless-shell)
# renders and audits the same pages with about a fifth less CPU than the full browser in headless
# mode (a Lighthouse run: ~12 against ~14.8 CPU-s of both cores, the same 82 audits and scores);
# the full browser when the shell is not installed.  SMALLCAP_CHROMIUM chooses another.
HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")
FULL_CHROMIUM = Path("/usr/bin/chromium")


def chromium_binary(environ: Mapping[str, str] = os.environ) -> Path:
    if environ.get("SMALLCAP_CHROMIUM"):
        return Path(environ["SMALLCAP_CHROMIUM"])
    return HEADLESS_SHELL if HEADLESS_SHELL.exists() else FULL_CHROMIUM


def is_headless_shell(binary: Path) -> bool:
    """The shell is headless by build: chromedriver must be told (it opens no first page otherwise)."""
    return "headless-shell" in binary.name


def browser_flags(binary: Path) -> tuple[str, ...]:
    """The command-line flags both browser tests start ``binary`` with: headless (the shell is by
    build), no sandbox or GPU in a container, and nothing that reaches out on its own."""
    return (
        *(() if is_headless_shell(binary) else ("--headless=new",)),
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    )


CHROMEDRIVER = Path(os.environ.get("SMALLCAP_CHROMEDRIVER", "/usr/bin/chromedriver"))
PHONE_WIDTH = 375  # CSS px: an iPhone's screen, the narrowest in common use


def phone_browser(profile: Path) -> Any:
    """A Selenium-driven headless Chromium (:func:`chromium_binary`) in a fresh profile at ``profile``,
    its viewport a phone's, :data:`PHONE_WIDTH` × 812 CSS px (headless windows are at least 500 px
    wide, so the size is set through the DevTools protocol).  Browser and performance logs are
    kept.  The caller quits it.  Skips without the browser, its driver or Selenium (a failure under
    CI=true)."""
    binary = chromium_binary()
    if not binary.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            f"browser test needs {binary} and {CHROMEDRIVER}"
            " (Debian packages chromium-headless-shell or chromium, and chromium-driver)"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    if is_headless_shell(binary):
        options.set_capability("browserName", "chrome-headless-shell")
    for flag in (*browser_flags(binary), "--window-size=390,844", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    phone = {"width": PHONE_WIDTH, "height": 812, "deviceScaleFactor": 1, "mobile": True}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", phone)
    return driver


def beyond_phone(driver: Any) -> int:
    """How many CSS px the page in ``driver`` (a :func:`phone_browser`) is laid out beyond the
    phone's width.  A mobile viewport widens to a page wider than the screen (``innerWidth`` then
    reads the page's width, not 375), so the page's width is held against the screen's own."""
    widths = driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth];")
    return max(0, max(widths) - PHONE_WIDTH)


# A run writes ~20,000 files (~150 MB: built issues, stores, sites) under pytest's temporary folder,
# and at its end pytest deletes the folder of the run three runs before.  On a disk mounted with
# online discard (this project's CI machines are) that deletion alone took 5 s of the run's wall
# time, and every write paid the journal.  So when TMPDIR is not set and /dev/shm (RAM) has room,
# the run's temporary files, its subprocesses' included, go there.  A TMPDIR that is set is kept.
MEMORY_TMP = Path("/dev/shm")
MEMORY_TMP_NEEDED = 2 << 30  # three runs' folders and the largest build's peak, with room to spare


def memory_tmpdir(
    environ: Mapping[str, str], folder: Path = MEMORY_TMP, needed: int = MEMORY_TMP_NEEDED
) -> str | None:
    """The folder to set as TMPDIR for the run, or None to leave the environment as it is."""
    if "TMPDIR" in environ or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return None
    if shutil.disk_usage(folder).free < needed:
        return None  # a container's 64 MB /dev/shm, say
    if os.statvfs(folder).f_flag & os.ST_NOEXEC:
        return None  # as a temporary folder it would refuse what a browser or a tool runs from it
    return str(folder)


if (_chosen := memory_tmpdir(os.environ)) is not None:
    os.environ["TMPDIR"] = _chosen  # the xdist workers and every subprocess inherit it
    tempfile.tempdir = None  # gettempdir() asks again


GC_YOUNG_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Each test process holds a large heap that lives as long as it does (pandas, matplotlib,
    weasyprint, the tests' modules): the collector took ~4 CPU-s of each worker, 1,500-1,750 passes,
    two thirds of the time in full passes over that heap.  Frozen after collection, it is left out of
    every pass, and young objects are collected in larger batches (a quarter as many passes): the
    collector's time in a run went from 11.9 to 5.7 CPU-s.  What a test leaves as cyclic garbage is
    still collected."""
    if not _own_run(session):
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The heap frozen at collection is handed back to the collector for one pass, so a cycle that
    became garbage during the run is freed (its finalisers run) while its modules are still there, not
    as the interpreter tears them down.  What is left is frozen again: the passes pytest and the
    interpreter's shutdown make after this one walked it all again, ~1 s of each worker's exit."""
    if _own_run(session):
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def _own_run(session: pytest.Session) -> bool:
    """The project's own run, not one a test starts inside this process (pytester, with a copy of
    this file in a temporary folder): that one leaves the collector as the outer run set it."""
    return session.config.rootpath == ROOT


# --------------------------------------------------------------------------- xdist workers


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one worker more than the usable cores.  Part of the suite's time is spent waiting
    (a browser, subprocesses, deadlines on loopback servers): on two cores, two workers leave them
    idle about an eighth of the run; the extra worker runs tests meanwhile.
    PYTEST_XDIST_AUTO_NUM_WORKERS, when set, decides as pytest-xdist documents."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores + 1


# --------------------------------------------------------------------------- no skips in CI


def _under_ci() -> bool:
    return os.environ.get("CI") == "true"


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail_the_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under CI=true a skip is a failure: the only allowed skip (a missing system binary) means the CI
    image lacks a package it must install.  Expected failures (xfail) are not skips."""
    if _under_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which fails the run: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _fail_the_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _fail_the_skip(report)
    return report


_GROUP_LOST = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)  # after pytest-xdist's own, which names each grouped test <id>@<group>
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests first: with xdist they start at once on one worker while the others take the rest.

    Under ``--dist loadgroup`` the scheduler keeps an xdist_group on one worker by that ``@<group>``
    name.  Where a grouped test lacks it (pytest 9.2 with pytest-xdist 3.8: pytest-xdist #1386), the
    group and the fixtures it shares would be spread over every worker without a word: the test fails.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if getattr(config.option, "loadgroup", False):  # set on xdist workers only
        for item in items:
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
                item.stash[_GROUP_LOST] = f"pytest {pytest.__version__}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _GROUP_LOST in item.stash:
        pytest.fail(
            f"--dist loadgroup lost this test's xdist_group under {item.stash[_GROUP_LOST]} "
            "(pytest-xdist #1386): install the pytest pinned in constraints.txt"
        )
