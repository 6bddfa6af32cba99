"""What the build prints at the end: the source-health table and a summary.

A table on a terminal, plain lines in CI logs.  Returns the degradations so that
``--strict`` can turn them into an exit code.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

import click

from generator.citations import merged_problems
from generator.formatting import fmt_date
from generator.issue import headline_text
from generator.models import HEALTHY_STATUSES, Brief, SourceHealth, SourceStatus

if TYPE_CHECKING:
    from generator.build import BuildResult

log = logging.getLogger(__name__)
_live: Callable[[str], None] | None = None  # the status line being shown on a terminal, if any
BAR = 24  # characters of a progress bar


def report_progress(what: str, done: int, total: int) -> None:
    """A long stage's progress (the member prices): a bar in the live status line on a terminal,
    a plain log line otherwise (CI).  Safe to call from a provider's thread."""
    live = _live
    if live is None:
        log.info("%s: %d of %d", what, done, total)
        return
    filled = min(BAR, round(BAR * done / total)) if total else BAR
    live(f"{what} [{'█' * filled}{'·' * (BAR - filled)}] {done:,} of {total:,}")


@contextmanager
def progress(label: str, *, stream: TextIO | None = None) -> Iterator[Callable[[str], None]]:
    """Live status on a terminal (a spinner naming the current stage); plain log lines in CI.

    Yields a callback that reports the current step, e.g. ``update("pdf")``.
    """
    stream = stream or sys.stderr
    start = time.perf_counter()
    if stream.isatty():
        from rich.console import Console

        global _live
        with Console(file=stream).status(label) as status:
            _live = lambda step: status.update(f"{label}: {step}")  # noqa: E731
            try:
                yield _live
            finally:
                _live = None
    else:
        log.info("%s", label)
        yield lambda step: log.info("%s: %s", label, step)
    log.info("%s: done in %.1f s", label, time.perf_counter() - start)


def degradations(brief: Brief) -> list[str]:
    """Everything that makes this brief less than a full, fresh, live brief."""
    problems = [  # sources that failed alike are one line (every symbol of an unreachable host)
        f"{h.kind} {h.name}: {h.status}{' — ' + h.error if h.error else ''}"
        for h in merged_problems(brief.health)
    ]
    problems.extend(w for w in brief.warnings if w not in problems)
    return problems


def health_rows(health: tuple[SourceHealth, ...]) -> list[tuple[str, ...]]:
    return [
        (h.kind, h.name, h.status, h.origin, str(h.count), fmt_date(h.newest), h.error or "") for h in health
    ]


def report_build(result: BuildResult, *, stream: TextIO | None = None) -> list[str]:
    stream = stream or sys.stderr
    brief = result.brief
    rows = health_rows(brief.health)
    header = ("kind", "source", "status", "origin", "items", "newest", "error")
    if stream.isatty():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title="Source health", header_style="bold")
        for name in header:
            table.add_column(name)
        for row in rows:
            row = tuple(escape(cell) for cell in row)  # error texts come from servers: no markup
            style = "" if row[2] in HEALTHY_STATUSES else "red" if row[2] == SourceStatus.FAILED else "yellow"
            table.add_row(*row, style=style)
        Console(file=stream).print(table)
    else:
        for row in rows:
            click.echo("source " + " | ".join(row), file=stream)
    problems = degradations(brief)
    if brief.is_sample:
        click.echo("WARNING: SAMPLE DATA — this brief is illustrative, not market data.", file=stream)
    for problem in problems:
        click.echo(f"degraded: {problem}", file=stream)
    files = ", ".join(str(p) for p in result.files.values())
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.stages.items())
    click.echo(f"brief {brief.as_of}: {headline_text(brief)}", file=stream)
    click.echo(f"wrote {files}", file=stream)
    click.echo(f"stages: {timing}", file=stream)
    return problems
