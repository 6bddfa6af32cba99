"""The project's exceptions.

Domain code raises these; only :mod:`generator.cli` turns them into a one-line
message and an exit code.  Each subclass says who raises it.
"""

from __future__ import annotations


class BriefError(Exception):
    """Base class for every error the project raises on purpose."""

    exit_code = 1


class ConfigError(BriefError):
    """Raised by :func:`generator.config.load_config` when feeds.yaml is invalid.

    ``problems`` holds every problem found, each already naming its key path
    and line, so the user can fix them all in one pass.
    """

    exit_code = 2

    def __init__(self, path: str, problems: list[str] | tuple[str, ...]) -> None:
        self.path = path
        self.problems = tuple(problems)
        first = self.problems[0] if self.problems else "invalid configuration"
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{path}: {first}{more}")


class SourceError(BriefError):
    """Raised by ``generator.sources`` when a snapshot, a symbol or a feed cannot be read.

    ``source`` names the file, symbol or feed at fault.
    """

    exit_code = 3

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message  # the plain words, without the source prefix
        super().__init__(f"{source}: {message}")


class DataUnavailableError(SourceError):
    """Raised when required data cannot be had fresh (``--data live``) or at all."""


class RenderError(BriefError):
    """Raised by :mod:`generator.render` and :mod:`generator.charts` when an output cannot be produced."""

    exit_code = 4


class PublishError(BriefError):
    """Raised by ``generator.publish.site`` when the site cannot be built or a brief may not be published,
    and by ``generator.build`` when a stale or sample build would replace a good issue."""

    exit_code = 5


class DeliveryError(BriefError):
    """Raised by ``generator.publish.email`` when a message cannot be built or sent."""

    exit_code = 6
