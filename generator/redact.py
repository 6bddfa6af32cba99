"""Error texts that are published carry no path of the build machine.

Health rows end up in the brief, the email and the snapshot manifest; an error text such as
``/home/ci/work/data/XLK.csv: no Close column`` would show where and as whom the brief was
built.  :func:`hide_local_paths` shows every absolute path by its last part (``XLK.csv``), the
name of the source.  URLs are left alone (``https://host/a/b``, ``file:///etc/passwd`` name
what a server sent, not this machine), and so are relative paths.

Known limits: a path needs two parts (``/x`` alone is left, like a URL path); it is taken
to end at white space, so in ``/home/Jo Ann/x.csv`` only
``/home/Jo`` is recognised (and the rest, relative, stays).
"""

from __future__ import annotations

import re

_PART = r"[^\s/\\:;,'\"()<>|]+"
_ABSOLUTE = re.compile(
    rf"(?<![\w.:/~\\-])/(?:{_PART}/)+({_PART})?"  # POSIX: /dir/.../name, two parts at least
    rf"|(?<![\w])[A-Za-z]:\\(?:{_PART}\\)*({_PART})?"  # Windows: C:\dir\...\name
)


def hide_local_paths(text: str) -> str:
    """``text`` with each absolute path replaced by its last part (see the module docstring)."""
    return _ABSOLUTE.sub(_last_part, text) if "/" in text or "\\" in text else text


def _last_part(match: re.Match[str]) -> str:
    name = match.group(1) or match.group(2)
    if name:
        return name
    parts = [p for p in re.split(r"[/\\]", match.group(0)) if p and not p.endswith(":")]
    return parts[-1] if parts else match.group(0)
