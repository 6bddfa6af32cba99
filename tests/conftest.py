"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real data beside the project (../shared/data); skips when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            "../shared/data is absent: real-data tests need the shared data folder beside the project"
        )
    return SHARED_DATA
