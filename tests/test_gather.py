"""gather runs the providers side by side, each within its own deadline, after what it needs.

The fake providers here wait for each other through events and barriers instead of sleeping for
set times, so the tests say what overlaps without measuring time (scripts/bench_gather.py measures).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.errors import SourceError
from generator.models import Snapshot, SourceHealth
from generator.sources.gather import compose
from generator.sources.providers import Provider, ProviderContext, ProviderResult
from generator.sources.snapshot import write_snapshot
from tests.fake_providers import Fake, fake_context

WAIT = 10.0  # seconds a fake waits for another before it gives up (never reached when all is well)


def fake(
    sample: Snapshot, name: str, series: tuple[str, ...] = (), feeds: tuple[str, ...] = (), **options: Any
) -> Fake:
    """A fake provider giving these series and feeds of the sample, each series with an ok row."""
    rows = tuple(SourceHealth("symbol", s, "ok", "live", provider=name) for s in series)
    gives = ProviderResult(
        name.title(),
        series={s: sample.series[s] for s in series},
        feeds={f: sample.feeds[f] for f in feeds},
        health=rows,
    )
    return Fake(name, gives, **options)


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_providers_that_need_nothing_of_each_other_run_side_by_side(sample: Snapshot, tmp_path: Path) -> None:
    together = threading.Barrier(3, timeout=WAIT)  # passes only when three fetch at the same time
    providers: list[Provider] = [
        fake(sample, n, work=lambda context: together.wait() and None) for n in ("prices", "news", "rates")
    ]
    snapshot = compose(providers, fake_context(tmp_path), workers=3)
    assert [b.name for b in snapshot.blocks] == ["prices", "news", "rates"]
    assert not together.broken


def test_a_slow_provider_does_not_hold_up_the_others(sample: Snapshot, tmp_path: Path) -> None:
    """The slow one finishes only after the others have: run in turn, it would wait in vain."""
    others_done = threading.Event()
    finished: list[str] = []

    def slow(context: ProviderContext) -> None:
        if not others_done.wait(WAIT):
            raise SourceError("slow", "the others did not finish while it was busy")
        finished.append("slow")

    def quick(name: str) -> Callable[[ProviderContext], None]:
        def work(context: ProviderContext) -> None:
            finished.append(name)
            if len(finished) == 2:
                others_done.set()

        return work

    providers: list[Provider] = [
        fake(sample, "slow", series=("^RUT",), work=slow),
        fake(sample, "a", feeds=(sorted(sample.feeds)[0],), work=quick("a")),
        fake(sample, "b", series=("IWM",), work=quick("b")),
    ]
    snapshot = compose(providers, fake_context(tmp_path), workers=3)
    assert finished[-1] == "slow" and {h.status for h in snapshot.health} == {"ok"}
    assert [b.name for b in snapshot.blocks] == ["slow", "a", "b"]  # the order registered, not finished


def test_a_provider_waits_for_what_it_needs_and_sees_only_that(sample: Snapshot, tmp_path: Path) -> None:
    prices_done = threading.Event()
    fund = fake(
        sample,
        "fund-data",
        needs=("prices",),
        work=lambda context: None if prices_done.is_set() else pytest.fail("started before prices"),
    )
    members = fake(sample, "member-prices", needs=("fund-data",))  # needs prices too, through fund-data
    news = fake(sample, "news", work=lambda context: prices_done.wait(WAIT) and None)  # runs beside prices

    def prices_work(context: ProviderContext) -> None:
        time.sleep(0.05)  # let news start first: it must still see no series
        prices_done.set()

    prices = fake(sample, "prices", series=("^RUT", "IWM"), work=prices_work)
    rates = fake(sample, "rates", series=("FRED-DGS2",))
    compose([prices, news, rates, fund, members], fake_context(tmp_path), workers=2)
    assert fund.seen == members.seen == ["IWM", "^RUT"]
    assert news.seen == rates.seen == prices.seen == []  # they need nothing: they see nothing


def test_the_snapshot_is_the_same_whatever_order_the_providers_finish_in(
    sample: Snapshot, tmp_path: Path
) -> None:
    feed = sorted(sample.feeds)[0]
    # The slow one finishes only once the providers that can finish without it have (c needs a):
    # waited for, not slept for, so the order does not depend on how the threads are scheduled.
    first = {"a": {"b"}, "b": {"a", "c"}, "c": {"a", "b"}, "": set()}
    written, orders = [], set()
    for slow in ("a", "b", "c", ""):
        finished: list[str] = []
        turn = threading.Condition()

        def work(
            name: str, slow: str = slow, finished: list[str] = finished, turn: threading.Condition = turn
        ) -> Callable[..., None]:
            def run(context: ProviderContext) -> None:
                with turn:
                    if name == slow and not turn.wait_for(lambda: first[slow] <= set(finished), WAIT):
                        raise AssertionError(f"{sorted(first[slow])} did not finish while {name} was busy")
                    finished.append(name)
                    turn.notify_all()

            return run

        providers: list[Provider] = [
            fake(sample, "a", series=("^RUT", "IWM"), work=work("a")),
            fake(sample, "b", series=("IWM", "^GSPC"), work=work("b")),  # IWM again: b (later) wins
            fake(sample, "c", feeds=(feed,), needs=("a",), work=work("c")),
        ]
        snapshot = compose(providers, fake_context(tmp_path), workers=3 if slow else 1)  # "": one at a time
        assert snapshot.series["IWM"] is sample.series["IWM"]
        assert [b.series for b in snapshot.blocks] == [("^RUT", "IWM"), ("IWM", "^GSPC"), ()]
        written.append(_tree(write_snapshot(snapshot, tmp_path / f"snap-{slow or 'in-turn'}")))
        orders.add(tuple(finished))
    assert len(orders) >= 3, orders  # they did finish in different orders
    assert all(tree == written[0] for tree in written[1:])


def test_a_source_error_is_the_providers_failed_row_and_the_others_still_give(
    sample: Snapshot, tmp_path: Path
) -> None:
    def refuse(context: ProviderContext) -> None:
        raise SourceError("holdings", "HTTP 403 Forbidden")

    providers: list[Provider] = [
        fake(sample, "index", work=refuse),
        fake(sample, "prices", series=("^RUT",)),
        fake(sample, "fund-data", needs=("index",)),  # what it needs failed: it still runs
    ]
    snapshot = compose(providers, fake_context(tmp_path))
    [failed] = [h for h in snapshot.health if h.status == "failed"]
    assert (failed.name, failed.error) == ("index", "holdings: HTTP 403 Forbidden")
    assert [(b.name, b.status) for b in snapshot.blocks] == [
        ("index", "failed"),
        ("prices", "ok"),
        ("fund-data", "ok"),
    ]
    assert "^RUT" in snapshot.series


def test_a_providers_bug_is_its_failed_row_and_the_others_still_run(sample: Snapshot, tmp_path: Path) -> None:
    """An exception out of a provider that is not a SourceError (a bug, a library's own error) costs
    that provider's part of the brief, named in its health row, never the build."""

    def broken(context: ProviderContext) -> None:
        raise RuntimeError("a bug")

    done: list[str] = []
    later = fake(sample, "later", needs=("broken",), work=lambda context: done.append("later"))
    snapshot = compose(
        [
            fake(sample, "broken", work=broken),
            fake(sample, "busy", work=lambda c: done.append("busy")),
            later,
        ],
        fake_context(tmp_path),
    )
    row = next(h for h in snapshot.health if h.name == "broken")
    assert (row.status, row.error) == ("failed", "unexpected error (RuntimeError: a bug)")
    assert sorted(done) == ["busy", "later"]


class _Stop(BaseException):
    """Not an Exception: as Ctrl-C, it stops the gather."""


def test_an_interrupt_in_a_provider_stops_the_gather_once_the_running_ones_are_done(
    sample: Snapshot, tmp_path: Path
) -> None:
    running = threading.Event()
    done: list[str] = []

    def broken(context: ProviderContext) -> None:
        running.wait(WAIT)
        raise _Stop("stop")

    def busy(context: ProviderContext) -> None:
        running.set()
        time.sleep(0.1)
        done.append("busy")

    later = fake(sample, "later", needs=("broken",), work=lambda context: done.append("later"))
    with pytest.raises(_Stop, match="stop"):
        compose(
            [fake(sample, "broken", work=broken), fake(sample, "busy", work=busy), later],
            fake_context(tmp_path),
        )
    assert done == ["busy"]  # the running one finished; the one waiting on the broken one never started


@pytest.mark.parametrize(
    ("needs", "problem"),
    [
        ({"a": ("b",)}, "provider 'a' needs 'b', not registered before it"),
        ({"b": ("b",)}, "provider 'b' needs 'b', not registered before it"),
    ],
)
def test_needs_point_back_to_providers_registered_before(
    sample: Snapshot, tmp_path: Path, needs: dict[str, tuple[str, ...]], problem: str
) -> None:
    providers: list[Provider] = [fake(sample, n, needs=needs.get(n, ())) for n in ("a", "b")]
    with pytest.raises(ValueError, match=problem):
        compose(providers, fake_context(tmp_path))


def test_two_providers_of_one_name_and_a_need_that_is_not_registered(
    sample: Snapshot, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="two providers are named 'a'"):
        compose([fake(sample, "a"), fake(sample, "a")], fake_context(tmp_path))
    lone = fake(sample, "fund-data", needs=("prices",))  # prices turned off in feeds.yaml: not waited for
    snapshot = compose([lone], fake_context(tmp_path))
    assert [b.name for b in snapshot.blocks] == ["fund-data"] and lone.seen == []


def test_each_providers_time_is_logged_at_debug(
    sample: Snapshot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="generator.sources.gather"):
        compose([fake(sample, "prices", series=("^RUT",)), fake(sample, "news")], fake_context(tmp_path))
    timed = [r.getMessage() for r in caplog.records if " done in " in r.getMessage()]
    assert sorted(m.split(":")[0] for m in timed) == ["news", "prices"]
    assert all(r.levelno == logging.DEBUG for r in caplog.records if " done in " in r.getMessage())
    assert any(m.startswith("prices: done in ") and "1 series" in m for m in timed)
