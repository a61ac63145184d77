# SPDX-License-Identifier: MIT
"""Cancelling jobs: one running job, queued jobs, and everything mid-batch."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt

from aegui.app.jobs import JobStatus

from .conftest import (
    TIMEOUT_MS,
    temporary_files,
    wait_idle,
    wait_running,
    write_photos,
)


def test_delete_cancels_running_job_within_a_second(
    qtbot, window, slow_operation, tmp_path: Path
) -> None:
    source = tmp_path / "long.slow"
    source.write_bytes(b"x")
    (job,) = window.add_paths([source])
    wait_running(qtbot, job)
    window.select_job(job.id)
    window.table.setFocus()

    started = time.monotonic()
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: job.status is JobStatus.CANCELLED, timeout=TIMEOUT_MS)
    elapsed = time.monotonic() - started

    assert elapsed < 1.0
    assert not job.output.exists()
    assert window.queue.active_workers == 0


def test_cancel_selected_queued_job_skips_it(
    qtbot, window, slow_operation, tmp_path: Path
) -> None:
    blocker = tmp_path / "first.slow"
    blocker.write_bytes(b"x")
    photos = write_photos(tmp_path, 2)
    first, second, third = window.add_paths([blocker, *photos])
    wait_running(qtbot, first)

    window.select_job(second.id)
    window.cancel_action.trigger()

    assert second.status is JobStatus.CANCELLED
    assert first.status is JobStatus.RUNNING
    window.queue.cancel([first.id])
    wait_idle(qtbot, window)
    assert first.status is JobStatus.CANCELLED
    assert third.status is JobStatus.DONE
    assert not second.output.exists()
    assert third.output.is_file()


def test_cancel_all_mid_batch_leaves_no_partial_files(
    qtbot, window, tmp_path: Path
) -> None:
    photos = write_photos(tmp_path, 5, width=160, height=128)
    jobs = window.add_paths(photos)
    qtbot.waitUntil(lambda: jobs[0].status is JobStatus.RUNNING, timeout=TIMEOUT_MS)

    window.cancel_all_action.trigger()
    wait_idle(qtbot, window)

    statuses = [job.status for job in jobs]
    assert statuses.count(JobStatus.CANCELLED) >= len(jobs) - 1
    for job in jobs:
        if job.status is JobStatus.DONE:
            assert job.output.is_file()
        else:
            assert job.status is JobStatus.CANCELLED
            assert not job.output.exists()
    assert temporary_files(tmp_path) == []
    done = statuses.count(JobStatus.DONE)
    assert window.overall_label.text() == (
        f"5 of 5 finished: {done} done, {5 - done} cancelled"
    )
    assert not window.cancel_all_action.isEnabled()


def test_new_batch_after_cancel_runs(
    qtbot, window, slow_operation, tmp_path: Path
) -> None:
    blocker = tmp_path / "first.slow"
    blocker.write_bytes(b"x")
    (slow_job,) = window.add_paths([blocker])
    wait_running(qtbot, slow_job)
    window.queue.cancel_all()
    wait_idle(qtbot, window)

    (photo_job,) = window.add_paths(write_photos(tmp_path / "later", 1))
    wait_idle(qtbot, window)

    assert photo_job.status is JobStatus.DONE
    assert window.overall_label.text() == "1 of 1 done"


def test_cancel_disabled_for_finished_selection(
    qtbot, window, slow_operation, tmp_path: Path
) -> None:
    done = window.add_paths(write_photos(tmp_path, 1))[0]
    wait_idle(qtbot, window)
    blocker = tmp_path / "long.slow"
    blocker.write_bytes(b"x")
    running = window.add_paths([blocker])[0]
    wait_running(qtbot, running)

    window.select_job(done.id)
    assert not window.cancel_action.isEnabled()
    window.select_job(running.id)
    assert window.cancel_action.isEnabled()

    window.queue.cancel_all()
    wait_idle(qtbot, window)
