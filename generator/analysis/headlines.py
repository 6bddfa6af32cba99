"""Headlines: parse captured feeds, keep the reporting week, de-duplicate, score and theme.

Pure functions: no network, no clock.  Feed text is untrusted, so every title and
summary leaves this module as plain text (tags stripped with nh3, entities decoded;
templates escape it) and every link is http(s) or None.

feedparser is always given a file-like object: given ``bytes`` it first tries to
open them as a local path, so a feed whose body is a path would be read from disk.
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
import nh3

from generator.models import Feed, FeedCapture, Headline

log = logging.getLogger(__name__)

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
rotation    2.5  rotation
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
technicals  1.5  record high | all time high | support level
technicals  1.0  resistance
valuation   2.5  P/E | price to earnings | valuation
valuation   2.0  forward earnings | undervalued | overvalued
valuation   1.0  cheap | expensive | multiple
"""


def _lexicon(table: str) -> dict[str, tuple[tuple[str, float], ...]]:
    lexicon: dict[str, list[tuple[str, float]]] = {theme: [] for theme in THEMES}
    for row in table.strip().splitlines():
        theme, weight, terms = row.split(maxsplit=2)
        lexicon[theme].extend((term.strip(), float(weight)) for term in terms.split("|"))
    return {theme: tuple(terms) for theme, terms in lexicon.items()}


LEXICON: Mapping[str, tuple[tuple[str, float], ...]] = _lexicon(LEXICON_TABLE)
TITLE_WEIGHT = 2.0  # a term in the title counts twice as much as one in the summary
THEME_MIN = 1.0  # a theme is assigned when its points reach this
TOPIC_BONUS = 0.5  # per feed topic; nudges ranking, never assigns a theme by itself
# Market-wide themes add to small-cap relevance, saturating below OTHER_THEMES_MAX points,
# so a headline that mentions small caps outranks one that does not.
OTHER_THEMES_MAX = 2.0
OTHER_THEMES_HALF = 6.0  # theme points at which they add half of OTHER_THEMES_MAX
MAX_TITLE = 200
MAX_SUMMARY = 300
MAX_LINK = 2000


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"(?<=\w)[-‐‑–—](?=\w)", " ", text)).strip()


def _compile(term: str) -> re.Pattern[str]:
    flags = 0 if any(c.isupper() for c in term) else re.IGNORECASE
    return re.compile(r"(?<![\w&/])" + re.escape(_normalize(term)) + r"(?:s|es)?(?![\w&/])", flags)


_PATTERNS: tuple[tuple[str, re.Pattern[str], float], ...] = tuple(
    (theme, _compile(term), weight) for theme, terms in LEXICON.items() for term, weight in terms
)


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def parse_bytes(body: bytes) -> Any:
    """feedparser over bytes only (never a URL or a path)."""
    return feedparser.parse(io.BytesIO(body))


def entry_published(entry: Mapping[str, Any]) -> datetime | None:
    """An entry's published (else updated) time as an aware UTC datetime."""
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                year, month, day, hour, minute, second = parsed[:6]
                return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def plain_text(raw: object, limit: int) -> str:
    """Untrusted (possibly HTML) text → plain text: tags stripped, entities decoded, whitespace collapsed."""
    text = html.unescape(nh3.clean(str(raw or ""), tags=set()))
    if re.search(r"<[A-Za-z!/]", text):  # double-escaped markup: strip the decoded tags too
        text = html.unescape(nh3.clean(text, tags=set()))
    text = strip_controls(text)
    return _truncate(re.sub(r"\s+", " ", text).strip(), limit)


def strip_controls(text: str) -> str:
    """Drop control and format characters (Unicode Cc, Cf: NUL, ESC, bidi overrides and isolates),
    keeping tabs and newlines (collapsed later) and the zero-width joiner used by emoji."""
    return "".join(c for c in text if c in "\t\n\u200d" or unicodedata.category(c) not in ("Cc", "Cf"))


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"


