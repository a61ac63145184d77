# SPDX-License-Identifier: MIT
"""Model work and image decoding run on worker threads, never on the GUI thread.

benchmarks/gui_responsiveness.py measures how long the event loop stalls. A
timed assertion here would fail on a busy machine whatever the code does.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from aegui.app import workers
from aegui.app.jobs import JobStatus
from aegui.core import tasks

from .conftest import TIMEOUT_MS, wait_idle, write_photos


def test_jobs_run_off_gui_thread(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = write_photos(tmp_path, 4, width=96, height=96)
    calls: list[tuple[str, bool]] = []

    def recorded(name, function):
        def wrapper(*args, **kwargs):
            calls.append((name, threading.current_thread() is threading.main_thread()))
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        tasks, "compress_file", recorded("compress", tasks.compress_file)
    )
    monkeypatch.setattr(
        workers, "load_pixels", recorded("preview", workers.load_pixels)
    )

    jobs = window.add_paths(photos)
    window.select_job(jobs[0].id)
    wait_idle(qtbot, window, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.compare.view.has_images, timeout=TIMEOUT_MS)

    assert all(job.status is JobStatus.DONE for job in jobs)
    names = {name for name, _ in calls}
    assert names == {"compress", "preview"}, calls
    on_gui_thread = [name for name, on_main in calls if on_main]
    assert not on_gui_thread, f"ran on the GUI thread: {on_gui_thread}"
