"""Russell 2000 membership from the iShares IWM holdings file.

The file (``…/1467271812596.ajax?fileType=csv&fileName=IWM_holdings&dataType=fund``) is a
CSV with these realities, all handled by :func:`parse_holdings`:

- a UTF-8 byte-order mark, then about nine lines of preamble: the fund name,
  ``Fund Holdings as of,"May 05, 2026"`` (``"-"`` when the date has no holdings),
  inception date, shares outstanding, ...;
- the table: ``Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,
  Quantity,Price,Location,Exchange,Currency,FX Rate,Market Currency,Accrual Date``, every
  field quoted, numbers with thousands separators (``"1,532,594,919.50"``);
- a blank line and a multi-line legal notice in one quoted field;
- rows that are not tradable members: cash, money-market, collateral and futures rows,
  ticker ``-``, price 0.00, OTC and "NO MARKET" listings, a ticker listed twice;
- NYSE class shares written without a separator (MOGA for Yahoo's MOG-A), converted by an
  explicit map because RUSHA, BELFA and ZETA are real tickers;
- the old ``.ajax`` link can answer 200 with an HTML page, and a cut connection leaves a
  file that stops inside the table.

The file's terms forbid redistribution: :class:`Membership` keeps only ticker, name,
sector, weight and the as-of date, and the raw bytes are never written anywhere.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from generator.errors import SourceError
from generator.fsutil import write_atomic
from generator.models import IWM_HOLDINGS_URL as IWM_HOLDINGS_URL  # the default of index.holdings

log = logging.getLogger(__name__)

SOURCE_NAME = "iShares IWM holdings"
CACHE_FILE = "iwm_membership.json"

# NYSE class shares the file writes without a separator.  Nasdaq class tickers such as
# RUSHA, RUSHB, BELFA, BELFB, KELYA or CENTA are real symbols and must stay as they are,
# so there is deliberately no "trailing A/B" rule.
CLASS_SHARE_TICKERS: Mapping[str, str] = {
    "MOGA": "MOG-A",
    "MOGB": "MOG-B",
    "GEFB": "GEF-B",
    "CRDA": "CRD-A",
    "CRDB": "CRD-B",
    "CWENA": "CWEN-A",
    "HVTA": "HVT-A",
    "UHALB": "UHAL-B",
    "BRKB": "BRK-B",
    "BFA": "BF-A",
    "BFB": "BF-B",
    "HEIA": "HEI-A",
    "LENB": "LEN-B",
}

REQUIRED_COLUMNS = ("Ticker", "Name", "Sector", "Asset Class", "Weight (%)", "Price", "Exchange")
NON_MEMBER_CLASSES = {  # Asset Class (lower case) → drop reason
    "cash": "cash",
    "money market": "money market",
    "cash collateral and margins": "collateral",
    "futures": "futures",
}
OTC_MARKERS = ("NON-NMS QUOTATION SERVICE", "OTC")
COMPLETE_WEIGHT = 98.0  # % a table without its closing notice must still add up to
_PREAMBLE_ROWS = 30


@dataclass(frozen=True)
class Member:
    ticker: str  # as the file writes it
    yahoo_symbol: str  # what to ask Yahoo Finance for
    name: str
    sector: str
    weight: float  # percent of the fund, as published


@dataclass(frozen=True)
class Membership:
    as_of: date  # "Fund Holdings as of"
    members: tuple[Member, ...]  # tradable members, largest weight first as in the file
    source: str = SOURCE_NAME
    dropped: tuple[tuple[str, int], ...] = ()  # (reason, rows) for rows that are not members

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(m.yahoo_symbol for m in self.members)


@dataclass(frozen=True)
class MembershipFetch:
    membership: Membership
    from_cache: bool  # True: the live file failed and the last cached membership is used
    problem: str | None = None  # why the live file was not used


Fetch = Callable[[str], bytes]
"""``fetch(url) -> body``: the network seam (wire it to :func:`generator.sources.http.fetch`)."""


def parse_holdings(
    data: bytes, source: str = SOURCE_NAME, class_shares: Mapping[str, str] = CLASS_SHARE_TICKERS
) -> Membership:
    """The tradable members in one holdings file.

    Raises :class:`SourceError` naming ``source`` for an HTML page, a file without an as-of
    date, header or members, a date without holdings and a truncated file.
    Every dropped row is counted and the counts are logged once as a WARNING.
    """
    text = decode_download(data, source, "the holdings CSV")
    rows = csv.reader(io.StringIO(text), strict=True)
    as_of, header = _preamble(rows, source)
    columns = _columns(header, source)
    drops: Counter[str] = Counter()
    seen: set[str] = set()
    members: list[Member] = []
    total_weight = 0.0
    table = _TableRows(rows, len(header), source)
    for row in table:
        total_weight += number(row[columns["Weight (%)"]]) or 0.0
        reason = _drop_reason(row, columns, seen)
        if reason:
            drops[reason] += 1
            continue
        ticker = row[columns["Ticker"]].strip().upper()
        seen.add(ticker)
        members.append(
            Member(
                ticker=ticker,
                yahoo_symbol=yahoo_symbol(ticker, class_shares),
                name=row[columns["Name"]].strip(),
                sector=row[columns["Sector"]].strip(),
                weight=number(row[columns["Weight (%)"]]) or 0.0,
            )
        )
    _check_complete(source, table, total_weight)
    if not members:
        raise SourceError(source, f"no tradable members in the holdings of {as_of.isoformat()}")
    if drops:
        counts = ", ".join(f"{n} {why}" for why, n in sorted(drops.items()))
        log.warning(
            "%s: dropped %d rows that are not tradable members: %s", source, sum(drops.values()), counts
        )
    return Membership(as_of, tuple(members), source, tuple(sorted(drops.items())))


def yahoo_symbol(ticker: str, class_shares: Mapping[str, str] = CLASS_SHARE_TICKERS) -> str:
    """Yahoo's symbol for a holdings-file ticker: the explicit map, else separators as dashes."""
    ticker = ticker.strip().upper()
    if ticker in class_shares:
        return class_shares[ticker]
    return ticker.replace(".", "-").replace("/", "-").replace(" ", "-")


