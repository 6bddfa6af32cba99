"""sources.member_prices: member bars in chunks through yfinance's real parser, served offline.

Every test hands yfinance a session whose transport answers locally (tests/yahoo_transport.py):
synthetic chart bodies for the members (and one recorded body), Yahoo's 429 and 404 answers, a
name lookup or connection that fails, a request that hangs.  The member cache is a real SQLite
file in the test's folder.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from yahoo_transport import (
    Reply,
    YahooTransport,
    chart_body,
    load_body,
    serving,
)

from generator.sources.calendar import trading_days
from generator.sources.member_prices import MemberPanel, fetch_member_panel, member_cache_path
from generator.sources.price_cache import PriceCache
from generator.sources.yahoo_client import RATE_LIMITED

NY = ZoneInfo("America/New_York")
IWM = Path(__file__).parent / "data" / "yahoo" / "chart-IWM-2026-10-19-to-2026-11-20.body.json"
FIRST, LAST = date(2025, 6, 2), date(2026, 11, 20)  # the bars Yahoo holds for the synthetic members
SATURDAY = date(2026, 11, 21)
SATURDAY_NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
FRIDAY = date(2026, 11, 20)  # the last complete session seen on SATURDAY
HISTORY_DAYS = 400  # the default: from 2025-10-17 on SATURDAY


def members(n: int) -> list[str]:
    return [f"M{i:03d}" for i in range(n)]


def bars(symbol: str, last: date = LAST) -> pd.DataFrame:
    """A member's daily bars on NYSE sessions, a random walk seeded by its name; Adj Close 2% under Close."""
    days = pd.DatetimeIndex(pd.to_datetime(trading_days(FIRST, last)), name="Date").as_unit("ns")
    rng = np.random.default_rng(sum(map(ord, symbol)))
    close = np.round(20.0 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days)))), 4)
    volume = rng.integers(10_000, 900_000, len(days)).astype(float)
    frame = {"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close, "Volume": volume}
    return pd.DataFrame({**frame, "Adj Close": np.round(close * 0.98, 4)}, index=days)


class Throttled(YahooTransport):
    """Yahoo rate-limits this client for a while: chart requests number ``first`` .. ``first + count - 1``
    (time-zone probes and bars requests alike, counted from 0) are answered 429."""

    def __init__(self, first: int = 0, count: int = 0) -> None:
        super().__init__()
        self.first, self.count = first, count
        self.charts = self.throttled = 0
        self._count_lock = threading.Lock()

    def answer(self, method: str, url: str) -> Reply:
        reply = super().answer(method, url)
        if "/v8/finance/chart/" not in url:
            return reply
        with self._count_lock:
            number, self.charts = self.charts, self.charts + 1
            if not self.first <= number < self.first + self.count:
                return reply
            self.throttled += 1
        return Reply(429, b"Too Many Requests\r\n", "text/plain")


@pytest.fixture
def yahoo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Throttled]:
    with serving(monkeypatch, Throttled()) as transport:
        yield transport


def serve(yahoo: YahooTransport, symbols: list[str], last: date = LAST) -> None:
    for symbol in symbols:
        yahoo.chart(symbol, chart_body(symbol, bars(symbol, last)))


def fetch(yahoo: YahooTransport, symbols: list[str], cache_dir: Path, **kwargs: Any) -> MemberPanel:
    kwargs.setdefault("today", SATURDAY)
    kwargs.setdefault("now", SATURDAY_NOW)
    kwargs.setdefault("sleep", lambda _s: None)
    kwargs.setdefault("pause_s", 0.0)
    return fetch_member_panel(symbols, cache_dir=cache_dir, session=yahoo.session(), **kwargs)


def bars_asked(yahoo: YahooTransport) -> list[str]:
    """The members whose bars were requested, in request order (time-zone probes left out)."""
    with yahoo._lock:
        return [r.symbol for r in yahoo.seen if r.is_history]


def midnight_ny(day: date) -> int:
    return int(datetime.combine(day, time(0), NY).timestamp())


def expected_closes(symbol: str, first: date, last: date = FRIDAY) -> pd.Series:
    adj = bars(symbol)["Adj Close"]
    return adj.loc[pd.Timestamp(first) : pd.Timestamp(last)].rename(symbol)


# -- fetching in chunks ----------------------------------------------------------------------------


