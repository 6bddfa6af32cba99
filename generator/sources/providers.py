"""Data providers: one interface for every source a snapshot is gathered from.

A provider is a peer of the others, composed by :func:`generator.sources.gather.gather`:

- ``name``: short and file-safe ("fred"); its health rows and its cache folder carry it;
- ``cache_folder``: its own folder under the cache directory ("" keeps the Yahoo and feed caches
  where they have always been);
- ``needs``: the names of the providers it waits for, registered before it ("yahoo-fund-data"
  needs "yahoo-prices"); ``context.series`` and ``context.halted`` hold what those gave, and only
  that: providers that need nothing of each other run side by side;
- ``fetch(context) -> ProviderResult``: everything it adds to the snapshot (series, feeds,
  valuation, the index view, calendar events, earnings, the member fundamentals, health rows,
  notes), within its own deadline.  ``fetch`` runs in a worker thread, beside other providers: it
  writes only in its own cache files.  ``context.offline`` (``--data cache``) means: no network,
  its own cache only.  A source that
  fails is a health row naming it, never an exception out of ``fetch`` (but for a
  :class:`~generator.errors.SourceError`, which ``gather`` turns into a failed row; :func:`run`
  does the same with any other Exception, a bug, so one broken provider never stops the build).

Offline tests replace the network through :class:`Transport`: a yfinance session, a DNS resolver
for the project's HTTP client (tests serve files on loopback), or a ``download`` callable.

Adding a provider: write a module with a class that has ``name``, ``cache_folder``,
``needs`` and ``fetch``, and add it to :func:`registered`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from generator.errors import SourceError
from generator.models import (
    Config,
    EarningsWeek,
    FeedCapture,
    IndexView,
    MemberFundamentals,
    Origin,
    ScheduledEvent,
    Series,
    SourceHealth,
    SourceStatus,
)

if TYPE_CHECKING:
    from generator.sources.http import Resolver

if TYPE_CHECKING:
    from generator.sources.ishares import Membership

log = logging.getLogger(__name__)

Download = Callable[[str, str | None], bytes]
"""``download(url, user_agent) -> body``; ``user_agent`` None means the project's own."""


@dataclass(frozen=True)
class Transport:
    """What live fetching talks through; None means the real network."""

    session: object | None = None  # a yfinance-compatible HTTP session
    resolver: Resolver | None = None  # host, port -> addresses, for the project's HTTP client
    download: Download | None = None  # replaces the HTTP client for the data-file providers


@dataclass(frozen=True)
class ProviderContext:
    """What a provider is given: the config, the clock, the week, its cache and the network seams."""

    config: Config
    offline: bool  # --data cache: no network, the provider's own cache only
    today: date
    now: datetime
    week_start: date  # the reporting week
    week_end: date
    cache_dir: Path  # the provider's own folder (created by gather)
    transport: Transport = field(default_factory=Transport)
    series: Mapping[str, Series] = field(default_factory=dict)  # what the providers it needs gave
    halted: str = ""  # why Yahoo Finance stopped answering in a provider it needs ("" when it did not)
    membership: Membership | None = None  # the index membership, from the providers it needs

    def downloader(self, source: str, timeout: float, deadline: Deadline) -> Download:
        """The download seam: ``transport.download``, else the project's HTTP client for data files.

        Each download is bounded by ``timeout`` and by what is left of ``deadline``; once the
        deadline is used up a download is not even tried (SourceError naming ``source``).
        """
        inject = self.transport.download

        def download(url: str, user_agent: str | None) -> bytes:
            left = deadline.remaining()
            if left <= 0:
                raise SourceError(source, f"not asked: {deadline.used_up}")
            if inject is not None:
                return inject(url, user_agent)
            from generator.sources.http import DATA, fetch  # requests: only when a provider fetches

            bound = timeout if left >= timeout else max(0.1, round(left, 1))  # the deadline's rest
            settings = replace(self.config.network, feed_timeout=bound)
            result = fetch(
                url,
                settings,
                resolver=self.transport.resolver,
                deadline=deadline.end,
                expect=DATA,
                user_agent=user_agent,
            )
            return result.body

        return download


