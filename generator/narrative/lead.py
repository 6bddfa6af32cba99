"""The top of the brief: one headline sentence and 3–5 key takeaways, chosen by news value."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from generator.analysis import thresholds as th
from generator.analysis.common import Context, ok, val
from generator.analysis.newsvalue import Event, EventKind
from generator.formatting import plain
from generator.models import Cite, Prose, Takeaway
from generator.narrative import keys as K
from generator.narrative.words import (
    Facts,
    a_or_an,
    beat_or_lag,
    cite,
    data_from,
    drawdown_zone,
    in_data,
    level,
    moved,
    on_day,
    ordinal,
    prose,
    sigma,
    size,
)


def _claim(e: Event, words: str) -> Prose:
    """The words of a claim measured on history ("the widest gap since …"), cited to the event's
    history figure, whose source spans the history (the figure the sentence gives covers the week)."""
    if not words:
        return ()
    return (cite(e.history, words),) if e.history is not None else (words,)


def _week_context(e: Event | None) -> Prose:
    """How unusual the week's move was, after the move itself: ", their best week since …".

    Only for a noteworthy move: "the best week since two weeks ago" is true and no news.
    """
    if e is None or e.score < th.NOTEWORTHY:
        return ()
    rarity = _rarity(e, "best" if e.direction > 0 else "worst", "week")
    if rarity:
        return prose(", their ", _claim(e, rarity))
    return (f", a move of {sigma(e.score)}",) if e.score >= th.UNUSUAL_MOVE_SD else ()


# The events the headline sentence tells (the week's move and its gap with large caps), never takeaways.
HEADLINE_ONLY = frozenset({EventKind.WEEK_MOVE, EventKind.RELATIVE_WEEK})


def _gap_context(e: Event | None, said: str) -> Prose:
    """How rare the week's gap with large caps was, after the gap: ", the widest since the week ending …".

    Only for a noteworthy gap, and only in words of rarity: a gap's size in standard deviations is one
    number more in a sentence that has two.  ``said``: the week's own context, whose "in data back to
    …" is not said twice in one sentence."""
    if e is None or e.score < th.NOTEWORTHY:
        return ()
    rarity = _rarity(e, "widest", "gap", weekly=True)
    if e.history_from is not None and rarity.endswith(back := in_data(e.history_from)) and back in said:
        rarity = rarity.removesuffix(back) + " in the data"
    return prose(", the ", _claim(e, rarity)) if rarity else ()


def _recent(e: Event) -> bool:
    """The earlier date of a "since" claim is within :data:`~th.RECENT_SINCE_WEEKS`: no news."""
    anchor = e.day or e.figure.provenance.last_bar
    return e.since is not None and anchor is not None and (anchor - e.since).days <= 7 * th.RECENT_SINCE_WEEKS


def _rarity(e: Event, extreme: str, unit: str, *, weekly: bool | None = None) -> str:
    """``worst week since the week ending 2020-03-20``, ``second-worst day in data back to …``,
    ``highest close since 2020-10-28``, or "" when the earlier such move is recent and this one is
    not among the most extreme (then its size in standard deviations says more).  ``weekly``: the
    earlier date is a week's end ("since the week ending …"); by default for a unit of "week"."""
    week = "the week ending " if (unit == "week" if weekly is None else weekly) else ""
    if e.since is None:
        return f"{extreme} {unit}{in_data(e.history_from)}" if e.history_from else ""
    if not _recent(e):
        return f"{extreme} {unit} since {week}{e.since.isoformat()}"
    if e.history_from is not None and 1 < e.rank <= th.RANKED_UP_TO:
        return f"{ordinal(e.rank)}-{extreme} {unit}{in_data(e.history_from)}"
    return ""


def _day_move(ctx: Context, e: Event, facts: Facts) -> Prose:
    assert e.day is not None
    name = ctx.name(ctx.slots.benchmark)
    verb = "jumped" if e.direction > 0 else "fell"
    rarity = _rarity(e, "best" if e.direction > 0 else "worst", "day")
    context = prose("its ", _claim(e, rarity)) if rarity else f"a move of {sigma(e.z or 0.0)}"
    return prose(f"The {name} {verb} ", size(e.figure), f" {on_day(e.day)}, ", context, ".")


