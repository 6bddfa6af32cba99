"""Data modes: where a build's snapshot comes from (live, cache, sample, or a snapshot folder).

``auto`` takes live data first, the local cache for whatever live could not give, and
only when neither has the benchmark, the bundled sample (loudly).  ``live`` fails when a
required series is not fresh.  Nothing here reads the clock: ``today`` and ``now`` come in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from generator.errors import DataUnavailableError
from generator.models import Config, FeedCapture, Series, Snapshot, SourceHealth
from generator.sources.http import Resolver

log = logging.getLogger(__name__)

MODES = ("auto", "live", "cache", "sample")


@dataclass(frozen=True)
class Transport:
    """What live fetching talks through; None means the real network."""

    session: object | None = None  # a yfinance-compatible HTTP session
    resolver: Resolver | None = None  # host, port -> addresses, for the feed fetcher


SAMPLE_WARNING = (
    "NO LIVE OR CACHED DATA: this brief is built from the bundled SAMPLE snapshot. "
    "SAMPLE DATA — illustrative, not market data."
)


def price_cache_path(cache_dir: Path) -> Path:
    return cache_dir / "prices.sqlite"


def gather(
    config: Config,
    mode: str,
    *,
    today: date,
    now: datetime,
    cache_dir: Path,
    week_start: date,
    transport: Transport | None = None,
) -> Snapshot:
    """Return the snapshot a build of the week starting ``week_start`` should use.

    ``transport`` replaces the network for tests and the benchmark (a yfinance session and a
    DNS resolver); by default the real network is used.
    """
    if mode == "sample":
        return load_sample()
    if mode == "cache":
        snapshot = _from_cache(config, cache_dir, now=now, week_start=week_start)
        if config.slots.benchmark not in snapshot.series:
            raise DataUnavailableError(config.slots.benchmark, f"not in the cache at {cache_dir}")
        return snapshot
    snapshot = _live(config, cache_dir, today=today, now=now, transport=transport or Transport())
    if mode == "live":
        _require_fresh(config, snapshot, week_start)
        return snapshot
    if config.slots.benchmark in snapshot.series:
        return snapshot
    failed = [h for h in snapshot.health if h.status == "failed"]
    why = f" Live and cached sources failed: {_summarise(failed)}." if failed else ""
    log.warning("%s%s", SAMPLE_WARNING, why)
    sample = load_sample()
    return replace(sample, notes=(SAMPLE_WARNING + why, *sample.notes))


def _summarise(failed: list[SourceHealth]) -> str:
    """``32 symbols and 8 feeds (first: ^RUT — cannot resolve host ...)``"""
    symbols = sum(1 for h in failed if h.kind == "symbol")
    feeds = len(failed) - symbols
    first = failed[0]
    return f"{symbols} symbols and {feeds} feeds (first: {first.name} — {first.error or first.status})"


def load_sample() -> Snapshot:
    from generator.sources.snapshot import load_sample as load

    return load()


def _live(config: Config, cache_dir: Path, *, today: date, now: datetime, transport: Transport) -> Snapshot:
    """Compose the live providers: Yahoo prices, then the ETFs' valuation, then the feeds."""
    from generator.sources.news import fetch_feeds
    from generator.sources.price_cache import PriceCache
    from generator.sources.valuation import fetch_etf_valuation
    from generator.sources.yahoo import fetch_prices

    cache_dir.mkdir(parents=True, exist_ok=True)
    with PriceCache(price_cache_path(cache_dir)) as cache:
        prices = fetch_prices(
            config.universe,
            config.network,
            cache,
            today=today,
            now=now,
            history_years=config.brief.history_years,
            full_history=full_history_symbols(config),
            session=transport.session,
        )
    valuation = fetch_etf_valuation(
        config.universe,
        prices.series,
        config.network,
        cache_dir,
        session=transport.session,
        day=today,
        now=now,
        halted=prices.halted,
    )
    feeds, feed_health = fetch_feeds(
        config.feeds, config.network, cache_dir, now=now, resolver=transport.resolver
    )
    return _assemble(config, prices.series, feeds, (*prices.health, *feed_health), valuation, now)


def full_history_symbols(config: Config) -> tuple[str, ...]:
    """The symbols fetched and kept with their whole history: "longest since" claims are made on them."""
    return tuple(dict.fromkeys((config.slots.benchmark, config.slots.large_cap)))


def _from_cache(config: Config, cache_dir: Path, *, now: datetime, week_start: date) -> Snapshot:
    from generator.sources.news import cached_feeds
    from generator.sources.price_cache import PriceCache
    from generator.sources.valuation import CACHE_NAME, ValuationCache

    series: dict[str, Series] = {}
    health: list[SourceHealth] = []
    path = price_cache_path(cache_dir)
    if path.exists():
        with PriceCache(path) as cache:
            for instrument in config.universe:
                frame = cache.load(instrument.symbol)
                if frame is None or frame.empty:
                    health.append(
                        SourceHealth("symbol", instrument.symbol, "failed", "none", error="not cached")
                    )
                    continue
                s = Series(instrument.symbol, frame, "Yahoo Finance (yfinance)", "cache", None)
                series[instrument.symbol] = s
                health.append(
                    SourceHealth(
                        "symbol", s.symbol, "cached", "cache", len(frame), s.last_bar, "", s.provider
                    )
                )
    feeds, feed_health = cached_feeds(config.feeds, cache_dir)
    valuation = ValuationCache(cache_dir / CACHE_NAME).since(week_start)
    return _assemble(config, series, feeds, (*health, *feed_health), valuation, now)


def _assemble(
    config: Config,
    series: Mapping[str, Series],
    feeds: Mapping[str, FeedCapture],
    health: tuple[SourceHealth, ...],
    valuation: Mapping[str, Mapping[str, float]],
    now: datetime,
) -> Snapshot:
    bench = series.get(config.slots.benchmark)
    as_of = bench.last_bar if bench is not None else now.date()
    return Snapshot(
        as_of=as_of,
        built_at=now,
        series=dict(series),
        feeds=dict(feeds),
        is_sample=False,
        provider="Yahoo Finance (yfinance); RSS/Atom feeds",
        health=health,
        valuation={k: dict(v) for k, v in valuation.items()},
    )


def _require_fresh(config: Config, snapshot: Snapshot, week_start: date) -> None:
    """``--data live``: every required symbol must have been fetched (or confirmed) live this week.

    A series served from the cache because live failed has health status "cached" and fails here,
    even when its last bar falls in the reporting week: it may be missing the week's last session.
    """
    status = {h.name: h for h in snapshot.health if h.kind == "symbol"}
    problems = []
    for instrument in config.universe:
        if not instrument.required:
            continue
        s = snapshot.series.get(instrument.symbol)
        h = status.get(instrument.symbol)
        if s is None:
            problems.append((instrument.symbol, h.error if h and h.error else "no data"))
        elif h is not None and h.status != "ok":
            problems.append((instrument.symbol, f"{h.status}: {h.error or 'live fetch failed'}"))
        elif s.last_bar < week_start:
            problems.append((instrument.symbol, f"last bar {s.last_bar} is before the week of {week_start}"))
    if problems:
        detail = "; ".join(f"{sym}: {why}" for sym, why in problems)
        raise DataUnavailableError(problems[0][0], f"required data is not fresh ({detail})")
