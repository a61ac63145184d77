# SPDX-License-Identifier: MIT
"""Closing the window while jobs run."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from aegui.app.jobs import JobStatus
from aegui.app.log_bridge import LOGGER_NAME
from aegui.app.settings import AppSettings
from aegui.qt.dialogs import confirm_quit
from aegui.qt.main_window import MainWindow

from .conftest import (
    TIMEOUT_MS,
    temporary_files,
    wait_idle,
    wait_running,
    write_photos,
)


def test_close_during_slow_job_stops_worker(
    qtbot, window, slow_operation, tmp_path: Path
) -> None:
    blocker = tmp_path / "long.slow"
    blocker.write_bytes(b"x")
    photos = write_photos(tmp_path, 3)
    jobs = window.add_paths([blocker, *photos])
    wait_running(qtbot, jobs[0])

    started = time.monotonic()
    assert window.close()
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert window.queue.active_workers == 0
    # The running job's own report arrives before the window is gone.
    assert jobs[0].status is JobStatus.CANCELLED
    for job in jobs[1:]:
        assert job.status is JobStatus.CANCELLED
        assert not job.output.exists()
    assert temporary_files(tmp_path) == []


def test_close_during_real_batch_leaves_no_partial_files(
    qtbot, tiny_codec, settings: AppSettings, tmp_path: Path
) -> None:
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    photos = write_photos(tmp_path, 4, width=160, height=128)
    jobs = window.add_paths(photos)
    qtbot.waitUntil(lambda: jobs[0].status is JobStatus.RUNNING, timeout=TIMEOUT_MS)

    window.close()

    assert window.queue.active_workers == 0
    assert temporary_files(tmp_path) == []
    assert all(job.status is JobStatus.CANCELLED for job in jobs[1:])
    for job in jobs:
        if job.output.exists():
            # Only a job that finished before the close may have written its file.
            assert job.output.read_bytes()[:4] == b"\x89AEZ"
    assert sum(job.output.exists() for job in jobs) <= 1


def test_close_detaches_log_handler(qtbot, window) -> None:
    logger = logging.getLogger(LOGGER_NAME)
    assert window.log_bridge.handler in logger.handlers

    window.close()

    assert window.log_bridge.handler not in logger.handlers


def test_close_during_batch_asks_first(
    qtbot, window, slow_operation, tmp_path: Path
) -> None:
    blocker = tmp_path / "long.slow"
    blocker.write_bytes(b"x")
    jobs = window.add_paths([blocker, *write_photos(tmp_path, 2)])
    wait_running(qtbot, jobs[0])
    counts: list[int] = []

    def keep_running(count: int) -> bool:
        counts.append(count)
        return False

    window.confirm_quit = keep_running
    assert not window.close()
    assert counts == [3]
    assert window.isVisible()
    assert jobs[0].status is JobStatus.RUNNING
    assert jobs[1].status is JobStatus.QUEUED

    window.confirm_quit = lambda count: True
    assert window.close()
    assert window.queue.active_workers == 0
    assert jobs[1].status is JobStatus.CANCELLED


def test_close_when_idle_does_not_ask(qtbot, window, tmp_path: Path) -> None:
    window.add_paths(write_photos(tmp_path, 1))
    wait_idle(qtbot, window)
    counts: list[int] = []

    def record(count: int) -> bool:
        counts.append(count)
        return True

    window.confirm_quit = record
    assert window.close()
    assert counts == []


def test_close_now_skips_question(
    qtbot, window, slow_operation, tmp_path: Path
) -> None:
    blocker = tmp_path / "long.slow"
    blocker.write_bytes(b"x")
    jobs = window.add_paths([blocker])
    wait_running(qtbot, jobs[0])
    window.confirm_quit = lambda count: False

    window.close_now()

    assert not window.isVisible()
    assert window.queue.active_workers == 0


def test_quit_question_keep_running_button(qtbot) -> None:
    def press_keep_running() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        assert box.text() == "2 jobs have not finished yet."
        box.defaultButton().click()

    QTimer.singleShot(0, press_keep_running)
    assert confirm_quit(None, 2) is False


def test_quit_question_for_one_job(qtbot) -> None:
    texts: list[str] = []

    def read_and_keep_running() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        texts.extend([box.text(), box.informativeText()])
        box.defaultButton().click()

    QTimer.singleShot(0, read_and_keep_running)
    assert confirm_quit(None, 1) is False
    assert texts[0] == "1 job has not finished yet."
    assert texts[1].startswith("Quitting cancels it.")


def reject_stuck_dialog() -> None:
    """Close a dialog still open at the timeout, so a regression fails, not hangs."""
    dialog = QApplication.activeModalWidget()
    if dialog is not None:
        dialog.reject()


def test_ctrl_c_during_quit_question(
    qtbot, window, slow_operation, tmp_path: Path, monkeypatch
) -> None:
    blocker = tmp_path / "long.slow"
    blocker.write_bytes(b"x")
    jobs = window.add_paths([blocker])
    wait_running(qtbot, jobs[0])
    monkeypatch.setattr("aegui.qt.main_window.confirm_quit", confirm_quit)
    questions: list[QMessageBox] = []

    def interrupt() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        questions.append(box)
        window.close_now()

    QTimer.singleShot(0, interrupt)
    QTimer.singleShot(TIMEOUT_MS, reject_stuck_dialog)
    window.close()

    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT_MS)
    assert len(questions) == 1
    assert not questions[0].isVisible()
    assert window.queue.active_workers == 0
    assert jobs[0].status is JobStatus.CANCELLED


def test_quit_question_closes_when_batch_ends(
    qtbot, window, tmp_path: Path, monkeypatch
) -> None:
    jobs = window.add_paths(write_photos(tmp_path, 2))
    monkeypatch.setattr("aegui.qt.main_window.confirm_quit", confirm_quit)
    texts: list[str] = []
    QTimer.singleShot(0, lambda: texts.append(QApplication.activeModalWidget().text()))

    QTimer.singleShot(TIMEOUT_MS, reject_stuck_dialog)

    # The question is open while the two jobs run. It closes when they finish.
    assert window.close()

    assert len(texts) == 1
    assert texts[0].endswith("jobs have not finished yet.")
    assert all(job.status is JobStatus.DONE for job in jobs)
    assert all(job.output.exists() for job in jobs)
