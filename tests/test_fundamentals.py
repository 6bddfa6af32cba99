"""The members' fundamentals: the maths by hand, and the screener refresh through yfinance, offline.

yfinance's ``screen`` posts its query to Yahoo's screener; the session here (tests/yahoo_transport.py,
extended below for that POST) answers it from a list of synthetic quotes, page by page by the
``offset`` and ``size`` of the posted body, with Yahoo's 429 answers partway, a hang, or no network.
The cache is a real file in the test's folder.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from yahoo_transport import (
    HANG_LIMIT,
    OFFLINE,
    Reply,
    YahooTransport,
    _OfflineCurlSession,
    serving,
)

from generator.analysis.common import make_context
from generator.analysis.fundamentals import (
    FundamentalsFacts,
    FundamentalsGap,
    MemberQuote,
    aggregate,
    fundamentals_facts,
    pe,
)
from generator.errors import SourceError
from generator.models import Config, MemberFundamentals
from generator.sources.fundamentals import (
    CACHE_NAME,
    EXCHANGES,
    SOURCE,
    FundamentalsProvider,
    ScreenCache,
    parse_quotes,
)
from generator.sources.fundamentals_block import fundamentals_block, read_fundamentals_block
from generator.sources.gather import compose
from generator.sources.ishares import Member, Membership
from generator.sources.providers import ProviderContext, ProviderResult, Transport
from generator.sources.snapshot import load_sample, read_snapshot, save_snapshot
from generator.sources.yahoo_client import RATE_LIMITED

TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
WEEK = (date(2026, 11, 16), date(2026, 11, 20))
MEMBERSHIP_AS_OF = date(2026, 11, 18)


# -- the maths, by hand -------------------------------------------------------------------------------------


HAND = {
    "AAA": MemberQuote(100.0, 2.0, 10.0),  # earnings 100 × 2 / 10 = 20 (P/E 5)
    "BBB": MemberQuote(300.0, 1.0, 30.0),  # 10 (P/E 30)
    "CCC": MemberQuote(100.0, -1.0, 20.0),  # -5: a loss-maker (P/E -20)
    "DDD": MemberQuote(50.0, 0.0, 5.0),  # 0: covered, neither profit nor loss
    "ZERO": MemberQuote(0.0, 1.0, 10.0),  # no market value: not covered
    "NAN": MemberQuote(math.nan, 1.0, 10.0),  # not covered
    "NOEPS": MemberQuote(80.0, None, 10.0),  # not covered
    "NOPRICE": MemberQuote(80.0, 1.0, 0.0),  # not covered
    "NEGCAP": MemberQuote(-10.0, 1.0, 10.0),  # not covered
}
HAND_MEMBERS = ["AAA", "BBB", "CCC", "DDD", "ZERO", "NAN", "NOEPS", "NOPRICE", "NEGCAP", "MISSING", "AAA"]


def test_the_pe_including_losses_is_total_value_over_total_earnings_checked_by_hand() -> None:
    block = aggregate(
        HAND_MEMBERS, HAND, as_of=date(2026, 11, 2), membership_as_of=MEMBERSHIP_AS_OF, source="hand"
    )
    # Ten members (AAA listed twice counts once); four covered: AAA, BBB, CCC, DDD.
    assert (block.members, block.covered, block.loss_makers) == (10, 4, 1)
    assert block.market_cap == 550.0  # 100 + 300 + 100 + 50
    assert block.earnings == 25.0  # 20 + 10 - 5 + 0
    assert (block.profit_market_cap, block.profits, block.loss_market_cap) == (400.0, 30.0, 100.0)
    assert pe(block.market_cap, block.earnings) == 22.0  # 550 / 25
    # The same number as the market-value-weighted harmonic mean of the members' own P/Es (5, 30, -20,
    # and DDD's infinite one, whose reciprocal is 0): 1 / Σ (w / PE).
    weights = {"AAA": 100 / 550, "BBB": 300 / 550, "CCC": 100 / 550, "DDD": 50 / 550}
    inverse = weights["AAA"] / 5 + weights["BBB"] / 30 + weights["CCC"] / -20 + weights["DDD"] * 0.0
    assert 1 / inverse == pytest.approx(22.0)
    assert pe(block.profit_market_cap, block.profits) == pytest.approx(400 / 30)  # the loss-maker left out
    # An arithmetic mean of the positive P/Es would say something else again: (5 + 30) / 2 = 17.5.


def test_members_losing_money_in_total_have_no_pe_including_losses() -> None:
    quotes = {"WIN": MemberQuote(100.0, 1.0, 10.0), "LOSS": MemberQuote(100.0, -3.0, 10.0)}  # +10, -30
    block = aggregate(["WIN", "LOSS"], quotes, as_of=TODAY, membership_as_of=TODAY, source="hand")
    assert block.earnings == -20.0 and pe(block.market_cap, block.earnings) is None
    assert pe(block.profit_market_cap, block.profits) == 10.0
    assert pe(0.0, 5.0) is None and pe(math.inf, 5.0) is None and pe(10.0, 0.0) is None


def context(config: Config | None = None) -> Any:
    snapshot = load_sample()
    return make_context(snapshot, config or _config(), *WEEK)


def _config() -> Config:
    from generator.config import load_config
    from tests.conftest import ROOT

    return load_config(ROOT / "feeds.yaml")


def test_the_figures_carry_the_refresh_as_their_provenance_and_say_when_they_cannot_be_used() -> None:
    ctx = context()
    block = aggregate(
        HAND_MEMBERS[:4], HAND, as_of=date(2026, 11, 2), membership_as_of=MEMBERSHIP_AS_OF, source=SOURCE
    )
    facts = fundamentals_facts(ctx, block)
    assert isinstance(facts, FundamentalsFacts)
    assert facts.pe.value == 22.0 and facts.loss_share.value == 25.0
    assert facts.loss_cap_share.value == pytest.approx(100 / 550 * 100)
    assert facts.pe_profitable.value == pytest.approx(400 / 30)
    assert (facts.covered.value, facts.covered.text) == (4, "of 4")
    prov = facts.pe.provenance
    assert (prov.symbols, prov.window, prov.last_bar, prov.provider) == (
        ("index members",), "TTM", date(2026, 11, 2), SOURCE,
    )  # fmt: skip
    assert "harmonic mean" in prov.method and "losses netted against profits" in prov.method
    assert fundamentals_facts(ctx, None) == FundamentalsGap("none")
    old = replace(block, as_of=date(2026, 9, 18))  # 63 days before the week's end
    assert fundamentals_facts(ctx, old) == FundamentalsGap("stale", date(2026, 9, 18))
    assert isinstance(fundamentals_facts(ctx, replace(block, as_of=date(2026, 9, 19))), FundamentalsFacts)
    later = replace(block, as_of=date(2026, 12, 1))
    assert fundamentals_facts(ctx, later).reason == "later"  # type: ignore[union-attr]
    thin = replace(block, members=10, covered=4)
    assert fundamentals_facts(ctx, thin) == FundamentalsGap("coverage", date(2026, 11, 2), 4, 10)
    losing = fundamentals_facts(ctx, replace(block, earnings=-1.0))
    assert isinstance(losing, FundamentalsFacts) and losing.net_loss and losing.pe.value is None


# -- the screener, served offline -------------------------------------------------------------------------


def quote(i: int) -> dict[str, Any]:
    """A screener quote as Yahoo sends it; every seventh one loses money, every eleventh earns nothing."""
    eps = -0.4 if i % 7 == 0 else 0.0 if i % 11 == 0 else 0.05 * (1 + i % 13)
    return {
        "language": "en-US", "region": "US", "quoteType": "EQUITY", "currency": "USD",
        "symbol": f"Q{i:03d}", "marketCap": 50_000_000 * (1 + i % 40), "epsTrailingTwelveMonths": eps,
        "regularMarketPrice": 5.0 + i % 30, "exchange": "NMS", "trailingPE": None,
    }  # fmt: skip


QUOTES = [quote(i) for i in range(600)]
MEMBERS = tuple(Member(f"Q{i:03d}", f"Q{i:03d}", f"Member {i}", "Industrials", 0.5) for i in range(0, 600, 3))
MEMBERSHIP = Membership(MEMBERSHIP_AS_OF, (*MEMBERS, Member("ZZZZ", "ZZZZ", "Not screened", "Energy", 0.1)))


def expected_sums(quotes: list[dict[str, Any]], members: Membership = MEMBERSHIP) -> dict[str, float]:
    """The block's sums, with plain arithmetic over the quotes."""
    by_symbol = {q["symbol"]: q for q in quotes}
    rows = [by_symbol[m.yahoo_symbol] for m in members.members if m.yahoo_symbol in by_symbol]
    earned = [
        (q["marketCap"], q["marketCap"] * q["epsTrailingTwelveMonths"] / q["regularMarketPrice"])
        for q in rows
    ]
    return {
        "covered": len(rows),
        "loss_makers": sum(1 for _, e in earned if e < 0),
        "market_cap": sum(c for c, _ in earned),
        "earnings": sum(e for _, e in earned),
        "profits": sum(e for _, e in earned if e > 0),
    }


