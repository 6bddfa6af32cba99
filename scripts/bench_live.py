"""Benchmark part 2 (scripts/bench.py): a warm live rebuild, through the real fetchers, offline.

A loopback feed server serves the bundled sample feeds with ETags; a local Yahoo transport
(tests/yahoo_transport.py) serves the bundled sample's prices as chart-API bodies for the whole
universe.  One cold live build fills the price, valuation and feed caches; then a warm rebuild
on the same Saturday (every cache current, every feed answering 304) is timed stage by stage,
with the HTTP requests it made.  Last, ``--data auto`` with no network at all (every name lookup
fails) is timed until it falls back to the bundled sample.

    .venv/bin/python scripts/bench.py --skip build --skip backfill --runs 1
"""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # the Saturday after the sample's last bar (2026-11-20)
WARM_NOW = NOW + timedelta(hours=1)
SAMPLE_NEWS = ROOT / "generator" / "sources" / "sample" / "news"


def warm_live_rebuild(config: Any, out: Path) -> dict[str, Any]:
    """Time a warm live rebuild of ``config``'s universe and feeds; build folders go under ``out``.

    FRED, the official calendars and the index members are left out: this measures the Yahoo and
    feed path (scripts/bench_members.py measures the member prices).
    """
    from dataclasses import replace

    import pytest

    config = replace(
        config,
        fred=replace(config.fred, series=()),
        calendar=replace(config.calendar, official=(), russell=()),
        index=replace(config.index, holdings=""),
    )
    from feedserver import FeedServer
    from yahoo_transport import YahooTransport, isolate_yfinance, join_market_threads

    from generator.sources.yahoo_client import THREAD_PREFIX

    yahoo = YahooTransport()
    with pytest.MonkeyPatch.context() as patch, FeedServer() as server:
        isolate_yfinance(patch)  # no yfinance caches on disk, no remembered crumb
        # the sample has no valuation bodies: yfinance logs each ETF's 404 as an error
        patch.setattr(logging.getLogger("yfinance"), "disabled", True)
        live = _serve(config, yahoo, server)
        try:
            cold_start = time.perf_counter()
            _run(live, yahoo, out / "cold", out / "cache", NOW)
            cold = time.perf_counter() - cold_start
            yahoo.seen.clear()
            served = len(server.requests)
            result = _timed_warm_run(live, yahoo, out / "warm", out / "cache")
            feeds = server.requests[served:]
        finally:
            yahoo.release.set()
    join_market_threads(THREAD_PREFIX)
    bars = sum(1 for r in yahoo.seen if r.is_history)
    result["requests"] = {
        "prices (bars)": bars,
        "prices (other)": len(yahoo.seen) - bars,
        "feeds": len(feeds),
        "feeds with If-None-Match": sum(1 for r in feeds if r.headers.get("If-None-Match")),
    }
    result["cold_wall_s"] = round(cold, 3)
    result["offline_fallback_s"] = offline_fallback(config, out / "offline")
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def offline_fallback(config: Any, out: Path) -> float:
    """Seconds ``gather(auto)`` takes to fall back to the sample when no name lookup works."""
    import pytest
    from yahoo_transport import YahooTransport, isolate_yfinance, join_market_threads

    from generator.sources.gather import Transport, gather
    from generator.sources.yahoo_client import THREAD_PREFIX

    yahoo = YahooTransport()
    yahoo.offline("dns")
    with pytest.MonkeyPatch.context() as patch:
        isolate_yfinance(patch)
        patch.setattr(logging.getLogger("yfinance"), "disabled", True)
        start = time.perf_counter()
        snapshot = gather(
            config, "auto", today=NOW.date(), now=NOW, cache_dir=out / "cache",
            week_start=NOW.date() - timedelta(days=NOW.weekday()),  # unused by auto
            transport=Transport(session=yahoo.session(), resolver=_no_dns),
        )  # fmt: skip
        seconds = time.perf_counter() - start
    join_market_threads(THREAD_PREFIX)
    assert snapshot.is_sample, "no network: the sample was expected"
    return round(seconds, 3)


