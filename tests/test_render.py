"""Rendering: golden HTML / Markdown, safety of feed text, sources and footnotes, the PDF and its fetcher."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from brief_factory import HOSTILE_TITLE, NAMES, STALE_BAR, golden_outputs, make_brief
from markupsafe import escape
from pypdf import PdfReader

from generator.charts import RenderedChart, render_charts
from generator.citations import Sources, health, sources, superscript
from generator.errors import RenderError
from generator.formatting import fmt, source_line
from generator.models import Brief, Figure, SourceHealth
from generator.render import (
    SAMPLE_BANNER,
    fetch_allowed,
    make_url_fetcher,
    md_escape,
    provenance_title,
    render_fragment,
    render_html,
    render_markdown,
    render_pdf,
    safe_link,
    write_outputs,
)

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture(scope="module")
def brief() -> Brief:
    return make_brief()


@pytest.fixture(scope="module")
def charts(brief: Brief) -> dict[str, RenderedChart]:
    return render_charts(brief.charts)


@pytest.fixture(scope="module")
def page(brief: Brief, charts: dict[str, RenderedChart]) -> str:
    return render_html(brief, charts, names=NAMES)


@pytest.fixture(scope="module")
def markdown(brief: Brief, charts: dict[str, RenderedChart]) -> str:
    return render_markdown(brief, charts, names=NAMES)


@pytest.fixture(scope="module")
def found(brief: Brief) -> Sources:
    return sources(brief, NAMES)


@pytest.fixture(scope="module")
def pdf(brief: Brief, charts: dict[str, RenderedChart]) -> bytes:
    return render_pdf(render_html(brief, charts, for_pdf=True, names=NAMES))


class Links(HTMLParser):
    """Every URL-bearing attribute and every tag name of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if (
                name in ("src", "href", "xlink:href", "srcset", "action", "poster", "data")
                and value is not None
            ):
                self.urls.append((tag, name, value))


def parse(page: str) -> Links:
    parser = Links()
    parser.feed(page)
    return parser


# ---------------------------------------------------------------------------
# Golden files
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["brief.html", "brief.md"])
def test_golden_files_match(name: str) -> None:
    fresh = golden_outputs()[name]
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert fresh == expected, f"{name} differs from tests/golden/{name}; if intended, run `make golden`"


def test_rendering_is_deterministic(brief: Brief, charts: dict[str, RenderedChart], page: str) -> None:
    assert render_html(brief, render_charts(brief.charts), names=NAMES) == page
    assert render_markdown(brief, charts) == render_markdown(make_brief(), charts)
    assert render_html(brief, charts, for_pdf=True) == render_html(make_brief(), charts, for_pdf=True)


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------


def test_html_makes_no_external_requests(brief: Brief, page: str) -> None:
    links = parse(page)
    headline_links = {h.link for h in brief.headlines if h.link}
    for tag, attribute, value in links.urls:
        if value.startswith("#"):
            continue
        assert (tag, attribute) == ("a", "href"), f"resource reference {tag} {attribute}={value}"
        assert value in headline_links, f"unexpected link {value}"
    assert not {"link", "script", "img", "iframe", "object", "embed", "base"} & set(links.tags)
    assert "@import" not in page and "url(" not in page.replace("url(#", "")
    assert "default-src 'none'" in page  # the page also forbids loads itself (CSP)


def test_hostile_headline_is_escaped(page: str, markdown: str) -> None:
    assert "<script" not in page.lower()
    assert html.escape(HOSTILE_TITLE, quote=False) in page
    assert "javascript:" not in " ".join(v for _, _, v in parse(page).urls)
    assert "<b>bold</b>" not in page
    # Markdown: no raw HTML except our own <sup> references; no javascript link
    assert re.findall(r"(?<![\\(])<(?!/?sup>)[A-Za-z/!?]", markdown) == []
    assert "\\<script\\>alert\\(1\\)\\</script\\> & \\[x\\]\\(javascript:y\\)" in markdown
    assert "](javascript" not in markdown