def test_a_cold_fetch_asks_every_member_in_chunks_with_pauses_and_caches_the_panel(
    yahoo: Throttled, tmp_path: Path
) -> None:
    names = members(11)
    serve(yahoo, names)
    yahoo.chart("IWM", IWM)  # a recorded body among the synthetic ones
    sleeps: list[float] = []
    seen: list[tuple[int, int]] = []
    panel = fetch(
        yahoo, [*names, "IWM", "M003"], tmp_path, chunk=5, pause_s=0.5, sleep=sleeps.append,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert panel.fetched == (*names, "IWM") and panel.failed == () and panel.from_cache == ()
    assert (panel.requests, panel.stopped_early, panel.last_session) == (12, "", FRIDAY)
    assert sleeps == [0.5, 0.5]  # between three chunks, not after the last
    assert seen == [(5, 12), (10, 12), (12, 12)]
    assert sorted(bars_asked(yahoo)) == sorted([*names, "IWM"])  # a duplicate is asked once
    since = date(2025, 10, 17)  # 400 days before SATURDAY
    assert {int(r.params["period1"]) for r in yahoo.seen if r.is_history} == {midnight_ny(since)}
    assert list(panel.closes.columns) == [*names, "IWM"]
    assert (panel.closes.index[0], panel.closes.index[-1]) == (pd.Timestamp(since), pd.Timestamp(FRIDAY))
    pd.testing.assert_series_equal(
        panel.closes["M004"], expected_closes("M004", since), check_freq=False, check_exact=True
    )
    recorded = load_body(IWM)["chart"]["result"][0]["indicators"]["adjclose"][0]["adjclose"]
    assert panel.closes["IWM"].dropna().iloc[-1] == pytest.approx(recorded[-1])
    assert panel.closes["IWM"].first_valid_index() == pd.Timestamp("2026-10-19")  # its history is short
    with PriceCache(member_cache_path(tmp_path)) as cache:
        assert cache.last_bars([*names, "IWM"]) == dict.fromkeys([*names, "IWM"], FRIDAY)
    assert panel.coverage == "12 of 12 members"


def test_a_refresh_with_everything_cached_makes_no_request_at_all(yahoo: Throttled, tmp_path: Path) -> None:
    names = members(8)
    serve(yahoo, names)
    cold = fetch(yahoo, names, tmp_path, chunk=3)
    yahoo.seen.clear()
    calls: list[tuple[int, int]] = []
    monday = date(2026, 11, 23)  # without a build clock: the session before today (Friday)
    warm = fetch(yahoo, names, tmp_path, today=monday, now=None, progress=lambda d, t: calls.append((d, t)))
    assert (warm.requests, yahoo.seen, calls) == (0, [], [])
    assert warm.from_cache == tuple(names) and warm.fetched == () and warm.failed == ()
    assert warm.last_session == FRIDAY
    pd.testing.assert_frame_equal(
        warm.closes.loc["2025-10-20":], cold.closes.loc["2025-10-20":], check_exact=True
    )


def test_an_incremental_refresh_asks_only_the_members_behind_from_their_last_bar(
    yahoo: Throttled, tmp_path: Path
) -> None:
    names = members(6)
    serve(yahoo, names, last=date(2026, 11, 13))  # last week's run
    fetch(yahoo, names, tmp_path, today=date(2026, 11, 14), now=datetime(2026, 11, 14, 14, tzinfo=UTC))
    serve(yahoo, names)  # this week Yahoo has five more sessions
    with PriceCache(member_cache_path(tmp_path)) as cache:  # one member was refreshed since
        cache.store("M002", bars("M002").loc["2026-11-16":], SATURDAY_NOW)
    yahoo.seen.clear()
    panel = fetch(yahoo, names, tmp_path)
    assert sorted(bars_asked(yahoo)) == ["M000", "M001", "M003", "M004", "M005"]
    assert {int(r.params["period1"]) for r in yahoo.seen if r.is_history} == {midnight_ny(date(2026, 11, 13))}
    assert panel.from_cache == ("M002",) and panel.failed == () and panel.requests == 5
    week = panel.closes.loc["2026-11-16":"2026-11-20"]
    pd.testing.assert_frame_equal(
        week,
        pd.concat([expected_closes(s, date(2026, 11, 16)) for s in names], axis=1),
        check_freq=False,
        check_exact=True,
    )


def test_todays_unfinished_bar_is_neither_cached_nor_served(yahoo: Throttled, tmp_path: Path) -> None:
    serve(yahoo, ["M000"])  # Yahoo already has Friday's bar at 15:00 New York
    friday_afternoon = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    panel = fetch(yahoo, ["M000"], tmp_path, today=FRIDAY, now=friday_afternoon)
    assert panel.last_session == date(2026, 11, 19) and panel.fetched == ("M000",)
    assert panel.closes.index[-1] == pd.Timestamp("2026-11-19")
    with PriceCache(member_cache_path(tmp_path)) as cache:
        assert cache.last_bar("M000") == date(2026, 11, 19)


# -- rate limits, errors that heal and errors that do not ------------------------------------------------


@pytest.mark.parametrize(("workers", "count"), [(1, 4), (4, 8)])
def test_rate_limit_answers_partway_through_are_retried_with_backoff(
    yahoo: Throttled, tmp_path: Path, workers: int, count: int
) -> None:
    names = members(12)
    serve(yahoo, names)
    yahoo.first, yahoo.count = 9, count  # from about the fifth member on, ``count`` 429s in a row
    sleeps: list[float] = []
    panel = fetch(yahoo, names, tmp_path, chunk=4, pause_s=1.0, sleep=sleeps.append, workers=workers)
    assert yahoo.throttled == count
    assert panel.fetched == tuple(names) and panel.failed == () and panel.stopped_early == ""
    backoff = [s for s in sleeps if s != 1.0]
    assert panel.requests == 12 + len(backoff)  # each try that met a 429 was followed by a pause
    assert backoff and all(0.5 <= s <= 8.0 for s in backoff)
    if workers == 1:  # yfinance asks twice (once more with its other cookie strategy) before it raises
        assert panel.requests == 14 and 0.5 <= backoff[0] <= 1.0 and 1.0 <= backoff[1] <= 2.0
    assert panel.closes[names].notna().iloc[-1].all()


def test_a_rate_limit_that_outlasts_the_retries_stops_the_stage(yahoo: Throttled, tmp_path: Path) -> None:
    names = members(9)
    serve(yahoo, names)
    yahoo.fail("M004", 429)  # never heals
    panel = fetch(yahoo, names, tmp_path, chunk=3, workers=1, max_tries=3)
    assert panel.stopped_early == RATE_LIMITED
    assert panel.fetched == ("M000", "M001", "M002", "M003")
    assert panel.failed == ("M004", "M005", "M006", "M007", "M008")
    assert panel.reasons["M004"] == RATE_LIMITED
    assert panel.reasons["M005"] == f"not asked: {RATE_LIMITED}" == panel.reasons["M008"]
    assert panel.requests == 4 + 3 and "M005" not in bars_asked(yahoo)
    assert panel.coverage == "4 of 9 members (5 not fetched)"
    assert panel.closes[list(panel.failed)].isna().all().all()  # nothing invented


@pytest.mark.parametrize(
    ("offline", "why"), [("dns", "cannot resolve host"), ("refused", "connection refused")]
)
def test_an_error_that_cannot_heal_stops_the_stage_at_once(
    yahoo: Throttled, tmp_path: Path, offline: str, why: str
) -> None:
    names = members(10)
    serve(yahoo, names, last=date(2026, 11, 13))
    fetch(yahoo, ["M007"], tmp_path, today=date(2026, 11, 14), now=datetime(2026, 11, 14, 14, tzinfo=UTC))
    yahoo.seen.clear()
    yahoo.offline(offline)
    sleeps: list[float] = []
    panel = fetch(yahoo, names, tmp_path, chunk=4, pause_s=1.0, sleep=sleeps.append)
    assert panel.stopped_early == f"cannot reach Yahoo Finance ({why})"
    assert panel.requests <= 4 and sleeps == []  # no retry, no second chunk
    assert panel.failed == tuple(names) and panel.fetched == ()
    assert panel.reasons["M009"] == f"not asked: cannot reach Yahoo Finance ({why})"
    served = panel.closes["M007"].dropna()  # what the cache holds is used, as it is
    assert served.index[-1] == pd.Timestamp("2026-11-13")
    assert panel.closes.drop(columns="M007").isna().all().all()


def test_a_member_yahoo_does_not_know_fails_alone(
    yahoo: Throttled, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    names = members(5)
    serve(yahoo, names)
    with caplog.at_level("WARNING", logger="generator.sources.member_prices"):
        panel = fetch(yahoo, [*names[:2], "GONE", *names[2:]], tmp_path, chunk=2)
    assert panel.failed == ("GONE",) and panel.fetched == tuple(names) and panel.stopped_early == ""
    assert panel.reasons == {"GONE": "symbol not found on Yahoo Finance"}
    assert panel.closes["GONE"].isna().all()
    assert [r.getMessage() for r in caplog.records] == [
        "member prices: 1 of 6 members not fetched (GONE: symbol not found on Yahoo Finance)"
    ]


# -- the budget ---------------------------------------------------------------------------------------


def test_when_the_budget_runs_out_the_cache_is_used_and_the_rest_is_listed_as_failed(
    yahoo: Throttled, tmp_path: Path
) -> None:
    names = members(10)
    serve(yahoo, names, last=date(2026, 11, 13))
    fetch(yahoo, ["M008"], tmp_path, today=date(2026, 11, 14), now=datetime(2026, 11, 14, 14, tzinfo=UTC))
    serve(yahoo, names)
    yahoo.seen.clear()
    progress: list[tuple[int, int]] = []

    def clock() -> float:  # each bars request takes ten seconds
        return 10.0 * len(bars_asked(yahoo))

    panel = fetch(
        yahoo, names, tmp_path, budget_s=45.0, chunk=2, workers=1, clock=clock,
        progress=lambda d, t: progress.append((d, t)),
    )  # fmt: skip
    used_up = "the stage budget of 45 s is used up"
    assert panel.stopped_early == used_up and panel.requests == 5
    assert panel.fetched == tuple(names[:5]) and panel.failed == tuple(names[5:])
    assert panel.reasons["M009"] == f"not asked: {used_up}"
    assert progress == [(2, 10), (4, 10), (6, 10)]  # the third chunk ran out midway
    assert panel.closes["M008"].dropna().index[-1] == pd.Timestamp("2026-11-13")  # cached bars used
    assert panel.closes[names[5:]].drop(columns="M008").isna().all().all()
    assert panel.coverage == "5 of 10 members (5 not fetched)"


def test_a_hung_request_is_not_waited_for_past_the_budget(yahoo: Throttled, tmp_path: Path) -> None:
    names = members(3)
    serve(yahoo, names)
    yahoo.hang("M000")
    panel = fetch(yahoo, names, tmp_path, budget_s=0.3, chunk=3, workers=1)
    assert panel.stopped_early == "the stage budget of 0.3 s is used up"
    assert panel.failed == tuple(names) and panel.requests == 1
    assert panel.reasons["M000"] == "no answer within the stage budget of 0.3 s"
    assert panel.reasons["M001"] == "not asked: the stage budget of 0.3 s is used up"


# -- the panel ----------------------------------------------------------------------------------------


def test_the_cache_panel_prefers_adjusted_closes_and_keeps_every_member_as_a_column(tmp_path: Path) -> None:
    with PriceCache(tmp_path / "m.sqlite") as cache:
        cache.store("A", bars("A").loc["2026-11-16":"2026-11-18"], SATURDAY_NOW)
        cache.store("B", bars("B").loc["2026-11-17":"2026-11-20"].drop(columns="Adj Close"), SATURDAY_NOW)
        closes = cache.closes(["B", "NONE", "A"], date(2026, 11, 17), date(2026, 11, 19))
        assert cache.last_bars(["A", "B", "NONE"]) == {"A": date(2026, 11, 18), "B": FRIDAY}
    assert list(closes.columns) == ["B", "NONE", "A"]
    assert list(closes.index) == [pd.Timestamp(f"2026-11-{d}") for d in (17, 18, 19)]
    adjusted = bars("A")["Adj Close"].loc["2026-11-17":"2026-11-18"].tolist()
    assert closes["A"].tolist()[:2] == adjusted and np.isnan(closes["A"].iloc[2])  # adjusted where cached
    assert closes["B"].tolist() == bars("B")["Close"].loc["2026-11-17":"2026-11-19"].tolist()  # else Close
    assert closes["NONE"].isna().all()


def test_coverage_is_stated_with_thousands_separators() -> None:
    panel = MemberPanel(
        closes=pd.DataFrame(), fetched=tuple(members(1000)) + ("X",) * 874, from_cache=(),
        failed=("F",) * 38, requests=1874, stopped_early="",
    )  # fmt: skip
    assert panel.coverage == "1,874 of 1,912 members (38 not fetched)"
