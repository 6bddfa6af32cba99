"""The snapshot format: read it and write it (price CSVs themselves: :mod:`generator.sources.prices_csv`).

snapshot/
    manifest.json         format, as_of, built_at, provider, notes, health rows, valuation (with the
                          day each fund's was read), the members' fundamentals (sums over the members,
                          with the refresh's date), events, next week's earnings, and one block per
                          provider (:mod:`generator.sources.blocks`): its name, when it fetched, its
                          status and its files, each with provenance and sha256
    prices/<SYMBOL>.csv   Date,Open,High,Low,Close[,Adj Close],Volume (one file per symbol, "^RUT.csv")
    news/<feed>.xml       the raw bytes of each feed
    index/daily.csv, index/members.csv   the index view (:mod:`generator.sources.members`)

An issue's snapshot keeps its price history in the price store shared by every issue instead
(:mod:`generator.sources.store`): the manifest names the store folder relative to the snapshot
(``"store": "../../../store"``) and, per series, the store's pieces (``columns``, ``chunks``,
``adj``) beside the sha256 of the whole CSV, which the reader checks as before.

Format 3 is written.  Older manifests, without provider blocks (format 1: every file in the
folder; format 2: the price store), are still read: their series, feeds and index view sit at
the top level of the manifest.

A plain folder of CSV files without a manifest is also a snapshot (provider "local files").
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import os
import reprlib
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from generator.errors import SourceError
from generator.fsutil import staging_folder, swap_in
from generator.models import (
    FeedCapture,
    IndexView,
    Origin,
    ScheduledEvent,
    Series,
    Snapshot,
    SourceHealth,
    SourceStatus,
)
from generator.sources.blocks import BLOCKS, Part, assign, block_dict, claimed_once, parts
from generator.sources.earnings_block import read_earnings, write_earnings
from generator.sources.fundamentals_block import fundamentals_block, read_fundamentals_block
from generator.sources.members import read_index_view, write_index_view
from generator.sources.prices_csv import clean_frame as clean_frame  # re-exported (sources.market)
from generator.sources.prices_csv import grouped_repairs, parse_prices, prices_csv
from generator.sources.prices_csv import read_prices_csv as read_prices_csv  # re-exported
from generator.sources.store import PriceStore, store_path_from

log = logging.getLogger(__name__)
_Member = TypeVar("_Member", bound=StrEnum)

FORMAT = 1  # every file inside the snapshot folder (read only: older snapshots)
STORE_FORMAT = 2  # the price history in the shared price store (read only: older snapshots)
BLOCKS_FORMAT = 3  # what is written: a block per provider, each series in the folder or in a price store
FORMATS = (FORMAT, STORE_FORMAT, BLOCKS_FORMAT)
MANIFEST = "manifest.json"
SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
SAMPLE_PROVIDER = "sample (illustrative, not market data)"
SAMPLE_NOTE = "SAMPLE DATA — illustrative, not market data"
LOCAL_PROVIDER = "local files"


def symbol_from_filename(name: str) -> str:
    """``^RUT.csv`` → ^RUT, ``IDX_RUT.csv`` → ^RUT, ``ES_F.csv`` → ES=F."""
    stem = name[:-4] if name.lower().endswith(".csv") else name
    if stem.startswith("IDX_"):
        stem = "^" + stem[4:]
    if stem.endswith("_F"):
        stem = stem[:-2] + "=F"
    return stem


# --------------------------------------------------------------------------- reading


def read_snapshot(path: Path) -> Snapshot:
    """A snapshot directory (with manifest.json), or a plain folder of CSVs (provider "local files")."""
    root = Path(path)
    if not root.is_dir():
        raise SourceError(str(root), "not a directory")
    if not (root / MANIFEST).is_file() and (root / "snapshot" / MANIFEST).is_file():
        root = root / "snapshot"  # an issue folder: its snapshot sits beside the brief
    if (root / MANIFEST).is_file():
        return _read_manifested(root)
    return _read_plain(root)


# The sample as read, by the state of its files: package data, read (and its files' SHA-256
# checked) once per process while the files stay as they were.
_SAMPLE_READ: dict[tuple[Path, tuple[tuple[str, int, int], ...]], Snapshot] = {}


def load_sample() -> Snapshot:
    """The bundled sample snapshot (illustrative, not market data).

    Read (and its files' SHA-256 checked) once per process, again if a file of it changes; every
    call gets a deep copy of what was read (about 5 ms against about 0.2 s for a read), so what
    one caller does to its frames is never seen by another.
    """
    files = tuple(
        (str(f.relative_to(SAMPLE_DIR)), (s := f.stat()).st_size, s.st_mtime_ns)
        for f in sorted(SAMPLE_DIR.rglob("*"))
        if f.is_file()
    )
    state = (SAMPLE_DIR, files)
    read = _SAMPLE_READ.get(state)
    if read is None:
        _SAMPLE_READ.clear()
        read = _SAMPLE_READ[state] = read_snapshot(SAMPLE_DIR)
    snap = copy.deepcopy(read)  # a series' frame and the text read with it stay paired
    series = {s: replace(v, provider=SAMPLE_PROVIDER, origin=Origin.SAMPLE) for s, v in snap.series.items()}
    feeds = {n: replace(f, origin=Origin.SAMPLE) for n, f in snap.feeds.items()}
    notes = snap.notes if SAMPLE_NOTE in snap.notes else (SAMPLE_NOTE, *snap.notes)
    return replace(snap, series=series, feeds=feeds, is_sample=True, provider=SAMPLE_PROVIDER, notes=notes)


def _read_manifested(
    root: Path, known: Mapping[str, tuple[str, pd.DataFrame, bytes]] | None = None
) -> Snapshot:
    where = str(root / MANIFEST)
    try:
        doc = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # or nested too deep
        raise SourceError(where, f"unreadable manifest: {exc}") from exc
    if not isinstance(doc, dict) or type(doc.get("format")) is not int or doc["format"] not in FORMATS:
        raise SourceError(where, f"format must be {', '.join(map(str, FORMATS))}")
    if doc["format"] == BLOCKS_FORMAT and BLOCKS not in doc:
        raise SourceError(where, f"format {BLOCKS_FORMAT} needs its {BLOCKS} blocks")
    store = None
    if doc["format"] == STORE_FORMAT or (doc["format"] == BLOCKS_FORMAT and "store" in doc):
        store = PriceStore(store_path_from(root, doc.get("store"), where))
    provider = _text(doc.get("provider"), "provider", where)
    found = parts(doc, where, _check_name, _datetime) if doc["format"] == BLOCKS_FORMAT else [Part(None, doc)]
    claimed_once(found, where)
    reader = _PartReader(root, where, store, provider, known or {})
    for part in found:
        try:
            reader.read(part)
        except SourceError as exc:
            raise SourceError(exc.source, exc.message + part.owner()) from exc
    if "health" in doc:
        health = tuple(_health_from(row, where) for row in _list(doc["health"], "health", where))
    else:
        health = _derive_health(reader.series, reader.feeds)
    try:
        as_of = date.fromisoformat(str(doc["as_of"]))
        built_at = _datetime(doc["built_at"], "built_at", where)
    except (KeyError, ValueError) as exc:
        raise SourceError(where, f"as_of and built_at are required ISO dates ({exc})") from exc
    return Snapshot(
        as_of=as_of, built_at=built_at or datetime.min.replace(tzinfo=UTC), series=reader.series,
        feeds=reader.feeds, is_sample=_flag(doc.get("is_sample", False), "is_sample", where),
        provider=provider, health=health,
        valuation=_valuation(doc.get("valuation") or {}, where),
        valuation_as_of=_days(doc.get("valuation_as_of") or {}, where),
        fundamentals=read_fundamentals_block(doc["fundamentals"], where) if doc.get("fundamentals") else None,
        notes=_strings(doc.get("notes"), "notes", where), index_view=reader.index_view,
        events=_events(doc.get("events") or [], where),
        calendar_failures=_calendar_failures(doc.get("calendar_failures"), where),
        earnings=read_earnings(doc["earnings"], where) if doc.get("earnings") is not None else None,
        blocks=tuple(p.block for p in found if p.block is not None), universes=reader.universes,
    )  # fmt: skip


class _PartReader:
    """Reads the series, feeds and index view of each block (or of an older manifest), files checked."""

    def __init__(
        self,
        root: Path,
        where: str,
        store: PriceStore | None,
        provider: str,
        known: Mapping[str, tuple[str, pd.DataFrame, bytes]],
    ) -> None:
        self.root, self.where, self.store, self.provider, self.known = root, where, store, provider, known
        self.series: dict[str, Series] = {}
        self.feeds: dict[str, FeedCapture] = {}
        self.index_view: IndexView | None = None
        self.universes: dict[str, IndexView] = {}

    def read(self, part: Part) -> None:
        root, where = self.root, self.where
        prefix = f"{BLOCKS}.{part.block.name}." if part.block is not None else ""
        label = part.block.label if part.block is not None and part.block.label else self.provider
        for symbol, entry in _entries(part.entries, "series", where, prefix):
            key = f"{prefix}series.{symbol}"
            done = self.known.get(symbol)
            if done is not None and done[0] == entry.get("sha256"):
                _, frame, data = (
                    done  # parsed from the very text just written, whose sha256 the manifest holds
                )
            elif "chunks" in entry:
                if self.store is None:
                    raise SourceError(where, f"{key}: stored in a price store the manifest does not name")
                source = str(self.store.root / "prices" / symbol)
                data = _checked(self.store.get(symbol, entry, where), entry, key, source, where)
                frame = parse_prices(source, data, symbol)
            else:
                source = str(root / str(entry.get("file")))
                data = _verified(root, entry, key, where)
                frame = parse_prices(source, data, symbol)
            fetched = _datetime(entry.get("fetched_at"), f"{key}.fetched_at", where)
            origin = _member(Origin, entry.get("origin") or "snapshot", f"{key}.origin", where)
            # The text goes along when each row is one line of it (the next snapshot reuses it as is).
            read_from = (frame, data) if data.count(b"\n") == len(frame) + 1 else None
            self.series[symbol] = Series(
                symbol, frame, str(entry.get("provider") or label), origin, fetched, read_from
            )
        for name, entry in _entries(part.entries, "feeds", where, prefix):
            key = f"{prefix}feeds.{name}"
            body = _verified(root, entry, key, where) if entry.get("file") else b""
            fetched = _datetime(entry.get("fetched_at"), f"{key}.fetched_at", where)
            origin = _member(Origin, entry.get("origin") or "snapshot", f"{key}.origin", where)
            status = _member(SourceStatus, entry.get("status") or "ok", f"{key}.status", where)
            self.feeds[name] = FeedCapture(
                name,
                str(entry.get("url") or ""),
                body,
                origin,
                fetched,
                status,
                str(entry.get("error") or ""),
            )
        if isinstance(part.entries.get("index"), dict):
            self.index_view = read_index_view(part.entries["index"], self._files(prefix), where)
        for name, entry in _entries(part.entries, "universes", where, prefix):
            self.universes[name] = read_index_view(entry, self._files(f"{prefix}universes.{name}."), where)

    def _files(self, prefix: str) -> Callable[[Mapping[str, Any], str], bytes]:
        """Reads a view's file entry, checked; its key in messages starts with ``prefix``."""
        return lambda entry, key: _verified(self.root, entry, prefix + key, self.where)


def _events(rows: Any, where: str) -> tuple[ScheduledEvent, ...]:
    if not isinstance(rows, list):
        raise SourceError(where, "events must be a list")
    try:
        return tuple(_event(r) for r in rows)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(where, f"events: unreadable entry ({exc})") from exc


def _event(r: Mapping[str, Any]) -> ScheduledEvent:
    day, time_et = date.fromisoformat(str(r["day"])), str(r.get("time_et") or "")
    return ScheduledEvent(day, str(r["title"]), str(r["source"]), str(r["url"]), time_et)


def _entries(
    doc: Mapping[str, Any], key: str, where: str, prefix: str = ""
) -> Iterable[tuple[str, dict[str, Any]]]:
    block = doc.get(key) or {}
    if not isinstance(block, dict):
        raise SourceError(where, f"{prefix}{key} must be an object")
    for name, entry in block.items():
        _check_name(name, f"{prefix}{key}.{name}", where)
        if not isinstance(entry, dict):
            raise SourceError(where, f"{prefix}{key}.{name} must be an object")
        yield name, entry


def _verified(root: Path, entry: Mapping[str, Any], key: str, where: str) -> bytes:
    rel = entry.get("file")
    if not isinstance(rel, str) or not rel or "\\" in rel or rel.startswith("/"):
        raise SourceError(where, f"{key}.file: unsafe or missing file name {rel!r}")
    if any(part in ("", ".", "..") for part in rel.split("/")):
        raise SourceError(where, f"{key}.file: unsafe file name {rel!r}")
    target = root / rel
    if not target.resolve().is_relative_to(root.resolve()):
        raise SourceError(str(target), "points outside the snapshot folder")
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise SourceError(str(target), f"cannot read: {exc.strerror or exc}") from exc
    return _checked(data, entry, key, str(target), where)


def _checked(data: bytes, entry: Mapping[str, Any], key: str, source: str, where: str) -> bytes:
    expected = entry.get("sha256")
    if not isinstance(expected, str):
        raise SourceError(where, f"{key}.sha256 is missing")
    if hashlib.sha256(data).hexdigest() != expected.lower():
        raise SourceError(source, "sha256 does not match the manifest (file changed or corrupt)")
    return data


def _read_plain(root: Path) -> Snapshot:
    prices = root / "prices" if (root / "prices").is_dir() and not any(root.glob("*.csv")) else root
    series: dict[str, Series] = {}
    failed: list[SourceHealth] = []
    mtimes: list[float] = []
    with grouped_repairs():  # a holiday bar in every file: one WARNING naming the files' symbols
        for file in _files(root, prices, ".csv"):
            symbol = symbol_from_filename(file.name)
            if symbol in series:
                log.warning("%s: %s is a second file for this symbol; ignored", symbol, file)
                continue
            try:
                frame = read_prices_csv(file, symbol)
            except SourceError as exc:
                log.warning("%s", exc)
                failed.append(
                    SourceHealth(
                        "symbol",
                        symbol,
                        SourceStatus.FAILED,
                        Origin.LOCAL,
                        error=str(exc),
                        provider=LOCAL_PROVIDER,
                    )
                )
                continue
            mtimes.append(file.stat().st_mtime)
            series[symbol] = Series(symbol, frame, LOCAL_PROVIDER, Origin.LOCAL, _mtime(file))
    if not series:
        raise SourceError(str(root), "no manifest.json and no readable price CSV files")
    feeds: dict[str, FeedCapture] = {}
    for file in _files(root, root / "news", ".xml"):
        mtimes.append(file.stat().st_mtime)
        feeds[file.stem] = FeedCapture(file.stem, "", file.read_bytes(), Origin.LOCAL, _mtime(file))
    return Snapshot(
        as_of=max(s.last_bar for s in series.values()),
        built_at=datetime.fromtimestamp(max(mtimes), tz=UTC),
        series=series,
        feeds=feeds,
        provider=LOCAL_PROVIDER,
        health=_derive_health(series, feeds) + tuple(failed),
    )


def _files(root: Path, folder: Path, suffix: str) -> list[Path]:
    if not folder.is_dir():
        return []
    real_root = root.resolve()
    found = []
    for file in sorted(folder.iterdir()):
        if file.suffix.lower() != suffix or "\\" in file.name or not file.is_file():
            continue
        if not file.resolve().is_relative_to(real_root):
            log.warning("%s: points outside %s; ignored", file, root)
            continue
        found.append(file)
    return found


def _derive_health(
    series: Mapping[str, Series], feeds: Mapping[str, FeedCapture]
) -> tuple[SourceHealth, ...]:
    rows = [
        SourceHealth(
            "symbol", s.symbol, SourceStatus.OK, s.origin, len(s.frame), s.last_bar, provider=s.provider
        )
        for s in series.values()
    ]
    rows += [SourceHealth("feed", f.name, f.status, f.origin, error=f.error) for f in feeds.values()]
    return tuple(rows)


def _shown(value: Any) -> str:
    """A manifest value in a message, in JSON's words for null and booleans: short, and safe however
    deeply it nests."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return reprlib.repr(value)


def _list(value: Any, key: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise SourceError(where, f"{key} must be a list, not {_shown(value)}")
    return value


def _text(value: Any, key: str, where: str) -> str:
    """A string value; null or absent reads as empty."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SourceError(where, f"{key} must be a string, not {_shown(value)}")
    return value


def _flag(value: Any, key: str, where: str) -> bool:
    """A JSON boolean: the string "false" (or 0, or null) is not one, and is not read as one."""
    if not isinstance(value, bool):
        raise SourceError(where, f"{key} must be true or false, not {_shown(value)}")
    return value


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    """A list of strings; null or absent reads as none."""
    if value is None:
        return ()
    items = _list(value, key, where)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise SourceError(where, f"{key}[{i}] must be a string, not {_shown(item)}")
    return tuple(items)


def _calendar_failures(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``[[calendar, reason], ...]``; null or absent reads as none."""
    if value is None:
        return ()
    pairs = []
    for i, pair in enumerate(_list(value, "calendar_failures", where)):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise SourceError(
                where,
                f"calendar_failures[{i}] must be a [calendar, reason] pair of strings, not {_shown(pair)}",
            )
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def _health_from(row: Any, where: str) -> SourceHealth:
    try:
        newest = date.fromisoformat(row["newest"]) if row.get("newest") else None
        kind, name, status, origin = (str(row[key]) for key in ("kind", "name", "status", "origin"))
        count, error = int(row.get("count", 0)), str(row.get("error") or "")
        provider = str(row.get("provider") or "")
        # An unknown status or origin is a bad row too (ValueError), found after the fields above.
        return SourceHealth(kind, name, SourceStatus(status), Origin(origin), count, newest, error, provider)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SourceError(where, f"health: bad row {_shown(row)} ({exc})") from exc


def _valuation(block: Any, where: str) -> dict[str, dict[str, float]]:
    if not isinstance(block, dict):
        raise SourceError(where, "valuation must be an object")
    out: dict[str, dict[str, float]] = {}
    left_out: list[str] = []
    for symbol, fields in block.items():
        if not isinstance(fields, dict):
            raise SourceError(where, f"valuation.{symbol} must be an object, not {_shown(fields)}")
        out[symbol] = {}
        for name, value in fields.items():
            number = _finite(value)
            if number is None:
                left_out.append(f"valuation.{symbol}.{name} ({_shown(value)})")
            else:
                out[symbol][name] = number
    if left_out:
        log.warning("%s: left out what is not a finite number: %s", where, ", ".join(left_out))
    return out


def _finite(value: Any) -> float | None:
    """A JSON number as a finite float; None for anything else (NaN, Infinity, text, true, 1e999)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def _days(block: Any, where: str) -> dict[str, date]:
    if not isinstance(block, dict):
        raise SourceError(where, "valuation_as_of must be an object")
    try:
        return {str(symbol): date.fromisoformat(str(day)) for symbol, day in block.items()}
    except ValueError as exc:
        raise SourceError(where, f"valuation_as_of: {exc}") from exc


def _datetime(value: Any, key: str, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise SourceError(where, f"{key}: not an ISO timestamp: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _member(kind: type[_Member], value: Any, key: str, where: str) -> _Member:
    """``value`` as a member of the StrEnum ``kind``, or SourceError naming the manifest and key."""
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(str(m) for m in kind)
        raise SourceError(where, f"{key}: {value!r} is not one of {allowed}") from None


def _mtime(file: Path) -> datetime:
    return datetime.fromtimestamp(file.stat().st_mtime, tz=UTC)


# --------------------------------------------------------------------------- writing


def save_snapshot(snapshot: Snapshot, path: Path, *, store: Path | None = None) -> Snapshot:
    """Write ``snapshot`` to ``path`` and return it exactly as :func:`read_snapshot` would read it back.

    With ``store`` (a folder outside ``path``, such as ``output/store``), the price history goes
    into that shared price store (:mod:`generator.sources.store`) instead of the snapshot folder.

    The price files are neither read back nor parsed again: their frames come from the very text
    written (see :func:`~generator.sources.prices_csv.prices_csv`), matched to the manifest by
    sha256; everything else is read from the manifest,
    every file's sha256 checked.  A build analyses this, so a rebuild from the issue's snapshot
    folder sees the same numbers.
    """
    frames: dict[str, tuple[str, pd.DataFrame, bytes]] = {}
    write_snapshot(snapshot, path, store=store, _frames=frames)
    return _read_manifested(Path(path), known=frames)


def write_snapshot(
    snapshot: Snapshot,
    path: Path,
    *,
    store: Path | None = None,
    _frames: dict[str, tuple[str, pd.DataFrame, bytes]] | None = None,
) -> Path:
    """Write ``snapshot`` to the directory ``path`` atomically, with deterministic bytes.

    With ``store``, each series' history goes into the shared price store there, written once
    and never rewritten; the manifest names the store relative to ``path``.
    """
    target = Path(path)
    is_snapshot = (target / MANIFEST).is_file() or (target.is_dir() and not any(target.iterdir()))
    if target.exists() and not is_snapshot:
        raise SourceError(str(target), "exists and is not a snapshot; refusing to replace it")
    stored: tuple[PriceStore, str] | None = None
    if store is not None:
        if Path(store).resolve().is_relative_to(target.resolve()):
            raise SourceError(str(store), "the price store cannot be inside the snapshot folder")
        stored = (
            PriceStore(Path(store)),
            Path(os.path.relpath(Path(store).resolve(), target.resolve())).as_posix(),
        )
    for symbol in snapshot.series:
        _check_name(symbol, f"series.{symbol}", str(target))
    for name in snapshot.feeds:
        _check_name(name, f"feeds.{name}", str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_folder(target.parent, f".{target.name}.new-")
    try:
        _write_into(snapshot, tmp, _frames, stored)
        swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write_into(
    snapshot: Snapshot,
    folder: Path,
    frames: dict[str, tuple[str, pd.DataFrame, bytes]] | None = None,
    stored: tuple[PriceStore, str] | None = None,
) -> None:
    if stored is None:
        (folder / "prices").mkdir()
    (folder / "news").mkdir()
    series = {}
    for symbol in sorted(snapshot.series):
        s = snapshot.series[symbol]
        known = s.text  # read from a snapshot: its text as is, not formatted again
        data, as_read = (known, s.frame) if known is not None else prices_csv(s.frame)
        if frames is not None:
            frames[symbol] = (hashlib.sha256(data).hexdigest(), as_read, data)
        if stored is None:
            (folder / "prices" / f"{symbol}.csv").write_bytes(data)
            where: dict[str, Any] = {"file": f"prices/{symbol}.csv"}
        else:
            where = stored[0].put(symbol, data).as_manifest()
        series[symbol] = {
            **where, "provider": s.provider, "origin": s.origin,
            "fetched_at": _iso(s.fetched_at), "first_bar": s.first_bar.isoformat(),
            "last_bar": s.last_bar.isoformat(), "rows": len(s.frame),
            "sha256": hashlib.sha256(data).hexdigest(),
        }  # fmt: skip
    feeds = {}
    for name in sorted(snapshot.feeds):
        f = snapshot.feeds[name]
        entry: dict[str, Any] = {
            "file": None, "url": f.url, "origin": f.origin, "fetched_at": _iso(f.fetched_at),
            "status": f.status, "error": f.error, "sha256": None,
        }  # fmt: skip
        if f.body or f.status != SourceStatus.FAILED:
            (folder / "news" / f"{name}.xml").write_bytes(f.body)
            entry.update(file=f"news/{name}.xml", sha256=hashlib.sha256(f.body).hexdigest())
        feeds[name] = entry
    index = write_index_view(snapshot.index_view, folder) if snapshot.index_view is not None else None
    for key in snapshot.universes:
        _check_name(key, f"universes.{key}", str(folder))
    universes = {k: write_index_view(v, folder, k) for k, v in sorted(snapshot.universes.items())}
    manifest = {
        "format": BLOCKS_FORMAT, "as_of": snapshot.as_of.isoformat(), "built_at": _iso(snapshot.built_at),
        "is_sample": snapshot.is_sample, "provider": snapshot.provider, "notes": list(snapshot.notes),
        BLOCKS: [block_dict(b, series, feeds, index, universes, _iso) for b in assign(snapshot)],
        "health": [_health_dict(h) for h in snapshot.health],
        "valuation": {s: {k: float(v) for k, v in sorted(fields.items()) if math.isfinite(v)}
                      for s, fields in sorted(snapshot.valuation.items())},
    }  # fmt: skip
    if stored is not None:
        manifest["store"] = stored[1]
    if snapshot.valuation_as_of:
        manifest["valuation_as_of"] = {s: d.isoformat() for s, d in sorted(snapshot.valuation_as_of.items())}
    if snapshot.fundamentals is not None:
        manifest["fundamentals"] = fundamentals_block(snapshot.fundamentals)
    if snapshot.events or snapshot.calendar_failures:
        manifest["events"] = [{**asdict(e), "day": e.day.isoformat()} for e in snapshot.events]
        manifest["calendar_failures"] = [list(f) for f in snapshot.calendar_failures]
    if snapshot.earnings is not None:
        manifest["earnings"] = write_earnings(snapshot.earnings)
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")


def _health_dict(h: SourceHealth) -> dict[str, Any]:
    return {**asdict(h), "newest": h.newest.isoformat() if h.newest else None}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def _check_name(name: Any, key: str, where: str) -> None:
    """Symbols and feed names become file names: no separators, no traversal, no control characters."""
    text = str(name)
    unsafe = not text or text.startswith(".") or any(bad in text for bad in ("/", "\\", ".."))
    if not isinstance(name, str) or unsafe or any(ord(ch) < 32 for ch in text):
        raise SourceError(where, f"{key}: {text!r} is not safe as a file name")
