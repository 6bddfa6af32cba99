"""Reading a feed's bytes with feedparser, as both the news source (its health check) and the
headline analysis read them: over the bytes only, never a URL or a path, and an entry's time in UTC."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser


def parse_bytes(body: bytes) -> Any:
    """feedparser over the bytes only: given ``bytes`` or a string, it would first try them as a
    local path or a URL.  Character references to no character are made U+FFFD first (see
    :func:`mend_char_refs`)."""
    return feedparser.parse(io.BytesIO(mend_char_refs(body)[0]))


_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
_REPLACEMENT = b"&#xFFFD;"


def mend_char_refs(body: bytes) -> tuple[bytes, int]:
    """``body`` with each character reference to no character (a surrogate, ``&#xD800;``, or past
    U+10FFFF, ``&#x110000;``) made a replacement character, and how many were: feedparser's lenient
    parser turns a reference into a character with ``chr()`` and crashed on these (ValueError,
    OverflowError, UnicodeEncodeError), taking the whole feed with it."""
    count = 0

    def mend(found: re.Match[bytes]) -> bytes:
        nonlocal count
        digits, base = (found.group(1), 16) if found.group(1) is not None else (found.group(2), 10)
        value = int(digits, base) if len(digits.lstrip(b"0")) <= 8 else 0x110000
        if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
            count += 1
            return _REPLACEMENT
        return found.group(0)

    mended = _CHAR_REF.sub(mend, body) if b"&#" in body else body
    return mended, count


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
