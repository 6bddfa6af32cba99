"""Analysis figures on real Yahoo Finance series, checked against values recomputed by hand from CSV rows.

The CSVs in ../shared/data/prices/yfinance_alitalbi/ end on 2026-02-23 (an intraday row).  The brief
for as-of 2026-02-20 (a Friday) must never use that row.  SPY stands in for the S&P 500 (^GSPC) and
QQQ for the Nasdaq (^IXIC); the expected values below are read straight from the CSV rows with the
csv module and computed with plain loops, not with the analysis code.
"""

from __future__ import annotations

import csv
import functools
import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from generator.analysis import analyse, reporting_week
from generator.errors import ConfigError
from generator.formatting import plain
from generator.models import Brief, Config, Figure, Instrument, Series, Slots, Snapshot, Topic

AS_OF = date(2026, 2, 20)
PROVIDER = "Yahoo Finance (yfinance)"
FILES = {
    "^RUT": "IDX_RUT.csv",
    "^GSPC": "SPY.csv",
    "^IXIC": "QQQ.csv",
    "^VIX": "IDX_VIX.csv",
    "^TNX": "IDX_TNX.csv",
    "^FVX": "IDX_FVX.csv",
    "IWM": "IWM.csv",
}
UNIVERSE = (
    Instrument("^RUT", "Russell 2000", ("small_cap",), required=True),
    Instrument("IWM", "iShares Russell 2000 ETF", ("small_cap", "size_ladder")),
    Instrument("^GSPC", "S&P 500", ("large_cap",), required=True),
    Instrument("^IXIC", "Nasdaq Composite", ("large_cap",)),
    Instrument("^VIX", "CBOE Volatility Index", ("volatility",)),
    Instrument("^TNX", "10-year Treasury yield", ("rates",)),
    Instrument("^FVX", "5-year Treasury yield", ("rates",)),
)


# ---------------------------------------------------------------------------
# Building snapshots from the real CSVs (shared with test_analysis_brief.py)
# ---------------------------------------------------------------------------


def folder(shared_data: Path) -> Path:
    return shared_data / "prices" / "yfinance_alitalbi"


@functools.cache
def load_frame(path: str) -> pd.DataFrame:
    raw = pd.read_csv(path, parse_dates=["Date"], index_col="Date")
    frame = raw[["Open", "High", "Low", "Close", "Volume"]].astype(float)
    frame.index = pd.DatetimeIndex(frame.index, name="Date")
    return frame.sort_index()


def make_series(shared_data: Path, symbol: str, file: str | None = None, until: date | None = None) -> Series:
    frame = load_frame(str(folder(shared_data) / (file or FILES[symbol])))
    if until is not None:
        frame = frame.loc[: pd.Timestamp(until)]
    return Series(symbol, frame, PROVIDER, origin="local")


def make_snapshot(shared_data: Path, symbols: dict[str, str] | None = None, **cuts: date) -> Snapshot:
    """A snapshot of the real series; ``cuts`` ends a series early (keys: symbol with ^ → IDX_)."""
    chosen = FILES if symbols is None else symbols
    series = {}
    for sym, file in chosen.items():
        series[sym] = make_series(shared_data, sym, file, cuts.get(sym.replace("^", "IDX_")))
    return Snapshot(
        as_of=date(2026, 2, 23),
        built_at=datetime(2026, 2, 23, 22, 0, tzinfo=UTC),
        series=series,
        feeds={},
        provider=PROVIDER,
    )


def make_config(universe: tuple[Instrument, ...] = UNIVERSE, slots: Slots | None = None) -> Config:
    return Config(path="test", universe=universe, feeds=(), slots=slots or Slots())


def topics(brief: Brief, section: str) -> tuple[Topic, ...]:
    found = brief.section(section)
    assert found is not None, section
    return found.topics


def topic(brief: Brief, section: str, key: str) -> Topic:
    return next(t for t in topics(brief, section) if t.key == key)


