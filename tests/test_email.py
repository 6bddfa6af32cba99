"""The weekly email: rendering, MIME structure, and delivery to a real SMTP server on loopback."""

from __future__ import annotations

import json
import logging
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from publish_fixtures import headline, make_brief, write_issue
from sample_brief import MISSING, MISSING_NAMED, build_sample, naming

from generator.errors import DeliveryError, PublishError
from generator.formatting import plain
from generator.models import Brief, Config, EmailSettings, SiteSettings
from generator.publish.email import (
    MAX_HTML_BYTES,
    build_message,
    render_email,
    send_command,
    send_issue,
)
from generator.publish.ledger import FAILED, SENT, UNCERTAIN, Ledger
from generator.publish.smtp import SmtpSettings
from generator.render_email import EMAIL_SECTIONS
from tests.conftest import SAMPLE_BRIEF_GROUP

AS_OF = date(2026, 11, 20)
SETTINGS = EmailSettings(
    sender="Small-Cap Weekly <brief@news.example.com>",
    subject_prefix="Small-Cap Weekly",
    list_unsubscribe="<mailto:unsubscribe@news.example.com>, <https://news.example.com/unsubscribe>",
)
VIEW = "https://example.org/smallcap-brief/briefs/2026-11-20/"
PEOPLE = ("ann@example.com", "bob@example.com", "cy@example.com")
USER, PASSWORD = "mailer", "s3cret-Pa55word"
CLOCK = lambda: datetime(2026, 11, 21, 7, 0, tzinfo=UTC)  # noqa: E731
SAMPLE_EMAIL_BUDGET = 60_000  # bytes of HTML for the sample's email (Gmail clips at about 102 KB)
TOP_TAKEAWAY = "The Russell 2000 rose 1.43% in the week, its best week since 2026-10-02"
MARKERS = re.compile(r"<sup|[¹²³⁴⁵⁶⁷⁸⁹⁰]")  # footnote markers: the email has none


# ---------------------------------------------------------------------------
# A real SMTP server on loopback
# ---------------------------------------------------------------------------


@dataclass
class Collector:
    """aiosmtpd handler: keeps each accepted envelope; can reject or drop on cue."""

    reject: set[str] = field(default_factory=set)
    drop_on: str | None = None
    envelopes: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.reject:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_on in envelope.rcpt_tos:
            self.drop_on = None
            server.transport.close()  # the server goes away mid-message
            return "421 4.3.0 closing connection"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 accepted"

    @property
    def recipients(self) -> list[str]:
        return [r for _, rcpts, _ in self.envelopes for r in rcpts]


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


# What `send` needs of the configuration, and the environment that points it at the test server.
SEND_CONFIG = Config(
    path="feeds.yaml", universe=(), feeds=(), email=EmailSettings(sender="brief@news.example.com")
)


def smtp_environ(smtp: SmtpSettings) -> dict[str, str]:
    return {
        "SMALLCAP_SMTP_HOST": "127.0.0.1",
        "SMALLCAP_SMTP_PORT": str(smtp.port),
        "SMALLCAP_SMTP_SECURITY": "none",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, SmtpSettings]]:
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, SmtpSettings(host="127.0.0.1", port=controller.port, security="none", timeout=5)
    finally:
        controller.stop()


@pytest.fixture
def auth_server() -> Iterator[tuple[Collector, SmtpSettings]]:
    handler = Collector()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        settings = SmtpSettings("127.0.0.1", controller.port, "none", USER, PASSWORD, timeout=5)
        yield handler, settings
    finally:
        controller.stop()


@pytest.fixture
def issue(tmp_path: Path) -> Path:
    brief = make_brief(AS_OF, chart_keys=("rut-vs-spx", "size-ladder"))
    return write_issue(tmp_path / "out", AS_OF, brief=brief, view_url=VIEW)


def send(issue: Path, smtp: SmtpSettings, ledger: Ledger, **kwargs: Any) -> Any:
    recipients = kwargs.pop("recipients", PEOPLE)
    return send_issue(issue, SETTINGS, smtp, recipients, ledger=ledger, view_url=VIEW, clock=CLOCK, **kwargs)


