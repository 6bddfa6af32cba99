"""A local transport that answers yfinance's Yahoo Finance requests from recorded bodies.

yfinance 1.7 accepts a curl_cffi ``Session`` (its default backend) or a ``requests.Session``
(``yfinance/_http.py::is_supported_session``) for ``yf.download(session=...)`` and
``yf.Ticker(symbol, session=...)``.  :meth:`YahooTransport.session` gives a curl_cffi Session
whose ``request()`` is answered here, so yfinance runs exactly its production code path (same
response and exception classes); :meth:`YahooTransport.requests_session` gives a
``requests.Session`` with this transport mounted as its adapter.  Either way yfinance's own
request, cookie/crumb and parsing code runs on the recorded bytes and nothing leaves the process.

What it answers:

- ``fc.yahoo.com`` (cookie): 404 without a cookie, as Yahoo does for an unknown client;
  ``/v1/test/getcrumb``: a fixed crumb; ``guce.yahoo.com`` consent pages: 404.
- ``/v8/finance/chart/SYM``: the body given for SYM, cut to ``[period1, period2)`` like Yahoo
  does (``range=1d``, yfinance's time-zone probe, gets the last bar).  An unknown symbol gets
  Yahoo's 404 "No data found, symbol may be delisted" body.
- ``/v10/finance/quoteSummary/SYM``, ``/v7/finance/quote`` and the fundamentals timeseries:
  the body given for SYM, or Yahoo's "not found" answers.
- ``POST /v1/finance/visualization`` (the earnings calendar): what the handler given to
  :meth:`YahooTransport.calendar` answers for the request's JSON body (offset, size, query);
  without one, 404.

A symbol can also be made to fail (any status, e.g. 429), to lose its connection midway (a
reset, which may heal), or to hang until :attr:`release` is set.  :meth:`YahooTransport.offline`
makes every request fail as on a machine without network: the name lookup fails, or the
connection is refused; each session raises its own error types, as the real ones do.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
import requests
from curl_cffi import requests as curl_requests
from requests.adapters import BaseAdapter
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

T = TypeVar("T", bound=Any)  # a transport with a ``release`` event

CRUMB = "offline-crumb"
NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}
HANG_LIMIT = 30.0  # seconds a hung request waits at most, should a test forget to release it


@dataclass(frozen=True)
class Seen:
    """One request the transport answered."""

    method: str
    host: str
    path: str
    params: dict[str, str]

    @property
    def symbol(self) -> str:
        if self.path.endswith("/finance/quote"):  # v7 quote names its symbols in the query
            return self.params.get("symbols", "").upper()
        return unquote(self.path.rsplit("/", 1)[-1]).upper() if "/finance/" in self.path else ""

    @property
    def is_history(self) -> bool:
        """A chart request for bars (not yfinance's ``range=1d`` time-zone probe)."""
        return self.path.startswith("/v8/finance/chart/") and "period1" in self.params


def load_body(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes())  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json;charset=utf-8"


class YahooTransport:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.seen: list[Seen] = []
        self._charts: dict[str, dict[str, Any]] = {}
        self._summaries: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, Reply] = {}
        self._hangs: set[str] = set()
        self._drops: set[str] = set()
        self._bars_only: set[str] = set()
        self._offline = ""  # "", "dns" or "refused"
        self._calendar: Callable[[dict[str, Any]], Reply] | None = None
        self.posted: list[dict[str, Any]] = []  # the JSON bodies of the calendar requests, in order
        self._lock = threading.Lock()

    # -- sessions -----------------------------------------------------------------------------

    def session(self) -> curl_requests.Session:  # type: ignore[type-arg]
        """A curl_cffi Session (yfinance's default backend) answered by this transport."""
        return _OfflineCurlSession(self)

    def requests_session(self) -> requests.Session:
        """A requests.Session with this transport mounted as its adapter."""
        s = requests.Session()
        s.mount("https://", _Adapter(self))
        s.mount("http://", _Adapter(self))
        return s

    # -- setting up ---------------------------------------------------------------------------

    def chart(self, symbol: str, body: dict[str, Any] | Path) -> None:
        """Serve this chart-API body for ``symbol``'s chart requests."""
        self._charts[symbol.upper()] = load_body(body) if isinstance(body, Path) else body

    def summary(self, symbol: str, body: dict[str, Any] | Path) -> None:
        """Serve this quoteSummary body for ``symbol``."""
        self._summaries[symbol.upper()] = load_body(body) if isinstance(body, Path) else body

    def fail(
        self,
        symbol: str,
        status: int = 429,
        body: bytes = b"Too Many Requests\r\n",
        *,
        bars_only: bool = False,
    ) -> None:
        """Answer every request naming ``symbol`` (only its bars requests: ``bars_only``) with ``status``.

        Until :meth:`heal`.
        """
        self._failures[symbol.upper()] = Reply(status, body, "text/plain")
        if bars_only:
            self._bars_only.add(symbol.upper())

    def calendar(self, handler: Callable[[dict[str, Any]], Reply]) -> None:
        """Answer each visualization (calendar) request with ``handler(its JSON body)``."""
        self._calendar = handler

    def drop(self, symbol: str) -> None:
        """Reset the connection of every request naming ``symbol`` until :meth:`heal`."""
        self._drops.add(symbol.upper())

    def offline(self, kind: str = "dns") -> None:
        """Fail every request before it is sent: "dns" (no name lookup) or "refused" (no connection)."""
        assert kind in ("dns", "refused", "")
        self._offline = kind

    def heal(self, symbol: str) -> None:
        self._failures.pop(symbol.upper(), None)
        self._bars_only.discard(symbol.upper())
        self._drops.discard(symbol.upper())

    def hang(self, symbol: str) -> None:
        """Never answer ``symbol`` (until :attr:`release` is set; then answer 503)."""
        self._hangs.add(symbol.upper())

    def history_requests(self, symbol: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.seen if r.is_history and r.symbol == symbol.upper()]

    # -- answering ----------------------------------------------------------------------------

    def answer_post(self, url: str, body: dict[str, Any]) -> Reply:
        """A POST with a JSON body: the calendar handler for visualization requests, else :meth:`answer`."""
        if "/v1/finance/visualization" not in url or self._calendar is None or self._offline:
            return self.answer("POST", url)
        parts = urlsplit(url)
        with self._lock:
            self.seen.append(Seen("POST", parts.hostname or "", parts.path, dict(parse_qsl(parts.query))))
            self.posted.append(body)
        return self._calendar(body)

    def answer(self, method: str, url: str) -> Reply:
        parts = urlsplit(url)
        seen = Seen(method.upper(), parts.hostname or "", parts.path, dict(parse_qsl(parts.query)))
        with self._lock:
            self.seen.append(seen)
        if self._offline:
            return OFFLINE[self._offline]
        if seen.symbol and seen.symbol in self._hangs:
            self.release.wait(HANG_LIMIT)
            return Reply(503, b"Service Unavailable", "text/plain")
        if seen.symbol and seen.symbol in self._drops:
            return DROPPED
        if seen.symbol in self._failures and (seen.is_history or seen.symbol not in self._bars_only):
            return self._failures[seen.symbol]
        if seen.path.endswith("/v1/test/getcrumb"):
            return Reply(200, CRUMB.encode(), "text/plain")
        if seen.path.startswith("/v8/finance/chart/"):
            body = self._charts.get(seen.symbol)
            return _json(200, _cut(body, seen.params)) if body is not None else _json(404, NOT_FOUND)
        if seen.path.startswith("/v10/finance/quoteSummary/"):
            found = self._summaries.get(seen.symbol)
            if found is None:
                missing = {"code": "Not Found", "description": f"Quote not found for symbol: {seen.symbol}"}
                return _json(404, {"quoteSummary": {"result": None, "error": missing}})
            return _json(200, found)
        if seen.path.startswith("/v7/finance/quote"):
            return _json(200, {"quoteResponse": {"result": [], "error": None}})
        if "fundamentals-timeseries" in seen.path:
            return _json(200, {"timeseries": {"result": [], "error": None}})
        return Reply(404, b"Not Found", "text/html")  # fc.yahoo.com (cookie), consent pages


