"""Charts and the PDF made in a child process, forked as the build starts.

matplotlib's and weasyprint's imports and their first font setup take longer than the whole
analysis.  A child forked at the start of a build does them while the parent gathers and analyses.
The parent then sends the finished brief; the child draws the charts and sends them straight back
(the parent needs them for the HTML, Markdown and email), then renders the print HTML and lays out
the PDF while the parent writes the other formats.  On two cores this takes the slow start-ups and
the PDF layout off the critical path.

The child is forked before the build starts any thread.  If it cannot be started or it dies, the
work is done in the parent as usual (slower, same bytes).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
from collections.abc import Mapping
from multiprocessing.connection import Connection
from types import TracebackType
from typing import TYPE_CHECKING, Any

from generator.errors import BriefError, RenderError

if TYPE_CHECKING:
    from generator.models import Brief, ChartSpec, RenderedChart
    from generator.render import PdfResult

log = logging.getLogger(__name__)

WARM_UP_HTML = '<html lang="en"><body><p style="font-family: sans-serif">.</p></body></html>'


def _warm_up_charts() -> tuple[ChartSpec, ...]:
    """One chart of each kind the brief draws, with a year of dates: loads fonts, locators, tickers."""
    from datetime import date, timedelta

    from generator.models import ChartSpec

    days = tuple((date(2025, 1, 1) + timedelta(days=n)).isoformat() for n in range(0, 365, 1))
    line = tuple(100.0 + (n % 17) for n in range(len(days)))
    bars = (("1W", (1.0, -2.0, 3.0)),)
    return (
        ChartSpec(
            "warm-line", "Warm-up", "Warm-up.", "line", days, (("a", line), ("b", line)), reference=1.0
        ),
        ChartSpec("warm-hbar", "Warm-up", "Warm-up.", "hbar", ("A", "B", "C"), bars, reference=0.0),
        ChartSpec("warm-bar", "Warm-up", "Warm-up.", "bar", ("A", "B", "C"), bars, reference=0.0),
    )


def _answer(conn: Connection, make: Any) -> Any:
    try:
        result = make()
    except BriefError as exc:
        conn.send(("error", str(exc)))
        return None
    conn.send(("ok", result))
    return result


def _serve(conn: Connection, kind: str) -> None:
    """Warm up, then for each brief: its charts (the "charts" child) or its PDF (the "pdf" child)."""
    from generator.charts import render_charts
    from generator.render import render_html, render_pdf_document

    def warm_pdf() -> None:
        with contextlib.suppress(BriefError):  # the real work reports it
            render_pdf_document(WARM_UP_HTML)  # imports weasyprint, loads pango and fonts

    # weasyprint warms up beside the charts: a brief that arrives meanwhile gets its charts at once.
    warming = threading.Thread(target=warm_pdf, name="warm-pdf", daemon=True)
    warming.start()
    with contextlib.suppress(BriefError):
        render_charts(_warm_up_charts())  # loads matplotlib's fonts
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        brief, names = job
        charts = _answer(conn, lambda b=brief: render_charts(b.charts))
        warming.join()
        if kind == "pdf" and charts is not None:
            _answer(conn, lambda b=brief, c=charts, n=names: render_pdf_document(
                render_html(b, c, for_pdf=True, names=n)))  # fmt: skip


def _start(kind: str) -> tuple[Connection, multiprocessing.process.BaseProcess] | None:
    try:
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, kind), name=f"render-{kind}", daemon=True)
        proc.start()
        child.close()
        return parent, proc
    except (OSError, ValueError) as exc:  # no fork on this platform, or no resources
        log.debug("%s worker not started (%s); rendering in process", kind, exc)
        return None


class RenderWorker:
    """``with RenderWorker() as w: w.start(brief, names); charts = w.charts(); ...; pdf = w.pdf()``.

    The child gets the brief, sends its charts back at once and then lays out its PDF while the
    parent writes the other formats.
    """

    def __init__(self) -> None:
        # One child: it sends the charts back first, then lays out the PDF (two children compete
        # with the parent for two cores while they warm up, and lose more than they gain).
        self._children = {"pdf": _start("pdf")}
        self._job: tuple[Brief, Mapping[str, str] | None] | None = None
        self._charts: Mapping[str, RenderedChart] | None = None
        self._sent: set[str] = set()

    def __enter__(self) -> RenderWorker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def alive(self, kind: str) -> bool:
        child = self._children.get(kind)
        return child is not None and child[1].is_alive()

    def start(self, brief: Brief, names: Mapping[str, str] | None = None) -> None:
        """Send the brief to both children."""
        self._job, self._charts, self._sent = (brief, names), None, set()
        for kind in list(self._children):
            child = self._children.get(kind)
            if child is not None and self.alive(kind):
                try:
                    child[0].send((brief, names))
                    self._sent.add(kind)
                except OSError as exc:
                    self._lost(kind, exc)

    def _receive(self, kind: str) -> Any:
        child = self._children.get(kind)
        if kind not in self._sent or child is None or not self.alive(kind):
            return None
        try:
            status, result = child[0].recv()
        except (EOFError, OSError) as exc:
            self._lost(kind, exc)
            return None
        if status != "ok":
            raise RenderError(result)
        return result

    def _lost(self, kind: str, exc: BaseException) -> None:
        log.warning("%s worker stopped (%s); rendering in process", kind, exc)
        self._sent.discard(kind)
        self._stop(kind)

    def charts(self) -> Mapping[str, RenderedChart]:
        """The started brief's charts (SVG and PNG)."""
        assert self._job is not None, "start() first"
        if self._charts is None:
            self._charts = self._receive("pdf")
        if self._charts is None:
            from generator.charts import render_charts  # matplotlib, only when the child cannot draw

            self._charts = render_charts(self._job[0].charts)
        return self._charts

    def pdf(self) -> PdfResult:
        """The started brief's PDF."""
        assert self._job is not None, "start() first"
        self.charts()  # the child answers in order: the charts first
        result: PdfResult | None = self._receive("pdf")
        if result is not None:
            return result
        from generator.render import render_html, render_pdf_document

        brief, names = self._job
        return render_pdf_document(render_html(brief, self.charts(), for_pdf=True, names=names))

    def _stop(self, kind: str) -> None:
        child = self._children.pop(kind, None)
        if child is None:
            return
        conn, proc = child
        with contextlib.suppress(OSError):
            conn.send(None)
        conn.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()

    def close(self) -> None:
        for kind in list(self._children):
            self._stop(kind)
