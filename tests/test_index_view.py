"""The whole index: a member panel derived into the snapshot's index block, read back, and narrated.

The panel is small and built by hand (six members, 300 sessions) so every expected number is
computed here with plain arithmetic: advancers, the share above the 50-day average, new highs,
the median member against the index, and the sector and member contributions.
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.analysis import analyse
from generator.analysis.newsvalue import breadth_event
from generator.config import load_config
from generator.formatting import plain
from generator.models import Figure, IndexView, Provenance, Snapshot
from generator.sources.ishares import Member, Membership
from generator.sources.members import derive_index_view
from generator.sources.snapshot import load_sample, read_snapshot, write_snapshot
from tests.conftest import ROOT

# One xdist worker runs the module: its index view and sample are made once.
pytestmark = pytest.mark.xdist_group("index-view")

WEEK = (date(2026, 11, 16), date(2026, 11, 20))
MEMBERS = (
    Member("AAA", "AAA", "Alpha Bank", "Financials", 30.0),
    Member("BBB", "BBB", "Beta Bancorp", "Financials", 20.0),
    Member("CCC", "CCC", "Gamma Tools", "Industrials", 25.0),
    Member("DDD", "DDD", "Delta Labs", "Health Care", 15.0),
    Member("MOGA", "MOG-A", "Moog Class A", "Industrials", 10.0),
    Member("EEE", "EEE", "Epsilon Not Fetched", "Energy", 5.0),
)


def panel() -> pd.DataFrame:
    """300 sessions to 2026-11-20; EEE has no prices (not fetched)."""
    days = pd.bdate_range(end="2026-11-20", periods=300)
    steps = np.arange(300, dtype=float)
    data = {
        "AAA": 100 + steps * 0.1,  # a steady riser: a new 52-week high every day
        "BBB": 50 + np.sin(steps / 7.0),
        "CCC": 80 - steps * 0.05,  # a steady faller: a new 52-week low every day
        "DDD": 40 + np.cos(steps / 5.0),
        "MOG-A": np.where(steps < 295, 20.0, 21.0),
    }
    return pd.DataFrame(data, index=days)


@pytest.fixture(scope="module")
def view() -> IndexView:
    membership = Membership(date(2026, 11, 13), MEMBERS)
    return derive_index_view(membership, panel(), *WEEK, provider="test prices")


@pytest.fixture(scope="module")
def sample_with_view(view: IndexView) -> Snapshot:
    return replace(load_sample(), index_view=view)


def test_the_index_block_round_trips_through_the_snapshot(tmp_path: Path, sample_with_view: Snapshot) -> None:
    benchmark = {"^RUT": sample_with_view.series["^RUT"]}  # the block is written whatever the series
    write_snapshot(replace(sample_with_view, series=benchmark), tmp_path / "snap")
    again = read_snapshot(tmp_path / "snap")
    assert again.index_view is not None
    view = sample_with_view.index_view
    assert view is not None
    assert again.index_view.membership_as_of == date(2026, 11, 13)
    assert list(again.index_view.members.index) == ["AAA", "BBB", "CCC", "DDD", "MOG-A", "EEE"]
    assert np.isnan(again.index_view.members.loc["EEE", "last_close"])
    cols = ["advancers", "decliners", "above_50"]
    pd.testing.assert_frame_equal(
        again.index_view.daily[cols], view.daily[cols], check_freq=False, check_dtype=False, check_exact=True
    )
    # The raw holdings file is never copied: only ticker, name, sector and weight.
    assert set(again.index_view.members.columns) == {
        "name", "sector", "weight", "base_close", "last_close", "new_high", "new_low",
    }  # fmt: skip


def test_breadth_and_attribution_read_from_the_view(sample_with_view: Snapshot) -> None:
    config = load_config(ROOT / "feeds.yaml")
    brief = analyse(sample_with_view, config, (), as_of=WEEK[1])
    p = panel()
    base, last = p.loc["2026-11-13"], p.loc["2026-11-20"]
    ret = (last / base - 1) * 100
    up, down = int((ret > 0).sum()), int((ret < 0).sum())
    above50 = int((p.iloc[-1] > p.iloc[-50:].mean()).sum())
    weights = {m.yahoo_symbol: m.weight for m in MEMBERS if m.yahoo_symbol in p.columns}
    total_w = sum(weights.values())
    contribution = {s: weights[s] / total_w * ret[s] for s in weights}
    financials = contribution["AAA"] + contribution["BBB"]
    rut = brief.headline_figure.value
    assert rut is not None

    passage = next(x for x in brief.body if x.key == "breadth")
    text = " ".join(plain(para) for para in passage.paragraphs)
    expected = f"Of the index's members, {up} rose and {down} fell on the week (5 of 6 members priced;"
    assert expected + " membership of 2026-11-13);" in text
    assert f"{above50 / 5 * 100:.0f}% are above their 50-day average" in text
    # AAA sets a 52-week closing high every day, CCC a low; MOG-A's step up on day 295 is a high too.
    assert "new 52-week highs outnumbered lows 2 to 1" in text
    median = statistics.median(ret.to_list())
    assert f"The median member {'rose' if median > 0 else 'fell'} {abs(median):.2f}%" in text
    assert f"{abs(round(median, 2) - round(rut, 2)):.2f} pp" in text  # the gap of the two as shown
    best = max(("Financials", financials), ("Industrials", contribution["CCC"] + contribution["MOG-A"]),
               ("Health Care", contribution["DDD"]), key=lambda kv: kv[1])  # fmt: skip
    assert text.count(f"{best[0]} added the most to the week ({best[1]:+.2f} pp)") == 1
    # The sector table ends with what its contributions add up to: the priced members' weighted week,
    # recomputed here (it is not the index's own week, and the methods say why).
    table = next(t.table for sec in brief.sections for t in sec.topics if t.key == "sectors" and t.table)
    label, weighted, added = table.rows[-1]
    assert label == "All 5 priced members"
    assert weighted.value == pytest.approx(sum(contribution.values())) == added.value
    assert added.value == pytest.approx(sum(row[2].value for row in table.rows[:-1]))  # type: ignore[union-attr]
    assert "by how far the weights have drifted" in added.provenance.method
    assert "Not covered this week" not in " ".join(brief.not_covered)
    assert not any("member breadth" in n for n in brief.not_covered)


def test_a_view_of_another_week_is_not_used(view: IndexView) -> None:
    config = load_config(ROOT / "feeds.yaml")
    stale = replace(
        load_sample(), index_view=replace(view, week_start=date(2026, 11, 9), week_end=date(2026, 11, 13))
    )
    brief = analyse(stale, config, (), as_of=WEEK[1])
    assert "breadth" not in [p.key for p in brief.body]
    assert any(n.startswith("member breadth and attribution") for n in brief.not_covered)


def test_the_sp600_is_set_beside_the_index_in_the_breadth_passage(view: IndexView) -> None:
    """A second universe (index.sp600) gets one sentence: its share above the 200-day average
    against the index's, its median member, and its coverage, every number cited."""
    sample = load_sample()
    brief = analyse(
        replace(sample, universes={"sp600": view}), load_config(ROOT / "feeds.yaml"), (), as_of=WEEK[1]
    )
    passage = next(p for p in brief.body if p.key == "breadth")
    text = " ".join(plain(p) for p in passage.paragraphs)
    last = view.daily.iloc[-1]
    share = round(100 * float(last["above_200"]) / float(last["eligible_200"]))
    sentence = next(t for t in (plain(p) for p in passage.paragraphs) if t.startswith("In the S&P 600, "))
    assert f"In the S&P 600, {share}% of members are above their 200-day average (" in sentence
    assert "in the Russell 2000)" in sentence
    assert "the median member " in sentence
    assert sentence.endswith("(5 of 6 members priced; membership of 2026-11-13).")
    cited = {c.figure.key for p in passage.paragraphs for c in p if not isinstance(c, str)}
    assert {"sp600.above200", "sp600.median.1W", "sp600.covered"} <= cited
    assert "Of the index's members" in text  # the Russell 2000's own sentences are still there
    # Without the universe, no such sentence; an unknown universe key is left out.
    plain_brief = analyse(
        replace(sample, universes={"other": view}), load_config(ROOT / "feeds.yaml"), (), as_of=WEEK[1]
    )
    breadth = next(p for p in plain_brief.body if p.key == "breadth")
    assert not any(plain(p).startswith("In the ") for p in breadth.paragraphs)


