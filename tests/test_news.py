"""generator.sources.news.fetch_feeds: concurrency, deadline, conditional GET, cache fallback, health."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from feedserver import FeedServer

from generator.analysis.headlines import parse_feed
from generator.models import Feed, NetworkSettings
from generator.sources.news import cached_feeds, fetch_feeds, inspect_feed, repair_utf8

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
SETTINGS = NetworkSettings(
    allow_hosts=("127.0.0.1",), feed_timeout=0.5, feed_deadline=3.0, max_feed_bytes=500_000
)
RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><title>Small caps rally</title><link>https://example.com/a</link>"
    b"<pubDate>Fri, 06 Mar 2026 20:00:00 GMT</pubDate></item>"
    b"<item><title>Fed holds</title><link>https://example.com/b</link>"
    b"<pubDate>Wed, 04 Mar 2026 15:00:00 GMT</pubDate></item></channel></rss>"
)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def feed(server: FeedServer, name: str, path: str | None = None) -> Feed:
    return Feed(name=name, url=server.url(path or f"/{name}.xml"), outlet=name.title())


def test_ok_feed_is_returned_cached_and_reported(server: FeedServer, tmp_path: Path) -> None:
    server.serve("/a.xml", RSS, etag='"v1"', last_modified="Fri, 06 Mar 2026 20:00:00 GMT")
    captures, health = fetch_feeds([feed(server, "a")], SETTINGS, tmp_path, now=NOW)
    capture = captures["a"]
    assert (capture.body, capture.status, capture.origin, capture.fetched_at) == (RSS, "ok", "live", NOW)
    (row,) = health
    assert (row.kind, row.name, row.status, row.origin, row.count, row.newest, row.error) == (
        "feed", "a", "ok", "live", 2, date(2026, 3, 6), ""
    )  # fmt: skip
    assert (tmp_path / "feeds" / "a.xml").read_bytes() == RSS
    meta = json.loads((tmp_path / "feeds" / "a.json").read_text())
    assert meta["etag"] == '"v1"' and meta["last_modified"] == "Fri, 06 Mar 2026 20:00:00 GMT"


def test_etag_round_trip_reuses_the_cached_bytes(server: FeedServer, tmp_path: Path) -> None:
    server.serve("/a.xml", RSS, etag='"v1"')
    fetch_feeds([feed(server, "a")], SETTINGS, tmp_path, now=NOW)
    server.serve("/a.xml", b"", etag='"v1"')  # would be an empty body, were it not for the 304
    captures, health = fetch_feeds([feed(server, "a")], SETTINGS, tmp_path, now=LATER)
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'
    assert captures["a"].body == RSS
    assert (captures["a"].status, captures["a"].origin) == ("not modified", "live")
    assert (health[0].status, health[0].count, health[0].newest) == ("not modified", 2, date(2026, 3, 6))
    meta = json.loads((tmp_path / "feeds" / "a.json").read_text())
    assert meta["fetched_at"] == NOW.isoformat() and meta["checked_at"] == LATER.isoformat()


def test_failure_falls_back_to_the_cache_and_says_so(server: FeedServer, tmp_path: Path) -> None:
    server.serve("/a.xml", RSS)
    fetch_feeds([feed(server, "a")], SETTINGS, tmp_path, now=NOW)
    server.serve("/a.xml", b"down", status=500, content_type="text/plain")
    captures, health = fetch_feeds([feed(server, "a")], SETTINGS, tmp_path, now=LATER)
    capture = captures["a"]
    assert (capture.body, capture.status, capture.origin) == (RSS, "failed", "cache")
    assert capture.fetched_at == NOW
    assert capture.error == "HTTP 500 Internal Server Error"
    assert (health[0].status, health[0].origin, health[0].count) == ("failed", "cache", 2)
    assert (
        health[0].error == "HTTP 500 Internal Server Error; using the cached copy from 2026-03-09 12:00 UTC"
    )


def test_failure_without_a_cache_gives_an_empty_capture(server: FeedServer, tmp_path: Path) -> None:
    captures, health = fetch_feeds([feed(server, "gone")], SETTINGS, tmp_path, now=NOW)
    assert (captures["gone"].body, captures["gone"].status) == (b"", "failed")
    assert captures["gone"].error == "HTTP 404 Not Found"
    assert (health[0].status, health[0].origin, health[0].count, health[0].newest) == (
        "failed",
        "none",
        0,
        None,
    )
    assert not (tmp_path / "feeds" / "gone.xml").exists()


def test_cache_of_another_url_is_not_used(server: FeedServer, tmp_path: Path) -> None:
    server.serve("/a.xml", RSS, etag='"v1"')
    fetch_feeds([feed(server, "a")], SETTINGS, tmp_path, now=NOW)
    moved = Feed("a", server.url("/new.xml"), "A")
    captures, health = fetch_feeds([moved], SETTINGS, tmp_path, now=LATER)
    assert "If-None-Match" not in server.requests[-1].headers
    assert (captures["a"].body, health[0].origin) == (b"", "none")


def test_the_overall_deadline_does_not_wait_for_a_hung_feed(server: FeedServer, tmp_path: Path) -> None:
    server.serve("/ok.xml", RSS)
    server.serve("/hung.xml", hang=True)
    patient = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=60.0, feed_deadline=0.5)
    captures, health = fetch_feeds([feed(server, "ok"), feed(server, "hung")], patient, tmp_path, now=NOW)
    by_name = {row.name: row for row in health}
    assert by_name["ok"].status == "ok"
    assert (by_name["hung"].status, by_name["hung"].error) == ("failed", "no answer within 0.5 s")
    assert captures["hung"].body == b""


def test_feeds_never_asked_because_their_host_was_busy_are_told_so(
    server: FeedServer, tmp_path: Path
) -> None:
    """Four hung feeds on one host: two are asked (at most two requests to a host at a time) and two
    wait for a connection until the deadline.  "no answer within 0.5 s" alone read as if all four had
    been asked and had not answered."""
    for n in range(4):
        server.serve(f"/hung-{n}.xml", hang=True)
    patient = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=60.0, feed_deadline=0.5)
    _, health = fetch_feeds([feed(server, f"hung-{n}") for n in range(4)], patient, tmp_path, now=NOW)
    asked = {r.path for r in server.requests}
    assert len(asked) == 2
    for row in health:
        if f"/{row.name}.xml" in asked:
            assert row.error == "no answer within 0.5 s", row.error
        else:  # the feed's own wait ended at the deadline, or the deadline came first: the same words
            assert row.error == (
                "not requested: 127.0.0.1 had 2 requests open (the most at a time) until the deadline"
            ), row.error


def test_a_feed_queued_behind_busy_fetchers_is_told_so(
    server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every fetcher taken by a hung feed, the next feed is never started; its words say so."""
    import generator.sources.news as news

    monkeypatch.setattr(news, "MAX_WORKERS", 1)
    server.serve("/hung.xml", hang=True)
    server.serve("/queued.xml", RSS)
    patient = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=60.0, feed_deadline=0.5)
    _, (hung, queued) = fetch_feeds(
        [feed(server, "hung"), feed(server, "queued")], patient, tmp_path, now=NOW
    )
    assert hung.error == "no answer within 0.5 s"
    assert queued.error == "not requested: no fetcher was free before the deadline (1 at a time)"
    assert [r.path for r in server.requests] == ["/hung.xml"]


