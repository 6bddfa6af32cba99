"""Check GitHub Actions workflow files without network access.

Usage: python scripts/lint_workflows.py [PATH ...]   (files or folders; default .github/workflows)

Parses each workflow with a safe YAML loader that remembers line numbers and checks the
mistakes that break or endanger a workflow: missing top-level keys, jobs without runs-on
or steps, steps with both or neither of uses/run, unknown keys (typos), actions not pinned
to a version tag or commit SHA, unbalanced ``${{ }}`` expressions, unknown contexts and
functions, references to step ids or jobs that do not exist, invalid cron strings, secrets
echoed or inlined in ``run:``, and Pages deployments without the permissions and
environment they need.  Prints ``file:line: message`` for each problem and exits 1 if any.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

CONTEXTS = {
    "github",
    "env",
    "secrets",
    "steps",
    "matrix",
    "needs",
    "inputs",
    "vars",
    "runner",
    "job",
    "strategy",
}
FUNCTIONS = {
    "contains", "startsWith", "endsWith", "format", "join", "toJSON", "fromJSON", "hashFiles",
    "success", "always", "cancelled", "failure",
}  # fmt: skip
LITERALS = {"true", "false", "null"}
TOP_KEYS = {"name", "run-name", "on", "permissions", "env", "defaults", "concurrency", "jobs"}
JOB_KEYS = {
    "name", "needs", "permissions", "runs-on", "environment", "concurrency", "outputs", "env", "defaults",
    "if", "steps", "timeout-minutes", "strategy", "continue-on-error", "container", "services", "uses",
    "with", "secrets",
}  # fmt: skip
STEP_KEYS = {
    "id", "if", "name", "uses", "run", "shell", "with", "env", "continue-on-error", "timeout-minutes",
    "working-directory",
}  # fmt: skip
PERMISSION_SCOPES = {
    "actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token", "issues",
    "models", "packages", "pages", "pull-requests", "repository-projects", "security-events", "statuses",
}  # fmt: skip
CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    ("day of week", 0, 6, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)
_REF = re.compile(r"^(v?\d+(\.\d+){0,2}|[0-9a-f]{40})$")
_IDENT = re.compile(r"(?<![.\w-])([A-Za-z_][A-Za-z0-9_-]*)\s*(\()?")
_STEP_REF = re.compile(r"\bsteps\.([A-Za-z_][A-Za-z0-9_-]*)")
_NEEDS_REF = re.compile(r"\bneeds\.([A-Za-z_][A-Za-z0-9_-]*)")
_MISSING_DOLLAR = re.compile(r"(?<![$\w])\{\{\s*(" + "|".join(sorted(CONTEXTS)) + r")\.")


# ---------------------------------------------------------------------------
# A safe loader that keeps line numbers
# ---------------------------------------------------------------------------


class Node(dict):  # type: ignore[type-arg]
    """A mapping that remembers the line of itself, of each key and of each value."""

    line = 0

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[Any, int] = {}
        self.value_lines: dict[Any, tuple[int, bool]] = {}  # line, is a block scalar (| or >)

    def at(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class Seq(list):  # type: ignore[type-arg]
    line = 0

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[tuple[int, bool]] = []


class _Loader(yaml.SafeLoader):
    problems: list[tuple[int, str]]


def _mark(node: yaml.Node) -> tuple[int, bool]:
    block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
    return node.start_mark.line + 1, block


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Node:
    result = Node()
    result.line = node.start_mark.line + 1
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result.key_lines:
            loader.problems.append((key_node.start_mark.line + 1, f"duplicate key {key!r}"))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
        result.value_lines[key] = _mark(value_node)
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Seq:
    result = Seq()
    result.line = node.start_mark.line + 1
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(_mark(item))
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[arg-type]
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)  # type: ignore[arg-type]


def load(text: str) -> tuple[Any, list[tuple[int, str]]]:
    loader = _Loader(text)
    loader.problems = []
    try:
        return loader.get_single_data(), loader.problems
    finally:
        loader.dispose()


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


class Linter:
    def __init__(self) -> None:
        self.problems: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append((line, message))

    def workflow(self, doc: Any) -> None:
        if not isinstance(doc, Node):
            self.add(1, "a workflow must be a mapping")
            return
        if True in doc:  # YAML 1.1 reads a bare `on` key as the boolean true
            doc["on"] = doc.pop(True)
            doc.key_lines["on"] = doc.key_lines.pop(True)
            doc.value_lines["on"] = doc.value_lines.pop(True)
        for key in doc:
            if key not in TOP_KEYS:
                self.add(doc.at(key), f"unknown top-level key {key!r}")
        for key in ("on", "jobs"):
            if key not in doc:
                self.add(1, f"missing top-level key {key!r}")
        if "on" in doc:
            self.triggers(doc["on"], doc.at("on"))
        self.permissions(doc.get("permissions"), doc.at("permissions"))
        jobs = doc.get("jobs")
        if "jobs" in doc and (not isinstance(jobs, Node) or not jobs):
            self.add(doc.at("jobs"), "'jobs' must be a non-empty mapping")
        elif isinstance(jobs, Node):
            for job_id, job in jobs.items():
                self.job(doc, jobs, str(job_id), job, jobs.at(job_id))
        self.expressions(doc, doc.line, step_ids=None, needs=None, skip={"jobs"})

    def triggers(self, on: Any, line: int) -> None:
        if isinstance(on, Node):
            schedule = on.get("schedule", Seq())
            if not isinstance(schedule, Seq):
                self.add(on.at("schedule"), "'schedule' must be a list of {cron: ...}")
                schedule = Seq()
            for index, item in enumerate(schedule):
                if not isinstance(item, Node) or not isinstance(item.get("cron"), str):
                    self.add(schedule.item_lines[index][0], "a schedule entry needs a cron string")
                    continue
                for problem in cron_problems(item["cron"]):
                    self.add(item.at("cron"), f"cron {item['cron']!r}: {problem}")
        elif not isinstance(on, (str, Seq)):
            self.add(line, "'on' must be an event name, a list or a mapping")

    def permissions(self, perms: Any, line: int) -> None:
        if perms is None or perms in ("read-all", "write-all") or perms == {}:
            return
        if not isinstance(perms, Node):
            self.add(line, "'permissions' must be read-all, write-all or a mapping")
            return
        for scope, level in perms.items():
            if scope not in PERMISSION_SCOPES:
                self.add(perms.at(scope), f"unknown permission {scope!r}")
            if level not in ("read", "write", "none"):
                self.add(perms.at(scope), f"permission {scope}: {level!r} is not read, write or none")

    def job(self, doc: Node, jobs: Node, job_id: str, job: Any, line: int) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", job_id):
            self.add(
                line,
                f"job id {job_id!r} must start with a letter or _ and hold only letters, digits, - and _",
            )
        if not isinstance(job, Node):
            self.add(line, f"job {job_id!r} must be a mapping")
            return
        for key in job:
            if key not in JOB_KEYS:
                self.add(job.at(key), f"job {job_id!r}: unknown key {key!r}")
        needs = job.get("needs", [])
        needs_list = [needs] if isinstance(needs, str) else list(needs) if isinstance(needs, list) else []
        for need in needs_list:
            if need not in jobs or need == job_id:
                self.add(job.at("needs"), f"job {job_id!r} needs unknown job {need!r}")
        self.permissions(job.get("permissions"), job.at("permissions"))
        if "uses" in job:  # a reusable workflow: no runs-on, no steps
            return
        if "runs-on" not in job:
            self.add(line, f"job {job_id!r} has no 'runs-on'")
        steps = job.get("steps")
        if not isinstance(steps, Seq) or not steps:
            self.add(job.at("steps"), f"job {job_id!r} has no steps")
            steps = Seq()
        ids: list[str] = []
        for index, step in enumerate(steps):
            self.step(job_id, step, steps.item_lines[index][0], ids, needs_list)
        self.expressions(job, line, step_ids=ids, needs=needs_list, skip={"steps"})
        self.pages(doc, job_id, job, steps, line)

    def step(self, job_id: str, step: Any, line: int, ids: list[str], needs: list[str]) -> None:
        where = f"job {job_id!r}, step {len(ids) + 1}"
        if not isinstance(step, Node):
            self.add(line, f"{where}: a step must be a mapping")
            ids.append("")
            return
        if step.get("name"):
            where = f"{where} ({step['name']})"
        if ("uses" in step) == ("run" in step):
            self.add(line, f"{where}: a step needs exactly one of 'uses' or 'run'")
        for key in step:
            if key not in STEP_KEYS:
                self.add(step.at(key), f"{where}: unknown key {key!r}")
        if "uses" in step:
            problem = uses_problem(str(step["uses"]))
            if problem:
                self.add(step.at("uses"), f"{where}: {problem}")
        if "run" in step:
            self.run_script(step, where)
        self.expressions(step, line, step_ids=[i for i in ids if i], needs=needs, skip=set())
        step_id = str(step.get("id", ""))
        if step_id and step_id in ids:
            self.add(step.at("id"), f"{where}: duplicate step id {step_id!r}")
        ids.append(step_id)

    def run_script(self, step: Node, where: str) -> None:
        if not isinstance(step["run"], str):
            self.add(step.at("run"), f"{where}: 'run' must be a string")
            return
        first, block = step.value_lines["run"]
        for offset, text in enumerate(step["run"].splitlines()):
            if "secrets." not in text:
                continue
            line = first + offset + (1 if block else 0)
            if re.search(r"\b(echo|printf)\b.*\$\{\{\s*secrets\.", text):
                self.add(line, f"{where}: a secret is echoed in 'run'")
            elif re.search(r"\$\{\{\s*secrets\.", text):
                self.add(line, f"{where}: pass secrets to 'run' through env:, not inline")

    def pages(self, doc: Node, job_id: str, job: Node, steps: Seq, line: int) -> None:
        deploys = any(
            isinstance(s, Node) and str(s.get("uses", "")).startswith("actions/deploy-pages@") for s in steps
        )
        if not deploys:
            return
        perms = job.get("permissions", doc.get("permissions"))
        if perms != "write-all":
            granted = perms if isinstance(perms, dict) else {}
            for scope in ("pages", "id-token"):
                if granted.get(scope) != "write":
                    self.add(line, f"job {job_id!r} deploys to Pages but lacks 'permissions: {scope}: write'")
        if "environment" not in job:
            self.add(line, f"job {job_id!r} deploys to Pages without 'environment: github-pages'")

    def expressions(
        self, node: Node, line: int, *, step_ids: list[str] | None, needs: list[str] | None, skip: set[str]
    ) -> None:
        for key, value in node.items():
            if key in skip:
                continue
            first, block = node.value_lines.get(key, (node.at(key), False))
            for text, at in _strings(value, first, block):
                for problem in expression_problems(text, bare=key == "if" and isinstance(value, str)):
                    self.add(at(problem[0]), problem[1])
                for ref in _STEP_REF.findall(_expr_text(text, bare=key == "if")):
                    if step_ids is not None and ref not in step_ids:
                        self.add(at(0), f"steps.{ref} refers to no earlier step with that id")
                for ref in _NEEDS_REF.findall(_expr_text(text, bare=key == "if")):
                    if needs is not None and ref not in needs:
                        self.add(at(0), f"needs.{ref} is not in this job's needs")


def _strings(value: Any, line: int, block: bool) -> Iterator[tuple[str, Any]]:
    """Every string inside ``value`` with a function mapping a text offset to its line."""
    if isinstance(value, str):
        yield value, lambda offset, s=value: line + (1 if block else 0) + s.count("\n", 0, offset)
    elif isinstance(value, Node):
        for key, item in value.items():
            item_line, item_block = value.value_lines.get(key, (value.at(key), False))
            yield from _strings(item, item_line, item_block)
    elif isinstance(value, Seq):
        for item, (item_line, item_block) in zip(value, value.item_lines, strict=True):
            yield from _strings(item, item_line, item_block)


def _expr_text(text: str, *, bare: bool) -> str:
    if bare and "${{" not in text:
        return text
    return " ".join(re.findall(r"\$\{\{(.*?)\}\}", text, flags=re.S))


def expression_problems(text: str, *, bare: bool = False) -> list[tuple[int, str]]:
    """Problems in the ``${{ }}`` expressions of one string, as (text offset, message)."""
    problems: list[tuple[int, str]] = []
    bodies: list[tuple[int, str]] = []
    if bare and "${{" not in text:
        bodies.append((0, text))
    start = text.find("${{")
    while start != -1:
        end = text.find("}}", start + 3)
        nested = text.find("${{", start + 3)
        if end == -1 or (nested != -1 and nested < end):
            problems.append((start, "unbalanced '${{' without a matching '}}'"))
            break
        bodies.append((start, text[start + 3 : end]))
        start = text.find("${{", end + 2)
    for match in _MISSING_DOLLAR.finditer(text):
        problems.append((match.start(), f"'{{{{ {match.group(1)}.' is missing its '$'"))
    for offset, body in bodies:
        unquoted = re.sub(r"'(?:[^']|'')*'", "''", body)
        if unquoted.count("(") != unquoted.count(")") or unquoted.count("[") != unquoted.count("]"):
            problems.append((offset, f"unbalanced brackets in expression {body.strip()!r}"))
        for match in _IDENT.finditer(unquoted):
            name, call = match.group(1), match.group(2)
            if call and name not in FUNCTIONS:
                problems.append((offset, f"unknown function {name}() in expression {body.strip()!r}"))
            elif not call and name not in CONTEXTS | LITERALS:
                problems.append((offset, f"unknown context {name!r} in expression {body.strip()!r}"))
    return problems


def uses_problem(uses: str) -> str:
    if uses.startswith("./"):
        return ""
    if uses.startswith("docker://"):
        return (
            ""
            if re.search(r":[\w.-]+$|@sha256:[0-9a-f]{64}$", uses)
            else f"'{uses}' has no image tag or digest"
        )
    name, _, ref = uses.partition("@")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?", name):
        return f"'{uses}' is not owner/repo[/path]@ref"
    if not ref:
        return f"'{uses}' is not pinned: add @<version tag> or @<commit sha>"
    if not _REF.match(ref):
        return f"'{uses}' is pinned to {ref!r}, not a version tag (v4, v4.1.2) or a 40-hex commit sha"
    return ""


def cron_problems(cron: str) -> list[str]:
    fields = cron.split()
    if len(fields) != 5:
        return [f"needs 5 fields (minute hour day-of-month month day-of-week), has {len(fields)}"]
    problems: list[str] = []
    for text, (label, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        for part in text.split(","):
            problem = _cron_part(part.upper(), low, high, names)
            if problem:
                problems.append(f"{label} {part!r}: {problem}")
    return problems


def _cron_part(part: str, low: int, high: int, names: tuple[str, ...]) -> str:
    base, slash, step = part.partition("/")
    if slash and (not step.isdigit() or int(step) < 1):
        return f"step {step!r} must be a positive number"
    if base == "*":
        return ""
    ends = base.split("-")
    if len(ends) > 2 or not all(ends):
        return "not a number, a range or *"
    values: list[int] = []
    for end in ends:
        if end in names:
            values.append(names.index(end) + low)
        elif end.isdigit():
            values.append(int(end))
        else:
            return f"{end!r} is not a number" + (f" or one of {names[0]}..{names[-1]}" if names else "")
    if not all(low <= v <= high for v in values):
        return f"out of range {low}-{high}"
    if len(values) == 2 and values[0] > values[1]:
        return "range runs backwards"
    return ""


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def lint_file(path: Path) -> list[str]:
    """``file:line: message`` for every problem in one workflow file."""
    try:
        doc, problems = load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return [f"{path}:{line}: invalid YAML: {exc.problem or exc}"]
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{path}:1: cannot read: {exc}"]
    linter = Linter()
    linter.problems.extend(problems)
    linter.workflow(doc)
    return [f"{path}:{line}: {message}" for line, message in sorted(set(linter.problems))]


def workflow_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml")))
        else:
            files.append(path)
    return files


def main(argv: list[str]) -> int:
    files = workflow_files(argv or [".github/workflows"])
    if not files:
        print(
            f"lint_workflows: no workflow files in {' '.join(argv) or '.github/workflows'}", file=sys.stderr
        )
        return 1
    problems = [line for path in files for line in lint_file(path)]
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"lint_workflows: {len(files)} workflow file(s) OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
