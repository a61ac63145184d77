# SPDX-License-Identifier: MIT
"""A read-only log of what the jobs did, newest line last."""

from __future__ import annotations

import html
import logging

from PySide6.QtWidgets import QPlainTextEdit, QWidget

MAX_LINES = 5000
COLORS = {logging.WARNING: "#b36200", logging.ERROR: "#c0392b"}


class LogPane(QPlainTextEdit):
    """Show log lines, warnings in orange and errors in red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setPlaceholderText("Job messages appear here")
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

    def add_record(self, level: int, text: str) -> None:
        """Append one line, colored by its logging ``level``."""
        color = COLORS.get(logging.ERROR if level >= logging.ERROR else level)
        if color is None:
            color = self.palette().text().color().name()
        # Every line sets its color, because a new block would otherwise keep
        # the color of the line before it.
        self.appendHtml(f'<span style="color:{color}">{html.escape(text)}</span>')
        scroll = self.verticalScrollBar()
        scroll.setValue(scroll.maximum())

    def text(self) -> str:
        """Return the whole log as plain text."""
        return self.toPlainText()
