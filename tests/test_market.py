"""generator.sources.market: yfinance's real parser driven offline by recorded and hand-made chart bodies.

Every test hands yfinance a session whose transport answers locally (tests/yahoo_transport.py),
so yfinance's own request, cookie/crumb and parsing code runs and nothing reaches the network.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import yfinance  # noqa: F401  (imported before any test: its import adds a warnings filter)
from yahoo_transport import YahooTransport, isolate_yfinance, join_market_threads, load_body

from generator.models import Instrument, NetworkSettings, SourceHealth
from generator.sources.calendar import last_complete_session
from generator.sources.market import PROVIDER, THREAD_PREFIX, MarketResult, _classify, fetch_market
from generator.sources.price_cache import PriceCache
from generator.sources.valuation import fetch_valuation, valuation_fields

# yfinance 1.7 still passes inplace=True to pandas 3, which warns; not our code
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

OWN = Path(__file__).parent / "data" / "yahoo"
NY = ZoneInfo("America/New_York")
RUT = OWN / "chart-IDX_RUT-2026-10-19-to-2026-11-20.body.json"
IWM = OWN / "chart-IWM-2026-10-19-to-2026-11-20.body.json"
GSPC = OWN / "chart-IDX_GSPC-2026-10-19-to-2026-11-20.body.json"
FRI_13_EVENING = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)  # 18:00 New York
FRI_20_EVENING = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


@pytest.fixture
def yahoo(monkeypatch: pytest.MonkeyPatch) -> Iterator[YahooTransport]:
    isolate_yfinance(monkeypatch)
    transport = YahooTransport()
    yield transport
    transport.release.set()
    join_market_threads(THREAD_PREFIX)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[PriceCache]:
    with PriceCache(tmp_path / "prices.sqlite") as c:
        yield c


def universe(*symbols: str) -> list[Instrument]:
    return [Instrument(s, s, ("small_cap",)) for s in symbols]


def run(
    yahoo: YahooTransport, cache: PriceCache, symbols: list[str], now: datetime, **kwargs: Any
) -> MarketResult:
    kwargs.setdefault("today", now.astimezone(NY).date())
    kwargs.setdefault("valuation", False)
    kwargs.setdefault("sleep", lambda _s: None)
    deadline = kwargs.pop("deadline", 30.0)
    return fetch_market(
        universe(*symbols),
        NetworkSettings(market_deadline=deadline),
        cache,
        now=now,
        session=yahoo.session(),
        **kwargs,
    )


def health(result: MarketResult, symbol: str) -> SourceHealth:
    return next(h for h in result.health if h.name == symbol)


def bars_of(body: Path | dict[str, Any]) -> pd.DataFrame:
    """The bars of a chart body, read straight from its JSON (the expected values)."""
    doc = load_body(body) if isinstance(body, Path) else body
    result = doc["chart"]["result"][0]
    quote, adj = result["indicators"]["quote"][0], result["indicators"]["adjclose"][0]["adjclose"]
    days = [datetime.fromtimestamp(t, NY).date() for t in result["timestamp"]]
    frame = pd.DataFrame(
        {
            "Open": quote["open"],
            "High": quote["high"],
            "Low": quote["low"],
            "Close": quote["close"],
            "Adj Close": adj,
            "Volume": quote["volume"],
        },
        index=pd.DatetimeIndex(pd.to_datetime(days), name="Date").as_unit("ns"),
    )
    return frame.astype(float)


def cached(cache: PriceCache, symbol: str) -> pd.DataFrame:
    frame = cache.load(symbol)
    assert frame is not None, f"{symbol} is not cached"
    return frame


def midnight_ny(day: date) -> int:
    return int(datetime.combine(day, time(0), NY).timestamp())


# -- the recorded bodies from ../shared/data -----------------------------------------------------


def test_recorded_qqq_body_parses_into_a_series(
    yahoo: YahooTransport, cache: PriceCache, shared_data: Path
) -> None:
    body = shared_data / "yahoo_chart_json/raw_bodies/chart-QQQ-2020-01-01-to-2020-01-03.body.json"
    yahoo.chart("QQQ", body)
    result = run(yahoo, cache, ["QQQ"], datetime(2020, 1, 2, 23, 0, tzinfo=UTC))
    s = result.series["QQQ"]
    assert (s.provider, s.origin, s.last_bar) == (PROVIDER, "live", date(2020, 1, 2))
    row = s.frame.loc["2020-01-02"]
    assert row["Open"] == 214.39999389648438
    assert row["High"] == 216.16000366210938
    assert row["Low"] == 213.97999572753906
    assert row["Close"] == 216.16000366210938
    assert row["Adj Close"] == 209.6380615234375
    assert row["Volume"] == 30969400
    assert health(result, "QQQ") == SourceHealth(
        "symbol", "QQQ", "ok", "live", 1, date(2020, 1, 2), "", PROVIDER
    )
    pd.testing.assert_frame_equal(cached(cache, "QQQ"), s.frame)


def test_recorded_tsla_long_history_keeps_every_bar(
    yahoo: YahooTransport, cache: PriceCache, shared_data: Path
) -> None:
    body = (
        shared_data / "yahoo_chart_json/raw_bodies/historical-via-chart-dividends-TSLA-no-dividends.body.json"
    )
    yahoo.chart("TSLA", body)
    result = run(yahoo, cache, ["TSLA"], datetime(2023, 8, 14, 22, 0, tzinfo=UTC), history_years=20)
    frame = result.series["TSLA"].frame
    expected = bars_of(body)
    assert len(frame) == len(expected) == 3303
    assert (frame.index[0].date(), frame.index[-1].date()) == (date(2010, 6, 29), date(2023, 8, 11))
    assert (
        frame.index.is_unique
        and frame.index.is_monotonic_increasing
        and pd.DatetimeIndex(frame.index).tz is None
    )
    np.testing.assert_array_equal(frame["Close"].to_numpy(), expected["Close"].to_numpy())
    np.testing.assert_array_equal(frame["Adj Close"].to_numpy(), expected["Adj Close"].to_numpy())
    assert health(result, "TSLA").count == 3303


def test_recorded_tsla_is_trimmed_to_history_years_but_cached_whole(
    yahoo: YahooTransport, cache: PriceCache, shared_data: Path
) -> None:
    yahoo.chart(
        "TSLA",
        shared_data
        / "yahoo_chart_json/raw_bodies/historical-via-chart-dividends-TSLA-no-dividends.body.json",
    )
    result = run(yahoo, cache, ["TSLA"], datetime(2023, 8, 14, 22, 0, tzinfo=UTC), history_years=5)
    assert result.series["TSLA"].first_bar >= date(2018, 8, 14)
    assert result.series["TSLA"].first_bar <= date(2018, 8, 20)
    assert len(cached(cache, "TSLA")) == 3303


def test_recorded_empty_range_is_a_failure_not_no_change(
    yahoo: YahooTransport, cache: PriceCache, shared_data: Path
) -> None:
    raw = shared_data / "yahoo_chart_json/raw_bodies"
    yahoo.chart(
        "AAPL", raw / "chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.body.json"
    )
    result = run(yahoo, cache, ["AAPL"], datetime(2025, 2, 3, 23, 0, tzinfo=UTC))
    assert "AAPL" not in result.series
    row = health(result, "AAPL")
    assert (row.status, row.origin, row.count, row.newest) == ("failed", "none", 0, None)
    assert row.error == "AAPL: no data returned by Yahoo Finance"
    assert cache.load("AAPL") is None


def test_requests_session_works_too(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("^RUT", RUT)
    result = fetch_market(
        universe("^RUT"),
        NetworkSettings(),
        cache,
        today=date(2026, 11, 20),
        now=FRI_20_EVENING,
        session=yahoo.requests_session(),
        valuation=False,
    )
    pd.testing.assert_frame_equal(result.series["^RUT"].frame, bars_of(RUT), check_freq=False)


# -- our own bodies: a universe, partly broken ------------------------------------------------------


def test_own_bodies_parse_with_values_from_the_json(yahoo: YahooTransport, cache: PriceCache) -> None:
    for symbol, body in (("^RUT", RUT), ("IWM", IWM), ("^GSPC", GSPC)):
        yahoo.chart(symbol, body)
    result = run(yahoo, cache, ["^RUT", "IWM", "^GSPC"], FRI_20_EVENING)
    for symbol, body in (("^RUT", RUT), ("IWM", IWM), ("^GSPC", GSPC)):
        pd.testing.assert_frame_equal(result.series[symbol].frame, bars_of(body), check_freq=False)
        assert health(result, symbol).status == "ok"
        assert health(result, symbol).newest == date(2026, 11, 20)
    assert [h.name for h in result.health] == ["^RUT", "IWM", "^GSPC"]


def test_partial_universe_keeps_the_good_symbols(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("^RUT", RUT)
    yahoo.chart("IWM", IWM)
    empty = load_body(IWM)
    result0 = empty["chart"]["result"][0]
    result0["meta"]["symbol"] = "IJR"
    del result0["timestamp"]
    result0["indicators"] = {"quote": [{}]}
    yahoo.chart("IJR", empty)  # Yahoo knows IJR but sends no bars; ^SP600 is not served at all: 404
    result = run(yahoo, cache, ["^RUT", "^SP600", "IWM", "IJR"], FRI_20_EVENING)
    assert sorted(result.series) == ["IWM", "^RUT"]
    assert health(result, "^SP600").status == "failed"
    assert health(result, "^SP600").error == "^SP600: symbol not found on Yahoo Finance"
    assert health(result, "IJR").status == "failed"
    assert health(result, "IJR").error == "IJR: no data returned by Yahoo Finance"
    pd.testing.assert_frame_equal(result.series["IWM"].frame, bars_of(IWM), check_freq=False)


# -- rate limits, retries, deadline -----------------------------------------------------------------


def test_rate_limit_then_success_is_retried_with_backoff(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("^RUT", RUT)
    yahoo.chart("IWM", IWM)
    yahoo.fail("IWM", 429)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        yahoo.heal("IWM")  # Yahoo lets us back in after the pause

    result = run(yahoo, cache, ["^RUT", "IWM"], FRI_20_EVENING, sleep=sleep, rand=lambda: 0.5)
    assert pauses == [0.75]  # first pause: half of 1 s fixed, plus half of it scaled by the jitter
    assert health(result, "IWM").status == "ok"
    pd.testing.assert_frame_equal(result.series["IWM"].frame, bars_of(IWM), check_freq=False)
    assert len(yahoo.history_requests("^RUT")) == 1  # only the rate-limited symbol was asked again


def test_rate_limit_forever_fails_naming_the_symbol(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("^RUT", RUT)
    yahoo.chart("IWM", IWM)
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    yahoo.fail("IWM", 429)
    pauses: list[float] = []
    result = run(
        yahoo,
        cache,
        ["^RUT", "IWM"],
        FRI_20_EVENING,
        sleep=pauses.append,
        rand=lambda: 1.0,
        max_tries=3,
        valuation=True,
    )
    assert pauses == [1.0, 2.0]  # exponential, at most the full span
    row = health(result, "IWM")
    assert (row.status, row.origin) == ("failed", "none")
    assert row.error == "IWM: rate limited by Yahoo Finance (HTTP 429) (tried 3 times)"
    assert health(result, "^RUT").status == "ok"
    assert result.valuation == {}
    assert not [r for r in yahoo.seen if "quoteSummary" in r.path and r.symbol == "IWM"]  # no extra load


def test_server_error_is_retried(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("IWM", IWM)
    yahoo.fail("IWM", 503, b"<html><body>Service Unavailable</body></html>")
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        yahoo.heal("IWM")

    result = run(yahoo, cache, ["IWM"], FRI_20_EVENING, sleep=sleep)
    assert len(pauses) == 1
    assert health(result, "IWM").status == "ok"


def test_connection_error_is_retried_then_the_cache_is_served(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("^RUT", RUT)
    run(yahoo, cache, ["^RUT"], FRI_13_EVENING)
    yahoo.drop("^RUT")
    pauses: list[float] = []
    result = run(yahoo, cache, ["^RUT"], FRI_20_EVENING, sleep=pauses.append, max_tries=2)
    assert len(pauses) == 1
    row = health(result, "^RUT")
    assert (row.status, row.newest) == ("cached", date(2026, 11, 13))
    assert row.error == "^RUT: network or server error (tried 2 times); serving cached bars up to 2026-11-13"


@pytest.mark.parametrize(
    ("message", "retry", "words"),
    [  # messages as yfinance 1.7 logs them
        (
            "['IWM']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')",
            True,
            "HTTP 429",
        ),
        (
            "Failed to get ticker 'IWM' reason: Failed to perform, curl: (28) Operation timed out",
            True,
            "in time",
        ),
        ("Failed to get ticker 'IWM' reason: Expecting value: line 1 column 1 (char 0)", True, "error page"),
        ("['IWM']: possibly delisted; no timezone found", False, "not found"),
        ("$IWM: No data found, symbol may be delisted", False, "not found"),
        ("['IWM']: possibly delisted; no price data found  (1d 2026-11-13 -> 2026-11-22)", False, "no data"),
    ],
)
def test_logged_yfinance_errors_are_read(message: str, retry: bool, words: str) -> None:
    assert _classify([message], known=False)[0] is retry
    assert words in _classify([message], known=False)[1]


def test_hang_past_the_deadline_returns_with_the_symbols_failed(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("^RUT", RUT)
    yahoo.chart("IWM", IWM)
    yahoo.hang("IWM")
    result = run(yahoo, cache, ["^RUT", "IWM"], FRI_20_EVENING, deadline=0.5, valuation=True)
    assert result.series == {}
    for symbol in ("^RUT", "IWM"):  # one batched download: neither finished
        row = health(result, symbol)
        assert (row.status, row.error) == ("failed", f"{symbol}: no answer within 0.5 s")
    assert result.valuation == {}


def test_live_failure_serves_the_cache_with_its_real_last_bar(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("^RUT", RUT)
    run(yahoo, cache, ["^RUT"], FRI_13_EVENING)
    yahoo.hang("^RUT")
    result = run(yahoo, cache, ["^RUT"], FRI_20_EVENING, deadline=0.5)
    s = result.series["^RUT"]
    assert (s.origin, s.last_bar, s.fetched_at) == ("cache", date(2026, 11, 13), FRI_13_EVENING)
    row = health(result, "^RUT")
    assert (row.status, row.origin, row.count, row.newest) == ("cached", "cache", 20, date(2026, 11, 13))
    assert row.error == "^RUT: no answer within 0.5 s; serving cached bars up to 2026-11-13"


# -- cleaning: unfinished bars and duplicates -------------------------------------------------------


def test_unfinished_current_day_bar_is_left_out(yahoo: YahooTransport, cache: PriceCache) -> None:
    body = OWN / "chart-IWM-2026-11-16-to-2026-11-20-unfinished.body.json"
    yahoo.chart("IWM", body)
    during_session = datetime(2026, 11, 20, 19, 5, tzinfo=UTC)  # 14:05 in New York
    result = run(yahoo, cache, ["IWM"], during_session)
    s = result.series["IWM"]
    assert s.last_bar == date(2026, 11, 19)
    pd.testing.assert_frame_equal(s.frame, bars_of(body).iloc[:-1], check_freq=False)
    assert health(result, "IWM").status == "ok"  # Thursday is the last complete session at 14:05
    assert cache.last_bar("IWM") == date(2026, 11, 19)  # the forming bar is not cached


def test_zero_volume_last_bar_is_left_out_unless_the_symbol_has_no_volume(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("^RUT", OWN / "chart-IDX_RUT-2026-11-16-to-2026-11-20-zero-volume.body.json")
    yahoo.chart("^VIX", OWN / "chart-IDX_VIX-2026-11-16-to-2026-11-20.body.json")
    result = run(yahoo, cache, ["^RUT", "^VIX"], SATURDAY)
    assert result.series["^RUT"].last_bar == date(2026, 11, 19)
    row = health(result, "^RUT")
    assert (row.status, row.error) == (
        "stale",
        "^RUT: newest complete bar is 2026-11-19, expected 2026-11-20",
    )
    assert cache.last_bar("^RUT") == date(2026, 11, 19)
    assert result.series["^VIX"].last_bar == date(2026, 11, 20)
    assert (result.series["^VIX"].frame["Volume"] == 0).all()
    assert health(result, "^VIX").status == "ok"


def test_duplicated_last_row_is_removed(yahoo: YahooTransport, cache: PriceCache) -> None:
    body = OWN / "chart-IDX_GSPC-2026-11-16-to-2026-11-20-duplicate-last.body.json"
    yahoo.chart("^GSPC", body)
    frame = run(yahoo, cache, ["^GSPC"], SATURDAY).series["^GSPC"].frame
    raw = bars_of(body)
    assert len(raw) == 6 and len(frame) == 5
    assert frame.index.is_unique and frame.index[-1] == pd.Timestamp("2026-11-20")
    assert frame["Volume"].iloc[-1] == raw["Volume"].iloc[-1]  # the later repeat of the session wins


# -- the incremental cache ----------------------------------------------------------------------------


def test_second_run_asks_only_from_the_last_cached_bar_and_merges(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("^RUT", RUT)
    first = run(yahoo, cache, ["^RUT"], FRI_13_EVENING)
    assert first.series["^RUT"].last_bar == date(2026, 11, 13)
    assert len(cached(cache, "^RUT")) == 20
    second = run(yahoo, cache, ["^RUT"], FRI_20_EVENING)
    requests = yahoo.history_requests("^RUT")
    assert len(requests) == 2
    assert int(requests[0].params["period1"]) < midnight_ny(date(1990, 1, 1))  # first run: "max"
    assert int(requests[1].params["period1"]) == midnight_ny(date(2026, 11, 13))  # one overlapping bar
    expected = bars_of(RUT)
    pd.testing.assert_frame_equal(second.series["^RUT"].frame, expected, check_freq=False)
    pd.testing.assert_frame_equal(cached(cache, "^RUT"), expected, check_freq=False)
    entry = cache.entry("^RUT")
    assert entry is not None and entry.fetched_at == FRI_20_EVENING


def test_symbols_are_batched_by_where_their_cache_ends(yahoo: YahooTransport, cache: PriceCache) -> None:
    for symbol, body in (("^RUT", RUT), ("IWM", IWM), ("^GSPC", GSPC)):
        yahoo.chart(symbol, body)
    run(yahoo, cache, ["^RUT"], FRI_13_EVENING)
    run(yahoo, cache, ["IWM"], datetime(2026, 11, 18, 23, 0, tzinfo=UTC))
    yahoo.seen.clear()
    result = run(yahoo, cache, ["^RUT", "IWM", "^GSPC"], FRI_20_EVENING)
    starts = {s: int(yahoo.history_requests(s)[0].params["period1"]) for s in ("^RUT", "IWM", "^GSPC")}
    assert starts["^RUT"] == midnight_ny(date(2026, 11, 13))
    assert starts["IWM"] == midnight_ny(date(2026, 11, 18))
    assert starts["^GSPC"] < midnight_ny(date(1990, 1, 1))
    assert all(h.status == "ok" and h.newest == date(2026, 11, 20) for h in result.health)


def test_current_cache_is_served_without_asking(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("^RUT", RUT)
    run(yahoo, cache, ["^RUT"], FRI_20_EVENING)
    yahoo.seen.clear()
    result = run(yahoo, cache, ["^RUT"], SATURDAY)
    assert yahoo.seen == []
    row = health(result, "^RUT")
    assert (row.status, row.origin, row.newest, row.count) == ("ok", "cache", date(2026, 11, 20), 25)
    assert result.series["^RUT"].origin == "cache"


def test_dividend_rebases_the_cached_adjusted_closes(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("HYG", OWN / "chart-HYG-2026-10-05-to-2026-10-30.body.json")
    run(yahoo, cache, ["HYG"], datetime(2026, 10, 30, 22, 0, tzinfo=UTC))
    after = OWN / "chart-HYG-2026-10-05-to-2026-11-06-dividend.body.json"
    yahoo.chart("HYG", after)
    result = run(yahoo, cache, ["HYG"], datetime(2026, 11, 6, 23, 0, tzinfo=UTC))
    expected = bars_of(after)  # Yahoo's adjusted closes after the 2026-11-02 ex-date
    frame = result.series["HYG"].frame
    np.testing.assert_allclose(frame["Adj Close"].to_numpy(), expected["Adj Close"].to_numpy(), rtol=1e-7)
    np.testing.assert_array_equal(frame["Close"].to_numpy(), expected["Close"].to_numpy())
    np.testing.assert_allclose(
        cached(cache, "HYG")["Adj Close"].to_numpy(), expected["Adj Close"].to_numpy(), rtol=1e-7
    )


def test_split_rebases_the_cached_prices(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("IWM", IWM)
    run(yahoo, cache, ["IWM"], FRI_13_EVENING)
    split = copy.deepcopy(load_body(IWM))  # a 2-for-1 split after 2026-11-13: Yahoo halves all history
    indicators = split["chart"]["result"][0]["indicators"]
    for key in ("open", "high", "low", "close"):
        indicators["quote"][0][key] = [v / 2 for v in indicators["quote"][0][key]]
    indicators["quote"][0]["volume"] = [v * 2 for v in indicators["quote"][0]["volume"]]
    indicators["adjclose"][0]["adjclose"] = [v / 2 for v in indicators["adjclose"][0]["adjclose"]]
    yahoo.chart("IWM", split)
    frame = run(yahoo, cache, ["IWM"], FRI_20_EVENING).series["IWM"].frame
    pd.testing.assert_frame_equal(frame, bars_of(split), check_freq=False, rtol=1e-9)


# -- valuation --------------------------------------------------------------------------------------


def test_valuation_is_read_through_yfinance_info(yahoo: YahooTransport) -> None:
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    yahoo.summary("IJR", OWN / "quoteSummary-IJR.body.json")
    found = fetch_valuation(["IWM", "IJR", "NOPE"], yahoo.session(), 30.0)
    assert found == {
        "IWM": {"trailingPE": 18.74, "priceToBook": 2.11, "yield": 0.0108},
        "IJR": {"yield": 0.0131},
    }


def test_valuation_fields_keep_only_finite_numbers() -> None:
    info = {"trailingPE": 21.5, "forwardPE": float("nan"), "priceToBook": "2.1", "yield": True, "beta": 1.0}
    assert valuation_fields(info) == {"trailingPE": 21.5}
    assert valuation_fields({"yield": 0, "priceToBook": float("inf")}) == {"yield": 0.0}


def test_fetch_market_reports_valuation_for_etfs_only(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("^RUT", RUT)
    yahoo.chart("IWM", IWM)
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    result = run(yahoo, cache, ["^RUT", "IWM"], FRI_20_EVENING, valuation=True)
    assert result.valuation == {"IWM": {"trailingPE": 18.74, "priceToBook": 2.11, "yield": 0.0108}}
    assert not [r for r in yahoo.seen if "quoteSummary" in r.path and r.symbol == "^RUT"]


def summary_requests(yahoo: YahooTransport) -> list[str]:
    return [r.symbol for r in yahoo.seen if r.path.startswith("/v10/finance/quoteSummary/")]


def test_valuation_is_cached_for_the_day(yahoo: YahooTransport, cache: PriceCache, tmp_path: Path) -> None:
    yahoo.chart("IWM", IWM)
    yahoo.chart("HYG", OWN / "chart-HYG-2026-10-05-to-2026-10-30.body.json")
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")  # HYG: Yahoo has no quote summary
    expected = {"IWM": {"trailingPE": 18.74, "priceToBook": 2.11, "yield": 0.0108}}
    assert run(yahoo, cache, ["IWM", "HYG"], FRI_20_EVENING, valuation=True).valuation == expected
    assert sorted(set(summary_requests(yahoo))) == ["HYG", "IWM"]
    doc = json.loads((tmp_path / "valuation.json").read_text())
    assert doc["IWM"]["day"] == doc["HYG"]["day"] == "2026-11-20"
    assert doc["HYG"]["fields"] == {}  # answered without fields: not asked again today either
    yahoo.seen.clear()
    later = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # still Friday in New York
    assert run(yahoo, cache, ["IWM", "HYG"], later, valuation=True).valuation == expected
    assert summary_requests(yahoo) == []
    assert run(yahoo, cache, ["IWM", "HYG"], SATURDAY, valuation=True).valuation == expected
    assert sorted(set(summary_requests(yahoo))) == ["HYG", "IWM"]  # a new day: asked again


def test_failed_valuation_request_is_not_cached(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("IWM", IWM)
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    run(yahoo, cache, ["IWM"], FRI_20_EVENING)  # bars cached; no valuation asked
    yahoo.fail("IWM", 500, b"<html>Internal Server Error</html>")
    assert run(yahoo, cache, ["IWM"], FRI_20_EVENING, valuation=True).valuation == {}
    yahoo.heal("IWM")
    yahoo.seen.clear()
    result = run(yahoo, cache, ["IWM"], FRI_20_EVENING, valuation=True)
    assert result.valuation == {"IWM": {"trailingPE": 18.74, "priceToBook": 2.11, "yield": 0.0108}}
    assert "IWM" in summary_requests(yahoo)


def test_valuation_hang_returns_what_arrived(yahoo: YahooTransport) -> None:
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    yahoo.hang("IJR")
    found = fetch_valuation(["IWM", "IJR"], yahoo.session(), 0.5)
    assert found == {"IWM": {"trailingPE": 18.74, "priceToBook": 2.11, "yield": 0.0108}}


# -- the trading calendar -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "session"),
    [
        (datetime(2026, 11, 20, 19, 5, tzinfo=UTC), date(2026, 11, 19)),  # Friday 14:05 New York
        (datetime(2026, 11, 20, 21, 30, tzinfo=UTC), date(2026, 11, 19)),  # 16:30: not settled yet
        (datetime(2026, 11, 20, 22, 0, tzinfo=UTC), date(2026, 11, 20)),  # 17:00: final
        (datetime(2026, 11, 22, 14, 0, tzinfo=UTC), date(2026, 11, 20)),  # Sunday
        (datetime(2026, 11, 27, 3, 0, tzinfo=UTC), date(2026, 11, 25)),  # Thanksgiving night
        (datetime(2026, 4, 3, 23, 0, tzinfo=UTC), date(2026, 4, 2)),  # Good Friday
        (datetime(2026, 7, 3, 23, 0, tzinfo=UTC), date(2026, 7, 2)),  # Independence Day observed
        (datetime(2026, 11, 23, 1, 0), date(2026, 11, 20)),  # naive: taken as UTC (Sunday 20:00 NY)
    ],
)
def test_last_complete_session(now: datetime, session: date) -> None:
    assert last_complete_session(now) == session


def test_test_bodies_are_chart_api_documents() -> None:
    for path in OWN.glob("chart-*.body.json"):
        doc = json.loads(path.read_bytes())
        result = doc["chart"]["result"][0]
        assert doc["chart"]["error"] is None
        assert len(result["timestamp"]) == len(result["indicators"]["quote"][0]["close"]), path.name
