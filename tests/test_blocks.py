"""Provider blocks of the snapshot manifest: one per provider, every file in one, each sha256 checked."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from generator.errors import SourceError
from generator.models import ProviderBlock, Snapshot, SourceHealth
from generator.sources.blocks import assign, status_of
from generator.sources.gather import compose
from generator.sources.providers import Provider, ProviderResult
from generator.sources.snapshot import MANIFEST, SAMPLE_DIR, read_snapshot, save_snapshot
from generator.sources.store import PriceStore
from tests.conftest import ROOT, manifest_entries
from tests.fake_providers import NOW, Fake, fake_context

LEGACY_MANIFEST = ROOT / "tests" / "data" / "snapshot_format1" / MANIFEST


def _providers(sample: Snapshot) -> list[Provider]:
    series = {s: sample.series[s] for s in ("^RUT", "IWM", "^GSPC")}
    ok = SourceHealth("symbol", "^RUT", "ok", "live", 10, date(2026, 11, 20))
    [first, second] = sorted(sample.feeds)[:2]
    failed = replace(sample.feeds[second], body=b"", status="failed", error="timed out")
    feeds = {first: sample.feeds[first], second: failed}
    return [
        Fake("prices", ProviderResult("Prices Inc.", series=series, health=(ok,))),
        Fake("fund-data", ProviderResult("Prices Inc.", valuation={"IWM": {"trailingPE": 17.0}})),
        Fake(
            "news",
            ProviderResult(
                "RSS/Atom feeds",
                feeds=feeds,
                health=(SourceHealth("feed", second, "failed", "live", error="timed out"),),
            ),
        ),
        Fake("members", ProviderResult("Members Ltd.", index_view=sample.index_view)),
        Fake("broken", SourceError("broken source", "HTTP 403 Forbidden")),
    ]


def _gathered(sample: Snapshot, tmp_path: Path, *, store: bool = True, offline: bool = False) -> Path:
    snapshot = compose(_providers(sample), fake_context(tmp_path, offline))
    folder = tmp_path / "out" / "briefs" / "2026-11-20" / "snapshot"
    save_snapshot(snapshot, folder, store=tmp_path / "out" / "store" if store else None)
    return folder


def _manifest(folder: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return doc


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


# -- writing ----------------------------------------------------------------------------------------


def test_each_provider_has_a_block_with_its_files_each_with_its_sha256(
    sample: Snapshot, tmp_path: Path
) -> None:
    folder = _gathered(sample, tmp_path)
    doc = _manifest(folder)
    assert doc["format"] == 3 and doc["store"] == "../../../store"
    blocks = {b["name"]: b for b in doc["providers"]}
    assert [b["name"] for b in doc["providers"]] == ["prices", "fund-data", "news", "members", "broken"]
    header = {n: (b["label"], b["fetched_at"], b["status"]) for n, b in blocks.items()}
    assert header == {
        "prices": ("Prices Inc.", "2026-11-21T14:00:00Z", "ok"),
        "fund-data": ("Prices Inc.", "2026-11-21T14:00:00Z", "ok"),
        "news": ("RSS/Atom feeds", "2026-11-21T14:00:00Z", "degraded"),
        "members": ("Members Ltd.", "2026-11-21T14:00:00Z", "ok"),
        "broken": ("", "2026-11-21T14:00:00Z", "failed"),
    }
    assert set(blocks["prices"]) == {"name", "label", "fetched_at", "status", "series"}
    assert set(blocks["fund-data"]) == set(blocks["broken"]) == {"name", "label", "fetched_at", "status"}
    # Stored price series: the sha256 of the whole CSV and the store's pieces it is joined from.
    store = PriceStore(tmp_path / "out" / "store")
    for symbol, entry in blocks["prices"]["series"].items():
        assert entry["sha256"] == _sha(store.get(symbol, entry, "test"))
        for ref in entry["chunks"]:
            kind = "txt" if len(ref.split(".")[0]) == 4 else "csv"
            year = "" if kind == "txt" else ref[:4] + "/"
            assert (store.root / "prices" / symbol / f"{year}{ref}.{kind}").is_file(), ref
    # Files in the snapshot folder: a sha256 each (a failed feed without a body has no file).
    [kept, lost] = blocks["news"]["feeds"].values()
    assert kept["sha256"] == _sha((folder / kept["file"]).read_bytes())
    assert (lost["file"], lost["sha256"], lost["status"]) == (None, None, "failed")
    for part in ("daily", "members"):
        entry = blocks["members"]["index"][part]
        assert entry["sha256"] == _sha((folder / entry["file"]).read_bytes())
    assert "series" not in doc and "feeds" not in doc and "index" not in doc


def test_a_provider_that_only_read_its_cache_has_no_fetch_time(sample: Snapshot, tmp_path: Path) -> None:
    doc = _manifest(_gathered(sample, tmp_path, store=False, offline=True))
    assert {b["fetched_at"] for b in doc["providers"]} == {None}
    assert manifest_entries(doc, "series")["IWM"]["file"] == "prices/IWM.csv"


def test_rewriting_a_snapshot_with_blocks_gives_the_same_bytes(sample: Snapshot, tmp_path: Path) -> None:
    folder = _gathered(sample, tmp_path)
    first = read_snapshot(folder)
    assert [b.name for b in first.blocks] == ["prices", "fund-data", "news", "members", "broken"]
    assert first.blocks[0] == ProviderBlock(
        "prices", "Prices Inc.", NOW, "ok", series=("IWM", "^GSPC", "^RUT")
    )
    again = tmp_path / "again" / "briefs" / "2026-11-20" / "snapshot"
    save_snapshot(first, again, store=tmp_path / "again" / "store")
    assert _tree(again) == _tree(folder)
    assert _tree(tmp_path / "again" / "store") == _tree(tmp_path / "out" / "store")


# -- reading: every sha256 checked, the provider named ----------------------------------------------------


def _feed_file(folder: Path) -> Path:
    return folder / next(iter(manifest_entries(_manifest(folder), "feeds").values()))["file"]


@pytest.mark.parametrize(
    ("target", "provider"),
    [
        (_feed_file, "news"),
        (lambda folder: folder / "index" / "members.csv", "members"),
        (lambda folder: folder.parents[2] / "store" / "prices" / "IWM" / "2026" / "2026-11.csv", "prices"),
    ],
    ids=["feed", "index", "store-month"],
)
def test_a_changed_file_is_refused_naming_the_file_and_its_provider(
    sample: Snapshot, tmp_path: Path, target: Any, provider: str
) -> None:
    folder = _gathered(sample, tmp_path)
    path: Path = target(folder)
    if not path.exists():  # a month of the store: its name carries its hash
        path = next(path.parent.glob("2026-11.*.csv"))
    path.write_bytes(path.read_bytes().replace(b"2", b"3", 1))
    with pytest.raises(SourceError, match=r"(sha256|hash).*changed or corrupt") as info:
        read_snapshot(folder)
    message = str(info.value)
    assert Path(info.value.source).resolve() == path.resolve()
    assert message.endswith(f" — provider {provider}")
    assert "\n" not in message


def test_a_missing_file_is_named_with_its_provider(sample: Snapshot, tmp_path: Path) -> None:
    folder = _gathered(sample, tmp_path)
    feed = _feed_file(folder)
    feed.unlink()
    with pytest.raises(SourceError, match="cannot read") as info:
        read_snapshot(folder)
    assert str(info.value).startswith(str(feed)) and str(info.value).endswith(" — provider news")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda doc: doc["providers"][2].update(name="prices"), "a second block of provider prices"),
        (lambda doc: doc["providers"][0].update(status="fine"), "providers.prices.status must be one of"),
        (lambda doc: doc["providers"][1].update(name="../x"), "not safe as a file name"),
        (lambda doc: doc["providers"][1].update(series=[]), "providers.fund-data.series must be an object"),
        (lambda doc: doc.pop("providers"), "format 3 needs its providers blocks"),
        (
            lambda doc: doc["providers"][1].update(series={"IWM": doc["providers"][0]["series"]["IWM"]}),
            "series.IWM is in the blocks of both prices and fund-data",
        ),
    ],
    ids=["same-name", "status", "unsafe-name", "not-an-object", "no-blocks", "file-in-two-blocks"],
)
def test_a_malformed_block_is_refused(sample: Snapshot, tmp_path: Path, change: Any, problem: str) -> None:
    folder = _gathered(sample, tmp_path)
    doc = _manifest(folder)
    change(doc)
    (folder / MANIFEST).write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SourceError, match=problem.replace(".", r"\.")):
        read_snapshot(folder)


# -- older snapshots, without blocks -----------------------------------------------------------------------


def test_a_format_1_snapshot_without_blocks_still_reads(sample: Snapshot, tmp_path: Path) -> None:
    """The bundled sample's manifest as it was written before provider blocks, over the same files."""
    folder = tmp_path / "old"
    shutil.copytree(SAMPLE_DIR, folder)
    legacy = LEGACY_MANIFEST.read_bytes()
    assert json.loads(legacy)["format"] == 1 and "providers" not in json.loads(legacy)
    (folder / MANIFEST).write_bytes(legacy)
    old = read_snapshot(folder)
    assert old.blocks == () and set(old.series) == set(sample.series) and set(old.feeds) == set(sample.feeds)
    for symbol, series in sample.series.items():
        pd.testing.assert_frame_equal(old.series[symbol].frame, series.frame, check_exact=True)
    assert old.health == sample.health and old.events == sample.events
    assert old.index_view is not None and sample.index_view is not None
    pd.testing.assert_frame_equal(old.index_view.members, sample.index_view.members, check_exact=True)
    # Written again, it is a format-3 snapshot whose one block holds every file.
    save_snapshot(old, tmp_path / "new")
    [block] = _manifest(tmp_path / "new")["providers"]
    assert (block["name"], block["fetched_at"], block["status"]) == ("sample", None, "ok")
    assert set(block["series"]) == set(sample.series) and "index" in block
    # A changed file is still refused by name (no provider to name).
    csv = folder / "prices" / "IWM.csv"
    csv.write_bytes(csv.read_bytes().replace(b"2", b"3", 1))
    with pytest.raises(SourceError, match="sha256 does not match") as info:
        read_snapshot(folder)
    assert str(info.value).startswith(str(csv)) and "provider" not in str(info.value)