class Screener(YahooTransport):
    """Yahoo's screener: the posted ``offset`` and ``size`` pick the page of ``quotes``.

    ``throttle[offset] = n`` answers the next ``n`` requests for that page 429; ``hang_at`` never
    answers that page (until :attr:`release`).
    """

    def __init__(self, quotes: list[dict[str, Any]]) -> None:
        super().__init__()
        self.quotes = quotes
        self.total: int | None = len(quotes)
        self.posts: list[dict[str, Any]] = []
        self.throttle: dict[int, int] = {}
        self.hang_at: int | None = None
        self.pages: dict[int, bytes] = {}  # offset -> a raw body to send instead
        self.body = threading.local()

    def session(self) -> Any:
        return _ScreenerSession(self)

    def answer(self, method: str, url: str) -> Reply:
        if "/v1/finance/screener" not in url:
            return super().answer(method, url)
        posted = json.loads(getattr(self.body, "data", None) or "{}")
        with self._lock:
            self.posts.append(posted)
        if self._offline:
            return OFFLINE[self._offline]
        offset, size = int(posted["offset"]), int(posted["size"])
        if self.throttle.get(offset, 0) > 0:
            self.throttle[offset] -= 1
            return Reply(429, b"Too Many Requests\r\n", "text/plain")
        if offset == self.hang_at:
            self.release.wait(HANG_LIMIT)
            return Reply(503, b"Service Unavailable", "text/plain")
        if offset in self.pages:
            return Reply(200, self.pages[offset])
        page = self.quotes[offset : offset + size]
        result = {"start": offset, "count": len(page), "total": self.total, "quotes": page}
        return Reply(200, json.dumps({"finance": {"result": [result], "error": None}}).encode())

    def screens(self) -> list[int]:
        with self._lock:
            return [int(p["offset"]) for p in self.posts]