def _streak(ctx: Context, e: Event, facts: Facts) -> Prose:
    large = ctx.name(ctx.slots.large_cap)
    n = int(e.figure.value or 0)
    side = "ahead of" if e.direction > 0 else "behind"
    since = (
        ()  # "the longest since a month ago" is no news
        if _recent(e)
        else prose(", ", _claim(e, f"the longest run since {e.since.isoformat()}{data_from(e.history_from)}"))
        if e.since is not None
        else prose(", ", _claim(e, f"the longest{in_data(e.history_from)}"))
        if e.history_from is not None
        else ()
    )
    if e.kind is EventKind.STREAK_ENDED:
        # Dated by the session that broke the run, which is said as such: "the run ended on Thursday"
        # read as if Thursday were its last day ahead.
        assert e.day is not None
        name = ctx.name(ctx.slots.benchmark)
        run = cite(e.figure, f"{n} sessions")
        if e.tied:  # equal returns that day: neither ahead nor behind
            ended = f" ended {on_day(e.day)} with a session of equal returns"
            return prose(f"The {name}'s run of ", run, f" {side} the {large}{ended}", since, ".")
        turn = "fell behind" if e.direction > 0 else "pulled ahead of"
        return prose(f"The {name} {turn} the {large} {on_day(e.day)} after ", run, f" {side} it", since, ".")
    name = ctx.name(ctx.slots.benchmark)
    verb = "beat" if e.direction > 0 else "lagged"
    return prose(
        f"The {name} {verb} the {large} for {a_or_an(ordinal(n))} ",
        cite(e.figure, f"{ordinal(n)} straight session"),
        since,
        ".",
    )


def _extreme(ctx: Context, e: Event, facts: Facts) -> Prose:
    assert e.day is not None
    name = ctx.name(ctx.slots.benchmark)
    if e.kind is EventKind.RECORD:
        record = (f"The {name} closed at a record ", level(e.figure), f" {on_day(e.day)}")
        return prose(*record, *_beaten(e), ".")
    what = "52-week high" if e.kind is EventKind.HIGH_52W else "52-week low"
    return prose(f"The {name} closed at a {what} of ", level(e.figure), f" {on_day(e.day)}.")


def _beaten(e: Event) -> Prose:
    """The record a record close beat: ", the first since 2021-11-08" when that one is old news, else
    ", 0.28% above its previous record of 2026-09-09"; with the history it was looked for in (a record of the
    data at hand, not of the index's life, when the data begin later)."""
    back = data_from(e.history_from)
    if e.since is not None and not _recent(e):
        return prose(", ", _claim(e, f"the first record since {e.since.isoformat()}{back}"))
    previous = next((f for f in e.extra if f.key.endswith(".previous")), None)
    above = next((f for f in e.extra if f.key.endswith(".above")), None)
    if previous is None or above is None or not ok(above) or previous.provenance.last_bar is None:
        return (back,) if back else ()
    when = previous.provenance.last_bar.isoformat()
    return (", ", size(above), f" above its previous record of {when}{back}")


def _drawdown(ctx: Context, e: Event, facts: Facts) -> Prose:
    name = ctx.name(ctx.slots.benchmark)
    zone = drawdown_zone(e.level)
    limit = f"{abs(e.level or 0):.0f}%"
    record = f"the record close it set on {e.since.isoformat()}" if e.since else "its record close"
    if e.direction > 0:
        into = f"The {name} entered {zone} ({limit} or more below its record close): it is "
        return prose(into, size(e.figure), f" below {record}.")
    return prose(f"The {name} climbed out of {zone}: it is ", size(e.figure), f" below {record}.")


def _vix(ctx: Context, e: Event, facts: Facts) -> Prose:
    vix = facts.get(K.VIX_LEVEL)
    now = prose(" to ", level(vix)) if vix is not None else ()
    if e.level is not None:
        side = "above" if e.direction > 0 else "back below"
        # Crossed by a hair, the line is no news but the move that crossed it is: its size says how much.
        size_of = f", a move of {sigma(e.z)}" if e.z is not None else ""
        return prose("The VIX ", moved(e.figure), now, f", {side} {e.level:.0f}{size_of}.")
    return prose("The VIX ", moved(e.figure), now, f", a move of {sigma(e.z or 0.0)}.")


def _vix_spike(ctx: Context, e: Event, facts: Facts) -> Prose:
    assert e.day is not None
    rarity = _rarity(e, "highest", "close")
    since = prose(", its ", _claim(e, rarity)) if rarity else ()
    vix = facts.get(K.VIX_LEVEL)
    end = prose(", and" if since else " and", " ended the week at ", level(vix)) if vix is not None else ()
    return prose("The VIX closed at ", level(e.figure), f" {on_day(e.day)}", since, end, ".")


