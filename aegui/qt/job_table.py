# SPDX-License-Identifier: MIT
"""The job queue as a table model, and the delegates that draw its cells and bars."""

from __future__ import annotations

import enum
import unicodedata
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QHelpEvent, QIcon, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QToolTip,
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
    # A skipped job left an existing output alone, so it gets a note icon
    # rather than an error icon.
    JobStatus.SKIPPED: QStyle.StandardPixmap.SP_MessageBoxInformation,
}
# Cut operation and status text at its end, so the operation name and the
# first words of a reason stay. The view cuts other columns in the middle,
# which keeps a file name's extension and trailing number.
ELIDE_RIGHT = {Column.OPERATION, Column.STATUS}


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


def format_seconds(seconds: float) -> str:
    """Return a job's time as "1.23 s", or "154 s" from 100 s on, to fit the column."""
    if seconds >= 99.995:
        return f"{seconds:.0f} s"
    return f"{seconds:.2f} s"


def visible_text(text: str) -> str:
    """Replace the characters that a one-line cell would hide with visible ones.

    A newline becomes "⏎", other C0 controls and DEL become their Unicode
    control pictures (U+2400 to U+2421), and a lone surrogate, which is how
    Python decodes an undecodable byte of a POSIX file name, becomes that byte
    as ``\\xff``. Other characters that Python does not count as printable,
    such as line separators and bidirectional overrides, become ``\\u2028``
    style escapes. Spaces of every width are kept.
    """
    if text.isprintable():
        return text
    return "".join(_visible_character(character) for character in text)


def _visible_character(character: str) -> str:
    if character.isprintable() or unicodedata.category(character) == "Zs":
        return character
    if character == "\n":
        return "⏎"
    code = ord(character)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


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
    """Return a job's error as the row shows it, without a long leading path.

    The core starts most errors with the path they concern. The row already
    names the source file, so a leading source path is dropped, and any other
    leading absolute path (the output, a weights file) is cut to its last
    component. The status tooltip shows the whole error.
    """
    reason = job.error or ""
    for prefix in (f"{job.source}: ", f"{job.source.name}: "):
        if reason.startswith(prefix):
            return reason[len(prefix) :]
    path, separator, rest = reason.partition(": ")
    name = Path(path).name
    if separator and name and Path(path).is_absolute():
        return f"{name}: {rest}"
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
            return visible_text(self._display(job, column))
        if role == Qt.ItemDataRole.ToolTipRole:
            return visible_text(self._tooltip(job, column))
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

    def _display(self, job: Job, column: Column) -> str:
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
        return format_seconds(result.seconds)

    def _source_size(self, job: Job) -> str:
        # Cached because this runs on every repaint of the row.
        if job.id not in self._source_sizes:
            try:
                self._source_sizes[job.id] = format_bytes(job.source.stat().st_size)
            except OSError:
                self._source_sizes[job.id] = ""
        return self._source_sizes[job.id]

    def _tooltip(self, job: Job, column: Column) -> str:
        # JobItemDelegate shows a tooltip equal to the cell text only while
        # the cell cuts that text.
        if column == Column.FILE:
            return str(job.source)
        if column == Column.STATUS:
            if job.error:
                return f"{job.status.value}: {job.error}"
            if job.status is JobStatus.DONE:
                return f"Written to {job.output}"
            return f"Output: {job.output}"
        return self._display(job, column)

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


def progress_bar_option(
    option: QStyleOptionViewItem, progress: float, text: str
) -> QStyleOptionProgressBar:
    """Build the style option of a horizontal progress bar inside a cell."""
    bar = QStyleOptionProgressBar()
    bar.rect = option.rect.adjusted(2, 3, -2, -3)  # type: ignore[attr-defined]
    bar.palette = option.palette  # type: ignore[attr-defined]
    bar.fontMetrics = option.fontMetrics  # type: ignore[attr-defined]
    bar.direction = option.direction  # type: ignore[attr-defined]
    bar.minimum = 0  # type: ignore[attr-defined]
    bar.maximum = 1000  # type: ignore[attr-defined]
    bar.progress = round(progress * 1000)  # type: ignore[attr-defined]
    bar.text = text  # type: ignore[attr-defined]
    bar.textVisible = True  # type: ignore[attr-defined]
    bar.textAlignment = Qt.AlignmentFlag.AlignCenter  # type: ignore[attr-defined]
    # Qt 6 removed the orientation field, so styles read the direction from
    # State_Horizontal. Without it Fusion fills the bar from the bottom up.
    bar.state = option.state | QStyle.StateFlag.State_Horizontal  # type: ignore[attr-defined]
    return bar


class JobItemDelegate(QStyledItemDelegate):
    """Draw a job cell, cut its text to fit and show its tooltip when useful.

    A tooltip that only repeats the cell text appears only when the cell cuts
    that text.
    """

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:  # noqa: N802 - Qt name
        """Fill ``option`` for ``index`` and choose where its text is cut."""
        super().initStyleOption(option, index)
        if index.column() in ELIDE_RIGHT:
            option.textElideMode = Qt.TextElideMode.ElideRight  # type: ignore[attr-defined]

    def helpEvent(  # noqa: N802 - Qt name
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: Index,
    ) -> bool:
        """Show the tooltip of ``index`` unless the cell shows all of it already."""
        tooltip = index.data(Qt.ItemDataRole.ToolTipRole)
        if (
            event.type() == QEvent.Type.ToolTip
            and tooltip == index.data(Qt.ItemDataRole.DisplayRole)
            and not self.text_is_elided(option, index)
        ):
            QToolTip.hideText()
            event.ignore()
            return False
        return super().helpEvent(event, view, option, index)

    def text_is_elided(self, option: QStyleOptionViewItem, index: Index) -> bool:
        """Return whether the text of ``index`` is too wide for ``option.rect``."""
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        widget = item.widget  # type: ignore[attr-defined]
        style = widget.style() if widget else QApplication.style()
        text_rect = style.subElementRect(
            QStyle.SubElement.SE_ItemViewItemText, item, widget
        )
        # QCommonStyle's viewItemDrawText removes this margin from each side
        # of the text rectangle.
        margin = style.pixelMetric(
            QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget
        )
        text_width = item.fontMetrics.horizontalAdvance(item.text)  # type: ignore[attr-defined]
        return text_width > text_rect.width() - 2 * (margin + 1)


class ProgressDelegate(JobItemDelegate):
    """Paint a progress bar in the status cell of a running job."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: Index
    ) -> None:
        progress = index.data(PROGRESS_ROLE)
        if progress is None:
            super().paint(painter, option, index)
            return
        bar = progress_bar_option(
            option, progress, index.data(Qt.ItemDataRole.DisplayRole)
        )
        style = option.widget.style() if option.widget else QApplication.style()  # type: ignore[attr-defined]
        if option.state & QStyle.StateFlag.State_Selected:  # type: ignore[attr-defined]
            painter.fillRect(option.rect, option.palette.highlight())  # type: ignore[attr-defined]
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)
