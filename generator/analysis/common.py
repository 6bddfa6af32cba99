"""Shared pieces of the analysis: the reporting week, the context, windows, figure builders.

Everything here is pure: no clock, no network, no files.  A :class:`Context` holds the
series cut at the reporting week's end (no look-ahead) and knows which symbols are stale
or missing; every figure builder goes through :func:`blocked` first so a stale or missing
series always yields a "not available" figure instead of a number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from typing import TypeVar

import numpy as np
import pandas as pd

from generator.analysis import thresholds as th
from generator.errors import ConfigError
from generator.models import WEEKDAYS, Config, Figure, Provenance, Role, Series, Slots, Snapshot, Unit
from generator.sources.calendar import is_trading_day, trading_days

SeriesOrFrame = TypeVar("SeriesOrFrame", pd.Series, pd.DataFrame)
Cell = Figure | str
WINDOWS = ("1W", "1M", "3M", "QTD", "YTD", "1Y")
WINDOW_LABELS = {
    "1W": "1 week",
    "1M": "1 month",
    "3M": "3 months",
    "QTD": "quarter to date",
    "YTD": "year to date",
    "1Y": "1 year",
}
MAX_BASE_GAP_DAYS = 10  # a base close further than this before its anchor day is a data gap
# Methods name neither the symbols nor the window: both are recorded in the figure's provenance.
RETURN_METHOD = (
    "Close-to-close return using adjusted closes where present, from the last close on or before the"
    " window's start date to the last close of the reporting week."
)
SPREAD_METHOD = (
    "First return minus second return, in percentage points; each a close-to-close return from the last"
    " close on or before the window's start date to the last close of the reporting week."
)
BP_CHANGE_METHOD = (
    "Yield at the last close of the reporting week minus the yield at the last close on or before the"
    " window's start date; quoted in percent, so 1 bp = 0.01."
)


def reporting_week(as_of: date, week_ends_on: str = "friday") -> tuple[date, date]:
    """The Monday..``week_ends_on`` week being reported on at ``as_of``.

    That is the week containing the last ``week_ends_on`` on or before ``as_of`` — unless ``as_of``
    is the last session of a holiday-shortened week (a Thursday before Good Friday), which then
    reports its own week: the brief of that Thursday is that week's issue.
    """
    name = week_ends_on.strip().lower()
    if name not in WEEKDAYS:
        raise ConfigError("brief.week_ends_on", [f"brief.week_ends_on: unknown weekday {week_ends_on!r}"])
    ahead = as_of + timedelta(days=(WEEKDAYS.index(name) - as_of.weekday()) % 7)
    rest = [as_of + timedelta(days=n) for n in range(1, (ahead - as_of).days + 1)]
    if (
        rest
        and ahead.weekday() > as_of.weekday()
        and is_trading_day(as_of)
        and not any(map(is_trading_day, rest))
    ):
        end = ahead
    else:
        end = as_of - timedelta(days=(as_of.weekday() - WEEKDAYS.index(name)) % 7)
    return end - timedelta(days=end.weekday()), end


def shift_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (first_next - timedelta(days=1)).day))


# ---------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """The inputs of one reporting week, cut at its end."""

    config: Config
    week_start: date
    week_end: date
    anchor: date  # the day calendar windows count back from (the benchmark's last bar)
    series: Mapping[str, Series]  # every series with at least one bar on or before week_end
    closes: Mapping[str, pd.Series]  # Series.closes of the above, as floats
    stale: Mapping[str, date]  # symbol → last bar, for series that end before week_start
    missing: tuple[str, ...]  # symbols the analysis wanted but the snapshot does not have
    default_provider: str
    proxies: Mapping[str, str] = dataclass_field(default_factory=dict)  # index → the ETF standing in
    flagged: Mapping[str, Anomaly] = dataclass_field(
        default_factory=dict
    )  # symbol → why its week is left out
    # Figures already made from this context, by what they are: the sections ask for the same
    # return (a spread's two legs, a ladder, a chart's label) about twice each.  Not an argument:
    # a context made with dataclasses.replace starts with none.
    made: dict[tuple[str, ...], Figure] = dataclass_field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    providers: dict[tuple[str, ...], str] = dataclass_field(  # provider() by its symbols, likewise
        default_factory=dict, init=False, compare=False, repr=False
    )

    @property
    def slots(self) -> Slots:
        return self.config.slots

    def has(self, symbol: str) -> bool:
        return symbol in self.series and symbol not in self.stale

    def name(self, symbol: str) -> str:
        inst = self.config.instrument(symbol)
        name = inst.name if inst is not None else FRED_NAMES.get(symbol, symbol)
        if symbol not in self.proxies:
            return name
        etf = self.proxies[symbol]  # by its own name where it tracks another index (QQQ: the Nasdaq-100)
        return dict(self.config.proxy_names).get(etf, f"{name} ({etf})")

    def last_bar(self, symbol: str) -> date | None:
        s = self.series.get(symbol)
        return s.last_bar if s is not None else None

    def provider(self, symbols: Iterable[str]) -> str:
        """The providers of ``symbols``, each named once: an ETF standing in for an index carries its
        own provider and the proxy note (``local files; SPY as a proxy for ^GSPC``), and a figure
        of that index and another from the same provider names the provider once, not twice."""
        symbols = tuple(symbols)
        said = self.providers.get(symbols)
        if said is None:
            found = sorted({self.series[s].provider for s in symbols if s in self.series})
            parts = dict.fromkeys(part for provider in found for part in provider.split("; "))
            said = self.providers[symbols] = "; ".join(parts) if parts else self.default_provider
        return said

    def in_week(self, day: date) -> bool:
        return self.week_start <= day <= self.week_end


def wanted_symbols(config: Config) -> tuple[str, ...]:
    """Every symbol of the universe, then every slot symbol the universe lacks."""
    s = config.slots
    slot_symbols = (
        s.benchmark,
        s.large_cap,
        s.nasdaq,
        *s.ladder,
        s.value,
        s.growth,
        s.equal_weight,
        s.cap_weight,
        s.rate_3m,
        s.rate_5y,
        s.rate_10y,
        s.rate_30y,
        s.vix,
        s.rvx,
        s.high_yield,
        s.treasury,
    )
    return tuple(dict.fromkeys((*config.symbols, *slot_symbols)))


# Series that are not instruments of the universe: FRED's, stored in the snapshot as FRED-<ID>.
FRED_NAMES = {
    "FRED-DGS3MO": "3-month Treasury yield (FRED)",
    "FRED-DGS2": "2-year Treasury yield (FRED)",
    "FRED-DGS10": "10-year Treasury yield (FRED)",
    "FRED-T10Y2Y": "10-year minus 2-year Treasury spread (FRED)",
    "FRED-BAMLH0A0HYM2": "ICE BofA US High Yield option-adjusted spread (FRED)",
}
MIN_PROXY_GAP_BARS = 60  # an index this many bars shorter than its ETF is "too short": the ETF stands in


def apply_proxies(series: dict[str, Series], config: Config, week_start: date) -> dict[str, str]:
    """Let an ETF stand in for its index when the index is missing, stale or much shorter (in place).

    Returns index → ETF for every proxy used.  The stand-in keeps the index's symbol (so every figure
    and chart that wants the index finds it) and names itself in its provider, which every figure's
    source line and the Sources and methods carry.
    """
    used: dict[str, str] = {}
    for index, etf in config.proxies:
        stand_in, own = series.get(etf), series.get(index)
        if stand_in is None or stand_in.last_bar < week_start:
            continue
        missing = own is None
        stale = own is not None and own.last_bar < week_start
        short = own is not None and len(stand_in.frame) - len(own.frame) >= MIN_PROXY_GAP_BARS
        if missing or stale or short:
            provider = f"{stand_in.provider}; {etf} as a proxy for {index}"
            series[index] = Series(index, stand_in.frame, provider, stand_in.origin, stand_in.fetched_at)
            used[index] = etf
    return used


@dataclass(frozen=True)
class Anomaly:
    """Why a series' week cannot be trusted (the narrative words it)."""

    kind: str  # "jump": a split-like weekly change; "gap": the change spans sessions without bars
    base: date  # the last bar before the week
    last: date  # the week's last bar
    change: float | None = None  # the weekly change in percent (a jump)
    missing: int = 0  # sessions without bars in the window (a gap)
    points: float | None = None  # the weekly change in percentage points (a yield's jump)
    split: bool = True  # a jump that a split could explain (a price; never an index level or yield)


