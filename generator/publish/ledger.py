"""The send ledger: which issue went to which recipient, and when.

A JSON-lines file, one record per delivery attempt, appended and fsync'ed after
every send so that a run that dies halfway resumes without sending twice.  The
last record for an (issue, recipient) pair wins.  Status ``sent`` counts as delivered;
``uncertain`` (the connection was lost after the whole message went out, before the
server confirmed it) may have been delivered: neither is sent again without ``--force``,
and each send reports the uncertain ones.  A ``failed`` recipient is retried on the next run.

The file holds recipients' addresses, unless a key is given (``SMALLCAP_LEDGER_KEY``): then
each recipient is recorded as an HMAC-SHA256 of the address under that key, which tells the
ledger whether an address already got an issue and tells nobody without the key who the
recipients are; the Message-ID (derived from the address) is recorded the same way, and the
address is cut out of a server's error text.  Records written in plain before the key was set
are rewritten so when the ledger is next opened with it.  Keep the key secret and keep it:
under another key the recorded recipients are not recognised, so each keyed record also carries
a fingerprint of its key, and a ledger whose records were written under a key is not used without
that key (``send`` stops, naming the variable, rather than send the issue to everyone again).  Keep
the file out of public places either way (the publish workflow keeps it in the Actions cache, not
in the repository; a pull request's workflow may read that cache, hence the key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from generator.errors import DeliveryError
from generator.fsutil import write_atomic

log = logging.getLogger(__name__)

LEDGER_NAME = "sent.jsonl"
KEY_ENV = "SMALLCAP_LEDGER_KEY"
HMAC_PREFIX = "hmac-sha256:"
SENT = "sent"
FAILED = "failed"
UNCERTAIN = "uncertain"
STATUSES = (SENT, FAILED, UNCERTAIN)


def default_ledger_path(out: Path) -> Path:
    """Where ``send`` keeps its ledger by default: ``<out>/cache/sent.jsonl``."""
    return out / "cache" / LEDGER_NAME


def normalize_recipient(address: str) -> str:
    """Addresses compare case-insensitively and without surrounding blanks."""
    return address.strip().lower()


def ledger_key(environ: Mapping[str, str]) -> bytes | None:
    """The key recipients are recorded under (``SMALLCAP_LEDGER_KEY``), or None: addresses in plain."""
    key = environ.get(KEY_ENV, "").strip()
    return key.encode("utf-8") if key else None


@dataclass(frozen=True)
class LedgerEntry:
    issue: date
    recipient: str
    message_id: str
    sent_at: datetime
    status: str  # sent | failed | uncertain
    error: str = ""
    key_id: str = ""  # the fingerprint of the key a keyed record was written under ("" in plain)


class Ledger:
    """An append-only JSON-lines record of deliveries (see the module docstring)."""

    def __init__(self, path: Path, key: bytes | None = None) -> None:
        self.path = path
        self._key = key
        self._records: list[LedgerEntry] = []  # every readable record, in file order
        self._latest: dict[tuple[str, str], LedgerEntry] = {}
        self._load()
        self._check_key()
        if key is not None:
            self._hide_plain_records()

    @property
    def key_id(self) -> str:
        """A fingerprint of the key (not the key): tells a record written under another key."""
        if self._key is None:
            return ""
        return hmac.new(self._key, b"smallcap-brief ledger key", hashlib.sha256).hexdigest()[:16]

    def _check_key(self) -> None:
        """Refuse a ledger its records cannot be matched against: every recipient would be sent again."""
        keyed = [e for e in self._records if e.recipient.startswith(HMAC_PREFIX)]
        if keyed and self._key is None:
            raise DeliveryError(
                f"{self.path}: the send ledger records its recipients under {KEY_ENV}, which is not set;"
                " without it every recipient would get each issue again (set it as when they were sent)"
            )
        if any(not e.key_id for e in keyed):
            # Records from before keys were fingerprinted: which key wrote them cannot be told, so no
            # key is refused (trusting the first one seen would lock the right key out after a wrong one).
            log.info(
                "%s: records written before the ledger noted its key's fingerprint: %s cannot be checked"
                " against them",
                self.path,
                KEY_ENV,
            )
            return
        other = {e.key_id for e in keyed if e.key_id != self.key_id}
        if other:
            raise DeliveryError(
                f"{self.path}: send ledger records were written under another {KEY_ENV}; under this one"
                " their recipients are not recognised and would get each issue again (set the key they"
                " were written under)"
            )

    def recorded_as(self, recipient: str) -> str:
        """How ``recipient`` is written in the ledger: the address, or its keyed HMAC."""
        address = normalize_recipient(recipient)
        if self._key is None:
            return address
        return HMAC_PREFIX + hmac.new(self._key, address.encode("utf-8"), hashlib.sha256).hexdigest()

    def _latest_for(self, issue: date, recipient: str) -> LedgerEntry | None:
        return self._latest.get((issue.isoformat(), self.recorded_as(recipient)))

    def _hidden(self, entry: LedgerEntry) -> LedgerEntry:
        """``entry`` as a keyed ledger records it: no address, nor anything derived from it unkeyed."""
        if self._key is None or entry.recipient.startswith(HMAC_PREFIX):
            return entry
        address = entry.recipient
        digest = hmac.new(self._key, entry.message_id.encode("utf-8"), hashlib.sha256).hexdigest()
        error = re.sub(re.escape(address), "<recipient>", entry.error, flags=re.IGNORECASE)
        return LedgerEntry(entry.issue, self.recorded_as(address), HMAC_PREFIX + digest, entry.sent_at,
                           entry.status, error, self.key_id)  # fmt: skip

    def _hide_plain_records(self) -> None:
        """Rewrite the file once with every record written in plain (before the key) hidden."""
        records = [self._hidden(e) for e in self._records]
        plain = sum(1 for old, new in zip(self._records, records, strict=True) if old is not new)
        if not plain:
            return
        text = "".join(
            json.dumps(_entry_to_json(e), sort_keys=True, ensure_ascii=False) + "\n" for e in records
        )
        try:
            write_atomic(self.path, text)  # the unreadable lines, warned of when loaded, go with it
        except OSError as exc:
            raise DeliveryError(f"{self.path}: cannot write the send ledger ({exc.strerror})") from exc
        self._records = records
        self._latest = {(e.issue.isoformat(), e.recipient): e for e in records}
        log.info(
            "%s: %d records written before SMALLCAP_LEDGER_KEY was set now hold no address", self.path, plain
        )

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            lines = self.path.read_bytes().split(b"\n")
        except OSError as exc:
            raise DeliveryError(f"{self.path}: cannot read the send ledger ({exc.strerror})") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:  # line by line: a line torn inside a character is one unreadable line, not the file
                entry = _entry_from_json(json.loads(line.decode("utf-8")))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("%s:%d: skipping an unreadable ledger line (%s)", self.path, number, exc)
                continue
            self._records.append(entry)
            self._latest[(entry.issue.isoformat(), entry.recipient)] = entry

    def was_sent(self, issue: date, recipient: str) -> bool:
        """Sent, or possibly sent (uncertain): either way not to be sent again without --force."""
        entry = self._latest_for(issue, recipient)
        return entry is not None and entry.status in (SENT, UNCERTAIN)

    def is_uncertain(self, issue: date, recipient: str) -> bool:
        """The connection was lost after the message went out: it may or may not have arrived."""
        entry = self._latest_for(issue, recipient)
        return entry is not None and entry.status == UNCERTAIN

    def entries(self, issue: date | None = None) -> list[LedgerEntry]:
        """The latest entry per recipient, for one issue or all, in file order."""
        return [e for e in self._latest.values() if issue is None or e.issue == issue]

    def record(
        self,
        issue: date,
        recipient: str,
        message_id: str,
        sent_at: datetime,
        status: str = SENT,
        error: str = "",
    ) -> LedgerEntry:
        """Append one record and flush it to disk before returning."""
        if status not in STATUSES:
            raise DeliveryError(f"{self.path}: unknown ledger status {status!r}")
        plain = LedgerEntry(issue, normalize_recipient(recipient), message_id, sent_at, status, error)
        entry = self._hidden(plain)
        line = json.dumps(_entry_to_json(entry), sort_keys=True, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as handle:
                if handle.tell() > 0:
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":  # a torn last line from a crash: start afresh
                        handle.write(b"\n")
                handle.write(line.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise DeliveryError(f"{self.path}: cannot write the send ledger ({exc.strerror})") from exc
        self._records.append(entry)
        self._latest[(issue.isoformat(), entry.recipient)] = entry
        return entry


def _entry_to_json(entry: LedgerEntry) -> dict[str, str]:
    data = {
        "issue": entry.issue.isoformat(),
        "recipient": entry.recipient,
        "message_id": entry.message_id,
        "sent_at": entry.sent_at.isoformat(),
        "status": entry.status,
        "error": entry.error,
    }
    if entry.key_id:
        data["key"] = entry.key_id
    return data


def _entry_from_json(data: dict[str, str]) -> LedgerEntry:
    return LedgerEntry(
        issue=date.fromisoformat(data["issue"]),
        recipient=normalize_recipient(data["recipient"]),
        message_id=str(data["message_id"]),
        sent_at=datetime.fromisoformat(data["sent_at"]),
        status=str(data["status"]),
        error=str(data.get("error", "")),
        key_id=str(data.get("key", "")),
    )
