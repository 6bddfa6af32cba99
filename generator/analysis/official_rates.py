"""Rates and credit from FRED: the 2-year and 10-year yields, the 10y−2y curve, the high-yield spread.

FRED series sit in the snapshot beside the prices, as ``FRED-<ID>`` series with one value a day
(FRED publishes a day late, so the last value may be the week's second-to-last session; its
provenance says which).  Yahoo's yield indexes remain the fallback, labelled as such, when a FRED
series is missing or stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.analysis.common import FRED_NAMES, Context, Maker, bp_change_figure, level_figure
from generator.models import Figure, Section, Table, Topic

PREFIX = "FRED-"
NAMES = FRED_NAMES
TWO_YEAR, TEN_YEAR, CURVE, HY_OAS = "FRED-DGS2", "FRED-DGS10", "FRED-T10Y2Y", "FRED-BAMLH0A0HYM2"
ICE_METHOD = (
    "Option-adjusted spread of the ICE BofA US High Yield Index over Treasuries, in percent, as published"
    " on FRED; source: ICE Data Indices, LLC, used with permission. Reproduction of this data in any form is"
    " prohibited except with the prior written permission of ICE Data Indices."
)


@dataclass(frozen=True)
class OfficialRates:
    two_year: Figure
    two_year_1w: Figure
    ten_year: Figure  # FRED's when fresh, else Yahoo's ^TNX (its provenance says which)
    ten_year_1w: Figure
    curve_2s10s: Figure  # bp
    hy_oas: Figure  # percent
    hy_oas_1w: Figure  # bp

    def figures(self) -> tuple[Figure, ...]:
        return (self.two_year, self.two_year_1w, self.ten_year, self.ten_year_1w, self.curve_2s10s,
                self.hy_oas, self.hy_oas_1w)  # fmt: skip


def official_rates(ctx: Context) -> OfficialRates | None:
    """None when the snapshot holds no FRED series at all (FRED is then not covered)."""
    if not any(sym.startswith(PREFIX) for sym in ctx.series):
        return None
    level = "Value at the last date of the week that FRED has published, in percent."
    ten = TEN_YEAR if ctx.has(TEN_YEAR) else ctx.slots.rate_10y
    mk = Maker(ctx, (CURVE,), "last close", "FRED's 10-year minus 2-year spread, in basis points.")
    curve = mk.blocked("fred.curve.10y-2y", "Yield curve, 10-year minus 2-year", "bp") or mk(
        "fred.curve.10y-2y",
        "Yield curve, 10-year minus 2-year",
        float(ctx.closes[CURVE].iloc[-1]) * 100.0,
        "bp",
    )
    return OfficialRates(
        two_year=level_figure(ctx, f"yield.{TWO_YEAR}", TWO_YEAR, "yield", NAMES[TWO_YEAR], level),
        two_year_1w=bp_change_figure(ctx, TWO_YEAR, "1W"),
        ten_year=level_figure(ctx, f"yield.{ten}", ten, "yield", ctx.name(ten), level),
        ten_year_1w=bp_change_figure(ctx, ten, "1W"),
        curve_2s10s=curve,
        hy_oas=level_figure(ctx, f"oas.{HY_OAS}", HY_OAS, "yield", NAMES[HY_OAS], ICE_METHOD),
        hy_oas_1w=bp_change_figure(ctx, HY_OAS, "1W"),
    )


def official_rates_section(rates: OfficialRates | None) -> Section:
    if rates is None:
        return Section("official-rates", "Rates and credit (FRED)", ())
    rows = (
        ("2-year Treasury yield", rates.two_year, rates.two_year_1w),
        ("10-year Treasury yield", rates.ten_year, rates.ten_year_1w),
        ("High-yield option-adjusted spread", rates.hy_oas, rates.hy_oas_1w),
    )
    table = Table("Official rates and credit spreads (FRED)", ("Series", "Level", "1W change"), rows)
    topic = Topic("official-rates", "Rates and credit (FRED)", (rates.curve_2s10s,), table=table)
    return Section("official-rates", "Rates and credit (FRED)", (topic,))
