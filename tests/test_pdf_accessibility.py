"""The PDF is tagged for accessibility (PDF/UA-1) and names its title, language and author.

Read back with pypdf: the document information, the catalog (/Lang, /MarkInfo,
/StructTreeRoot, /ViewerPreferences) and the XMP metadata that declares PDF/UA.
"""

from __future__ import annotations

import base64
import io
import re
from collections import Counter
from typing import Any

import pytest
from brief_factory import NAMES, make_brief, make_charts, make_pdf
from pypdf import PdfReader

from generator.render import PDF_AUTHOR, render_html, render_pdf_document
from tests.conftest import SAMPLE_BRIEF_GROUP

pytestmark = SAMPLE_BRIEF_GROUP


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(make_brief(), make_charts(), for_pdf=True, names=NAMES)


@pytest.fixture(scope="module")
def reader() -> PdfReader:
    return PdfReader(io.BytesIO(make_pdf().data))  # the PDF of ``html``


def _structure(node: Any, roles: Counter[str], alts: list[str]) -> None:
    """Count the structure roles (/S) under ``node`` and collect the figures' /Alt texts."""
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, list):
        for child in node:
            _structure(child, roles, alts)
        return
    if not hasattr(node, "get"):
        return  # a marked-content id
    role = node.get("/S")
    if role:
        roles[str(role)] += 1
        if role == "/Figure":
            alts.append(str(node.get("/Alt", "")))
    if node.get("/K") is not None:
        _structure(node["/K"], roles, alts)


def test_title_author_and_language(reader: PdfReader) -> None:
    brief = make_brief()
    info = reader.metadata
    assert info is not None
    assert info.title is not None and info.title.startswith(brief.title)
    assert "week of November 16, 2026" in info.title
    assert info.author == brief.title  # <meta name="author" content="{{ brief.title }}">
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en"  # from <html lang="en">
    assert (
        catalog["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    )  # title, not file name, in the window


def test_tagged_with_a_structure_tree(reader: PdfReader, html: str) -> None:
    catalog = reader.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"].value is True
    roles: Counter[str] = Counter()
    alts: list[str] = []
    _structure(catalog["/StructTreeRoot"], roles, alts)
    assert roles["/H1"] == 1 and roles["/H2"] >= 4  # the brief's title and its sections
    # The print edition leaves the full figures to the web, and lists its sources and their health
    tables = len(re.findall(r"<table\b", html))
    assert roles["/Table"] == tables and (roles["/TH"] > 0) == (tables > 0) and roles["/P"] > 0
    assert roles["/L"] >= html.count("<ul") and roles["/LI"] >= html.count("<li")
    assert len(alts) == html.count("<img"), alts  # every image is a figure with its alt text


def test_image_is_a_figure_with_its_alt_text() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'
    )
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    html = (
        '<!DOCTYPE html><html lang="en"><head><title>Chart</title></head><body><h1>Chart</h1>'
        f'<figure><img src="{source}" alt="Bar chart: &lt;b&gt; rose 2%"></figure></body></html>'
    )
    roles: Counter[str] = Counter()
    alts: list[str] = []
    _structure(
        PdfReader(io.BytesIO(render_pdf_document(html).data)).trailer["/Root"]["/StructTreeRoot"], roles, alts
    )
    assert alts == ["Bar chart: <b> rose 2%"]


def test_xmp_declares_pdf_ua_1(reader: PdfReader) -> None:
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfuaid:part="1"' in xmp
    assert "<dc:title>" in xmp and make_brief().title in xmp


def test_author_falls_back_when_the_html_names_none() -> None:
    html = '<!DOCTYPE html><html lang="en"><head><title>Note</title></head><body><h1>Note</h1></body></html>'
    reader = PdfReader(io.BytesIO(render_pdf_document(html).data))
    assert reader.metadata is not None and reader.metadata.author == PDF_AUTHOR


def test_author_from_the_html_and_language_when_missing() -> None:
    html = (
        '<!DOCTYPE html><html><head><meta name="author" content="Desk &amp; Co">'
        "<title>Note</title></head><body><h1>Note</h1><p>Text.</p></body></html>"
    )
    reader = PdfReader(io.BytesIO(render_pdf_document(html).data))
    assert reader.metadata is not None and reader.metadata.author == "Desk & Co"
    assert reader.trailer["/Root"]["/Lang"] == "en"
