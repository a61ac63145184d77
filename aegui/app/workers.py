# SPDX-License-Identifier: MIT
"""Runnables that call the models on QThreadPool threads.

Every runnable reports through a ``WorkerSignals`` object that lives on the
GUI thread, so its signals reach GUI-thread slots as queued calls. Torch and
the model code are imported inside ``run``, never at module level.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Signal

from aegui.core.container import AEZ_SUFFIX
from aegui.core.errors import OutputExistsError
from aegui.core.memory import release_freed_memory
from aegui.core.tasks import describe_error

if TYPE_CHECKING:
    from aegui.app.operations import JobRequest, Runner

logger = logging.getLogger(__name__)

# Progress signals are sent at most this often (seconds), or when the fraction
# moved by PROGRESS_STEP, so a fast job cannot flood the GUI event queue.
PROGRESS_INTERVAL = 0.05
PROGRESS_STEP = 0.02


class WorkerSignals(QObject):
    """Signals shared by all runnables of one owner; the int is a job id."""

    progress = Signal(int, float)
    finished = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    model_ready = Signal(str, str, int)
    model_failed = Signal(str)
    preview_loaded = Signal(int, object, object)
    preview_failed = Signal(int, str)


class JobRunnable(QRunnable):
    """Run one job's operation and report progress, the result or the error."""

    def __init__(
        self,
        job_id: int,
        request: JobRequest,
        runner: Runner,
        signals: WorkerSignals,
        cancel_event: threading.Event,
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.request = request
        self.runner = runner
        self.signals = signals
        self.cancel_event = cancel_event
        self._last_fraction = -1.0
        self._last_time = 0.0

    def run(self) -> None:
        """Run the job; called on a pool thread."""
        logger.debug("Job %d started on a worker: %s", self.job_id, self.request.source)
        if self.cancel_event.is_set():
            self.signals.cancelled.emit(self.job_id)
            return
        try:
            result = self.runner(self.request, self._report, self.cancel_event.is_set)
        except InterruptedError:
            logger.debug("Job %d stopped after a cancel request", self.job_id)
            self.signals.cancelled.emit(self.job_id)
        except OutputExistsError:
            # The window settles existing outputs when jobs are added, so this
            # file appeared later. The core's message names --force, which the
            # window does not have.
            output = self.request.output
            self.signals.failed.emit(
                self.job_id,
                f"{output.name} already exists in {output.parent} (it appeared "
                "after the job was queued) and was kept; add the file again to "
                "choose overwrite, skip or a numbered name",
            )
        except Exception as error:  # noqa: BLE001 - a failed file must not stop the batch
            logger.debug("Job %d failed", self.job_id, exc_info=True)
            self.signals.failed.emit(self.job_id, describe_error(error))
        else:
            self.signals.finished.emit(self.job_id, result)
        finally:
            # The window stays open between batches, so the memory the job's
            # tensors used goes back to the system instead of staying kept.
            release_freed_memory()

    def _report(self, fraction: float) -> None:
        now = time.monotonic()
        moved = fraction - self._last_fraction >= PROGRESS_STEP
        if moved or now - self._last_time >= PROGRESS_INTERVAL or fraction >= 1.0:
            self._last_fraction = fraction
            self._last_time = now
            self.signals.progress.emit(self.job_id, float(fraction))


class ModelProbe(QRunnable):
    """Load the codec once and report its id, device and top quality level."""

    def __init__(self, signals: WorkerSignals) -> None:
        super().__init__()
        self.signals = signals

    def run(self) -> None:
        """Load the model; called on a pool thread."""
        from aegui.core.zoo import load_codec

        started = time.perf_counter()
        try:
            codec = load_codec()
            device = describe_device(codec)
        except Exception as error:  # noqa: BLE001 - reported in the status bar
            logger.warning("Failed to load the codec: %s", describe_error(error))
            self.signals.model_failed.emit(describe_error(error))
            return
        logger.debug(
            "Codec %s ready on %s in %.2f s",
            codec.model_id,
            device,
            time.perf_counter() - started,
        )
        self.signals.model_ready.emit(codec.model_id, device, codec.qualities[-1])


def describe_device(codec: Any) -> str:
    """Return where ``codec`` runs, e.g. ``CPU`` or ``GPU (NVIDIA H200)``."""
    import torch

    parameter = next(codec.model.parameters(), None)
    if parameter is not None and parameter.device.type == "cuda":
        return f"GPU ({torch.cuda.get_device_name(parameter.device)})"
    if torch.cuda.is_available():
        return "CPU (a CUDA GPU is present, but the codec runs on the CPU)"
    return "CPU"


class PreviewRunnable(QRunnable):
    """Load the before and after pixels of a finished job for the viewer."""

    def __init__(
        self,
        token: int,
        before: Path,
        after: Path,
        signals: WorkerSignals,
        cancel_event: threading.Event,
    ) -> None:
        super().__init__()
        self.token = token
        self.before = before
        self.after = after
        self.signals = signals
        self.cancel_event = cancel_event

    def run(self) -> None:
        """Load both images; called on a pool thread."""
        try:
            after = load_pixels(self.after, self.cancel_event.is_set)
            if self.before == self.after:
                before = after
            else:
                before = load_pixels(self.before, self.cancel_event.is_set)
        except InterruptedError:
            return
        except Exception as error:  # noqa: BLE001 - shown in the viewer instead
            logger.debug("Preview %d failed", self.token, exc_info=True)
            self.signals.preview_failed.emit(self.token, describe_error(error))
            return
        if not self.cancel_event.is_set():
            self.signals.preview_loaded.emit(self.token, before, after)


def load_pixels(path: Path, cancelled: Any = None) -> np.ndarray:
    """Return an image or a decoded ``.aez`` as uint8 HxWx3, or HxWx4 with alpha."""
    from aegui.core.imageio import load_image

    if path.suffix.lower() == AEZ_SUFFIX:
        from aegui.core.container import unpack_image
        from aegui.core.tasks import decoded_array, read_input_bytes
        from aegui.core.zoo import load_codec

        codec = load_codec()
        parsed = unpack_image(codec, read_input_bytes(path), str(path))
        decoded = codec.decode(parsed.latents, cancelled=cancelled)
        rgb = decoded_array(decoded, parsed.header.mode)
        alpha = parsed.alpha
    else:
        # The job that made this preview has already logged the file's warnings.
        image = load_image(path, log_warnings=False)
        rgb, alpha = image.rgb, image.alpha
    if alpha is not None:
        return np.ascontiguousarray(np.dstack([rgb, alpha]))
    return np.ascontiguousarray(rgb)