class _ScreenerSession(_OfflineCurlSession):
    """The transport's curl_cffi session, passing the posted body on to :meth:`Screener.answer`."""

    def request(self, method: Any, url: str, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        transport = self._transport
        assert isinstance(transport, Screener)
        transport.body.data = kwargs.get("data")
        return super().request(method, url, params, **kwargs)


@pytest.fixture
def yahoo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Screener]:
    with serving(monkeypatch, Screener(QUOTES)) as transport:
        yield transport


class Pauses:
    def __init__(self) -> None:
        self.taken: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def run(
    yahoo: Screener | None,
    cache: Path,
    *,
    today: date = TODAY,
    offline: bool = False,
    halted: str = "",
    membership: Membership | None = MEMBERSHIP,
    budget: float = 60.0,
    pauses: Pauses | None = None,
) -> ProviderResult:
    config = Config(path="", universe=(), feeds=())
    config = replace(config, valuation=replace(config.valuation, budget=budget))
    ctx = ProviderContext(
        config=config, offline=offline, today=today,
        now=datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=14),
        week_start=WEEK[0], week_end=WEEK[1], cache_dir=cache,
        transport=Transport(session=yahoo.session() if yahoo else None), halted=halted, membership=membership,
    )  # fmt: skip
    provider = FundamentalsProvider(sleep=pauses or Pauses(), rand=lambda: 0.0)
    return provider.fetch(ctx)


