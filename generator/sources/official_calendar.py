"""What is scheduled next week, from official sources only.

- Federal Reserve: ``json/calendar.json`` (starts with a UTF-8 BOM): ``{"events": [{"title",
  "type", "month": "YYYY-MM", "days": "28" or "27-28", "time": "2:00 p.m.", ...}, ...]}``.
  FOMC meetings (dated on the decision day), FOMC minutes and the Beige Book are kept.
- BLS: the release schedule ICS (``DTSTART;TZID=US-Eastern:20260807T083000``, folded lines,
  ``\\,`` escapes).  It refuses non-browser clients, hence :data:`BROWSER_USER_AGENT`.
  CPI, the Employment Situation and PPI are kept.
- BEA: ``release_dates.json``, ``{"<release name>": {"release_dates": ["2026-05-28T08:30:00-04:00",
  ...]}, ...}``.  GDP and Personal Income and Outlays (PCE) are kept.

Only items dated within the requested window are returned, each with its source's name and
URL; nothing is carried over or estimated.  :func:`gather_calendar` reports a source that
fails by name instead of failing the whole calendar.

:class:`CalendarProvider` is the provider (see :mod:`generator.sources.providers`): the week
after the reporting week, from the sources of ``calendar.official`` plus the Russell
reconstitution dates of ``calendar.russell`` that fall in it, into ``Snapshot.events``; each
source's last good file is kept in ``calendar/`` for ``--data cache``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from generator.errors import SourceError
from generator.fsutil import write_atomic
from generator.models import CalendarDate, Origin, ScheduledEvent, SourceHealth, SourceStatus
from generator.sources.ishares import decode_download
from generator.sources.providers import Deadline, ProviderContext, ProviderResult

log = logging.getLogger(__name__)

EASTERN = ZoneInfo("America/New_York")
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)

FED = "Federal Reserve Board"
FED_URL = "https://www.federalreserve.gov/json/calendar.json"
FED_PAGE = "https://www.federalreserve.gov/newsevents/calendar.htm"
BLS = "Bureau of Labor Statistics"
BLS_URL = "https://www.bls.gov/schedule/news_release/bls.ics"
BLS_PAGE = "https://www.bls.gov/schedule/news_release/"
BEA = "Bureau of Economic Analysis"
BEA_URL = "https://apps.bea.gov/API/signup/release_dates.json"
BEA_PAGE = "https://www.bea.gov/news/schedule"

FED_EVENTS = {"fomc meeting": "FOMC", "fomc minutes": "FOMC_MINUTES", "beige book": "BEIGE_BOOK"}
BLS_RELEASES = {
    "consumer price index": "CPI",
    "employment situation": "EMPLOYMENT",
    "producer price index": "PPI",
}
BEA_RELEASES = {"gross domestic product": "GDP", "personal income and outlays": "PCE"}


@dataclass(frozen=True, order=True)
class CalendarEvent:
    date: date
    title: str  # as the source writes it
    source_name: str
    source_url: str  # the source's public schedule page
    kind: str = ""  # FOMC, FOMC_MINUTES, BEIGE_BOOK, CPI, EMPLOYMENT, PPI, GDP, PCE
    time_et: str | None = None  # "08:30", Eastern time, when the source gives one


@dataclass(frozen=True)
class CalendarResult:
    events: tuple[CalendarEvent, ...]  # sorted by date, then title
    failed: tuple[tuple[str, str], ...]  # (source name, reason) for each source that failed


Parser = Callable[[bytes, date, date], tuple[CalendarEvent, ...]]
CalendarFetch = Callable[[str, str | None], bytes]
"""``fetch(url, user_agent) -> body``; ``user_agent`` None means the project's own."""


@dataclass(frozen=True)
class CalendarSource:
    name: str
    url: str
    parse: Parser
    user_agent: str | None = None
    key: str = ""  # its name in feeds.yaml (calendar.official) and its cache file's stem


