"""Charts: draw each :class:`ChartSpec` as inline-safe SVG (HTML, PDF) and PNG (Markdown, email).

matplotlib's object API only (no pyplot state), the Agg canvas, and every style applied
inside ``matplotlib.rc_context`` so importing this module changes nothing.  Output bytes
are deterministic: no dates or software versions in the files, and SVG ids are derived
from a fixed salt and the chart key (so several charts can sit in one HTML page).

Speed (five charts in about a third of a second): fixed margins instead of tight layout,
unhinted text, and the PNG written with a 64-colour palette (the charts sit on white, so an
alpha channel would carry nothing).
"""

from __future__ import annotations

import html
import io
import logging
import math
import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.ticker import Formatter, MaxNLocator
from PIL import Image

from generator.errors import RenderError
from generator.formatting import fmt_value
from generator.models import ChartSpec, RenderedChart

log = logging.getLogger(__name__)

KINDS = ("line", "bar", "hbar")
FIGSIZE = (4.6, 3.0)  # inches; one size for every chart
PNG_DPI = 240  # 1104 px wide: sharp at ~550 px in an email (2x)
PNG_COLOURS = 64  # a palette PNG: the charts are a few flat colours and their anti-aliased edges
PNG_COMPRESSION = 6  # zlib's default: on palette data as fast as level 2 on RGB, and a third smaller
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
POSITIVE, NEGATIVE = "#0072B2", "#D55E00"
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
FONTS = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"]
# Plot area in figure fractions: room for the title and legend above, the source below.
BAR_LABEL_SIZE = 8.5  # points: the value printed beside each horizontal bar
MARGINS = {"left": 0.08, "right": 0.97, "top": 0.76, "bottom": 0.16}

STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": FONTS,
    "font.size": 10.5,
    "text.color": INK,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.labelsize": 9.5,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.frameon": False,
    "legend.fontsize": 10,
    "lines.linewidth": 1.6,
    "svg.fonttype": "none",  # text stays text: small, selectable, searchable
    "text.hinting": "no_hinting",  # the autohinter is most of the raster time; at 200 dpi it buys nothing
    "path.simplify": True,
    "path.simplify_threshold": 0.3,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}
SVG_METADATA: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}


def render_charts(specs: Sequence[ChartSpec]) -> dict[str, RenderedChart]:
    """Draw every spec; keys are the specs' keys, in the given order."""
    charts: dict[str, RenderedChart] = {}
    for spec in specs:
        if spec.key in charts:
            raise RenderError(f"chart {spec.key!r}: duplicate chart key")
        charts[spec.key] = render_chart(spec)
    return charts


def render_chart(spec: ChartSpec) -> RenderedChart:
    _validate(spec)
    style: Any = {**STYLE, "svg.hashsalt": f"smallcap-brief:{spec.key}"}  # ids depend on the key only
    with matplotlib.rc_context(style):
        fig = _draw(spec)
        svg_buf = io.StringIO()
        fig.savefig(svg_buf, format="svg", metadata=SVG_METADATA)
        png = _png(fig)
    svg = inline_svg(svg_buf.getvalue(), spec.key, spec.alt)
    log.debug("chart %s: %d bytes SVG, %d bytes PNG", spec.key, len(svg), len(png))
    return RenderedChart(spec.key, spec.title, spec.alt, svg, png)


def _png(fig: MplFigure) -> bytes:
    """The figure as a palette PNG at :data:`PNG_DPI`: no text chunks, no time stamp.

    The colours are reduced to :data:`PNG_COLOURS` (octree, no dithering): a chart's flat fills,
    lines and the anti-aliased steps between them fit, and the file is about a third of an RGB
    one (~40 KB instead of ~130 KB at 1120 × 660), which the email and the weekly archive carry.
    """
    fig.set_dpi(PNG_DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    width, height = canvas.get_width_height()
    rgba = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    image = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    palette = image.convert("RGB").quantize(
        colors=PNG_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    palette.save(out, format="png", compress_level=PNG_COMPRESSION)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------


def _validate(spec: ChartSpec) -> None:
    if spec.kind not in KINDS:
        raise RenderError(
            f"chart {spec.key!r}: unknown kind {spec.kind!r} (expected one of {', '.join(KINDS)})"
        )
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", spec.key):
        raise RenderError(f"chart {spec.key!r}: key must be file-safe (letters, digits, - and _)")
    if not spec.series:
        raise RenderError(f"chart {spec.key!r}: no series")
    for label, values in spec.series:
        if len(values) != len(spec.x):
            raise RenderError(
                f"chart {spec.key!r}: series {label!r} has {len(values)} values for {len(spec.x)} x"
            )


def _draw(spec: ChartSpec) -> MplFigure:
    fig = MplFigure(figsize=FIGSIZE)
    ax = fig.add_subplot()
    percent = _is_percent(spec.y_label)
    drawers: dict[str, Callable[[Axes, ChartSpec, bool], None]] = {
        "line": _draw_line,
        "bar": _draw_bar,
        "hbar": _draw_hbar,
    }
    drawers[spec.kind](ax, spec, percent)
    fig.subplots_adjust(**_margins(ax, spec))
    title_size = _fitting_size(spec, spec.title, 12.5, bold=True)
    fig.text(0.015, 0.965, spec.title, fontsize=title_size, fontweight="bold", va="top", ha="left")
    if spec.y_label:  # the value axis' label, read before the plot (legible at phone width)
        fig.text(0.015, 0.885, spec.y_label, fontsize=_fitting_size(spec, spec.y_label, 10), color=MUTED,
                 va="top", ha="left")  # fmt: skip
    if spec.source:
        fig.text(0.015, 0.025, spec.source, fontsize=_fitting_size(spec, spec.source, 9), color=MUTED,
                 va="bottom", ha="left")  # fmt: skip
    if len(spec.series) > 1:
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01),
            ncol=len(spec.series),
            borderaxespad=0.0,
            handlelength=1.4,
            columnspacing=1.2,
        )
    return fig


