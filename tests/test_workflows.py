"""The GitHub Actions workflows and their checks (scripts/lint_workflows.py).

zizmor, actionlint and shellcheck run for real: on the repository's workflows, which must pass,
and on small broken workflows written here, which each must fail for the right reason.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import shutil
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
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"


def _lint_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lint_workflows", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lint = _lint_module()


@pytest.fixture(scope="module")
def tools() -> None:
    """The checkers are installed; a missing one skips locally and fails under CI=true."""
    for name in lint.TOOLS:
        try:
            lint.tool(name)
        except lint.MissingTool as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(str(exc))
            pytest.skip(str(exc))


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    return data


# ---------------------------------------------------------------------------
# The real workflows
# ---------------------------------------------------------------------------


@pytest.mark.usefixtures("tools")
def test_real_workflows_pass_zizmor_actionlint_and_policy() -> None:
    assert lint.zizmor(ROOT) == []
    assert lint.actionlint(lint.workflow_files(ROOT), ROOT) == []
    assert lint.policy(ROOT) == []
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 workflow file(s) OK" in result.stdout


def test_every_action_is_pinned_by_commit_with_its_version() -> None:
    texts = [p.read_text() for p in [*WORKFLOWS.glob("*.yml"), *ROOT.glob(".github/actions/*/action.yml")]]
    uses = [
        line.split("uses:", 1)[1].strip() for text in texts for line in text.splitlines() if "uses:" in line
    ]
    remote = [u for u in uses if not u.startswith("./")]
    assert len(remote) >= 12
    for ref in remote:
        action, _, rest = ref.partition("@")
        sha, _, comment = rest.partition(" # ")
        assert action.startswith("actions/") and len(sha) == 40 and int(sha, 16) >= 0, ref
        assert comment.startswith("v") and comment.count(".") == 2, ref


def test_ci_runs_make_test_on_push_and_pull_request() -> None:
    ci = load("ci.yml")
    assert {"push", "pull_request"} <= set(ci[True])  # YAML reads `on` as true
    job = ci["jobs"]["test"]
    assert job["permissions"] == {"contents": "read"}
    assert job["container"]["image"].startswith("python:3.11")
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "scripts/system-packages test" in runs  # the list make test installs itself
    assert job["steps"][-1]["run"] == "make test"


# -- scripts/system-packages: a fake dpkg, apt-get, id and sudo on PATH record what it would do --------

TEST_PACKAGES = ("chromium", "chromium-driver", "chromium-headless-shell", "poppler-utils", "jq")
BRIEF_PACKAGES = ("libpango-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core", "fonts-liberation")


def _system_packages(
    tmp_path: Path, kind: str, installed: set[str], *, uid: int, sudo: bool
) -> tuple[int, str, str]:
    """Run scripts/system-packages with fake tools; returns (exit code, stderr, what apt-get was asked)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "apt.log"
    bin_dir.mkdir(parents=True)
    tools = {
        "dpkg": f'case " {" ".join(sorted(installed))} " in *" $2 "*) exit 0 ;; *) exit 1 ;; esac',
        "apt-get": f'echo "$*" >> {log}',
        "id": f"echo {uid}",
        "sudo": 'if [ "$1" = -n ] && [ "$2" = true ]; then exit ' + ("0" if sudo else "1") + '; fi; "$@"',
        "node": "true",
        "npm": "true",
    }
    for name, body in tools.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run(
        [str(ROOT / "scripts" / "system-packages"), kind], capture_output=True, text=True, env=env, timeout=30
    )
    return done.returncode, done.stderr, log.read_text(encoding="utf-8") if log.exists() else ""


