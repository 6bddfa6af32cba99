"""Security: hostile feeds, snapshots, configs, issue folders and redirects against the real pipeline.

The central fixture builds one issue (HTML, Markdown, PDF, email) from the bundled sample with
every feed body replaced by an attack, while a loopback "trap" server records any request.  The
outputs are then parsed (HTML tokenizer, a CommonMark renderer that accepts every link, pypdf)
and checked for active content, foreign URLs, local file contents and network traffic.

Tests marked ``xfail(strict=True)`` document a gap that is still open; each reason names it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from xml.sax.saxutils import escape

import pypdf
import pytest
from markdown_it import MarkdownIt

import generator.render_email as email_body
from generator.build import BuildResult, build_from_snapshot
from generator.config import load_config
from generator.errors import ConfigError, DeliveryError, RenderError, SourceError
from generator.formats import FILES
from generator.models import Brief, FeedCapture, Headline, NetworkSettings, Snapshot, SourceHealth
from generator.publish.email import SmtpSettings, render_email, send_command, send_issue
from generator.publish.ledger import Ledger
from generator.publish.site import build_site
from generator.render import make_url_fetcher, render_html, render_pdf_document
from generator.sources.http import fetch
from generator.sources.snapshot import load_sample, read_snapshot, write_snapshot
from tests.conftest import ROOT, beyond_phone, manifest_entries, phone_browser
from tests.feedserver import FeedServer

# One xdist worker runs the module: the hostile issue (a whole build with a PDF) is built once.
pytestmark = pytest.mark.xdist_group("security")

CANARY = "CANARY-SECRET"  # only ever inside local files no output may read
DAY = "Thu, 19 Nov 2026 15:00:00 +0000"  # inside the sample's reporting week
MARKERS = ("mk-a1", "mk-a2", "mk-a3", "mk-a4", "mk-a5", "mk-b1", "mk-xxe", "mk-lol")
JINJA = "{{ 7*7 }}"
BIDI_AND_C1 = re.compile("[\u202a-\u202e\u2066-\u2069\u0080-\u009f]")  # C1: U+009B is a CSI
C0 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PASSWD = "root:x:0:0"


# ---------------------------------------------------------------------------
# Auditing outputs
# ---------------------------------------------------------------------------

URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "data", "poster", "background", "srcset"}
ACTIVE_TAGS = {"script", "iframe", "frame", "object", "embed", "applet", "base", "form", "button", "input"}
ACTIVE_TAGS |= {"textarea", "animate", "set", "foreignobject", "portal"}
MD_TAGS = {"h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "a", "em", "strong", "code", "blockquote", "hr"}
MD_TAGS |= {"table", "thead", "tbody", "tr", "th", "td", "img", "sup", "br"}
SITE_LINK_RELS = {"icon", "canonical", "alternate", "stylesheet"}
META_OK = {"content-security-policy", "x-ua-compatible"}


class _Audit(HTMLParser):
    """Every tag and attribute of a document, judged; ``problems`` lists what is active or foreign."""

    def __init__(self, urls: tuple[str, ...], images: tuple[str, ...] | None, tags: set[str] | None) -> None:
        super().__init__(convert_charrefs=True)
        self.urls, self.images, self.tags = urls, images, tags
        self.problems: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        values = {name: value or "" for name, value in attrs}
        if tag in ACTIVE_TAGS or (self.tags is not None and tag not in self.tags):
            self.problems.append(f"<{tag}> {values}")
        if tag == "link" and not set(values.get("rel", "").split()) <= SITE_LINK_RELS:
            self.problems.append(f"<link> {values}")
        if tag == "meta" and values.get("http-equiv", "").lower() not in META_OK | {""}:
            self.problems.append(f"<meta> {values}")
        for name, value in values.items():
            self._attribute(tag, name, value)

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and (re.search(r"url\(\s*['\"]?(?!#)", data) or "@import" in data):
            self.problems.append(f"<style> loads something: {data[:120]!r}")

    def _attribute(self, tag: str, name: str, value: str) -> None:
        compact = re.sub(r"[\s\x00-\x1f]", "", value).lower()
        if name.startswith("on"):
            self.problems.append(f"<{tag} {name}={value[:80]!r}>")
        if re.search(r"(javascript|vbscript|livescript):", compact):
            self.problems.append(f"<{tag} {name}={value[:80]!r}> script URL")
        if name in URL_ATTRS:
            allowed = self.images if tag == "img" and self.images is not None else self.urls
            if not compact.startswith(allowed):
                self.problems.append(f"<{tag} {name}={value[:80]!r}> foreign URL")
        if name == "style" and (re.search(r"url\(\s*['\"]?(?!#)", compact) or "expression(" in compact):
            self.problems.append(f"<{tag} style={value[:80]!r}> loads something")


def audit_html(
    doc: str,
    urls: tuple[str, ...] = ("#", "http://", "https://"),
    *,
    images: tuple[str, ...] | None = None,
    tags: set[str] | None = None,
) -> list[str]:
    audit = _Audit(urls, images, tags)
    audit.feed(doc)
    audit.close()
    return audit.problems


def markdown_html(text: str) -> str:
    """CommonMark + tables with raw HTML on and *every* link accepted: the least careful renderer."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md.render(text)


@dataclass(frozen=True)
class PdfFacts:
    text: str
    attachments: list[str]
    uris: list[str]
    actions: list[str]  # action types other than /URI and /GoTo, and document-level actions


def pdf_facts(data: bytes) -> PdfFacts:
    reader = pypdf.PdfReader(io.BytesIO(data))
    root: Any = reader.trailer["/Root"]
    names = root.get("/Names")
    actions = [key for key in ("/OpenAction", "/AA") if key in root]
    if names is not None:
        actions += [key for key in ("/JavaScript", "/EmbeddedFiles") if key in names.get_object()]
    uris: list[str] = []
    for page in reader.pages:
        for ref in page.get("/Annots") or []:
            annot: Any = ref.get_object()
            if annot.get("/Subtype") != "/Link":
                actions.append(str(annot.get("/Subtype")))
            action = annot.get("/A")
            if action is None:
                continue
            action = cast(Any, action).get_object()
            kind = action.get("/S")
            if kind == "/URI":
                uris.append(str(action["/URI"]))
            elif kind != "/GoTo":
                actions.append(str(kind))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return PdfFacts(text, list(reader.attachments), uris, actions)


# ---------------------------------------------------------------------------
# Hostile feeds
# ---------------------------------------------------------------------------


def rss(items: str, doctype: str = "") -> bytes:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' + doctype
    channel = "<title>t</title><link>https://example.com/</link><description>d</description>"
    return f"{head}<rss version='2.0'><channel>{channel}{items}</channel></rss>".encode()


