"""The static site: structure, links, Atom, publishing safety, atomic replace, and a real browser."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import struct
import threading
import urllib.request
import urllib.robotparser
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urlsplit
from xml.etree import ElementTree

import feedparser
import lxml.html
import pytest
from markupsafe import escape
from publish_fixtures import PROVIDER, make_brief, write_issue

from generator.errors import PublishError
from generator.formatting import plain
from generator.issue import read_meta
from generator.models import Brief
from generator.publish import site as site_module
from generator.publish.site import MARKER, SITE_DESCRIPTION, build_site
from tests.conftest import beyond_phone, phone_browser

DATES = (date(2026, 11, 6), date(2026, 11, 13), date(2026, 11, 20))
TITLE = "Small-Cap Weekly"
BASE = "https://example.org/smallcap-brief/"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class _Refs(HTMLParser):
    """Every URL a page refers to, and every id it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.ids: set[str] = set()
        self.scripts = 0
        self.archive: list[str] = []
        self._in_archive_date = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "script":
            self.scripts += 1
        for attr in ("href", "src"):
            if attr in values:
                self.refs.append((tag, attr, values[attr]))
        if tag == "a" and values.get("class") == "archive-date":
            self.archive.append(values["href"])


def parse(path: Path) -> _Refs:
    refs = _Refs()
    refs.feed(path.read_text(encoding="utf-8"))
    return refs


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("issues")
    for day in DATES:
        write_issue(root, day)
    return root


