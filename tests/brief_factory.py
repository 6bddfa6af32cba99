"""A hand-built :class:`Brief` and its chart specs, for the degraded and hostile cases of rendering.

The golden files come from the bundled sample through the real pipeline (tests/sample_brief.py);
this brief is for what the sample cannot show.  It covers every element the templates render:
a lead, key takeaways and body passages of prose with cited figures (characters Markdown and
HTML must escape among them), a watch list, body charts, appendix tables with figure and text
cells, checklists (met / not met / unknown), a stale figure and an unavailable cell, related and
top headlines (one with a hostile title and no link), source health with failures, warnings,
"Not covered this week", a glossary and a disclaimer.  Everything is deterministic.

``make_charts`` draws its charts and ``make_pdf`` lays out its PDF, each once per test process.
"""

from __future__ import annotations

import functools
import math
import random
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from generator.models import (
    Brief,
    ChartSpec,
    Check,
    Cite,
    Figure,
    Headline,
    Passage,
    Prose,
    Provenance,
    Section,
    SourceHealth,
    Table,
    Takeaway,
    Topic,
)

if TYPE_CHECKING:
    from generator.models import RenderedChart
    from generator.render import PdfResult

AS_OF = date(2026, 11, 20)
WEEK_START = date(2026, 11, 16)
BUILT_AT = datetime(2026, 11, 21, 6, 15, tzinfo=UTC)
STALE_BAR = date(2026, 10, 30)
YF = "Yahoo Finance (yfinance)"
SAMPLE = "sample (illustrative)"
HOSTILE_TITLE = "<script>alert(1)</script> & [x](javascript:y)"
RETURN_METHOD = "Close-to-close change of the adjusted close over the window."
LAST_CLOSE = "Last close."
LAST_QUOTE = "Last quote, percent."
DISCLAIMER = "For information only; not investment advice. Past performance does not predict future returns."
NOT_COVERED = (
    "Cboe Russell 2000 Volatility Index (^RVX): last bar 2026-10-30, before the week",
    "Utilities (PSCU): no data (HTTP 429 Too Many Requests)",
)
# Display names, as feeds.yaml would give them (IWM and the sector funds are left out on purpose).
NAMES = {
    "^RUT": "Russell 2000",
    "^SP600": "S&P SmallCap 600",
    "^GSPC": "S&P 500",
    "^IXIC": "Nasdaq Composite",
    "^TNX": "10-year Treasury yield",
    "^IRX": "13-week Treasury bill yield",
    "^VIX": "Cboe Volatility Index",
    "^RVX": "Cboe Russell 2000 Volatility Index",
}
# The first bar a return uses, by window (the last close before the window starts).
FIRST_BARS = {
    "1W": date(2026, 11, 13),
    "1M": date(2026, 10, 20),
    "3M": date(2026, 8, 20),
    "YTD": date(2025, 12, 31),
    "1Y": date(2025, 11, 20),
}

# key: (label, value, unit, symbols separated by spaces, window, method)
CATALOGUE: dict[str, tuple[str, float | None, str, str, str, str]] = {
    "spread.^RUT-^GSPC.1W": ("Russell 2000 minus S&P 500, 1W", 1.27, "pp", "^RUT ^GSPC", "1W",
                             "Difference of the two 1W returns."),
    "spread.IWC-OEF.1W": ("Micro caps minus mega caps, 1W", 2.06, "pp", "IWC OEF", "1W",
                          "Difference of the two 1W returns."),
    "streak.^RUT-^GSPC": ("Days of outperformance in a row", 4, "days", "^RUT ^GSPC", "history",
                          "Consecutive sessions with a higher daily return than the S&P 500."),
    "drawdown.^RUT": ("Distance from record", -3.08, "pct", "^RUT", "history", "Last close vs the highest."),
    "level.^RUT": ("Russell 2000 close", 2487.31, "level", "^RUT", "1D", LAST_CLOSE),
    "yield.^IRX": ("3-month T-bill yield", 3.91, "yield", "^IRX", "1D", LAST_QUOTE),
    "yield.^TNX": ("10-year Treasury yield", 4.12, "yield", "^TNX", "1D", LAST_QUOTE),
    "change.^TNX.1W": ("10-year yield, 1W change", -9, "bp", "^TNX", "1W", "Change in basis points."),
    "curve.^TNX-^IRX": ("10y−3m curve", 0.21, "pp", "^TNX ^IRX", "1D", "10-year yield minus 3-month yield."),
    "volume.IWM.20d": ("IWM volume vs 20-day average", 1.34, "x", "IWM", "20d",
                       "Week's average volume over the 20-day average."),
    "rsi.^RUT.14d": ("RSI(14)", 66.4, "index", "^RUT", "14d", "Wilder's RSI, 14 days."),
    "level.^VIX": ("VIX", 15.82, "level", "^VIX", "1D", LAST_CLOSE),
    "pctile.^VIX.1Y": ("VIX percentile, 1 year", 23, "pctile", "^VIX", "1Y",
                       "Percentile of the last close within one year of closes."),
    "level.^RVX": ("RVX", 21.4, "level", "^RVX", "1D", LAST_CLOSE),
    "sma200.^RUT": ("Close vs 200-day average", 6.4, "pct", "^RUT", "200d",
                    "Last close against its 200-day simple average."),
    "ratio.HYG/IEF.1M": ("HYG / IEF, 1M change", -0.42, "pct", "HYG IEF", "1M", "Change of the price ratio."),
}  # fmt: skip


