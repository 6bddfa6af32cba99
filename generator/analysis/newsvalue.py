"""News value: what is unusual this week, measured against each series' own history.

Every event is a fact (figures with provenance, a kind, dates) with a score on one scale:
roughly "how many standard deviations" — a move's size in its own standard deviations, or a
rank (a streak's length among past streaks, the best week in N weeks) turned into the normal
deviate of the same rarity.  Records, 52-week extremes and threshold crossings get fixed scores
on that scale.  No words here: :mod:`generator.narrative` writes the takeaways.

Claims of the kind "longest since", "first since" or "best week since" carry the history they
were measured on (``history_from``).  A claim with an earlier date ("worst day since 2015-08-24") is
true on any history; one without ("the worst in the data", a rank) is only made on
:data:`~generator.analysis.thresholds.MIN_HISTORY_YEARS` of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

import numpy as np
import pandas as pd

from generator.analysis import indicators as ind
from generator.analysis import thresholds as th
from generator.analysis.common import Context, Maker, ok, return_figure, spread_figure, val
from generator.models import Figure, Provenance, Unit


class EventKind(StrEnum):
    WEEK_MOVE = "week-move"
    RELATIVE_WEEK = "relative-week"  # the week's gap with large caps: context for the headline only
    DAY_MOVE = "day-move"
    STREAK = "streak"
    STREAK_ENDED = "streak-ended"
    RECORD = "record"
    HIGH_52W = "high-52w"
    LOW_52W = "low-52w"
    DRAWDOWN = "drawdown"
    VIX = "vix"
    VIX_SPIKE = "vix-spike"
    RSI = "rsi"
    TREND = "trend"
    RATES = "rates"
    BREADTH = "breadth"
    VOLATILITY = "volatility"  # the benchmark's realized volatility at a one-year low or high


# Fixed scores for facts that are news by definition, on the same scale as a z-score.
SCORES = {
    EventKind.RECORD: 2.6,
    EventKind.HIGH_52W: 2.0,
    EventKind.LOW_52W: 2.3,
    EventKind.RSI: 1.6,
    EventKind.TREND: 1.8,
    EventKind.BREADTH: 2.0,  # as a 52-week extreme of the index itself
    # Realized volatility at an end of its year: calm (or stress) the index has not had in a year.
    # Below a record or a crossing: a low can be set again week after week.
    EventKind.VOLATILITY: 1.55,
}
CROSSING_SCORES = {th.CORRECTION: 2.6, th.BEAR_MARKET: 3.2, th.VIX_ELEVATED: 2.0, th.VIX_STRESS: 2.8}
# The VIX back below a line: calm returning is news, less than stress arriving (2022-05-13: "back below
# 30" led a week whose Monday was the worst day since 2020).
CALMING_SCORES = {th.VIX_ELEVATED: 1.6, th.VIX_STRESS: 2.0}
SESSIONS_A_YEAR = 252
DAILY_DISCOUNT = 0.9  # a one-day move is noisier than a week's: the same z counts a little less


@dataclass(frozen=True)
class Event:
    """One unusual fact of the week."""

    kind: EventKind
    score: float
    figure: Figure  # the main number
    direction: int = 0  # +1 up / ahead / into the zone, -1 down / behind / out of it
    day: date | None = None  # the session it happened on, when it is one day
    since: date | None = None  # "first since", "longest since", "best since": the earlier date
    history_from: date | None = None  # the first bar the claim was measured on
    level: float | None = None  # the threshold crossed
    extra: tuple[Figure, ...] = ()  # supporting figures (the other side of a spread, the prior record)
    rank: int = 0  # a move's place among all of its kind in the history at hand (1: the most extreme)
    tied: bool = False  # an ended run: the session that ended it was a tie, not a turn the other way
    z: float | None = None  # the move in standard deviations, when that is what makes it news
    # The claim's context as a figure of its own ("the widest since …", "in data back to …"): what the
    # sources cite for it, its window the whole history it was measured on (see :func:`with_history`).
    history: Figure | None = None


HISTORY_METHOD = (
    "The week's reading held against every earlier one of its kind, from the first bar of the history"
    " shown to the reporting week: the date is the last earlier reading at least as extreme the same"
    ' way ("the widest since …"), or, when there is none, where the history starts ("in data back'
    ' to …"); a rank ("second-widest") counts the more extreme ones before it.'
)


def with_history(e: Event) -> Event:
    """``e`` with its :attr:`Event.history` figure when its claim rests on a history: the date of
    that claim, with the main figure's symbols, provider and last bar, and the history's first bar
    (the appendix's source for the claim then spans what it was measured on, not only the week)."""
    first = e.history_from or e.since
    if first is None:
        return e
    when = e.since or first
    provenance = Provenance(
        e.figure.provenance.symbols,
        "history",
        e.figure.provenance.last_bar,
        e.figure.provenance.provider,
        HISTORY_METHOD,
        first_bar=first,
    )
    label = f"{e.figure.label}: held against its history"
    return replace(
        e, history=Figure(f"{e.figure.key}.history", label, None, Unit.DATE, provenance, when.isoformat())
    )


def breadth_event(share: Figure, daily: pd.DataFrame, week_start: date, window: int = 200) -> Event | None:
    """The share of members above their ``window``-day average at its highest or lowest of the
    year of daily breadth at hand (``daily``: above_N and eligible_N per session).

    ``share`` is the week's figure (the body cites the same one).  The claim needs
    :data:`~generator.analysis.thresholds.BREADTH_HISTORY_SESSIONS` sessions before the week and
    says from when it was measured (``history_from``): the snapshot keeps about a year of it.
    """
    if not ok(share) or daily.empty:
        return None
    eligible = daily[f"eligible_{window}"].astype(float)
    series = (daily[f"above_{window}"].astype(float) / eligible.where(eligible > 0) * 100.0).dropna()
    stamps = pd.DatetimeIndex(series.index)
    if int((stamps < pd.Timestamp(week_start)).sum()) < th.BREADTH_HISTORY_SESSIONS:
        return None
    # Against every earlier session, the week's own included: Monday's 90% makes Friday's 80% no high.
    last = share.provenance.last_bar
    earlier = series[stamps < pd.Timestamp(last)] if last is not None else series.iloc[:-1]
    now = val(share)
    high, low = now > float(earlier.max()), now < float(earlier.min())
    if not (high or low):
        return None
    return Event(
        EventKind.BREADTH,
        SCORES[EventKind.BREADTH],
        share,
        1 if high else -1,
        history_from=pd.Timestamp(stamps[0]).date(),  # the first session with an eligible member
        level=float(window),
    )


def _crossing_score(score: float, beyond: float) -> float:
    """``score`` for a line crossed by at least :data:`~th.MARGINAL_CROSSING` (``beyond``: how far the
    reading now is from the line); a reading hovering about the line scores below the noteworthy."""
    return score if abs(beyond) >= th.MARGINAL_CROSSING else th.MARGINAL_SCORE


def _history_ok(first: date, last: date) -> bool:
    return ind.years_between(first, last) >= th.MIN_HISTORY_YEARS


def week_move(ctx: Context, symbol: str) -> Event | None:
    fig = return_figure(ctx, symbol, "1W")
    if not ok(fig):
        return None
    weekly = ind.weekly_returns(ctx.closes[symbol], ctx.config.brief.week_ends_on)
    if weekly.empty or weekly.index[-1].date() < ctx.week_start:
        return None
    past = weekly.to_numpy()[:-1]
    z = ind.zscore(val(fig), past)
    return _weekly_event(
        ctx, EventKind.WEEK_MOVE, fig, val(fig), weekly.index, past, abs(z) if z is not None else 0.0
    )


def _weekly_event(
    ctx: Context, kind: EventKind, fig: Figure, now: float, weeks: pd.Index, past: np.ndarray, z: float
) -> Event:
    """A week's figure ``now`` against the earlier weeks' ``past`` (``weeks`` dates them, this week last):
    the last earlier week as far the same way (``since``), its rank with enough history, and a score
    that is the larger of ``z`` (the move in standard deviations, kept as such) and how rare a week so
    far apart is."""
    up = now >= 0
    first = weeks[0].date()
    earlier = np.flatnonzero(past >= now if up else past <= now)
    since = weeks[int(earlier[-1])].date() if len(earlier) else None
    enough = _history_ok(first, ctx.week_end)  # to call it the most extreme, or to rank it
    if since is None and not enough:
        return Event(kind, z, fig, 1 if up else -1, z=z)
    n_weeks = len(past) - int(earlier[-1]) if len(earlier) else len(past) + 1
    return Event(
        kind, max(z, ind.rarity_score(1.0 / max(n_weeks, 1))), fig, 1 if up else -1,
        since=since, history_from=first, rank=len(earlier) + 1 if enough else 0, z=z,
    )  # fmt: skip


def relative_week(ctx: Context, a: str, b: str) -> Event | None:
    """How rare the week's gap between ``a`` and ``b`` is, as for a week's move: the last earlier week
    with a gap as wide the same way, and the gap in standard deviations of the weekly gaps before.
    The headline gives the gap; this is its context ("the widest since the week ending 2021-07-16")."""
    fig = spread_figure(ctx, a, b, "1W")
    if not ok(fig):
        return None
    ends_on = ctx.config.brief.week_ends_on
    gaps = (ind.weekly_returns(ctx.closes[a], ends_on) - ind.weekly_returns(ctx.closes[b], ends_on)).dropna()
    if gaps.empty or gaps.index[-1].date() < ctx.week_start:
        return None
    # Held against history unrounded (the figure is the difference of the two returns as shown).
    past, now = gaps.to_numpy()[:-1], val(return_figure(ctx, a, "1W")) - val(return_figure(ctx, b, "1W"))
    z = ind.zscore(now, past)
    if z is None or abs(z) < th.NOTEWORTHY:
        return None  # "0.89 pp, the widest since November" is true and trivia in a week both rose 11%
    return _weekly_event(ctx, EventKind.RELATIVE_WEEK, fig, now, gaps.index, past, abs(z))


def day_moves(ctx: Context, symbol: str) -> list[Event]:
    """The week's largest one-day move when unusual, and the largest the other way when that is unusual
    too: a crash and a rebound in one week (2020-03-12 and 13) are two facts, not one."""
    closes = ctx.closes[symbol]
    if not ctx.has(symbol) or len(closes) < 60:
        return []
    daily = ind.daily_returns(closes)
    week = daily.loc[pd.Timestamp(ctx.week_start) :]
    if week.empty:
        return []
    values = week.to_numpy()
    pos = int(np.argmax(np.abs(values)))
    past = daily.loc[: pd.Timestamp(ctx.week_start - timedelta(days=1))].to_numpy()[-756:]
    found = [_day_move(ctx, symbol, daily, week, pos, past, f"day.{symbol}")]
    other = values < 0 if values[pos] > 0 else values > 0
    if other.any():
        back = int(np.flatnonzero(other)[np.argmax(np.abs(values[other]))])
        found.append(_day_move(ctx, symbol, daily, week, back, past, f"day.{symbol}.other-way"))
    return [e for e in found if e is not None]


def _day_move(
    ctx: Context, symbol: str, daily: pd.Series, week: pd.Series, pos: int, past: np.ndarray, key: str
) -> Event | None:
    value, day = float(week.iloc[pos]), week.index[pos].date()
    z = ind.zscore(value, past)
    if z is None or abs(z) < th.UNUSUAL_MOVE_SD:
        return None
    method = "Close-to-close return of one session over the session before, in percent."
    label = f"{ctx.name(symbol)}, one-day move"
    fig = Maker(ctx, (symbol,), "1D", method)(key, label, value, "pct", last_bar=day)
    # How rare: the last earlier session that moved at least as far the same way, and the rank.
    before = daily.loc[: pd.Timestamp(day - timedelta(days=1))]
    earlier = np.flatnonzero(before.to_numpy() >= value if value > 0 else before.to_numpy() <= value)
    since = before.index[int(earlier[-1])].date() if len(earlier) else None
    first = before.index[0].date() if len(before) else day
    enough = _history_ok(first, ctx.week_end)  # to call it the biggest, or to rank it
    # As rare as a week's move a fifth as often: a day not matched for a year of sessions scores like a
    # 1-in-50 week (a week's move scores by its rarity too; the worst day since 2020 scored as 2.2 sd).
    sessions = len(before) - int(earlier[-1]) if len(earlier) else len(before) + 1
    score = max(abs(z) * DAILY_DISCOUNT, ind.rarity_score(5.0 / max(sessions, 1)) if since or enough else 0.0)
    return Event(
        EventKind.DAY_MOVE, score, fig, 1 if value > 0 else -1, day=day, since=since,
        history_from=first if since is not None or enough else None, rank=len(earlier) + 1 if enough else 0,
        z=abs(z),
    )  # fmt: skip


STREAK_METHOD = (
    "Consecutive trading days on which the daily return of the first series was above (or below) that of"
    " the second, on dates both have; a tie ends a streak."
)


def streak_events(ctx: Context) -> list[Event]:
    """The running relative streak when long, and a long one that ended this week, at its full length."""
    a, b = ctx.slots.benchmark, ctx.slots.large_cap
    if not (ctx.has(a) and ctx.has(b)):
        return []
    runs = ind.relative_runs(ctx.closes[a], ctx.closes[b])
    if not runs:
        return []
    first, last_day = runs[0].start, min(ctx.series[a].last_bar, ctx.series[b].last_bar)
    mk = Maker(ctx, (a, b), "daily", STREAK_METHOD)
    label = f"{ctx.name(a)} vs {ctx.name(b)}, daily streak"
    events = []
    for run in runs[-3:]:
        running = run.end == last_day
        ended_this_week = (
            not running
            and run.end >= ctx.week_start - timedelta(days=3)
            and any(r.start > run.end and r.start >= ctx.week_start for r in runs)
        )
        if run.length < th.MIN_STREAK_DAYS or not (running or ended_this_week):
            continue
        if running and run is not runs[-1]:
            continue
        same = np.array([r.length for r in runs if r.sign == run.sign and r is not run])
        score = ind.rarity_score(ind.tail_share(same, run.length))
        prior = ind.longest_since(runs, run)
        # A running streak is dated by its last session; an ended one by the session that broke it.
        day = run.end if running else _next_session(ctx.closes[a], run.end)
        if prior is not None:
            # Rare among runs, yet common in time (a 5-session run comes most months): a run as long
            # in the last few weeks makes this one no news (the very test by which the narrative calls
            # a "since" date recent), and one N weeks before a 1-in-N-weeks event.
            days = (day - prior.end).days
            if days <= 7 * th.RECENT_SINCE_WEEKS:
                continue
            score = min(score, ind.rarity_score(7.0 / days))
        history_ok = _history_ok(first, last_day)
        since = prior.end if prior is not None and history_ok else None
        kind = EventKind.STREAK if running else EventKind.STREAK_ENDED
        key = "streak" if running else "streak-ended"
        fig = mk(
            f"{key}.{a}-{b}",
            label,
            run.length,
            "days",
            first_bar=run.start,
            last_bar=run.end,
            text="outperforming" if run.sign > 0 else "underperforming",
        )
        history = first if history_ok else None
        tied = not running and not any(r.start == day for r in runs)  # a tie ends a run and starts none
        events.append(
            Event(kind, score, fig, run.sign, day=day, since=since, history_from=history, tied=tied)
        )
    return events


def _next_session(closes: pd.Series, day: date) -> date:
    later = closes.index[closes.index > pd.Timestamp(day)]
    return pd.Timestamp(later[0]).date() if len(later) else day


def extreme_events(ctx: Context) -> list[Event]:
    """A record close this week (first since when), else a 52-week high or low close."""
    sym = ctx.slots.benchmark
    if not ctx.has(sym):
        return []
    closes = ctx.closes[sym]
    week = closes.loc[pd.Timestamp(ctx.week_start) :]
    before = closes.loc[: pd.Timestamp(ctx.week_start - timedelta(days=1))]
    if week.empty or len(before) < 200:
        return []
    first = closes.index[0].date()
    hi_day = week.index[int(np.argmax(week.to_numpy()))].date()
    if float(week.max()) > float(before.max()):
        prev = ind.previous_record_day(closes, ctx.week_start)
        mk = Maker(ctx, (sym,), "history", "Highest close in the history at hand.")
        fig = mk(
            f"event.record.{sym}",
            f"{ctx.name(sym)}, record close",
            float(week.max()),
            "level",
            last_bar=hi_day,
        )
        gap = ind.years_between(prev, hi_day) if prev else 0.0
        # The record it beat and by how much: "a record" alone does not say whether the index
        # cleared a high of last month by a hair or one of years ago by a mile.  The record before
        # the record day's, which may be one set earlier in the week.
        earlier = closes.loc[: pd.Timestamp(hi_day - timedelta(days=1))]
        beaten = float(earlier.max())
        beaten_on = ind.previous_record_day(closes, hi_day)
        extra = (
            mk(f"event.record.{sym}.previous", f"{ctx.name(sym)}, previous record close", beaten, "level",
               last_bar=beaten_on),
            mk(f"event.record.{sym}.above", f"{ctx.name(sym)}, record close above the previous record",
               (float(week.max()) / beaten - 1.0) * 100.0, "pct", last_bar=hi_day),
        )  # fmt: skip
        return [
            Event(
                EventKind.RECORD,
                SCORES[EventKind.RECORD] + min(gap, 2.0),
                fig,
                1,
                day=hi_day,
                since=prev if gap >= 0.25 else None,
                history_from=first,
                extra=extra,
            )
        ]
    year = closes.loc[pd.Timestamp(ctx.anchor - timedelta(days=365)) :]
    prior_year = year.loc[: pd.Timestamp(ctx.week_start - timedelta(days=1))]
    mk = Maker(ctx, (sym,), "52W", "Highest (lowest) close of the last year, set during the reporting week.")
    if float(week.max()) > float(prior_year.max()):
        fig = mk(
            f"event.high52.{sym}",
            f"{ctx.name(sym)}, 52-week high",
            float(week.max()),
            "level",
            last_bar=hi_day,
        )
        return [Event(EventKind.HIGH_52W, SCORES[EventKind.HIGH_52W], fig, 1, day=hi_day)]
    if float(week.min()) < float(prior_year.min()):
        lo_day = week.index[int(np.argmin(week.to_numpy()))].date()
        fig = mk(
            f"event.low52.{sym}", f"{ctx.name(sym)}, 52-week low", float(week.min()), "level", last_bar=lo_day
        )
        return [Event(EventKind.LOW_52W, SCORES[EventKind.LOW_52W], fig, -1, day=lo_day)]
    return []


def crossing(now: float, before: float, level: float) -> int:
    """+1 when ``now`` went to or beyond ``level`` from below, -1 when it fell back under, else 0."""
    if before < level <= now:
        return 1
    if now < level <= before:
        return -1
    return 0


def drawdown_event(ctx: Context) -> Event | None:
    """Crossing into (or out of) a correction or a bear market this week."""
    sym = ctx.slots.benchmark
    if not ctx.has(sym):
        return None
    dd = ind.drawdown(ctx.closes[sym])
    before = dd.loc[: pd.Timestamp(ctx.week_start - timedelta(days=1))]
    if before.empty:
        return None
    now, prev = float(dd.iloc[-1]), float(before.iloc[-1])
    for level in (th.BEAR_MARKET, th.CORRECTION):
        # Falling below a negative level is "into" the zone: compare the negated values.
        direction = crossing(-now, -prev, -level)
        if direction:
            method = "Last close relative to the highest close before it, in percent."
            fig = Maker(ctx, (sym,), "history", method)(
                f"event.drawdown.{sym}", f"{ctx.name(sym)}, drawdown from record", now, "pct"
            )
            score = _crossing_score(CROSSING_SCORES[level], now - level)
            # The record it is measured from: how long the fall (or the way back) has taken.
            record = ind.previous_record_day(ctx.closes[sym], ctx.week_end + timedelta(days=1))
            return Event(EventKind.DRAWDOWN, score, fig, direction, since=record, level=level)
    return None


def vix_event(ctx: Context) -> Event | None:
    sym = ctx.slots.vix
    if not ctx.has(sym):
        return None
    closes = ctx.closes[sym]
    before = closes.loc[: pd.Timestamp(ctx.week_start - timedelta(days=1))]
    if before.empty:
        return None
    now, prev = float(closes.iloc[-1]), float(before.iloc[-1])
    method = "Last close of the index minus its last close of the week before, in index points."
    fig = Maker(ctx, (sym,), "1W", method)(
        f"event.vix.{sym}", f"{ctx.name(sym)}, change over the week", now - prev, "points"
    )
    weekly = ind.weekly_closes(closes, ctx.config.brief.week_ends_on).diff().dropna().to_numpy()
    z = ind.zscore(now - prev, weekly[:-1]) if len(weekly) else None
    unusual = z is not None and abs(z) >= th.UNUSUAL_MOVE_SD
    for level in (th.VIX_STRESS, th.VIX_ELEVATED):
        direction = crossing(now, prev, level)
        # A line crossed by a hair is no news, but the move that crossed it may be (2018-12-21:
        # +8.48 points to 30.11, 2.8 standard deviations): then the move is the event, not a lower
        # line it also crossed (from 19 to 30.3 is not news as "above 20").
        if direction and unusual and abs(now - level) < th.MARGINAL_CROSSING:
            assert z is not None
            return Event(EventKind.VIX, abs(z) * DAILY_DISCOUNT, fig, direction, level=level, z=abs(z))
        if direction:
            return Event(
                EventKind.VIX,
                _crossing_score((CROSSING_SCORES if direction > 0 else CALMING_SCORES)[level], now - level),
                fig,
                direction,
                level=level,
            )
    if z is None or not unusual:
        return None
    return Event(EventKind.VIX, abs(z) * DAILY_DISCOUNT, fig, 1 if now > prev else -1, z=abs(z))


def vix_spike_event(ctx: Context) -> Event | None:
    """A peak of the VIX inside the week that the week's change does not show: a close above
    :data:`~th.VIX_STRESS` from below it the week before and back under it by the week's close, well
    above both (:data:`~th.VIX_SPIKE_RATIO`); or, whatever the line, a close higher than any in the year
    before, well above the week's own close (2020-03-16: 82.69, the highest in the data; the week
    ended at 66.04)."""
    sym = ctx.slots.vix
    if not ctx.has(sym):
        return None
    closes = ctx.closes[sym]
    week = closes.loc[pd.Timestamp(ctx.week_start) :]
    before = closes.loc[: pd.Timestamp(ctx.week_start - timedelta(days=1))]
    if week.empty or before.empty:
        return None
    at = int(np.argmax(week.to_numpy()))
    peak, day = float(week.iloc[at]), week.index[at].date()
    last, prev = float(week.iloc[-1]), float(before.iloc[-1])
    higher = np.flatnonzero(before.to_numpy() >= peak)
    since = before.index[int(higher[-1])].date() if len(higher) else None
    first = before.index[0].date()
    enough = _history_ok(first, ctx.week_end)  # to call it the highest in the data
    sessions = len(before) - int(higher[-1]) if len(higher) else len(before) + 1
    crossed = peak >= th.VIX_STRESS and last < th.VIX_STRESS and prev < th.VIX_STRESS
    # A close higher than any of a year of sessions before it (and with that year at hand).
    # (At 20 or more: a one-year high of a calm year's VIX is no market news.)
    yearly_high = (
        sessions > SESSIONS_A_YEAR
        and len(before) >= SESSIONS_A_YEAR
        and at < len(week) - 1
        and peak >= th.VIX_ELEVATED
    )
    if not (crossed or yearly_high):
        return None
    if peak < th.VIX_SPIKE_RATIO * (max(last, prev) if crossed else last):
        return None  # hovering about the line, or the week ended near its peak: the close tells it
    method = "Highest close of the index in the reporting week."
    fig = Maker(ctx, (sym,), "1W", method)(
        f"event.vixpeak.{sym}", f"{ctx.name(sym)}, highest close of the week", peak, "level", last_bar=day
    )
    # As rare as a week's extreme: a close not seen for a year of sessions scores like a 1-in-50 week.
    score = max(CROSSING_SCORES[th.VIX_STRESS], ind.rarity_score(5.0 / max(sessions, 1)))
    return Event(
        EventKind.VIX_SPIKE,
        score,
        fig,
        1,
        day=day,
        since=since,
        history_from=first if since is not None or enough else None,
        level=th.VIX_STRESS if crossed else None,
    )


def rates_event(ctx: Context) -> Event | None:
    sym = ctx.slots.rate_10y
    if not ctx.has(sym):
        return None
    weekly = ind.weekly_closes(ctx.closes[sym], ctx.config.brief.week_ends_on)
    if len(weekly) < 31 or weekly.index[-1].date() < ctx.week_start:
        return None
    diffs = weekly.diff().dropna()
    changes = np.round(diffs.to_numpy() * 100.0, 3)  # as Move.bp: no floating-point noise in bp
    now = float(changes[-1])
    past = changes[:-1]
    z = ind.zscore(now, past)
    if z is None or abs(z) < th.UNUSUAL_MOVE_SD:
        return None
    method = "Yield at the last close of the week minus the yield a week earlier, in basis points."
    label = f"{ctx.name(sym)}, change over the week"
    fig = Maker(ctx, (sym,), "1W", method)(f"event.rates.{sym}", label, now, "bp")
    # How rare, as for the index's week: the last earlier week that moved at least as far the same way.
    return _weekly_event(ctx, EventKind.RATES, fig, now, diffs.index, past, abs(z))


def level_crossing(ctx: Context, figures: dict[str, Figure], prev: dict[str, Figure]) -> list[Event]:
    """RSI into or out of overbought / oversold; the benchmark crossing its 200-day average."""
    b = ctx.slots.benchmark
    out: list[Event] = []
    rsi, rsi_prev = figures.get(f"rsi14.{b}"), prev.get(f"rsi14.{b}")
    if rsi is not None and ok(rsi) and ok(rsi_prev):
        for level in (th.RSI_OVERBOUGHT, th.RSI_OVERSOLD):
            direction = crossing(val(rsi), val(rsi_prev), level)
            if direction:
                score = _crossing_score(SCORES[EventKind.RSI], val(rsi) - level)
                out.append(Event(EventKind.RSI, score, rsi, direction, level=level))
    dist, dist_prev = figures.get(f"ma200.{b}.dist"), prev.get(f"ma200.{b}.dist")
    if dist is not None and ok(dist) and ok(dist_prev):
        direction = crossing(val(dist), val(dist_prev), 0.0)
        if direction:
            out.append(
                Event(
                    EventKind.TREND,
                    _crossing_score(SCORES[EventKind.TREND], val(dist)),
                    dist,
                    direction,
                    level=0.0,
                )
            )
    return out


def volatility_event(ctx: Context, figures: Mapping[str, Figure]) -> Event | None:
    """The benchmark's 20-day realized volatility at its lowest (or highest) of the last year."""
    b = ctx.slots.benchmark
    vol, where = figures.get(f"rvol20.{b}"), figures.get(f"rvol20.{b}.pctile1y")
    if vol is None or where is None or not (ok(vol) and ok(where)) or where.text not in ("lowest", "highest"):
        return None
    up = 1 if where.text == "highest" else -1
    return Event(EventKind.VOLATILITY, SCORES[EventKind.VOLATILITY], vol, up, extra=(where,))


def week_events(ctx: Context, figures: dict[str, Figure], prev: dict[str, Figure]) -> tuple[Event, ...]:
    """Every event of the week, most newsworthy first (ties: in the order computed)."""
    s = ctx.slots
    found: list[Event | None] = [
        week_move(ctx, s.benchmark),
        relative_week(ctx, s.benchmark, s.large_cap),
        *day_moves(ctx, s.benchmark),
        *streak_events(ctx),
        *extreme_events(ctx),
        drawdown_event(ctx),
        vix_spike_event(ctx) or vix_event(ctx),  # a spike's sentence gives the week's close too
        rates_event(ctx),
        *level_crossing(ctx, figures, prev),
        volatility_event(ctx, figures),
    ]
    events = [with_history(e) for e in found if e is not None]
    return tuple(sorted(events, key=lambda e: -e.score))
