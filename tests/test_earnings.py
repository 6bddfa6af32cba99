"""sources.earnings: next week's earnings of the index members, through yfinance's real code, offline.

yfinance gets a session whose transport answers locally (tests/yahoo_transport.py): the
visualization API's earnings pages in Yahoo's own layout, built here from rows, served by offset;
429 answers partway, an empty answer, malformed rows and pages, a hang.  The membership is the
synthetic iShares fixture (tests/data/issue8), as of 2026-05-05: the reporting week is
2026-05-04 .. 05-08, so "next week" is Monday 2026-05-11 .. Friday 2026-05-15 (New York, UTC-4).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from yahoo_transport import Reply, YahooTransport, serving

from generator.analysis import analyse
from generator.charts import render_charts
from generator.config import load_config
from generator.errors import SourceError
from generator.formatting import plain
from generator.models import Brief, EarningsReport, EarningsSettings, EarningsWeek, Passage, Snapshot
from generator.narrative.earnings import earnings
from generator.render import render_html, render_markdown
from generator.render_email import render_email
from generator.sources.earnings import CACHE_FILE, NAME, EarningsProvider
from generator.sources.earnings_block import read_earnings, write_earnings
from generator.sources.gather import compose
from generator.sources.index_provider import IndexProvider
from generator.sources.ishares import parse_holdings
from generator.sources.providers import ProviderContext, ProviderResult, Transport
from generator.sources.snapshot import load_sample, read_snapshot, write_snapshot
from generator.sources.yahoo_client import RATE_LIMITED
from tests.conftest import ROOT

HOLDINGS = ROOT / "tests" / "data" / "issue8" / "IWM_holdings_synthetic.csv"
MEMBERSHIP = parse_holdings(HOLDINGS.read_bytes())
WEEK = (date(2026, 5, 4), date(2026, 5, 8))
NEXT = (date(2026, 5, 11), date(2026, 5, 15))
NOW = datetime(2026, 5, 9, 14, 0, tzinfo=UTC)
COLUMNS = [
    {"id": "ticker", "label": "Symbol", "type": "STRING"},
    {"id": "companyshortname", "label": "Company Name", "type": "STRING"},
    {"id": "intradaymarketcap", "label": "Market Cap (Intraday)", "type": "NUMBER"},
    {"id": "eventname", "label": "Event Name", "type": "STRING"},
    {"id": "startdatetime", "label": "Event Start Date", "type": "DATE"},
    {"id": "startdatetimetype", "label": "Event Start Date", "type": "STRING"},
    {"id": "epsestimate", "label": "EPS Estimate", "type": "NUMBER"},
    {"id": "epsactual", "label": "Reported EPS", "type": "NUMBER"},
    {"id": "epssurprisepct", "label": "Surprise (%)", "type": "NUMBER"},
]


def row(symbol: Any, name: Any, stamp: Any, timing: Any = "AMC", cap: float = 1e9) -> list[Any]:
    return [symbol, name, cap, "Q1 2026 Earnings Release", stamp, timing, 0.12, None, None]


def filler(n: int, first: int = 0) -> list[list[Any]]:
    """Companies that are not members (the calendar lists every US company)."""
    return [row(f"ZQ{first + i:03d}", f"Other Co {first + i}", "2026-05-12T20:00:00Z") for i in range(n)]


# Page 1: a mega cap that is not a member, then BE; page 2: CRDO, FN, MOG-A, RUSHA (twice), ZETA at
# 21:00 New York on Friday (01:00 UTC Saturday: still Friday), and members dated outside the week;
# page 3 (short): GEF-B, AEIS.
ROWS = [
    row("AAPL", "Apple Inc.", "2026-05-12T12:30:00Z", "BMO", cap=3e12),
    row("BE", "Bloom Energy Corporation", "2026-05-13T20:05:00Z", "AMC"),
    *filler(98),
    row("CRDO", "Credo Technology Group Holding Ltd", "2026-05-14T04:00:00Z", "TNS"),
    row("FN", "Fabrinet", "2026-05-11T12:00:00Z", "BMO"),
    row("MOG-A", "Moog Inc.", "2026-05-12T20:30:00Z", "AMC"),
    row("RUSHA", "Rush Enterprises, Inc.", "2026-05-12T12:00:00Z", "BMO"),
    row("RUSHA", "Rush Enterprises, Inc.", "2026-05-13T14:00:00Z", "TAS"),  # its call, the next day
    row("ZETA", "Zeta Global Holdings Corp.", "2026-05-16T01:00:00Z", "AMC"),
    row("HL", "Hecla Mining Company", "2026-05-16T14:00:00Z", "BMO"),  # Saturday: outside
    row("ONB", "Old National Bancorp", "2026-05-10T20:00:00Z", "AMC"),  # Sunday: outside
    row("UEC", "Uranium Energy Corp.", "2026-05-11T03:00:00Z", "AMC"),  # 23:00 Sunday in New York
    row("BELFA", "Bel Fuse Inc.", "2026-05-20T20:00:00Z", "AMC"),  # the week after
    *filler(90, first=100),
    row("GEF-B", "Greif, Inc.", "2026-05-11T20:15:00Z", "AMC"),
    row("AEIS", "Advanced Energy Industries, Inc.", "2026-05-14T20:00:00Z", "AMC"),
    *filler(10, first=200),
]
REPORTING = {"BE", "CRDO", "FN", "MOG-A", "RUSHA", "ZETA", "GEF-B", "AEIS"}


def page_body(rows: list[list[Any]], columns: list[dict[str, str]] = COLUMNS) -> dict[str, Any]:
    documents = [{"columns": columns, "rows": rows}]
    return {"finance": {"result": [{"total": len(rows), "documents": documents}], "error": None}}


def json_reply(doc: dict[str, Any], status: int = 200) -> Reply:
    return Reply(status, json.dumps(doc).encode())


TOO_MANY = Reply(429, b"Too Many Requests\r\n", "text/plain")


class Calendar:
    """Yahoo's earnings calendar: ``rows`` served ``size`` at a time from ``offset``.

    ``answers`` replaces the answer to a request by its number (from 0); ``after`` answers every
    request from that number on.
    """

    def __init__(
        self,
        rows: list[list[Any]],
        answers: dict[int, Reply] | None = None,
        after: tuple[int, Reply] | None = None,
    ) -> None:
        self.rows, self.answers, self.after = rows, answers or {}, after
        self.requests = 0

    def __call__(self, body: dict[str, Any]) -> Reply:
        number, self.requests = self.requests, self.requests + 1
        if number in self.answers:
            return self.answers[number]
        if self.after is not None and number >= self.after[0]:
            return self.after[1]
        offset, size = int(body["offset"]), int(body["size"])
        return json_reply(page_body(self.rows[offset : offset + size]))


@pytest.fixture
def yahoo(monkeypatch: pytest.MonkeyPatch) -> Iterator[YahooTransport]:
    with serving(monkeypatch, YahooTransport()) as transport:
        yield transport


def context(
    cache: Path,
    session: object | None,
    *,
    offline: bool = False,
    halted: str = "",
    membership: Any = MEMBERSHIP,
    top: int = 3,
    deadline: float = 20.0,
    week: tuple[date, date] = WEEK,
) -> ProviderContext:
    config = load_config(ROOT / "feeds.yaml")
    calendar = replace(config.calendar, earnings=EarningsSettings(top=top, deadline=deadline))
    return ProviderContext(
        config=replace(config, calendar=calendar), offline=offline, today=date(2026, 5, 9), now=NOW,
        week_start=week[0], week_end=week[1], cache_dir=cache, transport=Transport(session=session),
        halted=halted, membership=membership,
    )  # fmt: skip


def provider() -> EarningsProvider:
    return EarningsProvider(sleep=lambda _s: None, pause=0.0)


def listed(result: ProviderResult) -> list[tuple[str, str, str, float]]:
    assert result.earnings is not None
    return [(r.day.isoformat(), r.symbol, r.timing, r.weight) for r in result.earnings.largest]


def live_week(**changes: Any) -> EarningsWeek:
    """A week as the provider writes it from Yahoo Finance (not the sample)."""
    reports = (
        EarningsReport(date(2026, 11, 23), "BE", "Bloom Energy Corporation", 0.4123, "BMO",
                       "https://finance.yahoo.com/calendar/earnings?symbol=BE"),
        EarningsReport(date(2026, 11, 25), "MOG-A", "Moog Inc.", 0.004, "",
                       "https://finance.yahoo.com/calendar/earnings?symbol=MOG-A"),
    )  # fmt: skip
    week = EarningsWeek(
        start=date(2026, 11, 23), end=date(2026, 11, 27), reporting=143, members=1962, largest=reports,
        membership_as_of=date(2026, 11, 18), weights_from="iShares IWM holdings", source="Yahoo Finance",
        read_at=datetime(2026, 11, 21, 13, 5, tzinfo=UTC), origin="live",
    )  # fmt: skip
    return replace(week, **changes)


# -- reading the calendar ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["curl_cffi", "requests"])
def test_the_largest_members_reporting_next_week_are_picked_by_weight_from_every_page(
    yahoo: YahooTransport, tmp_path: Path, kind: str
) -> None:
    yahoo.calendar(Calendar(ROWS))
    session = yahoo.session() if kind == "curl_cffi" else yahoo.requests_session()
    result = provider().fetch(context(tmp_path, session))
    week = result.earnings
    assert week is not None
    assert (week.start, week.end) == NEXT
    assert (week.reporting, week.members, week.complete, week.origin) == (8, 15, True, "live")
    assert (week.membership_as_of, week.weights_from, week.source) == (
        date(2026, 5, 5), "iShares IWM holdings", "Yahoo Finance",
    )  # fmt: skip
    # The three largest by weight (BE 19, CRDO 15, FN 10), listed by day; CRDO is not timed.
    assert listed(result) == [
        ("2026-05-11", "FN", "BMO", 10.0),
        ("2026-05-13", "BE", "AMC", 19.0),
        ("2026-05-14", "CRDO", "", 15.0),
    ]
    first = week.largest[0]
    assert first.name == "Fabrinet" and first.url == "https://finance.yahoo.com/calendar/earnings?symbol=FN"
    # yfinance asked for every company (no "most active" filter), 100 a page, a day either side.
    assert [b["offset"] for b in yahoo.posted] == [0, 100, 200]
    assert all(b["size"] == 100 and b["entityIdType"] == "sp_earnings" for b in yahoo.posted)
    query = json.dumps(yahoo.posted[0]["query"])
    assert '"gte", "operands": ["startdatetime", "2026-05-10"]' in query.replace("GTE", "gte")
    assert '"lte", "operands": ["startdatetime", "2026-05-16"]' in query.replace("LTE", "lte")
    assert '"ticker"' not in query  # no list of most active tickers
    assert not any("screener" in r.path for r in yahoo.seen)
    (health,) = result.health
    assert (health.name, health.status, health.origin, health.count, health.error) == (
        NAME,
        "ok",
        "live",
        8,
        "",
    )
    assert not result.calendar_failures and not result.halted
    cached = json.loads((tmp_path / CACHE_FILE).read_text(encoding="utf-8"))
    assert (cached["start"], cached["end"]) == ("2026-05-11", "2026-05-15")
    assert {r["symbol"] for r in cached["rows"]} >= REPORTING and "HL" not in {
        r["symbol"] for r in cached["rows"]
    }


def test_members_are_dated_in_new_york_time_and_only_inside_next_week(
    yahoo: YahooTransport, tmp_path: Path
) -> None:
    yahoo.calendar(Calendar(ROWS))
    result = provider().fetch(context(tmp_path, yahoo.session(), top=20))
    days = (
        {r.symbol: (r.day.isoformat(), r.timing) for r in result.earnings.largest} if result.earnings else {}
    )
    assert set(days) == REPORTING  # HL (Saturday), ONB and UEC (Sunday), BELFA (the week after) left out
    assert days["ZETA"] == ("2026-05-15", "AMC")  # 01:00 UTC Saturday is Friday evening in New York
    assert days["RUSHA"] == ("2026-05-12", "BMO")  # its first event of the week
    assert days["CRDO"] == ("2026-05-14", "")  # Yahoo gives no time: none is made up
    assert "AAPL" not in days  # the largest company on the calendar is not a member


def test_a_rate_limit_partway_is_retried_and_the_calendar_still_read_whole(
    yahoo: YahooTransport, tmp_path: Path
) -> None:
    # Requests 1 and 2 (page 2 and yfinance's own second try) get 429: our retry asks again.
    yahoo.calendar(Calendar(ROWS, answers={1: TOO_MANY, 2: TOO_MANY}))
    result = provider().fetch(context(tmp_path, yahoo.session()))
    assert result.earnings is not None and result.earnings.complete and result.earnings.reporting == 8
    assert [b["offset"] for b in yahoo.posted] == [0, 100, 100, 100, 200]


def test_a_rate_limit_that_outlasts_the_retries_keeps_what_was_read_and_says_it_is_partial(
    yahoo: YahooTransport, tmp_path: Path
) -> None:
    yahoo.calendar(Calendar(ROWS, after=(1, TOO_MANY)))
    result = provider().fetch(context(tmp_path, yahoo.session()))
    week = result.earnings
    assert week is not None and not week.complete and week.origin == "live"
    assert (week.reporting, [r.symbol for r in week.largest]) == (1, ["BE"])  # page 1 only
    assert week.note == f"{RATE_LIMITED} after 100 entries"
    (health,) = result.health
    assert (health.status, health.error) == ("ok", f"read partway: {RATE_LIMITED} after 100 entries")
    assert result.halted == RATE_LIMITED  # later Yahoo providers do not ask in this run
    assert not (tmp_path / CACHE_FILE).exists()  # a partial read is never cached


@pytest.mark.parametrize("columns", [COLUMNS, []], ids=["no-rows", "no-columns"])
def test_an_empty_answer_is_a_week_without_reports(
    yahoo: YahooTransport, tmp_path: Path, columns: list[dict[str, str]]
) -> None:
    yahoo.calendar(lambda body: json_reply(page_body([], columns)))
    result = provider().fetch(context(tmp_path, yahoo.session()))
    week = result.earnings
    assert week is not None and week.complete and (week.reporting, week.largest) == (0, ())
    assert result.health[0].status == "ok" and len(yahoo.posted) == 1


def test_malformed_rows_are_skipped_and_counted_and_the_rest_of_the_page_is_read(
    yahoo: YahooTransport, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [
        row(None, "No Symbol Inc", "2026-05-12T20:00:00Z"),
        row("BAD SYMBOL/X", "Bad Symbol Inc", "2026-05-12T20:00:00Z"),
        row("FN", "Fabrinet", None),  # no date
        row("CRDO", "Credo", "next Tuesday"),  # not a date: yfinance cannot tidy the page at all
        row("BE", 12345, "2026-05-13T20:05:00Z", "XYZ"),  # no name, an unknown timing
        row("ZETA", "Zeta <b>Global</b>\x1b Holdings", "2026-05-12T12:00:00Z", "BMO"),
    ]
    yahoo.calendar(Calendar(rows))
    result = provider().fetch(context(tmp_path, yahoo.session()))
    week = result.earnings
    assert week is not None and week.complete and week.reporting == 2
    be, zeta = sorted(week.largest, key=lambda r: r.symbol)
    assert (be.name, be.timing) == ("Bloom Energy Class A Corp", "")  # the membership's, as a name
    assert (zeta.name, zeta.timing) == ("Zeta Global Holdings", "BMO")  # markup and controls stripped
    assert f"{NAME}: skipped 4 rows without a readable symbol or date" in caplog.text


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (
            json_reply({"finance": {"result": [{"documents": [{"columns": COLUMNS, "rows": [["BE"]]}]}]}}),
            "unreadable answer from Yahoo Finance (ValueError",
        ),
        (
            json_reply(
                {"finance": {"result": None, "error": {"code": "Bad Request", "description": "bad query"}}},
                400,
            ),
            "Yahoo Finance: Bad Request: bad query",
        ),
        (
            Reply(500, b"<html>Internal Server Error</html>", "text/html"),
            "unreadable answer from Yahoo Finance",
        ),
    ],
    ids=["short-rows", "yahoo-error", "html-500"],
)
def test_an_unreadable_page_is_named_and_never_crashes_the_build(
    yahoo: YahooTransport, tmp_path: Path, answer: Reply, why: str
) -> None:
    yahoo.calendar(lambda body: answer)
    result = provider().fetch(context(tmp_path, yahoo.session()))
    assert result.earnings is None
    (failure,) = result.calendar_failures
    assert failure[0] == NAME and failure[1].startswith(why)
    assert (result.health[0].status, result.health[0].error) == ("failed", failure[1])


def test_a_hung_calendar_is_not_waited_for_past_the_deadline(yahoo: YahooTransport, tmp_path: Path) -> None:
    def hang(body: dict[str, Any]) -> Reply:
        yahoo.release.wait(30)
        return TOO_MANY

    yahoo.calendar(hang)
    result = provider().fetch(context(tmp_path, yahoo.session(), deadline=0.5))
    assert result.earnings is None
    assert result.calendar_failures == ((NAME, "no answer within the deadline of 0.5 s"),)


def test_without_the_membership_nothing_is_asked_and_the_calendar_says_why(
    yahoo: YahooTransport, tmp_path: Path
) -> None:
    yahoo.calendar(Calendar(ROWS))
    result = provider().fetch(context(tmp_path, yahoo.session(), membership=None))
    assert result.earnings is None and not yahoo.posted
    assert result.calendar_failures == ((NAME, "not asked: no index membership to pick the members from"),)


# -- the cache ---------------------------------------------------------------------------------------------


def test_a_failed_read_falls_back_on_the_cached_read_of_the_same_week_stated_with_its_time(
    yahoo: YahooTransport, tmp_path: Path
) -> None:
    yahoo.calendar(Calendar(ROWS))
    provider().fetch(context(tmp_path, yahoo.session()))  # fills the cache
    yahoo.calendar(Calendar(ROWS, after=(0, TOO_MANY)))
    result = provider().fetch(context(tmp_path, yahoo.session()))
    week = result.earnings
    assert week is not None and (week.origin, week.reporting, week.complete) == ("cache", 8, True)
    assert week.note == RATE_LIMITED and week.read_at == NOW
    (health,) = result.health
    assert (health.status, health.origin) == ("cached", "cache")
    assert health.error == f"{RATE_LIMITED}; the calendar as read at 2026-05-09 14:00 UTC"
    assert not result.calendar_failures
    # Partway through, the cached complete read wins over the pages read.
    yahoo.calendar(Calendar(ROWS, after=(1, TOO_MANY)))
    again = provider().fetch(context(tmp_path, yahoo.session()))
    assert again.earnings is not None and again.earnings.origin == "cache" and again.earnings.reporting == 8


def test_data_cache_reads_only_the_cache_and_never_another_weeks(
    yahoo: YahooTransport, tmp_path: Path
) -> None:
    yahoo.calendar(Calendar(ROWS))
    provider().fetch(context(tmp_path, yahoo.session()))
    asked = len(yahoo.posted)
    offline = provider().fetch(context(tmp_path, yahoo.session(), offline=True))
    assert len(yahoo.posted) == asked  # nothing asked
    assert (
        offline.earnings is not None
        and offline.earnings.origin == "cache"
        and offline.earnings.reporting == 8
    )
    assert (offline.health[0].status, offline.health[0].error) == ("cached", "")
    later = provider().fetch(
        context(tmp_path, None, offline=True, week=(date(2026, 5, 11), date(2026, 5, 15)))
    )
    assert later.earnings is None
    assert later.calendar_failures == ((NAME, "not cached for the week of 2026-05-18"),)
    (tmp_path / CACHE_FILE).write_text("{not json", encoding="utf-8")
    broken = provider().fetch(context(tmp_path, None, offline=True))
    assert broken.earnings is None and broken.health[0].status == "failed"


def test_when_yahoo_already_stopped_answering_this_run_the_calendar_is_not_asked(
    yahoo: YahooTransport, tmp_path: Path
) -> None:
    yahoo.calendar(Calendar(ROWS))
    result = provider().fetch(context(tmp_path, yahoo.session(), halted=RATE_LIMITED))
    assert not yahoo.posted and result.earnings is None
    assert result.calendar_failures == ((NAME, f"not asked: {RATE_LIMITED}"),)


# -- through gather, into the snapshot ------------------------------------------------------------------


class NoMemberPrices:
    def __call__(self, symbols: Any, **options: Any) -> Any:
        raise RuntimeError("member prices are not part of this test")


def test_the_index_providers_membership_reaches_the_earnings_provider_and_the_snapshot_keeps_the_result(
    yahoo: YahooTransport, tmp_path: Path
) -> None:
    yahoo.calendar(Calendar(ROWS))
    ctx = context(tmp_path / "cache", yahoo.session(), membership=None)
    ctx = replace(ctx, config=replace(ctx.config, index=replace(ctx.config.index, holdings=str(HOLDINGS))))
    snapshot = compose([IndexProvider(panel=NoMemberPrices()), provider()], ctx)
    assert snapshot.index_view is None  # no member prices: the membership alone is enough
    assert snapshot.earnings is not None and snapshot.earnings.reporting == 8
    assert (tmp_path / "cache" / "earnings" / CACHE_FILE).is_file()
    assert {h.name for h in snapshot.health} >= {"iShares IWM holdings", NAME}
    write_snapshot(snapshot, tmp_path / "snap")
    again = read_snapshot(tmp_path / "snap")
    assert again.earnings == snapshot.earnings


def test_the_snapshot_block_refuses_undated_or_unlinked_reports() -> None:
    week = live_week()
    block = write_earnings(week)
    assert read_earnings(json.loads(json.dumps(block)), "manifest.json") == week
    for change in (
        {"url": "javascript:alert(1)"},
        {"day": "2026-11-30"},
        {"timing": "LUNCH"},
        {"weight": float("nan")},
    ):
        bad = {**block, "largest": [{**block["largest"][0], **change}]}
        with pytest.raises(SourceError, match="earnings block unreadable"):
            read_earnings(bad, "manifest.json")


# -- in the brief -----------------------------------------------------------------------------------------

AS_OF = date(2026, 11, 20)  # the sample's week: next week is 2026-11-23 .. 11-27


def brief_of(**changes: Any) -> Brief:
    return analyse(replace(load_sample(), **changes), load_config(ROOT / "feeds.yaml"), (), as_of=AS_OF)


def outlook(brief: Brief) -> Passage:
    return next(p for p in brief.body if p.key == "outlook")


def note(week: EarningsWeek) -> str:
    return plain(earnings(week, "Russell 2000")[0])


def test_the_wording_says_how_many_members_report_and_how_the_calendar_was_read() -> None:
    weights = "from the iShares IWM holdings as of 2026-11-18:"
    assert note(live_week()) == (
        "143 of the 1,962 Russell 2000 members report earnings next week, by Yahoo Finance's earnings "
        f"calendar. The 2 largest by index weight, {weights}"
    )
    assert note(live_week(complete=False, note=f"{RATE_LIMITED} after 300 entries")) == (
        "At least 143 of the 1,962 Russell 2000 members report earnings next week, by Yahoo Finance's "
        f"earnings calendar, read only partway ({RATE_LIMITED} after 300 entries). "
        f"The 2 largest by index weight, {weights}"
    )
    assert note(live_week(origin="cache", note=RATE_LIMITED)) == (
        "143 of the 1,962 Russell 2000 members report earnings next week, by Yahoo Finance's earnings "
        f"calendar as read at 2026-11-21 13:05 UTC (this run's read failed: {RATE_LIMITED}). "
        f"The 2 largest by index weight, {weights}"
    )
    assert note(live_week(reporting=2)).endswith(f"earnings calendar. With their index weight, {weights}")
    one = live_week(reporting=1, largest=live_week().largest[:1])
    assert note(one).startswith("1 of the 1,962 Russell 2000 members reports earnings next week")
    assert note(one).endswith(f"With its index weight, {weights}")
    assert note(live_week(reporting=0, largest=())) == (
        "No Russell 2000 member has an earnings report dated next week in Yahoo Finance's earnings "
        "calendar (1,962 members checked)."
    )
    lines = earnings(live_week(), "Russell 2000")[1]
    assert [(e.day, e.title, e.source, e.url, e.time_et) for e in lines] == [
        (date(2026, 11, 23), "Bloom Energy Corporation (BE), weight 0.41%, before the open", "Yahoo Finance",
         "https://finance.yahoo.com/calendar/earnings?symbol=BE", ""),
        (date(2026, 11, 25), "Moog Inc. (MOG-A), weight under 0.01%", "Yahoo Finance",
         "https://finance.yahoo.com/calendar/earnings?symbol=MOG-A", ""),
    ]  # fmt: skip
    assert earnings(None, "Russell 2000") == ((), ())


def test_the_calendar_section_shows_the_sample_earnings_dated_and_linked_in_every_format() -> None:
    brief = brief_of()
    passage = outlook(brief)
    assert plain(passage.earnings_note).startswith(
        "23 of the 132 Russell 2000 members report earnings next week, by the sample's "
        "earnings calendar (illustrative dates, not real reports). The 10 largest by index weight"
    )
    assert len(passage.earnings) == 10
    html = render_html(brief, render_charts(brief.charts))
    assert (
        '<li><time datetime="2026-11-23">Monday 2026-11-23</time>: Timberline Paper Group (SDGQ), '
        "weight 1.86%, after the close · "
        '<a href="https://finance.yahoo.com/calendar/earnings?day=2026-11-23" '
        'rel="noopener noreferrer nofollow">sample calendar</a></li>'
    ) in html
    md = render_markdown(brief, {})
    assert (
        "- Monday 2026-11-23: Timberline Paper Group (SDGQ), weight 1.86%, after the close · "
        "[sample calendar](<https://finance.yahoo.com/calendar/earnings?day=2026-11-23>)"
    ) in md
    email_html, text = render_email(brief, view_url=None)
    # a day a line: its reports share the calendar's page of the day, given once on a line of its own
    assert (
        "\n- Monday 2026-11-23 (sample calendar): Timberline Paper Group (SDGQ), weight\n  1.86%, after the"
        " close; Wavecrest Telecom Group (SFCO), weight 1.58%;\n  Pressroom Media (SEXF), weight 1.32%, after"
        " the close; Maple Lane Homes\n  (SCDV), weight 0.88%.\n"
        "  https://finance.yahoo.com/calendar/earnings?day=2026-11-23\n"
        "- Tuesday 2026-11-24 (sample calendar): "
    ) in text
    assert "23 of the 132 Russell 2000 members report earnings next week" in text
    assert (
        'Timberline Paper Group (SDGQ), weight 1.86%, after the close · <a href="https://finance.yahoo.com/'
        in (email_html)
    )


def test_live_earnings_link_to_yahoo_and_a_failed_calendar_is_named_in_the_section() -> None:
    live = brief_of(earnings=live_week())
    html = render_html(live, render_charts(live.charts))
    assert (
        "Bloom Energy Corporation (BE), weight 0.41%, before the open · "
        '<a href="https://finance.yahoo.com/calendar/earnings?symbol=BE" rel="noopener noreferrer nofollow">'
        "Yahoo Finance</a>"
    ) in html
    _, text = render_email(live, view_url=None)
    assert (
        "\n- Monday 2026-11-23 (Yahoo Finance): Bloom Energy Corporation (BE), weight\n"
        "  0.41%, before the open.\n"
        "  https://finance.yahoo.com/calendar/earnings?symbol=BE\n"
    ) in text
    be, moog = live_week().largest
    moog = replace(moog, day=be.day)  # a day whose reports have pages of their own: a line each
    _, text = render_email(brief_of(earnings=live_week(largest=(be, moog))), view_url=None)
    _, unlinked = render_email(
        brief_of(earnings=live_week(largest=(be, replace(moog, url="")))), view_url=None
    )
    # one with a link and one without: a line each too (BE's page is not Moog's)
    assert "\n- Monday 2026-11-23: Moog Inc. (MOG-A), weight under 0.01% · Yahoo Finance\n\n" in unlinked
    assert unlinked.count("https://finance.yahoo.com/calendar/earnings?symbol=BE") == 1
    assert (
        "\n- Monday 2026-11-23: Bloom Energy Corporation (BE), weight 0.41%, before the\n"
        "  open · Yahoo Finance\n"
        "  https://finance.yahoo.com/calendar/earnings?symbol=BE\n"
        "- Monday 2026-11-23: Moog Inc. (MOG-A), weight under 0.01% · Yahoo Finance\n"
        "  https://finance.yahoo.com/calendar/earnings?symbol=MOG-A\n"
    ) in text
    failed = brief_of(earnings=None, calendar_failures=((NAME, f"{RATE_LIMITED}"),))
    assert outlook(failed).earnings_note == () and outlook(failed).earnings == ()
    why = f"Calendar sources not reached this week: {NAME} ({RATE_LIMITED})."
    assert why in render_html(failed, {})
    assert why in render_markdown(failed, {})


@pytest.mark.parametrize(
    ("start", "level", "said"),
    [
        (date(2026, 11, 16), logging.WARNING, "is not next week's"),  # stale
        (date(2026, 11, 30), logging.INFO, "read for a later week"),  # a backfill's past week
    ],
)
def test_earnings_read_for_another_week_are_never_shown(
    caplog: pytest.LogCaptureFixture, start: date, level: int, said: str
) -> None:
    """A calendar of an earlier week is stale: a WARNING.  One of a later week is what a past week
    built from a later snapshot (a backfill) holds: left out too, said at INFO, not 51 warnings."""
    other = live_week(start=start, end=start + timedelta(days=4), largest=())
    with caplog.at_level(logging.INFO, logger="generator.analysis.brief"):
        brief = brief_of(earnings=other)
    assert outlook(brief).earnings_note == ()
    [record] = [r for r in caplog.records if "earnings calendar" in r.getMessage()]
    assert record.levelno == level and said in record.getMessage()


def test_the_sample_lists_its_largest_reporting_members_labelled_as_sample() -> None:
    snapshot: Snapshot = load_sample()
    week = snapshot.earnings
    assert week is not None and week.origin == "sample" and week.source == "sample calendar"
    assert (week.start, week.end, week.reporting, len(week.largest)) == (
        date(2026, 11, 23), date(2026, 11, 27), 23, 10,
    )  # fmt: skip
    assert all(week.start <= r.day <= week.end and r.day != date(2026, 11, 26) for r in week.largest)
    assert all(r.url.startswith("https://finance.yahoo.com/calendar/earnings?day=") for r in week.largest)
    assert [r.day for r in week.largest] == sorted(r.day for r in week.largest)
