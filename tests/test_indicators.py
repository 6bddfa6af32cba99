"""Shared indicators: the vectorised week keys agree with the one-day rule they replace."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from test_analysis_figures import csv_closes

from generator.analysis.indicators import bar_dates, week_key, week_keys, weekly_closes, weekly_returns


@pytest.mark.parametrize("ends_on", ["friday", "thursday", "monday", "sunday"])
def test_week_keys_match_week_key_day_by_day(ends_on: str) -> None:
    days = pd.date_range("2015-01-01", "2026-12-31", freq="D")
    keys = week_keys(days, ends_on)
    assert [k.date() for k in keys] == [week_key(d.date(), ends_on) for d in days]


def test_week_keys_of_a_zoned_index_use_its_local_dates() -> None:
    days = pd.date_range("2026-11-16 16:00", periods=7, freq="D", tz="America/New_York")
    assert [k.date() for k in week_keys(days)] == [date(2026, 11, 20)] * 5 + [date(2026, 11, 27)] * 2


def test_a_short_week_is_named_by_its_last_session() -> None:
    # Good Friday 2025: the week's last session is Thursday 2025-04-17.
    days = [date(2025, 4, 7) + timedelta(days=n) for n in range(11) if n not in (5, 6)]
    closes = pd.Series(range(len(days)), index=pd.DatetimeIndex(days), dtype=float)
    weekly = weekly_closes(closes)
    assert [d.date() for d in weekly.index] == [date(2025, 4, 11), date(2025, 4, 17)]
    assert weekly.tolist() == [4.0, 8.0]


def test_weekly_closes_agree_with_a_plain_groupby_on_a_real_series(shared_data: Path) -> None:
    """The positional rule (a week's last bar is the one before the next week starts) against pandas'
    groupby over the same week keys, on the real Russell 2000 series with its holidays and gaps."""
    rows = csv_closes(shared_data, "IDX_RUT.csv")
    closes = pd.Series([c for _, c in rows], index=pd.DatetimeIndex([d for d, _ in rows]), dtype=float)
    closes.iloc[[10, 11, 500]] = float("nan")  # a missing close is not a week's last bar
    for ends_on in ("friday", "thursday"):
        present = closes.dropna()
        keys = week_keys(pd.DatetimeIndex(present.index), ends_on)
        expected = present.groupby(keys).last()
        expected.index = pd.DatetimeIndex(pd.Series(present.index, index=present.index).groupby(keys).last())
        got = weekly_closes(closes, ends_on)
        assert len(got) > 500
        assert got.tolist() == expected.tolist()
        assert list(got.index) == list(expected.index)
    shuffled = closes.sample(frac=1.0, random_state=1)  # bars out of order are put in order first
    assert weekly_closes(shuffled).equals(weekly_closes(closes))


def test_weekly_returns_on_arrays_are_the_pandas_arithmetic_to_the_bit() -> None:
    """The same values, dates and name as (last / last.shift(1) - 1).dropna() * 100, without a
    warning: a zero close gives -100 % and then inf, 0 / 0 is left out as dropna leaves it out."""
    import warnings

    fridays = pd.date_range("2026-01-02", periods=8, freq="7D")
    closes = pd.Series([101.3, 99.7, 0.0, 0.0, 2.0, 2.5, 2.4, 7.1], index=fridays, name="Close")
    last = weekly_closes(closes)
    expected = (last / last.shift(1) - 1.0).dropna() * 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = weekly_returns(closes)
    pd.testing.assert_series_equal(got, expected, check_exact=True, check_freq=False)
    assert got.iloc[1] == -100.0 and got.iloc[2] == float("inf") and len(got) == 6  # 0 / 0 dropped


def test_bar_dates_of_a_zoned_index_are_its_wall_clock_dates() -> None:
    tokyo = pd.date_range("2026-01-05 08:00", periods=3, freq="D", tz="Asia/Tokyo")  # 2026-01-04 in UTC
    assert (
        bar_dates(tokyo)
        == [d.date() for d in tokyo]
        == [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]
    )
    naive = pd.DatetimeIndex(["1969-12-31", "2026-11-20"]).as_unit("s")
    assert bar_dates(naive) == [date(1969, 12, 31), date(2026, 11, 20)]


def test_a_percentile_is_the_top_only_for_the_top_value_itself() -> None:
    """A share of closes at or below the last: 251 of 252 is 99.6%, the second-highest close, and must
    not round to "100th" nor be called the highest; the top itself is 100 and "highest"."""
    import numpy as np

    from generator.analysis.indicators import extreme_of_last, percentile_of_last
    from generator.formatting import fmt_value

    second = np.array([*range(250), 300.0, 299.0])
    top, bottom = np.array([*range(251), 300.0]), np.array([*range(5, 256), 1.0])
    assert round(percentile_of_last(second), 1) == 99.6 and extreme_of_last(second) == ""
    assert fmt_value(percentile_of_last(second), "pctile") == "99th percentile"
    assert percentile_of_last(top) == 100.0 and extreme_of_last(top) == "highest"
    assert fmt_value(100.0, "pctile") == "100th percentile"
    assert extreme_of_last(bottom) == "lowest" and fmt_value(percentile_of_last(bottom), "pctile") == (
        "1st percentile"  # 0.4% of 252 closes: the last counts itself, so never the "0th"
    )
    assert extreme_of_last(np.array([3.0, 3.0])) == "highest"  # a tie with the top is the top
    assert extreme_of_last(np.array([3.0])) == "" and extreme_of_last(np.array([1.0, np.nan])) == ""
