"""The NYSE trading calendar: which days have a session, and which session's daily bar is final.

Full-day holidays only: an early close (the day after Thanksgiving, Christmas Eve) is a full
trading day here, since it still has a daily bar.  Nothing here reads the clock: ``now`` comes in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd
from pandas.tseries import holiday as hol

EXCHANGE_TZ = ZoneInfo("America/New_York")
CLOSE = time(16, 0)
SETTLE_MARGIN = timedelta(hours=1)  # a daily bar is taken as final one hour after the close


class _NyseHolidays(hol.AbstractHolidayCalendar):
    rules = [  # noqa: RUF012 (pandas reads this plain class attribute)
        hol.Holiday("New Year's Day", month=1, day=1, observance=hol.sunday_to_monday),
        hol.USMartinLutherKingJr,
        hol.USPresidentsDay,
        hol.GoodFriday,
        hol.USMemorialDay,
        hol.Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=hol.nearest_workday),
        hol.Holiday("Independence Day", month=7, day=4, observance=hol.nearest_workday),
        hol.USLaborDay,
        hol.USThanksgivingDay,
        hol.Holiday("Christmas Day", month=12, day=25, observance=hol.nearest_workday),
    ]


@lru_cache(maxsize=128)
def holidays(year: int) -> frozenset[date]:
    """The NYSE's full-day holidays of ``year`` (as observed)."""
    stamps = _NyseHolidays().holidays(pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31))
    return frozenset(s.date() for s in stamps)


def is_trading_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def previous_trading_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def trading_days(first: date, last: date) -> list[date]:
    """Every trading day from ``first`` to ``last``, both included."""
    return [d.date() for d in pd.date_range(first, last, freq="D") if is_trading_day(d.date())]


def last_complete_session(now: datetime) -> date:
    """The latest trading day whose daily bar is final at ``now`` (a naive ``now`` is UTC)."""
    local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(EXCHANGE_TZ)
    settled = datetime.combine(local.date(), CLOSE, EXCHANGE_TZ) + SETTLE_MARGIN
    if is_trading_day(local.date()) and local >= settled:
        return local.date()
    return previous_trading_day(local.date())
