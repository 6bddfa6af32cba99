"""Valuation: only what the snapshot carries (e.g. trailing P/E from the provider); never an estimate."""

from __future__ import annotations

import math
from collections.abc import Mapping

from generator.analysis.common import Context, row
from generator.models import Figure, Provenance, Section, Table, Topic, Unit

FIELDS: tuple[tuple[str, str], ...] = (
    ("trailingPE", "Trailing P/E"),
    ("forwardPE", "Forward P/E"),
    ("priceToBook", "Price to book"),
)
DEFAULT_PROVIDER = "Yahoo Finance (yfinance)"
LARGE_FALLBACKS = ("SPY", "IVV", "VOO", "IWB", "OEF", "RSP")


def _ordered(ctx: Context, data: Mapping[str, Mapping[str, float]]) -> list[str]:
    universe = [s for s in ctx.config.symbols if s in data]
    return universe + sorted(s for s in data if s not in universe)


def _number(data: Mapping[str, Mapping[str, float]], symbol: str, field: str) -> float | None:
    raw = data.get(symbol, {}).get(field)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) and value > 0 else None


def valuation_figure(
    ctx: Context, data: Mapping[str, Mapping[str, float]], symbol: str, field: str, provider: str
) -> Figure:
    label = dict(FIELDS)[field]
    value = _number(data, symbol, field)
    method = f"{label} ({field}) as reported by the provider in the snapshot; not computed here."
    prov = Provenance((symbol,), "latest", ctx.last_bar(symbol), provider, method)
    note = "" if value is not None else f"{field} not in this data for {symbol}"
    return Figure(
        f"valuation.{symbol}.{field}", f"{ctx.name(symbol)}, {label.lower()}", value, Unit.X, prov, note=note
    )


def _pick(
    ctx: Context, data: Mapping[str, Mapping[str, float]], roles: tuple[str, ...], extra: tuple[str, ...]
) -> str | None:
    role_syms = [
        i.symbol for i in ctx.config.universe if set(roles) & set(i.roles) and not i.symbol.startswith("^")
    ]
    return next((s for s in (*role_syms, *extra) if _number(data, s, "trailingPE") is not None), None)


def relative_pe(ctx: Context, data: Mapping[str, Mapping[str, float]], provider: str) -> Figure | None:
    small = _pick(ctx, data, ("small_cap",), ("IWM", "IJR"))
    ladder_big = tuple(ctx.slots.ladder[-2:])
    large = _pick(ctx, data, ("large_cap",), (*ladder_big, *LARGE_FALLBACKS))
    if small is None or large is None or small == large:
        return None
    ps, pl = _number(data, small, "trailingPE"), _number(data, large, "trailingPE")
    assert ps is not None and pl is not None
    method = f"Trailing P/E of {small} divided by trailing P/E of {large}, both as reported in the snapshot."
    prov = Provenance((small, large), "latest", ctx.last_bar(small), provider, method)
    label = f"Trailing P/E, {ctx.name(small)} relative to {ctx.name(large)}"
    return Figure(f"valuation.{small}-{large}.trailingPE", label, ps / pl, Unit.X, prov)


def valuation_section(ctx: Context, data: Mapping[str, Mapping[str, float]], provider: str) -> Section:
    provider = provider or DEFAULT_PROVIDER
    symbols = [s for s in _ordered(ctx, data) if any(_number(data, s, f) is not None for f, _ in FIELDS)]
    if not symbols:
        return Section("valuation", "Valuation", ())
    rows = tuple(
        row(f"{ctx.name(s)} ({s})", *(valuation_figure(ctx, data, s, f, provider) for f, _ in FIELDS))
        for s in symbols
    )
    table = Table(
        "Valuation multiples reported in the snapshot", ("Fund", *(label for _, label in FIELDS)), rows
    )
    rel = relative_pe(ctx, data, provider)
    figures: tuple[Figure, ...] = (rel,) if rel is not None else ()
    return Section("valuation", "Valuation", (Topic("valuation", "Valuation", figures, table=table),))
