"""The render worker: charts and the PDF from child processes give the same bytes as in process."""

from __future__ import annotations

from generator.analysis import analyse
from generator.charts import render_charts
from generator.config import load_config
from generator.pdfworker import RenderWorker
from generator.render import render_html, render_pdf_document
from generator.sources.snapshot import load_sample
from tests.conftest import ROOT


def test_the_worker_draws_and_lays_out_what_the_parent_would() -> None:
    snapshot = load_sample()
    brief = analyse(snapshot, load_config(ROOT / "feeds.yaml"), (), as_of=snapshot.as_of)
    with RenderWorker() as worker:
        assert worker.alive("pdf")
        worker.start(brief)
        charts = worker.charts()
        result = worker.pdf()
    here = render_charts(brief.charts)
    assert {k: (c.svg, c.png) for k, c in charts.items()} == {k: (c.svg, c.png) for k, c in here.items()}
    alone = render_pdf_document(render_html(brief, here, for_pdf=True))
    assert (result.pages, result.body_pages) == (alone.pages, alone.body_pages)
    assert result.data[:5] == b"%PDF-" and len(result.data) > 50_000


def test_a_dead_worker_falls_back_to_the_parent() -> None:
    snapshot = load_sample()
    brief = analyse(snapshot, load_config(ROOT / "feeds.yaml"), (), as_of=snapshot.as_of)
    with RenderWorker() as worker:
        for child in worker._children.values():
            assert child is not None
            child[1].kill()
            child[1].join()
        worker.start(brief)
        charts = worker.charts()
        assert worker.pdf().data[:5] == b"%PDF-"
    assert set(charts) == {c.key for c in brief.charts}


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
    from dataclasses import replace

    snapshot = load_sample()
    brief = analyse(snapshot, load_config(ROOT / "feeds.yaml"), (), as_of=snapshot.as_of)
    early = (replace(brief.charts[0], alt="An earlier draft of the alt text."), brief.charts[1])
    with RenderWorker() as worker:
        worker.draw(early)
        worker.start(brief)
        charts = worker.charts()
        assert worker.pdf().data[:5] == b"%PDF-"
    here = render_charts(brief.charts)
    assert {k: (c.svg, c.png) for k, c in charts.items()} == {k: (c.svg, c.png) for k, c in here.items()}
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