def test_sample_banner_and_warnings(brief: Brief, charts: dict[str, RenderedChart], page: str) -> None:
    assert page.count(SAMPLE_BANNER) >= 1
    assert page.index(SAMPLE_BANNER) < page.index('class="brief-title"')
    assert page.index('class="callout warnings"') < page.index('id="at-a-glance"')
    for warning in brief.warnings:
        assert html.escape(warning) in page
    real = render_html(make_brief(is_sample=False), charts)
    assert SAMPLE_BANNER not in real and 'class="sample-banner"' not in real


def test_dates_and_build_time(page: str, markdown: str) -> None:
    for text in (page, markdown):
        assert "2026-11-16 – 2026-11-20" in text
        assert "November 20, 2026" in text
        assert "2026-11-21 06:15 UTC" in text


def source_row_html(page: str, number: int) -> str:
    match = re.search(rf'<tr id="src-{number}"[^>]*>(.*?)</tr>', page)
    assert match, f"no source row {number}"
    return match.group(1)


def test_every_figure_marker_resolves_to_its_data_source(brief: Brief, found: Sources, page: str) -> None:
    """Each figure: formatted, then a marker linking to a row naming its symbols, last bar and provider."""
    for figure in brief.figures():
        number = found.ref(figure)
        title = str(escape(provenance_title(figure)))
        expected = f'>{escape(fmt(figure))}</span><sup class="ref"><a href="#src-{number}" title="{title}">'
        assert expected in page, figure.key
        assert title.startswith(str(escape(source_line(figure))))  # symbols · window · last bar · provider
        p = figure.provenance
        row = source_row_html(page, number)
        assert html.escape(", ".join(p.symbols)) in row, figure.key
        assert html.escape(p.provider) in row, figure.key
        assert (p.last_bar.isoformat() if p.last_bar else "not available") in row, figure.key
    assert "not available (stale)" in page


def test_markdown_markers_resolve_to_data_source_rows(brief: Brief, found: Sources, markdown: str) -> None:
    section = markdown.split("### Data sources")[1].split("### Methods")[0]
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^\| (\d+) \|.*$", section, flags=re.M)}
    assert sorted(rows) == list(range(1, len(found.rows) + 1))
    for figure in brief.figures():
        number = found.ref(figure)
        assert f"{md_escape(fmt(figure))}<sup>{number}</sup>" in markdown, figure.key
        p = figure.provenance
        for part in (", ".join(p.symbols), p.provider, p.last_bar.isoformat() if p.last_bar else ""):
            assert md_escape(part) in rows[number], (figure.key, part)


def test_data_sources_one_row_per_symbols_provider_and_last_bar(brief: Brief, found: Sources) -> None:
    figures = list(brief.figures())
    distinct = {(f.provenance.symbols, f.provenance.provider, f.provenance.last_bar) for f in figures}
    assert len(found.rows) == len(distinct)
    assert [r.number for r in found.rows] == list(range(1, len(found.rows) + 1))
    # numbered in reading order of first use: the headline figure is 1, new numbers only ever grow by one
    seen: list[int] = []
    for figure in figures:
        if found.ref(figure) not in seen:
            seen.append(found.ref(figure))
    assert seen == list(range(1, len(found.rows) + 1))
    assert found.ref(brief.headline_figure) == 1
    assert sum(r.figures for r in found.rows) == len(figures)
    rut = found.rows[0]
    assert (rut.label, rut.name, rut.first_bar, rut.last_bar) == (
        "^RUT",
        "Russell 2000",
        "2025-11-20",
        "2026-11-20",
    )
    assert [(r.label, r.last_bar) for r in found.rows if r.stale] == [("^RVX", STALE_BAR.isoformat())]
    two = next(r for r in found.rows if r.symbols == ("^RUT", "^GSPC"))
    assert (two.name, two.first_bar) == ("", "")  # no single name; no figure says where its bars start
    iwm = next(r for r in found.rows if r.symbols == ("IWM",))
    assert iwm.name == ""  # no display name given
    old_rows = {
        (p.symbols, p.window, p.last_bar, p.provider, p.method) for p in (f.provenance for f in figures)
    }
    assert len(found.rows) + len(found.methods) < len(old_rows)


