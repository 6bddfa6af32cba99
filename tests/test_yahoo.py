"""sources.yahoo, .yahoo_client, .valuation: yfinance's real parser driven offline by recorded and own bodies.

Every test hands yfinance a session whose transport answers locally (tests/yahoo_transport.py),
so yfinance's own request, cookie/crumb and parsing code runs, its typed errors are raised, and
nothing reaches the network.
"""

from __future__ import annotations

import copy
import errno
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from curl_cffi import requests as curl_requests
from yahoo_transport import (
    YahooTransport,
    chart_body,
    load_body,
    serving,
)

from generator.config import load_config
from generator.models import Instrument, NetworkSettings, SourceHealth
from generator.sources.core_providers import YahooFundData
from generator.sources.price_cache import PriceCache
from generator.sources.providers import ProviderContext, Transport
from generator.sources.valuation import ValuationCache, fetch_etf_valuation, fetch_valuation, valuation_fields
from generator.sources.yahoo import PROVIDER, PricesResult, fetch_prices
from generator.sources.yahoo_client import (
    GIVE_UP,
    HALT,
    NOT_FOUND,
    RETRY,
    classify,
    yfinance,
)
from tests.conftest import ROOT

OWN = Path(__file__).parent / "data" / "yahoo"
NY = ZoneInfo("America/New_York")
RUT = OWN / "chart-IDX_RUT-2026-10-19-to-2026-11-20.body.json"
IWM = OWN / "chart-IWM-2026-10-19-to-2026-11-20.body.json"
GSPC = OWN / "chart-IDX_GSPC-2026-10-19-to-2026-11-20.body.json"
TSLA = OWN / "historical-via-chart-dividends-TSLA-no-dividends.body.json"  # recorded, 2010-06-29 → 2023-08-11
FRI_13_EVENING = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)  # 18:00 New York
FRI_20_EVENING = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
IWM_VALUATION = {"IWM": {"trailingPE": 18.74, "priceToBook": 2.11, "yield": 0.0108}}


@pytest.fixture
def yahoo(monkeypatch: pytest.MonkeyPatch) -> Iterator[YahooTransport]:
    with serving(monkeypatch, YahooTransport()) as transport:
        yield transport


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[PriceCache]:
    with PriceCache(tmp_path / "prices.sqlite") as c:
        yield c


def universe(*symbols: str) -> list[Instrument]:
    return [Instrument(s, s, ("small_cap",)) for s in symbols]


def run(
    yahoo: YahooTransport, cache: PriceCache, symbols: list[str], now: datetime, **kwargs: Any
) -> PricesResult:
    kwargs.setdefault("today", now.astimezone(NY).date())
    kwargs.setdefault("sleep", lambda _s: None)
    deadline = kwargs.pop("deadline", 30.0)
    session = kwargs.pop("session", None) or yahoo.session()
    return fetch_prices(
        universe(*symbols),
        NetworkSettings(market_deadline=deadline),
        cache,
        now=now,
        session=session,
        **kwargs,
    )


def valuation(
    yahoo: YahooTransport, cache: PriceCache, prices: PricesResult, symbols: list[str], now: datetime
) -> dict[str, dict[str, float]]:
    """The valuation provider as gather composes it after the prices."""
    return fetch_etf_valuation(
        universe(*symbols), prices.series, NetworkSettings(market_deadline=30.0), cache.path.parent,
        session=yahoo.session(), day=now.astimezone(NY).date(), now=now, halted=prices.halted,
    )  # fmt: skip


def health(result: PricesResult, symbol: str) -> SourceHealth:
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


def cache_rut_to_the_13th(yahoo: YahooTransport, cache: PriceCache) -> None:
    """Last week's run: ^RUT cached up to Friday 2026-11-13."""
    yahoo.chart("^RUT", RUT)
    run(yahoo, cache, ["^RUT"], FRI_13_EVENING)


def history_starts(yahoo: YahooTransport, symbol: str) -> list[int]:
    return [int(r.params["period1"]) for r in yahoo.history_requests(symbol)]


# -- recorded bodies (copied from ../shared/data, see tests/data/PROVENANCE.md) --------------------


