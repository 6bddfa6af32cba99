"""Backfill: build the past N weekly issues from one snapshot, each seeing no data after its own week.

Imports are paid once in the parent; workers are forked from it and share the loaded
snapshot, so each issue costs only its own analysis and rendering.  Both cores are used.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from generator.build import FORMATS, build_from_snapshot
from generator.errors import BriefError
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


def _preload() -> None:
    """Import the heavy modules once, before forking, so workers start warm.

    weasyprint is imported and its fonts loaded by laying out a one-line page: each worker would
    otherwise pay that (about a second) on its first PDF.
    """
    import generator.analysis
    import generator.charts
    import generator.publish.email  # noqa: F401
    from generator.pdfworker import WARM_UP_HTML
    from generator.render import render_pdf_document

    with contextlib.suppress(BriefError):  # the real PDFs report any failure
        render_pdf_document(WARM_UP_HTML)


def _build_one(week_end: date) -> BackfillItem:
    import time

    from generator.render import gc_paused

    assert _JOB is not None
    config, snapshot, out, formats = _JOB
    start = time.perf_counter()
    try:
        # One collection per issue instead of the dozens its allocations would trigger.
        with gc_paused():
            result = build_from_snapshot(config, snapshot, as_of=week_end, out=out, formats=formats)
    except BriefError as exc:
        return BackfillItem(week_end, "", str(exc), time.perf_counter() - start)
    finally:
        gc.collect()
    return BackfillItem(week_end, str(result.folder), "", time.perf_counter() - start)


def backfill(
    config: Config,
    snapshot: Snapshot,
    week_ends: Sequence[date],
    *,
    out: Path,
    formats: Sequence[str] = FORMATS,
    jobs: int | None = None,
) -> list[BackfillItem]:
    """Build one issue per date in ``week_ends``; returns one item per week, oldest first."""
    global _JOB
    _preload()
    try:
        # What the parent holds (the modules, the snapshot) is never garbage: the collector leaves
        # it alone in every worker, and copy-on-write pages stay shared.
        gc.freeze()
        _JOB = (config, snapshot, out, tuple(formats))
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(week_ends) or 1))
        if jobs == 1:
            items = [_build_one(day) for day in week_ends]
        else:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(processes=jobs) as pool:
                items = pool.map(_build_one, week_ends, chunksize=1)
    finally:
        _JOB = None
        gc.unfreeze()
    for item in items:
        if item.error:
            log.warning("week ending %s: %s", item.week_end, item.error)
        else:
            log.info("built %s in %.2f s", item.folder, item.seconds)
    return items
