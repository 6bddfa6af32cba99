"""The bundled sample built through the real pipeline, and the golden files made from it.

``build_sample`` runs what ``python -m generator build --data sample`` runs before writing
files: the sample snapshot cut at the reporting week, the week's headlines, the analysis and
narrative, and the charts.  ``sample_pdf`` lays out its PDF.  Both are cached: each test process
builds the sample once and lays out its PDF once.  ``golden_outputs`` renders brief.html and
brief.md from it, with the stylesheet and the chart drawings left out (they are not wording, and
they would bury every reviewable change), so a change of wording shows up as a diff of tests/golden/.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from generator.analysis import analyse, reporting_week
from generator.build import headlines_for_week, snapshot_until
from generator.charts import render_charts
from generator.config import load_config
from generator.models import Brief, Config, RenderedChart, Snapshot
from generator.render import PdfResult, render_html, render_markdown, render_pdf_document
from generator.sources.snapshot import load_sample

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = ROOT / "tests" / "golden"
SAMPLE_AS_OF = date(2026, 11, 20)
# Series a degraded week lacks: a comparator, both ends of the size ladder, both volatility gauges, credit.
MISSING = frozenset({"^IXIC", "IWC", "OEF", "^VIX", "^RVX", "HYG", "IEF"})
# How "Not covered" names them: one alone by name, several of one role as a group by ticker.
MISSING_NAMED = (
    "the size-ladder funds IWC and OEF: no data",
    "Nasdaq Composite (^IXIC): no data",
    "the volatility indices ^VIX and ^RVX: no data",
    "the credit funds HYG and IEF: no data",
)
SVG_LEFT_OUT = "<!-- chart drawing left out of the golden file -->"
CSS_LEFT_OUT = "/* stylesheet left out of the golden file */"
_SVG = re.compile(r"(<svg\b[^>]*>).*?</svg>", re.DOTALL)
_STYLE = re.compile(r"(<style\b[^>]*>).*?</style>", re.DOTALL)


@dataclass(frozen=True, eq=False)
class SampleBuild:
    config: Config
    brief: Brief
    charts: Mapping[str, RenderedChart]

    @property
    def names(self) -> dict[str, str]:
        return {i.symbol: i.name for i in self.config.universe}


@functools.cache
def build_sample(missing: frozenset[str] = frozenset()) -> SampleBuild:
    """The sample's brief for the week ending 2026-11-20; ``missing`` series are taken out first."""
    snapshot = load_sample()
    if missing:
        snapshot = replace(snapshot, series={k: v for k, v in snapshot.series.items() if k not in missing})
    return build_week(snapshot)


def build_week(snapshot: Snapshot) -> SampleBuild:
    """The brief of ``snapshot`` (the sample, changed as a test wants) for the sample's week."""
    config = load_config(ROOT / "feeds.yaml")
    week = reporting_week(SAMPLE_AS_OF, config.brief.week_ends_on)
    snapshot = snapshot_until(snapshot, week[1])
    headlines = headlines_for_week(snapshot, config, week, None)
    brief = analyse(snapshot, config, headlines, as_of=SAMPLE_AS_OF)
    return SampleBuild(config, brief, render_charts(brief.charts))


@functools.cache
def sample_pdf() -> PdfResult:
    """The sample brief's PDF as a build lays it out (the print HTML, with display names)."""
    return pdf_of(build_sample())


def pdf_of(build: SampleBuild) -> PdfResult:
    """The PDF of ``build`` as a build lays it out."""
    return render_pdf_document(render_html(build.brief, build.charts, for_pdf=True, names=build.names))


def for_golden(html: str) -> str:
    """``html`` without its stylesheet and chart drawings (each ``<svg>`` keeps its tag and aria-label)."""
    html = _SVG.sub(lambda m: f"{m.group(1)}{SVG_LEFT_OUT}</svg>", html)
    return _STYLE.sub(lambda m: f"{m.group(1)}{CSS_LEFT_OUT}</style>", html)


def golden_outputs() -> dict[str, str]:
    """File name in tests/golden/ → its expected text, freshly rendered from the sample."""
    sample = build_sample()
    return {
        "brief.html": for_golden(render_html(sample.brief, sample.charts, names=sample.names)),
        "brief.md": render_markdown(sample.brief, sample.charts, names=sample.names),
    }


def naming(items: tuple[str, ...] | list[str], symbol: str) -> list[str]:
    """The items that name ``symbol`` as a ticker of its own (not inside another: ^VIX is not ^RVX)."""
    pattern = re.compile(rf"(?<![\w^]){re.escape(symbol)}(?!\w)")
    return [item for item in items if pattern.search(item)]
