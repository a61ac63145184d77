# SPDX-License-Identifier: MIT
"""The job queue: jobs in order, one at a time on a worker thread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal

from aegui.app.jobs import (
    ConflictChoice,
    Job,
    JobStatus,
    Resolution,
    expand_inputs,
    numbered_path,
    planned_output,
)
from aegui.app.operations import STYLE, operation_for
from aegui.app.workers import JobRunnable, ModelProbe, WorkerSignals

if TYPE_CHECKING:
    from aegui.core.tasks import JobResult

logger = logging.getLogger(__name__)

ConflictResolver = Callable[[Path, Path], ConflictChoice]
"""Called with (existing output, source) when an output exists; GUI thread only."""


def _is_style_file(output: Path, options: dict[str, object]) -> bool:
    """Return whether ``output`` is the style image that ``options`` choose."""
    from aegui.app.styles import STYLE_CHOICES

    index = options.get(STYLE.key)
    if not isinstance(index, int):
        return False
    try:
        return STYLE_CHOICES.path(index).resolve() == output.resolve()
    except IndexError:
        return False


def skip_conflicts(output: Path, source: Path) -> ConflictChoice:
    """Resolve every output conflict by skipping the job (never overwrites)."""
    return ConflictChoice(Resolution.SKIP)


class JobQueue(QObject):
    """Ordered jobs, run one at a time because torch already uses every core.

    All methods and slots run on the GUI thread. Workers only read a job's
    request and its cancel event, and report back through queued signals.
    ``job_added`` and ``job_changed`` carry row numbers in ``jobs``.
    """

    job_added = Signal(int)
    job_changed = Signal(int)
    jobs_removed = Signal()
    batch_progress = Signal(int, int, float)
    idle = Signal()
    model_ready = Signal(str, str, int)
    model_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = WorkerSignals(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._signals.progress.connect(self._on_progress, queued)
        self._signals.finished.connect(self._on_finished, queued)
        self._signals.failed.connect(self._on_failed, queued)
        self._signals.cancelled.connect(self._on_cancelled, queued)
        self._signals.model_ready.connect(self._on_model_ready, queued)
        self._signals.model_failed.connect(self._on_model_failed, queued)
        self.jobs: list[Job] = []
        self._rows: dict[int, int] = {}
        self._next_id = 1
        self._running: Job | None = None
        self._probing = False
        self._model_known = False
        self._batch: list[Job] = []
        self._closed = False
        self.model_id: str | None = None
        self.model_error: str | None = None

    # Adding jobs

    def add_paths(
        self,
        paths: Iterable[Path],
        preferred: str,
        option_values: Mapping[str, int],
        output_dir: Path | None,
        resolve_conflict: ConflictResolver = skip_conflicts,
    ) -> list[Job]:
        """Queue a job for every file in ``paths`` (folders are searched).

        Each file goes to ``preferred`` if that operation accepts it, else to
        the first operation that does. Each job takes the values of its own
        options from ``option_values``. Outputs that exist go through
        ``resolve_conflict``. An output that an earlier unfinished job will
        write gets a numbered name without asking: overwriting it would lose
        that job's result, and skipping would lose this one's.
        """
        if self._closed:
            raise RuntimeError("The job queue is shut down; create a new one")
        expanded = expand_inputs(paths, output_dir)
        pairs = expanded.pairs
        for error in expanded.errors:
            logger.warning("Not added: %s", error)
        for note in expanded.notes:
            logger.info("Not added: %s", note)
        if expanded.left_out:
            logger.info("Left out %d file(s) inside output folders", expanded.left_out)

        reserved = {job.output for job in self.jobs if not job.status.is_final}
        inputs = {source.resolve() for source, _ in pairs}
        inputs.update(
            job.source.resolve() for job in self.jobs if not job.status.is_final
        )
        remembered: Resolution | None = None
        added: list[Job] = []
        # Files added after a batch ended start a new one. Checked once, so a
        # job skipped at once still counts in the batch it was added with.
        if self._running is None and all(j.status.is_final for j in self._batch):
            self._batch = []
        for source, base in pairs:
            operation = operation_for(source, preferred)
            options = {
                spec.key: spec.clamp(option_values.get(spec.key, spec.default))
                for spec in operation.options
            }
            job = Job(
                id=self._next_id,
                source=source,
                output=planned_output(source, base, operation, output_dir),
                operation=operation,
                options=options,
            )
            self._next_id += 1
            if job.output.resolve() in inputs or _is_style_file(job.output, options):
                # Never let a job replace its own input, another queued one or
                # the painting it takes its style from.
                job.output = numbered_path(job.output, reserved)
            elif job.output in reserved:
                planned = job.output
                job.output = numbered_path(planned, reserved)
                logger.info(
                    "%s goes to %s: another job in the queue writes %s",
                    source.name, job.output.name, planned.name,
                )  # fmt: skip
            elif job.output.exists():
                resolution = remembered
                if resolution is None:
                    choice = resolve_conflict(job.output, source)
                    resolution = choice.resolution
                    if choice.apply_to_all:
                        remembered = resolution
                self._apply_resolution(job, resolution, reserved)
            reserved.add(job.output)
            added.append(job)
            self._append(job)

        if added:
            counts: dict[str, int] = {}
            for job in added:
                counts[job.operation.label] = counts.get(job.operation.label, 0) + 1
            summary = ", ".join(f"{count} {label}" for label, count in counts.items())
            logger.info("Added %d job(s): %s", len(added), summary)
        self._emit_batch_progress()
        self._start_next()
        self._check_idle()
        return added

    def _apply_resolution(
        self, job: Job, resolution: Resolution, reserved: set[Path]
    ) -> None:
        if resolution is Resolution.OVERWRITE:
            job.overwrite = True
            logger.info("%s will be overwritten", job.output)
        elif resolution is Resolution.RENAME:
            job.output = numbered_path(job.output, reserved)
        else:
            job.status = JobStatus.SKIPPED
            job.error = f"{job.output} already exists"
            logger.info("Skipped %s: %s already exists", job.source.name, job.output)

    def _append(self, job: Job) -> None:
        self._batch.append(job)
        self._rows[job.id] = len(self.jobs)
        self.jobs.append(job)
        self.job_added.emit(len(self.jobs) - 1)

    # Looking up, cancelling, clearing

    def job(self, job_id: int) -> Job | None:
        """Return the job with ``job_id``, or None if it was cleared."""
        row = self._rows.get(job_id)
        return None if row is None else self.jobs[row]

    def row_of(self, job_id: int) -> int | None:
        """Return the row of ``job_id`` in ``jobs``."""
        return self._rows.get(job_id)

    @property
    def is_busy(self) -> bool:
        """True while a job runs or waits to run."""
        return self._running is not None or any(
            job.status is JobStatus.QUEUED for job in self.jobs
        )

    @property
    def active_workers(self) -> int:
        """Number of pool threads running a job or the model probe right now."""
        return self._pool.activeThreadCount()

    def cancel(self, job_ids: Iterable[int]) -> None:
        """Cancel jobs: queued ones at once, a running one at its next check."""
        changed = False
        for job_id in job_ids:
            job = self.job(job_id)
            if job is None or job.status.is_final or job.cancel_event.is_set():
                continue
            job.cancel_event.set()
            changed = True
            if job.status is JobStatus.QUEUED:
                job.status = JobStatus.CANCELLED
                logger.info("Cancelled %s", job.source.name)
            else:
                logger.debug("Cancel requested for running job %d", job.id)
            self.job_changed.emit(self._rows[job.id])
        if changed:
            self._emit_batch_progress()
            self._check_idle()

    def cancel_all(self) -> None:
        """Cancel every job that has not finished."""
        self.cancel([job.id for job in self.jobs if not job.status.is_final])

    def clear_finished(self) -> None:
        """Remove the rows of finished, failed, cancelled and skipped jobs."""
        unfinished = [job for job in self.jobs if not job.status.is_final]
        if len(unfinished) == len(self.jobs):
            return
        self.jobs = unfinished
        self._rows = {job.id: row for row, job in enumerate(unfinished)}
        self._batch = [job for job in self._batch if not job.status.is_final]
        self.jobs_removed.emit()
        self._emit_batch_progress()

    # Running

    def load_model(self) -> None:
        """Load the codec on the worker thread; ``model_ready`` or ``model_failed`` follows."""
        if self._probing or self._model_known or self._closed:
            return
        self._probing = True
        self._pool.start(ModelProbe(self._signals))

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and wait for the worker; True if it stopped in time.

        Afterwards the queue starts no job and rejects new paths.
        """
        self.cancel_all()
        self._closed = True
        stopped = self._pool.waitForDone(timeout_ms)
        if stopped:
            logger.debug("Job queue stopped")
        else:
            logger.warning("Worker still running after %d ms at shutdown", timeout_ms)
        return stopped

    def _start_next(self) -> None:
        if self._closed or self._running is not None or self._probing:
            return
        job = next((j for j in self.jobs if j.status is JobStatus.QUEUED), None)
        if job is None:
            return
        job.status = JobStatus.RUNNING
        self._running = job
        logger.debug("Job %d queued on the worker: %s", job.id, job.description)
        self._pool.start(
            JobRunnable(
                job.id,
                job.request(),
                job.operation.run,
                self._signals,
                job.cancel_event,
            )
        )
        self.job_changed.emit(self._rows[job.id])

    def _finish(self, job_id: int, status: JobStatus) -> None:
        if self._running is not None and self._running.id == job_id:
            self._running = None
        job = self.job(job_id)
        if job is not None:
            job.status = status
            self.job_changed.emit(self._rows[job.id])
        self._emit_batch_progress()
        self._start_next()
        self._check_idle()

    def _on_progress(self, job_id: int, fraction: float) -> None:
        job = self.job(job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return
        job.progress = fraction
        self.job_changed.emit(self._rows[job.id])
        self._emit_batch_progress()

    def _on_finished(self, job_id: int, result: JobResult) -> None:
        job = self.job(job_id)
        if job is not None:
            job.result = result
            job.progress = 1.0
            # The result's warnings were logged on the worker thread as they
            # arose, so they already appear once in the log pane.
            logger.info("Done: %s -> %s", job.source.name, describe_result(result))
        self._finish(job_id, JobStatus.DONE)

    def _on_failed(self, job_id: int, reason: str) -> None:
        job = self.job(job_id)
        if job is not None:
            job.error = reason
            if str(job.source) in reason:
                logger.warning("Failed: %s", reason)
            else:
                logger.warning("Failed: %s: %s", job.source.name, reason)
        self._finish(job_id, JobStatus.FAILED)

    def _on_cancelled(self, job_id: int) -> None:
        job = self.job(job_id)
        if job is not None:
            logger.info("Cancelled %s", job.source.name)
        self._finish(job_id, JobStatus.CANCELLED)

    def _on_model_ready(self, model_id: str, device: str, top_quality: int) -> None:
        self._probing = False
        self._model_known = True
        self.model_id = model_id
        self.model_error = None
        logger.info("Codec %s loaded, running on %s", model_id, device)
        self.model_ready.emit(model_id, device, top_quality)
        self._start_next()

    def _on_model_failed(self, reason: str) -> None:
        self._probing = False
        self.model_error = reason
        self.model_failed.emit(reason)
        self._start_next()

    def batch_counts(self) -> dict[JobStatus, int]:
        """Return how many jobs of the current batch are in each status."""
        counts = dict.fromkeys(JobStatus, 0)
        for job in self._batch:
            counts[job.status] += 1
        return counts

    def _emit_batch_progress(self) -> None:
        total = len(self._batch)
        finished = sum(1 for job in self._batch if job.status.is_final)
        running = sum(
            job.progress for job in self._batch if job.status is JobStatus.RUNNING
        )
        fraction = (finished + running) / total if total else 0.0
        self.batch_progress.emit(finished, total, fraction)

    def _check_idle(self) -> None:
        if not self.is_busy:
            self.idle.emit()


def describe_result(result: JobResult) -> str:
    """Return a one-line summary of a finished job for the log."""
    parts = [result.output.name, f"{result.output_bytes:,} bytes"]
    if result.bpp is not None:
        parts.append(f"{result.bpp:.3f} bpp")
    if result.psnr is not None:
        parts.append(f"PSNR {result.psnr:.2f} dB")
    parts.append(f"{result.seconds:.2f} s")
    return ", ".join(parts)