def anomalies(
    series: Mapping[str, Series], week_start: date, roles: Mapping[str, tuple[Role, ...]] | None = None
) -> dict[str, Anomaly]:
    """Series whose week cannot be trusted: a move no market makes in a week, or the week's change
    taken across a missing week (no bar in the previous week, whose move it would add to this
    week's) or across more than :data:`~generator.analysis.thresholds.MAX_GAP_SESSIONS` sessions
    without bars.  Such a series is left out of the week (never headlined) and named with its dates.

    What counts as impossible depends on what the series is (``roles``: the universe's roles by
    symbol): a price whose |weekly change| reaches :data:`~generator.analysis.thresholds.SUSPECT_WEEK_PCT`
    (a split or bad data); a volatility index at four times or a quarter of last week's close (it
    doubles in a crisis); a yield quoted in percent that moves by two points or more.  FRED series
    are values (rates, spreads) and only checked for gaps.
    """
    roles = roles or {}
    out: dict[str, Anomaly] = {}
    previous_week = trading_days(week_start - timedelta(days=7), week_start - timedelta(days=1))
    for symbol, s in series.items():
        closes = s.closes
        # The week's bars are those from week_start on (the index is sorted dates at midnight).
        cut = int(closes.index.searchsorted(pd.Timestamp(week_start)))
        if cut == 0 or cut == len(closes):
            continue
        values = closes.to_numpy()
        base_day, last_day = closes.index[cut - 1].date(), closes.index[-1].date()
        missing = len(trading_days(base_day + timedelta(days=1), last_day)) - (len(closes) - cut)
        if missing > th.MAX_GAP_SESSIONS or (previous_week and base_day < previous_week[0]):
            out[symbol] = Anomaly("gap", base_day, last_day, missing=missing)
            continue
        if symbol.startswith("FRED-"):
            continue  # values, not prices: a yield can double
        now, prev = float(values[-1]), float(values[cut - 1])
        change = (now / prev - 1.0) * 100.0
        kinds = roles.get(symbol, ())
        if Role.RATES in kinds:
            if abs(now - prev) >= th.SUSPECT_RATE_POINTS:
                out[symbol] = Anomaly("jump", base_day, last_day, change, points=now - prev, split=False)
        elif Role.VOLATILITY in kinds:
            ratio = now / prev if prev > 0 else float("inf")
            if not 1 / th.SUSPECT_VOLATILITY_RATIO < ratio < th.SUSPECT_VOLATILITY_RATIO:
                out[symbol] = Anomaly("jump", base_day, last_day, change, split=False)
        elif abs(change) >= th.SUSPECT_WEEK_PCT:
            out[symbol] = Anomaly("jump", base_day, last_day, change=change)
    return out


