"""Rewrite the golden HTML and Markdown in tests/golden/ after an intended change.

Usage: python scripts/refresh_golden.py   (or: make golden)

The files are rendered from the bundled sample through the real analysis and narrative
(tests/sample_brief.golden_outputs), with the stylesheet and chart drawings left out;
tests/test_render.py compares fresh renders with them and shows the diff when they differ.
Review the diff (git diff tests/golden) before committing it.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("refresh_golden")


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from sample_brief import GOLDEN_DIR, golden_outputs

    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in golden_outputs().items():
        path = GOLDEN_DIR / name
        old = path.read_bytes() if path.exists() else b""
        new = text.encode("utf-8")
        path.write_bytes(new)
        verb = "unchanged" if old == new else "rewrote"
        log.info("%s %s (%s bytes)", verb, path.relative_to(ROOT), f"{len(new):,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
