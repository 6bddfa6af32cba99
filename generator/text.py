"""Untrusted text made safe: the one place for links and plain text from feeds and other sources.

The analysis uses it to clean headlines; the renderers use it again for every link they write, so
there is one rule for what a link may be and what plain text may hold.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

import idna
import nh3

MAX_LINK = 2000


_SURROGATES = re.compile("[\ud800-\udfff]")


def plain_text(raw: object, limit: int) -> str:
    """Untrusted (possibly HTML) text → plain text: tags stripped, entities decoded, whitespace collapsed."""
    # A lone surrogate (a feed's "&#xD800;") is no character, and nh3 cannot take it: dropped first.
    text = html.unescape(nh3.clean(_SURROGATES.sub("", str(raw or "")), tags=set()))
    if re.search(r"<[A-Za-z!/]", text):  # double-escaped markup: strip the decoded tags too
        text = html.unescape(nh3.clean(text, tags=set()))
    text = strip_controls(text)
    return _truncate(re.sub(r"\s+", " ", text).strip(), limit)


# Characters no title, summary or header may hold: controls and format characters (NUL, ESC, bidi
# overrides), lone surrogates, the line and paragraph separators (U+2028, U+2029) that mail headers
# refuse, and the noncharacters (U+FFFF, which XML cannot hold and lxml refuses; U+FDD0–U+FDEF).
# A code point merely unassigned in this Python's Unicode tables (a newer emoji) is kept.
UNPRINTABLE = ("Cc", "Cf", "Cs", "Zl", "Zp")


def _unprintable(char: str) -> bool:
    code = ord(char)
    noncharacter = 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE
    return noncharacter or unicodedata.category(char) in UNPRINTABLE


def unprintable(text: str) -> str | None:
    """The first character of ``text`` no title or header may hold, as ``U+2028``; None when none."""
    bad = next((c for c in text if _unprintable(c)), None)
    return None if bad is None else f"U+{ord(bad):04X}"


def strip_controls(text: str) -> str:
    """Drop the characters :func:`unprintable` names, keeping tabs and newlines (collapsed later) and
    the zero-width joiner used by emoji; a line or paragraph separator reads as a space."""
    text = text.replace("\u2028", " ").replace("\u2029", " ")
    return "".join(c for c in text if c in "\t\n\u200d" or not _unprintable(c))


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    # Never inside a character as read: an accent after its letter (e + U+0301), an emoji's joiner
    # sequence or variation selector; a lone accent prints as a missing glyph.
    while cut and (_joins(text[len(cut)]) or cut[-1] == ZWJ):
        cut = cut[:-1]
    # A flag is two regional indicators: an odd number at the end is half a flag.
    flags = len(cut) - len(cut.rstrip(REGIONAL_INDICATORS))
    if flags % 2:
        cut = cut[:-1]
    return cut.rstrip(" ,;:.-–—") + "…"


ZWJ = "\u200d"
REGIONAL_INDICATORS = "".join(chr(c) for c in range(0x1F1E6, 0x1F200))


def _joins(char: str) -> bool:
    """Whether ``char`` belongs to the character before it: a combining mark, a joiner, a selector."""
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) in ("Mn", "Me")
        or char == ZWJ
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin-tone modifiers
    )


def safe_link(raw: object) -> str | None:
    """The link when it is an absolute http(s) URL; None for javascript:, data:, file:, relative, and
    for a URL carrying a user name or password (a secret a feed leaked is not republished)."""
    link = str(raw or "").strip()
    if not link or len(link) > MAX_LINK or re.search(r"[\s\x00-\x1f\x7f<>\"'`\\]", link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    try:
        credentials = parts.username is not None or parts.password is not None
    except ValueError:
        return None
    ok = parts.scheme.lower() in ("http", "https") and parts.hostname and not credentials
    return link if ok else None


_UNSAFE_IN_SITE_URL = re.compile(r"[\s\x00-\x1f\x7f\"'<>\\]")


def site_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as the published site's address, or None: an absolute http(s) URL
    with a host, no user name or password, no spaces, control characters, quotes, ``<>`` or
    backslashes (it is written into robots.txt, the sitemap's XML, HTML attributes and the email's
    headers), and no query or fragment ("?…", "#…", a bare "?" or "#": pages are added after it).
    The one rule the configuration check, ``--base-url`` and the site apply."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:  # "http://[::1": an unclosed IPv6 bracket
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL"
    if _UNSAFE_IN_SITE_URL.search(url):
        return "has spaces, control characters, quotes, <> or backslashes"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "has a query or fragment (?…, #…); pages are added after it"
    try:
        ascii_url(url)
    except UnicodeError:
        return f"has a host that is not a valid domain name ({parts.hostname})"
    return None


def ascii_url(url: str) -> str:
    """``url`` as an ASCII URI: an international host in IDNA ("exämple.com" → "xn--exmple-cua.com"),
    other characters percent-encoded as UTF-8; an ASCII URL unchanged.  The sitemap, robots.txt and
    the email's Archived-At header take URIs, not IRIs.  The host as browsers map it (IDNA 2008 with
    UTS 46: "straße.de" is "xn--strae-oqa.de"; Python's own codec, IDNA 2003, makes it another
    domain, "strasse.de").  UnicodeError for a host IDNA refuses."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    host, netloc = parts.hostname or "", parts.netloc
    if not host.isascii():  # (no user name or password: the site's address carries none)
        port = f":{parts.port}" if parts.port is not None else ""
        netloc = idna.encode(host, uts46=True).decode("ascii") + port
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


