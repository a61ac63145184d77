# SPDX-License-Identifier: MIT
"""The drop target for photos, ``.aez`` files and folders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QMouseEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

# Qt's QWIDGETSIZE_MAX: as a maximum height it means no limit.
QWIDGETSIZE_MAX = (1 << 24) - 1

EMPTY_TEXT = "Drop photos, .aez files or folders here"
HINT_TEXT = "or click to choose files (Ctrl+O), or a folder (Ctrl+Shift+O)"
COMPACT_TEXT = "Drop or click to add more files"
FULL_HEIGHT = 150
# Below this width the icon and the hint are left out, so the title's wrapped
# lines still fit in FULL_HEIGHT.
NARROW_WIDTH = 300


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
    Once the queue has jobs, ``set_compact`` shrinks it to a short bar, which
    leaves the room to the job table.
    """

    paths_dropped = Signal(list)
    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFrameShape(QFrame.Shape.StyledPanel)

        self.icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_LargeIconSize) * 2
        self.icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon).pixmap(size)
        )
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(EMPTY_TEXT, self)
        self.title.setObjectName("dropZoneTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.hint = QLabel(HINT_TEXT, self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.icon)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self.set_highlight(False)
        self._compact = False
        self.set_compact(False)

    def set_compact(self, compact: bool) -> None:
        """Show a short bar of text (``compact``) or the icon, the title and the hint.

        The bar is as high as its text, which wraps to two lines where the
        window is too narrow for one.
        """
        self._compact = compact
        self.title.setText(COMPACT_TEXT if compact else EMPTY_TEXT)
        self.title.setFont(self._title_font())
        self._show_details()
        if compact:
            margin = (
                self.style().pixelMetric(QStyle.PixelMetric.PM_LayoutTopMargin) // 2
            )
            self.layout().setContentsMargins(margin, margin, margin, margin)
            self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            self.setMaximumHeight(QWIDGETSIZE_MAX)
        else:
            self.layout().setContentsMargins(-1, -1, -1, -1)
            self.setSizePolicy(
                QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred
            )
            self.setMaximumHeight(FULL_HEIGHT)

    def _title_font(self) -> QFont:
        """Return the widget's font, larger and bold unless the zone is compact."""
        font = QFont(self.font())
        if not self._compact:
            font.setPointSizeF(font.pointSizeF() * 1.25)
            font.setBold(True)
        return font

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.title.setFont(self._title_font())

    def is_compact(self) -> bool:
        """Return whether the zone shows the short bar."""
        return self._compact

    def _show_details(self) -> None:
        details = not self._compact and self.width() >= NARROW_WIDTH
        self.icon.setVisible(details)
        self.hint.setVisible(details)
        self.setToolTip("" if details else HINT_TEXT)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._show_details()

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
