"""Outlook: a bull and a bear checklist read off this week's figures.

Conditions are read off figures computed elsewhere; nothing here forecasts.  Thresholds come
from :mod:`generator.analysis.thresholds`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from generator.analysis import thresholds as th
from generator.analysis.common import Context, Maker, ok, val
from generator.analysis.risks import OVERBOUGHT, breadth_counts
from generator.models import Check, Figure, ScheduledEvent, Section, Topic
from generator.sources.calendar import market_days


@dataclass(frozen=True)
class Rule:
    key: str
    condition: str
    test: Callable[[float], bool]
    level: float | None = None  # the threshold (a crossing of it is also a news event)


def _get(ctx: Context, figures: Mapping[str, Figure], key: str, label: str) -> Figure:
    """The figure under ``key``; else why its family is not available (e.g. credit.HYG-IEF for .1M)."""
    fig = figures.get(key)
    if fig is not None:
        return fig
    family = ".".join(key.split(".")[:2])
    kin = next((f for k, f in figures.items() if k == family or k.startswith(family + ".")), None)
    if kin is not None and not ok(kin):
        return replace(kin, key=key, label=label, value=None, text="")
    return Maker(ctx, (), "", "Not computed for this brief.").na(key, label, "text", "not in this data")


def _check(ctx: Context, figures: Mapping[str, Figure], rule: Rule) -> Check:
    fig = _get(ctx, figures, rule.key, rule.condition)
    return Check(rule.condition, fig, rule.test(val(fig)) if ok(fig) else None, rule.level)


def _rules(ctx: Context) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
    s = ctx.slots
    b, name = s.benchmark, ctx.name(s.benchmark)
    credit, pair = f"credit.{s.high_yield}-{s.treasury}.1M", f"{s.high_yield}/{s.treasury}"
    bull = (
        Rule(f"ma200.{b}.dist", f"{name} above its 200-day average", lambda v: v > 0, 0.0),
        Rule(
            f"rs.{b}-{s.large_cap}.vs50",
            f"{name}/{ctx.name(s.large_cap)} ratio above its 50-day average",
            lambda v: v > 0,
        ),
        # Named by what is measured: "credit improving" read as a contradiction of a spread that widened.
        Rule(credit, f"High yield ahead of Treasuries over 1 month ({pair} up)", lambda v: v > 0),
        Rule(f"change.{s.rate_10y}.1M", "10-year yield lower than a month ago", lambda v: v < 0),
        Rule("vix.level", f"VIX below {th.VIX_ELEVATED:.0f}", lambda v: v < th.VIX_ELEVATED, th.VIX_ELEVATED),
    )
    bear = (
        Rule(
            f"rsi14.{b}",
            f"{name} RSI(14) at or above {OVERBOUGHT:.0f} (overbought)",
            lambda v: v >= OVERBOUGHT,
            OVERBOUGHT,
        ),
        Rule(
            f"change.{s.rate_10y}.1M",
            f"10-year yield up {th.RATE_BEAR_1M_BP:.0f} bp or more over 1 month",
            lambda v: v >= th.RATE_BEAR_1M_BP,
        ),
        Rule("curve.10y-3m", "Yield curve (10y−3m) inverted", lambda v: v < 0),
        Rule(
            f"drawdown.{b}.record",
            f"{name} more than {abs(th.CORRECTION):.0f}% below its record close",
            lambda v: v < th.CORRECTION,
            th.CORRECTION,
        ),
        Rule(
            "dispersion.sectors.pctile1y",
            "Sector dispersion high (80th percentile of the last year or more)",
            lambda v: v >= 80,
        ),
        Rule(credit, f"High yield behind Treasuries over 1 month ({pair} down)", lambda v: v < 0),
    )
    return bull, bear


def _breadth_check(ctx: Context, figures: Mapping[str, Figure]) -> Check:
    condition = "More than half of the sector funds above their 50-day average"
    fig = _get(ctx, figures, "breadth.50d", condition)
    above, total, _ = breadth_counts(ctx, 50)
    return Check(condition, fig, above > total / 2 if ok(fig) and total else None)


def case_topics(ctx: Context, figures: Mapping[str, Figure]) -> tuple[Topic, Topic]:
    bull_rules, bear_rules = _rules(ctx)
    bull = (*(_check(ctx, figures, r) for r in bull_rules), _breadth_check(ctx, figures))
    bear = tuple(_check(ctx, figures, r) for r in bear_rules)
    return (
        Topic("bull-case", "Bull case", checks=bull),
        Topic("bear-case", "Bear case", checks=bear),
    )


def outlook_section(ctx: Context, figures: Mapping[str, Figure]) -> Section:
    """The bull and bear checklists (the narrative says what changed and what to watch)."""
    return Section("outlook", "Outlook", case_topics(ctx, figures))


NYSE = "NYSE"
NYSE_HOURS = "https://www.nyse.com/markets/hours-calendars"


def market_schedule(week_start: date) -> tuple[ScheduledEvent, ...]:
    """The NYSE's closures and early closes in the week after the one starting ``week_start``, as
    items of next week's calendar: "NYSE closed (Thanksgiving)", "NYSE closes early" at 13:00."""
    first = week_start + timedelta(days=7)
    return tuple(
        ScheduledEvent(d.day, f"NYSE closed ({d.reason})" if d.reason else "NYSE closed", NYSE, NYSE_HOURS)
        if d.closed
        else ScheduledEvent(d.day, "NYSE closes early", NYSE, NYSE_HOURS, d.close_et)
        for d in market_days(first, first + timedelta(days=4))
    )


def with_market_days(events: Sequence[ScheduledEvent], week_start: date) -> tuple[ScheduledEvent, ...]:
    """Next week's calendar with the market's own days in it, by day and time."""
    market = market_schedule(week_start)
    return tuple(sorted((*events, *market), key=lambda e: (e.day, e.time_et, e.title)))
