"""The CLI through its real entry point (``python -m generator``), end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import ROOT

BANNER = "SAMPLE DATA — illustrative, not market data"


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=full_env,
    )


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("out")
    result = run("build", "--data", "sample", "--out", str(out))
    return out, result


def issue_folder(out: Path) -> Path:
    folders = sorted(p for p in (out / "briefs").iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(folders) == 1, folders
    return folders[0]


def test_help_has_examples_for_every_command() -> None:
    for command in ("build", "check", "site", "send", "backfill"):
        result = run(command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Example" in result.stdout, command


def test_check_accepts_the_default_config() -> None:
    result = run("check")
    assert result.returncode == 0, result.stderr
    assert "ok: feeds.yaml is valid (32 symbols, 8 feeds)" in result.stdout
    assert "^RUT" in result.stdout


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
    result = run("check", "--config", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any("news[0].url" in line and "line 5" in line for line in lines), lines
    assert any("colour" in line for line in lines), lines
    assert any("^RUT" in line for line in lines), lines
    assert "Traceback" not in result.stderr


def test_sample_build_writes_every_format_with_the_banner(
    sample_build: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, result = sample_build
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


def test_rebuild_from_the_issue_snapshot_is_byte_identical(
    sample_build: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    out, _ = sample_build
    folder = issue_folder(out)
    result = run(
        "build", "--from-snapshot", str(folder / "snapshot"), "--out", str(tmp_path), "--formats", "html,md"
    )
    assert result.returncode == 0, result.stderr
    again = issue_folder(tmp_path)
    for name in ("brief.html", "brief.md"):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


def test_strict_sample_build_exits_1(tmp_path: Path) -> None:
    result = run("build", "--data", "sample", "--out", str(tmp_path), "--formats", "md", "--strict")
    assert result.returncode == 1
    assert "degraded" in result.stderr


def test_cache_mode_without_cache_exits_3_naming_the_benchmark(tmp_path: Path) -> None:
    result = run("build", "--data", "cache", "--out", str(tmp_path), "--formats", "md")
    assert result.returncode == 3
    assert "^RUT" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run("build", "--config", str(tmp_path / "nope.yaml"), "--data", "sample")
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_site_refuses_sample_issue_unless_allowed(
    sample_build: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    out, _ = sample_build
    refused = run("site", "--out", str(out), "--site-dir", str(tmp_path / "site"))
    assert refused.returncode == 5
    assert "2026-11-20" in refused.stderr
    assert not (tmp_path / "site").exists()
    allowed = run("site", "--out", str(out), "--site-dir", str(tmp_path / "site"), "--allow-sample")
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "briefs" / "2026-11-20" / "index.html").is_file()


def test_send_dry_run_writes_eml_and_refuses_sample_by_default(
    sample_build: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, _ = sample_build
    refused = run("send", "--out", str(out), "--dry-run", "--to", "reader@example.com")
    assert refused.returncode == 6
    assert "sample" in refused.stderr.lower()
    ok = run("send", "--out", str(out), "--dry-run", "--to", "reader@example.com", "--allow-sample")
    assert ok.returncode == 0, ok.stderr
    emls = list((out / "outbox").rglob("*.eml"))
    assert emls
    body = emls[0].read_bytes()
    assert b"List-Unsubscribe" in body or b"Subject:" in body
    assert b"image/svg" not in body


def test_backfill_auto_falls_back_to_the_sample_when_the_cache_is_empty(tmp_path: Path) -> None:
    """An offline `build` leaves an empty price cache behind; backfill must not trip on it."""
    cache = tmp_path / "cache"
    cache.mkdir()
    import sqlite3

    sqlite3.connect(cache / "prices.sqlite").close()
    result = run(
        "backfill", "--weeks", "2", "--out", str(tmp_path), "--formats", "md", "--cache-dir", str(cache)
    )
    assert result.returncode == 0, result.stderr
    assert "SAMPLE" in result.stderr
    assert sorted(p.name for p in (tmp_path / "briefs").iterdir()) == ["2026-11-13", "2026-11-20"]


def test_build_from_a_plain_folder_of_real_csvs(shared_data: Path, tmp_path: Path) -> None:
    """A user's folder of yfinance CSVs (no manifest): provider "local files", missing symbols named."""
    folder = shared_data / "prices" / "yfinance_alitalbi"
    result = run("build", "--from-snapshot", str(folder), "--out", str(tmp_path), "--formats", "md")
    assert result.returncode == 0, result.stderr
    # the last row (Monday 2026-02-23, an intraday snapshot) is after the reporting week: never used
    md = (tmp_path / "briefs" / "2026-02-20" / "brief.md").read_text(encoding="utf-8")
    assert "2026-02-23" not in md.split("## Source health")[0]
    assert "local files" in md
    assert "^TNX" in md and "stale" in md  # its last bar is 2026-02-13
    assert "No data for" in result.stderr and "^GSPC" in result.stderr
