"""The body of the brief: one short passage per section, each number said once with its context.

Full tables (every window, every series) live in the appendix; a passage cites what a reader
needs to understand the week and leaves the rest there.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from typing import Any

from generator.analysis import thresholds as th
from generator.analysis.common import Context, ok, val
from generator.analysis.drivers import sector_rows
from generator.analysis.official_rates import OfficialRates
from generator.analysis.registry import spec
from generator.formatting import percentile_rank
from generator.models import Check, Figure, Passage, Prose, SectionKey
from generator.narrative import keys as K
from generator.narrative.words import (
    Facts,
    beat_or_lag,
    cite,
    clauses,
    drawdown_zone,
    gap,
    is_flat,
    join,
    level,
    moved,
    prose,
    rank,
    size,
    volume_words,
    weekday,
)

# The charts the body shows, one per passage: the build may draw them before the story is written.
PERFORMANCE_CHART = "rut-vs-spx"
DRIVERS_CHART = "sectors-week"
BODY_CHARTS = (PERFORMANCE_CHART, DRIVERS_CHART)


def passage(key: SectionKey, paragraphs: Sequence[Prose], **kw: Any) -> Passage:
    """A body passage titled as the section registry names it."""
    return Passage(key, spec(key).title, tuple(paragraphs), **kw)


def performance(ctx: Context, facts: Facts, when: str) -> Passage:
    s = ctx.slots
    b, large, name = s.benchmark, s.large_cap, ctx.name(s.benchmark)
    paragraphs: list[Prose] = []
    week = facts.get(K.ret(b, "1W"))
    text: Prose = ()
    if week is not None:
        told = week.key in facts.said  # the headline gave the week's move

        def versus(forms: tuple[str, str, str]) -> list[Prose]:
            out = []
            for other in dict.fromkeys((large, s.nasdaq)):
                fig = facts.fresh(K.spread(b, other, "1W"))
                if fig is not None:
                    the = f"the {ctx.name(other)}"
                    out.append(gap(fig, f"{forms[0]} {the}", f"{forms[1]} {the}", f"{forms[2]} {the}"))
            return out

        if not told:
            # "rose 3.69% this week, beating the S&P 500 by 2.71 pp and beating the Nasdaq by 2.81 pp."
            first = versus(("beating", "trailing", "in line with"))
            opening = prose(f"The {name} ", moved(week), f" {when}")
            text = prose(opening, ", ", join(first), ".") if first else prose(opening, ".")
        elif others := versus(("beat", "trailed", "moved in line with")):
            # The headline gave the move: the comparisons it left out.
            text = prose(f"The {name} ", join(others), f" {when}.")
    ytd, ytd_spread = facts.fresh(K.ret(b, "YTD")), facts.fresh(K.spread(b, large, "YTD"))
    if ytd is not None:
        verb = "up" if val(ytd) > 0 else "down"
        subject = "it" if text else f"the {name}"
        ytd_text = prose(f"Year to date {subject} is {verb} ", size(ytd))
        if ytd_spread is not None:
            ytd_text = prose(
                ytd_text,
                ", ",
                gap(
                    ytd_spread,
                    f"ahead of the {ctx.name(large)}",
                    f"behind the {ctx.name(large)}",
                    f"level with the {ctx.name(large)}",
                ),
            )
        text = prose(text, " " if text else "", ytd_text, ".")
    if text:
        paragraphs.append(text)
    tilt = _tilt(ctx, facts)
    if tilt:
        paragraphs.append(tilt)
    place = _range(ctx, facts)
    if place:
        paragraphs.append(place)
    return Passage(
        SectionKey.PERFORMANCE, spec(SectionKey.PERFORMANCE).title, tuple(paragraphs), chart=PERFORMANCE_CHART
    )


def _tilt(ctx: Context, facts: Facts) -> Prose:
    s = ctx.slots
    parts: list[Prose] = []
    if len(s.ladder) >= 2:
        fig = facts.get(K.spread(s.ladder[0], s.ladder[-1], "1W"))
        if fig is not None:
            small, big = s.ladder_labels[0].lower(), s.ladder_labels[len(s.ladder) - 1].lower()
            parts.append(
                prose(
                    f"{small.capitalize()} caps ({s.ladder[0]}) ",
                    beat_or_lag(fig, f"{big} caps ({s.ladder[-1]})"),
                )
            )
    fig = facts.get(K.spread(s.value, s.growth, "1W"))
    if fig is not None:
        # Named like the size ladder: "value (IWN) beat growth (IWO) by 0.84 pp".
        ytd = facts.get(K.spread(s.value, s.growth, "YTD"))
        parts.append(
            prose(
                f"value ({s.value}) ",
                beat_or_lag(fig, f"growth ({s.growth})"),
                _against_the_year(fig, ytd, "value"),
            )
        )
    return clauses(parts)


def _against_the_year(week: Figure, ytd: Figure | None, side: str) -> Prose:
    """``, though value trails by 7.54 pp year to date``: a week's lead that runs against the year's
    (or a lag against a year's lead) is read with the year's; a week in line with the year says nothing.
    ``side``: who leads or trails, named ("it" could be either side of the comparison)."""
    if ytd is None or min(abs(val(week)), abs(val(ytd))) < th.IN_LINE_PP or (val(week) > 0) == (val(ytd) > 0):
        return ()
    return prose(f", though {side} {'leads' if val(ytd) > 0 else 'trails'} by ", size(ytd), " year to date")


def _range(ctx: Context, facts: Facts) -> Prose:
    """Where the week ended against the record close and above the 52-week low, minus what the lead
    told; at a record the lead told, the low only when the week ended near it
    (:data:`th.NEAR_52W_LOW_PCT`), as the range is then no news."""
    b, name = ctx.slots.benchmark, ctx.name(ctx.slots.benchmark)
    dist, rec = facts.get(K.record(b, "distance")), facts.get(K.record(b))
    low = facts.fresh(K.low52(b, "distance"))
    if dist is None or rec is None:
        return ()
    at_record, record_told = abs(val(dist)) < 0.005, K.record(b) in facts.said
    text: Prose = ()
    joiner = " and "  # ", and " after the zone's aside
    if dist.key in facts.said or (record_told and at_record):
        pass  # a takeaway told the drawdown, or the record the week ended on
    elif record_told:
        # The record was set earlier in the week: where the week ended against it is still news.
        text = prose(f"The {name} ended the week ", size(dist), " below that record")
    elif at_record:
        text = prose(f"The {name} ends the week at its record close")
    else:
        text = prose(f"The {name} is ", size(dist), " below its record close of ", level(rec))
        when = facts.get(K.record(b, "date"))
        if when is not None:
            text = prose(text, f" ({when.text})")
        dd = val(dist)
        line = th.BEAR_MARKET if dd <= th.BEAR_MARKET else th.CORRECTION if dd <= th.CORRECTION else None
        if line is not None:
            text = prose(text, f", in {drawdown_zone(line)} ({abs(line):.0f}% or more below)")
            joiner = ", and "
    if low is not None and abs(val(low)) < 0.005:
        # The week closed on the low itself (a takeaway did not tell it): no "0.00% above".
        bottom = facts.get(K.low52(b))
        at_low = prose("ended the week at its 52-week low", prose(" of ", level(bottom)) if bottom else ())
        text = prose(text, joiner, at_low) if text else prose(f"The {name} ", at_low)
    elif low is not None and (text or not at_record or val(low) <= th.NEAR_52W_LOW_PCT):
        above = prose(size(low), " above its 52-week low")
        text = prose(text, joiner, above) if text else prose(f"The {name} is ", above)
    return prose(text, ".") if text else ()


def _available(fig: Figure | None) -> Figure | None:
    return fig if fig is not None and ok(fig) else None


def _yield_clause(name: str, level_fig: Figure, change: Figure | None) -> Prose:
    if change is None:
        return prose(f"the {name} is ", level(level_fig))
    if is_flat(change):
        return prose(f"the {name} held at ", level(level_fig), " (", cite(change), " on the week)")
    return prose(f"the {name} ", moved(change), " to ", level(level_fig))


def _rates(ctx: Context, facts: Facts, official: OfficialRates | None) -> Prose:
    """The yields.  The 10-year at the week's close (Yahoo's ^TNX, as the appendix's tables and the
    checklist read it) and the 10-year minus 3-month curve on the same close (the one the bear
    checklist tests), then FRED's 2-year, with FRED's date when it stops before the week's close: one
    10-year level and one curve.  Without that curve, FRED's 10-year minus 2-year with FRED's own
    10-year beside it (the reader would otherwise subtract the 2-year from ^TNX); without ^TNX for
    the week, FRED's 10-year."""
    s = ctx.slots
    parts: list[Prose] = []
    ten_told = K.change(s.rate_10y, "1W") in facts.said  # a takeaway told the 10-year's unusual week
    ten_fig, ten_1w = facts.get(K.yield_level(s.rate_10y)), facts.get(K.change(s.rate_10y, "1W"))
    closing = ten_fig if ten_fig is not None and ten_fig.provenance.last_bar == ctx.anchor else None
    two = _available(official.two_year) if official is not None else None
    if official is None or two is None:
        if ten_fig is not None and not ten_told:
            parts.append(_yield_clause("10-year Treasury yield", ten_fig, ten_1w))
        three_month = facts.get(K.CURVE)
        if three_month is not None:
            parts.append(prose("the 10-year minus 3-month curve is ", cite(three_month), _shape(three_month)))
        return clauses(parts)
    last = two.provenance.last_bar
    # FRED publishes a day late: say so when its last value is before the week's last session, before
    # its yields, so that FRED's figures are not read as the week's last close.
    behind = last is not None and last < ctx.anchor
    through = f"through {weekday(last)} {last.isoformat()} (FRED), " if behind and last else ""
    curve, fred_ten = _available(official.curve_2s10s), _available(official.ten_year)
    verb = "was" if behind else "is"
    yields = _yield_clause("2-year Treasury yield", two, _available(official.two_year_1w))
    three_month = facts.get(K.CURVE)
    if three_month is not None and three_month.provenance.last_bar != ctx.anchor:
        three_month = None
    if closing is not None and three_month is not None:
        ten = _yield_clause("10-year Treasury yield", closing, ten_1w) if not ten_told else ()
        said = prose("the 10-year minus 3-month curve is ", cite(three_month), _shape(three_month))
        parts.append(prose(ten, " and ", said) if ten else said)
        parts.append(prose(through, yields))
        return clauses(parts)
    if closing is not None:
        if not ten_told:
            parts.append(_yield_clause("10-year Treasury yield", closing, ten_1w))
        if curve is not None and fred_ten is not None:
            curve_words = prose(f", the 10-year minus 2-year curve {verb} ", cite(curve), _shape(curve))
            yields = prose(yields, " and, with FRED's 10-year at ", level(fred_ten), curve_words)
        parts.append(prose(through, yields))
        return clauses(parts)
    if not ten_told and fred_ten is not None:
        yields = prose(yields, " and ", _yield_clause("10-year", fred_ten, _available(official.ten_year_1w)))
    parts.append(prose(through, yields))
    if curve is not None:
        parts.append(prose(f"the 10-year minus 2-year curve {verb} ", cite(curve), _shape(curve)))
    return clauses(parts)


