"""Citations: the "Sources and methods" and "Source health" sections, computed from the brief.

Every figure's footnote marker points to one data source row: the symbols, provider and
last bar it uses (its window is in its label).  Methods are listed once per distinct
sentence, with the windows they are used for.  Source health puts problems first and
condenses the healthy rows.  Templates only format these values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from generator import formatting
from generator.models import Brief, Figure, Origin, Provenance, SourceHealth, SourceStatus

SourceKey = tuple[tuple[str, ...], str, "date | None"]  # (symbols, provider, last bar)
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class SourceRow:
    """One data source: the symbols, provider and last bar that a group of figures use."""

    number: int  # the footnote marker of every figure that uses it
    symbols: tuple[str, ...]
    name: str  # display name of a single symbol, when known
    provider: str
    first_bar: str  # the earliest first bar its figures say they use, or "" when none says
    last_bar: str
    figures: int  # how many figures in the brief cite it
    stale: bool  # any of its figures is stale
    windows: tuple[str, ...] = ()  # its figures' windows, shortest first ("1W", "YTD", "history")

    @property
    def label(self) -> str:
        return ", ".join(self.symbols) or "—"


@dataclass(frozen=True)
class MethodRow:
    """One distinct method sentence and the windows it is used for."""

    method: str
    windows: tuple[str, ...]
    used_for: str = ""  # the first figure it computes, by label ("CBOE Volatility Index")
    distinct: int = 1  # distinct figures (keys) it computes
    kind: str = ""  # what kind of figure it computes, in words ("Returns"), when known

    @property
    def title(self) -> str:
        """What the method computes: ``Returns: 93 figures such as Russell 2000, week (1W, 1M, …)``,
        ``Russell 2000, record close (history)`` for one figure."""
        windows = f" ({', '.join(self.windows)})"
        if self.distinct == 1:
            return f"{self.used_for}{windows}"
        kind = f"{self.kind}: " if self.kind else ""
        return f"{kind}{self.distinct} figures such as {self.used_for}{windows}"

    @property
    def short_title(self) -> str:
        """The title in the PDF's list, where lines are dear: ``Returns (1W, YTD)``; the full title
        where the kind is not known."""
        return f"{self.kind} ({', '.join(self.windows)})" if self.kind else self.title


# What kind of figure a method computes, by the first part of its figures' keys ("return.^RUT.1W").
KINDS = {
    "return": "Returns",
    "spread": "Gaps between two returns",
    "index": "Breadth and attribution of the index's members",
    "change": "Changes of rates",
    "yield": "Yields",
    "wow": "Changes since last week",
    "fundamentals": "Members' valuation",
    "rs": "Relative strength",
    "credit": "Credit",
    "ma50": "Distance from the 50-day average",
    "ma200": "Distance from the 200-day average",
    "rsi14": "RSI",
    "vix": "Volatility indexes",
    "rvx": "Volatility indexes",
    "event": "Records",
    "drawdown": "Drawdowns",
}


def _kind(group: Sequence[Figure]) -> str:
    """The kind of the group's figures, from their keys' first part ("lastweek." a week earlier)."""
    if all(f.key.endswith(".history") for f in group):  # newsvalue.with_history
        return "Claims measured on history"
    kinds = {_kind_of(f.key.removeprefix("lastweek.").split(".")) for f in group}
    return kinds.pop() if len(kinds) == 1 else ""


def _kind_of(parts: Sequence[str]) -> str:
    """A key's kind, finer where one first part covers figures computed more than one way."""
    first, second, last = parts[0], parts[1] if len(parts) > 1 else "", parts[-1]
    if first == "yield" and second.startswith("FRED-"):
        return "Yields from FRED"
    if first == "valuation":
        relative = "Relative P/E of the funds" if "-" in second else ""
        return relative or {"trailingPE": "Funds' trailing P/E", "priceToBook": "Funds' price to book"}.get(
            last, ""
        )
    if first == "index" and second == "members":
        return "The priced members' total"
    if first == "wow" and second == "yield":
        return "Yield changes since last week"
    return KINDS.get(first, "")


@dataclass(frozen=True)
class Sources:
    """The brief's data sources and methods; ``ref`` gives a figure's footnote number."""

    rows: tuple[SourceRow, ...]  # numbered 1.. in reading order of first use
    methods: tuple[MethodRow, ...]  # by shortest window, then in reading order of first use
    numbers: Mapping[SourceKey, int]

    def ref(self, figure: Figure) -> int:
        """The number of the source row ``figure`` points to."""
        return self.numbers[source_key(figure.provenance)]

    def row_ref(self, row: Sequence[Figure | str]) -> int | None:
        """The one source every figure of a table row uses, when the row starts with a text label.

        Print marks such a row once, on its label, instead of every cell.
        """
        refs = {self.ref(cell) for cell in row if isinstance(cell, Figure)}
        return refs.pop() if len(refs) == 1 and row and isinstance(row[0], str) else None


