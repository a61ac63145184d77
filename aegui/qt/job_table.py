# SPDX-License-Identifier: MIT
"""The job queue as a table: one row per job, with a progress bar per row."""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QIcon, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from aegui.app.jobs import Job, JobStatus
from aegui.app.queue import JobQueue

Index = QModelIndex | QPersistentModelIndex
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 2


class Column(enum.IntEnum):
    """Table columns, in display order."""

    FILE = 0
    OPERATION = 1
    STATUS = 2
    BEFORE = 3
    AFTER = 4
    BPP = 5
    PSNR = 6
    TIME = 7


HEADERS = {
    Column.FILE: "File",
    Column.OPERATION: "Operation",
    Column.STATUS: "Status",
    Column.BEFORE: "Before",
    Column.AFTER: "After",
    Column.BPP: "bpp",
    Column.PSNR: "PSNR",
    Column.TIME: "Time",
}
HEADER_TIPS = {
    Column.BEFORE: "Size of the input file",
    Column.AFTER: "Size of the output file",
    Column.BPP: "Bits per pixel of the .aez file",
    Column.PSNR: "Peak signal-to-noise ratio of the decoded image against the original",
    Column.TIME: "Wall-clock time of the job",
}
NUMERIC = {Column.BEFORE, Column.AFTER, Column.BPP, Column.PSNR, Column.TIME}

STATUS_ICONS = {
    JobStatus.QUEUED: QStyle.StandardPixmap.SP_FileDialogDetailedView,
    JobStatus.DONE: QStyle.StandardPixmap.SP_DialogApplyButton,
    JobStatus.FAILED: QStyle.StandardPixmap.SP_MessageBoxCritical,
    JobStatus.CANCELLED: QStyle.StandardPixmap.SP_DialogCancelButton,
    JobStatus.SKIPPED: QStyle.StandardPixmap.SP_ArrowRight,
}


def format_bytes(count: int) -> str:
    """Return a byte count in B, kB or MB (powers of 1000)."""
    if count < 1000:
        return f"{count} B"
    # The unit is chosen after rounding, so 999,960 bytes read 1.00 MB and
    # not 1000.0 kB.
    if round(count / 1000, 1) < 1000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.2f} MB"


def format_bpp(bpp: float) -> str:
    """Return bits per pixel with three decimals, or fewer for a tiny image's large value."""
    # As in format_bytes, the precision is chosen after rounding: 9.9996
    # reads 10.0, not 10.000.
    if round(bpp, 3) < 10:
        return f"{bpp:.3f}"
    if round(bpp, 1) < 1000:
        return f"{bpp:.1f}"
    return f"{bpp:.0f}"


def status_text(job: Job) -> str:
    """Return the status column text of ``job``."""
    if job.status is JobStatus.RUNNING:
        if job.cancel_event.is_set():
            return "Cancelling…"
        return f"Running {job.progress:.0%}"
    if job.status is JobStatus.FAILED and job.error:
        return f"Failed: {short_reason(job)}"
    return job.status.value


def short_reason(job: Job) -> str:
    """Return a job's error without the leading source path that the core adds."""
    reason = job.error or ""
    for prefix in (f"{job.source}: ", f"{job.source.name}: "):
        if reason.startswith(prefix):
            return reason[len(prefix) :]
    return reason


