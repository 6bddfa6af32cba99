"""The output formats a build can write: the one registry of their names and files.

Each format's name maps to the keys of :data:`FILES` it writes, in the order a build writes them.
The CLI's ``--formats`` (its default, its help and its check), the build, the site, the email
and the renderers (``generator.render.WRITERS``, one writer per name here, checked when that
module loads) all read it.  It imports nothing, so the CLI reads
it without loading the models or the renderers.
"""

from __future__ import annotations

FORMATS: dict[str, tuple[str, ...]] = {"html": ("html", "fragment"), "md": ("md",), "pdf": ("pdf",)}
# The files of an issue folder by key: the formats' and the email's, which every build writes
FILES = {
    "html": "brief.html",
    "md": "brief.md",
    "pdf": "brief.pdf",
    "fragment": "fragment.html",
    "email_html": "email.html",
    "email_txt": "email.txt",
}
DEFAULT_FORMATS = ",".join(FORMATS)  # the CLI's default: every format
FORMAT_NAMES = ", ".join(FORMATS)  # as the CLI's help and errors list them
