"""Editorial thresholds: every level the brief judges a figure against, in one place.

The analysis uses them to decide facts (a crossing, a bear market); the narrative uses them to
choose words ("in line", "normal volume").  Changing a threshold here changes both.
"""

from __future__ import annotations

from typing import Final

# Volatility (VIX / RVX, index points)
VIX_ELEVATED: Final = 20.0
VIX_STRESS: Final = 30.0
VIX_LEVELS: Final = (VIX_ELEVATED, VIX_STRESS)

# Momentum (Wilder RSI, 14 days)
RSI_OVERBOUGHT: Final = 70.0
RSI_OVERSOLD: Final = 30.0

# Drawdown from the record close, percent
CORRECTION: Final = -10.0
BEAR_MARKET: Final = -20.0
# At a record the lead told, the distance above the 52-week low is said only this close to the low:
# there, "19% above its 52-week low" tells the reader nothing.
NEAR_52W_LOW_PCT: Final = 10.0

# Rates, basis points
RATE_BEAR_1M_BP: Final = 25.0

# Noise bands: differences smaller than these read as "in line" / "flat" / "normal"
IN_LINE_PP: Final = 0.25  # a return spread under a quarter point is "in line"
FLAT_PCT: Final = 0.10  # a return under a tenth of a percent is "little changed"
FLAT_BP: Final = 2.0  # a yield change under 2 bp is "unchanged"
FLAT_VIX_POINTS: Final = 0.5
NORMAL_VOLUME: Final = (0.85, 1.15)  # volume within ±15% of its average is "normal volume"
NEAR_RANGE_END: Final = 0.1  # within a tenth of a 1-year range from its end is "near the top/bottom"
NOTABLE_PCTILE_FROM_MIDDLE: Final = 30.0  # at or below the 20th or at or above the 80th percentile: told

# Data checks: a week that cannot be trusted is left out and named, never headlined
SUSPECT_WEEK_PCT: Final = 50.0  # |weekly change| at or above: a split or bad data (prices)
# A volatility index more than doubles in a week in a crisis (the VIX +135% in the week to
# 2020-02-28, +109% to 2025-04-04) but has never gone to four times or a quarter of itself.
SUSPECT_VOLATILITY_RATIO: Final = 4.0
# A VIX close above 30 inside the week is a spike when it stands this far above both the week
# before's close and the week's own close (38.57 on 2024-08-05 after 23.39, before 20.37); a VIX
# hovering about 30 (28.9, 31.0, 29.4) is not.
VIX_SPIKE_RATIO: Final = 1.2
# A line crossed by less than this (VIX points, RSI points, percentage points of the drawdown or of
# the distance from the 200-day average) is a reading hovering about it: still
# an event, scored below NOTEWORTHY, so it is a takeaway only when the week has few others
# ("The VIX fell 0.90 points to 19.97, back below 20" leads nothing).
MARGINAL_CROSSING: Final = 1.0
MARGINAL_SCORE: Final = 1.0
# A yield quoted in percent moves by basis points: its weekly change in percentage points says more
# than a ratio (a 3-month bill at 0.02% can triple); no Treasury yield has moved 2 points in a week,
# while a quote shifted by a decimal (4.25 read as 42.5) moves by tens.
SUSPECT_RATE_POINTS: Final = 2.0
# More sessions than this without bars inside a week's change: not a week's move.  (A change whose
# base is before the previous week's first session spans a missing week, holiday weeks of 4 sessions
# included, and is flagged whatever the count.)  Daily series: a weekly file misses 4 a week.
MAX_GAP_SESSIONS: Final = 5

# News value
# Takeaways besides the headline (which tells the week's move and its gap with large caps):
# 3 to 5 points at the top of the brief in all.
MIN_TAKEAWAYS: Final = 2
MAX_TAKEAWAYS: Final = 4
NOTEWORTHY: Final = 1.5  # an event scoring below this is not a takeaway unless needed to reach the minimum
UNUSUAL_MOVE_SD: Final = 2.0  # a move of two of its own standard deviations is unusual
BREADTH_HISTORY_SESSIONS: Final = 200  # a breadth extreme is claimed on this many sessions before the week
# "The best in the data" and ranks need this much history ("since <date>" claims are true on any).
MIN_HISTORY_YEARS: Final = 3.0
# "Worst week since the week ending <date>" is context when that date is far back; when it is within
# this many weeks, the move's rank in the data says more ("their second-worst week in the data"), and
# a relative streak is no news at all (runs of 5 or 6 sessions come every few weeks).
RECENT_SINCE_WEEKS: Final = 13
RANKED_UP_TO: Final = 3  # a move is ranked ("third-best") only among this many most extreme
MIN_STREAK_DAYS: Final = 5  # a relative streak shorter than this is not news
WATCH_RSI_REACH: Final = 5.0
WATCH_VIX_REACH: Final = 2.0
WATCH_MA_REACH_PCT: Final = 2.0
WATCH_CURVE_REACH_BP: Final = 15.0

# Member fundamentals (the monthly refresh of the members' earnings and market values)
FUNDAMENTALS_MAX_AGE_DAYS: Final = 62  # a refresh older than this at the week's end is not used
FUNDAMENTALS_MIN_COVERAGE: Final = 0.5  # fewer members with data than this share: not shown
PE_LEVEL_PCT: Final = 2.0  # a small-cap multiple within 2% of the large-cap one reads "about level with"