def only_row(result: ProviderResult) -> Any:
    (row,) = result.health
    assert (row.kind, row.name) == ("provider", "member fundamentals")
    return row


def test_a_refresh_reads_every_page_sums_the_members_and_keeps_the_quotes_in_the_cache(
    yahoo: Screener, tmp_path: Path
) -> None:
    pauses = Pauses()
    result = run(yahoo, tmp_path, pauses=pauses)
    assert yahoo.screens() == [0, 250, 500]  # 250, 250 and the last 100
    first = yahoo.posts[0]
    assert (first["size"], first["sortField"], first["sortType"], first["quoteType"]) == (
        250,
        "ticker",
        "ASC",
        "EQUITY",
    )
    operands = json.dumps(first["query"])
    assert '["region", "us"]' in operands and all(f'["exchange", "{x}"]' in operands for x in EXCHANGES)
    assert pauses.taken == [0.5, 0.5]  # between pages
    block = result.fundamentals
    assert block is not None
    sums = expected_sums(QUOTES)
    assert (block.members, block.covered, block.loss_makers) == (201, sums["covered"], sums["loss_makers"])
    assert block.market_cap == pytest.approx(sums["market_cap"])
    assert block.earnings == pytest.approx(sums["earnings"]) and block.profits == pytest.approx(
        sums["profits"]
    )
    assert (block.as_of, block.membership_as_of, block.source, block.complete) == (
        TODAY,
        MEMBERSHIP_AS_OF,
        SOURCE,
        True,
    )
    row = only_row(result)
    assert (row.status, row.origin, row.count, row.newest, row.error) == ("ok", "live", 200, TODAY, "")
    doc = json.loads((tmp_path / CACHE_NAME).read_text(encoding="utf-8"))
    assert (doc["day"], doc["complete"], doc["pages"], doc["total"], len(doc["quotes"])) == (
        "2026-11-21",
        True,
        3,
        600,
        600,
    )
    assert doc["quotes"]["Q007"] == [400_000_000, -0.4, 12.0]  # [market cap, EPS, price]: nothing more


def test_the_refresh_is_monthly_a_cached_one_is_used_until_it_is_31_days_old(
    yahoo: Screener, tmp_path: Path
) -> None:
    run(yahoo, tmp_path)
    yahoo.posts.clear()
    later = run(yahoo, tmp_path, today=TODAY + timedelta(days=30))
    assert yahoo.screens() == []  # nothing asked: this month's refresh
    row = only_row(later)
    assert (row.status, row.origin, row.newest, row.error) == ("cached", "cache", TODAY, "")
    assert later.fundamentals is not None and later.fundamentals.as_of == TODAY
    yahoo.quotes = [{**q, "marketCap": q["marketCap"] * 2} for q in QUOTES]  # a month on, prices moved
    stale = run(yahoo, tmp_path, today=TODAY + timedelta(days=31))
    assert yahoo.screens() == [0, 250, 500]
    assert stale.fundamentals is not None and stale.fundamentals.as_of == TODAY + timedelta(days=31)
    assert stale.fundamentals.market_cap == pytest.approx(2 * expected_sums(QUOTES)["market_cap"])
    assert json.loads((tmp_path / CACHE_NAME).read_text())["day"] == "2026-12-22"


def test_a_rate_limit_partway_is_retried_with_backoff(yahoo: Screener, tmp_path: Path) -> None:
    yahoo.throttle[250] = 2  # one attempt: yfinance asks twice (its second cookie strategy) before raising
    pauses = Pauses()
    result = run(yahoo, tmp_path, pauses=pauses)
    assert yahoo.screens() == [0, 250, 250, 250, 500]
    assert pauses.taken == [
        0.5,
        0.5,
        0.5,
    ]  # the page pause, the first backoff (1 s, half jittered), the pause
    row = only_row(result)
    assert (row.status, row.error) == ("ok", "")
    assert result.fundamentals is not None and result.fundamentals.complete


