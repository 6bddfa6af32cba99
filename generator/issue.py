"""The on-disk layout of one built issue and its ``meta.json``.

output/briefs/<as-of>/
    brief.html      standalone HTML (inline SVG charts, inline CSS)
    brief.md        Markdown (PNG charts beside it)
    brief.pdf       PDF made from the HTML with print CSS
    fragment.html   the brief's <article> alone, for the site's issue page
    email.html      the email body (PNG charts referenced as cid:chart-<key>)
    email.txt       the plain-text alternative
    charts/<key>.png
    meta.json       IssueMeta
    snapshot/       the snapshot the issue was built from (rebuild with --from-snapshot)
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from datetime import date, datetime
from pathlib import Path
from typing import Any

from generator.errors import PublishError
from generator.formatting import fmt, plain
from generator.models import Brief, IssueMeta
from generator.text import ascii_url, site_url_problem, unprintable

META = "meta.json"
CHARTS_DIR = "charts"
SNAPSHOT_DIR = "snapshot"
log = logging.getLogger(__name__)

# The most an issue's file may hold when it is published or sent (the sample's are 0.02–0.25 MB):
# a damaged or planted file is refused, not copied into every site or mailed to every reader.
MAX_BYTES = {META: 1_000_000, "brief.pdf": 50_000_000, "email.html": 2_000_000, "email.txt": 2_000_000}
MAX_OTHER_BYTES = 20_000_000  # fragment.html, brief.md, a chart's PNG


def issue_file(folder: Path, name: str) -> Path:
    """``folder / name`` when it is one of the issue's own files: a regular file, neither a symbolic
    link nor reached through one (from the issue folder down), not empty and not oversized.

    Raises PublishError naming the file otherwise: ``site`` and ``send`` copy and mail what they
    read, so a link planted in an archive would publish a file from elsewhere on the machine.
    """
    path = folder
    for part in (".", *Path(name).parts):
        path = folder if part == "." else path / part
        if path.is_symlink():
            raise PublishError(f"{path}: a symbolic link; an issue's files are its own (rebuild the issue)")
    try:
        info = path.lstat()
    except OSError as exc:
        raise PublishError(f"{path}: cannot read ({exc.strerror or exc}); rebuild the issue") from exc
    limit = MAX_BYTES.get(name, MAX_OTHER_BYTES)
    if not stat.S_ISREG(info.st_mode):
        raise PublishError(f"{path}: not a regular file")
    if info.st_size == 0:
        raise PublishError(f"{path}: empty; rebuild the issue")
    if info.st_size > limit:
        raise PublishError(f"{path}: {info.st_size:,} bytes, more than an issue's file may hold ({limit:,})")
    return path


def read_issue_file(folder: Path, name: str) -> bytes:
    """The bytes of the issue's own file ``name`` (see :func:`issue_file`), read without following a link."""
    path = issue_file(folder, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_BYTES.get(name, MAX_OTHER_BYTES) + 1)
    except OSError as exc:
        raise PublishError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > MAX_BYTES.get(name, MAX_OTHER_BYTES):  # grown since it was looked at
        raise PublishError(f"{path}: more than an issue's file may hold")
    return data


def present(path: Path) -> bool:
    """Whether anything is at ``path``: a file, a folder or a link, even a dangling one."""
    return path.exists() or path.is_symlink()


def issue_charts(folder: Path) -> list[str]:
    """The issue's chart files (``charts/<key>.png``), each checked by :func:`issue_file`."""
    charts = folder / CHARTS_DIR
    if charts.is_symlink():
        raise PublishError(f"{charts}: a symbolic link; an issue's files are its own (rebuild the issue)")
    if not charts.is_dir():
        return []
    names = sorted(f"{CHARTS_DIR}/{p.name}" for p in charts.iterdir())
    return [str(issue_file(folder, name).relative_to(folder)) for name in names]


def issue_dir(out: Path, as_of: date) -> Path:
    return out / "briefs" / as_of.isoformat()


def headline_text(brief: Brief) -> str:
    """The top takeaway (the email subject carries it); the headline sentence in a week without one."""
    if brief.takeaways:
        return plain(brief.takeaways[0].prose).rstrip(".")
    if brief.lead:
        return plain(brief.lead).rstrip(".")
    figure = brief.headline_figure
    return f"{figure.label} {fmt(figure)}"


def issue_url(base_url: str, as_of: date) -> str | None:
    """The issue's page on the site at ``base_url`` ("" for none): ``<base>/briefs/<date>/``."""
    return f"{ascii_url(base_url).rstrip('/')}/briefs/{as_of.isoformat()}/" if base_url else None


def meta_for(brief: Brief, files: dict[str, str], view_url: str | None = None) -> IssueMeta:
    return IssueMeta(
        as_of=brief.as_of,
        week_start=brief.week_start,
        week_end=brief.week_end,
        title=brief.title,
        summary=brief.summary,
        headline=headline_text(brief),
        takeaways=tuple(plain(t.prose) for t in brief.takeaways),
        is_sample=brief.is_sample,
        is_stale=brief.is_stale,
        built_at=brief.built_at,
        files=dict(sorted(files.items())),
        view_url=view_url,
    )


