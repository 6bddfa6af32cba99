"""Price CSV files: read any accepted layout into a clean frame, and write the snapshot's own layout.

Bars dated on a day without an NYSE session (a holiday such as Labor Day, an ad-hoc closure, a
weekend) are dropped with a WARNING naming the symbol and the dates: Yahoo sends a few for indices
such as ^VIX, and a weekly figure must not count a session the market did not hold.

Accepted on the way in: ``Date,Open,High,Low,Close[,Adj Close],Volume`` with column names in any
case (``adj_close``, ``timestamp`` ...), and yfinance's three-row ``Price`` / ``Ticker`` / ``Date``
header.  Every frame goes through :func:`clean_frame`, which also serves frames fetched live.
Written out: ``Date,Open,High,Low,Close[,Adj Close],Volume`` with ISO dates and plain decimals.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from generator.errors import SourceError
from generator.models import PRICE_COLUMNS
from generator.sources.calendar import EXCHANGE_TZ, non_session_days

log = logging.getLogger(__name__)

_PRICE_FIELDS = ("Open", "High", "Low", "Close", "Adj Close")
_ALIASES = {  # lower-cased, "_" read as " "
    "date": "Date", "datetime": "Date", "timestamp": "Date", "open": "Open", "high": "High", "low": "Low",
    "close": "Close", "adj close": "Adj Close", "adjclose": "Adj Close", "adjusted close": "Adj Close",
    "volume": "Volume",
}  # fmt: skip


_NS_FIRST, _NS_LAST = np.datetime64("1677-09-22"), np.datetime64("2262-04-11")  # datetime64[ns]'s span

VALUE_SERIES_PREFIXES = ("FRED-",)  # series of values (rates, spreads), not prices


def clean_frame(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """Normalize one symbol's bars: dates, column names, order, duplicates, missing and bad prices.

    Rows without a readable date, without a close, with an infinite price or (prices, not the
    ``FRED-`` value series) a non-positive one are dropped; an infinite volume reads as missing; of
    rows repeating a date, the last is kept.  Each repair is a WARNING naming the symbol, the count
    and the first date.

    Raises SourceError naming the symbol when there is no Close column or no usable row.
    """
    df = _canonical_columns(frame, symbol)
    if "Close" not in df.columns:
        raise SourceError(symbol, f"no Close column (columns: {', '.join(map(str, frame.columns))})")
    if "Date" in df.columns:
        dates = _to_dates(pd.Index(df["Date"]))
    elif pd.api.types.is_integer_dtype(df.index.dtype):
        raise SourceError(symbol, "no Date column")
    else:
        dates = _to_dates(df.index)
    cols = [c for c in PRICE_COLUMNS if c in df.columns]
    values = {c: _numbers(df[c]) for c in cols}
    prices = np.column_stack([values[c] for c in cols if c in _PRICE_FIELDS])
    keep = _keep(
        np.asarray(dates.isna()), dates, symbol, "without a readable date", np.ones(len(dates), bool)
    )
    keep = _keep(np.isnan(values["Close"]), dates, symbol, "with no close", keep)
    # inf or -inf (text such as "inf" or "1e999" reads as one): a broken row, never a price
    keep = _keep(np.isinf(prices).any(axis=1), dates, symbol, "with infinite prices", keep)
    if not symbol.startswith(VALUE_SERIES_PREFIXES):  # yields and spreads may be zero or negative
        keep = _keep(np.asarray((prices <= 0).any(axis=1)), dates, symbol, "with non-positive prices", keep)
    keep = _drop_closed_days(dates, symbol, keep)
    if not keep.any():
        raise SourceError(symbol, "no usable rows")
    if "Volume" in values:
        values["Volume"] = _blank_infinite_volumes(values["Volume"], dates, symbol, keep)
    stamps = dates.to_numpy()[keep]
    order = np.argsort(stamps, kind="stable")
    stamps = stamps[order]
    last = np.append(stamps[1:] != stamps[:-1], True)  # duplicate dates: the last one wins
    ordered = np.flatnonzero(keep)[order]
    rows = ordered[last]
    if not last.all():
        _warn_repeated_dates(stamps, last, ordered, values, symbol)
    close = values["Close"][rows]
    out = {c: _filled(values.get(c), rows, close) for c in ("Open", "High", "Low")}
    out["Close"] = close
    if "Adj Close" in values:
        out["Adj Close"] = _filled(values["Adj Close"], rows, close)
    out["Volume"] = values["Volume"][rows] if "Volume" in values else np.full(len(rows), np.nan)
    return pd.DataFrame(out, index=pd.DatetimeIndex(stamps[last], name="Date"))


def _warn_repeated_dates(
    stamps: np.ndarray, last: np.ndarray, rows: np.ndarray, values: dict[str, np.ndarray], symbol: str
) -> None:
    """Name the rows dropped for repeating a date (the last row of each date is kept): how many,
    on how many dates, how many of them held other figures than the row kept, and the first date."""
    group = np.cumsum(np.append(True, last[:-1])) - 1  # each sorted row's date: a new one after a last
    kept = rows[last][group]  # the row kept for each sorted row's date
    dropped = ~last
    table = np.column_stack(list(values.values()))
    same = (table[rows] == table[kept]) | (np.isnan(table[rows]) & np.isnan(table[kept]))
    differing = int((dropped & ~same.all(axis=1)).sum())
    first = pd.Timestamp(stamps[np.flatnonzero(dropped)[0]]).date().isoformat()
    dates = len(np.unique(stamps[dropped]))
    other = f"{differing} of them differ from it" if differing else "each the same as it"
    _warn(
        symbol,
        f"dropped {int(dropped.sum())} row(s) repeating the date of another ({dates} date(s);"
        f" the last row of each date kept, {other}; first: {first})",
    )


def _numbers(column: pd.Series) -> np.ndarray:
    """A column as floats; text that is not a number reads as missing."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _filled(column: np.ndarray | None, rows: np.ndarray, close: np.ndarray) -> np.ndarray:
    if column is None:
        return close.copy()
    picked = column[rows]
    return np.where(np.isnan(picked), close, picked)