def figure_rows(t: Topic) -> list[tuple[Figure, ...]]:
    """The figure cells of each row of a topic's table (text cells dropped)."""
    assert t.table is not None, t.key
    return [tuple(c for c in row if isinstance(c, Figure)) for row in t.table.rows]


def value(fig: Figure) -> float:
    assert fig.value is not None, fig.key
    return fig.value


def find(brief: Brief, key: str) -> Figure:
    for fig in brief.facts():
        if fig.key == key:
            return fig
    raise AssertionError(f"no figure {key}")


# ---------------------------------------------------------------------------
# Independent expectations straight from the CSV rows
# ---------------------------------------------------------------------------


def csv_closes(shared_data: Path, file: str) -> list[tuple[date, float]]:
    with (folder(shared_data) / file).open(newline="") as fh:
        return [(date.fromisoformat(r["Date"][:10]), float(r["Close"])) for r in csv.DictReader(fh)]


def close_on(rows: list[tuple[date, float]], day: date) -> float:
    return next(c for d, c in rows if d == day)


def last_on_or_before(rows: list[tuple[date, float]], day: date) -> tuple[date, float]:
    return [r for r in rows if r[0] <= day][-1]


@pytest.fixture(scope="module")
def brief(shared_data: Path) -> Brief:
    return analyse(make_snapshot(shared_data), make_config(), (), as_of=AS_OF)


@pytest.fixture(scope="module")
def rut(shared_data: Path) -> list[tuple[date, float]]:
    return [r for r in csv_closes(shared_data, "IDX_RUT.csv") if r[0] <= AS_OF]


def test_reporting_week() -> None:
    assert reporting_week(date(2026, 11, 22)) == (date(2026, 11, 16), date(2026, 11, 20))
    assert reporting_week(date(2026, 11, 20)) == (date(2026, 11, 16), date(2026, 11, 20))
    assert reporting_week(date(2026, 11, 19)) == (date(2026, 11, 9), date(2026, 11, 13))
    assert reporting_week(date(2026, 11, 19), "thursday") == (date(2026, 11, 16), date(2026, 11, 19))
    with pytest.raises(ConfigError, match="week_ends_on"):
        reporting_week(date(2026, 11, 19), "someday")


def test_week_and_as_of(brief: Brief) -> None:
    assert (brief.week_start, brief.week_end, brief.as_of) == (date(2026, 2, 16), date(2026, 2, 20), AS_OF)


def test_no_figure_uses_the_row_after_as_of(shared_data: Path, brief: Brief) -> None:
    for fig in brief.figures():
        assert fig.provenance.last_bar is None or fig.provenance.last_bar <= AS_OF, fig.key
    # The VIX level is the 2026-02-20 close (19.09), not the 2026-02-23 row (21.03).
    vix = csv_closes(shared_data, "IDX_VIX.csv")
    assert find(brief, "vix.level").value == pytest.approx(close_on(vix, AS_OF))
    # The same brief from series that physically end on as_of is identical.
    cut = make_snapshot(shared_data, IDX_RUT=AS_OF, SPY=AS_OF, QQQ=AS_OF, IDX_VIX=AS_OF, IWM=AS_OF)
    assert analyse(cut, make_config(), (), as_of=AS_OF) == brief


