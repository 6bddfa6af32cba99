"""Valuation: the funds' ratios as the provider reports them (never an estimate), and the members' own.

The fund ratios are Yahoo Finance's fund data for the small-cap funds and a large-cap fund
(``valuation.large_fund``, SPY by default), each dated by the day it was read.  Each figure's method
carries what is known of the provider's definition, and what is not.  The members' fundamentals
(:mod:`generator.analysis.fundamentals`) sit beside them in the same section.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta

from generator.analysis.common import Context, row
from generator.analysis.fundamentals import LOOKAHEAD_DAYS, FundamentalsFacts, FundamentalsGap
from generator.models import Figure, Provenance, Section, Table, Topic, Unit

FIELDS: tuple[tuple[str, str], ...] = (
    ("trailingPE", "Trailing P/E"),
    ("forwardPE", "Forward P/E"),
    ("priceToBook", "Price to book"),
)
DEFAULT_PROVIDER = "Yahoo Finance (yfinance)"
LARGE_FALLBACKS = ("SPY", "IVV", "VOO", "IWB", "OEF", "RSP")
SMALL_FALLBACKS = ("IWM", "IJR")
# Display names of the large-cap funds when they are not in the universe (their fund data is asked anyway).
FUND_NAMES = {
    "SPY": "SPDR S&P 500 ETF Trust",
    "IVV": "iShares Core S&P 500 ETF",
    "VOO": "Vanguard S&P 500 ETF",
}
_UNDOCUMENTED = (
    "A fund has no earnings of its own, so the figure rests on its holdings' earnings; Yahoo does not"
    " document which earnings it uses, how it weights the holdings, or whether loss-making holdings are"
    " left out, capped or netted against the profits. Fund-level P/Es commonly leave out holdings with"
    " negative earnings, which makes a fund with many loss-makers look cheaper; the members' P/E"
    " including losses, where given, does not."
)
DEFINITIONS: Mapping[str, str] = {
    "trailingPE": (
        "Trailing P/E of the fund as Yahoo Finance reports it (field trailingPE of its quote summary,"
        " read through yfinance on the date shown); not computed here. " + _UNDOCUMENTED
    ),
    "forwardPE": (
        "Forward P/E of the fund as Yahoo Finance reports it (field forwardPE, read through yfinance on the"
        " date shown); not computed here. Whose earnings estimates it uses and how it aggregates them over"
        " the holdings are not documented."
    ),
    "priceToBook": (
        "Price to book of the fund as Yahoo Finance reports it (field priceToBook, read through yfinance"
        " on the date shown); not computed here. How Yahoo aggregates the holdings' book values, and how"
        " it treats holdings with negative book value, are not documented."
    ),
}
RELATIVE_METHOD = (
    "Trailing P/E of the small-cap fund divided by the trailing P/E of the large-cap fund, both as Yahoo"
    " Finance reports them (see the definition of the fund P/E); below 1 the small-cap fund's multiple"
    " is the lower."
)

Valuation = Mapping[str, Mapping[str, float]]


def fund_name(ctx: Context, symbol: str) -> str:
    return FUND_NAMES.get(symbol, symbol) if ctx.config.instrument(symbol) is None else ctx.name(symbol)


def _ordered(ctx: Context, data: Valuation) -> list[str]:
    universe = [s for s in ctx.config.symbols if s in data]
    return universe + sorted(s for s in data if s not in universe)


def _number(data: Valuation, symbol: str, field: str) -> float | None:
    raw = data.get(symbol, {}).get(field)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) and value > 0 else None


def _as_of(ctx: Context, as_of: Mapping[str, date], symbol: str) -> date | None:
    """The day the fund data was read; snapshots from before it was recorded: the fund's last bar."""
    return as_of.get(symbol) or ctx.last_bar(symbol)


def valuation_figure(
    ctx: Context,
    data: Valuation,
    symbol: str,
    field: str,
    provider: str,
    as_of: Mapping[str, date] | None = None,
) -> Figure:
    label = dict(FIELDS)[field]
    value = _number(data, symbol, field)
    prov = Provenance((symbol,), "latest", _as_of(ctx, as_of or {}, symbol), provider, DEFINITIONS[field])
    note = "" if value is not None else f"{field} not in this data for {symbol}"
    return Figure(
        f"valuation.{symbol}.{field}",
        f"{fund_name(ctx, symbol)}, {label.lower()}",
        value,
        Unit.X,
        prov,
        note=note,
    )


