"""generator.sources.calendar: NYSE sessions from exchange_calendars, ad-hoc closures included."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from generator.sources import calendar
from generator.sources.calendar import (
    holidays,
    is_trading_day,
    last_complete_session,
    non_session_days,
    previous_trading_day,
    trading_days,
)
from tests.conftest import ROOT


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
        # ad-hoc closures the old hand-written rules did not know
        (datetime(2004, 6, 12, 14, 0, tzinfo=UTC), date(2004, 6, 10)),  # Friday: Reagan's day of mourning
        (datetime(2001, 9, 15, 14, 0, tzinfo=UTC), date(2001, 9, 10)),  # closed 9/11 to Friday 9/14
        (datetime(2025, 1, 9, 23, 0, tzinfo=UTC), date(2025, 1, 8)),  # Thursday: Carter's day of mourning
        (datetime(2012, 10, 30, 23, 0, tzinfo=UTC), date(2012, 10, 26)),  # Hurricane Sandy, two days
    ],
)
def test_last_complete_session(now: datetime, session: date) -> None:
    assert last_complete_session(now) == session


def test_a_week_with_a_day_of_mourning_has_four_sessions() -> None:
    assert trading_days(date(2025, 1, 6), date(2025, 1, 10)) == [
        date(2025, 1, 6),
        date(2025, 1, 7),
        date(2025, 1, 8),
        date(2025, 1, 10),
    ]
    assert trading_days(date(2004, 6, 7), date(2004, 6, 11))[-1] == date(2004, 6, 10)
    assert trading_days(date(2001, 9, 10), date(2001, 9, 14)) == [date(2001, 9, 10)]
    assert previous_trading_day(date(2001, 9, 17)) == date(2001, 9, 10)


def test_holidays_of_a_year_include_the_ad_hoc_closures() -> None:
    assert sorted(holidays(2025)) == [
        date(2025, 1, 1),
        date(2025, 1, 9),  # national day of mourning (President Carter)
        date(2025, 1, 20),
        date(2025, 2, 17),
        date(2025, 4, 18),
        date(2025, 5, 26),
        date(2025, 6, 19),
        date(2025, 7, 4),
        date(2025, 9, 1),
        date(2025, 11, 27),
        date(2025, 12, 25),
    ]
    assert {date(2001, 9, 11), date(2001, 9, 14)} <= holidays(2001)
    assert date(2026, 11, 27) not in holidays(2026)  # the day after Thanksgiving: an early close


def test_days_before_1970_count_by_weekday() -> None:
    assert is_trading_day(date(1950, 2, 22))  # XNYS has no regular holidays this early
    assert not is_trading_day(date(1950, 2, 25))  # a Saturday
    assert holidays(1950) == frozenset()
    assert trading_days(date(1969, 12, 29), date(1970, 1, 5)) == [
        date(1969, 12, 29),
        date(1969, 12, 30),
        date(1969, 12, 31),
        date(1970, 1, 2),  # New Year's Day 1970: closed
        date(1970, 1, 5),
    ]


def test_non_session_days_flag_holidays_weekends_and_not_nat() -> None:
    days = np.array(
        ["2025-09-01", "2025-09-02", "NaT", "2025-09-06", "1960-01-04", "1960-01-02", "2030-01-01"],
        dtype="datetime64[ns]",
    )
    assert non_session_days(days).tolist() == [True, False, False, True, False, True, True]
    assert non_session_days(np.array([], dtype="datetime64[ns]")).tolist() == []


def test_days_outside_the_table_build_the_calendar_once_and_widen_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar, "_built", [])  # as in a fresh process
    is_trading_day(date(2026, 11, 20))
    assert calendar._built == []  # inside the shipped table: exchange_calendars is not built
    is_trading_day(date(2031, 1, 2))
    first = calendar._built[0]
    assert (first.first, first.last) == (date(1970, 1, 1), date(2032, 12, 31))
    is_trading_day(date(2031, 6, 2))
    assert calendar._built[0] is first  # already covered
    is_trading_day(date(2033, 1, 3))
    assert (calendar._built[0].first, calendar._built[0].last) == (date(1970, 1, 1), date(2034, 12, 31))


def test_exchange_calendars_is_imported_only_beyond_the_table() -> None:
    code = (
        "import sys\n"
        "import generator.sources.calendar as c\n"
        "from datetime import date\n"
        "assert not c.is_trading_day(date(2025, 1, 9))\n"
        "assert 'exchange_calendars' not in sys.modules\n"
        "assert c.is_trading_day(date(2031, 1, 2))\n"
        "assert 'exchange_calendars' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("as_of", "week"),
    [
        (date(2004, 6, 10), (date(2004, 6, 7), date(2004, 6, 11))),  # Thursday before a closed Friday
        (date(2004, 6, 12), (date(2004, 6, 7), date(2004, 6, 11))),
        (date(2001, 9, 10), (date(2001, 9, 10), date(2001, 9, 14))),  # Monday, the week's only session
        (date(2025, 1, 8), (date(2024, 12, 30), date(2025, 1, 3))),  # Friday the 10th trades: last week
        (date(2025, 1, 10), (date(2025, 1, 6), date(2025, 1, 10))),
    ],
)
def test_the_reporting_week_of_a_closure_week(as_of: date, week: tuple[date, date]) -> None:
    from generator.analysis import reporting_week

    assert reporting_week(as_of) == week
    assert trading_days(*week)[-1] <= as_of  # the week reported has had its last session


def test_the_shipped_table_matches_exchange_calendars() -> None:
    """The table the build reads (scripts/make_nyse_calendar.py) is exchange_calendars' XNYS, unchanged."""
    from generator.sources.calendar import (
        TABLE_PATH,
        MarketDay,
        market_days,
        market_days_from_exchange_calendars,
    )

    lines = TABLE_PATH.read_text(encoding="ascii").splitlines()
    first, last = (
        date.fromisoformat(x) for x in next(x for x in lines if x.startswith("# range ")).split()[2:4]
    )
    table = [date.fromisoformat(x.split()[0]) for x in lines if x[:1].isdigit()]
    assert table == [d.day for d in market_days_from_exchange_calendars(first, last) if d.closed]
    assert date(2025, 1, 9) in table and date(2001, 9, 14) in table and last.year >= 2030
    # the holidays' names and the early closes, as the schedule of next week tells them
    assert market_days(first, last) == tuple(market_days_from_exchange_calendars(first, last))
    assert MarketDay(date(2026, 11, 26), True, "Thanksgiving") in market_days(first, last)
    assert MarketDay(date(2026, 11, 27), False, close_et="13:00") in market_days(first, last)


