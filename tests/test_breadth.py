"""Breadth and attribution, checked against small panels computed by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from generator.analysis.breadth import (
    METHOD,
    Coverage,
    DayCount,
    attribute,
    compute_breadth,
    daily_breadth,
)

NAN = np.nan
# Tue 5 May .. Wed 13 May 2026; the reporting week is Mon 11 .. Fri 15 May, its base Fri 8 May.
DAYS = pd.to_datetime(
    ["2026-05-05", "2026-05-06", "2026-05-07", "2026-05-08", "2026-05-11", "2026-05-12", "2026-05-13"]
)
SMALL = pd.DataFrame(
    {
        "A": [10, 11, 12, 11, 12, 13, 12.1],
        "B": [20, 19, 18, 18, 17, 18, 17.1],
        "C": [30, 30, NAN, 31, 32, 33, 34],
        "X": [1, 2, 3, 4, 5, 6, 7],  # not a member: ignored
    },
    index=DAYS,
)
WEEK = (date(2026, 5, 11), date(2026, 5, 15))
MEMBERS = ["A", "B", "C", "D"]  # D was not fetched
INDEX = pd.Series(
    [99.0, 100.0, 101.0, 103.0],
    index=pd.to_datetime(["2026-05-07", "2026-05-08", "2026-05-11", "2026-05-12"]),
)


def test_daily_advancers_decliners_and_ad_line() -> None:
    table = daily_breadth(SMALL[["A", "B", "C"]])
    # d1: A up, B down, C flat; d2: C missing; d3: C's previous close missing; ...
    assert table["advancers"].tolist() == [0, 1, 1, 0, 2, 3, 1]
    assert table["decliners"].tolist() == [0, 1, 1, 1, 1, 0, 2]
    assert table["unchanged"].tolist() == [0, 1, 0, 1, 0, 0, 0]
    assert table["ad_line"].tolist() == [0, 0, 0, -1, 0, 3, 2]
    assert table["mcclellan"].isna().all()  # fewer than 39 sessions of net advances


def test_the_week_by_hand() -> None:
    breadth = compute_breadth(SMALL, INDEX, *WEEK, MEMBERS)
    assert breadth is not None
    assert (breadth.base, breadth.last) == (date(2026, 5, 8), date(2026, 5, 13))
    assert breadth.coverage == Coverage(members=4, covered=3)
    assert breadth.coverage.missing == 1
    # week: A 11 → 12.1 (+10 %), B 18 → 17.1 (−5 %), C 31 → 34 (+9.68 %)
    assert breadth.week == DayCount(date(2026, 5, 13), advancers=2, decliners=1, unchanged=0)
    assert breadth.days == (
        DayCount(date(2026, 5, 11), 2, 1, 0),
        DayCount(date(2026, 5, 12), 3, 0, 0),
        DayCount(date(2026, 5, 13), 1, 2, 0),
    )
    assert [d.net for d in breadth.days] == [1, 3, -1]
    assert (breadth.ad_line, breadth.ad_line_change) == (2.0, 3.0)
    assert breadth.median_return == pytest.approx(34 / 31 - 1)
    assert breadth.index_return == pytest.approx(0.03)  # 100 → 103, the last index close in the week
    assert breadth.mcclellan is None and breadth.mcclellan_before is None
    assert [(a.window, a.eligible, a.share) for a in breadth.above] == [(50, 0, None), (200, 0, None)]
    assert (breadth.new_highs, breadth.new_lows, breadth.high_low_eligible) == (0, 0, 0)


def test_no_session_in_the_week_or_before_it() -> None:
    assert compute_breadth(SMALL, None, date(2026, 5, 18), date(2026, 5, 22), MEMBERS) is None
    assert compute_breadth(SMALL, None, date(2026, 5, 4), date(2026, 5, 4), MEMBERS) is None
    assert compute_breadth(SMALL.iloc[:4], None, *WEEK, MEMBERS) is None
    assert attribute(SMALL.iloc[:4], *WEEK, {"A": 1.0}, {}) is None


def rising(n: int, start: float = 100.0) -> list[float]:
    return [start + i for i in range(n)]


def test_share_above_the_moving_averages_and_its_change() -> None:
    n = 201  # the week is the last session; the base is the one before
    days = pd.bdate_range("2025-08-01", periods=n)
    panel = pd.DataFrame(
        {
            "UP": rising(n),
            "DOWN_THEN_JUMP": [300.0 - i for i in range(n - 1)] + [400.0],
            "FLAT": [50.0] * n,  # equal to its average: not above
            "YOUNG": [NAN] * (n - 61) + rising(61),  # 61 closes: a 50-day average, no 200-day one
        },
        index=days,
    )
    breadth = compute_breadth(panel, None, days[-1].date(), days[-1].date(), list(panel.columns))
    assert breadth is not None
    fifty, two_hundred = breadth.above
    assert (fifty.above, fifty.eligible, fifty.share) == (3, 4, 0.75)
    assert fifty.share_before == 0.5  # UP and YOUNG of four
    assert fifty.change == pytest.approx(0.25)
    assert (two_hundred.above, two_hundred.eligible) == (2, 3)
    assert two_hundred.share == pytest.approx(2 / 3)
    assert two_hundred.share_before == pytest.approx(1 / 3)
    assert two_hundred.change == pytest.approx(1 / 3)


def test_new_52_week_highs_and_lows() -> None:
    n = 253
    days = pd.bdate_range("2025-05-01", periods=n)
    flat = [100.0] * (n - 2)
    panel = pd.DataFrame(
        {
            "HIGH": [*flat, 101.0, 100.0],  # a new high on the week's first day counts
            "LOW": [*flat, 100.0, 99.0],
            "EQUAL": [*flat, 100.0, 100.0],  # matching the old high is not a new one
            "YOUNG": [NAN] * (n - 100) + [100.0] * 98 + [150.0, 50.0],  # no year of history
        },
        index=days,
    )
    breadth = compute_breadth(panel, None, days[-2].date(), days[-1].date(), list(panel.columns))
    assert breadth is not None
    assert (breadth.new_highs, breadth.new_lows, breadth.net_highs) == (1, 1, 0)
    assert breadth.high_low_eligible == 3
    table = daily_breadth(panel)
    assert table["new_highs"].tolist()[-2:] == [1, 0]
    assert table["new_lows"].tolist()[-2:] == [0, 1]


def test_mcclellan_is_the_19_minus_39_day_ema_of_net_advances() -> None:
    rng = np.random.default_rng(8)
    n, members = 80, 9
    panel = pd.DataFrame(
        100 * np.cumprod(1 + rng.normal(0, 0.01, (n, members)), axis=0),
        index=pd.bdate_range("2026-01-01", periods=n),
    )
    table = daily_breadth(panel)
    net = (np.sign(np.diff(panel.to_numpy(), axis=0)) > 0).sum(1) - (
        np.sign(np.diff(panel.to_numpy(), axis=0)) < 0
    ).sum(1)
    fast = slow = float(net[0])
    expected = []
    for value in net:
        fast += 2 / 20 * (value - fast)
        slow += 2 / 40 * (value - slow)
        expected.append(fast - slow)
    got = table["mcclellan"].to_numpy()[1:]
    assert np.isnan(got[:38]).all()
    assert got[38:] == pytest.approx(expected[38:])
    assert table["ad_line"].iloc[-1] == net.sum()


def test_attribution_by_hand() -> None:
    weights = {"A": 4.0, "B": 3.0, "C": 2.0, "D": 1.0}  # percent of the fund; D has no prices
    sectors = {"A": "Technology", "B": "Technology", "C": "Energy", "D": "Energy"}
    result = attribute(SMALL, *WEEK, weights, sectors)
    assert result is not None
    assert result.coverage == Coverage(4, 3)
    assert result.covered_weight == pytest.approx(0.9)
    a, b, c = 0.10 * 4 / 9, -0.05 * 3 / 9, (34 / 31 - 1) * 2 / 9
    assert result.total == pytest.approx(a + b + c)
    tech, energy = result.sectors  # largest contribution first: 0.0278 against 0.0215
    assert (energy.key, energy.members, energy.weight) == ("Energy", 1, pytest.approx(2 / 9))
    assert (energy.ret, energy.contribution) == (pytest.approx(34 / 31 - 1), pytest.approx(c))
    assert (tech.key, tech.members, tech.weight) == ("Technology", 2, pytest.approx(7 / 9))
    assert tech.contribution == pytest.approx(a + b)
    assert tech.ret == pytest.approx((a + b) / (7 / 9))
    assert [m.key for m in result.contributors] == ["A", "C"]
    assert [m.key for m in result.detractors] == ["B"]
    assert result.detractors[0].contribution == pytest.approx(b)
    assert result.detractors[0].ret == pytest.approx(-0.05)


def test_top_five_each_way() -> None:
    returns = [0.05, -0.02, 0.03, 0.08, -0.06, 0.01, -0.01, 0.04, -0.09, 0.02, -0.03, -0.04, 0.0]
    names = [f"M{i:02d}" for i in range(len(returns))]
    days = pd.to_datetime(["2026-05-08", "2026-05-15"])
    panel = pd.DataFrame(
        [[100.0] * len(names), [100.0 * (1 + r) for r in returns]], index=days, columns=names
    )
    result = attribute(panel, date(2026, 5, 11), date(2026, 5, 15), dict.fromkeys(names, 1.0), {})
    assert result is not None
    assert [m.key for m in result.contributors] == ["M03", "M00", "M07", "M02", "M09"]
    assert [m.key for m in result.detractors] == ["M08", "M04", "M11", "M10", "M01"]
    assert result.sectors[0].key == "Unclassified" and result.sectors[0].members == 13
    assert result.total == pytest.approx(sum(returns) / 13)


def test_the_method_states_the_survivorship_caveat() -> None:
    assert "today's members" in METHOD and "survivorship" in METHOD


@pytest.mark.parametrize("window", [1, 2, 5, 50, 200, 251])
def test_rolling_helpers_match_pandas(window: int) -> None:
    from generator.analysis.breadth import _rolling_extreme, _rolling_mean

    rng = np.random.default_rng(window)
    values = rng.normal(100, 5, (300, 7))
    values[rng.random(values.shape) < 0.01] = NAN
    values[:40, 3] = NAN  # a late listing
    frame = pd.DataFrame(values)
    rolling = frame.rolling(window, min_periods=window)
    np.testing.assert_allclose(_rolling_mean(values, window), rolling.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(_rolling_extreme(values, window, np.maximum), rolling.max().to_numpy())
    np.testing.assert_array_equal(_rolling_extreme(values, window, np.minimum), rolling.min().to_numpy())
    assert np.isnan(_rolling_mean(values[:3], 5)).all()