def test_weekly_return_and_spread(shared_data: Path, brief: Brief, rut: list[tuple[date, float]]) -> None:
    expected = (close_on(rut, date(2026, 2, 20)) / close_on(rut, date(2026, 2, 13)) - 1) * 100
    week = find(brief, "return.^RUT.1W")
    assert week.value == pytest.approx(expected, abs=1e-9)
    assert (week.provenance.first_bar, week.provenance.last_bar) == (date(2026, 2, 13), AS_OF)
    assert week.provenance.provider == PROVIDER and week.provenance.symbols == ("^RUT",)
    assert brief.headline_figure.value == pytest.approx(expected) and brief.headline_figure.label.startswith(
        "Russell 2000"
    )
    spy = csv_closes(shared_data, "SPY.csv")
    spy_week = (close_on(spy, date(2026, 2, 20)) / close_on(spy, date(2026, 2, 13)) - 1) * 100
    spread = find(brief, "spread.^RUT-^GSPC.1W")
    # the difference of the two returns as the brief shows them (to 2 decimals), so the page adds up
    assert spread.unit == "pp" and spread.value == round(round(expected, 2) - round(spy_week, 2), 2)
    assert abs(spread.value - (expected - spy_week)) <= 0.01
    # The summary states the sign the numbers have: the Russell 2000 lagged SPY that week.
    assert expected < spy_week and "lagged the S&P 500" in brief.summary


def test_calendar_windows(brief: Brief, rut: list[tuple[date, float]]) -> None:
    end = close_on(rut, AS_OF)
    year_end = last_on_or_before(rut, date(2025, 12, 31))
    month = last_on_or_before(rut, date(2026, 1, 20))
    year = last_on_or_before(rut, date(2025, 2, 20))
    three = last_on_or_before(rut, date(2025, 11, 20))
    for window, base in (("YTD", year_end), ("QTD", year_end), ("1M", month), ("1Y", year), ("3M", three)):
        fig = find(brief, f"return.^RUT.{window}")
        assert fig.value == pytest.approx((end / base[1] - 1) * 100, abs=1e-9), window
        assert fig.provenance.first_bar == base[0], window


def _streak(a: list[tuple[date, float]], b: list[tuple[date, float]]) -> tuple[int, int, date, date | None]:
    """(sign, length, start, end of the latest earlier longer same-sign run) by a plain backward walk."""
    bmap = dict(b)
    common = [(d, c, bmap[d]) for d, c in a if d in bmap]
    days, signs = [], []
    for (_, a0, b0), (d1, a1, b1) in itertools.pairwise(common):
        diff = (a1 / a0 - 1) - (b1 / b0 - 1)
        days.append(d1)
        signs.append((diff > 0) - (diff < 0))
    sign = signs[-1]
    i = len(signs) - 1
    while i > 0 and signs[i - 1] == sign:
        i -= 1
    length, start = len(signs) - i, days[i]
    j = i - 1
    while j >= 0:
        if signs[j] == sign:
            k = j
            while k > 0 and signs[k - 1] == sign:
                k -= 1
            if j - k + 1 > length:
                return sign, length, start, days[j]
            j = k - 1
        else:
            j -= 1
    return sign, length, start, None


@pytest.mark.parametrize("as_of", [AS_OF, date(2026, 1, 23), date(2025, 11, 28), date(2025, 7, 4)])
def test_streak_against_independent_loop(shared_data: Path, as_of: date) -> None:
    brief = analyse(make_snapshot(shared_data), make_config(), (), as_of=as_of)
    end = reporting_week(as_of)[1]
    rut = [r for r in csv_closes(shared_data, "IDX_RUT.csv") if r[0] <= end]
    spy = [r for r in csv_closes(shared_data, "SPY.csv") if r[0] <= end]
    sign, length, start, longer = _streak(rut, spy)
    fig = find(brief, "streak.^RUT-^GSPC")
    assert fig.value == length
    assert fig.text == {1: "outperforming", -1: "underperforming"}[sign]
    assert find(brief, "streak.^RUT-^GSPC.start").text == start.isoformat()
    assert longer is not None and find(brief, "streak.^RUT-^GSPC.longer").text == longer.isoformat()


