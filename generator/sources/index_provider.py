"""The index view provider: the membership, then the members' prices, then the snapshot's ``index`` block.

1. The membership from ``index.holdings`` (the iShares IWM holdings file, a URL or a local file)
   through :func:`generator.sources.ishares.fetch_membership`: when the file cannot be had, the
   last cached membership, its as-of date stated in the health row.  Only the trimmed membership
   is cached (``index/iwm_membership.json``); the raw file is never written anywhere.
2. The members' daily closes through ``member_prices.fetch_member_panel`` (their own price cache,
   ``index/members.sqlite``), within ``index.budget`` seconds.  When that module is missing or the
   stage fails, the index view is not covered this week and the health row says why.
3. :func:`generator.sources.members.derive_index_view` for the reporting week.

The membership is passed on (``ProviderResult.membership``) to the providers after it (the
members' fundamentals), whether or not the member prices could be had.

With ``--data cache`` the cached membership and the member cache are read, nothing is asked.

:class:`SP600Provider` does the same for the optional second universe, the S&P 600, from a SPDR
holdings workbook (``index.sp600``; :mod:`generator.sources.spdr`), into ``Snapshot.universes``.
It runs after the index provider and shares its member price cache, so the members of both
indexes are asked for once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from generator.errors import SourceError
from generator.models import IndexSettings, IndexView, Origin, SourceHealth, SourceStatus
from generator.sources import spdr
from generator.sources.ishares import (
    CACHE_FILE,
    SOURCE_NAME,
    Membership,
    Parse,
    fetch_membership,
    read_membership,
)
from generator.sources.members import derive_index_view
from generator.sources.providers import Deadline, ProviderContext, ProviderResult

log = logging.getLogger(__name__)

PRICES_ROW = "member prices"
PRICES_PROVIDER = "Yahoo Finance (yfinance)"
TOLERATED_MISSING = 0.05  # members without prices: up to this share is normal coverage, not a problem
PanelFetch = Callable[..., Any]
"""``fetch_member_panel(symbols, *, cache_dir, today, ...) -> MemberPanel`` (member_prices' signature)."""


@dataclass(frozen=True)
class Universe:
    """An index seen through its members: where its holdings file is set, how it is read, its names."""

    key: str  # "" for the index of Snapshot.index_view, else its key in Snapshot.universes
    holdings: Callable[[IndexSettings], str]  # the holdings file's URL or local file ("" off)
    parse: Parse | None  # None: the iShares CSV
    source: str  # the holdings file's name in health rows: "iShares IWM holdings"
    cache_file: str  # the trimmed membership, in the provider's cache folder
    what: str  # "index membership"
    prices_row: str  # the name of its member prices' health row


RUSSELL = Universe("", lambda s: s.holdings, None, SOURCE_NAME, CACHE_FILE, "index membership", PRICES_ROW)
SP600 = Universe(
    "sp600", lambda s: s.sp600, spdr.parse_spdr_holdings, spdr.SOURCE_NAME, spdr.CACHE_FILE,
    "S&P 600 membership", "S&P 600 member prices",
)  # fmt: skip


@dataclass(frozen=True)
class _Closes:
    closes: pd.DataFrame | None  # sessions × Yahoo symbols; None: no view this week
    row: SourceHealth


class IndexProvider:
    """Membership and member prices into ``Snapshot.index_view``.  ``panel`` replaces fetch_member_panel."""

    name = "index"
    cache_folder = "index"
    needs: tuple[str, ...] = ()  # the membership, then the member prices: in that order, inside
    universe = RUSSELL

    def __init__(self, panel: PanelFetch | None = None) -> None:
        self.panel = panel

    def fetch(self, context: ProviderContext) -> ProviderResult:
        try:
            membership, from_cache, row = _membership(context, self.universe)
        except SourceError as exc:
            log.warning("%s", exc)
            origin = Origin.CACHE if context.offline else Origin.NONE
            failed = SourceHealth("provider", exc.source, SourceStatus.FAILED, origin, error=exc.message)
            return ProviderResult(health=(failed,))
        closes = self._closes(context, membership)
        rows = (row, closes.row)
        if closes.closes is None:
            return ProviderResult(membership.source, health=rows, membership=membership)
        try:
            view = derive_index_view(
                membership,
                closes.closes,
                context.week_start,
                context.week_end,
                provider=PRICES_PROVIDER,
                from_cache=from_cache,
            )
        except (ValueError, KeyError, IndexError) as exc:
            log.warning("index view: not derived: %s", exc)
            broken = SourceHealth(
                "provider", "index view", SourceStatus.FAILED, Origin.NONE, error=f"not derived: {exc}"
            )
            return self._result(membership.source, (*rows, broken), None, membership)
        return self._result(membership.source, rows, view, membership)

    def _result(
        self, label: str, rows: tuple[SourceHealth, ...], view: IndexView | None, membership: Membership
    ) -> ProviderResult:
        """The benchmark's index: its view, and its membership for the providers that need it."""
        return ProviderResult(label, health=rows, index_view=view, membership=membership)

    def _closes(self, context: ProviderContext, membership: Membership) -> _Closes:
        symbols = membership.symbols
        settings = context.config.index
        since = context.today - timedelta(days=settings.history_days)
        try:
            if context.offline:
                closes, covered, error = _cached_closes(context, symbols, since)
            else:
                closes, covered, error = self._fetched(context, symbols)
        except Exception as exc:  # any failure of the stage leaves the view not covered, said why
            log.warning("member prices: not available: %s", exc)
            why = exc.message if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
            return _Closes(None, _prices_row(self.universe, SourceStatus.FAILED, context, error=why))
        if closes.empty or pd.DatetimeIndex(closes.index).max().date() < context.week_start:
            why = error or f"no member prices in the week of {context.week_start}"
            return _Closes(None, _prices_row(self.universe, SourceStatus.FAILED, context, error=why))
        newest = pd.DatetimeIndex(closes.index).max().date()
        status = SourceStatus.CACHED if context.offline else SourceStatus.OK
        return _Closes(closes, _prices_row(self.universe, status, context, covered, newest, error))

    def _fetched(self, context: ProviderContext, symbols: Sequence[str]) -> tuple[pd.DataFrame, int, str]:
        fetch = self.panel or _member_panel()
        settings = context.config.index
        panel = fetch(
            symbols,
            cache_dir=context.cache_dir,
            today=context.today,
            history_days=settings.history_days,
            budget_s=settings.budget,
            chunk=settings.chunk,
            pause_s=settings.pause,
            session=context.transport.session,
            progress=_log_progress,
            now=context.now,
        )
        missing = len(panel.failed)
        log.info("%s: breadth from %s", self.universe.prices_row, panel.coverage)
        error = f"breadth from {panel.coverage}" if missing > TOLERATED_MISSING * len(symbols) else ""
        return panel.closes, len(symbols) - missing, error


def _member_panel() -> PanelFetch:
    try:
        from generator.sources.member_prices import fetch_member_panel
    except ImportError as exc:
        raise SourceError(PRICES_ROW, f"the member prices module is not available ({exc})") from None
    return fetch_member_panel


class SP600Provider(IndexProvider):
    """The S&P 600's membership (a SPDR workbook) and member prices into ``Snapshot.universes["sp600"]``.

    After the index provider, in its cache folder: members of both indexes are priced once.
    """

    name = "sp600"
    cache_folder = "index"
    needs: tuple[str, ...] = ("index",)  # shares its member price cache: one writer at a time
    universe = SP600

    def _result(
        self, label: str, rows: tuple[SourceHealth, ...], view: IndexView | None, membership: Membership
    ) -> ProviderResult:
        """Another universe: its view only (the benchmark index's membership stays the one passed on)."""
        return ProviderResult(label, health=rows, universes={self.universe.key: view} if view else {})


def _membership(context: ProviderContext, universe: Universe) -> tuple[Membership, bool, SourceHealth]:
    """The membership, whether it is the cached one, and its health row."""
    holdings = universe.holdings(context.config.index)
    cache = context.cache_dir / universe.cache_file
    if context.offline:
        if not cache.is_file():
            raise SourceError(universe.what, "not cached")
        membership = read_membership(cache)
        return membership, True, _membership_row(membership, SourceStatus.CACHED, Origin.CACHE, "")
    settings = context.config.index
    deadline = Deadline(2 * settings.timeout, "holdings")  # room for a retry after a server error
    download = context.downloader(universe.what, settings.timeout, deadline)
    got = fetch_membership(
        holdings, lambda url: download(url, None), context.cache_dir, universe.source,
        parse=universe.parse, cache_file=universe.cache_file,
    )  # fmt: skip
    membership = got.membership
    if got.from_cache:
        error = f"{got.problem}; last cached membership as of {membership.as_of.isoformat()}"
        return membership, True, _membership_row(membership, SourceStatus.CACHED, Origin.CACHE, error)
    return membership, False, _membership_row(membership, SourceStatus.OK, Origin.LIVE, "")


def _membership_row(membership: Membership, status: SourceStatus, origin: Origin, error: str) -> SourceHealth:
    count = len(membership.members)
    return SourceHealth("provider", membership.source, status, origin, count, membership.as_of, error)


def _cached_closes(
    context: ProviderContext, symbols: Sequence[str], since: date
) -> tuple[pd.DataFrame, int, str]:
    from generator.sources.member_prices import member_cache_path
    from generator.sources.price_cache import PriceCache

    path = member_cache_path(context.cache_dir)
    if not path.is_file():
        raise SourceError(PRICES_ROW, "not cached")
    with PriceCache(path) as cache:
        closes = cache.closes(symbols, since, context.today)
    covered = int(closes.notna().any().sum()) if not closes.empty else 0
    return closes, covered, ""


def _prices_row(
    universe: Universe,
    status: SourceStatus,
    context: ProviderContext,
    count: int = 0,
    newest: date | None = None,
    error: str = "",
) -> SourceHealth:
    origin = Origin.CACHE if context.offline else (Origin.LIVE if status == SourceStatus.OK else Origin.NONE)
    name = universe.prices_row
    return SourceHealth("provider", name, status, origin, count, newest, error, PRICES_PROVIDER)


def _log_progress(done: int, total: int) -> None:
    from generator.console import report_progress  # a bar on a terminal, log lines in CI

    report_progress("member prices: members asked", done, total)
