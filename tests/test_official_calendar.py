"""Next week's official calendar: the Fed's calendar.json, the BLS ICS and BEA's release_dates.json."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from feedserver import FeedServer

from generator.errors import SourceError
from generator.models import NetworkSettings
from generator.sources import http
from generator.sources.official_calendar import (
    BEA,
    BEA_URL,
    BLS,
    BLS_URL,
    BROWSER_USER_AGENT,
    FED,
    FED_URL,
    CalendarEvent,
    gather_calendar,
    parse_bea_release_dates,
    parse_bls_ics,
    parse_fed_calendar,
)

DATA = Path(__file__).parent / "data" / "issue8"
FED_JSON = (DATA / "fed_calendar.json").read_bytes()
BLS_ICS = (DATA / "bls.ics").read_bytes()
BEA_JSON = (DATA / "bea_release_dates.json").read_bytes()
WEEK = (date(2026, 10, 26), date(2026, 10, 30))


def brief(events: tuple[CalendarEvent, ...]) -> list[tuple[str, str, str | None]]:
    return [(e.date.isoformat(), e.kind, e.time_et) for e in events]


def test_fed_calendar_with_bom(caplog: pytest.LogCaptureFixture) -> None:
    assert FED_JSON.startswith(b"\xef\xbb\xbf")
    with caplog.at_level(logging.WARNING):
        events = parse_fed_calendar(FED_JSON, *WEEK)
    assert brief(events) == [("2026-10-28", "FOMC", "14:00")]
    assert events[0].title == "FOMC Meeting"
    assert events[0].source_name == FED
    assert events[0].source_url.startswith("https://www.federalreserve.gov/")
    # the row without a title and the row with month "2026-1O" are reported, not guessed
    assert [r.getMessage() for r in caplog.records] == [
        "Federal Reserve Board: skipped 2 calendar entries without a readable date"
    ]


def test_fed_calendar_other_windows() -> None:
    october = parse_fed_calendar(FED_JSON, date(2026, 10, 1), date(2026, 10, 31))
    assert brief(october) == [
        ("2026-10-07", "FOMC_MINUTES", "14:00"),
        ("2026-10-14", "BEIGE_BOOK", "14:00"),
        ("2026-10-28", "FOMC", "14:00"),
    ]
    late = parse_fed_calendar(FED_JSON, date(2026, 11, 1), date(2026, 12, 31))
    assert brief(late) == [("2026-11-18", "FOMC_MINUTES", "14:00"), ("2026-12-09", "FOMC", "14:00")]
    assert late[0].title == "FOMC Minutes"  # the source's stray leading space is not kept
    # last year's October meeting is in the file but never in this year's window
    assert parse_fed_calendar(FED_JSON, date(2025, 10, 27), date(2025, 10, 31))[0].date == date(2025, 10, 29)


def test_bls_ics(caplog: pytest.LogCaptureFixture) -> None:
    assert b"\r\n" in BLS_ICS and b"TZID=US-Eastern" in BLS_ICS
    with caplog.at_level(logging.WARNING):
        events = parse_bls_ics(BLS_ICS, *WEEK)
    assert brief(events) == [("2026-10-28", "CPI", "08:30"), ("2026-10-30", "PPI", "08:30")]
    assert {e.title for e in events} == {"Consumer Price Index", "Producer Price Index"}
    assert all(e.source_name == BLS for e in events)
    assert "skipped 1 calendar entries" in caplog.records[0].getMessage()  # DTSTART 2026-10-29
    folded = parse_bls_ics(BLS_ICS, date(2026, 11, 2), date(2026, 11, 6))
    assert [(e.title, e.kind) for e in folded] == [("Employment Situation", "EMPLOYMENT")]


def test_bea_release_dates(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        events = parse_bea_release_dates(BEA_JSON, *WEEK)
    # the PCE release is listed twice (UTC and Eastern): one event; trade and state GDP are not kept
    assert brief(events) == [("2026-10-29", "GDP", "08:30"), ("2026-10-30", "PCE", "08:30")]
    assert [e.title for e in events] == ["Gross Domestic Product", "Personal Income and Outlays"]
    assert "skipped 1 calendar entries" in caplog.records[0].getMessage()  # "soon"


@pytest.mark.parametrize(
    ("parse", "body", "message"),
    [
        (parse_fed_calendar, b'\xef\xbb\xbf{"events": {}}', "no 'events' list"),
        (parse_fed_calendar, b'{"events": [', "not valid JSON"),
        (parse_bls_ics, b"<!DOCTYPE html><html><title>Access Denied</title></html>", "HTML page"),
        (parse_bls_ics, b"BEGIN:VEVENT\r\nEND:VEVENT\r\n", "not an iCalendar file"),
        (parse_bea_release_dates, b"[]", "not an object of releases"),
    ],
)
def test_unreadable_sources_are_named(parse, body: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SourceError, match=message):
        parse(body, *WEEK)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def test_gather_names_a_failing_source_and_sends_a_browser_agent_to_bls(server: FeedServer) -> None:
    paths = {FED_URL: "/json/calendar.json", BLS_URL: "/bls.ics", BEA_URL: "/release_dates.json"}
    server.serve(paths[FED_URL], FED_JSON, content_type="application/json")
    server.serve(paths[BLS_URL], BLS_ICS, content_type="application/octet-stream")
    server.serve(paths[BEA_URL], b"Forbidden", status=403, content_type="text/plain")
    settings = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=0.5)

    def fetch(url: str, user_agent: str | None) -> bytes:
        used = dataclasses.replace(settings, user_agent=user_agent) if user_agent else settings
        return http.fetch(server.url(paths[url]), used).body

    result = gather_calendar(fetch, *WEEK)
    assert brief(result.events) == [
        ("2026-10-28", "CPI", "08:30"),
        ("2026-10-28", "FOMC", "14:00"),
        ("2026-10-30", "PPI", "08:30"),
    ]
    assert result.failed == ((BEA, "HTTP 403 Forbidden"),)
    agents = {r.path: r.headers["User-Agent"] for r in server.requests}
    assert agents["/bls.ics"] == BROWSER_USER_AGENT
    assert agents["/json/calendar.json"] == settings.user_agent