def test_one_health_row_per_feed_in_config_order(server: FeedServer, tmp_path: Path) -> None:
    html = b"<!DOCTYPE html><html><body>Please enable JavaScript</body></html>"
    server.serve("/rss.xml", RSS)
    server.serve("/page.xml", html, content_type="text/html")
    server.serve("/plain.xml", html, content_type="text/plain")
    server.serve("/broken.xml", b"<rss><channel><title>no items, no end", content_type="text/xml")
    recoverable = (
        b"<rss><channel><item><title>Small caps</title><pubDate>Fri, 06 Mar 2026 20:00:00 GMT</pubDate>"
    )
    server.serve("/recovered.xml", recoverable, content_type="text/xml")
    server.serve("/gone.xml", status=410, content_type="text/plain")
    server.serve("/slow.xml", hang=True)
    names = ["gone", "page", "rss", "broken", "slow", "plain", "missing", "recovered"]
    feeds = [feed(server, n) for n in names]
    captures, health = fetch_feeds(feeds, SETTINGS, tmp_path, now=NOW)
    assert [row.name for row in health] == names
    assert list(captures) == names
    errors = {row.name: row.error for row in health}
    assert errors["rss"] == ""
    assert errors["gone"] == "HTTP 410 Gone"
    assert errors["page"] == "not a feed (content-type text/html, an HTML page)"
    assert errors["plain"] == "not a feed (content-type text/plain, an HTML page)"
    assert re.fullmatch(
        r"not a feed \(XML error at line \d+, column \d+: no element found\)", errors["broken"]
    )
    assert errors["slow"] == "timed out after 0.5 s"
    assert errors["missing"] == "HTTP 404 Not Found"
    recovered = health[-1]
    assert (recovered.status, recovered.count, recovered.newest) == ("repaired", 1, date(2026, 3, 6))
    assert recovered.error.startswith("cut off")


