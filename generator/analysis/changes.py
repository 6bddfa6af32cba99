"""What changed since last week: the figures that moved most and the thresholds crossed.

Both weeks are computed by the same code: last week's figures come from the series cut at
last week's end, so nothing here looks ahead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

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
    "index": ("points", 5.0, False),
    "pctile": ("pp", 10.0, False),
    "level": ("pct", 1.0, True),
    "ratio": ("pct", 1.0, True),
    "x": ("points", 0.25, False),
}
VOL_LEVELS = ("vix.level", "rvx.level", "rvol20.")


def tracked_keys(ctx: Context) -> dict[str, float]:
    """The figures a reader follows week to week, each with the change that counts as one unit of move.

    Year-to-date return and spread, momentum, the 10-year yield and the curve, volatility, credit and
    trend distances.  Range bookkeeping (52-week high/low levels and distances, average levels) is
    left out: it moves with the index and would crowd out the figures that carry news.
    """
    s = ctx.slots
    b, large = s.benchmark, s.large_cap
    return {
        f"return.{b}.YTD": 1.0,
        f"spread.{b}-{large}.YTD": 1.0,
        f"rsi14.{b}": 5.0,
        f"yield.{s.rate_10y}": 10.0,
        "curve.10y-3m": 10.0,
        "vix.level": 2.0,
        "rvx.level": 2.0,
        f"rvol20.{b}": 5.0,
        f"credit.{s.high_yield}-{s.treasury}": 0.5,
        f"rs.{b}-{large}.vs50": 1.0,
        f"ma50.{b}.dist": 1.5,
        f"ma200.{b}.dist": 1.5,
        f"drawdown.{b}.record": 1.5,
    }


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


def _change(prev: Figure, now: Figure, scale: float) -> tuple[float, Figure]:
    unit, _, relative = SCALES[now.unit]
    if now.key.startswith(VOL_LEVELS):  # volatility levels move in (percentage) points
        unit, relative = "pp", False
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
    prov = Provenance(p.symbols, "week over week", p.last_bar, p.provider, how, prev.provenance.last_bar)
    fig = Figure(f"wow.{now.key}", f"{now.label}, change on the week", delta, unit, prov)
    return abs(delta) / scale, fig


def movers(ctx: Context, prev: Mapping[str, Figure], now: Mapping[str, Figure]) -> list[Mover]:
    """The tracked figures that moved most this week, largest first (in units of :func:`tracked_keys`)."""
    out = []
    for key, scale in tracked_keys(ctx).items():
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
        run = fmt(a).replace(" days", "-day").replace(" day", "-day")
        return [(f"The {run} {a.text} streak against the {large} ended; now {fmt(b)} {b.text}", b)]
    return []


def _move_words(m: Mover) -> str:
    return f"{m.now.label} from {fmt(m.prev)} to {fmt(m.now)}"


def _moves_reading(top: list[Mover]) -> str:
    if not top:
        return "No figure can be compared with last week."
    words = [_move_words(m) for m in top[:3]]
    head = "Largest moves, scaled by how much each figure usually moves" if len(words) > 1 else "Largest move"
    return f"{head}: {'; '.join(words)}."


def changes_section(
    ctx: Context, prev_ctx: Context | None, prev: Mapping[str, Figure], now: Mapping[str, Figure]
) -> Section:
    title = "What changed since last week"
    if prev_ctx is None or not prev:
        topic = Topic("moved-most", "Biggest moves", "Last week's figures are not available from this data.")
        return Section("changes", title, "Last week's figures are not available from this data.", (topic,))
    top = movers(ctx, prev, now)
    rows = tuple((m.now.label, replace(m.prev, key=f"lastweek.{m.key}"), m.now, m.change) for m in top)
    table = Table(
        f"Week ending {prev_ctx.week_end.isoformat()} against week ending {ctx.week_end.isoformat()}",
        ("Figure", "Last week", "This week", "Change"),
        rows,
    )
    moved_reading = _moves_reading(top)
    crossed = thresholds(ctx, prev, now)
    if crossed:
        cross_reading = ". ".join(c[0] for c in crossed) + "."
    else:
        cross_reading = "No tracked threshold was crossed this week."
    topics = (
        Topic("moved-most", "Biggest moves", moved_reading, table=table),
        Topic("thresholds", "Thresholds crossed", cross_reading, tuple(c[1] for c in crossed)),
    )
    lede = f"{len(crossed)} threshold{'s' if len(crossed) != 1 else ''} crossed."
    if top:
        lede += f" The largest move: {_move_words(top[0])}."
    return Section("changes", title, lede, topics)