def test_a_rate_limit_that_does_not_clear_leaves_a_partial_refresh_stated_and_asked_again(
    yahoo: Screener, tmp_path: Path
) -> None:
    yahoo.throttle[250] = 1_000
    result = run(yahoo, tmp_path)
    assert yahoo.screens()[:1] == [0] and set(yahoo.screens()[1:]) == {250}
    row = only_row(result)
    block = result.fundamentals
    assert block is not None and not block.complete
    covered = sum(1 for m in MEMBERS if int(m.ticker[1:]) < 250)  # only the first page's members
    assert (row.status, row.origin, row.count, block.covered) == ("ok", "live", covered, covered)
    assert row.error == (
        f"the refresh stopped after 1 page: {RATE_LIMITED}; partial;"
        f" fundamentals from {covered} of 201 members"
    )
    assert json.loads((tmp_path / CACHE_NAME).read_text())["complete"] is False
    yahoo.throttle.clear()
    yahoo.posts.clear()
    again = run(
        yahoo, tmp_path, today=TODAY + timedelta(days=1)
    )  # within the month, but partial: asked again
    assert yahoo.screens() == [0, 250, 500]
    assert again.fundamentals is not None and again.fundamentals.complete


def test_a_failed_refresh_keeps_the_last_complete_one_with_its_date(yahoo: Screener, tmp_path: Path) -> None:
    run(yahoo, tmp_path)
    yahoo.throttle[0] = 1_000
    result = run(yahoo, tmp_path, today=TODAY + timedelta(days=40))
    row = only_row(result)
    assert (row.status, row.origin, row.newest) == ("cached", "cache", TODAY)
    assert (
        row.error
        == f"the refresh stopped after 0 pages: {RATE_LIMITED}; last complete refresh as of 2026-11-21"
    )
    assert result.fundamentals is not None and result.fundamentals.as_of == TODAY
    assert json.loads((tmp_path / CACHE_NAME).read_text())["day"] == "2026-11-21"  # not replaced


def test_quotes_with_missing_fields_zero_or_nan_values_and_foreign_currencies_are_not_covered(
    yahoo: Screener, tmp_path: Path
) -> None:
    odd = [
        {"symbol": "A1", "marketCap": 1e9, "epsTrailingTwelveMonths": 1.0, "regularMarketPrice": 10.0},
        {"symbol": "A2", "marketCap": 0, "epsTrailingTwelveMonths": 1.0, "regularMarketPrice": 10.0},
        {"symbol": "A3", "epsTrailingTwelveMonths": 1.0, "regularMarketPrice": 10.0},  # no market value
        {"symbol": "A4", "marketCap": 1e9, "regularMarketPrice": 10.0},  # no EPS
        {"symbol": "A5", "marketCap": 1e9, "epsTrailingTwelveMonths": -2.0, "regularMarketPrice": 10.0},
        {"symbol": "A6", "marketCap": 1e9, "epsTrailingTwelveMonths": 1.0, "regularMarketPrice": 10.0,
         "currency": "CAD"},
        {"symbol": "A7", "marketCap": {"raw": 2e9, "fmt": "2B"}, "epsTrailingTwelveMonths": {"raw": 1.0},
         "regularMarketPrice": 20.0},
        {"symbol": "A8", "marketCap": True, "epsTrailingTwelveMonths": "1.0", "regularMarketPrice": 10.0},
        {"symbol": "A9", "quoteType": "ETF", "marketCap": 1e9, "epsTrailingTwelveMonths": 1.0,
         "regularMarketPrice": 1.0},
        {"marketCap": 1e9},  # no symbol
    ]  # fmt: skip
    nan = {
        "symbol": "A10",
        "marketCap": "NaN-marker",
        "epsTrailingTwelveMonths": 1.0,
        "regularMarketPrice": 10.0,
    }
    raw = json.dumps({"finance": {"result": [{"total": 11, "quotes": [*odd, nan]}], "error": None}})
    yahoo.pages[0] = raw.replace('"NaN-marker"', "NaN").encode()  # Yahoo's JSON can carry a bare NaN
    members = Membership(
        MEMBERSHIP_AS_OF, tuple(Member(s, s, s, "X", 1.0) for s in [f"A{i}" for i in range(1, 11)])
    )
    result = run(yahoo, tmp_path, membership=members)
    block = result.fundamentals
    assert block is not None and block.complete
    # Covered: A1 (earnings 1e8), A5 (-2e8, a loss) and A7 (2e9 × 1 / 20 = 1e8).
    assert (block.members, block.covered, block.loss_makers) == (10, 3, 1)
    assert block.market_cap == 4e9 and block.earnings == pytest.approx(0.0)
    assert only_row(result).error == "fundamentals from 3 of 10 members"
    cached = ScreenCache(tmp_path / CACHE_NAME).load()
    assert (
        cached is not None and "A6" not in cached.quotes and "A9" not in cached.quotes
    )  # not USD, not equity
    assert cached.quotes["A10"] == MemberQuote(None, 1.0, 10.0) and cached.quotes["A3"].market_cap is None