def item(title: str, link: str, summary: str, guid: str, *, escaped: bool = False) -> str:
    """One RSS item; the texts are XML-escaped unless ``escaped`` (then they are XML already)."""
    esc = (lambda s: s) if escaped else escape
    return (
        f"<item><title>{esc(title)}</title><link>{esc(link)}</link><guid>urn:x:{guid}</guid>"
        f"<pubDate>{DAY}</pubDate><description>{esc(summary)}</description></item>"
    )


@dataclass(frozen=True)
class Files:
    root: Path
    text: Path  # a text file with the canary
    feed: Path  # a valid RSS feed whose only item is the canary (it would rank first)
    csv: Path  # a valid price CSV, unique closes


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    root = tmp_path_factory.mktemp("outside")
    text = root / "secret.txt"
    text.write_text(f"{CANARY}-TEXT\n", encoding="utf-8")
    feed = root / "secret-feed.xml"
    title = f"{CANARY}-FEED small caps Russell 2000 IWM IJR microcap"
    feed.write_bytes(rss(item(title, "https://example.com/canary", title, "canary")))
    csv = root / "secret.csv"
    csv.write_text("Date,Close\n" + "".join(f"2026-11-{d:02d},4242.{d}\n" for d in range(2, 21)))
    return Files(root, text, feed, csv)


@pytest.fixture(scope="module")
def trap() -> Iterator[FeedServer]:
    """Answers anything; a feed route that would show itself if it were ever fetched."""
    with FeedServer() as server:
        server.serve("/remote-feed.xml", rss(item("TRAP-FETCHED small caps", "https://e.com/t", "x", "t")))
        yield server


def hostile_bodies(trap_url: str, files: Files) -> list[bytes]:
    t = trap_url
    a1 = item(
        "mk-a1 Small caps <script>alert('A1')</script> rally Russell 2000",
        "javascript:alert('A1')",
        f'Russell 2000 <img src="{t}/a1.png" onerror="alert(\'A1\')"> <iframe src="{t}/a1-frame">'
        f'</iframe> <svg onload="alert(\'A1\')"><image href="{t}/a1-svg.png"/></svg> surge',
        "a1",
    )
    a2 = item(
        escape("mk-a2 Small caps <svg onload=alert('A2')> <a href=\"javascript:alert(2)\">click</a> IWM"),
        " \tJaVaScRiPt:alert('A2')",
        f'<a rel="attachment" href="file://{files.text}">attach</a> <link rel="attachment" '
        f'href="file:///etc/passwd"> <img src="file://{files.text}"> <p style="background:url({t}/a2.png)">'
        f'styled</p> <style>@import url({t}/a2.css);</style> <object data="file://{files.text}"></object>'
        f' <embed src="{t}/a2-embed"> <base href="{t}/"> <meta http-equiv="refresh" content="0;url={t}/r">'
        '<form action="javascript:alert(2)"><button>go</button></form> small caps',
        "a2",
    )
    a3 = item(
        f'mk-a3 Small-cap [click](javascript:alert(1)) ![x]({t}/a3-track.png) <img src="{t}/a3.png"> banks',
        "&#106;avascript:alert('A3')",
        "===",  # a setext underline: would turn the line above it into a heading
        "a3",
    )
    a4 = item(
        f"# mk-a4 heading | a | b | > quote {JINJA} {{% raw %}}x{{% endraw %}} ${{7*7}} small caps",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "<!-- --><script>alert('A4')</script>--> <a href=\"vbscript:msgbox(1)\">vb</a> IWM",
        "a4",
    )
    a5 = item(
        "mk-a5 Small caps " + "A" * 100_000 + " tail",
        "https://evil.example\\@good.example/a5",
        '<a href="file:///etc/passwd">local</a> IWM small caps',
        "a5",
    )
    b1 = (
        "<rss version='2.0'><channel><title>b</title><item><title>mk-b1 Small caps NUL\x00 ctl\x01\x07"
        "\x1b[31m esc \u202egnp.exe\u202c \u2066iso\u2069 c1\u009b IWM</title>"
        f"<link>\x01javascript:alert('B1')</link><guid>urn:x:b1</guid><pubDate>{DAY}</pubDate>"
        "<description>ok</description></item></channel></rss>"
    ).encode()
    xxe = (
        f'<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file://{files.text}">'
        f'<!ENTITY net SYSTEM "{t}/xxe.dtd"><!ENTITY % pe SYSTEM "{t}/pe.dtd"> %pe;]>'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="file:///"><title>x</title>'
        "<entry><title>mk-xxe Small caps [&xxe;] [&net;] IWM</title><link rel='alternate' href='etc/passwd'/>"
        "<id>urn:x:xxe</id><updated>2026-11-19T15:00:00Z</updated><summary>x</summary></entry></feed>"
    ).encode()
    lol = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(2, 10))
    laughs = rss(
        item("mk-lol Small caps &lol9; IWM", "https://example.com/lol", "x", "lol", escaped=True),
        f'<!DOCTYPE rss [<!ENTITY lol1 "lol">{lol}]>\n',
    )
    paths = ["/etc/passwd", str(files.feed), f"file://{files.feed}", f"{t}/remote-feed.xml"]
    return [rss(a1 + a2 + a3 + a4 + a5), b1, xxe, laughs, *(p.encode() for p in paths)]


HEALTH_ERROR = "HTTP 500 | inj | cell <script>alert('h')</script>\n# heading\n==="


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, trap: FeedServer, files: Files) -> BuildResult:
    config = load_config(ROOT / "feeds.yaml")
    sample = load_sample()
    feeds = dict(sample.feeds)
    bodies = hostile_bodies(trap.url(""), files)
    assert len(bodies) == len(config.feeds)
    for feed, body in zip(config.feeds, bodies, strict=True):
        feeds[feed.name] = replace(feeds[feed.name], body=body)
    failed = config.feeds[4].name  # its body is "/etc/passwd"; its health row carries a hostile error
    health = tuple(
        SourceHealth("feed", h.name, "failed", "live", 0, None, HEALTH_ERROR) if h.name == failed else h
        for h in sample.health
    )
    snapshot = replace(sample, feeds=feeds, health=health)
    out = tmp_path_factory.mktemp("hostile-out")
    return build_from_snapshot(config, snapshot, as_of=sample.as_of, out=out, formats=["html", "md", "pdf"])


@pytest.fixture(scope="module")
def hostile_pdf(hostile: BuildResult) -> PdfFacts:
    return pdf_facts((hostile.folder / FILES["pdf"]).read_bytes())


