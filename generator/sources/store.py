"""The price store: price history shared by every issue, each bar stored once.

An issue's snapshot used to hold each symbol's whole history (``prices/<SYMBOL>.csv``), so the
archive grew by every symbol's whole history every week.  With a store, the snapshot's manifest
lists where each series' CSV lies in the store, and the store keeps the pieces, written once and
never rewritten, in a folder shared by all issues (``output/store``)::

    store/prices/<SYMBOL>/<YYYY>/<YYYY-MM>.<h>.csv   one calendar month of bars, without Adj Close
    store/prices/<SYMBOL>/<YYYY>.<h>.txt             a past year: the names of its month files
    store/prices/<SYMBOL>/<YYYY>/<YYYY>-all.<h>.csv  a past year a new store writes whole
    store/prices/<SYMBOL>/adj/<until>.<h>.csv        Date,Adj Close where it differs from Close

``<h>`` is the first 16 hex digits of the file's sha256: the name changes with the content, so
a file is never replaced, and the same month written again by next week's issue is found, not
stored again.  Only the current month (and any month the provider revised) is new each week.

A new store (the first issue, a backfill) has no months yet: each whole past year after the first
(which is trimmed at the front week by week) is written as one file instead of twelve months and a
list, a twelfth of the files for a long history.  Next week finds it by name; a year that earlier
weeks stored month by month keeps its list, so nothing is ever stored twice.

Adjusted closes.  Yahoo's ``Adj Close`` equals ``Close`` after a symbol's last ex-dividend date;
each new dividend scales every earlier adjusted close (the price cache re-bases them).  Kept in
the month files, a dividend would rewrite an ETF's whole history.  So the month files hold the
raw bars, and the adjusted closes that differ from the close are one separate file per series,
named by its last such date: it changes only when a dividend (or a split) re-bases the history.

The reader joins the pieces back into the very bytes the snapshot's CSV had and checks them
against the sha256 in the manifest (and each piece against the hash in its name), so a rebuild
from the store parses the same frames as the build did.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import SourceError
from generator.fsutil import write_atomic

log = logging.getLogger(__name__)
# Stored files found to hold the bytes their name is the hash of, by (path, mtime, size): each is
# read once a process (a backfill worker reuses the same months week after week).
_VERIFIED: set[tuple[str, int, int]] = set()

STORE_DIR = "store"  # under the output folder, beside briefs/
PRICES = "prices"
ADJ = "Adj Close"
ADJ_HEADER = f"Date,{ADJ}"
HASH_DIGITS = 16

WHOLE_YEAR = "-all"  # "2024-all.<h>": a past year's bars in one file

_MONTH = re.compile(r"\d{4}-\d{2}")
_MONTH_REF = re.compile(r"^(\d{4})-(\d{2})\.[0-9a-f]{16}$")
_WHOLE_YEAR_REF = re.compile(r"^(\d{4})-all\.[0-9a-f]{16}$")
_YEAR_REF = re.compile(r"^(\d{4})\.[0-9a-f]{16}$")
_ADJ_REF = re.compile(r"^\d{4}-\d{2}-\d{2}\.[0-9a-f]{16}$")


@dataclass(frozen=True)
class StoredSeries:
    """Where one series lies in the store: its manifest fields."""

    columns: tuple[str, ...]
    # In date order: "YYYY.<h>" (a past year's list), "YYYY-all.<h>" (a whole year), "YYYY-MM.<h>" (a month)
    chunks: tuple[str, ...]
    adj: str | None  # "<until>.<h>": the adjusted closes that differ from the close, or None

    def as_manifest(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "chunks": list(self.chunks), "adj": self.adj}


class PriceStore:
    """Content-addressed price history under ``root`` (``output/store``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ----------------------------------------------------------------------- writing

    def put(self, symbol: str, data: bytes) -> StoredSeries:
        """Store one series' snapshot CSV (the bytes :func:`prices_csv` wrote) and say where it lies."""
        header, rows = _split(data, symbol)
        columns = tuple(header.split(","))
        bars, adjusted = _without_adj(rows, columns) if ADJ in columns else (rows, [])
        months = _months_of(bars)
        bars_header = ",".join(c for c in columns if c != ADJ)
        first_day, last_year = rows[0][:10], rows[-1][:4]
        by_year: dict[str, list[tuple[str, list[str]]]] = {}
        for month, lines in months:
            by_year.setdefault(month[:4], []).append((month, lines))
        chunks: list[str] = []
        for year, year_months in by_year.items():
            # One directory listing per year, not a stat per month.
            folder = self._folder(symbol) / year
            stored = _listing(folder)
            if first_day[:4] < year < last_year:  # a whole past year (the first one is trimmed weekly)
                whole = self._put_whole_year(folder, stored, year, bars_header, year_months)
                if whole is not None:
                    chunks.append(whole)
                    continue
            elif year == first_day[:4] < last_year:
                # The first year, trimmed at the front: a whole year stored when it was not the first
                # serves (the reader skips the bars before the first), as a stored first month does.
                lines = [line for _, rows_of_month in year_months for line in rows_of_month]
                found = _reusable(folder, f"{year}{WHOLE_YEAR}.*.csv", bars_header, lines, first_day)
                if found is not None:
                    chunks.append(found)
                    continue
            refs = [
                self._put_month(folder, stored, m, bars_header, lines, first_day) for m, lines in year_months
            ]
            chunks += [self._put_year(symbol, year, refs)] if year < last_year else refs
        adj = self._put_adj(symbol, adjusted, first_day) if adjusted else None
        return StoredSeries(columns, tuple(chunks), adj)

    def _put_whole_year(
        self,
        folder: Path,
        stored: frozenset[str],
        year: str,
        header: str,
        year_months: list[tuple[str, list[str]]],
    ) -> str | None:
        """A past year as one file, unless earlier weeks stored it month by month (then None: a list).

        A new store (a first issue, a backfill) writes each past year once instead of twelve
        months and a list; a store kept week by week already has the months and lists them.
        """
        data = _text([header, *(line for _, lines in year_months for line in lines)])
        name = f"{year}{WHOLE_YEAR}.{_short(data)}"
        if f"{name}.csv" in stored:
            self._write(folder / f"{name}.csv", data)  # checked, and written again if damaged
            return name
        if any(f"{m}.{_short(_text([header, *lines]))}.csv" in stored for m, lines in year_months):
            return None
        self._write(folder / f"{name}.csv", data)
        return name

    def _put_month(
        self, folder: Path, stored: frozenset[str], month: str, header: str, lines: list[str], first_day: str
    ) -> str:
        data = _text([header, *lines])
        name = f"{month}.{_short(data)}"
        if f"{name}.csv" in stored:  # written by an earlier week: its name is the hash of these bytes
            self._write(folder / f"{name}.csv", data)  # checked, and written again if damaged
            return name
        if lines[0][:10] == first_day:
            # The series' first month: the history is trimmed at the front week by week, so the
            # whole month is usually stored already; reuse it (the reader skips the earlier bars).
            found = _reusable(folder, f"{month}.*.csv", header, lines, first_day)
            if found is not None:
                return found
        self._write(folder / f"{name}.csv", data)
        return name

    def _put_year(self, symbol: str, year: str, refs: list[str]) -> str:
        data = _text(refs)
        name = f"{year}.{_short(data)}"
        self._write(self._folder(symbol) / f"{name}.txt", data)
        return name

    def _put_adj(self, symbol: str, lines: list[str], first_day: str) -> str:
        data = _text([ADJ_HEADER, *lines])
        name = f"{lines[-1][:10]}.{_short(data)}"
        folder = self._folder(symbol) / "adj"
        if not (folder / f"{name}.csv").is_file():
            found = _reusable(folder, f"{lines[-1][:10]}.*.csv", ADJ_HEADER, lines, first_day)
            if found is not None:
                return found
        self._write(folder / f"{name}.csv", data)
        return name

    def _write(self, path: Path, data: bytes) -> None:
        """Write once: a file of that name holds these bytes (its name is their hash).

        One found there already is read and compared, once a process: a damaged one (a flipped
        byte, a cut) would make every issue that reuses it unreadable, so it is written again, with
        a WARNING naming it (the issues already archived read the same bytes, as their hashes say).
        """
        try:
            info = path.stat()
        except FileNotFoundError:
            write_atomic(path, data)
            return
        key = (str(path), info.st_mtime_ns, info.st_size)
        if key in _VERIFIED:
            return
        if info.st_size != len(data) or path.read_bytes() != data:
            log.warning("%s: did not hold the bytes its name is the hash of (damaged); written again", path)
            write_atomic(path, data)
            info = path.stat()
            key = (str(path), info.st_mtime_ns, info.st_size)
        _VERIFIED.add(key)

    def _folder(self, symbol: str) -> Path:
        return self.root / PRICES / symbol

    # ----------------------------------------------------------------------- reading

    def get(self, symbol: str, entry: Mapping[str, Any], where: str) -> bytes:
        """The series' CSV bytes, joined from the store; the caller checks them against the manifest."""
        stored = _stored_from(entry, symbol, where)
        try:
            first, last = str(entry["first_bar"]), str(entry["last_bar"])
        except KeyError as exc:
            raise SourceError(
                where, f"series.{symbol}: {exc.args[0]} is required for a stored series"
            ) from exc
        columns = stored.columns
        bars_header = ",".join(c for c in columns if c != ADJ)
        lines: list[str] = []
        for ref in stored.chunks:
            if _WHOLE_YEAR_REF.match(ref):
                lines += self._read_lines(self._folder(symbol) / ref[:4] / f"{ref}.csv", bars_header)
                continue
            for month in self._months(symbol, ref, where):
                lines += self._read_lines(self._folder(symbol) / month[:4] / f"{month}.csv", bars_header)
        lines = [line for line in lines if first <= line[:10] <= last]
        if ADJ in columns:
            adjusted: dict[str, str] = {}
            if stored.adj is not None:
                path = self._folder(symbol) / "adj" / f"{stored.adj}.csv"
                adjusted = dict(line.split(",", 1) for line in self._read_lines(path, ADJ_HEADER))
            adj_at, close_at = columns.index(ADJ), bars_header.split(",").index("Close")
            lines = [_with_adj(line, adjusted, adj_at, close_at) for line in lines]
        return _text([",".join(columns), *lines])

    def _months(self, symbol: str, ref: str, where: str) -> list[str]:
        if _MONTH_REF.match(ref):
            return [ref]
        year = _YEAR_REF.match(ref)
        if year is None:
            raise SourceError(where, f"series.{symbol}.chunks: {ref!r} is not a month or a year of the store")
        months = self._read_lines(self._folder(symbol) / f"{ref}.txt", None)
        bad = [m for m in months if not (_MONTH_REF.match(m) and m.startswith(f"{year.group(1)}-"))]
        if bad:
            raise SourceError(
                str(self._folder(symbol) / f"{ref}.txt"), f"not a month of {year.group(1)}: {bad[0]!r}"
            )
        return months

    def _read_lines(self, path: Path, header: str | None) -> list[str]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(str(path), f"missing from the price store: {exc.strerror or exc}") from exc
        if _short(data) != path.name.rsplit(".", 2)[-2]:
            raise SourceError(
                str(path), "content does not match the hash in its name (file changed or corrupt)"
            )
        lines = data.decode("ascii", errors="replace").split("\n")[:-1]
        if header is not None:
            if not lines or lines[0] != header:
                raise SourceError(str(path), f"header is not {header!r}")
            lines = lines[1:]
        return lines


def _stored_from(entry: Mapping[str, Any], symbol: str, where: str) -> StoredSeries:
    columns, chunks, adj = entry.get("columns"), entry.get("chunks"), entry.get("adj")
    if not isinstance(columns, list) or not all(isinstance(c, str) and c.isprintable() for c in columns):
        raise SourceError(where, f"series.{symbol}.columns must be a list of column names")
    if not columns or columns[0] != "Date" or "Close" not in columns or any("," in c for c in columns):
        raise SourceError(where, f"series.{symbol}.columns: {columns!r} is not a price CSV header")
    if not isinstance(chunks, list) or not all(isinstance(c, str) for c in chunks):
        raise SourceError(where, f"series.{symbol}.chunks must be a list of names")
    if adj is not None and not (isinstance(adj, str) and _ADJ_REF.match(adj)):
        raise SourceError(where, f"series.{symbol}.adj: {adj!r} is not a name in the store")
    return StoredSeries(tuple(columns), tuple(chunks), adj)


def _with_adj(line: str, adjusted: Mapping[str, str], adj_at: int, close_at: int) -> str:
    cells = line.split(",")
    cells.insert(adj_at, adjusted.get(cells[0], cells[close_at]))
    return ",".join(cells)


def _listing(folder: Path) -> frozenset[str]:
    """The file names in ``folder`` (none when it does not exist yet)."""
    try:
        return frozenset(os.listdir(folder))
    except FileNotFoundError:
        return frozenset()


def _reusable(folder: Path, pattern: str, header: str, lines: Sequence[str], first_day: str) -> str | None:
    """A stored file (by name) whose rows from ``first_day`` on are exactly ``lines``, if any."""
    if not folder.is_dir():
        return None
    wanted = _text([header, *lines])
    for path in sorted(folder.glob(pattern)):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if _short(data) != path.name.rsplit(".", 2)[-2]:
            continue  # damaged: never reused (the reader would refuse it too)
        head, *rest = data.decode("ascii", errors="replace").split("\n")[:-1]
        kept = [line for line in rest if line[:10] >= first_day]
        if _text([head, *kept]) == wanted:
            return path.name[: -len(".csv")]
    return None


def _split(data: bytes, symbol: str) -> tuple[str, list[str]]:
    text = data.decode("ascii")
    lines = text.split("\n")
    if len(lines) < 3 or lines[-1] != "" or not lines[0].startswith("Date,"):
        raise SourceError(symbol, "not a snapshot price CSV (a header, at least one row, a final newline)")
    return lines[0], lines[1:-1]


def _without_adj(rows: list[str], columns: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The rows without their Adj Close cell, and ``Date,Adj Close`` for each row where it differs
    from the close.

    The layout :func:`~generator.sources.prices_csv.prices_csv` writes (``...,Close,Adj Close,X,...``)
    is done by two regular expressions over the whole text instead of a split and a join per row
    (most of a snapshot's writing time, for a few thousand rows of each series every week); any
    other layout, or a row the expressions do not match, goes row by row.
    """
    adj_at, close_at = columns.index(ADJ), columns.index("Close")
    if adj_at == close_at + 1 < len(columns) - 1 and close_at > 0:
        body = "\n".join(rows)
        drop = re.compile(rf"^((?:[^,\n]*,){{{adj_at}}})[^,\n]*,", re.MULTILINE)
        bars, n = drop.subn(r"\1", body)
        if n == len(rows):
            # Date, the cells before the close, the close, then an adjusted close that is not the
            # close followed by its comma (cells hold no comma): only the rows where they differ.
            between = "[^,\n]*," * (close_at - 1)
            differ = re.compile(rf"^([^,\n]*),{between}([^,\n]*),(?!\2,)([^,\n]*),", re.MULTILINE)
            return bars.split("\n"), [f"{day},{adj}" for day, _, adj in differ.findall(body)]
    bars_rows, adjusted = [], []
    for row in rows:
        cells = row.split(",")
        if cells[adj_at] != cells[close_at]:
            adjusted.append(f"{cells[0]},{cells[adj_at]}")
        del cells[adj_at]
        bars_rows.append(",".join(cells))
    return bars_rows, adjusted


def _months_of(rows: list[str]) -> list[tuple[str, list[str]]]:
    """The rows by calendar month (``YYYY-MM``), in order.

    Rows in date order (a series' index is sorted) are cut at each month's first row by bisection
    rather than looked at one by one; rows out of order are grouped one by one, as a dict would.
    """
    if rows != sorted(rows) or not all(_MONTH.fullmatch(row[:7]) for row in (rows[0], rows[-1])):
        grouped: dict[str, list[str]] = {}
        for row in rows:
            grouped.setdefault(row[:7], []).append(row)
        return list(grouped.items())
    months, at = [], 0
    while at < len(rows):
        month = rows[at][:7]
        year, number = int(month[:4]), int(month[5:7])
        following = f"{year + number // 12:04d}-{number % 12 + 1:02d}"
        end = bisect.bisect_left(rows, following, at)
        months.append((month, rows[at:end]))
        at = end
    return months


def _text(lines: Sequence[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("ascii")


def _short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:HASH_DIGITS]


def store_path_from(snapshot_dir: Path, relative: Any, where: str) -> Path:
    """The store folder a manifest names, relative to its snapshot folder: ``../../../store``."""
    if not isinstance(relative, str) or not relative or "\\" in relative or relative.startswith("/"):
        raise SourceError(where, f"store: unsafe or missing folder {relative!r}")
    parts = relative.split("/")
    ups = next((i for i, part in enumerate(parts) if part != ".."), len(parts))
    names = parts[ups:]
    if not names or any(not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", p) for p in names):
        raise SourceError(where, f"store: {relative!r} must be '../' steps then folder names")
    return Path(snapshot_dir) / relative
