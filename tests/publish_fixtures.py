"""Hand-built briefs and issue folders for the site and email tests.

``write_issue`` lays out a folder exactly as generator/issue.py describes it, with real
files: a PDF made by weasyprint, PNG charts drawn by matplotlib, and email.html /
email.txt from :func:`generator.render_email.render_email`.
"""

from __future__ import annotations

import functools
import io
from datetime import UTC, date, datetime, timedelta
from html import escape as esc
from pathlib import Path

from generator.formats import FILES
from generator.formatting import fmt, plain
from generator.issue import CHARTS_DIR, issue_dir, meta_for, write_meta
from generator.models import (
    Brief,
    ChartSpec,
    Cite,
    Figure,
    Headline,
    Passage,
    Provenance,
    Section,
    SourceHealth,
    Table,
    Takeaway,
    Topic,
)
from generator.render_email import EMAIL_SECTIONS, render_email

PROVIDER = "Yahoo Finance (yfinance)"


def figure(
    key: str, label: str, value: float | None, unit: str = "pct", *, as_of: date, stale: bool = False
) -> Figure:
    symbol = key.split(".")[1] if key.count(".") >= 2 else "^RUT"
    prov = Provenance((symbol,), "1W", as_of, PROVIDER, "Close-to-close change over the week.")
    return Figure(key, label, value, unit, prov, stale=stale)


def headline(n: int, as_of: date, *, title: str | None = None, link: str | None = "auto") -> Headline:
    url = f"https://news.example.com/markets/{as_of.isoformat()}/story-{n}" if link == "auto" else link
    return Headline(
        feed="example-markets",
        outlet="Example News",
        title=title or f"Small caps story number {n} of the week",
        link=url,
        published=datetime(as_of.year, as_of.month, as_of.day, 14, 0, tzinfo=UTC) - timedelta(days=n % 5),
        summary="A short summary of the story.",
        themes=("small_caps",),
        score=1.0 / (n + 1),
    )


def chart(key: str, as_of: date) -> ChartSpec:
    days = tuple((as_of - timedelta(days=d)).isoformat() for d in range(5, -1, -1))
    return ChartSpec(
        key=key,
        title=f"Chart {key}",
        alt=f"Line chart {key}: the Russell 2000 rose 1.2% over the week",
        kind="line",
        x=days,
        series=(("Russell 2000", (100.0, 100.4, 99.8, 100.9, 101.0, 101.2)),),
        source=f"Source: {PROVIDER}, last bar {as_of.isoformat()}",
    )


PASSAGES = EMAIL_SECTIONS  # the body passages the email carries, in order


def make_brief(
    as_of: date,
    *,
    is_sample: bool = False,
    stale: bool = False,
    rich: bool = False,
    chart_keys: tuple[str, ...] = ("rut-vs-spx",),
    headlines: tuple[Headline, ...] | None = None,
) -> Brief:
    """A plausible brief; ``rich`` makes every part as large as a real week can be.

    Body passages carry the charts of ``chart_keys`` in order (one each, as the narrative does);
    rich briefs have five takeaways, five long passages with a chart each, 12 headlines and a
    warning.
    """
    week_start = as_of - timedelta(days=as_of.weekday())
    week = 1.234 + as_of.day / 100
    main = figure("return.^RUT.1W", "Russell 2000, 1 week", week, as_of=as_of, stale=stale)
    keys = tuple(f"chart-{i}" for i in range(len(PASSAGES))) if rich else chart_keys
    count = len(PASSAGES) if rich else min(len(PASSAGES), max(2, len(keys)))
    others = tuple(  # two for each passage
        figure(f"return.SYM{i}.1W", f"Instrument {i}, 1 week", i * 0.37 - 2, as_of=as_of)
        for i in range(2 * count)
    )
    sentence = (
        "Small caps outpaced large caps as yields eased and credit spreads narrowed; breadth improved and "
        "the advance was led by regional banks and industrials. "
    ) * (4 if rich else 1)
    body = tuple(
        Passage(
            key=key,
            title=key.title(),
            paragraphs=(
                (f"{sentence}Instrument {2 * n} moved ", Cite(others[2 * n], fmt(others[2 * n])), "."),
                (f"Instrument {2 * n + 1} moved ", Cite(others[2 * n + 1], fmt(others[2 * n + 1])), "."),
            ),
            chart=keys[n] if n < len(keys) else None,
        )
        for n, key in enumerate(PASSAGES[:count])
    )
    context = ", its largest weekly move since the spring (data back to 2014)." if rich else "."
    takeaways = (
        Takeaway("week-move", ("The Russell 2000 rose ", Cite(main, f"{week:.2f}%"),
                               " in the week, its best week since 2026-10-02."), 2.5),
        *(
            Takeaway("spread", (f"Instrument {i} moved ", Cite(fig, fmt(fig)), context), 2.0 - i / 10)
            for i, fig in enumerate(others[: 4 if rich else 2])
        ),
    )  # fmt: skip
    table = Table("Weekly returns", ("Instrument", "1W"), tuple((f.label, f) for f in (main, *others)))
    items = (
        headlines if headlines is not None else tuple(headline(i, as_of) for i in range(12 if rich else 3))
    )
    return Brief(
        title="Small-Cap Weekly",
        as_of=as_of,
        week_start=week_start,
        week_end=as_of,
        built_at=datetime(as_of.year, as_of.month, as_of.day, 22, 15, tzinfo=UTC),
        is_sample=is_sample,
        summary=f"Small caps rose in the week to {as_of.isoformat()} as yields eased.",
        headline_figure=main,
        sections=(Section("performance", "Performance", (Topic("returns", "Returns", table=table),)),),
        charts=tuple(chart(k, as_of) for k in keys),
        headlines=items,
        health=(SourceHealth("symbol", "^RUT", "ok", "live", 2500, as_of),),
        warnings=("One feed failed this week: example-feed (timeout).",) if rich else (),
        disclaimer="For information only; not investment advice.",
        lead=("Small caps rose ", Cite(main, f"{week:.2f}%"), " as yields eased."),
        takeaways=takeaways,
        body=body,
        not_covered=("Nasdaq Composite (^IXIC): no data",) if rich else (),
    )


