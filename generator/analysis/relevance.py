"""Headline relevance: the vocabulary, the drop rules (promotions, off-topic items) and the score.

A headline's score adds three parts and then scales the sum:

- small-cap points: terms of the ``small_caps`` theme (a term in the title counts twice),
  saturating below :data:`SMALL_MAX` so that piling up synonyms does not outrank news;
- market points: every other theme plus the general market and macro vocabulary, saturating
  below :data:`MARKET_MAX`, so a headline about small caps outranks one that is only about markets;
- instrument points: mentions of the configured universe's symbols and names (``IWM``, ``KRE``,
  "Russell 2000"), capped at :data:`INSTRUMENT_MAX`;

times the recency factor (:data:`RECENCY_MIN` at the start of the week's news window, 1 at its
close), the feed's configured weight, and :data:`EVERGREEN_FACTOR` for a title that reads as an
explainer or a guide rather than the week's news ("IJR and IWM: what separates the two most popular
small-cap funds" named two funds and outranked "Russell 2000 Closes at Record").  Pure functions: no
clock, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, lru_cache

from generator.models import Headline, Instrument

THEMES: tuple[str, ...] = (
    "small_caps",
    "rates",
    "fed",
    "rotation",
    "credit",
    "banks",
    "sectors",
    "earnings",
    "economy",
    "volatility",
    "technicals",
    "valuation",
)

# The lexicon: one row per theme and weight, terms separated by "|".  Hyphens and spaces are
# equivalent ("small-cap" == "small cap"), a trailing plural "s" is allowed, and a term with a
# capital letter matches case-sensitively ("Fed", "CPI") while a lower-case term matches any case.
LEXICON_TABLE = """
small_caps  3.0  small cap | smallcap | micro cap | microcap | Russell 2000 | IWM | S&P 600 | SmallCap 600
small_caps  2.5  IJR | small capitalization
small_caps  2.0  small company | smaller companies
small_caps  1.0  mid cap | small business
fed         2.5  Federal Reserve | FOMC
fed         2.0  Fed | Powell | rate cut | rate hike | fed funds
fed         1.5  dot plot | Fed chair
fed         1.0  central bank
rates       2.5  treasury yield
rates       2.0  bond yield | yield curve
rates       1.5  10 year | 2 year | Treasuries | interest rate
rates       1.0  rate cut | mortgage rate | yield
rotation    2.5  rotation | rotating | rotate
rotation    1.5  large cap | megacap | mega cap | Magnificent Seven | equal weight | broadening
rotation    1.5  market breadth
rotation    1.0  laggard
credit      2.5  high yield | junk bond | credit spread
credit      2.0  credit market | leveraged loan | private credit
credit      1.0  default | refinancing
banks       3.0  regional bank
banks       2.5  community bank | KRE
banks       1.5  bank stock | bank shares | bank earnings | banking sector | lender
banks       1.0  deposit | bank failure
sectors     1.5  sector | biotech | energy stock | tech stock | industrials | utilities | homebuilder
sectors     1.0  semiconductor | retailer
earnings    2.5  earnings
earnings    2.0  guidance | quarterly results
earnings    1.5  EPS | beats estimates | misses estimates
earnings    1.0  profit | revenue
economy     2.5  jobs report | payrolls | CPI | GDP
economy     2.0  unemployment | inflation | recession | retail sales | PMI | jobless claims
economy     1.5  consumer spending | tariff
economy     1.0  economy
volatility  2.5  VIX | volatility
volatility  2.0  selloff | sell off | fear gauge
volatility  1.5  rout | correction | turmoil
volatility  1.0  plunge | tumble
technicals  2.5  moving average | overbought | oversold | death cross | golden cross
technicals  2.0  200 day | 50 day | breakout | RSI
technicals  2.0  record close | record high | all time high | winning streak | losing streak
technicals  1.5  support level | 52 week high | 52 week low
technicals  1.0  resistance
valuation   2.5  P/E | price to earnings | valuation
valuation   2.0  forward earnings | undervalued | overvalued
valuation   1.0  cheap | expensive | multiple
"""

# General market and macro words: they add to the market points but assign no theme.  The first
# column is the brief section such a word points to (used by the placement, never by the score).
MARKET_TABLE = """
performance  1.5  stock market | Wall Street | Wall St | S&P 500 | Dow | Nasdaq | equities | equity market
performance  1.5  stock
performance  1.0  stock index | share prices | weekly gain | weekly loss | investors | bourse
performance  1.0  global markets | financial markets | emerging markets | stock exchange | futures
rates        1.5  oil price | oil | crude | Brent | WTI | dollar | bond market | commodities | gold price
rates        1.0  gas prices | energy prices | labor market | bond | currency | yen | euro
sectors      1.0  IPO | merger | acquisition | buyback | dividend | fund flows | inflows | outflows
volatility   1.0  short seller | hedge fund | margin call | panic
"""

# Promotions, event ads and sign-up pitches: dropped whatever else the item says.
PROMOTION = re.compile(
    r"^\W*(register|sign up|subscribe|apply|join us|rsvp|save the date|enter now|nominate)\b"
    r"|^\W*(podcast|listen|watch live|sponsored|advertisement|promoted|partner content)\s*[:|–—-]"
    r"|\b(registration|applications?|nominations?|entries|submissions) (is |are )?(now )?open\b"
    r"|\b(webinar|webcast|masterclass|virtual event|early[- ]bird|free trial|promo code|discount code)s?\b"
    r"|[\[(]\s*(sponsored|advertisement|ad|promoted|partner content)\s*[\])]"
    r"|\b(sponsored content|sponsored post|paid post|paid content|paid partnership|partner content|"
    r"advertorial|brand studio)\b"
    r"|\b(sign up|subscribe|register)\b.{0,60}\b(newsletter|podcast|conference|summit|event|webinar|"
    r"briefing|alerts?|inbox)\b"
    r"|\b(newsletter|podcast|conference|summit|forum|awards?|gala)\b.{0,60}\b(register|tickets?|"
    r"sign up|apply now|join us)\b"
    r"|\b(in your inbox|we want to hear from you|tell us about|take our (survey|quiz)|share your "
    r"(story|experience))\b"
    r"|\b(listen to|subscribe to|new episode of) (the |our )?[\w' ]{0,40}(podcast|show)\b",
    re.IGNORECASE,
)

# Topics a small-cap brief does not cover: dropped when the item has no market vocabulary at all.
OFF_TOPIC: Mapping[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "sports": r"\b(NFL|NBA|MLB|NHL|PGA|UFC|FIFA|Formula (1|One)|F1|Grand Prix|Super Bowl|World Cup|"
        r"Olympics?|Wimbledon|playoffs?|quarterback|touchdown|tournament|pole (position|record)|"
        r"sports?|athletes?|coach)\b",
        "celebrity": r"\b(celebrit(y|ies)|Kardashians?|red carpet|Oscars?|Grammys?|Emmys?|box office|"
        r"Hollywood|royal family|pop star|rapper|actor|actress|reality (TV|show)|Pixar)\b",
        "food": r"\b(recipes?|cooking|chef|dessert|dinner|baking|cookbook|dining|cocktails?|"
        r"restaurant review)\b",
        "lifestyle": r"\b(horoscope|dating|wedding|parents|parenting|kids|children|travel guide|"
        r"like a local|things to do|fashion|skin ?care|workout)\b",
        "obituary": r"\b(obituary|dies at \d+|dead at \d+)\b",
    }.items()
}

# A look ahead: the item speaks of what is coming, so it belongs with the calendar.
CALENDAR = re.compile(
    r"\b(week ahead|next week|the week to come|what to watch|to watch|preview|on tap|on deck|upcoming|"
    r"calendar|catalyst watch|due (out|on|next)|set to report)\b",
    re.IGNORECASE,
)

TITLE_WEIGHT = 2.0  # a term in the title counts twice as much as one in the summary
THEME_MIN = 1.0  # a theme is assigned when its points reach this
TOPIC_BONUS = 0.5  # per feed topic; nudges ranking, never assigns a theme by itself
SMALL_MAX, SMALL_HALF = 8.0, 6.0  # small-cap points saturate below 8, reaching 4 at one title term
MARKET_MAX, MARKET_HALF = 3.0, 4.0  # market points saturate below 3, reaching 1.5 at 4 raw points
INSTRUMENT_TITLE, INSTRUMENT_SUMMARY = 1.5, 0.75  # per distinct instrument named
INSTRUMENT_MAX = 3.0
RECENCY_MIN = 0.8  # the factor for an item at the very start of the week's news window
_ISSUERS = re.compile(r"^(iShares|Invesco|SPDR|Vanguard|Schwab|Global X|VanEck)\s+|\s+(ETF|Fund)$")


def normalize(text: str) -> str:
    """Hyphens between letters become spaces and whitespace collapses: "small-cap" == "small cap"."""
    return re.sub(r"\s+", " ", re.sub(r"(?<=\w)[-‐‑–—](?=\w)", " ", text)).strip()


@dataclass(frozen=True)
class Term:
    """A pattern and a literal every text it matches contains: the pattern is compiled (once per
    process) only when a text could match.  The vocabulary is ~150 patterns and Python compiles
    each in about a millisecond: compiling them all at import cost a fresh build 0.15 s."""

    source: str
    literal: str  # lower-cased when ``ignore_case``
    ignore_case: bool

    def found(self, text: str, lowered: str) -> bool:
        """Whether the pattern matches ``text`` (``lowered`` is ``text.lower()``)."""
        ascii_only = text.isascii() and self.literal.isascii()
        if ascii_only and self.literal not in (lowered if self.ignore_case else text):
            return False
        return _compiled(self.source, self.ignore_case).search(text) is not None


@cache
def _compiled(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.IGNORECASE if ignore_case else 0)


def compile_term(term: str) -> Term:
    """The term as a whole word or phrase, plural allowed; case-sensitive when it has a capital."""
    literal, ignore_case = normalize(term), not any(c.isupper() for c in term)
    source = r"(?<![\w&/])" + re.escape(literal) + r"(?:s|es)?(?![\w&/])"
    return Term(source, literal.lower() if ignore_case else literal, ignore_case)


def _table(table: str, keys: Sequence[str]) -> dict[str, tuple[tuple[str, float], ...]]:
    rows: dict[str, list[tuple[str, float]]] = {key: [] for key in keys}
    for row in table.strip().splitlines():
        key, weight, terms = row.split(maxsplit=2)
        rows[key].extend((term.strip(), float(weight)) for term in terms.split("|"))
    return {key: tuple(terms) for key, terms in rows.items()}


LEXICON: Mapping[str, tuple[tuple[str, float], ...]] = _table(LEXICON_TABLE, THEMES)
MARKET: Mapping[str, tuple[tuple[str, float], ...]] = _table(
    MARKET_TABLE, ("performance", "rates", "sectors", "volatility")
)
_THEME_PATTERNS = tuple((k, compile_term(t), w) for k, terms in LEXICON.items() for t, w in terms)
_MARKET_PATTERNS = tuple((k, compile_term(t), w) for k, terms in MARKET.items() for t, w in terms)


def _points(patterns: Iterable[tuple[str, Term, float]], title: str, summary: str) -> dict[str, float]:
    """Points per key: each matched term once, a title match counting :data:`TITLE_WEIGHT` times."""
    title_n, summary_n = normalize(title), normalize(summary)
    title_l, summary_l = title_n.lower(), summary_n.lower()
    points: dict[str, float] = {}
    for key, term, weight in patterns:
        if term.found(title_n, title_l):
            points[key] = points.get(key, 0.0) + weight * TITLE_WEIGHT
        elif term.found(summary_n, summary_l):
            points[key] = points.get(key, 0.0) + weight
    return points


def theme_points(title: str, summary: str, topics: Iterable[str] = ()) -> dict[str, float]:
    """Points per theme: each matched term once, title matches weighted more; feed topics add a bonus."""
    points = _points(_THEME_PATTERNS, title, summary)
    for topic in topics:
        if topic in THEMES:
            points[topic] = points.get(topic, 0.0) + TOPIC_BONUS
    return points


def market_points(title: str, summary: str) -> dict[str, float]:
    """Points of the general market and macro vocabulary, per the section each word points to."""
    return _points(_MARKET_PATTERNS, title, summary)


# ---------------------------------------------------------------------------
# Instruments of the configured universe
# ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def instrument_patterns(universe: tuple[Instrument, ...]) -> tuple[tuple[str, Term, Instrument], ...]:
    """(alias, pattern, instrument) for each symbol and name by which a headline may name an instrument.

    A symbol counts when it is three or more capitals (``IWM``, ``^RUT`` as ``RUT``), matched
    case-sensitively; a name counts as written and without its issuer and "ETF"
    ("iShares Russell 2000 Value ETF" → "Russell 2000 Value").
    """
    out: dict[str, tuple[Term, Instrument]] = {}
    for instrument in universe:
        symbol = instrument.symbol.lstrip("^")
        if re.fullmatch(r"[A-Z][A-Z0-9]{2,5}", symbol):
            out.setdefault(
                symbol, (Term(rf"(?<![\w$]){re.escape(symbol)}(?![\w])", symbol, False), instrument)
            )
        for name in {instrument.name, _ISSUERS.sub("", instrument.name)}:
            name = normalize(name)
            if len(name.split()) >= 2 or re.search(r"\d|&", name):
                out.setdefault(name.casefold(), (compile_term(name), instrument))
    return tuple((alias, pattern, instrument) for alias, (pattern, instrument) in out.items())


def instrument_mentions(
    title: str, summary: str, universe: Sequence[Instrument]
) -> tuple[tuple[Instrument, bool], ...]:
    """The instruments a headline names, each once, with True when the title names it."""
    title_n, summary_n = normalize(title), normalize(summary)
    title_l, summary_l = title_n.lower(), summary_n.lower()
    found: dict[str, bool] = {}
    by_symbol: dict[str, Instrument] = {}
    for _, term, instrument in instrument_patterns(tuple(universe)):
        in_title = term.found(title_n, title_l)
        if in_title or term.found(summary_n, summary_l):
            found[instrument.symbol] = found.get(instrument.symbol, False) or in_title
            by_symbol[instrument.symbol] = instrument
    return tuple((by_symbol[s], t) for s, t in found.items())


def instrument_points(title: str, summary: str, universe: Sequence[Instrument]) -> float:
    mentions = instrument_mentions(title, summary, universe)
    points = sum(INSTRUMENT_TITLE if in_title else INSTRUMENT_SUMMARY for _, in_title in mentions)
    return min(points, INSTRUMENT_MAX)


# ---------------------------------------------------------------------------
# Drops and the score
# ---------------------------------------------------------------------------


def drop_reason(headline: Headline, universe: Sequence[Instrument] = ()) -> str | None:
    """ "promotion", an off-topic kind ("sports", "celebrity", ...), or None for an item to score."""
    if PROMOTION.search(headline.title) or PROMOTION.search(headline.summary[:160]):
        return "promotion"
    text = f"{headline.title} {headline.summary}"
    kinds = [name for name, pattern in OFF_TOPIC.items() if pattern.search(text)]
    if not kinds:
        return None
    relevant = (
        _points(_THEME_PATTERNS, headline.title, headline.summary)
        or market_points(headline.title, headline.summary)
        or instrument_mentions(headline.title, headline.summary, universe)
    )
    return None if relevant else kinds[0]


def recency(published: datetime | None, window: tuple[datetime, datetime] | None) -> float:
    """From :data:`RECENCY_MIN` at the window's start to 1 at its end (1 without a window or a date)."""
    if window is None or published is None:
        return 1.0
    start, end = window
    span = (end - start).total_seconds()
    if span <= 0:
        return 1.0
    position = min(max((published - start).total_seconds() / span, 0.0), 1.0)
    return RECENCY_MIN + (1 - RECENCY_MIN) * position


