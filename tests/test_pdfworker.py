"""The render worker: charts and the PDF from child processes give the same bytes as in process.

The parent's side of the main comparison is the sample as the tests build it once per process
(tests/sample_brief.py: its charts drawn and its PDF laid out here).  The fallbacks and the charts
drawn ahead are shown on a small hand-built brief with two charts (tests/publish_fixtures.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from publish_fixtures import make_brief
from sample_brief import build_sample, sample_pdf

from generator.analysis import analyse
from generator.charts import render_charts
from generator.config import load_config
from generator.models import Brief, RenderedChart
from generator.pdfworker import RenderWorker
from generator.sources.snapshot import load_sample
from tests.conftest import ROOT, SAMPLE_BRIEF_GROUP

pytestmark = SAMPLE_BRIEF_GROUP


def drawings(charts: dict[str, RenderedChart]) -> dict[str, tuple[str, bytes]]:
    return {key: (chart.svg, chart.png) for key, chart in charts.items()}


def test_the_worker_draws_and_lays_out_what_the_parent_would() -> None:
    sample = build_sample()
    with RenderWorker() as worker:
        assert worker.alive("charts") and worker.alive("pdf")
        worker.start(sample.brief, sample.names)
        charts = worker.charts()
        result = worker.pdf()
    assert drawings(dict(charts)) == drawings(dict(sample.charts))  # sample.charts: drawn in this process
    alone = sample_pdf()  # laid out in this process
    assert (result.pages, result.body_pages) == (alone.pages, alone.body_pages)
    assert result.data[:5] == b"%PDF-" and len(result.data) > 50_000


def small_brief() -> Brief:
    return make_brief(date(2026, 11, 20), chart_keys=("rut-vs-spx", "sectors-week"))


def test_a_dead_worker_falls_back_to_the_parent() -> None:
    brief = small_brief()
    with RenderWorker() as worker:
        for child in worker._children.values():
            assert child is not None
            child[1].kill()
            child[1].join()
        worker.start(brief)
        charts = worker.charts()
        assert worker.pdf().data[:5] == b"%PDF-"
    assert set(charts) == {c.key for c in brief.charts}


def test_a_worker_without_pdf_draws_the_charts_and_the_parent_lays_out_a_pdf_asked_for() -> None:
    brief = small_brief()
    with RenderWorker(pdf=False) as worker:
        assert worker.alive("charts") and not worker.alive("pdf")  # weasyprint is not even loaded
        worker.start(brief)
        charts = worker.charts()
        assert worker.pdf().data[:5] == b"%PDF-"  # not waited for from the child: laid out here
    assert drawings(dict(charts)) == drawings(render_charts(brief.charts))


def test_the_renderer_imports_alone_in_a_fresh_process() -> None:
    """The PDF child imports generator.render first: it must not run into an import cycle."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import generator.render"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_the_body_charts_are_told_early_and_equal_the_briefs() -> None:
    snapshot = load_sample()
    told: list[tuple[object, ...]] = []
    brief = analyse(
        snapshot, load_config(ROOT / "feeds.yaml"), (), as_of=snapshot.as_of, on_charts=told.append
    )
    assert len(told) == 1 and told[0] == brief.charts  # same specs, titles and alt text included
    assert [c.key for c in brief.charts] == ["rut-vs-spx", "sectors-week"]


def test_charts_drawn_ahead_are_the_ones_sent_back_and_a_changed_spec_is_drawn_again() -> None:
    brief = small_brief()
    early = (replace(brief.charts[0], alt="An earlier draft of the alt text."), brief.charts[1])
    with RenderWorker() as worker:
        worker.draw(early)
        worker.start(brief)
        charts = worker.charts()
        assert worker.pdf().data[:5] == b"%PDF-"
    assert drawings(dict(charts)) == drawings(render_charts(brief.charts))
    assert "An earlier draft" not in charts[brief.charts[0].key].svg


def test_the_brief_and_its_charts_unpickle_with_the_models_alone() -> None:
    """The worker reads the brief, the parent the charts: neither imports the analysis or matplotlib."""
    import pickle
    import pickletools

    snapshot = load_sample()
    brief = analyse(snapshot, load_config(ROOT / "feeds.yaml"), (), as_of=snapshot.as_of)
    from generator.models import RenderedChart

    chart = RenderedChart("k", "Title", "Alt.", "<svg></svg>", b"\x89PNG")
    for value in (brief, chart):
        named = {
            arg
            for op, arg, _ in pickletools.genops(pickle.dumps(value))
            if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE")
            and isinstance(arg, str)
            and arg.startswith("generator.")
        }
        assert named == {"generator.models"}, named
