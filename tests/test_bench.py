"""scripts/bench_peer.py: each command is timed between two runs of the peer, and its figure is a
multiple of the peer runs around it (the timings themselves are `make bench-peer`'s, not a test's)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


def _bench_peer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_peer", ROOT / "scripts" / "bench_peer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _logging(log: Path, name: str, *, exit_code: int = 0) -> list[str]:
    code = f"import sys; open({str(log)!r}, 'a').write({name!r} + '\\n'); sys.exit({exit_code})"
    return [sys.executable, "-c", code]


def test_each_command_runs_between_two_peer_runs_and_is_reported_against_them(tmp_path: Path) -> None:
    bench = _bench_peer()
    log = tmp_path / "log"
    commands = {part: _logging(log, part) for part in ("build", "test")}
    report = bench.measure(commands, 2, _logging(log, "peer"))
    runs = log.read_text().split()
    # warm-up (the peer, then every command but the test suite), then each command between two peer runs
    assert runs == ["peer", "build", "peer", "build", "peer", "test", "peer", "build", "peer", "test", "peer"]
    assert set(report) == {"build", "test"}
    for part, row in report.items():
        assert len(row["ours_s"]) == len(row["peer_s"]) == 2
        assert row["target_ratio"] == round(bench.TARGETS[part], 2)
        # from the ratio before it is rounded to 3 decimals for the report (2.0686 gives 8.7 s, 2.069 8.8 s)
        assert row["at_reference_peer_s"] == pytest.approx(row["ratio"] * bench.REFERENCE_PEER_S, abs=0.06)
        assert row["met"] == (row["ratio"] <= bench.TARGETS[part])
    assert round(bench.TARGETS["test"] * bench.REFERENCE_PEER_S) == 60  # the seconds
    assert round(bench.TARGETS["backfill"] * bench.REFERENCE_PEER_S) == 30


def test_a_failing_command_stops_the_benchmark_naming_it(tmp_path: Path) -> None:
    bench = _bench_peer()
    failing = _logging(tmp_path / "log", "build", exit_code=3)
    with pytest.raises(SystemExit, match="exited 3"):
        bench.measure({"build": failing}, 1, _logging(tmp_path / "log", "peer"))
