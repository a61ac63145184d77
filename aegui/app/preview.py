# SPDX-License-Identifier: MIT
"""Background loading of before/after pixels for the viewer, latest request wins."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QObject, Qt, QThreadPool, Signal

from aegui.app.jobs import Job, JobStatus
from aegui.app.workers import PreviewRunnable, WorkerSignals

logger = logging.getLogger(__name__)

CACHE_SIZE = 4  # previews kept in memory
CACHE_BYTES = 256 * 1024 * 1024  # cap on their pixel memory; 24 MP RGB is 72 MB a side


class PreviewLoader(QObject):
    """Load the pixels of a job's input and output on a separate thread.

    The loader has its own one-thread pool, so a preview can load while a batch
    job runs. A new request cancels the one before it, and results of older
    requests are dropped. Up to CACHE_SIZE previews stay in memory, and older
    ones are dropped while their pixels take more than CACHE_BYTES. The newest
    preview is always kept.
    """

    loaded = Signal(int, object, object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = WorkerSignals(self)
        self._signals.preview_loaded.connect(
            self._on_loaded, Qt.ConnectionType.QueuedConnection
        )
        self._signals.preview_failed.connect(
            self._on_failed, Qt.ConnectionType.QueuedConnection
        )
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._current: int | None = None
        self._cancel_event = threading.Event()

    @staticmethod
    def can_preview(job: Job) -> bool:
        """Return True if the job has an output file worth showing."""
        if job.status is JobStatus.DONE:
            return True
        return job.status is JobStatus.SKIPPED and job.output.is_file()

    def request(self, job: Job) -> None:
        """Start loading ``job``'s pixels; ``loaded`` or ``failed`` follows."""
        self.cancel()
        self._current = job.id
        if job.id in self._cache:
            self._cache.move_to_end(job.id)
            cached_before, cached_after = self._cache[job.id]
            self.loaded.emit(job.id, cached_before, cached_after)
            return
        before = job.output if job.operation.output_shows_input else job.source
        self._cancel_event = threading.Event()
        logger.debug("Preview of job %d requested", job.id)
        self._pool.start(
            PreviewRunnable(
                job.id, before, job.output, self._signals, self._cancel_event
            )
        )

    def cancel(self) -> None:
        """Drop the pending request, if any."""
        self._cancel_event.set()
        self._current = None

    @property
    def cached_job_ids(self) -> list[int]:
        """Ids of the jobs whose pixels are cached, oldest first."""
        return list(self._cache)

    def forget(self, job_id: int) -> None:
        """Remove a job's cached pixels."""
        self._cache.pop(job_id, None)

    def shutdown(self, timeout_ms: int) -> bool:
        """Cancel the pending request and wait for the thread; True if it stopped."""
        self.cancel()
        return self._pool.waitForDone(timeout_ms)

    def _on_loaded(self, job_id: int, before: np.ndarray, after: np.ndarray) -> None:
        self._cache[job_id] = (before, after)
        self._cache.move_to_end(job_id)
        while len(self._cache) > 1 and (
            len(self._cache) > CACHE_SIZE or self._cache_bytes() > CACHE_BYTES
        ):
            self._cache.popitem(last=False)
        if job_id == self._current:
            self.loaded.emit(job_id, before, after)

    def _cache_bytes(self) -> int:
        # A job whose output shows its input stores one array twice; count it once.
        arrays = {id(array): array for pair in self._cache.values() for array in pair}
        return sum(array.nbytes for array in arrays.values())

    def _on_failed(self, job_id: int, reason: str) -> None:
        logger.warning("Failed to load the preview: %s", reason)
        if job_id == self._current:
            self.failed.emit(job_id, reason)
