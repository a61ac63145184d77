# SPDX-License-Identifier: MIT
"""Forward ``aegui`` log records, from any thread, to a Qt signal."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

LOGGER_NAME = "aegui"


class LogBridge(QObject):
    """Send records of the ``aegui`` logger to ``record`` as (level, text).

    The handler may be called on a worker thread; the signal then reaches
    GUI-thread slots as a queued call. ``attach`` lowers the ``aegui`` logger's
    level to ``level`` if it was higher, and ``detach`` restores it.
    """

    record = Signal(int, str)

    def __init__(
        self, parent: QObject | None = None, level: int = logging.INFO
    ) -> None:
        super().__init__(parent)
        self.level = level
        self.handler = _SignalHandler(self)
        self.handler.setLevel(level)
        self.handler.setFormatter(
            logging.Formatter("%(asctime)s  %(message)s", "%H:%M:%S")
        )
        self._saved_level: int | None = None

    def attach(self) -> None:
        """Start forwarding records."""
        logger = logging.getLogger(LOGGER_NAME)
        if self.handler in logger.handlers:
            return
        self._saved_level = logger.level
        if logger.getEffectiveLevel() > self.level:
            logger.setLevel(self.level)
        logger.addHandler(self.handler)

    def detach(self) -> None:
        """Stop forwarding records and restore the logger's level."""
        logger = logging.getLogger(LOGGER_NAME)
        logger.removeHandler(self.handler)
        if self._saved_level is not None:
            logger.setLevel(self._saved_level)
            self._saved_level = None


class _SignalHandler(logging.Handler):
    def __init__(self, bridge: LogBridge) -> None:
        super().__init__()
        self.bridge = bridge

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.record.emit(record.levelno, self.format(record))
        except RuntimeError:  # the bridge's C++ object is already deleted
            pass