def _margins(ax: Axes, spec: ChartSpec) -> dict[str, float]:
    """Fixed margins (fast and deterministic); the left one fits the widest tick label."""
    margins = dict(MARGINS)
    if len(spec.series) == 1:
        margins["top"] = 0.84  # no legend row
    if spec.kind == "hbar":
        labels = list(spec.x)
    else:
        axis = ax.yaxis
        labels = axis.get_major_formatter().format_ticks(list(axis.get_majorticklocs()))
    label_inches = _text_inches(labels, STYLE["ytick.labelsize"]) + 0.16
    margins["left"] = min(0.55, max(margins["left"], label_inches / FIGSIZE[0]))
    return margins


LINE_INCHES = (0.97 - 0.015) * FIGSIZE[0]  # a line of text across the figure, between its margins
SMALLEST_TEXT = 8.0  # points: a title, axis label or source line is made no smaller to fit


def _fitting_size(spec: ChartSpec, text: str, size: float, *, bold: bool = False) -> float:
    """``size``, or the smaller size at which ``text`` fits across the figure (a long configured name
    in a title, say), down to :data:`SMALLEST_TEXT`; text that does not fit even then is cut at the
    figure's edge, with a WARNING naming the chart."""
    width = _text_inches([text], size, bold=bold)
    if width <= LINE_INCHES:
        return size
    fitted = math.floor(size * LINE_INCHES / width * 4) / 4  # quarter points: widths scale about linearly
    while fitted > SMALLEST_TEXT and _text_inches([text], fitted, bold=bold) > LINE_INCHES:
        fitted -= 0.25
    if fitted <= SMALLEST_TEXT and _text_inches([text], SMALLEST_TEXT, bold=bold) > LINE_INCHES:
        log.warning("chart %s: %r is too long for the chart's width and is cut at its edge", spec.key, text)
    return max(SMALLEST_TEXT, fitted)


def _text_inches(labels: Sequence[str], size: float, *, bold: bool = False) -> float:
    """The width of the widest label in inches, measured with the chart font (no drawing)."""
    font = get_font(findfont(FontProperties(family=FONTS, weight="bold" if bold else "normal")))
    font.set_size(size, 72)  # 72 dpi: one pixel is one point
    widest = 0.0
    for label in labels:
        font.set_text(label, 0.0, flags=LoadFlags.NO_HINTING)  # as drawn: the style turns hinting off
        widest = max(widest, font.get_width_height()[0] / 64)  # 26.6 fixed point
    return widest / 72


def _is_percent(label: str) -> bool:
    lowered = label.lower()
    return "%" in lowered or "percent" in lowered


