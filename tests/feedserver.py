"""A loopback HTTP(S) server for feed tests, with routes configured per test.

Use the ``feed_server`` fixture (import it into a test module, or list this module in
``pytest_plugins``)::

    def test_ok(feed_server):
        url = feed_server.serve("/feed.xml", body=b"<rss ...>", etag='"v1"')
        ...
        assert feed_server.requests[-1].headers["If-None-Match"] == '"v1"'

A route can answer with a body (optionally gzip-encoded), a status, a redirect, 304 when
the client's If-None-Match / If-Modified-Since match, never answer (``hang``: it waits
until the server stops), send its body one byte at a time forever (``trickle``), or wait
``delay`` seconds first.  ``queue(path, Route(...), ...)`` gives the next requests to a path
those answers, in order, before its route answers again (a server failing, then healing).
The server counts requests in progress per ``Host`` header while they wait out their ``delay``
and keeps the peak (``peak``).  ``wait_for_hits(path, n)`` waits until the server has read ``n``
requests to ``path`` (a test that needs requests in flight waits for them instead of sleeping).
"""

from __future__ import annotations

import contextlib
import gzip
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # sent with the body; a matching If-None-Match gets 304
    last_modified: str | None = None  # sent with the body; an equal If-Modified-Since gets 304
    location: str | None = None  # Location header (for 3xx)
    gzip: bool = False  # Content-Encoding: gzip
    declare_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    hang: bool = False  # accept the request, never answer
    trickle: bool = False  # send headers, then one byte every 50 ms until the client leaves
    delay: float = 0.0  # seconds to wait before answering


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class FeedServer:
    """A threaded server on 127.0.0.1, port 0.  ``tls=(certfile, keyfile)`` makes it HTTPS."""

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.queued: dict[str, list[Route]] = {}
        self.requests: list[Seen] = []
        self.active: dict[str, int] = {}  # requests in progress, by Host header
        self.peak: dict[str, int] = {}  # the most at once, by Host header
        self._lock = threading.Lock()
        self._seen = threading.Condition(self._lock)  # notified as each request is recorded
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.feeds = self  # type: ignore[attr-defined]
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="feedserver", daemon=True
        )

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def serve(self, path: str, body: bytes | str = b"", **options: object) -> str:
        """Add (or replace) a route; returns its URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(body=data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def queue(self, path: str, *answers: Route) -> None:
        """The next ``len(answers)`` requests to ``path`` get these answers, in order."""
        self.queued.setdefault(path, []).extend(answers)

    def route_for(self, path: str) -> Route | None:
        with self._lock:
            waiting = self.queued.get(path)
            return waiting.pop(0) if waiting else self.routes.get(path)

    @contextlib.contextmanager
    def counting(self, host: str) -> Iterator[None]:
        with self._lock:
            self.active[host] = self.active.get(host, 0) + 1
            self.peak[host] = max(self.peak.get(host, 0), self.active[host])
        try:
            yield
        finally:
            with self._lock:
                self.active[host] -= 1

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.serve(path, status=status, location=location, content_type=None)

    def chain(self, prefix: str, hops: int, final: str, status: int = 301) -> str:
        """``hops`` redirects: prefix0 → prefix1 → ... → ``final`` (a path or URL); returns the first URL."""
        for i in range(hops):
            target = f"{prefix}{i + 1}" if i + 1 < hops else final
            self.redirect(f"{prefix}{i}", target, status)
        return self.url(f"{prefix}0")

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def record(self, seen: Seen) -> None:
        with self._seen:
            self.requests.append(seen)
            self._seen.notify_all()

    def wait_for_hits(self, path: str, n: int, timeout: float = 10.0) -> bool:
        """Wait until ``n`` requests to ``path`` have been read (False if not within ``timeout``)."""
        with self._seen:
            return self._seen.wait_for(lambda: self.hits(path) >= n, timeout)


class _Handler(BaseHTTPRequestHandler):
    server_version = "feedserver/1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        feeds: FeedServer = self.server.feeds  # type: ignore[attr-defined]
        path = self.path.split("?")[0]
        feeds.record(Seen("GET", self.path, dict(self.headers.items())))
        self._respond(feeds, feeds.route_for(path))

    def _respond(self, feeds: FeedServer, route: Route | None) -> None:
        if route is not None and route.delay:
            # Counted only while it waits: that span lies wholly inside the client's hold on its
            # slot (it began after the client connected and ends before the answer is sent), so
            # a client that has read its answer and started the next request is never counted
            # twice because this thread has not yet reached its cleanup.
            with feeds.counting(self.headers.get("Host", "")):
                feeds.stopping.wait(route.delay)
        if route is None:
            self._answer(Route(status=404, body=b"not found", content_type="text/plain"))
        elif route.hang:
            feeds.stopping.wait()
        elif self._not_modified(route):
            self._head(304, {"ETag": route.etag} if route.etag else {})
        elif route.trickle:
            self._trickle(route, feeds.stopping)
        else:
            self._answer(route)

    def _not_modified(self, route: Route) -> bool:
        etag_hit = route.etag is not None and self.headers.get("If-None-Match") == route.etag
        date_hit = (
            route.last_modified is not None and self.headers.get("If-Modified-Since") == route.last_modified
        )
        return etag_hit or date_hit

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _answer(self, route: Route) -> None:
        body = gzip.compress(route.body) if route.gzip else route.body
        headers = {"Content-Length": str(len(body))} if route.declare_length else {}
        headers.update(route.headers)
        if route.content_type:
            headers["Content-Type"] = route.content_type
        if route.gzip:
            headers["Content-Encoding"] = "gzip"
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if route.location:
            headers["Location"] = route.location
        self._head(route.status, headers)
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def _trickle(self, route: Route, stopping: threading.Event) -> None:
        self._head(200, {"Content-Type": route.content_type or "application/rss+xml"})
        try:
            while not stopping.wait(0.05):
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            pass


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A started :class:`FeedServer`, stopped after the test."""
    with FeedServer() as server:
        yield server
