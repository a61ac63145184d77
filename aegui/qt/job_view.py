# SPDX-License-Identifier: MIT
"""The job table's view: fitted column widths and failure reasons across empty cells."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from aegui.app.jobs import JobStatus
from aegui.qt.job_table import (
    JOB_ID_ROLE,
    Column,
    JobItemDelegate,
    JobTableModel,
    ProgressDelegate,
)

# Columns that share the width the numeric columns leave, in priority order.
# The file name comes first because it identifies each row. The operation
# comes next, and a cut operation text shows whole in its tooltip. The
# status column takes the rest.
SHARED_COLUMNS = (Column.FILE, Column.OPERATION, Column.STATUS)


def share_width(
    available: int, minimums: Sequence[int], preferred: Sequence[int]
) -> list[int]:
    """Split ``available`` pixels between columns given in priority order.

    Each column gets its minimum width. The pixels left over then go to each
    column in turn until it reaches its preferred width, and any still left
    go to the last column. When ``available`` is below the sum of the
    minimums, the columns keep their minimums and the view scrolls.
    """
    widths = list(minimums)
    spare = available - sum(widths)
    for position, target in enumerate(preferred):
        extra = max(0, min(spare, target - widths[position]))
        widths[position] += extra
        spare -= extra
    if spare > 0:
        widths[-1] += spare
    return widths


class JobTableView(QTableView):
    """The job table with fitted columns and whole-row selection.

    The numeric columns keep fixed widths. Operation, file name and status
    share the rest of the viewport by ``share_width`` whenever the viewport
    or the rows change, so the table scrolls sideways only when even their
    minimum widths do not fit. A column the user resizes keeps that width.

    A failed job has no result to show, so its status cell spans the numeric
    columns and the failure reason gets their width too. This hides the
    input size of a failed job.
    """

    def __init__(self, model: JobTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setItemDelegate(JobItemDelegate(self))
        self.setItemDelegateForColumn(Column.STATUS, ProgressDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Tab moves on to the next control, as in other dialogs, and the
        # arrow keys move between rows.
        self.setTabKeyNavigation(False)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)

        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Measure only the rows on screen when fitting, so a long queue does
        # not slow down every fit.
        header.setResizeContentsPrecision(0)
        text_width = self.fontMetrics().horizontalAdvance
        widths = {
            Column.BEFORE: text_width("999.9 kB") + 12,
            Column.AFTER: text_width("999.9 kB") + 12,
            Column.BPP: text_width("0.000") + 14,
            Column.PSNR: text_width("99.99 dB") + 12,
            Column.TIME: text_width("99.99 s") + 12,
        }
        for column, width in widths.items():
            self.setColumnWidth(column, width)
        self.minimum_widths = {
            Column.OPERATION: text_width("Compress · q8") + 14,
            Column.FILE: text_width("photo-01.png") + 12,
            Column.STATUS: text_width("Running 100%") + 36,
        }
        self._user_sized: set[Column] = set()
        self._fitting = False
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit_columns)

        header.sectionResized.connect(self._on_section_resized)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.modelReset.connect(self._on_model_reset)
        model.dataChanged.connect(self._on_data_changed)
        self.fit_columns()

    def selected_job_ids(self) -> list[int]:
        """Return the ids of the selected jobs, in row order."""
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        return [self.model().index(row, 0).data(JOB_ID_ROLE) for row in rows]

    def fit_columns(self) -> None:
        """Share the viewport width between operation, file name and status."""
        shared = [column for column in SHARED_COLUMNS if column not in self._user_sized]
        if not shared:
            return
        fixed = sum(
            self.columnWidth(column) for column in Column if column not in shared
        )
        minimums = [self.minimum_widths[column] for column in shared]
        # The status column needs no more than its minimum, because the one
        # long status text, a failure reason, spans the numeric columns.
        preferred = [
            self.minimum_widths[column]
            if column == Column.STATUS
            else self.sizeHintForColumn(column)
            for column in shared
        ]
        widths = share_width(self.viewport().width() - fixed, minimums, preferred)

        self._fitting = True
        try:
            for column, width in zip(shared, widths, strict=True):
                self.setColumnWidth(column, width)
        finally:
            self._fitting = False

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt name
        # A scroll area gets this event when its viewport resizes, which
        # includes a vertical scroll bar appearing.
        super().resizeEvent(event)
        self.fit_columns()

    def _update_span(self, row: int) -> None:
        job = self.model().job_at(row)  # type: ignore[attr-defined]
        columns = len(Column) - Column.STATUS
        if job is None or job.status is not JobStatus.FAILED:
            columns = 1
        if self.columnSpan(row, Column.STATUS) != columns:
            self.setSpan(row, Column.STATUS, 1, columns)

    def _on_section_resized(self, section: int, old_width: int, new_width: int) -> None:
        if self._fitting:
            return
        if section in SHARED_COLUMNS:
            self._user_sized.add(Column(section))
        self._fit_timer.start()

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            self._update_span(row)
        self._fit_timer.start()

    def _on_model_reset(self) -> None:
        self.clearSpans()
        for row in range(self.model().rowCount()):
            self._update_span(row)
        self._fit_timer.start()

    def _on_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex
    ) -> None:
        for row in range(top_left.row(), bottom_right.row() + 1):
            self._update_span(row)