def _rsi(ctx: Context, e: Event, facts: Facts) -> Prose:
    name = ctx.name(ctx.slots.benchmark)
    zone = "overbought" if e.level == th.RSI_OVERBOUGHT else "oversold"
    into = "moved into" if (e.direction > 0) == (zone == "overbought") else "left"
    line = f"{e.level:.0f} or {'above' if zone == 'overbought' else 'below'}"
    return prose(f"The {name}'s 14-day RSI {into} {zone} territory ({line}) at ", cite(e.figure), ".")


def _volatility(ctx: Context, e: Event, facts: Facts) -> Prose:
    name = ctx.name(ctx.slots.benchmark)
    side = "lowest" if e.direction < 0 else "highest"
    return prose(f"The {name}'s 20-day realized volatility is ", cite(e.figure, f"{val(e.figure):.1f}%"),
                 f", its {side} of the past year.")  # fmt: skip


def _trend(ctx: Context, e: Event, facts: Facts) -> Prose:
    name = ctx.name(ctx.slots.benchmark)
    side = "back above" if e.direction > 0 else "below"
    return prose(f"The {name} closed {side} its 200-day average (", cite(e.figure), ").")


def _rates(ctx: Context, e: Event, facts: Facts) -> Prose:
    ten = facts.get(K.yield_level(ctx.slots.rate_10y))
    now = prose(" to ", level(ten)) if ten is not None else ()
    rarity = _rarity(e, "largest", "weekly rise" if e.direction > 0 else "weekly fall", weekly=True)
    context = prose("its ", _claim(e, rarity)) if rarity else f"a move of {sigma(e.z or 0.0)}"
    return prose("The 10-year Treasury yield ", moved(e.figure), now, ", ", context, ".")


def _breadth(ctx: Context, e: Event, facts: Facts) -> Prose:
    most = "the most" if e.direction > 0 else "the fewest"
    first = e.history_from.isoformat() if e.history_from else ""
    return prose(
        cite(e.figure, f"{val(e.figure):.0f}%"),
        f" of the {ctx.name(ctx.slots.benchmark)}'s members are above their {e.level or 200:.0f}-day average,"
        f" {most} in the year of breadth data at hand (from {first}; today's members).",
    )


WRITERS: dict[EventKind, Callable[[Context, Event, Facts], Prose]] = {
    EventKind.DAY_MOVE: _day_move,
    EventKind.STREAK: _streak,
    EventKind.STREAK_ENDED: _streak,
    EventKind.RECORD: _extreme,
    EventKind.HIGH_52W: _extreme,
    EventKind.LOW_52W: _extreme,
    EventKind.DRAWDOWN: _drawdown,
    EventKind.VIX: _vix,
    EventKind.VIX_SPIKE: _vix_spike,
    EventKind.RSI: _rsi,
    EventKind.TREND: _trend,
    EventKind.RATES: _rates,
    EventKind.BREADTH: _breadth,
    EventKind.VOLATILITY: _volatility,
}


def pick(events: Sequence[Event]) -> list[Event]:
    """2–4 events by news value: every noteworthy one up to four, at least two when there are two.

    The week's move of the benchmark is not among them: the headline tells it, with its context
    (and the gap with large caps, which is a figure, not an event).
    """
    rest = [e for e in events if e.kind not in HEADLINE_ONLY]
    chosen = [e for e in rest if e.score >= th.NOTEWORTHY][: th.MAX_TAKEAWAYS]
    for e in rest:
        if len(chosen) >= th.MIN_TAKEAWAYS:
            break
        if e not in chosen:
            chosen.append(e)
    return sorted(chosen, key=lambda e: -e.score)


def takeaways(ctx: Context, events: Sequence[Event], facts: Facts) -> tuple[Takeaway, ...]:
    return tuple(Takeaway(str(e.kind), WRITERS[e.kind](ctx, e, facts), e.score) for e in pick(events))


# The history a claim was measured on, as words.data_from and words.in_data write it.
_HISTORY = re.compile(r" \(data back to ([A-Z][a-z]+ \d{4})\)| in data back to ([A-Z][a-z]+ \d{4})")


