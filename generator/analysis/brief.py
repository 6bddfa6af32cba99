"""Assembly: :func:`analyse` turns a snapshot, the config and the week's headlines into a :class:`Brief`.

Pure and deterministic: the same inputs give the same brief.  Every series is cut at the
reporting week's end before anything is computed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd

from generator.analysis.changes import changes_section, collect
from generator.analysis.charts_data import build_charts
from generator.analysis.common import (
    Context,
    make_context,
    ok,
    reporting_week,
    return_figure,
)
from generator.analysis.drivers import drivers_section
from generator.analysis.fundamentals import fundamentals_facts
from generator.analysis.index_view import index_facts, index_section, universe_facts
from generator.analysis.newsvalue import breadth_event, week_events
from generator.analysis.official_rates import official_rates, official_rates_section
from generator.analysis.outlook import case_topics, outlook_section, with_market_days
from generator.analysis.performance import performance_section
from generator.analysis.placement import SECTIONS, for_passages, place_headlines
from generator.analysis.risks import risks_section, week_health
from generator.analysis.valuation import ratios_of_week, valuation_section
from generator.errors import DataUnavailableError
from generator.models import (
    Brief,
    ChartSpec,
    Config,
    EarningsWeek,
    Figure,
    Headline,
    Origin,
    Section,
    Snapshot,
    SourceHealth,
)
from generator.narrative import Narrative, WeekFacts, narrate, notes, plain
from generator.narrative.body import BODY_CHARTS
from generator.narrative.charts import describe
from generator.narrative.words import anomaly
from generator.sources.calendar import trading_days

log = logging.getLogger(__name__)
TOP_HEADLINES = 5  # besides those placed in the body passages


@dataclass(frozen=True)
class WeekCore:
    """A reporting week's context and core figures: what the next week's analysis reads as its
    previous week.  A caller that analyses consecutive weeks (the backfill) hands each week's core
    to the next analysis instead of having it computed again."""

    week_end: date
    ctx: Context
    figures: Mapping[str, Figure]


def analyse(
    snapshot: Snapshot,
    config: Config,
    headlines: Sequence[Headline],
    *,
    as_of: date,
    on_charts: Callable[[tuple[ChartSpec, ...]], None] | None = None,
) -> Brief:
    """The brief for the reporting week that ends on or before ``as_of``.

    ``on_charts`` is told the body's chart specs as soon as they are known, before the rest of
    the analysis: a render worker can draw them meanwhile (the brief's ``charts`` are the same).
    """
    return analyse_week(snapshot, config, headlines, as_of=as_of, on_charts=on_charts)[0]


def analyse_week(
    snapshot: Snapshot,
    config: Config,
    headlines: Sequence[Headline],
    *,
    as_of: date,
    on_charts: Callable[[tuple[ChartSpec, ...]], None] | None = None,
    previous: WeekCore | None = None,
) -> tuple[Brief, WeekCore]:
    """:func:`analyse`, and the week's core for the next week's analysis.

    ``previous``: the core of the week before, as this function returned it for that week from
    the same snapshot; any other week's core is not used.  The brief is the same either way.
    """
    week_start, week_end = reporting_week(as_of, config.brief.week_ends_on)
    ctx = make_context(snapshot, config, week_start, week_end)
    bench = config.slots.benchmark
    if bench not in ctx.series:
        raise DataUnavailableError(bench, f"no data for the benchmark on or before {week_end.isoformat()}")
    health = week_health(ctx, snapshot.health)
    # The sample stood in for sources that failed: every figure is the sample's own, so the
    # failures are told in Source health and the first warning, not as problems of the figures.
    stood_in = snapshot.is_sample
    core = core_sections(ctx, tuple(h for h in health if not (stood_in and h.origin == Origin.NONE)))
    figures = collect(core)
    charts = build_charts(ctx, figures)
    if on_charts is not None:
        on_charts(tuple(describe(c) for c in charts if c.key in BODY_CHARTS))
    if (
        previous is not None
        and previous.week_end == reporting_week(week_start - timedelta(days=1), config.brief.week_ends_on)[1]
    ):
        prev_ctx: Context | None = previous.ctx
        prev_figures = dict(previous.figures)
    else:
        prev_ctx, prev_figures = previous_week(snapshot, config, week_start)
    for symbol, a in sorted(ctx.flagged.items()):
        log.warning("%s: %s", symbol, anomaly(a))  # a repair of bad input is visible
    index = index_facts(ctx, snapshot.index_view)
    rates = official_rates(ctx)
    members = fundamentals_facts(ctx, snapshot.fundamentals)
    ratios, ratios_read, ratios_later = ratios_of_week(ctx, snapshot.valuation, snapshot.valuation_as_of)
    sections = (
        changes_section(ctx, prev_ctx, prev_figures, figures),
        core[0],
        index_section(index),
        core[1],
        official_rates_section(rates),
        *core[2:],
        valuation_section(ctx, ratios, snapshot.provider, ratios_read, members),
        outlook_section(ctx, figures),
    )
    sections = drop_missing_charts(sections, {c.key for c in charts})
    headline = return_figure(ctx, bench, "1W")
    headline = replace(headline, label=f"{ctx.name(bench)}, week")
    facts = replace(
        week_facts(ctx, prev_ctx, figures, prev_figures, sections, headlines),
        index=index, rates=rates, schedule=with_market_days(snapshot.events, week_start),
        calendar_failures=snapshot.calendar_failures,
        others=universe_facts(ctx, dict(snapshot.universes)) if index is not None else (),
        fundamentals=members,
        ratios_later=ratios_later,
        earnings=next_weeks_earnings(snapshot.earnings, week_start, week_end),
    )  # fmt: skip
    if index is not None and snapshot.index_view is not None:
        # The 200-day share first; the 50-day one when the 200-day history is too short or ordinary.
        daily = snapshot.index_view.daily
        (share50, _), (share200, _) = index.above
        found = (breadth_event(share, daily, week_start, n) for n, share in ((200, share200), (50, share50)))
        wide = next(filter(None, found), None)
        if wide is not None:
            facts = replace(facts, events=tuple(sorted((*facts.events, wide), key=lambda e: -e.score)))
    story = narrate(facts)
    placed = {h for hs in (facts.headlines or {}).values() for h in hs}
    brief = Brief(
        title=config.brief.title,
        as_of=ctx.series[bench].last_bar,
        week_start=week_start,
        week_end=week_end,
        built_at=snapshot.built_at,
        is_sample=snapshot.is_sample,
        summary=plain(story.lead),
        headline_figure=headline,
        sections=sections,
        charts=tuple(
            describe(c) for c in charts if c.key in {p.chart for p in story.body}
        ),  # only what is shown
        headlines=top_headlines([h for h in headlines if h not in placed]),
        health=health,
        warnings=notes.warnings(ctx, snapshot),
        glossary=notes.glossary(_words(story, sections)),
        disclaimer=notes.DISCLAIMER,
        lead=story.lead,
        takeaways=story.takeaways,
        quiet_week=story.quiet_week,
        body=story.body,
        not_covered=story.not_covered,
        session_count=sessions(ctx),
    )
    return brief, WeekCore(week_end, ctx, figures)


def next_weeks_earnings(week: EarningsWeek | None, start: date, end: date) -> EarningsWeek | None:
    """The snapshot's earnings when they were read for the week after ``start``..``end`` (never another's)."""
    if week is None or (week.start, week.end) == (start + timedelta(days=7), end + timedelta(days=7)):
        return week
    if week.start > start + timedelta(days=7):
        # Read for a later week than this one's next: a past week built from a later snapshot (a
        # backfill, a rebuild), where a calendar of its own next week was never read.  Expected.
        log.info("earnings calendar of %s..%s was read for a later week: left out", week.start, week.end)
    else:
        log.warning("earnings calendar of %s..%s is not next week's: left out", week.start, week.end)
    return None


def sessions(ctx: Context) -> int:
    """Sessions of the reporting week the benchmark has bars for (fewer than five: a short week)."""
    closes = ctx.closes.get(ctx.slots.benchmark)
    if closes is None:
        return 0
    return int(
        ((closes.index >= pd.Timestamp(ctx.week_start)) & (closes.index <= pd.Timestamp(ctx.week_end))).sum()
    )


def week_facts(
    ctx: Context,
    prev_ctx: Context | None,
    figures: dict[str, Figure],
    prev_figures: dict[str, Figure],
    sections: Sequence[Section],
    headlines: Sequence[Headline],
) -> WeekFacts:
    bull, bear = case_topics(ctx, figures)
    prev_bull, prev_bear = case_topics(prev_ctx, prev_figures) if prev_ctx is not None else (None, None)
    valuation = collect(s for s in sections if s.key == "valuation")
    with_facts = [s for s in SECTIONS if s != "valuation" or any(ok(f) for f in valuation.values())]
    placed = for_passages(place_headlines(headlines, with_facts, universe=ctx.config.universe))
    return WeekFacts(
        ctx=ctx,
        figures={**collect(sections), **figures},
        events=week_events(ctx, figures, prev_figures),
        sessions=sessions(ctx),
        expected_sessions=len(trading_days(ctx.week_start, ctx.week_end)),
        bull=bull.checks,
        bear=bear.checks,
        prev_bull=prev_bull.checks if prev_bull else (),
        prev_bear=prev_bear.checks if prev_bear else (),
        valuation=tuple(valuation.values()),
        headlines=placed,
    )


def _words(story: Narrative, sections: Sequence[Section]) -> str:
    """Every word the brief shows a reader: its prose and its tables' and checklists' labels."""
    parts = [plain(story.lead), *(plain(t.prose) for t in story.takeaways), *story.not_covered]
    for passage in story.body:
        parts += [plain(p) for p in (*passage.paragraphs, *passage.items)]
    for section in sections:
        for topic in section.topics:
            parts += [topic.title, *(f.label for f in topic.figures), *(c.condition for c in topic.checks)]
            if topic.table is not None:
                parts += [topic.table.caption, *topic.table.columns]
                parts += [
                    c.label if isinstance(c, Figure) else str(c) for row in topic.table.rows for c in row
                ]
    return "\n".join(parts)


def core_sections(ctx: Context, health: Sequence[SourceHealth]) -> tuple[Section, ...]:
    return performance_section(ctx), drivers_section(ctx), risks_section(ctx, health)


def previous_week(
    snapshot: Snapshot, config: Config, week_start: date
) -> tuple[Context | None, dict[str, Figure]]:
    """The same figures as of the previous reporting week (series cut at its end)."""
    start, end = reporting_week(week_start - timedelta(days=1), config.brief.week_ends_on)
    ctx = make_context(snapshot, config, start, end)
    if config.slots.benchmark not in ctx.series:
        return None, {}
    return ctx, collect(core_sections(ctx, ()))


def drop_missing_charts(sections: Sequence[Section], built: set[str]) -> tuple[Section, ...]:
    out = []
    for section in sections:
        topics = tuple(
            replace(t, chart=None) if t.chart is not None and t.chart not in built else t
            for t in section.topics
        )
        out.append(replace(section, topics=topics))
    return tuple(out)


def top_headlines(headlines: Sequence[Headline], n: int = TOP_HEADLINES) -> tuple[Headline, ...]:
    return tuple(sorted(headlines, key=Headline.news_order)[:n])
