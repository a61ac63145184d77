# SPDX-License-Identifier: MIT
"""The job table: progress bars, column widths, tooltips, icons and file names."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QHelpEvent, QImage
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

from aegui.app.jobs import Job, JobStatus
from aegui.app.operations import COMPRESS, DENOISE
from aegui.core.tasks import JobResult
from aegui.qt.job_table import (
    Column,
    JobTableModel,
    format_seconds,
    visible_text,
)
from aegui.qt.job_view import JobTableView, share_width

# The width the table gets in a 1400 px wide main window (measured with
# Fusion and the default 9 pt sans-serif font under Xvfb).
TABLE_WIDTH_AT_1400 = 723
JOB_IDS = itertools.count(1)


class StubQueue(QObject):
    """A stand-in for JobQueue with only the jobs list and signals the model reads."""

    job_added = Signal(int)
    job_changed = Signal(int)
    jobs_removed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[Job] = []

    def add(self, job: Job) -> int:
        self.jobs.append(job)
        self.job_added.emit(len(self.jobs) - 1)
        return len(self.jobs) - 1

    def change(self, row: int, **fields: object) -> None:
        for name, value in fields.items():
            setattr(self.jobs[row], name, value)
        self.job_changed.emit(row)

    def clear(self) -> None:
        self.jobs.clear()
        self.jobs_removed.emit()


def make_job(name: str = "photo.png", **fields: Any) -> Job:
    source = Path("/tmp/aegui-table-test") / name
    defaults = {
        "operation": COMPRESS,
        "options": {"quality": 4},
        "output": source.parent / "aegui-out" / f"{source.stem}.aez",
    }
    return Job(id=next(JOB_IDS), source=source, **(defaults | fields))


@pytest.fixture
def table(qtbot) -> tuple[JobTableView, StubQueue]:
    """A shown job table as wide as in a 1400 px window, over an empty queue."""
    queue = StubQueue()
    view = JobTableView(JobTableModel(queue))  # type: ignore[arg-type]
    qtbot.addWidget(view)
    view.resize(TABLE_WIDTH_AT_1400, 400)
    view.show()
    qtbot.waitExposed(view)
    return view, queue


def cell(
    view: JobTableView,
    row: int,
    column: Column,
    role: int = Qt.ItemDataRole.DisplayRole,
) -> Any:
    return view.model().index(row, column).data(role)


def is_filled(image: QImage, x: int, y: int, base: QColor) -> bool:
    """Return whether the pixel differs clearly from the empty bar's color."""
    color = image.pixelColor(x, y)
    distance = (
        abs(color.red() - base.red())
        + abs(color.green() - base.green())
        + abs(color.blue() - base.blue())
    )
    return distance > 60


def test_running_bar_fills_left_to_right(table) -> None:
    view, queue = table
    row = queue.add(make_job(status=JobStatus.RUNNING, progress=0.46))

    image = view.viewport().grab().toImage()
    rect = view.visualRect(view.model().index(row, Column.STATUS)).adjusted(
        2, 3, -2, -3
    )
    base = view.palette().color(view.palette().ColorRole.Base)
    left = rect.left() + 6
    right = rect.right() - 6
    top = rect.top() + rect.height() // 4
    bottom = rect.bottom() - rect.height() // 4

    # The text sits in the middle, so these points show only fill or groove.
    assert is_filled(image, left, top, base)
    assert is_filled(image, left, bottom, base)
    assert not is_filled(image, right, top, base)
    assert not is_filled(image, right, bottom, base)


def test_every_cell_has_full_text_tooltip(table) -> None:
    view, queue = table
    result = JobResult(
        source=Path("/tmp/a.png"),
        output=Path("/tmp/a.aez"),
        input_bytes=512_345,
        output_bytes=23_456,
        width=64,
        height=48,
        seconds=1.5,
        bpp=0.123,
        psnr=31.25,
    )
    row = queue.add(
        make_job(
            "holiday.png",
            operation=DENOISE,
            options={"strength_auto": 1, "passes": 2},
            status=JobStatus.DONE,
            result=result,
        )
    )

    for column in Column:
        tooltip = cell(view, row, column, Qt.ItemDataRole.ToolTipRole)
        assert tooltip, column.name
        if column != Column.STATUS:
            assert cell(view, row, column) in tooltip, column.name
    operation_tip = cell(view, row, Column.OPERATION, Qt.ItemDataRole.ToolTipRole)
    assert operation_tip == "Denoise · auto · 2 passes"
    file_tip = cell(view, row, Column.FILE, Qt.ItemDataRole.ToolTipRole)
    assert file_tip == "/tmp/aegui-table-test/holiday.png"


def test_tooltip_shown_only_when_text_cut(table) -> None:
    view, queue = table
    row = queue.add(make_job(options={"quality": 8, "refine": 30}))
    index = view.model().index(row, Column.OPERATION)
    delegate = view.itemDelegateForIndex(index)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.widget = view
    position = QPoint(5, 5)

    option.rect = QRect(0, 0, 400, 30)
    wide = QHelpEvent(QHelpEvent.Type.ToolTip, position, view.mapToGlobal(position))
    assert not delegate.helpEvent(wide, view, option, index)

    option.rect = QRect(0, 0, 40, 30)
    narrow = QHelpEvent(QHelpEvent.Type.ToolTip, position, view.mapToGlobal(position))
    assert delegate.helpEvent(narrow, view, option, index)


