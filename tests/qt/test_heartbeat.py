# SPDX-License-Identifier: MIT
"""The GUI thread keeps handling events while a batch runs on the worker."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer

from aegui.app.jobs import JobStatus

from .conftest import TIMEOUT_MS, wait_idle, write_photos

HEARTBEAT_MS = 10
MAX_STALL_S = 0.100


def test_event_loop_stall_stays_short(qtbot, window, tmp_path: Path) -> None:
    photos = write_photos(tmp_path, 8, width=192, height=192)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(HEARTBEAT_MS)
    timer.timeout.connect(beat)
    timer.start()
    last[0] = time.perf_counter()
    jobs = window.add_paths(photos)
    window.select_job(jobs[0].id)
    wait_idle(qtbot, window, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.compare.view.has_images, timeout=TIMEOUT_MS)
    timer.stop()

    assert all(job.status is JobStatus.DONE for job in jobs)
    assert len(gaps) >= 5
    assert max(gaps) < MAX_STALL_S, f"longest stall {max(gaps) * 1000:.0f} ms"
