# SPDX-License-Identifier: MIT
"""Start the window: ``aegui`` and ``python -m aegui`` without a command land here."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from aegui import __version__
from aegui.app.operations import DEFAULT_OPERATION
from aegui.app.settings import APPLICATION, ORGANIZATION, AppSettings
from aegui.qt.main_window import MainWindow
from aegui.qt.resources import app_icon

SIGNAL_POLL_MS = 200


def create_application(argv: list[str] | None = None) -> QApplication:
    """Return the running QApplication, creating and naming it if needed."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    if not isinstance(app, QApplication):
        raise RuntimeError(
            "A QCoreApplication without widget support is already running"
        )
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("aegui")
    app.setWindowIcon(app_icon())
    return app


def create_window(paths: list[Path], settings: AppSettings | None = None) -> MainWindow:
    """Create the main window and queue ``paths`` once the event loop runs.

    A single path is selected as well, so ``aegui photo.aez`` shows the
    decoded photo as soon as it is ready. These files get the default
    operation (Compress for photos, Decompress for ``.aez`` files), not the
    one remembered from the last session: a photo opened from a file manager
    is not denoised or restyled unasked.
    """
    window = MainWindow(settings or AppSettings())
    if paths:
        QTimer.singleShot(
            0,
            lambda: window.add_paths(
                paths, select_first=len(paths) == 1, operation=DEFAULT_OPERATION
            ),
        )
    return window


def run_window(paths: list[Path]) -> int:
    """Open the window on ``paths`` and run until it closes; return the exit status.

    Ctrl-C in the terminal (SIGINT) closes the window as its close button does,
    so running jobs are cancelled and no partial files are left.
    """
    app = create_application()
    window = create_window(paths)
    signal.signal(signal.SIGINT, lambda *_: window.close_now())
    # Python runs signal handlers only between bytecodes, and Qt's event loop
    # runs none while idle, so a timer wakes the interpreter a few times a second.
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_POLL_MS)
    window.show()
    return app.exec()
