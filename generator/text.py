"""Untrusted text made safe: the one place for links and plain text from feeds and other sources.

The analysis uses it to clean headlines; the renderers use it again for every link they write, so
there is one rule for what a link may be and what plain text may hold.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit

import nh3

MAX_LINK = 2000


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