# -- breadth as news ------------------------------------------------------------------------------------


def _daily(shares: list[float], start: str = "2025-11-03") -> pd.DataFrame:
    """A daily breadth table whose share above the 200-day average is ``shares`` (100 members)."""
    days = pd.bdate_range(start, periods=len(shares))
    return pd.DataFrame({"above_200": shares, "eligible_200": [100] * len(shares)}, index=days)


def _share(value: float, daily: pd.DataFrame) -> Figure:
    """The share on the table's last session (the week's figure, dated by its last bar)."""
    last = pd.Timestamp(daily.index[-1]).date()
    provenance = Provenance(("index members",), "1W", last, "sample", "method")
    return Figure("index.above200", "Members above their 200-day average", value, "pct", provenance)


def test_a_share_above_the_200_day_average_beyond_its_year_is_an_event_said_with_its_history() -> None:
    history = [50.0 + (i % 20) for i in range(240)]  # 50-69% for 240 sessions
    daily = _daily([*history, 70.0, 71.0, 72.0, 73.0, 74.0])
    week_start = pd.Timestamp(daily.index[-5]).date()
    high = breadth_event(_share(74.0, daily), daily, week_start)
    assert high is not None and high.direction == 1 and high.kind == "breadth"
    assert high.history_from == date(2025, 11, 3) and high.level == 200
    low = breadth_event(_share(40.0, daily), daily, week_start)
    assert low is not None and low.direction == -1
    assert breadth_event(_share(69.0, daily), daily, week_start) is None  # the year's best, not beyond it
    assert breadth_event(_share(60.0, daily), daily, week_start) is None
    # Monday's 90% makes Friday's 80% no high: the week's own earlier sessions count.
    monday = _daily([*history, 90.0, 70.0, 70.0, 70.0, 80.0])
    assert breadth_event(_share(80.0, monday), monday, week_start) is None
    short = _daily([*history[:150], 74.0])  # 150 sessions before the week: too little to claim
    assert breadth_event(_share(99.0, short), short, pd.Timestamp(short.index[-1]).date()) is None