def test_system_packages_installs_only_what_is_missing_and_asks_nothing_when_all_are_there(
    tmp_path: Path,
) -> None:
    everything = set(BRIEF_PACKAGES + TEST_PACKAGES) | {"libpangoft2-1.0-0", "libharfbuzz0b"}
    everything |= {"libfontconfig1", "shared-mime-info"}
    code, _, asked = _system_packages(tmp_path / "all", "test", everything, uid=0, sudo=False)
    assert (code, asked) == (0, "")
    code, _, asked = _system_packages(
        tmp_path / "root", "test", everything - {"chromium", "poppler-utils"}, uid=0, sudo=False
    )
    assert code == 0 and asked.splitlines() == [
        "update -qq",
        "install -y -qq --no-install-recommends poppler-utils chromium",
    ]
    code, _, asked = _system_packages(
        tmp_path / "brief", "brief", everything - {"chromium"}, uid=0, sudo=False
    )
    assert (code, asked) == (0, "")  # the brief needs no browser


def test_system_packages_without_root_uses_sudo_or_names_what_is_missing(tmp_path: Path) -> None:
    missing = set(BRIEF_PACKAGES) - {"fonts-liberation"}
    code, err, asked = _system_packages(tmp_path / "sudo", "brief", missing, uid=1000, sudo=True)
    assert code == 0 and "install -y -qq --no-install-recommends" in asked and "fonts-liberation" in asked
    code, err, asked = _system_packages(tmp_path / "plain", "brief", missing, uid=1000, sudo=False)
    assert (code, asked) == (0, "") and "missing" in err and "fonts-liberation" in err
    assert _system_packages(tmp_path / "bad", "everything", set(), uid=0, sudo=False)[0] == 2


def test_the_archive_keeps_one_issue_a_week(tmp_path: Path) -> None:
    """The build removed the week's issue through Thursday when Friday's came in, but the archive job
    only added the new folder: the old one came back from git every week.  The job's own commands
    run here in a git repository holding last week's issue and this week's Thursday issue."""
    jq = shutil.which("jq")
    if jq is None:
        if os.environ.get("CI") == "true":
            pytest.fail("jq is missing (scripts/system-packages test installs it)")
        pytest.skip("needs jq (the publish runner has it)")
    (step,) = [
        s
        for s in load("publish.yml")["jobs"]["archive"]["steps"]
        if s.get("name") == "Commit the issue to the archive"
    ]
    script = step["run"].split('git add -f -- "output/briefs/$ISSUE_DATE"')[1].split("# The price store")[0]
    assert "git rm -r -q" in script

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                              cwd=tmp_path, capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout

    git("init", "-q")
    for day, week in (("2026-11-13", "2026-11-09"), ("2026-11-19", "2026-11-16")):
        (tmp_path / "output" / "briefs" / day).mkdir(parents=True)
        (tmp_path / "output" / "briefs" / day / "meta.json").write_text(
            f'{{"week_start": "{week}", "d": "{day}"}}'
        )
    git("add", "-f", "output")
    git("commit", "-qm", "archive")
    (tmp_path / "output" / "briefs" / "2026-11-20").mkdir()
    (tmp_path / "output" / "briefs" / "2026-11-20" / "meta.json").write_text('{"week_start": "2026-11-16"}')
    git("add", "-f", "output/briefs/2026-11-20")
    env = {**os.environ, "ISSUE_DATE": "2026-11-20"}
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, check=True)
    git("commit", "-qm", "week")
    assert git("ls-files").split() == [
        "output/briefs/2026-11-13/meta.json",
        "output/briefs/2026-11-20/meta.json",
    ]


