"""Data modes: where a build's snapshot comes from (live, cache, sample, or a snapshot folder).

``auto`` takes live data first, the local cache for whatever live could not give, and
only when neither has the benchmark, the bundled sample (loudly).  ``live`` fails when a
required series is not fresh.  Nothing here reads the clock: ``today`` and ``now`` come in.

The snapshot is composed from the providers (:mod:`generator.sources.providers`): Yahoo prices,
Yahoo fund data, the feeds, FRED, the official calendars, the index members, their earnings
calendar and their fundamentals, each within its own deadline, in its own cache folder, adding its
own health rows and its own manifest block.  They run side by side (:data:`WORKERS` at a time); one
that ``needs`` another waits for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from generator.errors import DataUnavailableError
from generator.formatting import counted_sources
from generator.models import WEEKDAYS, Config, ProviderBlock, Snapshot, SourceHealth, SourceStatus
from generator.sources.blocks import status_of
from generator.sources.core_providers import full_history_symbols as full_history_symbols  # re-exported
from generator.sources.core_providers import price_cache_path as price_cache_path  # re-exported
from generator.sources.providers import (
    Provider,
    ProviderContext,
    ProviderResult,
    Transport,
    merge,
    registered,
    run,
)
from generator.sources.yahoo_client import keep_yfinance_cache_in

log = logging.getLogger(__name__)

MODES = ("auto", "live", "cache", "sample")
WORKERS = 4  # providers fetching at once: they wait on the network, each within its own deadline
__all__ = [
    "MODES", "SAMPLE_WARNING", "Transport", "fall_back_to_sample", "gather", "load_sample",
    "price_cache_path",
]  # fmt: skip


SAMPLE_WARNING = (
    "NO LIVE OR CACHED DATA: this brief is built from the bundled SAMPLE snapshot. "
    "SAMPLE DATA — illustrative, not market data."
)


def gather(
    config: Config,
    mode: str,
    *,
    today: date,
    now: datetime,
    cache_dir: Path,
    week_start: date,
    transport: Transport | None = None,
    providers: Sequence[Provider] | None = None,
) -> Snapshot:
    """Return the snapshot a build of the week starting ``week_start`` should use.

    ``transport`` replaces the network for tests and the benchmark (a yfinance session, a DNS
    resolver, a download callable); by default the real network is used.  ``providers`` replaces
    the registered providers (:func:`generator.sources.providers.registered`).
    """
    if mode == "sample":
        return load_sample()
    chosen = registered(config) if providers is None else tuple(providers)
    context = ProviderContext(
        config=config,
        offline=mode == "cache",
        today=today,
        now=now,
        week_start=week_start,
        week_end=week_end(week_start, config.brief.week_ends_on),
        cache_dir=cache_dir,
        transport=transport or Transport(),
    )
    snapshot = compose(chosen, context)
    if mode == "cache":
        if config.slots.benchmark not in snapshot.series:
            raise DataUnavailableError(config.slots.benchmark, f"not in the cache at {cache_dir}")
        return snapshot
    if mode == "live":
        _require_fresh(config, snapshot, week_start)
        return snapshot
    if config.slots.benchmark in snapshot.series:
        return snapshot
    return fall_back_to_sample([h for h in snapshot.health if h.status == SourceStatus.FAILED])


def fall_back_to_sample(failed: Sequence[SourceHealth]) -> Snapshot:
    """The bundled sample, its first note saying why (``failed``: the sources that failed), loudly.

    The failed sources' rows come first in its source health, each with its reason, above the
    sample's own rows: the brief's Source health names what failed, not only what stood in.
    """
    why = f" Live and cached sources failed: {_summarise(failed)}." if failed else ""
    log.warning("%s%s", SAMPLE_WARNING, why)
    sample = load_sample()
    return replace(sample, notes=(SAMPLE_WARNING + why, *sample.notes), health=(*failed, *sample.health))


def week_end(week_start: date, week_ends_on: str) -> date:
    """The reporting week's last day: the first ``week_ends_on`` on or after ``week_start``."""
    ends = WEEKDAYS.index(week_ends_on.strip().lower())
    return week_start + timedelta(days=(ends - week_start.weekday()) % 7)


def compose(providers: Sequence[Provider], context: ProviderContext, *, workers: int = WORKERS) -> Snapshot:
    """Run the providers, ``workers`` at a time, each in its own cache folder and within its own deadline.

    A provider starts once every provider it ``needs`` is done, and sees their series (and those of
    what they need) and nothing else; the others run side by side.  The results are taken in the
    order of ``providers`` whatever order they finish in, so the snapshot is the same either way.
    """
    chosen = tuple(providers)
    upstream = _upstream(chosen)
    if not context.offline:
        context.cache_dir.mkdir(parents=True, exist_ok=True)
        keep_yfinance_cache_in(context.cache_dir / "yfinance")
    results: dict[int, ProviderResult] = {}
    waiting = list(range(len(chosen)))
    running: dict[Future[ProviderResult], int] = {}
    failure: BaseException | None = None
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="provider")
    try:
        while waiting or running:
            ready = [i for i in waiting if failure is None and set(upstream[i]) <= results.keys()]
            for i in ready[: max(1, workers) - len(running)]:  # the first registered goes first
                waiting.remove(i)
                own = _own_folder(chosen[i], context)
                done = merge([results[j] for j in upstream[i]])
                mine = replace(
                    context, cache_dir=own, series=done.series, halted=done.halted, membership=done.membership
                )
                running[pool.submit(_timed, chosen[i], mine)] = i
            if failure is not None:
                waiting.clear()  # a provider broke (not a SourceError): start nothing more
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                i = running.pop(future)
                try:
                    results[i] = future.result()
                except BaseException as exc:  # re-raised once the running providers are done
                    failure = failure or exc
    except BaseException:
        # Ctrl-C (or a bug here): leave without waiting for each provider's own deadline, up to a
        # minute for a slow feed; a provider's failure is re-raised above only once the others are done.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if failure is not None:
        raise failure
    ordered = [results[i] for i in range(len(chosen))]
    blocks = tuple(_block(p, r, context) for p, r in zip(chosen, ordered, strict=True))
    return replace(_assemble(context, merge(ordered)), blocks=blocks)


