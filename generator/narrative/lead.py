"""The top of the brief: one headline sentence and 3–5 key takeaways, chosen by news value."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from generator.analysis import thresholds as th
from generator.analysis.common import Context
from generator.analysis.newsvalue import Event, EventKind
from generator.models import Prose, Takeaway
from generator.narrative import keys as K
from generator.narrative.words import (
    Facts,
    beat_or_lag,
    cite,
    data_from,
    gap,
    level,
    moved,
    on_day,
    ordinal,
    prose,
    sigma,
    size,
)


def _week_move(ctx: Context, e: Event, facts: Facts) -> Prose:
    name = ctx.name(ctx.slots.benchmark)
    best = "best" if e.direction > 0 else "worst"
    if e.since is not None:
        context = f", its {best} week since the week ending {e.since.isoformat()}"
    elif e.history_from is not None:
        context = f", its {best} week in the data{data_from(e.history_from)}"
    else:
        context = f", a move of {sigma(e.score)}" if e.score >= th.UNUSUAL_MOVE_SD else ""
    return prose(f"The {name} ", moved(e.figure), " on the week", context, ".")


def _day_move(ctx: Context, e: Event, facts: Facts) -> Prose:
    assert e.day is not None
    name = ctx.name(ctx.slots.benchmark)
    verb = "jumped" if e.direction > 0 else "fell"
    return prose(
        f"The {name} {verb} ", size(e.figure), f" {on_day(e.day)}, a move of {sigma(e.score / 0.9)}."
    )


def _spread(ctx: Context, e: Event, facts: Facts) -> Prose:
    large = ctx.name(ctx.slots.large_cap)
    verb = gap(e.figure, f"Small caps beat the {large}", f"Small caps lagged the {large}")
    return prose(verb, f" this week, a gap of {sigma(e.score)} of its weekly history.")


def _streak(ctx: Context, e: Event, facts: Facts) -> Prose:
    large = ctx.name(ctx.slots.large_cap)
    n = int(e.figure.value or 0)
    side = "ahead of" if e.direction > 0 else "behind"
    since = (
        f", the longest run since {e.since.isoformat()}{data_from(e.history_from)}"
        if e.since is not None
        else f", the longest in the data{data_from(e.history_from)}"
        if e.history_from is not None
        else ""
    )
    if e.kind is EventKind.STREAK_ENDED:
        assert e.day is not None
        run = cite(e.figure, f"{n}-session run")
        name = ctx.name(ctx.slots.benchmark)
        return prose(f"The {name}'s ", run, f" {side} the {large} ended {on_day(e.day)}{since}.")
    name = ctx.name(ctx.slots.benchmark)
    verb = "beat" if e.direction > 0 else "lagged"
    return prose(
        f"The {name} {verb} the {large} for a ", cite(e.figure, f"{ordinal(n)} straight session"), f"{since}."
    )


def _extreme(ctx: Context, e: Event, facts: Facts) -> Prose:
    assert e.day is not None
    name = ctx.name(ctx.slots.benchmark)
    if e.kind is EventKind.RECORD:
        since = f", the first record since {e.since.isoformat()}" if e.since else ""
        return prose(f"The {name} closed at a record ", level(e.figure), f" {on_day(e.day)}{since}.")
    what = "52-week high" if e.kind is EventKind.HIGH_52W else "52-week low"
    return prose(f"The {name} closed at a {what} of ", level(e.figure), f" {on_day(e.day)}.")


def _drawdown(ctx: Context, e: Event, facts: Facts) -> Prose:
    name = ctx.name(ctx.slots.benchmark)
    zone = "a bear market" if e.level == th.BEAR_MARKET else "a correction"
    limit = f"{abs(e.level or 0):.0f}%"
    if e.direction > 0:
        return prose(f"The {name} is ", size(e.figure), f" below its record close: {zone} ({limit} or more).")
    return prose(f"The {name} climbed out of {zone}: it is ", size(e.figure), " below its record close.")


def _vix(ctx: Context, e: Event, facts: Facts) -> Prose:
    vix = facts.get(K.VIX_LEVEL)
    now = prose(" to ", level(vix)) if vix is not None else ()
    if e.level is not None:
        side = "above" if e.direction > 0 else "back below"
        return prose("The VIX ", moved(e.figure), now, f", {side} {e.level:.0f}.")
    return prose("The VIX ", moved(e.figure), now, f", a move of {sigma(e.score / 0.9)}.")


def _rsi(ctx: Context, e: Event, facts: Facts) -> Prose:
    name = ctx.name(ctx.slots.benchmark)
    zone = "overbought" if e.level == th.RSI_OVERBOUGHT else "oversold"
    into = "moved into" if (e.direction > 0) == (zone == "overbought") else "left"
    return prose(f"The {name}'s RSI(14) {into} {zone} territory at ", cite(e.figure), f" ({e.level:.0f}).")


def _trend(ctx: Context, e: Event, facts: Facts) -> Prose:
    name = ctx.name(ctx.slots.benchmark)
    side = "back above" if e.direction > 0 else "below"
    return prose(f"The {name} closed {side} its 200-day average (", cite(e.figure), ").")


def _rates(ctx: Context, e: Event, facts: Facts) -> Prose:
    ten = facts.get(K.yield_level(ctx.slots.rate_10y))
    now = prose(" to ", level(ten)) if ten is not None else ()
    return prose("The 10-year Treasury yield ", moved(e.figure), now, f", a move of {sigma(e.score)}.")


WRITERS: dict[EventKind, Callable[[Context, Event, Facts], Prose]] = {
    EventKind.WEEK_MOVE: _week_move,
    EventKind.DAY_MOVE: _day_move,
    EventKind.SPREAD: _spread,
    EventKind.STREAK: _streak,
    EventKind.STREAK_ENDED: _streak,
    EventKind.RECORD: _extreme,
    EventKind.HIGH_52W: _extreme,
    EventKind.LOW_52W: _extreme,
    EventKind.DRAWDOWN: _drawdown,
    EventKind.VIX: _vix,
    EventKind.RSI: _rsi,
    EventKind.TREND: _trend,
    EventKind.RATES: _rates,
}


def pick(events: Sequence[Event]) -> list[Event]:
    """3–5 events by news value: every noteworthy one up to five, at least three when there are three.

    The week's move of the benchmark is always among them (it frames the rest).
    """
    chosen = [e for e in events if e.score >= th.NOTEWORTHY][: th.MAX_TAKEAWAYS]
    for e in events:
        if len(chosen) >= th.MIN_TAKEAWAYS:
            break
        if e not in chosen:
            chosen.append(e)
    week = next((e for e in events if e.kind is EventKind.WEEK_MOVE), None)
    if week is not None and week not in chosen:
        chosen = [*chosen[: th.MAX_TAKEAWAYS - 1], week]
    return sorted(chosen, key=lambda e: -e.score)


def takeaways(ctx: Context, events: Sequence[Event], facts: Facts) -> tuple[Takeaway, ...]:
    return tuple(Takeaway(str(e.kind), WRITERS[e.kind](ctx, e, facts), e.score) for e in pick(events))


def headline(ctx: Context, events: Sequence[Event], facts: Facts, when: str) -> Prose:
    """One sentence: how small caps did against large caps, and the week's biggest other event."""
    s = ctx.slots
    week = facts.get(K.ret(s.benchmark, "1W"))
    if week is None:
        last = ctx.stale.get(s.benchmark)
        why = f"its data is stale (last bar {last.isoformat()})" if last else "it has no data for the week"
        return prose(f"No figures for this week: the {ctx.name(s.benchmark)} is not reported because {why}.")
    spread = facts.get(K.spread(s.benchmark, s.large_cap, "1W"))
    versus = (
        prose(
            " and ",
            beat_or_lag(spread, f"the {ctx.name(s.large_cap)}"),
        )
        if spread
        else ()
    )
    top = next((e for e in events if e.kind not in (EventKind.WEEK_MOVE, EventKind.SPREAD)), None)
    tail: Prose = ()
    if top is not None and top.score >= th.NOTEWORTHY:
        tail = prose("; ", _short(ctx, top))
    return prose("Small caps ", moved(week), " ", when, versus, tail, ".")