DROPPED = Reply(0, b"reset")  # the connection failed: each session raises its own error type
OFFLINE = {"dns": Reply(0, b"dns"), "refused": Reply(0, b"refused")}
HOST = "query2.finance.yahoo.com"
RESET_ERROR = "Failed to perform, curl: (56) Recv failure: Connection reset by peer"
DNS_ERROR = f"Failed to perform, curl: (6) Could not resolve host: {HOST}"
REFUSED_ERROR = f"Failed to perform, curl: (7) Failed to connect to {HOST} port 443: Connection refused"


def _curl_error(reply: Reply) -> Exception | None:
    """The error curl_cffi raises for a connection that failed this way (None: it did not fail)."""
    exc = curl_requests.exceptions
    if reply.status:
        return None
    return {
        b"reset": exc.ConnectionError(RESET_ERROR, 56),
        b"dns": exc.DNSError(DNS_ERROR, 6),
        b"refused": exc.ConnectionError(REFUSED_ERROR, 7),
    }[reply.body]


def _requests_error(reply: Reply) -> Exception | None:
    """The error requests raises for a connection that failed this way (None: it did not fail)."""
    if reply.status:
        return None
    if reply.body == b"reset":
        return requests.ConnectionError(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"))
    if reply.body == b"dns":
        lookup = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        reason: Exception = NameResolutionError(HOST, None, lookup)  # type: ignore[arg-type]
    else:
        refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
        reason = NewConnectionError(None, f"Failed to establish a new connection: {refused}")  # type: ignore[arg-type]
        reason.__cause__ = refused
    return requests.ConnectionError(MaxRetryError(None, "/", reason))  # type: ignore[arg-type]


REASONS = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 503: "Service Unavailable"}


