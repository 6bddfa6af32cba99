"""The brief's standing text: data warnings, the glossary and the disclaimer."""

from __future__ import annotations

import re

from generator.analysis.common import Context
from generator.formatting import count_of
from generator.models import Snapshot, SourceHealth
from generator.narrative.words import anomaly

SAMPLE_WARNING = "SAMPLE DATA — illustrative, not market data."
_SAMPLE_SAID = re.compile(rf"\s*{re.escape(SAMPLE_WARNING.rstrip('.'))}\.?")
QUIET_WEEK = (
    "A quiet week beyond the headline: no record or 52-week extreme, no threshold crossed from last"
    " week's close to this week's (VIX 20/30, RSI 70/30, the 200-day average, a correction or bear"
    " market), no unusual streak, day or rate move."
)
DISCLAIMER = (
    "Not investment advice. This brief describes past market data from the sources named in it; it makes"
    " no recommendation and no forecast. Figures may be delayed, revised or wrong at the source; check them"
    " before acting on them."
)
# Term, definition, and the words that call for it (lower case): an entry is given only when the
# brief uses one of them, so the glossary explains what the reader meets and nothing else.
GLOSSARY_TERMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("52-week high / low", "The highest / lowest daily close of the last year.", ("52-week",)),
    (
        "Advance/decline (A/D) line",
        "The running sum of advancing minus declining members, session by session.",
        ("a/d line", "advance/decline", "advancers", "decliners"),
    ),
    (
        "Basis point (bp)",
        "One hundredth of a percentage point: a yield move from 4.00% to 4.25% is +25 bp.",
        ("bp",),
    ),
    (
        "Breadth",
        "How many of the index's members rise, fall or stand above a moving average.",
        ("breadth", "above their 50-day", "above their 200-day"),
    ),
    (
        "Drawdown",
        "How far the last close is below an earlier peak close, in percent.",
        ("drawdown", "below its record"),
    ),
    (
        "Equal weight",
        "An index that holds each member in the same amount (RSP) rather than by market value.",
        ("equal weight", "equal-weight"),
    ),
    (
        "Golden / death cross",
        "The 50-day average crossing above (golden) or below (death) the 200-day average.",
        ("golden cross", "death cross"),
    ),
    (
        "High-yield spread (OAS)",
        "The extra yield of U.S. high-yield corporate bonds over Treasuries, option-adjusted (ICE BofA"
        " index, through FRED); it widens when credit worries grow.",
        ("high-yield spread", "oas"),
    ),
    (
        "HYG / IEF",
        "The high-yield corporate bond fund over the 7–10-year Treasury fund: falling, credit lags.",
        ("hyg/ief", "hyg / ief", "hyg, ief"),
    ),
    (
        "McClellan oscillator",
        "The 19-day minus the 39-day exponential average of advancing minus declining members: above"
        " zero, more members have been rising of late than over the longer run.",
        ("mcclellan",),
    ),
    (
        "P/E including losses",
        "A group's total market value divided by its total trailing 12-month earnings, losses netted against"
        " profits: its P/E as if it were one company (the market-value-weighted harmonic mean of the"
        " companies' P/Es, negative ones included).",
        ("including losses",),
    ),
    (
        "Percentage point (pp)",
        "The plain difference between two percentages: 3% minus 1% is 2 pp.",
        ("pp",),
    ),
    (
        "QTD / YTD",
        "Quarter to date / year to date: since the last close of the previous quarter / year.",
        ("year to date", "quarter to date", "ytd", "qtd"),
    ),
    (
        "Realized volatility",
        "The annualized standard deviation of daily returns over a window (here 20 days).",
        ("realized volatility",),
    ),
    (
        "Relative strength",
        "The ratio of one index to another; rising means the first is outperforming.",
        ("relative strength", "ratio"),
    ),
    (
        "RSI",
        "Relative Strength Index (Wilder, 14 days), 0–100; 70 or above is overbought, 30 or below oversold.",
        ("rsi",),
    ),
    (
        "Sector dispersion",
        "How far apart the sector funds' weekly returns are: their standard deviation, in percentage points.",
        ("dispersion",),
    ),
    (
        "Standard deviations",
        "A move of N standard deviations is N times the typical size of the series' past moves of the"
        " same length: its weekly changes since its data begin for a week, its daily returns over the"
        " three years before the week for a day; measured from no move, not from the average move.",
        ("standard deviation",),
    ),
    (
        "Trailing P/E",
        "Price over the last twelve months' earnings; for a fund, its data provider's figure from the"
        " holdings' earnings.",
        ("p/e",),
    ),
    (
        "VIX / RVX",
        "Cboe implied-volatility indices for the S&P 500 (VIX) and the Russell 2000 (RVX).",
        ("vix", "rvx"),
    ),
    (
        "Yield curve",
        "A longer Treasury yield minus a shorter one, as named (10-year minus 2-year, or minus the 3-month"
        " bill); below zero it is inverted.",
        ("curve",),
    ),
)
GLOSSARY: tuple[tuple[str, str], ...] = tuple((term, meaning) for term, meaning, _ in GLOSSARY_TERMS)


def glossary(text: str) -> tuple[tuple[str, str], ...]:
    """The entries of :data:`GLOSSARY_TERMS` whose words ``text`` (the brief's own words) uses, as
    whole words (a plural too): "RSI" is not in "dispersion", nor "OAS" in "Coastal", nor "pp" in "PPI"."""
    words = " ".join(text.lower().split())

    def said(call: str) -> bool:
        return re.search(rf"(?<![a-z0-9]){re.escape(call)}s?(?![a-z0-9])", words) is not None

    return tuple((term, meaning) for term, meaning, calls in GLOSSARY_TERMS if any(map(said, calls)))


def warnings(ctx: Context, snapshot: Snapshot) -> tuple[str, ...]:
    out: list[str] = list(snapshot.notes)
    if snapshot.is_sample:
        # The sample banner already says so at the top of every page: no warning repeats it.
        out = [n for n in (_SAMPLE_SAID.sub("", n).strip() for n in out) if n]
    for sym, a in sorted(ctx.flagged.items()):
        out.append(f"{sym}: {anomaly(a)}.")
    if not snapshot.is_sample:  # a sample fallen back to: its first note counts the failures already
        out += _failures([h for h in snapshot.health if h.status == "failed"])
    return tuple(dict.fromkeys(out))


# Up to this many failed sources are told one by one, with their reasons; more are counted by kind
# (the reasons are in the appendix's Source health): 30 warnings filled the first page of the PDF.
FAILURES_TOLD_ONE_BY_ONE = 3


def _failures(failed: list[SourceHealth]) -> list[str]:
    if len(failed) <= FAILURES_TOLD_ONE_BY_ONE:
        return [f"The {h.kind} {h.name} failed{f': {h.error}' if h.error else ''}." for h in failed]
    kinds: dict[str, list[str]] = {}
    for h in failed:
        kinds.setdefault(h.kind, []).append(h.name)
    parts = []
    for kind, names in kinds.items():
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        parts.append(f"{count_of(len(names), kind)} ({shown})")
    return [
        f"{len(failed)} sources failed: {'; '.join(parts)}. Each is named with its reason in Source health."
    ]
