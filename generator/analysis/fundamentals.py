"""Member fundamentals: how many of the index's members lose money, and their P/E including the losses.

Both halves are pure:

- :func:`aggregate` sums the members' quotes (market value, trailing EPS, price) into the snapshot's
  :class:`~generator.models.MemberFundamentals` when the snapshot is made (the quotes stay in the cache);
- :func:`fundamentals_facts` turns that block into figures with provenance for the brief.

The P/E including losses is the covered members' total market value over their total trailing
earnings, losses netted against profits: the P/E of the members as if they were one company.  It is
the market-value-weighted harmonic mean of the members' own P/Es, negative ones included,
Σ cap / Σ (cap / PE), so one member with earnings near zero cannot blow it up as it would an
arithmetic mean.  When the members lose money in total it has no meaning and is not given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from generator.analysis import thresholds as th
from generator.analysis.common import Context
from generator.models import Figure, MemberFundamentals, Provenance, Unit

PREFIX = "fundamentals"
SOURCE = "index members"  # provenance symbol, as for the members' breadth
WINDOW = "TTM"  # trailing twelve months
LOOKAHEAD_DAYS = 7  # a refresh dated more than this after the week's end belongs to a later week
METHOD = (
    "From a monthly refresh of Yahoo Finance's equity screener, read through yfinance on the date shown:"
    " each member's market value, trailing 12-month earnings per share and price, as Yahoo reports them."
    " A member's trailing earnings are its market value × EPS / price; a member without a positive"
    " market value, an EPS or a positive price is left out, and the coverage is stated. Loss-making"
    " members have negative trailing earnings. The P/E including losses is the covered members' total"
    " market value divided by their total trailing earnings, losses netted against profits (the"
    " market-value-weighted harmonic mean of their P/Es, negative ones included); it is not given when"
    " the members lose money in total. The P/E of the profitable members leaves the loss-makers out."
    " Today's members with Yahoo's latest reported earnings: not a history."
)


@dataclass(frozen=True)
class MemberQuote:
    """One member as Yahoo's screener reports it; None where a value is missing or not a finite number."""

    market_cap: float | None
    eps: float | None  # trailing 12-month earnings per share
    price: float | None

    def earnings(self) -> float | None:
        """Trailing earnings: market value × EPS / price; None when the member is not covered."""
        cap, eps, price = self.market_cap, self.eps, self.price
        if cap is None or eps is None or price is None:
            return None
        if not (math.isfinite(cap) and math.isfinite(eps) and math.isfinite(price)) or cap <= 0 or price <= 0:
            return None
        return cap * eps / price


def aggregate(
    members: Sequence[str],
    quotes: Mapping[str, MemberQuote],
    *,
    as_of: date,
    membership_as_of: date,
    source: str,
    complete: bool = True,
) -> MemberFundamentals:
    """The members' sums: market value and trailing earnings, with and without the loss-makers.

    ``members`` are the membership's Yahoo symbols (a symbol listed twice counts once); a member
    without a quote, or whose quote lacks a value, is not covered.
    """
    names = list(dict.fromkeys(members))
    covered = loss_makers = 0
    cap_sum = earnings_sum = profit_cap = profits = loss_cap = 0.0
    for symbol in names:
        quote = quotes.get(symbol)
        earned = quote.earnings() if quote is not None else None
        if quote is None or earned is None or quote.market_cap is None:
            continue
        covered += 1
        cap_sum += quote.market_cap
        earnings_sum += earned
        if earned > 0:
            profit_cap += quote.market_cap
            profits += earned
        elif earned < 0:
            loss_makers += 1
            loss_cap += quote.market_cap
    return MemberFundamentals(
        as_of=as_of,
        membership_as_of=membership_as_of,
        source=source,
        members=len(names),
        covered=covered,
        loss_makers=loss_makers,
        market_cap=cap_sum,
        earnings=earnings_sum,
        profit_market_cap=profit_cap,
        profits=profits,
        loss_market_cap=loss_cap,
        complete=complete,
    )


def pe(market_cap: float, earnings: float) -> float | None:
    """Market value over earnings; None unless both are finite and the earnings positive."""
    if not (math.isfinite(market_cap) and math.isfinite(earnings)) or earnings <= 0 or market_cap <= 0:
        return None
    return market_cap / earnings


def _share(part: float, whole: float) -> float | None:
    return part / whole * 100.0 if whole > 0 else None


# -- the brief's figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundamentalsFacts:
    """The members' fundamentals as figures (keyed ``fundamentals.…``), with the refresh they come from."""

    covered: Figure  # members with data (text: "of M")
    loss_share: Figure  # loss-making members, percent of those covered
    loss_cap_share: Figure  # the loss-makers' share of the covered market value, percent
    pe: Figure  # P/E including losses (None when the members lose money in total)
    pe_profitable: Figure  # P/E of the profitable members alone
    members: int
    as_of: date
    membership_as_of: date
    source: str
    complete: bool
    net_loss: bool  # the covered members lose money in total

    def figures(self) -> tuple[Figure, ...]:
        return (self.covered, self.loss_share, self.loss_cap_share, self.pe, self.pe_profitable)


@dataclass(frozen=True)
class FundamentalsGap:
    """Why the member fundamentals are not shown this week; the narrative words it."""

    reason: str  # "none" (no refresh in the data), "stale", "later" (dated after the week), "coverage"
    as_of: date | None = None
    covered: int = 0
    members: int = 0


def fundamentals_facts(ctx: Context, block: MemberFundamentals | None) -> FundamentalsFacts | FundamentalsGap:
    """The figures, or why there are none: no refresh, one too old or too new, too few members."""
    if block is None or block.members == 0:
        return FundamentalsGap("none")
    if (ctx.week_end - block.as_of).days > th.FUNDAMENTALS_MAX_AGE_DAYS:
        return FundamentalsGap("stale", block.as_of)
    if block.as_of > ctx.week_end + timedelta(days=LOOKAHEAD_DAYS):
        return FundamentalsGap("later", block.as_of)
    if block.covered < th.FUNDAMENTALS_MIN_COVERAGE * block.members:
        return FundamentalsGap("coverage", block.as_of, block.covered, block.members)
    prov = Provenance((SOURCE,), WINDOW, block.as_of, block.source, METHOD)

    def fig(key: str, label: str, value: float | None, unit: Unit, text: str = "", note: str = "") -> Figure:
        clean = value if value is not None and math.isfinite(value) else None
        return Figure(f"{PREFIX}.{key}", label, clean, unit, prov, text=text, note=note)

    net_loss = block.earnings <= 0
    return FundamentalsFacts(
        covered=fig(
            "covered", "Members with earnings data", block.covered, Unit.COUNT, f"of {block.members}"
        ),
        loss_share=fig(
            "loss-share", "Loss-making members", _share(block.loss_makers, block.covered), Unit.PCT
        ),
        loss_cap_share=fig(
            "loss-cap-share",
            "Loss-making members, share of market value",
            _share(block.loss_market_cap, block.market_cap),
            Unit.PCT,
        ),
        pe=fig(
            "pe",
            "Members' P/E including losses (cap-weighted, harmonic)",
            pe(block.market_cap, block.earnings),
            Unit.X,
            note="the members lose money in total" if net_loss else "",
        ),
        pe_profitable=fig(
            "pe-profitable",
            "Profitable members' P/E (cap-weighted, harmonic)",
            pe(block.profit_market_cap, block.profits),
            Unit.X,
        ),
        members=block.members,
        as_of=block.as_of,
        membership_as_of=block.membership_as_of,
        source=block.source,
        complete=block.complete,
        net_loss=net_loss,
    )
