"""Rendering: one Jinja environment; HTML, Markdown and PDF outputs."""

from __future__ import annotations

from pathlib import Path

import jinja2

from generator import formatting

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def make_env(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """The one Jinja environment: autoescape on, undefined variables are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(["html", "xml", "htm"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = formatting.fmt
    env.filters["fmt_date"] = formatting.fmt_date
    env.filters["long_date"] = formatting.fmt_long_date
    env.filters["source_line"] = formatting.source_line
    return env