def _keep(bad: np.ndarray, dates: pd.DatetimeIndex, symbol: str, why: str, keep: np.ndarray) -> np.ndarray:
    dropped = bad & keep
    if dropped.any():
        first = dates[np.flatnonzero(dropped)[0]]
        when = "unknown date" if pd.isna(first) else first.date().isoformat()
        _warn(symbol, f"dropped {int(dropped.sum())} row(s) {why} (first: {when})")
    return np.asarray(keep & ~bad, dtype=bool)


def _blank_infinite_volumes(
    volume: np.ndarray, dates: pd.DatetimeIndex, symbol: str, keep: np.ndarray
) -> np.ndarray:
    """An infinite volume reads as a missing one (the row's prices stay), and is named."""
    bad = np.isinf(volume)
    if (bad & keep).any():
        first = dates[np.flatnonzero(bad & keep)[0]].date().isoformat()
        _warn(symbol, f"read {int((bad & keep).sum())} infinite volume(s) as missing (first: {first})")
    return np.where(bad, np.nan, volume)


SHOWN_DATES = 10  # dates listed in the warning about bars on closed days


def _drop_closed_days(dates: pd.DatetimeIndex, symbol: str, keep: np.ndarray) -> np.ndarray:
    """Leave out bars dated on days without an NYSE session, naming the dates."""
    closed = keep & non_session_days(dates.to_numpy())
    if not closed.any():
        return keep
    days = sorted({d.date().isoformat() for d in dates[closed]})
    more = f" and {len(days) - SHOWN_DATES} more" if len(days) > SHOWN_DATES else ""
    _warn(
        symbol,
        f"dropped {int(closed.sum())} bar(s) dated on days without an NYSE session (weekend, holiday or"
        f" closure): {', '.join(days[:SHOWN_DATES])}{more}",
    )
    return np.asarray(keep & ~closed, dtype=bool)


# While a folder of files is read, the same repair of many series (a holiday bar in every file) is
# one WARNING naming them all, not one per series.
_GROUPED: ContextVar[dict[str, list[str]] | None] = ContextVar("grouped_repairs", default=None)
SHOWN_SYMBOLS = 8