def test_columns_fit_usual_operation_text(qtbot, table) -> None:
    view, queue = table
    queue.add(make_job("a.png", options={"quality": 8, "refine": 30}))
    queue.add(make_job("b.png", operation=DENOISE, options={"strength": 100}))
    queue.add(make_job("c.png", status=JobStatus.RUNNING, progress=0.5))

    preferred = view.sizeHintForColumn(Column.OPERATION)
    qtbot.waitUntil(
        lambda: view.columnWidth(Column.OPERATION) >= preferred, timeout=2000
    )
    total = sum(view.columnWidth(column) for column in Column)
    assert total <= view.viewport().width()
    status = view.model().index(2, Column.STATUS)
    assert view.visualRect(status).width() >= view.sizeHintForIndex(status).width()


def test_failure_reason_fits_in_row(table) -> None:
    view, queue = table
    error = "/tmp/aegui-table-test/fake.png: not an image file (cannot identify it)"
    row = queue.add(make_job("fake.png", status=JobStatus.FAILED, error=error))
    QApplication.processEvents()

    index = view.model().index(row, Column.STATUS)
    assert index.data() == "Failed: not an image file (cannot identify it)"
    assert view.visualRect(index).width() >= view.sizeHintForIndex(index).width()


def test_failure_reason_cuts_other_paths(table) -> None:
    view, queue = table
    error = "/tmp/gone/aegui-out/photo.aez: already exists (use --force to overwrite)"
    row = queue.add(make_job(status=JobStatus.FAILED, error=error))

    status = cell(view, row, Column.STATUS)
    assert status == "Failed: photo.aez: already exists (use --force to overwrite)"
    assert cell(view, row, Column.STATUS, Qt.ItemDataRole.ToolTipRole) == (
        f"Failed: {error}"
    )


def test_failed_row_span_follows_status(table) -> None:
    view, queue = table
    row = queue.add(make_job(status=JobStatus.RUNNING, progress=0.2))
    assert view.columnSpan(row, Column.STATUS) == 1

    queue.change(row, status=JobStatus.FAILED, error="broken")
    assert view.columnSpan(row, Column.STATUS) == len(Column) - Column.STATUS

    queue.clear()
    row = queue.add(make_job(status=JobStatus.QUEUED))
    assert view.columnSpan(row, Column.STATUS) == 1


def test_narrow_table_widens_file_name_first(qtbot, table) -> None:
    view, queue = table
    queue.add(
        make_job("a-fairly-long-photo-name.png", options={"quality": 4, "refine": 100})
    )
    file_preferred = view.sizeHintForColumn(Column.FILE)
    numeric = sum(
        view.columnWidth(column) for column in Column if column > Column.STATUS
    )
    spare = file_preferred - view.minimum_widths[Column.FILE]
    width = numeric + sum(view.minimum_widths.values()) + spare + 10

    view.resize(width + view.width() - view.viewport().width(), 400)
    qtbot.waitUntil(lambda: view.viewport().width() == width)
    QApplication.processEvents()

    assert view.columnWidth(Column.FILE) == file_preferred
    assert view.columnWidth(Column.OPERATION) < view.sizeHintForColumn(Column.OPERATION)


def test_user_sized_column_keeps_width(qtbot, table) -> None:
    view, queue = table
    queue.add(make_job())
    view.horizontalHeader().resizeSection(Column.OPERATION, 260)

    view.resize(1000, 400)
    qtbot.waitUntil(lambda: view.viewport().width() > TABLE_WIDTH_AT_1400)
    QApplication.processEvents()

    assert view.columnWidth(Column.OPERATION) == 260
    total = sum(view.columnWidth(column) for column in Column)
    assert total == view.viewport().width()


@pytest.mark.parametrize(
    ("available", "widths"),
    [
        (300, [100, 80, 120]),  # room for the minimums only
        (250, [100, 80, 120]),  # too narrow, so the view scrolls
        (400, [150, 130, 120]),  # the file name fits, then the operation
        (500, [150, 200, 150]),  # both fit, and status takes the rest
    ],
)
def test_share_width_follows_priority(available: int, widths: list[int]) -> None:
    assert share_width(available, [100, 80, 120], [150, 200, 120]) == widths


def test_skipped_icon_is_not_play_arrow(table) -> None:
    view, queue = table
    row = queue.add(make_job(status=JobStatus.SKIPPED, error="already exists"))
    style = QApplication.style()

    icon = cell(view, row, Column.STATUS, Qt.ItemDataRole.DecorationRole)
    assert icon is not None
    image = icon.pixmap(16, 16).toImage()
    for arrow in (
        QStyle.StandardPixmap.SP_ArrowRight,
        QStyle.StandardPixmap.SP_ArrowForward,
        QStyle.StandardPixmap.SP_MediaPlay,
    ):
        assert image != style.standardIcon(arrow).pixmap(16, 16).toImage(), arrow


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("new\nline.png", "new⏎line.png"),
        ("tab\there.png", "tab␉here.png"),
        ("bell\x07.png", "bell␇.png"),
        ("bad\udcffbyte.png", "bad\\xffbyte.png"),
        ("rtl\u202egnp.exe", "rtl\\u202egnp.exe"),
        ("wide\u3000space.png", "wide\u3000space.png"),
        ("plain name.png", "plain name.png"),
    ],
)
def test_file_name_shows_control_characters(table, name: str, shown: str) -> None:
    view, queue = table
    row = queue.add(make_job(name))

    assert cell(view, row, Column.FILE) == shown
    assert visible_text(name) == shown
    tooltip = cell(view, row, Column.FILE, Qt.ItemDataRole.ToolTipRole)
    assert tooltip == f"/tmp/aegui-table-test/{shown}"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "0.40 s"), (99.99, "99.99 s"), (99.996, "100 s"), (153.58, "154 s")],
)
def test_format_seconds_fits_column(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text