def _shape(curve: Figure) -> str:
    return ", inverted" if val(curve) < 0 else ", positively sloped"


def drivers(ctx: Context, facts: Facts, official: OfficialRates | None = None) -> Passage:
    s = ctx.slots
    paragraphs: list[Prose] = []
    rates = _rates(ctx, facts, official)
    if rates:
        paragraphs.append(rates)
    rotation: list[Prose] = []
    rs = facts.get(K.rs_vs50(s.benchmark, s.large_cap))
    if rs is not None:
        side = "above" if val(rs) > 0 else "below"
        rotation.append(
            prose(
                f"The {ctx.name(s.benchmark)}/{ctx.name(s.large_cap)} ratio is ",
                size(rs),
                f" {side} its 50-day average",
            )
        )
    ew = facts.get(K.spread(s.equal_weight, s.cap_weight, "1W"))
    if ew is not None:
        rotation.append(
            prose(
                f"the equal-weight {ctx.name(s.cap_weight)} ({s.equal_weight}) ",
                beat_or_lag(ew, "the cap-weighted index"),
            )
        )
    rotation.extend(_credit(ctx, facts, official))
    if rotation:
        paragraphs.append(clauses(rotation))
    sectors = _sectors(ctx, facts)
    if sectors:
        paragraphs.append(sectors)
    # The sector chart is on the web; the printed passage names the leading and trailing sectors.
    return Passage(
        SectionKey.DRIVERS,
        spec(SectionKey.DRIVERS).title,
        tuple(paragraphs),
        chart=DRIVERS_CHART,
        chart_in_print=False,
    )


