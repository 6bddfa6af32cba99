"""The price store: issues share price history, each bar stored once, every issue rebuilt exactly."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from generator.build import build_from_snapshot, snapshot_until
from generator.config import load_config
from generator.errors import SourceError
from generator.models import Snapshot
from generator.sources.prices_csv import prices_csv
from generator.sources.snapshot import MANIFEST, read_snapshot, save_snapshot, write_snapshot
from generator.sources.store import PriceStore
from tests.conftest import ROOT, manifest_entries

# A few series stand for all where the point is how the store keeps each series (every series of
# the sample has the same columns and span): an index, an ETF, and a FRED series a day shorter.
FEW = ("^RUT", "IWM", "FRED-DGS10")


@pytest.fixture(scope="module")
def few(sample: Snapshot) -> Snapshot:
    return replace(sample, series={symbol: sample.series[symbol] for symbol in FEW})


def _files(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}


def _issue(out: Path, day: date) -> Path:
    return out / "briefs" / day.isoformat() / "snapshot"


def _series(snapshot: Path, symbol: str) -> dict[str, Any]:
    """The manifest entry of ``symbol`` in the snapshot folder ``snapshot``."""
    return manifest_entries(json.loads((snapshot / MANIFEST).read_text()), "series")[symbol]


def _csv_bytes(snapshot: Snapshot, symbol: str) -> bytes:
    return prices_csv(snapshot.series[symbol].frame)[0]


def _with_adj(snapshot: Snapshot, symbol: str, ex_dates: list[str], cut: float = 0.004) -> Snapshot:
    """``symbol`` with an Adj Close re-based by a dividend at each ex-date, as Yahoo shows it."""
    s = snapshot.series[symbol]
    frame = s.frame.copy()
    factor = np.ones(len(frame))
    for ex in ex_dates:
        factor[frame.index < pd.Timestamp(ex)] *= 1 - cut
    frame.insert(4, "Adj Close", frame["Close"].to_numpy() * factor)
    return replace(snapshot, series={**snapshot.series, symbol: replace(s, frame=frame)})


def test_stored_snapshot_reads_back_the_same_bytes_and_frames(sample: Snapshot, tmp_path: Path) -> None:
    week = snapshot_until(sample, date(2026, 10, 2))
    plain = write_snapshot(week, tmp_path / "plain")
    saved = save_snapshot(week, _issue(tmp_path, week.as_of), store=tmp_path / "store")
    doc = json.loads((_issue(tmp_path, week.as_of) / MANIFEST).read_text())
    old = json.loads((plain / MANIFEST).read_text())
    assert doc["format"] == old["format"] == 3
    assert doc["store"] == "../../../store" and "store" not in old
    assert not (_issue(tmp_path, week.as_of) / "prices").exists()
    plain_entries = manifest_entries(old, "series")
    for symbol, entry in manifest_entries(doc, "series").items():
        assert entry["sha256"] == plain_entries[symbol]["sha256"]  # the same CSV, byte for byte
        assert "file" not in entry and entry["chunks"]
    again = read_snapshot(_issue(tmp_path, week.as_of))
    from_plain = read_snapshot(plain)  # read once, not once per symbol
    for symbol, s in saved.series.items():
        pd.testing.assert_frame_equal(again.series[symbol].frame, s.frame, check_exact=True)
        pd.testing.assert_frame_equal(
            again.series[symbol].frame, from_plain.series[symbol].frame, check_exact=True
        )


def test_next_week_stores_only_the_new_month(few: Snapshot, tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = snapshot_until(few, date(2026, 10, 30))
    save_snapshot(first, _issue(tmp_path, first.as_of), store=store)
    before = _files(store)
    second = snapshot_until(few, date(2026, 11, 6))
    save_snapshot(second, _issue(tmp_path, second.as_of), store=store)
    added = _files(store) - before
    # One month file per series (November so far); October and every earlier month are shared.
    assert len(added) == len(second.series)
    assert all(p.name.startswith("2026-11.") for p in added), sorted(map(str, added))[:5]
    assert _files(store) >= before  # nothing rewritten or removed
    entry = _series(_issue(tmp_path, second.as_of), "IWM")
    assert [c[:4] for c in entry["chunks"][:4]] == [
        "2022",
        "2023",
        "2024",
        "2025",
    ]  # past years: one name each


def test_a_damaged_stored_piece_is_written_again_when_next_reused_and_said(
    few: Snapshot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A flipped byte in a stored year would make every later issue that reuses it unreadable (its
    manifest names the piece by the hash of the right bytes): the next save reads what it reuses,
    writes the damaged piece again with a WARNING naming it, and both issues read back."""
    store = tmp_path / "store"
    first = snapshot_until(few, date(2026, 10, 30))
    save_snapshot(first, _issue(tmp_path, first.as_of), store=store)
    (piece,) = sorted((store / "prices" / "^RUT" / "2025").glob("2025-all.*.csv"))
    good = piece.read_bytes()
    piece.write_bytes(good[:100] + (b"9" if good[100:101] != b"9" else b"8") + good[101:])
    with pytest.raises(SourceError, match="does not match the hash in its name"):
        read_snapshot(_issue(tmp_path, first.as_of))
    second = snapshot_until(few, date(2026, 11, 6))
    with caplog.at_level("WARNING"):
        save_snapshot(second, _issue(tmp_path, second.as_of), store=store)
    assert f"{piece}: did not hold the bytes its name is the hash of (damaged); written again" in caplog.text
    assert piece.read_bytes() == good
    for day in (first.as_of, second.as_of):
        read_snapshot(_issue(tmp_path, day))


