"""The members' fundamentals: a monthly refresh of Yahoo Finance's equity screener, kept in the cache.

How many of the index's members lose money, and what the members cost including those losses,
need each member's market value and trailing earnings.  Asking ``Ticker.info`` member by member
would take two requests for each of about 1,900 members; Yahoo's screener (``yf.screen`` with an
``EquityQuery``) answers 250 quotes a request.  It cannot be asked for named tickers, so the refresh
reads every US-listed equity on the main exchanges (Nasdaq, NYSE, NYSE American, Cboe BZX, NYSE
Arca; not OTC) page by page, sorted by ticker, and keeps each quote's market value, trailing
12-month EPS and price (quotes in US dollars only).

- **Monthly, in the cache.**  The quotes go to ``fundamentals/screen.json`` with the day of the
  refresh.  A build uses them until they are ``valuation.refresh_days`` old (31), then refreshes.
  The snapshot keeps only the sums over today's members (:class:`~generator.models.MemberFundamentals`,
  the manifest's ``fundamentals`` block) with the refresh's date, never the quotes.
- **Its own budget.**  The refresh runs within ``valuation.budget`` seconds (180): no page is asked
  once it is used up, and a request that hangs is not waited for past it.  Rate limits, server
  errors and error pages are retried with backoff (:class:`~generator.sources.yahoo_client.RetryPolicy`);
  an error that cannot heal in this run (no DNS, connection refused) is not, and nothing is asked
  when an earlier Yahoo provider found Yahoo unreachable or rate-limiting (``context.halted``).
- **Stopping early.**  A refresh that stops partway (a rate limit that does not clear, the budget)
  does not replace the last complete one in the cache; without one, its pages are used (the coverage
  says how many members they hold) and the next run refreshes again.
- **Members** come from the index provider (``context.membership``); ``--data cache`` reads the cached
  refresh only.  Every outcome is one health row, "member fundamentals", naming what happened.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from generator.analysis.fundamentals import MemberQuote, aggregate
from generator.errors import SourceError
from generator.fsutil import write_atomic
from generator.models import Origin, SourceHealth, SourceStatus
from generator.sources.providers import ProviderContext, ProviderResult
from generator.sources.yahoo_client import (
    Deadline,
    NoAnswer,
    RetryPolicy,
    classify,
    quiet_yfinance,
    run_with_deadline,
    yfinance,
)

log = logging.getLogger(__name__)

SOURCE = "Yahoo Finance screener (yfinance)"
ROW = "member fundamentals"
CACHE_NAME = "screen.json"
CACHE_FORMAT = 1
PAGE_SIZE = 250  # the most Yahoo's screener returns in one answer
MAX_PAGES = 60  # 15,000 quotes: well beyond the several thousand US-listed equities the query matches
MAX_TRIES = 4  # per page: pauses of about 1, 2 and 4 s between them
PAUSE_S = 0.5  # between pages
EXCHANGES = ("NMS", "NGM", "NCM", "NYQ", "ASE", "BTS", "PCX")  # Yahoo's codes; OTC (PNK) left out
TOLERATED_MISSING = 0.05  # members without data: up to this share is normal coverage, not a problem


@dataclass(frozen=True)
class Refresh:
    """One reading of the screener: each quote's market value, trailing EPS and price."""

    day: date  # the build day it was read on
    fetched_at: datetime
    complete: bool  # every page was read
    quotes: Mapping[str, MemberQuote] = field(default_factory=dict)
    pages: int = 0
    total: int | None = None  # the quotes Yahoo said the screen holds
    problem: str = ""  # why it stopped early ("" when complete)


# -- the screener ----------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, dict):  # {"raw": 1.2, "fmt": "1.20"} when Yahoo formats its answer
        value = value.get("raw")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def parse_quotes(rows: Any) -> dict[str, MemberQuote]:
    """The equities of one page, in US dollars, by symbol; a value missing or not a finite number is None."""
    out: dict[str, MemberQuote] = {}
    for q in rows if isinstance(rows, list) else ():
        if not isinstance(q, dict) or not isinstance(q.get("symbol"), str) or not q["symbol"]:
            continue
        if q.get("quoteType", "EQUITY") != "EQUITY" or q.get("currency", "USD") != "USD":
            continue
        out[q["symbol"].upper()] = MemberQuote(
            _number(q.get("marketCap")),
            _number(q.get("epsTrailingTwelveMonths")),
            _number(q.get("regularMarketPrice")),
        )
    return out


