"""Charts and the PDF made in a child process, forked as the build starts.

matplotlib's and weasyprint's imports and their first font setup take longer than the whole
analysis.  A child forked at the start of a build does them while the parent gathers and analyses.
As soon as the analysis knows the body's chart specs, the parent sends them (:meth:`RenderWorker.draw`)
and the child draws them while the analysis goes on.  The parent then sends the finished brief;
the child sends its charts straight back (the parent needs them for the HTML, Markdown and email;
a chart whose spec changed meanwhile is drawn again), then renders the print HTML and lays out the
PDF while the parent writes the other formats.  On two cores this takes the slow start-ups, the
charts and the PDF layout off the parent's path.

The child is forked before the build starts any thread.  If it cannot be started or it dies, the
work is done in the parent as usual (slower, same bytes).  A build that wants no PDF has the child
draw the charts only (weasyprint is not loaded).  When the build ends, or stops early on an error,
the child is stopped at once: nothing it could still be doing (a warm-up, a drawing ahead) is wanted.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
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


def _answer(conn: Connection, make: Any) -> Any:
    try:
        result = make()
    except BriefError as exc:
        conn.send(("error", str(exc)))
        return None
    conn.send(("ok", result))
    return result


def _exit_on_terminate(signum: int, frame: object) -> None:
    """SIGTERM from the parent unwinds the child, so open ``with`` blocks (a cache's lock file) clean up."""
    raise SystemExit(0)


def _serve(conn: Connection, pdf: bool) -> None:
    """Warm weasyprint up (``pdf``), draw what the parent sends early, then for each brief: its charts
    and (``pdf``) its PDF.

    matplotlib is not warmed up with charts of its own: the body's real charts arrive early
    (:meth:`RenderWorker.draw`), and drawing them is the warm-up.
    """
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    from generator.charts import render_charts
    from generator.render import render_html, render_pdf_document

    if pdf:
        with contextlib.suppress(BriefError):  # the real work reports it
            render_pdf_document(WARM_UP_HTML)  # imports weasyprint, loads pango and fonts
    drawn: dict[ChartSpec, RenderedChart] = {}  # drawn ahead, from the specs the parent sent early

    def charts_of(specs: tuple[ChartSpec, ...]) -> dict[str, RenderedChart]:
        missing = tuple(spec for spec in specs if spec not in drawn)
        drawn.update(zip(missing, render_charts(missing).values(), strict=True))
        return {spec.key: drawn[spec] for spec in specs}

    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        if job[0] == "draw":
            with contextlib.suppress(BriefError):  # the brief's own request reports it
                charts_of(job[1])
            continue
        _, brief, names = job
        charts = _answer(conn, lambda b=brief: charts_of(b.charts))
        if pdf and charts is not None:
            _answer(conn, lambda b=brief, c=charts, n=names: render_pdf_document(
                render_html(b, c, for_pdf=True, names=n)))  # fmt: skip


def _start(kind: str, pdf: bool) -> tuple[Connection, multiprocessing.process.BaseProcess] | None:
    try:
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, pdf), name=f"render-{kind}", daemon=True)
        proc.start()
        child.close()
        return parent, proc
    except (OSError, ValueError) as exc:  # no fork on this platform, or no resources
        log.debug("%s worker not started (%s); rendering in process", kind, exc)
        return None


class RenderWorker:
    """``with RenderWorker() as w: w.start(brief, names); charts = w.charts(); ...; pdf = w.pdf()``.

    The child gets the brief, sends its charts back at once and then lays out its PDF while the
    parent writes the other formats.  With ``pdf=False`` the child only draws the charts, and
    :meth:`pdf` lays the PDF out in the parent.
    """

    def __init__(self, *, pdf: bool = True) -> None:
        # One child: it sends the charts back first, then lays out the PDF (two children compete
        # with the parent for two cores while they warm up, and lose more than they gain).
        self._pdf = pdf
        self._children = {"pdf": _start("pdf", pdf)}
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

    def draw(self, specs: tuple[ChartSpec, ...]) -> None:
        """Have the child draw these charts now, ahead of the brief that will ask for them."""
        child = self._children.get("pdf")
        if child is not None and self.alive("pdf"):
            try:
                child[0].send(("draw", specs))
            except OSError as exc:
                self._lost("pdf", exc)

    def start(self, brief: Brief, names: Mapping[str, str] | None = None) -> None:
        """Send the brief to the child."""
        self._job, self._charts, self._sent = (brief, names), None, set()
        for kind in list(self._children):
            child = self._children.get(kind)
            if child is not None and self.alive(kind):
                try:
                    child[0].send(("brief", brief, names))
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
        result: PdfResult | None = self._receive("pdf") if self._pdf else None
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
        conn.close()
        # Every answer the parent wanted is in, or the build stopped early: what the child may still
        # be doing (a warm-up, a drawing ahead) is not waited for.
        proc.terminate()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()

    def close(self) -> None:
        for kind in list(self._children):
            self._stop(kind)
