# SPDX-License-Identifier: MIT
"""Settings kept between runs, stored with QSettings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from aegui.app.operations import DEFAULT_OPERATION, OPERATIONS, QUALITY, OptionSpec

ORGANIZATION = "aegui"
APPLICATION = "aegui"


class AppSettings:
    """Typed access to the stored settings.

    By default the store is the user's native QSettings location
    (``~/.config/aegui/aegui.conf`` on Linux). Tests and scripts pass a
    QSettings bound to a file of their own.
    """

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or QSettings(ORGANIZATION, APPLICATION)

    @classmethod
    def from_file(cls, path: Path) -> AppSettings:
        """Return settings stored in the INI file ``path``."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @property
    def output_dir(self) -> Path | None:
        """Output folder, or None for an ``aegui-out`` folder beside each source."""
        value = str(self.store.value("output/folder", "", type=str))
        return Path(value) if value else None

    @output_dir.setter
    def output_dir(self, folder: Path | None) -> None:
        self.store.setValue("output/folder", "" if folder is None else str(folder))

    @property
    def quality(self) -> int:
        """Quality level for new compress jobs."""
        return self.option(QUALITY)

    @quality.setter
    def quality(self, value: int) -> None:
        self.set_option(QUALITY.key, value)

    def option(self, spec: OptionSpec) -> int:
        """Return the stored value of a job option, or its default, within its range."""
        value = self.store.value(f"options/{spec.key}", spec.default, type=int)
        return spec.clamp(int(value))

    def set_option(self, key: str, value: int) -> None:
        """Store the value of job option ``key``."""
        self.store.setValue(f"options/{key}", int(value))

    @property
    def style_file(self) -> Path | None:
        """Image of the style chosen for new stylize jobs, or None for the default."""
        value = str(self.store.value("options/style_file", "", type=str))
        return Path(value) if value else None

    @style_file.setter
    def style_file(self, path: Path | None) -> None:
        self.store.setValue("options/style_file", "" if path is None else str(path))

    @property
    def operation(self) -> str:
        """Key of the operation chosen for new files."""
        value = str(self.store.value("options/operation", DEFAULT_OPERATION, type=str))
        return value if value in OPERATIONS else DEFAULT_OPERATION

    @operation.setter
    def operation(self, key: str) -> None:
        self.store.setValue("options/operation", key)

    @property
    def last_open_dir(self) -> Path | None:
        """Folder the Open dialogs start in, or None for the home folder."""
        value = str(self.store.value("dialogs/last_folder", "", type=str))
        return Path(value) if value else None

    @last_open_dir.setter
    def last_open_dir(self, folder: Path) -> None:
        self.store.setValue("dialogs/last_folder", str(folder))

    def geometry(self, name: str) -> QByteArray | None:
        """Return a saved geometry or splitter state, or None if there is none."""
        value = self.store.value(f"window/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, name: str, value: QByteArray) -> None:
        """Save a geometry or splitter state under ``name``."""
        self.store.setValue(f"window/{name}", value)

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.store.sync()
