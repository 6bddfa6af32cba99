"""Speed in a fixed peer's units: `make bench-peer`.

Issue 9 set its speed targets in seconds on a 2-core host on which the peer, quantstats' HTML
tearsheet of two 5-year daily series (../shared/tools/qs_peer.py, the one
../shared/tools/perf-vs-quantstats runs), took 4.23 s.  A shared host's speed drifts by two to
three times from hour to hour, so a time in seconds says little without the host's speed beside
it.  This runs each of our commands between two runs of the peer, alternated, and reports each as
a multiple of the mean of the two peer runs around it (the median over the pairs), and what that
multiple is in seconds at the peer's 4.23 s:

=========  ======================================================  ===================
part       command                                                 target
=========  ======================================================  ===================
build      ``smallcap-brief build --data sample`` (fresh process)  0.5 x the peer
backfill   ``smallcap-brief backfill --weeks 52 --data sample``    30 s = 7.09 x
test       ``make test`` (lint, types, workflows, the suite)       60 s = 14.18 x
=========  ======================================================  ===================

The peer runs in its own virtual environment (made with quantstats from PyPI on first use, the
same one perf-vs-quantstats makes).  Writes output/bench_peer.json, with the peer's versions.

The peer's time hardly moves with its libraries: on one host within minutes it took 9.3-10.2 s with
quantstats 0.0.64, pandas 2.2 and Debian's Python 3.11.2 and 9.7-10.3 s with quantstats 0.0.86,
pandas 3.1 and pyenv's Python 3.11.7 (what perf-vs-quantstats installs today), against the 4.23 s
of the issue's host: what moved is the host.

    .venv/bin/python scripts/bench_peer.py --parts build,backfill,test --pairs 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_PEER_S = 4.23  # the peer on the host when its targets were set
TARGETS = {"build": 0.5, "backfill": 30 / REFERENCE_PEER_S, "test": 60 / REFERENCE_PEER_S}
PEER_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "smallcap-perf" / "qsvenv"


def _commands(out: Path) -> dict[str, list[str]]:
    cli = [str(ROOT / ".venv" / "bin" / "smallcap-brief")]
    return {
        "build": [*cli, "build", "--data", "sample", "--out", str(out / "build")],
        "backfill": [*cli, "backfill", "--weeks", "52", "--data", "sample", "--out", str(out / "backfill")],
        "test": ["make", "--no-print-directory", "test"],
    }


def _peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists() or subprocess.run([python, "-c", "import quantstats"], check=False).returncode:
        sys.stderr.write(f"installing quantstats into {PEER_VENV} (once)\n")
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "-q", "install", "quantstats"], check=True)
    return python


def peer_versions(python: str) -> str:
    """The peer's interpreter and library versions, as the report names its peer."""
    code = (
        "import sys, importlib.metadata as m; print(sys.version.split()[0], ', '.join("
        "f'{p} {m.version(p)}' for p in ('quantstats', 'pandas', 'numpy', 'matplotlib')))"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return f"Python {done.stdout.strip()}" if done.returncode == 0 else "unknown"


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{command[0]} exited {done.returncode}: {done.stderr[-600:]}")
    sys.stderr.write(f"  {' '.join(Path(c).name if '/' in c else c for c in command[:3])}: {took:.2f} s\n")
    return took


def measure(commands: dict[str, list[str]], pairs: int, peer: list[str]) -> dict[str, dict[str, object]]:
    """Each command ``pairs`` times, each time between two runs of the peer (after one warm-up run of
    the peer and of each command but "test")."""
    parts = list(commands)
    _timed(peer)  # warm-up: file cache, bytecode
    for part in parts:
        if part != "test":
            _timed(commands[part])
    last_peer = _timed(peer)
    runs: dict[str, list[tuple[float, float]]] = {p: [] for p in parts}
    for _ in range(pairs):
        for part in parts:
            ours = _timed(commands[part])
            next_peer = _timed(peer)
            runs[part].append((ours, (last_peer + next_peer) / 2))
            last_peer = next_peer
    report: dict[str, dict[str, object]] = {}
    for part, measured in runs.items():
        ratio = statistics.median(ours / peer_s for ours, peer_s in measured)
        report[part] = {
            "ours_s": [round(ours, 2) for ours, _ in measured],
            "peer_s": [round(peer_s, 2) for _, peer_s in measured],
            "ratio": round(ratio, 3),
            "at_reference_peer_s": round(ratio * REFERENCE_PEER_S, 1),
            "target_ratio": round(TARGETS[part], 2),
            "met": ratio <= TARGETS[part],
        }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="build,backfill,test", help="comma list of build, backfill, test")
    parser.add_argument("--pairs", type=int, default=2, help="runs of each part, each between two peer runs")
    parser.add_argument(
        "--peer-script", type=Path, default=ROOT.parent / "shared" / "tools" / "qs_peer.py", help="the peer"
    )
    parser.add_argument(
        "--peer-python", type=Path, default=None, help="the peer's interpreter [default: its venv, made once]"
    )
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(TARGETS))
    if unknown or not parts:
        parser.error(
            f"--parts: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(TARGETS)}"
        )
    if not args.peer_script.is_file():
        parser.error(f"--peer-script: {args.peer_script} not found")
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        python = args.peer_python or _peer_python()
        peer = [str(python), str(args.peer_script), str(Path(tmp) / "peer.html")]
        commands = _commands(Path(tmp))
        report = measure({part: commands[part] for part in parts}, max(1, args.pairs), peer)
        report["peer"] = {"versions": peer_versions(peer[0])}
    sys.stdout.write(f"peer: quantstats' tearsheet on {report['peer']['versions']}\n")
    for part, row in report.items():
        if part == "peer":
            continue
        sys.stdout.write(
            f"{part:<9} ours {row['ours_s']} s, peer {row['peer_s']} s: {row['ratio']:.3f} x the peer"
            f" = {row['at_reference_peer_s']} s at its reference {REFERENCE_PEER_S} s"
            f" (target {row['target_ratio']} x: {'met' if row['met'] else 'NOT met'})\n"
        )
    (ROOT / "output").mkdir(exist_ok=True)
    (ROOT / "output" / "bench_peer.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
