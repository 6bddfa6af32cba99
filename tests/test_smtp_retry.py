"""SMTP delivery when the server says "later" or goes away: a real aiosmtpd server on loopback.

- A 4xx at MAIL, RCPT, DATA or after the message (greylisting's 450/451, a busy server's 421) is
  tried again with backoff, a bounded number of times and within the run's retry budget.
- A connection lost after the message's final dot leaves the recipient "uncertain" in the ledger.
- A connection lost before that, or a 5xx, is never retried within the run.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from generator.errors import DeliveryError
from generator.publish.ledger import FAILED, SENT, UNCERTAIN, Ledger
from generator.publish.smtp import SmtpSettings, deliver

AS_OF = date(2026, 11, 20)
SENDER = "brief@news.example.com"
PEOPLE = ("ann@example.com", "bob@example.com", "cy@example.com")
GREYLISTED = "451 4.7.1 Greylisted, please try again later"
CLOCK = lambda: datetime(2026, 11, 21, 7, 0, tzinfo=UTC)  # noqa: E731


@dataclass
class Moody:
    """An aiosmtpd handler that gives scripted replies before it accepts.

    ``mail`` and ``data``: replies to the next MAIL commands / finished messages, in order;
    ``rcpt``: the same per recipient.  ``drop_after_message`` / ``drop_at_rcpt``: recipients for
    whom the server closes the connection once the whole message is in / at their RCPT (once each).
    """

    mail: list[str] = field(default_factory=list)
    rcpt: dict[str, list[str]] = field(default_factory=dict)
    data: list[str] = field(default_factory=list)
    drop_after_message: set[str] = field(default_factory=set)
    drop_at_rcpt: set[str] = field(default_factory=set)
    accepted: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    sessions: int = 0
    rcpts_seen: list[str] = field(default_factory=list)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.mail:
            return self.mail.pop(0)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.rcpts_seen.append(address)
        if address in self.drop_at_rcpt:
            self.drop_at_rcpt.discard(address)
            server.transport.close()
            return "250 OK"
        waiting = self.rcpt.get(address)
        if waiting:
            return waiting.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        (address,) = envelope.rcpt_tos
        if address in self.drop_after_message:
            self.drop_after_message.discard(address)
            server.transport.close()  # the message is in; the answer never leaves
            return "250 2.0.0 queued"
        if self.data:
            return self.data.pop(0)
        self.accepted.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 accepted"

    @property
    def recipients(self) -> list[str]:
        return [r for _, rcpts, _ in self.accepted for r in rcpts]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server() -> Iterator[tuple[Moody, SmtpSettings]]:
    handler = Moody()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = SmtpSettings(
            "127.0.0.1", controller.port, "none", timeout=5, attempts=3, retry_wait=0.02, retry_budget=5.0
        )
        yield handler, settings
    finally:
        controller.stop()


def message(to: str, n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"Small-Cap Weekly <{SENDER}>", to, "Small-Cap Weekly"
    msg["Message-ID"] = f"<issue-2026-11-20-{n}@news.example.com>"
    msg.set_content(".a line that starts with a dot\nSmall caps rose 1.4% this week.\n")
    return msg


def send(smtp: SmtpSettings, ledger: Ledger, people: tuple[str, ...] = PEOPLE) -> Any:
    messages = [(p, message(p, n)) for n, p in enumerate(people)]
    return deliver(AS_OF, SENDER, smtp, messages, ledger, CLOCK)


def statuses(ledger: Ledger) -> dict[str, tuple[str, str]]:
    return {e.recipient: (e.status, e.error) for e in Ledger(ledger.path).entries(AS_OF)}


# --- "try again later" ----------------------------------------------------------------------------


def test_greylisting_at_rcpt_is_tried_again_and_delivers_once(
    server: tuple[Moody, SmtpSettings], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    handler, smtp = server
    handler.rcpt["bob@example.com"] = [GREYLISTED, "450 4.2.0 Mailbox busy"]
    ledger = Ledger(tmp_path / "sent.jsonl")
    sent, failed = send(smtp, ledger)
    assert (sent, failed) == (PEOPLE, ())
    assert handler.recipients == list(PEOPLE)  # each exactly once
    assert handler.rcpts_seen.count("bob@example.com") == 3
    assert {r: s for r, (s, _) in statuses(ledger).items()} == dict.fromkeys(PEOPLE, SENT)
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert retries == [
        f"{smtp.where} answered {GREYLISTED} for bob@example.com; trying again in 0.02 s (attempt 2 of 3)",
        f"{smtp.where} answered 450 4.2.0 Mailbox busy for bob@example.com; trying again in 0.04 s "
        "(attempt 3 of 3)",
    ]
    _, _, raw = handler.accepted[0]
    assert b"\n..a line that starts with a dot" not in raw and b".a line that starts with a dot" in raw


def test_a_421_at_mail_reconnects_and_delivers(server: tuple[Moody, SmtpSettings], tmp_path: Path) -> None:
    handler, smtp = server
    handler.mail = ["421 4.3.2 Service shutting down, closing channel"]
    sent, failed = send(smtp, Ledger(tmp_path / "sent.jsonl"), PEOPLE[:2])
    assert (sent, failed) == (PEOPLE[:2], ())
    assert handler.sessions == 2 and handler.recipients == list(PEOPLE[:2])


def test_a_421_at_rcpt_reconnects_and_delivers_once(
    server: tuple[Moody, SmtpSettings], tmp_path: Path
) -> None:
    """A 421 closes the connection (the client drops it on that code): the recipient is asked again
    on a new one, and everyone gets the message once."""
    handler, smtp = server
    handler.rcpt["bob@example.com"] = ["421 4.7.0 Too many connections, try again later"]
    ledger = Ledger(tmp_path / "sent.jsonl")
    sent, failed = send(smtp, ledger)
    assert (sent, failed) == (PEOPLE, ())
    assert handler.recipients == list(PEOPLE) and handler.rcpts_seen.count("bob@example.com") == 2
    assert handler.sessions == 2
    assert {r: s for r, (s, _) in statuses(ledger).items()} == dict.fromkeys(PEOPLE, SENT)


def test_a_4xx_after_the_message_is_tried_again(server: tuple[Moody, SmtpSettings], tmp_path: Path) -> None:
    handler, smtp = server
    handler.data = ["451 4.3.0 Temporary queue failure"]
    sent, failed = send(smtp, Ledger(tmp_path / "sent.jsonl"), PEOPLE[:1])
    assert (sent, failed) == (PEOPLE[:1], ()) and handler.recipients == ["ann@example.com"]


def test_still_refused_after_the_last_attempt_is_failed_and_the_others_still_get_it(
    server: tuple[Moody, SmtpSettings], tmp_path: Path
) -> None:
    handler, smtp = server
    handler.rcpt["bob@example.com"] = [GREYLISTED] * 5
    ledger = Ledger(tmp_path / "sent.jsonl")
    sent, failed = send(smtp, ledger)
    assert sent == ("ann@example.com", "cy@example.com")
    assert failed == (("bob@example.com", f"{GREYLISTED} (tried 3 times)"),)
    assert handler.rcpts_seen.count("bob@example.com") == 3
    assert statuses(ledger)["bob@example.com"] == (FAILED, f"{GREYLISTED} (tried 3 times)")
    assert not Ledger(ledger.path).was_sent(AS_OF, "bob@example.com")  # the next run tries again


def test_the_retry_budget_bounds_the_whole_run(server: tuple[Moody, SmtpSettings], tmp_path: Path) -> None:
    handler, smtp = server
    handler.rcpt = {"ann@example.com": [GREYLISTED] * 5, "bob@example.com": [GREYLISTED] * 5}
    tight = replace(smtp, attempts=5, retry_wait=0.05, retry_budget=0.06)
    sent, failed = send(tight, Ledger(tmp_path / "sent.jsonl"))
    assert sent == ("cy@example.com",)
    # ann: one wait of 0.05 s, then 0.1 s more would pass the budget; bob: not even one more wait
    assert dict(failed) == {
        "ann@example.com": f"{GREYLISTED} (tried 2 times)",
        "bob@example.com": f"{GREYLISTED} (tried 1 time)",
    }


def test_a_permanent_refusal_is_not_tried_again(server: tuple[Moody, SmtpSettings], tmp_path: Path) -> None:
    handler, smtp = server
    handler.rcpt["bob@example.com"] = ["550 5.1.1 <bob@example.com>: mailbox unavailable"]
    sent, failed = send(smtp, Ledger(tmp_path / "sent.jsonl"))
    assert failed == (("bob@example.com", "550 5.1.1 <bob@example.com>: mailbox unavailable"),)
    assert handler.rcpts_seen.count("bob@example.com") == 1 and len(sent) == 2


def test_a_refused_sender_stops_the_run(server: tuple[Moody, SmtpSettings], tmp_path: Path) -> None:
    handler, smtp = server
    handler.mail = ["451 4.3.0 try later", "553 5.7.1 Sender address rejected"]
    with pytest.raises(DeliveryError, match=r"refused the sender brief@news\.example\.com: 553 5\.7\.1"):
        send(smtp, Ledger(tmp_path / "sent.jsonl"))
    assert handler.accepted == []


# --- the connection goes away -------------------------------------------------------------------


def test_a_drop_after_the_message_is_uncertain_and_not_sent_again(
    server: tuple[Moody, SmtpSettings], tmp_path: Path
) -> None:
    handler, smtp = server
    handler.drop_after_message = {"bob@example.com"}
    ledger = Ledger(tmp_path / "sent.jsonl")
    with pytest.raises(DeliveryError) as caught:
        send(smtp, ledger)
    words = str(caught.value)
    assert "after the whole message to bob@example.com was sent" in words and "(1 of 3 sent" in words
    assert "--force --to bob@example.com" in words
    assert statuses(ledger) == {
        "ann@example.com": (SENT, ""),
        "bob@example.com": (UNCERTAIN, "Connection unexpectedly closed"),
    }
    again = Ledger(ledger.path)
    assert again.was_sent(AS_OF, "bob@example.com") and again.is_uncertain(AS_OF, "bob@example.com")
    assert not again.is_uncertain(AS_OF, "ann@example.com")


def test_a_drop_before_the_message_is_complete_is_not_uncertain(
    server: tuple[Moody, SmtpSettings], tmp_path: Path
) -> None:
    handler, smtp = server
    handler.drop_at_rcpt = {"bob@example.com"}
    ledger = Ledger(tmp_path / "sent.jsonl")
    with pytest.raises(DeliveryError, match=r"dropped the connection while sending to bob@example\.com"):
        send(smtp, ledger)
    assert statuses(ledger) == {"ann@example.com": (SENT, "")}  # bob: nothing recorded, sent next run
    sent, _ = send(smtp, Ledger(ledger.path), PEOPLE[1:])
    assert sent == PEOPLE[1:] and handler.recipients == list(PEOPLE)
