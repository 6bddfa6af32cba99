"""Degraded live builds end to end, offline, through the real fetchers and the real build.

yfinance runs its own request and parsing code against a local Yahoo transport
(tests/yahoo_transport.py) that serves chart-API bodies written here from a synthetic series;
the feed client fetches the bundled sample feeds from a loopback server (tests/feedserver.py).
``now`` is Saturday 2026-11-21, so the reporting week (2026-11-16 to 2026-11-20) is complete.

:func:`synthetic_bars` is also used by scripts/bench_live.py.
"""

from __future__ import annotations

import copy
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from feedserver import FeedServer
from yahoo_transport import NOT_FOUND, YahooTransport, chart_body, isolate_yfinance, join_market_threads

from generator.analysis import reporting_week
from generator.build import BuildResult, build_from_snapshot
from generator.cli import cli
from generator.config import load_config
from generator.errors import DataUnavailableError
from generator.models import Cite, Config, Figure, Snapshot, SourceHealth
from generator.sources.calendar import trading_days
from generator.sources.gather import SAMPLE_WARNING, Transport, gather, price_cache_path
from generator.sources.price_cache import PriceCache
from generator.sources.yahoo_client import THREAD_PREFIX
from tests.conftest import ROOT

NY = ZoneInfo("America/New_York")
FRIDAY = date(2026, 11, 20)
WEEK_START = date(2026, 11, 16)
NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # Saturday morning in New York
LATER = NOW + timedelta(hours=1)
PREVIOUS_SATURDAY = NOW - timedelta(days=7)
FIRST_BAR = date(2025, 6, 2)
YAHOO_BODIES = ROOT / "tests" / "data" / "yahoo"
SAMPLE_NEWS = ROOT / "generator" / "sources" / "sample" / "news"

EXTRA = ("IJR", "PSCE", "PSCT")  # optional symbols beyond the ones feeds.yaml's analysis block names
FEEDS = ("cnbc-investing", "cnbc-economy", "marketwatch-top", "yahoo-iwm", "fed-press")
LEVELS = {"^RUT": 2400.0, "^GSPC": 6500.0, "^IXIC": 21000.0, "^RUI": 3600.0, "^SP600": 1400.0}
LEVELS |= {"^IRX": 4.0, "^FVX": 4.1, "^TNX": 4.3, "^TYX": 4.6, "^VIX": 17.0, "^RVX": 22.0}
NO_VOLUME = ("^IRX", "^FVX", "^TNX", "^TYX", "^VIX", "^RVX")  # Yahoo sends volume 0 for these


# -- chart-API bodies -------------------------------------------------------------------------------


def synthetic_bars(symbol: str, first: date = FIRST_BAR, last: date = FRIDAY) -> pd.DataFrame:
    """A deterministic random walk per symbol, one bar per NYSE session (illustrative, not market data)."""
    days = trading_days(first, last)
    rng = np.random.default_rng(zlib.crc32(symbol.encode()))
    close = LEVELS.get(symbol, 100.0) * np.exp(np.cumsum(rng.normal(0.0003, 0.01, len(days))))
    spread = np.abs(rng.normal(0, 0.004, len(days))) * close
    volume = np.zeros(len(days)) if symbol in NO_VOLUME else rng.integers(1_000_000, 9_000_000, len(days))
    frame = pd.DataFrame(
        {
            "Open": close * (1 + rng.normal(0, 0.002, len(days))),
            "High": close + 2 * spread,
            "Low": close - 2 * spread,
            "Close": close,
            "Adj Close": close * 0.99,
            "Volume": volume.astype(float),
        },
        index=pd.DatetimeIndex(pd.to_datetime(days), name="Date"),
    )
    frame["High"] = frame[["Open", "High", "Close"]].max(axis=1)
    frame["Low"] = frame[["Open", "Low", "Close"]].min(axis=1)
    return frame.round(4)


def empty_body(symbol: str) -> dict[str, Any]:
    """What Yahoo sends for a symbol it knows but has no bars for in the range."""
    body = copy.deepcopy(_body(symbol, FRIDAY))
    result = body["chart"]["result"][0]
    del result["timestamp"]
    result["indicators"] = {"quote": [{}]}
    return body


@lru_cache(maxsize=64)
def _cached_body(symbol: str, last: date) -> str:
    return json.dumps(chart_body(symbol, synthetic_bars(symbol, last=last)))


def _body(symbol: str, last: date) -> dict[str, Any]:
    """A fresh copy of the body for ``symbol``'s synthetic bars up to ``last``."""
    body: dict[str, Any] = json.loads(_cached_body(symbol, last))
    return body