class Deadline:
    """A provider's own wall-clock bound (``time.monotonic``)."""

    def __init__(self, seconds: float, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.end = clock() + seconds
        self.used_up = f"the {what} deadline of {seconds:g} s was used up"

    def remaining(self) -> float:
        return self.end - self.clock()


@dataclass(frozen=True)
class ProviderResult:
    """What one provider adds to the snapshot."""

    label: str = ""  # for the snapshot's provider line: "FRED, Federal Reserve Bank of St. Louis"
    series: Mapping[str, Series] = field(default_factory=dict)
    feeds: Mapping[str, FeedCapture] = field(default_factory=dict)
    health: tuple[SourceHealth, ...] = ()
    valuation: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    valuation_as_of: Mapping[str, date] = field(default_factory=dict)  # symbol → day its fund data was read
    index_view: IndexView | None = None
    fundamentals: MemberFundamentals | None = None
    universes: Mapping[str, IndexView] = field(default_factory=dict)  # other indexes' member views
    events: tuple[ScheduledEvent, ...] = ()
    calendar_failures: tuple[tuple[str, str], ...] = ()  # (source, why)
    notes: tuple[str, ...] = ()
    halted: str = ""  # Yahoo Finance stopped answering (later Yahoo providers skip)
    membership: Membership | None = None  # the index membership (later providers pick members by weight)
    earnings: EarningsWeek | None = None


class Provider(Protocol):
    """One data source; see the module docstring."""

    @property
    def name(self) -> str: ...

    @property
    def cache_folder(self) -> str: ...

    @property
    def needs(self) -> tuple[str, ...]:
        """The names of the providers whose results it must see (registered before it)."""
        ...

    def fetch(self, context: ProviderContext) -> ProviderResult: ...


def registered(config: Config) -> tuple[Provider, ...]:
    """Every provider, in the order ``gather`` takes their results (a provider's needs come before it).

    A provider turned off in feeds.yaml (``fred.series: []``, ``calendar.official: []`` without
    Russell dates, ``index.holdings: ""``, ``index.sp600: ""``, ``calendar.earnings.top: 0``,
    ``valuation.members: false``) is left out; the earnings calendar and the member fundamentals
    need the index membership, so they are left out with it.
    """
    from generator.sources.core_providers import Feeds, YahooFundData, YahooPrices
    from generator.sources.earnings import EarningsProvider
    from generator.sources.fred import FredProvider
    from generator.sources.fundamentals import FundamentalsProvider
    from generator.sources.index_provider import IndexProvider, SP600Provider
    from generator.sources.official_calendar import CalendarProvider

    providers: list[Provider] = [YahooPrices(), YahooFundData(), Feeds()]
    if config.fred.series:
        providers.append(FredProvider())
    if config.calendar.official or config.calendar.russell:
        providers.append(CalendarProvider())
    if config.index.holdings:
        providers.append(IndexProvider())
        if config.calendar.earnings.top:
            providers.append(EarningsProvider())  # after the index: it picks members by weight
        if config.valuation.members:
            providers.append(FundamentalsProvider())  # after the index: it sums over its members
    if config.index.sp600:
        providers.append(SP600Provider())
    return tuple(providers)


def run(provider: Provider, context: ProviderContext) -> ProviderResult:
    """``provider.fetch(context)``; any Exception out of it becomes the provider's failed health row.

    A SourceError is a source that failed (a WARNING naming the provider); any other Exception is
    a bug in the provider (an ERROR naming it, with the traceback), and still costs only that
    provider's part of the brief, never the build.  Ctrl-C and the like (not Exceptions) pass.
    """
    try:
        return provider.fetch(context)
    except SourceError as exc:
        log.warning("%s: %s", provider.name, exc)
        return _failed(provider, context, str(exc))
    except Exception as exc:  # a provider's bug: one source lost, not the whole build
        log.error("%s: failed unexpectedly: %s: %s", provider.name, type(exc).__name__, exc, exc_info=True)
        return _failed(provider, context, f"unexpected error ({type(exc).__name__}: {exc})")


def _failed(provider: Provider, context: ProviderContext, error: str) -> ProviderResult:
    origin = Origin.CACHE if context.offline else Origin.NONE
    row = SourceHealth("provider", provider.name, SourceStatus.FAILED, origin, error=error)
    return ProviderResult(health=(row,))


def merge(results: Sequence[ProviderResult]) -> ProviderResult:
    """The results of every provider as one (later providers' series and valuation win on a clash)."""
    series: dict[str, Series] = {}
    feeds: dict[str, FeedCapture] = {}
    valuation: dict[str, dict[str, float]] = {}
    valuation_as_of: dict[str, date] = {}
    index_view: IndexView | None = None
    membership: Membership | None = None
    earnings: EarningsWeek | None = None
    fundamentals: MemberFundamentals | None = None
    universes: dict[str, IndexView] = {}
    for r in results:
        series.update(r.series)
        feeds.update(r.feeds)
        universes.update(r.universes)
        for symbol, fields in r.valuation.items():
            valuation.setdefault(symbol, {}).update(fields)
        valuation_as_of.update(r.valuation_as_of)
        index_view = r.index_view or index_view
        membership = r.membership or membership
        earnings = r.earnings or earnings
        fundamentals = r.fundamentals or fundamentals
    return ProviderResult(
        label="; ".join(dict.fromkeys(r.label for r in results if r.label)),
        series=series,
        feeds=feeds,
        health=tuple(h for r in results for h in r.health),
        valuation=valuation,
        valuation_as_of=valuation_as_of,
        index_view=index_view,
        fundamentals=fundamentals,
        universes=universes,
        events=tuple(
            sorted({e for r in results for e in r.events}, key=lambda e: (e.day, e.time_et, e.title))
        ),
        calendar_failures=tuple(f for r in results for f in r.calendar_failures),
        notes=tuple(dict.fromkeys(n for r in results for n in r.notes)),
        halted=next((r.halted for r in results if r.halted), ""),
        membership=membership,
        earnings=earnings,
    )
