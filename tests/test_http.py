"""generator.sources.http.fetch against a real loopback server."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from feedserver import FeedServer, Route

from generator.errors import SourceError
from generator.models import NetworkSettings
from generator.sources.http import MAX_PER_HOST, RETRY_ATTEMPTS, blocked_reason, fetch

RSS = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
    b"<item><title>Small caps rally</title><link>https://example.com/a</link></item></channel></rss>"
)
# Generous bounds where the test is not about time (a loaded machine must not turn a 404 into a
# timeout); HANGING where it is.
SETTINGS = NetworkSettings(
    allow_hosts=("127.0.0.1",), feed_timeout=5.0, feed_deadline=10.0, max_feed_bytes=50_000, max_redirects=5
)
HANGING = NetworkSettings(
    allow_hosts=("127.0.0.1",), feed_timeout=0.5, feed_deadline=1.0, max_feed_bytes=50_000, max_redirects=5
)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def naps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds of each ``time.sleep`` this test's own thread makes (the sleeps still happen).

    "Fails at once" is then a fact about the code (it never waited) instead of a wall-clock
    bound that a loaded machine can overrun.
    """
    made: list[float] = []
    mine = threading.get_ident()
    real = time.sleep

    def sleep(seconds: float) -> None:
        if threading.get_ident() == mine:
            made.append(seconds)
        real(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return made


def resolver_for(
    mapping: dict[str, Sequence[str]], calls: list[str] | None = None
) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return list(mapping[host])

    return resolve


def error_of(url: str, settings: NetworkSettings = SETTINGS, **kwargs: object) -> str:
    with pytest.raises(SourceError) as caught:
        fetch(url, settings, **kwargs)  # type: ignore[arg-type]
    assert caught.value.source == url
    return str(caught.value)[len(url) + 2 :]


# --- plain answers ---------------------------------------------------------------------------


def test_200_returns_the_body_and_sends_feed_headers(server: FeedServer) -> None:
    url = server.serve("/feed.xml", RSS, etag='"v1"', last_modified="Fri, 06 Mar 2026 20:00:00 GMT")
    result = fetch(url, SETTINGS)
    assert (result.status, result.body, result.not_modified) == (200, RSS, False)
    assert result.etag == '"v1"'
    assert result.last_modified == "Fri, 06 Mar 2026 20:00:00 GMT"
    assert result.content_type.startswith("application/rss+xml")
    sent = server.requests[-1].headers
    assert sent["User-Agent"] == SETTINGS.user_agent
    assert "application/rss+xml" in sent["Accept"]
    assert sent["Host"] == f"127.0.0.1:{server.port}"
    assert "If-None-Match" not in sent


def test_etag_round_trip_gives_not_modified(server: FeedServer) -> None:
    url = server.serve("/feed.xml", RSS, etag='"abc"')
    first = fetch(url, SETTINGS)
    second = fetch(url, SETTINGS, etag=first.etag)
    assert second.not_modified and second.status == 304 and second.body == b""
    assert server.requests[-1].headers["If-None-Match"] == '"abc"'


def test_last_modified_round_trip_gives_not_modified(server: FeedServer) -> None:
    stamp = "Sun, 08 Mar 2026 22:16:00 GMT"
    url = server.serve("/feed.xml", RSS, last_modified=stamp)
    assert fetch(url, SETTINGS, last_modified=stamp).not_modified
    assert server.requests[-1].headers["If-Modified-Since"] == stamp
    assert not fetch(url, SETTINGS, last_modified="Sat, 01 Mar 2026 00:00:00 GMT").not_modified


def test_gzip_body_is_decompressed(server: FeedServer) -> None:
    url = server.serve("/feed.xml", RSS, gzip=True)
    assert fetch(url, SETTINGS).body == RSS
    assert "gzip" in server.requests[-1].headers["Accept-Encoding"]


@pytest.mark.parametrize(
    ("status", "words"),
    [(404, "HTTP 404 Not Found"), (410, "HTTP 410 Gone"), (500, "HTTP 500 Internal Server Error")],
)
def test_error_statuses_in_plain_words(server: FeedServer, status: int, words: str) -> None:
    url = server.serve("/feed.xml", b"oops", status=status, content_type="text/plain")
    assert error_of(url) == words


# --- redirects ---------------------------------------------------------------------------------


def test_redirect_chain_is_followed(server: FeedServer) -> None:
    server.serve("/final.xml", RSS)
    first = server.chain("/hop", 3, "/final.xml", status=301)
    server.redirect("/start", first, status=302)
    result = fetch(server.url("/start"), SETTINGS)
    assert result.body == RSS
    assert result.final_url == server.url("/final.xml")
    assert [r.path for r in server.requests] == ["/start", "/hop0", "/hop1", "/hop2", "/final.xml"]


@pytest.mark.parametrize("status", [303, 307, 308])
def test_other_redirect_statuses(server: FeedServer, status: int) -> None:
    server.serve("/final.xml", RSS)
    assert fetch(server.redirect("/moved", "/final.xml", status), SETTINGS).body == RSS


def test_too_many_redirects(server: FeedServer) -> None:
    server.serve("/final.xml", RSS)
    url = server.chain("/loop", 6, "/final.xml")
    assert error_of(url) == "too many redirects (6)"
    assert server.hits("/final.xml") == 0
    assert len(server.requests) == 6


@pytest.mark.parametrize("status", [301, 308])
def test_a_permanent_redirect_names_the_new_address(server: FeedServer, status: int) -> None:
    server.serve("/new.xml", RSS)
    result = fetch(server.redirect("/old.xml", "/new.xml", status), SETTINGS)
    assert result.moved_to == server.url("/new.xml") == result.final_url


def test_only_the_leading_permanent_redirects_count_as_a_move(server: FeedServer) -> None:
    server.serve("/final.xml", RSS)
    server.redirect("/moved", "/today", 301)
    server.redirect("/today", "/final.xml", 302)  # today's copy, not a new address
    assert fetch(server.url("/moved"), SETTINGS).moved_to == server.url("/today")
    server.redirect("/temporary", "/moved-later", 302)
    server.redirect("/moved-later", "/final.xml", 301)
    assert fetch(server.url("/temporary"), SETTINGS).moved_to is None
    assert fetch(server.url("/final.xml"), SETTINGS).moved_to is None


def test_redirect_without_location(server: FeedServer) -> None:
    url = server.serve("/moved", status=302, content_type=None)
    assert error_of(url) == "HTTP 302 Found without a Location header"


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("http://[::1/x", "invalid redirect Location 'http://[::1/x': Invalid IPv6 URL"),
        ("//[::1/x", "invalid redirect Location '//[::1/x': Invalid IPv6 URL"),
        (
            "http://[zzz]/feed.xml",
            "invalid redirect Location 'http://[zzz]/feed.xml': "
            "'zzz' does not appear to be an IPv4 or IPv6 address",
        ),
    ],
)
def test_a_malformed_redirect_location_is_named_not_a_crash(
    server: FeedServer, location: str, words: str
) -> None:
    url = server.redirect("/moved", location)
    assert error_of(url) == words
    assert [r.path for r in server.requests] == ["/moved"]  # nothing was asked of the bad address


