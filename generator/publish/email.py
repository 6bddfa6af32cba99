"""The weekly email: render the body, build the MIME message, send it once per recipient.

Message layout (what Gmail, Apple Mail and Outlook all display well)::

    multipart/mixed
      multipart/related
        multipart/alternative
          text/plain            email.txt
          text/html             email.html (CSS inlined, charts as cid:chart-<key>)
        image/png               one per chart, Content-ID <chart-<key>>, inline
      application/pdf           brief.pdf, attached

Sending is idempotent: every delivery is written to the :class:`~generator.publish.ledger.Ledger`
as soon as the server accepts it, and recipients already there are skipped unless ``force``.
The SMTP side (settings, connection, delivery) is :mod:`generator.publish.smtp`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import cast, overload

from generator.errors import BriefError, DeliveryError, PublishError
from generator.formats import FILES
from generator.issue import (
    CHARTS_DIR,
    issue_dir,
    issue_url,
    list_issues,
    publish_refusal,
    read_issue_file,
    read_meta,
)
from generator.models import Config, EmailSettings, IssueMeta
from generator.publish.ledger import KEY_ENV, Ledger, default_ledger_path, ledger_key, normalize_recipient
from generator.publish.smtp import SmtpSettings as SmtpSettings  # re-exported (the send command's settings)
from generator.publish.smtp import deliver, env_recipients
from generator.render_email import MAX_HTML_BYTES as MAX_HTML_BYTES  # re-exported
from generator.render_email import render_email as render_email  # re-exported
from generator.text import unprintable

log = logging.getLogger(__name__)

_CID_REF = re.compile(r"cid:chart-([A-Za-z0-9_.-]+)")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---------------------------------------------------------------------------
# The message
# ---------------------------------------------------------------------------


def subject_for(meta: IssueMeta, settings: EmailSettings) -> str:
    week = f"{_MONTHS[meta.week_start.month - 1]} {meta.week_start.day}, {meta.week_start.year}"
    sample = "[SAMPLE] " if meta.is_sample else ""
    return f"{sample}{settings.subject_prefix} — week of {week}: {meta.headline}"


def message_id_for(as_of: date, recipient: str, sender: str) -> str:
    """The same issue to the same recipient always gets the same Message-ID."""
    digest = hashlib.sha256(f"{as_of.isoformat()}|{normalize_recipient(recipient)}".encode()).hexdigest()
    domain = parseaddr(sender)[1].rpartition("@")[2] or "smallcap-brief.invalid"
    return f"<brief-{as_of.isoformat()}.{digest[:24]}@{domain}>"


def build_message(
    issue_dir: Path,
    settings: EmailSettings,
    *,
    to: str,
    view_url: str | None,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """The complete message for one recipient, from the files of a built issue.

    ``sent_at`` (default: now) dates it: a message sent days after the build, or sent again, is
    dated when it leaves, as mail clients sort it; the Message-ID stays the issue's and recipient's.
    """
    meta = _read_meta(issue_dir)
    html = _read_text(issue_dir, FILES["email_html"])
    text = _read_text(issue_dir, FILES["email_txt"])
    if "<svg" in html.lower():
        raise DeliveryError(f"{issue_dir / FILES['email_html']}: contains SVG, which Gmail blocks; use PNG")
    charts = _chart_parts(issue_dir, html)
    pdf = _read_bytes(issue_dir, FILES["pdf"])
    address = check_address(to)

    msg = _with_headers(meta, settings, address, view_url, sent_at or datetime.now(UTC))
    body = MIMEPart()
    body.set_content(text, subtype="plain", charset="utf-8")
    body.add_alternative(html, subtype="html", charset="utf-8")
    msg.make_related()
    msg.set_param("type", "multipart/alternative")  # RFC 2387: the type of the root part
    msg.attach(cast(EmailMessage, body))
    for key, data in charts:
        msg.add_related(
            data, "image", "png", cid=f"<chart-{key}>", disposition="inline", filename=f"{key}.png"
        )
    msg.add_attachment(pdf, "application", "pdf", filename=f"smallcap-brief-{meta.as_of.isoformat()}.pdf")
    return msg


def _with_headers(
    meta: IssueMeta, settings: EmailSettings, address: str, view_url: str | None, sent_at: datetime
) -> EmailMessage:
    """An empty message with every header, in a fixed order."""
    msg = EmailMessage()
    subject = subject_for(meta, settings)
    for field, value in (("Subject", subject), ("From", settings.sender), ("To", address)):
        if (bad := unprintable(value)) is not None:  # a line break of any kind, a lone surrogate
            raise DeliveryError(f"{field} header would contain a control character ({bad}): {value!r}")
    msg["Subject"] = subject
    msg["From"] = settings.sender
    msg["To"] = address
    msg["Date"] = format_datetime(sent_at.astimezone(UTC))
    msg["Message-ID"] = message_id_for(meta.as_of, address, settings.sender)
    if settings.list_unsubscribe:
        msg["List-Unsubscribe"] = settings.list_unsubscribe
        if settings.list_unsubscribe_post and "<https://" in settings.list_unsubscribe:
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058 needs an https URI
    if view_url:
        msg["Archived-At"] = f"<{view_url}>"
    msg["MIME-Version"] = "1.0"
    return msg


def _chart_parts(issue_dir: Path, html: str) -> list[tuple[str, bytes]]:
    """The PNG for every ``cid:chart-<key>`` the HTML refers to, in order of first use."""
    keys = list(dict.fromkeys(_CID_REF.findall(html)))
    return [(key, _read_bytes(issue_dir, f"{CHARTS_DIR}/{key}.png")) for key in keys]


def _read_meta(issue_dir: Path) -> IssueMeta:
    try:
        return read_meta(issue_dir)
    except BriefError as exc:
        raise DeliveryError(str(exc)) from exc


def _read_text(issue_dir: Path, name: str) -> str:
    try:
        return _read_bytes(issue_dir, name).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DeliveryError(f"{issue_dir / name}: not UTF-8 text ({exc.reason}); rebuild the issue") from exc


def _read_bytes(issue_dir: Path, name: str) -> bytes:
    """The issue's own file (never through a link, never empty or oversized: see read_issue_file)."""
    try:
        return read_issue_file(issue_dir, name)
    except BriefError as exc:
        raise DeliveryError(str(exc)) from exc


