"""The index view provider: the membership, then the members' prices, then the snapshot's ``index`` block.

1. The membership from ``index.holdings`` (the iShares IWM holdings file, a URL or a local file)
   through :func:`generator.sources.ishares.fetch_membership`: when the file cannot be had, the
   last cached membership, its as-of date stated in the health row.  Only the trimmed membership
   is cached (``index/iwm_membership.json``); the raw file is never written anywhere.
2. The members' daily closes through ``member_prices.fetch_member_panel`` (their own price cache,
   ``index/members.sqlite``), within ``index.budget`` seconds.  When that module is missing or the
   stage fails, the index view is not covered this week and the health row says why.
3. :func:`generator.sources.members.derive_index_view` for the reporting week.

With ``--data cache`` the cached membership and the member cache are read, nothing is asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from generator.errors import SourceError
from generator.models import SourceHealth
from generator.sources.ishares import CACHE_FILE, Membership, fetch_membership, read_membership
from generator.sources.members import derive_index_view
from generator.sources.providers import Deadline, ProviderContext, ProviderResult

log = logging.getLogger(__name__)

PRICES_ROW = "member prices"
PRICES_PROVIDER = "Yahoo Finance (yfinance)"
TOLERATED_MISSING = 0.05  # members without prices: up to this share is normal coverage, not a problem
PanelFetch = Callable[..., Any]
"""``fetch_member_panel(symbols, *, cache_dir, today, ...) -> MemberPanel`` (member_prices' signature)."""


@dataclass(frozen=True)
class _Closes:
    closes: pd.DataFrame | None  # sessions × Yahoo symbols; None: no view this week
    row: SourceHealth


class IndexProvider:
    """Membership and member prices into ``Snapshot.index_view``.  ``panel`` replaces fetch_member_panel."""

    name = "index"
    cache_folder = "index"
    needs: tuple[str, ...] = ()  # the membership, then the member prices: in that order, inside

    def __init__(self, panel: PanelFetch | None = None) -> None:
        self.panel = panel

    def fetch(self, context: ProviderContext) -> ProviderResult:
        try:
            membership, from_cache, row = _membership(context)
        except SourceError as exc:
            log.warning("%s", exc)
            origin = "cache" if context.offline else "none"
            failed = SourceHealth("provider", exc.source, "failed", origin, error=exc.message)
            return ProviderResult(health=(failed,))
        closes = self._closes(context, membership)
        rows = (row, closes.row)
        if closes.closes is None:
            return ProviderResult(membership.source, health=rows)
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
            broken = SourceHealth("provider", "index view", "failed", "none", error=f"not derived: {exc}")
            return ProviderResult(membership.source, health=(*rows, broken))
        return ProviderResult(membership.source, health=rows, index_view=view)

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
            return _Closes(None, _prices_row("failed", context, error=why))
        if closes.empty or pd.DatetimeIndex(closes.index).max().date() < context.week_start:
            why = error or f"no member prices in the week of {context.week_start}"
            return _Closes(None, _prices_row("failed", context, error=why))
        newest = pd.DatetimeIndex(closes.index).max().date()
        status = "cached" if context.offline else "ok"
        return _Closes(closes, _prices_row(status, context, covered, newest, error))

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
        log.info("member prices: breadth from %s", panel.coverage)
        error = f"breadth from {panel.coverage}" if missing > TOLERATED_MISSING * len(symbols) else ""
        return panel.closes, len(symbols) - missing, error


def _member_panel() -> PanelFetch:
    try:
        from generator.sources.member_prices import fetch_member_panel
    except ImportError as exc:
        raise SourceError(PRICES_ROW, f"the member prices module is not available ({exc})") from None
    return fetch_member_panel


def _membership(context: ProviderContext) -> tuple[Membership, bool, SourceHealth]:
    """The membership, whether it is the cached one, and its health row."""
    holdings = context.config.index.holdings
    cache = context.cache_dir / CACHE_FILE
    if context.offline:
        if not cache.is_file():
            raise SourceError("index membership", "not cached")
        membership = read_membership(cache)
        return membership, True, _membership_row(membership, "cached", "cache", "")
    settings = context.config.index
    deadline = Deadline(2 * settings.timeout, "holdings")  # room for a retry after a server error
    download = context.downloader("index membership", settings.timeout, deadline)
    got = fetch_membership(holdings, lambda url: download(url, None), context.cache_dir)
    membership = got.membership
    if got.from_cache:
        error = f"{got.problem}; last cached membership as of {membership.as_of.isoformat()}"
        return membership, True, _membership_row(membership, "cached", "cache", error)
    return membership, False, _membership_row(membership, "ok", "live", "")


def _membership_row(membership: Membership, status: str, origin: str, error: str) -> SourceHealth:
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
    status: str, context: ProviderContext, count: int = 0, newest: date | None = None, error: str = ""
) -> SourceHealth:
    origin = "cache" if context.offline else ("live" if status == "ok" else "none")
    return SourceHealth("provider", PRICES_ROW, status, origin, count, newest, error, PRICES_PROVIDER)


def _log_progress(done: int, total: int) -> None:
    log.info("member prices: %d of %d members asked", done, total)
