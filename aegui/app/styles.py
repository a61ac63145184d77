# SPDX-License-Identifier: MIT
"""Style choices for the window and the quick stylize preview.

Job options are integers, so a style is stored in them as an index into
``STYLE_CHOICES``: the presets first, then every image the user chose, in
the order chosen. Indices never change while the program runs, so a queued
job keeps its style when the user picks another one.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

from aegui.core.styles import StyleError, load_style, preset_paths, preset_title
from aegui.core.tasks import PREVIEW_SIDE, describe_error

logger = logging.getLogger(__name__)


class StyleChoices:
    """Style images addressed by a stable index: presets, then user-chosen files."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: list[Path] = list(preset_paths().values())
        self.preset_count = len(self._paths)

    def __len__(self) -> int:
        with self._lock:
            return len(self._paths)

    def add_file(self, path: Path) -> int:
        """Return the index of ``path``, adding it after the known styles if new."""
        path = Path(path)
        with self._lock:
            if path in self._paths:
                return self._paths.index(path)
            self._paths.append(path)
            return len(self._paths) - 1

    def path(self, index: int) -> Path:
        """Return the image file of style ``index``, or raise IndexError for an unknown one."""
        with self._lock:
            if not 0 <= index < len(self._paths):
                raise IndexError(
                    f"Invalid style index {index}: {len(self._paths)} styles are known"
                )
            return self._paths[index]

    def presets(self) -> list[Path]:
        """Return the image files of the preset styles."""
        with self._lock:
            return self._paths[: self.preset_count]

    def label(self, index: int) -> str:
        """Return the name shown for style ``index``: a short title or the file name."""
        path = self.path(index)
        return preset_title(path.stem)[0] if index < self.preset_count else path.name

    def description(self, index: int) -> str:
        """Return a tooltip for style ``index``: the painting and preset, or the path."""
        path = self.path(index)
        if index >= self.preset_count:
            return str(path)
        return f"{preset_title(path.stem)[1]} (preset {path.stem})"


STYLE_CHOICES = StyleChoices()


def style_problem(path: Path) -> str | None:
    """Return why the image at ``path`` cannot be a style, or None if it can.

    The image's conversion warnings are left to the jobs that use it.
    """
    try:
        load_style(path, log_warnings=False)
    except StyleError as error:
        return str(error)
    return None


@dataclass(frozen=True)
class StylePreviewRequest:
    """One preview to compute: a photo, its style and the stylize options."""

    source: Path
    style: Path
    strength: float
    preserve_color: bool
    side: int = PREVIEW_SIDE


class _PreviewSignals(QObject):
    ready = Signal(int, object, object)
    failed = Signal(int, str)


class _PreviewRunnable(QRunnable):
    def __init__(
        self,
        token: int,
        request: StylePreviewRequest,
        signals: _PreviewSignals,
        cancel_event: threading.Event,
    ) -> None:
        super().__init__()
        self.token = token
        self.request = request
        self.signals = signals
        self.cancel_event = cancel_event

    def run(self) -> None:
        from aegui.core.tasks import stylize_preview

        if self.cancel_event.is_set():
            return
        request = self.request
        try:
            before, after = stylize_preview(
                request.source,
                style=request.style,
                strength=request.strength,
                preserve_color=request.preserve_color,
                side=request.side,
                cancelled=self.cancel_event.is_set,
            )
        except InterruptedError:
            logger.debug("Style preview %d cancelled", self.token)
            return
        except Exception as error:  # noqa: BLE001 - shown in the viewer instead
            logger.debug("Style preview %d failed", self.token, exc_info=True)
            self.signals.failed.emit(self.token, describe_error(error))
            return
        if not self.cancel_event.is_set():
            self.signals.ready.emit(self.token, before, after)


class StylePreviewer(QObject):
    """Compute quick stylize previews on a thread of their own, the latest request winning.

    A new request cancels the one before it (between tiles at the latest),
    and results of older requests are never emitted. ``ready`` carries the
    request's token and the reduced photo and its stylized version.
    """

    ready = Signal(int, object, object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _PreviewSignals(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._signals.ready.connect(self._on_ready, queued)
        self._signals.failed.connect(self._on_failed, queued)
        self._tokens = itertools.count(1)
        self._current: int | None = None
        self._cancel_event = threading.Event()

    @property
    def current_token(self) -> int | None:
        """Token of the request whose result will be emitted, or None."""
        return self._current

    def request(self, request: StylePreviewRequest) -> int:
        """Start a preview and return its token. The pending preview is cancelled."""
        self.cancel()
        token = next(self._tokens)
        self._current = token
        self._cancel_event = threading.Event()
        logger.debug("Style preview %d requested: %s", token, request)
        self._pool.start(
            _PreviewRunnable(token, request, self._signals, self._cancel_event)
        )
        return token

    def cancel(self) -> None:
        """Cancel the pending preview, if any."""
        self._cancel_event.set()
        self._current = None

    def shutdown(self, timeout_ms: int) -> bool:
        """Cancel the pending preview and wait for the thread; True if it stopped."""
        self.cancel()
        return self._pool.waitForDone(timeout_ms)

    def _on_ready(self, token: int, before: np.ndarray, after: np.ndarray) -> None:
        if token == self._current:
            self._current = None
            self.ready.emit(token, before, after)
        else:
            logger.debug("Dropped the result of superseded style preview %d", token)

    def _on_failed(self, token: int, reason: str) -> None:
        if token == self._current:
            self._current = None
            logger.warning("Style preview failed: %s", reason)
            self.failed.emit(token, reason)
