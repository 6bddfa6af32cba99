"""Rendering: one Jinja environment; HTML, Markdown and PDF outputs.

Templates format figures (through :mod:`generator.formatting`); they never compute them.
The "Sources and methods" rows and the footnote numbers beside every figure come from
:func:`source_rows`, so a number cannot appear without its source.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

import jinja2

from generator import formatting
from generator.charts import RenderedChart
from generator.errors import RenderError
from generator.issue import CHARTS_DIR, FILES
from generator.models import Brief, Figure, Provenance

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
CSS_TEMPLATE = "brief.css"
SAMPLE_BANNER = "SAMPLE DATA — illustrative, not market data"
FORMATS = ("html", "md", "pdf")
SIGNED_UNITS = ("pct", "pp", "bp")
FLAG_LABELS = {"positive": "Positive", "negative": "Negative", "warning": "Caution"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()<>#|~])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_LEADING = re.compile(r"^(\d*)([-+=]|(?<=\d)[.)])(?=\s|$)")


def make_env(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """The one Jinja environment: autoescape on, undefined variables are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(["html", "xml", "htm"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = formatting.fmt
    env.filters["fmt_date"] = formatting.fmt_date
    env.filters["long_date"] = formatting.fmt_long_date
    env.filters["source_line"] = formatting.source_line
    env.filters["md"] = md_escape
    env.filters["md_url"] = md_url
    env.filters["safe_link"] = safe_link
    env.filters["sign_class"] = sign_class
    env.filters["flag_class"] = lambda flag: f"flag-{flag}" if flag in FLAG_LABELS else ""
    env.filters["flag_label"] = lambda flag: FLAG_LABELS.get(flag, "")
    env.filters["check_mark"] = lambda met: {True: "✓", False: "✗"}.get(met, "—")
    env.filters["check_word"] = lambda met: {True: "met", False: "not met"}.get(met, "unknown")
    env.filters["check_class"] = lambda met: {True: "met", False: "unmet"}.get(met, "unknown")
    env.filters["day"] = day
    env.filters["svg_data_uri"] = svg_data_uri
    env.filters["utc"] = utc_stamp
    env.tests["figure"] = lambda value: isinstance(value, Figure)
    return env


# ---------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------


def md_escape(text: object) -> str:
    """Plain text made inert in Markdown: one line, specials backslash-escaped, no raw HTML.

    Escapes ``\\ ` * _ [ ] ( ) < > # | ~``, an ``&`` that would start an entity, and a
    leading list / heading marker ("- ", "+ ", "1. ", "=").
    """
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    escaped = _MD_ENTITY.sub(r"\\&", escaped)
    return _MD_LEADING.sub(r"\1\\\2", escaped)


def md_url(url: str) -> str:
    """A link destination for ``[text](<url>)``: no spaces, angle brackets or controls."""
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


def safe_link(link: str | None) -> str:
    """The link when it is a plain http(s) URL with a host, else ""."""
    if not link or any(ord(c) < 33 or c in "<>\"'`\\" for c in link):
        return ""
    parts = urlsplit(link)
    return link if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def sign_class(figure: Figure) -> str:
    """``pos`` / ``neg`` for available signed figures (returns, spreads, changes), else ""."""
    if not figure.available or figure.unit not in SIGNED_UNITS or figure.value is None:
        return ""
    return "pos" if figure.value > 0 else "neg" if figure.value < 0 else ""


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date() if value.tzinfo else value.date()
    return value.isoformat()


def svg_data_uri(chart: RenderedChart) -> str:
    """The chart's SVG as a data: URL (the PDF draws it as an image: much faster than inline)."""
    return "data:image/svg+xml;base64," + base64.b64encode(chart.svg.encode("utf-8")).decode("ascii")


def utc_stamp(moment: datetime) -> str:
    """``2026-11-21 06:15 UTC`` (a naive time is taken as UTC)."""
    aware = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.strftime("%Y-%m-%d %H:%M UTC")


# ---------------------------------------------------------------------------
# Sources and methods
# ---------------------------------------------------------------------------

SourceKey = tuple[tuple[str, ...], str, "date | None", str, str]


@dataclass(frozen=True)
class SourceRow:
    number: int
    symbols: str
    window: str
    last_bar: str
    provider: str
    method: str
    stale: bool
    figures: int  # how many figures in the brief cite this row


def source_key(provenance: Provenance) -> SourceKey:
    p = provenance
    return (p.symbols, p.window, p.last_bar, p.provider, p.method)


def _window_rank(window: str) -> tuple[int, int, str]:
    fixed = {"1D": 0, "1W": 1, "1M": 2, "3M": 3, "QTD": 4, "YTD": 5, "1Y": 6, "52W": 7}
    if window in fixed:
        return (fixed[window], 0, window)
    days = re.fullmatch(r"(\d+)d", window)
    return (8, int(days.group(1)), window) if days else (9, 0, window)


def _source_order(key: SourceKey) -> tuple[Any, ...]:
    symbols, window, last_bar, provider, method = key
    return (
        tuple(s.lstrip("^") for s in symbols),
        symbols,
        _window_rank(window),
        last_bar or date.min,
        provider,
        method,
    )


def source_rows(brief: Brief) -> tuple[tuple[SourceRow, ...], dict[SourceKey, int]]:
    """One row per distinct (symbols, window, last bar, provider, method), sorted; key → row number."""
    stale: dict[SourceKey, bool] = {}
    counts: dict[SourceKey, int] = {}
    for figure in brief.figures():
        key = source_key(figure.provenance)
        stale[key] = stale.get(key, False) or figure.stale
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts, key=_source_order)
    rows = tuple(
        SourceRow(
            number=n,
            symbols=", ".join(key[0]) or "—",
            window=key[1],
            last_bar=formatting.fmt_date(key[2]),
            provider=key[3],
            method=key[4],
            stale=stale[key],
            figures=counts[key],
        )
        for n, key in enumerate(ordered, start=1)
    )
    return rows, {key: n for n, key in enumerate(ordered, start=1)}


def _context(brief: Brief, charts: Mapping[str, RenderedChart], **extra: Any) -> dict[str, Any]:
    rows, numbers = source_rows(brief)

    def ref(figure: Figure) -> int:
        return numbers[source_key(figure.provenance)]

    return {
        "brief": brief,
        "charts": charts,
        "sources": rows,
        "ref": ref,
        "sample_banner": SAMPLE_BANNER,
        **extra,
    }


# ---------------------------------------------------------------------------
# HTML and Markdown
# ---------------------------------------------------------------------------


def brief_css() -> str:
    """The screen + print stylesheet (also used by the site)."""
    try:
        return (TEMPLATES_DIR / CSS_TEMPLATE).read_text(encoding="utf-8")
    except OSError as exc:
        raise RenderError(f"{TEMPLATES_DIR / CSS_TEMPLATE}: cannot read the stylesheet ({exc})") from exc


@functools.cache
def _env() -> jinja2.Environment:
    """The environment the renderers share (templates compile once per process)."""
    return make_env()


def _render(template: str, context: Mapping[str, Any]) -> str:
    try:
        return _env().get_template(template).render(context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"{template}: {exc}") from exc


def render_html(brief: Brief, charts: Mapping[str, RenderedChart], *, for_pdf: bool = False) -> str:
    """Standalone HTML: inline CSS, inline SVG charts, no external requests."""
    return _render("brief.html", _context(brief, charts, css=brief_css(), for_pdf=for_pdf))


def render_fragment(brief: Brief, charts: Mapping[str, RenderedChart]) -> str:
    """The brief's ``<article>`` alone, for the site's issue pages."""
    return _render("fragment.html", _context(brief, charts, for_pdf=False))


def render_markdown(brief: Brief, charts: Mapping[str, RenderedChart], *, chart_dir: str = CHARTS_DIR) -> str:
    """GitHub-flavoured Markdown; charts as ``![alt](<chart_dir>/<key>.png)``."""
    return _render("brief.md", _context(brief, charts, chart_dir=chart_dir.rstrip("/")))


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


def fetch_allowed(url: str, allowed_dir: Path = ASSETS_DIR) -> bool:
    """Only ``data:`` URLs and local files inside ``allowed_dir`` may be loaded into a PDF."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return True
    if scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = Path(url2pathname(parts.path)).resolve()
    return path.is_relative_to(allowed_dir.resolve()) and path.is_file()


def make_url_fetcher(allowed_dir: Path = ASSETS_DIR) -> Callable[..., Any]:
    """A weasyprint URL fetcher that refuses (and logs) everything :func:`fetch_allowed` refuses."""
    import weasyprint.urls as wurls

    def refuse(url: str) -> RenderError:
        log.warning("PDF: refused to fetch %.200s (only data: URLs and %s are allowed)", url, allowed_dir)
        return RenderError(f"PDF: refused to fetch {url[:200]!r}")

    if hasattr(wurls, "URLFetcher"):

        class LockedURLFetcher(wurls.URLFetcher):  # type: ignore[misc,name-defined]
            def fetch(self, url: str, headers: Any = None) -> Any:
                if not fetch_allowed(url, allowed_dir):
                    raise refuse(url)
                return super().fetch(url, headers)

        return LockedURLFetcher(timeout=5, allowed_protocols=("data", "file"), allow_redirects=False)  # type: ignore[no-any-return]

    def fetch(url: str, timeout: int = 5, ssl_context: Any = None) -> Any:  # weasyprint < 67
        if not fetch_allowed(url, allowed_dir):
            raise refuse(url)
        return wurls.default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)

    return fetch


def render_pdf(html: str, *, base_dir: Path | None = None) -> bytes:
    """The PDF of ``html`` (from :func:`render_html` with ``for_pdf=True``).

    ``base_dir`` resolves relative URLs; whatever it is, only data: URLs and files in
    the project's asset folder are ever loaded.
    """
    import weasyprint

    base = (base_dir or ASSETS_DIR).resolve()
    try:
        document = weasyprint.HTML(string=html, base_url=base.as_uri() + "/", url_fetcher=make_url_fetcher())
        pdf = document.write_pdf()
    except Exception as exc:  # weasyprint raises many kinds; name the output
        raise RenderError(f"brief.pdf: weasyprint failed: {exc}") from exc
    if not pdf:
        raise RenderError("brief.pdf: weasyprint produced no output")
    return bytes(pdf)


# ---------------------------------------------------------------------------
# Writing an issue folder
# ---------------------------------------------------------------------------


def _write(path: Path, data: bytes) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def write_outputs(
    brief: Brief, charts: Mapping[str, RenderedChart], folder: Path, formats: Sequence[str]
) -> dict[str, Path]:
    """Write the requested formats into the issue folder; returns format → path.

    "html" writes brief.html and fragment.html (key "fragment"); "md" writes brief.md and
    charts/<key>.png; "pdf" writes brief.pdf.
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise RenderError(
            f"--formats: unknown format(s) {', '.join(unknown)} (expected {', '.join(FORMATS)})"
        )
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "html" in formats:
        written["html"] = _write(folder / FILES["html"], render_html(brief, charts).encode())
        written["fragment"] = _write(folder / FILES["fragment"], render_fragment(brief, charts).encode())
    if "md" in formats:
        chart_folder = folder / CHARTS_DIR
        chart_folder.mkdir(exist_ok=True)
        for key, chart in sorted(charts.items()):
            _write(chart_folder / f"{key}.png", chart.png)
        written["md"] = _write(folder / FILES["md"], render_markdown(brief, charts).encode())
    if "pdf" in formats:
        html = render_html(brief, charts, for_pdf=True)
        written["pdf"] = _write(folder / FILES["pdf"], render_pdf(html))
    log.info("wrote %s into %s", ", ".join(sorted(written)), folder)
    return written
