# SPDX-License-Identifier: MIT
"""Progress callbacks for jobs made of several steps."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float], None]


def part_progress(
    progress: Progress | None, start: float, end: float
) -> Progress | None:
    """Map a step's 0..1 progress onto ``start..end`` of the whole job."""
    if progress is None:
        return None
    return lambda fraction: progress(start + (end - start) * fraction)