def outputs(result: BuildResult) -> dict[str, str]:
    names = ("html", "fragment", "md", "email_html", "email_txt")
    return {name: (result.folder / FILES[name]).read_text(encoding="utf-8") for name in names}


def shown(brief: Brief) -> tuple[Headline, ...]:
    """Every headline the brief shows: those placed beside a body passage, then the headline list."""
    return tuple(h for passage in brief.body for h in passage.headlines) + brief.headlines


def displayed(brief: Brief) -> list[str]:
    return [h.title for h in shown(brief)]


# ---------------------------------------------------------------------------
# The checks are not vacuous
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        "<p><script>alert(1)</script></p>",
        '<img src="x" onerror="alert(1)">',
        '<a href=" JaVa&#83;cript:alert(1)">x</a>',
        '<img src="http://127.0.0.1:9/t.png">',
        '<p style="background:url(http://127.0.0.1:9/x)">x</p>',
        "<style>@import url(x.css)</style>",
        '<link rel="attachment" href="file:///etc/passwd">',
        '<meta http-equiv="refresh" content="0;url=http://e.com/">',
        '<svg><image href="file:///etc/passwd"/></svg>',
    ],
)
def test_the_html_audit_catches_active_content(doc: str) -> None:
    assert audit_html(doc, images=("charts/",)) != []


@pytest.mark.parametrize(
    "text",
    ["[x](javascript:alert(1))", "![x](http://127.0.0.1:9/t.png)", "<img src=x>", "<b onclick=x>b</b>"],
)
def test_the_markdown_audit_catches_injection(text: str) -> None:
    assert audit_html(markdown_html(text), images=("charts/",), tags=MD_TAGS) != []


def test_feedparser_given_bytes_reads_a_local_path(files: Files) -> None:
    """Why feed bodies are wrapped in BytesIO: the raw bytes of a path make feedparser open the file."""
    import feedparser

    assert CANARY in feedparser.parse(str(files.feed).encode()).entries[0].title


# ---------------------------------------------------------------------------
# The hostile build
# ---------------------------------------------------------------------------


def test_every_attack_reached_the_rendered_brief(hostile: BuildResult) -> None:
    """Each hostile title is shown exactly once, and reaches every output that shows it.

    The HTML page, the fragment and the Markdown show every headline; the email shows the body
    passages without their headlines, plus the first of the headline list.
    """
    titles = displayed(hostile.brief)
    assert {m: sum(m in t for t in titles) for m in MARKERS} == dict.fromkeys(MARKERS, 1)
    docs = outputs(hostile)
    for name in ("html", "fragment", "md"):
        assert [m for m in MARKERS if m not in docs[name]] == [], name
    listed = [h.title for h in hostile.brief.headlines[: email_body.MAX_HEADLINES]]
    in_email = [m for m in MARKERS if any(m in t for t in listed)]
    assert "mk-a1" in in_email and "mk-a4" in in_email  # the script tag and the template syntax
    for name in ("email_html", "email_txt"):
        assert [m for m in in_email if m not in docs[name]] == [], name


def test_no_network_request_during_build_and_pdf(
    hostile: BuildResult, hostile_pdf: PdfFacts, trap: FeedServer
) -> None:
    assert trap.requests == []
    every = "".join(outputs(hostile).values()) + hostile_pdf.text
    assert "TRAP-FETCHED" not in every


def test_no_local_file_content_in_any_output(hostile: BuildResult, hostile_pdf: PdfFacts) -> None:
    """Every file of the issue (snapshot included) and the PDF's text: no canary, no /etc/passwd line."""
    for path in hostile.folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert CANARY.encode() not in data and PASSWD.encode() not in data, path
    assert CANARY not in hostile_pdf.text and PASSWD not in hostile_pdf.text


LONG_RUN = "A" * 40  # part of mk-a5's title: a 100,000-letter word, cut to the title's length
LETTER_WIDTH_PT = 612  # the PDF's page (letter), and its right margin (templates/brief.css)
RIGHT_MARGIN_PT = 16 / 25.4 * 72


def test_a_word_longer_than_the_page_breaks_inside_the_pdf_text_area(
    hostile: BuildResult, tmp_path: Path
) -> None:
    """Every word poppler finds on every page of the PDF ends inside the text area, the long one too.

    The PDF prints the five most relevant headlines: mk-a5's is made the most relevant, so its long
    word is printed."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    brief = hostile.brief
    [long] = [h for h in brief.headlines if LONG_RUN in h.title]
    top = replace(long, score=max(h.score for h in shown(brief)) + 1)
    brief = replace(brief, headlines=tuple(top if h is long else h for h in brief.headlines))
    pdf, out = tmp_path / "brief.pdf", tmp_path / "words.html"
    pdf.write_bytes(render_pdf_document(render_html(brief, {}, for_pdf=True)).data)
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(out)], check=True, timeout=60)
    doc = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", out.read_text(encoding="utf-8")))
    pages = doc.findall(".//{*}page")
    assert pages and {float(p.get("width", 0)) for p in pages} == {LETTER_WIDTH_PT}
    words = [
        (float(w.get("xMin", 0)), float(w.get("xMax", 0)), w.text or "")
        for p in pages
        for w in p.findall(".//{*}word")
    ]
    assert any(LONG_RUN in text for _, _, text in words)  # the long word is printed, in pieces
    right = LETTER_WIDTH_PT - RIGHT_MARGIN_PT + 0.5
    assert [(t[:20], round(x1)) for x0, x1, t in words if x0 < 0 or x1 > right] == []


def test_a_word_longer_than_a_phone_is_wide_breaks_on_its_screen(
    hostile: BuildResult, tmp_path: Path
) -> None:
    """The web page and the email on a phone: nothing wider than its screen, the long word shown."""
    pages = {name: hostile.folder / FILES[name] for name in ("html", "email_html")}
    assert all(LONG_RUN in page.read_text(encoding="utf-8") for page in pages.values())
    driver = phone_browser(tmp_path / "profile")
    seen = {}
    try:
        for name, page in pages.items():
            driver.get(page.as_uri())
            seen[name] = (beyond_phone(driver), driver.execute_script("return document.body.innerText;"))
    finally:
        driver.quit()
    assert {name: wider for name, (wider, _) in seen.items()} == {"html": 0, "email_html": 0}
    assert all(LONG_RUN in text.replace("\n", "") for _, text in seen.values())


def test_the_plain_text_email_keeps_its_lines_short_with_a_long_word_in_a_title(hostile: BuildResult) -> None:
    """Every line of email.txt fits 78 characters but a link alone on its line (a link broken in two
    is no link); the long word is there, broken."""
    lines = outputs(hostile)["email_txt"].splitlines()
    assert any(LONG_RUN in line for line in lines)
    assert [
        line for line in lines if len(line) > 78 and not line.lstrip().startswith(("http://", "https://"))
    ] == []


def test_no_feed_link_other_than_http_survives(hostile: BuildResult) -> None:
    headlines = shown(hostile.brief) + tuple(
        h for section in hostile.brief.sections for topic in section.topics for h in topic.headlines
    )
    assert len(headlines) >= len(MARKERS)
    assert [h.link for h in headlines if h.link and not h.link.startswith(("http://", "https://"))] == []


@pytest.mark.parametrize("name", ["html", "fragment"])
def test_html_outputs_carry_no_active_content(hostile: BuildResult, name: str) -> None:
    doc = outputs(hostile)[name]
    assert audit_html(doc) == []
    assert JINJA in doc and "{% raw %}" in doc  # feed text is data, never a template


def test_email_html_carries_no_active_content(hostile: BuildResult) -> None:
    doc = outputs(hostile)["email_html"]
    assert audit_html(doc, ("#", "http://", "https://", "cid:chart-")) == []
    assert JINJA in doc


def test_markdown_renders_inert_even_with_every_link_accepted(hostile: BuildResult) -> None:
    md = outputs(hostile)["md"]
    rendered = markdown_html(md)
    assert audit_html(rendered, images=("charts/",), tags=MD_TAGS) == []
    assert JINJA in rendered and "![x](" in rendered  # the title's Markdown shows as text
    headings = re.findall(r"<h[1-6]>(.*?)</h[1-6]>", rendered, flags=re.S)
    assert [h for h in headings if "mk-a4" in h or "heading" in h] == []  # a leading "#" stays text


def test_markdown_tables_keep_their_shape(hostile: BuildResult) -> None:
    """A "|" in a feed's error text must not add cells to the source-health table."""
    import lxml.html

    tree = lxml.html.fromstring(markdown_html(outputs(hostile)["md"]))
    health = next(t for t in tree.iter("table") if "Origin" in t.text_content())
    assert {len(row.findall("td")) for row in health.iter("tr") if row.findall("td")} == {7}