def safe_link(raw: object) -> str | None:
    """The link when it is an absolute http(s) URL; None for javascript:, data:, file:, relative, ..."""
    link = str(raw or "").strip()
    if not link or len(link) > MAX_LINK or re.search(r"[\s\x00-\x1f\x7f<>\"'`\\]", link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    return link if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def parse_feed(capture: FeedCapture, feed: Feed) -> list[Headline]:
    """Every entry of one captured feed as a :class:`Headline` (unscored, unfiltered)."""
    if not capture.body:
        return []
    parsed = parse_bytes(capture.body)
    headlines = []
    for entry in parsed.entries:
        title = plain_text(entry.get("title"), MAX_TITLE)
        if not title:
            continue
        link = safe_link(entry.get("link"))
        summary = plain_text(entry.get("summary"), MAX_SUMMARY)
        if normalize_title(summary).startswith(normalize_title(title)):
            summary = ""  # aggregators repeat the title as the summary
        headlines.append(
            Headline(
                feed=feed.name,
                outlet=feed.outlet,
                title=title,
                link=link,
                published=entry_published(entry),
                summary=summary,
                guid=str(entry.get("id") or link or "").strip()[:MAX_LINK],
            )
        )
    return headlines


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------


def theme_points(title: str, summary: str, topics: Iterable[str] = ()) -> dict[str, float]:
    """Points per theme: each matched term once, title matches weighted more; feed topics add a bonus."""
    title_n, summary_n = _normalize(title), _normalize(summary)
    points: dict[str, float] = {}
    for theme, pattern, weight in _PATTERNS:
        if pattern.search(title_n):
            points[theme] = points.get(theme, 0.0) + weight * TITLE_WEIGHT
        elif pattern.search(summary_n):
            points[theme] = points.get(theme, 0.0) + weight
    for topic in topics:
        if topic in THEMES:
            points[topic] = points.get(topic, 0.0) + TOPIC_BONUS
    return points


def score_headline(headline: Headline, topics: Iterable[str] = ()) -> Headline:
    """The headline with its themes (best first) and its small-cap relevance score."""
    points = theme_points(headline.title, headline.summary, topics)
    themes = sorted(
        (t for t, p in points.items() if p >= THEME_MIN), key=lambda t: (-points[t], THEMES.index(t))
    )
    others = sum(p for t, p in points.items() if t != "small_caps")
    market = OTHER_THEMES_MAX * others / (others + OTHER_THEMES_HALF)
    score = round(points.get("small_caps", 0.0) + market, 3)
    return replace(headline, themes=tuple(themes), score=score)


# ---------------------------------------------------------------------------
# Selection and de-duplication
# ---------------------------------------------------------------------------


def normalize_link(link: str) -> str:
    """A link for comparison: lower-case scheme and host, no fragment, no utm_* parameters."""
    parts = urlsplit(link)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith("utm_")
    ]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", parts.netloc.lower(), path, urlencode(query), ""))


def normalize_title(title: str) -> str:
    return re.sub(r"[^\w]+", " ", title.casefold()).strip()


def headline_keys(headline: Headline) -> tuple[str, ...]:
    """The keys that identify a headline across feeds and weeks: its GUID and its normalized link."""
    keys = []
    guid = headline.guid
    if guid:
        global_id = "://" in guid or guid.startswith(("urn:", "tag:"))
        keys.append(f"guid:{guid}" if global_id else f"guid:{headline.outlet.casefold()}|{guid}")
    if headline.link:
        keys.append(f"link:{normalize_link(headline.link)}")
    if not keys:
        keys.append(f"title:{normalize_title(headline.title)}")
    return tuple(dict.fromkeys(keys))


def _similar(a: str, b: str) -> bool:
    tokens_a, tokens_b = set(a.split()), set(b.split())
    if len(tokens_a) >= 4 and tokens_a == tokens_b:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= 0.9 and matcher.quick_ratio() >= 0.9 and matcher.ratio() >= 0.9


