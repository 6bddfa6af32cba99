"""Next week's earnings of the index members, from Yahoo Finance's earnings calendar (yfinance).

:class:`EarningsProvider` reads the calendar for the week after the reporting week through
``yfinance.Calendars.get_earnings_calendar`` and keeps the members of the index membership the
index provider had (:attr:`ProviderContext.membership`), with their weight in the fund:

- ``filter_most_active=False``: by default yfinance keeps only the ~200 "most active" stocks,
  which leaves out nearly every small cap.
- Yahoo answers at most 100 rows a page, largest market cap first; the pages are read until a
  short one.  The query asks a day either side of the week (Yahoo compares date-times), and each
  row is dated in New York time and kept only when that day is inside the week.
- A row without a readable symbol or date is skipped and counted; a row Yahoo does not time
  (``TNS``, ``TAS``, nothing) keeps its day without a time; ``BMO`` is before the open and
  ``AMC`` after the close.  Nothing is estimated: a member without a dated row is not listed.
- Rate limits (``YFRateLimitError``) and transient errors are retried with backoff
  (:class:`~generator.sources.yahoo_client.RetryPolicy`), all within ``calendar.earnings.deadline``;
  a request that hangs is not waited for past it.  When the reading stops partway, what was
  read is used and said to be partial, unless a complete read of the same week is cached.

Cache: ``earnings/earnings.json`` holds the last complete read, for its week only.  A failed or
partial read falls back on it, ``--data cache`` reads nothing else, and a read of another week is
never used.  The snapshot keeps the result (:class:`~generator.models.EarningsWeek`): the
largest reporting members, each with its day, timing, weight and its Yahoo Finance page.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pandas as pd

from generator.fsutil import write_atomic
from generator.models import EarningsReport, EarningsWeek, Origin, SourceHealth, SourceStatus
from generator.sources.ishares import Membership
from generator.sources.official_calendar import next_week
from generator.sources.providers import ProviderContext, ProviderResult
from generator.sources.yahoo_client import (
    HALT,
    RATE_LIMITED,
    Deadline,
    NoAnswer,
    RetryPolicy,
    classify,
    quiet_yfinance,
    run_with_deadline,
    yfinance,
)
from generator.text import company_name, plain_text

log = logging.getLogger(__name__)

NAME = "Yahoo Finance earnings calendar"  # its health row and, when it fails, its calendar failure
SOURCE = "Yahoo Finance"  # how each listed report names its source
PROVIDER = "Yahoo Finance (yfinance)"
PAGE_URL = "https://finance.yahoo.com/calendar/earnings"
CACHE_FILE = "earnings.json"
CALENDAR_TYPE = "sp_earnings"  # yfinance's name for the earnings calendar
PAGE = 100  # rows a page: Yahoo's cap
MAX_ROWS = 6_000  # rows read at most (a peak week has a few thousand)
PAUSE = 0.3  # seconds between pages
MAX_TRIES = 3
TIMINGS = ("BMO", "AMC")  # before the open, after the close
EASTERN = ZoneInfo("America/New_York")
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.\-]{0,11}")


@dataclass(frozen=True, order=True)
class EarningsRow:
    """One company's report in the calendar (its first in the week)."""

    day: date
    symbol: str
    name: str
    timing: str = ""  # one of TIMINGS, or ""


@dataclass(frozen=True)
class CalendarRead:
    """What was read of the calendar for ``start``..``end``."""

    start: date
    end: date
    rows: tuple[EarningsRow, ...]  # one per symbol, sorted
    read_at: datetime
    pages: int = 0  # pages answered
    problem: str = ""  # why the reading stopped partway ("" when it reached the last page)

    @property
    def complete(self) -> bool:
        return not self.problem


class UnreadablePage(Exception):
    """Yahoo answered a page yfinance could not turn into rows."""


def earnings_url(symbol: str) -> str:
    """The symbol's page on Yahoo Finance's earnings calendar."""
    return f"{PAGE_URL}?symbol={quote(symbol, safe='')}"


# -- rows --------------------------------------------------------------------------------------------


def page_rows(frame: pd.DataFrame, start: date, end: date) -> tuple[list[EarningsRow], int]:
    """The rows of one page dated ``start``..``end`` (New York time), and how many were unreadable.

    Takes yfinance's tidied frame (index Symbol) or, when yfinance could not tidy the page, the
    frame as it was built from Yahoo's columns.
    """
    table = frame.reset_index() if frame.index.name == "Symbol" else frame
    rows, bad = [], 0
    for record in table.to_dict("records"):
        row = _row(record)
        if row is None:
            bad += 1
        elif start <= row.day <= end:
            rows.append(row)
    return rows, bad


def _row(record: Mapping[Any, Any]) -> EarningsRow | None:
    symbol = record.get("Symbol")
    if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol.strip().upper()):
        return None
    day = _new_york_day(record.get("Event Start Date"))
    if day is None:
        return None
    name = record.get("Company", record.get("Company Name"))
    timing = str(record.get("Timing") or "").strip().upper()
    clean = plain_text(name, 80) if isinstance(name, str) else ""
    return EarningsRow(day, symbol.strip().upper(), clean, timing if timing in TIMINGS else "")