def test_markdown_summary_cannot_turn_a_headline_into_a_heading(hostile: BuildResult) -> None:
    rendered = markdown_html(outputs(hostile)["md"])
    headings = re.findall(r"<h[1-6]>(.*?)</h[1-6]>", rendered, flags=re.S)
    assert [h for h in headings if "mk-a3" in h] == []


def test_text_outputs_carry_no_control_characters(hostile: BuildResult) -> None:
    for name, text in outputs(hostile).items():
        assert not C0.search(text), name


def test_bidi_overrides_are_stripped(hostile: BuildResult) -> None:
    [title] = [t for t in displayed(hostile.brief) if "mk-b1" in t]
    assert "gnp.exe" in title and not BIDI_AND_C1.search(title) and not C0.search(title)
    docs = outputs(hostile)
    assert [name for name in ("html", "fragment", "md") if "gnp.exe" not in docs[name]] == []
    found = {name: BIDI_AND_C1.findall(text) for name, text in outputs(hostile).items()}
    assert {name: chars for name, chars in found.items() if chars} == {}


def test_a_huge_title_is_truncated(hostile: BuildResult) -> None:
    assert max(len(t) for t in displayed(hostile.brief)) <= 200
    for text in outputs(hostile).values():
        assert "A" * 300 not in text


def test_every_output_applies_the_same_link_rule(hostile: BuildResult) -> None:
    docs = outputs(hostile)
    assert "good.example" not in docs["html"] and "good.example" not in docs["md"]
    assert "good.example" not in docs["email_html"] + docs["email_txt"]


def test_pdf_has_no_attachment_no_action_and_only_web_links(hostile_pdf: PdfFacts) -> None:
    facts = hostile_pdf
    assert facts.attachments == [] and facts.actions == []
    assert [u for u in facts.uris if not u.startswith(("http://", "https://"))] == []
    assert "mk-a1" in facts.text


# ---------------------------------------------------------------------------
# Feed parsing, one attack at a time
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link_xml",  # as written in the feed's XML
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "java&#9;script:alert(1)",
        "&#106;avascript:alert(1)",  # an XML character reference: the parser sees "javascript:"
        "&amp;#106;avascript:alert(1)",  # an HTML entity left for feedparser to decode
        "&amp;#x6A;avascript&amp;#x3A;alert(1)",
        "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/x",
        "/etc/passwd",
        "http:evil.example",
        # A secret a feed leaked is not republished: the brief carried these as given.
        "https://user:pass@example.org/story",
        "https://token@example.org/story",
    ],
)
def test_feed_links_that_are_not_absolute_http_are_dropped(
    link_xml: str, caplog: pytest.LogCaptureFixture
) -> None:
    from generator.analysis.headlines import parse_feed

    config = load_config(ROOT / "feeds.yaml")
    body = rss(item("Small caps", link_xml, "x", "g", escaped=True))
    with caplog.at_level("WARNING"):
        [headline] = parse_feed(FeedCapture("f", "", body), config.feeds[0])
    assert headline.link is None
    assert f"feed {config.feeds[0].name}: 1 of 1 items link to no absolute http(s) URL" in caplog.text


@pytest.mark.parametrize(
    ("text", "limit", "cut"),
    [
        ("e\u0301" * 30, 11, "e\u0301" * 5),  # an accent after its letter: never cut between them
        (
            "ab\U0001f469\u200d\U0001f469\u200d\U0001f467xyz",
            5,
            "ab",
        ),  # a family emoji, joined: whole or not at all
        ("ok \U0001f44d\U0001f3fd" + "x" * 20, 5, "ok"),  # a skin tone stays with its hand
        (
            "a" * 8 + "\U0001f1fa\U0001f1f8\U0001f1ec\U0001f1e7xyz",
            12,
            "a" * 8 + "\U0001f1fa\U0001f1f8",
        ),  # no half flag
    ],
)
def test_a_cut_title_never_splits_a_character_as_it_is_read(text: str, limit: int, cut: str) -> None:
    """A headline cut in the middle of a character (a letter and its accent, an emoji's joined parts)
    printed a lone accent as a missing glyph in the PDF."""
    from generator.text import plain_text

    assert plain_text(text, limit) == cut + "…"


