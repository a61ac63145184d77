# SPDX-License-Identifier: MIT
"""The main window: drop zone, job table, before/after viewer and log."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QCoreApplication,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from aegui.app.jobs import ConflictChoice, Job, JobStatus, Resolution
from aegui.app.log_bridge import LogBridge
from aegui.app.operations import all_input_suffixes
from aegui.app.preview import PreviewLoader
from aegui.app.queue import ConflictResolver, JobQueue
from aegui.app.settings import AppSettings
from aegui.app.styles import STYLE_CHOICES
from aegui.qt.compare_view import ComparePanel, array_to_image
from aegui.qt.dialogs import about_box, ask_conflict, confirm_quit
from aegui.qt.drop_zone import DropZone, accept_file_drag, local_paths
from aegui.qt.job_table import JobTableModel, visible_text
from aegui.qt.job_view import JobTableView
from aegui.qt.log_pane import LogPane
from aegui.qt.options_bar import OptionsBar
from aegui.qt.resources import app_icon
from aegui.qt.style_preview import StylePreviewController

logger = logging.getLogger(__name__)

DEFAULT_SIZE = QSize(1280, 800)
# Workers poll for cancellation between tiles, so they normally stop within a
# second. The timeout bounds how long closing can hang on a job that does not.
SHUTDOWN_TIMEOUT_MS = 10_000
# Image types aegui does not read, still listed in the Open dialog's filter.
# Qt silently drops typed names that the filter does not match, while a job
# for such a file fails with the reason.
UNREAD_IMAGE_SUFFIXES = {".gif", ".avif", ".heic", ".heif", ".jxl", ".ico"}


class MainWindow(QMainWindow):
    """The aegui window.

    ``settings`` is the store of options kept between runs. ``resolve_conflict``
    decides what happens when an output file exists. ``confirm_quit`` gets the
    number of unfinished jobs when the window is closed during a batch and
    returns whether to close. Both show a dialog by default, and tests pass
    functions that return a fixed choice.
    """

    def __init__(
        self,
        settings: AppSettings,
        resolve_conflict: ConflictResolver | None = None,
        parent: QWidget | None = None,
        confirm_quit: Callable[[int], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.resolve_conflict: ConflictResolver = resolve_conflict or self._ask_conflict
        self.confirm_quit = confirm_quit or self._confirm_quit
        self._force_close = False
        self.queue = JobQueue(self)
        self.preview = PreviewLoader(self)
        self.log_bridge = LogBridge(self)
        self.model_text = "Codec: loading…"
        self._shown_job_id: int | None = None
        self._closed = False

        self.setWindowTitle("aegui")
        self.setWindowIcon(app_icon())
        # Files dropped anywhere on the window are queued, as on the drop zone.
        self.setAcceptDrops(True)
        self._create_actions()
        self._create_widgets()
        self._create_menus()
        self._connect()
        self.style_preview = StylePreviewController(
            self.options,
            self.compare,
            self._selected_source,
            lambda: self.settings.last_open_dir or Path.home(),
            self,
        )
        self._restore_settings()
        self.log_bridge.attach()
        QTimer.singleShot(0, self.queue.load_model)

    # Construction

    def _action(
        self,
        text: str,
        icon: QStyle.StandardPixmap | None,
        shortcut: QKeySequence | str | None,
        tip: str,
    ) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(
            f"{tip} ({action.shortcut().toString()})" if shortcut else tip
        )
        self.addAction(action)
        return action

    def _create_actions(self) -> None:
        pixmap = QStyle.StandardPixmap
        self.open_files_action = self._action(
            "&Open Files…",
            pixmap.SP_DialogOpenButton,
            "Ctrl+O",
            "Add photos or .aez files",
        )
        self.open_folder_action = self._action(
            "Open &Folder…",
            pixmap.SP_DirOpenIcon,
            "Ctrl+Shift+O",
            "Add a folder, searched recursively",
        )
        self.open_output_action = self._action(
            "Open O&utput Folder",
            pixmap.SP_DirLinkIcon,
            None,
            "Show the output folder in the file manager",
        )
        self.quit_action = self._action("&Quit", None, "Ctrl+Q", "Quit aegui")

        self.cancel_action = self._action(
            "&Cancel Selected", pixmap.SP_DialogCancelButton, QKeySequence.StandardKey.Delete,
            "Cancel the selected jobs",
        )  # fmt: skip
        self.cancel_all_action = self._action(
            "Cancel &All",
            pixmap.SP_BrowserStop,
            None,
            "Cancel every job that has not finished",
        )
        self.clear_action = self._action(
            "C&lear Finished",
            pixmap.SP_DialogResetButton,
            None,
            "Remove finished jobs from the list",
        )

        self.fit_action = self._action(
            "&Fit",
            pixmap.SP_TitleBarMaxButton,
            "Ctrl+0",
            "Fit the images to the viewer",
        )
        self.actual_size_action = self._action(
            "&100%",
            pixmap.SP_TitleBarNormalButton,
            "Ctrl+1",
            "Show one image pixel per screen pixel",
        )
        self.zoom_in_action = self._action(
            "Zoom &In", None, QKeySequence.StandardKey.ZoomIn, "Zoom in"
        )
        # The standard Zoom In key is Ctrl++, which on most keyboards needs
        # Shift. Browsers and image viewers also take Ctrl+= for it.
        self.zoom_in_action.setShortcuts(
            [*self.zoom_in_action.shortcuts(), QKeySequence("Ctrl+=")]
        )
        self.zoom_out_action = self._action(
            "Zoom O&ut", None, QKeySequence.StandardKey.ZoomOut, "Zoom out"
        )

        self.about_action = self._action(
            "&About aegui",
            pixmap.SP_MessageBoxInformation,
            "F1",
            "About aegui and its shortcuts",
        )

    def _create_widgets(self) -> None:
        self.options = OptionsBar(self)
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.open_files_action)
        toolbar.addAction(self.open_folder_action)
        toolbar.addSeparator()
        toolbar.addWidget(self.options.output_bar)
        self.addToolBar(toolbar)
        # The options get a row of their own: with the style picker they need
        # about 900 pixels, more than fits beside the Open buttons and the
        # output folder.
        self.addToolBarBreak()
        self.addToolBar(self.options)

        self.drop_zone = DropZone(self)
        self.table_model = JobTableModel(self.queue, self)
        self.table = JobTableView(self.table_model, self)
        self.overall = QProgressBar(self)
        self.overall.setRange(0, 1000)
        self.overall.setValue(0)
        self.overall.setTextVisible(False)
        self.overall_label = QLabel("No jobs", self)

        progress_row = QHBoxLayout()
        progress_row.addWidget(self.overall_label)
        progress_row.addWidget(self.overall, 1)
        # A tool bar moves the buttons that do not fit into its extension
        # menu, so a narrow window keeps them all within reach.
        buttons = QToolBar("Job buttons", self)
        buttons.setObjectName("jobButtons")
        buttons.setMovable(False)
        buttons.setFloatable(False)
        for action, label in (
            (self.cancel_action, "Cancel"),
            (self.cancel_all_action, "Cancel All"),
            (self.clear_action, "Clear Finished"),
            (self.open_output_action, "Open Output Folder"),
        ):
            button = QPushButton(action.icon(), label, self)
            button.setToolTip(action.toolTip())
            button.clicked.connect(action.trigger)
            action.enabledChanged.connect(button.setEnabled)
            buttons.addWidget(button)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.drop_zone)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(progress_row)
        left_layout.addWidget(buttons)

        self.compare = ComparePanel(self.fit_action, self.actual_size_action, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("jobsViewerSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.compare)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 6)
        self.splitter.setChildrenCollapsible(False)

        self.log_pane = LogPane(self)
        self.vertical_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.vertical_splitter.setObjectName("mainLogSplitter")
        self.vertical_splitter.addWidget(self.splitter)
        self.vertical_splitter.addWidget(self.log_pane)
        self.vertical_splitter.setStretchFactor(0, 1)
        self.vertical_splitter.setStretchFactor(1, 0)
        self.vertical_splitter.setSizes([660, 110])

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addWidget(self.vertical_splitter)
        self.setCentralWidget(central)

        self.model_label = QLabel(self.model_text, self)
        self.device_label = QLabel("Device: –", self)
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.device_label)

    def _create_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addActions([self.open_files_action, self.open_folder_action])
        file_menu.addSeparator()
        file_menu.addAction(self.open_output_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        jobs_menu = menus.addMenu("&Jobs")
        jobs_menu.addActions(
            [self.cancel_action, self.cancel_all_action, self.clear_action]
        )
        view_menu = menus.addMenu("&View")
        view_menu.addActions(
            [
                self.fit_action,
                self.actual_size_action,
                self.zoom_in_action,
                self.zoom_out_action,
            ]
        )
        help_menu = menus.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _connect(self) -> None:
        self.open_files_action.triggered.connect(self.choose_files)
        self.open_folder_action.triggered.connect(self.choose_folder)
        self.open_output_action.triggered.connect(self.open_output_folder)
        self.quit_action.triggered.connect(self.close)
        self.cancel_action.triggered.connect(self.cancel_selected)
        self.cancel_all_action.triggered.connect(self.queue.cancel_all)
        self.clear_action.triggered.connect(self.queue.clear_finished)
        self.fit_action.triggered.connect(self.compare.view.fit)
        self.actual_size_action.triggered.connect(self.compare.view.actual_size)
        self.zoom_in_action.triggered.connect(lambda: self.compare.view.zoom_by(1.25))
        self.zoom_out_action.triggered.connect(lambda: self.compare.view.zoom_by(0.8))
        self.about_action.triggered.connect(self.show_about)

        self.drop_zone.paths_dropped.connect(self.add_paths)
        self.drop_zone.clicked.connect(self.choose_files)
        self.options.operation_changed.connect(self._on_operation_changed)
        self.options.option_changed.connect(self._on_option_changed)
        self.options.output_dir_changed.connect(self._on_output_dir_changed)

        self.queue.job_changed.connect(self._on_job_changed)
        self.queue.batch_progress.connect(self._on_batch_progress)
        self.queue.jobs_removed.connect(self._on_jobs_removed)
        self.queue.job_added.connect(lambda _row: self.drop_zone.set_compact(True))
        self.queue.model_ready.connect(self._on_model_ready)
        self.queue.model_failed.connect(self._on_model_failed)
        self.preview.loaded.connect(self._on_preview_loaded)
        self.preview.failed.connect(self._on_preview_failed)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.log_bridge.record.connect(self.log_pane.add_record)
        self._update_actions()

    def _restore_settings(self) -> None:
        geometry = self.settings.geometry("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)
        self._fit_screen()
        for name, splitter in self._splitters().items():
            state = self.settings.geometry(name)
            if state is not None:
                splitter.restoreState(state)
        if self.settings.geometry("splitter") is None:
            self.splitter.setSizes([660, 600])
        self.options.set_operation(self.settings.operation)
        for key, spec in self.options.option_specs.items():
            if key != "style":
                self.options.set_option(key, self.settings.option(spec))
        self._restore_style()
        self.options.set_output_dir(self.settings.output_dir)

    def _restore_style(self) -> None:
        picker = self.options.style_picker
        path = self.settings.style_file
        if picker is None or path is None:
            return
        if path in STYLE_CHOICES.presets():
            picker.setValue(STYLE_CHOICES.add_file(path))
        elif path.is_file():
            picker.add_image(path, report=False)
        else:
            logger.info("Style image %s not found; using the first preset", path)

    def _fit_screen(self) -> None:
        """Shrink the window to the screen's free area if the default or saved size is larger."""
        screen = self.screen()
        if screen is None:
            return
        room = screen.availableGeometry().size()
        if self.width() > room.width() or self.height() > room.height():
            self.resize(
                min(self.width(), room.width()), min(self.height(), room.height())
            )

    def _splitters(self) -> dict[str, QSplitter]:
        return {"splitter": self.splitter, "vertical_splitter": self.vertical_splitter}

    def save_settings(self) -> None:
        """Store the window geometry and splitter positions."""
        self.settings.set_geometry("geometry", self.saveGeometry())
        for name, splitter in self._splitters().items():
            self.settings.set_geometry(name, splitter.saveState())
        self.settings.sync()

    # Adding jobs

    def add_paths(
        self,
        paths: Iterable[Path],
        select_first: bool = False,
        operation: str | None = None,
    ) -> list[Job]:
        """Queue jobs for files and folders, with the current operation and options.

        ``operation`` replaces the operation chosen in the window. With
        ``select_first`` the first new job is selected, so the viewer shows it
        once it finishes.
        """
        if self._closed:
            return []
        jobs = self.queue.add_paths(
            [Path(path) for path in paths],
            operation or self.options.current_operation(),
            self.options.option_values(),
            self.options.output_dir(),
            self.resolve_conflict,
        )
        if jobs:
            self.statusBar().showMessage(f"Added {len(jobs)} job(s)", 4000)
        if jobs and select_first:
            self.select_job(jobs[0].id)
        self._update_actions()
        return jobs

    def choose_files(self) -> None:
        """Ask for files with a dialog and queue them."""
        suffixes = sorted(all_input_suffixes() | UNREAD_IMAGE_SUFFIXES)
        patterns = " ".join(f"*{suffix}" for suffix in suffixes)
        names, _ = QFileDialog.getOpenFileNames(
            self,
            "Open photos or .aez files",
            str(self.settings.last_open_dir or Path.home()),
            f"Images and .aez files ({patterns});;All files (*)",
        )
        if names:
            self.settings.last_open_dir = Path(names[0]).parent
            self.add_paths([Path(name) for name in names])

    def choose_folder(self) -> None:
        """Ask for a folder with a dialog and queue every file in it."""
        folder = QFileDialog.getExistingDirectory(
            self, "Open a folder", str(self.settings.last_open_dir or Path.home())
        )
        if folder:
            self.settings.last_open_dir = Path(folder)
            self.add_paths([Path(folder)])

    def _ask_conflict(self, output: Path, source: Path) -> ConflictChoice:
        if self._force_close:
            # Ctrl-C during a run of questions: skip the rest without asking.
            return ConflictChoice(Resolution.SKIP, apply_to_all=True)
        return ask_conflict(self, output, source)

    def _confirm_quit(self, unfinished: int) -> bool:
        return confirm_quit(self, unfinished, self.queue.idle)

    # Job commands

    def cancel_selected(self) -> None:
        """Cancel the jobs selected in the table."""
        self.queue.cancel(self.table.selected_job_ids())

    def select_job(self, job_id: int) -> None:
        """Select the row of ``job_id``, which shows it in the viewer."""
        row = self.queue.row_of(job_id)
        if row is None:
            return
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        index = self.table_model.index(row, 0)
        self.table.selectionModel().select(index, flags)
        self.table.scrollTo(index)
        # Rows just added may change the scroll bars once the view lays them
        # out, which would leave the row half hidden, so scroll again then.
        selected = QPersistentModelIndex(index)

        def scroll_again() -> None:
            if selected.isValid():
                self.table.scrollTo(QModelIndex(selected))

        QTimer.singleShot(0, self.table, scroll_again)

    def output_folder(self) -> Path | None:
        """Return the folder Open Output Folder shows.

        That is the selected job's output folder, else the chosen output
        folder, else the output folder of the newest job.
        """
        ids = self.table.selected_job_ids()
        job = self.queue.job(ids[0]) if ids else None
        if job is not None:
            return job.output.parent
        if self.options.output_dir() is not None:
            return self.options.output_dir()
        if self.queue.jobs:
            return self.queue.jobs[-1].output.parent
        return None

    def open_output_folder(self) -> None:
        """Open the output folder in the desktop's file manager."""
        folder = self.output_folder()
        if folder is None:
            self.statusBar().showMessage(
                "No output folder yet: add some files first", 5000
            )
            return
        if not folder.is_dir():
            self.statusBar().showMessage(f"{folder} does not exist yet", 5000)
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            logger.warning("Failed to open %s in the file manager", folder)

    def show_about(self) -> None:
        """Show the About box without blocking."""
        box = about_box(self, self.model_text)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # Slots

    def _on_operation_changed(self, key: str) -> None:
        self.settings.operation = key

    def _on_option_changed(self, key: str, value: int) -> None:
        if key == "style":
            self.settings.style_file = STYLE_CHOICES.path(value)
        else:
            self.settings.set_option(key, value)

    def _on_output_dir_changed(self, folder: Path | None) -> None:
        self.settings.output_dir = folder

    def _on_batch_progress(self, finished: int, total: int, fraction: float) -> None:
        self.overall.setValue(int(fraction * 1000))
        self.overall_label.setText(batch_label(self.queue.batch_counts()))
        self._update_actions()

    def _on_jobs_removed(self) -> None:
        if (
            self._shown_job_id is not None
            and self.queue.job(self._shown_job_id) is None
        ):
            self.preview.forget(self._shown_job_id)
            self._show_job(None)
        self.drop_zone.set_compact(bool(self.queue.jobs))
        self._update_actions()

    def _on_job_changed(self, row: int) -> None:
        job = self.queue.jobs[row]
        if job.id == self._shown_job_id:
            self._show_job(job)
        elif (
            job.status is JobStatus.DONE
            and not self.table.selectionModel().hasSelection()
        ):
            self.select_job(job.id)

    def _selected_source(self) -> Path | None:
        """Return the photo of the selected job, for a style preview.

        An opened .aez file has no photo to preview but its decoded image,
        once that is written. Until then Preview opens a file dialog.
        """
        ids = self.table.selected_job_ids()
        job = self.queue.job(ids[-1]) if ids else None
        if job is None:
            return None
        if not job.operation.output_shows_input:
            return job.source
        if job.status is JobStatus.DONE and job.output.is_file():
            return job.output
        return None

    def _on_selection_changed(self) -> None:
        self.style_preview.stop()
        ids = self.table.selected_job_ids()
        self._show_job(self.queue.job(ids[-1]) if ids else None)
        self._update_actions()

    def _show_job(self, job: Job | None) -> None:
        previous = self._shown_job_id
        self._shown_job_id = None if job is None else job.id
        if job is None:
            self.preview.cancel()
            self.compare.show_message(
                "No job selected", "Select a finished job to compare"
            )
            return
        title = viewer_title(job)
        if PreviewLoader.can_preview(job):
            if previous != job.id or not self.compare.view.has_images:
                self.compare.show_message(title, "Loading preview…")
                self.preview.request(job)
            return
        messages = {
            JobStatus.QUEUED: "Waiting in the queue",
            JobStatus.RUNNING: f"Running ({job.progress:.0%})",
            JobStatus.FAILED: f"Failed: {job.error}",
            JobStatus.CANCELLED: "Cancelled",
            JobStatus.SKIPPED: f"Skipped: {job.error}",
        }
        self.preview.cancel()
        self.compare.show_message(title, messages.get(job.status, job.status.value))

    def _on_preview_loaded(
        self, job_id: int, before: np.ndarray, after: np.ndarray
    ) -> None:
        job = self.queue.job(job_id)
        if job is None or job_id != self._shown_job_id:
            return
        before_label, after_label = pair_labels(job)
        if job.operation.output_shows_input:
            # Both sides would show the same pixels, so show the result alone.
            note = f"the {job.source.suffix} input has no original to compare against"
            self.compare.show_single(
                viewer_title(job),
                array_to_image(after),
                f"{after_label} · {note}",
            )
            return
        self.compare.show_pair(
            viewer_title(job),
            array_to_image(before),
            array_to_image(after),
            before_label,
            after_label,
        )

    def _on_preview_failed(self, job_id: int, reason: str) -> None:
        job = self.queue.job(job_id)
        if job is not None and job_id == self._shown_job_id:
            self.compare.show_message(
                visible_text(job.source.name), f"Failed to load the preview: {reason}"
            )

    def _on_model_ready(self, model_id: str, device: str, top_quality: int) -> None:
        self.model_text = f"Codec: {model_id}"
        self.model_label.setText(self.model_text)
        self.model_label.setToolTip("")
        self.device_label.setText(f"Device: {device}")
        self.options.set_option_maximum("quality", top_quality)

    def _on_model_failed(self, reason: str) -> None:
        self.model_text = "Codec: not loaded"
        self.model_label.setText(self.model_text)
        self.model_label.setToolTip(reason)
        self.model_label.setStyleSheet("color: #c0392b")
        self.statusBar().showMessage(f"Failed to load the codec: {reason}", 15000)

    def _update_actions(self) -> None:
        selected = [self.queue.job(job_id) for job_id in self.table.selected_job_ids()]
        unfinished = any(not job.status.is_final for job in self.queue.jobs)
        finished = any(job.status.is_final for job in self.queue.jobs)
        self.cancel_action.setEnabled(
            any(job is not None and not job.status.is_final for job in selected)
        )
        self.cancel_all_action.setEnabled(unfinished)
        self.clear_action.setEnabled(finished)

    # Dropping

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        """Accept drags that carry local files, and highlight the drop zone."""
        if accept_file_drag(event):
            self.drop_zone.set_highlight(True)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt API
        """Keep accepting a drag that carries local files."""
        accept_file_drag(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 - Qt API
        """Turn the drop zone's highlight off."""
        self.drop_zone.set_highlight(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        """Queue the dropped files and folders."""
        self.drop_zone.set_highlight(False)
        if accept_file_drag(event):
            self.add_paths(local_paths(event))

    # Closing

    def close_now(self) -> None:
        """Close without asking, cancelling any jobs (Ctrl-C in the terminal).

        An open dialog, such as the quit question itself, is dismissed first,
        and the window closes once the dialog's own event loop has returned.
        """
        self._force_close = True
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog):
            dialog.reject()
            QTimer.singleShot(0, self.close)
            return
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask during a batch, then cancel every job, wait for the workers and save settings."""
        if not self._closed:
            unfinished = sum(not job.status.is_final for job in self.queue.jobs)
            if unfinished and not self._force_close:
                confirmed = self.confirm_quit(unfinished)
                # Ctrl-C while the question was open also means quit.
                if not confirmed and not self._force_close:
                    event.ignore()
                    return
            self._closed = True
            busy = self.queue.is_busy
            self.save_settings()
            stopped = self.queue.shutdown(SHUTDOWN_TIMEOUT_MS)
            stopped = self.preview.shutdown(SHUTDOWN_TIMEOUT_MS) and stopped
            stopped = self.style_preview.shutdown(SHUTDOWN_TIMEOUT_MS) and stopped
            # The stopped worker's report is still queued, and it logs which
            # job was cancelled while running.
            QCoreApplication.sendPostedEvents(self.queue)
            if busy:
                logger.info(
                    "Closed during a batch; %s",
                    "workers stopped" if stopped else "a worker is still running",
                )
            self.log_bridge.detach()
        event.accept()


def viewer_title(job: Job) -> str:
    """Return the viewer's title for ``job``, with control characters made visible.

    Jobs that failed, were cancelled or were skipped wrote no output, so
    their title names the operation instead.
    """
    if job.status in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.SKIPPED):
        return visible_text(f"{job.source.name} · {job.operation.label}")
    return visible_text(f"{job.source.name} → {job.output.name}")


def pair_labels(job: Job) -> tuple[str, str]:
    """Return the viewer's labels for the left (input) and right (output) image."""
    result = job.result
    if job.operation.key == "compress":
        if result is None or result.bpp is None:
            return "Original", "Compressed"
        return "Original", f"Compressed q{result.quality} · {result.bpp:.3f} bpp"
    if job.operation.output_shows_input:
        return f"{job.source.suffix} input", f"{job.output.suffix} output"
    return "Original", job.operation.label


def batch_label(counts: dict[JobStatus, int]) -> str:
    """Return the overall bar's text: "3 of 5 done", with any jobs that did not succeed."""
    total = sum(counts.values())
    if not total:
        return "No jobs"
    finished = sum(count for status, count in counts.items() if status.is_final)
    others = [
        f"{counts[status]} {status.value.lower()}"
        for status in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.SKIPPED)
        if counts[status]
    ]
    if not others:
        return f"{finished} of {total} done"
    done = counts[JobStatus.DONE]
    return f"{finished} of {total} finished: {done} done, {', '.join(others)}"