class JobTableModel(QAbstractTableModel):
    """A read-only view of ``JobQueue.jobs`` that follows the queue's signals."""

    def __init__(self, queue: JobQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self._icons: dict[JobStatus, QIcon] = {}
        self._source_sizes: dict[int, str] = {}
        queue.job_added.connect(self._on_job_added)
        queue.job_changed.connect(self._on_job_changed)
        queue.jobs_removed.connect(self._on_jobs_removed)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.queue.jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        column = Column(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self.queue.jobs[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job, column)
        if role == Qt.ItemDataRole.DecorationRole and column == Column.STATUS:
            return self._status_icon(job.status)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == JOB_ID_ROLE:
            return job.id
        if role == PROGRESS_ROLE:
            return job.progress if job.status is JobStatus.RUNNING else None
        return None

    def job_at(self, row: int) -> Job | None:
        """Return the job shown in ``row``."""
        if 0 <= row < len(self.queue.jobs):
            return self.queue.jobs[row]
        return None

    def _display(self, job: Job, column: Column) -> str | None:
        result = job.result
        if column == Column.FILE:
            return job.source.name
        if column == Column.OPERATION:
            return job.description
        if column == Column.STATUS:
            return status_text(job)
        if column == Column.BEFORE:
            if result is not None:
                return format_bytes(result.input_bytes)
            return self._source_size(job)
        if result is None:
            return ""
        if column == Column.AFTER:
            return format_bytes(result.output_bytes)
        if column == Column.BPP:
            return "" if result.bpp is None else format_bpp(result.bpp)
        if column == Column.PSNR:
            return "" if result.psnr is None else f"{result.psnr:.2f} dB"
        return f"{result.seconds:.2f} s"

    def _source_size(self, job: Job) -> str:
        # Cached because this runs on every repaint of the row.
        if job.id not in self._source_sizes:
            try:
                self._source_sizes[job.id] = format_bytes(job.source.stat().st_size)
            except OSError:
                self._source_sizes[job.id] = ""
        return self._source_sizes[job.id]

    def _tooltip(self, job: Job, column: Column) -> str | None:
        if column == Column.FILE:
            return str(job.source)
        if column == Column.STATUS:
            if job.error:
                return f"{job.status.value}: {job.error}"
            if job.status is JobStatus.DONE:
                return f"Written to {job.output}"
            return f"Output: {job.output}"
        return None

    def _status_icon(self, status: JobStatus) -> QIcon | None:
        if status not in STATUS_ICONS:
            return None
        if status not in self._icons:
            style = QApplication.style()
            self._icons[status] = style.standardIcon(STATUS_ICONS[status])
        return self._icons[status]

    def _on_job_added(self, row: int) -> None:
        self.beginInsertRows(QModelIndex(), row, row)
        self.endInsertRows()

    def _on_job_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def _on_jobs_removed(self) -> None:
        self.beginResetModel()
        self.endResetModel()


class ProgressDelegate(QStyledItemDelegate):
    """Paint a progress bar in the status cell of a running job.

    Other status text is cut at its end, so a failure keeps its first words
    ("Failed: not an image…"), where the file column elides in the middle.
    """

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:  # noqa: N802 - Qt name
        """Fill ``option`` for ``index`` and elide its text on the right."""
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideRight  # type: ignore[attr-defined]

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: Index
    ) -> None:
        progress = index.data(PROGRESS_ROLE)
        if progress is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)  # type: ignore[attr-defined]
        bar.minimum = 0  # type: ignore[attr-defined]
        bar.maximum = 1000  # type: ignore[attr-defined]
        bar.progress = int(progress * 1000)  # type: ignore[attr-defined]
        bar.text = index.data(Qt.ItemDataRole.DisplayRole)  # type: ignore[attr-defined]
        bar.textVisible = True  # type: ignore[attr-defined]
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter  # type: ignore[attr-defined]
        bar.state = option.state  # type: ignore[attr-defined]
        style = option.widget.style() if option.widget else QApplication.style()  # type: ignore[attr-defined]
        if option.state & QStyle.StateFlag.State_Selected:  # type: ignore[attr-defined]
            painter.fillRect(option.rect, option.palette.highlight())  # type: ignore[attr-defined]
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class JobTableView(QTableView):
    """The job table with sized columns and whole-row selection."""

    def __init__(self, model: JobTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setItemDelegateForColumn(Column.STATUS, ProgressDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)

        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.FILE, QHeaderView.ResizeMode.Stretch)
        text_width = self.fontMetrics().horizontalAdvance
        # Wide enough for typical values; the file name column takes the rest.
        widths = {
            Column.OPERATION: text_width("Compress · q8") + 14,
            Column.STATUS: text_width("Running 100%") + 36,
            Column.BEFORE: text_width("999.9 kB") + 12,
            Column.AFTER: text_width("999.9 kB") + 12,
            Column.BPP: text_width("0.000") + 14,
            Column.PSNR: text_width("99.99 dB") + 12,
            Column.TIME: text_width("99.99 s") + 12,
        }
        for column, width in widths.items():
            self.setColumnWidth(column, width)

    def selected_job_ids(self) -> list[int]:
        """Return the ids of the selected jobs, in row order."""
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        return [self.model().index(row, 0).data(JOB_ID_ROLE) for row in rows]