class _OfflineCurlSession(curl_requests.Session):  # type: ignore[type-arg]
    """A curl_cffi Session whose requests are answered by a :class:`YahooTransport`, never sent."""

    def __init__(self, transport: YahooTransport) -> None:
        super().__init__()
        self._transport = transport

    def request(self, method: Any, url: str, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        full = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}" if params else url
        body = kwargs.get("json")
        if str(method).upper() == "POST" and isinstance(body, dict):
            reply = self._transport.answer_post(full, body)
        else:
            reply = self._transport.answer(str(method), full)
        if (error := _curl_error(reply)) is not None:
            raise error
        response = curl_requests.Response()
        response.url = full
        response.status_code = reply.status
        response.reason = REASONS.get(reply.status, "")
        response.ok = reply.status < 400
        response.content = reply.body
        response.headers["Content-Type"] = reply.content_type
        return response

    def _request_once(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a test session tried to reach the network")


class _Adapter(BaseAdapter):
    """The same transport as a requests adapter."""

    def __init__(self, transport: YahooTransport) -> None:
        super().__init__()
        self._transport = transport

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = json.loads(request.body) if request.method == "POST" and request.body else None
        if isinstance(body, dict):
            reply = self._transport.answer_post(request.url or "", body)
        else:
            reply = self._transport.answer(request.method or "GET", request.url or "")
        if (error := _requests_error(reply)) is not None:
            raise error
        response = requests.Response()
        response.status_code = reply.status
        response._content = reply.body
        response.headers["Content-Type"] = reply.content_type
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        response.reason = REASONS.get(reply.status, "")
        return response

    def close(self) -> None:
        pass


def _cut(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """The body with only the bars Yahoo would send for these parameters."""
    result = body["chart"]["result"][0]
    stamps: list[int] = result.get("timestamp", [])
    if not stamps:
        return body
    if params.get("range") == "1d":
        keep = [len(stamps) - 1]
    else:
        start, end = int(params.get("period1", stamps[0])), int(params.get("period2", stamps[-1] + 1))
        keep = [i for i, t in enumerate(stamps) if start <= t < end]
    out = copy.deepcopy(body)
    cut = out["chart"]["result"][0]
    cut["timestamp"] = [stamps[i] for i in keep]
    for block in ("quote", "adjclose"):
        for series in cut["indicators"].get(block, []):
            for key, values in series.items():
                series[key] = [values[i] for i in keep]
    if not keep:
        del cut["timestamp"]
        cut["indicators"] = {"quote": [{}]}
    return out


def _json(status: int, doc: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(doc).encode())


def isolate_yfinance(monkeypatch: Any) -> None:
    """Give yfinance a clean process state for one test: no on-disk caches, no remembered crumb.

    yfinance keeps a process-wide ``YfData`` (session, cookie, crumb), an in-memory response
    cache, and time-zone / cookie caches on disk under the user's cache folder.
    """
    import yfinance.base as yf_base
    import yfinance.cache as yf_cache
    import yfinance.data as yf_data

    monkeypatch.setattr(yf_cache._TzCacheManager, "_tz_cache", yf_cache._TzCacheDummy())
    monkeypatch.setattr(yf_cache._CookieCacheManager, "_Cookie_cache", yf_cache._CookieCacheDummy())
    monkeypatch.setattr(yf_cache._ISINCacheManager, "_isin_cache", yf_cache._ISINCacheDummy())
    monkeypatch.setattr(yf_base, "_tz_info_fetch_ctr", 0)
    yf_data.SingletonMeta._instances.pop(yf_data.YfData, None)
    yf_data.YfData.cache_get.cache_clear()


@contextlib.contextmanager
def serving(monkeypatch: Any, transport: T) -> Iterator[T]:
    """A yfinance fixture's body: a fresh yfinance around ``transport``; after the test, the
    transport lets any waiting request go and the market threads a deadline left behind end."""
    from generator.sources.yahoo_client import THREAD_PREFIX

    isolate_yfinance(monkeypatch)
    yield transport
    transport.release.set()
    join_market_threads(THREAD_PREFIX)


def join_market_threads(prefix: str, timeout: float = 10.0) -> None:
    """Wait for worker threads a deadline left behind, so they cannot reach into the next test."""
    for thread in threading.enumerate():
        if thread.name.startswith(prefix):
            thread.join(timeout)


# -- chart-API bodies from frames ---------------------------------------------------------------

NY = ZoneInfo("America/New_York")


def _stamp(day: date, at: time) -> int:
    return int(datetime.combine(day, at, NY).timestamp())


def chart_body(symbol: str, frame: pd.DataFrame) -> dict[str, Any]:
    """A Yahoo chart-API (v8) body for daily ``frame`` (Date index; Open..Close, Volume, Adj Close optional).

    Bars are stamped 09:30 New York time, as Yahoo stamps daily bars.
    """
    days = [d.date() for d in pd.DatetimeIndex(frame.index)]
    close = [float(v) for v in frame["Close"]]
    adj = frame["Adj Close"] if "Adj Close" in frame.columns else frame["Close"]
    session = {"timezone": "EST", "gmtoffset": -18000}
    last = days[-1]
    meta = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "SNP" if symbol.startswith("^") else "PCX",
        "instrumentType": "INDEX" if symbol.startswith("^") else "ETF",
        "firstTradeDate": _stamp(days[0], time(9, 30)),
        "regularMarketTime": _stamp(last, time(16, 0)),
        "hasPrePostMarketData": not symbol.startswith("^"),
        "gmtoffset": -18000,
        "timezone": "EST",
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": close[-1],
        "chartPreviousClose": close[0],
        "priceHint": 2,
        "currentTradingPeriod": {
            "pre": {**session, "start": _stamp(last, time(4, 0)), "end": _stamp(last, time(9, 30))},
            "regular": {**session, "start": _stamp(last, time(9, 30)), "end": _stamp(last, time(16, 0))},
            "post": {**session, "start": _stamp(last, time(16, 0)), "end": _stamp(last, time(20, 0))},
        },
        "dataGranularity": "1d",
        "range": "",
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    quote = {
        "open": [float(v) for v in frame["Open"]],
        "high": [float(v) for v in frame["High"]],
        "low": [float(v) for v in frame["Low"]],
        "close": close,
        "volume": [int(v) for v in frame["Volume"]],
    }
    result = {
        "meta": meta,
        "timestamp": [_stamp(d, time(9, 30)) for d in days],
        "indicators": {"quote": [quote], "adjclose": [{"adjclose": [float(v) for v in adj]}]},
    }
    return {"chart": {"result": [result], "error": None}}
