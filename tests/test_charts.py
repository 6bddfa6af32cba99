"""Charts: every kind renders, bytes are deterministic, SVG is safe to inline, PNG is email-ready."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib
import pytest
from brief_factory import make_chart_specs, make_charts
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath

from generator.charts import (
    FIGSIZE,
    FONTS,
    PNG_DPI,
    STYLE,
    RenderedChart,
    inline_svg,
    render_chart,
    render_charts,
)
from generator.errors import RenderError
from generator.models import ChartSpec

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# One worker runs this module, so its five charts are drawn once a run (~1 s), not once per worker.
pytestmark = pytest.mark.xdist_group("charts")


@pytest.fixture(scope="module")
def charts() -> dict[str, RenderedChart]:
    return make_charts()  # render_charts(make_chart_specs()), drawn once per test process


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data.startswith(PNG_SIGNATURE)
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def test_every_kind_renders(charts: dict[str, RenderedChart]) -> None:
    specs = make_chart_specs()
    assert list(charts) == [s.key for s in specs]
    assert {s.kind for s in specs} == {"line", "bar", "hbar"}
    for spec in specs:
        chart = charts[spec.key]
        assert (chart.key, chart.title, chart.alt) == (spec.key, spec.title, spec.alt)
        assert chart.svg.startswith("<svg ") and chart.svg.rstrip().endswith("</svg>")
        assert chart.png.startswith(PNG_SIGNATURE)
        # the chart's own title and source line are drawn (SVG text stays text)
        assert f">{spec.title.replace('&', '&amp;')}</text>" in chart.svg
        assert spec.source in chart.svg


def test_rendering_twice_gives_identical_bytes(charts: dict[str, RenderedChart]) -> None:
    first = charts  # drawn earlier in this process
    second = render_charts(make_chart_specs())
    for key, chart in first.items():
        assert chart.svg == second[key].svg, key
        assert chart.png == second[key].png, key


def test_svg_is_safe_to_inline(charts: dict[str, RenderedChart]) -> None:
    for chart in charts.values():
        svg = chart.svg
        assert "<?xml" not in svg and "<!DOCTYPE" not in svg
        assert "<metadata" not in svg and "<style" not in svg  # no global stylesheet leaking into the page
        assert "<script" not in svg.lower()
        assert re.search(r"(?:src|href)=\"(?!#)", svg) is None  # only in-document references
        assert 'role="img"' in svg
        assert f'aria-label="{chart.alt.replace("&", "&amp;")}"' in svg
        assert f"<title>{chart.alt.replace('&', '&amp;')}</title>" in svg


def test_svg_ids_are_unique_across_charts(charts: dict[str, RenderedChart]) -> None:
    ids: list[str] = []
    for chart in charts.values():
        own = re.findall(r'\sid="([^"]+)"', chart.svg)
        assert all(i.startswith(f"{chart.key}-") for i in own)
        for ref in re.findall(r'(?:url\(#|href="#)([^)"]+)', chart.svg):
            assert ref in own, f"{chart.key}: dangling reference #{ref}"
        ids += own
    assert len(ids) == len(set(ids))


def test_alt_text_is_escaped() -> None:
    spec = replace(make_chart_specs()[2], key="evil", alt='Bars "quoted" <b>&</b>')
    svg = render_chart(spec).svg
    assert 'aria-label="Bars &quot;quoted&quot; &lt;b&gt;&amp;&lt;/b&gt;"' in svg
    assert "<title>Bars &quot;quoted&quot; &lt;b&gt;&amp;&lt;/b&gt;</title>" in svg
    assert "<b>" not in svg


def test_png_is_2x_and_has_no_software_or_date_metadata(charts: dict[str, RenderedChart]) -> None:
    for chart in charts.values():
        chunks = png_chunks(chart.png)
        width, height = struct.unpack(">II", chunks[0][1][:8])
        assert (width, height) == (round(FIGSIZE[0] * PNG_DPI), round(FIGSIZE[1] * PNG_DPI))
        text = b" ".join(body for kind, body in chunks if kind in (b"tEXt", b"iTXt", b"zTXt"))
        assert b"Software" not in text and b"matplotlib" not in text.lower()
        assert not any(kind == b"tIME" for kind, _ in chunks)
        zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))  # well-formed


def test_none_values_render_as_gaps_and_na_labels() -> None:
    x = ("2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20")
    line = ChartSpec("gaps", "Gaps", "A line with gaps.", "line", x, (("A", (1.0, None, 3.0, None, 2.0)),))
    empty = ChartSpec("empty", "Empty", "No values at all.", "line", x, (("A", (None,) * 5),))
    bar = ChartSpec(
        "bar-na", "Bars", "Bars with a gap.", "bar", ("a", "b"), (("1W", (1.0, None)),), "Return (%)"
    )
    hbar = ChartSpec(
        "hbar-na", "Sectors", "All missing.", "hbar", ("a", "b"), (("1W", (None, None)),), "Return (%)"
    )
    for spec in (line, empty, bar, hbar):
        chart = render_chart(spec)
        assert chart.svg.startswith("<svg") and chart.png.startswith(PNG_SIGNATURE)
    assert ">n/a</text>" in render_chart(bar).svg


def test_percent_axes_and_signed_bar_labels(charts: dict[str, RenderedChart]) -> None:
    assert re.search(r">-?\d+(\.\d+)?%</text>", charts["rates"].svg)  # "Yield (%)" → percent ticks
    assert not re.search(r">\d+(\.\d+)?%</text>", charts["rut-vs-spx"].svg)  # rebased level, no percent
    sectors = charts["sectors"].svg
    assert ">+3.42%</text>" in sectors and ">-1.21%</text>" in sectors
    # sorted: the largest value is drawn first (top), the missing one last
    assert (
        sectors.index(">Financials</text>")
        < sectors.index(">Energy</text>")
        < sectors.index(">Utilities</text>")
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "pie"}, "unknown kind"),
        ({"key": "../etc"}, "file-safe"),
        ({"series": ()}, "no series"),
        ({"series": (("A", (1.0,)),)}, "has 1 values"),
        ({"x": ("not a date",) * 261}, "ISO dates"),
    ],
)
def test_bad_specs_raise_render_error(change: dict[str, object], message: str) -> None:
    spec = replace(make_chart_specs()[0], **change)  # type: ignore[arg-type]
    with pytest.raises(RenderError, match=message):
        render_charts([spec])


def test_duplicate_keys_are_refused() -> None:
    spec = make_chart_specs()[2]
    with pytest.raises(RenderError, match="duplicate"):
        render_charts([spec, spec])


def test_global_matplotlib_state_is_untouched() -> None:
    before = dict(matplotlib.rcParams)
    render_chart(make_chart_specs()[3])
    assert dict(matplotlib.rcParams) == before
    code = "import sys, generator.charts; print('matplotlib.pyplot' in sys.modules)"
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"


def test_inline_svg_refuses_non_svg() -> None:
    with pytest.raises(RenderError, match="no <svg>"):
        inline_svg("<html></html>", "k", "alt")


def test_long_category_labels_fit_left_of_the_bars() -> None:
    label = "Utilities & Communication (PSCU)"
    spec = ChartSpec(
        "long-labels", "Sectors", "Bars with a long label.", "hbar", ("Energy (PSCE)", label),
        (("1W", (1.0, 2.0)),), "Return (%)",
    )  # fmt: skip
    svg = render_chart(spec).svg
    anchor = re.search(r'x="([\d.]+)"[^>]*>' + re.escape(label.replace("&", "&amp;")) + "</text>", svg)
    assert anchor, "label not drawn as text"
    style: Any = STYLE
    with matplotlib.rc_context(style):
        width = TextPath((0, 0), label, size=STYLE["ytick.labelsize"], prop=FontProperties(family=FONTS))
    assert float(anchor.group(1)) >= width.get_extents().width  # right-aligned label starts inside the figure
