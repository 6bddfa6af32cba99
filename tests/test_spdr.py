"""The S&P 600 membership from a SPDR holdings workbook: its layout, its awkward rows, HTML refused."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from spdr_workbook import MEMBERS, PREAMBLE, workbook

from generator.errors import SourceError
from generator.sources.spdr import SOURCE_NAME, parse_spdr_holdings


def test_the_members_of_a_workbook_in_state_streets_layout(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        membership = parse_spdr_holdings(workbook())
    assert membership.as_of == date(2026, 5, 5) and membership.source == SOURCE_NAME
    assert [m.ticker for m in membership.members] == ["MLI", "AWI", "SPXC", "CORT", "MOG.A", "EAT", "AGO"]
    moog = membership.members[4]
    assert (moog.yahoo_symbol, moog.name, moog.sector, moog.weight) == (
        "MOG-A", "MOOG INC CLASS A", "Industrials", 0.47,
    )  # fmt: skip
    assert membership.members[5].weight == 0.44  # written as "0.44%"
    assert dict(membership.dropped) == {
        "cash": 1, "money market": 1, "futures": 1, "contra": 1, "without ticker": 1, "duplicate": 1,
    }  # fmt: skip
    assert "ZZZ" not in membership.symbols  # a row after the disclaimers is not a holding
    assert "dropped 6 rows that are not tradable members" in caplog.text


def test_the_header_row_is_found_by_its_cells_and_other_date_layouts_are_read() -> None:
    preamble = (("SPDR® Portfolio S&P 600 Small Cap ETF",), ("Fund Name:", "SPDR Portfolio S&P 600"),
                ("Ticker Symbol:", "SPSM"), ("Holdings:", "As of May 05, 2026"), (), ())  # fmt: skip
    header = ("Ticker", "Name", "Sector", "Weight", "Shares Held")  # another order, fewer columns
    rows = [(m[1], m[0], m[5], m[4], m[6]) for m in MEMBERS]
    membership = parse_spdr_holdings(workbook(rows, preamble=preamble, header=header, sheet="Sheet1"))
    assert membership.as_of == date(2026, 5, 5) and len(membership.members) == len(MEMBERS)
    assert membership.members[0].name == "MUELLER INDUSTRIES INC"


def test_members_are_listed_largest_weight_first() -> None:
    rows = [MEMBERS[6], MEMBERS[0], MEMBERS[3]]
    assert [m.ticker for m in parse_spdr_holdings(workbook(rows)).members] == ["MLI", "CORT", "AGO"]


HTML = b"<!DOCTYPE html><html><head><title>Access Denied</title></head><body>Blocked</body></html>"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (HTML, "the server answered with an HTML page, not the holdings workbook"),
        (b"\n  <html><body>Please enable JavaScript</body></html>", "an HTML page"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "an old Excel .xls workbook"),
        (b"Name,Ticker,Weight\nMUELLER,MLI,0.7\n", "not an xlsx workbook"),
        (b"", "empty file"),
    ],
    ids=["html", "html-late", "xls", "csv", "empty"],
)
def test_what_is_not_an_xlsx_workbook_is_refused_by_its_content(body: bytes, why: str) -> None:
    with pytest.raises(SourceError, match=why) as info:
        parse_spdr_holdings(body)
    assert info.value.source == SOURCE_NAME


def test_a_workbook_cut_short_is_refused() -> None:
    whole = workbook()
    with pytest.raises(SourceError, match="unreadable xlsx workbook"):
        parse_spdr_holdings(whole[: len(whole) // 2])


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"preamble": PREAMBLE[:2] + PREAMBLE[3:]}, "no 'As of' date before the holdings table"),
        ({"preamble": (("Holdings:", "As of 31-Feb-2026"),)}, "unreadable 'As of' date '31-Feb-2026'"),
        ({"header": ("Name", "Symbol", "Weight", "Sector")}, "no holdings table"),
        ({"rows": [(*MEMBERS[0][:4], 0.0, *MEMBERS[0][5:])]}, "no tradable members in the holdings of"),
        ({"notice": ()}, r"truncated: the sheet ends inside the holdings table after 13 rows"),
    ],
    ids=["no-date", "bad-date", "no-header", "no-members", "no-notice"],
)
def test_a_sheet_without_date_header_members_or_end_is_refused(options: dict[str, object], why: str) -> None:
    with pytest.raises(SourceError, match=why):
        parse_spdr_holdings(workbook(**options))  # type: ignore[arg-type]


def test_a_table_without_its_notice_is_taken_when_its_weights_add_up() -> None:
    rows = [(*m[:4], 98.5 / len(MEMBERS), *m[5:]) for m in MEMBERS]
    assert len(parse_spdr_holdings(workbook(rows, notice=())).members) == len(MEMBERS)
