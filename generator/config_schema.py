"""The schema of feeds.yaml: one table per section, and the converters they are made of.

A converter turns one YAML node into a value, or reports what is wrong with it, naming the key
path and the line, to a :class:`Report`; :func:`convert_mapping` applies a section's table to a
mapping node.  Loading the file and the rules that span sections live in :mod:`generator.config`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.models import (
    ROLES,
    WEEKDAYS,
    BriefSettings,
    CalendarDate,
    CalendarSettings,
    EarningsSettings,
    EmailSettings,
    FredSettings,
    HeadlineSettings,
    IndexSettings,
    NetworkSettings,
    SiteSettings,
    Slots,
    ValuationSettings,
)
from generator.text import site_url_problem, unprintable

# Feed topics: the theme keys of generator.analysis.headlines (a topic adds to that theme's score).
TOPICS = (
    *("small_caps", "rates", "fed", "rotation", "credit", "banks", "sectors"),
    *("earnings", "economy", "volatility", "technicals", "valuation"),
)
SECTIONS = (
    *("brief", "universe", "analysis", "proxies", "news", "headlines", "network", "site", "email"),
    *("fred", "calendar", "index", "valuation"),
)
OFFICIAL_CALENDARS = ("fed", "bls", "bea")

YAML_TAG = "tag:yaml.org,2002:"
_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a decimal number",
    "bool": "a boolean",
    "timestamp": "a date",
}
_FEED_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SYMBOL = re.compile(r"[A-Za-z0-9^][A-Za-z0-9^.=_-]{0,31}")
_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]+")
_FRED_ID = re.compile(r"[A-Z0-9_]{1,40}")
_EMAIL = re.compile(r"[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;.]+")
_BAD: Any = object()  # returned by a converter after it reported a problem

Check = Callable[[Any], str | None]  # a problem message for a bad value, else None
Converter = Callable[[Node, str, "Report"], Any]
Schema = Mapping[str, tuple[Converter, bool]]  # key -> (converter, required)


class Report:
    """Problems collected so far, each with its line for sorting."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []
        self.tainted = False  # a tag we refuse: the document is not interpreted any further

    def add(self, path: str, node: Node, message: str) -> None:
        line = node.start_mark.line + 1
        where = f"{path}: " if path else "top level: "
        self.items.append((line, f"{where}{message} (line {line})"))

    def problems(self) -> list[str]:
        return [text for _, text in sorted(self.items, key=lambda item: item[0])]


def key_text(node: Node) -> str:
    """A mapping key as text (keys that are lists or mappings are refused by name)."""
    return str(node.value) if isinstance(node, ScalarNode) else "<complex key>"


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def node_kind(node: Node) -> str:
    """What a node is, for messages: ``a list``, ``an integer ('3')``, ``empty``."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list" if node.value else "an empty list"
    short = node.tag.replace(YAML_TAG, "")
    if short == "null":
        return "empty"
    shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"{_TYPE_NAMES.get(short, short)} ({shown!r})"


# --- converters: node -> value, reporting problems ---------------------------------------------------


def _scalar(node: Node, tags: tuple[str, ...]) -> bool:
    return isinstance(node, ScalarNode) and node.tag in {YAML_TAG + t for t in tags}


def text(*checks: Check, empty: bool = False) -> Converter:
    def convert(node: Node, path: str, report: Report) -> Any:
        if not _scalar(node, ("str",)):
            report.add(path, node, f"must be a string, not {node_kind(node)}")
            return _BAD
        value = str(node.value)
        problem = "must not be empty" if not (empty or value.strip()) else None
        if (bad := unprintable(value)) is not None:
            problem = problem or f"must not contain control characters (line breaks, tabs, bidi marks; {bad})"
        for check in checks:
            problem = problem or check(value)
        if problem:
            report.add(path, node, problem)
        return _BAD if problem else value

    return convert


def number(*, whole: bool = False, zero: bool = False, at_most: float = math.inf) -> Converter:
    """A positive number (or zero when ``zero``) up to ``at_most``; booleans and quoted numbers are
    refused.  The bound keeps a typo (a deadline of 1e11 seconds) from passing ``check`` and then
    failing every build deep inside."""
    kind = "a whole number" if whole else "a number"

    def convert(node: Node, path: str, report: Report) -> Any:
        if not _scalar(node, ("int",) if whole else ("int", "float")):
            report.add(path, node, f"must be {kind}, not {node_kind(node)}")
            return _BAD
        value = SafeConstructor().construct_object(node)
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            report.add(path, node, f"must be {'zero or more' if zero else 'positive'}, not {node.value}")
            return _BAD
        if value > at_most:
            bound = f"{at_most:,.0f}" if float(at_most).is_integer() else f"{at_most:g}"
            report.add(path, node, f"must be at most {bound}, not {node.value}")
            return _BAD
        return int(value) if whole else float(value)

    return convert


def boolean(node: Node, path: str, report: Report) -> Any:
    if not _scalar(node, ("bool",)):
        report.add(path, node, f"must be true or false, not {node_kind(node)}")
        return _BAD
    return SafeConstructor().construct_object(node)


def text_list(*checks: Check, nonempty: bool = False, single: bool = False) -> Converter:
    """A list of distinct strings; with ``single`` a lone string counts as a list of one."""
    item = text(*checks)

    def convert(node: Node, path: str, report: Report) -> Any:
        if single and not isinstance(node, SequenceNode):
            value = item(node, path, report)
            return _BAD if value is _BAD else (value,)
        if not isinstance(node, SequenceNode) or (nonempty and not node.value):
            need = f"a {'non-empty ' if nonempty else ''}list"
            report.add(path, node, f"must be {need}, not {node_kind(node)}")
            return _BAD
        values = [item(child, f"{path}[{i}]", report) for i, child in enumerate(node.value)]
        for i, value in enumerate(values):
            if value is not _BAD and value in values[:i]:
                report.add(f"{path}[{i}]", node.value[i], f"{value!r} is listed twice")
                return _BAD
        return _BAD if _BAD in values else tuple(values)

    return convert


def day(node: Node, path: str, report: Report) -> Any:
    """A calendar date written as YAML's ISO date (2026-06-26)."""
    if not _scalar(node, ("timestamp",)) or ":" in str(node.value):
        report.add(path, node, f"must be a date like 2026-06-26, not {node_kind(node)}")
        return _BAD
    return SafeConstructor().construct_object(node)


