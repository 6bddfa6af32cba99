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
from datetime import date, datetime
from pathlib import Path

from generator.errors import PublishError
from generator.formatting import fmt, plain
from generator.models import Brief, IssueMeta

META = "meta.json"
# The output formats a build can write, in the order it writes them: name → the FILES keys it
# writes.  The one list: the CLI's --formats, the build, the renderers (generator.render.WRITERS)
# and the site read it.
FORMATS: dict[str, tuple[str, ...]] = {"html": ("html", "fragment"), "md": ("md",), "pdf": ("pdf",)}
FILES = {
    "html": "brief.html",
    "md": "brief.md",
    "pdf": "brief.pdf",
    "fragment": "fragment.html",
    "email_html": "email.html",
    "email_txt": "email.txt",
}
CHARTS_DIR = "charts"
SNAPSHOT_DIR = "snapshot"


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


def meta_for(brief: Brief, files: dict[str, str]) -> IssueMeta:
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
    path = folder / META
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_meta(folder: Path) -> IssueMeta:
    path = folder / META
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return IssueMeta(
            as_of=date.fromisoformat(data["as_of"]),
            week_start=date.fromisoformat(data["week_start"]),
            week_end=date.fromisoformat(data["week_end"]),
            title=str(data["title"]),
            summary=str(data["summary"]),
            headline=str(data["headline"]),
            takeaways=tuple(str(t) for t in data.get("takeaways", ())),
            is_sample=bool(data["is_sample"]),
            is_stale=bool(data["is_stale"]),
            built_at=datetime.fromisoformat(data["built_at"]),
            files={str(k): str(v) for k, v in data.get("files", {}).items()},
        )
    except FileNotFoundError as exc:
        raise PublishError(f"{path}: no meta.json; is this an issue folder?") from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise PublishError(f"{path}: unreadable meta.json ({exc})") from exc


def list_issues(out: Path) -> list[Path]:
    """Issue folders under ``out/briefs``, newest first (folders without meta.json are skipped)."""
    root = out / "briefs"
    if not root.is_dir():
        return []
    # Dot folders are staging areas of builds in progress (or interrupted): never issues.
    folders = [p for p in root.iterdir() if not p.name.startswith(".") and (p / META).is_file()]
    return sorted(folders, key=lambda p: p.name, reverse=True)


def publish_refusal(meta: IssueMeta, action: str, *, allow_sample: bool, allow_stale: bool) -> str | None:
    """Why an issue must not be published or sent (``action``: "publishing", "sending"), or None."""
    day = meta.as_of.isoformat()
    if meta.is_sample and not allow_sample:
        return f"issue {day} was built from the sample data; not {action} it (--allow-sample)"
    if meta.is_stale and not allow_stale:
        return f"issue {day} is flagged stale (old benchmark data); not {action} it (--allow-stale)"
    return None