# How the words of an all-capitals company name are written: a short word (three letters or fewer)
# reads as initials (CSW, UFP, AMC, BJ) unless it is one of these words; these forms stay in capitals;
# and these small words are in lower case inside a name ("Bank of Hawaii").
_SHORT_WORDS = frozenset(
    [
        "INC",
        "CO",
        "LTD",
        "PLC",
        "THE",
        "AND",
        "OF",
        "FOR",
        "NEW",
        "ONE",
        "TWO",
        "BIG",
        "AIR",
        "OIL",
        "GAS",
        "CAR",
        "BAY",
        "SUN",
        "SEA",
        "ART",
        "BIO",
        "RED",
        "SKY",
        "BOX",
        "KEY",
        "WAY",
        "ICE",
        "OAK",
        "TOP",
        "ALL",
        "PRO",
        "WEB",
        "NET",
        "LAB",
        "GEO",
        "ECO",
        "MED",
        "HUB",
        "CUP",
        "FUN",
        "JOY",
        "GO",
        "IN",
        "ON",
        "AT",
        "BY",
        "TO",
        "A",
        "AN",
    ]
)
_KEEP_CAPITALS = frozenset(["REIT", "ETF", "USA", "LLC", "II", "III", "IV"])
_SMALL_WORDS = frozenset(["OF", "AND", "THE", "FOR", "AT", "BY", "TO", "IN", "ON"])  # not A: "Class A"
_WORD = re.compile(r"[^\W\d_]+")  # letters, accented ones too ("ÖSTERREICHISCHE")


def company_name(name: str) -> str:
    """A company's name as a reader writes it: the index provider's holdings file gives them in
    capitals ("CLEARWATER DIAGNOSTICS INC"), which read as shouting beside the calendar's "Tidewater
    Trust Holdings".  An all-capitals name is set in title case, initials kept ("CSW INDUSTRIALS" →
    "CSW Industrials", "BANK OF HAWAII" → "Bank of Hawaii", "O'REILLY" → "O'Reilly", "BJ'S" →
    "BJ's", "AT&T" stays); a name with lower case is kept as it is."""
    if not name or any(c.islower() for c in name):
        return name

    def word(match: re.Match[str]) -> str:
        text, start, end = match.group(0), match.start(), match.end()
        before = name[start - 1] if start else ""
        if before and before in "'’" and len(text) == 1:  # the "S" of "BJ'S"
            return text.lower()
        if "&" in (before, name[end : end + 1]) or text in _KEEP_CAPITALS:  # AT&T, S&T
            return text
        if start and text in _SMALL_WORDS and before == " ":
            return text.lower()
        if len(text) <= 3 and text not in _SHORT_WORDS:
            return text
        return text[0] + text[1:].lower()

    return _WORD.sub(word, name)
