"""Provider blocks of a snapshot manifest: which provider put which file into the snapshot, and when.

A snapshot's manifest (format 3) holds one block per provider, in the order ``gather`` ran them::

    "providers": [
      {"name": "yahoo-prices", "label": "Yahoo Finance (yfinance)", "fetched_at": "2026-11-21T14:00:00Z",
       "status": "ok", "series": {"^RUT": {"file": "prices/^RUT.csv", "sha256": "...", ...}, ...}},
      {"name": "feeds", ..., "feeds": {"fed-press": {"file": "news/fed-press.xml", "sha256": "..."}}},
      {"name": "index", ..., "index": {"daily": {"file": "index/daily.csv", "sha256": "..."}, ...}}
    ]

Each file of the snapshot is listed in exactly one block.  What no provider claims (the bundled
sample, a plain folder of CSVs, a snapshot read from an older format) goes into one block of its
own, named :data:`SAMPLE_BLOCK` or :data:`UNCLAIMED_BLOCK`.  The files themselves are written and
read by :mod:`generator.sources.snapshot`; this module decides the blocks and reads their headers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from generator.errors import SourceError
from generator.models import BLOCK_STATUSES, BlockStatus, ProviderBlock, Snapshot, SourceHealth

BLOCKS = "providers"  # the manifest key
KINDS = ("series", "feeds", "index", "universes")  # what a block may hold
UNCLAIMED_BLOCK = "snapshot"  # files of a snapshot not gathered by providers
SAMPLE_BLOCK = "sample"  # the same, for the bundled sample


@dataclass(frozen=True)
class Part:
    """One block of a manifest as read: its header, and the entries of the files it lists."""

    block: ProviderBlock | None  # None: a manifest from before provider blocks (the whole document)
    entries: Mapping[str, Any]  # the block (or document) holding "series", "feeds", "index"

    def owner(self) -> str:
        return f" — provider {self.block.name}" if self.block is not None else ""


def status_of(health: Sequence[SourceHealth], gave_something: bool) -> BlockStatus:
    """ok: every source healthy; failed: no source healthy and nothing given; else degraded.

    A provider may give nothing and be fine (no calendar item next week); one whose sources all
    failed but that gave its cached copies is degraded.
    """
    if all(h.healthy for h in health):
        return BlockStatus.OK
    failed = not gave_something and not any(h.healthy for h in health)
    return BlockStatus.FAILED if failed else BlockStatus.DEGRADED


def assign(snapshot: Snapshot) -> tuple[ProviderBlock, ...]:
    """The snapshot's blocks, each holding only what the snapshot has, every file in exactly one.

    A series or feed claimed by several blocks goes to the last of them (as a later provider's
    series replaces an earlier one in ``gather``); what none claims goes to a last block of its own.
    """
    owner: dict[tuple[str, str], str] = {}
    for block in snapshot.blocks:
        owner.update({("series", s): block.name for s in block.series if s in snapshot.series})
        owner.update({("feeds", f): block.name for f in block.feeds if f in snapshot.feeds})
        if block.index and snapshot.index_view is not None:
            owner["index", ""] = block.name
        owner.update({("universes", u): block.name for u in block.universes if u in snapshot.universes})
    rest = SAMPLE_BLOCK if snapshot.is_sample else UNCLAIMED_BLOCK
    unclaimed = ProviderBlock(rest, snapshot.provider, status=BlockStatus.OK)
    blocks = [b for b in snapshot.blocks if b.name != rest]
    blocks.append(next((b for b in snapshot.blocks if b.name == rest), unclaimed))
    for symbol in snapshot.series:
        owner.setdefault(("series", symbol), rest)
    for name in snapshot.feeds:
        owner.setdefault(("feeds", name), rest)
    if snapshot.index_view is not None:
        owner.setdefault(("index", ""), rest)
    for key in snapshot.universes:
        owner.setdefault(("universes", key), rest)
    out = []
    for block in blocks:
        mine = {key for key, name in owner.items() if name == block.name}
        keep = ProviderBlock(
            block.name,
            block.label,
            block.fetched_at,
            block.status,
            series=tuple(sorted(s for kind, s in mine if kind == "series")),
            feeds=tuple(sorted(f for kind, f in mine if kind == "feeds")),
            index=("index", "") in mine,
            universes=tuple(sorted(u for kind, u in mine if kind == "universes")),
        )
        if block.name != rest or mine:  # an empty block of what no provider claims is left out
            out.append(keep)
    return tuple(out)


def block_dict(
    block: ProviderBlock,
    series: Mapping[str, Any],
    feeds: Mapping[str, Any],
    index: Mapping[str, Any] | None,
    universes: Mapping[str, Any],
    iso: Callable[[datetime | None], str | None],
) -> dict[str, Any]:
    """The manifest block of ``block``: its header, then the entries of its files (none left empty)."""
    doc: dict[str, Any] = {
        "name": block.name,
        "label": block.label,
        "fetched_at": iso(block.fetched_at),
        "status": block.status,
    }
    if block.series:
        doc["series"] = {s: series[s] for s in block.series}
    if block.feeds:
        doc["feeds"] = {f: feeds[f] for f in block.feeds}
    if block.index and index is not None:
        doc["index"] = index
    if block.universes:
        doc["universes"] = {u: universes[u] for u in block.universes}
    return doc


def parts(
    doc: Mapping[str, Any],
    where: str,
    check_name: Callable[[Any, str, str], None],
    parse_time: Callable[[Any, str, str], datetime | None],
) -> list[Part]:
    """The manifest's blocks (format 3), or the whole document as one part (older formats)."""
    if BLOCKS not in doc:
        return [Part(None, doc)]
    raw = doc[BLOCKS]
    if not isinstance(raw, list):
        raise SourceError(where, f"{BLOCKS} must be a list of provider blocks")
    found: list[Part] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise SourceError(where, f"{BLOCKS}[{i}] must be an object")
        name = entry.get("name")
        check_name(name, f"{BLOCKS}[{i}].name", where)
        if any(p.block is not None and p.block.name == name for p in found):
            raise SourceError(where, f"{BLOCKS}[{i}]: a second block of provider {name}")
        status = entry.get("status")
        if status not in BLOCK_STATUSES:
            raise SourceError(where, f"{BLOCKS}.{name}.status must be one of {', '.join(BLOCK_STATUSES)}")
        for kind in KINDS:
            if kind in entry and not isinstance(entry[kind], dict):
                raise SourceError(where, f"{BLOCKS}.{name}.{kind} must be an object")
        block = ProviderBlock(
            str(name),
            str(entry.get("label") or ""),
            parse_time(entry.get("fetched_at"), f"{BLOCKS}.{name}.fetched_at", where),
            BlockStatus(status),  # one of BLOCK_STATUSES: checked above
            series=tuple(entry.get("series") or ()),
            feeds=tuple(entry.get("feeds") or ()),
            index="index" in entry,
            universes=tuple(entry.get("universes") or ()),
        )
        found.append(Part(block, entry))
    return found


def claimed_once(found: Sequence[Part], where: str) -> None:
    """Every series, feed and the index view in one block only."""
    seen: dict[tuple[str, str], str] = {}
    for part in found:
        if part.block is None:
            continue
        keys = [("series", s) for s in part.block.series] + [("feeds", f) for f in part.block.feeds]
        keys += [("index", "")] if part.block.index else []
        keys += [("universes", u) for u in part.block.universes]
        for kind, name in keys:
            first = seen.setdefault((kind, name), part.block.name)
            if first != part.block.name:
                what = "the index view" if kind == "index" else f"{kind}.{name}"  # "universes.sp600"
                raise SourceError(where, f"{what} is in the blocks of both {first} and {part.block.name}")