def test_recorded_qqq_body_parses_into_a_series(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("QQQ", OWN / "chart-QQQ-2020-01-01-to-2020-01-03.body.json")
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
    pd.testing.assert_frame_equal(cached(cache, "QQQ"), s.frame, check_exact=True)


def test_full_history_symbol_is_fetched_whole_once_then_incrementally(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("TSLA", TSLA)
    monday = datetime(2023, 8, 14, 22, 0, tzinfo=UTC)
    result = run(yahoo, cache, ["TSLA"], monday, history_years=5, full_history=["TSLA"])
    assert history_starts(yahoo, "TSLA")[0] < midnight_ny(date(1930, 1, 1))  # period="max"
    frame = result.series["TSLA"].frame
    expected = bars_of(TSLA)
    assert len(frame) == len(expected) == 3303  # served whole, not cut to history_years
    assert (frame.index[0].date(), frame.index[-1].date()) == (date(2010, 6, 29), date(2023, 8, 11))
    assert frame.index.is_unique and frame.index.is_monotonic_increasing
    np.testing.assert_array_equal(frame["Close"].to_numpy(), expected["Close"].to_numpy())
    np.testing.assert_array_equal(frame["Adj Close"].to_numpy(), expected["Adj Close"].to_numpy())
    assert health(result, "TSLA").count == 3303
    assert len(cached(cache, "TSLA")) == 3303 and cache.has_full_history("TSLA")
    yahoo.seen.clear()
    again = run(yahoo, cache, ["TSLA"], monday + timedelta(days=1), history_years=5, full_history=["TSLA"])
    assert history_starts(yahoo, "TSLA") == [midnight_ny(date(2023, 8, 11))]  # from the last cached bar
    assert len(again.series["TSLA"].frame) == 3303


def test_other_symbols_are_fetched_for_history_years_only(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("TSLA", TSLA)
    result = run(yahoo, cache, ["TSLA"], datetime(2023, 8, 14, 22, 0, tzinfo=UTC), history_years=5)
    assert history_starts(yahoo, "TSLA") == [midnight_ny(date(2018, 8, 14))]
    assert result.series["TSLA"].first_bar == date(2018, 8, 14)
    assert cached(cache, "TSLA").index[0] == pd.Timestamp("2018-08-14")
    assert not cache.has_full_history("TSLA")


def test_a_cached_benchmark_without_its_whole_history_gets_it_once(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("TSLA", TSLA)
    friday = datetime(2023, 8, 11, 22, 0, tzinfo=UTC)
    run(yahoo, cache, ["TSLA"], friday, history_years=2)  # an older cache: two years only
    assert len(cached(cache, "TSLA")) < 600
    result = run(yahoo, cache, ["TSLA"], friday, history_years=2, full_history=["TSLA"])
    assert history_starts(yahoo, "TSLA")[-1] < midnight_ny(date(1930, 1, 1))
    assert len(result.series["TSLA"].frame) == len(cached(cache, "TSLA")) == 3303
    assert health(result, "TSLA").status == "ok"


def test_recorded_empty_range_is_a_failure_not_no_change(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart(
        "AAPL", OWN / "chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.body.json"
    )
    result = run(yahoo, cache, ["AAPL"], datetime(2025, 2, 3, 23, 0, tzinfo=UTC))
    assert "AAPL" not in result.series
    row = health(result, "AAPL")
    assert (row.status, row.origin, row.count, row.newest) == ("failed", "none", 0, None)
    assert row.error == "AAPL: no data returned by Yahoo Finance"
    assert cache.load("AAPL") is None


def test_requests_session_works_too(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("^RUT", RUT)
    result = run(yahoo, cache, ["^RUT"], FRI_20_EVENING, session=yahoo.requests_session())
    pd.testing.assert_frame_equal(
        result.series["^RUT"].frame, bars_of(RUT), check_freq=False, check_exact=True
    )


def test_yfinance_deprecation_warnings_do_not_reach_the_console(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("^RUT", RUT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # show everything, as a fresh console would
        result = run(yahoo, cache, ["^RUT"], FRI_20_EVENING)
    assert health(result, "^RUT").status == "ok"
    assert [str(w.message) for w in caught if "yfinance" in w.filename] == []


# -- our own bodies: a universe, partly broken ------------------------------------------------------


def test_own_bodies_parse_with_values_from_the_json(yahoo: YahooTransport, cache: PriceCache) -> None:
    for symbol, body in (("^RUT", RUT), ("IWM", IWM), ("^GSPC", GSPC)):
        yahoo.chart(symbol, body)
    result = run(yahoo, cache, ["^RUT", "IWM", "^GSPC"], FRI_20_EVENING)
    for symbol, body in (("^RUT", RUT), ("IWM", IWM), ("^GSPC", GSPC)):
        pd.testing.assert_frame_equal(
            result.series[symbol].frame, bars_of(body), check_freq=False, check_exact=True
        )
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
    pd.testing.assert_frame_equal(
        result.series["IWM"].frame, bars_of(IWM), check_freq=False, check_exact=True
    )
    assert len(yahoo.history_requests("IJR")) == 1 and result.halted == ""  # not worth a retry


# -- rate limits, retries, deadline, no network -------------------------------------------------------


def test_rate_limit_partway_is_retried_with_backoff(yahoo: YahooTransport, cache: PriceCache) -> None:
    for symbol, body in (("^RUT", RUT), ("IWM", IWM), ("^GSPC", GSPC)):
        yahoo.chart(symbol, body)
    yahoo.fail("IWM", 429)  # the second symbol of three is rate limited
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            yahoo.heal("IWM")  # Yahoo lets us back in after the second pause

    result = run(yahoo, cache, ["^RUT", "IWM", "^GSPC"], FRI_20_EVENING, sleep=sleep, rand=lambda: 0.5)
    assert pauses == [0.75, 1.5]  # half of 1 s, 2 s fixed, plus half of each scaled by the jitter
    assert all(h.status == "ok" for h in result.health) and result.halted == ""
    pd.testing.assert_frame_equal(
        result.series["IWM"].frame, bars_of(IWM), check_freq=False, check_exact=True
    )
    assert len(yahoo.history_requests("^RUT")) == len(yahoo.history_requests("^GSPC")) == 1
    assert len(yahoo.history_requests("IWM")) == 1  # the two rate-limited tries failed before it


def test_rate_limit_forever_fails_naming_the_symbol_and_asks_nothing_more(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    for symbol, body in (("^RUT", RUT), ("IWM", IWM), ("^GSPC", GSPC)):
        yahoo.chart(symbol, body)
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    yahoo.fail("IWM", 429)
    pauses: list[float] = []
    result = run(
        yahoo,
        cache,
        ["^RUT", "IWM", "^GSPC"],
        FRI_20_EVENING,
        sleep=pauses.append,
        rand=lambda: 1.0,
        max_tries=3,
    )
    assert pauses == [1.0, 2.0]  # exponential, at most the full span
    row = health(result, "IWM")
    assert (row.status, row.origin) == ("failed", "none")
    assert row.error == "IWM: rate limited by Yahoo Finance (HTTP 429) (tried 3 times)"
    assert health(result, "^RUT").status == "ok"
    assert health(result, "^GSPC").error == "^GSPC: not asked: rate limited by Yahoo Finance (HTTP 429)"
    assert yahoo.history_requests("^GSPC") == []  # no extra load on a rate limit
    assert valuation(yahoo, cache, result, ["^RUT", "IWM", "^GSPC"], FRI_20_EVENING) == {}
    assert not [r for r in yahoo.seen if "quoteSummary" in r.path]


@pytest.mark.parametrize(
    ("status", "body"), [(503, b"<html><body>Service Unavailable</body></html>"), (502, b"")]
)
def test_server_error_on_the_bars_request_is_retried(
    yahoo: YahooTransport, cache: PriceCache, status: int, body: bytes
) -> None:
    yahoo.chart("IWM", IWM)
    yahoo.fail("IWM", status, body, bars_only=True)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        yahoo.heal("IWM")

    result = run(yahoo, cache, ["IWM"], FRI_20_EVENING, sleep=sleep)
    assert len(pauses) == 1
    assert health(result, "IWM").status == "ok"


def test_connection_reset_is_retried_then_the_cache_is_served(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    cache_rut_to_the_13th(yahoo, cache)
    yahoo.drop("^RUT")
    pauses: list[float] = []
    result = run(yahoo, cache, ["^RUT"], FRI_20_EVENING, sleep=pauses.append, max_tries=2)
    assert len(pauses) == 1
    row = health(result, "^RUT")
    assert (row.status, row.newest) == ("cached", date(2026, 11, 13))
    assert row.error == "^RUT: network error (tried 2 times); serving cached bars up to 2026-11-13"


@pytest.mark.parametrize("kind", ["curl_cffi", "requests"])
@pytest.mark.parametrize(
    ("offline", "why"), [("dns", "cannot resolve host"), ("refused", "connection refused")]
)
def test_no_network_fails_fast_without_retries(
    yahoo: YahooTransport, cache: PriceCache, kind: str, offline: str, why: str
) -> None:
    for symbol, body in (("^RUT", RUT), ("IWM", IWM), ("^GSPC", GSPC)):
        yahoo.chart(symbol, body)
    run(yahoo, cache, ["IWM"], FRI_13_EVENING)
    yahoo.offline(offline)
    yahoo.seen.clear()
    pauses: list[float] = []
    session = yahoo.session() if kind == "curl_cffi" else yahoo.requests_session()
    result = run(yahoo, cache, ["^RUT", "IWM", "^GSPC"], FRI_20_EVENING, sleep=pauses.append, session=session)
    assert pauses == []  # an error that cannot heal is not retried
    words = f"cannot reach Yahoo Finance ({why})"
    assert result.halted == words
    assert health(result, "^RUT").error == f"^RUT: {words}"
    assert health(result, "IWM").error == f"IWM: not asked: {words}; serving cached bars up to 2026-11-13"
    assert health(result, "^GSPC").error == f"^GSPC: not asked: {words}"
    assert {r.symbol for r in yahoo.seen} <= {"", "^RUT"}  # nothing asked after the first failure
    assert valuation(yahoo, cache, result, ["IWM"], FRI_20_EVENING) == {}


def _http_error(status: int) -> Exception:
    response = curl_requests.Response()
    response.status_code, response.reason, response.ok = status, "", False
    return curl_requests.exceptions.HTTPError(f"HTTP Error {status}", 0, response)


@pytest.mark.parametrize(
    ("error", "action", "words"),
    [
        (lambda yf: yf.exceptions.YFRateLimitError(), RETRY, "rate limited by Yahoo Finance (HTTP 429)"),
        (lambda yf: yf.exceptions.YFTzMissingError("IWM"), GIVE_UP, NOT_FOUND),
        (
            lambda yf: yf.exceptions.YFPricesMissingError("IWM", "", yahoo_reason="No data found"),
            GIVE_UP,
            NOT_FOUND,
        ),
        (lambda yf: yf.exceptions.YFPricesMissingError("IWM", "(1d)"), GIVE_UP, "no data returned"),
        (lambda yf: _http_error(503), RETRY, "Yahoo Finance server error (HTTP 503)"),
        (lambda yf: _http_error(404), GIVE_UP, NOT_FOUND),
        (lambda yf: _http_error(403), GIVE_UP, "refused by Yahoo Finance (HTTP 403)"),
        (lambda yf: curl_requests.exceptions.Timeout("curl: (28) Operation timed out", 28), RETRY, "in time"),
        (lambda yf: json.JSONDecodeError("Expecting value", "<html>", 0), RETRY, "error page"),
        (
            lambda yf: curl_requests.exceptions.DNSError("curl: (6) Could not resolve host", 6),
            HALT,
            "resolve",
        ),
        (lambda yf: OSError(errno.ENETUNREACH, "Network is unreachable"), HALT, "network is unreachable"),
        (lambda yf: KeyError("chart"), GIVE_UP, "unexpected answer from Yahoo Finance (KeyError"),
    ],
)
def test_typed_errors_are_classified(error: Any, action: str, words: str) -> None:
    failure = classify(error(yfinance()))
    assert failure.action == action
    assert words in failure.words


def test_hang_past_the_deadline_fails_the_symbols_not_answered(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("^RUT", RUT)
    yahoo.chart("IWM", IWM)
    yahoo.hang("IWM")
    result = run(yahoo, cache, ["^RUT", "IWM"], FRI_20_EVENING, deadline=0.5)
    assert list(result.series) == ["^RUT"]  # answered before IWM hung
    row = health(result, "IWM")
    assert (row.status, row.error) == ("failed", "IWM: no answer within 0.5 s")


def test_live_failure_serves_the_cache_with_its_real_last_bar(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    cache_rut_to_the_13th(yahoo, cache)
    yahoo.hang("^RUT")
    result = run(yahoo, cache, ["^RUT"], FRI_20_EVENING, deadline=0.5)
    s = result.series["^RUT"]
    assert (s.origin, s.last_bar, s.fetched_at) == ("cache", date(2026, 11, 13), FRI_13_EVENING)
    row = health(result, "^RUT")
    assert (row.status, row.origin, row.count, row.newest) == ("cached", "cache", 20, date(2026, 11, 13))
    assert row.error == "^RUT: no answer within 0.5 s; serving cached bars up to 2026-11-13"


# -- cleaning: unfinished bars, duplicates, holidays ----------------------------------------------------


def test_unfinished_current_day_bar_is_left_out(yahoo: YahooTransport, cache: PriceCache) -> None:
    body = OWN / "chart-IWM-2026-11-16-to-2026-11-20-unfinished.body.json"
    yahoo.chart("IWM", body)
    during_session = datetime(2026, 11, 20, 19, 5, tzinfo=UTC)  # 14:05 in New York
    result = run(yahoo, cache, ["IWM"], during_session)
    s = result.series["IWM"]
    assert s.last_bar == date(2026, 11, 19)
    pd.testing.assert_frame_equal(s.frame, bars_of(body).iloc[:-1], check_freq=False, check_exact=True)
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


def test_a_bar_on_labor_day_is_dropped_with_a_warning(
    yahoo: YahooTransport, cache: PriceCache, caplog: pytest.LogCaptureFixture
) -> None:
    real = pd.read_csv(OWN / "IDX_VIX-2025-08-25-to-2025-09-05.csv", index_col="Date", parse_dates=True)
    assert pd.Timestamp("2025-09-01") in real.index  # Yahoo's ^VIX has a bar on Labor Day 2025
    yahoo.chart("^VIX", chart_body("^VIX", real))
    with caplog.at_level("WARNING"):
        result = run(yahoo, cache, ["^VIX"], datetime(2025, 9, 6, 14, 0, tzinfo=UTC))
    frame = result.series["^VIX"].frame
    assert pd.Timestamp("2025-09-01") not in frame.index and len(frame) == len(real) - 1
    assert pd.Timestamp("2025-09-01") not in cached(cache, "^VIX").index
    warned = [
        r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "2025-09-01" in r.getMessage()
    ]
    assert warned and warned[0].startswith("^VIX: dropped 1 bar(s) dated on days without an NYSE session")


# -- the incremental cache ----------------------------------------------------------------------------


def test_second_run_asks_only_from_the_last_cached_bar_and_merges(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    yahoo.chart("^RUT", RUT)
    first = run(yahoo, cache, ["^RUT"], FRI_13_EVENING)
    assert first.series["^RUT"].last_bar == date(2026, 11, 13)
    assert len(cached(cache, "^RUT")) == 20
    second = run(yahoo, cache, ["^RUT"], FRI_20_EVENING)
    assert history_starts(yahoo, "^RUT") == [
        midnight_ny(date(2014, 11, 13)),  # first run: history_years (12) back
        midnight_ny(date(2026, 11, 13)),  # then from the last cached bar: one overlapping bar
    ]
    expected = bars_of(RUT)
    pd.testing.assert_frame_equal(second.series["^RUT"].frame, expected, check_freq=False, check_exact=True)
    pd.testing.assert_frame_equal(cached(cache, "^RUT"), expected, check_freq=False, check_exact=True)
    entry = cache.entry("^RUT")
    assert entry is not None and entry.fetched_at == FRI_20_EVENING


def test_each_symbol_is_asked_from_where_its_cache_ends(yahoo: YahooTransport, cache: PriceCache) -> None:
    for symbol, body in (("^RUT", RUT), ("IWM", IWM), ("^GSPC", GSPC)):
        yahoo.chart(symbol, body)
    run(yahoo, cache, ["^RUT"], FRI_13_EVENING)
    run(yahoo, cache, ["IWM"], datetime(2026, 11, 18, 23, 0, tzinfo=UTC))
    yahoo.seen.clear()
    result = run(yahoo, cache, ["^RUT", "IWM", "^GSPC"], FRI_20_EVENING, full_history=["^GSPC"])
    assert history_starts(yahoo, "^RUT") == [midnight_ny(date(2026, 11, 13))]
    assert history_starts(yahoo, "IWM") == [midnight_ny(date(2026, 11, 18))]
    assert history_starts(yahoo, "^GSPC")[0] < midnight_ny(date(1930, 1, 1))
    assert all(h.status == "ok" and h.newest == date(2026, 11, 20) for h in result.health)


def test_current_cache_is_served_without_asking(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("^RUT", RUT)
    run(yahoo, cache, ["^RUT"], FRI_20_EVENING, full_history=["^RUT"])
    yahoo.seen.clear()
    result = run(yahoo, cache, ["^RUT"], SATURDAY, full_history=["^RUT"])
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
    pd.testing.assert_frame_equal(frame, bars_of(split), check_freq=False, rtol=1e-9, check_exact=True)


# -- valuation: its own provider, composed after the prices ---------------------------------------------


def test_valuation_is_read_through_yfinance_info(yahoo: YahooTransport) -> None:
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    yahoo.summary("IJR", OWN / "quoteSummary-IJR.body.json")
    found = fetch_valuation(["IWM", "IJR", "NOPE"], yahoo.session(), 30.0)
    assert found == {**IWM_VALUATION, "IJR": {"yield": 0.0131}}


def test_valuation_fields_keep_only_finite_numbers() -> None:
    info = {"trailingPE": 21.5, "forwardPE": float("nan"), "priceToBook": "2.1", "yield": True, "beta": 1.0}
    assert valuation_fields(info) == {"trailingPE": 21.5}
    assert valuation_fields({"yield": 0, "priceToBook": float("inf")}) == {"yield": 0.0}


def test_valuation_is_asked_for_etfs_with_prices_only(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("^RUT", RUT)
    yahoo.chart("IWM", IWM)
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    prices = run(yahoo, cache, ["^RUT", "IWM", "IJR"], FRI_20_EVENING)  # IJR: no bars
    yahoo.seen.clear()
    assert valuation(yahoo, cache, prices, ["^RUT", "IWM", "IJR"], FRI_20_EVENING) == IWM_VALUATION
    assert summary_requests(yahoo) == ["IWM"]


def summary_requests(yahoo: YahooTransport) -> list[str]:
    return [r.symbol for r in yahoo.seen if r.path.startswith("/v10/finance/quoteSummary/")]


def test_valuation_is_cached_for_the_day(yahoo: YahooTransport, cache: PriceCache, tmp_path: Path) -> None:
    yahoo.chart("IWM", IWM)
    yahoo.chart("HYG", OWN / "chart-HYG-2026-10-05-to-2026-10-30.body.json")
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")  # HYG: Yahoo has no quote summary
    prices = run(yahoo, cache, ["IWM", "HYG"], FRI_20_EVENING)
    assert valuation(yahoo, cache, prices, ["IWM", "HYG"], FRI_20_EVENING) == IWM_VALUATION
    assert sorted(set(summary_requests(yahoo))) == ["HYG", "IWM"]
    doc = json.loads((tmp_path / "valuation.json").read_text())
    assert doc["IWM"]["day"] == doc["HYG"]["day"] == "2026-11-20"
    assert doc["HYG"]["fields"] == {}  # answered without fields: not asked again today either
    yahoo.seen.clear()
    later = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # still Friday in New York
    assert valuation(yahoo, cache, prices, ["IWM", "HYG"], later) == IWM_VALUATION
    assert summary_requests(yahoo) == []
    assert valuation(yahoo, cache, prices, ["IWM", "HYG"], SATURDAY) == IWM_VALUATION
    assert sorted(set(summary_requests(yahoo))) == ["HYG", "IWM"]  # a new day: asked again


def test_failed_valuation_request_is_not_cached(yahoo: YahooTransport, cache: PriceCache) -> None:
    yahoo.chart("IWM", IWM)
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    prices = run(yahoo, cache, ["IWM"], FRI_20_EVENING)
    yahoo.fail("IWM", 500, b"<html>Internal Server Error</html>")
    assert valuation(yahoo, cache, prices, ["IWM"], FRI_20_EVENING) == {}
    yahoo.heal("IWM")
    yahoo.seen.clear()
    assert valuation(yahoo, cache, prices, ["IWM"], FRI_20_EVENING) == IWM_VALUATION
    assert "IWM" in summary_requests(yahoo)


def test_valuation_hang_returns_what_arrived(yahoo: YahooTransport) -> None:
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    yahoo.hang("IJR")
    found = fetch_valuation(["IWM", "IJR"], yahoo.session(), 0.5)
    assert found == IWM_VALUATION


def test_funds_yahoo_did_not_answer_for_are_a_degraded_source_named_with_why(
    yahoo: YahooTransport, cache: PriceCache
) -> None:
    """Every fund's valuation failed (no network) and the source-health table had no row for it: the
    manifest said the provider was fine.  A row names the funds not answered and why; all of them
    failing is a failed source, one of them a degraded one."""
    from generator.sources.valuation import valuation_health

    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    yahoo.fail("IJR", 500, b"<html>Internal Server Error</html>")
    failures: dict[str, str] = {}
    found = fetch_etf_valuation(
        universe("IWM", "IJR"), {"IWM", "IJR"}, NetworkSettings(market_deadline=30.0), cache.path.parent,
        session=yahoo.session(), day=SATURDAY.date(), now=SATURDAY, failures=failures,
    )  # fmt: skip
    assert found == IWM_VALUATION and list(failures) == ["IJR"] and "500" in failures["IJR"]
    row = valuation_health(["IWM", "IJR"], found, failures, SATURDAY.date())
    assert row is not None and (row.name, row.status, row.count) == ("fund valuation", "ok", 1)
    assert not row.healthy and row.error == f"1 of 2 funds not answered (IJR: {failures['IJR']})"
    none = valuation_health(["IWM", "IJR"], {}, {"IWM": "x", "IJR": "y"}, SATURDAY.date())
    assert (
        none is not None
        and none.status == "failed"
        and none.error == "2 of 2 funds not answered (IWM: x; IJR: y)"
    )
    assert valuation_health([], {}, {}, SATURDAY.date()) is None  # no fund asked: no row
    again = valuation_health(["IWM"], found, {}, SATURDAY.date(), cached={"IWM"})  # a rebuild the same day
    assert again is not None and (again.status, again.origin, again.error) == ("cached", "cache", "")
    failures.clear()
    halted = fetch_etf_valuation(
        universe("IJR"), {"IJR"}, NetworkSettings(market_deadline=30.0), cache.path.parent,
        session=yahoo.session(), day=SATURDAY.date(), now=SATURDAY, halted="rate-limited", failures=failures,
    )  # fmt: skip
    assert halted == {} and failures == {"IJR": "not asked: rate-limited"}


def test_the_large_cap_fund_is_asked_without_prices_and_every_answer_keeps_its_day(
    yahoo: YahooTransport, tmp_path: Path
) -> None:
    yahoo.summary("IWM", OWN / "quoteSummary-IWM.body.json")
    yahoo.summary("SPY", OWN / "quoteSummary-SPY.body.json")
    config = load_config(ROOT / "feeds.yaml")
    found = fetch_etf_valuation(
        config.universe, {"IWM"}, NetworkSettings(market_deadline=30.0), tmp_path,
        session=yahoo.session(), day=SATURDAY.date(), now=SATURDAY, extra=("SPY", "^GSPC", ""),
    )  # fmt: skip
    assert found == {**IWM_VALUATION, "SPY": {"trailingPE": 27.4, "priceToBook": 5.2, "yield": 0.0121}}
    assert summary_requests(yahoo) == ["IWM", "SPY"]  # no prices for IJR: not asked; ^GSPC is no fund
    assert ValuationCache(tmp_path / "valuation.json").days(found) == dict.fromkeys(found, SATURDAY.date())
    context = ProviderContext(
        config=config, offline=True, today=date(2026, 11, 23), now=SATURDAY, week_start=date(2026, 11, 16),
        week_end=date(2026, 11, 20), cache_dir=tmp_path, transport=Transport(),
    )  # fmt: skip
    cached = YahooFundData().fetch(context)  # --data cache: this week's answers, each with its day
    assert cached.valuation == found and cached.valuation_as_of == dict.fromkeys(found, SATURDAY.date())


def test_test_bodies_are_chart_api_documents() -> None:
    for path in OWN.glob("chart-*.body.json"):
        doc = json.loads(path.read_bytes())
        if doc["chart"]["error"] is not None or "timestamp" not in doc["chart"]["result"][0]:
            continue  # the recorded empty answer
        result = doc["chart"]["result"][0]
        assert len(result["timestamp"]) == len(result["indicators"]["quote"][0]["close"]), path.name


def test_quieting_yfinance_leaves_the_filters_alone_once_they_are_in_place() -> None:
    """Workers call quiet_yfinance before each request.  Re-adding a filter removes and inserts it, and
    a worker doing that while another thread is inside ``catch_warnings`` (pandas uses it inside its
    operations) could lose it: yfinance's pandas deprecations then reached the console now and then
    in a 2,000-member run.  In force, the filters are read, never written (also when something put an
    "ignore" in front of them); overridden by a filter that would show the warnings, they go in front."""
    from generator.sources.yahoo_client import quiet_yfinance

    class Watched(list[Any]):
        writes = 0

        def remove(self, item: Any) -> None:
            Watched.writes += 1
            super().remove(item)

        def insert(self, index: Any, item: Any) -> None:
            Watched.writes += 1
            super().insert(index, item)

    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.filterwarnings("default", category=DeprecationWarning, module="^yfinance")  # as its import
        quiet_yfinance()
        assert [f[2] for f in warnings.filters[:2]] == [FutureWarning, DeprecationWarning]
        assert all(f[0] == "ignore" and f[3].match("yfinance.utils") for f in warnings.filters[:2])
        warnings.filters = Watched(warnings.filters)  # type: ignore[misc]
        warnings._filters_mutated()  # type: ignore[attr-defined]
        for _ in range(3):
            quiet_yfinance()
        # pandas ignores some warning inside an operation: ours stay in force, nothing is written
        warnings.simplefilter("ignore", RuntimeWarning)
        Watched.writes = 0
        quiet_yfinance()
        assert Watched.writes == 0
        warnings.filterwarnings("default", category=DeprecationWarning, module="^yfinance")  # a reset
        quiet_yfinance()
        assert [f[0] for f in warnings.filters[:3]] == ["ignore", "ignore", "default"]
        assert [f[2] for f in warnings.filters[:2]] == [FutureWarning, DeprecationWarning]


def test_yfinance_deprecations_are_not_shown_even_under_another_threads_filters() -> None:
    """While a thread is inside ``catch_warnings`` with filters of its own, every thread's warnings are
    judged by those (the filters are the process's): a 2,000-member fetch still showed one pandas
    deprecation from yfinance.  Simulated here in one thread: under a filter that shows everything,
    yfinance's deprecation is still not shown, and any other warning is."""
    import yfinance.utils as yf_utils

    from generator.sources.yahoo_client import quiet_yfinance

    body = {
        "timestamp": [1763596800, 1763683200],
        "indicators": {
            "quote": [{"open": [1, 2], "high": [1, 2], "low": [1, 2], "close": [1, 2], "volume": [1, 2]}],
            "adjclose": [{"adjclose": [1, 2]}],
        },
    }
    shown: list[tuple[str, str]] = []
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, category, filename, *rest: shown.append(
            (category.__name__, Path(filename).parent.name)
        )
        quiet_yfinance()  # before the workers start, as the fetchers do
        with warnings.catch_warnings():  # another thread's, for a moment
            warnings.simplefilter("always")
            yf_utils.parse_quotes(copy.deepcopy(body))
            warnings.warn("ours", DeprecationWarning, stacklevel=1)
    assert shown == [("DeprecationWarning", "tests")]
