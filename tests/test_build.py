"""The build stage list: degraded inputs, no look-ahead, atomic issue folders, backfill."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from generator.backfill import backfill
from generator.build import build_from_snapshot, past_week_ends, snapshot_until
from generator.errors import PublishError
from generator.issue import read_meta
from generator.models import Config, FeedCapture, Snapshot, SourceHealth
from generator.sources.snapshot import read_snapshot


@pytest.fixture(scope="module")
def few(sample: Snapshot) -> Snapshot:
    """The benchmark, its proxy and a comparator: enough for a brief, where a test's point is the issue
    folders, their snapshots and weeks rather than what the brief says."""
    return replace(sample, series={s: sample.series[s] for s in ("^RUT", "IWM", "^GSPC")})


def test_past_week_ends_are_fridays_oldest_first() -> None:
    ends = past_week_ends(date(2026, 11, 22), 3, "friday")
    assert ends == [date(2026, 11, 6), date(2026, 11, 13), date(2026, 11, 20)]


def test_snapshot_until_drops_every_later_bar(sample: Snapshot) -> None:
    cut = snapshot_until(sample, date(2026, 6, 5))
    assert cut.as_of == date(2026, 6, 5)
    assert all(s.last_bar <= date(2026, 6, 5) for s in cut.series.values())
    assert cut.series["^RUT"].last_bar == date(2026, 6, 5)
    # The health rows are the cut's too: a past week's brief shows no bar after its week.
    rows = {h.name: h for h in cut.health if h.kind == "symbol"}
    assert rows["^RUT"].newest == date(2026, 6, 5) and rows["^RUT"].count == len(cut.series["^RUT"].frame)
    assert rows["^RUT"].count < next(h.count for h in sample.health if h.name == "^RUT")
    assert all(h.newest is None or h.newest <= date(2026, 6, 5) for h in rows.values())
    # The feeds were read in November: none of their items was out by then.
    assert {(h.count, h.newest) for h in cut.health if h.kind == "feed"} == {(0, None)}
    # Read for the week after (a week later): each counts its items dated by then; read for the
    # week itself: as read, the Saturday's items of a Friday's week included, whatever as_of says
    # (the build's clock when the benchmark is missing).
    feeds = {h.name: h for h in sample.health if h.kind == "feed"}
    later_read = {
        n: replace(f, fetched_at=datetime(2026, 11, 28, 12, tzinfo=UTC)) for n, f in sample.feeds.items()
    }
    read_later = {
        h.name: h
        for h in snapshot_until(replace(sample, feeds=later_read), date(2026, 11, 20)).health
        if h.kind == "feed"
    }
    assert (read_later["nyt-business"].newest, read_later["google-news-small-caps"].newest) == (
        date(2026, 11, 19),
        date(2026, 11, 20),
    )
    assert 0 < read_later["google-news-small-caps"].count < feeds["google-news-small-caps"].count
    assert read_later["cnbc-investing"] == feeds["cnbc-investing"]  # nothing after the 20th to leave out
    for snap in (sample, replace(sample, as_of=date(2026, 11, 21))):
        own = [h for h in snapshot_until(snap, date(2026, 11, 20)).health if h.kind == "feed"]
        assert own == list(feeds.values()) and feeds["nyt-business"].newest == date(2026, 11, 21)
    # A series without a bar by then: no bars, no newest (the brief lists it as missing).
    iwm = sample.series["IWM"]
    late = replace(sample, series={**sample.series, "IWM": replace(iwm, frame=iwm.frame.loc["2026-07-01":])})
    assert next(h for h in snapshot_until(late, date(2026, 6, 5)).health if h.name == "IWM").count == 0


def test_a_past_week_keeps_only_its_own_next_weeks_calendar(sample: Snapshot) -> None:
    """The sample's calendar is of the week after 2026-11-20: a brief of an earlier week lists none of
    it, nor the calendar sources' failures met reading it."""
    assert sample.events and all(date(2026, 11, 20) < e.day <= date(2026, 11, 27) for e in sample.events)
    failed = replace(sample, calendar_failures=(("BLS", "HTTP 503"),))
    assert snapshot_until(failed, date(2026, 11, 20)).events == sample.events
    assert snapshot_until(failed, date(2026, 11, 20)).calendar_failures == (("BLS", "HTTP 503"),)
    earlier = snapshot_until(failed, date(2026, 11, 13))
    assert earlier.events == () and earlier.calendar_failures == ()
    late = replace(sample, events=(*sample.events, replace(sample.events[0], day=date(2026, 12, 4))))
    assert snapshot_until(late, date(2026, 11, 20)).events == sample.events  # the week after next: not yet


