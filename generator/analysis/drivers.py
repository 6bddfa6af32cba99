"""Drivers: rates, rotation, style and size, credit, sectors, technicals, seasonality, volume."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from generator.analysis.common import (
    NA_TEXT,
    Context,
    Maker,
    bp_change_figure,
    join_words,
    level_figure,
    moved,
    ok,
    ratio_series,
    return_figure,
    rounded_sign,
    row,
    series_move,
    show,
    spread_figure,
    val,
)
from generator.analysis.risks import breadth_figures, cross_figure, ma_figures
from generator.formatting import fmt
from generator.models import Figure, Headline, Section, Table, Topic

THEMES = {
    "rates": ("rates", "fed"),
    "rotation": ("rotation",),
    "style-size": ("small_caps",),
    "credit": ("credit", "banks"),
    "sectors": ("sectors", "banks", "earnings"),
    "technicals": ("technicals",),
    "seasonality": (),
    "volume": ("volatility",),
}


def related(headlines: Sequence[Headline], themes: Sequence[str], n: int = 3) -> tuple[Headline, ...]:
    """Up to ``n`` headlines for the first themes that have any, without repeats."""
    try:
        from generator.analysis.headlines import headlines_for
    except ImportError:  # pragma: no cover - the headlines stage is optional for the analysis
        headlines_for = _headlines_for_fallback
    picked: dict[tuple[str, str], Headline] = {}
    for theme in themes:
        for h in headlines_for(theme, headlines, n):
            picked.setdefault((h.guid or h.link or "", h.title), h)
    return tuple(picked.values())[:n]


def topic(
    key: str, title: str, reading: str, figures: tuple[Figure, ...], headlines: Sequence[Headline], **kw: Any
) -> Topic:
    """A driver topic with the headlines of its themes attached."""
    return Topic(key, title, reading, figures, headlines=related(headlines, THEMES[key]), **kw)


def _headlines_for_fallback(theme: str, headlines: Sequence[Headline], n: int = 3) -> tuple[Headline, ...]:
    chosen = [h for h in headlines if theme in h.themes]
    chosen.sort(key=lambda h: (-h.score, h.title))
    return tuple(chosen[:n])


# ---------------------------------------------------------------------------
# Rates
# ---------------------------------------------------------------------------


def tenors(ctx: Context) -> tuple[tuple[str, str], ...]:
    s = ctx.slots
    return (("3-month", s.rate_3m), ("5-year", s.rate_5y), ("10-year", s.rate_10y), ("30-year", s.rate_30y))


def yield_figure(ctx: Context, symbol: str) -> Figure:
    method = "Last close of the reporting week, in percent."
    return level_figure(ctx, f"yield.{symbol}", symbol, "yield", ctx.name(symbol), method)


def curve_figure(ctx: Context) -> Figure:
    long, short = ctx.slots.rate_10y, ctx.slots.rate_3m
    key, label = "curve.10y-3m", "Yield curve, 10-year minus 3-month"
    mk = Maker(ctx, (long, short), "last close", CURVE_METHOD)
    stop = mk.blocked(key, label, "bp")
    if stop is not None:
        return stop
    value = (float(ctx.closes[long].iloc[-1]) - float(ctx.closes[short].iloc[-1])) * 100.0
    return mk(key, label, value, "bp", text="inverted" if value < 0 else "positive")


def rates_topic(ctx: Context, headlines: Sequence[Headline]) -> Topic:
    def cells(sym: str) -> tuple[Figure, Figure, Figure]:
        return yield_figure(ctx, sym), bp_change_figure(ctx, sym, "1W"), bp_change_figure(ctx, sym, "1M")

    rows = tuple(row(f"{tenor} ({sym})", *cells(sym)) for tenor, sym in tenors(ctx))
    table = Table("Treasury yields", ("Tenor", "Yield", "1W change", "1M change"), rows)
    y10, c10w, c10m = cells(ctx.slots.rate_10y)
    y3, c3w, _ = cells(ctx.slots.rate_3m)
    curve = curve_figure(ctx)
    if ok(y10):
        reading = f"The 10-year yield {moved(c10w)} this week to {fmt(y10)} ({show(c10m)} over 1 month)."
    else:
        reading = f"The 10-year yield is {show(y10)}."
    reading += f" The 3-month bill yield is {show(y3)}."
    if ok(curve):
        shape = "inverted (short rates above long rates)" if val(curve) < 0 else "positively sloped"
        reading += f" The 10y−3m curve is {fmt(curve)}: {shape}."
    else:
        reading += f" The 10y−3m curve is {show(curve)}."
    figures = (y10, c10w, c10m, y3, c3w, curve)
    return topic("rates", "Rates", reading, figures, headlines, table=table, chart="rates")


def rs_figures(ctx: Context) -> tuple[Figure, ...]:
    bench, large = ctx.slots.benchmark, ctx.slots.large_cap
    key, label = f"rs.{bench}-{large}", f"Relative strength, {ctx.name(bench)} / {ctx.name(large)}"
    method = RS_METHOD
    mk = Maker(ctx, (bench, large), "50d", method)
    stop = mk.blocked(key, label, "ratio")
    if stop is not None:
        return (stop,)
    ratio = ratio_series(ctx, bench, large)
    if len(ratio) < 50:
        return (mk.na(key, label, "ratio", "fewer than 50 common days"),)
    avg, last = float(np.mean(ratio.to_numpy()[-50:])), float(ratio.iloc[-1])
    dist, first = (last / avg - 1.0) * 100.0, ratio.index[-50].date()
    return (
        mk(key, label, last, "ratio", window="last close"),
        mk(f"{key}.ma50", f"{label}, 50-day average", avg, "ratio", first_bar=first),
        mk(
            f"{key}.vs50", f"{label} vs its 50-day average", dist, "pct", first_bar=first,
            method="Ratio relative to its 50-day average, in percent.", text="above" if dist > 0 else "below",
        ),
    )  # fmt: skip


def rotation_topic(ctx: Context, headlines: Sequence[Headline]) -> Topic:
    rs = rs_figures(ctx)
    eq, cw = ctx.slots.equal_weight, ctx.slots.cap_weight
    ew1w, ew1m = spread_figure(ctx, eq, cw, "1W"), spread_figure(ctx, eq, cw, "1M")
    bench, large = ctx.name(ctx.slots.benchmark), ctx.name(ctx.slots.large_cap)
    if len(rs) == 3:
        side = "above" if rs[2].text == "above" else "below"
        lean = "toward" if side == "above" else "away from"
        reading = (
            f"The {bench}/{large} ratio is {side} its 50-day average ({fmt(rs[2])}): "
            f"money is rotating {lean} small caps on this measure."
        )
    else:
        reading = f"The {bench}/{large} ratio is {show(rs[0])}."
    if ok(ew1w):
        word = {1: "beat", -1: "lagged", 0: "matched"}[rounded_sign(ew1w)]
        reading += f" Equal weight {word} cap weight this week ({fmt(ew1w)}; 1 month {show(ew1m)})."
    else:
        reading += f" Equal weight against cap weight is {show(ew1w)}."
    return topic("rotation", "Rotation", reading, (*rs, ew1w, ew1m), headlines, chart="relative-strength")


def style_size_topic(ctx: Context, headlines: Sequence[Headline]) -> Topic:
    s = ctx.slots
    vg1w, vg1m = spread_figure(ctx, s.value, s.growth, "1W"), spread_figure(ctx, s.value, s.growth, "1M")
    small, big = (s.ladder[0], s.ladder[-1]) if s.ladder else (s.benchmark, s.large_cap)
    mm1w, mm1m = spread_figure(ctx, small, big, "1W"), spread_figure(ctx, small, big, "1M")
    parts = []
    if ok(vg1w):
        parts.append(f"{'value over growth' if val(vg1w) >= 0 else 'growth over value'} ({fmt(vg1w)})")
    if ok(mm1w):
        parts.append(f"{'micro over mega' if val(mm1w) >= 0 else 'mega over micro'} ({fmt(mm1w)})")
    if parts:
        reading = (
            f"This week's tilt: {join_words(parts)}. "
            f"Over 1 month: value−growth {show(vg1m)}, micro−mega {show(mm1m)}."
        )
    else:
        reading = f"Style and size spreads are {NA_TEXT}."
    return topic("style-size", "Style and size tilt", reading, (vg1w, vg1m, mm1w, mm1m), headlines)


def credit_figures(ctx: Context) -> tuple[Figure, ...]:
    hy, tr = ctx.slots.high_yield, ctx.slots.treasury
    key, label = f"credit.{hy}-{tr}", f"Credit ratio {hy}/{tr}"
    mk = Maker(ctx, (hy, tr), "last close", CREDIT_METHOD)
    stop = mk.blocked(key, label, "ratio")
    if stop is not None:
        return (stop,)
    ratio = ratio_series(ctx, hy, tr)
    figs = [mk(key, label, float(ratio.iloc[-1]), "ratio")]
    for window in ("1W", "1M"):
        wmk = Maker(ctx, (hy, tr), window, CREDIT_CHANGE_METHOD)
        wkey, wlabel = f"{key}.{window}", f"{label}, change over {window}"
        mv = series_move(ctx, ratio, window, f"{hy}/{tr}")
        if isinstance(mv, str):
            figs.append(wmk.na(wkey, wlabel, "pct", mv))
        else:
            figs.append(wmk(wkey, wlabel, mv.pct, "pct", first_bar=mv.first_bar))
    return tuple(figs)


def credit_topic(ctx: Context, headlines: Sequence[Headline]) -> Topic:
    figs = credit_figures(ctx)
    hy = ctx.slots.high_yield
    hy1w = return_figure(ctx, hy, "1W")
    if len(figs) == 3 and ok(figs[1]):
        tone = {1: "improved", -1: "weakened", 0: "held steady"}[rounded_sign(figs[1])]
        reading = (
            f"Credit {tone} this week: high yield against Treasuries {fmt(figs[1])} "
            f"(1 month {show(figs[2])}); {hy} itself {moved(hy1w)}."
        )
    else:
        reading = f"Credit (high yield against Treasuries) is {show(figs[0])}."
    return topic("credit", "Credit", reading, (*figs, hy1w), headlines)


# ---------------------------------------------------------------------------
# Sectors
# ---------------------------------------------------------------------------


def sector_rows(ctx: Context) -> list[tuple[str, str, Figure, Figure]]:
    """(label, symbol, 1W, 1M) for each sector ETF, best 1W first; unavailable ones last."""
    rows = []
    for inst in ctx.config.with_role("sector"):
        label = f"{inst.sector or inst.name} ({inst.symbol})"
        rows.append(
            (label, inst.symbol, return_figure(ctx, inst.symbol, "1W"), return_figure(ctx, inst.symbol, "1M"))
        )
    rows.sort(key=lambda r: (not ok(r[2]), -(r[2].value or 0.0) if ok(r[2]) else 0.0, r[0]))
    return rows


def sectors_topic(ctx: Context, headlines: Sequence[Headline]) -> Topic:
    rows = sector_rows(ctx)
    caption = "Small-cap sector ETFs, sorted by 1-week return"
    table = (
        Table(caption, ("Sector", "1W", "1M"), tuple(row(r[0], r[2], r[3]) for r in rows)) if rows else None
    )
    live = [r for r in rows if ok(r[2])]
    if len(live) >= 2:
        k = min(2, len(live) // 2)
        lead = join_words([f"{r[0]} {fmt(r[2])}" for r in live[:k]])
        lag = join_words([f"{r[0]} {fmt(r[2])}" for r in reversed(live[-k:])])
        reading = f"Leaders this week: {lead}. Laggards: {lag}."
        figures = tuple(r[2] for r in (*live[:k], *live[-k:]))
    else:
        reading, figures = f"Sector returns are {NA_TEXT}.", tuple(r[2] for r in rows[:1])
    title = "Sector leaders and laggards"
    return topic("sectors", title, reading, figures, headlines, table=table, chart="sectors-week")


# ---------------------------------------------------------------------------
# Technicals, seasonality, volume
# ---------------------------------------------------------------------------


def technicals_topic(ctx: Context, headlines: Sequence[Headline]) -> Topic:
    name = ctx.name(ctx.slots.benchmark)
    ma50, ma200 = ma_figures(ctx, 50), ma_figures(ctx, 200)
    cross = cross_figure(ctx)
    b50, b200 = breadth_figures(ctx, 50), breadth_figures(ctx, 200)
    parts = []
    for figs, n in ((ma50, 50), (ma200, 200)):
        dist = figs[-1]
        parts.append(
            f"{dist.text} its {n}-day average ({fmt(dist)})" if ok(dist) else f"{n}-day: {show(dist)}"
        )
    reading = f"The {name} is {join_words(parts)}."
    if cross.available:
        reading += f" Last 50/200-day cross: {cross.text}."
    if ok(b50):
        reading += (
            f" Breadth: {fmt(b50)} {b50.text} sector ETFs above their 50-day average, "
            f"{show(b200)} {b200.text} above their 200-day."
        )
    else:
        reading += f" Sector breadth is {NA_TEXT}."
    figures = (*ma50, *ma200, cross, b50, b200)
    return topic("technicals", "Technicals and breadth", reading, figures, headlines)


CURVE_METHOD = "Longer-tenor yield minus shorter-tenor yield at their last closes, in basis points."
RS_METHOD = (
    "Close of the first series divided by close of the second on the dates both have; the"
    " average is over the last 50 of those dates."
)
CREDIT_METHOD = "Close of the high-yield fund divided by close of the Treasury fund on the dates both have."
CREDIT_CHANGE_METHOD = (
    "Percent change of the high-yield/Treasury ratio from its last value on or before the"
    " window's start date to its last value of the reporting week."
)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip


def _plural(month: str) -> str:
    return month + ("es" if month.endswith("ch") else "s")


def seasonality_figures(ctx: Context) -> tuple[Figure, ...]:
    sym, month = ctx.slots.benchmark, ctx.anchor.month
    key, label = f"season.{sym}.{month:02d}", f"{ctx.name(sym)}, average {MONTHS[month - 1]} return"
    method = (
        "Mean of the calendar month's returns (last close of the month over the last close of the month"
        " before) in the years before this one that have both closes."
    )
    mk = Maker(ctx, (sym,), "monthly", method)
    stop = mk.blocked(key, label, "pct")
    if stop is not None:
        return (stop,)
    closes = ctx.closes[sym]
    ends: dict[tuple[int, int], float] = {}
    for ts, value in zip(closes.index, closes.to_numpy(), strict=True):
        ends[(ts.year, ts.month)] = float(value)
    rets, years = [], []
    for (year, mon), value in ends.items():
        prev = (year, mon - 1) if mon > 1 else (year - 1, 12)
        if mon == month and year < ctx.anchor.year and prev in ends:
            rets.append((value / ends[prev] - 1.0) * 100.0)
            years.append(year)
    if len(rets) < 2:
        return (mk.na(key, label, "pct", "fewer than 2 past years"),)
    first = date(years[0], month, 1)
    up_method = "Past years in which the calendar month had a gain, out of the years with both closes."
    return (
        mk(key, label, float(np.mean(rets)), "pct", first_bar=first),
        mk(f"{key}.up", f"{ctx.name(sym)}, {_plural(MONTHS[month - 1])} with a gain",
           sum(r > 0 for r in rets),
           "count", method=up_method, first_bar=first, text=f"of {len(rets)} years"),
    )  # fmt: skip


def seasonality_topic(ctx: Context) -> Topic:
    figs = seasonality_figures(ctx)
    name = ctx.name(ctx.slots.benchmark)
    month = MONTHS[ctx.anchor.month - 1]
    if ok(figs[0]):
        reading = (
            f"In the history at hand, {month} returned {fmt(figs[0])} on average for the {name}, "
            f"with a gain in {fmt(figs[1])} {figs[1].text}. A base rate, not a forecast."
        )
    else:
        reading = f"Seasonality for {month} is {show(figs[0])}."
    return Topic("seasonality", f"Seasonality: {month}", reading, figs)


def volume_symbol(ctx: Context) -> str:
    """IWM when present, else the first small-cap series that reports volume."""
    candidates = ("IWM", *(i.symbol for i in ctx.config.with_role("small_cap")))
    for sym in candidates:
        s = ctx.series.get(sym)
        if s is not None and "Volume" in s.frame.columns and float(s.frame["Volume"].iloc[-25:].min()) > 0:
            return sym
    return "IWM"


def volume_figures(ctx: Context) -> tuple[Figure, ...]:
    sym = volume_symbol(ctx)
    key, label = f"volume.{sym}.ratio", f"{ctx.name(sym)}, volume vs 20-day average"
    method = "Mean daily volume over the reporting week divided by the mean of the 20 sessions before it."
    mk = Maker(ctx, (sym,), "1W", method)
    stop = mk.blocked(key, label, "x")
    if stop is not None:
        return (stop,)
    vol = ctx.series[sym].frame["Volume"].astype(float)
    week = vol.loc[vol.index >= pd.Timestamp(ctx.week_start)]
    before = vol.loc[vol.index < pd.Timestamp(ctx.week_start)].iloc[-20:]
    if len(before) < 20 or week.empty or float(before.mean()) <= 0:
        return (mk.na(key, label, "x", "fewer than 20 sessions of volume"),)
    week_label = f"{ctx.name(sym)}, average daily volume this week"
    return (
        mk(key, label, float(week.mean()) / float(before.mean()), "x", first_bar=before.index[0].date()),
        mk(
            f"volume.{sym}.week",
            week_label,
            float(week.mean()),
            "count",
            method="Mean daily volume this week.",
        ),
    )


def volume_topic(ctx: Context, headlines: Sequence[Headline]) -> Topic:
    figs = volume_figures(ctx)
    ratio = figs[0]
    sym = ratio.provenance.symbols[0] if ratio.provenance.symbols else ""
    if ok(ratio):
        pace = "above" if val(ratio) > 1.0 else "below" if val(ratio) < 1.0 else "in line with"
        reading = (
            f"{sym} traded {fmt(ratio)} its 20-day average daily volume this week: activity {pace} normal."
        )
    else:
        reading = f"Volume against its 20-day average is {show(ratio)}."
    return topic("volume", "Volume", reading, figs, headlines)


def first_clause(text: str) -> str:
    """The text up to its first sentence or colon break, as a sentence."""
    return re.split(r"(?<=[.:])\s", text, maxsplit=1)[0].rstrip(".:") + "."


def drivers_section(ctx: Context, headlines: Sequence[Headline]) -> Section:
    topics = (
        rates_topic(ctx, headlines),
        rotation_topic(ctx, headlines),
        style_size_topic(ctx, headlines),
        credit_topic(ctx, headlines),
        sectors_topic(ctx, headlines),
        technicals_topic(ctx, headlines),
        seasonality_topic(ctx),
        volume_topic(ctx, headlines),
    )
    lede = " ".join(first_clause(t.reading) for t in topics[:2])
    return Section("drivers", "Drivers", lede, topics)