def _serve(config: Any, yahoo: Any, server: Any) -> Any:
    """Serve the sample's prices and feeds; return ``config`` pointed at the loopback server."""
    from yahoo_transport import chart_body

    from generator.sources.snapshot import load_sample

    sample = load_sample()
    for instrument in config.universe:
        if instrument.symbol in sample.series:
            yahoo.chart(
                instrument.symbol, chart_body(instrument.symbol, sample.series[instrument.symbol].frame)
            )
    feeds = []
    for feed in config.feeds:
        path = SAMPLE_NEWS / f"{feed.name}.xml"
        if path.exists():
            server.serve(f"/{feed.name}.xml", path.read_bytes(), etag=f'"{feed.name}-sample"')
        feeds.append(replace(feed, url=server.url(f"/{feed.name}.xml")))
    network = replace(config.network, allow_hosts=("127.0.0.1",))
    return replace(config, feeds=tuple(feeds), network=network)


def _run(config: Any, yahoo: Any, out: Path, cache_dir: Path, now: datetime, timings: Any = None) -> Any:
    """One live build: gather (prices, valuation, feeds) and html + md + pdf."""
    from generator.analysis import reporting_week
    from generator.build import build_from_snapshot
    from generator.sources.gather import Transport, gather

    today = now.date()
    transport = Transport(session=yahoo.session(), resolver=_no_dns)
    week_start = reporting_week(today, config.brief.week_ends_on)[0]
    with timings.stage("gather") if timings is not None else _nothing():
        snapshot = gather(
            config,
            "live",
            today=today,
            now=now,
            cache_dir=cache_dir,
            week_start=week_start,
            transport=transport,
        )
    return build_from_snapshot(
        config, snapshot, as_of=today, out=out, timings=timings, seen_path=cache_dir / "headlines.json"
    )


def _timed_warm_run(config: Any, yahoo: Any, out: Path, cache_dir: Path) -> dict[str, Any]:
    import generator.sources.news as news
    import generator.sources.valuation as valuation
    import generator.sources.yahoo as yahoo_prices
    from generator.build import Timings

    timings = Timings()
    gather_parts: dict[str, float] = {}
    start = time.perf_counter()
    with (
        _timed(yahoo_prices, "fetch_prices", gather_parts),
        _timed(valuation, "fetch_etf_valuation", gather_parts),
        _timed(news, "fetch_feeds", gather_parts),
    ):
        result = _run(config, yahoo, out, cache_dir, WARM_NOW, timings)
    wall = time.perf_counter() - start
    stages: dict[str, float] = {}
    for name, seconds in timings.stages.items():
        stages[name] = round(seconds, 3)
        if name == "gather":
            stages["  prices"] = round(gather_parts.get("fetch_prices", 0.0), 3)
            stages["  valuation"] = round(gather_parts.get("fetch_etf_valuation", 0.0), 3)
            stages["  feeds"] = round(gather_parts.get("fetch_feeds", 0.0), 3)
    stages["total"] = round(wall, 3)
    health = result.brief.health
    return {
        "wall_s": round(wall, 3),
        "stages_s": stages,
        "health": {
            "symbols ok from cache": sum(1 for h in health if h.kind == "symbol" and h.origin == "cache"),
            "feeds not modified": sum(1 for h in health if h.status == "not modified"),
            "problems": sum(1 for h in health if h.status not in ("ok", "not modified")),
        },
    }


@contextmanager
def _timed(module: Any, name: str, into: dict[str, float]) -> Iterator[None]:
    """Time every call of ``module.name`` (gather imports it from the module at call time)."""
    original: Callable[..., Any] = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into[name] = into.get(name, 0.0) + time.perf_counter() - start

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, original)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"no name lookups in the benchmark ({host})")


if __name__ == "__main__":  # the offline fallback alone: .venv/bin/python scripts/bench_live.py
    import tempfile

    from generator.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        seconds = offline_fallback(load_config(ROOT / "feeds.yaml"), Path(tmp))
    print(f"--data auto with no network: the sample after {seconds:.2f} s (target 2 s)")
