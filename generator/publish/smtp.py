"""SMTP delivery: settings from the environment, the connection, and sending with a ledger entry each.

:func:`deliver` records every recipient in the :class:`~generator.publish.ledger.Ledger` as soon as
the server accepts (or rejects) the message, so a run cut short can be resumed without sending
twice.  Every failure becomes a :class:`~generator.errors.DeliveryError` naming the server, and the
password never appears in one.

- A 4xx reply to MAIL, RCPT, DATA or the message (greylisting's 450/451, a busy server's 421) is
  tried again with backoff: ``attempts`` in all per recipient, and at most ``retry_budget`` seconds
  of waiting in the whole run; after a 421 the next attempt reconnects.  Still refused, the recipient
  is recorded as failed (a later run tries again).
- A connection lost after the message's final dot leaves its fate unknown: the server may have
  queued it.  The recipient is recorded as ``uncertain`` and not sent again without ``--force``.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.generator import BytesGenerator
from email.message import EmailMessage

import tenacity

from generator.errors import DeliveryError
from generator.publish.ledger import FAILED, SENT, UNCERTAIN, Ledger

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
    attempts: int = 3  # per recipient, when the server answers 4xx (try again later)
    retry_wait: float = 10.0  # seconds before the second attempt; doubled before each next one
    retry_budget: float = 120.0  # seconds of waiting for retries in one run, all recipients together

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
        timeout = _env_seconds(environ, "SMALLCAP_SMTP_TIMEOUT", 20.0)
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


def _env_seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A timeout in seconds: a number from 1 to 600, fractions allowed ("2.5")."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 1 <= value <= 600:  # NaN and infinity included
        raise DeliveryError(f"{name}={raw!r} is not a number of seconds from 1 to 600")
    return value


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
    messages: Sequence[tuple[str, EmailMessage]],
    ledger: Ledger,
    now: Callable[[], datetime],
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Send each ``(recipient, message)`` over one connection; return (sent, (rejected, reason)).

    Every outcome goes into ``ledger`` at once.  Raises DeliveryError when the server cannot be
    reached, refuses the login or the sender, or drops the connection (run again to resume).
    """
    sent: list[str] = []
    failed: list[tuple[str, str]] = []
    session = _Session(smtp)
    session.open()
    try:
        for address, msg in messages:
            message_id = str(msg["Message-ID"])
            done = f"{len(sent)} of {len(messages)} sent"
            try:
                rejection = session.send(msg, sender, address)
            except _Dropped as exc:
                raise DeliveryError(
                    f"SMTP server {smtp.where} dropped the connection while sending to {address} "
                    f"({done}; {exc}); run send again to deliver the rest: "
                    f"the ledger {ledger.path} prevents duplicates"
                ) from None
            except _Uncertain as exc:
                ledger.record(as_of, address, message_id, now(), UNCERTAIN, str(exc))
                raise DeliveryError(
                    f"SMTP server {smtp.where} dropped the connection after the whole message to {address} "
                    f"was sent, before confirming it ({done}; {exc}): it may have been delivered. The ledger "
                    f"{ledger.path} marks it uncertain, so send does not repeat it unless given "
                    f"--force --to {address}; run send again to deliver the rest"
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
        session.close()
    return tuple(sent), tuple(failed)


class _Dropped(Exception):
    """The connection is gone before the message was complete: it may be sent on the next run."""


class _Uncertain(Exception):
    """The connection was lost after the message's final dot, before the server's answer."""


class _Transient(Exception):
    """A 4xx reply: the server asks to try again later."""

    def __init__(self, reply: str, closing: bool) -> None:
        super().__init__(reply)
        self.reply = reply
        self.closing = closing  # 421: the server closes the connection


class _Session:
    """One connection at a time, reopened after a 421, and the run's retry budget."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp
        self.conn: smtplib.SMTP | None = None
        self.waited = 0.0

    def open(self) -> smtplib.SMTP:
        if self.conn is None:
            self.conn = connect(self.smtp)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            _quit(self.conn)
            self.conn = None

    def send(self, msg: EmailMessage, sender: str, address: str) -> str:
        """Send one message with bounded retries; return "" when accepted or why it was refused."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            wait=tenacity.wait_exponential(multiplier=self.smtp.retry_wait, max=8 * self.smtp.retry_wait),
            stop=tenacity.stop_after_attempt(self.smtp.attempts) | _OverBudget(self),
            before_sleep=lambda state: self._before_retry(state, address),
        )
        try:
            return retrying(lambda: _send_one(self.open(), msg, sender, address, self.smtp))
        except tenacity.RetryError as exc:
            last = exc.last_attempt.exception()
            assert isinstance(last, _Transient)
            if last.closing:
                self.close()
            tries = exc.last_attempt.attempt_number
            return f"{last.reply} (tried {tries} time{'s' if tries > 1 else ''})"

    def _before_retry(self, state: tenacity.RetryCallState, address: str) -> None:
        error = state.outcome.exception() if state.outcome else None
        assert isinstance(error, _Transient)
        if error.closing:
            self.close()
        self.waited += state.upcoming_sleep
        log.warning(
            "%s answered %s for %s; trying again in %g s (attempt %d of %d)",
            self.smtp.where, error.reply, address, state.upcoming_sleep,
            state.attempt_number + 1, self.smtp.attempts,
        )  # fmt: skip