def test_degraded_sources_are_named_and_their_figures_left_out(
    config: Config, sample: Snapshot, tmp_path: Path
) -> None:
    """A failed feed and a stale non-essential symbol: the brief builds and says so."""
    series = dict(sample.series)
    series["PSCE"] = series["PSCE"].until(date(2026, 10, 30))  # stale: two weeks old
    feeds = dict(sample.feeds)
    failed_feed = "fed-press"
    feeds[failed_feed] = FeedCapture(
        failed_feed, feeds[failed_feed].url, b"", "live", None, "failed", "HTTP 500"
    )
    health = (
        *[h for h in sample.health if h.name != failed_feed],
        SourceHealth("feed", failed_feed, "failed", "live", 0, None, "HTTP 500 Internal Server Error"),
    )
    snapshot = replace(sample, series=series, feeds=feeds, health=health)
    result = build_from_snapshot(config, snapshot, as_of=sample.as_of, out=tmp_path, formats=["html", "md"])
    brief = result.brief
    assert any(w.startswith("Invesco S&P SmallCap Energy ETF (PSCE): stale") for w in brief.not_covered)
    psce = [f for f in brief.facts() if "PSCE" in f.provenance.symbols]
    assert psce and all(not f.available for f in psce)
    html = (result.folder / "brief.html").read_text(encoding="utf-8")
    assert failed_feed in html and "HTTP 500" in html
    md = (result.folder / "brief.md").read_text(encoding="utf-8")
    assert "PSCE" in md and "stale" in md


def test_issue_folder_holds_a_rebuildable_snapshot(config: Config, few: Snapshot, tmp_path: Path) -> None:
    result = build_from_snapshot(config, few, as_of=few.as_of, out=tmp_path, formats=["md"])
    meta = read_meta(result.folder)
    assert meta.is_sample and meta.as_of == date(2026, 11, 20)
    again = read_snapshot(result.folder / "snapshot")
    assert set(again.series) == set(few.series)
    assert again.as_of == few.as_of and again.built_at == few.built_at


@pytest.mark.parametrize("kind", ["good", "sample"])
def test_a_stale_build_never_replaces_a_better_issue_of_its_week(
    config: Config, few: Snapshot, tmp_path: Path, kind: str
) -> None:
    """A stale brief is named by the benchmark's last bar, the week before: it must not overwrite that
    week's issue, good or sample (a backfill past the data replaced the sample's issue with one that
    has no figures).  ``--force`` does, and a fresh build replaces the stale one again."""
    fresh = few if kind == "sample" else replace(few, is_sample=False, notes=())
    first = build_from_snapshot(config, fresh, as_of=date(2026, 11, 13), out=tmp_path, formats=["md"])
    assert first.folder.name == "2026-11-13" and not read_meta(first.folder).is_stale
    before = (first.folder / "brief.md").read_bytes()
    # ^RUT and IWM (its proxy) both stop a week early: the benchmark is stale.
    series = {k: v.until(date(2026, 11, 13)) if k in ("^RUT", "IWM") else v for k, v in fresh.series.items()}
    stale = replace(fresh, series=series)
    with pytest.raises(PublishError, match=rf"holds a {kind} issue of the week ending 2026-11-13.*--force"):
        build_from_snapshot(config, stale, as_of=date(2026, 11, 20), out=tmp_path, formats=["md"])
    assert (first.folder / "brief.md").read_bytes() == before
    assert [p.name for p in (tmp_path / "briefs").iterdir()] == ["2026-11-13"]  # no staging left behind
    forced = build_from_snapshot(
        config, stale, as_of=date(2026, 11, 20), out=tmp_path, formats=["md"], force=True
    )
    assert forced.folder == first.folder and read_meta(forced.folder).is_stale
    again = build_from_snapshot(config, fresh, as_of=date(2026, 11, 13), out=tmp_path, formats=["md"])
    assert again.folder == first.folder and not read_meta(again.folder).is_stale


