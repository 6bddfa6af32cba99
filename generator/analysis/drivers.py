"""Drivers: rates, rotation, style and size, credit, sectors, technicals, seasonality, volume."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from generator.analysis.common import (
    Context,
    Maker,
    bp_change_figure,
    level_figure,
    ok,
    ratio_series,
    return_figure,
    row,
    series_move,
    spread_figure,
)
from generator.analysis.risks import breadth_figures, cross_figure, ma_figures
from generator.models import Figure, Section, Table, Topic

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


def rates_topic(ctx: Context) -> Topic:
    def cells(sym: str) -> tuple[Figure, Figure, Figure]:
        return yield_figure(ctx, sym), bp_change_figure(ctx, sym, "1W"), bp_change_figure(ctx, sym, "1M")

    rows = tuple(row(f"{tenor} ({sym})", *cells(sym)) for tenor, sym in tenors(ctx))
    table = Table("Treasury yields", ("Tenor", "Yield", "1W change", "1M change"), rows)
    y10, c10w, c10m = cells(ctx.slots.rate_10y)
    y3, c3w, _ = cells(ctx.slots.rate_3m)
    figures = (y10, c10w, c10m, y3, c3w, curve_figure(ctx))
    return Topic("rates", "Rates", figures, table=table, chart="rates")


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


def rotation_topic(ctx: Context) -> Topic:
    eq, cw = ctx.slots.equal_weight, ctx.slots.cap_weight
    ew1w, ew1m = spread_figure(ctx, eq, cw, "1W"), spread_figure(ctx, eq, cw, "1M")
    return Topic("rotation", "Rotation", (*rs_figures(ctx), ew1w, ew1m), chart="relative-strength")


def style_size_topic(ctx: Context) -> Topic:
    s = ctx.slots
    vg1w, vg1m = spread_figure(ctx, s.value, s.growth, "1W"), spread_figure(ctx, s.value, s.growth, "1M")
    small, big = (s.ladder[0], s.ladder[-1]) if s.ladder else (s.benchmark, s.large_cap)
    mm1w, mm1m = spread_figure(ctx, small, big, "1W"), spread_figure(ctx, small, big, "1M")
    return Topic("style-size", "Style and size tilt", (vg1w, vg1m, mm1w, mm1m))


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


def credit_topic(ctx: Context) -> Topic:
    hy1w = return_figure(ctx, ctx.slots.high_yield, "1W")
    return Topic("credit", "Credit", (*credit_figures(ctx), hy1w))


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


def sectors_topic(ctx: Context) -> Topic:
    rows = sector_rows(ctx)
    caption = "Sector funds, sorted by 1-week return"  # feeds.yaml chooses them: KRE is not small-cap only
    table = (
        Table(caption, ("Sector", "1W", "1M"), tuple(row(r[0], r[2], r[3]) for r in rows)) if rows else None
    )
    live = [r for r in rows if ok(r[2])]
    figures = (
        tuple(r[2] for r in (*live[:2], *live[-2:])) if len(live) >= 2 else tuple(r[2] for r in rows[:1])
    )
    title = "Sector leaders and laggards"
    return Topic("sectors", title, figures, table=table, chart="sectors-week")


# ---------------------------------------------------------------------------
# Technicals, seasonality, volume
# ---------------------------------------------------------------------------


def technicals_topic(ctx: Context) -> Topic:
    figures = (
        *ma_figures(ctx, 50), *ma_figures(ctx, 200), cross_figure(ctx), breadth_figures(ctx, 50),
        breadth_figures(ctx, 200),
    )  # fmt: skip
    return Topic("technicals", "Technicals and breadth", figures)


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
    # The last close of each month: later bars of a month overwrite earlier ones.
    months = closes.index.values.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    ends: dict[tuple[int, int], float] = {
        (1970 + m // 12, m % 12 + 1): value
        for m, value in zip(months.tolist(), closes.to_numpy(dtype=float).tolist(), strict=True)
    }
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
    return Topic("seasonality", f"Seasonality: {MONTHS[ctx.anchor.month - 1]}", seasonality_figures(ctx))


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


def volume_topic(ctx: Context) -> Topic:
    return Topic("volume", "Volume", volume_figures(ctx))


def drivers_section(ctx: Context) -> Section:
    topics = (
        rates_topic(ctx),
        rotation_topic(ctx),
        style_size_topic(ctx),
        credit_topic(ctx),
        sectors_topic(ctx),
        technicals_topic(ctx),
        seasonality_topic(ctx),
        volume_topic(ctx),
    )
    return Section("drivers", "Drivers", topics)
