"""The weekly email's body: HTML with its CSS inlined and a plain-text alternative.

Part of the render layer (the build renders it with the other formats); :mod:`generator.publish.email`
builds the MIME message from the files and sends it.  The email leads with the brief's headline
sentence and key takeaways, carries the body passages without footnotes, and links to the web
edition's appendix for sources and methods.
"""

from __future__ import annotations

import logging

import css_inline

from generator.analysis.registry import email_sections
from generator.models import Brief
from generator.render import shared_env

log = logging.getLogger(__name__)

MAX_HTML_BYTES = 102_000  # Gmail clips HTML bodies larger than about 102 KB
EMAIL_SECTIONS = email_sections()  # from the section registry
MAX_HEADLINES = 5
DEFAULT_DISCLAIMER = (
    "For information only, not investment advice. Every figure is sourced and dated in the web edition; "
    "past performance does not predict future returns."
)


def render_email(brief: Brief, *, view_url: str | None) -> tuple[str, str]:
    """The email body as ``(html, text)``: HTML with its CSS inlined, and the plain-text alternative."""
    env = shared_env()
    passages = [p for p in brief.body if p.key in EMAIL_SECTIONS]
    chart_keys = [p.chart for p in passages if p.chart]
    context = {
        "brief": brief,
        "view_url": view_url if view_url and view_url.startswith(("https://", "http://")) else None,
        "passages": passages,
        "charts": [c for key in chart_keys for c in brief.charts if c.key == key],
        "headlines": brief.headlines[:MAX_HEADLINES],
        "default_disclaimer": DEFAULT_DISCLAIMER,
        "preheader_pad": "\u200c\u00a0" * 80,  # keeps clients from padding the preview with body text
    }
    raw_html = env.get_template("email.html").render(context)
    text = env.get_template("email.txt").render(context)
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True, minify_css=True)
    html = inliner.inline(raw_html)
    size = len(html.encode("utf-8"))
    if size > MAX_HTML_BYTES:
        log.warning(
            "email for %s is %d bytes of HTML; Gmail clips above %d", brief.as_of, size, MAX_HTML_BYTES
        )
    return html, text
