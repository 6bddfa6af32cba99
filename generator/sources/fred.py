"""Rates and credit from FRED's keyless CSV download, ``fredgraph.csv?id=SERIES``.

The file is ``observation_date,SERIES`` (files from before 2024 say ``DATE``), one row per
business day, with the value empty (older files: ``.``) on days without an observation.
:func:`parse_fredgraph` reads both, and also a multi-series file (``id=DGS2,DGS10``).

The high-yield OAS (BAMLH0A0HYM2) is ICE Data Indices' index data, republished by FRED under
ICE's licence: wherever it is shown, :data:`ICE_NOTICE` must be shown with it.  FRED keeps
only about three years of its history.

:class:`FredProvider` is the provider (see :mod:`generator.sources.providers`): each configured
series (``fred.series`` in feeds.yaml) is downloaded, cached as ``fred/<SERIES>.csv`` and put in
the snapshot as the value series ``FRED-<SERIES>`` (Close = the value).  A series that cannot be
had is a health row naming it; its cached copy is used when there is one, with its own dates.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from generator.errors import SourceError
from generator.fsutil import write_atomic
from generator.models import Origin, Series, SourceHealth, SourceStatus
from generator.sources.calendar import non_session_days
from generator.sources.ishares import decode_download
from generator.sources.providers import Deadline, ProviderContext, ProviderResult

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


def csv_url(series_id: str, template: str = CSV_URL) -> str:
    return template.format(series=series_id)


def fetch_fred(series_id: str, fetch: Fetch, template: str = CSV_URL) -> FredSeries:
    """Download and parse one series; SourceError names the series on any failure."""
    try:
        body = fetch(csv_url(series_id, template))
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


# --- the provider -------------------------------------------------------------------------------------

SYMBOL_PREFIX = "FRED-"


class FredProvider:
    """FRED's series of ``fred.series``, cached per series in ``fred/``.

    ``url`` is the download address with ``{series}`` for the series id (tests serve it on loopback).
    """

    name = "fred"
    cache_folder = "fred"
    needs: tuple[str, ...] = ()

    def __init__(self, url: str = CSV_URL) -> None:
        self.url = url

    def fetch(self, context: ProviderContext) -> ProviderResult:
        settings = context.config.fred
        deadline = Deadline(settings.deadline, "FRED")
        download = context.downloader("FRED", settings.timeout, deadline)
        series: dict[str, Series] = {}
        health: list[SourceHealth] = []
        for series_id in settings.series:
            cache = context.cache_dir / f"{series_id}.csv"
            if context.offline:
                found, row = _cached(series_id, cache, context, problem="")
            else:
                found, row = _live(series_id, cache, context, lambda url: download(url, None), self.url)
            health.append(row)
            if found is not None:
                series[found.symbol] = found
        return ProviderResult(PROVIDER, series=series, health=tuple(health))


def _live(
    series_id: str, cache: Path, context: ProviderContext, fetch: Fetch, template: str
) -> tuple[Series | None, SourceHealth]:
    try:
        observed = _until(fetch_fred(series_id, fetch, template), context.today)
    except SourceError as exc:
        log.warning("%s", exc)
        return _cached(series_id, cache, context, problem=exc.message)
    write_atomic(cache, _csv(observed))
    found = _series(observed, Origin.LIVE, context.now)
    return found, _row(found, SourceStatus.OK, Origin.LIVE)


def _cached(
    series_id: str, cache: Path, context: ProviderContext, problem: str
) -> tuple[Series | None, SourceHealth]:
    """The cached copy, with its own dates; a failed row when there is none (or it is unreadable)."""
    name = SYMBOL_PREFIX + series_id
    failed = f"{problem}; " if problem else ""
    if not cache.is_file():
        error = f"{failed}no cached copy" if problem else "not cached"
        return None, SourceHealth(
            "series", name, SourceStatus.FAILED, Origin.NONE, error=error, provider=PROVIDER
        )
    try:
        observed = _until(parse_fredgraph(cache.read_bytes(), series_id), context.today)
    except (OSError, SourceError) as exc:
        why = exc.message if isinstance(exc, SourceError) else str(exc)
        error = f"{failed}cached copy unreadable: {why}"
        return None, SourceHealth(
            "series", name, SourceStatus.FAILED, Origin.NONE, error=error, provider=PROVIDER
        )
    found = _series(observed, Origin.CACHE, None)
    error = f"{failed}last cached copy, observations to {observed.last}" if problem else ""
    return found, _row(found, SourceStatus.CACHED, Origin.CACHE, error)


def _until(observed: FredSeries, today: date) -> FredSeries:
    """Without observations dated after ``today``: a wrong date is never taken."""
    keep = [i for i, day in enumerate(observed.dates) if day <= today]
    if len(keep) == len(observed.dates):
        return observed
    later = observed.dates[keep[-1] + 1] if keep else observed.first
    log.warning("FRED %s: dropped observations dated after %s (first: %s)", observed.series_id, today, later)
    if not keep:
        raise SourceError(f"FRED {observed.series_id}", f"every observation is dated after {today}")
    days = tuple(observed.dates[i] for i in keep)
    return FredSeries(observed.series_id, days, tuple(observed.values[i] for i in keep), observed.missing)


def _csv(observed: FredSeries) -> str:
    """The series as a fredgraph.csv file (what the cache keeps)."""
    rows = [f"observation_date,{observed.series_id}"]
    rows += [
        f"{day.isoformat()},{value!r}" for day, value in zip(observed.dates, observed.values, strict=True)
    ]
    return "\n".join(rows) + "\n"


def _series(observed: FredSeries, origin: Origin, fetched_at: datetime | None) -> Series:
    """``FRED-<ID>``: Open = High = Low = Close = the value, on NYSE sessions only (the brief's days)."""
    values = observed.to_pandas()
    values = values[~non_session_days(values.index.to_numpy())]
    frame = pd.DataFrame(
        {"Open": values, "High": values, "Low": values, "Close": values, "Volume": np.zeros(len(values))},
        index=pd.DatetimeIndex(values.index, name="Date"),
    )
    return Series(SYMBOL_PREFIX + observed.series_id, frame, PROVIDER, origin, fetched_at)


def _row(found: Series, status: SourceStatus, origin: Origin, error: str = "") -> SourceHealth:
    return SourceHealth(
        "series", found.symbol, status, origin, len(found.frame), found.last_bar, error, PROVIDER
    )
