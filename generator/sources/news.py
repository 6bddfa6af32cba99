"""Fetching every news feed: concurrently, under one deadline, with a conditional-GET cache.

Cache layout (one pair of files per feed, written atomically)::

    <cache_dir>/feeds/<feed-name>.xml    the last good body, as fetched (decompressed)
    <cache_dir>/feeds/<feed-name>.json   {"url", "etag", "last_modified", "fetched_at", "checked_at"}

- 200: the body must parse as a feed; it is then cached and returned (status "ok", origin "live").
- A feed accepted only after a repair is "repaired" (usable, but degraded), with a WARNING naming
  it and the repair in the health row's error: feedparser's bozo signal (an undefined entity, a
  document cut off mid-item, ...) or its encoding override (a mislabelled character set), and
  invalid bytes in a UTF-8 feed.  Those are replaced one by one (U+FFFD) before parsing, so the
  rest of the feed keeps its UTF-8 text instead of being read in a single-byte code page; the
  captured body is the repaired one.
- A permanent redirect (301, 308) and a feed served as HTML or plain text are WARNINGs too.
- 304: the cached bytes are returned (status "not modified", origin "live": the server
  confirmed them current).
- Any failure: the cached bytes, if any, are returned with status "failed", origin "cache"
  and the error; without a cache, an empty capture with status "failed".
- Feeds without an answer by ``feed_deadline`` are reported failed ("no answer within 30 s")
  and not waited for.  Their worker threads end by themselves within ``feed_timeout``.

Only the worker threads touch the network; parsing, caching and health rows happen in
the calling thread, so a late worker never writes anything.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax import SAXParseException

import feedparser

from generator.errors import SourceError
from generator.feedparse import entry_published, mend_char_refs, parse_bytes
from generator.fsutil import write_atomic
from generator.models import Feed, FeedCapture, NetworkSettings, Origin, SourceHealth, SourceStatus
from generator.sources.http import MAX_PER_HOST, SNIFFED_TYPES, FetchResult, Resolver, fetch

log = logging.getLogger(__name__)

MAX_WORKERS = 8


@dataclass(frozen=True)
class CachedFeed:
    body: bytes
    etag: str | None
    last_modified: str | None
    fetched_at: datetime | None


@dataclass(frozen=True)
class _Parsed:
    count: int
    newest: date | None
    problem: str  # "" when the body is a feed
    body: bytes = b""  # the body to keep: invalid UTF-8 bytes replaced
    repairs: tuple[str, ...] = ()  # what had to be fixed to read it, in plain words


class FeedCache:
    """The last good body of each feed, with the validators for a conditional GET."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "feeds"

    def _paths(self, feed: Feed) -> tuple[Path, Path]:
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", feed.name).lstrip(".") or "feed"
        return self.root / f"{stem}.xml", self.root / f"{stem}.json"

    def load(self, feed: Feed) -> CachedFeed | None:
        """The cached copy, or None when absent, unreadable, or cached for another URL."""
        body_path, meta_path = self._paths(feed)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("feed %s: cache unreadable (%s); fetching without it", feed.name, exc)
            return None
        if not isinstance(meta, dict) or meta.get("url") != feed.url or not body:
            return None
        return CachedFeed(
            body, meta.get("etag"), meta.get("last_modified"), _parse_time(meta.get("fetched_at"))
        )

    def store(self, feed: Feed, result: FetchResult, fetched_at: datetime) -> None:
        body_path, meta_path = self._paths(feed)
        meta = {
            "url": feed.url,
            "final_url": result.final_url,
            "etag": result.etag,
            "last_modified": result.last_modified,
            "fetched_at": fetched_at.isoformat(),
            "checked_at": fetched_at.isoformat(),
        }
        write_atomic(body_path, result.body)
        write_atomic(meta_path, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode("utf-8"))

    def touch(self, feed: Feed, result: FetchResult, cached: CachedFeed, checked_at: datetime) -> None:
        """Record a 304: keep the body, update the validators the server sent."""
        meta = {
            "url": feed.url,
            "final_url": result.final_url,
            "etag": result.etag or cached.etag,
            "last_modified": result.last_modified or cached.last_modified,
            "fetched_at": cached.fetched_at.isoformat() if cached.fetched_at else None,
            "checked_at": checked_at.isoformat(),
        }
        write_atomic(self._paths(feed)[1], (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def inspect_feed(body: bytes, read_at: datetime | None = None) -> _Parsed:
    """Count the entries and find the newest date; ``problem`` says why the body is not a feed,
    ``repairs`` what had to be fixed to read it.

    Items dated more than a day after ``read_at`` (when the feed was fetched) are a feed's error, not
    news from the future: they are said among the repairs and left out of the newest date, which the
    health table shows (a feed of items dated 9999-12-31 looked fresh)."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return _Parsed(0, None, "not a feed (an HTML page)", body)
    fixed, replaced = repair_utf8(body)
    fixed, references = mend_char_refs(fixed)
    parsed = parse_bytes(fixed)
    entries = parsed.entries
    if not entries and (parsed.bozo or not parsed.get("version")):
        detail = _xml_error(parsed.get("bozo_exception")) if parsed.bozo else "no RSS or Atom content"
        return _Parsed(0, None, f"not a feed ({detail})", fixed)
    repairs = []
    if replaced:
        repairs.append(f"{replaced} invalid UTF-8 byte sequence{'s' if replaced > 1 else ''} replaced")
    if references:
        repairs.append(
            f"{references} character reference{'s' if references > 1 else ''} to no character replaced"
        )
    if parsed.bozo:
        repairs.append(_repair_words(parsed.get("bozo_exception")))
    dates = [t.date() for t in (entry_published(e) for e in entries) if t is not None]
    if read_at is not None:
        latest = read_at.astimezone(UTC).date() + timedelta(days=1)
        future = [d for d in dates if d > latest]
        if future:
            dates = [d for d in dates if d <= latest]
            repairs.append(
                f"{len(future)} item{'s' if len(future) > 1 else ''} dated after it was read"
                f" (up to {max(future).isoformat()}): not counted as its newest"
            )
    return _Parsed(len(entries), max(dates, default=None), "", fixed, tuple(repairs))


_XML_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)")


def repair_utf8(body: bytes) -> tuple[bytes, int]:
    """A UTF-8 feed with invalid bytes, each bad sequence replaced by U+FFFD; and how many were.

    Only for a body that declares UTF-8 (or nothing, which means UTF-8 in XML) and reads as
    UTF-8 at least as often as it fails to: a feed in a single-byte code page mislabelled as
    UTF-8 has no valid multi-byte sequences, and is left to feedparser, which re-reads it in
    that code page (and says so).  Returns ``(body, 0)`` when nothing was replaced.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body, 0
    declared = _XML_DECLARATION.match(body)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return body, 0
    text = body.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - body.count("\ufffd".encode())
    valid = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    if valid < replaced:
        return body, 0
    return text.encode("utf-8"), replaced


def _xml_error(exc: object) -> str:
    if isinstance(exc, SAXParseException):
        return f"XML error at line {exc.getLineNumber()}, column {exc.getColumnNumber()}: {exc.getMessage()}"
    return f"XML error: {exc}" if exc else "XML error"


def _repair_words(exc: object) -> str:
    """feedparser's bozo exception, as the repair it stands for."""
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return str(exc).replace("document declared", "character set declared")  # "... but parsed as ..."
    if isinstance(exc, SAXParseException) and exc.getMessage() == "no element found":
        return f"cut off: the document ends at line {exc.getLineNumber()} before its last element closes"
    return f"{_xml_error(exc)}; read by the lenient parser"


def _plain(exc: SourceError) -> str:
    """The error's words without the source prefix SourceError adds."""
    text = str(exc)
    prefix = f"{exc.source}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _attempt(
    feed: Feed,
    settings: NetworkSettings,
    cached: CachedFeed | None,
    resolver: Resolver | None,
    deadline: float,
    progress: dict[str, str] | None = None,
) -> FetchResult | SourceError:
    """Runs in a worker thread: the network part only.  ``progress`` records how far the feed got
    ("started", then "requested") for the words of a feed still pending at the deadline."""
    if progress is not None:
        progress[feed.name] = "started"
    try:
        return fetch(
            feed.url,
            settings,
            etag=cached.etag if cached else None,
            last_modified=cached.last_modified if cached else None,
            resolver=resolver,
            deadline=deadline,
            on_request=None if progress is None else lambda: progress.__setitem__(feed.name, "requested"),
        )
    except SourceError as exc:
        return exc
    except Exception as exc:  # one broken feed must not stop the others
        log.exception("feed %s: unexpected error", feed.name)
        return SourceError(feed.url, f"unexpected error: {exc}")


def fetch_feeds(
    feeds: Sequence[Feed],
    settings: NetworkSettings,
    cache_dir: Path,
    *,
    now: datetime,
    resolver: Resolver | None = None,
) -> tuple[dict[str, FeedCapture], list[SourceHealth]]:
    """Fetch every feed; returns the captures by feed name and one health row per feed (config order)."""
    cache = FeedCache(cache_dir)
    cached = {feed.name: cache.load(feed) for feed in feeds}
    outcomes = _run_all(feeds, settings, cached, resolver)
    captures: dict[str, FeedCapture] = {}
    health: list[SourceHealth] = []
    for feed in feeds:
        outcome = outcomes[feed.name]  # every feed has one: an answer, an error or why it had none
        capture, row = _settle(feed, outcome, cached[feed.name], cache, now)
        captures[feed.name] = capture
        health.append(row)
        _log_row(row)
    failed = sum(row.status == SourceStatus.FAILED for row in health)
    log.info("feeds: %d fetched, %d failed", len(health) - failed, failed)
    return captures, health


def cached_feeds(feeds: Sequence[Feed], cache_dir: Path) -> tuple[dict[str, FeedCapture], list[SourceHealth]]:
    """The cached copy of every feed, without the network (``--data cache``).

    A cached feed has status "cached" and origin "cache"; a feed without a cache is failed ("not cached").
    """
    cache = FeedCache(cache_dir)
    captures: dict[str, FeedCapture] = {}
    health: list[SourceHealth] = []
    for feed in feeds:
        cached = cache.load(feed)
        if cached is None:
            captures[feed.name] = FeedCapture(
                feed.name, feed.url, b"", Origin.CACHE, None, SourceStatus.FAILED, "not cached"
            )
            health.append(
                SourceHealth(
                    "feed",
                    feed.name,
                    SourceStatus.FAILED,
                    Origin.NONE,
                    error="not cached",
                    provider=feed.outlet,
                )
            )
            continue
        info = inspect_feed(cached.body, cached.fetched_at)
        capture, row = _accepted(feed, info, SourceStatus.CACHED, Origin.CACHE, cached.fetched_at)
        captures[feed.name] = capture
        health.append(row)
        _log_row(row)
    return captures, health


def _run_all(
    feeds: Sequence[Feed],
    settings: NetworkSettings,
    cached: dict[str, CachedFeed | None],
    resolver: Resolver | None,
) -> dict[str, FetchResult | SourceError]:
    """Run the fetches concurrently; whatever has not answered by the deadline is left out."""
    outcomes: dict[str, FetchResult | SourceError] = {}
    if not feeds:
        return outcomes
    deadline = time.monotonic() + settings.feed_deadline
    workers = min(MAX_WORKERS, len(feeds))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feed")
    progress: dict[str, str] = {}  # written by the workers, one key each; read after the deadline
    try:
        futures: dict[Future[FetchResult | SourceError], Feed] = {
            pool.submit(_attempt, feed, settings, cached[feed.name], resolver, deadline, progress): feed
            for feed in feeds
        }
        pending = set(futures)
        log.info("feeds: fetching %d feeds (deadline %g s)", len(feeds), settings.feed_deadline)
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            done, pending = wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)
            for future in done:
                outcomes[futures[future].name] = future.result()
        # Still pending: asked and silent, or never asked (each feed's words say which; its health
        # row's WARNING says them).
        for future in pending:
            feed = futures[future]
            step = progress.get(feed.name)
            if step == "requested":
                why = f"no answer within {settings.feed_deadline:g} s"
            elif step == "started":
                why = (
                    f"not requested: {_host_of(feed.url)} had {MAX_PER_HOST} requests open (the most at a"
                    " time) until the deadline"
                )
            else:
                why = f"not requested: no fetcher was free before the deadline ({workers} at a time)"
            outcomes[feed.name] = SourceError(feed.url, why)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return outcomes


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _settle(
    feed: Feed,
    outcome: FetchResult | SourceError,
    cached: CachedFeed | None,
    cache: FeedCache,
    now: datetime,
) -> tuple[FeedCapture, SourceHealth]:
    """Turn one fetch outcome into the capture and its health row, using or updating the cache."""
    if isinstance(outcome, SourceError):
        return _failed(feed, _plain(outcome), cached, now)
    if outcome.moved_to:
        log.warning(
            "feed %s: %s has moved permanently to %s; put the new address in feeds.yaml",
            feed.name, feed.url, outcome.moved_to,
        )  # fmt: skip
    if outcome.not_modified:
        if cached is None:
            return _failed(feed, "HTTP 304 Not Modified but no cached copy to reuse", None, now)
        _quietly(lambda: cache.touch(feed, outcome, cached, now), feed)
        return _accepted(feed, inspect_feed(cached.body, now), SourceStatus.NOT_MODIFIED, Origin.LIVE, now)
    info = inspect_feed(outcome.body, now)
    if info.problem:
        return _failed(feed, info.problem, cached, now)
    media = outcome.content_type.split(";")[0].strip().lower()
    if media in SNIFFED_TYPES:
        log.warning(
            "feed %s: served as %s, not as a feed; read as a feed because its body is one",
            feed.name, media or "a body without a content type",
        )  # fmt: skip
    _quietly(lambda: cache.store(feed, outcome, now), feed)  # as fetched: repaired again when read
    return _accepted(feed, info, SourceStatus.OK, Origin.LIVE, now)


