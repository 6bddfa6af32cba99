"""Next week's earnings of the index members, in words: how many report, and the largest as dated lines.

The outlook's "Scheduled next week" shows a sentence saying how many members report and where the
dates and weights come from (partial or cached reads said so), then one dated, linked line per
listed member: ``Acme Corp (ACME), weight 0.41%, before the open``.
"""

from __future__ import annotations

from datetime import UTC

from generator.models import EarningsReport, EarningsWeek, Prose, ScheduledEvent

TIMING_WORDS = {"BMO": "before the open", "AMC": "after the close"}


def earnings(week: EarningsWeek | None, index: str) -> tuple[Prose, tuple[ScheduledEvent, ...]]:
    """The sentence and the lines for ``week`` (nothing when it is None); ``index`` names the index."""
    if week is None:
        return (), ()
    return (_sentence(week, index),), tuple(_line(week, r) for r in week.largest)


def _sentence(week: EarningsWeek, index: str) -> str:
    calendar = _calendar(week)
    if week.reporting == 0:
        return (
            f"No {index} member has an earnings report dated next week in {calendar} "
            f"({week.members:,} members checked)."
        )
    verb = "reports" if week.reporting == 1 else "report"
    least = "" if week.complete else "At least "
    count = f"{least}{week.reporting:,} of the {week.members:,} {index} members {verb} earnings next week"
    weights = f"from the {week.weights_from} as of {week.membership_as_of.isoformat()}"
    listed = len(week.largest)
    if listed < week.reporting:
        which = f"The {listed} largest by index weight, {weights}:"
    else:
        which = f"With {'its' if listed == 1 else 'their'} index weight, {weights}:"
    return f"{count}, by {calendar}. {which}"


def _calendar(week: EarningsWeek) -> str:
    """Which calendar, and how it was read when not whole and live."""
    if week.origin == "sample":
        return "the sample's earnings calendar (illustrative dates, not real reports)"
    name = f"{week.source}'s earnings calendar"
    if week.origin == "cache" and week.read_at is not None:
        read = f"{name} as read at {week.read_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        return f"{read} (this run's read failed: {week.note})" if week.note else read
    if not week.complete:
        return f"{name}, read only partway ({week.note or 'the reading stopped'})"
    return name


def _line(week: EarningsWeek, report: EarningsReport) -> ScheduledEvent:
    weight = f"{report.weight:.2f}%" if report.weight >= 0.005 else "under 0.01%"
    when = TIMING_WORDS.get(report.timing)
    title = f"{report.name} ({report.symbol}), weight {weight}{', ' + when if when else ''}"
    return ScheduledEvent(report.day, title, week.source, report.url)
