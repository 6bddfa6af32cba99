"""The narrative layer: facts in, prose out.

It is the only code that turns numbers into sentences.  :func:`narrate` takes the week's facts
(figures by key, the news-value events, the outlook checks) and returns the headline sentence,
the key takeaways and the body passages.  Changing a sentence means editing this package only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from generator.analysis.common import Context
from generator.analysis.newsvalue import Event
from generator.formatting import plain
from generator.models import Check, Cite, Figure, Headline, Passage, Prose, Takeaway
from generator.narrative import body, lead
from generator.narrative.words import Facts

__all__ = ["Narrative", "narrate", "plain"]


@dataclass(frozen=True)
class Narrative:
    lead: Prose
    takeaways: tuple[Takeaway, ...]
    body: tuple[Passage, ...]


@dataclass(frozen=True)
class WeekFacts:
    """Everything the narrative reads for one week."""

    ctx: Context
    figures: Mapping[str, Figure]
    events: Sequence[Event]
    sessions: int
    bull: Sequence[Check] = ()
    bear: Sequence[Check] = ()
    prev_bull: Sequence[Check] = ()
    prev_bear: Sequence[Check] = ()
    valuation: Sequence[Figure] = ()
    headlines: Mapping[str, tuple[Headline, ...]] | None = None


def narrate(week: WeekFacts) -> Narrative:
    ctx = week.ctx
    facts = Facts(week.figures, unavailable=(*ctx.missing, *ctx.stale))
    passages: list[Passage | None] = [
        body.performance(ctx, facts, week.sessions),
        body.drivers(ctx, facts),
        body.risks(ctx, facts),
        body.valuation(ctx, facts, week.valuation),
    ]
    said = {
        c.figure.key
        for p in passages
        if p is not None
        for para in p.paragraphs
        for c in para
        if isinstance(c, Cite)
    }
    # A figure is said once in the body: the watch list names thresholds without repeating numbers.
    watch = body.watch_items(ctx, facts, said)
    passages.append(body.outlook(ctx, week.bull, week.bear, week.prev_bull, week.prev_bear, watch))
    found = tuple(p for p in passages if p is not None and (p.paragraphs or p.items))
    if week.headlines:
        from dataclasses import replace

        found = tuple(replace(p, headlines=week.headlines.get(p.key, ())) for p in found)
    return Narrative(
        lead=lead.headline(ctx, week.events, facts, week.sessions),
        takeaways=lead.takeaways(ctx, week.events, facts),
        body=found,
    )