def _warn(symbol: str, what: str) -> None:
    grouped = _GROUPED.get()
    if grouped is None:
        log.warning("%s: %s", symbol, what)
    else:
        grouped.setdefault(what, []).append(symbol)


@contextmanager
def grouped_repairs() -> Iterator[None]:
    """Within this block, each repair made to several series is logged once, with their symbols."""
    grouped: dict[str, list[str]] = {}
    token = _GROUPED.set(grouped)
    try:
        yield
    finally:
        _GROUPED.reset(token)
        for what, symbols in grouped.items():
            if len(symbols) == 1:
                log.warning("%s: %s", symbols[0], what)
                continue
            more = f" and {len(symbols) - SHOWN_SYMBOLS} more" if len(symbols) > SHOWN_SYMBOLS else ""
            named = ", ".join(symbols[:SHOWN_SYMBOLS])
            log.warning("%d series (%s%s): %s", len(symbols), named, more, what)


def _canonical_columns(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    df = frame
    if isinstance(df.columns, pd.MultiIndex):  # yfinance download: (Price, Ticker)
        level = df.columns.get_level_values(-1)
        df = (df.loc[:, level == symbol] if symbol in set(level) else df).droplevel(-1, axis=1)
    if not isinstance(df.index, pd.DatetimeIndex) and str(df.index.name).strip().lower() in _ALIASES:
        df = df.reset_index()
    names = {c: _ALIASES.get(" ".join(str(c).replace("_", " ").split()).lower()) for c in df.columns}
    chosen: dict[Any, str] = {}
    for col, name in names.items():
        if name is not None and name not in chosen.values():
            chosen[col] = name
    if list(chosen.items()) == [(c, c) for c in df.columns]:
        return df  # already the snapshot's own layout
    return df[list(chosen)].rename(columns=chosen)


def _to_dates(index: pd.Index) -> pd.DatetimeIndex:
    """Exchange dates at midnight, tz-naive.

    Tz-aware stamps that are all at local midnight are date labels and keep their wall date; other
    tz-aware stamps are converted to New York time first.
    """
    if isinstance(index, pd.DatetimeIndex):
        idx = index
    elif (days := _iso_days(index)) is not None:
        return pd.DatetimeIndex(days.astype("datetime64[ns]"), name="Date")
    else:
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(index, errors="coerce"))
        except (ValueError, TypeError):  # mixed UTC offsets (daylight saving)
            idx = pd.DatetimeIndex(pd.to_datetime(index, errors="coerce", utc=True))
    if idx.tz is not None:
        wall = idx.tz_localize(None)
        labels = bool((wall.dropna() == wall.dropna().normalize()).all())
        idx = wall if labels else idx.tz_convert(EXCHANGE_TZ).tz_localize(None)
    idx = idx.normalize()
    if idx.unit != "ns":  # a year such as 0224 parses, but no timestamp holds it: not a readable date
        idx = pd.DatetimeIndex(idx.where((idx >= pd.Timestamp(_NS_FIRST)) & (idx <= pd.Timestamp(_NS_LAST))))
    return pd.DatetimeIndex(idx.as_unit("ns"), name="Date")


def _iso_days(index: pd.Index) -> np.ndarray | None:
    """Plain ISO dates (``2025-04-04``, the layout the snapshot writes) parsed at once; else None.

    Only ``dddd-dd-dd`` within the span pandas' timestamps hold: any other text (a time, an offset,
    a sign, a number, a missing or unreadable date, a year out of range) is left to pandas.
    """
    if index.dtype != object and not pd.api.types.is_string_dtype(index.dtype):
        return None
    try:
        text = np.asarray(index, dtype=str)
        if not len(text) or not (np.char.str_len(text) == 10).all():
            return None
        dashes = (np.char.find(text, "-") == 4) & (np.char.rfind(text, "-") == 7)
        if not (dashes.all() and np.char.isdigit(np.char.replace(text, "-", "")).all()):
            return None
        days = text.astype("datetime64[D]")
    except (ValueError, TypeError):
        return None
    if days.min() < _NS_FIRST or days.max() > _NS_LAST:
        return None
    return days