def _credit(ctx: Context, facts: Facts, official: OfficialRates | None) -> list[Prose]:
    """The high-yield spread's week and high yield against Treasuries; the latter's month too when
    it runs against the week, as it is what the checklists' credit conditions test: a spread that
    widened beside "High yield ahead of Treasuries over 1 month" met reads as a contradiction unless
    the month is told."""
    s = ctx.slots
    out: list[Prose] = []
    oas = _available(official.hy_oas) if official is not None else None
    spread = _available(official.hy_oas_1w) if official is not None else None
    if oas is not None:
        verb = moved(spread, "widened", "tightened", "was unchanged") if spread is not None else ("is",)
        # In percent, as FRED quotes it and the appendix's table shows it; its change in bp.
        out.append(prose("the high-yield spread (ICE BofA OAS) ", verb, " to ", level(oas)))
    week = facts.get(K.credit(s.high_yield, s.treasury, "1W"))
    month = facts.get(K.credit(s.high_yield, s.treasury, "1M"))
    signs = [-_direction(spread) if oas is not None and spread is not None else 0, _direction(week)]
    against = month is not None and not is_flat(month) and any(d and d != _direction(month) for d in signs)
    pair = f"high yield against Treasuries ({s.high_yield}/{s.treasury}) "
    if month is None or not against:
        if week is not None:
            out.append(prose(pair, moved(week, "gained", "lost", "was flat")))
    elif week is None:
        out.append(prose(pair, moved(month, "gained", "lost"), " over the month"))
    elif _direction(week) == _direction(month):  # only the spread runs against the month
        out.append(
            prose(pair, moved(week, "gained", "lost"), " on the week and ", size(month), " over the month")
        )
    else:
        said = moved(week, "gained", "lost", "was flat")
        out.append(prose(pair, said, " on the week but ", moved(month, "gained", "lost"), " over the month"))
    return out


