"""The index seen through its members: the snapshot's ``index`` block.

The member price panel (about 1,900 symbols × two years) is bulk data and stays in the price
cache.  What the brief needs from it is derived here, once, when the snapshot is made:

- ``index/daily.csv``: one row per session from :func:`generator.analysis.breadth.daily_breadth`
  (advancers, decliners, the A/D line, McClellan, members above their 50/200-day averages, new
  52-week highs and lows);
- ``index/members.csv``: one row per member: name, sector, weight, the close before the week and
  the week's last close, and whether it set a 52-week closing high or low during the week.

Only ticker, name, sector and weight come from the holdings file (its terms forbid redistribution),
so a rebuild from the snapshot sees exactly the same numbers (byte-identical brief).
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from generator.analysis.breadth import HIGH_LOW_SESSIONS, daily_breadth
from generator.errors import SourceError
from generator.models import IndexView
from generator.sources.ishares import Membership

FOLDER = "index"
MEMBER_COLUMNS = ("name", "sector", "weight", "base_close", "last_close", "new_high", "new_low")
DAILY_KEEP = 260  # sessions of the daily table kept in the snapshot (a year and a bit)


def derive_index_view(
    membership: Membership,
    closes: pd.DataFrame,
    week_start: date,
    week_end: date,
    *,
    provider: str,
    from_cache: bool = False,
) -> IndexView:
    """The snapshot's view of the index from the member panel (sessions × Yahoo symbols)."""
    symbols = [m.yahoo_symbol for m in membership.members]
    panel = closes.reindex(columns=symbols).sort_index().astype(float)
    panel = panel.loc[: pd.Timestamp(week_end)]
    stamps = pd.DatetimeIndex(panel.index)
    base_row = int(stamps.searchsorted(pd.Timestamp(week_start), side="left")) - 1
    last_row = len(stamps) - 1
    values = panel.to_numpy()
    base = values[base_row] if base_row >= 0 else np.full(len(symbols), np.nan)
    last = values[last_row] if last_row > base_row else np.full(len(symbols), np.nan)
    prior = panel.rolling(HIGH_LOW_SESSIONS - 1, min_periods=HIGH_LOW_SESSIONS - 1)
    prior_high, prior_low = prior.max().shift(1).to_numpy(), prior.min().shift(1).to_numpy()
    week = slice(base_row + 1, last_row + 1)
    with np.errstate(invalid="ignore"):
        new_high = (values[week] > prior_high[week]).any(axis=0)
        new_low = (values[week] < prior_low[week]).any(axis=0)
    members = pd.DataFrame(
        {
            "name": [m.name for m in membership.members],
            "sector": [m.sector for m in membership.members],
            "weight": [m.weight for m in membership.members],
            "base_close": base,
            "last_close": last,
            "new_high": new_high.astype(int),
            "new_low": new_low.astype(int),
        },
        index=pd.Index(symbols, name="symbol"),
    )
    daily = daily_breadth(panel).iloc[-DAILY_KEEP:]
    daily.index = pd.DatetimeIndex(daily.index, name="date")
    return IndexView(
        week_start, week_end, membership.as_of, membership.source, provider, daily, members, from_cache
    )


# --- the snapshot block -------------------------------------------------------------------------


def _csv(frame: pd.DataFrame, index_label: str) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index_label=index_label, float_format="%.6g", lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def write_index_view(view: IndexView, folder: Path, sub: str = "") -> dict[str, Any]:
    """Write the view's two files under ``folder/index`` (``folder/index/<sub>`` for another
    universe's view) and return its manifest entry."""
    where = f"{FOLDER}/{sub}" if sub else FOLDER
    (folder / where).mkdir(parents=True, exist_ok=True)
    daily = view.daily.copy()
    daily.index = pd.DatetimeIndex(daily.index).strftime("%Y-%m-%d")
    files = {"daily": _csv(daily, "date"), "members": _csv(view.members, "symbol")}
    entry: dict[str, Any] = {
        "week_start": view.week_start.isoformat(),
        "week_end": view.week_end.isoformat(),
        "membership_as_of": view.membership_as_of.isoformat(),
        "source": view.source,
        "provider": view.provider,
        "from_cache": view.from_cache,
        "members": len(view.members),
    }
    for name, data in files.items():
        (folder / where / f"{name}.csv").write_bytes(data)
        entry[name] = {"file": f"{where}/{name}.csv", "sha256": hashlib.sha256(data).hexdigest()}
    return entry


def read_index_view(
    block: Mapping[str, Any], read: Callable[[Mapping[str, Any], str], bytes], where: str
) -> IndexView:
    """The block back from the manifest; ``read`` returns a file's verified bytes."""
    try:
        daily = pd.read_csv(
            io.BytesIO(read(block["daily"], "index.daily")), index_col="date", parse_dates=["date"]
        )
        members = pd.read_csv(
            io.BytesIO(read(block["members"], "index.members")), index_col="symbol", keep_default_na=False,
            na_values={"base_close": [""], "last_close": [""]},
        )  # fmt: skip
        view = IndexView(
            date.fromisoformat(str(block["week_start"])),
            date.fromisoformat(str(block["week_end"])),
            date.fromisoformat(str(block["membership_as_of"])),
            str(block["source"]),
            str(block["provider"]),
            daily,
            members,
            bool(block.get("from_cache", False)),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SourceError(where, f"index block unreadable: {exc}") from exc
    missing = [c for c in MEMBER_COLUMNS if c not in members.columns]
    if missing:
        raise SourceError(where, f"index.members lacks columns {', '.join(missing)}")
    bad = [w for w in members["weight"] if not (isinstance(w, float | int) and math.isfinite(w) and w >= 0)]
    if bad:
        raise SourceError(where, "index.members has weights that are not finite non-negative numbers")
    return view
