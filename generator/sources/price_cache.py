"""The incremental on-disk price cache: one SQLite file, daily bars per symbol.

A live fetch reads the last cached complete bar of each symbol, asks Yahoo only for what
comes after it, and stores the new bars here.  ``--data cache`` builds from this file alone.

Schema (``PRAGMA user_version`` = :data:`SCHEMA_VERSION`)::

    bars                          one row per symbol and trading day
      symbol     TEXT  NOT NULL   as written in feeds.yaml: ^RUT, IWM
      date       TEXT  NOT NULL   ISO date of the session (exchange calendar): 2026-11-20
      open, high, low REAL        may be NULL
      close      REAL  NOT NULL   > 0
      adj_close  REAL             NULL when the provider gives no adjusted close
      volume     REAL             NULL when unknown; 0 for indices without volume
      PRIMARY KEY (symbol, date)

    symbols                       one row per cached symbol
      symbol             TEXT PRIMARY KEY
      provider           TEXT     "Yahoo Finance (yfinance)"
      fetched_at         TEXT     ISO timestamp (UTC) of the last store
      last_complete_bar  TEXT     ISO date of the newest complete bar in ``bars``
      full_history       INTEGER  1 once the symbol's whole history (``period="max"``) was stored

Only complete bars are stored (the caller leaves out an unfinished bar for the current day).
Storing a bar for a date already cached replaces it.  Opening a file written by an older run
is safe: tables and columns it lacks are added; nothing is dropped.  A file that is not a
SQLite database at all, or a damaged one, is moved aside (``<name>.corrupt``) and a fresh cache
is started; a file locked by another writer (or otherwise unusable) is left alone: SourceError.

:func:`merge_bars` puts newly fetched bars together with the cached ones (re-basing the cache
when the provider's adjustment changed), so the merged series stays on one basis.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import cast

import numpy as np
import pandas as pd

from generator.errors import SourceError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
DEFAULT_PROVIDER = "Yahoo Finance (yfinance)"
SPLIT_TOLERANCE = 0.02  # the overlap bar's Close moved more than this: the provider re-based prices
LOCK_TIMEOUT = 5.0  # seconds to wait for another connection's lock on the file (SQLite's own default)

# column in the DataFrame -> column in ``bars``
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Open", "open"),
    ("High", "high"),
    ("Low", "low"),
    ("Close", "close"),
    ("Adj Close", "adj_close"),
    ("Volume", "volume"),
)
_TABLES = {
    "bars": (
        "CREATE TABLE IF NOT EXISTS bars ("
        " symbol TEXT NOT NULL, date TEXT NOT NULL, close REAL NOT NULL,"
        " PRIMARY KEY (symbol, date))"
    ),
    "symbols": "CREATE TABLE IF NOT EXISTS symbols (symbol TEXT PRIMARY KEY)",
}
_SELECT_BARS = (
    "SELECT date, open, high, low, close, adj_close, volume FROM bars WHERE symbol = ? ORDER BY date"
)
# the symbols arrive as one JSON array parameter
_SELECT_LAST_BARS = (  # one index seek per symbol (SQLite's MAX optimisation), NULL when it has no bar
    "SELECT value, (SELECT MAX(date) FROM bars WHERE symbol = value) FROM json_each(?)"
)
_SELECT_CLOSES = (
    "SELECT symbol, date, COALESCE(adj_close, close) FROM bars "
    "WHERE symbol IN (SELECT value FROM json_each(?)) AND date >= ? AND date <= ?"
)
_UPSERT_BARS = (
    "INSERT INTO bars (symbol, date, open, high, low, close, adj_close, volume) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(symbol, date) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low, "
    "close = excluded.close, adj_close = excluded.adj_close, volume = excluded.volume"
)
_UPSERT_SYMBOL = (
    "INSERT INTO symbols (symbol, provider, fetched_at, last_complete_bar, full_history) "
    "VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT(symbol) DO UPDATE SET provider = excluded.provider, fetched_at = excluded.fetched_at, "
    "last_complete_bar = excluded.last_complete_bar, "
    "full_history = MAX(COALESCE(symbols.full_history, 0), excluded.full_history)"
)
# columns added on open when an older file lacks them (all nullable)
_ADDED_COLUMNS = {
    "bars": (("open", "REAL"), ("high", "REAL"), ("low", "REAL"), ("adj_close", "REAL"), ("volume", "REAL")),
    "symbols": (
        ("provider", "TEXT"),
        ("fetched_at", "TEXT"),
        ("last_complete_bar", "TEXT"),
        ("full_history", "INTEGER"),
    ),
}


@dataclass(frozen=True)
class CacheEntry:
    """What the cache knows about one symbol besides its bars."""

    symbol: str
    provider: str
    fetched_at: datetime | None
    last_complete_bar: date | None


# SQLite's own words for a file that is not (or no longer) a database; anything else (locked,
# busy, read-only, disk full, cannot open) leaves the file where it is
_CORRUPT_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


class PriceCache:
    """Daily bars per symbol in one SQLite file.  Use as a context manager, or call :meth:`close`.

    ``timeout`` is how long (seconds) to wait for another connection's lock on the file (default
    :data:`LOCK_TIMEOUT`).  Opening raises :class:`SourceError` naming the file when it cannot be
    used (locked by another writer past ``timeout``, read-only, cannot be created); only a file
    that is not a SQLite database, or a damaged one, is moved aside and started afresh.
    """

    def __init__(self, path: Path, *, timeout: float | None = None) -> None:
        self.path = Path(path)
        self._timeout = LOCK_TIMEOUT if timeout is None else timeout
        self._conn = self._open()
        self._batched = False

    # -- lifecycle -----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        source = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return self._connect()
        except OSError as exc:
            raise SourceError(source, f"cannot open the price cache: {exc.strerror or exc}") from exc
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):  # locked by another writer, read-only, ...: not ours to discard
                raise SourceError(source, f"cannot open the price cache: {exc}") from exc
            aside = self.path.with_name(self.path.name + ".corrupt")
            log.warning(
                "%s: not a readable price cache (%s); moved to %s, starting afresh", self.path, exc, aside
            )
            try:
                self.path.replace(aside)
                return self._connect()
            except (OSError, sqlite3.DatabaseError) as again:
                raise SourceError(source, f"cannot create the price cache: {again}") from again

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self._timeout)
        try:
            with conn:
                for ddl in _TABLES.values():
                    conn.execute(ddl)
                for table, wanted in _ADDED_COLUMNS.items():
                    have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                    for name, kind in wanted:
                        if name not in have:
                            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PriceCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    def symbols(self) -> list[str]:
        """Every symbol with at least one cached bar, sorted."""
        rows = self._conn.execute("SELECT DISTINCT symbol FROM bars ORDER BY symbol").fetchall()
        return [str(r[0]) for r in rows]

    def last_bars(self, symbols: Iterable[str]) -> dict[str, date]:
        """The newest cached bar of each of ``symbols`` that has one (one query for all)."""
        names = json.dumps(list(dict.fromkeys(symbols)))
        rows = self._conn.execute(_SELECT_LAST_BARS, (names,)).fetchall()
        return {str(s): date.fromisoformat(d) for s, d in rows if d is not None}

    def closes(self, symbols: Iterable[str], since: date, until: date) -> pd.DataFrame:
        """Closes of ``symbols`` from ``since`` to ``until`` as one frame: sessions × symbols.

        Adjusted closes where cached, else closes (as :attr:`generator.models.Series.closes`).
        Every symbol is a column, in the order given; NaN where a symbol has no bar that day.
        The index is a tz-naive DatetimeIndex named "Date" holding each day some symbol has a bar.
        """
        wanted = list(dict.fromkeys(symbols))
        rows = self._conn.execute(
            _SELECT_CLOSES, (json.dumps(wanted), since.isoformat(), until.isoformat())
        ).fetchall()
        long = pd.DataFrame(rows, columns=["symbol", "date", "close"])
        at_day, sessions = pd.factorize(long["date"], sort=True)
        table = np.full((len(sessions), len(wanted)), np.nan)
        at_symbol = pd.Index(wanted).get_indexer(pd.Index(long["symbol"]))
        table[at_day, at_symbol] = long["close"].to_numpy(dtype=float)
        index = pd.DatetimeIndex(pd.to_datetime(sessions), name="Date").as_unit("ns")
        return pd.DataFrame(table, index=index, columns=wanted)

    def last_bar(self, symbol: str) -> date | None:
        """The newest cached (complete) bar of ``symbol``, or None when nothing is cached."""
        row = self._conn.execute("SELECT MAX(date) FROM bars WHERE symbol = ?", (symbol,)).fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def entry(self, symbol: str) -> CacheEntry | None:
        """Provider, fetch time and last complete bar of ``symbol``; None when it has no bars."""
        last = self.last_bar(symbol)
        if last is None:
            return None
        row = self._conn.execute(
            "SELECT provider, fetched_at FROM symbols WHERE symbol = ?", (symbol,)
        ).fetchone()
        provider, fetched = (row[0], row[1]) if row else (None, None)
        return CacheEntry(symbol, provider or DEFAULT_PROVIDER, _parse_time(fetched), last)

    def has_full_history(self, symbol: str) -> bool:
        """True once ``symbol``'s whole history was stored (a ``period="max"`` fetch)."""
        row = self._conn.execute("SELECT full_history FROM symbols WHERE symbol = ?", (symbol,)).fetchone()
        return bool(row and row[0]) and self.last_bar(symbol) is not None

    def load(self, symbol: str) -> pd.DataFrame | None:
        """All cached bars of ``symbol`` in the Series frame layout, or None when nothing is cached.

        The index is a tz-naive DatetimeIndex named "Date"; columns are Open, High, Low, Close,
        Adj Close (only when cached for some bar) and Volume, all float.
        """
        rows = self._conn.execute(_SELECT_BARS, (symbol,)).fetchall()
        if not rows:
            return None
        frame = pd.DataFrame([r[1:] for r in rows], columns=[c for c, _ in _COLUMNS], dtype=float).set_index(
            pd.DatetimeIndex(pd.to_datetime([r[0] for r in rows]), name="Date").as_unit("ns")
        )
        if frame["Adj Close"].isna().all():
            frame = frame.drop(columns="Adj Close")
        elif frame["Adj Close"].isna().any():
            frame["Adj Close"] = frame["Adj Close"].fillna(frame["Close"])
        for col in ("Open", "High", "Low"):
            frame[col] = frame[col].fillna(frame["Close"])
        return frame

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make the :meth:`store` calls inside one transaction: one commit instead of one per symbol.

        (Each commit waits for the disk; for the ~1,900 index members that wait dominates.)
        Nothing of the batch is kept when an error leaves it.
        """
        self._batched = True
        try:
            with self._conn:
                yield
        finally:
            self._batched = False

    def store(
        self,
        symbol: str,
        frame: pd.DataFrame,
        fetched_at: datetime,
        provider: str = DEFAULT_PROVIDER,
        *,
        full_history: bool = False,
    ) -> int:
        """Upsert the bars of ``frame`` for ``symbol``; a bar replaces any cached bar of the same date.

        ``frame`` follows the Series layout (date index; Close required, other columns optional).
        Rows without a positive Close are skipped.  Returns the number of bars written.
        ``full_history`` marks ``frame`` as the symbol's whole history (kept once set).
        """
        if "Close" not in frame.columns:
            raise SourceError(symbol, "cannot cache bars without a Close column")
        rows = _rows(symbol, frame)
        with nullcontext() if self._batched else self._conn:
            self._conn.executemany(_UPSERT_BARS, rows)
            last = self._conn.execute("SELECT MAX(date) FROM bars WHERE symbol = ?", (symbol,)).fetchone()[0]
            if last is not None:
                stamp = _iso_time(fetched_at)
                self._conn.execute(_UPSERT_SYMBOL, (symbol, provider, stamp, last, int(full_history)))
        return len(rows)


# -- merging new bars into the cached history -----------------------------------------------------


def merge_bars(
    cached: pd.DataFrame | None, fresh: pd.DataFrame, symbol: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the merged series, the rows to write to the cache) for ``fresh`` bars over ``cached`` ones.

    The bar both hold re-bases the cached bars onto the fresh basis (a split rescales prices and
    volume, a dividend moves every earlier Adj Close); then the whole merged series is written.
    A last bar with zero volume, for a symbol that normally trades, is left out as unfinished.
    """
    rebased = False
    combined = fresh
    if cached is not None and not cached.empty:
        cached, rebased = _rebase(cached, fresh, symbol)
        combined = pd.concat([cached, fresh])
        combined = combined[~combined.index.duplicated(keep="last")].sort_index()
        if "Adj Close" in combined.columns:
            combined["Adj Close"] = combined["Adj Close"].fillna(combined["Close"])
    combined = _drop_zero_volume_tail(combined, symbol)
    return combined, combined if rebased else fresh.loc[fresh.index.isin(combined.index)]


