"""FRED's fredgraph.csv: both header variants, missing values, the ICE notice, failures by name."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from feedserver import FeedServer

from generator.errors import SourceError
from generator.models import NetworkSettings
from generator.sources import http
from generator.sources.fred import ICE_NOTICE, csv_url, fetch_fred, parse_fredgraph

DATA = Path(__file__).parent / "data" / "issue8"


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_observation_date_layout_with_empty_holidays() -> None:
    series = parse_fredgraph(fixture("fredgraph_DGS2.csv"), "DGS2")
    assert (series.first, series.values[0]) == (date(2026, 3, 31), 3.79)
    assert (series.last, series.values[-1]) == (date(2026, 7, 23), 4.37)
    # Memorial Day, a Sunday row, Juneteenth, Independence Day (observed) and the unpublished last day
    assert series.missing == 5
    assert date(2026, 5, 25) not in series.dates and date(2026, 6, 19) not in series.dates
    assert len(series.dates) == 85 - 5
    assert series.notice is None
    assert series.url == "https://fred.stlouisfed.org/series/DGS2"


def test_older_date_header_with_dots_reads_the_same() -> None:
    new = parse_fredgraph(fixture("fredgraph_DGS2.csv"), "DGS2")
    old = parse_fredgraph(fixture("fredgraph_DGS2_DATE_header.csv"), "DGS2")
    assert b"DATE,DGS2" in fixture("fredgraph_DGS2_DATE_header.csv")
    assert b",.\n" in fixture("fredgraph_DGS2_DATE_header.csv")
    assert (old.dates, old.values, old.missing) == (new.dates, new.values, new.missing)


@pytest.mark.parametrize("series_id", ["DGS10", "T10Y2Y", "BAMLH0A0HYM2"])
def test_every_fixture_series_parses(series_id: str) -> None:
    series = parse_fredgraph(fixture(f"fredgraph_{series_id}.csv"), series_id)
    assert series.series_id == series_id
    assert all(0 < v < 10 for v in series.values)
    assert list(series.dates) == sorted(set(series.dates))


def test_the_spread_is_ten_minus_two() -> None:
    two = parse_fredgraph(fixture("fredgraph_DGS2.csv"), "DGS2").to_pandas()
    ten = parse_fredgraph(fixture("fredgraph_DGS10.csv"), "DGS10").to_pandas()
    spread = parse_fredgraph(fixture("fredgraph_T10Y2Y.csv"), "T10Y2Y").to_pandas()
    assert spread.loc["2026-07-23"] == pytest.approx(4.71 - 4.37)
    assert ((ten - two).dropna() - spread).abs().max() < 1e-9


def test_the_oas_carries_ices_notice() -> None:
    oas = parse_fredgraph(fixture("fredgraph_BAMLH0A0HYM2.csv"), "BAMLH0A0HYM2")
    assert oas.notice == ICE_NOTICE
    assert "ICE Data Indices, LLC" in ICE_NOTICE and "used with permission" in ICE_NOTICE
    assert oas.values[-1] == 2.77 and oas.last == date(2026, 7, 23)


def test_multi_series_file_picks_its_column() -> None:
    body = b"observation_date,DGS10,DGS2\n2026-07-22,4.67,4.31\n2026-07-23,4.71,\n"
    two = parse_fredgraph(body, "DGS2")
    assert (two.dates, two.values, two.missing) == ((date(2026, 7, 22),), (4.31,), 1)
    assert parse_fredgraph(body, "DGS10").values == (4.67, 4.71)


def test_bom_duplicates_and_unreadable_rows(caplog: pytest.LogCaptureFixture) -> None:
    body = (
        b"\xef\xbb\xbfobservation_date,DGS3MO\n2026-07-21,4.30\n2026-07-21,4.31\n"
        b"2026-07-22,n/a\nyesterday,4.2\n2026-07-23,4.33\n\n"
    )
    with caplog.at_level(logging.WARNING):
        series = parse_fredgraph(body, "DGS3MO")
    assert series.values == (4.31, 4.33)  # the later duplicate wins
    [record] = caplog.records
    assert record.getMessage().startswith("FRED DGS3MO: dropped 2 unreadable rows")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html><html><body>Error</body></html>", "HTML page"),
        (b"day,DGS2\n2026-07-23,4.37\n", "no observation_date or DATE column"),
        (b"observation_date,DGS10\n2026-07-23,4.71\n", "no DGS2 column"),
        (b"observation_date,DGS2\n2026-07-23,.\n", "no observations"),
        (b"", "empty file"),
    ],
)
def test_failures_name_the_series(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message) as info:
        parse_fredgraph(body, "DGS2")
    assert info.value.source == "FRED DGS2"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def test_fetch_through_the_http_client(server: FeedServer) -> None:
    server.serve(
        "/graph/fredgraph.csv", fixture("fredgraph_DGS10.csv"), content_type="application/octet-stream"
    )
    settings = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=0.5)
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return http.fetch(url.replace("https://fred.stlouisfed.org", server.url("")), settings).body

    assert fetch_fred("DGS10", fetch).last == date(2026, 7, 23)
    assert asked == [csv_url("DGS10")] == ["https://fred.stlouisfed.org/graph/fredgraph.csv?id=DGS10"]
    server.serve("/graph/fredgraph.csv", b"", hang=True)
    with pytest.raises(SourceError, match="timed out") as info:
        fetch_fred("DGS10", fetch)
    assert info.value.source == "FRED DGS10"
