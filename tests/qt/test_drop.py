# SPDX-License-Identifier: MIT
"""Dropping files and folders onto the drop zone with real drag-and-drop events."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl

from aegui.app.jobs import JobStatus
from aegui.core.container import MAGIC
from aegui.core.tasks import compress_file

from .conftest import (
    drop_paths,
    rows_by_name,
    send_drop,
    wait_idle,
    write_photo,
)


def test_drop_files_and_folder_queues_jobs(qtbot, window, tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "loose.png")
    aez = tmp_path / "packed.aez"
    compress_file(write_photo(tmp_path / "packed-source.png", seed=3), aez, 4)
    folder = tmp_path / "album"
    write_photo(folder / "a.png", seed=1)
    write_photo(folder / "nested" / "b.jpg", seed=2)
    earlier = folder / "aegui-out" / "old.aez"
    earlier.parent.mkdir()
    earlier.write_bytes(aez.read_bytes())
    (folder / "notes.txt").write_text("not a photo")

    entered, dropped = drop_paths(window.drop_zone, [photo, aez, folder])

    assert entered
    assert dropped
    rows = rows_by_name(window)
    assert sorted(rows) == ["a.png", "b.jpg", "loose.png", "packed.aez"]
    assert rows["loose.png"].operation.key == "compress"
    assert rows["packed.aez"].operation.key == "decompress"
    assert rows["b.jpg"].output == folder / "nested" / "aegui-out" / "b.aez"

    wait_idle(qtbot, window)
    for job in window.queue.jobs:
        assert job.status is JobStatus.DONE, job.error
        assert job.output.is_file()
    assert (tmp_path / "aegui-out" / "loose.aez").read_bytes().startswith(MAGIC)
    assert (tmp_path / "aegui-out" / "packed.png").is_file()


def test_drop_with_decompress_chosen_still_compresses_photos(
    qtbot, window, tmp_path: Path
) -> None:
    window.options.set_operation("decompress")
    drop_paths(window.drop_zone, [write_photo(tmp_path / "p.png")])

    assert [job.operation.key for job in window.queue.jobs] == ["compress"]
    wait_idle(qtbot, window)


def test_drag_without_local_files_is_ignored(window) -> None:
    text_only = QMimeData()
    text_only.setText("hello")
    web = QMimeData()
    web.setUrls([QUrl("https://example.org/photo.png")])

    for mime in (text_only, web):
        entered, dropped = send_drop(window.drop_zone, mime)
        assert not entered
        assert not dropped
    assert window.queue.jobs == []


def test_drop_of_missing_path_logs_warning(qtbot, window, tmp_path: Path) -> None:
    drop_paths(window.drop_zone, [tmp_path / "gone.png"])

    assert window.queue.jobs == []
    qtbot.waitUntil(lambda: "gone.png" in window.log_pane.text(), timeout=5000)
    assert "no such file or folder" in window.log_pane.text()


def test_drop_names_skipped_file_types(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "album"
    write_photo(folder / "a.png", seed=1)
    (folder / "clip.gif").write_bytes(b"GIF89a")

    drop_paths(window.drop_zone, [folder])

    assert [job.source.name for job in window.queue.jobs] == ["a.png"]
    qtbot.waitUntil(lambda: "clip.gif" in window.log_pane.text(), timeout=5000)
    wait_idle(qtbot, window)


def test_drop_on_window_outside_zone_queues_jobs(qtbot, window, tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "anywhere.png")

    entered, dropped = drop_paths(window, [photo])

    assert entered
    assert dropped
    assert [job.source for job in window.queue.jobs] == [photo]
    wait_idle(qtbot, window)