Parse = Callable[[bytes, str], Membership]
"""``parse(body, source) -> Membership``: reads one holdings file (:func:`parse_holdings`)."""


def fetch_membership(
    location: str,
    fetch: Fetch,
    cache_dir: Path,
    source: str = SOURCE_NAME,
    *,
    parse: Parse | None = None,
    cache_file: str = CACHE_FILE,
) -> MembershipFetch:
    """The membership from ``location`` (an http(s) URL or a local file), else the cached one.

    A good file refreshes the cache (``cache_file`` in ``cache_dir``, trimmed to
    :class:`Membership`, never the raw file).  When the file cannot be had or read, the last
    cached membership is returned with ``from_cache=True`` and the reason; with no cache either,
    SourceError is raised.  ``parse`` reads another fund's layout (default: the iShares CSV).
    """
    cache = cache_dir / cache_file
    try:
        if location.lower().startswith(("http://", "https://")):
            body = fetch(location)
        else:
            body = _read_local(location, source)
        membership = (parse or parse_holdings)(body, source)
    except SourceError as exc:
        cached = read_membership(cache) if cache.is_file() else None
        if cached is None:
            raise SourceError(source, f"{exc.message}; no cached membership to fall back on") from None
        log.warning("%s: %s; using the cached membership as of %s", source, exc.message, cached.as_of)
        return MembershipFetch(cached, True, exc.message)
    write_membership(cache, membership)
    return MembershipFetch(membership, False, None)


