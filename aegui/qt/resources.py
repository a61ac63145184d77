# SPDX-License-Identifier: MIT
"""Files the window loads from ``assets/``: the application icon."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

# NOTE: assets/ sits beside the package in the source tree and is not package
# data, so a wheel install falls back to a standard Qt icon.
ASSETS = Path(__file__).resolve().parents[2] / "assets"
ICON_PATH = ASSETS / "icons" / "aegui.svg"


def app_icon() -> QIcon:
    """Return the aegui icon, or a standard Qt icon when the SVG is missing."""
    if ICON_PATH.is_file():
        icon = QIcon(str(ICON_PATH))
        if not icon.isNull():
            return icon
    return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_DesktopIcon)
