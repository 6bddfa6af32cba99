"""The static site: home page, one permanent page per issue, an Atom feed and a 404 page.

site/
    index.html                  the latest brief in full, then the archive (newest first)
    404.html
    feed.xml                    Atom, full content
    robots.txt, sitemap.xml     for crawlers: every page may be indexed; the home page and every issue
    assets/site.css             the site chrome
    assets/brief.css            the brief's own styles (when templates/brief.css exists)
    briefs/<as-of>/index.html   the issue's permanent page
    briefs/<as-of>/brief.pdf, brief.md, charts/*.png

Every link between pages is relative, so the site works at a domain root or under a
GitHub Pages project path (/repo/).  ``base_url`` is used only where an absolute URL is
required: Atom links and ids, canonical links, the share image (Open Graph / Twitter card),
the sitemap's locations and robots.txt's Sitemap line, and the 404 page (served at any depth).
Without it the site still works: pages carry no canonical link or share image, and there is no
sitemap (its locations must be absolute URLs), nor a Sitemap line in robots.txt (a WARNING says so).
Crawlers read robots.txt only at a domain's root; under a project path it is a hint for
whoever serves the domain.

Everything is read and checked before anything is written; the new site is built in a
temporary folder beside the target and swapped in with renames, so a failed build leaves
the previous site as it was.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from time import time as time_now
from urllib.parse import quote
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator
from markupsafe import Markup

from generator.errors import PublishError
from generator.formats import FILES
from generator.formatting import fmt_long_date
from generator.fsutil import site_leftovers, staging_folder, swap_in, sweep_abandoned
from generator.issue import (
    CHARTS_DIR,
    issue_charts,
    issue_file,
    list_issues,
    present,
    publish_refusal,
    read_issue_file,
    read_meta,
)
from generator.models import IssueMeta
from generator.render import TEMPLATES_DIR, make_env
from generator.text import ascii_url, site_url_problem

log = logging.getLogger(__name__)

MARKER = ".smallcap-brief-site"  # tells a later build that this folder may be replaced
STYLESHEETS = (
    ("brief.css", TEMPLATES_DIR / "brief.css"),
    ("brief-screen.css", TEMPLATES_DIR / "brief-screen.css"),
    ("site.css", TEMPLATES_DIR / "site" / "site.css"),
)
DOWNLOADS = (("PDF", FILES["pdf"]), ("Markdown", FILES["md"]))
SITE_DESCRIPTION = (
    "A sourced, dated weekly brief on U.S. small-cap stocks: the latest issue in full, "
    "every past issue, an Atom feed and PDFs to download."
)
NO_BASE_URL = (
    "site.base_url is not set: absolute URLs cannot be produced, so pages have no canonical link "
    "or share image, and no sitemap.xml is written (its locations must be absolute URLs)"
)
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# The first chart the fragment shows: a figure id (the brief's own markup) or an <img> of a PNG.
_CHART_REF = re.compile(r'(?:\bid="chart-|\bsrc="' + CHARTS_DIR + r"/)([A-Za-z0-9_-]+)")
_URL_ATTR = re.compile(r'(\s(?:src|href)=")([^"]*)(")')
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class SiteResult:
    path: Path  # the site folder
    pages: tuple[str, ...]  # HTML pages written, relative to ``path``
    issues: tuple[date, ...]  # issues included, newest first
    feed: Path
    warnings: tuple[str, ...] = ()  # things the reader of the build log should know

    def __str__(self) -> str:
        newest = self.issues[0].isoformat() if self.issues else "none"
        pages = f"{len(self.pages)} pages and feed.xml in {self.path}"
        return f"{len(self.issues)} issue(s), newest {newest}; {pages}"


@dataclass(frozen=True)
class _Issue:
    folder: Path
    meta: IssueMeta
    fragment: str
    downloads: tuple[tuple[str, str], ...]  # (label, file name) present in the folder
    charts: tuple[str, ...] = ()  # charts/<key>.png, each the issue's own file
    top_chart: str | None = None  # the first chart's PNG, relative to the issue folder
    description: str = ""  # one line for search results and share cards

    @property
    def slug(self) -> str:
        return self.meta.as_of.isoformat()

    @property
    def summary_beyond_headline(self) -> str:
        """The summary, or "" where it only says the headline again (a quiet week's lead is its headline)."""
        said = " ".join(self.meta.headline.split()).rstrip(". ")
        summary = " ".join(self.meta.summary.split())
        return "" if summary.rstrip(". ") == said else summary

    @property
    def closed_at(self) -> datetime:
        """The close the issue reports on: 4 pm New York time on its as-of day."""
        close = datetime.combine(self.meta.as_of, time(16), tzinfo=ZoneInfo("America/New_York"))
        return close.astimezone(UTC)


@dataclass(frozen=True)
class _PageMeta:
    """What a page tells search engines and link previews (escaped by the template)."""

    description: str
    canonical: str | None = None  # absolute; None without a base URL
    image: str | None = None  # absolute URL of a PNG; None without a base URL or chart
    kind: str = "website"  # og:type
    published: str | None = None  # article:published_time (ISO date)
    index: bool = True  # False: robots noindex (the 404 page)


def build_site(
    out: Path,
    site_dir: Path,
    *,
    title: str,
    base_url: str = "",
    allow_sample: bool = False,
    allow_stale: bool = False,
) -> SiteResult:
    """Build the site from every issue under ``out/briefs`` and atomically replace ``site_dir``.

    Raises PublishError when there is nothing to publish, an issue may not be published
    (sample or stale data, unless allowed), a file cannot be read or written, or
    ``site_dir`` is not a folder this function may replace.
    """
    base = normalize_base_url(base_url)
    if site_dir.is_symlink():  # a web server's root linked to it: the site is written where it points
        target = site_dir.resolve()
        log.info("site: %s links to %s; the site is written there", site_dir, target)
        site_dir = target
    _check_target(out, site_dir)
    sweep_abandoned(site_dir.parent, now=time_now(), pattern=site_leftovers(site_dir.name))
    issues, warnings = _load_issues(out, allow_sample=allow_sample, allow_stale=allow_stale)
    if not base:
        warnings.append(NO_BASE_URL)
    stylesheets = [(name, path) for name, path in STYLESHEETS if path.is_file()]
    if not any(name == "brief.css" for name, _ in stylesheets):
        warnings.append("templates/brief.css not found: issue pages use the site stylesheet only")
    for warning in warnings:
        log.warning("site: %s", warning)
    try:
        site_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_folder(site_dir.parent, f".{site_dir.name}.new-")
    except OSError as exc:
        raise PublishError(f"{site_dir.parent}: cannot create the site's staging folder ({exc})") from exc
    try:
        writer = _Writer(staging, title=title, base=base, stylesheets=[n for n, _ in stylesheets])
        pages = writer.write_all(issues, stylesheets)
        swap_in(staging, site_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(f"{site_dir}: site build failed, previous site left in place ({exc})") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("site: %d issues, %d pages in %s", len(issues), len(pages), site_dir)
    return SiteResult(
        site_dir, tuple(pages), tuple(i.meta.as_of for i in issues), site_dir / "feed.xml", tuple(warnings)
    )


# ---------------------------------------------------------------------------
# Reading and checking (nothing written yet)
# ---------------------------------------------------------------------------


def normalize_base_url(base_url: str) -> str:
    base = base_url.strip()
    if not base:
        return ""
    if (problem := site_url_problem(base)) is not None:
        raise PublishError(f"site.base_url {base_url!r} {problem}")
    base = ascii_url(base)  # an international address as the URI the sitemap and links need
    return base if base.endswith("/") else base + "/"


def _check_target(out: Path, site_dir: Path) -> None:
    site, source = site_dir.resolve(), (out / "briefs").resolve()
    if site == source or site in source.parents:
        raise PublishError(f"{site_dir}: the site folder would contain the issues in {out / 'briefs'}")
    if site_dir.exists() and not site_dir.is_dir():
        raise PublishError(f"{site_dir}: exists and is not a folder")
    if site_dir.is_dir() and any(site_dir.iterdir()) and not (site_dir / MARKER).is_file():
        raise PublishError(f"{site_dir}: not empty and not a site built by smallcap-brief ({MARKER} missing)")


def _load_issues(out: Path, *, allow_sample: bool, allow_stale: bool) -> tuple[list[_Issue], list[str]]:
    folders = list_issues(out)
    if not folders:
        raise PublishError(f"{out / 'briefs'}: no built issues to publish; run `smallcap-brief build` first")
    issues: list[_Issue] = []
    warnings: list[str] = []
    weeks: dict[date, str] = {}  # each week's issue: the newest (folders come newest first)
    for folder in folders:
        meta = read_meta(folder)
        day = meta.as_of.isoformat()
        if folder.name != day:
            raise PublishError(f"{folder}: folder name does not match meta.json as_of {day}")
        if meta.week_start in weeks:  # an archive from before a week had one issue
            warnings.append(
                f"issue {day}: left out, {weeks[meta.week_start]} is the issue of the same week"
                f" (remove {folder} to silence this)"
            )
            continue
        refusal = publish_refusal(meta, "publishing", allow_sample=allow_sample, allow_stale=allow_stale)
        if refusal:
            raise PublishError(refusal)
        if not present(folder / FILES["fragment"]):  # built without HTML (`--formats pdf`): not damaged
            warnings.append(
                f"issue {day}: built without HTML ({FILES['fragment']} missing), left out of the site;"
                " rebuild it with --formats html"
            )
            continue
        fragment = _read_text(folder, FILES["fragment"])
        downloads = tuple((label, name) for label, name in DOWNLOADS if present(folder / name))
        for _, name in downloads:
            issue_file(folder, name)  # the issue's own file, or the site is not built
        missing = [name for _, name in DOWNLOADS if not present(folder / name)]
        warnings.extend(f"issue {day}: {name} missing, no download link" for name in missing)
        charts = tuple(issue_charts(folder))  # each checked as the downloads are
        warnings.extend(
            f"issue {day}: {name} missing: the feed and the Markdown show no image for that chart"
            " (rebuild the issue)"
            for name in dict.fromkeys(f"{CHARTS_DIR}/{key}.png" for key in _CHART_REF.findall(fragment))
            if name not in charts
        )
        description = " ".join(meta.summary.split())
        if not description:
            warnings.append(f"issue {day}: meta.json has no summary; its page description is the headline")
            description = " ".join(f"{meta.title}: {meta.headline}".split())
        weeks[meta.week_start] = day
        issues.append(
            _Issue(folder, meta, fragment, downloads, charts, _top_chart(folder, fragment), description)
        )
    if not issues:
        raise PublishError(f"{out / 'briefs'}: no issue built with HTML to publish ({'; '.join(warnings)})")
    return issues, warnings


def _top_chart(folder: Path, fragment: str) -> str | None:
    """The PNG of the first chart in the fragment that has one in the issue folder."""
    for match in _CHART_REF.finditer(fragment):
        name = f"{CHARTS_DIR}/{match.group(1)}.png"
        if (folder / name).is_file():
            return name
    return None


# What XML 1.0 cannot hold (the feed carries each issue's fragment): a build never writes these.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _read_text(folder: Path, name: str) -> str:
    try:
        text = read_issue_file(folder, name).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PublishError(f"{folder / name}: cannot read ({exc})") from exc
    if found := _NOT_XML.search(text):
        raise PublishError(
            f"{folder / name}: holds U+{ord(found.group()):04X}, which the site's feed cannot carry;"
            " rebuild the issue"
        )
    return text


# ---------------------------------------------------------------------------
# Writing (into the staging folder)
# ---------------------------------------------------------------------------


class _Writer:
    def __init__(self, root: Path, *, title: str, base: str, stylesheets: list[str]) -> None:
        self.root = root
        self.title = title
        self.base = base
        self.stylesheets = stylesheets
        self.env = make_env()
        self.pages: list[str] = []

    def write_all(self, issues: list[_Issue], stylesheets: list[tuple[str, Path]]) -> list[str]:
        assets = self.root / "assets"
        assets.mkdir()
        for name, path in stylesheets:
            shutil.copyfile(path, assets / name)
        for index, issue in enumerate(issues):
            newer = issues[index - 1] if index > 0 else None
            older = issues[index + 1] if index + 1 < len(issues) else None
            self.write_issue(issue, newer=newer, older=older)
        self.write_home(issues)
        self.write_404(issues)
        write_feed(self.root / "feed.xml", issues, title=self.title, base=self.base)
        write_robots(self.root / "robots.txt", base=self.base)
        if self.base:  # a sitemap's locations must be absolute URLs
            write_sitemap(self.root / "sitemap.xml", issues, base=self.base)
        (self.root / MARKER).write_text("Built by smallcap-brief; replaced whole by `smallcap-brief site`.\n")
        return self.pages

    def render(self, template: str, target: str, root: str, meta: _PageMeta, **context: object) -> None:
        page = self.env.get_template(template).render(
            site_title=self.title, root=root, stylesheets=self.stylesheets, meta=meta, **context
        )
        path = self.root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        self.pages.append(target)

    def write_issue(self, issue: _Issue, *, newer: _Issue | None, older: _Issue | None) -> None:
        folder = self.root / "briefs" / issue.slug
        folder.mkdir(parents=True)
        # Copied from what was read (never through a link): the issue's own files only
        for name in [name for _, name in issue.downloads] + list(issue.charts):
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read_issue_file(issue.folder, name))
        self.render(
            "site/issue.html",
            f"briefs/{issue.slug}/index.html",
            root="../../",
            meta=self.page_meta(issue.description, f"briefs/{issue.slug}/", issue, kind="article"),
            page_title=f"{issue.meta.title}: week ending {fmt_long_date(issue.meta.as_of)}",
            issue=issue,
            fragment=Markup(_wrap_tables(issue.fragment)),  # noqa: S704 - our own rendered, escaped markup
            newer=newer,
            older=older,
        )

    def write_home(self, issues: list[_Issue]) -> None:
        latest = issues[0]
        fragment = _wrap_tables(rebase_links(latest.fragment, f"briefs/{latest.slug}/"))
        self.render(
            "site/index.html",
            "index.html",
            root="",
            meta=self.page_meta(SITE_DESCRIPTION, "", latest),
            page_title=self.title,
            latest=latest,
            fragment=Markup(fragment),  # noqa: S704 - our own rendered, escaped markup
            archive=issues,
        )

    def write_404(self, issues: list[_Issue]) -> None:
        # GitHub Pages serves 404.html at whatever depth was asked for, so relative links
        # would break there: use the absolute base URL when there is one.
        self.render(
            "site/404.html",
            "404.html",
            root=self.base,
            meta=_PageMeta(SITE_DESCRIPTION, index=False),
            page_title="Page not found",
            recent=issues[:5],
        )

    def page_meta(self, description: str, path: str, issue: _Issue, *, kind: str = "website") -> _PageMeta:
        """Canonical URL and share image for the page at ``path`` (relative to the site root)."""
        if not self.base:
            return _PageMeta(description, kind=kind)
        chart = issue.top_chart
        image = f"{self.base}briefs/{issue.slug}/{quote(chart)}" if chart else None
        published = issue.slug if kind == "article" else None
        return _PageMeta(description, f"{self.base}{path}", image, kind, published)


def rebase_links(fragment: str, prefix: str) -> str:
    """Prefix every relative ``src``/``href`` in ``fragment`` (anchors, absolute and data: URLs untouched)."""

    def fix(match: re.Match[str]) -> str:
        url = match.group(2)
        if not url or url.startswith(("#", "/")) or _SCHEME.match(url):
            return match.group(0)
        return f"{match.group(1)}{prefix}{url}{match.group(3)}"

    return _URL_ATTR.sub(fix, fragment)


def _wrap_tables(fragment: str) -> str:
    """Wide tables scroll sideways on a phone instead of widening the page."""
    return fragment.replace("<table", '<div class="table-scroll"><table').replace(
        "</table>", "</table></div>"
    )


# The feed carries the latest issues in full (about 125 KB each): every issue of a two-year archive
# made a 13 MB feed that each reader's poll downloaded whole.  The archive page lists every issue.
FEED_ENTRIES = 20


def write_feed(path: Path, issues: list[_Issue], *, title: str, base: str) -> None:
    """An Atom feed with the latest :data:`FEED_ENTRIES` issues (``issues`` are newest first) in
    full; ids stay the same from build to build."""
    issues = issues[:FEED_ENTRIES]
    feed = FeedGenerator()
    feed.id(base or "tag:smallcap-brief,2024:feed")
    feed.title(title)
    feed.author({"name": title})
    feed.language("en")
    feed.link(href=f"{base}feed.xml", rel="self", type="application/atom+xml")
    feed.link(href=base or "./", rel="alternate", type="text/html")
    feed.updated(max(_aware(i.meta.built_at) for i in issues))
    for issue in issues:
        page = f"{base}briefs/{issue.slug}/"
        entry = feed.add_entry(order="append")
        entry.id(page if base else f"tag:smallcap-brief,{issue.slug}:brief")
        entry.title(f"{issue.meta.title}: week ending {fmt_long_date(issue.meta.as_of)}")
        entry.link(href=page, rel="alternate", type="text/html")
        # Dated by the close it reports on (issues built together by a backfill keep their order),
        # updated when it was built.
        entry.published(issue.closed_at)
        entry.updated(max(_aware(issue.meta.built_at), issue.closed_at))
        # The entry leads with the same takeaways as the email and the issue page.
        takeaways = " ".join(f"• {t}" for t in issue.meta.takeaways)
        beyond = issue.summary_beyond_headline
        entry.summary(
            f"{issue.meta.summary} {takeaways}".strip()
            if takeaways
            else f"{issue.meta.headline}. {beyond}".strip()
            if beyond
            else issue.meta.headline
        )
        entry.content(feed_content(issue.fragment, page, issue.charts), type="html")
    feed.atom_file(str(path), pretty=True)


_INLINE_CHART = re.compile(r'(<figure class="chart" id="chart-([\w-]+)">)\s*<svg\b.*?</svg>', re.S)
_SVG_LABEL = re.compile(r'<svg\b[^>]*\baria-label="([^"]*)"', re.S)


def feed_content(fragment: str, page: str, charts: tuple[str, ...] | None = None) -> str:
    """The issue's fragment for a feed reader: links absolute (``#`` ones too, so they reach the page,
    not the feed), and each inline SVG chart an ``<img>`` of its PNG, which readers that strip SVG
    keep (and a fifth of the size).  ``charts``: the issue's PNGs (``charts/<key>.png``); a chart
    without one is its alt text, not a broken image."""

    def to_image(match: re.Match[str]) -> str:
        label = _SVG_LABEL.search(match.group(0))
        alt = label.group(1) if label else ""
        if charts is not None and f"{CHARTS_DIR}/{match.group(2)}.png" not in charts:
            return f"{match.group(1)}<p>{alt}</p>"
        return f'{match.group(1)}<img src="{page}charts/{match.group(2)}.png" alt="{alt}">'

    content = rebase_links(fragment, page)  # first: what follows adds URLs that are already the page's
    content = _INLINE_CHART.sub(to_image, content)
    return re.sub(r'(\s(?:href|src)=")#', rf"\1{page}#", content)


def write_robots(path: Path, *, base: str) -> None:
    """Every page may be crawled; the Sitemap line needs an absolute URL, so only with a base URL."""
    sitemap = f"Sitemap: {base}sitemap.xml" if base else "# No Sitemap line: site.base_url is not set."
    path.write_text(f"User-agent: *\nAllow: /\n\n{sitemap}\n", encoding="utf-8")


def write_sitemap(path: Path, issues: list[_Issue], *, base: str) -> None:
    """The home page (last changed with the newest issue) and every issue page, dated by issue."""
    urlset = ElementTree.Element("urlset", xmlns=SITEMAP_NS)
    pages = [(base, issues[0].slug)] + [(f"{base}briefs/{i.slug}/", i.slug) for i in issues]
    for loc, lastmod in pages:
        url = ElementTree.SubElement(urlset, "url")
        ElementTree.SubElement(url, "loc").text = loc
        ElementTree.SubElement(url, "lastmod").text = lastmod
    ElementTree.indent(urlset)
    body = ElementTree.tostring(urlset, encoding="unicode")
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n', encoding="utf-8")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
