# SPDX-License-Identifier: MIT
"""Lookup of the shipped data folders, ``assets/`` and ``pretrained/``.

In a source checkout or an editable install they sit beside the package. A
wheel installs them as data files under ``<prefix>/share/aegui/`` (see
``[tool.setuptools.data-files]`` in pyproject.toml).
"""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[1]


def data_dir(name: str) -> Path:
    """Return the folder ``name`` of the source tree, or its installed copy.

    The source tree is used when it has the folder. When neither exists the
    source-tree path is returned, so error messages name the expected place.
    """
    in_source = SOURCE_ROOT / name
    if in_source.is_dir():
        return in_source
    installed = Path(sys.prefix) / "share" / "aegui" / name
    return installed if installed.is_dir() else in_source
