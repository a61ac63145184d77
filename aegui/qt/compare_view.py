# SPDX-License-Identifier: MIT
"""Before/after viewer: one image left of a movable divider, the other right of it.

Both images share one zoom and one pan offset, so they always stay aligned.
Drag the divider to move it, drag elsewhere to pan, use the wheel to zoom
around the pointer, and double-click to switch between fit and 100%. Panning
stops at the image's edges, and a checkerboard shows through transparent pixels.
A job without a distinct original shows its result alone, without a divider.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

MIN_SCALE = 1 / 64
MAX_SCALE = 32.0
WHEEL_STEP = 1.25  # zoom factor per wheel notch
HANDLE_REACH = 8  # pixels either side of the divider that grab it
FIT_MARGIN = 12  # pixels left free around a fitted image
BACKGROUND = QColor(38, 40, 44)
CHECKER_SQUARE = 8  # side of a transparency checkerboard square, in screen pixels
CHECKER_LIGHT = QColor(204, 204, 204)
CHECKER_DARK = QColor(153, 153, 153)


def array_to_image(pixels: np.ndarray) -> QImage:
    """Return a QImage copy of uint8 HxWx3 (RGB) or HxWx4 (RGBA) pixels."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(
            f"Expected uint8 HxWx3 or HxWx4 pixels, got {pixels.dtype} {pixels.shape}"
        )
    pixels = np.ascontiguousarray(pixels)
    height, width, channels = pixels.shape
    image_format = (
        QImage.Format.Format_RGB888 if channels == 3 else QImage.Format.Format_RGBA8888
    )
    # QImage does not own the buffer, so copy before ``pixels`` can be freed.
    return QImage(pixels.data, width, height, width * channels, image_format).copy()


def limit_offset(offset: float, extent: float, room: float) -> float:
    """Return the image's start along one axis, kept within the view's limits.

    An image ``extent`` pixels long in a view ``room`` pixels long is centred
    when it fits, and otherwise covers the whole view, so ``offset`` moves
    only as far as needed to show the image's edges.
    """
    if extent <= room:
        return (room - extent) / 2
    return min(0.0, max(room - extent, offset))


def checker_brush() -> QBrush:
    """Return a brush that paints a light and dark transparency checkerboard."""
    tile = QPixmap(2 * CHECKER_SQUARE, 2 * CHECKER_SQUARE)
    tile.fill(CHECKER_LIGHT)
    painter = QPainter(tile)
    painter.fillRect(0, 0, CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_DARK)
    painter.fillRect(
        CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_DARK
    )
    painter.end()
    return QBrush(tile)


