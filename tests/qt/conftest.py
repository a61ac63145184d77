# SPDX-License-Identifier: MIT
"""Fixtures for the window tests: headless Qt, private settings, small photos."""

from __future__ import annotations

import os

# Set before any QApplication exists, so the tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from aegui.app.jobs import ConflictChoice, Job, JobStatus, Resolution
from aegui.app.operations import OPERATIONS, JobRequest, Operation
from aegui.app.settings import AppSettings
from aegui.qt.main_window import MainWindow

TIMEOUT_MS = 20_000


@pytest.fixture(autouse=True)
def private_qsettings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point every default QSettings location at a temporary folder."""
    folder = tmp_path / "qsettings"
    for settings_format in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    yield folder


@pytest.fixture(autouse=True)
def quit_without_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer the quit question with Quit, so no test blocks on the dialog."""
    monkeypatch.setattr(
        "aegui.qt.main_window.confirm_quit", lambda parent, count, all_done=None: True
    )


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    """Settings stored in a temporary INI file."""
    return AppSettings.from_file(tmp_path / "aegui-settings.ini")


class ConflictAnswers:
    """A conflict resolver that returns a fixed choice and records each call."""

    def __init__(self) -> None:
        self.choice = ConflictChoice(Resolution.SKIP)
        self.calls: list[tuple[Path, Path]] = []

    def __call__(self, output: Path, source: Path) -> ConflictChoice:
        self.calls.append((output, source))
        return self.choice


@pytest.fixture
def conflicts() -> ConflictAnswers:
    """The resolver the ``window`` fixture uses; set ``choice`` to change its answer."""
    return ConflictAnswers()


@pytest.fixture
def window(
    qtbot, tiny_codec, settings: AppSettings, conflicts: ConflictAnswers
) -> MainWindow:
    """A shown main window with the tiny codec loaded."""
    main_window = MainWindow(settings, resolve_conflict=conflicts)
    qtbot.addWidget(main_window)
    main_window.show()
    qtbot.waitUntil(lambda: main_window.queue.model_id is not None, timeout=TIMEOUT_MS)
    return main_window


def wait_idle(qtbot, window: MainWindow, timeout: int = TIMEOUT_MS) -> None:
    """Wait until every job in the window's queue reached a final status."""
    qtbot.waitUntil(
        lambda: (
            all(job.status.is_final for job in window.queue.jobs)
            and window.queue.active_workers == 0
        ),
        timeout=timeout,
    )


def photo_array(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Return a smooth uint8 RGB image with a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 128 + 100 * np.sin(x / (7 + seed))
    green = 128 + 100 * np.cos(y / 9)
    blue = 255 * x / max(1, width - 1)
    image = np.stack([red, green, blue], axis=2) + rng.normal(0, 4, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_photo(path: Path, width: int = 96, height: int = 80, seed: int = 0) -> Path:
    """Write a small PNG photo to ``path`` and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo_array(width, height, seed)).save(path)
    return path


def write_photos(
    folder: Path, count: int, width: int = 96, height: int = 80
) -> list[Path]:
    """Write ``count`` small PNG photos named photo-0.png, photo-1.png..."""
    return [
        write_photo(folder / f"photo-{index}.png", width, height, seed=index)
        for index in range(count)
    ]


def temporary_files(folder: Path) -> list[Path]:
    """Return leftover atomic-write temporaries below ``folder``."""
    return sorted(folder.rglob(".aegui-*.tmp"))


def drop_paths(target: QWidget, paths: list[Path]) -> tuple[bool, bool]:
    """Drag ``paths`` onto ``target`` with real drag-enter and drop events.

    Returns whether the drag-enter and the drop were accepted.
    """
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    return send_drop(target, mime)


def send_drop(target: QWidget, mime: QMimeData) -> tuple[bool, bool]:
    """Send a drag-enter and a drop carrying ``mime`` to the middle of ``target``."""
    center = QPointF(target.rect().center())
    enter = QDragEnterEvent(
        center,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(
        center,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, drop)
    return enter.isAccepted(), drop.isAccepted()


def rows_by_name(window: MainWindow) -> dict[str, Job]:
    """Return the window's jobs keyed by source file name."""
    return {job.source.name: job for job in window.queue.jobs}


# A stand-in operation whose job runs until it is cancelled, so tests can act
# while a job is known to be in the middle of its work.
SLOW_LIMIT_S = 30.0


def _run_slow(
    request: JobRequest,
    progress: Callable[[float], None],
    cancelled: Callable[[], bool],
) -> object:
    started = time.monotonic()
    while time.monotonic() - started < SLOW_LIMIT_S:
        if cancelled():
            raise InterruptedError("Cancelled")
        progress(min(0.99, (time.monotonic() - started) / SLOW_LIMIT_S))
        time.sleep(0.005)
    raise TimeoutError(f"{request.source}: slow test job was never cancelled")


SLOW = Operation(
    key="slow",
    label="Slow",
    input_suffixes=frozenset({".slow"}),
    output_suffix=".out",
    options=(),
    run=_run_slow,
)


@pytest.fixture
def slow_operation(monkeypatch: pytest.MonkeyPatch) -> Operation:
    """Register the never-ending SLOW operation for ``.slow`` files."""
    monkeypatch.setitem(OPERATIONS, SLOW.key, SLOW)
    return SLOW


def wait_running(qtbot, job: Job) -> None:
    """Wait until ``job`` runs and has reported some progress."""
    qtbot.waitUntil(
        lambda: job.status is JobStatus.RUNNING and job.progress > 0, timeout=TIMEOUT_MS
    )