def test_methods_cover_every_distinct_method_once_with_its_windows(
    brief: Brief, found: Sources, page: str, markdown: str
) -> None:
    windows: dict[str, set[str]] = {}
    for figure in brief.figures():
        windows.setdefault(figure.provenance.method, set()).add(figure.provenance.window)
    assert {m.method: set(m.windows) for m in found.methods} == windows
    assert len(found.methods) == len(windows)
    first_windows = [m.windows[0] for m in found.methods]  # grouped by the shortest window
    assert first_windows.index("1D") < first_windows.index("1W") < first_windows.index("1M")
    methods_html = page.split('id="methods"')[1].split("</table>")[0]
    methods_md = markdown.split("### Methods")[1].split("\n## ")[0]
    for m in found.methods:
        assert methods_html.count(f"<td>{escape(m.method)}</td>") == 1, m.method
        assert methods_md.count(f"| {md_escape(m.method)} |") == 1, m.method
        assert f"<tr><td>{', '.join(m.windows)}</td>" in methods_html


def test_stale_source_is_marked(page: str, markdown: str) -> None:
    assert '2026-10-30 <span class="stale-tag">(stale)</span>' in page
    assert "| 2026-10-30 **(stale)** |" in markdown


def test_health_puts_problems_first_and_condenses_the_rest(brief: Brief) -> None:
    view = health(brief.health)
    assert [r.name for r in view.problems] == ["^RVX", "PSCU", "reuters-biz"]
    assert view.rows[: len(view.problems)] == view.problems and set(view.rows) == set(brief.health)
    assert view.summary == "4 symbols and 4 feeds: 3 problems, listed first."
    symbols, fresh, cached = view.groups
    assert (symbols.heading, symbols.count, symbols.newest, symbols.members) == (
        "2 symbols, ok",
        "3,021 bars each",
        "2026-11-20",
        ("^RUT", "^GSPC"),
    )
    assert (fresh.heading, fresh.count, fresh.newest) == ("2 feeds, ok", "", "")
    assert fresh.members == ("cnbc-markets (30 items, 2026-11-20)", "marketwatch (25 items, 2026-11-19)")
    assert (cached.heading, cached.origin, cached.count, cached.members) == (
        "1 feed, not modified",
        "cache",
        "12 items",
        ("fed-press",),
    )
    quiet = health((SourceHealth("symbol", "^RUT", "sample", "sample", 10, None),))
    assert quiet.summary == "1 symbol and 0 feeds: no problems." and quiet.groups[0].newest == "—"
    from_cache = health(  # --data cache: "cached" is healthy, unless the source reports an error
        (
            SourceHealth("symbol", "^RUT", "cached", "cache", 10, None),
            SourceHealth("symbol", "IWM", "cached", "cache", 9, None, "live fetch failed: HTTP 429"),
        )
    )
    assert [r.name for r in from_cache.problems] == ["IWM"] and from_cache.groups[0].members == ("^RUT",)


def test_superscript() -> None:
    assert superscript(1) == "¹" and superscript(40) == "⁴⁰" and superscript(123) == "¹²³"


def test_sections_topics_headlines_health_glossary(brief: Brief, page: str) -> None:
    for section in brief.sections:
        assert f'<section class="brief-section" id="{section.key}">' in page
        for topic in section.topics:
            assert f'id="{section.key}-{topic.key}"' in page
    assert page.count('<li class="check met">') == 3
    assert page.count('<li class="check unmet">') == 1
    assert page.count('<li class="check unknown">') == 1
    assert '<span class="badge flag-warning">Caution</span>' in page
    assert page.count('<figure class="chart"') == len(brief.charts)
    assert page.count('<svg xmlns:xlink="http://www.w3.org/1999/xlink"') == len(brief.charts)
    assert page.count('<tr class="status-failed">') == 2
    assert "HTTP 429 Too Many Requests" in page
    health_table = page.split('id="source-health"')[1].split("</table>")[0]
    assert health_table.index(">PSCU<") < health_table.index(">^RUT<")  # problems first
    assert all(html.escape(term) in page for term, _ in brief.glossary)
    assert html.escape(brief.disclaimer) in page
    # a headline without a link is plain text, the others are links
    assert f'<span class="headline-title">{html.escape(HOSTILE_TITLE, quote=False)}</span>' in page


