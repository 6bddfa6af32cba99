"""Editorial rules seen in the rendered brief: wholly unavailable rows and columns are dropped,
missing data is said once in "Not covered this week", and no stray "not available" remains."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from test_analysis_figures import FILES, make_config, make_snapshot

from generator.analysis import analyse
from generator.models import Figure, Provenance, Table
from generator.render import render_html, render_markdown, trimmed
from tests.conftest import SAMPLE_BRIEF_GROUP

PROV = Provenance(("X",), "1W", None, "provider", "A method.")


def fig(value: float | None) -> Figure:
    return Figure("k", "label", value, "pct", PROV)


def test_trimmed_drops_unavailable_rows_and_columns_only() -> None:
    table = Table("c", ("Series", "1W", "1M"), (("a", fig(1.0), fig(None)), ("b", fig(None), fig(None))))
    out = trimmed(table)
    assert out is not None and out.columns == ("Series", "1W") and [r[0] for r in out.rows] == ["a"]
    assert trimmed(Table("c", ("S", "1W"), (("a", fig(None)),))) is None
    words = Table("Data problems", ("Source", "Status"), (("^TNX", "stale"),))
    assert trimmed(words) == words


def test_missing_series_leave_no_empty_rows_and_are_said_once(shared_data: Path) -> None:
    symbols = {k: v for k, v in FILES.items() if k not in ("^IXIC", "^VIX")}
    brief = analyse(make_snapshot(shared_data, symbols), make_config(), (), as_of=date(2026, 2, 20))
    html = render_html(brief, {})
    md = render_markdown(brief, {})
    for text, said in (
        (html, "Nasdaq Composite (^IXIC): no data"),
        (md, "Nasdaq Composite (^IXIC): no data"),
    ):
        assert "not available" not in text.split("Appendix")[0]
        assert text.count(said) == 1
    # The returns table of the appendix has no Nasdaq row: all its figures were unavailable.
    appendix = md.split("# Appendix")[1]
    returns = appendix.split("**Returns by window (percent)**")[1].split("\n\n")[1]
    assert "Nasdaq" not in returns and "Russell 2000" in returns
    # Columns of words (a status, a detail) read from the left, their headings with them; figures
    # are set right.
    problems = appendix.split("**Data problems**")[1].split("\n\n")[1].splitlines()
    assert problems[:2] == ["| Source | Status | Detail |", "| --- | --- | --- |"], problems[:2]
    assert "| --- | ---: | ---: | ---: | ---: | ---: | ---: |" in returns
    table = html.split("<caption>Data problems</caption>")[1].split("</thead>")[0]
    assert 'class="num"' not in table


def test_facts_raise_for_a_key_the_analysis_never_computes() -> None:
    """A typo in a figure key is an error in the tests, not a silent "not in this data"."""
    import pytest

    from generator.narrative.words import Facts, MissingFact

    stale = Figure("credit.HYG-IEF", "credit", None, "ratio", PROV, stale=True)
    facts = Facts({"return.^RUT.1W": fig(1.0), "credit.HYG-IEF": stale}, unavailable={"^VIX"})
    assert facts.get("return.^RUT.1W") is not None
    assert facts.get("credit.HYG-IEF.1W") is None  # its family is unavailable: said in Not covered
    assert facts.get("vix.^VIX.level") is None  # its symbol is missing this week
    with pytest.raises(MissingFact):
        facts.get("return.^RUT.1w")  # a typo
    with pytest.raises(MissingFact):
        facts["spread.^RUT-^GSPC.1W"]  # never computed


def test_outlook_does_not_tell_again_a_crossing_the_takeaways_told() -> None:
    """RSI into overbought is a takeaway; the outlook then names only the other changed conditions,
    and never says "no condition changed" when the only change was told above.  A crossing of
    another threshold of the same reading is still told (the VIX back below 30 is not below 20)."""
    from generator.formatting import plain
    from generator.models import Check
    from generator.narrative.body import outlook

    def check(key: str, condition: str, met: bool, level: float | None = None) -> Check:
        return Check(condition, Figure(key, condition, 1.0, "pct", PROV), met, level)

    rsi_now, rsi_before = (
        check("rsi14.^RUT", "RSI overbought", True, 70.0),
        check("rsi14.^RUT", "RSI overbought", False, 70.0),
    )
    rate_now, rate_before = (
        check("change.^TNX.1M", "Yields up", False),
        check("change.^TNX.1M", "Yields up", True),
    )
    vix_now, vix_before = (
        check("vix.level", "VIX below 20", True, 20.0),
        check("vix.level", "VIX below 20", False, 20.0),
    )

    def said(told: set[tuple[str, float]], bear: list[Check], prev: list[Check]) -> str:
        return " ".join(plain(p) for p in outlook((), bear, (), prev, (), told).paragraphs)

    both = said(set(), [rsi_now, rate_now], [rsi_before, rate_before])
    # the one bear condition met is named with the count, its reading and that it is new (", since
    # last week" read as "met since last week"); the other change follows
    assert (
        "bear checklist 1 of 2 (conditions met, not forecasts)."
        " Bear condition met: “RSI overbought” (+1.00%), new this week." in both
    )
    assert both.count("RSI overbought") == 1 and "“Yields up” is no longer met" in both
    told = said({("rsi14.^RUT", 70.0)}, [rsi_now, rate_now], [rsi_before, rate_before])
    assert "RSI overbought" not in told and "“Yields up” is no longer met" in told
    only = said({("rsi14.^RUT", 70.0)}, [rsi_now], [rsi_before])
    assert "Since last week" not in only and "No condition changed" not in only
    assert "No condition changed since last week." in said(set(), [rsi_now], [rsi_now])
    # The takeaway told the VIX fell back below 30: that it is now below 20 is another crossing.
    assert "“VIX below 20” is now met" in said({("vix.level", 30.0)}, [vix_now], [vix_before])
    assert "VIX below 20" not in said({("vix.level", 20.0)}, [vix_now], [vix_before])


def test_the_article_follows_how_the_number_is_read() -> None:
    from generator.narrative.words import a_or_an, ordinal

    cases = {
        "8": "an", "11": "an", "18": "an", "80%": "an", "800": "an", "7": "a", "1": "a", "110": "a",
        "35%": "a", "5": "a", ordinal(8): "an", ordinal(11): "an", ordinal(7): "a", ordinal(2): "a",
    }  # fmt: skip
    assert {text: a_or_an(text) for text in cases} == cases


def test_a_source_marker_is_said_once_per_run_of_its_figures() -> None:
    """Two figures of one source a few words apart share the marker after the second ("fell 27 bp
    to 3.69%³"); another source, a clause's end or a long stretch of words keeps each its own."""
    from generator.models import Cite
    from generator.render import cited

    a, b, c = (Figure(k, k, 1.0, "pct", PROV) for k in ("a", "b", "c"))
    refs = {"a": 3, "b": 3, "c": 4}

    def marks(*prose: str | Cite) -> list[int | None]:
        return [mark for part, mark in cited(prose, lambda f: refs[f.key]) if isinstance(part, Cite)]

    assert marks("The yield fell ", Cite(a, "27 bp"), " to ", Cite(b, "3.69%"), ".") == [None, 3]
    assert marks("Within its range (", Cite(a, "17.4"), "–", Cite(b, "38.7%"), ")") == [None, 3]
    assert marks("Up ", Cite(a, "1%"), " and ", Cite(c, "2%"), " beside ", Cite(b, "3%")) == [3, 4, 3]
    assert marks(Cite(a, "1%"), " up. Then ", Cite(b, "2%")) == [3, 3]  # a new sentence
    assert marks(Cite(a, "1%"), "; ", Cite(b, "2%")) == [3, 3]  # a new clause
    assert marks(Cite(a, "1%"), " " + "many words " * 3, Cite(b, "2%")) == [3, 3]  # too far apart
    assert marks(Cite(a, "1%"), " to ", Cite(b, "2%"), " and ", Cite(b, "3%")) == [None, None, 3]


def test_a_figure_without_its_own_marker_keeps_its_provenance_on_hover(shared_data: Path) -> None:
    """In the web edition every figure of the prose still names its provenance: by its marker's
    tooltip, or on the figure itself when the marker is left to the next figure of its source."""
    import re

    brief = analyse(make_snapshot(shared_data), make_config(), (), as_of=date(2026, 2, 20))
    html = render_html(brief, {}).split('id="appendix"')[0]
    spans = re.findall(r'<span class="fig[^"]*"( title="[^"]*")?>[^<]*</span>(<sup class="ref">)?', html)
    assert spans and all(title or marker for title, marker in spans)
    shared = [title for title, marker in spans if not marker]
    assert shared, "a real week has figures of one source side by side"
    assert all(" · last bar " in title for title in shared)


def test_a_weeks_tilt_against_the_years_is_read_with_the_year() -> None:
    """The sample's week: value beat growth by 0.84 pp while trailing it by 7.54 pp year to date;
    a week's lead that runs with the year's says nothing more."""
    from dataclasses import replace as swap

    from generator.config import load_config
    from generator.formatting import plain
    from generator.narrative.body import _against_the_year
    from generator.sources.snapshot import load_sample
    from tests.conftest import ROOT

    sample = load_sample()
    brief = analyse(sample, load_config(ROOT / "feeds.yaml"), (), as_of=sample.as_of)
    performance = " ".join(plain(p) for x in brief.body if x.key == "performance" for p in x.paragraphs)
    assert (
        "value (IWN) beat growth (IWO) by 0.84 pp, though value trails by 7.54 pp year to date."
        in performance
    )
    week, year = (Figure(k, k, v, "pp", PROV) for k, v in (("spread.1W", 0.84), ("spread.YTD", -7.54)))
    assert plain(_against_the_year(week, year, "value")) == ", though value trails by 7.54 pp year to date"
    assert _against_the_year(week, swap(year, value=7.54), "value") == ()  # with the year: nothing to add
    assert _against_the_year(swap(week, value=0.1), year, "value") == ()  # a week in line says nothing
    assert plain(_against_the_year(swap(week, value=-1.0), swap(year, value=2.0), "value")) == (
        ", though value leads by 2.00 pp year to date"
    )


def test_many_failed_sources_are_one_warning_counted_by_kind_and_a_few_are_told_one_by_one() -> None:
    """23 failed feeds were 23 warnings: the first page of the PDF held nothing else.  Up to three are
    told with their reasons; more are counted by kind, named, and left to Source health for why."""
    from generator.models import SourceHealth
    from generator.narrative.notes import _failures

    def failed(kind: str, name: str) -> SourceHealth:
        return SourceHealth(kind, name, "failed", "none", error="HTTP 500 Internal Server Error")

    few = [failed("feed", "a"), failed("symbol", "^RUT")]
    assert _failures(few) == [
        "The feed a failed: HTTP 500 Internal Server Error.",
        "The symbol ^RUT failed: HTTP 500 Internal Server Error.",
    ]
    many = [failed("feed", n) for n in "abcdef"] + [failed("symbol", "^RUT"), failed("series", "DGS2")]
    assert _failures(many) == [
        "8 sources failed: 6 feeds (a, b, c, d and 2 more); 1 symbol (^RUT); 1 series (DGS2)."
        " Each is named with its reason in Source health."
    ]


def test_the_glossary_explains_the_words_the_brief_uses_and_no_others(shared_data: Path) -> None:
    """Each entry is given when the brief's prose or tables use its term, and only then: the sample-like
    brief of 2026-02-20 has RSI and the VIX but neither a golden cross nor member breadth."""
    from generator.narrative.notes import GLOSSARY_TERMS, glossary
    from generator.render import render_markdown as markdown

    brief = analyse(make_snapshot(shared_data), make_config(), (), as_of=date(2026, 2, 20))
    terms = dict(brief.glossary)
    assert "RSI" in terms and "VIX / RVX" in terms and "Golden / death cross" not in terms
    assert "McClellan oscillator" not in terms  # no index members in this data
    text = markdown(brief, {}).split("## Glossary")[0].lower()
    calls = {term: words for term, _, words in GLOSSARY_TERMS}
    for term in terms:  # every entry given is called for by a word the reader meets above it
        assert any(re.search(rf"(?<![a-z0-9]){re.escape(w)}s?(?![a-z0-9])", text) for w in calls[term]), term
    assert glossary("The McClellan oscillator is +8.8.") == (
        ("McClellan oscillator", dict((t, m) for t, m, _ in GLOSSARY_TERMS)["McClellan oscillator"]),
    )
    assert glossary("nothing to explain") == ()
    # Whole words, a plural too: not "RSI" in "dispersion", "OAS" in "Coastal", "pp" in "PPI"
    assert [t for t, _ in glossary("Sector dispersion was 1.38 pp")] == [
        "Percentage point (pp)",
        "Sector dispersion",
    ]
    assert glossary("Coastal Financial rose after the PPI; mean reversion") == ()
    assert [t for t, _ in glossary("a move of 2.1 standard deviations")] == ["Standard deviations"]
    assert [t for t, _ in glossary("| Change (bp) |")] == ["Basis point (bp)"]


def test_the_history_of_the_weeks_claims_is_said_once_where_first_read() -> None:
    """The lead's "in data back to November 2022" and each takeaway's "(data back to November 2022)"
    said one month three times (and, by day, read as two histories: 2022-11-11 and 2022-11-02)."""
    from generator.models import Cite, Takeaway
    from generator.narrative.lead import history_once
    from generator.narrative.words import data_from, in_data

    gap = Cite(fig(2.71), "2.71 pp")
    headline = ("Small caps beat the S&P 500 by ", gap, f", the widest gap{in_data(date(2022, 11, 11))}.")
    told = (
        Takeaway("record", (f"A record, the first since 2021-11-08{data_from(date(2022, 11, 2))}.",), 3.0),
        Takeaway("day-move", (f"Its worst day{in_data(date(2022, 11, 1))}.",), 2.5),
        Takeaway("vix", (f"The VIX, its highest{in_data(date(1990, 1, 2))}.",), 2.0),
    )
    lead, kept = history_once(headline, told)
    assert lead == ("Small caps beat the S&P 500 by ", gap, ", the widest gap in data back to November 2022.")
    assert [t.prose[0] for t in kept] == [
        "A record, the first since 2021-11-08.",
        "Its worst day in the data.",
        "The VIX, its highest in data back to January 1990.",  # another history is said
    ]
    assert [t.kind for t in kept] == ["record", "day-move", "vix"]


@SAMPLE_BRIEF_GROUP
def test_realized_volatility_at_a_one_year_end_is_a_takeaway_and_said_once() -> None:
    """The sample week's 20-day realized volatility (10.3%) is the lowest of its year: news a reader
    should not find only in Risks.  Told by a takeaway, it is left out of Risks; the event is only
    for an end of the year's range."""
    from dataclasses import replace
    from types import SimpleNamespace
    from typing import Any

    from sample_brief import build_sample

    from generator.analysis.newsvalue import EventKind, volatility_event
    from generator.formatting import plain

    brief = build_sample().brief
    told = [plain(t.prose) for t in brief.takeaways if t.kind == EventKind.VOLATILITY]
    assert told == ["The Russell 2000's 20-day realized volatility is 10.3%, its lowest of the past year."]
    risks = next(p for p in brief.body if p.key == "risks")
    assert "realized volatility" not in " ".join(plain(para) for para in risks.paragraphs)
    vol = next(f for f in brief.facts() if f.key == "rvol20.^RUT")
    where = next(f for f in brief.facts() if f.key == "rvol20.^RUT.pctile1y")
    assert where.text == "lowest"
    ctx: Any = SimpleNamespace(slots=SimpleNamespace(benchmark="^RUT"))
    figures = {vol.key: vol, where.key: replace(where, text="")}
    assert volatility_event(ctx, figures) is None  # within the range: no event
    high = volatility_event(ctx, {**figures, where.key: replace(where, text="highest")})
    assert high is not None and high.direction == 1 and high.figure == vol


def test_gains_and_losses_are_coloured_rate_moves_are_not() -> None:
    """A widening credit spread was blue and a falling yield orange, as if a gain and a loss: the
    sign of a rate's move is not the reader's gain or loss, so basis points read in plain ink."""
    from generator.models import Unit
    from generator.render import sign_class

    def made(value: float, unit: Unit) -> Figure:
        return Figure("k", "label", value, unit, PROV)

    assert [sign_class(made(v, Unit.PCT)) for v in (3.69, -2.6, 0.0)] == ["pos", "neg", ""]
    assert [sign_class(made(v, Unit.PP)) for v in (2.71, -0.13)] == ["pos", "neg"]
    assert [sign_class(made(v, Unit.BP)) for v in (18.0, -14.0)] == ["", ""]


def test_sources_failing_alike_on_their_own_hosts_are_one_row() -> None:
    """Offline, each feed "cannot resolve host <its host>": eight rows that differ only by the host
    (a page of the fallback's PDF).  They are one row; a lone failure keeps its host."""
    from generator.citations import merged_problems
    from generator.models import SourceHealth

    cause = "Name or service not known"
    rows = [
        SourceHealth("feed", name, "failed", "none", error=f"cannot resolve host {host}: {cause}")
        for name, host in (
            ("cnbc", "www.cnbc.com"),
            ("fed", "www.federalreserve.gov"),
            ("nyt", "rss.nytimes.com"),
        )
    ]
    lone = SourceHealth(
        "provider", "BEA calendar", "failed", "none", error=f"cannot resolve host apps.bea.gov: {cause}"
    )
    merged = merged_problems([*rows, lone])
    assert [(m.kind, m.name, m.error, m.sources) for m in merged] == [
        ("3 feeds", "cnbc, fed, nyt", f"cannot resolve their hosts: {cause}", 3),
        ("provider", "BEA calendar", f"cannot resolve host apps.bea.gov: {cause}", 1),
    ]


def test_a_checklists_shorter_side_is_named_so_its_count_reads_without_the_list() -> None:
    """The PDF and the email give the counts alone (the lists are in the web and Markdown appendix):
    the one or two conditions on a checklist's shorter side are named; three of six, none."""
    from generator.formatting import plain
    from generator.models import Check
    from generator.narrative.body import outlook

    def checks(met: int, of: int) -> list[Check]:
        return [
            Check(f"condition {n}", Figure(f"k{n}", f"condition {n}", 1.0, "pct", PROV), n < met)
            for n in range(of)
        ]

    def said(bull: list[Check], bear: list[Check], body: frozenset[str] = frozenset()) -> str:
        return " ".join(plain(p) for p in outlook(bull, bear, (), (), (), said=body).paragraphs)

    text = said(checks(5, 6), checks(0, 6))
    assert text == (
        "The bull checklist meets 5 of its 6 conditions and the bear checklist 0 of 6 (conditions met,"
        " not forecasts). Bull condition not met: “condition 5” (+1.00%)."
    )  # with its reading, unless the body gave it
    assert said(checks(5, 6), checks(0, 6), frozenset({"k5"})).endswith(" not met: “condition 5”.")
    two = said(checks(2, 6), checks(4, 6), frozenset(f"k{n}" for n in range(6)))
    assert "Bull conditions met: “condition 0”; “condition 1”." in two
    assert "Bear conditions not met: “condition 4”; “condition 5”." in two
    assert "condition" not in said(checks(3, 6), checks(3, 6)).split("forecasts).")[1]


@SAMPLE_BRIEF_GROUP
def test_a_claim_measured_on_history_cites_a_source_that_spans_it() -> None:
    """ "the widest gap in data back to November 2022" cited the week's spread, whose source ran over
    a year: the claim's words cite a figure of their own, dated by the history's first bar, so the
    appendix's source (web and PDF) spans what the claim was measured on."""
    from sample_brief import build_sample

    from generator.citations import sources
    from generator.models import Cite

    brief = build_sample().brief
    claims = [p for p in brief.lead if isinstance(p, Cite) and p.figure.key.endswith(".history")]
    assert [c.text for c in claims] == ["widest gap in data back to November 2022"]
    history = claims[0].figure
    # the first week's end of the weekly gaps it was ranked among
    assert history.provenance.first_bar == date(2022, 11, 11) and history.provenance.window == "history"
    assert history.provenance.symbols == ("^RUT", "^GSPC") and history.provenance.last_bar == brief.as_of
    for printed in (False, True):
        found = sources(brief, printed=printed)
        row = found.rows[found.ref(history) - 1]
        assert row.first_bar <= "2022-11-11" and row.symbols == ("^RUT", "^GSPC")  # ISO dates; was 2025-11-20
    streak = next(t for t in brief.takeaways if "straight session" in "".join(map(str, t.prose)))
    cited = [p.figure.key for p in streak.prose if isinstance(p, Cite)]
    assert any(k.endswith(".history") for k in cited)  # "the longest run since 2025-04-25"


@SAMPLE_BRIEF_GROUP
def test_risks_give_the_small_cap_gauge_its_year_and_dispersion_only_when_unusual() -> None:
    """The RVX, the small caps' own volatility gauge, stood bare beside the VIX and its percentile;
    sector dispersion at the 40th percentile of its year took a sentence that said nothing unusual."""
    from dataclasses import replace

    from generator.analysis.brief import analyse_week
    from generator.config import load_config
    from generator.formatting import plain
    from generator.narrative.body import risks
    from generator.narrative.words import Facts
    from generator.sources.snapshot import load_sample
    from tests.conftest import ROOT

    snapshot = load_sample()
    brief, core = analyse_week(snapshot, load_config(ROOT / "feeds.yaml"), (), as_of=snapshot.as_of)
    text = " ".join(plain(p) for x in brief.body if x.key == "risks" for p in x.paragraphs)
    assert "the small-cap RVX closed at 21.00, at the 15th percentile of its past year" in text
    assert "dispersion" not in text
    figures = {f.key: f for f in brief.facts()}
    pct = figures["dispersion.sectors.pctile1y"]
    assert pct.value is not None and 20 < pct.value < 80
    for value, told in ((92.0, True), (8.0, True), (65.0, False)):
        facts = Facts({**figures, pct.key: replace(pct, value=value)})
        said = " ".join(plain(p) for p in risks(core.ctx, facts).paragraphs)
        assert ("sector dispersion was 1.38 pp" in said) is told, value


@SAMPLE_BRIEF_GROUP
def test_at_a_record_the_distance_above_the_52_week_low_is_not_a_sentence_of_its_own() -> None:
    """The sample ends on a record the lead tells: "The Russell 2000 is 19.30% above its 52-week
    low." stood alone in Performance and told the reader nothing.  The distance from the low stays
    beside the distance from the record, or alone when the week ended near the low."""
    from sample_brief import build_sample

    from generator.analysis import thresholds as th
    from generator.formatting import plain

    brief = build_sample().brief
    assert "closed at a record" in plain(brief.lead)
    low = next(f for f in brief.facts() if f.key == "low52.^RUT.distance")
    assert low.value is not None and low.value > th.NEAR_52W_LOW_PCT
    performance = next(p for p in brief.body if p.key == "performance")
    assert not any("52-week low" in plain(p) for p in performance.paragraphs)


def test_the_plain_text_email_never_wraps_between_a_number_and_its_unit() -> None:
    from generator.render import wrap

    text = "x" * 57 + " 12 pp) and 79% (up 8 pp), 14 bp, 08:30 ET"  # plain wrapping: "x… 12" / "pp)"
    wrapped = wrap(text, 60)
    assert wrapped.splitlines()[:2] == ["x" * 57, "12 pp) and 79% (up 8 pp), 14 bp, 08:30 ET"]
    assert "\u00a0" not in wrapped and wrapped.replace("\n", " ") == text
    indented = wrap("a " * 80, 60, wrapstring="\n  ")  # the indent comes after the width
    assert all(len(line) <= 62 for line in indented.splitlines())


def test_sample_weeks_read_each_checklist_figure_once_and_credit_without_a_false_but() -> None:
    """Across the sample's weeks: a figure both checklists test (the 10-year's month) was given with
    each condition named ("(+31 bp) … (+31 bp)"), the drawdown beside the distance below the record
    the body gave; and HYG/IEF read "gained 0.47% on the week but gained 2.83% over the month"."""
    from generator.config import load_config
    from generator.formatting import plain
    from generator.sources.snapshot import load_sample
    from tests.conftest import ROOT

    sample, config = load_sample(), load_config(ROOT / "feeds.yaml")
    for as_of in (date(2026, 11, 13), date(2026, 5, 29), date(2026, 5, 1)):
        brief = analyse(sample, config, (), as_of=as_of)
        body = {p.key: " ".join(plain(x) for x in p.paragraphs) for p in brief.body}
        outlook = body["outlook"]
        cited = re.findall(r"” \(([^)]+)\)", outlook)
        assert len(cited) == len(set(cited)), (as_of, outlook)
        record_gap = re.search(r"is ([\d.]+%) below its record close", body["performance"])
        if record_gap:
            assert f"({'-' + record_gap.group(1)})" not in outlook, (as_of, outlook)
        assert not re.search(r"(gained|lost) [^;.]* on the week but \1", body["drivers"]), body["drivers"]
    week = analyse(sample, config, (), as_of=date(2026, 11, 13))
    drivers = " ".join(plain(x) for p in week.body if p.key == "drivers" for x in p.paragraphs)
    assert "(HYG/IEF) gained 0.47% on the week and 2.83% over the month" in drivers
    assert "“10-year yield lower than a month ago” (+31 bp). Bear condition met: “10-year yield up 25 bp" in (
        " ".join(plain(x) for p in week.body if p.key == "outlook" for x in p.paragraphs)
    )
    # in a correction a takeaway told, the distance from the 52-week low is still said
    may = analyse(sample, config, (), as_of=date(2026, 5, 1))
    performance = " ".join(plain(x) for p in may.body if p.key == "performance" for x in p.paragraphs)
    assert "above its 52-week low" in performance


@SAMPLE_BRIEF_GROUP
def test_with_every_headline_beside_its_passage_there_is_no_empty_more_headlines_section() -> None:
    from dataclasses import replace

    from sample_brief import build_sample

    sample = build_sample()
    placed = replace(sample.brief, headlines=())
    assert any(p.headlines for p in placed.body)
    markdown = render_markdown(placed, sample.charts, names=sample.names)
    html = render_html(placed, sample.charts, names=sample.names)
    for text in (markdown, html):
        assert "More headlines" not in text and "No headlines for this week" not in text
    assert 'href="#top-headlines"' not in html
    pdf_html = render_html(placed, sample.charts, names=sample.names, for_pdf=True)
    assert ">Headlines</h2>" in pdf_html  # the PDF's top stories, from every headline
