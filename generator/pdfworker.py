"""Charts and the PDF drawn in a child process, forked as the build starts.

matplotlib's and weasyprint's imports and their first font setup take longer than the whole
analysis.  A child forked at the start of a build does them while the parent gathers and analyses;
the parent then sends it the chart specs (and gets the SVG and PNG back), and later the print HTML,
which the child lays out while the parent writes the HTML, Markdown and email.  On two cores this
takes the slow start-ups and the PDF layout off the critical path.

The child is forked before the build starts any thread.  If it cannot be started or it dies, the
work is done in the parent as usual (slower, same bytes).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from types import TracebackType
from typing import TYPE_CHECKING, Any

from generator.errors import BriefError, RenderError

if TYPE_CHECKING:
    from generator.charts import RenderedChart
    from generator.models import ChartSpec
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
            "warm-line", "Warm-up", "Warm-up.", "line", days, (("a", line), ("b", line)), reference=100.0
        ),
        ChartSpec("warm-hbar", "Warm-up", "Warm-up.", "hbar", ("A", "B", "C"), bars, reference=0.0),
        ChartSpec("warm-bar", "Warm-up", "Warm-up.", "bar", ("A", "B", "C"), bars, reference=0.0),
    )


def _serve(conn: Connection, kind: str) -> None:
    """One child's loop: warm up, then answer jobs until the parent says stop (None) or goes away."""
    work: Callable[[Any], Any]
    warm: Any
    if kind == "charts":
        from generator.charts import render_charts

        work, warm = render_charts, _warm_up_charts()  # loads matplotlib's fonts
    else:
        from generator.render import render_pdf_document

        work, warm = render_pdf_document, WARM_UP_HTML  # imports weasyprint, loads pango and fonts
    with contextlib.suppress(BriefError):  # the real work reports it
        work(warm)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            conn.send(("ok", work(job)))
        except BriefError as exc:
            conn.send(("error", str(exc)))


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
    """``with RenderWorker() as w: charts = w.charts(specs); w.submit_pdf(html); ...; w.pdf()``.

    Two children: one draws charts (matplotlib), one lays out the PDF (weasyprint), so neither
    waits for the other's start-up.
    """

    def __init__(self) -> None:
        self._children = {kind: _start(kind) for kind in ("charts", "pdf")}
        self._pending: str | None = None  # the print HTML sent and not yet collected

    def __enter__(self) -> RenderWorker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _alive(self, kind: str) -> Connection | None:
        child = self._children.get(kind)
        return child[0] if child is not None and child[1].is_alive() else None

    def _answer(self, conn: Connection) -> Any:
        status, result = conn.recv()
        if status != "ok":
            raise RenderError(result)
        return result

    def _lost(self, kind: str, exc: BaseException) -> None:
        log.warning("%s worker stopped (%s); rendering in process", kind, exc)
        self._stop(kind)

    def charts(self, specs: Sequence[ChartSpec]) -> Mapping[str, RenderedChart]:
        conn = self._alive("charts")
        if conn is not None:
            try:
                conn.send(tuple(specs))
                drawn: Mapping[str, RenderedChart] = self._answer(conn)
                return drawn
            except (EOFError, OSError) as exc:
                self._lost("charts", exc)
        from generator.charts import render_charts  # matplotlib, only when the child cannot draw

        return render_charts(specs)

    def submit_pdf(self, html: str) -> None:
        """Start laying out the PDF in the child; :meth:`pdf` collects it."""
        self._pending = html
        conn = self._alive("pdf")
        if conn is not None:
            try:
                conn.send(html)
            except OSError as exc:
                self._lost("pdf", exc)

    def pdf(self) -> PdfResult:
        from generator.render import render_pdf_document

        html, self._pending = self._pending, None
        if html is None:
            raise RenderError("brief.pdf: no print HTML was submitted")
        conn = self._alive("pdf")
        if conn is not None:
            try:
                result: PdfResult = self._answer(conn)
                return result
            except (EOFError, OSError) as exc:
                self._lost("pdf", exc)
        return render_pdf_document(html)

    def render(self, html: str) -> PdfResult:
        """The PDF of ``html``, synchronously."""
        self.submit_pdf(html)
        return self.pdf()

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


PdfWorker = RenderWorker  # the name the build used first