def check_address(raw: str) -> str:
    """The bare address of ``raw`` ("ann@example.com" or "Ann <ann@example.com>")."""
    address = raw.strip()
    _name, addr = parseaddr(address)
    bare_or_named = addr == address or address.endswith(f"<{addr}>")
    local, _, domain = addr.rpartition("@")
    # both sides of the @, and no blank inside the address ("a b@c.com" went out as RCPT TO:<a b@c.com>)
    whole = bool(local and domain) and not any(c.isspace() for c in addr)
    if not whole or any(c in address for c in "\r\n,;") or not bare_or_named:
        raise DeliveryError(f"recipient {raw!r} is not an e-mail address (name@example.com)")
    return addr


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SendReport:
    issue: date
    sent: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # already in the ledger
    failed: tuple[tuple[str, str], ...] = ()  # (recipient, reason)
    written: tuple[Path, ...] = ()  # .eml files of a dry run
    dry_run: bool = False
    uncertain: tuple[str, ...] = ()  # skipped, but may not have received it (see the ledger)

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        day = self.issue.isoformat()
        if self.dry_run:
            where = f" in {self.written[0].parent}" if self.written else ""
            wrote = f"wrote {len(self.written)} .eml file(s){where}"
            return f"issue {day}: dry run, {wrote}; skipped {len(self.skipped)} already sent{self._unsure}"
        failed = "".join(f"; failed {r}: {why}" for r, why in self.failed) + self._unsure
        return f"issue {day}: sent {len(self.sent)}, skipped {len(self.skipped)} already sent{failed}"

    @property
    def _unsure(self) -> str:
        if not self.uncertain:
            return ""
        who = ", ".join(self.uncertain)
        return (
            f"; uncertain {who}: the connection was lost after the message went out, so it may or may not "
            "have arrived; send --force --to ADDRESS sends it again"
        )


