"""The GitHub Actions workflows and their parser-based lint (scripts/lint_workflows.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
SCRIPT = ROOT / "scripts" / "lint_workflows.py"


def _lint_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lint_workflows", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lint = _lint_module()


def run_lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, paths)], capture_output=True, text=True, check=False, cwd=ROOT
    )


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    return data


def test_real_workflows_pass_the_lint() -> None:
    result = run_lint(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 workflow file(s) OK" in result.stdout


def test_ci_runs_make_test_on_push_and_pull_request() -> None:
    ci = load("ci.yml")
    assert {"push", "pull_request"} <= set(ci[True])  # YAML reads `on` as true
    job = ci["jobs"]["test"]
    assert job["container"]["image"].startswith("python:3.11")
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    for package in ("chromium", "chromium-driver", "poppler-utils", "libpango-1.0-0", "fonts-dejavu-core"):
        assert package in runs
    assert job["steps"][-1]["run"] == "make test"


def test_publish_steps_run_in_a_safe_order() -> None:
    publish = load("publish.yml")
    triggers = publish[True]
    assert triggers["schedule"] == [{"cron": "30 23 * * 5"}] and "workflow_dispatch" in triggers
    assert publish["permissions"] == {"contents": "write", "pages": "write", "id-token": "write"}
    assert publish["concurrency"]["cancel-in-progress"] is False
    job = publish["jobs"]["publish"]
    steps = job["steps"]
    names = [s.get("uses", s.get("run", "")).split("@")[0] for s in steps]

    def index(fragment: str) -> int:
        return next(i for i, n in enumerate(names) if fragment in n)

    build = index('make brief ARGS="--data live"')
    commit = next(i for i, s in enumerate(steps) if "git add -f" in s.get("run", ""))
    order = [build, commit, index("actions/configure-pages"), index("smallcap-brief site")]
    order += [
        index("actions/upload-pages-artifact"),
        index("actions/deploy-pages"),
        index("smallcap-brief send"),
    ]
    assert order == sorted(order)
    assert "output/cache/headlines.json" in steps[commit]["run"]  # "new this week" survives between runs
    assert index("actions/upload-artifact") > build
    # nothing after the build may run when it fails, except saving caches (the market cache and the
    # ledger of a send that ran): none of those publishes anything
    for step in steps[build + 1 :]:
        assert "continue-on-error" not in step
        condition = str(step.get("if", ""))
        if "always()" in condition:
            assert step.get("uses", "").startswith("actions/cache/save@"), step
    send = steps[index("smallcap-brief send")]
    assert set(send["env"]) >= {"SMALLCAP_SMTP_HOST", "SMALLCAP_SMTP_PASSWORD", "SMALLCAP_BRIEF_TO"}
    assert all(value.startswith("${{ secrets.") for value in send["env"].values())
    assert steps[index("actions/upload-artifact")]["with"]["path"].endswith("/brief.pdf")
    # the send ledger (subscribers' addresses) is kept in the private Actions cache, not in git
    cache_paths = [s["with"]["path"] for s in steps if s.get("uses", "").startswith("actions/cache/")]
    assert cache_paths.count("output/cache/sent.jsonl") == 2
    # the market cache (prices, feed ETags, valuation) is restored before the build and saved after it
    market = [p for p in cache_paths if "prices.sqlite" in p]
    assert len(market) == 2 and all("output/cache/feeds" in p for p in market)
    assert not any("sent.jsonl" in p for p in market)
    ledger = [i for i, s in enumerate(steps) if s.get("with", {}).get("path") == "output/cache/sent.jsonl"]
    assert ledger[0] < index("smallcap-brief send") < ledger[1]
    assert steps[ledger[0]]["uses"].startswith("actions/cache/restore@")
    assert steps[ledger[1]]["uses"].startswith("actions/cache/save@")
    assert job["environment"]["name"] == "github-pages"


BASE = """\
name: sample
on:
  push:
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: hello
        run: |
          echo one
          echo two
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sample.yml"
    path.write_text(text)
    return path


def test_base_sample_is_clean(tmp_path: Path) -> None:
    assert lint.lint_file(_write(tmp_path, BASE)) == []


