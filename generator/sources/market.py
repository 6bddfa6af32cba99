"""Live daily bars and ETF valuation fields from Yahoo Finance, through yfinance.

One :func:`fetch_market` call:

1. Takes the last *complete* session: the latest NYSE trading day whose 16:00 New York close plus
   a settling margin has passed at ``now``, and not after ``today`` (:mod:`generator.sources.calendar`).
2. Skips symbols whose cache already holds it (status ok, origin cache).  The rest are grouped by
   where their cache ends, so the universe is a few batched ``yf.download`` calls: new symbols
   get ``period="max"``, the others ``start=`` their last cached bar.  That one overlapping bar
   re-bases the cached history when Yahoo's adjustment changed since (a dividend moves every
   earlier Adj Close, a split every earlier price), so the merged series stays on one basis.
3. Runs every download in a daemon thread under our own overall deadline
   (``NetworkSettings.market_deadline``): yfinance's ``timeout=`` does not bound a hung network.
   Past the deadline we stop waiting (the thread is abandoned, never joined) and the symbols fail
   with "no answer within N s".  yfinance's own threads are off, so a hung request cannot keep
   the process alive.
4. ``yf.download`` never raises; it logs each symbol's error and returns an empty column.  Those
   log records (from our worker thread only) tell a rate limit (HTTP 429) or network error, retried
   with exponential backoff and jitter inside the deadline, from a symbol Yahoo does not know.
   An empty column is a failure ("no data returned"), never "no change".
5. Cleans new bars (:func:`generator.sources.snapshot.clean_frame`), leaves out bars after the last
   complete session (today's unfinished bar) and a zero-volume last bar of a symbol that normally
   has volume, keeps the newest of duplicate rows, merges into the cache, and serves each series
   trimmed to ``history_years`` (the cache keeps everything).  A live series that still lacks the
   last complete session gets status "stale".  When live fails for a cached symbol, its cached
   bars are served with status "cached" and their real last bar, so the analysis can flag them.
6. Adds the equity ETFs' valuation fields (:mod:`generator.sources.valuation`), cached per symbol
   per day beside the price cache, so a rebuild on the same day asks Yahoo nothing.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import threading
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar, cast

import pandas as pd

from generator.errors import BriefError
from generator.models import Instrument, NetworkSettings, Series, SourceHealth
from generator.sources.calendar import last_complete_session
from generator.sources.price_cache import PriceCache
from generator.sources.snapshot import clean_frame
from generator.sources.valuation import CACHE_NAME, ValuationCache, valuation_for, wants_valuation

log = logging.getLogger(__name__)

PROVIDER = "Yahoo Finance (yfinance)"
REQUEST_TIMEOUT = 20.0  # seconds per request inside yfinance (our deadline bounds the whole)
MAX_TRIES = 4
BACKOFF_BASE, BACKOFF_CAP = 1.0, 8.0  # seconds: first pause, longest pause (before jitter)
SPLIT_TOLERANCE = 0.02  # the overlap bar's Close moved more than this: Yahoo re-based prices
THREAD_PREFIX = "market-fetch"

_T = TypeVar("_T")


@dataclass(frozen=True)
class MarketResult:
    series: dict[str, Series]  # symbol → cleaned bars (live, or cache when live failed)
    health: list[SourceHealth]  # one row per symbol, in universe order
    valuation: dict[str, dict[str, float]]  # ETF → Yahoo field → value; a missing field stays missing


# -- deadline, retries, and the errors yfinance logs instead of raising --------------------------


class NoAnswer(Exception):
    """The worker did not finish before the deadline."""


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = _time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - _time.monotonic())


@dataclass(frozen=True)
class _Retry:
    tries: int
    sleep: Callable[[float], None]
    rand: Callable[[], float]

    def delay(self, attempt: int) -> float:
        """Pause after try ``attempt``: exponential, half of it random (equal jitter)."""
        span = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        return span / 2 + self.rand() * span / 2


def run_with_deadline(work: Callable[[], _T], timeout: float, name: str) -> _T:
    """Run ``work`` in a daemon thread; raise :class:`NoAnswer` when it is not done in ``timeout`` s."""
    if timeout <= 0:
        raise NoAnswer
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the waiting thread below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"{THREAD_PREFIX}-{name}", daemon=True).start()
    if not done.wait(timeout):
        raise NoAnswer
    if "error" in box:
        raise box["error"]
    return cast(_T, box["value"])


class _LoggedErrors(logging.Handler):
    """The error messages yfinance logs from one thread (``yf.download`` swallows its errors)."""

    def __init__(self, thread_id: int) -> None:
        super().__init__(logging.ERROR)
        self._thread_id = thread_id
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self._thread_id:
            try:
                self.messages.append(record.getMessage())
            except Exception:  # a malformed record must not break the download
                self.messages.append(str(record.msg))

    def about(self, symbol: str) -> list[str]:
        key = symbol.upper()
        return [m for m in self.messages if f"'{key}'" in m or f"${key}:" in m or m.startswith(f"{key}:")]


_KINDS = (  # (worth retrying, pattern in yfinance's message, the error in plain words)
    (True, r"too many requests|rate.?limit|error 429|429 client", "rate limited by Yahoo Finance (HTTP 429)"),
    (True, r"timed? ?out|timeout", "Yahoo Finance did not answer in time"),
    (
        True,
        r"connection|curl: \(|resolve|network|error 5\d\d|5\d\d server|unavailable",
        "network or server error",
    ),
    (True, r"expecting value|jsondecode", "Yahoo Finance sent an error page instead of data"),
    (
        False,
        r"error 404|404 client|not found|no timezone|may be delisted",
        "symbol not found on Yahoo Finance",
    ),
)


def _classify(messages: Sequence[str], known: bool) -> tuple[bool, str]:
    """(worth retrying, the error in plain words) from one symbol's logged yfinance errors.

    Nothing recognisable for a symbol Yahoo served before (``known``) is worth one more try:
    yfinance turns a server error on the bars request into an empty answer.
    """
    text = " ".join(re.sub(r"https?://\S+", "", m) for m in messages)
    for retry, pattern, words in _KINDS:
        if re.search(pattern, text, re.IGNORECASE):
            return retry, words
    return known, "no data returned by Yahoo Finance"


def forget_responses() -> None:
    """yfinance memoizes some responses (errors too) for the life of the process; a retry must ask anew."""
    try:
        from yfinance.data import YfData

        YfData.cache_get.cache_clear()
    except (ImportError, AttributeError):  # another yfinance version: nothing to forget
        pass


# -- downloading ----------------------------------------------------------------------------------


@dataclass
class _Outcome:
    frame: pd.DataFrame | None = None  # cleaned new bars; None when the symbol failed
    error: str = ""  # plain words, without the symbol
    tries: int = 0


def _download(
    symbols: Sequence[str], start: date | None, session: object | None
) -> tuple[Any, _LoggedErrors]:
    import yfinance as yf  # here, not at the top: slow to import, and only live fetching needs it

    errors = _LoggedErrors(threading.get_ident())
    logger = logging.getLogger("yfinance")
    logger.addHandler(errors)
    span = {"period": "max"} if start is None else {"start": start.isoformat()}
    try:
        data = yf.download(
            list(symbols), **span, interval="1d", group_by="ticker", auto_adjust=False, actions=False,
            threads=False, progress=False, timeout=REQUEST_TIMEOUT, session=session, multi_level_index=True,
        )  # fmt: skip
    finally:
        logger.removeHandler(errors)
    return data, errors


def _column(data: Any, symbol: str) -> pd.DataFrame | None:
    """One symbol's cleaned bars out of a ``group_by="ticker"`` download; None when it has none."""
    if not isinstance(data, pd.DataFrame) or not isinstance(data.columns, pd.MultiIndex):
        return None
    if symbol.upper() not in set(data.columns.get_level_values(0)):
        return None
    frame = cast(pd.DataFrame, data[symbol.upper()]).dropna(how="all")
    frame.columns = [str(c) for c in frame.columns]
    if frame.empty or "Close" not in frame.columns or frame["Close"].isna().all():
        return None
    try:
        return clean_frame(frame, symbol)
    except BriefError as exc:
        log.warning("%s: unusable bars from Yahoo Finance: %s", symbol, exc)
        return None


