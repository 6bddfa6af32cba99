"""Read and validate feeds.yaml into a :class:`~generator.models.Config`.

The file is composed with PyYAML's safe loader into nodes, which keep their line
numbers, and checked against a small schema per section.  Every problem is
collected, each naming its key path and line
(``news[2].url: scheme must be http or https (line 41)``), and then raised
together in one :class:`~generator.errors.ConfigError`, before any work is done.
A tag outside YAML's plain types (``!!python/object`` and the like) is refused as
unsafe, and a document holding one is not interpreted any further.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.errors import ConfigError
from generator.models import (
    ROLES,
    BriefSettings,
    Config,
    EmailSettings,
    Feed,
    Instrument,
    NetworkSettings,
    SiteSettings,
    Slots,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Feed topics: the theme keys of generator.analysis.headlines (a topic adds to that theme's score).
TOPICS = (
    *("small_caps", "rates", "fed", "rotation", "credit", "banks", "sectors"),
    *("earnings", "economy", "volatility", "technicals", "valuation"),
)
SECTIONS = ("brief", "universe", "analysis", "news", "network", "site", "email")

_YAML = "tag:yaml.org,2002:"
_SAFE_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp", "merge")}
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
_EMAIL = re.compile(r"[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;.]+")
_BAD: Any = object()  # returned by a converter after it reported a problem

Check = Callable[[Any], str | None]  # a problem message for a bad value, else None
Converter = Callable[[Node, str, "_Report"], Any]


class _Report:
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


def default_config_path() -> Path:
    """The config file used when the command line names none."""
    return Path("feeds.yaml")


def load_config(path: str | Path) -> Config:
    """Read, validate and return the config at ``path``; raise ConfigError listing every problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(name, ["file not found"]) from None
    except UnicodeDecodeError:
        raise ConfigError(name, ["file is not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError(name, [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark else ""
        raise ConfigError(name, [f"invalid YAML: {exc.problem or exc}{line}"]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError(name, [f"invalid YAML: {exc}"]) from None
    if root is None:
        raise ConfigError(name, ["file is empty: it needs at least a universe"])
    report = _Report()
    _check_structure(root, "", report, set())
    config = None if report.tainted else _build(name, root, report)
    if report.items or config is None:
        raise ConfigError(name, report.problems() or ["invalid configuration"])
    return config


# --- structure: tags and duplicate keys, over the whole document -----------------------------------


def _check_structure(node: Node, path: str, report: _Report, seen: set[int]) -> None:
    if id(node) in seen:  # aliases share nodes; visit each once
        return
    seen.add(id(node))
    if node.tag not in _SAFE_TAGS:
        tag = node.tag.replace(_YAML, "!!")
        unsafe = "python/" in node.tag
        report.tainted = True
        report.add(
            path, node, f"unsafe YAML: tag {tag} is not allowed" if unsafe else f"unsupported tag {tag}"
        )
    if isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _check_structure(item, f"{path}[{i}]", report, seen)
    elif isinstance(node, MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _key(key_node)
            if key in first:
                report.add(_join(path, key), key_node, f"duplicate key (first on line {first[key]})")
            first.setdefault(key, key_node.start_mark.line + 1)
            _check_structure(value_node, _join(path, key), report, seen)


def _key(node: Node) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else "<complex key>"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- converters: node -> value, reporting problems ---------------------------------------------------


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list" if node.value else "an empty list"
    short = node.tag.replace(_YAML, "")
    if short == "null":
        return "empty"
    shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"{_TYPE_NAMES.get(short, short)} ({shown!r})"


def _scalar(node: Node, tags: tuple[str, ...]) -> bool:
    return isinstance(node, ScalarNode) and node.tag in {_YAML + t for t in tags}


def text(*checks: Check, empty: bool = False) -> Converter:
    def convert(node: Node, path: str, report: _Report) -> Any:
        if not _scalar(node, ("str",)):
            report.add(path, node, f"must be a string, not {_kind(node)}")
            return _BAD
        value = str(node.value)
        problem = "must not be empty" if not (empty or value.strip()) else None
        for check in checks:
            problem = problem or check(value)
        if problem:
            report.add(path, node, problem)
        return _BAD if problem else value

    return convert


def number(*, whole: bool = False, zero: bool = False) -> Converter:
    """A positive number (or zero when ``zero``); booleans and quoted numbers are refused."""
    kind = "a whole number" if whole else "a number"

    def convert(node: Node, path: str, report: _Report) -> Any:
        if not _scalar(node, ("int",) if whole else ("int", "float")):
            report.add(path, node, f"must be {kind}, not {_kind(node)}")
            return _BAD
        value = SafeConstructor().construct_object(node)
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            report.add(path, node, f"must be {'zero or more' if zero else 'positive'}, not {node.value}")
            return _BAD
        return int(value) if whole else float(value)

    return convert


def boolean(node: Node, path: str, report: _Report) -> Any:
    if not _scalar(node, ("bool",)):
        report.add(path, node, f"must be true or false, not {_kind(node)}")
        return _BAD
    return SafeConstructor().construct_object(node)


def text_list(*checks: Check, nonempty: bool = False, single: bool = False) -> Converter:
    """A list of distinct strings; with ``single`` a lone string counts as a list of one."""
    item = text(*checks)

    def convert(node: Node, path: str, report: _Report) -> Any:
        if single and not isinstance(node, SequenceNode):
            value = item(node, path, report)
            return _BAD if value is _BAD else (value,)
        if not isinstance(node, SequenceNode) or (nonempty and not node.value):
            report.add(path, node, f"must be a {'non-empty ' if nonempty else ''}list, not {_kind(node)}")
            return _BAD
        values = [item(child, f"{path}[{i}]", report) for i, child in enumerate(node.value)]
        for i, value in enumerate(values):
            if value is not _BAD and value in values[:i]:
                report.add(f"{path}[{i}]", node.value[i], f"{value!r} is listed twice")
                return _BAD
        return _BAD if _BAD in values else tuple(values)

    return convert


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
    return None if parts.hostname else "URL has no host"


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


# --- the schema ----------------------------------------------------------------------------------------

_symbol = _pattern(_SYMBOL, "a valid symbol (letters, digits and ^ . = - _)")
Schema = Mapping[str, tuple[Converter, bool]]  # key -> (converter, required)

BRIEF: Schema = {
    "title": (text(), False),
    "timezone": (text(_timezone), False),
    "week_ends_on": (text(lambda v: _one_of(WEEKDAYS, "weekday")(v.lower())), False),
    "history_years": (number(whole=True), False),
}
INSTRUMENT: Schema = {
    "symbol": (text(_symbol), True),
    "name": (text(), True),
    "role": (text_list(_one_of(ROLES, "role"), nonempty=True, single=True), True),
    "sector": (text(), False),
    "required": (boolean, False),
}
FEED: Schema = {
    "name": (text(_pattern(_FEED_NAME, "a safe file name (letters, digits, - and _ only)")), True),
    "outlet": (text(), True),
    "url": (text(_url), True),
    "topics": (text_list(_one_of(TOPICS, "topic")), False),
}
ANALYSIS: Schema = {
    f.name: (text_list(_symbol, nonempty=True) if f.name == "ladder" else text(_symbol), False)
    for f in dataclasses.fields(Slots)
} | {"ladder_labels": (text_list(nonempty=True), False)}
NETWORK: Schema = {
    "user_agent": (text(), False),
    "feed_timeout": (number(), False),
    "feed_deadline": (number(), False),
    "market_deadline": (number(), False),
    "max_feed_bytes": (number(whole=True), False),
    "max_redirects": (number(whole=True, zero=True), False),
    "allow_hosts": (text_list(_pattern(_HOST, "a host name or IP address")), False),
}
SITE: Schema = {"title": (text(), False), "base_url": (text(_url, empty=True), False)}
EMAIL: Schema = {
    "sender": (text(_address), False),
    "to": (text_list(_address), False),
    "subject_prefix": (text(empty=True), False),
    "list_unsubscribe": (text(_unsubscribe, empty=True), False),
    "list_unsubscribe_post": (boolean, False),
}
SETTINGS: Mapping[str, tuple[type, Schema]] = {
    "brief": (BriefSettings, BRIEF),
    "network": (NetworkSettings, NETWORK),
    "site": (SiteSettings, SITE),
    "email": (EmailSettings, EMAIL),
}


def _mapping(
    node: Node, path: str, schema: Schema, report: _Report
) -> tuple[dict[str, Any], dict[str, Node]] | None:
    """Convert a mapping by its schema; returns (values, value nodes), or None if it is not a mapping."""
    if not isinstance(node, MappingNode):
        report.add(path, node, f"must be a mapping with keys {', '.join(schema)}, not {_kind(node)}")
        return None
    values: dict[str, Any] = {}
    nodes: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key = _key(key_node)
        if key in nodes:
            continue  # reported as a duplicate key
        nodes[key] = value_node
        if key not in schema:
            report.add(_join(path, key), key_node, f"unknown key (allowed: {', '.join(schema)})")
            continue
        value = schema[key][0](value_node, _join(path, key), report)
        if value is not _BAD:
            values[key] = value
    for key, (_, required) in schema.items():
        if required and key not in nodes:
            report.add(path, node, f"missing required key {key!r}")
    return values, nodes


# --- building the Config --------------------------------------------------------------------------------


def _build(name: str, root: Node, report: _Report) -> Config | None:
    top = _mapping(root, "", {s: (lambda *_: None, s == "universe") for s in SECTIONS}, report)
    if top is None:
        return None
    _, nodes = top
    settings: dict[str, Any] = {}
    for section, (cls, schema) in SETTINGS.items():
        if section in nodes and (parsed := _mapping(nodes[section], section, schema, report)):
            values = parsed[0]
            if section == "brief" and "week_ends_on" in values:
                values["week_ends_on"] = values["week_ends_on"].lower()
            settings[section] = cls(**values)
    universe = _universe(nodes["universe"], report) if "universe" in nodes else None
    feeds = _feeds(nodes["news"], report) if "news" in nodes else ()
    slots = _slots(nodes.get("analysis"), nodes.get("universe", root), universe, report)
    if universe is None or feeds is None or slots is None:
        return None
    return Config(path=name, universe=universe, feeds=feeds, slots=slots, **settings)


def _items(node: Node, path: str, schema: Schema, report: _Report, *, nonempty: bool) -> list[Any] | None:
    if not isinstance(node, SequenceNode) or (nonempty and not node.value):
        need = "a non-empty list" if nonempty else "a list ([] for none)"
        report.add(path, node, f"must be {need}, not {_kind(node)}")
        return None
    return [_mapping(item, f"{path}[{i}]", schema, report) for i, item in enumerate(node.value)]


def _unique(path: str, parsed: list[Any], key: str, report: _Report) -> None:
    first: dict[str, tuple[int, int]] = {}
    for i, item in enumerate(parsed):
        if item is None or key not in item[0]:
            continue
        folded = item[0][key].casefold()
        if folded in first:
            j, line = first[folded]
            message = f"duplicate {key} {item[0][key]!r} (first at {path}[{j}], line {line})"
            report.add(f"{path}[{i}].{key}", item[1][key], message)
        else:
            first[folded] = (i, item[1][key].start_mark.line + 1)


def _universe(node: Node, report: _Report) -> tuple[Instrument, ...] | None:
    parsed = _items(node, "universe", INSTRUMENT, report, nonempty=True)
    if parsed is None:
        return None
    _unique("universe", parsed, "symbol", report)
    out: list[Instrument] = []
    for i, item in enumerate(parsed):
        if item is None:
            continue
        values, nodes = item
        roles = values.pop("role", None)
        if roles and "sector" in roles and "sector" not in nodes:
            report.add(f"universe[{i}]", node.value[i], "role 'sector' needs a 'sector' name")
        elif roles and "sector" not in roles and "sector" in nodes:
            report.add(f"universe[{i}].sector", nodes["sector"], "only allowed with role 'sector'")
        elif roles is not None and {"symbol", "name"} <= values.keys():
            out.append(Instrument(roles=roles, **values))
    return tuple(out) if len(out) == len(parsed) else None


def _feeds(node: Node, report: _Report) -> tuple[Feed, ...] | None:
    parsed = _items(node, "news", FEED, report, nonempty=False)
    if parsed is None:
        return None
    _unique("news", parsed, "name", report)
    feeds = [Feed(**item[0]) for item in parsed if item and {"name", "outlet", "url"} <= item[0].keys()]
    return tuple(feeds) if len(feeds) == len(parsed) else None


def _slots(
    node: Node | None, anchor: Node, universe: tuple[Instrument, ...] | None, report: _Report
) -> Slots | None:
    """The ``analysis`` block: defaults where absent; every symbol must be in the universe."""
    values: dict[str, Any] = {}
    nodes: dict[str, Node] = {}
    if node is not None:
        parsed = _mapping(node, "analysis", ANALYSIS, report)
        if parsed is None:
            return None
        values, nodes = parsed
    slots = Slots(**values)
    failed = nodes.keys() - values.keys()  # already reported
    if len(slots.ladder) != len(slots.ladder_labels) and not failed & {"ladder", "ladder_labels"}:
        where = nodes.get("ladder_labels") or nodes.get("ladder") or anchor
        message = f"has {len(slots.ladder_labels)} labels for {len(slots.ladder)} ladder symbols"
        report.add("analysis.ladder_labels", where, message)
    if universe is None:
        return slots
    known = {i.symbol for i in universe}
    for f in dataclasses.fields(Slots):
        if f.name == "ladder_labels" or f.name in failed:
            continue
        symbols = getattr(slots, f.name)
        for j, symbol in enumerate(symbols if isinstance(symbols, tuple) else (symbols,)):
            if symbol in known:
                continue
            path = f"analysis.{f.name}" + (f"[{j}]" if isinstance(symbols, tuple) else "")
            if f.name in nodes:
                child = nodes[f.name]
                where = child.value[j] if isinstance(child, SequenceNode) else child
                report.add(path, where, f"{symbol!r} is not in the universe")
            else:
                report.add(path, node or anchor, f"{symbol!r} (the default) is not in the universe")
    return slots


# --- describe --------------------------------------------------------------------------------------------


def describe(config: Config) -> list[str]:
    """Plain lines saying what a build with this config would fetch and how (for ``smallcap-brief check``)."""
    b, n, s, e = config.brief, config.network, config.site, config.email
    lines = [
        f"Config: {config.path}",
        f"Brief: {b.title!r}, time zone {b.timezone}, weeks end on {b.week_ends_on.capitalize()}, "
        f"{b.history_years} years of history",
        f"Universe: {len(config.universe)} symbols",
    ]
    width = max((len(i.symbol) for i in config.universe), default=0)
    for role in ROLES:
        members = config.with_role(role)
        if members:
            lines.append(f"  {role} ({len(members)}):")
            for i in members:
                extra = (f" — {i.sector}" if i.sector else "") + (" (required)" if i.required else "")
                lines.append(f"    {i.symbol:<{width}}  {i.name}{extra}")
    ladder = ", ".join(
        f"{sym} ({label})" for sym, label in zip(config.slots.ladder, config.slots.ladder_labels, strict=True)
    )
    slots = config.slots
    lines.append(
        f"Analysis: benchmark {slots.benchmark} against {slots.large_cap} and {slots.nasdaq}; "
        f"value {slots.value} / growth {slots.growth}; ladder {ladder}"
    )
    lines.append(f"News feeds: {len(config.feeds)}")
    for feed in config.feeds:
        topics = f" [{', '.join(feed.topics)}]" if feed.topics else ""
        lines.append(f"  {feed.name} ({feed.outlet}): {feed.url}{topics}")
    hosts = ", ".join(n.allow_hosts) or "none"
    lines.append(
        f"Network: {n.feed_timeout:g} s per feed, {n.feed_deadline:g} s for all feeds, "
        f"{n.market_deadline:g} s for market data, at most {n.max_feed_bytes:,} bytes per feed, "
        f"{n.max_redirects} redirects; private hosts allowed: {hosts}"
    )
    lines.append(f"User agent: {n.user_agent}")
    lines.append(f"Site: {s.title!r} at {s.base_url or '(base URL not set)'}")
    recipients = ", ".join(e.to) or "none configured"
    lines.append(f"Email: from {e.sender} to {recipients}; subject prefix {e.subject_prefix!r}")
    lines.append(f"List-Unsubscribe: {e.list_unsubscribe or 'not set'}")
    return lines
