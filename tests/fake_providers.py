"""Fake providers for the tests of gather and of the manifest's provider blocks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from generator.config import load_config
from generator.sources.gather import week_end
from generator.sources.providers import ProviderContext, ProviderResult, Transport
from tests.conftest import ROOT

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # the Saturday after the sample's last bar
WEEK = date(2026, 11, 16)


def _nothing(context: ProviderContext) -> None:
    return None


@dataclass
class Fake:
    """A provider that runs ``work`` (given its context), then gives ``gives`` (or raises it)."""

    name: str
    gives: ProviderResult | BaseException = field(default_factory=ProviderResult)
    needs: tuple[str, ...] = ()
    work: Callable[[ProviderContext], None] = _nothing
    cache_folder: str = ""
    seen: list[str] = field(default_factory=list)  # the series it was given

    def fetch(self, context: ProviderContext) -> ProviderResult:
        self.seen[:] = sorted(context.series)
        self.work(context)
        if isinstance(self.gives, BaseException):
            raise self.gives
        return self.gives


def fake_context(tmp_path: Path, offline: bool = False) -> ProviderContext:
    """feeds.yaml's config, the week of 2026-11-16, the build clock :data:`NOW`, no network."""
    return ProviderContext(
        config=load_config(ROOT / "feeds.yaml"), offline=offline, today=NOW.date(), now=NOW,
        week_start=WEEK, week_end=week_end(WEEK, "friday"), cache_dir=tmp_path / "cache",
        transport=Transport(),
    )  # fmt: skip