def write_membership(path: Path, membership: Membership) -> None:
    """Write the trimmed membership as JSON (deterministic bytes), atomically."""
    document = {
        "source": membership.source,
        "as_of": membership.as_of.isoformat(),
        "dropped": dict(membership.dropped),
        "columns": ["ticker", "yahoo_symbol", "name", "sector", "weight"],
        "members": [[m.ticker, m.yahoo_symbol, m.name, m.sector, m.weight] for m in membership.members],
    }
    write_atomic(path, json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def read_membership(path: Path) -> Membership:
    """Read a membership written by :func:`write_membership`; SourceError naming the file if unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        members = tuple(
            Member(str(t), str(y), str(n), str(s), float(w)) for t, y, n, s, w in document["members"]
        )
        dropped = tuple(sorted((str(k), int(v)) for k, v in document.get("dropped", {}).items()))
        return Membership(date.fromisoformat(document["as_of"]), members, str(document["source"]), dropped)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(str(path), f"unreadable membership file: {exc}") from None


# --- parsing helpers ------------------------------------------------------------------


def decode_download(data: bytes, source: str, expected: str) -> str:
    """A downloaded text body (UTF-8, BOM or not); SourceError when it is empty, HTML or not UTF-8.

    Servers that block scripts or moved a link often answer 200 with an HTML page, so the
    content decides, not the status or the content type.  ``expected`` names what should
    have come ("the holdings CSV").
    """
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype", b"<html", b"<head", b"<body")) or b"<html" in head:
        raise SourceError(source, f"the server answered with an HTML page, not {expected}")
    if not head:
        raise SourceError(source, "empty file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(source, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _preamble(rows: Iterator[list[str]], source: str) -> tuple[date, list[str]]:
    as_of: date | None = None
    for _n, row in zip(range(_PREAMBLE_ROWS), rows, strict=False):
        key = row[0].strip().lower() if row else ""
        if key == "fund holdings as of" and len(row) > 1:
            as_of = _as_of(row[1], source)
        elif key == "ticker":
            if as_of is None:
                raise SourceError(source, "no 'Fund Holdings as of' line before the table")
            return as_of, [c.strip() for c in row]
    raise SourceError(source, "no holdings table (no 'Ticker,Name,...' header line)")


def _as_of(value: str, source: str) -> date:
    value = value.strip()
    if value in ("", "-"):
        raise SourceError(source, "the file has no holdings for its date ('Fund Holdings as of' is '-')")
    for layout in ("%b %d, %Y", "%B %d, %Y", "%d/%b/%Y", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, layout).date()
        except ValueError:
            continue
    raise SourceError(source, f"unreadable 'Fund Holdings as of' date {value!r}")


def _columns(header: Sequence[str], source: str) -> dict[str, int]:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise SourceError(source, f"holdings table without column(s) {', '.join(missing)}")
    return {name: header.index(name) for name in REQUIRED_COLUMNS}


class _TableRows:
    """Iterates the table's rows; afterwards ``closed`` says whether the table ended properly."""

    def __init__(self, rows: Iterator[list[str]], width: int, source: str) -> None:
        self.rows = rows
        self.width = width
        self.source = source
        self.closed = False
        self.count = 0

    def __iter__(self) -> Iterator[list[str]]:
        try:
            for row in self.rows:
                if not any(cell.strip() for cell in row) or len(row) == 1:
                    self.closed = True  # the blank line before the notice, or the notice itself
                    return
                if len(row) < self.width:
                    raise SourceError(
                        self.source,
                        f"truncated or malformed: table row {self.count + 1} has {len(row)} of "
                        f"{self.width} fields ({row[0]!r})",
                    )
                self.count += 1
                yield row
        except csv.Error as exc:
            raise SourceError(
                self.source, f"truncated or malformed CSV after table row {self.count}: {exc}"
            ) from None


def _check_complete(source: str, table: _TableRows, total_weight: float) -> None:
    """A table that stops without the blank line and notice is cut short, unless its weights add up."""
    if table.closed:
        return
    if total_weight < COMPLETE_WEIGHT:
        raise SourceError(
            source,
            f"truncated: the file ends inside the holdings table after {table.count} rows "
            f"(weights add up to {total_weight:.1f}%, no closing notice)",
        )
    log.warning(
        "%s: no closing notice after the table; taken as complete (weights add up to %.1f%%)",
        source,
        total_weight,
    )


def _drop_reason(row: Sequence[str], columns: Mapping[str, int], seen: set[str]) -> str | None:
    asset_class = row[columns["Asset Class"]].strip().lower()
    if asset_class in NON_MEMBER_CLASSES:
        return NON_MEMBER_CLASSES[asset_class]
    if asset_class != "equity" or row[columns["Sector"]].strip().lower() == "cash and/or derivatives":
        return "not equity"
    ticker = row[columns["Ticker"]].strip().upper()
    if ticker in ("", "-"):
        return "without ticker"
    exchange = row[columns["Exchange"]].strip().upper()
    if "NO MARKET" in exchange:
        return "NO MARKET"
    if any(marker in exchange for marker in OTC_MARKERS):
        return "OTC"
    price = number(row[columns["Price"]])
    if price is None or price <= 0:
        return "price 0.00"
    if ticker in seen:
        return "duplicate"
    return None


def number(cell: str) -> float | None:
    """A number as holdings files write it: ``"1,532,594.50"``; None for ``""`` and ``"-"``."""
    text = cell.strip().replace(",", "")
    if text in ("", "-"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _read_local(location: str, source: str) -> bytes:
    """The bytes of a local file: a path, or a ``file:`` URL on this machine (no host or ``localhost``)."""
    path = _local_path(location, source)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(source, f"cannot read {path}: {exc.strerror or exc}") from None


def _local_path(location: str, source: str) -> Path:
    """The path ``location`` names: ``file:///srv/x.csv`` and ``file://localhost/srv/x.csv`` are
    ``/srv/x.csv`` (percent-escapes decoded); a ``file:`` URL naming another host is refused."""
    if not location.lower().startswith("file:"):
        return Path(location).expanduser()
    try:
        parts = urlsplit(location)
    except ValueError as exc:
        raise SourceError(source, f"cannot read {location}: {exc}") from None
    if parts.netloc.lower() not in ("", "localhost"):
        raise SourceError(
            source, f"cannot read {location}: a file URL must name this machine (no host or localhost)"
        )
    return Path(unquote(parts.path))
