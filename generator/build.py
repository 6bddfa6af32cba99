"""The build: a list of named stages, everything gathered before anything is written.

load snapshot ─► headlines ─► analyse ─► charts ─► html / md / pdf / email ─► write the issue folder
"""

from __future__ import annotations

import functools
import logging
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import TYPE_CHECKING

from generator import formats as registry
from generator import issue
from generator.errors import PublishError
from generator.fsutil import staging_folder, swap_in, sweep_abandoned
from generator.models import (
    Brief,
    ChartSpec,
    Config,
    FeedCapture,
    Headline,
    IssueMeta,
    Series,
    Snapshot,
    SourceHealth,
)

if TYPE_CHECKING:
    from generator.analysis.brief import WeekCore
    from generator.models import RenderedChart
    from generator.pdfworker import RenderWorker

log = logging.getLogger(__name__)

FORMATS = tuple(registry.FORMATS)  # the one registry of output formats


@dataclass
class Timings:
    """Seconds spent per stage, in the order the stages ran."""

    stages: dict[str, float] = field(default_factory=dict)
    on_stage: Callable[[str], None] | None = None  # told each stage's name as it starts (progress)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_stage is not None:
            self.on_stage(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start

    @property
    def total(self) -> float:
        return sum(self.stages.values())


@dataclass(frozen=True)
class BuildResult:
    brief: Brief
    snapshot: Snapshot
    folder: Path
    files: dict[str, Path]
    timings: Timings
    core: WeekCore | None = None  # the week's core figures, for the next week's build


def snapshot_until(snapshot: Snapshot, day: date) -> Snapshot:
    """The snapshot as it would have looked after the close of ``day``: no bar after it.

    The health rows say so too: a series' bar count and newest bar are those of the cut, and a feed
    read for a later week counts only its items dated by then (a past week's brief, or a backfilled
    issue, shows nothing newer than its week).  Of the official calendar, only the events of the
    week after ``day`` stay, and the calendar sources' failures only when the snapshot is of
    ``day``'s week (they were met reading a later week's).
    """
    series: dict[str, Series] = {}
    for symbol, s in snapshot.series.items():
        cut = s.until(day)
        if len(cut.frame):
            series[symbol] = cut
    health = tuple(_row_until(h, series, snapshot, day) for h in snapshot.health)
    as_of = min(snapshot.as_of, day)
    events = tuple(e for e in snapshot.events if day < e.day <= day + timedelta(days=7))
    failures = snapshot.calendar_failures if snapshot.as_of <= day else ()
    return replace(
        snapshot, series=series, as_of=as_of, health=health, events=events, calendar_failures=failures
    )


def _row_until(
    row: SourceHealth, series: Mapping[str, Series], snapshot: Snapshot, day: date
) -> SourceHealth:
    """A health row as of ``day``: a series' or a feed's count and newest date, when it has later ones."""
    if row.newest is None or row.newest <= day:
        return row
    if row.kind in ("symbol", "series"):
        cut = series.get(row.name)
        return (
            replace(row, count=len(cut.frame), newest=cut.last_bar)
            if cut
            else replace(row, count=0, newest=None)
        )
    capture = snapshot.feeds.get(row.name)
    if row.kind != "feed" or capture is None or not _read_after_week(capture, snapshot, day):
        return row  # read for this week (a weekend's items are still this week's reading)
    from generator.analysis.headlines import dated_until

    count, newest = dated_until(capture, row.provider, day)
    return replace(row, count=count, newest=newest)


def _read_after_week(capture: FeedCapture, snapshot: Snapshot, day: date) -> bool:
    """Whether a feed was read for a later week than the one ending ``day``.

    A build reports the last complete week, so a feed read within the days after ``day`` that the
    members' refresh and the fund ratios are allowed (``LOOKAHEAD_DAYS``) was read for it; one read
    later, for a later week.  Without the time it was read, the snapshot's newest bar tells (the
    snapshot's ``as_of`` is the build's clock when it has no benchmark).
    """
    from generator.analysis.fundamentals import LOOKAHEAD_DAYS

    if capture.fetched_at is not None:
        return capture.fetched_at.date() > day + timedelta(days=LOOKAHEAD_DAYS)
    return max((s.last_bar for s in snapshot.series.values()), default=day) > day


def headlines_for_week(
    snapshot: Snapshot, config: Config, week: tuple[date, date], seen_path: Path | None
) -> list[Headline]:
    from generator.analysis.headlines import load_memory, select_headlines

    seen = load_memory(seen_path) if seen_path is not None and seen_path.exists() else None
    bench = snapshot.series.get(config.slots.benchmark)
    last_session = min(bench.last_bar, snapshot.as_of) if bench is not None else snapshot.as_of
    previous_close = None  # the previous week's last session: its window ended at that close
    if bench is not None:
        dates = bench.frame.index
        n = int(dates.searchsorted(datetime.combine(week[1] - timedelta(days=7), clock()), side="right"))
        previous_close = dates[n - 1].date() if n else None
    return select_headlines(
        snapshot.feeds,
        config.feeds,
        week_start=week[0],
        week_end=week[1],
        seen=seen,
        universe=config.universe,
        settings=config.headlines,
        last_session=last_session,  # the stated close: news after it is not this week's
        previous_session=previous_close,
        timezone=config.brief.timezone,
    )


def build_from_snapshot(
    config: Config,
    snapshot: Snapshot,
    *,
    as_of: date,
    out: Path,
    formats: Sequence[str] = FORMATS,
    seen_path: Path | None = None,
    timings: Timings | None = None,
    write_snapshot: bool = True,
    force: bool = False,
    worker: RenderWorker | None = None,
    previous: WeekCore | None = None,
) -> BuildResult:
    """Analyse ``snapshot`` for the week of ``as_of`` and write the issue folder under ``out``.

    ``worker`` draws the charts and lays out the PDF in a child process (see :mod:`generator.pdfworker`);
    the PDF is collected last, so its layout overlaps the other formats.  ``previous``: the
    previous week's core, from the result of building it (the backfill builds weeks in order).
    """
    from generator.analysis import reporting_week
    from generator.analysis.brief import analyse_week
    from generator.render import write_outputs, write_pdf
    from generator.render_email import render_email
    from generator.sources.snapshot import save_snapshot
    from generator.sources.store import STORE_DIR

    timings = timings or Timings()
    week = reporting_week(as_of, config.brief.week_ends_on)
    snapshot = snapshot_until(snapshot, week[1])
    out.joinpath("briefs").mkdir(parents=True, exist_ok=True)
    sweep_abandoned(out / "briefs", now=time.time())
    staging = staging_folder(out / "briefs", f".{week[1]}-")
    try:
        if write_snapshot:
            # Analyse the snapshot as read back from disk, so that a rebuild from the issue's
            # snapshot folder sees exactly the same numbers (byte-identical HTML and Markdown).
            with timings.stage("snapshot"):
                snapshot = save_snapshot(snapshot, staging / issue.SNAPSHOT_DIR, store=out / STORE_DIR)
        with timings.stage("headlines"):
            headlines = headlines_for_week(snapshot, config, week, seen_path)
        with timings.stage("analyse"):
            # The worker draws the body's charts as soon as the analysis knows them.
            brief, core = analyse_week(
                snapshot,
                config,
                headlines,
                as_of=as_of,
                on_charts=worker.draw if worker else None,
                previous=previous,
            )
        names = {i.symbol: i.name for i in config.universe}
        with timings.stage("charts"):
            if worker is not None:
                worker.start(brief, names)  # the child draws the charts, then lays out the PDF
                charts = worker.charts()
            else:
                charts = _draw(brief.charts)
        later = worker is not None and "pdf" in formats
        writer = functools.partial(write_outputs, names=names)
        files = _write_formats(
            brief, charts, staging, [f for f in formats if not (later and f == "pdf")], timings, writer
        )
        view_url = issue.issue_url(config.site.base_url, brief.as_of)
        with timings.stage("email"):
            _write_chart_pngs(charts, staging / issue.CHARTS_DIR)  # the email embeds them by cid
            html, text = render_email(brief, view_url=view_url)
            (staging / registry.FILES["email_html"]).write_text(html, encoding="utf-8")
            (staging / registry.FILES["email_txt"]).write_text(text, encoding="utf-8")
        if later:
            assert worker is not None
            with timings.stage("pdf"):
                files["pdf"] = write_pdf(staging, worker.pdf())
        names = {fmt: path.name for fmt, path in files.items()}
        meta = issue.meta_for(brief, names, view_url)
        issue.write_meta(meta, staging)
        final = issue.issue_dir(out, brief.as_of)
        siblings = same_week_issues(out, meta)
        if not force:
            refuse_downgrade(final, meta)
            refuse_earlier(siblings, meta)
        swap_in(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for sibling in siblings:  # one issue per week: the site and the email know a week by its issue
        log.warning("%s: removed, an issue of the same week; the week's issue is now %s", sibling, final)
        shutil.rmtree(sibling, ignore_errors=True)
    if seen_path is not None:
        _remember(seen_path, headlines, week[0])
    return BuildResult(brief, snapshot, final, {k: final / v.name for k, v in files.items()}, timings, core)


def _draw(specs: Sequence[ChartSpec]) -> Mapping[str, RenderedChart]:
    from generator.charts import render_charts  # matplotlib: only when no worker draws for us

    return render_charts(specs)


def _standing(meta: IssueMeta) -> int:
    """How good an issue is: 2 fresh market data, 1 the sample (fresh, but not the market's), 0 stale."""
    return 0 if meta.is_stale else 1 if meta.is_sample else 2


def refuse_downgrade(folder: Path, meta: IssueMeta) -> None:
    """A build never replaces a better issue already in ``folder`` (``force`` does): a stale build
    neither a good issue nor a sample one, a sample build not a good one.

    A stale brief is named by the benchmark's last bar, which is an earlier week: without this
    check it would overwrite that week's issue with one that has no figures for it.
    """
    if _standing(meta) == 2:
        return
    if not (folder / issue.META).exists() and not (folder / issue.META).is_symlink():
        return  # nothing there, or not an issue: nothing good to protect
    try:
        existing = issue.read_meta(folder)
    except PublishError as exc:  # an issue whose meta.json is damaged may be a good one
        raise PublishError(
            f"{exc}; a stale or sample build does not replace that issue (--force replaces it)"
        ) from exc
    if _standing(existing) <= _standing(meta):
        return
    why = "its benchmark data is stale" if meta.is_stale else "it was built from the sample data"
    kind = "a sample issue" if existing.is_sample else "a good issue"
    raise PublishError(
        f"{folder}: holds {kind} of the week ending {existing.week_end}; this build is not written"
        f" because {why} (--force replaces it)"
    )


def same_week_issues(out: Path, meta: IssueMeta) -> dict[Path, IssueMeta]:
    """The other issue folders of ``meta``'s reporting week: one built through Thursday, before
    Friday's bars came in, beside the one through Friday.  A stale issue is named by a bar of an
    earlier week, so the folders of the week before are read too; each is known by its meta.json."""
    found = {}
    day = meta.week_start - timedelta(days=7)
    while day <= meta.week_end:
        folder, day = issue.issue_dir(out, day), day + timedelta(days=1)
        if folder.name == meta.as_of.isoformat() or folder.is_symlink() or not folder.is_dir():
            continue
        try:
            other = issue.read_meta(folder)
        except PublishError:
            continue  # not known as this week's: left alone (refuse_downgrade guards its own folder)
        if other.week_start == meta.week_start:
            found[folder] = other
    return found


def refuse_earlier(siblings: Mapping[Path, IssueMeta], meta: IssueMeta) -> None:
    """A build does not replace a better issue of its week (``force`` does): one from fresher data, or
    from as good data through a later session."""
    for folder, other in siblings.items():
        if (_standing(other), other.as_of) > (_standing(meta), meta.as_of):
            raise PublishError(
                f"{folder}: holds the issue of the week of {meta.week_start} through {other.as_of}; this"
                f" build, through {meta.as_of}, is not written (--force writes it and removes that one)"
            )


def _write_formats(
    brief: Brief,
    charts: Mapping[str, RenderedChart],
    folder: Path,
    formats: Sequence[str],
    timings: Timings,
    write: Callable[..., dict[str, Path]],
) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for fmt in formats:
        with timings.stage(fmt):
            files.update(write(brief, charts, folder, [fmt]))
    return files


def _write_chart_pngs(charts: Mapping[str, RenderedChart], folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for key, chart in sorted(charts.items()):
        path = folder / f"{key}.png"
        if not path.exists():
            path.write_bytes(chart.png)


def _remember(seen_path: Path, headlines: Sequence[Headline], week_start: date) -> None:
    from generator.analysis.headlines import load_memory, remember, save_memory

    memory = load_memory(seen_path) if seen_path.exists() else {}
    save_memory(seen_path, remember(memory, headlines, week_start))


def past_week_ends(as_of: date, weeks: int, week_ends_on: str) -> list[date]:
    """The last day of each of the ``weeks`` reporting weeks ending on or before ``as_of``, oldest first."""
    from datetime import timedelta

    from generator.analysis import reporting_week

    last = reporting_week(as_of, week_ends_on)[1]
    return [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