BROKEN = [
    ("missing on", BASE.replace("on:\n  push:\n", ""), 1, "missing top-level key 'on'"),
    ("no runs-on", BASE.replace("    runs-on: ubuntu-latest\n", ""), 7, "job 'build' has no 'runs-on'"),
    ("typo steps", BASE.replace("    steps:", "    step:"), 9, "unknown key 'step'"),
    ("uses and run", BASE.replace("actions/checkout@v4\n", "a/b@v1\n        run: ls\n"), 10,
     "exactly one of 'uses' or 'run'"),
    ("neither", BASE.replace("      - uses: actions/checkout@v4\n", "      - name: nothing\n"),
     10, "exactly one of 'uses' or 'run'"),
    ("unpinned", BASE.replace("actions/checkout@v4", "actions/checkout"), 10, "is not pinned"),
    ("branch ref", BASE.replace("actions/checkout@v4", "actions/checkout@main"), 10, "pinned to 'main'"),
    ("unbalanced", BASE.replace("echo two", "echo ${{ github.sha }"), 14, "unbalanced '${{'"),
    ("unknown context", BASE.replace("echo two", "echo ${{ secret.TOKEN }}"), 14, "unknown context 'secret'"),
    ("unknown function", BASE.replace("echo two", "echo ${{ contain(github.ref, 'x') }}"), 14,
     "unknown function contain()"),
    ("missing dollar", BASE.replace("echo two", "echo {{ github.sha }}"), 14, "missing its '$'"),
    ("echo secret", BASE.replace("echo two", "echo ${{ secrets.SMTP_PASSWORD }}"), 14, "a secret is echoed"),
    ("inline secret", BASE.replace("echo two", "curl -u ${{ secrets.TOKEN }} x"), 14, "through env:"),
    ("bad step ref", BASE + "      - if: steps.nope.outcome == 'success'\n        run: ls\n", 15,
     "steps.nope refers to no earlier step"),
    ("bad bare if", BASE + "      - if: sucess()\n        run: ls\n", 15, "unknown function sucess()"),
    ("cron minute", BASE.replace("  push:\n", "  schedule:\n    - cron: '61 23 * * 5'\n"), 4,
     "minute '61': out of range 0-59"),
    ("cron fields", BASE.replace("  push:\n", "  schedule:\n    - cron: '30 23 * *'\n"), 4, "needs 5 fields"),
    ("cron weekday", BASE.replace("  push:\n", "  schedule:\n    - cron: '0 0 * * 7'\n"), 4,
     "day of week '7': out of range 0-6"),
    ("cron backwards", BASE.replace("  push:\n", "  schedule:\n    - cron: '0 0 * * FRI-MON'\n"), 4,
     "range runs backwards"),
    ("pages perms", BASE + "      - uses: actions/deploy-pages@v4\n", 7, "lacks 'permissions: pages: write'"),
    ("pages env", BASE + "      - uses: actions/deploy-pages@v4\n", 7, "without 'environment: github-pages'"),
    ("duplicate key", BASE.replace("name: sample\n", "name: sample\nname: again\n"), 2,
     "duplicate key 'name'"),
    ("unknown needs", BASE.replace("    runs-on:", "    needs: setup\n    runs-on:"), 8,
     "needs unknown job 'setup'"),
    ("bad permission", BASE.replace("contents: read", "contents: admin"), 5,
     "'admin' is not read, write or none"),
    ("invalid yaml", BASE.replace("      - id: hello", "     - id: hello"), 11, "invalid YAML"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "line", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_samples_are_reported_with_file_and_line(
    tmp_path: Path, case: str, text: str, line: int, message: str
) -> None:
    path = _write(tmp_path, text)
    problems = lint.lint_file(path)
    assert any(p.startswith(f"{path}:{line}: ") and message in p for p in problems), problems


def test_cli_exits_non_zero_with_file_line_messages(tmp_path: Path) -> None:
    bad = _write(tmp_path, BASE.replace("actions/checkout@v4", "actions/checkout@master"))
    result = run_lint(bad)
    assert result.returncode == 1
    assert result.stdout.startswith(
        f"{bad}:10: job 'build', step 1: 'actions/checkout@master' is pinned to 'master'"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_lint(empty).returncode == 1


def test_cron_parser_accepts_valid_forms() -> None:
    for cron in ("30 23 * * 5", "*/15 0-6 1,15 JAN-MAR mon-fri", "0 12 * * SUN", "5 4 * 1/2 0"):
        assert lint.cron_problems(cron) == [], cron


def test_uses_pins() -> None:
    assert lint.uses_problem("actions/checkout@v4") == ""
    assert lint.uses_problem("actions/checkout@v4.1.7") == ""
    assert lint.uses_problem("actions/cache/save@v4") == ""
    assert lint.uses_problem("actions/checkout@" + "a" * 40) == ""
    assert lint.uses_problem("./.github/actions/local") == ""
    assert "no image tag" in lint.uses_problem("docker://alpine")
    assert "not pinned" in lint.uses_problem("actions/checkout")
