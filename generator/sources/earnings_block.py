"""The snapshot's ``earnings`` block: next week's earnings of the index members, inside manifest.json.

::

    "earnings": {"start": "2026-11-23", "end": "2026-11-27", "reporting": 143, "members": 1962,
                 "membership_as_of": "2026-11-18", "weights_from": "iShares IWM holdings",
                 "source": "Yahoo Finance", "read_at": "2026-11-21T14:00:00Z", "origin": "live",
                 "complete": true, "note": "",
                 "largest": [{"day": "2026-11-24", "symbol": "ACME", "name": "Acme Corp",
                              "weight": 0.41, "timing": "BMO",
                              "url": "https://finance.yahoo.com/calendar/earnings?symbol=ACME"}]}

Reading checks each field: a report dated outside ``start``..``end``, an unknown timing, a link
that is not http(s) or a weight that is not a finite number makes the block unreadable (a
:class:`~generator.errors.SourceError` naming the manifest), so nothing undated or unlinked
reaches the brief.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from generator.errors import SourceError
from generator.models import EarningsReport, EarningsWeek, Origin
from generator.text import safe_link

TIMINGS = ("", "BMO", "AMC")


def write_earnings(week: EarningsWeek) -> dict[str, Any]:
    """The block for the manifest."""
    read_at = week.read_at.astimezone(UTC).isoformat().replace("+00:00", "Z") if week.read_at else None
    return {
        **{k: v for k, v in asdict(week).items() if k != "largest"},
        "start": week.start.isoformat(), "end": week.end.isoformat(),
        "membership_as_of": week.membership_as_of.isoformat(), "read_at": read_at, "origin": str(week.origin),
        "largest": [{**asdict(r), "day": r.day.isoformat()} for r in week.largest],
    }  # fmt: skip


def read_earnings(block: Any, where: str) -> EarningsWeek:
    """The block back from the manifest (SourceError naming ``where`` when it does not hold up)."""
    try:
        start, end = _day(block["start"]), _day(block["end"])
        largest = tuple(_report(r, start, end) for r in block["largest"])
        read_at = datetime.fromisoformat(str(block["read_at"])) if block.get("read_at") else None
        reporting, members = _count(block["reporting"]), _count(block["members"])
        membership_as_of = _day(block["membership_as_of"])
        weights_from, source = str(block["weights_from"]), str(block["source"])
        origin, complete = str(block["origin"]), bool(block["complete"])
        return EarningsWeek(  # an unknown origin: ValueError, after the fields above (as before)
            start=start, end=end, reporting=reporting, members=members, largest=largest,
            membership_as_of=membership_as_of, weights_from=weights_from, source=source, read_at=read_at,
            origin=Origin(origin), complete=complete, note=str(block.get("note") or ""),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SourceError(where, f"earnings block unreadable ({exc})") from exc


def _report(row: Mapping[str, Any], start: date, end: date) -> EarningsReport:
    day, weight = _day(row["day"]), float(row["weight"])
    timing, url = str(row.get("timing") or ""), str(row["url"])
    if not start <= day <= end:
        raise ValueError(f"{row['symbol']} is dated {day}, outside {start}..{end}")
    if timing not in TIMINGS or not math.isfinite(weight) or safe_link(url) is None:
        raise ValueError(f"{row['symbol']}: bad timing, weight or link")
    return EarningsReport(day, str(row["symbol"]), str(row["name"]), weight, timing, url)


def _day(value: Any) -> date:
    return date.fromisoformat(str(value))


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not a count: {value!r}")
    return value
