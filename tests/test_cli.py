"""The CLI: commands run in-process through click's CliRunner, plus one smoke test of the real entry point
(``python -m generator``) in a fresh process, which builds every format and is reused by the tests
that need a built issue."""

from __future__ import annotations

import io
import logging
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from generator.build import BuildResult, Timings, build_from_snapshot
from generator.cli import cli
from generator.config import load_config
from generator.console import progress, report_build
from generator.models import SourceHealth
from generator.sources.snapshot import load_sample
from tests.conftest import ROOT, SAMPLE_BUILD_GROUP

BANNER = "SAMPLE DATA — illustrative, not market data"
built_once = SAMPLE_BUILD_GROUP  # the tests that share the subprocess build (tests/conftest.py)
md_built_once = pytest.mark.xdist_group("cli-md-build")  # the tests that share ``md_build``


@pytest.fixture(autouse=True)
def _project_dir_and_logging(monkeypatch: pytest.MonkeyPatch, root_logging: None) -> None:
    """Commands run from the project root (feeds.yaml by default); the CLI's log handler, bound to
    the runner's stream, is taken off the root logger afterwards (``root_logging``)."""
    monkeypatch.chdir(ROOT)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def issue_folder(out: Path) -> Path:
    folders = sorted(p for p in (out / "briefs").iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(folders) == 1, folders
    return folders[0]


# --------------------------------------------------------------------------- the smoke test


@built_once
def test_smoke_sample_build_in_a_new_process_writes_every_format_with_the_banner(
    cli_sample_build: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, result = cli_sample_build
    assert result.returncode == 0, result.stderr
    assert "SAMPLE" in result.stderr  # said loudly on the console
    folder = issue_folder(out)
    assert folder.name == "2026-11-20"
    for name in (
        "brief.html",
        "brief.md",
        "brief.pdf",
        "fragment.html",
        "email.html",
        "email.txt",
        "meta.json",
    ):
        assert (folder / name).is_file(), name
    assert (folder / "snapshot" / "manifest.json").is_file()
    assert list((folder / "charts").glob("*.png"))
    assert BANNER in (folder / "brief.html").read_text(encoding="utf-8")
    assert BANNER in (folder / "brief.md").read_text(encoding="utf-8")
    text = "\n".join(page.extract_text() for page in PdfReader(folder / "brief.pdf").pages)
    assert "SAMPLE DATA" in text
    assert "Sources and methods" in text
    # The PDF child deleted the copies of the fonts weasyprint made for it (1.2 MB a build).
    assert list((out / ".tmp").iterdir()) == []


# --------------------------------------------------------------------------- in-process commands


def test_help_has_examples_for_every_command_and_the_version() -> None:
    for command in ("build", "check", "site", "send", "backfill"):
        result = invoke(command, "--help")
        assert result.exit_code == 0, result.output
        assert "Example" in result.stdout, command
    version = invoke("--version")
    assert version.exit_code == 0 and version.stdout.startswith("smallcap-brief, version ")


def test_check_accepts_the_default_config() -> None:
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert "ok: feeds.yaml is valid (32 symbols, 8 feeds)" in result.stdout
    assert "^RUT" in result.stdout


def test_check_counts_the_recipients_from_the_environment_without_showing_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`send` mails SMALLCAP_BRIEF_TO before email.to; `check` said "to none configured" beside it."""
    monkeypatch.setenv("SMALLCAP_BRIEF_TO", "a@example.com, b@example.com")
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert "Recipients: 2 from SMALLCAP_BRIEF_TO, instead of email.to" in result.stdout.splitlines()
    assert "a@example.com" not in result.output


def test_check_warns_of_feeds_every_build_will_refuse(tmp_path: Path) -> None:
    """A feed on a loopback or private address passed `check` and then failed every build; `check`
    says so (the build still goes on without it, as for a name that resolves there)."""
    import yaml

    doc = yaml.safe_load((ROOT / "feeds.yaml").read_text(encoding="utf-8"))
    doc["news"] = [
        {"name": "local", "outlet": "A", "url": "http://127.0.0.1:8765/a.xml"},
        {"name": "meta", "outlet": "B", "url": "http://169.254.169.254/latest"},
        {"name": "named", "outlet": "C", "url": "https://feeds.example.com/c.xml"},
        {"name": "allowed", "outlet": "D", "url": "http://10.0.0.5/d.xml"},
        # the C library's older spellings of 127.0.0.1, which the build refuses without a lookup
        {"name": "short", "outlet": "E", "url": "http://127.1/e.xml"},
        {"name": "hex", "outlet": "F", "url": "http://0x7f000001/f.xml"},
        {"name": "decimal", "outlet": "G", "url": "http://2130706433/g.xml"},
        {"name": "octal", "outlet": "H", "url": "http://0177.0.0.1/h.xml"},
        {"name": "digits", "outlet": "I", "url": "https://1e100.net/i.xml"},  # a name, not an address
    ]
    doc["network"] = {**doc.get("network", {}), "allow_hosts": ["10.0.0.5"]}
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    result = invoke("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("warning:")] == [
        f"warning: {config}: news[0].url: 127.0.0.1 is a loopback address; a build refuses it unless"
        " network.allow_hosts lists it",
        f"warning: {config}: news[1].url: 169.254.169.254 is a cloud-metadata address; a build refuses it"
        " unless network.allow_hosts lists it",
        *(
            f"warning: {config}: news[{n}].url: {host} is a loopback address; a build refuses it unless"
            " network.allow_hosts lists it"
            for n, host in ((4, "127.1"), (5, "0x7f000001"), (6, "2130706433"), (7, "0177.0.0.1"))
        ),
    ]
    assert result.stdout.splitlines()[-1] == f"ok: {config} is valid (32 symbols, 9 feeds; 6 warnings)"


def test_check_reports_every_problem_with_key_path_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "universe:\n"
        "  - {symbol: ^RUT, name: Russell 2000, role: small_cap}\n"
        "  - {symbol: ^RUT, name: Again, role: small_cap}\n"
        "news:\n"
        "  - {name: a, outlet: A, url: ftp://example.com/feed}\n"
        "colour: blue\n",
        encoding="utf-8",
    )
    result = invoke("check", "--config", str(bad))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith(f"error: {bad}: ") for line in lines), lines
    assert any("news[0].url" in line and "line 5" in line for line in lines), lines
    assert any("colour" in line for line in lines), lines
    assert any("^RUT" in line for line in lines), lines
    assert result.stdout == ""


@built_once
def test_rebuild_from_the_issue_snapshot_is_byte_identical(
    cli_sample_build: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    folder = issue_folder(cli_sample_build[0])
    result = invoke(
        "build", "--from-snapshot", str(folder / "snapshot"), "--out", str(tmp_path), "--formats", "html,md"
    )
    assert result.exit_code == 0, result.output
    again = issue_folder(tmp_path)
    for name in ("brief.html", "brief.md"):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


def test_strict_sample_build_reports_on_the_console_and_exits_1(tmp_path: Path) -> None:
    result = invoke("build", "--data", "sample", "--out", str(tmp_path), "--formats", "md", "--strict")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert "source symbol | ^RUT | sample | sample | 1018 | 2026-11-20 | " in lines
    assert "WARNING: SAMPLE DATA — this brief is illustrative, not market data." in lines
    assert f"wrote {tmp_path / 'briefs' / '2026-11-20' / 'brief.md'}" in lines  # written all the same
    assert any(line.startswith("stages: ") and " md " in line for line in lines), lines
    assert "INFO generator.console: Building the brief: done in" in result.stderr
    # the reason is the sample itself, not the first of its notes ("made up for the sample")
    assert (
        lines[-1]
        == "error: degraded build under --strict: built from the bundled SAMPLE data, not market data"
    )


def test_unknown_format_is_a_usage_error_naming_the_option() -> None:
    result = invoke("build", "--data", "sample", "--formats", "md,docx")
    assert result.exit_code == 2
    assert "Invalid value for '--formats': unknown format docx; use html, md, pdf" in result.stderr


def test_the_formats_option_lists_the_one_registry_of_formats() -> None:
    from generator.formats import FORMATS

    for command in ("build", "backfill"):
        [option] = [p for p in cli.commands[command].params if p.name == "formats"]
        assert option.default == ",".join(FORMATS) and option.help == f"Comma list of {', '.join(FORMATS)}."
    assert "--formats TEXT Comma list of html, md, pdf. [default: html,md,pdf]" in " ".join(
        invoke("build", "--help").output.split()
    )


def test_formats_are_read_in_any_case_and_the_build_prints_its_folder_alone_on_stdout(tmp_path: Path) -> None:
    """`--formats MD` was refused; the build's only stdout is the issue folder (for scripts), its
    report goes to stderr."""
    killed = tmp_path / "briefs" / ".2026-11-13-0123456789ab"  # a killed build's, two days old
    killed.mkdir(parents=True)
    os.utime(killed, (time.time() - 2 * 86400,) * 2)
    result = invoke("build", "--data", "sample", "--formats", "MD,md", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'briefs' / '2026-11-20'}\n"
    assert (tmp_path / "briefs" / "2026-11-20" / "brief.md").is_file()
    assert not killed.exists() and "removed a staging folder a killed build left behind" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("send", "--dry-run", "--issue", "2026-13-01"),
            "Invalid value for '--issue': '2026-13-01' is not a date (month must be in 1..12)",
        ),
        (
            ("send", "--dry-run", "--to", "notanaddress"),
            "Invalid value for '--to': recipient 'notanaddress' is not",
        ),
        (
            ("site", "--base-url", "not a url"),
            "Invalid value for '--base-url': 'not a url' must be an absolute",
        ),
        (
            ("build", "--data", "sample", "--base-url", "ftp://x.example/"),
            "Invalid value for '--base-url': 'ftp://x.example/' must be an absolute",
        ),
        (  # urlsplit's ValueError was a traceback
            ("site", "--base-url", "http://[::1"),
            "Invalid value for '--base-url': 'http://[::1' is not a valid URL (Invalid IPv6 URL)",
        ),
    ],
)
def test_a_bad_option_of_send_or_site_is_a_usage_error_before_anything_is_read(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    """These exited 6 and 5, the codes of a delivery or a publish that failed, after reading the issues."""
    result = invoke(*args, "--out", str(tmp_path))
    assert result.exit_code == 2 and message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_build_base_url_puts_the_issues_page_in_its_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The publish workflow knows the Pages address only when it runs: the email links to the issue.
    The build checks the address without the publishing code (generator.publish cannot be imported)."""
    for module in [m for m in sys.modules if m == "generator.publish" or m.startswith("generator.publish.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "generator.publish", None)  # importing it raises ImportError
    result = invoke(
        "build", "--data", "sample", "--formats", "md", "--out", str(tmp_path),
        "--base-url", " https://you.github.io/smallcap-brief ",  # spaces around it, as pasted
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = "https://you.github.io/smallcap-brief/briefs/2026-11-20/"
    folder = tmp_path / "briefs" / "2026-11-20"
    assert (
        f'href="{page}"' in (folder / "email.html").read_text() and page in (folder / "email.txt").read_text()
    )
    # kept with the issue, for `send` (its Archived-At header) when the configuration has no address
    from generator.issue import read_meta

    assert read_meta(folder).view_url == page


@pytest.mark.parametrize("option", ["--out", "--cache-dir"])
def test_an_empty_folder_option_is_a_usage_error(option: str) -> None:
    """`--out ""` silently wrote into the current folder."""
    result = invoke("build", "--data", "sample", "--formats", "md", option, "")
    assert result.exit_code == 2 and f"Invalid value for '{option}': must name a folder" in result.stderr


def test_cache_mode_without_cache_exits_3_naming_the_benchmark(tmp_path: Path) -> None:
    result = invoke("build", "--data", "cache", "--out", str(tmp_path), "--formats", "md")
    assert result.exit_code == 3
    assert "^RUT" in result.stderr and "error: " in result.stderr
    assert not (tmp_path / "briefs").exists()


def test_missing_config_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = invoke("build", "--config", str(tmp_path / "nope.yaml"), "--data", "sample")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "nope.yaml" in result.stderr


@pytest.mark.parametrize(
    ("command", "day", "why"),
    [
        ("build", "0001-01-01", "is before 1900-01-01"),  # was an OverflowError's traceback
        ("build", "2099-01-01", "is after today"),  # was a stale issue replacing the sample's
        ("backfill", "9999-12-31", "is after today"),  # was pandas' OutOfBoundsDatetime
    ],
)
def test_an_as_of_outside_the_days_a_brief_can_cover_is_a_usage_error(
    tmp_path: Path, command: str, day: str, why: str
) -> None:
    result = invoke(command, "--data", "sample", "--as-of", day, "--out", str(tmp_path))
    assert result.exit_code == 2 and f"Invalid value for '--as-of': {day} {why}" in result.stderr
    assert not (tmp_path / "briefs").exists()


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["build", "--as-of", "2026-02-30"],
            "error: Invalid value for '--as-of': '2026-02-30' is not a date (day is out of range for month)"
            " (see `smallcap-brief build --help`)",
        ),
        (
            ["backfill", "--as-of", "20261120"],
            "error: Invalid value for '--as-of': '20261120' is not a day written YYYY-MM-DD"
            " (see `smallcap-brief backfill --help`)",
        ),
        (["bild"], "error: No such command 'bild'. Did you mean 'build'? (see `smallcap-brief --help`)"),
    ],
)
def test_a_usage_error_is_one_line_naming_the_option_as_every_other_error(
    argv: list[str], said: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the real entry point: one line and exit 2 (click's own four lines of Usage, Try and
    Error; '2026-02-30' was said not to match the format '%Y-%m-%d')."""
    import signal

    from generator.cli import main

    monkeypatch.setattr(sys, "argv", ["smallcap-brief", *argv])
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # main()'s SIGTERM handler: not this process's
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    assert capsys.readouterr().err == said + "\n"


def test_a_backfill_past_the_history_is_refused_before_it_overwrites_anything(tmp_path: Path) -> None:
    """Weeks after the last bar were stale issues all named by that bar: six weeks overwrote one folder,
    the sample's, and the count said they were built.  Now nothing is built."""
    result = invoke(
        "backfill", "--data", "sample", "--weeks", "8", "--as-of", "2026-11-27", "--out", str(tmp_path)
    )
    assert result.exit_code == 2, result.output
    assert "2026-11-27 is after the history's last bar (2026-11-20)" in result.stderr
    assert "the newest week a backfill can build is the week ending 2026-11-20" in result.stderr
    assert not (tmp_path / "briefs").exists()


def test_the_backfill_library_refuses_weeks_past_its_snapshot(tmp_path: Path) -> None:
    from generator.backfill import backfill
    from generator.errors import DataUnavailableError

    config, sample, weeks = (
        load_config(ROOT / "feeds.yaml"),
        load_sample(),
        [date(2026, 11, 20), date(2026, 11, 27)],
    )
    with pytest.raises(
        DataUnavailableError, match=r"1 of the weeks .* after the history's last bar \(2026-11-20\)"
    ):
        backfill(config, sample, weeks, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_output_folder_that_cannot_be_made_is_one_line_naming_it_exit_7(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    result = invoke("build", "--data", "sample", "--formats", "md", "--out", str(tmp_path / "a-file" / "out"))
    assert result.exit_code == 7
    errors = [line for line in result.stderr.splitlines() if not line.startswith("INFO ")]
    assert errors == [f"error: {tmp_path / 'a-file' / 'out' / 'briefs'}: Not a directory"]


def test_ctrl_c_stops_at_once_with_exit_130_though_a_source_is_still_waiting(tmp_path: Path) -> None:
    """A feed that answers slowly held Ctrl-C for its whole deadline (a minute), then exited 1
    ("Aborted!").  Gathering runs its sources in a pool whose end waited for every one of them: here
    the entry point gathers through the real pool with a source that waits 60 s, as a hung feed
    does; SIGINT must end the process within seconds, with exit 130, its exit handlers run."""
    import signal
    import sys
    import time

    script = f"""
import atexit, sys, time
from datetime import date, datetime, UTC
from pathlib import Path
from generator import cli as c
from generator.config import load_config
from generator.sources.gather import compose
from generator.sources.providers import ProviderContext, ProviderResult, Transport

class Slow:
    name, cache_folder, needs = "slow", "", ()
    def fetch(self, context):
        print("waiting", flush=True)
        time.sleep(60)
        return ProviderResult("slow")

@c.cli.command()
def hang():
    atexit.register(lambda: Path({str(tmp_path / "exit-handlers-ran")!r}).touch())
    context = ProviderContext(
        config=load_config("feeds.yaml"), offline=False, today=date(2026, 11, 21),
        now=datetime(2026, 11, 21, 12, tzinfo=UTC), week_start=date(2026, 11, 16),
        week_end=date(2026, 11, 20), cache_dir=Path({str(tmp_path)!r}), transport=Transport(),
    )
    compose([Slow()], context)

sys.argv = ["smallcap-brief", "hang"]
c.main()
"""
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "waiting\n"
        start = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
        assert time.monotonic() - start < 10
    finally:
        child.kill()
    assert child.returncode == 130 and err.strip().splitlines()[-1] == "interrupted", err
    assert (tmp_path / "exit-handlers-ran").exists()


@pytest.mark.parametrize("args", [("-v", "check"), ("check", "-v"), ("check", "--verbose")])
def test_verbose_logs_at_debug_before_or_after_the_command(args: tuple[str, ...]) -> None:
    """`build -v` was "No such option"; the flag works on either side of the command."""
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert logging.getLogger().level == logging.DEBUG


@built_once
def test_site_refuses_sample_issue_unless_allowed(
    cli_sample_build: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    out = cli_sample_build[0]
    refused = invoke("site", "--out", str(out), "--site-dir", str(tmp_path / "site"))
    assert refused.exit_code == 5
    assert "2026-11-20" in refused.stderr
    assert not (tmp_path / "site").exists()
    allowed = invoke("site", "--out", str(out), "--site-dir", str(tmp_path / "site"), "--allow-sample")
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stdout.startswith(f"site: {tmp_path / 'site'} (")
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "briefs" / "2026-11-20" / "index.html").is_file()


@built_once
def test_send_dry_run_writes_eml_and_refuses_sample_by_default(
    cli_sample_build: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out = cli_sample_build[0]
    refused = invoke("send", "--out", str(out), "--dry-run", "--to", "reader@example.com")
    assert refused.exit_code == 6
    assert "sample" in refused.stderr.lower()
    ok = invoke("send", "--out", str(out), "--dry-run", "--to", "reader@example.com", "--allow-sample")
    assert ok.exit_code == 0, ok.output
    emls = list((out / "outbox").rglob("*.eml"))
    assert emls
    body = emls[0].read_bytes()
    assert b"Subject:" in body
    assert b"image/svg" not in body


def test_backfill_auto_falls_back_to_the_sample_when_the_cache_is_empty(tmp_path: Path) -> None:
    """An offline `build` leaves an empty price cache behind; backfill must not trip on it."""
    cache = tmp_path / "cache"
    cache.mkdir()
    sqlite3.connect(cache / "prices.sqlite").close()
    result = invoke(
        "backfill", "--weeks", "1", "--jobs", "1", "--out", str(tmp_path), "--formats", "md",
        "--cache-dir", str(cache),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "backfilling from the bundled SAMPLE" in result.stderr
    sample = "from the bundled SAMPLE data (illustrative, not market data)"
    assert result.stdout == f"backfill: 1 issues built {sample}, 0 failed\n"
    assert sorted(p.name for p in (tmp_path / "briefs").iterdir()) == ["2026-11-20"]


def test_backfill_without_any_cache_says_loudly_it_builds_sample_issues(tmp_path: Path) -> None:
    """With no price cache at all `--data auto` backfills from the sample: said on stderr and in
    the summary line (it printed "52 issues built, 0 failed" and nothing else)."""
    result = invoke("backfill", "--weeks", "1", "--jobs", "1", "--out", str(tmp_path), "--formats", "md")
    assert result.exit_code == 0, result.output
    cache = tmp_path / "cache" / "prices.sqlite"
    assert f"no price cache at {cache}: backfilling from the bundled SAMPLE" in result.stderr
    assert "from the bundled SAMPLE data (illustrative, not market data)" in result.stdout


def test_build_from_a_plain_folder_of_real_csvs(shared_data: Path, tmp_path: Path) -> None:
    """A user's folder of yfinance CSVs (no manifest): provider "local files", missing symbols named."""
    folder = shared_data / "prices" / "yfinance_alitalbi"
    result = invoke("build", "--from-snapshot", str(folder), "--out", str(tmp_path), "--formats", "md")
    assert result.exit_code == 0, result.output
    # the last row (Monday 2026-02-23, an intraday snapshot) is after the reporting week: never used
    md = (tmp_path / "briefs" / "2026-02-20" / "brief.md").read_text(encoding="utf-8")
    assert "2026-02-23" not in md.split("## Source health")[0]
    assert "local files" in md
    assert "10-year Treasury yield (^TNX): stale, last bar 2026-02-13" in md
    # Read without a problem, but ending before the week: stale in the health table and on the
    # console too, not "no problems" beside the Data problems table that lists it
    assert "11 symbols and no feeds: 2 problems, listed first." in md
    assert (
        "| symbol | ^TNX | **stale** | local | 2,795 | 2026-02-13 "
        "| last bar 2026-02-13, before the week of 2026-02-16 |" in md
    )
    assert "| ^TNX | stale | last bar 2026-02-13, before the week of 2026-02-16 |" in md
    assert (
        "degraded: symbol ^TNX: stale — last bar 2026-02-13, before the week of 2026-02-16" in result.stderr
    )
    # SPY stands in for ^GSPC: one provider named once, with the proxy
    assert "| ^RUT, ^GSPC | local files; SPY as a proxy for ^GSPC |" in md
    assert "the small-cap benchmarks and funds ^SP600 and IJR: no data" in md  # not in the folder: named
    assert "lagged the S&P 500 (SPY)" in md  # SPY stands in for ^GSPC, labelled
    # Yahoo's futures have bars on days the NYSE was closed: dropped, and said once naming the files.
    assert "WARNING generator.sources.prices_csv: 3 series (ES=F, NQ=F, RTY=F): dropped " in result.stderr
    assert "brief 2026-02-20: " in result.stderr


# --------------------------------------------------------------------------- the console on a terminal


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def md_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    out = tmp_path_factory.mktemp("console")
    config = load_config(ROOT / "feeds.yaml")
    return build_from_snapshot(
        config, load_sample(), as_of=date(2026, 11, 20), out=out, formats=["md"], write_snapshot=False
    )


def test_progress_on_a_terminal_is_a_spinner_and_in_ci_plain_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "generator.console")
    terminal = Terminal()
    with progress("Building", stream=terminal) as update:
        update("charts")
    assert [r.getMessage() for r in caplog.records if "charts" in r.getMessage()] == []
    caplog.clear()
    with progress("Building", stream=io.StringIO()) as update:
        update("charts")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[:2] == ["Building", "Building: charts"] and messages[2].startswith("Building: done in ")


@md_built_once
def test_report_on_a_terminal_is_a_table_that_shows_server_text_literally(md_build: BuildResult) -> None:
    hostile = SourceHealth("feed", "wire", "failed", "live", error="HTTP 500 [bold red]boom[/bold red]")
    brief = replace(md_build.brief, health=(*md_build.brief.health, hostile))
    terminal = Terminal()
    problems = report_build(replace(md_build, brief=brief, timings=Timings({"md": 0.5})), stream=terminal)
    shown = terminal.getvalue()
    assert "Source health" in shown and "^RUT" in shown
    assert "[bold red]boom[/bold red]" in shown  # markup from a server is printed, not interpreted
    assert "feed wire: failed — HTTP 500 [bold red]boom[/bold red]" in problems
    assert "degraded: feed wire: failed" in shown and "stages: md 0.50s" in shown


@md_built_once
def test_report_names_sources_that_failed_alike_on_one_line(md_build: BuildResult) -> None:
    """Every symbol of an unreachable host is one "degraded:" line naming them, not one line each."""
    why = "not asked: cannot reach Yahoo Finance (cannot resolve host)"
    failed = [SourceHealth("symbol", s, "failed", "none", error=f"{s}: {why}") for s in ("IWM", "IJR", "IWC")]
    failed.append(SourceHealth("feed", "wire", "failed", "none", error="HTTP 500"))
    brief = replace(md_build.brief, health=(*failed, *md_build.brief.health))
    plain = io.StringIO()
    problems = report_build(replace(md_build, brief=brief), stream=plain)
    assert problems[:2] == [f"3 symbols IWM, IJR, IWC: failed — {why}", "feed wire: failed — HTTP 500"]
    lines = plain.getvalue().splitlines()
    assert len([line for line in lines if line.startswith("source ") and "| failed |" in line]) == 4  # each


@md_built_once
def test_report_in_ci_logs_is_plain_lines(md_build: BuildResult) -> None:
    plain = io.StringIO()
    problems = report_build(md_build, stream=plain)
    lines = plain.getvalue().splitlines()
    rows = [line for line in lines if line.startswith("source ")]
    assert len(rows) == len(md_build.brief.health)
    assert "WARNING: SAMPLE DATA — this brief is illustrative, not market data." in lines
    assert [line for line in lines if line.startswith("degraded: ")] == [f"degraded: {p}" for p in problems]


# --------------------------------------------------------------------------- stopped from outside


def _children(pid: int) -> set[int]:
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def _started_writing(args: list[str], out: Path) -> tuple[subprocess.Popen[str], set[int]]:
    """The command started in a new process, once it is writing an issue (a staging folder is in
    ``briefs/``), with its child processes at that moment."""
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", *args, "--data", "sample", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list((out / "briefs").glob(".2*")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no staging folder appeared"
        time.sleep(0.02)
    return process, _children(process.pid)


def _gone(pids: set[int], within: float = 15.0) -> set[int]:
    deadline = time.monotonic() + within
    while (left := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc")
@pytest.mark.parametrize("args", [["build"], ["backfill", "--weeks", "4"]], ids=["build", "backfill"])
def test_sigterm_stops_the_command_with_its_workers_and_leaves_no_staging_folder(
    args: list[str], tmp_path: Path
) -> None:
    """A plain `kill` (a CI job's timeout, systemd stopping a timer) stops the command as Ctrl-C does:
    exit 143 and one line; the render or pool workers go with it and the issue being written is
    removed (the workers ran on for good, and a half-written staging folder stayed)."""
    out = tmp_path / "out"
    process, children = _started_writing(args, out)
    assert children, "the command runs its work in child processes"
    process.terminate()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert stderr.rstrip().endswith("terminated") and "Traceback" not in stderr
    assert not _gone(children)
    assert not list((out / "briefs").glob(".2*"))


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc")
def test_render_workers_exit_when_the_build_is_killed_outright(tmp_path: Path) -> None:
    """SIGKILL leaves the build no time to stop anything: its render workers see their pipe close
    and exit.  Each had inherited the parent's end of its own pipe and of the other's, so neither
    ever read end-of-file and both waited for good."""
    process, children = _started_writing(["build"], tmp_path / "out")
    assert len(children) == 2  # the charts and the PDF workers
    process.kill()
    process.communicate(timeout=60)
    assert not _gone(children), "render workers outlived the killed build"


def test_a_write_the_disk_refuses_is_a_files_error_naming_the_output_folder(tmp_path: Path) -> None:
    """A full disk or a file over the size limit fails a write to a file already open, with no file
    name in the error: it was re-raised as a bug (a traceback, exit 1, the code of a degraded build
    under --strict).  Here a real limit on file size (ulimit -f 40 KB) stops the snapshot's write."""
    out = tmp_path / "out"
    limited = (
        "import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (40960, 40960));"
        f" sys.argv = ['smallcap-brief', 'build', '--data', 'sample', '--out', {str(out)!r},"
        f" '--config', {str(ROOT / 'feeds.yaml')!r}];"
        " runpy.run_module('generator', run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", limited], capture_output=True, text=True, timeout=120)
    assert done.returncode == 7, done.stderr[-2000:]
    assert done.stderr.rstrip().splitlines()[-1] == f"error: writing to {out}: File too large"
    assert "Traceback" not in done.stderr
    assert not list((out / "briefs").iterdir())  # the half-written issue was removed