def _direction(fig: Figure | None) -> int:
    """+1 up, -1 down, 0 flat (inside its unit's noise band) or not available."""
    if fig is None or is_flat(fig):
        return 0
    return 1 if val(fig) > 0 else -1


def _sectors(ctx: Context, facts: Facts) -> Prose:
    live = [r for r in sector_rows(ctx) if ok(r[2])]
    if len(live) < 2:
        return ()
    best, worst = live[0], live[-1]
    # Beside the members' own sectors (Breadth), the funds' weeks differ: say why, once.
    name = ctx.name(ctx.slots.benchmark)
    own = (
        f", which track their own indexes, not the {name}'s members,"
        if facts.optional(K.INDEX_ADVANCERS)
        else ""
    )
    text = prose(
        f"Among the sector funds{own} {best[0]} led at ",  # as configured: not all need be small-cap funds
        cite(best[2]),
        f" and {worst[0]} trailed at ",
        cite(worst[2]),
    )
    b50 = facts.get(K.BREADTH_50)
    if b50 is not None:
        text = prose(
            text,
            "; ",
            cite(b50, f"{int(val(b50))} {b50.text}"),
            " sector funds are above their 50-day average",
        )
    return prose(text, ".")


def risks(ctx: Context, facts: Facts) -> Passage:
    b, name = ctx.slots.benchmark, ctx.name(ctx.slots.benchmark)
    paragraphs: list[Prose] = []
    trend: list[Prose] = []
    for n in (50, 200):
        dist = facts.fresh(K.ma_dist(b, n))
        if dist is not None:
            side = "above" if val(dist) > 0 else "below"
            trend.append(prose(size(dist), f" {side} its {n}-day average"))
    rsi = facts.get(K.rsi(b))
    text: Prose = prose(f"The {name} is ", join(trend), ".") if trend else ()
    if rsi is not None:
        zone = (
            f", overbought ({th.RSI_OVERBOUGHT:.0f} or above)"
            if val(rsi) >= th.RSI_OVERBOUGHT
            else f", oversold ({th.RSI_OVERSOLD:.0f} or below)"
            if val(rsi) <= th.RSI_OVERSOLD
            else ", neither overbought nor oversold"
        )
        if rsi.key not in facts.said:  # else a takeaway told the reading and its zone
            text = prose(text, " " if text else "", "Its 14-day RSI is ", cite(rsi), zone, ".")
    if text:
        paragraphs.append(text)
    vol = _volatility(ctx, facts)
    if vol:
        paragraphs.append(vol)
    volume = facts.optional(K.volume_ratio("IWM"))
    disp, disp_pct = facts.optional(K.DISPERSION), facts.optional(K.DISPERSION_PCTILE)
    extra: list[Prose] = []
    if volume is not None:
        extra.append(prose("IWM traded on ", volume_words(volume)))
    # Dispersion is told when it is unusual for the year, high or low; a middling week's is in the appendix.
    if (
        disp is not None
        and disp_pct is not None
        and abs(percentile_rank(val(disp_pct)) - 50) >= th.NOTABLE_PCTILE_FROM_MIDDLE
    ):
        extra.append(
            prose(
                "sector dispersion was ",
                cite(disp, f"{val(disp):.2f} pp"),
                ", ",
                rank(disp_pct),
                " the past year",
            )
        )
    if extra:
        paragraphs.append(clauses(extra))
    return passage(SectionKey.RISKS, tuple(paragraphs))