def test_a_week_has_one_issue_the_one_through_its_latest_session(
    config: Config, few: Snapshot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A run that saw only Thursday's bars wrote the week's issue as 2026-11-19; the next run, with
    Friday's, wrote 2026-11-20 beside it: one week, two issues on the site, in the feed and in the
    readers' mail.  The later issue replaces the earlier one (a WARNING names it); an issue through
    Thursday does not replace the one through Friday without --force."""
    fresh = replace(few, is_sample=False, notes=())
    thursday, friday = (
        date(2026, 11, 19),
        date(2026, 11, 20),
    )  # the week's last bars: Thursday's, then Friday's
    early = build_from_snapshot(
        config, snapshot_until(fresh, thursday), as_of=friday, out=tmp_path, formats=["md"]
    )
    assert early.folder.name == "2026-11-19" and read_meta(early.folder).week_start == date(2026, 11, 16)
    last_week = build_from_snapshot(config, fresh, as_of=date(2026, 11, 13), out=tmp_path, formats=["md"])
    with caplog.at_level("WARNING"):
        full = build_from_snapshot(config, fresh, as_of=date(2026, 11, 20), out=tmp_path, formats=["md"])
    assert sorted(p.name for p in (tmp_path / "briefs").iterdir()) == ["2026-11-13", "2026-11-20"]
    assert f"{early.folder}: removed, an issue of the same week; the week's issue is now {full.folder}" in (
        caplog.text
    )
    with pytest.raises(PublishError, match=r"2026-11-20: holds the issue of the week of 2026-11-16 through"
                       r" 2026-11-20; this build, through 2026-11-19, is not written \(--force"):  # fmt: skip
        build_from_snapshot(
            config, snapshot_until(fresh, thursday), as_of=friday, out=tmp_path, formats=["md"]
        )
    assert sorted(p.name for p in (tmp_path / "briefs").iterdir()) == ["2026-11-13", "2026-11-20"]
    forced = build_from_snapshot(
        config, snapshot_until(fresh, thursday), as_of=friday, out=tmp_path, formats=["md"], force=True
    )
    assert sorted(p.name for p in (tmp_path / "briefs").iterdir()) == ["2026-11-13", forced.folder.name]
    assert last_week.folder.exists()


def test_a_stale_build_does_not_replace_an_issue_whose_meta_is_damaged(
    config: Config, few: Snapshot, tmp_path: Path
) -> None:
    """A truncated meta.json may belong to a good issue: a stale or sample build refuses to replace
    it (naming the file), a good build or ``--force`` does."""
    fresh = replace(few, is_sample=False, notes=())
    first = build_from_snapshot(config, fresh, as_of=date(2026, 11, 13), out=tmp_path, formats=["md"])
    meta = first.folder / "meta.json"
    meta.write_text(meta.read_text(encoding="utf-8")[:40], encoding="utf-8")
    (first.folder / "kept.txt").write_text("still here", encoding="utf-8")
    with pytest.raises(
        PublishError, match=r"meta\.json: unreadable meta\.json .*does not replace that issue"
    ):
        build_from_snapshot(config, few, as_of=date(2026, 11, 13), out=tmp_path, formats=["md"])
    assert (first.folder / "kept.txt").is_file()
    again = build_from_snapshot(config, fresh, as_of=date(2026, 11, 13), out=tmp_path, formats=["md"])
    assert not read_meta(again.folder).is_sample and not (again.folder / "kept.txt").exists()


def test_a_failed_render_leaves_no_half_written_issue(
    config: Config, few: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import generator.render

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(generator.render, "write_outputs", boom)
    with pytest.raises(RuntimeError):
        build_from_snapshot(config, few, as_of=few.as_of, out=tmp_path, formats=["md"])
    leftovers = list((tmp_path / "briefs").iterdir())
    assert leftovers == []


def test_backfill_builds_each_week_without_look_ahead(config: Config, few: Snapshot, tmp_path: Path) -> None:
    """Each worker lays its PDF out with the fonts the parent loaded before forking them: the PDF is
    the one a build of that week alone lays out."""
    ends = past_week_ends(few.as_of, 2, "friday")  # two weeks: one per worker process
    items = backfill(config, few, ends, out=tmp_path / "run", formats=["md", "pdf"], jobs=2)
    assert [i.week_end for i in items] == ends
    assert not [i for i in items if i.error]
    for end in ends:
        folder = tmp_path / "run" / "briefs" / end.isoformat()
        snap = read_snapshot(folder / "snapshot")
        assert max(s.last_bar for s in snap.series.values()) <= end
        assert read_meta(folder).as_of == end
        alone = build_from_snapshot(config, few, as_of=end, out=tmp_path / "alone", formats=["pdf"])
        assert (folder / "brief.pdf").read_bytes() == alone.files["pdf"].read_bytes(), end


def test_backfill_runs_of_consecutive_weeks_reuse_each_weeks_core_and_build_the_same_issues(
    config: Config, sample: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker builds three consecutive weeks: the previous week is computed for the first only
    (the next two read the core their predecessor's build returned), and every file is the one a
    build of that week alone writes.  Without a PDF, no PDF is laid out, not even to warm up."""
    from generator.analysis import brief as analysis
    from generator.backfill import runs

    assert runs(list(range(5)), 2) == [[0, 1, 2], [3, 4]] and runs([1], 2) == [[1]]  # type: ignore[arg-type]
    computed = []
    real = analysis.previous_week
    monkeypatch.setattr(
        analysis, "previous_week", lambda snap, cfg, start: computed.append(start) or real(snap, cfg, start)
    )
    from generator import render

    laid_out: list[str] = []  # an issue without a PDF warms no PDF renderer up either
    monkeypatch.setattr(render, "render_pdf_document", lambda html, **kw: laid_out.append(html))
    ends = past_week_ends(date(2026, 10, 30), 3, "friday")
    items = backfill(config, sample, ends, out=tmp_path / "run", formats=["html", "md"], jobs=1)
    assert not [i for i in items if i.error] and len(computed) == 1 and not laid_out
    for end in ends[1:]:
        alone = build_from_snapshot(config, sample, as_of=end, out=tmp_path / "alone", formats=["html", "md"])
        for name in ("brief.html", "brief.md", "email.txt", "meta.json"):
            assert (tmp_path / "run" / "briefs" / end.isoformat() / name).read_bytes() == (
                alone.folder / name
            ).read_bytes(), (end, name)
    assert len(computed) == 3  # each week built alone computes its previous week


def test_backfill_that_fails_before_its_workers_leaves_the_collector_as_it_was(
    config: Config, few: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from generator import backfill as module

    monkeypatch.setattr(module, "_preload", lambda formats: None)

    def fail() -> None:
        weeks = (d for d in [date(2026, 11, 20)])  # not a Sequence: len() fails after the heap is frozen
        with pytest.raises(TypeError):
            backfill(config, few, weeks, out=tmp_path)  # type: ignore[arg-type]
        assert module._JOB is None

    gc.unfreeze()  # a caller that froze nothing finds nothing frozen
    fail()
    assert gc.get_freeze_count() == 0
    gc.freeze()  # a caller that froze its own heap (as this test run does) finds it still frozen
    frozen = gc.get_freeze_count()
    fail()
    assert gc.get_freeze_count() >= frozen > 0


def test_sample_weeks_read_right_at_the_edges(config: Config, sample: Snapshot) -> None:
    """A record set before the week's last session still says where the week ended against it;
    a flat week reads "were little changed"; a week without a takeaway heads its email with the
    headline sentence."""
    from generator.analysis import analyse
    from generator.formatting import plain
    from generator.issue import headline_text

    mid = analyse(snapshot_until(sample, date(2026, 9, 11)), config, (), as_of=date(2026, 9, 11))
    record = next(t for t in mid.takeaways if t.kind == "record")
    assert plain(record.prose) == (
        "The Russell 2000 closed at a record 2,422.88 on Wednesday 2026-09-09, 0.67% above its previous"
        " record of 2026-09-08 (data back to November 2022)."  # the Tuesday before, in the same week
    )
    performance = " ".join(plain(p) for p in mid.body[0].paragraphs)
    assert "The Russell 2000 ended the week 1.59% below that record and 17.06% above its 52-week low." in (
        performance
    )
    flat = analyse(snapshot_until(sample, date(2026, 11, 6)), config, (), as_of=date(2026, 11, 6))
    assert plain(flat.lead).startswith("Small caps were little changed (-0.07%) this week")
    assert flat.takeaways == () and headline_text(flat) == plain(flat.lead).rstrip(".")
    # Said, not left blank: the takeaways box tells the reader nothing else stood out, in every format.
    assert flat.quiet_week.startswith("A quiet week beyond the headline") and not mid.quiet_week
    from generator.render import render_html, render_markdown
    from generator.render_email import render_email

    html, md = render_html(flat, {}, for_pdf=True), render_markdown(flat, {})
    email_html, email_text = render_email(flat, view_url=None)
    for text in (html, md, email_html, email_text):
        assert "A quiet week beyond the headline" in " ".join(text.split())


def _ignore_sigterm() -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _nap(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def test_a_stopped_backfill_kills_a_worker_that_outlives_sigterm(caplog: pytest.LogCaptureFixture) -> None:
    """Stopped (SIGTERM, Ctrl-C), the backfill's parent waited on its pool's workers for good: once a
    worker outlived the SIGTERM ``Pool.terminate`` sent, and the stopped command and that worker
    stayed.  Workers get a grace period to unwind, then SIGKILL; other children are left alone."""
    import multiprocessing
    import time

    from generator.backfill import _terminate

    context = multiprocessing.get_context("fork")
    bystander = context.Process(target=_nap, args=(30,))
    bystander.start()
    others = set(multiprocessing.active_children())
    polite = context.Pool(2)
    polite.map_async(_nap, [30, 30])
    time.sleep(0.3)
    with caplog.at_level("WARNING"):
        assert _terminate(polite, others, grace=5.0)
    assert "did not stop" not in caplog.text
    stubborn = context.Pool(2, initializer=_ignore_sigterm)
    stubborn.map_async(_nap, [30, 30])
    time.sleep(0.3)  # their handlers set, their naps begun
    started = time.monotonic()
    with caplog.at_level("WARNING"):
        assert _terminate(stubborn, others, grace=0.5)
    assert time.monotonic() - started < 5
    assert caplog.text.count("did not stop on SIGTERM within 0.5 s: killed") == 2
    assert bystander.is_alive()
    bystander.kill()
    bystander.join()