def test_fragment_is_the_article_of_the_page(
    brief: Brief, charts: dict[str, RenderedChart], page: str
) -> None:
    fragment = render_fragment(brief, charts, names=NAMES)
    assert fragment.lstrip().startswith("<article") and fragment.rstrip().endswith("</article>")
    assert fragment in page
    assert "<html" not in fragment and "<style" not in fragment


def test_pdf_html_embeds_charts_as_data_urls(brief: Brief, charts: dict[str, RenderedChart]) -> None:
    for_pdf = render_html(brief, charts, for_pdf=True)
    images = [v for tag, name, v in parse(for_pdf).urls if name == "src"]
    assert len(images) == len(brief.charts)
    assert all(s.startswith("data:image/svg+xml;base64,") for s in images)
    assert 'class="brief-page pdf"' in for_pdf


def test_print_markup_is_light(brief: Brief, charts: dict[str, RenderedChart], found: Sources) -> None:
    """Print: markers are superscript digits (no <sup>); a table row with one source is marked once."""
    for_pdf = render_html(brief, charts, for_pdf=True)
    assert "<sup" not in for_pdf and "<nav" not in for_pdf and 'class="topic"' not in for_pdf
    returns = next(t for t in brief.sections[0].topics if t.key == "returns")
    assert returns.table is not None
    for row in returns.table.rows:
        number = found.row_ref(row)
        assert number is not None
        label = html.escape(str(row[0]))
        assert f'<th scope="row">{label}{superscript(number)}</th>' in for_pdf
        cells = [c for c in row if isinstance(c, Figure)]
        assert all(f">{html.escape(fmt(c))}</td>" in for_pdf for c in cells)
    headline = brief.headline_figure
    assert f"{html.escape(fmt(headline))}</span>{superscript(found.ref(headline))}" in for_pdf


def test_a_bare_brief_renders(brief: Brief) -> None:
    """No warnings, headlines, health, glossary, disclaimer, charts or topics: still valid output."""
    bare = replace(
        brief,
        is_sample=False,
        warnings=(),
        headlines=(),
        health=(),
        glossary=(),
        disclaimer="",
        charts=(),
        sections=tuple(replace(s, topics=()) for s in brief.sections),
    )
    page = render_html(bare, {})
    assert "Data warnings" not in page and 'id="glossary"' not in page and "<figure" not in page
    assert "No headlines for this week." in page
    markdown = render_markdown(bare, {})
    assert "No headlines for this week." in markdown and "## Glossary" not in markdown
    assert "[!WARNING]" not in markdown and "[!CAUTION]" not in markdown


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


