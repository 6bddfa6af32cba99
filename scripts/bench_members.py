"""Benchmark: member prices for a synthetic 2,000-member universe, served by a fake Yahoo (no network).

Three runs of :func:`generator.sources.member_prices.fetch_member_panel` on one member cache:

- cold: nothing cached, every member asked for ``history_days`` of bars;
- warm: everything cached, the same day again: target 0 price requests;
- next session: one more session at Yahoo, every member asked from its last cached bar.

yfinance's real request and parsing code runs on chart bodies answered in-process by the test
transport (tests/yahoo_transport.py), so the times are this stage's own cost (yfinance's parsing,
the cache) without network latency.  The pauses between chunks are counted, not slept.

    .venv/bin/python scripts/bench_members.py [--members 2000] [--chunk 150] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from yahoo_transport import YahooTransport, chart_body, isolate_yfinance  # noqa: E402

from generator.sources.calendar import trading_days  # noqa: E402
from generator.sources.member_prices import MemberPanel, fetch_member_panel  # noqa: E402

FIRST = date(2025, 9, 2)  # Yahoo's synthetic history starts here (history_days reaches 2025-10-17)
FRIDAY, MONDAY = date(2026, 11, 20), date(2026, 11, 23)
WARM_TARGET_REQUESTS = 0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(transport: YahooTransport, symbols: list[str], last: date, seed: int = 8) -> None:
    """Random-walk daily bars for every member, on NYSE sessions up to ``last``."""
    days = pd.DatetimeIndex(pd.to_datetime(trading_days(FIRST, last)), name="Date")
    rng = np.random.default_rng(seed)
    closes = 20.0 * np.exp(np.cumsum(rng.normal(0, 0.02, (len(days), len(symbols))), axis=0))
    volumes = rng.integers(10_000, 900_000, (len(days), len(symbols))).astype(float)
    for n, symbol in enumerate(symbols):
        close = np.round(closes[:, n], 4)
        frame = {"Open": close, "High": close, "Low": close, "Close": close, "Volume": volumes[:, n]}
        transport.chart(symbol, chart_body(symbol, pd.DataFrame(frame, index=days)))


def timed(label: str, run: dict[str, object], **kwargs: object) -> MemberPanel:
    start = time.perf_counter()
    panel = fetch_member_panel(**kwargs)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    run[label.replace(" ", "_")] = {
        "seconds": round(seconds, 2),
        "requests": panel.requests,
        "fetched": len(panel.fetched),
        "from_cache": len(panel.from_cache),
        "failed": len(panel.failed),
        "panel": list(panel.closes.shape),
    }
    print(
        f"{label:>12}: {seconds:6.2f} s {panel.requests:5,} price requests  {len(panel.fetched):5,} fetched  "
        f"{len(panel.from_cache):5,} from cache  {len(panel.failed):3,} failed  "
        f"panel {panel.closes.shape[0]} sessions × {panel.closes.shape[1]:,} members"
    )
    return panel


def main() -> int:
    layout = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=layout)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=150)
    parser.add_argument("--pause", type=float, default=1.0, help="pause between chunks (counted, not slept)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    patch = pytest.MonkeyPatch()
    isolate_yfinance(patch)  # no yfinance caches on disk, no remembered crumb
    symbols = [f"M{i:04d}" for i in range(args.members)]
    transport = YahooTransport()
    serve(transport, symbols, FRIDAY)
    pauses: list[float] = []
    numbers: dict[str, object] = {"members": args.members, "chunk": args.chunk}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-members-") as tmp:
            common = {
                "symbols": symbols, "cache_dir": Path(tmp), "session": transport.session(),
                "chunk": args.chunk, "pause_s": args.pause, "sleep": pauses.append,
            }  # fmt: skip
            saturday = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
            timed("cold", numbers, today=saturday.date(), now=saturday, **common)
            numbers["cold_pauses_s"] = sum(pauses)
            print(f"{'':>12}  + {len(pauses)} pauses between chunks, {sum(pauses):g} s in a live run")
            warm = timed("warm", numbers, today=saturday.date(), now=saturday, **common)
            serve(transport, symbols, MONDAY)
            monday = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
            timed("next session", numbers, today=MONDAY, now=monday, **common)
    finally:
        patch.undo()
    numbers["peak_rss_mb"] = round(peak_rss_mb(), 1)
    ok = warm.requests == WARM_TARGET_REQUESTS
    print(
        f"warm refresh: {warm.requests} price requests (target {WARM_TARGET_REQUESTS}) — "
        f"{'ok' if ok else 'OVER TARGET'}; peak RSS {numbers['peak_rss_mb']} MB"
    )
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
