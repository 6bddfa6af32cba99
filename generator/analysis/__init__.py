"""The analysis stage: pure functions from a Snapshot to a Brief.

``analyse`` is the entry point; ``reporting_week`` says which Monday..Friday a date belongs to.
Nothing :func:`analyse` calls touches the network, the clock, the environment or the file system.
"""

from __future__ import annotations

from generator.analysis.brief import analyse
from generator.analysis.common import reporting_week

__all__ = ["analyse", "reporting_week"]
