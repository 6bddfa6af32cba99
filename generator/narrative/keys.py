"""Figure keys the narrative reads, spelled in one place.

The analysis names each figure with a stable key ("return.^RUT.1W"); these functions build the same
keys, so a typo is one place to fix and a key the analysis does not produce fails the tests
(:class:`generator.narrative.words.Facts` raises for an unknown key).
"""

from __future__ import annotations

from typing import Final


def ret(symbol: str, window: str) -> str:
    return f"return.{symbol}.{window}"


def spread(a: str, b: str, window: str) -> str:
    return f"spread.{a}-{b}.{window}"


def yield_level(symbol: str) -> str:
    return f"yield.{symbol}"


def change(symbol: str, window: str) -> str:
    return f"change.{symbol}.{window}"


def record(symbol: str, part: str = "") -> str:
    return f"record.{symbol}{'.' + part if part else ''}"


def low52(symbol: str, part: str = "") -> str:
    return f"low52.{symbol}{'.' + part if part else ''}"


def high52(symbol: str, part: str = "") -> str:
    return f"high52.{symbol}{'.' + part if part else ''}"


def rs_vs50(a: str, b: str) -> str:
    return f"rs.{a}-{b}.vs50"


def credit(hy: str, treasury: str, window: str = "") -> str:
    return f"credit.{hy}-{treasury}{'.' + window if window else ''}"


def ma(symbol: str, n: int) -> str:
    return f"ma{n}.{symbol}"


def ma_dist(symbol: str, n: int) -> str:
    return f"ma{n}.{symbol}.dist"


def cross(symbol: str) -> str:
    return f"cross.{symbol}"


def rsi(symbol: str) -> str:
    return f"rsi14.{symbol}"


def rvol(symbol: str, part: str = "") -> str:
    return f"rvol20.{symbol}{'.' + part if part else ''}"


def drawdown(symbol: str) -> str:
    return f"drawdown.{symbol}.record"


def volume_ratio(symbol: str) -> str:
    return f"volume.{symbol}.ratio"


def valuation(symbol: str, field: str) -> str:
    return f"valuation.{symbol}.{field}"


VIX_LEVEL: Final = "vix.level"
VIX_PCTILE: Final = "vix.pctile1y"
RVX_LEVEL: Final = "rvx.level"
RVX_PCTILE: Final = "rvx.pctile1y"
INDEX_ADVANCERS: Final = "index.advancers"  # present when the brief has the index's members
CURVE: Final = "curve.10y-3m"
BREADTH_50: Final = "breadth.50d"
BREADTH_200: Final = "breadth.200d"
DISPERSION: Final = "dispersion.sectors.1W"
DISPERSION_PCTILE: Final = "dispersion.sectors.pctile1y"


def same_fact(key: str) -> tuple[str, ...]:
    """The figure keys an event's figure tells too: the body does not repeat them.

    A record close (``event.record.^RUT``) is the index's record (``record.^RUT``); a drawdown
    crossing is the drawdown, its distance below the record; an unusual move of the 10-year yield
    is its weekly change; a 52-week low (high) set this week makes the distance from it no news.
    """
    kind, _, symbol = key.removeprefix("event.").partition(".")
    if not key.startswith("event.") or not symbol:
        return ()
    return {
        "record": (record(symbol),),
        "drawdown": (record(symbol, "distance"), drawdown(symbol)),
        "rates": (change(symbol, "1W"),),
        "low52": (low52(symbol, "distance"),),
        "high52": (high52(symbol, "distance"),),
    }.get(kind, ())
