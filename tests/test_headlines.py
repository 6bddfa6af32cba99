"""generator.analysis.headlines: untrusted feed text, the week's items, duplicates, scoring, memory."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from generator.analysis.headlines import (
    LEXICON,
    THEMES,
    headline_keys,
    headlines_for,
    load_memory,
    normalize_link,
    parse_feed,
    remember,
    save_memory,
    select_headlines,
)
from generator.models import Feed, FeedCapture, Headline

WEEK_START, WEEK_END = date(2026, 3, 2), date(2026, 3, 6)  # Monday to Friday
FRIDAY = "Fri, 06 Mar 2026 15:00:00 GMT"


def rss(*items: dict[str, str]) -> bytes:
    """An RSS 2.0 document; item values are inserted as XML text (escaped once)."""
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    body = "".join(parts)
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
    return f"{head}{body}</channel></rss>".encode()


def item(title: str, link: str = "", when: str = FRIDAY, **extra: str) -> dict[str, str]:
    fields = {"title": title, "pubDate": when, **extra}
    if link:
        fields["link"] = link
    return fields


def capture(name: str, body: bytes) -> FeedCapture:
    return FeedCapture(name=name, url=f"https://example.com/{name}.xml", body=body)


def feed(name: str, outlet: str = "", topics: tuple[str, ...] = ()) -> Feed:
    return Feed(
        name=name, url=f"https://example.com/{name}.xml", outlet=outlet or name.title(), topics=topics
    )


def select(feeds: dict[Feed, bytes], **kwargs: object) -> list[Headline]:
    captures = {f.name: capture(f.name, body) for f, body in feeds.items()}
    return select_headlines(captures, list(feeds), week_start=WEEK_START, week_end=WEEK_END, **kwargs)  # type: ignore[arg-type]


# --- parsing untrusted text ----------------------------------------------------------------------


def test_hostile_items_become_safe_headlines() -> None:
    body = rss(
        item(
            "<script>alert(1)</script>Small caps <b>rally</b> &amp; roll",
            "javascript:alert(document.cookie)",
            description='<p onclick="x()">Stocks <img src=x onerror=alert(1)>rose.</p><script>go()</script>',
        ),
        item(
            "Escaped &lt;script&gt;alert(2)&lt;/script&gt; title", "data:text/html,<script>alert(3)</script>"
        ),
        item("Relative link", "/markets/story"),
        item("File link", "file:///etc/passwd"),
        item("Good link", "  https://example.com/story?id=1  "),
        item("Protocol-relative", "//evil.example/x"),
    )
    headlines = parse_feed(capture("x", body), feed("x"))
    assert [h.title for h in headlines] == [
        "Small caps rally & roll",
        "Escaped title",
        "Relative link",
        "File link",
        "Good link",
        "Protocol-relative",
    ]
    assert [h.link for h in headlines] == [None, None, None, None, "https://example.com/story?id=1", None]
    assert headlines[0].summary == "Stocks rose."
    for h in headlines:
        assert "<" not in h.title + h.summary and "alert" not in h.title + h.summary


def test_summary_is_plain_text_cut_at_a_word() -> None:
    long = "<p>" + " ".join(["Small-cap stocks kept climbing"] * 30) + "</p>"
    (headline,) = parse_feed(capture("x", rss(item("T", description=long))), feed("x"))
    assert len(headline.summary) <= 300
    assert headline.summary.endswith("…")
    assert headline.summary[:-1].split()[-1] in {"Small-cap", "stocks", "kept", "climbing"}


def test_titles_collapse_whitespace_and_decode_entities() -> None:
    (headline,) = parse_feed(
        capture("x", rss(item("  AT&amp;T\n\n  beats\tby 5%  ", "https://e.com/a"))), feed("x")
    )
    assert headline.title == "AT&T beats by 5%"


def test_dates_are_aware_utc_from_published_or_updated() -> None:
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b"<entry><title>Only updated</title><id>tag:e.com,2026:1</id>"
        b'<link href="https://e.com/1"/><updated>2026-03-05T09:30:00-05:00</updated></entry></feed>'
    )
    (headline,) = parse_feed(capture("a", atom), feed("a"))
    assert headline.published == datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    assert headline.guid == "tag:e.com,2026:1"
    (offset,) = parse_feed(capture("r", rss(item("x", when="Thu, 05 Mar 2026 20:00:00 -0500"))), feed("r"))
    assert offset.published == datetime(2026, 3, 6, 1, 0, tzinfo=UTC)


def test_a_body_that_names_a_local_file_is_not_read(tmp_path: Path) -> None:
    local = tmp_path / "local.xml"
    local.write_bytes(rss(item("Secret local file", "https://e.com/secret")))
    assert parse_feed(capture("x", str(local).encode()), feed("x")) == []


def test_empty_capture_gives_no_headlines() -> None:
    assert parse_feed(capture("x", b""), feed("x")) == []


# --- the reporting week ------------------------------------------------------------------------------


def test_only_dated_items_of_the_reporting_week_are_kept() -> None:
    body = rss(
        item("Sunday before", "https://e.com/0", "Sun, 01 Mar 2026 23:59:00 GMT"),
        item("Monday", "https://e.com/1", "Mon, 02 Mar 2026 00:00:00 GMT"),
        item("Friday evening in New York", "https://e.com/2", "Sat, 07 Mar 2026 01:30:00 GMT"),
        item("Saturday late", "https://e.com/3", "Sat, 07 Mar 2026 23:59:00 GMT"),
        item("Sunday after", "https://e.com/4", "Sun, 08 Mar 2026 00:00:00 GMT"),
        {"title": "Undated", "link": "https://e.com/5"},
    )
    titles = {h.title for h in select({feed("x"): body})}
    assert titles == {"Monday", "Friday evening in New York", "Saturday late"}


# --- de-duplication -------------------------------------------------------------------------------------


def test_duplicates_across_feeds_are_dropped() -> None:
    first = rss(
        item("Small caps rally as yields fall", "https://news.example.com/a?utm_source=rss#top", guid="id-1"),
        item("Regional banks slide on deposit worries", "https://news.example.com/b", guid="g-b"),
        item("Russell 2000 hits record: what it means", "https://one.example/r"),
        item("IWM options traders bet on more gains", "https://one.example/iwm"),
    )
    second = rss(
        item("Small caps rally as yields fall", "https://other.example/x", guid="urn:x"),  # same title
        item("Regional banks slide on deposit worry", "https://two.example/b"),  # near-identical title
        item("What it means: Russell 2000 hits record", "https://two.example/r"),  # same words
        item(
            "Completely different story about IWM", "https://news.example.com/a?utm_medium=feed"
        ),  # same link
        item(
            "IWM options traders bet on more gains", "https://two.example/iwm2", guid="id-1"
        ),  # guid, other outlet
    )
    kept = select({feed("one", "Outlet One"): first, feed("two", "Outlet Two"): second})
    assert sorted(h.title for h in kept) == sorted(
        [
            "Small caps rally as yields fall",
            "Regional banks slide on deposit worries",
            "Russell 2000 hits record: what it means",
            "IWM options traders bet on more gains",
        ]
    )
    assert len({h.feed for h in kept}) == 1


def test_same_guid_within_one_outlet_is_a_duplicate() -> None:
    a = rss(item("Fed holds rates steady", "https://cnbc.example/a", guid="108272353"))
    b = rss(item("Powell says the Fed can wait", "https://cnbc.example/b", guid="108272353"))
    kept = select({feed("cnbc-a", "CNBC"): a, feed("cnbc-b", "CNBC"): b})
    assert len(kept) == 1


def test_normalize_link() -> None:
    assert normalize_link("HTTPS://News.Example.com/a/?utm_source=x&id=3&UTM_campaign=y#frag") == (
        "https://news.example.com/a?id=3"
    )


# --- scoring and themes -----------------------------------------------------------------------------------


def test_scoring_order_on_hand_written_items() -> None:
    body = rss(
        item("Celebrity chef opens a new restaurant", "https://e.com/1"),
        item("Fed's Powell signals a rate cut as Treasury yields fall", "https://e.com/2"),
        item("Small-cap stocks jump; Russell 2000 beats the S&P 500", "https://e.com/3"),
        item("Regional banks lead as small caps rally", "https://e.com/4"),
        item("Oil prices climb", "https://e.com/5", description="The Russell 2000 slipped."),
    )
    ranked = select({feed("x"): body})
    assert [h.link for h in ranked] == [
        "https://e.com/3",
        "https://e.com/4",
        "https://e.com/5",
        "https://e.com/2",
        "https://e.com/1",
    ]
    by_link = {h.link: h for h in ranked}
    assert by_link["https://e.com/3"].themes[0] == "small_caps"
    assert set(by_link["https://e.com/2"].themes) >= {"fed", "rates"}
    assert set(by_link["https://e.com/4"].themes) >= {"small_caps", "banks"}
    assert by_link["https://e.com/1"].themes == () and by_link["https://e.com/1"].score == 0


@pytest.mark.parametrize(
    ("title", "theme"),
    [
        ("FOMC minutes show patience", "fed"),
        ("10-year Treasury yield tops 4.5%", "rates"),
        ("Junk bond spreads widen", "credit"),
        ("Investors rotate: the great rotation out of megacaps", "rotation"),
        ("VIX spikes in a broad selloff", "volatility"),
        ("Company raises full-year guidance", "earnings"),
        ("Hot CPI print revives inflation fears", "economy"),
        ("Small caps look cheap on a P/E basis", "valuation"),
        ("Index breaks out above its 200-day moving average", "technicals"),
        ("Biotech sector leads gains", "sectors"),
        ("KRE slides as regional bank worries return", "banks"),
        ("Micro-cap stocks soar", "small_caps"),
    ],
)
def test_themes_from_the_lexicon(title: str, theme: str) -> None:
    (headline,) = select({feed("x"): rss(item(title, "https://e.com/a"))})
    assert theme in headline.themes


def test_case_sensitive_acronyms() -> None:
    (lower,) = select({feed("x"): rss(item("Fans fed up with ticket prices", "https://e.com/a"))})
    assert "fed" not in lower.themes
    (upper,) = select({feed("x"): rss(item("Fed keeps rates on hold", "https://e.com/b"))})
    assert "fed" in upper.themes


def test_feed_topics_add_a_small_bonus_but_no_theme() -> None:
    body = rss(item("Markets wrap for the day", "https://e.com/a"))
    (plain,) = select({feed("x"): body})
    (topical,) = select({feed("x", topics=("small_caps",)): body})
    assert topical.score > plain.score
    assert topical.themes == ()


def test_order_does_not_depend_on_feed_order() -> None:
    a = rss(item("Small caps rally", "https://e.com/1"), item("Fed holds", "https://e.com/2"))
    b = rss(item("Small caps rally!", "https://f.com/1"), item("Jobs report beats", "https://f.com/2"))
    one = select({feed("a"): a, feed("b"): b})
    two = select({feed("b"): b, feed("a"): a})
    assert one == two


def test_lexicon_covers_exactly_the_themes() -> None:
    assert set(LEXICON) == set(THEMES)
    assert all(LEXICON[t] for t in THEMES)


def test_headlines_for_puts_the_main_theme_first() -> None:
    body = rss(
        item("Small caps slip as Treasury yields rise", "https://e.com/1"),
        item("Treasury yields surge after the jobs report", "https://e.com/2"),
        item("Bond yields: the yield curve steepens", "https://e.com/3"),
        item("Small caps rally", "https://e.com/4"),
    )
    ranked = select({feed("x"): body})
    rates = headlines_for("rates", ranked, n=2)
    assert len(rates) == 2
    assert all(h.themes[0] == "rates" for h in rates)
    assert headlines_for("credit", ranked) == ()
    assert len(headlines_for("small_caps", ranked, n=5)) == 2


# --- memory across weeks ----------------------------------------------------------------------------------


def test_is_new_uses_the_memory_of_earlier_weeks() -> None:
    body = rss(
        item("Small caps rally", "https://e.com/1", guid="https://e.com/1"),
        item("Fed holds", "https://e.com/2"),
        item("Jobs report", "https://e.com/3"),
    )
    seen = {"link:https://e.com/1": date(2026, 2, 23), "link:https://e.com/3": WEEK_START}
    by_link = {h.link: h.is_new for h in select({feed("x"): body}, seen=seen)}
    assert by_link == {"https://e.com/1": False, "https://e.com/2": True, "https://e.com/3": True}


def test_memory_round_trip_and_pruning(tmp_path: Path) -> None:
    path = tmp_path / "state" / "headlines.json"
    assert load_memory(path) == {}
    ranked = select({feed("x"): rss(item("Small caps rally", "https://e.com/1", guid="abc"))})
    memory = remember({"link:https://old.example/x": date(2025, 8, 4)}, ranked, WEEK_START)
    assert memory[headline_keys(ranked[0])[0]] == WEEK_START
    again = remember(memory, ranked, date(2026, 3, 9))
    assert again[headline_keys(ranked[0])[0]] == WEEK_START  # the first sighting is kept
    save_memory(path, again)
    loaded = load_memory(path)
    assert set(loaded) == set(headline_keys(ranked[0]))  # the 2025-08 key is older than 26 weeks
    assert json.loads(path.read_text())["version"] == 1


def test_headline_keys() -> None:
    base = Headline("f", "CNBC", "T", "https://e.com/a?utm_source=x", None, guid="123")
    assert headline_keys(base) == ("guid:cnbc|123", "link:https://e.com/a")
    url_guid = Headline("f", "CNBC", "T", None, None, guid="https://e.com/a")
    assert headline_keys(url_guid) == ("guid:https://e.com/a",)
    bare = Headline("f", "CNBC", "Small Caps, Rally!", None, None)
    assert headline_keys(bare) == ("title:small caps rally",)


def test_unreadable_memory_is_empty_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "headlines.json"
    path.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        assert load_memory(path) == {}
    assert "headline memory unreadable" in caplog.text


# --- real captures ----------------------------------------------------------------------------------------

REAL = {
    "real/cnbc_international_top_news_2026-03-08.xml": 30,
    "real/seekingalpha_AAPL_2026-03-08.xml": 20,
    "real/nytimes_business_2026-03-09.xml": 50,
    "real/googlenews_site-reuters-markets_2026-03-15.xml": 100,
    "real/bloomberg_news_sitemap_2026-03-15.xml": 0,
}


@pytest.mark.parametrize(("path", "count"), REAL.items())
def test_real_captures_parse(shared_data: Path, path: str, count: int) -> None:
    headlines = parse_feed(capture("r", (shared_data / "rss" / path).read_bytes()), feed("r"))
    assert len(headlines) == count
    for h in headlines:
        assert h.title and "<" not in h.title and "<" not in h.summary
        assert h.link is None or h.link.startswith("https://")
        assert h.published is not None and h.published.tzinfo is UTC
        assert len(h.summary) <= 300


def test_google_news_html_descriptions_become_text(shared_data: Path) -> None:
    body = (shared_data / "rss/real/googlenews_site-reuters-markets_2026-03-15.xml").read_bytes()
    headlines = parse_feed(capture("g", body), feed("g", "Google News"))
    assert headlines[0].title.endswith(" - Reuters")
    assert all("&nbsp;" not in h.summary and "href" not in h.summary for h in headlines)
    assert headlines[0].summary == ""  # it only repeated the title


def test_economist_malformed_capture_still_gives_entries(shared_data: Path) -> None:
    path = shared_data / "rss/real_malformed/economist_finance-economics_2023-11_python-repr-mojibake.xml"
    headlines = parse_feed(capture("e", path.read_bytes()), feed("e", "The Economist"))
    assert len(headlines) == 100
    assert headlines[0].title == "Why economists are at war over inequality"


def test_real_week_selection(shared_data: Path) -> None:
    rss_dir = shared_data / "rss" / "real"
    feeds = {
        feed("cnbc", "CNBC"): (rss_dir / "cnbc_international_top_news_2026-03-08.xml").read_bytes(),
        feed("nyt", "The New York Times"): (rss_dir / "nytimes_business_2026-03-09.xml").read_bytes(),
        feed("sa", "Seeking Alpha"): (rss_dir / "seekingalpha_AAPL_2026-03-08.xml").read_bytes(),
    }
    ranked = select(feeds)
    assert ranked, "the week of 2026-03-02 has items in these captures"
    assert all(WEEK_START <= h.published.date() <= date(2026, 3, 7) for h in ranked if h.published)
    scores = [h.score for h in ranked]
    assert scores == sorted(scores, reverse=True)
    keys = [k for h in ranked for k in headline_keys(h)]
    assert len(keys) == len(set(keys))
