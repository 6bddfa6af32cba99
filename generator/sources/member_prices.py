"""Member prices at scale: the daily closes of the index's members, through yfinance, into the price cache.

The member panel (about 1,900 symbols × a year and a bit of sessions) is bulk data: it lives in a
SQLite price cache of its own (:data:`CACHE_NAME` in the cache folder), never in the snapshot.
One :func:`fetch_member_panel` call:

1. Takes the last complete session: ``last_complete_session(now)``, not after ``today``; without
   ``now``, the session before ``today``.  It plans one request per member whose cache does not
   hold that session: from its last cached bar on (that overlapping bar re-bases the cached bars
   when Yahoo's adjustment changed, :func:`generator.sources.price_cache.merge_bars`), or
   ``history_days`` calendar days back for a member never cached.  A member already current is
   not asked, so a refresh with everything cached makes no request at all.
2. Asks in chunks of ``chunk`` members, ``workers`` requests at a time, through
   ``yf.Ticker(symbol).history`` with yfinance's exceptions switched on, and pauses ``pause_s``
   between chunks.  Rate limits (``YFRateLimitError``) and transient errors are retried with
   tenacity's exponential backoff (:class:`generator.sources.yahoo_client.RetryPolicy`).  A member
   still rate-limited after its tries stops the stage (asking on only prolongs the block); an
   error that cannot heal in this run (no DNS, connection refused, no route) stops it at once.
   A member Yahoo does not know, or answers without bars, fails alone.
3. Runs within its own budget (``budget_s`` seconds on ``clock``): no chunk starts and no request
   is made once it is used up, and a request that hangs is not waited for past it.
4. Stores each chunk's new complete bars (none after the last complete session) in the cache,
   then calls ``progress(done, total)``.  At the end the panel is read back from the cache:
   closes (adjusted where Yahoo gives them) of every member, sessions × symbols.

Partial coverage is normal and stated (:attr:`MemberPanel.coverage`).  A member not current after
the run is listed in ``failed`` with its reason; the real bars it has in the cache stay in the
panel up to where they end, and nothing is filled in.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast

import pandas as pd

from generator.errors import BriefError
from generator.sources.calendar import last_complete_session, previous_trading_day
from generator.sources.price_cache import PriceCache, merge_bars
from generator.sources.prices_csv import clean_frame
from generator.sources.yahoo import PROVIDER, EmptyAnswer
from generator.sources.yahoo_client import (
    HALT,
    RATE_LIMITED,
    THREAD_PREFIX,
    Deadline,
    RetryPolicy,
    classify,
    quiet_yfinance,
    yfinance,
)

log = logging.getLogger(__name__)

CACHE_NAME = "members.sqlite"  # beside the main price cache, in the same cache folder
REQUEST_TIMEOUT = 20.0  # seconds per request inside yfinance (the stage budget bounds the whole)
MAX_TRIES = 5  # per member: pauses of about 1, 2, 4 and 8 s between them
WORKERS = 4  # requests in flight at once within a chunk
SHOWN_FAILURES = 5  # members named in the warning about those not fetched


def member_cache_path(cache_dir: Path) -> Path:
    return cache_dir / CACHE_NAME


@dataclass(frozen=True)
class MemberPanel:
    """The members' daily closes and how they were had."""

    closes: pd.DataFrame  # sessions × symbols (every member a column, in the order asked); NaN: no bar
    fetched: tuple[str, ...]  # brought up to the last complete session by this run's requests
    from_cache: tuple[str, ...]  # already current in the cache: not asked
    failed: tuple[str, ...]  # not current after this run (see ``reasons``); their cached bars stay
    requests: int  # bars requests made to Yahoo Finance, retries included
    stopped_early: str  # why not every planned request was made ("" when all were)
    last_session: date | None = None  # the last complete session: a current member has its bar
    reasons: Mapping[str, str] = field(default_factory=dict)  # failed member -> why, in plain words

    @property
    def coverage(self) -> str:
        """For the brief: "1,874 of 1,912 members (38 not fetched)"."""
        total = len(self.fetched) + len(self.from_cache) + len(self.failed)
        missing = f" ({len(self.failed):,} not fetched)" if self.failed else ""
        return f"{total - len(self.failed):,} of {total:,} members{missing}"


# -- asking ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ask:
    symbol: str
    start: date


@dataclass(frozen=True)
class _Outcome:
    frame: pd.DataFrame | None = None  # cleaned bars; None when the member failed
    error: str = ""  # plain words, without the symbol


