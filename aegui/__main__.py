# SPDX-License-Identifier: MIT
"""``python -m aegui``: the same as the ``aegui`` command."""

from aegui.cli import entry_point

entry_point()