def send_command(
    config: Config,
    out: Path,
    *,
    issue_date: str | None,
    to: Sequence[str],
    environ: Mapping[str, str],
    dry_run: bool = False,
    force: bool = False,
    allow_sample: bool = False,
    allow_stale: bool = False,
) -> SendReport:
    """What ``smallcap-brief send`` does: pick the issue, the recipients and the settings, then send.

    Recipients: ``to``, else SMALLCAP_BRIEF_TO, else ``email.to`` in the config.  The ledger is
    ``<out>/cache/sent.jsonl``; a dry run writes to ``<out>/outbox``.  Raises DeliveryError
    after the others were sent when the server rejected any recipient.
    """
    folder = _pick_issue(out, issue_date)
    if dry_run and not environ.get("SMALLCAP_SMTP_HOST", "").strip():
        smtp = SmtpSettings(host="", to=env_recipients(environ))  # a dry run connects to nothing
    else:
        smtp = SmtpSettings.from_env(environ)
    recipients = list(to) or list(smtp.to) or list(config.email.to)
    # The address the issue was built with (its email links to it), else the configured site's.
    built_with = _built_view_url(folder)
    view_url = built_with or issue_url(config.site.base_url, date.fromisoformat(folder.name))
    report = send_issue(
        folder,
        config.email,
        smtp,
        recipients,
        ledger=_ledger(out, environ),
        force=force,
        dry_run=dry_run,
        dry_run_dir=out / "outbox",
        allow_sample=allow_sample,
        allow_stale=allow_stale,
        view_url=view_url,
    )
    if report.failed:
        raise DeliveryError(str(report))
    return report


def _built_view_url(folder: Path) -> str | None:
    try:
        return read_meta(folder).view_url
    except PublishError:  # send_issue says what is wrong with the issue
        return None


def _ledger(out: Path, environ: Mapping[str, str]) -> Ledger:
    key = ledger_key(environ)
    if key is None and environ.get("GITHUB_ACTIONS") == "true":
        log.warning(
            "the send ledger records recipients' addresses in plain: set the %s secret so that it"
            " records keyed hashes (a pull request's workflow can read the Actions cache)",
            KEY_ENV,
        )
    return Ledger(default_ledger_path(out), key=key)


def _pick_issue(out: Path, issue_date: str | None) -> Path:
    if issue_date is None:
        issues = list_issues(out)
        if not issues:
            raise DeliveryError(
                f"{out / 'briefs'}: no built issues to send; run `smallcap-brief build` first"
            )
        return issues[0]
    try:
        day = date.fromisoformat(issue_date)
    except ValueError as exc:
        raise DeliveryError(f"--issue {issue_date!r} is not a date (YYYY-MM-DD)") from exc
    folder = issue_dir(out, day)
    if folder.is_symlink():
        raise DeliveryError(f"{folder}: a symbolic link, not an issue folder")
    if not (folder / "meta.json").is_file():
        raise DeliveryError(f"{folder}: no issue built for {day.isoformat()}")
    return folder


