"""Performance: returns, spreads, the cap ladder, style, the relative streak, records, best/worst week."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from generator.analysis.common import (
    WINDOWS,
    Context,
    Maker,
    blocked,
    one_year,
    return_figure,
    row,
    spread_figure,
)
from generator.analysis.indicators import compute_streak, weekly_returns
from generator.models import Figure, Section, Table, Topic

LADDER_WINDOWS = ("1W", "1M", "YTD")


def compared_symbols(ctx: Context) -> tuple[str, ...]:
    """Every small-cap series and large-cap comparator, benchmark first."""
    s = ctx.slots
    roles = [i.symbol for i in ctx.config.universe if {"small_cap", "large_cap"} & set(i.roles)]
    return tuple(dict.fromkeys((s.benchmark, *roles, s.large_cap, s.nasdaq)))


def returns_topic(ctx: Context) -> Topic:
    rows = tuple(
        row(ctx.name(sym), *(return_figure(ctx, sym, w) for w in WINDOWS)) for sym in compared_symbols(ctx)
    )
    table = Table("Returns by window (percent)", ("Series", *WINDOWS), rows)
    bench, large = ctx.slots.benchmark, ctx.slots.large_cap
    figures = tuple(return_figure(ctx, sym, w) for w in ("1W", "YTD") for sym in (bench, large))
    return Topic("returns", "Returns", figures, table=table, chart="rut-vs-spx")


def spreads_topic(ctx: Context) -> Topic:
    bench = ctx.slots.benchmark
    others = tuple(dict.fromkeys((ctx.slots.large_cap, ctx.slots.nasdaq)))
    rows = tuple(
        row(f"{ctx.name(bench)} minus {ctx.name(o)}", *(spread_figure(ctx, bench, o, w) for w in WINDOWS))
        for o in others
    )
    table = Table("Spread of the benchmark over large caps (percentage points)", ("Spread", *WINDOWS), rows)
    figures = tuple(spread_figure(ctx, bench, o, w) for o in others for w in ("1W", "YTD"))
    return Topic("spreads", "Small caps against large caps", figures, table=table)


def ladder_topic(ctx: Context) -> Topic:
    s = ctx.slots
    labels = list(s.ladder_labels) + [sym for sym in s.ladder[len(s.ladder_labels) :]]
    rows = tuple(
        row(f"{label} ({sym})", *(return_figure(ctx, sym, w) for w in LADDER_WINDOWS))
        for label, sym in zip(labels, s.ladder, strict=False)
    )
    table = Table("Returns across the cap ladder, micro to mega (percent)", ("Size", *LADDER_WINDOWS), rows)
    figures = (spread_figure(ctx, s.ladder[0], s.ladder[-1], "1W"),) if len(s.ladder) >= 2 else ()
    return Topic("cap-ladder", "The cap ladder", figures, table=table, chart="cap-ladder")


def style_topic(ctx: Context) -> Topic:
    value, growth = ctx.slots.value, ctx.slots.growth
    rows = (
        row(f"Value ({value})", *(return_figure(ctx, value, w) for w in WINDOWS)),
        row(f"Growth ({growth})", *(return_figure(ctx, growth, w) for w in WINDOWS)),
        row("Value minus growth", *(spread_figure(ctx, value, growth, w) for w in WINDOWS)),
    )
    table = Table("Small-cap value against growth", ("Style", *WINDOWS), rows)
    return Topic("style", "Value against growth", (spread_figure(ctx, value, growth, "1W"),), table=table)


# ---------------------------------------------------------------------------
# Streak of daily out- or under-performance
# ---------------------------------------------------------------------------


def streak_figures(ctx: Context) -> tuple[Figure, ...]:
    bench, large = ctx.slots.benchmark, ctx.slots.large_cap
    key, label = f"streak.{bench}-{large}", f"{ctx.name(bench)} vs {ctx.name(large)}, daily streak"
    method = (
        "Consecutive trading days, up to the last close, on which the daily return of the first series was"
        " above (or below) that of the second, on dates both have; a tie ends a streak."
    )
    mk = Maker(ctx, (bench, large), "daily", method)
    stop = mk.blocked(key, label, "days")
    st = compute_streak(ctx.closes[bench], ctx.closes[large]) if stop is None else None
    if st is None:
        return (stop or mk.na(key, label, "days", "too few common days"),)
    word = {1: "outperforming", -1: "underperforming", 0: "tied on the last day"}[st.sign]
    main = mk(key, label, st.length, "days", first_bar=st.start, text=word)
    start = mk(f"{key}.start", f"{label}: first day", None, "date", text=st.start.isoformat())
    mk = Maker(ctx, (bench, large), "history", "End of the latest earlier, longer streak of the same sign.")
    longer, since = f"{key}.longer", f"{key}.since"
    ended, days_label = f"{label}: last longer streak ended", f"{label}: trading days since a longer one"
    if st.prior_end is None:
        none = f"none since {st.first_day.isoformat()}"
        return main, start, mk(longer, ended, None, "date", text=none), mk.na(since, days_label, "days", none)
    return (
        main,
        start,
        mk(longer, ended, None, "date", first_bar=st.first_day, text=st.prior_end.isoformat()),
        mk(since, days_label, st.days_since, "days", first_bar=st.first_day),
    )


def streak_topic(ctx: Context) -> Topic:
    return Topic("streak", "Daily relative streak", streak_figures(ctx))


# ---------------------------------------------------------------------------
# Records, 52-week range, best / worst week
# ---------------------------------------------------------------------------


EXTREMES = {"record": "record high", "high52": "52-week high", "low52": "52-week low"}


def extreme_figures(ctx: Context, prefix: str, window: str, part: pd.Series) -> tuple[Figure, ...]:
    """Level, date and distance of the highest (or, for "low52", lowest) close of ``part``."""
    sym, what, high = ctx.slots.benchmark, EXTREMES[prefix], prefix != "low52"
    scope = (
        "the history at hand" if prefix == "record" else "the last year (bars after the day a year earlier)"
    )
    mk = Maker(ctx, (sym,), window, f"{'Highest' if high else 'Lowest'} close in {scope}.")
    pos = int(np.argmax(part.to_numpy()) if high else np.argmin(part.to_numpy()))
    level, day, first = float(part.iloc[pos]), part.index[pos].date(), part.index[0].date()
    key, name = f"{prefix}.{sym}", ctx.name(sym)
    return (
        mk(key, f"{name}, {what}", level, "level", first_bar=first),
        mk(f"{key}.date", f"{name}, date of {what}", None, "date", first_bar=first, text=day.isoformat()),
        mk(
            f"{key}.distance", f"{name}, distance from {what}", (part.iloc[-1] / level - 1) * 100.0, "pct",
            method=f"Last close relative to the {what}, in percent.", first_bar=first,
        ),
    )  # fmt: skip


def records_topic(ctx: Context) -> Topic:
    sym = ctx.slots.benchmark
    name, title = ctx.name(sym), "Records and the 52-week range"
    stop = blocked(ctx, f"record.{sym}", f"{name}, record high", "level", (sym,), "history", "Highest close.")
    if stop is not None:
        return Topic("records", title, (stop,))
    closes = ctx.closes[sym]
    year = one_year(closes, ctx.anchor)
    rec, hi, lo = (
        extreme_figures(ctx, "record", "history", closes),
        extreme_figures(ctx, "high52", "52W", year),
        extreme_figures(ctx, "low52", "52W", year),
    )
    set_now = ctx.in_week(date.fromisoformat(rec[1].text))
    this_week = Maker(ctx, (sym,), "1W", "Whether the record close falls within the reporting week.")(
        f"record.{sym}.week", f"{name}, record set this week", None, "text",
        text=f"new record on {rec[1].text}" if set_now else "no new record this week",
    )  # fmt: skip
    return Topic("records", title, (*rec, this_week, *hi, *lo))


def best_week_figures(ctx: Context) -> tuple[Figure, ...]:
    sym = ctx.slots.benchmark
    key, label = f"bestweek.{sym}", f"{ctx.name(sym)}, best or worst week in"
    method = (
        "Weekly return = last close of each week over the last close of the week before; counts the weeks"
        " back to the latest week with a better (for a gain) or worse (for a loss) return."
    )
    mk = Maker(ctx, (sym,), "weekly", method)
    stop = mk.blocked(key, label, "weeks")
    if stop is not None:
        return (stop,)
    weekly = weekly_returns(ctx.closes[sym], ctx.config.brief.week_ends_on)
    if len(weekly) < 2 or weekly.index[-1].date() < ctx.week_start:
        return (mk.na(key, label, "weeks", "no weekly return this week"),)
    values = weekly.to_numpy()
    best = values[-1] >= 0
    earlier = np.flatnonzero(values[:-1] >= values[-1] if best else values[:-1] <= values[-1])
    word, first = "best" if best else "worst", weekly.index[0].date()
    label = f"{ctx.name(sym)}, {word} week in"
    if not len(earlier):
        text = f"{word} week in the history at hand (weekly returns since {first.isoformat()})"
        main = mk(key, label, len(values), "weeks", first_bar=first, text=text)
        return main, mk.na(f"{key}.prior", f"{ctx.name(sym)}, the better week", "pct", "none in the history")
    j = int(earlier[-1])
    since = weekly.index[j].date()
    text = f"{word} since the week ending {since.isoformat()}"
    prior_label = f"{ctx.name(sym)}, return of the week ending {since.isoformat()}"
    return (
        mk(key, label, len(values) - 1 - j, "weeks", first_bar=first, text=text),
        mk(f"{key}.prior", prior_label, float(values[j]), "pct", last_bar=since),
    )


def best_week_topic(ctx: Context) -> Topic:
    figs = best_week_figures(ctx)
    return Topic(
        "best-worst-week",
        "Best or worst week",
        (figs[0], return_figure(ctx, ctx.slots.benchmark, "1W"), *figs[1:]),
    )


def performance_section(ctx: Context) -> Section:
    topics = (
        returns_topic(ctx),
        spreads_topic(ctx),
        ladder_topic(ctx),
        style_topic(ctx),
        streak_topic(ctx),
        records_topic(ctx),
        best_week_topic(ctx),
    )
    return Section("performance", "Performance", topics)
