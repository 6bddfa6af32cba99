"""The narrative layer: facts in, prose out.

It is the only code that turns numbers into sentences.  :func:`narrate` takes the week's facts
(figures by key, the news-value events, the outlook checks) and returns the headline sentence,
the key takeaways and the body passages.  Changing a sentence means editing this package only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from generator.analysis import registry
from generator.analysis.common import Context
from generator.analysis.fundamentals import FundamentalsFacts, FundamentalsGap
from generator.analysis.index_view import IndexFacts
from generator.analysis.newsvalue import Event
from generator.analysis.official_rates import OfficialRates
from generator.formatting import plain
from generator.models import (
    Check,
    Cite,
    EarningsWeek,
    Figure,
    Headline,
    Passage,
    Prose,
    Role,
    ScheduledEvent,
    Takeaway,
)
from generator.narrative import body, breadth, earnings, lead, notes, valuation
from generator.narrative import keys as K
from generator.narrative.keys import same_fact
from generator.narrative.words import Facts, anomaly, join, week_phrase

__all__ = ["Narrative", "narrate", "plain"]


@dataclass(frozen=True)
class Narrative:
    lead: Prose
    takeaways: tuple[Takeaway, ...]
    body: tuple[Passage, ...]
    not_covered: tuple[str, ...] = ()
    quiet_week: str = ""  # said when there is no takeaway


@dataclass(frozen=True)
class WeekFacts:
    """Everything the narrative reads for one week."""

    ctx: Context
    figures: Mapping[str, Figure]
    events: Sequence[Event]
    sessions: int  # sessions of the week with a bar
    expected_sessions: int = 5  # sessions the exchange calendar has in the week
    bull: Sequence[Check] = ()
    bear: Sequence[Check] = ()
    prev_bull: Sequence[Check] = ()
    prev_bear: Sequence[Check] = ()
    valuation: Sequence[Figure] = ()
    headlines: Mapping[str, tuple[Headline, ...]] | None = None
    index: IndexFacts | None = None  # member breadth and attribution (None: not covered this week)
    others: tuple[tuple[str, IndexFacts], ...] = ()  # other universes' member breadth ("S&P 600", facts)
    rates: OfficialRates | None = None  # FRED's rates and credit spread (None: not covered)
    schedule: tuple[ScheduledEvent, ...] = ()  # next week's official calendar
    calendar_failures: tuple[tuple[str, str], ...] = ()
    fundamentals: FundamentalsFacts | FundamentalsGap | None = None  # the members' (None: not asked)
    ratios_later: date | None = None  # the fund ratios were read for a later week (the latest read day)
    earnings: EarningsWeek | None = None  # next week's earnings of the index members (None: not covered)


def narrate(week: WeekFacts) -> Narrative:
    ctx = week.ctx
    when = week_phrase(week.sessions, week.expected_sessions, ctx.last_bar(ctx.slots.benchmark))
    told = Facts(week.figures, unavailable=(*ctx.missing, *ctx.stale))
    takeaways = lead.takeaways(ctx, week.events, told)
    headline, takeaways = lead.history_once(lead.headline(ctx, week.events, told, when), takeaways)
    # Each number is said once: the body leaves out what the headline and takeaways told.
    facts = told.having_said((headline, *(t.prose for t in takeaways)))
    # The thresholds the takeaways told crossed, with every figure each takeaway cites or stands
    # for (the VIX's crossing cites its level): the outlook does not tell them again.
    crossed = {
        (key, e.level)
        for e, t in zip(lead.pick(week.events), takeaways, strict=True)
        if e.level is not None
        for key in (
            e.figure.key,
            *same_fact(e.figure.key),
            *(c.figure.key for c in t.prose if isinstance(c, Cite)),
        )
    }
    passages: list[Passage | None] = [
        body.performance(ctx, facts, when),
        breadth.passage(ctx, week.index, week.others, facts.said),
        body.drivers(ctx, facts, week.rates),
        body.risks(ctx, facts),
        valuation.passage(ctx, facts, week.valuation, week.fundamentals),
    ]
    said = facts.said | {
        c.figure.key
        for p in passages
        if p is not None
        for para in p.paragraphs
        for c in para
        if isinstance(c, Cite)
    }
    b = ctx.slots.benchmark
    if K.record(b, "distance") in said:  # the drawdown the checklist tests is that same number
        said = said | {K.drawdown(b)}
    # A figure is said once in the body: the watch list names thresholds without repeating numbers.
    watch = body.watch_items(ctx, facts, said)
    outlook = body.outlook(week.bull, week.bear, week.prev_bull, week.prev_bear, watch, crossed, said)
    note, reports = earnings.earnings(week.earnings, ctx.name(ctx.slots.benchmark))
    outlook = replace(outlook, schedule=week.schedule, schedule_failures=week.calendar_failures)
    passages.append(replace(outlook, earnings_note=note, earnings=reports))
    found = tuple(
        sorted(
            (p for p in passages if p is not None and (p.paragraphs or p.items)),
            key=lambda p: registry.order(p.key),
        )
    )
    if week.headlines:
        found = tuple(replace(p, headlines=week.headlines.get(p.key, ())) for p in found)
    return Narrative(
        lead=headline,
        takeaways=takeaways,
        quiet_week="" if takeaways else notes.QUIET_WEEK,
        body=found,
        not_covered=not_covered(ctx, week),
    )


def not_covered(ctx: Context, week: WeekFacts) -> tuple[str, ...]:
    """What this week's brief cannot say, once each, with the reason."""
    out = []
    last = ctx.last_bar(ctx.slots.benchmark)
    if week.sessions < week.expected_sessions and last is not None:
        out.append(f"the week's last sessions (the data stops on {last.isoformat()})")
    if week.rates is None:
        out.append("the 2-year yield and the high-yield spread (no FRED series in this data)")
    if week.index is None:
        out.append("member breadth and attribution (no index membership or member prices for this week)")
    out += valuation.not_covered(ctx, week.valuation, week.fundamentals, week.ratios_later)
    out += [f"{_named(ctx, sym)}: {anomaly(a)}" for sym, a in sorted(ctx.flagged.items())]
    out += _missing(ctx)
    out += [f"{_named(ctx, s)}: stale, last bar {day.isoformat()}" for s, day in sorted(ctx.stale.items())]
    return tuple(out)


