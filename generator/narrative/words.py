"""The words for numbers: the only code that formats figures into prose.

A piece of prose is a tuple of plain strings and :class:`~generator.models.Cite` parts; the
templates render each cite with its source marker.  Noise is named here: a spread inside the
"in line" band reads "in line", volume near its average reads "normal volume".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

from generator.analysis import thresholds as th
from generator.analysis.common import Anomaly
from generator.formatting import WEEKDAY_NAMES, fmt, fmt_value
from generator.models import Cite, Figure, Prose
from generator.narrative.keys import same_fact

Part = str | Cite | Prose | None
ORDINAL_WORDS = {
    2: "second",
    3: "third",
    4: "fourth",
    5: "fifth",
    6: "sixth",
    7: "seventh",
    8: "eighth",
    9: "ninth",
}


class MissingFact(KeyError):
    """The narrative asked for a figure key the analysis never produces: a programming error."""


class Facts:
    """The week's figures by key.  Asking for a key that was never computed raises :class:`MissingFact`.

    A figure that was computed but is not available (missing or stale data) is returned as it is;
    :meth:`get` returns None for it, so a sentence is left out rather than written with a gap.
    """

    def __init__(
        self, figures: Mapping[str, Figure], unavailable: Iterable[str] = (), said: Iterable[str] = ()
    ) -> None:
        self._figures = dict(figures)
        self._unavailable = frozenset(unavailable)  # symbols missing or stale this week
        self.said = frozenset(said)  # figure keys the lead and takeaways already cite
        self.used: set[str] = set()

    def having_said(self, prose_parts: Iterable[Prose]) -> Facts:
        """These facts once ``prose_parts`` (the headline and the takeaways) have been read.

        The body then leaves out, or words without its number, every figure they cite, and every
        figure an event's figure stands for (a record close is the index's record).
        """
        keys = {c.figure.key for p in prose_parts for c in p if isinstance(c, Cite)}
        covered = {k for key in keys for k in same_fact(key)}
        return Facts(self._figures, self._unavailable, self.said | keys | covered)

    def fresh(self, key: str) -> Figure | None:
        """Like :meth:`get`, but None for a figure the reader has already been told."""
        return None if key in self.said else self.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._figures

    def __getitem__(self, key: str) -> Figure:
        if key not in self._figures:
            raise MissingFact(key)
        self.used.add(key)
        return self._figures[key]

    def get(self, key: str) -> Figure | None:
        """The figure when it is available; None when it is not or its data is missing or stale.

        When a whole family is unavailable the analysis computes one "not available" figure under
        the family's key ("credit.HYG-IEF" for "credit.HYG-IEF.1W"): that also reads as None.
        """
        if key not in self._figures:
            family = self._family(key)
            if family is not None and not family.available:
                return None
            if self._needs_unavailable(key):
                return None  # not computed because its data is missing or stale: said in "Not covered"
        fig = self[key]
        return fig if fig.available and (fig.value is not None or fig.unit in ("date", "text")) else None

    def _needs_unavailable(self, key: str) -> bool:
        parts = key.split(".")
        return len(parts) > 1 and any(sym in self._unavailable for sym in parts[1].split("-"))

    def _family(self, key: str) -> Figure | None:
        parts = key.split(".")
        for n in range(len(parts) - 1, 1, -1):
            found = self._figures.get(".".join(parts[:n]))
            if found is not None:
                return found
        return None

    def optional(self, key: str) -> Figure | None:
        """A figure that only some snapshots carry (valuation, volume): None when absent."""
        return self.get(key) if key in self._figures else None

    def figures(self) -> dict[str, Figure]:
        return dict(self._figures)


def prose(*parts: Part) -> Prose:
    """Flatten parts into prose, joining adjacent strings and dropping empty ones."""
    out: list[str | Cite] = []
    for part in parts:
        if part is None or part == "":
            continue
        items: Iterable[str | Cite] = part if isinstance(part, tuple) else (part,)
        for item in items:
            if isinstance(item, str) and out and isinstance(out[-1], str):
                out[-1] += item
            elif item != "":
                out.append(item)
    return tuple(out)


def drawdown_zone(level: float | None) -> str:
    """The zone below a drawdown line: "a bear market" at the 20% line, "a correction" at the 10% one."""
    return "a bear market" if level is not None and level <= th.BEAR_MARKET else "a correction"


def join(items: list[Prose], last: str = " and ", sep: str = ", ") -> Prose:
    """``a``, ``a and b``, ``a, b and c``; ``join(items, "; ", "; ")`` for clauses."""
    parts: list[Part] = []
    for i, item in enumerate(items):
        if i:
            parts.append(last if i == len(items) - 1 else sep)
        parts.append(item)
    return prose(*parts)


def clauses(items: list[Prose]) -> Prose:
    """Independent clauses joined by semicolons, the first capitalised, ending with a full stop."""
    if not items:
        return ()
    first = items[0]
    if first and isinstance(first[0], str):
        first = (first[0][:1].upper() + first[0][1:], *first[1:])
    return prose(join([first, *items[1:]], "; ", "; "), ".")


def cite(fig: Figure, text: str | None = None) -> Cite:
    return Cite(fig, text if text is not None else fmt(fig))


def size(fig: Figure) -> Cite:
    """The figure's magnitude without its sign ("14 bp", "3.69%"): the verb carries the direction."""
    assert fig.value is not None
    if fig.unit in ("points", "index_points"):  # read in full in a sentence: "fell 1.51 points"
        places = 1 if fig.unit == "index_points" else 2
        shown = f"{abs(fig.value):,.{places}f}"
        return Cite(fig, f"{shown} point{'' if float(shown.replace(',', '')) == 1 else 's'}")
    return Cite(fig, fmt_value(abs(fig.value), fig.unit, signed=False))