def write_meta(meta: IssueMeta, folder: Path) -> Path:
    data = {
        "as_of": meta.as_of.isoformat(),
        "week_start": meta.week_start.isoformat(),
        "week_end": meta.week_end.isoformat(),
        "title": meta.title,
        "summary": meta.summary,
        "headline": meta.headline,
        "takeaways": list(meta.takeaways),
        "is_sample": meta.is_sample,
        "is_stale": meta.is_stale,
        "built_at": meta.built_at.isoformat(),
        "files": dict(meta.files),
    }
    if meta.view_url:  # the address the email links to; `send` gives it as the Archived-At header
        data["view_url"] = meta.view_url
    path = folder / META
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_meta(folder: Path) -> IssueMeta:
    path = folder / META
    if not present(path):
        raise PublishError(f"{path}: no meta.json; is this an issue folder?")
    try:
        data = json.loads(read_issue_file(folder, META).decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, nested past the parser's depth
        raise PublishError(f"{path}: unreadable meta.json ({str(exc)[:200]})") from exc
    if not isinstance(data, dict):
        raise PublishError(f"{path}: unreadable meta.json (not an object)")
    try:
        return IssueMeta(
            as_of=date.fromisoformat(_typed(data, "as_of", str)),
            week_start=date.fromisoformat(_typed(data, "week_start", str)),
            week_end=date.fromisoformat(_typed(data, "week_end", str)),
            title=_text(data, "title"),
            summary=_text(data, "summary"),
            headline=_text(data, "headline"),
            takeaways=tuple(
                _text({"takeaways": t}, "takeaways") for t in _typed(data, "takeaways", list, [])
            ),
            is_sample=_typed(data, "is_sample", bool),
            is_stale=_typed(data, "is_stale", bool),
            built_at=datetime.fromisoformat(_typed(data, "built_at", str)),
            files={k: _typed({k: v}, k, str) for k, v in _typed(data, "files", dict, {}).items()},
            view_url=_view_url(_typed(data, "view_url", str, None)),
        )
    except KeyError as exc:
        raise PublishError(f"{path}: unreadable meta.json (no {exc})") from exc
    except (ValueError, TypeError) as exc:
        raise PublishError(f"{path}: unreadable meta.json ({exc})") from exc


def _view_url(url: str | None) -> str | None:
    """The issue's page as meta.json names it, checked as the site's address is: it becomes the
    email's Archived-At header (a line break in it, or a javascript: link, is refused)."""
    if url is not None and (problem := site_url_problem(url)) is not None:
        raise ValueError(f"view_url {problem}")
    return url


def _text(data: dict[str, object], key: str) -> str:
    """A string the site's feed and the email carry: none of what they cannot hold (a control
    character, a line separator, U+FFFF), which a build never writes; a damaged file is named, not a
    traceback.  Blanks (tabs, line breaks) are whitespace to the page and the subject's own check."""
    value: str = _typed(data, key, str)
    if (bad := unprintable(re.sub(r"[\t\n\r]", " ", value))) is not None:
        raise ValueError(f"{key} holds {bad}, a character the feed and mail headers cannot carry")
    return value


def _typed(data: dict[str, object], key: str, kind: type, default: object = KeyError) -> Any:
    """``data[key]`` when it is a ``kind`` (a bool is not an int, nor "false" a bool); TypeError naming
    the key otherwise."""
    if key not in data:
        if default is KeyError:
            raise KeyError(key)
        return default
    value = data[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise TypeError(f"{key} is {type(value).__name__}, not {kind.__name__}")
    return value


def list_issues(out: Path) -> list[Path]:
    """Issue folders under ``out/briefs``, newest first.

    Dot folders are staging areas of builds in progress (or interrupted): never issues.  A folder
    not named as a date, a symbolic link, or without meta.json is not an issue either: each is
    skipped with a WARNING naming it, so that nothing is published or sent in an issue's place.
    """
    root = out / "briefs"
    if not root.is_dir():
        return []
    folders = []
    for path in root.iterdir():
        if path.name.startswith("."):
            continue
        why = _not_an_issue(path)
        if why:
            log.warning("%s: skipped, %s", path, why)
        else:
            folders.append(path)
    return sorted(folders, key=lambda p: p.name, reverse=True)


def _not_an_issue(path: Path) -> str:
    """Why ``path`` is not an issue folder, or "" when it is one."""
    if path.is_symlink():
        return "a symbolic link, not an issue folder"
    if not path.is_dir():
        return "not a folder"
    try:
        named = date.fromisoformat(path.name).isoformat() == path.name  # not "2026-W47-5", "20261120"
    except ValueError:
        named = False
    if not named:
        return "not named as a date (YYYY-MM-DD)"
    try:
        (path / META).lstat()
    except FileNotFoundError:
        return "no meta.json"
    except OSError as exc:  # a folder this user may not read: said as such, not as a missing file
        return f"cannot be read ({exc.strerror or exc})"
    return ""


def publish_refusal(meta: IssueMeta, action: str, *, allow_sample: bool, allow_stale: bool) -> str | None:
    """Why an issue must not be published or sent (``action``: "publishing", "sending"), or None."""
    day = meta.as_of.isoformat()
    if meta.is_sample and not allow_sample:
        return f"issue {day} was built from the sample data; not {action} it (--allow-sample)"
    if meta.is_stale and not allow_stale:
        return f"issue {day} is flagged stale (old benchmark data); not {action} it (--allow-stale)"
    return None
