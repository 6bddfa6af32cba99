"""How the project talks to yfinance: loading it, our own deadline, what its errors mean, retries.

Shared by the Yahoo providers (:mod:`generator.sources.yahoo` for prices,
:mod:`generator.sources.valuation` for the ETFs' fund data).

- :func:`yfinance` imports yfinance on first use and switches its exceptions on
  (``yf.config.debug.hide_exceptions = False``): failures arrive as typed errors
  (``YFRateLimitError``, ``YFPricesMissingError``, ``YFTzMissingError``, the HTTP session's own).
- :func:`quiet_yfinance` keeps the deprecation warnings raised inside yfinance off the console.
- :func:`run_with_deadline` runs work in a daemon thread and stops waiting at our deadline:
  yfinance's ``timeout=`` does not bound a hung network.
- :func:`classify` says what an error means: worth a retry (a rate limit, a timeout, a reset,
  a 5xx, an error page), not worth one for this symbol (not found, no data), or a reason to
  stop asking Yahoo at all in this run (no DNS, connection refused, no route: it cannot heal).
- :class:`RetryPolicy` retries with tenacity: exponential backoff with equal jitter, within
  the deadline, on the retryable errors only.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import socket
import threading
import time as _time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast

import tenacity

log = logging.getLogger(__name__)

THREAD_PREFIX = "yahoo-fetch"
BACKOFF_BASE, BACKOFF_CAP = 1.0, 8.0  # seconds: first pause, longest pause (before jitter)

_T = TypeVar("_T")


# -- yfinance, deadline ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _imported() -> ModuleType:
    import yfinance as yf

    yf.config.debug.hide_exceptions = False  # typed errors instead of a logged message and an empty frame
    module: ModuleType = yf
    return module


_cache_folder: list[Path] = []  # where yfinance's own caches go, once a gather has said (the last one)
_cache_set: list[Path] = []  # where this process last told yfinance to keep them
_cache_lock = threading.Lock()


def yfinance() -> ModuleType:
    """yfinance, imported on first use (slow to import; only live fetching needs it), set to raise,
    its own caches in the folder :func:`keep_yfinance_cache_in` named."""
    yf = _imported()
    if _cache_folder and _cache_set != _cache_folder[-1:]:
        # Checked again under the lock: moving closes the open files, and a second thread moving
        # them would close them under the first one's requests.
        with _cache_lock:
            if _cache_set != _cache_folder[-1:]:  # yfinance reopens its files there
                _cache_folder[-1].mkdir(parents=True, exist_ok=True)
                yf.set_tz_cache_location(str(_cache_folder[-1]))  # (cache.set_cache_location): every cache
                _cache_set[:] = _cache_folder[-1:]
    return yf


def keep_yfinance_cache_in(folder: Path) -> None:
    """yfinance's own caches (its cookie, the symbols' time zones: small SQLite files) in ``folder``,
    the run's cache, not the user's ~/.cache/py-yfinance: a build writes only under its output
    folder, and a CI cache of that folder keeps them too.  Applied when yfinance is next asked for
    (nothing is imported here)."""
    _cache_folder[:] = [folder]


_QUIET_MODULE = r"yfinance(\.|$)"
_QUIET_CATEGORIES = (DeprecationWarning, FutureWarning)


def quiet_yfinance() -> None:
    """Keep the deprecation warnings raised inside yfinance (pandas' ``inplace`` ...) off the console.

    Called before each call into yfinance: the filters match warnings from yfinance's own modules
    only, so nothing needs restoring afterwards; they go in front of any filter that would show such
    a warning (the one ``import yfinance`` adds, a test runner's reset).  When they are in force, the
    filter list is only read: re-adding a filter removes and inserts it, and a worker doing that while
    another thread saves and restores the filters (``catch_warnings``, as pandas does inside its
    operations; not thread-safe before Python 3.14) can lose it, and yfinance's warnings reached the
    console.  Filters that others put in front to ignore something keep ours in force.
    """
    if not _quiet_in_force(list(warnings.filters)):
        for category in _QUIET_CATEGORIES:
            warnings.filterwarnings("ignore", category=category, module=_QUIET_MODULE)
    # The filters are the process's, and a thread inside ``catch_warnings`` with its own (pandas
    # records and re-raises some warnings that way) has every other thread's warnings judged by
    # them for that moment: a 2,000-member fetch still showed one.  What is shown passes here too.
    if not getattr(warnings.showwarning, "quiets_yfinance", False):
        warnings.showwarning = _without_yfinance_deprecations(warnings.showwarning)


def _without_yfinance_deprecations(show: Callable[..., None]) -> Callable[..., None]:
    """``show`` (``warnings.showwarning``), except for deprecations raised in yfinance's own files."""
    yfinance_dir = f"{os.sep}yfinance{os.sep}"

    def showwarning(
        message: Warning | str, category: type[Warning], filename: str, lineno: int, *rest: Any
    ) -> None:
        if issubclass(category, _QUIET_CATEGORIES) and yfinance_dir in filename:
            return
        show(message, category, filename, lineno, *rest)

    showwarning.quiets_yfinance = True  # type: ignore[attr-defined]
    return showwarning


def _quiet_in_force(filters: list[tuple[Any, ...]]) -> bool:
    """Whether our filters come before every filter that would show a yfinance deprecation."""
    module = re.compile(_QUIET_MODULE)
    ours = {("ignore", None, category, module, 0) for category in _QUIET_CATEGORIES}
    seen = set()
    for item in filters:
        if item in ours:
            seen.add(item)
            if seen == ours:
                return True
            continue
        action, _, category, where, _ = item
        related = any(issubclass(c, category) or issubclass(category, c) for c in _QUIET_CATEGORIES)
        if action != "ignore" and related and (where is None or where.match("yfinance.utils")):
            return False  # it would show them before ours are reached
    return False


class NoAnswer(Exception):
    """The worker did not finish before the deadline."""


class Deadline:
    """``seconds`` from now on ``clock`` (a monotonic clock; tests pass a fake one)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = _time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())


def run_with_deadline(work: Callable[[], _T], timeout: float, name: str) -> _T:
    """Run ``work`` in a daemon thread; raise :class:`NoAnswer` when it is not done in ``timeout`` s."""
    if timeout <= 0:
        raise NoAnswer
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the waiting thread below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"{THREAD_PREFIX}-{name}", daemon=True).start()
    if not done.wait(timeout):
        raise NoAnswer
    if "error" in box:
        raise box["error"]
    return cast(_T, box["value"])


# -- what a failure means ---------------------------------------------------------------------------

RETRY, GIVE_UP, HALT = "retry", "give up", "halt"  # try again / not this symbol / not Yahoo, this run
RATE_LIMITED = "rate limited by Yahoo Finance (HTTP 429)"
NOT_FOUND = "symbol not found on Yahoo Finance"
_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}
_CURL_UNREACHABLE = {5: "cannot resolve the proxy", 6: "cannot resolve host", 7: "cannot connect"}
_UNREACHABLE_WORDS = (
    ("name or service not known", "cannot resolve host"),
    ("could not resolve", "cannot resolve host"),
    ("temporary failure in name resolution", "cannot resolve host"),
    ("nodename nor servname", "cannot resolve host"),
    ("connection refused", "connection refused"),
    ("network is unreachable", "network is unreachable"),
    ("no route to host", "no route to host"),
)


@dataclass(frozen=True)
class Failure:
    action: str  # RETRY, GIVE_UP or HALT
    words: str  # the error in plain words, without the symbol


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every error it wraps (causes, contexts, urllib3's ``reason``, exceptions in args)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(e for e in wrapped if isinstance(e, BaseException))


def _unreachable(exc: BaseException) -> str:
    """Why the network cannot reach Yahoo at all ("" when that is not the failure)."""
    for err in _chain(exc):
        text = str(err).lower()
        for needle, words in _UNREACHABLE_WORDS:
            if needle in text:
                return words
        if isinstance(err, socket.gaierror):
            return "cannot resolve host"
        if isinstance(err, OSError) and err.errno in _UNREACHABLE_ERRNOS:
            return os.strerror(err.errno or 0).lower()
        code = getattr(err, "code", None)
        if type(err).__module__.startswith("curl_cffi") and code in _CURL_UNREACHABLE:
            return _CURL_UNREACHABLE[code]
    return ""


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def classify(exc: BaseException) -> Failure:
    """What one of yfinance's (or its HTTP session's) errors means for this run."""
    yf = yfinance()
    if isinstance(exc, yf.exceptions.YFRateLimitError):
        return Failure(RETRY, RATE_LIMITED)
    if why := _unreachable(exc):
        return Failure(HALT, f"cannot reach Yahoo Finance ({why})")
    if isinstance(exc, yf.exceptions.YFTzMissingError):
        return Failure(GIVE_UP, NOT_FOUND)
    if isinstance(exc, yf.exceptions.YFPricesMissingError):
        if exc.yahoo_reason is not None:
            return Failure(GIVE_UP, NOT_FOUND)
        return Failure(GIVE_UP, "no data returned by Yahoo Finance")
    status = _status(exc)
    if status == 429:
        return Failure(RETRY, RATE_LIMITED)
    if status is not None and status >= 500:
        return Failure(RETRY, f"Yahoo Finance server error (HTTP {status})")
    if status == 404:
        return Failure(GIVE_UP, NOT_FOUND)
    if status is not None:
        return Failure(GIVE_UP, f"refused by Yahoo Finance (HTTP {status})")
    if any(isinstance(e, ValueError) and "JSON" in type(e).__name__ for e in _chain(exc)):
        return Failure(RETRY, "Yahoo Finance sent an error page instead of data")
    if any(isinstance(e, TimeoutError) or "Timeout" in type(e).__name__ for e in _chain(exc)):
        return Failure(RETRY, "Yahoo Finance did not answer in time")
    if any(isinstance(e, ConnectionError | OSError) for e in _chain(exc)):
        return Failure(RETRY, "network error")
    if isinstance(exc, yf.exceptions.YFException):
        return Failure(GIVE_UP, f"Yahoo Finance: {exc}")
    return Failure(GIVE_UP, f"unexpected answer from Yahoo Finance ({type(exc).__name__}: {exc})")


# -- retries ------------------------------------------------------------------------------------------


class _EqualJitter(tenacity.wait.wait_base):
    """Exponential backoff, half of each pause random ("equal jitter"); ``rand`` gives [0, 1)."""

    def __init__(self, rand: Callable[[], float]) -> None:
        self.rand = rand

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        span = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (retry_state.attempt_number - 1))
        return float(span / 2 + self.rand() * span / 2)


class _PastDeadline(tenacity.stop.stop_base):
    """Stop when the next pause would end past the deadline, or the run was told to stop."""

    def __init__(self, deadline: Deadline, stop: threading.Event) -> None:
        self.deadline, self.stop = deadline, stop

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.stop.is_set() or retry_state.upcoming_sleep >= self.deadline.remaining()


@dataclass(frozen=True)
class RetryPolicy:
    tries: int
    sleep: Callable[[float], None]
    rand: Callable[[], float]

    def retrying(self, deadline: Deadline, stop: threading.Event, symbol: str) -> tenacity.Retrying:
        def retry_if(exc: BaseException) -> bool:
            return classify(exc).action == RETRY

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            words = classify(error).words if error else "error"
            log.info("Yahoo Finance: %s: %s; trying again in %.1f s", symbol, words, state.upcoming_sleep)

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.tries) | _PastDeadline(deadline, stop),
            wait=_EqualJitter(self.rand),
            retry=tenacity.retry_if_exception(retry_if),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