def test_publish_job_rights_are_split() -> None:
    jobs = load("publish.yml")["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read", "pages": "read"}
    assert jobs["archive"]["permissions"] == {"contents": "write"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["send"]["permissions"] == {"contents": "read"}
    checkouts = [
        s for job in jobs.values() for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) == 3 and all(s["with"]["persist-credentials"] is False for s in checkouts)
    commit = next(s for s in jobs["archive"]["steps"] if "push origin" in s.get("run", ""))
    assert commit["env"]["PUSH_TOKEN"] == "${{ github.token }}"
    # The archive job runs nothing of the build's: it checks out, takes the artifact, commits
    assert [s.get("uses", "run").split("@")[0] for s in jobs["archive"]["steps"]] == [
        "actions/checkout", "run", "actions/download-artifact", "run",
    ]  # fmt: skip
    # the week's old folder goes first: a rebuilt issue's dropped files leave the archive with it
    room = jobs["archive"]["steps"][1]["run"]  # only a date is removed (the value comes from the build)
    assert room.index("=~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$") < room.index('rm -rf -- "output/briefs/$ISSUE_DATE"')
    sending = next(s for s in jobs["send"]["steps"] if "smallcap-brief send" in s.get("run", ""))
    assert (
        "::add-mask::$bare" in sending["run"]
        and sending["env"]["ISSUE_DATE"] == "${{ needs.build.outputs.date }}"
    )
    handed = next(
        s for s in jobs["build"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
    )
    assert handed["with"]["name"] == "${{ steps.issue.outputs.archive }}"
    taken = jobs["archive"]["steps"][2]
    assert taken["with"] == {"name": "${{ needs.build.outputs.archive }}", "path": "output"}
    # Each attempt's Pages artifact has its own name, so a re-run never finds two
    pages = next(s for s in jobs["build"]["steps"] if "upload-pages-artifact@" in s.get("uses", ""))
    assert pages["with"]["name"] == "${{ steps.issue.outputs.pages }}"
    deploy = jobs["deploy"]["steps"][0]
    assert deploy["with"]["artifact_name"] == "${{ needs.build.outputs.pages }}"


def test_the_market_cache_is_touched_mid_week_under_the_publish_builds_paths() -> None:
    """GitHub evicts a cache untouched for 7 days, about the publish's own interval: a mid-week
    restore keeps it.  It finds the entry only under the same paths, letter for letter."""
    keep = load("keep-cache.yml")
    assert keep[True]["schedule"] == [{"cron": "30 12 * * 3"}] and keep["permissions"] == {}
    (touch,) = keep["jobs"]["touch"]["steps"]
    build = _publish_steps(load("publish.yml"), "build")
    saved = next(s for s in build if s.get("uses", "").startswith("actions/cache/save@"))
    assert touch["uses"].split("@")[0] == "actions/cache/restore"
    assert touch["with"]["path"] == saved["with"]["path"]
    assert touch["with"]["restore-keys"].strip() == "market-cache-" and saved["with"]["key"].startswith(
        "market-cache-"
    )


def test_venv_is_made_once_with_the_python_the_action_sets_up() -> None:
    """The runner's own python3 (3.12 with venv on Ubuntu 24.04) would be the Makefile's choice: the
    action makes .venv with setup-python's 3.11 and the build's `make` is given the same, so the
    Makefile does not make .venv again with another interpreter."""
    action = yaml.safe_load((ROOT / ".github" / "actions" / "setup-brief" / "action.yml").read_text("utf-8"))
    steps = action["runs"]["steps"]
    assert action["outputs"]["python"]["value"] == "${{ steps.python.outputs.python-path }}"
    install = next(s for s in steps if "make .venv/.installed" in s.get("run", ""))
    assert install["env"]["PYTHON"] == "${{ steps.python.outputs.python-path }}"
    build = _publish_steps(load("publish.yml"), "build")
    setup = next(s for s in build if s.get("uses") == "./.github/actions/setup-brief")
    brief = next(s for s in build if "make brief" in s.get("run", ""))
    assert brief["env"]["PYTHON"] == "${{ steps." + setup["id"] + ".outputs.python }}"


# ---------------------------------------------------------------------------
# The tools catch what they are there for
# ---------------------------------------------------------------------------

GOOD = f"""\
name: sample
on:
  pull_request:
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - id: hello
        env:
          TITLE: ${{{{ github.event.pull_request.title }}}}
        run: echo "$TITLE"
"""


def _repo(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "sample.yml").write_text(text)
    return tmp_path


def _findings(root: Path) -> list[str]:
    return [*lint.zizmor(root), *lint.actionlint(lint.workflow_files(root), root)]


@pytest.mark.usefixtures("tools")
def test_good_sample_is_clean(tmp_path: Path) -> None:
    assert _findings(_repo(tmp_path, GOOD)) == []


BAD = [
    ("unpinned action", GOOD.replace(CHECKOUT, "actions/checkout@v7"), 11, "zizmor[unpinned-uses]"),
    ("branch-pinned action", GOOD.replace(CHECKOUT, "actions/checkout@main"), 11, "zizmor[unpinned-uses]"),
    ("template injection", GOOD.replace('"$TITLE"', '"${{ github.event.pull_request.title }}"'), 17,
     "zizmor[template-injection]"),
    ("write-all permissions", GOOD.replace("permissions:\n      contents: read", "permissions: write-all"), 8,
     "zizmor[excessive-permissions]"),
    ("credentials kept", GOOD.replace("        with:\n          persist-credentials: false\n", ""), 11,
     "zizmor[artipacked]"),
    ("untrusted input in run", GOOD.replace('"$TITLE"', '"${{ github.event.pull_request.title }}"'), 17,
     "actionlint[expression]"),
    ("unknown step output", GOOD.replace('"$TITLE"', '"${{ steps.nope.outputs.x }}"'), 17,
     "actionlint[expression]"),
    ("bad cron", GOOD.replace("  pull_request:\n", "  schedule:\n    - cron: '61 23 * * 5'\n"), 4,
     "actionlint[events]"),
    ("unquoted variable", GOOD.replace('"$TITLE"', "$TITLE"), 17, "actionlint[shellcheck]"),
    ("unknown runner", GOOD.replace("ubuntu-24.04", "ubuntu-2404"), 7, "actionlint[runner-label]"),
]  # fmt: skip


@pytest.mark.usefixtures("tools")
@pytest.mark.parametrize(("case", "text", "line", "rule"), BAD, ids=[b[0] for b in BAD])
def test_broken_samples_fail_for_the_right_reason(
    tmp_path: Path, case: str, text: str, line: int, rule: str
) -> None:
    findings = _findings(_repo(tmp_path, text))
    assert any(f.startswith(f".github/workflows/sample.yml:{line}: {rule}") for f in findings), findings


@pytest.mark.usefixtures("tools")
def test_script_exits_non_zero_on_findings(tmp_path: Path) -> None:
    root = _repo(tmp_path, GOOD.replace(CHECKOUT, "actions/checkout@v7"))
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert ".github/workflows/sample.yml:11: zizmor[unpinned-uses]" in result.stdout
    assert "publish.yml: missing" in result.stdout


@pytest.mark.usefixtures("tools")
def test_invalid_yaml_is_reported_by_every_check(tmp_path: Path) -> None:
    root = _repo(tmp_path, GOOD.replace("      - id: hello", "     - id: hello"))
    zizmor, actionlint = lint.zizmor(root), lint.actionlint(lint.workflow_files(root), root)
    assert len(zizmor) == 1 and zizmor[0].startswith("zizmor failed") and "invalid YAML" in zizmor[0]
    assert any(f.startswith(".github/workflows/sample.yml:14: actionlint[syntax-check]") for f in actionlint)
    assert "sample.yml: not a YAML mapping, so no policy was checked" in lint.policy(root)


def test_missing_tool_is_reported() -> None:
    with pytest.raises(lint.MissingTool, match="no-such-checker is not installed"):
        lint.tool("no-such-checker")


# ---------------------------------------------------------------------------
# Project policy the tools do not know
# ---------------------------------------------------------------------------


def _publish_steps(doc: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    steps = doc["jobs"][job]["steps"]
    assert isinstance(steps, list)
    return steps


def _mutated(change: str) -> dict[Any, Any]:
    doc = copy.deepcopy(load("publish.yml"))
    build, archive, send = (_publish_steps(doc, job) for job in ("build", "archive", "send"))
    caches = [s for s in build if s.get("uses", "").startswith("actions/cache/")]
    commit = next(s for s in archive if "git add" in s.get("run", ""))
    if change == "cron":
        doc[True]["schedule"] = [{"cron": "0 12 * * 1"}]
    elif change == "no market restore":
        build[:] = [s for s in build if not s.get("uses", "").startswith("actions/cache/restore@")]
    elif change == "market save not always":
        next(s for s in build if s.get("uses", "").startswith("actions/cache/save@")).pop("if")
    elif change == "no ledger save":
        send[:] = [s for s in send if not s.get("uses", "").startswith("actions/cache/save@")]
    elif change == "prices only":  # the caches of the members, fundamentals, FRED... not kept
        for step in caches:
            step["with"]["path"] = "output/cache/prices.sqlite\noutput/cache/feeds"
    elif change in ("ledger in market cache", "headline memory restored"):
        for step in caches:
            left_out = "!output/cache/sent.jsonl" if "ledger" in change else "!output/cache/headlines.json"
            step["with"]["path"] = step["with"]["path"].replace(left_out, "")
    elif change == "folder whole":  # actions/cache takes a folder named alone whole: "!" does nothing
        for step in caches:
            step["with"]["path"] = step["with"]["path"].replace("output/cache/*", "output/cache")
    elif change == "schedule skipped":
        doc["jobs"]["build"]["if"] = "github.ref_name == github.event.repository.default_branch"
    elif change == "push from build":
        build.append({"name": "push", "run": "git push origin HEAD"})
    elif change == "commit with hooks":
        commit["run"] = commit["run"].replace("git -c core.hooksPath=/dev/null commit", "git commit")
    elif change == "ledger in git":
        commit["run"] += "\ngit add -f -- output/cache/sent.jsonl\n"
    elif change == "secret in run":
        send[-2]["run"] = ".venv/bin/smallcap-brief send --to ${{ secrets.SMALLCAP_BRIEF_TO }}"
    elif change == "pages rights in build":
        doc["jobs"]["build"]["permissions"]["pages"] = "write"
    elif change == "push rights in build":
        doc["jobs"]["build"]["permissions"]["contents"] = "write"
    elif change == "send before deploy":
        doc["jobs"]["send"]["needs"] = "build"
    elif change == "deploy before archive":
        doc["jobs"]["deploy"]["needs"] = "build"
    elif change == "any branch":
        doc["jobs"]["build"].pop("if")
    elif change == "default permissions":
        doc["permissions"] = {"contents": "write"}
    return doc


POLICY = [
    ("cron", "must run on cron '30 23 * * 5'"),
    (
        "no market restore",
        "output/cache/prices.sqlite must be restored from the Actions cache before the build",
    ),
    ("market save not always", "output/cache/prices.sqlite must be saved with if: always()"),
    ("prices only", "output/cache/index must be restored from the Actions cache before the build"),
    ("ledger in market cache", "output/cache/sent.jsonl must not be in the market cache"),
    ("headline memory restored", "output/cache/headlines.json is in git with each issue"),
    ("folder whole", "output/cache/headlines.json is in git with each issue"),
    ("schedule skipped", "the build job must run only on the default branch, and on the schedule"),
    ("push from build", "the build job runs third-party code: it must not commit or push"),
    ("commit with hooks", "the archive job must commit the issue and the headline memory, without git hooks"),
    ("no ledger save", "output/cache/sent.jsonl must be restored from the Actions cache before the send"),
    ("ledger in git", "output/cache/sent.jsonl holds subscribers' addresses and must stay out of git"),
    ("secret in run", "jobs.send.steps[4].run reads a secret; pass secrets to steps through env: only"),
    ("pages rights in build", "job build must not get write access to pages"),
    ("push rights in build", "job build must not get write access to contents"),
    ("send before deploy", "jobs must run build, then archive, then deploy, then send"),
    ("deploy before archive", "jobs must run build, then archive, then deploy, then send"),
    ("any branch", "the build job must run only on the default branch"),
    ("default permissions", "set `permissions: {}` at the top"),
]


@pytest.mark.parametrize(("change", "message"), POLICY, ids=[p[0] for p in POLICY])
def test_policy_catches_a_changed_publish_workflow(change: str, message: str) -> None:
    doc = _mutated(change)
    problems = lint.workflow_policy(doc) + lint.publish_policy(doc)
    assert any(message in p for p in problems), problems


def test_policy_passes_the_real_publish_workflow() -> None:
    doc = load("publish.yml")
    assert lint.workflow_policy(doc) == [] and lint.publish_policy(doc) == []
