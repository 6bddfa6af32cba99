"""Backfill: build the past N weekly issues from one snapshot, each seeing no data after its own week.

Imports are paid once in the parent; workers are forked from it and share the loaded
snapshot, so each issue costs only its own analysis and rendering.  Both cores are used.  Each
worker builds a run of consecutive weeks, oldest first, so each week's core figures serve as the
next week's previous week instead of being computed again.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import date
from multiprocessing.pool import Pool
from multiprocessing.process import BaseProcess
from pathlib import Path

from generator.analysis.brief import WeekCore
from generator.build import FORMATS, build_from_snapshot
from generator.errors import BriefError, DataUnavailableError
from generator.models import Config, Snapshot

log = logging.getLogger(__name__)

# Set in the parent just before the workers are forked; read-only in the workers.
_JOB: tuple[Config, Snapshot, Path, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class BackfillItem:
    week_end: date
    folder: str  # the issue folder, or "" when it failed
    error: str = ""
    seconds: float = 0.0


def _preload(formats: Sequence[str]) -> None:
    """Import the modules every issue uses once, before forking, so workers start warm.

    weasyprint is imported and its fonts loaded by laying out a one-line page only when the
    issues have a PDF: each worker would otherwise pay that (about a second) on its first PDF.
    """
    import generator.analysis
    import generator.charts
    import generator.render_email  # noqa: F401

    if "pdf" in formats:
        from generator.pdfworker import WARM_UP_HTML
        from generator.render import render_pdf_document

        with contextlib.suppress(BriefError):  # the real PDFs report any failure
            render_pdf_document(WARM_UP_HTML)


def _build_run(week_ends: Sequence[date]) -> list[BackfillItem]:
    """Build consecutive weeks in order, each reading the week before's core from its build."""
    items = []
    previous: WeekCore | None = None
    for week_end in week_ends:
        item, previous = _build_one(week_end, previous)
        items.append(item)
    return items


def _build_one(week_end: date, previous: WeekCore | None) -> tuple[BackfillItem, WeekCore | None]:
    from generator.render import gc_paused

    assert _JOB is not None
    config, snapshot, out, formats = _JOB
    start = time.perf_counter()
    try:
        # One collection per issue instead of the dozens its allocations would trigger.
        with gc_paused():
            result = build_from_snapshot(
                config, snapshot, as_of=week_end, out=out, formats=formats, previous=previous
            )
    except BriefError as exc:
        return BackfillItem(week_end, "", str(exc), time.perf_counter() - start), None
    finally:
        gc.collect()
    return BackfillItem(week_end, str(result.folder), "", time.perf_counter() - start), result.core


def newest_week(config: Config, snapshot: Snapshot) -> date:
    """The end of the newest reporting week ``snapshot`` has data for: the last a backfill can build."""
    from generator.analysis import reporting_week

    return reporting_week(snapshot.as_of, config.brief.week_ends_on)[1]


def runs(week_ends: Sequence[date], jobs: int) -> list[list[date]]:
    """``week_ends`` in ``jobs`` runs of consecutive weeks, as even as they split, in order."""
    size, extra = divmod(len(week_ends), jobs)
    out, at = [], 0
    for n in range(jobs):
        length = size + (n < extra)
        out.append(list(week_ends[at : at + length]))
        at += length
    return [run for run in out if run]


def _worker_signals() -> None:
    """A pool worker leaves Ctrl-C to the parent (which stops the pool: each worker printed a
    traceback), and when the pool is terminated it unwinds quietly: the week it was building
    removes its staging folder (killed outright, it left it behind)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _leave)


def _leave(signum: int, frame: object) -> None:
    raise SystemExit(1)


def _in_pool(jobs: int, week_ends: Sequence[date]) -> list[BackfillItem]:
    """The runs of weeks built by ``jobs`` forked workers.

    Done, the pool is closed and joined: each worker reads the end-of-work sentinel and exits.  Only
    a failure (Ctrl-C, SIGTERM) terminates it.  ``with Pool()`` terminates it every time, and that
    can hang for good: the parent takes the task queue's read lock to drain it, a worker waiting for
    that lock is then stopped only by SIGTERM, and one that had not yet been signalled waited on it
    (seen once in a test run, the suite then stalled).
    """
    others = set(multiprocessing.active_children())  # not the pool's: left alone when it is stopped
    pool = multiprocessing.get_context("fork").Pool(processes=jobs, initializer=_worker_signals)
    try:
        built = [item for run in pool.map(_build_run, runs(week_ends, jobs)) for item in run]
        pool.close()
    except BaseException:
        _terminate(pool, others)
        raise
    pool.join()
    return built


STOP_GRACE = 5.0  # seconds the workers have to unwind (their staging folders go) before SIGKILL


def _terminate(pool: Pool, others: Set[BaseProcess], grace: float = STOP_GRACE) -> bool:
    """``pool.terminate()`` (SIGTERM to each worker, which unwinds and removes its staging folder),
    waited for ``grace`` seconds; then SIGKILL to the workers still there, on which it waits: whether
    it finished.  Alone it waits on each worker for good, and once a worker outlived its SIGTERM
    (seen in a test run: the stopped backfill and a worker stayed).  The pool's own bookkeeping
    (which workers it has, not to fork new ones while it stops) is left to it."""
    stopping = threading.Thread(target=pool.terminate, name="backfill-terminate", daemon=True)
    stopping.start()
    stopping.join(grace)
    if stopping.is_alive():
        for process in set(multiprocessing.active_children()) - set(others):
            log.warning("backfill worker %s did not stop on SIGTERM within %g s: killed", process.pid, grace)
            process.kill()
        stopping.join(grace)
    if stopping.is_alive():
        log.warning("backfill: the worker pool did not stop; leaving it to the exiting process")
        return False
    pool.join()
    return True


def backfill(
    config: Config,
    snapshot: Snapshot,
    week_ends: Sequence[date],
    *,
    out: Path,
    formats: Sequence[str] = FORMATS,
    jobs: int | None = None,
) -> list[BackfillItem]:
    """Build one issue per date in ``week_ends``; returns one item per week, oldest first.

    Raises DataUnavailableError for a week after the snapshot's last one: its issue would be stale and
    named by the last bar, so the weeks past the data would all overwrite one folder."""
    global _JOB
    from generator.analysis import reporting_week

    last = newest_week(config, snapshot)
    beyond = [d for d in week_ends if reporting_week(d, config.brief.week_ends_on)[1] > last]
    if beyond:
        raise DataUnavailableError(
            "backfill",
            f"{len(beyond)} of the weeks asked for end after the history's last bar ({snapshot.as_of}),"
            f" the first on {beyond[0]}",
        )
    _preload(formats)
    frozen_by_caller = gc.get_freeze_count() > 0
    try:
        # What the parent holds (the modules, the snapshot) is never garbage: the collector leaves
        # it alone in every worker, and copy-on-write pages stay shared.
        gc.freeze()
        _JOB = (config, snapshot, out, tuple(formats))
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(week_ends) or 1))
        items = _build_run(week_ends) if jobs == 1 else _in_pool(jobs, week_ends)
    finally:
        _JOB = None
        if not frozen_by_caller:  # a caller's frozen heap stays frozen (ours with it: gc has no finer undo)
            gc.unfreeze()
    for item in items:
        if item.error:
            log.warning("week ending %s: %s", item.week_end, item.error)
        else:
            log.info("built %s in %.2f s", item.folder, item.seconds)
    return items
