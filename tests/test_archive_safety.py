"""A damaged or hostile archive (output/briefs) read by ``site`` and ``send``.

``site`` copies an issue's files into the published site and ``send`` mails them: a symbolic link
planted in an issue folder would publish or mail a file from elsewhere on the machine.  Each
issue's files must be its own regular files, not empty and not oversized; a folder that is not an
issue (a link, a name that is not a date) is skipped with a WARNING, never published or sent in
an issue's place; a ``meta.json`` of the wrong shape is one error naming its key.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from publish_fixtures import write_issue

from generator.errors import DeliveryError, PublishError
from generator.issue import MAX_BYTES, read_meta
from generator.models import Config, EmailSettings
from generator.publish.email import send_command
from generator.publish.site import build_site

OLDER, NEWEST = date(2026, 11, 13), date(2026, 11, 20)
SECRET = "root:x:0:0:this file lives outside the archive\n"
CONFIG = Config(
    path="feeds.yaml", universe=(), feeds=(), email=EmailSettings(sender="brief@news.example.com")
)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    write_issue(out, OLDER)
    write_issue(out, NEWEST)
    (tmp_path / "outside.txt").write_text(SECRET, encoding="utf-8")
    return out


def site(out: Path) -> Path:
    target = out.parent / "site"
    build_site(out, target, title="Small-Cap Weekly")
    return target


def dry_send(out: Path, issue: str | None = None) -> list[Path]:
    report = send_command(CONFIG, out, issue_date=issue, to=("a@example.com",), environ={}, dry_run=True)
    return list(report.written)


def nothing_outside_was_published(root: Path) -> None:
    for path in root.rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file():
            assert b"this file lives outside" not in path.read_bytes(), path


@pytest.mark.parametrize(
    "name",
    ["charts/rut-vs-spx.png", "charts/extra.png", "brief.pdf", "brief.md", "fragment.html", "meta.json"],
)
def test_a_link_in_an_issue_folder_is_neither_published_nor_mailed(archive: Path, name: str) -> None:
    path = archive / "briefs" / NEWEST.isoformat() / name
    path.unlink(missing_ok=True)
    path.symlink_to(archive.parent / "outside.txt")
    with pytest.raises(PublishError, match=rf"{name}: a symbolic link"):
        site(archive)
    assert not (archive.parent / "site").exists()
    if name in ("brief.pdf", "charts/rut-vs-spx.png", "meta.json"):  # what the email reads
        with pytest.raises(DeliveryError, match=rf"{name}: a symbolic link"):
            dry_send(archive)
    outbox = archive / "outbox"
    if outbox.exists():
        nothing_outside_was_published(outbox)


def test_a_linked_charts_folder_is_refused(archive: Path, tmp_path: Path) -> None:
    charts = archive / "briefs" / NEWEST.isoformat() / "charts"
    elsewhere = tmp_path / "elsewhere"
    charts.rename(elsewhere)
    (elsewhere / "secret.txt").write_text(SECRET, encoding="utf-8")
    charts.symlink_to(elsewhere)
    with pytest.raises(PublishError, match="charts: a symbolic link"):
        site(archive)
    with pytest.raises(DeliveryError, match="a symbolic link"):
        dry_send(archive)


@pytest.mark.parametrize("planted", ["2026-11-27", "latest", "2026-13-45", "20261127", "2026-W47-5"])
def test_a_folder_that_is_not_an_issue_is_skipped_with_a_warning_never_sent_in_its_place(
    archive: Path, tmp_path: Path, planted: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A link to an issue elsewhere, or a copy under a name that is not a date, sorted after the newest."""
    stray = archive / "briefs" / planted
    if planted == "2026-11-27":
        write_issue(tmp_path / "elsewhere", date(2026, 11, 27))
        stray.symlink_to(tmp_path / "elsewhere" / "briefs" / "2026-11-27")
    else:
        write_issue(tmp_path / "copy", OLDER)
        (tmp_path / "copy" / "briefs" / OLDER.isoformat()).rename(stray)
    with caplog.at_level("WARNING"):
        built = build_site(archive, archive.parent / "site", title="Small-Cap Weekly")
        (eml,) = dry_send(archive)
    assert built.issues == (NEWEST, OLDER) and eml.name.startswith(NEWEST.isoformat())
    assert f"{stray}: skipped" in caplog.text
    nothing_outside_was_published(archive.parent / "site")


