"""Fetching one feed over HTTP, safely.

feedparser fetches nothing here: it has no timeout or size limit and reads local
paths.  :func:`fetch` is the project's only HTTP client for feeds:

- only ``http`` and ``https``; no credentials in URLs; environment proxies ignored;
- every host is resolved first and refused when any of its addresses is loopback,
  private, link-local, multicast, reserved, unspecified or a cloud-metadata address,
  unless the host is listed in ``NetworkSettings.allow_hosts``;
- the connection is pinned to the address that was checked (the URL names the IP,
  the ``Host`` header and TLS SNI / certificate check name the host), so a DNS
  answer that changes between the check and the connection cannot redirect it;
- redirects are followed by hand, at most ``max_redirects``, each hop checked again; a
  redirect from https to http is refused; where the chain starts with permanent redirects
  (301, 308), :attr:`FetchResult.moved_to` names the new address;
- at most ``MAX_PER_HOST`` requests to one host at a time (all fetches in the process);
- a 500, 502, 503 or 504 answer is tried again, at most ``RETRY_ATTEMPTS`` times in all, with
  exponential backoff, and only while a new attempt can start well before ``deadline``;
  failures that cannot heal within a run (an unknown host, a refused connection, a refusal
  here, a timeout) are never retried;
- one wall-clock bound (``feed_timeout``) for the whole fetch: it caps connect and
  read timeouts of every request and is checked again while the body streams;
- the decompressed body is capped at ``max_feed_bytes``;
- conditional GET with ``If-None-Match`` / ``If-Modified-Since``;
- what may come back is an :class:`Expect`: :data:`FEED` (the default) takes feed-like content
  types, :data:`DATA` the data files of the other providers (CSV, iCalendar, JSON, xlsx); either way an
  HTML page where a feed or file should be is refused, by its content.

Residual risks: ``socket.getaddrinfo`` has no timeout, so a hung resolver is bounded
only by the caller's overall deadline (``fetch_feeds`` stops waiting for it); and a
server trickling one byte at a time can overrun the wall-clock bound by at most one
read timeout, because the bound is checked between chunks.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import tenacity
import urllib3
from requests.adapters import HTTPAdapter

from generator.errors import SourceError
from generator.models import NetworkSettings

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], Sequence[str]]
"""``resolver(host, port)`` → the host's IP addresses as strings (default: ``socket.getaddrinfo``)."""

REDIRECTS = frozenset({301, 302, 303, 307, 308})
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, application/feed+json;q=0.5, */*;q=0.1"
)
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
# Content types that may still carry a feed (servers mislabel feeds); the body decides.
SNIFFED_TYPES = frozenset({"", "text/html", "text/plain", "application/octet-stream"})
DATA_ACCEPT = "text/csv, text/calendar, application/json;q=0.9, text/plain;q=0.5, */*;q=0.1"
DATA_TYPES = frozenset(
    {"text/csv", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel"}
    | {"text/calendar", "application/json", "text/json"}
    | {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}  # SPDR holdings (xlsx)
)
_CHUNK = 64 * 1024
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
RETRY_ATTEMPTS = 3
RETRY_WAIT = 0.25  # seconds before the second attempt; doubled before each next one
RETRY_WAIT_MAX = 2.0
MIN_ATTEMPT_TIME = 0.5  # no attempt starts with less time than this left before the deadline
MAX_PER_HOST = 2


@dataclass(frozen=True)
class FetchResult:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int  # 200 or 304
    body: bytes  # decompressed; empty on 304
    etag: str | None
    last_modified: str | None
    content_type: str
    not_modified: bool
    moved_to: str | None = None  # where the leading permanent redirects (301, 308) point


class ServerError(SourceError):
    """A 5xx answer that may heal within the run (``RETRY_STATUSES``)."""


@dataclass(frozen=True)
class Expect:
    """What a download must be: the Accept header sent and the content types taken."""

    what: str  # "a feed", for messages
    accept: str  # the Accept header
    types: frozenset[str]  # media types taken besides SNIFFED_TYPES (whose body decides)
    words: tuple[str, ...] = ()  # a media type containing one of these is taken too
    always_sniff: bool = False  # refuse an HTML body whatever the declared type


FEED = Expect("a feed", FEED_ACCEPT, frozenset(), ("xml", "rss", "atom", "rdf", "json"))
DATA = Expect("a data file", DATA_ACCEPT, DATA_TYPES, always_sniff=True)


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str  # as sent in SNI and checked against the certificate (IDNA, lower case)
    host_header: str
    port: int
    request_target: str  # path and query
    addresses: tuple[str, ...]  # checked; connect to these, in this order

    def pinned_url(self, address: str) -> str:
        literal = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{literal}:{self.port}{self.request_target}"


class _Clock:
    """The wall-clock bound of one fetch."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    @property
    def message(self) -> str:
        return f"timed out after {self.seconds:g} s"

    def remaining(self, source: str) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise SourceError(source, self.message)
        return left


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, IPv4 first, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = list(dict.fromkeys(str(info[4][0]) for info in infos))
    return sorted(found, key=lambda a: ":" in a)


def blocked_reason(address: str) -> str | None:
    """Why ``address`` may not be fetched ("private", "loopback", ...), or None when it is public."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        (ip in METADATA_ADDRESSES, "cloud-metadata"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "non-public"),
    )
    return next((name for hit, name in checks if hit), None)


