"""Reading a feed's bytes with feedparser, as both the news source (its health check) and the
headline analysis read them: over the bytes only, never a URL or a path, and an entry's time in UTC."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser


def parse_bytes(body: bytes) -> Any:
    """feedparser over the bytes only: given ``bytes`` or a string, it would first try them as a
    local path or a URL."""
    return feedparser.parse(io.BytesIO(body))


def entry_published(entry: Mapping[str, Any]) -> datetime | None:
    """An entry's published (else updated) time as an aware UTC datetime (feedparser gives UTC)."""
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                year, month, day, hour, minute, second = parsed[:6]
                return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None
