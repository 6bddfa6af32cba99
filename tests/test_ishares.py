"""The iShares IWM holdings file: layout, rows that are not members, tickers, HTML, truncation, cache."""

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
from generator.sources.ishares import (
    CACHE_FILE,
    Member,
    Membership,
    fetch_membership,
    parse_holdings,
    read_membership,
    write_membership,
    yahoo_symbol,
)

DATA = Path(__file__).parent / "data" / "issue8"
HOLDINGS = (DATA / "IWM_holdings_synthetic.csv").read_bytes()
CSV_TYPE = "application/octet-stream"


def test_layout_bom_preamble_and_quoted_numbers() -> None:
    assert HOLDINGS.startswith(b"\xef\xbb\xbf")
    membership = parse_holdings(HOLDINGS)
    assert membership.as_of == date(2026, 5, 5)
    assert membership.members[0] == Member("BE", "BE", "BLOOM ENERGY CLASS A CORP", "Industrials", 19.0)
    assert len(membership.members) == 15
    assert sum(m.weight for m in membership.members) == pytest.approx(93.0)


def test_rows_that_are_not_members_are_dropped_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        membership = parse_holdings(HOLDINGS)
    assert dict(membership.dropped) == {
        "cash": 2, "money market": 1, "collateral": 1, "futures": 1, "without ticker": 1,
        "NO MARKET": 1, "OTC": 1, "price 0.00": 1, "duplicate": 1,
    }  # fmt: skip
    tickers = [m.ticker for m in membership.members]
    for gone in ("XTSLA", "USD", "MSFUT", "RTYM6", "CAD", "-", "ADRO", "TSEOF", "PDLI"):
        assert gone not in tickers
    assert tickers.count("FN") == 1
    assert next(m for m in membership.members if m.ticker == "FN").weight == 10.0  # the first listing
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.getMessage().startswith("iShares IWM holdings: dropped 10 rows")
    assert "1 duplicate" in record.getMessage() and "2 cash" in record.getMessage()


def test_class_shares_by_explicit_map_real_tickers_stay() -> None:
    symbols = {m.ticker: m.yahoo_symbol for m in parse_holdings(HOLDINGS).members}
    assert symbols["MOGA"] == "MOG-A"
    assert symbols["GEFB"] == "GEF-B"
    assert symbols["CRDA"] == "CRD-A"
    for real in ("RUSHA", "RUSHB", "BELFA", "BELFB", "ZETA"):
        assert symbols[real] == real
    assert yahoo_symbol("BRK.B") == "BRK-B"
    assert yahoo_symbol("brkb") == "BRK-B"
    assert yahoo_symbol("MOGA", {}) == "MOGA"  # the map is the only source of class suffixes


def test_html_answer_is_named() -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>iShares</title></head><body>Sorry</body></html>"
    with pytest.raises(SourceError, match="HTML page, not the holdings CSV"):
        parse_holdings(page)
    with pytest.raises(SourceError, match="HTML page"):
        parse_holdings(b"\xef\xbb\xbf\r\n  <html lang='en'>" + b"x" * 100)


def test_truncated_file_is_refused() -> None:
    cut = HOLDINGS[: HOLDINGS.index(b'"HL",')]  # ends at a line boundary inside the table
    with pytest.raises(SourceError, match=r"truncated: the file ends inside the holdings table after 8 rows"):
        parse_holdings(cut)
    mid_row = HOLDINGS[: HOLDINGS.index(b'"HL",') + 30]  # ends inside a quoted field
    with pytest.raises(SourceError, match="truncated or malformed"):
        parse_holdings(mid_row)
    short_row = HOLDINGS[: HOLDINGS.index(b'"HL",') + 27] + b'"\n'  # a row with too few fields
    with pytest.raises(SourceError, match="truncated or malformed: table row 9 has"):
        parse_holdings(short_row)


def test_table_without_notice_but_complete_weights_is_accepted(caplog: pytest.LogCaptureFixture) -> None:
    without_notice = HOLDINGS[: HOLDINGS.index(b'\n \n"Legal notice')]
    with caplog.at_level(logging.WARNING):
        membership = parse_holdings(without_notice)
    assert len(membership.members) == 15
    assert any("no closing notice" in r.getMessage() for r in caplog.records)


def test_a_cut_notice_does_not_matter() -> None:
    cut = HOLDINGS[: HOLDINGS.index(b"Holdings subject to change")]  # unterminated quoted notice
    assert len(parse_holdings(cut).members) == 15


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((b'as of,"May 05, 2026"', b'as of,"-"'), "no holdings for its date"),
        ((b'as of,"May 05, 2026"', b'as of,"soon"'), "unreadable 'Fund Holdings as of' date"),
        ((b"Fund Holdings as of", b"Fund Holdings at"), "no 'Fund Holdings as of' line"),
        ((b"Ticker,Name", b"Symbol,Name"), "no holdings table"),
        ((b",Weight (%),", b",Weight,"), r"without column\(s\) Weight \(%\)"),
    ],
)
def test_bad_preambles_are_named(change: tuple[bytes, bytes], message: str) -> None:
    with pytest.raises(SourceError, match=message) as info:
        parse_holdings(HOLDINGS.replace(*change))
    assert info.value.source == "iShares IWM holdings"