def calendar_dates(node: Node, path: str, report: Report) -> Any:
    """A list of ``{day, title, url}`` mappings (hand-configured calendar items)."""
    if not isinstance(node, SequenceNode):
        report.add(path, node, f"must be a list ([] for none), not {node_kind(node)}")
        return _BAD
    items = [
        convert_mapping(child, f"{path}[{i}]", CALENDAR_DATE, report) for i, child in enumerate(node.value)
    ]
    if any(item is None or item[0].keys() != CALENDAR_DATE.keys() for item in items):
        return _BAD
    return tuple(CalendarDate(**item[0]) for item in items if item is not None)


def convert_mapping(
    node: Node, path: str, schema: Schema, report: Report
) -> tuple[dict[str, Any], dict[str, Node]] | None:
    """Convert a mapping by its schema; returns (values, value nodes), or None if it is not a mapping."""
    if not isinstance(node, MappingNode):
        report.add(path, node, f"must be a mapping with keys {', '.join(schema)}, not {node_kind(node)}")
        return None
    values: dict[str, Any] = {}
    nodes: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key = key_text(key_node)
        if key in nodes:
            continue  # reported as a duplicate key
        nodes[key] = value_node
        if key not in schema:
            report.add(join(path, key), key_node, f"unknown key (allowed: {', '.join(schema)})")
            continue
        value = schema[key][0](value_node, join(path, key), report)
        if value is not _BAD:
            values[key] = value
    for key, (_, required) in schema.items():
        if required and key not in nodes:
            report.add(path, node, f"missing required key {key!r}")
    return values, nodes


# --- checks on a single value ------------------------------------------------------------------------


