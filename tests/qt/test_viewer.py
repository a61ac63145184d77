# SPDX-License-Identifier: MIT
"""The before/after viewer: showing a finished job, zoom, pan and the divider."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from aegui.app import preview as preview_module
from aegui.app.operations import QUALITY
from aegui.core.tasks import compress_file
from aegui.qt.compare_view import (
    BACKGROUND,
    CHECKER_DARK,
    CHECKER_LIGHT,
    CHECKER_SQUARE,
    FIT_MARGIN,
    CompareView,
    array_to_image,
)

from .conftest import TIMEOUT_MS, wait_idle, write_photo, write_photos


def solid_image(width: int, height: int, color: QColor) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB888)
    image.fill(color)
    return image


def wheel(view: CompareView, position: QPoint, notches: int) -> None:
    event = QWheelEvent(
        QPointF(position),
        QPointF(view.mapToGlobal(position)),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, event)


def drag(qtbot, view: CompareView, start: QPoint, end: QPoint) -> None:
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, end)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end)


def assert_within_edges(view: CompareView) -> None:
    """Check that the image covers each axis it overflows and is centred on the rest."""
    size = view.image_size()
    for start, extent, room in (
        (view.origin.x(), size.width() * view.scale, view.width()),
        (view.origin.y(), size.height() * view.scale, view.height()),
    ):
        if extent <= room:
            assert start == pytest.approx((room - extent) / 2)
        else:
            assert start <= 0
            assert start + extent >= room


def shown_view(qtbot, width: int, height: int) -> CompareView:
    """Return a shown 424x324 view of a red and a blue image of this size."""
    compare = CompareView()
    qtbot.addWidget(compare)
    compare.resize(424, 324)
    compare.show()
    compare.set_images(
        solid_image(width, height, QColor("red")),
        solid_image(width, height, QColor("blue")),
        "A",
        "B",
    )
    return compare


@pytest.fixture
def view(qtbot) -> CompareView:
    return shown_view(qtbot, 200, 100)


def test_finished_job_shows_in_viewer(qtbot, window, tmp_path: Path) -> None:
    (photo,) = write_photos(tmp_path, 1, width=120, height=90)
    (job,) = window.add_paths([photo])
    wait_idle(qtbot, window)

    # The first finished job is selected when nothing else is.
    assert window.table.selected_job_ids() == [job.id]
    qtbot.waitUntil(lambda: window.compare.view.has_images, timeout=TIMEOUT_MS)
    view = window.compare.view
    assert (view.image_size().width(), view.image_size().height()) == (120, 90)
    assert view.split == 0.5
    assert view.before_label == "Original"
    assert view.after_label.startswith(f"Compressed q{QUALITY.default} · ")
    assert window.compare.title.text() == "photo-0.png → photo-0.aez"
    assert window.compare.zoom_label.text().endswith("%")


def test_viewer_paints_before_left_after_right(view: CompareView) -> None:
    frame = view.grab().toImage()
    middle_y = view.height() // 2
    left = frame.pixelColor(int(view.width() * 0.25), middle_y)
    right = frame.pixelColor(int(view.width() * 0.75), middle_y)

    assert left.red() > 200
    assert left.blue() < 50
    assert right.blue() > 200
    assert right.red() < 50


def test_fit_and_actual_size(view: CompareView) -> None:
    expected_fit = min((424 - 2 * FIT_MARGIN) / 200, (324 - 2 * FIT_MARGIN) / 100)
    assert view.scale == pytest.approx(expected_fit)

    view.actual_size()
    assert view.scale == 1.0
    assert not view.fit_mode

    view.fit()
    assert view.scale == pytest.approx(expected_fit)
    assert view.origin.x() == pytest.approx((424 - 200 * expected_fit) / 2)


def test_zoom_keeps_point_under_anchor(view: CompareView) -> None:
    anchor = QPointF(150, 120)
    before = (anchor - view.origin) / view.scale

    view.zoom_to(5.0, anchor)

    after = (anchor - view.origin) / view.scale
    assert view.scale == 5.0
    assert after.x() == pytest.approx(before.x())
    assert after.y() == pytest.approx(before.y())


def test_wheel_zooms_in(view: CompareView) -> None:
    start = view.scale

    wheel(view, QPoint(100, 100), 1)

    assert view.scale == pytest.approx(start * 1.25)


def test_wheel_zoom_stays_within_edges(view: CompareView) -> None:
    # At fit, the corner is outside the image, so zooming around it would
    # leave a dark band on the left and top.
    wheel(view, QPoint(2, 2), 1)
    assert_within_edges(view)

    for _ in range(6):
        wheel(view, QPoint(2, 2), 1)
    assert_within_edges(view)

    for _ in range(6):
        wheel(view, QPoint(420, 320), -1)
    assert_within_edges(view)


def test_drag_pans_both_images(qtbot, view: CompareView) -> None:
    view.zoom_to(4.0, QPointF(212, 162))
    start = QPointF(view.origin)
    grab = QPoint(60, 60)

    drag(qtbot, view, grab, grab + QPoint(30, 20))

    assert view.origin.x() == pytest.approx(start.x() + 30)
    assert view.origin.y() == pytest.approx(start.y() + 20)
    assert view.split == 0.5


def test_pan_stops_at_image_edges(qtbot, view: CompareView) -> None:
    view.zoom_to(4.0, QPointF(212, 162))
    grab = QPoint(60, 60)

    drag(qtbot, view, grab, grab + QPoint(2000, 2000))

    assert view.origin.x() == pytest.approx(0)
    assert view.origin.y() == pytest.approx(0)
    assert view.grab().toImage().pixelColor(1, 1) == QColor("red")

    drag(qtbot, view, grab, grab - QPoint(2000, 2000))

    assert view.origin.x() == pytest.approx(424 - 200 * 4.0)
    assert view.origin.y() == pytest.approx(324 - 100 * 4.0)
    assert view.grab().toImage().pixelColor(422, 322) == QColor("blue")


def test_pan_keeps_fitted_image_centred(qtbot, view: CompareView) -> None:
    start = QPointF(view.origin)

    drag(qtbot, view, QPoint(60, 60), QPoint(160, 120))

    assert view.origin == start
    assert view.fit_mode


def test_actual_size_after_pan_within_edges(qtbot) -> None:
    view = shown_view(qtbot, 1000, 600)
    view.zoom_to(1.83, QPointF(212, 162))
    view.pan_by(-5000, -5000)

    view.actual_size()

    assert view.scale == 1.0
    assert_within_edges(view)
    assert view.origin.x() == pytest.approx(424 - 1000)
    assert view.origin.y() == pytest.approx(324 - 600)


def test_actual_size_again_centres_image(qtbot) -> None:
    view = shown_view(qtbot, 1000, 600)
    view.actual_size()
    view.pan_by(-150, -40)

    view.actual_size()

    assert view.scale == 1.0
    assert view.origin.x() == pytest.approx((424 - 1000) / 2)
    assert view.origin.y() == pytest.approx((324 - 600) / 2)


def test_single_image_has_no_divider(qtbot, view: CompareView) -> None:
    view.set_image(solid_image(200, 100, QColor("blue")), "Result")
    middle = QPoint(int(view.split_x()), view.height() // 2)

    assert view.has_images
    assert not view.shows_pair
    assert view.before_label == ""
    assert view.after_label == "Result"
    frame = view.grab().toImage()
    assert frame.pixelColor(middle) == QColor("blue")
    assert frame.pixelColor(int(view.width() * 0.25), middle.y()) == QColor("blue")

    view.zoom_to(4.0, QPointF(middle))
    start = QPointF(view.origin)
    drag(qtbot, view, middle, middle + QPoint(30, 0))

    assert view.split == 0.5
    assert view.origin.x() == pytest.approx(start.x() + 30)


def test_transparent_pixels_show_checkerboard(view: CompareView) -> None:
    clear = QImage(200, 100, QImage.Format.Format_RGBA8888)
    clear.fill(Qt.GlobalColor.transparent)
    view.set_images(clear, clear, "A", "B")
    # Six squares in from the image's corner, clear of the "A" label.
    offset = 6 * CHECKER_SQUARE + CHECKER_SQUARE // 2

    # The same squares show at fit (scale 2) and at scale 4, each one
    # CHECKER_SQUARE screen pixels wide and starting at the image's corner.
    for scale in (view.scale, 4.0):
        view.zoom_to(scale, QPointF(212, 162))
        view.pan_by(1000, 1000)
        x = round(view.origin.x()) + offset
        y = round(view.origin.y()) + offset
        frame = view.grab().toImage()

        assert frame.pixelColor(x, y) == CHECKER_DARK
        assert frame.pixelColor(x + CHECKER_SQUARE, y) == CHECKER_LIGHT
        assert frame.pixelColor(x, y + CHECKER_SQUARE) == CHECKER_LIGHT
        assert frame.pixelColor(x + CHECKER_SQUARE, y + CHECKER_SQUARE) == CHECKER_DARK

    view.fit()
    frame = view.grab().toImage()
    assert frame.pixelColor(FIT_MARGIN // 2, FIT_MARGIN // 2) == BACKGROUND


def test_drag_moves_divider(qtbot, view: CompareView) -> None:
    divider = QPoint(int(view.split_x()), 150)
    target = QPoint(106, 150)

    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=divider)
    qtbot.mouseMove(view, target)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=target)

    assert view.split == pytest.approx(106 / 424)


def test_shortcuts_zoom_viewer(qtbot, window, tmp_path: Path) -> None:
    window.add_paths(write_photos(tmp_path, 1, width=120, height=90))
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.compare.view.has_images, timeout=TIMEOUT_MS)
    view = window.compare.view
    fitted = view.scale

    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert view.scale == 1.0

    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.scale == pytest.approx(fitted)


def test_decompressed_aez_shows_result_alone(qtbot, window, tmp_path: Path) -> None:
    aez = tmp_path / "photo.aez"
    compress_file(write_photo(tmp_path / "src" / "photo.png", 64, 48), aez, 4)
    (job,) = window.add_paths([aez])
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.compare.view.has_images, timeout=TIMEOUT_MS)
    view = window.compare.view

    assert job.operation.key == "decompress"
    assert not view.shows_pair
    assert view.after_label == (
        ".png output · the .aez input has no original to compare against"
    )
    assert (view.image_size().width(), view.image_size().height()) == (64, 48)
    assert window.compare.title.text() == f"photo.aez → {job.output.name}"


def test_array_to_image_copies_pixels() -> None:
    pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    pixels[1, 2] = (10, 20, 30)
    rgba = np.full((2, 2, 4), 200, dtype=np.uint8)

    image = array_to_image(pixels)
    pixels[1, 2] = (0, 0, 0)

    assert (image.width(), image.height()) == (6, 4)
    assert image.pixelColor(2, 1).getRgb()[:3] == (10, 20, 30)
    assert array_to_image(rgba).hasAlphaChannel()


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((4, 4, 3), np.uint16),
    ],
)
def test_array_to_image_rejects_bad_layout(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError, match="Expected uint8"):
        array_to_image(pixels)


def test_reselected_job_shows_from_cache(qtbot, window, tmp_path: Path) -> None:
    first, second = window.add_paths(write_photos(tmp_path, 2, width=64, height=48))
    wait_idle(qtbot, window)
    window.select_job(first.id)
    qtbot.waitUntil(lambda: window.compare.view.has_images, timeout=TIMEOUT_MS)
    window.select_job(second.id)
    qtbot.waitUntil(lambda: window.compare.view.has_images, timeout=TIMEOUT_MS)

    window.select_job(first.id)

    assert window.preview.cached_job_ids == [second.id, first.id]
    assert window.compare.view.has_images
    assert window.compare.title.text() == "photo-0.png → photo-0.aez"


def test_preview_cache_respects_byte_cap(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One 64x48 RGB pair takes 18 kB, so a 10 kB cap keeps only the newest.
    monkeypatch.setattr(preview_module, "CACHE_BYTES", 10_000)
    first, second = window.add_paths(write_photos(tmp_path, 2, width=64, height=48))
    wait_idle(qtbot, window)

    for job in (first, second):
        window.select_job(job.id)
        qtbot.waitUntil(
            lambda job=job: window.preview.cached_job_ids[-1:] == [job.id],
            timeout=TIMEOUT_MS,
        )

    assert window.preview.cached_job_ids == [second.id]