def _fetch_batch(
    symbols: Sequence[str], start: date | None, session: object | None, deadline: _Deadline, retry: _Retry
) -> dict[str, _Outcome]:
    outcomes = {s: _Outcome() for s in symbols}
    pending = list(symbols)
    for attempt in range(1, retry.tries + 1):
        for s in pending:
            outcomes[s].tries = attempt
        try:
            work = partial(_download, tuple(pending), start, session)
            data, errors = run_with_deadline(work, deadline.remaining(), "prices")
        except NoAnswer:
            for s in pending:
                outcomes[s].error = f"no answer within {deadline.seconds:g} s"
            return outcomes
        except Exception as exc:  # yfinance raised instead of logging: the whole call failed
            data, errors = None, _LoggedErrors(0)
            errors.messages = [f"'{s.upper()}': {type(exc).__name__}: {exc}" for s in pending]
        pending = _record_try(pending, data, errors, outcomes, known=start is not None)
        pause = retry.delay(attempt)
        if not pending or attempt == retry.tries or pause >= deadline.remaining():
            break
        log.info("Yahoo Finance: retrying %s in %.1f s (try %d)", ", ".join(pending), pause, attempt + 1)
        retry.sleep(pause)
        forget_responses()
    for outcome in outcomes.values():
        if outcome.frame is None and outcome.tries > 1:
            outcome.error += f" (tried {outcome.tries} times)"
    return outcomes


