# SPDX-License-Identifier: MIT
"""Application state between the widgets and the models: jobs, workers, settings.

This package may import ``aegui.core`` and ``PySide6.QtCore`` but never
``QtGui`` or ``QtWidgets``, and it imports torch only inside worker code, so
importing it stays fast and leaves torch unloaded.
"""