# -- the rig: config, Yahoo transport, feed server, cache -------------------------------------------


def write_config(path: Path, server: FeedServer) -> Config:
    """feeds.yaml cut to the analysis' symbols plus :data:`EXTRA`, and to :data:`FEEDS` on loopback.

    Written to ``path`` and read back by ``load_config``, so it is a valid configuration and the
    command line can load the very same one.
    """
    doc = yaml.safe_load((ROOT / "feeds.yaml").read_text(encoding="utf-8"))
    analysis = doc["analysis"]
    named = {v for k, v in analysis.items() if k != "ladder_labels" and isinstance(v, str)}
    keep = named | set(analysis["ladder"]) | set(EXTRA)
    doc["universe"] = [u for u in doc["universe"] if u["symbol"] in keep]
    doc["news"] = [{**n, "url": server.url(f"/{n['name']}.xml")} for n in doc["news"] if n["name"] in FEEDS]
    doc["network"] |= {"allow_hosts": ["127.0.0.1"], "feed_timeout": 5, "feed_deadline": 10}
    doc["network"] |= {"market_deadline": 30}
    # FRED, the official calendars and the index members are off here (tests/test_providers.py).
    doc |= {"fred": {"series": []}, "calendar": {"official": [], "russell": []}, "index": {"holdings": ""}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_config(path)


def no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"no name lookups in tests ({host})")


@dataclass
class Rig:
    config: Config
    yahoo: YahooTransport
    feeds: FeedServer
    root: Path

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    def gather(self, mode: str = "auto", now: datetime = NOW, config: Config | None = None) -> Snapshot:
        today = now.astimezone(NY).date()
        week_start = reporting_week(today, self.config.brief.week_ends_on)[0]
        return gather(
            config or self.config,
            mode,
            today=today,
            now=now,
            cache_dir=self.cache_dir,
            week_start=week_start,
            transport=Transport(session=self.yahoo.session(), resolver=no_dns),
        )

    def build(
        self, snapshot: Snapshot, out: str = "out", formats: tuple[str, ...] = ("html",)
    ) -> BuildResult:
        return build_from_snapshot(
            self.config,
            snapshot,
            as_of=NOW.date(),
            out=self.root / out,
            formats=formats,
            seen_path=self.cache_dir / "headlines.json",
        )

    def with_network(self, **changes: Any) -> Config:
        return replace(self.config, network=replace(self.config.network, **changes))


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    isolate_yfinance(monkeypatch)
    yahoo = YahooTransport()
    with FeedServer() as server:
        config = write_config(tmp_path / "feeds.yaml", server)
        for symbol in config.symbols:
            yahoo.chart(symbol, _body(symbol, FRIDAY))
        yahoo.summary("IWM", YAHOO_BODIES / "quoteSummary-IWM.body.json")
        yahoo.summary("IJR", YAHOO_BODIES / "quoteSummary-IJR.body.json")
        for feed in config.feeds:
            body = (SAMPLE_NEWS / f"{feed.name}.xml").read_bytes()
            server.serve(f"/{feed.name}.xml", body, etag=f'"{feed.name}-v1"')
        yield Rig(config, yahoo, server, tmp_path)
        yahoo.release.set()
    join_market_threads(THREAD_PREFIX)


def rows(snapshot_or_brief: Any, kind: str | None = None) -> dict[str, SourceHealth]:
    return {h.name: h for h in snapshot_or_brief.health if kind is None or h.kind == kind}


def figures_of(result: BuildResult, symbol: str) -> list[Figure]:
    return [f for f in result.brief.figures() if symbol in f.provenance.symbols]


def assert_dated_the_reporting_friday(figures: Iterable[Figure]) -> None:
    """Every available figure uses the reporting Friday's bar, but for comparisons with earlier weeks
    and the funds' valuation ratios, dated by the day Yahoo was asked for them."""
    dated = [
        f
        for f in figures
        if f.available and f.provenance.last_bar is not None and not f.key.startswith("valuation.")
    ]
    assert len(dated) > 50 and max(f.provenance.last_bar for f in dated) == FRIDAY  # type: ignore[type-var]
    earlier = {f.key.split(".")[0] for f in dated if f.provenance.last_bar != FRIDAY}
    assert earlier <= {"lastweek", "bestweek"}, earlier


def html_of(result: BuildResult) -> str:
    return (result.folder / "brief.html").read_text(encoding="utf-8")