def parse_fed_calendar(data: bytes, start: date, end: date) -> tuple[CalendarEvent, ...]:
    """FOMC meetings, minutes and Beige Books dated ``start``..``end`` in the Fed's calendar.json."""
    document = _json(data, FED)
    rows = document.get("events") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise SourceError(FED, "calendar.json has no 'events' list")
    events, bad = [], 0
    for row in rows:
        title = str(row.get("title", "")).strip() if isinstance(row, dict) else ""
        kind = FED_EVENTS.get(" ".join(title.lower().split()))
        if not title:
            bad += 1
            continue
        if kind is None:
            continue
        day = _fed_day(row)
        if day is None:
            bad += 1
        elif start <= day <= end:
            time = _clock(str(row.get("time", "")))
            events.append(CalendarEvent(day, title, FED, FED_PAGE, kind, time))
    _report_bad(FED, bad)
    return _unique(events)


def parse_bls_ics(data: bytes, start: date, end: date) -> tuple[CalendarEvent, ...]:
    """CPI, Employment Situation and PPI releases dated ``start``..``end`` in the BLS ICS."""
    text = decode_download(data, BLS, "the calendar (blocked?)")
    if "BEGIN:VCALENDAR" not in text:
        raise SourceError(BLS, "not an iCalendar file (no BEGIN:VCALENDAR)")
    events, bad = [], 0
    for props in _vevents(text):
        title = props.get("SUMMARY", ("", ""))[1].strip()
        kind = BLS_RELEASES.get(" ".join(title.lower().split()))
        if kind is None:
            continue
        when = _ics_start(*props.get("DTSTART", ("", "")))
        if when is None:
            bad += 1
            continue
        day, time = when
        if start <= day <= end:
            events.append(CalendarEvent(day, title, BLS, BLS_PAGE, kind, time))
    _report_bad(BLS, bad)
    return _unique(events)


def parse_bea_release_dates(data: bytes, start: date, end: date) -> tuple[CalendarEvent, ...]:
    """GDP and Personal Income and Outlays releases dated ``start``..``end`` in BEA's release_dates.json."""
    document = _json(data, BEA)
    if not isinstance(document, dict):
        raise SourceError(BEA, "release_dates.json is not an object of releases")
    events, bad = [], 0
    for name, entry in document.items():
        kind = BEA_RELEASES.get(" ".join(str(name).lower().split()))
        if kind is None:
            continue
        stamps = entry.get("release_dates") if isinstance(entry, dict) else None
        if not isinstance(stamps, list):
            bad += 1
            continue
        for stamp in stamps:
            when = _iso_eastern(stamp)
            if when is None:
                bad += 1
            elif start <= when.date() <= end:
                title = str(name).strip()
                events.append(CalendarEvent(when.date(), title, BEA, BEA_PAGE, kind, f"{when:%H:%M}"))
    _report_bad(BEA, bad)
    return _unique(events)


SOURCES: tuple[CalendarSource, ...] = (
    CalendarSource(FED, FED_URL, parse_fed_calendar, key="fed"),
    CalendarSource(BLS, BLS_URL, parse_bls_ics, BROWSER_USER_AGENT, key="bls"),
    CalendarSource(BEA, BEA_URL, parse_bea_release_dates, key="bea"),
)


def gather_calendar(
    fetch: CalendarFetch, start: date, end: date, sources: Sequence[CalendarSource] = SOURCES
) -> CalendarResult:
    """Every source's events in ``start``..``end``; a source that fails is listed in ``failed``."""
    events: list[CalendarEvent] = []
    failed: list[tuple[str, str]] = []
    for source in sources:
        try:
            events.extend(source.parse(fetch(source.url, source.user_agent), start, end))
        except SourceError as exc:
            log.warning("%s: calendar not available: %s", source.name, exc.message)
            failed.append((source.name, exc.message))
    return CalendarResult(tuple(sorted(set(events))), tuple(failed))


# --- helpers ----------------------------------------------------------------------------


