"""generator.sources.price_cache: the SQLite bar cache."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.errors import SourceError
from generator.sources import price_cache
from generator.sources.core_providers import YahooPrices, price_cache_path
from generator.sources.price_cache import SCHEMA_VERSION, PriceCache
from generator.sources.providers import run
from generator.sources.snapshot import read_prices_csv
from tests.fake_providers import fake_context

FETCHED = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)


def bars(days: list[str], closes: list[float], adj: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Open": [c - 1 for c in closes],
            "High": [c + 2 for c in closes],
            "Low": [c - 2 for c in closes],
            "Close": closes,
            "Adj Close": [c * 0.99 for c in closes],
            "Volume": [1_000_000.0 + i for i in range(len(closes))],
        },
        index=pd.DatetimeIndex(pd.to_datetime(days), name="Date").as_unit("ns"),
    )
    return frame if adj else frame.drop(columns="Adj Close")


def cached_frame(cache: PriceCache, symbol: str) -> pd.DataFrame:
    frame = cache.load(symbol)
    assert frame is not None, f"{symbol} is not cached"
    return frame


def days_of(frame: pd.DataFrame) -> list[str]:
    return [d.date().isoformat() for d in pd.DatetimeIndex(frame.index)]


def test_store_then_load_round_trips(tmp_path: Path) -> None:
    frame = bars(["2026-11-16", "2026-11-17", "2026-11-18"], [244.1, 245.3, 243.8])
    with PriceCache(tmp_path / "p.sqlite") as cache:
        assert cache.store("IWM", frame, FETCHED) == 3
        pd.testing.assert_frame_equal(cached_frame(cache, "IWM"), frame, check_exact=True)
        assert cache.last_bar("IWM") == date(2026, 11, 18)
        entry = cache.entry("IWM")
        assert entry is not None
        assert (entry.provider, entry.fetched_at, entry.last_complete_bar) == (
            "Yahoo Finance (yfinance)",
            FETCHED,
            date(2026, 11, 18),
        )


def test_the_cache_survives_closing_and_reopening(tmp_path: Path) -> None:
    frame = bars(["2026-11-19", "2026-11-20"], [2461.8, 2475.3])
    with PriceCache(tmp_path / "p.sqlite") as cache:
        cache.store("^RUT", frame, FETCHED)
    with PriceCache(tmp_path / "p.sqlite") as cache:
        pd.testing.assert_frame_equal(cached_frame(cache, "^RUT"), frame, check_exact=True)
        assert cache.symbols() == ["^RUT"]


def test_later_bars_replace_earlier_values_for_the_same_date(tmp_path: Path) -> None:
    later = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    with PriceCache(tmp_path / "p.sqlite") as cache:
        cache.store("IWM", bars(["2026-11-19", "2026-11-20"], [244.0, 245.0]), FETCHED)
        cache.store("IWM", bars(["2026-11-20", "2026-11-23"], [246.5, 247.0]), later)
        loaded = cache.load("IWM")
        assert loaded is not None
        assert days_of(loaded) == ["2026-11-19", "2026-11-20", "2026-11-23"]
        assert loaded["Close"].tolist() == [244.0, 246.5, 247.0]
        entry = cache.entry("IWM")
        assert (
            entry is not None and entry.fetched_at == later and entry.last_complete_bar == date(2026, 11, 23)
        )


def test_missing_adjusted_close_and_volume_stay_missing(tmp_path: Path) -> None:
    frame = bars(["2026-11-19", "2026-11-20"], [17.4, 16.9], adj=False)
    frame["Volume"] = np.nan
    with PriceCache(tmp_path / "p.sqlite") as cache:
        cache.store("^VIX", frame, FETCHED)
        loaded = cache.load("^VIX")
        assert loaded is not None
        assert list(loaded.columns) == ["Open", "High", "Low", "Close", "Volume"]
        assert loaded["Volume"].isna().all()


def test_rows_without_a_positive_close_are_not_stored(tmp_path: Path) -> None:
    frame = bars(["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"], [10.0, 11.0, 12.0, 13.0])
    frame.loc["2026-11-18", "Close"] = np.nan
    frame.loc["2026-11-19", "Close"] = 0.0
    frame.loc["2026-11-20", "High"] = np.inf  # a non-finite value becomes NULL, then the Close fills it
    with PriceCache(tmp_path / "p.sqlite") as cache:
        assert cache.store("X", frame, FETCHED) == 2
        loaded = cache.load("X")
        assert loaded is not None
        assert days_of(loaded) == ["2026-11-17", "2026-11-20"]
        assert loaded.loc["2026-11-20", "High"] == 13.0


def test_unknown_symbols_have_nothing(tmp_path: Path) -> None:
    with PriceCache(tmp_path / "p.sqlite") as cache:
        assert cache.load("IWM") is None
        assert cache.last_bar("IWM") is None
        assert cache.entry("IWM") is None
        assert cache.symbols() == []


def test_storing_without_a_close_names_the_symbol(tmp_path: Path) -> None:
    with PriceCache(tmp_path / "p.sqlite") as cache, pytest.raises(SourceError, match="IWM"):
        cache.store("IWM", bars(["2026-11-20"], [1.0]).drop(columns="Close"), FETCHED)


def test_naive_fetch_times_are_taken_as_utc(tmp_path: Path) -> None:
    with PriceCache(tmp_path / "p.sqlite") as cache:
        cache.store("IWM", bars(["2026-11-20"], [245.0]), datetime(2026, 11, 20, 23, 0))
        entry = cache.entry("IWM")
        assert entry is not None and entry.fetched_at == FETCHED


def test_a_cache_written_by_an_older_layout_opens_and_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # bars with closes only, no symbols table, no version
        conn.execute(
            "CREATE TABLE bars (symbol TEXT NOT NULL, date TEXT NOT NULL, close REAL NOT NULL,"
            " PRIMARY KEY (symbol, date))"
        )
        conn.executemany(
            "INSERT INTO bars VALUES (?, ?, ?)",
            [("^RUT", "2026-11-19", 2461.8), ("^RUT", "2026-11-20", 2475.3)],
        )
    conn.close()
    with PriceCache(path) as cache:
        loaded = cache.load("^RUT")
        assert loaded is not None
        assert loaded["Close"].tolist() == [2461.8, 2475.3]
        assert loaded["Open"].tolist() == [2461.8, 2475.3]  # unknown parts of a bar fall back to the close
        entry = cache.entry("^RUT")
        assert (
            entry is not None and entry.fetched_at is None and entry.last_complete_bar == date(2026, 11, 20)
        )
        cache.store("^RUT", bars(["2026-11-23"], [2480.0]), FETCHED)
        assert cache.last_bar("^RUT") == date(2026, 11, 23)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_whole_history_is_remembered_once_stored(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    with sqlite3.connect(path) as conn:  # the first released layout: no full_history column
        conn.execute(
            "CREATE TABLE symbols (symbol TEXT PRIMARY KEY, provider TEXT, fetched_at TEXT,"
            " last_complete_bar TEXT)"
        )
        conn.execute("INSERT INTO symbols VALUES ('^RUT', 'Yahoo Finance (yfinance)', NULL, '2026-11-20')")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with PriceCache(path) as cache:
        assert not cache.has_full_history("^RUT")  # no bars yet, and never fetched whole
        cache.store("^RUT", bars(["2026-11-19", "2026-11-20"], [2461.8, 2475.3]), FETCHED)
        assert not cache.has_full_history("^RUT")
        cache.store("^RUT", bars(["1987-09-10", "2026-11-20"], [168.4, 2475.3]), FETCHED, full_history=True)
        assert cache.has_full_history("^RUT")
        cache.store("^RUT", bars(["2026-11-23"], [2480.0]), FETCHED)  # an incremental store keeps it
        assert cache.has_full_history("^RUT") and not cache.has_full_history("IWM")
    with PriceCache(path) as cache:
        assert cache.has_full_history("^RUT")
        assert cache.last_bar("^RUT") == date(2026, 11, 23)


def test_a_file_that_is_not_a_cache_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "prices.sqlite"
    path.write_bytes(b"this is not a SQLite database, just some bytes" * 100)
    with PriceCache(path) as cache:
        assert cache.symbols() == []
        cache.store("IWM", bars(["2026-11-20"], [245.0]), FETCHED)
    aside = tmp_path / "prices.sqlite.corrupt"
    assert aside.read_bytes().startswith(b"this is not a SQLite database")


def test_a_damaged_cache_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "prices.sqlite"
    days = [f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)]
    with PriceCache(path) as cache:
        cache.store("IWM", bars(days, [245.0] * len(days)), FETCHED)  # enough rows for several pages
    damaged = bytearray(path.read_bytes())
    damaged[100:4096] = b"\xff" * (4096 - 100)  # the schema page, past the 100-byte header
    path.write_bytes(bytes(damaged))
    with PriceCache(path) as cache:
        assert cache.symbols() == []
    assert (tmp_path / "prices.sqlite.corrupt").read_bytes() == bytes(damaged)
    assert "database disk image is malformed" in caplog.text and "moved to" in caplog.text


def test_a_cache_locked_by_another_writer_is_left_alone_and_named(tmp_path: Path) -> None:
    path = tmp_path / "prices.sqlite"
    with PriceCache(path) as cache:
        cache.store("IWM", bars(["2026-11-19", "2026-11-20"], [244.0, 245.0]), FETCHED)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")  # another process in the middle of a write
        with pytest.raises(SourceError) as caught:
            PriceCache(path, timeout=0.05)
        assert caught.value.source == str(path)
        assert caught.value.message == "cannot open the price cache: database is locked"
        assert path.is_file() and not (tmp_path / "prices.sqlite.corrupt").exists()
    finally:
        writer.rollback()
        writer.close()
    with PriceCache(path) as cache:  # once the writer is done, everything is still there
        assert cache.last_bar("IWM") == date(2026, 11, 20)


def test_a_locked_cache_costs_the_price_provider_its_row_not_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = fake_context(tmp_path, offline=True)  # --data cache: the price cache alone
    path = price_cache_path(context.cache_dir)
    with PriceCache(path) as cache:
        cache.store("^RUT", bars(["2026-11-19", "2026-11-20"], [2400.0, 2410.0]), FETCHED)
    monkeypatch.setattr(price_cache, "LOCK_TIMEOUT", 0.05)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")
        result = run(YahooPrices(), context)
    finally:
        writer.rollback()
        writer.close()
    (row,) = result.health
    assert (row.name, row.status, row.origin) == ("yahoo-prices", "failed", "cache")
    assert row.error == "prices.sqlite: cannot open the price cache: database is locked"  # paths redacted
    assert path.is_file() and not path.with_name("prices.sqlite.corrupt").exists()


def test_a_cache_that_cannot_be_opened_is_named_not_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "prices.sqlite"
    path.mkdir()  # a folder where the file goes: SQLite cannot open it, even as root
    with pytest.raises(SourceError) as caught:
        PriceCache(path)
    assert caught.value.source == str(path)
    assert caught.value.message == "cannot open the price cache: unable to open database file"
    assert path.is_dir() and not (tmp_path / "prices.sqlite.corrupt").exists()


def test_closed_cache_refuses_work(tmp_path: Path) -> None:
    cache = PriceCache(tmp_path / "p.sqlite")
    cache.close()
    with pytest.raises(sqlite3.ProgrammingError):
        cache.symbols()


def test_real_iwm_history_round_trips(tmp_path: Path, shared_data: Path) -> None:
    frame = read_prices_csv(shared_data / "prices/yfinance_alitalbi/IWM.csv", "IWM")
    with PriceCache(tmp_path / "p.sqlite") as cache:
        assert cache.store("IWM", frame, FETCHED) == len(frame) == 2801
        pd.testing.assert_frame_equal(cached_frame(cache, "IWM"), frame, check_exact=True)
        assert cache.last_bar("IWM") == date(2026, 2, 23)
