"""Rates and credit from FRED's keyless CSV download, ``fredgraph.csv?id=SERIES``.

The file is ``observation_date,SERIES`` (files from before 2024 say ``DATE``), one row per
business day, with the value empty (older files: ``.``) on days without an observation.
:func:`parse_fredgraph` reads both, and also a multi-series file (``id=DGS2,DGS10``).

The high-yield OAS (BAMLH0A0HYM2) is ICE Data Indices' index data, republished by FRED under
ICE's licence: wherever it is shown, :data:`ICE_NOTICE` must be shown with it.  FRED keeps
only about three years of its history.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from generator.errors import SourceError
from generator.sources.ishares import decode_download

log = logging.getLogger(__name__)

PROVIDER = "FRED, Federal Reserve Bank of St. Louis"
CSV_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={series}"
SERIES_URL = "https://fred.stlouisfed.org/series/{series}"
SERIES: dict[str, str] = {
    "DGS3MO": "3-month Treasury yield (constant maturity)",
    "DGS2": "2-year Treasury yield (constant maturity)",
    "DGS10": "10-year Treasury yield (constant maturity)",
    "T10Y2Y": "10-year minus 2-year Treasury yield spread",
    "BAMLH0A0HYM2": "ICE BofA US High Yield Index option-adjusted spread",
}
UNITS: dict[str, str] = {s: "percent" for s in SERIES}
ICE_SERIES = frozenset({"BAMLH0A0HYM2"})
ICE_NOTICE = (
    "ICE BofA US High Yield Index Option-Adjusted Spread (BAMLH0A0HYM2). Source: ICE Data Indices, LLC, "
    "used with permission; retrieved from FRED, Federal Reserve Bank of St. Louis. "
    "Copyright ICE Data Indices, LLC: reproduction of this data in any form requires the prior written "
    "permission of ICE Data Indices. ICE's terms: https://fred.stlouisfed.org/series/BAMLH0A0HYM2"
)
DATE_COLUMNS = ("observation_date", "date")
MISSING = ("", ".")


@dataclass(frozen=True, eq=False)
class FredSeries:
    """One series' observations, oldest first; days without a value are left out."""

    series_id: str
    dates: tuple[date, ...]
    values: tuple[float, ...]
    missing: int = 0  # rows with an empty or "." value (holidays), left out

    @property
    def label(self) -> str:
        return SERIES.get(self.series_id, self.series_id)

    @property
    def notice(self) -> str | None:
        """The licence notice that must travel with the data, if any."""
        return ICE_NOTICE if self.series_id in ICE_SERIES else None

    @property
    def url(self) -> str:
        return SERIES_URL.format(series=self.series_id)

    @property
    def first(self) -> date:
        return self.dates[0]

    @property
    def last(self) -> date:
        return self.dates[-1]

    def to_pandas(self) -> pd.Series:
        index = pd.DatetimeIndex(pd.to_datetime(list(self.dates)), name="Date")
        return pd.Series(self.values, index=index, name=self.series_id, dtype=float)


Fetch = Callable[[str], bytes]


def csv_url(series_id: str) -> str:
    return CSV_URL.format(series=series_id)


def fetch_fred(series_id: str, fetch: Fetch) -> FredSeries:
    """Download and parse one series; SourceError names the series on any failure."""
    try:
        body = fetch(csv_url(series_id))
    except SourceError as exc:
        raise SourceError(f"FRED {series_id}", exc.message) from None
    return parse_fredgraph(body, series_id)


def parse_fredgraph(data: bytes, series_id: str) -> FredSeries:
    """The observations of ``series_id`` in a ``fredgraph.csv`` body.

    Raises SourceError naming ``FRED <series>`` for an HTML page, a missing date or series
    column, or a file without any observation.  Unreadable values and dates are dropped with
    one WARNING; duplicate dates keep the last row.
    """
    source = f"FRED {series_id}"
    text = decode_download(data, source, "the CSV")
    reader = csv.reader(io.StringIO(text))
    header = [c.strip() for c in next(reader, [])]
    lowered = [c.lower() for c in header]
    date_col = next((lowered.index(c) for c in DATE_COLUMNS if c in lowered), None)
    if date_col is None:
        raise SourceError(source, f"no observation_date or DATE column (header: {','.join(header)!r})")
    if series_id.lower() not in lowered:
        raise SourceError(source, f"no {series_id} column (header: {','.join(header)!r})")
    value_col = lowered.index(series_id.lower())
    found: dict[date, float] = {}
    missing = 0
    bad: list[str] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        day, value = _observation(row, date_col, value_col)
        if day is None:
            bad.append(f"date {row[date_col] if len(row) > date_col else ''!r}")
        elif value is None:
            missing += 1
        elif math.isnan(value):
            bad.append(f"value {row[value_col]!r} on {day}")
        else:
            found[day] = value
    if bad:
        log.warning("%s: dropped %d unreadable rows (%s)", source, len(bad), "; ".join(bad[:3]))
    if not found:
        raise SourceError(source, "no observations in the file")
    days = sorted(found)
    return FredSeries(series_id, tuple(days), tuple(found[d] for d in days), missing)


def _observation(row: list[str], date_col: int, value_col: int) -> tuple[date | None, float | None]:
    """(date, value): value None for FRED's "no observation", NaN when unreadable."""
    try:
        day = date.fromisoformat(row[date_col].strip())
    except (IndexError, ValueError):
        return None, None
    cell = row[value_col].strip() if len(row) > value_col else ""
    if cell in MISSING:
        return day, None
    try:
        value = float(cell)
    except ValueError:
        return day, math.nan
    return day, value if math.isfinite(value) else math.nan
