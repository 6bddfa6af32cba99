"""The section registry: each section of the brief declared once.

For every section: its key, its title, where it stands in the body, whether the email carries it,
and which of its figures a reader follows week to week (with the change that counts as one unit
of move in "What changed").  The narrative orders its passages by it, the email picks its
sections from it, and :mod:`generator.analysis.changes` tracks the figures it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from generator.models import SectionKey, Slots

Tracked = Callable[[Slots], dict[str, float]]  # figure key → one unit of week-over-week move


@dataclass(frozen=True)
class SectionSpec:
    key: SectionKey
    title: str
    in_email: bool
    tracked: Tracked = lambda slots: {}


def _performance(s: Slots) -> dict[str, float]:
    return {f"return.{s.benchmark}.YTD": 1.0, f"spread.{s.benchmark}-{s.large_cap}.YTD": 1.0}


def _drivers(s: Slots) -> dict[str, float]:
    return {
        f"yield.{s.rate_10y}": 10.0,
        "curve.10y-3m": 10.0,
        f"credit.{s.high_yield}-{s.treasury}": 0.5,
        f"rs.{s.benchmark}-{s.large_cap}.vs50": 1.0,
        f"ma50.{s.benchmark}.dist": 1.5,
        f"ma200.{s.benchmark}.dist": 1.5,
    }


def _risks(s: Slots) -> dict[str, float]:
    return {
        f"rsi14.{s.benchmark}": 5.0,
        "vix.level": 2.0,
        "rvx.level": 2.0,
        f"rvol20.{s.benchmark}": 5.0,
        f"drawdown.{s.benchmark}.record": 1.5,
    }


# In reading order.  Range bookkeeping (52-week levels, average levels) is not tracked: it moves
# with the index and would crowd out the figures that carry news.
REGISTRY: tuple[SectionSpec, ...] = (
    SectionSpec(SectionKey.PERFORMANCE, "Performance", True, _performance),
    SectionSpec(SectionKey.BREADTH, "Breadth and leadership", True),
    SectionSpec(SectionKey.DRIVERS, "Drivers", True, _drivers),
    SectionSpec(SectionKey.RISKS, "Risks", True, _risks),
    SectionSpec(SectionKey.VALUATION, "Valuation", True),
    SectionSpec(SectionKey.OUTLOOK, "Outlook", True),
    SectionSpec(SectionKey.CHANGES, "What changed since last week", False),
)


def spec(key: str) -> SectionSpec:
    return next(s for s in REGISTRY if s.key == key)


def order(key: str) -> int:
    return next(i for i, s in enumerate(REGISTRY) if s.key == key)


def email_sections() -> tuple[str, ...]:
    return tuple(str(s.key) for s in REGISTRY if s.in_email)


def tracked_keys(slots: Slots) -> dict[str, float]:
    """Every tracked figure of every section, in section order."""
    out: dict[str, float] = {}
    for s in REGISTRY:
        out.update(s.tracked(slots))
    return out
