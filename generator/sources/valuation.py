"""ETF valuation fields from Yahoo Finance (``yf.Ticker(symbol).info``), cached per symbol per day.

Only equity ETFs are asked (:func:`wants_valuation`); indices, bond and volatility products have
no P/E.  A field Yahoo does not send, or sends as something other than a finite number, stays
missing, so the brief says "not available" for it.

Cache: ``valuation.json`` beside the price cache (``<cache_dir>/valuation.json``), one entry
per symbol, written atomically::

    {"IWM": {"day": "2026-11-21", "fetched_at": "2026-11-21T14:00:00+00:00",
             "fields": {"trailingPE": 18.74, "priceToBook": 2.11, "yield": 0.0108}}}

An entry counts only on its ``day`` (the build's ``today``): a rebuild on the same day asks
Yahoo nothing for the symbols already answered, a build on a later day asks again.  A symbol
Yahoo answered without any valuation field is cached too (empty ``fields``); a symbol whose
request failed is not, so the next run asks again.

:func:`fetch_etf_valuation` is the provider ``gather`` composes beside the prices: it runs
under its own deadline, through :mod:`generator.sources.yahoo_client` (as the prices provider).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from generator.fsutil import write_atomic
from generator.models import Instrument, NetworkSettings, Origin, SourceHealth, SourceStatus
from generator.sources.yahoo_client import (
    NOT_FOUND,
    NoAnswer,
    classify,
    quiet_yfinance,
    run_with_deadline,
    yfinance,
)

log = logging.getLogger(__name__)

VALUATION_FIELDS = ("trailingPE", "forwardPE", "priceToBook", "yield")  # yield is a fraction: 0.0123
VALUATION_ROLES = ("small_cap", "size_ladder", "style", "large_cap", "sector")
CACHE_NAME = "valuation.json"
FUND_DATA = "fund valuation"  # its row in the source-health table

Fields = dict[str, float]


def wants_valuation(instrument: Instrument) -> bool:
    """Equity ETFs (not indices, not bond or volatility products)."""
    return not instrument.symbol.startswith("^") and bool(set(instrument.roles) & set(VALUATION_ROLES))


def valuation_fields(info: Mapping[str, object]) -> Fields:
    """The :data:`VALUATION_FIELDS` of a Yahoo ``info`` dict that hold a finite number."""
    out: Fields = {}
    for key in VALUATION_FIELDS:
        value = info.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out[key] = float(value)
    return out


def fetch_valuation(symbols: Sequence[str], session: object | None, deadline: float) -> dict[str, Fields]:
    """Valuation fields per ETF, within ``deadline`` seconds; ETFs without any field are left out.

    Failures are logged and left out, so a missing field stays "not available".  What arrived
    before the deadline is kept.
    """
    return {k: v for k, v in _ask(symbols, session, deadline).items() if v}


def _ask(
    symbols: Sequence[str], session: object | None, deadline: float, failures: dict[str, str] | None = None
) -> dict[str, Fields]:
    """Every symbol Yahoo answered before the deadline → its fields (possibly none).

    ``failures``, when given, receives why each of the others was not answered, in plain words."""
    found: dict[str, Fields] = {}
    failed: dict[str, str] = {}
    lock = threading.Lock()

    def work() -> None:
        yf = yfinance()
        for symbol in symbols:
            quiet_yfinance()
            try:
                info = yf.Ticker(symbol, session=session).info
            except Exception as exc:  # one ETF's failure must not cost the others
                failure = classify(exc)
                if failure.words != NOT_FOUND:
                    log.warning("%s: valuation not available from Yahoo Finance: %s", symbol, failure.words)
                    with lock:
                        failed[symbol] = failure.words
                    continue
                info = {}  # an answer all the same: Yahoo has no summary for it
            with lock:
                found[symbol] = valuation_fields(info if isinstance(info, Mapping) else {})

    late = ""
    try:
        if symbols:
            run_with_deadline(work, deadline, "valuation")
    except NoAnswer:
        log.warning("valuation: no answer within %g s; the rest is not available", deadline)
        late = f"no answer within {deadline:g} s"
    except Exception as exc:
        log.warning("valuation not available from Yahoo Finance: %s", exc)
        late = str(exc)
    with lock:
        if failures is not None:
            failures.update(failed)
            failures.update({s: late for s in symbols if late and s not in found and s not in failed})
        return {k: dict(v) for k, v in found.items()}


class ValuationCache:
    """Yahoo's answers per symbol for one day, in ``valuation.json``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, object]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("%s: valuation cache unreadable (%s); asking Yahoo again", self.path, exc)
            return {}
        return doc if isinstance(doc, dict) else {}

    def load(self, day: date) -> dict[str, Fields]:
        """The symbols answered on ``day`` → their fields (possibly none)."""
        out: dict[str, Fields] = {}
        for symbol, entry in self._read().items():
            if isinstance(entry, dict) and entry.get("day") == day.isoformat():
                fields = entry.get("fields")
                out[symbol] = valuation_fields(fields) if isinstance(fields, dict) else {}
        return out

    def since(self, day: date) -> dict[str, Fields]:
        """Fields answered on ``day`` or later (for ``--data cache``: this week's answers only)."""
        out: dict[str, Fields] = {}
        for symbol, entry in self._read().items():
            if isinstance(entry, dict) and str(entry.get("day", "")) >= day.isoformat():
                fields = entry.get("fields")
                if isinstance(fields, dict) and (kept := valuation_fields(fields)):
                    out[symbol] = kept
        return out

    def days(self, symbols: Collection[str]) -> dict[str, date]:
        """The day each of ``symbols`` was answered (for the brief: the date its ratios are as of)."""
        out: dict[str, date] = {}
        for symbol, entry in self._read().items():
            if symbol in symbols and isinstance(entry, dict):
                try:
                    out[symbol] = date.fromisoformat(str(entry.get("day")))
                except ValueError:
                    continue
        return out

    def store(self, answers: Mapping[str, Fields], day: date, fetched_at: datetime) -> None:
        """Record today's answers; other symbols' entries are kept.  A failed write only costs requests."""
        if not answers:
            return
        doc = self._read()
        stamp = (fetched_at if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)).astimezone(UTC)
        for symbol, fields in answers.items():
            doc[symbol] = {"day": day.isoformat(), "fetched_at": stamp.isoformat(), "fields": dict(fields)}
        try:
            write_atomic(self.path, json.dumps(doc, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            log.warning("%s: cannot write the valuation cache (%s)", self.path, exc)


def valuation_for(
    symbols: Sequence[str],
    session: object | None,
    deadline: float,
    cache: ValuationCache,
    *,
    day: date,
    now: datetime,
    ask: bool = True,
    failures: dict[str, str] | None = None,
) -> dict[str, Fields]:
    """Valuation fields per ETF: today's cached answers, and Yahoo's for the rest (unless ``ask`` is False).

    ETFs without any field are left out, as in :func:`fetch_valuation`; ``failures`` receives why
    Yahoo did not answer for the others it was asked about.
    """
    known = cache.load(day)
    wanted = [s for s in dict.fromkeys(symbols) if s not in known]
    if wanted and ask:
        fresh = _ask(wanted, session, deadline, failures)
        cache.store(fresh, day, now)
        known.update(fresh)
    return {s: dict(known[s]) for s in dict.fromkeys(symbols) if known.get(s)}


def fetch_etf_valuation(
    instruments: Sequence[Instrument],
    available: Collection[str],
    settings: NetworkSettings,
    cache_dir: Path,
    *,
    session: object | None,
    day: date,
    now: datetime,
    halted: str = "",
    extra: Sequence[str] = (),
    failures: dict[str, str] | None = None,
) -> dict[str, Fields]:
    """The provider: valuation fields of the equity ETFs among ``instruments`` that have prices,
    and of the ``extra`` funds (the large-cap fund the small-cap ones are set beside), prices or not.

    Runs within its own deadline (``settings.market_deadline``).  ``halted`` is why Yahoo must not
    be asked again in this run (a rate limit, no network): then only today's cached answers count.
    ``failures`` receives, for each fund without an answer today, why.
    """
    etfs = valuation_symbols(instruments, available, extra)
    store = ValuationCache(cache_dir / CACHE_NAME)
    if halted:
        log.info("valuation: not asking Yahoo Finance (%s)", halted)
        if failures is not None:
            known = store.load(day)
            failures.update({s: f"not asked: {halted}" for s in etfs if s not in known})
    return valuation_for(
        etfs, session, settings.market_deadline, store, day=day, now=now, ask=not halted, failures=failures
    )


def valuation_symbols(
    instruments: Sequence[Instrument], available: Collection[str], extra: Sequence[str]
) -> list[str]:
    """The funds asked for valuation fields: the equity ETFs with prices, and the ``extra`` funds."""
    etfs = [i.symbol for i in instruments if wants_valuation(i) and i.symbol in available]
    return etfs + [s for s in extra if s and not s.startswith("^") and s not in etfs]


def valuation_health(
    asked: Sequence[str],
    fields: Mapping[str, Fields],
    failures: Mapping[str, str],
    day: date,
    *,
    cached: Collection[str] = (),
) -> SourceHealth | None:
    """The source-health row of the fund data: "ok" when every fund asked was answered ("cached" when
    every answer was today's cached one, ``cached``), the funds not answered and why as its error,
    "failed" when none was."""
    if not asked:
        return None
    missing = [s for s in asked if s in failures]
    answered = [s for s in asked if s not in failures]
    from_cache = bool(answered) and all(s in cached for s in answered)
    origin = Origin.CACHE if from_cache else Origin.LIVE if answered else Origin.NONE
    if not missing:
        status = SourceStatus.CACHED if from_cache else SourceStatus.OK
        return SourceHealth("provider", FUND_DATA, status, origin, len(fields), day, "", "Yahoo Finance")
    why = "; ".join(f"{s}: {failures[s]}" for s in missing[:3]) + ("; …" if len(missing) > 3 else "")
    status = SourceStatus.FAILED if not answered else SourceStatus.OK
    error = f"{len(missing)} of {len(asked)} funds not answered ({why})"
    return SourceHealth(
        "provider", FUND_DATA, status, origin, len(fields), day if answered else None, error, "Yahoo Finance"
    )
