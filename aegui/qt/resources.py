# SPDX-License-Identifier: MIT
"""Files the window loads from ``assets/``: the application icon."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from aegui.paths import data_dir

ASSETS = data_dir("assets")
ICON_PATH = ASSETS / "icons" / "aegui.svg"


def app_icon() -> QIcon:
    """Return the aegui icon, or a standard Qt icon when the SVG is missing."""
    if ICON_PATH.is_file():
        icon = QIcon(str(ICON_PATH))
        if not icon.isNull():
            return icon
    return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_DesktopIcon)
