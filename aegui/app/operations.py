# SPDX-License-Identifier: MIT
"""The operations a job can run, described as data so the window can list them.

A new operation (denoise, stylize) is one more ``Operation`` in ``OPERATIONS``,
with its input suffixes, output suffix, integer options and a ``run`` function
that calls ``aegui.core``. The window builds its chooser and option controls
from this table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aegui.core.tasks import COMPRESS_SUFFIXES, DECOMPRESS_SUFFIXES

if TYPE_CHECKING:
    from aegui.core.tasks import Cancelled, JobResult, Progress


@dataclass(frozen=True)
class OptionSpec:
    """An integer option of an operation, shown as a spin box."""

    key: str
    label: str
    minimum: int
    maximum: int
    default: int
    tooltip: str = ""

    def clamp(self, value: int) -> int:
        """Return ``value`` limited to ``minimum..maximum``."""
        return max(self.minimum, min(self.maximum, value))


@dataclass(frozen=True)
class JobRequest:
    """Everything a worker needs to run one job; built on the GUI thread."""

    source: Path
    output: Path
    options: Mapping[str, int]
    overwrite: bool


Runner = Callable[[JobRequest, "Progress", "Cancelled"], "JobResult"]


@dataclass(frozen=True)
class Operation:
    """One kind of job: which files it takes, what it writes and how it runs."""

    key: str
    label: str
    input_suffixes: frozenset[str]
    output_suffix: str
    options: tuple[OptionSpec, ...]
    run: Runner
    # True when the output shows the same pixels as the input, so the viewer
    # loads the output once for both sides instead of decoding the input again.
    output_shows_input: bool = False

    def accepts(self, path: Path) -> bool:
        """Return True if ``path`` has one of this operation's input suffixes."""
        return path.suffix.lower() in self.input_suffixes

    def describe_options(self, options: Mapping[str, int]) -> str:
        """Return the label and options as table text, e.g. ``Compress · q4``."""
        parts = [self.label]
        if "quality" in options:
            parts.append(f"q{options['quality']}")
        parts.extend(
            f"{key} {value}" for key, value in options.items() if key != "quality"
        )
        return " · ".join(parts)


QUALITY = OptionSpec(
    key="quality",
    label="Quality",
    minimum=1,
    maximum=8,
    default=4,
    tooltip="1 gives the smallest files, 8 the best pictures",
)


def _run_compress(
    request: JobRequest, progress: Progress, cancelled: Cancelled
) -> JobResult:
    from aegui.core.tasks import compress_file

    return compress_file(
        request.source,
        request.output,
        request.options["quality"],
        overwrite=request.overwrite,
        progress=progress,
        cancelled=cancelled,
    )


def _run_decompress(
    request: JobRequest, progress: Progress, cancelled: Cancelled
) -> JobResult:
    from aegui.core.tasks import decompress_file

    return decompress_file(
        request.source,
        request.output,
        overwrite=request.overwrite,
        progress=progress,
        cancelled=cancelled,
    )


COMPRESS = Operation(
    key="compress",
    label="Compress",
    input_suffixes=frozenset(COMPRESS_SUFFIXES),
    output_suffix=".aez",
    options=(QUALITY,),
    run=_run_compress,
)
DECOMPRESS = Operation(
    key="decompress",
    label="Decompress",
    input_suffixes=frozenset(DECOMPRESS_SUFFIXES),
    output_suffix=".png",
    options=(),
    run=_run_decompress,
    output_shows_input=True,
)

# Order matters: for a file the chosen operation does not accept, the first
# operation here that accepts it is used, so images go to Compress and .aez
# files to Decompress.
OPERATIONS: dict[str, Operation] = {op.key: op for op in (COMPRESS, DECOMPRESS)}
DEFAULT_OPERATION = COMPRESS.key


def all_input_suffixes() -> set[str]:
    """Return every suffix some operation accepts."""
    suffixes: set[str] = set()
    for operation in OPERATIONS.values():
        suffixes |= operation.input_suffixes
    return suffixes


def operation_for(path: Path, preferred: str) -> Operation:
    """Return the operation that should process ``path``.

    That is ``preferred`` if it accepts the suffix, else the first operation
    that does. A file no operation accepts gets ``preferred`` anyway, so its
    job fails with the reader's error instead of the file vanishing silently.
    """
    chosen = OPERATIONS.get(preferred, OPERATIONS[DEFAULT_OPERATION])
    if chosen.accepts(path):
        return chosen
    for operation in OPERATIONS.values():
        if operation.accepts(path):
            return operation
    return chosen