def fetch(
    url: str,
    settings: NetworkSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    resolver: Resolver | None = None,
    ca_bundle: str | None = None,
    deadline: float | None = None,
    expect: Expect = FEED,
    user_agent: str | None = None,
    on_request: Callable[[], None] | None = None,
) -> FetchResult:
    """GET one feed (or, with ``expect=DATA``, one data file) under the rules in the module docstring.

    ``ca_bundle`` replaces the default trusted certificates (a PEM file).  ``deadline`` (a
    ``time.monotonic()`` value, default ``feed_deadline`` from now) bounds retries and the wait
    for a free connection to the host; each attempt is bounded by ``feed_timeout``.
    ``user_agent`` replaces ``settings.user_agent`` (a server that refuses non-browser clients).
    ``on_request`` is called once a request is about to be sent (it has its connection slot).
    Raises :class:`SourceError` naming ``url`` with the reason in plain words.
    """
    end = time.monotonic() + settings.feed_deadline if deadline is None else deadline
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(ServerError),
        wait=tenacity.wait_exponential(multiplier=RETRY_WAIT, max=RETRY_WAIT_MAX),
        stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS) | _TooLateForAnother(end),
        before_sleep=_log_retry,
        reraise=True,
    )
    headers = _request_headers(user_agent or settings.user_agent, expect.accept, etag, last_modified)
    return retrying(
        _fetch_once, url, settings, headers, resolver or system_resolver, ca_bundle, end, expect, on_request
    )


class _TooLateForAnother(tenacity.stop.stop_base):
    """Stop when the next attempt would start less than ``MIN_ATTEMPT_TIME`` before ``end``."""

    def __init__(self, end: float) -> None:
        self.end = end

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return time.monotonic() + retry_state.upcoming_sleep + MIN_ATTEMPT_TIME > self.end


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.info(
        "%s; trying again in %.2g s (attempt %d of %d)",
        error, state.upcoming_sleep, state.attempt_number + 1, RETRY_ATTEMPTS,
    )  # fmt: skip


def _fetch_once(
    url: str,
    settings: NetworkSettings,
    headers: dict[str, str],
    resolve: Resolver,
    ca_bundle: str | None,
    end: float,
    expect: Expect = FEED,
    on_request: Callable[[], None] | None = None,
) -> FetchResult:
    """One attempt: the request and its redirects, each hop checked and holding a slot of its host."""
    clock: _Clock | None = None  # started once the first hop has its slot
    current = url
    moved_to: str | None = None
    leading_permanent = True
    for _hop in range(settings.max_redirects + 1):
        target = _check_target(url, current, settings, resolve)
        with _host_slot(target.host, url, end, clock):
            if clock is None and on_request is not None:
                on_request()
            clock = clock or _Clock(settings.feed_timeout)
            with _pinned_session(target, ca_bundle) as session:
                response = _send(session, target, headers, clock, url)
                try:
                    if response.status_code not in REDIRECTS:
                        return _finish(url, current, response, settings, clock, moved_to, expect)
                    location = response.headers.get("Location", "").strip()
                    if not location:
                        raise SourceError(url, f"{_status_words(response)} without a Location header")
                    status = response.status_code
                    following = _redirect_target(url, current, location)
                finally:
                    response.close()
        log.debug("%s: %s redirects to %s", url, current, location)
        if urlsplit(current).scheme.lower() == "https" and urlsplit(following).scheme.lower() == "http":
            raise SourceError(url, f"refused: a redirect from https to http ({following})")
        leading_permanent = leading_permanent and status in PERMANENT_REDIRECTS
        moved_to = following if leading_permanent else moved_to
        current = following
    raise SourceError(url, f"too many redirects ({settings.max_redirects + 1})")