def _volatility(ctx: Context, facts: Facts) -> Prose:
    vix, pct = facts.get(K.VIX_LEVEL), facts.get(K.VIX_PCTILE)
    parts: list[Prose] = []
    if vix is not None and vix.key in facts.said:  # a takeaway gave the level
        if pct is not None:
            parts.append(prose("the VIX is ", rank(pct, "close"), " its past year"))
    elif vix is not None:
        zone = (
            f"in stress territory ({th.VIX_STRESS:.0f} or above)"
            if val(vix) >= th.VIX_STRESS
            else f"elevated ({th.VIX_ELEVATED:.0f} or above)"
            if val(vix) >= th.VIX_ELEVATED
            else f"below {th.VIX_ELEVATED:.0f}"
        )
        text = prose("The VIX closed at ", level(vix), f", {zone}")
        if pct is not None:
            text = prose(text, ", ", rank(pct, "close"), " its past year")
        parts.append(text)
    rvx, rvx_pct = facts.get(K.RVX_LEVEL), facts.get(K.RVX_PCTILE)
    if rvx is not None:  # the small caps' own gauge gets the context the VIX gets
        its_year = prose(", ", rank(rvx_pct, "close"), " its past year") if rvx_pct is not None else ()
        parts.append(prose("the small-cap RVX closed at ", level(rvx), its_year))
    b = ctx.slots.benchmark
    rv, lo, hi = facts.get(K.rvol(b)), facts.get(K.rvol(b, "min1y")), facts.get(K.rvol(b, "max1y"))
    if rv is not None and lo is not None and hi is not None and rv.key not in facts.said:  # else a takeaway
        near = th.NEAR_RANGE_END * (val(hi) - val(lo))  # within a tenth of the range from an end
        where = (
            "at the bottom of"
            if val(rv) <= val(lo) + 0.05
            else "at the top of"
            if val(rv) >= val(hi) - 0.05
            else "near the bottom of"
            if val(rv) <= val(lo) + near
            else "near the top of"
            if val(rv) >= val(hi) - near
            else "within"
        )
        parts.append(
            prose(
                "20-day realized volatility ",
                cite(rv, f"{val(rv):.1f}%"),
                f" is {where} its 1-year range (",
                cite(lo, f"{val(lo):.1f}"),
                "–",
                cite(hi, f"{val(hi):.1f}%"),
                ")",
            )
        )
    return clauses(parts)