def test_feed_parsing_expands_no_external_entity(files: Files, trap: FeedServer) -> None:
    from generator.analysis.headlines import parse_feed

    config = load_config(ROOT / "feeds.yaml")
    doctype = (
        f'<!DOCTYPE rss [<!ENTITY x SYSTEM "file://{files.text}"><!ENTITY y SYSTEM "{trap.url("/y")}">]>'
    )
    body = rss(item("Small caps &x; &y;", "https://e.com/", "&x;", "g", escaped=True), doctype)
    headlines = parse_feed(FeedCapture("f", "", body), config.feeds[0])
    assert CANARY not in repr(headlines) and trap.requests == []


# ---------------------------------------------------------------------------
# weasyprint
# ---------------------------------------------------------------------------


def test_render_pdf_fetches_nothing_from_hostile_html(trap: FeedServer, files: Files) -> None:
    t = trap.url("")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="9" '
        f'height="9"><image href="{t}/svg.png" width="9" height="9"/>'
        f'<image xlink:href="file://{files.text}" width="9" height="9"/></svg>'
    )
    svg_uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    html = f"""<html><head><link rel="stylesheet" href="{t}/x.css">
<link rel="attachment" href="file://{files.text}">
<style>@import url({t}/i.css); @font-face {{ font-family: X; src: url({t}/f.woff) }}
body {{ font-family: X; background: url(file://{files.text}) }}</style></head><body><p>hello</p>
<img src="{t}/img.png"><img src="file:///etc/passwd"><img src="{files.text.name}"><img src="{svg_uri}">
<a rel="attachment" href="file://{files.text}">a</a><a rel="attachment" href="{t}/att.txt">b</a>
<object data="file://{files.text}"></object><embed src="{t}/embed"><iframe src="{t}/frame"></iframe>
<div style="background-image:url({t}/bg.png)">x</div></body></html>"""
    pdf = render_pdf_document(html, base_dir=files.root).data  # relative URLs resolve next to the canary
    facts = pdf_facts(pdf)
    assert trap.requests == []
    assert facts.attachments == [] and facts.actions == [] and CANARY not in facts.text
    pages: list[Any] = list(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    images = [page["/Resources"].get("/XObject") for page in pages]  # no image was loaded at all
    assert all(not x for x in images)


@pytest.fixture
def assets(tmp_path: Path, files: Files) -> Path:
    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / "ok.css").write_text("p { color: black }")
    (folder / "escape.txt").symlink_to(files.text)
    (folder / "up").symlink_to(files.root, target_is_directory=True)
    return folder


@pytest.mark.parametrize(
    "url",
    [
        "file://{assets}/{rel}",
        "file://{assets}/{rel_quoted}",
        "file://{assets}/escape.txt",
        "file://{assets}/up/secret.txt",
        "file://{outside}/secret.txt",
        "file://localhost{outside}/secret.txt",
        "file://127.0.0.1{assets}/ok.css",
        "file:///etc/passwd",
        "{trap}/x.css",
        "https://example.com/x.css",
        "ftp://example.com/x.css",
    ],
)
def test_url_fetcher_refuses_everything_outside_the_assets_folder(
    url: str, assets: Path, files: Files, trap: FeedServer
) -> None:
    rel = os.path.relpath(files.text, assets)  # ../../outside0/secret.txt: a real file
    names = {"assets": assets, "outside": files.root, "trap": trap.url(""), "rel": rel}
    target = url.format(**names, rel_quoted=rel.replace("..", "%2e%2e"))
    assert "{" not in target
    with pytest.raises(RenderError, match="refused to fetch"):
        make_url_fetcher(assets)(target)
    assert trap.requests == []


@pytest.mark.parametrize("suffix", ["", "?/../../secret.txt", "#/../../secret.txt"])
def test_url_fetcher_serves_only_the_asset_itself(suffix: str, assets: Path) -> None:
    response = make_url_fetcher(assets)(f"file://{assets}/ok.css{suffix}")
    body = response.read() if hasattr(response, "read") else response["string"]
    assert body == b"p { color: black }"


# ---------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------


CSS_SERVER = """
import http.server

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"p { color: red }"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print(self.path, flush=True)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def css_server() -> Iterator[tuple[str, Callable[[float], str]]]:
    """A loopback stylesheet server in its own process (the inliner holds the GIL while it fetches).

    Yields its base URL and ``seen(timeout)``: the next requested path, or "" when none came in time.
    """
    proc = subprocess.Popen([sys.executable, "-c", CSS_SERVER], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout

    def seen(timeout: float) -> str:
        ready, _, _ = select.select([out], [], [], timeout)
        return out.readline().strip() if ready else ""

    try:
        port = int(seen(10) or 0)
        assert port, "the stylesheet server did not start"
        yield f"http://127.0.0.1:{port}", seen
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_css_inliner_loads_no_remote_stylesheet(
    hostile: BuildResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stylesheet linked from the page being inlined is not fetched; an inliner at its defaults would.

    The link is added to the page as the inliner receives it, so the check holds however the email's
    template is found.
    """
    import css_inline

    real = css_inline.CSSInliner

    def spiked(remote: str, *, careless: bool) -> Callable[..., SimpleNamespace]:
        def make(**options: Any) -> SimpleNamespace:
            inliner = real() if careless else real(**options)
            return SimpleNamespace(inline=lambda page: inliner.inline(page.replace("</head>", remote, 1)))

        return make

    with css_server() as (url, seen):
        remote = (
            f'<link rel="stylesheet" href="{url}/remote.css"><style>@import url({url}/i.css);</style></head>'
        )
        monkeypatch.setattr(css_inline, "CSSInliner", spiked(remote, careless=False))
        html, _ = render_email(hostile.brief, view_url=None)
        assert seen(0.5) == "" and "/remote.css" not in html
        # control: the same page through an inliner at its defaults fetches the stylesheet
        monkeypatch.setattr(css_inline, "CSSInliner", spiked(remote, careless=True))
        render_email(hostile.brief, view_url=None)
        assert seen(10) == "/remote.css"


