"""Published error texts carry no absolute path of the build machine (generator.redact)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.models import SourceHealth
from generator.redact import hide_local_paths


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("/home/ci/work/data/XLK.csv: XLK: no Close column", "XLK.csv: XLK: no Close column"),
        ("cannot read /srv/brief/output/cache/prices.sqlite (Permission denied)",
         "cannot read prices.sqlite (Permission denied)"),
        ("invalid path: /opt/certs/ca.pem", "invalid path: ca.pem"),
        ("cannot open /var/lib/brief/ either", "cannot open brief either"),
        (r"C:\Users\ann\brief\feeds.yaml: bad", "feeds.yaml: bad"),
        ("two: /a/b/one.csv and /c/d/two.csv", "two: one.csv and two.csv"),
    ],
)  # fmt: skip
def test_absolute_paths_are_shown_by_their_name(text: str, shown: str) -> None:
    assert hide_local_paths(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "HTTP 404 Not Found",
        "not a feed (content-type text/html, an HTML page)",
        "refused: only http and https URLs are fetched, not file (redirected to file:///etc/passwd)",
        "refused: a redirect from https to http (http://example.com/a/b.xml)",
        "a 50/50 split and/or 1/2 of data/IWM.csv",
        "",
    ],
)
def test_urls_and_relative_paths_are_left_alone(text: str) -> None:
    assert hide_local_paths(text) == text


def test_a_health_row_never_holds_an_absolute_path() -> None:
    row = SourceHealth("symbol", "XLK", "failed", "local", error="/tmp/pytest-7/XLK.csv: not a readable CSV")
    assert row.error == "XLK.csv: not a readable CSV"


def test_a_path_under_a_home_folder_with_a_space_is_shown_by_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``/home/Jo Ann/brief/x.csv`` was cut at the space: "/home/Jo" hidden, "Ann/brief/x.csv" left,
    the user's name with it.  The machine's own folders are known, spaces and all."""
    monkeypatch.setenv("HOME", "/home/Jo Ann")
    text = "/home/Jo Ann/brief/data/XLK.csv: no Close column; cannot write /home/Jo Ann/out/"
    assert hide_local_paths(text) == "XLK.csv: no Close column; cannot write out"
    assert (
        hide_local_paths("see https://example.com/home/Jo Ann/x") == "see https://example.com/home/Jo Ann/x"
    )


def test_a_working_folder_removed_under_the_process_hides_paths_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every health row's error goes through the redaction: os.getcwd() raising must not fail them."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    row = SourceHealth("symbol", "XLK", "failed", "local", error="/srv/data/XLK.csv: not a readable CSV")
    assert row.error == "XLK.csv: not a readable CSV"