def test_parse_quotes_keeps_only_us_dollar_equities() -> None:
    rows = [
        {"symbol": "abc", "marketCap": 5, "epsTrailingTwelveMonths": -1, "regularMarketPrice": 2},
        {"symbol": "", "marketCap": 5},
        "not a quote",
    ]
    assert parse_quotes(rows) == {"ABC": MemberQuote(5.0, -1.0, 2.0)}
    assert parse_quotes({"quotes": []}) == {}


def test_cache_only_mode_reads_the_cached_refresh_and_asks_nothing(yahoo: Screener, tmp_path: Path) -> None:
    missing = run(yahoo, tmp_path, offline=True)
    row = only_row(missing)
    assert (row.status, row.origin, row.error, missing.fundamentals) == (
        "failed",
        "cache",
        "not cached",
        None,
    )
    run(yahoo, tmp_path)
    yahoo.posts.clear()
    cached = run(
        yahoo, tmp_path, today=TODAY + timedelta(days=70), offline=True
    )  # however old: the analysis judges
    assert yahoo.screens() == []
    assert (only_row(cached).status, only_row(cached).origin) == ("cached", "cache")
    assert cached.fundamentals is not None and cached.fundamentals.as_of == TODAY


def test_nothing_is_asked_when_yahoo_stopped_answering_or_there_are_no_members(
    yahoo: Screener, tmp_path: Path
) -> None:
    halted = run(yahoo, tmp_path, halted="rate limited by Yahoo Finance (HTTP 429)")
    assert yahoo.screens() == []
    assert only_row(halted).error == "not refreshed: rate limited by Yahoo Finance (HTTP 429); nothing cached"
    assert only_row(halted).status == "failed" and halted.fundamentals is None
    nobody = run(yahoo, tmp_path, membership=None)
    assert (only_row(nobody).status, only_row(nobody).error) == ("failed", "no index membership in this run")


def test_no_network_stops_the_refresh_at_once(yahoo: Screener, tmp_path: Path) -> None:
    yahoo.offline("dns")
    result = run(yahoo, tmp_path)
    assert len(yahoo.screens()) == 1  # not retried: it cannot heal in this run
    row = only_row(result)
    assert row.status == "failed" and "cannot reach Yahoo Finance (cannot resolve host)" in row.error


def test_a_hung_page_is_not_waited_for_past_the_budget(yahoo: Screener, tmp_path: Path) -> None:
    yahoo.hang_at = 250
    result = run(yahoo, tmp_path, budget=1.0)
    row = only_row(result)
    assert row.error.startswith(
        "the refresh stopped after 1 page: no answer within the budget of 1 s; partial"
    )
    assert result.fundamentals is not None and not result.fundamentals.complete


def test_a_screen_that_ends_before_its_stated_total_or_sends_nothing_is_not_complete(
    yahoo: Screener, tmp_path: Path
) -> None:
    yahoo.total = 900  # Yahoo says 900, but sends 600
    short = run(yahoo, tmp_path)
    assert yahoo.screens() == [0, 250, 500, 600]
    assert only_row(short).error.startswith(
        "the refresh stopped after 4 pages: the screener sent no quotes past 600 of 900; partial"
    )
    yahoo.quotes, yahoo.total = [], 0
    empty = run(yahoo, tmp_path / "empty")
    assert (
        only_row(empty).error
        == "the refresh stopped after 1 page: the screener sent no quotes; nothing cached"
    )
    assert empty.fundamentals is None and not (tmp_path / "empty" / CACHE_NAME).exists()