def test_history_trimmed_at_the_front_reuses_the_stored_first_month(few: Snapshot, tmp_path: Path) -> None:
    store = tmp_path / "store"
    week = snapshot_until(few, date(2026, 10, 30))
    save_snapshot(week, _issue(tmp_path, week.as_of), store=store)
    before = _files(store)
    start = pd.Timestamp("2022-11-10")  # a few sessions into the first stored month
    trimmed = replace(
        week,
        series={s: replace(v, frame=v.frame.loc[start:]) for s, v in week.series.items()},
    )
    saved = save_snapshot(trimmed, tmp_path / "later" / "x" / "snapshot", store=store)
    assert _files(store) == before  # no month stored again, and the year lists are unchanged
    assert _series(tmp_path / "later" / "x" / "snapshot", "IWM")["first_bar"] == "2022-11-10"
    again = read_snapshot(tmp_path / "later" / "x" / "snapshot")
    assert again.series["IWM"].first_bar == date(2022, 11, 10)
    pd.testing.assert_frame_equal(again.series["IWM"].frame, saved.series["IWM"].frame, check_exact=True)


def test_a_dividend_rewrites_only_the_adjusted_closes(few: Snapshot, tmp_path: Path) -> None:
    store = tmp_path / "store"
    week1 = _with_adj(snapshot_until(few, date(2026, 10, 16)), "IWM", ["2025-06-16", "2026-03-16"])
    save_snapshot(week1, _issue(tmp_path, week1.as_of), store=store)
    before = _files(store)
    # Next week: the ETF goes ex-dividend on Monday, so every earlier adjusted close moves.
    week2 = _with_adj(
        snapshot_until(few, date(2026, 10, 23)), "IWM", ["2025-06-16", "2026-03-16", "2026-10-19"]
    )
    saved = save_snapshot(week2, _issue(tmp_path, week2.as_of), store=store)
    added = sorted(p.as_posix() for p in _files(store) - before if "IWM" in p.parts)
    adjusted = [p for p in added if p.startswith("prices/IWM/adj/")]
    assert len(adjusted) == 1  # the adjusted closes: one new file
    assert [p for p in added if p not in adjusted] == [p for p in added if "/2026-10." in p]  # October's bars
    assert len(added) == 2
    adj_name = _series(_issue(tmp_path, week2.as_of), "IWM")["adj"]
    assert adj_name.startswith("2026-10-16.")  # adjusted closes differ from the close up to the ex-date
    again = read_snapshot(_issue(tmp_path, week2.as_of))
    pd.testing.assert_frame_equal(again.series["IWM"].frame, saved.series["IWM"].frame, check_exact=True)
    assert "Adj Close" in again.series["IWM"].frame.columns
    expected = _csv_bytes(week2, "IWM")
    entry = _series(_issue(tmp_path, week2.as_of), "IWM")
    assert entry["sha256"] == hashlib.sha256(expected).hexdigest()
    assert PriceStore(store).get("IWM", entry, "test") == expected


def test_a_changed_or_missing_piece_is_refused_by_name(few: Snapshot, tmp_path: Path) -> None:
    week = snapshot_until(few, date(2026, 10, 2))
    save_snapshot(week, _issue(tmp_path, week.as_of), store=tmp_path / "store")
    month = next((tmp_path / "store" / "prices" / "IWM" / "2026").glob("2026-09.*.csv"))
    month.write_bytes(month.read_bytes().replace(b"2026-09-01,", b"2026-09-01,1"))
    with pytest.raises(SourceError, match="changed or corrupt") as info:
        read_snapshot(_issue(tmp_path, week.as_of))
    assert month.name in str(info.value)
    month.unlink()
    with pytest.raises(SourceError, match="missing from the price store"):
        read_snapshot(_issue(tmp_path, week.as_of))


