"""What changed since last week: the figures that moved most and the thresholds crossed.

Both weeks are computed by the same code: last week's figures come from the series cut at
last week's end, so nothing here looks ahead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from generator.analysis.common import Context, ok, val
from generator.analysis.risks import OVERBOUGHT, OVERSOLD
from generator.formatting import fmt
from generator.models import Figure, Provenance, Section, Table, Topic

TOP_MOVERS = 8
# How a change is expressed and what counts as one "unit" of change when ranking movers.
#   unit → (change unit, scale, relative?)
SCALES: dict[str, tuple[str, float, bool]] = {
    "pct": ("pp", 1.0, False),
    "pp": ("pp", 1.0, False),
    "bp": ("bp", 10.0, False),
    "yield": ("bp", 10.0, False),  # yields change in bp: ×100 below
    "index": ("level", 5.0, False),
    "pctile": ("pp", 10.0, False),
    "level": ("pct", 1.0, True),
    "ratio": ("pct", 1.0, True),
    "x": ("level", 0.25, False),
}
VOL_LEVELS = ("vix.level", "rvx.level", "rvol20.")
FLOW_WINDOWS = {"1W", "1M", "3M", "QTD", "1Y", "weekly", "monthly", "daily"}


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


def _trackable(fig: Figure, benchmark: str) -> bool:
    """State-like figures only: levels, distances, ratios; returns only for the benchmark's year to date."""
    if fig.unit not in SCALES or fig.key.startswith(("change.", "volume.", "season.", "bestweek.")):
        return False
    if fig.key.startswith(("return.", "spread.")) and not fig.key.startswith(
        (f"return.{benchmark}.", f"spread.{benchmark}-")
    ):
        return False
    return fig.provenance.window not in FLOW_WINDOWS


@dataclass(frozen=True)
class Mover:
    key: str
    score: float
    prev: Figure
    now: Figure
    change: Figure


def _change(prev: Figure, now: Figure, week_end: date) -> tuple[float, Figure]:
    unit, scale, relative = SCALES[now.unit]
    if now.key.startswith(VOL_LEVELS):  # volatility levels move in (percentage) points
        unit, scale, relative = "pp", 1.0, False
    a, b = val(prev), val(now)
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
    prov = Provenance(p.symbols, "week over week", week_end, p.provider, how, prev.provenance.last_bar)
    fig = Figure(f"wow.{now.key}", f"{now.label}, change on the week", delta, unit, prov)
    return abs(delta) / scale, fig


def movers(
    prev: Mapping[str, Figure], now: Mapping[str, Figure], week_end: date, benchmark: str
) -> list[Mover]:
    out = []
    for key, fig in now.items():
        old = prev.get(key)
        if old is None or not (ok(fig) and ok(old)) or not _trackable(fig, benchmark):
            continue
        score, change = _change(old, fig, week_end)
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


# ---------------------------------------------------------------------------
# Thresholds
# ---------------------------------------------------------------------------


def _crossed(prev: Figure | None, now: Figure | None, level: float) -> int:
    """+1 when the value rose through ``level``, -1 when it fell through it, else 0."""
    if not (ok(prev) and ok(now)):
        return 0
    a, b = val(prev), val(now)  # type: ignore[arg-type]
    return 1 if a < level <= b else -1 if a >= level > b else 0


