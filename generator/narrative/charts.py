"""Chart titles and alt text, written from each chart's own data (the analysis gives data only).

The alt text states what the chart shows with its key numbers and the window the data really
covers ("over one year" only when it does), so a reader who cannot see the chart loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from generator.models import ChartSpec


def span(first: str, last: str) -> str:
    """The window the data really covers, from two ISO dates."""
    if (date.fromisoformat(last) - date.fromisoformat(first)).days >= 360:
        return f"over one year ({first} to {last})"
    return f"from {first} to {last}, the history at hand"


def _last(values: tuple[float | None, ...]) -> float | None:
    return next((v for v in reversed(values) if v is not None), None)


def _rebased(spec: ChartSpec) -> tuple[str, str]:
    (na, a), (nb, b) = spec.series[0], spec.series[1]
    end_a, end_b = _last(a) or 0.0, _last(b) or 0.0
    alt = (
        f"Line chart: the {na} and the {nb} {span(spec.x[0], spec.x[-1])}, both rebased to 100 at the start. "
        f"On {spec.x[-1]} the {na} stands at {end_a:.1f} and the {nb} at {end_b:.1f}."
    )
    return f"{na} against {nb}, rebased to 100", alt


def _relative(spec: ChartSpec) -> tuple[str, str]:
    (name, ratio), (_, avg) = spec.series[0], spec.series[1]
    r, m = _last(ratio) or 0.0, _last(avg) or 0.0
    side = "above" if r > m else "below"
    alt = (
        f"Line chart: the ratio {name} {span(spec.x[0], spec.x[-1])} with its 50-day average. "
        f"On {spec.x[-1]} the ratio is {r:.4f}, {side} its 50-day average of {m:.4f}."
    )
    return f"Relative strength: {name}", alt


def _ladder(spec: ChartSpec) -> tuple[str, str]:
    week = [f"{label} {v:+.2f}%" for label, v in zip(spec.x, spec.series[0][1], strict=True) if v is not None]
    alt = (
        "Bar chart: returns over 1 week, 1 month and year to date across the cap ladder from micro to mega"
        f" caps. This week: {', '.join(week) or 'not available'}."
    )
    return "Returns across the cap ladder", alt


def _sectors(spec: ChartSpec) -> tuple[str, str]:
    values = spec.series[0][1]
    best, worst = (spec.x[0], values[0]), (spec.x[-1], values[-1])
    alt = (
        f"Horizontal bar chart: 1-week returns of {len(spec.x)} sector funds, best first. "
        f"Best {best[0]} {best[1] or 0:+.2f}%, worst {worst[0]} {worst[1] or 0:+.2f}%."
    )
    return "Sector funds this week", alt


def _rates(spec: ChartSpec) -> tuple[str, str]:
    ends = [f"{label} {v:.2f}%" for label, values in spec.series if (v := _last(values)) is not None]
    alt = (
        f"Line chart: Treasury yields {span(spec.x[0], spec.x[-1])}. Last: {', '.join(ends)} on {spec.x[-1]}."
    )
    return "Treasury yields", alt


WRITERS: dict[str, Callable[[ChartSpec], tuple[str, str]]] = {
    "rut-vs-spx": _rebased,
    "relative-strength": _relative,
    "cap-ladder": _ladder,
    "sectors-week": _sectors,
    "rates": _rates,
}


def describe(spec: ChartSpec) -> ChartSpec:
    """The chart with its title and alt text."""
    title, alt = WRITERS[spec.key](spec)
    return replace(spec, title=title, alt=alt)