def test_record_and_52_week_range(brief: Brief, rut: list[tuple[date, float]]) -> None:
    record_day, record = max(rut, key=lambda r: r[1])
    assert find(brief, "record.^RUT").value == pytest.approx(record)
    assert find(brief, "record.^RUT.date").text == record_day.isoformat() == "2026-01-22"
    assert find(brief, "record.^RUT.week").text == "no new record this week"
    last = rut[-1][1]
    assert find(brief, "record.^RUT.distance").value == pytest.approx((last / record - 1) * 100)
    assert find(brief, "drawdown.^RUT.record").value == pytest.approx((last / record - 1) * 100)
    year = [r for r in rut if r[0] > date(2025, 2, 20)]
    high_day, high = max(year, key=lambda r: r[1])
    low_day, low = min(year, key=lambda r: r[1])
    assert (find(brief, "high52.^RUT").value, find(brief, "high52.^RUT.date").text) == (
        pytest.approx(high),
        high_day.isoformat(),
    )
    assert (find(brief, "low52.^RUT").value, find(brief, "low52.^RUT.date").text) == (
        pytest.approx(low),
        low_day.isoformat(),
    )
    assert find(brief, "low52.^RUT.distance").value == pytest.approx((last / low - 1) * 100)


def _wilder_rsi(closes: list[float], n: int = 14) -> float:
    gains = [max(b - a, 0.0) for a, b in itertools.pairwise(closes)]
    losses = [max(a - b, 0.0) for a, b in itertools.pairwise(closes)]
    avg_gain, avg_loss = sum(gains[:n]) / n, sum(losses[:n]) / n
    for g, lo in zip(gains[n:], losses[n:], strict=True):
        avg_gain = (avg_gain * (n - 1) + g) / n
        avg_loss = (avg_loss * (n - 1) + lo) / n
    return 100 - 100 / (1 + avg_gain / avg_loss)


def test_rsi14_wilder(brief: Brief, rut: list[tuple[date, float]]) -> None:
    rsi = find(brief, "rsi14.^RUT")
    assert rsi.value == pytest.approx(_wilder_rsi([c for _, c in rut]), abs=1e-9)
    assert rsi.text == "neutral" and 30 < value(rsi) < 70
    risks = next(p for p in brief.body if p.key == "risks")
    assert any(f"RSI is {value(rsi):.1f}" in plain(para) for para in risks.paragraphs)


def test_best_week_since(brief: Brief, rut: list[tuple[date, float]]) -> None:
    weeks: dict[date, float] = {}
    for d, c in rut:
        weeks[d + timedelta(days=(4 - d.weekday()) % 7)] = c  # last close of each Friday-ending week
    ends = sorted(weeks)
    rets = [(ends[i], weeks[ends[i]] / weeks[ends[i - 1]] - 1) for i in range(1, len(ends))]
    now = rets[-1][1]
    assert now > 0  # a gain: look back for the latest week at least as good
    back = next(i for i in range(len(rets) - 2, -1, -1) if rets[i][1] >= now)
    fig = find(brief, "bestweek.^RUT")
    assert fig.value == len(rets) - 1 - back
    assert fig.text == f"best since the week ending {rets[back][0].isoformat()}"
    prior = find(brief, "bestweek.^RUT.prior")
    assert prior.provenance.last_bar == rets[back][0] and prior.value == pytest.approx(rets[back][1] * 100)


def test_volume_against_20_day_average(shared_data: Path, brief: Brief) -> None:
    with (folder(shared_data) / "IWM.csv").open(newline="") as fh:
        rows = [(date.fromisoformat(r["Date"][:10]), float(r["Volume"])) for r in csv.DictReader(fh)]
    week = [v for d, v in rows if date(2026, 2, 16) <= d <= AS_OF]
    before = [v for d, v in rows if d < date(2026, 2, 16)][-20:]
    fig = find(brief, "volume.IWM.ratio")
    assert len(week) == 4  # Monday 2026-02-16 was a holiday
    assert fig.value == pytest.approx((sum(week) / 4) / (sum(before) / 20))


