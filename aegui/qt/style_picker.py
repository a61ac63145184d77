# SPDX-License-Identifier: MIT
"""The style control of the Stylize operation: preset thumbnails, any image, preview."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QToolButton,
    QWidget,
)

from aegui.app.operations import STYLIZE
from aegui.app.styles import STYLE_CHOICES, style_problem

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = QSize(48, 48)
CLOSED_THUMBNAIL_SIZE = QSize(20, 20)
STYLE_NAME_CHARACTERS = 12  # width of the style box, in characters
CHOOSE_IMAGE = -1  # item data of the "Choose image…" entry
# File dialog filter for style images and photos to preview.
IMAGE_FILTER = (
    f"Images ({' '.join(f'*{suffix}' for suffix in sorted(STYLIZE.input_suffixes))})"
    ";;All files (*)"
)


def thumbnail(path: Path) -> QIcon:
    """Return a small icon of the image at ``path`` (an empty icon if unreadable)."""
    pixmap = QPixmap(str(path))
    if pixmap.isNull():
        return QIcon()
    return QIcon(
        pixmap.scaled(
            THUMBNAIL_SIZE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    )


class StylePicker(QWidget):
    """A combo box of style thumbnails with "Choose image…", and a Preview button.

    Its value is an index into ``STYLE_CHOICES``, so it fits the integer job
    options like a spin box does.
    """

    valueChanged = Signal(int)  # noqa: N815 - named like QSpinBox.valueChanged
    preview_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        # The closed box shows a small thumbnail, so the options row keeps its
        # height when Stylize is chosen. The open list shows larger ones.
        self.combo.setIconSize(CLOSED_THUMBNAIL_SIZE)
        self.combo.view().setIconSize(THUMBNAIL_SIZE)
        # Long file names are elided, so a chosen image cannot widen the window.
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(STYLE_NAME_CHARACTERS)
        self.combo.setObjectName("style_combo")
        for index in range(len(STYLE_CHOICES)):
            self._add_item(index)
        self.combo.addItem("Choose image…", CHOOSE_IMAGE)
        self.preview_button = QToolButton(self)
        self.preview_button.setText("Preview")
        self.preview_button.setToolTip(
            "Stylize a 512-pixel copy of the selected photo with these options"
        )
        layout.addWidget(self.combo)
        layout.addWidget(self.preview_button)

        # Shows why a chosen image cannot be a style; tests replace it.
        self.warn: Callable[[str], None] = self._show_warning
        self._value = 0
        self.combo.setCurrentIndex(0)
        self.combo.currentIndexChanged.connect(self._on_index_changed)
        self.preview_button.clicked.connect(self.preview_requested)

    def value(self) -> int:
        """Return the chosen style's index in ``STYLE_CHOICES``."""
        return self._value

    def setValue(self, index: int) -> None:  # noqa: N802 - named like QSpinBox.setValue
        """Choose the style ``index``; unknown indices are ignored."""
        row = self.combo.findData(index)
        if index == CHOOSE_IMAGE or row < 0:
            return
        self.combo.setCurrentIndex(row)

    def add_image(self, path: Path, report: bool = True) -> int | None:
        """Add an image file as a style, choose it and return its index.

        An image the stylizer cannot use is not added: the previous style
        stays chosen and None is returned. With ``report`` the reason goes to
        ``warn``, else only to the log.
        """
        # Reading the style took 0.14 s for a 3000x2000 JPEG and 0.6 s for
        # 6000x4000 on two cores, short enough for the window to wait.
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            problem = style_problem(path)
        finally:
            QApplication.restoreOverrideCursor()
        if problem is not None:
            self.setValue(self._value)
            if report:
                self.warn(problem)
            else:
                logger.info("Style image not used: %s", problem)
            return None
        index = STYLE_CHOICES.add_file(path)
        if self.combo.findData(index) < 0:
            self._add_item(index, row=self.combo.count() - 1)
        self.setValue(index)
        return index

    def choose_image(self) -> None:
        """Ask for a style image with a file dialog and choose it."""
        start = Path.home()
        if self._value >= STYLE_CHOICES.preset_count:
            start = STYLE_CHOICES.path(self._value).parent
        name, _ = QFileDialog.getOpenFileName(
            self, "Choose a style image", str(start), IMAGE_FILTER
        )
        if name:
            self.add_image(Path(name))
        else:
            self.setValue(self._value)

    def _show_warning(self, message: str) -> None:
        QMessageBox.warning(self, "Invalid style image", message)

    def _add_item(self, index: int, row: int | None = None) -> None:
        path = STYLE_CHOICES.path(index)
        label = STYLE_CHOICES.label(index)
        if row is None:
            self.combo.addItem(thumbnail(path), label, index)
        else:
            self.combo.insertItem(row, thumbnail(path), label, index)
        self.combo.setItemData(
            self.combo.findData(index),
            STYLE_CHOICES.description(index),
            Qt.ItemDataRole.ToolTipRole,
        )

    def _on_index_changed(self, row: int) -> None:
        data = self.combo.itemData(row)
        if data == CHOOSE_IMAGE:
            self.choose_image()
            return
        if data != self._value:
            self._value = int(data)
            self.valueChanged.emit(self._value)
