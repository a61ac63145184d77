# SPDX-License-Identifier: MIT
"""Broken inputs fail their own rows while the rest of the batch goes on."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyleOptionViewItem

from aegui.app.jobs import JobStatus
from aegui.app.settings import AppSettings
from aegui.core.tasks import compress_file
from aegui.qt.job_table import Column
from aegui.qt.main_window import MainWindow
from tests.conftest import natural_image

from .conftest import TIMEOUT_MS, rows_by_name, wait_idle, wait_running, write_photo


def test_broken_files_fail_only_their_rows(qtbot, window, tmp_path: Path) -> None:
    first = write_photo(tmp_path / "first.png", seed=1)
    fake = tmp_path / "fake.png"
    fake.write_text("this is not a PNG file")
    whole = tmp_path / "whole.aez"
    compress_file(write_photo(tmp_path / "src" / "whole.png", seed=2), whole, 4)
    truncated = tmp_path / "truncated.aez"
    truncated.write_bytes(whole.read_bytes()[:40])
    last = write_photo(tmp_path / "last.png", seed=3)

    window.add_paths([first, fake, truncated, whole, last])
    wait_idle(qtbot, window)

    rows = rows_by_name(window)
    for name in ("first.png", "whole.aez", "last.png"):
        assert rows[name].status is JobStatus.DONE, rows[name].error
        assert rows[name].output.is_file()
    for name in ("fake.png", "truncated.aez"):
        job = rows[name]
        assert job.status is JobStatus.FAILED
        assert job.error
        assert not job.output.exists()
        row = window.queue.row_of(job.id)
        status = window.table_model.index(row, Column.STATUS)
        assert status.data().startswith("Failed: ")
        assert str(job.source) not in status.data()
        assert job.error in status.data(Qt.ItemDataRole.ToolTipRole)
        qtbot.waitUntil(
            lambda job=job: f"Failed: {job.error}" in window.log_pane.text(),
            timeout=5000,
        )
    assert "truncated" in rows["truncated.aez"].error

    # A narrow status column keeps the start of the reason and cuts its end.
    row = window.queue.row_of(rows["fake.png"].id)
    index = window.table_model.index(row, Column.STATUS)
    option = QStyleOptionViewItem()
    window.table.itemDelegateForColumn(Column.STATUS).initStyleOption(option, index)
    assert option.textElideMode == Qt.TextElideMode.ElideRight
    assert option.text.startswith("Failed: ")


def test_selecting_failed_row_shows_reason(qtbot, window, tmp_path: Path) -> None:
    fake = tmp_path / "fake.png"
    fake.write_text("text")
    (job,) = window.add_paths([fake])
    wait_idle(qtbot, window)

    window.select_job(job.id)

    assert not window.compare.view.has_images
    assert window.compare.view.message == f"Failed: {job.error}"
    # No output was written, so the title does not name one.
    assert window.compare.title.text() == "fake.png · Compress"


def test_missing_model_fails_jobs_with_reason(
    qtbot, settings: AppSettings, tmp_path: Path, monkeypatch
) -> None:
    empty = tmp_path / "no-weights"
    empty.mkdir()
    monkeypatch.setenv("AEGUI_PRETRAINED", str(empty))
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.queue.model_error is not None, timeout=TIMEOUT_MS)

    (job,) = window.add_paths([write_photo(tmp_path / "p.png")])
    wait_idle(qtbot, window)

    assert window.model_label.text() == "Codec: not loaded"
    assert "manifest" in window.model_label.toolTip()
    assert job.status is JobStatus.FAILED
    assert "manifest" in job.error


def test_conversion_warning_logged_once(qtbot, window, tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(natural_image(32, 24)).convert("CMYK").save(path)
    warning = f"{path}: CMYK converted to RGB"

    window.add_paths([path])
    wait_idle(qtbot, window)

    qtbot.waitUntil(lambda: warning in window.log_pane.text(), timeout=5000)
    assert window.log_pane.text().count(warning) == 1


def test_output_appearing_after_queueing_is_kept(
    qtbot, window, slow_operation, tmp_path: Path
) -> None:
    blocker = tmp_path / "first.slow"
    blocker.write_bytes(b"x")
    photo = write_photo(tmp_path / "late.png")
    slow_job, photo_job = window.add_paths([blocker, photo])
    wait_running(qtbot, slow_job)
    photo_job.output.parent.mkdir(parents=True, exist_ok=True)
    photo_job.output.write_bytes(b"made by hand")

    window.queue.cancel([slow_job.id])
    wait_idle(qtbot, window)

    assert photo_job.status is JobStatus.FAILED
    assert photo_job.output.read_bytes() == b"made by hand"
    assert photo_job.error.startswith(
        f"late.aez already exists in {photo_job.output.parent} (it appeared after"
    )
    assert "--force" not in photo_job.error