def test_an_unreadable_cache_is_refreshed(yahoo: Screener, tmp_path: Path) -> None:
    (tmp_path / CACHE_NAME).write_text("{not json", encoding="utf-8")
    result = run(yahoo, tmp_path)
    assert yahoo.screens() == [0, 250, 500] and only_row(result).status == "ok"


def test_gather_hands_the_index_members_on_to_the_fundamentals(yahoo: Screener, tmp_path: Path) -> None:
    class Members:
        name, cache_folder = "index", "index"
        needs: tuple[str, ...] = ()

        def fetch(self, context: ProviderContext) -> ProviderResult:
            return ProviderResult("members", membership=MEMBERSHIP)

    config = Config(path="", universe=(), feeds=())
    ctx = ProviderContext(
        config=config, offline=False, today=TODAY, now=NOW, week_start=WEEK[0], week_end=WEEK[1],
        cache_dir=tmp_path, transport=Transport(session=yahoo.session()),
    )  # fmt: skip
    snapshot = compose([Members(), FundamentalsProvider(sleep=Pauses(), rand=lambda: 0.0)], ctx)
    assert snapshot.fundamentals is not None and snapshot.fundamentals.members == 201
    assert (tmp_path / "fundamentals" / CACHE_NAME).is_file()


def test_the_index_provider_passes_its_membership_on_even_without_member_prices(tmp_path: Path) -> None:
    from generator.sources.index_provider import IndexProvider
    from tests.conftest import ROOT

    holdings = (ROOT / "tests" / "data" / "issue8" / "IWM_holdings_synthetic.csv").read_bytes()

    def no_prices(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("rate limited")

    ctx = ProviderContext(
        config=_config(), offline=False, today=date(2026, 5, 9), now=NOW, week_start=date(2026, 5, 4),
        week_end=date(2026, 5, 8), cache_dir=tmp_path, transport=Transport(download=lambda url, ua: holdings),
    )  # fmt: skip
    result = IndexProvider(panel=no_prices).fetch(ctx)
    assert result.index_view is None
    assert result.membership is not None and "MOG-A" in result.membership.symbols


# -- the snapshot block -------------------------------------------------------------------------------------


def test_the_snapshot_keeps_only_the_sums_with_the_refresh_date_and_reads_them_back(tmp_path: Path) -> None:
    sample = load_sample()
    block = MemberFundamentals(
        as_of=date(2026, 11, 2), membership_as_of=MEMBERSHIP_AS_OF, source=SOURCE, members=1912, covered=1850,
        loss_makers=702, market_cap=3.1e12, earnings=1.05e11, profit_market_cap=2.6e12, profits=1.7e11,
        loss_market_cap=5e11, complete=False,
    )  # fmt: skip
    snapshot = replace(sample, fundamentals=block, valuation_as_of={"IWM": date(2026, 11, 21)})
    again = save_snapshot(snapshot, tmp_path / "snap")
    assert again.fundamentals == block and again.valuation_as_of == {"IWM": date(2026, 11, 21)}
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fundamentals"] == fundamentals_block(block)
    assert set(manifest["fundamentals"]) == {
        "as_of",
        "membership_as_of",
        "source",
        "members",
        "covered",
        "loss_makers",
        "market_cap",
        "earnings",
        "profit_market_cap",
        "profits",
        "loss_market_cap",
        "complete",
    }  # fmt: skip: no member, no quote
    first = (tmp_path / "snap" / "manifest.json").read_bytes()
    save_snapshot(read_snapshot(tmp_path / "snap"), tmp_path / "snap")
    assert (tmp_path / "snap" / "manifest.json").read_bytes() == first  # byte-identical rewrite
    with pytest.raises(SourceError, match="fundamentals block unreadable"):
        read_fundamentals_block({"as_of": "2026-11-02"}, "manifest")
    with pytest.raises(SourceError, match="counts consistent"):
        read_fundamentals_block({**fundamentals_block(block), "covered": 5000}, "manifest")
    with pytest.raises(SourceError, match="sums must be finite"):
        read_fundamentals_block({**fundamentals_block(block), "earnings": math.inf}, "manifest")
    with pytest.raises(SourceError, match="complete must be true or false, not 'false'"):
        read_fundamentals_block({**fundamentals_block(block), "complete": "false"}, "manifest")
