"""The snapshot format, input hygiene, the real CSV layouts and the bundled sample."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import feedparser
import numpy as np
import pandas as pd
import pytest
import yaml

from generator.errors import SourceError
from generator.models import FeedCapture, ProviderBlock, Series, Snapshot, SourceHealth
from generator.sources.prices_csv import clean_frame, read_prices_csv
from generator.sources.snapshot import (
    SAMPLE_DIR,
    SAMPLE_NOTE,
    SAMPLE_PROVIDER,
    load_sample,
    read_snapshot,
    save_snapshot,
    symbol_from_filename,
    write_snapshot,
)
from tests.conftest import manifest_entries

ROOT = Path(__file__).resolve().parent.parent
BUILT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _frame(rows: list[tuple[str, float, float, float, float, float]], adj: bool = False) -> pd.DataFrame:
    index = pd.DatetimeIndex([pd.Timestamp(r[0]) for r in rows], name="Date")
    frame = pd.DataFrame(
        [r[1:] for r in rows], index=index, columns=["Open", "High", "Low", "Close", "Volume"]
    )
    if adj:
        frame.insert(4, "Adj Close", frame["Close"] * 0.98)
    return frame


def _snapshot() -> Snapshot:
    rut = _frame(
        [
            ("2026-11-18", 2382.46, 2396.79, 2375.29, 2394.84, 8366650432),
            ("2026-11-19", 2394.92, 2418.01, 2391.52, 2408.14, 5845711325),
            ("2026-11-20", 2416.91, 2430.08, 2411.51, 2430.0, 5054716291),
        ]
    )
    iwm = _frame(
        [
            ("2026-11-19", 240.1, 241.5, 239.8, 240.9, 3.1e7),
            ("2026-11-20", 241.0, 242.2, 240.5, 241.78, 3.5e7),
        ]
    )
    iwm = clean_frame(iwm.assign(Volume=[np.nan, 3.5e7]), "IWM")
    iwm.insert(4, "Adj Close", [240.123456, 241.5])
    return Snapshot(
        as_of=date(2026, 11, 20),
        built_at=BUILT,
        series={
            "^RUT": Series("^RUT", clean_frame(rut, "^RUT"), "Yahoo Finance (yfinance)", "live", BUILT),
            "IWM": Series("IWM", iwm, "Yahoo Finance (yfinance)", "cache", None),
        },
        feeds={
            "fed-press": FeedCapture(
                "fed-press", "https://example.com/fed.xml", b"<rss version='2.0'/>", "live", BUILT
            ),
            "broken": FeedCapture(
                "broken", "https://example.com/b.xml", b"", "live", BUILT, "failed", "timed out"
            ),
        },
        provider="Yahoo Finance (yfinance)",
        health=(
            SourceHealth(
                "symbol", "^RUT", "ok", "live", 3, date(2026, 11, 20), provider="Yahoo Finance (yfinance)"
            ),
            SourceHealth("feed", "broken", "failed", "live", error="timed out"),
        ),
        valuation={"IWM": {"trailingPE": 17.8}},
        notes=("a note",),
        blocks=(
            ProviderBlock("yahoo-prices", "Yahoo Finance (yfinance)", BUILT, "ok", series=("IWM", "^RUT")),
            ProviderBlock("yahoo-fund-data", "Yahoo Finance (yfinance)", BUILT, "ok"),
            ProviderBlock("feeds", "RSS/Atom feeds", BUILT, "degraded", feeds=("broken", "fed-press")),
        ),
    )


def _days(frame: pd.DataFrame) -> list[str]:
    return [day.date().isoformat() for day in pd.DatetimeIndex(frame.index)]


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- write / read


def test_round_trip_keeps_every_field_and_rewrites_identical_bytes(tmp_path: Path) -> None:
    original = _snapshot()
    first = write_snapshot(original, tmp_path / "a")
    again = read_snapshot(first)

    assert again.as_of == original.as_of and again.built_at == original.built_at
    assert again.provider == original.provider and again.notes == original.notes
    assert again.health == original.health
    assert dict(again.valuation) == {"IWM": {"trailingPE": 17.8}}
    for symbol, series in original.series.items():
        pd.testing.assert_frame_equal(again.series[symbol].frame, series.frame, check_exact=True)
        assert (again.series[symbol].provider, again.series[symbol].origin) == (
            series.provider,
            series.origin,
        )
        assert again.series[symbol].fetched_at == series.fetched_at
    assert again.feeds["fed-press"] == original.feeds["fed-press"]
    assert again.feeds["broken"] == original.feeds["broken"]
    assert again.blocks == original.blocks

    second = write_snapshot(again, tmp_path / "b")
    assert _tree(first) == _tree(second)


def test_written_files_follow_the_documented_layout(tmp_path: Path) -> None:
    path = write_snapshot(_snapshot(), tmp_path / "snap")
    assert (path / "prices" / "^RUT.csv").read_text().splitlines() == [
        "Date,Open,High,Low,Close,Volume",
        "2026-11-18,2382.46,2396.79,2375.29,2394.84,8366650432",
        "2026-11-19,2394.92,2418.01,2391.52,2408.14,5845711325",
        "2026-11-20,2416.91,2430.08,2411.51,2430,5054716291",
    ]
    assert (path / "prices" / "IWM.csv").read_text().splitlines()[
        1
    ] == "2026-11-19,240.1,241.5,239.8,240.9,240.123456,"
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format"] == 3 and manifest["built_at"] == "2026-11-21T12:00:00Z"
    prices, fund_data, feeds = manifest["providers"]
    assert {k: v for k, v in prices.items() if k != "series"} == {
        "name": "yahoo-prices", "label": "Yahoo Finance (yfinance)", "fetched_at": "2026-11-21T12:00:00Z",
        "status": "ok",
    }  # fmt: skip
    assert fund_data == {
        "name": "yahoo-fund-data", "label": "Yahoo Finance (yfinance)", "fetched_at": "2026-11-21T12:00:00Z",
        "status": "ok",
    }  # fmt: skip
    assert list(prices["series"]) == ["IWM", "^RUT"] and list(feeds["feeds"]) == ["broken", "fed-press"]
    rut = prices["series"]["^RUT"]
    assert rut["file"] == "prices/^RUT.csv" and rut["rows"] == 3 and rut["last_bar"] == "2026-11-20"
    assert rut["sha256"] == hashlib.sha256((path / "prices" / "^RUT.csv").read_bytes()).hexdigest()
    assert "series" not in manifest and "feeds" not in manifest  # every file is in a provider's block
    assert feeds["feeds"]["broken"] == {
        "error": "timed out", "fetched_at": "2026-11-21T12:00:00Z", "file": None, "origin": "live",
        "sha256": None, "status": "failed", "url": "https://example.com/b.xml",
    }  # fmt: skip
    assert list(manifest) == sorted(manifest)


def test_rewrite_replaces_the_folder_and_leaves_no_temporary_folders(tmp_path: Path) -> None:
    write_snapshot(_snapshot(), tmp_path / "snap")
    smaller = _snapshot()
    smaller = Snapshot(smaller.as_of, smaller.built_at, {"^RUT": smaller.series["^RUT"]}, {})
    write_snapshot(smaller, tmp_path / "snap")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]
    assert sorted(p.name for p in (tmp_path / "snap" / "prices").iterdir()) == ["^RUT.csv"]


@pytest.mark.parametrize("symbol", ["../etc", "a/b", "..", "", ".hidden", "a\\b"])
def test_write_refuses_symbols_that_are_not_safe_file_names(tmp_path: Path, symbol: str) -> None:
    snap = _snapshot()
    bad = Snapshot(snap.as_of, snap.built_at, {symbol: snap.series["^RUT"]}, {})
    with pytest.raises(SourceError, match="not safe as a file name"):
        write_snapshot(bad, tmp_path / "snap")
    assert list(tmp_path.iterdir()) == []


def test_write_refuses_to_replace_a_folder_that_is_not_a_snapshot(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(SourceError, match="not a snapshot"):
        write_snapshot(_snapshot(), tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_a_changed_file_fails_its_sha256_check(tmp_path: Path) -> None:
    path = write_snapshot(_snapshot(), tmp_path / "snap")
    csv = path / "prices" / "^RUT.csv"
    csv.write_bytes(csv.read_bytes().replace(b"2430.08", b"2431.08"))
    with pytest.raises(SourceError, match="sha256") as err:
        read_snapshot(path)
    assert err.value.source.endswith("prices/^RUT.csv")


def test_manifest_paths_may_not_leave_the_folder(tmp_path: Path) -> None:
    path = write_snapshot(_snapshot(), tmp_path / "snap")
    (tmp_path / "outside.csv").write_text("Date,Close\n2026-11-20,1\n")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest_entries(manifest, "series")["^RUT"]["file"] = "../outside.csv"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SourceError, match="unsafe file name"):
        read_snapshot(path)
    manifest_entries(manifest, "series")["^RUT"]["file"] = "prices/link.csv"
    (path / "manifest.json").write_text(json.dumps(manifest))
    (path / "prices" / "link.csv").symlink_to(tmp_path / "outside.csv")
    with pytest.raises(SourceError, match="outside the snapshot"):
        read_snapshot(path)


def _with_manifest(path: Path, **changes: Any) -> Path:
    """The snapshot at ``path`` with top-level manifest keys replaced (``...``: the key removed)."""
    manifest = json.loads((path / "manifest.json").read_text())
    for key, value in changes.items():
        if value is ...:
            del manifest[key]
        else:
            manifest[key] = value
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("notes", 5, "notes must be a list, not 5"),
        ("notes", "a note", "notes must be a list, not 'a note'"),  # was read as ('a', ' ', 'n', ...)
        ("notes", ["a note", 7], "notes[1] must be a string, not 7"),
        ("health", 5, "health must be a list, not 5"),
        ("health", {"kind": "symbol"}, "health must be a list"),
        ("calendar_failures", [["a"]], "calendar_failures[0] must be a [calendar, reason] pair of strings"),
        (
            "calendar_failures",
            [["BLS", "HTTP 503", "x"]],
            "calendar_failures[0] must be a [calendar, reason]",
        ),
        ("calendar_failures", "BLS", "calendar_failures must be a list, not 'BLS'"),
        ("is_sample", "false", "is_sample must be true or false, not 'false'"),  # bool('false') is True
        ("is_sample", 0, "is_sample must be true or false, not 0"),
        ("is_sample", None, "is_sample must be true or false, not null"),
        ("provider", ["Yahoo"], "provider must be a string, not ['Yahoo']"),
        ("format", True, "format must be 1, 2, 3"),  # True == 1: it was read as format 1
        ("valuation", {"IWM": 17.8}, "valuation.IWM must be an object, not 17.8"),
    ],
)
def test_a_hand_made_manifest_of_the_wrong_types_names_the_key(
    tmp_path: Path, key: str, value: Any, message: str
) -> None:
    """``--from-snapshot`` takes any folder: a bad manifest is a SourceError, never a traceback."""
    path = _with_manifest(write_snapshot(_snapshot(), tmp_path / "snap"), **{key: value})
    with pytest.raises(SourceError) as err:
        read_snapshot(path)
    assert err.value.source == str(path / "manifest.json")
    assert err.value.message.startswith(message)


@pytest.mark.parametrize(
    ("kind", "name", "key", "value", "said"),
    [
        ("series", "^RUT", "origin", "wire", "series.^RUT.origin: 'wire' is not one of live, cache, sample"),
        (
            "feeds",
            "fed-press",
            "status",
            "great",
            "feeds.fed-press.status: 'great' is not one of ok, stale, failed",
        ),
        ("feeds", "fed-press", "origin", 7, "feeds.fed-press.origin: 7 is not one of live, cache"),
    ],
)
def test_an_unknown_origin_or_status_in_a_manifest_names_its_key(
    tmp_path: Path, kind: str, name: str, key: str, value: Any, said: str
) -> None:
    path = write_snapshot(_snapshot(), tmp_path / "snap")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest_entries(manifest, kind)[name][key] = value
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SourceError) as err:
        read_snapshot(path)
    assert err.value.source == str(path / "manifest.json") and said in err.value.message


def test_is_sample_reads_json_booleans_and_defaults_to_false(tmp_path: Path) -> None:
    path = write_snapshot(_snapshot(), tmp_path / "snap")
    assert read_snapshot(_with_manifest(path, is_sample=True)).is_sample is True
    assert read_snapshot(_with_manifest(path, is_sample=False)).is_sample is False
    assert read_snapshot(_with_manifest(path, is_sample=...)).is_sample is False
    empty = read_snapshot(_with_manifest(path, notes=None, calendar_failures=None))
    assert empty.notes == () and empty.calendar_failures == ()
    pairs = read_snapshot(_with_manifest(path, calendar_failures=[["BLS", "HTTP 503"]]))
    assert pairs.calendar_failures == (("BLS", "HTTP 503"),)


def test_a_manifest_nested_past_the_parsers_depth_is_unreadable(tmp_path: Path) -> None:
    path = write_snapshot(_snapshot(), tmp_path / "snap")
    (path / "manifest.json").write_text('{"notes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(SourceError, match="unreadable manifest: maximum recursion depth") as err:
        read_snapshot(path)
    assert err.value.source == str(path / "manifest.json")


def test_valuation_figures_that_are_not_finite_numbers_are_left_out_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_snapshot(_snapshot(), tmp_path / "snap")
    manifest = (path / "manifest.json").read_text()
    odd = '{"IWM": {"trailingPE": Infinity, "priceToBook": NaN, "forwardPE": "16", "beta": 1.1, "x": 1e999}}'
    before = '"valuation": {\n    "IWM": {\n      "trailingPE": 17.8\n    }\n  }'
    assert before in manifest
    (path / "manifest.json").write_text(manifest.replace(before, f'"valuation": {odd}'))
    with caplog.at_level(logging.WARNING):
        snap = read_snapshot(path)
    assert dict(snap.valuation) == {"IWM": {"beta": 1.1}}
    assert caplog.messages == [
        f"{path / 'manifest.json'}: left out what is not a finite number: valuation.IWM.trailingPE (inf),"
        " valuation.IWM.priceToBook (nan), valuation.IWM.forwardPE ('16'), valuation.IWM.x (inf)"
    ]


# --------------------------------------------------------------------------- real CSV layouts


def test_reads_the_modern_yfinance_layout(shared_data: Path) -> None:
    frame = read_prices_csv(shared_data / "prices/yfinance_alitalbi/IDX_RUT.csv", "^RUT")
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert len(frame) == 2801 and frame.index.name == "Date"
    first = frame.loc["2015-01-02"]
    # 2015-01-02,1198.800048828125,1212.800048828125,1189.1600341796875,1209.97998046875,2708700000
    assert first["Close"] == 1198.800048828125 and first["Open"] == 1209.97998046875
    assert first["High"] == 1212.800048828125 and first["Low"] == 1189.1600341796875
    assert first["Volume"] == 2708700000
    assert frame.index[-1] == pd.Timestamp("2026-02-23") and frame["Close"].iloc[-1] == 2620.988525390625


def test_reads_the_yfinance_three_row_header(shared_data: Path) -> None:
    frame = read_prices_csv(shared_data / "prices/weekly_and_fred/yfinance_multiheader_IWM_close.csv", "IWM")
    assert len(frame) == 506
    assert frame.index[0] == pd.Timestamp("2024-06-26") and frame["Close"].iloc[0] == 195.7347869873047
    assert frame.loc["2026-07-02", "Close"] == 297.5799865722656
    row = frame.loc["2024-06-27"]  # Close only: Open/High/Low repeat it, no volume
    assert row["Open"] == row["High"] == row["Low"] == row["Close"] == 197.72122192382812
    assert np.isnan(row["Volume"])


def test_reads_alpha_vantage_newest_first(shared_data: Path) -> None:
    frame = read_prices_csv(shared_data / "prices/alphavantage_compact/IWM.csv", "IWM")
    assert len(frame) == 100 and frame.index.is_monotonic_increasing
    # 2026-03-31,243.0400,248.9200,242.2400,248.0000,58660823 (the file's last line)
    assert frame.iloc[0].tolist() == [243.04, 248.92, 242.24, 248.0, 58660823]
    assert frame.index[-1] == pd.Timestamp("2026-08-21") and frame["Close"].iloc[-1] == 299.94


def test_reads_a_plain_folder_of_real_csvs(shared_data: Path) -> None:
    snap = read_snapshot(shared_data / "prices/yfinance_alitalbi")
    assert {"^RUT", "^VIX", "^TNX", "IWM", "SPY", "ES=F", "RTY=F"} <= set(snap.series)
    assert snap.provider == "local files" and not snap.is_sample
    assert snap.as_of == date(2026, 2, 23)
    assert snap.series["^TNX"].last_bar == date(2026, 2, 13)
    assert all(s.origin == "local" and s.provider == "local files" for s in snap.series.values())


def test_multiheader_with_several_tickers_picks_the_symbol(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "Price,Close,Close,Volume,Volume\nTicker,IWM,SPY,IWM,SPY\nDate,,,,\n2026-11-20,241.5,670.1,100,200\n"
    )
    frame = read_prices_csv(path, "IWM")
    assert frame.iloc[0][["Close", "Volume"]].tolist() == [241.5, 100]
    path.write_text("Ticker,SPY,SPY\nPrice,Close,Volume\nDate,,\n2026-11-20,670.1,200\n")  # group_by="ticker"
    assert read_prices_csv(path, "SPY").iloc[0][["Close", "Volume"]].tolist() == [670.1, 200]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a readable CSV"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"Date,Open\n2026-11-20,1\n", "no Close"),
    ],
)
def test_unreadable_csv_names_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as err:
        read_prices_csv(path, "IWM")
    assert err.value.source == str(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        read_prices_csv(tmp_path / "nope.csv", "IWM")
    assert err.value.source == str(tmp_path / "nope.csv")


# --------------------------------------------------------------------------- hygiene


def test_hygiene_sorts_dedupes_and_drops_bad_rows(caplog: pytest.LogCaptureFixture) -> None:
    raw = pd.DataFrame(
        {
            "date": ["2026-11-19", "2026-11-17", "2026-11-18", "2026-11-18", "2026-11-16", "2026-11-20"],
            "CLOSE": ["10.5", "10.0", "11", "12.25", None, "-1"],
            "volume": [5, 6, 7, 8, 9, 10],
        }
    )
    with caplog.at_level(logging.WARNING):
        frame = clean_frame(raw, "IWM")
    assert _days(frame) == ["2026-11-17", "2026-11-18", "2026-11-19"]
    assert frame["Close"].tolist() == [10.0, 12.25, 10.5]  # the later 2026-11-18 row wins
    assert frame["Open"].tolist() == frame["Close"].tolist()  # no Open/High/Low: filled from Close
    assert frame["Volume"].tolist() == [6.0, 8.0, 5.0]
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert "IWM: dropped 1 row(s) with non-positive prices (first: 2026-11-20)" in caplog.text
    assert "IWM: dropped 1 row(s) with no close (first: 2026-11-16)" in caplog.text


def test_hygiene_converts_timezones_to_exchange_dates() -> None:
    utc = pd.DatetimeIndex(["2024-03-08 21:00", "2024-03-09 02:30", "2024-03-11 20:00"], tz="UTC")
    frame = clean_frame(pd.DataFrame({"Close": [1.0, 2.0, 3.0]}, index=utc), "^RUT")
    # 02:30 UTC on the 9th is 21:30 on the 8th in New York: the same session, and the later row wins
    assert list(frame.index) == [pd.Timestamp("2024-03-08"), pd.Timestamp("2024-03-11")]
    assert frame["Close"].tolist() == [2.0, 3.0]
    assert pd.DatetimeIndex(frame.index).tz is None and frame.index.dtype == "datetime64[ns]"

    labels = pd.DatetimeIndex(["2024-03-08", "2024-03-11"], tz="UTC")  # date labels at UTC midnight
    assert _days(clean_frame(pd.DataFrame({"Close": [1.0, 2.0]}, index=labels), "X")) == [
        "2024-03-08",
        "2024-03-11",
    ]


def test_hygiene_reads_mixed_utc_offsets_from_text() -> None:
    raw = pd.DataFrame(
        {"Date": ["2024-03-08 00:00:00-05:00", "2024-03-11 00:00:00-04:00"], "Close": [1.0, 2.0]}
    )
    assert _days(clean_frame(raw, "X")) == ["2024-03-08", "2024-03-11"]


def test_plain_iso_dates_read_as_any_other_date_text(caplog: pytest.LogCaptureFixture) -> None:
    """The snapshot's own ISO dates are parsed at once; other text goes through pandas, and both
    give the same frame.  A date that is not one (or an impossible one) is dropped and named."""
    iso = pd.DataFrame({"Date": ["2024-03-11", "2024-03-08"], "Close": [2.0, 1.0]})
    timed = pd.DataFrame({"Date": ["2024-03-11 00:00:00", "2024-03-08 00:00:00"], "Close": [2, 1]})
    pd.testing.assert_frame_equal(clean_frame(iso, "X"), clean_frame(timed, "X"), check_exact=True)
    assert clean_frame(iso, "X").index.dtype == "datetime64[ns]"
    # A year no timestamp holds is an unreadable date: never a wrapped-around one, never a crash.
    for bad in ("2024-02-30", "2024/03/07", None, "2024031200", " 024-03-08", "+024-03-08", "0224-03-11"):
        raw = pd.DataFrame({"Date": ["2024-03-08", bad, "2024-03-11"], "Close": [1.0, 5.0, 2.0]})
        with caplog.at_level(logging.WARNING):
            assert _days(clean_frame(raw, "X")) == ["2024-03-08", "2024-03-11"]
        assert "X: dropped 1 row(s) without a readable date" in caplog.text
        caplog.clear()


def test_hygiene_keeps_adj_close_and_names_columns_case_insensitively() -> None:
    raw = pd.DataFrame(
        {
            "Timestamp": ["2026-11-20"],
            "OPEN": [1.0],
            "high": [2.0],
            "Low": [0.5],
            "close": [1.5],
            "adj_close": [1.4],
        }
    )
    frame = clean_frame(raw, "X")
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert frame.iloc[0, :5].tolist() == [1.0, 2.0, 0.5, 1.5, 1.4]


def test_hygiene_without_close_or_rows_names_the_symbol() -> None:
    with pytest.raises(SourceError, match="no Close column") as err:
        clean_frame(pd.DataFrame({"Date": ["2026-11-20"], "Open": [1.0]}), "^RVX")
    assert err.value.source == "^RVX"
    with pytest.raises(SourceError, match="no usable rows"):
        clean_frame(pd.DataFrame({"Date": ["2026-11-20"], "Close": [0.0]}), "^RVX")


def test_yfinance_download_columns_are_accepted() -> None:
    columns = pd.MultiIndex.from_product([["Close", "Volume"], ["IWM"]], names=["Price", "Ticker"])
    raw = pd.DataFrame(
        [[241.5, 100]], index=pd.DatetimeIndex(["2026-11-20"], tz="America/New_York"), columns=columns
    )
    frame = clean_frame(raw, "IWM")
    assert frame.index[0] == pd.Timestamp("2026-11-20") and frame["Close"].iloc[0] == 241.5


# --------------------------------------------------------------------------- plain folders


def test_plain_folder_maps_file_names_and_reports_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "IDX_RUT.csv").write_text("Date,Close\n2026-11-19,2408.14\n2026-11-20,2430\n")
    (tmp_path / "ES_F.csv").write_text("Date,Close\n2026-11-18,6700\n")
    (tmp_path / "breadth.csv").write_text("week_ending,pct\n2026-11-20,55\n")
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "fed-press.xml").write_bytes(b"<rss/>")
    os.utime(tmp_path / "IDX_RUT.csv", (1_763_700_000, 1_763_700_000))
    os.utime(tmp_path / "ES_F.csv", (1_763_600_000, 1_763_600_000))
    os.utime(tmp_path / "news" / "fed-press.xml", (1_763_500_000, 1_763_500_000))

    snap = read_snapshot(tmp_path)
    assert sorted(snap.series) == ["ES=F", "^RUT"]
    assert snap.as_of == date(2026, 11, 20)
    assert snap.built_at == datetime.fromtimestamp(1_763_700_000, tz=UTC)
    assert snap.feeds["fed-press"].body == b"<rss/>" and snap.feeds["fed-press"].origin == "local"
    failed = [h for h in snap.health if h.status == "failed"]
    assert [h.name for h in failed] == ["breadth"] and "no Close column" in failed[0].error
    assert {h.name: h.status for h in snap.health if h.kind == "symbol"}["^RUT"] == "ok"


def test_plain_folder_ignores_links_that_leave_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "SPY.csv").write_text("Date,Close\n2026-11-20,670\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "IWM.csv").write_text("Date,Close\n2026-11-20,241\n")
    (folder / "SPY.csv").symlink_to(outside / "SPY.csv")
    assert list(read_snapshot(folder).series) == ["IWM"]


def test_folder_without_prices_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no readable price CSV"):
        read_snapshot(tmp_path)
    with pytest.raises(SourceError, match="not a directory"):
        read_snapshot(tmp_path / "missing")


@pytest.mark.parametrize(
    ("name", "symbol"),
    [("^RUT.csv", "^RUT"), ("IDX_RUT.csv", "^RUT"), ("RTY_F.csv", "RTY=F"), ("IWM.csv", "IWM")],
)
def test_symbol_from_filename(name: str, symbol: str) -> None:
    assert symbol_from_filename(name) == symbol


# --------------------------------------------------------------------------- the bundled sample


@pytest.fixture(scope="module")
def feeds_yaml() -> dict[str, object]:
    doc = yaml.safe_load((ROOT / "feeds.yaml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_sample_covers_the_default_universe(
    sample: Snapshot, feeds_yaml: dict[str, list[dict[str, str]]]
) -> None:
    symbols = [u["symbol"] for u in feeds_yaml["universe"]]
    fred = {s for s in sample.series if s.startswith("FRED-")}
    assert set(symbols) == set(sample.series) - fred
    assert fred == {"FRED-DGS2", "FRED-DGS10", "FRED-DGS3MO", "FRED-T10Y2Y", "FRED-BAMLH0A0HYM2"}
    assert sample.is_sample and sample.provider == SAMPLE_PROVIDER and SAMPLE_NOTE in sample.notes
    assert sample.as_of == date(2026, 11, 20) and sample.as_of.weekday() == 4
    # The whole index and next week's calendar are in the sample too, labelled as sample.
    assert sample.index_view is not None and len(sample.index_view.members) > 100
    assert sample.index_view.week_end == date(2026, 11, 20) and sample.events
    for series in sample.series.values():
        if series.symbol in fred:  # FRED publishes a day late
            assert series.last_bar == date(2026, 11, 19), series.symbol
            continue
        assert series.last_bar == date(2026, 11, 20), series.symbol
        assert (series.last_bar - series.first_bar).days >= 3 * 365, series.symbol
        assert series.provider == SAMPLE_PROVIDER and series.origin == "sample"
        f = series.frame
        assert (f["High"] >= f[["Open", "Close"]].max(axis=1)).all(), series.symbol
        assert (f["Low"] <= f[["Open", "Close"]].min(axis=1)).all(), series.symbol
    assert {"IWM", "IJR"} <= set(sample.valuation)


def test_sample_levels_and_story_are_plausible(sample: Snapshot) -> None:
    last = {s: v.frame["Close"].iloc[-1] for s, v in sample.series.items()}
    assert 2000 < last["^RUT"] < 3000 and 5000 < last["^GSPC"] < 8000
    assert 0.09 < last["IWM"] / last["^RUT"] < 0.11
    assert all(1 < last[s] < 8 for s in ("^IRX", "^FVX", "^TNX", "^TYX"))
    assert (sample.series["^VIX"].frame["Volume"] == 0).all()
    rut, spx = sample.series["^RUT"].frame["Close"], sample.series["^GSPC"].frame["Close"]
    assert rut.iloc[-1] == rut.max()  # a record close on the last day
    beat = (rut.pct_change() - spx.pct_change()).iloc[-8:] > 0
    assert beat.iloc[1:].all() and not beat.iloc[0]  # a seven-session streak


def test_sample_feeds_parse_and_exercise_deduplication(
    sample: Snapshot, feeds_yaml: dict[str, list[dict[str, str]]]
) -> None:
    assert set(sample.feeds) == {f["name"] for f in feeds_yaml["news"]}
    guids: dict[str, list[str]] = {}
    for name, capture in sample.feeds.items():
        parsed = feedparser.parse(capture.body)
        assert not parsed.bozo, name
        assert (
            "SAMPLE — illustrative" in parsed.feed.title
            and "SAMPLE — illustrative" in parsed.feed.description
        )
        assert 4 <= len(parsed.entries) <= 8, name
        for entry in parsed.entries:
            assert entry.link.startswith("https://example.com/sample/")
            assert date(2026, 11, 16) <= date(*entry.published_parsed[:3]) <= date(2026, 11, 21)
            guids.setdefault(entry.id, []).append(name)
    assert any(len(feeds) > 1 for feeds in guids.values())  # one item appears in two feeds


def _load_make_sample() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "scripts" / "make_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


# Prices in the sample are rounded to the cent after floating-point work whose last bits differ between
# CPUs, so a regenerated price may land one cent away from the bundled one (241.8 against 241.79).
PRICE_COLUMNS = frozenset({"Open", "High", "Low", "Close", "base_close", "last_close"})
CENT = 0.01 + 1e-9
MANIFEST_DIFFERS = "manifest.json: differs beyond the sha256 of files a cent apart"


def _csv_beyond_a_cent(ours: bytes, theirs: bytes) -> str:
    """Why two CSVs differ beyond one cent on a price column ("" when they do not)."""
    a, b = ours.decode().splitlines(), theirs.decode().splitlines()
    if not a or not b or a[0] != b[0] or len(a) != len(b):
        return "header or row count differs"
    columns = a[0].split(",")
    for number, (row_a, row_b) in enumerate(zip(a[1:], b[1:], strict=True), start=2):
        cells_a, cells_b = row_a.split(","), row_b.split(",")
        if len(cells_a) != len(columns) or len(cells_b) != len(columns):
            return f"line {number}: wrong number of cells"
        for column, x, y in zip(columns, cells_a, cells_b, strict=True):
            if x != y and not (column in PRICE_COLUMNS and abs(float(x) - float(y)) <= CENT):
                return f"line {number}, {column}: {x} against {y}"
    return ""


def _without_sha256_of(doc: Any, files: set[str]) -> Any:
    """The manifest without the sha256 of the named files."""
    if isinstance(doc, dict):
        skip = "sha256" if doc.get("file") in files else None
        return {k: _without_sha256_of(v, files) for k, v in doc.items() if k != skip}
    if isinstance(doc, list):
        return [_without_sha256_of(v, files) for v in doc]
    return doc


def _sample_differences(ours: dict[str, bytes], bundled: dict[str, bytes]) -> list[str]:
    """What differs between two sample folders beyond one cent on a price (and its file's sha256)."""
    problems = [f"{name}: only in one of them" for name in sorted(ours.keys() ^ bundled.keys())]
    by_cents: set[str] = set()
    for name in sorted(ours.keys() & bundled.keys() - {"manifest.json"}):
        if ours[name] == bundled[name]:
            continue
        why = _csv_beyond_a_cent(ours[name], bundled[name]) if name.endswith(".csv") else "differs"
        if why:
            problems.append(f"{name}: {why}")
        else:
            by_cents.add(name)
    manifests = [json.loads(tree.get("manifest.json", b"null")) for tree in (ours, bundled)]
    if _without_sha256_of(manifests[0], by_cents) != _without_sha256_of(manifests[1], by_cents):
        problems.append(MANIFEST_DIFFERS)
    return problems


def test_make_sample_is_deterministic_and_matches_the_bundled_files(tmp_path: Path) -> None:
    make_sample = _load_make_sample()
    one = make_sample.write_sample(tmp_path / "one")
    two = make_sample.write_sample(tmp_path / "two")
    assert _tree(one) == _tree(two)  # on one machine: byte for byte
    problems = _sample_differences(_tree(one), _tree(SAMPLE_DIR))
    assert problems == [], f"the bundled sample is out of date: run `make sample` ({problems[:5]})"


def _sample_pair(ours_row: str, bundled_row: str, *, sha: bool = True) -> tuple[dict[str, bytes], ...]:
    """Two one-file sample folders whose last IWM row differs as given (rows from a real case)."""
    trees = []
    for last in (ours_row, bundled_row):
        csv = f"Date,Open,High,Low,Close,Volume\n2026-11-19,239.61,241.4,239.15,239.44,32297060\n{last}\n"
        digest = hashlib.sha256(csv.encode()).hexdigest() if sha else "same"
        manifest = {"series": {"IWM": {"file": "prices/IWM.csv", "rows": 2, "sha256": digest}}}
        trees.append({"prices/IWM.csv": csv.encode(), "manifest.json": json.dumps(manifest).encode()})
    return tuple(trees)


def test_a_cent_apart_on_a_price_is_the_same_sample() -> None:
    ours, bundled = _sample_pair(
        "2026-11-20,239.06,241.8,238.21,241.79,36831734", "2026-11-20,239.06,241.79,238.21,241.78,36831734"
    )
    assert _sample_differences(ours, bundled) == []
    assert _sample_differences(ours, ours) == []


@pytest.mark.parametrize(
    ("bundled_row", "problem"),
    [
        ("2026-11-20,239.06,241.78,238.21,241.79,36831734", "line 3, High: 241.8 against 241.78"),
        ("2026-11-20,239.06,241.8,238.21,241.79,36831735", "line 3, Volume: 36831734 against 36831735"),
        ("2026-11-21,239.06,241.8,238.21,241.79,36831734", "line 3, Date: 2026-11-20 against 2026-11-21"),
    ],
)
def test_more_than_a_cent_or_any_other_column_is_a_difference(bundled_row: str, problem: str) -> None:
    ours, bundled = _sample_pair("2026-11-20,239.06,241.8,238.21,241.79,36831734", bundled_row)
    # its sha256 differs too, and that is not excused
    assert _sample_differences(ours, bundled) == [f"prices/IWM.csv: {problem}", MANIFEST_DIFFERS]


def test_manifest_differences_other_than_the_sha256_of_a_cent_apart_file_count() -> None:
    ours, bundled = _sample_pair(
        "2026-11-20,239.06,241.8,238.21,241.79,36831734", "2026-11-20,239.06,241.8,238.21,241.79,36831734"
    )
    bundled["manifest.json"] = bundled["manifest.json"].replace(b'"rows": 2', b'"rows": 3')
    assert _sample_differences(ours, bundled) == [MANIFEST_DIFFERS]
    # The same CSV bytes but another recorded sha256: the manifest is wrong, not the prices.
    ours, bundled = _sample_pair("2026-11-20,1,1,1,1,1", "2026-11-20,1,1,1,1,1")
    bundled["manifest.json"] = bundled["manifest.json"].replace(b'"sha256": "', b'"sha256": "0')
    assert _sample_differences(ours, bundled) == [MANIFEST_DIFFERS]
    del bundled["prices/IWM.csv"]
    assert _sample_differences(ours, bundled)[0] == "prices/IWM.csv: only in one of them"


def test_save_snapshot_returns_what_reading_it_back_gives(tmp_path: Path) -> None:
    """The build analyses save_snapshot's result without re-reading: it must equal a fresh read."""
    from generator.sources.snapshot import save_snapshot

    sample = load_sample()
    saved = save_snapshot(sample, tmp_path / "snap")
    again = read_snapshot(tmp_path / "snap")
    assert set(saved.series) == set(again.series)
    for symbol, series in again.series.items():
        pd.testing.assert_frame_equal(saved.series[symbol].frame, series.frame, check_exact=True)
        assert (saved.series[symbol].provider, saved.series[symbol].origin) == (
            series.provider,
            series.origin,
        )
    assert saved.health == again.health and saved.notes == again.notes and saved.events == again.events
    assert saved.index_view is not None and again.index_view is not None
    pd.testing.assert_frame_equal(saved.index_view.members, again.index_view.members, check_exact=True)


def test_a_series_read_from_a_snapshot_is_written_again_from_its_own_text(tmp_path: Path) -> None:
    """No second formatting of the prices: the text read is the text written, cut or not."""
    from dataclasses import replace

    from generator.sources.prices_csv import prices_csv

    sample = load_sample()
    bench = sample.series["^RUT"]
    assert bench.text is not None and bench.text == prices_csv(bench.frame)[0]
    cut = bench.until(date(2026, 6, 30))
    assert cut.text == prices_csv(cut.frame)[0]  # the first lines of the text are the cut's CSV
    assert replace(bench, frame=cut.frame).text is None  # another frame: its text is not carried over
    assert bench.until(bench.last_bar) is bench  # nothing to cut: the same series
    weekend = bench.until(date(2026, 6, 28))  # a Sunday: the cut ends on the Friday before
    assert weekend.last_bar == date(2026, 6, 26) and weekend.text == prices_csv(weekend.frame)[0]
    pd.testing.assert_frame_equal(
        weekend.frame, bench.frame.loc[:"2026-06-28"], check_freq=False, check_exact=True
    )
    before = bench.until(bench.first_bar.replace(year=bench.first_bar.year - 1))
    assert before.frame.empty and before.text == bench.text.split(b"\n", 1)[0] + b"\n"  # the header

    plain = {s: Series(s, x.frame, x.provider, x.origin, x.fetched_at) for s, x in sample.series.items()}
    a = write_snapshot(sample, tmp_path / "with-text")
    b = write_snapshot(replace(sample, series=plain), tmp_path / "formatted")
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()
    for path in sorted((a / "prices").iterdir()):
        assert path.read_bytes() == (b / "prices" / path.name).read_bytes(), path.name
    again = save_snapshot(sample, tmp_path / "saved")
    assert all(again.series[s].text == sample.series[s].text for s in sample.series)


def test_the_sample_is_read_once_and_each_call_gets_frames_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_sample reads (and checks) its files once per process, again when one changes; what one
    caller does to its snapshot is not seen by the next."""
    import shutil

    from generator.sources import snapshot as module

    folder = tmp_path / "sample"
    shutil.copytree(module.SAMPLE_DIR, folder)
    monkeypatch.setattr(module, "SAMPLE_DIR", folder)
    reads: list[Path] = []
    real_read = module.read_snapshot

    def counted(path: Path) -> Snapshot:
        reads.append(path)
        return real_read(path)

    monkeypatch.setattr(module, "read_snapshot", counted)
    first, second = load_sample(), load_sample()
    assert reads == [folder]
    assert first.is_sample and first.series["IWM"].provider == module.SAMPLE_PROVIDER
    assert first.series["IWM"].text is not None and first.series["IWM"].text == second.series["IWM"].text
    first.series["IWM"].frame.iloc[-1, 0] = -1.0
    assert second.series["IWM"].frame.iloc[-1, 0] > 0 and load_sample().series["IWM"].frame.iloc[-1, 0] > 0
    assert first.index_view is not None and second.index_view is not None
    first.index_view.daily.iloc[-1, 0] = -999  # nothing of one call's snapshot is another's
    assert second.index_view.daily.iloc[-1, 0] != -999 and load_sample().index_view.daily.iloc[-1, 0] != -999
    assert len(reads) == 1

    csv = folder / "prices" / "IWM.csv"
    csv.write_bytes(csv.read_bytes() + b"\n")  # a changed file is read, and checked, again
    with pytest.raises(SourceError, match="sha256"):
        load_sample()
    assert len(reads) == 2
