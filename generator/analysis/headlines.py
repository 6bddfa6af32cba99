"""Headlines: parse captured feeds, keep the week's relevant items, merge duplicates, rank them.

:func:`select_headlines` runs, for one reporting week:

1. parse every feed (an item without a title is skipped and counted in a WARNING naming the feed);
2. keep the week's news window: after the previous week's close, up to this week's stated close
   (the last session the data covers, at 16:00 in the exchange's time zone, plus
   :data:`CLOSE_GRACE` for the closing reports);
3. drop promotions, event ads and sign-up pitches, and items on unrelated topics;
4. score each item (:mod:`generator.analysis.relevance`) and keep those at or above the floor;
5. merge duplicates on evidence only: the same link, or the same title on the same day (compared
   without case, punctuation or a trailing outlet name).  Titles that merely read alike are not
   evidence: "Small caps outperform large caps" and "Large caps outperform small caps" share
   every word, "futures rise" and "futures fall" all but one.  The best-scored item stays and
   names the other outlets in ``also``.  A shared GUID alone is not evidence.

One INFO line per feed says what was kept and what was dropped, and why; merges are one WARNING.

Pure functions: no network, no clock.  Feed text is untrusted, so every title and
summary leaves this module as plain text (tags stripped with nh3, entities decoded;
templates escape it) and every link is http(s) or None.

feedparser is always given a file-like object: given ``bytes`` it first tries to
open them as a local path, so a feed whose body is a path would be read from disk.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from generator.analysis.placement import SECTIONS, for_passages, place_headlines
from generator.analysis.relevance import (
    LEXICON,
    THEMES,
    drop_reason,
    score_headline,
    theme_points,
)
from generator.feedparse import entry_published, parse_bytes
from generator.fsutil import write_atomic
from generator.models import Feed, FeedCapture, Headline, HeadlineSettings, Instrument
from generator.text import MAX_LINK, plain_text, safe_link

__all__ = [
    "LEXICON",
    "SECTIONS",
    "THEMES",
    "for_passages",
    "headline_keys",
    "headlines_for",
    "load_memory",
    "news_window",
    "normalize_link",
    "parse_feed",
    "place_headlines",
    "remember",
    "safe_link",
    "save_memory",
    "score_headline",
    "select_headlines",
    "theme_points",
]

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_SUMMARY = 300
MARKET_CLOSE = time(16, 0)  # the exchange's close, in the reporting time zone
CLOSE_GRACE = timedelta(hours=2)  # closing reports written just after the bell still count
PREVIOUS_SESSION_REACH = 4  # days: the previous week's last session is at most this before its end

# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def parse_feed(capture: FeedCapture, feed: Feed) -> list[Headline]:
    """Every titled entry of one captured feed as a :class:`Headline` (unscored, unfiltered).

    Items without a title are skipped and counted in one WARNING naming the feed.  An aggregator's
    item that names its source (Google News: "Stocks slip - Reuters" with ``<source>Reuters``)
    is credited to that outlet, and the suffix leaves the title.
    """
    if not capture.body:
        return []
    headlines, untitled, unlinked, total = _parse_capture(capture.body, feed.name, feed.outlet)
    if untitled:
        log.warning("feed %s: %d of %d items have no title and were skipped", feed.name, untitled, total)
    if unlinked:
        log.warning(
            "feed %s: %d of %d items link to no absolute http(s) URL, or to one carrying a user name or"
            " password; they are shown without a link",
            feed.name,
            unlinked,
            total,
        )
    return list(headlines)


@functools.lru_cache(maxsize=64)
def _parse_capture(body: bytes, name: str, outlet: str) -> tuple[tuple[Headline, ...], int, int, int]:
    """The headlines of one feed's bytes, the untitled items skipped and all items.

    Kept for the process: a backfill reads the same captures for every one of its weeks (parsing
    them is most of a week's headline selection), and the result depends on the bytes alone.
    """
    parsed = parse_bytes(body)
    headlines = []
    untitled = unlinked = 0
    for entry in parsed.entries:
        title = plain_text(entry.get("title"), MAX_TITLE)
        if not title:
            untitled += 1
            continue
        title, by = _credit_source(title, entry, outlet)
        link = safe_link(entry.get("link"))
        unlinked += link is None and bool(str(entry.get("link") or "").strip())
        summary = plain_text(entry.get("summary"), MAX_SUMMARY)
        if normalize_title(summary).startswith(normalize_title(title)):
            summary = ""  # aggregators repeat the title as the summary
        headlines.append(
            Headline(
                feed=name,
                outlet=by,
                title=title,
                link=link,
                published=entry_published(entry),
                summary=summary,
                guid=str(entry.get("id") or link or "").strip()[:MAX_LINK],
            )
        )
    return tuple(headlines), untitled, unlinked, len(parsed.entries)


def dated_until(capture: FeedCapture, outlet: str, day: date) -> tuple[int, date | None]:
    """How many of a capture's items are dated on or before ``day`` (UTC), and the newest of them.

    A past week's view of a feed read later: its items after ``day`` were not news yet.  Items
    without a title or a date are not counted (no week can be told of them).
    """
    if not capture.body:
        return 0, None
    headlines = _parse_capture(capture.body, capture.name, outlet)[0]
    days = [h.published.date() for h in headlines if h.published is not None and h.published.date() <= day]
    return len(days), max(days, default=None)


def _credit_source(title: str, entry: Mapping[str, Any], outlet: str) -> tuple[str, str]:
    source = entry.get("source")
    name = plain_text(source.get("title"), 80) if isinstance(source, Mapping) else ""
    suffix = f" - {name}"
    if name and title.endswith(suffix) and len(title) > len(suffix):
        return title[: -len(suffix)].rstrip(), name
    return title, outlet


# ---------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------


def news_window(
    week_end: date,
    *,
    last_session: date | None = None,
    previous_session: date | None = None,
    timezone: str = "America/New_York",
) -> tuple[datetime, datetime]:
    """The week's news window: from the previous week's stated close to this week's, both plus the grace.

    The stated close is ``last_session`` (the last session the data covers; ``week_end`` when it is
    not given) at :data:`MARKET_CLOSE` in ``timezone``; the previous week's is ``previous_session``
    (its last session, on or before ``week_end`` - 7 days; that day itself when not given).
    Consecutive weeks' windows meet, so every item belongs to exactly one week, also after a week
    that ended on a holiday (Good Friday: Thursday's close to Thursday's close) or on a weekend day
    (``week_ends_on: saturday``: Friday's close); news dated after the stated close is not this week's.
    """
    zone = ZoneInfo(timezone)
    close_day = min(last_session or week_end, week_end)
    before = week_end - timedelta(days=7)
    # At most a few days before the calendar's week: a gap in the benchmark's bars before the week
    # does not bring back weeks of old news.
    previous = max(min(previous_session or before, before), before - timedelta(days=PREVIOUS_SESSION_REACH))
    start = datetime.combine(previous, MARKET_CLOSE, zone) + CLOSE_GRACE
    end = datetime.combine(close_day, MARKET_CLOSE, zone) + CLOSE_GRACE
    return start.astimezone(UTC), end.astimezone(UTC)


def _place_in_week(headline: Headline, window: tuple[datetime, datetime]) -> str | None:
    """None when the item is in the window, else why not."""
    if headline.published is None:
        return "undated"
    if headline.published <= window[0]:
        return "before the week"
    return "after the close" if headline.published > window[1] else None


def select_headlines(
    captures: Mapping[str, FeedCapture],
    feeds: Sequence[Feed],
    *,
    week_start: date,
    week_end: date,
    seen: Mapping[str, date] | None = None,
    universe: Sequence[Instrument] = (),
    settings: HeadlineSettings | None = None,
    last_session: date | None = None,
    previous_session: date | None = None,
    timezone: str = "America/New_York",
) -> list[Headline]:
    """The reporting week's relevant headlines from every feed: scored, themed, merged, best first.

    See the module's docstring for the steps.  ``universe`` supplies the symbols and names worth
    points; ``settings.min_score`` is the relevance floor; ``last_session`` is the last session the
    week's data covers (the stated close).  ``is_new`` is False when one of the item's keys was
    seen in a week before ``week_start``.
    """
    settings = settings or HeadlineSettings()
    window = news_window(
        week_end, last_session=last_session, previous_session=previous_session, timezone=timezone
    )
    candidates: list[Headline] = []
    for feed in feeds:
        capture = captures.get(feed.name)
        if capture is None:
            continue
        parsed = parse_feed(capture, feed)
        kept, why = _filter(parsed, feed, window, universe, settings.min_score)
        candidates.extend(kept)
        _log_feed(feed.name, len(parsed), len(kept), why, settings.min_score)
    stories = merge_duplicates(sorted(candidates, key=_sort_key), ZoneInfo(timezone))
    kept_headlines = [story.headline() for story in stories]
    if seen:
        kept_headlines = [replace(h, is_new=not _seen_before(h, seen, week_start)) for h in kept_headlines]
    return kept_headlines


def _filter(
    headlines: Sequence[Headline],
    feed: Feed,
    window: tuple[datetime, datetime],
    universe: Sequence[Instrument],
    floor: float,
) -> tuple[list[Headline], Counter[str]]:
    kept: list[Headline] = []
    why: Counter[str] = Counter()
    for headline in headlines:
        reason = _place_in_week(headline, window) or drop_reason(headline, universe)
        if reason is None:
            headline = score_headline(
                headline, feed.topics, universe=universe, window=window, weight=feed.weight
            )
            reason = "below the relevance floor" if headline.score < floor else None
        if reason is None:
            kept.append(headline)
        else:
            why[reason] += 1
    return kept, why


def _log_feed(name: str, total: int, kept: int, why: Counter[str], floor: float) -> None:
    if not total:
        return
    reasons = ", ".join(
        f"{n} {reason}" + (f" ({floor:g})" if reason == "below the relevance floor" else "")
        for reason, n in sorted(why.items(), key=lambda item: (-item[1], item[0]))
    )
    log.info(
        "headlines from %s: kept %d of %d%s", name, kept, total, f"; dropped {reasons}" if reasons else ""
    )


# ---------------------------------------------------------------------------
# Duplicates
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
    """The keys that identify a headline across weeks (the memory): its GUID and its normalized link."""
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


def core_title(title: str) -> str:
    """A title without a trailing outlet name ("Stocks slip as oil jumps - Example Wire"), normalized.

    The tail is taken for an outlet name only when it is one to four capitalised words after a
    dash or bar, and at least four words stay in front of it.  A leading label stays: "Powell: the
    Fed can wait" and "Waller: the Fed can wait" are two stories.
    """
    found = re.fullmatch(r"(.+?)\s+[-–—|]\s+((?:[A-Z][\w.&']*\s?){1,4})", title.strip())
    if found and len(found.group(1).split()) >= 4:
        return normalize_title(found.group(1))
    return normalize_title(title)


def _link_key(link: str | None) -> str | None:
    """A normalized link that can identify a story (a site's home page cannot)."""
    if not link:
        return None
    key = normalize_link(link)
    return key if urlsplit(key).path not in ("", "/") else None


@dataclass
class Story:
    """One story and the items that carried it: the first (best-ranked) item leads."""

    items: list[Headline]
    day: date | None
    links: set[str] = field(default_factory=set)
    titles: set[str] = field(default_factory=set)

    def evidence(self, title: str, link: str | None, day: date | None) -> str | None:
        """Why an item is this story ("same link", "same title and day"), or None."""
        if link is not None and link in self.links:
            return "same link"
        if day is not None and day == self.day and title in self.titles:
            return "same title and day"
        return None

    def add(self, headline: Headline, title: str, link: str | None) -> None:
        self.items.append(headline)
        self.titles.add(title)
        if link is not None:
            self.links.add(link)

    def headline(self) -> Headline:
        lead = self.items[0]
        also = tuple(dict.fromkeys(h.outlet for h in self.items[1:] if h.outlet != lead.outlet))
        return replace(lead, also=also) if also else lead


def merge_duplicates(headlines: Sequence[Headline], zone: ZoneInfo) -> list[Story]:
    """Group ``headlines`` (sorted best first) into stories on evidence; log one WARNING with counts."""
    stories: list[Story] = []
    merged: Counter[str] = Counter()
    by_feed: Counter[str] = Counter()
    for headline in headlines:
        title, link = core_title(headline.title), _link_key(headline.link)
        day = headline.published.astimezone(zone).date() if headline.published else None
        match = next(((s, e) for s in stories if (e := s.evidence(title, link, day))), None)
        if match is None:
            story = Story([], day)
            story.add(headline, title, link)
            stories.append(story)
            continue
        match[0].add(headline, title, link)
        merged[match[1]] += 1
        by_feed[headline.feed] += 1
    if merged:
        log.warning(
            "headlines: %d duplicate items merged into the stories they repeat (%s; from %s)",
            sum(merged.values()),
            ", ".join(f"{n} {why}" for why, n in merged.most_common()),
            ", ".join(f"{feed} {n}" for feed, n in sorted(by_feed.items())),
        )
    return stories


def _sort_key(headline: Headline) -> tuple[Any, ...]:
    stamp = headline.published.timestamp() if headline.published else 0.0
    return (-headline.score, -stamp, headline.title, headline.feed, headline.link or "")


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
    write_atomic(path, json.dumps(data, indent=0, sort_keys=True) + "\n")