def test_a_breadth_extreme_is_a_takeaway_and_the_body_does_not_repeat_its_share() -> None:
    sample = load_sample()
    assert sample.index_view is not None
    daily = sample.index_view.daily.copy()
    before = pd.DatetimeIndex(daily.index) < pd.Timestamp(WEEK[0])
    # The sample's members have 200-day averages for too few sessions: the 50-day share is the claim.
    assert (
        int((daily.loc[before, "eligible_200"] > 0).sum())
        < 200
        <= int((daily.loc[before, "eligible_50"] > 0).sum())
    )
    daily.loc[before, "above_50"] = (daily.loc[before, "eligible_50"] * 0.5).round()  # a year at ~50%
    snapshot = replace(sample, index_view=replace(sample.index_view, daily=daily))
    brief = analyse(snapshot, load_config(ROOT / "feeds.yaml"), (), as_of=WEEK[1])
    found = [t for t in brief.takeaways if t.kind == "breadth"]
    assert len(found) == 1
    share = next(p.figure for p in found[0].prose if not isinstance(p, str))
    assert share.key == "index.above50" and share.value is not None
    first = pd.Timestamp(daily.index[daily["eligible_50"] > 0][0]).date()
    assert plain(found[0].prose) == (
        f"{share.value:.0f}% of the Russell 2000's members are above their 50-day average, the most in the"
        f" year of breadth data at hand (from {first}; today's members)."
    )
    passage = next(p for p in brief.body if p.key == "breadth")
    cited = [c.figure.key for para in passage.paragraphs for c in para if not isinstance(c, str)]
    assert "index.above50" not in cited and "index.above50.1W" in cited and "index.above200" in cited
    assert "the share above their 50-day average is up" in " ".join(plain(p) for p in passage.paragraphs)


@pytest.mark.parametrize(
    ("holdings", "shown"),
    [
        ("CLEARWATER DIAGNOSTICS", "Clearwater Diagnostics"),
        ("AMC NETWORKS INC CLASS A", "AMC Networks Inc Class A"),  # initials stay, so does the class
        ("CSW INDUSTRIALS INC", "CSW Industrials Inc"),
        ("BANK OF HAWAII CORP", "Bank of Hawaii Corp"),
        ("THE BANCORP INC", "The Bancorp Inc"),
        ("O'REILLY AUTOMOTIVE", "O'Reilly Automotive"),
        ("BJ'S WHOLESALE CLUB HOLDINGS INC", "BJ's Wholesale Club Holdings Inc"),
        ("AT&T INC", "AT&T Inc"),
        ("A10 NETWORKS INC", "A10 Networks Inc"),
        ("ACADIA REALTY TRUST REIT", "Acadia Realty Trust REIT"),
        ("Tidewater Trust Holdings", "Tidewater Trust Holdings"),  # written by hand already: kept
        ("ÖSTERREICHISCHE POST AG", "Österreichische Post AG"),
    ],
)
def test_a_holdings_files_capitals_read_as_a_name(holdings: str, shown: str) -> None:
    from generator.text import company_name

    assert company_name(holdings) == shown