@functools.lru_cache(maxsize=1)
def tiny_pdf() -> bytes:
    from generator.render import load_weasyprint

    weasyprint = load_weasyprint()
    return bytes(weasyprint.HTML(string="<h1>Small-Cap Weekly</h1><p>Test issue.</p>").write_pdf())


@functools.cache  # a matplotlib drawing (~50 ms); its bytes serve every issue a test writes
def png_chart(seed: int = 0) -> bytes:
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(3, 1.5), dpi=60)
    ax = fig.subplots()
    ax.plot([0, 1, 2, 3], [1, 3 + seed % 3, 2, 4])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def cell(c: Figure | str) -> str:
    return f"<td>{esc(c)}</td>" if isinstance(c, str) else f'<td class="num">{fmt(c)}</td>'


def fragment_html(brief: Brief) -> str:
    """The skeleton of templates/fragment.html, its texts escaped: the lead and the takeaways, a
    contents list, the body passages (each with its chart as a PNG), and the appendix: the full
    figures and Sources and methods."""
    takeaways = "".join(f"<li>{esc(plain(t.prose))}</li>" for t in brief.takeaways)
    contents = "".join(f'<li><a href="#{p.key}">{esc(p.title)}</a></li>' for p in brief.body)
    charts = {c.key: c for c in brief.charts}
    passages = "".join(
        f'<section class="brief-section" id="{p.key}">\n<h2>{esc(p.title)}</h2>\n'
        + "".join(f'<p class="reading">{esc(plain(para))}</p>\n' for para in p.paragraphs)
        + (
            f'<figure class="chart" id="chart-{p.chart}"><img src="{CHARTS_DIR}/{p.chart}.png" '
            f'alt="{esc(charts[p.chart].alt)}"><figcaption>{esc(charts[p.chart].title)}</figcaption></figure>\n'
            if p.chart in charts
            else ""
        )
        + "</section>\n"
        for p in brief.body
    )
    tables = "".join(
        f'<table class="data"><caption>{esc(t.caption)}</caption>'
        f"<tr>{''.join(f'<th>{esc(c)}</th>' for c in t.columns)}</tr>"
        + "".join(f"<tr>{''.join(cell(c) for c in row)}</tr>" for row in t.rows)
        + "</table>\n"
        for section in brief.sections
        for topic in section.topics
        if (t := topic.table) is not None
    )
    return (
        f'<article class="brief" id="brief-{brief.as_of.isoformat()}">\n'
        f'<header class="brief-header"><h1 class="brief-title">{esc(brief.title)}</h1>\n'
        f'<p class="summary lead">{esc(plain(brief.lead))}</p></header>\n'
        f'<section class="takeaways" id="takeaways"><h2>Key takeaways</h2>\n'
        f'<ul class="takeaway-list">{takeaways}</ul></section>\n'
        f'<nav class="toc"><ol>{contents}<li><a href="#appendix">Appendix</a></li></ol></nav>\n'
        f"{passages}"
        '<div class="appendix" id="appendix">\n<h2 class="appendix-title">Appendix</h2>\n'
        f'<section class="brief-section" id="full-figures"><h2>Full figures</h2>\n{tables}</section>\n'
        '<section class="brief-section" id="sources-and-methods"><h2>Sources and methods</h2>\n'
        f"<p>{esc(PROVIDER)}.</p></section>\n</div>\n"
        "</article>\n"
    )


def write_issue(
    out: Path,
    as_of: date,
    *,
    is_sample: bool = False,
    stale: bool = False,
    brief: Brief | None = None,
    view_url: str | None = None,
) -> Path:
    """Write a complete issue folder under ``out/briefs/<as_of>`` and return it."""
    brief = brief or make_brief(as_of, is_sample=is_sample, stale=stale)
    folder = issue_dir(out, as_of)
    (folder / CHARTS_DIR).mkdir(parents=True, exist_ok=True)
    fragment = fragment_html(brief)
    (folder / FILES["fragment"]).write_text(fragment, encoding="utf-8")
    (folder / FILES["html"]).write_text(
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{brief.title}</title></head>"
        f"<body>{fragment}</body></html>\n",
        encoding="utf-8",
    )
    (folder / FILES["md"]).write_text(f"# {brief.title}\n\n{brief.summary}\n", encoding="utf-8")
    (folder / FILES["pdf"]).write_bytes(tiny_pdf())
    for index, spec in enumerate(brief.charts):
        (folder / CHARTS_DIR / f"{spec.key}.png").write_bytes(png_chart(index))
    html, text = render_email(brief, view_url=view_url)
    (folder / FILES["email_html"]).write_text(html, encoding="utf-8")
    (folder / FILES["email_txt"]).write_text(text, encoding="utf-8")
    write_meta(meta_for(brief, dict(FILES)), folder)
    return folder