def test_refused_hosts_are_reported_not_fetched(tmp_path: Path) -> None:
    feeds = [Feed("local", "http://127.0.0.1:9/feed.xml", "Local"), Feed("ftp", "ftp://example.com/f", "F")]
    _, health = fetch_feeds(feeds, NetworkSettings(feed_timeout=0.5), tmp_path, now=NOW)
    assert [row.error for row in health] == [
        "refused: a loopback address 127.0.0.1",
        "refused: only http and https URLs are fetched, not ftp",
    ]


def test_cached_feeds_reads_the_cache_without_the_network(server: FeedServer, tmp_path: Path) -> None:
    server.serve("/a.xml", RSS)
    feeds = [feed(server, "a"), feed(server, "b")]
    fetch_feeds(feeds[:1], SETTINGS, tmp_path, now=NOW)
    seen = len(server.requests)
    captures, health = cached_feeds(feeds, tmp_path)
    assert len(server.requests) == seen
    assert (captures["a"].body, captures["a"].origin, captures["a"].fetched_at) == (RSS, "cache", NOW)
    assert (health[0].status, health[0].origin, health[0].count, health[0].provider) == (
        "cached",
        "cache",
        2,
        "A",
    )
    assert (captures["b"].body, health[1].status, health[1].error) == (b"", "failed", "not cached")


def test_no_feeds(tmp_path: Path) -> None:
    assert fetch_feeds([], SETTINGS, tmp_path, now=NOW) == ({}, [])


# --- real captures ---------------------------------------------------------------------------------

REAL = {
    "cnbc": ("real/cnbc_international_top_news_2026-03-08.xml", 30, date(2026, 3, 8)),
    "seekingalpha": ("real/seekingalpha_AAPL_2026-03-08.xml", 20, None),
    "nytimes": ("real/nytimes_business_2026-03-09.xml", 50, None),
    "google": ("real/googlenews_site-reuters-markets_2026-03-15.xml", 100, None),
    "economist": ("real_malformed/economist_finance-economics_2023-11_python-repr-mojibake.xml", 100, None),
}


def test_real_captures_over_http(server: FeedServer, tmp_path: Path, shared_data: Path) -> None:
    rss = shared_data / "rss"
    for name, (path, _, _) in REAL.items():
        server.serve(f"/{name}.xml", (rss / path).read_bytes(), gzip=name == "nytimes")
    bloomberg = (rss / "real/bloomberg_news_sitemap_2026-03-15.xml").read_bytes()
    server.serve("/bloomberg.xml", bloomberg, content_type="application/xml")
    feeds = [feed(server, name) for name in [*REAL, "bloomberg"]]
    # Read after the newest capture (2026-03-15): read before it, its items would be dated in the future.
    captures, health = fetch_feeds(feeds, SETTINGS, tmp_path, now=LATER)
    rows = {row.name: row for row in health}
    for name, (path, count, newest) in REAL.items():
        status = "repaired" if name == "economist" else "ok"  # a Python repr: the lenient parser reads it
        assert (rows[name].status, rows[name].count) == (status, count), name
        assert captures[name].body == (rss / path).read_bytes()  # valid UTF-8: kept byte for byte
        if newest is not None:
            assert rows[name].newest == newest
    assert rows["bloomberg"].status == "failed"
    assert rows["bloomberg"].error == "not a feed (no RSS or Atom content)"


