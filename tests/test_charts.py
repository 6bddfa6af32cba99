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


def _text_boxes(spec: ChartSpec) -> tuple[Any, list[tuple[str, Any]]]:
    """The figure ``render_chart`` would save and every text drawn on it, with its box in pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from generator.charts import _draw

    style: Any = STYLE
    with matplotlib.rc_context(style):
        fig = _draw(spec)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()  # type: ignore[no-untyped-call]
        renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
        texts = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(matplotlib.text.Text)]
    return fig, [(text, box) for text, box in texts if text]


@pytest.mark.parametrize(
    "values",
    [
        (3.42, -0.64, 2.57, -11.21, 3.18, None),
        (48.5, 0.2, 1.0, 2.0, 3.0, 4.0),
        (-0.1, -27.0, -3.0, -2.0, -1.0, -0.5),
    ],
    ids=["both-signs", "one-long-bar", "all-negative"],
)
def test_every_bar_value_is_printed_inside_the_plot_whatever_the_range(
    values: tuple[float | None, ...],
) -> None:
    """The labels beside horizontal bars are points wide whatever the data: the axis makes room for
    the widest on each side (a +5.98% label ran off a 4.6-inch chart when the room was a fixed share
    of the data's range)."""
    sectors = ("Financials", "Health care", "Industrials", "Energy", "Regional banks", "Utilities")
    spec = ChartSpec("bars", "Sectors", "Bars.", "hbar", sectors, (("1W", values),), "Return (%)", "S")
    fig, texts = _text_boxes(spec)
    plot = fig.axes[0].get_window_extent()
    labels = [(text, box) for text, box in texts if re.fullmatch(r"[+-]\d+\.\d\d%", text)]
    assert len(labels) == sum(v is not None for v in values)
    for text, box in labels:
        assert plot.x0 - 0.5 <= box.x0 and box.x1 <= plot.x1 + 0.5, (text, box, plot)


def test_a_long_title_is_set_smaller_to_fit_and_one_too_long_even_then_is_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = make_chart_specs()[0]
    fits = "S&P SmallCap 600 Equal Weight against S&P 500, rebased to 100"
    fig, texts = _text_boxes(replace(base, title=fits))
    title = next(box for text, box in texts if text == fits)
    assert title.x1 <= fig.bbox.x1 and not caplog.records
    assert next(t for t in fig.texts if t.get_text() == fits).get_fontsize() < 12.5
    normal = next(t for t in _text_boxes(base)[0].texts if t.get_text() == base.title)
    assert normal.get_fontsize() == 12.5  # a title that fits keeps its size
    endless = "A title far too long for any chart " * 4
    render_chart(replace(base, title=endless))
    assert [r.getMessage() for r in caplog.records] == [
        f"chart rut-vs-spx: {endless!r} is too long for the chart's width and is cut at its edge"
    ]


def test_chart_text_is_legible_on_a_phone_and_not_oversized_on_a_desktop() -> None:
    """Chart text is drawn in points on a figure of FIGSIZE inches that the page scales to its
    column: on a 375-px phone (12-px padding each side) the tick labels are at least 9.5 CSS px
    (they were ~8 px on the 5.6-inch figure), and on a desktop, where the chart is shown at the
    stylesheet's max-width, the title is at most 22 px."""
    css = (Path(__file__).parents[1] / "templates" / "brief.css").read_text(encoding="utf-8")
    max_rem = float(re.search(r"svg\.chart-svg \{[^}]*max-width: ([\d.]+)rem", css).group(1))  # type: ignore[union-attr]
    natural = FIGSIZE[0] * 96  # CSS px: the SVG's width is given in points, 72 to the inch
    phone, desktop = (375 - 2 * 12) / natural, min(max_rem * 16, 800) / natural
    tick_px = STYLE["ytick.labelsize"] * 96 / 72
    assert tick_px * phone >= 9.5, tick_px * phone
    assert 12.5 * 96 / 72 * desktop <= 22
