"""What changed since last week: the figures that moved most and the thresholds crossed.

Both weeks are computed by the same code: last week's figures come from the series cut at
last week's end, so nothing here looks ahead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from generator import formatting
from generator.analysis import registry
from generator.analysis.common import Context, ok, val
from generator.models import Figure, Provenance, Section, Table, Topic, Unit

TOP_MOVERS = 8
# How a change is expressed and what counts as one "unit" of change when ranking movers.
#   unit → (change unit, scale, relative?)
SCALES: dict[str, tuple[str, float, bool]] = {
    "pct": ("pp", 1.0, False),
    "pp": ("pp", 1.0, False),
    "bp": ("bp", 10.0, False),
    "yield": ("bp", 10.0, False),  # yields change in bp: ×100 below
    "index": ("index_points", 5.0, False),
    "pctile": ("pp", 10.0, False),
    "level": ("pct", 1.0, True),
    "ratio": ("pct", 1.0, True),
    "x": ("points", 0.25, False),
}
# Volatility levels move by their difference, not a percent change: an implied-volatility index
# (VIX, RVX) in points, as it is quoted and as the body says it ("rose 6.31 points"), realized
# volatility (a percentage) in percentage points.
VOL_INDEXES = ("vix.level", "rvx.level")
REALIZED_VOL = ("rvol20.",)


def tracked_keys(ctx: Context) -> dict[str, float]:
    """The figures a reader follows week to week, as the section registry declares them."""
    return registry.tracked_keys(ctx.slots)


def collect(sections: Iterable[Section]) -> dict[str, Figure]:
    """Every figure of the sections by key (first occurrence wins)."""
    out: dict[str, Figure] = {}
    for section in sections:
        for topic in section.topics:
            figs = list(topic.figures)
            if topic.table is not None:
                figs += [c for row in topic.table.rows for c in row if isinstance(c, Figure)]
            figs += [c.figure for c in topic.checks]
            for f in figs:
                out.setdefault(f.key, f)
    return out


@dataclass(frozen=True)
class Mover:
    key: str
    score: float
    prev: Figure
    now: Figure
    change: Figure


# The decimals a figure of each unit is printed with (generator.formatting): a difference is taken
# between the printed values, so the table's columns add up ("+0.51%", "+3.01%": "+2.50 pp").
PRINTED_DECIMALS = {"pct": 2, "pp": 2, "yield": 2, "level": 2, "x": 2, "index": 1, "pctile": 0, "bp": 0}


def _printed(value: float, unit: str) -> float:
    """``value`` as it is printed: rounded as its unit's format rounds it (a percentile as its rank)."""
    if unit == "pctile":
        return float(formatting.percentile_rank(value))
    decimals = PRINTED_DECIMALS.get(unit)
    return value if decimals is None else float(f"{value:.{decimals}f}")


def _change(prev: Figure, now: Figure, scale: float) -> tuple[float, Figure]:
    unit, _, relative = SCALES[now.unit]
    if now.key.startswith(VOL_INDEXES):
        unit, relative = "points", False
    elif now.key.startswith(REALIZED_VOL):
        unit, relative = "pp", False
    a, b = val(prev), val(now)
    if not relative:  # a difference of the two printed values
        a, b = _printed(a, now.unit), _printed(b, now.unit)
    if relative:
        delta = (b / a - 1.0) * 100.0 if a else 0.0
        how = "Percent change of the value from last week to this week."
    elif now.unit == "yield":
        delta = (b - a) * 100.0
        how = "This week's yield minus last week's, in basis points."
    else:
        delta = b - a
        how = "This week's value minus last week's."
    p = now.provenance
    prov = Provenance(p.symbols, "week over week", p.last_bar, p.provider, how, prev.provenance.last_bar)
    fig = Figure(f"wow.{now.key}", f"{now.label}, change on the week", delta, Unit(unit), prov)
    return abs(delta) / scale, fig


def resets(prev_ctx: Context, ctx: Context) -> tuple[str, ...]:
    """Windows that restarted between the two weeks: a new year resets YTD, a new quarter QTD.

    A reset is not a move: last week's year-to-date and this week's are measured from different bases.
    """
    a, b = prev_ctx.anchor, ctx.anchor
    out = []
    if a.year != b.year:
        out.append(".YTD")
    if (a.year, (a.month - 1) // 3) != (b.year, (b.month - 1) // 3):
        out.append(".QTD")
    return tuple(out)


def movers(
    ctx: Context, prev_ctx: Context, prev: Mapping[str, Figure], now: Mapping[str, Figure]
) -> list[Mover]:
    """The tracked figures that moved most this week, largest first (in units of :func:`tracked_keys`)."""
    out = []
    reset = resets(prev_ctx, ctx)
    for key, scale in tracked_keys(ctx).items():
        if key.endswith(reset) and reset:
            continue
        fig, old = now.get(key), prev.get(key)
        if fig is None or old is None or not (ok(fig) and ok(old)) or fig.unit not in SCALES:
            continue
        score, change = _change(old, fig, scale)
        out.append(Mover(key, score, old, fig, change))
    out.sort(key=lambda m: (-m.score, m.key))
    seen: set[tuple[str, float, float]] = set()  # the same number under two names is shown once
    unique = []
    for m in out:
        ident = (m.now.unit, round(val(m.prev), 9), round(val(m.now), 9))
        if ident not in seen:
            seen.add(ident)
            unique.append(m)
    return unique[:TOP_MOVERS]


def changes_section(
    ctx: Context, prev_ctx: Context | None, prev: Mapping[str, Figure], now: Mapping[str, Figure]
) -> Section:
    """The tracked figures that moved most, last week against this week (a table for the appendix).

    Threshold crossings, records and streaks are news, not bookkeeping: they are events of
    :mod:`generator.analysis.newsvalue`, worded by the narrative.
    """
    title = "What changed since last week"
    if prev_ctx is None or not prev:
        return Section("changes", title, ())
    top = movers(ctx, prev_ctx, prev, now)
    rows = tuple((_row_label(m.now), replace(m.prev, key=f"lastweek.{m.key}"), m.now, m.change) for m in top)
    table = Table(
        # Named by the closes compared: a week cut short by a holiday ends on its last session.
        f"What changed: the week to {prev_ctx.anchor.isoformat()}"
        f" against the week to {ctx.anchor.isoformat()}",
        ("Figure", "Last week", "This week", "Change"),
        rows,
    )
    return Section("changes", title, (Topic("moved-most", "Biggest moves", table=table),))


def _row_label(figure: Figure) -> str:
    """A yield's row names its series: the passages may give the same tenor from FRED, whose
    daily close and dates differ from the market's ("10-year Treasury yield (^TNX)")."""
    symbols = figure.provenance.symbols
    if figure.unit == "yield" and len(symbols) == 1 and symbols[0] not in figure.label:
        return f"{figure.label} ({symbols[0]})"
    return figure.label