def health_row(html: str, name: str) -> str:
    """The HTML of ``name``'s row in the source-health table."""
    table = html.split('id="source-health"', 1)[1].split("</table>", 1)[0]
    found = [row for row in table.split("<tr")[1:] if f">{escape(name)}<" in row]
    assert len(found) == 1, f"{name} has {len(found)} rows in the source-health table"
    return found[0]


# -- every source answers ---------------------------------------------------------------------------


def test_all_sources_fine_builds_a_fresh_brief_dated_the_reporting_friday(rig: Rig) -> None:
    snapshot = rig.gather("live")
    assert {(h.kind, h.status, h.origin) for h in snapshot.health} == {
        ("symbol", "ok", "live"),
        ("feed", "ok", "live"),
        ("provider", "ok", "live"),  # the funds' valuation: IWM and IJR answered
    }
    assert len(snapshot.health) == len(rig.config.universe) + len(rig.config.feeds) + 1
    fund = next(h for h in snapshot.health if h.kind == "provider")
    assert (fund.name, fund.count, fund.error) == ("fund valuation", 2, "")
    assert snapshot.as_of == FRIDAY and not snapshot.is_sample
    # yfinance's own caches (the symbols' time zones, its cookie) are the run's, in its cache folder
    from yfinance import cache

    assert cache._TzDBManager.get_location() == str(rig.cache_dir / "yfinance")
    result = rig.build(snapshot, formats=("html", "md"))
    brief = result.brief
    assert (brief.as_of, brief.week_start, brief.week_end) == (FRIDAY, WEEK_START, FRIDAY)
    assert brief.warnings == ()
    assert all(h.status == "ok" for h in brief.health)
    cited = [part.figure for t in brief.takeaways for part in t.prose if isinstance(part, Cite)]
    assert {f.provenance.last_bar for f in (brief.headline_figure, *cited)} == {FRIDAY}
    assert_dated_the_reporting_friday(brief.figures())
    assert not any(f.stale for f in brief.figures())
    pe = next(f for f in brief.figures() if f.key == "valuation.IWM.trailingPE")
    assert pe.value == 18.74 and "Yahoo Finance" in pe.provenance.provider
    assert pe.provenance.last_bar == NOW.date()  # read on the Saturday
    assert {h.feed for h in brief.headlines} <= set(FEEDS) and brief.headlines
    assert "stale, last bar" not in html_of(result)


# -- feeds fail -------------------------------------------------------------------------------------


def test_failed_and_hung_feeds_are_named_in_plain_words_and_the_brief_still_builds(rig: Rig) -> None:
    rig.feeds.serve("/cnbc-economy.xml", b"Internal error", status=500, content_type="text/plain")
    rig.feeds.serve("/marketwatch-top.xml", hang=True)
    config = rig.with_network(feed_timeout=10.0, feed_deadline=1.0)
    snapshot = rig.gather("auto", config=config)
    feeds = rows(snapshot, "feed")
    assert (feeds["cnbc-economy"].status, feeds["cnbc-economy"].error) == (
        "failed",
        "HTTP 500 Internal Server Error",
    )
    assert (feeds["marketwatch-top"].status, feeds["marketwatch-top"].error) == (
        "failed",
        "no answer within 1 s",
    )
    assert {feeds[n].status for n in ("cnbc-investing", "yahoo-iwm", "fed-press")} == {"ok"}
    result = rig.build(snapshot)
    health = rows(result.brief, "feed")
    assert health["cnbc-economy"].error == "HTTP 500 Internal Server Error"
    assert health["marketwatch-top"].error == "no answer within 1 s"
    assert "The feed cnbc-economy failed: HTTP 500 Internal Server Error." in result.brief.warnings
    assert "The feed marketwatch-top failed: no answer within 1 s." in result.brief.warnings
    assert not {h.feed for h in result.brief.headlines} & {"cnbc-economy", "marketwatch-top"}
    html = html_of(result)
    for name, error in (("cnbc-economy", "HTTP 500 Internal Server Error"), ("marketwatch-top", "no answer")):
        row = health_row(html, name)
        assert ">failed<" in row and error in row
    assert result.brief.as_of == FRIDAY


# -- an optional symbol fails -----------------------------------------------------------------------


