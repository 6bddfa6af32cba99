"""Breadth and attribution over the index's members: pure, vectorised, no prose.

Input is a wide frame of daily closes (DatetimeIndex of sessions × member symbols, NaN where a
member has no bar), the index's own closes, the reporting week and the members' weights and
sectors.  :func:`daily_breadth` turns the panel into one row per session (advancers, decliners,
the advance/decline line, the McClellan oscillator, the share above the 50- and 200-day
averages, new 52-week highs and lows); that frame is small enough for the snapshot.
:func:`compute_breadth` and :func:`attribute` read the week out of it.

Results are plain numbers: shares and returns as fractions (0.42 is 42 %), counts as ints,
and coverage counts so the brief can say "breadth from 1,874 of 1,912 members (38 not fetched)".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

METHOD = (
    "Breadth and attribution use today's members of the Russell 2000 (the iShares IWM holdings file, "
    "as of its stated date), held back in time: companies that left the index, were taken over or "
    "delisted are missing from the history and recent additions are in it, so past breadth leans "
    "towards the survivors (survivorship bias). A member counts for a measure only when it has the "
    "closes the measure needs: 50 or 200 sessions for the averages, 252 for 52-week highs and lows. "
    "Advancers and decliners compare closes with the previous session's; the advance/decline line "
    "adds up advancers minus decliners; the McClellan oscillator is the 19-day minus the 39-day "
    "exponential average of that difference. Attribution multiplies each member's weight in the "
    "holdings file, rescaled over the members with prices, by its return over the week; a sector's "
    "contribution is the sum over its members."
)
AVERAGE_WINDOWS = (50, 200)
HIGH_LOW_SESSIONS = 252  # 52 weeks of sessions, today included
MCCLELLAN_FAST = 19
MCCLELLAN_SLOW = 39
TOP = 5


@dataclass(frozen=True)
class Coverage:
    members: int  # in the membership
    covered: int  # with a close at the week's base and at its last session

    @property
    def missing(self) -> int:
        return self.members - self.covered


@dataclass(frozen=True)
class ShareAbove:
    window: int  # sessions in the moving average
    share: float | None  # fraction of eligible members above it at the week's last session
    above: int
    eligible: int
    share_before: float | None  # the same at the base (the last close before the week)

    @property
    def change(self) -> float | None:
        """Change over the week, in fraction points (0.05 is 5 percentage points)."""
        if self.share is None or self.share_before is None:
            return None
        return self.share - self.share_before


@dataclass(frozen=True)
class DayCount:
    day: date
    advancers: int
    decliners: int
    unchanged: int

    @property
    def net(self) -> int:
        return self.advancers - self.decliners


@dataclass(frozen=True)
class Breadth:
    week_start: date
    week_end: date
    base: date  # the last session before the week
    last: date  # the week's last session
    coverage: Coverage
    above: tuple[ShareAbove, ...]  # one per AVERAGE_WINDOWS
    new_highs: int  # members with at least one new 52-week closing high in the week
    new_lows: int
    high_low_eligible: int
    week: DayCount  # advancers and decliners over the whole week (base → last)
    days: tuple[DayCount, ...]  # each session of the week
    ad_line: float  # the advance/decline line at the week's last session
    ad_line_change: float  # its change over the week (the week's net advances)
    mcclellan: float | None  # at the last session; None before 39 sessions of history
    mcclellan_before: float | None  # at the base
    median_return: float | None  # the median covered member's return over the week
    index_return: float | None  # the index's return over the same closes

    @property
    def net_highs(self) -> int:
        return self.new_highs - self.new_lows


@dataclass(frozen=True)
class Contribution:
    key: str  # a member's symbol or a sector's name
    members: int
    weight: float  # fraction of the covered weight
    ret: float  # return over the week (weighted within a sector)
    contribution: float  # weight × return: its share of the index's week


@dataclass(frozen=True)
class Attribution:
    coverage: Coverage
    covered_weight: float  # fraction of the membership's weight that has prices
    total: float  # sum of the contributions: the covered members' weighted return
    sectors: tuple[Contribution, ...]  # largest contribution first
    contributors: tuple[Contribution, ...]  # up to TOP members with the largest positive contributions
    detractors: tuple[Contribution, ...]  # up to TOP members with the most negative, worst first


def daily_breadth(closes: pd.DataFrame) -> pd.DataFrame:
    """One row per session: advancers, decliners, unchanged, net, ad_line, mcclellan,
    above_50, eligible_50, above_200, eligible_200, new_highs, new_lows, high_low_eligible."""
    panel = closes.sort_index().astype(float)
    return _table(_Stats(panel.to_numpy()), panel.index)


@dataclass(frozen=True, eq=False)
class _Stats:
    """Per session and member (sessions × members arrays), computed once per panel."""

    values: np.ndarray

    @cached_property
    def change(self) -> np.ndarray:
        change = np.full_like(self.values, np.nan)
        change[1:] = self.values[1:] - self.values[:-1]
        return change

    def average(self, window: int) -> np.ndarray:
        return _rolling_mean(self.values, window)

    @cached_property
    def prior_high(self) -> np.ndarray:
        return _shift(_rolling_extreme(self.values, HIGH_LOW_SESSIONS - 1, np.maximum))

    @cached_property
    def prior_low(self) -> np.ndarray:
        return _shift(_rolling_extreme(self.values, HIGH_LOW_SESSIONS - 1, np.minimum))


def _table(stats: _Stats, index: pd.Index) -> pd.DataFrame:
    values, change = stats.values, stats.change
    out = pd.DataFrame(index=index)
    out["advancers"] = (change > 0).sum(axis=1)
    out["decliners"] = (change < 0).sum(axis=1)
    out["unchanged"] = (change == 0).sum(axis=1)
    net = (out["advancers"] - out["decliners"]).astype(float)
    out["net"] = net
    out["ad_line"] = net.cumsum()
    counted = net.iloc[1:]  # the first session has no previous close to compare with
    fast = counted.ewm(span=MCCLELLAN_FAST, adjust=False).mean()
    slow = counted.ewm(span=MCCLELLAN_SLOW, adjust=False).mean()
    warm = np.arange(1, len(net)) >= MCCLELLAN_SLOW  # 39 sessions of net advances before the first value
    out["mcclellan"] = (fast - slow).where(warm)
    for window in AVERAGE_WINDOWS:
        average = stats.average(window)
        eligible = np.isfinite(average) & np.isfinite(values)
        out[f"above_{window}"] = (eligible & (values > average)).sum(axis=1)
        out[f"eligible_{window}"] = eligible.sum(axis=1)
    with np.errstate(invalid="ignore"):
        out["new_highs"] = (values > stats.prior_high).sum(axis=1)
        out["new_lows"] = (values < stats.prior_low).sum(axis=1)
    out["high_low_eligible"] = (np.isfinite(stats.prior_high) & np.isfinite(values)).sum(axis=1)
    return out


def compute_breadth(
    closes: pd.DataFrame,
    index_close: pd.Series | None,
    week_start: date,
    week_end: date,
    members: Sequence[str],
) -> Breadth | None:
    """The week's breadth over ``members`` (the symbols of the membership).

    ``closes`` may lack some members (not fetched) and hold other columns (ignored).
    Returns None when the panel has no session in the week or none before it.
    """
    panel = _member_panel(closes, members)
    window = _week(panel.index, week_start, week_end)
    if window is None:
        return None
    base_row, last_row = window
    stats = _Stats(panel.to_numpy())
    table = _table(stats, panel.index)
    returns = _returns(panel, base_row, last_row)
    covered = np.isfinite(returns)
    week = slice(base_row + 1, last_row + 1)
    with np.errstate(invalid="ignore"):
        new_highs = (stats.values[week] > stats.prior_high[week]).any(axis=0)
        new_lows = (stats.values[week] < stats.prior_low[week]).any(axis=0)
    week_rows = table.iloc[base_row + 1 : last_row + 1]
    return Breadth(
        week_start=week_start,
        week_end=week_end,
        base=panel.index[base_row].date(),
        last=panel.index[last_row].date(),
        coverage=Coverage(len(members), int(covered.sum())),
        above=tuple(_share_above(table, w, base_row, last_row) for w in AVERAGE_WINDOWS),
        new_highs=int(new_highs.sum()),
        new_lows=int(new_lows.sum()),
        high_low_eligible=int(table["high_low_eligible"].iloc[last_row]),
        week=DayCount(
            panel.index[last_row].date(),
            int((returns > 0).sum()),
            int((returns < 0).sum()),
            int((returns == 0).sum()),
        ),
        days=_day_counts(week_rows),
        ad_line=float(table["ad_line"].iloc[last_row]),
        ad_line_change=float(week_rows["net"].sum()),
        mcclellan=_number(table["mcclellan"].iloc[last_row]),
        mcclellan_before=_number(table["mcclellan"].iloc[base_row]),
        median_return=float(np.median(returns[covered])) if covered.any() else None,
        index_return=_index_return(index_close, panel.index[base_row], panel.index[last_row]),
    )


def attribute(
    closes: pd.DataFrame,
    week_start: date,
    week_end: date,
    weights: Mapping[str, float],
    sectors: Mapping[str, str],
    top: int = TOP,
) -> Attribution | None:
    """Each member's and each sector's contribution to the week: weight × return.

    ``weights`` (any scale, e.g. the file's percent) and ``sectors`` are keyed by the
    columns' symbols; the members are the keys of ``weights``.  Weights are rescaled over the
    members with a return for the week.  None when the panel has no session in the week.
    """
    symbols = list(weights)
    panel = _member_panel(closes, symbols)
    window = _week(panel.index, week_start, week_end)
    if window is None:
        return None
    returns = _returns(panel, *window)
    weight = np.array([weights[s] for s in symbols], dtype=float)
    covered = np.isfinite(returns) & (weight > 0)
    total_weight = weight[weight > 0].sum()
    share = np.where(covered, weight, 0.0) / max(weight[covered].sum(), np.finfo(float).tiny)
    contribution = np.where(covered, share * np.nan_to_num(returns), 0.0)
    members = pd.DataFrame(
        {"weight": share, "ret": returns, "contribution": contribution},
        index=pd.Index(symbols, name="key"),
    )[covered]
    members["sector"] = [sectors.get(s, "Unclassified") for s in members.index]
    by_sector = members.groupby("sector", sort=False).agg(
        members=("weight", "size"), weight=("weight", "sum"), contribution=("contribution", "sum")
    )
    by_sector["ret"] = by_sector["contribution"] / by_sector["weight"]
    members["members"] = 1
    ranked = members.sort_values(["contribution", "weight"], ascending=[False, False], kind="stable")
    return Attribution(
        coverage=Coverage(len(symbols), int(np.isfinite(returns).sum())),
        covered_weight=float(weight[covered].sum() / total_weight) if total_weight > 0 else 0.0,
        total=float(contribution.sum()),
        sectors=_contributions(by_sector.sort_values("contribution", ascending=False, kind="stable")),
        contributors=_contributions(ranked[ranked["contribution"] > 0].head(top)),
        detractors=_contributions(ranked[ranked["contribution"] < 0].iloc[::-1].head(top)),
    )


# --- helpers ----------------------------------------------------------------------------


def _member_panel(closes: pd.DataFrame, members: Sequence[str]) -> pd.DataFrame:
    """The members' columns (missing members as all-NaN), sessions in order."""
    return closes.reindex(columns=list(members)).sort_index().astype(float)


def _week(index: pd.Index, week_start: date, week_end: date) -> tuple[int, int] | None:
    """Row numbers of the base (last session before the week) and of the week's last session."""
    stamps = pd.DatetimeIndex(index)
    base = int(stamps.searchsorted(pd.Timestamp(week_start), side="left")) - 1
    last = int(stamps.searchsorted(pd.Timestamp(week_end), side="right")) - 1
    if base < 0 or last <= base:
        return None
    return base, last


def _returns(panel: pd.DataFrame, base_row: int, last_row: int) -> np.ndarray:
    values = panel.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        returns: np.ndarray = values[last_row] / values[base_row] - 1.0
    returns[~np.isfinite(returns)] = np.nan
    return returns


def _rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` rows (this one included); NaN unless all of them are numbers."""
    finite = np.isfinite(values)
    sums = np.cumsum(np.where(finite, values, 0.0), axis=0)
    counts = np.cumsum(finite, axis=0)
    out = np.full_like(values, np.nan)
    if len(values) < window:
        return out
    total = sums[window - 1 :].copy()
    total[1:] -= sums[:-window]
    count = counts[window - 1 :].copy()
    count[1:] -= counts[:-window]
    out[window - 1 :] = np.where(count == window, total / window, np.nan)
    return out


def _rolling_extreme(values: np.ndarray, window: int, pick: Any) -> np.ndarray:
    """Max (``pick=np.maximum``) or min of the last ``window`` rows, by doubling spans.

    ``np.maximum`` / ``np.minimum`` propagate NaN, so a gap anywhere in the window leaves it NaN.
    """
    out = np.full_like(values, np.nan)
    n = len(values)
    if n < window:
        return out
    span, spans = 1, values  # spans[t] = extreme of values[t : t + span]
    while span * 2 <= window:
        spans = pick(spans[:-span], spans[span:]) if span < len(spans) else spans[:0]
        span *= 2
    # extreme of values[t : t + window] = extreme of two overlapping spans
    head = spans[: n - window + 1]
    tail = spans[window - span : window - span + n - window + 1]
    out[window - 1 :] = pick(head, tail)
    return out


def _shift(values: np.ndarray) -> np.ndarray:
    """Each row takes the previous row's value (the first row NaN)."""
    out = np.full_like(values, np.nan)
    out[1:] = values[:-1]
    return out


def _share_above(table: pd.DataFrame, window: int, base_row: int, last_row: int) -> ShareAbove:
    above = table[f"above_{window}"].to_numpy()
    eligible = table[f"eligible_{window}"].to_numpy()

    def share(row: int) -> float | None:
        return float(above[row] / eligible[row]) if eligible[row] else None

    return ShareAbove(window, share(last_row), int(above[last_row]), int(eligible[last_row]), share(base_row))


def _index_return(index_close: pd.Series | None, base: pd.Timestamp, last: pd.Timestamp) -> float | None:
    if index_close is None:
        return None
    closes = index_close.dropna().sort_index()
    at_base, at_last = closes.loc[:base], closes.loc[:last]
    if at_base.empty or at_last.empty or at_last.index[-1] <= base:
        return None
    return float(at_last.iloc[-1] / at_base.iloc[-1] - 1.0)


def _day_counts(rows: pd.DataFrame) -> tuple[DayCount, ...]:
    counts = rows[["advancers", "decliners", "unchanged"]].to_numpy(dtype=int)
    return tuple(
        DayCount(stamp.date(), int(a), int(d), int(u))
        for stamp, (a, d, u) in zip(pd.DatetimeIndex(rows.index), counts, strict=True)
    )


def _contributions(frame: pd.DataFrame) -> tuple[Contribution, ...]:
    numbers = frame[["members", "weight", "ret", "contribution"]].to_numpy(dtype=float)
    return tuple(
        Contribution(str(key), int(n), float(w), float(r), float(c))
        for key, (n, w, r, c) in zip(frame.index, numbers, strict=True)
    )


def _number(value: float) -> float | None:
    return None if pd.isna(value) else float(value)