class _OverBudget(tenacity.stop.stop_base):
    """Stop when the next wait would take the run past its retry budget."""

    def __init__(self, session: _Session) -> None:
        self.session = session

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.session.waited + retry_state.upcoming_sleep > self.session.smtp.retry_budget


def _send_one(conn: smtplib.SMTP, msg: EmailMessage, sender: str, address: str, smtp: SmtpSettings) -> str:
    """One SMTP transaction; return "" when accepted or the server's reason for refusing it.

    Raises _Transient on a 4xx reply, _Dropped when the connection is lost before the message is
    complete, _Uncertain when it is lost after the final dot, and DeliveryError when the sender
    is refused for good.
    """
    international = not (sender.isascii() and address.isascii())
    try:
        conn.ehlo_or_helo_if_needed()
        if international and not conn.has_extn("smtputf8"):
            return f"SMTP server {smtp.where} does not accept international addresses (no SMTPUTF8)"
        code, text = conn.mail(sender, ["SMTPUTF8", "BODY=8BITMIME"] if international else [])
        if code != 250:
            reason = _refusal(conn, code, text)
            raise DeliveryError(f"SMTP server {smtp.where} refused the sender {sender}: {reason}")
        code, text = conn.rcpt(address)
        if code not in (250, 251):
            return _refusal(conn, code, text)
        code, text = conn.docmd("DATA")
        if code != 354:
            return _refusal(conn, code, text)
        conn.send(_data(msg, international))
    except OSError as exc:  # SMTPServerDisconnected, connection resets, timeouts
        raise _Dropped(str(exc) or exc.__class__.__name__) from exc
    try:
        code, text = conn.getreply()
    except OSError as exc:
        raise _Uncertain(str(exc) or exc.__class__.__name__) from exc
    return "" if code == 250 else _refusal(conn, code, text)


def _refusal(conn: smtplib.SMTP, code: int, text: bytes) -> str:
    """The reply in words, after resetting the transaction; raises _Transient for a 4xx reply."""
    reply = _reply(code, text)
    if code != 421:
        try:
            conn.rset()
        except OSError as exc:
            raise _Dropped(str(exc) or exc.__class__.__name__) from exc
    if 400 <= code < 500:
        raise _Transient(reply, closing=code == 421)
    return reply


def _data(msg: EmailMessage, international: bool) -> bytes:
    """The message as DATA sends it: CRLF lines, leading dots doubled, ending with a lone dot."""
    buffer = io.BytesIO()
    policy = msg.policy.clone(utf8=True) if international else msg.policy  # type: ignore[call-arg]
    BytesGenerator(buffer, policy=policy).flatten(msg, linesep="\r\n")
    data = re.sub(rb"(?m)^\.", b"..", buffer.getvalue())
    return data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n"


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
            _login(conn, smtp.user, smtp.password)
        return conn
    except Exception as exc:
        if conn is not None:
            _quit(conn)
        raise DeliveryError(_scrub(_connect_failure(smtp, exc), smtp.password)) from None


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """``conn.login``, which encodes the user and password as ASCII (a UnicodeEncodeError naming
    nothing for "pässwörd"); a non-ASCII pair goes as AUTH PLAIN in UTF-8, as RFC 4616 defines it."""
    if (user + password).isascii():
        conn.login(user, password)
        return
    conn.ehlo_or_helo_if_needed()
    if "plain" not in conn.esmtp_features.get("auth", "").lower().split():
        raise smtplib.SMTPException(
            "the user name or password is not ASCII, which only AUTH PLAIN carries, and the server"
            " does not offer it"
        )
    token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, reply = conn.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


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
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib turns a read that timed out (a server that accepts and never greets) into this.
        if isinstance(exc.__context__, TimeoutError | socket.timeout):
            return f"SMTP server {where} accepted the connection but sent nothing within {smtp.timeout:g} s"
        return f"SMTP server {where} closed the connection: {exc}"
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
