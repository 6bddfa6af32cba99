"""The whole index: member breadth and attribution, as figures with provenance (no prose).

Read from the snapshot's :class:`~generator.models.IndexView` (derived from the member panel when
the snapshot was made): the share of members above their 50- and 200-day averages and its change
over the week, new 52-week highs against lows, advancers and decliners, the advance/decline line
and the McClellan oscillator, the median member's week against the index's, and each sector's and
each member's contribution (weight × return) to the week.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator.analysis.breadth import METHOD as SURVIVORSHIP_METHOD
from generator.analysis.breadth import TOP
from generator.analysis.common import Context, Maker, return_figure, shown_difference
from generator.models import Figure, IndexView, Section, Table, Topic
from generator.text import company_name

PREFIX = "index"
SOURCE = "index members"  # provenance symbol: the members of the benchmark


@dataclass(frozen=True)
class Contribution:
    key: str  # a sector's name or a member's symbol
    name: str
    sector: str
    ret: Figure  # return over the week, percent
    contribution: Figure  # percentage points of the index's week


@dataclass(frozen=True)
class IndexFacts:
    """Everything the narrative says about the members; figures are keyed for "Sources and methods"."""

    members: int
    covered: Figure  # members with both closes of the week (text: "of N")
    membership_as_of: str
    from_cache: bool
    advancers: Figure
    decliners: Figure
    above: tuple[tuple[Figure, Figure], ...]  # (share, change) for 50 and 200 days
    new_highs: Figure
    new_lows: Figure
    ad_line: Figure  # net advances over the week's sessions
    mcclellan: Figure
    median: Figure  # the median member's week, percent
    median_gap: Figure  # median minus the index's week, pp
    sectors: tuple[Contribution, ...]  # largest contribution first
    contributors: tuple[Contribution, ...]
    detractors: tuple[Contribution, ...]
    # Every priced member together: what the sectors' contributions add up to, the members' weighted
    # week (by the membership's weights, rescaled over the priced members), not the index's own
    total: Contribution | None = None


def _week_rows(view: IndexView, ctx: Context) -> pd.DataFrame:
    daily = view.daily
    stamps = pd.DatetimeIndex(daily.index)
    return daily[(stamps >= pd.Timestamp(ctx.week_start)) & (stamps <= pd.Timestamp(ctx.week_end))]


def _share(row: pd.Series, n: int) -> float | None:
    eligible = float(row[f"eligible_{n}"])
    return float(row[f"above_{n}"]) / eligible * 100.0 if eligible > 0 else None


TOTAL_METHOD = (
    "Sum of the members' contributions: their weighted return, by the membership's weights rescaled"
    " over the members priced. It differs from the index's own week by the members not priced and"
    " by how far the weights have drifted since the membership's date."
)
UNIVERSES = {"sp600": ("S&P 600", "S&P 600 members")}  # other universes: key → (name, provenance symbol)


def index_facts(
    ctx: Context, view: IndexView | None, *, prefix: str = PREFIX, source: str = SOURCE
) -> IndexFacts | None:
    """None when the snapshot has no member view for this very week (it is then "not covered").

    ``prefix`` and ``source`` key and name the figures of another universe than the benchmark's
    index (the S&P 600: "sp600", "S&P 600 members").
    """
    if view is None or view.week_end != ctx.week_end or view.members.empty:
        return None
    days = _week_rows(view, ctx)
    before = view.daily[pd.DatetimeIndex(view.daily.index) < pd.Timestamp(ctx.week_start)]
    if days.empty or before.empty:
        return None
    last_day = pd.Timestamp(days.index[-1]).date()
    mk = Maker(ctx, (source,), "1W", SURVIVORSHIP_METHOD)
    members = view.members
    base, last = members["base_close"].to_numpy(float), members["last_close"].to_numpy(float)
    ok = np.isfinite(base) & np.isfinite(last) & (base > 0)
    ret = np.where(ok, last / np.where(ok, base, 1.0) - 1.0, np.nan) * 100.0
    n, covered = len(members), int(ok.sum())

    def fig(key: str, label: str, value: float | None, unit: str, **kw: object) -> Figure:
        return mk(f"{prefix}.{key}", label, value, unit, last_bar=last_day, **kw)  # type: ignore[arg-type]

    above = []
    for window in (50, 200):
        now, prev = _share(days.iloc[-1], window), _share(before.iloc[-1], window)
        share = fig(f"above{window}", f"Members above their {window}-day average", now, "pct")
        change = fig(
            f"above{window}.1W",
            f"Members above their {window}-day average, change on the week",
            None if now is None or prev is None else now - prev,
            "pp",
        )
        above.append((share, change))
    bench = return_figure(ctx, ctx.slots.benchmark, "1W")
    median = float(np.median(ret[ok])) if covered else None
    gap = None if median is None or bench.value is None else shown_difference(median, bench.value)
    weights = members["weight"].to_numpy(float)
    share_w = np.where(ok, weights, 0.0)
    share_w = share_w / share_w.sum() if share_w.sum() > 0 else share_w
    contribution = np.where(ok, share_w * np.nan_to_num(ret), 0.0)  # pp of the covered members' week
    frame = pd.DataFrame(
        {
            "name": members["name"].map(company_name),  # the holdings file's capitals, as written
            "sector": members["sector"],
            "ret": ret,
            "contribution": contribution,
            "ok": ok,
        },
        index=members.index,
    )[ok]
    by_sector = frame.groupby("sector", sort=True).agg(contribution=("contribution", "sum"))
    by_sector["weight"] = pd.Series(share_w[ok], index=frame.index).groupby(frame["sector"]).sum()
    by_sector = by_sector.sort_values("contribution", ascending=False, kind="stable")

    def sector(name: str, row: pd.Series) -> Contribution:
        r = float(row["contribution"] / row["weight"]) if row["weight"] > 0 else None
        return Contribution(
            name,
            name,
            name,
            fig(f"sector.{name}.1W", f"{name} members, weighted return", r, "pct"),
            fig(
                f"sector.{name}.contribution",
                f"{name}, contribution to the index's week",
                float(row["contribution"]),
                "pp",
            ),
        )

    def member(symbol: str, row: pd.Series) -> Contribution:
        return Contribution(
            symbol,
            str(row["name"]),
            str(row["sector"]),
            fig(f"member.{symbol}.1W", f"{row['name']} ({symbol}), return", float(row["ret"]), "pct"),
            fig(
                f"member.{symbol}.contribution",
                f"{row['name']} ({symbol}), contribution",
                float(row["contribution"]),
                "pp",
            ),
        )

    ranked = frame.sort_values("contribution", ascending=False, kind="stable")
    weighted = float(contribution.sum())
    return IndexFacts(
        members=n,
        covered=fig("covered", "Members with prices for the week", covered, "count", text=f"of {n}"),
        membership_as_of=view.membership_as_of.isoformat(),
        from_cache=view.from_cache,
        advancers=fig("advancers", "Members up on the week", int((ret[ok] > 0).sum()), "count"),
        decliners=fig("decliners", "Members down on the week", int((ret[ok] < 0).sum()), "count"),
        above=tuple(above),
        new_highs=fig(
            "highs",
            "Members at a new 52-week closing high during the week",
            int(members["new_high"].sum()),
            "count",
        ),
        new_lows=fig(
            "lows",
            "Members at a new 52-week closing low during the week",
            int(members["new_low"].sum()),
            "count",
        ),
        ad_line=fig(
            "adline.1W", "Advance/decline line, change on the week", float(days["net"].sum()), "count"
        ),
        mcclellan=fig("mcclellan", "McClellan oscillator", _finite(days["mcclellan"].iloc[-1]), "index"),
        median=fig("median.1W", "Median member, return on the week", median, "pct"),
        median_gap=fig("median-gap.1W", "Median member minus the index, on the week", gap, "pp"),
        sectors=tuple(sector(str(k), r) for k, r in by_sector.iterrows()),
        contributors=tuple(
            member(str(k), r) for k, r in ranked[ranked["contribution"] > 0].head(TOP).iterrows()
        ),
        detractors=tuple(
            member(str(k), r) for k, r in ranked[ranked["contribution"] < 0].iloc[::-1].head(TOP).iterrows()
        ),
        total=Contribution(
            "all",
            f"All {covered} priced members",
            "",
            fig("members.1W", "Priced members, weighted return", weighted, "pct", method=TOTAL_METHOD),
            fig("members.contribution", "Priced members, contribution", weighted, "pp", method=TOTAL_METHOD),
        )
        if covered
        else None,
    )


def universe_facts(ctx: Context, views: dict[str, IndexView] | None) -> tuple[tuple[str, IndexFacts], ...]:
    """The other universes' member facts for this week, by name ("S&P 600"); the unknown are left out."""
    found = []
    for key, view in sorted((views or {}).items()):
        if key not in UNIVERSES:
            continue
        name, source = UNIVERSES[key]
        facts = index_facts(ctx, view, prefix=key, source=source)
        if facts is not None:
            found.append((name, facts))
    return tuple(found)