def outlook(
    bull: Sequence[Check],
    bear: Sequence[Check],
    prev_bull: Sequence[Check],
    prev_bear: Sequence[Check],
    watch: Sequence[Prose],
    told: Set[tuple[str, float]] = frozenset(),
    said: Set[str] = frozenset(),
) -> Passage:
    """The two checklists' counts and what changed since last week.

    ``told``: the crossings the takeaways told, as (figure key, threshold).  A condition that changed
    because its reading crossed that same threshold (the index its 200-day average, the VIX 20, RSI
    70) is not told again; a condition on another threshold of the same reading still is.
    ``said``: the figures the body gave; a condition named here gives its reading unless it is one.
    """
    counts = prose(
        "The bull checklist meets ",
        _count(bull, first=True),
        " and the bear checklist ",
        _count(bear),
        " (conditions met, not forecasts).",
    )
    moved = {c.condition for c in _moved(bull, prev_bull)} | {c.condition for c in _moved(bear, prev_bear)}
    # A figure both checklists test (the 10-year's month, HYG/IEF's) is given with the first named.
    given = set(said)
    first = _minority(bull, "bull", moved, told, given)
    given |= {c.figure.key for c in bull if c.condition in first[1]}
    named = [first, _minority(bear, "bear", moved, told, given)]
    said = {condition for _, conditions in named for condition in conditions}
    if any(words for words, _ in named):
        counts = prose(counts, " ", join([words for words, _ in named if words], " ", " "))
    changed = _changed(bull, prev_bull, "bull") + _changed(bear, prev_bear, "bear")
    untold = [words for crossing, words, what in changed if crossing not in told and what not in said]
    paragraphs = [counts]
    if untold:
        paragraphs.append(prose("Since last week: ", join(untold, "; ", "; "), "."))
    elif not changed and (prev_bull or prev_bear):
        paragraphs.append(("No condition changed since last week.",))
    return passage(SectionKey.OUTLOOK, tuple(paragraphs), items=tuple(watch))


def _count(checks: Sequence[Check], *, first: bool = False) -> str:
    """A checklist's count: ``5 of its 6 conditions (1 without data)`` said first (``none of its 6
    conditions``, not "0 of"), ``1 of 6`` after it."""
    met = sum(c.met is True for c in checks)
    unknown = sum(c.met is None for c in checks)
    said = (
        f"{'none' if met == 0 else met} of its {len(checks)} conditions"
        if first
        else f"{met} of {len(checks)}"
    )
    return said + (f" ({unknown} without data)" if unknown else "")


NAMED_AT_MOST = 2  # a checklist's shorter side (met, or not met) is named when it is this short


def _minority(
    checks: Sequence[Check],
    case: str,
    moved: Set[str],
    told: Set[tuple[str, float]],
    said: Set[str] = frozenset(),
) -> tuple[Prose, frozenset[str]]:
    """The shorter side of a checklist, named so that its count can be read without the full list
    (which is in the appendix of the web and Markdown editions only), each with its reading unless
    the body gave it: ``Bull condition not met: “10-year yield lower than a month ago” (+6 bp).`` or
    ``Bear condition met: “… RSI … at or above 70 (overbought)”, new this week.``  Nothing when that
    side is empty, longer than :data:`NAMED_AT_MOST`, or holds a crossing the takeaways told (the
    reader has it from there); also the conditions named."""
    met = [c for c in checks if c.met is True]
    unmet = [c for c in checks if c.met is False]
    side, word = (met, "met") if len(met) <= len(unmet) else (unmet, "not met")
    if not side or len(side) > NAMED_AT_MOST or any((c.figure.key, c.level) in told for c in side):
        return (), frozenset()
    change = "new this week" if word == "met" else "met last week"
    names = [
        prose(
            f"“{c.condition}”",
            () if c.figure.key in said or not ok(c.figure) else prose(" (", cite(c.figure), ")"),
            f", {change}" if c.condition in moved else "",
        )
        for c in side
    ]
    plural = "s" if len(side) > 1 else ""
    return prose(f"{case.capitalize()} condition{plural} {word}: ", join(names, "; ", "; "), "."), frozenset(
        c.condition for c in side
    )


