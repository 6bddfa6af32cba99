"""The PDF renderer in a child process, started as the build starts.

weasyprint's import and its first font setup take longer than the whole analysis.  A child
process forked at the start of a build does both while the parent gathers, analyses and draws;
when the print HTML is ready the parent sends it over a pipe and gets the PDF back.  On two
cores this takes the PDF's start-up cost off the critical path.

The child is forked before the build starts any thread; if it cannot be started, or it dies,
the PDF is rendered in the parent as usual (slower, same bytes).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from multiprocessing.connection import Connection
from types import TracebackType
from typing import TYPE_CHECKING

from generator.errors import RenderError

if TYPE_CHECKING:
    from generator.render import PdfResult

log = logging.getLogger(__name__)

WARM_UP_HTML = (
    '<html lang="en"><body><p style="font-family: \'Liberation Sans\', sans-serif">.</p></body></html>'
)


def _serve(conn: Connection) -> None:
    from generator.render import render_pdf_document

    with contextlib.suppress(RenderError):  # the real render reports it
        render_pdf_document(WARM_UP_HTML)  # imports weasyprint, loads fonts and pango
    while True:
        try:
            html = conn.recv()
        except EOFError:
            return
        if html is None:
            return
        try:
            conn.send(("ok", render_pdf_document(html)))
        except RenderError as exc:
            conn.send(("error", str(exc)))


class PdfWorker:
    """``with PdfWorker() as worker: result = worker.render(html)``."""

    def __init__(self) -> None:
        self._conn: Connection | None = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        try:
            ctx = multiprocessing.get_context("fork")
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child,), name="pdf-renderer", daemon=True)
            proc.start()
            child.close()
            self._conn, self._proc = parent, proc
        except (OSError, ValueError) as exc:  # no fork on this platform, or no resources
            log.debug("PDF worker not started (%s); rendering in process", exc)

    def __enter__(self) -> PdfWorker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def render(self, html: str) -> PdfResult:
        """The :class:`~generator.render.PdfResult` of ``html``, from the child when it is alive."""
        from generator.render import render_pdf_document

        if self._conn is None or self._proc is None or not self._proc.is_alive():
            return render_pdf_document(html)
        try:
            self._conn.send(html)
            status, payload = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            log.warning("PDF worker stopped (%s); rendering in process", exc)
            self.close()
            return render_pdf_document(html)
        if status != "ok":
            raise RenderError(payload)
        result: PdfResult = payload
        return result

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc = None