def source_key(provenance: Provenance) -> SourceKey:
    return (provenance.symbols, provenance.provider, provenance.last_bar)


_WINDOW_ORDER = (
    "1D", "last close", "daily", "1W", "week over week", "weekly", "1M", "monthly",
    "3M", "QTD", "YTD", "1Y", "52W",
)  # fmt: skip


def _window_rank(window: str) -> tuple[int, int, str]:
    """Short windows first: 1D, 1W, 1M, 3M, QTD, YTD, 1Y, 52W, then 14d, 50d, 200d..., then the rest."""
    if window in _WINDOW_ORDER:
        return (_WINDOW_ORDER.index(window), 0, window)
    days = re.fullmatch(r"(\d+)d", window)
    return (len(_WINDOW_ORDER), int(days.group(1)), window) if days else (len(_WINDOW_ORDER) + 1, 0, window)


def sources(brief: Brief, names: Mapping[str, str] | None = None, *, printed: bool = False) -> Sources:
    """Data sources (symbols, provider, last bar) numbered in reading order of first use, and methods.

    Methods are grouped by their shortest window (so a reader who knows a figure's window from
    its label finds its method among a few), then in reading order.  ``printed``: the sources of
    the figures the PDF shows (its prose; the full tables are on the web), numbered for it.
    """
    figures: dict[SourceKey, list[Figure]] = {}
    methods: dict[str, list[Figure]] = {}
    for figure in brief.figures(printed=printed):
        figures.setdefault(source_key(figure.provenance), []).append(figure)
        methods.setdefault(figure.provenance.method, []).append(figure)
    rows = tuple(_source_row(n, key, group, names or {}) for n, (key, group) in enumerate(figures.items(), 1))
    method_rows = sorted(
        (
            MethodRow(
                method,
                tuple(sorted({f.provenance.window for f in group}, key=_window_rank)),
                group[0].label,
                len({f.key for f in group}),
                _kind(group),
            )
            for method, group in methods.items()
        ),
        key=lambda m: _window_rank(m.windows[0]),  # stable: reading order within a window
    )
    return Sources(rows, tuple(method_rows), {key: n for n, key in enumerate(figures, 1)})


def _source_row(number: int, key: SourceKey, group: list[Figure], names: Mapping[str, str]) -> SourceRow:
    symbols, provider, last_bar = key
    firsts = [f.provenance.first_bar for f in group if f.provenance.first_bar is not None]
    name = names.get(symbols[0], "") if len(symbols) == 1 else ""
    return SourceRow(
        number=number,
        symbols=symbols,
        name="" if name == symbols[0] else name,
        provider=provider,
        first_bar=formatting.fmt_date(min(firsts)) if firsts else "",
        last_bar=formatting.fmt_date(last_bar),
        figures=len(group),
        stale=any(f.stale for f in group),
        windows=tuple(sorted({f.provenance.window for f in group}, key=_window_rank)),
    )


def superscript(number: int) -> str:
    """``12`` → ``¹²``: a footnote marker as plain text (no element to lay out in print)."""
    return str(number).translate(_SUPERSCRIPT)


# ---------------------------------------------------------------------------
# Source health
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthGroup:
    """Healthy rows of one kind, status and origin, condensed to one line."""

    heading: str  # "32 symbols, sample"
    origin: Origin
    newest: str  # shared newest date, or "" when the members differ
    count: str  # shared count ("1,018 bars each"), or "" when the members differ
    members: tuple[str, ...]  # "IWM", or "cnbc-markets (6 items, 2026-11-20)" where they differ


@dataclass(frozen=True)
class HealthRow:
    """A row of the Source health table: one source, or several that failed alike.

    Problems that share their kind, status, origin, count, newest date and reason (a host that
    could not be reached, for every symbol asked of it) are one row naming them all:
    ``kind`` is then "31 symbols" and ``name`` lists them; ``error`` is the shared reason.
    """

    kind: str
    name: str
    status: SourceStatus
    origin: Origin
    count: int
    newest: date | None
    error: str
    problem: bool
    sources: int = 1  # how many sources the row stands for
    unit: str = "items"  # what ``count`` counts: bars, observations or items

    @property
    def details(self) -> str:
        """``origin cache · 1,018 bars · newest 2026-11-13`` (empty for a source that gave nothing):
        the print's line after the status."""
        parts = [f"origin {self.origin}"] if self.origin != Origin.NONE else []
        parts += [f"{self.count:,} {self.unit}"] if self.count else []
        parts += [f"newest {self.newest.isoformat()}"] if self.newest else []
        return " · ".join(parts)