def _tampered_issue(hostile: BuildResult, tmp_path: Path, **meta: object) -> Path:
    folder = tmp_path / "out" / "briefs" / hostile.folder.name
    shutil.copytree(hostile.folder, folder)
    data = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    data.update(meta)
    (folder / "meta.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


INJECTED = "Russell 2000 +1.00%\r\nBcc: evil@example.com"


def test_crlf_in_the_headline_is_a_delivery_error(hostile: BuildResult, tmp_path: Path) -> None:
    folder = _tampered_issue(hostile, tmp_path, headline=INJECTED)
    config = load_config(ROOT / "feeds.yaml")
    with pytest.raises(DeliveryError):
        send_issue(
            folder, config.email, SmtpSettings(""), ["ann@example.com"], ledger=Ledger(tmp_path / "l"),
            dry_run=True, dry_run_dir=tmp_path / "outbox", allow_sample=True,
        )  # fmt: skip


def test_crlf_in_the_headline_never_becomes_a_header(hostile: BuildResult, tmp_path: Path) -> None:
    folder = _tampered_issue(hostile, tmp_path, headline=INJECTED, summary="x\r\nBcc: evil@example.com")
    config = load_config(ROOT / "feeds.yaml")
    with contextlib.suppress(DeliveryError, ValueError):  # either refusal is fine here
        send_issue(
            folder, config.email, SmtpSettings(""), ["ann@example.com"], ledger=Ledger(tmp_path / "l"),
            dry_run=True, dry_run_dir=tmp_path / "outbox", allow_sample=True,
        )  # fmt: skip
    for eml in (tmp_path / "outbox").glob("*.eml"):
        assert not re.search(rb"^Bcc:", eml.read_bytes(), flags=re.M | re.I)


@pytest.mark.parametrize(
    "recipient",
    [
        "ann@example.com\r\nBcc: evil@example.com",
        "ann@example.com\nevil@example.com",
        "ann@example.com, evil@example.com",
        "Ann <ann@example.com>, evil@example.com",
        "ann@example.com;evil@example.com",
        "ann@example.com>\r\nX: y",
        "",
    ],
)
def test_recipient_injection_is_refused(recipient: str, hostile: BuildResult, tmp_path: Path) -> None:
    folder = _tampered_issue(hostile, tmp_path)
    config = load_config(ROOT / "feeds.yaml")
    with pytest.raises(DeliveryError):
        send_issue(
            folder, config.email, SmtpSettings(""), [recipient], ledger=Ledger(tmp_path / "l"),
            dry_run=True, dry_run_dir=tmp_path / "outbox", allow_sample=True,
        )  # fmt: skip
    assert list((tmp_path / "outbox").glob("*.eml")) == []


def test_recipient_injection_through_the_environment_is_refused(hostile: BuildResult, tmp_path: Path) -> None:
    _tampered_issue(hostile, tmp_path)
    environ = {"SMALLCAP_BRIEF_TO": "ann@example.com\r\nBcc: evil@example.com"}
    with pytest.raises(DeliveryError, match="recipient"):
        send_command(
            load_config(ROOT / "feeds.yaml"), tmp_path / "out", issue_date=None, to=(), environ=environ,
            dry_run=True, allow_sample=True,
        )  # fmt: skip


def test_the_password_never_reaches_logs_errors_or_messages(
    hostile: BuildResult, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _tampered_issue(hostile, tmp_path)
    password = "pw-Z9q-unique-7731"
    environ = {
        "SMALLCAP_SMTP_HOST": "127.0.0.1", "SMALLCAP_SMTP_PORT": "9", "SMALLCAP_SMTP_SECURITY": "none",
        "SMALLCAP_SMTP_USER": "mailer", "SMALLCAP_SMTP_PASSWORD": password, "SMALLCAP_SMTP_TIMEOUT": "2",
    }  # fmt: skip
    config = load_config(ROOT / "feeds.yaml")
    kwargs = {"issue_date": None, "to": ["ann@example.com"], "environ": environ, "allow_sample": True}
    report = send_command(config, tmp_path / "out", dry_run=True, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as excinfo:
        send_command(config, tmp_path / "out", **kwargs)  # type: ignore[arg-type]
    assert password not in str(excinfo.value) and password not in repr(SmtpSettings.from_env(environ))
    assert password not in caplog.text
    leftovers = [
        p for p in (tmp_path / "out").rglob("*") if p.is_file() and password.encode() in p.read_bytes()
    ]
    assert report.written and leftovers == []


# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------


def _config_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "feeds.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "feeds.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


FIRST_FEED = "https://www.cnbc.com/id/15839069/device/rss/rss.html"


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("brief:\n", "evil: !!python/object/apply:os.system ['touch {marker}']\nbrief:\n", "unsafe YAML"),
        (
            "  title: Small-Cap Weekly\n",
            "  title: !!python/object/apply:os.system ['touch {marker}']\n",
            "unsafe",
        ),
        ("brief:\n", "evil: !!python/name:os.system\nbrief:\n", "unsafe YAML"),
        (FIRST_FEED, "file:///etc/passwd", "scheme must be http or https"),
        (FIRST_FEED, "javascript:alert(1)", "scheme must be http or https"),
        (FIRST_FEED, '"https://example.com/x\\r\\nHost: evil"', "control characters"),
        ('base_url: ""', 'base_url: "file:///etc/"', "must be an absolute http\\(s\\) URL"),
        ("  to: []", "  to: []\n  password: hunter2", "unknown key"),
    ],
)
def test_config_refuses_code_local_urls_and_secrets(tmp_path: Path, old: str, new: str, words: str) -> None:
    marker = tmp_path / "pwned"
    path = _config_with(tmp_path, old, new.replace("{marker}", str(marker)))
    with pytest.raises(ConfigError, match=words):
        load_config(path)
    assert not marker.exists()


def test_config_refuses_a_yaml_alias_bomb(tmp_path: Path) -> None:
    levels = ['&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"&{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdef", "bcdefg", strict=True)]
    text = (ROOT / "feeds.yaml").read_text(encoding="utf-8").replace("  to: []", "  to: *g", 1)
    path = tmp_path / "feeds.yaml"
    path.write_text(f"bomb: [{', '.join(levels)}]\n" + text, encoding="utf-8")
    with pytest.raises(ConfigError, match="bomb: unknown key"):
        load_config(path)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("name: Russell 2000,", 'name: "Russell 2000\\r\\nBcc: evil@example.com",'),
        ("subject_prefix: Small-Cap Weekly", 'subject_prefix: "Weekly\\r\\nBcc: evil@example.com"'),
        (
            'sender: "Small-Cap Weekly <brief@example.com>"',
            'sender: "W <b@example.com>\\r\\nBcc: e@example.com"',
        ),
        # a line separator (mail headers refuse it), U+FFFF (XML cannot hold it), a lone surrogate:
        # `check` passed them and `send` or `site` then crashed with a traceback
        ("subject_prefix: Small-Cap Weekly", 'subject_prefix: "Small-Cap\\u2028Weekly"'),
        ("subject_prefix: Small-Cap Weekly", 'subject_prefix: "Small-Cap\\ud800Weekly"'),
        ("title: Small-Cap Weekly", 'title: "Small-Cap Weekly \\uFFFF"'),
    ],
)
def test_config_refuses_control_characters_in_display_strings(tmp_path: Path, old: str, new: str) -> None:
    with pytest.raises(ConfigError, match="must not contain control characters"):
        load_config(_config_with(tmp_path, old, new))