def parsed(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


class _Styles(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.styles: list[tuple[str, str]] = []
        self.srcs: list[str] = []
        self.links: list[str] = []
        self.first_body_child: tuple[str, str] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if self._in_body and self.first_body_child is None:
            self.first_body_child = (tag, values.get("style", ""))
        self._in_body = self._in_body or tag == "body"
        if "style" in values:
            self.styles.append((tag, values["style"]))
        if "src" in values:
            self.srcs.append(values["src"])
        if tag == "a":
            self.links.append(values.get("href", ""))


def words(text: str) -> str:
    """Text with its line wrapping undone."""
    return " ".join(text.split())


def html_words(html: str) -> str:
    return words(unescape(re.sub(r"<[^>]+>", " ", html)))


def assert_email_leads_with_the_takeaways(brief: Brief, html: str, text: str) -> None:
    """Lead, then the takeaways in order, then the passages the email carries; no footnote markers."""
    passages = [p for p in brief.body if p.key in EMAIL_SECTIONS]
    assert brief.takeaways and passages
    for body, upper in ((html_words(html), False), (words(text), True)):
        marks = [
            plain(brief.lead),
            *(plain(t.prose) for t in brief.takeaways),
            *(p.title.upper() if upper else p.title for p in passages),
        ]
        positions = [body.find(words(mark)) for mark in marks]
        assert -1 not in positions, [m for m, at in zip(marks, positions, strict=True) if at < 0]
        assert positions == sorted(positions)
        for passage in passages:
            assert words(plain(passage.paragraphs[0])) in body, passage.key
    assert len(re.findall(r"<h2\b[^>]*>Key takeaways</h2>", html)) == 1 and text.count("KEY TAKEAWAYS") == 1
    assert not MARKERS.search(html) and not MARKERS.search(text)


def test_rich_email_html_is_small_inlined_and_dark_mode_safe() -> None:
    nasty = headline(0, AS_OF, title='<script>alert("x")</script> Banks & "small caps"')
    brief = make_brief(AS_OF, rich=True, headlines=(nasty, *[headline(i, AS_OF) for i in range(1, 12)]))
    html, text = render_email(brief, view_url=VIEW)
    assert len(html.encode("utf-8")) < MAX_HTML_BYTES
    assert len(brief.charts) == len(brief.body) == len(EMAIL_SECTIONS) and len(brief.takeaways) == 5
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    assert "<link" not in html and "@import" not in html
    page = _Styles()
    page.feed(html)
    # the preheader is the first thing in the body, hidden, and carries the summary
    assert page.first_body_child is not None and "display:none" in page.first_body_child[1]
    assert re.search(r'<div class="pre"[^>]*>Small caps rose in the week', html)
    # CSS is inlined, and every text colour comes with its own background
    assert len(page.styles) > 50
    for tag, style in page.styles:
        if re.search(r"(^|;)color:", style):
            assert "background-color:" in style, f"<{tag} style={style!r}> sets a colour without a background"
    assert page.srcs == [f"cid:chart-chart-{i}" for i in range(len(EMAIL_SECTIONS))]  # one per passage
    assert page.links[0] == VIEW and VIEW in page.links
    assert f"{VIEW}#appendix" in page.links  # sources and methods: behind a link
    assert "&lt;script&gt;" in html and "<script" not in html
    assert all(link.startswith(("https://", "http://")) for link in page.links)
    assert 'role="presentation"' in html and "One feed failed this week" in html
    assert_email_leads_with_the_takeaways(brief, html, text)
    assert re.search(rf"<li\b[^>]*>{re.escape(TOP_TAKEAWAY)}\.</li>", html)
    assert html.count("Not covered this week: Nasdaq Composite (^IXIC): no data.") == 1
    assert words(text).count("Not covered this week: Nasdaq Composite (^IXIC): no data.") == 1
    assert "For information only; not investment advice." in html
    assert "SAMPLE" not in html
    assert not re.search(r"<(p|div|table|td|a|br|span|h[1-6])\b", text)  # the text part is plain
    assert '<script>alert("x")</script> Banks & "small caps"' in text  # verbatim: nothing renders it
    assert "\nView in your browser:\n" + VIEW + "\n" in text and f"- {TOP_TAKEAWAY}." in words(text)
    assert "\nFull figures, sources and methods:\n" + VIEW + "#appendix\n" in text  # a link on its own line
    # lines fit 78 characters, but a link alone on its line; "Not covered this week: " ran its list past them
    missing = ("the 2-year yield and the high-yield spread (no FRED series in this data)", "IWC: no data")
    _, long_text = render_email(replace(brief, not_covered=missing), view_url=VIEW)
    assert "Not covered this week: the 2-year yield and the high-yield spread (no FRED" in long_text
    for shown in (text, long_text):
        assert [
            line for line in shown.splitlines() if len(line) > 78 and not line.lstrip().startswith("https://")
        ] == []
    assert "https://news.example.com/markets/2026-11-20/story-1" in text


def test_sample_brief_carries_the_banner_and_no_view_link_without_url() -> None:
    html, text = render_email(make_brief(AS_OF, is_sample=True), view_url=None)
    assert "SAMPLE: built from the bundled illustrative data" in html
    assert "*** SAMPLE" in text
    assert "View in your browser" not in html and "View in your browser" not in text


@SAMPLE_BRIEF_GROUP
def test_sample_email_is_small_and_leads_with_the_takeaways() -> None:
    brief = build_sample().brief
    html, text = render_email(brief, view_url=VIEW)
    size = len(html.encode("utf-8"))
    assert size <= SAMPLE_EMAIL_BUDGET, f"the sample's email HTML is {size:,} bytes"
    assert 2 <= len(brief.takeaways) <= 4
    assert_email_leads_with_the_takeaways(brief, html, text)
    shown = [p.chart for p in brief.body if p.key in EMAIL_SECTIONS and p.chart]
    assert re.findall(r'src="cid:chart-([^"]+)"', html) == shown  # PNGs by cid, at most one a passage
    assert "<svg" not in html and f'href="{VIEW}#appendix"' in html
    # a number and its unit never part at the end of a line on a narrow screen: a no-break space
    body = html.split('class="sum"', 1)[1]  # what the reader sees, after the hidden preheader
    assert re.search(r"\d&nbsp;(pp|bp)\b", body) and not re.search(r"\d (pp|bp|pts|ET)\b", body)
    # the headlines not placed beside a passage, under the web's name for them
    assert re.search(r"<h2\b[^>]*>More headlines</h2>", html) and "\n\nMORE HEADLINES\n- " in text
    # In the text part, a passage's headlines stand apart from its last paragraph, under a label.
    related = [p for p in brief.body if p.key in EMAIL_SECTIONS and p.headlines]
    assert related and text.count("\n\nIn the news:\n> ") == len(related)
    for passage in (p for p in brief.body if p.key not in EMAIL_SECTIONS):
        assert passage.title not in html, passage.key
    # The week and its close, each date once.
    assert text.splitlines()[1] == "Week of November 16–20, 2026, data to Friday's close"
    assert ">Week of November 16–20, 2026, data to Friday's close</p>" in html
    # Without a web address, the email sends the reader where the full figures are: the PDF's
    # appendix has the sources and methods but not the full tables.
    html, text = render_email(brief, view_url=None)
    where = "in the appendix of the web and Markdown editions; the PDF's appendix has the sources and methods"
    assert f"Full figures, sources and methods are {where}." in html.replace("&#39;", "'")
    assert "Full figures, sources and methods: the appendix of the web and Markdown editions" in words(text)
    # lines fit 78 characters, but a link alone on its line
    assert [
        line for line in text.splitlines() if len(line) > 78 and not line.lstrip().startswith("https://")
    ] == []
    assert "editions; the PDF's appendix has the sources and methods" in text


@pytest.mark.parametrize(
    ("start", "end", "as_of", "said"),
    [
        ("2026-11-16", "2026-11-20", "2026-11-20", "November 16–20, 2026, data to Friday's close"),
        (
            "2026-06-29",
            "2026-07-03",
            "2026-07-02",
            "June 29 – July 3, 2026, data to Thursday's close (July 2)",
        ),
        (
            "2026-12-28",
            "2027-01-01",
            "2026-12-31",
            "December 28, 2026 – January 1, 2027, data to Thursday's close (December 31)",
        ),
        (
            "2026-11-16",
            "2026-11-20",
            "2026-11-13",
            "November 16–20, 2026, data to the close of November 13, 2026",
        ),
    ],
)
def test_the_week_is_said_with_each_date_once(start: str, end: str, as_of: str, said: str) -> None:
    from generator.formatting import fmt_week

    assert fmt_week(date.fromisoformat(start), date.fromisoformat(end), date.fromisoformat(as_of)) == said


@SAMPLE_BRIEF_GROUP
def test_email_of_a_degraded_week_names_missing_series_once() -> None:
    brief = build_sample(MISSING).brief
    html, text = render_email(brief, view_url=None)
    line = f"Not covered this week: {'; '.join(brief.not_covered)}."
    assert set(MISSING_NAMED) <= set(brief.not_covered)
    assert all(len(naming(brief.not_covered, symbol)) == 1 for symbol in MISSING)
    assert html_words(html).count("Not covered this week") == 1 and words(line) in html_words(html)
    assert words(text).count("Not covered this week") == 1 and words(line) in words(text)
    for part in (html, text):
        assert "not available" not in part.lower()
    assert_email_leads_with_the_takeaways(brief, html, text)


# ---------------------------------------------------------------------------
# The message
# ---------------------------------------------------------------------------


def _tree(part: EmailMessage) -> Any:
    if part.is_multipart():
        return (part.get_content_type(), [_tree(p) for p in part.iter_parts()])  # type: ignore[arg-type]
    return part.get_content_type()


def test_message_structure_and_headers(issue: Path) -> None:
    sent_at = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # the Monday after the build
    msg = build_message(issue, SETTINGS, to="ann@example.com", view_url=VIEW, sent_at=sent_at)
    assert _tree(msg) == (
        "multipart/mixed",
        [
            (
                "multipart/related",
                [("multipart/alternative", ["text/plain", "text/html"]), "image/png", "image/png"],
            ),
            "application/pdf",
        ],
    )
    raw = msg.as_bytes(policy=policy.SMTP)
    assert b"image/svg" not in raw.lower()
    again = parsed(raw)
    html = again.get_body(("html",))
    assert html is not None
    refs = re.findall(r'src="cid:([^"]+)"', html.get_content())
    images = [p for p in again.walk() if p.get_content_type() == "image/png"]
    assert (
        [p["Content-ID"] for p in images]
        == [f"<{r}>" for r in refs]
        == ["<chart-rut-vs-spx>", "<chart-size-ladder>"]
    )
    assert all(p.get_content_disposition() == "inline" for p in images)
    assert all(p.get_content()[:8] == b"\x89PNG\r\n\x1a\n" for p in images)
    pdf = next(p for p in again.walk() if p.get_content_type() == "application/pdf")
    assert (
        pdf.get_content_disposition() == "attachment"
        and pdf.get_filename() == "smallcap-brief-2026-11-20.pdf"
    )
    assert pdf.get_content() == (issue / "brief.pdf").read_bytes()
    assert again["Subject"] == f"Small-Cap Weekly — week of Nov 16, 2026: {TOP_TAKEAWAY}"  # the top takeaway
    assert again["From"] == SETTINGS.sender and again["To"] == "ann@example.com"
    # Dated when it leaves, not when the issue was built (2026-11-20 22:15 UTC): clients sort by it
    assert (
        again["Date"]
        == "Mon, 23 Nov 2026 07:30:00 +0000"
        != format_datetime(datetime(2026, 11, 20, 22, 15, tzinfo=UTC))
    )
    assert again["List-Unsubscribe"].strip() == SETTINGS.list_unsubscribe  # folded after the colon
    assert again["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert again["Archived-At"] == f"<{VIEW}>"
    same = build_message(issue, SETTINGS, to="ann@example.com", view_url=VIEW)
    other = build_message(issue, SETTINGS, to="bob@example.com", view_url=VIEW)
    assert same["Message-ID"] == msg["Message-ID"] != other["Message-ID"]
    assert str(msg["Message-ID"]).endswith("@news.example.com>")


@SAMPLE_BRIEF_GROUP
def test_subject_carries_the_top_takeaway_of_the_sample(tmp_path: Path) -> None:
    brief = build_sample().brief
    folder = write_issue(tmp_path / "out", brief.as_of, brief=brief, view_url=VIEW)
    subject = build_message(folder, SETTINGS, to="ann@example.com", view_url=VIEW)["Subject"]
    top = plain(brief.takeaways[0].prose).rstrip(".")
    assert subject == f"[SAMPLE] Small-Cap Weekly — week of Nov 16, 2026: {top}"
    assert "\n" not in subject and max(brief.takeaways, key=lambda t: t.score) is brief.takeaways[0]


def test_subject_without_takeaways_carries_the_headline_sentence(tmp_path: Path) -> None:
    brief = replace(make_brief(AS_OF), takeaways=())
    folder = write_issue(tmp_path / "out", AS_OF, brief=brief, view_url=VIEW)
    msg = build_message(folder, SETTINGS, to="ann@example.com", view_url=VIEW)
    lead = plain(brief.lead).rstrip(".")
    assert lead == "Small caps rose 1.43% as yields eased"
    assert msg["Subject"] == f"Small-Cap Weekly — week of Nov 16, 2026: {lead}"
    # With neither, the benchmark's week names the issue.
    bare = replace(brief, lead=())
    folder = write_issue(tmp_path / "bare", AS_OF, brief=bare, view_url=VIEW)
    msg_bare = build_message(folder, SETTINGS, to="ann@example.com", view_url=VIEW)
    assert msg_bare["Subject"] == "Small-Cap Weekly — week of Nov 16, 2026: Russell 2000, 1 week +1.43%"
    html = msg.get_body(("html",))
    assert html is not None and "Key takeaways" not in html.get_content()


def test_message_without_unsubscribe_settings_and_bad_inputs(issue: Path) -> None:
    plain = EmailSettings(sender="brief@example.com")
    msg = build_message(issue, plain, to="ann@example.com", view_url=None)
    assert (
        msg["List-Unsubscribe"] is None
        and msg["List-Unsubscribe-Post"] is None
        and msg["Archived-At"] is None
    )
    with pytest.raises(DeliveryError, match="not an e-mail address"):
        build_message(issue, plain, to="ann@example.com\r\nBcc: eve@example.com", view_url=None)
    (issue / "charts" / "size-ladder.png").unlink()
    with pytest.raises(DeliveryError, match=r"size-ladder\.png"):
        build_message(issue, plain, to="ann@example.com", view_url=None)


# ---------------------------------------------------------------------------
# SMTP settings
# ---------------------------------------------------------------------------


def test_smtp_settings_from_env() -> None:
    with pytest.raises(DeliveryError, match="SMALLCAP_SMTP_HOST"):
        SmtpSettings.from_env({})
    env = {
        "SMALLCAP_SMTP_HOST": "smtp.example.com",
        "SMALLCAP_SMTP_SECURITY": "ssl",
        "SMALLCAP_SMTP_USER": USER,
        "SMALLCAP_SMTP_PASSWORD": PASSWORD,
        "SMALLCAP_BRIEF_TO": "ann@example.com, bob@example.com,",
    }
    smtp = SmtpSettings.from_env(env)
    assert (smtp.host, smtp.port, smtp.security, smtp.user) == ("smtp.example.com", 465, "ssl", USER)
    assert smtp.to == ("ann@example.com", "bob@example.com")
    assert PASSWORD not in repr(smtp) and PASSWORD not in str(smtp)
    assert SmtpSettings.from_env({"SMALLCAP_SMTP_HOST": "h", "SMALLCAP_SMTP_PORT": "2525"}).port == 2525
    assert SmtpSettings.from_env({"SMALLCAP_SMTP_HOST": "h"}).port == 587
    with pytest.raises(DeliveryError, match="SMALLCAP_SMTP_SECURITY"):
        SmtpSettings.from_env({"SMALLCAP_SMTP_HOST": "h", "SMALLCAP_SMTP_SECURITY": "tls1"})
    with pytest.raises(DeliveryError, match="SMALLCAP_SMTP_PORT"):
        SmtpSettings.from_env({"SMALLCAP_SMTP_HOST": "h", "SMALLCAP_SMTP_PORT": "smtp"})
    with pytest.raises(DeliveryError, match="SMALLCAP_SMTP_USER") as excinfo:
        SmtpSettings.from_env({"SMALLCAP_SMTP_HOST": "h", "SMALLCAP_SMTP_PASSWORD": PASSWORD})
    assert PASSWORD not in str(excinfo.value)
    # a timeout is seconds, fractions too ("2.5" was refused in a port's words, "1 and 65535")
    assert SmtpSettings.from_env({"SMALLCAP_SMTP_HOST": "h", "SMALLCAP_SMTP_TIMEOUT": "2.5"}).timeout == 2.5
    for bad in ("0.5", "nan", "inf", "ten", "601"):
        with pytest.raises(
            DeliveryError, match=r"SMALLCAP_SMTP_TIMEOUT=.* is not a number of seconds from 1 to 600"
        ):
            SmtpSettings.from_env({"SMALLCAP_SMTP_HOST": "h", "SMALLCAP_SMTP_TIMEOUT": bad})


# ---------------------------------------------------------------------------
# Delivery
# ---------------------------------------------------------------------------


def test_send_delivers_each_recipient_once_then_nothing(
    issue: Path, smtp_server: tuple[Collector, SmtpSettings], tmp_path: Path
) -> None:
    server, smtp = smtp_server
    ledger = Ledger(tmp_path / "sent.jsonl")
    report = send(issue, smtp, ledger)
    assert report.sent == PEOPLE and report.ok and not report.skipped
    assert [rcpts for _, rcpts, _ in server.envelopes] == [[p] for p in PEOPLE]  # one envelope each
    mail_from, _, raw = server.envelopes[1]
    assert mail_from == "brief@news.example.com"
    msg = parsed(raw)
    assert msg["To"] == "bob@example.com" and _tree(msg)[0] == "multipart/mixed"
    assert msg["Date"] == format_datetime(CLOCK())  # the send's clock, not the issue's build time
    assert all(Ledger(ledger.path).was_sent(AS_OF, p) for p in PEOPLE)  # on disk, not just in memory
    # a second run sends nothing, and does not even connect
    closed = SmtpSettings("127.0.0.1", free_port(), "none", timeout=2)
    again = send(issue, closed, Ledger(ledger.path))
    assert again.sent == () and again.skipped == PEOPLE and len(server.envelopes) == 3
    forced = send(issue, smtp, Ledger(ledger.path), force=True, recipients=("ANN@example.com",))
    assert forced.sent == ("ANN@example.com",) and server.recipients[-1] == "ANN@example.com"


def test_each_message_is_composed_when_it_is_sent_not_all_at_once(
    issue: Path, smtp_server: tuple[Collector, SmtpSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each copy carries the PDF (up to 50 MB): a list of every recipient's message held them all
    in memory (3 GB for 60 readers of a 50-MB issue).  Now one is composed as the one before has
    gone; the first is composed once ahead, so a damaged issue fails before anything is sent."""
    from generator.publish import email as module

    server, smtp = smtp_server
    real, events = module.build_message, []

    def counted(*args: object, **kwargs: object) -> object:
        events.append(("composed", kwargs["to"], len(server.envelopes)))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "build_message", counted)
    report = send(issue, smtp, Ledger(tmp_path / "sent.jsonl"))
    assert report.sent == PEOPLE
    # (who, how many messages the server had when it was composed): the check, then one by one
    assert [(who, had) for _, who, had in events] == [(PEOPLE[0], 0), *((p, i) for i, p in enumerate(PEOPLE))]


def test_dropped_connection_resumes_without_duplicates(
    issue: Path, smtp_server: tuple[Collector, SmtpSettings], tmp_path: Path
) -> None:
    server, smtp = smtp_server
    server.drop_on = "bob@example.com"  # after bob's whole message: it may have been delivered
    ledger = Ledger(tmp_path / "sent.jsonl")
    with pytest.raises(
        DeliveryError, match=r"after the whole message to bob@example\.com was sent.* \(1 of 3 sent"
    ):
        send(issue, smtp, ledger)
    assert server.recipients == ["ann@example.com"]
    statuses = {e.recipient: e.status for e in Ledger(ledger.path).entries(AS_OF)}
    assert statuses == {"ann@example.com": SENT, "bob@example.com": UNCERTAIN}
    report = send(issue, smtp, Ledger(ledger.path))
    assert report.skipped == ("ann@example.com", "bob@example.com") and report.sent == ("cy@example.com",)
    assert report.uncertain == ("bob@example.com",) and "uncertain bob@example.com" in str(report)
    assert sorted(server.recipients) == ["ann@example.com", "cy@example.com"]  # nobody twice
    forced = send(issue, smtp, Ledger(ledger.path), force=True, recipients=("bob@example.com",))
    assert forced.sent == ("bob@example.com",) and not forced.uncertain


def test_rejected_recipient_is_recorded_and_the_rest_still_get_it(
    issue: Path, smtp_server: tuple[Collector, SmtpSettings], tmp_path: Path
) -> None:
    server, smtp = smtp_server
    server.reject = {"bob@example.com"}
    ledger = Ledger(tmp_path / "sent.jsonl")
    report = send(issue, smtp, ledger)
    assert report.sent == ("ann@example.com", "cy@example.com") and not report.ok
    assert [(r, reason[:3]) for r, reason in report.failed] == [("bob@example.com", "550")]
    assert "mailbox unavailable" in report.failed[0][1]
    statuses = {e.recipient: e.status for e in Ledger(ledger.path).entries(AS_OF)}
    assert statuses == {"ann@example.com": SENT, "bob@example.com": FAILED, "cy@example.com": SENT}
    retry = send(issue, smtp, Ledger(ledger.path))  # only the failed one is tried again
    assert retry.skipped == ("ann@example.com", "cy@example.com") and [r for r, _ in retry.failed] == [
        "bob@example.com"
    ]
    assert server.recipients == ["ann@example.com", "cy@example.com"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_auth_good_and_bad_credentials_never_leak_the_password(
    issue: Path, auth_server: tuple[Collector, SmtpSettings], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server, smtp = auth_server
    report = send(issue, smtp, Ledger(tmp_path / "good.jsonl"), recipients=PEOPLE[:1])
    assert report.sent == PEOPLE[:1] and server.recipients == ["ann@example.com"]
    wrong = SmtpSettings(smtp.host, smtp.port, "none", USER, PASSWORD + "-wrong", timeout=5)
    ledger = Ledger(tmp_path / "bad.jsonl")
    with pytest.raises(DeliveryError, match="refused authentication for user 'mailer': 535") as excinfo:
        send(issue, wrong, ledger)
    assert PASSWORD not in str(excinfo.value) and PASSWORD not in repr(excinfo.value)
    assert ledger.entries() == [] and server.recipients == ["ann@example.com"]
    no_login = SmtpSettings(smtp.host, smtp.port, "none", timeout=5)  # the server requires AUTH
    with pytest.raises(DeliveryError, match="refused the sender"):
        send(issue, no_login, ledger)
    assert PASSWORD not in caplog.text
    assert "without TLS" in caplog.text


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_user_name_and_password_beyond_ascii_log_in_as_utf8(issue: Path, tmp_path: Path) -> None:
    """smtplib encodes the login as ASCII: "pässwörd" failed with "UnicodeEncodeError", naming
    nothing.  AUTH PLAIN carries UTF-8 (RFC 4616); a wrong one is refused as any other."""
    user, password = "mäiler", "pässwörd"

    def utf8(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    handler = Collector()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), authenticator=utf8, auth_required=True,
        auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    try:
        smtp = SmtpSettings("127.0.0.1", controller.port, "none", user, password, timeout=5)
        assert send(issue, smtp, Ledger(tmp_path / "sent.jsonl"), recipients=PEOPLE[:1]).sent == PEOPLE[:1]
        wrong = SmtpSettings("127.0.0.1", controller.port, "none", user, "wrööng", timeout=5)
        with pytest.raises(DeliveryError, match="refused authentication for user 'mäiler': 535") as refused:
            send(issue, wrong, Ledger(tmp_path / "other.jsonl"), recipients=PEOPLE[:1])
        assert "wrööng" not in str(refused.value)
    finally:
        controller.stop()
    assert handler.recipients == ["ann@example.com"]


def test_unreachable_server_is_a_clear_error(issue: Path, tmp_path: Path) -> None:
    port = free_port()
    smtp = SmtpSettings("127.0.0.1", port, "starttls", timeout=2)
    with pytest.raises(
        DeliveryError, match=rf"cannot reach SMTP server 127\.0\.0\.1:{port}: connection refused"
    ):
        send(issue, smtp, Ledger(tmp_path / "sent.jsonl"))
    assert not (tmp_path / "sent.jsonl").exists()


def test_a_server_that_accepts_and_never_greets_is_named_as_silent(issue: Path, tmp_path: Path) -> None:
    """A loopback socket that accepts connections and sends nothing: smtplib's read times out and it
    says "Connection unexpectedly closed"; the error said "SMTPServerDisconnected"."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        smtp = SmtpSettings("127.0.0.1", port, "none", timeout=0.5)
        with pytest.raises(DeliveryError) as caught:
            send(issue, smtp, Ledger(tmp_path / "sent.jsonl"))
    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{port} accepted the connection but sent nothing within 0.5 s"
    )
    assert not (tmp_path / "sent.jsonl").exists()


def test_starttls_refused_by_a_plain_server(issue: Path, smtp_server: tuple[Collector, SmtpSettings]) -> None:
    server, smtp = smtp_server
    tls = SmtpSettings(smtp.host, smtp.port, "starttls", timeout=5)
    with pytest.raises(DeliveryError, match="does not support"):
        send(issue, tls, Ledger(issue / "never.jsonl"))
    assert server.envelopes == [] and not (issue / "never.jsonl").exists()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the TLS tests need the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "ssl"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_tls_modes_verify_the_certificate(
    issue: Path, tmp_path: Path, tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Collector()
    # aiosmtpd does not count implicit TLS (ssl_context) as TLS when deciding whether to offer AUTH
    tls: dict[str, Any] = (
        {"tls_context": context, "require_starttls": True}
        if security == "starttls"
        else {"ssl_context": context, "auth_require_tls": False}
    )
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticator,
        auth_required=True,
        **tls,
    )
    controller.start()
    try:
        smtp = SmtpSettings("127.0.0.1", controller.port, security, USER, PASSWORD, timeout=5)
        with pytest.raises(
            DeliveryError, match=r"TLS with SMTP server 127\.0\.0\.1:\d+ failed: CERTIFICATE_VERIFY_FAILED"
        ):
            send(issue, smtp, Ledger(tmp_path / "untrusted.jsonl"), recipients=PEOPLE[:1])
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the client trusts the test certificate
        report = send(issue, smtp, Ledger(tmp_path / "sent.jsonl"), recipients=PEOPLE[:1])
    finally:
        controller.stop()
    assert report.sent == PEOPLE[:1] and handler.recipients == ["ann@example.com"]


def test_dry_run_writes_eml_and_sends_nothing(issue: Path, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "sent.jsonl")
    closed = SmtpSettings("127.0.0.1", free_port(), "none", timeout=2)
    report = send(issue, closed, ledger, dry_run=True, dry_run_dir=tmp_path / "outbox")
    assert report.dry_run and report.sent == () and len(report.written) == 3
    assert [p.name for p in report.written] == [f"2026-11-20-{p}.eml" for p in PEOPLE]
    msg = parsed(report.written[0].read_bytes())
    assert msg["To"] == "ann@example.com" and _tree(msg)[0] == "multipart/mixed"
    assert not ledger.path.exists()


@pytest.mark.parametrize(
    ("flag", "allow", "words"), [("is_sample", "allow_sample", "sample"), ("stale", "allow_stale", "stale")]
)
def test_refuses_sample_or_stale_issue(
    tmp_path: Path, smtp_server: tuple[Collector, SmtpSettings], flag: str, allow: str, words: str
) -> None:
    server, smtp = smtp_server
    folder = write_issue(tmp_path / "out", AS_OF, **{flag: True})  # type: ignore[arg-type]
    ledger = Ledger(tmp_path / "sent.jsonl")
    with pytest.raises(DeliveryError, match=rf"2026-11-20.*{words}"):
        send(folder, smtp, ledger)
    assert server.envelopes == []
    report = send(folder, smtp, ledger, recipients=PEOPLE[:1], **{allow: True})
    assert report.sent == PEOPLE[:1]
    if flag == "is_sample":
        assert parsed(server.envelopes[0][2])["Subject"].startswith("[SAMPLE] Small-Cap Weekly")


def test_no_recipients_is_an_error(issue: Path, tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match="SMALLCAP_BRIEF_TO"):
        send(issue, SmtpSettings("127.0.0.1"), Ledger(tmp_path / "l.jsonl"), recipients=())


def test_send_command_picks_issue_recipients_and_ledger(
    issue: Path, smtp_server: tuple[Collector, SmtpSettings]
) -> None:
    server, smtp = smtp_server
    out = issue.parent.parent
    write_issue(out, date(2026, 11, 13))  # an older issue: the latest is picked by default
    config = Config(
        path="feeds.yaml",
        universe=(),
        feeds=(),
        site=SiteSettings(base_url="https://example.org/smallcap-brief"),
        email=EmailSettings(sender="brief@news.example.com", to=("config@example.com",)),
    )
    dry = send_command(config, out, issue_date=None, to=(), environ={}, dry_run=True)
    assert [p.name for p in dry.written] == ["2026-11-20-config@example.com.eml"]
    assert dry.written[0].parent == out / "outbox" and "dry run, wrote 1 .eml" in str(dry)
    assert parsed(dry.written[0].read_bytes())["Archived-At"] == f"<{VIEW}>"
    environ = {
        **smtp_environ(smtp),
        "SMALLCAP_BRIEF_TO": "ann@example.com,bob@example.com",
    }
    server.reject = {"bob@example.com"}
    with pytest.raises(DeliveryError, match=r"issue 2026-11-20: sent 1, .*failed bob@example\.com: 550"):
        send_command(config, out, issue_date=None, to=(), environ=environ)
    assert Ledger(out / "cache" / "sent.jsonl").was_sent(AS_OF, "ann@example.com")
    older = send_command(config, out, issue_date="2026-11-13", to=("cy@example.com",), environ=environ)
    assert str(older) == "issue 2026-11-13: sent 1, skipped 0 already sent"
    assert server.recipients == ["ann@example.com", "cy@example.com"]
    with pytest.raises(DeliveryError, match="no issue built for 2026-10-02"):
        send_command(config, out, issue_date="2026-10-02", to=(), environ=environ)
    with pytest.raises(DeliveryError, match="not a date"):
        send_command(config, out, issue_date="last friday", to=(), environ=environ)
    with pytest.raises(DeliveryError, match="SMALLCAP_SMTP_HOST"):
        send_command(config, out, issue_date=None, to=(), environ={})


def test_a_reader_who_got_an_earlier_issue_of_the_week_is_not_sent_this_one(
    issue: Path, smtp_server: tuple[Collector, SmtpSettings], caplog: pytest.LogCaptureFixture
) -> None:
    """The issue of 2026-11-19 (the week's, built before Friday's bars came in) went out; the week's
    issue through Friday is not a second mail of the week to the same reader, unless --force."""
    server, smtp = smtp_server
    out = issue.parent.parent
    ledger = Ledger(out / "cache" / "sent.jsonl")
    ledger.record(date(2026, 11, 19), "ann@example.com", "<m0@x>", CLOCK(), SENT)
    ledger.record(date(2026, 11, 13), "bob@example.com", "<m1@x>", CLOCK(), SENT)  # last week's
    config = SEND_CONFIG
    environ = smtp_environ(smtp)
    with caplog.at_level("INFO"):
        report = send_command(
            config, out, issue_date=None, to=("ann@example.com", "bob@example.com"), environ=environ
        )
    assert str(report) == "issue 2026-11-20: sent 1, skipped 1 already sent" and server.recipients == [
        "bob@example.com"
    ]
    assert (
        "1 recipient(s) already have the issue of 2026-11-19, of the same week (--force sends)" in caplog.text
    )
    forced = send_command(config, out, issue_date=None, to=("ann@example.com",), environ=environ, force=True)
    assert str(forced).startswith("issue 2026-11-20: sent 1") and server.recipients[-1] == "ann@example.com"


def test_a_dry_run_writes_one_file_per_reader_however_their_addresses_read_as_file_names(
    issue: Path,
) -> None:
    """a+b@x.com and a_b@x.com made one file name, the second message written over the first."""
    out = issue.parent.parent
    config = SEND_CONFIG
    dry = send_command(config, out, issue_date=None, to=("a+b@x.com", "a_b@x.com"), environ={}, dry_run=True)
    assert len({p.name for p in dry.written}) == 2 and all(p.exists() for p in dry.written)
    assert sorted(parsed(p.read_bytes())["To"] for p in dry.written) == ["a+b@x.com", "a_b@x.com"]
    assert out / "outbox" / "2026-11-20-a_b@x.com.eml" in dry.written  # a plain address keeps its name


def test_send_gives_the_address_the_issue_was_built_with(issue: Path) -> None:
    """The publish workflow passes the site's address to `build --base-url` only: the email's body
    links to the issue's page, and `send` reads that address from the issue (meta.json) for the
    Archived-At header, where the configuration has none."""
    from generator.issue import read_meta, write_meta

    out = issue.parent.parent
    built = "https://you.github.io/smallcap-brief/briefs/2026-11-20/"
    write_meta(replace(read_meta(issue), view_url=built), issue)
    assert read_meta(issue).view_url == built
    config = SEND_CONFIG
    dry = send_command(config, out, issue_date=None, to=("ann@example.com",), environ={}, dry_run=True)
    assert parsed(dry.written[0].read_bytes())["Archived-At"] == f"<{built}>"
    for hostile in ("javascript:alert(1)", "https://x.example/a\r\nBcc: all@example.com", "https://x/a>b<c"):
        (issue / "meta.json").write_text(
            (issue / "meta.json").read_text().replace(json.dumps(built), json.dumps(hostile))
        )
        with pytest.raises(PublishError, match="view_url"):
            read_meta(issue)
        (issue / "meta.json").write_text(
            (issue / "meta.json").read_text().replace(json.dumps(hostile), json.dumps(built))
        )
    write_meta(replace(read_meta(issue), view_url=None), issue)  # an issue built without one
    assert "view_url" not in (issue / "meta.json").read_text()
    again = send_command(config, out, issue_date=None, to=("ann@example.com",), environ={}, dry_run=True)
    assert parsed(again.written[0].read_bytes())["Archived-At"] is None


# ---------------------------------------------------------------------------
# The ledger
# ---------------------------------------------------------------------------


def test_ledger_is_durable_case_insensitive_and_survives_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "sent.jsonl"
    ledger = Ledger(path)
    ledger.record(AS_OF, "Ann@Example.com", "<m1@x>", CLOCK(), SENT)
    ledger.record(AS_OF, "bob@example.com", "<m2@x>", CLOCK(), FAILED, "550 no")
    with path.open("a") as handle:
        handle.write('{"issue": "2026-11-20", "recip')  # a crash mid-write
    reopened = Ledger(path)
    assert reopened.was_sent(AS_OF, "ann@example.com") and not reopened.was_sent(AS_OF, "bob@example.com")
    assert not reopened.was_sent(date(2026, 11, 13), "ann@example.com")
    reopened.record(AS_OF, "bob@example.com", "<m2@x>", CLOCK(), SENT)
    final = Ledger(path)
    assert final.was_sent(AS_OF, "bob@example.com")
    assert [e.message_id for e in final.entries(AS_OF)] == ["<m1@x>", "<m2@x>"]
    with pytest.raises(DeliveryError, match="unknown ledger status"):
        final.record(AS_OF, "cy@example.com", "<m3@x>", CLOCK(), "maybe")


def test_a_line_torn_inside_a_character_is_one_unreadable_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Errors are written as UTF-8 ("550 Benutzer unbekannt ü"): a crash inside a character left a
    file that failed to decode as a whole, a traceback on every later send."""
    path = tmp_path / "sent.jsonl"
    Ledger(path).record(AS_OF, "ann@example.com", "<m1@x>", CLOCK(), SENT)
    with path.open("ab") as handle:
        handle.write('{"issue": "2026-11-20", "error": "550 Benutzer unbekannt \u00fc'.encode()[:-1])
    with caplog.at_level("WARNING"):
        reopened = Ledger(path)
    assert reopened.was_sent(AS_OF, "ann@example.com")
    assert f"{path}:2: skipping an unreadable ledger line" in caplog.text
    reopened.record(AS_OF, "bob@example.com", "<m2@x>", CLOCK(), FAILED, "550 Benutzer unbekannt ü")
    assert [e.error for e in Ledger(path).entries(AS_OF)] == ["", "550 Benutzer unbekannt ü"]


def test_a_keyed_ledger_records_no_address_and_still_knows_who_got_the_issue(
    issue: Path, smtp_server: tuple[Collector, SmtpSettings], caplog: pytest.LogCaptureFixture
) -> None:
    """With SMALLCAP_LEDGER_KEY the ledger holds keyed hashes, not addresses (a pull request's
    workflow can read the Actions cache it lives in); a re-run still skips who got the issue, and
    an address recorded in plain before the key is still known.  Without the key, or under another
    one, the hashes match no one: a run that sent on (every recipient again) stops instead."""
    server, smtp = smtp_server
    out = issue.parent.parent
    path = out / "cache" / "sent.jsonl"
    Ledger(path).record(AS_OF, "old@example.com", "<m0@x>", CLOCK(), SENT)  # before the key was set
    config = SEND_CONFIG
    environ = {
        **smtp_environ(smtp),
        "SMALLCAP_BRIEF_TO": "Ann@Example.com,old@example.com",
        "SMALLCAP_LEDGER_KEY": "a secret of the repository",
    }
    first = send_command(config, out, issue_date=None, to=(), environ=environ)
    assert str(first) == "issue 2026-11-20: sent 1, skipped 1 already sent" and server.recipients == [
        "Ann@Example.com"
    ]
    written = path.read_text(encoding="utf-8")
    assert "ann@example.com" not in written.lower() and "old@example.com" not in written  # rewritten
    assert written.count('"recipient": "hmac-sha256:') == written.count('"message_id": "hmac-sha256:') == 2
    again = send_command(config, out, issue_date=None, to=(), environ=environ)
    assert str(again) == "issue 2026-11-20: sent 0, skipped 2 already sent"
    keyed = Ledger(path, key=b"a secret of the repository")
    assert keyed.was_sent(AS_OF, "ANN@example.com ") and keyed.was_sent(AS_OF, "old@example.com")
    with pytest.raises(DeliveryError, match="written under another SMALLCAP_LEDGER_KEY"):
        Ledger(path, key=b"another key")
    with pytest.raises(DeliveryError, match="under SMALLCAP_LEDGER_KEY, which is not set"):
        Ledger(path)  # no key: the hashes mean nothing
    rejected = "550 5.1.1 <Eve@Example.com>: Recipient address rejected"
    keyed.record(AS_OF, "eve@example.com", "<brief-x.0123@news.example.com>", CLOCK(), FAILED, rejected)
    (eve,) = [e for e in Ledger(path, key=b"a secret of the repository").entries(AS_OF) if e.status == FAILED]
    assert eve.error == "550 5.1.1 <<recipient>>: Recipient address rejected" and "0123" not in eve.message_id
    del environ["SMALLCAP_LEDGER_KEY"]  # the secret renamed, or a local re-run: nobody is sent again
    with pytest.raises(DeliveryError, match="SMALLCAP_LEDGER_KEY, which is not set") as refused:
        send_command(config, out, issue_date=None, to=(), environ=environ)
    assert str(refused.value).startswith(f"{path}: ") and len(server.recipients) == 1
    path.unlink()  # a new ledger on GitHub Actions without a key: said, and sent all the same
    with caplog.at_level("WARNING"):
        send_command(
            config,
            out,
            issue_date=None,
            to=("new@example.com",),
            environ={**environ, "GITHUB_ACTIONS": "true"},
        )
    assert "set the SMALLCAP_LEDGER_KEY secret" in caplog.text


def test_named_recipients_are_sent_to_their_bare_address() -> None:
    from generator.publish.email import check_address

    assert check_address("Ann Reader <ann@example.com>") == "ann@example.com"
    bad = ("ann@example.com, eve@example.com", "Ann <ann@example.com> eve@example.com", "nobody")
    # no name before the @, none after it, a blank inside (it went out as RCPT TO:<a b@c.com>)
    for address in (*bad, "@example.com", "ann@", "a b@example.com", "Ann <a b@example.com>"):
        with pytest.raises(DeliveryError, match="is not an e-mail address"):
            check_address(address)


def test_keyed_records_from_before_fingerprints_lock_no_key_out(tmp_path: Path) -> None:
    """Records keyed before the ledger noted its key's fingerprint cannot tell which key wrote them:
    a run under another key is not refused, and then neither is the right one (it was, once a wrong
    key's fingerprinted records followed the old ones)."""
    path = tmp_path / "sent.jsonl"
    Ledger(path, key=b"key A").record(AS_OF, "ann@example.com", "<m1@x>", CLOCK(), SENT)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        del line["key"]  # as the ledger wrote them before fingerprints
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    Ledger(path, key=b"key B").record(AS_OF, "bob@example.com", "<m2@x>", CLOCK(), SENT)
    again = Ledger(path, key=b"key A")
    assert again.was_sent(AS_OF, "ann@example.com") and not again.was_sent(AS_OF, "bob@example.com")
    with pytest.raises(DeliveryError, match="which is not set"):
        Ledger(path)  # keyed records and no key: still refused