def test_feedparser_corpus_never_crashes(shared_data: Path) -> None:
    folders = ["feedparser_illformed", "feedparser_wellformed", "real_malformed"]
    files = sorted(p for f in folders for p in (shared_data / "rss" / f).glob("*.xml"))
    assert len(files) > 20
    verdicts = {p.name: inspect_feed(p.read_bytes()) for p in files}
    assert verdicts["illformed_rss_empty_document.xml"].problem.startswith("not a feed")
    assert verdicts["dailyfx_news_sitemap_2023-12-01_python-repr.xml"].problem.startswith("not a feed")
    assert verdicts["illformed_rss_incomplete_cdata.xml"].count == 1  # bozo but recovered
    assert verdicts["wellformed_rss_channel_pubDate.xml"].problem == ""  # a valid feed with no items
    for name, verdict in verdicts.items():
        if name.startswith("wellformed"):
            assert verdict.problem == "", name


# --- repaired feeds: usable, but not "ok" ---------------------------------------------------------

DECLARED = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def rss_with(*titles: bytes, declaration: bytes = DECLARED, close: bool = True) -> bytes:
    """A CNBC-like RSS 2.0 document with one item per title (titles as raw bytes)."""
    items = b"".join(
        b"<item><title>" + title + b"</title><link>https://www.cnbc.com/2026/03/06/story-%d.html</link>"
        b"<pubDate>Fri, 06 Mar 2026 20:00:00 GMT</pubDate></item>" % n
        for n, title in enumerate(titles)
    )
    head = declaration + b'<rss version="2.0"><channel><title>CNBC Markets</title>' + items
    return head + (b"</channel></rss>" if close else b"")


REPAIRED = {
    "undefined-entity": (
        rss_with(b"Small caps&nbsp;rally as yields ease", b"Fed holds rates"),
        r"XML error at line 2, column \d+: undefined entity; read by the lenient parser",
    ),
    "cut-off": (
        rss_with(b"Small caps rally", b"Fed holds rates")[:-40],  # ends inside the second item
        r"cut off: the document ends at line 2 before its last element closes",
    ),
    "bad-utf8-bytes": (
        rss_with("Small caps jump — best week since June".encode(), b"Banks\xff rally"),
        r"1 invalid UTF-8 byte sequence replaced",
    ),
    "cp1252-labelled-utf8": (
        rss_with("Café stocks and résumé season lift small caps".encode("cp1252")),
        r"character set declared as utf-8, but parsed as windows-1252",
    ),
    # references to no character: feedparser's lenient parser crashed on each (chr() of it)
    "references-to-no-character": (
        rss_with(b"Small caps &#xD800; rally &#x110000;", b"Fed &#99999999999999999999; holds", b"Ok &#x41;"),
        r"3 character references to no character replaced",
    ),
    "utf8-labelled-ascii": (
        rss_with("Small caps’ best week".encode(), declaration=b'<?xml version="1.0" encoding="us-ascii"?>'),
        r"character set declared as us-ascii, but parsed as utf-8",
    ),
}


@pytest.mark.parametrize("name", list(REPAIRED))
def test_a_repaired_feed_is_reported_with_a_warning(
    server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    body, words = REPAIRED[name]
    server.serve(f"/{name}.xml", body)
    caplog.set_level(logging.INFO, logger="generator.sources.news")
    captures, (row,) = fetch_feeds([feed(server, name)], SETTINGS, tmp_path, now=NOW)
    assert (row.status, row.origin) == ("repaired", "live") and row.count >= 1
    assert re.fullmatch(words, row.error), row.error
    assert not row.healthy
    assert (captures[name].status, captures[name].error) == ("repaired", row.error)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"feed {name}: repaired to be read, {row.count} items ({row.error})"]