def _accepted(
    feed: Feed, info: _Parsed, status: SourceStatus, origin: Origin, fetched_at: datetime | None
) -> tuple[FeedCapture, SourceHealth]:
    """A usable feed: "repaired" instead of ``status`` when reading it needed a repair."""
    note = "; ".join(info.repairs)
    status = SourceStatus.REPAIRED if note else status
    capture = FeedCapture(feed.name, feed.url, info.body, origin, fetched_at, status, note)
    row = SourceHealth("feed", feed.name, status, origin, info.count, info.newest, note, feed.outlet)
    return capture, row


def _failed(
    feed: Feed, error: str, cached: CachedFeed | None, now: datetime
) -> tuple[FeedCapture, SourceHealth]:
    if cached is None:
        capture = FeedCapture(feed.name, feed.url, b"", Origin.LIVE, now, SourceStatus.FAILED, error)
        return capture, SourceHealth(
            "feed", feed.name, SourceStatus.FAILED, Origin.NONE, 0, None, error, feed.outlet
        )
    info = inspect_feed(cached.body, cached.fetched_at)
    when = f" from {cached.fetched_at:%Y-%m-%d %H:%M} UTC" if cached.fetched_at else ""
    note = f"{error}; using the cached copy{when}"
    capture = FeedCapture(
        feed.name, feed.url, info.body, Origin.CACHE, cached.fetched_at, SourceStatus.FAILED, error
    )
    row = SourceHealth(
        "feed", feed.name, SourceStatus.FAILED, Origin.CACHE, info.count, info.newest, note, feed.outlet
    )
    return capture, row


def _quietly(action: Callable[[], None], feed: Feed) -> None:
    """Cache writes must not fail the build: a read-only cache only costs the next conditional GET."""
    try:
        action()
    except OSError as exc:
        log.warning("feed %s: cannot write the cache (%s)", feed.name, exc)


def _log_row(row: SourceHealth) -> None:
    newest = row.newest.isoformat() if row.newest else "no dates"
    if row.status == SourceStatus.FAILED:
        log.warning("feed %s: failed (%s)", row.name, row.error)
    elif row.status == SourceStatus.REPAIRED:
        log.warning("feed %s: repaired to be read, %d items (%s)", row.name, row.count, row.error)
    else:
        log.info("feed %s: %s, %d items, newest %s", row.name, row.status, row.count, newest)