def send_issue(
    issue_dir: Path,
    settings: EmailSettings,
    smtp: SmtpSettings,
    recipients: Sequence[str],
    *,
    ledger: Ledger,
    force: bool = False,
    dry_run: bool = False,
    dry_run_dir: Path | None = None,
    allow_sample: bool = False,
    allow_stale: bool = False,
    view_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> SendReport:
    """Send a built issue to each recipient once; see the module docstring.

    Raises DeliveryError when the issue may not be sent, the server cannot be reached or
    refuses the login, or the connection drops (run again to resume).  A recipient the
    server rejects is recorded as failed and listed in the report; the others still get it.
    """
    meta = _read_meta(issue_dir)
    if issue_dir.name != meta.as_of.isoformat():  # as site checks: the folder is the issue it says
        raise DeliveryError(
            f"{issue_dir}: folder name does not match meta.json as_of {meta.as_of.isoformat()}"
        )
    _check_publishable(meta, allow_sample=allow_sample, allow_stale=allow_stale)
    addresses = _unique([check_address(r) for r in recipients])
    if not addresses:
        raise DeliveryError("no recipients: pass --to or set SMALLCAP_BRIEF_TO (a comma-separated list)")
    # One issue a week reaches each reader: an issue of the same week sent before (built through
    # Thursday, then again once Friday's bars came in) counts as this one.
    week = [meta.as_of] + [
        day
        for n in range((meta.week_end - meta.week_start).days + 1)
        if (day := meta.week_start + timedelta(days=n)) != meta.as_of
    ]
    skipped = tuple(a for a in addresses if not force and any(ledger.was_sent(d, a) for d in week))
    uncertain = tuple(a for a in skipped if any(ledger.is_uncertain(d, a) for d in week))
    for day in week[1:]:
        earlier = [a for a in skipped if ledger.was_sent(day, a)]
        if earlier:
            log.info(
                "issue %s: %d recipient(s) already have the issue of %s, of the same week (--force sends)",
                meta.as_of,
                len(earlier),
                day,
            )
    pending = [a for a in addresses if a not in skipped]
    now = clock or (lambda: datetime.now(UTC))
    composed = now()

    def compose(address: str) -> EmailMessage:
        return build_message(issue_dir, settings, to=address, view_url=view_url, sent_at=composed)

    if pending:
        compose(pending[0])  # every file of the issue read and checked before anything is sent
    messages = Outgoing(pending, compose)
    if dry_run:
        folder = dry_run_dir or issue_dir.parent.parent / "outbox"
        written = tuple(_write_eml(folder, meta.as_of, a, m) for a, m in messages)
        return SendReport(meta.as_of, skipped=skipped, written=written, dry_run=True, uncertain=uncertain)
    if not messages:
        log.info("issue %s: every recipient already has it; nothing to send", meta.as_of)
        return SendReport(meta.as_of, skipped=skipped, uncertain=uncertain)
    sender = parseaddr(settings.sender)[1]
    sent, failed = deliver(meta.as_of, sender, smtp, messages, ledger, now)
    return SendReport(meta.as_of, sent=sent, skipped=skipped, failed=failed, uncertain=uncertain)


class Outgoing(Sequence[tuple[str, EmailMessage]]):
    """The messages to send, each composed when it is reached: one recipient's copy (with its PDF)
    in memory at a time, however many recipients there are (a list held them all at once)."""

    def __init__(self, addresses: Sequence[str], compose: Callable[[str], EmailMessage]) -> None:
        self._addresses = tuple(addresses)
        self._compose = compose

    def __len__(self) -> int:
        return len(self._addresses)

    @overload
    def __getitem__(self, index: int) -> tuple[str, EmailMessage]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, EmailMessage]]: ...
    def __getitem__(
        self, index: int | slice
    ) -> tuple[str, EmailMessage] | Sequence[tuple[str, EmailMessage]]:
        if isinstance(index, slice):
            return Outgoing(self._addresses[index], self._compose)
        address = self._addresses[index]
        return address, self._compose(address)


def _check_publishable(meta: IssueMeta, *, allow_sample: bool, allow_stale: bool) -> None:
    refusal = publish_refusal(meta, "sending", allow_sample=allow_sample, allow_stale=allow_stale)
    if refusal:
        raise DeliveryError(refusal)


def _unique(addresses: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault(normalize_recipient(address), address)
    return list(seen.values())


def _write_eml(folder: Path, as_of: date, address: str, msg: EmailMessage) -> Path:
    safe = re.sub(r"[^A-Za-z0-9@._-]", "_", address)
    if safe != address:  # a+b@x and a_b@x are two readers: the name tells them apart
        safe += "-" + hashlib.sha256(normalize_recipient(address).encode("utf-8")).hexdigest()[:8]
    path = folder / f"{as_of.isoformat()}-{safe}.eml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(msg.as_bytes(policy=policy.SMTP))
    except OSError as exc:
        raise DeliveryError(f"{path}: cannot write the dry-run message ({exc.strerror})") from exc
    log.info("dry run: wrote %s", path)
    return path