def test_items_dated_after_the_feed_was_read_are_its_error_not_its_newest(
    server: FeedServer, tmp_path: Path
) -> None:
    """A feed of items dated 2099 and 9999 was "ok", newest 9999-12-31: it looked as fresh as could be."""
    body = rss_with(b"Small caps rally").replace(
        b"</channel>",
        b"".join(
            b"<item><title>From the future</title><link>https://e.example/%d</link><pubDate>%s</pubDate></item>"
            % (n, day)
            for n, day in enumerate((b"Thu, 01 Jan 2099 00:00:00 GMT", b"Fri, 31 Dec 9999 00:00:00 GMT"))
        )
        + b"</channel>",
    )
    server.serve("/future.xml", body)
    _, (row,) = fetch_feeds([feed(server, "future")], SETTINGS, tmp_path, now=NOW)
    assert (row.status, row.count, row.newest) == ("repaired", 3, date(2026, 3, 6))
    assert row.error == "2 items dated after it was read (up to 9999-12-31): not counted as its newest"
    _, (cached,) = cached_feeds([feed(server, "future")], tmp_path)  # judged by when it was fetched
    assert (cached.status, cached.newest) == ("repaired", date(2026, 3, 6))


def test_a_clean_feed_is_ok_without_a_warning(
    server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve("/clean.xml", rss_with("Small caps jump — the Russell 2000’s best week".encode()))
    _, (row,) = fetch_feeds([feed(server, "clean")], SETTINGS, tmp_path, now=NOW)
    assert (row.status, row.error, row.healthy) == ("ok", "", True)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_repaired_feed_stays_repaired_from_the_cache(server: FeedServer, tmp_path: Path) -> None:
    body, _ = REPAIRED["undefined-entity"]
    server.serve("/a.xml", body, etag='"v1"')
    fetch_feeds([feed(server, "a")], SETTINGS, tmp_path, now=NOW)
    _, (again,) = fetch_feeds([feed(server, "a")], SETTINGS, tmp_path, now=LATER)  # 304
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'
    assert (again.status, again.origin) == ("repaired", "live")
    _, (cached,) = cached_feeds([feed(server, "a")], tmp_path)
    assert (cached.status, cached.origin) == ("repaired", "cache")


# --- a few bad bytes in a UTF-8 feed: no mojibake --------------------------------------------------

CNBC_WEEK = [
    "Small caps jump — the Russell 2000’s best week since June".encode(),
    "Powell says the Fed is ‘well positioned’ — markets price a cut".encode(),
    b"Regional banks\x92 shares rally as deposits stabilise",  # a cp1252 quote byte: invalid UTF-8
]


def test_a_utf8_feed_with_a_bad_byte_keeps_its_utf8_text(server: FeedServer, tmp_path: Path) -> None:
    server.serve("/cnbc.xml", rss_with(*CNBC_WEEK))
    the_feed = feed(server, "cnbc")
    captures, (row,) = fetch_feeds([the_feed], SETTINGS, tmp_path, now=NOW)
    assert (row.status, row.count, row.error) == ("repaired", 3, "1 invalid UTF-8 byte sequence replaced")
    captures["cnbc"].body.decode("utf-8")  # the captured body is valid UTF-8 now
    titles = [h.title for h in parse_feed(captures["cnbc"], the_feed)]
    assert titles == [
        "Small caps jump — the Russell 2000’s best week since June",
        "Powell says the Fed is ‘well positioned’ — markets price a cut",
        "Regional banks\ufffd shares rally as deposits stabilise",
    ]
    assert not any("â€" in t for t in titles)
    assert (tmp_path / "feeds" / "cnbc.xml").read_bytes() == rss_with(*CNBC_WEEK)  # cached as fetched


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (rss_with(*CNBC_WEEK[:2]), True),  # valid UTF-8: untouched
        (rss_with("Café résumé".encode("cp1252")), True),  # no valid multi-byte text: a code page
        (
            rss_with(
                "Café — x".encode() + b"\xe9", declaration=b'<?xml version="1.0" encoding="iso-8859-1"?>'
            ),
            True,
        ),
        (rss_with("Café — “quoted” ".encode() + b"\xe9"), False),  # 3 valid characters for 1 bad byte
    ],
)
def test_repair_utf8_only_touches_utf8_with_bad_bytes(body: bytes, kept: bool) -> None:
    fixed, replaced = repair_utf8(body)
    assert (fixed == body, replaced == 0) == (kept, kept)
    if not kept:
        assert fixed.decode("utf-8") == body.decode("utf-8", errors="replace")


