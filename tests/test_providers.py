"""The providers composed by ``gather``: FRED, the official calendars and the index members, offline.

Every file is served by a loopback HTTP server (tests/feedserver.py) and fetched by the project's
own HTTP client; the files are the issue-8 fixtures (tests/data/issue8/, real layouts).  Each
failure a server can produce (an HTML page instead of the file, a 403, a cut transfer, a truncated
file, a hang) must degrade the snapshot visibly: a health row naming the source, a calendar
failure, a cached copy stated as such, or a view left out with the reason.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
import yaml
from feedserver import FeedServer
from spdr_workbook import workbook
from yahoo_transport import YahooTransport, isolate_yfinance, join_market_threads

from generator.citations import health
from generator.config import load_config
from generator.errors import DataUnavailableError
from generator.models import Config, Snapshot, SourceHealth
from generator.sources.calendar import trading_days
from generator.sources.fred import FredProvider
from generator.sources.gather import SAMPLE_WARNING, WORKERS, Transport, gather, week_end
from generator.sources.http import DATA, FEED, fetch
from generator.sources.index_provider import IndexProvider, SP600Provider
from generator.sources.ishares import CACHE_FILE
from generator.sources.official_calendar import BROWSER_USER_AGENT, FED, SOURCES, CalendarProvider
from generator.sources.providers import Provider, registered
from generator.sources.snapshot import read_snapshot, write_snapshot
from generator.sources.spdr import CACHE_FILE as SP600_CACHE
from generator.sources.yahoo_client import THREAD_PREFIX
from tests.conftest import ROOT

DATA_DIR = ROOT / "tests" / "data" / "issue8"
FRED_SERIES = ("DGS2", "DGS10", "T10Y2Y", "BAMLH0A0HYM2")  # the fixtures there
HTML = b"<!DOCTYPE html><html><head><title>Access denied</title></head><body>Blocked</body></html>"
CSV = "text/csv; charset=utf-8"

# FRED fixtures end on 2026-07-24: the reporting week 2026-07-20 .. 07-24, built on Saturday.
FRED_TODAY = date(2026, 7, 25)
# The calendar fixtures hold the week of 2026-10-26: reporting week 2026-10-19 .. 10-23.
CAL_WEEK = date(2026, 10, 19)
# The holdings fixture is as of 2026-05-05: reporting week 2026-05-04 .. 05-08.
IDX_WEEK = date(2026, 5, 4)


def no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"no name lookups in tests ({host})")


def write_config(path: Path, server: FeedServer, **sections: Any) -> Config:
    """A small valid feeds.yaml, with the network allowed on loopback and short bounds."""
    doc: dict[str, Any] = {
        "universe": [
            {"symbol": s, "name": s, "role": r}
            for s, r in (("^RUT", "small_cap"), ("^GSPC", "large_cap"), ("IWM", "small_cap"))
        ],
        "analysis": {
            **dict.fromkeys(("nasdaq", "equal_weight", "cap_weight", "vix", "rvx"), "^GSPC"),
            **dict.fromkeys(
                ("rate_3m", "rate_5y", "rate_10y", "rate_30y", "high_yield", "treasury"), "^GSPC"
            ),
            **{"value": "IWM", "growth": "IWM", "ladder": ["IWM"], "ladder_labels": ["Small"]},
        },
        "news": [],
        "network": {
            "allow_hosts": ["127.0.0.1"],
            "feed_timeout": 2,
            "feed_deadline": 4,
            "market_deadline": 3,
        },
        "fred": {"series": list(FRED_SERIES), "timeout": 2, "deadline": 4},
        "calendar": {"official": ["fed", "bls", "bea"], "timeout": 2, "deadline": 4, "russell": []},
        "index": {"holdings": server.url("/IWM_holdings.csv"), "timeout": 2},
    }
    doc.update(sections)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_config(path)


@dataclass
class Rig:
    server: FeedServer
    root: Path
    config: Config

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def run(
        self,
        providers: Sequence[Provider],
        week_start: date,
        today: date,
        mode: str = "auto",
        workers: int = WORKERS,
        transport: Transport | None = None,
    ) -> Snapshot:
        """The providers alone (no Yahoo): ``compose`` as gather runs it, without the sample fallback.

        ``transport`` replaces the default (the project's HTTP client, with no name lookups).
        """
        from generator.sources.gather import compose
        from generator.sources.providers import ProviderContext

        context = ProviderContext(
            config=self.config,
            offline=mode == "cache",
            today=today,
            now=datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=14),
            week_start=week_start,
            week_end=week_end(week_start, "friday"),
            cache_dir=self.cache,
            transport=transport or Transport(resolver=no_dns),
        )
        return compose(providers, context, workers=workers)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with FeedServer() as server:
        yield Rig(server, tmp_path, write_config(tmp_path / "feeds.yaml", server))


def rows(snapshot: Snapshot) -> dict[str, SourceHealth]:
    return {h.name: h for h in snapshot.health}


# -- the HTTP client for data files ---------------------------------------------------------------------


def test_data_downloads_take_csv_and_calendars_refuse_html_and_send_the_asked_user_agent(rig: Rig) -> None:
    settings = rig.config.network
    csv_url = rig.server.serve("/a.csv", b"observation_date,X\n2026-01-02,1\n", content_type=CSV)
    ics_url = rig.server.serve(
        "/b.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", content_type="text/calendar"
    )
    html_url = rig.server.serve("/c.csv", HTML, content_type=CSV)  # labelled CSV, but a page
    assert fetch(csv_url, settings, expect=DATA).body.startswith(b"observation_date")
    assert fetch(ics_url, settings, expect=DATA, user_agent=BROWSER_USER_AGENT).body.startswith(b"BEGIN")
    assert rig.server.requests[-1].headers["User-Agent"] == BROWSER_USER_AGENT
    assert rig.server.requests[-1].headers["Accept"].startswith("text/csv")
    with pytest.raises(Exception, match=r"not a data file \(content-type text/csv, an HTML page\)"):
        fetch(html_url, settings, expect=DATA)
    with pytest.raises(Exception, match=r"not a feed \(content-type text/csv\)"):
        fetch(csv_url, settings, expect=FEED)  # feeds keep their own rule


# -- FRED --------------------------------------------------------------------------------------------------


def serve_fred(server: FeedServer) -> FredProvider:
    for series in FRED_SERIES:
        server.serve(
            f"/fred/{series}.csv", (DATA_DIR / f"fredgraph_{series}.csv").read_bytes(), content_type=CSV
        )
    return FredProvider(url=server.url("/fred/{series}.csv"))


def test_fred_series_land_in_the_snapshot_as_value_series_and_are_cached_per_series(rig: Rig) -> None:
    provider = serve_fred(rig.server)
    snapshot = rig.run([provider], date(2026, 7, 20), FRED_TODAY)
    two = snapshot.series["FRED-DGS2"]
    assert (two.provider, two.origin, two.last_bar) == (
        "FRED, Federal Reserve Bank of St. Louis",
        "live",
        date(2026, 7, 23),
    )
    assert two.frame.loc["2026-03-31", "Close"] == 3.79 and two.frame["Close"].equals(two.frame["Open"])
    assert snapshot.series["FRED-T10Y2Y"].frame["Close"].min() < 1.0  # a spread: small values kept
    row = rows(snapshot)["FRED-DGS2"]
    assert (row.kind, row.status, row.origin, row.newest, row.error) == (
        "series",
        "ok",
        "live",
        date(2026, 7, 23),
        "",
    )
    assert row.count == len(two.frame)
    assert sorted(p.name for p in (rig.cache / "fred").iterdir()) == sorted(f"{s}.csv" for s in FRED_SERIES)
    assert "FRED, Federal Reserve Bank of St. Louis" in snapshot.provider
    offline = rig.run([provider], date(2026, 7, 20), FRED_TODAY, mode="cache")  # --data cache: no request
    served = len(rig.server.requests)
    assert offline.series["FRED-DGS2"].frame["Close"].tolist() == two.frame["Close"].tolist()
    assert (rows(offline)["FRED-DGS2"].status, rows(offline)["FRED-DGS2"].origin) == ("cached", "cache")
    assert len(rig.server.requests) == served


def test_a_failed_fred_series_is_named_and_served_from_its_cached_copy_with_its_own_dates(rig: Rig) -> None:
    provider = serve_fred(rig.server)
    rig.run([provider], date(2026, 7, 20), FRED_TODAY)  # last week's run fills the cache
    rig.server.serve("/fred/DGS2.csv", b"Forbidden", status=403, content_type="text/plain")
    rig.server.serve("/fred/DGS10.csv", HTML, content_type="text/html")
    body = (DATA_DIR / "fredgraph_T10Y2Y.csv").read_bytes()  # a cut transfer: fewer bytes than announced
    rig.server.serve(
        "/fred/T10Y2Y.csv", body[:300], content_type=CSV, headers={"Content-Length": str(len(body))}
    )
    snapshot = rig.run([provider], date(2026, 7, 27), date(2026, 8, 1))
    two, ten, curve = (rows(snapshot)[f"FRED-{s}"] for s in ("DGS2", "DGS10", "T10Y2Y"))
    assert (two.status, two.origin, two.newest) == ("cached", "cache", date(2026, 7, 23))
    assert two.error == "HTTP 403 Forbidden; last cached copy, observations to 2026-07-23"
    assert "HTML page" in ten.error and ten.status == "cached"
    assert "connection broken while reading" in curve.error
    assert snapshot.series["FRED-DGS2"].origin == "cache"
    assert snapshot.series["FRED-DGS2"].last_bar == date(2026, 7, 23)  # never re-dated to the new week
    assert rows(snapshot)["FRED-BAMLH0A0HYM2"].status == "ok"
    assert health(snapshot.health).summary == "no symbols, no feeds and 4 series: 3 problems, listed first."


def test_fred_without_a_cache_fails_by_series_and_a_hang_is_bounded_by_the_deadline(rig: Rig) -> None:
    config = replace(rig.config, fred=replace(rig.config.fred, timeout=0.3, deadline=0.6))
    rig.config = config
    for series in FRED_SERIES:
        rig.server.serve(f"/fred/{series}.csv", hang=True)
    snapshot = rig.run(
        [FredProvider(url=rig.server.url("/fred/{series}.csv"))], date(2026, 7, 20), FRED_TODAY
    )
    assert not any(s.startswith("FRED-") for s in snapshot.series)
    errors = {name: row.error for name, row in rows(snapshot).items()}
    assert errors["FRED-DGS2"] == "timed out after 0.3 s; no cached copy"
    assert errors["FRED-BAMLH0A0HYM2"].startswith("not asked: the FRED deadline of 0.6 s was used up")
    assert {row.status for row in snapshot.health} == {"failed"}


def test_fred_observations_dated_after_today_are_never_taken(rig: Rig) -> None:
    provider = serve_fred(rig.server)
    snapshot = rig.run([provider], date(2026, 7, 13), date(2026, 7, 17))
    assert snapshot.series["FRED-DGS2"].last_bar == date(2026, 7, 17)
    assert rows(snapshot)["FRED-DGS2"].newest == date(2026, 7, 17)


# -- the official calendars ---------------------------------------------------------------------------------


CAL_FILES = {"fed": ("fed_calendar.json", "application/json"), "bls": ("bls.ics", "text/calendar"),
             "bea": ("bea_release_dates.json", "application/json")}  # fmt: skip


def serve_calendars(server: FeedServer) -> CalendarProvider:
    sources = []
    for source in SOURCES:
        name, media = CAL_FILES[source.key]
        path = f"/cal/{name}"
        server.serve(path, (DATA_DIR / name).read_bytes(), content_type=media)
        sources.append(replace(source, url=server.url(path)))
    return CalendarProvider(sources)


EXPECTED_WEEK = [
    ("2026-10-28", "08:30", "Consumer Price Index (CPI)", "BLS"),
    ("2026-10-28", "14:00", "FOMC rate decision", "Federal Reserve"),
    ("2026-10-29", "08:30", "Gross domestic product (GDP)", "BEA"),
    ("2026-10-30", "08:30", "Personal income and outlays (PCE)", "BEA"),
    ("2026-10-30", "08:30", "Producer Price Index (PPI)", "BLS"),
]


def schedule(snapshot: Snapshot) -> list[tuple[str, str, str, str]]:
    return [(e.day.isoformat(), e.time_et, e.title, e.source) for e in snapshot.events]


def test_next_weeks_official_calendar_is_dated_linked_and_bls_gets_a_browser_user_agent(rig: Rig) -> None:
    russell = [
        {
            "day": date(2026, 10, 30),
            "title": "Russell reconstitution: rank day",
            "url": "https://www.lseg.com/r",
        },
        {"day": date(2025, 10, 31), "title": "Last year's rank day", "url": "https://www.lseg.com/old"},
    ]
    rig.config = write_config(rig.root / "cal.yaml", rig.server, calendar={"russell": russell})
    snapshot = rig.run([serve_calendars(rig.server)], CAL_WEEK, date(2026, 10, 24))
    assert schedule(snapshot) == sorted(
        [*EXPECTED_WEEK, ("2026-10-30", "", "Russell reconstitution: rank day", "FTSE Russell")]
    )
    assert all(e.url.startswith("https://") for e in snapshot.events)
    assert snapshot.calendar_failures == ()
    agents = {r.path: r.headers["User-Agent"] for r in rig.server.requests}
    assert agents["/cal/bls.ics"] == BROWSER_USER_AGENT
    assert agents["/cal/fed_calendar.json"] == rig.config.network.user_agent
    counts = {name: (row.status, row.count) for name, row in rows(snapshot).items()}
    assert counts == {
        "Federal Reserve calendar": ("ok", 1), "BLS calendar": ("ok", 2), "BEA calendar": ("ok", 2),
        "Russell reconstitution dates": ("ok", 1),
    }  # fmt: skip


def test_a_calendar_source_that_fails_is_named_and_the_others_still_count(rig: Rig) -> None:
    provider = serve_calendars(rig.server)
    rig.run([provider], CAL_WEEK, date(2026, 10, 24))  # a good run keeps each file
    rig.server.serve("/cal/bls.ics", b"Access Denied", status=403, content_type="text/html")
    rig.server.serve("/cal/bea_release_dates.json", HTML, content_type="application/json")
    rig.server.serve(
        "/cal/fed_calendar.json",
        b'\xef\xbb\xbf{"events": [{"title": "FOMC Meet',
        content_type="application/json",
    )
    snapshot = rig.run([provider], CAL_WEEK, date(2026, 10, 24))
    failures = dict(snapshot.calendar_failures)
    assert failures["BLS"] == "HTTP 403 Forbidden"
    assert "HTML page" in failures["BEA"]
    assert failures["Federal Reserve"].startswith("not valid JSON")
    assert snapshot.events == ()  # nothing carried over from the kept files
    assert {row.status for row in snapshot.health} == {"failed"}
    cached = rig.run([provider], CAL_WEEK, date(2026, 10, 24), mode="cache")  # the last good files
    assert schedule(cached) == EXPECTED_WEEK and cached.calendar_failures == ()


def test_a_calendar_file_that_cannot_be_kept_is_a_warning_and_its_events_still_count(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = rig.cache / "calendar" / "fed.json"
    blocked.mkdir(parents=True)  # a folder where the Fed's file goes: no rename onto it, even as root
    with caplog.at_level(logging.WARNING, logger="generator.sources.official_calendar"):
        snapshot = rig.run([serve_calendars(rig.server)], CAL_WEEK, date(2026, 10, 24))
    assert schedule(snapshot) == EXPECTED_WEEK and snapshot.calendar_failures == ()
    assert {row.status for row in snapshot.health} == {"ok"}
    kept = [r.getMessage() for r in caplog.records if "cannot keep" in r.getMessage()]
    assert kept == [f"{FED}: cannot keep the calendar file {blocked} (Is a directory)"]
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert blocked.is_dir()  # left as it was, and the other files were kept
    assert sorted(p.name for p in blocked.parent.iterdir()) == ["bea.json", "bls.ics", "fed.json"]
    assert [p.name for p in blocked.parent.iterdir() if p.name.startswith(".")] == []


def test_a_hung_calendar_is_bounded_and_named(rig: Rig) -> None:
    rig.config = replace(rig.config, calendar=replace(rig.config.calendar, timeout=0.3, deadline=2.0))
    provider = serve_calendars(rig.server)
    rig.server.serve("/cal/fed_calendar.json", hang=True)
    snapshot = rig.run([provider], CAL_WEEK, date(2026, 10, 24))
    assert dict(snapshot.calendar_failures) == {"Federal Reserve": "timed out after 0.3 s"}
    assert [e for e in schedule(snapshot) if e[3] != "Federal Reserve"] == [
        e for e in EXPECTED_WEEK if e[3] != "Federal Reserve"
    ]


# -- the index members ---------------------------------------------------------------------------------------


@dataclass
class Panel:
    """What member_prices.fetch_member_panel returns, as far as the provider reads it."""

    closes: pd.DataFrame
    failed: tuple[str, ...] = ()
    coverage: str = ""


@dataclass
class FakeMemberPrices:
    """Stands in for member_prices.fetch_member_panel: synthetic closes, the calls it got."""

    missing: tuple[str, ...] = ()
    error: Exception | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, symbols: Sequence[str], **options: Any) -> Panel:
        self.calls.append({"symbols": tuple(symbols), **options})
        if self.error is not None:
            raise self.error
        days = pd.DatetimeIndex(trading_days(date(2025, 3, 3), date(2026, 5, 8)), name="Date")
        rng = np.random.default_rng(8)
        walk = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, (len(days), len(symbols))), axis=0))
        closes = pd.DataFrame(walk, index=days, columns=list(symbols))
        closes.loc[:, list(self.missing)] = np.nan
        coverage = (
            f"{len(symbols) - len(self.missing)} of {len(symbols)} members ({len(self.missing)} not fetched)"
        )
        return Panel(closes, self.missing, coverage)


def serve_holdings(server: FeedServer, body: bytes | None = None) -> None:
    data = (DATA_DIR / "IWM_holdings_synthetic.csv").read_bytes() if body is None else body
    server.serve("/IWM_holdings.csv", data, content_type="text/csv")


def test_the_index_view_is_derived_from_the_membership_and_member_prices_for_the_week(rig: Rig) -> None:
    serve_holdings(rig.server)
    prices = FakeMemberPrices(missing=("HL",))
    snapshot = rig.run([IndexProvider(panel=prices)], IDX_WEEK, date(2026, 5, 9))
    view = snapshot.index_view
    assert view is not None
    assert (view.week_start, view.week_end, view.membership_as_of, view.from_cache) == (
        IDX_WEEK, date(2026, 5, 8), date(2026, 5, 5), False,
    )  # fmt: skip
    assert len(view.members) == 15 and "MOG-A" in view.members.index and "RUSHA" in view.members.index
    assert pd.isna(view.members.at["HL", "last_close"])
    (call,) = prices.calls
    assert call["symbols"][:4] == ("BE", "CRDO", "FN", "MOG-A") and call["cache_dir"] == rig.cache / "index"
    assert (call["budget_s"], call["chunk"], call["history_days"]) == (600.0, 150, 400)
    members, member_prices = rows(snapshot)["iShares IWM holdings"], rows(snapshot)["member prices"]
    assert (members.status, members.count, members.newest) == ("ok", 15, date(2026, 5, 5))
    assert (member_prices.status, member_prices.count) == ("ok", 14)
    assert member_prices.error == "breadth from 14 of 15 members (1 not fetched)"  # more than 5% missing
    # Only the trimmed membership is kept: nothing of the raw file (its terms forbid redistribution).
    assert sorted(p.name for p in (rig.cache / "index").iterdir()) == [CACHE_FILE]
    kept = (rig.cache / "index" / CACHE_FILE).read_text(encoding="utf-8")
    assert "Notional Value" not in kept and "Fund Holdings as of" not in kept and "Market Value" not in kept


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"body": b"Forbidden", "status": 403, "content_type": "text/plain"}, "HTTP 403 Forbidden"),
        ({"body": HTML, "content_type": "text/html"}, "HTML page"),
        ({"truncate": True}, "truncated"),
    ],
    ids=["403", "html", "truncated"],
)
def test_a_failed_holdings_download_falls_back_to_the_last_cached_membership_stated_with_its_date(
    rig: Rig, answer: dict[str, Any], why: str
) -> None:
    serve_holdings(rig.server)
    rig.run([IndexProvider(panel=FakeMemberPrices())], IDX_WEEK, date(2026, 5, 9))  # fills the cache
    if answer.pop("truncate", False):
        whole = (DATA_DIR / "IWM_holdings_synthetic.csv").read_bytes()
        answer = {"body": whole[: whole.index(b"ONB")], "content_type": "text/csv"}  # cut inside the table
    rig.server.serve("/IWM_holdings.csv", **answer)
    snapshot = rig.run([IndexProvider(panel=FakeMemberPrices())], IDX_WEEK, date(2026, 5, 9))
    row = rows(snapshot)["iShares IWM holdings"]
    assert (row.status, row.origin, row.newest) == ("cached", "cache", date(2026, 5, 5))
    assert why in row.error and row.error.endswith("; last cached membership as of 2026-05-05")
    assert snapshot.index_view is not None and snapshot.index_view.from_cache
    assert rows(snapshot)["member prices"].healthy  # every member priced: nothing to say


def test_without_membership_or_member_prices_the_index_view_is_not_covered_and_says_why(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.server.serve("/IWM_holdings.csv", hang=True)
    rig.config = replace(rig.config, index=replace(rig.config.index, timeout=0.3))
    nothing = rig.run([IndexProvider(panel=FakeMemberPrices())], IDX_WEEK, date(2026, 5, 9))
    assert nothing.index_view is None
    assert (
        rows(nothing)["iShares IWM holdings"].error
        == "timed out after 0.3 s; no cached membership to fall back on"
    )
    serve_holdings(rig.server)
    broken = rig.run(
        [IndexProvider(panel=FakeMemberPrices(error=RuntimeError("rate limited")))],
        IDX_WEEK,
        date(2026, 5, 9),
    )
    assert broken.index_view is None
    assert (rows(broken)["member prices"].status, rows(broken)["member prices"].error) == (
        "failed",
        "RuntimeError: rate limited",
    )
    monkeypatch.setitem(sys.modules, "generator.sources.member_prices", None)  # the module is missing
    missing = rig.run([IndexProvider()], IDX_WEEK, date(2026, 5, 9))
    assert missing.index_view is None
    assert rows(missing)["member prices"].error.startswith("the member prices module is not available")
    assert rows(missing)["iShares IWM holdings"].status == "ok"


# -- the S&P 600, a second universe (off by default) ------------------------------------------------------


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


BAD_LOCATION = "http://[::1/x"  # a redirect no URL parser takes (it once crashed the build)


def test_a_holdings_redirect_to_a_malformed_location_is_a_failed_row_and_the_others_still_count(
    rig: Rig,
) -> None:
    rig.server.redirect("/IWM_holdings.csv", BAD_LOCATION)
    providers = [IndexProvider(panel=FakeMemberPrices()), serve_calendars(rig.server)]
    snapshot = rig.run(providers, CAL_WEEK, date(2026, 10, 24))
    row = rows(snapshot)["iShares IWM holdings"]
    assert (row.status, row.origin) == ("failed", "none")
    assert row.error == (
        f"invalid redirect Location '{BAD_LOCATION}': Invalid IPv6 URL; no cached membership to fall back on"
    )
    assert snapshot.index_view is None
    assert schedule(snapshot) == EXPECTED_WEEK  # the calendars, beside it, are all there


def following_download(url: str, user_agent: str | None) -> bytes:
    """A download seam that lets requests follow redirects itself (not the project's client)."""
    response = requests.get(url, headers={"User-Agent": user_agent or "test"}, timeout=5)
    response.raise_for_status()
    return response.content


def test_an_unexpected_error_out_of_a_provider_is_its_failed_row_not_a_crash(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.server.redirect("/IWM_holdings.csv", BAD_LOCATION)
    with pytest.raises(ValueError, match="Invalid IPv6 URL"):  # what the seam does with that Location
        following_download(rig.server.url("/IWM_holdings.csv"), None)
    with caplog.at_level(logging.WARNING, logger="generator.sources.providers"):
        snapshot = rig.run(
            [IndexProvider(panel=FakeMemberPrices()), serve_calendars(rig.server)],
            CAL_WEEK,
            date(2026, 10, 24),
            transport=Transport(resolver=no_dns, download=following_download),
        )
    row = rows(snapshot)["index"]  # the provider's own row: it gave nothing else
    assert (row.kind, row.status, row.origin) == ("provider", "failed", "none")
    assert row.error == "unexpected error (ValueError: Invalid IPv6 URL)"
    (logged,) = [r for r in caplog.records if r.name == "generator.sources.providers"]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
    assert logged.getMessage() == "index: failed unexpectedly: ValueError: Invalid IPv6 URL"
    blocks = {b.name: b for b in snapshot.blocks}
    assert (blocks["index"].status, blocks["calendar"].status) == ("failed", "ok")
    assert schedule(snapshot) == EXPECTED_WEEK


def test_the_sp600_from_a_spdr_workbook_is_a_second_view_after_the_index_sharing_its_price_cache(
    rig: Rig,
) -> None:
    serve_holdings(rig.server)
    rig.server.serve("/SLY.xlsx", workbook(), content_type=XLSX)
    rig.config = replace(rig.config, index=replace(rig.config.index, sp600=rig.server.url("/SLY.xlsx")))
    names = [p.name for p in registered(rig.config)]
    assert names[-1] == "sp600" and "index" in names  # after the index, whose price cache it shares
    prices = FakeMemberPrices(missing=("AGO",))
    snapshot = rig.run([IndexProvider(panel=prices), SP600Provider(panel=prices)], IDX_WEEK, date(2026, 5, 9))
    view = snapshot.universes["sp600"]
    assert snapshot.index_view is not None and snapshot.index_view.source == "iShares IWM holdings"
    assert (view.source, view.membership_as_of, view.week_end) == (
        "SPDR SLY holdings",
        date(2026, 5, 5),
        date(2026, 5, 8),
    )
    assert list(view.members.index) == ["MLI", "AWI", "SPXC", "CORT", "MOG-A", "EAT", "AGO"]
    russell, sp600 = prices.calls  # the S&P 600 after the index, in the same member cache
    assert sp600["cache_dir"] == russell["cache_dir"] == rig.cache / "index"
    spdr_row, spdr_prices = rows(snapshot)["SPDR SLY holdings"], rows(snapshot)["S&P 600 member prices"]
    assert (spdr_row.status, spdr_row.count, spdr_row.newest) == ("ok", 7, date(2026, 5, 5))
    assert (spdr_prices.status, spdr_prices.count) == ("ok", 6)
    assert [(b.name, b.universes, b.index) for b in snapshot.blocks] == [
        ("index", (), True),
        ("sp600", ("sp600",), False),
    ]
    # In the snapshot: its own files in the sp600 block, read back as they were.
    folder = write_snapshot(snapshot, rig.root / "snap")
    doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    block = doc["providers"][1]["universes"]["sp600"]
    assert (block["daily"]["file"], block["members"]["file"]) == (
        "index/sp600/daily.csv",
        "index/sp600/members.csv",
    )
    again = read_snapshot(folder)
    pd.testing.assert_frame_equal(again.universes["sp600"].members, view.members)
    assert again.index_view is not None and len(again.index_view.members) == 15
    assert sorted(p.name for p in (rig.cache / "index").iterdir()) == [CACHE_FILE, SP600_CACHE]


def test_the_sp600_workbook_answered_by_an_html_page_falls_back_to_its_cached_membership(rig: Rig) -> None:
    rig.server.serve("/SLY.xlsx", workbook(), content_type=XLSX)
    rig.config = replace(rig.config, index=replace(rig.config.index, sp600=rig.server.url("/SLY.xlsx")))
    rig.run([SP600Provider(panel=FakeMemberPrices())], IDX_WEEK, date(2026, 5, 9))  # fills its cache
    rig.server.serve("/SLY.xlsx", HTML, content_type=XLSX)
    snapshot = rig.run([SP600Provider(panel=FakeMemberPrices())], IDX_WEEK, date(2026, 5, 9))
    row = rows(snapshot)["SPDR SLY holdings"]
    assert (row.status, row.origin) == ("cached", "cache") and "HTML page" in row.error
    assert row.error.endswith("last cached membership as of 2026-05-05")
    assert snapshot.universes["sp600"].from_cache and snapshot.index_view is None


# -- gather as a whole ------------------------------------------------------------------------------------


def test_registration_follows_the_config_and_gather_runs_injected_providers(rig: Rig) -> None:
    names = [p.name for p in registered(rig.config)]
    assert names == [
        "yahoo-prices", "yahoo-fund-data", "feeds", "fred", "calendar", "index", "earnings",
        "member-fundamentals",
    ]  # fmt: skip
    off = replace(
        rig.config, fred=replace(rig.config.fred, series=()), index=replace(rig.config.index, holdings="")
    )
    assert [p.name for p in registered(off)] == ["yahoo-prices", "yahoo-fund-data", "feeds", "calendar"]
    no_earnings = replace(rig.config.calendar, earnings=replace(rig.config.calendar.earnings, top=0))
    assert "earnings" not in [p.name for p in registered(replace(rig.config, calendar=no_earnings))]
    no_members = replace(rig.config, valuation=replace(rig.config.valuation, members=False))
    assert "member-fundamentals" not in [p.name for p in registered(no_members)]
    with pytest.raises(DataUnavailableError, match=r"\^RUT"):  # --data cache without the benchmark
        gather(
            rig.config, "cache", today=FRED_TODAY, now=datetime(2026, 7, 25, tzinfo=UTC),
            cache_dir=rig.cache, week_start=date(2026, 7, 20), providers=[serve_fred(rig.server)],
        )  # fmt: skip


def test_fred_calendars_and_index_side_by_side_give_the_snapshot_they_give_in_turn(rig: Rig) -> None:
    """Each provider's block, status and files; the same bytes whether they overlap or not."""
    serve_holdings(rig.server)
    rig.server.serve("/cal/bls.ics", b"Access Denied", status=403, content_type="text/html")
    written = []
    for workers in (WORKERS, 1):
        providers = [
            serve_fred(rig.server),
            serve_calendars(rig.server),
            IndexProvider(panel=FakeMemberPrices()),
        ]
        rig.server.serve("/cal/bls.ics", b"Access Denied", status=403, content_type="text/html")
        snapshot = rig.run(providers, IDX_WEEK, date(2026, 5, 9), workers=workers)
        blocks = {b.name: b for b in snapshot.blocks}
        assert [b.name for b in snapshot.blocks] == ["fred", "calendar", "index"]
        assert blocks["fred"].series == tuple(f"FRED-{s}" for s in FRED_SERIES)
        assert (blocks["fred"].status, blocks["index"].status, blocks["index"].index) == ("ok", "ok", True)
        assert blocks["calendar"].status == "degraded"  # BLS refused; the Fed and BEA answered
        assert {b.fetched_at for b in snapshot.blocks} == {datetime(2026, 5, 9, 14, tzinfo=UTC)}
        folder = write_snapshot(snapshot, rig.root / f"snap-{workers}")
        written.append({p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()})
    assert written[0] == written[1]


def test_a_full_gather_with_every_source_failing_still_falls_back_to_the_sample(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_yfinance(monkeypatch)
    yahoo = YahooTransport()
    yahoo.offline("dns")
    for path in ("/IWM_holdings.csv",):
        rig.server.serve(path, b"Forbidden", status=403, content_type="text/plain")
    try:
        snapshot = gather(
            rig.config, "auto", today=FRED_TODAY, now=datetime(2026, 7, 25, 14, tzinfo=UTC),
            cache_dir=rig.cache, week_start=date(2026, 7, 20),
            transport=Transport(session=yahoo.session(), resolver=no_dns),
        )  # fmt: skip
    finally:
        yahoo.release.set()
        join_market_threads(THREAD_PREFIX)
    assert snapshot.is_sample and snapshot.notes[0].startswith(SAMPLE_WARNING)
    assert (
        # the seventh other: the funds' valuation, not asked once Yahoo's prices could not be had
        "Live and cached sources failed: 3 symbols, no feeds, 4 series and 7 other sources (first: ^RUT"
        in snapshot.notes[0]
    )
    manifest = json.loads(
        (ROOT / "generator" / "sources" / "sample" / "manifest.json").read_text(encoding="utf-8")
    )
    assert len(snapshot.events) == len(
        manifest["events"]
    )  # the sample's own calendar, nothing of the failed run
    assert snapshot.earnings is not None and snapshot.earnings.origin == "sample"
