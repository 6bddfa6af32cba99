"""Progress of a long stage: a bar in the live status line on a terminal, plain log lines in CI."""

from __future__ import annotations

import io
import logging

import pytest

from generator import console


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_member_prices_show_a_bar_in_the_status_line() -> None:
    shown: list[str] = []
    with console.progress("Gathering data", stream=Terminal()) as update:
        assert console._live is update  # the live status line, while its stage runs
        console._live = lambda step: (shown.append(step), update(step))  # see what it is told
        console.report_progress("member prices: members asked", 450, 1912)
        console.report_progress("member prices: members asked", 1912, 1912)
    assert console._live is None  # the status line is gone with its stage
    assert shown[0] == "member prices: members asked [██████··················] 450 of 1,912"
    assert shown[1].endswith("[████████████████████████] 1,912 of 1,912")


def test_without_a_terminal_progress_is_a_plain_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO, logger="generator.console"),
        console.progress("Gathering data", stream=io.StringIO()),
    ):
        console.report_progress("member prices: members asked", 150, 1912)
    assert "member prices: members asked: 150 of 1912" in caplog.text
    assert "█" not in caplog.text