# The series a role groups, as "Not covered" names several of them missing at once.
ROLE_GROUPS = {
    Role.SMALL_CAP: "the small-cap benchmarks and funds",
    Role.SIZE_LADDER: "the size-ladder funds",
    Role.STYLE: "the style funds",
    Role.LARGE_CAP: "the large-cap comparators",
    Role.RATES: "the Treasury yields",
    Role.VOLATILITY: "the volatility indices",
    Role.CREDIT: "the credit funds",
    Role.SECTOR: "the sector funds",
}


def _missing(ctx: Context) -> list[str]:
    """The series without data, by role: one with its name, several of one role as a group by ticker
    ("the sector funds PSCT, PSCH and KRE: no data"), in the configuration's order."""
    groups: dict[Role | None, list[str]] = {}
    for sym in ctx.missing:
        inst = ctx.config.instrument(sym)
        groups.setdefault(inst.roles[0] if inst is not None and inst.roles else None, []).append(sym)
    out = []
    for role, symbols in groups.items():
        if role is None or len(symbols) == 1:
            out += [f"{_named(ctx, sym)}: no data" for sym in symbols]
        else:
            out.append(f"{ROLE_GROUPS[role]} {plain(join([(s,) for s in symbols]))}: no data")
    return out


def _named(ctx: Context, symbol: str) -> str:
    """ "Nasdaq Composite (^IXIC)"; a symbol the configuration gives no name is itself, once."""
    name = ctx.name(symbol)
    return symbol if name == symbol else f"{name} ({symbol})"