# --------------------------------------------------------------------------- reading


def read_prices_csv(path: Path, symbol: str) -> pd.DataFrame:
    """One symbol's CSV in any accepted layout, cleaned.  Errors name the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    return parse_prices(str(path), data, symbol)


def parse_prices(source: str, data: bytes, symbol: str) -> pd.DataFrame:
    """The bytes of one symbol's CSV in any accepted layout, cleaned; errors name ``source``."""
    try:
        text = data.decode("utf-8-sig")
        head = list(csv.reader(text.splitlines()[:3]))
        if len(head) == 3 and {tuple(head[0][:1]), tuple(head[1][:1])} == {("Price",), ("Ticker",)}:
            frame = _read_multiheader(text, head, symbol, source)
        else:
            frame = pd.read_csv(io.StringIO(text))
        return clean_frame(frame, symbol)
    except UnicodeDecodeError as exc:
        raise SourceError(source, f"not UTF-8 text: {exc.reason}") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise SourceError(source, f"not a readable CSV: {exc}") from exc
    except SourceError as exc:
        raise SourceError(source, str(exc)) from exc


def _read_multiheader(text: str, head: list[list[str]], symbol: str, source: str) -> pd.DataFrame:
    """yfinance's 3-row header: ``Price,Close,...`` / ``Ticker,IWM,...`` / ``Date,,...`` (either order)."""
    fields, tickers = (head[0], head[1]) if head[0][0] == "Price" else (head[1], head[0])
    distinct = {t for t in tickers[1:] if t}
    wanted = [
        i
        for i in range(1, len(fields))
        if len(distinct) <= 1 or (i < len(tickers) and tickers[i] in (symbol, symbol.lstrip("^")))
    ]
    if not wanted:
        raise SourceError(source, f"no columns for {symbol} (tickers: {', '.join(sorted(distinct))})")
    body = pd.read_csv(io.StringIO(text), header=None, skiprows=3)
    if body.shape[1] != len(fields):
        raise SourceError(source, f"{body.shape[1]} columns in rows but {len(fields)} in the header")
    frame = body.iloc[:, [0, *wanted]]
    frame.columns = pd.Index(["Date", *(fields[i] for i in wanted)])
    return frame


# --------------------------------------------------------------------------- writing


def prices_csv(frame: pd.DataFrame) -> tuple[bytes, pd.DataFrame]:
    """The snapshot's CSV bytes of a clean frame, and the frame exactly as reading those bytes gives it.

    Prices are written with six decimals (trailing zeros dropped), volumes as whole numbers; the
    second value is parsed back from the very same text, so a build can go on with it instead of
    reading the snapshot it has just written.
    """
    cols = [c for c in PRICE_COLUMNS if c in frame.columns]
    values = frame[cols].to_numpy(dtype=float)
    cells, parsed = [], {}
    for j, col in enumerate(cols):
        text = _format_column(values[:, j], "%.0f" if col == "Volume" else "%.6f")
        cells.append(text)
        parsed[col] = _parse_column(text)
    stamps = pd.DatetimeIndex(frame.index).normalize()
    dates = stamps.strftime("%Y-%m-%d").tolist()
    lines = ["Date," + ",".join(cols)]
    lines += [",".join(row) for row in zip(dates, *cells, strict=True)]
    index = pd.DatetimeIndex(stamps.tz_localize(None) if stamps.tz else stamps, name="Date").astype(
        "datetime64[ns]"
    )
    as_read = pd.DataFrame(parsed, index=index)
    return ("\n".join(lines) + "\n").encode("ascii"), as_read


def _format_column(values: np.ndarray, pattern: str) -> list[str]:
    """A column's cells: blank for NaN, prices without trailing zeros after the point, volumes whole."""
    if pattern == "%.0f":
        return ["" if v != v else f"{v:.0f}" for v in values.tolist()]
    return ["" if v != v else f"{v:.6f}".rstrip("0").rstrip(".") for v in values.tolist()]


def _parse_column(text: list[str]) -> np.ndarray:
    return np.array([float(t) if t else np.nan for t in text], dtype=float)
