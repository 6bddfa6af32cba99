"""Shared indicators over dated series: weekly returns, relative runs, drawdowns, percentiles, records.

Pure functions of pandas / numpy values; no figures and no words.  The sections and the news-value
scoring build on them, so "the longest run" or "the first record since" is computed in one way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from generator.models import WEEKDAYS


def bar_days(index: pd.Index) -> np.ndarray:
    """The calendar days of a date index as datetime64[D], through numpy (a Timestamp per bar costs
    ten times as much); a time-zone-aware index gives its wall-clock days, as Timestamp.date() does."""
    if getattr(index, "tz", None) is not None:
        index = pd.DatetimeIndex(index).tz_localize(None)
    return np.asarray(index.values).astype("datetime64[D]")


def bar_dates(index: pd.Index) -> list[date]:
    """The dates of a date index (see :func:`bar_days`)."""
    return bar_days(index).tolist()  # type: ignore[no-any-return]


def week_key(day: date, week_ends_on: str = "friday") -> date:
    """The last day of the reporting week ``day`` belongs to (groups daily bars into weeks)."""
    end_wd = WEEKDAYS.index(week_ends_on.strip().lower())
    return day + timedelta(days=(end_wd - day.weekday()) % 7)


def week_keys(days: pd.DatetimeIndex, week_ends_on: str = "friday") -> pd.DatetimeIndex:
    """:func:`week_key` over a whole index at once (the key of each bar's day)."""
    return pd.DatetimeIndex(_week_ends(days, week_ends_on).astype("datetime64[ns]"))


def _week_ends(days: pd.DatetimeIndex, week_ends_on: str) -> np.ndarray:
    """:func:`week_keys` as numpy days (1970-01-01 was a Thursday: weekday 3)."""
    end_wd = WEEKDAYS.index(week_ends_on.strip().lower())
    local = days.tz_localize(None) if days.tz is not None else days  # the wall-clock day
    day: np.ndarray = local.to_numpy().astype("datetime64[D]")
    weekday = (day.astype(np.int64) + 3) % 7
    ends: np.ndarray = day + ((end_wd - weekday) % 7).astype("timedelta64[D]")
    return ends


def weekly_closes(closes: pd.Series, week_ends_on: str = "friday") -> pd.Series:
    """The last close of each reporting week, indexed by that close's date (the week's last session).

    A week cut short by a holiday is named by its last session (Thursday 2025-04-17 before Good
    Friday), the same date its issue carries.
    """
    present = closes.dropna() if closes.hasnans else closes
    if not present.index.is_monotonic_increasing:
        present = present.sort_index()
    keys = _week_ends(pd.DatetimeIndex(present.index), week_ends_on)
    # The bars are in date order: a week's last bar is the one whose next bar starts another week
    # (positions, not a groupby: this runs for every series of every week the brief looks back on).
    ends = np.flatnonzero(np.append(keys[1:] != keys[:-1], True)) if len(keys) else np.array([], int)
    index = present.index[ends]
    return pd.Series(present.to_numpy()[ends], index=index.rename(None), name=present.name)


def weekly_returns(closes: pd.Series, week_ends_on: str = "friday") -> pd.Series:
    """Return of each week in percent: its last close over the previous week's last close."""
    last = weekly_closes(closes, week_ends_on)
    values = last.to_numpy(dtype=float)
    # The same arithmetic as (last / last.shift(1) - 1).dropna() * 100, on the arrays: this runs
    # for every sector ETF of every week the brief looks back on.
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = (values[1:] / values[:-1] - 1.0) * 100.0
    kept = ~np.isnan(returns)
    return pd.Series(returns[kept], index=last.index[1:][kept], name=last.name)


def daily_returns(closes: pd.Series) -> pd.Series:
    """Close-to-close daily returns in percent."""
    return (closes / closes.shift(1) - 1.0).dropna() * 100.0


def zscore(value: float, history: np.ndarray) -> float | None:
    """How many of its own standard deviations ``value`` is from zero, measured on ``history``.

    Zero, not the mean, is the reference: a week's return is judged against "no move".
    """
    clean = history[np.isfinite(history)]
    if len(clean) < 30:
        return None
    sd = float(np.std(clean, ddof=1))
    return value / sd if sd > 0 else None


def percentile_of_last(values: np.ndarray) -> float:
    """Share of ``values`` at or below the last one, in percent (0–100)."""
    return float(np.mean(values <= values[-1]) * 100.0)


def extreme_of_last(values: np.ndarray) -> str:
    """``"highest"`` when the last of ``values`` is their largest, ``"lowest"`` when their smallest (a tie
    counts), else ``""``: what a percentile rounded to 100 or 0 cannot tell (99.6 is not the highest of
    252 closes)."""
    if len(values) < 2 or np.isnan(values).any():
        return ""
    last = values[-1]
    if last >= values.max():
        return "highest"
    return "lowest" if last <= values.min() else ""


@dataclass(frozen=True)
class Run:
    """A run of consecutive days with the same sign (+1 ahead, -1 behind)."""

    sign: int
    start: date
    end: date
    length: int


def relative_runs(a: pd.Series, b: pd.Series) -> list[Run]:
    """Runs of days on which ``a``'s daily return beat (+1) or lagged (-1) ``b``'s; a tie ends a run."""
    joined = pd.concat([a, b], axis=1, join="inner").dropna()
    if len(joined) < 3:
        return []
    values = joined.to_numpy(dtype=float)
    diff = values[1:, 0] / values[:-1, 0] - values[1:, 1] / values[:-1, 1]
    signs = np.sign(diff).astype(int)
    days = bar_dates(joined.index[1:])
    runs: list[Run] = []
    start = 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start] or signs[i] == 0:
            if signs[start] != 0:
                runs.append(Run(int(signs[start]), days[start], days[i - 1], i - start))
            start = i
    return runs


