"""Valuation in words: the funds' multiples as their provider reports them, the gap between small and
large with both numbers and their dates, and the members' own P/E counting their losses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from generator.analysis import thresholds as th
from generator.analysis.common import Context, ok, val
from generator.analysis.fundamentals import FundamentalsFacts, FundamentalsGap
from generator.analysis.registry import spec
from generator.analysis.valuation import fund_name
from generator.models import Figure, Passage, Prose, SectionKey
from generator.narrative import keys as K
from generator.narrative.words import Facts, cite, join, prose

MEMBERS = "the share of loss-making members and the index's P/E including losses"


def multiple(fig: Figure, digits: int = 1) -> str:
    """``17.8×``; price-to-book ratios, being small, with two decimals (``2.05×``)."""
    return f"{val(fig):.{digits}f}×"


def _relative(figures: Sequence[Figure]) -> Figure | None:
    rel = next((f for f in figures if f.key.endswith(".trailingPE") and "-" in f.key.split(".")[1]), None)
    return rel if rel is not None and ok(rel) else None


def _smalls(ctx: Context, facts: Facts, first: str) -> list[tuple[str, Figure]]:
    """The small-cap funds with a trailing P/E, the one the gap is measured on first."""
    symbols = [first] + [
        i.symbol
        for i in ctx.config.with_role("small_cap")
        if not i.symbol.startswith("^") and i.symbol != first
    ]
    found = [(s, facts.optional(K.valuation(s, "trailingPE"))) for s in symbols]
    return [(s, f) for s, f in found if f is not None]


def _dates(funds: Sequence[tuple[str, Figure]]) -> str:
    """``as reported on 2026-11-21`` when every fund's is of one day, else each fund's day."""
    days: dict[str, date | None] = {s: f.provenance.last_bar for s, f in funds}
    if len(set(days.values())) == 1:
        day = next(iter(days.values()))
        return f"as reported on {day.isoformat()}" if day else "as reported"
    return (
        "as reported ("
        + ", ".join(f"{s} on {d.isoformat() if d else 'an unstated day'}" for s, d in days.items())
        + ")"
    )


def _gap_words(rel: Figure) -> str:
    """The relative multiple once, as a reader says it: "35% below", "12% above", "about level with"
    (its ratio, 0.65, is in the appendix)."""
    pct = (val(rel) - 1.0) * 100.0
    if abs(pct) < th.PE_LEVEL_PCT:
        return "about level with"
    return f"{abs(pct):.0f}% {'below' if pct < 0 else 'above'}"


def _funds(ctx: Context, facts: Facts, figures: Sequence[Figure]) -> Prose:
    rel = _relative(figures)
    if rel is None:
        return ()
    small, large = rel.provenance.symbols
    smalls = _smalls(ctx, facts, small)
    pl = facts.optional(K.valuation(large, "trailingPE"))
    if not smalls or smalls[0][0] != small or pl is None:
        return ()
    text = prose(
        "Trailing P/Es: ",
        join([prose(f"{s} ", cite(f, multiple(f))) for s, f in smalls]),
        " against ",
        cite(pl, multiple(pl)),
        f" for the {fund_name(ctx, large)} ({large}), {_dates([*smalls, (large, pl)])}.",
        f" {small}'s multiple is ",
        cite(rel, _gap_words(rel)),
        f" {large}'s",
    )
    books = [(s, facts.optional(K.valuation(s, "priceToBook"))) for s, _ in smalls]
    large_book = facts.optional(K.valuation(large, "priceToBook"))
    shown = [prose(f"{s} ", cite(f, multiple(f, 2))) for s, f in books if f is not None]
    if shown and large_book is not None:
        text = prose(
            text,
            "; on book value, ",
            join(shown),
            f" against {large} ",
            cite(large_book, multiple(large_book, 2)),
        )
    # What the provider's fund-level figures include is in Methods, not repeated every week.
    return prose(text, ".")


def _members(f: FundamentalsFacts, *, beside_funds: bool = False) -> list[Prose]:
    """The members' P/E including losses and their loss-makers.  ``beside_funds``: the funds' reported
    multiples precede it, and the reader is told why the two differ (another basis, not a contradiction)."""
    pe, profitable = f.pe if ok(f.pe) else None, f.pe_profitable if ok(f.pe_profitable) else None
    alone = (
        prose("; the profitable members alone ", cite(profitable, multiple(profitable))) if profitable else ()
    )
    sentences: list[Prose] = []
    if pe is not None:
        sentences.append(
            prose(
                "Summed over its members, losses included, the index traded at ",
                cite(pe, multiple(pe)),
                " trailing earnings (their total market value over their total earnings",
                "; the funds' multiples above are their provider's, on another basis" if beside_funds else "",
                ")",
                alone,
            )
        )
    elif f.net_loss:
        sentences.append(
            prose(
                "Over the last twelve months the index's members lost money in total, so their P/E"
                " including losses has no meaning",
                alone,
            )
        )
    n = int(f.covered.value or 0)
    coverage = prose(
        " (from ", cite(f.covered, f"{n:,} of {f.members:,} members"),
        f"; market values and earnings as of the refresh of {f.as_of.isoformat()}",
        ", which stopped early" if not f.complete else "", ")",
    )  # fmt: skip
    if ok(f.loss_share):
        share = prose(
            "Loss-making members (negative earnings over the last twelve months) are ",
            cite(f.loss_share, f"{val(f.loss_share):.0f}%"),
            " of the members with data",
        )
        if ok(f.loss_cap_share) and f"{val(f.loss_cap_share):.0f}" == f"{val(f.loss_share):.0f}":
            # one number for both shares as shown: "31% of the members … and hold the same share …"
            share = prose(share, " and hold the same share of their combined market value")
        elif ok(f.loss_cap_share):
            share = prose(
                share,
                " and hold ",
                cite(f.loss_cap_share, f"{val(f.loss_cap_share):.0f}%"),
                " of their combined market value",
            )
        sentences.append(share)
    if sentences:
        sentences[-1] = prose(sentences[-1], coverage)
    return sentences


def join_sentences(sentences: Sequence[Prose]) -> Prose:
    """Sentences written without their full stop, as one paragraph."""
    return prose(*(prose(" " if i else "", s, ".") for i, s in enumerate(sentences)))


def passage(
    ctx: Context,
    facts: Facts,
    figures: Sequence[Figure],
    members: FundamentalsFacts | FundamentalsGap | None = None,
) -> Passage | None:
    """Fund multiples as reported, with the gap and both dates; the members' P/E including losses."""
    paragraphs = [_funds(ctx, facts, figures)]
    if isinstance(members, FundamentalsFacts):
        paragraphs.append(join_sentences(_members(members, beside_funds=bool(paragraphs[0]))))
    kept = tuple(p for p in paragraphs if p)
    return Passage(SectionKey.VALUATION, spec(SectionKey.VALUATION).title, kept) if kept else None


def not_covered(
    ctx: Context,
    figures: Sequence[Figure],
    members: FundamentalsFacts | FundamentalsGap | None,
    ratios_later: date | None = None,
) -> list[str]:
    """What the valuation passage cannot say this week, with the reason."""
    out = []
    if _relative(figures) is None:
        large = ctx.config.valuation.large_fund or "a large-cap fund"
        why = (
            f"the fund ratios in this data, read {ratios_later.isoformat()}, are after this week"
            if ratios_later is not None
            else f"no trailing P/E for both a small-cap fund and {large} in this data"
        )
        out.append(f"the small- against large-cap valuation gap ({why})")
    if isinstance(members, FundamentalsGap):
        day = members.as_of.isoformat() if members.as_of else ""
        why = {
            "none": "no member fundamentals in this data",
            "stale": f"the last refresh, of {day}, is more than {th.FUNDAMENTALS_MAX_AGE_DAYS} days old",
            "later": f"the refresh in this data, of {day}, is after this week",
            "coverage": f"only {members.covered:,} of {members.members:,} members have earnings data",
        }[members.reason]
        out.append(f"{MEMBERS} ({why})")
    return out
