"""Outlook: a bull and a bear checklist built from this week's figures, and what to watch next week.

Conditions are read off figures computed elsewhere; nothing here forecasts, and the watch list
names only thresholds and events that appear in the data or in this week's headlines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from generator.analysis.common import NA_TEXT, Context, Maker, ok, val
from generator.analysis.risks import OVERBOUGHT, OVERSOLD, breadth_counts
from generator.formatting import fmt, fmt_value
from generator.models import Check, Figure, Headline, Section, Table, Topic

EVENT_THEMES = ("fed", "economy", "earnings")
EVENT_WORDS = re.compile(
    r"\b(fomc|fed meeting|minutes|cpi|ppi|inflation report|jobs report|payrolls|gdp|retail sales|"
    r"earnings|testimony|powell|rate decision|next week|on (monday|tuesday|wednesday|thursday|friday))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Rule:
    key: str
    condition: str
    test: Callable[[float], bool]


def _get(ctx: Context, figures: Mapping[str, Figure], key: str, label: str) -> Figure:
    """The figure under ``key``; else why its family is not available (e.g. credit.HYG-IEF for .1M)."""
    fig = figures.get(key)
    if fig is not None:
        return fig
    family = ".".join(key.split(".")[:2])
    kin = next((f for k, f in figures.items() if k == family or k.startswith(family + ".")), None)
    if kin is not None and not ok(kin):
        return replace(kin, key=key, label=label, value=None, text="")
    return Maker(ctx, (), "", "Not computed for this brief.").na(key, label, "text", "not in this data")


def _check(ctx: Context, figures: Mapping[str, Figure], rule: Rule) -> Check:
    fig = _get(ctx, figures, rule.key, rule.condition)
    return Check(rule.condition, fig, rule.test(val(fig)) if ok(fig) else None)


def _rules(ctx: Context) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
    s = ctx.slots
    b, name = s.benchmark, ctx.name(s.benchmark)
    credit = f"credit.{s.high_yield}-{s.treasury}.1M"
    bull = (
        Rule(f"ma200.{b}.dist", f"{name} above its 200-day average", lambda v: v > 0),
        Rule(
            f"rs.{b}-{s.large_cap}.vs50",
            f"{name}/{ctx.name(s.large_cap)} ratio above its 50-day average",
            lambda v: v > 0,
        ),
        Rule(credit, f"Credit improving: {s.high_yield}/{s.treasury} up over 1 month", lambda v: v > 0),
        Rule(f"change.{s.rate_10y}.1M", "10-year yield lower than a month ago", lambda v: v < 0),
        Rule("vix.level", "VIX below 20", lambda v: v < 20),
    )
    bear = (
        Rule(
            f"rsi14.{b}",
            f"{name} RSI(14) at or above {OVERBOUGHT:.0f} (overbought)",
            lambda v: v >= OVERBOUGHT,
        ),
        Rule(f"change.{s.rate_10y}.1M", "10-year yield up 25 bp or more over 1 month", lambda v: v >= 25),
        Rule("curve.10y-3m", "Yield curve (10y−3m) inverted", lambda v: v < 0),
        Rule(f"drawdown.{b}.record", f"{name} more than 10% below its record close", lambda v: v < -10),
        Rule(
            "dispersion.sectors.pctile1y",
            "Sector dispersion high (80th percentile of the last year or more)",
            lambda v: v >= 80,
        ),
        Rule(credit, f"Credit weakening: {s.high_yield}/{s.treasury} down over 1 month", lambda v: v < 0),
    )
    return bull, bear


def _breadth_check(ctx: Context, figures: Mapping[str, Figure]) -> Check:
    condition = "More than half of the small-cap sector ETFs above their 50-day average"
    fig = _get(ctx, figures, "breadth.50d", condition)
    above, total, _ = breadth_counts(ctx, 50)
    return Check(condition, fig, above > total / 2 if ok(fig) and total else None)


def _summary(checks: Sequence[Check], case: str) -> str:
    met = sum(c.met is True for c in checks)
    unknown = sum(c.met is None for c in checks)
    known = len(checks) - unknown
    text = f"{met} of {known} {case} conditions met"
    if unknown:
        text += f" ({unknown} {NA_TEXT})"
    return text + "."


def case_topics(ctx: Context, figures: Mapping[str, Figure]) -> tuple[Topic, Topic]:
    bull_rules, bear_rules = _rules(ctx)
    bull = (*(_check(ctx, figures, r) for r in bull_rules), _breadth_check(ctx, figures))
    bear = tuple(_check(ctx, figures, r) for r in bear_rules)
    return (
        Topic("bull-case", "Bull case", _summary(bull, "bull-case"), checks=bull),
        Topic("bear-case", "Bear case", _summary(bear, "bear-case"), checks=bear),
    )


# ---------------------------------------------------------------------------
# What to watch
# ---------------------------------------------------------------------------


def _near(value: float, level: float, reach: float) -> bool:
    return abs(value - level) <= reach


def watch_rows(ctx: Context, figures: Mapping[str, Figure]) -> list[tuple[str, Figure, str]]:
    s = ctx.slots
    b, name = s.benchmark, ctx.name(s.benchmark)
    rows: list[tuple[str, Figure, str]] = []

    def fig(key: str) -> Figure | None:
        f = figures.get(key)
        return f if ok(f) else None

    if (rsi := fig(f"rsi14.{b}")) is not None:
        r = val(rsi)
        for level, word in ((OVERBOUGHT, "overbought"), (OVERSOLD, "oversold")):
            if _near(r, level, 5):
                high = word == "overbought"
                gap = f"{abs(level - r):.1f} points"
                if (r >= level) if high else (r <= level):
                    text = f"RSI {fmt(rsi)}, {word}: {gap} {'above' if high else 'below'} {level:.0f}"
                else:
                    text = f"RSI {fmt(rsi)}, {gap} {'below' if high else 'above'} {word} ({level:.0f})"
                rows.append((text, rsi, f"{level:.0f}"))
    for n in (50, 200):
        if (dist := fig(f"ma{n}.{b}.dist")) is not None and abs(val(dist)) <= 2:
            move = "fall" if val(dist) > 0 else "rise"
            rows.append(
                (
                    f"{name} {fmt_value(abs(val(dist)), 'pct', signed=False)} {dist.text} "
                    f"its {n}-day average: "
                    f"a {move} of that size would cross it",
                    dist,
                    f"{n}-day average",
                )
            )
    if (vix := fig("vix.level")) is not None:
        for level in (20.0, 30.0):
            if _near(val(vix), level, 2):
                rows.append(
                    (
                        f"VIX {fmt(vix)}, {abs(val(vix) - level):.2f} points from {level:.0f}",
                        vix,
                        f"{level:.0f}",
                    )
                )
    if (curve := fig("curve.10y-3m")) is not None and abs(val(curve)) <= 15:
        rows.append((f"10y−3m curve at {fmt(curve)}, close to inverting or uninverting", curve, "0 bp"))
    if (rec := fig(f"record.{b}.distance")) is not None and -2 < val(rec) < -0.005:
        rows.append(
            (f"{name} {fmt_value(-val(rec), 'pct', signed=False)} below its record close", rec, "record")
        )
    if (low := fig(f"low52.{b}.distance")) is not None and val(low) < 3:
        rows.append(
            (f"{name} {fmt_value(val(low), 'pct', signed=False)} above its 52-week low", low, "52-week low")
        )
    if (rs := fig(f"rs.{b}-{s.large_cap}.vs50")) is not None and abs(val(rs)) <= 1:
        rows.append((f"Relative strength {fmt(rs)} from its 50-day average", rs, "50-day average"))
    if (ten := fig(f"change.{s.rate_10y}.1M")) is not None and 15 <= val(ten) < 25:
        rows.append((f"10-year yield {fmt(ten)} over a month, near the 25 bp bear threshold", ten, "+25 bp"))
    return rows


def event_headlines(headlines: Sequence[Headline], n: int = 4) -> tuple[Headline, ...]:
    chosen = [h for h in headlines if set(h.themes) & set(EVENT_THEMES) and EVENT_WORDS.search(h.title)]
    chosen.sort(key=lambda h: (-h.score, h.title))
    return tuple(chosen[:n])


def watch_topic(ctx: Context, figures: Mapping[str, Figure], headlines: Sequence[Headline]) -> Topic:
    rows = watch_rows(ctx, figures)
    events = event_headlines(headlines)
    if rows:
        reading = (
            f"{len(rows)} figure{'s are' if len(rows) != 1 else ' is'} close to a threshold: "
            + "; ".join(r[0] for r in rows)
            + "."
        )
    else:
        reading = "No tracked figure is close to a threshold."
    if events:
        reading += (
            " Events named in this week's headlines are listed below;"
            " this brief keeps no calendar of its own."
        )
    table = Table("Close to a threshold", ("Watch", "Now", "Threshold"), tuple(rows)) if rows else None
    return Topic(
        "watch", "What to watch next week", reading, tuple(r[1] for r in rows), table=table, headlines=events
    )


def outlook_section(ctx: Context, figures: Mapping[str, Figure], headlines: Sequence[Headline]) -> Section:
    bull, bear = case_topics(ctx, figures)
    lede = f"Bull case: {bull.reading[:-1]}; bear case: {bear.reading[:-1]}. Conditions, not forecasts."
    return Section("outlook", "Outlook", lede, (bull, bear, watch_topic(ctx, figures, headlines)))