def test_failed_optional_symbols_are_named_and_their_figures_are_not_available(rig: Rig) -> None:
    rig.yahoo.fail("IJR", 404, json.dumps(NOT_FOUND).encode())  # Yahoo: "symbol may be delisted"
    rig.yahoo.chart("PSCT", empty_body("PSCT"))  # Yahoo knows PSCT but sends no bars
    errors = {
        "IJR": "IJR: symbol not found on Yahoo Finance",
        "PSCT": "PSCT: no data returned by Yahoo Finance",
    }
    snapshot = rig.gather("live")  # both are optional: --data live still builds
    result = rig.build(snapshot, formats=("html", "md"))
    brief, html = result.brief, html_of(result)
    for symbol, error in errors.items():
        assert symbol not in snapshot.series
        row = rows(snapshot)[symbol]
        assert (row.status, row.origin, row.count, row.error) == ("failed", "none", 0, error)
        assert f"The symbol {symbol} failed: {error}." in brief.warnings
        figures = figures_of(result, symbol)
        assert not any(f.available for f in figures)  # the brief shows no figure of it (it says why once)
        assert all(f.value is None for f in figures if f.provenance.symbols == (symbol,))
        html_row = health_row(html, symbol)
        assert ">failed<" in html_row and f"<td>{error.removeprefix(symbol + ': ')}</td>" in html_row
    assert [n for n in brief.not_covered if n.endswith(": no data")] == [
        "iShares Core S&P Small-Cap ETF (IJR): no data",
        "Invesco S&P SmallCap Information Technology ETF (PSCT): no data",
    ]
    assert all(h.status == "ok" for h in brief.health if h.name not in errors)
    assert brief.as_of == FRIDAY


def test_optional_symbol_without_this_weeks_bars_is_flagged_stale_never_shown_as_current(rig: Rig) -> None:
    rig.yahoo.chart("PSCE", _body("PSCE", FRIDAY - timedelta(days=7)))  # Yahoo has nothing after 11-13
    rig.gather("auto", now=PREVIOUS_SATURDAY)  # last week's run: every cache ends on 2026-11-13
    snapshot = rig.gather("auto")
    (ask,) = rig.yahoo.history_requests("PSCE")[-1:]
    assert int(ask.params["period1"]) == int(datetime(2026, 11, 13, tzinfo=NY).timestamp())
    row = rows(snapshot)["PSCE"]
    assert (row.status, row.newest) == ("stale", date(2026, 11, 13))
    assert row.error == "PSCE: newest complete bar is 2026-11-13, expected 2026-11-20"
    assert snapshot.series["PSCE"].last_bar == date(2026, 11, 13)
    assert snapshot.series["^RUT"].last_bar == FRIDAY
    result = rig.build(snapshot, formats=("html", "md"))
    psce = figures_of(result, "PSCE")
    assert not any(f.available for f in psce)  # never shown as current
    own = [f for f in psce if f.provenance.symbols == ("PSCE",)]
    assert own == []  # none of its own figures is in the brief (this said all of them were stale: of none)
    assert "Invesco S&P SmallCap Energy ETF (PSCE): stale, last bar 2026-11-13" in result.brief.not_covered
    html = html_of(result)
    assert "(PSCE): stale, last bar 2026-11-13" in html  # named once, under "Not covered"
    html_row = health_row(html, "PSCE")
    assert ">stale<" in html_row and "newest complete bar is 2026-11-13" in html_row
    assert_dated_the_reporting_friday(f for f in result.brief.figures() if "PSCE" not in f.provenance.symbols)


# -- a Friday the exchange was closed ----------------------------------------------------------------


def test_live_week_ending_on_a_friday_closure_is_fresh_and_reported_through_thursday(rig: Rig) -> None:
    """2004-06-11, a Friday, was a day of mourning: the week's last session is Thursday 2004-06-10."""
    thursday, saturday = date(2004, 6, 10), datetime(2004, 6, 12, 14, 0, tzinfo=UTC)
    for symbol in rig.config.symbols:
        bars = synthetic_bars(symbol, first=date(2003, 6, 2), last=date(2004, 6, 11))
        assert bars.index[-1] == pd.Timestamp(thursday)  # no session on the Friday
        rig.yahoo.chart(symbol, chart_body(symbol, bars))
    snapshot = rig.gather("live", now=saturday)  # would raise if Friday's bar were expected
    symbols = rows(snapshot, "symbol")
    assert {h.status for h in symbols.values()} == {"ok"}
    assert {h.newest for h in symbols.values()} == {thursday}
    assert snapshot.as_of == thursday
    result = build_from_snapshot(
        rig.config, snapshot, as_of=saturday.date(), out=rig.root / "out", formats=("html",),
        seen_path=rig.cache_dir / "headlines.json",
    )  # fmt: skip
    brief = result.brief
    assert (brief.as_of, brief.week_start) == (thursday, date(2004, 6, 7))
    assert brief.session_count == 4  # the full week: four sessions were held
    assert not [n for n in brief.not_covered if "last sessions" in n]  # not reported as a partial week
    assert not brief.is_stale