def thresholds(
    ctx: Context, prev: Mapping[str, Figure], now: Mapping[str, Figure]
) -> list[tuple[str, Figure]]:
    s = ctx.slots
    b, name = s.benchmark, ctx.name(s.benchmark)
    out: list[tuple[str, Figure]] = []

    def cross(key: str, level: float, up: str, down: str) -> None:
        d = _crossed(prev.get(key), now.get(key), level)
        if d:
            out.append(((up if d > 0 else down).format(fmt(now[key])), now[key]))

    cross(
        f"rsi14.{b}",
        OVERBOUGHT,
        "RSI(14) rose to {} and crossed into overbought (70)",
        "RSI(14) fell back below 70 to {}",
    )
    cross(
        f"rsi14.{b}", OVERSOLD, "RSI(14) recovered above 30 to {}", "RSI(14) fell to {}, into oversold (30)"
    )
    for n in (50, 200):
        cross(
            f"ma{n}.{b}.dist",
            1e-12,
            f"{name} crossed above its {n}-day average ({{}})",
            f"{name} crossed below its {n}-day average ({{}})",
        )
    cross(
        f"rs.{b}-{s.large_cap}.vs50",
        1e-12,
        "Relative strength moved above its 50-day average ({})",
        "Relative strength slipped below its 50-day average ({})",
    )
    cross("vix.level", 20.0, "VIX rose above 20 to {}", "VIX fell below 20 to {}")
    cross("vix.level", 30.0, "VIX rose above 30 to {}", "VIX fell below 30 to {}")
    cross("curve.10y-3m", 0.0, "The 10y−3m curve uninverted ({})", "The 10y−3m curve inverted ({})")
    out.extend(_streak_change(ctx, prev, now))
    record = now.get(f"record.{b}.week")
    if record is not None and record.text.startswith("new record"):
        out.append((f"{name} set a {record.text}", now.get(f"record.{b}", record)))
    crossing = now.get(f"cross.{b}")
    old = prev.get(f"cross.{b}")
    if (
        crossing is not None
        and old is not None
        and crossing.available
        and old.available
        and crossing.text != old.text
    ):
        out.append((f"{name}: {crossing.text}", crossing))
    return out


def _streak_change(
    ctx: Context, prev: Mapping[str, Figure], now: Mapping[str, Figure]
) -> list[tuple[str, Figure]]:
    key = f"streak.{ctx.slots.benchmark}-{ctx.slots.large_cap}"
    a, b = prev.get(key), now.get(key)
    if not (ok(a) and ok(b)) or a is None or b is None:
        return []
    start_a, start_b = prev.get(f"{key}.start"), now.get(f"{key}.start")
    same = start_a is not None and start_b is not None and start_a.text == start_b.text and a.text == b.text
    large = ctx.name(ctx.slots.large_cap)
    if same and val(b) > val(a):
        return [(f"The {b.text} streak against the {large} extended from {fmt(a)} to {fmt(b)}", b)]
    if not same and val(a) >= 2:
        return [(f"The {fmt(a)} {a.text} streak against the {large} ended; now {fmt(b)} {b.text}", b)]
    return []


def changes_section(
    ctx: Context, prev_ctx: Context | None, prev: Mapping[str, Figure], now: Mapping[str, Figure]
) -> Section:
    title = "What changed since last week"
    if prev_ctx is None or not prev:
        topic = Topic("moved-most", "Biggest moves", "Last week's figures are not available from this data.")
        return Section("changes", title, "Last week's figures are not available from this data.", (topic,))
    top = movers(prev, now, ctx.week_end, ctx.slots.benchmark)
    rows = tuple((m.now.label, replace(m.prev, key=f"lastweek.{m.key}"), m.now, m.change) for m in top)
    table = Table(
        f"Week ending {prev_ctx.week_end.isoformat()} against week ending {ctx.week_end.isoformat()}",
        ("Figure", "Last week", "This week", "Change"),
        rows,
    )
    if top:
        biggest = top[0]
        moved_reading = (
            f"The biggest move: {biggest.now.label}, from {fmt(biggest.prev)} to {fmt(biggest.now)}."
        )
    else:
        moved_reading = "No figure can be compared with last week."
    crossed = thresholds(ctx, prev, now)
    if crossed:
        cross_reading = ". ".join(c[0] for c in crossed) + "."
    else:
        cross_reading = "No tracked threshold was crossed this week."
    topics = (
        Topic("moved-most", "Biggest moves", moved_reading, table=table),
        Topic("thresholds", "Thresholds crossed", cross_reading, tuple(c[1] for c in crossed)),
    )
    lede = f"{len(crossed)} threshold{'s' if len(crossed) != 1 else ''} crossed. {moved_reading}"
    return Section("changes", title, lede, topics)
