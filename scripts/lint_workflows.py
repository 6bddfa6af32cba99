"""Check the GitHub Actions workflows: zizmor, actionlint, then the project's own policy.

Usage: python scripts/lint_workflows.py [REPO_ROOT]   (default: the current directory)

- zizmor (security: actions pinned by commit SHA, token permissions, template injection,
  credentials left in the checkout, ...) runs with --offline: it asks GitHub nothing.
- actionlint (syntax, expressions, contexts, step and job references, cron, runner labels) runs
  with shellcheck on every `run:` script.
- The policy checks below cover what neither tool knows: the publish schedule, the caches that
  must be restored and saved around the build and the send, the send ledger kept out of git,
  secrets reaching steps only through `env:`, and which job holds which token right.

Prints one line per problem and exits 1 if there is any, 2 if a tool is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

TOOLS = ("zizmor", "actionlint", "shellcheck")
PUBLISH_CRON = "30 23 * * 5"  # Fridays 23:30 UTC, after the New York close in either DST season
MARKET_CACHE = "output/cache"  # every provider's cache folder and file, kept from week to week
LEDGER = "output/cache/sent.jsonl"
HEADLINE_MEMORY = "output/cache/headlines.json"  # committed with each issue: not restored over it


class MissingTool(RuntimeError):
    """A checker binary is not installed (it comes with the project's `test` extra)."""


def tool(name: str) -> str:
    """The path of a checker: the one installed beside this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        raise MissingTool(f"{name} is not installed: pip install -c constraints.txt -e '.[test]'")
    return found


def workflow_files(root: Path) -> list[Path]:
    folder = root / ".github" / "workflows"
    return sorted(p for p in folder.glob("*") if p.suffix in (".yml", ".yaml"))


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd, timeout=300)


def zizmor(root: Path) -> list[str]:
    """zizmor's findings over the workflows and local actions under root/.github, offline."""
    config = root / ".github" / "zizmor.yml"
    args = [tool("zizmor"), "--offline", "--strict-collection", "--no-progress", "--quiet"]
    args += ["--format", "json-v1"]
    args += ["--config", str(config)] if config.is_file() else ["--no-config"]
    result = _run([*args, ".github"], root)
    try:
        findings = json.loads(result.stdout or "null")
    except json.JSONDecodeError:
        findings = None
    if not isinstance(findings, list):
        return [f"zizmor failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}"]
    problems = []
    for finding in (f for f in findings if not f.get("ignored")):
        locations = finding["locations"]
        where = next((w for w in locations if w["symbolic"]["kind"] == "Primary"), locations[0])
        path = where["symbolic"]["key"]["Local"]["verbatim_path"]
        line = where["concrete"]["location"]["start_point"]["row"] + 1
        problems.append(
            f"{path}:{line}: zizmor[{finding['ident']}] {finding['desc']}: {where['symbolic']['annotation']}"
        )
    return problems


def actionlint(files: list[Path], cwd: Path) -> list[str]:
    """actionlint's findings for the given workflow files, shellcheck included (paths relative to cwd)."""
    args = [tool("actionlint"), "-format", "{{json .}}", f"-shellcheck={tool('shellcheck')}", "-pyflakes="]
    result = _run([*args, *map(str, files)], cwd)
    try:
        errors = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        errors = None
    if not isinstance(errors, list) or (result.returncode not in (0, 1)):
        return [f"actionlint failed (exit {result.returncode}): {(result.stderr or result.stdout)[-2000:]}"]
    return [f"{e['filepath']}:{e['line']}: actionlint[{e['kind']}] {e['message']}" for e in errors]


# ---------------------------------------------------------------------------
# Project policy
# ---------------------------------------------------------------------------


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a parsed workflow, with a dotted path to it."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def _cache_paths(steps: list[dict[str, Any]], kind: str) -> list[tuple[int, list[str]]]:
    """(step index, path lines) of each actions/cache/<kind> step ("!" lines exclude)."""
    return [
        (i, str(s.get("with", {}).get("path", "")).split())
        for i, s in enumerate(steps)
        if str(s.get("uses", "")).startswith(f"actions/cache/{kind}@")
    ]


def _covers(lines: list[str], path: str) -> bool:
    """Whether a cache step's path lines hold `path`: a line names it, a folder above it or that
    folder's entries (`folder/*`), and no "!" line excludes it.  actions/cache takes a folder
    named alone whole: an exclusion inside it works only against `folder/*`."""

    def holds(line: str) -> bool:
        return path == line or path.startswith(line.removesuffix("/*").rstrip("/") + "/")

    taking = [line for line in lines if line[:1] != "!" and holds(line)]
    excluded = f"!{path}" in lines and all(line.endswith("/*") for line in taking)
    return bool(taking) and not excluded


def _around(steps: list[dict[str, Any]], path: str, step: int, what: str) -> list[str]:
    """The cache holding `path` must be restored before step `step` and saved after it."""
    restored = [i for i, p in _cache_paths(steps, "restore") if _covers(p, path)]
    saved = [i for i, p in _cache_paths(steps, "save") if _covers(p, path)]
    if not (restored and saved and restored[0] < step < saved[-1]):
        return [f"{path} must be restored from the Actions cache before {what} and saved after it"]
    if "always()" not in str(steps[saved[-1]].get("if", "")):
        return [f"{path} must be saved with if: always(), so a failed {what} keeps what it fetched"]
    return []


def _needs(job: dict[str, Any]) -> set[str]:
    needs = job.get("needs") or []
    return {needs} if isinstance(needs, str) else set(needs)


def _step(steps: list[dict[str, Any]], text: str) -> int:
    return next((i for i, s in enumerate(steps) if text in str(s.get("run", ""))), -1)


def workflow_policy(doc: dict[Any, Any]) -> list[str]:
    """Every workflow: no token rights by default, each job names its own, secrets only via env:."""
    problems = []
    if doc.get("permissions") != {}:
        problems.append("set `permissions: {}` at the top; each job names what it needs")
    for job_id, job in doc.get("jobs", {}).items():
        if "permissions" not in job:
            problems.append(f"job {job_id} does not say which token permissions it needs")
    for where, text in _strings(doc):
        if "secrets." in text and ".env." not in f".{where}":
            problems.append(f"{where} reads a secret; pass secrets to steps through env: only")
    return problems


def publish_policy(doc: dict[Any, Any]) -> list[str]:
    """The weekly publish: its schedule, job order and rights, caches, archive and ledger."""
    problems = []
    triggers = doc.get(True, doc.get("on")) or {}  # YAML 1.1 reads the key `on` as true
    if triggers.get("schedule") != [{"cron": PUBLISH_CRON}] or "workflow_dispatch" not in triggers:
        problems.append(f"must run on cron '{PUBLISH_CRON}' and by hand (workflow_dispatch)")
    jobs = doc.get("jobs", {})
    build, deploy, send = (jobs.get(j, {}) for j in ("build", "deploy", "send"))
    archive = jobs.get("archive", {})
    condition = str(build.get("if", ""))
    if "default_branch" not in condition or "github.event_name == 'schedule'" not in condition:
        # a scheduled run's event has no repository object: its default_branch is empty
        problems.append("the build job must run only on the default branch, and on the schedule")
    needs = {j: _needs(jobs.get(j, {})) for j in ("archive", "deploy", "send")}
    if not (
        "build" in needs["archive"] and {"build", "archive"} <= needs["deploy"] and "deploy" in needs["send"]
    ):
        problems.append("jobs must run build, then archive, then deploy, then send")
    if deploy.get("environment", {}).get("name") != "github-pages":
        problems.append("the deploy job must use the github-pages environment")
    for job_id, job in jobs.items():
        granted = {k for k, v in (job.get("permissions") or {}).items() if v == "write"}
        extra = granted - {"archive": {"contents"}, "deploy": {"pages", "id-token"}}.get(job_id, set())
        if extra:
            problems.append(f"job {job_id} must not get write access to {', '.join(sorted(extra))}")
    steps = build.get("steps", [])
    built = _step(steps, 'make brief ARGS="--data live')
    for kept in ("prices.sqlite", "index", "fundamentals", "fred", "feeds"):  # every provider's
        problems += _around(steps, f"{MARKET_CACHE}/{kept}", built, "the build")
    archive_steps = archive.get("steps", [])
    commit = _step(archive_steps, "git -c core.hooksPath=/dev/null commit")
    if built < 0 or commit < 0 or HEADLINE_MEMORY not in str(archive_steps[commit]["run"]):
        problems.append("the archive job must commit the issue and the headline memory, without git hooks")
    if any(word in str(s.get("run", "")) for s in steps for word in ("git commit", "git push")):
        problems.append("the build job runs third-party code: it must not commit or push")
    if any("continue-on-error" in step for step in steps[built + 1 :]):
        problems.append("no step after the build may continue on error")
    send_steps = send.get("steps", [])
    problems += _around(send_steps, LEDGER, _step(send_steps, "smallcap-brief send"), "the send")
    runs = [str(s.get("run", "")) for job in jobs.values() for s in job.get("steps", [])]
    if any(LEDGER in run and "git" in run for run in runs):
        problems.append(f"{LEDGER} holds subscribers' addresses and must stay out of git")
    for kind in ("restore", "save"):
        if any(_covers(p, LEDGER) for _, p in _cache_paths(steps, kind)):
            problems.append(f"{LEDGER} must not be in the market cache (it has a cache of its own)")
        if any(_covers(p, HEADLINE_MEMORY) for _, p in _cache_paths(steps, kind)):
            problems.append(
                f"{HEADLINE_MEMORY} is in git with each issue: the market cache must leave it out"
            )
    return problems


def policy(root: Path) -> list[str]:
    """What this project requires of its workflows beyond what zizmor and actionlint check."""
    docs: dict[str, dict[Any, Any]] = {}
    problems = []
    for path in workflow_files(root):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            doc = None
        if isinstance(doc, dict):
            docs[path.name] = doc
        else:
            problems.append(f"{path.name}: not a YAML mapping, so no policy was checked")
    problems += [f"{name}: {problem}" for name, doc in docs.items() for problem in workflow_policy(doc)]
    if "publish.yml" not in docs:
        return [*problems, "publish.yml: missing"]
    return problems + [f"publish.yml: {problem}" for problem in publish_policy(docs["publish.yml"])]


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else ".").resolve()
    files = workflow_files(root)
    if not files:
        print(f"lint_workflows: no workflow files in {root / '.github' / 'workflows'}", file=sys.stderr)
        return 1
    try:
        problems = [*zizmor(root), *actionlint(files, root), *policy(root)]
    except MissingTool as exc:
        print(f"lint_workflows: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"lint_workflows: {len(files)} workflow file(s) OK (zizmor, actionlint, shellcheck, policy)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
