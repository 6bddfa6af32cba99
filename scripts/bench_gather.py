"""Benchmark: a cold ``gather`` of all six providers, in turn and side by side, offline on loopback.

Every provider runs its real code against the test servers (tests/feedserver.py for the feeds,
FRED, the official calendars and the iShares holdings file; tests/yahoo_transport.py for Yahoo
prices, fund data and the members' prices): the bundled sample's prices and feeds, the issue-8
fixtures (tests/data/issue8), with ``--members`` synthetic members added to the holdings file, and
synthetic bars for every member.  Each answer can
be held back ``--latency`` seconds, as a real network would; on loopback without it, the stage is
bound by the two cores, not by waiting.

After a warm-up run (imports), for each latency a cold gather (empty cache) runs with one
provider at a time and with ``gather.WORKERS`` at a time; it reports the wall time, each
provider's own time (from gather's DEBUG log) and whether the two snapshots are the same bytes.

    .venv/bin/python scripts/bench_gather.py [--latency 0 --latency 0.1] [--members 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from feedserver import FeedServer  # noqa: E402
from yahoo_transport import Reply, YahooTransport, chart_body, isolate_yfinance, join_market_threads  # noqa: E402

from generator.analysis import reporting_week  # noqa: E402
from generator.config import load_config  # noqa: E402
from generator.models import Config  # noqa: E402
from generator.sources import gather as gathering  # noqa: E402
from generator.sources.core_providers import Feeds, YahooFundData, YahooPrices  # noqa: E402
from generator.sources.fred import FredProvider  # noqa: E402
from generator.sources.index_provider import IndexProvider  # noqa: E402
from generator.sources.ishares import parse_holdings  # noqa: E402
from generator.sources.official_calendar import SOURCES, CalendarProvider  # noqa: E402
from generator.sources.providers import Provider, ProviderContext, Transport  # noqa: E402
from generator.sources.snapshot import load_sample, write_snapshot  # noqa: E402
from generator.sources.yahoo_client import THREAD_PREFIX  # noqa: E402

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # the Saturday after the sample's last bar
DATA = ROOT / "tests" / "data" / "issue8"
SAMPLE_NEWS = ROOT / "generator" / "sources" / "sample" / "news"
FRED_SERIES = ("DGS2", "DGS10", "T10Y2Y", "BAMLH0A0HYM2")
CALENDARS = {"fed": ("fed_calendar.json", "application/json"), "bls": ("bls.ics", "text/calendar"),
             "bea": ("bea_release_dates.json", "application/json")}  # fmt: skip
DONE = re.compile(r"^(?P<name>[\w-]+): done in (?P<seconds>[\d.]+) s")


class SlowYahoo(YahooTransport):
    """The test transport, each answer with data (bars, fund data) held back ``latency`` seconds.

    The cookie and crumb requests are not: yfinance asks them under one lock before every request
    when, as here, it cannot keep the cookie, which would queue every thread behind that lock; in
    real use it asks them once.
    """

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def answer(self, method: str, url: str) -> Reply:
        if "/finance/chart/" in url or "/finance/quoteSummary/" in url:
            time.sleep(self.latency)
        return super().answer(method, url)


def _no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"no name lookups in the benchmark ({host})")


def _holdings(members: int) -> bytes:
    """The holdings fixture with ``members`` more synthetic members (XAAA, XAAB, ...) after its header."""
    data = (DATA / "IWM_holdings_synthetic.csv").read_bytes()
    header = data.index(b"\nTicker,") + 1
    first_row = data.index(b"\n", header) + 1
    rows = []
    for n in range(members):
        ticker = "X" + "".join(chr(65 + (n // 26**k) % 26) for k in (2, 1, 0))
        sector = ("Financials", "Industrials", "Health Care", "Information Technology")[n % 4]
        rows.append(
            f'"{ticker}","SYNTHETIC MEMBER {n}","{sector}","Equity","1,000,000.00","0.01","1,000,000.00",'
            f'"50,000.00","20.00","United States","NYSE","USD","1.00","USD","-"\n'
        )
    return data[:first_row] + "".join(rows).encode() + data[first_row:]


def _serve(
    server: FeedServer, yahoo: YahooTransport, latency: float, members: int
) -> tuple[Config, list[Provider]]:
    """Everything the six providers ask for, on loopback; the config and the providers pointed at it."""
    from test_live import synthetic_bars  # tests/test_live.py: a deterministic walk per symbol

    config = load_config(ROOT / "feeds.yaml")
    sample = load_sample()
    for instrument in config.universe:
        if instrument.symbol in sample.series:
            frame = sample.series[instrument.symbol].frame
            yahoo.chart(instrument.symbol, chart_body(instrument.symbol, frame))
    for symbol in ("IWM", "IJR"):
        yahoo.summary(symbol, ROOT / "tests" / "data" / "yahoo" / f"quoteSummary-{symbol}.body.json")
    feeds = []
    for feed in config.feeds:
        body = (SAMPLE_NEWS / f"{feed.name}.xml").read_bytes()
        feeds.append(replace(feed, url=server.serve(f"/news/{feed.name}.xml", body, delay=latency)))
    for series in FRED_SERIES:
        body = (DATA / f"fredgraph_{series}.csv").read_bytes()
        server.serve(f"/fred/{series}.csv", body, content_type="text/csv", delay=latency)
    sources = []
    for source in SOURCES:
        name, media = CALENDARS[source.key]
        url = server.serve(f"/cal/{name}", (DATA / name).read_bytes(), content_type=media, delay=latency)
        sources.append(replace(source, url=url))
    holdings = _holdings(members)
    for member in parse_holdings(holdings).members:
        yahoo.chart(member.yahoo_symbol, chart_body(member.yahoo_symbol, synthetic_bars(member.yahoo_symbol)))
    holdings_url = server.serve("/IWM_holdings.csv", holdings, content_type="text/csv", delay=latency)
    config = replace(
        config,
        feeds=tuple(feeds),
        network=replace(config.network, allow_hosts=("127.0.0.1",)),
        fred=replace(config.fred, series=FRED_SERIES),
        index=replace(config.index, holdings=holdings_url, pause=0.0),
    )
    providers: list[Provider] = [
        YahooPrices(), YahooFundData(), Feeds(), FredProvider(url=server.url("/fred/{series}.csv")),
        CalendarProvider(sources), IndexProvider(),
    ]  # fmt: skip  # the order of providers.registered
    return config, providers


@contextmanager
def _provider_times() -> Iterator[dict[str, float]]:
    """Each provider's own time, read from gather's DEBUG lines."""
    times: dict[str, float] = {}

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found = DONE.match(record.getMessage())
            if found:
                times[found["name"]] = float(found["seconds"])

    logger = logging.getLogger(gathering.__name__)
    handler, level, propagate = Catch(logging.DEBUG), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # the DEBUG lines are read here, not shown
    try:
        yield times
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def cold_gather(server: FeedServer, latency: float, workers: int, out: Path, members: int) -> dict[str, Any]:
    """One cold gather of all six providers; its snapshot is written under ``out``."""
    yahoo = SlowYahoo(latency)
    served = len(server.requests)
    with pytest.MonkeyPatch.context() as patch:
        isolate_yfinance(patch)
        patch.setattr(logging.getLogger("yfinance"), "disabled", True)
        config, providers = _serve(server, yahoo, latency, members)
        week_start, week_end = reporting_week(NOW.date(), config.brief.week_ends_on)
        context = ProviderContext(
            config=config, offline=False, today=NOW.date(), now=NOW, week_start=week_start,
            week_end=week_end, cache_dir=out / "cache",
            transport=Transport(session=yahoo.session(), resolver=_no_dns),
        )  # fmt: skip
        try:
            with _provider_times() as times:
                start = time.perf_counter()
                snapshot = gathering.compose(providers, context, workers=workers)
                wall = time.perf_counter() - start
        finally:
            yahoo.release.set()
    join_market_threads(THREAD_PREFIX)
    write_snapshot(snapshot, out / "snapshot")
    return {
        "wall_s": round(wall, 2),
        "providers_s": {name: times.get(name) for name in (p.name for p in providers)},
        "sum_of_providers_s": round(sum(times.values()), 2),
        "blocks": {b.name: b.status for b in snapshot.blocks},
        "requests": {"yahoo": len(yahoo.seen), "loopback http": len(server.requests) - served},
    }


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def bench(latencies: list[float], members: int) -> dict[str, Any]:
    report: dict[str, Any] = {"workers": gathering.WORKERS, "index members": members + 15}
    with tempfile.TemporaryDirectory(prefix="bench-gather-") as tmp, FeedServer() as server:
        cold_gather(server, 0.0, gathering.WORKERS, Path(tmp), 0)  # warm-up: imports, first-use costs
    for latency in latencies:
        with tempfile.TemporaryDirectory(prefix="bench-gather-") as tmp, FeedServer() as server:
            one = cold_gather(server, latency, 1, Path(tmp) / "one", members)
            many = cold_gather(server, latency, gathering.WORKERS, Path(tmp) / "many", members)
            same = _tree(Path(tmp) / "one" / "snapshot") == _tree(Path(tmp) / "many" / "snapshot")
        report[f"latency {latency:g} s"] = {
            "in turn": one,
            "side by side": many,
            "speed-up": round(one["wall_s"] / many["wall_s"], 2) if many["wall_s"] else None,
            "same snapshot bytes": same,
        }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, action="append", help="seconds per answer (repeatable)")
    parser.add_argument("--members", type=int, default=200, help="synthetic index members beyond the 15")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    report = bench(args.latency or [0.0, 0.1], args.members)
    text = json.dumps(report, indent=2)
    sys.stdout.write(text + "\n")
    if args.json:
        args.json.write_text(text + "\n")
    same = all(v["same snapshot bytes"] for k, v in report.items() if k.startswith("latency"))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
