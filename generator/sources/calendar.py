"""The NYSE trading calendar: which days have a session, and which session's daily bar is final.

The sessions come from ``exchange_calendars``' XNYS calendar, which knows the regular holidays
and the ad-hoc closures (the national days of mourning on 2025-01-09 and 2004-06-11, the week
after 2001-09-11, Hurricane Sandy).  An early close (the day after Thanksgiving, Christmas Eve)
is a full session here, since it still has a daily bar.  Days before :data:`EARLIEST` (XNYS has
regular holiday rules from 1970 on) count by weekday only.  Nothing here reads the clock: ``now`` comes in.

``exchange_calendars`` is imported on first use, not with this module (its import and the
holiday rules cost a few tenths of a second), and the calendar is built once per process, from
:data:`EARLIEST` to the year after the latest day asked; a later year widens it.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

EXCHANGE_TZ = ZoneInfo("America/New_York")
CLOSE = time(16, 0)
SETTLE_MARGIN = timedelta(hours=1)  # a daily bar is taken as final one hour after the close
EARLIEST = date(1970, 1, 1)  # XNYS knows regular holidays from 1970; earlier days count by weekday only


@dataclass(frozen=True)
class _Sessions:
    first: date  # the calendar covers first .. last
    last: date
    days: np.ndarray  # datetime64[D], sorted: every session in first .. last
    lookup: frozenset[date]


_lock = threading.Lock()
_built: list[_Sessions] = []  # at most one: the widest calendar built so far


TABLE_PATH = Path(__file__).resolve().parent / "data" / "nyse_closed.txt"


@lru_cache(maxsize=1)
def _table() -> _Sessions | None:
    """The sessions from the shipped table of closed weekdays (scripts/make_nyse_calendar.py), if any."""
    table = _table_days()
    if table is None:
        return None
    first, last, market = table
    closed = np.array([d.day for d in market if d.closed], dtype="datetime64[D]")
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    weekday = ((days.astype("int64") + 3) % 7) < 5  # 1970-01-01 was a Thursday
    sessions = days[weekday & ~np.isin(days, closed)]
    return _Sessions(first, last, sessions, frozenset(d.item() for d in sessions))


@dataclass(frozen=True)
class MarketDay:
    """A weekday without a regular NYSE session: closed, or closing early."""

    day: date
    closed: bool  # no session at all; else an early close at ``close_et``
    reason: str = ""  # the holiday as exchange_calendars names it ("Thanksgiving"); "" for an ad-hoc closure
    close_et: str = ""  # an early close's time in New York, "13:00"


def market_days(first: date, last: date) -> tuple[MarketDay, ...]:
    """The closures and early closes from ``first`` to ``last``, by day: from the shipped table inside
    its range, else straight from exchange_calendars."""
    table = _table_days()
    if table is not None and table[0] <= first and last <= table[1]:
        return tuple(d for d in table[2] if first <= d.day <= last)
    return tuple(market_days_from_exchange_calendars(first, last))


@lru_cache(maxsize=1)
def _table_days() -> tuple[date, date, tuple[MarketDay, ...]] | None:
    """The shipped table's range and its days: "2026-11-26 Thanksgiving" and "early 2026-11-27 13:00"."""
    try:
        lines = TABLE_PATH.read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    ranges = [line.split()[2:4] for line in lines if line.startswith("# range ")]
    if not ranges:
        return None
    days = []
    for line in lines:
        if line[:1].isdigit():
            day, _, reason = line.partition(" ")
            days.append(MarketDay(date.fromisoformat(day), True, reason.strip()))
        elif line.startswith("early "):
            _, day, close = line.split()
            days.append(MarketDay(date.fromisoformat(day), False, close_et=close))
    first, last = (date.fromisoformat(x) for x in ranges[0])
    return first, last, tuple(sorted(days, key=lambda d: d.day))


def market_days_from_exchange_calendars(first: date, last: date) -> list[MarketDay]:
    """The weekdays from ``first`` to ``last`` that XNYS closes or closes early, with the regular
    holidays' names and the early closes' times, straight from exchange_calendars."""
    calendar = _xnys(first, last)
    sessions = {d.date() for d in calendar.sessions}
    names = calendar.regular_holidays.holidays(first.isoformat(), last.isoformat(), return_name=True)
    named = {stamp.date(): str(name) for stamp, name in names.items()}
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    closed = [MarketDay(d, True, named.get(d, "")) for d in days if d.weekday() < 5 and d not in sessions]
    early = [
        MarketDay(d.date(), False, close_et=f"{calendar.session_close(d).tz_convert(EXCHANGE_TZ):%H:%M}")
        for d in calendar.early_closes
        if first <= d.date() <= last
    ]
    return sorted([*closed, *early], key=lambda d: d.day)


