"""generator.sources.prices_csv: bars dated on days without an NYSE session are dropped, and named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from generator.sources.prices_csv import clean_frame, read_prices_csv
from generator.sources.snapshot import read_snapshot

VIX = Path(__file__).parent / "data" / "yahoo" / "IDX_VIX-2025-08-25-to-2025-09-05.csv"  # real rows


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_a_real_vix_bar_on_labor_day_is_dropped_and_named(caplog: pytest.LogCaptureFixture) -> None:
    raw = pd.read_csv(VIX)
    assert "2025-09-01" in set(raw["Date"]) and len(raw) == 10
    frame = read_prices_csv(VIX, "^VIX")
    assert len(frame) == 9 and pd.Timestamp("2025-09-01") not in frame.index
    assert frame.loc["2025-09-02", "Close"] == raw.set_index("Date").loc["2025-09-02", "Close"]
    assert warnings_of(caplog) == [
        "^VIX: dropped 1 bar(s) dated on days without an NYSE session (weekend, holiday or closure): "
        "2025-09-01"
    ]


def test_a_folder_of_csvs_is_cleaned_the_same_way(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    shutil.copy(VIX, tmp_path / "IDX_VIX.csv")
    snapshot = read_snapshot(tmp_path)
    assert pd.Timestamp("2025-09-01") not in snapshot.series["^VIX"].frame.index
    assert any(w.startswith("^VIX: dropped 1 bar(s)") and "2025-09-01" in w for w in warnings_of(caplog))


def test_the_same_repair_of_many_files_in_a_folder_is_one_warning_naming_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A holiday bar in every file of a folder was one WARNING per file (37 lines for one day)."""
    for name in ("IDX_VIX.csv", "IWM.csv", "SPY.csv"):
        shutil.copy(VIX, tmp_path / name)
    read_snapshot(tmp_path)
    assert warnings_of(caplog) == [
        "3 series (^VIX, IWM, SPY): dropped 1 bar(s) dated on days without an NYSE session (weekend, holiday"
        " or closure): 2025-09-01"
    ]


def test_many_closed_days_are_listed_up_to_ten(caplog: pytest.LogCaptureFixture) -> None:
    days = pd.date_range("2025-01-01", "2025-12-31", freq="D")  # every calendar day, weekends included
    frame = clean_frame(pd.DataFrame({"Close": range(1, len(days) + 1)}, index=days), "^VIX")
    assert len(frame) == 250  # the NYSE's sessions of 2025
    (warning,) = warnings_of(caplog)
    assert warning.startswith("^VIX: dropped 115 bar(s) dated on days without an NYSE session")
    assert "2025-01-01, 2025-01-04, 2025-01-05, 2025-01-09" in warning and warning.endswith(" and 105 more")


def test_bars_before_1970_are_judged_by_weekday_only(caplog: pytest.LogCaptureFixture) -> None:
    days = pd.to_datetime(["1950-02-22", "1950-02-24", "1950-02-25"])  # Washington's Birthday, Fri, Sat
    frame = clean_frame(pd.DataFrame({"Close": [17.0, 17.2, 17.3]}, index=days), "^GSPC")
    assert [d.date().isoformat() for d in frame.index] == ["1950-02-22", "1950-02-24"]
    assert warnings_of(caplog) == [
        "^GSPC: dropped 1 bar(s) dated on days without an NYSE session (weekend, holiday or closure): "
        "1950-02-25"
    ]