def test_send_refuses_a_folder_whose_meta_names_another_week(archive: Path) -> None:
    folder = archive / "briefs" / NEWEST.isoformat()
    data = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    (folder / "meta.json").write_text(json.dumps({**data, "as_of": OLDER.isoformat()}), encoding="utf-8")
    with pytest.raises(DeliveryError, match=r"folder name does not match meta\.json as_of 2026-11-13"):
        dry_send(archive, NEWEST.isoformat())


@pytest.mark.parametrize("name", ["brief.pdf", "fragment.html", "email.html", "charts/rut-vs-spx.png"])
def test_an_empty_file_is_refused_not_published_or_mailed_empty(archive: Path, name: str) -> None:
    (archive / "briefs" / NEWEST.isoformat() / name).write_bytes(b"")
    if name != "email.html":
        with pytest.raises(PublishError, match=rf"{name}: empty; rebuild the issue"):
            site(archive)
    if name != "fragment.html":
        with pytest.raises(DeliveryError, match=rf"{name}: empty; rebuild the issue"):
            dry_send(archive)


def test_an_oversized_file_is_refused_before_it_is_read(archive: Path) -> None:
    pdf = archive / "briefs" / NEWEST.isoformat() / "brief.pdf"
    os.truncate(pdf, MAX_BYTES["brief.pdf"] + 1)  # sparse: no disk used, and never read
    with pytest.raises(
        PublishError, match=r"brief\.pdf: 50,000,001 bytes, more than an issue's file may hold"
    ):
        site(archive)
    with pytest.raises(DeliveryError, match="more than an issue's file may hold"):
        dry_send(archive)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"is_stale": "false"}, "is_stale is str, not bool"),
        ({"title": None}, "title is NoneType, not str"),
        ({"takeaways": "Buy now"}, "takeaways is str, not list"),
        ({"files": ["a"]}, "files is list, not dict"),
        ({"is_sample": 1}, "is_sample is int, not bool"),
    ],
)
def test_a_meta_json_of_the_wrong_shape_is_one_error_naming_the_key(
    archive: Path, change: dict[str, object], said: str
) -> None:
    folder = archive / "briefs" / NEWEST.isoformat()
    data = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    (folder / "meta.json").write_text(json.dumps({**data, **change}), encoding="utf-8")
    with pytest.raises(PublishError, match=rf"unreadable meta\.json \({said}\)"):
        read_meta(folder)
    with pytest.raises(PublishError, match=said):
        site(archive)
    with pytest.raises(DeliveryError, match=said):
        dry_send(archive, NEWEST.isoformat())


def test_a_meta_json_nested_past_the_parsers_depth_is_an_error_not_a_traceback(archive: Path) -> None:
    folder = archive / "briefs" / NEWEST.isoformat()
    (folder / "meta.json").write_text("[" * 200_000, encoding="utf-8")
    with pytest.raises(PublishError, match=r"unreadable meta\.json"):
        read_meta(folder)


def test_an_issue_folder_that_cannot_be_read_is_skipped_saying_why(
    archive: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An old folder another user owns (root reads everything, so the refusal is simulated): the
    newest issue is still sent, and the warning says the folder cannot be read, not that it is empty."""
    locked = archive / "briefs" / OLDER.isoformat() / "meta.json"
    real = Path.lstat

    def lstat(self: Path) -> os.stat_result:
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "lstat", lstat)
    with caplog.at_level("WARNING"):
        (eml,) = dry_send(archive)
    assert eml.name.startswith(NEWEST.isoformat())
    assert f"{locked.parent}: skipped, cannot be read (Permission denied)" in caplog.text
