"""The snapshot's ``fundamentals`` block: the members' sums from the last screener refresh, in manifest.json.

::

    "fundamentals": {"as_of": "2026-11-02", "membership_as_of": "2026-11-18",
                     "source": "Yahoo Finance screener (yfinance)", "members": 1912, "covered": 1850,
                     "loss_makers": 702, "market_cap": 3.1e12, "earnings": 1.05e11,
                     "profit_market_cap": 2.6e12, "profits": 1.7e11, "loss_market_cap": 5e11,
                     "complete": true}

Only sums and counts, never a member's quote.  Reading checks that the sums are finite and the
counts consistent; otherwise the block is unreadable (a :class:`~generator.errors.SourceError`
naming the manifest).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from generator.errors import SourceError
from generator.models import MemberFundamentals


def fundamentals_block(block: MemberFundamentals) -> dict[str, Any]:
    """The manifest's ``fundamentals`` entry: the sums over the members, with the refresh's date."""
    return {
        "as_of": block.as_of.isoformat(), "membership_as_of": block.membership_as_of.isoformat(),
        "source": block.source, "members": block.members, "covered": block.covered,
        "loss_makers": block.loss_makers, "market_cap": block.market_cap, "earnings": block.earnings,
        "profit_market_cap": block.profit_market_cap, "profits": block.profits,
        "loss_market_cap": block.loss_market_cap, "complete": block.complete,
    }  # fmt: skip


def read_fundamentals_block(entry: Any, where: str) -> MemberFundamentals:
    if isinstance(entry, dict) and not isinstance(entry.get("complete", True), bool):  # bool("false") is True
        raise SourceError(
            where, f"fundamentals block: complete must be true or false, not {entry['complete']!r:.40}"
        )
    try:
        block = MemberFundamentals(
            as_of=date.fromisoformat(str(entry["as_of"])),
            membership_as_of=date.fromisoformat(str(entry["membership_as_of"])),
            source=str(entry["source"]), members=int(entry["members"]), covered=int(entry["covered"]),
            loss_makers=int(entry["loss_makers"]), market_cap=float(entry["market_cap"]),
            earnings=float(entry["earnings"]), profit_market_cap=float(entry["profit_market_cap"]),
            profits=float(entry["profits"]), loss_market_cap=float(entry["loss_market_cap"]),
            complete=entry.get("complete", True),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(where, f"fundamentals block unreadable: {exc}") from exc
    sums = (block.market_cap, block.earnings, block.profit_market_cap, block.profits, block.loss_market_cap)
    if not all(map(math.isfinite, sums)) or not 0 <= block.loss_makers <= block.covered <= block.members:
        raise SourceError(where, "fundamentals block: sums must be finite and counts consistent")
    return block
