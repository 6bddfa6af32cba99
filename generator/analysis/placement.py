"""Placement: each headline goes beside the section whose facts it speaks to, or nowhere.

A headline matches a section through its themes (its main theme counts most), the market words
it uses, the instruments of the universe it names (by their role: ``HYG`` is credit, ``KRE`` a
sector) and, for the calendar, words that look ahead ("week ahead", "ahead of").  It is placed
once, in the section it matches best that has facts this week and room left; a headline that
matches no such section well enough is left out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from generator.analysis.relevance import CALENDAR, instrument_mentions, market_points, theme_points
from generator.models import Headline, Instrument

SECTIONS: tuple[str, ...] = (
    "performance",
    "rates",
    "rotation",
    "credit",
    "sectors",
    "volatility",
    "valuation",
    "calendar",
)
# The body passage each section's headlines are shown in.
PASSAGE: Mapping[str, str] = {
    "performance": "performance",
    "rates": "drivers",
    "rotation": "drivers",
    "credit": "drivers",
    "sectors": "drivers",
    "volatility": "risks",
    "valuation": "valuation",
    "calendar": "outlook",
}
THEME_SECTION: Mapping[str, str] = {
    "rates": "rates",
    "fed": "rates",
    "economy": "rates",
    "rotation": "rotation",
    "credit": "credit",
    "sectors": "sectors",
    "banks": "sectors",
    "earnings": "sectors",
    "volatility": "volatility",
    "technicals": "volatility",
    "valuation": "valuation",
}
ROLE_SECTION: Mapping[str, str] = {
    "small_cap": "performance",
    "large_cap": "performance",
    "size_ladder": "rotation",
    "style": "rotation",
    "rates": "rates",
    "volatility": "volatility",
    "credit": "credit",
    "sector": "sectors",
}
# The market's own record: such a headline reports performance, whatever else it names.
RECORDS = re.compile(
    r"\b(record (close|high|low)|clos(e|es|ed) at a record|all[- ]time (high|low)|52[- ]week (high|low)|"
    r"(winning|losing) streak|(best|worst) (week|month|day))",
    re.IGNORECASE,
)
RANK_WEIGHTS = (1.0, 0.6, 0.4)  # a headline's first, second and later themes
THEME_EVIDENCE = 2.0  # theme points needed to place by that theme: a title term, or two in the summary
SMALL_CAPS = 0.5  # the small-caps theme points to performance, weakly: every section is about small caps
MARKET_WORDS = (
    1.0  # a section's market words in the title (stocks → performance, oil → rates); half in the summary
)
INSTRUMENT = 1.0  # naming an instrument of the section's role
LOOKS_AHEAD = 3.0  # the calendar: a title that looks ahead outweighs its topic
PLACE_MIN = 0.5  # a weaker match than this is no match


def section_matches(headline: Headline, universe: Sequence[Instrument] = ()) -> dict[str, float]:
    """How well ``headline`` matches each section it matches at all."""
    match: dict[str, float] = {}

    def add(section: str, points: float) -> None:
        match[section] = match.get(section, 0.0) + points

    points = theme_points(headline.title, headline.summary)
    record = bool(RECORDS.search(headline.title))
    specific = [
        t
        for t in headline.themes
        if t in THEME_SECTION and points.get(t, 0.0) >= THEME_EVIDENCE and not (t == "technicals" and record)
    ]
    for rank, theme in enumerate(specific):
        add(THEME_SECTION[theme], RANK_WEIGHTS[min(rank, len(RANK_WEIGHTS) - 1)])
    if "small_caps" in headline.themes:
        add("performance", SMALL_CAPS)
    for section, words in market_points(headline.title, headline.summary).items():
        add(section, MARKET_WORDS if words >= THEME_EVIDENCE + 1 else MARKET_WORDS / 2)
    mentioned = instrument_mentions(headline.title, headline.summary, universe)
    for section in {ROLE_SECTION[r] for i, _ in mentioned for r in i.roles if r in ROLE_SECTION}:
        add(section, INSTRUMENT)
    if CALENDAR.search(headline.title):
        add("calendar", LOOKS_AHEAD)
    if record:
        add("performance", INSTRUMENT)
    return match


def place_headlines(
    headlines: Sequence[Headline],
    sections: Collection[str] = SECTIONS,
    *,
    universe: Sequence[Instrument] = (),
    per_section: int = 2,
) -> dict[str, tuple[Headline, ...]]:
    """Headlines by section key, at most ``per_section`` each, each headline placed at most once.

    ``headlines`` come best first (as :func:`~generator.analysis.headlines.select_headlines`
    returns them); ``sections`` are the sections that have facts this week.  A headline goes to
    the best-matching of those with room left, ties broken in :data:`SECTIONS` order.
    """
    placed: dict[str, list[Headline]] = {s: [] for s in SECTIONS if s in sections}
    for headline in headlines:
        match = section_matches(headline, universe)
        open_ = [s for s in placed if match.get(s, 0.0) >= PLACE_MIN and len(placed[s]) < per_section]
        if open_:
            best = max(open_, key=lambda s: (match[s], -SECTIONS.index(s)))
            placed[best].append(headline)
    return {s: tuple(hs) for s, hs in placed.items() if hs}


def for_passages(
    placed: Mapping[str, Sequence[Headline]], per_passage: int = 3
) -> dict[str, tuple[Headline, ...]]:
    """Placed headlines regrouped by the body passage their section is shown in (drivers, risks, ...):
    at most ``per_passage`` each, the best-scored first."""
    grouped: dict[str, list[Headline]] = {}
    for section in SECTIONS:
        grouped.setdefault(PASSAGE[section], []).extend(placed.get(section, ()))
    return {
        key: tuple(sorted(items, key=lambda h: -h.score)[:per_passage])
        for key, items in grouped.items()
        if items
    }
