"""The providers the brief has always had: Yahoo prices, Yahoo fund data (valuation) and the feeds.

Thin adapters of :mod:`generator.sources.yahoo`, :mod:`generator.sources.valuation` and
:mod:`generator.sources.news` to the provider interface (:mod:`generator.sources.providers`).
Their caches stay at the root of the cache folder, where earlier runs left them.
"""

from __future__ import annotations

from pathlib import Path

from generator.models import Config, Origin, Series, SourceHealth, SourceStatus
from generator.sources.providers import ProviderContext, ProviderResult

YAHOO = "Yahoo Finance (yfinance)"
FEEDS = "RSS/Atom feeds"


def price_cache_path(cache_dir: Path) -> Path:
    return cache_dir / "prices.sqlite"


def full_history_symbols(config: Config) -> tuple[str, ...]:
    """The symbols fetched and kept with their whole history: "longest since" claims are made on them."""
    return tuple(dict.fromkeys((config.slots.benchmark, config.slots.large_cap)))


class YahooPrices:
    """Daily bars of the universe, into the SQLite price cache (``prices.sqlite``)."""

    name = "yahoo-prices"
    cache_folder = ""
    needs: tuple[str, ...] = ()

    def fetch(self, context: ProviderContext) -> ProviderResult:
        from generator.sources.price_cache import PriceCache

        path = price_cache_path(context.cache_dir)
        if context.offline:
            return _cached_prices(path, context.config) if path.exists() else ProviderResult(YAHOO)
        from generator.sources.yahoo import fetch_prices

        config = context.config
        with PriceCache(path) as cache:
            prices = fetch_prices(
                config.universe,
                config.network,
                cache,
                today=context.today,
                now=context.now,
                history_years=config.brief.history_years,
                full_history=full_history_symbols(config),
                session=context.transport.session,
            )
        return ProviderResult(YAHOO, series=prices.series, health=tuple(prices.health), halted=prices.halted)


def _cached_prices(path: Path, config: Config) -> ProviderResult:
    """``--data cache``: every symbol of the universe as the price cache holds it."""
    from generator.sources.price_cache import PriceCache

    series: dict[str, Series] = {}
    health: list[SourceHealth] = []
    with PriceCache(path) as cache:
        for instrument in config.universe:
            frame = cache.load(instrument.symbol)
            if frame is None or frame.empty:
                health.append(
                    SourceHealth(
                        "symbol", instrument.symbol, SourceStatus.FAILED, Origin.NONE, error="not cached"
                    )
                )
                continue
            s = Series(instrument.symbol, frame, YAHOO, Origin.CACHE, None)
            series[instrument.symbol] = s
            health.append(
                SourceHealth(
                    "symbol", s.symbol, SourceStatus.CACHED, Origin.CACHE, len(frame), s.last_bar, "", YAHOO
                )
            )
    return ProviderResult(YAHOO, series=series, health=tuple(health))


class YahooFundData:
    """Valuation fields of the equity ETFs and of ``valuation.large_fund`` (trailing P/E, P/B, ...),
    cached per day (``valuation.json``), each with the day it was read."""

    name = "yahoo-fund-data"
    cache_folder = ""
    needs: tuple[str, ...] = ("yahoo-prices",)  # only ETFs priced this run; not asked when Yahoo stopped

    def fetch(self, context: ProviderContext) -> ProviderResult:
        from generator.sources.valuation import (
            CACHE_NAME,
            ValuationCache,
            fetch_etf_valuation,
            valuation_health,
            valuation_symbols,
        )

        cache = ValuationCache(context.cache_dir / CACHE_NAME)
        if context.offline:
            cached = cache.since(context.week_start)
            return ProviderResult(valuation=cached, valuation_as_of=cache.days(cached))
        extra = (context.config.valuation.large_fund,)
        failures: dict[str, str] = {}
        earlier = set(cache.load(context.today))  # answered earlier today: not asked again
        valuation = fetch_etf_valuation(
            context.config.universe,
            context.series,
            context.config.network,
            context.cache_dir,
            session=context.transport.session,
            day=context.today,
            now=context.now,
            halted=context.halted,
            extra=extra,
            failures=failures,
        )
        # A fund Yahoo did not answer for is a degraded source, named, not only a line in the log.
        asked = valuation_symbols(context.config.universe, context.series, extra)
        row = valuation_health(asked, valuation, failures, context.today, cached=earlier)
        return ProviderResult(
            YAHOO, valuation=valuation, valuation_as_of=cache.days(valuation), health=(row,) if row else ()
        )


class Feeds:
    """The news feeds of ``news:``, with conditional GET and a cached copy of each."""

    name = "feeds"
    cache_folder = ""
    needs: tuple[str, ...] = ()

    def fetch(self, context: ProviderContext) -> ProviderResult:
        from generator.sources.news import cached_feeds, fetch_feeds

        config = context.config
        if context.offline:
            feeds, health = cached_feeds(config.feeds, context.cache_dir)
        else:
            feeds, health = fetch_feeds(
                config.feeds,
                config.network,
                context.cache_dir,
                now=context.now,
                resolver=context.transport.resolver,
            )
        return ProviderResult(FEEDS, feeds=feeds, health=tuple(health))