class CompareView(QWidget):
    """Paint two same-sized images split by a vertical divider, or one image alone.

    ``scale`` is screen pixels per image pixel and ``origin`` is where the
    image's top-left corner sits in widget coordinates. ``split`` is the
    divider's position as a fraction of the widget width. When only a result
    is shown, ``before`` is None and ``after`` fills the whole view.
    """

    zoom_changed = Signal(float)
    split_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 180)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.before: QPixmap | None = None
        self.after: QPixmap | None = None
        self.before_label = ""
        self.after_label = ""
        self.message = "Select a finished job to compare the original with the result"
        self.scale = 1.0
        self.origin = QPointF(0, 0)
        self.split = 0.5
        self.fit_mode = True
        self._drag: str | None = None
        self._drag_last = QPointF()
        self._checker = checker_brush()

    def sizeHint(self) -> QSize:
        return QSize(640, 480)

    # State

    def set_images(
        self, before: QImage, after: QImage, before_label: str, after_label: str
    ) -> None:
        """Show a new pair, fitted to the view, with the divider in the middle."""
        self.before = QPixmap.fromImage(before)
        self.after = QPixmap.fromImage(after)
        self.before_label = before_label
        self.after_label = after_label
        self.set_split(0.5)
        self.fit()

    def set_image(self, image: QImage, label: str) -> None:
        """Show one image without a divider, fitted to the view."""
        self.before = None
        self.after = QPixmap.fromImage(image)
        self.before_label = ""
        self.after_label = label
        self.fit()

    def clear(self, message: str) -> None:
        """Drop the images and show ``message`` instead."""
        self.before = self.after = None
        self.message = message
        self.update()

    @property
    def has_images(self) -> bool:
        """True while a pair or a single image is shown."""
        return self.after is not None

    @property
    def shows_pair(self) -> bool:
        """True while two images are shown on either side of the divider."""
        return self.before is not None and self.after is not None

    def image_size(self) -> QSize:
        """Return the size of the shown images (the ``after`` one), or 0x0."""
        return self.after.size() if self.after is not None else QSize(0, 0)

    def set_split(self, fraction: float) -> None:
        """Move the divider to ``fraction`` (0 = left edge, 1 = right edge)."""
        fraction = min(1.0, max(0.0, fraction))
        if fraction != self.split:
            self.split = fraction
            self.split_changed.emit(fraction)
        self.update()

    def split_x(self) -> float:
        """Return the divider's x position in widget coordinates."""
        return self.split * self.width()

    def fit(self) -> None:
        """Scale the images to fit the view and keep fitting them on resize."""
        self.fit_mode = True
        self._apply_fit()

    def actual_size(self) -> None:
        """Show one image pixel per screen pixel, keeping the view's center still.

        Already at 100%, it centres the image instead, so the key always
        visibly does something.
        """
        if self.scale == 1.0 and not self.fit_mode:
            size = self.image_size()
            self.origin = self._limit_origin(
                QPointF(
                    (self.width() - size.width()) / 2,
                    (self.height() - size.height()) / 2,
                ),
                1.0,
            )
            self.update()
            return
        self.zoom_to(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_to(self, scale: float, anchor: QPointF) -> None:
        """Set ``scale`` while the image point under ``anchor`` stays put.

        The point moves only where keeping it still would pan the image past
        its edges (see ``limit_offset``).
        """
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        image_point = (anchor - self.origin) / self.scale
        self.origin = self._limit_origin(anchor - image_point * scale, scale)
        self.fit_mode = False
        self._set_scale(scale)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Multiply the scale by ``factor`` around ``anchor`` (default: center)."""
        if anchor is None:
            anchor = QPointF(self.width() / 2, self.height() / 2)
        self.zoom_to(self.scale * factor, anchor)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move both images by up to (dx, dy) screen pixels, stopping at their edges."""
        origin = self._limit_origin(self.origin + QPointF(dx, dy), self.scale)
        if origin == self.origin:
            return
        self.origin = origin
        self.fit_mode = False
        self.update()

    def _limit_origin(self, origin: QPointF, scale: float) -> QPointF:
        size = self.image_size()
        return QPointF(
            limit_offset(origin.x(), size.width() * scale, self.width()),
            limit_offset(origin.y(), size.height() * scale, self.height()),
        )

    def _set_scale(self, scale: float) -> None:
        changed = scale != self.scale
        self.scale = scale
        if changed:
            self.zoom_changed.emit(scale)
        self.update()

    def _apply_fit(self) -> None:
        size = self.image_size()
        if size.isEmpty():
            return
        room_w = max(1, self.width() - 2 * FIT_MARGIN)
        room_h = max(1, self.height() - 2 * FIT_MARGIN)
        scale = min(
            MAX_SCALE,
            max(MIN_SCALE, min(room_w / size.width(), room_h / size.height())),
        )
        self.origin = QPointF(
            (self.width() - size.width() * scale) / 2,
            (self.height() - size.height() * scale) / 2,
        )
        self._set_scale(scale)

    # Events

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fit_mode:
            self._apply_fit()
        else:
            self.origin = self._limit_origin(self.origin, self.scale)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self.has_images:
            return
        notches = event.angleDelta().y() / 120
        if notches:
            self.zoom_to(self.scale * WHEEL_STEP**notches, event.position())
        event.accept()

    def _near_divider(self, x: float) -> bool:
        return self.shows_pair and abs(x - self.split_x()) <= HANDLE_REACH

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.has_images:
            super().mousePressEvent(event)
            return
        position = event.position()
        if self._near_divider(position.x()):
            self._drag = "split"
        else:
            self._drag = "pan"
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self._drag_last = position
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = event.position()
        if self._drag == "split":
            self.set_split(position.x() / max(1, self.width()))
        elif self._drag == "pan":
            delta = position - self._drag_last
            self.pan_by(delta.x(), delta.y())
        elif self.has_images:
            near = self._near_divider(position.x())
            shape = (
                Qt.CursorShape.SplitHCursor if near else Qt.CursorShape.OpenHandCursor
            )
            self.setCursor(shape)
        self._drag_last = position

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._drag is not None:
            self._drag = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.has_images and event.button() == Qt.MouseButton.LeftButton:
            if self.fit_mode:
                self.zoom_to(1.0, event.position())
            else:
                self.fit()

    # Painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self.after is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(
                self.rect().adjusted(24, 24, -24, -24),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.message,
            )
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale < 2)
        height = float(self.height())
        if self.before is None:
            self._paint_image(painter, self.after, QRectF(self.rect()))
            self._paint_label(painter, self.after_label, left=True)
            return

        split_x = self.split_x()
        self._paint_image(painter, self.before, QRectF(0, 0, split_x, height))
        self._paint_image(
            painter, self.after, QRectF(split_x, 0, self.width() - split_x, height)
        )
        self._paint_divider(painter, split_x, height)
        self._paint_label(painter, self.before_label, left=True)
        self._paint_label(painter, self.after_label, left=False)

    def _paint_image(self, painter: QPainter, pixmap: QPixmap, clip: QRectF) -> None:
        target = QRectF(self.origin, pixmap.size().toSizeF() * self.scale)
        painter.save()
        painter.setClipRect(clip)
        if pixmap.hasAlphaChannel():
            # The squares keep their screen size at any zoom and move with the image.
            painter.setBrushOrigin(self.origin)
            painter.fillRect(target, self._checker)
        painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
        painter.restore()

    def _paint_divider(self, painter: QPainter, x: float, height: float) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(0, 0, 0, 120), 4))
        painter.drawLine(QPointF(x, 0), QPointF(x, height))
        painter.setPen(QPen(QColor(255, 255, 255), 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, height))

        center = QPointF(x, height / 2)
        painter.setPen(QPen(QColor(0, 0, 0, 120), 1))
        painter.setBrush(QColor(255, 255, 255))
        painter.drawEllipse(center, 14, 14)
        arrows = QPainterPath()
        for direction in (-1, 1):
            tip = center + QPointF(9 * direction, 0)
            arrows.moveTo(tip)
            arrows.lineTo(center + QPointF(3 * direction, -5))
            arrows.lineTo(center + QPointF(3 * direction, 5))
            arrows.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(60, 60, 60))
        painter.drawPath(arrows)

    def _paint_label(self, painter: QPainter, text: str, *, left: bool) -> None:
        if not text:
            return
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 16
        height = metrics.height() + 8
        x = 10 if left else self.width() - width - 10
        box = QRectF(x, 10, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class ComparePanel(QWidget):
    """The viewer with a title, fit and 100% buttons and the zoom level."""

    def __init__(
        self,
        fit_action: QAction,
        actual_size_action: QAction,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.view = CompareView(self)
        self.title = QLabel("No job selected", self)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.zoom_label = QLabel("", self)
        self.zoom_label.setMinimumWidth(
            self.fontMetrics().horizontalAdvance("3200%") + 8
        )
        self.zoom_label.setAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.zoom_label)
        for action in (fit_action, actual_size_action):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            bar.addWidget(button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.view.zoom_changed.connect(self._on_zoom_changed)

    def _on_zoom_changed(self, scale: float) -> None:
        self.zoom_label.setText(f"{scale:.0%}" if self.view.has_images else "")

    def show_pair(
        self,
        title: str,
        before: QImage,
        after: QImage,
        before_label: str,
        after_label: str,
    ) -> None:
        """Show a job's images under ``title``."""
        self.title.setText(title)
        self.view.set_images(before, after, before_label, after_label)
        self._on_zoom_changed(self.view.scale)

    def show_single(self, title: str, image: QImage, label: str) -> None:
        """Show one image without a divider, for a job with no distinct original."""
        self.title.setText(title)
        self.view.set_image(image, label)
        self._on_zoom_changed(self.view.scale)

    def show_message(self, title: str, message: str) -> None:
        """Show a message in place of images."""
        self.title.setText(title)
        self.view.clear(message)
        self.zoom_label.setText("")