def test_a_long_malformed_location_is_escaped_and_cut_short(server: FeedServer) -> None:
    location = "http://[::1\x1b[31m/" + "a" * 500  # a terminal escape, then a long tail
    url = server.redirect("/moved", location)
    words = error_of(url)
    head = "http://[::1\\x1b[31m/" + "a" * 63  # the first 80 characters, ESC written out
    assert words == f"invalid redirect Location '{head}'…: Invalid IPv6 URL"
    assert "\x1b" not in words  # escaped: the server's text cannot colour or move a terminal


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("http://10.1.2.3/feed.xml", "refused: a private address 10.1.2.3"),
        ("http://169.254.169.254/latest/meta-data/", "refused: a cloud-metadata address 169.254.169.254"),
        ("http://[fd00:ec2::254]/", "refused: a cloud-metadata address fd00:ec2::254"),
        ("http://localhost:1/", "refused: localhost resolves to a loopback address 127.0.0.1"),
    ],
)
def test_redirect_to_a_private_host_is_refused_before_connecting(
    server: FeedServer, target: str, words: str
) -> None:
    url = server.redirect("/evil", target)
    resolve = resolver_for({"localhost": ["127.0.0.1"]})
    assert error_of(url, resolver=resolve) == f"{words} (redirected to {target})"
    assert len(server.requests) == 1