def test_a_damaged_issue_is_named_not_a_traceback(tmp_path: Path) -> None:
    """A meta.json or fragment.html holding what the feed or mail headers cannot carry (edited by
    hand, damaged) made `site` and `send` crash inside lxml or the email package."""
    from generator.errors import PublishError
    from generator.issue import read_meta
    from generator.publish.site import build_site
    from tests.publish_fixtures import write_issue

    day = date(2026, 11, 20)
    folder = write_issue(tmp_path / "out", day)
    meta = folder / "meta.json"
    good = meta.read_text(encoding="utf-8")
    for key, value in (
        ("headline", "Small caps\u2028rally"),
        ("summary", "bad \u0001"),
        ("title", "W \ud800"),
    ):
        data = json.loads(good)
        data[key] = value
        meta.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(PublishError, match=rf"meta.json: unreadable meta.json \({key} holds U\+"):
            read_meta(folder)
    meta.write_text(good, encoding="utf-8")
    fragment = folder / "fragment.html"
    fragment.write_text(fragment.read_text(encoding="utf-8") + "\x0c", encoding="utf-8")
    with pytest.raises(
        PublishError, match=r"fragment.html: holds U\+000C, which the site's feed cannot carry"
    ):
        build_site(tmp_path / "out", tmp_path / "site", title="W", base_url="https://example.org/")


# ---------------------------------------------------------------------------
# Snapshots read from disk
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_sample() -> Snapshot:
    sample = load_sample()
    name = sorted(sample.feeds)[0]
    return replace(sample, series={"IWM": sample.series["IWM"]}, feeds={name: sample.feeds[name]}, health=())


@pytest.fixture
def snap(small_sample: Snapshot, tmp_path: Path) -> Path:
    return write_snapshot(small_sample, tmp_path / "snap")


def _manifest(snap: Path) -> dict:
    return json.loads((snap / "manifest.json").read_text(encoding="utf-8"))


def _save(snap: Path, doc: dict) -> None:
    (snap / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "file",
    [
        "../outside/secret.csv",
        "{abs}",
        "prices/../../outside/secret.csv",
        "prices\\..\\..\\outside\\secret.csv",
        "./prices/IWM.csv",
        "prices/link.csv",
        "linked/secret.csv",
    ],
)
def test_a_manifest_cannot_name_a_file_outside_the_snapshot(snap: Path, files: Files, file: str) -> None:
    """The manifest carries the outside file's true sha256: only the path check stands in the way."""
    (snap.parent / "outside").mkdir()
    shutil.copy(files.csv, snap.parent / "outside" / "secret.csv")
    (snap / "prices" / "link.csv").symlink_to(files.csv)
    (snap / "linked").symlink_to(files.root, target_is_directory=True)
    doc = _manifest(snap)
    entry = manifest_entries(doc, "series")["IWM"]
    entry.update(file=file.replace("{abs}", str(files.csv)), sha256=_sha(files.csv))
    _save(snap, doc)
    with pytest.raises(SourceError, match=r"unsafe|outside"):
        read_snapshot(snap)


def test_control_the_same_file_inside_the_snapshot_is_read(snap: Path, files: Files) -> None:
    """The manifests above are valid but for the path: the same bytes inside the folder load."""
    shutil.copy(files.csv, snap / "prices" / "inside.csv")
    doc = _manifest(snap)
    manifest_entries(doc, "series")["IWM"].update(file="prices/inside.csv", sha256=_sha(files.csv))
    _save(snap, doc)
    assert read_snapshot(snap).series["IWM"].frame["Close"].iloc[-1] == pytest.approx(4242.20)


def test_a_manifest_feed_cannot_name_a_file_outside_the_snapshot(snap: Path, files: Files) -> None:
    doc = _manifest(snap)
    [entry] = manifest_entries(doc, "feeds").values()
    entry.update(file=f"../{files.root.name}/../{files.root.name}/secret-feed.xml", sha256=_sha(files.feed))
    shutil.copytree(files.root, snap.parent / files.root.name)
    _save(snap, doc)
    with pytest.raises(SourceError, match=r"unsafe|outside"):
        read_snapshot(snap)


@pytest.mark.parametrize("kind", ["series", "feeds"])
@pytest.mark.parametrize("name", ["../x", "..", "a/b", ".hidden", "x\\y", "nul\x00"])
def test_unsafe_symbol_and_feed_names_are_refused(snap: Path, kind: str, name: str) -> None:
    doc = _manifest(snap)
    [block] = [b for b in doc["providers"] if kind in b]
    block[kind] = {name: next(iter(block[kind].values()))}
    _save(snap, doc)
    with pytest.raises(SourceError, match="not safe as a file name"):
        read_snapshot(snap)


def test_a_plain_folder_ignores_links_that_point_outside(tmp_path: Path, files: Files) -> None:
    folder = tmp_path / "plain"
    (folder / "news").mkdir(parents=True)
    shutil.copy(load_sample_csv(), folder / "IWM.csv")
    (folder / "EVIL.csv").symlink_to(files.csv)
    (folder / "news" / "evil.xml").symlink_to(files.feed)
    snapshot = read_snapshot(folder)
    assert set(snapshot.series) == {"IWM"} and snapshot.feeds == {}


def load_sample_csv() -> Path:
    return ROOT / "generator" / "sources" / "sample" / "prices" / "IWM.csv"


# ---------------------------------------------------------------------------
# The site: meta.json comes from disk
# ---------------------------------------------------------------------------

META_ATTACK = {
    "title": "</title><script>alert('title')</script>",
    "summary": "<script>alert('summary')</script><img src=x onerror=alert(1)>",
    "headline": "Russell 2000 <svg onload=alert(2)> +1.00%",
}
TAKEAWAYS_ATTACK = [
    "<script>alert('takeaway')</script> Small caps led",
    "IWM <img src=x onerror=alert(3)> & KRE",
]