def _xnys(first: date, last: date) -> Any:
    """exchange_calendars' XNYS calendar from ``first`` to ``last``.

    Imported here, not with this module: it is slow to import and many commands never need it.
    The pandas deprecations it raises inside (pandas' own code paths, not ours) are silenced.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import exchange_calendars

        return exchange_calendars.get_calendar("XNYS", start=first.isoformat(), end=last.isoformat())


def _xnys_sessions(first: date, last: date) -> pd.DatetimeIndex:
    """exchange_calendars' XNYS sessions from ``first`` to ``last``."""
    sessions: pd.DatetimeIndex = _xnys(first, last).sessions
    return sessions


def _sessions(first: date, last: date) -> _Sessions:
    """The XNYS sessions covering ``first`` .. ``last`` (clamped to :data:`EARLIEST`).

    Within the shipped table's range the table answers (fast); outside it, exchange_calendars.
    """
    first = max(first, EARLIEST)
    table = _table()
    if table is not None and table.first <= first and last <= table.last:
        return table
    with _lock:
        if _built and _built[0].first <= first and last <= _built[0].last:
            return _built[0]
        start = EARLIEST  # the whole known past at once: a shorter span costs about as much
        end = max([date(last.year + 1, 12, 31), *(b.last for b in _built)])
        days = _xnys_sessions(start, end).to_numpy().astype("datetime64[D]")
        built = _Sessions(start, end, days, frozenset(d.item() for d in days))
        _built[:] = [built]
        return built


def holidays(year: int) -> frozenset[date]:
    """The weekdays of ``year`` without an NYSE session: holidays and ad-hoc closures."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    if last < EARLIEST:
        return frozenset()
    known = _sessions(first, last).lookup
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(d for d in days if d.weekday() < 5 and d >= EARLIEST and d not in known)


def is_trading_day(day: date) -> bool:
    if day < EARLIEST:
        return day.weekday() < 5
    return day in _sessions(day, day).lookup


def previous_trading_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def trading_days(first: date, last: date) -> list[date]:
    """Every trading day from ``first`` to ``last``, both included."""
    return list(_trading_days(first, last))


@lru_cache(maxsize=512)
def _trading_days(first: date, last: date) -> tuple[date, ...]:
    # An analysis asks the same few spans for every series of the week (its gap check).
    if last < first:
        return ()
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    return tuple(d.item() for d in days[~non_session_days(days)])


def non_session_days(days: np.ndarray) -> np.ndarray:
    """A mask over ``days`` (datetime64 values): True where the NYSE had no session that day.

    Days before :data:`EARLIEST` are judged by weekday only; NaT is never flagged.
    """
    stamps = np.asarray(days).astype("datetime64[D]")
    valid = ~np.isnat(stamps)
    if not valid.any():
        return np.zeros(len(stamps), bool)
    first, last = stamps[valid].min().item(), stamps[valid].max().item()
    weekend = valid & (((stamps.astype("int64") + 3) % 7) >= 5)  # 1970-01-01 was a Thursday
    if last < EARLIEST:
        return np.asarray(weekend, dtype=bool)
    sessions = _sessions(first, last).days
    checked = valid & (stamps >= np.datetime64(EARLIEST, "D"))
    at = np.minimum(np.searchsorted(sessions, stamps), len(sessions) - 1)
    closed = checked & (sessions[at] != stamps)
    return np.asarray(np.where(checked, closed, weekend), dtype=bool)


def last_complete_session(now: datetime) -> date:
    """The latest trading day whose daily bar is final at ``now`` (a naive ``now`` is UTC)."""
    local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(EXCHANGE_TZ)
    settled = datetime.combine(local.date(), CLOSE, EXCHANGE_TZ) + SETTLE_MARGIN
    if is_trading_day(local.date()) and local >= settled:
        return local.date()
    return previous_trading_day(local.date())