def test_redirect_to_a_file_url_is_refused(server: FeedServer) -> None:
    url = server.redirect("/evil", "file:///etc/passwd")
    assert error_of(url) == (
        "refused: only http and https URLs are fetched, not file (redirected to file:///etc/passwd)"
    )


# --- retries: only what can heal within the run ------------------------------------------------

RETRYING = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=0.5, feed_deadline=5.0)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_tried_again_and_can_heal(server: FeedServer, status: int) -> None:
    url = server.serve("/feed.xml", RSS)
    server.queue("/feed.xml", Route(status=status, body=b"busy", content_type="text/plain"))
    assert fetch(url, RETRYING).body == RSS
    assert server.hits("/feed.xml") == 2


def test_server_errors_are_tried_a_bounded_number_of_times(
    server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.serve("/feed.xml", b"down", status=503, content_type="text/plain")
    caplog.set_level(logging.INFO, logger="generator.sources.http")
    start = time.monotonic()
    assert error_of(url, RETRYING) == "HTTP 503 Service Unavailable"
    elapsed = time.monotonic() - start
    assert server.hits("/feed.xml") == RETRY_ATTEMPTS == 3
    assert 0.25 + 0.5 <= elapsed < 3  # backoff: 0.25 s, then 0.5 s
    retries = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(retries) == 2 and retries[0].startswith(f"{url}: HTTP 503 Service Unavailable")


def test_no_retry_starts_too_close_to_the_deadline(server: FeedServer) -> None:
    url = server.serve("/feed.xml", b"down", status=503, content_type="text/plain")
    tight = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=0.5, feed_deadline=0.7)
    assert error_of(url, tight) == "HTTP 503 Service Unavailable"
    assert server.hits("/feed.xml") == 1  # a second attempt would start with 0.45 s left


@pytest.mark.parametrize("status", [400, 403, 404, 410, 501])
def test_errors_that_cannot_heal_are_not_tried_again(server: FeedServer, status: int) -> None:
    url = server.serve("/feed.xml", b"no", status=status, content_type="text/plain")
    error_of(url, RETRYING)
    assert server.hits("/feed.xml") == 1


def test_an_unknown_host_fails_at_once_without_retry(naps: list[float]) -> None:
    calls: list[str] = []

    def offline(host: str, port: int) -> list[str]:
        calls.append(host)
        raise OSError("[Errno -2] Name or service not known")

    words = error_of("https://feeds.example.com/rss", RETRYING, resolver=offline)
    assert words == "cannot resolve host feeds.example.com: Name or service not known"
    assert calls == ["feeds.example.com"] and naps == []  # asked once, no backoff before failing


def test_a_refused_connection_fails_at_once_without_retry(naps: list[float]) -> None:
    calls: list[str] = []
    with FeedServer() as server:
        url = server.url("/feed.xml", host="feeds.example.test")
    settings = NetworkSettings(allow_hosts=("feeds.example.test",), feed_timeout=0.5, feed_deadline=5.0)
    words = error_of(url, settings, resolver=resolver_for({"feeds.example.test": ["127.0.0.1"]}, calls))
    assert words == "cannot connect to feeds.example.test (127.0.0.1): Connection refused"
    assert calls == ["feeds.example.test"] and naps == []  # asked once, no backoff before failing


# --- at most two requests per host at a time ---------------------------------------------------


def test_concurrent_requests_are_capped_per_host(server: FeedServer) -> None:
    hosts = ("a.example.test", "b.example.test")
    resolve = resolver_for(dict.fromkeys(hosts, ("127.0.0.1",)))
    settings = NetworkSettings(allow_hosts=hosts, feed_timeout=2.0, feed_deadline=10.0)
    server.serve("/slow.xml", RSS, delay=0.2)
    urls = [server.url("/slow.xml", host=h) for h in hosts for _ in range(5)]
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        bodies = list(pool.map(lambda u: fetch(u, settings, resolver=resolve).body, urls))
    assert bodies == [RSS] * 10
    assert (
        server.peak
        == {f"{h}:{server.port}": MAX_PER_HOST for h in hosts}
        == {f"{h}:{server.port}": 2 for h in hosts}
    )


