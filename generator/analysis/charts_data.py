"""Chart data: one :class:`ChartSpec` per chart; :mod:`generator.charts` draws them.

Values are rounded to 4 decimals.  A chart whose series are missing or stale is left out
(and the topic that refers to it loses its chart), never drawn from stale data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from generator.analysis.common import Context, base_anchor, ok, one_year, ratio_series, val
from generator.analysis.drivers import sector_rows
from generator.analysis.indicators import bar_days, sma
from generator.analysis.performance import LADDER_WINDOWS
from generator.models import ChartSpec, Figure


def _r(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), 4)


def _x(index: pd.Index) -> tuple[str, ...]:
    return tuple(np.datetime_as_string(bar_days(index)).tolist())  # ISO dates, as str


def _source(ctx: Context, symbols: Sequence[str], last: date | None) -> str:
    return f"Source: {ctx.provider(symbols)}, last bar {last.isoformat() if last else 'not available'}"


def rebased_chart(ctx: Context) -> ChartSpec | None:
    a, b = ctx.slots.benchmark, ctx.slots.large_cap
    if not (ctx.has(a) and ctx.has(b)):
        return None
    both = pd.concat([ctx.closes[a], ctx.closes[b]], axis=1, join="inner").dropna()
    # From the 1-year return's base close (the last on or before a year ago), not the day after it:
    # the lines end where the 1-year returns say (a line from the next day ended at +9.3% beside a
    # 1-year return of +10.04%).
    base = int(both.index.searchsorted(pd.Timestamp(base_anchor(ctx, "1Y")), side="right")) - 1
    joined = both.iloc[max(base, 0) :]
    if len(joined) < 2:
        return None
    rebased = joined / joined.iloc[0] * 100.0
    last = joined.index[-1].date()
    na, nb = ctx.name(a), ctx.name(b)
    series = tuple((name, tuple(_r(v) for v in rebased.iloc[:, i])) for i, name in enumerate((na, nb)))
    return ChartSpec(
        "rut-vs-spx",
        "",  # title and alt text: generator.narrative.charts
        "",
        "line",
        _x(joined.index),
        series,
        y_label="Rebased (100 = start)",
        source=_source(ctx, (a, b), last),
        reference=100.0,
    )


def relative_strength_chart(ctx: Context) -> ChartSpec | None:
    a, b = ctx.slots.benchmark, ctx.slots.large_cap
    if not (ctx.has(a) and ctx.has(b)):
        return None
    ratio = ratio_series(ctx, a, b)
    if len(ratio) < 50:
        return None
    avg = pd.Series(sma(ratio.to_numpy(), 50), index=ratio.index)
    ratio, avg = one_year(ratio, ctx.anchor), one_year(avg, ctx.anchor)
    last = ratio.index[-1].date()
    series = (
        (f"{a} / {b}", tuple(_r(v) for v in ratio)),
        ("50-day average", tuple(_r(v) for v in avg)),
    )
    return ChartSpec(
        "relative-strength",
        "",
        "",
        "line",
        _x(ratio.index),
        series,
        y_label="Ratio",
        source=_source(ctx, (a, b), last),
    )


def ladder_chart(ctx: Context, figures: Mapping[str, Figure]) -> ChartSpec | None:
    s = ctx.slots
    labels = [*s.ladder_labels, *s.ladder[len(s.ladder_labels) :]][: len(s.ladder)]
    series = []
    for window in LADDER_WINDOWS:
        values = tuple(
            _r(val(f)) if ok(f := figures.get(f"return.{sym}.{window}")) else None for sym in s.ladder
        )
        series.append((window, values))
    if all(v is None for _, values in series for v in values):
        return None
    lasts = [b for b in (ctx.last_bar(sym) for sym in s.ladder if ctx.has(sym)) if b is not None]
    return ChartSpec(
        "cap-ladder",
        "",
        "",
        "bar",
        tuple(labels),
        tuple(series),
        y_label="Return (%)",
        source=_source(ctx, s.ladder, max(lasts) if lasts else None),
        reference=0.0,
    )


def sectors_chart(ctx: Context) -> ChartSpec | None:
    rows = [r for r in sector_rows(ctx) if ok(r[2])]
    if not rows:
        return None
    labels = tuple(r[0] for r in rows)
    values = tuple(_r(val(r[2])) for r in rows)
    syms = [r[1] for r in rows]
    lasts = [b for b in (ctx.last_bar(s) for s in syms) if b is not None]
    return ChartSpec(
        "sectors-week",
        "",
        "",
        "hbar",
        labels,
        (("1W", values),),
        y_label="Return (%)",
        source=_source(ctx, syms, max(lasts) if lasts else None),
        reference=0.0,
    )


def rates_chart(ctx: Context) -> ChartSpec | None:
    pairs = [
        (f"{tenor} ({sym})", sym)
        for tenor, sym in (("3-month", ctx.slots.rate_3m), ("10-year", ctx.slots.rate_10y))
    ]
    fresh = [(label, sym) for label, sym in pairs if ctx.has(sym)]
    if not fresh:
        return None
    frame = one_year(
        pd.concat([ctx.closes[sym].rename(label) for label, sym in fresh], axis=1, sort=True), ctx.anchor
    )
    if frame.empty:
        return None
    last = frame.index[-1].date()
    series = tuple(
        (label, tuple(_r(v) if not pd.isna(v) else None for v in frame[label])) for label, _ in fresh
    )
    return ChartSpec(
        "rates",
        "",
        "",
        "line",
        _x(frame.index),
        series,
        y_label="Yield (%)",
        source=_source(ctx, [s for _, s in fresh], last),
    )


def build_charts(ctx: Context, figures: Mapping[str, Figure]) -> tuple[ChartSpec, ...]:
    charts = (
        rebased_chart(ctx),
        relative_strength_chart(ctx),
        ladder_chart(ctx, figures),
        sectors_chart(ctx),
        rates_chart(ctx),
    )
    return tuple(c for c in charts if c is not None)
