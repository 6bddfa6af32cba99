"""How figures read as text: one place, used by the narrative and by the templates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from generator.models import Figure, Prose, SourceHealth, kind_word

NOT_AVAILABLE = "not available"
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def fmt(figure: Figure, *, signed: bool | None = None) -> str:
    """Format a figure's value with its unit: ``+1.23%``, ``-45 bp``, ``4.05%``, ``2,345.67``.

    A stale figure or a missing value reads "not available" (stale figures are never
    shown as this week's).
    """
    if figure.stale:
        return f"{NOT_AVAILABLE} (stale)"
    if figure.unit in ("date", "text"):
        return figure.text or NOT_AVAILABLE
    if figure.value is None:
        return NOT_AVAILABLE
    return fmt_value(figure.value, figure.unit, signed=signed)


def fmt_value(value: float, unit: str, *, signed: bool | None = None) -> str:
    text = _fmt_value(value, unit, signed=signed)
    # A value that rounds to zero has no sign: "0.00%", not "+0.00%" or "-0.00%".
    if text[:1] in "+-" and not any(c in "123456789" for c in text):
        return text[1:]
    return text


def _fmt_value(value: float, unit: str, *, signed: bool | None = None) -> str:
    sign_default = unit in ("pct", "pp", "bp", "points", "index_points")
    use_sign = sign_default if signed is None else signed
    plus = "+" if use_sign else ""
    if unit == "pct":
        return f"{value:{plus},.2f}%"
    if unit == "pp":
        return f"{value:{plus},.2f} pp"
    if unit == "bp":
        return f"{value:{plus},.0f} bp"
    if unit == "points":
        return f"{value:{plus},.2f} pts"
    if unit == "index_points":  # an oscillator is shown to its tenth (RSI 70.4), and so is its change
        return f"{value:{plus},.1f} pts"
    if unit == "yield":
        return f"{value:{plus}.2f}%"
    if unit == "level":
        return f"{value:{plus},.2f}"
    if unit == "ratio":
        return f"{value:{plus}.4f}"
    if unit == "x":
        return f"{value:{plus}.2f}×"
    if unit in ("days", "weeks", "count"):
        word = {"days": " days", "weeks": " weeks", "count": ""}[unit]
        n = round(value)
        if unit == "days" and n == 1:
            word = " day"
        if unit == "weeks" and n == 1:
            word = " week"
        return f"{n:{plus},d}{word}"
    if unit == "pctile":
        n = percentile_rank(value)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix} percentile"
    if unit == "index":
        return f"{value:.1f}"
    return f"{value:{plus},.2f}"


def percentile_rank(value: float) -> int:
    """A percentile as a whole number that never overstates: 100 only for the window's top value
    itself (99.6 is the 99th), 0 never (the last value counts itself, so the share is above 0)."""
    n = round(value)
    if value < 100:
        n = min(n, 99)
    return max(n, 1) if value > 0 else n


def fmt_date(day: date | None) -> str:
    return day.isoformat() if day else NOT_AVAILABLE


MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _month_day(day: date) -> str:
    """``November 20``: locale-independent."""
    return f"{MONTH_NAMES[day.month - 1]} {day.day}"


def fmt_long_date(day: date) -> str:
    """``November 20, 2026``: locale-independent."""
    return f"{_month_day(day)}, {day.year}"


def fmt_week(start: date, end: date, as_of: date) -> str:
    """The week and the close its data runs to, each date said once, for a reader's eye:
    ``November 16–20, 2026, data to Friday's close``; across months ``October 26 – November 1, 2026``;
    a week cut short by a holiday ``…, data to Wednesday's close (November 25)``."""
    if start.year != end.year:
        span = f"{fmt_long_date(start)} – {fmt_long_date(end)}"
    elif start.month != end.month:
        span = f"{_month_day(start)} – {fmt_long_date(end)}"
    else:
        span = f"{_month_day(start)}–{end.day}, {end.year}"
    if not start <= as_of <= end:
        return f"{span}, data to the close of {fmt_long_date(as_of)}"
    close = f"data to {WEEKDAY_NAMES[as_of.weekday()]}'s close"
    return f"{span}, {close}" if as_of == end else f"{span}, {close} ({_month_day(as_of)})"


def source_line(figure: Figure) -> str:
    """``^RUT · 1W · last bar 2026-11-20 · Yahoo Finance (yfinance)``"""
    p = figure.provenance
    parts = [", ".join(p.symbols) or "—", p.window, f"last bar {fmt_date(p.last_bar)}", p.provider]
    return " · ".join(part for part in parts if part)


def plain(p: Prose) -> str:
    """Prose as plain text: numbers as the narrative worded them, no footnote markers."""
    return "".join(part if isinstance(part, str) else part.text for part in p)


def count_of(n: int, kind: str) -> str:
    """``no feeds``, ``1 symbol``, ``31 symbols``, ``4 series``: a count of sources of one kind."""
    return f"no {kind_word(kind, n)}" if n == 0 else f"{n:,} {kind_word(kind, n)}"


def counted_sources(rows: Sequence[SourceHealth]) -> str:
    """``32 symbols and 8 feeds``; series and other sources are counted when present.

    A source is counted once however many rows it has (a failed symbol above the sample's stand-in).
    """
    sources = {(r.kind, r.name) for r in rows}
    counts = {kind: sum(1 for k, _ in sources if k == kind) for kind in ("symbol", "feed", "series")}
    others = len(sources) - sum(counts.values())
    parts = [count_of(counts["symbol"], "symbol"), count_of(counts["feed"], "feed")]
    parts += [count_of(counts["series"], "series")] if counts["series"] else []
    parts += [f"{others:,} other source{'' if others == 1 else 's'}"] if others else []
    return ", ".join(parts[:-1]) + f" and {parts[-1]}"