def _moved(now: Sequence[Check], before: Sequence[Check]) -> list[Check]:
    """The conditions met now and not last week, or the reverse (both weeks with data)."""
    was = {c.condition: c.met for c in before}
    return [c for c in now if None not in (was.get(c.condition), c.met) and was[c.condition] != c.met]


def _changed(
    now: Sequence[Check], before: Sequence[Check], case: str
) -> list[tuple[tuple[str, float | None], Prose, str]]:
    """The conditions met now and not last week, or the reverse: each with its crossing
    (figure key, threshold) and the condition."""
    return [
        (
            (c.figure.key, c.level),
            prose(f"{case} condition “{c.condition}” is {'now met' if c.met else 'no longer met'}"),
            c.condition,
        )
        for c in _moved(now, before)
    ]


def watch_items(ctx: Context, facts: Facts, said: Set[str]) -> list[Prose]:
    """Figures close to a threshold, for next week; a number the body already said is not repeated."""
    b, name = ctx.slots.benchmark, ctx.name(ctx.slots.benchmark)

    def now(fig: Figure) -> Prose:
        return () if fig.key in said else prose(" (now ", cite(fig), ")")

    items: list[Prose] = []
    rsi = facts.get(K.rsi(b))
    if rsi is not None:
        for lvl, word in ((th.RSI_OVERBOUGHT, "overbought"), (th.RSI_OVERSOLD, "oversold")):
            inside = val(rsi) >= lvl if word == "overbought" else val(rsi) <= lvl
            # Inside the zone, the risks passage has said so: only an approach is news for next week.
            if not inside and abs(val(rsi) - lvl) <= th.WATCH_RSI_REACH:
                items.append(
                    prose(
                        f"The {name}'s 14-day RSI is within {th.WATCH_RSI_REACH:.0f} points"
                        f" of the {word} line at {lvl:.0f}",
                        now(rsi),
                        ".",
                    )
                )
    for n in (50, 200):
        dist = facts.get(K.ma_dist(b, n))
        if dist is not None and abs(val(dist)) <= th.WATCH_MA_REACH_PCT:
            # The level to watch is the average itself: said once, here.
            avg = facts.get(K.ma(b, n))
            at = prose(" of ", level(avg)) if avg is not None and avg.key not in said else ()
            items.append(
                prose(
                    f"The {name} is within {th.WATCH_MA_REACH_PCT:.0f}% of its {n}-day average",
                    at,
                    now(dist),
                    ".",
                )
            )
    vix = facts.get(K.VIX_LEVEL)
    if vix is not None:
        for lvl in th.VIX_LEVELS:
            if abs(val(vix) - lvl) <= th.WATCH_VIX_REACH:
                # The side is said: a VIX at 31 is past the line, not approaching it.
                side = "above" if val(vix) >= lvl else "below"
                reach = f"no more than {th.WATCH_VIX_REACH:.0f} points {side} {lvl:.0f}"
                items.append(prose(f"The VIX is {reach}", now(vix), "."))
    curve = facts.get(K.CURVE)
    if curve is not None and abs(val(curve)) <= th.WATCH_CURVE_REACH_BP:
        turn = "inverting" if val(curve) > 0 else "turning positive"
        reach = f"{th.WATCH_CURVE_REACH_BP:.0f} bp of {turn}"
        items.append(prose(f"The 10-year minus 3-month curve is within {reach}", now(curve), "."))
    dd = facts.get(K.record(b, "distance"))
    if dd is not None:
        for lvl, word in ((th.CORRECTION, "correction"), (th.BEAR_MARKET, "bear-market")):
            # From either side: about to enter the zone, or about to climb out of it.
            if 0 < abs(val(dd) - lvl) <= 2.0:
                side = "above" if val(dd) > lvl else "below"
                items.append(
                    prose(
                        f"The {name} is no more than 2 percentage points {side} the {word} line"
                        f" ({abs(lvl):.0f}% below its record close)",
                        now(dd),
                        ".",
                    )
                )
    return items