def test_trading_days_are_remembered_but_each_caller_gets_its_own_list() -> None:
    week = trading_days(date(2025, 1, 6), date(2025, 1, 10))  # the day of mourning, Thursday 01-09
    assert week == [date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 8), date(2025, 1, 10)]
    week.clear()
    assert len(trading_days(date(2025, 1, 6), date(2025, 1, 10))) == 4
    assert trading_days(date(2025, 1, 10), date(2025, 1, 6)) == []


@pytest.mark.parametrize(
    ("week_start", "told"),
    [
        (
            date(2026, 11, 16),  # the reporting week before Thanksgiving's
            [
                (date(2026, 11, 26), "NYSE closed (Thanksgiving)", ""),
                (date(2026, 11, 27), "NYSE closes early", "13:00"),
            ],
        ),
        (date(2024, 12, 30), [(date(2025, 1, 9), "NYSE closed", "")]),  # the day of mourning: no name
        (date(2026, 11, 2), []),  # a full week of regular sessions
        (
            date(2031, 6, 23),  # beyond the table: from exchange_calendars
            [
                (date(2031, 7, 3), "NYSE closes early", "13:00"),
                (date(2031, 7, 4), "NYSE closed (July 4th)", ""),
            ],
        ),
    ],
)
def test_next_weeks_calendar_tells_the_markets_closures_and_early_closes(
    week_start: date, told: list[tuple[date, str, str]]
) -> None:
    from generator.analysis.outlook import NYSE_HOURS, market_schedule, with_market_days
    from generator.models import ScheduledEvent

    items = market_schedule(week_start)
    assert [(e.day, e.title, e.time_et) for e in items] == told
    assert all(e.source == "NYSE" and e.url == NYSE_HOURS for e in items)
    fed = ScheduledEvent(
        week_start + timedelta(days=9), "FOMC minutes", "Federal Reserve", "https://x.test", "14:00"
    )
    merged = with_market_days((fed,), week_start)
    assert list(merged) == sorted((fed, *items), key=lambda e: (e.day, e.time_et, e.title))