def _history(ask: _Ask, session: object | None) -> pd.DataFrame:
    """One member's daily bars from ``ask.start`` on, as yfinance parses them; raises its typed errors."""
    ticker = yfinance().Ticker(ask.symbol, session=session)
    quiet_yfinance()
    return cast(
        pd.DataFrame,
        ticker.history(
            start=ask.start.isoformat(),
            interval="1d",
            auto_adjust=False,
            actions=False,
            timeout=REQUEST_TIMEOUT,
        ),
    )


def _bars(data: pd.DataFrame, symbol: str) -> pd.DataFrame:
    frame = data.dropna(how="all")
    if frame.empty or "Close" not in frame.columns or frame["Close"].isna().all():
        raise EmptyAnswer(symbol)
    return clean_frame(frame, symbol)


@dataclass
class _Stage:
    """The requests of one run: shared by the chunks, their workers and the retries."""

    session: object | None
    budget: Deadline
    policy: RetryPolicy
    workers: int
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    stopped: str = ""

    @property
    def used_up(self) -> str:
        return f"the stage budget of {self.budget.seconds:g} s is used up"

    def halt(self, why: str) -> None:
        """Ask nothing more in this run (the first reason given is kept)."""
        with self.lock:
            self.stopped = self.stopped or why
        self.stop.set()

    def ask(self, asks: Sequence[_Ask]) -> dict[str, _Outcome]:
        """One chunk, ``workers`` requests at a time; what got no answer fails with the reason."""
        todo: Iterator[_Ask] = iter(asks)
        started: set[str] = set()
        done: dict[str, _Outcome] = {}

        def work() -> None:
            while not self.stop.is_set():
                if self.budget.remaining() <= 0:
                    self.halt(self.used_up)
                    return
                with self.lock:
                    ask = next(todo, None)
                    if ask is None:
                        return
                    started.add(ask.symbol)
                outcome = self.one(ask)
                with self.lock:
                    done[ask.symbol] = outcome

        threads = [
            threading.Thread(target=work, name=f"{THREAD_PREFIX}-members-{n}", daemon=True)
            for n in range(max(1, min(self.workers, len(asks))))
        ]
        yfinance()  # imported here, not in a worker: its import puts its own warning filter first
        quiet_yfinance()
        until = time.monotonic() + self.budget.remaining()  # real time: a hung request is not waited for
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, until - time.monotonic()))
        if any(thread.is_alive() for thread in threads):
            self.halt(self.used_up)
        with self.lock:
            answered, asked = dict(done), set(started)
        late = _Outcome(error=f"no answer within the stage budget of {self.budget.seconds:g} s")
        return {
            a.symbol: answered.get(a.symbol)
            or (late if a.symbol in asked else _Outcome(error=f"not asked: {self.stopped}"))
            for a in asks
        }

    def one(self, ask: _Ask) -> _Outcome:
        def attempt() -> pd.DataFrame:
            with self.lock:
                self.requests += 1
            return _history(ask, self.session)

        try:
            data = self.policy.retrying(self.budget, self.stop, ask.symbol)(attempt)
            return _Outcome(frame=_bars(data, ask.symbol))
        except EmptyAnswer:
            return _Outcome(error="no data returned by Yahoo Finance")
        except BriefError as exc:
            log.warning("%s: unusable bars from Yahoo Finance: %s", ask.symbol, exc)
            return _Outcome(error=f"unusable bars from Yahoo Finance ({exc})")
        except Exception as exc:  # yfinance's and the HTTP session's errors, classified
            failure = classify(exc)
            if failure.action == HALT or failure.words == RATE_LIMITED:  # still rate-limited after its tries
                self.halt(failure.words)
            return _Outcome(error=failure.words)


# -- the stage ----------------------------------------------------------------------------------------