# -- data modes -------------------------------------------------------------------------------------


def test_live_mode_fails_naming_the_required_symbol_that_failed(rig: Rig) -> None:
    rig.yahoo.fail("IWM", 404, json.dumps(NOT_FOUND).encode())
    with pytest.raises(DataUnavailableError) as caught:
        rig.gather("live")
    assert caught.value.source == "IWM"
    assert str(caught.value) == "IWM: required data is not fresh (symbol not found on Yahoo Finance)"
    degraded = rig.gather("auto")  # auto builds without it
    assert "IWM" not in degraded.series and rows(degraded)["IWM"].status == "failed"


def test_auto_with_every_source_failing_and_no_cache_falls_back_to_the_sample(rig: Rig) -> None:
    for symbol in rig.config.symbols:
        rig.yahoo.hang(symbol)
    rig.feeds.routes.clear()  # every feed: 404
    snapshot = rig.gather("auto", config=rig.with_network(market_deadline=1.0))
    assert snapshot.is_sample
    assert snapshot.notes[0].startswith(SAMPLE_WARNING)
    n = len(rig.config.universe)
    assert f"Live and cached sources failed: {n} symbols and {len(FEEDS)} feeds" in snapshot.notes[0]
    assert snapshot.as_of == FRIDAY  # the bundled sample's last close
    with PriceCache(price_cache_path(rig.cache_dir)) as cache:
        assert cache.symbols() == []


# -- a warm second run ------------------------------------------------------------------------------


def test_warm_second_run_asks_nothing_new_and_gives_the_same_brief(rig: Rig) -> None:
    first = rig.build(rig.gather("live"), out="first")
    served = len(rig.feeds.requests)
    rig.yahoo.seen.clear()
    snapshot = rig.gather("live", now=LATER)
    assert rig.yahoo.seen == []  # no bars (every cache is current) and no valuation (asked today)
    warm = rig.feeds.requests[served:]
    assert sorted(r.path for r in warm) == sorted(f"/{f.name}.xml" for f in rig.config.feeds)
    assert all(r.headers.get("If-None-Match") == f'"{r.path[1:-4]}-v1"' for r in warm)
    assert {(h.status, h.origin) for h in rows(snapshot, "feed").values()} == {("not modified", "live")}
    assert {(h.status, h.origin) for h in rows(snapshot, "symbol").values()} == {("ok", "cache")}
    assert snapshot.valuation == first.snapshot.valuation and "IWM" in snapshot.valuation
    second = rig.build(snapshot, out="second")
    assert second.brief.health != first.brief.health  # where the data came from differs ...
    assert replace(second.brief, health=(), built_at=NOW) == replace(first.brief, health=(), built_at=NOW)
    for name in ("^RUT", "IWM", "PSCE"):
        pd.testing.assert_frame_equal(
            second.snapshot.series[name].frame, first.snapshot.series[name].frame, check_exact=True
        )


# -- the command line -------------------------------------------------------------------------------


@pytest.mark.usefixtures("root_logging")
def test_cli_build_from_the_cache_after_a_live_run(rig: Rig) -> None:
    rig.gather("live")
    served = len(rig.feeds.requests)
    out = rig.root / "cli-out"
    done = CliRunner().invoke(
        cli,
        [
            *("build", "--config", str(rig.root / "feeds.yaml")),
            *("--data", "cache", "--cache-dir", str(rig.cache_dir), "--out", str(out)),
            *("--as-of", FRIDAY.isoformat(), "--formats", "html,md", "--strict"),
        ],
        catch_exceptions=False,
    )
    # Every source read from the cache this week is healthy to the console and --strict (exit 0) as to
    # the brief's Source health: one definition of healthy.
    assert done.exit_code == 0, done.output
    assert "degraded" not in done.stderr
    folder = out / "briefs" / FRIDAY.isoformat()
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["is_sample"] is False and meta["as_of"] == FRIDAY.isoformat()
    manifest = json.loads((folder / "snapshot" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == FRIDAY.isoformat()
    md = (folder / "brief.md").read_text(encoding="utf-8")
    assert "SAMPLE" not in md
    assert "| symbol | ^RUT | cached | cache |" in md.replace("  ", " ")
    assert re.search(r"\n\d+ symbols and \d+ feeds: no problems\.\n", md)
    assert "source symbol | ^RUT | cached | cache" in done.stderr
    assert "source feed | fed-press | cached | cache" in done.stderr
    assert len(rig.feeds.requests) == served  # --data cache: no network
