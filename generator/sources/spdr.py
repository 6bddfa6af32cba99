"""S&P 600 membership from a SPDR daily holdings file (SLY or SPSM), an Excel workbook.

State Street publishes ``holdings-daily-us-en-<fund>.xlsx``: one sheet ("holdings") with

- a few preamble rows: ``Fund Name:``, ``Ticker Symbol:``, ``Holdings:`` with ``As of 05-May-2026``
  (other date layouts such as ``As of May 05, 2026`` are read too), then a blank row;
- the header row ``Name, Ticker, Identifier, SEDOL, Weight, Sector, Shares Held, Local Currency``
  (found by its cells, not by its position: the preamble's length varies by fund);
- one row per holding, weights in percent (numbers, or text with a ``%``);
- a blank row, then the disclaimers.

Rows that are not tradable members are dropped and counted: the cash sweep fund (``SSI US GOV MONEY
MARKET CLASS``) and other money-market funds, currency balances (``US DOLLAR``, ``CASH_USD``), index
futures (``S+P600 EMINI DEC26``, tickers with a digit such as ``ESZ6``), "contra" placeholders left by
corporate actions (``2602335D``), rows without a ticker or with a weight that is not positive, and a
ticker listed twice.  SPDR writes class shares with a dot (``MOG.A``), which becomes Yahoo's dash.

A server that blocks the download can answer 200 with an HTML page; the content decides, and such
a page (or any body that is not an xlsx workbook) is refused by name.  Like the iShares file, the
workbook's terms do not allow redistribution: only ticker, name, sector, weight and the as-of date
are kept (:class:`~generator.sources.ishares.Membership`).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from generator.errors import SourceError
from generator.sources.ishares import COMPLETE_WEIGHT, Member, Membership, number, yahoo_symbol

log = logging.getLogger(__name__)

SOURCE_NAME = "SPDR SLY holdings"
CACHE_FILE = "sp600_membership.json"
SHEET = "holdings"
REQUIRED_COLUMNS = ("Name", "Ticker", "Weight", "Sector")
PREAMBLE_ROWS = 30  # the header row is among these
MAX_ROWS = 5_000  # an S&P 600 file has about 600 holdings and a few dozen other rows
DATE_LAYOUTS = ("%d-%b-%Y", "%b %d, %Y", "%B %d, %Y", "%m/%d/%Y")
CASH_TICKERS = frozenset({"CASH_USD", "USD", "CASH"})
CASH_NAMES = ("US DOLLAR", "U.S. DOLLAR", "CASH")
MONEY_MARKET = re.compile(r"MONEY MARKET|^[A-Z]{3}XX$")
FUTURES_NAMES = ("EMINI", "E-MINI", "FUTURE", " FUT ")
_AS_OF = re.compile(r"^\s*as of\s+(.+?)\s*$", re.IGNORECASE)


def parse_spdr_holdings(data: bytes, source: str = SOURCE_NAME) -> Membership:
    """The tradable members in one SPDR holdings workbook.

    Raises :class:`SourceError` naming ``source`` for an HTML page or any body that is not an
    xlsx workbook, a sheet without an as-of date, header row or members, and a table cut short.
    Every dropped row is counted and the counts are logged once as a WARNING.
    """
    rows = _rows(data, source)
    as_of, columns = _preamble(rows, source)
    drops: Counter[str] = Counter()
    seen: set[str] = set()
    members: list[Member] = []
    total_weight, closed = 0.0, False
    for row in rows:
        if not any(_text(cell) for cell in row):
            closed = True  # the blank row before the disclaimers
            break
        weight = _weight(_cell(row, columns["Weight"]))
        total_weight += weight or 0.0
        reason = _drop_reason(row, columns, weight, seen)
        if reason:
            drops[reason] += 1
            continue
        ticker = _text(_cell(row, columns["Ticker"])).upper()
        seen.add(ticker)
        sector = _text(_cell(row, columns["Sector"]))
        members.append(
            Member(
                ticker=ticker,
                yahoo_symbol=yahoo_symbol(ticker),
                name=_text(_cell(row, columns["Name"])),
                sector="" if sector in ("-", "Unassigned") else sector,
                weight=weight or 0.0,
            )
        )
    if not closed and total_weight < COMPLETE_WEIGHT:
        raise SourceError(
            source,
            f"truncated: the sheet ends inside the holdings table after {len(members) + drops.total()} "
            f"rows (weights add up to {total_weight:.1f}%)",
        )
    if not members:
        raise SourceError(source, f"no tradable members in the holdings of {as_of.isoformat()}")
    if drops:
        counts = ", ".join(f"{n} {why}" for why, n in sorted(drops.items()))
        log.warning("%s: dropped %d rows that are not tradable members: %s", source, drops.total(), counts)
    members.sort(key=lambda m: -m.weight)  # largest first, as the iShares file lists them
    return Membership(as_of, tuple(members), source, tuple(sorted(drops.items())))


def _rows(data: bytes, source: str) -> Iterator[tuple[Any, ...]]:
    """The cell values of the holdings sheet, row by row (at most :data:`MAX_ROWS`)."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype", b"<html", b"<head", b"<body")) or b"<html" in head:
        raise SourceError(source, "the server answered with an HTML page, not the holdings workbook")
    if not data:
        raise SourceError(source, "empty file")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SourceError(source, "an old Excel .xls workbook, not the .xlsx holdings file")
    if not data.startswith(b"PK\x03\x04"):
        raise SourceError(source, "not an xlsx workbook (a holdings file is a zip of XML parts)")
    from openpyxl import load_workbook  # here: only this provider needs it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SourceError(source, f"unreadable xlsx workbook (cut short or damaged: {exc})") from None
    sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
    return _bounded(sheet.iter_rows(values_only=True), source)