# Titles of explainers, guides and evergreen pieces: worth reading any week, news in none.
EVERGREEN = re.compile(
    r"\b(explained|explainer|primer|guide to|a guide|101(?=\s*$|\s*[:—–-])|everything you need to know"
    r"|what you need to know|things to know|what separates|the difference between|differences between"
    r"|how to (buy|invest|pick|choose)|here['’]?s what could|here is what could|should you buy"
    r"|is it time to buy|which is better)\b",
    re.IGNORECASE,
)
EVERGREEN_FACTOR = 0.7


def score_headline(
    headline: Headline,
    topics: Iterable[str] = (),
    *,
    universe: Sequence[Instrument] = (),
    window: tuple[datetime, datetime] | None = None,
    weight: float = 1.0,
) -> Headline:
    """The headline with its themes (best first) and its relevance score (see the module's docstring)."""
    points = theme_points(headline.title, headline.summary, topics)
    themes = sorted(
        (t for t, p in points.items() if p >= THEME_MIN), key=lambda t: (-points[t], THEMES.index(t))
    )
    macro = sum(p for t, p in points.items() if t != "small_caps")
    macro += sum(market_points(headline.title, headline.summary).values())
    small = points.get("small_caps", 0.0)
    base = (
        SMALL_MAX * small / (small + SMALL_HALF)
        + MARKET_MAX * macro / (macro + MARKET_HALF)
        + instrument_points(headline.title, headline.summary, universe)
    )
    evergreen = EVERGREEN_FACTOR if EVERGREEN.search(headline.title) else 1.0
    score = round(base * recency(headline.published, window) * weight * evergreen, 3)
    return replace(headline, themes=tuple(themes), score=score)