def fetch_member_panel(
    symbols: Sequence[str],
    *,
    cache_dir: Path,
    today: date,
    history_days: int = 400,
    budget_s: float = 600.0,
    chunk: int = 150,
    pause_s: float = 1.0,
    session: object | None = None,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
    workers: int = WORKERS,
    max_tries: int = MAX_TRIES,
) -> MemberPanel:
    """Bring the members' bars in the member cache up to the last complete session; return the panel.

    ``session`` goes to yfinance (None: yfinance makes its own).  ``progress(done, total)`` is
    called after each chunk with the members asked so far and the members to ask.  ``clock``
    measures the budget; ``sleep`` makes the pauses between chunks and the retry backoff.
    ``now`` (the build clock) says whether today's bar is final yet and stamps the cache rows.
    """
    members = list(dict.fromkeys(symbols))
    cutoff = min(last_complete_session(now), today) if now is not None else previous_trading_day(today)
    since = today - timedelta(days=history_days)
    stamp = now or datetime.combine(today, datetime.min.time(), UTC)
    with PriceCache(member_cache_path(cache_dir)) as cache:
        last = cache.last_bars(members)
        asks = _plan(members, last, since, cutoff)
        policy = RetryPolicy(max(1, max_tries), sleep, secrets.SystemRandom().random)
        stage = _Stage(session, Deadline(budget_s, clock), policy, workers)
        reasons: dict[str, str] = {}
        step = max(1, chunk)
        parts = [asks[at : at + step] for at in range(0, len(asks), step)]
        settled = 0
        for number, part in enumerate(parts, 1):
            if number > 1 and not stage.stopped:
                sleep(min(pause_s, stage.budget.remaining()))
            if stage.budget.remaining() <= 0:
                stage.halt(stage.used_up)
            if stage.stopped:
                break
            outcomes = stage.ask(part)
            with cache.batch():  # one commit per chunk
                for symbol, outcome in outcomes.items():
                    if why := _settle(cache, symbol, outcome, last.get(symbol), cutoff, stamp):
                        reasons[symbol] = why
            settled += len(part)
            _log_chunk(number, len(parts), part, reasons)
            if progress is not None:
                progress(settled, len(asks))
        reasons.update((a.symbol, f"not asked: {stage.stopped}") for a in asks[settled:])
        closes = cache.closes(members, since, cutoff)
    asked = {a.symbol for a in asks}
    _warn(stage.stopped, reasons, len(members))
    return MemberPanel(
        closes=closes,
        fetched=tuple(s for s in members if s in asked and s not in reasons),
        from_cache=tuple(s for s in members if s not in asked),
        failed=tuple(s for s in members if s in reasons),
        requests=stage.requests,
        stopped_early=stage.stopped,
        last_session=cutoff,
        reasons=reasons,
    )


def _plan(members: Sequence[str], last: Mapping[str, date], since: date, cutoff: date) -> list[_Ask]:
    """One request per member whose cache lacks the last complete session, from its last cached bar."""
    asks = []
    for symbol in members:
        cached = last.get(symbol)
        if cached is None:
            asks.append(_Ask(symbol, since))
        elif cached < cutoff:
            asks.append(_Ask(symbol, max(cached, since)))  # the overlapping bar re-bases the cache
    return asks


def _settle(
    cache: PriceCache, symbol: str, outcome: _Outcome, cached_last: date | None, cutoff: date, stamp: datetime
) -> str:
    """Merge and store one member's new complete bars; why it is still not current ("" when it is)."""
    newest = cached_last
    if outcome.frame is not None:
        fresh = outcome.frame.loc[: pd.Timestamp(cutoff)]  # not today's unfinished bar
        if not fresh.empty:
            combined, to_store = merge_bars(cache.load(symbol) if cached_last else None, fresh, symbol)
            if not to_store.empty:
                cache.store(symbol, to_store, stamp, PROVIDER)
            newest = combined.index[-1].date()
    if newest is not None and newest >= cutoff:
        return ""
    if outcome.error:
        return outcome.error
    return f"newest bar from Yahoo Finance is {newest or 'none'}, expected {cutoff}"


def _warn(stopped: str, reasons: Mapping[str, str], total: int) -> None:
    if stopped:
        log.warning("member prices: stopped early: %s", stopped)
    if reasons:
        shown = "; ".join(f"{s}: {why}" for s, why in list(reasons.items())[:SHOWN_FAILURES])
        more = f"; and {len(reasons) - SHOWN_FAILURES:,} more" if len(reasons) > SHOWN_FAILURES else ""
        log.warning("member prices: %d of %d members not fetched (%s%s)", len(reasons), total, shown, more)


def _log_chunk(number: int, count: int, part: Sequence[_Ask], reasons: Mapping[str, str]) -> None:
    failed = sum(1 for a in part if a.symbol in reasons)
    log.info(
        "member prices: chunk %d/%d: %d asked, %d fetched, %d not",
        number,
        count,
        len(part),
        len(part) - failed,
        failed,
    )
