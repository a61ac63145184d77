# SPDX-License-Identifier: MIT
"""Quick stylize previews in the viewer, before the full-size run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QWidget

from aegui.app.operations import PRESERVE_COLOR, STYLE, STYLE_STRENGTH
from aegui.app.styles import STYLE_CHOICES, StylePreviewer, StylePreviewRequest
from aegui.qt.compare_view import ComparePanel, array_to_image
from aegui.qt.options_bar import OptionsBar
from aegui.qt.style_picker import IMAGE_FILTER

logger = logging.getLogger(__name__)

# Option changes within this many milliseconds make one preview request.
REFRESH_DELAY_MS = 150


class StylePreviewController(QObject):
    """Show a reduced copy of a photo and its stylized version in the viewer.

    ``Preview`` on the style picker previews ``current_source()`` (the
    selected job's photo), or opens a file dialog for a photo when no job is selected. While a
    preview is shown, changing the style, strength or color option requests
    a new one, and the latest request wins. ``stop`` forgets the previewed
    photo, for example when the user selects a job to compare.
    """

    def __init__(
        self,
        options: OptionsBar,
        compare: ComparePanel,
        current_source: Callable[[], Path | None],
        dialog_folder: Callable[[], Path],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.options = options
        self.compare = compare
        self.current_source = current_source
        self.dialog_folder = dialog_folder
        self.previewer = StylePreviewer(self)
        self.source: Path | None = None
        self._style_label = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.previewer.ready.connect(self._on_ready)
        self.previewer.failed.connect(self._on_failed)
        if options.style_picker is not None:
            options.style_picker.preview_requested.connect(self.preview)
        options.option_changed.connect(self._on_option_changed)

    def preview(self, source: Path | None = None) -> None:
        """Preview ``source``, else the selected photo, else one chosen in a dialog."""
        source = source or self.current_source()
        if source is None:
            name, _ = QFileDialog.getOpenFileName(
                self.compare,
                "Choose a photo to preview",
                str(self.dialog_folder()),
                IMAGE_FILTER,
            )
            if not name:
                return
            source = Path(name)
        self.source = source
        self.refresh()

    def refresh(self) -> None:
        """Request a preview of the current photo with the current options."""
        if self.source is None:
            return
        values = self.options.option_values()
        request = StylePreviewRequest(
            source=self.source,
            style=STYLE_CHOICES.path(values.get(STYLE.key, STYLE.default)),
            strength=values.get(STYLE_STRENGTH.key, STYLE_STRENGTH.default) / 100,
            preserve_color=bool(values.get(PRESERVE_COLOR.key, 0)),
        )
        self._style_label = STYLE_CHOICES.label(values.get(STYLE.key, STYLE.default))
        self.previewer.request(request)
        self.compare.show_message(
            f"{self.source.name} · Stylize preview", "Stylizing a 512-pixel copy…"
        )

    def stop(self) -> None:
        """Cancel the pending preview and forget the previewed photo."""
        self._timer.stop()
        self.previewer.cancel()
        self.source = None

    def shutdown(self, timeout_ms: int) -> bool:
        """Stop previews and wait for the preview thread; True if it stopped."""
        self.stop()
        return self.previewer.shutdown(timeout_ms)

    def _on_option_changed(self, key: str, value: int) -> None:
        if self.source is not None and key in (
            STYLE.key,
            STYLE_STRENGTH.key,
            PRESERVE_COLOR.key,
        ):
            self._timer.start()

    def _on_ready(self, token: int, before: np.ndarray, after: np.ndarray) -> None:
        if self.source is None:
            return
        self.compare.show_pair(
            f"{self.source.name} · Stylize preview",
            array_to_image(before),
            array_to_image(after),
            f"Original ({before.shape[1]}x{before.shape[0]})",
            f"{self._style_label} preview",
        )

    def _on_failed(self, token: int, reason: str) -> None:
        if self.source is not None:
            self.compare.show_message(
                f"{self.source.name} · Stylize preview", f"Preview failed: {reason}"
            )
