"""A SPDR daily holdings workbook in State Street's layout, written with openpyxl for the tests.

The layout (``holdings-daily-us-en-sly.xlsx``): a "holdings" sheet with the rows ``Fund Name:``,
``Ticker Symbol:`` and ``Holdings:`` / ``As of 05-May-2026``, a blank row, the header row
``Name, Ticker, Identifier, SEDOL, Weight, Sector, Shares Held, Local Currency``, one row per
holding, a blank row and the disclaimers.  Names and tickers are real S&P 600 members; their
identifiers, weights and share counts are made up.  The awkward rows are those State Street's
files carry: the cash sweep fund, a currency balance, an index future, a "contra" placeholder, a
row without a ticker, a ticker listed twice, a weight written as text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

HEADER = ("Name", "Ticker", "Identifier", "SEDOL", "Weight", "Sector", "Shares Held", "Local Currency")
PREAMBLE: tuple[tuple[Any, ...], ...] = (
    ("Fund Name:", "SPDR® S&P 600 Small Cap ETF"),
    ("Ticker Symbol:", "SLY"),
    ("Holdings:", "As of 05-May-2026"),
    (),
)
MEMBERS: tuple[tuple[Any, ...], ...] = (
    ("MUELLER INDUSTRIES INC", "MLI", "624756102", "2609717", 0.72, "Industrials", 81_250, "USD"),
    ("ARMSTRONG WORLD INDUSTRIES", "AWI", "04247X102", "B1FT462", 0.65, "Industrials", 30_510, "USD"),
    ("SPX TECHNOLOGIES INC", "SPXC", "78473E103", "BQ1L4N6", 0.61, "Industrials", 28_900, "USD"),
    ("CORCEPT THERAPEUTICS INC", "CORT", "218352102", "2579435", 0.55, "Health Care", 52_400, "USD"),
    ("MOOG INC CLASS A", "MOG.A", "615394202", "2601218", 0.47, "Industrials", 17_800, "USD"),
    ("BRINKER INTERNATIONAL INC", "EAT", "109641100", "2193544", "0.44%", "Consumer Discretionary",
     21_300, "USD"),
    ("ASSURED GUARANTY LTD", "AGO", "G0585R106", "B00V7H8", 0.40, "Financials", 33_000, "USD"),
)  # fmt: skip
NOT_MEMBERS: tuple[tuple[Any, ...], ...] = (
    ("SSI US GOV MONEY MARKET CLASS", "-", "8AMMF0XX5", "-", 0.31, "-", 2_900_000, "USD"),
    ("US DOLLAR", "CASH_USD", "-", "-", 0.02, "-", 190_000, "USD"),
    ("S+P600 EMINI JUN26", "ESM6", "-", "-", 0.18, "-", 14, "USD"),
    ("CONTRA HOLOGIC", "2602335D", "-", "-", 0.0, "-", 1_000, "USD"),
    ("UNLISTED RIGHTS", "-", "-", "-", 0.01, "Health Care", 5_000, "USD"),
    ("MUELLER INDUSTRIES INC", "MLI", "624756102", "2609717", 0.72, "Industrials", 81_250, "USD"),
)
NOTICE: tuple[tuple[Any, ...], ...] = (
    (),
    ("Past performance is not a guarantee of future results. (A short stand-in for the notice.)",),
    ("Holdings are subject to change.", "ZZZ", "-", "-", 9.0, "-", 1, "USD"),  # not a holding
)


def workbook(
    rows: Sequence[Sequence[Any]] | None = None,
    *,
    preamble: Sequence[Sequence[Any]] = PREAMBLE,
    header: Sequence[Any] = HEADER,
    notice: Sequence[Sequence[Any]] = NOTICE,
    sheet: str = "holdings",
) -> bytes:
    """The xlsx bytes: ``preamble``, ``header``, ``rows`` (default: members then the awkward rows)."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    body = (*MEMBERS[:3], *NOT_MEMBERS, *MEMBERS[3:]) if rows is None else tuple(rows)
    for row in (*preamble, tuple(header), *body, *notice):
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