def history_once(headline: Prose, told: Sequence[Takeaway]) -> tuple[Prose, tuple[Takeaway, ...]]:
    """The headline and the takeaways with the history their claims were measured on said once, where
    it is first read: the lead's "the widest gap in data back to November 2022" and then each takeaway's
    "(data back to November 2022)" said one month three times.  A later mention is left out, or
    reads "in the data" where the words need a place ("its worst day in the data")."""
    said: set[str] = set()

    def once(match: re.Match[str]) -> str:
        month = match.group(1) or match.group(2)
        if month not in said:
            said.add(month)
            return match.group(0)
        return "" if match.group(1) else " in the data"

    def strip(text: Prose) -> Prose:
        parts: list[str | Cite] = []
        for part in text:
            if isinstance(part, str):
                parts.append(_HISTORY.sub(once, part))
            elif words := _HISTORY.sub(once, part.text):  # a claim's words, cited to its history
                parts.append(Cite(part.figure, words))
        return prose(*parts)

    return strip(headline), tuple(replace(t, prose=strip(t.prose)) for t in told)


def headline(ctx: Context, events: Sequence[Event], facts: Facts, when: str) -> Prose:
    """One sentence: the week's move and how unusual it was, against large caps, and the week's
    biggest other event in words (its number is in its takeaway)."""
    s = ctx.slots
    week = facts.get(K.ret(s.benchmark, "1W"))
    if week is None:
        last = ctx.stale.get(s.benchmark)
        why = f"its data is stale (last bar {last.isoformat()})" if last else "it has no data for the week"
        return prose(f"No figures for this week: the {ctx.name(s.benchmark)} is not reported because {why}.")
    context = _week_context(next((e for e in events if e.kind is EventKind.WEEK_MOVE), None))
    spread = facts.get(K.spread(s.benchmark, s.large_cap, "1W"))
    versus = (
        prose(
            " and ",
            beat_or_lag(spread, f"the {ctx.name(s.large_cap)}"),
            _gap_context(
                next((e for e in events if e.kind is EventKind.RELATIVE_WEEK), None), plain(context)
            ),
        )
        if spread
        else ()
    )
    top = next((e for e in events if e.kind not in HEADLINE_ONLY), None)
    tail: Prose = ()
    if top is not None and top.score >= th.NOTEWORTHY:
        tail = prose("; ", _short(ctx, top))
    if context and versus:
        context = prose(context, ",")
    return prose(
        "Small caps ", moved(week, flat="were little changed"), " ", when, context, versus, tail, "."
    )


def _short(ctx: Context, e: Event) -> str:
    """The event in a few words, for the headline sentence (its number is in the takeaway)."""
    name = ctx.name(ctx.slots.benchmark)
    n = int(e.figure.value or 0)
    up = e.direction > 0
    when = on_day(e.day) if e.day else ""
    # An extreme set before the week's last session says when: "fell 3.29% …; closed at a record on
    # Monday" is not a contradiction.
    earlier = f" {when}" if e.day and e.day != ctx.last_bar(ctx.slots.benchmark) else ""
    side = "ahead of" if up else "behind"
    zone = drawdown_zone(e.level)
    vix_move = f" {'above' if up else 'below'} {e.level:.0f}" if e.level is not None else " sharply"
    overbought = e.level == th.RSI_OVERBOUGHT
    if up == overbought:  # into the zone
        rsi = f"momentum turned {'overbought' if overbought else 'oversold'}"
    else:  # out of it: down from overbought, up from oversold
        rsi = "momentum cooled" if overbought else "momentum recovered from oversold"
    return {
        EventKind.DAY_MOVE: f"the {name} {'jumped' if up else 'fell'} sharply {when}",
        EventKind.STREAK: f"the {name} {'beat' if up else 'lagged'} large caps for"
        f" {a_or_an(ordinal(n))} {ordinal(n)} straight session",
        EventKind.STREAK_ENDED: f"{a_or_an(str(n))} {n}-session run {side} large caps ended",
        EventKind.RECORD: f"the {name} closed at a record{earlier}",
        EventKind.HIGH_52W: f"the {name} closed at a 52-week high{earlier}",
        EventKind.LOW_52W: f"the {name} closed at a 52-week low{earlier}",
        EventKind.DRAWDOWN: f"the {name} {'entered' if up else 'left'} {zone}",
        EventKind.VIX: f"the VIX {'rose' if up else 'fell'}{vix_move}",
        EventKind.VIX_SPIKE: f"the VIX spiked above 30 {when}"
        if e.level is not None
        else f"the VIX closed at a one-year high {when}",
        EventKind.RSI: rsi,
        EventKind.TREND: f"the {name} crossed {'above' if up else 'below'} its 200-day average",
        EventKind.RATES: f"the 10-year yield {'jumped' if up else 'dropped'}",
        EventKind.BREADTH: f"breadth {'reached a one-year high' if up else 'fell to a one-year low'}",
        EventKind.VOLATILITY: f"volatility {'rose to a one-year high' if up else 'fell to a one-year low'}",
    }.get(e.kind, "").strip()