def _record_try(
    pending: Sequence[str], data: Any, errors: _LoggedErrors, outcomes: dict[str, _Outcome], known: bool
) -> list[str]:
    """Record one try per symbol; return the symbols worth another try."""
    again = []
    for s in pending:
        frame = _column(data, s)
        if frame is not None:
            outcomes[s] = _Outcome(frame=frame, tries=outcomes[s].tries)
            continue
        retryable, outcomes[s].error = _classify(errors.about(s), known)
        if retryable:
            again.append(s)
    return again


# -- merging new bars into the cached history -----------------------------------------------------


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
            "%s: Yahoo re-based prices to %s by %.4f (a split?); cache rescaled", symbol, anchor, ratio
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


def _merge(
    cached: pd.DataFrame | None, fresh: pd.DataFrame, symbol: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the merged series, the rows to write to the cache)."""
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


# -- the stage ------------------------------------------------------------------------------------


@dataclass
class _Serving:
    cache: PriceCache
    cutoff: date  # the last complete session
    now: datetime
    since: pd.Timestamp  # first bar served: history_years before today
    series: dict[str, Series] = field(default_factory=dict)
    health: list[SourceHealth] = field(default_factory=list)

    def serve(self, symbol: str, frame: pd.DataFrame, origin: str, fetched_at: datetime | None) -> Series:
        recent = frame.loc[self.since :]  # all of it when even the newest bar is older than that
        self.series[symbol] = Series(symbol, frame if recent.empty else recent, PROVIDER, origin, fetched_at)
        return self.series[symbol]

    def report(self, symbol: str, status: str, origin: str, s: Series | None, error: str = "") -> None:
        count, newest = (len(s.frame), s.last_bar) if s is not None else (0, None)
        self.health.append(SourceHealth("symbol", symbol, status, origin, count, newest, error, PROVIDER))


def fetch_market(
    instruments: Sequence[Instrument],
    settings: NetworkSettings,
    cache: PriceCache,
    *,
    today: date,
    now: datetime,
    session: object | None = None,
    history_years: int = 12,
    sleep: Callable[[float], None] = _time.sleep,
    rand: Callable[[], float] | None = None,
    max_tries: int = MAX_TRIES,
    valuation: bool = True,
) -> MarketResult:
    """Fetch what the cache lacks for ``instruments``, merge it in, and serve every symbol.

    ``session`` goes to yfinance (None: yfinance makes its own).  ``sleep`` and ``rand`` drive
    the retry backoff.  ``valuation=False`` skips the ETF valuation fields; otherwise they come
    from today's answers cached beside the price cache (:mod:`generator.sources.valuation`), and
    Yahoo is asked only for the ETFs not answered yet today (and not at all after a rate limit).
    """
    deadline = _Deadline(settings.market_deadline)
    retry = _Retry(max(1, max_tries), sleep, rand or secrets.SystemRandom().random)
    since = pd.Timestamp(today) - pd.DateOffset(years=max(1, history_years))
    serving = _Serving(cache, min(last_complete_session(now), today), now, since)
    symbols = list(dict.fromkeys(i.symbol for i in instruments))
    outcomes: dict[str, _Outcome] = {}
    for start, batch in _plan(symbols, cache, serving.cutoff):
        outcomes.update(_fetch_batch(batch, start, session, deadline, retry))
    for symbol in symbols:
        _settle(symbol, outcomes.get(symbol), serving)
    values: dict[str, dict[str, float]] = {}
    if valuation:
        etfs = [i.symbol for i in instruments if wants_valuation(i) and i.symbol in serving.series]
        limited = any("HTTP 429" in o.error for o in outcomes.values())  # don't add to a rate limit
        store = ValuationCache(cache.path.with_name(CACHE_NAME))
        values = valuation_for(
            etfs, session, deadline.remaining(), store, day=today, now=now, ask=not limited
        )
    return MarketResult(serving.series, serving.health, values)


def _plan(symbols: Sequence[str], cache: PriceCache, cutoff: date) -> list[tuple[date | None, list[str]]]:
    """Symbols to download, batched by start date (None: not cached yet, fetch "max")."""
    batches: dict[date | None, list[str]] = {}
    for symbol in symbols:
        last = cache.last_bar(symbol)
        if last is None or last < cutoff:
            batches.setdefault(last, []).append(symbol)
    return sorted(batches.items(), key=lambda kv: (kv[0] is None, kv[0] or date.min))


def _settle(symbol: str, outcome: _Outcome | None, serving: _Serving) -> None:
    """Merge, store and serve one symbol; add its health row."""
    cached = serving.cache.load(symbol)
    if outcome is not None and outcome.frame is not None:
        fresh = outcome.frame.loc[: pd.Timestamp(serving.cutoff)]  # not today's unfinished bar
        combined, to_store = _merge(cached, fresh[~fresh.index.duplicated(keep="last")], symbol)
        if not to_store.empty:
            serving.cache.store(symbol, to_store, serving.now, PROVIDER)
            s = serving.serve(symbol, combined, "live", serving.now)
            if s.last_bar >= serving.cutoff:
                serving.report(symbol, "ok", "live", s)
            else:
                late = f"{symbol}: newest complete bar is {s.last_bar}, expected {serving.cutoff}"
                serving.report(symbol, "stale", "live", s, late)
            return
    why = (outcome.error if outcome is not None else "") or "no complete bar returned"
    if cached is None or cached.empty:
        serving.report(symbol, "failed", "none", None, f"{symbol}: {why}")
        return
    entry = serving.cache.entry(symbol)
    s = serving.serve(symbol, cached, "cache", entry.fetched_at if entry else None)
    if s.last_bar >= serving.cutoff:  # nothing newer can exist yet: the cache is current
        serving.report(symbol, "ok", "cache", s)
    else:
        serving.report(
            symbol, "cached", "cache", s, f"{symbol}: {why}; serving cached bars up to {s.last_bar}"
        )
