"""Breadth and leadership: how many members took part, and which sectors and names made the week."""

from __future__ import annotations

from collections.abc import Set

from generator.analysis.common import Context
from generator.analysis.index_view import Contribution, IndexFacts
from generator.analysis.registry import spec
from generator.models import Cite, Figure, Passage, Prose, SectionKey, Table
from generator.narrative.words import cite, clauses, join, prose, size

BROAD_GAP_PP = 0.75  # the median member within this of the index: a broad move


def _n(fig: Figure) -> str:
    return f"{int(fig.value or 0):,}"


def _share(fig: Figure) -> str:
    return f"{fig.value:.0f}%" if fig.value is not None else ""


def _points(fig: Figure) -> str:
    value = fig.value or 0.0
    # A share's change in percentage points, as the brief says every other difference of percents.
    return f"{'up' if value > 0 else 'down'} {abs(value):.0f} pp" if round(value) else "unchanged"


def _coverage(f: IndexFacts) -> Prose:
    stated = f"membership of {f.membership_as_of}" + (", the last cached file" if f.from_cache else "")
    return prose("(", cite(f.covered, f"{_n(f.covered)} of {f.members:,} members priced"), f"; {stated})")


def _participation(f: IndexFacts, said: Set[str]) -> Prose:
    up, down = cite(f.advancers, _n(f.advancers)), cite(f.decliners, _n(f.decliners))
    moves = prose("Of the index's members, ", up, " rose and ", down, " fell on the week ", _coverage(f))
    parts: list[Prose] = [moves]
    shares = []
    for share, change in f.above:
        if share.value is None:
            continue
        window = share.label.split("their ")[1].split("-day")[0]
        if share.key in said:  # a takeaway gave the share: its change on the week only
            if change.value is not None:
                shares.append(
                    prose(f"the share above their {window}-day average is ", cite(change, _points(change)))
                )
            continue
        text = prose(cite(share, _share(share)), f" are above their {window}-day average")
        if change.value is not None:
            text = prose(text, " (", cite(change, _points(change)), ")")
        shares.append(text)
    if shares:
        parts.append(join(shares, " and "))
    more = "outnumbered" if (f.new_highs.value or 0) >= (f.new_lows.value or 0) else "trailed"
    highs, lows = cite(f.new_highs, _n(f.new_highs)), cite(f.new_lows, _n(f.new_lows))
    parts.append(prose(f"new 52-week highs {more} lows ", highs, " to ", lows))
    return clauses(parts)


def _median(ctx: Context, f: IndexFacts) -> Prose:
    if f.median.value is None or f.median_gap.value is None:
        return ()
    gap = f.median_gap.value
    if abs(gap) < BROAD_GAP_PP:
        how = prose("within ", size(f.median_gap), " of the index: a broad move")
    elif gap < 0:
        how = prose(size(f.median_gap), " behind the index: the larger members carried the week")
    else:
        how = prose(size(f.median_gap), " ahead of the index: the smaller members led")
    verb = "rose" if f.median.value > 0 else "fell"
    text = prose(f"The median member {verb} ", size(f.median), ", ", how)
    if f.mcclellan.value is not None:
        tone = "positive" if f.mcclellan.value > 0 else "negative"
        text = prose(
            text,
            "; the McClellan oscillator is ",
            cite(f.mcclellan, f"{f.mcclellan.value:+.1f}"),
            f", {tone}",
        )
    return prose(text, ".")


def _who(c: Contribution) -> str:
    return c.name if c.key == c.name else f"{c.name} ({c.key})"


def _leaders(ctx: Context, f: IndexFacts) -> Prose:
    if len(f.sectors) < 2:
        return ()
    best, worst = f.sectors[0], f.sectors[-1]
    most, least = _added(best.contribution), _added(worst.contribution)
    text = prose(
        f"{best.name} added the most to the week (", most, f"), {worst.name} the least (", least, ")"
    )
    if f.contributors:
        text = prose(text, "; the largest single contributor was ", *_member(f.contributors[0]))
    if f.detractors:
        text = prose(text, ", the largest detractor ", *_member(f.detractors[0]))
    return prose(text, ".")


def _added(contribution: Figure) -> Cite:
    return cite(contribution, f"{contribution.value or 0:+.2f} pp")


def _member(c: Contribution) -> Prose:
    """ "SBCO, up 17.08% (+0.31 pp)": the member's week and what it added to the index's."""
    return prose(f"{_who(c)}, ", moved_word(c.ret), " ", size(c.ret), " (", _added(c.contribution), ")")


def moved_word(fig: Figure) -> str:
    return "up" if (fig.value or 0) > 0 else "down"


def _other(ctx: Context, name: str, o: IndexFacts, f: IndexFacts, said: Set[str]) -> Prose:
    """Another universe beside the index: its share above the 200-day average, its median member."""
    share, mine = o.above[-1][0], f.above[-1][0]
    parts: list[Prose] = []
    if share.value is not None:
        index = ctx.name(ctx.slots.benchmark)
        against = (
            prose(" (", cite(mine, _share(mine)), f" in the {index})")
            if mine.value is not None and mine.key not in said
            else ()
        )
        parts.append(
            prose(cite(share, _share(share)), " of members are above their 200-day average", against)
        )
    if o.median.value is not None:
        value = o.median.value
        verb = "rose" if value > 0 else "fell" if value < 0 else "was flat"
        amount = cite(o.median, f"{abs(value):.2f}%") if value else ()
        parts.append(prose(f"the median member {verb} ", amount))
    if not parts:
        return ()
    coverage = prose(
        " (", cite(o.covered, f"{_n(o.covered)} of {o.members:,} members priced"),
        f"; membership of {o.membership_as_of})",
    )  # fmt: skip
    return prose(f"In the {name}, ", join(parts, "; "), coverage, ".")


def passage(
    ctx: Context,
    f: IndexFacts | None,
    others: tuple[tuple[str, IndexFacts], ...] = (),
    said: Set[str] = frozenset(),
) -> Passage | None:
    """``said``: the figure keys the headline and takeaways cite (not repeated here)."""
    if f is None:
        return None
    paragraphs = [p for p in (_participation(f, said), _median(ctx, f), _leaders(ctx, f)) if p]
    paragraphs += [p for p in (_other(ctx, name, o, f, said) for name, o in others) if p]
    # The lead contributor and detractor are in the sentence: the table (web and Markdown) lists the next.
    rows = tuple((_who(c), c.ret, c.contribution) for c in (*f.contributors[1:4], *f.detractors[1:4]))
    table = Table(
        "The next largest contributors and detractors (weight × return)",
        ("Member", "Week", "Contribution"),
        rows,
    )
    key = SectionKey.BREADTH
    return Passage(key, spec(key).title, tuple(paragraphs), table=table if table.rows else None)
