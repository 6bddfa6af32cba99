"""Benchmark: breadth and attribution on a synthetic 2,000-member × 2-year panel.

Targets (issue 8): at most 1 s and 300 MB of extra peak RSS for the whole stage
(daily breadth series, the week's breadth, sector and member attribution).
The panel is built first, so its own memory is not counted; the stage runs once to warm
up imports and caches, then is timed over several runs (best and median reported).

    .venv/bin/python scripts/bench_breadth.py [--members 2000] [--sessions 504] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.analysis.breadth import attribute, compute_breadth, daily_breadth  # noqa: E402

SECTORS = (
    "Financials", "Health Care", "Industrials", "Information Technology", "Consumer Discretionary",
    "Energy", "Real Estate", "Materials", "Communication", "Consumer Staples", "Utilities",
)  # fmt: skip
TARGET_SECONDS = 1.0
TARGET_MB = 300.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_panel(members: int, sessions: int, seed: int = 8) -> tuple[pd.DataFrame, pd.Series]:
    """Random-walk closes with realistic gaps: late listings, a few unfetched members, holes."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(end="2026-05-15", periods=sessions)
    market = rng.normal(0.0003, 0.012, sessions)
    moves = market[:, None] * rng.uniform(0.6, 1.6, members) + rng.normal(0, 0.025, (sessions, members))
    closes = 20.0 * np.exp(np.cumsum(moves, axis=0))
    late = rng.random(members) < 0.08  # listed during the two years
    starts = rng.integers(0, sessions - 30, members)
    closes[np.arange(sessions)[:, None] < np.where(late, starts, 0)] = np.nan
    closes[:, rng.random(members) < 0.02] = np.nan  # not fetched
    closes[rng.random((sessions, members)) < 0.001] = np.nan  # missing bars
    symbols = [f"M{i:04d}" for i in range(members)]
    index = pd.Series(100.0 * np.exp(np.cumsum(market)), index=days)
    return pd.DataFrame(closes, index=days, columns=symbols), index


def stage(panel: pd.DataFrame, index: pd.Series, weights: dict[str, float], sectors: dict[str, str]) -> None:
    week = (date(2026, 5, 11), date(2026, 5, 15))
    daily = daily_breadth(panel)  # the series the snapshot keeps
    breadth = compute_breadth(panel, index, *week, list(weights))
    result = attribute(panel, *week, weights, sectors)
    assert breadth is not None and result is not None and len(daily) == len(panel)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=504)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()

    panel, index = synthetic_panel(args.members, args.sessions)
    rng = np.random.default_rng(1)
    weights = dict(zip(panel.columns, rng.pareto(1.5, args.members) + 0.01, strict=True))
    sectors = {s: SECTORS[i % len(SECTORS)] for i, s in enumerate(panel.columns)}
    before = peak_rss_mb()
    stage(panel, index, weights, sectors)  # warm-up
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        stage(panel, index, weights, sectors)
        times.append(time.perf_counter() - start)
    extra = peak_rss_mb() - before
    numbers = {
        "members": args.members,
        "sessions": args.sessions,
        "best_seconds": round(min(times), 4),
        "median_seconds": round(statistics.median(times), 4),
        "extra_peak_rss_mb": round(extra, 1),
        "panel_mb": round(panel.memory_usage(deep=True).sum() / 2**20, 1),
    }
    ok = numbers["median_seconds"] <= TARGET_SECONDS and extra <= TARGET_MB
    print(
        f"breadth + attribution, {args.members:,} members × {args.sessions} sessions: "
        f"median {numbers['median_seconds']:.3f} s (best {numbers['best_seconds']:.3f} s, "
        f"target ≤ {TARGET_SECONDS:g} s), extra peak RSS {extra:.1f} MB (target ≤ {TARGET_MB:g} MB)"
        f" — {'ok' if ok else 'OVER TARGET'}"
    )
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