def level(fig: Figure) -> Cite:
    return Cite(fig, fmt(fig, signed=False))


def moved(fig: Figure, up: str = "rose", down: str = "fell", flat: str = "was little changed") -> Prose:
    """``rose 3.69%`` / ``fell 14 bp`` / ``was little changed (+0.04%)``."""
    assert fig.value is not None
    if is_flat(fig):
        return prose(f"{flat} (", cite(fig), ")")
    return prose(f"{up if fig.value > 0 else down} ", size(fig))


def is_flat(fig: Figure) -> bool:
    """Inside its unit's noise band, judged on the value as printed: a 1.6 bp change prints "+2 bp",
    and "held at 4.19% (+2 bp)" would read as a contradiction; a 2-bp band is 2 bp as shown."""
    assert fig.value is not None
    band = th.FLAT_BP if fig.unit == "bp" else th.FLAT_VIX_POINTS if "points" in fig.unit else th.FLAT_PCT
    shown = round(fig.value) if fig.unit == "bp" else round(fig.value, 2)
    return abs(shown) < band


def gap(fig: Figure, ahead: str, behind: str, even: str = "in line with") -> Prose:
    """A spread read as a verb: ``beat … by 2.71 pp``; inside the noise band, ``in line with``."""
    assert fig.value is not None
    if abs(fig.value) < th.IN_LINE_PP:
        return prose(f"{even} (", cite(fig), ")")
    return prose(ahead if fig.value > 0 else behind, " by ", size(fig))


def beat_or_lag(fig: Figure, other: str) -> Prose:
    """``beat <other> by 1.2 pp``, ``lagged <other> by …`` or ``moved in line with <other> (…)``."""
    return gap(fig, f"beat {other}", f"lagged {other}", f"moved in line with {other}")


def volume_words(fig: Figure) -> Prose:
    """``heavy volume this week, 1.59× its daily average of the 20 sessions before``: the week's mean
    daily volume against the 20 sessions before the week (not Friday alone, not a 20-day average
    that includes the week)."""
    assert fig.value is not None
    low, high = th.NORMAL_VOLUME
    against = " its daily average of the 20 sessions before"
    if low <= fig.value <= high:
        return prose("normal volume this week (", cite(fig), against, ")")
    word = "heavy" if fig.value > high else "light"
    return prose(f"{word} volume this week, ", cite(fig), against)


def weekday(day: date) -> str:
    return WEEKDAY_NAMES[day.weekday()]


def on_day(day: date) -> str:
    return f"on {weekday(day)} {day.isoformat()}"


def ordinal(n: int) -> str:
    if n in ORDINAL_WORDS:
        return ORDINAL_WORDS[n]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def a_or_an(text: str) -> str:
    """The indefinite article for ``text`` as it is read aloud: "an 8-session run", "an eleventh
    straight session", "an 18% discount", "a 7-session run"."""
    spoken_vowel = text[:1].lower() in "aeio8" or re.match(r"(11|18)(\D|$)", text) is not None
    return "an" if spoken_vowel else "a"


def data_from(first: date | None) -> str:
    """The history a claim was measured on: " (data back to September 1987)".

    By month: the claims of one brief are measured on daily and on weekly bars whose first days
    differ by a week ("2022-11-02" beside "2022-11-11" read as two histories); the first bar of each
    series is in the appendix's sources."""
    return f" (data back to {first:%B %Y})" if first else ""


def in_data(first: date) -> str:
    """Where a record was looked for: " in data back to September 1987" (one date, not "in the data
    (data from …)"), by month as :func:`data_from`."""
    return f" in data back to {first:%B %Y}"


def sigma(score: float) -> str:
    return f"{score:.1f} standard deviations"


def rank(fig: Figure, reading: str = "reading") -> Prose:
    """A percentile in its window: ``at the 36th percentile of``, ``at the lowest close of``,
    ``at the highest reading of`` (``reading``: what the window's values are, a close or a reading)."""
    assert fig.value is not None
    if fig.text in ("lowest", "highest"):  # the analysis says so; a rounded percentile cannot
        return prose("at the ", Cite(fig, f"{fig.text} {reading}"), " of")
    return prose("at the ", Cite(fig, fmt_value(fig.value, "pctile")), " of")


def week_phrase(sessions: int, expected: int, last: date | None) -> str:
    """How the reporting week is named in a sentence: its session count whenever it is not a full week.

    ``expected`` is the number of sessions the exchange calendar has in the week; fewer bars than
    that means the data stops early, and the sentence says to which day.
    """
    if sessions < expected and last is not None:
        return (
            f"in the {sessions} session{'s' if sessions != 1 else ''} to {weekday(last)} {last.isoformat()}"
        )
    if sessions < 5:
        return f"in a {sessions}-session week"
    return "this week"


def anomaly(a: Anomaly) -> str:
    """Why a series' week is left out, with its dates."""
    if a.kind == "gap":
        return (
            f"the week's change would span a gap of {a.missing} sessions without bars"
            f" (last bar before it {a.base.isoformat()}); left out"
        )
    dates = f"{a.base.isoformat()} to {a.last.isoformat()}"
    if a.points is not None:
        return f"a {a.points:+.2f}-point week ({dates}) looks like bad data; left out"
    cause = "a split or bad data" if a.split else "bad data"
    return f"a {a.change or 0:+.0f}% week ({dates}) looks like {cause}; left out"