def test_no_tradable_member_and_not_utf8() -> None:
    header_only = HOLDINGS[: HOLDINGS.index(b'"BE",')] + b" \n"
    with pytest.raises(SourceError, match="no tradable members"):
        parse_holdings(header_only)
    with pytest.raises(SourceError, match="not UTF-8"):
        parse_holdings(HOLDINGS.replace(b"FABRINET", b"FABRI\xffNET"))


def test_membership_file_round_trip_is_deterministic(tmp_path: Path) -> None:
    membership = parse_holdings(HOLDINGS)
    write_membership(tmp_path / "a.json", membership)
    write_membership(tmp_path / "b.json", read_membership(tmp_path / "a.json"))
    assert read_membership(tmp_path / "a.json") == membership
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    text = (tmp_path / "a.json").read_text()
    assert "Market Value" not in text and "Legal notice" not in text  # only what the brief needs
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(SourceError, match="unreadable membership file"):
        read_membership(tmp_path / "bad.json")


# --- fetching through the project's HTTP client, from a loopback server ---------------


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def _fetcher(timeout: float = 5.0):  # type: ignore[no-untyped-def]
    settings = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=timeout)
    return lambda url: http.fetch(url, settings).body


def test_fetch_refreshes_the_cache_then_falls_back_on_a_403(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.serve("/IWM_holdings.csv", HOLDINGS, content_type=CSV_TYPE)
    fresh = fetch_membership(url, _fetcher(), tmp_path)
    assert not fresh.from_cache and fresh.problem is None
    assert (tmp_path / CACHE_FILE).is_file()
    feed_server.serve("/IWM_holdings.csv", b"Forbidden", status=403, content_type="text/plain")
    fallback = fetch_membership(url, _fetcher(), tmp_path)
    assert fallback.from_cache
    assert fallback.membership == fresh.membership
    assert fallback.membership.as_of == date(2026, 5, 5)
    assert fallback.problem == "HTTP 403 Forbidden"


@pytest.mark.parametrize(
    ("route", "problem"),
    [
        ({"body": b"<!-- served by the old link -->\n<html><body>Please enable JavaScript</body></html>",
          "content_type": CSV_TYPE}, "HTML page, not the holdings CSV"),
        ({"body": HOLDINGS[:4000], "content_type": CSV_TYPE}, "truncated"),
        ({"hang": True}, "timed out"),
    ],
)  # fmt: skip
def test_fetch_failures_fall_back_to_the_cache(
    feed_server: FeedServer, tmp_path: Path, route: dict[str, object], problem: str
) -> None:
    cached = Membership(date(2026, 4, 30), (Member("BE", "BE", "BLOOM", "Industrials", 1.0),))
    write_membership(tmp_path / CACHE_FILE, cached)
    url = feed_server.serve("/IWM_holdings.csv", **route)  # type: ignore[arg-type]
    result = fetch_membership(url, _fetcher(timeout=0.5), tmp_path)
    assert result.from_cache and result.membership == cached
    assert result.problem is not None and problem in result.problem
    assert read_membership(tmp_path / CACHE_FILE) == cached  # a bad answer never replaces the cache


def test_fetch_without_cache_raises_naming_both(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.serve("/IWM_holdings.csv", b"gone", status=404, content_type="text/plain")
    with pytest.raises(SourceError, match="HTTP 404 Not Found; no cached membership to fall back on"):
        fetch_membership(url, _fetcher(), tmp_path)


def test_a_local_file_needs_no_network(tmp_path: Path) -> None:
    def no_network(url: str) -> bytes:
        raise AssertionError(f"network used for {url}")

    result = fetch_membership(str(DATA / "IWM_holdings_synthetic.csv"), no_network, tmp_path / "cache")
    assert not result.from_cache and len(result.membership.members) == 15
    with pytest.raises(SourceError, match="cannot read"):
        fetch_membership(str(tmp_path / "missing.csv"), no_network, tmp_path / "empty")


@pytest.mark.parametrize("host", ["", "localhost", "LOCALHOST"])
def test_a_file_url_on_this_machine_is_read_from_its_path(tmp_path: Path, host: str) -> None:
    def no_network(url: str) -> bytes:
        raise AssertionError(f"network used for {url}")

    folder = tmp_path / "my holdings"
    folder.mkdir()
    (folder / "IWM.csv").write_bytes(HOLDINGS)
    url = f"file://{host}{folder.as_posix().replace(' ', '%20')}/IWM.csv"
    result = fetch_membership(url, no_network, tmp_path / "cache")
    assert not result.from_cache and len(result.membership.members) == 15


def test_a_file_url_naming_another_host_is_refused(tmp_path: Path) -> None:
    url = f"file://fileserver{DATA.as_posix()}/IWM_holdings_synthetic.csv"  # the file exists here
    with pytest.raises(SourceError) as caught:
        fetch_membership(url, _fetcher(), tmp_path / "cache")
    assert caught.value.message == (
        f"cannot read {url}: a file URL must name this machine (no host or localhost)"
        "; no cached membership to fall back on"
    )