# --- what the feed's owner changed ----------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 308])
def test_a_permanent_redirect_is_a_warning_with_the_new_address(
    server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    server.serve("/new.xml", RSS)
    server.redirect("/old.xml", "/new.xml", status)
    _, (row,) = fetch_feeds([feed(server, "old")], SETTINGS, tmp_path, now=NOW)
    assert row.status == "ok"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"feed old: {server.url('/old.xml')} has moved permanently to {server.url('/new.xml')}; "
        "put the new address in feeds.yaml"
    ]


def test_a_temporary_redirect_is_no_warning(
    server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve("/new.xml", RSS)
    server.redirect("/old.xml", "/new.xml", 302)
    _, (row,) = fetch_feeds([feed(server, "old")], SETTINGS, tmp_path, now=NOW)
    assert row.status == "ok" and not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(("content_type", "shown"), [("text/html; charset=utf-8", "text/html"),
                                                     ("text/plain", "text/plain"),
                                                     (None, "a body without a content type")])  # fmt: skip
def test_a_feed_served_as_a_page_is_a_warning(
    server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, content_type: str | None, shown: str
) -> None:
    server.serve("/page.xml", RSS, content_type=content_type)
    _, (row,) = fetch_feeds([feed(server, "page")], SETTINGS, tmp_path, now=NOW)
    assert row.status == "ok" and row.count == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"feed page: served as {shown}, not as a feed; read as a feed because its body is one"
    ]


# --- retries stay within the deadline; what cannot heal fails fast ------------------------------


def test_a_busy_feed_heals_within_the_run(server: FeedServer, tmp_path: Path) -> None:
    from feedserver import Route

    server.serve("/a.xml", RSS)
    server.queue("/a.xml", Route(status=503, body=b"busy", content_type="text/plain"))
    _, (row,) = fetch_feeds([feed(server, "a")], SETTINGS, tmp_path, now=NOW)
    assert (row.status, row.count) == ("ok", 2) and server.hits("/a.xml") == 2


def test_offline_every_feed_fails_at_once(tmp_path: Path) -> None:
    calls: list[str] = []

    def offline(host: str, port: int) -> list[str]:
        calls.append(host)
        raise OSError("[Errno -2] Name or service not known")

    feeds = [Feed(f"f{n}", f"https://feeds{n}.example.com/rss", "F") for n in range(8)]
    settings = NetworkSettings(feed_timeout=10.0, feed_deadline=30.0)
    start = datetime.now(UTC)
    _, health = fetch_feeds(feeds, settings, tmp_path, now=NOW, resolver=offline)
    assert (datetime.now(UTC) - start).total_seconds() < 1.0
    assert sorted(calls) == sorted(f"feeds{n}.example.com" for n in range(8))  # one look-up each
    assert {row.error for row in health} == {
        f"cannot resolve host feeds{n}.example.com: Name or service not known" for n in range(8)
    }


def test_a_page_that_is_no_feed_fails_without_claiming_to_be_read(
    server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve("/notes.xml", b"just some notes, no feed here", content_type="text/plain")
    _, (row,) = fetch_feeds([feed(server, "notes")], SETTINGS, tmp_path, now=NOW)
    assert (row.status, row.error) == ("failed", "not a feed (XML error at line 2, column 0: syntax error)")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"feed notes: failed ({row.error})"]
