"""Read and validate feeds.yaml into a :class:`~generator.models.Config`.

The file is composed with PyYAML's safe loader (libyaml's, where PyYAML has it) into nodes,
which keep their line numbers, and checked against a small schema per section
(:mod:`generator.config_schema`).  Every problem is collected, each naming its key path and line
(``news[2].url: scheme must be http or https (line 41)``), and then raised
together in one :class:`~generator.errors.ConfigError`, before any work is done.
A tag outside YAML's plain types (``!!python/object`` and the like) is refused as
unsafe, and a document holding one is not interpreted any further.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from generator.config_schema import (
    ANALYSIS,
    FEED,
    INSTRUMENT,
    PROXY,
    SECTIONS,
    SETTINGS,
    YAML_TAG,
    Report,
    Schema,
    convert_mapping,
    join,
    key_text,
    node_kind,
    symbol_check,
    text,
)
from generator.errors import ConfigError
from generator.models import ROLES, Config, Feed, Instrument, Role, Slots

__all__ = ["default_config_path", "describe", "load_config"]

_SAFE_TAGS = {
    YAML_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp", "merge")
}


def default_config_path() -> Path:
    """The config file used when the command line names none."""
    return Path("feeds.yaml")


def load_config(path: str | Path) -> Config:
    """Read, validate and return the config at ``path``; raise ConfigError listing every problem."""
    name = str(path)
    root = _compose(name, _read_text(path))
    if root is None:
        raise ConfigError(name, ["file is empty: it needs at least a universe"])
    report = Report()
    _check_structure(root, "", report, set())
    config = None if report.tainted else _build(name, root, report)
    if report.items or config is None:
        raise ConfigError(name, report.problems() or ["invalid configuration"])
    return config


# A configuration is a few kilobytes; reading stops past this (a path to /dev/zero or a log file).
MAX_CONFIG_BYTES = 1_000_000


def _read_text(path: str | Path) -> str:
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            too_big = f"file is larger than {MAX_CONFIG_BYTES:,} bytes: not a configuration"
            raise ConfigError(str(path), [too_big])
        return data.decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), ["file is not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None


# libyaml's composer (where PyYAML was built with it) gives the same nodes as the pure-Python one,
# about fifteen times faster.  A document it refuses is composed again by the pure-Python composer,
# whose errors stay the ones reported.  Before either composes, the parser's events are counted: a
# document nested deeper than _NESTING is refused at the event that goes too deep.  No configuration
# nests that deep, and composing one is what costs (seconds in the pure-Python scanner; libyaml's
# composer crashes the process at some 50,000 levels).
_FAST_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
_NESTING = 100


def _compose(name: str, text: str) -> Node | None:
    loader = _FAST_LOADER or yaml.SafeLoader
    line = _too_deep(text, loader, _NESTING)
    if line is not None:
        raise ConfigError(name, [f"invalid YAML: nested more than {_NESTING} levels deep (line {line})"])
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line_at = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark else ""
        raise ConfigError(name, [f"invalid YAML: {exc.problem or exc}{line_at}"]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError(name, [f"invalid YAML: {exc}"]) from None


def _too_deep(text: str, loader: Any, limit: int) -> int | None:
    """The line of the first node nested deeper than ``limit`` (the top-level node is level 1), read
    off the parser's events without composing anything; None when there is none, or when the text is
    not YAML before that point (composing it reports why)."""
    open_collections = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.CollectionEndEvent):
                open_collections -= 1
            elif isinstance(event, yaml.NodeEvent):
                if open_collections + 1 > limit:
                    return event.start_mark.line + 1 if event.start_mark is not None else 1
                if isinstance(event, yaml.CollectionStartEvent):
                    open_collections += 1
    except (yaml.YAMLError, RecursionError):
        return None
    return None


# --- structure: tags and duplicate keys, over the whole document -----------------------------------


def _check_structure(node: Node, path: str, report: Report, seen: set[int]) -> None:
    if id(node) in seen:  # aliases share nodes; visit each once
        return
    seen.add(id(node))
    if node.tag not in _SAFE_TAGS:
        tag = node.tag.replace(YAML_TAG, "!!")
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
            key = key_text(key_node)
            if key in first:
                report.add(join(path, key), key_node, f"duplicate key (first on line {first[key]})")
            first.setdefault(key, key_node.start_mark.line + 1)
            _check_structure(value_node, join(path, key), report, seen)


# --- building the Config --------------------------------------------------------------------------------


def _build(name: str, root: Node, report: Report) -> Config | None:
    top = convert_mapping(root, "", {s: (lambda *_: None, s == "universe") for s in SECTIONS}, report)
    if top is None:
        return None
    _, nodes = top
    settings = _settings(nodes, report)
    universe = _universe(nodes["universe"], report) if "universe" in nodes else None
    feeds = _feeds(nodes["news"], report) if "news" in nodes else ()
    slots = _slots(nodes.get("analysis"), nodes.get("universe", root), universe, report)
    if universe is None or feeds is None or slots is None:
        return None
    if "proxies" in nodes:
        settings["proxies"], settings["proxy_names"] = _proxies(nodes["proxies"], universe, report)
    return Config(path=name, universe=universe, feeds=feeds, slots=slots, **settings)


Pairs = tuple[tuple[str, str], ...]


def _proxies(node: Node, universe: tuple[Instrument, ...], report: Report) -> tuple[Pairs, Pairs]:
    """``proxies:`` maps an index of the universe to the ETF that stands in for it when it is missing:
    ``^GSPC: SPY``, or ``^IXIC: {etf: QQQ, name: Nasdaq-100 (QQQ)}`` where the ETF tracks another
    index.  Returns (index, ETF) pairs and (ETF, name) pairs."""
    if not isinstance(node, MappingNode):
        report.add("proxies", node, f"must be a mapping of index: ETF, not {node_kind(node)}")
        return (), ()
    known = {i.symbol for i in universe}
    pairs, names = [], []
    for key_node, value_node in node.value:
        index, path = key_text(key_node), join("proxies", key_text(key_node))
        if isinstance(value_node, MappingNode):
            parsed = convert_mapping(value_node, path, PROXY, report)
            etf, name = (parsed[0].get("etf"), parsed[0].get("name")) if parsed else (None, None)
        else:
            etf, name = text(symbol_check)(value_node, path, report), None
        if index not in known:
            report.add(path, key_node, f"{index!r} is not a symbol of the universe")
        elif isinstance(etf, str):
            if etf == index:
                report.add(path, value_node, "an index cannot stand in for itself")
            else:
                pairs.append((index, etf))
                names += [(etf, name)] if isinstance(name, str) else []
    return tuple(pairs), tuple(names)


def _settings(nodes: dict[str, Node], report: Report) -> dict[str, Any]:
    """The plain settings sections (brief, network, site, email) that are present."""
    settings: dict[str, Any] = {}
    for section, (cls, schema) in SETTINGS.items():
        if section in nodes and (parsed := convert_mapping(nodes[section], section, schema, report)):
            values = parsed[0]
            if section == "brief" and "week_ends_on" in values:
                values["week_ends_on"] = values["week_ends_on"].lower()
            settings[section] = cls(**values)
    return settings


def _items(
    node: Node, path: str, schema: Schema, report: Report, *, nonempty: bool, unique: str
) -> list[Any] | None:
    """A list of mappings, each converted by ``schema``, whose ``unique`` key differs (ignoring case)."""
    if not isinstance(node, SequenceNode) or (nonempty and not node.value):
        need = "a non-empty list" if nonempty else "a list ([] for none)"
        report.add(path, node, f"must be {need}, not {node_kind(node)}")
        return None
    parsed = [convert_mapping(item, f"{path}[{i}]", schema, report) for i, item in enumerate(node.value)]
    _unique(path, parsed, unique, report)
    return parsed


def _unique(path: str, parsed: list[Any], key: str, report: Report) -> None:
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


def _universe(node: Node, report: Report) -> tuple[Instrument, ...] | None:
    parsed = _items(node, "universe", INSTRUMENT, report, nonempty=True, unique="symbol")
    if parsed is None:
        return None
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
            out.append(Instrument(roles=tuple(Role(r) for r in roles), **values))
    return tuple(out) if len(out) == len(parsed) else None


def _feeds(node: Node, report: Report) -> tuple[Feed, ...] | None:
    parsed = _items(node, "news", FEED, report, nonempty=False, unique="name")
    if parsed is None:
        return None
    feeds = [Feed(**item[0]) for item in parsed if item and {"name", "outlet", "url"} <= item[0].keys()]
    return tuple(feeds) if len(feeds) == len(parsed) else None


def _slots(
    node: Node | None, anchor: Node, universe: tuple[Instrument, ...] | None, report: Report
) -> Slots | None:
    """The ``analysis`` block: defaults where absent; every symbol must be in the universe."""
    values: dict[str, Any] = {}
    nodes: dict[str, Node] = {}
    if node is not None:
        parsed = convert_mapping(node, "analysis", ANALYSIS, report)
        if parsed is None:
            return None
        values, nodes = parsed
    slots = Slots(**values)
    failed = nodes.keys() - values.keys()  # already reported
    if len(slots.ladder) != len(slots.ladder_labels) and not failed & {"ladder", "ladder_labels"}:
        where = nodes.get("ladder_labels") or nodes.get("ladder") or anchor
        message = f"has {len(slots.ladder_labels)} labels for {len(slots.ladder)} ladder symbols"
        report.add("analysis.ladder_labels", where, message)
    if universe is not None:
        known = {i.symbol for i in universe}
        _check_slot_symbols(slots, known, nodes, failed, node or anchor, report)
    return slots


def _check_slot_symbols(
    slots: Slots, known: set[str], nodes: dict[str, Node], failed: set[str], anchor: Node, report: Report
) -> None:
    """Report every slot symbol (given or default) that is not in the universe."""
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
                report.add(path, anchor, f"{symbol!r} (the default) is not in the universe")


# --- describe --------------------------------------------------------------------------------------------


def refused_hosts(config: Config) -> list[str]:
    """The feeds a build will refuse to fetch, whatever the network does: a literal private, loopback or
    cloud-metadata address (or ``localhost``) not listed in ``network.allow_hosts``.  For ``check``: the
    build itself reports them as failed feeds and goes on, as it must for a host that resolves there."""
    import ipaddress
    import re
    import socket
    from urllib.parse import urlsplit

    from generator.sources.http import blocked_reason

    allowed = {h.lower() for h in config.network.allow_hosts}
    out = []
    for n, feed in enumerate(config.feeds):
        host = (urlsplit(feed.url).hostname or "").lower()
        if host in allowed:
            continue
        if host == "localhost":
            address = "127.0.0.1"
        else:
            try:
                address = str(ipaddress.ip_address(host))
            except ValueError:
                # The C library's older spellings of an IPv4 address ("127.1", "0x7f000001",
                # "2130706433", "0177.0.0.1") reach it without a lookup, as the build finds.
                if not re.fullmatch(r"[0-9a-fx.]+", host):
                    continue  # a name: where it resolves is known only when fetched
                try:
                    address = socket.inet_ntoa(socket.inet_aton(host))
                except OSError:
                    continue
        reason = blocked_reason(address)
        if reason is not None:
            article = "an" if reason[0] in "aeiou" else "a"
            out.append(
                f"news[{n}].url: {host} is {article} {reason} address; a build refuses it unless"
                " network.allow_hosts lists it"
            )
    return out


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
    named = dict(config.proxy_names)
    stand_ins = ", ".join(
        f"{etf} for {index}" + (f" (called {named[etf]})" if etf in named else "")
        for index, etf in config.proxies
    )
    lines.append(f"Proxies: {stand_ins or 'none'} (when the index is missing, stale or much shorter)")
    lines.append(f"News feeds: {len(config.feeds)}")
    for feed in config.feeds:
        topics = f" [{', '.join(feed.topics)}]" if feed.topics else ""
        weight = f" weight {feed.weight:g}" if feed.weight != 1 else ""
        lines.append(f"  {feed.name} ({feed.outlet}): {feed.url}{topics}{weight}")
    lines.append(f"Headlines: relevance floor {config.headlines.min_score:g}")
    hosts = ", ".join(n.allow_hosts) or "none"
    lines.append(
        f"Network: {n.feed_timeout:g} s per feed, {n.feed_deadline:g} s for all feeds, "
        f"{n.market_deadline:g} s for market data, at most {n.max_feed_bytes:,} bytes per feed, "
        f"{n.max_redirects} redirects; private hosts allowed: {hosts}"
    )
    lines.append(f"User agent: {n.user_agent}")
    lines.extend(_describe_providers(config))
    lines.append(f"Site: {s.title!r} at {s.base_url or '(base URL not set)'}")
    recipients = ", ".join(e.to) or "none configured"
    lines.append(f"Email: from {e.sender} to {recipients}; subject prefix {e.subject_prefix!r}")
    lines.append(f"List-Unsubscribe: {e.list_unsubscribe or 'not set'}")
    return lines


def _describe_providers(config: Config) -> list[str]:
    fred, calendar, index = config.fred, config.calendar, config.index
    series = ", ".join(fred.series) or "none (off)"
    lines = [f"FRED: {series}; {fred.timeout:g} s per series, {fred.deadline:g} s in all"]
    official = ", ".join(calendar.official) or "none"
    lines.append(
        f"Calendar: official sources {official}; {calendar.timeout:g} s per source, "
        f"{calendar.deadline:g} s in all; {len(calendar.russell)} Russell reconstitution date(s)"
    )
    for item in calendar.russell:
        lines.append(f"  {item.day.isoformat()}: {item.title} ({item.url})")
    earnings = calendar.earnings
    if earnings.top and index.holdings:
        lines.append(
            f"Earnings: the {earnings.top} largest index members reporting next week, from Yahoo Finance's "
            f"earnings calendar; {earnings.deadline:g} s in all"
        )
    else:
        lines.append("Earnings: off (calendar.earnings.top is 0 or no holdings file is configured)")
    if index.holdings:
        lines.append(
            f"Index members: holdings from {index.holdings}; member prices {index.history_days} days back, "
            f"{index.chunk} a chunk, {index.pause:g} s between chunks, {index.budget:g} s budget"
        )
    else:
        lines.append("Index members: off (no holdings file configured)")
    v = config.valuation
    large = f"beside {v.large_fund}" if v.large_fund else "without a large-cap fund"
    members = (
        f"member fundamentals refreshed every {v.refresh_days} days within {v.budget:g} s"
        if v.members and index.holdings
        else "member fundamentals off"
    )
    lines.append(f"Valuation: Yahoo's fund ratios {large}; {members}")
    if index.sp600:
        lines.append(f"S&P 600 members (kept in the snapshot): holdings from {index.sp600}")
    return lines
