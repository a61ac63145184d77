# SPDX-License-Identifier: MIT
"""Window features: settings, shortcuts, dialogs, status bar and start-up paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QSettings, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from aegui import cli
from aegui.app.jobs import JobStatus
from aegui.app.settings import AppSettings
from aegui.core.tasks import compress_file
from aegui.qt import main as qt_main
from aegui.qt.drop_zone import (
    COMPACT_TEXT,
    EMPTY_TEXT,
    FULL_HEIGHT,
    HINT_TEXT,
    NARROW_WIDTH,
    DropZone,
)
from aegui.qt.main_window import DEFAULT_SIZE, MainWindow

from .conftest import TIMEOUT_MS, wait_idle, write_photo, write_photos


def test_settings_survive_restart(qtbot, tiny_codec, tmp_path: Path) -> None:
    store = tmp_path / "restart.ini"
    first = MainWindow(AppSettings.from_file(store))
    qtbot.addWidget(first)
    first.show()
    first.options.set_operation("decompress")
    first.options.set_option("quality", 7)
    first.options.set_option("refine", 30)
    first.options.set_output_dir(tmp_path / "out")
    # The 800x600 offscreen screen leaves room only for a smaller height.
    first.resize(first.minimumSizeHint().width(), 520)
    saved_size = first.size()
    first.close()

    second = MainWindow(AppSettings.from_file(store))
    qtbot.addWidget(second)

    assert second.options.current_operation() == "decompress"
    assert second.options.option_values()["quality"] == 7
    assert second.options.option_values()["refine"] == 30
    assert second.options.output_dir() == tmp_path / "out"
    assert second.size() == saved_size
    assert second.height() == 520


def test_fresh_settings_use_defaults(qtbot, window) -> None:
    # The default size, shrunk to the screen: the offscreen one is 800 wide.
    room = window.screen().availableGeometry().size()
    assert room.width() < DEFAULT_SIZE.width()
    assert window.width() == room.width()
    assert window.height() == min(DEFAULT_SIZE.height(), room.height())
    assert window.options.current_operation() == "compress"
    assert window.options.option_values() == {"quality": 6, "refine": 0}
    assert window.options.output_dir() is None
    assert window.drop_zone.title.text() == EMPTY_TEXT


def test_default_settings_store_is_temporary(private_qsettings: Path) -> None:
    store = AppSettings().store

    assert Path(store.fileName()).is_relative_to(private_qsettings)
    assert store.format() == QSettings.Format.NativeFormat


@pytest.mark.parametrize(
    ("action_name", "keys"),
    [
        ("open_files_action", "Ctrl+O"),
        ("open_folder_action", "Ctrl+Shift+O"),
        ("cancel_action", "Del"),
        ("quit_action", "Ctrl+Q"),
        ("fit_action", "Ctrl+0"),
        ("actual_size_action", "Ctrl+1"),
        ("about_action", "F1"),
    ],
)
def test_shortcut_bound(window, action_name: str, keys: str) -> None:
    action = getattr(window, action_name)

    assert action.shortcut() == QKeySequence(keys)


def test_zoom_in_also_takes_ctrl_equals(window) -> None:
    shortcuts = window.zoom_in_action.shortcuts()

    assert QKeySequence("Ctrl+=") in shortcuts
    assert QKeySequence(QKeySequence.StandardKey.ZoomIn) in shortcuts


def test_tab_leaves_job_table(qtbot, window, tmp_path: Path) -> None:
    first, *_ = window.add_paths(write_photos(tmp_path, 3))
    wait_idle(qtbot, window)
    window.table.setFocus()
    window.select_job(first.id)

    qtbot.keyClick(window.table, Qt.Key.Key_Tab)

    assert not window.table.hasFocus()
    assert window.table.selected_job_ids() == [first.id]


@pytest.mark.parametrize("gesture", ["click", "enter", "typing"])
def test_output_field_asks_for_folder(
    qtbot, window, tmp_path: Path, monkeypatch, gesture: str
) -> None:
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *args: str(tmp_path)
    )
    field = window.options.output
    if gesture == "click":
        qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    elif gesture == "enter":
        qtbot.keyClick(field, Qt.Key.Key_Return)
    else:
        qtbot.keyClicks(field, "abc")

    expected = None if gesture == "typing" else tmp_path
    assert window.options.output_dir() == expected
    assert "abc" not in field.text()


def test_f1_opens_about_box(qtbot, window) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F1)

    qtbot.waitUntil(
        lambda: any(box.isVisible() for box in window.findChildren(QMessageBox)),
        timeout=5000,
    )
    (box,) = [box for box in window.findChildren(QMessageBox) if box.isVisible()]
    assert "aegui" in box.text()
    assert "aegui-msh-gain" in box.text()
    box.close()


def test_ctrl_q_closes_window(qtbot, window) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)

    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


def test_open_files_dialog_queues_selection(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = write_photos(tmp_path, 2)
    names = [str(photo) for photo in photos]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *args: (names, ""))

    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)

    assert [job.source for job in window.queue.jobs] == photos
    assert window.settings.last_open_dir == tmp_path


def test_open_files_filter_lists_gif(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    filters: list[str] = []

    def choose_nothing(*args: object) -> tuple[list[str], str]:
        filters.append(str(args[3]))
        return [], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", choose_nothing)
    window.open_files_action.trigger()

    first_filter = filters[0].split(";;")[0]
    # Qt drops typed names the filter does not match, so a GIF picked with a
    # photo would vanish without a row saying it is not read.
    assert "*.gif" in first_filter
    assert "*.png" in first_filter
    assert "*.aez" in first_filter


def test_open_folder_dialog_queues_folder(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_photos(tmp_path / "album", 2)
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *args: str(tmp_path / "album")
    )

    window.open_folder_action.trigger()
    wait_idle(qtbot, window)

    assert len(window.queue.jobs) == 2


class UrlRecorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def record(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_output_folder_uses_desktop_services(
    qtbot, window, tmp_path: Path
) -> None:
    (job,) = window.add_paths(write_photos(tmp_path, 1))
    wait_idle(qtbot, window)
    recorder = UrlRecorder()
    QDesktopServices.setUrlHandler("file", recorder, "record")
    try:
        window.select_job(job.id)
        window.open_output_action.trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")

    assert recorder.urls == [QUrl.fromLocalFile(str(tmp_path / "aegui-out"))]


def test_status_bar_names_model_and_device(window) -> None:
    assert window.model_label.text() == "Codec: aegui-msh-gain-n16-m24"
    assert window.device_label.text().startswith("Device: ")
    assert "CPU" in window.device_label.text() or "GPU" in window.device_label.text()


def test_clear_finished_removes_rows(qtbot, window, tmp_path: Path) -> None:
    window.add_paths(write_photos(tmp_path, 2))
    wait_idle(qtbot, window)

    window.clear_action.trigger()

    assert window.queue.jobs == []
    assert window.table_model.rowCount() == 0
    assert not window.compare.view.has_images


def test_drop_zone_compact_with_jobs(qtbot, window, tmp_path: Path) -> None:
    window.resize(800, 520)
    qtbot.waitExposed(window)
    full_height = window.drop_zone.height()
    window.add_paths(write_photos(tmp_path, 2))
    qtbot.waitUntil(lambda: window.drop_zone.height() < full_height, timeout=TIMEOUT_MS)

    assert window.drop_zone.is_compact()
    assert window.drop_zone.title.text() == COMPACT_TEXT
    # The bar still fits its text.
    title = window.drop_zone.title
    assert title.height() >= title.heightForWidth(title.width())
    wait_idle(qtbot, window)

    window.clear_action.trigger()

    assert not window.drop_zone.is_compact()
    assert window.drop_zone.title.text() == EMPTY_TEXT


def test_narrow_drop_zone_hides_icon_and_hint(qtbot) -> None:
    zone = DropZone()
    qtbot.addWidget(zone)
    zone.resize(NARROW_WIDTH + 100, FULL_HEIGHT)
    zone.show()
    qtbot.waitExposed(zone)
    assert zone.icon.isVisible()
    assert zone.toolTip() == ""

    zone.resize(NARROW_WIDTH - 100, FULL_HEIGHT)

    assert not zone.icon.isVisible()
    assert not zone.hint.isVisible()
    assert zone.toolTip() == HINT_TEXT


def test_command_line_aez_opens_in_window(qtbot, tiny_codec, tmp_path: Path) -> None:
    aez = tmp_path / "photo.aez"
    compress_file(write_photo(tmp_path / "src" / "photo.png"), aez, 4)
    settings = AppSettings.from_file(tmp_path / "cli.ini")

    window = qt_main.create_window([aez], settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: len(window.queue.jobs) == 1, timeout=TIMEOUT_MS)
    (job,) = window.queue.jobs
    wait_idle(qtbot, window)

    assert job.operation.key == "decompress"
    assert job.status is JobStatus.DONE
    assert window.table.selected_job_ids() == [job.id]
    qtbot.waitUntil(lambda: window.compare.view.has_images, timeout=TIMEOUT_MS)


def test_command_line_photo_gets_compress_not_remembered(
    qtbot, tiny_denoiser, tmp_path: Path
) -> None:
    photo = write_photo(tmp_path / "photo.png")
    settings = AppSettings.from_file(tmp_path / "cli.ini")
    settings.operation = "denoise"

    window = qt_main.create_window([photo], settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: len(window.queue.jobs) == 1, timeout=TIMEOUT_MS)
    (job,) = window.queue.jobs
    wait_idle(qtbot, window)

    assert window.options.current_operation() == "denoise"
    assert job.operation.key == "compress"
    assert job.output.suffix == ".aez"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], []),
        (["a.aez"], [Path("a.aez")]),
        (["x.png", "y.png"], [Path("x.png"), Path("y.png")]),
    ],
)
def test_cli_without_command_opens_window(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: list[Path]
) -> None:
    opened: list[list[Path]] = []
    monkeypatch.setattr(qt_main, "run_window", lambda paths: opened.append(paths) or 0)

    assert cli.main(argv) == 0
    assert opened == [expected]


def test_selected_new_job_fully_visible(qtbot, window, tmp_path: Path) -> None:
    window.resize(800, 520)
    qtbot.waitExposed(window)
    window.add_paths(write_photos(tmp_path / "many", 23, width=32, height=32))
    wait_idle(qtbot, window)

    [job] = window.add_paths([write_photo(tmp_path / "last.png")], select_first=True)
    qtbot.wait(50)

    row = window.queue.row_of(job.id)
    rect = window.table.visualRect(window.table_model.index(row, 0))
    assert window.table.viewport().rect().contains(rect)