@pytest.mark.parametrize("takeaways", [TAKEAWAYS_ATTACK, []], ids=["takeaways", "no-takeaways"])
def test_site_escapes_meta_fields_in_pages_and_atom(
    hostile: BuildResult, tmp_path: Path, takeaways: list[str]
) -> None:
    """meta.json's texts reach the pages escaped and the Atom entry as plain text.

    The entry's summary leads with the issue's takeaways; an issue without any falls back to the
    headline and the summary.
    """
    _tampered_issue(hostile, tmp_path, **META_ATTACK, takeaways=takeaways)
    site = build_site(
        tmp_path / "out",
        tmp_path / "site",
        title="Site",
        base_url="https://example.org/b/",
        allow_sample=True,
    )
    relative = ("#", "http://", "https://", "data:,", "./", "../", "briefs/", "assets/", "feed.xml", "brief.")
    for page in site.pages:
        doc = (site.path / page).read_text(encoding="utf-8")
        assert audit_html(doc, relative) == [], page
    home = (site.path / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;summary&#39;)" in home
    feed = ET.parse(site.feed).getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    [entry] = feed.findall("a:entry", ns)
    [summary] = entry.findall("a:summary", ns)
    [title] = entry.findall("a:title", ns)
    assert summary.get("type", "text") == title.get("type", "text") == "text"  # never read as markup
    assert (title.text or "").startswith(f"{META_ATTACK['title']}: week ending ")
    if takeaways:
        expected = f"{META_ATTACK['summary']} • {takeaways[0]} • {takeaways[1]}"
    else:
        expected = f"{META_ATTACK['headline']}. {META_ATTACK['summary']}"
    assert summary.text == expected
    assert [e.tag for e in feed.iter() if e.tag.lower().endswith("script")] == []
    assert audit_html(entry.findtext("a:content", namespaces=ns) or "") == []


# ---------------------------------------------------------------------------
# The feed fetcher: redirects and address tricks
# ---------------------------------------------------------------------------


def _resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


SNEAKY = {
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "localhost.": ["127.0.0.1"],
    "rebind.example": ["93.184.216.34", "127.0.0.1"],
}


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("http://169.254.169.254/latest/meta-data/", "cloud-metadata"),
        ("//169.254.169.254/latest/meta-data/", "cloud-metadata"),
        ("http://[::1]:{port}/secret", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/secret", "loopback"),
        ("http://2130706433:{port}/secret", "loopback"),
        ("http://0x7f000001:{port}/secret", "loopback"),
        ("http://0177.0.0.1:{port}/secret", "loopback"),
        ("http://127.1:{port}/secret", "loopback"),
        ("http://127.0.0.1.nip.io:{port}/secret", "loopback"),
        ("http://localhost.:{port}/secret", "loopback"),
        ("http://rebind.example:{port}/secret", "loopback"),
        ("http://example.com@127.0.0.1:{port}/secret", "credentials"),
        ("http://127.0.0.1:{port}\\@example.com/secret", "refused"),
    ],
)
def test_redirects_to_local_targets_are_refused_before_connecting(target: str, words: str) -> None:
    """The first hop is an allowed loopback server; the target names the same server in other words."""
    with FeedServer() as server:
        server.serve("/secret", rss(item("secret", "https://e.com/s", "s", "s")))
        location = target.replace("{port}", str(server.port))
        start = server.redirect("/start", location)
        settings = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=5)
        resolve = _resolver(SNEAKY) if any(h in location for h in SNEAKY) else None
        with pytest.raises(SourceError, match=words):
            fetch(start, settings, resolver=resolve)
        assert server.hits("/secret") == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433:{port}/secret",
        "http://[::ffff:7f00:1]:{port}/secret",
        "http://127.0.0.1.nip.io:{port}/secret",
        "http://example.com@127.0.0.1:{port}/secret",
    ],
)
def test_direct_urls_to_local_targets_are_refused(url: str) -> None:
    with FeedServer() as server:
        server.serve("/secret", rss(item("secret", "https://e.com/s", "s", "s")))
        with pytest.raises(SourceError, match="refused"):
            url = url.replace("{port}", str(server.port))
            resolve = _resolver(SNEAKY) if any(h in url for h in SNEAKY) else None
            fetch(url, NetworkSettings(feed_timeout=5), resolver=resolve)
        assert server.requests == []


@contextlib.contextmanager
def raw_server(response: bytes) -> Iterator[int]:
    """A loopback server that answers one request with ``response`` verbatim; yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(response)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=5)


def test_a_feed_server_cannot_put_control_characters_into_the_health_table(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from generator.models import Feed
    from generator.sources.news import fetch_feeds

    reason = b"\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\ \x1b[2J"
    response = b"HTTP/1.1 599 " + reason + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with raw_server(response) as port:
        feed = Feed("hostile", f"http://127.0.0.1:{port}/feed.xml", "Hostile")
        settings = NetworkSettings(allow_hosts=("127.0.0.1",), feed_timeout=5, feed_deadline=10)
        _, [row] = fetch_feeds([feed], settings, tmp_path, now=datetime(2026, 11, 21, tzinfo=UTC))
    assert row.status == "failed" and "599" in row.error
    assert not C0.search(row.error)


# ---------------------------------------------------------------------------
# Absolute paths of the build machine
# ---------------------------------------------------------------------------


def test_no_absolute_path_of_the_build_machine_reaches_the_brief_or_the_email(tmp_path: Path) -> None:
    config = load_config(ROOT / "feeds.yaml")
    folder = tmp_path / "home" / "analyst" / "prices"
    folder.mkdir(parents=True)
    for symbol in ("^RUT", "IWM", "^GSPC"):  # a few of the sample's CSVs make a brief
        shutil.copy(load_sample_csv().with_name(f"{symbol}.csv"), folder)
    (folder / "XLK.csv").write_text("garbage,more\n1,2\n", encoding="utf-8")  # fails, naming its file
    snapshot = read_snapshot(folder)
    result = build_from_snapshot(config, snapshot, as_of=snapshot.as_of, out=tmp_path / "out", formats=["md"])
    published = [result.folder / FILES[name] for name in ("md", "email_html", "email_txt")]
    published.append(result.folder / "snapshot" / "manifest.json")
    texts = {path.name: path.read_text(encoding="utf-8") for path in published}
    assert "XLK.csv: XLK: no Close column" in texts["brief.md"]  # the failure is shown, by its file name
    assert "XLK.csv" in texts["email.txt"] and "XLK.csv" in texts["manifest.json"]
    for name, text in texts.items():
        assert str(tmp_path) not in text and "/home/analyst" not in text, name


def test_feed_text_keeps_nothing_the_feed_xml_or_a_header_cannot_hold() -> None:
    """A headline's line separator reads as a space; U+FFFF and a lone surrogate (which lxml refuses
    in the site's feed) are dropped, as control characters are."""
    from generator.text import plain_text, unprintable

    assert (
        plain_text("Small caps\u2028rally\u2029on \ufffffriday\ud800 \x1b[31m", 200)
        == "Small caps rally on friday [31m"
    )
    assert unprintable("Small caps rally") is None and unprintable("a\u2028b") == "U+2028"
    # a code point only unassigned in this Python's Unicode tables (an emoji of Unicode 15) is kept
    assert plain_text("Small caps \U0001fae8 \ufdd0", 200) == "Small caps \U0001fae8"