def _candidates(ctx: Context, roles: tuple[str, ...]) -> list[str]:
    return [
        i.symbol for i in ctx.config.universe if set(roles) & set(i.roles) and not i.symbol.startswith("^")
    ]


def small_funds(ctx: Context, data: Valuation) -> tuple[str, ...]:
    """The small-cap funds with a trailing P/E, in the universe's order (IWM, IJR by default)."""
    found = (*_candidates(ctx, ("small_cap",)), *SMALL_FALLBACKS)
    return tuple(s for s in dict.fromkeys(found) if _number(data, s, "trailingPE") is not None)


def large_fund(ctx: Context, data: Valuation) -> str | None:
    """The large-cap fund: ``valuation.large_fund``, else the universe's large-cap ETFs, else fallbacks."""
    wanted = (ctx.config.valuation.large_fund, *_candidates(ctx, ("large_cap",)), *ctx.slots.ladder[-2:])
    return next(
        (s for s in (*wanted, *LARGE_FALLBACKS) if s and _number(data, s, "trailingPE") is not None), None
    )


def relative_pe(
    ctx: Context, data: Valuation, provider: str, as_of: Mapping[str, date] | None = None
) -> Figure | None:
    small, large = next(iter(small_funds(ctx, data)), None), large_fund(ctx, data)
    if small is None or large is None or small == large:
        return None
    ps, pl = _number(data, small, "trailingPE"), _number(data, large, "trailingPE")
    assert ps is not None and pl is not None
    days = [d for d in (_as_of(ctx, as_of or {}, s) for s in (small, large)) if d is not None]
    prov = Provenance((small, large), "latest", min(days) if days else None, provider, RELATIVE_METHOD)
    label = f"Trailing P/E, {fund_name(ctx, small)} relative to {fund_name(ctx, large)}"
    return Figure(f"valuation.{small}-{large}.trailingPE", label, ps / pl, Unit.X, prov)


def ratios_of_week(
    ctx: Context, data: Valuation, as_of: Mapping[str, date]
) -> tuple[Valuation, Mapping[str, date], date | None]:
    """The fund ratios that were read for this week, and the latest read day of those left out.

    Ratios read more than :data:`LOOKAHEAD_DAYS` after the week's end belong to a later week: a
    past week built from a later snapshot (a backfill, ``--as-of``) never shows them, as it never
    shows a later bar.  Ratios without a read day (older snapshots) are dated by the fund's bars.
    """
    last = ctx.week_end + timedelta(days=LOOKAHEAD_DAYS)
    later = {s for s in data if s in as_of and as_of[s] > last}
    if not later:
        return data, as_of, None
    kept = {s: v for s, v in data.items() if s not in later}
    return kept, {s: d for s, d in as_of.items() if s not in later}, max(as_of[s] for s in later)


def valuation_section(
    ctx: Context,
    data: Valuation,
    provider: str,
    as_of: Mapping[str, date] | None = None,
    members: FundamentalsFacts | FundamentalsGap | None = None,
) -> Section:
    provider = provider or DEFAULT_PROVIDER
    symbols = [s for s in _ordered(ctx, data) if any(_number(data, s, f) is not None for f, _ in FIELDS)]
    topics: list[Topic] = []
    if symbols:
        rows = tuple(
            row(
                f"{fund_name(ctx, s)} ({s})",
                *(valuation_figure(ctx, data, s, f, provider, as_of) for f, _ in FIELDS),
            )
            for s in symbols
        )
        table = Table(
            "Fund valuation ratios as the provider reports them",
            ("Fund", *(label for _, label in FIELDS)),
            rows,
        )
        rel = relative_pe(ctx, data, provider, as_of)
        figures: tuple[Figure, ...] = (rel,) if rel is not None else ()
        topics.append(Topic("valuation", "Valuation", figures, table=table))
    if isinstance(members, FundamentalsFacts):
        topics.append(Topic("fundamentals", "Member fundamentals", members.figures()))
    return Section("valuation", "Valuation", tuple(topics))