def _upstream(providers: Sequence[Provider]) -> list[tuple[int, ...]]:
    """For each provider, the positions of what it needs, directly or through what those need.

    A provider may only need one registered before it (so there is no cycle); a need that is
    not registered (turned off in feeds.yaml) is not waited for.
    """
    position: dict[str, int] = {}
    found: list[tuple[int, ...]] = []
    for i, provider in enumerate(providers):
        if provider.name in position:
            raise ValueError(f"two providers are named {provider.name!r}")
        mine: set[int] = set()
        for name in provider.needs:
            if name in position:
                mine |= {position[name], *found[position[name]]}
            elif any(later.name == name for later in providers[i:]):  # itself or a later one: a cycle
                raise ValueError(f"provider {provider.name!r} needs {name!r}, not registered before it")
            else:
                log.debug("%s: needs %s, which is not registered; runs without it", provider.name, name)
        found.append(tuple(sorted(mine)))
        position[provider.name] = i
    return found


def _own_folder(provider: Provider, context: ProviderContext) -> Path:
    own = context.cache_dir / provider.cache_folder if provider.cache_folder else context.cache_dir
    if not context.offline:
        own.mkdir(parents=True, exist_ok=True)
    return own


def _timed(provider: Provider, context: ProviderContext) -> ProviderResult:
    start = time.perf_counter()
    log.debug("%s: started", provider.name)
    result = run(provider, context)
    log.debug(
        "%s: done in %.2f s (%d health rows, %d series, %d feeds)",
        provider.name, time.perf_counter() - start, len(result.health), len(result.series), len(result.feeds),
    )  # fmt: skip
    return result


def _block(provider: Provider, result: ProviderResult, context: ProviderContext) -> ProviderBlock:
    """The provider's block of the snapshot manifest: what it gave, when, and how it went."""
    r = result
    parts = (r.series, r.feeds, r.valuation, r.index_view, r.universes, r.events, r.earnings, r.fundamentals)
    gave = any(bool(part) for part in parts)
    return ProviderBlock(
        provider.name,
        result.label,
        None if context.offline else context.now,
        status_of(result.health, gave),
        series=tuple(result.series),
        feeds=tuple(result.feeds),
        index=result.index_view is not None,
        universes=tuple(result.universes),
    )


def _summarise(failed: Sequence[SourceHealth]) -> str:
    """``32 symbols and 8 feeds (first: ^RUT — cannot resolve host ...)``; other sources counted too."""
    counted = counted_sources(failed)
    first = failed[0]
    return f"{counted} (first: {first.name} — {first.reason or first.status})"


def load_sample() -> Snapshot:
    from generator.sources.snapshot import load_sample as load

    return load()


def _assemble(context: ProviderContext, result: ProviderResult) -> Snapshot:
    bench = result.series.get(context.config.slots.benchmark)
    as_of = bench.last_bar if bench is not None else context.now.date()
    return Snapshot(
        as_of=as_of,
        built_at=context.now,
        series=dict(result.series),
        feeds=dict(result.feeds),
        is_sample=False,
        provider=result.label,
        health=result.health,
        valuation={k: dict(v) for k, v in result.valuation.items()},
        valuation_as_of=dict(result.valuation_as_of),
        fundamentals=result.fundamentals,
        notes=result.notes,
        index_view=result.index_view,
        universes=dict(result.universes),
        events=result.events,
        calendar_failures=result.calendar_failures,
        earnings=result.earnings,
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
        elif h is not None and h.status != SourceStatus.OK:
            problems.append((instrument.symbol, f"{h.status}: {h.error or 'live fetch failed'}"))
        elif s.last_bar < week_start:
            problems.append((instrument.symbol, f"last bar {s.last_bar} is before the week of {week_start}"))
    if problems:
        # The first symbol is the error's source, said once: "IWM: required data is not fresh (symbol
        # not found on Yahoo Finance; ^RUT: ...)", each reason without its symbol's own prefix.
        whys = [why.removeprefix(f"{sym}: ") for sym, why in problems]
        detail = "; ".join(
            [whys[0], *(f"{sym}: {why}" for (sym, _), why in zip(problems[1:], whys[1:], strict=True))]
        )
        raise DataUnavailableError(problems[0][0], f"required data is not fresh ({detail})")