def _redirect_target(source: str, current: str, location: str) -> str:
    """The absolute URL a ``Location`` header points to from ``current``.

    A Location that cannot be parsed (``http://[::1/x``) is the server's fault: SourceError
    naming ``source``, with the header's text escaped and cut short (the server wrote it).
    """
    try:
        following = urljoin(current, location)  # parses the Location: "[::1" or "[zzz]" raise here
    except ValueError as exc:
        raise SourceError(source, f"invalid redirect Location {_quoted(location)}: {exc}") from None
    return following


def _quoted(text: str, limit: int = 80) -> str:
    """``text`` as a Python literal (control characters escaped), cut to ``limit`` characters."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}…"


_HOST_SLOTS: dict[str, threading.BoundedSemaphore] = {}
_HOST_SLOTS_LOCK = threading.Lock()


@contextmanager
def _host_slot(host: str, source: str, end: float, clock: _Clock | None) -> Iterator[None]:
    """Hold one of the ``MAX_PER_HOST`` request slots of ``host``, waiting at most until ``end``
    (or the attempt's own bound, once it runs)."""
    with _HOST_SLOTS_LOCK:
        slot = _HOST_SLOTS.setdefault(host, threading.BoundedSemaphore(MAX_PER_HOST))
    until = end if clock is None else min(end, clock.end)
    if not slot.acquire(timeout=max(0.0, until - time.monotonic())):
        if clock is not None and clock.end <= end:
            raise SourceError(source, clock.message)
        raise SourceError(
            source,
            f"not requested: {host} had {MAX_PER_HOST} requests open (the most at a time) until the deadline",
        )
    try:
        yield
    finally:
        slot.release()


def _request_headers(
    user_agent: str, accept: str, etag: str | None, last_modified: str | None
) -> dict[str, str]:
    headers = {
        "User-Agent": user_agent,
        "Accept": accept,
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _check_target(source: str, url: str, settings: NetworkSettings, resolve: Resolver) -> _Target:
    """Parse, resolve and check one hop; raises SourceError("refused: ...") when it may not be fetched."""
    where = "" if url == source else f" (redirected to {url})"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise SourceError(source, f"invalid URL {_quoted(url)}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise SourceError(
            source, f"refused: only http and https URLs are fetched, not {scheme or 'this'}{where}"
        )
    if parts.username is not None or parts.password is not None:
        raise SourceError(source, f"refused: credentials in the URL{where}")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        host = (parts.hostname or "").encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError) as exc:
        raise SourceError(source, f"invalid URL {_quoted(url)}: {exc}") from None
    if not host:
        raise SourceError(source, f"refused: no host in {url!r}")
    addresses = _resolve(source, host, port, resolve)
    if host not in {h.lower() for h in settings.allow_hosts}:
        for address in addresses:
            reason = blocked_reason(address)
            if reason is not None:
                article = "an" if reason[0] in "aeiou" else "a"
                named = "" if address == host else f"{host} resolves to "
                raise SourceError(source, f"refused: {named}{article} {reason} address {address}{where}")
    default_port = port == (443 if scheme == "https" else 80)
    literal = f"[{host}]" if ":" in host else host
    return _Target(
        url=url,
        scheme=scheme,
        host=host,
        host_header=literal if default_port else f"{literal}:{port}",
        port=port,
        request_target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        addresses=addresses,
    )


def _resolve(source: str, host: str, port: int, resolve: Resolver) -> tuple[str, ...]:
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    try:
        found = tuple(str(ipaddress.ip_address(a.split("%")[0])) for a in resolve(host, port))
    except (OSError, UnicodeError, ValueError) as exc:
        raise SourceError(source, f"cannot resolve host {host}: {_root_cause(exc)}") from None
    if not found:
        raise SourceError(source, f"cannot resolve host {host}: no addresses")
    return found


class _PinnedHostAdapter(HTTPAdapter):
    """HTTPS to an IP literal, with SNI and the certificate check done for ``hostname``."""

    def __init__(self, hostname: str) -> None:
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["server_hostname"] = self._hostname
        pool_kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


class _NoRedirectSession(requests.Session):
    """A session that leaves the ``Location`` header alone: :func:`_fetch_once` follows redirects.

    Even with ``allow_redirects=False`` requests parses the Location of a redirect (for
    ``Response.next``) and a malformed one (``http://[::1/x``) raises ValueError out of ``get``.
    """

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


@contextmanager
def _pinned_session(target: _Target, ca_bundle: str | None) -> Iterator[requests.Session]:
    session = _NoRedirectSession()
    session.trust_env = False  # a proxy would resolve names itself and defeat the address check
    session.headers.clear()
    session.mount("http://", HTTPAdapter(max_retries=0))
    session.mount("https://", _PinnedHostAdapter(target.host))
    if ca_bundle:
        session.verify = ca_bundle
    try:
        yield session
    finally:
        session.close()


def _send(
    session: requests.Session, target: _Target, headers: dict[str, str], clock: _Clock, source: str
) -> requests.Response:
    """One request, trying the checked addresses in order until one connects."""
    last_error = ""
    for address in target.addresses:
        left = clock.remaining(source)
        try:
            return session.get(
                target.pinned_url(address),
                headers={**headers, "Host": target.host_header},
                stream=True,
                allow_redirects=False,
                timeout=(left, left),
            )
        except requests.Timeout:
            raise SourceError(source, clock.message) from None
        except requests.exceptions.SSLError as exc:
            raise SourceError(source, f"TLS error with {target.host}: {_root_cause(exc)}") from None
        except requests.ConnectionError as exc:
            via = "" if address == target.host else f" ({address})"
            last_error = f"cannot connect to {target.host}{via}: {_root_cause(exc)}"
            log.debug("%s: %s", source, last_error)
        except requests.RequestException as exc:
            raise SourceError(source, f"request failed: {_root_cause(exc)}") from None
    raise SourceError(source, last_error)


def _finish(
    source: str,
    final_url: str,
    response: requests.Response,
    settings: NetworkSettings,
    clock: _Clock,
    moved_to: str | None,
    expect: Expect = FEED,
) -> FetchResult:
    status = response.status_code
    etag = response.headers.get("ETag")
    last_modified = response.headers.get("Last-Modified")
    content_type = response.headers.get("Content-Type", "")
    if status == 304:
        return FetchResult(source, final_url, 304, b"", etag, last_modified, content_type, True, moved_to)
    if status in RETRY_STATUSES:
        raise ServerError(source, _status_words(response))
    if status != 200:
        raise SourceError(source, _status_words(response))
    media = content_type.split(";")[0].strip().lower()
    if not _may_be(expect, media):
        raise SourceError(source, f"not {expect.what} (content-type {media})")
    _check_declared_length(source, response, settings.max_feed_bytes)
    body = _read_body(source, response, settings.max_feed_bytes, clock)
    if (expect.always_sniff or media in SNIFFED_TYPES) and _looks_like_html(body):
        raise SourceError(source, f"not {expect.what} (content-type {media or 'missing'}, an HTML page)")
    return FetchResult(source, final_url, 200, body, etag, last_modified, content_type, False, moved_to)


def _may_be(expect: Expect, media: str) -> bool:
    return media in SNIFFED_TYPES or media in expect.types or any(word in media for word in expect.words)


def _check_declared_length(source: str, response: requests.Response, cap: int) -> None:
    """Refuse early when an uncompressed body announces itself as too large."""
    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
        return
    try:
        declared = int(response.headers.get("Content-Length", "0"))
    except ValueError:
        return
    if declared > cap:
        raise SourceError(source, f"larger than {cap:,} bytes")


def _read_body(source: str, response: requests.Response, cap: int, clock: _Clock) -> bytes:
    """Stream the decompressed body, enforcing the size cap and the wall-clock bound.

    ``read1`` returns after a single socket read, so a server trickling bytes cannot keep
    one call blocked past the bound (``iter_content`` would wait for a whole chunk).
    """
    raw = response.raw
    chunks: list[bytes] = []
    total = 0
    try:
        while chunk := raw.read1(_CHUNK, decode_content=True):
            total += len(chunk)
            if total > cap:
                raise SourceError(source, f"larger than {cap:,} bytes")
            chunks.append(chunk)
            clock.remaining(source)
    except urllib3.exceptions.DecodeError as exc:
        raise SourceError(source, f"cannot decompress the body: {_root_cause(exc)}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if _is_timeout(exc):
            raise SourceError(source, clock.message) from None
        raise SourceError(source, f"connection broken while reading: {_root_cause(exc)}") from None
    return b"".join(chunks)


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _status_words(response: requests.Response) -> str:
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:  # a non-standard code: the server's own reason text is not trusted
        phrase = "non-standard status"
    return f"HTTP {response.status_code} {phrase}"


def _is_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError | requests.Timeout) or "timed out" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _root_cause(exc: BaseException) -> str:
    """The innermost reason in plain words, without urllib3's pool and object names."""
    inner = exc
    for _depth in range(8):
        nxt = getattr(inner, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = next((a for a in reversed(inner.args) if isinstance(a, BaseException)), None)
        if nxt is None or nxt is inner:
            break
        inner = nxt
    text = re.sub(r"^(<[^>]*>|\w+\(host=[^)]*\)): ", "", str(inner))
    text = text.replace("Failed to establish a new connection: ", "")
    return re.sub(r"\[Errno -?\d+\] ", "", text)
