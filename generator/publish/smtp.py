"""SMTP delivery: settings from the environment, the connection, and sending with a ledger entry each.

:func:`deliver` records every recipient in the :class:`~generator.publish.ledger.Ledger` as soon as
the server accepts (or rejects) the message, so a run cut short can be resumed without sending
twice.  Every failure becomes a :class:`~generator.errors.DeliveryError` naming the server, and the
password never appears in one.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage

from generator.errors import DeliveryError
from generator.publish.ledger import FAILED, SENT, Ledger

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send.  The password is kept out of ``repr`` and every message."""

    host: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    user: str = ""
    password: str = field(default="", repr=False)
    to: tuple[str, ...] = ()  # default recipients (SMALLCAP_BRIEF_TO)
    timeout: float = 20.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SmtpSettings:
        """Read ``SMALLCAP_SMTP_*`` and ``SMALLCAP_BRIEF_TO`` from an environment mapping."""
        host = environ.get("SMALLCAP_SMTP_HOST", "").strip()
        if not host:
            raise DeliveryError("SMALLCAP_SMTP_HOST is not set: the SMTP server's host name is required")
        security = environ.get("SMALLCAP_SMTP_SECURITY", "starttls").strip().lower() or "starttls"
        if security not in SECURITY_MODES:
            raise DeliveryError(
                f"SMALLCAP_SMTP_SECURITY={security!r} is not one of {', '.join(SECURITY_MODES)}"
            )
        port = _env_number(environ, "SMALLCAP_SMTP_PORT", DEFAULT_PORTS[security])
        timeout = float(_env_number(environ, "SMALLCAP_SMTP_TIMEOUT", 20))
        user = environ.get("SMALLCAP_SMTP_USER", "").strip()
        password = environ.get("SMALLCAP_SMTP_PASSWORD", "")
        if password and not user:
            raise DeliveryError("SMALLCAP_SMTP_PASSWORD is set but SMALLCAP_SMTP_USER is not")
        if user and not password:
            raise DeliveryError("SMALLCAP_SMTP_USER is set but SMALLCAP_SMTP_PASSWORD is empty")
        return cls(host, port, security, user, password, env_recipients(environ), timeout)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def _env_number(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DeliveryError(f"{name}={raw!r} is not a number between 1 and 65535")
    return int(raw)


def env_recipients(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The comma-separated addresses in SMALLCAP_BRIEF_TO."""
    return tuple(a.strip() for a in environ.get("SMALLCAP_BRIEF_TO", "").split(",") if a.strip())


# ---------------------------------------------------------------------------
# Delivery
# ---------------------------------------------------------------------------


def deliver(
    as_of: date,
    sender: str,
    smtp: SmtpSettings,
    messages: list[tuple[str, EmailMessage]],
    ledger: Ledger,
    now: Callable[[], datetime],
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Send each ``(recipient, message)`` over one connection; return (sent, (rejected, reason)).

    Every outcome goes into ``ledger`` at once.  Raises DeliveryError when the server cannot be
    reached, refuses the login or the sender, or drops the connection (run again to resume).
    """
    sent: list[str] = []
    failed: list[tuple[str, str]] = []
    conn = connect(smtp)
    try:
        for address, msg in messages:
            message_id = str(msg["Message-ID"])
            try:
                rejection = _send_one(conn, msg, sender, address, smtp)
            except _Dropped as exc:
                raise DeliveryError(
                    f"SMTP server {smtp.where} dropped the connection while sending to {address} "
                    f"({len(sent)} of {len(messages)} sent; {exc}); run send again to deliver the rest: "
                    f"the ledger {ledger.path} prevents duplicates"
                ) from None
            if rejection:
                log.warning("issue %s: %s rejected %s: %s", as_of, smtp.where, address, rejection)
                ledger.record(as_of, address, message_id, now(), FAILED, rejection)
                failed.append((address, rejection))
            else:
                ledger.record(as_of, address, message_id, now(), SENT)
                sent.append(address)
                log.info("issue %s: sent to %s", as_of, address)
    finally:
        _quit(conn)
    return tuple(sent), tuple(failed)


class _Dropped(Exception):
    """The connection is gone; the message may be retried on the next run."""


def _send_one(conn: smtplib.SMTP, msg: EmailMessage, sender: str, address: str, smtp: SmtpSettings) -> str:
    """Send one message; return "" when accepted or the server's reason for rejecting it."""
    try:
        conn.send_message(msg, from_addr=sender, to_addrs=[address])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (0, b""))
        if code == 421:  # "service not available, closing channel"
            raise _Dropped(_reply(code, text)) from exc
        return _reply(code, text)
    except smtplib.SMTPDataError as exc:
        if exc.smtp_code == 421:
            raise _Dropped(_reply(exc.smtp_code, exc.smtp_error)) from exc
        return _reply(exc.smtp_code, exc.smtp_error)
    except smtplib.SMTPSenderRefused as exc:
        raise DeliveryError(
            f"SMTP server {smtp.where} refused the sender {sender}: {_reply(exc.smtp_code, exc.smtp_error)}"
        ) from exc
    except OSError as exc:  # SMTPServerDisconnected, connection resets, timeouts
        raise _Dropped(str(exc) or exc.__class__.__name__) from exc
    return ""


def connect(smtp: SmtpSettings) -> smtplib.SMTP:
    """An open, logged-in connection; any failure is a DeliveryError without the password in it."""
    conn: smtplib.SMTP | None = None
    try:
        if smtp.security == "ssl":
            context = ssl.create_default_context()
            conn = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
            if smtp.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if smtp.user:
            if smtp.security == "none":
                log.warning(
                    "logging in to %s without TLS: the password crosses the network in clear", smtp.where
                )
            conn.login(smtp.user, smtp.password)
        return conn
    except Exception as exc:
        if conn is not None:
            _quit(conn)
        raise DeliveryError(_scrub(_connect_failure(smtp, exc), smtp.password)) from None


def _connect_failure(smtp: SmtpSettings, exc: Exception) -> str:
    where = smtp.where
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        return f"SMTP server {where} refused authentication for user {smtp.user!r}: {reply}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"SMTP server {where} does not support what SMALLCAP_SMTP_SECURITY/USER ask for: {exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot reach SMTP server {where}: connection refused (check SMALLCAP_SMTP_HOST and _PORT)"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"cannot reach SMTP server {where}: no answer within {smtp.timeout:g} s"
    if isinstance(exc, socket.gaierror):
        return f"cannot reach SMTP server {where}: unknown host {smtp.host!r}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with SMTP server {where} failed: {exc.reason or exc}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP server {where} refused the session: {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, OSError):
        return f"cannot talk to SMTP server {where}: {exc.strerror or exc.__class__.__name__}"
    return f"cannot talk to SMTP server {where}: {exc.__class__.__name__}"


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}"


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()
