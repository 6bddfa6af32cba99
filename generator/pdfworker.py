"""Charts and the PDF made in two child processes, forked as the build starts.

matplotlib's and weasyprint's imports and their first font setup take longer than the whole
analysis.  Two children forked at the start of a build do them while the parent gathers and
analyses: the *charts* child imports matplotlib, the *PDF* child imports weasyprint and lays out a
one-line page (fonts, pango).  Neither imports pandas or the analysis.

As soon as the analysis knows the body's chart specs, the parent sends them to the charts child
(:meth:`RenderWorker.draw`), which draws them while the analysis goes on.  The parent then sends the
finished brief; the charts child sends its charts straight back (a chart whose spec changed
meanwhile is drawn again), and the parent passes brief and charts on to the PDF child, which lays
out the PDF while the parent writes the HTML, Markdown and email.  On two cores this takes the slow
start-ups, the charts and the PDF layout off the parent's path, and the PDF child waits for nothing
but the brief: with one child, its matplotlib import and the drawing came before the PDF.

The children are forked before the build starts any thread.  If one cannot be started or it dies,
its work is done in the parent as usual (slower, same bytes).  A build that wants no PDF starts no
PDF child (weasyprint is not loaded).  When the build ends, or stops early on an error, the children
are stopped at once: nothing they could still be doing (a warm-up, a drawing ahead) is wanted.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import shutil
import signal
import tempfile
from collections.abc import Iterator, Mapping
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


def _jobs(conn: Connection) -> Iterator[tuple[Any, ...]]:
    """The parent's messages until it closes the pipe or sends None."""
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        yield job


def _serve_charts(conn: Connection) -> None:
    """Draw what the parent sends early (``draw``), then each brief's charts (``brief``).

    matplotlib is not warmed up with charts of its own: the body's real charts arrive early, and
    drawing them is the warm-up.
    """
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    from generator.charts import render_charts

    drawn: dict[ChartSpec, RenderedChart] = {}  # drawn ahead, from the specs the parent sent early

    def charts_of(specs: tuple[ChartSpec, ...]) -> dict[str, RenderedChart]:
        missing = tuple(spec for spec in specs if spec not in drawn)
        drawn.update(zip(missing, render_charts(missing).values(), strict=True))
        return {spec.key: drawn[spec] for spec in specs}

    for job in _jobs(conn):
        if job[0] == "draw":
            with contextlib.suppress(BriefError):  # the brief's own request reports it
                charts_of(job[1])
        else:
            _answer(conn, lambda b=job[1]: charts_of(b.charts))


def _serve_pdf(conn: Connection) -> None:
    """Warm weasyprint up, then lay out the PDF of each brief with its charts."""
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    from generator.render import release_fonts, render_html, render_pdf_document

    try:
        with contextlib.suppress(BriefError):  # the real work reports it
            render_pdf_document(WARM_UP_HTML)  # imports weasyprint, loads pango and fonts
        for _, brief, charts, names in _jobs(conn):
            _answer(conn, lambda b=brief, c=charts, n=names: render_pdf_document(
                render_html(b, c, for_pdf=True, names=n)))  # fmt: skip
    finally:
        # The parent stops a child it no longer needs with SIGTERM, maybe just as the child read the
        # end of its pipe and began this: it is not cut short (weasyprint's font copies stayed behind).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        release_fonts()  # a child ends without running the exit handlers that would


# The parent's ends of the pipes to the workers it has running.  A forked worker inherits every one
# of them, its own included: it closes them first, so that when the parent dies (a plain `kill`,
# an OOM kill) the last writer of its pipe is gone and it reads end-of-file and exits.  Holding
# them, the two workers waited on each other's pipes for ever.
_PARENT_ENDS: set[Connection] = set()


def _child(target: Any, conn: Connection, inherited: tuple[Connection, ...], scratch: str) -> None:
    """A worker's start: the parent's ends closed, Ctrl-C left to the parent (which closes the pipe:
    the terminal sends SIGINT to the whole process group, and each worker printed a traceback)."""
    signal.signal(signal.SIGTERM, _exit_on_terminate)  # not the parent's handler, inherited over fork
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for end in inherited:
        end.close()
    tempfile.tempdir = scratch  # weasyprint's font copies: the parent removes the folder however this ends
    target(conn)