def test_a_format_2_snapshot_in_the_price_store_still_reads(sample: Snapshot, tmp_path: Path) -> None:
    folder = _gathered(sample, tmp_path)
    new = read_snapshot(folder)
    doc = _manifest(folder)
    for kind in ("series", "feeds", "index"):  # the layout before provider blocks: all at the top
        doc[kind] = {k: v for b in doc["providers"] for k, v in b.get(kind, {}).items()}
    doc["index"] = doc["index"] or None
    del doc["providers"]
    doc["format"] = 2
    (folder / MANIFEST).write_text(json.dumps(doc), encoding="utf-8")
    old = read_snapshot(folder)
    assert old.blocks == () and set(old.series) == set(new.series) and set(old.feeds) == set(new.feeds)
    for symbol, series in new.series.items():
        pd.testing.assert_frame_equal(old.series[symbol].frame, series.frame, check_exact=True)
    assert old.index_view is not None


# -- the blocks themselves ---------------------------------------------------------------------------------


def test_every_file_goes_to_one_block_the_last_claim_wins_and_the_rest_to_a_block_of_its_own(
    sample: Snapshot,
) -> None:
    feed = sorted(sample.feeds)[0]
    snapshot = replace(
        sample,
        is_sample=False,
        feeds={feed: sample.feeds[feed]},
        blocks=(
            ProviderBlock("a", series=("^RUT", "IWM", "NOT-THERE"), index=True),
            ProviderBlock("b", series=("IWM",), feeds=(feed,)),
        ),
    )
    a, b, rest = assign(snapshot)
    assert (a.name, a.series, a.index) == ("a", ("^RUT",), True)
    assert (b.name, b.series, b.feeds) == ("b", ("IWM",), (feed,))
    assert rest.name == "snapshot" and rest.label == sample.provider and rest.fetched_at is None
    assert set(rest.series) == set(sample.series) - {"^RUT", "IWM"} and not rest.index
    claimed = replace(snapshot, series={"^RUT": sample.series["^RUT"]}, feeds={}, index_view=None)
    assert [x.name for x in assign(claimed)] == ["a", "b"]  # nothing left over: no block for it


def test_status_follows_the_providers_health_rows() -> None:
    ok = SourceHealth("symbol", "^RUT", "ok", "live")
    cached = SourceHealth("symbol", "IWM", "cached", "cache")
    failed = SourceHealth("feed", "x", "failed", "live", error="timed out")
    assert status_of((), False) == "ok" and status_of((ok, cached), True) == "ok"
    assert status_of((ok, failed), True) == "degraded" and status_of((failed,), False) == "failed"
    assert status_of((failed,), True) == "degraded"  # it failed but gave a cached copy
    assert status_of((ok, failed), False) == "degraded"  # one calendar refused, the others had no item