def _short(ctx: Context, e: Event) -> str:
    """The event in a few words, for the headline sentence (its number is in the takeaway)."""
    name = ctx.name(ctx.slots.benchmark)
    n = int(e.figure.value or 0)
    up = e.direction > 0
    when = on_day(e.day) if e.day else ""
    side = "ahead of" if up else "behind"
    zone = "a bear market" if e.level == th.BEAR_MARKET else "a correction"
    vix_move = f" {'above' if up else 'below'} {e.level:.0f}" if e.level is not None else " sharply"
    overbought = e.level == th.RSI_OVERBOUGHT
    rsi = (
        f"momentum turned {'overbought' if overbought else 'oversold'}"
        if up == overbought
        else "momentum cooled"
    )
    return {
        EventKind.DAY_MOVE: f"the {name} {'jumped' if up else 'fell'} sharply {when}",
        EventKind.STREAK: f"a {n}-session run {side} large caps",
        EventKind.STREAK_ENDED: f"a {n}-session run {side} large caps ended",
        EventKind.RECORD: f"the {name} closed at a record",
        EventKind.HIGH_52W: f"the {name} closed at a 52-week high",
        EventKind.LOW_52W: f"the {name} closed at a 52-week low",
        EventKind.DRAWDOWN: f"the {name} {'entered' if up else 'left'} {zone}",
        EventKind.VIX: f"the VIX {'rose' if up else 'fell'}{vix_move}",
        EventKind.RSI: rsi,
        EventKind.TREND: f"the {name} crossed {'above' if up else 'below'} its 200-day average",
        EventKind.RATES: f"the 10-year yield {'jumped' if up else 'dropped'}",
    }.get(e.kind, "").strip()
