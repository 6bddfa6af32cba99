"""Rewrite the golden HTML and Markdown in tests/golden/ after an intended change.

Usage: python scripts/refresh_golden.py   (or: make golden)

The files are rendered from tests/brief_factory.make_brief(); tests/test_render.py
compares fresh renders with them byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"


def main() -> int:
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from brief_factory import golden_outputs

    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, text in golden_outputs().items():
        path = GOLDEN / name
        old = path.read_bytes() if path.exists() else b""
        new = text.encode("utf-8")
        path.write_bytes(new)
        print(f"{'unchanged' if old == new else 'rewrote'} {path.relative_to(ROOT)} ({len(new):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