def _ask_page(offset: int, size: int, session: object | None) -> dict[str, Any]:
    yf = yfinance()
    quiet_yfinance()
    query = yf.EquityQuery(
        "and", [yf.EquityQuery("eq", ["region", "us"]), yf.EquityQuery("is-in", ["exchange", *EXCHANGES])]
    )
    # ``size`` is the page size of a custom query; ``count`` too, or yfinance sends its default of 25.
    page = yf.screen(
        query, offset=offset, size=size, count=size, sortField="ticker", sortAsc=True, session=session
    )
    if not isinstance(page, dict) or not isinstance(page.get("quotes", []), list):
        raise SourceError(SOURCE, "unexpected answer from the screener (no list of quotes)")
    return page


@dataclass
class _Reading:
    quotes: dict[str, MemberQuote] = field(default_factory=dict)
    pages: int = 0
    total: int | None = None
    complete: bool = False
    problem: str = ""


def screen_quotes(
    session: object | None,
    *,
    budget_s: float,
    day: date,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rand: Callable[[], float] | None = None,
    page_size: int = PAGE_SIZE,
    max_pages: int = MAX_PAGES,
    pause_s: float = PAUSE_S,
) -> Refresh:
    """Read the screener page by page within ``budget_s``; what arrived before a stop is kept."""
    reading, lock = _Reading(), threading.Lock()
    deadline, stop = Deadline(budget_s, clock), threading.Event()
    policy = RetryPolicy(MAX_TRIES, sleep, rand or secrets.SystemRandom().random)

    def halt(why: str) -> None:
        with lock:
            reading.problem = reading.problem or why

    def work() -> None:
        offset = 0
        for number in range(max_pages):
            if number and pause_s:
                sleep(min(pause_s, deadline.remaining()))
            if deadline.remaining() <= 0 or stop.is_set():
                return halt(f"the budget of {budget_s:g} s was used up")
            try:
                ask = policy.retrying(deadline, stop, "screener")
                page = ask(lambda at=offset: _ask_page(at, page_size, session))
            except SourceError as exc:
                return halt(exc.message)
            except Exception as exc:  # yfinance's and the HTTP session's errors: retried, then given up
                return halt(classify(exc).words)
            rows = page.get("quotes") or []
            total = page.get("total") if isinstance(page.get("total"), int) else None
            with lock:
                reading.quotes.update(parse_quotes(rows))
                reading.pages += 1
                reading.total = total if total is not None else reading.total
            if not rows:  # the end, unless Yahoo said there were more
                if offset == 0:
                    return halt("the screener sent no quotes")
                if total is not None and offset < total:
                    return halt(f"the screener sent no quotes past {offset:,} of {total:,}")
                break
            offset += len(rows)
            last_page = offset >= total if total is not None else len(rows) < page_size
            if last_page:
                break
        else:
            return halt(f"stopped after {max_pages} pages")
        with lock:
            reading.complete = True
        return None

    try:
        run_with_deadline(work, budget_s, "fundamentals")
    except NoAnswer:
        stop.set()
        halt(f"no answer within the budget of {budget_s:g} s")
    except Exception as exc:  # never out of the provider: said in its health row
        halt(f"{type(exc).__name__}: {exc}")
    with lock:
        done = reading.complete and not reading.problem
        quotes, pages, total, problem = dict(reading.quotes), reading.pages, reading.total, reading.problem
    if problem:
        log.warning("member fundamentals: the screener stopped after %d pages: %s", pages, problem)
    return Refresh(day, now, done, quotes, pages, total, "" if done else problem)


# -- the cache --------------------------------------------------------------------------------------------


