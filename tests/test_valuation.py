"""Valuation, honestly: the funds' ratios with the provider's definition and their dates, the gap between
small and large with both numbers, the members' P/E including losses, and what is said when any is missing.

Briefs are built from the bundled sample (which carries sample fund ratios for IWM, IJR and SPY and a
sample member refresh) with one input changed at a time; the fund data provider runs against the
offline Yahoo transport in tests/test_yahoo.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from generator.analysis import analyse
from generator.config import load_config
from generator.errors import ConfigError
from generator.formatting import plain
from generator.models import Brief, Config, Snapshot, ValuationSettings
from tests.conftest import ROOT

AS_OF = date(2026, 11, 20)
READ = date(2026, 11, 21)


def build(snapshot: Snapshot, config: Config) -> Brief:
    return analyse(snapshot, config, (), as_of=AS_OF)


def valuation_text(brief: Brief) -> str:
    passage = next((p for p in brief.body if p.key == "valuation"), None)
    return " ".join(plain(p) for p in passage.paragraphs) if passage is not None else ""


def methods(brief: Brief) -> set[str]:
    return {f.provenance.method for f in brief.figures()}


# -- the funds ------------------------------------------------------------------------------------------


def test_the_gap_is_stated_with_both_numbers_and_their_dates_and_the_definition_goes_to_methods(
    sample: Snapshot, config: Config
) -> None:
    brief = build(sample, config)
    text = valuation_text(brief)
    assert text.startswith(
        "Trailing P/Es: IWM 17.8× and IJR 16.1× against 27.4× for the SPDR S&P 500 ETF Trust (SPY),"
        " as reported on 2026-11-21. IWM's multiple is 35% below SPY's; on book value,"
        " IWM 2.05× and IJR 1.90× against SPY 5.20×."
    )
    # What the provider's fund figures include is said in Methods, not in the passage every week.
    assert "loss-making holdings" not in text
    iwm_pe = [f.provenance.method for f in brief.figures() if f.key == "valuation.IWM.trailingPE"]
    assert iwm_pe and "whether loss-making holdings are" in iwm_pe[0]
    cited = {f.key: f for f in brief.figures()}
    rel = cited["valuation.IWM-SPY.trailingPE"]
    assert rel.value == pytest.approx(17.8 / 27.4)
    assert (rel.provenance.symbols, rel.provenance.last_bar) == (("IWM", "SPY"), READ)
    pe = cited["valuation.SPY.trailingPE"]
    assert (pe.label, pe.provenance.last_bar, pe.provenance.window) == (
        "SPDR S&P 500 ETF Trust, trailing p/e", READ, "latest",
    )  # fmt: skip
    definition = pe.provenance.method
    assert "field trailingPE" in definition and "not computed here" in definition
    # What is known and what is not, without inventing: no claim that loss-makers are excluded.
    assert "does not document" in definition and "whether loss-making holdings are left out" in definition
    assert definition in methods(brief)
    assert any("priceToBook" in m and "negative book value" in m for m in methods(brief))
    assert not any("valuation gap" in n for n in brief.not_covered)
    table = next(t.table for s in brief.sections for t in s.topics if t.key == "valuation")
    assert table is not None
    assert [r[0] for r in table.rows] == [
        "iShares Russell 2000 ETF (IWM)",
        "iShares Core S&P Small-Cap ETF (IJR)",
        "SPDR S&P 500 ETF Trust (SPY)",
    ]


def test_funds_read_on_different_days_each_say_their_day(sample: Snapshot, config: Config) -> None:
    days = {"IWM": READ, "IJR": READ, "SPY": date(2026, 11, 20)}
    text = valuation_text(build(replace(sample, valuation_as_of=days), config))
    assert "as reported (IWM on 2026-11-21, IJR on 2026-11-21, SPY on 2026-11-20)." in text


def test_an_older_snapshot_without_read_dates_dates_the_ratios_by_the_funds_last_bar(
    sample: Snapshot, config: Config
) -> None:
    brief = build(replace(sample, valuation_as_of={}), config)
    assert "as reported (IWM on 2026-11-20, IJR on 2026-11-20, SPY on an unstated day)." in valuation_text(
        brief
    )


@pytest.mark.parametrize(
    ("spy", "words"),
    [(17.5, "IWM's multiple is about level with SPY's."), (15.0, "IWM's multiple is 19% above SPY's.")],
)
def test_a_small_gap_reads_level_and_a_higher_multiple_a_premium(
    sample: Snapshot, config: Config, spy: float, words: str
) -> None:
    valuation = {**sample.valuation, "SPY": {"trailingPE": spy}}
    text = valuation_text(build(replace(sample, valuation=valuation), config))
    assert words in text
    assert "on book value" not in text  # SPY has no price to book here


def test_without_the_large_cap_fund_the_gap_is_not_covered_once(sample: Snapshot, config: Config) -> None:
    valuation = {k: v for k, v in sample.valuation.items() if k != "SPY"}
    odd = replace(config, universe=tuple(i for i in config.universe if i.symbol not in ("RSP", "IWB", "OEF")))
    brief = build(replace(sample, valuation=valuation), odd)
    assert not valuation_text(brief).startswith("Trailing P/Es")
    gap = [n for n in brief.not_covered if "valuation gap" in n]
    assert gap == [
        "the small- against large-cap valuation gap"
        " (no trailing P/E for both a small-cap fund and SPY in this data)"
    ]


@pytest.mark.parametrize(
    ("as_of", "shown"),
    [(date(2026, 11, 13), False), (date(2026, 6, 5), False), (date(2026, 11, 20), True)],
)
def test_ratios_read_for_a_later_week_are_never_shown_in_an_earlier_one(
    sample: Snapshot, config: Config, as_of: date, shown: bool
) -> None:
    """A past week built from a later snapshot (a backfill, --as-of): ratios read on 2026-11-21
    belong to the week ending 2026-11-20 (read the day after its close), not to any week before."""
    from generator.build import snapshot_until

    brief = analyse(snapshot_until(sample, as_of), config, (), as_of=as_of)
    keys = {f.key for f in brief.figures()}
    gap = [n for n in brief.not_covered if "valuation gap" in n]
    if shown:
        assert "valuation.IWM.trailingPE" in keys and not gap
        return
    assert not any(k.startswith("valuation.IWM") or k.startswith("valuation.SPY") for k in keys)
    assert not valuation_text(brief).startswith("Trailing P/Es")
    assert gap == [
        "the small- against large-cap valuation gap"
        " (the fund ratios in this data, read 2026-11-21, are after this week)"
    ]


# -- the members ----------------------------------------------------------------------------------------


def test_the_members_pe_including_losses_is_said_with_its_coverage_and_refresh_date(
    sample: Snapshot, config: Config
) -> None:
    block = sample.fundamentals
    assert block is not None
    brief = build(sample, config)
    text = valuation_text(brief)
    including = block.market_cap / block.earnings
    profitable = block.profit_market_cap / block.profits
    assert (
        f"Summed over its members, losses included, the index traded at {including:.1f}× trailing earnings"
        " (their total market value over their total earnings; the funds' multiples above are their"
        " provider's, on another basis);"
        f" the profitable members alone {profitable:.1f}×."
    ) in text
    share = block.loss_makers / block.covered * 100
    cap_share = block.loss_market_cap / block.market_cap * 100
    assert f"{share:.0f}" == f"{cap_share:.0f}"  # the sample's two shares read alike: said once
    assert (
        f"Loss-making members (negative earnings over the last twelve months) are {share:.0f}% of the members"
        " with data and hold the same share of their combined market value (from 130 of 132 members;"
        " market values and earnings as of the refresh of 2026-11-02)."
    ) in text
    smaller = replace(block, loss_market_cap=block.loss_market_cap / 2)
    assert (
        f"are {share:.0f}% of the members with data and hold {cap_share / 2:.0f}% of their combined"
        " market value"
    ) in valuation_text(build(replace(sample, fundamentals=smaller), config))
    figures = {f.key: f for f in brief.figures()}
    pe = figures["fundamentals.pe"]
    assert (pe.provenance.symbols, pe.provenance.last_bar, pe.provenance.window) == (
        ("index members",), date(2026, 11, 2), "TTM",
    )  # fmt: skip
    assert pe.provenance.provider == "sample (illustrative, not market data)"
    assert not any("members' fundamentals" in n for n in brief.not_covered)


def test_without_fund_multiples_the_members_pe_needs_no_word_on_them(
    sample: Snapshot, config: Config
) -> None:
    brief = build(replace(sample, valuation={}), config)
    text = valuation_text(brief)
    assert text.startswith("Summed over its members, losses included, the index traded at ")
    assert "the funds' multiples" not in text


def test_members_losing_money_in_total_have_no_pe_said_so(sample: Snapshot, config: Config) -> None:
    assert sample.fundamentals is not None
    losing = replace(sample.fundamentals, earnings=-1.0e9)
    text = valuation_text(build(replace(sample, fundamentals=losing), config))
    assert (
        "Over the last twelve months the index's members lost money in total, so their P/E including"
        " losses has no meaning; the profitable members alone "
    ) in text
    partial = replace(sample.fundamentals, complete=False)
    assert "refresh of 2026-11-02, which stopped early)" in valuation_text(
        build(replace(sample, fundamentals=partial), config)
    )


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"fundamentals": None}, "no member fundamentals in this data"),
        ("stale", "the last refresh, of 2026-09-01, is more than 62 days old"),
        ("thin", "only 40 of 132 members have earnings data"),
    ],
    ids=["none", "stale", "coverage"],
)
def test_without_usable_member_fundamentals_the_brief_says_so_once(
    sample: Snapshot, config: Config, change: Any, why: str
) -> None:
    assert sample.fundamentals is not None
    if change == "stale":
        change = {"fundamentals": replace(sample.fundamentals, as_of=date(2026, 9, 1))}
    elif change == "thin":
        change = {"fundamentals": replace(sample.fundamentals, covered=40, loss_makers=10)}
    brief = build(replace(sample, **change), config)
    said = [n for n in brief.not_covered if "loss-making" in n]
    assert said == [f"the share of loss-making members and the index's P/E including losses ({why})"]
    assert "losses included" not in valuation_text(brief)
    assert valuation_text(brief).startswith("Trailing P/Es")  # the funds are still there
    assert not any(f.key.startswith("fundamentals.") for f in brief.figures())


# -- the config ---------------------------------------------------------------------------------------------


def test_the_valuation_section_of_feeds_yaml(tmp_path: Path) -> None:
    text = (ROOT / "feeds.yaml").read_text(encoding="utf-8")
    head, tail = text.split("\nvaluation:\n", 1)
    base = head + "\n" + tail.split("\n\n", 1)[1]  # the file without its valuation block
    assert "valuation:" not in base
    assert load_config(ROOT / "feeds.yaml").valuation == ValuationSettings()
    path = tmp_path / "feeds.yaml"
    path.write_text(
        base + "\nvaluation:\n  large_fund: IVV\n  members: false\n  refresh_days: 7\n", encoding="utf-8"
    )
    assert load_config(path).valuation == ValuationSettings("IVV", False, 7, 180.0)
    path.write_text(base + "\nvaluation:\n  large_fund: ''\n", encoding="utf-8")
    assert load_config(path).valuation.large_fund == ""
    path.write_text(
        base + "\nvaluation:\n  large_fund: 'S P Y'\n  refresh_days: 0\n  budget: -1\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = " | ".join(info.value.problems)
    assert "valuation.large_fund: 'S P Y' is not a valid symbol" in problems
    assert "valuation.refresh_days: must be positive, not 0" in problems
    assert (
        "valuation.budget: must be a number" in problems or "valuation.budget: must be positive" in problems
    )