def _json(data: bytes, source: str) -> object:
    try:
        return json.loads(decode_download(data, source, "the calendar (blocked?)"))
    except json.JSONDecodeError as exc:
        raise SourceError(source, f"not valid JSON ({exc.msg}, line {exc.lineno})") from None


def _fed_day(row: Mapping[str, object]) -> date | None:
    """The meeting's last day ("27-28" → 28): the decision day.  A range across months is refused."""
    month = re.fullmatch(r"(\d{4})-(\d{1,2})", str(row.get("month", "")).strip())
    days = [int(d) for d in re.findall(r"\d+", str(row.get("days", "")))]
    if month is None or not days or days != sorted(days):
        return None
    try:
        return date(int(month[1]), int(month[2]), days[-1])
    except ValueError:
        return None


def _clock(text: str) -> str | None:
    """ "2:00 p.m." → "14:00"; None when there is no time."""
    found = re.fullmatch(r"(\d{1,2}):(\d{2})\s*([ap])\.?\s*m\.?", text.strip().lower())
    if found is None:
        return None
    hour = int(found[1]) % 12 + (12 if found[3] == "p" else 0)
    return f"{hour:02d}:{found[2]}"


def _vevents(text: str) -> Iterator[dict[str, tuple[str, str]]]:
    """Each VEVENT's properties: name → (parameters, unescaped value); folded lines joined."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    props: dict[str, tuple[str, str]] | None = None
    for line in unfolded.splitlines():
        if line == "BEGIN:VEVENT":
            props = {}
        elif line == "END:VEVENT" and props is not None:
            yield props
            props = None
        elif props is not None and ":" in line:
            head, value = line.split(":", 1)
            name, _, params = head.partition(";")
            props[name.upper()] = (params, _unescape(value))


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\,;nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def _ics_start(params: str, value: str) -> tuple[date, str | None] | None:
    """(date, "HH:MM" Eastern) of a DTSTART; local times are taken as Eastern (BLS's US-Eastern)."""
    value = value.strip()
    try:
        if re.fullmatch(r"\d{8}", value):
            return datetime.strptime(value, "%Y%m%d").date(), None
        stamp = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    except ValueError:
        return None
    if value.endswith("Z"):
        stamp = stamp.replace(tzinfo=ZoneInfo("UTC")).astimezone(EASTERN)
    elif "TZID" in params.upper() and not re.search(r"(?i)tzid=(us-eastern|america/new_york)", params):
        return None
    return stamp.date(), f"{stamp:%H:%M}"


def _iso_eastern(stamp: object) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(stamp).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(EASTERN) if when.tzinfo else when


def _report_bad(source: str, bad: int) -> None:
    if bad:
        log.warning("%s: skipped %d calendar entries without a readable date", source, bad)


def _unique(events: list[CalendarEvent]) -> tuple[CalendarEvent, ...]:
    return tuple(sorted(set(events)))


# --- the provider -------------------------------------------------------------------------------------

# How the brief names each source and each kind of release.
SHORT_NAMES = {FED: "Federal Reserve", BLS: "BLS", BEA: "BEA"}
TITLES = {
    "FOMC": "FOMC rate decision",
    "FOMC_MINUTES": "FOMC minutes",
    "BEIGE_BOOK": "Beige Book",
    "CPI": "Consumer Price Index (CPI)",
    "EMPLOYMENT": "Employment Situation",
    "PPI": "Producer Price Index (PPI)",
    "GDP": "Gross domestic product (GDP)",
    "PCE": "Personal income and outlays (PCE)",
}
RUSSELL = "FTSE Russell"


def next_week(week_start: date, week_end: date) -> tuple[date, date]:
    """The week after the reporting week: what "scheduled next week" covers."""
    return week_start + timedelta(days=7), week_end + timedelta(days=7)


def russell_events(dates: tuple[CalendarDate, ...], start: date, end: date) -> tuple[ScheduledEvent, ...]:
    """The configured reconstitution dates inside ``start``..``end`` (never one of another year)."""
    return tuple(ScheduledEvent(d.day, d.title, RUSSELL, d.url) for d in dates if start <= d.day <= end)


def scheduled(event: CalendarEvent) -> ScheduledEvent:
    title = TITLES.get(event.kind, event.title)
    return ScheduledEvent(event.date, title, SHORT_NAMES.get(event.source_name, event.source_name),
                          event.source_url, event.time_et or "")  # fmt: skip


class CalendarProvider:
    """Next week's official calendar: Fed, BLS and BEA files, and the configured Russell dates.

    ``sources`` replaces :data:`SOURCES` (tests serve them on loopback).
    """

    name = "calendar"
    cache_folder = "calendar"
    needs: tuple[str, ...] = ()

    def __init__(self, sources: Sequence[CalendarSource] = SOURCES) -> None:
        self.sources = tuple(sources)

    def fetch(self, context: ProviderContext) -> ProviderResult:
        settings = context.config.calendar
        start, end = next_week(context.week_start, context.week_end)
        sources = [s for s in self.sources if s.key in settings.official]
        download = context.downloader("calendar", settings.timeout, Deadline(settings.deadline, "calendar"))
        keep = _Keep(context.cache_dir, None if context.offline else download, sources)
        result = gather_calendar(keep.fetch, start, end, sources)
        events = tuple(scheduled(e) for e in result.events) + russell_events(settings.russell, start, end)
        failed = {name: why for name, why in result.failed}
        keep.commit(sources, failed)
        health = [_row(s.name, result.events, failed.get(s.name), context.offline) for s in sources]
        if settings.russell:
            count = sum(1 for e in events if e.source == RUSSELL)
            health.append(SourceHealth("provider", "Russell reconstitution dates", SourceStatus.OK,
                                       Origin.LOCAL, count, provider=RUSSELL))  # fmt: skip
        failures = tuple((SHORT_NAMES.get(name, name), why) for name, why in result.failed)
        return ProviderResult(
            "official calendars", events=events, health=tuple(health), calendar_failures=failures
        )


class _Keep:
    """Downloads each calendar file and keeps the last good one; offline, reads what was kept."""

    def __init__(
        self, folder: Path, download: CalendarFetch | None, sources: Sequence[CalendarSource]
    ) -> None:
        self.folder = folder
        self.download = download
        self.keys = {s.url: s.key or "other" for s in sources}
        self.fetched: dict[Path, bytes] = {}

    def path(self, url: str) -> Path:
        return self.folder / f"{self.keys.get(url, 'other')}{Path(url.split('?')[0]).suffix or '.txt'}"

    def fetch(self, url: str, user_agent: str | None) -> bytes:
        path = self.path(url)
        if self.download is None:
            try:
                return path.read_bytes()
            except OSError:
                raise SourceError(url, "not cached") from None
        body = self.download(url, user_agent)
        self.fetched[path] = body
        return body

    def commit(self, sources: list[CalendarSource], failed: dict[str, str]) -> None:
        """Keep the files of the sources that were read without a problem.

        A file that cannot be written (a read-only cache) is a WARNING naming it: this run's
        events still stand, only ``--data cache`` lacks the newest copy.
        """
        for source in sources:
            path = self.path(source.url)
            body = self.fetched.get(path)
            if body is not None and source.name not in failed:
                try:
                    write_atomic(path, body)
                except OSError as exc:
                    log.warning(
                        "%s: cannot keep the calendar file %s (%s)", source.name, path, exc.strerror or exc
                    )


def _row(name: str, events: tuple[CalendarEvent, ...], problem: str | None, offline: bool) -> SourceHealth:
    count = sum(1 for e in events if e.source_name == name)
    label = f"{SHORT_NAMES.get(name, name)} calendar"
    if problem is not None:
        return SourceHealth("provider", label, SourceStatus.FAILED, Origin.NONE, error=problem, provider=name)
    status, origin = (SourceStatus.CACHED, Origin.CACHE) if offline else (SourceStatus.OK, Origin.LIVE)
    return SourceHealth("provider", label, status, origin, count, provider=name)