def _values(values: Sequence[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


class _TickFormatter(Formatter):
    """Ticks with one number of decimals across the axis (the fewest that tell them apart)."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.decimals = 0

    def set_locs(self, locs: list[float]) -> None:
        super().set_locs(locs)
        values = [float(v) for v in locs]
        self.decimals = next(
            (d for d in range(4) if all(abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)) for v in values)), 4
        )

    def __call__(self, x: float, pos: int | None = None) -> str:
        text = f"{x:,.{self.decimals}f}"
        return ("0" if text.strip("-0.,") == "" else text) + self.suffix


def _value_axis(axis: Any, percent: bool) -> None:
    axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(_TickFormatter("%" if percent else ""))


def _reference(ax: Axes, spec: ChartSpec, *, vertical: bool = False) -> None:
    if spec.reference is None:
        return
    style: dict[str, Any] = {"color": MUTED, "linewidth": 0.9, "zorder": 1.5}
    style["linestyle"] = "--" if spec.kind == "line" else "-"
    if vertical:
        ax.axvline(spec.reference, **style)
    else:
        ax.axhline(spec.reference, **style)


def _draw_line(ax: Axes, spec: ChartSpec, percent: bool) -> None:
    try:
        dates = np.array([date.fromisoformat(x) for x in spec.x], dtype="datetime64[D]")
    except ValueError as exc:
        raise RenderError(f"chart {spec.key!r}: line charts need ISO dates on x ({exc})") from exc
    for label, values in spec.series:
        ax.plot(dates, _values(values), label=label)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator, show_offset=False)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(formatter)
    if len(dates):
        ax.set_xlim(dates[0], dates[-1])
    ax.grid(axis="x", visible=False)
    _value_axis(ax.yaxis, percent)
    _reference(ax, spec)


def _draw_bar(ax: Axes, spec: ChartSpec, percent: bool) -> None:
    n = len(spec.series)
    width = 0.8 / n
    positions = np.arange(len(spec.x), dtype=float)
    for i, (label, values) in enumerate(spec.series):
        offsets = positions - 0.4 + width * (i + 0.5)
        arr = _values(values)
        present = ~np.isnan(arr)
        ax.bar(
            offsets[present], arr[present], width=width * 0.92, label=label, color=PALETTE[i % len(PALETTE)]
        )
        for x in offsets[~present]:
            ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7.5, color=MUTED, rotation=90)
    ax.set_xticks(positions, list(spec.x))
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="x", visible=False)
    _value_axis(ax.yaxis, percent)
    _reference(ax, spec)


def _draw_hbar(ax: Axes, spec: ChartSpec, percent: bool) -> None:
    _label, values = spec.series[0]
    order = sorted(range(len(spec.x)), key=lambda i: (values[i] is None, -(values[i] or 0.0), spec.x[i]))
    names = [spec.x[i] for i in order]
    arr = _values([values[i] for i in order])
    ypos = np.arange(len(names), dtype=float)[::-1]  # largest at the top
    colours = [NEGATIVE if v < 0 else POSITIVE for v in np.nan_to_num(arr)]
    present = ~np.isnan(arr)
    ax.barh(
        ypos[present],
        arr[present],
        height=0.66,
        color=[c for c, p in zip(colours, present, strict=True) if p],
    )
    unit = "pct" if percent else "level"
    texts = ["" if math.isnan(v) else fmt_value(float(v), unit, signed=True) for v in arr]
    low = min(0.0, float(np.nanmin(arr))) if present.any() else 0.0
    high = max(0.0, float(np.nanmax(arr))) if present.any() else 1.0
    # The value labels sit beside their bars, in points whatever the data's range: the axis is
    # widened by their width, as a fraction of the plot's, so the widest fits on either side.
    margins = _margins(ax, spec)
    plot_inches = (margins["right"] - margins["left"]) * FIGSIZE[0]
    gap = 0.015  # between a bar's end and its label (twice that beyond it), as a fraction of the axis
    right = _text_inches([t for t, v in zip(texts, arr, strict=True) if v >= 0], BAR_LABEL_SIZE)
    left = _text_inches([t for t, v in zip(texts, arr, strict=True) if v < 0], BAR_LABEL_SIZE)
    right_share = right / plot_inches + 3 * gap if right else 0.0
    left_share = left / plot_inches + 3 * gap if left else 0.0
    axis_span = max(high - low, 1e-9) / max(0.2, 1.0 - right_share - left_share)
    for y, v, text in zip(ypos, arr, texts, strict=True):
        if math.isnan(v):
            ax.text(0, y, " n/a", va="center", ha="left", fontsize=BAR_LABEL_SIZE, color=MUTED)
            continue
        pad = axis_span * gap * (1 if v >= 0 else -1)
        ax.text(
            v + pad,
            y,
            text,
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=BAR_LABEL_SIZE,
            color=INK,
        )
    ax.set_yticks(ypos, names)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlim(low - axis_span * left_share, high + axis_span * right_share)
    _value_axis(ax.xaxis, percent)
    _reference(ax, spec, vertical=True)


# ---------------------------------------------------------------------------
# SVG post-processing
# ---------------------------------------------------------------------------

_ID_RE = re.compile(r'\sid="([^"]+)"')


def inline_svg(svg: str, key: str, alt: str) -> str:
    """Make matplotlib's SVG safe and accessible inside an HTML page.

    Drops the XML declaration, DOCTYPE, metadata and the global ``<style>``; removes the
    unreferenced group ids and prefixes the rest with the chart key (unique in a page);
    adds ``role="img"``, ``aria-label`` and a ``<title>`` holding the alt text.
    """
    start = svg.find("<svg")
    if start < 0:
        raise RenderError(f"chart {key!r}: matplotlib produced no <svg> element")
    body = svg[start:]
    body = re.sub(r"\s*<metadata>.*?</metadata>", "", body, flags=re.S)
    body = re.sub(r'\s*<style type="text/css">.*?</style>', "", body, flags=re.S)
    body = re.sub(r"\s*<defs>\s*</defs>", "", body)
    body = re.sub(r'<g id="[^"]*"', "<g", body)
    for old in sorted(set(_ID_RE.findall(body))):
        new = f"{key}-{old}"
        body = body.replace(f'id="{old}"', f'id="{new}"').replace(f"#{old})", f"#{new})")
        body = body.replace(f'href="#{old}"', f'href="#{new}"')
    label = html.escape(alt, quote=True)
    open_end = body.index(">")
    attrs = (
        f' class="chart-svg" role="img" aria-label="{label}" focusable="false"'
        ' style="stroke-linejoin: round; stroke-linecap: butt"'
    )
    return f"{body[:open_end]}{attrs}>\n <title>{label}</title>{body[open_end + 1 :].rstrip()}\n"