def _new_york_day(value: object) -> date | None:
    if isinstance(value, bool) or not isinstance(value, str | datetime | pd.Timestamp):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    day: date = (stamp.tz_convert(EASTERN) if stamp.tzinfo is not None else stamp).date()
    return day


def first_per_symbol(rows: Iterable[EarningsRow]) -> tuple[EarningsRow, ...]:
    """One row per symbol: its earliest day; on one day, a timed row before an untimed one."""
    best: dict[str, EarningsRow] = {}
    for row in rows:
        known = best.get(row.symbol)
        if known is None or (row.day, not row.timing) < (known.day, not known.timing):
            best[row.symbol] = row
    return tuple(sorted(best.values()))


# -- reading Yahoo -------------------------------------------------------------------------------------


def _page(calendars: Any, start: date, end: date, offset: int) -> pd.DataFrame:
    calendars.calendars.clear()
    try:
        frame = calendars.get_earnings_calendar(
            filter_most_active=False, start=start.isoformat(), end=end.isoformat(),
            limit=PAGE, offset=offset, force=True,
        )  # fmt: skip
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raw = calendars.calendars.get(CALENDAR_TYPE)  # the page as built, before yfinance tidied it
        if not isinstance(raw, pd.DataFrame):
            raise UnreadablePage(f"{type(exc).__name__}: {exc}") from None
        return raw
    if not isinstance(frame, pd.DataFrame):
        raise UnreadablePage(f"not a table ({type(frame).__name__})")
    return frame


def read_calendar(
    session: object | None,
    start: date,
    end: date,
    *,
    deadline: Deadline,
    policy: RetryPolicy,
    now: datetime,
    pause: float = PAUSE,
) -> tuple[CalendarRead, str]:
    """Every page of the calendar for ``start``..``end``, and why Yahoo must not be asked again ("")."""
    yf = yfinance()
    quiet_yfinance()
    ask_from, ask_to = start - timedelta(days=1), end + timedelta(days=1)
    calendars = yf.Calendars(start=ask_from.isoformat(), end=ask_to.isoformat(), session=session)
    stop = threading.Event()
    found: list[EarningsRow] = []
    pages = bad = 0
    problem = halted = ""

    def attempt(offset: int) -> pd.DataFrame:
        quiet_yfinance()
        return run_with_deadline(
            partial(_page, calendars, ask_from, ask_to, offset), deadline.remaining(), "earnings"
        )

    for offset in range(0, MAX_ROWS, PAGE):
        if offset:
            policy.sleep(pause)
        try:
            frame = policy.retrying(deadline, stop, NAME)(attempt, offset)
        except NoAnswer:
            problem = f"no answer within the deadline of {deadline.seconds:g} s"
        except UnreadablePage as exc:
            problem = f"unreadable answer from Yahoo Finance ({exc})"
        except Exception as exc:  # yfinance's and the HTTP session's errors, classified
            failure = classify(exc)
            problem = _yahoo_error(exc) or failure.words
            if failure.action == HALT or failure.words == RATE_LIMITED:
                halted = failure.words
        if problem:
            break
        pages += 1
        rows, unreadable = page_rows(frame, start, end)
        found += rows
        bad += unreadable
        if len(frame) < PAGE:
            break
    else:
        problem = "stopped at the reading limit"
    if bad:
        log.warning("%s: skipped %d rows without a readable symbol or date", NAME, bad)
    if problem and pages:
        problem = f"{problem} after {pages * PAGE:,} entries"
    return CalendarRead(start, end, first_per_symbol(found), now, pages, problem), halted


def _yahoo_error(exc: Exception) -> str:
    """Yahoo's own error block in words ("Yahoo Finance: Bad Request: ..."); "" when it is not one."""
    block = exc.args[0] if exc.args else None
    if not isinstance(block, Mapping) or not block.get("description"):
        return ""
    return plain_text(f"Yahoo Finance: {block.get('code') or 'error'}: {block['description']}", 200)


# -- the cache -----------------------------------------------------------------------------------------


