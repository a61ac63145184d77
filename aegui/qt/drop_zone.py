# SPDX-License-Identifier: MIT
"""The drop target for photos, ``.aez`` files and folders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QFrame, QLabel, QStyle, QVBoxLayout, QWidget

EMPTY_TEXT = "Drop photos, .aez files or folders here"
HINT_TEXT = "or click to choose files (Ctrl+O), or a folder (Ctrl+Shift+O)"


def local_paths(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[Path]:
    """Return the local file paths an event's MIME data carries."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


def accept_file_drag(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> bool:
    """Accept a drag or drop that carries local files, ignore any other; return which."""
    if local_paths(event):
        event.acceptProposedAction()
        return True
    event.ignore()
    return False


class DropZone(QFrame):
    """A framed area that takes dropped files and folders.

    It emits ``paths_dropped`` with the local paths of a drop and
    ``clicked`` when pressed, and ignores drags that carry no local file.
    """

    paths_dropped = Signal(list)
    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumHeight(96)

        icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_LargeIconSize) * 2
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon).pixmap(size)
        )
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(EMPTY_TEXT, self)
        self.title.setObjectName("dropZoneTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        hint = QLabel(HINT_TEXT, self)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        hint.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(icon)
        layout.addWidget(self.title)
        layout.addWidget(hint)
        layout.addStretch(1)
        self.set_highlight(False)

    def set_highlight(self, on: bool) -> None:
        """Draw the border in the highlight color while a drag is over the window."""
        border = "palette(highlight)" if on else "palette(mid)"
        background = "palette(alternate-base)" if on else "palette(base)"
        self.setStyleSheet(
            f"#dropZone {{ border: 2px dashed {border}; border-radius: 10px;"
            f" background: {background}; }}"
        )

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if accept_file_drag(event):
            self.set_highlight(True)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt API
        accept_file_drag(event)

    def dragLeaveEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self.set_highlight(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        self.set_highlight(False)
        if accept_file_drag(event):
            self.paths_dropped.emit(local_paths(event))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)