def _floats(closes: pd.Series) -> pd.Series:
    """The closes as floats (cleaned closes already are: no copy then)."""
    return closes if closes.dtype == np.float64 else closes.astype(float)


def make_context(snapshot: Snapshot, config: Config, week_start: date, week_end: date) -> Context:
    series: dict[str, Series] = {}
    for symbol in sorted(snapshot.series):
        cut = snapshot.series[symbol].until(week_end)
        if len(cut.frame):
            series[symbol] = cut
    flagged = anomalies(series, week_start, {i.symbol: i.roles for i in config.universe})
    for symbol in flagged:
        del series[symbol]
    proxies = apply_proxies(series, config, week_start)
    closes = {sym: _floats(s.closes) for sym, s in series.items()}
    stale = {sym: s.last_bar for sym, s in series.items() if s.last_bar < week_start}
    missing = tuple(sym for sym in wanted_symbols(config) if sym not in series and sym not in flagged)
    bench = series.get(config.slots.benchmark)
    anchor = bench.last_bar if bench is not None and bench.last_bar >= week_start else week_end
    return Context(
        config, week_start, week_end, anchor, series, closes, stale, missing, snapshot.provider or "snapshot",
        proxies, flagged,
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Figure builders
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Maker:
    """Builds figures that share a context, symbols, window and method (their provenance)."""

    ctx: Context
    symbols: tuple[str, ...]
    window: str
    method: str

    def last(self) -> date | None:
        bars = [b for b in (self.ctx.last_bar(s) for s in self.symbols) if b is not None]
        return min(bars) if bars else None

    def __call__(
        self,
        key: str,
        label: str,
        value: float | None,
        unit: str,
        *,
        window: str | None = None,
        method: str | None = None,
        first_bar: date | None = None,
        last_bar: date | None = None,
        text: str = "",
    ) -> Figure:
        clean = None if value is None or not math.isfinite(value) else float(value)
        prov = Provenance(
            self.symbols, window or self.window, last_bar or self.last(), self.ctx.provider(self.symbols),
            method or self.method, first_bar,
        )  # fmt: skip
        return Figure(key, label, clean, Unit(unit), prov, text=text)

    def na(self, key: str, label: str, unit: str, note: str, *, stale: bool = False) -> Figure:
        """A "not available" figure saying why in ``note``."""
        prov = Provenance(
            self.symbols, self.window, self.last(), self.ctx.provider(self.symbols), self.method
        )
        return Figure(key, label, None, Unit(unit), prov, stale=stale, note=note)

    def blocked(self, key: str, label: str, unit: str) -> Figure | None:
        """A "not available" figure when any symbol is missing or stale, else None."""
        missing = [s for s in self.symbols if s not in self.ctx.series]
        if missing:
            why = (
                f"{s}: {self.ctx.flagged[s]}" if s in self.ctx.flagged else f"no data for {s}"
                for s in missing
            )
            return self.na(key, label, unit, "; ".join(why))
        stale = [s for s in self.symbols if s in self.ctx.stale]
        if stale:
            why = (
                f"{s} last bar {self.ctx.stale[s].isoformat()} is before the reporting week" for s in stale
            )
            return self.na(key, label, unit, "; ".join(why), stale=True)
        return None


def blocked(
    ctx: Context, key: str, label: str, unit: str, symbols: Sequence[str], window: str, method: str
) -> Figure | None:
    """A "not available" figure when any of ``symbols`` is missing or stale, else None."""
    return Maker(ctx, tuple(symbols), window, method).blocked(key, label, unit)


def ok(fig: Figure | None) -> bool:
    return fig is not None and fig.available and fig.value is not None


def val(fig: Figure | None) -> float:
    """The value of an available figure (callers check :func:`ok` first)."""
    assert fig is not None and fig.value is not None
    return fig.value


# ---------------------------------------------------------------------------
# Windows and returns
# ---------------------------------------------------------------------------


def base_anchor(ctx: Context, window: str) -> date:
    """The day a window's base close must fall on or before."""
    a = ctx.anchor
    if window == "1W":
        return ctx.week_start - timedelta(days=1)
    if window == "1M":
        return shift_months(a, -1)
    if window == "3M":
        return shift_months(a, -3)
    if window == "QTD":
        return date(a.year, 3 * ((a.month - 1) // 3) + 1, 1) - timedelta(days=1)
    if window == "YTD":
        return date(a.year - 1, 12, 31)
    if window == "1Y":
        return shift_months(a, -12)
    raise ValueError(f"unknown window {window!r}")


def close_on_or_before(closes: pd.Series, day: date) -> tuple[date, float] | None:
    # numpy on the index's own array: an analysis asks this about 400 times, and pandas' scalar
    # boxing (Timestamp in, Timestamp out) was most of each call.
    stamps = _stamps(closes)
    pos = int(stamps.searchsorted(np.datetime64(day, "D").astype(stamps.dtype), side="right")) - 1
    if pos < 0:
        return None
    return _day(stamps[pos]), float(closes.to_numpy()[pos])


def _stamps(closes: pd.Series) -> np.ndarray:
    """The dates of ``closes`` as the index's own datetime64 array (no copy)."""
    return closes.index.values


def _day(stamp: np.datetime64) -> date:
    """A bar's date from the index's datetime64 value (bars are dated at midnight)."""
    return stamp.astype("datetime64[D]").item()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Move:
    start: float
    end: float
    first_bar: date
    last_bar: date

    @property
    def pct(self) -> float:
        return (self.end / self.start - 1.0) * 100.0

    @property
    def bp(self) -> float:
        # Yields are quoted to a thousandth of a percent (0.1 bp), often through float32: rounded to a
        # thousandth of a bp, a change of exactly 2 or 20.5 bp is that number, not 1.9999996 or
        # 20.500009 (which read on either side of a line, or round the other way).
        return round((self.end - self.start) * 100.0, 3)


def window_move(ctx: Context, symbol: str, window: str) -> Move | str:
    """Base and end closes of ``symbol`` over ``window``; a note string when not available."""
    return series_move(ctx, ctx.closes[symbol], window, symbol)


def series_move(ctx: Context, closes: pd.Series, window: str, name: str) -> Move | str:
    """Base and end values of any dated series over ``window``; a note string when not available."""
    if closes.empty:
        return f"no data for {name}"
    anchor = base_anchor(ctx, window)
    base = close_on_or_before(closes, anchor)
    if base is None:
        return f"{name} history starts {closes.index[0].date().isoformat()}, after {anchor.isoformat()}"
    if (anchor - base[0]).days > MAX_BASE_GAP_DAYS:
        return f"{name} has no value within {MAX_BASE_GAP_DAYS} days before {anchor.isoformat()}"
    end_day, end = _day(_stamps(closes)[-1]), float(closes.to_numpy()[-1])
    return Move(base[1], end, base[0], end_day)


def return_figure(ctx: Context, symbol: str, window: str) -> Figure:
    made = ctx.made.get(("return", symbol, window))
    if made is None:
        label = f"{ctx.name(symbol)}, {WINDOW_LABELS[window]}"
        made = _move_figure(ctx, f"return.{symbol}.{window}", label, symbol, window, "pct")
        ctx.made["return", symbol, window] = made
    return made


SHOWN_DECIMALS = 2  # a return in percent and a gap in pp are shown to two decimals (generator.formatting)


def shown_difference(a: float, b: float) -> float:
    """``a - b`` for two figures the brief shows to :data:`SHOWN_DECIMALS` decimals, taken from the
    values as shown, so that the page adds up: the median member's 3.51% is 0.18 pp behind the
    index's 3.69%, as the reader subtracts them (unrounded, 3.5093 and 3.6943 differ by 0.185,
    which shows as 0.19).  Rankings against history use the unrounded values."""
    return round(round(a, SHOWN_DECIMALS) - round(b, SHOWN_DECIMALS), SHOWN_DECIMALS)


def spread_figure(ctx: Context, a: str, b: str, window: str) -> Figure:
    key = f"spread.{a}-{b}.{window}"
    label = f"{ctx.name(a)} minus {ctx.name(b)}, {WINDOW_LABELS[window]}"
    method = SPREAD_METHOD
    mk = Maker(ctx, (a, b), window, method)
    ra, rb = return_figure(ctx, a, window), return_figure(ctx, b, window)
    if not (ok(ra) and ok(rb)):
        bad = ra if not ok(ra) else rb
        return mk.na(key, label, "pp", bad.note, stale=bad.stale)
    first = min(d for d in (ra.provenance.first_bar, rb.provenance.first_bar) if d is not None)
    return mk(key, label, shown_difference(val(ra), val(rb)), "pp", first_bar=first)


def bp_change_figure(ctx: Context, symbol: str, window: str) -> Figure:
    """Change of a rate quoted in percent (Yahoo's ^IRX/^FVX/^TNX/^TYX), in basis points."""
    label = f"{ctx.name(symbol)}, change over {WINDOW_LABELS[window]}"
    return _move_figure(ctx, f"change.{symbol}.{window}", label, symbol, window, "bp")


def _move_figure(ctx: Context, key: str, label: str, symbol: str, window: str, unit: str) -> Figure:
    """A window's move of one symbol: a return in percent ("pct") or a rate change in bp ("bp")."""
    method = RETURN_METHOD if unit == "pct" else BP_CHANGE_METHOD
    mk = Maker(ctx, (symbol,), window, method)
    stop = mk.blocked(key, label, unit)
    move = window_move(ctx, symbol, window) if stop is None else ""
    if not isinstance(move, Move):
        return stop or mk.na(key, label, unit, move)
    value = move.pct if unit == "pct" else move.bp
    return mk(key, label, value, unit, last_bar=move.last_bar, first_bar=move.first_bar)


def level_figure(ctx: Context, key: str, symbol: str, unit: str, label: str, method: str) -> Figure:
    mk = Maker(ctx, (symbol,), "last close", method)
    return mk.blocked(key, label, unit) or mk(key, label, float(ctx.closes[symbol].iloc[-1]), unit)


# ---------------------------------------------------------------------------
# Series helpers
# ---------------------------------------------------------------------------


def ratio_series(ctx: Context, a: str, b: str) -> pd.Series:
    """``a`` / ``b`` on the dates both have."""
    left, right = ctx.closes[a], ctx.closes[b]
    if left.index.equals(right.index):  # the usual case: the same sessions; no join to make
        x, y = left.to_numpy(dtype=float), right.to_numpy(dtype=float)
        both = ~(np.isnan(x) | np.isnan(y))
        name = left.name if left.name == right.name else None
        with np.errstate(divide="ignore", invalid="ignore"):  # as pandas divides: x / 0 is inf
            ratio = x[both] / y[both]
        return pd.Series(ratio, index=left.index[both], name=name)
    joined = pd.concat([left, right], axis=1, join="inner").dropna()
    return joined.iloc[:, 0] / joined.iloc[:, 1]


def one_year(series: SeriesOrFrame, anchor: date) -> SeriesOrFrame:
    """Bars dated after ``anchor`` minus one calendar year."""
    start = pd.Timestamp(shift_months(anchor, -12))
    if series.index.is_monotonic_increasing:  # dates in order (as cleaned): a cut by position
        return series.iloc[int(series.index.searchsorted(start, side="right")) :]
    return series.loc[series.index > start]


# ---------------------------------------------------------------------------
# Reading helpers
# ---------------------------------------------------------------------------


def row(label: str, *cells: Cell) -> tuple[Cell, ...]:
    """One table row: a text label, then figure (or text) cells."""
    return (label, *cells)
