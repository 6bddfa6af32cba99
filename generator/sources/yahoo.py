"""The Yahoo Finance prices provider: daily bars through yfinance, under our own deadline and retries.

How yfinance is loaded, what its errors mean, the deadline thread and the retry policy live in
:mod:`generator.sources.yahoo_client`, shared with the valuation provider.

One :func:`fetch_prices` call:

1. Takes the last *complete* session: the latest NYSE session whose 16:00 New York close plus a
   settling margin has passed at ``now``, and not after ``today`` (:mod:`generator.sources.calendar`).
2. Plans one request per symbol the cache cannot answer.  A symbol already cached is asked from
   its last cached bar on: that one overlapping bar re-bases the cached history when Yahoo's
   adjustment changed since (:func:`generator.sources.price_cache.merge_bars`).  A new symbol is
   asked for ``history_years``; the *full-history* symbols (the benchmark and the large-cap
   comparator, whose "longest since" claims need decades) are asked ``period="max"`` once, then
   incrementally like the others.
3. Asks through ``yf.Ticker(symbol).history`` with yfinance's exceptions switched on
   (``yf.config.debug.hide_exceptions = False``), so every failure arrives as a typed error
   (``YFRateLimitError``, ``YFPricesMissingError``, the HTTP session's own errors) rather than
   a log record and an empty frame.  Rate limits and transient errors (timeouts, resets, 5xx,
   an error page) are retried by tenacity with exponential backoff and jitter, inside the
   deadline.  An error that cannot heal within a run (no DNS, connection refused, no route)
   is not retried, and the symbols after it are not asked: the run fails fast.  (The bars
   request is never memoized, since no ``end`` is passed; yfinance does memoize its
   time-zone probe for the process, errors included, so a 5xx on that probe does not heal.)
4. Runs all of it in a daemon thread under our own overall deadline
   (``NetworkSettings.market_deadline``): yfinance's ``timeout=`` does not bound a hung network.
   Past the deadline we stop waiting (the thread is told to stop and is never joined) and the
   symbols not answered fail with "no answer within N s".
5. Cleans new bars (:func:`generator.sources.prices_csv.clean_frame`), leaves out bars after the
   last complete session (today's unfinished bar), merges them into the cache, and serves each
   series (trimmed to ``history_years``, but for the full-history symbols).  A live series that
   still lacks the last complete session gets status "stale".  When live fails for a cached
   symbol, its cached bars are served with status "cached" and their real last bar.

yfinance's own deprecation warnings (pandas' ``inplace`` and the like) are filtered by module
before each call (:func:`quiet_yfinance`), so they never reach the console.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

import pandas as pd

from generator.errors import BriefError
from generator.models import Instrument, NetworkSettings, Origin, Series, SourceHealth, SourceStatus
from generator.sources.calendar import last_complete_session
from generator.sources.price_cache import PriceCache, merge_bars
from generator.sources.prices_csv import clean_frame
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

log = logging.getLogger(__name__)

PROVIDER = "Yahoo Finance (yfinance)"
REQUEST_TIMEOUT = 20.0  # seconds per request inside yfinance (our deadline bounds the whole)
MAX_TRIES = 4


@dataclass(frozen=True)
class PricesResult:
    series: dict[str, Series]  # symbol → cleaned bars (live, or cache when live failed)
    health: list[SourceHealth]  # one row per symbol, in universe order
    halted: str = ""  # why Yahoo was not asked for everything: a rate limit or no network ("" if not)


# -- asking --------------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    frame: pd.DataFrame | None = None  # cleaned new bars; None when the symbol failed
    error: str = ""  # plain words, without the symbol
    tries: int = 0
    whole: bool = False  # the answer holds the symbol's whole history (period="max")


@dataclass(frozen=True)
class _Ask:
    symbol: str
    start: date | None  # None: period="max"


def _history(ask: _Ask, session: object | None) -> pd.DataFrame:
    """One symbol's daily bars as yfinance parses them; raises yfinance's typed errors."""
    span: dict[str, str] = {"period": "max"} if ask.start is None else {"start": ask.start.isoformat()}
    ticker = yfinance().Ticker(ask.symbol, session=session)
    quiet_yfinance()
    return cast(
        pd.DataFrame,
        ticker.history(**span, interval="1d", auto_adjust=False, actions=False, timeout=REQUEST_TIMEOUT),
    )


def _bars(data: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """The cleaned bars of one answer; raises :class:`EmptyAnswer` when there are none."""
    frame = data.dropna(how="all")
    if frame.empty or "Close" not in frame.columns or frame["Close"].isna().all():
        raise EmptyAnswer(symbol)
    return clean_frame(frame, symbol)


class EmptyAnswer(Exception):
    """Yahoo answered without a single bar."""


@dataclass
class _Run:
    asks: Sequence[_Ask]
    session: object | None
    deadline: Deadline
    policy: RetryPolicy
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: dict[str, _Outcome] = field(default_factory=dict)
    halted: str = ""

    def work(self) -> None:
        for ask in self.asks:
            if self.stop.is_set():
                return
            outcome = _Outcome(error=f"not asked: {self.halted}") if self.halted else self.one(ask)
            with self.lock:
                self.outcomes[ask.symbol] = outcome

    def one(self, ask: _Ask) -> _Outcome:
        outcome = _Outcome(whole=ask.start is None)

        def attempt() -> pd.DataFrame:
            outcome.tries += 1
            return _history(ask, self.session)

        try:
            data = self.policy.retrying(self.deadline, self.stop, ask.symbol)(attempt)
            outcome.frame = _bars(data, ask.symbol)
        except EmptyAnswer:
            outcome.error = "no data returned by Yahoo Finance"
        except BriefError as exc:
            log.warning("%s: unusable bars from Yahoo Finance: %s", ask.symbol, exc)
            outcome.error = f"unusable bars from Yahoo Finance ({exc})"
        except Exception as exc:  # yfinance's and the HTTP session's errors, classified
            failure = classify(exc)
            outcome.error = failure.words + (f" (tried {outcome.tries} times)" if outcome.tries > 1 else "")
            if failure.action == HALT or failure.words == RATE_LIMITED:
                self.halted = failure.words
        return outcome

    def results(self) -> dict[str, _Outcome]:
        """What arrived before the deadline; the rest failed with "no answer"."""
        try:
            run_with_deadline(self.work, self.deadline.remaining(), "prices")
        except NoAnswer:
            self.stop.set()
        with self.lock:
            done = dict(self.outcomes)
        late = _Outcome(error=f"no answer within {self.deadline.seconds:g} s")
        return {a.symbol: done.get(a.symbol, late) for a in self.asks}


# -- serving ------------------------------------------------------------------------------------------


@dataclass
class _Serving:
    cache: PriceCache
    cutoff: date  # the last complete session
    now: datetime
    since: pd.Timestamp  # first bar served: history_years before today
    whole: Collection[str]  # full-history symbols: served from their first bar
    series: dict[str, Series] = field(default_factory=dict)
    health: list[SourceHealth] = field(default_factory=list)

    def serve(self, symbol: str, frame: pd.DataFrame, origin: Origin, fetched_at: datetime | None) -> Series:
        recent = frame if symbol in self.whole else frame.loc[self.since :]
        self.series[symbol] = Series(symbol, frame if recent.empty else recent, PROVIDER, origin, fetched_at)
        return self.series[symbol]

    def report(
        self, symbol: str, status: SourceStatus, origin: Origin, s: Series | None, error: str = ""
    ) -> None:
        count, newest = (len(s.frame), s.last_bar) if s is not None else (0, None)
        self.health.append(SourceHealth("symbol", symbol, status, origin, count, newest, error, PROVIDER))


def fetch_prices(
    instruments: Sequence[Instrument],
    settings: NetworkSettings,
    cache: PriceCache,
    *,
    today: date,
    now: datetime,
    session: object | None = None,
    history_years: int = 12,
    full_history: Collection[str] = (),
    sleep: Callable[[float], None] | None = None,
    rand: Callable[[], float] | None = None,
    max_tries: int = MAX_TRIES,
) -> PricesResult:
    """Fetch what the cache lacks for ``instruments``, merge it in, and serve every symbol.

    ``session`` goes to yfinance (None: yfinance makes its own).  ``full_history`` names the
    symbols fetched back to their first bar (``period="max"``) and served whole.  ``sleep`` and
    ``rand`` drive the retry backoff (default: a sleep the deadline interrupts, system randomness).
    """
    deadline = Deadline(settings.market_deadline)
    since = pd.Timestamp(today) - pd.DateOffset(years=max(1, history_years))
    cutoff = min(last_complete_session(now), today)
    whole = set(full_history)
    serving = _Serving(cache, cutoff, now, since, whole)
    symbols = list(dict.fromkeys(i.symbol for i in instruments))
    stop = threading.Event()

    def pause(seconds: float) -> None:  # the default: a sleep that ends when the run is told to stop
        stop.wait(seconds)

    policy = RetryPolicy(max(1, max_tries), sleep or pause, rand or secrets.SystemRandom().random)
    run = _Run(_plan(symbols, cache, cutoff, since.date(), whole), session, deadline, policy, stop)
    outcomes = run.results() if run.asks else {}
    with cache.batch():  # one commit for every symbol's new bars, not one each (a commit waits for the disk)
        for symbol in symbols:
            _settle(symbol, outcomes.get(symbol), serving)
    return PricesResult(serving.series, serving.health, run.halted)


def _plan(
    symbols: Sequence[str], cache: PriceCache, cutoff: date, since: date, whole: Collection[str]
) -> list[_Ask]:
    """One request per symbol the cache cannot answer."""
    asks = []
    for symbol in symbols:
        last = cache.last_bar(symbol)
        if symbol in whole and not cache.has_full_history(symbol):
            asks.append(_Ask(symbol, None))  # once: its whole history
        elif last is None:
            asks.append(_Ask(symbol, since))
        elif last < cutoff:
            asks.append(_Ask(symbol, last))
    return asks


def _settle(symbol: str, outcome: _Outcome | None, serving: _Serving) -> None:
    """Merge, store and serve one symbol; add its health row."""
    cached = serving.cache.load(symbol)
    if outcome is not None and outcome.frame is not None:
        fresh = outcome.frame.loc[: pd.Timestamp(serving.cutoff)]  # not today's unfinished bar
        combined, to_store = merge_bars(cached, fresh[~fresh.index.duplicated(keep="last")], symbol)
        if not to_store.empty:
            serving.cache.store(symbol, to_store, serving.now, PROVIDER, full_history=outcome.whole)
            s = serving.serve(symbol, combined, Origin.LIVE, serving.now)
            if s.last_bar >= serving.cutoff:
                serving.report(symbol, SourceStatus.OK, Origin.LIVE, s)
            else:
                late = f"{symbol}: newest complete bar is {s.last_bar}, expected {serving.cutoff}"
                serving.report(symbol, SourceStatus.STALE, Origin.LIVE, s, late)
            return
    why = (outcome.error if outcome is not None else "") or "no complete bar returned"
    if cached is None or cached.empty:
        serving.report(symbol, SourceStatus.FAILED, Origin.NONE, None, f"{symbol}: {why}")
        return
    entry = serving.cache.entry(symbol)
    s = serving.serve(symbol, cached, Origin.CACHE, entry.fetched_at if entry else None)
    if s.last_bar >= serving.cutoff:  # nothing newer can exist yet: the cache is current
        serving.report(symbol, SourceStatus.OK, Origin.CACHE, s)
    else:
        serving.report(
            symbol,
            SourceStatus.CACHED,
            Origin.CACHE,
            s,
            f"{symbol}: {why}; serving cached bars up to {s.last_bar}",
        )
