"""Rendering: one Jinja environment; HTML, Markdown and PDF outputs.

Templates format figures (through :mod:`generator.formatting`); they never compute them.
"Sources and methods" and the footnote number beside every figure come from
:func:`generator.citations.sources` (one row per data source: symbols, provider, last bar;
one row per method), so a number cannot appear without its source.  The PDF gets a print
variant of the same HTML with lighter markup (plain-text markers, no per-cell decorations):
weasyprint's cost grows with every element it lays out.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import gc
import importlib
import importlib.util
import io
import logging
import os
import re
import shutil
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

import jinja2

from generator import formatting
from generator.citations import health, sources, superscript
from generator.errors import RenderError
from generator.formats import FILES, FORMATS
from generator.formatting import WEEKDAY_NAMES
from generator.fsutil import write_atomic
from generator.issue import CHARTS_DIR
from generator.models import Brief, Cite, Figure, Headline, Prose, Table
from generator.text import safe_link as checked_link

if TYPE_CHECKING:
    from generator.models import RenderedChart

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
FONTS_DIR = ASSETS_DIR / "fonts"


def _matplotlib_fonts() -> Path:
    """matplotlib's own font folder (found without importing matplotlib): DejaVu Sans, the charts' font."""
    spec = importlib.util.find_spec("matplotlib")
    origin = spec.origin if spec is not None and spec.origin else ""
    return Path(origin).resolve().parent / "mpl-data" / "fonts" / "ttf"


MATPLOTLIB_FONTS_DIR = _matplotlib_fonts()
# The PDF's fonts, loaded from files the package ships whatever fonts the machine has:
# (family, folder, file, weight, style).  The text font is bundled (SIL Open Font License,
# assets/fonts/OFL.txt), metric-compatible with Arial; semibold (600) is laid out in the bold face.
# DejaVu Sans, which matplotlib ships, sets the chart text it measured and the few characters the
# text font lacks (the superscript "⁰" of source 10, 20, …).
PDF_FONT_FAMILY = "Liberation Sans"
PDF_FONT_FACES = (
    (PDF_FONT_FAMILY, FONTS_DIR, "LiberationSans-Regular.ttf", 400, "normal"),
    (PDF_FONT_FAMILY, FONTS_DIR, "LiberationSans-Bold.ttf", 700, "normal"),
    (PDF_FONT_FAMILY, FONTS_DIR, "LiberationSans-Italic.ttf", 400, "italic"),
    ("DejaVu Sans", MATPLOTLIB_FONTS_DIR, "DejaVuSans.ttf", 400, "normal"),
    ("DejaVu Sans", MATPLOTLIB_FONTS_DIR, "DejaVuSans-Bold.ttf", 700, "normal"),
)
PDF_FONT_DIRS = (FONTS_DIR, MATPLOTLIB_FONTS_DIR)
CSS_TEMPLATE = "brief.css"
SCREEN_CSS_TEMPLATE = "brief-screen.css"
SAMPLE_BANNER = "SAMPLE DATA — illustrative, not market data"
PDF_VARIANT = "pdf/ua-1"  # tagged for screen readers: structure tree, /Lang, title shown
PDF_AUTHOR = "smallcap-brief"  # when the HTML has no <meta name="author">
TOP_STORIES = 5  # headlines in the PDF's list (the web places more beside their passages)
APPENDIX_ANCHOR = "appendix"  # the id where the appendix starts (its own page in the PDF)
# Units whose sign is coloured (a gain blue, a loss orange).  Not basis points: a yield or a credit
# spread that rises is neither a gain nor a loss of the reader's (a widening spread was blue, a
# falling yield orange), so rate moves read in plain ink.
SIGNED_UNITS = ("pct", "pp", "points", "index_points")
FLAG_LABELS = {"positive": "Positive", "negative": "Negative", "warning": "Caution"}
_BLANK_RUNS = re.compile(r"\n{3,}")
# Not "(" and ")": with "[" and "]" escaped no link can start ("\](" is text), and "\(IWC\)" made the
# raw Markdown hard to read.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_LEADING = re.compile(r"^(\d*)([-+=]+|(?<=\d)[.)])(?=\s|$)")


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs, in the user's own cache folder (0700), else none.

    Compiling the templates costs more than rendering them; Jinja checks each cached entry against
    its template's source, so an edited template is compiled again.
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "smallcap-brief" / "jinja"
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        if base.stat().st_uid != os.getuid() or base.stat().st_mode & 0o077:
            return None  # not ours alone: do not load code from it
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(base))


def make_env(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """The one Jinja environment: autoescape on, undefined variables are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        bytecode_cache=_bytecode_cache(),
        autoescape=jinja2.select_autoescape(["html", "xml", "htm"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = formatting.fmt
    env.filters["fmt_date"] = formatting.fmt_date
    env.filters["long_date"] = formatting.fmt_long_date
    env.filters["week"] = lambda brief: formatting.fmt_week(brief.week_start, brief.week_end, brief.as_of)
    env.filters["source_line"] = formatting.source_line
    env.filters["provenance"] = provenance_title
    env.filters["md"] = md_escape
    env.filters["md_url"] = md_url
    env.filters["md_part"] = md_part
    env.filters["plain"] = formatting.plain
    env.filters["trimmed"] = trimmed
    env.filters["weekday"] = lambda d: WEEKDAY_NAMES[d.weekday()]
    env.filters["safe_link"] = safe_link
    env.filters["sign_class"] = sign_class
    env.filters["flag_class"] = lambda flag: f"flag-{flag}" if flag in FLAG_LABELS else ""
    env.filters["flag_label"] = lambda flag: FLAG_LABELS.get(flag, "")
    env.filters["check_mark"] = lambda met: {True: "✓", False: "✗"}.get(met, "—")
    env.filters["check_word"] = lambda met: {True: "met", False: "not met"}.get(met, "unknown")
    env.filters["check_class"] = lambda met: {True: "met", False: "unmet"}.get(met, "unknown")
    env.filters["day"] = day
    env.filters["wrap"] = wrap
    env.filters["units_kept"] = units_kept
    env.filters["svg_data_uri"] = svg_data_uri
    env.filters["sup"] = superscript
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.filters["utc"] = utc_stamp
    env.tests["figure"] = lambda value: isinstance(value, Figure)
    return env


# ---------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------


def md_escape(text: object) -> str:
    """Plain text made inert in Markdown: one line, specials backslash-escaped, no raw HTML.

    Escapes ``\\ ` * _ [ ] < > # | ~``, an ``&`` that would start an entity, and a
    leading list / heading marker ("- ", "+ ", "1. ", "=").
    """
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    escaped = _MD_ENTITY.sub(r"\\&", escaped)
    return _MD_LEADING.sub(r"\1\\\2", escaped)


def trimmed(table: Table | None) -> Table | None:
    """The table without its wholly unavailable rows and columns (see :meth:`Table.trimmed`)."""
    return table.trimmed() if table is not None else None


def md_part(text: object) -> str:
    """A piece of a Markdown sentence: escaped like :func:`md_escape`, keeping its edge spaces."""
    raw = str(text)
    if not raw.strip():
        return " " if raw else ""
    lead = " " if raw[:1].isspace() else ""
    tail = " " if raw[-1:].isspace() else ""
    return lead + md_escape(raw) + tail


def md_url(url: str) -> str:
    """A link destination for ``[text](<url>)``: no spaces, angle brackets or controls."""
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


def safe_link(link: str | None) -> str:
    """The link when it is a plain http(s) URL with a host, else "" (the one rule: text.safe_link)."""
    return checked_link(link) or ""


def sign_class(figure: Figure) -> str:
    """``pos`` / ``neg`` for available signed figures (returns, spreads, changes), else ""."""
    if not figure.available or figure.unit not in SIGNED_UNITS or figure.value is None:
        return ""
    return "pos" if figure.value > 0 else "neg" if figure.value < 0 else ""


# A number and its unit stay on one line of the email, text and HTML: "(up 12 / pp)" read as two things.
_UNIT_SPACE = re.compile(r"(?<=\d) (?=(?:pp|bp|pts|points?|ET)\b)")
_KEPT = "\u00a0"  # textwrap breaks at ASCII whitespace only


def units_kept(text: object) -> str:
    """``text`` with a no-break space between a number and its unit, for HTML without figure spans
    (the email): a narrow screen broke "+0.49 pp" into "+0.49" and "pp"."""
    return _UNIT_SPACE.sub(_KEPT, str(text))


def wrap(text: object, width: int = 79, wrapstring: str = "\n") -> str:
    """Jinja's ``wordwrap`` (long words broken, breaks at hyphens), never between a number and its unit."""
    kept = units_kept(str(text).replace(_KEPT, " "))
    lines = []
    for paragraph in kept.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, width, expand_tabs=False, replace_whitespace=False) or [""]
    return wrapstring.join(lines).replace(_KEPT, " ")


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date() if value.tzinfo else value.date()
    return value.isoformat()


def svg_data_uri(chart: RenderedChart) -> str:
    """The chart's SVG as a data: URL: the PDF's charts are vectors, as sharp as its text.

    As an ``<img>`` with its alt text the chart is one tagged figure in the PDF.  Against the
    200 dpi PNG it costs weasyprint about 0.1 s of layout for the two body charts and saves
    about 220 KB of PDF (weasyprint re-encodes a PNG as a full RGB image).
    """
    return "data:image/svg+xml;base64," + base64.b64encode(chart.svg.encode("utf-8")).decode("ascii")


def provenance_title(figure: Figure) -> str:
    """A marker's tooltip: ``^RUT · 1W · last bar 2026-11-20 · provider``, then the method."""
    return f"{formatting.source_line(figure)}\n{figure.provenance.method}"


def utc_stamp(moment: datetime) -> str:
    """``2026-11-21 06:15 UTC`` (a naive time is taken as UTC)."""
    aware = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.strftime("%Y-%m-%d %H:%M UTC")


# Where a sentence (or a clause of one) ends: a source's marker is not carried across it, nor
# across more words than a short run of figures has between them ("fell 27 bp to 3.69%").
_CLAUSE_END = re.compile(r"[.;:!?](\s|$)")
_MARKER_REACH = 30  # characters


def cited(prose: Prose, ref: Callable[[Figure], int]) -> list[tuple[str | Cite, int | None]]:
    """The parts of a sentence, each cited figure with the source marker it shows (None: none).

    A figure's marker is left to the next figure of the same clause, a few words on, when that one
    reads the same source row, as footnotes go: "fell 27 bp to 3.69%³", not "fell 27 bp³ to
    3.69%³"; "(17.4–38.7%¹)".  Figures of other sources, or past a clause's end, keep their own.
    The web edition still names each figure's provenance on hover.
    """
    parts: list[tuple[str | Cite, int | None]] = []
    pending: tuple[int, int] | None = None  # (index in parts, ref) of the last figure, marker kept
    between = ""
    for part in prose:
        if isinstance(part, str):
            parts.append((part, None))
            between += part
            continue
        mark = ref(part.figure)
        if (
            pending is not None
            and pending[1] == mark
            and len(between) <= _MARKER_REACH
            and not _CLAUSE_END.search(between)
        ):
            at = pending[0]
            parts[at] = (parts[at][0], None)
        parts.append((part, mark))
        pending, between = (len(parts) - 1, mark), ""
    return parts


@dataclass(frozen=True)
class TableMarks:
    """Where a table shows its source markers: once on the caption when every figure in it reads
    one source row, else once after a row's label when every figure of that row does, else in
    each cell (a contributors table showed the same ⁶ twelve times).  Each figure still names its
    provenance on hover in the web edition."""

    caption: int | None
    rows: tuple[int | None, ...]

    def in_cell(self, row: int) -> bool:
        return self.caption is None and self.rows[row] is None


def table_marks(table: Table, ref: Callable[[Figure], int]) -> TableMarks:
    per_row = [{ref(c) for c in row if isinstance(c, Figure)} for row in table.rows]
    every = set().union(*per_row)
    if len(every) == 1:
        return TableMarks(next(iter(every)), tuple(None for _ in per_row))
    return TableMarks(
        None,
        tuple(
            next(iter(marks))
            if len(marks) == 1 and isinstance(row[0], str) and sum(isinstance(c, Figure) for c in row) > 1
            else None
            for row, marks in zip(table.rows, per_row, strict=True)
        ),
    )


def top_stories(brief: Brief, n: int = TOP_STORIES) -> tuple[Headline, ...]:
    """The week's ``n`` most relevant headlines, wherever the web edition places them (the PDF's list)."""
    every = {*brief.headlines, *(h for p in brief.body for h in p.headlines)}
    return tuple(sorted(every, key=Headline.news_order)[:n])


def _context(
    brief: Brief, charts: Mapping[str, RenderedChart], names: Mapping[str, str] | None, **extra: Any
) -> dict[str, Any]:
    found = sources(brief, names, printed=bool(extra.get("for_pdf")))
    return {
        "brief": brief,
        "charts": charts,
        "top_stories": top_stories(brief) if extra.get("for_pdf") else (),  # the PDF's list only
        "sources": found,
        "ref": found.ref,
        "cited": functools.partial(cited, ref=found.ref),
        "table_marks": functools.partial(table_marks, ref=found.ref),
        "health": health(brief.health),
        "sample_banner": SAMPLE_BANNER,
        **extra,
    }


# ---------------------------------------------------------------------------
# HTML and Markdown
# ---------------------------------------------------------------------------


def brief_css(*, for_pdf: bool = False) -> str:
    """The brief's stylesheet (also used by the site); the screen-only rules are left out of the PDF."""
    names = (CSS_TEMPLATE,) if for_pdf else (CSS_TEMPLATE, SCREEN_CSS_TEMPLATE)
    parts = []
    for name in names:
        try:
            parts.append((TEMPLATES_DIR / name).read_text(encoding="utf-8"))
        except OSError as exc:
            raise RenderError(f"{TEMPLATES_DIR / name}: cannot read the stylesheet ({exc})") from exc
    return "\n".join(parts)


@functools.cache
def shared_env() -> jinja2.Environment:
    """The environment the renderers share (templates compile once per process)."""
    return make_env()


def _render(template: str, context: Mapping[str, Any]) -> str:
    try:
        return shared_env().get_template(template).render(context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"{template}: {exc}") from exc


def render_html(
    brief: Brief,
    charts: Mapping[str, RenderedChart],
    *,
    for_pdf: bool = False,
    names: Mapping[str, str] | None = None,
) -> str:
    """Standalone HTML: inline CSS, inline SVG charts, no external requests.

    ``for_pdf`` renders the print variant (charts as data: URLs, lighter markup for
    weasyprint, the stylesheet left to :func:`render_pdf_document`); ``names`` maps symbols to
    display names for "Sources and methods".
    """
    # The print stylesheet is not inlined: render_pdf_document applies it, parsed once per process.
    context = _context(brief, charts, names, css="" if for_pdf else brief_css(), for_pdf=for_pdf)
    return _render("brief.html", context)


def render_fragment(
    brief: Brief, charts: Mapping[str, RenderedChart], *, names: Mapping[str, str] | None = None
) -> str:
    """The brief's ``<article>`` alone, for the site's issue pages."""
    return _render("fragment.html", _context(brief, charts, names, for_pdf=False))


def render_markdown(
    brief: Brief,
    charts: Mapping[str, RenderedChart],
    *,
    chart_dir: str = CHARTS_DIR,
    names: Mapping[str, str] | None = None,
) -> str:
    """GitHub-flavoured Markdown; charts as ``![alt](<chart_dir>/<key>.png)``.

    Runs of blank lines (which mean nothing in Markdown) are folded into one.
    """
    text = _render("brief.md", _context(brief, charts, names, chart_dir=chart_dir.rstrip("/")))
    return _BLANK_RUNS.sub("\n\n", text)


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


def fetch_allowed(url: str, allowed_dir: Path | tuple[Path, ...] = ASSETS_DIR) -> bool:
    """Only ``data:`` URLs and local files inside ``allowed_dir`` (one folder or several) may be
    loaded into a PDF."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return True
    if scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = Path(url2pathname(parts.path)).resolve()
    folders = (allowed_dir,) if isinstance(allowed_dir, Path) else allowed_dir
    return any(path.is_relative_to(folder.resolve()) for folder in folders) and path.is_file()


_WEASYPRINT_LOCK = threading.Lock()
# The libraries weasyprint looks up by name (gobject, pango, pangoft2, harfbuzz, fontconfig).
_WEASYPRINT_LIBRARIES = re.compile(r"(gobject|pango|harfbuzz|fontconfig)", re.IGNORECASE)


def load_weasyprint() -> ModuleType:
    """weasyprint, imported once per process without its library guesses' subprocesses.

    weasyprint finds pango, harfbuzz and fontconfig by trying several names for each, the
    Windows and macOS ones first.  On Linux, cffi hands each name without ".so" to ctypes'
    ``find_library``, which runs ``ldconfig``, gcc and ld: 54 programs, about 0.4 s of every process
    that lays out a PDF.  Every library is also tried under its Linux soname (``libpango-1.0.so.0``),
    which the dynamic loader finds through the same cache and paths, so while weasyprint imports,
    ``find_library`` answers "not found" at once for those libraries' names (any other name is
    looked up as usual).  Should the import fail that way, it is tried again with the real lookup.
    """
    if "weasyprint" in sys.modules or sys.platform != "linux":
        return importlib.import_module("weasyprint")
    import ctypes.util

    with _WEASYPRINT_LOCK:
        if "weasyprint" in sys.modules:
            return sys.modules["weasyprint"]
        real = ctypes.util.find_library

        def quick(name: str) -> str | None:
            return None if _WEASYPRINT_LIBRARIES.search(name) else real(name)

        ctypes.util.find_library = quick
        try:
            # weasyprint prints an installation notice before it gives up on a library
            with contextlib.redirect_stdout(io.StringIO()):
                return importlib.import_module("weasyprint")
        except OSError:
            for module in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
                del sys.modules[module]
        finally:
            ctypes.util.find_library = real
        return importlib.import_module("weasyprint")  # again, with the real lookup


def make_url_fetcher(allowed_dir: Path | tuple[Path, ...] = ASSETS_DIR) -> Callable[..., Any]:
    """A weasyprint URL fetcher that refuses (and logs) everything :func:`fetch_allowed` refuses."""
    load_weasyprint()
    import weasyprint.urls as wurls

    def refuse(url: str) -> RenderError:
        log.warning("PDF: refused to fetch %.200s (only data: URLs and %s are allowed)", url, allowed_dir)
        return RenderError(f"PDF: refused to fetch {url[:200]!r}")

    if hasattr(wurls, "URLFetcher"):

        class LockedURLFetcher(wurls.URLFetcher):  # type: ignore[misc]
            def fetch(self, url: str, headers: Any = None) -> Any:
                if not fetch_allowed(url, allowed_dir):
                    raise refuse(url)
                return super().fetch(url, headers)

        fetcher: Callable[..., Any] = LockedURLFetcher(
            timeout=5, allowed_protocols=("data", "file"), allow_redirects=False
        )
        return fetcher

    def fetch(url: str, timeout: int = 5, ssl_context: Any = None) -> Any:  # weasyprint < 67
        if not fetch_allowed(url, allowed_dir):
            raise refuse(url)
        return wurls.default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)

    return fetch


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (restored after, if it was on).

    weasyprint allocates millions of short-lived objects while it lays out a document, and
    every full collection the allocations trigger walks the whole heap (pandas, matplotlib,
    the snapshot...).  Pausing the collector for one render cuts its CPU time by a fifth to
    a third, for ~80 MB more peak memory (the render's cyclic garbage waits for the next
    collection).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class PdfResult:
    data: bytes
    pages: int
    body_pages: int  # pages before the appendix starts (all pages when there is none)

    @property
    def appendix_pages(self) -> int:
        return self.pages - self.body_pages


def font_faces_css(faces: Sequence[tuple[str, Path, str, int, str]] = PDF_FONT_FACES) -> str:
    """``@font-face`` rules for the PDF's fonts (:data:`PDF_FONT_FACES`), from the files the package
    ships: the PDF is laid out alike on every machine, whatever fonts it has installed, and the page
    budget holds everywhere.  A file that is missing is a broken install: a WARNING names it and the
    PDF falls back to the installed fonts."""
    rules = []
    for family, folder, file, weight, style in faces:
        path = folder / file
        if not path.is_file():
            log.warning("PDF: bundled font %s is missing; the PDF falls back to the installed fonts", path)
            continue
        rules.append(
            f'@font-face {{ font-family: "{family}"; src: url("{path.resolve().as_uri()}")'
            f' format("truetype"); font-weight: {weight}; font-style: {style}; }}'
        )
    return "\n".join(rules)


@functools.cache
def _print_style() -> tuple[Any, Any]:
    """The brief's print stylesheet as weasyprint parsed it and the font configuration it loaded its
    fonts into: once per process, not once per PDF (parsing the stylesheet inline cost about a tenth
    of each render; a configuration per PDF loads the system's fonts again and shapes the text cold).

    weasyprint copies each ``@font-face`` file into a temporary folder it deletes only when the
    configuration is collected, which a cached one never is: :func:`release_fonts` deletes it, at
    exit and when a PDF child stops."""
    weasyprint = load_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    # Known before its folder exists (weasyprint makes it while the CSS is parsed): a PDF child
    # stopped in the middle of parsing still deletes the copies made so far.
    _FONT_COPIES[os.getpid()] = fonts
    atexit.register(release_fonts)
    css = weasyprint.CSS(
        string=font_faces_css() + "\n" + brief_css(for_pdf=True),
        url_fetcher=make_url_fetcher((ASSETS_DIR, *PDF_FONT_DIRS)),
        font_config=fonts,
    )
    return css, fonts


# The font configuration whose temporary folder holds the copies, by the process that made it (a
# forked child inherits the parent's configuration, and must not delete the parent's copies).
_FONT_COPIES: dict[int, Any] = {}


def release_fonts() -> None:
    """Delete the copies of the PDF's fonts made by this process's configuration (:func:`_print_style`)."""
    fonts = _FONT_COPIES.pop(os.getpid(), None)
    folder = getattr(fonts, "_folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def print_stylesheet() -> Any:
    """The brief's print stylesheet, parsed once per process (see :func:`_print_style`)."""
    return _print_style()[0]


def render_pdf_document(
    html: str, *, base_dir: Path | None = None, variant: str | None = PDF_VARIANT
) -> PdfResult:
    """The PDF of ``html`` with its page counts (body and appendix), in the brief's print stylesheet.

    ``base_dir`` resolves relative URLs; whatever it is, only data: URLs and files in
    the project's asset folder are ever loaded.  ``variant`` is weasyprint's PDF variant: the
    tagged PDF/UA-1 by default (None, an untagged PDF, only to measure what tagging costs).
    """
    weasyprint = load_weasyprint()

    base = (base_dir or ASSETS_DIR).resolve()
    try:
        with gc_paused():
            document = weasyprint.HTML(
                string=html, base_url=base.as_uri() + "/", url_fetcher=make_url_fetcher()
            ).render(stylesheets=[print_stylesheet()], font_config=_print_style()[1])
            document.metadata.authors = document.metadata.authors or [PDF_AUTHOR]
            document.metadata.lang = document.metadata.lang or "en"
            pages = document.pages
            appendix = next((i for i, page in enumerate(pages) if APPENDIX_ANCHOR in page.anchors), None)
            pdf = document.write_pdf(pdf_variant=variant)
    except Exception as exc:  # weasyprint raises many kinds; name the output
        raise RenderError(f"brief.pdf: weasyprint failed: {exc}") from exc
    if not pdf:
        raise RenderError("brief.pdf: weasyprint produced no output")
    pages = len(document.pages)
    return PdfResult(bytes(pdf), pages, appendix if appendix is not None else pages)


# ---------------------------------------------------------------------------
# Writing an issue folder
# ---------------------------------------------------------------------------


def _write(path: Path, data: bytes) -> Path:
    return write_atomic(path, data)


def write_pdf(folder: Path, result: PdfResult) -> Path:
    """The laid-out PDF into the issue folder."""
    return _write(folder / FILES["pdf"], result.data)


Writer = Callable[[Brief, Mapping[str, "RenderedChart"], Path, Mapping[str, str] | None], dict[str, Path]]


def _write_html(
    brief: Brief, charts: Mapping[str, RenderedChart], folder: Path, names: Mapping[str, str] | None
) -> dict[str, Path]:
    page, fragment = render_html(brief, charts, names=names), render_fragment(brief, charts, names=names)
    return {
        "html": _write(folder / FILES["html"], page.encode()),
        "fragment": _write(folder / FILES["fragment"], fragment.encode()),
    }


def _write_md(
    brief: Brief, charts: Mapping[str, RenderedChart], folder: Path, names: Mapping[str, str] | None
) -> dict[str, Path]:
    chart_folder = folder / CHARTS_DIR
    chart_folder.mkdir(exist_ok=True)
    for key, chart in sorted(charts.items()):
        _write(chart_folder / f"{key}.png", chart.png)
    return {"md": _write(folder / FILES["md"], render_markdown(brief, charts, names=names).encode())}


def _write_pdf(
    brief: Brief, charts: Mapping[str, RenderedChart], folder: Path, names: Mapping[str, str] | None
) -> dict[str, Path]:
    html = render_html(brief, charts, for_pdf=True, names=names)
    return {"pdf": write_pdf(folder, render_pdf_document(html))}


# The renderers of the formats in generator.formats.FORMATS (the one registry of output formats).
WRITERS: dict[str, Writer] = {"html": _write_html, "md": _write_md, "pdf": _write_pdf}
assert set(WRITERS) == set(FORMATS), "every output format has one writer"


def write_outputs(
    brief: Brief,
    charts: Mapping[str, RenderedChart],
    folder: Path,
    formats: Sequence[str],
    *,
    names: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write the requested formats into the issue folder; returns format → path.

    "html" writes brief.html and fragment.html (key "fragment"); "md" writes brief.md and
    charts/<key>.png; "pdf" writes brief.pdf.  ``names``: symbol → display name.
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise RenderError(
            f"--formats: unknown format(s) {', '.join(unknown)} (expected {', '.join(FORMATS)})"
        )
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in (f for f in FORMATS if f in formats):
        written.update(WRITERS[name](brief, charts, folder, names))
    log.info("wrote %s into %s", ", ".join(sorted(written)), folder)
    return written