@dataclass(frozen=True)
class Health:
    rows: tuple[HealthRow, ...]  # every row, problems first
    problems: tuple[HealthRow, ...]  # failed, stale, or reporting an error; alike ones merged
    groups: tuple[HealthGroup, ...]  # the healthy rows, condensed
    summary: str  # "32 symbols and 8 feeds: no problems."


def health(rows: Sequence[SourceHealth]) -> Health:
    """The source-health rows: problems first (those failed alike as one row), healthy ones grouped
    by kind, status and origin."""
    problems = merged_problems(rows)
    healthy = tuple(r for r in rows if not is_problem(r))
    grouped: dict[tuple[str, SourceStatus, Origin], list[SourceHealth]] = {}
    for row in healthy:
        grouped.setdefault((row.kind, row.status, row.origin), []).append(row)
    counted = formatting.counted_sources(rows)
    failing = sum(p.sources for p in problems)
    verdict = f"{formatting.count_of(failing, 'problem')}, listed first." if problems else "no problems."
    summary = f"{counted}: {verdict}" if rows else "No source health was recorded with this data."
    return Health(
        rows=problems + tuple(_row(r, problem=False) for r in healthy),
        problems=problems,
        groups=tuple(_health_group(key, members) for key, members in grouped.items()),
        summary=summary,
    )


# A reason that names the source's own host is alike for sources on other hosts: offline, every feed
# "cannot resolve host <its host>: Name or service not known" (eight lines, a page of the fallback's PDF).
_OWN_HOST = re.compile(r"\b(cannot resolve) host \S+?:")


def _alike(reason: str) -> str:
    return _OWN_HOST.sub(r"\1 their hosts:", reason)


def merged_problems(rows: Sequence[SourceHealth]) -> tuple[HealthRow, ...]:
    """The problem rows in their order, those alike in all but their name (and their own host, in a
    reason that names it) as one, at the first's place."""
    alike: dict[tuple[object, ...], list[SourceHealth]] = {}
    for r in rows:
        if is_problem(r):
            alike.setdefault((r.kind, r.status, r.origin, r.count, r.newest, _alike(r.reason)), []).append(r)
    merged = []
    for members in alike.values():
        reason = _alike(members[0].reason)
        if len(members) == 1:
            merged.append(_row(members[0], problem=True))
            continue
        first = members[0]
        kind = formatting.count_of(len(members), first.kind)
        names = ", ".join(m.name for m in members)
        shared = (first.status, first.origin, first.count, first.newest, reason)
        unit = _unit(first.kind)
        merged.append(HealthRow(kind, names, *shared, problem=True, sources=len(members), unit=unit))
    return tuple(merged)


def _row(r: SourceHealth, *, problem: bool) -> HealthRow:
    shown = (r.kind, r.name, r.status, r.origin, r.count, r.newest, r.reason)  # the name is beside it
    return HealthRow(*shown, problem, unit=_unit(r.kind))


def _unit(kind: str) -> str:
    return {"symbol": "bars", "series": "observations"}.get(kind, "items")


def is_problem(row: SourceHealth) -> bool:
    """Failed, stale or erroring sources: listed first, with their errors."""
    return not row.healthy


def _health_group(key: tuple[str, SourceStatus, Origin], rows: list[SourceHealth]) -> HealthGroup:
    unit = _unit(key[0])
    newest = {_day(r.newest) for r in rows}
    counts = {r.count for r in rows}
    members = []
    for r in rows:
        details = ([f"{r.count:,} {unit}"] if len(counts) > 1 else []) + (
            [_day(r.newest)] if len(newest) > 1 else []
        )
        members.append(f"{r.name} ({', '.join(details)})" if details else r.name)
    return HealthGroup(
        heading=f"{formatting.count_of(len(rows), key[0])}, {key[1]}",
        origin=key[2],
        newest=newest.pop() if len(newest) == 1 else "",
        count=f"{counts.pop():,} {unit}{' each' if len(rows) > 1 else ''}" if len(counts) == 1 else "",
        members=tuple(members),
    )


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"