def _sort_key(headline: Headline) -> tuple[Any, ...]:
    stamp = headline.published.timestamp() if headline.published else 0.0
    return (-headline.score, -stamp, headline.title, headline.feed, headline.link or "")


def _dedupe(headlines: Sequence[Headline]) -> list[Headline]:
    """Keep the first of each group of duplicates (the input is sorted best first)."""
    kept: list[Headline] = []
    keys: set[str] = set()
    titles: list[str] = []
    for headline in headlines:
        own = headline_keys(headline)
        title = normalize_title(headline.title)
        if any(k in keys for k in own) or any(_similar(title, t) for t in titles):
            continue
        kept.append(headline)
        keys.update(own)
        titles.append(title)
    return kept


def select_headlines(
    captures: Mapping[str, FeedCapture],
    feeds: Sequence[Feed],
    *,
    week_start: date,
    week_end: date,
    seen: Mapping[str, date] | None = None,
) -> list[Headline]:
    """The reporting week's headlines from every feed: scored, themed, de-duplicated, best first.

    An item belongs to the week when its UTC date is between ``week_start`` and the day after
    ``week_end`` (Friday-evening news in New York is Saturday in UTC).  Undated items are dropped.
    ``is_new`` is False when one of the item's keys was seen in a week before ``week_start``.
    """
    last_day = week_end + timedelta(days=1)
    candidates = []
    for feed in feeds:
        capture = captures.get(feed.name)
        if capture is None:
            continue
        for headline in parse_feed(capture, feed):
            if headline.published is None or not week_start <= headline.published.date() <= last_day:
                continue
            candidates.append(score_headline(headline, feed.topics))
    kept = _dedupe(sorted(candidates, key=_sort_key))
    if seen:
        kept = [replace(h, is_new=not _seen_before(h, seen, week_start)) for h in kept]
    return kept


def _seen_before(headline: Headline, seen: Mapping[str, date], week_start: date) -> bool:
    return any(k in seen and seen[k] < week_start for k in headline_keys(headline))


def headlines_for(theme: str, headlines: Sequence[Headline], n: int = 3) -> tuple[Headline, ...]:
    """The top ``n`` headlines speaking to ``theme``: those where it is the main theme first, then by rank."""
    matching = [(i, h) for i, h in enumerate(headlines) if theme in h.themes]
    matching.sort(key=lambda pair: (pair[1].themes[0] != theme, pair[0]))
    return tuple(h for _, h in matching[:n])


# ---------------------------------------------------------------------------
# Memory across weeks
# ---------------------------------------------------------------------------

HeadlineMemory = dict[str, date]
MEMORY_WEEKS = 26


def load_memory(path: Path) -> HeadlineMemory:
    """Headline key → the first week (its Monday) it was seen.  A missing or unreadable file is empty."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): date.fromisoformat(v) for k, v in raw["seen"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s: headline memory unreadable (%s); every headline counts as new", path, exc)
        return {}


def remember(memory: Mapping[str, date], headlines: Iterable[Headline], week_start: date) -> HeadlineMemory:
    """A new memory with ``headlines`` recorded for ``week_start`` (an earlier first sighting is kept)."""
    updated = dict(memory)
    for headline in headlines:
        for key in headline_keys(headline):
            if key not in updated or week_start < updated[key]:
                updated[key] = week_start
    return updated


def save_memory(path: Path, memory: Mapping[str, date], *, keep_weeks: int = MEMORY_WEEKS) -> None:
    """Write the memory, keeping keys first seen within ``keep_weeks`` of its newest week."""
    if memory:
        horizon = max(memory.values()) - timedelta(weeks=keep_weeks)
        memory = {k: d for k, d in memory.items() if d > horizon}
    data = {"version": 1, "seen": {k: d.isoformat() for k, d in sorted(memory.items())}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