def longest_since(runs: list[Run], run: Run) -> Run | None:
    """The latest earlier run of the same sign at least as long as ``run`` (None: the longest in the data)."""
    return next(
        (r for r in reversed(runs) if r.end < run.start and r.sign == run.sign and r.length >= run.length),
        None,
    )


def tail_share(lengths: np.ndarray, length: int) -> float:
    """Share of runs at least ``length`` long (the rarity of a run of that length)."""
    return float(np.mean(lengths >= length)) if len(lengths) else 1.0


def drawdown(closes: pd.Series) -> pd.Series:
    """Each close relative to the highest close before or on it, in percent (0 at a record)."""
    return (closes / closes.cummax() - 1.0) * 100.0


def previous_record_day(closes: pd.Series, before: date) -> date | None:
    """The day of the last record close strictly before ``before`` (None when there is none)."""
    part = closes.loc[: pd.Timestamp(before - timedelta(days=1))]
    if part.empty:
        return None
    is_record = part >= part.cummax()
    return part.index[np.flatnonzero(is_record.to_numpy())[-1]].date()  # type: ignore[no-any-return]


def years_between(first: date, last: date) -> float:
    return (last - first).days / 365.25


def rarity_score(share: float) -> float:
    """A tail share expressed like a one-sided normal deviate: 2.5% → about 2.0."""
    from statistics import NormalDist

    share = min(max(share, 1e-6), 0.5)
    return -NormalDist().inv_cdf(share) if share < 0.5 else 0.0


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def sma(values: np.ndarray, n: int) -> np.ndarray:
    """Simple moving average; NaN for the first n-1 points."""
    out = np.full(len(values), np.nan)
    if len(values) >= n:
        c = np.cumsum(np.insert(values.astype(float), 0, 0.0))
        out[n - 1 :] = (c[n:] - c[:-n]) / n
    return out


def rsi_wilder(closes: np.ndarray, n: int = 14) -> np.ndarray:
    """Wilder's RSI aligned with ``closes`` (NaN until ``n`` changes are known)."""
    out = np.full(len(closes), np.nan)
    if len(closes) <= n:
        return out
    delta = np.diff(closes.astype(float))
    gains, losses = np.clip(delta, 0.0, None), np.clip(-delta, 0.0, None)
    avg_g, avg_l = float(gains[:n].mean()), float(losses[:n].mean())

    def rsi(g: float, lo: float) -> float:
        return 100.0 if lo == 0 else 100.0 - 100.0 / (1.0 + g / lo)

    out[n] = rsi(avg_g, avg_l)
    for i in range(n, len(delta)):
        avg_g = (avg_g * (n - 1) + gains[i]) / n
        avg_l = (avg_l * (n - 1) + losses[i]) / n
        out[i + 1] = rsi(avg_g, avg_l)
    return out


@dataclass(frozen=True)
class Streak:
    sign: int  # +1 the benchmark beat, -1 it lagged, 0 the last day was a tie
    length: int
    start: date
    end: date
    prior_end: date | None  # end of the latest earlier same-sign streak that was longer
    prior_length: int
    days_since: int | None  # trading days from that streak's end to the last day
    first_day: date


def compute_streak(a: pd.Series, b: pd.Series) -> Streak | None:
    """Runs of days on which ``a``'s daily return beat (or lagged) ``b``'s, on common dates."""
    joined = pd.concat([a, b], axis=1, join="inner").dropna()
    if len(joined) < 3:
        return None
    values = joined.to_numpy(dtype=float)
    diff = values[1:, 0] / values[:-1, 0] - values[1:, 1] / values[:-1, 1]
    signs = np.sign(diff).astype(int)
    days = bar_dates(joined.index[1:])
    runs: list[tuple[int, int, int]] = []  # (sign, start index, end index)
    for i, sg in enumerate(signs):
        if runs and runs[-1][0] == sg and sg != 0:
            runs[-1] = (sg, runs[-1][1], i)
        else:
            runs.append((int(sg), i, i))
    sign, start, end = runs[-1]
    length = 0 if sign == 0 else end - start + 1
    prior = next((r for r in reversed(runs[:-1]) if r[0] == sign != 0 and r[2] - r[1] + 1 > length), None)
    return Streak(
        sign,
        length,
        days[start],
        days[end],
        days[prior[2]] if prior else None,
        prior[2] - prior[1] + 1 if prior else 0,
        end - prior[2] if prior else None,
        days[0],
    )