@pytest.fixture(scope="module")
def stored_week(few: Snapshot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The week to 2026-10-02 saved with its store: the snapshot folder."""
    week = snapshot_until(few, date(2026, 10, 2))
    folder = _issue(tmp_path_factory.mktemp("stored"), week.as_of)
    save_snapshot(week, folder, store=folder.parents[2] / "store")
    return folder


@pytest.mark.parametrize(
    "where", ["/etc", "../../../store/../../../etc", "..\\store", "", "../../..", "../.git"]
)
def test_an_unsafe_store_folder_in_the_manifest_is_refused(stored_week: Path, where: str) -> None:
    # a copy beside the saved one, in the same layout: "../../../store" still names the real store
    folder = Path(tempfile.mkdtemp(dir=stored_week.parents[1])) / "snapshot"
    shutil.copytree(stored_week, folder)
    doc = json.loads((folder / MANIFEST).read_text())
    doc["store"] = where
    (folder / MANIFEST).write_text(json.dumps(doc))
    with pytest.raises(SourceError, match="store"):
        read_snapshot(folder)


def test_the_store_cannot_live_inside_the_snapshot(sample: Snapshot, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="inside the snapshot"):
        write_snapshot(sample, tmp_path / "snap", store=tmp_path / "snap" / "store")


def test_rebuild_from_an_archived_issue_is_byte_identical_and_stores_nothing_new(
    few: Snapshot, tmp_path: Path
) -> None:
    """Three series, as the store keeps each alike (the whole sample's rebuild: tests/test_cli.py)."""
    config = load_config(ROOT / "feeds.yaml")
    out = tmp_path / "output"
    day = date(2026, 11, 13)
    first = build_from_snapshot(config, few, as_of=day, out=out, formats=["html", "md"])
    assert (out / "store" / "prices" / "^RUT").is_dir()
    assert json.loads((first.folder / "snapshot" / MANIFEST).read_text())["store"] == "../../../store"
    before = _files(out / "store")
    again = build_from_snapshot(
        config,
        read_snapshot(first.folder / "snapshot"),
        as_of=day,
        out=tmp_path / "again",
        formats=["html", "md"],
    )
    for name in ("brief.html", "brief.md"):
        assert (again.folder / name).read_bytes() == (first.folder / name).read_bytes(), name
    assert _files(tmp_path / "again" / "store") == before  # the same pieces, by the same names
    # Rebuilt into the same output folder: the store gains nothing.
    build_from_snapshot(config, read_snapshot(first.folder), as_of=day, out=out, formats=["md"], force=True)
    assert _files(out / "store") == before


def test_a_new_store_writes_each_whole_past_year_once(few: Snapshot, tmp_path: Path) -> None:
    """A first issue stores 2023–2025 as one file each (not 36 months and three lists); the first year
    (2022, trimmed at the front week by week) month by month; and reads back the same frames."""
    store = tmp_path / "store"
    week = snapshot_until(few, date(2026, 10, 30))
    saved = save_snapshot(week, _issue(tmp_path, week.as_of), store=store)
    for symbol in FEW:
        names = sorted(p.name.split(".")[0] for p in _files(store / "prices" / symbol))
        assert names == ["2022", "2022-11", "2022-12", "2023-all", "2024-all", "2025-all"] + [
            f"2026-{m:02}" for m in range(1, 11)
        ], symbol
        assert [c.split(".")[0] for c in _series(_issue(tmp_path, week.as_of), symbol)["chunks"][:4]] == [
            "2022",
            "2023-all",
            "2024-all",
            "2025-all",
        ]
    again = read_snapshot(_issue(tmp_path, week.as_of))
    for symbol, s in saved.series.items():
        pd.testing.assert_frame_equal(again.series[symbol].frame, s.frame, check_exact=True)
    # Next week finds the whole years by name: one new file per series, November's.
    before = _files(store)
    later = snapshot_until(few, date(2026, 11, 6))
    save_snapshot(later, _issue(tmp_path, later.as_of), store=store)
    assert sorted(p.name[:7] for p in _files(store) - before) == ["2026-11"] * len(FEW)


def test_a_year_stored_month_by_month_is_listed_not_written_again(few: Snapshot, tmp_path: Path) -> None:
    """Built week by week, 2025 was stored month by month; once it is a past year the issue lists those
    months: the new year adds its first month and a list, never the whole year again."""
    store = tmp_path / "store"
    december = snapshot_until(few, date(2025, 12, 26))
    save_snapshot(december, _issue(tmp_path, december.as_of), store=store)
    before = _files(store)
    january = snapshot_until(few, date(2026, 1, 9))
    saved = save_snapshot(january, _issue(tmp_path, january.as_of), store=store)
    added = sorted(p.as_posix() for p in _files(store) - before)
    # Per series: December, completed since; January; and 2025's list of its months.
    kinds = sorted((p.split("/")[-1].split(".")[0], p.rsplit(".", 1)[1]) for p in added)
    assert kinds == sorted([("2025-12", "csv"), ("2026-01", "csv"), ("2025", "txt")] * len(FEW))
    assert not [p for p in added if "-all." in p]
    again = read_snapshot(_issue(tmp_path, january.as_of))
    for symbol, s in saved.series.items():
        pd.testing.assert_frame_equal(again.series[symbol].frame, s.frame, check_exact=True)


def test_history_trimmed_into_a_whole_year_reuses_it(few: Snapshot, tmp_path: Path) -> None:
    """When the front of the history moves into a year stored whole, that file serves the first year
    (the reader skips the bars before the first): nothing is stored again."""
    store = tmp_path / "store"
    week = snapshot_until(few, date(2026, 10, 30))
    save_snapshot(week, _issue(tmp_path, week.as_of), store=store)
    before = _files(store)
    start = pd.Timestamp("2023-03-15")
    trimmed = replace(week, series={s: replace(v, frame=v.frame.loc[start:]) for s, v in week.series.items()})
    saved = save_snapshot(trimmed, tmp_path / "later" / "x" / "snapshot", store=store)
    assert _files(store) == before
    assert _series(tmp_path / "later" / "x" / "snapshot", "IWM")["chunks"][0].startswith("2023-all.")
    again = read_snapshot(tmp_path / "later" / "x" / "snapshot")
    assert again.series["IWM"].first_bar == date(2023, 3, 15)
    for symbol, s in saved.series.items():
        pd.testing.assert_frame_equal(again.series[symbol].frame, s.frame, check_exact=True)


def _by_rows(rows: list[str], columns: tuple[str, ...]) -> tuple[dict[str, list[str]], list[str]]:
    """The store's split done the plain way, one row at a time: the reference for the fast one."""
    adj_at, close_at = columns.index("Adj Close"), columns.index("Close")
    months: dict[str, list[str]] = {}
    adjusted = []
    for row in rows:
        cells = row.split(",")
        if cells[adj_at] != cells[close_at]:
            adjusted.append(f"{cells[0]},{cells[adj_at]}")
        del cells[adj_at]
        months.setdefault(cells[0][:7], []).append(",".join(cells))
    return months, adjusted


@pytest.mark.parametrize(
    "header",
    [
        "Date,Open,High,Low,Close,Adj Close,Volume",  # what prices_csv writes: the regular expressions
        "Date,Close,Adj Close,Volume",
        "Date,Open,High,Low,Close,Adj Close",  # Adj Close last, or before Close: row by row
        "Date,Adj Close,Open,Close,Volume",
    ],
)
def test_splitting_rows_by_month_and_adjusted_close_matches_doing_it_row_by_row(header: str) -> None:
    from generator.sources.store import _months_of, _without_adj

    columns = tuple(header.split(","))
    close_at, adj_at = columns.index("Close"), columns.index("Adj Close")
    rows = []
    for n, day in enumerate(pd.bdate_range("2023-11-20", "2024-03-08")):
        cells = [f"{n}.5"] * len(columns)
        cells[0] = day.date().isoformat()
        cells[close_at] = f"{100 + n}.25"
        # equal, differing, equal but for a trailing digit (a prefix of the close), a longer close
        cells[adj_at] = [cells[close_at], f"{99 + n}.5", f"{100 + n}.2", f"{100 + n}.250"][n % 4]
        rows.append(",".join(cells))
    months, adjusted = _by_rows(rows, columns)
    bars, got = _without_adj(rows, columns)
    assert got == adjusted and len(adjusted) == sum(n % 4 != 0 for n in range(len(rows)))
    assert _months_of(bars) == list(months.items())
    assert [m for m, _ in _months_of(bars)] == ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
    shuffled = bars[5:] + bars[:5]  # out of order: grouped one row at a time, as before
    assert _months_of(shuffled) == list(_by_rows([r for r in rows[5:] + rows[:5]], columns)[0].items())
