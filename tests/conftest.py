"""Shared test fixtures, and the rule that nothing skips under CI=true."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: with xdist they start at once on one worker while the others take the rest."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
