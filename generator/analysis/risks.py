"""Risks: momentum (RSI), volatility, drawdown, rate shocks, sector dispersion, data quality.

Also the trend indicators the drivers and the outlook share: moving averages, the 50/200-day
cross and breadth across the sector ETFs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from generator.analysis import thresholds as th
from generator.analysis.common import (
    Context,
    Maker,
    bp_change_figure,
    level_figure,
    one_year,
    shift_months,
    val,
)
from generator.analysis.indicators import extreme_of_last, percentile_of_last, rsi_wilder, sma, weekly_returns
from generator.models import Figure, Section, SourceHealth, SourceStatus, Table, Topic, kind_word

OVERBOUGHT, OVERSOLD = th.RSI_OVERBOUGHT, th.RSI_OVERSOLD
SECTOR_ROLE = "sector ETFs (none configured)"  # provenance symbol when the universe has no sector ETF


def rsi_figure(ctx: Context) -> Figure:
    sym = ctx.slots.benchmark
    key, label = f"rsi14.{sym}", f"{ctx.name(sym)}, RSI (14-day)"
    method = (
        "Wilder's 14-day RSI on daily closes: the first averages are simple means of the first 14 gains and"
        " losses of the history, then each is smoothed as (previous × 13 + today) / 14."
    )
    mk = Maker(ctx, (sym,), "14d", method)
    stop = mk.blocked(key, label, "index")
    values = rsi_wilder(ctx.closes[sym].to_numpy()) if stop is None else np.array([np.nan])
    if math.isnan(values[-1]):
        return stop or mk.na(key, label, "index", "fewer than 15 closes")
    r = float(values[-1])
    word = "overbought" if r >= OVERBOUGHT else "oversold" if r <= OVERSOLD else "neutral"
    return mk(key, label, r, "index", first_bar=ctx.series[sym].first_bar, text=word)


def ma_figures(ctx: Context, n: int) -> tuple[Figure, ...]:
    sym = ctx.slots.benchmark
    key, label = f"ma{n}.{sym}", f"{ctx.name(sym)}, {n}-day average"
    mk = Maker(ctx, (sym,), f"{n}d", f"Simple average of the last {n} daily closes.")
    stop = mk.blocked(key, label, "level")
    if stop is not None or len(ctx.closes[sym]) < n:
        return (stop or mk.na(key, label, "level", f"fewer than {n} closes"),)
    closes = ctx.closes[sym]
    avg = float(closes.iloc[-n:].mean())
    dist, first = (float(closes.iloc[-1]) / avg - 1.0) * 100.0, closes.index[-n].date()
    return (
        mk(key, label, avg, "level", first_bar=first),
        mk(
            f"{key}.dist", f"{ctx.name(sym)} vs its {n}-day average", dist, "pct", first_bar=first,
            method=f"Last close relative to the {n}-day simple average, in percent.",
            text="above" if dist > 0 else "below",
        ),
    )  # fmt: skip


def cross_figure(ctx: Context) -> Figure:
    sym = ctx.slots.benchmark
    key, label = f"cross.{sym}", f"{ctx.name(sym)}, last 50/200-day cross"
    method = "Latest day the 50-day average crossed the 200-day average (golden: above; death: below)."
    mk = Maker(ctx, (sym,), "history", method)
    stop = mk.blocked(key, label, "text")
    closes = ctx.closes[sym] if stop is None else pd.Series(dtype=float)
    diff = sma(closes.to_numpy(), 50) - sma(closes.to_numpy(), 200)
    valid = np.flatnonzero(~np.isnan(diff))
    if len(valid) == 0:
        return stop or mk.na(key, label, "text", "fewer than 200 closes")
    signs = np.sign(diff[valid])
    changes = np.flatnonzero(signs[1:] != signs[:-1]) + 1
    state, first = ("golden" if signs[-1] > 0 else "death"), closes.index[valid[0]].date()
    if len(changes):
        text = f"{state} cross on {closes.index[valid[changes[-1]]].date().isoformat()}"
    else:
        side = "above" if state == "golden" else "below"
        text = f"no cross since {first.isoformat()} (50-day {side} 200-day)"
    return mk(key, label, None, "text", first_bar=first, text=text)


def breadth_counts(ctx: Context, n: int) -> tuple[int, int, tuple[str, ...]]:
    """(above, counted, symbols) across the fresh sector ETFs with at least ``n`` closes."""
    above, syms = 0, []
    for inst in ctx.config.with_role("sector"):
        if not ctx.has(inst.symbol) or len(ctx.closes[inst.symbol]) < n:
            continue
        closes = ctx.closes[inst.symbol].to_numpy(dtype=float)
        syms.append(inst.symbol)
        window = closes[-n:]
        window = window[~np.isnan(window)]  # pandas' mean skips NaN too
        above += int(len(window) > 0 and float(closes[-1]) > float(window.mean()))
    return above, len(syms), tuple(syms)


def breadth_figures(ctx: Context, n: int) -> Figure:
    key, label = f"breadth.{n}d", f"Sector ETFs above their {n}-day average"
    method = f"Count of the sector funds whose last close is above their {n}-day simple average."
    above, total, syms = breadth_counts(ctx, n)
    if total == 0:
        sectors = tuple(i.symbol for i in ctx.config.with_role("sector")) or (SECTOR_ROLE,)
        return Maker(ctx, sectors, f"{n}d", method).na(key, label, "count", "no fresh sector ETF data")
    return Maker(ctx, syms, f"{n}d", method)(key, label, above, "count", text=f"of {total}")


# ---------------------------------------------------------------------------
# Topics
# ---------------------------------------------------------------------------


def momentum_topic(ctx: Context) -> Topic:
    return Topic("momentum", "Momentum (RSI)", (rsi_figure(ctx),))


def realized_vol_figures(ctx: Context) -> tuple[Figure, ...]:
    sym = ctx.slots.benchmark
    key, label = f"rvol20.{sym}", f"{ctx.name(sym)}, 20-day realized volatility (annualized, %)"
    mk = Maker(ctx, (sym,), "20d", "Standard deviation of the last 20 daily log returns × √252, in percent.")
    stop = mk.blocked(key, label, "level")
    closes = ctx.closes[sym] if stop is None else pd.Series(dtype=float)
    rets = pd.Series(np.log(closes.to_numpy()[1:] / closes.to_numpy()[:-1]), index=closes.index[1:])
    vol = (rets.rolling(20).std(ddof=1) * math.sqrt(252) * 100.0).dropna()
    if vol.empty:
        return (stop or mk.na(key, label, "level", "fewer than 21 closes"),)
    year = one_year(vol, ctx.anchor).to_numpy()
    ymk = Maker(ctx, (sym,), "1Y", "Daily 20-day realized volatility over the last year: {}.")
    if not _a_full_year(vol.index, ctx.anchor):  # "its 1-year range" on eight months is not one
        why = f"less than a year of data (from {vol.index[0].date().isoformat()})"
        return (
            mk(key, label, float(vol.iloc[-1]), "level", first_bar=closes.index[-21].date()),
            *(
                ymk.na(f"{key}.{k}1y", f"{label}, 1-year {w}", "level", why)
                for k, w in (("min", "low"), ("max", "high"))
            ),
            ymk.na(f"{key}.pctile1y", f"{label}, 1-year percentile", "pctile", why),
        )
    return (
        mk(key, label, float(vol.iloc[-1]), "level", first_bar=closes.index[-21].date()),
        ymk(f"{key}.min1y", f"{label}, 1-year low", float(year.min()), "level",
            method=ymk.method.format("lowest value")),
        ymk(f"{key}.max1y", f"{label}, 1-year high", float(year.max()), "level",
            method=ymk.method.format("highest value")),
        ymk(f"{key}.pctile1y", f"{label}, 1-year percentile", percentile_of_last(year), "pctile",
            method=ymk.method.format("share of days at or below today's value"), text=extreme_of_last(year)),
    )  # fmt: skip


def implied_vol_figures(ctx: Context, symbol: str, prefix: str) -> tuple[Figure, Figure]:
    level = level_figure(ctx, f"{prefix}.level", symbol, "level", ctx.name(symbol), "Last close of the week.")
    key, label = f"{prefix}.pctile1y", f"{ctx.name(symbol)}, 1-year percentile"
    mk = Maker(ctx, (symbol,), "1Y", "Share of the last year's daily closes at or below the last close.")
    stop = mk.blocked(key, label, "pctile")
    if stop is not None:
        return level, stop
    closes = ctx.closes[symbol]
    if not _a_full_year(closes.index, ctx.anchor):
        return level, mk.na(
            key, label, "pctile", f"less than a year of data (from {closes.index[0].date().isoformat()})"
        )
    year = one_year(closes, ctx.anchor).to_numpy()
    return level, mk(key, label, percentile_of_last(year), "pctile", text=extreme_of_last(year))


def _a_full_year(index: pd.Index, anchor: date) -> bool:
    """Whether dates ``index`` reach back a year before ``anchor`` (a week's grace for holidays)."""
    return len(index) > 0 and index[0].date() <= shift_months(anchor, -12) + timedelta(days=7)


def volatility_topic(ctx: Context) -> Topic:
    rv = realized_vol_figures(ctx)
    vix, vixp = implied_vol_figures(ctx, ctx.slots.vix, "vix")
    rvx, rvxp = implied_vol_figures(ctx, ctx.slots.rvx, "rvx")
    gap_method = "RVX minus VIX at their last closes, in volatility points."
    gmk = Maker(ctx, (ctx.slots.rvx, ctx.slots.vix), "last close", gap_method)
    gap = gmk.blocked("vol.rvx-vix", "RVX minus VIX", "points") or gmk(
        "vol.rvx-vix", "RVX minus VIX", val(rvx) - val(vix), "points"
    )
    return Topic("volatility", "Volatility", (*rv, vix, vixp, rvx, rvxp, gap))


def drawdown_figures(ctx: Context) -> tuple[Figure, ...]:
    sym = ctx.slots.benchmark
    name, out = ctx.name(sym), []
    for key, label, window, scope in (
        (
            f"drawdown.{sym}.record",
            f"{name}, drawdown from record",
            "history",
            "the highest close in the history",
        ),
        (
            f"drawdown.{sym}.52w",
            f"{name}, drawdown from 52-week high",
            "52W",
            "the highest close of the last year",
        ),
    ):
        mk = Maker(ctx, (sym,), window, f"Last close relative to {scope}, in percent.")
        stop = mk.blocked(key, label, "pct")
        if stop is not None:
            out.append(stop)
            continue
        closes = ctx.closes[sym] if window == "history" else one_year(ctx.closes[sym], ctx.anchor)
        dd = (float(closes.iloc[-1]) / float(closes.max()) - 1.0) * 100.0
        out.append(mk(key, label, dd, "pct", first_bar=closes.index[0].date()))
    return tuple(out)


def drawdown_topic(ctx: Context) -> Topic:
    return Topic("drawdown", "Drawdown", drawdown_figures(ctx))


def rate_shock_topic(ctx: Context) -> Topic:
    ten = ctx.slots.rate_10y
    return Topic(
        "rate-shock", "Rate shock", (bp_change_figure(ctx, ten, "1W"), bp_change_figure(ctx, ten, "1M"))
    )


def dispersion_figures(ctx: Context) -> tuple[Figure, ...]:
    key, label = "dispersion.sectors.1W", "Dispersion of sector ETF weekly returns (pp)"
    method = "Population standard deviation of the sector ETFs' 1-week returns, in percentage points."
    sectors = tuple(i.symbol for i in ctx.config.with_role("sector") if ctx.has(i.symbol))
    weekly = {s: weekly_returns(ctx.closes[s], ctx.config.brief.week_ends_on) for s in sectors}
    frame = pd.DataFrame(weekly)
    std = frame.std(axis=1, ddof=0)[frame.count(axis=1) >= 3] if len(sectors) >= 3 else pd.Series(dtype=float)
    if std.empty or std.index[-1].date() != ctx.week_end:
        all_sectors = tuple(i.symbol for i in ctx.config.with_role("sector")) or (SECTOR_ROLE,)
        return (
            Maker(ctx, all_sectors, "1W", method).na(key, label, "level", "fewer than 3 fresh sector ETFs"),
        )
    year = one_year(std, ctx.week_end).to_numpy()
    typical = float(np.median(year[:-1])) if len(year) > 1 else float("nan")
    mk = Maker(ctx, sectors, "1W", method)
    return (
        mk(key, label, float(std.iloc[-1]), "level"),
        mk("dispersion.sectors.median1y", "Typical weekly dispersion, last year (pp)", typical, "level",
           window="1Y", method="Median of the weekly dispersion over the previous year's weeks."),
        mk("dispersion.sectors.pctile1y", "Weekly dispersion, 1-year percentile", percentile_of_last(year),
           "pctile", window="1Y", method="Share of the last year's weekly readings at or below this week's.",
           text=extreme_of_last(year)),
    )  # fmt: skip


def dispersion_topic(ctx: Context) -> Topic:
    return Topic("dispersion", "Sector dispersion", dispersion_figures(ctx))


def _stale_detail(ctx: Context, last: date) -> str:
    return f"last bar {last.isoformat()}, before the week of {ctx.week_start.isoformat()}"


def week_health(ctx: Context, health: Sequence[SourceHealth]) -> tuple[SourceHealth, ...]:
    """The sources' health as of the reported week.

    A source read without a problem can still end before the week: a folder of CSVs, or a cache
    gathered earlier.  Its row says "stale", with the reason the Data problems table gives, so the
    health table, the console and ``--strict`` never call a build healthy whose figures for that
    source are left out as stale.
    """
    return tuple(
        replace(h, status=SourceStatus.STALE, error=_stale_detail(ctx, ctx.stale[h.name]))
        if h.kind in ("symbol", "series") and h.name in ctx.stale and h.healthy
        else h
        for h in health
    )


def data_quality_topic(ctx: Context, health: Sequence[SourceHealth]) -> Topic:
    """Every stale, missing or failed source with its reason (a table for the appendix).

    Sources of one kind that failed alike (every symbol asked of a host that could not be reached)
    are one row naming them all.
    """
    found: dict[str, tuple[str, str, str]] = {}  # name → (kind, status, detail)
    for sym, last in sorted(ctx.stale.items()):
        found[sym] = ("symbol", "stale", _stale_detail(ctx, last))
    for sym in ctx.missing:
        found[sym] = ("symbol", "missing", f"no data for {sym} in the snapshot")
    for h in health:
        if h.status == "failed" or (h.status == "stale" and h.name not in found):
            detail = h.reason or (f"newest {h.newest.isoformat()}" if h.newest else "no detail")
            found[h.name] = (h.kind, h.status, detail)
    alike: dict[tuple[str, str, str], list[str]] = {}
    for name, key in found.items():
        alike.setdefault(key, []).append(name)
    rows = tuple((_named(kind, names), status, detail) for (kind, status, detail), names in alike.items())
    table = Table("Data problems", ("Source", "Status", "Detail"), rows) if rows else None
    return Topic("data-quality", "Data quality", table=table)


def _named(kind: str, names: list[str]) -> str:
    """``^RUT, IWM`` for symbols; ``feed yahoo-iwm``, ``feeds cnbc-investing, cnbc-economy`` for others."""
    listed = ", ".join(names)
    return listed if kind == "symbol" else f"{kind_word(kind, len(names))} {listed}"


def risks_section(ctx: Context, health: Sequence[SourceHealth]) -> Section:
    topics = (
        momentum_topic(ctx),
        volatility_topic(ctx),
        drawdown_topic(ctx),
        rate_shock_topic(ctx),
        dispersion_topic(ctx),
        data_quality_topic(ctx, health),
    )
    return Section("risks", "Risks", topics)
