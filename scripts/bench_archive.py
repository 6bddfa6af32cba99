"""Benchmark: how much the archive grows a week.

Builds consecutive weekly issues (8 by default) into one output folder, the way the publish
workflow does, and after each week reports the bytes added:

- to ``output/`` (every file's size: the issue folder and the shared price store);
- to a git repository that commits each week's new files (the issue folder and ``output/store``),
  as ``git count-objects -v`` sees it, loose and after ``git repack -adq`` (packed, as a host
  keeps it);
- to a second git repository that commits only the data (the issue's snapshot folder and the
  store), packed: the part of the archive the price store is about, without the rendered
  PDF, charts and HTML.

Two scenarios:

- ``sample``: the bundled sample, cut at each week's close (``build_from_snapshot`` does the cut).
- ``live``: the sample made to look like a live fetch: each week's series start
  ``--window-years`` before the week (the live fetch trims to ``history_years``), and every ETF
  carries an ``Adj Close`` re-based by simulated dividends, as Yahoo re-bases every earlier
  adjusted close after an ex-date: quarterly ex-dates on the third Monday of January, April,
  July and October for the equity ETFs (all of them in the same week, the worst case), monthly
  ex-dates on the first session of each month for the bond ETFs (HYG, IEF).

Target: at most 300 KB a week.  Prints a table per scenario and writes output/bench_archive.json.

    .venv/bin/python scripts/bench_archive.py [--weeks 8] [--scenario sample|live|both]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.models import Series, Snapshot  # noqa: E402

log = logging.getLogger("bench_archive")

TARGET_BYTES = 300_000
MONTHLY_PAYERS = ("HYG", "IEF")
QUARTER_MONTHS = (1, 4, 7, 10)
QUARTERLY_CUT = 0.0035  # a dividend of 0.35% of the price, each quarter
MONTHLY_CUT = 0.004


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def git_sizes(repo: Path) -> tuple[int, int]:
    """(loose object bytes, packed bytes after a full repack), from ``git count-objects -v``."""
    loose = _count(repo)["size"]
    git(repo, "repack", "-adq")
    packed = _count(repo)["size-pack"]
    return loose * 1024, packed * 1024


def _count(repo: Path) -> dict[str, int]:
    pairs = (line.split(": ") for line in git(repo, "count-objects", "-v").splitlines())
    return {k: int(v) for k, v in pairs if v.isdigit()}


# --------------------------------------------------------------------------- the live-like scenario


def _third_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 14)


def ex_dates(symbol: str, first: date, last: date) -> list[pd.Timestamp]:
    """The simulated ex-dividend dates of one ETF between ``first`` and ``last``."""
    days: list[date] = []
    for year in range(first.year, last.year + 1):
        for month in range(1, 13):
            if symbol in MONTHLY_PAYERS:
                day = date(year, month, 1)
                while day.weekday() >= 5:
                    day += timedelta(days=1)
            elif month in QUARTER_MONTHS:
                day = _third_monday(year, month)
            else:
                continue
            if first < day <= last:
                days.append(day)
    return [pd.Timestamp(d) for d in days]


def with_dividends(series: Series, week_end: date) -> Series:
    """``series`` with the Adj Close Yahoo would show after the close of ``week_end``."""
    frame = series.frame.loc[: pd.Timestamp(week_end)].copy()
    cut = MONTHLY_CUT if series.symbol in MONTHLY_PAYERS else QUARTERLY_CUT
    factor = np.ones(len(frame))
    stamps = pd.DatetimeIndex(frame.index)
    for ex in ex_dates(series.symbol, stamps[0].date(), week_end):
        factor[stamps < ex] *= 1 - cut  # every bar before the ex-date is scaled down
    close = frame["Close"].to_numpy(dtype=float)
    frame.insert(frame.columns.get_loc("Close") + 1, "Adj Close", close * factor)
    return replace(series, frame=frame)


def live_like(sample: Snapshot, week_end: date, window_years: int) -> Snapshot:
    start = pd.Timestamp(week_end) - pd.DateOffset(years=window_years)
    series = {}
    for symbol, s in sample.series.items():
        trimmed = replace(s, frame=s.frame.loc[start:])
        etf = not symbol.startswith(("^", "FRED-"))
        series[symbol] = with_dividends(trimmed, week_end) if etf else trimmed
    return replace(sample, series=series)


# --------------------------------------------------------------------------- the weekly builds


def use_plain_layout() -> None:
    """Build as before the price store: every issue keeps its whole history (for comparison)."""
    import generator.sources.snapshot as snapshot_module

    save = snapshot_module.save_snapshot

    def plain(snapshot: Snapshot, path: Path, *, store: Path | None = None) -> Snapshot:
        return save(snapshot, path)

    snapshot_module.save_snapshot = plain  # type: ignore[assignment]


def run(scenario: str, weeks: int, formats: tuple[str, ...], window_years: int, keep: Path | None) -> dict:
    from generator.build import build_from_snapshot, past_week_ends
    from generator.config import load_config
    from generator.sources.snapshot import load_sample

    config = load_config(ROOT / "feeds.yaml")
    sample = load_sample()
    ends = past_week_ends(sample.as_of, weeks, config.brief.week_ends_on)
    work = Path(tempfile.mkdtemp(prefix=f"bench-archive-{scenario}-"))
    repo, out, data_repo = work, work / "output", work / "data-only"
    data_repo.mkdir()
    for where in (repo, data_repo):
        git(where, "init", "-q")
        git(where, "config", "user.name", "bench")
        git(where, "config", "user.email", "bench@example.invalid")
        (where / "README").write_text("archive\n")
        git(where, "add", "README")
        git(where, "commit", "-qm", "start")
    rows = []
    before_out, before_pack, before_data = 0, git_sizes(repo)[1], git_sizes(data_repo)[1]
    for week_end in ends:
        snapshot = live_like(sample, week_end, window_years) if scenario == "live" else sample
        start = time.perf_counter()
        result = build_from_snapshot(config, snapshot, as_of=week_end, out=out, formats=formats)
        seconds = time.perf_counter() - start
        paths = [str(result.folder.relative_to(repo))]
        if (out / "store").exists():
            paths.append(str((out / "store").relative_to(repo)))
        git(repo, "add", "-f", "--", *paths)
        git(repo, "commit", "-qm", f"week ending {week_end}")
        total = tree_bytes(out)
        loose, pack = git_sizes(repo)
        copy = data_repo / "output"
        shutil.copytree(result.folder / "snapshot", copy / "briefs" / result.folder.name / "snapshot")
        if (out / "store").exists():
            shutil.copytree(out / "store", copy / "store", dirs_exist_ok=True)
        git(data_repo, "add", "-f", "--", "output")
        git(data_repo, "commit", "-qm", f"week ending {week_end}")
        data = git_sizes(data_repo)[1]
        rows.append(
            {
                "week_end": week_end.isoformat(),
                "build_s": round(seconds, 2),
                "issue_bytes": tree_bytes(result.folder),
                "snapshot_bytes": tree_bytes(result.folder / "snapshot"),
                "store_bytes": tree_bytes(out / "store"),
                "added_output_bytes": total - before_out,
                "added_git_loose_bytes": loose,  # the last week's objects were repacked
                "added_git_packed_bytes": pack - before_pack,
                "added_data_git_packed_bytes": data - before_data,
            }
        )
        before_out, before_pack, before_data = total, pack, data
    if keep is not None:
        shutil.rmtree(keep / scenario, ignore_errors=True)
        shutil.copytree(out, keep / scenario)
    shutil.rmtree(work, ignore_errors=True)
    later = rows[1:] or rows  # the first week stores the whole history once
    return {
        "scenario": scenario,
        "weeks": rows,
        "max_added_output_bytes_after_first": max(r["added_output_bytes"] for r in later),
        "max_added_git_packed_bytes_after_first": max(r["added_git_packed_bytes"] for r in later),
        "mean_added_output_bytes_after_first": round(
            sum(r["added_output_bytes"] for r in later) / len(later)
        ),
        "mean_added_git_packed_bytes_after_first": round(
            sum(r["added_git_packed_bytes"] for r in later) / len(later)
        ),
        "max_added_data_git_packed_bytes_after_first": max(r["added_data_git_packed_bytes"] for r in later),
    }


def _kb(n: int) -> str:
    return f"{n / 1000:9.1f}"


def print_table(result: dict) -> None:
    print(f"\nscenario: {result['scenario']}  (KB = 1000 bytes; target <= {TARGET_BYTES // 1000} KB a week)")
    print(
        "week ending   build s  issue KB  snapshot KB  store KB  +output KB  +git loose KB  +git packed KB"
        "  +data git packed KB"
    )
    for r in result["weeks"]:
        print(
            f"{r['week_end']}  {r['build_s']:7.2f} {_kb(r['issue_bytes'])} {_kb(r['snapshot_bytes'])}    "
            f"{_kb(r['store_bytes'])} {_kb(r['added_output_bytes'])}      {_kb(r['added_git_loose_bytes'])}"
            f"       {_kb(r['added_git_packed_bytes'])}            {_kb(r['added_data_git_packed_bytes'])}"
        )
    print(
        f"after the first week: output +{_kb(result['mean_added_output_bytes_after_first']).strip()} KB/week"
        f" on average (max {_kb(result['max_added_output_bytes_after_first']).strip()}),"
        f" git packed +{_kb(result['mean_added_git_packed_bytes_after_first']).strip()} KB"
        f" (max {_kb(result['max_added_git_packed_bytes_after_first']).strip()}),"
        f" data only, git packed: max +{_kb(result['max_added_data_git_packed_bytes_after_first']).strip()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--scenario", choices=("sample", "live", "both"), default="both")
    parser.add_argument("--formats", default="html,md,pdf", help="comma-separated formats to build")
    parser.add_argument("--window-years", type=int, default=3, help="live scenario: years of history kept")
    parser.add_argument("--keep", type=Path, help="copy each scenario's output folder here")
    parser.add_argument("--plain", action="store_true", help="no price store: the layout before it")
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench_archive.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.plain:
        use_plain_layout()
    formats = tuple(f for f in args.formats.split(",") if f)
    scenarios = ("sample", "live") if args.scenario == "both" else (args.scenario,)
    results = [run(s, args.weeks, formats, args.window_years, args.keep) for s in scenarios]
    for result in results:
        print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
