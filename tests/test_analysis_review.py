"""Review regressions on real series: crash-week readings, outlook flags, movers and method sentences."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_analysis_figures import UNIVERSE, find, make_config, make_snapshot, topic

from generator.analysis import analyse
from generator.analysis.changes import collect
from generator.formatting import plain
from generator.models import Brief

FEW = {"^RUT": "IDX_RUT.csv", "^GSPC": "SPY.csv", "^IXIC": "QQQ.csv", "^VIX": "IDX_VIX.csv",
       "^TNX": "IDX_TNX.csv", "IWM": "IWM.csv"}  # fmt: skip


def build(shared_data: Path, as_of: date) -> Brief:
    universe = tuple(i for i in UNIVERSE if i.symbol in FEW)
    return analyse(make_snapshot(shared_data, FEW), make_config(universe), (), as_of=as_of)


@pytest.fixture(scope="module")
def covid(shared_data: Path) -> Brief:
    return build(shared_data, date(2020, 3, 20))


def test_no_sector_etfs_still_gives_every_figure_a_symbol(covid: Brief) -> None:
    for fig in covid.figures():
        assert fig.provenance.symbols, fig.key
    assert not find(covid, "breadth.50d").available


def test_crash_week_outlook_flags_match_the_readings(covid: Brief) -> None:
    outlook = covid.section("outlook")
    assert outlook is not None
    checks = {c.condition: c for t in outlook.topics for c in t.checks}
    drawdown = next(c for name, c in checks.items() if "below its record" in name)
    assert drawdown.figure.value is not None and drawdown.figure.value < -40 and drawdown.met is True
    above200 = next(c for name, c in checks.items() if "200-day" in name)
    assert above200.met is False
    vix = next(c for name, c in checks.items() if name.startswith("VIX below"))
    assert vix.met is False
    lower_yield = next(c for name, c in checks.items() if "lower than a month ago" in name)
    assert lower_yield.met is True


def test_crash_week_best_or_worst_week_compares_with_the_worse_week_before(covid: Brief) -> None:
    t = topic(covid, "performance", "best-worst-week")
    assert t.figures[0].value == 1  # the week before was worse
    # -16.22% on 2020-03-20 followed -16.50% on 2020-03-13: "the worst since last week" is no news;
    # its rank is (and never "in N weeks")
    week = plain(covid.lead)
    assert week.startswith("Small caps fell 16.22% this week")
    assert "their second-worst week in data back to January 2015" in week


def test_movers_are_reader_figures_not_range_bookkeeping(covid: Brief) -> None:
    changes = covid.section("changes")
    assert changes is not None
    moved = topic(covid, "changes", "moved-most")
    assert moved.table is not None
    labels = [row[0] for row in moved.table.rows]
    assert labels and not any("52-week" in str(label) for label in labels)
    assert labels[0] == "Russell 2000, year to date"


def test_methods_name_neither_symbol_nor_window(shared_data: Path) -> None:
    brief = build(shared_data, date(2026, 2, 20))
    methods = {f.provenance.method for f in brief.figures()}
    for symbol in FEW:
        assert not any(symbol in m for m in methods), symbol
    returns = {f.provenance.method for f in collect(brief.sections).values() if f.key.startswith("return.")}
    assert len(returns) == 1
    windows = {f.provenance.window for f in brief.figures() if f.key.startswith("return.")}
    assert {"1W", "1M", "YTD"} <= windows