def _finite(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def index_section(facts: IndexFacts | None) -> Section:
    """The appendix's full tables: every sector's contribution, the top contributors and detractors."""
    if facts is None:
        return Section("breadth", "Breadth and leadership", ())
    sectors = Table(
        "Sector contributions to the week (members' weight × return)",
        ("Sector", "Return", "Contribution"),
        tuple((c.name, c.ret, c.contribution) for c in (*facts.sectors, *filter(None, [facts.total]))),
    )
    movers = Table(
        "Top contributors and detractors",
        ("Member", "Sector", "Return", "Contribution"),
        tuple(
            (f"{c.name} ({c.key})", c.sector, c.ret, c.contribution)
            for c in (*facts.contributors, *facts.detractors)
        ),
    )
    figures = (
        facts.covered,
        facts.advancers,
        facts.decliners,
        *(f for pair in facts.above for f in pair),
        facts.new_highs,
        facts.new_lows,
        facts.ad_line,
        facts.mcclellan,
        facts.median,
        facts.median_gap,
    )
    return Section(
        "breadth",
        "Breadth and leadership",
        (
            Topic("breadth", "Member breadth", figures),
            Topic("sectors", "Sector attribution", table=sectors),
            Topic("movers", "Top contributors and detractors", table=movers),
        ),
    )
