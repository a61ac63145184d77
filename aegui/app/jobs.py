# SPDX-License-Identifier: MIT
"""Jobs as plain data, and the rules for choosing their output paths."""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aegui.app.operations import JobRequest, Operation, all_input_suffixes
from aegui.core.tasks import collect_inputs, output_path

if TYPE_CHECKING:
    from aegui.core.tasks import JobResult

OUTPUT_SUBFOLDER = "aegui-out"


class JobStatus(enum.Enum):
    """Lifecycle state of a job; the last four states are final."""

    QUEUED = "Queued"
    RUNNING = "Running"
    DONE = "Done"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    SKIPPED = "Skipped"

    @property
    def is_final(self) -> bool:
        """True once the job will not change any more."""
        return self not in (JobStatus.QUEUED, JobStatus.RUNNING)


class Resolution(enum.Enum):
    """Action taken when a job's output file already exists."""

    OVERWRITE = "overwrite"
    SKIP = "skip"
    RENAME = "rename"


@dataclass(frozen=True)
class ConflictChoice:
    """Resolution of an output conflict, optionally for the rest of the batch."""

    resolution: Resolution
    apply_to_all: bool = False


@dataclass
class Job:
    """One file going through one operation, as the queue and the table see it.

    Only the GUI thread changes these fields. Workers get a JobRequest copy and
    read ``cancel_event``, which is the one field shared across threads.
    """

    id: int
    source: Path
    output: Path
    operation: Operation
    options: Mapping[str, int]
    overwrite: bool = False
    status: JobStatus = JobStatus.QUEUED
    progress: float = 0.0
    result: JobResult | None = None
    error: str | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def request(self) -> JobRequest:
        """Return the immutable request a worker runs."""
        return JobRequest(
            source=self.source,
            output=self.output,
            options=dict(self.options),
            overwrite=self.overwrite,
        )

    @property
    def description(self) -> str:
        """Operation and options as shown in the table, e.g. ``Compress · q4``."""
        return self.operation.describe_options(self.options)


def planned_output(
    source: Path, base: Path, operation: Operation, output_dir: Path | None
) -> Path:
    """Return where a job writes its result.

    Without ``output_dir`` the result goes to an ``aegui-out`` folder beside
    the source. With it, the source's path below ``base`` (the dropped folder)
    is kept under ``output_dir``.
    """
    if output_dir is None:
        return (
            source.parent / OUTPUT_SUBFOLDER / (source.stem + operation.output_suffix)
        )
    return output_path(source, base, output_dir, operation.output_suffix)


def numbered_path(path: Path, taken: set[Path]) -> Path:
    """Return ``name-1.ext``, ``name-2.ext``... the first free name beside ``path``."""
    number = 1
    while True:
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        if not candidate.exists() and candidate not in taken:
            return candidate
        number += 1


@dataclass
class ExpandedInputs:
    """Files found in dropped paths, and what was not taken."""

    pairs: list[tuple[Path, Path]]  # (file, base folder)
    errors: list[str]  # one per missing path or folder without images
    notes: list[str]  # one per folder whose files of other types were skipped
    left_out: int  # files inside output folders


def expand_inputs(paths: Iterable[Path], output_dir: Path | None) -> ExpandedInputs:
    """Expand dropped files and folders into (file, base folder) pairs.

    Folders are searched recursively for files any operation accepts, but
    files inside ``aegui-out`` folders or inside ``output_dir`` are left out,
    so dropping a folder twice does not feed earlier results back in. Files
    named directly are always kept.
    """
    paths = [Path(path) for path in paths]
    pairs, errors, notes = collect_inputs(paths, all_input_suffixes())
    named = {path.resolve() for path in paths if not path.is_dir()}
    resolved_output = output_dir.resolve() if output_dir is not None else None
    kept: list[tuple[Path, Path]] = []
    left_out = 0
    for source, base in pairs:
        resolved = source.resolve()
        if resolved in named:
            kept.append((source, base))
        elif _is_earlier_output(source, base, resolved, resolved_output):
            left_out += 1
        else:
            kept.append((source, base))
    return ExpandedInputs(kept, errors, notes, left_out)


def _is_earlier_output(
    source: Path, base: Path, resolved: Path, output_dir: Path | None
) -> bool:
    try:
        relative_parts = source.relative_to(base).parts[:-1]
    except ValueError:
        relative_parts = ()
    if OUTPUT_SUBFOLDER in relative_parts:
        return True
    return output_dir is not None and output_dir in resolved.parents
