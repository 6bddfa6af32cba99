"""generator.sources.prices_csv: bars dated on days without an NYSE session, and infinite prices, are dropped
and named."""

from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path

import numpy as np
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


def test_infinite_prices_drop_their_rows_and_are_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """'inf' and '-inf' read as floats and passed the NaN check: the brief said 'a +inf% week'."""
    lines = VIX.read_text().splitlines()  # Date,Close,High,Low,Open,Volume
    lines[8] = "2025-09-03,-inf,17.56999969482422,16.34000015258789,17.399999618530273,0"
    lines += [
        "2025-09-08,15.5,16.0,15.1,15.2,0",
        "2025-09-09,15.6,16.0,-inf,15.2,0",  # one infinite price in the row is enough
        "2025-09-10,15.7,1e999,15.0,15.3,0",  # too large for a float: inf
        "2025-09-11,inf,inf,inf,inf,0",  # the last row, as in the reviewer's folder
    ]
    path = tmp_path / "IDX_VIX.csv"
    path.write_text("\n".join(lines) + "\n")
    frame = read_prices_csv(path, "^VIX")
    assert [d.date().isoformat() for d in frame.index] == [
        "2025-08-25", "2025-08-26", "2025-08-27", "2025-08-28", "2025-08-29", "2025-09-02", "2025-09-04",
        "2025-09-05", "2025-09-08",
    ]  # fmt: skip
    assert frame.index[-1] == pd.Timestamp("2025-09-08") and frame["Close"].iloc[-1] == 15.5
    assert np.isfinite(frame.to_numpy()).all()
    assert "^VIX: dropped 4 row(s) with infinite prices (first: 2025-09-03)" in warnings_of(caplog)
    assert not any("non-positive" in w for w in warnings_of(caplog))  # -inf is named as infinite


def test_a_folder_whose_last_row_is_infinite_ends_at_the_last_finite_bar(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "IWM.csv").write_text(VIX.read_text() + "2025-09-08,inf,inf,inf,inf,0\n")
    snapshot = read_snapshot(tmp_path)
    assert snapshot.series["IWM"].last_bar == snapshot.as_of == date(2025, 9, 5)
    (health,) = snapshot.health
    assert (health.name, health.newest, health.count) == ("IWM", date(2025, 9, 5), 9)
    assert "IWM: dropped 1 row(s) with infinite prices (first: 2025-09-08)" in warnings_of(caplog)


def test_value_series_may_be_negative_but_not_infinite(caplog: pytest.LogCaptureFixture) -> None:
    days = pd.to_datetime(["2025-09-02", "2025-09-03", "2025-09-04", "2025-09-05"])
    values = [-0.25, math.inf, 0.0, -math.inf]
    frame = clean_frame(pd.DataFrame({"Close": values}, index=days), "FRED-T10Y2Y")
    assert frame["Close"].tolist() == [-0.25, 0.0]
    assert warnings_of(caplog) == ["FRED-T10Y2Y: dropped 2 row(s) with infinite prices (first: 2025-09-03)"]


def test_an_infinite_volume_reads_as_missing_and_keeps_its_row(caplog: pytest.LogCaptureFixture) -> None:
    raw = pd.DataFrame(
        {
            "Date": ["2025-09-03", "2025-09-04", "2025-09-05"],
            "Close": [1.0, 2.0, 3.0],
            "Volume": ["5", "inf", "7"],
        }
    )
    frame = clean_frame(raw, "IWM")
    assert frame["Close"].tolist() == [1.0, 2.0, 3.0]
    assert frame["Volume"].iloc[[0, 2]].tolist() == [5.0, 7.0] and np.isnan(frame["Volume"].iloc[1])
    assert warnings_of(caplog) == ["IWM: read 1 infinite volume(s) as missing (first: 2025-09-04)"]


def test_rows_repeating_a_date_are_named_and_the_last_of_each_date_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Real ^VIX rows with two of them repeated at the end, one with another close: a WARNING
    names the symbol, the counts and the first date; the last row of each date is the one kept."""
    lines = VIX.read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    day = {r.split(",")[0]: r for r in rows}
    again = day["2025-09-03"].split(",")
    again[header.split(",").index("Close")] = "99.5"
    text = "\n".join([header, *rows, day["2025-08-26"], ",".join(again)]) + "\n"  # repeats at the end
    (tmp_path / "IDX_VIX.csv").write_text(text, encoding="utf-8")
    frame = read_prices_csv(tmp_path / "IDX_VIX.csv", "^VIX")
    assert len(frame) == 9 and frame.index.is_unique and frame.loc["2025-09-03", "Close"] == 99.5
    assert frame.loc["2025-08-26", "Close"] == float(
        day["2025-08-26"].split(",")[header.split(",").index("Close")]
    )
    assert [w for w in warnings_of(caplog) if "repeating" in w] == [
        "^VIX: dropped 2 row(s) repeating the date of another (2 date(s); the last row of each date kept,"
        " 1 of them differ from it; first: 2025-08-26)"
    ]


def test_rows_without_a_repeated_date_give_no_such_warning(caplog: pytest.LogCaptureFixture) -> None:
    read_prices_csv(VIX, "^VIX")
    assert not [w for w in warnings_of(caplog) if "repeating" in w]
