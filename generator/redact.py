"""Error texts that are published carry no path of the build machine.

Health rows end up in the brief, the email and the snapshot manifest; an error text such as
``/home/ci/work/data/XLK.csv: no Close column`` would show where and as whom the brief was
built.  :func:`hide_local_paths` shows every absolute path by its last part (``XLK.csv``), the
name of the source.  URLs are left alone (``https://host/a/b``, ``file:///etc/passwd`` name
what a server sent, not this machine), and so are relative paths.

A path is taken to end at white space, except this machine's working, home and temporary
folders, which are known: where one holds a space (``/home/Jo Ann``), a path under it
(``/home/Jo Ann/x.csv``) is recognised whole.  Known limits: a space in a folder below those
still ends the path (``/srv/My Data/x.csv``: ``/srv/My`` is recognised, the rest stays); a path
needs two parts (``/x`` alone is left, like a URL path).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable

_PART = r"[^\s/\\:;,'\"()<>|]+"
_ABSOLUTE = re.compile(
    rf"(?<![\w.:/~\\-])/(?:{_PART}/)+({_PART})?"  # POSIX: /dir/.../name, two parts at least
    rf"|(?<![\w])[A-Za-z]:\\(?:{_PART}\\)*({_PART})?"  # Windows: C:\dir\...\name
)


def hide_local_paths(text: str) -> str:
    """``text`` with each absolute path replaced by its last part (see the module docstring)."""
    if "/" not in text and "\\" not in text:
        return text
    for root in _spaced_roots():
        if root in text:
            text = re.sub(
                rf"(?<![\w.:/~\\-]){re.escape(root)}((?:[/\\]{_PART})*)[/\\]?", _name_under(root), text
            )
    return _ABSOLUTE.sub(_last_part, text)


def _spaced_roots() -> list[str]:
    """This machine's working, home and temporary folders (as given and resolved) whose paths hold
    white space, longest first: the pattern above would cut a path under them at the space."""
    roots = {os.path.expanduser("~")}
    for folder in (os.getcwd, tempfile.gettempdir):
        # a working folder removed under the process, no writable temporary folder: not a root
        with contextlib.suppress(OSError):
            roots.add(folder())
    roots |= {os.path.realpath(r) for r in roots}
    return sorted((r.rstrip("/\\") for r in roots if re.search(r"\s", r)), key=len, reverse=True)


def _name_under(root: str) -> Callable[[re.Match[str]], str]:
    def name(match: re.Match[str]) -> str:
        parts = [p for p in re.split(r"[/\\]", match.group(1)) if p]
        return parts[-1] if parts else re.split(r"[/\\]", root)[-1]

    return name


def _last_part(match: re.Match[str]) -> str:
    name = match.group(1) or match.group(2)
    if name:
        return name
    parts = [p for p in re.split(r"[/\\]", match.group(0)) if p and not p.endswith(":")]
    return parts[-1] if parts else match.group(0)