class _Figures:
    """Builds figures from the catalogue, all with the provider of the brief."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def get(self, key: str, *, last_bar: date | None = AS_OF, stale: bool = False, note: str = "") -> Figure:
        label, value, unit, symbols, window, method = CATALOGUE[key]
        prov = Provenance(tuple(symbols.split()), window, last_bar, self.provider, method)
        return Figure(key, label, value, unit, prov, stale=stale, note=note)

    def ret(self, symbol: str, name: str, window: str, value: float | None) -> Figure:
        prov = Provenance((symbol,), window, AS_OF, self.provider, RETURN_METHOD, FIRST_BARS[window])
        note = "" if value is not None else "no bars for the window"
        return Figure(f"return.{symbol}.{window}", f"{name}, {window}", value, "pct", prov, note=note)

    def stale(self, key: str) -> Figure:
        return self.get(
            key, last_bar=STALE_BAR, stale=True, note="last bar 2026-10-30 is before the reporting week"
        )


# ---------------------------------------------------------------------------
# The narrative: lead, takeaways, body passages
# ---------------------------------------------------------------------------


def _takeaways(f: _Figures) -> tuple[Takeaway, ...]:
    return (
        Takeaway("spread", ("Small caps beat the S&P 500 by ", Cite(f.get("spread.^RUT-^GSPC.1W"), "1.27 pp"),
                            ", the widest gap in 11 weeks (data back to 2014-11-20)."), 2.3),
        Takeaway("streak", ("The Russell 2000 beat the S&P 500 for a ",
                            Cite(f.get("streak.^RUT-^GSPC"), "fourth straight session"), "."), 1.9),
        Takeaway("yield-move", ("The 10-year Treasury yield fell ", Cite(f.get("change.^TNX.1W"), "9 bp"),
                                " to ", Cite(f.get("yield.^TNX"), "4.12%"), "."), 1.5),
        Takeaway("rsi", ("RSI(14) is ", Cite(f.get("rsi.^RUT.14d"), "66.4"), ", near overbought (70)."), 1.1),
    )  # fmt: skip


def _body(f: _Figures, headlines: tuple[Headline, ...]) -> tuple[Passage, ...]:
    performance = Passage(
        "performance",
        "Performance",
        (
            ("The Russell 2000 rose ", Cite(f.ret("^RUT", "Russell 2000", "1W", 2.14), "2.14%"),
             " this week; year to date it is ", Cite(f.ret("^RUT", "Russell 2000", "YTD", 11.36), "+11.36%"),
             ", behind the S&P 500's ", Cite(f.ret("^GSPC", "S&P 500", "YTD", 16.42), "+16.42%"), "."),
            ("Micro caps (IWC) beat mega caps (OEF) by ", Cite(f.get("spread.IWC-OEF.1W"), "2.06 pp"),
             "; the index closed at ", Cite(f.get("level.^RUT"), "2,487.31"), ", ",
             Cite(f.get("drawdown.^RUT"), "3.08%"), " below its record of 2024-11-25."),
        ),
        chart="rut-vs-spx",
    )  # fmt: skip
    drivers = Passage(
        "drivers",
        "Drivers",
        (
            ("The 10y−3m curve is ", Cite(f.get("curve.^TNX-^IRX"), "+0.21 pp"),
             ", with the 3-month bill at ", Cite(f.get("yield.^IRX"), "3.91%"), "."),
            ("IWM traded ", Cite(f.get("volume.IWM.20d"), "1.34×"),
             " its daily average of the 20 sessions before; "
             "financials (PSCF) led the S&P SmallCap 600 sectors at ",
             Cite(f.ret("PSCF", "Financials", "1W", 3.42), "+3.42%"), "."),
        ),
        chart="sectors",
        headlines=headlines[:2],
    )  # fmt: skip
    risks = Passage(
        "risks",
        "Risks",
        (("The VIX closed at ", Cite(f.get("level.^VIX"), "15.82"), ", at the ",
          Cite(f.get("pctile.^VIX.1Y"), "23rd percentile"), " of its past year."),),
        headlines=headlines[2:3],
    )  # fmt: skip
    outlook = Passage(
        "outlook",
        "Outlook",
        (("The bull checklist meets 2 of its 3 conditions (1 without data) and the bear checklist "
          "1 of 2: conditions, not forecasts.",),),
        items=(("The Russell 2000's 14-day RSI is within 5 points of the overbought line at 70 (now ",
                Cite(f.get("rsi.^RUT.14d"), "66.4"), ")."),
               ("The VIX is no more than 2 points below 20 (now 18.6).",)),
    )  # fmt: skip
    return (performance, drivers, risks, outlook)


def _lead(f: _Figures) -> Prose:
    return (
        "Small caps rose ", Cite(f.ret("^RUT", "Russell 2000", "1W", 2.14), "2.14%"),
        " and beat the S&P 500 by ", Cite(f.get("spread.^RUT-^GSPC.1W"), "1.27 pp"),
        " as Treasury yields fell.",
    )  # fmt: skip


# ---------------------------------------------------------------------------
# The appendix: full figures
# ---------------------------------------------------------------------------


def _performance(f: _Figures) -> Section:
    windows = ("1W", "1M", "3M", "YTD", "1Y")
    series = {
        "^RUT": ("Russell 2000", (2.14, 4.87, 7.92, 11.36, 14.05)),
        "^SP600": ("S&P SmallCap 600", (1.96, 4.12, 6.45, 8.71, 10.94)),
        "^GSPC": ("S&P 500", (0.87, 2.31, 5.18, 16.42, 19.87)),
        "^IXIC": ("Nasdaq Composite", (0.42, 1.95, -6.03, 21.15, 25.62)),
    }
    rows: tuple[tuple[Figure | str, ...], ...] = tuple(
        (name, *(f.ret(sym, name, w, v) for w, v in zip(windows, values, strict=True)))
        for sym, (name, values) in series.items()
    )
    returns = Topic(
        "returns", "Returns by window", table=Table("Total returns by window", ("Series", *windows), rows)
    )
    ladder_rows = tuple(
        (label, sym, f.ret(sym, label, "1W", w1), f.ret(sym, label, "1M", m1), f.ret(sym, label, "3M", m3))
        for label, sym, w1, m1, m3 in (
            ("Micro", "IWC", 2.61, 5.30, 9.14),
            ("Small", "IWM", 2.09, 4.87, 7.85),
            ("Mid", "IWR", 1.32, 3.10, 5.96),
            ("Large", "IWB", 0.91, 2.40, 5.22),
            ("Mega", "OEF", 0.55, None, 5.47),  # one unavailable cell
        )
    )
    ladder = Topic(
        "ladder",
        "Size ladder",
        table=Table("Cap ladder, micro to mega", ("Size", "Fund", "1W", "1M", "3M"), ladder_rows),
    )
    return Section("performance", "Performance", (returns, ladder))  # fmt: skip


def _drivers(f: _Figures) -> Section:
    sector_rows = tuple(
        (name, sym, f.ret(sym, name, "1W", v))
        for name, sym, v in (
            ("Financials", "PSCF", 3.42),
            ("Regional banks", "KRE", 3.18),
            ("Industrials", "PSCI", 2.57),
            ("Health care", "PSCH", -0.64),
            ("Energy", "PSCE", -1.21),
        )
    )
    table = Table("Small-cap sectors, 1W", ("Sector", "Fund", "1W"), sector_rows)
    return Section("drivers", "Drivers", (Topic("sectors", "Sector leaders and laggards", table=table),))


def _risks(f: _Figures) -> Section:
    rows: tuple[tuple[Figure | str, ...], ...] = (
        ("VIX", f.get("level.^VIX")),
        ("VIX percentile, 1 year", f.get("pctile.^VIX.1Y")),
        ("RVX", f.stale("level.^RVX")),
    )
    table = Table("Volatility", ("Gauge", "Last"), rows)
    return Section("risks", "Risks", (Topic("volatility", "Volatility", table=table),))


def _outlook(f: _Figures) -> Section:
    bull = Topic(
        "bull",
        "Bull case",
        checks=(
            Check("Russell 2000 above its 200-day average", f.get("sma200.^RUT"), True),
            Check("10-year yield below 4.25%", f.get("yield.^TNX"), True),
            Check("Small-cap volatility (RVX) below 20", f.stale("level.^RVX"), None),
        ),
    )
    bear = Topic(
        "bear",
        "Bear case",
        checks=(
            Check("RSI(14) above 70", f.get("rsi.^RUT.14d"), False),
            Check("High yield lagging Treasuries over 1M", f.get("ratio.HYG/IEF.1M"), True),
        ),
    )
    return Section("outlook", "Outlook", (bull, bear))


def _headlines() -> tuple[Headline, ...]:
    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 11, day, hour, 30, tzinfo=UTC)

    return (
        Headline("cnbc-markets", "CNBC", "Small caps jump as Treasury yields slide",
                 "https://www.cnbc.com/2026/11/18/small-caps.html", at(18, 20),
                 "The Russell 2000 had its best day in a month as the 10-year yield fell.",
                 themes=("rates", "small_caps"), score=0.92),
        Headline("fed-press", "Federal Reserve", "Minutes of the Federal Open Market Committee, October 2026",
                 "https://www.federalreserve.gov/monetarypolicy/fomcminutes20261029.htm", at(19, 19),
                 "Participants judged that risks to the outlook were roughly balanced.", themes=("fed",),
                 score=0.71),
        Headline("marketwatch", "MarketWatch", "Why the *small-cap* rally | has room to run (analysis)",
                 "https://www.marketwatch.com/story/small-cap-rally?x=1&y=(2)", at(17, 13),
                 "Breadth improved: 7 of 9 sectors rose_this week; see [chart] #1.", themes=("rotation",),
                 score=0.88),
        Headline("unknown-feed", "Example Wire", HOSTILE_TITLE, None, at(16, 9), "<b>bold</b> claims & more",
                 score=0.40),
        Headline("reuters-biz", "Reuters", "Regional banks extend gains on loan growth",
                 "https://www.reuters.com/business/regional-banks/", None, "", themes=("sectors",),
                 score=0.65),
    )  # fmt: skip


def _health() -> tuple[SourceHealth, ...]:
    return (
        SourceHealth("symbol", "^RUT", "ok", "live", 3021, AS_OF, "", YF),
        SourceHealth("symbol", "^GSPC", "ok", "live", 3021, AS_OF, "", YF),
        SourceHealth("symbol", "^RVX", "stale", "cache", 2998, STALE_BAR, "last bar before the week", YF),
        SourceHealth("symbol", "PSCU", "failed", "none", 0, None, "HTTP 429 Too Many Requests", YF),
        SourceHealth("feed", "cnbc-markets", "ok", "live", 30, date(2026, 11, 20)),
        SourceHealth("feed", "marketwatch", "ok", "live", 25, date(2026, 11, 19)),
        SourceHealth("feed", "fed-press", "not modified", "cache", 12, date(2026, 11, 19)),
        SourceHealth("feed", "reuters-biz", "failed", "none", 0, None, "timed out after 10 s"),
    )


def make_brief(*, is_sample: bool = True) -> Brief:
    """A complete brief for the week of 2026-11-16 to 2026-11-20."""
    f = _Figures(SAMPLE if is_sample else YF)
    headlines = _headlines()
    warnings = (  # worded as the analysis words them; the stale ^RVX is under Not covered
        "The symbol PSCU failed: HTTP 429 Too Many Requests.",
        "The feed reuters-biz failed: timed out after 10 s.",
    )
    return Brief(
        title="Small-Cap Weekly",
        as_of=AS_OF,
        week_start=WEEK_START,
        week_end=AS_OF,
        built_at=BUILT_AT,
        is_sample=is_sample,
        summary="Small caps rose 2.14% and beat the S&P 500 by 1.27 pp as Treasury yields fell.",
        headline_figure=f.ret("^RUT", "Russell 2000", "1W", 2.14),
        sections=(_performance(f), _drivers(f), _risks(f), _outlook(f)),
        charts=make_chart_specs(),
        headlines=headlines,
        health=_health(),
        warnings=warnings,
        glossary=(
            ("bp", "Basis point: one hundredth of a percentage point."),
            ("pp", "Percentage point: the difference between two percentages."),
            (
                "RSI(14)",
                "Relative strength index over 14 days; above 70 reads overbought, below 30 oversold.",
            ),
            ("Relative strength ratio", "Russell 2000 divided by the S&P 500; rising means small caps lead."),
        ),
        disclaimer=DISCLAIMER,
        lead=_lead(f),
        takeaways=_takeaways(f),
        body=_body(f, headlines),
        not_covered=NOT_COVERED,
    )


# ---------------------------------------------------------------------------
# Chart specs
# ---------------------------------------------------------------------------


def _weekdays(end: date, count: int) -> tuple[str, ...]:
    days: list[date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return tuple(d.isoformat() for d in reversed(days))


def _walk(seed: int, count: int, drift: float, vol: float) -> list[float]:
    rng = random.Random(seed)
    level, out = 100.0, []
    for i in range(count):
        level *= 1 + drift + vol * (rng.random() - 0.5) + 0.002 * math.sin(i / 9)
        out.append(round(level, 4))
    return out


def _sma(values: list[float], n: int) -> tuple[float | None, ...]:
    return tuple(
        None if i + 1 < n else round(sum(values[i + 1 - n : i + 1]) / n, 4) for i in range(len(values))
    )


def make_chart_specs() -> tuple[ChartSpec, ...]:
    """Five specs: every chart kind, one year of daily points, and None values (gaps)."""
    n = 261
    x = _weekdays(AS_OF, n)
    source = f"Source: {SAMPLE}, last bar {AS_OF.isoformat()}"
    rut = _walk(1, n, 0.00055, 0.028)
    spx = _walk(2, n, 0.00065, 0.018)
    ratio = [round(r / s * 0.36, 4) for r, s in zip(rut, spx, strict=True)]
    irx = [round(4.35 - 0.45 * i / n + 0.03 * math.sin(i / 15), 3) for i in range(n)]
    tnx = [round(4.45 - 0.25 * i / n + 0.12 * math.sin(i / 21), 3) for i in range(n)]
    sectors = ("Financials", "Health care", "Industrials", "Energy", "Regional banks", "Utilities")
    return (
        ChartSpec("rut-vs-spx", "Russell 2000 vs S&P 500, rebased to 100",
                  "Line chart: over one year the Russell 2000 rose 14.05% and the S&P 500 19.87% (rebased).",
                  "line", x, (("Russell 2000", tuple(rut)), ("S&P 500", tuple(spx))), "Rebased (start = 100)",
                  source, reference=100.0),
        ChartSpec("rs-ratio", "Relative strength: Russell 2000 / S&P 500",
                  "Line chart: the Russell 2000 / S&P 500 ratio is 0.3712, above its 50-day average.",
                  "line", x, (("Ratio", tuple(ratio)), ("50-day average", _sma(ratio, 50))), "Ratio", source),
        ChartSpec("cap-ladder", "Returns by size, micro to mega",
                  "Bar chart: 1W returns fell with size, from +2.61% for micro caps to +0.55% for mega caps.",
                  "bar", ("Micro", "Small", "Mid", "Large", "Mega"),
                  (("1W", (2.61, 2.09, 1.32, 0.91, 0.55)), ("1M", (5.3, 4.87, 3.1, 2.4, None)),
                   ("3M", (9.14, 7.85, 5.96, 5.22, 5.47))), "Return (%)", source, reference=0.0),
        ChartSpec("sectors", "Small-cap sectors, week",
                  "Bars: financials led at +3.42%, energy lagged at -1.21%; utilities have no data.",
                  "hbar", sectors, (("1W", (3.42, -0.64, 2.57, -1.21, 3.18, None)),), "Return (%)", source,
                  reference=0.0),
        ChartSpec("rates", "Treasury yields",
                  "Line chart: over one year the 10-year yield ended at 4.12% and the 3-month at 3.91%.",
                  "line", x, (("3-month", tuple(irx)), ("10-year", tuple(tnx))), "Yield (%)", source),
    )  # fmt: skip


@functools.cache
def make_charts() -> dict[str, RenderedChart]:
    """The charts of :func:`make_brief` (SVG and PNG)."""
    from generator.charts import render_charts

    return render_charts(make_brief().charts)


@functools.cache
def make_pdf() -> PdfResult:
    """The PDF of :func:`make_brief`: its print HTML with the display names of ``NAMES``."""
    from generator.render import render_html, render_pdf_document

    return render_pdf_document(render_html(make_brief(), make_charts(), for_pdf=True, names=NAMES))