def _drop_zero_volume_tail(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """Leave out a last bar with zero volume when the symbol normally has volume: it is unfinished."""
    if len(frame) > 1 and frame["Volume"].iloc[-1] == 0 and frame["Volume"].iloc[-21:-1].median() > 0:
        log.info("%s: the bar of %s has zero volume; left out as unfinished", symbol, frame.index[-1].date())
        return frame.iloc[:-1]
    return frame


def _rebase(cached: pd.DataFrame, fresh: pd.DataFrame, symbol: str) -> tuple[pd.DataFrame, bool]:
    """Put the cached bars on the fresh download's basis, using the bar both hold."""
    anchor = cached.index[-1]
    if anchor not in fresh.index:
        return cached, False
    out, changed = cached.copy(), False
    ratio = cast(float, fresh.at[anchor, "Close"]) / cast(float, cached.at[anchor, "Close"])
    if abs(ratio - 1) > SPLIT_TOLERANCE:
        log.warning(
            "%s: the provider re-based prices to %s by %.4f (a split?); cache rescaled", symbol, anchor, ratio
        )
        prices = [c for c in ("Open", "High", "Low", "Close", "Adj Close") if c in out.columns]
        out[prices] = out[prices] * ratio
        out["Volume"] = out["Volume"] / ratio
        changed = True
    if "Adj Close" in out.columns and "Adj Close" in fresh.columns:
        adj = cast(float, fresh.at[anchor, "Adj Close"]) / cast(float, out.at[anchor, "Adj Close"])
        if math.isfinite(adj) and abs(adj - 1) > 1e-7:
            out["Adj Close"] = out["Adj Close"] * adj
            changed = True
    return out, changed


def _rows(symbol: str, frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """Rows for ``bars``: non-finite numbers become NULL; rows without a date or a Close > 0 are left out."""
    dates = pd.DatetimeIndex(frame.index)
    values = np.column_stack(
        [
            pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if name in frame.columns
            else np.full(len(frame), np.nan)
            for name, _ in _COLUMNS
        ]
    )
    finite = np.isfinite(values)
    close = np.where(finite[:, 3], values[:, 3], 0.0)
    keep = (close > 0) & ~np.asarray(dates.isna())
    cells = values[keep].astype(object)
    cells[~finite[keep]] = None
    days = dates[keep].strftime("%Y-%m-%d")
    return [(symbol, day, *row) for day, row in zip(days, cells.tolist(), strict=True)]


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """True when SQLite says the file is not a database or is damaged ("malformed")."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and (code & 0xFF) in _CORRUPT_CODES


def _iso_time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