class ScreenCache:
    """The last refresh, in ``screen.json``: each quote as ``[market cap, EPS, price]`` (null: missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> Refresh | None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("format") != CACHE_FORMAT:
                raise ValueError(f"format {doc.get('format')!r}")
            quotes = {
                str(symbol): MemberQuote(*(_number(v) for v in values))
                for symbol, values in doc["quotes"].items()
                if isinstance(values, list) and len(values) == 3
            }
            fetched = datetime.fromisoformat(str(doc["fetched_at"]))
            return Refresh(
                date.fromisoformat(str(doc["day"])), fetched, bool(doc["complete"]), quotes,
                int(doc.get("pages") or 0), doc.get("total") if isinstance(doc.get("total"), int) else None,
                str(doc.get("problem") or ""),
            )  # fmt: skip
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s: the screener cache is unreadable (%s); refreshing", self.path, exc)
            return None

    def store(self, refresh: Refresh) -> None:
        """Write it atomically; a failed write only costs a refresh next time."""
        stamp = refresh.fetched_at if refresh.fetched_at.tzinfo else refresh.fetched_at.replace(tzinfo=UTC)
        doc = {
            "format": CACHE_FORMAT, "source": SOURCE, "day": refresh.day.isoformat(),
            "fetched_at": stamp.astimezone(UTC).isoformat(), "complete": refresh.complete,
            "pages": refresh.pages, "total": refresh.total, "problem": refresh.problem,
            "quotes": {s: [q.market_cap, q.eps, q.price] for s, q in sorted(refresh.quotes.items())},
        }  # fmt: skip
        try:
            write_atomic(self.path, json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n")
        except OSError as exc:
            log.warning("%s: cannot write the screener cache (%s)", self.path, exc)


# -- the provider -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    refresh: Refresh | None
    status: SourceStatus
    origin: Origin
    error: str = ""


class FundamentalsProvider:
    """The members' fundamentals into ``Snapshot.fundamentals``.  ``sleep``, ``clock`` and ``rand`` pace
    the pauses and retries (tests pass their own); the network is ``context.transport.session``."""

    name = "member-fundamentals"
    # The membership; after the other Yahoo readers, not beside them (one stream of Yahoo requests).
    needs: tuple[str, ...] = ("yahoo-prices", "index", "earnings")
    cache_folder = "fundamentals"

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] | None = None,
    ) -> None:
        self.sleep, self.clock = sleep, clock
        self.rand = rand or secrets.SystemRandom().random

    def fetch(self, context: ProviderContext) -> ProviderResult:
        membership = context.membership
        if membership is None:
            origin = Origin.CACHE if context.offline else Origin.NONE
            return ProviderResult(
                health=(_row(SourceStatus.FAILED, origin, error="no index membership in this run"),)
            )
        outcome = self._outcome(context, ScreenCache(context.cache_dir / CACHE_NAME))
        if outcome.refresh is None:
            return ProviderResult(health=(_row(outcome.status, outcome.origin, error=outcome.error),))
        refresh = outcome.refresh
        block = aggregate(
            membership.symbols, refresh.quotes, as_of=refresh.day, membership_as_of=membership.as_of,
            source=SOURCE, complete=refresh.complete,
        )  # fmt: skip
        coverage = f"{block.covered:,} of {block.members:,} members"
        log.info("member fundamentals: from %s, refresh of %s", coverage, refresh.day.isoformat())
        notes = [outcome.error] if outcome.error else []
        if block.members - block.covered > TOLERATED_MISSING * block.members:
            notes.append(f"fundamentals from {coverage}")
        row = _row(outcome.status, outcome.origin, block.covered, refresh.day, "; ".join(notes))
        return ProviderResult(SOURCE, health=(row,), fundamentals=block)

    def _outcome(self, context: ProviderContext, cache: ScreenCache) -> _Outcome:
        cached = cache.load()
        if context.offline:
            return (
                _Outcome(None, SourceStatus.FAILED, Origin.CACHE, "not cached")
                if cached is None
                else _Outcome(cached, SourceStatus.CACHED, Origin.CACHE)
            )
        settings = context.config.valuation
        if (
            cached is not None
            and cached.complete
            and 0 <= (context.today - cached.day).days < settings.refresh_days
        ):
            return _Outcome(cached, SourceStatus.CACHED, Origin.CACHE)  # this month's refresh: nothing asked
        if context.halted:
            return _fallback(cached, f"not refreshed: {context.halted}")
        fresh = screen_quotes(
            context.transport.session, budget_s=settings.budget, day=context.today, now=context.now,
            sleep=self.sleep, clock=self.clock, rand=self.rand,
        )  # fmt: skip
        if fresh.complete:
            cache.store(fresh)
            return _Outcome(fresh, SourceStatus.OK, Origin.LIVE)
        why = (
            f"the refresh stopped after {fresh.pages} page{'s' if fresh.pages != 1 else ''}: {fresh.problem}"
        )
        if cached is not None and cached.complete:  # the last complete refresh stays, with its date
            return _Outcome(
                cached,
                SourceStatus.CACHED,
                Origin.CACHE,
                f"{why}; last complete refresh as of {cached.day.isoformat()}",
            )
        if fresh.quotes:  # partial, kept so a later run in the month can still use it; it refreshes again
            cache.store(fresh)
            return _Outcome(fresh, SourceStatus.OK, Origin.LIVE, f"{why}; partial")
        return _fallback(cached, why)


def _fallback(cached: Refresh | None, why: str) -> _Outcome:
    if cached is None:
        return _Outcome(None, SourceStatus.FAILED, Origin.NONE, f"{why}; nothing cached")
    return _Outcome(
        cached, SourceStatus.CACHED, Origin.CACHE, f"{why}; last refresh as of {cached.day.isoformat()}"
    )


def _row(
    status: SourceStatus, origin: Origin, count: int = 0, newest: date | None = None, error: str = ""
) -> SourceHealth:
    return SourceHealth("provider", ROW, status, origin, count, newest, error, SOURCE)
