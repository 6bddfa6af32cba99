"""Command line: thin commands over the library; errors become one line and an exit code.

Exit codes: 0 ok · 1 degraded (with --strict) · 2 config error · 3 data unavailable ·
4 render error · 5 publish refused or failed · 6 delivery failed · 7 a file or folder could not be
read or written · 130 interrupted (Ctrl-C) · 143 terminated (SIGTERM).
"""

from __future__ import annotations

import atexit
import errno
import logging
import os
import re
import signal
import sys
import warnings
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import click

from generator import __version__
from generator.errors import BriefError, ConfigError, DataUnavailableError
from generator.formats import DEFAULT_FORMATS, FORMAT_NAMES, FORMATS

if TYPE_CHECKING:
    from generator.models import Config

log = logging.getLogger("generator")
F = TypeVar("F", bound=Callable[..., Any])

EXIT_DEGRADED = 1
EXIT_FILES = 7
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process it terminated
OLDEST_AS_OF = date(1900, 1, 1)


def _setup_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, markup=False, log_time_format="%H:%M:%S")
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not verbose:
        # yfinance logs every failed symbol at ERROR; our own health table says it in plain words.
        handler.addFilter(lambda record: not record.name.startswith("yfinance"))
        warnings.filterwarnings("ignore", module="yfinance")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("matplotlib", "fontTools", "weasyprint", "PIL", "urllib3", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# Errors of a write to a file already open, which carry no file name: a full disk or quota, a file
# over the size limit (ulimit -f), a file system remounted read-only.
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def _errors_to_exit(func: F) -> F:
    """Turn project errors into a one-line message and the error's exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {exc.path}: {problem}", err=True)
            sys.exit(exc.exit_code)
        except BriefError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:  # an --out that is a file, an unwritable folder: the path and the reason
            if exc.filename is not None:
                where = ": ".join(str(f) for f in (exc.filename, exc.filename2) if f)
            elif exc.errno in _STORAGE_ERRNOS:  # a write to an open file: the disk, not a path, is at fault
                where = f"writing to {kwargs['out']}" if kwargs.get("out") else "writing the output"
            else:
                raise  # not a file's error: a bug to see whole
            click.echo(f"error: {where}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_FILES)

    return wrapper  # type: ignore[return-value]


class _Day(click.DateTime):
    """A day as YYYY-MM-DD, read as click.DateTime reads it, with the reason one is refused: "day is
    out of range for month" ('2026-02-30' was said not to match the format '%Y-%m-%d')."""

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d"])

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            self.fail(f"{value!r} is not a day written YYYY-MM-DD", param, ctx)
        try:
            return datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError as exc:
            self.fail(f"{value!r} is not a date ({exc})", param, ctx)


def _check_as_of(as_of: datetime | None, today: date) -> date | None:
    """``--as-of`` as a day, refused (exit 2, naming the option) before 1900 or after ``today``: a brief
    of a week that has not happened would be empty, and would replace the issue of the last one."""
    if as_of is None:
        return None
    day = as_of.date()
    if day < OLDEST_AS_OF:
        raise click.BadParameter(f"{day} is before {OLDEST_AS_OF}", param_hint="'--as-of'")
    if day > today:
        raise click.BadParameter(f"{day} is after today ({today})", param_hint="'--as-of'")
    return day


def _now() -> datetime:
    """The build clock: read here, once, and passed to every stage."""
    return datetime.now(UTC).replace(microsecond=0)


def _today(tz: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def _load(config_path: str) -> Config:
    from generator.config import load_config

    return load_config(config_path)


config_option = click.option(
    "--config",
    "config_path",
    default="feeds.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The configuration file.",
)


def _folder(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A folder option: "" is refused (it silently meant the current folder)."""
    if value is not None and not value.strip():
        raise click.BadParameter("must name a folder, not be empty")
    return value


def _base_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--base-url``: an absolute http(s) URL, checked as the site checks it, as a usage error (2)."""
    if value is None:
        return None
    from generator.text import site_url_problem

    base = value.strip()  # as checked: " https://x/ " would make " https://x/ /briefs/…/"
    if base and (problem := site_url_problem(base)) is not None:
        raise click.BadParameter(f"{value!r} {problem}")
    return base


def _recipients(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """``--to``: each an e-mail address, checked before anything is read or sent (a usage error, 2)."""
    from generator.errors import DeliveryError
    from generator.publish.email import check_address

    for raw in value:
        try:
            check_address(raw)
        except DeliveryError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def _verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _setup_logging(True)


# -v after the command name too ("smallcap-brief build -v"), as before it.
verbose_option = click.option(
    "-v", "--verbose", is_flag=True, expose_value=False, callback=_verbose, help="Debug logging."
)
out_option = click.option(
    "--out",
    default="output",
    show_default=True,
    type=click.Path(file_okay=False),
    callback=_folder,
    help="Output folder.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="smallcap-brief")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def cli(verbose: bool) -> None:
    """Build and publish a sourced, dated weekly brief on U.S. small-cap stocks.

    \b
    Example:
        smallcap-brief build                 # live data, else cache, else the bundled sample
        smallcap-brief site --allow-sample   # the static site from output/briefs
    """
    _setup_logging(verbose)


@cli.command()
@config_option
@verbose_option
@click.option("--as-of", "as_of", type=_Day(), help="Report the week of this date.")
@click.option(
    "--from-snapshot",
    "from_snapshot",
    type=click.Path(exists=True, file_okay=False),
    help="Build from a snapshot folder (or a folder of CSVs) instead of fetching.",
)
@out_option
@click.option("--formats", default=DEFAULT_FORMATS, show_default=True, help=f"Comma list of {FORMAT_NAMES}.")
@click.option(
    "--data",
    type=click.Choice(["auto", "live", "cache", "sample"]),
    default="auto",
    show_default=True,
    help="auto: live, then cache, then the bundled sample. live: fail unless fresh.",
)
@click.option(
    "--cache-dir", metavar="DIR", default=None, callback=_folder, help="Cache folder [default: <out>/cache]."
)
@click.option("--strict", is_flag=True, help="Exit 1 when any source is degraded.")
@click.option(
    "--force",
    is_flag=True,
    help="Let a stale or sample build, or one through an earlier session, replace the week's better issue.",
)
@click.option(
    "--base-url",
    default=None,
    callback=_base_url,
    help="Absolute URL of the published site: the email's links to the issue [default: site.base_url].",
)
@_errors_to_exit
def build(
    config_path: str,
    as_of: datetime | None,
    from_snapshot: str | None,
    out: str,
    formats: str,
    data: str,
    cache_dir: str | None,
    strict: bool,
    force: bool,
    base_url: str | None,
) -> None:
    """Build the brief: HTML, Markdown and PDF in <out>/briefs/<as-of>/.

    \b
    Examples:
        smallcap-brief build
        smallcap-brief build --data sample --formats html,md
        smallcap-brief build --from-snapshot output/briefs/2026-11-20/snapshot
        smallcap-brief build --data live --strict --as-of 2026-11-20
    """
    from generator.pdfworker import RenderWorker

    wanted = _parse_formats(formats)
    # Forked first, before any thread starts or any heavy import: matplotlib and weasyprint load in
    # the child while this process imports pandas, gathers and analyses.
    with RenderWorker(pdf="pdf" in wanted) as worker:
        from generator.analysis import reporting_week
        from generator.build import Timings, build_from_snapshot
        from generator.console import progress
        from generator.sources.gather import gather

        config = _load(config_path)
        if base_url is not None:
            config = replace(config, site=replace(config.site, base_url=base_url))
        now = _now()
        asked = _check_as_of(as_of, _today(config.brief.timezone, now))
        out_dir = Path(out)
        cache = Path(cache_dir) if cache_dir else out_dir / "cache"
        if from_snapshot:
            from generator.sources.snapshot import read_snapshot

            snapshot = read_snapshot(Path(from_snapshot))
            day = asked or snapshot.as_of
        else:
            day = asked or _today(config.brief.timezone, now)
            week = reporting_week(day, config.brief.week_ends_on)
            with progress(f"Gathering data ({data}) for the week {week[0]} to {week[1]}"):
                snapshot = gather(config, data, today=day, now=now, cache_dir=cache, week_start=week[0])
            if snapshot.is_sample and not as_of:
                day = snapshot.as_of
        with progress("Building the brief") as update:
            result = build_from_snapshot(
                config,
                snapshot,
                as_of=day,
                out=out_dir,
                formats=wanted,
                seen_path=cache / "headlines.json",
                timings=Timings(on_stage=update),
                force=force,
                worker=worker,
            )
    from generator.console import report_build

    degraded = report_build(result)
    click.echo(str(result.folder))  # stdout holds the issue folder alone, for scripts; the rest is on stderr
    if strict and (degraded or result.brief.is_sample):
        # The sample first: its own notes ("made up for the sample") are not why the build is degraded.
        why = "built from the bundled SAMPLE data, not market data" if result.brief.is_sample else degraded[0]
        click.echo(f"error: degraded build under --strict: {why}", err=True)
        sys.exit(EXIT_DEGRADED)


def _parse_formats(listed: str) -> list[str]:
    wanted = [f.strip().lower() for f in listed.split(",") if f.strip()]
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise click.BadParameter(
            f"unknown format {bad[0] if bad else '(none)'}; use {FORMAT_NAMES}", param_hint="'--formats'"
        )
    return list(dict.fromkeys(wanted))


@cli.command()
@config_option
@verbose_option
@_errors_to_exit
def check(config_path: str) -> None:
    """Validate the configuration and show what a build would fetch.

    \b
    Example:
        smallcap-brief check --config feeds.yaml
    """
    from generator.config import describe, refused_hosts
    from generator.publish.smtp import env_recipients

    config = _load(config_path)
    for line in describe(config):
        click.echo(line)
    if to := env_recipients(os.environ):  # counted, not shown: the output may be a CI log
        click.echo(f"Recipients: {len(to)} from SMALLCAP_BRIEF_TO, instead of email.to")
    warnings = refused_hosts(config)
    for line in warnings:
        click.echo(f"warning: {config_path}: {line}", err=True)
    note = f"; {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""
    click.echo(
        f"ok: {config_path} is valid ({len(config.universe)} symbols, {len(config.feeds)} feeds{note})"
    )


@cli.command()
@config_option
@verbose_option
@out_option
@click.option(
    "--site-dir",
    metavar="DIR",
    default=None,
    callback=_folder,
    help="Where to write the site [default: <out>/site].",
)
@click.option(
    "--base-url", default=None, callback=_base_url, help="Absolute URL of the site (Atom, email links)."
)
@click.option("--allow-sample", is_flag=True, help="Publish issues built from the sample snapshot.")
@click.option("--allow-stale", is_flag=True, help="Publish issues whose benchmark data is stale.")
@_errors_to_exit
def site(
    config_path: str,
    out: str,
    site_dir: str | None,
    base_url: str | None,
    allow_sample: bool,
    allow_stale: bool,
) -> None:
    """Build the static site (home, archive, one page per issue, Atom feed) from <out>/briefs.

    \b
    Example:
        smallcap-brief site --base-url https://you.github.io/smallcap-brief/
    """
    from generator.publish.site import build_site

    config = _load(config_path)
    target = Path(site_dir) if site_dir else Path(out) / "site"
    result = build_site(
        Path(out),
        target,
        title=config.site.title,
        base_url=base_url if base_url is not None else config.site.base_url,
        allow_sample=allow_sample,
        allow_stale=allow_stale,
    )
    log.info("site written to %s", target)
    click.echo(f"site: {target} ({result})")


@cli.command()
@config_option
@verbose_option
@out_option
@click.option(
    "--issue",
    "issue_date",
    type=_Day(),
    default=None,
    help="Issue date (YYYY-MM-DD) [default: latest].",
)
@click.option(
    "--to",
    "to",
    multiple=True,
    callback=_recipients,
    help="Recipient, repeatable [default: email.to / SMALLCAP_BRIEF_TO].",
)
@click.option("--dry-run", is_flag=True, help="Write .eml files to <out>/outbox instead of sending.")
@click.option(
    "--force",
    is_flag=True,
    help="Send again to recipients who already received this issue, or an earlier one of its week.",
)
@click.option("--allow-sample", is_flag=True, help="Send an issue built from the sample snapshot.")
@click.option("--allow-stale", is_flag=True, help="Send an issue whose benchmark data is stale.")
@_errors_to_exit
def send(
    config_path: str,
    out: str,
    issue_date: datetime | None,
    to: tuple[str, ...],
    dry_run: bool,
    force: bool,
    allow_sample: bool,
    allow_stale: bool,
) -> None:
    """Email an issue (HTML + plain text, PNG charts inline, PDF attached). SMTP settings come from
    SMALLCAP_SMTP_* environment variables.

    \b
    Examples:
        smallcap-brief send --dry-run --allow-sample
        SMALLCAP_SMTP_HOST=smtp.example.com smallcap-brief send --to you@example.com
    """
    from generator.publish.email import send_command

    config = _load(config_path)
    report = send_command(
        config,
        Path(out),
        issue_date=issue_date.date().isoformat() if issue_date else None,
        to=to,
        environ=os.environ,
        dry_run=dry_run,
        force=force,
        allow_sample=allow_sample,
        allow_stale=allow_stale,
    )
    click.echo(str(report))


@cli.command()
@config_option
@verbose_option
@out_option
@click.option(
    "--weeks", type=click.IntRange(1, 520), default=52, show_default=True, help="How many weeks back."
)
@click.option("--as-of", "as_of", type=_Day(), help="The newest week to build.")
@click.option(
    "--data",
    type=click.Choice(["auto", "cache", "sample"]),
    default="auto",
    show_default=True,
    help="History to build from. auto: the cache if present, else the bundled sample.",
)
@click.option(
    "--cache-dir", metavar="DIR", default=None, callback=_folder, help="Cache folder [default: <out>/cache]."
)
@click.option("--formats", default=DEFAULT_FORMATS, show_default=True, help=f"Comma list of {FORMAT_NAMES}.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Worker processes [default: cores].")
@_errors_to_exit
def backfill(
    config_path: str,
    out: str,
    weeks: int,
    as_of: datetime | None,
    data: str,
    cache_dir: str | None,
    formats: str,
    jobs: int | None,
) -> None:
    """Build the past N weekly issues from the cached history, each seeing no data after its week.

    \b
    Example:
        smallcap-brief backfill --weeks 52
    """
    from generator.analysis import reporting_week
    from generator.backfill import backfill as run_backfill
    from generator.backfill import newest_week
    from generator.build import past_week_ends
    from generator.sources.gather import gather, price_cache_path

    config = _load(config_path)
    out_dir = Path(out)
    cache = Path(cache_dir) if cache_dir else out_dir / "cache"
    now = _now()
    today = _today(config.brief.timezone, now)
    asked = _check_as_of(as_of, today)
    if data == "auto" and price_cache_path(cache).exists():
        try:
            snapshot = gather(config, "cache", today=today, now=now, cache_dir=cache, week_start=today)
        except DataUnavailableError as exc:
            log.warning("the cache has no usable history (%s); backfilling from the bundled SAMPLE", exc)
            snapshot = gather(config, "sample", today=today, now=now, cache_dir=cache, week_start=today)
    else:
        mode = "sample" if data == "auto" else data
        if data == "auto":  # said as loudly as a build says it: every issue will be a sample one
            log.warning("no price cache at %s: backfilling from the bundled SAMPLE (illustrative, not"
                        " market data)", price_cache_path(cache))  # fmt: skip
        snapshot = gather(config, mode, today=today, now=now, cache_dir=cache, week_start=today)
    newest = asked or snapshot.as_of
    last_week = newest_week(config, snapshot)
    if reporting_week(newest, config.brief.week_ends_on)[1] > last_week:
        # Weeks past the data would be stale issues, each named by the last bar: one folder, overwritten.
        raise click.BadParameter(
            f"{newest} is after the history's last bar ({snapshot.as_of}); the newest week a backfill"
            f" can build is the week ending {last_week}",
            param_hint="'--as-of'",
        )
    week_ends = past_week_ends(newest, weeks, config.brief.week_ends_on)
    items = run_backfill(config, snapshot, week_ends, out=out_dir, formats=_parse_formats(formats), jobs=jobs)
    failed = [i for i in items if i.error]
    sample = " from the bundled SAMPLE data (illustrative, not market data)" if snapshot.is_sample else ""
    click.echo(f"backfill: {len(items) - len(failed)} issues built{sample}, {len(failed)} failed")
    if failed:
        sys.exit(3)


class _Terminated(BaseException):
    """SIGTERM (a plain `kill`, a CI job's timeout, systemd stopping a timer): raised in the main
    thread so the build unwinds as for Ctrl-C: its staging folder and render workers go with it."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = cli.main(prog_name="smallcap-brief", standalone_mode=False)
    except click.ClickException as exc:  # usage errors: one line, as every other error, exit code 2
        where = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx is not None else ""
        hint = f" (see `{where} --help`)" if where else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        # Ctrl-C: stop now.  Leaving normally would wait for every network thread to reach its own
        # timeout (a minute with a slow feed); the issue folder is written whole or not at all.  The
        # exit handlers run (they delete temporary font copies); the threads are not waited for.
        _stop_now("interrupted", EXIT_INTERRUPTED)
    except _Terminated:
        _stop_now("terminated", EXIT_TERMINATED)
    sys.exit(code if isinstance(code, int) else 0)


def _stop_now(said: str, code: int) -> NoReturn:
    click.echo(said, err=True)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