def test_waiting_for_a_busy_host_is_bounded_by_the_deadline(server: FeedServer) -> None:
    settings = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=2.0, feed_deadline=0.3)
    # The blockers wait as long as it takes for their slots and keep them until the server stops.
    patient = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=10.0, feed_deadline=10.0)
    hung = server.serve("/hung.xml", hang=True)
    ok = server.serve("/ok.xml", RSS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        blockers = [pool.submit(fetch, hung, patient) for _ in range(MAX_PER_HOST)]
        try:
            # Both slots of 127.0.0.1 are taken once the server has read both requests (a client
            # holds its slot before it connects): waited for, not slept for, so a slow thread start
            # cannot leave a slot free for the request below.
            assert server.wait_for_hits("/hung.xml", MAX_PER_HOST), "the blockers never reached the server"
            assert error_of(ok, settings) == (
                "not requested: 127.0.0.1 had 2 requests open (the most at a time) until the deadline"
            )
            assert server.hits("/ok.xml") == 0
        finally:
            server.stopping.set()  # let the hung requests end
        for blocker in blockers:
            with pytest.raises(SourceError):
                blocker.result()


# --- which hosts may be fetched --------------------------------------------------------------


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed.xml", "gopher://example.com/"])
def test_other_schemes_are_refused(url: str) -> None:
    scheme = url.split(":")[0]
    assert error_of(url) == f"refused: only http and https URLs are fetched, not {scheme}"


def test_loopback_is_refused_unless_allowed(server: FeedServer) -> None:
    url = server.serve("/feed.xml", RSS)
    closed = NetworkSettings(feed_timeout=0.5)
    assert error_of(url, closed) == "refused: a loopback address 127.0.0.1"
    assert server.requests == []


def test_a_name_is_refused_when_any_address_is_private() -> None:
    resolve = resolver_for({"mixed.example": ["93.184.216.34", "10.0.0.5"]})
    words = error_of("https://mixed.example/feed", NetworkSettings(), resolver=resolve)
    assert words == "refused: mixed.example resolves to a private address 10.0.0.5"


def test_credentials_in_urls_are_refused() -> None:
    assert error_of("https://user:secret@example.com/feed") == "refused: credentials in the URL"


def test_unresolvable_host() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    assert error_of("https://nowhere.invalid/", resolver=fail) == (
        "cannot resolve host nowhere.invalid: Name or service not known"
    )


def test_connection_is_pinned_to_the_checked_address(server: FeedServer) -> None:
    calls: list[str] = []
    resolve = resolver_for({"feeds.example.test": ["127.0.0.1"]}, calls)
    settings = NetworkSettings(allow_hosts=("feeds.example.test",), feed_timeout=0.5)
    server.serve("/feed.xml", RSS)
    url = server.url("/feed.xml", host="feeds.example.test")
    assert fetch(url, settings, resolver=resolve).body == RSS
    assert calls == ["feeds.example.test"]
    assert server.requests[-1].headers["Host"] == f"feeds.example.test:{server.port}"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("fd12::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("169.254.169.254", "cloud-metadata"),
        ("fd00:ec2::254", "cloud-metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_blocked_reason(address: str, reason: str | None) -> None:
    assert blocked_reason(address) == reason


# --- limits --------------------------------------------------------------------------------------


def test_a_server_that_never_answers_times_out(server: FeedServer) -> None:
    url = server.serve("/feed.xml", hang=True)
    assert error_of(url, HANGING) == "timed out after 0.5 s"


def test_a_trickling_body_is_cut_by_the_wall_clock_bound(server: FeedServer) -> None:
    url = server.serve("/feed.xml", trickle=True)
    assert error_of(url, HANGING) == "timed out after 0.5 s"


def test_declared_body_over_the_cap(server: FeedServer) -> None:
    url = server.serve("/big.xml", b"<rss>" + b" " * 60_000 + b"</rss>")
    assert error_of(url) == "larger than 50,000 bytes"


def test_undeclared_body_over_the_cap(server: FeedServer) -> None:
    url = server.serve("/big.xml", b"<rss>" + b" " * 60_000 + b"</rss>", declare_length=False)
    assert error_of(url) == "larger than 50,000 bytes"


def test_gzip_bomb_is_capped_after_decompression(server: FeedServer) -> None:
    url = server.serve("/bomb.xml", b"<rss>" + b" " * 5_000_000, gzip=True)
    assert error_of(url) == "larger than 50,000 bytes"


def test_broken_gzip(server: FeedServer) -> None:
    url = server.serve("/feed.xml", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    assert (
        error_of(url)
        == "cannot decompress the body: Error -3 while decompressing data: incorrect header check"
    )


def test_connection_refused() -> None:
    with FeedServer() as server:
        url = server.url("/feed.xml")
    assert error_of(url) == "cannot connect to 127.0.0.1: Connection refused"


# --- content types ---------------------------------------------------------------------------------


def test_wrong_content_type(server: FeedServer) -> None:
    url = server.serve("/feed.xml", b"\x89PNG....", content_type="image/png")
    assert error_of(url) == "not a feed (content-type image/png)"


def test_html_page_instead_of_a_feed(server: FeedServer) -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>Consent</title></head><body>Accept cookies</body></html>"
    url = server.serve("/feed.xml", page, content_type="text/html; charset=utf-8")
    assert error_of(url) == "not a feed (content-type text/html, an HTML page)"


@pytest.mark.parametrize("content_type", ["text/html", "text/plain", None, "application/xml", "text/xml"])
def test_mislabelled_feeds_are_accepted(server: FeedServer, content_type: str | None) -> None:
    url = server.serve("/feed.xml", RSS, content_type=content_type)
    assert fetch(url, SETTINGS).body == RSS


# --- HTTPS with the pinned address -----------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        # an elliptic-curve key: made in ~10 ms, where an RSA key takes 0.4-0.7 s
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=feeds.example.test",
         "-addext", "subjectAltName=DNS:feeds.example.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_a_redirect_from_https_to_http_is_refused(certificate: tuple[Path, Path]) -> None:
    resolve = resolver_for({"feeds.example.test": ["127.0.0.1"]})
    settings = NetworkSettings(allow_hosts=("feeds.example.test", "127.0.0.1"), feed_timeout=2)
    with FeedServer(tls=certificate) as secure, FeedServer() as plain:
        plain.serve("/feed.xml", RSS)
        secure.redirect("/feed.xml", plain.url("/feed.xml"), 301)
        url = secure.url("/feed.xml", host="feeds.example.test")
        words = error_of(url, settings, resolver=resolve, ca_bundle=str(certificate[0]))
        assert words == f"refused: a redirect from https to http ({plain.url('/feed.xml')})"
        assert plain.requests == []
        secure.serve("/same.xml", RSS)  # https to https is followed
        secure.redirect("/moved.xml", "/same.xml", 301)
        moved = fetch(secure.url("/moved.xml", host="feeds.example.test"), settings, resolver=resolve,
                      ca_bundle=str(certificate[0]))  # fmt: skip
        assert moved.body == RSS


def test_https_uses_the_host_name_for_sni_and_the_certificate(certificate: tuple[Path, Path]) -> None:
    resolve = resolver_for({"feeds.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]})
    settings = NetworkSettings(allow_hosts=("feeds.example.test", "other.example.test"), feed_timeout=2)
    with FeedServer(tls=certificate) as server:
        server.serve("/feed.xml", RSS)
        good = server.url("/feed.xml", host="feeds.example.test")
        assert fetch(good, settings, resolver=resolve, ca_bundle=str(certificate[0])).body == RSS
        assert server.requests[-1].headers["Host"] == f"feeds.example.test:{server.port}"
        wrong = server.url("/feed.xml", host="other.example.test")
        words = error_of(wrong, settings, resolver=resolve, ca_bundle=str(certificate[0]))
        assert words.startswith("TLS error with other.example.test")
        assert "other.example.test" in words