def test_ten_year_change_and_curve_in_basis_points(shared_data: Path) -> None:
    # ^TNX is fresh for the week ending 2026-02-13; ^FVX (used here as the short rate) for 2025-11-14.
    brief = analyse(make_snapshot(shared_data), make_config(), (), as_of=date(2026, 2, 13))
    tnx = csv_closes(shared_data, "IDX_TNX.csv")
    change = find(brief, "change.^TNX.1W")
    assert change.unit == "bp"
    # To a thousandth of a bp: the CSV's yields went through float32 (4.0999999046 for 4.100), and the
    # change of two yields quoted to 0.001% has nothing past 0.1 bp but that noise.
    assert change.value == round(
        (close_on(tnx, date(2026, 2, 13)) - close_on(tnx, date(2026, 2, 6))) * 100, 3
    )
    assert find(brief, "yield.^TNX").value == pytest.approx(close_on(tnx, date(2026, 2, 13)))
    slots = Slots(rate_3m="^FVX")
    brief = analyse(make_snapshot(shared_data), make_config(slots=slots), (), as_of=date(2025, 11, 14))
    fvx = csv_closes(shared_data, "IDX_FVX.csv")
    curve = find(brief, "curve.10y-3m")
    expected = (close_on(tnx, date(2025, 11, 14)) - close_on(fvx, date(2025, 11, 14))) * 100
    assert curve.value == pytest.approx(expected) and curve.text == (
        "inverted" if expected < 0 else "positive"
    )


def test_a_return_is_made_once_per_context_and_a_replaced_context_starts_afresh(
    config: Config, sample: Snapshot
) -> None:
    from dataclasses import replace

    from generator.analysis.common import make_context, return_figure

    start, end = reporting_week(sample.as_of, "friday")
    ctx = make_context(sample, config, start, end)
    first = return_figure(ctx, "IWM", "1W")
    assert return_figure(ctx, "IWM", "1W") is first and first.key == "return.IWM.1W"
    assert return_figure(ctx, "IWM", "YTD") is not first
    # Another week's context (as replace would make it) never reads this one's figures.
    later = replace(ctx, week_end=end + timedelta(days=7))
    assert later.made == {} and return_figure(later, "IWM", "1W") is not first


def test_a_ratio_of_two_series_is_the_inner_join_divided_whichever_path_it_takes(
    config: Config, sample: Snapshot
) -> None:
    """Same sessions: divided on the arrays; other sessions: joined.  Either way the answer of
    pd.concat(join="inner").dropna() and one column over the other, to the bit."""
    from dataclasses import replace

    from generator.analysis.common import make_context, one_year, ratio_series

    def joined(ctx: object, a: str, b: str) -> pd.Series:
        both = pd.concat([ctx.closes[a], ctx.closes[b]], axis=1, join="inner").dropna()  # type: ignore[attr-defined]
        return both.iloc[:, 0] / both.iloc[:, 1]

    start, end = reporting_week(sample.as_of, "friday")
    iwm = sample.series["IWM"].frame.copy()
    iwm.iloc[5, iwm.columns.get_loc("Close")] = float("nan")  # a hole in one of the two
    ijr = sample.series["IJR"].frame.iloc[3:]  # fewer sessions: the joined path
    series = {
        **sample.series,
        "IWM": replace(sample.series["IWM"], frame=iwm),
        "IJR": replace(sample.series["IJR"], frame=ijr),
    }
    ctx = make_context(replace(sample, series=series), config, start, end)
    for a, b in (("^RUT", "^GSPC"), ("IWM", "^RUT"), ("IWM", "IJR"), ("^RUT", "^RUT")):
        pd.testing.assert_series_equal(
            ratio_series(ctx, a, b), joined(ctx, a, b), check_exact=True, check_freq=False
        )
    ratio = ratio_series(ctx, "^RUT", "^GSPC")
    year = ratio.loc[ratio.index > pd.Timestamp(end - timedelta(days=365))]
    pd.testing.assert_series_equal(one_year(ratio, end), year, check_exact=True, check_freq=False)
    pd.testing.assert_series_equal(one_year(ratio.iloc[::-1], end), year.iloc[::-1], check_exact=True)