_Child = tuple[Connection, multiprocessing.process.BaseProcess, str]


def _start(kind: str) -> _Child | None:
    """A worker, with a temporary folder of its own that the parent removes when it stops the worker
    (a worker stopped in its cleanup, or killed, left weasyprint's font copies behind)."""
    target = _serve_pdf if kind == PDF else _serve_charts
    scratch = ""
    try:
        ctx = multiprocessing.get_context("fork")
        scratch = tempfile.mkdtemp(prefix=f"smallcap-brief-{kind}-")
        parent, child = ctx.Pipe()
        inherited = (*_PARENT_ENDS, parent)
        args = (target, child, inherited, scratch)
        proc = ctx.Process(target=_child, args=args, name=f"render-{kind}", daemon=True)
        proc.start()
        child.close()
        _PARENT_ENDS.add(parent)
        return parent, proc, scratch
    except (OSError, ValueError) as exc:  # no fork on this platform, or no resources
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        log.debug("%s worker not started (%s); rendering in process", kind, exc)
        return None


CHARTS, PDF = "charts", "pdf"


class RenderWorker:
    """``with RenderWorker() as w: w.start(brief, names); charts = w.charts(); ...; pdf = w.pdf()``.

    The charts child sends the brief's charts back; the parent hands them on with the brief to the
    PDF child (:meth:`charts` does), which lays the PDF out while the parent writes the other
    formats.  With ``pdf=False`` no PDF child is started, and :meth:`pdf` lays a PDF asked for out
    in the parent.
    """

    def __init__(self, *, pdf: bool = True) -> None:
        self._pdf = pdf
        self._children = {CHARTS: _start(CHARTS), **({PDF: _start(PDF)} if pdf else {})}
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

    def _send(self, kind: str, message: tuple[Any, ...]) -> bool:
        child = self._children.get(kind)
        if child is None or not self.alive(kind):
            return False
        try:
            child[0].send(message)
        except OSError as exc:
            self._lost(kind, exc)
            return False
        return True

    def draw(self, specs: tuple[ChartSpec, ...]) -> None:
        """Have the charts child draw these charts now, ahead of the brief that will ask for them."""
        self._send(CHARTS, ("draw", specs))

    def start(self, brief: Brief, names: Mapping[str, str] | None = None) -> None:
        """Send the brief to the charts child (the PDF child gets it with the charts)."""
        self._job, self._charts, self._sent = (brief, names), None, set()
        if self._send(CHARTS, ("brief", brief)):
            self._sent.add(CHARTS)

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
        """The started brief's charts (SVG and PNG); the PDF child gets them at once."""
        assert self._job is not None, "start() first"
        if self._charts is None:
            charts = self._receive(CHARTS)
            if charts is None:
                from generator.charts import render_charts  # matplotlib, only when the child cannot draw

                charts = render_charts(self._job[0].charts)
            self._charts = charts
            brief, names = self._job
            if self._send(PDF, ("brief", brief, charts, names)):
                self._sent.add(PDF)
        return self._charts

    def pdf(self) -> PdfResult:
        """The started brief's PDF."""
        assert self._job is not None, "start() first"
        charts = self.charts()  # hands the PDF child its job
        result: PdfResult | None = self._receive(PDF)
        if result is not None:
            return result
        from generator.render import render_html, render_pdf_document

        brief, names = self._job
        return render_pdf_document(render_html(brief, charts, for_pdf=True, names=names))

    def _stop(self, kind: str) -> None:
        child = self._children.pop(kind, None)
        if child is None:
            return
        conn, proc, scratch = child
        _PARENT_ENDS.discard(conn)
        conn.close()
        # Every answer the parent wanted is in, or the build stopped early: what the child may still
        # be doing (a warm-up, a drawing ahead) is not waited for.
        proc.terminate()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        shutil.rmtree(scratch, ignore_errors=True)

    def close(self) -> None:
        for kind in list(self._children):
            self._stop(kind)