def test_markdown_reads_well_on_github(brief: Brief, markdown: str) -> None:
    assert markdown.startswith(f"> [!CAUTION]\n> **{SAMPLE_BANNER}**\n\n# Small-Cap Weekly\n")
    for key in (spec.key for spec in brief.charts):
        assert re.search(rf"!\[[^\]\n]+\]\(charts/{key}\.png\)", markdown), key
    assert "| Series | 1W | 1M | 3M | YTD | 1Y |\n| --- | ---: | ---: | ---: | ---: | ---: |\n" in markdown
    assert (
        "[Small caps jump as Treasury yields slide](<https://www.cnbc.com/2026/11/18/small-caps.html>)"
        in markdown
    )
    assert "Why the \\*small-cap\\* rally \\| has room to run \\(analysis\\)" in markdown
    assert not re.search(r"[ \t]+$", markdown, flags=re.M)  # no trailing spaces
    assert "\n\n\n" not in markdown
    assert render_markdown(brief, {}, chart_dir="img/").count("](img/") == 0  # charts absent: no images


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("+2.14% on the week", "+2.14% on the week"),
        (
            "a *b* _c_ `d` [e](f) <g> #h |i| ~j~ \\k",
            "a \\*b\\* \\_c\\_ \\`d\\` \\[e\\]\\(f\\) \\<g\\> \\#h \\|i\\| \\~j\\~ \\\\k",
        ),
        ("- not a list", "\\- not a list"),
        ("1. not a list", "1\\. not a list"),
        ("&amp; stays text", "\\&amp; stays text"),
        ("two\nlines\tjoined", "two lines joined"),
    ],
)
def test_md_escape(text: str, expected: str) -> None:
    assert md_escape(text) == expected


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("http://example.com", "http://example.com"),
        ("javascript:alert(1)", ""),
        ("JAVASCRIPT:alert(1)", ""),
        ("data:text/html,x", ""),
        ("file:///etc/passwd", ""),
        ("https://", ""),
        ('https://example.com/"onmouseover=x', ""),
        (None, ""),
    ],
)
def test_safe_link(link: str | None, expected: str) -> None:
    assert safe_link(link) == expected


# ---------------------------------------------------------------------------
# Writing outputs
# ---------------------------------------------------------------------------


def test_write_outputs_html_and_md_are_byte_identical(
    brief: Brief, charts: dict[str, RenderedChart], tmp_path: Path
) -> None:
    first = write_outputs(brief, charts, tmp_path / "a", ["html", "md"])
    second = write_outputs(brief, render_charts(brief.charts), tmp_path / "b", ["md", "html"])
    assert set(first) == {"html", "fragment", "md"}
    for fmt_name, path in first.items():
        assert path.read_bytes() == second[fmt_name].read_bytes(), fmt_name
    assert sorted(p.name for p in (tmp_path / "a" / "charts").iterdir()) == sorted(f"{c}.png" for c in charts)
    assert (tmp_path / "a" / "charts" / "sectors.png").read_bytes() == charts["sectors"].png
    assert not list((tmp_path / "a").glob("*.tmp"))


def test_write_outputs_refuses_unknown_formats(brief: Brief, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="docx"):
        write_outputs(brief, {}, tmp_path, ["html", "docx"])
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


def pdf_text(data: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(BytesIO(data)).pages]


def test_pdf_text_pages_and_headers(brief: Brief, pdf: bytes) -> None:
    pages = pdf_text(pdf)
    assert 3 <= len(pages) <= 30
    text = "\n".join(pages)
    for needle in (
        "Small-Cap Weekly",
        "Sources and methods",
        "Source health",
        "+2.14%",
        "not available (stale)",
    ):
        assert needle in text, needle
    assert "Page 1 of" in pages[0]
    flat = " ".join(text.split())
    found = sources(brief, NAMES)
    for row in found.rows:  # one line per data source, numbered as the markers
        assert f"{row.number} {row.label}" in flat, row.label
    rvx = next(r for r in found.rows if r.stale)
    assert (
        f"{rvx.number} ^RVX · Cboe Russell 2000 Volatility Index · sample (illustrative) · "
        f"last bar 2026-10-30 · {rvx.figures} figures · stale"
    ) in flat
    assert "+2.14%¹" in flat  # the headline figure's marker, as plain superscript text
    for m in found.methods:
        assert " ".join(m.method.split()) in flat, m.method
    for entry in brief.health:  # every source-health row is in the print, problems with their errors
        assert entry.name in flat, entry.name
    assert "HTTP 429 Too Many Requests" in flat and "timed out after 10 s" in flat
    assert "2 symbols, ok · origin live · 3,021 bars each · newest 2026-11-20: ^RUT, ^GSPC" in flat
    for number, page_text in enumerate(pages, start=1):
        assert SAMPLE_BANNER in page_text, f"page {number} has no sample banner in its header"
        assert f"Page {number} of {len(pages)}" in page_text