def _one_of(allowed: tuple[str, ...], what: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in allowed else f"{what} {value!r} is not one of {', '.join(allowed)}"

    return check


def _pattern(regex: re.Pattern[str], what: str) -> Check:
    return lambda value: None if regex.fullmatch(value) else f"{value!r} is not {what}"


def _url(value: str) -> str | None:
    if value == "":
        return None
    if any(c.isspace() or ord(c) < 32 for c in value):
        return "URL must not contain spaces or control characters"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return "scheme must be http or https"
    if parts.username is not None or parts.password is not None:
        # Never fetched (the fetcher refuses them), and the URL is recorded in each issue's snapshot.
        return "URL must not carry a user name or password (secrets belong in the environment)"
    return None if parts.hostname else "URL has no host"


def _location(value: str) -> str | None:
    """An http(s) URL or a local file path ("" for none); no other scheme (``javascript:``, ``ftp:``)
    passes as a file name (a Windows drive letter, ``C:``, is a path)."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]+):", value)
    if scheme and scheme.group(1).lower() not in ("http", "https", "file"):
        return f"an http(s) URL or a local file, not a {scheme.group(1)}: address"
    if "://" in value and not value.lower().startswith("file://"):
        return _url(value)
    return "must not contain control characters" if any(ord(c) < 32 for c in value) else None


def _site_url(value: str) -> str | None:
    """The published site's address, as ``--base-url`` and the site check it."""
    problem = site_url_problem(value) if value else None
    return None if problem is None else f"the site's address {problem}"


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (use an IANA name such as America/New_York)"
    return None


def _address(value: str) -> str | None:
    _, address = parseaddr(value)
    ok = bool(address) and _EMAIL.fullmatch(address) is not None
    return None if ok else f"{value!r} is not an email address (name@example.com or Name <name@example.com>)"


def _unsubscribe(value: str) -> str | None:
    parts = [p.strip() for p in value.split(",")] if value.strip() else []
    for part in parts:
        inner = part[1:-1] if part.startswith("<") and part.endswith(">") else ""
        if not inner.lower().startswith(("mailto:", "https://", "http://")):
            return f"{part!r} must be <mailto:...> or <https://...>, comma-separated"
    return None


# --- the tables ------------------------------------------------------------------------------------------

_symbol = symbol_check = _pattern(_SYMBOL, "a valid symbol (letters, digits and ^ . = - _)")

BRIEF: Schema = {
    "title": (text(), False),
    "timezone": (text(_timezone), False),
    # A reporting week runs from Monday to this day: ending it before Thursday reports a stub of a week.
    "week_ends_on": (text(lambda v: _one_of(WEEKDAYS[3:], "weekday")(v.lower())), False),
    "history_years": (number(whole=True, at_most=60), False),
}
INSTRUMENT: Schema = {
    "symbol": (text(_symbol), True),
    "name": (text(), True),
    "role": (text_list(_one_of(ROLES, "role"), nonempty=True, single=True), True),
    "sector": (text(), False),
    "required": (boolean, False),
}
# A proxy written in full: the ETF, and what to call it where the ETF tracks another index than the
# one it stands in for (QQQ tracks the Nasdaq-100, not the Nasdaq Composite).
PROXY: Schema = {"etf": (text(_symbol), True), "name": (text(), False)}
FEED: Schema = {
    "name": (text(_pattern(_FEED_NAME, "a safe file name (letters, digits, - and _ only)")), True),
    "outlet": (text(), True),
    "url": (text(_url), True),
    "topics": (text_list(_one_of(TOPICS, "topic")), False),
    "weight": (number(zero=True, at_most=100), False),
}
ANALYSIS: Schema = {
    f.name: (text_list(_symbol, nonempty=True) if f.name == "ladder" else text(_symbol), False)
    for f in dataclasses.fields(Slots)
} | {"ladder_labels": (text_list(nonempty=True), False)}
NETWORK: Schema = {
    "user_agent": (text(), False),
    "feed_timeout": (number(at_most=600), False),
    "feed_deadline": (number(at_most=3600), False),
    "market_deadline": (number(at_most=3600), False),
    "max_feed_bytes": (number(whole=True, at_most=100_000_000), False),
    "max_redirects": (number(whole=True, zero=True, at_most=20), False),
    "allow_hosts": (text_list(_pattern(_HOST, "a host name or IP address")), False),
}
HEADLINES: Schema = {"min_score": (number(zero=True), False)}
SITE: Schema = {"title": (text(), False), "base_url": (text(_site_url, empty=True), False)}
EMAIL: Schema = {
    "sender": (text(_address), False),
    "to": (text_list(_address), False),
    "subject_prefix": (text(empty=True), False),
    "list_unsubscribe": (text(_unsubscribe, empty=True), False),
    "list_unsubscribe_post": (boolean, False),
}
CALENDAR_DATE: Schema = {"day": (day, True), "title": (text(), True), "url": (text(_url), True)}
FRED: Schema = {
    "series": (text_list(_pattern(_FRED_ID, "a FRED series id (upper-case letters, digits, _)")), False),
    "timeout": (number(at_most=600), False),
    "deadline": (number(at_most=3600), False),
}
EARNINGS: Schema = {
    "top": (number(whole=True, zero=True, at_most=100), False),
    "deadline": (number(at_most=3600), False),
}


def earnings_settings(node: Node, path: str, report: Report) -> Any:
    """The ``calendar.earnings`` mapping: how many of the largest members reporting next week to list."""
    parsed = convert_mapping(node, path, EARNINGS, report)
    return _BAD if parsed is None else EarningsSettings(**parsed[0])


CALENDAR: Schema = {
    "official": (text_list(_one_of(OFFICIAL_CALENDARS, "calendar source")), False),
    "timeout": (number(at_most=600), False),
    "deadline": (number(at_most=3600), False),
    "russell": (calendar_dates, False),
    "earnings": (earnings_settings, False),
}
INDEX: Schema = {
    "holdings": (text(_location, empty=True), False),
    "sp600": (text(_location, empty=True), False),
    "timeout": (number(at_most=600), False),
    "history_days": (number(whole=True, at_most=20_000), False),
    "budget": (number(at_most=14_400), False),
    "chunk": (number(whole=True, at_most=10_000), False),
    "pause": (number(zero=True, at_most=60), False),
}
VALUATION: Schema = {
    "large_fund": (text(lambda v: _symbol(v) if v else None, empty=True), False),
    "members": (boolean, False),
    "refresh_days": (number(whole=True, at_most=3660), False),
    "budget": (number(at_most=14_400), False),
}
SETTINGS: Mapping[str, tuple[type, Schema]] = {
    "brief": (BriefSettings, BRIEF),
    "headlines": (HeadlineSettings, HEADLINES),
    "network": (NetworkSettings, NETWORK),
    "site": (SiteSettings, SITE),
    "email": (EmailSettings, EMAIL),
    "fred": (FredSettings, FRED),
    "calendar": (CalendarSettings, CALENDAR),
    "index": (IndexSettings, INDEX),
    "valuation": (ValuationSettings, VALUATION),
}