@pytest.fixture(scope="module")
def site(out: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("built") / "site"
    build_site(out, target, title=TITLE)
    return target


def test_structure_and_result(out: Path, tmp_path: Path) -> None:
    result = build_site(out, tmp_path / "site", title=TITLE, base_url="https://example.org/smallcap-brief")
    root = tmp_path / "site"
    assert result.path == root
    assert result.issues == tuple(sorted(DATES, reverse=True))
    assert set(result.pages) == {"index.html", "404.html"} | {f"briefs/{d}/index.html" for d in DATES}
    for name in ("index.html", "404.html", "feed.xml", "assets/site.css", MARKER):
        assert (root / name).is_file(), name
    for day in DATES:
        folder = root / "briefs" / day.isoformat()
        source = out / "briefs" / day.isoformat()
        assert (folder / "brief.pdf").read_bytes() == (source / "brief.pdf").read_bytes()
        assert (folder / "brief.md").read_text() == (source / "brief.md").read_text()
        assert (folder / "charts" / "rut-vs-spx.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert not (folder / "snapshot").exists() and not (folder / "email.html").exists()
    issue_page = (root / "briefs" / "2026-11-13" / "index.html").read_text()
    assert '<link rel="canonical" href="https://example.org/smallcap-brief/briefs/2026-11-13/">' in issue_page
    assert 'href="brief.pdf"' in issue_page and 'href="brief.md"' in issue_page
    assert (
        'rel="prev" href="../2026-11-06/"' in issue_page and 'rel="next" href="../2026-11-20/"' in issue_page
    )


def test_home_has_latest_in_full_and_archive_newest_first(site: Path, out: Path) -> None:
    home = (site / "index.html").read_text()
    refs = parse(site / "index.html")
    assert refs.archive == [f"briefs/{d.isoformat()}/" for d in sorted(DATES, reverse=True)]
    latest = make_brief(DATES[-1])
    assert 'id="brief-2026-11-20"' in home and plain(latest.lead) in home  # the latest issue, in full
    assert 'id="appendix"' in home and 'id="sources-and-methods"' in home
    assert 'id="brief-2026-11-13"' not in home and 'id="brief-2026-11-06"' not in home  # only in the archive
    for day in DATES:
        assert (
            f"Small caps rose in the week to {day.isoformat()} as yields eased." in home
        )  # one-line summary
    assert "The Russell 2000 rose 1.43% in the week" in home  # the top takeaway in the archive
    # the fragment's relative chart path is rebased onto the issue folder
    assert 'src="briefs/2026-11-20/charts/rut-vs-spx.png"' in home


def test_every_relative_link_resolves_and_nothing_is_external(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 5
    for page in pages:
        refs = parse(page)
        assert refs.scripts == 0, f"{page}: no scripts on the site"
        assert 'name="viewport"' in page.read_text()
        for tag, attr, url in refs.refs:
            if url.startswith("data:"):
                continue
            assert not urlsplit(url).scheme and not url.startswith("//"), (
                f"{page}: {tag} {attr}={url} not relative"
            )
            target, anchor = urldefrag(url)
            if not target:
                assert anchor in refs.ids, f"{page}: anchor #{anchor} has no target"
                continue
            resolved = (page.parent / target).resolve()
            if target.endswith("/"):
                resolved = resolved / "index.html"
            assert resolved.is_file(), f"{page.relative_to(site)}: {url} does not resolve"
            assert site.resolve() in resolved.parents, f"{page}: {url} leaves the site"
    css = (site / "assets" / "site.css").read_text()
    assert "@import" not in css and "http" not in css and "url(" not in css


def test_atom_feed_parses_with_full_content(site: Path, out: Path, tmp_path: Path) -> None:
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == TITLE
    entries = parsed.entries
    assert [e.link for e in entries] == [f"briefs/{d.isoformat()}/" for d in sorted(DATES, reverse=True)]
    assert [e.id for e in entries] == [
        f"tag:smallcap-brief,{d.isoformat()}:brief" for d in sorted(DATES, reverse=True)
    ]
    newest = entries[0]
    assert newest.updated_parsed[:5] == (2026, 11, 20, 22, 15)
    assert_full_issue(newest.content[0].value, make_brief(DATES[-1]))
    assert "briefs/2026-11-20/charts/rut-vs-spx.png" in newest.content[0].value
    assert [e.summary for e in entries] == [  # the summary leads with the issue's takeaways
        " ".join([make_brief(d).summary, *(f"• {plain(t.prose)}" for t in make_brief(d).takeaways)])
        for d in sorted(DATES, reverse=True)
    ]
    # ids are stable from build to build; with a base URL they are the permanent pages
    build_site(out, tmp_path / "again", title=TITLE, base_url="https://example.org/scb/")
    again = feedparser.parse((tmp_path / "again" / "feed.xml").read_bytes())
    assert again.entries[0].id == "https://example.org/scb/briefs/2026-11-20/"
    assert (
        "https://example.org/scb/briefs/2026-11-20/charts/rut-vs-spx.png" in again.entries[0].content[0].value
    )
    assert again.feed.updated_parsed == parsed.feed.updated_parsed


def test_feed_entries_are_dated_by_their_close_and_carry_images_and_absolute_links(site: Path) -> None:
    """Issues built together (a backfill) keep their order by the close they report on; charts are
    images of the issue's PNGs (readers that strip SVG keep them) and footnote links reach the page."""
    entries = feedparser.parse((site / "feed.xml").read_bytes()).entries
    closes = [e.published_parsed[:5] for e in entries]
    assert closes == [(d.year, d.month, d.day, 21, 0) for d in sorted(DATES, reverse=True)]  # 4 pm EST
    assert "<svg" not in entries[0].content[0].value
    # A chart as the issue page inlines it (the template's figure around matplotlib's SVG)
    from brief_factory import make_brief as make_full_brief

    from generator.charts import render_chart

    chart = render_chart(make_full_brief().charts[0])
    inline = (
        f'<p>Before</p>\n<figure class="chart" id="chart-{chart.key}">\n{chart.svg}\n</figure>\n<p>After</p>'
    )
    fed = site_module.feed_content(inline, "https://x.org/b/")
    assert "<svg" not in fed and fed.startswith("<p>Before</p>") and fed.endswith("</figure>\n<p>After</p>")
    assert f'<img src="https://x.org/b/charts/{chart.key}.png" alt="{escape(chart.alt)}">' in fed


def test_without_a_base_url_the_feeds_links_are_the_pages_relative_ones_once(site: Path) -> None:
    """Relative to the site's root, as the entry's link is, and the issue's folder said once."""
    content = feedparser.parse((site / "feed.xml").read_bytes()).entries[0].content[0].value
    assert "briefs/2026-11-20/charts/rut-vs-spx.png" in content and "briefs/2026-11-20/briefs/" not in content
    fed = site_module.feed_content('<a href="#src-1">1</a><img src="charts/a.png">', "briefs/2026-11-20/")
    assert fed == '<a href="briefs/2026-11-20/#src-1">1</a><img src="briefs/2026-11-20/charts/a.png">'


def test_a_summary_that_only_repeats_the_headline_is_said_once(out: Path) -> None:
    """A quiet week's lead is its headline sentence: the archive and the feed say it once."""
    issue = site_module._Issue(out, read_meta(out / "briefs" / "2026-11-20"), "", ())
    quiet = dataclasses.replace(
        issue, meta=dataclasses.replace(issue.meta, summary=f" {issue.meta.headline}. ")
    )
    assert quiet.summary_beyond_headline == "" and issue.summary_beyond_headline == issue.meta.summary
    assert site_module.feed_content('<a href="#src-1">1</a>', "https://x.org/b/") == (
        '<a href="https://x.org/b/#src-1">1</a>'
    )


def assert_full_issue(content: str, brief: Brief) -> None:
    """The issue in full, in reading order: the lead, the takeaways, the body passages and the
    appendix with its full figures and Sources and methods."""
    [article] = lxml.html.fragment_fromstring(content, create_parent="div").findall("article")
    assert article.get("id") == f"brief-{brief.as_of.isoformat()}"
    [lead] = article.find_class("lead")
    assert lead.text_content() == plain(brief.lead)
    [takeaways] = article.find_class("takeaway-list")
    assert [li.text_content() for li in takeaways.iter("li")] == [plain(t.prose) for t in brief.takeaways]
    keys = [p.key for p in brief.body]
    ids = [el.get("id") for el in article.iter() if el.get("id") in {"takeaways", "appendix", *keys}]
    assert ids == ["takeaways", *keys, "appendix"]
    [appendix] = article.find_class("appendix")
    [sources] = [s for s in appendix.iter("section") if s.findtext("h2") == "Sources and methods"]
    assert PROVIDER in sources.text_content()
    [table] = appendix.iter("table")
    assert [th.text_content() for th in table.iter("th")][:2] == ["Instrument", "1W"]


@pytest.mark.parametrize(("flag", "words"), [("is_sample", "sample data"), ("stale", "stale")])
def test_refuses_sample_or_stale_issue_before_writing(tmp_path: Path, flag: str, words: str) -> None:
    out = tmp_path / "out"
    write_issue(out, date(2026, 11, 13))
    write_issue(out, date(2026, 11, 20), **{flag: True})  # type: ignore[arg-type]
    target = tmp_path / "public" / "site"
    with pytest.raises(PublishError, match=rf"2026-11-20.*{words}"):
        build_site(out, target, title=TITLE)
    assert not (tmp_path / "public").exists()  # refused before anything was created
    allowed = {"allow_sample": True} if flag == "is_sample" else {"allow_stale": True}
    result = build_site(out, target, title=TITLE, **allowed)  # type: ignore[arg-type]
    assert result.issues == (date(2026, 11, 20), date(2026, 11, 13))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_failed_build_leaves_previous_site_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    write_issue(out, date(2026, 11, 13))
    target = tmp_path / "public" / "site"
    build_site(out, target, title=TITLE)
    before = _snapshot(target)
    newer = write_issue(out, date(2026, 11, 20))  # written first into the staging folder

    def disk_full(*args: object, **kwargs: object) -> None:  # after every issue page was written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site_module, "write_feed", disk_full)
    with pytest.raises(PublishError, match="previous site left in place"):
        build_site(out, target, title=TITLE)
    assert _snapshot(target) == before
    assert sorted(p.name for p in (tmp_path / "public").iterdir()) == ["site"]  # no staging or old folders
    monkeypatch.undo()
    result = build_site(out, target, title=TITLE)
    assert result.issues[0] == date(2026, 11, 20)
    assert (target / "briefs" / "2026-11-20" / "index.html").is_file() and newer.is_dir()
    assert sorted(p.name for p in (tmp_path / "public").iterdir()) == ["site"]


def test_refuses_to_replace_a_folder_it_did_not_build(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_issue(out, date(2026, 11, 20))
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(PublishError, match="not a site built by smallcap-brief"):
        build_site(out, foreign, title=TITLE)
    assert (foreign / "precious.txt").read_text() == "keep me"
    with pytest.raises(PublishError, match="would contain the issues"):
        build_site(out, out, title=TITLE)


def test_no_issues_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="no built issues"):
        build_site(tmp_path, tmp_path / "site", title=TITLE)


def test_brief_stylesheet_is_copied_when_present(
    out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brief_css = tmp_path / "brief.css"
    brief_css.write_text("article.brief { color: #111; }\n")
    site_css = site_module.TEMPLATES_DIR / "site" / "site.css"
    monkeypatch.setattr(site_module, "STYLESHEETS", (("brief.css", brief_css), ("site.css", site_css)))
    result = build_site(out, tmp_path / "site", title=TITLE)
    assert (tmp_path / "site" / "assets" / "brief.css").read_text() == brief_css.read_text()
    page = (tmp_path / "site" / "briefs" / "2026-11-20" / "index.html").read_text()
    assert page.index("../../assets/brief.css") < page.index("../../assets/site.css")
    assert not any("brief.css" in w for w in result.warnings)
    monkeypatch.setattr(
        site_module, "STYLESHEETS", (("brief.css", tmp_path / "nope.css"), ("site.css", site_css))
    )
    result = build_site(out, tmp_path / "site", title=TITLE)
    assert any("brief.css not found" in w for w in result.warnings)
    assert not (tmp_path / "site" / "assets" / "brief.css").exists()


# ---------------------------------------------------------------------------
# What search engines and link previews read: head tags, robots.txt, sitemap.xml
# ---------------------------------------------------------------------------


class _Head(HTMLParser):
    """A page's <meta name|property> contents, its canonical links and its <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.canonical: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("name" in values or "property" in values):
            key = values.get("name") or values["property"]
            self.meta.setdefault(key, []).append(values.get("content", ""))
        if tag == "link" and values.get("rel") == "canonical":
            self.canonical.append(values["href"])
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def one(self, key: str) -> str:
        values = self.meta.get(key, [])
        assert len(values) == 1, f"{key}: {values}"
        return values[0]


def head(path: Path) -> _Head:
    parsed = _Head()
    parsed.feed(path.read_text(encoding="utf-8"))
    return parsed


@pytest.fixture(scope="module")
def based_site(out: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("based") / "site"
    result = build_site(out, target, title=TITLE, base_url=BASE.rstrip("/"))
    assert not any("base_url" in w for w in result.warnings)
    return target


def _site_file(site: Path, url: str) -> Path:
    assert url.startswith(BASE), url
    return site / url.removeprefix(BASE)


def test_issue_page_head_for_search_and_share(based_site: Path) -> None:
    page = head(based_site / "briefs" / "2026-11-13" / "index.html")
    summary = "Small caps rose in the week to 2026-11-13 as yields eased."
    assert page.one("description") == page.one("og:description") == page.one("twitter:description") == summary
    assert page.one("og:title") == page.one("twitter:title") == page.title
    assert page.title == "Small-Cap Weekly: week ending November 13, 2026"
    assert page.canonical == [f"{BASE}briefs/2026-11-13/"] == page.meta["og:url"]
    assert page.one("og:type") == "article" and page.one("article:published_time") == "2026-11-13"
    assert page.one("og:site_name") == TITLE
    image = page.one("og:image")
    assert image == page.one("twitter:image") == f"{BASE}briefs/2026-11-13/charts/rut-vs-spx.png"
    assert _site_file(based_site, image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # published with the page
    assert page.one("og:image:type") == "image/png" and page.one("twitter:card") == "summary_large_image"
    assert "robots" not in page.meta


def test_home_page_head_describes_the_site_and_shows_the_latest_chart(based_site: Path) -> None:
    page = head(based_site / "index.html")
    assert page.one("description") == page.one("og:description") == SITE_DESCRIPTION
    assert page.canonical == [BASE] and page.one("og:type") == "website"
    assert page.one("og:title") == page.title == TITLE
    assert page.one("og:image") == f"{BASE}briefs/2026-11-20/charts/rut-vs-spx.png"
    not_found = head(based_site / "404.html")
    assert not_found.one("robots") == "noindex" and not_found.canonical == []


def test_robots_and_sitemap_with_a_base_url(based_site: Path) -> None:
    robots = urllib.robotparser.RobotFileParser()
    robots.parse((based_site / "robots.txt").read_text().splitlines())
    assert robots.site_maps() == [f"{BASE}sitemap.xml"]
    for path in ("", "briefs/2026-11-20/", "briefs/2026-11-20/brief.pdf", "feed.xml"):
        assert robots.can_fetch("Googlebot", BASE + path), path
    data = (based_site / "sitemap.xml").read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    urls = ElementTree.fromstring(data).findall(f"{SITEMAP}url")
    listed = [(u.findtext(f"{SITEMAP}loc"), u.findtext(f"{SITEMAP}lastmod")) for u in urls]
    newest_first = [d.isoformat() for d in sorted(DATES, reverse=True)]
    assert listed == [(BASE, newest_first[0])] + [(f"{BASE}briefs/{d}/", d) for d in newest_first]
    for loc, _ in listed:
        assert (_site_file(based_site, loc or "") / "index.html").is_file(), loc


def test_without_base_url_relative_files_and_a_warning(
    out: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="generator.publish.site"):
        result = build_site(out, tmp_path / "site", title=TITLE)
    warned = [
        r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "base_url" in r.getMessage()
    ]
    assert len(warned) == 1 and "absolute URLs cannot be produced" in warned[0]
    assert any("absolute URLs cannot be produced" in w for w in result.warnings)
    page = head(tmp_path / "site" / "briefs" / "2026-11-20" / "index.html")
    assert page.one("description") == "Small caps rose in the week to 2026-11-20 as yields eased."
    assert page.canonical == [] and "og:image" not in page.meta and "og:url" not in page.meta
    assert page.one("twitter:card") == "summary"
    robots = (tmp_path / "site" / "robots.txt").read_text()
    assert "User-agent: *" in robots and "Sitemap:" not in robots.replace("# No Sitemap", "")
    assert not (tmp_path / "site" / "sitemap.xml").exists()  # its locations must be absolute URLs


def test_head_tags_escape_hostile_summaries_and_titles(tmp_path: Path) -> None:
    day = date(2026, 11, 20)
    hostile = 'Yields "eased" <script>alert(1)</script> & spreads\nnarrowed'
    write_issue(tmp_path / "out", day, brief=dataclasses.replace(make_brief(day), summary=hostile))
    title = 'Desk "A" <b>&</b>'
    build_site(tmp_path / "out", tmp_path / "site", title=title, base_url=BASE)
    for name in ("index.html", "briefs/2026-11-20/index.html"):
        text = (tmp_path / "site" / name).read_text()
        head_html = text[: text.index("</head>")]
        assert "<script" not in head_html and "<b>" not in head_html
        page = head(tmp_path / "site" / name)
        assert page.one("og:site_name") == title
    issue = head(tmp_path / "site" / "briefs" / "2026-11-20" / "index.html")
    assert issue.one("description") == 'Yields "eased" <script>alert(1)</script> & spreads narrowed'


def test_top_chart_is_the_first_chart_shown_that_has_a_png(tmp_path: Path) -> None:
    day = date(2026, 11, 20)
    folder = write_issue(tmp_path / "out", day, brief=make_brief(day, chart_keys=("rut-vs-spx", "sectors")))
    fragment = folder / "fragment.html"
    shown = (
        '<figure class="chart" id="chart-rates"></figure><figure class="chart" id="chart-sectors"></figure>'
    )
    fragment.write_text(shown + fragment.read_text())  # "rates" comes first but has no PNG
    build_site(tmp_path / "out", tmp_path / "site", title=TITLE, base_url=BASE)
    page = head(tmp_path / "site" / "briefs" / "2026-11-20" / "index.html")
    assert page.one("og:image") == f"{BASE}briefs/2026-11-20/charts/sectors.png"
    (folder / "charts" / "sectors.png").unlink()
    (folder / "charts" / "rut-vs-spx.png").unlink()
    build_site(tmp_path / "out", tmp_path / "site", title=TITLE, base_url=BASE)
    page = head(tmp_path / "site" / "briefs" / "2026-11-20" / "index.html")
    assert "og:image" not in page.meta and page.one("twitter:card") == "summary"


@pytest.mark.parametrize(
    "base", ["https://example.org/x\nDisallow: /", 'https://example.org/"><script>', "https://exa mple.org/"]
)
def test_base_url_that_would_break_out_of_a_file_is_refused(out: Path, tmp_path: Path, base: str) -> None:
    with pytest.raises(PublishError, match=r"site\.base_url"):
        build_site(out, tmp_path / "site", title=TITLE, base_url=base)
    assert not (tmp_path / "site").exists()


# ---------------------------------------------------------------------------
# A real browser
# ---------------------------------------------------------------------------

PREFIX = "/smallcap-brief/"


class _LoggingHandler(SimpleHTTPRequestHandler):
    requests: list[tuple[str, int]]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.requests.append((self.path, int(code)))

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(site: Path, tmp_path: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """The site served on loopback under a project-style sub-path."""
    www = tmp_path / "www"
    www.mkdir()
    (www / PREFIX.strip("/")).symlink_to(site, target_is_directory=True)
    log: list[tuple[str, int]] = []
    handler = type("Handler", (_LoggingHandler,), {"requests": log})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def _page_urls(driver) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll('a[href]')].map(a => a.href)"
            ".concat([...document.querySelectorAll('link[href]')].map(l => l.href))"
            ".concat([...document.querySelectorAll('img[src]')].map(i => i.src));"
        )
    )


def _check_page(driver, origin: str) -> None:  # type: ignore[no-untyped-def]
    images = driver.execute_script(
        "return [...document.images].map(i => [i.src, i.complete && i.naturalWidth > 0]);"
    )
    assert images and all(ok for _, ok in images), images
    overflow = beyond_phone(driver)
    assert overflow == 0, f"{driver.current_url}: page is {overflow}px wider than a phone screen"
    for url in _page_urls(driver):
        if url.startswith("data:"):
            continue
        assert url.startswith(origin + PREFIX), f"{driver.current_url}: {url} leaves the site"
        with urllib.request.urlopen(urldefrag(url)[0], timeout=5) as response:
            assert response.status == 200, url


def test_site_in_headless_chromium(served: tuple[str, list[tuple[str, int]]], tmp_path: Path) -> None:
    origin, server_log = served
    driver = phone_browser(tmp_path / "profile")
    try:
        driver.get(origin + PREFIX)
        assert driver.execute_script("return window.innerWidth;") == 375
        assert driver.title == TITLE
        _check_page(driver, origin)
        driver.save_screenshot(str(tmp_path / "home.png"))
        driver.find_element("css selector", "a.archive-date").click()
        assert driver.current_url == f"{origin}{PREFIX}briefs/2026-11-20/"
        assert driver.find_element("css selector", "article.brief").get_attribute("id") == "brief-2026-11-20"
        _check_page(driver, origin)
        driver.save_screenshot(str(tmp_path / "issue.png"))
        driver.find_element("css selector", "a[rel=prev]").click()
        assert driver.current_url == f"{origin}{PREFIX}briefs/2026-11-13/"
        driver.find_element("css selector", "a.site-title").click()
        assert driver.current_url == f"{origin}{PREFIX}"
        console = driver.get_log("browser")
        requested = [
            json.loads(entry["message"])["message"]["params"]["request"]["url"]
            for entry in driver.get_log("performance")
            if '"Network.requestWillBeSent"' in entry["message"]
        ]
    finally:
        driver.quit()
    assert not [e for e in console if e["level"] == "SEVERE"], console
    network = [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss", "ftp")]
    assert network and all(urlsplit(u).hostname == "127.0.0.1" for u in network), network
    assert [r for r in server_log if r[1] >= 400] == []
    assert any(path.endswith("/charts/rut-vs-spx.png") for path, _ in server_log)
    for shot in ("home.png", "issue.png"):
        data = (tmp_path / shot).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 300 and height >= 500


def test_an_issue_built_without_html_is_left_out_with_a_warning_and_the_others_are_published(
    tmp_path: Path,
) -> None:
    """`build --formats pdf` writes no fragment.html: that issue is not damaged, it has no page to
    publish.  The site is built from the others and says which was left out (the whole site failed
    with "fragment.html: cannot read")."""
    out = tmp_path / "out"
    write_issue(out, date(2026, 11, 13))
    pdf_only = write_issue(out, date(2026, 11, 20))
    for name in ("fragment.html", "brief.html"):
        (pdf_only / name).unlink()
    result = build_site(out, tmp_path / "site", title=TITLE)
    assert result.issues == (date(2026, 11, 13),)
    assert (
        "issue 2026-11-20: built without HTML (fragment.html missing), left out of the site;"
        " rebuild it with --formats html"
    ) in result.warnings
    (out / "briefs" / "2026-11-13" / "fragment.html").unlink()
    with pytest.raises(PublishError, match="no issue built with HTML to publish"):
        build_site(out, tmp_path / "site2", title=TITLE)


def test_a_chart_missing_from_an_issue_is_named_and_its_feed_entry_shows_the_alt_text(tmp_path: Path) -> None:
    """A deleted charts/<key>.png was published without a word: the feed and the Markdown pointed to
    a file that is not there.  The site names it, and the feed shows the chart's description."""
    out = tmp_path / "out"
    folder = write_issue(out, date(2026, 11, 20))
    gone = sorted((folder / "charts").glob("*.png"))[0]
    gone.unlink()
    result = build_site(out, tmp_path / "site", title=TITLE, base_url="https://example.org/b/")
    assert (
        f"issue 2026-11-20: charts/{gone.name} missing: the feed and the Markdown show no image for that"
        " chart (rebuild the issue)"
    ) in result.warnings
    page = "https://example.org/b/briefs/2026-11-20/"
    svg = f'<figure class="chart" id="chart-{gone.stem}"><svg aria-label="A chart."></svg></figure>'
    assert (
        site_module.feed_content(svg, page, ())
        == f'<figure class="chart" id="chart-{gone.stem}"><p>A chart.</p></figure>'
    )
    kept = site_module.feed_content(svg, page, (f"charts/{gone.name}",))
    assert f'<img src="{page}charts/{gone.name}" alt="A chart.">' in kept


@pytest.mark.parametrize(
    "base", ["https://example.org/b?x=1", "https://example.org/b#top", "https://example.org/b?"]
)
def test_a_base_url_with_a_query_or_fragment_is_refused(base: str) -> None:
    """Pages are added after the base URL: "…/b?x=1" gave "…/b?x=1/briefs/2026-11-20/" in every link."""
    with pytest.raises(PublishError, match="has a query or fragment"):
        site_module.normalize_base_url(base)


@pytest.mark.parametrize(
    ("base", "problem"),
    [
        ("http://[::1", "is not a valid URL"),  # urlsplit's ValueError, not a traceback
        ("https://x.example:99999/", "is not a valid URL"),
        ("https://x.example/a'b<c>/", "has spaces, control characters, quotes, <> or backslashes"),
        ("https://user:pw@x.example/", "must not carry a user name or password"),
        ("/local/folder", "must be an absolute http(s) URL"),
    ],
)
def test_a_base_url_that_is_not_a_plain_site_address_is_refused(base: str, problem: str) -> None:
    with pytest.raises(PublishError, match=re.escape(problem)):
        site_module.normalize_base_url(base)


def test_a_site_folder_that_is_a_link_is_written_where_it_points(tmp_path: Path) -> None:
    """A web server's root linked as the site folder was replaced by a real folder (the link's
    target kept the old site, the server never saw the new one) and a '.site.old-' link stayed.
    The site is written where the link points; leftovers of a killed `site` run go after a day."""
    import time

    out = tmp_path / "out"
    write_issue(out, date(2026, 11, 20))
    served = tmp_path / "www"
    served.mkdir()
    link = tmp_path / "site"
    link.symlink_to(served)
    leftover = tmp_path / ".www.new-0123456789ab"  # a killed run's staging folder, two days old
    leftover.mkdir()
    os.utime(leftover, (time.time() - 2 * 86400,) * 2)
    fresh = tmp_path / ".www.new-ba9876543210"  # another run's, in progress: kept
    fresh.mkdir()
    result = build_site(out, link, title="W", base_url="https://example.org/")
    assert link.is_symlink() and link.resolve() == served.resolve()
    assert (served / "index.html").is_file() and (served / MARKER).is_file()
    assert result.path == served.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".www.new-ba9876543210", "out", "site", "www"]
    build_site(out, link, title="W", base_url="https://example.org/")  # again: replaced in place
    assert link.is_symlink() and (served / "index.html").is_file()


def test_an_international_site_address_is_published_as_its_ascii_uri(tmp_path: Path) -> None:
    """ "https://exämple.com/brïef/" went raw into the sitemap's <loc>, robots.txt, the canonical link
    and (as an RFC 2047 encoded word) the email's Archived-At: each takes a URI, not an IRI."""
    from generator.issue import issue_url

    out = tmp_path / "out"
    write_issue(out, date(2026, 11, 20))
    build_site(out, tmp_path / "site", title="W", base_url="https://exämple.com/brïef")
    base = "https://xn--exmple-cua.com/br%C3%AFef/"
    assert f"Sitemap: {base}sitemap.xml" in (tmp_path / "site" / "robots.txt").read_text()
    locs = re.findall(r"<loc>([^<]+)</loc>", (tmp_path / "site" / "sitemap.xml").read_text())
    assert locs and all(loc.startswith(base) and loc.isascii() for loc in locs)
    page = (tmp_path / "site" / "briefs" / "2026-11-20" / "index.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{base}briefs/2026-11-20/">' in page
    assert issue_url("https://exämple.com/brïef", date(2026, 11, 20)) == f"{base}briefs/2026-11-20/"
    # the host as browsers map it (IDNA 2008, UTS 46), not Python's IDNA 2003 ("strasse.de": another domain)
    assert issue_url("https://straße.de", date(2026, 11, 20)) == "https://xn--strae-oqa.de/briefs/2026-11-20/"
    with pytest.raises(PublishError, match="not a valid domain name"):
        build_site(out, tmp_path / "other", title="W", base_url="https://" + "ä" * 64 + ".com/")


def test_the_feed_carries_the_latest_issues_and_the_archive_every_one(
    out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every issue in full made a 104-week archive's feed 13 MB, downloaded whole at each poll."""
    monkeypatch.setattr(site_module, "FEED_ENTRIES", 2)
    build_site(out, tmp_path / "site", title="W", base_url="https://example.org/")
    entries = feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes()).entries
    assert [e.link for e in entries] == [
        f"https://example.org/briefs/{d}/" for d in ("2026-11-20", "2026-11-13")
    ]
    archive = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert all(f"briefs/{d.isoformat()}/" in archive for d in DATES)


def test_an_archive_with_two_issues_of_a_week_publishes_the_later(tmp_path: Path) -> None:
    """Builds now keep one issue a week; an archive from before may hold two (through Thursday, then
    Friday): the site, its feed and sitemap carry the later, and say which was left out."""
    out = tmp_path / "out"
    write_issue(out, date(2026, 11, 13))
    write_issue(out, date(2026, 11, 19))  # the same week as 2026-11-20 (make_brief's week: Mon-Fri)
    write_issue(out, date(2026, 11, 20))
    assert (
        read_meta(out / "briefs" / "2026-11-19").week_start
        == read_meta(out / "briefs" / "2026-11-20").week_start
    )
    result = build_site(out, tmp_path / "site", title="W", base_url="https://example.org/")
    assert result.issues == (date(2026, 11, 20), date(2026, 11, 13))
    assert "issue 2026-11-19: left out, 2026-11-20 is the issue of the same week" in " ".join(result.warnings)
    assert "2026-11-19" not in (tmp_path / "site" / "feed.xml").read_text(encoding="utf-8")