def test_write_outputs_pdf(brief: Brief, charts: dict[str, RenderedChart], tmp_path: Path) -> None:
    written = write_outputs(brief, charts, tmp_path, ["pdf"])
    assert set(written) == {"pdf"} and written["pdf"].name == "brief.pdf"
    assert written["pdf"].read_bytes().startswith(b"%PDF-")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_pdf_first_page_rasterizes(pdf: bytes, tmp_path: Path) -> None:
    source = tmp_path / "brief.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", str(source), str(tmp_path / "p")], check=True
    )
    (image,) = tmp_path.glob("p*.png")
    assert image.stat().st_size > 20_000  # a page of text, tables and a banner, not a blank page


class CountingHandler(BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012

    def do_GET(self) -> None:
        CountingHandler.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    CountingHandler.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def attached_files(data: bytes) -> list[str]:
    reader = PdfReader(BytesIO(data))
    names = list(reader.attachments)
    for pdf_page in reader.pages:
        for annot in pdf_page.get("/Annots") or []:
            if annot.get_object().get("/Subtype") == "/FileAttachment":
                names.append(str(annot.get_object().get("/FS")))
    return names


def hostile_html(loopback: str, target: str) -> str:
    return f"""<!DOCTYPE html><html><head>
<link rel="stylesheet" href="{loopback}/style.css">
<link rel="attachment" href="{target}" title="passwd">
</head><body><p>Hostile page</p>
<img src="{target}" alt="x"><img src="{loopback}/pixel.png" alt="y">
<img src="https://example.invalid/z.png" alt="z">
<img src="ftp://127.0.0.1/x.png" alt="w"><img src="file:///etc/hostname" alt="v">
<a rel="attachment" href="{target}">attached</a><a rel="attachment" href="{loopback}/a.txt">remote</a>
</body></html>"""


def test_pdf_fetcher_refuses_network_and_foreign_files(
    loopback: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="generator.render"):
        data = render_pdf(hostile_html(loopback, "file:///etc/passwd"))
    assert data.startswith(b"%PDF-")
    assert CountingHandler.hits == []  # nothing reached the loopback server
    assert attached_files(data) == []
    assert b"/EmbeddedFile" not in data and b"root:" not in data
    refused = " ".join(r.getMessage() for r in caplog.records if "refused to fetch" in r.getMessage())
    for url in (
        "file:///etc/passwd",
        f"{loopback}/pixel.png",
        "https://example.invalid/z.png",
        "ftp://127.0.0.1",
    ):
        assert url in refused, url


def test_pdf_fetcher_allows_files_in_its_own_folder(tmp_path: Path) -> None:
    """A positive control: the same markup does embed a file the fetcher allows."""
    import weasyprint

    note = tmp_path / "note.txt"
    note.write_text("allowed attachment", encoding="utf-8")
    markup = f'<html><body><a rel="attachment" href="{note.as_uri()}">note</a></body></html>'
    data = weasyprint.HTML(string=markup, url_fetcher=make_url_fetcher(tmp_path)).write_pdf()
    assert attached_files(data) != []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("http://127.0.0.1/x.png", False),
        ("https://example.com/x.png", False),
        ("ftp://example.com/x", False),
        ("file:///etc/passwd", False),
        ("file://otherhost/tmp/x", False),
        ("javascript:alert(1)", False),
    ],
)
def test_fetch_allowed(url: str, allowed: bool, tmp_path: Path) -> None:
    assert fetch_allowed(url, tmp_path) is allowed


def test_fetch_allowed_only_inside_the_folder(tmp_path: Path) -> None:
    inside = tmp_path / "assets" / "logo.svg"
    inside.parent.mkdir()
    inside.write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("no")
    assert fetch_allowed(inside.as_uri(), inside.parent)
    assert not fetch_allowed((tmp_path / "secret.txt").as_uri(), inside.parent)
    assert not fetch_allowed(inside.parent.as_uri() + "/../secret.txt", inside.parent)
    assert not fetch_allowed(inside.parent.as_uri() + "/missing.svg", inside.parent)