def _bounded(rows: Iterator[tuple[Any, ...]], source: str) -> Iterator[tuple[Any, ...]]:
    try:
        for n, row in enumerate(rows):
            if n >= MAX_ROWS:
                raise SourceError(source, f"more than {MAX_ROWS} rows: not a holdings sheet")
            yield row
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise SourceError(source, f"unreadable xlsx workbook (cut short or damaged: {exc})") from None


def _preamble(rows: Iterator[tuple[Any, ...]], source: str) -> tuple[date, dict[str, int]]:
    """The as-of date and the header row's columns, from the rows before the table."""
    as_of: date | None = None
    for _n, row in zip(range(PREAMBLE_ROWS), rows, strict=False):
        cells = [_text(c) for c in row]
        for cell in cells:
            found = _AS_OF.match(cell)
            if found:
                as_of = _as_of(found.group(1), source)
        names = {c.lower(): i for i, c in reversed(list(enumerate(cells))) if c}
        if all(c.lower() in names for c in REQUIRED_COLUMNS):
            if as_of is None:
                raise SourceError(source, "no 'As of' date before the holdings table")
            return as_of, {c: names[c.lower()] for c in REQUIRED_COLUMNS}
    raise SourceError(source, f"no holdings table (no header row with {', '.join(REQUIRED_COLUMNS)})")


def _as_of(value: str, source: str) -> date:
    for layout in DATE_LAYOUTS:
        try:
            return datetime.strptime(value, layout).date()
        except ValueError:
            continue
    raise SourceError(source, f"unreadable 'As of' date {value!r}")


def _drop_reason(
    row: Sequence[Any], columns: dict[str, int], weight: float | None, seen: set[str]
) -> str | None:
    ticker = _text(_cell(row, columns["Ticker"])).upper()
    name = f" {_text(_cell(row, columns['Name'])).upper()} "
    if ticker in CASH_TICKERS or any(name.strip() == cash for cash in CASH_NAMES):
        return "cash"
    if MONEY_MARKET.search(name) or MONEY_MARKET.match(ticker):
        return "money market"
    if any(word in name for word in FUTURES_NAMES):
        return "futures"
    if ticker in ("", "-"):
        return "without ticker"
    if name.strip().startswith("CONTRA ") or re.fullmatch(r"\d{4,}[A-Z]?", ticker):
        return "contra"
    if any(ch.isdigit() for ch in ticker):
        return "futures"  # an exchange-traded contract such as ESZ6; no member ticker has a digit
    if weight is None or weight <= 0:
        return "weight not positive"
    if ticker in seen:
        return "duplicate"
    return None


def _cell(row: Sequence[Any], at: int) -> Any:
    return row[at] if at < len(row) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _weight(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return number(_text(value).removesuffix("%"))