def write_cache(path: Path, read: CalendarRead) -> None:
    """Keep a complete read (a failed write only costs a fallback)."""
    doc = {
        "format": 1, "start": read.start.isoformat(), "end": read.end.isoformat(),
        "read_at": read.read_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "rows": [{"day": r.day.isoformat(), "symbol": r.symbol, "name": r.name, "timing": r.timing}
                 for r in read.rows],
    }  # fmt: skip
    try:
        write_atomic(path, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        log.warning("%s: cannot write the earnings cache (%s)", path, exc)


def read_cache(path: Path, start: date, end: date) -> CalendarRead | None:
    """The cached read of exactly ``start``..``end`` (None: none, another week's, or unreadable)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        week = (doc.get("start"), doc.get("end"))
        if doc.get("format") != 1 or week != (start.isoformat(), end.isoformat()):
            return None
        read_at = datetime.fromisoformat(str(doc["read_at"]))
        rows = [_cached_row(r) for r in doc["rows"]]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s: earnings cache unreadable (%s)", path, exc)
        return None
    kept = (r for r in rows if r is not None and start <= r.day <= end)
    return CalendarRead(start, end, first_per_symbol(kept), read_at, pages=1)


def _cached_row(entry: Mapping[str, Any]) -> EarningsRow | None:
    return _row({"Symbol": entry.get("symbol"), "Event Start Date": entry.get("day"),
                 "Company": entry.get("name"), "Timing": entry.get("timing")})  # fmt: skip


# -- the members -----------------------------------------------------------------------------------------


def select(
    read: CalendarRead,
    membership: Membership,
    top: int,
    *,
    origin: Origin,
    note: str = "",
    source: str = SOURCE,
) -> EarningsWeek:
    """The members reporting in ``read``: how many, and the ``top`` largest by weight (listed by day)."""
    members = {m.yahoo_symbol.upper(): m for m in membership.members}
    reporting = [(row, members[row.symbol]) for row in read.rows if row.symbol in members]
    largest = sorted(reporting, key=lambda pair: (-pair[1].weight, pair[0].symbol))[: max(0, top)]
    reports = [
        EarningsReport(row.day, row.symbol, row.name or company_name(member.name), member.weight, row.timing,
                       earnings_url(row.symbol))
        for row, member in largest
    ]  # fmt: skip
    return EarningsWeek(
        start=read.start, end=read.end, reporting=len(reporting), members=len(members),
        largest=tuple(sorted(reports, key=lambda r: (r.day, -r.weight, r.symbol))),
        membership_as_of=membership.as_of, weights_from=membership.source, source=source,
        read_at=read.read_at, origin=origin, complete=read.complete, note=note,
    )  # fmt: skip


# -- the provider ---------------------------------------------------------------------------------------


class EarningsProvider:
    """The largest index members reporting next week, into ``Snapshot.earnings``.

    ``sleep`` makes the pauses between pages and the retry backoff; ``clock`` measures the deadline.
    """

    name = "earnings"
    needs: tuple[str, ...] = ("yahoo-prices", "index")  # the membership, and not asked when Yahoo stopped
    cache_folder = "earnings"

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_tries: int = MAX_TRIES,
        pause: float = PAUSE,
    ) -> None:
        self.sleep, self.clock, self.max_tries, self.pause = sleep, clock, max_tries, pause

    def fetch(self, context: ProviderContext) -> ProviderResult:
        start, end = next_week(context.week_start, context.week_end)
        membership = context.membership
        if membership is None:
            return _failed(context, "not asked: no index membership to pick the members from")
        top = context.config.calendar.earnings.top
        cached = read_cache(context.cache_dir / CACHE_FILE, start, end)
        if context.offline:
            if cached is None:
                return _failed(context, f"not cached for the week of {start.isoformat()}")
            return _result(select(cached, membership, top, origin=Origin.CACHE), "")
        if context.halted:
            return _fallback(context, membership, cached, None, f"not asked: {context.halted}")
        policy = RetryPolicy(max(1, self.max_tries), self.sleep, secrets.SystemRandom().random)
        deadline = Deadline(context.config.calendar.earnings.deadline, self.clock)
        read, halted = read_calendar(
            context.transport.session, start, end, deadline=deadline, policy=policy, now=context.now,
            pause=self.pause,
        )  # fmt: skip
        if read.complete:
            write_cache(context.cache_dir / CACHE_FILE, read)
            return _result(select(read, membership, top, origin=Origin.LIVE), "")
        log.warning("%s: %s", NAME, read.problem)
        return replace(_fallback(context, membership, cached, read, read.problem), halted=halted)


def _fallback(
    context: ProviderContext,
    membership: Membership,
    cached: CalendarRead | None,
    partway: CalendarRead | None,
    problem: str,
) -> ProviderResult:
    """The cached complete read of the same week; else what was read, said to be partial; else a failure."""
    top = context.config.calendar.earnings.top
    if cached is not None:
        stamp = f"{cached.read_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        week = select(cached, membership, top, origin=Origin.CACHE, note=problem)
        return _result(week, f"{problem}; the calendar as read at {stamp}")
    if partway is not None and partway.pages:
        week = select(partway, membership, top, origin=Origin.LIVE, note=problem)
        return _result(week, f"read partway: {problem}")
    return _failed(context, problem)


def _result(week: EarningsWeek, error: str) -> ProviderResult:
    cached = week.origin == Origin.CACHE
    status, origin = (SourceStatus.CACHED, Origin.CACHE) if cached else (SourceStatus.OK, Origin.LIVE)
    row = SourceHealth("provider", NAME, status, origin, week.reporting, None, error, PROVIDER)
    return ProviderResult(NAME, health=(row,), earnings=week)


def _failed(context: ProviderContext, why: str) -> ProviderResult:
    log.warning("%s: not available: %s", NAME, why)
    origin = Origin.CACHE if context.offline else Origin.NONE
    row = SourceHealth("provider", NAME, SourceStatus.FAILED, origin, error=why, provider=PROVIDER)
    return ProviderResult(health=(row,), calendar_failures=((NAME, why),))
