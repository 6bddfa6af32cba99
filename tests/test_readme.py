"""The README stays true: its commands, options, make targets and environment variables exist."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCUMENTED = ("build", "check", "site", "send", "backfill")

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
# `smallcap-brief build ...` up to the end of the code span or line; not "smallcap-brief/" in a URL.
INVOCATION = re.compile(r"smallcap-brief[ \t]+([a-z][a-z-]*)([^`\n]*)")
# `make brief ARGS="..."` passes its options to `smallcap-brief build`.
MAKE_ARGS = re.compile(r'make (brief|site) ARGS="([^"]*)"')
# "- **`build`**: ..." bullets, up to the next bullet or blank line.
BULLET = re.compile(r"^- \*\*`([a-z]+)`\*\*:(.*?)(?=^- |^\s*$)", re.M | re.S)
ENV_VAR = re.compile(r"SMALLCAP_[A-Z]+(?:_[A-Z]+)*(?![A-Z_*])")


def readme() -> str:
    return README.read_text(encoding="utf-8")


@cache
def help_text(command: str) -> str:
    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


def options_in_help(command: str) -> set[str]:
    return set(OPTION.findall(help_text(command)))


def documented_options() -> dict[str, set[str]]:
    """Every --option the README shows, by the command it is shown for."""
    found: dict[str, set[str]] = {name: set() for name in DOCUMENTED}
    text = readme()
    for name, rest in INVOCATION.findall(text):
        if name in found:
            found[name].update(OPTION.findall(rest))
    for target, args in MAKE_ARGS.findall(text):
        found["build" if target == "brief" else target].update(OPTION.findall(args))
    for name, body in BULLET.findall(text):
        if name in found:
            found[name].update(OPTION.findall(body))
    return found


def test_every_command_named_in_readme_exists() -> None:
    named = {name for name, _ in INVOCATION.findall(readme())}
    assert set(DOCUMENTED) <= named, "the README should show every command"
    assert named <= set(cli.commands), f"not commands: {sorted(named - set(cli.commands))}"


def test_every_command_has_an_example_in_readme() -> None:
    text = readme()
    for name in cli.commands:
        assert re.search(rf"`smallcap-brief {name}( [^`]*)?`", text), f"no example for {name}"


@pytest.mark.parametrize("command", DOCUMENTED)
def test_options_shown_in_readme_exist(command: str) -> None:
    shown = documented_options()[command]
    assert shown, f"the README shows no options for {command}"
    missing = shown - options_in_help(command)
    assert not missing, f"{command} has no {sorted(missing)} (README)"


def shared_options() -> set[str]:
    """The options the README names once for several commands."""
    line = re.search(r"^Options shared by several commands:(.*)$", readme(), re.M)
    assert line is not None, "the README lists the shared options"
    return set(OPTION.findall(line.group(1)))


def test_shared_options_are_shared() -> None:
    for option in shared_options():
        having = [name for name in DOCUMENTED if option in options_in_help(name)]
        assert len(having) >= 2, f"{option} is not shared ({having})"


def test_build_options_are_all_documented() -> None:
    shown = documented_options()["build"] | shared_options()
    undocumented = options_in_help("build") - shown - {"--help"}
    assert not undocumented, f"build options missing from README: {sorted(undocumented)}"


def test_global_options_exist() -> None:
    shown = set(re.findall(r"smallcap-brief (--?[a-z-]+)", readme()))
    assert shown == {"-v", "--version"}
    assert {"--version", "--verbose"} <= options_in_help("")
    assert "-v, --verbose" in help_text("")


def test_quick_start_is_make_brief_and_make_test() -> None:
    section = readme().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the quick start has a sh code block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make brief", "make test"]


def test_make_targets_in_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    named = set(re.findall(r"(?:^|`)make ([a-z][a-z-]*)", readme(), re.M))
    assert {"brief", "test", "bench"} <= named
    assert named <= targets, f"not Makefile targets: {sorted(named - targets)}"


def test_environment_variables_match_the_code() -> None:
    in_readme = set(ENV_VAR.findall(readme()))
    in_code: set[str] = set()
    for path in (ROOT / "generator").rglob("*.py"):
        in_code.update(ENV_VAR.findall(path.read_text(encoding="utf-8")))
    assert "SMALLCAP_SMTP_HOST" in in_code
    assert in_readme - in_code == set(), "README names variables the code never reads"
    assert in_code - in_readme == set(), "the code reads variables the README does not name"


def test_pytest_options_of_the_project_are_documented() -> None:
    conftest = (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")
    added = set(re.findall(r'addoption\(\s*"(--[a-z-]+)"', conftest))
    assert added, "tests/conftest.py adds pytest options"
    text = readme()
    assert {option for option in added if f"pytest {option}" not in text} == set()


def test_make_test_runs_the_tests_in_parallel_as_the_readme_says() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    # The checks and the suite run side by side, each a target of its own.
    assert re.search(r"\$\(MAKE\) .*-j2 .*\blint pytest$", recipe, re.M), recipe
    suite = makefile.split("\npytest:", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"pytest .*-n auto", suite), suite
    assert "pytest-xdist" in readme()
